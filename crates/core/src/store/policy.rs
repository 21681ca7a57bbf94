//! Policy versions: immutable, each org on one of them.

use async_trait::async_trait;

use super::StoreResult;
use crate::ids::OrgId;
use crate::model::PolicyVersion;

#[async_trait]
pub trait PolicyStore: Send + Sync {
    /// Saves `v` and makes it the org's policy, if the org is still on `v.version - 1`;
    /// `false` when another version was saved first (nothing is written then).
    async fn create_policy_version(&self, v: &PolicyVersion) -> StoreResult<bool>;
    async fn policy_version(&self, org: OrgId, version: i64) -> StoreResult<Option<PolicyVersion>>;
    /// Newest first.
    async fn list_policy_versions(&self, org: OrgId) -> StoreResult<Vec<PolicyVersion>>;
}
