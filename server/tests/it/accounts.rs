//! Accounts under attack: sign-in guessing is throttled per account and address, costs
//! the same for unknown emails, and is summarized in the chain rather than recorded per
//! attempt; calls with a revoked agent key are summarized the same way; admin tokens
//! expire, are listed without their secret and stop working once revoked; a master key
//! file others may read is refused at start.

use std::sync::Arc;

use arx_core::clock::ManualClock;
use arx_core::model::Role;
use arx_testkit::{Backend, backend_tests};
use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{TestServer, error_message, start_with_clock, texts};

const DAY_MS: i64 = 24 * 60 * 60 * 1000;

/// A server on `backend` with its own manual clock.
async fn on_clock(backend: Backend) -> (TestServer, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(1_800_000_000_000));
    (start_with_clock(backend, clock.clone()).await, clock)
}

/// Posts the sign-in form as a script would (no `Accept: text/html`).
async fn sign_in(s: &TestServer, email: &str, password: &str) -> reqwest::Response {
    s.http
        .post(s.url("/auth/login"))
        .header("origin", s.url(""))
        .form(&[("email", email), ("password", password)])
        .send()
        .await
        .unwrap()
}

/// The records of `kind` once the sweeper has had time to write due summaries.
async fn records(s: &TestServer, kind: &str) -> Vec<Value> {
    s.running.engine.system().flush_refusals().await.unwrap();
    s.audit_of(kind).await
}

fn count_sum(recs: &[Value]) -> u64 {
    recs.iter()
        .map(|r| r["fields"]["count"].as_u64().unwrap())
        .sum()
}

/// Waits until the records of `kind` count `total` attempts (the sweeper may be writing
/// the summary this very moment); returns them.
async fn records_counting(s: &TestServer, kind: &str, total: u64) -> Vec<Value> {
    for _ in 0..100 {
        let recs = records(s, kind).await;
        if count_sum(&recs) >= total {
            return recs;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    records(s, kind).await
}

backend_tests! {
    async fn guessing_a_password_is_throttled_and_summarized_in_the_chain(b: Backend) {
        let (s, clock) = on_clock(b).await;
        let b = s.backend;
        let (email, password) = (
            s.demo().admin_email.clone(),
            s.demo().admin_password.clone(),
        );
        let checks = s.running.engine.password_checks();
        let mut statuses = Vec::new();
        for i in 0..30 {
            let r = sign_in(&s, &email, &format!("guess-number-{i}")).await;
            let status = r.status().as_u16();
            if status == 429 {
                let wait: u64 = r.headers()["retry-after"]
                    .to_str()
                    .unwrap()
                    .parse()
                    .unwrap();
                assert!((1..=900).contains(&wait), "{b}: Retry-After {wait}");
                let body: Value = r.json().await.unwrap();
                assert_eq!(body["error"]["code"], "rate_limited", "{b}: {body}");
                assert!(
                    error_message(&body).contains(&format!("try again in {wait} s")),
                    "{b}: {body}"
                );
            } else {
                assert_eq!(r.headers()["location"], "/login?error=invalid", "{b}");
            }
            statuses.push(status);
        }
        assert_eq!(
            statuses.iter().filter(|s| **s == 303).count(),
            5,
            "{b}: five failures are free, then backoff: {statuses:?}"
        );
        assert!(statuses[5..].iter().all(|s| *s == 429), "{b}: {statuses:?}");
        assert_eq!(
            s.running.engine.password_checks() - checks,
            5,
            "{b}: attempts in backoff compute no hash"
        );

        // The right password is refused too while the backoff lasts.
        assert_eq!(sign_in(&s, &email, &password).await.status(), 429, "{b}");
        // A browser is sent back to the form, which says how long to wait.
        let r = s
            .http
            .post(s.url("/auth/login"))
            .header("origin", s.url(""))
            .header("accept", "text/html,application/xhtml+xml")
            .form(&[("email", email.as_str()), ("password", password.as_str())])
            .send()
            .await
            .unwrap();
        let to = r.headers()["location"].to_str().unwrap().to_string();
        assert!(
            to.starts_with("/login?error=rate_limited&retry_after="),
            "{b}: {to}"
        );
        let page = s.http.get(s.url(&to)).send().await.unwrap();
        assert!(
            page.text()
                .await
                .unwrap()
                .contains("Too many failed sign-ins; try again in"),
            "{b}"
        );

        // The chain: one record at the first failure, then one summary when the
        // window closes, with counts adding up to the 32 refused attempts.
        assert_eq!(
            records(&s, "user.login_failed").await.len(),
            1,
            "{b}: one record while the burst is open"
        );
        clock.advance_ms(61_000);
        let recs = records_counting(&s, "user.login_failed", 32).await;
        assert_eq!(count_sum(&recs), 32, "{b}: {recs:?}");
        assert_eq!(recs.len(), 2, "{b}: {recs:?}");
        assert_eq!(recs[1]["fields"]["summary"], true, "{b}");
        assert_eq!(recs[1]["fields"]["client"], "127.0.0.1", "{b}");

        // After the backoff the right password works again.
        clock.advance_ms(15 * 60 * 1000);
        let r = sign_in(&s, &email, &password).await;
        assert_eq!(r.headers()["location"], "/", "{b}");
    }
}

backend_tests! {
    async fn an_unknown_email_costs_a_password_hash_like_a_known_one(b: Backend) {
        let (s, _) = on_clock(b).await;
        let b = s.backend;
        let e = &s.running.engine;
        let before = e.password_checks();
        let r = sign_in(&s, "nobody@demo.arx.local", "whatever-password").await;
        assert_eq!(r.headers()["location"], "/login?error=invalid", "{b}");
        assert_eq!(e.password_checks(), before + 1, "{b}: unknown email hashed");
        let r = sign_in(&s, &s.demo().admin_email, "whatever-password").await;
        assert_eq!(r.headers()["location"], "/login?error=invalid", "{b}");
        assert_eq!(e.password_checks(), before + 2, "{b}: known email hashed");
        // An unknown email is throttled like a known one (no oracle there either).
        for _ in 0..5 {
            sign_in(&s, "ghost@demo.arx.local", "whatever-password").await;
        }
        assert_eq!(
            sign_in(&s, "ghost@demo.arx.local", "whatever-password")
                .await
                .status(),
            429,
            "{b}"
        );
    }
}

backend_tests! {
    async fn calls_with_a_revoked_key_are_summarized_not_recorded_one_by_one(b: Backend) {
        let (s, clock) = on_clock(b).await;
        let b = s.backend;
        let agent = s.demo().agents[0].id.clone();
        let key = s.demo().agents[0].api_key.clone();
        let (st, key_id) = s.admin().revoke_first_key(&agent).await;
        assert_eq!(st, 204, "{b}");
        let call =
            json!({"connector": "crowdstrike", "operation": "detections:read", "params": {}});
        for _ in 0..25 {
            let (st, body) = s.execute(&key, call.clone()).await;
            assert_eq!(st, 401, "{b}: {body}");
        }
        assert_eq!(records(&s, "execute.unauthenticated").await.len(), 1, "{b}");
        clock.advance_ms(61_000);
        let recs = records_counting(&s, "execute.unauthenticated", 25).await;
        assert_eq!((recs.len(), count_sum(&recs)), (2, 25), "{b}: {recs:?}");
        assert_eq!(recs[1]["fields"]["key_id"], key_id.as_str(), "{b}");
    }
}

backend_tests! {
    async fn admin_tokens_expire_are_listed_without_secrets_and_revoke_at_once(b: Backend) {
        let (s, clock) = on_clock(b).await;
        let b = s.backend;
        let admin = s.admin_token();
        let (st, made) = s.client(&admin).new_token("ci", Some(7)).await;
        assert_eq!(st, 201, "{b}: {made}");
        let ci = made["secret"].as_str().unwrap().to_string();
        let ci_id = made["token"]["id"].as_str().unwrap().to_string();
        assert!(ci.starts_with(made["token"]["prefix"].as_str().unwrap()));

        // Longer than the server allows, or nameless: 400 naming the field.
        let (st, e) = s.client(&admin).new_token("long", Some(91)).await;
        assert_eq!(st, 400, "{b}: {e}");
        assert!(error_message(&e).contains("lifetime_days"));

        // A token made with the 7-day token expires no later than it.
        let (st, child) = s.client(&ci).new_token("child", None).await;
        assert_eq!(st, 201, "{b}: {child}");
        assert!(child["token"]["expires_ms"].as_i64() <= made["token"]["expires_ms"].as_i64());

        // The list: names, prefixes and times, never a secret or a hash.
        let (st, list) = s.client(&admin).get("/v1/admin/tokens").await;
        assert_eq!(st, 200, "{b}");
        let text = list.to_string();
        assert!(!text.contains(&ci) && !text.contains("hash"), "{b}: {text}");
        let names = texts(&list["tokens"], "name");
        assert!(
            names.contains(&"ci") && names.contains(&"demo automation"),
            "{b}: {names:?}"
        );

        // A reviewer sees only their own tokens and cannot revoke the admin's.
        let reviewer = s
            .user_token("tokens-rev@demo.arx.local", Role::Reviewer)
            .await;
        let (_, own) = s.client(&reviewer).get("/v1/admin/tokens").await;
        assert_eq!(own["tokens"].as_array().unwrap().len(), 1, "{b}: {own}");
        let (st, _) = s
            .client(&reviewer)
            .delete(&format!("/v1/admin/tokens/{ci_id}"))
            .await;
        assert_eq!(st, 404, "{b}");
        assert_eq!(s.client(&ci).get("/v1/admin/agents").await.0, 200);

        // Revoked: stops at once, recorded.
        let rev_id = own["tokens"][0]["id"].as_str().unwrap().to_string();
        let (st, _) = s
            .client(&admin)
            .delete(&format!("/v1/admin/tokens/{rev_id}"))
            .await;
        assert_eq!(st, 204, "{b}");
        let (st, e) = s.client(&reviewer).get("/v1/admin/tokens").await;
        assert_eq!(st, 401, "{b}: {e}");
        assert!(
            s.audit_kinds()
                .await
                .iter()
                .any(|k| k == "user.token_revoked"),
            "{b}"
        );

        // Expired: 401 saying when and what to do; the 90-day demo token still works.
        clock.advance_ms(7 * DAY_MS + 1);
        let (st, e) = s.client(&ci).get("/v1/admin/agents").await;
        assert_eq!(st, 401, "{b}: {e}");
        let msg = error_message(&e);
        assert!(
            msg.contains("expired on") && msg.contains("create a new one"),
            "{b}: {msg}"
        );
        assert_eq!(s.client(&admin).get("/v1/admin/agents").await.0, 200);
        clock.advance_ms(90 * DAY_MS);
        assert_eq!(s.client(&admin).get("/v1/admin/agents").await.0, 401);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_master_key_file_others_may_read_is_refused_at_start() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = arx_testkit::TempDir::new("arx-key").unwrap();
    let dir = tmp.path();
    let path = dir.join("master.key");
    std::fs::write(&path, "11".repeat(32)).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let cfg = arx_server::config::Config::for_tests(dir, None);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let err = arx_server::launch(cfg.clone(), listener, false)
        .await
        .err()
        .expect("refused");
    assert!(
        err.contains(&format!("chmod 600 {}", path.display())),
        "{err}"
    );
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    assert!(arx_server::keys::load_master_key(&cfg).is_ok());
}

backend_tests! {
    async fn the_console_lists_tokens_without_their_secret(b: Backend) {
        let (s, _) = on_clock(b).await;
        let b = s.backend;
        let r = sign_in(&s, &s.demo().admin_email, &s.demo().admin_password).await;
        assert_eq!(r.headers()["location"], "/", "{b}");
        let session = crate::harness::session_cookie(&r).unwrap();
        let html = s.page_html("/settings/tokens", &session).await;
        let prefix: String = s.admin_token().chars().take(11).collect();
        assert!(
            html.contains("demo automation") && html.contains(&format!("{prefix}…")),
            "{b}: the demo token is listed by name and prefix"
        );
        assert!(!html.contains(&s.admin_token()), "{b}: never the secret");
    }
}

backend_tests! {
    async fn a_burst_of_sign_ins_computes_at_most_four_hashes_at_once(b: Backend) {
        let (s, _) = on_clock(b).await;
        let b = s.backend;
        let attempts = (0..12).map(|i| {
            let s = &s;
            async move { sign_in(s, &format!("burst{i}@demo.arx.local"), "wrong-password").await }
        });
        for r in futures::future::join_all(attempts).await {
            let status = r.status().as_u16();
            let to = r
                .headers()
                .get("location")
                .map(|v| v.to_str().unwrap().to_string());
            // Refused as wrong, or told to come back when no hashing slot freed in time.
            assert!(
                status == 429 || to.as_deref() == Some("/login?error=invalid"),
                "{b}: {status} {to:?}"
            );
        }
        let peak = s.running.engine.password_checks_peak();
        assert!((1..=4).contains(&peak), "{b}: {peak} hashes at once");
    }
}

backend_tests! {
    async fn the_token_and_retention_routes_refuse_other_orgs_malformed_and_oversized_input(
        s: TestServer,
    ) {
        let b = s.backend;
        let admin = s.admin_token();
        let (st, made) = s.client(&admin).new_token("ci", None).await;
        assert_eq!(st, 201, "{b}: {made}");
        let (secret, id) = (
            made["secret"].as_str().unwrap().to_string(),
            made["token"]["id"].as_str().unwrap().to_string(),
        );
        // Another org's admin neither sees nor revokes the demo org's token, nor its retention.
        let theirs = s.client(&s.other_org_admin().await);
        let (_, list) = theirs.get("/v1/admin/tokens").await;
        assert!(!list.to_string().contains(&id), "{b}: {list}");
        let (st, _) = theirs.delete(&format!("/v1/admin/tokens/{id}")).await;
        assert_eq!(st, 404, "{b}: another org's token");
        let retention = json!({"response_days": 1});
        let (st, _) = theirs.put("/v1/admin/settings/retention", retention).await;
        assert_eq!(st, 200, "{b}");
        let (_, mine) = s.client(&admin).get("/v1/admin/settings/retention").await;
        assert_eq!(
            mine["response_days"], 30,
            "{b}: the other org changed only its own: {mine}"
        );
        assert_eq!(
            s.client(&secret).get("/v1/admin/agents").await.0,
            200,
            "{b}"
        );

        // Malformed ids and oversized or wrong-typed values: 400 saying what to fix.
        let as_admin = s.client(&admin);
        for bad in ["not-an-id", "..%2F..%2Fetc", "%00"] {
            let (st, out) = as_admin.delete(&format!("/v1/admin/tokens/{bad}")).await;
            assert_eq!(st, 400, "{b}: {bad}: {out}");
            let (st, out) = as_admin
                .get(&format!("/v1/admin/audit/{bad}/response"))
                .await;
            assert_eq!(st, 400, "{b}: {bad}: {out}");
        }
        for body in [
            json!({"name": "x".repeat(10_000)}),
            json!({"name": "ci", "lifetime_days": -1}),
            json!({"name": "ci", "lifetime_days": "7"}),
            json!({"name": "ci", "role": "admin"}),
        ] {
            let (st, out) = as_admin.post("/v1/admin/tokens", body.clone()).await;
            assert!(
                st == 400 && out["error"]["message"].is_string(),
                "{b}: {body}: {st} {out}"
            );
        }
        for body in [
            json!({"response_days": 1e12}),
            json!({"response_days": null}),
            json!([]),
        ] {
            let (st, out) = as_admin
                .put("/v1/admin/settings/retention", body.clone())
                .await;
            assert!(
                st == 400 && out["error"]["message"].is_string(),
                "{b}: {body}: {st} {out}"
            );
        }
        // No credentials (with a well-formed body): 401 on every new route.
        for (m, path, body) in [
            (Method::GET, "/v1/admin/tokens".to_string(), json!(null)),
            (
                Method::POST,
                "/v1/admin/tokens".to_string(),
                json!({"name": "x"}),
            ),
            (
                Method::DELETE,
                format!("/v1/admin/tokens/{id}"),
                json!(null),
            ),
            (
                Method::GET,
                "/v1/admin/settings/retention".to_string(),
                json!(null),
            ),
            (
                Method::PUT,
                "/v1/admin/settings/retention".to_string(),
                json!({"response_days": 30}),
            ),
            (
                Method::GET,
                format!("/v1/admin/audit/{id}/response"),
                json!(null),
            ),
        ] {
            let r = s
                .http
                .request(m.clone(), s.url(&path))
                .json(&body)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 401, "{b}: {m} {path}");
        }
    }
}
