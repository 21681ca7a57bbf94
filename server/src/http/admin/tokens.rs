//! `/v1/admin/tokens`: list, create (the secret is shown once) and revoke admin API
//! tokens. Admins see and revoke the org's tokens; other users only their own.

use arx_core::engine::NewToken;
use arx_core::ids::TokenId;
use arx_core::model::ApiToken;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::error::ApiResult;
use crate::http::extract::{Caller, IdPath, JsonBody};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(revoke))
}

#[derive(Serialize, ToSchema)]
pub struct TokenList {
    tokens: Vec<ApiToken>,
}

/// Admin API tokens: the org's for admins, one's own for other users.
#[utoipa::path(get, path = "/v1/admin/tokens", tag = "tokens", security(("adminToken" = [])),
    responses((status = 200, description = "The tokens", body = TokenList)))]
async fn list(State(s): State<AppState>, Caller(p, _): Caller) -> ApiResult<Json<TokenList>> {
    Ok(Json(TokenList {
        tokens: s.engine.list_tokens(&p).await?,
    }))
}

/// A new token: the secret is in this answer and nowhere else, ever.
#[derive(Serialize, ToSchema)]
pub struct TokenCreated {
    token: ApiToken,
    /// The secret (`arxu_...`): store it now.
    secret: String,
    note: String,
}

/// Creates a token acting as the caller. A token made with a token expires no later
/// than the one that made it.
#[utoipa::path(post, path = "/v1/admin/tokens", tag = "tokens", security(("adminToken" = [])),
    request_body = NewToken,
    responses((status = 201, description = "Created", body = TokenCreated)))]
async fn create(
    State(s): State<AppState>,
    Caller(p, via): Caller,
    JsonBody(new): JsonBody<NewToken>,
) -> ApiResult<(StatusCode, Json<TokenCreated>)> {
    let (token, secret) = s.engine.create_token(&p, &new, Some(&via)).await?;
    let note = "shown once; store it now".into();
    Ok((
        StatusCode::CREATED,
        Json(TokenCreated {
            token,
            secret,
            note,
        }),
    ))
}

/// Revokes a token: any of the org's for admins, one's own for other users.
#[utoipa::path(delete, path = "/v1/admin/tokens/{id}", tag = "tokens", security(("adminToken" = [])),
    params(("id" = TokenId, Path)),
    responses((status = 204, description = "Revoked")))]
async fn revoke(
    State(s): State<AppState>,
    Caller(p, _): Caller,
    IdPath(id): IdPath<TokenId>,
) -> ApiResult<StatusCode> {
    s.engine.revoke_token(&p, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
