//! Leases on periodic jobs, so that of the replicas sharing a database one at a time runs
//! each job. One upsert does the compare-and-set: it inserts the lease when there is
//! none, and updates it only when `holder` already holds it or it ran out; the
//! database's row lock makes exactly one of racing takers win. `ON CONFLICT … WHERE`
//! reads the same on SQLite and PostgreSQL.

use arx_core::store::{LeaseStore, StoreResult};
use async_trait::async_trait;

use crate::{Dialect, SqlStore, db_err};

#[async_trait]
impl LeaseStore for SqlStore {
    fn shared(&self) -> bool {
        self.dialect() == Dialect::Postgres
    }

    #[tracing::instrument(skip_all, fields(job, holder))]
    async fn try_lease(
        &self,
        job: &str,
        holder: &str,
        now_ms: i64,
        ttl_ms: i64,
    ) -> StoreResult<bool> {
        let taken = crate::write(
            &self.pool,
            sqlx::query(
                "INSERT INTO job_leases (job, holder, acquired_ms, renewed_ms, expires_ms) \
             VALUES ($1, $2, $3, $3, $4) \
             ON CONFLICT (job) DO UPDATE SET holder = excluded.holder, \
             acquired_ms = CASE WHEN job_leases.holder = excluded.holder \
                 THEN job_leases.acquired_ms ELSE excluded.acquired_ms END, \
             renewed_ms = excluded.renewed_ms, expires_ms = excluded.expires_ms \
             WHERE job_leases.holder = excluded.holder OR job_leases.expires_ms <= $3",
            )
            .bind(job)
            .bind(holder)
            .bind(now_ms)
            .bind(now_ms.saturating_add(ttl_ms)),
        )
        .await
        .map_err(db_err("take job lease"))?
        .rows_affected();
        Ok(taken == 1)
    }

    async fn release_lease(&self, job: &str, holder: &str) -> StoreResult<()> {
        self.exec(
            sqlx::query("DELETE FROM job_leases WHERE job = $1 AND holder = $2")
                .bind(job)
                .bind(holder),
            "release job lease",
        )
        .await?;
        Ok(())
    }
}
