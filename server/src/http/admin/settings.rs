//! The org's settings: how long vendor responses are kept
//! (`GET`/`PUT /v1/admin/settings/retention`) and how long console sessions last
//! (`GET`/`PUT /v1/admin/settings/sessions`).

use arx_core::store::SessionSettings;
use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::error::{ApiResult, ErrorBody};
use crate::http::extract::{Caller, JsonBody};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(retention, set_retention))
        .routes(routes!(sessions, set_sessions))
}

/// How many days the org keeps vendor response bodies.
#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"response_days": 30}))]
pub struct Retention {
    #[schema(minimum = 1, maximum = 3650)]
    response_days: i64,
}

/// How many days the org keeps vendor response bodies (default 30).
#[utoipa::path(get, path = "/v1/admin/settings/retention", tag = "settings",
    security(("adminToken" = [])),
    responses((status = 200, description = "The setting", body = Retention)))]
async fn retention(State(s): State<AppState>, Caller(p, _): Caller) -> ApiResult<Json<Retention>> {
    let response_days = s.engine.reader(&p).response_retention_days().await?;
    Ok(Json(Retention {
        response_days: response_days.into(),
    }))
}

/// Sets how many days the org keeps vendor response bodies (admins; recorded). Older
/// bodies are purged once a minute; each purge is recorded in the chain.
#[utoipa::path(put, path = "/v1/admin/settings/retention", tag = "settings",
    security(("adminToken" = [])),
    request_body = Retention,
    responses(
        (status = 200, description = "Set", body = Retention),
        (status = 403, description = "Not an admin", body = ErrorBody),
    ))]
async fn set_retention(
    State(s): State<AppState>,
    Caller(p, _): Caller,
    JsonBody(r): JsonBody<Retention>,
) -> ApiResult<Json<Retention>> {
    let response_days = s
        .engine
        .admin(&p)?
        .set_response_retention_days(r.response_days)
        .await?;
    Ok(Json(Retention {
        response_days: response_days.into(),
    }))
}

/// How long the org's console sessions last: they end after `idle_minutes` without a
/// request, and `absolute_minutes` after sign-in however busy (defaults 720 and 1440).
#[utoipa::path(get, path = "/v1/admin/settings/sessions", tag = "settings",
    security(("adminToken" = [])),
    responses((status = 200, description = "The setting", body = SessionSettings)))]
async fn sessions(
    State(s): State<AppState>,
    Caller(p, _): Caller,
) -> ApiResult<Json<SessionSettings>> {
    Ok(Json(s.engine.reader(&p).session_settings().await?))
}

/// Sets how long the org's console sessions last (admins; recorded). Applies to live
/// sessions at their next request.
#[utoipa::path(put, path = "/v1/admin/settings/sessions", tag = "settings",
    security(("adminToken" = [])),
    request_body = SessionSettings,
    responses(
        (status = 200, description = "Set", body = SessionSettings),
        (status = 400, description = "Out of range: idle 5 to 1440 minutes, absolute from idle to 43200", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
    ))]
async fn set_sessions(
    State(s): State<AppState>,
    Caller(p, _): Caller,
    JsonBody(r): JsonBody<SessionSettings>,
) -> ApiResult<Json<SessionSettings>> {
    Ok(Json(s.engine.admin(&p)?.set_session_settings(r).await?))
}
