//! Policy as code through the admin API and the `arx policy` commands: the seeds'
//! example rule, validation errors, versions, diffs, rollback and simulation.

use arx_core::store::prelude::*;
use arx_testkit::backend_tests;
use serde_json::{Value, json};

use crate::harness::{TestServer, okta_users};

/// The seeds' example, written as the seed writes it (ServiceNow change close over more
/// than one ticket needs secops-leads' approval within 4 h, diff shown).
const SEED_POLICY: &str = r#"
rules:
  - id: change-close-over-one
    when: servicenow.changes:close
    if: size(payload.change_ids) > 1
    then: approval_required
    approvers: [secops-leads]
    timeout: 4h
    diff_shown_to_approver: true
"#;

async fn put_policy(s: &TestServer, body: &str, query: &str) -> (u16, Value) {
    let r = s
        .http
        .put(s.url(&format!("/v1/admin/policy{query}")))
        .query(&[("reason", "test")])
        .bearer_auth(s.admin_token())
        .header("content-type", "application/yaml")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

fn close(ids: &[&str]) -> Value {
    json!({"connector": "servicenow", "operation": "changes:close",
           "params": {"change_ids": ids, "close_code": "successful", "close_notes": "patched"}})
}

fn last_of(records: &[Value], kind: &str) -> Value {
    records
        .iter()
        .rev()
        .find(|r| r["kind"] == kind)
        .cloned()
        .unwrap_or(Value::Null)
}

backend_tests! {
    async fn the_seed_example_escalates_a_close_of_two_changes_and_permits_one(s: TestServer) {
        let b = s.backend;
        let (code, out) = put_policy(&s, SEED_POLICY, "?message=seed%20example").await;
        assert_eq!(
            (code, out["version"].as_i64()),
            (200, Some(1)),
            "{b}: {out}"
        );
        let key = s.agent_key("remediation-agent");

        let before = s.sim().request_count();
        s.execute_permitted(&key, close(&["c1"])).await;
        assert_eq!(
            s.sim().request_count(),
            before + 1,
            "{b}: one PATCH for one change"
        );
        let intercept = last_of(&s.audit().await, "execute.intercept");
        assert_eq!(intercept["fields"]["policy_version"], 1, "{b}");
        assert_eq!(intercept["fields"]["rule_id"], Value::Null, "{b}");

        let (code, out) = s.execute(&key, close(&["c1", "c2"])).await;
        assert_eq!(
            (code, out["verdict"].as_str()),
            (202, Some("ESCALATE")),
            "{b}: {out}"
        );
        assert_eq!(
            s.sim().request_count(),
            before + 1,
            "{b}: nothing forwarded"
        );
        let records = s.audit().await;
        let intercept = last_of(&records, "execute.intercept");
        let f = &intercept["fields"];
        assert_eq!(
            (
                f["policy_version"].as_i64(),
                f["rule_id"].as_str(),
                f["verdict"].as_str()
            ),
            (Some(1), Some("change-close-over-one"), Some("ESCALATE")),
            "{b}: {f}"
        );
        // The rule's 4 h timeout sets the request's expiry.
        let requested = last_of(&records, "approval.requested");
        let ttl = requested["fields"]["expires_ms"].as_i64().unwrap()
            - arx_core::audit::AuditRecord::ts_ms(
                &serde_json::from_value(requested.clone()).unwrap(),
            );
        assert!(
            (4 * 3_600_000 - 5_000..=4 * 3_600_000).contains(&ttl),
            "{b}: ttl {ttl}"
        );

        // Policy as code round trip: the export applies back as "no change".
        let yaml = s.policy_yaml().await.text().await.unwrap();
        assert!(
            yaml.contains("size(payload.change_ids) > 1") && yaml.contains("timeout: 4h"),
            "{yaml}"
        );
        let (code, out) = put_policy(&s, &yaml, "").await;
        assert_eq!(
            (code, out["version"].clone()),
            (200, Value::Null),
            "{b}: {out}"
        );
        assert_eq!(out["summary"], "no change", "{b}");
    }
}

backend_tests! {
    async fn bad_policies_are_refused_with_rule_field_and_position(s: TestServer) {
        let b = s.backend;
        let cases = [
            (
                "rules:\n  - id: r1\n    when: {operations: ['hosts:*', 'ho st']}\n    then: DENY\n",
                json!({"rule": "r1", "field": "when.operations[1] 'ho st'"}),
                "position 3",
            ),
            (
                "rules:\n  - id: r2\n    if: size(params.ids) >\n    then: DENY\n",
                json!({"rule": "r2", "field": "if"}),
                "line 1, column",
            ),
            (
                "rules:\n  - id: r3\n    if: paramz.x > 1\n    then: DENY\n",
                json!({"rule": "r3", "field": "if"}),
                "'paramz'",
            ),
            (
                "rules:\n  - id: r4\n    then: PERMIT\n    approvers: [secops]\n",
                json!({"rule": "r4", "field": "approvers"}),
                "ESCALATE",
            ),
            (
                "settings:\n  review_threshold: 95\n",
                json!({"field": "settings.review_threshold"}),
                "deny_threshold",
            ),
            (
                "rules:\n  - id: r5\n    then: MAYBE\n",
                json!({}),
                "rules[0].then: 'MAYBE' is not a verdict",
            ),
        ];
        for (yaml, details, says) in cases {
            let (code, out) = put_policy(&s, yaml, "").await;
            let e = &out["error"];
            assert_eq!(
                (code, e["code"].as_str()),
                (400, Some("invalid_policy")),
                "{b}: {out}"
            );
            for (k, v) in details.as_object().unwrap() {
                assert_eq!(&e[k], v, "{b}: {out}");
            }
            assert!(e["message"].as_str().unwrap().contains(says), "{b}: {out}");
        }
        let (_, out) = s.admin_get("/v1/admin/policy").await;
        assert_eq!(out["version"], 0, "{b}: nothing was applied");
    }
}

backend_tests! {
    async fn versions_diff_roll_back_and_are_recorded(s: TestServer) {
        let b = s.backend;
        let (code, out) = put_policy(&s, SEED_POLICY, "?dry_run=true").await;
        assert_eq!(
            (code, out["version"].clone(), out["dry_run"].clone()),
            (200, Value::Null, json!(true)),
            "{b}"
        );
        assert_eq!(
            out["diff"]["added"],
            json!(["change-close-over-one"]),
            "{b}"
        );
        assert_eq!(
            s.admin_get("/v1/admin/policy").await.1["version"],
            0,
            "{b}: dry run applied nothing"
        );

        assert_eq!(put_policy(&s, SEED_POLICY, "").await.1["version"], 1, "{b}");
        let stricter = format!("settings:\n  deny_threshold: 70\n{SEED_POLICY}");
        assert_eq!(put_policy(&s, &stricter, "").await.1["version"], 2, "{b}");

        let (_, d) = s.admin_get("/v1/admin/policy/diff?from=1&to=2").await;
        assert_eq!(d["diff"]["settings"], json!(["deny_threshold"]), "{b}: {d}");
        assert!(
            d["unified"]
                .as_str()
                .unwrap()
                .contains("+   deny_threshold: 70"),
            "{b}: {d}"
        );

        let (code, out) = s
            .admin()
            .post(
                "/v1/admin/policy/rollback",
                json!({"version": 1, "reason": "test"}),
            )
            .await;
        assert_eq!(
            (code, out["version"].as_i64()),
            (200, Some(3)),
            "{b}: {out}"
        );
        let (_, v1) = s.admin_get("/v1/admin/policy/versions/1").await;
        let (_, v3) = s.admin_get("/v1/admin/policy/versions/3").await;
        assert_eq!(v1["version"]["doc"], v3["version"]["doc"], "{b}");
        let (_, list) = s.admin_get("/v1/admin/policy/versions").await;
        let versions: Vec<i64> = list["versions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["version"].as_i64().unwrap())
            .collect();
        assert_eq!(versions, [3, 2, 1, 0], "{b}");
        assert_eq!(
            list["versions"][0]["message"], "roll back to version 1",
            "{b}"
        );

        let created = s.audit_of("policy.version_created").await;
        assert_eq!(created.len(), 3, "{b}");
        assert_eq!(
            created[1]["fields"]["settings"],
            json!(["deny_threshold"]),
            "{b}"
        );
        assert_eq!(created[2]["actor"]["name"], "admin@demo.arx.local", "{b}");

        // A reviewer reads policy but cannot change it.
        let reviewer = s
            .user_token("rev@demo.example", arx_core::model::Role::Reviewer)
            .await;
        let r = s
            .http
            .get(s.url("/v1/admin/policy"))
            .bearer_auth(&reviewer)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200, "{b}");
        assert_eq!(s.put_policy(&reviewer, SEED_POLICY).await, 403, "{b}");
    }
}

async fn wait_done(s: &TestServer, id: &str) -> Value {
    for _ in 0..200 {
        let (_, out) = s
            .admin_get(&format!("/v1/admin/policy/simulations/{id}"))
            .await;
        if out["simulation"]["status"] != "running" {
            return out["simulation"].clone();
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("simulation {id} did not finish");
}

backend_tests! {
    async fn simulation_shows_what_a_stricter_draft_would_change(s: TestServer) {
        let b = s.backend;
        let triage = s.agent_key("triage-agent");
        let remediation = s.agent_key("remediation-agent");
        // History: two permitted reads, one permitted close, one escalated containment.
        for (key, call) in [
            (
                &triage,
                json!({"connector": "crowdstrike", "operation": "detections:read", "params": {}}),
            ),
            (&triage, okta_users()),
            (&remediation, close(&["c1", "c2"])),
            (
                &remediation,
                json!({"connector": "crowdstrike", "operation": "hosts:write", "params": {"action_name": "contain", "ids": ["h1"]}}),
            ),
        ] {
            let (code, out) = s.execute(key, call).await;
            assert!(code == 200 || code == 202, "{b}: {out}");
        }
        let draft = format!(
            "{SEED_POLICY}  - id: no-okta\n    priority: 5\n    when: okta.*\n    then: DENY\n"
        );
        let before = s.audit().await.len();
        let (code, out) = s
            .admin()
            .post("/v1/admin/policy/simulations", json!({"policy": draft}))
            .await;
        assert_eq!(code, 202, "{b}: {out}");
        let report = wait_done(&s, out["simulation"]["id"].as_str().unwrap()).await;
        assert_eq!(report["status"], "done", "{b}: {report}");
        assert_eq!(report["replayed"], 4, "{b}: {report}");
        assert_eq!(
            report["was"],
            json!({"permit": 3, "escalate": 1, "deny": 0}),
            "{b}"
        );
        assert_eq!(
            report["would"],
            json!({"permit": 1, "escalate": 2, "deny": 1}),
            "{b}"
        );
        let changed = report["changed"].as_array().unwrap();
        let summary: Vec<(String, String, String)> = changed
            .iter()
            .map(|c| {
                (
                    c["operation"].as_str().unwrap().into(),
                    c["would"].as_str().unwrap().into(),
                    c["would_policy"].as_str().unwrap().into(),
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                ("users:read".into(), "DENY".into(), "no-okta".into()),
                (
                    "changes:close".into(),
                    "ESCALATE".into(),
                    "change-close-over-one".into()
                ),
            ],
            "{b}: {report}"
        );
        // Each changed call links to its audit record.
        let records = s.audit().await;
        for c in changed {
            assert!(
                records
                    .iter()
                    .any(|r| r["id"] == c["audit_id"] && r["kind"] == "execute.intercept"),
                "{b}"
            );
        }
        let rules = report["rules"].as_array().unwrap();
        let row = rules.iter().find(|r| r["policy_id"] == "no-okta").unwrap();
        assert_eq!(row["would"]["deny"], 1, "{b}");
        // Simulating enforces nothing and records nothing.
        assert_eq!(s.admin_get("/v1/admin/policy").await.1["version"], 0, "{b}");
        assert_eq!(s.audit().await.len(), before, "{b}");
        let (code, _) = s.execute(&triage, okta_users()).await;
        assert_eq!(code, 200, "{b}");
    }
}

/// Appends `thousands` × 1,000 recorded okta reads straight to the demo org's chain.
async fn seed_intercepts(s: &TestServer, thousands: usize) {
    let b = s.backend;
    let org = s.running.store.org_by_slug("demo").await.unwrap().unwrap();
    let fields = json!({
        "agent_id": "a", "agent": "triage-agent", "connector": "okta", "operation": "users:read",
        "tier": "low", "environment": "prod", "risk": {"score": 45, "operation": 5, "connector": 20,
        "frequency": 0, "target": 20, "calls_last_60s": 1, "declared_rate": 60},
        "verdict": "PERMIT", "policy_id": "default:low",
    });
    let now = s.running.engine.now_ms();
    for chunk in 0..thousands {
        let drafts = (0..1000)
            .map(|i| arx_core::audit::AuditDraft {
                org_id: org.id,
                id: arx_core::ids::RecordId::new(),
                ts_ms: now - 1000 + i,
                kind: "execute.intercept".into(),
                actor: arx_core::audit::Actor::system(),
                fields: fields.clone(),
                guard_epoch: None,
            })
            .collect();
        s.running
            .store
            .append_audit(drafts)
            .await
            .unwrap_or_else(|e| panic!("{b} chunk {chunk}: {e}"));
    }
}

backend_tests! {
    async fn a_long_simulation_reports_progress_and_can_be_cancelled(s: TestServer) {
        let b = s.backend;
        // 20,000 recorded intercepts.
        seed_intercepts(&s, 20).await;
        let draft = "rules:\n  - id: no-okta\n    when: okta.*\n    then: DENY\n";
        let (_, out) = s
            .admin()
            .post("/v1/admin/policy/simulations", json!({"policy": draft}))
            .await;
        let id = out["simulation"]["id"].as_str().unwrap().to_string();
        assert!(
            out["simulation"]["total"].as_i64().unwrap() >= 20_000,
            "{b}: {out}"
        );
        let (code, out) = s
            .admin()
            .post(
                &format!("/v1/admin/policy/simulations/{id}/cancel"),
                json!({}),
            )
            .await;
        assert_eq!(code, 200, "{b}: {out}");
        let report = wait_done(&s, &id).await;
        assert_eq!(report["status"], "cancelled", "{b}: {report}");
        assert!(
            report["scanned"].as_u64().unwrap() < 20_000,
            "{b}: {report}"
        );
        // A full run over the same records counts every one.
        let (_, out) = s
            .admin()
            .post("/v1/admin/policy/simulations", json!({"policy": draft}))
            .await;
        let report = wait_done(&s, out["simulation"]["id"].as_str().unwrap()).await;
        assert_eq!(
            (report["status"].as_str(), report["changed_total"].as_u64()),
            (Some("done"), Some(20_000)),
            "{b}"
        );
        assert_eq!(
            report["changed"].as_array().unwrap().len(),
            500,
            "{b}: the list is capped"
        );
    }
}

backend_tests! {
    async fn arx_policy_apply_and_export_work_from_the_command_line(s: TestServer) {
        let b = s.backend;
        let file = s.dir.join("policy.yaml");
        std::fs::write(&file, SEED_POLICY).unwrap();
        let path = file.to_str().unwrap();

        let (code, out) =
            crate::audit_cli::arx(&s, &["policy", "apply", "--org", "demo", path, "--dry-run"]);
        assert_eq!(code, 0, "{b}: {out}");
        assert!(
            out.contains("Dry run") && out.contains("+ - id: change-close-over-one"),
            "{b}: {out}"
        );
        assert_eq!(s.admin_get("/v1/admin/policy").await.1["version"], 0, "{b}");

        let (code, out) = crate::audit_cli::arx(
            &s,
            &["policy", "apply", "--org", "demo", path, "-m", "from git"],
        );
        assert_eq!(code, 0, "{b}: {out}");
        assert!(out.contains("Applied as version 1"), "{b}: {out}");
        let (_, v) = s.admin_get("/v1/admin/policy").await;
        assert_eq!(
            (v["version"].as_i64(), v["message"].as_str()),
            (Some(1), Some("from git")),
            "{b}"
        );
        let created = last_of(&s.audit().await, "policy.version_created");
        assert_eq!(created["actor"]["name"], "arx policy apply", "{b}");

        let (code, yaml) = crate::audit_cli::arx(&s, &["policy", "export", "--org", "demo"]);
        assert_eq!(code, 0, "{b}: {yaml}");
        assert!(
            yaml.starts_with("# ARX policy of org 'demo', version 1"),
            "{b}: {yaml}"
        );
        // The export applies back as no change.
        std::fs::write(&file, &yaml).unwrap();
        let (code, out) = crate::audit_cli::arx(&s, &["policy", "apply", "--org", "demo", path]);
        assert_eq!((code, out.contains("No change")), (0, true), "{b}: {out}");

        std::fs::write(
            &file,
            "rules:\n  - id: bad\n    if: params.ids.size( > 1\n    then: DENY\n",
        )
        .unwrap();
        let (code, out) = crate::audit_cli::arx(&s, &["policy", "apply", "--org", "demo", path]);
        assert_eq!(code, 1, "{b}: {out}");
        assert!(
            out.contains("rule 'bad': if is not valid CEL at line 1"),
            "{b}: {out}"
        );
        let (code, out) = crate::audit_cli::arx(&s, &["policy", "export", "--org", "nope"]);
        assert_eq!(
            (code, out.contains("no org with slug 'nope'")),
            (1, true),
            "{b}: {out}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn any_replica_shows_a_simulation_and_can_cancel_it() {
    let Some((a, b)) = crate::harness::two_replicas().await else {
        return;
    };
    let on_b = |path: &str| format!("http://{}{path}", b.addr);
    seed_intercepts(&a, 20).await;
    let draft = "rules:\n  - id: no-okta\n    when: okta.*\n    then: DENY\n";

    // Started on A, cancelled through B: A's job stops, and both show the same report.
    let (code, out) = a
        .admin()
        .post("/v1/admin/policy/simulations", json!({"policy": draft}))
        .await;
    assert_eq!(code, 202, "{out}");
    let id = out["simulation"]["id"].as_str().unwrap().to_string();
    let r = a
        .http
        .post(on_b(&format!("/v1/admin/policy/simulations/{id}/cancel")))
        .bearer_auth(a.admin_token())
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let on_a = wait_done(&a, &id).await;
    assert_eq!(on_a["status"], "cancelled", "{on_a}");
    assert!(on_a["scanned"].as_u64().unwrap() < 20_000, "{on_a}");
    let on_b_get = a
        .http
        .get(on_b(&format!("/v1/admin/policy/simulations/{id}")))
        .bearer_auth(a.admin_token());
    let (_, seen_on_b) = TestServer::answer(on_b_get).await;
    assert_eq!(seen_on_b["simulation"], on_a, "B shows A's job as A does");

    // A finished job started on B is listed on A with its full counts.
    let r = a
        .http
        .post(on_b("/v1/admin/policy/simulations"))
        .bearer_auth(a.admin_token())
        .json(&json!({"policy": draft}))
        .send()
        .await
        .unwrap();
    let out: Value = r.json().await.unwrap();
    let id = out["simulation"]["id"].as_str().unwrap().to_string();
    let done = wait_done(&a, &id).await;
    assert_eq!(
        (done["status"].as_str(), done["changed_total"].as_u64()),
        (Some("done"), Some(20_000)),
        "{done}"
    );
    let (_, list) = a.admin_get("/v1/admin/policy/simulations").await;
    let ids = crate::harness::texts(&list["simulations"], "id");
    assert_eq!(ids.first(), Some(&id.as_str()), "newest first: {list}");
}
