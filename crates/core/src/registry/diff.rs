//! What changed between two versions of a manifest, as a reviewer reads it next to a
//! self-registration or a rollback. Whether a change widens scope is
//! [`Manifest::widens`]; this is the plain list of differences.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::manifest::{DeclaredOp, Manifest};

/// A changed value: what it was and what it becomes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TextChange {
    pub from: String,
    pub to: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RateChange {
    pub from: u32,
    pub to: u32,
}

/// What changed between two manifests, as a reviewer reads it. Operations are compared
/// as written (`hosts:*` replacing `hosts:read` is one added, one removed); whether the
/// change widens scope is [`Manifest::widens`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ManifestDiff {
    pub added_connectors: Vec<String>,
    pub removed_connectors: Vec<String>,
    pub added_operations: Vec<DeclaredOp>,
    pub removed_operations: Vec<DeclaredOp>,
    pub added_environments: Vec<String>,
    pub removed_environments: Vec<String>,
    pub added_data_classes: Vec<String>,
    pub removed_data_classes: Vec<String>,
    pub rate: Option<RateChange>,
    pub purpose: Option<TextChange>,
    pub model: Option<TextChange>,
}

/// Items of `a` not in `b`, sorted.
fn minus<T: Ord + Clone>(a: &BTreeSet<T>, b: &BTreeSet<T>) -> Vec<T> {
    a.difference(b).cloned().collect()
}

fn ops(m: &Manifest) -> BTreeSet<DeclaredOp> {
    m.connectors
        .iter()
        .flat_map(|(c, ps)| {
            ps.iter().map(|p| DeclaredOp {
                connector: c.clone(),
                operation: p.clone(),
            })
        })
        .collect()
}

impl ManifestDiff {
    pub fn between(old: &Manifest, new: &Manifest) -> ManifestDiff {
        let (old, new) = (old.canonical(), new.canonical());
        let set = |v: &[String]| v.iter().cloned().collect::<BTreeSet<_>>();
        let keys = |m: &Manifest| m.connectors.keys().cloned().collect::<BTreeSet<_>>();
        let text = |a: &str, b: &str| {
            (a != b).then(|| TextChange {
                from: a.into(),
                to: b.into(),
            })
        };
        ManifestDiff {
            added_connectors: minus(&keys(&new), &keys(&old)),
            removed_connectors: minus(&keys(&old), &keys(&new)),
            added_operations: minus(&ops(&new), &ops(&old)),
            removed_operations: minus(&ops(&old), &ops(&new)),
            added_environments: minus(&set(&new.environments), &set(&old.environments)),
            removed_environments: minus(&set(&old.environments), &set(&new.environments)),
            added_data_classes: minus(&set(&new.data_classes), &set(&old.data_classes)),
            removed_data_classes: minus(&set(&old.data_classes), &set(&new.data_classes)),
            rate: (old.rate_per_minute != new.rate_per_minute).then_some(RateChange {
                from: old.rate_per_minute,
                to: new.rate_per_minute,
            }),
            purpose: text(&old.purpose, &new.purpose),
            model: text(&old.model, &new.model),
        }
    }

    pub fn is_empty(&self) -> bool {
        self == &ManifestDiff::default()
    }

    /// One line: `+ops crowdstrike:hosts:*; -envs dev; rate 60 → 120`.
    pub fn summary(&self) -> String {
        let mut parts = Vec::new();
        let mut list = |sign: &str, what: &str, items: Vec<String>| {
            if !items.is_empty() {
                parts.push(format!("{sign}{what} {}", items.join(", ")));
            }
        };
        let names = |ops: &[DeclaredOp]| ops.iter().map(ToString::to_string).collect();
        list("+", "connectors", self.added_connectors.clone());
        list("-", "connectors", self.removed_connectors.clone());
        list("+", "operations", names(&self.added_operations));
        list("-", "operations", names(&self.removed_operations));
        list("+", "environments", self.added_environments.clone());
        list("-", "environments", self.removed_environments.clone());
        list("+", "data classes", self.added_data_classes.clone());
        list("-", "data classes", self.removed_data_classes.clone());
        if let Some(r) = self.rate {
            parts.push(format!("rate {} → {} per minute", r.from, r.to));
        }
        if self.purpose.is_some() {
            parts.push("purpose changed".into());
        }
        if let Some(m) = &self.model {
            parts.push(format!("model {} → {}", shown(&m.from), shown(&m.to)));
        }
        match parts.is_empty() {
            true => "no change".into(),
            false => parts.join("; "),
        }
    }
}

fn shown(model: &str) -> &str {
    if model.is_empty() { "(none)" } else { model }
}
