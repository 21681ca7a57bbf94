//! `/v1/admin/grants`: the org's temporary grants of scope to agents, and revoking one
//! (it stops counting at once) with an optional reason.

use arx_core::ids::GrantId;
use arx_core::model::Grant;
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::error::{ApiResult, ErrorBody};
use crate::http::extract::{Caller, IdPath, optional_body};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(grants))
        .routes(routes!(revoke_grant))
}

#[derive(Serialize, ToSchema)]
pub struct GrantList {
    grants: Vec<Grant>,
}

/// The org's grants, newest first.
#[utoipa::path(get, path = "/v1/admin/grants", tag = "grants", security(("adminToken" = [])),
    responses((status = 200, description = "The grants", body = GrantList)))]
async fn grants(State(s): State<AppState>, Caller(p, _): Caller) -> ApiResult<Json<GrantList>> {
    Ok(Json(GrantList {
        grants: s.engine.reader(&p).grants().await?,
    }))
}

/// Why a grant is revoked (optional; the body may be empty).
#[derive(Deserialize, Default, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"reason": "the incident is closed"}))]
pub struct Revoke {
    #[serde(default)]
    #[schema(max_length = 500)]
    reason: String,
}

#[derive(Serialize, ToSchema)]
pub struct GrantRevoked {
    grant: Grant,
}

/// Revokes a grant (admins): it stops counting at once.
#[utoipa::path(post, path = "/v1/admin/grants/{id}/revoke", tag = "grants",
    security(("adminToken" = [])),
    params(("id" = GrantId, Path)),
    request_body(content = Option<Revoke>, content_type = "application/json"),
    responses(
        (status = 200, description = "Revoked", body = GrantRevoked),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 409, description = "The grant is no longer active", body = ErrorBody),
    ))]
async fn revoke_grant(
    State(s): State<AppState>,
    Caller(p, _): Caller,
    IdPath(id): IdPath<GrantId>,
    body: Bytes,
) -> ApiResult<Json<GrantRevoked>> {
    let reason = optional_body::<Revoke>(&body, r#"{"reason": "..."}"#)?.reason;
    let grant = s.engine.admin(&p)?.revoke_grant(id, &reason).await?;
    Ok(Json(GrantRevoked { grant }))
}
