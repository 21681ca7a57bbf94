//! The engine: the one place where agent calls are decided, recorded and executed, and
//! where the registry is changed. The REST API and the console both call these methods.

mod admin;
mod approvals;
mod audit_search;
mod audit_writer;
mod contexts;
mod execute;
mod grants;
mod graphs;
mod identity;
mod integrations;
mod policy;
mod refusals;
mod registration;
mod registry;
mod responses;
mod simulate;
mod state;
mod stats;
mod streams;
mod system;
mod tools;
mod verify;
mod witness;

use std::collections::HashMap;
use std::sync::{Arc, RwLock, Weak};

pub use admin::{AdminOps, AgentUpdate, MAX_AUDIT_PAGE, NewAgent, NewInstance, ReadOps};
pub use approvals::{ApprovalDetail, ReviewOps};
pub use audit_search::{AuditRecordView, AuditResults, AuditSearch, time_ms};
pub use audit_writer::AuditWriter;
pub use execute::Executed;
pub use grants::GrantRequest;
pub use graphs::{
    FLEET_GRAPH_DAYS, FleetAgent, FleetConnector, FleetEdge, FleetGraph, FleetGraphQuery,
    MAX_FLEET_GRAPH_PAGE,
};
pub use identity::accounts::{new_secret_token, token_hash};
pub use identity::oidc::{OidcCallback, OidcInput, SSO_COOKIE, SsoStart};
pub use identity::saml::{SamlAcs, SamlInput, SamlSp};
pub use identity::scim::{ScimCaller, ScimOps};
pub use identity::sso::{SsoChoice, SsoChoices, SsoOutcome, SsoRefusal, SsoTestReport};
pub use identity::tokens::{DEFAULT_TOKEN_LIFETIME_DAYS, NewToken};
pub use policy::{ActivePolicy, ApplyOutcome, Author, PolicyChange};
pub use registration::{MANIFEST_CONNECTOR, Registration};
pub use registry::{
    AgentCounts, AtStake, Decommission, Decommissioned, Fleet, FleetPage, LabelGroup, Lineage,
    MAX_FLEET_PAGE, MAX_VERSION_PAGE, VersionPage, Versions,
};
pub use responses::{DEFAULT_RESPONSE_DAYS, MAX_RESPONSE_DAYS, ResponseOps, ResponseView};
pub use simulate::{SimCounts, SimId, SimRange, SimStatus, SimulationReport, StoredSimulation};
pub use state::{StateDiff, StateRow, Unchanged};
pub use stats::DailyStats;
pub use streams::{StreamTarget, StreamView};
pub use system::{ConsoleSession, SystemOps};
pub use tools::AgentTool;
pub use verify::{ExportCheck, ExportRange, VerifyReport, verify_export};
pub use witness::{DEFAULT_CHECKPOINT_INTERVAL_SECS, SigningKeyView, WitnessStatus};

use crate::audit::{Actor, AuditDraft, AuditEvent, AuditRecord};
use crate::catalog::Catalog;
use crate::clock::Clock;
use crate::error::CoreError;
use crate::executor::Executor;
use crate::ids::{OrgId, RecordId};
use crate::risk::{CallCounter, CallWindow};
use crate::store::Store;
use crate::vault::{MasterKey, Vault};

pub struct Engine {
    /// The engine itself, for work that must outlive the request that started it (an
    /// approved call runs to its end even if the approver's connection drops).
    me: Weak<Engine>,
    store: Arc<dyn Store>,
    catalog: Arc<Catalog>,
    vault: Vault,
    audit: AuditWriter,
    executor: Executor,
    clock: Arc<dyn Clock>,
    /// Each agent's calls in the last minute (in process, or shared through Redis).
    calls: Arc<dyn CallCounter>,
    /// Each org's policy in force, compiled, by version.
    policies: RwLock<HashMap<OrgId, Arc<ActivePolicy>>>,
    default_policy: Arc<ActivePolicy>,
    approval_events: approvals::ApprovalEvents,
    state_cache: state::StateCache,
    /// Sign-in backoff and the bound on password hashes.
    login_guard: identity::throttle::LoginGuard,
    /// Refused attempts being coalesced into burst records.
    refusals: refusals::Refusals,
    /// Keys with their agents and orgs, and instances, as of their org's configuration
    /// epoch (checked by the intercept record's guard).
    contexts: contexts::Contexts,
    /// Agents' manifest versions in force, by agent (versions never change, so a hit on
    /// the number the agent's row names is always right).
    manifests: registry::Manifests,
    /// New drift alerts the org's channels hear of; the notifier follows them.
    drift_events: tokio::sync::broadcast::Sender<crate::integration::DriftNotice>,
    /// Default and longest lifetime of a new admin token.
    token_lifetime_days: u32,
    /// Identity providers' discovery documents and keys, by org.
    providers: identity::oidc::Providers,
    /// The HTTP client for identity providers.
    idp_http: reqwest::Client,
    /// Where checkpoints go beside each org's own sinks, and how often.
    witness: witness::WitnessSettings,
}

/// How an engine is set up beyond its parts.
#[derive(Debug, Clone)]
pub struct EngineOptions {
    /// Let calls go to plain http and to loopback, private and link-local addresses
    /// (`--allow-local-targets`; the demo's simulator and the tests need it).
    pub local_targets: bool,
    /// Default and longest lifetime of a new admin token, in days.
    pub token_lifetime_days: u32,
    /// The server's witness directory, every org's first witness (`ARX_WITNESS_DIR`).
    pub witness_dir: Option<std::path::PathBuf>,
    /// How often each chain that moved is signed, in seconds (`ARX_CHECKPOINT_INTERVAL`).
    pub checkpoint_interval_secs: u64,
    /// Where agents' calls are counted for the risk score's frequency input, when not in
    /// this process (Redis, shared by every replica).
    pub calls: Option<Arc<dyn CallCounter>>,
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions {
            local_targets: false,
            token_lifetime_days: identity::tokens::DEFAULT_TOKEN_LIFETIME_DAYS,
            witness_dir: None,
            checkpoint_interval_secs: witness::DEFAULT_CHECKPOINT_INTERVAL_SECS,
            calls: None,
        }
    }
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("store", &self.store)
            .finish_non_exhaustive()
    }
}

impl Engine {
    /// Wires the engine and starts its audit writer; call inside a tokio runtime.
    pub fn new(
        store: Arc<dyn Store>,
        catalog: Catalog,
        master: MasterKey,
        clock: Arc<dyn Clock>,
        opts: EngineOptions,
    ) -> Arc<Self> {
        Arc::new_cyclic(|me| Engine {
            me: me.clone(),
            audit: AuditWriter::start(store.clone()),
            store,
            catalog: Arc::new(catalog),
            vault: Vault::new(master),
            executor: Executor::with_local_targets(opts.local_targets),
            clock,
            calls: opts
                .calls
                .clone()
                .unwrap_or_else(|| Arc::new(CallWindow::default())),
            policies: RwLock::default(),
            default_policy: Arc::new(ActivePolicy::defaults()),
            approval_events: approvals::ApprovalEvents::default(),
            state_cache: state::StateCache::default(),
            login_guard: identity::throttle::LoginGuard::default(),
            refusals: refusals::Refusals::default(),
            manifests: registry::Manifests::default(),
            contexts: contexts::Contexts::default(),
            drift_events: tokio::sync::broadcast::channel(256).0,
            token_lifetime_days: opts.token_lifetime_days.max(1),
            providers: identity::oidc::Providers::default(),
            idp_http: identity::oidc::idp_client(opts.local_targets),
            witness: witness::WitnessSettings::new(opts.witness_dir, opts.checkpoint_interval_secs),
        })
    }

    /// Whether local targets are allowed (the console shows a warning when they are).
    pub fn local_targets_allowed(&self) -> bool {
        self.executor.allows_local_targets()
    }

    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    pub fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }

    /// A record of `event` by `actor`, not yet in the chain.
    fn draft(&self, org: OrgId, actor: Actor, event: AuditEvent) -> Result<AuditDraft, CoreError> {
        Ok(AuditDraft {
            org_id: org,
            id: RecordId::new(),
            ts_ms: self.now_ms(),
            kind: event.kind().into_owned(),
            actor,
            fields: event
                .fields()
                .map_err(|e| CoreError::internal("audit event encode", e))?,
            guard_epoch: None,
        })
    }

    /// Records a platform action durably; fails closed.
    async fn record(
        &self,
        org: OrgId,
        actor: Actor,
        event: impl Into<AuditEvent>,
    ) -> Result<AuditRecord, CoreError> {
        self.audit
            .append_one(self.draft(org, actor, event.into())?)
            .await
    }

    /// [`Engine::record`] of what was decided on the org's configuration at `epoch`:
    /// refused ([`CoreError::StaleConfiguration`], nothing written) if it has moved.
    async fn record_at(
        &self,
        org: OrgId,
        epoch: i64,
        actor: Actor,
        event: impl Into<AuditEvent>,
    ) -> Result<AuditRecord, CoreError> {
        let mut draft = self.draft(org, actor, event.into())?;
        draft.guard_epoch = Some(epoch);
        self.audit.append_one(draft).await
    }
}
