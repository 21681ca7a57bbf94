//! `/v1/admin/grants`: the org's temporary grants of scope to agents, and revoking one
//! (it stops counting at once) with an optional reason.

use arx_core::ids::GrantId;
use axum::body::Bytes;
use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::AppState;
use crate::error::ApiResult;
use crate::http::extract::{Caller, IdPath, optional_body};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/admin/grants", get(grants))
        .route("/v1/admin/grants/{id}/revoke", post(revoke_grant))
}

async fn grants(State(s): State<AppState>, Caller(p, _): Caller) -> ApiResult<Json<Value>> {
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
    Caller(p, _): Caller,
    IdPath(id): IdPath<GrantId>,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let reason = optional_body::<Revoke>(&body, r#"{"reason": "..."}"#)?.reason;
    let g = s.engine.admin(&p)?.revoke_grant(id, &reason).await?;
    Ok(Json(json!({"grant": g})))
}
