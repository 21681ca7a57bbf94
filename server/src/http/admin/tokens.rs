//! `/v1/admin/tokens`: list, create (the secret is shown once) and revoke admin API
//! tokens. Admins see and revoke the org's tokens; other users only their own.

use arx_core::engine::NewToken;
use arx_core::ids::TokenId;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{delete, get};
use axum::{Json, Router};
use serde_json::{Value, json};

use crate::AppState;
use crate::error::ApiResult;
use crate::http::extract::{Caller, IdPath, JsonBody};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/admin/tokens", get(list).post(create))
        .route("/v1/admin/tokens/{id}", delete(revoke))
}

async fn list(State(s): State<AppState>, Caller(p, _): Caller) -> ApiResult<Json<Value>> {
    Ok(Json(json!({"tokens": s.engine.list_tokens(&p).await?})))
}

/// A token made with a token expires no later than the one that made it.
async fn create(
    State(s): State<AppState>,
    Caller(p, via): Caller,
    JsonBody(new): JsonBody<NewToken>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let (token, secret) = s.engine.create_token(&p, &new, Some(&via)).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"token": token, "secret": secret, "note": "shown once; store it now"})),
    ))
}

async fn revoke(
    State(s): State<AppState>,
    Caller(p, _): Caller,
    IdPath(id): IdPath<TokenId>,
) -> ApiResult<StatusCode> {
    s.engine.revoke_token(&p, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
