//! Policy rules and their compiled form. Rules are checked in priority order (lower
//! first, then id). The rules whose connector and operation globs can match a call are
//! worked out once per (connector, operation) and cached, so a decision never looks at
//! rules that cannot match it.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, RwLock};

use serde::{Deserialize, Deserializer, Serialize};

use super::condition::{Activation, Condition};
use super::duration;
use super::glob::Glob;
use super::{PolicyInput, Verdict};
use crate::catalog::RiskTier;

/// What an escalation needs before the call may run, as the deciding rule says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Escalation {
    /// Groups whose members may decide; empty means any reviewer.
    pub approver_groups: Vec<String>,
    pub min_approvals: u8,
    /// How long the request waits for a decision; silence means no.
    pub ttl_secs: u32,
    pub show_diff: bool,
    /// The agent's owner may not approve its own agent's request.
    pub forbid_owner: bool,
    /// Further groups every approver must also be in (one of each list): a grant asks
    /// for the approver groups of every rule it bypasses.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub also_groups: Vec<Vec<String>>,
    /// An approval must say why (a comment).
    #[serde(default, skip_serializing_if = "is_false")]
    pub require_reason: bool,
}

impl Escalation {
    /// Every group list an approver must satisfy (one group of each), without repeats.
    pub fn group_sets(&self) -> Vec<&[String]> {
        let mut sets: Vec<&[String]> = Vec::new();
        let all = std::iter::once(self.approver_groups.as_slice())
            .chain(self.also_groups.iter().map(Vec::as_slice));
        for g in all.filter(|g| !g.is_empty()) {
            if !sets.iter().any(|s| same_set(s, g)) {
                sets.push(g);
            }
        }
        sets
    }

    /// Whether a user in `groups` may decide under these requirements.
    pub fn admits(&self, groups: &[String]) -> bool {
        self.group_sets()
            .iter()
            .all(|set| set.iter().any(|g| groups.contains(g)))
    }

    /// Both requirements at once: every group list of each, the larger number of
    /// approvals, the shorter wait, and every restriction either has.
    pub fn strictest(&self, other: &Escalation) -> Escalation {
        let mut sets = self.group_sets();
        for g in other.group_sets() {
            if !sets.iter().any(|s| same_set(s, g)) {
                sets.push(g);
            }
        }
        let mut sets = sets.into_iter().map(<[String]>::to_vec);
        Escalation {
            approver_groups: sets.next().unwrap_or_default(),
            also_groups: sets.collect(),
            min_approvals: self.min_approvals.max(other.min_approvals),
            ttl_secs: self.ttl_secs.min(other.ttl_secs),
            show_diff: self.show_diff || other.show_diff,
            forbid_owner: self.forbid_owner || other.forbid_owner,
            require_reason: self.require_reason || other.require_reason,
        }
    }

    /// Whether an approval made under `self` also satisfies `need`: as many approvals,
    /// the same restrictions, and approvers confined to `need`'s groups.
    pub fn at_least(&self, need: &Escalation) -> bool {
        let mine = self.group_sets();
        self.min_approvals >= need.min_approvals
            && (self.forbid_owner || !need.forbid_owner)
            && (self.require_reason || !need.require_reason)
            && need
                .group_sets()
                .iter()
                .all(|n| mine.iter().any(|m| m.iter().all(|g| n.contains(g))))
    }

    /// What an escalation needs when no rule says: any reviewer, once, within the org's
    /// TTL, with the diff shown where the operation can read its target's state.
    pub fn org_default(ttl_secs: u32) -> Escalation {
        Escalation {
            approver_groups: vec![],
            min_approvals: 1,
            ttl_secs,
            show_diff: true,
            forbid_owner: false,
            also_groups: vec![],
            require_reason: false,
        }
    }
}

fn same_set(a: &[String], b: &[String]) -> bool {
    a.len() == b.len() && a.iter().all(|g| b.contains(g))
}

/// When a rule applies. Every criterion given must hold; an empty one holds for all.
/// In YAML it may also be written `connector.operation` (`servicenow.changes:close`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Match {
    /// Connector name globs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub connectors: Vec<String>,
    /// Operation id globs (`hosts:*`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub operations: Vec<String>,
    /// Agent ids or names.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub agents: Vec<String>,
    /// Label selector: the agent carries every one of these labels.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// A label selector the agent's labels must match (`env in (prod,staging), !pilot`);
    /// see docs/registry.md.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selector: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tiers: Vec<RiskTier>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_score: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_score: Option<u8>,
}

impl Match {
    pub fn is_empty(&self) -> bool {
        self == &Match::default()
    }

    /// `connector.operation`, either side a glob.
    fn shorthand(s: &str) -> Match {
        let (c, o) = s.split_once('.').unwrap_or((s, "*"));
        let keep = |g: &str| match g {
            "*" | "" => vec![],
            g => vec![g.to_string()],
        };
        Match {
            connectors: keep(c),
            operations: keep(o),
            ..Default::default()
        }
    }
}

/// Accepts the full map form and the `connector.operation` shorthand.
fn match_form<'de, D: Deserializer<'de>>(d: D) -> Result<Match, D::Error> {
    match serde_norway::Value::deserialize(d)? {
        serde_norway::Value::String(s) => Ok(Match::shorthand(&s)),
        other => serde_norway::from_value(other).map_err(serde::de::Error::custom),
    }
}

fn one() -> u8 {
    1
}

fn is_one(n: &u8) -> bool {
    *n == 1
}

fn default_priority() -> i32 {
    100
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// One rule, as written in YAML and in the console.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    pub id: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// Lower is checked first.
    #[serde(default = "default_priority")]
    pub priority: i32,
    #[serde(
        default,
        alias = "match",
        deserialize_with = "match_form",
        skip_serializing_if = "Match::is_empty"
    )]
    pub when: Match,
    /// A CEL expression over `params` (alias `payload`), `agent`, `session`, `target`, `risk`.
    #[serde(
        default,
        rename = "if",
        alias = "condition",
        skip_serializing_if = "Option::is_none"
    )]
    pub condition: Option<String>,
    #[serde(rename = "then", alias = "verdict")]
    pub verdict: Verdict,
    /// ESCALATE: the groups whose members may decide (empty: any reviewer).
    #[serde(
        default,
        alias = "approver_groups",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub approvers: Vec<String>,
    /// ESCALATE: how many distinct approvers must approve.
    #[serde(default = "one", skip_serializing_if = "is_one")]
    pub min_approvals: u8,
    /// ESCALATE: how long the request waits (`4h`, `15m`, `90s`); the org's default if absent.
    #[serde(
        default,
        rename = "timeout",
        alias = "ttl",
        with = "duration::option",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>, example = "4h")]
    pub timeout_secs: Option<u32>,
    /// ESCALATE: show the reviewer the payload against the target's current state.
    #[serde(
        default,
        alias = "diff_shown_to_approver",
        skip_serializing_if = "is_false"
    )]
    pub show_diff: bool,
    /// ESCALATE: the agent's owner may not approve.
    #[serde(default, skip_serializing_if = "is_false")]
    pub forbid_owner_approval: bool,
    /// The thresholds do not make this rule's verdict stricter (for named principals).
    #[serde(default, skip_serializing_if = "is_false")]
    pub exempt_from_thresholds: bool,
    /// `false`: no grant turns this rule's escalations into permits, and no grant of an
    /// operation it would escalate can be asked for.
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub grantable: bool,
    /// ESCALATE: an approval must give a reason (a comment).
    #[serde(default, skip_serializing_if = "is_false")]
    pub require_reason: bool,
}

fn yes() -> bool {
    true
}

fn is_true(b: &bool) -> bool {
    *b
}

impl Rule {
    /// A rule with the given id and verdict that matches everything.
    pub fn new(id: &str, verdict: Verdict) -> Rule {
        Rule {
            id: id.to_string(),
            name: String::new(),
            priority: default_priority(),
            when: Match::default(),
            condition: None,
            verdict,
            approvers: vec![],
            min_approvals: 1,
            timeout_secs: None,
            show_diff: false,
            forbid_owner_approval: false,
            exempt_from_thresholds: false,
            grantable: true,
            require_reason: false,
        }
    }

    /// What this rule asks of an escalation, with the org's TTL when it names none.
    pub fn escalation(&self, default_ttl_secs: u32) -> Escalation {
        Escalation {
            approver_groups: self.approvers.clone(),
            min_approvals: self.min_approvals,
            ttl_secs: self.timeout_secs.unwrap_or(default_ttl_secs),
            show_diff: self.show_diff,
            forbid_owner: self.forbid_owner_approval,
            also_groups: vec![],
            require_reason: self.require_reason,
        }
    }
}

#[derive(Debug)]
struct CompiledRule {
    rule: Rule,
    connectors: Vec<Glob>,
    operations: Vec<Glob>,
    selector: Option<crate::registry::Selector>,
    condition: Option<Condition>,
}

impl CompiledRule {
    fn globs_match(&self, connector: &str, operation: &str) -> bool {
        (self.connectors.is_empty() || self.connectors.iter().any(|g| g.matches(connector)))
            && (self.operations.is_empty() || self.operations.iter().any(|g| g.matches(operation)))
    }

    /// Every criterion but the globs (already applied by the candidate list) and the condition.
    fn criteria_match(&self, i: &PolicyInput<'_>) -> bool {
        let m = &self.rule.when;
        m.min_score.is_none_or(|s| i.risk.score >= s)
            && m.max_score.is_none_or(|s| i.risk.score <= s)
            && self.who_and_tier_match(i)
    }

    fn who_and_tier_match(&self, i: &PolicyInput<'_>) -> bool {
        let m = &self.rule.when;
        (m.tiers.is_empty() || m.tiers.contains(&i.tier))
            && (m.agents.is_empty()
                || m.agents
                    .iter()
                    .any(|a| a == i.agent_id || a == i.agent_name))
            && m.labels
                .iter()
                .all(|(k, v)| i.agent_labels.get(k) == Some(v))
            && self
                .selector
                .as_ref()
                .is_none_or(|s| s.matches(i.agent_labels))
    }
}

/// The first matching rule, and a note when its condition could not be evaluated.
#[derive(Debug, Clone)]
pub struct Hit<'p> {
    pub rule: &'p Rule,
    /// A condition that failed to evaluate matches when its verdict is ESCALATE or DENY
    /// (fail closed) and not when it is PERMIT; this says why.
    pub condition_error: Option<String>,
}

type Candidates = Arc<[usize]>;

/// How many (connector, operation) pairs keep their candidate lists; the catalog bounds
/// the pairs in practice, this bounds memory regardless.
const CANDIDATE_CACHE_MAX: usize = 8192;

/// A rule set ready for decisions.
#[derive(Debug, Default)]
pub struct CompiledPolicy {
    /// In priority order.
    rules: Vec<CompiledRule>,
    /// Positions of the rules whose globs match, by connector, then operation.
    candidates: RwLock<HashMap<String, HashMap<String, Candidates>>>,
}

/// Why a rule set does not compile: the rule, the field and what is wrong.
#[derive(
    Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize, utoipa::ToSchema,
)]
#[error("rule '{rule}': {field} {problem}")]
pub struct RuleError {
    pub rule: String,
    pub field: String,
    pub problem: String,
}

fn globs(rule: &str, field: &str, items: &[String]) -> Result<Vec<Glob>, RuleError> {
    items
        .iter()
        .enumerate()
        .map(|(i, s)| {
            Glob::parse(s).map_err(|problem| RuleError {
                rule: rule.to_string(),
                field: format!("when.{field}[{i}] '{s}'"),
                problem,
            })
        })
        .collect()
}

/// Checks one rule on its own (what the console validates as an admin types).
pub fn check_rule(r: &Rule) -> Result<(), RuleError> {
    compile_rule(r.clone()).map(|_| ())
}

fn compile_rule(r: Rule) -> Result<CompiledRule, RuleError> {
    let err = |field: &str, problem: &str| RuleError {
        rule: r.id.clone(),
        field: field.into(),
        problem: problem.into(),
    };
    if r.id.trim().is_empty() {
        return Err(err("id", "is empty"));
    }
    if let Some((i, c)) =
        r.id.char_indices()
            .find(|(_, c)| !(c.is_ascii_alphanumeric() || "_-.:".contains(*c)))
    {
        return Err(err(
            "id",
            &format!(
                "has '{c}' at position {}; use letters, digits, '-', '_', '.' and ':'",
                i + 1
            ),
        ));
    }
    if r.verdict != Verdict::Escalate {
        for (set, field) in [
            (!r.approvers.is_empty(), "approvers"),
            (r.min_approvals != 1, "min_approvals"),
            (r.timeout_secs.is_some(), "timeout"),
            (r.show_diff, "show_diff"),
            (r.forbid_owner_approval, "forbid_owner_approval"),
            (r.require_reason, "require_reason"),
        ] {
            if set {
                return Err(err(
                    field,
                    "applies only when the verdict (then) is ESCALATE",
                ));
            }
        }
    }
    if !(1..=5).contains(&r.min_approvals) {
        return Err(err("min_approvals", "must be between 1 and 5"));
    }
    if let Some(t) = r.timeout_secs
        && !(60..=7 * 86_400).contains(&t)
    {
        return Err(err("timeout", "must be between 1m and 7d"));
    }
    for (at, g) in r.approvers.iter().enumerate() {
        if g.trim().is_empty() {
            return Err(err(&format!("approvers[{at}]"), "is empty"));
        }
    }
    if let (Some(lo), Some(hi)) = (r.when.min_score, r.when.max_score)
        && lo > hi
    {
        return Err(err("when.min_score", "is above when.max_score"));
    }
    if r.when.max_score.is_some_and(|s| s > 100) || r.when.min_score.is_some_and(|s| s > 100) {
        return Err(err("when.min_score/max_score", "must be between 0 and 100"));
    }
    let connectors = globs(&r.id, "connectors", &r.when.connectors)?;
    let operations = globs(&r.id, "operations", &r.when.operations)?;
    let condition = match r.condition.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(src) => Some(Condition::compile(src).map_err(|problem| err("if", &problem))?),
    };
    let selector = match r.when.selector.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(src) => Some(
            crate::registry::Selector::parse(src).map_err(|e| err("when.selector", &e.message))?,
        ),
    };
    Ok(CompiledRule {
        rule: r,
        connectors,
        operations,
        selector,
        condition,
    })
}

impl CompiledPolicy {
    pub fn compile(mut rules: Vec<Rule>) -> Result<Self, RuleError> {
        rules.sort_by(|a, b| (a.priority, &a.id).cmp(&(b.priority, &b.id)));
        let mut out = CompiledPolicy::default();
        for r in rules {
            if out.rules.iter().any(|c| c.rule.id == r.id) {
                return Err(RuleError {
                    rule: r.id,
                    field: "id".into(),
                    problem: "is used by another rule".into(),
                });
            }
            out.rules.push(compile_rule(r)?);
        }
        Ok(out)
    }

    pub fn len(&self) -> usize {
        self.rules.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// The rules in the order they are checked.
    pub fn rules(&self) -> impl Iterator<Item = &Rule> {
        self.rules.iter().map(|c| &c.rule)
    }

    fn candidates(&self, connector: &str, operation: &str) -> Candidates {
        if let Ok(map) = self.candidates.read()
            && let Some(c) = map.get(connector).and_then(|ops| ops.get(operation))
        {
            return c.clone();
        }
        let list: Candidates = self
            .rules
            .iter()
            .enumerate()
            .filter(|(_, r)| r.globs_match(connector, operation))
            .map(|(at, _)| at)
            .collect();
        if let Ok(mut map) = self.candidates.write() {
            let size: usize = map.values().map(HashMap::len).sum();
            if size < CANDIDATE_CACHE_MAX {
                map.entry(connector.to_string())
                    .or_default()
                    .insert(operation.to_string(), list.clone());
            }
        }
        list
    }

    /// The rules that could decide a call like `input` whatever its params and whatever
    /// its score within `lo..=hi`, in priority order, each with whether it surely
    /// matches (then no later rule can decide, and the list ends there).
    pub fn possible_matches(&self, input: &PolicyInput<'_>, lo: u8, hi: u8) -> Vec<(&Rule, bool)> {
        let mut out = Vec::new();
        for &at in self.candidates(input.connector, input.operation).iter() {
            let c = &self.rules[at];
            let m = &c.rule.when;
            let (min, max) = (m.min_score.unwrap_or(0), m.max_score.unwrap_or(100));
            if !c.who_and_tier_match(input) || max < lo || min > hi {
                continue;
            }
            let surely = c.condition.is_none() && min <= lo && hi <= max;
            out.push((&c.rule, surely));
            if surely {
                break;
            }
        }
        out
    }

    /// The first rule, by priority, that matches.
    pub fn first_match(&self, input: &PolicyInput<'_>) -> Option<Hit<'_>> {
        let mut activation: Option<Activation> = None;
        for &at in self.candidates(input.connector, input.operation).iter() {
            let c = &self.rules[at];
            if !c.criteria_match(input) {
                continue;
            }
            let Some(cond) = &c.condition else {
                return Some(Hit {
                    rule: &c.rule,
                    condition_error: None,
                });
            };
            match cond.holds(activation.get_or_insert_default(), input) {
                Ok(true) => {
                    return Some(Hit {
                        rule: &c.rule,
                        condition_error: None,
                    });
                }
                Ok(false) => {}
                Err(why) if c.rule.verdict != Verdict::Permit => {
                    return Some(Hit {
                        rule: &c.rule,
                        condition_error: Some(why),
                    });
                }
                Err(_) => {}
            }
        }
        None
    }
}
