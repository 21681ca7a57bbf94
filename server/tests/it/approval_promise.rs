//! The approval promise under attack (issue 8): a grant used on an instance it was not
//! asked for, a grant approved under less than the rule it bypasses, a grant of a rule
//! that says it cannot be granted, votes of reviewers who lost their rights, an approval
//! after expiry, grants of a suspended agent, and an approved call whose approver's
//! connection drops. Each test performs the attack and asserts the refusal.

use std::time::Duration;

use arx_core::ids::{AgentId, ApprovalId, GrantId};
use arx_core::model::{ApprovalChange, ApprovalStatus, Grant, GrantStatus, Role};
use arx_core::store::prelude::*;
use arx_testkit::backend_tests;
use serde_json::{Value, json};

use crate::harness::{TestServer, contain, containments, error_message};

const SECOPS: &str = "secops-leads";

/// A second Azure subscription of the demo org, in dev, on the simulator.
async fn add_dev_azure(s: &TestServer) {
    let (code, out) = s
        .admin()
        .post(
            "/v1/admin/instances",
            json!({"connector": "azure", "name": "dev-sub", "environment": "dev",
                   "variables": s.sim().variables_for("azure"),
                   "credentials": arx_simulator::demo_credentials("azure")}),
        )
        .await;
    assert_eq!(code, 201, "{}: {out}", s.backend);
}

fn fix_bucket(instance: &str) -> Value {
    json!({"connector": "azure", "operation": "storage_accounts:update", "instance": instance,
           "params": {"resource_group": "rg-data", "account": "logsprod", "allow_blob_public_access": false}})
}

async fn set_groups(s: &TestServer, email: &str, groups: &[&str]) {
    let id = s.user_id(email).await;
    let (code, out) = s
        .admin()
        .put(
            &format!("/v1/admin/users/{id}/groups"),
            json!({ "groups": groups }),
        )
        .await;
    assert_eq!(code, 200, "{out}");
}

/// A reviewer of the demo org in `groups`; their API token.
async fn reviewer(s: &TestServer, email: &str, groups: &[&str]) -> String {
    let token = s.user_token(email, Role::Reviewer).await;
    set_groups(s, email, groups).await;
    token
}

async fn put_policy(s: &TestServer, yaml: &str) {
    assert_eq!(s.put_policy(&s.admin_token(), yaml).await, 200, "{yaml}");
}

const TWO_SECOPS: &str = r#"
rules:
  - id: azure-writes-two
    when: { connectors: [azure], operations: ["storage_accounts:*"] }
    then: ESCALATE
    approvers: [secops-leads]
    min_approvals: 2
    forbid_owner_approval: true
"#;

backend_tests! {
    async fn a_grant_covers_only_its_instance_and_needs_what_the_rules_it_bypasses_need(
        s: TestServer,
    ) {
        let b = s.backend;
        add_dev_azure(&s).await;
        put_policy(&s, TWO_SECOPS).await;
        let key = s.agent_key("remediation-agent");
        let first = reviewer(&s, "first@demo.arx.local", &[SECOPS]).await;
        let second = reviewer(&s, "second@demo.arx.local", &[SECOPS]).await;
        let outsider = reviewer(&s, "outsider@demo.arx.local", &["ir-leads"]).await;

        let body = json!({"connector": "azure", "instance": "dev-sub",
                          "operations": ["storage_accounts:update"], "ttl": "15m",
                          "reason": "turn off public blob access", "wait_seconds": 0});
        let (code, out) = s.client(&key).post("/v1/sdk/grants", body).await;
        assert_eq!(code, 202, "{b}: {out}");
        let id = out["approval_id"].as_str().unwrap().to_string();

        // The reviewer sees the instance, its environment and what the calls would score there.
        let (_, d) = s.admin().approval(&id).await;
        let scope = &d["approval"]["params"];
        assert_eq!(
            (scope["instance"].as_str(), scope["environment"].as_str()),
            (Some("dev-sub"), Some("dev")),
            "{b}: {d}"
        );
        // high 30 + cloud 18 + dev 0.
        assert_eq!(scope["risk"]["storage_accounts:update"], 48, "{b}: {d}");
        let req = &d["approval"]["requirements"];
        assert_eq!(
            (req["min_approvals"].as_u64(), req["forbid_owner"].as_bool()),
            (Some(2), Some(true)),
            "{b}: the grant asks what the rule asks: {d}"
        );

        // Not one reviewer, not someone outside the rule's groups.
        let (code, out) = s.client(&outsider).approve(&id, Some("ok")).await;
        assert_eq!(code, 403, "{b}: {out}");
        let (code, out) = s.client(&first).approve(&id, Some("ok")).await;
        assert_eq!(
            (code, out["approval"]["status"].as_str()),
            (200, Some("pending")),
            "{b}: one approval of two: {out}"
        );
        let (code, out) = s.client(&second).approve(&id, Some("ok")).await;
        assert_eq!(
            (code, out["approval"]["status"].as_str()),
            (200, Some("executed")),
            "{b}: {out}"
        );

        // Covered on dev-sub only: the same call on prod still asks a human.
        s.execute_permitted(&key, fix_bucket("dev-sub")).await;
        let prod = fix_bucket(&prod_azure(&s).await);
        let (code, out) = s.execute(&key, prod.clone()).await;
        assert_eq!(code, 202, "{b}: a dev grant is not used on prod: {out}");

        // A rule that now asks for more than the grant was approved under is not bypassed.
        put_policy(
            &s,
            &TWO_SECOPS.replace("min_approvals: 2", "min_approvals: 3"),
        )
        .await;
        let (code, out) = s.execute(&key, fix_bucket("dev-sub")).await;
        assert_eq!(code, 202, "{b}: approved by 2, the rule now needs 3: {out}");

        // A rule may refuse grants: the request is refused and recorded.
        put_policy(
            &s,
            &format!("{TWO_SECOPS}    grantable: false\n")
                .replace("min_approvals: 2", "min_approvals: 1"),
        )
        .await;
        let (code, out) = s.execute(&key, fix_bucket("dev-sub")).await;
        assert_eq!(
            code, 202,
            "{b}: a grantable:false rule is not turned by an active grant: {out}"
        );
        let body = json!({"connector": "azure", "instance": "dev-sub",
                          "operations": ["storage_accounts:update"], "ttl": "15m",
                          "reason": "again", "wait_seconds": 0});
        let (code, out) = s.client(&key).post("/v1/sdk/grants", body).await;
        assert!(
            code == 403 && error_message(&out).contains("azure-writes-two"),
            "{b}: {out}"
        );
        assert!(
            s.audit_kinds().await.iter().any(|k| k == "grant.refused"),
            "{b}"
        );
    }
}

async fn prod_azure(s: &TestServer) -> String {
    let (_, i) = s.admin_get("/v1/admin/instances").await;
    i["instances"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["connector"] == "azure" && i["environment"] == "prod")
        .unwrap()["name"]
        .as_str()
        .unwrap()
        .to_string()
}

backend_tests! {
    async fn votes_of_reviewers_who_lost_their_rights_do_not_count_and_expired_requests_stay_unapproved(
        s: TestServer,
    ) {
        let b = s.backend;
        put_policy(
            &s,
            r#"
rules:
  - id: contain-two
    when: { connectors: [crowdstrike], operations: ["hosts:write"] }
    then: ESCALATE
    approvers: [secops-leads]
    min_approvals: 2
    require_reason: true
"#,
        )
        .await;
        let key = s.agent_key("remediation-agent");
        let first = reviewer(&s, "first@demo.arx.local", &[SECOPS]).await;
        let second = reviewer(&s, "second@demo.arx.local", &[SECOPS]).await;
        let id = s.escalate(&key, contain("host-votes")).await;
        let (code, _) = s.client(&first).approve(&id, Some("yes")).await;
        assert_eq!(code, 200, "{b}");
        // The first approver leaves the approver group before the second vote.
        set_groups(&s, "first@demo.arx.local", &[]).await;
        // The rule asks for a reason: an approval without one is refused.
        let (code, out) = s.client(&second).approve(&id, Some(" ")).await;
        assert!(
            code == 400 && error_message(&out).contains("say why"),
            "{b}: {out}"
        );
        let (code, out) = s.client(&second).approve(&id, Some("yes")).await;
        assert_eq!(
            (code, out["approval"]["status"].as_str()),
            (200, Some("pending")),
            "{b}: the removed reviewer's vote no longer counts: {out}"
        );
        assert_eq!(containments(&s), 0, "{b}");

        // The store refuses an approval after the request's expiry, whatever the sweeper did.
        let store = &s.running.store;
        let org = store.org_by_slug("demo").await.unwrap().unwrap();
        let approval: ApprovalId = id.parse().unwrap();
        let a = store.approval(org.id, approval).await.unwrap().unwrap();
        let mut late = ApprovalChange::new(&[ApprovalStatus::Pending], ApprovalStatus::Approved);
        late.unexpired_at = Some(a.expires_ms);
        assert!(
            !store
                .change_approval(org.id, approval, &late)
                .await
                .unwrap(),
            "{b}: approved at its expiry"
        );
        late.unexpired_at = Some(a.expires_ms - 1);
        assert!(
            store
                .change_approval(org.id, approval, &late)
                .await
                .unwrap(),
            "{b}: approved a millisecond before its expiry"
        );
    }
}

backend_tests! {
    async fn a_suspended_agent_gets_no_grant_and_suspension_ends_every_grant_however_many(
        s: TestServer,
    ) {
        let b = s.backend;
        let key = s.agent_key("remediation-agent");
        let agent_id: AgentId = s.agent_id("remediation-agent").parse().unwrap();
        // An active grant of the agent, then 600 newer grants of another agent.
        let body = json!({"connector": "azure", "operations": ["storage_accounts:update"],
                          "ttl": "15m", "reason": "fix the bucket", "wait_seconds": 0});
        let (_, out) = s.client(&key).post("/v1/sdk/grants", body.clone()).await;
        let id = out["approval_id"].as_str().unwrap().to_string();
        let (code, out) = s.admin().approve(&id, Some("ok")).await;
        assert_eq!(code, 200, "{b}: {out}");
        let store = &s.running.store;
        let org = store.org_by_slug("demo").await.unwrap().unwrap();
        let other: AgentId = s
            .demo()
            .agents
            .iter()
            .find(|a| a.name != "remediation-agent")
            .unwrap()
            .id
            .parse()
            .unwrap();
        let now = s.running.engine.now_ms();
        for i in 0..600 {
            let g = Grant {
                id: GrantId::new(),
                org_id: org.id,
                agent_id: other,
                connector: "azure".into(),
                instance_id: None,
                operations: vec!["storage_accounts:update".into()],
                resource: None,
                reason: "filler".into(),
                ttl_secs: 900,
                requirements: None,
                approval_id: ApprovalId::new(),
                status: GrantStatus::Active,
                created_ms: now + 1 + i,
                starts_ms: Some(now),
                expires_ms: Some(now + 900_000),
                ended_ms: None,
                ended_reason: String::new(),
            };
            store.create_grant(&g).await.unwrap();
        }
        let (code, out) = s.admin().suspend_agent(&agent_id, "investigating").await;
        assert!(code < 300, "{b}: {out}");
        let open = store.open_grants_of_agent(org.id, agent_id).await.unwrap();
        assert!(
            open.is_empty(),
            "{b}: still open after suspension: {open:?}"
        );

        // Suspended: no new grant.
        let (code, out) = s.client(&key).post("/v1/sdk/grants", body).await;
        assert!(
            code == 403 && error_message(&out).contains("suspended"),
            "{b}: {out}"
        );
    }
}

backend_tests! {
    async fn an_approved_call_runs_to_its_end_when_the_approvers_connection_drops(s: TestServer) {
        let b = s.backend;
        let key = s.agent_key("remediation-agent");
        let id = s.escalate(&key, contain("host-slow")).await;
        // The vendor takes 1.5 s; the approver's client gives up after 0.2 s.
        s.sim()
            .delay_connector("crowdstrike", Some(Duration::from_millis(1500)));
        let impatient = reqwest::Client::builder()
            .timeout(Duration::from_millis(200))
            .build()
            .unwrap();
        let r = impatient
            .post(s.url(&format!("/v1/admin/approvals/{id}/approve")))
            .bearer_auth(s.admin_token())
            .json(&json!({"comment": "go"}))
            .send()
            .await;
        assert!(r.is_err(), "{b}: the client was meant to give up");
        s.sim().delay_connector("crowdstrike", None);
        // Up to 30 s: the vendor takes 1.5 s, a loaded machine much more.
        let mut status = String::new();
        for _ in 0..600 {
            let (_, d) = s.admin().approval(&id).await;
            status = d["approval"]["status"].as_str().unwrap().to_string();
            if status == "executed" {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(status, "executed", "{b}: the call ran to its end");
        assert_eq!(containments(&s), 1, "{b}: once");
        let kinds = s.audit_kinds().await;
        assert!(
            kinds.iter().any(|k| k == "execute.result"),
            "{b}: {kinds:?}"
        );
    }
}

backend_tests! {
    async fn the_reviewer_is_told_how_many_records_a_call_covers_and_when_it_would_change_nothing(
        s: TestServer,
    ) {
        let b = s.backend;
        let key = s.agent_key("remediation-agent");
        // host-n1 is contained through an approved request.
        let (_, out) = s.execute(&key, contain("host-n1")).await;
        let first = out["approval_id"].as_str().unwrap().to_string();
        let (code, _) = s.admin().approve(&first, Some("contain it")).await;
        assert_eq!(code, 200, "{b}");
        // The vendor's answer is for admins and auditors, as bodies out of the chain are.
        let (_, d) = s.admin().approval(&first).await;
        assert!(
            d["approval"]["outcome"]["result"]["resources"].is_array(),
            "{b}: {d}"
        );
        let lead = reviewer(&s, "lead@demo.arx.local", &[SECOPS]).await;
        let (_, d) = s.client(&lead).approval(&first).await;
        assert!(
            d["approval"]["outcome"]["result"]["withheld"].is_string()
                && !d.to_string().contains("\"resources\":["),
            "{b}: a reviewer does not read the target's answer: {d}"
        );
        // The same containment again: the reviewer is told it changes nothing, since when.
        let again = s.escalate(&key, contain("host-n1")).await;
        let (_, d) = s.admin().approval(&again).await;
        let st = &d["state"];
        assert_eq!(
            (st["items"].as_u64(), st["unread"].as_u64()),
            (Some(1), Some(0)),
            "{b}: {d}"
        );
        assert_eq!(st["unchanged"]["earlier"], first.as_str(), "{b}: {d}");
        assert!(st["unchanged"]["since_ms"].as_i64().is_some(), "{b}: {d}");
        // Twenty-five hosts: ARX reads twenty and says five were not read.
        let hosts: Vec<String> = (0..25).map(|i| format!("host-m{i}")).collect();
        let mut many = contain("x");
        many["params"]["ids"] = json!(hosts);
        let id = s.escalate(&key, many).await;
        let (_, d) = s.admin().approval(&id).await;
        let st = &d["state"];
        assert_eq!(
            (st["items"].as_u64(), st["unread"].as_u64()),
            (Some(25), Some(5)),
            "{b}: {d}"
        );
        assert!(st["unchanged"].is_null(), "{b}: {d}");
    }
}
