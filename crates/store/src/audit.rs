//! Appending to and reading the audit chain. Appends run in one transaction that locks
//! each org's head row, seals the drafts in order (hashing is the engine's
//! `arx_core::audit::seal`), inserts them and moves the head: all or nothing.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use arx_core::CoreError;
use arx_core::audit::{AuditDraft, AuditRecord, ChainHead, GENESIS_HASH, seal};
use arx_core::ids::OrgId;
use arx_core::store::{AuditQuery, StoreResult};

use crate::{SqlStore, db_err, rows};

/// Records per INSERT: 12 binds each stays under SQLite's 32,766 and PostgreSQL's 65,535.
const INSERT_CHUNK: usize = 500;

impl SqlStore {
    #[tracing::instrument(skip_all, fields(n = drafts.len()))]
    pub(crate) async fn append_audit_tx(
        &self,
        drafts: Vec<AuditDraft>,
    ) -> StoreResult<Vec<AuditRecord>> {
        let mut tx = self.pool.begin().await.map_err(db_err("audit begin"))?;
        let mut heads: HashMap<OrgId, ChainHead> = HashMap::new();
        let mut out = Vec::with_capacity(drafts.len());
        for d in drafts {
            let org = d.org_id;
            if let Entry::Vacant(slot) = heads.entry(org) {
                // One statement takes the head row's lock (SQLite's write lock; PostgreSQL's
                // row lock through DO UPDATE, so replicas never fork a chain) and reads it.
                let row = sqlx::query(
                    "INSERT INTO chain_heads (org_id, seq, hash) VALUES ($1, 0, $2) \
                     ON CONFLICT (org_id) DO UPDATE SET seq = chain_heads.seq RETURNING seq, hash",
                )
                .bind(org.to_string())
                .bind(GENESIS_HASH)
                .fetch_one(&mut *tx)
                .await
                .map_err(db_err("chain head"))?;
                slot.insert(ChainHead {
                    seq: rows::get(&row, "seq")?,
                    hash: rows::get(&row, "hash")?,
                });
            }
            let head = heads
                .get_mut(&org)
                .ok_or_else(|| CoreError::Internal("chain head vanished".into()))?;
            let ts_ms = d.ts_ms;
            out.push((ts_ms, seal(head, d)?));
        }
        // All records in one statement, in chunks that stay under both databases' bind limits.
        for chunk in out.chunks(INSERT_CHUNK) {
            let mut sql = String::from(
                "INSERT INTO audit_records (org_id, seq, id, ts_ms, kind, agent_id, connector, operation, verdict, risk_score, record, hash) VALUES ",
            );
            for i in 0..chunk.len() {
                let b = i * 12;
                if i > 0 {
                    sql.push_str(", ");
                }
                sql.push('(');
                sql.push_str(
                    &(1..=12)
                        .map(|k| format!("${}", b + k))
                        .collect::<Vec<_>>()
                        .join(", "),
                );
                sql.push(')');
            }
            let mut q = sqlx::query(&sql);
            for (ts_ms, r) in chunk {
                let f = |k: &str| r.fields.get(k).and_then(|v| v.as_str()).map(str::to_string);
                let text =
                    serde_json::to_string(r).map_err(|e| CoreError::internal("audit encode", e))?;
                q = q
                    .bind(r.org_id.to_string())
                    .bind(r.seq)
                    .bind(r.id.to_string())
                    .bind(*ts_ms)
                    .bind(r.kind.clone())
                    .bind(f("agent_id"))
                    .bind(f("connector"))
                    .bind(f("operation"))
                    .bind(f("verdict"))
                    .bind(r.risk_score().map(i64::from))
                    .bind(text)
                    .bind(r.hash.clone());
            }
            q.execute(&mut *tx).await.map_err(db_err("audit insert"))?;
        }
        for (org, head) in heads {
            sqlx::query("UPDATE chain_heads SET seq = $2, hash = $3 WHERE org_id = $1")
                .bind(org.to_string())
                .bind(head.seq)
                .bind(&head.hash)
                .execute(&mut *tx)
                .await
                .map_err(db_err("chain head update"))?;
        }
        tx.commit().await.map_err(db_err("audit commit"))?;
        Ok(out.into_iter().map(|(_, r)| r).collect())
    }

    pub(crate) async fn audit_page_q(
        &self,
        org: OrgId,
        q: &AuditQuery,
    ) -> StoreResult<Vec<AuditRecord>> {
        sqlx::query(
            "SELECT record FROM audit_records WHERE org_id = $1 AND seq < $2 ORDER BY seq DESC LIMIT $3",
        )
        .bind(org.to_string())
        .bind(q.before_seq.unwrap_or(i64::MAX))
        .bind(i64::from(q.limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db_err("audit page"))?
        .iter()
        .map(rows::audit)
        .collect()
    }

    pub(crate) async fn audit_after_q(
        &self,
        org: OrgId,
        after_seq: i64,
        limit: u32,
    ) -> StoreResult<Vec<AuditRecord>> {
        sqlx::query(
            "SELECT record FROM audit_records WHERE org_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
        )
        .bind(org.to_string())
        .bind(after_seq)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db_err("audit range"))?
        .iter()
        .map(rows::audit)
        .collect()
    }

    pub(crate) async fn chain_head_q(&self, org: OrgId) -> StoreResult<ChainHead> {
        let row = sqlx::query("SELECT seq, hash FROM chain_heads WHERE org_id = $1")
            .bind(org.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err("chain head"))?;
        match row {
            Some(r) => Ok(ChainHead {
                seq: rows::get(&r, "seq")?,
                hash: rows::get(&r, "hash")?,
            }),
            None => Ok(ChainHead::genesis()),
        }
    }
}
