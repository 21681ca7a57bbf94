//! `GET`, `PUT` and `DELETE /v1/admin/integrations/{slack|teams|webhook}`: an org's
//! settings, admins only. Answers show plain settings and which secrets are set, never
//! a secret.

use arx_core::CoreError;
use arx_core::integration::IntegrationKind;
use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::http::extract::{Caller, JsonBody};

pub fn routes() -> Router<AppState> {
    Router::new().route(
        "/v1/admin/integrations/{kind}",
        get(show).put(set).delete(delete),
    )
}

/// An unknown kind is a 404, as for any path that names nothing.
fn kind(s: &str) -> Result<IntegrationKind, ApiError> {
    IntegrationKind::parse(s).ok_or_else(|| {
        ApiError(CoreError::NotFound(format!(
            "no integration '{s}'; there are slack, teams and webhook"
        )))
    })
}

async fn show(
    State(s): State<AppState>,
    Caller(p, _): Caller,
    Path(k): Path<String>,
) -> ApiResult<Json<Value>> {
    let view = s.engine.admin(&p)?.integration(kind(&k)?).await?;
    Ok(Json(json!({"integration": view})))
}

async fn set(
    State(s): State<AppState>,
    Caller(p, _): Caller,
    Path(k): Path<String>,
    JsonBody(body): JsonBody<Value>,
) -> ApiResult<Json<Value>> {
    let view = s.engine.admin(&p)?.set_integration(kind(&k)?, body).await?;
    Ok(Json(json!({"integration": view})))
}

async fn delete(
    State(s): State<AppState>,
    Caller(p, _): Caller,
    Path(k): Path<String>,
) -> ApiResult<Json<Value>> {
    let deleted = s.engine.admin(&p)?.delete_integration(kind(&k)?).await?;
    Ok(Json(json!({"deleted": deleted})))
}
