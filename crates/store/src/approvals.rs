//! Approval requests: created pending, then moved only by compare-and-set, so exactly one
//! of racing decisions (approve, deny, expiry) wins; votes of multi-approver requests.

use arx_core::ids::{ApprovalId, OrgId};
use arx_core::model::{ApprovalChange, ApprovalRequest, ApprovalStatus, ApprovalVote};
use arx_core::store::{ApprovalStore, StoreResult};
use async_trait::async_trait;

use crate::{
    Dialect, SqlStore, Table, compare_and_set, db_err, in_org, placeholders, rows, to_json,
};

/// The PostgreSQL notification channel of approval changes.
const APPROVALS_CHANNEL: &str = "arx_approvals";

pub(crate) const APPROVAL_COLS: &str = "id, org_id, agent_id, instance_id, connector, operation, params, params_hash, \
     intercept_id, risk_score, policy_id, status, created_ms, expires_ms, requirements, decided_ms, decided_by, \
     comment, outcome, result_audit_id, kind, heartbeat_ms";

#[async_trait]
impl ApprovalStore for SqlStore {
    async fn create_approval(&self, a: &ApprovalRequest) -> StoreResult<()> {
        self.exec(
sqlx::query(&format!(
            "INSERT INTO approvals ({APPROVAL_COLS}) VALUES \
             ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22)"
        ))
        .bind(a.id.to_string())
        .bind(a.org_id.to_string())
        .bind(a.agent_id.to_string())
        .bind(a.instance_id.map(|i| i.to_string()))
        .bind(&a.connector)
        .bind(&a.operation)
        .bind(to_json(&a.params)?)
        .bind(&a.params_hash)
        .bind(a.intercept_id.to_string())
        .bind(i64::from(a.risk_score))
        .bind(&a.policy_id)
        .bind(a.status.as_str())
        .bind(a.created_ms)
        .bind(a.expires_ms)
        .bind(to_json(&a.requirements)?)
        .bind(a.decided_ms)
        .bind(to_json(&a.decided_by)?)
        .bind(&a.comment)
        .bind(a.outcome.as_ref().map(to_json).transpose()?)
        .bind(a.result_audit_id.map(|r| r.to_string()))
        .bind(a.kind.as_str())
        .bind(a.heartbeat_ms), "create approval")
.await?;
        self.notify_approval(a.id).await;
        Ok(())
    }

    /// Every approval id notified on this database by other processes, from a dedicated
    /// connection that reconnects by itself.
    async fn listen_approvals(
        &self,
    ) -> StoreResult<Option<tokio::sync::mpsc::UnboundedReceiver<ApprovalId>>> {
        self.listen(APPROVALS_CHANNEL).await
    }

    async fn approval(&self, org: OrgId, id: ApprovalId) -> StoreResult<Option<ApprovalRequest>> {
        self.by_id(
            Table {
                name: "approvals",
                cols: APPROVAL_COLS,
            },
            org,
            id,
            "approval",
            rows::approval,
        )
        .await
    }

    async fn list_approvals(
        &self,
        org: OrgId,
        status: Option<&str>,
    ) -> StoreResult<Vec<ApprovalRequest>> {
        self.fetch_all(
in_org(&format!(
            "SELECT {APPROVAL_COLS} FROM approvals WHERE org_id = $1 AND ($2 = '' OR status = $2) \
             ORDER BY created_ms DESC LIMIT 500"
        ), org)
        .bind(status.unwrap_or("")), "list approvals", rows::approval)
.await
    }

    async fn change_approval(
        &self,
        org: OrgId,
        id: ApprovalId,
        c: &ApprovalChange,
    ) -> StoreResult<bool> {
        let sql = format!(
            "UPDATE approvals SET status = $3, decided_ms = COALESCE($4, decided_ms), \
             decided_by = COALESCE($5, decided_by), comment = COALESCE($6, comment), \
             outcome = COALESCE($7, outcome), result_audit_id = COALESCE($8, result_audit_id) \
             WHERE org_id = $1 AND id = $2 AND expires_ms > $9 AND status IN ({})",
            placeholders(10, c.from.len())
        );
        let q = in_org(&sql, org)
            .bind(id.to_string())
            .bind(c.to.as_str())
            .bind(c.decided_ms)
            .bind(c.decided_by.as_ref().map(to_json).transpose()?)
            .bind(c.comment.clone())
            .bind(c.outcome.as_ref().map(to_json).transpose()?)
            .bind(c.result_audit_id.map(|r| r.to_string()))
            .bind(c.unexpired_at.unwrap_or(i64::MIN));
        let from = c.from.iter().map(|s| s.as_str());
        let moved = compare_and_set(&self.pool, q, from, "change approval").await?;
        if moved {
            self.notify_approval(id).await;
        }
        Ok(moved)
    }

    /// Tells other replicas that the approved call of `id` is still running.
    async fn beat_approval(&self, org: OrgId, id: ApprovalId, now_ms: i64) -> StoreResult<bool> {
        let r = self
            .exec(
                in_org(
                    "UPDATE approvals SET heartbeat_ms = $3 \
             WHERE org_id = $1 AND id = $2 AND status IN ('approved', 'executing')",
                    org,
                )
                .bind(id.to_string())
                .bind(now_ms),
                "approval heartbeat",
            )
            .await?;
        Ok(r == 1)
    }

    async fn add_approval_vote(&self, org: OrgId, v: &ApprovalVote) -> StoreResult<bool> {
        let r = crate::write(
            &self.pool,
            sqlx::query(
                "INSERT INTO approval_votes (approval_id, org_id, user_id, email, comment, created_ms) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(v.approval_id.to_string())
            .bind(org.to_string())
            .bind(v.user_id.to_string())
            .bind(&v.email)
            .bind(&v.comment)
            .bind(v.created_ms),
        )
        .await;
        match r {
            Ok(_) => Ok(true),
            Err(e)
                if e.as_database_error()
                    .is_some_and(|d| d.is_unique_violation()) =>
            {
                Ok(false)
            }
            Err(e) => Err(db_err("approval vote")(e)),
        }
    }

    async fn approval_votes(&self, org: OrgId, id: ApprovalId) -> StoreResult<Vec<ApprovalVote>> {
        self.fetch_all(
            in_org(
                "SELECT approval_id, user_id, email, comment, created_ms FROM approval_votes \
             WHERE org_id = $1 AND approval_id = $2 ORDER BY created_ms, user_id",
                org,
            )
            .bind(id.to_string()),
            "approval votes",
            rows::vote,
        )
        .await
    }

    async fn approvals_in_status(
        &self,
        status: ApprovalStatus,
        due_before_ms: Option<i64>,
    ) -> StoreResult<Vec<ApprovalRequest>> {
        self.fetch_all(
            sqlx::query(&format!(
                "SELECT {APPROVAL_COLS} FROM approvals WHERE status = $1 AND expires_ms <= $2 \
             ORDER BY expires_ms LIMIT 1000"
            ))
            .bind(status.as_str())
            .bind(due_before_ms.unwrap_or(i64::MAX)),
            "approvals by status",
            rows::approval,
        )
        .await
    }

    #[tracing::instrument(skip_all, fields(approval = %id))]
    async fn approval_org(&self, id: ApprovalId) -> StoreResult<Option<OrgId>> {
        sqlx::query("SELECT org_id FROM approvals WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err("approval org"))?
            .map(|r| rows::id(&r, "org_id"))
            .transpose()
    }
}

impl SqlStore {
    /// Tells the other processes on this database that a request changed (PostgreSQL).
    /// The payload is `{instance}:{approval id}`; this process's listener skips its own.
    async fn notify_approval(&self, id: ApprovalId) {
        if self.dialect == Dialect::Postgres {
            let r = sqlx::query("SELECT pg_notify($1, $2)")
                .bind(APPROVALS_CHANNEL)
                .bind(format!("{}:{id}", self.instance))
                .execute(&self.pool)
                .await;
            if let Err(e) = r {
                tracing::warn!(error = %e, "could not notify other replicas of an approval change");
            }
        }
    }
}
