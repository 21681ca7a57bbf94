//! `/v1/admin/graph`: the fleet graph, every agent of the org with the connectors it
//! declares or called, the edges counting its calls of the last 7 days; filtered to one
//! connector it answers "what can touch our EDR?". Every role reads it.

use arx_core::engine::{FleetGraph, FleetGraphQuery, MAX_FLEET_GRAPH_PAGE};
use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::error::{ApiResult, ErrorBody};
use crate::http::extract::{Caller, QueryParams};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(fleet_graph))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct GraphParams {
    /// Only the agents that declare this connector or called it in the window, and only
    /// their edges to it (a connector name of the catalog; another is a 400).
    #[param(example = "crowdstrike")]
    connector: Option<String>,
    /// Agents to skip, by name (default 0).
    #[param(minimum = 0)]
    offset: Option<usize>,
    /// How many agents, 1 to 200 (default 200).
    #[param(minimum = 1, maximum = 200)]
    limit: Option<usize>,
}

/// The org's fleet graph: each agent (by name, a page of them) with an edge to each
/// connector its manifest in force declares or that it called in the last 7 days, each
/// edge with its calls (every intercepted call, whatever the verdict).
#[utoipa::path(get, path = "/v1/admin/graph", tag = "registry", security(("adminToken" = [])),
    params(GraphParams),
    responses(
        (status = 200, description = "The fleet graph", body = FleetGraph),
        (status = 400, description = "An unknown connector or a limit out of range", body = ErrorBody),
    ))]
async fn fleet_graph(
    State(s): State<AppState>,
    Caller(p, _): Caller,
    QueryParams(q): QueryParams<GraphParams>,
) -> ApiResult<Json<FleetGraph>> {
    let q = FleetGraphQuery {
        connector: q.connector,
        offset: q.offset.unwrap_or(0),
        limit: q.limit.unwrap_or(MAX_FLEET_GRAPH_PAGE),
    };
    Ok(Json(s.engine.reader(&p).fleet_graph(&q).await?))
}
