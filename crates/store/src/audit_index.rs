//! On SQLite the audit index follows the chain (migration 0029). An append writes the
//! record and its keys only; what the search filters on (kind, agent, connector,
//! verdict, time, actor, approval and the words) is copied from the chain into
//! `audit_index` in small batches, off the call that appended it: by the `audit-index`
//! job every 500 ms, and by every reader of the index, which first copies what its org
//! is missing. So a search sees every record committed before it, and an append no
//! longer maintains fifteen b-trees before the agent is answered.
//!
//! The index's own newest `seq` per org is its watermark: a chain commits in `seq` order
//! (a record names its predecessor's hash, so it can only follow a committed one), so
//! what the index lacks is always a suffix of the chain, and a copy that moves no
//! watermark means something is wrong, not that the work is done. Copies are idempotent
//! (`ON CONFLICT DO NOTHING`): two followers copying the same records insert them once.
//!
//! On PostgreSQL `audit_index` is a view of the chain, whose appending statement keeps
//! the indexes (copying measured as a loss there: see its migration 0029), so there is
//! never anything to copy.

use arx_core::CoreError;
use arx_core::ids::OrgId;
use arx_core::stages::{Stage, timed};
use arx_core::store::StoreResult;

use crate::{Dialect, SqlStore, db_err, in_org, rows};

/// Records per copying statement. The statement holds the writer, and an append waits
/// for it: 32 records took 0.9 to 1.1 ms (p50) in the execute benchmark.
const BATCH: i64 = 32;
/// Records per copying statement while the index is more than four of these behind:
/// each commit also flushes a full-text segment, so small ones cannot keep up with a
/// sustained load (32 at a time copied 10,000 records/s at a million records, fewer than
/// a bulk append of 12,000/s writes; 256 at a time, 21,000/s), and a backlog is what a
/// search would wait for.
const BACKLOG_BATCH: i64 = 256;

impl SqlStore {
    /// Brings the index of `org` up to its chain's head, as of now: what every reader of
    /// `audit_index` calls first. A look at two keys when nothing is missing.
    pub(crate) async fn catch_up(&self, org: OrgId) -> StoreResult<()> {
        if !self.index_trails() {
            return Ok(());
        }
        let row = in_org("SELECT seq FROM chain_heads WHERE org_id = $1", org)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err("audit index position"))?;
        if let Some(row) = row {
            self.index_org(org, rows::get(&row, "seq")?).await?;
        }
        Ok(())
    }

    /// Indexes what the chain of every org has and the index lacks; how many records.
    pub(crate) async fn index_all(&self) -> StoreResult<u64> {
        if !self.index_trails() {
            return Ok(0);
        }
        let behind: Vec<(OrgId, i64)> = self
            .fetch_all(
                sqlx::query(
                    "SELECT h.org_id, h.seq FROM chain_heads h \
                     WHERE h.seq > COALESCE((SELECT MAX(i.seq) FROM audit_index i WHERE i.org_id = h.org_id), -1)",
                ),
                "audit index lag",
                |r| Ok((rows::id(r, "org_id")?, rows::get(r, "seq")?)),
            )
            .await?;
        let mut copied = 0;
        for (org, head) in behind {
            copied += self.index_org(org, head).await?;
        }
        Ok(copied)
    }

    /// Whether `audit_index` is a table behind the chain (SQLite) rather than a view of
    /// it (PostgreSQL, where there is never anything to copy).
    fn index_trails(&self) -> bool {
        self.dialect() == Dialect::Sqlite
    }

    /// The newest `seq` of `org` in the index.
    async fn indexed(&self, org: OrgId) -> StoreResult<Option<i64>> {
        let row = in_org(
            "SELECT MAX(seq) AS seq FROM audit_index WHERE org_id = $1",
            org,
        )
        .fetch_one(&self.pool)
        .await
        .map_err(db_err("audit index position"))?;
        rows::get(&row, "seq")
    }

    /// Copies the records of `org` the index lacks up to `head` at least, [`BATCH`] per
    /// statement ([`BACKLOG_BATCH`] while far behind), each statement its own commit (the
    /// writer is free between them); how many this follower copied. Progress is read
    /// from the index itself, not from what this follower inserted: another follower may
    /// have copied a batch meanwhile.
    async fn index_org(&self, org: OrgId, head: i64) -> StoreResult<u64> {
        const COPY: &str = "INSERT INTO audit_index \
               (org_id, seq, ts_ms, kind, agent_id, connector, operation, verdict, risk_score, actor, approval_id) \
             SELECT org_id, seq, ts_ms, kind, agent_id, connector, operation, verdict, risk_score, actor, approval_id \
             FROM audit_records \
             WHERE org_id = $1 AND seq > COALESCE((SELECT MAX(seq) FROM audit_index WHERE org_id = $1), -1) \
             ORDER BY seq LIMIT $2 \
             ON CONFLICT DO NOTHING";
        let mut copied = 0;
        let mut at = self.indexed(org).await?;
        while at.is_none_or(|a| a < head) {
            let behind = head - at.unwrap_or(0);
            let q = in_org(COPY, org).bind(if behind > BACKLOG_BATCH * 4 {
                BACKLOG_BATCH
            } else {
                BATCH
            });
            // One writer: the copy queues with the appends on theirs instead of waiting
            // out the file lock in the busy handler's sleeps.
            let done = self
                .on_writer(async |conn| timed(Stage::IndexCopy, q.execute(&mut *conn)).await)
                .await
                .map_err(db_err("audit index copy"))?;
            copied += done.rows_affected();
            let now = self.indexed(org).await?;
            if now == at {
                return Err(CoreError::Internal(format!(
                    "the search index of org {org} stays at seq {at:?}, behind its chain's {head}"
                )));
            }
            at = now;
        }
        Ok(copied)
    }
}
