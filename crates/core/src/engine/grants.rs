//! Time-bound grants (docs/architecture.md §6): an agent asks for temporary scope (operations of
//! one connector, optionally on one resource, for a TTL capped by the org); a reviewer
//! approves the exact scope; while active it turns ESCALATE into PERMIT for the calls it
//! covers; at expiry it reverts by itself; suspension, decommissioning or an admin's
//! revoke end it at once. Every change is a compare-and-set and an audit record.

use std::time::Duration;

use serde::Deserialize;
use serde_json::{Value, json};

use super::Engine;
use super::execute::{Executed, operation_of, params_hash};
use crate::audit::event::{self as ev, GrantChanged};
use crate::audit::{Actor, AuditEvent, AuditRecord};
use crate::error::CoreError;
use crate::ids::{AgentId, ApprovalId, GrantId, InstanceId, OrgId};
use crate::model::{
    ApprovalChange, ApprovalKind, ApprovalRequest, ApprovalStatus, CallOutcome, Grant, GrantChange,
    GrantResource, GrantStatus,
};
use crate::policy::{self, CallFacts, Escalation, NotGrantable, PolicyInput, duration};
use crate::request::MAX_WAIT_SECONDS;
use crate::risk::{self, RiskInputs};

/// The body of `POST /v1/sdk/grants`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"connector": "crowdstrike", "operations": ["detections:write"],
    "ttl": "1h", "reason": "contain the hosts of incident 4411"}))]
pub struct GrantRequest {
    pub connector: String,
    pub operations: Vec<String>,
    /// How long the grant lasts: `15m`, `1h`, or seconds.
    #[serde(with = "duration::option")]
    #[schema(value_type = Option<String>, example = "1h")]
    pub ttl: Option<u32>,
    pub reason: String,
    #[serde(default)]
    pub resource: Option<GrantResource>,
    #[serde(default)]
    pub instance: Option<String>,
    #[serde(default)]
    #[schema(maximum = 25)]
    pub wait_seconds: Option<u32>,
}

impl Engine {
    /// `POST /v1/sdk/grants`: records the request and asks a reviewer; answers like an
    /// escalated call (the grant once approved, or 202 while pending).
    pub async fn request_grant(
        &self,
        bearer: Option<&str>,
        body: Result<GrantRequest, CoreError>,
    ) -> Result<Executed, CoreError> {
        let (agent, org) = self.authenticate_agent(bearer).await?;
        let req = body?;
        Self::refuse_unless_acting(&agent, "a suspended agent cannot ask for a grant")?;
        let bad = |m: String| CoreError::InvalidRequest(m);
        let connector = self.connector(&req.connector)?;
        if req.operations.is_empty() {
            return Err(bad("name the operations the grant should cover".into()));
        }
        for op in &req.operations {
            let o = operation_of(connector, op)?;
            if let Some(r) = &req.resource
                && !o.params.contains_key(&r.param)
            {
                return Err(bad(format!(
                    "resource.param '{}' is not a param of {op}",
                    r.param
                )));
            }
        }
        if req.reason.trim().is_empty() {
            return Err(bad("say why the agent needs this scope (reason)".into()));
        }
        let policy = self.active_policy(&org).await?;
        let max = policy.doc.settings.max_grant_ttl_secs;
        let ttl = req
            .ttl
            .ok_or_else(|| bad("give a ttl, e.g. \"15m\"".into()))?;
        if ttl == 0 || ttl > max {
            return Err(bad(format!(
                "ttl must be between 1s and the org's maximum of {}",
                duration::format(max)
            )));
        }
        let instance = &self
            .instance_for(org.id, connector, req.instance.as_deref())
            .await?;

        // What the covered calls would score on this instance, and what approving them
        // needs: at least what every rule they could escalate under asks for.
        let sensitivity = instance
            .sensitivity
            .unwrap_or_else(|| connector.sensitivity());
        let agent_id = agent.id.to_string();
        let mut risks = serde_json::Map::new();
        let mut need: Option<Escalation> = None;
        for op in &req.operations {
            let Some(o) = connector.operation(op) else {
                continue;
            };
            let at = |calls| {
                risk::score(RiskInputs {
                    tier: o.risk,
                    sensitivity,
                    calls_last_60s: calls,
                    declared_rate: agent.declared_rate,
                    environment: instance.environment,
                })
            };
            let (low, high) = (at(0), at(u32::MAX));
            risks.insert(op.clone(), json!(low.score));
            let input = PolicyInput {
                connector: &connector.name,
                operation: op,
                agent_id: &agent_id,
                agent_name: &agent.name,
                agent_labels: &agent.labels,
                tier: o.risk,
                risk: low,
                call: CallFacts {
                    instance: &instance.name,
                    environment: instance.environment,
                    ..CallFacts::default()
                },
                grant_id: None,
            };
            match policy::grant_requirements(
                &policy.doc.settings,
                &policy.compiled,
                &input,
                high.score,
            ) {
                Ok(Some(e)) => {
                    need = Some(match need {
                        Some(n) => n.strictest(&e),
                        None => e,
                    })
                }
                Ok(None) => {}
                Err(NotGrantable { rule }) => {
                    let why = format!(
                        "rule {rule} says its escalations of {} cannot be granted; ask for each call instead",
                        op
                    );
                    self.record(
                        org.id,
                        Actor::agent(agent.id, &agent.name),
                        ev::GrantRefused {
                            agent_id: agent.id,
                            connector: connector.name.clone(),
                            instance: instance.name.clone(),
                            operations: req.operations.clone(),
                            rule_id: rule,
                            reason: why.clone(),
                        },
                    )
                    .await?;
                    return Err(CoreError::Forbidden(why));
                }
            }
        }
        let settings = &policy.doc.settings;
        let requirements = Escalation {
            show_diff: false,
            ..need.unwrap_or_else(|| Escalation::org_default(settings.approval_ttl_secs))
        };

        let now = self.now_ms();
        let approval_id = ApprovalId::new();
        let grant = Grant {
            id: GrantId::new(),
            org_id: org.id,
            agent_id: agent.id,
            connector: connector.name.clone(),
            instance_id: Some(instance.id),
            operations: req.operations.clone(),
            resource: req.resource.clone(),
            reason: req.reason.trim().to_string(),
            ttl_secs: ttl,
            requirements: Some(requirements.clone()),
            approval_id,
            status: GrantStatus::Requested,
            created_ms: now,
            starts_ms: None,
            expires_ms: None,
            ended_ms: None,
            ended_reason: String::new(),
        };
        let scope = json!({
            "grant_id": grant.id, "operations": grant.operations, "resource": grant.resource,
            "instance": instance.name, "environment": instance.environment.as_str(),
            "risk": risks, "ttl": duration::format(ttl), "reason": grant.reason,
        });
        let requested: AuditRecord = self
            .record(
                org.id,
                Actor::agent(agent.id, &agent.name),
                ev::GrantRequested {
                    grant_id: grant.id,
                    approval_id,
                    agent_id: agent.id,
                    connector: grant.connector.clone(),
                    instance_id: Some(instance.id),
                    scope: scope.clone(),
                    requirements: Some(requirements.clone()),
                },
            )
            .await?;
        self.store.create_grant(&grant).await?;
        let risk_score = risks.values().filter_map(Value::as_u64).max().unwrap_or(0);
        let approval = ApprovalRequest {
            id: approval_id,
            org_id: org.id,
            agent_id: agent.id,
            instance_id: Some(instance.id),
            connector: connector.name.clone(),
            operation: "grant".into(),
            params_hash: params_hash(&scope),
            params: scope,
            intercept_id: requested.id,
            risk_score: u8::try_from(risk_score).unwrap_or(100),
            policy_id: "grant".into(),
            status: ApprovalStatus::Pending,
            created_ms: now,
            expires_ms: now + i64::from(requirements.ttl_secs) * 1000,
            requirements,
            decided_ms: None,
            decided_by: vec![],
            comment: String::new(),
            outcome: None,
            result_audit_id: None,
            kind: ApprovalKind::Grant,
            heartbeat_ms: None,
        };
        let wait = req
            .wait_seconds
            .unwrap_or(MAX_WAIT_SECONDS)
            .min(MAX_WAIT_SECONDS);
        self.submit_request(&approval, Duration::from_secs(u64::from(wait)))
            .await
    }

    async fn grant_of_approval(&self, a: &ApprovalRequest) -> Result<Grant, CoreError> {
        let id: GrantId = a.params["grant_id"]
            .as_str()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| CoreError::Internal("grant request without grant_id".into()))?;
        self.store
            .grant(a.org_id, id)
            .await?
            .ok_or_else(|| CoreError::Internal("the requested grant is gone".into()))
    }

    /// Moves a grant by compare-and-set and records it, with what `note` adds to the
    /// record; `false` if another change won.
    async fn change_grant(
        &self,
        g: &Grant,
        change: GrantChange,
        actor: Actor,
        note: impl FnOnce(&mut GrantChanged),
    ) -> Result<bool, CoreError> {
        let mut event = GrantChanged {
            to: Some(change.to),
            grant_id: g.id,
            agent_id: g.agent_id,
            connector: g.connector.clone(),
            operations: g.operations.clone(),
            approval_id: None,
            expires_at: None,
            reason: None,
        };
        note(&mut event);
        if !self.store.change_grant(g.org_id, g.id, &change).await? {
            return Ok(false);
        }
        self.record(g.org_id, actor, AuditEvent::GrantChanged(event))
            .await?;
        Ok(true)
    }

    /// An approved grant request: the grant becomes active for its TTL from now.
    pub(super) async fn activate_grant(
        &self,
        a: ApprovalRequest,
        actor: Actor,
    ) -> Result<ApprovalRequest, CoreError> {
        let g = self.grant_of_approval(&a).await?;
        let agent = self.store.agent(a.org_id, a.agent_id).await?;
        if agent.is_none_or(|ag| !ag.status.may_act()) {
            let why = "the agent was suspended or decommissioned before the grant was approved";
            self.end_grant(&g, why, actor.clone()).await?;
            let mut change =
                ApprovalChange::new(&[ApprovalStatus::Approved], ApprovalStatus::Cancelled);
            change.comment = Some(why.into());
            return self.finish_approval(&a, change, actor).await;
        }
        let now = self.now_ms();
        let expires = now + i64::from(g.ttl_secs) * 1000;
        let activated = self
            .change_grant(
                &g,
                GrantChange {
                    from: vec![GrantStatus::Requested],
                    to: GrantStatus::Active,
                    starts_ms: Some(now),
                    expires_ms: Some(expires),
                    ended_ms: None,
                    ended_reason: None,
                },
                actor.clone(),
                |n| {
                    n.expires_at = Some(crate::audit::format_ts(expires));
                    n.approval_id = Some(a.id);
                },
            )
            .await?;
        let mut change = ApprovalChange::new(&[ApprovalStatus::Approved], ApprovalStatus::Executed);
        if activated {
            change.outcome = Some(CallOutcome::GrantActive {
                grant_id: g.id,
                connector: g.connector.clone(),
                operations: g.operations.clone(),
                resource: g.resource.clone(),
                expires_at: crate::audit::format_ts(expires),
            });
        } else {
            change.to = ApprovalStatus::Cancelled;
            change.comment = Some("the grant was revoked before it was approved".into());
        }
        self.finish_approval(&a, change, actor).await
    }

    /// A grant request that was denied, expired or cancelled: the grant never starts.
    pub(super) async fn deny_grant(&self, a: &ApprovalRequest, why: &str) -> Result<(), CoreError> {
        let g = self.grant_of_approval(a).await?;
        self.change_grant(
            &g,
            GrantChange {
                from: vec![GrantStatus::Requested],
                to: GrantStatus::Denied,
                starts_ms: None,
                expires_ms: None,
                ended_ms: Some(self.now_ms()),
                ended_reason: Some(why.into()),
            },
            Actor::system(),
            |n| {
                n.reason = Some(why.into());
                n.approval_id = Some(a.id);
            },
        )
        .await?;
        Ok(())
    }

    /// Ends active grants whose time is up; returns how many.
    pub(super) async fn expire_grants(&self) -> Result<usize, CoreError> {
        let now = self.now_ms();
        let mut n = 0;
        for g in self.store.grants_due(GrantStatus::Active, now).await? {
            let change = GrantChange {
                from: vec![GrantStatus::Active],
                to: GrantStatus::Expired,
                starts_ms: None,
                expires_ms: None,
                ended_ms: Some(now),
                ended_reason: Some("its time was up".into()),
            };
            if self
                .change_grant(&g, change, Actor::system(), |n| {
                    n.reason = Some("its time was up".into())
                })
                .await?
            {
                n += 1;
            }
        }
        Ok(n)
    }

    /// Ends every requested or active grant of an agent at once (suspension, decommission).
    pub(super) async fn end_agent_grants(
        &self,
        org: OrgId,
        agent: AgentId,
        why: &str,
        actor: Actor,
    ) -> Result<usize, CoreError> {
        let mut n = 0;
        for g in self.store.open_grants_of_agent(org, agent).await? {
            if self.end_grant(&g, why, actor.clone()).await? {
                n += 1;
            }
        }
        Ok(n)
    }

    /// Revokes a requested or active grant; `false` if it had already ended.
    async fn end_grant(&self, g: &Grant, why: &str, actor: Actor) -> Result<bool, CoreError> {
        let change = GrantChange {
            from: vec![GrantStatus::Requested, GrantStatus::Active],
            to: GrantStatus::Revoked,
            starts_ms: None,
            expires_ms: None,
            ended_ms: Some(self.now_ms()),
            ended_reason: Some(why.into()),
        };
        self.change_grant(g, change, actor, |n| n.reason = Some(why.into()))
            .await
    }

    /// The id of an active grant of the agent covering this call on this instance, if
    /// any, among those approved under at least what the escalation `need`s: a grant
    /// approved by one reviewer never stands in for a rule that asks for two.
    pub(super) async fn covering_grant(
        &self,
        org: OrgId,
        agent: AgentId,
        call: (&str, InstanceId, &str),
        params: &serde_json::Map<String, Value>,
        need: &Escalation,
    ) -> Result<Option<GrantId>, CoreError> {
        let (connector, instance, operation) = call;
        let now = self.now_ms();
        Ok(self
            .store
            .active_grants(org, agent, connector)
            .await?
            .into_iter()
            .find(|g| {
                g.covers(connector, instance, operation, params, now)
                    && g.requirements.as_ref().is_some_and(|r| r.at_least(need))
            })
            .map(|g| g.id))
    }
}

impl super::ReadOps<'_> {
    pub async fn grants(&self) -> Result<Vec<Grant>, CoreError> {
        self.engine.store.list_grants(self.who.org_id).await
    }
}

impl super::AdminOps<'_> {
    /// Ends a grant now (requested or active).
    pub async fn revoke_grant(&self, id: GrantId, reason: &str) -> Result<Grant, CoreError> {
        let e = self.engine;
        let g = e.grant_in(self.who.org_id, id).await?;
        let why = if reason.trim().is_empty() {
            format!("revoked by {}", self.who.email)
        } else {
            reason.trim().to_string()
        };
        let actor = Actor::user(self.who.user_id, &self.who.email);
        if !e.end_grant(&g, &why, actor).await? {
            return Err(CoreError::Conflict(format!(
                "the grant is already {}",
                g.status.as_str()
            )));
        }
        e.grant_in(self.who.org_id, id).await
    }
}

impl Engine {
    /// The org's grant `id`, or 404.
    async fn grant_in(&self, org: OrgId, id: GrantId) -> Result<Grant, CoreError> {
        self.store
            .grant(org, id)
            .await?
            .ok_or_else(|| CoreError::NotFound("no such grant".into()))
    }
}
