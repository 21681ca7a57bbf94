//! The risk score (docs/architecture.md §5): four bounded inputs, summed, each written to the
//! intercept record so an auditor can recompute the score.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::catalog::RiskTier;
use crate::ids::AgentId;
use crate::model::Environment;

/// The score and the inputs it was computed from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RiskBreakdown {
    pub score: u8,
    /// 0–40, from the operation's tier.
    pub operation: u8,
    /// 0–25, from the connector's (or instance's) sensitivity.
    pub connector: u8,
    /// 0–15, from the agent's calls in the last 60 s against its declared rate.
    pub frequency: u8,
    /// 0–20, from the target environment.
    pub target: u8,
    /// The raw inputs of `frequency`.
    pub calls_last_60s: u32,
    pub declared_rate: u32,
    /// The agent's calls could not be counted (the shared window was out of reach), so
    /// `frequency` is at its maximum and `calls_last_60s` is not a count. Written only
    /// when true.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub frequency_unknown: bool,
}

/// The facts a score is computed from.
#[derive(Debug, Clone, Copy)]
pub struct RiskInputs {
    pub tier: RiskTier,
    pub sensitivity: u8,
    pub calls_last_60s: u32,
    pub declared_rate: u32,
    pub environment: Environment,
}

pub fn target_weight(env: Environment) -> u8 {
    match env {
        Environment::Prod | Environment::Unknown => 20,
        Environment::Staging => 10,
        Environment::Dev => 0,
    }
}

/// `min(15, round(15 * n / (2 * declared)))`; a declared rate of 0 counts as 1.
pub fn frequency_weight(calls: u32, declared: u32) -> u8 {
    let declared = u64::from(declared.max(1));
    let calls = u64::from(calls);
    // Integer round-half-up of 15n / 2d.
    let v = (15 * calls * 2 + 2 * declared) / (4 * declared);
    v.min(15) as u8
}

pub fn score(i: RiskInputs) -> RiskBreakdown {
    let operation = i.tier.weight();
    let connector = i.sensitivity.min(25);
    let frequency = frequency_weight(i.calls_last_60s, i.declared_rate);
    let target = target_weight(i.environment);
    RiskBreakdown {
        score: operation + connector + frequency + target,
        operation,
        connector,
        frequency,
        target,
        calls_last_60s: i.calls_last_60s,
        declared_rate: i.declared_rate,
        frequency_unknown: false,
    }
}

impl RiskBreakdown {
    /// The score of a call refused at the gate (an agent that is not active): every
    /// input at its maximum, so nothing downstream mistakes it for a low-risk call.
    pub fn maximum(declared_rate: u32) -> Self {
        RiskBreakdown {
            score: 100,
            operation: 40,
            connector: 25,
            frequency: 15,
            target: 20,
            calls_last_60s: 0,
            declared_rate,
            frequency_unknown: false,
        }
    }

    /// This score with the frequency input at its maximum because the calls could not be
    /// counted: failing safe, never open.
    pub fn with_frequency_unknown(self) -> Self {
        RiskBreakdown {
            score: self.score - self.frequency + 15,
            frequency: 15,
            calls_last_60s: 0,
            frequency_unknown: true,
            ..self
        }
    }
}

/// How many recent actions a decision sees in `session.actions`.
pub const SESSION_ACTIONS: usize = 20;

/// Where each agent's calls over the last 60 s are counted: in this process
/// ([`CallWindow`]), or shared by every replica (Redis, when `ARX_REDIS_URL` is set).
#[async_trait::async_trait]
pub trait CallCounter: Send + Sync + std::fmt::Debug {
    /// Records `action` at `now_ms` and returns what the window holds for the agent, or
    /// why it could not be reached.
    async fn record(
        &self,
        agent: AgentId,
        now_ms: i64,
        action: &str,
    ) -> Result<WindowFacts, String>;
}

#[async_trait::async_trait]
impl CallCounter for CallWindow {
    async fn record(
        &self,
        agent: AgentId,
        now_ms: i64,
        action: &str,
    ) -> Result<WindowFacts, String> {
        Ok(CallWindow::record(self, agent, now_ms, action))
    }
}

/// Each agent's calls over the last 60 s, in this process: when, and what.
#[derive(Debug, Default)]
pub struct CallWindow {
    calls: Mutex<HashMap<AgentId, VecDeque<(i64, String)>>>,
}

/// What the window knows about an agent at the time of a call.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WindowFacts {
    /// Calls in the 60 s ending now, this one included.
    pub calls_last_60s: u32,
    /// The agent's earlier actions in that window (at most [`SESSION_ACTIONS`]), oldest first.
    pub prior_actions: Vec<String>,
}

impl CallWindow {
    /// Records `action` at `now_ms` and returns what the window holds for the agent.
    pub fn record(&self, agent: AgentId, now_ms: i64, action: &str) -> WindowFacts {
        let mut map = match self.calls.lock() {
            Ok(m) => m,
            Err(poisoned) => poisoned.into_inner(),
        };
        let q = map.entry(agent).or_default();
        while q.front().is_some_and(|(t, _)| *t <= now_ms - 60_000) {
            q.pop_front();
        }
        let prior_actions = q
            .iter()
            .skip(q.len().saturating_sub(SESSION_ACTIONS))
            .map(|(_, a)| a.clone())
            .collect();
        q.push_back((now_ms, action.to_string()));
        WindowFacts {
            calls_last_60s: u32::try_from(q.len()).unwrap_or(u32::MAX),
            prior_actions,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frequency_follows_the_formula() {
        // 15 * n / (2 * d), rounded, capped at 15.
        assert_eq!(frequency_weight(0, 60), 0);
        assert_eq!(frequency_weight(4, 60), 1); // 0.5 rounds up
        assert_eq!(frequency_weight(60, 60), 8); // 7.5 rounds up
        assert_eq!(frequency_weight(120, 60), 15);
        assert_eq!(frequency_weight(1000, 60), 15);
        assert_eq!(frequency_weight(3, 0), 15);
        for n in 0..500u32 {
            for d in 1..100u32 {
                let exact = (15.0 * f64::from(n) / (2.0 * f64::from(d)))
                    .round()
                    .min(15.0);
                assert_eq!(f64::from(frequency_weight(n, d)), exact, "n={n} d={d}");
            }
        }
    }

    #[test]
    fn score_is_the_sum_of_its_inputs() {
        let b = score(RiskInputs {
            tier: RiskTier::High,
            sensitivity: 20,
            calls_last_60s: 1,
            declared_rate: 60,
            environment: Environment::Prod,
        });
        assert_eq!(
            (b.operation, b.connector, b.frequency, b.target),
            (30, 20, 0, 20)
        );
        assert_eq!(b.score, 70);
        let max = score(RiskInputs {
            tier: RiskTier::Critical,
            sensitivity: 99,
            calls_last_60s: 10_000,
            declared_rate: 1,
            environment: Environment::Unknown,
        });
        assert_eq!(max.score, 100);
    }

    #[test]
    fn an_unknown_frequency_weighs_its_most_and_says_so() {
        let known = score(RiskInputs {
            tier: RiskTier::Low,
            sensitivity: 15,
            calls_last_60s: 3,
            declared_rate: 60,
            environment: Environment::Prod,
        });
        let unknown = known.with_frequency_unknown();
        assert_eq!(unknown.frequency, 15);
        assert_eq!(unknown.score, known.score - known.frequency + 15);
        assert_eq!(
            (unknown.calls_last_60s, unknown.frequency_unknown),
            (0, true)
        );
        // Written only when true: records of a counted call keep their shape.
        let json = serde_json::to_value(known).unwrap();
        assert!(json.get("frequency_unknown").is_none(), "{json}");
        assert_eq!(
            serde_json::to_value(unknown).unwrap()["frequency_unknown"],
            true
        );
    }

    #[test]
    fn window_forgets_calls_older_than_a_minute() {
        let w = CallWindow::default();
        let a = AgentId::new();
        let n = |f: WindowFacts| f.calls_last_60s;
        assert_eq!(n(w.record(a, 0, "x.a")), 1);
        assert_eq!(n(w.record(a, 30_000, "x.b")), 2);
        let f = w.record(a, 60_000, "x.c");
        assert_eq!(
            (f.calls_last_60s, f.prior_actions),
            (2, vec!["x.b".to_string()])
        );
        assert_eq!(n(w.record(a, 200_000, "x.d")), 1);
        assert_eq!(n(w.record(AgentId::new(), 200_000, "x.e")), 1);
    }
}
