//! The CISO's view of the fleet, from calls made through the real execute path: each
//! agent's latest call and last 24 hours by verdict and risk on the fleet page, the
//! org's calls and risk per UTC day, each key's last use kept to the hour without a
//! write per call, and no figure of one org counting another org's records.

use std::sync::Arc;

use arx_core::clock::ManualClock;
use arx_core::ids::{AgentId, OrgId};
use arx_core::model::stats::{DAY_MS, day_start};
use arx_core::store::prelude::*;
use arx_testkit::{Backend, backend_tests};
use serde_json::{Value, json};

use crate::harness::{TestServer, contain, okta_users, open_manifest, start_with_clock};

const HOUR_MS: i64 = 60 * 60 * 1000;
const START_MS: i64 = 1_800_000_000_000;

async fn on_clock(backend: Backend) -> (TestServer, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(START_MS));
    (start_with_clock(backend, clock.clone()).await, clock)
}

/// A new agent of the org of `token` with a key and a manifest that opens `connectors`
/// (none: no manifest): (id, key).
async fn agent_with_key(
    s: &TestServer,
    token: &str,
    name: &str,
    connectors: &[&str],
) -> (String, String) {
    let c = s.client(token);
    let owner = s.an_owner(token).await;
    let (st, b) = c
        .post("/v1/admin/agents", json!({"name": name, "owner": owner}))
        .await;
    assert_eq!(st, 201, "{b}");
    let id = b["agent"]["id"].as_str().unwrap().to_string();
    if !connectors.is_empty() {
        let (st, b) = c
            .post(
                &format!("/v1/admin/agents/{id}/manifests"),
                open_manifest(connectors),
            )
            .await;
        assert_eq!(st, 201, "{b}");
    }
    let (st, k) = c
        .post(&format!("/v1/admin/agents/{id}/keys"), json!({}))
        .await;
    assert_eq!(st, 201, "{k}");
    (id, k["api_key"].as_str().unwrap().to_string())
}

/// A call policy denies by default (a critical RTR admin command).
fn denied() -> Value {
    json!({"connector": "crowdstrike", "operation": "rtr:command_admin",
           "params": {"session_id": "s1", "base_command": "runscript", "command_string": "runscript -Raw=```whoami```"}})
}

/// Three permits, one escalation, one denial, as `key`.
async fn mixed_calls(s: &TestServer, key: &str) {
    for _ in 0..3 {
        s.execute_permitted(key, okta_users()).await;
    }
    s.escalate(key, contain("host_fleet1")).await;
    let (st, b) = s.execute(key, denied()).await;
    assert_eq!(
        (st, b["error"]["verdict"].as_str()),
        (403, Some("DENY")),
        "{b}"
    );
}

/// The fleet as the holder of `token` reads it: the agents by name, and the activity.
async fn fleet(s: &TestServer, token: &str) -> Value {
    let (st, b) = s.client(token).get("/v1/admin/agents").await;
    assert_eq!(st, 200, "{b}");
    b
}

fn activity_of<'a>(fleet: &'a Value, id: &str) -> &'a Value {
    &fleet["activity"][id]
}

/// The risk scores of `agent`'s intercept records.
async fn risks_of(s: &TestServer, agent: &str) -> Vec<u64> {
    let recs = s.audit_of("execute.intercept").await;
    recs.iter()
        .filter(|r| r["fields"]["agent_id"] == agent)
        .map(|r| r["fields"]["risk"]["score"].as_u64().unwrap())
        .collect()
}

async fn org_of(s: &TestServer, token: &str) -> OrgId {
    let p = s
        .running
        .engine
        .principal_from_token(Some(token))
        .await
        .unwrap();
    p.org_id()
}

backend_tests! {
    async fn the_fleet_page_shows_each_agents_last_call_and_last_24_hours(b: Backend) {
        let (s, clock) = on_clock(b).await;
        let admin = s.admin_token();
        let (busy, key) = agent_with_key(&s, &admin, "busy", &["okta", "crowdstrike"]).await;
        let (idle, _) = agent_with_key(&s, &admin, "idle", &[]).await;

        // A call 25 hours ago is its latest call then, and out of today's window.
        s.execute_permitted(&key, okta_users()).await;
        let old = risks_of(&s, &busy).await;
        clock.advance_ms(25 * HOUR_MS);
        let f = fleet(&s, &admin).await;
        let a = activity_of(&f, &busy);
        assert_eq!(a["last_call_ms"], START_MS, "{}: {a}", s.backend);
        assert_eq!((a["calls_24h"].as_u64(), a["never_used"].as_bool()), (Some(0), Some(false)), "{a}");
        assert!(a["max_risk_24h"].is_null(), "{a}");

        clock.advance_ms(1000);
        let now = START_MS + 25 * HOUR_MS + 1000;
        mixed_calls(&s, &key).await;
        let recent: Vec<u64> = risks_of(&s, &busy).await.split_off(old.len());
        assert_eq!(recent.len(), 5);

        let f = fleet(&s, &admin).await;
        let a = activity_of(&f, &busy);
        assert_eq!(a["last_call_ms"], now, "{}: {a}", s.backend);
        assert_eq!(a["calls_24h"], 5, "{a}");
        assert_eq!(a["verdicts_24h"], json!({"permit": 3, "escalate": 1, "deny": 1}), "{a}");
        assert_eq!(a["max_risk_24h"].as_u64(), recent.iter().max().copied(), "{a}");
        assert_eq!(a["never_used"], false);

        // An agent whose key never made a call: never used, nothing counted.
        let i = activity_of(&f, &idle);
        assert_eq!(
            (&i["never_used"], &i["calls_24h"], &i["last_call_ms"], &i["max_risk_24h"]),
            (&json!(true), &json!(0), &Value::Null, &Value::Null),
            "{}: {i}", s.backend
        );
        // Every agent of the page has its entry, and only those.
        let ids: Vec<&str> = f["agents"].as_array().unwrap().iter().map(|a| a["id"].as_str().unwrap()).collect();
        let keys: Vec<&str> = f["activity"].as_object().unwrap().keys().map(String::as_str).collect();
        let mut sorted = ids.clone();
        sorted.sort();
        assert_eq!(keys, sorted);
        let (_, page) = s.admin().get("/v1/admin/agents?limit=1&offset=0").await;
        assert_eq!(page["activity"].as_object().map(|m| m.len()), Some(1), "{page}");

        // The console's fleet table and home page, as the server renders them.
        let demo = s.demo();
        let cookie = s.console_session(&demo.admin_email, &demo.admin_password).await;
        let html = s.page_html("/agents", &cookie).await;
        for text in ["Last call", "Calls, 24 h", "Max risk, 24 h", "never used", "3 permitted, 1 escalated, 1 denied"] {
            assert!(html.contains(text), "{}: {text} on /agents", s.backend);
        }
        let home = s.page_html("/", &cookie).await;
        for text in [
            "<title id=\"calls-chart-t\">Agent calls per day by verdict, last 7 days, UTC days</title>",
            "<title id=\"risk-chart-t\">Risk score of agent calls per day (0 to 100), last 7 days, UTC days</title>",
            "<desc id=\"calls-chart-d\">",
            "The figures as a table",
        ] {
            assert!(home.contains(text), "{}: {text} on /", s.backend);
        }
    }
}

backend_tests! {
    async fn a_keys_last_use_is_kept_to_the_hour_without_a_write_per_call(b: Backend) {
        let (s, clock) = on_clock(b).await;
        let admin = s.admin_token();
        let (id, key) = agent_with_key(&s, &admin, "keyed", &["okta"]).await;
        let last_used = || async {
            let (st, b) = s.admin().get(&format!("/v1/admin/agents/{id}/keys")).await;
            assert_eq!(st, 200, "{b}");
            b["keys"][0]["last_used_ms"].clone()
        };
        assert_eq!(last_used().await, Value::Null, "{}: a new key was never used", s.backend);

        s.execute_permitted(&key, okta_users()).await;
        assert_eq!(last_used().await, START_MS, "{}", s.backend);
        let agent: AgentId = id.parse().unwrap();
        let org = org_of(&s, &admin).await;
        let row = s.running.store.agent_activity(org, &[agent], 0).await.unwrap();
        assert_eq!(row[0].last_key_use_ms, Some(START_MS));

        // Within the hour, calls leave the stored value alone (no statement is sent:
        // the value read with the key is recent enough).
        clock.advance_ms(30 * 60 * 1000);
        s.execute_permitted(&key, okta_users()).await;
        clock.advance_ms(29 * 60 * 1000);
        s.execute_permitted(&key, okta_users()).await;
        assert_eq!(last_used().await, START_MS, "{}: not rewritten within the hour", s.backend);

        // Past the hour, the next call writes it again.
        clock.advance_ms(2 * 60 * 1000);
        s.execute_permitted(&key, okta_users()).await;
        assert_eq!(last_used().await, START_MS + 61 * 60 * 1000, "{}", s.backend);

        // The store's compare-and-set refuses a value that is not stale, whoever sends it.
        let k: arx_core::ids::KeyId = s.running.store.list_agent_keys(org, agent).await.unwrap()[0].id;
        let now = START_MS + 61 * 60 * 1000;
        assert!(!s.running.store.touch_agent_key(org, k, now + 10, now - HOUR_MS).await.unwrap());
        // …and another org cannot touch it.
        let other = org_of(&s, &s.other_org_admin().await).await;
        assert!(!s.running.store.touch_agent_key(other, k, now + DAY_MS, now + DAY_MS).await.unwrap());
        assert_eq!(last_used().await, now, "{}", s.backend);

        // The agent's page: when each key was last used; a key unused for 30 days is
        // flagged, and an agent whose keys never made a call is "never used".
        let (dormant, _) = agent_with_key(&s, &admin, "dormant", &["okta"]).await;
        let demo = s.demo();
        let cookie = s.console_session(&demo.admin_email, &demo.admin_password).await;
        let page = s.page_html(&format!("/agents/view?id={id}"), &cookie).await;
        assert!(page.contains("Last used (to the hour)"), "{}", s.backend);
        assert!(!page.contains("unused 30 days") && !page.contains("never used"), "{}", s.backend);
        let page = s.page_html(&format!("/agents/view?id={dormant}"), &cookie).await;
        assert!(page.contains("never used"), "{}", s.backend);
        clock.advance_ms(31 * DAY_MS);
        let cookie = s.console_session(&demo.admin_email, &demo.admin_password).await;
        let page = s.page_html(&format!("/agents/view?id={id}"), &cookie).await;
        assert!(page.contains("unused 30 days"), "{}", s.backend);
    }
}

backend_tests! {
    async fn the_days_count_calls_by_verdict_and_risk_of_this_org_only(b: Backend) {
        let (s, clock) = on_clock(b).await;
        let admin = s.admin_token();
        let org = org_of(&s, &admin).await;
        let p = s.running.engine.principal_from_token(Some(&admin)).await.unwrap();
        let before = s.running.engine.reader(&p).daily_stats().await.unwrap();
        assert_eq!(before.calls.len(), 7);
        assert_eq!(before.calls[6].day_ms, day_start(START_MS), "today last");
        let (busy, key) = agent_with_key(&s, &admin, "busy", &["okta", "crowdstrike"]).await;

        // Today: the mixed calls; two days later, one permit.
        mixed_calls(&s, &key).await;
        let today = risks_of(&s, &busy).await;
        clock.advance_ms(2 * DAY_MS);
        s.execute_permitted(&key, okta_users()).await;

        // Another org with its own instance, agent and calls, on the same days.
        let other_admin = s.other_org_admin().await;
        let vars = s.sim().variables_for("okta");
        let (st, i) = s.client(&other_admin).post("/v1/admin/instances", json!({
            "connector": "okta", "name": "okta", "environment": "prod", "variables": vars,
            "credentials": {"api_key": "demo-okta-api-key"}})).await;
        assert_eq!(st, 201, "{i}");
        let (other_agent, other_key) = agent_with_key(&s, &other_admin, "busy", &["okta"]).await;
        for _ in 0..4 {
            s.execute_permitted(&other_key, okta_users()).await;
        }
        let other = org_of(&s, &other_admin).await;

        let stats = s.running.engine.reader(&p).daily_stats().await.unwrap();
        assert_eq!(stats.calls.len(), 7);
        let t = day_start(START_MS + 2 * DAY_MS);
        assert_eq!(stats.calls[6].day_ms, t);
        let by_day = |d: i64| stats.calls.iter().find(|c| c.day_ms == d).unwrap().verdicts;
        let was = |d: i64| before.calls.iter().find(|c| c.day_ms == d).map(|c| c.verdicts).unwrap_or_default();
        let two_days_ago = day_start(START_MS);
        let then = by_day(two_days_ago);
        assert_eq!(
            (then.permit - was(two_days_ago).permit, then.escalate - was(two_days_ago).escalate, then.deny - was(two_days_ago).deny),
            (3, 1, 1),
            "{}: {stats:?}", s.backend
        );
        assert_eq!(by_day(t).permit, 1, "{}: the other org's 4 calls are not counted: {stats:?}", s.backend);
        let risk_then = stats.risk.iter().find(|r| r.day_ms == two_days_ago).unwrap();
        assert!(risk_then.max() >= today.iter().max().map(|m| *m as u8), "{risk_then:?}");
        assert_eq!(stats.risk.iter().find(|r| r.day_ms == t).unwrap().calls(), 1);

        // The other org sees its own 4 calls, and nothing of this org.
        let theirs = s.running.store.calls_per_day(other, (0, i64::MAX)).await.unwrap();
        assert_eq!(theirs.iter().map(|d| d.verdicts.total()).sum::<u64>(), 4, "{}", s.backend);
        let f = fleet(&s, &other_admin).await;
        assert_eq!(activity_of(&f, &other_agent)["calls_24h"], 4);
        assert!(f["activity"].get(&busy).is_none(), "{f}");

        // Asked for another org's agent, the store answers nothing (an org scopes every row).
        let busy_id: AgentId = busy.parse().unwrap();
        let other_id: AgentId = other_agent.parse().unwrap();
        assert!(s.running.store.agent_activity(other, &[busy_id], 0).await.unwrap().is_empty());
        assert!(s.running.store.agent_activity(org, &[other_id], 0).await.unwrap().is_empty());
        let mine = s.running.store.agent_activity(org, &[busy_id, other_id], 0).await.unwrap();
        assert_eq!(mine.len(), 1);
        assert_eq!(mine[0].verdicts.total(), 6);
    }
}
