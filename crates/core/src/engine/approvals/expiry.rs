//! Silence means no: requests nobody decided expire, and calls interrupted by a stop are
//! failed, never run again.

use super::*;

impl Engine {
    /// Expires `a` if it is pending and due; the request as it is afterwards.
    pub(super) async fn expire_if_due(
        &self,
        a: ApprovalRequest,
    ) -> Result<ApprovalRequest, CoreError> {
        if a.status != Pending || self.now_ms() < a.expires_ms {
            return Ok(a);
        }
        let mut change = ApprovalChange::new(&[Pending], Expired);
        change.decided_ms = Some(self.now_ms());
        let note = |e: &mut ApprovalChanged| {
            e.expires_at = Some(format_ts(a.expires_ms));
            e.reason = Some("nobody decided in time".into());
        };
        match self.transition(&a, change, Actor::system(), note).await? {
            Some(done) => {
                if done.kind == ApprovalKind::Grant {
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
                change.outcome = Some(CallOutcome::Unreachable {
                    message: "ARX restarted while this approved call was pending or running; it was not run again".into(),
                });
                let note = |e: &mut ApprovalChanged| {
                    e.reason = Some("interrupted by a restart; not run again".into());
                };
                if self
                    .transition(&a, change, Actor::system(), note)
                    .await?
                    .is_some()
                {
                    n += 1;
                }
            }
        }
        Ok(n)
    }
}
