//! An agent's connector graph: the connectors its manifest declares, each with the
//! operations it may call (globs expanded against the catalog) and the ones it tried
//! without declaring them (from its drift alerts), each marked read or write and whether
//! it touches personal data, and whether the org's policy in force gates it (the engine
//! fills that in, see [`OpPolicy`]). The console draws it; the API serves it as JSON.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{DriftSignal, Manifest};
use crate::catalog::Catalog;
use crate::model::Environment;
use crate::policy::Verdict;

/// What the org's policy in force decides when this agent calls the operation with no
/// params (the strictest over the connector's instances the manifest lets it reach), or
/// `gate:manifest` for an operation it does not declare. Grants are not counted: they
/// are temporary exceptions, not the policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct OpPolicy {
    pub verdict: Verdict,
    /// What decided: a rule id, `default:<tier>`, or `gate:manifest`.
    pub policy_id: String,
    /// The rule that matched, if one did.
    pub rule_id: Option<String>,
    /// The instance the verdict is for (none for `gate:manifest`).
    pub instance: Option<String>,
    pub environment: Option<Environment>,
}

/// One operation in the graph.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct GraphOperation {
    pub id: String,
    pub writes: bool,
    /// It reads or writes `pii` or `credentials`.
    pub sensitive: bool,
    /// The manifest declares it; otherwise the agent tried it (drift).
    pub declared: bool,
    /// How often the agent tried it undeclared.
    pub attempts: i64,
    /// The policy in force would ESCALATE or DENY it (`policy` says which and why);
    /// otherwise it is open (PERMIT), or no instance of the connector is configured.
    pub gated: bool,
    /// The verdict behind `gated`; none when no instance the agent may reach exists.
    pub policy: Option<OpPolicy>,
}

/// An instance of a connector in the graph: where a call of it would run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct GraphInstance {
    pub name: String,
    pub environment: Environment,
    /// The manifest declares its environment, so the agent's calls may reach it.
    pub reachable: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct GraphConnector {
    pub name: String,
    /// The manifest declares the connector; otherwise the agent only tried it.
    pub declared: bool,
    /// The org's instances of the connector (the engine fills them in), by name.
    pub instances: Vec<GraphInstance>,
    pub operations: Vec<GraphOperation>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Graph {
    pub agent: String,
    /// The manifest version drawn (none: the agent has none).
    pub manifest_version: Option<i64>,
    pub connectors: Vec<GraphConnector>,
}

impl Graph {
    /// The graph of `manifest` (none: nothing declared), with the undeclared attempts of
    /// `drift` as (signal, occurrences).
    pub fn build(
        agent: &str,
        manifest: Option<(i64, &Manifest)>,
        drift: &[(DriftSignal, i64)],
        catalog: &Catalog,
    ) -> Graph {
        let mut connectors: BTreeMap<String, GraphConnector> = BTreeMap::new();
        let op_of = |connector: &str, id: &str, declared: bool, attempts: i64| {
            let op = catalog.get(connector).and_then(|c| c.operation(id));
            GraphOperation {
                id: id.to_string(),
                writes: op.is_some_and(|o| o.writes),
                sensitive: op.is_some_and(|o| {
                    o.data_classes
                        .iter()
                        .any(|c| c == "pii" || c == "credentials")
                }),
                declared,
                attempts,
                gated: false,
                policy: None,
            }
        };
        if let Some((_, m)) = manifest {
            for name in m.connectors.keys() {
                let ops = catalog
                    .get(name)
                    .map(|c| {
                        c.operations
                            .keys()
                            .filter(|id| m.allows(name, id))
                            .map(|id| op_of(name, id, true, 0))
                            .collect()
                    })
                    .unwrap_or_default();
                connectors.insert(
                    name.clone(),
                    GraphConnector {
                        name: name.clone(),
                        declared: true,
                        instances: Vec::new(),
                        operations: ops,
                    },
                );
            }
        }
        for (signal, n) in drift {
            let (DriftSignal::UndeclaredOperation {
                connector,
                operation,
                ..
            }
            | DriftSignal::UndeclaredConnector {
                connector,
                operation,
                ..
            }) = signal
            else {
                continue;
            };
            let c = connectors
                .entry(connector.clone())
                .or_insert_with(|| GraphConnector {
                    name: connector.clone(),
                    declared: false,
                    instances: Vec::new(),
                    operations: Vec::new(),
                });
            match c.operations.iter_mut().find(|o| &o.id == operation) {
                Some(o) => o.attempts += n,
                None => c.operations.push(op_of(connector, operation, false, *n)),
            }
        }
        for c in connectors.values_mut() {
            c.operations.sort_by(|a, b| a.id.cmp(&b.id));
        }
        Graph {
            agent: agent.to_string(),
            manifest_version: manifest.map(|(v, _)| v),
            connectors: connectors.into_values().collect(),
        }
    }
}
