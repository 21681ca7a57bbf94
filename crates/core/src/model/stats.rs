//! The fleet's activity as the CISO reads it: per agent over the last 24 hours, and per
//! UTC day over the last 7, computed by the store from the intercept records (one
//! grouped query each, never by loading records).

use serde::{Deserialize, Serialize};

use crate::ids::AgentId;

/// The window of an agent's activity figures: the last 24 hours.
pub const ACTIVITY_WINDOW_MS: i64 = 24 * 60 * 60 * 1000;
/// One UTC day.
pub const DAY_MS: i64 = 24 * 60 * 60 * 1000;
/// How many UTC days the overview charts cover (today included).
pub const CHART_DAYS: i64 = 7;
/// How old a key's `last_used_ms` may grow before a call writes it again: it is kept
/// to the hour, so the execute path writes at most once an hour per key.
pub const KEY_USE_RESOLUTION_MS: i64 = 60 * 60 * 1000;
/// A live key not used for this long is flagged ("unused 30 days").
pub const KEY_UNUSED_MS: i64 = 30 * DAY_MS;

/// Counts of intercept records by verdict.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct VerdictMix {
    pub permit: u64,
    pub escalate: u64,
    pub deny: u64,
}

impl VerdictMix {
    pub fn total(&self) -> u64 {
        self.permit + self.escalate + self.deny
    }
}

/// One agent's calls: its latest ever, and those of the last 24 hours.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AgentActivity {
    /// The time of its latest intercept record (null: it never called).
    pub last_call_ms: Option<i64>,
    /// When one of its keys last authenticated a call, to the hour (null: none since
    /// ARX tracks it).
    pub last_key_use_ms: Option<i64>,
    /// Its calls of the last 24 hours by verdict (`calls_24h` is their sum).
    pub calls_24h: u64,
    pub verdicts_24h: VerdictMix,
    /// The highest risk score of its calls of the last 24 hours (null: no call).
    pub max_risk_24h: Option<u8>,
    /// No call ever recorded and no key ever used.
    pub never_used: bool,
}

/// What the store reads for one agent (before the engine derives the rest).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AgentActivityRow {
    pub agent_id: AgentId,
    pub last_call_ms: Option<i64>,
    pub last_key_use_ms: Option<i64>,
    pub verdicts: VerdictMix,
    pub max_risk: Option<u8>,
}

impl From<AgentActivityRow> for AgentActivity {
    fn from(r: AgentActivityRow) -> Self {
        AgentActivity {
            never_used: r.last_call_ms.is_none() && r.last_key_use_ms.is_none(),
            last_call_ms: r.last_call_ms,
            last_key_use_ms: r.last_key_use_ms,
            calls_24h: r.verdicts.total(),
            verdicts_24h: r.verdicts,
            max_risk_24h: r.max_risk,
        }
    }
}

/// One UTC day of an org's calls: how many of each verdict, and their risk.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DayCalls {
    /// The day's first millisecond (UTC midnight).
    pub day_ms: i64,
    pub verdicts: VerdictMix,
}

/// One UTC day of an org's risk scores: how many calls scored each value.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DayRisk {
    pub day_ms: i64,
    /// (score, calls), by score ascending.
    pub scores: Vec<(u8, u64)>,
}

impl DayRisk {
    pub fn calls(&self) -> u64 {
        self.scores.iter().map(|(_, n)| n).sum()
    }

    pub fn max(&self) -> Option<u8> {
        self.scores.last().map(|(s, _)| *s)
    }

    /// The `q` quantile (0.5: the median) by nearest rank: the lowest score at or below
    /// which at least `q` of the day's calls fall.
    pub fn quantile(&self, q: f64) -> Option<u8> {
        let total = self.calls();
        if total == 0 {
            return None;
        }
        // Nearest rank: ceil(q * total), at least 1.
        let rank = ((q.clamp(0.0, 1.0) * total as f64).ceil() as u64).max(1);
        let mut seen = 0;
        for (score, n) in &self.scores {
            seen += n;
            if seen >= rank {
                return Some(*score);
            }
        }
        self.max()
    }
}

/// The first millisecond of the UTC day holding `ms`.
pub fn day_start(ms: i64) -> i64 {
    ms.div_euclid(DAY_MS) * DAY_MS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_by_nearest_rank() {
        let d = DayRisk {
            day_ms: 0,
            scores: vec![(10, 5), (40, 4), (90, 1)],
        };
        assert_eq!(d.calls(), 10);
        assert_eq!(d.quantile(0.5), Some(10));
        assert_eq!(d.quantile(0.6), Some(40));
        assert_eq!(d.quantile(0.95), Some(90));
        assert_eq!(d.max(), Some(90));
        assert_eq!(DayRisk::default().quantile(0.5), None);
    }

    #[test]
    fn days_start_at_utc_midnight() {
        assert_eq!(day_start(DAY_MS * 3 + 5), DAY_MS * 3);
        assert_eq!(day_start(-1), -DAY_MS);
    }
}
