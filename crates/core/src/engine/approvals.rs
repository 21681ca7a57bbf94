//! Deciding approval requests (ARCHITECTURE §6). A request moves
//! `pending → approved | denied | expired | cancelled`, then an approved call
//! `executing → executed | failed`; every move is a compare-and-set in the store and an
//! audit record, so of racing decisions exactly one wins. ARX runs the approved call
//! itself, with the params that were approved (bound by hash), once. Waiting agents are
//! woken by an in-process broadcast, never by polling the database.

use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::broadcast;

use super::Engine;
use super::execute::{Executed, params_hash};
use crate::access::Principal;
use crate::audit::{Actor, format_ts};
use crate::error::CoreError;
use crate::ids::{ApprovalId, OrgId};
use crate::model::{
    AgentStatus, ApprovalChange, ApprovalRequest, ApprovalStatus, ApprovalVote, GRANT_KIND, Role,
    User,
};
use crate::request::{ExecuteRequest, MAX_WAIT_SECONDS};

use ApprovalStatus::{
    Approved, Cancelled, Denied, Executed as Ran, Executing, Expired, Failed, Pending,
};

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
        Ran | Failed => {
            let o = a.outcome.clone().unwrap_or(Value::Null);
            Ok(Executed::Stored {
                status: o["http_status"].as_u64().unwrap_or(502) as u16,
                body: o["body"].clone(),
            })
        }
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
    /// same database too (PostgreSQL); a no-op on an embedded database.
    pub async fn follow_other_replicas(self: &std::sync::Arc<Self>) -> Result<(), CoreError> {
        let Some(mut rx) = self.store.listen_approvals().await? else {
            return Ok(());
        };
        let events = self.approval_events.0.clone();
        tokio::spawn(async move {
            while let Some(id) = rx.recv().await {
                let _ = events.send(id);
            }
        });
        Ok(())
    }

    /// A receiver of approval requests created or changed in this process.
    pub fn approval_events(&self) -> broadcast::Receiver<ApprovalId> {
        self.approval_events.0.subscribe()
    }

    /// Moves `a` by compare-and-set and records the move; `None` if another change won.
    async fn transition(
        &self,
        a: &ApprovalRequest,
        change: ApprovalChange,
        actor: Actor,
        mut fields: Value,
    ) -> Result<Option<ApprovalRequest>, CoreError> {
        if !self.store.change_approval(a.org_id, a.id, &change).await? {
            return Ok(None);
        }
        if let Value::Object(m) = &mut fields {
            m.insert("approval_id".into(), json!(a.id));
            m.insert("from".into(), json!(a.status.as_str()));
        }
        let kind = format!("approval.{}", change.to.as_str());
        let recorded = self.record(a.org_id, &kind, actor, fields).await;
        self.announce_approval(a.id);
        recorded?;
        self.store.approval(a.org_id, a.id).await
    }

    async fn approval_of(&self, org: OrgId, id: ApprovalId) -> Result<ApprovalRequest, CoreError> {
        self.store
            .approval(org, id)
            .await?
            .ok_or_else(|| CoreError::NotFound(format!("no approval request {id}")))
    }

    /// Expires `a` if it is pending and due; the request as it is afterwards.
    async fn expire_if_due(&self, a: ApprovalRequest) -> Result<ApprovalRequest, CoreError> {
        if a.status != Pending || self.now_ms() < a.expires_ms {
            return Ok(a);
        }
        let mut change = ApprovalChange::new(&[Pending], Expired);
        change.decided_ms = Some(self.now_ms());
        let fields =
            json!({"expires_at": format_ts(a.expires_ms), "reason": "nobody decided in time"});
        match self.transition(&a, change, Actor::system(), fields).await? {
            Some(done) => {
                if done.kind == GRANT_KIND {
                    self.deny_grant(&done, "nobody approved it in time").await?;
                }
                Ok(done)
            }
            None => self.approval_of(a.org_id, a.id).await,
        }
    }

    /// Expires every pending request whose time is up; returns how many it expired.
    pub(crate) async fn expire_due(&self) -> Result<usize, CoreError> {
        let due = self
            .store
            .approvals_in_status(Pending, Some(self.now_ms()))
            .await?;
        let mut n = 0;
        for a in due {
            if self.expire_if_due(a).await?.status == Expired {
                n += 1;
            }
        }
        self.expire_grants().await?;
        Ok(n)
    }

    /// Calls that were approved or running when their process stopped are marked failed,
    /// never run again. On an embedded database, at start, that is every approved or
    /// running call: no other process can be running one. On a shared database another
    /// replica may be running it right now, so a call counts as interrupted only once its
    /// process stopped beating ([`HEARTBEAT_STALE_MS`]); every replica looks for those
    /// once a minute.
    pub(crate) async fn recover_interrupted(&self, at_start: bool) -> Result<usize, CoreError> {
        let cutoff = match at_start && !self.store.shared() {
            true => i64::MAX,
            false => self.now_ms() - HEARTBEAT_STALE_MS,
        };
        let mut n = 0;
        for status in [Approved, Executing] {
            for a in self.store.approvals_in_status(status, None).await? {
                let alive = a
                    .heartbeat_ms
                    .into_iter()
                    .chain(a.decided_ms)
                    .max()
                    .unwrap_or(a.created_ms);
                if alive >= cutoff {
                    continue;
                }
                let mut change = ApprovalChange::new(&[status], Failed);
                change.outcome = Some(json!({
                    "http_status": 502,
                    "body": CoreError::TargetUnreachable {
                        message: "ARX restarted while this approved call was pending or running; it was not run again".into(),
                        audit_id: a.intercept_id.to_string(),
                    }.body(),
                }));
                let fields = json!({"reason": "interrupted by a restart; not run again"});
                if self
                    .transition(&a, change, Actor::system(), fields)
                    .await?
                    .is_some()
                {
                    n += 1;
                }
            }
        }
        Ok(n)
    }

    /// Waits up to `wait` for the request to become final (expiring it when due).
    pub(crate) async fn await_final(
        &self,
        org: OrgId,
        id: ApprovalId,
        wait: Duration,
    ) -> Result<ApprovalRequest, CoreError> {
        // Subscribe before reading, so a change between the read and the wait is not missed.
        let mut events = self.approval_events();
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let a = self.expire_if_due(self.approval_of(org, id).await?).await?;
            if a.status.is_final() {
                return Ok(a);
            }
            // Wake at the expiry too, so silence ends the wait when it should.
            let until_expiry = u64::try_from(a.expires_ms - self.now_ms()).unwrap_or(0);
            let wake =
                deadline.min(tokio::time::Instant::now() + Duration::from_millis(until_expiry));
            loop {
                match tokio::time::timeout_at(wake, events.recv()).await {
                    Err(_) if wake >= deadline => return Ok(a),
                    Err(_) => break,
                    Ok(Ok(changed)) if changed != id => continue,
                    Ok(Ok(_)) | Ok(Err(broadcast::error::RecvError::Lagged(_))) => break,
                    Ok(Err(broadcast::error::RecvError::Closed)) => return Ok(a),
                }
            }
        }
    }

    /// `GET /v1/sdk/approvals/{id}`: the agent's long poll for its own request.
    pub async fn poll_approval(
        &self,
        bearer: Option<&str>,
        id: &str,
        wait_seconds: Option<u32>,
    ) -> Result<Executed, CoreError> {
        let (agent, org) = self.authenticate_agent(bearer).await?;
        let not_found = || CoreError::NotFound(format!("no approval request {id} for this agent"));
        let id: ApprovalId = id.parse().map_err(|_| not_found())?;
        let a = self
            .store
            .approval(org.id, id)
            .await?
            .ok_or_else(not_found)?;
        if a.agent_id != agent.id {
            return Err(not_found());
        }
        let wait = wait_seconds
            .unwrap_or(MAX_WAIT_SECONDS)
            .min(MAX_WAIT_SECONDS);
        let a = self
            .await_final(org.id, id, Duration::from_secs(u64::from(wait)))
            .await?;
        outcome_of(&a)
    }

    /// Runs an approved call with the params that were approved, once, and records it.
    async fn run_approved(
        &self,
        a: ApprovalRequest,
        actor: Actor,
    ) -> Result<ApprovalRequest, CoreError> {
        let agent = self.store.agent(a.org_id, a.agent_id).await?;
        let Some(agent) = agent.filter(|ag| ag.status == AgentStatus::Active) else {
            let mut change = ApprovalChange::new(&[Approved], Cancelled);
            change.comment =
                Some("the agent was suspended or decommissioned before the call ran".into());
            return self.finish_approval(&a, change, actor).await;
        };
        if params_hash(&a.params) != a.params_hash {
            let mut change = ApprovalChange::new(&[Approved], Failed);
            change.outcome = Some(
                json!({"http_status": 500, "body": CoreError::Internal(String::new()).body()}),
            );
            change.comment = Some("the stored params do not match their approved hash".into());
            return self.finish_approval(&a, change, actor).await;
        }
        let Some(a) = self
            .transition(
                &a,
                ApprovalChange::new(&[Approved], Executing),
                actor.clone(),
                json!({}),
            )
            .await?
        else {
            return self.approval_of(a.org_id, a.id).await;
        };
        let resolved = async {
            let connector = self.catalog.get(&a.connector).ok_or_else(|| {
                CoreError::Internal(format!("connector {} left the catalog", a.connector))
            })?;
            let op = connector.operation(&a.operation).ok_or_else(|| {
                CoreError::Internal(format!("operation {} left the catalog", a.operation))
            })?;
            let instance = self
                .store
                .instance(a.org_id, a.instance_id)
                .await?
                .ok_or_else(|| CoreError::Internal("the instance was removed".into()))?;
            let intercept = self
                .store
                .audit_record(a.org_id, a.intercept_id)
                .await?
                .ok_or_else(|| CoreError::Internal("the intercept record is missing".into()))?;
            Ok::<_, CoreError>((connector, op, instance, intercept))
        }
        .await;
        let req = ExecuteRequest {
            connector: a.connector.clone(),
            operation: a.operation.clone(),
            params: a.params.as_object().cloned().unwrap_or_default(),
            session_context: Value::Null,
            instance: None,
            wait_seconds: None,
        };
        let work = async {
            let (connector, op, instance, intercept) = resolved?;
            self.run_and_record(
                &agent,
                connector,
                op,
                &instance,
                &req,
                &intercept,
                Some(a.id),
            )
            .await
            .map(|(result, record)| (result, record.id))
        };
        // Beat while the call runs, so no replica takes a live call for an interrupted one.
        let mut work = std::pin::pin!(work);
        let mut beat = tokio::time::interval(HEARTBEAT);
        let ran = loop {
            tokio::select! {
                r = &mut work => break r,
                _ = beat.tick() => {
                    if let Err(e) = self.store.beat_approval(a.org_id, a.id, self.now_ms()).await {
                        tracing::warn!(approval = %a.id, error = %e, "approval heartbeat failed");
                    }
                }
            }
        };
        let mut change;
        match ran {
            Ok((result, record)) => {
                change = ApprovalChange::new(&[Executing], Ran);
                change.result_audit_id = Some(record);
                change.outcome = Some(json!({"http_status": 200, "body": {
                    "result": result, "audit_id": a.intercept_id, "result_audit_id": record,
                    "verdict": "PERMIT", "risk_score": a.risk_score, "approval_id": a.id,
                }}));
            }
            Err(e) => {
                change = ApprovalChange::new(&[Executing], Failed);
                change.outcome = Some(json!({"http_status": e.http_status(), "body": e.body()}));
            }
        }
        self.finish_approval(&a, change, actor).await
    }

    /// Runs an approved call in a task of its own, so it ends (executed or failed, with
    /// its result record) whatever happens to the request that approved it; waits for it
    /// up to [`AWAIT_RUN`], then answers with the request as it stands.
    async fn start_approved(
        &self,
        a: ApprovalRequest,
        actor: Actor,
    ) -> Result<ApprovalRequest, CoreError> {
        let (org, id) = (a.org_id, a.id);
        let Some(me) = self.me.upgrade() else {
            return Err(CoreError::Internal("the engine is shutting down".into()));
        };
        let mut task = tokio::spawn(async move { me.run_approved(a, actor).await });
        match tokio::time::timeout(AWAIT_RUN, &mut task).await {
            Ok(Ok(done)) => done,
            Ok(Err(e)) => {
                tracing::error!(approval = %id, error = %e, "an approved call's task failed");
                self.approval_of(org, id).await
            }
            Err(_) => self.approval_of(org, id).await,
        }
    }

    pub(super) async fn finish_approval(
        &self,
        a: &ApprovalRequest,
        change: ApprovalChange,
        actor: Actor,
    ) -> Result<ApprovalRequest, CoreError> {
        let fields = json!({"comment": change.comment});
        match self.transition(a, change, actor, fields).await? {
            Some(done) => Ok(done),
            None => self.approval_of(a.org_id, a.id).await,
        }
    }

    /// The votes on `a` that still count: of users still active, still reviewers or
    /// admins, still in the approver groups, and not the owner where the rule forbids it.
    /// A vote cast before its voter lost those rights does not decide the request.
    async fn counted_votes(&self, a: &ApprovalRequest) -> Result<Vec<ApprovalVote>, CoreError> {
        let owner = match a.requirements.forbid_owner {
            true => self
                .store
                .agent(a.org_id, a.agent_id)
                .await?
                .map(|g| g.owner),
            false => None,
        };
        let mut counted = Vec::new();
        for v in self.store.approval_votes(a.org_id, a.id).await? {
            let Some(u) = self.store.user(a.org_id, v.user_id).await? else {
                continue;
            };
            if u.active
                && matches!(u.role, Role::Admin | Role::Reviewer)
                && a.requirements.admits(&u.groups)
                && owner
                    .as_deref()
                    .is_none_or(|o| !o.eq_ignore_ascii_case(&u.email))
            {
                counted.push(v);
            }
        }
        Ok(counted)
    }

    /// Decision rights for `who`: reviewers and admins of the org.
    pub async fn reviewer<'a>(&'a self, who: &'a Principal) -> Result<ReviewOps<'a>, CoreError> {
        if !matches!(who.role, Role::Admin | Role::Reviewer) {
            return Err(CoreError::Forbidden(format!(
                "deciding approvals needs the reviewer or admin role; {} is {}",
                who.email,
                who.role.as_str()
            )));
        }
        let user = self
            .store
            .user(who.org_id, who.user_id)
            .await?
            .filter(|u| u.active)
            .ok_or_else(|| CoreError::Unauthenticated("the account is no longer active".into()))?;
        Ok(ReviewOps { engine: self, user })
    }
}

/// A reviewer's decisions.
pub struct ReviewOps<'a> {
    engine: &'a Engine,
    user: User,
}

impl ReviewOps<'_> {
    fn actor(&self) -> Actor {
        Actor::user(self.user.id, &self.user.email)
    }

    /// Refuses a decision the rule does not let this user make, saying why.
    async fn check_rights(&self, a: &ApprovalRequest) -> Result<(), CoreError> {
        let req = &a.requirements;
        if !req.admits(&self.user.groups) {
            let sets: Vec<String> = req.group_sets().iter().map(|s| s.join(" or ")).collect();
            return Err(CoreError::Forbidden(format!(
                "only members of {} may decide this request; {} is in {}",
                sets.join(", and of "),
                self.user.email,
                if self.user.groups.is_empty() {
                    "no approver group".to_string()
                } else {
                    self.user.groups.join(", ")
                }
            )));
        }
        if req.forbid_owner {
            let agent = self.engine.store.agent(a.org_id, a.agent_id).await?;
            if agent.is_some_and(|ag| ag.owner.eq_ignore_ascii_case(&self.user.email)) {
                return Err(CoreError::Forbidden(
                    "the rule does not let the agent's owner approve its own agent's request"
                        .into(),
                ));
            }
        }
        Ok(())
    }

    async fn pending(&self, id: ApprovalId) -> Result<ApprovalRequest, CoreError> {
        let e = self.engine;
        let a = e
            .expire_if_due(e.approval_of(self.user.org_id, id).await?)
            .await?;
        match a.status {
            Pending => Ok(a),
            Expired => Err(CoreError::ApprovalExpired {
                approval_id: a.id.to_string(),
                expires_at: format_ts(a.expires_ms),
            }),
            s => Err(CoreError::Conflict(format!(
                "this request is already {}; nothing was changed",
                s.as_str()
            ))),
        }
    }

    /// Approves: with enough distinct approvals, ARX runs the call and returns the request
    /// as it ends (executed, failed or cancelled), or as it stands while the call still
    /// runs after [`AWAIT_RUN`].
    pub async fn approve(
        &self,
        id: ApprovalId,
        comment: &str,
    ) -> Result<ApprovalRequest, CoreError> {
        self.shown(self.approve_as(id, comment, true).await)
    }

    /// The request as this reviewer may see it: without the target's answer unless admin.
    fn shown(&self, a: Result<ApprovalRequest, CoreError>) -> Result<ApprovalRequest, CoreError> {
        a.map(|mut a| {
            if !reads_answers(self.user.role) {
                a.withhold_answer();
            }
            a
        })
    }

    /// Approves from a chat button, which carries no written reason: a rule that asks
    /// approvers to say why refuses it (they approve in the console).
    pub async fn approve_from_chat(
        &self,
        id: ApprovalId,
        note: &str,
    ) -> Result<ApprovalRequest, CoreError> {
        self.shown(self.approve_as(id, note, false).await)
    }

    async fn approve_as(
        &self,
        id: ApprovalId,
        comment: &str,
        written: bool,
    ) -> Result<ApprovalRequest, CoreError> {
        let e = self.engine;
        let a = self.pending(id).await?;
        self.check_rights(&a).await?;
        let comment = comment.trim().to_string();
        if a.requirements.require_reason && (!written || comment.is_empty()) {
            return Err(CoreError::InvalidRequest(if written {
                "the rule asks approvers to say why: write the reason in the comment".into()
            } else {
                "the rule asks approvers to say why: approve from the console and write the reason"
                    .into()
            }));
        }
        let vote = ApprovalVote {
            approval_id: a.id,
            user_id: self.user.id,
            email: self.user.email.clone(),
            comment: comment.clone(),
            created_ms: e.now_ms(),
        };
        if !e.store.add_approval_vote(a.org_id, &vote).await? {
            return Err(CoreError::Conflict(
                "you already approved this request; it needs another approver".into(),
            ));
        }
        let votes = e.counted_votes(&a).await?;
        let needed = usize::from(a.requirements.min_approvals.max(1));
        if votes.len() < needed {
            e.record(
                a.org_id,
                "approval.vote",
                self.actor(),
                json!({"approval_id": a.id, "comment": comment, "approvals": votes.len(), "needed": needed}),
            )
            .await?;
            e.announce_approval(a.id);
            return e.approval_of(a.org_id, a.id).await;
        }
        let now = e.now_ms();
        let mut change = ApprovalChange::new(&[Pending], Approved);
        change.decided_ms = Some(now);
        change.unexpired_at = Some(now);
        change.decided_by = Some(votes.iter().map(|v| v.email.clone()).collect());
        change.comment = Some(comment.clone());
        let fields = json!({"comment": comment, "approvers": change.decided_by, "params_hash": a.params_hash});
        match e.transition(&a, change, self.actor(), fields).await? {
            Some(approved) if approved.kind == GRANT_KIND => {
                e.activate_grant(approved, self.actor()).await
            }
            Some(approved) => e.start_approved(approved, self.actor()).await,
            None => Err(self.lost_race(a.id).await),
        }
    }

    pub async fn deny(&self, id: ApprovalId, comment: &str) -> Result<ApprovalRequest, CoreError> {
        let e = self.engine;
        let a = self.pending(id).await?;
        self.check_rights(&a).await?;
        let comment = comment.trim().to_string();
        let mut change = ApprovalChange::new(&[Pending], Denied);
        change.decided_ms = Some(e.now_ms());
        change.decided_by = Some(vec![self.user.email.clone()]);
        change.comment = Some(comment.clone());
        match e
            .transition(&a, change, self.actor(), json!({"comment": comment}))
            .await?
        {
            Some(denied) => Ok(denied),
            None => Err(self.lost_race(a.id).await),
        }
    }

    async fn lost_race(&self, id: ApprovalId) -> CoreError {
        let e = self.engine;
        let now = match e.approval_of(self.user.org_id, id).await {
            Ok(a) => e.expire_if_due(a).await,
            Err(err) => Err(err),
        };
        match now {
            Ok(a) if a.status == Expired => CoreError::ApprovalExpired {
                approval_id: a.id.to_string(),
                expires_at: format_ts(a.expires_ms),
            },
            Ok(a) => CoreError::Conflict(format!(
                "another decision came first: the request is {}",
                a.status.as_str()
            )),
            Err(e) => e,
        }
    }
}

/// Who reads vendor answers: admins and auditors, as for bodies kept out of the chain.
fn reads_answers(role: Role) -> bool {
    matches!(role, Role::Admin | Role::Auditor)
}

/// Everything a reviewer sees about a request.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ApprovalDetail {
    pub approval: ApprovalRequest,
    pub agent: Option<crate::model::Agent>,
    pub instance: Option<crate::model::Instance>,
    pub operation: Option<crate::catalog::Operation>,
    /// The intercept record's fields: risk and its inputs, the deciding rule, the policy
    /// version, the agent's `session_context`.
    pub intercept: Value,
    pub votes: Vec<ApprovalVote>,
    /// The target's current state against the call, while pending and when shown.
    pub state: Option<super::StateDiff>,
}

impl super::ReadOps<'_> {
    /// Everything about a request; the target's answer only for admins and auditors.
    pub async fn approval_detail(&self, id: ApprovalId) -> Result<ApprovalDetail, CoreError> {
        let mut d = self.engine.approval_detail_in(self.who.org_id, id).await?;
        if !reads_answers(self.who.role) {
            d.approval.withhold_answer();
        }
        Ok(d)
    }

    pub async fn users(&self) -> Result<Vec<User>, CoreError> {
        self.engine.store.list_users(self.who.org_id).await
    }
}

impl Engine {
    /// Everything a reviewer sees about a request of `org`, for the reviewer API and for
    /// notifiers that show it elsewhere (Slack, Teams, webhooks).
    pub(crate) async fn approval_detail_in(
        &self,
        org: OrgId,
        id: ApprovalId,
    ) -> Result<ApprovalDetail, CoreError> {
        let e = self;
        let approval = e.expire_if_due(e.approval_of(org, id).await?).await?;
        let intercept = e
            .store
            .audit_record(org, approval.intercept_id)
            .await?
            .map(|r| r.fields)
            .unwrap_or(Value::Null);
        let state = if approval.status == Pending && approval.requirements.show_diff {
            e.state_diff(&approval).await
        } else {
            None
        };
        Ok(ApprovalDetail {
            state,
            agent: e.store.agent(org, approval.agent_id).await?,
            instance: e.store.instance(org, approval.instance_id).await?,
            operation: e
                .catalog
                .get(&approval.connector)
                .and_then(|c| c.operation(&approval.operation))
                .cloned(),
            intercept,
            votes: e.store.approval_votes(org, id).await?,
            approval,
        })
    }
}

impl super::AdminOps<'_> {
    /// Sets the approver groups of a user of the org.
    pub async fn set_user_groups(
        &self,
        id: crate::ids::UserId,
        groups: Vec<String>,
    ) -> Result<User, CoreError> {
        let mut groups: Vec<String> = groups
            .into_iter()
            .map(|g| g.trim().to_string())
            .filter(|g| !g.is_empty())
            .collect();
        groups.sort();
        groups.dedup();
        if let Some(bad) = groups.iter().find(|g| {
            g.len() > 64
                || !g
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        }) {
            return Err(CoreError::InvalidRequest(format!(
                "group '{bad}' must be 1 to 64 letters, digits, '-', '_' or '.'"
            )));
        }
        let e = self.engine;
        if !e
            .store
            .set_user_groups(self.who.org_id, id, &groups)
            .await?
        {
            return Err(CoreError::NotFound("no such user".into()));
        }
        let user = e
            .store
            .user(self.who.org_id, id)
            .await?
            .ok_or_else(|| CoreError::NotFound("no such user".into()))?;
        e.record(
            self.who.org_id,
            "user.groups_set",
            Actor::user(self.who.user_id, &self.who.email),
            json!({"user_id": id, "email": user.email, "groups": groups}),
        )
        .await?;
        Ok(user)
    }
}
