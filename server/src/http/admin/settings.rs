//! The org's settings: how long vendor responses are kept
//! (`GET`/`PUT /v1/admin/settings/retention`).

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::AppState;
use crate::error::ApiResult;
use crate::http::extract::{Caller, JsonBody};

pub fn routes() -> Router<AppState> {
    Router::new().route(
        "/v1/admin/settings/retention",
        get(retention).put(set_retention),
    )
}

async fn retention(State(s): State<AppState>, Caller(p, _): Caller) -> ApiResult<Json<Value>> {
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
    Caller(p, _): Caller,
    JsonBody(r): JsonBody<Retention>,
) -> ApiResult<Json<Value>> {
    let days = s
        .engine
        .admin(&p)?
        .set_response_retention_days(r.response_days)
        .await?;
    Ok(Json(json!({"response_days": days})))
}
