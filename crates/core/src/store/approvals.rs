//! Approval requests and their votes: created pending, then moved only by
//! compare-and-set, so of racing decisions exactly one wins.

use async_trait::async_trait;

use super::StoreResult;
use crate::ids::{ApprovalId, OrgId};
use crate::model::{ApprovalChange, ApprovalRequest, ApprovalStatus, ApprovalVote};

#[async_trait]
pub trait ApprovalStore: Send + Sync {
    async fn create_approval(&self, a: &ApprovalRequest) -> StoreResult<()>;
    async fn approval(&self, org: OrgId, id: ApprovalId) -> StoreResult<Option<ApprovalRequest>>;
    async fn list_approvals(
        &self,
        org: OrgId,
        status: Option<&str>,
    ) -> StoreResult<Vec<ApprovalRequest>>;
    /// Compare-and-set: applies `change` only if the request is in one of `change.from`;
    /// `false` when another change won.
    async fn change_approval(
        &self,
        org: OrgId,
        id: ApprovalId,
        change: &ApprovalChange,
    ) -> StoreResult<bool>;
    /// Marks the approved call of `id` as still running now; `false` once it ended.
    async fn beat_approval(&self, org: OrgId, id: ApprovalId, now_ms: i64) -> StoreResult<bool>;
    /// Records one approver's approval; `false` if that user already approved.
    async fn add_approval_vote(&self, org: OrgId, vote: &ApprovalVote) -> StoreResult<bool>;
    async fn approval_votes(&self, org: OrgId, id: ApprovalId) -> StoreResult<Vec<ApprovalVote>>;
    /// Requests in `status` across every org (expiry sweeps, recovery at start).
    async fn approvals_in_status(
        &self,
        status: ApprovalStatus,
        due_before_ms: Option<i64>,
    ) -> StoreResult<Vec<ApprovalRequest>>;
    /// The org of an approval request, looked up across orgs. Only for routing what
    /// arrives without an org (a Slack button, a signed link, an in-process event) to the
    /// org whose keys then verify it; everything after that is org-scoped.
    async fn approval_org(&self, id: ApprovalId) -> StoreResult<Option<OrgId>>;
    /// Approval requests created or changed by any process sharing this database, when
    /// the database can tell (PostgreSQL LISTEN/NOTIFY); `None` for an embedded database,
    /// which one process owns.
    async fn listen_approvals(
        &self,
    ) -> StoreResult<Option<tokio::sync::mpsc::UnboundedReceiver<ApprovalId>>>;
}
