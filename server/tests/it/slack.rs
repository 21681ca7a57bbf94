//! Slack, Teams and signed webhooks against a local stand-in for each (an axum server on
//! port 0 that answers the Slack Web API methods ARX uses and records every call):
//! settings that never show their secrets, the request message with buttons, refusals
//! of badly signed, stale, future-dated and unsigned interactions (all audited), a
//! reviewer's Approve from Slack that runs the call once and updates the message, a
//! press by someone without rights, and new/final notices to Teams and webhooks with a
//! signature the receiver can check.

use std::time::Duration;

use arx_core::model::Role;
use arx_core::store::prelude::*;
use arx_testkit::backend_tests;
use reqwest::Method;
use serde_json::{Value, json};

use crate::fakes::slack::{self, SlackApi, press, press_on, sign, ts_for};
use crate::fakes::{Call, teams, webhook};
use crate::harness::{TestServer, contain, containments, error_message};

const SIGNING_SECRET: &str = "8f742231b10e8888abcd99yyyzzz85a5";
const BOT_TOKEN: &str = "xoxb-test-bot-token-0001";
const WEBHOOK_SECRET: &str = "whsec-test-0001";
const REVIEWER: &str = "slack-reviewer@demo.arx.local";
const AUDITOR: &str = "slack-auditor@demo.arx.local";

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// Waits until ARX has posted the Slack message of request `id` and stored where it went.
async fn posted(s: &TestServer, id: &str) {
    let org = s.running.store.org_by_slug("demo").await.unwrap().unwrap();
    for _ in 0..200 {
        let n = s
            .running
            .engine
            .system()
            .approval_notice(
                org.id,
                id.parse().unwrap(),
                arx_core::integration::IntegrationKind::Slack,
            )
            .await
            .unwrap();
        if n.is_some_and(|n| !n.message_ts.is_empty()) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("the message of {id} was never posted");
}

/// Posts an interaction with the given headers; status and JSON answer.
async fn interact(
    s: &TestServer,
    body: &str,
    ts: Option<String>,
    sig: Option<String>,
) -> (u16, Value) {
    let mut req = s
        .http
        .post(s.url("/integrations/slack/interactions"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body.to_string());
    if let Some(ts) = ts {
        req = req.header("x-slack-request-timestamp", ts);
    }
    if let Some(sig) = sig {
        req = req.header("x-slack-signature", sig);
    }
    let r = req.send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

async fn signed(s: &TestServer, body: &str) -> (u16, Value) {
    let ts = now();
    interact(
        s,
        body,
        Some(ts.to_string()),
        Some(sign(SIGNING_SECRET, ts, body)),
    )
    .await
}

async fn configure_slack(s: &TestServer, base: &str) {
    let (code, out) = s
        .admin().put("/v1/admin/integrations/slack", json!({"bot_token": BOT_TOKEN, "signing_secret": SIGNING_SECRET,
                   "channel": "C0ARX", "team_id": "T0ARX", "app_id": "A0ARX", "api_base_url": format!("{base}/api")}))
        .await;
    assert_eq!(code, 200, "{}: {out}", s.backend);
}

async fn approval_status(s: &TestServer, id: &str) -> String {
    let (_, d) = s.admin().approval(&id).await;
    d["approval"]["status"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// The `sig` of the console link in a posted message.
fn link_in(blocks: &Value) -> String {
    let text = blocks.to_string();
    let start = text.find("/approvals/view?id=").expect("a console link");
    let link = &text[start..];
    link[..link.find('|').unwrap()].to_string()
}

backend_tests! {
    async fn slack_settings_are_for_admins_and_never_show_their_secrets(s: TestServer) {
        let b = s.backend;
        let (code, out) = s.admin_get("/v1/admin/integrations/slack").await;
        assert_eq!(
            (code, &out["integration"]["configured"]),
            (200, &json!(false)),
            "{b}: {out}"
        );

        let (code, out) = s
            .admin().put("/v1/admin/integrations/slack", json!({"bot_token": BOT_TOKEN, "signing_secret": SIGNING_SECRET, "channel": "#secops", "team_id": "T0ARX", "app_id": "A0ARX"}))
            .await;
        assert_eq!(code, 200, "{b}: {out}");
        let i = &out["integration"];
        assert_eq!(i["config"]["channel"], "#secops", "{b}");
        assert_eq!(
            i["config"]["api_base_url"], "https://slack.com/api",
            "{b}: the default"
        );
        assert_eq!(
            i["secrets_set"],
            json!({"bot_token": true, "signing_secret": true}),
            "{b}"
        );
        let (_, shown) = s.admin_get("/v1/admin/integrations/slack").await;
        assert_eq!(shown["integration"]["configured"], true, "{b}");

        // Plain http only to this machine, where a credential cannot be overheard.
        let (code, out) = s
            .admin().put("/v1/admin/integrations/slack", json!({"bot_token": BOT_TOKEN, "signing_secret": SIGNING_SECRET, "channel": "C1",
                       "team_id": "T0ARX", "app_id": "A0ARX", "api_base_url": "http://slack.example/api"}))
            .await;
        assert_eq!(
            (code, out["error"]["code"].as_str()),
            (400, Some("invalid_request")),
            "{b}: {out}"
        );
        let (code, out) = s
            .admin()
            .put("/v1/admin/integrations/teams", json!({"link": "x"}))
            .await;
        assert!(
            code == 400 && error_message(&out).contains("{url}"),
            "{b}: {out}"
        );
        let (code, _) = s.admin_get("/v1/admin/integrations/pager").await;
        assert_eq!(code, 404, "{b}");

        // Reviewers neither read nor change them.
        let reviewer = s
            .user_token("settings-reviewer@demo.arx.local", Role::Reviewer)
            .await;
        for method in [Method::GET, Method::PUT, Method::DELETE] {
            let r = s
                .http
                .request(method.clone(), s.url("/v1/admin/integrations/slack"))
                .bearer_auth(&reviewer)
                .json(&json!({"bot_token": "x", "signing_secret": "y", "channel": "z"}))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 403, "{b}: {method} by a reviewer");
        }

        let (code, out) = s.admin().delete("/v1/admin/integrations/slack").await;
        assert_eq!((code, &out["deleted"]), (200, &json!(true)), "{b}: {out}");
        let (_, shown) = s.admin_get("/v1/admin/integrations/slack").await;
        assert_eq!(shown["integration"]["configured"], false, "{b}");

        // Recorded, with field names only: no secret in the trail or in the database.
        let audit = s.audit().await;
        let set: Vec<&Value> = audit
            .iter()
            .filter(|r| r["kind"] == "integration.set")
            .collect();
        assert_eq!(set.len(), 1, "{b}");
        assert_eq!(
            set[0]["fields"]["secret_fields"],
            json!(["bot_token", "signing_secret"]),
            "{b}"
        );
        assert!(
            audit.iter().any(|r| r["kind"] == "integration.deleted"),
            "{b}"
        );
        let dump = serde_json::to_string(&audit).unwrap();
        assert!(
            !dump.contains(BOT_TOKEN) && !dump.contains(SIGNING_SECRET),
            "{b}"
        );
        s.admin().put("/v1/admin/integrations/slack", json!({"bot_token": BOT_TOKEN, "signing_secret": SIGNING_SECRET, "channel": "C1", "team_id": "T0ARX", "app_id": "A0ARX"}))
        .await;
        use sqlx::Row;
        let rows = sqlx::query("SELECT sealed_secrets, config FROM integrations")
            .fetch_all(s.running.store.pool())
            .await
            .unwrap();
        assert_eq!(rows.len(), 1, "{b}");
        let sealed: String = rows[0].get("sealed_secrets");
        let config: String = rows[0].get("config");
        assert!(sealed.starts_with("v1:"), "{b}");
        for stored in [&sealed, &config] {
            assert!(
                !stored.contains(BOT_TOKEN) && !stored.contains(SIGNING_SECRET),
                "{b}"
            );
        }
    }
}

backend_tests! {
    async fn a_reviewer_approves_from_slack_and_forged_or_stale_presses_are_refused(s: TestServer) {
        let b = s.backend;
        let (fake, base) = slack::start(&[
            ("U0REVIEWER", REVIEWER),
            ("U0AUDITOR", AUDITOR),
            ("U0STRANGER", "stranger@elsewhere.example"),
        ])
        .await;
        configure_slack(&s, &base).await;
        s.user_token(REVIEWER, Role::Reviewer).await;
        s.user_token(AUDITOR, Role::Auditor).await;

        let (code, out) = s
            .execute(&s.agent_key("remediation-agent"), contain("host-slack"))
            .await;
        assert_eq!(code, 202, "{b}: {out}");
        let id = out["approval_id"].as_str().unwrap().to_string();

        // The message: what, where, risk, rule, the diff, the buttons, a signed link.
        let posted = fake.wait_for("/api/chat.postMessage", 1).await;
        let msg = &posted[0];
        assert_eq!(msg.authorization, format!("Bearer {BOT_TOKEN}"), "{b}");
        assert_eq!(msg.body["channel"], "C0ARX", "{b}");
        let blocks = msg.body["blocks"].to_string();
        for needle in [
            "remediation-agent",
            "crowdstrike.hosts:write",
            "prod",
            "Risk",
            "Rule",
            "normal → contained",
            "Exactly what will run",
            "ids (1 item)",
            "Written by the agent",
            "arx_approve",
            "arx_deny",
            id.as_str(),
        ] {
            assert!(
                blocks.contains(needle),
                "{b}: '{needle}' missing from {blocks}"
            );
        }
        let risk = out["risk_score"].as_u64().unwrap();
        assert!(blocks.contains(&format!("{risk}/100")), "{b}: {blocks}");

        // The console link is signed: tampering is refused, the real one opens (signed in).
        let link = link_in(&msg.body["blocks"]);
        let sig = link.rsplit("sig=").next().unwrap().to_string();
        assert!(
            s.running
                .engine
                .verify_approval_link(id.parse().unwrap(), &sig)
                .await
                .unwrap()
        );
        let session = s
            .console_session(&s.demo().admin_email, &s.demo().admin_password)
            .await;
        let open = |path: String| {
            let (s, session) = (&s, session.clone());
            async move { s.page(&path, &session).await.status().as_u16() }
        };
        assert_eq!(open(link.clone()).await, 200, "{b}: {link}");
        let flipped = if sig.starts_with('0') { "1" } else { "0" };
        let forged = link.replace(
            &format!("sig={sig}"),
            &format!("sig={flipped}{}", &sig[1..]),
        );
        assert_eq!(
            open(forged).await,
            403,
            "{b}: a link with a forged signature"
        );
        let other = s
            .execute(&s.agent_key("remediation-agent"), contain("host-other"))
            .await
            .1;
        let other_id = other["approval_id"].as_str().unwrap();
        assert_eq!(
            open(link.replace(&id, other_id)).await,
            403,
            "{b}: a signature does not carry over to another request"
        );

        // Refused before anything is trusted; each refusal says why and is recorded. The
        // timestamps are taken when each press is sent, and well outside the five-minute
        // window, so a slow machine cannot carry one back inside it (the exact boundary is
        // a unit test of `verify_slack`).
        let body = press(&id, "arx_approve", "U0REVIEWER");
        let tampered = press(&id, "arx_approve", "U0AUDITOR");
        let cases = [
            ("tampered body", &tampered, Some((0, SIGNING_SECRET)), 401, "bad_signature"),
            ("stale", &body, Some((-400, SIGNING_SECRET)), 401, "stale_timestamp"),
            ("future", &body, Some((400, SIGNING_SECRET)), 401, "future_timestamp"),
            ("wrong secret", &body, Some((0, "not-the-secret")), 401, "bad_signature"),
            ("no headers", &body, None, 400, "missing_headers"),
        ];
        for (what, sent, signing, status, reason) in cases {
            let (ts, sig) = match signing {
                Some((offset, secret)) => {
                    let ts = now() + offset;
                    (Some(ts.to_string()), Some(sign(secret, ts, &body)))
                }
                None => (None, None),
            };
            let (code, out) = interact(&s, sent, ts, sig).await;
            assert_eq!(
                (code, out["error"]["reason"].as_str()),
                (status, Some(reason)),
                "{b}: {what}: {out}"
            );
            assert!(!error_message(&out).is_empty(), "{b}: {what}");
        }
        assert_eq!(approval_status(&s, &id).await, "pending", "{b}");
        assert!(
            fake.calls("/api/users.info").is_empty(),
            "{b}: nothing unverified was looked up"
        );

        // Signed, but not on ARX's message for this request, or not from the org's app:
        // refused before the user is looked up, and recorded.
        let other_ts = ts_for(other_id);
        for (what, body, reason) in [
            (
                "another request's message",
                press_on(&id, "arx_approve", "U0REVIEWER", &other_ts, "A0ARX"),
                "not_our_message",
            ),
            (
                "a message ARX never posted",
                press_on(
                    &id,
                    "arx_approve",
                    "U0REVIEWER",
                    "1699999999.000001",
                    "A0ARX",
                ),
                "not_our_message",
            ),
            (
                "another app",
                press(&id, "arx_approve", "U0REVIEWER").replace("A0ARX", "A0OTHER"),
                "wrong_app",
            ),
        ] {
            let (code, out) = signed(&s, &body).await;
            assert_eq!(
                (code, out["refused"]["reason"].as_str()),
                (200, Some(reason)),
                "{b}: {what}: {out}"
            );
        }
        assert_eq!(approval_status(&s, &id).await, "pending", "{b}");
        assert!(
            fake.calls("/api/users.info").is_empty(),
            "{b}: nothing was looked up for a press on the wrong message"
        );
        let refused = s.audit().await;
        for reason in ["not_our_message", "wrong_app"] {
            assert!(
                refused
                    .iter()
                    .any(|r| r["kind"] == "slack.interaction_refused"
                        && r["fields"]["reason"] == reason),
                "{b}: the {reason} refusal is recorded"
            );
        }

        // Signed, but by someone ARX does not know, or who may not decide.
        let (code, out) = signed(&s, &press(&id, "arx_approve", "U0STRANGER")).await;
        assert_eq!(
            (code, out["refused"]["reason"].as_str()),
            (200, Some("unknown_user")),
            "{b}: {out}"
        );
        let (code, out) = signed(&s, &press(&id, "arx_approve", "U0AUDITOR")).await;
        assert_eq!(
            (code, out["refused"]["reason"].as_str()),
            (200, Some("no_rights")),
            "{b}: {out}"
        );
        assert!(
            out["refused"]["message"]
                .as_str()
                .unwrap()
                .contains("reviewer or admin role"),
            "{b}: {out}"
        );
        let told = fake.wait_for("/api/chat.postEphemeral", 5).await;
        let told = told.iter().find(|c| c.body["user"] == "U0AUDITOR").unwrap();
        assert!(
            told.body["text"]
                .as_str()
                .unwrap()
                .contains("did not record your decision"),
            "{b}"
        );
        assert_eq!(approval_status(&s, &id).await, "pending", "{b}");
        assert_eq!(containments(&s), 0, "{b}: nothing ran");

        // The reviewer approves: ARX runs the call once and the message shows who decided.
        let (code, out) = signed(&s, &press(&id, "arx_approve", "U0REVIEWER")).await;
        assert_eq!(code, 200, "{b}: {out}");
        assert_eq!(out["ok"], true, "{b}: {out}");
        for _ in 0..200 {
            if approval_status(&s, &id).await == "executed" {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(approval_status(&s, &id).await, "executed", "{b}");
        assert_eq!(containments(&s), 1, "{b}: the approved call ran once");
        let mut updated = None;
        for _ in 0..200 {
            updated = fake
                .calls("/api/chat.update")
                .into_iter()
                .find(|c| c.body["blocks"].to_string().contains("and done"));
            if updated.is_some() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let updated = updated.unwrap_or_else(|| panic!("{b}: no final chat.update"));
        assert_eq!(
            (
                updated.body["channel"].as_str(),
                updated.body["ts"].as_str()
            ),
            (Some("C0ARX"), Some(ts_for(&id).as_str())),
            "{b}: the posted message is the one updated"
        );
        let final_blocks = updated.body["blocks"].to_string();
        assert!(
            final_blocks.contains(REVIEWER),
            "{b}: who decided: {final_blocks}"
        );
        assert!(
            !final_blocks.contains("arx_approve"),
            "{b}: no buttons once decided"
        );

        // A second press changes nothing and runs nothing.
        let (_, out) = signed(&s, &press(&id, "arx_deny", "U0REVIEWER")).await;
        assert_eq!(out["refused"]["reason"], "already_decided", "{b}: {out}");
        assert_eq!(containments(&s), 1, "{b}");

        // The trail: every refusal with its reason, the decision by the mapped user.
        let audit = s.audit().await;
        let reasons: Vec<&str> = audit
            .iter()
            .filter(|r| r["kind"] == "slack.interaction_refused")
            .map(|r| r["fields"]["reason"].as_str().unwrap())
            .collect();
        assert_eq!(
            reasons,
            [
                "bad_signature",
                "stale_timestamp",
                "future_timestamp",
                // The second bad signature is counted into the first one's burst: its
                // summary is written when the burst's minute is over.
                "missing_headers",
                // Likewise the second press on a message that is not ARX's.
                "not_our_message",
                "wrong_app",
                "unknown_user",
                "no_rights",
                "already_decided"
            ],
            "{b}"
        );
        assert!(
            audit
                .iter()
                .filter(|r| r["kind"] == "slack.interaction_refused")
                .all(|r| r["fields"]["count"] == 1),
            "{b}: each burst's first refusal is recorded with its count"
        );
        let approved = audit
            .iter()
            .find(|r| r["kind"] == "approval.approved" && r["fields"]["approval_id"] == id.as_str())
            .unwrap();
        assert_eq!(approved["actor"]["name"], REVIEWER, "{b}");
        assert_eq!(approved["fields"]["comment"], "via Slack", "{b}");
        let dump = serde_json::to_string(&audit).unwrap();
        assert!(
            !dump.contains(SIGNING_SECRET) && !dump.contains(BOT_TOKEN),
            "{b}: no secret in the trail"
        );
    }
}

/// The ARX user id of `email` in the demo org.
/// Waits for a `chat.update` whose blocks contain `needle`.
async fn update_showing(fake: &SlackApi, needle: &str) -> Option<Call> {
    for _ in 0..200 {
        let found = fake
            .calls("/api/chat.update")
            .into_iter()
            .find(|c| c.body["blocks"].to_string().contains(needle));
        if found.is_some() {
            return found;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    None
}

backend_tests! {
    async fn linked_slack_members_decide_and_a_two_approver_message_counts_votes(s: TestServer) {
        let b = s.backend;
        // Lead 1's Slack profile shows a personal email ARX does not know; lead 2's matches.
        let (fake, base) = slack::start(&[
            ("U0LEAD1", "lead1@personal.example"),
            ("U0LEAD2", "lead2@demo.arx.local"),
            ("U0IMPOSTOR", "lead1@demo.arx.local"),
        ])
        .await;
        configure_slack(&s, &base).await;
        let policy = "rules:\n  - id: contain-two-leads\n    when: crowdstrike.hosts:write\n    then: ESCALATE\n    approvers: [ir-leads]\n    min_approvals: 2\n";
        assert_eq!(s.put_policy(&s.admin_token(), policy).await, 200, "{b}");
        let lead1_token = s.user_token("lead1@demo.arx.local", Role::Reviewer).await;
        s.user_token("lead2@demo.arx.local", Role::Reviewer).await;
        let lead1 = s.user_id("lead1@demo.arx.local").await;
        let lead2 = s.user_id("lead2@demo.arx.local").await;
        for u in [&lead1, &lead2] {
            let path = format!("/v1/admin/users/{u}/groups");
            let (code, _) = s.admin().put(&path, json!({"groups": ["ir-leads"]})).await;
            assert_eq!(code, 200, "{b}");
        }

        // Linking: the id must look like a Slack member id, belongs to one user, admins only.
        let link = |user: &str, slack: Value| {
            let (s, path) = (&s, format!("/v1/admin/users/{user}/slack"));
            async move {
                s.admin()
                    .put(&path, json!({ "slack_user_id": slack }))
                    .await
            }
        };
        let (code, out) = link(&lead1, json!("lead1")).await;
        assert_eq!(code, 400, "{b}: {out}");
        assert!(
            error_message(&out).contains("Copy member ID"),
            "{b}: the refusal says where to find the id: {out}"
        );
        let (code, out) = link(&lead1, json!("U0LEAD1")).await;
        assert_eq!(
            (code, &out["user"]["slack_user_id"]),
            (200, &json!("U0LEAD1")),
            "{b}: {out}"
        );
        let (code, out) = link(&lead2, json!("U0LEAD1")).await;
        assert_eq!(code, 409, "{b}: one Slack member, one ARX user: {out}");
        assert!(error_message(&out).contains("already linked"), "{b}: {out}");
        let r = s
            .http
            .put(s.url(&format!("/v1/admin/users/{lead2}/slack")))
            .bearer_auth(&lead1_token)
            .json(&json!({"slack_user_id": "U0LEAD2"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403, "{b}: reviewers do not link");

        let id = s
            .escalate(&s.agent_key("remediation-agent"), contain("host-two"))
            .await;
        fake.wait_for("/api/chat.postMessage", 1).await;

        // Another member whose profile shows lead 1's email is not lead 1: lead 1 is linked.
        let (_, out) = signed(&s, &press(&id, "arx_approve", "U0IMPOSTOR")).await;
        assert_eq!(out["refused"]["reason"], "unknown_user", "{b}: {out}");
        assert!(
            out["refused"]["message"]
                .as_str()
                .unwrap()
                .contains("linked to another Slack member"),
            "{b}: {out}"
        );

        // Lead 1 by the link (no profile lookup): one vote, the message counts it and
        // keeps its buttons.
        let (code, out) = signed(&s, &press(&id, "arx_approve", "U0LEAD1")).await;
        assert_eq!(
            (code, &out["status"]),
            (200, &json!("pending")),
            "{b}: {out}"
        );
        assert_eq!(
            fake.calls("/api/users.info").len(),
            1,
            "{b}: only the impostor was looked up; a linked member is not"
        );
        let counted = update_showing(&fake, "1 of 2 approvals")
            .await
            .unwrap_or_else(|| panic!("{b}: the message never showed 1 of 2"));
        assert!(
            counted.body["blocks"].to_string().contains("arx_approve"),
            "{b}: still open for the second approver"
        );
        assert_eq!(containments(&s), 0, "{b}: one approval runs nothing");

        // Lead 2 by email: the second approval runs the call; the message names both.
        let (code, out) = signed(&s, &press(&id, "arx_approve", "U0LEAD2")).await;
        assert_eq!(code, 200, "{b}: {out}");
        let done = update_showing(&fake, "and done")
            .await
            .unwrap_or_else(|| panic!("{b}: no final update"));
        let blocks = done.body["blocks"].to_string();
        assert!(
            blocks.contains("lead1@demo.arx.local") && blocks.contains("lead2@demo.arx.local"),
            "{b}: {blocks}"
        );
        // Approved, executing and executed follow each other within milliseconds; the
        // message ends on the last of them, never rolled back to an earlier one.
        tokio::time::sleep(Duration::from_millis(500)).await;
        let last = fake.calls("/api/chat.update").pop().unwrap();
        assert!(
            last.body["blocks"].to_string().contains("and done"),
            "{b}: the message ends on the final state: {}",
            last.body["blocks"]
        );
        assert_eq!(containments(&s), 1, "{b}");

        // Unlinked, lead 1's Slack identity no longer reaches their account.
        let (code, out) = link(&lead1, Value::Null).await;
        assert_eq!(
            (code, &out["user"]["slack_user_id"]),
            (200, &Value::Null),
            "{b}: {out}"
        );
        let next = s
            .escalate(&s.agent_key("remediation-agent"), contain("host-three"))
            .await;
        posted(&s, &next).await;
        let (_, out) = signed(&s, &press(&next, "arx_approve", "U0LEAD1")).await;
        assert_eq!(out["refused"]["reason"], "unknown_user", "{b}: {out}");

        let audit = s.audit().await;
        let links: Vec<&Value> = audit
            .iter()
            .filter(|r| r["kind"] == "user.slack_linked")
            .map(|r| &r["fields"]["slack_user_id"])
            .collect();
        assert_eq!(
            links,
            [&json!("U0LEAD1"), &Value::Null],
            "{b}: links and unlinks are recorded"
        );
        let vote = audit.iter().find(|r| r["kind"] == "approval.vote").unwrap();
        assert_eq!(vote["actor"]["name"], "lead1@demo.arx.local", "{b}");
    }
}

backend_tests! {
    async fn a_rate_limited_post_is_retried_and_a_failed_one_is_posted_by_the_next_event(
        s: TestServer,
    ) {
        let b = s.backend;
        let (fake, base) = slack::start(&[]).await;
        configure_slack(&s, &base).await;

        // Slack says "slow down, retry after 1 s": the message still arrives.
        fake.fail_next(
            "chat.postMessage",
            429,
            json!({"ok": false, "error": "ratelimited"}),
        );
        let (code, out) = s
            .execute(&s.agent_key("remediation-agent"), contain("host-busy"))
            .await;
        assert_eq!(code, 202, "{b}: {out}");
        let posts = fake.wait_for("/api/chat.postMessage", 2).await;
        assert_eq!(
            posts[0].body, posts[1].body,
            "{b}: the same message, tried again"
        );
        let id = out["approval_id"].as_str().unwrap().to_string();
        let approval = id.parse().unwrap();
        let org = s
            .running
            .store
            .org_by_slug("demo")
            .await
            .unwrap()
            .unwrap()
            .id;
        let mut notice = None;
        for _ in 0..100 {
            notice = s
                .running
                .engine
                .system()
                .approval_notice(org, approval, arx_core::integration::IntegrationKind::Slack)
                .await
                .unwrap()
                .filter(|n| !n.message_ts.is_empty());
            if notice.is_some() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(notice.is_some(), "{b}: the posted message is remembered");

        // A permanent error is not retried; the request's next event posts it afresh.
        fake.fail_next(
            "chat.postMessage",
            200,
            json!({"ok": false, "error": "channel_not_found"}),
        );
        let lost = s
            .escalate(&s.agent_key("remediation-agent"), contain("host-lost"))
            .await;
        fake.wait_for("/api/chat.postMessage", 3).await;
        tokio::time::sleep(Duration::from_millis(1500)).await;
        assert_eq!(
            fake.calls("/api/chat.postMessage").len(),
            3,
            "{b}: channel_not_found is not tried again"
        );
        let (code, _) = s.admin().deny(&lost, Some("not this one")).await;
        assert_eq!(code, 200, "{b}");
        let posts = fake.wait_for("/api/chat.postMessage", 4).await;
        let last = posts[3].body["blocks"].to_string();
        assert!(
            last.contains("Denied") && last.contains(&lost),
            "{b}: the decided request is posted: {last}"
        );
        assert_eq!(approval_status(&s, &id).await, "pending", "{b}");
    }
}

backend_tests! {
    async fn teams_and_signed_webhooks_hear_of_new_and_ended_requests(s: TestServer) {
        let b = s.backend;
        let (teams_in, hook_in) = (teams::start().await, webhook::start().await);
        let (code, out) = s
            .admin()
            .put("/v1/admin/integrations/teams", json!({"url": teams_in.url}))
            .await;
        assert_eq!(code, 200, "{b}: {out}");
        assert_eq!(
            out["integration"]["secrets_set"],
            json!({"url": true}),
            "{b}: the Teams URL is a credential"
        );
        assert!(!out.to_string().contains("/hooks/teams"), "{b}: {out}");
        let (code, out) = s
            .admin()
            .put(
                "/v1/admin/integrations/webhook",
                json!({"url": hook_in.url, "secret": WEBHOOK_SECRET}),
            )
            .await;
        assert_eq!(code, 200, "{b}: {out}");

        let id = s
            .escalate(&s.agent_key("remediation-agent"), contain("host-hooks"))
            .await;
        let teams = teams_in.wait_for(1).await;
        let hooks = hook_in.wait_for(1).await;

        let card = &teams[0].body["attachments"][0];
        assert_eq!(
            card["contentType"], "application/vnd.microsoft.card.adaptive",
            "{b}"
        );
        assert!(
            card["content"]
                .to_string()
                .contains("crowdstrike.hosts:write"),
            "{b}: {card}"
        );
        let open = card["content"]["actions"][0]["url"].as_str().unwrap();
        assert!(
            open.contains(&format!("/approvals/view?id={id}&sig=")),
            "{b}: {open}"
        );

        // The receiver's check: HMAC-SHA256 of the exact body, and a fresh signed time.
        let check = |c: &Call| {
            let expected = webhook::signature(WEBHOOK_SECRET, &c.raw);
            assert_eq!(c.headers["x-arx-signature"], expected, "{b}");
            let ts: i64 = c.headers["x-arx-timestamp"].parse().unwrap();
            assert_eq!(
                c.body["sent_at"], ts,
                "{b}: the time is inside the signed body"
            );
            assert!((now() - ts).abs() < 60, "{b}");
        };
        check(&hooks[0]);
        assert_eq!(hooks[0].headers["x-arx-event"], "approval.pending", "{b}");
        assert_eq!(hooks[0].body["approval"]["id"], id.as_str(), "{b}");
        assert_eq!(hooks[0].body["approval"]["status"], "pending", "{b}");
        assert!(
            hooks[0].body["approval"].get("params").is_none(),
            "{b}: params stay in ARX"
        );

        let (code, _) = s.admin().deny(&id, Some("not this host")).await;
        assert_eq!(code, 200, "{b}");
        let teams = teams_in.wait_for(2).await;
        let hooks = hook_in.wait_for(2).await;
        check(&hooks[1]);
        assert_eq!(hooks[1].headers["x-arx-event"], "approval.decided", "{b}");
        let a = &hooks[1].body["approval"];
        assert_eq!(
            (
                a["status"].as_str(),
                a["decided_by"][0].as_str(),
                a["comment"].as_str()
            ),
            (
                Some("denied"),
                Some(s.demo().admin_email.as_str()),
                Some("not this host")
            ),
            "{b}: {a}"
        );
        assert!(teams[1].body.to_string().contains("Denied by"), "{b}");

        // A tampered body no longer matches its signature.
        let mut forged = hooks[1].raw.clone();
        let at = forged.iter().position(|c| *c == b'd').unwrap();
        forged[at] = b'D';
        assert_ne!(
            hooks[1].headers["x-arx-signature"],
            webhook::signature(WEBHOOK_SECRET, &forged),
            "{b}"
        );

        // Once each: no more notices arrive for this request.
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(
            (teams_in.calls().len(), hook_in.calls().len()),
            (2, 2),
            "{b}"
        );
    }
}
