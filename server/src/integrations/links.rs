//! Signed console links. Notices link to `{public_url}/approvals/view?id=…&sig=…`, where
//! `sig` is an HMAC-SHA256 of the request id under a per-org key derived from the master
//! key (`Vault::approval_link_tag`). A link whose `sig` does not match (an edited id, a
//! link forged into a look-alike message) is refused here before the page renders, so
//! a signed link always opens the request ARX sent. The signature grants nothing: the
//! page still needs a signed-in user of the org with the right to see it, like every
//! console page, and links without `sig` (navigation inside the console) pass through.

use std::collections::HashMap;

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};

use crate::AppState;

/// The page signed links point at.
pub const APPROVAL_PAGE: &str = "/approvals/view";

pub async fn guard(State(s): State<AppState>, req: Request, next: Next) -> Response {
    if req.uri().path() != APPROVAL_PAGE {
        return next.run(req).await;
    }
    let query: HashMap<String, String> = req
        .uri()
        .query()
        .and_then(|q| serde_urlencoded::from_str(q).ok())
        .unwrap_or_default();
    let Some(sig) = query.get("sig") else {
        return next.run(req).await;
    };
    let valid = match query.get("id").and_then(|id| id.parse().ok()) {
        Some(id) => s
            .engine
            .verify_approval_link(id, sig)
            .await
            .unwrap_or(false),
        None => false,
    };
    if valid {
        return next.run(req).await;
    }
    (
        StatusCode::FORBIDDEN,
        Html(
            "<!doctype html><title>Link refused</title><p>This approval link was not made by ARX \
             (its signature does not match the request). Open the request from the \
             <a href=\"/approvals\">approvals queue</a> instead.</p>",
        ),
    )
        .into_response()
}
