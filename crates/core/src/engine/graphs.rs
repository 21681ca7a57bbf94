//! The registry's graphs as the engine fills them in (docs/registry.md): which operations
//! of an agent's connector graph the policy in force gates, evaluated exactly as execute
//! evaluates a call; and the fleet graph, every agent of the org with the connectors it
//! declares or called, sized by its calls of the last 7 days (one grouped query over the
//! audit records), filtered to one connector to answer "what can touch our EDR?".

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use super::Engine;
use super::admin::ReadOps;
use crate::error::CoreError;
use crate::ids::AgentId;
use crate::model::{Agent, AgentStatus, Instance, Org};
use crate::policy::{self, CallFacts, PolicyInput, Verdict};
use crate::registry::{Graph, GraphInstance, Manifest, OpPolicy};
use crate::risk::{self, RiskInputs};

impl Engine {
    /// Fills in each connector's instances in `graph` (reachable or not by the manifest's
    /// environments) and marks each operation gated or open: what the org's policy in force
    /// decides for `agent` calling it with no params on each instance of its connector
    /// that the manifest lets it reach, the strictest of them (as execute decides, before
    /// grants: a grant is a temporary exception, not the policy). An operation the
    /// manifest does not declare is denied at the gate (`gate:manifest`).
    pub(super) async fn mark_gated(
        &self,
        org: &Org,
        agent: &Agent,
        manifest: Option<&Manifest>,
        graph: &mut Graph,
    ) -> Result<(), CoreError> {
        let active = self.active_policy(org).await?;
        let settings = &active.doc.settings;
        let mut instances: HashMap<String, Vec<Instance>> = HashMap::new();
        let mut all: HashMap<String, Vec<GraphInstance>> = HashMap::new();
        for i in self.store.list_instances(org.id).await? {
            let reachable = manifest.is_none_or(|m| m.declares_environment(i.environment));
            all.entry(i.connector.clone())
                .or_default()
                .push(GraphInstance {
                    name: i.name.clone(),
                    environment: i.environment,
                    reachable,
                });
            if reachable {
                instances.entry(i.connector.clone()).or_default().push(i);
            }
        }
        let agent_id = agent.id.to_string();
        let rate = manifest.map_or(agent.declared_rate, |m| m.rate_per_minute);
        for c in &mut graph.connectors {
            c.instances = all.remove(&c.name).unwrap_or_default();
            c.instances.sort_by(|a, b| a.name.cmp(&b.name));
            let connector = self.catalog.get(&c.name);
            let reachable = instances.get(&c.name).map(Vec::as_slice).unwrap_or(&[]);
            for o in &mut c.operations {
                if !o.declared {
                    o.policy = Some(OpPolicy {
                        verdict: Verdict::Deny,
                        policy_id: "gate:manifest".into(),
                        rule_id: None,
                        instance: None,
                        environment: None,
                    });
                    o.gated = true;
                    continue;
                }
                let (Some(connector), Some(op)) =
                    (connector, connector.and_then(|x| x.operation(&o.id)))
                else {
                    continue;
                };
                let mut strictest: Option<OpPolicy> = None;
                for i in reachable {
                    let risk = risk::score(RiskInputs {
                        tier: op.risk,
                        sensitivity: i.sensitivity.unwrap_or_else(|| connector.sensitivity()),
                        calls_last_60s: 0,
                        declared_rate: rate,
                        environment: i.environment,
                    });
                    let input = PolicyInput {
                        connector: &c.name,
                        operation: &o.id,
                        agent_id: &agent_id,
                        agent_name: &agent.name,
                        agent_labels: &agent.labels,
                        tier: op.risk,
                        risk,
                        call: CallFacts {
                            instance: &i.name,
                            environment: i.environment,
                            ..CallFacts::default()
                        },
                        grant_id: None,
                    };
                    let d = policy::evaluate(settings, &active.compiled, &input);
                    if strictest.as_ref().is_none_or(|s| d.verdict > s.verdict) {
                        strictest = Some(OpPolicy {
                            verdict: d.verdict,
                            policy_id: d.policy_id,
                            rule_id: d.rule_id,
                            instance: Some(i.name.clone()),
                            environment: Some(i.environment),
                        });
                    }
                }
                o.gated = strictest
                    .as_ref()
                    .is_some_and(|s| s.verdict != Verdict::Permit);
                o.policy = strictest;
            }
        }
        Ok(())
    }
}

/// How many days of calls the fleet graph counts.
pub const FLEET_GRAPH_DAYS: i64 = 7;
/// The most agents one page of the fleet graph draws.
pub const MAX_FLEET_GRAPH_PAGE: usize = 200;

/// The fleet graph (see the module): a page of agents, each with its edges.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FleetGraph {
    /// The days of calls the edges count, up to `to`.
    pub window_days: i64,
    pub from: String,
    pub to: String,
    /// The connector the graph is filtered to, if any.
    pub connector: Option<String>,
    /// How many agents the graph holds in all; `agents` is the page after `offset`.
    pub total: usize,
    pub offset: usize,
    pub limit: usize,
    /// By name.
    pub agents: Vec<FleetAgent>,
    /// The connectors the page's agents reach, by name.
    pub connectors: Vec<FleetConnector>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FleetAgent {
    pub id: AgentId,
    pub name: String,
    pub status: AgentStatus,
    pub manifest_version: Option<i64>,
    /// Its calls in the window, over the edges drawn.
    pub calls: i64,
    pub edges: Vec<FleetEdge>,
}

/// An agent → connector edge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FleetEdge {
    pub connector: String,
    /// The agent's manifest in force declares the connector; otherwise it only called it.
    pub declared: bool,
    /// Its calls to the connector in the window (every intercepted call, whatever the
    /// verdict).
    pub calls: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FleetConnector {
    pub name: String,
    /// How many instances of it the org configured.
    pub instances: usize,
    /// How many agents of the page reach it.
    pub agents: usize,
    pub calls: i64,
}

/// What the fleet graph shows: one connector's agents or all, and which page.
#[derive(Debug, Clone, Default)]
pub struct FleetGraphQuery {
    pub connector: Option<String>,
    pub offset: usize,
    pub limit: usize,
}

impl ReadOps<'_> {
    /// Agent `a` as the fleet graph draws it: the connectors its manifest in force declares
    /// and those it `called` (calls per connector in the window), only `only`'s when given;
    /// `None` when it is not drawn (no edge to `only`, or decommissioned and quiet).
    async fn fleet_agent(
        &self,
        a: &Agent,
        called: BTreeMap<String, i64>,
        only: Option<&str>,
    ) -> Result<Option<FleetAgent>, CoreError> {
        let declared: Vec<String> = match self.engine.manifest_in_force(a).await? {
            Some(v) if a.status != AgentStatus::Decommissioned => {
                v.manifest.connectors.keys().cloned().collect()
            }
            _ => Vec::new(),
        };
        let mut edges: BTreeMap<String, FleetEdge> = BTreeMap::new();
        for c in declared {
            edges.insert(
                c.clone(),
                FleetEdge {
                    connector: c,
                    declared: true,
                    calls: 0,
                },
            );
        }
        for (c, n) in called {
            edges
                .entry(c.clone())
                .or_insert(FleetEdge {
                    connector: c,
                    declared: false,
                    calls: 0,
                })
                .calls = n;
        }
        if let Some(c) = only {
            edges.retain(|name, _| name == c);
        }
        let quiet = edges.values().all(|x| x.calls == 0);
        if (only.is_some() && edges.is_empty())
            || (a.status == AgentStatus::Decommissioned && quiet)
        {
            return Ok(None);
        }
        let edges: Vec<FleetEdge> = edges.into_values().collect();
        Ok(Some(FleetAgent {
            id: a.id,
            name: a.name.clone(),
            status: a.status,
            manifest_version: a.manifest_version,
            calls: edges.iter().map(|x| x.calls).sum(),
            edges,
        }))
    }

    /// The org's fleet graph (see [`FleetGraph`]). With a connector, only the agents that
    /// declare it or called it in the window, and only their edges to it. Decommissioned
    /// agents appear only if they called in the window.
    pub async fn fleet_graph(&self, q: &FleetGraphQuery) -> Result<FleetGraph, CoreError> {
        let e = self.engine;
        if !(1..=MAX_FLEET_GRAPH_PAGE).contains(&q.limit) {
            return Err(CoreError::InvalidField {
                field: "limit",
                message: format!("limit must be 1 to {MAX_FLEET_GRAPH_PAGE}, not {}", q.limit),
            });
        }
        let only = match q.connector.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(c) if e.catalog.get(c).is_some() => Some(c.to_string()),
            Some(_) => {
                return Err(CoreError::InvalidField {
                    field: "connector",
                    message:
                        "connector names no connector of the catalog (see /v1/admin/connectors)"
                            .into(),
                });
            }
        };
        let to = e.now_ms();
        let from = to - FLEET_GRAPH_DAYS * 86_400_000;
        let org = self.who.org_id;
        let mut calls: HashMap<String, BTreeMap<String, i64>> = HashMap::new();
        for c in e
            .store
            .audit_counts_by_agent(org, crate::audit::INTERCEPT, (from, to))
            .await?
        {
            calls
                .entry(c.agent_id)
                .or_default()
                .insert(c.connector, c.count);
        }
        let (total, page) = match &only {
            // Without a connector, whether an agent is drawn needs no manifest (every live
            // agent, and a decommissioned one that called in the window): the database
            // pages the fleet by name, and only the page's manifests are read.
            None => {
                let q = crate::store::FleetQuery {
                    offset: q.offset,
                    limit: q.limit,
                    live_or_called_since: Some(from),
                    ..Default::default()
                };
                let found = e.store.fleet_page(org, &q).await?;
                let mut page = Vec::new();
                for r in &found.rows {
                    let called = calls.remove(&r.agent.id.to_string()).unwrap_or_default();
                    page.extend(self.fleet_agent(&r.agent, called, None).await?);
                }
                (found.total, page)
            }
            // With one, which agents declare it is in their manifests: every agent's is
            // read (from the engine's cache after the first time).
            Some(c) => {
                let mut agents = self.agents().await?;
                agents.sort_by(|a, b| a.name.cmp(&b.name));
                let mut drawn = Vec::new();
                for a in &agents {
                    let called = calls.remove(&a.id.to_string()).unwrap_or_default();
                    drawn.extend(self.fleet_agent(a, called, Some(c)).await?);
                }
                let page = drawn.iter().skip(q.offset).take(q.limit).cloned();
                (drawn.len(), page.collect())
            }
        };
        let mut instances: HashMap<String, usize> = HashMap::new();
        for i in e.store.list_instances(org).await? {
            *instances.entry(i.connector).or_default() += 1;
        }
        let mut connectors: BTreeMap<String, FleetConnector> = BTreeMap::new();
        for a in &page {
            for x in &a.edges {
                let c = connectors
                    .entry(x.connector.clone())
                    .or_insert_with(|| FleetConnector {
                        name: x.connector.clone(),
                        instances: instances.get(&x.connector).copied().unwrap_or(0),
                        agents: 0,
                        calls: 0,
                    });
                c.agents += 1;
                c.calls += x.calls;
            }
        }
        Ok(FleetGraph {
            window_days: FLEET_GRAPH_DAYS,
            from: crate::audit::format_ts(from),
            to: crate::audit::format_ts(to),
            connector: only,
            total,
            offset: q.offset,
            limit: q.limit,
            agents: page,
            connectors: connectors.into_values().collect(),
        })
    }
}
