//! Policy evaluation (ARCHITECTURE §5). For now the org's default verdict per risk tier
//! and the review/deny thresholds; the rule engine plugs in at [`evaluate`]'s step 2.

use serde::{Deserialize, Serialize};

use crate::catalog::RiskTier;
use crate::risk::RiskBreakdown;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Verdict {
    // Ordered from least to most strict.
    Permit,
    Escalate,
    Deny,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Permit => "PERMIT",
            Verdict::Escalate => "ESCALATE",
            Verdict::Deny => "DENY",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_uppercase().as_str() {
            "PERMIT" | "ALLOW" => Some(Verdict::Permit),
            "ESCALATE" => Some(Verdict::Escalate),
            "DENY" => Some(Verdict::Deny),
            _ => None,
        }
    }

    pub fn stricter(self, other: Verdict) -> Verdict {
        self.max(other)
    }
}

/// Per-org policy settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PolicySettings {
    /// Score at or above which a call is at least escalated.
    pub review_threshold: u8,
    /// Score at or above which a call is denied.
    pub deny_threshold: u8,
    pub default_low: Verdict,
    pub default_medium: Verdict,
    pub default_high: Verdict,
    pub default_critical: Verdict,
    /// How long an approval request waits for a decision.
    pub approval_ttl_secs: u32,
}

impl Default for PolicySettings {
    fn default() -> Self {
        PolicySettings {
            review_threshold: 60,
            deny_threshold: 90,
            default_low: Verdict::Permit,
            default_medium: Verdict::Permit,
            default_high: Verdict::Escalate,
            default_critical: Verdict::Deny,
            approval_ttl_secs: 3600,
        }
    }
}

impl PolicySettings {
    pub fn default_for(&self, tier: RiskTier) -> Verdict {
        match tier {
            RiskTier::Low => self.default_low,
            RiskTier::Medium => self.default_medium,
            RiskTier::High => self.default_high,
            RiskTier::Critical => self.default_critical,
        }
    }
}

/// Everything a decision depends on.
#[derive(Debug, Clone)]
pub struct PolicyInput<'a> {
    pub connector: &'a str,
    pub operation: &'a str,
    pub tier: RiskTier,
    pub risk: RiskBreakdown,
    /// An active grant covering this operation, if any (supplied by the grants feature).
    pub grant_id: Option<&'a str>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    pub verdict: Verdict,
    /// What decided: a rule id, or `default:<tier>`.
    pub policy_id: String,
    /// Set when a grant turned ESCALATE into PERMIT.
    pub grant_id: Option<String>,
    /// A one-line explanation for the audit record and the agent.
    pub reason: String,
}

/// Steps 2–4 of §5 (step 1, the manifest gate, arrives with manifests).
pub fn evaluate(settings: &PolicySettings, input: &PolicyInput<'_>) -> Decision {
    let tier = input.tier;
    let base = settings.default_for(tier);
    let policy_id = format!("default:{}", tier.as_str());
    let mut reason = format!("org default for {} operations", tier.as_str());

    let score = input.risk.score;
    let by_threshold = if score >= settings.deny_threshold {
        Verdict::Deny
    } else if score >= settings.review_threshold {
        Verdict::Escalate
    } else {
        Verdict::Permit
    };
    let mut verdict = base.stricter(by_threshold);
    if verdict != base {
        let t = if verdict == Verdict::Deny {
            settings.deny_threshold
        } else {
            settings.review_threshold
        };
        reason = format!("risk {score} is at or above the threshold {t}");
    }

    let mut grant_id = None;
    if verdict == Verdict::Escalate
        && let Some(g) = input.grant_id
    {
        verdict = Verdict::Permit;
        grant_id = Some(g.to_string());
        reason = format!("covered by grant {g}");
    }
    Decision {
        verdict,
        policy_id,
        grant_id,
        reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Environment;
    use crate::risk::{RiskInputs, score};

    fn input(tier: RiskTier, env: Environment, grant: Option<&str>) -> PolicyInput<'_> {
        PolicyInput {
            connector: "crowdstrike",
            operation: "x:y",
            tier,
            risk: score(RiskInputs {
                tier,
                sensitivity: 10,
                calls_last_60s: 1,
                declared_rate: 60,
                environment: env,
            }),
            grant_id: grant,
        }
    }

    #[test]
    fn defaults_by_tier_below_thresholds() {
        let s = PolicySettings::default();
        // dev keeps every score below 60.
        for (tier, v) in [
            (RiskTier::Low, Verdict::Permit),
            (RiskTier::Medium, Verdict::Permit),
            (RiskTier::High, Verdict::Escalate),
            (RiskTier::Critical, Verdict::Deny),
        ] {
            let d = evaluate(&s, &input(tier, Environment::Dev, None));
            assert_eq!(d.verdict, v, "{tier:?}");
            assert_eq!(d.policy_id, format!("default:{}", tier.as_str()));
        }
    }

    #[test]
    fn thresholds_make_a_verdict_stricter_never_looser() {
        let mut s = PolicySettings {
            review_threshold: 30,
            ..Default::default()
        };
        // low (5) + sensitivity 10 + prod 20 = 35 ≥ 30.
        assert_eq!(
            evaluate(&s, &input(RiskTier::Low, Environment::Prod, None)).verdict,
            Verdict::Escalate
        );
        s.deny_threshold = 35;
        assert_eq!(
            evaluate(&s, &input(RiskTier::Low, Environment::Prod, None)).verdict,
            Verdict::Deny
        );
        // A threshold never relaxes a critical default.
        let s = PolicySettings {
            review_threshold: 100,
            deny_threshold: 100,
            ..Default::default()
        };
        assert_eq!(
            evaluate(&s, &input(RiskTier::Critical, Environment::Dev, None)).verdict,
            Verdict::Deny
        );
    }

    #[test]
    fn a_grant_turns_escalate_into_permit_but_never_deny() {
        let s = PolicySettings::default();
        let d = evaluate(&s, &input(RiskTier::High, Environment::Dev, Some("g1")));
        assert_eq!(
            (d.verdict, d.grant_id.as_deref()),
            (Verdict::Permit, Some("g1"))
        );
        let d = evaluate(&s, &input(RiskTier::Critical, Environment::Dev, Some("g1")));
        assert_eq!((d.verdict, d.grant_id), (Verdict::Deny, None));
    }
}
