//! `/v1/admin/tokens`: list, create (the secret is shown once) and revoke admin API
//! tokens. Admins see and revoke the org's tokens; other users only their own.

use arx_core::engine::NewToken;
use arx_core::ids::TokenId;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, get};
use axum::{Json, Router};
use serde_json::{Value, json};

use crate::AppState;
use crate::api::parse_id;
use crate::error::ApiResult;
use crate::extract::{Bearer, JsonBody};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/admin/tokens", get(list).post(create))
        .route("/v1/admin/tokens/{id}", delete(revoke))
}

async fn list(State(s): State<AppState>, Bearer(t): Bearer) -> ApiResult<Json<Value>> {
    let p = s.engine.principal_from_token(t.as_deref()).await?;
    Ok(Json(json!({"tokens": s.engine.list_tokens(&p).await?})))
}

async fn create(
    State(s): State<AppState>,
    Bearer(t): Bearer,
    JsonBody(new): JsonBody<NewToken>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let (p, via) = s.engine.token_auth(t.as_deref()).await?;
    let (token, secret) = s.engine.create_token(&p, &new, Some(&via)).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"token": token, "secret": secret, "note": "shown once; store it now"})),
    ))
}

async fn revoke(
    State(s): State<AppState>,
    Bearer(t): Bearer,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let p = s.engine.principal_from_token(t.as_deref()).await?;
    s.engine
        .revoke_token(&p, parse_id::<TokenId>("token", &id)?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
