//! The fleet's figures for the people who answer for it: each agent's recent activity
//! (for a page of the fleet) and the org's calls and risk per UTC day. The store
//! aggregates; here the windows are fixed and the gaps filled.

use std::collections::BTreeMap;

use super::admin::ReadOps;
use crate::error::CoreError;
use crate::ids::AgentId;
use crate::model::Agent;
use crate::model::stats::{
    ACTIVITY_WINDOW_MS, AgentActivity, CHART_DAYS, DAY_MS, DayCalls, DayRisk, day_start,
};

/// The org's last [`CHART_DAYS`] UTC days, today included, oldest first; a day without
/// calls is there with zeros.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DailyStats {
    pub calls: Vec<DayCalls>,
    pub risk: Vec<DayRisk>,
}

impl ReadOps<'_> {
    /// The activity of `agents` (of this org; at most a page of the fleet), in one
    /// store query, by agent id; every agent has an entry.
    pub async fn activity(
        &self,
        agents: &[Agent],
    ) -> Result<BTreeMap<AgentId, AgentActivity>, CoreError> {
        let e = self.engine;
        let ids: Vec<AgentId> = agents.iter().map(|a| a.id).collect();
        let since = e.now_ms() - ACTIVITY_WINDOW_MS;
        let found = e.store.agent_activity(self.who.org_id, &ids, since).await?;
        let mut out: BTreeMap<AgentId, AgentActivity> = ids
            .iter()
            .map(|id| {
                let never = AgentActivity {
                    never_used: true,
                    ..Default::default()
                };
                (*id, never)
            })
            .collect();
        for row in found {
            out.insert(row.agent_id, row.into());
        }
        Ok(out)
    }

    /// Calls by verdict and risk, per UTC day of the last [`CHART_DAYS`] days.
    pub async fn daily_stats(&self) -> Result<DailyStats, CoreError> {
        let e = self.engine;
        let now = e.now_ms();
        let first = day_start(now) - (CHART_DAYS - 1) * DAY_MS;
        let range = (first, day_start(now) + DAY_MS);
        let org = self.who.org_id;
        let calls = e.store.calls_per_day(org, range).await?;
        let risk = e.store.risk_per_day(org, range).await?;
        let days = (0..CHART_DAYS).map(|i| first + i * DAY_MS);
        Ok(DailyStats {
            calls: days
                .clone()
                .map(|d| {
                    let found = calls.iter().find(|c| c.day_ms == d);
                    found.cloned().unwrap_or(DayCalls {
                        day_ms: d,
                        verdicts: Default::default(),
                    })
                })
                .collect(),
            risk: days
                .map(|d| {
                    let found = risk.iter().find(|r| r.day_ms == d);
                    found.cloned().unwrap_or(DayRisk {
                        day_ms: d,
                        scores: Vec::new(),
                    })
                })
                .collect(),
        })
    }
}
