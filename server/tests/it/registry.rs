//! The agent registry through the admin API: manifest versions that never change, their
//! hashes in the audit chain, rollback as a new version, the diff of two versions, and
//! who may do what.

use arx_core::model::Role;
use arx_core::registry::Manifest;
use arx_testkit::backend_tests;
use serde_json::{Value, json};

use crate::harness::{TestServer, contain, containments, error_message, texts};

/// A new agent of the demo org with no manifest yet, and a key: (id, key).
pub(crate) async fn new_agent(s: &TestServer, name: &str) -> (String, String) {
    let (st, b) = s
        .admin()
        .post(
            "/v1/admin/agents",
            json!({"name": name, "owner": "secops-lead@demo.arx.local"}),
        )
        .await;
    assert_eq!(st, 201, "{b}");
    let id = b["agent"]["id"].as_str().unwrap().to_string();
    let (st, k) = s
        .admin()
        .post(&format!("/v1/admin/agents/{id}/keys"), json!({}))
        .await;
    assert_eq!(st, 201, "{k}");
    (id, k["api_key"].as_str().unwrap().to_string())
}

async fn publish(s: &TestServer, id: &str, m: Value) -> Value {
    let (st, v) = s
        .admin()
        .post(
            &format!("/v1/admin/agents/{id}/manifests"),
            json!({"manifest": m, "reason": "test"}),
        )
        .await;
    assert_eq!(st, 201, "{v}");
    v
}

async fn status_of(s: &TestServer, id: &str) -> String {
    let (_, a) = s.admin().get(&format!("/v1/admin/agents/{id}")).await;
    a["agent"]["status"].as_str().unwrap().to_string()
}

async fn alerts(s: &TestServer, query: &str) -> Vec<Value> {
    let (st, b) = s.admin().get(&format!("/v1/admin/drift?{query}")).await;
    assert_eq!(st, 200, "{b}");
    b["alerts"].as_array().unwrap().clone()
}

fn detections() -> Value {
    json!({"connector": "crowdstrike", "operation": "detections:read", "params": {}})
}

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

/// A manifest declaring `connectors` (name → operation ids or globs), in prod only, at
/// `rate` calls a minute, handling exactly `classes`.
fn declared(connectors: Value, rate: u32, classes: &[&str]) -> Value {
    json!({
        "connectors": connectors,
        "rate_per_minute": rate,
        "environments": ["prod"],
        "data_classes": classes,
        "purpose": "a test agent",
        "model": "",
    })
}

/// The latest `execute.intercept` record of the agent `id`.
async fn last_intercept(s: &TestServer, id: &str) -> Value {
    let mut mine = s.audit_of("execute.intercept").await;
    mine.retain(|r| r["fields"]["agent_id"] == id);
    mine.pop()
        .unwrap_or_else(|| panic!("no intercept record of {id}"))
}

/// The one drift alert of the agent `id` (fails the test if it has none or several).
async fn only_alert(s: &TestServer, id: &str) -> Value {
    let mut all = alerts(s, &format!("agent={id}")).await;
    assert_eq!(all.len(), 1, "{}: {all:?}", s.backend);
    all.pop().unwrap()
}

/// The grant that the approval request `approval` asked for, as `GET /v1/admin/grants`
/// lists it.
async fn grant_approved_by(s: &TestServer, approval: &str) -> Value {
    let (st, list) = s.admin().get("/v1/admin/grants").await;
    assert_eq!(st, 200, "{list}");
    let grants = list["grants"].as_array().unwrap();
    let found = grants.iter().find(|g| g["approval_id"] == approval);
    found
        .unwrap_or_else(|| panic!("no grant of {approval}: {list}"))
        .clone()
}

/// `POST /v1/sdk/execute` of `body` as `key`, answered at once: the status, the
/// `Retry-After` header and the body.
async fn execute_raw(s: &TestServer, key: &str, mut body: Value) -> (u16, Option<String>, Value) {
    body["wait_seconds"] = json!(0);
    let r = s
        .http
        .post(s.url("/v1/sdk/execute"))
        .bearer_auth(key)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let retry = r
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_string());
    (status, retry, r.json().await.unwrap_or(Value::Null))
}

/// A policy whose only rule permits every call, whatever its score: a call it does not
/// decide was refused before any rule ran.
const PERMIT_ALL: &str =
    "rules:\n- id: permit-all\n  when: \"*.*\"\n  then: PERMIT\n  exempt_from_thresholds: true\n";

backend_tests! {
    async fn manifest_versions_never_change_and_their_hashes_are_in_the_chain(s: TestServer) {
        let (id, _) = new_agent(&s, "versioned").await;
        let path = format!("/v1/admin/agents/{id}/manifests");
        let (st, v1) = s
            .admin()
            .post(&path, json!({"manifest": manifest(&["detections:read"], 60), "reason": "first", "version": 1}))
            .await;
        assert_eq!(st, 201, "{}: {v1}", s.backend);
        assert_eq!(v1["version"], 1);
        // The hash is SHA-256 of the canonical JSON, however the manifest was written.
        let m: Manifest = serde_json::from_value(v1["manifest"].clone()).unwrap();
        assert_eq!(v1["hash"].as_str(), Some(m.hash().unwrap().as_str()));

        // Republishing version 1 (with other content) is refused; version 1 is as it was.
        let (st, b) = s
            .admin()
            .post(&path, json!({"manifest": manifest(&["*"], 600), "reason": "sneaky", "version": 1}))
            .await;
        assert_eq!((st, b["error"]["code"].as_str()), (409, Some("conflict")), "{b}");
        let (_, again) = s.admin().get(&format!("{path}/1")).await;
        assert_eq!(again["manifest"], v1["manifest"]);
        assert_eq!(again["hash"], v1["hash"]);

        let (st, v2) = s
            .admin()
            .post(&path, json!({"manifest": manifest(&["detections:read", "hosts:*"], 120), "reason": "contains hosts now"}))
            .await;
        assert_eq!((st, v2["version"].as_i64()), (201, Some(2)), "{v2}");

        // The diff of any two versions, both ways.
        let (st, d) = s.admin().get(&format!("{path}/diff?from=1&to=2")).await;
        assert_eq!(st, 200, "{d}");
        assert_eq!(d["added_operations"], json!([{"connector": "crowdstrike", "operation": "hosts:*"}]));
        assert_eq!(d["rate"], json!({"from": 60, "to": 120}));
        let (_, back) = s.admin().get(&format!("{path}/diff?from=2&to=1")).await;
        assert_eq!(back["removed_operations"], d["added_operations"]);

        // Rollback is a new version equal to the old one, with its reason.
        let (st, v3) = s
            .admin()
            .post(&format!("{path}/1/rollback"), json!({"reason": "hosts:* was too wide"}))
            .await;
        assert_eq!(st, 201, "{v3}");
        assert_eq!((v3["version"].as_i64(), v3["rollback_of"].as_i64()), (Some(3), Some(1)));
        assert_eq!((&v3["manifest"], &v3["hash"]), (&v1["manifest"], &v1["hash"]));
        let (_, list) = s.admin().get(&path).await;
        let versions: Vec<i64> = list["versions"].as_array().unwrap().iter().map(|v| v["version"].as_i64().unwrap()).collect();
        assert_eq!(versions, vec![3, 2, 1], "newest first, nothing lost");

        // Each version is an audit record carrying its hash.
        let mut published = s.audit_of("agent.manifest_published").await;
        published.retain(|r| r["fields"]["agent_id"] == id.as_str());
        let hashes: Vec<&str> = published.iter().map(|r| r["fields"]["manifest_sha256"].as_str().unwrap()).collect();
        assert_eq!(hashes, vec![v1["hash"].as_str().unwrap(), v2["hash"].as_str().unwrap(), v3["hash"].as_str().unwrap()]);
        assert_eq!(published[2]["fields"]["rollback_of"], 1);
        assert_eq!(published[1]["fields"]["reason"], "contains hosts now");
    }

    async fn a_bad_manifest_says_what_to_fix_and_writes_nothing(s: TestServer) {
        let (id, _) = new_agent(&s, "refused").await;
        let path = format!("/v1/admin/agents/{id}/manifests");
        for (m, reason, wants) in [
            (json!({"connectors": {"crowdstrike": ["hosts:nuke"]}, "rate_per_minute": 60, "environments": ["prod"], "data_classes": [], "purpose": "x", "model": ""}), "r", "hosts:nuke"),
            (json!({"connectors": {"nosuch": ["*"]}, "rate_per_minute": 60, "environments": ["prod"], "data_classes": [], "purpose": "x", "model": ""}), "r", "nosuch"),
            (json!({"connectors": {}, "rate_per_minute": 0, "environments": ["prod"], "data_classes": [], "purpose": "x", "model": ""}), "r", "rate_per_minute"),
            (json!({"connectors": {}, "rate_per_minute": 60, "environments": ["moon"], "data_classes": [], "purpose": "x", "model": ""}), "r", "environments"),
            (manifest(&["detections:read"], 60), "  ", "reason"),
        ] {
            let (st, b) = s.admin().post(&path, json!({"manifest": m, "reason": reason})).await;
            assert_eq!(st, 400, "{}: {b}", s.backend);
            assert!(error_message(&b).contains(wants), "{wants}: {b}");
        }
        let (_, list) = s.admin().get(&path).await;
        assert_eq!(list["versions"], json!([]));
        let published = s.audit_of("agent.manifest_published").await;
        assert!(published.iter().all(|r| r["fields"]["agent_id"] != id.as_str()));
        // A version that does not exist, and one that is not a number.
        assert_eq!(s.admin().get(&format!("{path}/7")).await.0, 404);
        assert_eq!(s.admin().get(&format!("{path}/seven")).await.0, 400);
        assert_eq!(s.admin().get(&format!("{path}/diff?from=1&to=2")).await.0, 404);
    }

    async fn auditors_read_manifests_and_only_admins_change_them_within_their_org(s: TestServer) {
        let (id, _) = new_agent(&s, "audited").await;
        let path = format!("/v1/admin/agents/{id}/manifests");
        let (st, _) = s.admin().post(&path, json!({"manifest": manifest(&["detections:read"], 60), "reason": "first"})).await;
        assert_eq!(st, 201);
        let auditor = s.user_token("board-auditor@demo.arx.local", Role::Auditor).await;
        let (st, list) = s.client(&auditor).get(&path).await;
        assert_eq!((st, list["versions"].as_array().map(Vec::len)), (200, Some(1)), "{list}");
        let (st, _) = s.client(&auditor).post(&path, json!({"manifest": manifest(&["*"], 60), "reason": "mine"})).await;
        assert_eq!(st, 403);
        let (st, _) = s.client(&auditor).post(&format!("{path}/1/rollback"), json!({"reason": "mine"})).await;
        assert_eq!(st, 403);
        // Another org's admin sees no such agent, and cannot publish for it.
        let other = s.other_org_admin().await;
        assert_eq!(s.client(&other).get(&path).await.0, 404);
        let (st, _) = s.client(&other).post(&path, json!({"manifest": manifest(&["*"], 60), "reason": "theirs"})).await;
        assert_eq!(st, 404);
        let (_, list) = s.admin().get(&path).await;
        assert_eq!(list["versions"].as_array().map(Vec::len), Some(1));
    }

    async fn the_manifest_gate_denies_what_is_not_declared_and_drift_acts_by_severity(s: TestServer) {
        let (id, key) = new_agent(&s, "narrow").await;
        // Enforce (the default): no manifest, no call.
        let (st, b) = s.execute(&key, detections()).await;
        assert_eq!((st, b["error"]["code"].as_str()), (403, Some("permission_denied")), "{}: {b}", s.backend);
        assert!(error_message(&b).contains("no manifest"), "{b}");

        // Every call counts towards the rate, refused ones too: 5 a minute leaves room for
        // the 4 below and the 5th, and the 6th is above it.
        publish(&s, &id, manifest(&["detections:read"], 5)).await;
        let out = s.execute_permitted(&key, detections()).await;
        assert_eq!(out["verdict"], "PERMIT");

        // An undeclared read: denied at the gate, before any rule; a low alert, no action.
        let read = json!({"connector": "crowdstrike", "operation": "hosts:read", "params": {}});
        for _ in 0..2 {
            let (st, b) = s.execute(&key, read.clone()).await;
            assert_eq!(st, 403, "{b}");
            assert!(error_message(&b).contains("undeclared read crowdstrike:hosts:read"), "{b}");
        }
        let intercepts = s.audit_of("execute.intercept").await;
        let gated = intercepts.last().unwrap();
        assert_eq!(gated["fields"]["policy_id"], "gate:manifest");
        // The risk's frequency input reads the manifest's rate.
        assert_eq!(gated["fields"]["risk"]["declared_rate"], 5);
        assert_eq!(gated["fields"]["manifest_version"], 1);
        let low = alerts(&s, &format!("agent={id}&severity=low")).await;
        assert_eq!(low.len(), 1, "a repeat counts on the open alert: {low:?}");
        assert_eq!((low[0]["action"].as_str(), low[0]["occurrences"].as_i64()), (Some("alert"), Some(2)));
        assert_eq!(low[0]["signal"]["kind"], "undeclared_operation");
        assert_eq!(status_of(&s, &id).await, "active");
        assert_eq!(s.audit_of("drift.detected").await.len(), 1, "one record per new alert");

        // Above the declared rate (5 a minute): medium, throttle; beyond it, 429.
        s.execute_permitted(&key, detections()).await;
        let (st, b) = s.execute(&key, detections()).await;
        assert_eq!(st, 200, "the call that drifts still runs: {b}");
        assert_eq!(status_of(&s, &id).await, "throttled");
        let r = s.http.post(s.url("/v1/sdk/execute")).bearer_auth(&key)
            .json(&json!({"connector": "crowdstrike", "operation": "detections:read", "params": {}, "wait_seconds": 0}))
            .send().await.unwrap();
        assert_eq!(r.status(), 429);
        assert!(r.headers().get("retry-after").is_some());
        let b: Value = r.json().await.unwrap();
        assert_eq!(b["error"]["code"], "rate_limited", "{b}");
        assert_eq!(alerts(&s, &format!("agent={id}&severity=medium")).await.len(), 1);
        // Only an admin makes it active again, with a reason.
        let (st, _) = s.admin().post(&format!("/v1/admin/agents/{id}/reactivate"), json!({"reason": "rate raised in v2"})).await;
        assert_eq!(st, 204);
        publish(&s, &id, manifest(&["detections:read"], 100)).await;

        // An undeclared write: high, suspend; every later call denied at risk 100.
        let (st, b) = s.execute(&key, contain("h-1")).await;
        assert_eq!(st, 403, "{b}");
        assert_eq!(status_of(&s, &id).await, "suspended");
        let (st, b) = s.execute(&key, detections()).await;
        assert_eq!((st, b["error"]["risk_score"].as_i64()), (403, Some(100)), "{b}");
        let last = s.audit_of("execute.intercept").await.pop().unwrap();
        assert_eq!(last["fields"]["policy_id"], "gate:agent_status");
        let high = alerts(&s, &format!("agent={id}&severity=high")).await;
        assert_eq!((high.len(), high[0]["action"].as_str()), (1, Some("suspend")), "{high:?}");
        assert_eq!(high[0]["manifest_version"], 2);
        let changes = s.audit_of("agent.suspended").await;
        assert!(changes.last().unwrap()["fields"]["reason"].as_str().unwrap().contains("undeclared write"));

        // People deal with alerts: acknowledge, resolve, never reopen by hand; an auditor
        // reads them and changes nothing.
        let alert = high[0]["id"].as_str().unwrap();
        let auditor = s.user_token("board-auditor@demo.arx.local", Role::Auditor).await;
        assert_eq!(s.client(&auditor).get(&format!("/v1/admin/drift?agent={id}")).await.0, 200);
        assert_eq!(s.client(&auditor).post(&format!("/v1/admin/drift/{alert}/acknowledge"), json!({})).await.0, 403);
        let (st, a) = s.admin().post(&format!("/v1/admin/drift/{alert}/acknowledge"), json!({"note": "looking"})).await;
        assert_eq!((st, a["status"].as_str(), a["updated_by"].as_str()), (200, Some("acknowledged"), Some("admin@demo.arx.local")), "{a}");
        assert_eq!(s.admin().post(&format!("/v1/admin/drift/{alert}/acknowledge"), json!({})).await.0, 409);
        let (st, a) = s.admin().post(&format!("/v1/admin/drift/{alert}/resolve"), Value::Null).await;
        assert_eq!((st, a["status"].as_str()), (200, Some("resolved")), "{a}");
        assert_eq!(status_of(&s, &id).await, "suspended", "resolving an alert reactivates nothing");
        assert_eq!(s.audit_of("drift.resolved").await.len(), 1);
        // Another org sees none of it.
        let other = s.other_org_admin().await;
        let (_, theirs) = s.client(&other).get("/v1/admin/drift").await;
        assert_eq!(theirs["alerts"], json!([]));
        assert_eq!(s.client(&other).post(&format!("/v1/admin/drift/{alert}/resolve"), json!({})).await.0, 404);
        // The connector graph: what is declared, and what it tried without declaring it.
        let (st, g) = s.admin().get(&format!("/v1/admin/agents/{id}/graph")).await;
        assert_eq!(st, 200, "{g}");
        assert_eq!(g["manifest_version"], 2);
        let ops: Vec<(String, bool, i64, bool)> = g["connectors"][0]["operations"].as_array().unwrap().iter()
            .map(|o| (o["id"].as_str().unwrap().to_string(), o["declared"].as_bool().unwrap(), o["attempts"].as_i64().unwrap(), o["writes"].as_bool().unwrap()))
            .collect();
        assert_eq!(g["connectors"][0]["name"], "crowdstrike");
        assert_eq!(ops, vec![
            ("detections:read".to_string(), true, 0, false),
            ("hosts:read".to_string(), false, 2, false),
            ("hosts:write".to_string(), false, 1, true),
        ]);
        assert_eq!(s.client(&other).get(&format!("/v1/admin/agents/{id}/graph")).await.0, 404);
        // Filters that do not parse say so.
        let (st, b) = s.admin().get("/v1/admin/drift?severity=severe").await;
        assert_eq!(st, 400, "{b}");
        assert!(error_message(&b).contains("severity"), "{b}");
    }

    async fn an_org_that_observes_records_drift_without_acting(s: TestServer) {
        let yaml = "settings:\n  manifests: observe\nrules: []\n";
        assert_eq!(s.put_policy(&s.admin_token(), yaml).await, 200);
        let (id, key) = new_agent(&s, "observed").await;
        let out = s.execute_permitted(&key, detections()).await;
        assert_eq!(out["verdict"], "PERMIT");
        let found = alerts(&s, &format!("agent={id}")).await;
        assert!(!found.is_empty());
        assert!(found.iter().all(|a| a["action"] == "alert" && a["manifest_version"].is_null()), "{found:?}");
        assert_eq!(status_of(&s, &id).await, "active");
    }
}

backend_tests! {
    async fn the_gate_denies_an_undeclared_connector_before_any_rule_and_suspends(s: TestServer) {
        // A rule permits everything: the gate must refuse before it is consulted.
        assert_eq!(s.put_policy(&s.admin_token(), PERMIT_ALL).await, 200, "{}", s.backend);
        let (id, key) = new_agent(&s, "edr-only").await;
        let classes = ["security_telemetry", "identity", "pii"];
        publish(&s, &id, declared(json!({"crowdstrike": ["detections:read"], "okta": ["users:read"]}), 60, &classes)).await;
        // Version 2 drops Okta; it is the version in force.
        publish(&s, &id, declared(json!({"crowdstrike": ["detections:read"]}), 60, &classes)).await;
        let okta_requests = || s.sim().requests().iter().filter(|r| r.connector == "okta").count();
        let before = okta_requests();

        let (st, b) = s.execute(&key, crate::harness::okta_users()).await;
        assert_eq!((st, b["error"]["code"].as_str()), (403, Some("permission_denied")), "{}: {b}", s.backend);
        assert_eq!(error_message(&b), "denied by policy: undeclared connector okta (read users:read): not in the agent's manifest (version 2)");
        assert_eq!(okta_requests(), before, "nothing reached Okta");
        // (The same call by an agent that declares Okta does reach it.)
        s.execute_permitted(&s.agent_key("triage-agent"), crate::harness::okta_users()).await;
        assert_eq!(okta_requests(), before + 1);
        // The intercept record: denied by the gate, no rule, the version in force.
        let i = last_intercept(&s, &id).await;
        assert_eq!(i["id"], b["error"]["audit_id"]);
        let f = &i["fields"];
        assert_eq!((f["verdict"].as_str(), f["policy_id"].as_str(), &f["rule_id"]), (Some("DENY"), Some("gate:manifest"), &Value::Null), "{i}");
        assert_eq!(f["manifest_version"], 2);

        // A drift alert with the defaults: an undeclared connector is high, high suspends.
        let a = only_alert(&s, &id).await;
        assert_eq!(a["signal"], json!({"kind": "undeclared_connector", "connector": "okta", "operation": "users:read", "writes": false, "critical": false}));
        assert_eq!((a["severity"].as_str(), a["action"].as_str(), a["status"].as_str()), (Some("high"), Some("suspend"), Some("open")), "{a}");
        assert_eq!((a["manifest_version"].as_i64(), a["occurrences"].as_i64()), (Some(2), Some(1)));
        assert_eq!(a["audit_id"], i["id"], "the alert points at the intercept record");
        let detected = s.audit_of("drift.detected").await.pop().unwrap();
        assert_eq!((detected["fields"]["agent_id"].as_str(), detected["fields"]["severity"].as_str(), detected["fields"]["action"].as_str()),
            (Some(id.as_str()), Some("high"), Some("suspend")), "{detected}");
        assert_eq!(status_of(&s, &id).await, "suspended");
        let suspended = s.audit_of("agent.suspended").await.pop().unwrap();
        assert!(suspended["fields"]["reason"].as_str().unwrap().contains("undeclared connector okta"), "{suspended}");
    }

    async fn the_gate_denies_an_instance_in_an_undeclared_environment_and_suspends(s: TestServer) {
        assert_eq!(s.put_policy(&s.admin_token(), PERMIT_ALL).await, 200, "{}", s.backend);
        // Every Jira operation is declared, in prod only; the demo's Jira is in staging.
        let (id, key) = new_agent(&s, "prod-only").await;
        publish(&s, &id, declared(json!({"jira": ["issues:*"]}), 60, &["tickets", "pii"])).await;

        let search = json!({"connector": "jira", "operation": "issues:read", "params": {"jql": "project = SEC"}});
        let (st, b) = s.execute(&key, search).await;
        assert_eq!((st, b["error"]["code"].as_str()), (403, Some("permission_denied")), "{}: {b}", s.backend);
        assert_eq!(error_message(&b), "denied by policy: undeclared environment staging: not in the agent's manifest (version 1)");
        let i = last_intercept(&s, &id).await;
        let f = &i["fields"];
        assert_eq!((f["verdict"].as_str(), f["policy_id"].as_str(), &f["rule_id"]), (Some("DENY"), Some("gate:manifest"), &Value::Null), "{i}");
        assert_eq!((f["manifest_version"].as_i64(), f["environment"].as_str()), (Some(1), Some("staging")), "{i}");

        // High by default, and high suspends.
        let a = only_alert(&s, &id).await;
        assert_eq!(a["signal"], json!({"kind": "undeclared_environment", "environment": "staging"}));
        assert_eq!((a["severity"].as_str(), a["action"].as_str()), (Some("high"), Some("suspend")), "{a}");
        assert_eq!((a["manifest_version"].as_i64(), &a["audit_id"]), (Some(1), &i["id"]));
        assert_eq!(status_of(&s, &id).await, "suspended");
    }

    async fn an_active_grant_lifts_the_gate_for_what_it_covers_and_only_while_active(s: TestServer) {
        let (id, key) = new_agent(&s, "grantee").await;
        publish(&s, &id, declared(json!({"crowdstrike": ["detections:read"]}), 60, &["security_telemetry", "asset_inventory"])).await;
        let hosts = json!({"connector": "crowdstrike", "operation": "hosts:read", "params": {}});

        // Without a grant: denied at the gate (an undeclared read: a low alert, no action).
        let (st, b) = s.execute(&key, hosts.clone()).await;
        assert_eq!(st, 403, "{}: {b}", s.backend);
        assert_eq!(last_intercept(&s, &id).await["fields"]["policy_id"], "gate:manifest");
        assert_eq!(only_alert(&s, &id).await["occurrences"], 1);

        // A reviewer grants hosts:read for 15 minutes.
        let (st, g) = s.client(&key)
            .post("/v1/sdk/grants", json!({"connector": "crowdstrike", "operations": ["hosts:read"], "ttl": "15m", "reason": "inventory sweep", "wait_seconds": 0}))
            .await;
        assert_eq!(st, 202, "{g}");
        let approval = g["approval_id"].as_str().unwrap().to_string();
        let (st, d) = s.admin().approve(&approval, Some("for the sweep")).await;
        assert_eq!((st, d["approval"]["status"].as_str()), (200, Some("executed")), "{d}");

        // Covered: past the gate to the policy (a low read, permitted by default), and no drift.
        let out = s.execute_permitted(&key, hosts.clone()).await;
        assert_eq!(out["verdict"], "PERMIT");
        let f = last_intercept(&s, &id).await["fields"].clone();
        assert_eq!((f["policy_id"].as_str(), f["manifest_version"].as_i64()), (Some("default:low"), Some(1)), "{f}");
        assert_eq!(only_alert(&s, &id).await["occurrences"], 1, "a granted call is not drift");
        assert_eq!(status_of(&s, &id).await, "active");

        // Revoked: the gate is back.
        let grant = grant_approved_by(&s, &approval).await["id"].as_str().unwrap().to_string();
        let (st, r) = s.admin().post(&format!("/v1/admin/grants/{grant}/revoke"), json!({"reason": "sweep done"})).await;
        assert_eq!((st, r["grant"]["status"].as_str()), (200, Some("revoked")), "{r}");
        let (st, b) = s.execute(&key, hosts).await;
        assert_eq!(st, 403, "{b}");
        assert_eq!(last_intercept(&s, &id).await["fields"]["policy_id"], "gate:manifest");
        assert_eq!(only_alert(&s, &id).await["occurrences"], 2);
    }

    async fn an_undeclared_data_class_is_medium_and_throttles_to_the_declared_rate(s: TestServer) {
        // hosts:read is declared, but it reads asset_inventory, which is not.
        let (id, key) = new_agent(&s, "classy").await;
        publish(&s, &id, declared(json!({"crowdstrike": ["detections:read", "hosts:read"]}), 2, &["security_telemetry"])).await;
        let hosts = json!({"connector": "crowdstrike", "operation": "hosts:read", "params": {}});

        // Data-class drift does not gate: the call runs, and the policy decided it.
        let out = s.execute_permitted(&key, hosts).await;
        assert_eq!(out["verdict"], "PERMIT");
        assert_eq!(last_intercept(&s, &id).await["fields"]["policy_id"], "default:low");
        let a = only_alert(&s, &id).await;
        assert_eq!(a["signal"], json!({"kind": "undeclared_data_class", "class": "asset_inventory"}));
        assert_eq!((a["severity"].as_str(), a["action"].as_str(), a["manifest_version"].as_i64()), (Some("medium"), Some("throttle"), Some(1)), "{}: {a}", s.backend);
        assert_eq!(status_of(&s, &id).await, "throttled");

        // Throttled to its declared 2 a minute: the 2nd call runs, the 3rd is a 429.
        s.execute_permitted(&key, detections()).await;
        let (st, retry, b) = execute_raw(&s, &key, detections()).await;
        assert_eq!((st, retry.as_deref(), b["error"]["code"].as_str()), (429, Some("60"), Some("rate_limited")), "{b}");
        assert_eq!(status_of(&s, &id).await, "throttled", "no auto-resume");
    }

    async fn a_rate_above_three_times_the_declared_one_is_high_and_suspends(s: TestServer) {
        // detections:read is permitted by a rule, so what refuses a call later is the gate.
        let yaml = "rules:\n- id: detections-open\n  when: crowdstrike.detections:read\n  then: PERMIT\n  exempt_from_thresholds: true\n";
        assert_eq!(s.put_policy(&s.admin_token(), yaml).await, 200, "{}", s.backend);
        let (id, key) = new_agent(&s, "busy").await;
        publish(&s, &id, declared(json!({"crowdstrike": ["detections:read"]}), 10, &["security_telemetry"])).await;
        for _ in 0..4 {
            s.execute_permitted(&key, detections()).await;
        }
        assert!(alerts(&s, &format!("agent={id}")).await.is_empty(), "4 calls of 10 a minute");

        // Version 2 declares one call a minute; the 5th call of the minute is above 3x.
        publish(&s, &id, declared(json!({"crowdstrike": ["detections:read"]}), 1, &["security_telemetry"])).await;
        let out = s.execute_permitted(&key, detections()).await;
        assert_eq!(out["verdict"], "PERMIT", "rate drift does not gate the call that raises it");
        let a = only_alert(&s, &id).await;
        assert_eq!(a["signal"], json!({"kind": "rate_above_declared", "observed": 5, "declared": 1}));
        assert_eq!((a["severity"].as_str(), a["action"].as_str(), a["manifest_version"].as_i64()), (Some("high"), Some("suspend"), Some(2)), "{a}");
        assert_eq!(status_of(&s, &id).await, "suspended");

        // Every later call: denied at the status gate with risk 100, before the rule.
        let (st, b) = s.execute(&key, detections()).await;
        assert_eq!((st, b["error"]["code"].as_str(), b["error"]["risk_score"].as_i64()), (403, Some("permission_denied"), Some(100)), "{b}");
        let i = last_intercept(&s, &id).await;
        let f = &i["fields"];
        assert_eq!((f["policy_id"].as_str(), &f["rule_id"], f["risk"]["score"].as_i64()), (Some("gate:agent_status"), &Value::Null, Some(100)), "{i}");
        assert_eq!(only_alert(&s, &id).await["occurrences"], 1, "a suspended agent's calls raise no drift");
    }

    async fn a_throttled_agent_that_keeps_calling_above_three_times_its_rate_is_suspended(s: TestServer) {
        let yaml = "rules:\n- id: detections-open\n  when: crowdstrike.detections:read\n  then: PERMIT\n  exempt_from_thresholds: true\n";
        assert_eq!(s.put_policy(&s.admin_token(), yaml).await, 200, "{}", s.backend);
        let (id, key) = new_agent(&s, "hammer").await;
        publish(&s, &id, declared(json!({"crowdstrike": ["detections:read"]}), 2, &["security_telemetry"])).await;
        // The 3rd call of the minute is above its 2: medium, throttled (the call runs).
        for _ in 0..3 {
            s.execute_permitted(&key, detections()).await;
        }
        assert_eq!(status_of(&s, &id).await, "throttled", "{}", s.backend);
        // It keeps calling: refused (429), yet each attempt counts. The 4th to 6th are at
        // most 3x its rate; the 7th is above: high, and the agent is suspended.
        for n in 4..=7 {
            let (st, _, b) = execute_raw(&s, &key, detections()).await;
            assert_eq!((st, b["error"]["code"].as_str()), (429, Some("rate_limited")), "call {n}: {b}");
            let expected = if n < 7 { "throttled" } else { "suspended" };
            assert_eq!(status_of(&s, &id).await, expected, "{}: after call {n}", s.backend);
        }
        let a = only_alert(&s, &id).await;
        assert_eq!(a["signal"]["kind"], "rate_above_declared", "{a}");
        assert_eq!(a["occurrences"], 5, "{}: the run call and four refused ones: {a}", s.backend);
        let raised = s.audit_of("drift.detected").await;
        let last = raised.iter().rev().find(|r| r["fields"]["agent_id"] == id.as_str()).unwrap();
        let refusal = s.audit_of("execute.rejected").await.pop().unwrap();
        assert_eq!(refusal["fields"]["code"], "rate_limited");
        let suspended = s.audit_of("agent.suspended").await.pop().unwrap();
        assert_eq!(suspended["fields"]["agent_id"], id.as_str(), "{suspended}");
        assert!(last["fields"]["audit_id"].is_string());
        // From here on: denied at the status gate with risk 100.
        let (st, b) = s.execute(&key, detections()).await;
        assert_eq!((st, b["error"]["risk_score"].as_i64()), (403, Some(100)), "{b}");
    }
}

backend_tests! {
    async fn agents_from_before_manifests_get_generated_ones_once_and_are_not_locked_out(s: TestServer) {
        use arx_core::audit::{Actor, AuditDraft};
        use arx_core::ids::{AgentId, OrgId, RecordId};
        use arx_core::model::{Agent, AgentStatus, Org};
        use arx_core::store::prelude::*;
        // An org as an older ARX left it: agents, calls in the chain, no manifests and no
        // `registry.enabled` record (written straight to the store, as that version did).
        let store = &s.running.store;
        let engine = &s.running.engine;
        let now = engine.now_ms();
        let org = Org { id: OrgId::new(), slug: "legacy".into(), name: "legacy".into(), policy_version: 0, created_ms: now };
        store.create_org(&org, "v1:unused").await.unwrap();
        let agent = |name: &str| Agent {
            id: AgentId::new(), org_id: org.id, name: name.into(), description: String::new(),
            owner: "o@example.com".into(), labels: Default::default(), status: AgentStatus::Active,
            declared_rate: 30, created_ms: now, manifest_version: None,
        };
        let (busy, idle) = (agent("busy"), agent("idle"));
        store.create_agent(&busy).await.unwrap();
        store.create_agent(&idle).await.unwrap();
        let call = |connector: &str, operation: &str, env: &str, ago_days: i64| AuditDraft {
            org_id: org.id, id: RecordId::new(), ts_ms: now - ago_days * 86_400_000,
            kind: "execute.intercept".into(), actor: Actor::agent(busy.id, "busy"),
            fields: json!({"agent_id": busy.id.to_string(), "agent": "busy", "connector": connector,
                "operation": operation, "tier": "low", "environment": env,
                "risk": {"score": 5, "operation": 5, "connector": 0, "frequency": 0, "target": 0, "calls_last_60s": 1, "declared_rate": 30},
                "verdict": "PERMIT", "policy_id": "default:low"}), guard_epoch: None,
        };
        store.append_audit(vec![
            call("okta", "users:read", "prod", 2),
            call("okta", "users:read", "prod", 1),
            call("crowdstrike", "detections:read", "staging", 3),
            // Older than 30 days: not part of what it does now.
            call("crowdstrike", "hosts:write", "prod", 45),
        ]).await.unwrap();

        let generated = engine.system().enable_registry(org.id).await.unwrap();
        assert_eq!(generated, vec!["busy".to_string()], "{}", s.backend);
        let v = store.current_manifest(org.id, busy.id).await.unwrap().unwrap();
        assert!(v.generated && v.version == 1 && v.created_by == "arx");
        assert_eq!(serde_json::to_value(&v.manifest.connectors).unwrap(),
            json!({"crowdstrike": ["detections:read"], "okta": ["users:read"]}));
        assert_eq!(v.manifest.environments, vec!["prod", "staging"]);
        assert_eq!(v.manifest.rate_per_minute, 30);
        assert!(v.manifest.data_classes.contains(&"identity".to_string()), "{:?}", v.manifest.data_classes);
        assert!(store.current_manifest(org.id, idle.id).await.unwrap().is_none(), "no calls, nothing to generate");

        // Once: the record says it ran, and later calls never become a manifest by themselves.
        assert!(engine.system().enable_registry(org.id).await.unwrap().is_empty());
        assert_eq!(store.manifest_versions(org.id, busy.id).await.unwrap().len(), 1);
        let enabled = store.audit_in_range(org.id, "registry.enabled", (0, engine.now_ms() + 1), None, 10).await.unwrap();
        assert_eq!(enabled.len(), 1);
        assert_eq!(enabled[0].fields["generated"], json!(["busy"]));
        // A new org has the record from its first day.
        let other = engine.system().create_org("fresh", "fresh").await.unwrap();
        assert_eq!(store.audit_count_in_range(other.id, "registry.enabled", (0, engine.now_ms() + 1)).await.unwrap(), 1);
    }

    async fn manifest_versions_are_immutable_in_the_database(s: TestServer) {
        let (id, _) = new_agent(&s, "sealed").await;
        publish(&s, &id, manifest(&["detections:read"], 60)).await;
        let pool = s.running.store.pool();
        for sql in ["UPDATE manifest_versions SET manifest = '{}'", "DELETE FROM manifest_versions"] {
            let e = sqlx::query(sql).execute(pool).await.unwrap_err();
            assert!(e.to_string().contains("immutable"), "{}: {sql} went through", s.backend);
        }
    }
}

backend_tests! {
    async fn decommissioning_revokes_everything_at_once_seals_the_record_and_keeps_lineage(s: TestServer) {
        let (old, key) = new_agent(&s, "triage-v1").await;
        publish(&s, &old, crate::harness::open_manifest(&["crowdstrike", "okta"])["manifest"].clone()).await;
        let (new, _) = new_agent(&s, "triage-v2").await;
        s.execute_permitted(&key, detections()).await;
        // A call waiting for a reviewer (containing a host escalates by default).
        let (st, pending) = s.execute(&key, contain("h-9")).await;
        assert_eq!(st, 202, "{}: {pending}", s.backend);
        let approval = pending["approval_id"].as_str().unwrap().to_string();
        let (_, second) = s.admin().post(&format!("/v1/admin/agents/{old}/keys"), json!({})).await;
        let key2 = second["api_key"].as_str().unwrap().to_string();

        // Refusals that say what to fix, and change nothing.
        for (body, field) in [
            (json!({"reason": " ", "retention_class": "standard"}), "reason"),
            (json!({"reason": "r", "retention_class": "Forever!"}), "retention_class"),
            (json!({"reason": "r", "retention_class": "standard", "replaced_by": old}), "replaced_by"),
        ] {
            let (st, b) = s.admin().post(&format!("/v1/admin/agents/{old}/decommission"), body).await;
            assert_eq!(st, 400, "{b}");
            assert_eq!(b["error"]["field"], field, "{b}");
        }
        let reviewer = s.user_token("second-reviewer@demo.arx.local", Role::Reviewer).await;
        let (st, _) = s.client(&reviewer).post(&format!("/v1/admin/agents/{old}/decommission"), json!({"reason": "r", "retention_class": "standard"})).await;
        assert_eq!(st, 403);
        assert_eq!(status_of(&s, &old).await, "active");

        let (st, d) = s
            .admin()
            .post(&format!("/v1/admin/agents/{old}/decommission"),
                json!({"reason": "replaced by triage-v2", "retention_class": "legal_hold", "replaced_by": new}))
            .await;
        assert_eq!(st, 200, "{d}");
        assert_eq!(d["revoked_keys"].as_array().unwrap().len(), 2, "{d}");
        assert_eq!(d["cancelled_approvals"], json!([approval]));
        assert_eq!(status_of(&s, &old).await, "decommissioned");

        // Its keys answer 401 with the reason; the waiting call's request says why.
        for k in [&key, &key2] {
            let (st, b) = s.execute(k, detections()).await;
            assert_eq!(st, 401, "{b}");
            assert!(error_message(&b).contains("decommissioned: replaced by triage-v2"), "{b}");
        }
        let (_, a) = s.admin().get(&format!("/v1/admin/approvals/{approval}")).await;
        assert_eq!(a["approval"]["status"].as_str().or(a["status"].as_str()), Some("cancelled"), "{a}");
        assert!(a.to_string().contains("decommissioned: replaced by triage-v2"), "{a}");

        // The seal names the record span; recounting the chain gives the same.
        let seal = s.audit_of("agent.sealed").await.pop().unwrap();
        let f = &seal["fields"];
        assert_eq!((f["agent_id"].as_str(), f["retention_class"].as_str()), (Some(old.as_str()), Some("legal_hold")));
        assert_eq!(f["manifest_version"], 1);
        assert_eq!(f["keys"].as_array().unwrap().len(), 2);
        let mine: Vec<Value> = s.audit().await.into_iter()
            .filter(|r| r["seq"].as_i64() < seal["seq"].as_i64())
            .filter(|r| r["actor"]["id"] == old.as_str() || r["fields"]["agent_id"] == old.as_str())
            .collect();
        assert_eq!(f["records"]["count"].as_u64(), Some(mine.len() as u64));
        assert_eq!(f["records"]["first_seq"], mine[0]["seq"]);
        assert_eq!(f["records"]["last_seq"], mine[mine.len() - 1]["seq"]);
        assert_eq!(f["records"]["last_hash"], mine[mine.len() - 1]["hash"]);

        // Never reactivated, never twice; its record stays readable.
        let (st, _) = s.admin().post(&format!("/v1/admin/agents/{old}/reactivate"), json!({"reason": "oops"})).await;
        assert_eq!(st, 409);
        let (st, _) = s.admin().post(&format!("/v1/admin/agents/{old}/decommission"), json!({"reason": "r", "retention_class": "standard"})).await;
        assert_eq!(st, 409);
        assert_eq!(s.admin().get(&format!("/v1/admin/agents/{old}/manifests")).await.0, 200);

        // Lineage: from the live agent back to the one it replaced, with the reason.
        let (st, l) = s.admin().get(&format!("/v1/admin/agents/{new}/lineage")).await;
        assert_eq!(st, 200, "{l}");
        assert_eq!(l["predecessors"][0]["agent"], "triage-v1");
        assert_eq!(l["predecessors"][0]["reason"], "replaced by triage-v2");
        let (_, own) = s.admin().get(&format!("/v1/admin/agents/{old}/lineage")).await;
        assert_eq!(own["retirement"]["retention_class"], "legal_hold");
        // Another org sees nothing of it.
        let other = s.other_org_admin().await;
        assert_eq!(s.client(&other).get(&format!("/v1/admin/agents/{new}/lineage")).await.0, 404);
    }

    async fn decommissioning_ends_grants_tells_waiting_agents_and_lineage_walks_three_generations(s: TestServer) {
        let s = std::sync::Arc::new(s);
        let (a, key) = new_agent(&s, "gen-a").await;
        publish(&s, &a, crate::harness::open_manifest(&["crowdstrike", "okta"])["manifest"].clone()).await;
        let (b, _) = new_agent(&s, "gen-b").await;
        let (c, _) = new_agent(&s, "gen-c").await;

        // Two calls wait for a reviewer: one long-polls its approval, one waits in execute.
        let polled = s.escalate(&key, contain("h-7")).await;
        let poller = {
            let (s, key, polled) = (s.clone(), key.clone(), polled.clone());
            tokio::spawn(async move { s.client(&key).poll(&polled, 20).await })
        };
        let executor = {
            let (s, key) = (s.clone(), key.clone());
            tokio::spawn(async move {
                let mut body = contain("h-8");
                body["wait_seconds"] = json!(20);
                s.execute(&key, body).await
            })
        };
        let waiting = loop {
            let (_, q) = s.admin().get("/v1/admin/approvals?status=pending").await;
            let found = q["approvals"].as_array().unwrap().iter()
                .find(|p| p["agent_id"] == a.as_str() && p["id"] != polled.as_str())
                .map(|p| p["id"].as_str().unwrap().to_string());
            if let Some(id) = found {
                break id;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        };
        // And an active grant (Okta suspensions, 15 minutes).
        let (st, g) = s.client(&key)
            .post("/v1/sdk/grants", json!({"connector": "okta", "operations": ["users:suspend"], "ttl": "15m", "reason": "lock out the phished user", "wait_seconds": 0}))
            .await;
        assert_eq!(st, 202, "{}: {g}", s.backend);
        let grant_approval = g["approval_id"].as_str().unwrap().to_string();
        let (st, d) = s.admin().approve(&grant_approval, None).await;
        assert_eq!((st, d["approval"]["status"].as_str()), (200, Some("executed")), "{d}");
        assert_eq!(grant_approved_by(&s, &grant_approval).await["status"], "active");

        // A is replaced by B.
        let (st, d) = s.admin()
            .post(&format!("/v1/admin/agents/{a}/decommission"), json!({"reason": "replaced by gen-b", "retention_class": "standard", "replaced_by": b}))
            .await;
        assert_eq!(st, 200, "{d}");
        assert_eq!(d["ended_grants"], 1, "{d}");
        let mut cancelled: Vec<String> = d["cancelled_approvals"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_string()).collect();
        cancelled.sort();
        let mut expected = vec![polled.clone(), waiting.clone()];
        expected.sort();
        assert_eq!(cancelled, expected);

        // Both waiting calls are told, at once, that the request was cancelled and why.
        for (waiter, id) in [(poller, &polled), (executor, &waiting)] {
            let (st, out) = waiter.await.unwrap();
            assert_eq!((st, out["error"]["code"].as_str(), out["error"]["approval_id"].as_str()), (409, Some("approval_cancelled"), Some(id.as_str())), "{out}");
            assert_eq!(error_message(&out), "the approval request was cancelled: the agent was decommissioned: replaced by gen-b");
        }
        assert_eq!(containments(&s), 0, "neither call ran");
        // The grant is over, with the reason.
        let grant = grant_approved_by(&s, &grant_approval).await;
        assert_eq!((grant["status"].as_str(), grant["ended_reason"].as_str()), (Some("revoked"), Some("the agent was decommissioned: replaced by gen-b")), "{grant}");
        assert!(grant["ended_ms"].is_i64(), "{grant}");

        // B is replaced by C: C's lineage walks back to B, then A, each with its reason.
        let (st, _) = s.admin()
            .post(&format!("/v1/admin/agents/{b}/decommission"), json!({"reason": "replaced by gen-c", "retention_class": "standard", "replaced_by": c}))
            .await;
        assert_eq!(st, 200);
        let (st, l) = s.admin().get(&format!("/v1/admin/agents/{c}/lineage")).await;
        assert_eq!(st, 200, "{l}");
        assert_eq!((l["agent"]["name"].as_str(), &l["retirement"]), (Some("gen-c"), &Value::Null), "{l}");
        let walked: Vec<(&str, &str, &str)> = l["predecessors"].as_array().unwrap().iter()
            .map(|p| (p["agent"].as_str().unwrap(), p["reason"].as_str().unwrap(), p["replaced_by"].as_str().unwrap()))
            .collect();
        assert_eq!(walked, vec![("gen-b", "replaced by gen-c", c.as_str()), ("gen-a", "replaced by gen-b", b.as_str())]);
        // From the middle: its own retirement, and one predecessor.
        let (_, mid) = s.admin().get(&format!("/v1/admin/agents/{b}/lineage")).await;
        assert_eq!(mid["retirement"]["reason"], "replaced by gen-c");
        assert_eq!(texts(&mid["predecessors"], "agent"), vec!["gen-a"]);
    }
}

backend_tests! {
    async fn label_selectors_filter_and_group_the_fleet_and_bad_ones_say_where(s: TestServer) {
        let names = |b: &Value| -> Vec<String> {
            let mut n: Vec<String> = b["agents"].as_array().unwrap().iter().map(|a| a["name"].as_str().unwrap().to_string()).collect();
            n.sort();
            n
        };
        let (st, b) = s.admin().get("/v1/admin/agents?selector=team%20in%20(soc,ir)").await;
        assert_eq!(st, 200, "{}: {b}", s.backend);
        assert_eq!(names(&b), vec!["remediation-agent", "triage-agent"]);
        let (_, b) = s.admin().get("/v1/admin/agents?selector=env:prod,team!=soc").await;
        assert_eq!(names(&b), vec!["enrichment-agent", "remediation-agent"]);
        let (_, b) = s.admin().get("/v1/admin/agents?selector=!team").await;
        assert_eq!(names(&b), Vec::<String>::new());
        let (_, b) = s.admin().get("/v1/admin/agents?group_by=env").await;
        assert_eq!(b["groups"], json!([{"value": "prod", "count": 3}]));
        assert_eq!(names(&b).len(), 3);

        // Pages, by name.
        let (_, p1) = s.admin().get("/v1/admin/agents?limit=2").await;
        assert_eq!((names(&p1), p1["total"].as_u64()), (vec!["enrichment-agent".to_string(), "remediation-agent".to_string()], Some(3)));
        let (_, p2) = s.admin().get("/v1/admin/agents?limit=2&offset=2").await;
        assert_eq!(names(&p2), vec!["triage-agent"]);
        for q in ["limit=0", "limit=501"] {
            let (st, b) = s.admin().get(&format!("/v1/admin/agents?{q}")).await;
            assert_eq!((st, b["error"]["field"].as_str()), (400, Some("limit")), "{q}: {b}");
        }

        // Malformed: a 400 about the selector that points at the position.
        for (q, wants) in [
            ("team%20in%20(soc", "at position 12"),
            ("env==", "at position 5"),
            ("Env=prod", "position 0"),
        ] {
            let (st, b) = s.admin().get(&format!("/v1/admin/agents?selector={q}")).await;
            assert_eq!((st, b["error"]["field"].as_str()), (400, Some("selector")), "{q}: {b}");
            assert!(error_message(&b).contains(wants), "{q}: {b}");
        }
        let (st, b) = s.admin().get("/v1/admin/agents?group_by=a%20b").await;
        assert_eq!((st, b["error"]["field"].as_str()), (400, Some("group_by")), "{b}");
        // Labels on the way in follow the same rules.
        let (st, b) = s.admin().post("/v1/admin/agents", json!({"name": "shouty", "owner": "ir-lead@demo.arx.local", "labels": {"Env": "prod"}})).await;
        assert_eq!((st, b["error"]["field"].as_str()), (400, Some("labels")), "{b}");
        assert!(error_message(&b).contains("use lowercase"), "{b}");
    }
}

backend_tests! {
    async fn policy_rules_match_agents_by_label_selector(s: TestServer) {
        let yaml = "rules:\n- id: ir-reads-nothing\n  when:\n    connectors: [crowdstrike]\n    operations: [\"detections:read\"]\n    selector: \"team in (ir), env=prod\"\n  then: DENY\n";
        assert_eq!(s.put_policy(&s.admin_token(), yaml).await, 200, "{}", s.backend);
        s.execute_permitted(&s.agent_key("triage-agent"), detections()).await;
        let (st, b) = s.execute(&s.agent_key("remediation-agent"), detections()).await;
        assert_eq!(st, 403, "{b}");
        let last = s.audit_of("execute.intercept").await.pop().unwrap();
        assert_eq!(last["fields"]["rule_id"], "ir-reads-nothing");

        // A malformed selector is refused with where it goes wrong; nothing changes.
        let bad = yaml.replace("team in (ir), env=prod", "team in (ir");
        let r = s
            .http
            .put(s.url("/v1/admin/policy?reason=test"))
            .bearer_auth(s.admin_token())
            .body(bad)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400);
        let b: Value = r.json().await.unwrap();
        assert!(error_message(&b).contains("when.selector"), "{b}");
        assert!(error_message(&b).contains("position 11"), "{b}");
    }
}

backend_tests! {
    async fn the_consoles_registry_actions_refuse_a_reviewer_and_an_auditor(s: TestServer) {
        let demo = s.demo();
        let admin = s.console_session(&demo.admin_email, &demo.admin_password).await;
        let id = s.agent_id("enrichment-agent");
        // The server functions' addresses, as the admin's pages post to them.
        let html = s.page_html(&format!("/agents/view?id={id}"), &admin).await;
        let agents = s.page_html("/agents", &admin).await;
        let action = |page: &str, name: &str| -> String {
            let at = page.find(&format!("action=\"/api/{name}")).unwrap_or_else(|| panic!("{name} form"));
            let rest = &page[at + 8..];
            rest[..rest.find('"').unwrap()].to_string()
        };
        let decommission = action(&html, "decommission_agent");
        let suspend = action(&agents, "set_agent_status");
        let rollback_url = "/api/rollback_manifest";
        for (who, email, password) in [
            ("reviewer", demo.reviewer_email.clone(), demo.reviewer_password.clone()),
            ("auditor", demo.auditor_email.clone(), demo.auditor_password.clone()),
        ] {
            let cookie = s.console_session(&email, &password).await;
            for (url, form) in [
                (decommission.clone(), vec![("agent_id", id.as_str()), ("reason", "mine now"), ("retention_class", "standard"), ("confirm", "on")]),
                (suspend.clone(), vec![("agent_id", id.as_str()), ("to", "suspended"), ("reason", "mine now")]),
                (rollback_url.to_string(), vec![("agent_id", id.as_str()), ("version", "1"), ("reason", "mine now")]),
            ] {
                let r = s.http.post(s.url(&url)).header("cookie", &cookie).header("origin", s.url(""))
                    .form(&form).send().await.unwrap();
                assert!(r.status().as_u16() < 500, "{who} {url}: {}", r.status());
            }
        }
        // Nothing changed: still active, one manifest version, no retirement.
        assert_eq!(status_of(&s, &id).await, "active", "{}", s.backend);
        let (_, v) = s.admin().get(&format!("/v1/admin/agents/{id}/manifests")).await;
        assert_eq!(v["versions"].as_array().map(Vec::len), Some(1));
        assert!(s.audit_of("agent.sealed").await.is_empty());
        // The admin names the successor by name: another org's agent of that name, or a
        // name far too long, is no agent of this org, and nothing is decommissioned.
        let other = s.other_org_admin().await;
        let owner = s.an_owner(&other).await;
        let (st, b) = s.client(&other).post("/v1/admin/agents", json!({"name": "their-successor", "owner": owner})).await;
        assert_eq!(st, 201, "{b}");
        for successor in ["their-successor".to_string(), "x".repeat(10_000)] {
            let form = [("agent_id", id.as_str()), ("reason", "replaced"), ("retention_class", "standard"),
                        ("confirm", "on"), ("replaced_by", successor.as_str())];
            let r = s.http.post(s.url(&decommission)).header("cookie", &admin).header("origin", s.url(""))
                .form(&form).send().await.unwrap();
            assert!(r.status().as_u16() < 500, "{}", r.status());
            assert_eq!(status_of(&s, &id).await, "active", "{}: {}", s.backend, &successor[..10.min(successor.len())]);
            if successor == "their-successor" {
                // The form comes back with why, next to the field (the flash rides a cookie).
                let flash: Vec<String> = r.headers().get_all("set-cookie").iter().filter_map(|v| v.to_str().ok()).map(|c| c.split(';').next().unwrap_or("").to_string()).collect();
                let cookie = std::iter::once(admin.clone()).chain(flash).collect::<Vec<_>>().join("; ");
                let page = s.page_html(&format!("/agents/view?id={id}"), &cookie).await;
                assert!(page.contains("no agent of this org is named &#x27;their-successor&#x27;") || page.contains("no agent of this org is named 'their-successor'"), "{}", s.backend);
            }
        }
        assert!(s.audit_of("agent.sealed").await.is_empty());
        // Another org's admin, with its own session, cannot reach this org's agent either.
        let (st, _) = s.client(&other).post(&format!("/v1/admin/agents/{id}/decommission"), json!({"reason": "r", "retention_class": "standard"})).await;
        assert_eq!(st, 404);
        assert_eq!(status_of(&s, &id).await, "active");
    }
}
