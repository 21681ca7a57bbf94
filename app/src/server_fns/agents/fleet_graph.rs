//! The fleet graph: every agent of the org and the connectors it declares or called in
//! the last 7 days, drawn on the server; filtered to one connector, what can touch it.

use leptos::prelude::*;

use crate::types::FleetGraphView;

#[server]
pub async fn fleet_graph(
    #[server(default)] connector: String,
    #[server(default)] page: usize,
) -> Result<FleetGraphView, ServerFnError> {
    use super::fleet_svg::fleet_svg;
    use crate::server_fns::ssr::{engine, principal, to_error};
    use arx_core::engine::{FleetGraphQuery, MAX_FLEET_GRAPH_PAGE};
    let p = principal().await?;
    let engine = engine();
    let g = engine
        .reader(&p)
        .fleet_graph(&FleetGraphQuery {
            connector: Some(connector.clone()).filter(|c| !c.trim().is_empty()),
            offset: page.saturating_mul(MAX_FLEET_GRAPH_PAGE),
            limit: MAX_FLEET_GRAPH_PAGE,
        })
        .await
        .map_err(to_error)?;
    Ok(FleetGraphView {
        svg: fleet_svg(&g),
        connector: g.connector.clone().unwrap_or_default(),
        connectors: engine.catalog().names().map(String::from).collect(),
        window_days: g.window_days,
        from: g.from,
        to: g.to,
        total: g.total,
        page,
        per_page: MAX_FLEET_GRAPH_PAGE,
    })
}
