//! `/v1/admin/users`: the org's users, their approver groups, and the Slack member each
//! is linked to (who may press Approve in Slack as them).

use arx_core::ids::UserId;
use axum::extract::State;
use axum::routing::{get, put};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::AppState;
use crate::error::ApiResult;
use crate::http::extract::{Caller, IdPath, JsonBody};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/admin/users", get(users))
        .route("/v1/admin/users/{id}/groups", put(set_groups))
        .route("/v1/admin/users/{id}/slack", put(link_slack))
}

async fn users(State(s): State<AppState>, Caller(p, _): Caller) -> ApiResult<Json<Value>> {
    Ok(Json(json!({"users": s.engine.reader(&p).users().await?})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Groups {
    groups: Vec<String>,
}

async fn set_groups(
    State(s): State<AppState>,
    Caller(p, _): Caller,
    IdPath(id): IdPath<UserId>,
    JsonBody(g): JsonBody<Groups>,
) -> ApiResult<Json<Value>> {
    let user = s.engine.admin(&p)?.set_user_groups(id, g.groups).await?;
    Ok(Json(json!({"user": user})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SlackLink {
    slack_user_id: Option<String>,
}

async fn link_slack(
    State(s): State<AppState>,
    Caller(p, _): Caller,
    IdPath(id): IdPath<UserId>,
    JsonBody(l): JsonBody<SlackLink>,
) -> ApiResult<Json<Value>> {
    let user = s
        .engine
        .admin(&p)?
        .link_slack_user(id, l.slack_user_id.as_deref())
        .await?;
    Ok(Json(json!({"user": user})))
}
