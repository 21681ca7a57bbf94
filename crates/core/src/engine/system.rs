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

use super::identity::accounts::token_hash;
use super::{ApplyOutcome, ApprovalDetail, Author, Engine, VerifyReport};
use crate::access::{Principal, SessionClaim};
use crate::audit::{Actor, ChainBreak};
use crate::error::CoreError;
use crate::ids::{ApprovalId, OrgId};
use crate::integration::{ApprovalNotice, IntegrationKind, IntegrationSettings};
use crate::model::{ApprovalStatus, Org, PolicyVersion, Role, User};
use crate::policy::PolicyDoc;
use crate::store::{SessionSettings, SessionWrite};

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
        /// See `Engine::witness_all`.
        fn witness_all() -> Result<u64, CoreError>;
        /// See `Engine::stream_all`.
        fn stream_all() -> Result<u64, CoreError>;
    }

    forward! { store =>
        /// See `AuditStore::index_audit`.
        fn index_audit() -> Result<u64, CoreError>;
    }
}

/// The audit chain and policy of an org named on the command line.
impl SystemOps<'_> {
    forward! { engine =>
        /// See `Engine::verify_org`.
        fn verify_org(org: OrgId) -> Result<Result<VerifyReport, ChainBreak>, CoreError>;
        /// See `Engine::export_org`.
        fn export_org(
            org: OrgId, range: super::verify::ExportRange, out: &mut dyn Write,
        ) -> Result<u64, CoreError>;
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

/// The console's sessions (tower-sessions' store): records keyed by the SHA-256 of the
/// session id (the id is the credential, and is never stored). What a session holds is
/// decided by the console; the engine reads only who it belongs to, to end a user's
/// sessions with their account and to apply the org's idle and absolute timeouts.
impl SystemOps<'_> {
    /// Stores a new session; `false` if the id is taken (draw another).
    pub async fn session_create(&self, id: &str, s: ConsoleSession<'_>) -> Result<bool, CoreError> {
        let w = self.session_write(&s).await?;
        self.engine.store.session_create(&token_hash(id), &w).await
    }

    /// Updates a session, extending it by its org's idle timeout; one ended meanwhile
    /// (signed out elsewhere, ended by an admin, its user deactivated) stays ended.
    pub async fn session_save(&self, id: &str, s: ConsoleSession<'_>) -> Result<(), CoreError> {
        let w = self.session_write(&s).await?;
        self.engine.store.session_save(&token_hash(id), &w).await
    }

    /// The session's data, unless it went idle or outlived its org's absolute timeout
    /// (then it is deleted). Times are the engine's clock, as everywhere else.
    pub async fn session_load(&self, id: &str) -> Result<Option<Vec<u8>>, CoreError> {
        let e = self.engine;
        let key = token_hash(id);
        let now = e.now_ms();
        let Some(row) = e.store.session_load(&key, now).await? else {
            return Ok(None);
        };
        if let Some(org) = row.org_id {
            let limits = e.store.session_settings(org).await?.unwrap_or_default();
            if now - row.last_seen_ms > minutes(limits.idle_minutes)
                || now - row.created_ms > minutes(limits.absolute_minutes)
            {
                e.store.session_delete(&key).await?;
                return Ok(None);
            }
            // A request keeps the session alive; noted at most once a minute, so a page
            // and its server functions cost one write, not one each.
            if now - row.last_seen_ms >= SESSION_TOUCH_MS {
                let expires = now + minutes(limits.idle_minutes);
                e.store.session_touch(&key, now, expires).await?;
            }
        }
        Ok(Some(row.data))
    }

    pub async fn session_delete(&self, id: &str) -> Result<(), CoreError> {
        self.engine.store.session_delete(&token_hash(id)).await
    }

    /// What is stored of `s` now: it expires after its org's idle timeout.
    async fn session_write<'a>(
        &self,
        s: &ConsoleSession<'a>,
    ) -> Result<SessionWrite<'a>, CoreError> {
        let e = self.engine;
        let limits = match &s.claim {
            Some(c) => e
                .store
                .session_settings(c.org_id())
                .await?
                .unwrap_or_default(),
            None => SessionSettings::default(),
        };
        let now_ms = e.now_ms();
        Ok(SessionWrite {
            data: s.data,
            expires_ms: now_ms + minutes(limits.idle_minutes),
            owner: s.claim.map(|c| (c.org_id(), c.user_id())),
            client: s.client.clone(),
            now_ms,
        })
    }
}

/// How often a session in use notes that it was seen.
const SESSION_TOUCH_MS: i64 = 60_000;

fn minutes(m: i64) -> i64 {
    m.saturating_mul(60_000)
}

/// A console session as the session layer saves it (its expiry is the engine's to set).
#[derive(Debug, Clone)]
pub struct ConsoleSession<'a> {
    pub data: &'a [u8],
    /// Who signed in, once someone has.
    pub claim: Option<SessionClaim>,
    /// The address the sign-in came from.
    pub client: Option<String>,
}
