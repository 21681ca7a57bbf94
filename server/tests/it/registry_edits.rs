//! Changing an agent's record after it was created: its owner, description and labels
//! (recorded with what each was), the predecessor a new agent names, manifests written
//! in YAML, the instances in its graph, and the console's key and edit actions.

use arx_core::model::Role;
use arx_testkit::backend_tests;
use serde_json::{Value, json};

use crate::harness::{TestServer, error_message};
use crate::registry::new_agent;

backend_tests! {
    async fn an_admin_changes_an_agents_owner_and_labels_and_the_trail_says_what_they_were(s: TestServer) {
        let b = s.backend;
        let id = s.agent_id("triage-agent");
        let (_, before) = s.admin().get(&format!("/v1/admin/agents/{id}")).await;
        let old_owner = before["agent"]["owner"].as_str().unwrap().to_string();
        let new_owner = s.demo().reviewer_email.clone();
        let (st, a) = s.admin().patch(&format!("/v1/admin/agents/{id}"),
            json!({"owner": new_owner, "labels": {"env": "staging", "team": "ir"}})).await;
        assert_eq!(st, 200, "{b}: {a}");
        assert_eq!(a["owner"], new_owner.as_str());
        assert_eq!(a["labels"], json!({"env": "staging", "team": "ir"}));
        assert_eq!(a["description"], before["agent"]["description"], "{b}: a field left out is kept");
        // Selectors read the new labels at once.
        let (_, f) = s.admin().get("/v1/admin/agents?selector=team%3Dir,env%3Dstaging").await;
        let names: Vec<&str> = f["agents"].as_array().unwrap().iter().map(|a| a["name"].as_str().unwrap()).collect();
        assert_eq!(names, vec!["triage-agent"], "{b}");
        let (_, f) = s.admin().get("/v1/admin/agents?selector=env%3Dprod").await;
        assert!(f["agents"].as_array().unwrap().iter().all(|a| a["name"] != "triage-agent"), "{b}");
        // The chain says who changed what from what.
        let r = s.audit_of("agent.updated").await.pop().expect("agent.updated");
        assert_eq!(r["fields"]["agent_id"], id.as_str());
        assert_eq!(r["fields"]["owner"], json!({"from": old_owner, "to": new_owner}));
        assert_eq!(r["fields"]["labels"]["to"], json!({"env": "staging", "team": "ir"}));
        assert!(r["fields"].get("description").is_none(), "{b}: unchanged fields are not named");

        // Refusals, each naming the field; nothing changes.
        for (body, field) in [
            (json!({"owner": "nobody@elsewhere.example"}), "owner"),
            (json!({"labels": {"Bad Key!": "x"}}), "labels"),
            (json!({"description": "x".repeat(1001)}), "description"),
        ] {
            let (st, e) = s.admin().patch(&format!("/v1/admin/agents/{id}"), body).await;
            assert_eq!(st, 400, "{b}: {e}");
            assert_eq!(e["error"]["field"], field, "{b}: {e}");
        }
        let (st, e) = s.admin().patch(&format!("/v1/admin/agents/{id}"), json!({"name": "renamed"})).await;
        assert_eq!(st, 400, "{b}: an unknown field is refused: {e}");
        assert_eq!(s.audit_of("agent.updated").await.len(), 1, "{b}");
        // A reviewer and an auditor may not; another org's admin finds no such agent.
        for role in [Role::Reviewer, Role::Auditor] {
            let token = s.user_token(&format!("{}-edit@demo.arx.local", role.as_str()), role).await;
            let (st, _) = s.client(&token).patch(&format!("/v1/admin/agents/{id}"), json!({"description": "mine"})).await;
            assert_eq!(st, 403, "{b}: {role:?}");
        }
        let other = s.other_org_admin().await;
        let (st, _) = s.client(&other).patch(&format!("/v1/admin/agents/{id}"), json!({"description": "mine"})).await;
        assert_eq!(st, 404, "{b}");
        // A decommissioned agent's record is kept as it was retired.
        let (st, _) = s.admin().post(&format!("/v1/admin/agents/{id}/decommission"),
            json!({"reason": "replaced", "retention_class": "standard"})).await;
        assert_eq!(st, 200, "{b}");
        let (st, e) = s.admin().patch(&format!("/v1/admin/agents/{id}"), json!({"description": "later"})).await;
        assert_eq!(st, 409, "{b}: {e}");
    }
}

backend_tests! {
    async fn a_new_agent_names_the_retired_agent_it_replaces_and_lineage_walks_back(s: TestServer) {
        let b = s.backend;
        let owner = "secops-lead@demo.arx.local";
        let (old, _) = new_agent(&s, "old-triage").await;
        // A live agent cannot be named: it is retired first.
        let (st, e) = s.admin().post("/v1/admin/agents", json!({"name": "new-triage", "owner": owner, "replaces": old})).await;
        assert_eq!(st, 400, "{b}: {e}");
        assert_eq!(e["error"]["field"], "replaces");
        assert!(error_message(&e).contains("decommission it first"), "{b}: {e}");
        let (st, _) = s.admin().post(&format!("/v1/admin/agents/{old}/decommission"),
            json!({"reason": "model retired", "retention_class": "standard"})).await;
        assert_eq!(st, 200, "{b}");
        let (st, a) = s.admin().post("/v1/admin/agents", json!({"name": "new-triage", "owner": owner, "replaces": old})).await;
        assert_eq!(st, 201, "{b}: {a}");
        let new = a["agent"]["id"].as_str().unwrap().to_string();
        let created = s.audit_of("agent.created").await.pop().unwrap();
        assert_eq!(created["fields"]["replaces"], old.as_str(), "{b}");
        let (st, l) = s.admin().get(&format!("/v1/admin/agents/{new}/lineage")).await;
        assert_eq!(st, 200, "{b}: {l}");
        let preds = l["predecessors"].as_array().unwrap();
        assert_eq!(preds.len(), 1, "{b}: {l}");
        assert_eq!(preds[0]["agent_id"], old.as_str());
        assert_eq!(preds[0]["reason"], "model retired");
        // It has its successor now: a second agent cannot claim it, nor can an unknown
        // id or another org's agent be named; no agent is created.
        let other = s.other_org_admin().await;
        let theirs = s.an_owner(&other).await;
        let (_, t) = s.client(&other).post("/v1/admin/agents", json!({"name": "theirs", "owner": theirs})).await;
        let their_id = t["agent"]["id"].as_str().unwrap().to_string();
        for replaces in [old.clone(), their_id, arx_core::ids::AgentId::new().to_string()] {
            let (st, e) = s.admin().post("/v1/admin/agents", json!({"name": "third-triage", "owner": owner, "replaces": replaces})).await;
            assert_eq!(st, 400, "{b}: {e}");
            assert_eq!(e["error"]["field"], "replaces", "{b}: {e}");
        }
        let (_, f) = s.admin().get("/v1/admin/agents?selector=").await;
        assert!(f["agents"].as_array().unwrap().iter().all(|a| a["name"] != "third-triage"), "{b}");
    }
}

backend_tests! {
    async fn manifests_are_published_and_registered_in_yaml_too(s: TestServer) {
        let b = s.backend;
        let (id, key) = new_agent(&s, "yaml-agent").await;
        let yaml = "manifest:\n  connectors:\n    crowdstrike: [\"detections:read\", \"hosts:*\"]\n  rate_per_minute: 30\n  environments: [prod]\n  data_classes: [security_telemetry, asset_inventory]\n  purpose: Triage detections\n  model: claude-sonnet-4\nreason: written in YAML\n";
        let r = s.http.post(s.url(&format!("/v1/admin/agents/{id}/manifests")))
            .bearer_auth(s.admin_token()).header("content-type", "application/yaml").body(yaml).send().await.unwrap();
        assert_eq!(r.status(), 201, "{b}");
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["version"], 1, "{b}: {v}");
        assert_eq!(v["manifest"]["rate_per_minute"], 30, "{b}: {v}");
        // The agent registers a narrower one in YAML: published at once as version 2.
        let narrower = "manifest:\n  connectors:\n    crowdstrike: [\"detections:read\"]\n  rate_per_minute: 30\n  environments: [prod]\n  data_classes: [security_telemetry]\n  purpose: Triage detections\n  model: claude-sonnet-4\nreason: reads only\n";
        let r = s.http.post(s.url("/v1/agents/register")).bearer_auth(&key)
            .header("content-type", "application/yaml").body(narrower).send().await.unwrap();
        let st = r.status();
        let body: Value = r.json().await.unwrap();
        assert_eq!(st, 200, "{b}: {body}");
        let (_, a) = s.admin().get(&format!("/v1/admin/agents/{id}")).await;
        assert_eq!(a["agent"]["manifest_version"], 2, "{b}");
        // Malformed YAML, or a YAML manifest with a wrong field, is a 400 saying what.
        for (path, token, text, says) in [
            (format!("/v1/admin/agents/{id}/manifests"), s.admin_token(), "manifest: [unclosed".to_string(), "not valid YAML"),
            (format!("/v1/admin/agents/{id}/manifests"), s.admin_token(), yaml.replace("rate_per_minute: 30", "rate_per_minute: lots"), "rate_per_minute"),
            ("/v1/agents/register".to_string(), key.clone(), narrower.replace("reason: reads only", "reason: [1, 2"), "not valid YAML"),
        ] {
            let r = s.http.post(s.url(&path)).bearer_auth(&token).header("content-type", "text/yaml").body(text).send().await.unwrap();
            assert_eq!(r.status(), 400, "{b}: {path}");
            let e: Value = r.json().await.unwrap();
            assert!(error_message(&e).contains(says), "{b}: {path}: {e}");
        }
        let (_, a) = s.admin().get(&format!("/v1/admin/agents/{id}")).await;
        assert_eq!(a["agent"]["manifest_version"], 2, "{b}: nothing more was published");
    }
}

backend_tests! {
    async fn the_graph_names_each_connectors_instances_and_which_the_manifest_reaches(s: TestServer) {
        let b = s.backend;
        let id = s.agent_id("enrichment-agent");
        let (st, g) = s.admin().get(&format!("/v1/admin/agents/{id}/graph")).await;
        assert_eq!(st, 200, "{b}: {g}");
        let okta = g["connectors"].as_array().unwrap().iter().find(|c| c["name"] == "okta").expect("okta");
        let instances = okta["instances"].as_array().unwrap();
        assert!(!instances.is_empty(), "{b}: {g}");
        assert!(instances.iter().all(|i| i["environment"] == "prod" && i["reachable"] == true), "{b}: {g}");
        // A staging instance of Okta is drawn too, out of the prod-only manifest's reach.
        let (st, i) = s.admin().post("/v1/admin/instances", json!({"connector": "okta", "name": "okta-staging",
            "environment": "staging", "variables": {"host": "staging.okta.example"}})).await;
        assert_eq!(st, 201, "{b}: {i}");
        let (_, g) = s.admin().get(&format!("/v1/admin/agents/{id}/graph")).await;
        let okta = g["connectors"].as_array().unwrap().iter().find(|c| c["name"] == "okta").unwrap();
        let staging = okta["instances"].as_array().unwrap().iter().find(|i| i["name"] == "okta-staging").expect("staging");
        assert_eq!(staging["reachable"], false, "{b}: {g}");
        // The console draws it under its connector.
        let demo = s.demo();
        let cookie = s.console_session(&demo.auditor_email, &demo.auditor_password).await;
        let html = s.page_html(&format!("/agents/view?id={id}"), &cookie).await;
        assert!(html.contains("data-instance=\"okta-staging\" data-reachable=\"false\""), "{b}");
    }
}

backend_tests! {
    async fn an_admin_revokes_a_key_and_edits_an_agent_from_its_page(s: TestServer) {
        let b = s.backend;
        let demo = s.demo();
        let admin = s.console_session(&demo.admin_email, &demo.admin_password).await;
        let id = s.agent_id("enrichment-agent");
        let key = s.agent_key("enrichment-agent");
        let html = s.page_html(&format!("/agents/view?id={id}"), &admin).await;
        let action = |name: &str| -> String {
            let at = html.find(&format!("action=\"/api/{name}")).unwrap_or_else(|| panic!("{name} form"));
            let rest = &html[at + 8..];
            rest[..rest.find('"').unwrap()].to_string()
        };
        let (revoke, edit) = (action("revoke_key"), action("update_agent"));
        let (_, keys) = s.admin().get(&format!("/v1/admin/agents/{id}/keys")).await;
        let key_id = keys["keys"][0]["id"].as_str().unwrap().to_string();
        assert!(html.contains(&format!("value=\"{key_id}\"")), "{b}: the live key is offered");
        let post = |url: String, cookie: String, form: Vec<(&'static str, String)>| {
            let s = &s;
            async move {
                let r = s.http.post(s.url(&url)).header("cookie", cookie).header("origin", s.url(""))
                    .form(&form).send().await.unwrap();
                assert!(r.status().as_u16() < 500, "{url}: {}", r.status());
            }
        };
        // A reviewer or an auditor posting the same forms changes nothing.
        for (email, password) in [(demo.reviewer_email.clone(), demo.reviewer_password.clone()), (demo.auditor_email.clone(), demo.auditor_password.clone())] {
            let cookie = s.console_session(&email, &password).await;
            post(revoke.clone(), cookie.clone(), vec![("agent_id", id.clone()), ("key_id", key_id.clone())]).await;
            post(edit.clone(), cookie, vec![("agent_id", id.clone()), ("owner", email.clone()), ("description", "mine".into()), ("labels", "env:dev".into())]).await;
        }
        s.execute_permitted(&key, crate::harness::okta_users()).await;
        assert!(s.audit_of("agent.updated").await.is_empty(), "{b}");
        // The admin does both.
        post(edit.clone(), admin.clone(), vec![("agent_id", id.clone()), ("owner", demo.reviewer_email.clone()),
            ("description", "Looks up identities".into()), ("labels", "env:prod, team=ti, tier:1".into())]).await;
        let (_, a) = s.admin().get(&format!("/v1/admin/agents/{id}")).await;
        assert_eq!(a["agent"]["owner"], demo.reviewer_email.as_str(), "{b}");
        assert_eq!(a["agent"]["labels"], json!({"env": "prod", "team": "ti", "tier": "1"}), "{b}");
        post(revoke.clone(), admin.clone(), vec![("agent_id", id.clone()), ("key_id", key_id.clone())]).await;
        let (st, e) = s.execute(&key, crate::harness::okta_users()).await;
        assert_eq!(st, 401, "{b}: the revoked key authenticates nothing: {e}");
        assert_eq!(s.audit_of("agent.key_revoked").await.len(), 1, "{b}");

        // A replay of the revocation, a malformed key id, or another org's agent and
        // key named through this org's admin: refused, nothing changes.
        let other = s.other_org_admin().await;
        let theirs_owner = s.an_owner(&other).await;
        let (_, t) = s.client(&other).post("/v1/admin/agents", json!({"name": "theirs", "owner": theirs_owner, "description": "their own"})).await;
        let their_agent = t["agent"]["id"].as_str().unwrap().to_string();
        let (_, k) = s.client(&other).post(&format!("/v1/admin/agents/{their_agent}/keys"), json!({})).await;
        let (their_key, their_key_id) = (k["api_key"].as_str().unwrap().to_string(), k["key"]["id"].as_str().unwrap().to_string());
        for (agent, key) in [(id.clone(), key_id.clone()), (id.clone(), "../../x".to_string()), (id.clone(), their_key_id.clone()), (their_agent.clone(), their_key_id.clone())] {
            post(revoke.clone(), admin.clone(), vec![("agent_id", agent), ("key_id", key)]).await;
        }
        post(edit.clone(), admin.clone(), vec![("agent_id", their_agent.clone()), ("owner", demo.admin_email.clone()),
            ("description", "ours now".into()), ("labels", "env:prod".into())]).await;
        assert_eq!(s.audit_of("agent.key_revoked").await.len(), 1, "{b}");
        let (st, _) = s.execute(&their_key, crate::harness::okta_users()).await;
        assert_ne!(st, 401, "{b}: their key still authenticates");
        let (_, a) = s.client(&other).get(&format!("/v1/admin/agents/{their_agent}")).await;
        assert_eq!(a["agent"]["description"], "their own", "{b}");
        // Through the API the same replay is a 404 that says so.
        let (st, e) = s.admin().delete(&format!("/v1/admin/agents/{id}/keys/{key_id}")).await;
        assert_eq!(st, 404, "{b}: {e}");
    }
}
