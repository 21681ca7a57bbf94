//! OIDC sign-in (issue 12, point 2) against a real OpenID Provider run locally
//! (panva's oidc-provider, `end2end/peers/oidc-op.mjs`): a first sign-in creates the
//! account with its groups' rights; each refusal of the matrix is a 403 page and a
//! `sso.refused` record; a rotated key is fetched once, not at every sign-in.

use std::collections::HashMap;
use std::sync::Arc;

use arx_core::clock::ManualClock;
use arx_testkit::{Backend, backend_tests};
use serde_json::{Value, json};

use crate::harness::{TestServer, start_with_clock};

const CLIENT_ID: &str = "arx-test";
const CLIENT_SECRET: &str = "s3cret-s3cret-s3cret";

/// The OpenID Provider, run with node from `end2end/` (its packages are the browser
/// tests'). `None`, with a note, where node or the packages are missing; under CI that
/// is a failure.
pub struct Op {
    child: std::process::Child,
    pub issuer: String,
    control: String,
}

impl Drop for Op {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn two_free_ports() -> u16 {
    loop {
        let a = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let p = a.local_addr().unwrap().port();
        if p < 65000 && std::net::TcpListener::bind(("127.0.0.1", p + 1)).is_ok() {
            return p;
        }
    }
}

impl Op {
    pub async fn start(redirect_uri: &str) -> Option<Op> {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../end2end");
        if !root.join("node_modules/oidc-provider").is_dir() {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "CI needs end2end/node_modules (npm ci in end2end/)"
            );
            eprintln!("SKIPPED: no end2end/node_modules/oidc-provider (run npm ci in end2end/)");
            return None;
        }
        let port = two_free_ports();
        let child = std::process::Command::new("node")
            .arg(root.join("peers/oidc-op.mjs"))
            .args([&port.to_string(), CLIENT_ID, CLIENT_SECRET, redirect_uri])
            .current_dir(&root)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("node runs");
        let op = Op {
            child,
            issuer: format!("http://127.0.0.1:{port}"),
            control: format!("http://127.0.0.1:{}", port + 1),
        };
        for _ in 0..100 {
            if reqwest::get(format!("{}/.well-known/openid-configuration", op.issuer))
                .await
                .is_ok_and(|r| r.status() == 200)
            {
                return Some(op);
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("the OpenID Provider did not start");
    }

    async fn control(&self, path: &str) -> String {
        reqwest::get(format!("{}{path}", self.control))
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    pub async fn mode(&self, m: &str) {
        self.control(&format!("/mode?m={m}")).await;
    }

    pub async fn jwks_fetches(&self) -> u64 {
        let v: Value = serde_json::from_str(&self.control("/stats").await).unwrap();
        v["jwks_fetches"].as_u64().unwrap()
    }

    pub async fn rotate(&self) {
        self.control("/rotate").await;
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    }
}

/// A browser: no redirects followed, cookies kept by name (every host here is 127.0.0.1).
pub struct Browser {
    http: reqwest::Client,
    jar: HashMap<String, String>,
}

impl Browser {
    pub fn new() -> Self {
        Browser {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            jar: HashMap::new(),
        }
    }

    fn keep(&mut self, r: &reqwest::Response) {
        for c in r.headers().get_all("set-cookie") {
            let pair = c.to_str().unwrap().split(';').next().unwrap();
            if let Some((k, v)) = pair.split_once('=') {
                if v.is_empty() {
                    self.jar.remove(k);
                } else {
                    self.jar.insert(k.to_string(), v.to_string());
                }
            }
        }
    }

    fn cookies(&self) -> String {
        self.jar
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    pub async fn get(&mut self, url: &str) -> reqwest::Response {
        let r = self
            .http
            .get(url)
            .header("cookie", self.cookies())
            .send()
            .await
            .unwrap();
        self.keep(&r);
        r
    }

    pub async fn post(&mut self, url: &str, form: &[(&str, &str)]) -> reqwest::Response {
        let r = self
            .http
            .post(url)
            .header("cookie", self.cookies())
            .form(form)
            .send()
            .await
            .unwrap();
        self.keep(&r);
        r
    }

    /// Adds a `name=value` cookie (a console session made elsewhere).
    pub fn set_cookie(&mut self, pair: &str) {
        if let Some((k, v)) = pair.split_once('=') {
            self.jar.insert(k.to_string(), v.to_string());
        }
    }

    pub fn cookie(&self, name: &str) -> Option<String> {
        self.jar.get(name).map(|v| format!("{name}={v}"))
    }
}

/// Where a redirect goes (relative to `base`); the page, when it is no redirect.
async fn location(r: reqwest::Response, base: &str) -> String {
    let Some(l) = r
        .headers()
        .get("location")
        .map(|l| l.to_str().unwrap().to_string())
    else {
        let (status, url) = (r.status(), r.url().clone());
        panic!(
            "{status} {url}: no redirect: {}",
            r.text().await.unwrap_or_default()
        );
    };
    if l.starts_with('/') {
        format!("{base}{l}")
    } else {
        l
    }
}

/// Starts a sign-in at ARX and signs in at the provider as `user`: the callback URL the
/// provider sends the browser to (not yet followed).
pub async fn to_callback(s: &TestServer, op: &Op, b: &mut Browser, user: &str) -> String {
    let r = b.get(&s.url("/auth/oidc/login?org=demo")).await;
    let next = location(r, &op.issuer).await;
    let cb = through_provider(op, b, next, user).await;
    assert!(cb.starts_with(&s.url("/auth/oidc/callback")), "{cb}");
    cb
}

/// From the provider's authorization URL to the callback it sends the browser to.
async fn through_provider(op: &Op, b: &mut Browser, mut next: String, user: &str) -> String {
    assert!(next.starts_with(&op.issuer), "{next}");
    // The provider's redirects, through its login form when it has no session of its own.
    while next.starts_with(&op.issuer) {
        let r = if next.contains("/interaction/") {
            b.post(
                &next,
                &[("prompt", "login"), ("login", user), ("password", "x")],
            )
            .await
        } else {
            b.get(&next).await
        };
        next = location(r, &op.issuer).await;
    }
    next
}

/// A whole sign-in as `user`: the callback's status and page.
pub async fn sign_in(s: &TestServer, op: &Op, b: &mut Browser, user: &str) -> (u16, String) {
    let cb = to_callback(s, op, b, user).await;
    let r = b.get(&cb).await;
    (r.status().as_u16(), r.text().await.unwrap())
}

async fn refusals(s: &TestServer) -> Vec<String> {
    s.audit_of("sso.refused")
        .await
        .iter()
        .map(|r| r["fields"]["reason"].as_str().unwrap().to_string())
        .collect()
}

backend_tests! {
    async fn oidc_signs_in_with_mapped_groups_and_refuses_every_bad_answer(b: Backend) {
        let now = (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64;
        let clock = Arc::new(ManualClock::new(now));
        let s = start_with_clock(b, clock.clone()).await;
        let b = s.backend;
        let Some(op) = Op::start(&s.url("/auth/oidc/callback")).await else { return };
        let admin = s.admin_token();

        // Not set up: the login says so.
        let mut browser = Browser::new();
        let r = browser.get(&s.url("/auth/oidc/login?org=demo")).await;
        assert_eq!(r.status(), 404, "{b}");
        assert!(r.text().await.unwrap().contains("not set up"), "{b}");

        // Settings: the secret is write-only; a bad issuer names the field.
        let settings = json!({"enabled": true, "issuer": op.issuer, "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET, "scopes": ["email", "profile", "groups"]});
        let (code, out) = s.client(&admin).put("/v1/admin/sso/oidc", json!({"enabled": true, "issuer": "ftp://x", "client_id": "c", "client_secret": "s"})).await;
        assert_eq!((code, out["error"]["field"].as_str()), (400, Some("issuer")), "{b}: {out}");
        let (code, out) = s.client(&admin).put("/v1/admin/sso/oidc", settings.clone()).await;
        assert_eq!(code, 200, "{b}: {out}");
        assert!(!out.to_string().contains(CLIENT_SECRET), "{b}: {out}");
        assert_eq!(out["settings"]["client_secret_set"], true, "{b}");
        assert!(out["redirect_uri"].as_str().unwrap().ends_with("/auth/oidc/callback"), "{b}: {out}");
        let reviewer = s.user_token("oidc-rev@demo.arx.local", arx_core::model::Role::Reviewer).await;
        assert_eq!(s.client(&reviewer).get("/v1/admin/sso/oidc").await.0, 403, "{b}");
        let mapping = json!({"group": "arx-reviewers", "role": "reviewer", "approver_groups": ["secops-leads"]});
        assert_eq!(s.client(&admin).put("/v1/admin/group-mappings", mapping).await.0, 200, "{b}");

        // A test sign-in is an admin's, from the console: it reports, and signs nobody in.
        let test_url = s.url("/auth/oidc/login?org=demo&test=1");
        let r = Browser::new().get(&test_url).await;
        assert_eq!(r.status(), 403, "{b}: without a session");
        assert!(r.text().await.unwrap().contains("data-reason=\"not_admin\""), "{b}");
        let mut as_reviewer = Browser::new();
        as_reviewer.set_cookie(&s.console_session("oidc-rev@demo.arx.local", "correct horse battery").await);
        assert_eq!(as_reviewer.get(&test_url).await.status(), 403, "{b}: a reviewer's session");
        let mut as_admin = Browser::new();
        let demo = s.demo();
        as_admin.set_cookie(&s.console_session(&demo.admin_email, &demo.admin_password).await);
        let r = as_admin.get(&test_url).await;
        assert_eq!(r.status(), 303, "{b}");
        let cb = through_provider(&op, &mut as_admin, location(r, &op.issuer).await, "bob").await;
        let r = as_admin.get(&cb).await;
        assert_eq!(r.status(), 200, "{b}");
        let report = r.text().await.unwrap();
        assert!(report.contains("Test sign-in passed") && report.contains("bob@example.com"), "{b}: {report}");
        assert!(report.contains("arx-reviewers → reviewer, approves for secops-leads"), "{b}: {report}");
        let (_, users) = s.admin_get("/v1/admin/users").await;
        assert!(!users.to_string().contains("bob@example.com"), "{b}: a test makes no account");

        // Bob's first sign-in makes his account, with his group's rights.
        let (code, page) = sign_in(&s, &op, &mut browser, "bob").await;
        assert_eq!(code, 200, "{b}: {page}");
        let cookie = browser.cookie("arx_session").expect("signed in");
        assert!(browser.cookie("arx_sso").is_none(), "{b}: the binding cookie is cleared");
        assert_eq!(s.page("/approvals", &cookie).await.status(), 200, "{b}");
        let (_, users) = s.admin_get("/v1/admin/users").await;
        let bob = users["users"].as_array().unwrap().iter().find(|u| u["email"] == "bob@example.com").cloned().unwrap();
        assert_eq!((bob["source"].as_str(), bob["roles"].clone()), (Some("oidc"), json!(["reviewer"])), "{b}: {bob}");
        assert_eq!(bob["member_of"][0]["source"], "oidc", "{b}");
        let logins = s.audit_of("user.login").await;
        assert_eq!(logins.last().unwrap()["fields"]["method"], "oidc", "{b}");

        // A callback replayed (its state is spent), and one from another browser.
        let cb = to_callback(&s, &op, &mut browser, "bob").await;
        assert_eq!(browser.get(&cb).await.status(), 200, "{b}");
        let r = browser.get(&cb).await;
        assert_eq!(r.status(), 403, "{b}");
        let cb = to_callback(&s, &op, &mut browser, "bob").await;
        let mut other = Browser::new();
        let r = other.get(&cb).await;
        assert_eq!(r.status(), 403, "{b}");
        assert!(r.text().await.unwrap().contains("another browser"), "{b}");
        // A spent code with a fresh state: the provider refuses it.
        let spent_code = param(&cb, "code");
        let fresh = to_callback(&s, &op, &mut browser, "bob").await;
        let fresh_state = param(&fresh, "state");
        let forged = format!("{}?code={}&state={}&iss={}", s.url("/auth/oidc/callback"), urlenc(&spent_code), urlenc(&fresh_state), urlenc(&op.issuer));
        let r = browser.get(&forged).await;
        assert_eq!(r.status(), 403, "{b}");
        assert!(r.text().await.unwrap().contains("refused the code"), "{b}");
        // A callback naming another issuer (mix-up).
        let cb = to_callback(&s, &op, &mut browser, "bob").await;
        let r = browser.get(&cb.replace(&format!("iss={}", urlenc(&op.issuer)), "iss=http%3A%2F%2Fevil.example")).await;
        assert_eq!(r.status(), 403, "{b}");

        // Tokens the provider answers with, rewritten one way each.
        clock.advance_ms(61_000);
        for (mode, reason) in [
            ("wrong_iss", "wrong_issuer"), ("wrong_aud", "wrong_audience"), ("extra_aud", "wrong_audience"),
            ("expired", "token_expired"), ("bad_nonce", "nonce_mismatch"), ("no_nonce", "nonce_mismatch"),
            ("bad_signature", "bad_signature"), ("alg_none", "unsigned_token"), ("hs256_secret", "disallowed_alg"),
            ("unknown_kid", "unknown_key"),
        ] {
            op.mode(mode).await;
            let (code, page) = sign_in(&s, &op, &mut browser, "bob").await;
            assert_eq!(code, 403, "{b}: {mode}: {page}");
            assert!(page.contains("Sign-in refused"), "{b}: {mode}: {page}");
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            assert_eq!(refusals(&s).await.last().map(String::as_str), Some(reason), "{b}: {mode}");
        }
        op.mode("normal").await;
        let seen = refusals(&s).await;
        for reason in ["state_mismatch", "code_refused", "wrong_issuer"] {
            assert!(seen.iter().any(|r| r == reason), "{b}: {reason} recorded: {seen:?}");
        }

        // An unverified email; an account of another org (each in a browser of its own:
        // the provider keeps a session per browser).
        let (code, page) = sign_in(&s, &op, &mut Browser::new(), "carol").await;
        assert_eq!(code, 403, "{b}");
        assert!(page.contains("not verified"), "{b}: {page}");
        let system = s.running.engine.system();
        let other = match system.org_by_slug("other").await.unwrap() {
            Some(o) => o,
            None => system.create_org("other", "Other Org").await.unwrap(),
        };
        system
            .create_local_user(other.id, "dave@example.com", "Dave", arx_core::model::Role::Admin, "correct horse battery", arx_core::audit::Actor::system())
            .await
            .unwrap();
        let (code, page) = sign_in(&s, &op, &mut Browser::new(), "dave").await;
        assert_eq!(code, 403, "{b}");
        assert!(page.contains("another organisation"), "{b}: {page}");
        let (_, users) = s.admin_get("/v1/admin/users").await;
        assert!(!users.to_string().contains("dave@example.com"), "{b}: no account made here");
        // Keys rotate: the new key is fetched once, then served from the cache.
        let fetched = op.jwks_fetches().await;
        op.rotate().await;
        clock.advance_ms(61_000);
        let (code, page) = sign_in(&s, &op, &mut browser, "bob").await;
        assert_eq!(code, 200, "{b}: after a rotation: {page}");
        assert_eq!(op.jwks_fetches().await, fetched + 1, "{b}: one fetch for the new key");
        let (code, _) = sign_in(&s, &op, &mut browser, "bob").await;
        assert_eq!(code, 200, "{b}");
        assert_eq!(op.jwks_fetches().await, fetched + 1, "{b}: none for the next sign-in");
        // A key nobody publishes: one fetch at most a minute, then refused.
        op.mode("unknown_kid").await;
        assert_eq!(sign_in(&s, &op, &mut browser, "bob").await.0, 403, "{b}");
        assert_eq!(sign_in(&s, &op, &mut browser, "bob").await.0, 403, "{b}");
        assert_eq!(op.jwks_fetches().await, fetched + 1, "{b}: no fetch within the minute");
        op.mode("normal").await;

        // Deactivated: refused. Only provisioned users: a newcomer is refused.
        let bob_id = bob["id"].as_str().unwrap();
        assert_eq!(s.client(&admin).post(&format!("/v1/admin/users/{bob_id}/deactivate"), Value::Null).await.0, 200, "{b}");
        assert_eq!(s.page("/approvals", &cookie).await.headers()["location"], "/login", "{b}");
        let (code, page) = sign_in(&s, &op, &mut browser, "bob").await;
        assert_eq!(code, 403, "{b}");
        assert!(page.contains("deactivated"), "{b}: {page}");
        let mut only = settings.clone();
        only["create_users"] = json!(false);
        only.as_object_mut().unwrap().remove("client_secret");
        assert_eq!(s.client(&admin).put("/v1/admin/sso/oidc", only).await.0, 200, "{b}: the secret is kept when omitted");
        let (code, page) = sign_in(&s, &op, &mut Browser::new(), "alice").await;
        assert_eq!(code, 403, "{b}");
        assert!(page.contains("provisioned"), "{b}: {page}");
    }
}

/// A query parameter of a URL, decoded.
fn param(url: &str, name: &str) -> String {
    let query = url.split_once('?').map_or("", |(_, q)| q);
    form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| panic!("no {name} in {url}"))
}

fn urlenc(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}
