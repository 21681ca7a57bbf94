//! `/v1/admin/agents`: the org's agents, their API keys (the secret shown once), and
//! suspending and reactivating an agent with a reason.

use arx_core::engine::NewAgent;
use arx_core::ids::{AgentId, KeyId};
use arx_core::model::AgentStatus;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::AppState;
use crate::error::ApiResult;
use crate::http::extract::{Caller, IdPath, JsonBody};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/admin/agents", get(list_agents).post(create_agent))
        .route("/v1/admin/agents/{id}", get(get_agent))
        .route("/v1/admin/agents/{id}/keys", get(list_keys).post(issue_key))
        .route("/v1/admin/agents/{id}/keys/{key_id}", delete(revoke_key))
        .route("/v1/admin/agents/{id}/suspend", post(suspend_agent))
        .route("/v1/admin/agents/{id}/reactivate", post(reactivate_agent))
}

async fn list_agents(State(s): State<AppState>, Caller(p, _): Caller) -> ApiResult<Json<Value>> {
    Ok(Json(json!({"agents": s.engine.reader(&p).agents().await?})))
}

async fn get_agent(
    State(s): State<AppState>,
    Caller(p, _): Caller,
    IdPath(id): IdPath<AgentId>,
) -> ApiResult<Json<Value>> {
    let r = s.engine.reader(&p);
    Ok(Json(
        json!({"agent": r.agent(id).await?, "keys": r.agent_keys(id).await?}),
    ))
}

async fn create_agent(
    State(s): State<AppState>,
    Caller(p, _): Caller,
    JsonBody(input): JsonBody<NewAgent>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let agent = s.engine.admin(&p)?.create_agent(input).await?;
    Ok((StatusCode::CREATED, Json(json!({"agent": agent}))))
}

async fn list_keys(
    State(s): State<AppState>,
    Caller(p, _): Caller,
    IdPath(id): IdPath<AgentId>,
) -> ApiResult<Json<Value>> {
    Ok(Json(
        json!({"keys": s.engine.reader(&p).agent_keys(id).await?}),
    ))
}

async fn issue_key(
    State(s): State<AppState>,
    Caller(p, _): Caller,
    IdPath(id): IdPath<AgentId>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let (key, secret) = s.engine.admin(&p)?.issue_agent_key(id).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"key": key, "api_key": secret, "note": "shown once; store it now"})),
    ))
}

/// The key id is what counts (the engine finds it in the caller's org); the agent id in
/// the path is not read.
async fn revoke_key(
    State(s): State<AppState>,
    Caller(p, _): Caller,
    IdPath(key): IdPath<KeyId>,
) -> ApiResult<StatusCode> {
    s.engine.admin(&p)?.revoke_agent_key(key).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Reason {
    reason: String,
}

async fn suspend_agent(
    State(s): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath<AgentId>,
    JsonBody(r): JsonBody<Reason>,
) -> ApiResult<StatusCode> {
    set_status(s, caller, id, AgentStatus::Suspended, r).await
}

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
