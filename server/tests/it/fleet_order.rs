//! The registry's lists at fleet scale: the database filters by label selector, sorts by
//! a column and pages (the fleet, an agent's manifest versions), in the API and in the
//! console, and what it returns is what the selector's own matcher says.

use std::collections::BTreeMap;

use arx_core::registry::Selector;
use arx_testkit::backend_tests;
use serde_json::{Value, json};

use crate::harness::{TestServer, error_message};

/// The names of a fleet answer's agents, in its order.
fn names(b: &Value) -> Vec<String> {
    let agents = b["agents"].as_array().unwrap_or_else(|| panic!("{b}"));
    agents
        .iter()
        .map(|a| a["name"].as_str().unwrap().to_string())
        .collect()
}

/// Twelve agents `fleet-00`..`fleet-11` whose labels cover present, absent and differing
/// values of `env`, `team` and `tier`.
async fn seed(s: &TestServer) -> Vec<String> {
    let mut ids = Vec::new();
    for i in 0..12 {
        let mut labels = serde_json::Map::new();
        match i % 3 {
            0 => _ = labels.insert("env".into(), json!("prod")),
            1 => _ = labels.insert("env".into(), json!("staging")),
            _ => {}
        }
        match i % 4 {
            0 => _ = labels.insert("team".into(), json!("soc")),
            1 => _ = labels.insert("team".into(), json!("ir")),
            2 => _ = labels.insert("team".into(), json!("grc")),
            _ => {}
        }
        labels.insert("tier".into(), json!(if i < 6 { "1" } else { "2" }));
        let owner = if i % 2 == 0 {
            "ir-lead@demo.arx.local"
        } else {
            "secops-lead@demo.arx.local"
        };
        let (st, b) = s
            .admin()
            .post(
                "/v1/admin/agents",
                json!({"name": format!("fleet-{i:02}"), "owner": owner, "labels": labels}),
            )
            .await;
        assert_eq!(st, 201, "{b}");
        ids.push(b["agent"]["id"].as_str().unwrap().to_string());
    }
    ids
}

backend_tests! {
    async fn the_database_filters_as_the_selector_matcher_does_and_sorts_by_a_column(s: TestServer) {
        let ids = seed(&s).await;
        let (st, all) = s.admin().get("/v1/admin/agents?limit=500").await;
        assert_eq!(st, 200, "{}: {all}", s.backend);
        let labels: BTreeMap<String, BTreeMap<String, String>> = all["agents"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| (a["name"].as_str().unwrap().to_string(), serde_json::from_value(a["labels"].clone()).unwrap()))
            .collect();
        // Each selector's SQL finds exactly the agents its matcher accepts, and counts
        // them (total) and their groups the same way.
        for sel in [
            "env=prod", "env!=prod", "env in (prod,staging)", "env notin (prod)", "env", "!env",
            "team in (soc,ir),tier=2", "!team,env", "env notin (staging),team!=grc,tier",
            "team=nobody", "tier in (1,2),!nosuch",
        ] {
            let parsed = Selector::parse(sel).unwrap();
            let want: Vec<String> = labels.iter().filter(|(_, l)| parsed.matches(l)).map(|(n, _)| n.clone()).collect();
            let q = format!("/v1/admin/agents?selector={}&group_by=team&limit=500", urlencoding(sel));
            let (st, b) = s.admin().get(&q).await;
            assert_eq!(st, 200, "{sel}: {b}");
            assert_eq!(names(&b), want, "{}: {sel}", s.backend);
            assert_eq!(b["total"].as_u64(), Some(want.len() as u64), "{sel}");
            let grouped: u64 = b["groups"].as_array().unwrap().iter().map(|g| g["count"].as_u64().unwrap()).sum();
            assert_eq!(grouped, want.len() as u64, "{sel}: {b}");
            let no_team = want.iter().filter(|n| !labels[*n].contains_key("team")).count() as u64;
            let counted = b["groups"].as_array().unwrap().iter().find(|g| g["value"].is_null()).map_or(0, |g| g["count"].as_u64().unwrap());
            assert_eq!(counted, no_team, "{sel}: {b}");
        }

        // Sorted by a column, either way, ties by name; pages keep the order.
        let (_, b) = s.admin().get("/v1/admin/agents?selector=tier&sort=name&order=desc&limit=500").await;
        let mut by_name: Vec<String> = labels.iter().filter(|(_, l)| l.contains_key("tier")).map(|(n, _)| n.clone()).collect();
        by_name.reverse();
        assert_eq!(names(&b), by_name);
        let (_, b) = s.admin().get("/v1/admin/agents?selector=tier&sort=owner&limit=500").await;
        let owners: Vec<String> = b["agents"].as_array().unwrap().iter().map(|a| format!("{} {}", a["owner"].as_str().unwrap(), a["name"].as_str().unwrap())).collect();
        let mut sorted = owners.clone();
        sorted.sort();
        assert_eq!(owners, sorted, "owner, then name");
        let (_, newest) = s.admin().get("/v1/admin/agents?selector=tier&sort=created&order=desc&limit=3").await;
        let (_, next) = s.admin().get("/v1/admin/agents?selector=tier&sort=created&order=desc&limit=3&offset=3").await;
        let created = |b: &Value| b["agents"].as_array().unwrap().iter().map(|a| a["created_ms"].as_i64().unwrap()).collect::<Vec<_>>();
        let times: Vec<i64> = created(&newest).into_iter().chain(created(&next)).collect();
        assert!(times.windows(2).all(|w| w[0] >= w[1]), "newest first across pages: {times:?}");
        assert_eq!(newest["total"].as_u64(), Some(12));

        // Counted columns: keys not revoked, per agent, and sorting by them.
        for _ in 0..2 {
            let (st, k) = s.admin().post(&format!("/v1/admin/agents/{}/keys", ids[7]), json!({})).await;
            assert_eq!(st, 201, "{k}");
        }
        let (st, k) = s.admin().post(&format!("/v1/admin/agents/{}/keys", ids[3]), json!({})).await;
        assert_eq!(st, 201, "{k}");
        let (_, b) = s.admin().get("/v1/admin/agents?selector=tier&sort=active_keys&order=desc&limit=2").await;
        assert_eq!(names(&b), vec!["fleet-07", "fleet-03"], "{b}");
        assert_eq!(b["counts"][&ids[7]]["active_keys"], 2, "{b}");
        assert_eq!(b["counts"][&ids[7]]["open_drift"], 0, "{b}");

        // A name is unique in the org: the database's constraint says so, in words.
        let (st, b) = s.admin().post("/v1/admin/agents", json!({"name": "fleet-03", "owner": "ir-lead@demo.arx.local"})).await;
        assert_eq!(st, 409, "{b}");
        assert_eq!(error_message(&b), "an agent named 'fleet-03' exists");

        // A column or order it does not have is a 400 that lists the ones it has.
        for (q, field) in [("sort=risk", "sort"), ("order=up", "order")] {
            let (st, b) = s.admin().get(&format!("/v1/admin/agents?{q}")).await;
            assert_eq!(st, 400, "{q}: {b}");
            let m = error_message(&b);
            assert!(m.contains(field), "{q}: {m}");
            assert!(m.contains(if field == "sort" { "active_keys" } else { "desc" }), "{q}: {m}");
        }
    }
}

backend_tests! {
    async fn an_agents_manifest_versions_page_either_way(s: TestServer) {
        let (id, _) = crate::registry::new_agent(&s, "many-versions").await;
        let path = format!("/v1/admin/agents/{id}/manifests");
        for rate in [10, 20, 30] {
            let m = crate::harness::open_manifest(&["crowdstrike"])["manifest"].clone();
            let mut m = m;
            m["rate_per_minute"] = json!(rate);
            let (st, b) = s.admin().post(&path, json!({"manifest": m, "reason": format!("rate {rate}")})).await;
            assert_eq!(st, 201, "{b}");
        }
        let versions = |b: &Value| b["versions"].as_array().unwrap().iter().map(|v| v["version"].as_i64().unwrap()).collect::<Vec<_>>();
        let (st, b) = s.admin().get(&path).await;
        assert_eq!(st, 200, "{b}");
        assert_eq!((versions(&b), b["total"].as_u64(), b["in_force"].as_i64()), (vec![3, 2, 1], Some(3), Some(3)));
        let (_, b) = s.admin().get(&format!("{path}?order=asc&limit=2")).await;
        assert_eq!(versions(&b), vec![1, 2]);
        let (_, b) = s.admin().get(&format!("{path}?order=asc&limit=2&offset=2")).await;
        assert_eq!((versions(&b), b["in_force"].as_i64()), (vec![3], Some(3)));
        for q in ["limit=0", "limit=501"] {
            let (st, b) = s.admin().get(&format!("{path}?{q}")).await;
            assert_eq!((st, b["error"]["field"].as_str()), (400, Some("limit")), "{q}: {b}");
        }

        // The console: oldest first on request, the header says how it is sorted, and
        // the rollback is offered on every version but the one in force.
        let demo = s.demo();
        let cookie = s.console_session(&demo.admin_email, &demo.admin_password).await;
        let html = s.page_html(&format!("/agents/view?id={id}&versions=asc"), &cookie).await;
        let first = html.find("data-version=\"1\"").expect("v1 listed");
        let last = html.find("data-version=\"3\"").expect("v3 listed");
        assert!(first < last, "oldest first");
        assert!(html.contains("aria-sort=\"ascending\""), "the header says so");
        assert!(html.contains("Roll back to v1") && !html.contains("Roll back to v3"));
    }
}

backend_tests! {
    async fn the_consoles_fleet_sorts_by_a_header_and_keeps_it_while_paging(s: TestServer) {
        seed(&s).await;
        let demo = s.demo();
        let cookie = s.console_session(&demo.admin_email, &demo.admin_password).await;
        let html = s.page_html("/agents?selector=tier&sort=name&order=desc", &cookie).await;
        let at = |name: &str| html.find(&format!("data-agent=\"{name}\"")).unwrap_or_else(|| panic!("{name} listed"));
        assert!(at("fleet-11") < at("fleet-10") && at("fleet-10") < at("fleet-00"), "newest name first");
        assert!(html.contains("aria-sort=\"descending\""), "the sorted header says so");
        // The sorted header turns the order around; the others start in their own.
        assert!(html.contains("href=\"/agents?selector=tier&amp;group_by=&amp;sort=name&amp;order=asc&amp;page=0\""), "{html}");
        assert!(html.contains("sort=open_drift&amp;order=desc"), "counts sort most first");
        // The filter form keeps the order.
        assert!(html.contains("name=\"sort\" value=\"name\""), "the form keeps the sort");
        // An unknown column from a hand-edited link falls back to the name.
        let html = s.page_html("/agents?selector=tier&sort=%3Cscript%3E", &cookie).await;
        assert!(html.find("data-agent=\"fleet-00\"") < html.find("data-agent=\"fleet-01\""));
        assert!(!html.contains("value=\"<script>\""), "not echoed raw");
    }
}

/// `s` as a URL query value.
fn urlencoding(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
