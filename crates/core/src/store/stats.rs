//! Aggregates over the audit trail for the fleet's figures: one grouped query each,
//! org-scoped, never a load of records.

use async_trait::async_trait;

use super::StoreResult;
use crate::ids::{AgentId, OrgId};
use crate::model::stats::{AgentActivityRow, DayCalls, DayRisk};

#[async_trait]
pub trait StatsStore: Send + Sync {
    /// For each of `agents` that is `org`'s: its latest intercept record, its keys'
    /// latest use, and its intercepts with `ts_ms >= since_ms` by verdict with their
    /// highest risk. One query for them all; agents of another org are not answered.
    async fn agent_activity(
        &self,
        org: OrgId,
        agents: &[AgentId],
        since_ms: i64,
    ) -> StoreResult<Vec<AgentActivityRow>>;
    /// The org's intercepts with `from_ms <= ts_ms < to_ms` by UTC day and verdict; days
    /// without calls are absent.
    async fn calls_per_day(&self, org: OrgId, range: (i64, i64)) -> StoreResult<Vec<DayCalls>>;
    /// The org's intercepts with `from_ms <= ts_ms < to_ms` by UTC day and risk score.
    async fn risk_per_day(&self, org: OrgId, range: (i64, i64)) -> StoreResult<Vec<DayRisk>>;
}
