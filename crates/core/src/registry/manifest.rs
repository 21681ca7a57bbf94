//! An agent's manifest: what it declares it may do (connectors and operations, call rate,
//! environments, data classes) and why (purpose, model). A version's content never
//! changes, so a manifest is read once into a checked canonical form whose hash the
//! audit chain carries; the gate and drift then compare calls with it.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::catalog::{Catalog, data_class_names, is_data_class};
use crate::error::CoreError;
use crate::model::Environment;
use crate::policy::Glob;

/// The highest declarable call rate, per minute.
pub const MAX_RATE_PER_MINUTE: u32 = 10_000_000;
/// Bounds that keep a manifest (and the work of checking it) small.
pub const MAX_CONNECTORS: usize = 100;
pub const MAX_PATTERNS_PER_CONNECTOR: usize = 200;
pub const MAX_PATTERN_LEN: usize = 128;
pub const MAX_PURPOSE_CHARS: usize = 2000;
pub const MAX_MODEL_CHARS: usize = 200;

/// What an agent declares. Deserializing checks it and yields the canonical form
/// (operations, environments and classes sorted and deduplicated, `production` read as
/// `prod`), so a `Manifest` read from JSON or YAML is always valid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(try_from = "ManifestText")]
#[schema(example = json!({"connectors": {"crowdstrike": ["detections:read", "hosts:*"]},
    "rate_per_minute": 60, "environments": ["prod"], "data_classes": ["security_telemetry"],
    "purpose": "Triage new CrowdStrike detections and contain confirmed hosts",
    "model": "claude-sonnet-4"}))]
pub struct Manifest {
    /// Connector name (as in the catalog) → operation ids or globs (`detections:read`,
    /// `hosts:*`, `*`).
    pub connectors: BTreeMap<String, Vec<String>>,
    /// Calls per minute the agent declares; more in the last 60 s is drift.
    #[schema(minimum = 1, maximum = 10000000)]
    pub rate_per_minute: u32,
    /// Environments of the connector instances it may touch: `prod`, `staging`, `dev`,
    /// `unknown`.
    pub environments: Vec<String>,
    /// Data classes it may read or write (see the catalog's data classes).
    pub data_classes: Vec<String>,
    /// Why the agent exists, in a sentence a reviewer can check calls against.
    pub purpose: String,
    /// The model that drives the agent (may be empty when unknown).
    pub model: String,
}

/// The manifest as written, before it is checked.
#[derive(Deserialize)]
#[serde(rename = "Manifest", deny_unknown_fields)]
struct ManifestText {
    connectors: BTreeMap<String, Vec<String>>,
    rate_per_minute: u32,
    environments: Vec<String>,
    data_classes: Vec<String>,
    purpose: String,
    model: String,
}

impl TryFrom<ManifestText> for Manifest {
    type Error = ManifestError;
    fn try_from(t: ManifestText) -> Result<Manifest, ManifestError> {
        Manifest {
            connectors: t.connectors,
            rate_per_minute: t.rate_per_minute,
            environments: t.environments,
            data_classes: t.data_classes,
            purpose: t.purpose,
            model: t.model,
        }
        .checked()
    }
}

/// Why a manifest is refused: the field at fault (`connectors.crowdstrike[1]`) and what
/// to fix.
#[derive(
    Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize, utoipa::ToSchema,
)]
pub enum ManifestError {
    #[error("the manifest does not read as JSON or YAML: {0}")]
    Syntax(String),
    #[error("{field}: {problem}")]
    Field { field: String, problem: String },
}

fn bad(field: impl Into<String>, problem: impl Into<String>) -> ManifestError {
    ManifestError::Field {
        field: field.into(),
        problem: problem.into(),
    }
}

/// A connector name as the catalog spells it: lowercase letters, digits and `_`.
fn check_connector_name(name: &str) -> Result<(), ManifestError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if ok {
        return Ok(());
    }
    Err(bad(
        format!("connectors.{name}"),
        "a connector name is 1 to 64 lowercase letters, digits and '_', as in the catalog (crowdstrike, okta)",
    ))
}

/// An operation id (`hosts:read`) or a glob over ids (`hosts:*`, `*`).
fn check_pattern(field: &str, pattern: &str) -> Result<(), ManifestError> {
    if pattern.chars().count() > MAX_PATTERN_LEN {
        return Err(bad(
            field,
            format!("is longer than {MAX_PATTERN_LEN} characters"),
        ));
    }
    let glob = Glob::parse(pattern).map_err(|e| bad(field, format!("'{pattern}' {e}")))?;
    if glob.literal().is_some() {
        let id_shaped = pattern
            .split_once(':')
            .is_some_and(|(r, a)| !r.is_empty() && !a.is_empty());
        if !id_shaped {
            return Err(bad(
                field,
                format!(
                    "'{pattern}' is neither an operation id (resource:action, like hosts:read) nor a glob (hosts:*, *)"
                ),
            ));
        }
    }
    Ok(())
}

/// Free text: trimmed, bounded, no control characters but line breaks and tabs.
fn check_text(
    field: &str,
    text: &str,
    max: usize,
    required: bool,
) -> Result<String, ManifestError> {
    let t = text.trim();
    if required && t.is_empty() {
        return Err(bad(field, "is required; say what the agent is for"));
    }
    let n = t.chars().count();
    if n > max {
        return Err(bad(
            field,
            format!("is {n} characters, at most {max} are allowed"),
        ));
    }
    if let Some(c) = t
        .chars()
        .find(|c| c.is_control() && !matches!(c, '\n' | '\t'))
    {
        return Err(bad(
            field,
            format!("contains the control character U+{:04X}", c as u32),
        ));
    }
    Ok(t.to_string())
}

/// Sorted, without duplicates.
fn canonical_list(items: impl IntoIterator<Item = String>) -> Vec<String> {
    items
        .into_iter()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

/// One declared operation pattern of one connector.
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, utoipa::ToSchema,
)]
pub struct DeclaredOp {
    pub connector: String,
    /// An operation id or a glob.
    pub operation: String,
}

impl fmt::Display for DeclaredOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.connector, self.operation)
    }
}

impl Manifest {
    /// A manifest that declares nothing, at the highest rate: what the calls of an agent
    /// without one are compared with when its org observes (everything is undeclared, the
    /// rate is not drift).
    pub fn empty() -> Manifest {
        Manifest {
            connectors: BTreeMap::new(),
            rate_per_minute: MAX_RATE_PER_MINUTE,
            environments: Vec::new(),
            data_classes: Vec::new(),
            purpose: String::new(),
            model: String::new(),
        }
    }

    /// Reads a manifest from JSON or YAML (JSON is YAML); errors name the field and say
    /// what to fix.
    pub fn parse(text: &str) -> Result<Manifest, ManifestError> {
        let de = serde_norway::Deserializer::from_str(text);
        let written: ManifestText = serde_path_to_error::deserialize(de).map_err(|e| {
            let path = e.path().to_string();
            let inner = e.into_inner().to_string();
            // serde_norway prefixes its own (shorter) path; keep the full one only.
            let msg = match inner.split_once(": ") {
                Some((p, rest)) if !p.contains(' ') => rest.to_string(),
                _ => inner,
            };
            ManifestError::Syntax(match path.as_str() {
                "." => msg,
                _ => format!("{path}: {msg}"),
            })
        })?;
        Manifest::try_from(written)
    }

    /// Reads a version back from storage without the checks: it was checked when it was
    /// written, and an immutable version must stay readable even if the checks tighten
    /// later (a data class retired, a bound lowered). Unknown fields are still refused.
    pub fn read_stored(json: &str) -> Result<Manifest, ManifestError> {
        let t: ManifestText =
            serde_json::from_str(json).map_err(|e| ManifestError::Syntax(e.to_string()))?;
        Ok(Manifest {
            connectors: t.connectors,
            rate_per_minute: t.rate_per_minute,
            environments: t.environments,
            data_classes: t.data_classes,
            purpose: t.purpose,
            model: t.model,
        })
    }

    /// Checks every field and returns the canonical form. The error names the first
    /// field at fault, by its place in the manifest as written.
    pub fn checked(self) -> Result<Manifest, ManifestError> {
        if self.connectors.len() > MAX_CONNECTORS {
            return Err(bad(
                "connectors",
                format!("declares more than {MAX_CONNECTORS} connectors"),
            ));
        }
        let mut connectors = BTreeMap::new();
        for (name, patterns) in self.connectors {
            check_connector_name(&name)?;
            if patterns.is_empty() {
                return Err(bad(
                    format!("connectors.{name}"),
                    "declares no operations; list operation ids or globs such as detections:read, hosts:* or *",
                ));
            }
            if patterns.len() > MAX_PATTERNS_PER_CONNECTOR {
                return Err(bad(
                    format!("connectors.{name}"),
                    format!(
                        "declares more than {MAX_PATTERNS_PER_CONNECTOR} operations; use globs"
                    ),
                ));
            }
            for (i, p) in patterns.iter().enumerate() {
                check_pattern(&format!("connectors.{name}[{i}]"), p)?;
            }
            connectors.insert(name, canonical_list(patterns));
        }
        if !(1..=MAX_RATE_PER_MINUTE).contains(&self.rate_per_minute) {
            return Err(bad(
                "rate_per_minute",
                format!(
                    "must be 1 to {MAX_RATE_PER_MINUTE} calls per minute, not {}",
                    self.rate_per_minute
                ),
            ));
        }
        let mut environments = Vec::new();
        for (i, e) in self.environments.iter().enumerate() {
            let env = Environment::parse(e).ok_or_else(|| {
                bad(
                    format!("environments[{i}]"),
                    format!("'{e}' is not an environment; use prod, staging, dev or unknown"),
                )
            })?;
            environments.push(env.as_str().to_string());
        }
        for (i, c) in self.data_classes.iter().enumerate() {
            if !is_data_class(c) {
                return Err(bad(
                    format!("data_classes[{i}]"),
                    format!("'{c}' is not a data class; use {}", data_class_names()),
                ));
            }
        }
        Ok(Manifest {
            connectors,
            rate_per_minute: self.rate_per_minute,
            environments: canonical_list(environments),
            data_classes: canonical_list(self.data_classes),
            purpose: check_text("purpose", &self.purpose, MAX_PURPOSE_CHARS, true)?,
            model: check_text("model", &self.model, MAX_MODEL_CHARS, false)?,
        })
    }

    /// The first manifest of an agent that existed before manifests did: exactly what it
    /// called (each operation by its id, no globs), the environments and data classes of
    /// those calls, and `rate_per_minute` (the rate it had declared, brought into range),
    /// so that an upgrade locks no one out. Calls are `(connector, operation id,
    /// environment, the operation's data classes)`.
    pub fn generated<'a>(
        rate_per_minute: u32,
        calls: impl IntoIterator<Item = (&'a str, &'a str, Environment, &'a [String])>,
    ) -> Result<Manifest, ManifestError> {
        let mut m = Manifest {
            connectors: BTreeMap::new(),
            rate_per_minute: rate_per_minute.clamp(1, MAX_RATE_PER_MINUTE),
            environments: Vec::new(),
            data_classes: Vec::new(),
            purpose: "Generated from the agent's calls before manifests existed; review it".into(),
            model: String::new(),
        };
        for (connector, operation, environment, classes) in calls {
            m.connectors
                .entry(connector.to_string())
                .or_default()
                .push(operation.to_string());
            m.environments.push(environment.as_str().to_string());
            m.data_classes.extend(classes.iter().cloned());
        }
        m.checked()
    }

    /// Every connector and operation the manifest names exists in `catalog`: a connector
    /// is a catalog connector, an operation id is one of its operations, and a glob
    /// matches at least one. Checked when a manifest is submitted, not when a stored one is
    /// read (the catalog may have changed since).
    pub fn check_catalog(&self, catalog: &Catalog) -> Result<(), ManifestError> {
        for (name, patterns) in &self.connectors {
            let Some(c) = catalog.get(name) else {
                return Err(bad(
                    format!("connectors.{name}"),
                    format!(
                        "'{name}' is not a connector of the catalog; use one of {}",
                        catalog.names().collect::<Vec<_>>().join(", ")
                    ),
                ));
            };
            for (i, p) in patterns.iter().enumerate() {
                let glob = Glob::parse(p).map_err(|e| bad(format!("connectors.{name}[{i}]"), e))?;
                if !c.operations.keys().any(|op| glob.matches(op)) {
                    return Err(bad(
                        format!("connectors.{name}[{i}]"),
                        format!(
                            "'{p}' names no operation of {name}; its operations are {}",
                            c.operations.keys().cloned().collect::<Vec<_>>().join(", ")
                        ),
                    ));
                }
            }
        }
        Ok(())
    }

    /// Hex SHA-256 of the manifest's RFC 8785 canonical JSON (of its canonical form), as
    /// the audit chain records it: equal manifests have equal hashes however written.
    pub fn hash(&self) -> Result<String, CoreError> {
        let canonical = serde_json_canonicalizer::to_string(&self.canonical())
            .map_err(|e| CoreError::internal("manifest canonicalize", e))?;
        Ok(hex::encode(Sha256::digest(canonical.as_bytes())))
    }

    /// The canonical form without the checks ([`Manifest::checked`] does both).
    pub fn canonical(&self) -> Manifest {
        Manifest {
            connectors: self
                .connectors
                .iter()
                .map(|(c, ps)| (c.clone(), canonical_list(ps.iter().cloned())))
                .collect(),
            rate_per_minute: self.rate_per_minute,
            environments: canonical_list(
                self.environments
                    .iter()
                    .map(|e| Environment::parse(e).map_or(e.clone(), |e| e.as_str().into())),
            ),
            data_classes: canonical_list(self.data_classes.iter().cloned()),
            purpose: self.purpose.trim().to_string(),
            model: self.model.trim().to_string(),
        }
    }

    pub fn declares_connector(&self, connector: &str) -> bool {
        self.connectors.contains_key(connector)
    }

    /// Whether an operation id or glob of `connector` matches `operation`.
    pub fn allows(&self, connector: &str, operation: &str) -> bool {
        self.connectors.get(connector).is_some_and(|patterns| {
            patterns
                .iter()
                .any(|p| Glob::parse(p).is_ok_and(|g| g.matches(operation)))
        })
    }

    pub fn declares_environment(&self, env: Environment) -> bool {
        self.environments
            .iter()
            .any(|e| Environment::parse(e) == Some(env))
    }

    pub fn declares_class(&self, class: &str) -> bool {
        self.data_classes.iter().any(|c| c == class)
    }

    /// Whether every operation `pattern` matches is allowed for `connector` here. A glob
    /// is covered when a declared glob matches it with each of its `*` read as a
    /// character no operation id has: such a character can only be matched by a `*` of the
    /// declared glob, so the declared glob matches every id the pattern matches, and
    /// conversely (`hosts:*` covers `hosts:read` and `hosts:re*`, not `*`).
    pub fn covers(&self, connector: &str, pattern: &str) -> bool {
        let probe = pattern.replace('*', "\u{0}");
        self.allows(connector, &probe)
    }

    /// Everything `self` declares beyond `current`: a new connector, an operation pattern
    /// no current pattern covers, a new environment or data class, a higher rate. Empty
    /// when `self` is narrower than or equal to `current`, which is when a
    /// self-registration may take effect without a reviewer.
    pub fn widens(&self, current: &Manifest) -> Vec<Widening> {
        let (proposed, current) = (self.canonical(), current.canonical());
        let mut out = Vec::new();
        for (connector, patterns) in &proposed.connectors {
            if !current.declares_connector(connector) {
                out.push(Widening::Connector {
                    connector: connector.clone(),
                });
                continue;
            }
            for p in patterns {
                if !current.covers(connector, p) {
                    out.push(Widening::Operation(DeclaredOp {
                        connector: connector.clone(),
                        operation: p.clone(),
                    }));
                }
            }
        }
        for e in &proposed.environments {
            if !current.environments.contains(e) {
                out.push(Widening::Environment {
                    environment: e.clone(),
                });
            }
        }
        for c in &proposed.data_classes {
            if !current.declares_class(c) {
                out.push(Widening::DataClass { class: c.clone() });
            }
        }
        if self.rate_per_minute > current.rate_per_minute {
            out.push(Widening::Rate {
                from: current.rate_per_minute,
                to: self.rate_per_minute,
            });
        }
        out
    }
}

/// One way a proposed manifest reaches beyond the current one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Widening {
    /// A connector the current manifest does not declare at all.
    Connector {
        connector: String,
    },
    /// An operation id or glob that no current pattern of its connector covers.
    Operation(DeclaredOp),
    Environment {
        environment: String,
    },
    DataClass {
        class: String,
    },
    /// A higher declared call rate.
    Rate {
        from: u32,
        to: u32,
    },
}

impl fmt::Display for Widening {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Widening::Connector { connector } => write!(f, "new connector {connector}"),
            Widening::Operation(op) => write!(f, "new operation {op}"),
            Widening::Environment { environment } => write!(f, "new environment {environment}"),
            Widening::DataClass { class } => write!(f, "new data class {class}"),
            Widening::Rate { from, to } => write!(f, "rate {from} → {to} per minute"),
        }
    }
}
