//! Self-registration (`POST /v1/agents/register`): a manifest that declares nothing
//! beyond the version in force is published at once; one that widens the agent's scope
//! waits for a reviewer as an approval request of kind `manifest`, and only its approval
//! publishes it, exactly as approved.

use arx_core::registry::Manifest;
use arx_testkit::backend_tests;
use serde_json::{Value, json};

use crate::harness::{TestServer, error_message};
use crate::registry::new_agent;

fn manifest(ops: &[&str], rate: u32) -> Value {
    json!({
        "connectors": {"crowdstrike": ops},
        "rate_per_minute": rate,
        "environments": ["prod"],
        "data_classes": ["security_telemetry", "asset_inventory"],
        "purpose": "Triage detections",
        "model": "claude-sonnet-4",
    })
}

/// `POST /v1/agents/register` with the agent's key, answering at once.
async fn register(s: &TestServer, key: &str, m: Value, reason: &str) -> (u16, Value) {
    s.client(key)
        .post(
            "/v1/agents/register",
            json!({"manifest": m, "reason": reason, "wait_seconds": 0}),
        )
        .await
}

/// The agent's version numbers, newest first.
async fn versions(s: &TestServer, id: &str) -> Vec<i64> {
    let (st, b) = s
        .admin()
        .get(&format!("/v1/admin/agents/{id}/manifests"))
        .await;
    assert_eq!(st, 200, "{b}");
    b["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["version"].as_i64().unwrap())
        .collect()
}

fn call(op: &str) -> Value {
    json!({"connector": "crowdstrike", "operation": op, "params": {}})
}

/// Whether the manifest gate denied the agent's last call.
async fn gated(s: &TestServer, key: &str, op: &str) -> bool {
    let (st, _) = s.execute(key, call(op)).await;
    let last = s.audit_of("execute.intercept").await.pop().unwrap();
    st == 403 && last["fields"]["policy_id"] == "gate:manifest"
}

backend_tests! {
    async fn a_narrower_manifest_is_published_at_once_and_a_wider_one_waits_for_a_reviewer(s: TestServer) {
        let (id, key) = new_agent(&s, "self-registering").await;
        let (st, v1) = s
            .admin()
            .post(
                &format!("/v1/admin/agents/{id}/manifests"),
                json!({"manifest": manifest(&["detections:read", "hosts:*"], 60), "reason": "initial"}),
            )
            .await;
        assert_eq!(st, 201, "{v1}");

        // Narrower: the next version at once, recorded as the agent's own act.
        let (st, b) = register(&s, &key, manifest(&["detections:read"], 30), "drop host access").await;
        assert_eq!((st, b["status"].as_str(), b["version"].as_i64()), (200, Some("published"), Some(2)), "{}: {b}", s.backend);
        let published = s.audit_of("agent.manifest_published").await.pop().unwrap();
        assert_eq!(published["actor"]["type"], "agent", "{published}");
        assert_eq!(published["fields"]["manifest_sha256"], b["manifest_sha256"]);
        // The same manifest again writes nothing.
        let (st, again) = register(&s, &key, manifest(&["detections:read"], 30), "restart").await;
        assert_eq!((st, again["status"].as_str(), again["version"].as_i64()), (200, Some("unchanged"), Some(2)), "{again}");
        assert_eq!(versions(&s, &id).await, vec![2, 1]);
        assert!(gated(&s, &key, "hosts:read").await, "v2 no longer declares hosts");

        // Wider (an operation and a higher rate): a manifest request, nothing published.
        let wider = manifest(&["detections:read", "hosts:read"], 120);
        let (st, p) = register(&s, &key, wider.clone(), "enrich with host details").await;
        assert_eq!((st, p["status"].as_str()), (202, Some("pending")), "{p}");
        let approval = p["approval_id"].as_str().unwrap().to_string();
        assert_eq!(versions(&s, &id).await, vec![2, 1], "nothing published before approval");
        assert!(gated(&s, &key, "hosts:read").await, "a pending manifest opens nothing");
        // Registering it again (an agent restarting) is the same request.
        let (st, same) = register(&s, &key, wider.clone(), "enrich with host details").await;
        assert_eq!((st, same["approval_id"].as_str()), (202, Some(approval.as_str())), "{same}");

        // The reviewer sees the request in the queue with what widens, against v2.
        let (st, d) = s.admin().get(&format!("/v1/admin/approvals/{approval}")).await;
        assert_eq!(st, 200, "{d}");
        assert_eq!(d["approval"]["kind"], "manifest");
        assert_eq!(d["approval"]["status"], "pending");
        assert_eq!(d["approval"]["params"]["base_version"], 2);
        assert_eq!(
            d["approval"]["params"]["widens"],
            json!([{"kind": "operation", "connector": "crowdstrike", "operation": "hosts:read"},
                   {"kind": "rate", "from": 30, "to": 120}]),
        );
        assert_eq!(d["intercept"]["approval_id"].as_str(), Some(approval.as_str()), "the agent.manifest_requested record: {d}");
        let (_, queue) = s.admin().get("/v1/admin/approvals?status=pending").await;
        assert!(queue.to_string().contains(&approval), "in the same queue as calls: {queue}");

        // Approved: exactly that manifest becomes version 3; the agent learns it.
        let (st, done) = s.admin().approve(&approval, Some("host reads are fine")).await;
        assert_eq!((st, done["approval"]["status"].as_str()), (200, Some("executed")), "{done}");
        assert_eq!(done["approval"]["outcome"]["version"], 3, "{done}");
        assert_eq!(versions(&s, &id).await, vec![3, 2, 1]);
        let (_, v3) = s.admin().get(&format!("/v1/admin/agents/{id}/manifests/3")).await;
        let approved: Manifest = serde_json::from_value(wider).unwrap();
        assert_eq!(v3["hash"].as_str(), Some(approved.hash().unwrap().as_str()));
        assert_eq!(v3["created_by"], "admin@demo.arx.local");
        let published = s.audit_of("agent.manifest_published").await.pop().unwrap();
        assert_eq!(published["fields"]["approval_id"].as_str(), Some(approval.as_str()));
        let (st, polled) = s.client(&key).get(&format!("/v1/sdk/approvals/{approval}?wait_seconds=0")).await;
        assert_eq!((st, polled["status"].as_str(), polled["version"].as_i64()), (200, Some("published"), Some(3)), "{polled}");
        assert!(!gated(&s, &key, "hosts:read").await, "v3 declares hosts:read");
    }

    async fn a_wider_manifest_denied_superseded_or_overtaken_changes_nothing(s: TestServer) {
        let (id, key) = new_agent(&s, "refused-registrant").await;
        // With no manifest at all, any registration widens: the first one waits too.
        let (st, first) = register(&s, &key, manifest(&["detections:read"], 30), "first").await;
        assert_eq!(st, 202, "{first}");
        let first = first["approval_id"].as_str().unwrap().to_string();
        let (_, d) = s.admin().get(&format!("/v1/admin/approvals/{first}")).await;
        assert_eq!(d["approval"]["params"]["base_version"], Value::Null);

        // A different registration supersedes the pending one, which can no longer pass.
        let (st, second) = register(&s, &key, manifest(&["detections:*"], 30), "second").await;
        assert_eq!(st, 202, "{second}");
        let second = second["approval_id"].as_str().unwrap().to_string();
        assert_ne!(first, second);
        let (st, b) = s.admin().approve(&first, None).await;
        assert_eq!(st, 409, "a superseded request cannot be approved: {b}");
        let (_, d) = s.admin().get(&format!("/v1/admin/approvals/{first}")).await;
        assert_eq!(d["approval"]["status"], "cancelled");
        assert!(d["approval"]["comment"].as_str().unwrap().contains("superseded"), "{d}");

        // Denied: the agent is told, nothing is published.
        let (st, b) = s.admin().deny(&second, Some("no wildcard")).await;
        assert_eq!(st, 200, "{b}");
        let (st, polled) = s.client(&key).get(&format!("/v1/sdk/approvals/{second}?wait_seconds=0")).await;
        assert_eq!((st, polled["error"]["code"].as_str()), (403, Some("approval_denied")), "{polled}");
        assert!(versions(&s, &id).await.is_empty());

        // Overtaken: an admin publishes while the request waits; approving it then would
        // undo that version unseen, so it is cancelled and the agent registers again.
        let (st, third) = register(&s, &key, manifest(&["detections:read", "hosts:read"], 30), "third").await;
        assert_eq!(st, 202, "{third}");
        let third = third["approval_id"].as_str().unwrap().to_string();
        let (st, _) = s
            .admin()
            .post(&format!("/v1/admin/agents/{id}/manifests"), json!({"manifest": manifest(&["incidents:read"], 10), "reason": "admin's own"}))
            .await;
        assert_eq!(st, 201);
        let (st, b) = s.admin().approve(&third, None).await;
        assert_eq!((st, b["approval"]["status"].as_str()), (200, Some("cancelled")), "{b}");
        assert!(b["approval"]["comment"].as_str().unwrap().contains("register again"), "{b}");
        assert_eq!(versions(&s, &id).await, vec![1], "only the admin's version");
        let (st, polled) = s.client(&key).get(&format!("/v1/sdk/approvals/{third}?wait_seconds=0")).await;
        assert_eq!((st, polled["error"]["code"].as_str()), (409, Some("approval_cancelled")), "{polled}");
    }

    async fn a_registration_is_refused_with_what_to_fix(s: TestServer) {
        let (id, key) = new_agent(&s, "careless-registrant").await;
        let path = "/v1/agents/register";
        let body = json!({"manifest": manifest(&["detections:read"], 30), "reason": "x"});
        let (st, b) = s.client("arx_not_a_key").post(path, body.clone()).await;
        assert_eq!(st, 401, "{b}");
        let mut unknown = manifest(&["detections:read"], 30);
        unknown["connectors"] = json!({"nosuch": ["*"]});
        let (st, b) = register(&s, &key, unknown, "x").await;
        assert_eq!(st, 400, "{b}");
        assert!(error_message(&b).contains("nosuch"), "{b}");
        let (st, b) = register(&s, &key, manifest(&["detections:read"], 30), "  ").await;
        assert_eq!((st, b["error"]["field"].as_str()), (400, Some("reason")), "{b}");
        let (st, b) = s.client(&key).post(path, json!({"manifest": manifest(&["detections:read"], 30)})).await;
        assert_eq!(st, 400, "{b}");
        assert!(error_message(&b).contains("reason"), "{b}");
        // A suspended agent cannot widen, or narrow, its own scope.
        let (st, _) = s.admin().suspend_agent(&id, "investigating").await;
        assert_eq!(st, 204);
        let (st, b) = register(&s, &key, manifest(&["detections:read"], 30), "let me back in").await;
        assert_eq!(st, 403, "{b}");
        assert!(error_message(&b).contains("suspended"), "{b}");
        assert!(versions(&s, &id).await.is_empty());
        assert!(s.audit_of("agent.manifest_requested").await.is_empty());
    }

    async fn the_reviewer_sees_a_manifest_request_in_the_console(s: TestServer) {
        let (_, key) = new_agent(&s, "console-registrant").await;
        let (st, p) = register(&s, &key, manifest(&["detections:read", "hosts:read"], 45), "<b>enrich</b> hosts").await;
        assert_eq!(st, 202, "{p}");
        let id = p["approval_id"].as_str().unwrap();
        let d = s.demo();
        let cookie = s.console_session(&d.admin_email, &d.admin_password).await;
        let html = s.page_html(&format!("/approvals/view?id={id}"), &cookie).await;
        assert!(html.contains("Manifest changes asked for"), "{html}");
        // A first manifest widens by whole connectors: each shows its operations.
        assert!(html.contains("widens: new connector crowdstrike: detections:read, hosts:read"), "{html}");
        assert!(html.contains("widens: environment prod"), "{html}");
        assert!(html.contains("purpose (written by the agent): Triage detections"), "{html}");
        assert!(!html.contains("<b>enrich</b>"), "the agent's reason is escaped");
        assert!(html.contains("&lt;b&gt;enrich&lt;/b&gt;"), "{html}");
    }

    async fn an_owner_is_a_user_of_the_org_and_one_who_left_shows_as_inactive(s: TestServer) {
        // Another org's user is not an owner here, even with a well-formed email.
        let other = s.other_org_admin().await;
        let (_, users) = s.client(&other).get("/v1/admin/users").await;
        let stranger = users["users"][0]["email"].as_str().unwrap().to_string();
        for owner in [stranger.clone(), stranger.to_uppercase()] {
            let (st, b) = s.admin().post("/v1/admin/agents", json!({"name": "x-org", "owner": owner})).await;
            assert_eq!((st, b["error"]["field"].as_str()), (400, Some("owner")), "{b}");
        }
        // A user of this org is one, however the email is written.
        let (st, b) = s.admin().post("/v1/admin/agents", json!({"name": "in-org", "owner": "SecOps-Lead@demo.arx.local"})).await;
        assert_eq!((st, b["agent"]["owner"].as_str()), (201, Some("secops-lead@demo.arx.local")), "{b}");

        // The owner leaves: the agent stays, and says its owner is inactive.
        let id = s.agent_id("enrichment-agent");
        let (_, before) = s.admin().get(&format!("/v1/admin/agents/{id}")).await;
        assert_eq!(before["owner_active"], true, "{before}");
        sqlx::query("UPDATE users SET active = 0 WHERE email = 'ti-lead@demo.arx.local'")
            .execute(s.running.store.pool())
            .await
            .unwrap();
        let (st, after) = s.admin().get(&format!("/v1/admin/agents/{id}")).await;
        assert_eq!((st, &after["owner_active"]), (200, &json!(false)), "{after}");
        assert_eq!(after["agent"]["owner"], "ti-lead@demo.arx.local");
        let (_, fleet) = s.admin().get("/v1/admin/agents?selector=team%3Dti").await;
        assert_eq!(fleet["inactive_owners"], json!(["ti-lead@demo.arx.local"]), "{fleet}");
        assert_eq!(fleet["agents"][0]["name"], "enrichment-agent");
        let (_, rest) = s.admin().get("/v1/admin/agents?selector=team%3Dsoc").await;
        assert_eq!(rest["inactive_owners"], json!([]), "{rest}");
        // The console says so too, in the fleet and on the agent's page.
        let d = s.demo();
        let cookie = s.console_session(&d.admin_email, &d.admin_password).await;
        let fleet_html = s.page_html("/agents?selector=team%3Dti", &cookie).await;
        assert!(fleet_html.contains("owner inactive"), "{fleet_html}");
        let page = s.page_html(&format!("/agents/view?id={id}"), &cookie).await;
        assert!(page.contains("owner inactive"), "{page}");
        let others = s.page_html("/agents?selector=team%3Dsoc", &cookie).await;
        assert!(!others.contains("owner inactive"));
        // And nobody can make them the owner of a new agent.
        let (st, b) = s.admin().post("/v1/admin/agents", json!({"name": "orphan", "owner": "ti-lead@demo.arx.local"})).await;
        assert_eq!((st, b["error"]["field"].as_str()), (400, Some("owner")), "{b}");
    }

    async fn the_agents_page_shows_its_own_drift_grants_and_records(s: TestServer) {
        let key = s.agent_key("enrichment-agent");
        let (st, _) = s.execute(&key, json!({"connector": "okta", "operation": "users:get", "params": {"user_id": "00u1"}})).await;
        assert_eq!(st, 403, "an undeclared read: a low drift alert");
        let (st, g) = s
            .client(&key)
            .post("/v1/sdk/grants", json!({"connector": "okta", "operations": ["users:read"], "ttl": "15m", "reason": "bulk lookup", "wait_seconds": 0}))
            .await;
        assert!(st == 200 || st == 202, "{g}");
        let other = s.agent_key("triage-agent");
        s.execute_permitted(&other, json!({"connector": "crowdstrike", "operation": "detections:read", "params": {}})).await;

        let d = s.demo();
        let cookie = s.console_session(&d.auditor_email, &d.auditor_password).await;
        let id = s.agent_id("enrichment-agent");
        let html = s.page_html(&format!("/agents/view?id={id}"), &cookie).await;
        let section = |testid: &str| {
            let start = html.find(&format!("data-testid=\"{testid}\"")).unwrap_or_else(|| panic!("{testid}: {html}"));
            html[start..].split("</div>").next().unwrap().to_string()
        };
        assert!(section("agent-drift").contains("okta:users:get"), "{html}");
        assert!(section("agent-grants").contains("okta: users:read"), "{html}");
        let records = section("agent-records");
        assert!(records.contains("execute.intercept"), "{records}");
        assert!(records.contains("okta"), "{records}");
        assert!(!records.contains("crowdstrike"), "another agent's records are not on this page: {records}");
    }
}
