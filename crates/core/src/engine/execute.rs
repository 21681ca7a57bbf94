//! `POST /v1/sdk/execute` (docs/architecture.md §4): authenticate, resolve, gate, evaluate,
//! record durably, route, decrypt, execute, record the result, answer. In that order,
//! with no path around any step.

use std::sync::Arc;
use std::time::Instant;

use serde_json::Value;
use sha2::{Digest, Sha256};

use super::Engine;
use super::identity::accounts::token_hash;
use super::registry::CheckedCall;
use crate::audit::event::{self as ev, Intercept};
use crate::audit::{Actor, AuditRecord};
use crate::catalog::{Connector, Operation};
use crate::error::CoreError;
use crate::executor::ExecError;
use crate::ids::{ApprovalId, GrantId, RecordId};
use crate::model::{
    Agent, AgentStatus, ApprovalKind, ApprovalRequest, ApprovalStatus, GrantResource, Instance, Org,
};
use crate::policy::{self, Decision, Verdict};
use crate::request::{ExecuteRequest, MAX_WAIT_SECONDS, check_params};
use crate::risk::{self, RiskBreakdown, RiskInputs, WindowFacts};
use crate::stages::{self, Stage, timed};
use crate::store::KeyContext;
use crate::vault::SecretsOf;

/// How an execute call (or an agent's poll of its request) ended, when not in an error.
/// The server turns it into the HTTP answer.
#[derive(Debug, Clone)]
pub enum Executed {
    /// Permitted, or approved, and run: the target's answer.
    Ran {
        result: Value,
        audit_id: RecordId,
        result_audit_id: RecordId,
        verdict: Verdict,
        risk_score: u8,
        /// The request a reviewer approved, when the call was escalated.
        approval_id: Option<ApprovalId>,
    },
    /// A grant request was approved: the grant is active.
    Granted {
        approval_id: ApprovalId,
        grant_id: GrantId,
        connector: String,
        operations: Vec<String>,
        resource: Option<GrantResource>,
        expires_at: String,
    },
    /// A registered manifest is the agent's version in force: published at once, by
    /// the approval of `approval_id`, or already in force (`unchanged`).
    Registered {
        approval_id: Option<ApprovalId>,
        version: i64,
        manifest_sha256: String,
        unchanged: bool,
    },
    /// Escalated: the agent waits for a reviewer.
    Pending {
        approval_id: ApprovalId,
        expires_at: String,
        audit_id: RecordId,
        risk_score: u8,
    },
}

/// One governed call on its way through the pipeline: who, against what, and the facts
/// and decision its intercept record holds.
pub(super) struct Call<'c> {
    pub agent: Agent,
    pub connector: &'c Connector,
    pub op: &'c Operation,
    pub instance: Instance,
    pub intercept: Intercept,
}

impl Call<'_> {
    fn actor(&self) -> Actor {
        agent_actor(&self.agent)
    }
}

/// How one attempt at an execute call ended.
enum Attempt {
    Done(Executed),
    /// It was decided on rows of a configuration that has changed since (nothing was
    /// recorded or sent): it is decided again, on fresh rows.
    Again(ExecuteRequest),
}

/// Attempts at a call before one whose configuration keeps changing under it is
/// answered [`CoreError::StaleConfiguration`]; the first may use rows kept in memory.
const ATTEMPTS: usize = 3;

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

/// Of the org's `instances` of `connector`, the one named, or the only one there is.
fn pick_instance(
    instances: &[Instance],
    connector: &Connector,
    name: Option<&str>,
) -> Result<Instance, CoreError> {
    let names = || {
        instances
            .iter()
            .map(|i| i.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    match (name, instances) {
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
    /// A database out of reach at any step fails the call closed: nothing is forwarded
    /// that is not on the record, and the agent is told the audit trail is unavailable.
    pub async fn execute(
        &self,
        bearer: Option<&str>,
        body: Result<ExecuteRequest, CoreError>,
    ) -> Result<Executed, CoreError> {
        let mut body = body;
        // The call is counted in the agent's window once, whatever the attempts.
        let mut counted = None;
        for attempt in 0..ATTEMPTS {
            match self
                .governed(bearer, body, attempt == 0, &mut counted)
                .await
            {
                Ok(Attempt::Done(done)) => return Ok(done),
                Ok(Attempt::Again(req)) => body = Ok(req),
                Err(CoreError::DatabaseUnavailable(why)) => {
                    tracing::error!(%why, "execute: the database is out of reach");
                    return Err(CoreError::AuditUnavailable);
                }
                Err(e) => return Err(e),
            }
        }
        Err(CoreError::StaleConfiguration)
    }

    /// One attempt at a call; `cached`: on the rows kept in memory (checked at the
    /// intercept record), else on rows read now. `counted`: what the agent's call window
    /// said when an earlier attempt counted this call (it is counted once).
    async fn governed(
        &self,
        bearer: Option<&str>,
        body: Result<ExecuteRequest, CoreError>,
        cached: bool,
        counted: &mut Option<Option<WindowFacts>>,
    ) -> Result<Attempt, CoreError> {
        // 1. Authenticate.
        let caller = timed(Stage::Authenticate, self.authenticate(bearer, cached)).await?;
        let (agent, org, epoch) = (caller.agent.clone(), caller.org.clone(), caller.epoch);
        let req = match body {
            Ok(r) => r,
            // Recorded against the agent as it is now (a key revoked meanwhile says so).
            Err(e) if cached => {
                let now = self.authenticate(bearer, false).await?;
                return Err(self.reject(&now.agent, None, e).await);
            }
            Err(e) => return Err(self.reject(&agent, None, e).await),
        };
        // 2. Resolve the connector, the instance and the operation.
        let resolved = timed(Stage::Resolve, self.resolve(&agent, &req, epoch, cached)).await;
        let (connector, op, instance) = match resolved {
            Ok(r) => r,
            Err(CoreError::StaleConfiguration) => {
                self.contexts.forget(org.id, epoch);
                return Ok(Attempt::Again(req));
            }
            Err(e @ CoreError::DatabaseUnavailable(_)) => return Err(e),
            // A refusal decided on rows kept in memory is decided again on fresh ones.
            Err(_) if cached => return Ok(Attempt::Again(req)),
            Err(e) => return Err(self.reject(&agent, Some(&req), e).await),
        };
        let deciding = Instant::now();
        let now = self.now_ms();
        let policy = self.active_policy(&org).await?;
        // The agent's calls in the last minute; `None` when the shared window is out of
        // reach: the score then fails safe (frequency at its maximum, recorded as
        // unknown) and a throttled agent is refused.
        let window = match counted.take() {
            Some(w) => w,
            None => self
                .calls
                .record(agent.id, now, &format!("{}.{}", connector.name, req.operation))
                .await
                .inspect_err(|why| {
                    tracing::warn!(agent = %agent.id, %why, "the shared call window is out of reach; frequency taken at its maximum");
                })
                .ok(),
        };
        let calls_last_60s = window.as_ref().map_or(0, |w| w.calls_last_60s);
        let settings = &policy.doc.settings;
        // 3. Gate: a call by an agent that is suspended (or worse) is denied at maximum
        // risk; then the manifest gate (§5 step 1), which also finds the call's drift.
        let gated = policy::gate(agent.status, settings);
        let manifest = match gated {
            Some(_) => None,
            None => {
                let call = CheckedCall {
                    agent: &agent,
                    connector: &connector.name,
                    operation: &req.operation,
                    op,
                    instance: &instance,
                    params: &req.params,
                    calls_last_60s,
                };
                Some(self.manifest_check(settings, &call).await?)
            }
        };
        // The rate the manifest declares (the agent's own setting without one): the
        // frequency input of the risk score, and the most a throttled agent may call.
        let rate = manifest
            .as_ref()
            .and_then(|m| m.rate)
            .unwrap_or(agent.declared_rate);
        if agent.status == AgentStatus::Throttled
            && window.as_ref().is_none_or(|w| w.calls_last_60s > rate)
        {
            if cached {
                *counted = Some(window);
                return Ok(Attempt::Again(req));
            }
            let e = CoreError::RateLimited {
                message: format!(
                    "the agent is throttled to its declared {rate} calls per minute after drift; an admin reactivates it"
                ),
                retry_after_secs: 60,
            };
            // The refused call is an attempt all the same: its drift counts, so a
            // throttled agent that keeps calling above 3x its rate is suspended.
            return Err(match self.record_rejection(&agent, Some(&req), &e).await {
                Err(audit) => audit,
                Ok(refusal) => match &manifest {
                    Some(m) => match self.act_on_drift(settings, &agent, m, refusal.id).await {
                        Ok(()) => e,
                        Err(failed) => failed,
                    },
                    None => e,
                },
            });
        }
        let risk = match gated {
            Some(_) => RiskBreakdown::maximum(agent.declared_rate),
            None => risk::score(RiskInputs {
                tier: op.risk,
                sensitivity: instance
                    .sensitivity
                    .unwrap_or_else(|| connector.sensitivity()),
                calls_last_60s,
                declared_rate: rate,
                environment: instance.environment,
            }),
        };
        let risk = match window {
            None if gated.is_none() => risk.with_frequency_unknown(),
            _ => risk,
        };
        let window_known = window.is_some();
        let gated = gated.or_else(|| {
            let why = manifest.as_ref()?.gate.clone()?;
            Some(policy::manifest_gate(why, settings))
        });
        let ExecuteRequest {
            connector: asked_connector,
            operation,
            params,
            session_context,
            wait_seconds,
            instance: asked_instance,
            via,
        } = req;
        let mut call = Call {
            intercept: Intercept {
                agent_id: agent.id.to_string(),
                agent: agent.name.clone(),
                agent_labels: agent.labels.clone(),
                connector: connector.name.clone(),
                operation,
                tier: op.risk,
                instance_id: Some(instance.id),
                instance: instance.name.clone(),
                environment: instance.environment,
                method: op.method.as_str().into(),
                params,
                session_context,
                session_actions: window.map(|w| w.prior_actions).unwrap_or_default(),
                risk,
                verdict: Verdict::Deny,
                policy_version: policy.version,
                policy_id: String::new(),
                rule_id: None,
                grant_id: None,
                reason: String::new(),
                manifest_version: manifest.as_ref().and_then(|m| m.version),
                via,
            },
            agent,
            connector,
            op,
            instance,
        };
        // 4. Evaluate, from the facts the intercept record will hold.
        let decision = match gated {
            Some(d) => d,
            None => self.evaluate(&org, &policy, &call).await?,
        };
        let i = &mut call.intercept;
        i.verdict = decision.verdict;
        i.policy_id.clone_from(&decision.policy_id);
        i.rule_id.clone_from(&decision.rule_id);
        i.grant_id.clone_from(&decision.grant_id);
        i.reason.clone_from(&decision.reason);
        stages::observe_since(Stage::Decide, deciding);

        // 5. The intercept record, durable before anything else happens, and refused if
        // the configuration it was decided on has changed since.
        let recorded = timed(
            Stage::InterceptRecord,
            self.record_at(org.id, epoch, call.actor(), call.intercept.clone()),
        )
        .await;
        let intercept = match recorded {
            Err(CoreError::StaleConfiguration) => {
                self.contexts.forget(org.id, epoch);
                let i = call.intercept;
                *counted = Some(window_known.then_some(WindowFacts {
                    calls_last_60s,
                    prior_actions: i.session_actions,
                }));
                return Ok(Attempt::Again(ExecuteRequest {
                    connector: asked_connector,
                    operation: i.operation,
                    params: i.params,
                    session_context: i.session_context,
                    instance: asked_instance,
                    wait_seconds,
                    via: i.via,
                }));
            }
            r => r?,
        };
        if let Some(m) = &manifest {
            self.act_on_drift(settings, &call.agent, m, intercept.id)
                .await?;
        }

        // 6. Route.
        match decision.verdict {
            Verdict::Deny => Err(CoreError::PermissionDenied {
                message: format!("denied by policy: {}", decision.reason),
                audit_id: intercept.id.to_string(),
                risk_score: risk.score,
            }),
            Verdict::Escalate => self
                .escalate(&org, &call, &intercept, &decision, now, wait_seconds)
                .await
                .map(Attempt::Done),
            Verdict::Permit => {
                // 7–10.
                let (result, result_record) = self.run_and_record(&call, &intercept, None).await?;
                Ok(Attempt::Done(Executed::Ran {
                    result,
                    audit_id: intercept.id,
                    result_audit_id: result_record.id,
                    verdict: Verdict::Permit,
                    risk_score: risk.score,
                    approval_id: None,
                }))
            }
        }
    }

    /// Step 4 for an active agent: the policy's decision on the call's facts; an
    /// escalation covered by a grant is evaluated again with it (§5 step 4: only an
    /// escalation can be turned by a grant, so only it looks one up).
    async fn evaluate(
        &self,
        org: &Org,
        policy: &super::ActivePolicy,
        call: &Call<'_>,
    ) -> Result<Decision, CoreError> {
        let settings = &policy.doc.settings;
        let facts = &call.intercept;
        let decision = policy::evaluate(settings, &policy.compiled, &facts.policy_input(None));
        if decision.verdict != Verdict::Escalate {
            return Ok(decision);
        }
        let grant = self
            .covering_grant(
                org.id,
                call.agent.id,
                (&call.connector.name, call.instance.id, &facts.operation),
                &facts.params,
                &decision.escalation,
            )
            .await?;
        Ok(match grant {
            Some(g) => {
                let g = g.to_string();
                policy::evaluate(settings, &policy.compiled, &facts.policy_input(Some(&g)))
            }
            None => decision,
        })
    }

    /// Refuses an agent that may not act (suspended, decommissioned) what it asked for,
    /// `then` saying what it cannot do.
    pub(super) fn refuse_unless_acting(agent: &Agent, then: &str) -> Result<(), CoreError> {
        match agent.status.may_act() {
            true => Ok(()),
            false => Err(CoreError::Forbidden(format!(
                "the agent is {}; {then}",
                agent.status.as_str()
            ))),
        }
    }

    /// The agent behind `bearer`, read now (for everything but execute).
    pub async fn authenticate_agent(
        &self,
        bearer: Option<&str>,
    ) -> Result<(Agent, Org), CoreError> {
        let c = self.authenticate(bearer, false).await?;
        Ok((c.agent.clone(), c.org.clone()))
    }

    /// The key behind `bearer` with its agent and org: kept in memory when `cached` and
    /// there, else read now (and kept). A revoked key or a decommissioned agent is
    /// refused (neither can come back, so a refusal on kept rows is right).
    async fn authenticate(
        &self,
        bearer: Option<&str>,
        cached: bool,
    ) -> Result<Arc<KeyContext>, CoreError> {
        let Some(token) = bearer else {
            return Err(CoreError::Unauthenticated(
                "send the agent's API key as 'Authorization: Bearer <key>'".into(),
            ));
        };
        let hash = token_hash(token);
        let caller = match cached.then(|| self.contexts.key(&hash)).flatten() {
            Some(hit) => hit,
            None => {
                let Some(found) = self.store.agent_by_key_hash(&hash).await? else {
                    tracing::warn!("execute with an unknown agent key");
                    return Err(CoreError::Unauthenticated(
                        "the API key is not valid".into(),
                    ));
                };
                let found = Arc::new(found);
                self.contexts.put_key(hash.clone(), found.clone());
                found
            }
        };
        let (key, agent) = (&caller.key, &caller.agent);
        // A decommissioned agent's keys say why, whatever became of the key itself.
        let why = if agent.status == AgentStatus::Decommissioned {
            Some(match self.store.retirement(agent.org_id, agent.id).await? {
                Some(r) => format!("the agent is decommissioned: {}", r.reason),
                None => "the agent is decommissioned".to_string(),
            })
        } else if key.revoked_ms.is_some() {
            Some("the API key was revoked".to_string())
        } else {
            None
        };
        if let Some(why) = why {
            // Coalesced per key: a script retrying a dead key must not grow the chain
            // by one record per call.
            self.record_refusal(
                agent.org_id,
                format!("execute.unauthenticated:{}", key.id),
                agent_actor(agent),
                ev::Unauthenticated {
                    agent_id: agent.id,
                    key_id: key.id,
                    reason: why.clone(),
                    burst: Default::default(),
                },
            )
            .await?;
            return Err(CoreError::Unauthenticated(why));
        }
        self.note_key_use(&hash, key).await;
        Ok(caller)
    }

    /// Keeps the key's `last_used_ms` to the hour. The stored value came with the key's
    /// row, so a key used within the hour costs no statement at all; past it, one
    /// compare-and-set UPDATE (concurrent calls write once). Bookkeeping, not a control:
    /// a failure is logged and the call goes on.
    async fn note_key_use(&self, hash: &str, key: &crate::model::AgentKey) {
        use crate::model::stats::KEY_USE_RESOLUTION_MS;
        let now = self.now_ms();
        let stale = now - KEY_USE_RESOLUTION_MS;
        if key.last_used_ms.is_some_and(|t| t >= stale) {
            return;
        }
        match self
            .store
            .touch_agent_key(key.org_id, key.id, now, stale)
            .await
        {
            Ok(_) => self.contexts.touched(hash, now),
            Err(e) => {
                tracing::warn!(key = %key.id, error = %e, "could not note the key's last use")
            }
        }
    }

    /// Records a call refused before evaluation, then hands back the error for the agent.
    async fn reject(&self, agent: &Agent, req: Option<&ExecuteRequest>, e: CoreError) -> CoreError {
        match self.record_rejection(agent, req, &e).await {
            Ok(_) => e,
            Err(audit) => audit,
        }
    }

    /// The `execute.rejected` record of the refusal `e` of the agent's call.
    async fn record_rejection(
        &self,
        agent: &Agent,
        req: Option<&ExecuteRequest>,
        e: &CoreError,
    ) -> Result<AuditRecord, CoreError> {
        let rejected = ev::Rejected {
            agent_id: agent.id,
            agent: agent.name.clone(),
            connector: req.map(|r| r.connector.clone()),
            operation: req.map(|r| r.operation.clone()),
            code: e.code().into(),
            message: e.public_message(),
        };
        self.record(agent.org_id, agent_actor(agent), rejected)
            .await
    }

    /// The call's connector, operation and instance, the instance read at `epoch` (the
    /// caller's): [`CoreError::StaleConfiguration`] if the org's instances are at
    /// another one.
    async fn resolve<'c>(
        &'c self,
        agent: &Agent,
        req: &ExecuteRequest,
        epoch: i64,
        cached: bool,
    ) -> Result<(&'c Connector, &'c Operation, Instance), CoreError> {
        let connector = self.connector(&req.connector)?;
        let op = operation_of(connector, &req.operation)?;
        let org = agent.org_id;
        let kept = cached
            .then(|| self.contexts.instances(org, &connector.name))
            .flatten()
            .filter(|k| k.epoch == epoch);
        let instances = match kept {
            Some(k) => k,
            None => {
                let found = Arc::new(self.store.instances_of(org, &connector.name).await?);
                self.contexts
                    .put_instances(org, &connector.name, found.clone());
                if found.epoch != epoch {
                    return Err(CoreError::StaleConfiguration);
                }
                found
            }
        };
        let instance = pick_instance(&instances.value, connector, req.instance.as_deref())?;
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
        let instances = self.store.instances_of(org, &connector.name).await?.value;
        pick_instance(&instances, connector, name)
    }

    async fn escalate(
        &self,
        org: &Org,
        call: &Call<'_>,
        intercept: &AuditRecord,
        decision: &Decision,
        now: i64,
        wait_seconds: Option<u32>,
    ) -> Result<Executed, CoreError> {
        let facts = &call.intercept;
        let params = Value::Object(facts.params.clone());
        let approval = ApprovalRequest {
            id: ApprovalId::new(),
            org_id: org.id,
            agent_id: call.agent.id,
            instance_id: Some(call.instance.id),
            connector: facts.connector.clone(),
            operation: facts.operation.clone(),
            params_hash: params_hash(&params),
            params,
            intercept_id: intercept.id,
            risk_score: facts.risk.score,
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
            kind: ApprovalKind::Call,
            heartbeat_ms: None,
        };
        // On the record before it can be decided: a request whose record could not be
        // written never reaches the queue (the agent is told nothing was forwarded).
        self.record(
            org.id,
            call.actor(),
            ev::ApprovalRequested {
                approval_id: approval.id,
                intercept_id: intercept.id,
                agent_id: call.agent.id,
                connector: approval.connector.clone(),
                operation: approval.operation.clone(),
                params_hash: approval.params_hash.clone(),
                expires_ms: approval.expires_ms,
                requirements: Some(approval.requirements.clone()),
            },
        )
        .await?;
        // Wait for a decision a while (the agent may ask for less), then answer 202.
        let wait = wait_seconds
            .unwrap_or(MAX_WAIT_SECONDS)
            .min(MAX_WAIT_SECONDS);
        self.submit_request(&approval, std::time::Duration::from_secs(u64::from(wait)))
            .await
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
        let opening = Instant::now();
        let creds = if sealed.is_empty() {
            Default::default()
        } else {
            let wrapped = match self.vault.has_data_key(instance.org_id) {
                true => None,
                false => Some(self.store.wrapped_data_key(instance.org_id).await?),
            };
            let of = SecretsOf::Instance(instance.id);
            self.vault
                .open(instance.org_id, wrapped.as_deref(), of, sealed)?
        };
        stages::observe_since(Stage::Credentials, opening);
        let r = timed(
            Stage::Target,
            self.executor
                .run(connector, op, instance, sealed, &creds, params),
        )
        .await;
        drop(creds); // zeroized here, before anything else happens
        Ok(r)
    }

    /// Steps 7–9: decrypt the credentials for this call only, run it, record the result.
    pub(super) async fn run_and_record(
        &self,
        call: &Call<'_>,
        intercept: &AuditRecord,
        approval: Option<ApprovalId>,
    ) -> Result<(Value, AuditRecord), CoreError> {
        let facts = &call.intercept;
        let outcome = self
            .send_to_target(call.connector, call.op, &call.instance, &facts.params)
            .await?;
        let recording = Instant::now();
        let mut result = ev::CallResult {
            intercept_id: intercept.id,
            intercept_seq: intercept.seq,
            agent_id: call.agent.id,
            connector: call.connector.name.clone(),
            operation: facts.operation.clone(),
            status: String::new(),
            http_status: None,
            latency_ms: None,
            error: None,
            approval_id: approval,
            response_sha256: None,
            response_bytes: None,
            response_projection: None,
            response_stored: None,
            response: None,
        };
        let mut body = None;
        match &outcome {
            Ok(r) => {
                result.status = match (200..300).contains(&r.status) {
                    true => "ok",
                    false => "target_error",
                }
                .into();
                result.http_status = Some(r.status);
                result.latency_ms = Some(r.latency_ms);
                // The body stays out of the chain (§7): the record proves it by hash, and
                // keeps only the fields the operation declares non-sensitive.
                match super::responses::summarize(call.op, &r.body) {
                    Some(s) => {
                        result.response_sha256 = Some(s.sha256.clone());
                        result.response_bytes = Some(s.bytes as u64);
                        result.response_projection = Some(s.projection.clone());
                        result.response_stored = Some(true);
                        body = Some(s);
                    }
                    // Cannot happen for parsed JSON; the call ran, so it is recorded anyway.
                    None => result.response_stored = Some(false),
                }
            }
            Err(e) => {
                result.status = "failed".into();
                result.error = Some(e.to_string());
            }
        }
        let draft = self.draft(intercept.org_id, call.actor(), result.into())?;
        let body = body.map(|s| super::responses::body_row(&draft, intercept.id, s));
        // The call ran: an append that fails now must not be reported as "not forwarded".
        let record = self
            .audit
            .append_with_body(draft, body)
            .await
            .map_err(|e| {
                tracing::error!(intercept = %intercept.id, error = %e, "the result of a call that ran could not be recorded");
                CoreError::ResultUnrecorded {
                    audit_id: intercept.id.to_string(),
                }
            })?;
        stages::observe_since(Stage::ResultRecord, recording);
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
