//! The org's grants, active first.

use leptos::prelude::*;

use crate::types::GrantRow;

#[server]
pub async fn list_grants() -> Result<Vec<GrantRow>, ServerFnError> {
    use crate::server_fns::ssr::{agent_name, engine, format_ms, principal, to_error};
    use arx_core::policy::duration;
    let p = principal().await?;
    let engine = engine();
    let r = engine.reader(&p);
    let instances = r.instances().await.map_err(to_error)?;
    let now = engine.now_ms();
    let grants = r.grants().await.map_err(to_error)?;
    let agents = r
        .agent_names(grants.iter().map(|g| g.agent_id))
        .await
        .map_err(to_error)?;
    let mut rows: Vec<GrantRow> = grants
        .into_iter()
        .map(|g| GrantRow {
            id: g.id.to_string(),
            agent: agent_name(&agents, g.agent_id),
            connector: g.connector.clone(),
            instance: instances
                .iter()
                .find(|i| Some(i.id) == g.instance_id)
                .map_or_else(
                    || "—".to_string(),
                    |i| format!("{} ({})", i.name, i.environment.as_str()),
                ),
            operations: g.operations.clone(),
            resource: g
                .resource
                .as_ref()
                .map(|r| format!("{} = {}", r.param, r.value)),
            reason: g.reason.clone(),
            status: g.status.as_str().into(),
            ttl: duration::format(g.ttl_secs),
            remaining_secs: g
                .expires_ms
                .filter(|_| g.status.as_str() == "active")
                .map(|e| ((e - now) / 1000).max(0)),
            created: format_ms(g.created_ms),
            ended: g.ended_ms.map(|e| {
                let why = if g.ended_reason.is_empty() {
                    "ended"
                } else {
                    g.ended_reason.as_str()
                };
                (format_ms(e), why.to_string())
            }),
        })
        .collect();
    rows.sort_by_key(|g| (g.status != "active", g.status != "requested"));
    Ok(rows)
}
