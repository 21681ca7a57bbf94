//! Identity (issue 12): rights that follow groups at the next request, deactivation that
//! ends everything an account held at once, sessions a user and an admin can end, per-org
//! session timeouts, and the break-glass account's sign-ins on the record.

use std::sync::Arc;

use arx_core::clock::ManualClock;
use arx_core::model::Role;
use arx_testkit::{Backend, backend_tests};
use serde_json::{Value, json};

use crate::harness::{TestServer, contain, containments, error_message, start_with_clock};

const PASSWORD: &str = "correct horse battery";

/// Where the console sends `cookie` for `path`: `None` when it answers the page.
async fn redirected(s: &TestServer, cookie: &str, path: &str) -> Option<String> {
    let r = s.page(path, cookie).await;
    r.headers()
        .get("location")
        .map(|l| l.to_str().unwrap().to_string())
}

/// The user of the demo org with `email`, as `GET /v1/admin/users` lists them.
async fn listed(s: &TestServer, email: &str) -> Value {
    let (code, users) = s.admin_get("/v1/admin/users").await;
    assert_eq!(code, 200, "{users}");
    users["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["email"] == email)
        .cloned()
        .unwrap_or_else(|| panic!("no {email} in {users}"))
}

backend_tests! {
    async fn rights_follow_group_mappings_at_the_next_request(s: TestServer) {
        let b = s.backend;
        let admin = s.admin_token();
        let policy = "rules:\n  - id: contain-leads\n    when: crowdstrike.hosts:write\n    then: ESCALATE\n    approvers: [secops-leads]\n";
        assert_eq!(s.put_policy(&admin, policy).await, 200, "{b}");
        let email = "member@demo.arx.local";
        let token = s.user_token(email, Role::Owner).await;
        let cookie = s.console_session(email, PASSWORD).await;
        let uid = s.user_id(email).await;
        let id = s.escalate(&s.agent_key("remediation-agent"), contain("h-map")).await;

        let (code, out) = s.client(&token).approve(&id, None).await;
        assert_eq!(code, 403, "{b}: an owner does not decide: {out}");
        assert!(error_message(&out).contains("has owner"), "{b}: {out}");

        // A membership of a group nobody mapped gives nothing.
        let group = "Okta-SecOps-Leads";
        let member_of = format!("/v1/admin/users/{uid}/member-of");
        let (code, out) = s.client(&admin).put(&member_of, json!({"groups": [group]})).await;
        assert_eq!(code, 200, "{b}: {out}");
        assert_eq!(s.client(&token).approve(&id, None).await.0, 403, "{b}");

        // Mapped: the same token and the same cookie hold the role at their next request.
        let mapping = json!({"group": group, "role": "reviewer", "approver_groups": ["secops-leads"]});
        let (code, out) = s.client(&token).put("/v1/admin/group-mappings", mapping.clone()).await;
        assert_eq!(code, 403, "{b}: only admins map groups: {out}");
        let (code, out) = s.client(&admin).put("/v1/admin/group-mappings", mapping).await;
        assert_eq!(code, 200, "{b}: {out}");
        let user = listed(&s, email).await;
        assert_eq!(user["roles"], json!(["reviewer", "owner"]), "{b}: {user}");
        assert_eq!(user["approver_groups"], json!(["secops-leads"]), "{b}");
        assert_eq!(user["role"], "owner", "{b}: the user's own role is unchanged");
        assert_eq!(
            (&user["member_of"][0]["group"], &user["member_of"][0]["source"], &user["member_of"][0]["role"]),
            (&json!(group), &json!("local"), &json!("reviewer")),
            "{b}: {user}"
        );
        let html = s.page_html("/approvals", &cookie).await;
        assert!(html.contains("reviewer, owner"), "{b}: the top bar shows both roles");

        // Unmapped again: gone at the next request.
        let (code, _) = s
            .client(&admin)
            .delete(&format!("/v1/admin/group-mappings?group={group}"))
            .await;
        assert_eq!(code, 204, "{b}");
        let (code, out) = s.client(&token).approve(&id, None).await;
        assert_eq!(code, 403, "{b}: {out}");
        assert!(!s.page_html("/approvals", &cookie).await.contains("reviewer, owner"), "{b}");

        // Mapped back, the member decides and the call runs once.
        let mapping = json!({"group": group, "role": "reviewer", "approver_groups": ["secops-leads"]});
        assert_eq!(s.client(&admin).put("/v1/admin/group-mappings", mapping).await.0, 200);
        let (code, out) = s.client(&token).approve(&id, None).await;
        assert_eq!((code, out["approval"]["status"].as_str()), (200, Some("executed")), "{b}: {out}");
        assert_eq!(containments(&s), 1, "{b}");

        // Names as directories send them (a path, spaces) round-trip through the query.
        let odd = "/arx/SOC Leads & Friends";
        let (code, out) = s
            .client(&admin)
            .put("/v1/admin/group-mappings", json!({"group": odd, "role": "auditor"}))
            .await;
        assert_eq!(code, 200, "{b}: {out}");
        let query = reqwest::Url::parse_with_params("http://x/", [("group", odd)]).unwrap();
        let (code, _) = s
            .client(&admin)
            .delete(&format!("/v1/admin/group-mappings?{}", query.query().unwrap()))
            .await;
        assert_eq!(code, 204, "{b}");
        let (_, list) = s.client(&admin).get("/v1/admin/group-mappings").await;
        let groups: Vec<&str> = list["mappings"].as_array().unwrap().iter()
            .map(|m| m["group"].as_str().unwrap()).collect();
        assert_eq!(groups, vec![group], "{b}: {list}");

        // Refused, saying what to fix; nothing changes.
        let long = "g".repeat(257);
        for (body, says) in [
            (json!({"group": group}), "role, approver groups or both"),
            (json!({"group": group, "role": "superuser"}), "role"),
            (json!({"group": "bell\u{7}", "role": "reviewer"}), "control characters"),
            (json!({"group": long, "role": "reviewer"}), "1 to 256"),
            (json!({"group": group, "approver_groups": ["bad group!"]}), "approver group 'bad group!'"),
            (json!({"group": group, "role": "reviewer", "extra": 1}), "extra"),
        ] {
            let (code, out) = s.client(&admin).put("/v1/admin/group-mappings", body.clone()).await;
            assert_eq!(code, 400, "{b}: {body}: {out}");
            assert!(error_message(&out).contains(says), "{b}: {body}: {out}");
        }
        let (code, out) = s.client(&admin).put(&member_of, json!({"groups": ["ok", "tab\there"]})).await;
        assert_eq!(code, 400, "{b}: {out}");
        let (code, _) = s
            .client(&admin)
            .delete("/v1/admin/group-mappings?group=never-mapped")
            .await;
        assert_eq!(code, 404, "{b}");

        // Another org's admin neither sees this org's mappings nor changes its users.
        let other = s.other_org_admin().await;
        let (_, theirs) = s.client(&other).get("/v1/admin/group-mappings").await;
        assert_eq!(theirs["mappings"], json!([]), "{b}");
        let (code, _) = s.client(&other).put(&member_of, json!({"groups": ["x"]})).await;
        assert_eq!(code, 404, "{b}");
        let (code, _) = s
            .client(&other)
            .delete(&format!("/v1/admin/group-mappings?group={group}"))
            .await;
        assert_eq!(code, 404, "{b}");
        assert_eq!(listed(&s, email).await["member_of"][0]["group"], group, "{b}");

        for kind in ["group_mapping.set", "user.member_of_set"] {
            assert!(!s.audit_of(kind).await.is_empty(), "{b}: {kind} is recorded");
        }
    }
}

backend_tests! {
    async fn deactivating_a_user_ends_their_sessions_tokens_groups_and_votes_at_once(
        s: TestServer,
    ) {
        let b = s.backend;
        let admin = s.admin_token();
        let policy = "rules:\n  - id: two-leads\n    when: crowdstrike.hosts:write\n    then: ESCALATE\n    approvers: [ir-leads]\n    min_approvals: 2\n";
        assert_eq!(s.put_policy(&admin, policy).await, 200, "{b}");
        let mut tokens = Vec::new();
        for email in ["lead1@demo.arx.local", "lead2@demo.arx.local", "lead3@demo.arx.local"] {
            tokens.push(s.user_token(email, Role::Reviewer).await);
            let uid = s.user_id(email).await;
            let (code, _) = s
                .client(&admin)
                .put(&format!("/v1/admin/users/{uid}/groups"), json!({"groups": ["ir-leads"]}))
                .await;
            assert_eq!(code, 200, "{b}");
        }
        let lead1 = s.user_id("lead1@demo.arx.local").await;
        let cookie = s.console_session("lead1@demo.arx.local", PASSWORD).await;
        assert_eq!(redirected(&s, &cookie, "/approvals").await, None, "{b}: signed in");
        let id = s.escalate(&s.agent_key("remediation-agent"), contain("h-leaver")).await;
        let (code, out) = s.client(&tokens[0]).approve(&id, Some("fine by me")).await;
        assert_eq!((code, out["approval"]["status"].as_str()), (200, Some("pending")), "{b}");

        let (code, listed_sessions) = s.client(&admin).get(&format!("/v1/admin/users/{lead1}/sessions")).await;
        assert_eq!(code, 200, "{b}");
        let sessions = listed_sessions["sessions"].as_array().unwrap();
        assert_eq!(sessions.len(), 1, "{b}: {listed_sessions}");
        assert_eq!(sessions[0]["client"], "127.0.0.1", "{b}");
        let secret = cookie.trim_start_matches("arx_session=");
        assert!(!listed_sessions.to_string().contains(secret), "{b}: the cookie is never listed");
        assert_eq!(listed(&s, "lead1@demo.arx.local").await["sessions"], 1, "{b}");

        // Refused: a reviewer, another org's admin, the admin themself.
        let deactivate = format!("/v1/admin/users/{lead1}/deactivate");
        assert_eq!(s.client(&tokens[1]).post(&deactivate, Value::Null).await.0, 403, "{b}");
        let other = s.other_org_admin().await;
        assert_eq!(s.client(&other).post(&deactivate, Value::Null).await.0, 404, "{b}");
        let me = s.user_id(&s.demo().admin_email).await;
        let (code, out) = s
            .client(&admin)
            .post(&format!("/v1/admin/users/{me}/deactivate"), Value::Null)
            .await;
        assert_eq!(code, 400, "{b}: {out}");
        assert!(error_message(&out).contains("your own account"), "{b}: {out}");
        assert_eq!(redirected(&s, &cookie, "/approvals").await, None, "{b}: still signed in");

        let (code, out) = s.client(&admin).post(&deactivate, Value::Null).await;
        assert_eq!(code, 200, "{b}: {out}");
        assert_eq!(out["user"]["active"], false, "{b}");
        assert_eq!(out["user"]["groups"], json!([]), "{b}");

        // At once: the browser's next click goes to the sign-in page, the token is dead.
        assert_eq!(redirected(&s, &cookie, "/approvals").await.as_deref(), Some("/login"), "{b}");
        let (code, _) = s.client(&tokens[0]).get("/v1/admin/agents").await;
        assert_eq!(code, 401, "{b}");
        let (_, after) = s.client(&admin).get(&format!("/v1/admin/users/{lead1}/sessions")).await;
        assert_eq!(after["sessions"], json!([]), "{b}");
        let rec = s.audit_of("user.deactivated").await;
        assert_eq!(rec.len(), 1, "{b}");
        let f = &rec[0]["fields"];
        assert_eq!((f["sessions_ended"].as_u64(), f["groups_removed"].clone()), (Some(1), json!(["ir-leads"])), "{b}: {f}");
        assert!(f["tokens_revoked"].as_u64().unwrap() >= 1, "{b}: {f}");

        // The leaver's vote no longer counts: one more lead is still one of two.
        let (code, out) = s.client(&tokens[1]).approve(&id, None).await;
        assert_eq!((code, out["approval"]["status"].as_str()), (200, Some("pending")), "{b}: {out}");
        assert_eq!(containments(&s), 0, "{b}");
        let (code, out) = s.client(&tokens[2]).approve(&id, None).await;
        assert_eq!((code, out["approval"]["status"].as_str()), (200, Some("executed")), "{b}: {out}");
        assert_eq!(
            out["approval"]["decided_by"],
            json!(["lead2@demo.arx.local", "lead3@demo.arx.local"]),
            "{b}"
        );

        // Twice is a conflict; a sign-in is refused; reactivated, they come back bare.
        assert_eq!(s.client(&admin).post(&deactivate, Value::Null).await.0, 409, "{b}");
        let r = s.http.post(s.url("/auth/login")).header("origin", s.url(""))
            .form(&[("email", "lead1@demo.arx.local"), ("password", PASSWORD)])
            .send().await.unwrap();
        assert_eq!(r.headers()["location"], "/login?error=invalid", "{b}");
        let (code, out) = s.client(&admin).post(&format!("/v1/admin/users/{lead1}/reactivate"), Value::Null).await;
        assert_eq!((code, out["user"]["active"].as_bool()), (200, Some(true)), "{b}: {out}");
        assert_eq!(out["user"]["groups"], json!([]), "{b}");
        let cookie = s.console_session("lead1@demo.arx.local", PASSWORD).await;
        assert_eq!(redirected(&s, &cookie, "/approvals").await, None, "{b}");
        assert_eq!(s.client(&tokens[0]).get("/v1/admin/agents").await.0, 401, "{b}: tokens stay revoked");
    }
}

backend_tests! {
    async fn sessions_end_by_admin_idle_or_absolute_timeout_and_the_break_glass_sign_in_is_recorded(
        b: Backend,
    ) {
        let clock = Arc::new(ManualClock::new(1_800_000_000_000));
        let s = start_with_clock(b, clock.clone()).await;
        let b = s.backend;
        let admin = s.admin_token();
        let email = "analyst@demo.arx.local";
        s.user_token(email, Role::Auditor).await;
        let uid = s.user_id(email).await;

        // An admin ends a session; another org's admin cannot, nor can a made-up key.
        let cookie = s.console_session(email, PASSWORD).await;
        let (_, list) = s.client(&admin).get(&format!("/v1/admin/users/{uid}/sessions")).await;
        let key = list["sessions"][0]["key"].as_str().unwrap().to_string();
        assert_eq!(key.len(), 64, "{b}: {list}");
        let other = s.other_org_admin().await;
        let end = format!("/v1/admin/sessions/{key}");
        assert_eq!(s.client(&other).delete(&end).await.0, 404, "{b}");
        let reviewer = s.user_token("rev@demo.arx.local", Role::Reviewer).await;
        assert_eq!(s.client(&reviewer).delete(&end).await.0, 403, "{b}");
        assert_eq!(s.client(&admin).delete("/v1/admin/sessions/not-a-key").await.0, 404, "{b}");
        assert_eq!(redirected(&s, &cookie, "/audit").await, None, "{b}");
        assert_eq!(s.client(&admin).delete(&end).await.0, 204, "{b}");
        assert_eq!(redirected(&s, &cookie, "/audit").await.as_deref(), Some("/login"), "{b}");
        assert_eq!(s.audit_of("session.ended").await.len(), 1, "{b}");

        // Idle: 5 minutes without a request ends it.
        let settings = "/v1/admin/settings/sessions";
        let (code, out) = s.client(&admin).put(settings, json!({"idle_minutes": 5, "absolute_minutes": 60})).await;
        assert_eq!(code, 200, "{b}: {out}");
        let cookie = s.console_session(email, PASSWORD).await;
        clock.advance_ms(4 * 60_000);
        assert_eq!(redirected(&s, &cookie, "/audit").await, None, "{b}: 4 minutes idle");
        clock.advance_ms(4 * 60_000);
        assert_eq!(redirected(&s, &cookie, "/audit").await, None, "{b}: 4 more, but it was used");
        clock.advance_ms(6 * 60_000);
        assert_eq!(redirected(&s, &cookie, "/audit").await.as_deref(), Some("/login"), "{b}: 6 idle");

        // Absolute: an hour after sign-in however busy.
        let cookie = s.console_session(email, PASSWORD).await;
        for _ in 0..14 {
            clock.advance_ms(4 * 60_000);
            assert_eq!(redirected(&s, &cookie, "/audit").await, None, "{b}");
        }
        clock.advance_ms(5 * 60_000);
        assert_eq!(redirected(&s, &cookie, "/audit").await.as_deref(), Some("/login"), "{b}: 61 min");

        for (body, says) in [
            (json!({"idle_minutes": 1, "absolute_minutes": 60}), "idle_minutes"),
            (json!({"idle_minutes": 60, "absolute_minutes": 30}), "absolute_minutes"),
            (json!({"idle_minutes": 60}), "absolute_minutes"),
        ] {
            let (code, out) = s.client(&admin).put(settings, body.clone()).await;
            assert_eq!(code, 400, "{b}: {body}: {out}");
            assert!(error_message(&out).contains(says), "{b}: {out}");
        }
        assert_eq!(s.client(&reviewer).put(settings, json!({"idle_minutes": 60, "absolute_minutes": 60})).await.0, 403);
        let (_, now) = s.client(&admin).get(settings).await;
        assert_eq!(now, json!({"idle_minutes": 5, "absolute_minutes": 60}), "{b}");

        // The bootstrap admin is the break-glass account: its sign-in is its own record.
        assert_eq!(listed(&s, &s.demo().admin_email).await["break_glass"], true, "{b}");
        assert_eq!(listed(&s, email).await["break_glass"], false, "{b}");
        s.console_session(&s.demo().admin_email, &s.demo().admin_password).await;
        let glass = s.audit_of("user.break_glass_login").await;
        assert_eq!(glass.len(), 1, "{b}");
        assert_eq!(glass[0]["actor"]["name"], s.demo().admin_email, "{b}: {glass:?}");
        assert!(listed(&s, &s.demo().admin_email).await["last_login_ms"].is_i64(), "{b}");
    }
}

/// The address a page's form posts to for the server function `name`.
fn form_action(page: &str, name: &str) -> String {
    let at = page
        .find(&format!("action=\"/api/{name}"))
        .unwrap_or_else(|| panic!("no {name} form"));
    let rest = &page[at + 8..];
    rest[..rest.find('"').unwrap()].to_string()
}

backend_tests! {
    async fn the_consoles_identity_actions_refuse_lower_roles_other_orgs_and_oversized_input(
        s: TestServer,
    ) {
        let b = s.backend;
        let demo = s.demo();
        let admin = s.console_session(&demo.admin_email, &demo.admin_password).await;
        // A second session of the admin's, so the page has an End form (a browser's own
        // session ends with Sign out).
        s.console_session(&demo.admin_email, &demo.admin_password).await;
        let users = s.page_html("/settings/users", &admin).await;
        let identity = s.page_html("/settings/identity", &admin).await;
        let (active, member_of) = (form_action(&users, "set_user_active"), form_action(&users, "set_member_of"));
        let (mapping, timeouts) = (form_action(&identity, "set_group_mapping"), form_action(&identity, "set_session_settings"));
        let (unmap, end) = ("/api/delete_group_mapping".to_string(), form_action(&identity, "end_my_session"));
        let (oidc, new_scim) = (form_action(&identity, "set_oidc"), form_action(&identity, "create_scim_token"));
        let saml = form_action(&identity, "set_saml");
        // A usable IdP metadata document: the one the API's document gives as an example.
        let doc: Value = s.http.get(s.url("/openapi.json")).send().await.unwrap().json().await.unwrap();
        let idp_md = doc["components"]["schemas"]["SamlInput"]["example"]["metadata_xml"].as_str().unwrap().to_string();
        let (_, made) = s.client(&s.admin_token()).post("/v1/admin/scim-tokens", json!({"name": "kept"})).await;
        let scim_id = made["token"]["id"].as_str().unwrap().to_string();
        let revoke_scim = form_action(&s.page_html("/settings/identity", &admin).await, "revoke_scim_token");
        let ciso = s.user_id(&demo.auditor_email).await;
        let admin_token = s.admin_token();
        let (code, _) = s
            .client(&admin_token)
            .put("/v1/admin/group-mappings", json!({"group": "Kept", "role": "auditor"}))
            .await;
        assert_eq!(code, 200, "{b}");
        let admin_id = s.user_id(&demo.admin_email).await;
        let (_, listed_sessions) = s.client(&admin_token).get(&format!("/v1/admin/users/{admin_id}/sessions")).await;
        let admin_key = listed_sessions["sessions"][0]["key"].as_str().unwrap().to_string();

        // Another org's admin, signed in to the console of their own org.
        let system = s.running.engine.system();
        let other = match system.org_by_slug("other").await.unwrap() {
            Some(o) => o,
            None => system.create_org("other", "Other Org").await.unwrap(),
        };
        system
            .create_local_user(other.id, "root@other.example", "Other", Role::Admin, PASSWORD, arx_core::audit::Actor::system())
            .await
            .unwrap();
        let outsider = s.console_session("root@other.example", PASSWORD).await;

        let reviewer = s.console_session(&demo.reviewer_email, &demo.reviewer_password).await;
        let auditor = s.console_session(&demo.auditor_email, &demo.auditor_password).await;
        let long = "g".repeat(10_000);
        let post = |url: String, cookie: String, form: Vec<(&'static str, String)>| {
            let s = &s;
            async move {
                let r = s.http.post(s.url(&url)).header("cookie", &cookie).header("origin", s.url(""))
                    .form(&form).send().await.unwrap();
                assert!(r.status().as_u16() < 500, "{url}: {}", r.status());
            }
        };
        for (who, cookie) in [("reviewer", &reviewer), ("auditor", &auditor), ("other org's admin", &outsider)] {
            post(active.clone(), cookie.clone(), vec![("id", ciso.clone()), ("active", "false".into())]).await;
            post(member_of.clone(), cookie.clone(), vec![("email", demo.auditor_email.clone()), ("groups", "Kept".into())]).await;
            post(mapping.clone(), cookie.clone(), vec![("group", "Kept".into()), ("role", "admin".into()), ("approver_groups", "".into())]).await;
            post(unmap.clone(), cookie.clone(), vec![("group", "Kept".into())]).await;
            post(timeouts.clone(), cookie.clone(), vec![("idle_minutes", "5".into()), ("absolute_minutes", "5".into())]).await;
            post(end.clone(), cookie.clone(), vec![("key", admin_key.clone())]).await;
            post(oidc.clone(), cookie.clone(), vec![("enabled", "on".into()), ("issuer", "https://evil.example".into()), ("client_id", "x".into()), ("client_secret", "y".into())]).await;
            post(saml.clone(), cookie.clone(), vec![("enabled", "on".into()), ("metadata_xml", idp_md.clone())]).await;
            post(new_scim.clone(), cookie.clone(), vec![("name", "stolen".into())]).await;
            post(revoke_scim.clone(), cookie.clone(), vec![("id", scim_id.clone())]).await;
            assert_eq!(listed(&s, &demo.auditor_email).await["active"], true, "{b}: {who}");
            assert_eq!(listed(&s, &demo.auditor_email).await["member_of"], json!([]), "{b}: {who}");
        }
        // Oversized or malformed, from the admin: refused, nothing changes.
        post(member_of.clone(), admin.clone(), vec![("email", demo.auditor_email.clone()), ("groups", long.clone())]).await;
        let many = (0..501).map(|i| format!("g{i}")).collect::<Vec<_>>().join(",");
        post(member_of.clone(), admin.clone(), vec![("email", demo.auditor_email.clone()), ("groups", many)]).await;
        post(member_of.clone(), admin.clone(), vec![("email", "root@other.example".into()), ("groups", "Kept".into())]).await;
        post(mapping.clone(), admin.clone(), vec![("group", long.clone()), ("role", "admin".into())]).await;
        post(mapping.clone(), admin.clone(), vec![("group", "Kept".into()), ("role", "root".into())]).await;
        post(timeouts.clone(), admin.clone(), vec![("idle_minutes", "9".repeat(40)), ("absolute_minutes", "60".into())]).await;
        post(active.clone(), admin.clone(), vec![("id", "../../etc".into()), ("active", "false".into())]).await;
        assert_eq!(listed(&s, &demo.auditor_email).await["member_of"], json!([]), "{b}");
        let (_, theirs) = s.admin_get("/v1/admin/users").await;
        assert!(!theirs.to_string().contains("root@other.example"), "{b}");
        let (_, maps) = s.client(&admin_token).get("/v1/admin/group-mappings").await;
        assert_eq!(maps["mappings"].as_array().map(Vec::len), Some(1), "{b}: {maps}");
        assert_eq!(maps["mappings"][0]["role"], "auditor", "{b}");
        let (_, settings) = s.client(&admin_token).get("/v1/admin/settings/sessions").await;
        assert_eq!(settings["idle_minutes"], 720, "{b}");
        assert_eq!(s.page("/settings/users", &admin).await.status(), 200, "{b}: the admin's session was not ended");
        assert!(s.audit_of("user.deactivated").await.is_empty(), "{b}");
        let (_, oidc_now) = s.client(&admin_token).get("/v1/admin/sso/oidc").await;
        assert_eq!(oidc_now["settings"], Value::Null, "{b}: no lower role or outsider set OIDC: {oidc_now}");
        let (_, saml_now) = s.client(&admin_token).get("/v1/admin/sso/saml").await;
        assert_eq!(saml_now["settings"], Value::Null, "{b}: no lower role or outsider set SAML: {saml_now}");
        post(saml.clone(), admin.clone(), vec![("metadata_xml", idp_md.clone())]).await;
        let (_, saml_now) = s.client(&admin_token).get("/v1/admin/sso/saml").await;
        assert_eq!(saml_now["settings"]["idp_entity_id"], "https://idp.example.com/saml", "{b}: the same post works for the admin: {saml_now}");
        let (_, tokens) = s.client(&admin_token).get("/v1/admin/scim-tokens").await;
        assert_eq!(tokens["tokens"].as_array().map(Vec::len), Some(1), "{b}: none made: {tokens}");
        assert_eq!(tokens["tokens"][0]["revoked_ms"], Value::Null, "{b}: none revoked");
        // After the session ended: a page's own call gets 401 and the redirect to sign-in;
        // a browser's plain form post, a 302 to /login. Never a 500.
        for (accept, status) in [("application/json", 401), ("text/html,application/xhtml+xml", 302)] {
            let r = s.http.post(s.url(&new_scim)).header("origin", s.url("")).header("accept", accept)
                .form(&[("name", "late")]).send().await.unwrap();
            assert_eq!(r.status().as_u16(), status, "{b}: {accept}");
            assert!(r.headers()["location"].to_str().unwrap().ends_with("/login"), "{b}");
        }

        // The API's routes refuse the same way.
        let rev = s.user_token("rev2@demo.arx.local", Role::Reviewer).await;
        let other_token = s.other_org_admin().await;
        for path in [format!("/v1/admin/users/{ciso}/reactivate")] {
            assert_eq!(s.client(&rev).post(&path, Value::Null).await.0, 403, "{b}");
            assert_eq!(s.client(&other_token).post(&path, Value::Null).await.0, 404, "{b}");
        }
        let sessions = format!("/v1/admin/users/{ciso}/sessions");
        assert_eq!(s.client(&rev).get(&sessions).await.0, 403, "{b}");
        assert_eq!(s.client(&other_token).get(&sessions).await.0, 404, "{b}");
        let (code, out) = s
            .client(&admin_token)
            .put(&format!("/v1/admin/users/{ciso}/member-of"), json!({"groups": (0..501).map(|i| format!("g{i}")).collect::<Vec<_>>()}))
            .await;
        assert_eq!(code, 400, "{b}: {out}");
        assert!(error_message(&out).contains("at most 500"), "{b}: {out}");
        let (code, _) = s.client(&admin_token).put(&format!("/v1/admin/users/{ciso}/member-of"), json!({"groups": [long]})).await;
        assert_eq!(code, 400, "{b}");
        let (code, _) = s.client(&admin_token).post("/v1/admin/users/not-an-id/deactivate", Value::Null).await;
        assert_eq!(code, 400, "{b}");
    }
}
