//! The fleet's figures, aggregated by the database: per agent for a page of the fleet,
//! per UTC day for the overview. Each is one grouped query over the intercept records,
//! scoped by `org_id` like every query on org data, and served by the indexes of
//! migration 0015 (`(org_id, agent_id, kind, ts_ms)` and `(org_id, kind, ts_ms)`).

use arx_core::audit::INTERCEPT;
use arx_core::ids::{AgentId, OrgId};
use arx_core::model::stats::{AgentActivityRow, DAY_MS, DayCalls, DayRisk, VerdictMix};
use arx_core::store::{StatsStore, StoreResult};
use async_trait::async_trait;
use sqlx::any::AnyRow;

use crate::{SqlStore, db_err, in_org, placeholders, rows};

/// The verdict counts of a group, as columns `permit`, `escalate`, `deny`.
const VERDICT_SUMS: &str = "SUM(CASE WHEN verdict = 'PERMIT' THEN 1 ELSE 0 END) AS permit, \
     SUM(CASE WHEN verdict = 'ESCALATE' THEN 1 ELSE 0 END) AS escalate, \
     SUM(CASE WHEN verdict = 'DENY' THEN 1 ELSE 0 END) AS deny";

/// A count column that may be NULL (no row joined): 0.
fn count(row: &AnyRow, col: &str) -> Result<u64, arx_core::CoreError> {
    Ok(rows::get::<Option<i64>>(row, col)?
        .and_then(|n| u64::try_from(n).ok())
        .unwrap_or(0))
}

fn verdicts(row: &AnyRow) -> Result<VerdictMix, arx_core::CoreError> {
    Ok(VerdictMix {
        permit: count(row, "permit")?,
        escalate: count(row, "escalate")?,
        deny: count(row, "deny")?,
    })
}

fn score(n: Option<i64>) -> Option<u8> {
    n.and_then(|n| u8::try_from(n).ok())
}

fn activity(row: &AnyRow) -> Result<AgentActivityRow, arx_core::CoreError> {
    Ok(AgentActivityRow {
        agent_id: rows::id(row, "agent_id")?,
        last_call_ms: rows::get(row, "last_call_ms")?,
        last_key_use_ms: rows::get(row, "last_key_use_ms")?,
        verdicts: verdicts(row)?,
        max_risk: score(rows::get(row, "max_risk")?),
    })
}

#[async_trait]
impl StatsStore for SqlStore {
    async fn agent_activity(
        &self,
        org: OrgId,
        agents: &[AgentId],
        since_ms: i64,
    ) -> StoreResult<Vec<AgentActivityRow>> {
        if agents.is_empty() {
            return Ok(Vec::new());
        }
        self.catch_up(org).await?;
        // $1 org, $2 kind, $3 since, $4… the agents. The agents come from `agents` of the
        // org (so another org's id answers nothing); the latest call and the latest key
        // use are index seeks per agent; the window is one range scan per agent.
        let ids = placeholders(4, agents.len());
        let sql = format!(
            "SELECT a.id AS agent_id, \
               (SELECT MAX(r.ts_ms) FROM audit_index r \
                 WHERE r.org_id = $1 AND r.agent_id = a.id AND r.kind = $2) AS last_call_ms, \
               (SELECT MAX(k.last_used_ms) FROM agent_keys k \
                 WHERE k.org_id = $1 AND k.agent_id = a.id) AS last_key_use_ms, \
               w.permit, w.escalate, w.deny, w.max_risk \
             FROM agents a LEFT JOIN ( \
               SELECT agent_id, {VERDICT_SUMS}, MAX(risk_score) AS max_risk FROM audit_index \
                WHERE org_id = $1 AND kind = $2 AND ts_ms >= $3 AND agent_id IN ({ids}) \
                GROUP BY agent_id \
             ) w ON w.agent_id = a.id \
             WHERE a.org_id = $1 AND a.id IN ({ids})"
        );
        let mut q = in_org(&sql, org).bind(INTERCEPT).bind(since_ms);
        for a in agents {
            q = q.bind(a.to_string());
        }
        self.fetch_all(q, "agent activity", activity).await
    }

    async fn calls_per_day(
        &self,
        org: OrgId,
        (from_ms, to_ms): (i64, i64),
    ) -> StoreResult<Vec<DayCalls>> {
        self.catch_up(org).await?;
        let sql = format!(
            "SELECT ts_ms / {DAY_MS} AS day, {VERDICT_SUMS} FROM audit_index \
             WHERE org_id = $1 AND kind = $2 AND ts_ms >= $3 AND ts_ms < $4 \
             GROUP BY ts_ms / {DAY_MS} ORDER BY day"
        );
        let q = in_org(&sql, org).bind(INTERCEPT).bind(from_ms).bind(to_ms);
        self.fetch_all(q, "calls per day", |r| {
            Ok(DayCalls {
                day_ms: rows::get::<i64>(r, "day")? * DAY_MS,
                verdicts: verdicts(r)?,
            })
        })
        .await
    }

    async fn risk_per_day(
        &self,
        org: OrgId,
        (from_ms, to_ms): (i64, i64),
    ) -> StoreResult<Vec<DayRisk>> {
        self.catch_up(org).await?;
        // By day and score (at most 101 scores a day): the median and the 95th
        // percentile are then exact, the same on both databases (SQLite has no
        // percentile function).
        let sql = format!(
            "SELECT ts_ms / {DAY_MS} AS day, risk_score, COUNT(*) AS n FROM audit_index \
             WHERE org_id = $1 AND kind = $2 AND ts_ms >= $3 AND ts_ms < $4 \
               AND risk_score IS NOT NULL \
             GROUP BY ts_ms / {DAY_MS}, risk_score ORDER BY day, risk_score"
        );
        let found = in_org(&sql, org)
            .bind(INTERCEPT)
            .bind(from_ms)
            .bind(to_ms)
            .fetch_all(&self.pool)
            .await
            .map_err(db_err("risk per day"))?;
        let mut days: Vec<DayRisk> = Vec::new();
        for r in &found {
            let day_ms = rows::get::<i64>(r, "day")? * DAY_MS;
            let Some(s) = score(rows::get(r, "risk_score")?) else {
                continue;
            };
            let n = count(r, "n")?;
            match days.last_mut() {
                Some(d) if d.day_ms == day_ms => d.scores.push((s, n)),
                _ => days.push(DayRisk {
                    day_ms,
                    scores: vec![(s, n)],
                }),
            }
        }
        Ok(days)
    }
}
