//! `POST /v1/sdk/execute` (ARCHITECTURE §4): authenticate, resolve, gate, evaluate,
//! record durably, route, decrypt, execute, record the result, answer. In that order,
//! with no path around any step.

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::Engine;
use super::auth::token_hash;
use crate::audit::{Actor, AuditRecord};
use crate::catalog::{Connector, Operation};
use crate::error::CoreError;
use crate::executor::ExecError;
use crate::ids::{ApprovalId, RecordId};
use crate::model::{Agent, AgentStatus, ApprovalRequest, ApprovalStatus, Instance, Org};
use crate::policy::{self, CallFacts, Decision, Escalation, PolicyInput, Verdict};
use crate::request::{ExecuteRequest, MAX_WAIT_SECONDS, check_params};
use crate::risk::{self, RiskBreakdown, RiskInputs};

/// How an execute call ended, when it did not end in an error.
#[derive(Debug, Clone)]
pub enum Executed {
    /// Permitted and run: 200 with the target's answer.
    Done {
        result: Value,
        audit_id: RecordId,
        result_audit_id: RecordId,
        verdict: Verdict,
        risk_score: u8,
    },
    /// Decided by a reviewer while the agent waited, or polled afterwards: the stored
    /// answer (the call's result, or its error) with its HTTP status.
    Stored { status: u16, body: Value },
    /// Escalated: 202, the agent waits for a reviewer.
    Pending {
        approval_id: ApprovalId,
        expires_at: String,
        audit_id: RecordId,
        risk_score: u8,
    },
}

impl Executed {
    pub fn http_status(&self) -> u16 {
        match self {
            Executed::Done { .. } => 200,
            Executed::Stored { status, .. } => *status,
            Executed::Pending { .. } => 202,
        }
    }

    pub fn to_json(&self) -> Value {
        match self {
            Executed::Done {
                result,
                audit_id,
                result_audit_id,
                verdict,
                risk_score,
            } => json!({
                "result": result, "audit_id": audit_id, "result_audit_id": result_audit_id,
                "verdict": verdict.as_str(), "risk_score": risk_score,
            }),
            Executed::Stored { body, .. } => body.clone(),
            Executed::Pending {
                approval_id,
                expires_at,
                audit_id,
                risk_score,
            } => json!({
                "approval_id": approval_id, "expires_at": expires_at, "audit_id": audit_id,
                "verdict": "ESCALATE", "risk_score": risk_score, "status": "pending",
            }),
        }
    }
}

/// An operation of `connector`; an unknown one is an error listing the valid ones.
pub(super) fn operation_of<'c>(
    connector: &'c Connector,
    op: &str,
) -> Result<&'c Operation, CoreError> {
    connector
        .operation(op)
        .ok_or_else(|| CoreError::InvalidOperation {
            message: format!("'{op}' is not an operation of {}", connector.name),
            valid: connector.operations.keys().cloned().collect(),
        })
}

/// Hash of params as approved: what is approved is what runs.
pub fn params_hash(params: &Value) -> String {
    let canonical = serde_json_canonicalizer::to_string(params).unwrap_or_default();
    hex::encode(Sha256::digest(canonical.as_bytes()))
}

fn agent_actor(a: &Agent) -> Actor {
    Actor::agent(a.id, &a.name)
}

impl Engine {
    /// Runs one execute call. `body` is the parsed request, or why it could not be parsed:
    /// the agent is authenticated first so a malformed call by a known agent is recorded.
    pub async fn execute(
        &self,
        bearer: Option<&str>,
        body: Result<ExecuteRequest, CoreError>,
    ) -> Result<Executed, CoreError> {
        // 1. Authenticate.
        let (agent, org) = self.authenticate_agent(bearer).await?;
        let req = match body {
            Ok(r) => r,
            Err(e) => return Err(self.reject(&agent, None, e).await),
        };
        // 2. Resolve the connector, the instance and the operation.
        let (connector, op, instance) = match self.resolve(&agent, &req).await {
            Ok(r) => r,
            Err(e) => return Err(self.reject(&agent, Some(&req), e).await),
        };
        let now = self.now_ms();
        let policy = self.active_policy(&org).await?;
        let window = self.calls.record(
            agent.id,
            now,
            &format!("{}.{}", connector.name, req.operation),
        );

        // 3. Gate, 4. evaluate.
        let (risk, decision) = if agent.status != AgentStatus::Active {
            let r = RiskBreakdown {
                score: 100,
                operation: 40,
                connector: 25,
                frequency: 15,
                target: 20,
                calls_last_60s: 0,
                declared_rate: agent.declared_rate,
            };
            let d = Decision {
                verdict: Verdict::Deny,
                policy_id: "gate:agent_status".into(),
                rule_id: None,
                grant_id: None,
                reason: format!("the agent is {}", agent.status.as_str()),
                escalation: Escalation::org_default(policy.doc.settings.approval_ttl_secs),
            };
            (r, d)
        } else {
            let risk = risk::score(RiskInputs {
                tier: op.risk,
                sensitivity: instance
                    .sensitivity
                    .unwrap_or_else(|| connector.sensitivity()),
                calls_last_60s: window.calls_last_60s,
                declared_rate: agent.declared_rate,
                environment: instance.environment,
            });
            let agent_id = agent.id.to_string();
            let input = PolicyInput {
                connector: &connector.name,
                operation: &req.operation,
                agent_id: &agent_id,
                agent_name: &agent.name,
                agent_labels: &agent.labels,
                tier: op.risk,
                risk,
                call: CallFacts {
                    params: &req.params,
                    instance: &instance.name,
                    environment: instance.environment,
                    session_context: &req.session_context,
                    session_actions: &window.prior_actions,
                },
                grant_id: None,
            };
            let mut decision = policy::evaluate(&policy.doc.settings, &policy.compiled, &input);
            // §5 step 4: only an escalation can be turned by a grant, so only it looks one up.
            if decision.verdict == Verdict::Escalate
                && let Some(g) = self
                    .covering_grant(
                        org.id,
                        agent.id,
                        (&connector.name, instance.id, &req.operation),
                        &req.params,
                        &decision.escalation,
                    )
                    .await?
            {
                let g = g.to_string();
                let with_grant = PolicyInput {
                    grant_id: Some(&g),
                    ..input
                };
                decision = policy::evaluate(&policy.doc.settings, &policy.compiled, &with_grant);
            }
            (risk, decision)
        };

        // 5. The intercept record, durable before anything else happens.
        let intercept = self
            .record(
                org.id,
                crate::audit::INTERCEPT,
                agent_actor(&agent),
                json!({
                    "agent_id": agent.id, "agent": agent.name, "agent_labels": agent.labels,
                    "connector": connector.name, "operation": req.operation, "tier": op.risk.as_str(),
                    "instance_id": instance.id, "instance": instance.name,
                    "environment": instance.environment.as_str(),
                    "method": op.method.as_str(), "params": req.params,
                    "session_context": req.session_context, "session_actions": window.prior_actions,
                    "risk": risk, "verdict": decision.verdict.as_str(),
                    "policy_version": policy.version, "policy_id": decision.policy_id,
                    "rule_id": decision.rule_id, "grant_id": decision.grant_id,
                    "reason": decision.reason,
                }),
            )
            .await?;

        // 6. Route.
        match decision.verdict {
            Verdict::Deny => Err(CoreError::PermissionDenied {
                message: format!("denied by policy: {}", decision.reason),
                audit_id: intercept.id.to_string(),
                risk_score: risk.score,
            }),
            Verdict::Escalate => {
                self.escalate(
                    &org, &agent, &instance, &req, &intercept, &risk, &decision, now,
                )
                .await
            }
            Verdict::Permit => {
                // 7–10.
                let (result, result_record) = self
                    .run_and_record(&agent, connector, op, &instance, &req, &intercept, None)
                    .await?;
                Ok(Executed::Done {
                    result,
                    audit_id: intercept.id,
                    result_audit_id: result_record.id,
                    verdict: Verdict::Permit,
                    risk_score: risk.score,
                })
            }
        }
    }

    pub(super) async fn authenticate_agent(
        &self,
        bearer: Option<&str>,
    ) -> Result<(Agent, Org), CoreError> {
        let Some(token) = bearer else {
            return Err(CoreError::Unauthenticated(
                "send the agent's API key as 'Authorization: Bearer <key>'".into(),
            ));
        };
        let Some((key, agent, org)) = self.store.agent_by_key_hash(&token_hash(token)).await?
        else {
            tracing::warn!("execute with an unknown agent key");
            return Err(CoreError::Unauthenticated(
                "the API key is not valid".into(),
            ));
        };
        let why = if key.revoked_ms.is_some() {
            Some("the API key was revoked")
        } else if agent.status == AgentStatus::Decommissioned {
            Some("the agent is decommissioned")
        } else {
            None
        };
        if let Some(why) = why {
            // Coalesced per key: a script retrying a dead key must not grow the chain
            // by one record per call.
            self.record_refusal(
                agent.org_id,
                "execute.unauthenticated",
                format!("execute.unauthenticated:{}", key.id),
                agent_actor(&agent),
                json!({"agent_id": agent.id, "key_id": key.id, "reason": why}),
            )
            .await?;
            return Err(CoreError::Unauthenticated(why.to_string()));
        }
        Ok((agent, org))
    }

    /// Records a call refused before evaluation, then hands back the error for the agent.
    async fn reject(&self, agent: &Agent, req: Option<&ExecuteRequest>, e: CoreError) -> CoreError {
        let fields = json!({
            "agent_id": agent.id, "agent": agent.name,
            "connector": req.map(|r| r.connector.as_str()), "operation": req.map(|r| r.operation.as_str()),
            "code": e.code(), "message": e.public_message(),
        });
        match self
            .record(agent.org_id, "execute.rejected", agent_actor(agent), fields)
            .await
        {
            Ok(_) => e,
            Err(audit) => audit,
        }
    }

    async fn resolve<'c>(
        &'c self,
        agent: &Agent,
        req: &ExecuteRequest,
    ) -> Result<(&'c Connector, &'c Operation, Instance), CoreError> {
        let connector = self.connector(&req.connector)?;
        let op = operation_of(connector, &req.operation)?;
        let instance = self
            .instance_for(agent.org_id, connector, req.instance.as_deref())
            .await?;
        check_params(&req.operation, op, &req.params)?;
        Ok((connector, op, instance))
    }

    /// A connector of the catalog; an unknown one is an error listing the valid ones.
    pub(super) fn connector(&self, name: &str) -> Result<&Connector, CoreError> {
        self.catalog
            .get(name)
            .ok_or_else(|| CoreError::InvalidOperation {
                message: format!("unknown connector '{name}'"),
                valid: self.catalog.names().map(String::from).collect(),
            })
    }

    /// The org's instance of `connector`: the one named, or the only one there is.
    pub(super) async fn instance_for(
        &self,
        org: crate::ids::OrgId,
        connector: &Connector,
        name: Option<&str>,
    ) -> Result<Instance, CoreError> {
        let instances = self.store.instances_of(org, &connector.name).await?;
        let names = || {
            instances
                .iter()
                .map(|i| i.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        match (name, instances.as_slice()) {
            (Some(n), _) => instances
                .iter()
                .find(|i| i.name == n)
                .cloned()
                .ok_or_else(|| {
                    CoreError::InvalidRequest(format!(
                        "no instance '{n}' of {} (configured: {})",
                        connector.name,
                        names()
                    ))
                }),
            (None, [one]) => Ok(one.clone()),
            (None, []) => Err(CoreError::InvalidRequest(format!(
                "{} is not configured in this org; an admin adds an instance first",
                connector.name
            ))),
            (None, _) => Err(CoreError::InvalidRequest(format!(
                "{} has several instances; name one in 'instance' ({})",
                connector.name,
                names()
            ))),
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn escalate(
        &self,
        org: &Org,
        agent: &Agent,
        instance: &Instance,
        req: &ExecuteRequest,
        intercept: &AuditRecord,
        risk: &RiskBreakdown,
        decision: &Decision,
        now: i64,
    ) -> Result<Executed, CoreError> {
        let params = Value::Object(req.params.clone());
        let approval = ApprovalRequest {
            id: ApprovalId::new(),
            org_id: org.id,
            agent_id: agent.id,
            instance_id: instance.id,
            connector: req.connector.clone(),
            operation: req.operation.clone(),
            params_hash: params_hash(&params),
            params,
            intercept_id: intercept.id,
            risk_score: risk.score,
            policy_id: decision.policy_id.clone(),
            status: ApprovalStatus::Pending,
            created_ms: now,
            expires_ms: now + i64::from(decision.escalation.ttl_secs) * 1000,
            requirements: decision.escalation.clone(),
            decided_ms: None,
            decided_by: vec![],
            comment: String::new(),
            outcome: None,
            result_audit_id: None,
            kind: "call".into(),
            heartbeat_ms: None,
        };
        self.store.create_approval(&approval).await?;
        self.announce_approval(approval.id);
        self.record(
            org.id,
            "approval.requested",
            agent_actor(agent),
            json!({
                "approval_id": approval.id, "intercept_id": intercept.id, "agent_id": agent.id,
                "connector": approval.connector, "operation": approval.operation,
                "params_hash": approval.params_hash, "expires_ms": approval.expires_ms,
                "requirements": approval.requirements,
            }),
        )
        .await?;
        // Wait for a decision a while (the agent may ask for less), then answer 202.
        let wait = req
            .wait_seconds
            .unwrap_or(MAX_WAIT_SECONDS)
            .min(MAX_WAIT_SECONDS);
        let a = self
            .await_final(
                org.id,
                approval.id,
                std::time::Duration::from_secs(u64::from(wait)),
            )
            .await?;
        super::approvals::outcome_of(&a)
    }

    /// Steps 7–8: decrypts the instance's credentials for this call only, sends it, and
    /// zeroizes them. The outer error is ARX's (vault, store); the inner, the target's.
    pub(super) async fn send_to_target(
        &self,
        connector: &Connector,
        op: &Operation,
        instance: &Instance,
        params: &serde_json::Map<String, Value>,
    ) -> Result<Result<crate::executor::TargetResponse, ExecError>, CoreError> {
        let sealed = match &instance.sealed_credentials {
            None if op.authenticated => {
                return Ok(Err(ExecError::Build(format!(
                    "instance '{}' has no credentials; an admin sets them first",
                    instance.name
                ))));
            }
            sealed => sealed.as_deref().unwrap_or(""),
        };
        let creds = if sealed.is_empty() {
            Default::default()
        } else {
            let wrapped = match self.vault.has_data_key(instance.org_id) {
                true => None,
                false => Some(self.store.wrapped_data_key(instance.org_id).await?),
            };
            self.vault
                .open_credentials(instance.org_id, wrapped.as_deref(), instance.id, sealed)?
        };
        let r = self
            .executor
            .run(connector, op, instance, sealed, &creds, params)
            .await;
        drop(creds); // zeroized here, before anything else happens
        Ok(r)
    }

    /// Steps 7–9: decrypt the credentials for this call only, run it, record the result.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn run_and_record(
        &self,
        agent: &Agent,
        connector: &Connector,
        op: &Operation,
        instance: &Instance,
        req: &ExecuteRequest,
        intercept: &AuditRecord,
        approval: Option<ApprovalId>,
    ) -> Result<(Value, AuditRecord), CoreError> {
        let outcome = self
            .send_to_target(connector, op, instance, &req.params)
            .await?;
        let (status, http_status, latency, body, error) = match &outcome {
            Ok(r) if (200..300).contains(&r.status) => (
                "ok",
                Some(r.status),
                Some(r.latency_ms),
                r.body.clone(),
                None,
            ),
            Ok(r) => (
                "target_error",
                Some(r.status),
                Some(r.latency_ms),
                r.body.clone(),
                None,
            ),
            Err(e) => ("failed", None, None, Value::Null, Some(e.to_string())),
        };
        let mut fields = json!({
            "intercept_id": intercept.id, "intercept_seq": intercept.seq,
            "agent_id": agent.id, "connector": connector.name, "operation": req.operation,
            "status": status, "http_status": http_status, "latency_ms": latency,
            "error": error, "approval_id": approval,
        });
        let mut draft = self.draft(
            intercept.org_id,
            "execute.result",
            agent_actor(agent),
            Value::Null,
        );
        // The body stays out of the chain (§7): the record proves it by hash, and keeps
        // only the fields the operation declares non-sensitive.
        if outcome.is_ok() {
            let Some(s) = super::responses::summarize(op, &body) else {
                // Cannot happen for parsed JSON; the call ran, so it is recorded anyway.
                if let Value::Object(m) = &mut fields {
                    m.insert("response_stored".into(), false.into());
                }
                draft.fields = fields;
                let record = self.audit.append_one(draft).await?;
                return Self::answer(outcome, record, intercept);
            };
            let stored = self
                .keep_response_body(intercept.org_id, draft.id, intercept.id, &s)
                .await;
            if let Value::Object(m) = &mut fields {
                m.insert("response_sha256".into(), s.sha256.into());
                m.insert("response_bytes".into(), s.bytes.into());
                m.insert("response_projection".into(), s.projection);
                m.insert("response_stored".into(), stored.into());
            }
        }
        draft.fields = fields;
        let record = self.audit.append_one(draft).await?;
        Self::answer(outcome, record, intercept)
    }

    /// The agent's answer to a call that ran: the target's body, or its error.
    fn answer(
        outcome: Result<crate::executor::TargetResponse, ExecError>,
        record: AuditRecord,
        intercept: &AuditRecord,
    ) -> Result<(Value, AuditRecord), CoreError> {
        match outcome {
            Ok(r) if (200..300).contains(&r.status) => Ok((r.body, record)),
            Ok(r) => Err(CoreError::TargetError {
                status: r.status,
                body: r.body,
                audit_id: intercept.id.to_string(),
            }),
            Err(e) => Err(CoreError::TargetUnreachable {
                message: e.to_string(),
                audit_id: intercept.id.to_string(),
            }),
        }
    }
}
