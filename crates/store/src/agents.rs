//! Orgs and what they govern: agents, their keys, connector instances. Every query on
//! org data filters by `org_id`.

use std::collections::HashMap;

use arx_core::CoreError;
use arx_core::audit::INTERCEPT;
use arx_core::ids::{AgentId, InstanceId, KeyId, OrgId};
use arx_core::model::{Agent, AgentKey, AgentStatus, Instance, Org};
use arx_core::registry::{Requirement, Selector};
use arx_core::store::{
    AgentStore, AtEpoch, FleetQuery, FleetRows, FleetSort, KeyContext, StoreResult,
};
use async_trait::async_trait;

use crate::{Args, SqlStore, Table, db_err, in_org, placeholders, rows, to_json};

const AGENT_COLS: &str = "id, org_id, name, description, owner, labels, status, declared_rate, created_ms, manifest_version";
const AGENTS: Table = Table {
    name: "agents",
    cols: AGENT_COLS,
};
const INSTANCES: Table = Table {
    name: "instances",
    cols: INSTANCE_COLS,
};
const ORG_COLS: &str = "id, slug, name, policy_version, created_ms";
const INSTANCE_COLS: &str = "id, org_id, connector, name, environment, variables, sensitivity, sealed_credentials, created_ms";

/// The agent columns, of the agents aliased `a`.
const AGENT_COLS_OF_A: &str = "a.id, a.org_id, a.name, a.description, a.owner, a.labels, a.status, a.declared_rate, a.created_ms, a.manifest_version";

/// The conditions of `selector` on the agents aliased `a` (` AND ...` each), over their
/// rows in `agent_labels`: the SQL of [`Selector::matches`].
pub(crate) fn selector_sql(selector: &Selector, args: &mut Args) -> String {
    let mut sql = String::new();
    for r in selector.requirements() {
        let key = args.push(r.key().to_string());
        let mut values = |vs: Vec<&String>| -> String {
            let marks: Vec<String> = vs.into_iter().map(|v| args.push(v.clone())).collect();
            format!(" AND l.value IN ({})", marks.join(", "))
        };
        let (holds, value) = match r {
            Requirement::Equals { value, .. } => (true, values(vec![value])),
            Requirement::NotEquals { value, .. } => (false, values(vec![value])),
            Requirement::In { values: vs, .. } => (true, values(vs.iter().collect())),
            Requirement::NotIn { values: vs, .. } => (false, values(vs.iter().collect())),
            Requirement::Exists { .. } => (true, String::new()),
            Requirement::NotExists { .. } => (false, String::new()),
        };
        sql.push_str(&format!(
            " AND {}EXISTS (SELECT 1 FROM agent_labels l WHERE l.agent_id = a.id AND l.key = {key}{value})",
            if holds { "" } else { "NOT " }
        ));
    }
    sql
}

#[async_trait]
impl AgentStore for SqlStore {
    #[tracing::instrument(skip_all, fields(org = %org.id))]
    async fn create_org(&self, org: &Org, wrapped_data_key: &str) -> StoreResult<()> {
        self.exec(
sqlx::query("INSERT INTO orgs (id, slug, name, policy_version, wrapped_dek, created_ms) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(org.id.to_string())
            .bind(&org.slug)
            .bind(&org.name)
            .bind(org.policy_version)
            .bind(wrapped_data_key)
            .bind(org.created_ms), "create org")
.await?;
        Ok(())
    }

    async fn org_by_slug(&self, slug: &str) -> StoreResult<Option<Org>> {
        self.fetch_opt(
            sqlx::query(&format!("SELECT {ORG_COLS} FROM orgs WHERE slug = $1")).bind(slug),
            "org by slug",
            rows::org,
        )
        .await
    }

    async fn org(&self, id: OrgId) -> StoreResult<Option<Org>> {
        self.fetch_opt(
            sqlx::query(&format!("SELECT {ORG_COLS} FROM orgs WHERE id = $1")).bind(id.to_string()),
            "org",
            rows::org,
        )
        .await
    }

    async fn list_orgs(&self) -> StoreResult<Vec<Org>> {
        self.fetch_all(
            sqlx::query(&format!("SELECT {ORG_COLS} FROM orgs ORDER BY slug")),
            "list orgs",
            rows::org,
        )
        .await
    }

    async fn wrapped_data_key(&self, org: OrgId) -> StoreResult<String> {
        let row = in_org("SELECT wrapped_dek FROM orgs WHERE id = $1", org)
            .fetch_one(&self.pool)
            .await
            .map_err(db_err("data key"))?;
        rows::get(&row, "wrapped_dek")
    }

    #[tracing::instrument(skip_all, fields(org = %a.org_id, agent = %a.id))]
    async fn create_successor(&self, a: &Agent, replaces: Option<AgentId>) -> StoreResult<()> {
        let sql = format!(
            "INSERT INTO agents ({AGENT_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
        );
        let insert = sqlx::query(&sql)
            .bind(a.id.to_string())
            .bind(a.org_id.to_string())
            .bind(&a.name)
            .bind(&a.description)
            .bind(&a.owner)
            .bind(to_json(&a.labels)?)
            .bind(a.status.as_str())
            .bind(i64::from(a.declared_rate))
            .bind(a.created_ms)
            .bind(a.manifest_version);
        // The agent, its labels (what selectors read) and its place in a lineage, together.
        let mut tx = self.pool.begin().await.map_err(db_err("create agent"))?;
        insert
            .execute(&mut *tx)
            .await
            .map_err(db_err("create agent"))?;
        insert_labels(&mut tx, a).await?;
        if let Some(old) = replaces {
            let linked = in_org(
                "UPDATE agent_retirements SET replaced_by = $2 \
                 WHERE org_id = $1 AND agent_id = $3 AND replaced_by IS NULL",
                a.org_id,
            )
            .bind(a.id.to_string())
            .bind(old.to_string())
            .execute(&mut *tx)
            .await
            .map_err(db_err("create agent"))?;
            if linked.rows_affected() != 1 {
                return Err(CoreError::InvalidField {
                    field: "replaces",
                    message: format!("agent {old} is not a retired agent without a successor"),
                });
            }
        }
        tx.commit().await.map_err(db_err("create agent"))
    }

    async fn update_agent(&self, a: &Agent) -> StoreResult<bool> {
        let mut tx = self.pool.begin().await.map_err(db_err("update agent"))?;
        let done = in_org(
            "UPDATE agents SET owner = $3, description = $4, labels = $5 \
             WHERE org_id = $1 AND id = $2",
            a.org_id,
        )
        .bind(a.id.to_string())
        .bind(&a.owner)
        .bind(&a.description)
        .bind(to_json(&a.labels)?)
        .execute(&mut *tx)
        .await
        .map_err(db_err("update agent"))?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        in_org(
            "DELETE FROM agent_labels WHERE org_id = $1 AND agent_id = $2",
            a.org_id,
        )
        .bind(a.id.to_string())
        .execute(&mut *tx)
        .await
        .map_err(db_err("update agent"))?;
        insert_labels(&mut tx, a).await?;
        tx.commit().await.map_err(db_err("update agent"))?;
        Ok(true)
    }

    async fn agent(&self, org: OrgId, id: AgentId) -> StoreResult<Option<Agent>> {
        self.by_id(AGENTS, org, id, "agent", rows::agent).await
    }

    async fn list_agents(&self, org: OrgId) -> StoreResult<Vec<Agent>> {
        self.all_in_org(AGENTS, org, "ORDER BY name", "list agents", rows::agent)
            .await
    }

    async fn fleet_page(&self, org: OrgId, q: &FleetQuery) -> StoreResult<FleetRows> {
        let mut args = Args::default();
        let mut filter = selector_sql(&q.selector, &mut args);
        if let Some(since) = q.live_or_called_since {
            self.catch_up(org).await?;
            // An index seek per decommissioned agent (org, agent, kind, ts).
            filter.push_str(&format!(
                " AND (a.status <> 'decommissioned' OR EXISTS (SELECT 1 FROM audit_index r \
                 WHERE r.org_id = a.org_id AND r.agent_id = a.id AND r.kind = '{INTERCEPT}' \
                 AND r.ts_ms >= {since}))"
            ));
        }
        let sort = match q.sort {
            FleetSort::Name => "a.name",
            FleetSort::Owner => "a.owner",
            FleetSort::Status => "a.status",
            FleetSort::ManifestVersion => "COALESCE(a.manifest_version, 0)",
            FleetSort::Created => "a.created_ms",
            FleetSort::OpenDrift => "open_drift",
            FleetSort::ActiveKeys => "active_keys",
        };
        let dir = q.order.sql();
        let page = format!(
            "SELECT {cols}, \
             (SELECT COUNT(*) FROM agent_keys k WHERE k.org_id = a.org_id AND k.agent_id = a.id \
              AND k.revoked_ms IS NULL) AS active_keys, \
             (SELECT COUNT(*) FROM drift_alerts d WHERE d.org_id = a.org_id AND d.agent_id = a.id \
              AND d.status = 'open') AS open_drift, \
             COALESCE((SELECT m.generated FROM manifest_versions m WHERE m.org_id = a.org_id \
              AND m.agent_id = a.id AND m.version = a.manifest_version), 0) AS manifest_generated \
             FROM agents a WHERE a.org_id = $1{filter} \
             ORDER BY {sort} {dir}, a.name, a.id LIMIT {} OFFSET {}",
            q.limit,
            q.offset,
            cols = AGENT_COLS_OF_A,
        );
        let rows = self
            .fetch_all(args.bound(&page, org), "fleet", rows::fleet_row)
            .await?;
        let count_sql = format!("SELECT COUNT(*) AS n FROM agents a WHERE a.org_id = $1{filter}");
        let total = self
            .fetch_opt(args.bound(&count_sql, org), "fleet count", |r| {
                rows::count(r, "n")
            })
            .await?
            .unwrap_or(0);
        let groups = match &q.group_by {
            None => None,
            Some(key) => {
                let mut args = args.clone();
                let key = args.push(key.clone());
                let sql = format!(
                    "SELECT l.value AS value, COUNT(*) AS n FROM agents a \
                     LEFT JOIN agent_labels l ON l.agent_id = a.id AND l.key = {key} \
                     WHERE a.org_id = $1{filter} GROUP BY l.value"
                );
                let found = self
                    .fetch_all(args.bound(&sql, org), "fleet groups", |r| {
                        Ok((rows::get(r, "value")?, rows::count(r, "n")?))
                    })
                    .await?;
                Some(found)
            }
        };
        Ok(FleetRows {
            rows,
            total,
            groups,
        })
    }

    async fn agent_names(
        &self,
        org: OrgId,
        ids: &[AgentId],
    ) -> StoreResult<Vec<(AgentId, String)>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT id, name FROM agents WHERE org_id = $1 AND id IN ({})",
            placeholders(2, ids.len())
        );
        let q = ids
            .iter()
            .fold(in_org(&sql, org), |q, id| q.bind(id.to_string()));
        self.fetch_all(q, "agent names", |r| {
            Ok((rows::id(r, "id")?, rows::get(r, "name")?))
        })
        .await
    }

    async fn agent_by_name(&self, org: OrgId, name: &str) -> StoreResult<Option<Agent>> {
        let sql = format!("SELECT {AGENT_COLS} FROM agents WHERE org_id = $1 AND name = $2");
        self.fetch_opt(in_org(&sql, org).bind(name), "agent by name", rows::agent)
            .await
    }

    async fn agents_by_status(&self, org: OrgId) -> StoreResult<Vec<(AgentStatus, usize)>> {
        let q = in_org(
            "SELECT status, COUNT(*) AS n FROM agents WHERE org_id = $1 GROUP BY status",
            org,
        );
        self.fetch_all(q, "agents by status", |r| {
            Ok((
                rows::named(r, "status", AgentStatus::parse)?,
                rows::count(r, "n")?,
            ))
        })
        .await
    }

    async fn set_agent_status(
        &self,
        org: OrgId,
        id: AgentId,
        status: AgentStatus,
    ) -> StoreResult<bool> {
        let status = status.as_str().to_owned();
        self.set_by_id("agents", "status", org, id, status, "agent status")
            .await
    }

    async fn create_agent_key(&self, k: &AgentKey) -> StoreResult<()> {
        self.exec(
sqlx::query(
            "INSERT INTO agent_keys (id, org_id, agent_id, prefix, hash, created_ms) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(k.id.to_string())
        .bind(k.org_id.to_string())
        .bind(k.agent_id.to_string())
        .bind(&k.prefix)
        .bind(&k.hash)
        .bind(k.created_ms), "create key")
.await?;
        Ok(())
    }

    async fn list_agent_keys(&self, org: OrgId, agent: AgentId) -> StoreResult<Vec<AgentKey>> {
        self.fetch_all(
            in_org(
                "SELECT id, org_id, agent_id, prefix, hash, created_ms, revoked_ms, last_used_ms FROM agent_keys \
                 WHERE org_id = $1 AND agent_id = $2 ORDER BY created_ms DESC",
                org,
            )
            .bind(agent.to_string()),
            "list keys",
            |r| rows::agent_key(r, ""),
        )
        .await
    }

    async fn agent_by_key_hash(&self, hash: &str) -> StoreResult<Option<KeyContext>> {
        let row = sqlx::query(
            "SELECT k.id AS k_id, k.org_id AS k_org_id, k.agent_id AS k_agent_id, k.prefix AS k_prefix, \
             k.hash AS k_hash, k.created_ms AS k_created_ms, k.revoked_ms AS k_revoked_ms, k.last_used_ms AS k_last_used_ms, \
             a.id, a.org_id, a.name, a.description, a.owner, a.labels, a.status, a.declared_rate, a.created_ms, a.manifest_version, \
             o.id AS o_id, o.slug AS o_slug, o.name AS o_name, o.policy_version AS o_policy_version, o.created_ms AS o_created_ms, \
             COALESCE(e.epoch, 0) AS arx_epoch \
             FROM agent_keys k JOIN agents a ON a.id = k.agent_id AND a.org_id = k.org_id \
             JOIN orgs o ON o.id = a.org_id LEFT JOIN org_epochs e ON e.org_id = o.id WHERE k.hash = $1",
        )
        .bind(hash)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err("agent by key"))?;
        row.map(|r| {
            Ok(KeyContext {
                key: rows::agent_key(&r, "k_")?,
                agent: rows::agent(&r)?,
                org: rows::org_prefixed(&r, "o_")?,
                epoch: rows::get(&r, "arx_epoch")?,
            })
        })
        .transpose()
    }

    async fn listen_config_changes(
        &self,
    ) -> StoreResult<Option<tokio::sync::mpsc::UnboundedReceiver<OrgId>>> {
        // Sent by the `bump_org_epoch` trigger (migration 0028).
        self.listen("arx_config").await
    }

    async fn org_epochs(&self, orgs: &[OrgId]) -> StoreResult<HashMap<OrgId, i64>> {
        if orgs.is_empty() {
            return Ok(HashMap::new());
        }
        let sql = format!(
            "SELECT org_id, epoch FROM org_epochs WHERE org_id IN ({})",
            placeholders(1, orgs.len())
        );
        let mut q = sqlx::query(&sql);
        for o in orgs {
            q = q.bind(o.to_string());
        }
        let rows = self
            .fetch_all(q, "org epochs", |r| {
                Ok((rows::id(r, "org_id")?, rows::get(r, "epoch")?))
            })
            .await?;
        Ok(rows.into_iter().collect())
    }

    async fn revoke_agent_key(&self, org: OrgId, key: KeyId, now_ms: i64) -> StoreResult<bool> {
        let r = self.exec(
in_org("UPDATE agent_keys SET revoked_ms = $3 WHERE org_id = $1 AND id = $2 AND revoked_ms IS NULL", org)
        .bind(key.to_string())
        .bind(now_ms), "revoke key")
.await?;
        Ok(r == 1)
    }

    async fn touch_agent_key(
        &self,
        org: OrgId,
        key: KeyId,
        now_ms: i64,
        stale_before_ms: i64,
    ) -> StoreResult<bool> {
        let q = in_org(
            "UPDATE agent_keys SET last_used_ms = $3 WHERE org_id = $1 AND id = $2 \
             AND (last_used_ms IS NULL OR last_used_ms < $4)",
            org,
        )
        .bind(key.to_string())
        .bind(now_ms)
        .bind(stale_before_ms);
        Ok(self.exec(q, "key last used").await? == 1)
    }

    async fn create_instance(&self, i: &Instance) -> StoreResult<()> {
        self.exec(
sqlx::query(&format!(
            "INSERT INTO instances ({INSTANCE_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        ))
        .bind(i.id.to_string())
        .bind(i.org_id.to_string())
        .bind(&i.connector)
        .bind(&i.name)
        .bind(i.environment.as_str())
        .bind(to_json(&i.variables)?)
        .bind(i.sensitivity.map(i64::from))
        .bind(i.sealed_credentials.clone())
        .bind(i.created_ms), "create instance")
.await?;
        Ok(())
    }

    async fn list_instances(&self, org: OrgId) -> StoreResult<Vec<Instance>> {
        self.all_in_org(
            INSTANCES,
            org,
            "ORDER BY connector, name",
            "list instances",
            rows::instance,
        )
        .await
    }

    async fn instance(&self, org: OrgId, id: InstanceId) -> StoreResult<Option<Instance>> {
        self.by_id(INSTANCES, org, id, "instance", rows::instance)
            .await
    }

    async fn instances_of(
        &self,
        org: OrgId,
        connector: &str,
    ) -> StoreResult<AtEpoch<Vec<Instance>>> {
        // From the org's epoch row, so the epoch comes even when there is no instance.
        let cols: Vec<String> = INSTANCE_COLS
            .split(", ")
            .map(|c| format!("i.{c}"))
            .collect();
        let sql = format!(
            "SELECT e.epoch AS arx_epoch, {} FROM org_epochs e \
             LEFT JOIN instances i ON i.org_id = e.org_id AND i.connector = $2 \
             WHERE e.org_id = $1 ORDER BY i.name",
            cols.join(", ")
        );
        let q = in_org(&sql, org).bind(connector);
        let rows = self
            .fetch_all(q, "instances of", |r| {
                let epoch: i64 = rows::get(r, "arx_epoch")?;
                let exists = rows::get::<Option<String>>(r, "id")?.is_some();
                Ok((epoch, exists.then(|| rows::instance(r)).transpose()?))
            })
            .await?;
        Ok(AtEpoch {
            epoch: rows.first().map_or(0, |(e, _)| *e),
            value: rows.into_iter().filter_map(|(_, i)| i).collect(),
        })
    }

    async fn set_instance_credentials(
        &self,
        org: OrgId,
        id: InstanceId,
        sealed: &str,
    ) -> StoreResult<bool> {
        let sealed = sealed.to_owned();
        self.set_by_id(
            "instances",
            "sealed_credentials",
            org,
            id,
            sealed,
            "set credentials",
        )
        .await
    }
}

/// The agent's labels as rows of `agent_labels` (what label selectors read).
async fn insert_labels(tx: &mut sqlx::Transaction<'_, sqlx::Any>, a: &Agent) -> StoreResult<()> {
    for (key, value) in &a.labels {
        in_org(
            "INSERT INTO agent_labels (org_id, agent_id, key, value) VALUES ($1, $2, $3, $4)",
            a.org_id,
        )
        .bind(a.id.to_string())
        .bind(key)
        .bind(value)
        .execute(&mut **tx)
        .await
        .map_err(db_err("agent labels"))?;
    }
    Ok(())
}
