//! The authorization wall from outside: typed query and path input refused with a 400
//! that says what is valid, the admin token checked before any input is read, and a
//! console session that holds who is signed in, never what they may do.

use reqwest::Method;
use serde_json::{Value, json};

use arx_testkit::backend_tests;

use crate::harness::{TestServer, send};

/// The error of a refused call: its status, code and message.
fn refusal(status: u16, body: &Value) -> (u16, &str, &str) {
    (
        status,
        body["error"]["code"].as_str().unwrap_or_default(),
        body["error"]["message"].as_str().unwrap_or_default(),
    )
}

backend_tests! {
    async fn an_unknown_approval_status_is_a_400_that_lists_the_valid_ones(s: TestServer) {
        let b = s.backend;
        let (status, body) = s.admin_get("/v1/admin/approvals?status=bogus").await;
        let (status, code, message) = refusal(status, &body);
        assert_eq!((status, code), (400, "invalid_request"), "{b}: {body}");
        for valid in [
            "pending", "approved", "denied", "expired", "executed", "failed",
        ] {
            assert!(message.contains(valid), "{b}: {message} lacks {valid}");
        }
        assert!(message.contains("bogus"), "{b}: {message}");

        let (status, body) = s.admin_get("/v1/admin/approvals?status=pending").await;
        assert_eq!(status, 200, "{b}: {body}");
        assert!(body["approvals"].is_array(), "{b}: {body}");
        let (status, _) = s.admin_get("/v1/admin/approvals").await;
        assert_eq!(status, 200, "{b}: no status is every request");
    }
}

backend_tests! {
    async fn an_unknown_policy_format_is_a_400_that_lists_the_valid_ones(s: TestServer) {
        let b = s.backend;
        for path in [
            "/v1/admin/policy?format=xml",
            "/v1/admin/policy/versions/1?format=xml",
        ] {
            let (status, body) = s.admin_get(path).await;
            let (status, code, message) = refusal(status, &body);
            assert_eq!(
                (status, code),
                (400, "invalid_request"),
                "{b} {path}: {body}"
            );
            assert!(
                message.contains("json") && message.contains("yaml"),
                "{b} {path}: {message}"
            );
        }
        let yaml = s.policy_yaml().await;
        assert_eq!(yaml.status(), 200, "{b}");
        assert!(
            yaml.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("application/yaml"),
            "{b}"
        );
        let (status, body) = s.admin_get("/v1/admin/policy?format=json").await;
        assert_eq!(status, 200, "{b}: {body}");
        assert!(body["policy"].is_object(), "{b}: {body}");
    }
}

backend_tests! {
    async fn a_malformed_path_id_is_a_400_naming_the_kind_of_id(s: TestServer) {
        let b = s.backend;
        let token = s.admin_token();
        let agent = s.demo().agents[0].id.clone();
        let cases = [
            (Method::GET, "/v1/admin/agents/nope".to_string(), "agent"),
            (Method::POST, "/v1/admin/agents/nope/keys".into(), "agent"),
            (
                Method::DELETE,
                format!("/v1/admin/agents/{agent}/keys/nope"),
                "key",
            ),
            (
                Method::PUT,
                "/v1/admin/instances/nope/credentials".into(),
                "instance",
            ),
            (Method::GET, "/v1/admin/approvals/nope".into(), "approval"),
            (
                Method::POST,
                "/v1/admin/approvals/nope/approve".into(),
                "approval",
            ),
            (Method::POST, "/v1/admin/grants/nope/revoke".into(), "grant"),
            (Method::PUT, "/v1/admin/users/nope/groups".into(), "user"),
            (Method::DELETE, "/v1/admin/tokens/nope".into(), "token"),
            (
                Method::GET,
                "/v1/admin/audit/nope/response".into(),
                "record",
            ),
            (
                Method::GET,
                "/v1/admin/policy/versions/nope".into(),
                "policy version",
            ),
            (
                Method::GET,
                "/v1/admin/policy/simulations/nope".into(),
                "simulation",
            ),
        ];
        for (method, path, what) in cases {
            let (status, body) = send(&s, &token, method.clone(), &path, json!({})).await;
            let (status, code, message) = refusal(status, &body);
            assert_eq!(
                (status, code, message),
                (
                    400,
                    "invalid_request",
                    format!("'nope' is not a valid {what} id").as_str()
                ),
                "{b}: {method} {path}"
            );
        }
    }
}

backend_tests! {
    async fn the_admin_api_refuses_a_missing_unknown_or_revoked_token_before_reading_input(
        s: TestServer,
    ) {
        let b = s.backend;
        // Without a valid token, a malformed id or query says nothing: 401 first.
        for path in [
            "/v1/admin/agents",
            "/v1/admin/agents/nope",
            "/v1/admin/approvals?status=bogus",
            "/v1/admin/policy/versions/nope",
            "/v1/admin/connectors",
        ] {
            let none = s.http.get(s.url(path)).send().await.unwrap();
            let status = none.status().as_u16();
            let body: Value = none.json().await.unwrap();
            assert_eq!(
                (status, body["error"]["code"].as_str()),
                (401, Some("unauthenticated")),
                "{b}: {path} without a token: {body}"
            );
            let (status, body) = send(&s, "arxu_not-a-token", Method::GET, path, json!(null)).await;
            assert_eq!(
                (status, body["error"]["code"].as_str()),
                (401, Some("unauthenticated")),
                "{b}: {path} with an unknown token: {body}"
            );
        }
        // Another scheme than Bearer is no token.
        let basic = s
            .http
            .get(s.url("/v1/admin/agents"))
            .header("authorization", format!("Basic {}", s.admin_token()))
            .send()
            .await
            .unwrap();
        assert_eq!(basic.status(), 401, "{b}: Basic is not Bearer");

        // A revoked token stops at once, on every route.
        let (status, made) = send(
            &s,
            &s.admin_token(),
            Method::POST,
            "/v1/admin/tokens",
            json!({"name": "short-lived"}),
        )
        .await;
        assert_eq!(status, 201, "{b}: {made}");
        let secret = made["secret"].as_str().unwrap().to_string();
        let id = made["token"]["id"].as_str().unwrap().to_string();
        let (status, _) = send(&s, &secret, Method::GET, "/v1/admin/agents", json!(null)).await;
        assert_eq!(status, 200, "{b}: the new token works");
        let (status, _) = send(
            &s,
            &s.admin_token(),
            Method::DELETE,
            &format!("/v1/admin/tokens/{id}"),
            json!(null),
        )
        .await;
        assert_eq!(status, 204, "{b}");
        for path in [
            "/v1/admin/agents",
            "/v1/admin/approvals",
            "/v1/admin/tokens",
        ] {
            let (status, body) = send(&s, &secret, Method::GET, path, json!(null)).await;
            assert_eq!(
                (status, body["error"]["code"].as_str()),
                (401, Some("unauthenticated")),
                "{b}: {path} with a revoked token: {body}"
            );
        }
    }
}

/// The session's stored record.
async fn stored_session_bytes(s: &TestServer, cookie: &str) -> Vec<u8> {
    let id = cookie.trim_start_matches("arx_session=");
    s.running
        .engine
        .system()
        .session_load(id)
        .await
        .unwrap()
        .expect("the session is stored")
}

/// The session's stored record, as JSON.
async fn stored_session(s: &TestServer, cookie: &str) -> Value {
    serde_json::from_slice(&stored_session_bytes(s, cookie).await).unwrap()
}

/// The role badge of the console's top bar, as rendered on the server.
async fn role_badge(s: &TestServer, cookie: &str) -> String {
    let r = s.page("/agents", cookie).await;
    assert_eq!(
        r.status(),
        200,
        "{}: {:?}",
        s.backend,
        r.headers().get("location")
    );
    let html = r.text().await.unwrap();
    let at = html.find("badge role").expect("the top bar shows a role");
    html[at..].chars().take(60).collect()
}

backend_tests! {
    async fn a_console_session_holds_who_signed_in_and_never_their_rights(s: TestServer) {
        let b = s.backend;
        let (email, password) = (
            s.demo().reviewer_email.clone(),
            s.demo().reviewer_password.clone(),
        );
        let cookie = s.console_session(&email, &password).await;
        let record = stored_session(&s, &cookie).await;
        let claim = &record["data"]["principal"];
        let mut keys: Vec<&str> = claim
            .as_object()
            .unwrap_or_else(|| panic!("{b}: no claim in {record}"))
            .keys()
            .map(String::as_str)
            .collect();
        keys.sort_unstable();
        assert_eq!(keys, ["org_id", "user_id"], "{b}: {claim}");
        let badge = role_badge(&s, &cookie).await;
        assert!(badge.contains("reviewer"), "{b}: {badge}");

        // A session record that claims more (as sessions of an older version stored
        // the whole principal, or as an edited row would) still names only a user:
        // the engine reads the role from the user, so the reviewer stays a reviewer.
        // Edited as text: the record's id is a 128-bit number that a `Value` would round.
        let text = String::from_utf8(stored_session_bytes(&s, &cookie).await).unwrap();
        let forged = text.replacen(
            r#""principal":{"#,
            r#""principal":{"role":"admin","email":"admin@demo.arx.local","name":"Demo Admin","org_slug":"demo","#,
            1,
        );
        assert_ne!(forged, text, "{b}: {text}");
        let id = cookie.trim_start_matches("arx_session=");
        s.running
            .engine
            .system()
            .session_save(
                id,
                arx_core::engine::ConsoleSession {
                    data: forged.as_bytes(),
                    claim: None,
                    client: None,
                },
            )
            .await
            .unwrap();
        let badge = role_badge(&s, &cookie).await;
        assert!(
            badge.contains("reviewer") && !badge.contains("admin"),
            "{b}: {badge}"
        );
    }
}

backend_tests! {
    async fn paths_and_methods_the_api_does_not_have_answer_in_its_json_error_shape(
        s: TestServer,
    ) {
        let b = s.backend;
        for path in [
            "/v1/nope",
            "/v1/admin/agentz",
            "/v1/sdk/execute/extra",
            "/auth/nope",
            "/integrations/nope",
        ] {
            let r = s.http.get(s.url(path)).send().await.unwrap();
            let status = r.status().as_u16();
            let kind = r.headers()["content-type"].to_str().unwrap().to_string();
            let body: Value = r.json().await.unwrap();
            assert_eq!(status, 404, "{b} {path}: {body}");
            assert!(kind.starts_with("application/json"), "{b} {path}: {kind}");
            assert_eq!(body["error"]["code"], "not_found", "{b} {path}: {body}");
            assert!(
                body["error"]["message"].as_str().unwrap().contains(path),
                "{b} {path}: {body}"
            );
        }
        // A route that exists, with a method it does not take: 405 with Allow, in JSON.
        for (method, path, allow) in [
            (Method::DELETE, "/v1/sdk/execute", "POST"),
            (Method::GET, "/auth/login", "POST"),
            (Method::PATCH, "/v1/admin/agents", "GET,HEAD,POST"),
        ] {
            let r = s
                .http
                .request(method.clone(), s.url(path))
                .bearer_auth(s.admin_token())
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 405, "{b} {method} {path}");
            assert_eq!(r.headers()["allow"], allow, "{b} {method} {path}");
            let body: Value = r.json().await.unwrap();
            assert_eq!(body["error"]["code"], "method_not_allowed", "{b}: {body}");
        }
    }
}

backend_tests! {
    async fn a_query_value_that_is_empty_or_out_of_range_is_refused_by_name(s: TestServer) {
        let b = s.backend;
        for (path, names) in [
            ("/v1/admin/approvals?status=", "status"),
            ("/v1/admin/policy?format=", "format"),
            ("/v1/admin/audit?limit=501", "limit"),
            ("/v1/admin/audit?limit=0", "limit"),
            ("/v1/admin/audit?limit=ten", "limit"),
            ("/v1/admin/audit?before=x", "before"),
            ("/v1/admin/drift?cursor=x", "cursor"),
            ("/v1/admin/drift?cursor=12.not-an-id", "cursor"),
            ("/v1/admin/drift?limit=501", "limit"),
            ("/v1/admin/drift?order=sideways", "order"),
            ("/v1/admin/agents?sort=risk", "sort"),
            ("/v1/admin/agents?order=", "order"),
            ("/v1/admin/graph?connector=nosuch", "connector"),
        ] {
            let (status, body) = s.admin_get(path).await;
            let (status, code, message) = refusal(status, &body);
            assert_eq!(
                (status, code),
                (400, "invalid_request"),
                "{b} {path}: {body}"
            );
            assert!(message.contains(names), "{b} {path}: {message}");
        }
        let (status, body) = s.admin_get("/v1/admin/audit?limit=500").await;
        assert_eq!(status, 200, "{b}: {body}");
    }
}

backend_tests! {
    async fn a_bad_name_or_email_is_refused_naming_the_field_and_what_to_fix(s: TestServer) {
        let b = s.backend;
        let admin = s.admin();
        for (body, field, says) in [
            (
                json!({"name": "bad name!! <b>x</b>", "owner": "lead@example.com"}),
                "name",
                "'!' is not allowed",
            ),
            (
                json!({"name": "fine-agent", "owner": "a@b"}),
                "owner",
                "like name@example.com",
            ),
            (
                json!({"name": "-dash", "owner": "lead@example.com"}),
                "name",
                "start with a letter or a digit",
            ),
            // The owner is a person with an account in this org, not free text.
            (
                json!({"name": "fine-agent", "owner": "lead@example.com"}),
                "owner",
                "lead@example.com is not an active user of this org",
            ),
        ] {
            let (status, err) = admin.post("/v1/admin/agents", body).await;
            let (status, code, message) = refusal(status, &err);
            assert_eq!((status, code), (400, "invalid_request"), "{b}: {err}");
            assert_eq!(err["error"]["field"], field, "{b}: {err}");
            assert!(message.contains(says), "{b}: {message}");
        }
        let (status, body) = admin.get("/v1/admin/agents").await;
        assert_eq!(status, 200, "{b}");
        let names: Vec<&str> = body["agents"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|a| a["name"].as_str())
            .collect();
        assert!(
            !names.iter().any(|n| n.contains('!') || n.starts_with('-')),
            "{b}: {names:?}"
        );
    }
}
