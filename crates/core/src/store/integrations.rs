//! Integrations (Slack, Teams, webhooks): each org's settings, and the notices sent
//! about approval requests, claimed so that one process sends each.

use async_trait::async_trait;

use super::StoreResult;
use crate::ids::{ApprovalId, OrgId};
use crate::integration::{ApprovalNotice, IntegrationKind, StoredIntegration};
use crate::model::ApprovalStatus;

#[async_trait]
pub trait IntegrationStore: Send + Sync {
    async fn integration(
        &self,
        org: OrgId,
        kind: IntegrationKind,
    ) -> StoreResult<Option<StoredIntegration>>;
    /// Inserts or replaces the org's settings of `i.kind`.
    async fn put_integration(&self, i: &StoredIntegration) -> StoreResult<()>;
    /// `false` when there was nothing to delete.
    async fn delete_integration(&self, org: OrgId, kind: IntegrationKind) -> StoreResult<bool>;
    async fn approval_notice(
        &self,
        org: OrgId,
        approval: ApprovalId,
        kind: IntegrationKind,
    ) -> StoreResult<Option<ApprovalNotice>>;
    /// Claims the right to send notice `n` (compare-and-set, so of several processes
    /// following the same request exactly one sends each notice): inserts it when
    /// `from` is `None` and no notice exists, else moves what the stored notice shows
    /// from `from` (status, approvals) to `n`'s. `false` when another claim came first.
    async fn claim_approval_notice(
        &self,
        n: &ApprovalNotice,
        from: Option<(ApprovalStatus, u32)>,
    ) -> StoreResult<bool>;
    /// Gives up a claimed notice whose message never went out (no `ts` yet), so that a
    /// later event, here or on another replica, posts it afresh.
    async fn release_approval_notice(
        &self,
        org: OrgId,
        approval: ApprovalId,
        kind: IntegrationKind,
    ) -> StoreResult<()>;
    /// Remembers where the message of a claimed notice went (Slack channel and `ts`).
    async fn set_approval_notice_message(
        &self,
        org: OrgId,
        approval: ApprovalId,
        kind: IntegrationKind,
        channel: &str,
        message_ts: &str,
    ) -> StoreResult<()>;
}
