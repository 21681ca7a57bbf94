//! Searching the audit trail (issue 13, point 1): `GET /v1/admin/audit` narrows by agent,
//! connector, operation, verdict, kind, risk, time, actor, approval and the agents'
//! labels, and by full text; its facets count the whole filter; keyset pages never skip
//! or repeat a record, in either order, while records are appended; a bad filter is a
//! 400 naming its parameter.

use arx_testkit::backend_tests;
use serde_json::{Value, json};

use crate::harness::{TestServer, contain as contain_host};

const TRIAGE: &str = "triage-agent";
const REMEDIATION: &str = "remediation-agent";

fn detections() -> Value {
    json!({"connector": "crowdstrike", "operation": "detections:read", "params": {"limit": 10}})
}

fn contain() -> Value {
    json!({"connector": "crowdstrike", "operation": "hosts:write",
           "params": {"action_name": "contain", "ids": ["host_abc123"]}, "wait_seconds": 0})
}

fn admin_command() -> Value {
    json!({"connector": "crowdstrike", "operation": "rtr:command_admin",
           "params": {"session_id": "s1", "base_command": "runscript", "command_string": "runscript -Raw=```whoami```"}})
}

/// What a filter's records must all satisfy.
type Keeps = Box<dyn Fn(&Value) -> bool>;

async fn search(s: &TestServer, query: &str) -> (u16, Value) {
    s.client(&s.admin_token())
        .get(&format!("/v1/admin/audit?{query}"))
        .await
}

fn facet(v: &Value, group: &str, value: &str) -> i64 {
    v["facets"][group]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["value"] == value)
        .map_or(0, |f| f["count"].as_i64().unwrap())
}

fn seqs(v: &Value) -> Vec<i64> {
    v["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["seq"].as_i64().unwrap())
        .collect()
}

/// Every record of a search, page by page (`limit` each) following `next_cursor`.
async fn all_pages(s: &TestServer, query: &str, limit: u32) -> Vec<Value> {
    let mut out = vec![];
    let mut cursor = String::new();
    loop {
        let (code, page) = search(s, &format!("{query}&limit={limit}{cursor}")).await;
        assert_eq!(code, 200, "{query}: {page}");
        out.extend(page["records"].as_array().unwrap().iter().cloned());
        match page["next_cursor"].as_str() {
            Some(c) => cursor = format!("&cursor={c}"),
            None => return out,
        }
    }
}

backend_tests! {
    async fn the_audit_trail_is_searched_by_filters_with_facets_and_keyset_pages(s: TestServer) {
        let b = s.backend;
        let (_, before) = search(&s, "kind=execute.intercept").await;
        let start = time::OffsetDateTime::now_utc() - time::Duration::seconds(1);
        for _ in 0..3 {
            assert_eq!(s.execute(&s.agent_key(TRIAGE), detections()).await.0, 200, "{b}");
        }
        assert_eq!(s.execute(&s.agent_key(REMEDIATION), contain()).await.0, 202, "{b}");
        assert_eq!(s.execute(&s.agent_key(TRIAGE), admin_command()).await.0, 403, "{b}");

        // Facets count the whole filter: exactly the calls just made were added.
        let (code, after) = search(&s, "kind=execute.intercept&limit=1").await;
        assert_eq!(code, 200, "{b}: {after}");
        assert_eq!(after["records"].as_array().unwrap().len(), 1, "{b}: the page is the limit");
        for (verdict, added) in [("PERMIT", 3), ("ESCALATE", 1), ("DENY", 1)] {
            assert_eq!(facet(&after, "verdicts", verdict) - facet(&before, "verdicts", verdict), added, "{b}: {verdict}: {after}");
        }
        assert_eq!(facet(&after, "connectors", "crowdstrike") - facet(&before, "connectors", "crowdstrike"), 5, "{b}");

        // Each filter keeps only what it names.
        let remediation_id = s.agent_id(REMEDIATION);
        let rfc = |t: time::OffsetDateTime| t.format(&time::format_description::well_known::Rfc3339).unwrap();
        let cases: Vec<(String, Keeps)> = vec![
            ("verdict=deny".into(), Box::new(|r: &Value| r["fields"]["verdict"] == "DENY")),
            ("connector=crowdstrike&operation=hosts:write&kind=execute.intercept".into(),
             Box::new(|r: &Value| r["fields"]["operation"] == "hosts:write" && r["kind"] == "execute.intercept")),
            (format!("agent={TRIAGE}&kind=execute.intercept"), Box::new(|r: &Value| r["kind"] == "execute.intercept" && r["fields"]["agent"].to_string().contains(TRIAGE))),
            (format!("agent={}", s.agent_id(REMEDIATION)), Box::new(move |r: &Value| r.to_string().contains(&remediation_id))),
            ("kind=approval.*".into(), Box::new(|r: &Value| r["kind"].as_str().unwrap().starts_with("approval."))),
            ("kind=execute.intercept&risk_min=60&risk_max=100".into(), Box::new(|r: &Value| r["fields"]["risk"]["score"].as_i64().unwrap() >= 60)),
            (format!("kind=execute.intercept&from={}", rfc(start)), Box::new(|r: &Value| r["fields"]["connector"] == "crowdstrike")),
        ];
        for (query, keeps) in &cases {
            let (code, page) = search(&s, query).await;
            assert_eq!(code, 200, "{b}: {query}: {page}");
            let records = page["records"].as_array().unwrap();
            assert!(!records.is_empty(), "{b}: {query} keeps something");
            for r in records {
                assert!(keeps(r), "{b}: {query} kept {r}");
            }
        }
        let (_, denied) = search(&s, "verdict=DENY&kind=execute.intercept").await;
        assert_eq!(denied["records"].as_array().unwrap().len() as i64, facet(&denied, "verdicts", "DENY"), "{b}: the facet counts what the filter keeps");
        let (_, since) = search(&s, &format!("kind=execute.intercept&from={}", rfc(start))).await;
        assert_eq!(since["records"].as_array().unwrap().len(), 5, "{b}: only the calls made since: {since}");
        let (_, until) = search(&s, &format!("kind=execute.intercept&to={}", rfc(start))).await;
        let total = |v: &Value| ["PERMIT", "ESCALATE", "DENY"].iter().map(|x| facet(v, "verdicts", x)).sum::<i64>();
        assert_eq!(total(&until) + 5, total(&after), "{b}: from and to split the trail");

        // Keyset pages: small pages newest first equal one big page, and oldest first
        // is the same in reverse; records appended while paging are neither skipped nor
        // repeated among the older ones.
        let whole = seqs(&search(&s, "limit=500").await.1);
        let mut paged = vec![];
        let mut cursor = String::new();
        loop {
            let (code, page) = search(&s, &format!("limit=3{cursor}")).await;
            assert_eq!(code, 200, "{b}");
            paged.extend(seqs(&page));
            // A new record lands at the head while the pages move back.
            assert_eq!(s.execute(&s.agent_key(TRIAGE), detections()).await.0, 200, "{b}");
            match page["next_cursor"].as_str() {
                Some(c) => cursor = format!("&cursor={c}"),
                None => break,
            }
        }
        assert_eq!(paged, whole, "{b}: newest first, pages of 3 while appending");
        let oldest: Vec<i64> = all_pages(&s, "order=oldest", 4).await.iter().map(|r| r["seq"].as_i64().unwrap()).collect();
        let mut sorted = oldest.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(oldest, sorted, "{b}: oldest first, no repeat");
        assert_eq!(oldest.first(), Some(&1), "{b}: from the first record");
        assert!(oldest.len() >= whole.len(), "{b}");
        let (_, old_style) = search(&s, &format!("before={}&limit=2", whole[1])).await;
        assert_eq!(seqs(&old_style), whole[2..4].to_vec(), "{b}: before still pages newest first");

        // The export streams every record the filter keeps: NDJSON lines exactly as the
        // chain holds them, CSV with a header, both in the search's order.
        let token = s.admin_token();
        let get = |path: String| {
            let (s, token) = (&s, token.clone());
            async move {
                let r = s.http.get(s.url(&path)).bearer_auth(token).send().await.unwrap();
                let (status, ctype) = (r.status().as_u16(), r.headers()["content-type"].to_str().unwrap().to_string());
                (status, ctype, r.text().await.unwrap())
            }
        };
        let intercepts = all_pages(&s, "kind=execute.intercept", 500).await;
        let (code, ctype, body) = get("/v1/admin/audit/export.ndjson?kind=execute.intercept".into()).await;
        assert_eq!((code, ctype.as_str()), (200, "application/x-ndjson"), "{b}: {body}");
        let lines: Vec<Value> = body.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(lines, intercepts, "{b}: the export is the search, record for record");
        let (_, _, oldest) = get("/v1/admin/audit/export.ndjson?order=oldest".into()).await;
        let seqs_out: Vec<i64> = oldest.lines().map(|l| serde_json::from_str::<Value>(l).unwrap()["seq"].as_i64().unwrap()).collect();
        assert_eq!(seqs_out, (1..=seqs_out.len() as i64).collect::<Vec<_>>(), "{b}: the whole trail, gapless, past one page of 500? {}", seqs_out.len());
        let (code, ctype, csv) = get("/v1/admin/audit/export.csv?verdict=DENY&kind=execute.intercept".into()).await;
        assert_eq!((code, ctype.as_str()), (200, "text/csv; charset=utf-8"), "{b}: {csv}");
        let rows: Vec<&str> = csv.lines().collect();
        assert!(rows[0].starts_with("seq,ts,kind,actor_type,actor,agent,connector,operation,verdict,risk_score,hash,prev_hash"), "{b}: {csv}");
        assert_eq!(rows.len() as i64 - 1, facet(&denied, "verdicts", "DENY"), "{b}: one row per record: {csv}");
        assert!(rows[1..].iter().all(|r| r.contains(",DENY,") && r.contains(",crowdstrike,")), "{b}: {csv}");
        let (code, _, out) = get("/v1/admin/audit/export.csv?limit=5".into()).await;
        assert_eq!(code, 400, "{b}: limit is for pages: {out}");
        let (code, _, out) = get("/v1/admin/audit/export.ndjson?verdict=MAYBE".into()).await;
        assert!(code == 400 && out.contains("verdict"), "{b}: a bad filter before the first byte: {out}");
        let other = s.other_org_admin().await;
        let r = s.http.get(s.url("/v1/admin/audit/export.ndjson?connector=crowdstrike")).bearer_auth(&other).send().await.unwrap();
        assert_eq!(r.text().await.unwrap(), "", "{b}: another org exports none of this org's records");

        // A bad filter is a 400 naming its parameter; an unknown parameter is refused.
        for (query, field) in [
            ("verdict=MAYBE", "verdict"), ("risk_min=200", "risk_min"), ("risk_min=80&risk_max=20", "risk_min"),
            ("risk_min=high", "risk_min"), ("from=yesterday", "from"), ("from=2026-07-02T00:00:00Z&to=2026-07-01T00:00:00Z", "from"),
            ("kind=DROP%20TABLE", "kind"), ("kind=%25", "kind"), ("order=sideways", "order"), ("cursor=abc", "cursor"),
            ("limit=0", "limit"), ("limit=501", "limit"), ("agent=nobody-here", "agent"), ("order=oldest&before=5", "before"),
        ] {
            let (code, out) = search(&s, query).await;
            assert_eq!(code, 400, "{b}: {query}: {out}");
            assert!(out.to_string().contains(field), "{b}: {query} names {field}: {out}");
        }
        let (code, out) = search(&s, "query=contain").await;
        assert_eq!(code, 400, "{b}: an unknown parameter is not ignored: {out}");

        // Another org's agent is as unknown as none; an auditor searches, another org's
        // admin finds nothing of this org's.
        let (_, theirs) = s.client(&other).get(&format!("/v1/admin/audit?agent={}", s.agent_id(TRIAGE))).await;
        assert_eq!(theirs["error"]["field"], "agent", "{b}: {theirs}");
        let (code, mine) = s.client(&other).get("/v1/admin/audit?connector=crowdstrike").await;
        assert_eq!((code, mine["records"].as_array().map(Vec::len)), (200, Some(0)), "{b}: {mine}");
        let auditor = s.user_token("audit-search@demo.arx.local", arx_core::model::Role::Auditor).await;
        let (code, seen) = s.client(&auditor).get("/v1/admin/audit?verdict=DENY").await;
        assert_eq!(code, 200, "{b}: {seen}");
        assert!(!seen["records"].as_array().unwrap().is_empty(), "{b}");
    }

    async fn the_audit_trail_is_searched_by_full_text_actor_approval_and_labels(s: TestServer) {
        let b = s.backend;
        let remediation = s.agent_key(REMEDIATION);
        // A host named as analysts write it; a reviewer's comment with a ticket number.
        let id = s.escalate(&remediation, contain_host("WS-042.Corp.example")).await;
        let approver_email = "search-approver@demo.arx.local";
        let approver = s.user_token(approver_email, arx_core::model::Role::Admin).await;
        let (code, out) = s.client(&approver)
            .post(&format!("/v1/admin/approvals/{id}/approve"), json!({"comment": "Isolating per IR-5521"}))
            .await;
        assert_eq!(code, 200, "{b}: {out}");
        let pending = s.escalate(&remediation, contain_host("db-7.corp.example")).await;
        assert_eq!(s.execute(&s.agent_key(TRIAGE), detections()).await.0, 200, "{b}");

        let kinds = |v: &Value| -> Vec<String> {
            v["records"].as_array().unwrap().iter().map(|r| r["kind"].as_str().unwrap().to_string()).collect()
        };
        let text_of = |r: &Value| r.to_string().to_lowercase();

        // Full text: words in any case, across punctuation; a quoted phrase in order;
        // every term must occur; combined with the other filters.
        for q in ["ws-042", "WS%20042", "%22ws%20042%20corp%22", "042.corp.EXAMPLE"] {
            let (code, page) = search(&s, &format!("q={q}")).await;
            assert_eq!(code, 200, "{b}: {q}: {page}");
            let records = page["records"].as_array().unwrap();
            assert!(kinds(&page).contains(&"execute.intercept".to_string()), "{b}: {q} finds the call: {page}");
            for r in records {
                assert!(text_of(r).contains("ws-042.corp.example"), "{b}: {q} kept {r}");
            }
        }
        for q in ["%22042%20ws%22", "ws-042%20nowhere-term", "zzqx-never-written"] {
            let (code, page) = search(&s, &format!("q={q}")).await;
            assert_eq!((code, page["records"].as_array().unwrap().len()), (200, 0), "{b}: {q}: {page}");
            assert_eq!(page["facets"]["verdicts"], json!([]), "{b}: {q}: facets count the filter: {page}");
        }
        // A day is a whole day, UTC: today keeps the call, yesterday's end does not.
        let (_, page) = search(&s, "q=ws-042&kind=execute.intercept").await;
        let day = &page["records"][0]["ts"].as_str().unwrap()[..10];
        let today = time::Date::parse(day, time::macros::format_description!("[year]-[month]-[day]")).unwrap();
        let (_, page) = search(&s, &format!("q=ws-042&kind=execute.intercept&from={today}&to={today}")).await;
        assert_eq!(page["records"].as_array().unwrap().len(), 1, "{b}: {page}");
        let (_, page) = search(&s, &format!("q=ws-042&to={}", today.previous_day().unwrap())).await;
        assert_eq!(page["records"].as_array().unwrap().len(), 0, "{b}: {page}");
        // Every containment of the host: the realistic question.
        let (_, page) = search(&s, "q=ws-042&operation=hosts:write&kind=execute.intercept").await;
        assert_eq!(page["records"].as_array().unwrap().len(), 1, "{b}: {page}");
        assert_eq!(facet(&page, "verdicts", "ESCALATE"), 1, "{b}: {page}");
        // Comments, and the agent's reasoning.
        let (_, page) = search(&s, "q=ir-5521").await;
        assert_eq!(kinds(&page), vec!["approval.approved"], "{b}: the reviewer's comment: {page}");
        let (_, page) = search(&s, "q=beaconing%20c2&kind=execute.intercept").await;
        assert!(page["records"].as_array().unwrap().len() >= 2, "{b}: the agent's reasoning: {page}");

        // Actor: a user by email or id, an agent by name, ARX itself.
        let approver_id = s.user_id(approver_email).await;
        for actor in [approver_email.to_string(), approver_id.clone()] {
            let (code, page) = search(&s, &format!("actor={actor}")).await;
            assert_eq!(code, 200, "{b}: {page}");
            assert!(kinds(&page).contains(&"approval.approved".to_string()), "{b}: {actor}: {page}");
            for r in page["records"].as_array().unwrap() {
                assert_eq!(r["actor"]["id"], approver_id.as_str(), "{b}: {actor} kept {r}");
            }
        }
        let (_, page) = search(&s, &format!("actor={REMEDIATION}&kind=execute.intercept")).await;
        assert!(page["records"].as_array().unwrap().len() >= 2, "{b}: {page}");
        for r in page["records"].as_array().unwrap() {
            assert_eq!(r["actor"]["name"], REMEDIATION, "{b}: kept {r}");
        }
        let (_, page) = search(&s, "actor=system").await;
        assert!(!page["records"].as_array().unwrap().is_empty(), "{b}: {page}");
        for r in page["records"].as_array().unwrap() {
            assert_eq!(r["actor"]["type"], "system", "{b}: kept {r}");
        }

        // Approval: every record that names the request, and only those.
        let (_, page) = search(&s, &format!("approval={id}&order=oldest")).await;
        let named = kinds(&page);
        assert_eq!(named.first().map(String::as_str), Some("approval.requested"), "{b}: {page}");
        assert!(named.contains(&"approval.approved".to_string()) && named.contains(&"execute.result".to_string()), "{b}: {named:?}");
        for r in page["records"].as_array().unwrap() {
            assert_eq!(r["fields"]["approval_id"], id.as_str(), "{b}: kept {r}");
        }
        let (_, page) = search(&s, &format!("approval={pending}")).await;
        assert_eq!(kinds(&page), vec!["approval.requested"], "{b}: {page}");

        // Label selectors over the agents the records are about.
        let (remediation_id, triage_id) = (s.agent_id(REMEDIATION), s.agent_id(TRIAGE));
        for (selector, agent) in [("team%3Dir", &remediation_id), ("team%20in%20(soc)", &triage_id), ("env%3Dprod,team!%3Dsoc,team!%3Dti", &remediation_id)] {
            let (code, page) = search(&s, &format!("selector={selector}&kind=execute.intercept")).await;
            assert_eq!(code, 200, "{b}: {selector}: {page}");
            assert!(!page["records"].as_array().unwrap().is_empty(), "{b}: {selector}");
            for r in page["records"].as_array().unwrap() {
                assert_eq!(&r["fields"]["agent_id"], agent, "{b}: {selector} kept {r}");
            }
        }
        let (_, page) = search(&s, "selector=!team").await;
        assert_eq!(page["records"].as_array().unwrap().len(), 0, "{b}: every demo agent has a team: {page}");

        // The export follows the same search.
        let r = s.http.get(s.url("/v1/admin/audit/export.ndjson?q=ir-5521")).bearer_auth(s.admin_token()).send().await.unwrap();
        let body = r.text().await.unwrap();
        assert_eq!(body.lines().count(), 1, "{b}: {body}");
        assert!(body.contains("IR-5521"), "{b}: {body}");

        // One record with its links: the call's intercept finds its approval and result;
        // the result points back to the intercept.
        let (_, calls) = search(&s, "q=ws-042&kind=execute.intercept").await;
        let intercept = calls["records"][0]["id"].as_str().unwrap().to_string();
        let (code, view) = s.admin_get(&format!("/v1/admin/audit/{intercept}")).await;
        assert_eq!(code, 200, "{b}: {view}");
        assert_eq!((view["approval"].as_str(), view["agent"].as_str()), (Some(id.as_str()), Some(remediation_id.as_str())), "{b}: {view}");
        let result = view["results"][0].as_str().unwrap_or_else(|| panic!("{b}: the result: {view}")).to_string();
        let (_, back) = s.admin_get(&format!("/v1/admin/audit/{result}")).await;
        assert_eq!((back["record"]["kind"].as_str(), back["intercept"].as_str()), (Some("execute.result"), Some(intercept.as_str())), "{b}: {back}");
        let other = s.other_org_admin().await;
        let (code, theirs) = s.client(&other).get(&format!("/v1/admin/audit/{intercept}")).await;
        assert_eq!(code, 404, "{b}: another org's record is unknown: {theirs}");
        for bad in ["not-a-record", "..%2F..%2Fsettings", &"9".repeat(300)] {
            let (code, out) = s.admin_get(&format!("/v1/admin/audit/{bad}")).await;
            assert_eq!(code, 400, "{b}: a malformed record id: {out}");
            assert!(out.to_string().contains("not a valid"), "{b}: {out}");
        }

        // The console's Export buttons: the same stream for a signed-in session, nothing
        // without one.
        let r = s.http.get(s.url("/audit/export.ndjson?q=ir-5521")).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 401, "{b}: no session, no export");
        let auditor_email = "search-auditor@demo.arx.local";
        s.user_token(auditor_email, arx_core::model::Role::Auditor).await;
        let cookie = s.console_session(auditor_email, "correct horse battery").await;
        let r = s.http.get(s.url("/audit/export.csv?q=ir-5521")).header("cookie", &cookie).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 200, "{b}");
        let csv = r.text().await.unwrap();
        assert_eq!(csv.lines().count(), 2, "{b}: the header and the approval: {csv}");
        assert!(csv.contains("approval.approved") && csv.contains(approver_email), "{b}: {csv}");

        // Bad values name their parameter.
        let long = "a".repeat(201);
        for (query, field) in [
            ("q=%22%22", "q"), ("q=---", "q"), (&*format!("q={long}"), "q"),
            ("selector=team%20in%20(ir", "selector"), ("selector=%3D%3D", "selector"),
            ("approval=nope", "approval"), ("risk_min=high", "risk_min"), ("to=2026-13-01", "to"), ("actor=nobody%40nowhere.example", "actor"), ("actor=no-such-agent", "actor"),
        ] {
            let (code, out) = search(&s, query).await;
            assert_eq!(code, 400, "{b}: {query}: {out}");
            assert_eq!(out["error"]["field"], field, "{b}: {query}: {out}");
        }
        let (_, out) = search(&s, "selector=team%20in%20(ir").await;
        assert!(out.to_string().contains("position"), "{b}: a bad selector says where: {out}");

        // Another org finds none of it: not by text, not by approval, not by actor.
        for query in ["q=ws-042".to_string(), format!("approval={id}"), format!("actor={approver_id}")] {
            let (code, theirs) = s.client(&other).get(&format!("/v1/admin/audit?{query}")).await;
            assert_eq!((code, theirs["records"].as_array().map(Vec::len)), (200, Some(0)), "{b}: {query}: {theirs}");
        }
        let (code, theirs) = s.client(&other).get(&format!("/v1/admin/audit?actor={approver_email}")).await;
        assert_eq!((code, theirs["error"]["field"].as_str()), (400, Some("actor")), "{b}: another org's user is unknown: {theirs}");
    }
}
