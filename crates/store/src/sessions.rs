//! Console sessions, stored so they survive restarts and are shared by replicas.

use arx_core::store::StoreResult;

use crate::{SqlStore, db_err, rows};

impl SqlStore {
    pub(crate) async fn session_load_q(
        &self,
        id: &str,
        now_ms: i64,
    ) -> StoreResult<Option<Vec<u8>>> {
        let row = sqlx::query("SELECT data FROM sessions WHERE id = $1 AND expires_ms > $2")
            .bind(id)
            .bind(now_ms)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err("session load"))?;
        row.map(|r| rows::get::<Vec<u8>>(&r, "data")).transpose()
    }

    pub(crate) async fn session_create_q(
        &self,
        id: &str,
        data: &[u8],
        expires_ms: i64,
    ) -> StoreResult<bool> {
        let r = sqlx::query("INSERT INTO sessions (id, data, expires_ms) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING")
            .bind(id)
            .bind(data.to_vec())
            .bind(expires_ms)
            .execute(&self.pool)
            .await
            .map_err(db_err("session create"))?;
        Ok(r.rows_affected() == 1)
    }

    pub(crate) async fn session_save_q(
        &self,
        id: &str,
        data: &[u8],
        expires_ms: i64,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO sessions (id, data, expires_ms) VALUES ($1, $2, $3) \
             ON CONFLICT (id) DO UPDATE SET data = excluded.data, expires_ms = excluded.expires_ms",
        )
        .bind(id)
        .bind(data.to_vec())
        .bind(expires_ms)
        .execute(&self.pool)
        .await
        .map_err(db_err("session save"))?;
        Ok(())
    }

    pub(crate) async fn session_delete_q(&self, id: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM sessions WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(db_err("session delete"))?;
        Ok(())
    }

    pub(crate) async fn session_delete_expired_q(&self, now_ms: i64) -> StoreResult<u64> {
        let r = sqlx::query("DELETE FROM sessions WHERE expires_ms <= $1")
            .bind(now_ms)
            .execute(&self.pool)
            .await
            .map_err(db_err("session sweep"))?;
        Ok(r.rows_affected())
    }
}
