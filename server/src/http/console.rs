//! The console's HTTP side: database-backed sessions, the login and logout forms, the
//! guard that sends signed-out browsers to `/login`, and the CSRF origin check.
//!
//! A session keeps a [`SessionClaim`] (the user and their org), never a principal: the
//! engine builds the principal from it on every request (`principal_for_session`), so a
//! role change or a deactivation counts at the next one.

use std::net::SocketAddr;
use std::sync::Arc;

use app::SESSION_CLAIM_KEY;
use arx_core::CoreError;
use arx_core::Engine;
use arx_core::access::SessionClaim;
use arx_core::engine::ConsoleSession;
use async_trait::async_trait;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::header::{ACCEPT, HOST, ORIGIN, REFERER};
use axum::http::{HeaderMap, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use tower_sessions::Session;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, SessionStore};

use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::{FormBody, client_addr};
use crate::AppState;
use crate::error::{ApiError, ErrorBody};

/// The console's sign-in and sign-out forms, documented as the API is: a script can sign
/// in as a browser does.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(login))
        .routes(routes!(logout))
}

/// tower-sessions over the engine's store, so sessions live in SQLite or PostgreSQL.
#[derive(Debug, Clone)]
pub struct DbSessions(pub Arc<Engine>);

fn backend(e: impl std::fmt::Display) -> session_store::Error {
    session_store::Error::Backend(e.to_string())
}

/// Where the sign-in came from, kept in the session next to the claim.
const SESSION_CLIENT_KEY: &str = "client";

/// What the engine stores of a session: its data, and who signed in from where. Its
/// expiry is the engine's: the org's idle and absolute timeouts.
fn encode(r: &Record) -> session_store::Result<Vec<u8>> {
    serde_json::to_vec(r).map_err(|e| session_store::Error::Encode(e.to_string()))
}

fn console_session<'a>(r: &Record, data: &'a [u8]) -> ConsoleSession<'a> {
    ConsoleSession {
        data,
        claim: r
            .data
            .get(SESSION_CLAIM_KEY)
            .and_then(|v| serde_json::from_value::<SessionClaim>(v.clone()).ok()),
        client: r
            .data
            .get(SESSION_CLIENT_KEY)
            .and_then(|v| v.as_str())
            .map(str::to_owned),
    }
}

#[async_trait]
impl SessionStore for DbSessions {
    /// A new session never overwrites another: on an id collision, draw a new id.
    async fn create(&self, r: &mut Record) -> session_store::Result<()> {
        loop {
            let data = encode(r)?;
            if self
                .0
                .system()
                .session_create(&r.id.to_string(), console_session(r, &data))
                .await
                .map_err(backend)?
            {
                return Ok(());
            }
            r.id = Id::default();
        }
    }

    async fn save(&self, r: &Record) -> session_store::Result<()> {
        let data = encode(r)?;
        self.0
            .system()
            .session_save(&r.id.to_string(), console_session(r, &data))
            .await
            .map_err(backend)
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        match self
            .0
            .system()
            .session_load(&id.to_string())
            .await
            .map_err(backend)?
        {
            Some(data) => serde_json::from_slice(&data)
                .map(Some)
                .map_err(|e| session_store::Error::Decode(e.to_string())),
            None => Ok(None),
        }
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        self.0
            .system()
            .session_delete(&id.to_string())
            .await
            .map_err(backend)
    }
}

/// The sign-in form of the console (local accounts).
#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"email": "admin@example.com", "password": "correct horse battery staple"}))]
pub struct LoginForm {
    #[schema(format = "email")]
    email: String,
    #[schema(format = "password")]
    password: String,
}

/// Signs in to the console: a plain form post, so it works without JavaScript. Success
/// sets the session cookie (a new session id) and sends the browser to `/`; a wrong email
/// or password, to `/login?error=invalid`. During backoff after failures, a browser
/// (`Accept: text/html`) is sent to `/login?error=rate_limited&retry_after=N`, any other
/// client gets `429 rate_limited` with `Retry-After`. The post must come from this site
/// (`Origin`, else `Referer`, names the host), or it is refused with 403.
#[utoipa::path(post, path = "/auth/login", tag = "console",
    request_body(content = LoginForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 303, description = "To `/` when signed in (with the session cookie), else back to `/login?error=…`",
            headers(("Location" = String, description = "Where the browser goes next"))),
        (status = 403, description = "A cross-site post", body = ErrorBody),
        (status = 429, description = "Too many failed sign-ins: wait `Retry-After` seconds", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    ))]
pub async fn login(
    State(s): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    session: Session,
    FormBody(f): FormBody<LoginForm>,
) -> Response {
    let client = client_addr(&headers, peer, s.trust_forwarded_for);
    match s.engine.login(&f.email, &f.password, Some(client)).await {
        Ok(p) => match start_session(&session, client, &p).await {
            Ok(()) => Redirect::to("/").into_response(),
            Err(()) => Redirect::to("/login?error=unavailable").into_response(),
        },
        Err(e) if e.code() == "unauthenticated" => {
            Redirect::to("/login?error=invalid").into_response()
        }
        Err(e) if e.retry_after_secs().is_some() => {
            let wants_html = headers
                .get(ACCEPT)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.contains("text/html"));
            match e.retry_after_secs() {
                Some(secs) if wants_html => {
                    Redirect::to(&format!("/login?error=rate_limited&retry_after={secs}"))
                        .into_response()
                }
                _ => ApiError(e).into_response(),
            }
        }
        Err(e) => {
            tracing::error!(error = ?e, "login failed");
            Redirect::to("/login?error=unavailable").into_response()
        }
    }
}

/// Starts the console session of a signed-in principal: a new session id (no fixation),
/// the client's address and the claim the engine builds the principal from. Logged when
/// it fails.
pub async fn start_session(
    session: &Session,
    client: std::net::IpAddr,
    p: &arx_core::access::Principal,
) -> Result<(), ()> {
    if let Err(e) = session.cycle_id().await {
        tracing::error!(error = %e, "session cycle failed");
        return Err(());
    }
    let written = match session.insert(SESSION_CLIENT_KEY, client.to_string()).await {
        Ok(()) => session.insert(SESSION_CLAIM_KEY, p.session_claim()).await,
        Err(e) => Err(e),
    };
    written.map_err(|e| tracing::error!(error = %e, "session write failed"))
}

/// Signs out of the console: ends the session (recorded) and sends the browser to
/// `/login`. Without a session it only redirects. The post must come from this site.
#[utoipa::path(post, path = "/auth/logout", tag = "console",
    responses(
        (status = 303, description = "To `/login`, signed out",
            headers(("Location" = String, description = "`/login`"))),
        (status = 403, description = "A cross-site post", body = ErrorBody),
    ))]
pub async fn logout(State(s): State<AppState>, session: Session) -> Response {
    if let Ok(Some(claim)) = session.get::<SessionClaim>(SESSION_CLAIM_KEY).await
        && let Ok(Some(p)) = s.engine.principal_for_session(&claim).await
    {
        let _ = s.engine.logout(&p).await;
    }
    let _ = session.flush().await;
    Redirect::to("/login").into_response()
}

/// Pages other than `/login` need a signed-in user; server functions check for themselves.
pub async fn require_login(session: Session, req: Request, next: Next) -> Response {
    let path = req.uri().path();
    const NOT_PAGES: &[&str] = &[
        "/v1/",
        "/api/",
        "/auth/",
        "/pkg/",
        "/scim/",
        "/integrations/",
        "/saml/",
    ];
    let public = path == "/login"
        || NOT_PAGES.iter().any(|p| path.starts_with(p))
        || matches!(
            path,
            "/healthz" | "/metrics" | "/openapi.json" | "/favicon.ico"
        )
        || path.contains('.');
    if req.method() == Method::GET && !public {
        let signed_in = matches!(
            session.get::<SessionClaim>(SESSION_CLAIM_KEY).await,
            Ok(Some(_))
        );
        if !signed_in {
            return Redirect::to("/login").into_response();
        }
    }
    next.run(req).await
}

/// Refuses cross-site form posts and server-function calls: a state-changing request with
/// a session cookie must come from this site (Origin, else Referer, names our host).
pub async fn same_origin(req: Request, next: Next) -> Response {
    let changes_state = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let path = req.uri().path();
    let console = path.starts_with("/api/") || path.starts_with("/auth/");
    if changes_state && console {
        let host = req
            .headers()
            .get(HOST)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let from = req
            .headers()
            .get(ORIGIN)
            .or_else(|| req.headers().get(REFERER))
            .and_then(|v| v.to_str().ok())
            .map(|o| {
                o.split("://")
                    .nth(1)
                    .unwrap_or("")
                    .split('/')
                    .next()
                    .unwrap_or("")
                    .to_string()
            });
        if from.as_deref() != Some(host) {
            return ApiError(CoreError::Forbidden(
                "cross-site request refused: the post must come from this site (Origin or Referer naming it)"
                    .into(),
            ))
            .into_response();
        }
    }
    next.run(req).await
}
