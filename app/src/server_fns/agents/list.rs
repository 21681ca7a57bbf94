//! The org's agents, as a label selector filters them and grouped by a label key.

use leptos::prelude::*;

use crate::types::AgentsView;

#[server]
pub async fn list_agents(
    #[server(default)] selector: String,
    #[server(default)] group_by: String,
    #[server(default)] page: usize,
) -> Result<AgentsView, ServerFnError> {
    use super::super::ssr::{engine, format_ms, principal, to_error};
    let p = principal().await?;
    let engine = engine();
    let r = engine.reader(&p);
    let open = r.open_drift().await.map_err(to_error)?;
    use crate::types::AgentRow;
    let fleet = r
        .fleet(
            &selector,
            &group_by,
            arx_core::engine::FleetPage {
                offset: page.saturating_mul(PAGE),
                limit: PAGE,
            },
        )
        .await
        .map_err(to_error)?;
    let mut rows = Vec::new();
    let activity = fleet.activity;
    for a in fleet.agents {
        let act = activity.get(&a.id).cloned().unwrap_or_default();
        let keys = r.agent_keys(a.id).await.map_err(to_error)?;
        let manifest = r
            .manifests(a.id)
            .await
            .map_err(to_error)?
            .first()
            .map(|v| (v.version, v.generated));
        let open_drift = open.iter().filter(|d| d.agent_id == a.id).count();
        rows.push(AgentRow {
            id: a.id.to_string(),
            name: a.name,
            description: a.description,
            owner_inactive: fleet.inactive_owners.contains(&a.owner.to_lowercase()),
            owner: a.owner,
            labels: a.labels.into_iter().collect(),
            status: a.status.as_str().into(),
            declared_rate: a.declared_rate,
            created: format_ms(a.created_ms),
            active_keys: keys.iter().filter(|k| k.revoked_ms.is_none()).count(),
            manifest,
            open_drift,
            last_call: act.last_call_ms.map(format_ms),
            verdicts_24h: (
                act.verdicts_24h.permit,
                act.verdicts_24h.escalate,
                act.verdicts_24h.deny,
            ),
            max_risk_24h: act.max_risk_24h,
            never_used: act.never_used,
        });
    }
    let groups = fleet
        .groups
        .unwrap_or_default()
        .into_iter()
        .map(|g| (g.value, g.count))
        .collect();
    Ok(AgentsView {
        rows,
        groups,
        total: fleet.total,
        page,
        per_page: PAGE,
    })
}

/// Agents on one page of the console.
#[cfg(feature = "ssr")]
const PAGE: usize = 50;
