//! Checkpoint signing keys, checkpoints and audit sinks. Inserts that may race (a first
//! key, a checkpoint) use `ON CONFLICT DO NOTHING`, which both databases accept.

use arx_core::audit::checkpoint::{CHECKPOINT_TYPE, CHECKPOINT_VERSION, Checkpoint};
use arx_core::audit::format_ts;
use arx_core::ids::{OrgId, SinkId};
use arx_core::store::{StoreResult, StoredSigningKey, WitnessStore};
use arx_core::witness::{AuditSink, SinkKind, SinkPurpose};
use async_trait::async_trait;
use sqlx::any::AnyRow;

use crate::{SqlStore, Table, in_org, rows, to_json};

const KEY_COLS: &str = "org_id, key_id, public_key, sealed_private, created_ms";
const CHECKPOINT_COLS: &str = "org_id, seq, hash, ts_ms, key_id, signature";
const SINKS: Table = Table {
    name: "audit_sinks",
    cols: "id, org_id, purpose, kind, name, config, sealed_secrets, created_ms, created_by, \
           cursor_seq, last_ok_ms, last_error, last_error_ms",
};

fn signing_key(row: &AnyRow) -> StoreResult<StoredSigningKey> {
    Ok(StoredSigningKey {
        org_id: rows::id(row, "org_id")?,
        key_id: rows::get(row, "key_id")?,
        public_key: rows::get(row, "public_key")?,
        sealed_private: rows::get(row, "sealed_private")?,
        created_ms: rows::get(row, "created_ms")?,
    })
}

fn checkpoint(row: &AnyRow) -> StoreResult<Checkpoint> {
    Ok(Checkpoint {
        kind: CHECKPOINT_TYPE.into(),
        version: CHECKPOINT_VERSION,
        org_id: rows::id(row, "org_id")?,
        seq: rows::get(row, "seq")?,
        hash: rows::get(row, "hash")?,
        ts: format_ts(rows::get(row, "ts_ms")?),
        key_id: rows::get(row, "key_id")?,
        signature: rows::get(row, "signature")?,
    })
}

fn sink(row: &AnyRow) -> StoreResult<AuditSink> {
    Ok(AuditSink {
        id: rows::id(row, "id")?,
        org_id: rows::id(row, "org_id")?,
        purpose: rows::named(row, "purpose", SinkPurpose::parse)?,
        kind: rows::named(row, "kind", SinkKind::parse)?,
        name: rows::get(row, "name")?,
        config: rows::json(row, "config")?,
        sealed_secrets: rows::get(row, "sealed_secrets")?,
        created_ms: rows::get(row, "created_ms")?,
        created_by: rows::get(row, "created_by")?,
        cursor_seq: rows::get(row, "cursor_seq")?,
        last_ok_ms: rows::get(row, "last_ok_ms")?,
        last_error: rows::get(row, "last_error")?,
        last_error_ms: rows::get(row, "last_error_ms")?,
    })
}

#[async_trait]
impl WitnessStore for SqlStore {
    async fn signing_key(&self, org: OrgId) -> StoreResult<Option<StoredSigningKey>> {
        let sql = format!("SELECT {KEY_COLS} FROM signing_keys WHERE org_id = $1");
        self.fetch_opt(in_org(&sql, org), "signing key", signing_key)
            .await
    }

    async fn insert_signing_key(&self, k: &StoredSigningKey) -> StoreResult<StoredSigningKey> {
        self.exec(
            sqlx::query(
                "INSERT INTO signing_keys (org_id, key_id, public_key, sealed_private, created_ms) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (org_id) DO NOTHING",
            )
            .bind(k.org_id.to_string())
            .bind(&k.key_id)
            .bind(&k.public_key)
            .bind(&k.sealed_private)
            .bind(k.created_ms),
            "insert signing key",
        )
        .await?;
        self.signing_key(k.org_id)
            .await?
            .ok_or_else(|| rows::bad("signing key"))
    }

    async fn last_checkpoint(&self, org: OrgId) -> StoreResult<Option<Checkpoint>> {
        Ok(self.checkpoints_newest(org, 1).await?.pop())
    }

    async fn insert_checkpoint(&self, c: &Checkpoint, ts_ms: i64) -> StoreResult<bool> {
        let n = self
            .exec(
                sqlx::query(
                    "INSERT INTO checkpoints (org_id, seq, hash, ts_ms, key_id, signature) \
                     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (org_id, seq) DO NOTHING",
                )
                .bind(c.org_id.to_string())
                .bind(c.seq)
                .bind(&c.hash)
                .bind(ts_ms)
                .bind(&c.key_id)
                .bind(&c.signature),
                "insert checkpoint",
            )
            .await?;
        Ok(n == 1)
    }

    async fn checkpoints_after(
        &self,
        org: OrgId,
        seq: i64,
        limit: u32,
    ) -> StoreResult<Vec<Checkpoint>> {
        let sql = format!(
            "SELECT {CHECKPOINT_COLS} FROM checkpoints WHERE org_id = $1 AND seq > $2 \
             ORDER BY seq LIMIT $3"
        );
        let q = in_org(&sql, org).bind(seq).bind(i64::from(limit));
        self.fetch_all(q, "checkpoints after", checkpoint).await
    }

    async fn checkpoints_newest(&self, org: OrgId, limit: u32) -> StoreResult<Vec<Checkpoint>> {
        let sql = format!(
            "SELECT {CHECKPOINT_COLS} FROM checkpoints WHERE org_id = $1 \
             ORDER BY seq DESC LIMIT $2"
        );
        let q = in_org(&sql, org).bind(i64::from(limit));
        self.fetch_all(q, "newest checkpoints", checkpoint).await
    }

    async fn checkpoints_count_after(&self, org: OrgId, seq: i64) -> StoreResult<i64> {
        let q = in_org(
            "SELECT COUNT(*) AS n FROM checkpoints WHERE org_id = $1 AND seq > $2",
            org,
        )
        .bind(seq);
        Ok(self
            .fetch_opt(q, "count checkpoints", |r| rows::get::<i64>(r, "n"))
            .await?
            .unwrap_or(0))
    }

    async fn audit_sinks(&self, org: OrgId, purpose: SinkPurpose) -> StoreResult<Vec<AuditSink>> {
        let sql = format!(
            "SELECT {} FROM {} WHERE org_id = $1 AND purpose = $2 ORDER BY created_ms, id",
            SINKS.cols, SINKS.name
        );
        let q = in_org(&sql, org).bind(purpose.as_str());
        self.fetch_all(q, "audit sinks", sink).await
    }

    async fn insert_audit_sink(&self, s: &AuditSink) -> StoreResult<()> {
        self.exec(
            sqlx::query(
                "INSERT INTO audit_sinks (id, org_id, purpose, kind, name, config, sealed_secrets, \
                 created_ms, created_by, cursor_seq) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            )
            .bind(s.id.to_string())
            .bind(s.org_id.to_string())
            .bind(s.purpose.as_str())
            .bind(s.kind.as_str())
            .bind(&s.name)
            .bind(to_json(&s.config)?)
            .bind(s.sealed_secrets.clone())
            .bind(s.created_ms)
            .bind(&s.created_by)
            .bind(s.cursor_seq),
            "insert audit sink",
        )
        .await?;
        Ok(())
    }

    async fn delete_audit_sink(&self, org: OrgId, id: SinkId) -> StoreResult<bool> {
        let q = in_org("DELETE FROM audit_sinks WHERE org_id = $1 AND id = $2", org)
            .bind(id.to_string());
        Ok(self.exec(q, "delete audit sink").await? == 1)
    }

    async fn sink_delivered(
        &self,
        org: OrgId,
        id: SinkId,
        cursor_seq: i64,
        ok_ms: i64,
    ) -> StoreResult<()> {
        let q = in_org(
            "UPDATE audit_sinks SET cursor_seq = $3, last_ok_ms = $4, last_error = NULL, \
             last_error_ms = NULL WHERE org_id = $1 AND id = $2 AND cursor_seq <= $3",
            org,
        )
        .bind(id.to_string())
        .bind(cursor_seq)
        .bind(ok_ms);
        self.exec(q, "sink delivered").await?;
        Ok(())
    }

    async fn sink_failed(
        &self,
        org: OrgId,
        id: SinkId,
        error: &str,
        at_ms: i64,
    ) -> StoreResult<()> {
        let q = in_org(
            "UPDATE audit_sinks SET last_error = $3, last_error_ms = $4 \
             WHERE org_id = $1 AND id = $2",
            org,
        )
        .bind(id.to_string())
        .bind(error.chars().take(1000).collect::<String>())
        .bind(at_ms);
        self.exec(q, "sink failed").await?;
        Ok(())
    }
}
