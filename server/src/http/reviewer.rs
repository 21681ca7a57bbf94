//! The reviewer API (docs/architecture.md §14): the queue of approval requests (filtered by a
//! typed `?status=`), one request with everything a reviewer needs, and the decisions
//! people make on it, approve and deny with a comment. Who may decide is the engine's
//! `ReviewOps` to say.

use arx_core::ids::ApprovalId;
use arx_core::model::ApprovalStatus;
use axum::body::Bytes;
use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use super::extract::{Caller, IdPath, QueryParams, optional_body};
use crate::AppState;
use crate::error::ApiResult;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/admin/approvals", get(list))
        .route("/v1/admin/approvals/{id}", get(detail))
        .route("/v1/admin/approvals/{id}/approve", post(approve))
        .route("/v1/admin/approvals/{id}/deny", post(deny))
}

#[derive(Deserialize)]
struct ListParams {
    /// Only requests in this state; `?status=bogus` is a 400 listing the states.
    status: Option<ApprovalStatus>,
}

async fn list(
    State(s): State<AppState>,
    Caller(p, _): Caller,
    QueryParams(q): QueryParams<ListParams>,
) -> ApiResult<Json<Value>> {
    Ok(Json(
        json!({"approvals": s.engine.reader(&p).approvals(q.status).await?}),
    ))
}

async fn detail(
    State(s): State<AppState>,
    Caller(p, _): Caller,
    IdPath(id): IdPath<ApprovalId>,
) -> ApiResult<Json<Value>> {
    Ok(Json(json!(s.engine.reader(&p).approval_detail(id).await?)))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Decision {
    #[serde(default)]
    comment: String,
}

async fn decide(
    s: AppState,
    Caller(p, _): Caller,
    id: ApprovalId,
    body: &[u8],
    approve: bool,
) -> ApiResult<Json<Value>> {
    let comment = optional_body::<Decision>(body, r#"{"comment": "..."}"#)?.comment;
    let reviewer = s.engine.reviewer(&p).await?;
    let a = if approve {
        reviewer.approve(id, &comment).await?
    } else {
        reviewer.deny(id, &comment).await?
    };
    if a.status == ApprovalStatus::Executing {
        return Ok(Json(json!({"approval": a, "message": format!(
            "approved; the call is still running and will finish by itself: see GET /v1/admin/approvals/{id}"
        )})));
    }
    Ok(Json(json!({"approval": a})))
}

async fn approve(
    State(s): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath<ApprovalId>,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    decide(s, caller, id, &body, true).await
}

async fn deny(
    State(s): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath<ApprovalId>,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    decide(s, caller, id, &body, false).await
}
