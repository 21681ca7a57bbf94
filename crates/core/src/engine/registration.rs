//! Self-registration (docs/architecture.md §8): an agent submits its manifest with its own
//! key at `POST /v1/agents/register`. A manifest that declares nothing beyond the version
//! in force (narrower, or equal in scope) becomes the next version at once; one that
//! widens scope (a connector, operation, environment or data class more, or a higher
//! rate) waits for a reviewer as an approval request of kind `manifest`, in the queue
//! calls wait in, showing the diff against the version in force. Only its approval
//! publishes it, and what is published is what was approved: the manifest is in the
//! request's params, bound by their hash, and a version published in between makes the
//! request void rather than silently undoing that version.

use std::time::Duration;

use serde::Deserialize;
use serde_json::json;

use super::Engine;
use super::execute::{Executed, params_hash};
use super::registry::NewVersion;
use crate::audit::event as ev;
use crate::audit::{Actor, AuditRecord};
use crate::error::CoreError;
use crate::model::registry::ManifestVersion;
use crate::model::{
    Agent, ApprovalChange, ApprovalKind, ApprovalRequest, ApprovalStatus, CallOutcome, Environment,
};
use crate::policy::Escalation;
use crate::registry::{Manifest, ManifestDiff};
use crate::request::MAX_WAIT_SECONDS;
use crate::risk::{self, RiskInputs};

/// The body of `POST /v1/agents/register`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "manifest": {"connectors": {"okta": ["users:read", "groups:read"]}, "rate_per_minute": 30,
        "environments": ["prod"], "data_classes": ["identity", "pii"],
        "purpose": "Enrich alerts with the user's groups", "model": "claude-sonnet-4"},
    "reason": "release 2.3 reads group memberships",
}))]
pub struct Registration {
    pub manifest: Manifest,
    /// Why the manifest changes (shown to the reviewer, kept in the audit trail).
    #[schema(min_length = 1, max_length = 1000)]
    pub reason: String,
    /// How long to wait for a reviewer when the manifest widens scope (at most 25 s;
    /// then `202` and the agent polls `GET /v1/sdk/approvals/{id}`).
    #[serde(default)]
    #[schema(maximum = 25)]
    pub wait_seconds: Option<u32>,
}

/// The connector and operation a manifest request stands under in lists and notices.
pub const MANIFEST_CONNECTOR: &str = "registry";
pub const MANIFEST_OPERATION: &str = "manifest";

impl Engine {
    /// `POST /v1/agents/register`: publishes a manifest that does not widen the agent's
    /// scope at once, and asks a reviewer for one that does; answers like a grant request
    /// (the version once published, or 202 while a reviewer decides).
    pub async fn register_manifest(
        &self,
        bearer: Option<&str>,
        body: Result<Registration, CoreError>,
    ) -> Result<Executed, CoreError> {
        let (agent, org) = self.authenticate_agent(bearer).await?;
        let req = body?;
        Self::refuse_unless_acting(
            &agent,
            "an admin reactivates it before it can register a manifest",
        )?;
        let reason = super::registry::checked_reason(&req.reason)?;
        req.manifest.check_catalog(&self.catalog)?;
        let proposed = req.manifest.canonical();
        let hash = proposed.hash()?;
        let current = self.store.current_manifest(org.id, agent.id).await?;
        if let Some(c) = current.as_ref().filter(|c| c.hash == hash) {
            return Ok(published(c, None, true));
        }
        let base = current.as_ref().map(|c| &c.manifest);
        let widens = proposed.widens(base.unwrap_or(&Manifest::empty()));
        if widens.is_empty() {
            let v = self
                .add_manifest_version(
                    &agent,
                    NewVersion {
                        manifest: proposed,
                        reason: &reason,
                        by: Actor::agent(agent.id, &agent.name),
                        generated: false,
                        rollback_of: None,
                        expected: None,
                        approval: None,
                    },
                )
                .await?;
            return Ok(published(&v, None, false));
        }

        // Against nothing (no version yet) every line is an addition, the rate too.
        let nothing = Manifest {
            rate_per_minute: 0,
            ..Manifest::empty()
        };
        let diff = ManifestDiff::between(base.unwrap_or(&nothing), &proposed);
        let params = json!({
            "manifest": proposed,
            "manifest_sha256": hash,
            "base_version": current.as_ref().map(|c| c.version),
            "widens": widens,
            "diff": diff,
            "changes": diff.summary(),
            "reason": reason,
        });
        let hash_of_params = params_hash(&params);
        let wait = Duration::from_secs(u64::from(
            req.wait_seconds
                .unwrap_or(MAX_WAIT_SECONDS)
                .min(MAX_WAIT_SECONDS),
        ));
        // The same registration again (an agent restarting) is the request that waits.
        let pending = self.pending_manifest_requests(&agent).await?;
        if let Some(same) = pending.iter().find(|a| a.params_hash == hash_of_params) {
            let a = self.await_final(org.id, same.id, wait).await?;
            return super::approvals::outcome_of(&a);
        }
        for older in pending {
            self.supersede(&older).await?;
        }

        let policy = self.active_policy(&org).await?;
        let requirements = Escalation {
            show_diff: false,
            ..Escalation::org_default(policy.doc.settings.approval_ttl_secs)
        };
        let risk_score = self.widened_risk(&agent, base, &proposed);
        let now = self.now_ms();
        let approval_id = crate::ids::ApprovalId::new();
        let requested: AuditRecord = self
            .record(
                org.id,
                Actor::agent(agent.id, &agent.name),
                ev::ManifestRequested {
                    approval_id,
                    agent_id: agent.id,
                    agent: agent.name.clone(),
                    base_version: current.as_ref().map(|c| c.version),
                    manifest_sha256: hash,
                    widens,
                    changes: diff.summary(),
                    reason,
                },
            )
            .await?;
        let approval = ApprovalRequest {
            id: approval_id,
            org_id: org.id,
            agent_id: agent.id,
            instance_id: None,
            connector: MANIFEST_CONNECTOR.into(),
            operation: MANIFEST_OPERATION.into(),
            params,
            params_hash: hash_of_params,
            intercept_id: requested.id,
            risk_score,
            policy_id: "manifest".into(),
            status: ApprovalStatus::Pending,
            created_ms: now,
            expires_ms: now + i64::from(requirements.ttl_secs) * 1000,
            requirements,
            decided_ms: None,
            decided_by: vec![],
            comment: String::new(),
            outcome: None,
            result_audit_id: None,
            kind: ApprovalKind::Manifest,
            heartbeat_ms: None,
        };
        self.submit_request(&approval, wait).await
    }

    async fn pending_manifest_requests(
        &self,
        agent: &Agent,
    ) -> Result<Vec<ApprovalRequest>, CoreError> {
        let pending = self
            .store
            .list_approvals(agent.org_id, Some(ApprovalStatus::Pending.as_str()))
            .await?;
        Ok(pending
            .into_iter()
            .filter(|a| a.agent_id == agent.id && a.kind == ApprovalKind::Manifest)
            .collect())
    }

    /// Cancels a pending manifest request the agent replaced with a newer registration,
    /// so a reviewer never approves a manifest the agent no longer asks for.
    async fn supersede(&self, older: &ApprovalRequest) -> Result<(), CoreError> {
        let mut change = ApprovalChange::new(&[ApprovalStatus::Pending], ApprovalStatus::Cancelled);
        change.decided_ms = Some(self.now_ms());
        change.comment = Some("superseded: the agent registered another manifest".into());
        self.finish_approval(older, change, Actor::system()).await?;
        Ok(())
    }

    /// The highest score a call the proposed manifest newly allows could have (at no
    /// excess rate): what the reviewer weighs, on the request's risk scale.
    fn widened_risk(&self, agent: &Agent, current: Option<&Manifest>, proposed: &Manifest) -> u8 {
        let environment = [Environment::Prod, Environment::Staging, Environment::Dev]
            .into_iter()
            .find(|e| proposed.declares_environment(*e) || proposed.environments.is_empty())
            .unwrap_or(Environment::Unknown);
        let mut highest = 0;
        for connector in self.catalog.iter() {
            for (id, op) in &connector.operations {
                let new = proposed.allows(&connector.name, id)
                    && current.is_none_or(|c| !c.allows(&connector.name, id));
                if new {
                    let r = risk::score(RiskInputs {
                        tier: op.risk,
                        sensitivity: connector.sensitivity(),
                        calls_last_60s: 0,
                        declared_rate: agent.declared_rate,
                        environment,
                    });
                    highest = highest.max(r.score);
                }
            }
        }
        highest
    }

    /// An approved manifest request: the manifest it carries becomes the agent's next
    /// version, unless the agent may no longer act or its manifest changed since.
    pub(super) async fn publish_registered(
        &self,
        a: ApprovalRequest,
        actor: Actor,
    ) -> Result<ApprovalRequest, CoreError> {
        let fail = |comment: String| {
            let mut change =
                ApprovalChange::new(&[ApprovalStatus::Approved], ApprovalStatus::Cancelled);
            change.comment = Some(comment);
            change
        };
        let agent = self.store.agent(a.org_id, a.agent_id).await?;
        let Some(agent) = agent.filter(|g| g.status.may_act()) else {
            let why = "the agent was suspended or decommissioned before the manifest was approved";
            return self.finish_approval(&a, fail(why.into()), actor).await;
        };
        let carried = (params_hash(&a.params) == a.params_hash)
            .then(|| serde_json::from_value::<Manifest>(a.params["manifest"].clone()).ok())
            .flatten()
            .filter(|m| {
                m.hash()
                    .ok()
                    .as_ref()
                    .and_then(|h| a.params["manifest_sha256"].as_str().map(|s| s == h))
                    == Some(true)
            });
        let Some(manifest) = carried else {
            let mut change =
                ApprovalChange::new(&[ApprovalStatus::Approved], ApprovalStatus::Failed);
            change.outcome = Some(CallOutcome::from_error(&CoreError::Internal(String::new())));
            change.comment = Some("the stored manifest does not match its approved hash".into());
            return self.finish_approval(&a, change, actor).await;
        };
        let base = a.params["base_version"].as_i64();
        let now = self.store.current_manifest(a.org_id, a.agent_id).await?;
        if now.as_ref().map(|c| c.version) != base {
            let why = format!(
                "the agent's manifest changed (now version {}) after it registered this one; it must register again so a reviewer sees the diff against the version in force",
                now.map_or(0, |c| c.version)
            );
            return self.finish_approval(&a, fail(why), actor).await;
        }
        let reason = a.params["reason"].as_str().unwrap_or_default().to_string();
        let published = self
            .add_manifest_version(
                &agent,
                NewVersion {
                    manifest,
                    reason: &reason,
                    by: actor.clone(),
                    generated: false,
                    rollback_of: None,
                    expected: Some(base.unwrap_or(0) + 1),
                    approval: Some(a.id),
                },
            )
            .await;
        let mut change = ApprovalChange::new(&[ApprovalStatus::Approved], ApprovalStatus::Executed);
        match published {
            Ok(v) => {
                change.outcome = Some(CallOutcome::ManifestPublished {
                    version: v.version,
                    manifest_sha256: v.hash,
                })
            }
            Err(e) => {
                change.to = ApprovalStatus::Failed;
                change.outcome = Some(CallOutcome::from_error(&e));
            }
        }
        self.finish_approval(&a, change, actor).await
    }
}

/// The answer for a manifest in force: just published, or the one already in force.
fn published(
    v: &ManifestVersion,
    approval: Option<crate::ids::ApprovalId>,
    unchanged: bool,
) -> Executed {
    Executed::Registered {
        approval_id: approval,
        version: v.version,
        manifest_sha256: v.hash.clone(),
        unchanged,
    }
}
