//! Manifest versions: inserted once, read by org and agent. The primary key
//! (agent_id, version) is what makes a version immutable across replicas.

use arx_core::CoreError;
use arx_core::ids::{AgentId, DriftId, OrgId};
use arx_core::model::registry::{DriftAlert, ManifestVersion, Retirement};
use arx_core::registry::Severity;
use arx_core::store::{DriftChange, DriftQuery, RegistryStore, StoreResult};
use async_trait::async_trait;

use crate::{SqlStore, compare_and_set, db_err, in_org, placeholders, rows, to_json};

pub(crate) const DRIFT_COLS: &str = "id, org_id, agent_id, signal_key, kind, severity, action, signal, message, \
     manifest_version, audit_id, status, occurrences, created_ms, last_ms, updated_ms, updated_by, note";

pub(crate) const MANIFEST_COLS: &str = "org_id, agent_id, version, manifest, hash, generated, rollback_of, reason, created_by, created_ms";

const RETIREMENT_COLS: &str =
    "agent_id, org_id, reason, retention_class, replaced_by, retired_by, retired_ms, seal_id";

/// A retirement's columns, with the retired agent's name.
fn retirement_select(cond: &str) -> String {
    format!(
        "SELECT {RETIREMENT_COLS}, (SELECT name FROM agents WHERE agents.id = agent_retirements.agent_id) AS agent \
         FROM agent_retirements WHERE org_id = $1 AND {cond}"
    )
}

#[async_trait]
impl RegistryStore for SqlStore {
    #[tracing::instrument(skip_all, fields(org = %v.org_id, agent = %v.agent_id, version = v.version))]
    async fn create_manifest_version(&self, v: &ManifestVersion) -> StoreResult<()> {
        let sql = format!(
            "INSERT INTO manifest_versions ({MANIFEST_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
        );
        let insert = in_org(&sql, v.org_id)
            .bind(v.agent_id.to_string())
            .bind(v.version)
            .bind(to_json(&v.manifest)?)
            .bind(&v.hash)
            .bind(i64::from(v.generated))
            .bind(v.rollback_of)
            .bind(&v.reason)
            .bind(&v.created_by)
            .bind(v.created_ms);
        // The version and the agent's pointer to it, together: the execute path reads
        // the pointer with the agent.
        let point = in_org(
            "UPDATE agents SET manifest_version = $3 WHERE org_id = $1 AND id = $2 \
             AND (manifest_version IS NULL OR manifest_version < $3)",
            v.org_id,
        )
        .bind(v.agent_id.to_string())
        .bind(v.version);
        let mut tx = self
            .pool
            .begin()
            .await
            .map_err(db_err("manifest version"))?;
        insert
            .execute(&mut *tx)
            .await
            .map_err(db_err("manifest version"))?;
        point
            .execute(&mut *tx)
            .await
            .map_err(db_err("manifest version"))?;
        tx.commit().await.map_err(db_err("manifest version"))
    }

    async fn manifest_versions(
        &self,
        org: OrgId,
        agent: AgentId,
    ) -> StoreResult<Vec<ManifestVersion>> {
        let sql = format!(
            "SELECT {MANIFEST_COLS} FROM manifest_versions WHERE org_id = $1 AND agent_id = $2 ORDER BY version DESC"
        );
        let q = in_org(&sql, org).bind(agent.to_string());
        self.fetch_all(q, "manifest versions", rows::manifest_version)
            .await
    }

    async fn manifest_version(
        &self,
        org: OrgId,
        agent: AgentId,
        version: i64,
    ) -> StoreResult<Option<ManifestVersion>> {
        let sql = format!(
            "SELECT {MANIFEST_COLS} FROM manifest_versions WHERE org_id = $1 AND agent_id = $2 AND version = $3"
        );
        let q = in_org(&sql, org).bind(agent.to_string()).bind(version);
        self.fetch_opt(q, "manifest version", rows::manifest_version)
            .await
    }

    async fn current_manifest(
        &self,
        org: OrgId,
        agent: AgentId,
    ) -> StoreResult<Option<ManifestVersion>> {
        let sql = format!(
            "SELECT {MANIFEST_COLS} FROM manifest_versions WHERE org_id = $1 AND agent_id = $2 ORDER BY version DESC LIMIT 1"
        );
        let q = in_org(&sql, org).bind(agent.to_string());
        self.fetch_opt(q, "current manifest", rows::manifest_version)
            .await
    }

    #[tracing::instrument(skip_all, fields(org = %a.org_id, agent = %a.agent_id, kind = a.signal.kind()))]
    async fn raise_drift_alert(&self, a: &DriftAlert) -> StoreResult<bool> {
        // Twice at most: a concurrent raise may insert between our count and our insert.
        for _ in 0..2 {
            if self.count_drift(a).await? {
                return Ok(false);
            }
            let sql = format!(
                "INSERT INTO drift_alerts ({DRIFT_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)"
            );
            let q = sqlx::query(&sql)
                .bind(a.id.to_string())
                .bind(a.org_id.to_string())
                .bind(a.agent_id.to_string())
                .bind(&a.signal_key)
                .bind(a.signal.kind())
                .bind(a.severity.as_str())
                .bind(a.action.as_str())
                .bind(to_json(&a.signal)?)
                .bind(&a.message)
                .bind(a.manifest_version)
                .bind(a.audit_id.clone())
                .bind(a.status.as_str())
                .bind(a.occurrences)
                .bind(a.created_ms)
                .bind(a.last_ms)
                .bind(a.updated_ms)
                .bind(a.updated_by.clone())
                .bind(a.note.clone());
            match self.exec(q, "drift alert").await {
                Ok(_) => return Ok(true),
                Err(CoreError::Conflict(_)) => continue,
                Err(e) => return Err(e),
            }
        }
        Ok(false)
    }

    async fn drift_alerts(&self, org: OrgId, q: &DriftQuery) -> StoreResult<Vec<DriftAlert>> {
        let mut cond = vec!["org_id = $1".to_string()];
        let mut binds: Vec<String> = Vec::new();
        let mut add = |column: &str, value: String| {
            binds.push(value);
            cond.push(format!("{column} = ${}", binds.len() + 1));
        };
        if let Some(a) = q.agent {
            add("agent_id", a.to_string());
        }
        if let Some(s) = q.severity {
            add("severity", s.as_str().to_string());
        }
        if let Some(s) = q.status {
            add("status", s.as_str().to_string());
        }
        let (past, dir) = if q.oldest_first {
            (">", "ASC")
        } else {
            ("<", "DESC")
        };
        let after = match q.after {
            Some(_) => format!(
                " AND (created_ms {past} ${n} OR (created_ms = ${n} AND id {past} ${}))",
                binds.len() + 3,
                n = binds.len() + 2
            ),
            None => String::new(),
        };
        let sql = format!(
            "SELECT {DRIFT_COLS}, (SELECT name FROM agents WHERE agents.id = drift_alerts.agent_id) AS agent \
             FROM drift_alerts WHERE {}{after} ORDER BY created_ms {dir}, id {dir} LIMIT {}",
            cond.join(" AND "),
            q.limit.clamp(1, 500)
        );
        let mut query = in_org(&sql, org);
        for b in binds {
            query = query.bind(b);
        }
        if let Some(c) = q.after {
            query = query.bind(c.created_ms).bind(c.id.to_string());
        }
        self.fetch_all(query, "drift alerts", rows::drift_alert)
            .await
    }

    async fn open_drift_counts(&self, org: OrgId) -> StoreResult<Vec<(Severity, usize)>> {
        let q = in_org(
            "SELECT severity, COUNT(*) AS n FROM drift_alerts \
             WHERE org_id = $1 AND status = 'open' GROUP BY severity",
            org,
        );
        self.fetch_all(q, "open drift counts", |r| {
            Ok((
                rows::named(r, "severity", Severity::parse)?,
                rows::count(r, "n")?,
            ))
        })
        .await
    }

    async fn drift_alert(&self, org: OrgId, id: DriftId) -> StoreResult<Option<DriftAlert>> {
        let sql = format!(
            "SELECT {DRIFT_COLS}, (SELECT name FROM agents WHERE agents.id = drift_alerts.agent_id) AS agent \
             FROM drift_alerts WHERE org_id = $1 AND id = $2"
        );
        self.fetch_opt(
            in_org(&sql, org).bind(id.to_string()),
            "drift alert",
            rows::drift_alert,
        )
        .await
    }

    async fn set_drift_status(
        &self,
        org: OrgId,
        id: DriftId,
        c: &DriftChange<'_>,
    ) -> StoreResult<bool> {
        let sql = format!(
            "UPDATE drift_alerts SET status = $3, updated_by = $4, note = $5, updated_ms = $6 \
             WHERE org_id = $1 AND id = $2 AND status IN ({})",
            placeholders(7, c.from.len())
        );
        let q = in_org(&sql, org)
            .bind(id.to_string())
            .bind(c.to.as_str())
            .bind(c.by.to_string())
            .bind(c.note.to_string())
            .bind(c.now_ms);
        let from = c.from.iter().map(|s| s.as_str());
        compare_and_set(&self.pool, q, from, "drift status").await
    }

    async fn create_retirement(&self, r: &Retirement) -> StoreResult<()> {
        let sql = format!(
            "INSERT INTO agent_retirements ({RETIREMENT_COLS}) VALUES ($2, $1, $3, $4, $5, $6, $7, $8)"
        );
        let q = in_org(&sql, r.org_id)
            .bind(r.agent_id.to_string())
            .bind(&r.reason)
            .bind(&r.retention_class)
            .bind(r.replaced_by.map(|a| a.to_string()))
            .bind(&r.retired_by)
            .bind(r.retired_ms)
            .bind(r.seal_id.to_string());
        self.exec(q, "agent retirement").await?;
        Ok(())
    }

    async fn retirement(&self, org: OrgId, agent: AgentId) -> StoreResult<Option<Retirement>> {
        let sql = retirement_select("agent_id = $2");
        let q = in_org(&sql, org).bind(agent.to_string());
        self.fetch_opt(q, "agent retirement", rows::retirement)
            .await
    }

    async fn predecessors(&self, org: OrgId, agent: AgentId) -> StoreResult<Vec<Retirement>> {
        let sql = retirement_select("replaced_by = $2 ORDER BY retired_ms DESC");
        let q = in_org(&sql, org).bind(agent.to_string());
        self.fetch_all(q, "predecessors", rows::retirement).await
    }
}

impl SqlStore {
    /// Counts one more occurrence on the agent's unresolved alert of the same signal;
    /// `false` when there is none.
    async fn count_drift(&self, a: &DriftAlert) -> StoreResult<bool> {
        let q = in_org(
            "UPDATE drift_alerts SET occurrences = occurrences + 1, last_ms = $4 \
             WHERE org_id = $1 AND agent_id = $2 AND signal_key = $3 AND status <> 'resolved'",
            a.org_id,
        )
        .bind(a.agent_id.to_string())
        .bind(&a.signal_key)
        .bind(a.last_ms);
        Ok(self.exec(q, "count drift").await? > 0)
    }
}
