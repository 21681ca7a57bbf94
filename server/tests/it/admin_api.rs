//! The admin API: agents, keys, instances and credentials, and the org wall.

use arx_core::audit::Actor;
use arx_core::model::Role;
use arx_testkit::{Backend, backend_tests};
use serde_json::json;

use crate::harness::{TestServer, error_message, okta_users};

backend_tests! {
    async fn admins_manage_agents_keys_and_instances(s: TestServer) {
        let (st, b) = s
            .admin()
            .post(
                "/v1/admin/agents",
                json!({"name": "enricher", "owner": "ti-lead@demo.arx.local", "labels": {"env": "dev"}}),
            )
            .await;
        assert_eq!(st, 201, "{}: {b}", s.backend);
        let id = b["agent"]["id"].as_str().unwrap().to_string();
        let (st, b) = s
            .admin()
            .post(
                "/v1/admin/agents",
                json!({"name": "enricher", "owner": "ti-lead@demo.arx.local"}),
            )
            .await;
        assert_eq!(
            (st, b["error"]["code"].as_str()),
            (409, Some("conflict")),
            "{b}"
        );
        let (st, b) = s
            .admin()
            .post("/v1/admin/agents", json!({"name": "x", "owner": "nobody"}))
            .await;
        assert_eq!(st, 400, "{b}");
        assert!(error_message(&b).contains("owner"));
        let (st, b) = s
            .admin()
            .post(
                "/v1/admin/agents",
                json!({"name": "x", "owner": "a@b.c", "colour": "red"}),
            )
            .await;
        assert_eq!(st, 400, "unknown field refused: {b}");

        let (st, b) = s
            .admin()
            .post(&format!("/v1/admin/agents/{id}/keys"), json!({}))
            .await;
        assert_eq!(st, 201, "{b}");
        let key = b["api_key"].as_str().unwrap().to_string();
        assert!(b["key"].get("hash").is_none(), "the hash is never served");

        // An instance with credentials: the response says they are set, never what they are.
        let vars = s.sim().variables_for("okta");
        let (st, b) = s
            .admin()
            .post(
                "/v1/admin/instances",
                json!({
            "connector": "okta", "name": "dev-tenant", "environment": "dev", "variables": vars,
            "credentials": {"api_key": "demo-okta-api-key"}}),
            )
            .await;
        assert_eq!(st, 201, "{b}");
        assert_eq!(b["instance"]["credentials_set"], true);
        assert!(!b.to_string().contains("demo-okta-api-key"));
        let (st, b) = s
            .admin()
            .put(
                &format!(
                    "/v1/admin/instances/{}/credentials",
                    b["instance"]["id"].as_str().unwrap()
                ),
                json!({"token": "x"}),
            )
            .await;
        assert_eq!(st, 400, "wrong credential fields are refused: {b}");
        assert!(error_message(&b).contains("api_key"));

        // Without a manifest the new key is denied at the gate; with one that declares
        // Okta reads, it works and names the instance when there are two.
        let named = json!({"connector": "okta", "operation": "users:read", "instance": "dev-tenant", "params": {}});
        let (st, b) = s.execute(&key, named).await;
        assert_eq!(st, 403, "no manifest yet: {b}");
        let (st, b) = s
            .admin()
            .post(
                &format!("/v1/admin/agents/{id}/manifests"),
                json!({"manifest": {"connectors": {"okta": ["users:*"]}, "rate_per_minute": 60,
                    "environments": ["prod", "dev"], "data_classes": ["identity", "pii"],
                    "purpose": "enrich alerts with identity", "model": ""},
                    "reason": "enrichment reads Okta users"}),
            )
            .await;
        assert_eq!(st, 201, "{b}");
        let (st, b) = s.execute(&key, okta_users()).await;
        assert_eq!(st, 400, "two okta instances: {b}");
        assert!(error_message(&b).contains("dev-tenant"));
        let (st, b) = s.execute(&key, json!({"connector": "okta", "operation": "users:read", "instance": "dev-tenant", "params": {}})).await;
        assert_eq!(st, 200, "{}: {b}", s.backend);

        let (st, _) = s.admin_get("/v1/admin/agents").await;
        assert_eq!(st, 200);
        let r = s.http.get(s.url("/v1/admin/agents")).send().await.unwrap();
        assert_eq!(r.status(), 401);
        let kinds = s.audit_kinds().await;
        for k in [
            "agent.created",
            "agent.key_issued",
            "instance.created",
            "instance.credentials_set",
        ] {
            assert!(kinds.iter().any(|x| x == k), "{}: no {k} record", s.backend);
        }
    }
}

backend_tests! {
    async fn one_org_cannot_see_or_touch_another(s: TestServer) {
        let e = &s.running.engine;
        let other = e.system().create_org("other", "Other Org").await.unwrap();
        let admin = e
            .system()
            .create_local_user(
                other.id,
                "root@other.example",
                "Other",
                Role::Admin,
                "correct horse battery",
                Actor::system(),
            )
            .await
            .unwrap();
        let token = e.system().issue_user_token(&admin, "t").await.unwrap();
        let demo_agent = &s.demo().agents[0].id;
        let theirs = s.client(&token);
        let (status, _) = theirs.get(&format!("/v1/admin/agents/{demo_agent}")).await;
        assert_eq!(status, 404, "{}", s.backend);
        let (_, list) = theirs.get("/v1/admin/agents").await;
        assert_eq!(list["agents"].as_array().unwrap().len(), 0, "{}", s.backend);
        let (_, audit) = theirs.get("/v1/admin/audit").await;
        assert!(
            audit["records"]
                .as_array()
                .unwrap()
                .iter()
                .all(|r| r["org_id"] == other.id.to_string()),
            "{}",
            s.backend
        );
        let r = s
            .http
            .post(s.url(&format!("/v1/admin/agents/{demo_agent}/keys")))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(
            r.status(),
            404,
            "{}: no key for another org's agent",
            s.backend
        );
        // A reviewer of the demo org may read but not change.
        let rt = s.user_token("rev@demo.example", Role::Reviewer).await;
        let r = s
            .http
            .post(s.url("/v1/admin/agents"))
            .bearer_auth(&rt)
            .json(&json!({"name": "n", "owner": "a@b.c"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403, "{}", s.backend);
        assert_eq!(
            s.http
                .get(s.url("/v1/admin/agents"))
                .bearer_auth(&rt)
                .send()
                .await
                .unwrap()
                .status(),
            200
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_describes_the_routes_that_answer() {
    let s = crate::harness::start(Backend::Sqlite).await;
    let (_, doc) = TestServer::answer(s.http.get(s.url("/openapi.json"))).await;
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().unwrap();
    assert!(paths.len() >= 15);
    let agent = &s.demo().agents[0].id;
    for (path, ops) in paths {
        let concrete = path
            .replace("{id}", agent)
            .replace("{key_id}", agent)
            .replace("{version}", "1");
        for method in ops
            .as_object()
            .unwrap()
            .keys()
            .filter(|m| *m != "parameters")
        {
            let m = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let r = s.http.request(m, s.url(&concrete)).send().await.unwrap();
            // Without credentials: 401 for the API, 200 for the public routes, never a 404 or 405.
            assert!(
                ![404, 405].contains(&r.status().as_u16()),
                "{method} {path} is documented but not routed: {}",
                r.status()
            );
        }
    }
}
