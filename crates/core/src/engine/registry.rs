//! The agent registry (docs/architecture.md §8): manifest versions, each written once
//! with the hash of its canonical JSON in the audit chain, rollback as a new version equal
//! to an old one, the diff of any two versions; and, on every execute call, the manifest
//! gate (§5 step 1) and drift: alerts, throttling and suspension by the org's drift policy.

use std::sync::Arc;

use super::Engine;
use super::admin::{AdminOps, ReadOps};
use crate::audit::Actor;
use crate::audit::event::{self as ev, AuditEvent};
use crate::error::CoreError;
use crate::ids::{AgentId, ApprovalId, DriftId, KeyId, OrgId, RecordId};
use crate::model::registry::{DriftAlert, DriftStatus, ManifestVersion, Retirement};
use crate::model::stats::AgentActivity;
use crate::model::{Agent, AgentStatus};
use crate::policy::{ManifestMode, PolicySettings};
use crate::registry::{
    DriftAction, DriftSignal, Manifest, ManifestDiff, ManifestError, ObservedCall, check,
};

/// A manifest error as the API answers it: a 400 about the `manifest` field.
impl From<ManifestError> for CoreError {
    fn from(e: ManifestError) -> Self {
        CoreError::InvalidField {
            field: "manifest",
            message: format!("the manifest: {e}"),
        }
    }
}

/// A version to write: what it declares and how it came to be.
pub(super) struct NewVersion<'a> {
    pub manifest: Manifest,
    pub reason: &'a str,
    pub by: Actor,
    pub generated: bool,
    pub rollback_of: Option<i64>,
    /// The version number the publisher means to create; another is a conflict.
    pub expected: Option<i64>,
    /// The approved manifest request it comes from (a widening self-registration).
    pub approval: Option<ApprovalId>,
}

/// Why a manifest changes, trimmed: required, at most 1000 characters.
pub(super) fn checked_reason(reason: &str) -> Result<String, CoreError> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(CoreError::InvalidField {
            field: "reason",
            message: "say why the manifest changes (reason); it goes into the audit trail".into(),
        });
    }
    if reason.chars().count() > 1000 {
        return Err(CoreError::InvalidField {
            field: "reason",
            message: "the reason is at most 1000 characters".into(),
        });
    }
    Ok(reason.to_string())
}

impl Engine {
    /// Writes the agent's next manifest version, then its audit record with the hash. A
    /// version number that exists (a concurrent publish, or `expected` naming an old one)
    /// is a conflict, so a version's content never changes.
    pub(super) async fn add_manifest_version(
        &self,
        agent: &Agent,
        new: NewVersion<'_>,
    ) -> Result<ManifestVersion, CoreError> {
        let reason = checked_reason(new.reason)?;
        let current = self.store.current_manifest(agent.org_id, agent.id).await?;
        let next = current.as_ref().map_or(1, |c| c.version + 1);
        if let Some(expected) = new.expected
            && expected != next
        {
            return Err(CoreError::Conflict(format!(
                "version {expected} of this manifest {}; the next version is {next}",
                if expected < next {
                    "exists and never changes"
                } else {
                    "cannot be skipped to"
                }
            )));
        }
        let manifest = new.manifest.canonical();
        let now = self.now_ms();
        let v = ManifestVersion {
            org_id: agent.org_id,
            agent_id: agent.id,
            version: next,
            hash: manifest.hash()?,
            manifest,
            generated: new.generated,
            rollback_of: new.rollback_of,
            reason,
            created_by: new.by.name.clone(),
            created_ms: now,
            created: crate::audit::format_ts(now),
        };
        let changes = match &current {
            Some(c) => ManifestDiff::between(&c.manifest, &v.manifest).summary(),
            None => "first version".into(),
        };
        self.store.create_manifest_version(&v).await?;
        self.record(
            agent.org_id,
            new.by,
            ev::ManifestPublished {
                agent_id: agent.id,
                agent: agent.name.clone(),
                version: v.version,
                manifest_sha256: v.hash.clone(),
                generated: v.generated,
                rollback_of: v.rollback_of,
                changes,
                reason: v.reason.clone(),
                approval_id: new.approval,
            },
        )
        .await?;
        Ok(v)
    }

    pub(super) async fn manifest_version(
        &self,
        org: OrgId,
        agent: AgentId,
        version: i64,
    ) -> Result<ManifestVersion, CoreError> {
        self.store
            .manifest_version(org, agent, version)
            .await?
            .ok_or_else(|| {
                CoreError::NotFound(format!("the agent has no manifest version {version}"))
            })
    }
}

impl AdminOps<'_> {
    /// Publishes `manifest` as the agent's next version (`expected`, when given, is the
    /// version number the admin means to create).
    pub async fn publish_manifest(
        &self,
        agent: AgentId,
        manifest: Manifest,
        reason: &str,
        expected: Option<i64>,
    ) -> Result<ManifestVersion, CoreError> {
        let e = self.engine;
        let a = self.agent(agent).await?;
        manifest.check_catalog(&e.catalog)?;
        e.add_manifest_version(
            &a,
            NewVersion {
                manifest,
                reason,
                by: self.actor(),
                generated: false,
                rollback_of: None,
                expected,
                approval: None,
            },
        )
        .await
    }

    /// Rolls the agent's manifest back to `version`: a new version equal to it, with the
    /// admin's reason. The versions in between stay in the history.
    pub async fn rollback_manifest(
        &self,
        agent: AgentId,
        version: i64,
        reason: &str,
    ) -> Result<ManifestVersion, CoreError> {
        let e = self.engine;
        let a = self.agent(agent).await?;
        let old = e.manifest_version(a.org_id, a.id, version).await?;
        e.add_manifest_version(
            &a,
            NewVersion {
                manifest: old.manifest,
                reason,
                by: self.actor(),
                generated: false,
                rollback_of: Some(version),
                expected: None,
                approval: None,
            },
        )
        .await
    }
}

impl ReadOps<'_> {
    /// The agent's manifest versions, newest first.
    pub async fn manifests(&self, agent: AgentId) -> Result<Vec<ManifestVersion>, CoreError> {
        let a = self.agent(agent).await?;
        self.engine.store.manifest_versions(a.org_id, a.id).await
    }

    /// A page of the agent's manifest versions in the order asked (see [`VersionPage`]).
    pub async fn manifest_page(
        &self,
        agent: AgentId,
        page: VersionPage,
    ) -> Result<Versions, CoreError> {
        page.check()?;
        let all = self.manifests(agent).await?;
        Ok(Versions {
            total: all.len(),
            in_force: self.agent(agent).await?.manifest_version,
            versions: page.slice(all),
        })
    }

    pub async fn manifest(
        &self,
        agent: AgentId,
        version: i64,
    ) -> Result<ManifestVersion, CoreError> {
        let a = self.agent(agent).await?;
        self.engine.manifest_version(a.org_id, a.id, version).await
    }

    /// What changed from version `from` to version `to` of the agent's manifest.
    pub async fn manifest_diff(
        &self,
        agent: AgentId,
        from: i64,
        to: i64,
    ) -> Result<ManifestDiff, CoreError> {
        let a = self.agent(agent).await?;
        let old = self.engine.manifest_version(a.org_id, a.id, from).await?;
        let new = self.engine.manifest_version(a.org_id, a.id, to).await?;
        Ok(ManifestDiff::between(&old.manifest, &new.manifest))
    }
}

/// The manifest versions in force of the agents that called lately, by agent. The agent's
/// row (read at authentication) names its version; a version never changes, so the entry
/// for that number is right on any replica, and a new version is a miss that loads it.
#[derive(Default)]
pub(super) struct Manifests(
    std::sync::RwLock<std::collections::HashMap<AgentId, Arc<ManifestVersion>>>,
);

impl Manifests {
    fn get(&self, agent: AgentId, version: i64) -> Option<Arc<ManifestVersion>> {
        let map = self
            .0
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        map.get(&agent).filter(|v| v.version == version).cloned()
    }

    fn put(&self, v: Arc<ManifestVersion>) {
        let mut map = self
            .0
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // Bounded: at the limit, start over (the next calls reload what they use).
        if map.len() >= 100_000 {
            map.clear();
        }
        map.insert(v.agent_id, v);
    }
}

/// A call against the agent's manifest in force (§5 step 1 and §8): the version, why the
/// gate denies it (if it does), and the drift it raises.
pub(super) struct ManifestCheck {
    pub version: Option<i64>,
    /// The declared rate per minute (none without a manifest).
    pub rate: Option<u32>,
    pub gate: Option<String>,
    pub signals: Vec<DriftSignal>,
    /// The org observes agents without a manifest: their drift is recorded, not acted on.
    pub observe_only: bool,
}

/// The call as the manifest check sees it.
pub(super) struct CheckedCall<'a> {
    pub agent: &'a Agent,
    pub connector: &'a str,
    pub operation: &'a str,
    pub op: &'a crate::catalog::Operation,
    pub instance: &'a crate::model::Instance,
    pub params: &'a serde_json::Map<String, serde_json::Value>,
    pub calls_last_60s: u32,
}

impl Engine {
    /// Checks the call against the agent's manifest in force. Without one, the org's mode
    /// decides: `enforce` denies, `observe` records what the call touched. An undeclared
    /// operation, connector or environment that an active grant covers is not drift.
    pub(super) async fn manifest_check(
        &self,
        settings: &PolicySettings,
        call: &CheckedCall<'_>,
    ) -> Result<ManifestCheck, CoreError> {
        let current = self.manifest_in_force(call.agent).await?;
        let mut observed = ObservedCall::of(
            call.connector,
            call.operation,
            call.op,
            call.instance.environment,
            call.calls_last_60s,
        );
        let Some(v) = current else {
            return Ok(match settings.manifests {
                ManifestMode::Enforce => ManifestCheck {
                    version: None,
                    rate: None,
                    gate: Some(
                        "the agent has no manifest: an admin publishes one before it may call anything"
                            .into(),
                    ),
                    signals: Vec::new(),
                    observe_only: false,
                },
                ManifestMode::Observe => ManifestCheck {
                    version: None,
                    rate: None,
                    gate: None,
                    signals: check(&Manifest::empty(), &observed),
                    observe_only: true,
                },
            });
        };
        let mut signals = check(&v.manifest, &observed);
        if signals.iter().any(DriftSignal::gates) && self.granted(call).await? {
            observed.granted = true;
            signals = check(&v.manifest, &observed);
        }
        let gate = signals
            .iter()
            .find(|s| s.gates())
            .map(|s| format!("{s}: not in the agent's manifest (version {})", v.version));
        Ok(ManifestCheck {
            version: Some(v.version),
            rate: Some(v.manifest.rate_per_minute),
            gate,
            signals,
            observe_only: false,
        })
    }

    /// The agent's manifest version in force (the one its row names), from the cache.
    pub(super) async fn manifest_in_force(
        &self,
        a: &Agent,
    ) -> Result<Option<Arc<ManifestVersion>>, CoreError> {
        let Some(v) = a.manifest_version else {
            return Ok(None);
        };
        if let Some(hit) = self.manifests.get(a.id, v) {
            return Ok(Some(hit));
        }
        let loaded = Arc::new(self.manifest_version(a.org_id, a.id, v).await?);
        self.manifests.put(loaded.clone());
        Ok(Some(loaded))
    }

    /// Whether an active grant of the agent covers this very call.
    async fn granted(&self, call: &CheckedCall<'_>) -> Result<bool, CoreError> {
        let a = call.agent;
        let now = self.now_ms();
        Ok(self
            .store
            .active_grants(a.org_id, a.id, call.connector)
            .await?
            .iter()
            .any(|g| {
                g.covers(
                    call.connector,
                    call.instance.id,
                    call.operation,
                    call.params,
                    now,
                )
            }))
    }

    /// Raises the drift alerts of a recorded call (`intercept`: its intercept record, or
    /// the rejection of a throttled agent's refused call) and takes the strongest
    /// action the org's drift policy gives them: throttle or suspend the agent (only an
    /// admin makes it active again). A signal already open counts on its alert.
    pub(super) async fn act_on_drift(
        &self,
        settings: &PolicySettings,
        agent: &Agent,
        check: &ManifestCheck,
        intercept: RecordId,
    ) -> Result<(), CoreError> {
        if check.signals.is_empty() {
            return Ok(());
        }
        let policy = &settings.drift;
        let now = self.now_ms();
        let mut strongest = None;
        let mut notices = Vec::new();
        for signal in &check.signals {
            let severity = policy.severity(signal);
            let action = match check.observe_only {
                true => DriftAction::Alert,
                false => policy.action(severity),
            };
            strongest = strongest.max(Some(action));
            let alert = DriftAlert {
                id: DriftId::new(),
                org_id: agent.org_id,
                agent_id: agent.id,
                agent: agent.name.clone(),
                signal_key: signal_key(signal),
                signal: signal.clone(),
                severity,
                action,
                message: signal.to_string(),
                manifest_version: check.version,
                audit_id: Some(intercept.to_string()),
                status: DriftStatus::Open,
                occurrences: 1,
                created_ms: now,
                last_ms: now,
                updated_ms: None,
                created: crate::audit::format_ts(now),
                last: crate::audit::format_ts(now),
                updated: None,
                updated_by: None,
                note: None,
            };
            if self.store.raise_drift_alert(&alert).await? {
                self.record(
                    agent.org_id,
                    Actor::system(),
                    ev::DriftDetected {
                        alert_id: alert.id,
                        agent_id: agent.id,
                        agent: agent.name.clone(),
                        signal: signal.clone(),
                        severity,
                        action,
                        manifest_version: check.version,
                        audit_id: intercept,
                    },
                )
                .await?;
                if crate::integration::DriftNotice::due(severity, action) {
                    notices.push(crate::integration::DriftNotice {
                        org_id: agent.org_id,
                        alert_id: alert.id,
                        agent_id: agent.id,
                        agent: agent.name.clone(),
                        kind: signal.kind().to_string(),
                        signal: signal.to_string(),
                        severity,
                        action,
                        status: agent.status,
                        manifest_version: check.version,
                        audit_id: intercept.to_string(),
                        created_ms: now,
                    });
                }
            }
        }
        let status = self.drift_status(agent, check, strongest).await;
        // Told after the action was taken, so the notice says what it did; a failure
        // to act still tells the channels (the alert is raised and recorded).
        for mut n in notices {
            if let Ok(Some(s)) = &status {
                n.status = *s;
            }
            // No receiver (no notifier running) is not an error.
            let _ = self.drift_events.send(n);
        }
        status.map(|_| ())
    }

    /// Throttles or suspends the agent after drift as `strongest` says, never milder
    /// than it is; the status it has afterwards, when it changed.
    async fn drift_status(
        &self,
        agent: &Agent,
        check: &ManifestCheck,
        strongest: Option<DriftAction>,
    ) -> Result<Option<AgentStatus>, CoreError> {
        let to = match strongest {
            Some(a) if a.suspends() => AgentStatus::Suspended,
            Some(DriftAction::Throttle) => AgentStatus::Throttled,
            _ => return Ok(None),
        };
        // Never milder than it is: a suspended agent is not throttled by a later signal.
        let rank = |s: AgentStatus| match s {
            AgentStatus::Active => 0,
            AgentStatus::Throttled => 1,
            AgentStatus::Suspended => 2,
            AgentStatus::Decommissioned => 3,
        };
        let now_status = self
            .store
            .agent(agent.org_id, agent.id)
            .await?
            .map_or(agent.status, |a| a.status);
        if rank(to) <= rank(now_status) {
            return Ok(Some(now_status));
        }
        let why = format!(
            "drift: {}",
            check
                .signals
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; ")
        );
        self.store
            .set_agent_status(agent.org_id, agent.id, to)
            .await?;
        self.record(
            agent.org_id,
            Actor::system(),
            AuditEvent::AgentStatusChanged(ev::AgentStatusChanged {
                agent_id: agent.id,
                from: now_status,
                to,
                reason: why.clone(),
            }),
        )
        .await?;
        if to == AgentStatus::Suspended {
            self.end_agent_grants(agent.org_id, agent.id, &why, Actor::system())
                .await?;
        }
        Ok(Some(to))
    }

    /// The drift alerts the org's channels hear of (see [`crate::integration::DriftNotice`]),
    /// raised on this replica from now on.
    pub fn drift_events(
        &self,
    ) -> tokio::sync::broadcast::Receiver<crate::integration::DriftNotice> {
        self.drift_events.subscribe()
    }
}

/// What makes two signals the same alert: the kind and what it is about (not the
/// counts of a rate signal, which change with every call).
fn signal_key(s: &DriftSignal) -> String {
    match s {
        DriftSignal::UndeclaredOperation {
            connector,
            operation,
            ..
        }
        | DriftSignal::UndeclaredConnector {
            connector,
            operation,
            ..
        } => format!("{}:{connector}:{operation}", s.kind()),
        DriftSignal::UndeclaredEnvironment { environment } => {
            format!("{}:{environment}", s.kind())
        }
        DriftSignal::UndeclaredDataClass { class } => format!("{}:{class}", s.kind()),
        DriftSignal::RateAboveDeclared { .. } => s.kind().to_string(),
    }
}

impl ReadOps<'_> {
    /// How many of the org's drift alerts are open, per severity, most severe first
    /// (every severity listed).
    pub async fn open_drift_counts(
        &self,
    ) -> Result<Vec<(crate::registry::Severity, usize)>, CoreError> {
        let found = self.engine.store.open_drift_counts(self.who.org_id).await?;
        Ok(crate::registry::Severity::ALL
            .into_iter()
            .rev()
            .map(|s| {
                let n = found.iter().find(|(f, _)| *f == s).map_or(0, |(_, n)| *n);
                (s, n)
            })
            .collect())
    }

    /// The org's drift alerts, newest first, as `q` filters them.
    pub async fn drift_alerts(
        &self,
        q: &crate::store::DriftQuery,
    ) -> Result<Vec<DriftAlert>, CoreError> {
        if let Some(a) = q.agent {
            self.agent(a).await?;
        }
        self.engine.store.drift_alerts(self.who.org_id, q).await
    }
}

impl AdminOps<'_> {
    /// Acknowledges (`to` acknowledged) or resolves a drift alert, with the admin's note.
    /// Resolving it does not make a throttled or suspended agent active: reactivation is
    /// its own decision, with its own reason.
    pub async fn set_drift_status(
        &self,
        id: DriftId,
        to: DriftStatus,
        note: &str,
    ) -> Result<DriftAlert, CoreError> {
        let e = self.engine;
        let org = self.who.org_id;
        let from: &[DriftStatus] = match to {
            DriftStatus::Acknowledged => &[DriftStatus::Open],
            DriftStatus::Resolved => &[DriftStatus::Open, DriftStatus::Acknowledged],
            DriftStatus::Open => {
                return Err(CoreError::InvalidRequest(
                    "an alert is opened by drift, not by hand".into(),
                ));
            }
        };
        let note = note.trim();
        if note.chars().count() > 1000 {
            return Err(CoreError::InvalidField {
                field: "note",
                message: "the note is at most 1000 characters".into(),
            });
        }
        let alert = e
            .store
            .drift_alert(org, id)
            .await?
            .ok_or_else(|| CoreError::NotFound("no such drift alert".into()))?;
        if !e
            .store
            .set_drift_status(
                org,
                id,
                &crate::store::DriftChange {
                    from,
                    to,
                    by: &self.who.email,
                    note,
                    now_ms: e.now_ms(),
                },
            )
            .await?
        {
            return Err(CoreError::Conflict(format!(
                "the alert is {}; it cannot become {}",
                alert.status.as_str(),
                to.as_str()
            )));
        }
        let changed = ev::DriftChanged {
            alert_id: id,
            agent_id: alert.agent_id,
            agent: alert.agent.clone(),
            from: alert.status,
            to,
            note: note.to_string(),
        };
        let event = match to {
            DriftStatus::Acknowledged => AuditEvent::DriftAcknowledged(changed),
            _ => AuditEvent::DriftResolved(changed),
        };
        e.record(org, self.actor(), event).await?;
        e.store
            .drift_alert(org, id)
            .await?
            .ok_or_else(|| CoreError::NotFound("no such drift alert".into()))
    }
}

/// How far back the calls of an agent that existed before manifests are read.
const GENERATED_FROM_DAYS: i64 = 30;

impl Engine {
    /// Turns the registry on for an org, once (`registry.enabled` in its chain says it
    /// did): each agent without a manifest that called in the last 30 days gets a first
    /// version generated from exactly those calls, marked generated for an admin to
    /// review, so an upgrade locks no agent out of what it was doing. An org created since
    /// has the record from its first day, so calls made later (denied, or watched in
    /// observe mode) never turn into a manifest by themselves.
    pub(crate) async fn enable_registry(&self, org: OrgId) -> Result<Vec<String>, CoreError> {
        let now = self.now_ms();
        if self
            .store
            .audit_count_in_range(org, REGISTRY_ENABLED, (0, now))
            .await?
            > 0
        {
            return Ok(Vec::new());
        }
        let since = now - GENERATED_FROM_DAYS * 86_400_000;
        // (agent id) → the calls it made: (connector, operation, environment).
        let mut calls: std::collections::BTreeMap<String, Vec<ev::Intercept>> = Default::default();
        let mut after = None;
        loop {
            let page = self
                .store
                .audit_in_range(org, "execute.intercept", (since, now), after, 500)
                .await?;
            let Some(last) = page.last() else { break };
            after = Some((last.ts_ms(), last.seq));
            for r in &page {
                if let Ok(AuditEvent::Intercept(i)) = r.event() {
                    calls.entry(i.agent_id.clone()).or_default().push(i);
                }
            }
        }
        let mut generated = Vec::new();
        for agent in self.store.list_agents(org).await? {
            let Some(made) = calls.get(&agent.id.to_string()) else {
                continue;
            };
            if self.store.current_manifest(org, agent.id).await?.is_some() {
                continue;
            }
            let seen = made.iter().filter_map(|i| {
                let op = self.catalog.get(&i.connector)?.operation(&i.operation)?;
                Some((
                    i.connector.as_str(),
                    i.operation.as_str(),
                    i.environment,
                    op.data_classes.as_slice(),
                ))
            });
            let manifest = Manifest::generated(agent.declared_rate, seen)?;
            let reason = format!(
                "generated from the agent's calls of the last {GENERATED_FROM_DAYS} days when manifests arrived; review it"
            );
            let made = self
                .add_manifest_version(
                    &agent,
                    NewVersion {
                        manifest,
                        reason: &reason,
                        by: Actor::system(),
                        generated: true,
                        rollback_of: None,
                        expected: Some(1),
                        approval: None,
                    },
                )
                .await;
            match made {
                Ok(_) => generated.push(agent.name.clone()),
                // Another replica generated it first.
                Err(CoreError::Conflict(_)) => {}
                Err(e) => return Err(e),
            }
        }
        self.record(
            org,
            Actor::system(),
            ev::RegistryEnabled {
                generated: generated.clone(),
            },
        )
        .await?;
        Ok(generated)
    }
}

/// The record that says an org's registry is on (see [`Engine::enable_registry`]).
pub(crate) const REGISTRY_ENABLED: &str = "registry.enabled";

/// What an admin decommissions an agent with.
#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"reason": "replaced by triage-agent-v2", "retention_class": "standard"}))]
pub struct Decommission {
    /// Why it is retired (kept in the chain and told to anyone still holding its keys).
    #[schema(min_length = 1, max_length = 1000)]
    pub reason: String,
    /// How long its records are kept: the org's own class name (`standard`, `legal_hold`).
    #[schema(min_length = 1, max_length = 32, pattern = "^[a-z0-9_-]+$")]
    pub retention_class: String,
    /// The agent that takes over its work (lineage walks back through these).
    #[serde(default)]
    pub replaced_by: Option<AgentId>,
}

/// What decommissioning did, at once.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Decommissioned {
    pub retirement: Retirement,
    pub revoked_keys: Vec<KeyId>,
    pub ended_grants: usize,
    pub cancelled_approvals: Vec<ApprovalId>,
    /// The span of its records that the seal names.
    pub records: ev::SealedRecords,
}

/// An agent's lineage: its own retirement, if it is retired, and the agents it replaced,
/// and those they replaced, newest first.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Lineage {
    pub agent: Agent,
    pub retirement: Option<Retirement>,
    pub predecessors: Vec<Retirement>,
}

impl AdminOps<'_> {
    /// Decommissions an agent, in one operation: its status, every key revoked, its
    /// grants ended, its pending approvals cancelled (a waiting call is told why), and its
    /// personnel record sealed in the chain (`agent.sealed`). It is never reactivated; its
    /// records stay readable.
    pub async fn decommission(
        &self,
        id: AgentId,
        d: Decommission,
    ) -> Result<Decommissioned, CoreError> {
        let e = self.engine;
        let a = self.agent(id).await?;
        let org = a.org_id;
        if a.status == AgentStatus::Decommissioned {
            return Err(CoreError::Conflict(
                "the agent is decommissioned already".into(),
            ));
        }
        let reason = d.reason.trim().to_string();
        if reason.is_empty() || reason.chars().count() > 1000 {
            return Err(CoreError::InvalidField {
                field: "reason",
                message: "say why the agent is retired (reason, 1 to 1000 characters)".into(),
            });
        }
        let class = d.retention_class.trim().to_string();
        if class.is_empty()
            || class.len() > 32
            || !class
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '-'))
        {
            return Err(CoreError::InvalidField {
                field: "retention_class",
                message: "retention_class is 1 to 32 lowercase letters, digits, '_' and '-' (standard, legal_hold)".into(),
            });
        }
        if let Some(next) = d.replaced_by {
            let bad = |message: &str| CoreError::InvalidField {
                field: "replaced_by",
                message: message.into(),
            };
            if next == a.id {
                return Err(bad("an agent cannot replace itself"));
            }
            let successor = e
                .store
                .agent(org, next)
                .await?
                .ok_or_else(|| bad("replaced_by names no agent of this org"))?;
            if successor.status == AgentStatus::Decommissioned {
                return Err(bad("replaced_by names a decommissioned agent"));
            }
        }
        let actor = self.actor();
        let why = format!("the agent was decommissioned: {reason}");
        // First the status: from here its keys authenticate nothing.
        e.store
            .set_agent_status(org, a.id, AgentStatus::Decommissioned)
            .await?;
        e.record(
            org,
            actor.clone(),
            AuditEvent::AgentStatusChanged(ev::AgentStatusChanged {
                agent_id: a.id,
                from: a.status,
                to: AgentStatus::Decommissioned,
                reason: reason.clone(),
            }),
        )
        .await?;
        let keys = e.store.list_agent_keys(org, a.id).await?;
        let mut revoked_keys = Vec::new();
        for k in keys.iter().filter(|k| k.revoked_ms.is_none()) {
            if e.store.revoke_agent_key(org, k.id, e.now_ms()).await? {
                e.record(org, actor.clone(), ev::AgentKeyRevoked { key_id: k.id })
                    .await?;
                revoked_keys.push(k.id);
            }
        }
        let ended_grants = e.end_agent_grants(org, a.id, &why, actor.clone()).await?;
        let mut cancelled_approvals = Vec::new();
        for p in e.store.list_approvals(org, Some("pending")).await? {
            if p.agent_id != a.id {
                continue;
            }
            let mut change = crate::model::ApprovalChange::new(
                &[crate::model::ApprovalStatus::Pending],
                crate::model::ApprovalStatus::Cancelled,
            );
            change.comment = Some(why.clone());
            let done = e.finish_approval(&p, change, actor.clone()).await?;
            if done.status == crate::model::ApprovalStatus::Cancelled {
                cancelled_approvals.push(p.id);
            }
        }
        let records = e.store.records_about(org, a.id).await?;
        let manifest = match a.manifest_version {
            Some(v) => Some(e.manifest_version(org, a.id, v).await?),
            None => None,
        };
        let seal = e
            .record(
                org,
                actor.clone(),
                ev::AgentSealed {
                    agent_id: a.id,
                    agent: a.name.clone(),
                    reason: reason.clone(),
                    retention_class: class.clone(),
                    replaced_by: d.replaced_by,
                    manifest_version: manifest.as_ref().map(|m| m.version),
                    manifest_sha256: manifest.map(|m| m.hash),
                    keys: keys
                        .iter()
                        .map(|k| ev::SealedKey {
                            key_id: k.id,
                            prefix: k.prefix.clone(),
                        })
                        .collect(),
                    records: records.clone(),
                },
            )
            .await?;
        let now = e.now_ms();
        let retirement = Retirement {
            agent_id: a.id,
            agent: a.name.clone(),
            org_id: org,
            reason,
            retention_class: class,
            replaced_by: d.replaced_by,
            retired_by: actor.name.clone(),
            retired_ms: now,
            retired: crate::audit::format_ts(now),
            seal_id: seal.id,
        };
        e.store.create_retirement(&retirement).await?;
        Ok(Decommissioned {
            retirement,
            revoked_keys,
            ended_grants,
            cancelled_approvals,
            records,
        })
    }
}

impl ReadOps<'_> {
    /// The agent's lineage (see [`Lineage`]).
    pub async fn lineage(&self, agent: AgentId) -> Result<Lineage, CoreError> {
        let e = self.engine;
        let a = self.agent(agent).await?;
        let retirement = e.store.retirement(a.org_id, a.id).await?;
        let mut predecessors = Vec::new();
        let mut seen = std::collections::HashSet::from([a.id]);
        let mut next = vec![a.id];
        while let Some(id) = next.pop() {
            for r in e.store.predecessors(a.org_id, id).await? {
                if seen.insert(r.agent_id) {
                    next.push(r.agent_id);
                    predecessors.push(r);
                }
            }
        }
        predecessors.sort_by_key(|r| std::cmp::Reverse(r.retired_ms));
        Ok(Lineage {
            agent: a,
            retirement,
            predecessors,
        })
    }
}

/// The fleet as a label selector filters it, grouped by a label key when asked.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Fleet {
    /// The page asked for, in the order asked for.
    pub agents: Vec<Agent>,
    /// How many agents the selector matched in all.
    pub total: usize,
    /// With `group_by`: how many of the agents have each value of that key (`value` null:
    /// the agents without it), most first.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub groups: Option<Vec<LabelGroup>>,
    /// Owners of this page's agents who are no longer active users of the org.
    pub inactive_owners: Vec<String>,
    /// The activity of each agent of this page, by agent id: its latest call, and its
    /// calls of the last 24 hours by verdict with their highest risk.
    pub activity: std::collections::BTreeMap<AgentId, AgentActivity>,
    /// What the fleet table counts for each agent of this page, by agent id.
    pub counts: std::collections::BTreeMap<AgentId, AgentCounts>,
}

/// An agent's keys, open drift alerts and whether its manifest was generated.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct AgentCounts {
    /// Keys not revoked.
    pub active_keys: usize,
    /// Drift alerts neither acknowledged nor resolved.
    pub open_drift: usize,
    /// Whether the manifest in force was generated from the agent's past calls.
    pub manifest_generated: bool,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct LabelGroup {
    pub value: Option<String>,
    pub count: usize,
}

impl ReadOps<'_> {
    /// The org's agents that `selector` matches (empty: all), grouped by the label key
    /// `group_by` when it is not empty. A malformed selector or key is refused with the
    /// position of what is wrong.
    pub async fn fleet(
        &self,
        selector: &str,
        group_by: &str,
        page: FleetPage,
    ) -> Result<Fleet, CoreError> {
        if !(1..=MAX_FLEET_PAGE).contains(&page.limit) {
            return Err(CoreError::InvalidField {
                field: "limit",
                message: format!("limit must be 1 to {MAX_FLEET_PAGE}, not {}", page.limit),
            });
        }
        let selector =
            crate::registry::Selector::parse(selector).map_err(|e| CoreError::InvalidField {
                field: "selector",
                message: format!("the selector: {}", e.message),
            })?;
        let key =
            match group_by.trim() {
                "" => None,
                k => Some(crate::registry::parse_label_key(k).map_err(|e| {
                    CoreError::InvalidField {
                        field: "group_by",
                        message: format!("group_by: {}", e.message),
                    }
                })?),
            };
        let found = self
            .engine
            .store
            .fleet_page(
                self.who.org_id,
                &crate::store::FleetQuery {
                    selector,
                    group_by: key,
                    sort: page.sort,
                    order: page.order,
                    offset: page.offset,
                    limit: page.limit,
                    live_or_called_since: None,
                },
            )
            .await?;
        let groups = found.groups.map(|counts| {
            let mut groups: Vec<LabelGroup> = counts
                .into_iter()
                .map(|(value, count)| LabelGroup { value, count })
                .collect();
            groups.sort_by(|x, y| y.count.cmp(&x.count).then_with(|| x.value.cmp(&y.value)));
            groups
        });
        let counts = found
            .rows
            .iter()
            .map(|r| {
                let c = AgentCounts {
                    active_keys: r.active_keys,
                    open_drift: r.open_drift,
                    manifest_generated: r.manifest_generated,
                };
                (r.agent.id, c)
            })
            .collect();
        let agents: Vec<Agent> = found.rows.into_iter().map(|r| r.agent).collect();
        let activity = self.activity(&agents).await?;
        Ok(Fleet {
            inactive_owners: self.inactive_owners(&agents).await?.into_iter().collect(),
            agents,
            total: found.total,
            groups,
            counts,
            activity,
        })
    }

    /// The owners of `agents` who are no longer active users of the org (they left, or
    /// their account was disabled): their agents stay, shown as "owner inactive".
    pub async fn inactive_owners(
        &self,
        agents: &[Agent],
    ) -> Result<std::collections::BTreeSet<String>, CoreError> {
        let active: std::collections::BTreeSet<String> = self
            .engine
            .store
            .list_users(self.who.org_id)
            .await?
            .into_iter()
            .filter(|u| u.active)
            .map(|u| u.email.to_lowercase())
            .collect();
        Ok(agents
            .iter()
            .map(|a| a.owner.to_lowercase())
            .filter(|o| !active.contains(o))
            .collect())
    }
}

/// The most versions one page of an agent's manifest versions holds.
pub const MAX_VERSION_PAGE: usize = 500;

/// Which page of an agent's manifest versions: `limit` (1 to [`MAX_VERSION_PAGE`]) after
/// `offset`, by version number in `order` (newest first is `Desc`).
#[derive(Debug, Clone, Copy)]
pub struct VersionPage {
    pub order: crate::store::Order,
    pub offset: usize,
    pub limit: usize,
}

impl VersionPage {
    fn check(&self) -> Result<(), CoreError> {
        if (1..=MAX_VERSION_PAGE).contains(&self.limit) {
            return Ok(());
        }
        Err(CoreError::InvalidField {
            field: "limit",
            message: format!("limit must be 1 to {MAX_VERSION_PAGE}, not {}", self.limit),
        })
    }

    /// This page of `newest_first` (a list of versions, or of rows made from them, newest
    /// first as the store gives them).
    pub fn slice<T>(&self, mut newest_first: Vec<T>) -> Vec<T> {
        if self.order == crate::store::Order::Asc {
            newest_first.reverse();
        }
        newest_first
            .into_iter()
            .skip(self.offset)
            .take(self.limit)
            .collect()
    }
}

/// A page of an agent's manifest versions.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Versions {
    /// In the order asked.
    pub versions: Vec<ManifestVersion>,
    /// How many versions the agent has.
    pub total: usize,
    /// The version in force (none: the agent has no manifest).
    pub in_force: Option<i64>,
}

/// The most agents one page of the fleet holds.
pub const MAX_FLEET_PAGE: usize = 500;

/// Which page of the fleet: `limit` agents (1 to [`MAX_FLEET_PAGE`]) after `offset`, in
/// the order of `sort` (ties by name).
#[derive(Debug, Clone, Copy)]
pub struct FleetPage {
    pub offset: usize,
    pub limit: usize,
    pub sort: crate::store::FleetSort,
    pub order: crate::store::Order,
}

impl ReadOps<'_> {
    /// The agent's connector graph: what its manifest in force declares, and what it
    /// tried without declaring it (its drift alerts of the last 500), each operation
    /// marked gated or open by the policy in force.
    pub async fn graph(&self, agent: AgentId) -> Result<crate::registry::Graph, CoreError> {
        let e = self.engine;
        let a = self.agent(agent).await?;
        let current = e.manifest_in_force(&a).await?;
        let drift: Vec<(DriftSignal, i64)> = self
            .drift_alerts(&crate::store::DriftQuery {
                agent: Some(a.id),
                limit: 500,
                ..Default::default()
            })
            .await?
            .into_iter()
            .map(|d| (d.signal, d.occurrences))
            .collect();
        let mut graph = crate::registry::Graph::build(
            &a.name,
            current.as_ref().map(|v| (v.version, &v.manifest)),
            &drift,
            &e.catalog,
        );
        let org = self.org().await?;
        e.mark_gated(
            &org,
            &a,
            current.as_deref().map(|v| &v.manifest),
            &mut graph,
        )
        .await?;
        Ok(graph)
    }
}

/// What decommissioning an agent would end now: the confirmation names it.
#[derive(
    Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
pub struct AtStake {
    /// The prefixes of its keys that still work.
    pub keys: Vec<String>,
    pub grants: usize,
    pub pending_approvals: usize,
}

impl ReadOps<'_> {
    pub async fn at_stake(&self, agent: AgentId) -> Result<AtStake, CoreError> {
        let e = self.engine;
        let a = self.agent(agent).await?;
        let keys = e
            .store
            .list_agent_keys(a.org_id, a.id)
            .await?
            .into_iter()
            .filter(|k| k.revoked_ms.is_none())
            .map(|k| k.prefix)
            .collect();
        let grants = e.store.open_grants_of_agent(a.org_id, a.id).await?.len();
        let pending_approvals = e
            .store
            .list_approvals(a.org_id, Some("pending"))
            .await?
            .iter()
            .filter(|p| p.agent_id == a.id)
            .count();
        Ok(AtStake {
            keys,
            grants,
            pending_approvals,
        })
    }
}
