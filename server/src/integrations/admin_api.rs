//! `GET`, `PUT` and `DELETE /v1/admin/integrations/{slack|teams|webhook}`: an org's
//! settings, admins only. Answers show plain settings and which secrets are set, never
//! a secret.

use arx_core::CoreError;
use arx_core::integration::IntegrationKind;
use axum::Json;
use axum::extract::{Path, State};
use serde_json::{Value, json};

use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Bearer, JsonBody};

fn kind(s: &str) -> Result<IntegrationKind, ApiError> {
    IntegrationKind::parse(s).ok_or_else(|| {
        ApiError(CoreError::NotFound(format!(
            "no integration '{s}'; there are slack, teams and webhook"
        )))
    })
}

pub async fn show(
    State(s): State<AppState>,
    Bearer(t): Bearer,
    Path(k): Path<String>,
) -> ApiResult<Json<Value>> {
    let p = s.engine.principal_from_token(t.as_deref()).await?;
    let view = s.engine.admin(&p)?.integration(kind(&k)?).await?;
    Ok(Json(json!({"integration": view})))
}

pub async fn set(
    State(s): State<AppState>,
    Bearer(t): Bearer,
    Path(k): Path<String>,
    JsonBody(body): JsonBody<Value>,
) -> ApiResult<Json<Value>> {
    let p = s.engine.principal_from_token(t.as_deref()).await?;
    let view = s.engine.admin(&p)?.set_integration(kind(&k)?, body).await?;
    Ok(Json(json!({"integration": view})))
}

pub async fn delete(
    State(s): State<AppState>,
    Bearer(t): Bearer,
    Path(k): Path<String>,
) -> ApiResult<Json<Value>> {
    let p = s.engine.principal_from_token(t.as_deref()).await?;
    let deleted = s.engine.admin(&p)?.delete_integration(kind(&k)?).await?;
    Ok(Json(json!({"deleted": deleted})))
}
