//! The org's agents, as a label selector filters them and grouped by a label key.

use leptos::prelude::*;

use crate::types::AgentsView;

#[server]
pub async fn list_agents(
    #[server(default)] selector: String,
    #[server(default)] group_by: String,
    #[server(default)] page: usize,
    #[server(default)] sort: String,
    #[server(default)] order: String,
) -> Result<AgentsView, ServerFnError> {
    use super::super::ssr::{engine, format_ms, principal, to_error};
    let p = principal().await?;
    let engine = engine();
    let r = engine.reader(&p);
    use crate::types::AgentRow;
    use arx_core::store::{FleetSort, Order};
    // An unknown column or order (a hand-edited link) falls back to the default.
    let sort = FleetSort::parse(&sort).unwrap_or_default();
    let order = Order::parse(&order).unwrap_or_default();
    let fleet = r
        .fleet(
            &selector,
            &group_by,
            arx_core::engine::FleetPage {
                offset: page.saturating_mul(PAGE),
                limit: PAGE,
                sort,
                order,
            },
        )
        .await
        .map_err(to_error)?;
    let mut rows = Vec::new();
    let activity = fleet.activity;
    for a in fleet.agents {
        let act = activity.get(&a.id).cloned().unwrap_or_default();
        let counts = fleet.counts.get(&a.id).cloned().unwrap_or_default();
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
            active_keys: counts.active_keys,
            manifest: a.manifest_version.map(|v| (v, counts.manifest_generated)),
            open_drift: counts.open_drift,
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
        sorted: crate::types::Sorted {
            key: sort.as_str().into(),
            order: order.as_str().into(),
        },
    })
}

/// Agents on one page of the console.
#[cfg(feature = "ssr")]
const PAGE: usize = 50;
