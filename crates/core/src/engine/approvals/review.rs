//! Decision rights and decisions: who may approve or deny a request, and the votes that
//! still count.

use super::*;

impl Engine {
    /// The votes on `a` that still count: of users still active, still reviewers or
    /// admins, still in the approver groups, and not the owner where the rule forbids it.
    /// A vote cast before its voter lost those rights does not decide the request.
    pub(super) async fn counted_votes(
        &self,
        a: &ApprovalRequest,
    ) -> Result<Vec<ApprovalVote>, CoreError> {
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
                && u.roles().decides()
                && a.requirements.admits(&u.approver_groups())
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
        if !who.roles.decides() {
            return Err(CoreError::Forbidden(format!(
                "deciding approvals needs the reviewer or admin role; {} has {}",
                who.email,
                who.roles.describe()
            )));
        }
        let user = self
            .active_user(who, "the account is no longer active")
            .await?;
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
        let groups = self.user.approver_groups();
        if !req.admits(&groups) {
            let sets: Vec<String> = req.group_sets().iter().map(|s| s.join(" or ")).collect();
            return Err(CoreError::Forbidden(format!(
                "only members of {} may decide this request; {} is in {}",
                sets.join(", and of "),
                self.user.email,
                if groups.is_empty() {
                    "no approver group".to_string()
                } else {
                    groups.join(", ")
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
            if !self.user.roles().reads_answers() {
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
            return Err(if written {
                CoreError::InvalidField {
                    field: "comment",
                    message: "the rule asks approvers to say why: write the reason in the comment"
                        .into(),
                }
            } else {
                CoreError::InvalidRequest(
                    "the rule asks approvers to say why: approve from the console and write the reason"
                        .into(),
                )
            });
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
                self.actor(),
                ev::ApprovalVoted {
                    approval_id: a.id,
                    comment,
                    approvals: votes.len(),
                    needed,
                },
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
        let note = |n: &mut ApprovalChanged| {
            n.comment = Some(Some(comment));
            n.approvers = change.decided_by.clone();
            n.params_hash = Some(a.params_hash.clone());
        };
        match e.transition(&a, change.clone(), self.actor(), note).await? {
            Some(approved) => match approved.kind {
                ApprovalKind::Grant => e.activate_grant(approved, self.actor()).await,
                ApprovalKind::Manifest => e.publish_registered(approved, self.actor()).await,
                ApprovalKind::Call => e.start_approved(approved, self.actor()).await,
            },
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
            .transition(&a, change, self.actor(), |n| {
                n.comment = Some(Some(comment))
            })
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
