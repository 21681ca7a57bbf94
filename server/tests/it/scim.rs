//! SCIM 2.0 (issue 12, point 4): a directory provisions users and groups with its own
//! token; rights follow its groups at the next request; a deactivation over SCIM ends the
//! user's sessions and tokens at once. The payloads are the literal shapes Okta and Entra
//! ID send. Refusals: no token, an admin token, a revoked token, another org's ids, the
//! break-glass account, bad filters and bodies, a stale `If-Match`.

use arx_core::model::Role;
use arx_testkit::backend_tests;
use serde_json::{Value, json};

use crate::harness::{TestServer, contain, containments};

const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
const PATCH: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// A SCIM token of the org whose admin holds `admin`.
async fn scim_token(s: &TestServer, admin: &str) -> String {
    let (code, out) = s
        .client(admin)
        .post(
            "/v1/admin/scim-tokens",
            json!({"name": "Okta provisioning"}),
        )
        .await;
    assert_eq!(code, 201, "{out}");
    assert!(
        out["scim_base_url"].as_str().unwrap().ends_with("/scim/v2"),
        "{out}"
    );
    out["secret"].as_str().unwrap().to_string()
}

/// Okta's create-user body.
fn okta_user(user_name: &str, given: &str) -> Value {
    json!({
        "schemas": [USER], "userName": user_name,
        "name": {"givenName": given, "familyName": "Tester"},
        "emails": [{"primary": true, "value": user_name.to_lowercase(), "type": "work"}],
        "displayName": format!("{given} Tester"), "locale": "en-US", "externalId": format!("00u-{given}"),
        "groups": [], "password": "never-kept-1!", "active": true
    })
}

fn ids(list: &Value) -> Vec<&str> {
    list["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect()
}

fn patch(ops: Value) -> Value {
    json!({"schemas": [PATCH], "Operations": ops})
}

backend_tests! {
    async fn a_directory_provisions_users_and_groups_and_rights_follow(s: TestServer) {
        let b = s.backend;
        let admin = s.admin_token();
        let scim = scim_token(&s, &admin).await;
        let dir = s.client(&scim);

        // Only a SCIM token opens SCIM, and only admins make one.
        for token in ["", admin.as_str(), "arxs_forged"] {
            let (code, out) = s.client(token).get("/scim/v2/Users").await;
            assert_eq!(code, 401, "{b}: {token:?}: {out}");
            assert_eq!(out["schemas"][0], "urn:ietf:params:scim:api:messages:2.0:Error", "{b}");
        }
        let reviewer = s.user_token("rev-scim@demo.arx.local", Role::Reviewer).await;
        assert_eq!(s.client(&reviewer).post("/v1/admin/scim-tokens", json!({"name": "x"})).await.0, 403, "{b}");
        assert_eq!(dir.get("/v1/admin/agents").await.0, 401, "{b}: a SCIM token is no admin token");

        // Create (Okta's shape): 201 with Location and ETag; the password is not kept.
        let r = s.http.post(s.url("/scim/v2/Users")).bearer_auth(&scim)
            .header("content-type", "application/scim+json")
            .body(okta_user("Alice@Corp.example", "Alice").to_string()).send().await.unwrap();
        assert_eq!(r.status(), 201, "{b}");
        assert_eq!(r.headers()["content-type"], "application/scim+json", "{b}");
        let etag = r.headers()["etag"].to_str().unwrap().to_string();
        let location = r.headers()["location"].to_str().unwrap().to_string();
        let alice: Value = r.json().await.unwrap();
        let alice_id = alice["id"].as_str().unwrap().to_string();
        assert!(location.ends_with(&format!("/scim/v2/Users/{alice_id}")), "{b}: {location}");
        assert_eq!(alice["meta"]["version"], etag.as_str(), "{b}");
        assert_eq!((alice["userName"].as_str(), alice["active"].as_bool()), (Some("Alice@Corp.example"), Some(true)), "{b}");
        assert!(alice.get("password").is_none() && !alice.to_string().contains("never-kept"), "{b}: {alice}");
        let (code, out) = dir.post("/scim/v2/Users", okta_user("alice@corp.EXAMPLE", "Again")).await;
        assert_eq!((code, out["scimType"].as_str()), (409, Some("uniqueness")), "{b}: {out}");
        let (code, _) = dir.post("/scim/v2/Users", okta_user("bob@corp.example", "Bob")).await;
        assert_eq!(code, 201, "{b}");
        let (_, u) = s.admin_get("/v1/admin/users").await;
        let listed = u["users"].as_array().unwrap().iter().find(|x| x["email"] == "alice@corp.example").cloned().unwrap();
        assert_eq!((listed["source"].as_str(), listed["roles"].clone(), listed["role"].clone()), (Some("scim"), json!([]), Value::Null), "{b}: a directory user holds nothing of their own: {listed}");

        // Filters, the userName lookup Okta sends for every user, pages and projections.
        let q = |f: &str| format!("/scim/v2/Users?filter={}", urlencode(f));
        let (_, out) = dir.get(&q(r#"userName eq "ALICE@corp.example""#)).await;
        assert_eq!(ids(&out), vec![alice_id.as_str()], "{b}: {out}");
        let (_, out) = dir.get(&q(r#"emails[type eq "work" and value ew "corp.example"] and name.givenName sw "b""#)).await;
        assert_eq!(out["totalResults"], 1, "{b}: {out}");
        assert_eq!(out["Resources"][0]["userName"], "bob@corp.example", "{b}");
        let (_, out) = dir.get(&q(r#"externalId eq "00u-Alice" or not (userName co "corp")"#)).await;
        assert!(ids(&out).contains(&alice_id.as_str()) && !out.to_string().contains("bob@corp"), "{b}: {out}");
        let (_, all) = dir.get("/scim/v2/Users?count=1&startIndex=2&attributes=userName").await;
        assert_eq!((all["itemsPerPage"].as_u64(), all["startIndex"].as_u64()), (Some(1), Some(2)), "{b}: {all}");
        assert!(all["totalResults"].as_u64().unwrap() >= 4, "{b}: the demo's users and the two new ones");
        let keys: Vec<&String> = all["Resources"][0].as_object().unwrap().keys().collect();
        assert_eq!(keys, vec!["id", "schemas", "userName"], "{b}: {all}");
        let (code, out) = dir.get(&q("userName eq")).await;
        assert_eq!((code, out["scimType"].as_str()), (400, Some("invalidFilter")), "{b}: {out}");

        // A local user the directory adopts, with a token and a console session.
        let email = "lead@demo.arx.local";
        let token = s.user_token(email, Role::Owner).await;
        let cookie = s.console_session(email, "correct horse battery").await;
        let (_, out) = dir.get(&q(&format!("userName eq \"{email}\""))).await;
        let lead_id = ids(&out)[0].to_string();

        // A group pushed by Okta, mapped to reviewer: rights at the next request.
        let (code, group) = dir.post("/scim/v2/Groups", json!({"schemas": [GROUP], "displayName": "Okta-SecOps-Leads", "members": []})).await;
        assert_eq!(code, 201, "{b}: {group}");
        let gid = group["id"].as_str().unwrap().to_string();
        let mapping = json!({"group": "Okta-SecOps-Leads", "role": "reviewer", "approver_groups": ["secops-leads"]});
        assert_eq!(s.client(&admin).put("/v1/admin/group-mappings", mapping).await.0, 200, "{b}");
        let id = s.escalate(&s.agent_key("remediation-agent"), contain("h-scim")).await;
        assert_eq!(s.client(&token).approve(&id, None).await.0, 403, "{b}: not a member yet");
        // Okta adds members with a path and a value array.
        let add = patch(json!([{"op": "add", "path": "members", "value": [{"value": lead_id, "display": email}]}]));
        let (code, out) = dir.send(reqwest::Method::PATCH, &format!("/scim/v2/Groups/{gid}"), add).await;
        assert_eq!(code, 200, "{b}: {out}");
        assert_eq!(out["members"][0]["value"], lead_id.as_str(), "{b}: {out}");
        let (_, me) = dir.get(&format!("/scim/v2/Users/{lead_id}")).await;
        assert_eq!(me["groups"][0]["value"], gid.as_str(), "{b}: {me}");

        // Entra ID renames the group (the mapping no longer matches: rights go), then back.
        let rename = |n: &str| patch(json!([{"op": "Replace", "path": "displayName", "value": n}]));
        let (code, _) = dir.send(reqwest::Method::PATCH, &format!("/scim/v2/Groups/{gid}"), rename("SecOps Leads (old)")).await;
        assert_eq!(code, 200, "{b}");
        assert_eq!(s.client(&token).approve(&id, None).await.0, 403, "{b}: a renamed group is another group");
        dir.send(reqwest::Method::PATCH, &format!("/scim/v2/Groups/{gid}"), rename("Okta-SecOps-Leads")).await;
        let (code, out) = s.client(&token).approve(&id, None).await;
        assert_eq!((code, out["approval"]["status"].as_str()), (200, Some("executed")), "{b}: {out}");
        assert_eq!(containments(&s), 1, "{b}");

        // Entra ID deactivates with no path and a string boolean: everything ends at once.
        assert_eq!(s.page("/approvals", &cookie).await.status(), 200, "{b}");
        let off = patch(json!([{"op": "Replace", "value": {"active": "False"}}]));
        let (code, out) = dir.send(reqwest::Method::PATCH, &format!("/scim/v2/Users/{lead_id}"), off).await;
        assert_eq!((code, out["active"].as_bool()), (200, Some(false)), "{b}: {out}");
        assert_eq!(s.page("/approvals", &cookie).await.headers()["location"], "/login", "{b}: the next click signs them out");
        assert_eq!(s.client(&token).get("/v1/admin/agents").await.0, 401, "{b}: their token is dead");
        let (_, g) = dir.get(&format!("/scim/v2/Groups/{gid}")).await;
        assert_eq!(g["members"], json!([]), "{b}: and their memberships gone: {g}");
        let rec = s.audit_of("user.deactivated").await;
        assert_eq!(rec.last().unwrap()["actor"]["type"], "scim", "{b}: {rec:?}");
        assert_eq!(rec.last().unwrap()["actor"]["name"], "Okta provisioning", "{b}");
        let written = s.audit_of("scim.group_written").await;
        assert!(written.iter().any(|r| r["fields"]["added"] == json!([email])), "{b}: {written:?}");
        assert!(s.audit_of("scim.user_written").await.len() >= 3, "{b}");

        // Reactivated by Okta's PATCH: they can sign in again, with nothing they had.
        let on = patch(json!([{"op": "replace", "value": {"active": true}}]));
        let (code, out) = dir.send(reqwest::Method::PATCH, &format!("/scim/v2/Users/{lead_id}"), on).await;
        assert_eq!((code, out["active"].as_bool()), (200, Some(true)), "{b}: {out}");
        assert_eq!(s.audit_of("user.reactivated").await.len(), 1, "{b}");
    }

    async fn scim_refuses_other_orgs_the_break_glass_account_and_bad_requests(s: TestServer) {
        let b = s.backend;
        let admin = s.admin_token();
        let scim = scim_token(&s, &admin).await;
        let dir = s.client(&scim);
        let other_admin = s.other_org_admin().await;
        let other = scim_token(&s, &other_admin).await;
        let them = s.client(&other);

        let (_, alice) = dir.post("/scim/v2/Users", okta_user("alice@corp.example", "Alice")).await;
        let alice_id = alice["id"].as_str().unwrap().to_string();
        let (_, group) = dir.post("/scim/v2/Groups", json!({"schemas": [GROUP], "displayName": "Readers", "members": [{"value": alice_id}]})).await;
        let gid = group["id"].as_str().unwrap().to_string();

        // Another org's directory neither sees nor changes this org's users and groups.
        let (_, list) = them.get("/scim/v2/Users").await;
        assert!(!list.to_string().contains("alice@corp.example"), "{b}: {list}");
        assert!(!list.to_string().contains("demo.arx.local"), "{b}: {list}");
        assert_eq!(them.get(&format!("/scim/v2/Users/{alice_id}")).await.0, 404, "{b}");
        let off = patch(json!([{"op": "replace", "value": {"active": false}}]));
        assert_eq!(them.send(reqwest::Method::PATCH, &format!("/scim/v2/Users/{alice_id}"), off.clone()).await.0, 404, "{b}");
        assert_eq!(them.delete(&format!("/scim/v2/Groups/{gid}")).await.0, 404, "{b}");
        let (code, out) = them.post("/scim/v2/Groups", json!({"displayName": "Steal", "members": [{"value": alice_id}]})).await;
        assert_eq!((code, out["scimType"].as_str()), (400, Some("invalidValue")), "{b}: another org's user is no member: {out}");
        let (_, me) = dir.get(&format!("/scim/v2/Users/{alice_id}")).await;
        assert_eq!(me["active"], true, "{b}");
        // Nor can it take a userName this org holds.
        let (code, _) = them.post("/scim/v2/Users", okta_user("alice@corp.example", "Evil")).await;
        assert_eq!(code, 409, "{b}");

        // The break-glass account is not the directory's to see or close.
        let (_, out) = dir.get(&format!("/scim/v2/Users?filter={}", urlencode(r#"userName eq "admin@demo.arx.local""#))).await;
        assert_eq!(out["totalResults"], 0, "{b}: {out}");
        let admin_id = s.user_id("admin@demo.arx.local").await;
        assert_eq!(dir.send(reqwest::Method::PATCH, &format!("/scim/v2/Users/{admin_id}"), off.clone()).await.0, 404, "{b}");
        assert_eq!(dir.delete(&format!("/scim/v2/Users/{admin_id}")).await.0, 404, "{b}");

        // Bodies, paths and versions that are wrong say so, and change nothing.
        let raw = |method: reqwest::Method, path: &str| s.http.request(method, s.url(path)).bearer_auth(&scim);
        let r = raw(reqwest::Method::POST, "/scim/v2/Users").header("content-type", "application/scim+json").body("{not json").send().await.unwrap();
        assert_eq!(r.status(), 400, "{b}");
        assert_eq!(r.json::<Value>().await.unwrap()["scimType"], "invalidSyntax", "{b}");
        let r = raw(reqwest::Method::POST, "/scim/v2/Users").header("content-type", "text/plain").body("{}").send().await.unwrap();
        assert_eq!(r.status(), 400, "{b}");
        for (body, what) in [
            (json!({"userName": ""}), "userName"),
            (json!({"userName": "x@y.z", "active": "perhaps"}), "active"),
            (json!({"userName": "x@y.z", "emails": "x"}), "emails"),
        ] {
            let (code, out) = dir.post("/scim/v2/Users", body).await;
            assert_eq!(code, 400, "{b}: {out}");
            assert!(out["detail"].as_str().unwrap().contains(what), "{b}: {out}");
        }
        let (code, out) = dir.send(reqwest::Method::PATCH, &format!("/scim/v2/Users/{alice_id}"), json!({"Operations": []})).await;
        assert_eq!((code, out["scimType"].as_str()), (400, Some("invalidSyntax")), "{b}: {out}");
        let bad_path = patch(json!([{"op": "add", "path": "emails[type eq", "value": "x"}]));
        let (code, out) = dir.send(reqwest::Method::PATCH, &format!("/scim/v2/Users/{alice_id}"), bad_path).await;
        assert_eq!((code, out["scimType"].as_str()), (400, Some("invalidPath")), "{b}: {out}");
        for path in ["/scim/v2/Users/..%2F..%2Fv1", "/scim/v2/Users/not-an-id", "/scim/v2/Groups/1"] {
            assert_eq!(dir.get(path).await.0, 404, "{b}: {path}");
        }
        assert_eq!(dir.get("/scim/v2/Nope").await.0, 404, "{b}");
        assert_eq!(dir.delete("/scim/v2/ServiceProviderConfig").await.0, 405, "{b}");
        let r = raw(reqwest::Method::PUT, &format!("/scim/v2/Users/{alice_id}")).header("if-match", "W/\"stale\"")
            .json(&okta_user("alice@corp.example", "Changed")).send().await.unwrap();
        assert_eq!(r.status(), 412, "{b}");
        let (_, me) = dir.get(&format!("/scim/v2/Users/{alice_id}")).await;
        assert_eq!(me["displayName"], "Alice Tester", "{b}: nothing changed");
        let r = raw(reqwest::Method::PUT, &format!("/scim/v2/Users/{alice_id}"))
            .header("if-match", me["meta"]["version"].as_str().unwrap())
            .json(&okta_user("alice@corp.example", "Changed")).send().await.unwrap();
        assert_eq!(r.status(), 200, "{b}");

        // Deleted: gone from SCIM, kept in ARX deactivated; created again, the same account.
        assert_eq!(dir.delete(&format!("/scim/v2/Users/{alice_id}")).await.0, 204, "{b}");
        assert_eq!(dir.get(&format!("/scim/v2/Users/{alice_id}")).await.0, 404, "{b}");
        assert_eq!(dir.delete(&format!("/scim/v2/Users/{alice_id}")).await.0, 404, "{b}");
        let (_, users) = s.admin_get("/v1/admin/users").await;
        let kept = users["users"].as_array().unwrap().iter().find(|u| u["email"] == "alice@corp.example").cloned().unwrap();
        assert_eq!(kept["active"], false, "{b}: {kept}");
        let (_, g) = dir.get(&format!("/scim/v2/Groups/{gid}")).await;
        assert_eq!(g["members"], json!([]), "{b}");
        let (code, back) = dir.post("/scim/v2/Users", okta_user("alice@corp.example", "Alice")).await;
        assert_eq!((code, back["id"].as_str(), back["active"].as_bool()), (201, Some(alice_id.as_str()), Some(true)), "{b}: {back}");
        assert_eq!(s.audit_of("scim.user_deleted").await.len(), 1, "{b}");

        // A revoked token stops at once.
        let (_, tokens) = s.client(&admin).get("/v1/admin/scim-tokens").await;
        let tid = tokens["tokens"][0]["id"].as_str().unwrap().to_string();
        assert!(!tokens.to_string().contains(&scim), "{b}: secrets are never listed");
        assert_eq!(s.client(&other_admin).delete(&format!("/v1/admin/scim-tokens/{tid}")).await.0, 404, "{b}");
        assert_eq!(s.client(&admin).delete(&format!("/v1/admin/scim-tokens/{tid}")).await.0, 204, "{b}");
        assert_eq!(dir.get("/scim/v2/Users").await.0, 401, "{b}");
        assert_eq!(them.get("/scim/v2/Users").await.0, 200, "{b}: the other org's token still works");
    }

    async fn concurrent_member_patches_all_land(s: TestServer) {
        let b = s.backend;
        let scim = scim_token(&s, &s.admin_token()).await;
        let dir = s.client(&scim);
        let (_, group) = dir.post("/scim/v2/Groups", json!({"displayName": "Entra-SOC", "members": []})).await;
        let gid = group["id"].as_str().unwrap().to_string();
        let mut users = vec![];
        for i in 0..8 {
            let (code, u) = dir.post("/scim/v2/Users", okta_user(&format!("m{i}@corp.example"), &format!("M{i}"))).await;
            assert_eq!(code, 201, "{b}: {u}");
            users.push(u["id"].as_str().unwrap().to_string());
        }
        // Entra ID sends one PATCH per member, several at once.
        let path = format!("/scim/v2/Groups/{gid}");
        let sends = users.iter().map(|id| {
            let body = patch(json!([{"op": "Add", "path": "members", "value": [{"value": id}]}]));
            let dir = s.client(&scim);
            let path = path.clone();
            async move { dir.send(reqwest::Method::PATCH, &path, body).await.0 }
        });
        let codes = futures::future::join_all(sends).await;
        assert!(codes.iter().all(|c| *c == 200), "{b}: {codes:?}");
        let (_, g) = dir.get(&path).await;
        let mut members: Vec<&str> = g["members"].as_array().unwrap().iter().map(|m| m["value"].as_str().unwrap()).collect();
        members.sort();
        let mut want: Vec<&str> = users.iter().map(String::as_str).collect();
        want.sort();
        assert_eq!(members, want, "{b}: no add was lost");
    }
}

fn urlencode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}
