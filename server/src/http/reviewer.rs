//! The reviewer API (docs/architecture.md §14): the queue of approval requests (filtered by a
//! typed `?status=`), one request with everything a reviewer needs, and the decisions
//! people make on it, approve and deny with a comment. Who may decide is the engine's
//! `ReviewOps` to say.

use arx_core::engine::ApprovalDetail;
use arx_core::ids::ApprovalId;
use arx_core::model::{ApprovalRequest, ApprovalStatus};
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::{Caller, IdPath, QueryParams, optional_body};
use crate::AppState;
use crate::error::{ApiResult, ErrorBody};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(detail))
        .routes(routes!(approve))
        .routes(routes!(deny))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ListParams {
    /// Only requests in this state; `?status=bogus` is a 400 listing the states.
    status: Option<ApprovalStatus>,
}

#[derive(Serialize, ToSchema)]
pub struct ApprovalList {
    approvals: Vec<ApprovalRequest>,
}

/// The org's approval requests, newest first.
#[utoipa::path(get, path = "/v1/admin/approvals", tag = "approvals", security(("adminToken" = [])),
    params(ListParams),
    responses((status = 200, description = "The requests", body = ApprovalList)))]
async fn list(
    State(s): State<AppState>,
    Caller(p, _): Caller,
    QueryParams(q): QueryParams<ListParams>,
) -> ApiResult<Json<ApprovalList>> {
    Ok(Json(ApprovalList {
        approvals: s.engine.reader(&p).approvals(q.status).await?,
    }))
}

/// One request with everything a reviewer needs: the call, its risk and the rule that
/// escalated it, the agent, the target's state against the call, the votes.
#[utoipa::path(get, path = "/v1/admin/approvals/{id}", tag = "approvals", security(("adminToken" = [])),
    params(("id" = ApprovalId, Path)),
    responses((status = 200, description = "The request", body = ApprovalDetail)))]
async fn detail(
    State(s): State<AppState>,
    Caller(p, _): Caller,
    IdPath(id): IdPath<ApprovalId>,
) -> ApiResult<Json<ApprovalDetail>> {
    Ok(Json(s.engine.reader(&p).approval_detail(id).await?))
}

/// A reviewer's comment on a decision (optional; the body may be empty).
#[derive(Deserialize, Default, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"comment": "matches ticket SEC-4411"}))]
pub struct Decision {
    #[serde(default)]
    #[schema(max_length = 2000)]
    comment: String,
}

/// The request after the decision; while an approved call still runs, a message says so.
#[derive(Serialize, ToSchema)]
pub struct Decided {
    approval: ApprovalRequest,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<String>,
}

async fn decide(
    s: AppState,
    Caller(p, _): Caller,
    id: ApprovalId,
    body: &[u8],
    approve: bool,
) -> ApiResult<Json<Decided>> {
    let comment = optional_body::<Decision>(body, r#"{"comment": "..."}"#)?.comment;
    let reviewer = s.engine.reviewer(&p).await?;
    let approval = if approve {
        reviewer.approve(id, &comment).await?
    } else {
        reviewer.deny(id, &comment).await?
    };
    let message = (approval.status == ApprovalStatus::Executing).then(|| format!(
        "approved; the call is still running and will finish by itself: see GET /v1/admin/approvals/{id}"
    ));
    Ok(Json(Decided { approval, message }))
}

/// Approves a pending request: an approved call runs now, exactly as shown.
#[utoipa::path(post, path = "/v1/admin/approvals/{id}/approve", tag = "approvals",
    security(("adminToken" = [])),
    params(("id" = ApprovalId, Path)),
    request_body(content = Option<Decision>, content_type = "application/json"),
    responses(
        (status = 200, description = "Decided", body = Decided),
        (status = 403, description = "The caller may not decide this request", body = ErrorBody),
        (status = 409, description = "The request is no longer pending", body = ErrorBody),
    ))]
async fn approve(
    State(s): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath<ApprovalId>,
    body: Bytes,
) -> ApiResult<Json<Decided>> {
    decide(s, caller, id, &body, true).await
}

/// Denies a pending request.
#[utoipa::path(post, path = "/v1/admin/approvals/{id}/deny", tag = "approvals",
    security(("adminToken" = [])),
    params(("id" = ApprovalId, Path)),
    request_body(content = Option<Decision>, content_type = "application/json"),
    responses(
        (status = 200, description = "Decided", body = Decided),
        (status = 403, description = "The caller may not decide this request", body = ErrorBody),
        (status = 409, description = "The request is no longer pending", body = ErrorBody),
    ))]
async fn deny(
    State(s): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath<ApprovalId>,
    body: Bytes,
) -> ApiResult<Json<Decided>> {
    decide(s, caller, id, &body, false).await
}
