//! Vendor response bodies, outside the audit chain, and each org's retention of them.
//! Purging drops a body and keeps its row as a tombstone (when, how big, which hash).

use arx_core::ids::{OrgId, RecordId};
use arx_core::store::{ResponseBody, ResponseStore, StoreResult};
use async_trait::async_trait;
use sqlx::any::AnyRow;

use crate::{Query, SqlStore, db_err, in_org, rows};

fn body(row: &AnyRow) -> StoreResult<ResponseBody> {
    Ok(ResponseBody {
        org_id: rows::id(row, "org_id")?,
        record_id: rows::id(row, "record_id")?,
        intercept_id: rows::id(row, "intercept_id")?,
        sha256: rows::get(row, "sha256")?,
        bytes: rows::get(row, "bytes")?,
        body: rows::get(row, "body")?,
        created_ms: rows::get(row, "created_ms")?,
        purged_ms: rows::get(row, "purged_ms")?,
    })
}

/// Binds per response body in a multi-row INSERT.
pub(crate) const BODY_BINDS: usize = 7;

/// The multi-row INSERT of `n` response bodies, its placeholders numbered from `$first`.
pub(crate) fn bodies_sql(n: usize, first: usize) -> String {
    let values = (0..n)
        .map(|i| {
            format!(
                "({})",
                crate::placeholders(first + i * BODY_BINDS, BODY_BINDS)
            )
        })
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "INSERT INTO response_bodies (org_id, record_id, intercept_id, sha256, bytes, body, created_ms) VALUES {values}"
    )
}

/// Binds `bodies` in the order [`bodies_sql`] numbers them.
pub(crate) fn bind_bodies<'q>(mut q: Query<'q>, bodies: &[ResponseBody]) -> Query<'q> {
    for b in bodies {
        q = q
            .bind(b.org_id.to_string())
            .bind(b.record_id.to_string())
            .bind(b.intercept_id.to_string())
            .bind(b.sha256.clone())
            .bind(b.bytes)
            .bind(b.body.clone())
            .bind(b.created_ms);
    }
    q
}

/// One multi-row INSERT of response bodies.
pub(crate) async fn insert_bodies<'c, E: sqlx::Executor<'c, Database = sqlx::Any>>(
    exec: E,
    bodies: &[ResponseBody],
) -> Result<(), sqlx::Error> {
    let sql = bodies_sql(bodies.len(), 1);
    bind_bodies(sqlx::query(&sql), bodies)
        .execute(exec)
        .await
        .map(|_| ())
}

#[async_trait]
impl ResponseStore for SqlStore {
    async fn put_response_body(&self, b: &ResponseBody) -> StoreResult<()> {
        insert_bodies(&self.pool, std::slice::from_ref(b))
            .await
            .map_err(db_err("store response body"))
    }

    async fn response_body(
        &self,
        org: OrgId,
        record: RecordId,
    ) -> StoreResult<Option<ResponseBody>> {
        self.fetch_opt(
in_org("SELECT org_id, record_id, intercept_id, sha256, bytes, body, created_ms, purged_ms \
             FROM response_bodies WHERE org_id = $1 AND record_id = $2", org)
        .bind(record.to_string()), "response body", body)
.await
    }

    async fn response_bodies_due(&self, org: OrgId, before_ms: i64) -> StoreResult<u64> {
        let row = in_org(
            "SELECT COUNT(*) AS n FROM response_bodies \
             WHERE org_id = $1 AND created_ms < $2 AND purged_ms IS NULL",
            org,
        )
        .bind(before_ms)
        .fetch_one(&self.pool)
        .await
        .map_err(db_err("count response bodies"))?;
        Ok(u64::try_from(rows::get::<i64>(&row, "n")?).unwrap_or(0))
    }

    async fn purge_response_bodies(
        &self,
        org: OrgId,
        before_ms: i64,
        now_ms: i64,
    ) -> StoreResult<u64> {
        Ok(crate::write(
            &self.pool,
            in_org(
                "UPDATE response_bodies SET body = NULL, purged_ms = $3 \
             WHERE org_id = $1 AND created_ms < $2 AND purged_ms IS NULL",
                org,
            )
            .bind(before_ms)
            .bind(now_ms),
        )
        .await
        .map_err(db_err("purge response bodies"))?
        .rows_affected())
    }

    async fn response_retention_days(&self, org: OrgId) -> StoreResult<Option<u32>> {
        in_org(
            "SELECT response_days FROM retention_settings WHERE org_id = $1",
            org,
        )
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err("retention settings"))?
        .map(|r| rows::get::<i64>(&r, "response_days").map(|d| u32::try_from(d).ok()))
        .transpose()
        .map(Option::flatten)
    }

    async fn set_response_retention_days(
        &self,
        org: OrgId,
        days: u32,
        now_ms: i64,
    ) -> StoreResult<()> {
        self.exec(
in_org("INSERT INTO retention_settings (org_id, response_days, updated_ms) VALUES ($1, $2, $3) \
             ON CONFLICT (org_id) DO UPDATE SET response_days = excluded.response_days, \
             updated_ms = excluded.updated_ms", org)
        .bind(i64::from(days))
        .bind(now_ms), "store retention settings")
.await?;
        Ok(())
    }
}
