//! The console's HTTP contract: sign-in with a rotated session, the guard, CSRF, pages.

use arx_testkit::Backend;

use crate::harness::{TestServer, session_cookie as cookie, start};

/// Posts the sign-in form from `origin`, with a session cookie when given.
async fn sign_in(
    s: &TestServer,
    origin: &str,
    password: &str,
    cookie: Option<&str>,
) -> reqwest::Response {
    let mut req = s.http.post(s.url("/auth/login")).header("origin", origin);
    if let Some(c) = cookie {
        req = req.header("cookie", c);
    }
    req.form(&[
        ("email", s.demo().admin_email.as_str()),
        ("password", password),
    ])
    .send()
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_rotates_the_session_and_guards_pages() {
    let s = start(Backend::Sqlite).await;
    let origin = s.url("");
    let password = s.demo().admin_password.clone();
    let r = s.page("/agents", "").await;
    assert_eq!(
        (
            r.status().as_u16(),
            r.headers()["location"].to_str().unwrap()
        ),
        (303, "/login")
    );

    let bad = sign_in(&s, &origin, "wrong-password", None).await;
    assert_eq!(bad.headers()["location"], "/login?error=invalid");
    let evil = sign_in(&s, "http://evil.example", &password, None).await;
    assert_eq!(evil.status(), 403, "cross-site form post refused");
    let body: serde_json::Value = evil.json().await.unwrap();
    assert_eq!(body["error"]["code"], "forbidden", "{body}");
    // A form without its password names the field; another content type is a 415.
    let half = s
        .http
        .post(s.url("/auth/login"))
        .header("origin", &origin)
        .form(&[("email", "admin@example.com")])
        .send()
        .await
        .unwrap();
    assert_eq!(half.status(), 400);
    let body: serde_json::Value = half.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("password"),
        "{body}"
    );
    let json = s
        .http
        .post(s.url("/auth/login"))
        .header("origin", &origin)
        .json(&serde_json::json!({"email": "a@b.c", "password": password}))
        .send()
        .await
        .unwrap();
    assert_eq!(json.status(), 415);

    let ok = sign_in(&s, &origin, &password, None).await;
    assert_eq!(ok.headers()["location"], "/");
    let session = cookie(&ok).expect("a session cookie");
    let raw = ok
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_ascii_lowercase())
        .collect::<Vec<_>>()
        .join(";");
    assert!(
        raw.contains("httponly") && raw.contains("samesite=strict"),
        "{raw}"
    );

    let page = s.page("/agents", &session).await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(
        html.contains("triage-agent") && html.contains("remediation-agent"),
        "agents rendered on the server"
    );

    // A second sign-in gets a different session id, and the old one stops working.
    let again = sign_in(&s, &origin, &password, Some(&session)).await;
    let rotated = cookie(&again).expect("a new cookie");
    assert_ne!(rotated, session, "session id rotated at login");
    assert_eq!(
        s.page("/agents", &session).await.status(),
        303,
        "the old id is gone"
    );

    let out = s
        .http
        .post(s.url("/auth/logout"))
        .header("origin", &origin)
        .header("cookie", &rotated)
        .send()
        .await
        .unwrap();
    assert_eq!(out.headers()["location"], "/login");
    assert_eq!(s.page("/", &rotated).await.status(), 303);

    let kinds = s.audit_kinds().await;
    for k in ["user.break_glass_login", "user.login_failed", "user.logout"] {
        assert!(kinds.iter().any(|x| x == k), "no {k} record");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_first_start_without_the_demo_creates_an_admin_who_can_sign_in() {
    let tmp = arx_testkit::TempDir::new("arx-boot").unwrap();
    let cfg = arx_server::config::Config::for_tests(tmp.path(), None);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let running = arx_server::launch(cfg.clone(), listener, false)
        .await
        .unwrap();
    let b = running.bootstrap.as_ref().expect("first start bootstraps");
    let p = running
        .engine
        .login(&b.email, &b.password, None)
        .await
        .unwrap();
    assert_eq!((p.org_slug(), p.is_admin()), ("default", true));
    assert!(
        running
            .engine
            .login(&b.email, "guess-guess-guess", None)
            .await
            .is_err()
    );
    running.server.abort();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let again = arx_server::launch(cfg, listener, false).await.unwrap();
    assert!(
        again.bootstrap.is_none(),
        "only the first start creates an admin"
    );
}

/// Servers started in one process (tests, replicas) never stall another's page: the
/// console's route list is generated once, not while another server renders
/// (leptos-rs/leptos#4773: a resource first polled during a generation waits forever).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_renders_while_other_servers_start_in_the_same_process() {
    let s = start(Backend::Sqlite).await;
    let password = s.demo().admin_password.clone();
    let session = cookie(&sign_in(&s, &s.url(""), &password, None).await).unwrap();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let pages = tokio::spawn({
        let (http, url, stop) = (s.http.clone(), s.url("/approvals"), stop.clone());
        async move {
            let mut rendered = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let r = http.get(&url).header("cookie", &session).send().await;
                let html = r.unwrap().text().await.unwrap();
                assert!(html.contains("Approvals"), "{html}");
                rendered += 1;
            }
            rendered
        }
    });
    let mut others = Vec::new();
    for _ in 0..3 {
        others.push(start(Backend::Sqlite).await);
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let rendered = tokio::time::timeout(std::time::Duration::from_secs(60), pages)
        .await
        .expect("a page stalled while another server started")
        .unwrap();
    assert!(rendered > 0);
}

/// A refusal by a console server function answers the page's own call with the API's
/// status for it (a bad filter is a 400 saying what to fix, never a 500), while the same
/// search rendered on the server is a 200 page that shows the refusal in its place.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_console_refusal_is_a_4xx_and_the_rendered_page_shows_it() {
    use leptos::server_fn::ServerFn;
    let s = start(Backend::Sqlite).await;
    let session = cookie(&sign_in(&s, &s.url(""), &s.demo().admin_password.clone(), None).await)
        .expect("a session cookie");
    let call = |query: &str| {
        s.http
            .post(s.url(app::server_fns::audit::SearchAudit::PATH))
            .header("origin", s.url(""))
            .header("cookie", &session)
            .header("accept", "application/json")
            .form(&[("query", query)])
            .send()
    };
    let r = call("risk_min=high").await.unwrap();
    assert_eq!(r.status(), 400);
    let body = r.text().await.unwrap();
    assert!(body.contains("risk_min"), "{body}");
    let r = call("verdict=PERMIT").await.unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());

    let html = s.page_html("/audit?risk_min=high", &session).await;
    assert!(html.contains("risk_min is a risk score"), "{html}");
}
