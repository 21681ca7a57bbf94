//! The HTTP surface, laid out by who calls it:
//!
//! - [`sdk`]: what agents call (`/v1/sdk/...`: execute, the approval poll, grant requests),
//!   authenticated by the agent's API key inside the engine;
//! - [`admin`]: the admin API (`/v1/admin/...`), one module per resource, each handler
//!   taking the caller's admin token as [`extract::Caller`];
//! - [`reviewer`]: the approval queue and the decisions people make on it;
//! - [`ops`]: health, metrics and the OpenAPI document, for operators and their tools;
//! - [`console`]: the console's sign-in, sign-out and session layers (its pages and
//!   server functions are the `app` crate's).
//!
//! The Slack interaction endpoint is delivery's ([`crate::integrations`]), mounted here.
//! - [`scim`]: SCIM 2.0 provisioning by a directory (`/scim/v2/...`), with its own tokens
//!   and error shape (RFC 7644), outside the OpenAPI document.
//!
//! - [`sso`]: sign-in through an org's identity provider (`/auth/oidc/...`), for browsers.
//!
//! - [`mcp`]: agents over the Model Context Protocol (`POST /mcp`), each tool call run
//!   through the same execute pipeline.
//!
//! Later audiences get a module of their own beside these: `llm` (the model router).
//!
//! Every handler is thin: typed input from [`extract`], one engine call, errors mapped
//! by [`crate::error`].

pub mod admin;
pub mod console;
pub mod doc;
pub mod extract;
pub mod mcp;
pub mod ops;
pub mod reviewer;
pub mod scim;
pub mod sdk;
pub mod sso;

use axum::Router;
use axum::routing::any;
use utoipa_axum::router::OpenApiRouter;

use crate::AppState;

/// Every API route (the console's pages and server functions are added by the caller).
/// Under the API's prefixes, a path that names no route and a method a route does not
/// take answer in the JSON error shape.
pub fn routes() -> Router<AppState> {
    let unrouted = crate::error::API_PREFIXES
        .iter()
        .fold(Router::new(), |r, prefix| {
            r.route(&format!("{prefix}/{{*rest}}"), any(crate::error::no_route))
        });
    let (api, _) = documented().split_for_parts();
    api.method_not_allowed_fallback(crate::error::wrong_method)
        .merge(unrouted)
        .merge(scim::routes())
        .merge(sso::routes())
}

/// The routes the OpenAPI document describes, with it.
fn documented() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(doc::base())
        .merge(sdk::routes())
        .merge(admin::routes())
        .merge(reviewer::routes())
        .merge(ops::routes())
        .merge(console::routes())
        .routes(utoipa_axum::routes!(
            crate::integrations::slack_interactions::interactions
        ))
        .routes(utoipa_axum::routes!(mcp::mcp))
}

/// The OpenAPI document of the API, as `GET /openapi.json` serves it.
pub fn document() -> utoipa::openapi::OpenApi {
    let (_, mut doc) = documented().split_for_parts();
    doc::conventions(&mut doc);
    doc
}
