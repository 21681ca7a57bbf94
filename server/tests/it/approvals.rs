//! Approvals end to end: a waiting agent woken by a reviewer's decision, exactly-once
//! execution of the approved params, distinct denied/expired/cancelled outcomes on a
//! manual clock, decision rights, the approve/deny/expiry race, and a restart in the
//! middle of an approved call.

use std::sync::Arc;
use std::time::Duration;

use arx_core::clock::ManualClock;
use arx_core::ids::ApprovalId;
use arx_core::model::{ApprovalChange, ApprovalStatus, Role};
use arx_core::store::prelude::*;
use arx_testkit::{Backend, backend_tests};
use serde_json::{Value, json};

use crate::client::Decision;
use crate::harness::{TestServer, contain, containments, error_message, start_with_clock};

backend_tests! {
    async fn a_waiting_agent_receives_the_result_once_a_reviewer_approves(s: TestServer) {
        let b = s.backend;
        let s = Arc::new(s);
        let key = s.agent_key("remediation-agent");
        let agent = {
            let (s, key) = (s.clone(), key.clone());
            tokio::spawn(async move {
                let mut body = contain("host-1");
                body["wait_seconds"] = json!(20);
                s.execute(&key, body).await
            })
        };
        // The reviewer finds it in the queue, with what a reviewer needs to decide.
        let id = loop {
            let (_, q) = s.admin_get("/v1/admin/approvals?status=pending").await;
            if let Some(a) = q["approvals"].as_array().and_then(|a| a.first()) {
                break a["id"].as_str().unwrap().to_string();
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        let (_, d) = s.admin().approval(&id).await;
        assert_eq!(d["agent"]["owner"], "ir-lead@demo.arx.local", "{b}: {d}");
        assert_eq!(d["instance"]["environment"], "prod", "{b}");
        assert_eq!(
            d["intercept"]["session_context"]["reasoning"], "beaconing to a known C2 domain",
            "{b}"
        );
        assert!(d["intercept"]["risk"]["score"].as_u64().unwrap() > 0, "{b}");
        assert_eq!(containments(&s), 0, "{b}: nothing runs before approval");
        // The diff: the host's containment status now, and after the call.
        let rows = d["state"]["rows"]
            .as_array()
            .unwrap_or_else(|| panic!("{b}: no diff in {d}"));
        let status = rows.iter().find(|r| r["field"] == "status").unwrap();
        assert_eq!(
            (
                status["record"].as_str(),
                status["current"].as_str(),
                status["proposed"].as_str(),
                status["changed"].as_bool()
            ),
            (
                Some("host-1"),
                Some("normal"),
                Some("contained"),
                Some(true)
            ),
            "{b}: {d}"
        );

        let (code, out) = s.admin().approve(&id, Some("confirmed C2")).await;
        assert_eq!(
            (code, out["approval"]["status"].as_str()),
            (200, Some("executed")),
            "{b}: {out}"
        );
        let (code, body) = agent.await.unwrap();
        assert_eq!(code, 200, "{b}: {body}");
        assert_eq!(body["approval_id"], id, "{b}");
        assert_eq!(
            body["result"]["resources"][0]["id"], "host-1",
            "{b}: {body}"
        );
        assert_eq!(containments(&s), 1, "{b}: the approved call ran once");

        // The simulated target now reads as contained.
        let (_, got) = s.execute(&s.agent_key("triage-agent"), json!({"connector": "crowdstrike", "operation": "hosts:get", "params": {"ids": ["host-1"]}})).await;
        assert_eq!(
            got["result"]["resources"][0]["status"], "contained",
            "{b}: {got}"
        );
        // A second decision changes nothing and runs nothing.
        let (code, out) = s.admin().approve(&id, None).await;
        assert_eq!(
            (code, out["error"]["code"].as_str()),
            (409, Some("conflict")),
            "{b}: {out}"
        );
        assert_eq!(containments(&s), 1, "{b}");
        // Polling afterwards returns the same result.
        let (code, again) = s.client(&key).poll(&id, 0).await;
        assert_eq!((code, &again["result"]), (200, &body["result"]), "{b}");

        let records = s.audit().await;
        let kinds: Vec<&str> = records
            .iter()
            .map(|r| r["kind"].as_str().unwrap())
            .collect();
        for k in [
            "approval.requested",
            "approval.approved",
            "approval.executing",
            "approval.executed",
        ] {
            assert_eq!(
                kinds.iter().filter(|x| **x == k).count(),
                1,
                "{b}: {k} in {kinds:?}"
            );
        }
        let results = records
            .iter()
            .filter(|r| r["kind"] == "execute.result" && r["fields"]["approval_id"] == id.as_str())
            .count();
        assert_eq!(results, 1, "{b}: one result record names the approval");
    }
}

backend_tests! {
    async fn denied_expired_and_cancelled_requests_answer_with_distinct_codes(b: Backend) {
        let clock = Arc::new(ManualClock::new(1_800_000_000_000));
        let s = start_with_clock(b, clock.clone()).await;
        let b = s.backend;
        let key = s.agent_key("remediation-agent");
        let admin = s.admin_token();

        // Denied, with the reviewer's comment.
        let id = s.escalate(&key, contain("h-deny")).await;
        let (code, pending) = s.client(&key).poll(&id, 0).await;
        assert_eq!(
            (code, pending["status"].as_str()),
            (202, Some("pending")),
            "{b}"
        );
        s.client(&admin).deny(&id, Some("not this host")).await;
        let (code, out) = s.client(&key).poll(&id, 0).await;
        assert_eq!(
            (code, out["error"]["code"].as_str()),
            (403, Some("approval_denied")),
            "{b}: {out}"
        );
        assert!(error_message(&out).contains("not this host"), "{b}");

        // Expired: an agent waiting on it is woken by the expiry, not by a timeout.
        let id = s.escalate(&key, contain("h-expire")).await;
        let waiter = {
            let (url, key, id) = (
                s.url(&format!("/v1/sdk/approvals/{id}?wait_seconds=20")),
                key.clone(),
                id.clone(),
            );
            let http = s.http.clone();
            tokio::spawn(async move {
                let r = http.get(url).bearer_auth(key).send().await.unwrap();
                let _ = id;
                (r.status().as_u16(), r.json::<Value>().await.unwrap())
            })
        };
        tokio::time::sleep(Duration::from_millis(200)).await;
        clock.advance_ms(3_600_000); // the org default TTL: 1 h
        let started = std::time::Instant::now();
        assert_eq!(
            s.running.engine.system().expire_due().await.unwrap(),
            1,
            "{b}"
        );
        let (code, out) = waiter.await.unwrap();
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{b}: woken by the expiry"
        );
        assert_eq!(
            (code, out["error"]["code"].as_str()),
            (403, Some("approval_expired")),
            "{b}: {out}"
        );
        let (code, out) = s.client(&admin).approve(&id, None).await;
        assert_eq!(
            (code, out["error"]["code"].as_str()),
            (403, Some("approval_expired")),
            "{b}: too late to approve"
        );

        // Cancelled: the agent was suspended before the reviewer approved.
        let id = s.escalate(&key, contain("h-cancel")).await;
        let agent_id = s.agent_id("remediation-agent");
        s.client(&admin)
            .suspend_agent(&agent_id, "investigating")
            .await;
        let (code, out) = s.client(&admin).approve(&id, None).await;
        assert_eq!(
            (code, out["approval"]["status"].as_str()),
            (200, Some("cancelled")),
            "{b}: {out}"
        );
        let reactivate = format!("/v1/admin/agents/{agent_id}/reactivate");
        s.client(&admin)
            .post(&reactivate, json!({"reason": "cleared"}))
            .await;
        let (code, out) = s.client(&key).poll(&id, 0).await;
        assert_eq!(
            (code, out["error"]["code"].as_str()),
            (409, Some("approval_cancelled")),
            "{b}: {out}"
        );
        assert_eq!(containments(&s), 0, "{b}: nothing ran");
        let kinds = s.audit_kinds().await;
        for k in ["approval.denied", "approval.expired", "approval.cancelled"] {
            assert!(kinds.iter().any(|x| x == k), "{b}: {k}");
        }
    }
}

backend_tests! {
    async fn only_the_rules_approvers_decide_and_two_distinct_approvals_can_be_required(
        s: TestServer,
    ) {
        let b = s.backend;
        let admin = s.admin_token();
        let policy = "rules:\n  - id: contain-two-leads\n    when: crowdstrike.hosts:write\n    then: ESCALATE\n    approvers: [ir-leads]\n    min_approvals: 2\n    forbid_owner_approval: true\n";
        assert_eq!(s.put_policy(&admin, policy).await, 200, "{b}");
        let lead1 = s.user_token("lead1@demo.arx.local", Role::Reviewer).await;
        let lead2 = s.user_token("lead2@demo.arx.local", Role::Reviewer).await;
        let outsider = s
            .user_token("outsider@demo.arx.local", Role::Reviewer)
            .await;
        let owner = s.user_token("ir-lead@demo.arx.local", Role::Reviewer).await;
        let auditor = s.user_token("auditor@demo.arx.local", Role::Auditor).await;
        let (_, users) = s.admin_get("/v1/admin/users").await;
        for u in users["users"].as_array().unwrap() {
            let email = u["email"].as_str().unwrap();
            if [
                "lead1@demo.arx.local",
                "lead2@demo.arx.local",
                "ir-lead@demo.arx.local",
            ]
            .contains(&email)
            {
                let (code, _) = s
                    .client(&admin)
                    .put(
                        &format!("/v1/admin/users/{}/groups", u["id"].as_str().unwrap()),
                        json!({"groups": ["ir-leads"]}),
                    )
                    .await;
                assert_eq!(code, 200, "{b}");
            }
        }
        let id = s
            .escalate(&s.agent_key("remediation-agent"), contain("h-two"))
            .await;
        let approve = |tok: String| {
            let (s, id) = (&s, id.clone());
            async move { s.client(&tok).approve(&id, Some("ok")).await }
        };
        let (code, out) = approve(outsider).await;
        assert_eq!(code, 403, "{b}: {out}");
        assert!(
            error_message(&out).contains("only members of ir-leads"),
            "{b}: {out}"
        );
        let (code, out) = approve(owner).await;
        assert!(
            code == 403 && error_message(&out).contains("owner"),
            "{b}: {out}"
        );
        let (code, _) = approve(auditor).await;
        assert_eq!(code, 403, "{b}: auditors do not decide");
        let (code, out) = approve(lead1.clone()).await;
        assert_eq!(
            (code, out["approval"]["status"].as_str()),
            (200, Some("pending")),
            "{b}: one of two"
        );
        let (code, out) = approve(lead1).await;
        assert_eq!(
            (code, out["error"]["code"].as_str()),
            (409, Some("conflict")),
            "{b}: the same approver twice"
        );
        assert_eq!(containments(&s), 0, "{b}");
        let (code, out) = approve(lead2).await;
        assert_eq!(
            (code, out["approval"]["status"].as_str()),
            (200, Some("executed")),
            "{b}: {out}"
        );
        assert_eq!(
            out["approval"]["decided_by"],
            json!(["lead1@demo.arx.local", "lead2@demo.arx.local"]),
            "{b}"
        );
        assert_eq!(containments(&s), 1, "{b}");
    }
}

backend_tests! {
    async fn approve_deny_and_expiry_race_and_exactly_one_wins(b: Backend) {
        let clock = Arc::new(ManualClock::new(1_800_000_000_000));
        let s = start_with_clock(b, clock.clone()).await;
        let b = s.backend;
        let s = Arc::new(s);
        let key = s.agent_key("remediation-agent");
        let mut ids = Vec::new();
        for i in 0..12 {
            let (code, out) = s.execute(&key, contain(&format!("race-{i}"))).await;
            assert_eq!(code, 202, "{b}: {out}");
            ids.push(out["approval_id"].as_str().unwrap().to_string());
        }
        let reviewer = s.user_token("racer@demo.arx.local", Role::Reviewer).await;
        let mut tasks = Vec::new();
        for (i, id) in ids.iter().enumerate() {
            for (decision, token) in [
                (Decision::Approve, s.admin_token()),
                (Decision::Deny, reviewer.clone()),
            ] {
                let (s, id) = (s.clone(), id.clone());
                tasks.push(tokio::spawn(async move {
                    s.client(&token).decide(&id, decision, None).await.0
                }));
            }
            if i == ids.len() / 2 {
                let (s, clock) = (s.clone(), clock.clone());
                tasks.push(tokio::spawn(async move {
                    clock.advance_ms(3_600_000);
                    s.running.engine.system().expire_due().await.unwrap();
                    0
                }));
            }
        }
        for t in tasks {
            let code = t.await.unwrap();
            assert!([0, 200, 403, 409].contains(&code), "{b}: {code}");
        }
        let records = s.audit().await;
        let mut executed = 0;
        for id in &ids {
            let decisions: Vec<&str> = records
                .iter()
                .filter(|r| r["fields"]["approval_id"] == id.as_str())
                .map(|r| r["kind"].as_str().unwrap())
                .filter(|k| {
                    ["approval.approved", "approval.denied", "approval.expired"].contains(k)
                })
                .collect();
            assert_eq!(decisions.len(), 1, "{b}: {id} was decided {decisions:?}");
            let (_, d) = s.admin().approval(&id).await;
            let status = d["approval"]["status"].as_str().unwrap().to_string();
            let want = match decisions[0] {
                "approval.approved" => "executed",
                "approval.denied" => "denied",
                _ => "expired",
            };
            assert_eq!(status, want, "{b}: {id}");
            executed += usize::from(status == "executed");
        }
        assert_eq!(
            containments(&s),
            executed,
            "{b}: each approved call ran exactly once"
        );
    }
}

backend_tests! {
    async fn an_approved_call_interrupted_by_a_restart_is_failed_never_rerun(s: TestServer) {
        let b = s.backend;
        let key = s.agent_key("remediation-agent");
        let org = s.running.store.org_by_slug("demo").await.unwrap().unwrap();
        let store = &s.running.store;
        let now = s.running.engine.now_ms();
        // As if a process died after the approval, in the middle of the call: one call
        // approved 16 minutes ago, one approved just now, and one approved 16 minutes
        // ago whose process still beats (a long call, alive).
        let mut running = Vec::new();
        for (host, decided_ms) in [
            ("h-crash", now - 16 * 60_000),
            ("h-fresh", now),
            ("h-long", now - 16 * 60_000),
        ] {
            let id: ApprovalId = s.escalate(&key, contain(host)).await.parse().unwrap();
            let mut approved =
                ApprovalChange::new(&[ApprovalStatus::Pending], ApprovalStatus::Approved);
            approved.decided_ms = Some(decided_ms);
            assert!(store.change_approval(org.id, id, &approved).await.unwrap());
            let executing =
                ApprovalChange::new(&[ApprovalStatus::Approved], ApprovalStatus::Executing);
            assert!(store.change_approval(org.id, id, &executing).await.unwrap());
            running.push(id);
        }
        let (id, fresh, long) = (running[0], running[1], running[2]);
        assert!(store.beat_approval(org.id, long, now).await.unwrap());
        // A restart runs the recovery. On SQLite no other process can be running a call,
        // so both were interrupted; on PostgreSQL another replica may be running the
        // fresh one right now, so only the call approved longer ago than any call takes.
        let shared = store.shared();
        assert_eq!(
            s.recover_interrupted().await,
            if shared { 1 } else { 3 },
            "{b}"
        );
        for live in [fresh, long] {
            let (_, detail) = s.admin().approval(&live).await;
            assert_eq!(
                detail["approval"]["status"],
                if shared { "executing" } else { "failed" },
                "{b}"
            );
        }
        let (code, out) = s.client(&key).poll(&id.to_string(), 0).await;
        assert_eq!(code, 502, "{b}: {out}");
        assert!(error_message(&out).contains("not run again"), "{b}: {out}");
        assert_eq!(containments(&s), 0, "{b}: never re-run");
        assert_eq!(s.recover_interrupted().await, 0, "{b}: once");
        assert!(
            s.audit_kinds().await.iter().any(|k| k == "approval.failed"),
            "{b}"
        );
    }
}

backend_tests! {
    async fn the_seed_rule_shows_the_changes_being_closed_and_closes_them_on_approval(
        s: TestServer,
    ) {
        let b = s.backend;
        let policy = "rules:\n  - id: change-close-over-one\n    when: servicenow.changes:close\n    if: size(payload.change_ids) > 1\n    then: approval_required\n    approvers: [secops-leads]\n    timeout: 4h\n    diff_shown_to_approver: true\n";
        assert_eq!(s.put_policy(&s.admin_token(), policy).await, 200, "{b}");
        let close = json!({"connector": "servicenow", "operation": "changes:close",
                           "params": {"change_ids": ["chg-a", "chg-b"], "close_code": "successful", "close_notes": "patched"}});
        let id = s.escalate(&s.agent_key("remediation-agent"), close).await;
        let (_, d) = s.admin().approval(&id).await;
        assert_eq!(
            d["approval"]["requirements"]["approver_groups"],
            json!(["secops-leads"]),
            "{b}"
        );
        let rows = d["state"]["rows"]
            .as_array()
            .unwrap_or_else(|| panic!("{b}: {d}"));
        let states: Vec<(&str, &str)> = rows
            .iter()
            .filter(|r| r["field"] == "state")
            .map(|r| {
                (
                    r["current"].as_str().unwrap(),
                    r["proposed"].as_str().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            states,
            [("1", "3"), ("1", "3")],
            "{b}: both changes, open now, closed after: {d}"
        );
        assert!(
            rows.iter().any(|r| r["field"] == "close_code"
                && r["proposed"] == "successful"
                && r["changed"] == true),
            "{b}"
        );

        let lead = s
            .user_token("secops-lead@demo.arx.local", Role::Reviewer)
            .await;
        let uid = s.user_id("secops-lead@demo.arx.local").await;
        s.admin()
            .put(
                &format!("/v1/admin/users/{uid}/groups"),
                json!({"groups": ["secops-leads"]}),
            )
            .await;
        // The triage agent's owner is this lead, but the rule does not forbid owners here.
        let (code, out) = s.client(&lead).approve(&id, Some("CAB approved")).await;
        assert_eq!(
            (code, out["approval"]["status"].as_str()),
            (200, Some("executed")),
            "{b}: {out}"
        );
        let patches = s
            .sim()
            .requests()
            .iter()
            .filter(|r| r.method == "PATCH" && r.path.contains("/change_request/chg-"))
            .count();
        assert_eq!(patches, 2, "{b}: one PATCH per change");
        let (_, got) = s.execute(&s.agent_key("remediation-agent"), json!({"connector": "servicenow", "operation": "changes:get", "params": {"sys_id": "chg-a"}})).await;
        assert_eq!(got["result"]["result"]["state"], "3", "{b}: {got}");
    }
}

fn fix_bucket(account: &str) -> Value {
    json!({"connector": "azure", "operation": "storage_accounts:update",
           "params": {"resource_group": "rg-data", "account": account, "allow_blob_public_access": false}})
}

async fn grant(s: &TestServer, key: &str) -> String {
    let body = json!({"connector": "azure", "operations": ["storage_accounts:update"], "ttl": "15m",
                      "reason": "turn off public blob access on logsprod", "wait_seconds": 0,
                      "resource": {"param": "account", "value": "logsprod"}});
    let (code, out) = s.client(key).post("/v1/sdk/grants", body).await;
    assert_eq!(code, 202, "{}: {out}", s.backend);
    let id = out["approval_id"].as_str().unwrap().to_string();
    let (code, out) = s
        .admin()
        .approve(&id, Some("15 minutes, that bucket only"))
        .await;
    assert_eq!(
        (code, out["approval"]["status"].as_str()),
        (200, Some("executed")),
        "{}: {out}",
        s.backend
    );
    id
}

backend_tests! {
    async fn a_fifteen_minute_grant_permits_one_resource_then_reverts_by_itself(b: Backend) {
        let clock = Arc::new(ManualClock::new(1_800_000_000_000));
        let s = start_with_clock(b, clock.clone()).await;
        let b = s.backend;
        let key = s.agent_key("remediation-agent");
        let (code, _) = s.execute(&key, fix_bucket("logsprod")).await;
        assert_eq!(code, 202, "{b}: a high-risk cloud write escalates");

        let too_long = json!({"connector": "azure", "operations": ["storage_accounts:update"], "ttl": "2h", "reason": "x"});
        let (code, out) = s.client(&key).post("/v1/sdk/grants", too_long).await;
        assert!(
            code == 400 && error_message(&out).contains("maximum of 1h"),
            "{b}: {out}"
        );

        let approval = grant(&s, &key).await;
        let (_, d) = s.admin().approval(&approval).await;
        assert_eq!(
            d["approval"]["params"]["resource"]["value"], "logsprod",
            "{b}: the reviewer saw the exact scope"
        );
        let (code, out) = s.client(&key).poll(&approval, 0).await;
        assert_eq!(
            (code, out["status"].as_str()),
            (200, Some("active")),
            "{b}: {out}"
        );

        let out = s.execute_permitted(&key, fix_bucket("logsprod")).await;
        assert_eq!(
            out["result"]["properties"]["allowBlobPublicAccess"], false,
            "{b}: {out}"
        );
        let (code, _) = s.execute(&key, fix_bucket("another-account")).await;
        assert_eq!(code, 202, "{b}: only the granted resource");
        let (code, _) = s
            .execute(&s.agent_key("triage-agent"), fix_bucket("logsprod"))
            .await;
        assert_eq!(code, 202, "{b}: only the granted agent");

        clock.advance_ms(15 * 60_000);
        s.running.engine.system().expire_due().await.unwrap();
        let (code, _) = s.execute(&key, fix_bucket("logsprod")).await;
        assert_eq!(code, 202, "{b}: reverted by itself after 15 minutes");

        // Suspension ends a grant at once; so does an admin's revoke.
        grant(&s, &key).await;
        let agent_id = s.agent_id("remediation-agent");
        s.admin().suspend_agent(&agent_id, "drift").await;
        s.admin()
            .post(
                &format!("/v1/admin/agents/{agent_id}/reactivate"),
                json!({"reason": "cleared"}),
            )
            .await;
        let (code, _) = s.execute(&key, fix_bucket("logsprod")).await;
        assert_eq!(code, 202, "{b}: suspension revoked the grant");
        grant(&s, &key).await;
        let (_, list) = s.admin_get("/v1/admin/grants").await;
        let active = list["grants"]
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["status"] == "active")
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string();
        let (code, out) = s
            .admin()
            .post(
                &format!("/v1/admin/grants/{active}/revoke"),
                json!({"reason": "done early"}),
            )
            .await;
        assert_eq!(
            (code, out["grant"]["status"].as_str()),
            (200, Some("revoked")),
            "{b}: {out}"
        );
        let (code, _) = s.execute(&key, fix_bucket("logsprod")).await;
        assert_eq!(code, 202, "{b}: revoked");

        let kinds = s.audit_kinds().await;
        for (k, n) in [
            ("grant.requested", 3),
            ("grant.active", 3),
            ("grant.expired", 1),
            ("grant.revoked", 2),
        ] {
            assert_eq!(kinds.iter().filter(|x| *x == k).count(), n, "{b}: {k}");
        }
        let permitted = s
            .audit()
            .await
            .into_iter()
            .filter(|r| r["kind"] == "execute.intercept" && r["fields"]["grant_id"].is_string())
            .count();
        assert_eq!(
            permitted, 1,
            "{b}: the intercept names the grant that permitted it"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_decision_on_another_replica_wakes_the_waiting_agent() {
    let Some((a, b)) = crate::harness::two_replicas().await else {
        return;
    };

    let key = a.agent_key("remediation-agent");
    let id = a.escalate(&key, contain("h-replica")).await;
    let waiter = {
        let (http, url, key) = (
            a.http.clone(),
            a.url(&format!("/v1/sdk/approvals/{id}?wait_seconds=20")),
            key.clone(),
        );
        tokio::spawn(async move {
            let r = http.get(url).bearer_auth(key).send().await.unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    let started = std::time::Instant::now();
    let r = a
        .http
        .post(format!("http://{}/v1/admin/approvals/{id}/deny", b.addr))
        .bearer_auth(a.admin_token())
        .json(&json!({"comment": "decided on replica B"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let (code, out) = waiter.await.unwrap();
    assert_eq!(
        (code, out["error"]["code"].as_str()),
        (403, Some("approval_denied")),
        "{out}"
    );
    // Woken by the notification, long before the 20 s wait would have ended.
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
}
