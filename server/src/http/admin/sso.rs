//! `/v1/admin/sso/oidc`: the org's OpenID Connect sign-in. The client secret is
//! write-only; the answer says where the provider must send browsers back and where a
//! sign-in starts.

use arx_core::engine::OidcInput;
use arx_core::model::OidcSettings;
use axum::Json;
use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::error::{ApiResult, ErrorBody};
use crate::http::extract::{Caller, JsonBody};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_oidc, put_oidc))
}

#[derive(Serialize, ToSchema)]
pub struct OidcView {
    /// `null` until set.
    settings: Option<OidcSettings>,
    /// The redirect URI to register with the provider.
    redirect_uri: String,
    /// Where a browser starts signing in to this org.
    login_url: String,
}

fn view(s: &AppState, org_slug: &str, settings: Option<OidcSettings>) -> OidcView {
    OidcView {
        settings,
        redirect_uri: crate::http::sso::callback_url(s),
        login_url: format!("{}/auth/oidc/login?org={org_slug}", s.hub.public_url),
    }
}

/// The org's OIDC sign-in settings (never the client secret).
#[utoipa::path(get, path = "/v1/admin/sso/oidc", tag = "identity", security(("adminToken" = [])),
    responses((status = 200, description = "The settings", body = OidcView),
        (status = 403, description = "Not an admin", body = ErrorBody)))]
async fn get_oidc(State(s): State<AppState>, Caller(p, _): Caller) -> ApiResult<Json<OidcView>> {
    let settings = s.engine.admin(&p)?.oidc_settings().await?;
    Ok(Json(view(&s, p.org_slug(), settings)))
}

/// Sets the org's OIDC sign-in. Omit `client_secret` to keep the stored one.
#[utoipa::path(put, path = "/v1/admin/sso/oidc", tag = "identity", security(("adminToken" = [])),
    request_body = OidcInput,
    responses((status = 200, description = "Set", body = OidcView),
        (status = 403, description = "Not an admin", body = ErrorBody)))]
async fn put_oidc(
    State(s): State<AppState>,
    Caller(p, _): Caller,
    JsonBody(input): JsonBody<OidcInput>,
) -> ApiResult<Json<OidcView>> {
    let settings = s.engine.admin(&p)?.set_oidc_settings(input).await?;
    Ok(Json(view(&s, p.org_slug(), Some(settings))))
}
