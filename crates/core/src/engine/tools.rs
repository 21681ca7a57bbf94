//! What an agent may call, listed for it (the MCP endpoint's `tools/list`): each
//! operation its manifest in force declares, on a connector of which the org has an
//! instance the manifest's environments reach, with the catalog's declaration and what
//! the policy in force decides for it, evaluated as the registry's graph is
//! (docs/registry.md). Calling one goes through [`Engine::execute`] like any call.

use super::Engine;
use crate::catalog::Operation;
use crate::error::CoreError;
use crate::policy::Verdict;
use crate::registry::Graph;

/// One operation an agent may call.
#[derive(Debug, Clone)]
pub struct AgentTool {
    pub connector: String,
    pub operation: String,
    pub declaration: Operation,
    /// The instances its calls may run on, by name (more than one: the call names one).
    pub instances: Vec<String>,
    /// What the policy in force decides for a call with no params, the strictest over
    /// those instances (an ESCALATE: it may need a reviewer's approval).
    pub verdict: Verdict,
}

impl Engine {
    /// The operations the agent behind `bearer` may call now, by connector then
    /// operation. An agent without a manifest declares nothing, so it has none; a
    /// suspended or decommissioned agent is refused.
    pub async fn agent_tools(&self, bearer: Option<&str>) -> Result<Vec<AgentTool>, CoreError> {
        let (agent, org) = self.authenticate_agent(bearer).await?;
        Self::refuse_unless_acting(&agent, "it may not call tools")?;
        let current = self.manifest_in_force(&agent).await?;
        let mut graph = Graph::build(
            &agent.name,
            current.as_ref().map(|v| (v.version, &v.manifest)),
            &[],
            &self.catalog,
        );
        self.mark_gated(
            &org,
            &agent,
            current.as_deref().map(|v| &v.manifest),
            &mut graph,
        )
        .await?;
        let mut tools = Vec::new();
        for c in graph.connectors {
            let instances: Vec<String> = c
                .instances
                .into_iter()
                .filter(|i| i.reachable)
                .map(|i| i.name)
                .collect();
            let Some(connector) = self.catalog.get(&c.name) else {
                continue;
            };
            for o in c.operations {
                let (Some(policy), Some(op)) = (o.policy, connector.operation(&o.id)) else {
                    continue;
                };
                if !o.declared || instances.is_empty() {
                    continue;
                }
                tools.push(AgentTool {
                    connector: c.name.clone(),
                    operation: o.id,
                    declaration: op.clone(),
                    instances: instances.clone(),
                    verdict: policy.verdict,
                });
            }
        }
        Ok(tools)
    }
}
