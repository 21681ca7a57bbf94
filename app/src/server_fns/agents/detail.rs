//! One agent as the registry knows it: its connector graph, its manifest versions with
//! what each changed, its drift, and its lineage.

use leptos::prelude::*;

use crate::types::AgentView;

/// How many drift alerts and audit records the agent's page shows (the Drift and Audit
/// pages have the rest).
pub const AGENT_PAGE_ROWS: u32 = 20;

/// How many manifest versions a page of the agent's page shows.
pub const VERSIONS_PAGE: usize = 20;

/// The agent `id`; its manifest versions in `versions_order` (`asc`: oldest first;
/// otherwise newest first), page `versions_page`.
#[server]
pub async fn agent_detail(
    id: String,
    #[server(default)] versions_order: String,
    #[server(default)] versions_page: usize,
) -> Result<AgentView, ServerFnError> {
    use super::graph_svg::graph_svg;
    use crate::server_fns::ssr::{engine, format_ms, invalid, principal, to_error};
    use crate::types::{LineageRow, ManifestRow};
    use arx_core::registry::ManifestDiff;
    let p = principal().await?;
    let engine = engine();
    let r = engine.reader(&p);
    let id = id
        .parse()
        .map_err(|_| invalid("that agent id is not valid"))?;
    let a = r.agent(id).await.map_err(to_error)?;
    let versions = r.manifests(id).await.map_err(to_error)?;
    let rows = versions
        .iter()
        .enumerate()
        .map(|(i, v)| ManifestRow {
            version: v.version,
            created: format_ms(v.created_ms),
            by: v.created_by.clone(),
            reason: v.reason.clone(),
            generated: v.generated,
            rollback_of: v.rollback_of,
            hash: v.hash.chars().take(12).collect(),
            changes: match versions.get(i + 1) {
                Some(before) => ManifestDiff::between(&before.manifest, &v.manifest).summary(),
                None => "first version".into(),
            },
        })
        .collect();
    let manifest = versions
        .first()
        .and_then(|v| serde_json::to_string_pretty(&v.manifest).ok());
    use arx_core::store::Order;
    let order = Order::parse(&versions_order).unwrap_or(Order::Desc);
    let versions_total = versions.len();
    let rows = arx_core::engine::VersionPage {
        order,
        offset: versions_page.saturating_mul(VERSIONS_PAGE),
        limit: VERSIONS_PAGE,
    }
    .slice(rows);
    let graph = r.graph(id).await.map_err(to_error)?;
    let lineage = r.lineage(id).await.map_err(to_error)?;
    let line = |t: &arx_core::model::registry::Retirement| LineageRow {
        agent: t.agent.clone(),
        reason: t.reason.clone(),
        retention_class: t.retention_class.clone(),
        retired: format_ms(t.retired_ms),
    };
    let stake = r.at_stake(id).await.map_err(to_error)?;
    use arx_core::model::stats::KEY_UNUSED_MS;
    let now = engine.now_ms();
    let all_keys = r
        .agent_keys(id)
        .await
        .map_err(to_error)?
        .into_iter()
        .map(|k| crate::types::KeyRow {
            unused_30d: k.revoked_ms.is_none()
                && k.last_used_ms.unwrap_or(k.created_ms) < now - KEY_UNUSED_MS,
            id: k.id.to_string(),
            prefix: k.prefix,
            created: format_ms(k.created_ms),
            revoked: k.revoked_ms.map(format_ms),
            last_used: k.last_used_ms.map(format_ms),
        })
        .collect();
    let activity = r
        .activity(std::slice::from_ref(&a))
        .await
        .map_err(to_error)?
        .remove(&a.id)
        .unwrap_or_default();
    let owner_inactive = !r
        .inactive_owners(std::slice::from_ref(&a))
        .await
        .map_err(to_error)?
        .is_empty();
    let drift = r
        .drift_alerts(&arx_core::store::DriftQuery {
            agent: Some(a.id),
            limit: AGENT_PAGE_ROWS,
            ..Default::default()
        })
        .await
        .map_err(to_error)?
        .iter()
        .map(crate::server_fns::ssr::drift_row)
        .collect();
    let open_grants = r
        .agent_grants(a.id)
        .await
        .map_err(to_error)?
        .into_iter()
        .map(|g| {
            let mut what = format!("{}: {}", g.connector, g.operations.join(", "));
            if let Some(res) = &g.resource {
                what.push_str(&format!(" (only {} = {})", res.param, res.value));
            }
            (
                g.status.as_str().to_string(),
                what,
                g.expires_ms.map(format_ms),
            )
        })
        .collect();
    let records = r
        .agent_records(a.id, AGENT_PAGE_ROWS)
        .await
        .map_err(to_error)?
        .iter()
        .map(crate::server_fns::ssr::audit_row)
        .collect();
    Ok(AgentView {
        drift,
        open_grants,
        records,
        owner_inactive,
        all_keys,
        last_call: activity.last_call_ms.map(format_ms),
        never_used: activity.never_used,
        id: a.id.to_string(),
        name: a.name,
        description: a.description,
        owner: a.owner,
        status: a.status.as_str().into(),
        labels: a.labels.into_iter().collect(),
        versions: rows,
        versions_total,
        versions_page,
        versions_per_page: VERSIONS_PAGE,
        versions_sorted: crate::types::Sorted {
            key: "version".into(),
            order: order.as_str().into(),
        },
        in_force: a.manifest_version,
        manifest,
        graph_svg: graph_svg(&graph),
        retired: lineage.retirement.as_ref().map(line),
        predecessors: lineage.predecessors.iter().map(line).collect(),
        keys: stake.keys,
        grants: stake.grants,
        pending_approvals: stake.pending_approvals,
    })
}
