//! Sign-in through the org's identity provider, for browsers: `/auth/oidc/...` (OpenID
//! Connect) and `/saml/...` (SAML 2.0).
//!
//! `GET /auth/oidc/login?org=<slug>` sets a short-lived cookie that binds the sign-in to
//! this browser (`SameSite=Lax`, so it comes back on the provider's redirect) and sends the
//! browser to the provider. `GET /auth/oidc/callback` finishes: a new session, then a page
//! that moves on to the console by itself (a redirect straight from the provider's
//! cross-site navigation would not carry the `SameSite=Strict` session cookie). A refusal
//! is a page saying what failed.
//!
//! `GET /saml/metadata?org=<slug>` is ARX's SP metadata for the org (served before an IdP
//! is set). `GET /saml/login?org=<slug>` sends the browser to the IdP with an
//! AuthnRequest; the IdP's page posts the answer to `POST /saml/acs`, which finishes like
//! the OIDC callback. None of these is in the OpenAPI document: browsers and IdPs call them.

use std::net::SocketAddr;

use app::SESSION_CLAIM_KEY;
use arx_core::access::Principal;
use arx_core::access::SessionClaim;
use arx_core::engine::{OidcCallback, SSO_COOKIE, SamlAcs, SsoOutcome, SsoRefusal, SsoTestReport};
use axum::extract::{ConnectInfo, Form, Query, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Router, routing::post};
use serde::Deserialize;
use tower_sessions::Session;

use super::console::start_session;
use super::extract::client_addr;
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/auth/oidc/login", get(login))
        .route("/auth/oidc/callback", get(callback))
        .route("/saml/metadata", get(saml_metadata))
        .route("/saml/login", get(saml_login))
        .route("/saml/acs", post(saml_acs))
}

/// Where the provider sends browsers back (registered with it as the redirect URI).
pub fn callback_url(s: &AppState) -> String {
    format!("{}/auth/oidc/callback", s.hub.public_url)
}

#[derive(Deserialize)]
struct LoginQuery {
    #[serde(default)]
    org: Option<String>,
    /// A test sign-in: every check runs and the page reports them; nobody signs in.
    #[serde(default)]
    test: Option<String>,
}

fn cookie(s: &AppState, value: &str, max_age: u32) -> HeaderValue {
    let secure = if s.hub.public_url.starts_with("https://") {
        "; Secure"
    } else {
        ""
    };
    HeaderValue::from_str(&format!(
        "{SSO_COOKIE}={value}; Path=/auth/oidc; Max-Age={max_age}; HttpOnly; SameSite=Lax{secure}"
    ))
    .unwrap_or(HeaderValue::from_static("arx_sso=; Max-Age=0"))
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// A test sign-in's report: what the provider said and what ARX would do with it.
fn tested(t: &SsoTestReport) -> Response {
    let list = |items: &[String]| {
        if items.is_empty() {
            "none".to_string()
        } else {
            items
                .iter()
                .map(|i| escape(i))
                .collect::<Vec<_>>()
                .join(", ")
        }
    };
    page(
        StatusCode::OK,
        "Test sign-in passed",
        &format!(
            "<p>Every check passed: {}.</p>\
             <dl data-testid=\"sso-test\"><dt>Email</dt><dd>{}</dd><dt>Name</dt><dd>{}</dd>\
             <dt>Groups</dt><dd>{}</dd><dt>What the mapping gives</dt><dd>{}</dd>\
             <dt>Account</dt><dd>{}</dd></dl><p class=\"muted\">Nobody was signed in.</p>\
             <p><a class=\"btn\" href=\"/settings/identity\">Back to SSO &amp; SCIM</a></p>",
            if t.protocol == "saml" {
                "signature (SHA-256 or stronger, covering what was read), issuer, audience, recipient, InResponseTo, validity window, one-time use"
            } else {
                "issuer, audience, signature, expiry, nonce"
            },
            escape(&t.email),
            escape(&t.name),
            list(&t.groups),
            list(&t.mapped),
            escape(&t.account),
        ),
        "",
    )
}

/// A small page of its own (the console's pages need a session).
fn page(status: StatusCode, title: &str, body: &str, head: &str) -> Response {
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">{head}\
         <title>{title} · ARX</title><link rel=\"stylesheet\" href=\"/pkg/arx.css\"></head>\
         <body><div class=\"login-wrap\"><main class=\"login card\"><h1>{title}</h1>{body}</main></div></body></html>"
    );
    let mut r = (status, Html(html)).into_response();
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

fn refused(r: &SsoRefusal) -> Response {
    let status = match r.reason {
        "unknown_org" | "sso_off" => StatusCode::NOT_FOUND,
        "busy" => StatusCode::TOO_MANY_REQUESTS,
        "unavailable" | "idp_unreachable" => StatusCode::BAD_GATEWAY,
        _ => StatusCode::FORBIDDEN,
    };
    page(
        status,
        "Sign-in refused",
        &format!(
            "<p data-reason=\"{}\">{}</p><p><a class=\"btn\" href=\"/login\">Back to sign-in</a></p>",
            escape(r.reason),
            escape(&r.message)
        ),
        "",
    )
}

/// Who starts a test sign-in: `None` for a real sign-in; for a test, the signed-in
/// principal (`Some(None)` when nobody is: the engine refuses it).
async fn tester(s: &AppState, session: &Session, test: bool) -> Option<Option<Principal>> {
    if !test {
        return None;
    }
    Some(match session.get::<SessionClaim>(SESSION_CLAIM_KEY).await {
        Ok(Some(claim)) => s.engine.principal_for_session(&claim).await.ok().flatten(),
        _ => None,
    })
}

/// A 303 to the identity provider.
fn to_idp(url: &str) -> Response {
    let mut r = StatusCode::SEE_OTHER.into_response();
    if let Ok(l) = HeaderValue::from_str(url) {
        r.headers_mut().insert(header::LOCATION, l);
    }
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// The page after a provider's answer: a test's report, a new session with a page that
/// moves on to the console, or the refusal.
async fn finished(
    session: &Session,
    client: std::net::IpAddr,
    outcome: Result<SsoOutcome, SsoRefusal>,
) -> Response {
    match outcome {
        Ok(SsoOutcome::Tested(t)) => tested(&t),
        Ok(SsoOutcome::SignedIn(p)) => match start_session(session, client, &p).await {
            Ok(()) => page(
                StatusCode::OK,
                "Signed in",
                &format!(
                    "<p>Signed in as {}.</p><p><a class=\"btn primary\" href=\"/\">Continue to the console</a></p>",
                    escape(p.email())
                ),
                "<meta http-equiv=\"refresh\" content=\"0;url=/\">",
            ),
            Err(()) => refused(&SsoRefusal {
                reason: "unavailable",
                message: "the session could not be started; try again".into(),
            }),
        },
        Err(e) => refused(&e),
    }
}

fn org_named(org: Option<String>, start: &str) -> Result<String, SsoRefusal> {
    org.map(|o| o.trim().to_string())
        .filter(|o| !o.is_empty())
        .ok_or_else(|| SsoRefusal {
            reason: "unknown_org",
            message: format!("say which organisation: {start}?org=<slug>"),
        })
}

async fn login(
    State(s): State<AppState>,
    session: Session,
    Query(q): Query<LoginQuery>,
) -> Response {
    let org = match org_named(q.org, "/auth/oidc/login") {
        Ok(o) => o,
        Err(r) => return refused(&r),
    };
    // A test sign-in is started from the console: the admin's session comes with it.
    let tester = tester(&s, &session, q.test.is_some()).await;
    match s
        .engine
        .oidc_begin(&org, &callback_url(&s), tester.as_ref().map(Option::as_ref))
        .await
    {
        Ok(start) => {
            let mut r = to_idp(&start.url);
            r.headers_mut()
                .insert(header::SET_COOKIE, cookie(&s, &start.cookie, 600));
            r
        }
        Err(e) => refused(&e),
    }
}

async fn callback(
    State(s): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    session: Session,
    RawQuery(raw): RawQuery,
) -> Response {
    let cb: OidcCallback =
        serde_urlencoded::from_str(raw.as_deref().unwrap_or("")).unwrap_or_default();
    let bound = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == SSO_COOKIE)
        .map(|(_, v)| v.to_string());
    let client = client_addr(&headers, peer, s.trust_forwarded_for);
    let outcome = s
        .engine
        .oidc_finish(&cb, bound.as_deref(), &callback_url(&s), Some(client))
        .await;
    let mut r = finished(&session, client, outcome).await;
    r.headers_mut()
        .insert(header::SET_COOKIE, cookie(&s, "", 0));
    r
}

/// ARX's SP metadata for the org: what the IdP is given first.
async fn saml_metadata(State(s): State<AppState>, Query(q): Query<LoginQuery>) -> Response {
    let org = match org_named(q.org, "/saml/metadata") {
        Ok(o) => o,
        Err(r) => return refused(&r),
    };
    match s.engine.saml_sp_metadata(&org, &s.hub.public_url).await {
        Ok(xml) => (
            [
                (header::CONTENT_TYPE, "application/samlmetadata+xml"),
                (header::CACHE_CONTROL, "no-store"),
            ],
            xml,
        )
            .into_response(),
        Err(e @ arx_core::CoreError::NotFound(_)) => refused(&SsoRefusal {
            reason: "unknown_org",
            message: e.to_string(),
        }),
        // Anything else is logged, never shown (it could name the database).
        Err(e) => refused(&SsoRefusal::from(e)),
    }
}

async fn saml_login(
    State(s): State<AppState>,
    session: Session,
    Query(q): Query<LoginQuery>,
) -> Response {
    let org = match org_named(q.org, "/saml/login") {
        Ok(o) => o,
        Err(r) => return refused(&r),
    };
    let tester = tester(&s, &session, q.test.is_some()).await;
    match s
        .engine
        .saml_begin(&org, &s.hub.public_url, tester.as_ref().map(Option::as_ref))
        .await
    {
        Ok(url) => to_idp(&url),
        Err(e) => refused(&e),
    }
}

/// The assertion consumer service: the IdP's page posts the signed response here.
async fn saml_acs(
    State(s): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    session: Session,
    form: Result<Form<SamlAcs>, axum::extract::rejection::FormRejection>,
) -> Response {
    let client = client_addr(&headers, peer, s.trust_forwarded_for);
    let form = form.map(|Form(f)| f).unwrap_or_default();
    let outcome = s
        .engine
        .saml_acs(&form, &s.hub.public_url, Some(client))
        .await;
    finished(&session, client, outcome).await
}
