//! Agents waiting for a decision: woken by the in-process broadcast, bounded by the
//! request's expiry, never by polling the database.

use super::*;

impl Engine {
    /// Stores a new request, puts it in front of reviewers and answers its caller (see
    /// [`Engine::answer_created`]). If the database goes during the write, the request
    /// may have been stored with the acknowledgement lost: the caller is told so, with the
    /// id to poll, never that nothing happened.
    pub(crate) async fn submit_request(
        &self,
        a: &ApprovalRequest,
        wait: Duration,
    ) -> Result<Executed, CoreError> {
        match self.store.create_approval(a).await {
            Ok(()) => {}
            Err(CoreError::DatabaseUnavailable(why)) => {
                tracing::error!(approval = %a.id, %why, "an approval request may not have been stored");
                return Err(CoreError::ApprovalUnconfirmed {
                    approval_id: a.id.to_string(),
                });
            }
            Err(e) => return Err(e),
        }
        self.announce_approval(a.id);
        self.answer_created(a, wait).await
    }

    /// The answer to the caller that just created `a`: its outcome once final, waiting up
    /// to `wait`. The request exists, so if its state cannot be read meanwhile (the
    /// database out of reach) it stands as created, and the caller is told it is pending,
    /// with the id to poll, never that nothing happened.
    async fn answer_created(
        &self,
        a: &ApprovalRequest,
        wait: Duration,
    ) -> Result<Executed, CoreError> {
        match self.await_final(a.org_id, a.id, wait).await {
            Ok(now) => outcome_of(&now),
            Err(e) => {
                tracing::warn!(approval = %a.id, error = %e, "cannot follow a new approval request; answering pending");
                outcome_of(a)
            }
        }
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
}
