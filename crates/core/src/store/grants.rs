//! Standing grants: requested, then active until they expire or are revoked, moved by
//! compare-and-set like approvals.

use async_trait::async_trait;

use super::StoreResult;
use crate::ids::{AgentId, GrantId, OrgId};
use crate::model::{Grant, GrantChange, GrantStatus};

#[async_trait]
pub trait GrantStore: Send + Sync {
    async fn create_grant(&self, g: &Grant) -> StoreResult<()>;
    async fn grant(&self, org: OrgId, id: GrantId) -> StoreResult<Option<Grant>>;
    /// Newest first, at most 500.
    async fn list_grants(&self, org: OrgId) -> StoreResult<Vec<Grant>>;
    /// Every requested or active grant of an agent, however many the org has.
    async fn open_grants_of_agent(&self, org: OrgId, agent: AgentId) -> StoreResult<Vec<Grant>>;
    /// The agent's active grants on a connector (one read, only for escalated calls).
    async fn active_grants(
        &self,
        org: OrgId,
        agent: AgentId,
        connector: &str,
    ) -> StoreResult<Vec<Grant>>;
    /// Compare-and-set, like approvals.
    async fn change_grant(
        &self,
        org: OrgId,
        id: GrantId,
        change: &GrantChange,
    ) -> StoreResult<bool>;
    /// Grants in `status` across every org whose expiry is at or before `due_before_ms`.
    async fn grants_due(&self, status: GrantStatus, due_before_ms: i64) -> StoreResult<Vec<Grant>>;
}
