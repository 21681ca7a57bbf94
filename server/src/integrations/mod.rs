//! Integrations (ARCHITECTURE §6): a Slack message with Approve and Deny buttons for each
//! new approval request, updated when the request ends, and the interaction endpoint
//! behind the buttons; notices to Microsoft Teams and to generic signed webhooks; signed
//! console links. Settings are kept by the engine (secrets sealed by the vault); this
//! module renders and delivers.

pub mod admin_api;
pub mod links;
pub mod notice;
pub mod notifier;
pub mod slack;
pub mod slack_interactions;
pub mod teams;
pub mod webhook;

use std::time::Duration;

use axum::Router;
use axum::routing::{get, post};

use crate::AppState;

/// What delivery needs besides the engine: HTTP clients and where the console is.
pub struct Hub {
    /// The console's base URL, for links (`ARX_PUBLIC_URL`).
    pub public_url: String,
    /// For Teams and webhooks: bounded time, no redirects (a redirect could carry a
    /// signed body somewhere it was not configured to go).
    pub http: reqwest::Client,
    pub slack: slack::Clients,
}

impl std::fmt::Debug for Hub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hub")
            .field("public_url", &self.public_url)
            .finish_non_exhaustive()
    }
}

impl Hub {
    pub fn new(public_url: &str) -> Result<Self, String> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| format!("cannot build the HTTP client for notifications: {e}"))?;
        Ok(Hub {
            public_url: public_url.trim_end_matches('/').to_string(),
            http,
            slack: slack::Clients::default(),
        })
    }
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/v1/admin/integrations/{kind}",
            get(admin_api::show)
                .put(admin_api::set)
                .delete(admin_api::delete),
        )
        .route(
            "/integrations/slack/interactions",
            post(slack_interactions::interactions),
        )
}
