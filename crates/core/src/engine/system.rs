//! The system handle: operations that act on any org, or on an org named by a raw
//! [`OrgId`], with no signed-in principal behind them.
//!
//! **For background jobs, the CLI and first start; never for a request.** A request's
//! rights come from a [`crate::access::Principal`] and the role-checked handles
//! ([`super::AdminOps`], [`super::ReadOps`], [`super::ReviewOps`]); what is here skips
//! them. The two request paths that use it authenticate otherwise before they act: the
//! Slack interaction endpoint (the org's Slack signing secret, found from the request
//! the press names) and the console's session store (the session cookie itself).
//!
//! Each method is a thin wrapper over the engine method that does the work, so the
//! wall is visible in one file: `engine.system()` at a call site says "no principal".

use std::io::Write;

use super::{ApplyOutcome, ApprovalDetail, Author, Engine, VerifyReport};
use crate::access::Principal;
use crate::audit::{Actor, ChainBreak};
use crate::error::CoreError;
use crate::ids::{ApprovalId, OrgId};
use crate::integration::{ApprovalNotice, IntegrationKind, IntegrationSettings};
use crate::model::{ApprovalStatus, Org, PolicyVersion, Role, User};
use crate::policy::PolicyDoc;

/// See the module documentation: no principal, any org.
#[derive(Clone, Copy)]
pub struct SystemOps<'a> {
    engine: &'a Engine,
}

impl std::fmt::Debug for SystemOps<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SystemOps").finish_non_exhaustive()
    }
}

impl Engine {
    /// The system handle, for background jobs, the CLI and first start; never for a
    /// request (see [`SystemOps`]).
    pub fn system(&self) -> SystemOps<'_> {
        SystemOps { engine: self }
    }
}

/// Orgs, users and the database as a whole: first start, the demo, the CLI, health.
impl SystemOps<'_> {
    /// Every org (the CLI's verify of all orgs; first start checks there is none).
    pub async fn orgs(&self) -> Result<Vec<Org>, CoreError> {
        self.engine.store.list_orgs().await
    }

    pub async fn org_by_slug(&self, slug: &str) -> Result<Option<Org>, CoreError> {
        self.engine.store.org_by_slug(slug).await
    }

    /// Whether other processes share the database (PostgreSQL), so that work left by a
    /// stopped replica must be recovered by the others.
    pub fn shared(&self) -> bool {
        self.engine.store.shared()
    }

    /// Whether the database answers (`/healthz`).
    pub async fn ping(&self) -> Result<(), CoreError> {
        self.engine.store.list_orgs().await.map(|_| ())
    }

    /// See `Engine::create_org`.
    pub async fn create_org(&self, slug: &str, name: &str) -> Result<Org, CoreError> {
        self.engine.create_org(slug, name).await
    }

    /// A local user made by first start or the demo (an admin's go through `AdminOps`).
    pub async fn create_local_user(
        &self,
        org: OrgId,
        email: &str,
        name: &str,
        role: Role,
        password: &str,
        by: Actor,
    ) -> Result<User, CoreError> {
        self.engine
            .create_local_user(org, email, name, role, password, by)
            .await
    }

    /// A token of the default lifetime for `user` (the demo's automation token).
    pub async fn issue_user_token(&self, user: &User, name: &str) -> Result<String, CoreError> {
        self.engine.issue_user_token(user, name).await
    }
}

/// Periodic jobs and recovery at start.
impl SystemOps<'_> {
    /// See `Engine::expire_due`.
    pub async fn expire_due(&self) -> Result<usize, CoreError> {
        self.engine.expire_due().await
    }

    /// See `Engine::recover_interrupted`.
    pub async fn recover_interrupted(&self, at_start: bool) -> Result<usize, CoreError> {
        self.engine.recover_interrupted(at_start).await
    }

    /// See `Engine::purge_responses`.
    pub async fn purge_responses(&self) -> Result<u64, CoreError> {
        self.engine.purge_responses().await
    }

    /// See `Engine::flush_refusals`.
    pub async fn flush_refusals(&self) -> Result<usize, CoreError> {
        self.engine.flush_refusals().await
    }
}

/// The audit chain and policy of an org named on the command line.
impl SystemOps<'_> {
    /// See `Engine::verify_org`.
    pub async fn verify_org(
        &self,
        org: OrgId,
    ) -> Result<Result<VerifyReport, ChainBreak>, CoreError> {
        self.engine.verify_org(org).await
    }

    /// See `Engine::export_org`.
    pub async fn export_org(&self, org: OrgId, out: &mut dyn Write) -> Result<u64, CoreError> {
        self.engine.export_org(org, out).await
    }

    /// See `Engine::policy_in_force`.
    pub async fn policy_in_force(&self, org: &Org) -> Result<PolicyVersion, CoreError> {
        self.engine.policy_in_force(org).await
    }

    /// See `Engine::apply_policy`.
    pub async fn apply_policy(
        &self,
        org: &Org,
        author: &Author,
        doc: PolicyDoc,
        change: super::PolicyChange,
    ) -> Result<ApplyOutcome, CoreError> {
        self.engine.apply_policy(org, author, doc, change).await
    }
}

/// Slack, Teams and webhook delivery (the notifier), and the Slack interaction endpoint
/// before and after the org's signing secret verified a press.
impl SystemOps<'_> {
    /// See `Engine::approval_org`.
    pub async fn approval_org(&self, id: ApprovalId) -> Result<Option<OrgId>, CoreError> {
        self.engine.approval_org(id).await
    }

    /// See `Engine::approval_link_tag`.
    pub fn approval_link_tag(&self, org: OrgId, id: ApprovalId) -> String {
        self.engine.approval_link_tag(org, id)
    }

    /// See `Engine::approval_detail_in`.
    pub async fn approval_detail_in(
        &self,
        org: OrgId,
        id: ApprovalId,
    ) -> Result<ApprovalDetail, CoreError> {
        self.engine.approval_detail_in(org, id).await
    }

    /// See `Engine::integration_settings`. Holds secrets: never answer a call with it.
    pub async fn integration_settings(
        &self,
        org: OrgId,
        kind: IntegrationKind,
    ) -> Result<Option<IntegrationSettings>, CoreError> {
        self.engine.integration_settings(org, kind).await
    }

    /// See `Engine::approval_notice`.
    pub async fn approval_notice(
        &self,
        org: OrgId,
        id: ApprovalId,
        kind: IntegrationKind,
    ) -> Result<Option<ApprovalNotice>, CoreError> {
        self.engine.approval_notice(org, id, kind).await
    }

    /// See `Engine::claim_approval_notice`.
    pub async fn claim_approval_notice(
        &self,
        n: &ApprovalNotice,
        from: Option<(ApprovalStatus, u32)>,
    ) -> Result<bool, CoreError> {
        self.engine.claim_approval_notice(n, from).await
    }

    /// See `Engine::release_approval_notice`.
    pub async fn release_approval_notice(&self, n: &ApprovalNotice) -> Result<(), CoreError> {
        self.engine.release_approval_notice(n).await
    }

    /// See `Engine::set_approval_notice_message`.
    pub async fn set_approval_notice_message(
        &self,
        n: &ApprovalNotice,
        channel: &str,
        message_ts: &str,
    ) -> Result<(), CoreError> {
        self.engine
            .set_approval_notice_message(n, channel, message_ts)
            .await
    }

    /// See `Engine::principal_by_slack`; only after the org's signing secret verified.
    pub async fn principal_by_slack(
        &self,
        org: OrgId,
        slack_user_id: &str,
    ) -> Result<Option<Principal>, CoreError> {
        self.engine.principal_by_slack(org, slack_user_id).await
    }

    /// See `Engine::principal_by_slack_email`; only after the org's signing secret verified.
    pub async fn principal_by_slack_email(
        &self,
        org: OrgId,
        email: &str,
        slack_user_id: &str,
    ) -> Result<Principal, CoreError> {
        self.engine
            .principal_by_slack_email(org, email, slack_user_id)
            .await
    }

    /// See `Engine::record_interaction_refusal`.
    pub async fn record_interaction_refusal(
        &self,
        org: OrgId,
        refused: crate::audit::event::InteractionRefused,
    ) -> Result<(), CoreError> {
        self.engine.record_interaction_refusal(org, refused).await
    }
}

/// The console's sessions (tower-sessions' store): opaque records keyed by the session
/// id, which is the credential. What a session holds is decided by the console.
impl SystemOps<'_> {
    /// Stores a new session; `false` if the id is taken (draw another).
    pub async fn session_create(
        &self,
        id: &str,
        data: &[u8],
        expires_ms: i64,
    ) -> Result<bool, CoreError> {
        self.engine.store.session_create(id, data, expires_ms).await
    }

    /// The session's record, unless it expired by `now_ms` (the cookie layer's wall
    /// clock, which also set the expiry).
    pub async fn session_load(&self, id: &str, now_ms: i64) -> Result<Option<Vec<u8>>, CoreError> {
        self.engine.store.session_load(id, now_ms).await
    }

    pub async fn session_save(
        &self,
        id: &str,
        data: &[u8],
        expires_ms: i64,
    ) -> Result<(), CoreError> {
        self.engine.store.session_save(id, data, expires_ms).await
    }

    pub async fn session_delete(&self, id: &str) -> Result<(), CoreError> {
        self.engine.store.session_delete(id).await
    }
}
