//! Vendor responses kept outside the chain: `GET /v1/admin/audit/{record_id}/response`
//! (admins and auditors; the body with whether it matches the chain's hash), and the
//! org's retention of them, `GET`/`PUT /v1/admin/settings/retention`.

use arx_core::ids::RecordId;
use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::AppState;
use crate::api::parse_id;
use crate::error::ApiResult;
use crate::extract::{Bearer, JsonBody};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/admin/audit/{record_id}/response", get(response))
        .route(
            "/v1/admin/settings/retention",
            get(retention).put(set_retention),
        )
}

async fn response(
    State(s): State<AppState>,
    Bearer(t): Bearer,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let p = s.engine.principal_from_token(t.as_deref()).await?;
    let id: RecordId = parse_id("record", &id)?;
    Ok(Json(json!(s.engine.responses(&p)?.response(id).await?)))
}

async fn retention(State(s): State<AppState>, Bearer(t): Bearer) -> ApiResult<Json<Value>> {
    let p = s.engine.principal_from_token(t.as_deref()).await?;
    let days = s.engine.reader(&p).response_retention_days().await?;
    Ok(Json(json!({"response_days": days})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Retention {
    response_days: i64,
}

async fn set_retention(
    State(s): State<AppState>,
    Bearer(t): Bearer,
    JsonBody(r): JsonBody<Retention>,
) -> ApiResult<Json<Value>> {
    let p = s.engine.principal_from_token(t.as_deref()).await?;
    let days = s
        .engine
        .admin(&p)?
        .set_response_retention_days(r.response_days)
        .await?;
    Ok(Json(json!({"response_days": days})))
}
