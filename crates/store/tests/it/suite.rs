//! What every backend must do the same way.

use std::collections::BTreeMap;
use std::sync::Arc;

use arx_core::CoreError;
use arx_core::audit::{Actor, AuditDraft, ChainHead, Verifier};
use arx_core::engine::AuditWriter;
use arx_core::ids::{AgentId, InstanceId, KeyId, OrgId, RecordId};
use arx_core::model::{Agent, AgentKey, AgentStatus, Environment, Instance, Org, PolicyVersion};
use arx_core::policy::{PolicyDoc, Rule, Verdict};
use arx_core::store::AuditQuery;
use arx_core::store::prelude::*;
use arx_store::SqlStore;
use arx_testkit::backend_tests;
use serde_json::json;

use crate::backends::Db;

async fn org(s: &SqlStore, slug: &str) -> Org {
    let o = Org {
        id: OrgId::new(),
        slug: slug.into(),
        name: slug.into(),
        policy_version: 0,
        created_ms: 1,
    };
    s.create_org(&o, "v1:wrapped").await.unwrap();
    o
}

fn agent(org: OrgId, name: &str) -> Agent {
    Agent {
        id: AgentId::new(),
        org_id: org,
        name: name.into(),
        description: String::new(),
        owner: "owner@example.com".into(),
        labels: BTreeMap::from([("env".into(), "prod".into())]),
        status: AgentStatus::Active,
        declared_rate: 60,
        created_ms: 1,
        manifest_version: None,
    }
}

fn draft(org: OrgId, n: i64) -> AuditDraft {
    AuditDraft {
        org_id: org,
        id: RecordId::new(),
        ts_ms: 1_700_000_000_000 + n,
        kind: "execute.intercept".into(),
        actor: Actor::system(),
        fields: json!({"n": n, "agent_id": "a", "connector": "crowdstrike", "verdict": "PERMIT", "risk": {"score": 42}}),
        guard_epoch: None,
    }
}

async fn verify(s: &SqlStore, org: OrgId) -> ChainHead {
    let mut v = Verifier::default();
    for r in s.audit_after(org, 0, 100_000).await.unwrap() {
        v.push(&r).unwrap();
    }
    let head = s.chain_head(org).await.unwrap();
    v.finish(&head).unwrap();
    head
}

backend_tests! {
    async fn rows_are_scoped_to_their_org(s: Db) {
        let name = s.backend;
        let (a, b) = (org(&s, "a").await, org(&s, "b").await);
        let (ag_a, ag_b) = (agent(a.id, "triage"), agent(b.id, "triage"));
        s.create_agent(&ag_a).await.unwrap();
        s.create_agent(&ag_b).await.unwrap();
        assert_eq!(
            s.list_agents(a.id).await.unwrap(),
            vec![ag_a.clone()],
            "{name}"
        );
        assert!(
            s.agent(a.id, ag_b.id).await.unwrap().is_none(),
            "{name}: read across orgs"
        );
        assert!(
            !s.set_agent_status(a.id, ag_b.id, AgentStatus::Suspended)
                .await
                .unwrap(),
            "{name}"
        );
        assert_eq!(
            s.agent(b.id, ag_b.id).await.unwrap().unwrap().status,
            AgentStatus::Active,
            "{name}"
        );

        let key = AgentKey {
            id: KeyId::new(),
            org_id: b.id,
            agent_id: ag_b.id,
            prefix: "arx_x".into(),
            hash: "h1".into(),
            created_ms: 1,
            revoked_ms: None,
            last_used_ms: None,
        };
        s.create_agent_key(&key).await.unwrap();
        assert!(
            !s.revoke_agent_key(a.id, key.id, 5).await.unwrap(),
            "{name}: revoke across orgs"
        );
        assert!(
            s.list_agent_keys(a.id, ag_b.id).await.unwrap().is_empty(),
            "{name}"
        );
        let found = s.agent_by_key_hash("h1").await.unwrap().unwrap();
        assert_eq!((found.key.id, found.agent.id, found.org.id), (key.id, ag_b.id, b.id), "{name}");
        assert!(s.revoke_agent_key(b.id, key.id, 5).await.unwrap(), "{name}");
        let revoked = s.agent_by_key_hash("h1").await.unwrap().unwrap();
        assert_eq!(revoked.key.revoked_ms, Some(5), "{name}");
        assert!(revoked.epoch > found.epoch, "{name}: a revoked key moves the org's epoch");

        let inst = Instance {
            id: InstanceId::new(),
            org_id: b.id,
            connector: "okta".into(),
            name: "main".into(),
            environment: Environment::Prod,
            variables: BTreeMap::new(),
            sensitivity: Some(3),
            sealed_credentials: None,
            credentials_set: false,
            created_ms: 1,
        };
        s.create_instance(&inst).await.unwrap();
        assert!(s.instance(a.id, inst.id).await.unwrap().is_none(), "{name}");
        assert!(
            s.instances_of(a.id, "okta").await.unwrap().value.is_empty(),
            "{name}"
        );
        assert!(
            !s.set_instance_credentials(a.id, inst.id, "v1:x")
                .await
                .unwrap(),
            "{name}"
        );
        assert!(
            s.set_instance_credentials(b.id, inst.id, "v1:x")
                .await
                .unwrap(),
            "{name}"
        );
        let got = s.instance(b.id, inst.id).await.unwrap().unwrap();
        assert!(got.credentials_set && got.sensitivity == Some(3), "{name}");

        s.append_audit(vec![draft(b.id, 1)]).await.unwrap();
        assert!(
            s.audit_page(
                a.id,
                &AuditQuery::newest(Default::default(), 50)
            )
            .await
            .unwrap()
            .is_empty(),
            "{name}"
        );
        assert_eq!(s.audit_count(b.id).await.unwrap(), 1, "{name}");
    }
}

backend_tests! {
    async fn duplicates_are_conflicts_not_internal_errors(s: Db) {
        let name = s.backend;
        let o = org(&s, "dup").await;
        let a = agent(o.id, "x");
        s.create_agent(&a).await.unwrap();
        let again = agent(o.id, "x");
        let e = s.create_agent(&again).await.unwrap_err();
        assert_eq!(e.code(), "conflict", "{name}: {e:?}");
    }
}

backend_tests! {
    async fn appends_chain_per_org_with_gapless_seq(s: Db) {
        let name = s.backend;
        let (a, b) = (org(&s, "a").await, org(&s, "b").await);
        let recs = s
            .append_audit(vec![draft(a.id, 1), draft(b.id, 1), draft(a.id, 2)])
            .await
            .unwrap();
        assert_eq!(
            recs.iter().map(|r| r.seq).collect::<Vec<_>>(),
            vec![1, 1, 2],
            "{name}"
        );
        s.append_audit(vec![draft(a.id, 3)]).await.unwrap();
        assert_eq!(verify(&s, a.id).await.seq, 3, "{name}");
        assert_eq!(verify(&s, b.id).await.seq, 1, "{name}");
        let page = s
            .audit_page(
                a.id,
                &AuditQuery::newest(Default::default(), 2),
            )
            .await
            .unwrap();
        assert_eq!(
            page.iter().map(|r| r.seq).collect::<Vec<_>>(),
            vec![3, 2],
            "{name}: newest first"
        );
        let next = s
            .audit_page(
                a.id,
                &AuditQuery {
                    cursor: Some(2),
                    ..AuditQuery::newest(Default::default(), 2)
                },
            )
            .await
            .unwrap();
        assert_eq!(
            next.iter().map(|r| r.seq).collect::<Vec<_>>(),
            vec![1],
            "{name}"
        );
    }
}

backend_tests! {
    async fn a_time_range_of_one_kind_pages_in_time_order_without_gaps_or_repeats(s: Db) {
        let name = s.backend;
        let (a, b) = (org(&s, "a").await, org(&s, "b").await);
        // Intercepts at 1..=30 (three per millisecond, so pages split equal times), other
        // kinds in between, and another org's intercepts in the same range.
        let mut drafts = Vec::new();
        for n in 1..=30 {
            let mut d = draft(a.id, n / 3);
            d.fields["n"] = n.into();
            drafts.push(d);
            let mut other = draft(a.id, n / 3);
            other.kind = "execute.result".into();
            drafts.push(other);
            drafts.push(draft(b.id, n / 3));
        }
        s.append_audit(drafts).await.unwrap();
        let t0 = 1_700_000_000_000;
        let range = (t0 + 2, t0 + 7);
        let mut got = Vec::new();
        let mut after = None;
        loop {
            let page = s
                .audit_in_range(a.id, "execute.intercept", range, after, 4)
                .await
                .unwrap();
            let Some(last) = page.last() else { break };
            after = Some((last.ts_ms(), last.seq));
            got.extend(page);
        }
        assert!(got.iter().all(|r| r.kind == "execute.intercept"), "{name}");
        let ns: Vec<i64> = got
            .iter()
            .map(|r| r.fields["n"].as_i64().unwrap())
            .collect();
        // n / 3 in 2..=7 is n in 6..=23, each exactly once and in order.
        assert_eq!(ns, (6..=23).collect::<Vec<_>>(), "{name}");
        assert_eq!(
            s.audit_count_in_range(a.id, "execute.intercept", range)
                .await
                .unwrap(),
            18,
            "{name}"
        );
        assert_eq!(
            s.audit_count_in_range(a.id, "execute.intercept", (t0 + 100, t0 + 200))
                .await
                .unwrap(),
            0,
            "{name}"
        );
    }
}

backend_tests! {
    async fn slack_links_are_unique_per_org_and_simulations_keep_the_newest(s: Db) {
        use arx_core::engine::{SimStatus, SimulationReport};
        use arx_core::ids::UserId;
        use arx_core::model::{Role, User};
        let name = s.backend;
        let (a, b) = (org(&s, "a").await, org(&s, "b").await);
        let user = |org: OrgId, email: &str| User {
            id: UserId::new(),
            org_id: org,
            email: email.into(),
            name: email.into(),
            role: Some(Role::Reviewer),
            password_hash: None,
            active: true,
            groups: vec![],
            slack_user_id: None,
            created_ms: 1,
            source: arx_core::model::Source::Local,
            last_login_ms: None,
            break_glass: false,
            member_of: vec![],
        };
        let (u1, u2, other) = (
            user(a.id, "u1@a.example"),
            user(a.id, "u2@a.example"),
            user(b.id, "u@b.example"),
        );
        for u in [&u1, &u2, &other] {
            s.create_user(u).await.unwrap();
        }
        assert!(
            s.set_user_slack(a.id, u1.id, Some("U1")).await.unwrap(),
            "{name}"
        );
        let taken = s.set_user_slack(a.id, u2.id, Some("U1")).await;
        assert!(
            matches!(taken, Err(CoreError::Conflict(_))),
            "{name}: {taken:?}"
        );
        assert!(
            s.set_user_slack(b.id, other.id, Some("U1")).await.unwrap(),
            "{name}: another org may"
        );
        assert!(
            !s.set_user_slack(b.id, u1.id, Some("U9")).await.unwrap(),
            "{name}: not b's user"
        );
        let found = s.user_by_slack(a.id, "U1").await.unwrap().unwrap();
        assert_eq!(found.id, u1.id, "{name}");
        assert!(s.set_user_slack(a.id, u1.id, None).await.unwrap(), "{name}");
        assert!(
            s.user_by_slack(a.id, "U1").await.unwrap().is_none(),
            "{name}"
        );

        let report = |started_ms: i64, status: SimStatus| SimulationReport {
            status,
            ..SimulationReport::new(0, 1, 0, started_ms, String::new())
        };
        let mut running = report(10, SimStatus::Running);
        s.put_simulation(a.id, &running, 10).await.unwrap();
        assert!(
            s.cancel_simulation(a.id, running.id).await.unwrap(),
            "{name}"
        );
        assert!(
            !s.cancel_simulation(b.id, running.id).await.unwrap(),
            "{name}: org-walled"
        );
        // The runner's writes never clear a cancel request.
        running.scanned = 5;
        s.put_simulation(a.id, &running, 11).await.unwrap();
        let stored = s.simulation(a.id, running.id).await.unwrap().unwrap();
        assert_eq!(
            (
                stored.report.scanned,
                stored.cancel_requested,
                stored.updated_ms
            ),
            (5, true, 11),
            "{name}"
        );
        assert!(
            s.simulation_cancel_requested(a.id, running.id)
                .await
                .unwrap(),
            "{name}"
        );
        assert!(
            s.simulation(b.id, running.id).await.unwrap().is_none(),
            "{name}"
        );
        for t in 20..25 {
            s.put_simulation(a.id, &report(t, SimStatus::Done), t)
                .await
                .unwrap();
        }
        // Keep 3: the newest three finished jobs stay, and so does the running one (fresh).
        s.prune_simulations(a.id, 3, 0).await.unwrap();
        let left: Vec<i64> = s
            .simulations(a.id, 50)
            .await
            .unwrap()
            .iter()
            .map(|x| x.report.started_ms)
            .collect();
        assert_eq!(left, [24, 23, 22, 10], "{name}");
        // A running job that stopped writing is pruned like a finished one.
        s.prune_simulations(a.id, 3, 12).await.unwrap();
        let left = s.simulations(a.id, 50).await.unwrap().len();
        assert_eq!(left, 3, "{name}");
    }
}

backend_tests! {
    async fn concurrent_writers_never_fork_or_gap_the_chain(s: Db) {
        let name = s.backend;
        let o = org(&s, "c").await;
        let store: Arc<dyn Store> = Arc::new(s.clone());
        let writer = AuditWriter::start(store);
        let tasks: Vec<_> = (0..200)
            .map(|i| {
                let w = writer.clone();
                tokio::spawn(async move { w.append_one(draft(o.id, i)).await.unwrap().seq })
            })
            .collect();
        let mut seqs: Vec<i64> = futures_join(tasks).await;
        seqs.sort_unstable();
        assert_eq!(seqs, (1..=200).collect::<Vec<_>>(), "{name}");
        assert_eq!(verify(&s, o.id).await.seq, 200, "{name}");
    }
}

backend_tests! {
    async fn two_replicas_appending_at_once_keep_one_unbroken_chain(s: Db) {
        let name = s.backend;
        let o = org(&s, "r").await;
        // A second store on the same database: another replica with its own head cache.
        let url = s.url().to_string();
        let other = SqlStore::connect(&url).await.unwrap();
        let writers = [
            AuditWriter::start(Arc::new(s.clone())),
            AuditWriter::start(Arc::new(other)),
        ];
        let tasks: Vec<_> = (0..300)
            .map(|i| {
                let w = writers[i % 2].clone();
                tokio::spawn(async move { w.append_one(draft(o.id, i as i64)).await.unwrap().seq })
            })
            .collect();
        let mut seqs = futures_join(tasks).await;
        seqs.sort_unstable();
        assert_eq!(
            seqs,
            (1..=300).collect::<Vec<_>>(),
            "{name}: every append landed once"
        );
        assert_eq!(
            verify(&s, o.id).await.seq,
            300,
            "{name}: one unbroken chain"
        );
    }
}

async fn futures_join(tasks: Vec<tokio::task::JoinHandle<i64>>) -> Vec<i64> {
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.unwrap());
    }
    out
}

backend_tests! {
    async fn the_audit_table_rejects_update_and_delete(s: Db) {
        let name = s.backend;
        let o = org(&s, "t").await;
        s.append_audit(vec![draft(o.id, 1)]).await.unwrap();
        for (verb, sql) in [
            ("UPDATE", "UPDATE audit_records SET kind = 'forged'"),
            ("DELETE", "DELETE FROM audit_records"),
        ] {
            let refused = sqlx::query(sql).execute(s.pool()).await;
            assert!(
                refused.unwrap_err().to_string().contains("append-only"),
                "{name}: {verb} went through"
            );
        }
        assert_eq!(s.audit_count(o.id).await.unwrap(), 1, "{name}");
        assert_eq!(verify(&s, o.id).await.seq, 1, "{name}");
    }
}

fn version(org: OrgId, n: i64) -> PolicyVersion {
    PolicyVersion {
        org_id: org,
        version: n,
        doc: PolicyDoc {
            rules: vec![Rule::new(&format!("rule-{n}"), Verdict::Deny)],
            ..Default::default()
        },
        author_id: None,
        author: "test".into(),
        message: format!("v{n}"),
        summary: String::new(),
        created_ms: n,
    }
}

backend_tests! {
    async fn policy_versions_move_by_compare_and_set_and_never_change(s: Db) {
        let name = s.backend;
        let o = org(&s, "p").await;
        let other = org(&s, "q").await;
        assert!(
            s.create_policy_version(&version(o.id, 1)).await.unwrap(),
            "{name}"
        );
        // A second writer that also read version 0 loses, and leaves nothing behind.
        assert!(
            !s.create_policy_version(&version(o.id, 1)).await.unwrap(),
            "{name}"
        );
        assert!(
            !s.create_policy_version(&version(o.id, 3)).await.unwrap(),
            "{name}"
        );
        assert!(
            s.create_policy_version(&version(o.id, 2)).await.unwrap(),
            "{name}"
        );
        assert_eq!(
            s.org(o.id).await.unwrap().unwrap().policy_version,
            2,
            "{name}"
        );
        let all = s.list_policy_versions(o.id).await.unwrap();
        assert_eq!(
            all.iter().map(|v| v.version).collect::<Vec<_>>(),
            [2, 1],
            "{name}"
        );
        assert_eq!(all[1], version(o.id, 1), "{name}: stored as written");
        assert!(
            s.list_policy_versions(other.id).await.unwrap().is_empty(),
            "{name}"
        );
        assert!(
            s.policy_version(other.id, 1).await.unwrap().is_none(),
            "{name}"
        );
        for sql in [
            "UPDATE policy_versions SET message = 'forged'",
            "DELETE FROM policy_versions",
        ] {
            let e = sqlx::query(sql).execute(s.pool()).await.unwrap_err();
            assert!(
                e.to_string().contains("immutable"),
                "{name}: {sql} went through"
            );
        }
    }
}

backend_tests! {
    async fn a_failed_append_leaves_nothing_behind(s: Db) {
        let name = s.backend;
        let o = org(&s, "f").await;
        s.append_audit(vec![draft(o.id, 1)]).await.unwrap();
        // A draft for an org that does not exist violates the foreign key mid-batch.
        let ghost = OrgId::new();
        assert!(
            s.append_audit(vec![draft(o.id, 2), draft(ghost, 1)])
                .await
                .is_err(),
            "{name}"
        );
        assert_eq!(
            s.audit_count(o.id).await.unwrap(),
            1,
            "{name}: partial batch committed"
        );
        assert_eq!(s.chain_head(o.id).await.unwrap().seq, 1, "{name}");
        s.append_audit(vec![draft(o.id, 3)]).await.unwrap();
        assert_eq!(verify(&s, o.id).await.seq, 2, "{name}");
    }
}

backend_tests! {
    async fn sessions_expire_and_an_ended_one_stays_ended(s: Db) {
        use arx_core::store::SessionWrite;
        let name = s.backend;
        let w = |data: &'static [u8], expires_ms: i64| SessionWrite {
            data,
            expires_ms,
            owner: None,
            client: None,
            now_ms: 7,
        };
        let data = |r: Option<arx_core::store::SessionRow>| r.map(|r| r.data);
        assert!(s.session_create("sid", &w(b"data", 1_000)).await.unwrap(), "{name}");
        assert!(
            !s.session_create("sid", &w(b"other", 9_000)).await.unwrap(),
            "{name}: an id is never reused"
        );
        assert_eq!(data(s.session_load("sid", 999).await.unwrap()), Some(b"data".to_vec()), "{name}");
        assert_eq!(s.session_load("sid", 1_000).await.unwrap(), None, "{name}");
        s.session_save("sid", &w(b"new", 5_000)).await.unwrap();
        let row = s.session_load("sid", 1_000).await.unwrap().unwrap();
        assert_eq!((row.data, row.created_ms, row.last_seen_ms), (b"new".to_vec(), 7, 7), "{name}");
        assert_eq!(s.session_delete_expired(6_000).await.unwrap(), 1, "{name}");
        s.session_save("sid", &w(b"late", 9_000)).await.unwrap();
        assert_eq!(
            s.session_load("sid", 1).await.unwrap(),
            None,
            "{name}: a save after the session ended does not bring it back"
        );
    }
}

backend_tests! {
    async fn a_sign_in_in_progress_is_taken_once_swept_when_expired_and_capped_per_org(s: Db) {
        use arx_core::store::SsoLogin;
        let name = s.backend;
        let a = org(&s, "sso-a").await;
        let b = org(&s, "sso-b").await;
        let login = |org: OrgId, state: &str, expires_ms: i64| SsoLogin {
            state_hash: state.into(),
            org_id: org,
            protocol: "oidc".into(),
            data: json!({"nonce": "n"}),
            expires_ms,
        };
        assert!(s.sso_login_put(&login(a.id, "s1", 1_000), 0, 2).await.unwrap(), "{name}");
        assert!(s.sso_login_put(&login(a.id, "s2", 1_000), 0, 2).await.unwrap(), "{name}");
        assert!(
            !s.sso_login_put(&login(a.id, "s3", 1_000), 0, 2).await.unwrap(),
            "{name}: the org's cap is reached"
        );
        assert!(
            s.sso_login_put(&login(b.id, "s3", 1_000), 0, 2).await.unwrap(),
            "{name}: another org's sign-ins do not count"
        );
        let taken = s.sso_login_take("s1").await.unwrap().unwrap();
        assert_eq!((taken.org_id, taken.data), (a.id, json!({"nonce": "n"})), "{name}");
        assert_eq!(s.sso_login_take("s1").await.unwrap(), None, "{name}: a state works once");
        // Storing one after the others expired sweeps them (and frees the cap).
        assert!(s.sso_login_put(&login(a.id, "s4", 9_000), 1_000, 1).await.unwrap(), "{name}");
        assert_eq!(s.sso_login_take("s2").await.unwrap(), None, "{name}: swept");
        assert_eq!(s.sso_login_take("s3").await.unwrap(), None, "{name}: swept in every org");
        assert!(s.sso_login_take("s4").await.unwrap().is_some(), "{name}");
    }
}

backend_tests! {
    async fn full_text_finds_rare_and_common_words_alike(s: Db) {
        use arx_core::store::{AuditFilter, FACET_WINDOW};
        let name = s.backend;
        let o = org(&s, "text").await;
        // Every record says "beaconing"; every 500th also names one host, alternately
        // denied and permitted. PostgreSQL reads the host through its index (few
        // matches) and the common word along seq order (more than a facet window).
        let total = FACET_WINDOW as i64 + 20;
        let drafts: Vec<AuditDraft> = (1..=total)
            .map(|n| {
                let rare = n % 500 == 0;
                let mut d = draft(o.id, n);
                d.fields["params"] = json!({
                    "note": "beaconing seen",
                    "host": if rare { "ws-042.corp" } else { "ws-7.corp" },
                });
                d.fields["verdict"] = json!(if rare && n % 1000 == 0 { "DENY" } else { "PERMIT" });
                d
            })
            .collect();
        s.append_audit(drafts).await.unwrap();
        let text = |words: &[&str]| AuditFilter {
            text: words.iter().map(|w| w.to_string()).collect(),
            ..Default::default()
        };
        let seqs = |page: Vec<arx_core::audit::AuditRecord>| page.iter().map(|r| r.seq).collect::<Vec<_>>();
        let hosts: Vec<i64> = (1..=total).filter(|n| n % 500 == 0).rev().collect();

        let page = s.audit_page(o.id, &AuditQuery::newest(text(&["ws 042 corp"]), 50)).await.unwrap();
        assert_eq!(seqs(page), hosts, "{name}: every record of the host, newest first");
        let after = AuditQuery { cursor: Some(5000), ..AuditQuery::newest(text(&["ws 042 corp"]), 3) };
        assert_eq!(seqs(s.audit_page(o.id, &after).await.unwrap()), vec![4500, 4000, 3500], "{name}");
        let oldest = AuditQuery { cursor: Some(5000), oldest_first: true, ..AuditQuery::newest(text(&["ws 042 corp"]), 2) };
        assert_eq!(seqs(s.audit_page(o.id, &oldest).await.unwrap()), vec![5500, 6000], "{name}");
        let denied = AuditFilter { verdict: Some("DENY".into()), ..text(&["ws", "042"]) };
        let page = s.audit_page(o.id, &AuditQuery::newest(denied.clone(), 50)).await.unwrap();
        assert_eq!(seqs(page), hosts.iter().copied().filter(|n| n % 1000 == 0).collect::<Vec<_>>(), "{name}");
        let (page, f) = s.audit_search(o.id, &AuditQuery::newest(text(&["ws 042 corp"]), 50)).await.unwrap();
        assert_eq!(seqs(page), hosts, "{name}: the search's page is the page's");
        assert!(!f.limited, "{name}");
        let count = |v: &[arx_core::store::Facet], k: &str| v.iter().find(|f| f.value == k).map(|f| f.count);
        assert_eq!(count(&f.verdicts, "DENY"), Some(10), "{name}");
        assert_eq!(count(&f.verdicts, "PERMIT"), Some(10), "{name}");

        // With statistics (a settled database), the same answers, phrases in order.
        sqlx::query("ANALYZE").execute(s.pool()).await.unwrap();
        let page = s.audit_page(o.id, &AuditQuery::newest(text(&["ws 042 corp"]), 50)).await.unwrap();
        assert_eq!(seqs(page), hosts, "{name}: analyzed, every record of the host");
        let page = s.audit_page(o.id, &AuditQuery::newest(text(&["corp 042"]), 50)).await.unwrap();
        assert_eq!(seqs(page), Vec::<i64>::new(), "{name}: analyzed, a phrase is in order");
        let f = s.audit_search(o.id, &AuditQuery::newest(text(&["corp 042"]), 50)).await.unwrap().1;
        assert!(f.verdicts.is_empty(), "{name}: analyzed, no facet for what is not found");
        let page = s.audit_page(o.id, &AuditQuery::newest(text(&["042", "corp ws"]), 50)).await.unwrap();
        assert_eq!(seqs(page), Vec::<i64>::new(), "{name}: analyzed, every phrase is required");

        let page = s.audit_page(o.id, &AuditQuery::newest(text(&["beaconing"]), 3)).await.unwrap();
        assert_eq!(seqs(page), vec![total, total - 1, total - 2], "{name}: the common word");
        let f = s.audit_search(o.id, &AuditQuery::newest(text(&["beaconing"]), 50)).await.unwrap().1;
        assert!(f.limited, "{name}");
        let counted: i64 = f.verdicts.iter().map(|v| v.count).sum();
        assert_eq!(counted, FACET_WINDOW as i64, "{name}: the newest window exactly");
        assert_eq!(count(&f.verdicts, "DENY"), Some(10), "{name}");

        let none = s.audit_page(o.id, &AuditQuery::newest(text(&["nosuchword"]), 50)).await.unwrap();
        assert!(none.is_empty(), "{name}");
        let f = s.audit_search(o.id, &AuditQuery::newest(text(&["nosuchword"]), 50)).await.unwrap().1;
        assert!(f.verdicts.is_empty() && !f.limited, "{name}");
    }
}

backend_tests! {
    async fn a_record_is_found_by_the_words_arx_computes_for_it(s: Db) {
        use arx_core::store::{AuditFilter, MAX_TEXT_CHARS, record_text};
        let name = s.backend;
        let o = org(&s, "words").await;
        let fields = [
            json!({"params": {"ids": ["WS-042.corp.example"], "limit": 10, "filter": "status:'new'"}}),
            json!({"reason": "Denied: gate:manifest (crowdstrike:hosts:write)", "comment": "Ünïcode Straße ok"}),
            json!({"error": "connection refused", "message": null, "response_projection": {"total": 3, "hosts": ["h1", "h2"]}}),
            json!({"session_context": {"reasoning": "Beaconing from 10.0.0.7 to evil.example", "actions": ["not indexed"]}}),
            // Fewer than 16,383 words: PostgreSQL keeps no word position beyond that.
            json!({"response": "abcdefghi ".repeat(MAX_TEXT_CHARS / 10 - 1) + "tail end words"}),
        ];
        let drafts: Vec<AuditDraft> = fields
            .iter()
            .enumerate()
            .map(|(i, f)| {
                let mut d = draft(o.id, i as i64 + 1);
                for (k, v) in f.as_object().unwrap() {
                    d.fields[k] = v.clone();
                }
                d
            })
            .collect();
        let sealed = s.append_audit(drafts).await.unwrap();
        let search = |phrase: String| AuditQuery::newest(AuditFilter { text: vec![phrase], ..Default::default() }, 10);
        for r in &sealed {
            let text = record_text(&r.fields);
            let words: Vec<&str> = text.split(' ').collect();
            let (head, tail) = (words[..3].join(" "), words[words.len().saturating_sub(3)..].join(" "));
            for phrase in [head, tail] {
                let found: Vec<i64> = s.audit_page(o.id, &search(phrase.clone())).await.unwrap().iter().map(|x| x.seq).collect();
                assert!(found.contains(&r.seq), "{name}: '{phrase}' finds record {}: {found:?}", r.seq);
            }
        }
        // Words past the cut are not indexed, on either database.
        let cut = s.audit_page(o.id, &search("end words".into())).await.unwrap();
        assert!(cut.is_empty(), "{name}: text past {MAX_TEXT_CHARS} characters");
        if s.dialect() == arx_store::Dialect::Postgres {
            // The words ARX binds are those `audit_text(record)` computed in the database
            // before (migration 0026): the same lexemes in every record. Except at the
            // cut: `audit_text` counted a space for each absent field before it (SQLite's
            // trigger and ARX count none), so it cut the long record two characters
            // sooner.
            let differ: Vec<(i64, String, String)> = sqlx::query_as(
                "SELECT seq, array_to_string(tsvector_to_array(text_vec), ' '), \
                        array_to_string(tsvector_to_array(audit_text(record)), ' ') \
                 FROM audit_records WHERE org_id = $1 AND seq < 5 \
                 AND tsvector_to_array(text_vec) <> tsvector_to_array(audit_text(record))",
            )
            .bind(o.id.to_string())
            .fetch_all(s.pool())
            .await
            .unwrap();
            let short = |t: &str| t.chars().take(300).collect::<String>();
            let differ: Vec<_> = differ.iter().map(|(n, a, b)| (n, short(a), short(b))).collect();
            assert!(differ.is_empty(), "{name}: lexemes (ARX's, audit_text's) differ: {differ:?}");
        }
    }
}

backend_tests! {
    /// On SQLite the search index trails the chain (migration 0029): an append writes
    /// the chain alone, and every search, on any replica, first copies what its org
    /// lacks, so it sees every record committed before it; the job copies the rest, each
    /// record once. On PostgreSQL the index is a view of the chain: the same searches
    /// see the same, with nothing ever to copy.
    async fn the_search_index_trails_the_chain_and_a_search_catches_it_up(s: Db) {
        use arx_core::store::AuditFilter;
        let name = s.backend;
        let follows = s.dialect() == arx_store::Dialect::Sqlite;
        let lag = |n: u64| if follows { n } else { 0 };
        let o = org(&s, "follow").await;
        let noise = org(&s, "noise").await;
        let indexed = |org: OrgId| {
            let s = &s;
            async move {
                sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM audit_index WHERE org_id = $1")
                    .bind(org.to_string())
                    .fetch_one(s.pool())
                    .await
                    .unwrap()
            }
        };
        let worded = |org: OrgId, n: i64| {
            let mut d = draft(org, n);
            d.fields["params"] = json!({"hostname": format!("ws-{n}.corp")});
            d
        };
        // More than one copying batch, in two appends.
        s.append_audit((1..=150).map(|n| worded(o.id, n)).collect()).await.unwrap();
        s.append_audit((151..=300).map(|n| worded(o.id, n)).collect()).await.unwrap();
        s.append_audit(vec![worded(noise.id, 7)]).await.unwrap();
        assert_eq!(indexed(o.id).await, if follows { 0 } else { 300 }, "{name}: an append does not index");

        // Another replica searches: every record, the newest first, found by its words.
        let other = SqlStore::connect(s.url()).await.unwrap();
        let verdict = AuditFilter { verdict: Some("PERMIT".into()), ..Default::default() };
        let (page, facets) = other.audit_search(o.id, &AuditQuery::newest(verdict, 5)).await.unwrap();
        assert_eq!(page.iter().map(|r| r.seq).collect::<Vec<_>>(), vec![300, 299, 298, 297, 296], "{name}");
        assert_eq!(facets.verdicts.iter().map(|f| f.count).sum::<i64>(), 300, "{name}: {facets:?}");
        let words = AuditFilter { text: vec!["ws 7 corp".into()], ..Default::default() };
        let found = other.audit_page(o.id, &AuditQuery::newest(words.clone(), 50)).await.unwrap();
        assert_eq!(found.iter().map(|r| r.seq).collect::<Vec<_>>(), vec![7], "{name}: once, this org's");
        assert_eq!(indexed(o.id).await, 300, "{name}");
        assert_eq!(indexed(noise.id).await, 1 - lag(1) as i64, "{name}: a search catches up its own org");

        // The job copies what no search asked for, once; copying again finds nothing.
        assert_eq!(s.index_audit().await.unwrap(), lag(1), "{name}: the other org's record");
        // Three followers at once, more than a batch behind: a count on a replica sees
        // every record even when the others copied some of its batches.
        s.append_audit((301..=700).map(|n| worded(o.id, n)).collect()).await.unwrap();
        let (a, b, counted) = tokio::join!(
            s.index_audit(),
            other.index_audit(),
            other.audit_count_in_range(o.id, "execute.intercept", (0, i64::MAX)),
        );
        assert_eq!(counted.unwrap(), 700, "{name}: a count while others copy");
        assert!(a.unwrap() + b.unwrap() <= 400, "{name}");
        assert_eq!(s.index_audit().await.unwrap(), 0, "{name}");
        assert_eq!(indexed(o.id).await, 700, "{name}");
        for (words, seq) in [("ws 7 corp", 7), ("ws 650 corp", 650)] {
            let filter = AuditFilter { text: vec![words.into()], ..Default::default() };
            let found = s.audit_page(o.id, &AuditQuery::newest(filter, 50)).await.unwrap();
            assert_eq!(found.iter().map(|r| r.seq).collect::<Vec<_>>(), vec![seq], "{name}: words indexed once");
        }
        other.close().await;
    }
}

backend_tests! {
    /// A record guarded by its org's configuration epoch (issue 14, point 2) lands only
    /// while that epoch stands: a new agent moves it, and a guarded append is then refused
    /// with nothing written. In a batch of the writer, the stale call fails alone and the
    /// others are committed.
    async fn a_guarded_record_lands_only_at_its_orgs_current_epoch(s: Db) {
        let name = s.backend;
        let o = org(&s, "g").await;
        let epoch_now = || async { s.org_epochs(&[o.id]).await.unwrap()[&o.id] };
        let guarded = |n: i64, epoch: i64| AuditDraft {
            guard_epoch: Some(epoch),
            ..draft(o.id, n)
        };
        let first = epoch_now().await;
        s.append_audit(vec![guarded(1, first)]).await.unwrap();
        s.create_agent(&agent(o.id, "moves-the-epoch")).await.unwrap();
        let second = epoch_now().await;
        assert!(second > first, "{name}: {first} then {second}");
        let stale = s.append_audit(vec![draft(o.id, 2), guarded(3, first)]).await;
        assert!(matches!(stale, Err(CoreError::StaleConfiguration)), "{name}: {stale:?}");
        assert_eq!(verify(&s, o.id).await.seq, 1, "{name}: nothing written");

        // Three jobs queue behind a held write lock, so the writer takes two in one batch.
        let writer = AuditWriter::start(Arc::new(s.clone()));
        let mut lock = s.pool().begin().await.unwrap();
        let hold = if name == "sqlite" {
            "INSERT INTO org_epochs (org_id, epoch) VALUES ('held', 1)"
        } else {
            "LOCK TABLE audit_records IN EXCLUSIVE MODE"
        };
        sqlx::query(hold).execute(&mut *lock).await.unwrap();
        let job = |d: AuditDraft| {
            let w = writer.clone();
            tokio::spawn(async move { w.append_one(d).await })
        };
        let blocked = job(guarded(4, second));
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        let (old, good) = (job(guarded(5, first)), job(guarded(6, second)));
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        lock.rollback().await.unwrap();
        assert_eq!(blocked.await.unwrap().unwrap().seq, 2, "{name}");
        let old = old.await.unwrap();
        assert!(matches!(old, Err(CoreError::StaleConfiguration)), "{name}: {old:?}");
        assert_eq!(good.await.unwrap().unwrap().seq, 3, "{name}: the rest of the batch");
        assert_eq!(verify(&s, o.id).await.seq, 3, "{name}");
    }
}

/// SQLite: appended records reach the database file itself within moments, copied there
/// by the store's checkpointer off the writer; the writer's own commits would not
/// checkpoint before the WAL holds 10,000 pages. Read from a copy of the file without its
/// WAL, which is what a checkpoint writes to.
#[tokio::test]
async fn sqlite_records_reach_the_database_file_without_the_writer_checkpointing() {
    use arx_testkit::{Backend, TestDb};
    let db = TestDb::create(Backend::Sqlite).await.unwrap();
    let s = SqlStore::connect(db.url()).await.unwrap();
    s.migrate().await.unwrap();
    let o = org(&s, "checkpointed").await;
    let drafts = (1..=5).map(|n| draft(o.id, n)).collect();
    s.append_audit(drafts).await.unwrap();
    let file = db.url().trim_start_matches("sqlite://").to_string();
    let copied = std::path::Path::new(&file).with_file_name("copy.db");
    let mut in_file = 0;
    for _ in 0..50 {
        std::fs::copy(&file, &copied).unwrap();
        let read = SqlStore::connect(&format!("sqlite://{}", copied.display()))
            .await
            .unwrap();
        // Until the first checkpoint, the file holds not even the tables.
        in_file = read.audit_count(o.id).await.unwrap_or(0);
        read.close().await;
        if in_file == 5 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(in_file, 5, "the records are still only in the WAL");
}
