//! The console's HTTP contract: sign-in with a rotated session, the guard, CSRF, pages.

use crate::harness::start;

fn cookie(r: &reqwest::Response) -> Option<String> {
    r.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("arx_session="))
        .map(|c| c.split(';').next().unwrap_or("").to_string())
}

#[tokio::test]
async fn sign_in_rotates_the_session_and_guards_pages() {
    let Some(s) = start("sqlite").await else {
        return;
    };
    let origin = s.url("");
    let r = s.http.get(s.url("/agents")).send().await.unwrap();
    assert_eq!(
        (
            r.status().as_u16(),
            r.headers()["location"].to_str().unwrap()
        ),
        (303, "/login")
    );

    let bad = s
        .http
        .post(s.url("/auth/login"))
        .header("origin", &origin)
        .form(&[
            ("email", s.demo().admin_email.as_str()),
            ("password", "wrong-password"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(bad.headers()["location"], "/login?error=invalid");

    let evil = s
        .http
        .post(s.url("/auth/login"))
        .header("origin", "http://evil.example")
        .form(&[
            ("email", s.demo().admin_email.as_str()),
            ("password", s.demo().admin_password.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(evil.status(), 403, "cross-site form post refused");

    let ok = s
        .http
        .post(s.url("/auth/login"))
        .header("origin", &origin)
        .form(&[
            ("email", s.demo().admin_email.as_str()),
            ("password", s.demo().admin_password.as_str()),
        ])
        .send()
        .await
        .unwrap();
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

    let page = s
        .http
        .get(s.url("/agents"))
        .header("cookie", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(
        html.contains("triage-agent") && html.contains("remediation-agent"),
        "agents rendered on the server"
    );

    // A second sign-in gets a different session id.
    let again = s
        .http
        .post(s.url("/auth/login"))
        .header("origin", &origin)
        .header("cookie", &session)
        .form(&[
            ("email", s.demo().admin_email.as_str()),
            ("password", s.demo().admin_password.as_str()),
        ])
        .send()
        .await
        .unwrap();
    let rotated = cookie(&again).expect("a new cookie");
    assert_ne!(rotated, session, "session id rotated at login");
    let stale = s
        .http
        .get(s.url("/agents"))
        .header("cookie", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), 303, "the old id is gone");

    let out = s
        .http
        .post(s.url("/auth/logout"))
        .header("origin", &origin)
        .header("cookie", &rotated)
        .send()
        .await
        .unwrap();
    assert_eq!(out.headers()["location"], "/login");
    assert_eq!(
        s.http
            .get(s.url("/"))
            .header("cookie", &rotated)
            .send()
            .await
            .unwrap()
            .status(),
        303
    );

    let kinds: Vec<String> = s
        .audit()
        .await
        .iter()
        .map(|r| r["kind"].as_str().unwrap().to_string())
        .collect();
    assert!(
        kinds.contains(&"user.login".to_string())
            && kinds.contains(&"user.login_failed".to_string())
            && kinds.contains(&"user.logout".to_string())
    );
}

#[tokio::test]
async fn a_first_start_without_the_demo_creates_an_admin_who_can_sign_in() {
    let dir = std::env::temp_dir().join(format!("arx-boot-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let cfg = arx_server::config::Config::for_tests(&dir, None);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let running = arx_server::launch(cfg.clone(), listener, false)
        .await
        .unwrap();
    let b = running.bootstrap.as_ref().expect("first start bootstraps");
    let p = running.engine.login(&b.email, &b.password).await.unwrap();
    assert_eq!((p.org_slug.as_str(), p.is_admin()), ("default", true));
    assert!(
        running
            .engine
            .login(&b.email, "guess-guess-guess")
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
