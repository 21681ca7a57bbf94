//! `GET`, `PUT` and `DELETE /v1/admin/integrations/{slack|teams|webhook}`: an org's
//! settings, admins only. Answers show plain settings and which secrets are set, never
//! a secret. Each kind has its own path, so the document gives each its own body.

use arx_core::integration::{
    IntegrationKind, IntegrationView, SlackInput, TeamsInput, WebhookInput,
};
use axum::Json;
use axum::extract::State;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::error::{ApiResult, ErrorBody};
use crate::http::extract::{Caller, JsonBody};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(slack::show, slack::set, slack::delete))
        .routes(routes!(teams::show, teams::set, teams::delete))
        .routes(routes!(webhook::show, webhook::set, webhook::delete))
}

#[derive(Serialize, ToSchema)]
pub struct Integration {
    integration: IntegrationView,
}

#[derive(Serialize, ToSchema)]
pub struct Deleted {
    /// Whether there was anything to delete.
    deleted: bool,
}

async fn show(s: AppState, c: Caller, kind: IntegrationKind) -> ApiResult<Json<Integration>> {
    let integration = s.engine.admin(&c.0)?.integration(kind).await?;
    Ok(Json(Integration { integration }))
}

async fn set(
    s: AppState,
    c: Caller,
    kind: IntegrationKind,
    body: Value,
) -> ApiResult<Json<Integration>> {
    let integration = s.engine.admin(&c.0)?.set_integration(kind, body).await?;
    Ok(Json(Integration { integration }))
}

async fn delete(s: AppState, c: Caller, kind: IntegrationKind) -> ApiResult<Json<Deleted>> {
    let deleted = s.engine.admin(&c.0)?.delete_integration(kind).await?;
    Ok(Json(Deleted { deleted }))
}

/// The three handlers of one kind, documented with its path and body.
macro_rules! kind {
    ($module:ident, $kind:expr, $path:literal, $input:ty, $name:literal) => {
        mod $module {
            use super::*;

            #[doc = concat!("The org's ", $name, " settings (admins): plain settings and which secrets are set.")]
            #[utoipa::path(get, path = $path, tag = "integrations", security(("adminToken" = [])),
                responses(
                    (status = 200, description = "The settings", body = Integration),
                    (status = 403, description = "Not an admin", body = ErrorBody),
                ))]
            pub async fn show(State(s): State<AppState>, c: Caller) -> ApiResult<Json<Integration>> {
                super::show(s, c, $kind).await
            }

            #[doc = concat!("Sets the org's ", $name, " settings (admins); secrets are sealed.")]
            #[utoipa::path(put, path = $path, tag = "integrations", security(("adminToken" = [])),
                request_body = $input,
                responses(
                    (status = 200, description = "Set", body = Integration),
                    (status = 403, description = "Not an admin", body = ErrorBody),
                ))]
            pub async fn set(
                State(s): State<AppState>,
                c: Caller,
                JsonBody(body): JsonBody<Value>,
            ) -> ApiResult<Json<Integration>> {
                super::set(s, c, $kind, body).await
            }

            #[doc = concat!("Deletes the org's ", $name, " settings (admins).")]
            #[utoipa::path(delete, path = $path, tag = "integrations", security(("adminToken" = [])),
                responses(
                    (status = 200, description = "Deleted, or there was nothing to delete", body = Deleted),
                    (status = 403, description = "Not an admin", body = ErrorBody),
                ))]
            pub async fn delete(State(s): State<AppState>, c: Caller) -> ApiResult<Json<Deleted>> {
                super::delete(s, c, $kind).await
            }
        }
    };
}

kind!(
    slack,
    IntegrationKind::Slack,
    "/v1/admin/integrations/slack",
    SlackInput,
    "Slack"
);
kind!(
    teams,
    IntegrationKind::Teams,
    "/v1/admin/integrations/teams",
    TeamsInput,
    "Teams"
);
kind!(
    webhook,
    IntegrationKind::Webhook,
    "/v1/admin/integrations/webhook",
    WebhookInput,
    "webhook"
);
