//! Editing one rule of a policy: add, change, move or delete. Pure: the engine applies
//! the edited document as a new version (after checking the version it was based on),
//! so the console and the admin API edit rules the same way.

use serde::{Deserialize, Serialize};

use super::document::PolicyDoc;
use super::rules::{Rule, check_rule};
use crate::error::CoreError;

/// One change to the rule list. Positions count from 0 in evaluation order (priority,
/// then id), the order the console lists.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "edit", rename_all = "snake_case")]
pub enum RuleEdit {
    /// A new rule; at `position` (the rules are renumbered 10, 20, 30…), or with its own
    /// priority when `None`.
    Add {
        rule: Rule,
        position: Option<usize>,
    },
    /// Rule `id` replaced by `rule` (which may rename it).
    Change {
        id: String,
        rule: Rule,
    },
    /// Rule `id` moved to position `to`; the rules are renumbered 10, 20, 30…
    Move {
        id: String,
        to: usize,
    },
    Delete {
        id: String,
    },
}

impl RuleEdit {
    /// The rule the edit is about, for messages.
    pub fn rule_id(&self) -> &str {
        match self {
            RuleEdit::Add { rule, .. } => &rule.id,
            RuleEdit::Change { id, .. } | RuleEdit::Move { id, .. } | RuleEdit::Delete { id } => id,
        }
    }

    /// Applies the edit to `doc`; the message of the version it makes. Refuses an edit
    /// of a rule that is not there, a second rule with an id, a position past the end
    /// and a rule that does not check.
    pub fn apply_to(&self, doc: &mut PolicyDoc) -> Result<String, CoreError> {
        doc.rules
            .sort_by(|a, b| (a.priority, &a.id).cmp(&(b.priority, &b.id)));
        let find = |doc: &PolicyDoc, id: &str| {
            doc.rules.iter().position(|r| r.id == id).ok_or_else(|| {
                CoreError::NotFound(format!("there is no rule '{id}' in the policy in force"))
            })
        };
        let taken = |doc: &PolicyDoc, id: &str, except: Option<usize>| {
            let clash = doc
                .rules
                .iter()
                .enumerate()
                .any(|(i, r)| r.id == id && Some(i) != except);
            match clash {
                true => Err(CoreError::Conflict(format!(
                    "a rule with id '{id}' exists; choose another id"
                ))),
                false => Ok(()),
            }
        };
        let placed = |len: usize, at: usize| match at < len {
            true => Ok(at),
            false => Err(CoreError::InvalidRequest(format!(
                "position must be from 0 to {}; {at} is past the end",
                len.saturating_sub(1)
            ))),
        };
        match self {
            RuleEdit::Add { rule, position } => {
                check_rule(rule).map_err(|e| CoreError::InvalidPolicy(e.into()))?;
                taken(doc, &rule.id, None)?;
                match position {
                    None => doc.rules.push(rule.clone()),
                    Some(p) => {
                        let at = placed(doc.rules.len() + 1, *p)?;
                        doc.rules.insert(at, rule.clone());
                        renumber(doc);
                    }
                }
                Ok(format!("add rule {}", rule.id))
            }
            RuleEdit::Change { id, rule } => {
                check_rule(rule).map_err(|e| CoreError::InvalidPolicy(e.into()))?;
                let at = find(doc, id)?;
                taken(doc, &rule.id, Some(at))?;
                doc.rules[at] = rule.clone();
                Ok(match rule.id == *id {
                    true => format!("edit rule {id}"),
                    false => format!("edit rule {id} (now {})", rule.id),
                })
            }
            RuleEdit::Move { id, to } => {
                let at = find(doc, id)?;
                let to = placed(doc.rules.len(), *to)?;
                let r = doc.rules.remove(at);
                doc.rules.insert(to, r);
                renumber(doc);
                Ok(format!("move rule {id} to position {}", to + 1))
            }
            RuleEdit::Delete { id } => {
                let at = find(doc, id)?;
                doc.rules.remove(at);
                Ok(format!("delete rule {id}"))
            }
        }
    }
}

/// Priorities 10, 20, 30… in the current order, so the order is the priorities'.
fn renumber(doc: &mut PolicyDoc) {
    for (i, r) in doc.rules.iter_mut().enumerate() {
        r.priority = i32::try_from((i + 1) * 10).unwrap_or(i32::MAX);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::Verdict;

    fn doc(ids: &[&str]) -> PolicyDoc {
        let mut d = PolicyDoc::default();
        for (i, id) in ids.iter().enumerate() {
            let mut r = Rule::new(id, Verdict::Deny);
            r.priority = (i as i32 + 1) * 10;
            d.rules.push(r);
        }
        d
    }

    fn ids(d: &PolicyDoc) -> Vec<&str> {
        d.rules.iter().map(|r| r.id.as_str()).collect()
    }

    #[test]
    fn add_change_move_delete() {
        let mut d = doc(&["a", "b", "c"]);
        let add = RuleEdit::Add {
            rule: Rule::new("x", Verdict::Permit),
            position: Some(1),
        };
        assert_eq!(add.apply_to(&mut d).unwrap(), "add rule x");
        assert_eq!(ids(&d), ["a", "x", "b", "c"]);
        assert_eq!(d.rules[3].priority, 40);

        let mv = RuleEdit::Move {
            id: "c".into(),
            to: 0,
        };
        mv.apply_to(&mut d).unwrap();
        assert_eq!(ids(&d), ["c", "a", "x", "b"]);

        let mut renamed = Rule::new("y", Verdict::Escalate);
        renamed.priority = d.rules[2].priority;
        let change = RuleEdit::Change {
            id: "x".into(),
            rule: renamed,
        };
        assert_eq!(change.apply_to(&mut d).unwrap(), "edit rule x (now y)");
        assert_eq!(ids(&d), ["c", "a", "y", "b"]);

        RuleEdit::Delete { id: "a".into() }
            .apply_to(&mut d)
            .unwrap();
        assert_eq!(ids(&d), ["c", "y", "b"]);
    }

    #[test]
    fn refusals_name_what_is_wrong() {
        let mut d = doc(&["a", "b"]);
        let before = d.clone();
        let err = |e: RuleEdit, d: &mut PolicyDoc| e.apply_to(d).unwrap_err().to_string();
        assert!(err(RuleEdit::Delete { id: "z".into() }, &mut d).contains("no rule 'z'"));
        let dup = RuleEdit::Add {
            rule: Rule::new("b", Verdict::Deny),
            position: None,
        };
        assert!(err(dup, &mut d).contains("'b' exists"));
        let rename_onto = RuleEdit::Change {
            id: "a".into(),
            rule: Rule::new("b", Verdict::Deny),
        };
        assert!(err(rename_onto, &mut d).contains("'b' exists"));
        let far = RuleEdit::Move {
            id: "a".into(),
            to: 2,
        };
        assert!(err(far, &mut d).contains("from 0 to 1"));
        let mut bad = Rule::new("c", Verdict::Escalate);
        bad.min_approvals = 9;
        let bad = RuleEdit::Add {
            rule: bad,
            position: None,
        };
        assert!(err(bad, &mut d).contains("min_approvals"));
        assert_eq!(d, before, "a refused edit changes nothing");
    }
}
