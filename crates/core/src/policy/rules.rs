//! Policy rules and their compiled, indexed form. Rules are checked in priority order
//! (lower first, then id); an index by connector name keeps a decision from looking at
//! rules that cannot match.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use super::glob::Glob;
use super::{PolicyInput, Verdict};
use crate::catalog::RiskTier;

/// What an escalation needs before the call may run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Escalation {
    #[serde(default)]
    pub approver_groups: Vec<String>,
    #[serde(default = "one")]
    pub min_approvals: u8,
    /// How long the request waits for a decision; silence means no.
    pub ttl_secs: u32,
    #[serde(default)]
    pub show_diff: bool,
}

fn one() -> u8 {
    1
}

/// When a rule applies. Every criterion given must hold; an empty one holds for all.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Match {
    /// Connector name globs.
    #[serde(default)]
    pub connectors: Vec<String>,
    /// Operation id globs (`hosts:*`).
    #[serde(default)]
    pub operations: Vec<String>,
    /// Agent ids or names.
    #[serde(default)]
    pub agents: Vec<String>,
    /// Label selector: the agent carries every one of these labels.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    #[serde(default)]
    pub tiers: Vec<RiskTier>,
    #[serde(default)]
    pub min_score: Option<u8>,
    #[serde(default)]
    pub max_score: Option<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    pub id: String,
    #[serde(default)]
    pub name: String,
    pub priority: i32,
    #[serde(default, rename = "match")]
    pub when: Match,
    pub verdict: Verdict,
    /// Required when the verdict is ESCALATE.
    #[serde(default)]
    pub escalation: Option<Escalation>,
    /// The thresholds do not make this rule's verdict stricter (for named principals).
    #[serde(default)]
    pub exempt_from_thresholds: bool,
}

#[derive(Debug, Clone)]
struct CompiledRule {
    rule: Rule,
    connectors: Vec<Glob>,
    operations: Vec<Glob>,
}

impl CompiledRule {
    /// Cheap criteria first; `indexed` says the connector was already matched by the index.
    fn matches(&self, i: &PolicyInput<'_>, indexed: bool) -> bool {
        let m = &self.rule.when;
        (m.tiers.is_empty() || m.tiers.contains(&i.tier))
            && m.min_score.is_none_or(|s| i.risk.score >= s)
            && m.max_score.is_none_or(|s| i.risk.score <= s)
            && (m.agents.is_empty()
                || m.agents
                    .iter()
                    .any(|a| a == i.agent_id || a == i.agent_name))
            && (indexed
                || self.connectors.is_empty()
                || self.connectors.iter().any(|g| g.matches(i.connector)))
            && (self.operations.is_empty()
                || self.operations.iter().any(|g| g.matches(i.operation)))
            && m.labels
                .iter()
                .all(|(k, v)| i.agent_labels.get(k) == Some(v))
    }
}

/// A rule set ready for decisions.
#[derive(Debug, Clone, Default)]
pub struct CompiledPolicy {
    /// In priority order.
    rules: Vec<CompiledRule>,
    /// Positions of the rules naming a connector literally, by that name.
    by_connector: HashMap<String, Vec<usize>>,
    /// Positions of the rules that may match any connector.
    any_connector: Vec<usize>,
}

/// Why a rule set does not compile: the rule, the field and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
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
                field: format!("match.{field}[{i}] '{s}'"),
                problem,
            })
        })
        .collect()
}

impl CompiledPolicy {
    pub fn compile(mut rules: Vec<Rule>) -> Result<Self, RuleError> {
        rules.sort_by(|a, b| (a.priority, &a.id).cmp(&(b.priority, &b.id)));
        let mut out = CompiledPolicy::default();
        for r in rules {
            let err = |field: &str, problem: &str| RuleError {
                rule: r.id.clone(),
                field: field.into(),
                problem: problem.into(),
            };
            if r.id.trim().is_empty() {
                return Err(err("id", "is empty"));
            }
            if out.rules.iter().any(|c| c.rule.id == r.id) {
                return Err(err("id", "is used by another rule"));
            }
            if r.verdict == Verdict::Escalate && r.escalation.is_none() {
                return Err(err(
                    "escalation",
                    "is required for ESCALATE (approver_groups, ttl_secs)",
                ));
            }
            if let (Some(lo), Some(hi)) = (r.when.min_score, r.when.max_score)
                && lo > hi
            {
                return Err(err("match.min_score", "is above match.max_score"));
            }
            let connectors = globs(&r.id, "connectors", &r.when.connectors)?;
            let operations = globs(&r.id, "operations", &r.when.operations)?;
            let at = out.rules.len();
            let literals: Option<Vec<&str>> = connectors.iter().map(Glob::literal).collect();
            match literals {
                Some(names) if !names.is_empty() => {
                    for n in names {
                        out.by_connector.entry(n.to_string()).or_default().push(at);
                    }
                }
                _ => out.any_connector.push(at),
            }
            out.rules.push(CompiledRule {
                rule: r,
                connectors,
                operations,
            });
        }
        Ok(out)
    }

    pub fn len(&self) -> usize {
        self.rules.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    pub fn rules(&self) -> impl Iterator<Item = &Rule> {
        self.rules.iter().map(|c| &c.rule)
    }

    /// The first rule, by priority, that matches: walks the connector's rules and the
    /// any-connector rules together, in order.
    pub fn first_match(&self, input: &PolicyInput<'_>) -> Option<&Rule> {
        let named = self
            .by_connector
            .get(input.connector)
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        let (mut a, mut b) = (
            named.iter().peekable(),
            self.any_connector.iter().peekable(),
        );
        loop {
            let (next, indexed) = match (a.peek(), b.peek()) {
                (Some(&&x), Some(&&y)) if x < y => (a.next(), true),
                (Some(_), Some(_)) => (b.next(), false),
                (Some(_), None) => (a.next(), true),
                (None, Some(_)) => (b.next(), false),
                (None, None) => return None,
            };
            let &at = next?;
            let c = &self.rules[at];
            if c.matches(input, indexed) {
                return Some(&c.rule);
            }
        }
    }
}
