//! Vendors' answers, kept outside the chain, and how long each org keeps them.

use async_trait::async_trait;

use super::StoreResult;
use crate::ids::{OrgId, RecordId};

/// A vendor's answer to one call, kept outside the chain (docs/architecture.md §7): the result
/// record with id `record_id` carries its hash, and purging it leaves a tombstone.
#[derive(Debug, Clone, PartialEq)]
pub struct ResponseBody {
    pub org_id: OrgId,
    pub record_id: RecordId,
    pub intercept_id: RecordId,
    /// Hex SHA-256 of `body` as written.
    pub sha256: String,
    pub bytes: i64,
    /// The answer's canonical JSON (RFC 8785); `None` once purged.
    pub body: Option<String>,
    pub created_ms: i64,
    pub purged_ms: Option<i64>,
}

#[async_trait]
pub trait ResponseStore: Send + Sync {
    async fn put_response_body(&self, b: &ResponseBody) -> StoreResult<()>;
    async fn response_body(
        &self,
        org: OrgId,
        record: RecordId,
    ) -> StoreResult<Option<ResponseBody>>;
    /// How many unpurged bodies of the org were created before `before_ms`.
    async fn response_bodies_due(&self, org: OrgId, before_ms: i64) -> StoreResult<u64>;
    /// Purges (drops the body, keeps a tombstone) the org's bodies created before
    /// `before_ms`; how many.
    async fn purge_response_bodies(
        &self,
        org: OrgId,
        before_ms: i64,
        now_ms: i64,
    ) -> StoreResult<u64>;
    /// The org's retention of response bodies in days; `None` when never set.
    async fn response_retention_days(&self, org: OrgId) -> StoreResult<Option<u32>>;
    async fn set_response_retention_days(
        &self,
        org: OrgId,
        days: u32,
        now_ms: i64,
    ) -> StoreResult<()>;
}
