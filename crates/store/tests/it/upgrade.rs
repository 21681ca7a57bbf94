//! Upgrades keep what an older version wrote: each test migrates a database to an older
//! version, writes through the store, then migrates to the newest and reads it back.

use std::collections::BTreeMap;

use arx_core::ids::{AgentId, ApprovalId, InstanceId, OrgId, RecordId, UserId};
use arx_core::integration::{ApprovalNotice, IntegrationKind};
use arx_core::model::{
    Agent, AgentStatus, ApprovalKind, ApprovalRequest, ApprovalStatus, ApprovalVote, Environment,
    Instance, Org, Role, Source, User,
};
use arx_core::policy::Escalation;
use arx_core::store::prelude::*;
use arx_core::store::{FleetQuery, FleetRows};
use arx_store::SqlStore;
use arx_testkit::{Backend, TestDb, backend_tests};
use serde_json::json;

/// A user as versions before 17 wrote one (no source, last sign-in or break-glass flag).
async fn insert_v16_user(s: &SqlStore, u: &User) {
    sqlx::query(
        "INSERT INTO users (id, org_id, email, name, role, password_hash, active, groups, created_ms) \
         VALUES ($1, $2, $3, $4, $5, $6, 1, '[]', $7)",
    )
    .bind(u.id.to_string())
    .bind(u.org_id.to_string())
    .bind(&u.email)
    .bind(&u.name)
    .bind(u.role.map_or("", Role::as_str))
    .bind(u.password_hash.clone())
    .bind(u.created_ms)
    .execute(s.pool())
    .await
    .unwrap();
}

backend_tests! {
    async fn approvals_with_votes_and_notices_survive_the_rebuild_for_manifest_requests(b: Backend) {
        let db = TestDb::create(b).await.unwrap();
        let s = SqlStore::connect(db.url()).await.unwrap();
        s.migrate_until(13).await.unwrap();

        let org = Org { id: OrgId::new(), slug: "o".into(), name: "o".into(), policy_version: 0, created_ms: 1 };
        s.create_org(&org, "v1:wrapped").await.unwrap();
        let agent = Agent {
            id: AgentId::new(), org_id: org.id, name: "a".into(), description: String::new(),
            owner: "o@example.com".into(), labels: BTreeMap::new(), status: AgentStatus::Active,
            declared_rate: 60, created_ms: 1, manifest_version: None,
        };
        s.create_agent(&agent).await.unwrap();
        let inst = Instance {
            id: InstanceId::new(), org_id: org.id, connector: "okta".into(), name: "main".into(),
            environment: Environment::Prod, variables: BTreeMap::new(), sensitivity: None,
            sealed_credentials: None, credentials_set: false, created_ms: 1,
        };
        s.create_instance(&inst).await.unwrap();
        let user = User {
            id: UserId::new(), org_id: org.id, email: "r@example.com".into(), name: "r".into(),
            role: Some(Role::Reviewer), password_hash: None, active: true, groups: vec![],
            slack_user_id: None, created_ms: 1, source: Source::Local, last_login_ms: None,
            break_glass: false, member_of: vec![],
        };
        insert_v16_user(&s, &user).await;
        let call = ApprovalRequest {
            id: ApprovalId::new(), org_id: org.id, agent_id: agent.id, instance_id: Some(inst.id),
            connector: "okta".into(), operation: "users:suspend".into(),
            params: json!({"user_id": "u1"}), params_hash: "h".into(), intercept_id: RecordId::new(),
            risk_score: 70, policy_id: "r".into(), status: ApprovalStatus::Pending, created_ms: 5,
            expires_ms: 9_999, requirements: Escalation::org_default(3600), decided_ms: None,
            decided_by: vec![], comment: String::new(), outcome: None, result_audit_id: None,
            kind: ApprovalKind::Call, heartbeat_ms: None,
        };
        s.create_approval(&call).await.unwrap();
        let vote = ApprovalVote {
            approval_id: call.id, user_id: user.id, email: user.email.clone(), comment: "ok".into(), created_ms: 6,
        };
        assert!(s.add_approval_vote(org.id, &vote).await.unwrap());
        let notice = ApprovalNotice {
            org_id: org.id, approval_id: call.id, kind: IntegrationKind::Slack, channel: "C1".into(),
            message_ts: "1.2".into(), status: ApprovalStatus::Pending, votes: 1, updated_ms: 7,
        };
        assert!(s.claim_approval_notice(&notice, None).await.unwrap());

        s.migrate().await.unwrap();
        assert_eq!(s.approval(org.id, call.id).await.unwrap().as_ref(), Some(&call), "{b:?}");
        assert_eq!(s.approval_votes(org.id, call.id).await.unwrap(), vec![vote.clone()]);
        let kept = s.approval_notice(org.id, call.id, IntegrationKind::Slack).await.unwrap();
        assert_eq!(kept.map(|n| (n.status, n.votes)), Some((ApprovalStatus::Pending, 1)));

        // A manifest request is for no instance now; references are still enforced.
        let manifest = ApprovalRequest {
            id: ApprovalId::new(), instance_id: None, kind: ApprovalKind::Manifest,
            connector: "registry".into(), operation: "manifest".into(), ..call.clone()
        };
        s.create_approval(&manifest).await.unwrap();
        assert_eq!(s.approval(org.id, manifest.id).await.unwrap().map(|a| a.instance_id), Some(None));
        let stray = ApprovalVote { approval_id: ApprovalId::new(), ..vote };
        assert!(s.add_approval_vote(org.id, &stray).await.is_err(), "a vote for no request is refused");
    }
}

backend_tests! {
    async fn agents_labels_written_before_the_labels_table_are_found_by_selectors(b: Backend) {
        let db = TestDb::create(b).await.unwrap();
        let s = SqlStore::connect(db.url()).await.unwrap();
        s.migrate_until(15).await.unwrap();
        let org = Org { id: OrgId::new(), slug: "o".into(), name: "o".into(), policy_version: 0, created_ms: 1 };
        s.create_org(&org, "v1:wrapped").await.unwrap();
        // As version 15 wrote an agent: its labels only in the agent's row.
        for (name, labels) in [("a", r#"{"env":"prod","team":"soc"}"#), ("b", r#"{"env":"dev"}"#), ("c", "{}")] {
            sqlx::query(
                "INSERT INTO agents (id, org_id, name, description, owner, labels, status, declared_rate, created_ms) \
                 VALUES ($1, $2, $3, '', 'o@example.com', $4, 'active', 60, 1)",
            )
            .bind(AgentId::new().to_string())
            .bind(org.id.to_string())
            .bind(name)
            .bind(labels)
            .execute(s.pool())
            .await
            .unwrap();
        }

        s.migrate().await.unwrap();
        let page = |sel: &str| FleetQuery {
            selector: arx_core::registry::Selector::parse(sel).unwrap(),
            group_by: Some("env".into()),
            limit: 10,
            ..Default::default()
        };
        let names = |r: &FleetRows| r.rows.iter().map(|r| r.agent.name.clone()).collect::<Vec<_>>();
        let found = s.fleet_page(org.id, &page("env=prod,team")).await.unwrap();
        assert_eq!(names(&found), vec!["a"], "{b:?}");
        let found = s.fleet_page(org.id, &page("!team")).await.unwrap();
        assert_eq!((names(&found), found.total), (vec!["b".to_string(), "c".to_string()], 2));
        let mut groups = found.groups.unwrap();
        groups.sort();
        assert_eq!(groups, vec![(None, 1), (Some("dev".to_string()), 1)]);
    }
}

backend_tests! {
    async fn the_first_local_admin_of_each_org_becomes_its_break_glass_account(b: Backend) {
        let db = TestDb::create(b).await.unwrap();
        let s = SqlStore::connect(db.url()).await.unwrap();
        s.migrate_until(16).await.unwrap();
        let org = Org { id: OrgId::new(), slug: "o".into(), name: "o".into(), policy_version: 0, created_ms: 1 };
        s.create_org(&org, "v1:wrapped").await.unwrap();
        let user = |email: &str, role: Role, password: bool, created_ms: i64| User {
            id: UserId::new(), org_id: org.id, email: email.into(), name: email.into(), role: Some(role),
            password_hash: password.then(|| "$argon2id$x".to_string()), active: true, groups: vec![],
            slack_user_id: None, created_ms, source: Source::Local, last_login_ms: None,
            break_glass: false, member_of: vec![],
        };
        let first = user("first@o.example", Role::Admin, true, 5);
        for u in [
            user("reviewer@o.example", Role::Reviewer, true, 1),
            user("sso-admin@o.example", Role::Admin, false, 2),
            first.clone(),
            user("second@o.example", Role::Admin, true, 9),
        ] {
            insert_v16_user(&s, &u).await;
        }
        sqlx::query("INSERT INTO sessions (id, data, expires_ms) VALUES ('old-cookie-id', $1, 99999999999999)")
            .bind(b"{}".to_vec())
            .execute(s.pool())
            .await
            .unwrap();

        s.migrate().await.unwrap();
        let glass: Vec<String> = s.list_users(org.id).await.unwrap().into_iter()
            .filter(|u| u.break_glass).map(|u| u.email).collect();
        assert_eq!(glass, vec![first.email.clone()], "{b:?}");
        let u = s.user(org.id, first.id).await.unwrap().unwrap();
        assert_eq!((u.source, u.last_login_ms, u.member_of.len()), (Source::Local, None, 0));
        assert_eq!(
            s.session_load("old-cookie-id", 1).await.unwrap(),
            None,
            "{b:?}: sessions keyed by the raw cookie id end with the upgrade"
        );
    }
}

/// A record as versions before 22 wrote one (no actor or approval column).
async fn insert_v21_record(s: &SqlStore, r: &arx_core::audit::AuditRecord) {
    sqlx::query(
        "INSERT INTO audit_records (org_id, seq, id, ts_ms, kind, agent_id, connector, operation, verdict, risk_score, record, hash) \
         VALUES ($1, $2, $3, $4, $5, NULL, NULL, NULL, NULL, NULL, $6, $7)",
    )
    .bind(r.org_id.to_string())
    .bind(r.seq)
    .bind(r.id.to_string())
    .bind(r.ts_ms())
    .bind(&r.kind)
    .bind(serde_json::to_string(r).unwrap())
    .bind(&r.hash)
    .execute(s.pool())
    .await
    .unwrap();
}

backend_tests! {
    async fn records_written_before_full_text_are_found_by_text_actor_and_approval(b: Backend) {
        use arx_core::audit::{Actor, AuditDraft, ChainHead, seal};
        use arx_core::store::{AuditFilter, AuditQuery};
        let db = TestDb::create(b).await.unwrap();
        let s = SqlStore::connect(db.url()).await.unwrap();
        s.migrate_until(21).await.unwrap();
        let org = Org { id: OrgId::new(), slug: "o".into(), name: "o".into(), policy_version: 0, created_ms: 1 };
        s.create_org(&org, "v1:wrapped").await.unwrap();
        let reviewer = UserId::new();
        let approval = ApprovalId::new();
        let draft = |kind: &str, actor: Actor, fields: serde_json::Value| AuditDraft {
            org_id: org.id, id: RecordId::new(), ts_ms: 1_700_000_000_000, kind: kind.into(), actor, fields, guard_epoch: None,
        };
        let mut head = ChainHead::genesis();
        let old = [
            draft("execute.intercept", Actor::agent(AgentId::new(), "a"),
                  json!({"params": {"hostname": "WS-042.corp.example"}, "reason": "contain it"})),
            draft("approval.approved", Actor::user(reviewer, "r@example.com"),
                  json!({"approval_id": approval, "from": "pending", "comment": "per IR-5521"})),
        ];
        for d in old {
            insert_v21_record(&s, &seal(&mut head, d).unwrap().0).await;
        }

        s.migrate().await.unwrap();
        // An org made after the upgrade, whose records share the words: each org's
        // search sees its own.
        let later = Org { id: OrgId::new(), slug: "later".into(), name: "later".into(), policy_version: 0, created_ms: 2 };
        s.create_org(&later, "v1:wrapped").await.unwrap();
        let new = |org: OrgId| AuditDraft {
            org_id: org, id: RecordId::new(), ts_ms: 1_700_000_001_000, kind: "execute.intercept".into(),
            actor: Actor::system(), fields: json!({"params": {"hostname": "ws-042.corp.example"}}), guard_epoch: None,
        };
        s.append_audit(vec![new(org.id), new(later.id)]).await.unwrap();

        let find = |filter: AuditFilter, org: OrgId| {
            let s = &s;
            async move {
                let page = s.audit_page(org, &AuditQuery::newest(filter, 50)).await.unwrap();
                page.iter().map(|r| r.seq).collect::<Vec<_>>()
            }
        };
        let text = |words: &[&str]| AuditFilter { text: words.iter().map(|w| w.to_string()).collect(), ..Default::default() };
        assert_eq!(find(text(&["ws 042 corp"]), org.id).await, vec![3, 1], "{b:?}: old and new records, newest first");
        assert_eq!(find(text(&["ws 042 corp"]), later.id).await, vec![1], "{b:?}: the other org's own only");
        assert_eq!(find(text(&["ir 5521"]), org.id).await, vec![2], "{b:?}");
        // Pages of a text search follow the same keyset, either way.
        let page = |cursor: i64, oldest_first: bool| AuditQuery {
            cursor: Some(cursor), oldest_first, ..AuditQuery::newest(text(&["ws 042 corp"]), 1)
        };
        let seqs = |r: Vec<arx_core::audit::AuditRecord>| r.iter().map(|r| r.seq).collect::<Vec<_>>();
        assert_eq!(seqs(s.audit_page(org.id, &page(3, false)).await.unwrap()), vec![1], "{b:?}");
        assert_eq!(seqs(s.audit_page(org.id, &page(1, true)).await.unwrap()), vec![3], "{b:?}");
        assert_eq!(seqs(s.audit_page(org.id, &page(3, true)).await.unwrap()), Vec::<i64>::new(), "{b:?}");
        let facets = s.audit_search(org.id, &AuditQuery::newest(text(&["ws 042 corp"]), 50)).await.unwrap().1;
        assert!(!facets.limited && facets.verdicts.is_empty(), "{b:?}: {facets:?}");
        assert_eq!(find(text(&["contain", "042"]), org.id).await, vec![1], "{b:?}: every phrase");
        assert_eq!(find(text(&["042 ws"]), org.id).await, Vec::<i64>::new(), "{b:?}: a phrase is in order");
        let actor = AuditFilter { actor: Some(reviewer.to_string()), ..Default::default() };
        assert_eq!(find(actor, org.id).await, vec![2], "{b:?}");
        let system = AuditFilter { actor: Some("system".into()), ..Default::default() };
        assert_eq!(find(system, org.id).await, vec![3], "{b:?}");
        let named = AuditFilter { approval: Some(approval), ..Default::default() };
        assert_eq!(find(named, org.id).await, vec![2], "{b:?}");
    }
}

backend_tests! {
    /// Records appended before the search index left the chain (migration 0029) are in
    /// the index as soon as the upgrade ends, found by their filters and words once each;
    /// a record appended after it is found the same way.
    async fn records_from_before_the_index_left_the_chain_are_indexed_by_the_upgrade(b: Backend) {
        use arx_core::audit::{Actor, AuditDraft};
        use arx_core::store::{AuditFilter, AuditQuery};
        let db = TestDb::create(b).await.unwrap();
        let s = SqlStore::connect(db.url()).await.unwrap();
        s.migrate_until(28).await.unwrap();
        let org = Org { id: OrgId::new(), slug: "o".into(), name: "o".into(), policy_version: 0, created_ms: 1 };
        s.create_org(&org, "v1:wrapped").await.unwrap();
        let draft = |host: &str, verdict: &str| AuditDraft {
            org_id: org.id, id: RecordId::new(), ts_ms: 1_700_000_000_000, kind: "execute.intercept".into(),
            actor: Actor::system(), guard_epoch: None,
            fields: json!({"params": {"hostname": host}, "verdict": verdict, "connector": "crowdstrike"}),
        };
        s.append_audit(vec![draft("ws-1.corp", "PERMIT"), draft("ws-2.corp", "DENY"), draft("ws-1.corp", "DENY")])
            .await
            .unwrap();

        s.migrate().await.unwrap();
        let indexed: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_index WHERE org_id = $1")
            .bind(org.id.to_string())
            .fetch_one(s.pool())
            .await
            .unwrap();
        assert_eq!(indexed, 3, "{b:?}: copied by the migration, before any search");
        s.append_audit(vec![draft("ws-1.corp", "PERMIT")]).await.unwrap();

        let find = |filter: AuditFilter| {
            let s = &s;
            async move {
                let page = s.audit_page(org.id, &AuditQuery::newest(filter, 50)).await.unwrap();
                page.iter().map(|r| r.seq).collect::<Vec<_>>()
            }
        };
        let text = |w: &str| AuditFilter { text: vec![w.into()], ..Default::default() };
        assert_eq!(find(text("ws 1 corp")).await, vec![4, 3, 1], "{b:?}: old and new, once each");
        assert_eq!(find(text("ws 2 corp")).await, vec![2], "{b:?}");
        let denied = AuditFilter { verdict: Some("DENY".into()), ..Default::default() };
        assert_eq!(find(denied).await, vec![3, 2], "{b:?}");
        let both = AuditFilter { verdict: Some("PERMIT".into()), ..text("ws 1") };
        assert_eq!(find(both).await, vec![4, 1], "{b:?}");
    }
}
