//! The reviewer's diff reads the target with the instance's credentials: it follows the
//! audit-first rule (recorded before it is sent, not sent when it cannot be recorded) and
//! is read once per request, however often the page is opened.

use arx_testkit::backend_tests;
use serde_json::Value;

use crate::harness::{TestServer, contain};

/// Reads of the containment's state (CrowdStrike `hosts:get`) the simulator saw.
fn state_reads(s: &TestServer) -> usize {
    s.sim()
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/devices/entities/devices/v2"))
        .count()
}

/// A pending containment's approval id.
async fn pending(s: &TestServer, host: &str) -> String {
    let (status, body) = s
        .execute(&s.agent_key("remediation-agent"), contain(host))
        .await;
    assert_eq!(status, 202, "{}: {body}", s.backend);
    body["approval_id"].as_str().unwrap().to_string()
}

async fn detail(s: &TestServer, id: &str) -> Value {
    let (status, d) = s.admin().approval(&id).await;
    assert_eq!(status, 200, "{}: {d}", s.backend);
    d
}

/// Makes every audit append fail while reads of the chain still work.
async fn break_audit_writes(s: &TestServer, broken: bool) {
    let sql: &[&str] = match (s.backend, broken) {
        ("sqlite", true) => &[
            "CREATE TRIGGER arx_test_no_audit BEFORE INSERT ON audit_records \
             BEGIN SELECT RAISE(ABORT, 'audit writes broken by the test'); END",
        ],
        ("sqlite", false) => &["DROP TRIGGER arx_test_no_audit"],
        (_, true) => &[
            "CREATE FUNCTION arx_test_no_audit() RETURNS trigger AS $$ \
             BEGIN RAISE EXCEPTION 'audit writes broken by the test'; END $$ LANGUAGE plpgsql",
            "CREATE TRIGGER arx_test_no_audit BEFORE INSERT ON audit_records \
             FOR EACH ROW EXECUTE FUNCTION arx_test_no_audit()",
        ],
        (_, false) => &[
            "DROP TRIGGER arx_test_no_audit ON audit_records",
            "DROP FUNCTION arx_test_no_audit()",
        ],
    };
    for q in sql {
        sqlx::query(q)
            .execute(s.running.store.pool())
            .await
            .unwrap();
    }
}

backend_tests! {
    async fn the_diff_is_read_once_and_recorded_before_it_is_sent(s: TestServer) {
        let b = s.backend;
        let id = pending(&s, "host-once").await;
        assert_eq!(state_reads(&s), 0, "{b}");
        // Two reviewers open the page at once, then again.
        let (d1, d2) = tokio::join!(detail(&s, &id), detail(&s, &id));
        let d3 = detail(&s, &id).await;
        for d in [&d1, &d2, &d3] {
            assert!(d["state"]["error"].is_null(), "{b}: {d}");
            assert_eq!(d["state"]["rows"], d1["state"]["rows"], "{b}");
        }
        assert_eq!(state_reads(&s), 1, "{b}: one read for three openings");
        let audit = s.audit().await;
        let of_this = |kind: &str| {
            audit
                .iter()
                .filter(|r| r["kind"] == kind && r["fields"]["approval_id"] == id.as_str())
                .cloned()
                .collect::<Vec<_>>()
        };
        let intents = of_this("approval.state_read");
        let results = of_this("approval.state_read_result");
        assert_eq!(intents.len(), 1, "{b}: exactly one state-read record");
        assert_eq!(results.len(), 1, "{b}");
        assert_eq!(
            results[0]["fields"]["state_read_id"], intents[0]["id"],
            "{b}"
        );
        assert!(
            intents[0]["seq"].as_i64() < results[0]["seq"].as_i64(),
            "{b}: recorded before the answer"
        );
    }
}

backend_tests! {
    async fn no_state_read_leaves_when_it_cannot_be_recorded(s: TestServer) {
        let b = s.backend;
        let id = pending(&s, "host-unrecorded").await;
        break_audit_writes(&s, true).await;
        let d = detail(&s, &id).await;
        break_audit_writes(&s, false).await;
        assert_eq!(
            d["state"]["error"], "state unavailable: audit unavailable",
            "{b}: {d}"
        );
        assert_eq!(state_reads(&s), 0, "{b}: the read was not sent");
        // Not kept: once the audit works again, the read is made (and recorded).
        let d = detail(&s, &id).await;
        assert!(d["state"]["error"].is_null(), "{b}: {d}");
        assert_eq!(state_reads(&s), 1, "{b}");
    }
}
