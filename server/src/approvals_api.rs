//! Approvals over HTTP: the agent's long poll, and the reviewer API (ARCHITECTURE §14):
//! the queue, one request with everything a reviewer needs, approve and deny with a
//! comment; and the approver groups of users.

use arx_core::CoreError;
use arx_core::ids::{ApprovalId, GrantId, UserId};
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::AppState;
use crate::api::{executed_response, parse_id};
use crate::error::{ApiError, ApiResult};
use crate::extract::{Bearer, JsonBody, bearer};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/sdk/approvals/{id}", get(poll))
        .route("/v1/admin/approvals/{id}", get(detail))
        .route("/v1/admin/approvals/{id}/approve", post(approve))
        .route("/v1/admin/approvals/{id}/deny", post(deny))
        .route("/v1/sdk/grants", post(request_grant))
        .route("/v1/admin/grants", get(grants))
        .route("/v1/admin/grants/{id}/revoke", post(revoke_grant))
        .route("/v1/admin/users", get(users))
        .route("/v1/admin/users/{id}/groups", put(set_groups))
        .route("/v1/admin/users/{id}/slack", put(link_slack))
}

#[derive(Deserialize)]
struct Wait {
    wait_seconds: Option<u32>,
}

/// `GET /v1/sdk/approvals/{id}`: waits up to `wait_seconds` (at most 25) for the outcome.
async fn poll(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(w): Query<Wait>,
) -> Response {
    executed_response(
        s.engine
            .poll_approval(bearer(&headers).as_deref(), &id, w.wait_seconds)
            .await,
    )
}

async fn detail(
    State(s): State<AppState>,
    Bearer(t): Bearer,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let p = s.engine.principal_from_token(t.as_deref()).await?;
    let id: ApprovalId = parse_id("approval", &id)?;
    Ok(Json(json!(s.engine.reader(&p).approval_detail(id).await?)))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Decision {
    #[serde(default)]
    comment: String,
}

/// The optional `{"comment": ...}` body of a decision.
/// An optional JSON body: empty means the default; `shape` says what it should be.
fn optional_body<T: serde::de::DeserializeOwned + Default>(
    body: &[u8],
    shape: &str,
) -> Result<T, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(body).map_err(|e| {
        ApiError(CoreError::InvalidRequest(format!(
            "the body must be {shape} or empty: {e}"
        )))
    })
}

async fn decide(
    s: AppState,
    token: Option<String>,
    id: &str,
    body: &[u8],
    approve: bool,
) -> ApiResult<Json<Value>> {
    let p = s.engine.principal_from_token(token.as_deref()).await?;
    let id: ApprovalId = parse_id("approval", id)?;
    let comment = optional_body::<Decision>(body, r#"{"comment": "..."}"#)?.comment;
    let reviewer = s.engine.reviewer(&p).await?;
    let a = if approve {
        reviewer.approve(id, &comment).await?
    } else {
        reviewer.deny(id, &comment).await?
    };
    if a.status == arx_core::model::ApprovalStatus::Executing {
        return Ok(Json(json!({"approval": a, "message": format!(
            "approved; the call is still running and will finish by itself: see GET /v1/admin/approvals/{id}"
        )})));
    }
    Ok(Json(json!({"approval": a})))
}

async fn approve(
    State(s): State<AppState>,
    Bearer(t): Bearer,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    decide(s, t, &id, &body, true).await
}

async fn deny(
    State(s): State<AppState>,
    Bearer(t): Bearer,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    decide(s, t, &id, &body, false).await
}

async fn users(State(s): State<AppState>, Bearer(t): Bearer) -> ApiResult<Json<Value>> {
    let p = s.engine.principal_from_token(t.as_deref()).await?;
    Ok(Json(json!({"users": s.engine.reader(&p).users().await?})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Groups {
    groups: Vec<String>,
}

async fn set_groups(
    State(s): State<AppState>,
    Bearer(t): Bearer,
    Path(id): Path<String>,
    JsonBody(g): JsonBody<Groups>,
) -> ApiResult<Json<Value>> {
    let p = s.engine.principal_from_token(t.as_deref()).await?;
    let id: UserId = parse_id("user", &id)?;
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
    Bearer(t): Bearer,
    Path(id): Path<String>,
    JsonBody(l): JsonBody<SlackLink>,
) -> ApiResult<Json<Value>> {
    let p = s.engine.principal_from_token(t.as_deref()).await?;
    let id: UserId = parse_id("user", &id)?;
    let user = s
        .engine
        .admin(&p)?
        .link_slack_user(id, l.slack_user_id.as_deref())
        .await?;
    Ok(Json(json!({"user": user})))
}

/// `POST /v1/sdk/grants`: an agent asks for temporary scope; answers like an escalated call.
async fn request_grant(State(s): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let parsed = serde_path_to_error::deserialize(&mut serde_json::Deserializer::from_slice(&body))
        .map_err(|e| {
            CoreError::InvalidRequest(format!(
                "the body is not a valid grant request ({{connector, operations, ttl, reason, resource?}}): {}: {}",
                e.path(),
                e.inner()
            ))
        });
    executed_response(
        s.engine
            .request_grant(bearer(&headers).as_deref(), parsed)
            .await,
    )
}

async fn grants(State(s): State<AppState>, Bearer(t): Bearer) -> ApiResult<Json<Value>> {
    let p = s.engine.principal_from_token(t.as_deref()).await?;
    Ok(Json(json!({"grants": s.engine.reader(&p).grants().await?})))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Revoke {
    #[serde(default)]
    reason: String,
}

async fn revoke_grant(
    State(s): State<AppState>,
    Bearer(t): Bearer,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let p = s.engine.principal_from_token(t.as_deref()).await?;
    let id: GrantId = parse_id("grant", &id)?;
    let reason = optional_body::<Revoke>(&body, r#"{"reason": "..."}"#)?.reason;
    let g = s.engine.admin(&p)?.revoke_grant(id, &reason).await?;
    Ok(Json(json!({"grant": g})))
}
