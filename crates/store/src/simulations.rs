//! Policy simulations: each job's report as JSON, written by the replica running it, read
//! by any replica; a cancel request is a flag the runner reads.

use arx_core::CoreError;
use arx_core::ids::{OrgId, SimId};
use arx_core::model::simulation::{SimulationReport, StoredSimulation};
use arx_core::store::{SimulationStore, StoreResult};
use async_trait::async_trait;
use sqlx::any::AnyRow;

use crate::{SqlStore, Table, db_err, in_org, rows};

fn simulation(row: &AnyRow) -> StoreResult<StoredSimulation> {
    Ok(StoredSimulation {
        report: serde_json::from_str(&rows::get::<String>(row, "report")?)
            .map_err(|_| CoreError::Internal("stored simulation report is malformed".into()))?,
        cancel_requested: rows::get::<i64>(row, "cancel_requested")? != 0,
        updated_ms: rows::get(row, "updated_ms")?,
    })
}

const COLS: &str = "report, cancel_requested, updated_ms";

#[async_trait]
impl SimulationStore for SqlStore {
    async fn put_simulation(
        &self,
        org: OrgId,
        r: &SimulationReport,
        now_ms: i64,
    ) -> StoreResult<()> {
        let report = serde_json::to_string(r).map_err(|e| CoreError::internal("encode", e))?;
        self.exec(
sqlx::query(
            "INSERT INTO simulations (id, org_id, status, report, cancel_requested, started_ms, updated_ms) \
             VALUES ($1, $2, $3, $4, 0, $5, $6) \
             ON CONFLICT (id) DO UPDATE SET status = excluded.status, report = excluded.report, \
             updated_ms = excluded.updated_ms",
        )
        .bind(r.id.to_string())
        .bind(org.to_string())
        .bind(r.status.as_str())
        .bind(report)
        .bind(r.started_ms)
        .bind(now_ms), "store simulation")
.await?;
        Ok(())
    }

    async fn simulation(&self, org: OrgId, id: SimId) -> StoreResult<Option<StoredSimulation>> {
        let table = Table {
            name: "simulations",
            cols: COLS,
        };
        self.by_id(table, org, id, "simulation", simulation).await
    }

    async fn simulations(&self, org: OrgId, limit: u32) -> StoreResult<Vec<StoredSimulation>> {
        self.fetch_all(
in_org(&format!(
            "SELECT {COLS} FROM simulations WHERE org_id = $1 ORDER BY started_ms DESC, id LIMIT $2"
        ), org)
        .bind(i64::from(limit)), "simulations", simulation)
.await
    }

    async fn cancel_simulation(&self, org: OrgId, id: SimId) -> StoreResult<bool> {
        let n = crate::write(
            &self.pool,
            in_org(
                "UPDATE simulations SET cancel_requested = 1 \
             WHERE org_id = $1 AND id = $2 AND status = 'running'",
                org,
            )
            .bind(id.to_string()),
        )
        .await
        .map_err(db_err("cancel simulation"))?
        .rows_affected();
        Ok(n == 1)
    }

    async fn simulation_cancel_requested(&self, org: OrgId, id: SimId) -> StoreResult<bool> {
        let row = in_org(
            "SELECT cancel_requested FROM simulations WHERE org_id = $1 AND id = $2",
            org,
        )
        .bind(id.to_string())
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err("simulation cancel request"))?;
        match row {
            Some(r) => Ok(rows::get::<i64>(&r, "cancel_requested")? != 0),
            None => Ok(false),
        }
    }

    async fn prune_simulations(
        &self,
        org: OrgId,
        keep: u32,
        stale_before_ms: i64,
    ) -> StoreResult<()> {
        self.exec(
            in_org(
                "DELETE FROM simulations WHERE org_id = $1 \
               AND (status <> 'running' OR updated_ms < $3) AND id NOT IN \
             (SELECT id FROM simulations WHERE org_id = $1 ORDER BY started_ms DESC, id LIMIT $2)",
                org,
            )
            .bind(i64::from(keep))
            .bind(stale_before_ms),
            "prune simulations",
        )
        .await?;
        Ok(())
    }
}
