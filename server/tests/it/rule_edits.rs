//! Editing one rule through the admin API: add, change, move and delete, each based on
//! the version the admin read. A stale edit is refused with 409 and changes nothing, so
//! two admins editing at once never silently overwrite each other; every change needs
//! a reason, kept in the audit trail; a rule that can never be met is saved with a
//! warning.

use arx_core::model::Role;
use reqwest::Method;
use serde_json::{Value, json};

use arx_testkit::backend_tests;

use crate::harness::{TestServer, error_message};

/// One rule edit by the admin that must make version `version`.
async fn edited(s: &TestServer, method: Method, path: &str, body: Value, version: i64) {
    let (code, out) = s.admin().send(method, path, body).await;
    assert_eq!(
        (code, out["version"].as_i64()),
        (200, Some(version)),
        "{}: {out}",
        s.backend
    );
}

async fn policy(s: &TestServer) -> (i64, Vec<String>) {
    let (_, p) = s.admin_get("/v1/admin/policy").await;
    let ids = p["policy"]["rules"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|r| r["id"].as_str().unwrap_or_default().to_string())
        .collect();
    (p["version"].as_i64().unwrap_or(-1), ids)
}

fn deny(id: &str) -> Value {
    json!({"id": id, "when": "okta.users:read", "then": "DENY"})
}

/// `POST /v1/admin/policy/rules` with `body`, as the admin.
async fn post_rule(s: &TestServer, body: Value) -> (u16, Value) {
    s.admin().post("/v1/admin/policy/rules", body).await
}

async fn add(s: &TestServer, based_on: i64, rule: Value) -> (u16, Value) {
    post_rule(
        s,
        json!({"based_on": based_on, "reason": "test", "rule": rule}),
    )
    .await
}

async fn version_count(s: &TestServer) -> usize {
    let (_, list) = s.admin_get("/v1/admin/policy/versions").await;
    list["versions"].as_array().map_or(0, Vec::len)
}

backend_tests! {
    async fn each_rule_edit_works_through_the_api(s: TestServer) {
        let b = s.backend;
        assert_eq!(policy(&s).await, (0, vec![]), "{b}");

        let (code, out) = add(&s, 0, deny("a")).await;
        assert_eq!(
            (code, out["version"].as_i64()),
            (200, Some(1)),
            "{b}: {out}"
        );
        assert_eq!(out["summary"], "added a", "{b}: {out}");

        edited(
            &s,
            Method::POST,
            "/v1/admin/policy/rules",
            json!({"based_on": 1, "reason": "b goes first", "rule": deny("b"), "position": 0}),
            2,
        )
        .await;
        assert_eq!(policy(&s).await, (2, vec!["b".into(), "a".into()]), "{b}");

        let mut changed = deny("a");
        changed["then"] = json!("PERMIT");
        changed["priority"] = json!(20);
        edited(
            &s,
            Method::PUT,
            "/v1/admin/policy/rules/a",
            json!({"based_on": 2, "reason": "reads are fine", "rule": changed}),
            3,
        )
        .await;
        let (_, p) = s.admin_get("/v1/admin/policy").await;
        let a = p["policy"]["rules"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == "a")
            .cloned()
            .unwrap();
        assert_eq!(a["then"], "PERMIT", "{b}: {p}");

        edited(
            &s,
            Method::POST,
            "/v1/admin/policy/rules/a/move",
            json!({"based_on": 3, "reason": "a first", "to": 0}),
            4,
        )
        .await;
        assert_eq!(policy(&s).await, (4, vec!["a".into(), "b".into()]), "{b}");

        let (code, out) = s
            .admin()
            .delete("/v1/admin/policy/rules/b?based_on=4&reason=no%20longer%20needed")
            .await;
        assert_eq!(
            (code, out["version"].as_i64()),
            (200, Some(5)),
            "{b}: {out}"
        );
        assert_eq!(policy(&s).await, (5, vec!["a".into()]), "{b}");

        // Each version names its edit, and the audit record keeps the reason.
        let (_, list) = s.admin_get("/v1/admin/policy/versions").await;
        assert_eq!(list["versions"][0]["message"], "delete rule b", "{b}");
        let created = s.audit_of("policy.version_created").await;
        assert_eq!(created.len(), 5, "{b}");
        assert_eq!(created[4]["fields"]["reason"], "no longer needed", "{b}");
        assert_eq!(created[1]["fields"]["reason"], "b goes first", "{b}");

        // Editing a rule that is not there is a 404 naming it.
        let (code, out) = s
            .admin()
            .post(
                "/v1/admin/policy/rules/zzz/move",
                json!({"based_on": 5, "reason": "r", "to": 0}),
            )
            .await;
        assert_eq!(code, 404, "{b}: {out}");
        assert!(error_message(&out).contains("'zzz'"), "{b}: {out}");
    }
}

backend_tests! {
    /// The attack: an admin edits an old page over a newer version. Refused with 409
    /// `stale_policy`, the versions named, and nothing changed.
    async fn a_stale_edit_is_refused_and_changes_nothing(s: TestServer) {
        let b = s.backend;
        assert_eq!(add(&s, 0, deny("a")).await.0, 200, "{b}");
        let before = s.admin_get("/v1/admin/policy").await.1;
        let versions = version_count(&s).await;

        for (method, path, body) in [
            (
                Method::POST,
                "/v1/admin/policy/rules",
                json!({"based_on": 0, "reason": "r", "rule": deny("b")}),
            ),
            (
                Method::PUT,
                "/v1/admin/policy/rules/a",
                json!({"based_on": 0, "reason": "r", "rule": deny("a2")}),
            ),
            (
                Method::POST,
                "/v1/admin/policy/rules/a/move",
                json!({"based_on": 0, "reason": "r", "to": 0}),
            ),
            (
                Method::DELETE,
                "/v1/admin/policy/rules/a?based_on=0&reason=r",
                Value::Null,
            ),
        ] {
            let (code, out) = s.admin().send(method.clone(), path, body).await;
            assert_eq!(code, 409, "{b}: {method} {path}: {out}");
            assert_eq!(out["error"]["code"], "stale_policy", "{b}: {out}");
            assert_eq!(
                out["error"]["message"],
                "the policy changed since you opened it (you edited version 0, version 1 is in force); reload and redo your edit",
                "{b}"
            );
            assert_eq!(
                (&out["error"]["based_on"], &out["error"]["in_force"]),
                (&json!(0), &json!(1)),
                "{b}: {out}"
            );
        }
        // The whole-policy apply refuses a stale based_on the same way.
        let r = s
            .http
            .put(s.url("/v1/admin/policy?based_on=0&reason=r"))
            .bearer_auth(s.admin_token())
            .body("rules: []\n")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 409, "{b}");

        assert_eq!(s.admin_get("/v1/admin/policy").await.1, before, "{b}");
        assert_eq!(version_count(&s).await, versions, "{b}");
    }
}

backend_tests! {
    /// Two admins open version 0 and save at the same moment: one wins, the other is told
    /// to reload, and the winner's rule is the only change.
    async fn two_admins_editing_at_once_one_wins_one_gets_409(s: TestServer) {
        let b = s.backend;
        let second = s.user_token("admin2@demo.example", Role::Admin).await;
        let first = s.admin_token();
        let body = |id: &str| json!({"based_on": 0, "reason": "mine", "rule": deny(id)});
        let (first, second) = (s.client(&first), s.client(&second));
        let ((c1, o1), (c2, o2)) = tokio::join!(
            first.post("/v1/admin/policy/rules", body("one")),
            second.post("/v1/admin/policy/rules", body("two")),
        );
        let mut codes = [c1, c2];
        codes.sort();
        assert_eq!(codes, [200, 409], "{b}: {o1} {o2}");
        let loser = if c1 == 409 { &o1 } else { &o2 };
        assert_eq!(loser["error"]["code"], "stale_policy", "{b}: {loser}");
        let winner = if c1 == 200 { "one" } else { "two" };
        assert_eq!(policy(&s).await, (1, vec![winner.to_string()]), "{b}");
        assert_eq!(version_count(&s).await, 2, "{b}: version 0 and 1 only");
    }
}

backend_tests! {
    /// Apply, rollback and every rule edit need a reason; the 400 names the field. Nothing
    /// is saved without one.
    async fn a_reason_is_required(s: TestServer) {
        let b = s.backend;
        let reason_refused = |code: u16, out: &Value| {
            assert_eq!(code, 400, "{b}: {out}");
            assert!(
                error_message(out).starts_with("reason is required"),
                "{b}: {out}"
            );
        };
        for reason in [json!(""), json!("   ")] {
            let (code, out) = post_rule(
                &s,
                json!({"based_on": 0, "reason": reason, "rule": deny("a")}),
            )
            .await;
            reason_refused(code, &out);
        }
        let (code, out) = post_rule(&s, json!({"based_on": 0, "rule": deny("a")})).await;
        reason_refused(code, &out);
        let (code, out) = post_rule(&s, json!({"reason": "r", "rule": deny("a")})).await;
        assert_eq!(code, 400, "{b}: {out}");
        assert!(
            error_message(&out).starts_with("based_on is required"),
            "{b}: {out}"
        );

        let put = |q: &'static str| {
            s.http
                .put(s.url(&format!("/v1/admin/policy{q}")))
                .bearer_auth(s.admin_token())
                .body("rules: [{id: a, when: okta.users:read, then: DENY}]\n")
                .send()
        };
        let r = put("").await.unwrap();
        let code = r.status().as_u16();
        reason_refused(code, &r.json().await.unwrap());
        let r = put("?reason=%20").await.unwrap();
        let code = r.status().as_u16();
        reason_refused(code, &r.json().await.unwrap());
        // A preview saves nothing, so it needs no reason.
        assert_eq!(put("?dry_run=true").await.unwrap().status(), 200, "{b}");
        assert_eq!(policy(&s).await.0, 0, "{b}: nothing saved");

        assert_eq!(add(&s, 0, deny("a")).await.0, 200, "{b}");
        let (code, out) = s
            .admin()
            .post("/v1/admin/policy/rollback", json!({"version": 0}))
            .await;
        reason_refused(code, &out);
        assert_eq!(policy(&s).await.0, 1, "{b}: no rollback without a reason");
        edited(
            &s,
            Method::POST,
            "/v1/admin/policy/rollback",
            json!({"version": 0, "reason": "a was a mistake"}),
            2,
        )
        .await;
    }
}

backend_tests! {
    /// A rule whose approvals no group can give is saved, with a warning naming it; the
    /// warning also comes with a dry run. A rule the demo's reviewers can meet has none.
    async fn an_unmeetable_rule_is_saved_with_a_warning(s: TestServer) {
        let b = s.backend;
        let escalate = |id: &str, groups: &[&str], n: u8| {
            json!({"id": id, "when": "okta.users:read", "then": "ESCALATE",
                   "approvers": groups, "min_approvals": n})
        };
        let (code, out) = add(&s, 0, escalate("leads", &["secops-leads"], 1)).await;
        assert_eq!(code, 200, "{b}: {out}");
        assert_eq!(out["warnings"], json!([]), "{b}: {out}");

        let (code, out) = add(&s, 1, escalate("ghosts", &["no-such-group"], 1)).await;
        assert_eq!(
            (code, out["version"].as_i64()),
            (200, Some(2)),
            "{b}: {out}"
        );
        let w = out["warnings"].as_array().unwrap();
        assert_eq!(w.len(), 1, "{b}: {out}");
        assert!(
            w[0].as_str().unwrap().starts_with(
                "rule 'ghosts' can never be approved: it needs 1 approvals from members of no-such-group, and 0 active"
            ),
            "{b}: {out}"
        );

        // More approvals than members: the demo has one reviewer in secops-leads.
        let members = {
            let (_, users) = s.admin_get("/v1/admin/users").await;
            users["users"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .iter()
                .filter(|u| {
                    u["active"] == true
                        && ["admin", "reviewer"].contains(&u["role"].as_str().unwrap_or(""))
                        && u["groups"]
                            .as_array()
                            .is_some_and(|g| g.contains(&json!("secops-leads")))
                })
                .count()
        };
        let too_many = u8::try_from(members + 1).unwrap().min(5);
        let yaml = format!(
            "rules:\n- {{id: leads, when: okta.users:read, then: ESCALATE, approvers: [secops-leads], min_approvals: {too_many}}}\n"
        );
        let r = s
            .http
            .put(s.url("/v1/admin/policy?dry_run=true"))
            .bearer_auth(s.admin_token())
            .body(yaml)
            .send()
            .await
            .unwrap();
        let out: Value = r.json().await.unwrap();
        let w = out["warnings"].as_array().unwrap();
        assert_eq!(w.len(), 1, "{b}: {out}");
        assert!(
            w[0].as_str().unwrap().contains("rule 'leads'"),
            "{b}: {out}"
        );
    }
}

backend_tests! {
    /// Rule edits are for admins only, like every other policy change.
    async fn a_reviewer_cannot_edit_rules(s: TestServer) {
        let b = s.backend;
        let reviewer = s.user_token("rev-edit@demo.example", Role::Reviewer).await;
        let (code, out) = s
            .client(&reviewer)
            .post(
                "/v1/admin/policy/rules",
                json!({"based_on": 0, "reason": "r", "rule": deny("a")}),
            )
            .await;
        assert_eq!(code, 403, "{b}: {out}");
        let (code, _) = s
            .client(&reviewer)
            .delete("/v1/admin/policy/rules/a?based_on=0&reason=r")
            .await;
        assert_eq!(code, 403, "{b}");
        assert_eq!(policy(&s).await.0, 0, "{b}");
    }
}

backend_tests! {
    /// Attacks on the rule routes: another org's admin, malformed and oversized values,
    /// a rule id that tries to leave its path segment, and a replayed edit. Each is
    /// refused with a clear error and the demo org's policy is unchanged.
    async fn rule_edits_refuse_other_orgs_bad_values_and_replays(s: TestServer) {
        let b = s.backend;
        assert_eq!(add(&s, 0, deny("a")).await.0, 200, "{b}");
        let before = s.admin_get("/v1/admin/policy").await.1;

        // Another org's admin names the demo org's rule: it is not theirs to see.
        let other = s.other_org_admin().await;
        let (code, out) = s
            .client(&other)
            .delete("/v1/admin/policy/rules/a?based_on=0&reason=mine")
            .await;
        assert_eq!(code, 404, "{b}: {out}");

        // Malformed values, each a 400 that says what to fix.
        let long = "x".repeat(501);
        for (method, path, body) in [
            (
                Method::POST,
                "/v1/admin/policy/rules",
                json!({"based_on": "one", "reason": "r", "rule": deny("c")}),
            ),
            (
                Method::POST,
                "/v1/admin/policy/rules",
                json!({"based_on": 1, "reason": long, "rule": deny("c")}),
            ),
            (
                Method::POST,
                "/v1/admin/policy/rules",
                json!({"based_on": 1, "reason": "r", "rule": {"id": "c"}}),
            ),
            (
                Method::POST,
                "/v1/admin/policy/rules/a/move",
                json!({"based_on": 1, "reason": "r", "to": -1}),
            ),
            (
                Method::PUT,
                "/v1/admin/policy/rules/a",
                json!({"based_on": 1, "reason": "r", "rule": deny("a"), "extra": 1}),
            ),
            (
                Method::DELETE,
                "/v1/admin/policy/rules/a?based_on=one&reason=r",
                Value::Null,
            ),
        ] {
            let (code, out) = s.admin().send(method.clone(), path, body).await;
            assert_eq!(code, 400, "{b}: {method} {path}: {out}");
            assert_eq!(
                out["error"]["code"], "invalid_request",
                "{b}: {path}: {out}"
            );
        }

        // A rule id that tries to leave its segment names no rule.
        let (code, out) = s
            .admin()
            .delete("/v1/admin/policy/rules/..%2Fversions?based_on=1&reason=r")
            .await;
        assert_eq!(code, 404, "{b}: {out}");

        // The same edit sent twice: the second is based on a version no longer in force.
        let body = json!({"based_on": 1, "reason": "once", "rule": deny("d")});
        let (first, _) = post_rule(&s, body.clone()).await;
        let (again, out) = post_rule(&s, body).await;
        assert_eq!((first, again), (200, 409), "{b}: {out}");
        assert_eq!(out["error"]["code"], "stale_policy", "{b}");

        let after = s.admin_get("/v1/admin/policy").await.1;
        assert_eq!(after["version"], 2, "{b}: only the one good edit landed");
        assert_eq!(
            before["policy"]["rules"]
                .as_array()
                .map(Vec::len)
                .unwrap_or(0)
                + 1,
            after["policy"]["rules"]
                .as_array()
                .map(Vec::len)
                .unwrap_or(0),
            "{b}"
        );
    }
}
