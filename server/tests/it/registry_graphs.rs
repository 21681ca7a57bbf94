//! The registry's graphs and critical drift notices through the real server: the gated
//! marks of an agent's connector graph follow the policy in force; the fleet graph counts
//! calls per agent and connector, filters by connector, stays in its org and is read by
//! auditors, never with an agent key; a critical drift alert reaches the org's signed
//! webhook and Teams, a low one does not.

use arx_core::model::Role;
use arx_testkit::backend_tests;
use serde_json::{Value, json};

use crate::fakes::{slack, teams, webhook};
use crate::harness::{TestServer, error_message};

const WEBHOOK_SECRET: &str = "whsec-drift-0001";

/// A new agent of the org of `token` with a key, whose manifest declares `ops` of each
/// connector: (id, key).
async fn agent(s: &TestServer, token: &str, name: &str, ops: Value) -> (String, String) {
    let c = s.client(token);
    let owner = s.an_owner(token).await;
    let (st, b) = c
        .post("/v1/admin/agents", json!({"name": name, "owner": owner}))
        .await;
    assert_eq!(st, 201, "{b}");
    let id = b["agent"]["id"].as_str().unwrap().to_string();
    let (st, k) = c
        .post(&format!("/v1/admin/agents/{id}/keys"), json!({}))
        .await;
    assert_eq!(st, 201, "{k}");
    let manifest = json!({
        "connectors": ops, "rate_per_minute": 100,
        "environments": ["prod", "staging", "dev", "unknown"],
        "data_classes": arx_core::catalog::DATA_CLASSES.iter().map(|(c, _)| *c).collect::<Vec<_>>(),
        "purpose": "a test agent", "model": "",
    });
    let (st, v) = c
        .post(
            &format!("/v1/admin/agents/{id}/manifests"),
            json!({"manifest": manifest, "reason": "test"}),
        )
        .await;
    assert_eq!(st, 201, "{v}");
    (id, k["api_key"].as_str().unwrap().to_string())
}

fn call(connector: &str, operation: &str) -> Value {
    json!({"connector": connector, "operation": operation, "params": {}})
}

/// The operation `op` of the agent's graph.
async fn graph_op(s: &TestServer, id: &str, op: &str) -> Value {
    let (st, g) = s.admin().get(&format!("/v1/admin/agents/{id}/graph")).await;
    assert_eq!(st, 200, "{g}");
    g["connectors"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["operations"].as_array().unwrap().clone())
        .find(|o| o["id"] == op)
        .unwrap_or_else(|| panic!("no {op} in {g}"))
}

/// The agent called `name` in a fleet graph.
fn fleet_agent<'a>(g: &'a Value, name: &str) -> Option<&'a Value> {
    g["agents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == name)
}

/// Its edges as (connector, declared, calls).
fn edges(a: &Value) -> Vec<(String, bool, i64)> {
    a["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["connector"].as_str().unwrap().to_string(),
                e["declared"].as_bool().unwrap(),
                e["calls"].as_i64().unwrap(),
            )
        })
        .collect()
}

backend_tests! {
    async fn the_graph_marks_what_the_policy_in_force_gates(s: TestServer) {
        let b = s.backend;
        let admin = s.admin_token();
        assert_eq!(s.put_policy(&admin, "rules: []\n").await, 200);
        let (id, key) = agent(&s, &admin, "gated-graph", json!({"crowdstrike": ["detections:read", "hosts:read"]})).await;
        let open = graph_op(&s, &id, "hosts:read").await;
        assert_eq!((open["gated"].as_bool(), open["policy"]["verdict"].as_str()), (Some(false), Some("PERMIT")), "{b}: {open}");
        assert_eq!(open["policy"]["instance"], "main", "{b}: {open}");

        // A rule that escalates the operation gates it, and says which rule.
        let escalate = "rules:\n  - id: hosts-read-review\n    when: crowdstrike.hosts:read\n    then: ESCALATE\n";
        assert_eq!(s.put_policy(&admin, escalate).await, 200);
        let gated = graph_op(&s, &id, "hosts:read").await;
        assert_eq!(gated["gated"], true, "{b}: {gated}");
        assert_eq!((gated["policy"]["verdict"].as_str(), gated["policy"]["rule_id"].as_str()),
            (Some("ESCALATE"), Some("hosts-read-review")), "{b}: {gated}");
        let other = graph_op(&s, &id, "detections:read").await;
        assert_eq!(other["gated"], false, "{b}: only the rule's operation: {other}");
        // The same evaluation as execute: the call escalates.
        let (st, out) = s.execute(&key, json!({"connector": "crowdstrike", "operation": "hosts:read", "params": {}, "wait_seconds": 0})).await;
        assert_eq!(st, 202, "{b}: {out}");

        // The mark follows the policy as it changes.
        assert_eq!(s.put_policy(&admin, &escalate.replace("ESCALATE", "DENY")).await, 200);
        let denied = graph_op(&s, &id, "hosts:read").await;
        assert_eq!((denied["gated"].as_bool(), denied["policy"]["verdict"].as_str()), (Some(true), Some("DENY")), "{b}: {denied}");
        assert_eq!(s.put_policy(&admin, "rules: []\n").await, 200);
        assert_eq!(graph_op(&s, &id, "hosts:read").await["gated"], false, "{b}");

        // The console draws the lock: the row of the operation says it is gated.
        assert_eq!(s.put_policy(&admin, escalate).await, 200);
        let demo = s.demo();
        let cookie = s.console_session(&demo.admin_email, &demo.admin_password).await;
        let html = s.page_html(&format!("/agents/view?id={id}"), &cookie).await;
        assert!(html.contains(r#"data-op="hosts:read" data-gated="true" data-verdict="ESCALATE""#), "{b}: {html}");
        assert!(html.contains(r#"data-op="detections:read" data-gated="false""#), "{b}");
        assert!(html.contains("ESCALATE by rule hosts-read-review"), "{b}");
        assert!(html.contains("gated: the policy in force escalates or denies it"), "{b}: the legend");
    }
}

backend_tests! {
    async fn the_fleet_graph_counts_calls_filters_by_connector_and_stays_in_its_org(s: TestServer) {
        let b = s.backend;
        let admin = s.admin_token();
        assert_eq!(s.put_policy(&admin, "rules: []\n").await, 200);
        let (edr_id, edr) = agent(&s, &admin, "edr-reader", json!({"crowdstrike": ["detections:read"]})).await;
        let (_, idp) = agent(&s, &admin, "idp-reader", json!({"okta": ["users:read"]})).await;
        for _ in 0..3 {
            s.execute_permitted(&edr, call("crowdstrike", "detections:read")).await;
        }
        for _ in 0..2 {
            s.execute_permitted(&idp, call("okta", "users:read")).await;
        }
        // A call it does not declare is denied, and still counts as touching the EDR.
        let (st, out) = s.execute(&idp, call("crowdstrike", "detections:read")).await;
        assert_eq!(st, 403, "{b}: {out}");

        let (st, g) = s.admin().get("/v1/admin/graph").await;
        assert_eq!(st, 200, "{b}: {g}");
        assert_eq!(g["window_days"], 7, "{b}");
        let e = edges(fleet_agent(&g, "edr-reader").unwrap());
        assert_eq!(e, vec![("crowdstrike".to_string(), true, 3)], "{b}");
        let i = edges(fleet_agent(&g, "idp-reader").unwrap());
        assert_eq!(i, vec![("crowdstrike".to_string(), false, 1), ("okta".to_string(), true, 2)], "{b}");
        assert_eq!(fleet_agent(&g, "idp-reader").unwrap()["calls"], 3, "{b}");

        // What can touch the EDR: the agents that declare it or called it, only that edge.
        let (_, edr_only) = s.admin().get("/v1/admin/graph?connector=crowdstrike").await;
        assert_eq!(edr_only["connector"], "crowdstrike", "{b}");
        assert_eq!(edges(fleet_agent(&edr_only, "idp-reader").unwrap()), vec![("crowdstrike".to_string(), false, 1)], "{b}");
        assert!(fleet_agent(&edr_only, "edr-reader").is_some(), "{b}");
        assert!(edr_only["agents"].as_array().unwrap().iter().all(|a| edges(a).iter().all(|e| e.0 == "crowdstrike")), "{b}: {edr_only}");
        let (_, idp_only) = s.admin().get("/v1/admin/graph?connector=okta").await;
        assert!(fleet_agent(&idp_only, "edr-reader").is_none(), "{b}: it neither declares nor called okta");
        assert!(fleet_agent(&idp_only, "idp-reader").is_some(), "{b}");
        let okta = idp_only["connectors"].as_array().unwrap().iter().find(|c| c["name"] == "okta").unwrap();
        assert!(okta["calls"].as_i64().unwrap() >= 2, "{b}: {okta}");

        // Bad filters and pages say what to fix.
        let (st, bad) = s.admin().get("/v1/admin/graph?connector=nope").await;
        assert_eq!(st, 400, "{b}: {bad}");
        assert!(error_message(&bad).contains("connector"), "{b}: {bad}");
        let (st, bad) = s.admin().get("/v1/admin/graph?limit=201").await;
        assert_eq!(st, 400, "{b}: {bad}");
        assert!(error_message(&bad).contains("limit"), "{b}: {bad}");
        let (st, one) = s.admin().get("/v1/admin/graph?limit=1&offset=1").await;
        assert_eq!(st, 200, "{b}: {one}");
        assert_eq!(one["agents"].as_array().unwrap().len(), 1, "{b}");
        assert_eq!(one["total"], g["total"], "{b}");

        // Another org: its agents and calls never show here, and ours never there.
        let other = s.other_org_admin().await;
        let as_other = s.client(&other);
        let (st, out) = as_other
            .post(
                "/v1/admin/instances",
                json!({"connector": "crowdstrike", "name": "their-edr", "environment": "prod",
                       "variables": s.sim().variables_for("crowdstrike"),
                       "credentials": arx_simulator::demo_credentials("crowdstrike")}),
            )
            .await;
        assert_eq!(st, 201, "{b}: {out}");
        let (_, theirs) = agent(&s, &other, "their-edr-reader", json!({"crowdstrike": ["detections:read"]})).await;
        s.execute_permitted(&theirs, call("crowdstrike", "detections:read")).await;
        let (_, g) = s.admin().get("/v1/admin/graph").await;
        assert!(fleet_agent(&g, "their-edr-reader").is_none(), "{b}: {g}");
        assert_eq!(edges(fleet_agent(&g, "edr-reader").unwrap()), vec![("crowdstrike".to_string(), true, 3)], "{b}");
        let (st, tg) = as_other.get("/v1/admin/graph").await;
        assert_eq!(st, 200, "{b}: {tg}");
        let names: Vec<&str> = tg["agents"].as_array().unwrap().iter().map(|a| a["name"].as_str().unwrap()).collect();
        assert_eq!(names, vec!["their-edr-reader"], "{b}");
        assert_eq!(edges(fleet_agent(&tg, "their-edr-reader").unwrap()), vec![("crowdstrike".to_string(), true, 1)], "{b}");

        // An auditor reads it; an agent key does not.
        let auditor = s.user_token("graph-auditor@demo.arx.local", Role::Auditor).await;
        assert_eq!(s.client(&auditor).get("/v1/admin/graph").await.0, 200, "{b}");
        let (st, out) = s.client(&edr).get("/v1/admin/graph").await;
        assert_eq!(st, 401, "{b}: an agent key is no admin token: {out}");

        // The console draws it, filtered, with the window said.
        let demo = s.demo();
        let cookie = s.console_session(&demo.admin_email, &demo.admin_password).await;
        let html = s.page_html("/agents/graph?connector=crowdstrike", &cookie).await;
        assert!(html.contains(r#"data-testid="fleet-graph""#), "{b}: {html}");
        assert!(html.contains(r#"data-edge="edr-reader→crowdstrike" data-calls="3" data-declared="true""#), "{b}: {html}");
        assert!(html.contains(r#"data-edge="idp-reader→crowdstrike" data-calls="1" data-declared="false""#), "{b}");
        assert!(!html.contains("idp-reader→okta"), "{b}: filtered to crowdstrike");
        assert!(!html.contains("their-edr-reader"), "{b}");
        assert!(html.contains("Calls of the last 7 days"), "{b}");

        // Decommissioned agents are drawn only if they called in the window: the one that
        // called stays (its calls, no declared edge), a quiet one goes; the total follows.
        let (quiet_id, _) = agent(&s, &admin, "quiet-retiree", json!({"okta": ["users:read"]})).await;
        let (_, with_quiet) = s.admin().get("/v1/admin/graph").await;
        assert!(fleet_agent(&with_quiet, "quiet-retiree").is_some(), "{b}: a live agent is drawn");
        for id in [&edr_id, &quiet_id] {
            let (st, out) = s.admin().post(&format!("/v1/admin/agents/{id}/decommission"), json!({"reason": "retired", "retention_class": "standard"})).await;
            assert_eq!(st, 200, "{b}: {out}");
        }
        let (_, after) = s.admin().get("/v1/admin/graph").await;
        assert!(fleet_agent(&after, "quiet-retiree").is_none(), "{b}: {after}");
        assert_eq!(edges(fleet_agent(&after, "edr-reader").unwrap()), vec![("crowdstrike".to_string(), false, 3)], "{b}");
        assert_eq!(after["total"].as_u64(), with_quiet["total"].as_u64().map(|n| n - 1), "{b}");
        let names: Vec<&str> = after["agents"].as_array().unwrap().iter().map(|a| a["name"].as_str().unwrap()).collect();
        let mut sorted = names.clone();
        sorted.sort();
        assert_eq!(names, sorted, "{b}: by name");
        let agents_page = s.page_html("/agents", &cookie).await;
        assert!(agents_page.contains(r#"href="/agents/graph""#), "{b}: linked from the Agents page");
    }
}

backend_tests! {
    async fn critical_drift_reaches_the_org_channels_signed_and_low_drift_does_not(s: TestServer) {
        let b = s.backend;
        let (teams_in, hook_in) = (teams::start().await, webhook::start().await);
        let (slack_api, slack_base) = slack::start(&[]).await;
        let (st, out) = s
            .admin()
            .put("/v1/admin/integrations/slack", json!({"bot_token": "xoxb-drift-0001", "signing_secret": "drift-signing-secret-0001",
                "channel": "C0ARX", "team_id": "T0ARX", "app_id": "A0ARX", "api_base_url": format!("{slack_base}/api")}))
            .await;
        assert_eq!(st, 200, "{b}: {out}");
        let (st, out) = s.admin().put("/v1/admin/integrations/teams", json!({"url": teams_in.url})).await;
        assert_eq!(st, 200, "{b}: {out}");
        let (st, out) = s
            .admin()
            .put("/v1/admin/integrations/webhook", json!({"url": hook_in.url, "secret": WEBHOOK_SECRET}))
            .await;
        assert_eq!(st, 200, "{b}: {out}");
        let admin = s.admin_token();
        let (id, key) = agent(&s, &admin, "drifter", json!({"crowdstrike": ["detections:read"]})).await;

        // A low signal (an undeclared read): an alert, no notice.
        let (st, out) = s.execute(&key, call("crowdstrike", "hosts:read")).await;
        assert_eq!(st, 403, "{b}: {out}");
        assert_eq!(s.audit_of("drift.detected").await.len(), 1, "{b}");
        tokio::time::sleep(std::time::Duration::from_millis(800)).await;
        assert!(hook_in.calls().is_empty() && teams_in.calls().is_empty(), "{b}: low drift notifies nobody");
        assert!(slack_api.calls("/api/chat.postMessage").is_empty(), "{b}");

        // A critical one (an undeclared operation of tier critical): suspended, and told.
        let rtr = json!({"connector": "crowdstrike", "operation": "rtr:command_admin",
            "params": {"session_id": "s-1", "base_command": "runscript", "command_string": "runscript -Raw=```whoami```"}});
        let (st, out) = s.execute(&key, rtr).await;
        assert_eq!(st, 403, "{b}: {out}");
        let hooks = hook_in.wait_for(1).await;
        let h = &hooks[0];
        assert_eq!(h.headers["x-arx-signature"], webhook::signature(WEBHOOK_SECRET, &h.raw), "{b}: signed like every webhook");
        assert_eq!(h.headers["x-arx-event"], "drift.detected", "{b}");
        let ts: i64 = h.headers["x-arx-timestamp"].parse().unwrap();
        assert_eq!(h.body["sent_at"], ts, "{b}: the time is inside the signed body");
        let d = &h.body["drift"];
        assert_eq!(
            (d["agent"].as_str(), d["agent_id"].as_str(), d["severity"].as_str(), d["action"].as_str(), d["agent_status"].as_str()),
            (Some("drifter"), Some(id.as_str()), Some("critical"), Some("suspend_and_notify"), Some("suspended")),
            "{b}: {d}"
        );
        assert_eq!(d["signal"]["kind"], "undeclared_operation", "{b}: {d}");
        assert!(d["signal"]["text"].as_str().unwrap().contains("rtr:command_admin"), "{b}: {d}");
        assert!(d["link"].as_str().unwrap().ends_with("/drift?severity=critical"), "{b}: {d}");
        assert!(!h.body.to_string().contains("whoami"), "{b}: the call's params stay in ARX");
        let cards = teams_in.wait_for(1).await;
        let card = cards[0].body["attachments"][0]["content"].to_string();
        assert!(card.contains("drifter") && card.contains("agent suspended") && card.contains("/drift?severity=critical"), "{b}: {card}");

        let posts = slack_api.wait_for("/api/chat.postMessage", 1).await;
        let message = posts[0].body.to_string();
        assert!(message.contains("*drifter* drifted from its manifest") && message.contains("Open the Drift page"), "{b}: {message}");
        assert!(message.contains("agent suspended") && message.contains("rtr:command_admin"), "{b}: {message}");

        // One notice per alert, on each channel, and the agent is suspended.
        let (_, a) = s.admin().get(&format!("/v1/admin/agents/{id}")).await;
        assert_eq!(a["agent"]["status"], "suspended", "{b}");
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        let sent = (hook_in.calls().len(), teams_in.calls().len(), slack_api.calls("/api/chat.postMessage").len());
        assert_eq!(sent, (1, 1, 1), "{b}");
    }

    async fn a_channel_that_fails_never_holds_up_the_call_that_drifted(s: TestServer) {
        let b = s.backend;
        // Nothing listens on this port: every delivery fails.
        let dead = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hooks/arx", dead.local_addr().unwrap());
        drop(dead);
        let (st, out) = s.admin().put("/v1/admin/integrations/webhook", json!({"url": url, "secret": WEBHOOK_SECRET})).await;
        assert_eq!(st, 200, "{b}: {out}");
        let (_, key) = agent(&s, &s.admin_token(), "drifter-2", json!({"crowdstrike": ["detections:read"]})).await;
        let rtr = json!({"connector": "crowdstrike", "operation": "rtr:command_admin",
            "params": {"session_id": "s-1", "base_command": "runscript", "command_string": "x"}});
        let started = std::time::Instant::now();
        let (st, out) = s.execute(&key, rtr).await;
        assert_eq!((st, out["error"]["code"].as_str()), (403, Some("permission_denied")), "{b}: {out}");
        assert!(started.elapsed() < std::time::Duration::from_secs(3), "{b}: {:?}", started.elapsed());
        assert_eq!(s.audit_of("drift.detected").await.len(), 1, "{b}");
    }
}
