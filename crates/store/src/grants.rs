//! Time-bound grants: created when asked for, moved by compare-and-set.

use arx_core::ids::{AgentId, GrantId, OrgId};
use arx_core::model::{Grant, GrantChange, GrantStatus};
use arx_core::store::{GrantStore, StoreResult};
use async_trait::async_trait;

use crate::{SqlStore, compare_and_set, db_err, in_org, placeholders, rows, to_json};

const COLS: &str = "id, org_id, agent_id, connector, operations, resource, reason, ttl_secs, approval_id, \
     status, created_ms, starts_ms, expires_ms, ended_ms, ended_reason, instance_id, requirements";

#[async_trait]
impl GrantStore for SqlStore {
    async fn create_grant(&self, g: &Grant) -> StoreResult<()> {
        self.exec(
sqlx::query(&format!(
            "INSERT INTO grants ({COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)"
        ))
        .bind(g.id.to_string())
        .bind(g.org_id.to_string())
        .bind(g.agent_id.to_string())
        .bind(&g.connector)
        .bind(to_json(&g.operations)?)
        .bind(g.resource.as_ref().map(to_json).transpose()?)
        .bind(&g.reason)
        .bind(i64::from(g.ttl_secs))
        .bind(g.approval_id.to_string())
        .bind(g.status.as_str())
        .bind(g.created_ms)
        .bind(g.starts_ms)
        .bind(g.expires_ms)
        .bind(g.ended_ms)
        .bind(&g.ended_reason)
        .bind(g.instance_id.map(|i| i.to_string()))
        .bind(g.requirements.as_ref().map(to_json).transpose()?), "create grant")
.await?;
        Ok(())
    }

    async fn grant(&self, org: OrgId, id: GrantId) -> StoreResult<Option<Grant>> {
        Ok(self
            .grants_where(
                "org_id = $1 AND id = $2",
                &[org.to_string(), id.to_string()],
                Some(1),
            )
            .await?
            .pop())
    }

    async fn list_grants(&self, org: OrgId) -> StoreResult<Vec<Grant>> {
        self.grants_where("org_id = $1", &[org.to_string()], Some(500))
            .await
    }

    /// Every requested or active grant of an agent, however many the org has.
    async fn open_grants_of_agent(&self, org: OrgId, agent: AgentId) -> StoreResult<Vec<Grant>> {
        self.grants_where(
            "org_id = $1 AND agent_id = $2 AND status IN ('requested', 'active')",
            &[org.to_string(), agent.to_string()],
            None,
        )
        .await
    }

    async fn active_grants(
        &self,
        org: OrgId,
        agent: AgentId,
        connector: &str,
    ) -> StoreResult<Vec<Grant>> {
        self.grants_where(
            "org_id = $1 AND agent_id = $2 AND connector = $3 AND status = 'active'",
            &[org.to_string(), agent.to_string(), connector.to_string()],
            None,
        )
        .await
    }

    async fn grants_due(&self, status: GrantStatus, due_before_ms: i64) -> StoreResult<Vec<Grant>> {
        let sql = format!(
            "SELECT {COLS} FROM grants WHERE status = $1 AND expires_ms <= $2 ORDER BY expires_ms LIMIT 1000"
        );
        self.fetch_all(
            sqlx::query(&sql).bind(status.as_str()).bind(due_before_ms),
            "grants due",
            rows::grant,
        )
        .await
    }

    async fn change_grant(&self, org: OrgId, id: GrantId, c: &GrantChange) -> StoreResult<bool> {
        let sql = format!(
            "UPDATE grants SET status = $3, starts_ms = COALESCE($4, starts_ms), \
             expires_ms = COALESCE($5, expires_ms), ended_ms = COALESCE($6, ended_ms), \
             ended_reason = COALESCE($7, ended_reason) \
             WHERE org_id = $1 AND id = $2 AND status IN ({})",
            placeholders(8, c.from.len())
        );
        let q = in_org(&sql, org)
            .bind(id.to_string())
            .bind(c.to.as_str())
            .bind(c.starts_ms)
            .bind(c.expires_ms)
            .bind(c.ended_ms)
            .bind(c.ended_reason.clone());
        let from = c.from.iter().map(|s| s.as_str());
        compare_and_set(&self.pool, q, from, "change grant").await
    }
}

impl SqlStore {
    /// The newest grants matching `cond`, at most `limit` (`None`: all of them).
    async fn grants_where(
        &self,
        cond: &str,
        binds: &[String],
        limit: Option<u32>,
    ) -> StoreResult<Vec<Grant>> {
        let limit = limit.map(|n| format!(" LIMIT {n}")).unwrap_or_default();
        let sql = format!("SELECT {COLS} FROM grants WHERE {cond} ORDER BY created_ms DESC{limit}");
        let mut q = sqlx::query(&sql);
        for b in binds {
            q = q.bind(b.clone());
        }
        q.fetch_all(&self.pool)
            .await
            .map_err(db_err("grants"))?
            .iter()
            .map(rows::grant)
            .collect()
    }
}
