//! The audit trail: one hash chain per org, appended and read, never changed.

use async_trait::async_trait;

use super::StoreResult;
use super::responses::ResponseBody;
use crate::audit::{AuditDraft, AuditRecord, ChainHead};
use crate::ids::{OrgId, RecordId};

/// A page of the audit trail, newest first.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    /// Only records with `seq` below this (for paging backwards).
    pub before_seq: Option<i64>,
    pub limit: u32,
    /// Only the records about this agent (its calls, their results, its changes).
    pub agent: Option<crate::ids::AgentId>,
}

/// How many records of a kind one agent has about one connector (see
/// [`AuditStore::audit_counts_by_agent`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentCalls {
    pub agent_id: String,
    pub connector: String,
    pub count: i64,
}

#[async_trait]
pub trait AuditStore: Send + Sync {
    /// Seals the drafts onto their orgs' chains (with [`crate::audit::seal`]) and commits them
    /// durably in one transaction; all or nothing.
    async fn append_audit(&self, drafts: Vec<AuditDraft>) -> StoreResult<Vec<AuditRecord>> {
        self.append_audit_with_bodies(&drafts, &[]).await
    }
    /// [`AuditStore::append_audit`], with response bodies committed in the same
    /// transaction (the result records that carry their hashes are among the drafts).
    async fn append_audit_with_bodies(
        &self,
        drafts: &[AuditDraft],
        bodies: &[ResponseBody],
    ) -> StoreResult<Vec<AuditRecord>>;
    async fn audit_page(&self, org: OrgId, q: &AuditQuery) -> StoreResult<Vec<AuditRecord>>;
    /// Records with `seq > after_seq` in ascending order, at most `limit`.
    async fn audit_after(
        &self,
        org: OrgId,
        after_seq: i64,
        limit: u32,
    ) -> StoreResult<Vec<AuditRecord>>;
    /// Records of `kind` with `from_ms <= ts_ms <= to_ms`, in (ts_ms, seq) order after
    /// `after` (a (ts_ms, seq) pair; `None` from the start), at most `limit`.
    async fn audit_in_range(
        &self,
        org: OrgId,
        kind: &str,
        range: (i64, i64),
        after: Option<(i64, i64)>,
        limit: u32,
    ) -> StoreResult<Vec<AuditRecord>>;
    /// How many records of `kind` have `from_ms <= ts_ms <= to_ms`.
    async fn audit_count_in_range(
        &self,
        org: OrgId,
        kind: &str,
        range: (i64, i64),
    ) -> StoreResult<u64>;
    /// How many records of `kind` with `from_ms <= ts_ms <= to_ms` each (agent,
    /// connector) has: one grouped query over the `(org_id, kind, ts_ms)` index.
    async fn audit_counts_by_agent(
        &self,
        org: OrgId,
        kind: &str,
        range: (i64, i64),
    ) -> StoreResult<Vec<AgentCalls>>;
    async fn chain_head(&self, org: OrgId) -> StoreResult<ChainHead>;
    async fn audit_count(&self, org: OrgId) -> StoreResult<i64>;
    async fn audit_record(&self, org: OrgId, id: RecordId) -> StoreResult<Option<AuditRecord>>;
}
