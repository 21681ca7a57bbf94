//! Vendor responses out of the immutable chain (issue 8, point 12): the result record
//! holds the response's hash, size and declared projection, never its body; the body is
//! read back only by admins and auditors, checked against the chain's hash, and purged
//! under the org's retention while the chain keeps verifying.

use std::sync::Arc;

use arx_core::audit::{Actor, AuditDraft};
use arx_core::clock::ManualClock;
use arx_core::ids::RecordId;
use arx_core::model::Role;
use arx_core::store::prelude::*;
use arx_testkit::{Backend, backend_tests};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::harness::{TestServer, error_message, okta_users, start_with_clock};

const TRIAGE: &str = "triage-agent";
const DAY_MS: i64 = 86_400_000;

fn detections() -> Value {
    json!({"connector": "crowdstrike", "operation": "detections:read", "params": {"limit": 3}})
}

/// Runs a permitted call; the agent's result and the chain's result record.
async fn permitted(s: &TestServer, call: Value) -> (Value, Value) {
    let (status, body) = s.execute(&s.agent_key(TRIAGE), call).await;
    assert_eq!(status, 200, "{}: {body}", s.backend);
    let record = s
        .audit()
        .await
        .into_iter()
        .find(|r| r["id"] == body["result_audit_id"])
        .expect("the result record");
    (body["result"].clone(), record)
}

fn read_path(record: &Value) -> String {
    format!(
        "/v1/admin/audit/{}/response",
        record["id"].as_str().unwrap()
    )
}

async fn org_id(s: &TestServer) -> arx_core::ids::OrgId {
    let e = &s.running.engine;
    e.system().org_by_slug("demo").await.unwrap().unwrap().id
}

async fn put(s: &TestServer, token: &str, body: Value) -> (u16, Value) {
    s.client(token)
        .put("/v1/admin/settings/retention", body)
        .await
}

async fn chain_verifies(s: &TestServer) {
    let report = s
        .running
        .engine
        .system()
        .verify_org(org_id(s).await)
        .await
        .unwrap();
    assert!(report.is_ok(), "{}: chain broken: {report:?}", s.backend);
}

backend_tests! {
    async fn the_result_record_holds_hash_size_and_projection_but_no_body(s: TestServer) {
        let b = s.backend;
        let (result, record) = permitted(&s, detections()).await;
        let f = &record["fields"];
        assert!(f.get("response").is_none(), "{b}: body in the chain: {f}");
        let canonical = serde_json_canonicalizer::to_string(&result).unwrap();
        assert_eq!(
            f["response_sha256"],
            hex::encode(Sha256::digest(canonical.as_bytes())),
            "{b}"
        );
        assert_eq!(f["response_bytes"], canonical.len(), "{b}");
        assert_eq!(f["response_stored"], true, "{b}");
        let p = f["response_projection"].as_object().unwrap();
        let mut keys: Vec<&str> = p.keys().map(String::as_str).collect();
        keys.sort();
        assert_eq!(
            keys,
            ["meta.pagination.total", "meta.query_time", "resources.*"],
            "{b}: exactly the declared fields"
        );
        assert_eq!(p["resources.*"], result["resources"], "{b}");
        assert_eq!(p["meta.query_time"], result["meta"]["query_time"], "{b}");

        // Okta users carry names and emails: only ids and statuses reach the chain.
        let users = okta_users();
        let (result, record) = permitted(&s, users).await;
        let text = record["fields"].to_string();
        let email = result[0]["profile"]["email"].as_str().unwrap();
        assert!(!text.contains(email), "{b}: an email in the chain: {text}");
        assert_eq!(
            record["fields"]["response_projection"]["*.id"][0], result[0]["id"],
            "{b}"
        );

        // An operation without a projection keeps only hash, size and status.
        let details = json!({"connector": "okta", "operation": "groups:read", "params": {}});
        let (_, record) = permitted(&s, details).await;
        assert_eq!(record["fields"]["response_projection"], json!({}), "{b}");
        assert!(record["fields"]["response_sha256"].is_string(), "{b}");
        chain_verifies(&s).await;
    }
}

backend_tests! {
    async fn only_admins_and_auditors_of_the_org_read_a_body_and_it_matches_the_chain(
        s: TestServer,
    ) {
        let b = s.backend;
        let (result, record) = permitted(&s, detections()).await;
        let path = read_path(&record);

        let (status, got) = s.admin_get(&path).await;
        assert_eq!(status, 200, "{b}: {got}");
        assert_eq!(got["body"], result, "{b}");
        assert_eq!(got["verified"], true, "{b}");
        assert_eq!(got["sha256"], record["fields"]["response_sha256"], "{b}");
        assert_eq!(got["record_id"], record["id"], "{b}");
        assert!(
            s.audit_kinds().await.iter().any(|k| k == "response.read"),
            "{b}: the read is recorded"
        );

        let auditor = s.user_token("auditor@demo.example", Role::Auditor).await;
        let (status, got) = s.client(&auditor).get(&path).await;
        assert_eq!((status, got["verified"].clone()), (200, json!(true)), "{b}");

        for (email, role) in [
            ("reviewer@demo.example", Role::Reviewer),
            ("owner@demo.example", Role::Owner),
        ] {
            let t = s.user_token(email, role).await;
            let (status, got) = s.client(&t).get(&path).await;
            assert_eq!(status, 403, "{b}: {email}: {got}");
            assert!(got.get("body").is_none(), "{b}");
        }

        // Another org's admin does not learn that the record exists.
        let token = s.other_org_admin().await;
        let (status, got) = s.client(&token).get(&path).await;
        assert_eq!(status, 404, "{b}: {got}");
        let random = format!("/v1/admin/audit/{}/response", RecordId::new());
        assert_eq!(s.admin_get(&random).await.0, 404, "{b}");
        assert_eq!(
            s.admin_get("/v1/admin/audit/not-an-id/response").await.0,
            400,
            "{b}"
        );
        // A record that is not a call's result has no response.
        let intercept = format!(
            "/v1/admin/audit/{}/response",
            record["fields"]["intercept_id"].as_str().unwrap()
        );
        assert_eq!(s.admin_get(&intercept).await.0, 404, "{b}");
    }
}

backend_tests! {
    async fn a_tampered_body_row_reads_as_not_verified(s: TestServer) {
        let b = s.backend;
        let (_, record) = permitted(&s, detections()).await;
        sqlx::query("UPDATE response_bodies SET body = $1 WHERE record_id = $2")
            .bind(r#"{"errors":[],"meta":{},"resources":["ldt:forged"]}"#)
            .bind(record["id"].as_str().unwrap())
            .execute(s.running.store.pool())
            .await
            .unwrap();
        let (status, got) = s.admin_get(&read_path(&record)).await;
        assert_eq!(status, 200, "{b}: {got}");
        assert_eq!(got["verified"], false, "{b}: {got}");
        assert_eq!(got["body"]["resources"][0], "ldt:forged", "{b}");
        assert_eq!(got["sha256"], record["fields"]["response_sha256"], "{b}");
    }
}

backend_tests! {
    async fn a_body_that_cannot_be_stored_still_gets_its_result_record(s: TestServer) {
        let b = s.backend;
        let pool = s.running.store.pool();
        sqlx::query("ALTER TABLE response_bodies RENAME TO response_bodies_gone")
            .execute(pool)
            .await
            .unwrap();
        let (_, record) = permitted(&s, detections()).await;
        sqlx::query("ALTER TABLE response_bodies_gone RENAME TO response_bodies")
            .execute(pool)
            .await
            .unwrap();
        assert_eq!(record["fields"]["response_stored"], false, "{b}");
        assert!(record["fields"]["response_sha256"].is_string(), "{b}");
        let (status, got) = s.admin_get(&read_path(&record)).await;
        assert_eq!(status, 404, "{b}: {got}");
        assert!(error_message(&got).contains("not stored"), "{b}: {got}");
    }
}

backend_tests! {
    async fn retention_purges_old_bodies_records_the_purge_and_the_chain_still_verifies(
        b: Backend,
    ) {
        let clock = Arc::new(ManualClock::new(1_800_000_000_000));
        let s = start_with_clock(b, clock.clone()).await;
        assert_eq!(
            s.admin_get("/v1/admin/settings/retention").await.1["response_days"],
            30,
            "{b}: the default"
        );
        let reviewer = s.user_token("reviewer@demo.example", Role::Reviewer).await;
        assert_eq!(
            put(&s, &reviewer, json!({"response_days": 7})).await.0,
            403,
            "{b}"
        );
        let admin = s.admin_token();
        for bad in [
            json!({"response_days": 0}),
            json!({"response_days": 3651}),
            json!({"response_days": "7"}),
            json!({"days": 7}),
        ] {
            let (status, got) = put(&s, &admin, bad.clone()).await;
            assert_eq!(status, 400, "{b}: {bad}: {got}");
        }
        let (status, got) = put(&s, &admin, json!({"response_days": 7})).await;
        assert_eq!(
            (status, got["response_days"].clone()),
            (200, json!(7)),
            "{b}"
        );
        assert_eq!(
            s.admin_get("/v1/admin/settings/retention").await.1["response_days"],
            7,
            "{b}"
        );
        let changed = s
            .audit()
            .await
            .into_iter()
            .find(|r| r["kind"] == "settings.retention_changed")
            .expect("the change is recorded");
        assert_eq!(changed["fields"]["response_days"], 7, "{b}");
        assert_eq!(changed["fields"]["from"], 30, "{b}");

        let (_, old) = permitted(&s, detections()).await;
        clock.advance_ms(6 * DAY_MS);
        let (_, young) = permitted(&s, detections()).await;
        let e = &s.running.engine;
        assert_eq!(
            e.system().purge_responses().await.unwrap(),
            0,
            "{b}: nothing is 7 days old"
        );
        clock.advance_ms(2 * DAY_MS);
        assert_eq!(
            e.system().purge_responses().await.unwrap(),
            1,
            "{b}: the 8-day-old body"
        );

        let (status, got) = s.admin_get(&read_path(&old)).await;
        assert_eq!(status, 410, "{b}: {got}");
        assert_eq!(got["error"]["code"], "gone", "{b}");
        assert!(got["error"]["purged_at"].is_string(), "{b}: {got}");
        let (status, got) = s.admin_get(&read_path(&young)).await;
        assert_eq!((status, got["verified"].clone()), (200, json!(true)), "{b}");

        let purges = s.audit_of("responses.purged").await;
        assert_eq!(purges.len(), 1, "{b}: one record per purge run that purged");
        assert_eq!(purges[0]["fields"]["count"], 1, "{b}");
        assert_eq!(purges[0]["fields"]["retention_days"], 7, "{b}");
        // The purged call's record is untouched: it still names the hash it had.
        let still = s
            .audit()
            .await
            .into_iter()
            .find(|r| r["id"] == old["id"])
            .unwrap();
        assert_eq!(still, old, "{b}");
        chain_verifies(&s).await;
    }
}

backend_tests! {
    async fn a_result_recorded_with_its_body_in_the_chain_still_reads_and_verifies(s: TestServer) {
        let b = s.backend;
        let org = org_id(&s).await;
        let e = &s.running.engine;
        // A result record as written before responses left the chain.
        let legacy = s
            .running
            .store
            .append_audit(vec![AuditDraft {
                org_id: org,
                id: RecordId::new(),
                ts_ms: e.now_ms(),
                kind: "execute.result".into(),
                actor: Actor::system(),
                // The fields every result record had then, the answer among them.
                fields: json!({
                    "intercept_id": RecordId::new(), "intercept_seq": 1,
                    "agent_id": arx_core::ids::AgentId::new(), "connector": "crowdstrike",
                    "operation": "hosts:contain", "status": "ok", "http_status": 200,
                    "latency_ms": 12.5, "error": null, "approval_id": null,
                    "response": {"resources": ["ldt:1"]},
                }), guard_epoch: None,
            }])
            .await
            .unwrap()
            .pop()
            .unwrap();
        let (status, got) = s
            .admin_get(&format!("/v1/admin/audit/{}/response", legacy.id))
            .await;
        assert_eq!(status, 200, "{b}: {got}");
        assert_eq!(got["body"], json!({"resources": ["ldt:1"]}), "{b}");
        assert_eq!(got["verified"], true, "{b}");
        chain_verifies(&s).await;
    }
}

backend_tests! {
    async fn the_console_shows_the_hash_to_all_and_the_body_to_admins_with_its_verdict(
        s: TestServer,
    ) {
        let b = s.backend;
        let (result, record) = permitted(&s, detections()).await;
        let id = record["id"].as_str().unwrap();
        let sha = record["fields"]["response_sha256"].as_str().unwrap();
        let detection = result["resources"][0].as_str().unwrap();
        let link = format!("/audit/response?id={id}");

        let admin = s
            .console_session(&s.demo().admin_email, &s.demo().admin_password)
            .await;
        let trail = s.page_html("/audit", &admin).await;
        assert!(trail.contains(sha), "{b}: the hash is shown");
        assert!(trail.contains(&link), "{b}: admins get the link");
        let shown = s.page_html(&link, &admin).await;
        assert!(
            shown.contains("data-verified=\"true\"") && shown.contains(detection),
            "{b}: {shown}"
        );

        s.user_token("rev-console@demo.example", Role::Reviewer)
            .await;
        let reviewer = s
            .console_session("rev-console@demo.example", "correct horse battery")
            .await;
        let trail = s.page_html("/audit", &reviewer).await;
        assert!(trail.contains(sha), "{b}: reviewers see the hash");
        assert!(!trail.contains(&link), "{b}: but no link");
        let refused = s.page_html(&link, &reviewer).await;
        assert!(
            !refused.contains(detection) && refused.contains("admins and auditors"),
            "{b}: {refused}"
        );

        sqlx::query("UPDATE response_bodies SET body = $1 WHERE record_id = $2")
            .bind(r#"{"resources":["ldt:forged"]}"#)
            .bind(id)
            .execute(s.running.store.pool())
            .await
            .unwrap();
        let shown = s.page_html(&link, &admin).await;
        assert!(shown.contains("data-verified=\"false\""), "{b}: {shown}");
    }
}
