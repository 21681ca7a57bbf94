//! `/v1/admin/agents`: the org's agents, their API keys (the secret shown once), and
//! suspending and reactivating an agent with a reason.

use arx_core::engine::{
    AgentUpdate, Decommission, Decommissioned, Fleet, FleetPage, Lineage, MAX_FLEET_PAGE, NewAgent,
};
use arx_core::ids::{AgentId, KeyId};
use arx_core::model::{Agent, AgentKey, AgentStatus};
use arx_core::registry::Graph;
use arx_core::store::{FleetSort, Order};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::error::{ApiResult, ErrorBody};
use crate::http::extract::{Caller, IdPath, JsonBody, QueryParams, parse_id};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_agents, create_agent))
        .routes(routes!(get_agent, update_agent))
        .routes(routes!(list_keys, issue_key))
        .routes(routes!(revoke_key))
        .routes(routes!(suspend_agent))
        .routes(routes!(reactivate_agent))
        .routes(routes!(decommission))
        .routes(routes!(lineage))
        .routes(routes!(graph))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct FleetParams {
    /// A label selector, all of whose requirements must hold: `key=value` (or `key:value`),
    /// `key!=value`, `key in (a,b)`, `key notin (a,b)`, `key`, `!key`, comma-separated. A
    /// malformed one is a 400 that names the position.
    #[param(example = "env=prod,team in (soc,ir)")]
    selector: Option<String>,
    /// A label key to count the agents by.
    #[param(example = "team")]
    group_by: Option<String>,
    /// The column to sort by (default `name`); ties are broken by name.
    sort: Option<FleetSort>,
    /// `asc` (default) or `desc`.
    order: Option<Order>,
    /// Agents to skip, in that order (default 0).
    #[param(minimum = 0)]
    offset: Option<usize>,
    /// How many agents, 1 to 500 (default 500).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<usize>,
}

/// The org's agents, filtered by a label selector, sorted by a column and grouped by a
/// label key when asked.
#[utoipa::path(get, path = "/v1/admin/agents", tag = "agents", security(("adminToken" = [])),
    params(FleetParams),
    responses((status = 200, description = "The agents", body = Fleet)))]
async fn list_agents(
    State(s): State<AppState>,
    Caller(p, _): Caller,
    QueryParams(q): QueryParams<FleetParams>,
) -> ApiResult<Json<Fleet>> {
    let (selector, group_by) = (
        q.selector.unwrap_or_default(),
        q.group_by.unwrap_or_default(),
    );
    let page = FleetPage {
        offset: q.offset.unwrap_or(0),
        limit: q.limit.unwrap_or(MAX_FLEET_PAGE),
        sort: q.sort.unwrap_or_default(),
        order: q.order.unwrap_or_default(),
    };
    Ok(Json(
        s.engine
            .reader(&p)
            .fleet(&selector, &group_by, page)
            .await?,
    ))
}

#[derive(Serialize, ToSchema)]
pub struct AgentWithKeys {
    agent: Agent,
    keys: Vec<AgentKey>,
    /// Whether the owner is still an active user of the org ("owner inactive" if not).
    owner_active: bool,
}

/// An agent and its API keys (hashes never served).
#[utoipa::path(get, path = "/v1/admin/agents/{id}", tag = "agents", security(("adminToken" = [])),
    params(("id" = AgentId, Path)),
    responses((status = 200, description = "The agent", body = AgentWithKeys)))]
async fn get_agent(
    State(s): State<AppState>,
    Caller(p, _): Caller,
    IdPath(id): IdPath<AgentId>,
) -> ApiResult<Json<AgentWithKeys>> {
    let r = s.engine.reader(&p);
    let agent = r.agent(id).await?;
    Ok(Json(AgentWithKeys {
        owner_active: r
            .inactive_owners(std::slice::from_ref(&agent))
            .await?
            .is_empty(),
        keys: r.agent_keys(id).await?,
        agent,
    }))
}

/// Sets an agent's owner, description or labels (admins); the fields left out are kept.
/// The change is recorded (`agent.updated`) with what each field was.
#[utoipa::path(patch, path = "/v1/admin/agents/{id}", tag = "agents", security(("adminToken" = [])),
    params(("id" = AgentId, Path)),
    request_body = AgentUpdate,
    responses(
        (status = 200, description = "The agent as it is now", body = Agent),
        (status = 400, description = "An owner who is not an active user of the org, or a malformed label", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 409, description = "The agent is decommissioned: its record is kept as retired", body = ErrorBody),
    ))]
async fn update_agent(
    State(s): State<AppState>,
    Caller(p, _): Caller,
    IdPath(id): IdPath<AgentId>,
    JsonBody(input): JsonBody<AgentUpdate>,
) -> ApiResult<Json<Agent>> {
    Ok(Json(s.engine.admin(&p)?.update_agent(id, input).await?))
}

#[derive(Serialize, ToSchema)]
pub struct AgentCreated {
    agent: Agent,
}

/// Registers an agent (admins).
#[utoipa::path(post, path = "/v1/admin/agents", tag = "agents", security(("adminToken" = [])),
    request_body = NewAgent,
    responses(
        (status = 201, description = "Registered", body = AgentCreated),
        (status = 400, description = "A malformed field, or `replaces` names no retired agent without a successor", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 409, description = "An agent of that name exists", body = ErrorBody),
    ))]
async fn create_agent(
    State(s): State<AppState>,
    Caller(p, _): Caller,
    JsonBody(input): JsonBody<NewAgent>,
) -> ApiResult<(StatusCode, Json<AgentCreated>)> {
    let agent = s.engine.admin(&p)?.create_agent(input).await?;
    Ok((StatusCode::CREATED, Json(AgentCreated { agent })))
}

#[derive(Serialize, ToSchema)]
pub struct KeyList {
    keys: Vec<AgentKey>,
}

/// An agent's API keys (hashes never served).
#[utoipa::path(get, path = "/v1/admin/agents/{id}/keys", tag = "agents", security(("adminToken" = [])),
    params(("id" = AgentId, Path)),
    responses((status = 200, description = "The keys", body = KeyList)))]
async fn list_keys(
    State(s): State<AppState>,
    Caller(p, _): Caller,
    IdPath(id): IdPath<AgentId>,
) -> ApiResult<Json<KeyList>> {
    Ok(Json(KeyList {
        keys: s.engine.reader(&p).agent_keys(id).await?,
    }))
}

/// A new key: the secret is in this answer and nowhere else, ever.
#[derive(Serialize, ToSchema)]
pub struct KeyIssued {
    key: AgentKey,
    /// The secret (`arx_...`): store it now.
    api_key: String,
    note: String,
}

/// Issues an API key for the agent (admins); the secret is shown once.
#[utoipa::path(post, path = "/v1/admin/agents/{id}/keys", tag = "agents", security(("adminToken" = [])),
    params(("id" = AgentId, Path)),
    responses(
        (status = 201, description = "Issued", body = KeyIssued),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 409, description = "The agent is decommissioned: it gets no new keys", body = ErrorBody),
    ))]
async fn issue_key(
    State(s): State<AppState>,
    Caller(p, _): Caller,
    IdPath(id): IdPath<AgentId>,
) -> ApiResult<(StatusCode, Json<KeyIssued>)> {
    let (key, api_key) = s.engine.admin(&p)?.issue_agent_key(id).await?;
    let note = "shown once; store it now".into();
    Ok((StatusCode::CREATED, Json(KeyIssued { key, api_key, note })))
}

/// Revokes a key of the agent (admins); a key of another agent is not found.
#[utoipa::path(delete, path = "/v1/admin/agents/{id}/keys/{key_id}", tag = "agents",
    security(("adminToken" = [])),
    params(("id" = AgentId, Path), ("key_id" = KeyId, Path)),
    responses(
        (status = 204, description = "Revoked"),
        (status = 403, description = "Not an admin", body = ErrorBody),
    ))]
async fn revoke_key(
    State(s): State<AppState>,
    Caller(p, _): Caller,
    Path((agent, key)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let (agent, key) = (parse_id::<AgentId>(&agent)?, parse_id::<KeyId>(&key)?);
    s.engine.admin(&p)?.revoke_agent_key(agent, key).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Why a change is made; it goes into the audit trail.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"reason": "the agent's owner left the team"}))]
pub struct Reason {
    #[schema(min_length = 1, max_length = 500)]
    reason: String,
}

/// Suspends an agent (admins): its calls are refused until it is reactivated.
#[utoipa::path(post, path = "/v1/admin/agents/{id}/suspend", tag = "agents",
    security(("adminToken" = [])),
    params(("id" = AgentId, Path)),
    request_body = Reason,
    responses(
        (status = 204, description = "Suspended"),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 409, description = "The agent is decommissioned", body = ErrorBody),
    ))]
async fn suspend_agent(
    State(s): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath<AgentId>,
    JsonBody(r): JsonBody<Reason>,
) -> ApiResult<StatusCode> {
    set_status(s, caller, id, AgentStatus::Suspended, r).await
}

/// Reactivates a suspended agent (admins).
#[utoipa::path(post, path = "/v1/admin/agents/{id}/reactivate", tag = "agents",
    security(("adminToken" = [])),
    params(("id" = AgentId, Path)),
    request_body = Reason,
    responses(
        (status = 204, description = "Reactivated"),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 409, description = "The agent is decommissioned: it is never reactivated", body = ErrorBody),
    ))]
async fn reactivate_agent(
    State(s): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath<AgentId>,
    JsonBody(r): JsonBody<Reason>,
) -> ApiResult<StatusCode> {
    set_status(s, caller, id, AgentStatus::Active, r).await
}

async fn set_status(
    s: AppState,
    Caller(p, _): Caller,
    id: AgentId,
    status: AgentStatus,
    r: Reason,
) -> ApiResult<StatusCode> {
    s.engine
        .admin(&p)?
        .set_agent_status(id, status, &r.reason)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Decommissions an agent (admins), at once: every key revoked (later calls answer 401
/// with the reason), its grants ended, its pending approvals cancelled (a waiting call is
/// told why), and its personnel record sealed in the chain (`agent.sealed`). It can never
/// be reactivated; its records stay readable.
#[utoipa::path(post, path = "/v1/admin/agents/{id}/decommission", tag = "registry",
    security(("adminToken" = [])),
    params(("id" = AgentId, Path)),
    request_body = Decommission,
    responses(
        (status = 200, description = "Decommissioned, and what it revoked", body = Decommissioned),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 409, description = "Decommissioned already", body = ErrorBody),
    ))]
async fn decommission(
    State(s): State<AppState>,
    Caller(p, _): Caller,
    IdPath(id): IdPath<AgentId>,
    JsonBody(d): JsonBody<Decommission>,
) -> ApiResult<Json<Decommissioned>> {
    Ok(Json(s.engine.admin(&p)?.decommission(id, d).await?))
}

/// The agent's lineage: its own retirement, if any, and every agent it replaced (and
/// that they replaced), with the reason each was retired, newest first.
#[utoipa::path(get, path = "/v1/admin/agents/{id}/lineage", tag = "registry",
    security(("adminToken" = [])),
    params(("id" = AgentId, Path)),
    responses((status = 200, description = "The lineage", body = Lineage)))]
async fn lineage(
    State(s): State<AppState>,
    Caller(p, _): Caller,
    IdPath(id): IdPath<AgentId>,
) -> ApiResult<Json<Lineage>> {
    Ok(Json(s.engine.reader(&p).lineage(id).await?))
}

/// The agent's connector graph as data: the connectors and operations its manifest in
/// force declares, and those it tried without declaring them (from drift), each marked
/// read or write and whether it touches personal data or credentials.
#[utoipa::path(get, path = "/v1/admin/agents/{id}/graph", tag = "registry",
    security(("adminToken" = [])),
    params(("id" = AgentId, Path)),
    responses((status = 200, description = "The graph", body = Graph)))]
async fn graph(
    State(s): State<AppState>,
    Caller(p, _): Caller,
    IdPath(id): IdPath<AgentId>,
) -> ApiResult<Json<Graph>> {
    Ok(Json(s.engine.reader(&p).graph(id).await?))
}
