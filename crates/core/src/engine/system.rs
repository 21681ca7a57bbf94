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
//! Each method is a thin wrapper over the engine (or store) method that does the work,
//! most written by `forward!` from their signature alone, so the wall is visible in one
//! file: `engine.system()` at a call site says "no principal".

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

/// Writes each listed method as the call of the method of the same name and arguments on
/// `self.engine()` or `self.store()`: the wrapper adds nothing but where it stands (no
/// principal, any org).
macro_rules! forward {
    ($via:ident =>
        $($(#[$doc:meta])* fn $name:ident($($arg:ident: $ty:ty),* $(,)?) -> $ret:ty;)*
    ) => {
        $(
            $(#[$doc])*
            pub async fn $name(&self, $($arg: $ty),*) -> $ret {
                self.$via().$name($($arg),*).await
            }
        )*
    };
}

impl<'a> SystemOps<'a> {
    fn engine(&self) -> &'a Engine {
        self.engine
    }

    fn store(&self) -> &'a dyn crate::store::Store {
        self.engine.store.as_ref()
    }
}

/// Orgs, users and the database as a whole: first start, the demo, the CLI, health.
impl SystemOps<'_> {
    /// Every org (the CLI's verify of all orgs; first start checks there is none).
    pub async fn orgs(&self) -> Result<Vec<Org>, CoreError> {
        self.engine.store.list_orgs().await
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

    forward! { store =>
        fn org_by_slug(slug: &str) -> Result<Option<Org>, CoreError>;
    }

    forward! { engine =>
        /// See `Engine::enable_registry`.
        fn enable_registry(org: OrgId) -> Result<Vec<String>, CoreError>;
        /// See `Engine::create_org`.
        fn create_org(slug: &str, name: &str) -> Result<Org, CoreError>;
        /// A local user made by first start or the demo (an admin's go through `AdminOps`).
        fn create_local_user(
            org: OrgId, email: &str, name: &str, role: Role, password: &str, by: Actor,
        ) -> Result<User, CoreError>;
        /// A token of the default lifetime for `user` (the demo's automation token).
        fn issue_user_token(user: &User, name: &str) -> Result<String, CoreError>;
    }
}

/// Periodic jobs and recovery at start.
impl SystemOps<'_> {
    forward! { engine =>
        /// See `Engine::expire_due`.
        fn expire_due() -> Result<usize, CoreError>;
        /// See `Engine::recover_interrupted`.
        fn recover_interrupted(at_start: bool) -> Result<usize, CoreError>;
        /// See `Engine::purge_responses`.
        fn purge_responses() -> Result<u64, CoreError>;
        /// See `Engine::flush_refusals`.
        fn flush_refusals() -> Result<usize, CoreError>;
    }
}

/// The audit chain and policy of an org named on the command line.
impl SystemOps<'_> {
    forward! { engine =>
        /// See `Engine::verify_org`.
        fn verify_org(org: OrgId) -> Result<Result<VerifyReport, ChainBreak>, CoreError>;
        /// See `Engine::export_org`.
        fn export_org(org: OrgId, out: &mut dyn Write) -> Result<u64, CoreError>;
        /// See `Engine::policy_in_force`.
        fn policy_in_force(org: &Org) -> Result<PolicyVersion, CoreError>;
        /// See `Engine::apply_policy`.
        fn apply_policy(
            org: &Org, author: &Author, doc: PolicyDoc, change: super::PolicyChange,
        ) -> Result<ApplyOutcome, CoreError>;
    }
}

/// Slack, Teams and webhook delivery (the notifier), and the Slack interaction endpoint
/// before and after the org's signing secret verified a press.
impl SystemOps<'_> {
    /// See `Engine::approval_link_tag`.
    pub fn approval_link_tag(&self, org: OrgId, id: ApprovalId) -> String {
        self.engine.approval_link_tag(org, id)
    }

    forward! { engine =>
        /// See `Engine::approval_org`.
        fn approval_org(id: ApprovalId) -> Result<Option<OrgId>, CoreError>;
        /// See `Engine::approval_detail_in`.
        fn approval_detail_in(org: OrgId, id: ApprovalId) -> Result<ApprovalDetail, CoreError>;
        /// See `Engine::integration_settings`. Holds secrets: never answer a call with it.
        fn integration_settings(
            org: OrgId, kind: IntegrationKind,
        ) -> Result<Option<IntegrationSettings>, CoreError>;
        /// See `Engine::approval_notice`.
        fn approval_notice(
            org: OrgId, id: ApprovalId, kind: IntegrationKind,
        ) -> Result<Option<ApprovalNotice>, CoreError>;
        /// See `Engine::claim_approval_notice`.
        fn claim_approval_notice(
            n: &ApprovalNotice, from: Option<(ApprovalStatus, u32)>,
        ) -> Result<bool, CoreError>;
        /// See `Engine::release_approval_notice`.
        fn release_approval_notice(n: &ApprovalNotice) -> Result<(), CoreError>;
        /// See `Engine::set_approval_notice_message`.
        fn set_approval_notice_message(
            n: &ApprovalNotice, channel: &str, message_ts: &str,
        ) -> Result<(), CoreError>;
        /// See `Engine::principal_by_slack`; only after the org's signing secret verified.
        fn principal_by_slack(
            org: OrgId, slack_user_id: &str,
        ) -> Result<Option<Principal>, CoreError>;
        /// See `Engine::principal_by_slack_email`; only after the org's signing secret verified.
        fn principal_by_slack_email(
            org: OrgId, email: &str, slack_user_id: &str,
        ) -> Result<Principal, CoreError>;
        /// See `Engine::record_interaction_refusal`.
        fn record_interaction_refusal(
            org: OrgId, refused: crate::audit::event::InteractionRefused,
        ) -> Result<(), CoreError>;
    }
}

/// The console's sessions (tower-sessions' store): opaque records keyed by the session
/// id, which is the credential. What a session holds is decided by the console.
impl SystemOps<'_> {
    forward! { store =>
        /// Stores a new session; `false` if the id is taken (draw another).
        fn session_create(id: &str, data: &[u8], expires_ms: i64) -> Result<bool, CoreError>;
        /// The session's record, unless it expired by `now_ms` (the cookie layer's wall
        /// clock, which also set the expiry).
        fn session_load(id: &str, now_ms: i64) -> Result<Option<Vec<u8>>, CoreError>;
        fn session_save(id: &str, data: &[u8], expires_ms: i64) -> Result<(), CoreError>;
        fn session_delete(id: &str) -> Result<(), CoreError>;
    }
}
