//! Policy evaluation (docs/architecture.md §5): the first matching rule or the org's default
//! by tier, then the review and deny thresholds, then grants. Deterministic for a given
//! rule set and input.

mod condition;
mod document;
pub mod duration;
mod edit;
mod glob;
mod rules;

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize};

pub use condition::VARIABLES as CONDITION_VARIABLES;
pub use document::{PolicyDiff, PolicyDoc, PolicyError};
pub use edit::RuleEdit;
pub use glob::Glob;
pub use rules::{CompiledPolicy, Escalation, Hit, Match, Rule, RuleError, check_rule};

use crate::catalog::RiskTier;
use crate::model::Environment;
use crate::risk::RiskBreakdown;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum Verdict {
    // Ordered from least to most strict.
    Permit,
    Escalate,
    Deny,
}

impl Verdict {
    pub const ALL: [Verdict; 3] = [Verdict::Permit, Verdict::Escalate, Verdict::Deny];

    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Permit => "PERMIT",
            Verdict::Escalate => "ESCALATE",
            Verdict::Deny => "DENY",
        }
    }

    /// Reads a verdict; `ALLOW` and `APPROVAL_REQUIRED` are accepted as the seeds write them.
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_uppercase().as_str() {
            "PERMIT" | "ALLOW" => Some(Verdict::Permit),
            "ESCALATE" | "APPROVAL_REQUIRED" => Some(Verdict::Escalate),
            "DENY" => Some(Verdict::Deny),
            _ => None,
        }
    }

    pub fn stricter(self, other: Verdict) -> Verdict {
        self.max(other)
    }
}

impl<'de> Deserialize<'de> for Verdict {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Verdict::parse(&s).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "'{s}' is not a verdict; use PERMIT, ESCALATE or DENY"
            ))
        })
    }
}

/// The verdict of a call that no rule matches, by the operation's tier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct TierDefaults {
    pub low: Verdict,
    pub medium: Verdict,
    pub high: Verdict,
    pub critical: Verdict,
}

impl Default for TierDefaults {
    fn default() -> Self {
        TierDefaults {
            low: Verdict::Permit,
            medium: Verdict::Permit,
            high: Verdict::Escalate,
            critical: Verdict::Deny,
        }
    }
}

/// Per-org policy settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct PolicySettings {
    /// Score at or above which a call is at least escalated.
    pub review_threshold: u8,
    /// Score at or above which a call is denied.
    pub deny_threshold: u8,
    pub defaults: TierDefaults,
    /// How long an approval request waits for a decision when its rule names no timeout.
    #[serde(rename = "approval_timeout", with = "duration_secs")]
    #[schema(value_type = String, example = "1h")]
    pub approval_ttl_secs: u32,
    /// The longest a grant may last.
    #[serde(rename = "max_grant_ttl", with = "duration_secs")]
    #[schema(value_type = String, example = "8h")]
    pub max_grant_ttl_secs: u32,
    /// What happens to the calls of an agent without a manifest version.
    #[serde(skip_serializing_if = "is_default")]
    pub manifests: ManifestMode,
    /// The severity of each drift signal and the action at each severity.
    #[serde(skip_serializing_if = "is_default")]
    pub drift: crate::registry::DriftPolicy,
}

fn is_default<T: Default + PartialEq>(v: &T) -> bool {
    *v == T::default()
}

/// How an org treats the calls of an agent that has no manifest version yet.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ManifestMode {
    /// Every call is denied at the manifest gate until a manifest is published.
    #[default]
    Enforce,
    /// Calls are evaluated by policy; what they touch is recorded as drift, not acted on.
    Observe,
}

mod duration_secs {
    use serde::{Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &u32, s: S) -> Result<S::Ok, S::Error> {
        super::duration::option::serialize(&Some(*v), s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
        super::duration::option::deserialize(d)?
            .ok_or_else(|| serde::de::Error::custom("approval_timeout needs a duration"))
    }
}

impl Default for PolicySettings {
    fn default() -> Self {
        PolicySettings {
            review_threshold: 60,
            deny_threshold: 90,
            defaults: TierDefaults::default(),
            approval_ttl_secs: 3600,
            max_grant_ttl_secs: 3600,
            manifests: ManifestMode::Enforce,
            drift: crate::registry::DriftPolicy::default(),
        }
    }
}

impl PolicySettings {
    pub fn default_for(&self, tier: RiskTier) -> Verdict {
        match tier {
            RiskTier::Low => self.defaults.low,
            RiskTier::Medium => self.defaults.medium,
            RiskTier::High => self.defaults.high,
            RiskTier::Critical => self.defaults.critical,
        }
    }

    pub fn check(&self) -> Result<(), PolicyError> {
        let bad = |field: &str, problem: &str| {
            Err(PolicyError::Settings {
                field: field.into(),
                problem: problem.into(),
            })
        };
        if !(1..=100).contains(&self.review_threshold) {
            return bad("review_threshold", "must be between 1 and 100");
        }
        if !(1..=100).contains(&self.deny_threshold) {
            return bad("deny_threshold", "must be between 1 and 100");
        }
        if self.review_threshold > self.deny_threshold {
            return bad("review_threshold", "must not be above deny_threshold");
        }
        if !(60..=7 * 86_400).contains(&self.approval_ttl_secs) {
            return bad("approval_timeout", "must be between 1m and 7d");
        }
        if !(60..=7 * 86_400).contains(&self.max_grant_ttl_secs) {
            return bad("max_grant_ttl", "must be between 1m and 7d");
        }
        if let Err(problem) = self.drift.check() {
            return bad("drift", &problem);
        }
        Ok(())
    }
}

/// The facts of one call beyond its name and risk: what conditions read.
#[derive(Debug, Clone, Copy)]
pub struct CallFacts<'a> {
    pub params: &'a serde_json::Map<String, serde_json::Value>,
    pub instance: &'a str,
    pub environment: Environment,
    pub session_context: &'a serde_json::Value,
    /// The agent's recent `connector.operation` calls, oldest first.
    pub session_actions: &'a [String],
}

static NO_PARAMS: std::sync::LazyLock<serde_json::Map<String, serde_json::Value>> =
    std::sync::LazyLock::new(serde_json::Map::new);

impl Default for CallFacts<'static> {
    fn default() -> Self {
        CallFacts {
            params: &NO_PARAMS,
            instance: "",
            environment: Environment::Unknown,
            session_context: &serde_json::Value::Null,
            session_actions: &[],
        }
    }
}

/// Everything a decision depends on.
#[derive(Debug, Clone)]
pub struct PolicyInput<'a> {
    pub connector: &'a str,
    pub operation: &'a str,
    pub agent_id: &'a str,
    pub agent_name: &'a str,
    pub agent_labels: &'a BTreeMap<String, String>,
    pub tier: RiskTier,
    pub risk: RiskBreakdown,
    pub call: CallFacts<'a>,
    /// An active grant covering this operation, if any (supplied by the grants feature).
    pub grant_id: Option<&'a str>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Decision {
    pub verdict: Verdict,
    /// What decided: a rule id, or `default:<tier>`.
    pub policy_id: String,
    /// The rule that matched, if one did.
    pub rule_id: Option<String>,
    /// Set when a grant turned ESCALATE into PERMIT.
    pub grant_id: Option<String>,
    /// A one-line explanation for the audit record and the agent.
    pub reason: String,
    /// What an escalation needs: the deciding rule's requirements, else the org's.
    pub escalation: Escalation,
}

/// The gate: a call by an agent that is not active is denied before any rule is looked
/// at; `None` for an active agent.
pub fn gate(status: crate::model::AgentStatus, settings: &PolicySettings) -> Option<Decision> {
    (!status.may_act()).then(|| Decision {
        verdict: Verdict::Deny,
        policy_id: "gate:agent_status".into(),
        rule_id: None,
        grant_id: None,
        reason: format!("the agent is {}", status.as_str()),
        escalation: Escalation::org_default(settings.approval_ttl_secs),
    })
}

/// §5 step 1: a call the agent's manifest does not declare (an operation, connector or
/// environment; `why` says which) is denied before any rule, as `gate:manifest`.
pub fn manifest_gate(why: String, settings: &PolicySettings) -> Decision {
    Decision {
        verdict: Verdict::Deny,
        policy_id: "gate:manifest".into(),
        rule_id: None,
        grant_id: None,
        reason: why,
        escalation: Escalation::org_default(settings.approval_ttl_secs),
    }
}

/// Steps 2–4 of §5 (step 1, the manifest gate, is [`manifest_gate`]).
pub fn evaluate(
    settings: &PolicySettings,
    policy: &CompiledPolicy,
    input: &PolicyInput<'_>,
) -> Decision {
    let tier = input.tier;
    // 2. The first matching rule, or the org default for the tier.
    let hit = policy.first_match(input);
    let (base, policy_id, mut reason, escalation, exempt) = match &hit {
        Some(Hit {
            rule: r,
            condition_error,
        }) => {
            let mut reason = format!("rule {}", r.id);
            if !r.name.is_empty() {
                reason.push_str(&format!(" ({})", r.name));
            }
            if let Some(e) = condition_error {
                reason.push_str(&format!(
                    "; its condition could not be evaluated ({e}), so it applies"
                ));
            }
            (
                r.verdict,
                r.id.clone(),
                reason,
                r.escalation(settings.approval_ttl_secs),
                r.exempt_from_thresholds,
            )
        }
        None => (
            settings.default_for(tier),
            format!("default:{}", tier.as_str()),
            format!("org default for {} operations", tier.as_str()),
            Escalation::org_default(settings.approval_ttl_secs),
            false,
        ),
    };

    // 3. Thresholds: the stricter verdict wins, unless the rule is exempt.
    let score = input.risk.score;
    let by_threshold = if score >= settings.deny_threshold {
        Verdict::Deny
    } else if score >= settings.review_threshold {
        Verdict::Escalate
    } else {
        Verdict::Permit
    };
    let mut verdict = if exempt {
        base
    } else {
        base.stricter(by_threshold)
    };
    if verdict != base {
        let t = if verdict == Verdict::Deny {
            settings.deny_threshold
        } else {
            settings.review_threshold
        };
        reason = format!("risk {score} is at or above the threshold {t}");
    }

    // 4. An active grant turns ESCALATE into PERMIT, never DENY into anything, and never
    //    the escalation of a rule that says it cannot be granted.
    let mut grant_id = None;
    if verdict == Verdict::Escalate
        && let Some(g) = input.grant_id
        && hit.as_ref().is_none_or(|h| h.rule.grantable)
    {
        verdict = Verdict::Permit;
        grant_id = Some(g.to_string());
        reason = format!("covered by grant {g}");
    }
    Decision {
        verdict,
        policy_id,
        rule_id: hit.map(|h| h.rule.id.clone()),
        grant_id,
        reason,
        escalation,
    }
}

/// A grant that cannot be asked for: a rule that would escalate a covered call says
/// its escalations cannot be granted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotGrantable {
    pub rule: String,
}

/// What approving a grant of one operation needs: the strictest requirements of every
/// rule that could escalate a call like `input` (any params, any score from
/// `input.risk.score` up to `max_score`), the org default when no rule surely decides
/// and the default or the review threshold would escalate. `None`: nothing would
/// escalate such a call, so the grant changes nothing.
pub fn grant_requirements(
    settings: &PolicySettings,
    policy: &CompiledPolicy,
    input: &PolicyInput<'_>,
    max_score: u8,
) -> Result<Option<Escalation>, NotGrantable> {
    let lo = input.risk.score;
    let ttl = settings.approval_ttl_secs;
    let may_review = max_score >= settings.review_threshold && lo < settings.deny_threshold;
    let mut need: Option<Escalation> = None;
    let mut add = |e: Escalation| {
        need = Some(match need.take() {
            Some(n) => n.strictest(&e),
            None => e,
        })
    };
    let mut decided = false;
    for (rule, surely) in policy.possible_matches(input, lo, max_score) {
        let escalates = match rule.verdict {
            Verdict::Escalate => rule.exempt_from_thresholds || lo < settings.deny_threshold,
            Verdict::Permit => !rule.exempt_from_thresholds && may_review,
            Verdict::Deny => false,
        };
        if escalates {
            if !rule.grantable {
                return Err(NotGrantable {
                    rule: rule.id.clone(),
                });
            }
            add(rule.escalation(ttl));
        }
        decided = surely;
    }
    if !decided {
        let escalates = match settings.default_for(input.tier) {
            Verdict::Escalate => lo < settings.deny_threshold,
            Verdict::Permit => may_review,
            Verdict::Deny => false,
        };
        if escalates {
            add(Escalation::org_default(ttl));
        }
    }
    Ok(need)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Environment;
    use crate::risk::{RiskInputs, score};
    use proptest::prelude::*;

    static NO_LABELS: std::sync::LazyLock<BTreeMap<String, String>> =
        std::sync::LazyLock::new(BTreeMap::new);

    fn input(tier: RiskTier, env: Environment, grant: Option<&str>) -> PolicyInput<'_> {
        PolicyInput {
            connector: "crowdstrike",
            operation: "hosts:write",
            agent_id: "a1",
            agent_name: "triage-agent",
            agent_labels: &NO_LABELS,
            tier,
            risk: score(RiskInputs {
                tier,
                sensitivity: 10,
                calls_last_60s: 1,
                declared_rate: 60,
                environment: env,
            }),
            call: CallFacts::default(),
            grant_id: grant,
        }
    }

    fn none() -> CompiledPolicy {
        CompiledPolicy::default()
    }

    fn rule(id: &str, priority: i32, verdict: Verdict, when: Match) -> Rule {
        let mut r = Rule::new(id, verdict);
        r.priority = priority;
        r.when = when;
        if verdict == Verdict::Escalate {
            r.approvers = vec!["secops".into()];
            r.show_diff = true;
        }
        r
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
            let d = evaluate(&s, &none(), &input(tier, Environment::Dev, None));
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
            evaluate(&s, &none(), &input(RiskTier::Low, Environment::Prod, None)).verdict,
            Verdict::Escalate
        );
        s.deny_threshold = 35;
        assert_eq!(
            evaluate(&s, &none(), &input(RiskTier::Low, Environment::Prod, None)).verdict,
            Verdict::Deny
        );
        let s = PolicySettings {
            review_threshold: 100,
            deny_threshold: 100,
            ..Default::default()
        };
        assert_eq!(
            evaluate(
                &s,
                &none(),
                &input(RiskTier::Critical, Environment::Dev, None)
            )
            .verdict,
            Verdict::Deny
        );
    }

    #[test]
    fn a_grant_turns_escalate_into_permit_but_never_deny() {
        let s = PolicySettings::default();
        let d = evaluate(
            &s,
            &none(),
            &input(RiskTier::High, Environment::Dev, Some("g1")),
        );
        assert_eq!(
            (d.verdict, d.grant_id.as_deref()),
            (Verdict::Permit, Some("g1"))
        );
        let d = evaluate(
            &s,
            &none(),
            &input(RiskTier::Critical, Environment::Dev, Some("g1")),
        );
        assert_eq!((d.verdict, d.grant_id), (Verdict::Deny, None));
    }

    #[test]
    fn the_first_matching_rule_by_priority_decides() {
        let s = PolicySettings::default();
        let p = CompiledPolicy::compile(vec![
            rule(
                "deny-other",
                20,
                Verdict::Deny,
                Match {
                    connectors: vec!["crowd*".into()],
                    ..Default::default()
                },
            ),
            rule(
                "permit-contain",
                10,
                Verdict::Permit,
                Match {
                    operations: vec!["hosts:*".into()],
                    agents: vec!["triage-agent".into()],
                    ..Default::default()
                },
            ),
            rule(
                "okta-only",
                1,
                Verdict::Deny,
                Match {
                    connectors: vec!["okta".into()],
                    ..Default::default()
                },
            ),
        ])
        .unwrap();
        let d = evaluate(&s, &p, &input(RiskTier::High, Environment::Dev, None));
        assert_eq!(
            (d.verdict, d.policy_id.as_str()),
            (Verdict::Permit, "permit-contain")
        );
        let mut other = input(RiskTier::High, Environment::Dev, None);
        other.agent_name = "someone-else";
        assert_eq!(evaluate(&s, &p, &other).policy_id, "deny-other");
    }

    #[test]
    fn thresholds_apply_to_rules_unless_exempt() {
        let s = PolicySettings::default();
        let mut r = rule("permit-all", 1, Verdict::Permit, Match::default());
        let prod_high = input(RiskTier::High, Environment::Prod, None); // 30 + 10 + 20 = 60
        let p = CompiledPolicy::compile(vec![r.clone()]).unwrap();
        assert_eq!(evaluate(&s, &p, &prod_high).verdict, Verdict::Escalate);
        r.exempt_from_thresholds = true;
        let p = CompiledPolicy::compile(vec![r]).unwrap();
        let d = evaluate(&s, &p, &prod_high);
        assert_eq!(
            (d.verdict, d.policy_id.as_str()),
            (Verdict::Permit, "permit-all")
        );
    }

    #[test]
    fn bad_rules_are_refused_with_rule_field_and_position() {
        let e = CompiledPolicy::compile(vec![rule(
            "r1",
            1,
            Verdict::Deny,
            Match {
                operations: vec!["hosts:*".into(), "ho st".into()],
                ..Default::default()
            },
        )])
        .unwrap_err();
        assert_eq!(
            (e.rule.as_str(), e.field.as_str()),
            ("r1", "when.operations[1] 'ho st'")
        );
        assert!(e.to_string().contains("position 3"), "{e}");
        let mut permit = rule("r2", 1, Verdict::Permit, Match::default());
        permit.approvers = vec!["secops".into()];
        let e = CompiledPolicy::compile(vec![permit]).unwrap_err();
        assert_eq!(e.field, "approvers");
        let mut cel = rule("r3", 1, Verdict::Deny, Match::default());
        cel.condition = Some("size(params.ids) > ".into());
        let e = CompiledPolicy::compile(vec![cel]).unwrap_err();
        assert_eq!((e.rule.as_str(), e.field.as_str()), ("r3", "if"));
        assert!(e.problem.contains("line 1, column"), "{e}");
        let dup = vec![
            rule("x", 1, Verdict::Deny, Match::default()),
            rule("x", 2, Verdict::Deny, Match::default()),
        ];
        assert!(CompiledPolicy::compile(dup).is_err());
    }

    // The reference model: scan every rule in priority order with a plain glob matcher,
    // then apply thresholds and grants as written in §5.
    fn glob_ref(p: &[u8], t: &[u8]) -> bool {
        match p.split_first() {
            None => t.is_empty(),
            Some((b'*', rest)) => (0..=t.len()).any(|i| glob_ref(rest, &t[i..])),
            Some((c, rest)) => t.first() == Some(c) && glob_ref(rest, &t[1..]),
        }
    }

    fn reference(s: &PolicySettings, rules: &[Rule], i: &PolicyInput<'_>) -> (Verdict, String) {
        let mut sorted: Vec<&Rule> = rules.iter().collect();
        sorted.sort_by(|a, b| (a.priority, &a.id).cmp(&(b.priority, &b.id)));
        let any = |globs: &[String], t: &str| {
            globs.is_empty() || globs.iter().any(|g| glob_ref(g.as_bytes(), t.as_bytes()))
        };
        let hit = sorted.into_iter().find(|r| {
            let m = &r.when;
            any(&m.connectors, i.connector)
                && any(&m.operations, i.operation)
                && (m.agents.is_empty()
                    || m.agents
                        .iter()
                        .any(|a| a == i.agent_id || a == i.agent_name))
                && m.labels
                    .iter()
                    .all(|(k, v)| i.agent_labels.get(k) == Some(v))
                && m.selector.as_deref().is_none_or(|s| {
                    crate::registry::Selector::parse(s).is_ok_and(|s| s.matches(i.agent_labels))
                })
                && (m.tiers.is_empty() || m.tiers.contains(&i.tier))
                && m.min_score.is_none_or(|x| i.risk.score >= x)
                && m.max_score.is_none_or(|x| i.risk.score <= x)
                && match r.condition.as_deref() {
                    None => true,
                    // `params.n > K`, evaluated by hand; `params.missing` fails, so the
                    // rule applies unless it permits (fail closed).
                    Some(c) => match c.strip_prefix("params.n > ") {
                        Some(k) => i.call.params["n"].as_i64().unwrap() > k.parse::<i64>().unwrap(),
                        None => r.verdict != Verdict::Permit,
                    },
                }
        });
        let (mut v, id, exempt) = match hit {
            Some(r) => (r.verdict, r.id.clone(), r.exempt_from_thresholds),
            None => (
                s.default_for(i.tier),
                format!("default:{}", i.tier.as_str()),
                false,
            ),
        };
        if !exempt {
            if i.risk.score >= s.deny_threshold {
                v = Verdict::Deny;
            } else if i.risk.score >= s.review_threshold && v == Verdict::Permit {
                v = Verdict::Escalate;
            }
        }
        if v == Verdict::Escalate && i.grant_id.is_some() {
            v = Verdict::Permit;
        }
        (v, id)
    }

    fn arb_rule() -> impl Strategy<Value = Rule> {
        let names =
            prop::sample::select(vec!["crowdstrike", "okta", "crowd*", "*", "*ta", "splunk"]);
        let ops = prop::sample::select(vec![
            "hosts:write",
            "hosts:*",
            "*:read",
            "users:suspend",
            "*",
        ]);
        let tiers = prop::sample::subsequence(
            vec![
                RiskTier::Low,
                RiskTier::Medium,
                RiskTier::High,
                RiskTier::Critical,
            ],
            0..=2,
        );
        (
            0..1000u32,
            -5..5i32,
            prop::collection::vec(names, 0..=2),
            prop::collection::vec(ops, 0..=2),
            prop::option::of(prop::sample::select(vec!["a1", "other-agent"])),
            prop::option::of(("env", prop::sample::select(vec!["prod", "dev"]))),
            tiers,
            prop::option::of(0..100u8),
            prop::option::of(0..100u8),
            prop::sample::select(vec![Verdict::Permit, Verdict::Escalate, Verdict::Deny]),
            any::<bool>(),
            prop::option::of(prop_oneof![
                (0..10i64).prop_map(|k| format!("params.n > {k}")),
                Just("params.missing > 1".to_string()),
            ]),
        )
            .prop_map(
                |(id, priority, c, o, agent, label, tiers, lo, hi, verdict, exempt, condition)| {
                    let (min_score, max_score) = match (lo, hi) {
                        (Some(a), Some(b)) if a > b => (Some(b), Some(a)),
                        x => x,
                    };
                    let mut r = rule(
                        &format!("r{id}"),
                        priority,
                        verdict,
                        Match {
                            connectors: c.into_iter().map(String::from).collect(),
                            operations: o.into_iter().map(String::from).collect(),
                            agents: agent.into_iter().map(String::from).collect(),
                            labels: label
                                .into_iter()
                                .map(|(k, v)| (k.to_string(), v.to_string()))
                                .collect(),
                            selector: None,
                            tiers,
                            min_score,
                            max_score,
                        },
                    );
                    r.exempt_from_thresholds = exempt;
                    r.condition = condition;
                    r
                },
            )
    }

    proptest! {
        #[test]
        fn the_engine_agrees_with_the_reference_model(
            rules in prop::collection::vec(arb_rule(), 0..40),
            connector in prop::sample::select(vec!["crowdstrike", "okta", "splunk", "jira"]),
            operation in prop::sample::select(vec!["hosts:write", "detections:read", "users:suspend"]),
            tier in prop::sample::select(vec![RiskTier::Low, RiskTier::Medium, RiskTier::High, RiskTier::Critical]),
            env in prop::sample::select(vec![Environment::Prod, Environment::Staging, Environment::Dev]),
            calls in 0..200u32, prod_label in any::<bool>(), grant in any::<bool>(),
            review in 30..80u8, deny_gap in 0..40u8, n in 0..10i64,
        ) {
            let mut rules = rules;
            rules.sort_by(|a, b| a.id.cmp(&b.id));
            rules.dedup_by(|a, b| a.id == b.id);
            let labels: BTreeMap<String, String> = [("env".to_string(), if prod_label { "prod" } else { "dev" }.to_string())].into();
            let s = PolicySettings { review_threshold: review, deny_threshold: review.saturating_add(deny_gap).min(100), ..Default::default() };
            let params = serde_json::json!({"n": n}).as_object().unwrap().clone();
            let i = PolicyInput {
                connector, operation, agent_id: "a1", agent_name: "triage-agent", agent_labels: &labels, tier,
                risk: score(RiskInputs { tier, sensitivity: 15, calls_last_60s: calls, declared_rate: 60, environment: env }),
                call: CallFacts { params: &params, ..CallFacts::default() },
                grant_id: grant.then_some("g1"),
            };
            let p = CompiledPolicy::compile(rules.clone()).unwrap();
            let d = evaluate(&s, &p, &i);
            let (v, id) = reference(&s, &rules, &i);
            prop_assert_eq!((d.verdict, d.policy_id.clone()), (v, id));
            // Deterministic: the same rule set and input decide the same way.
            prop_assert_eq!(evaluate(&s, &p, &i), d);
        }
    }
}
