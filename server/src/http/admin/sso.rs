//! `/v1/admin/sso/oidc` and `/v1/admin/sso/saml`: the org's single sign-on. The OIDC
//! client secret is write-only; each answer says what to register with the identity
//! provider and where a sign-in starts.

use arx_core::engine::{OidcInput, SamlInput, SamlSp};
use arx_core::model::{OidcSettings, SamlSettings};
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
    OpenApiRouter::new()
        .routes(routes!(get_oidc, put_oidc))
        .routes(routes!(get_saml, put_saml))
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

#[derive(Serialize, ToSchema)]
pub struct SamlView {
    /// `null` until set.
    settings: Option<SamlSettings>,
    /// ARX's entity id for this org, which is also where its SP metadata is served:
    /// give this URL (or the document) to the IdP.
    sp_entity_id: String,
    /// The assertion consumer service (HTTP-POST) to register with the IdP.
    acs_url: String,
    /// Where a browser starts signing in to this org.
    login_url: String,
}

fn saml_view(s: &AppState, org_slug: &str, settings: Option<SamlSettings>) -> SamlView {
    let sp = SamlSp::new(&s.hub.public_url, org_slug);
    SamlView {
        settings,
        sp_entity_id: sp.entity_id,
        acs_url: sp.acs_url,
        login_url: sp.login_url,
    }
}

/// The org's SAML sign-in settings, with ARX's names to register at the IdP.
#[utoipa::path(get, path = "/v1/admin/sso/saml", tag = "identity", security(("adminToken" = [])),
    responses((status = 200, description = "The settings", body = SamlView),
        (status = 403, description = "Not an admin", body = ErrorBody)))]
async fn get_saml(State(s): State<AppState>, Caller(p, _): Caller) -> ApiResult<Json<SamlView>> {
    let settings = s.engine.admin(&p)?.saml_settings().await?;
    Ok(Json(saml_view(&s, p.org_slug(), settings)))
}

/// Sets the org's SAML sign-in: the IdP's metadata by URL (fetched now) or as XML; with
/// neither, the stored metadata is kept. Metadata without a signing certificate is refused.
#[utoipa::path(put, path = "/v1/admin/sso/saml", tag = "identity", security(("adminToken" = [])),
    request_body = SamlInput,
    responses((status = 200, description = "Set", body = SamlView),
        (status = 400, description = "Unusable metadata or a bad field", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody)))]
async fn put_saml(
    State(s): State<AppState>,
    Caller(p, _): Caller,
    JsonBody(input): JsonBody<SamlInput>,
) -> ApiResult<Json<SamlView>> {
    let settings = s.engine.admin(&p)?.set_saml_settings(input).await?;
    Ok(Json(saml_view(&s, p.org_slug(), Some(settings))))
}
