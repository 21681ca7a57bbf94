//! A whole policy, as one version holds it and as YAML carries it into git: the org's
//! thresholds and defaults, and its ordered rules.

use serde::{Deserialize, Serialize};
use similar::{ChangeTag, TextDiff};

use super::{CompiledPolicy, PolicySettings, Rule, RuleError};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicyDoc {
    #[serde(default)]
    pub settings: PolicySettings,
    #[serde(default)]
    pub rules: Vec<Rule>,
}

/// Why a policy cannot be saved: where, and what to fix.
#[derive(
    Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize, utoipa::ToSchema,
)]
pub enum PolicyError {
    #[error("the YAML does not read as a policy: {0}")]
    Syntax(String),
    #[error("settings: {field} {problem}")]
    Settings { field: String, problem: String },
    #[error("{0}")]
    Rule(#[from] RuleError),
}

impl PolicyDoc {
    /// Reads YAML (or JSON, which is YAML); errors name the line, column and field.
    pub fn from_yaml(text: &str) -> Result<PolicyDoc, PolicyError> {
        let de = serde_norway::Deserializer::from_str(text);
        serde_path_to_error::deserialize(de).map_err(|e| {
            let path = e.path().to_string();
            let inner = e.into_inner().to_string();
            // serde_norway prefixes its own (shorter) path; keep the full one only.
            let msg = match inner.split_once(": ") {
                Some((p, rest)) if !p.contains(' ') => rest.to_string(),
                _ => inner,
            };
            PolicyError::Syntax(if path == "." {
                msg
            } else {
                format!("{path}: {msg}")
            })
        })
    }

    pub fn to_yaml(&self) -> String {
        serde_norway::to_string(self).unwrap_or_default()
    }

    /// Checks every setting and compiles every rule; what is saved always compiles.
    pub fn compile(&self) -> Result<CompiledPolicy, PolicyError> {
        self.settings.check()?;
        Ok(CompiledPolicy::compile(self.rules.clone())?)
    }
}

/// What changed from one version to another.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PolicyDiff {
    pub added: Vec<String>,
    pub removed: Vec<String>,
    pub changed: Vec<String>,
    /// Settings whose value changed.
    pub settings: Vec<String>,
    /// The YAML of both sides, line by line: `(tag, line)` with tag `+`, `-` or ` `.
    pub lines: Vec<(char, String)>,
}

impl PolicyDiff {
    pub fn between(old: &PolicyDoc, new: &PolicyDoc) -> PolicyDiff {
        let find = |doc: &PolicyDoc, id: &str| doc.rules.iter().find(|r| r.id == id).cloned();
        let mut d = PolicyDiff::default();
        for r in &new.rules {
            match find(old, &r.id) {
                None => d.added.push(r.id.clone()),
                Some(o) if &o != r => d.changed.push(r.id.clone()),
                Some(_) => {}
            }
        }
        d.removed = old
            .rules
            .iter()
            .filter(|r| find(new, &r.id).is_none())
            .map(|r| r.id.clone())
            .collect();
        let (a, b) = (
            serde_json::to_value(&old.settings).unwrap_or_default(),
            serde_json::to_value(&new.settings).unwrap_or_default(),
        );
        if let (Some(a), Some(b)) = (a.as_object(), b.as_object()) {
            d.settings = b
                .iter()
                .filter(|(k, v)| a.get(*k) != Some(v))
                .map(|(k, _)| k.clone())
                .collect();
        }
        let (old_yaml, new_yaml) = (old.to_yaml(), new.to_yaml());
        d.lines = TextDiff::from_lines(&old_yaml, &new_yaml)
            .iter_all_changes()
            .map(|c| {
                let tag = match c.tag() {
                    ChangeTag::Insert => '+',
                    ChangeTag::Delete => '-',
                    ChangeTag::Equal => ' ',
                };
                (tag, c.value().trim_end_matches('\n').to_string())
            })
            .collect();
        d
    }

    pub fn is_empty(&self) -> bool {
        self.added.is_empty()
            && self.removed.is_empty()
            && self.changed.is_empty()
            && self.settings.is_empty()
    }

    /// One line: `+2 rules, ~1 changed, -0 removed, settings: deny_threshold`.
    pub fn summary(&self) -> String {
        if self.is_empty() {
            return "no change".into();
        }
        let mut parts = vec![];
        for (n, what, ids) in [
            (self.added.len(), "added", &self.added),
            (self.changed.len(), "changed", &self.changed),
            (self.removed.len(), "removed", &self.removed),
        ] {
            if n > 0 {
                parts.push(format!("{what} {}", ids.join(", ")));
            }
        }
        if !self.settings.is_empty() {
            parts.push(format!("settings {}", self.settings.join(", ")));
        }
        parts.join("; ")
    }

    /// The changed lines with a little context, as `diff -u` would show them.
    pub fn unified(&self) -> String {
        let keep: Vec<bool> = (0..self.lines.len())
            .map(|i| {
                let lo = i.saturating_sub(2);
                let hi = (i + 3).min(self.lines.len());
                self.lines[lo..hi].iter().any(|(t, _)| *t != ' ')
            })
            .collect();
        let mut out = String::new();
        let mut skipped = false;
        for ((tag, line), keep) in self.lines.iter().zip(keep) {
            if keep {
                out.push_str(&format!("{tag} {line}\n"));
                skipped = false;
            } else if !skipped {
                out.push_str("  ...\n");
                skipped = true;
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::Verdict;

    const EXAMPLE: &str = include_str!("../../../../examples/policy.yaml");

    #[test]
    fn the_example_policy_reads_as_the_seed_writes_it_and_round_trips() {
        let doc = PolicyDoc::from_yaml(EXAMPLE).unwrap();
        doc.compile().unwrap();
        let seed = &doc.rules[0];
        let mut want = Rule::new("change-close-over-one", Verdict::Escalate);
        want.name = "ServiceNow change close over more than one ticket".into();
        want.when.connectors = vec!["servicenow".into()];
        want.when.operations = vec!["changes:close".into()];
        want.condition = Some("size(payload.change_ids) > 1".into());
        want.approvers = vec!["secops-leads".into()];
        want.timeout_secs = Some(4 * 3600);
        want.show_diff = true;
        assert_eq!(seed, &want);
        let again = PolicyDoc::from_yaml(&doc.to_yaml()).unwrap();
        assert_eq!(again, doc);
    }

    #[test]
    fn diffs_name_added_changed_removed_rules_and_settings() {
        let old = PolicyDoc::from_yaml(EXAMPLE).unwrap();
        let mut new = old.clone();
        new.rules.remove(2);
        new.rules[1].min_approvals = 1;
        new.rules.push(Rule::new("extra", Verdict::Deny));
        new.settings.deny_threshold = 80;
        let d = PolicyDiff::between(&old, &new);
        assert_eq!(d.added, ["extra"]);
        assert_eq!(d.changed, ["contain-prod-hosts"]);
        assert_eq!(d.removed, ["triage-reads-only"]);
        assert_eq!(d.settings, ["deny_threshold"]);
        assert!(
            d.unified().contains("+   deny_threshold: 80"),
            "{}",
            d.unified()
        );
        assert!(PolicyDiff::between(&old, &old).is_empty());
    }

    #[test]
    fn unknown_fields_and_bad_values_name_where_they_are() {
        let e = PolicyDoc::from_yaml("rules:\n  - id: a\n    then: DENY\n    approver: [x]\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("rules[0]") && e.contains("approver"), "{e}");
        let e = PolicyDoc::from_yaml("rules:\n  - id: a\n    then: ESCALATE\n    timeout: soon\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("'soon' is not a duration"), "{e}");
    }
}
