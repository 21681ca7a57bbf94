//! Deciding approval requests (docs/architecture.md §6). A request moves
//! `pending → approved | denied | expired | cancelled`, then an approved call
//! `executing → executed | failed`; every move is a compare-and-set in the store and an
//! audit record, so of racing decisions exactly one wins. ARX runs the approved call
//! itself, with the params that were approved (bound by hash), once. Waiting agents are
//! woken by an in-process broadcast, never by polling the database.

use std::time::Duration;

use tokio::sync::broadcast;

use super::Engine;
use super::execute::{Call, Executed, params_hash};
use crate::access::Principal;
use crate::audit::event::{self as ev, ApprovalChanged};
use crate::audit::{Actor, AuditEvent, format_ts};
use crate::error::CoreError;
use crate::ids::{ApprovalId, OrgId};
use crate::model::{
    ApprovalChange, ApprovalKind, ApprovalRequest, ApprovalStatus, ApprovalVote, CallOutcome, User,
};
use crate::policy::Verdict;
use crate::request::MAX_WAIT_SECONDS;

use ApprovalStatus::{
    Approved, Cancelled, Denied, Executed as Ran, Executing, Expired, Failed, Pending,
};

mod detail;
mod expiry;
mod review;
mod run;
mod waiting;

pub use detail::ApprovalDetail;
pub use review::ReviewOps;

/// Wakes waiting agents when a request changes; carries the request's id.
#[derive(Debug)]
pub(crate) struct ApprovalEvents(broadcast::Sender<ApprovalId>);

/// How long a decision waits for the approved call it started; past this the decision
/// answers with the request as it stands (`executing`) and the call goes on by itself.
pub const AWAIT_RUN: Duration = Duration::from_secs(20);

/// How often the process running an approved call says it is still alive.
pub const HEARTBEAT: Duration = Duration::from_secs(10);

/// An approved or running call whose process has not said it is alive for this long was
/// interrupted (its process died); a live call beats every [`HEARTBEAT`], however long
/// it runs.
pub const HEARTBEAT_STALE_MS: i64 = 60_000;

impl Default for ApprovalEvents {
    fn default() -> Self {
        ApprovalEvents(broadcast::channel(1024).0)
    }
}

/// What the agent receives for a request, as it stands.
pub(crate) fn outcome_of(a: &ApprovalRequest) -> Result<Executed, CoreError> {
    let id = a.id.to_string();
    match a.status {
        Denied => Err(CoreError::ApprovalDenied {
            approval_id: id,
            reason: (!a.comment.is_empty()).then(|| a.comment.clone()),
        }),
        Expired => Err(CoreError::ApprovalExpired {
            approval_id: id,
            expires_at: format_ts(a.expires_ms),
        }),
        Cancelled => Err(CoreError::ApprovalCancelled {
            approval_id: id,
            reason: if a.comment.is_empty() {
                "cancelled".into()
            } else {
                a.comment.clone()
            },
        }),
        Ran | Failed => match a.outcome.clone() {
            Some(CallOutcome::Executed {
                result,
                result_audit_id,
            }) => Ok(Executed::Ran {
                result,
                audit_id: a.intercept_id,
                result_audit_id,
                verdict: Verdict::Permit,
                risk_score: a.risk_score,
                approval_id: Some(a.id),
            }),
            Some(CallOutcome::GrantActive {
                grant_id,
                connector,
                operations,
                resource,
                expires_at,
            }) => Ok(Executed::Granted {
                approval_id: a.id,
                grant_id,
                connector,
                operations,
                resource,
                expires_at,
            }),
            Some(CallOutcome::ManifestPublished {
                version,
                manifest_sha256,
            }) => Ok(Executed::Registered {
                approval_id: Some(a.id),
                version,
                manifest_sha256,
                unchanged: false,
            }),
            Some(failed) => Err(failed
                .error(a.intercept_id)
                .unwrap_or_else(|| CoreError::Internal("unexpected outcome".into()))),
            None => Err(CoreError::Internal(format!(
                "request {} ended without an outcome",
                a.id
            ))),
        },
        Pending | Approved | Executing => Ok(Executed::Pending {
            approval_id: a.id,
            expires_at: format_ts(a.expires_ms),
            audit_id: a.intercept_id,
            risk_score: a.risk_score,
        }),
    }
}

impl Engine {
    /// Tells waiting agents and notifiers that a request was created or changed.
    pub(super) fn announce_approval(&self, id: ApprovalId) {
        let _ = self.approval_events.0.send(id);
    }

    /// Wakes this process's waiting agents for decisions made by other processes on the
    /// same database too (PostgreSQL), and drops the rows it keeps of an org whose
    /// configuration another process changed (sparing the next call a decision on stale
    /// rows, which its intercept's guard would refuse anyway); a no-op on an embedded
    /// database.
    pub async fn follow_other_replicas(self: &std::sync::Arc<Self>) -> Result<(), CoreError> {
        if let Some(mut rx) = self.store.listen_approvals().await? {
            let events = self.approval_events.0.clone();
            tokio::spawn(async move {
                while let Some(id) = rx.recv().await {
                    let _ = events.send(id);
                }
            });
        }
        if let Some(mut rx) = self.store.listen_config_changes().await? {
            let engine = std::sync::Arc::downgrade(self);
            tokio::spawn(async move {
                while let Some(org) = rx.recv().await {
                    let Some(e) = engine.upgrade() else { return };
                    e.contexts.forget(org, i64::MAX);
                }
            });
        }
        Ok(())
    }

    /// A receiver of approval requests created or changed in this process.
    pub fn approval_events(&self) -> broadcast::Receiver<ApprovalId> {
        self.approval_events.0.subscribe()
    }

    /// Moves `a` by compare-and-set and records the move, with what `note` adds to its
    /// record; `None` if another change won.
    pub(super) async fn transition(
        &self,
        a: &ApprovalRequest,
        change: ApprovalChange,
        actor: Actor,
        note: impl FnOnce(&mut ApprovalChanged),
    ) -> Result<Option<ApprovalRequest>, CoreError> {
        let mut event = ApprovalChanged::new(a.id, a.status, change.to);
        note(&mut event);
        if !self.store.change_approval(a.org_id, a.id, &change).await? {
            return Ok(None);
        }
        let recorded = self
            .record(a.org_id, actor, AuditEvent::ApprovalChanged(event))
            .await;
        self.announce_approval(a.id);
        recorded?;
        self.store.approval(a.org_id, a.id).await
    }

    pub(super) async fn approval_of(
        &self,
        org: OrgId,
        id: ApprovalId,
    ) -> Result<ApprovalRequest, CoreError> {
        self.store
            .approval(org, id)
            .await?
            .ok_or_else(|| CoreError::NotFound(format!("no approval request {id}")))
    }

    /// The connector instance a call or grant request is for (none for a manifest).
    pub(crate) async fn instance_of(
        &self,
        a: &ApprovalRequest,
    ) -> Result<Option<crate::model::Instance>, CoreError> {
        match a.instance_id {
            Some(id) => self.store.instance(a.org_id, id).await,
            None => Ok(None),
        }
    }

    pub(super) async fn finish_approval(
        &self,
        a: &ApprovalRequest,
        change: ApprovalChange,
        actor: Actor,
    ) -> Result<ApprovalRequest, CoreError> {
        let comment = change.comment.clone();
        match self
            .transition(a, change, actor, |e| e.comment = Some(comment))
            .await?
        {
            Some(done) => Ok(done),
            None => self.approval_of(a.org_id, a.id).await,
        }
    }
}
