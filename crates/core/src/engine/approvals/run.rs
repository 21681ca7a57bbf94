//! Running an approved call: once, with the params that were approved (bound by hash),
//! in a task of its own that beats while it runs.

use super::*;

impl Engine {
    /// Runs an approved call with the params that were approved, once, and records it.
    pub(super) async fn run_approved(
        &self,
        a: ApprovalRequest,
        actor: Actor,
    ) -> Result<ApprovalRequest, CoreError> {
        let agent = self.store.agent(a.org_id, a.agent_id).await?;
        let Some(agent) = agent.filter(|ag| ag.status.may_act()) else {
            let mut change = ApprovalChange::new(&[Approved], Cancelled);
            change.comment =
                Some("the agent was suspended or decommissioned before the call ran".into());
            return self.finish_approval(&a, change, actor).await;
        };
        if params_hash(&a.params) != a.params_hash {
            let mut change = ApprovalChange::new(&[Approved], Failed);
            change.outcome = Some(CallOutcome::from_error(&CoreError::Internal(String::new())));
            change.comment = Some("the stored params do not match their approved hash".into());
            return self.finish_approval(&a, change, actor).await;
        }
        let Some(a) = self
            .transition(
                &a,
                ApprovalChange::new(&[Approved], Executing),
                actor.clone(),
                |_| {},
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
                .instance_of(&a)
                .await?
                .ok_or_else(|| CoreError::Internal("the instance was removed".into()))?;
            let intercept = self
                .store
                .audit_record(a.org_id, a.intercept_id)
                .await?
                .ok_or_else(|| CoreError::Internal("the intercept record is missing".into()))?;
            let AuditEvent::Intercept(mut facts) = intercept.event()? else {
                return Err(CoreError::Internal(
                    "the request's intercept record is not a call".into(),
                ));
            };
            // What runs is what was approved: the params bound by hash above.
            facts.params = a.params.as_object().cloned().unwrap_or_default();
            let call = Call {
                agent,
                connector,
                op,
                instance,
                intercept: facts,
            };
            Ok::<_, CoreError>((call, intercept))
        }
        .await;
        let work = async {
            let (call, intercept) = resolved?;
            self.run_and_record(&call, &intercept, Some(a.id))
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
                change.outcome = Some(CallOutcome::Executed {
                    result,
                    result_audit_id: record,
                });
            }
            Err(e) => {
                change = ApprovalChange::new(&[Executing], Failed);
                change.outcome = Some(CallOutcome::from_error(&e));
            }
        }
        self.finish_approval(&a, change, actor).await
    }

    /// Runs an approved call in a task of its own, so it ends (executed or failed, with
    /// its result record) whatever happens to the request that approved it; waits for it
    /// up to [`AWAIT_RUN`], then answers with the request as it stands.
    pub(super) async fn start_approved(
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
}
