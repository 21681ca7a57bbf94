//! `/v1/admin/scim-tokens`: the bearer tokens a directory uses on `/scim/v2`. Admins
//! create them (the secret is shown once), list them without their secret, and revoke
//! them at once.

use arx_core::ids::TokenId;
use arx_core::store::ScimToken;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::error::{ApiResult, ErrorBody};
use crate::http::extract::{Caller, IdPath, JsonBody};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(revoke))
}

#[derive(Serialize, ToSchema)]
pub struct ScimTokenList {
    tokens: Vec<ScimToken>,
}

/// The org's SCIM tokens, newest first, revoked ones included.
#[utoipa::path(get, path = "/v1/admin/scim-tokens", tag = "identity", security(("adminToken" = [])),
    responses((status = 200, description = "The tokens", body = ScimTokenList),
        (status = 403, description = "Not an admin", body = ErrorBody)))]
async fn list(State(s): State<AppState>, Caller(p, _): Caller) -> ApiResult<Json<ScimTokenList>> {
    Ok(Json(ScimTokenList {
        tokens: s.engine.admin(&p)?.scim_tokens().await?,
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Okta provisioning"}))]
pub struct NewScimToken {
    /// What the token is for (the directory that holds it).
    name: String,
}

/// A new SCIM token: the secret is in this answer and nowhere else, ever.
#[derive(Serialize, ToSchema)]
pub struct ScimTokenCreated {
    token: ScimToken,
    /// The secret (`arxs_...`): paste it into the directory's provisioning settings.
    secret: String,
    /// The SCIM base URL to give the directory.
    scim_base_url: String,
}

#[utoipa::path(post, path = "/v1/admin/scim-tokens", tag = "identity", security(("adminToken" = [])),
    request_body = NewScimToken,
    responses((status = 201, description = "Created", body = ScimTokenCreated),
        (status = 403, description = "Not an admin", body = ErrorBody)))]
async fn create(
    State(s): State<AppState>,
    Caller(p, _): Caller,
    JsonBody(new): JsonBody<NewScimToken>,
) -> ApiResult<(StatusCode, Json<ScimTokenCreated>)> {
    let (token, secret) = s.engine.admin(&p)?.create_scim_token(&new.name).await?;
    let scim_base_url = format!("{}/scim/v2", s.hub.public_url);
    Ok((
        StatusCode::CREATED,
        Json(ScimTokenCreated {
            token,
            secret,
            scim_base_url,
        }),
    ))
}

/// Revokes a SCIM token: the directory's next request is refused.
#[utoipa::path(delete, path = "/v1/admin/scim-tokens/{id}", tag = "identity", security(("adminToken" = [])),
    params(("id" = TokenId, Path)),
    responses((status = 204, description = "Revoked"),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 409, description = "Already revoked", body = ErrorBody)))]
async fn revoke(
    State(s): State<AppState>,
    Caller(p, _): Caller,
    IdPath(id): IdPath<TokenId>,
) -> ApiResult<StatusCode> {
    s.engine.admin(&p)?.revoke_scim_token(id).await?;
    Ok(StatusCode::NO_CONTENT)
}
