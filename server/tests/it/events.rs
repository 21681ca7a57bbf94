//! The audit trail as a contract: every record the server writes parses as its typed
//! event (none falls back to `Other`), and each event serializes back to exactly the
//! fields the chain holds, so readers of the types see what was hashed.

use arx_core::audit::{AuditEvent, AuditRecord};
use serde_json::json;

use arx_testkit::backend_tests;

use crate::harness::{TestServer, contain, okta_users};

/// Calls that leave most kinds of record: permitted, denied, rejected and escalated
/// calls; an approval, a denial and a grant; a key revoked and used; sign-in and out.
async fn exercise(s: &TestServer) {
    let b = s.backend;
    let admin = s.admin_token();
    let triage = s.agent_key("triage-agent");
    let remediation = s.agent_key("remediation-agent");
    let read = json!({"connector": "okta", "operation": "users:read", "params": {"limit": 5}});
    assert_eq!(s.execute(&triage, read).await.0, 200, "{b}");
    let bogus = json!({"connector": "okta", "operation": "nope", "params": {}});
    assert_eq!(s.execute(&triage, bogus).await.0, 400, "{b}");

    // Escalated calls: one approved (it runs), one denied.
    for (host, verb) in [("host-ev-1", "approve"), ("host-ev-2", "deny")] {
        let mut body = contain(host);
        body["wait_seconds"] = json!(0);
        let id = s.escalate(&remediation, body).await;
        let (code, out) = s
            .client(&admin)
            .post(
                &format!("/v1/admin/approvals/{id}/{verb}"),
                json!({"comment": "checked"}),
            )
            .await;
        assert_eq!(code, 200, "{b}: {out}");
    }
    let grant = json!({"connector": "azure", "operations": ["storage_accounts:update"], "ttl": "15m",
                       "reason": "one bucket", "wait_seconds": 0,
                       "resource": {"param": "account", "value": "logsprod"}});
    let (code, out) = s.client(&remediation).post("/v1/sdk/grants", grant).await;
    assert_eq!(code, 202, "{b}: {out}");
    let id = out["approval_id"].as_str().unwrap();
    let path = format!("/v1/admin/approvals/{id}/approve");
    let (code, out) = s.client(&admin).post(&path, json!({"comment": "ok"})).await;
    assert_eq!(code, 200, "{b}: {out}");

    // A key revoked, then used (a coalesced refusal).
    let (_, agents) = s.admin_get("/v1/admin/agents").await;
    let agent = agents["agents"][0]["id"].as_str().unwrap().to_string();
    let (_, key) = s
        .admin()
        .post(&format!("/v1/admin/agents/{agent}/keys"), json!({}))
        .await;
    let secret = key["api_key"].as_str().unwrap();
    let key_id = key["key"]["id"].as_str().unwrap();
    let (code, _) = s
        .admin()
        .delete(&format!("/v1/admin/agents/{agent}/keys/{key_id}"))
        .await;
    assert!(code < 300, "{b}: revoking a key answered {code}");
    let read = okta_users();
    assert_eq!(s.execute(secret, read).await.0, 401, "{b}");

    // A failed console sign-in, and a token issued and revoked.
    s.http
        .post(s.url("/auth/login"))
        .header("origin", s.url(""))
        .form(&[
            ("email", "admin@demo.arx.local"),
            ("password", "wrong password"),
        ])
        .send()
        .await
        .unwrap();
    let (_, t) = s
        .admin()
        .post("/v1/admin/tokens", json!({"name": "events"}))
        .await;
    if let Some(id) = t["token"]["id"].as_str() {
        s.admin().delete(&format!("/v1/admin/tokens/{id}")).await;
    }

    // Last, as they change what later calls would meet: a policy version, a suspension.
    let policy = "rules:\n  - id: deny-kill\n    when: crowdstrike.rtr:command_active_responder\n    then: deny\n";
    assert_eq!(s.put_policy(&admin, policy).await, 200, "{b}");
    let (code, out) = s.admin().suspend_agent(&agent, "rotating its keys").await;
    assert!(code < 300, "{b}: {out}");
}

backend_tests! {
    async fn every_record_parses_as_its_typed_event_and_serializes_back_exactly(s: TestServer) {
        let b = s.backend;
        exercise(&s).await;
        let records = s.audit().await;
        let mut kinds = std::collections::BTreeSet::new();
        for r in &records {
            let r: AuditRecord = serde_json::from_value(r.clone()).unwrap();
            let event = r.event().unwrap_or_else(|e| panic!("{b}: {e}"));
            assert!(
                !matches!(event, AuditEvent::Other { .. }),
                "{b}: record kind {} has no typed event: {}",
                r.kind,
                r.fields
            );
            assert_eq!(event.kind(), r.kind, "{b}");
            assert_eq!(
                event.fields().unwrap(),
                r.fields,
                "{b}: {} does not serialize back to the fields the chain holds",
                r.kind
            );
            kinds.insert(r.kind.clone());
        }
        for kind in [
            "org.created",
            "user.created",
            "agent.created",
            "agent.key_issued",
            "agent.key_revoked",
            "instance.created",
            "instance.credentials_set",
            "policy.version_created",
            "execute.intercept",
            "execute.result",
            "execute.rejected",
            "execute.unauthenticated",
            "approval.requested",
            "approval.approved",
            "approval.executing",
            "approval.executed",
            "approval.denied",
            "grant.requested",
            "grant.active",
            "agent.suspended",
            "user.login_failed",
            "user.token_issued",
            "user.token_revoked",
        ] {
            assert!(
                kinds.contains(kind),
                "{b}: the exercise wrote no {kind}: {kinds:?}"
            );
        }
    }
}
