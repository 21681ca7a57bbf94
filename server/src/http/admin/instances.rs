//! The connector catalog (`GET /v1/admin/connectors`) and the org's instances of
//! connectors (`/v1/admin/instances`), with their credentials (write-only: sealed by the
//! vault, never shown again).

use std::collections::BTreeMap;

use arx_core::engine::NewInstance;
use arx_core::ids::InstanceId;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, put};
use axum::{Json, Router};
use serde_json::{Value, json};

use crate::AppState;
use crate::error::ApiResult;
use crate::http::extract::{Caller, IdPath, JsonBody};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/admin/connectors", get(connectors))
        .route(
            "/v1/admin/instances",
            get(list_instances).post(create_instance),
        )
        .route("/v1/admin/instances/{id}/credentials", put(set_credentials))
}

/// Any signed-in user may read the catalog; it holds no org data.
async fn connectors(State(s): State<AppState>, _: Caller) -> ApiResult<Json<Value>> {
    let list: Vec<Value> = s
        .engine
        .catalog()
        .iter()
        .map(|c| {
            json!({
                "name": c.name, "display_name": c.display_name, "category": c.category,
                "sensitivity": c.sensitivity(), "auth": c.auth, "variables": c.variables,
                "operations": c.operations,
            })
        })
        .collect();
    Ok(Json(json!({"connectors": list})))
}

async fn list_instances(State(s): State<AppState>, Caller(p, _): Caller) -> ApiResult<Json<Value>> {
    Ok(Json(
        json!({"instances": s.engine.reader(&p).instances().await?}),
    ))
}

async fn create_instance(
    State(s): State<AppState>,
    Caller(p, _): Caller,
    JsonBody(input): JsonBody<NewInstance>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let inst = s.engine.admin(&p)?.create_instance(input).await?;
    Ok((StatusCode::CREATED, Json(json!({"instance": inst}))))
}

async fn set_credentials(
    State(s): State<AppState>,
    Caller(p, _): Caller,
    IdPath(id): IdPath<InstanceId>,
    JsonBody(creds): JsonBody<BTreeMap<String, String>>,
) -> ApiResult<StatusCode> {
    s.engine.admin(&p)?.set_credentials(id, creds).await?;
    Ok(StatusCode::NO_CONTENT)
}
