//! Slack Web API: `{"ok": true, …}` answers.

use serde_json::{Value, json};

use super::{Ctx, Reply, hex, now_secs, ok, pick};

fn slack_id(prefix: char, seed: &str) -> String {
    format!("{prefix}{}", hex(seed, 10).to_uppercase())
}

fn ts(seq: u64) -> String {
    format!("{}.{:06}", now_secs(), seq % 1_000_000)
}

fn fail(error: &str) -> Reply {
    ok(json!({ "ok": false, "error": error }))
}

pub(super) fn respond(ctx: &Ctx<'_>) -> Reply {
    let channel = ctx.text("channel");
    match ctx.op {
        "channels:read" => {
            let names = ["general", "soc-alerts", "incident-response", "threat-intel"];
            let n = ctx.count(&["limit"], names.len());
            let channels: Vec<Value> = names
                .iter()
                .take(n)
                .map(|name| json!({ "id": slack_id('C', name), "name": name, "is_channel": true, "is_private": false, "is_archived": false, "num_members": 12 }))
                .collect();
            ok(
                json!({ "ok": true, "channels": channels, "response_metadata": { "next_cursor": "" } }),
            )
        }
        "messages:read" => {
            let Some(channel) = channel else {
                return fail("channel_not_found");
            };
            let n = ctx.count(&["limit"], 3);
            let messages: Vec<Value> = (0..n)
                .map(|i| json!({
                    "type": "message",
                    "user": slack_id('U', &format!("user{i}")),
                    "text": pick(&["Seeing a spike of failed logins on vpn-gw", "Contained host-prod-42, waiting for approval to wipe", "IOC list updated from the TI feed"], i),
                    "ts": format!("{}.{:06}", now_secs().saturating_sub(600 * (i as u64 + 1)), i),
                }))
                .collect();
            ok(
                json!({ "ok": true, "channel": channel, "messages": messages, "has_more": false, "pin_count": 0, "response_metadata": { "next_cursor": "" } }),
            )
        }
        "users:lookup" => {
            let Some(email) = ctx.text("email").filter(|e| e.contains('@')) else {
                return fail("users_not_found");
            };
            let name = email.split('@').next().unwrap_or_default().to_owned();
            ok(json!({ "ok": true, "user": {
                "id": slack_id('U', &email), "team_id": slack_id('T', "team"), "name": name, "real_name": name.replace('.', " "),
                "deleted": false, "is_bot": false, "profile": { "email": email, "display_name": name },
            } }))
        }
        "messages:write" => {
            let Some(channel) = channel else {
                return fail("channel_not_found");
            };
            let ts = ts(ctx.seq);
            ok(
                json!({ "ok": true, "channel": channel, "ts": ts, "message": {
                "type": "message", "subtype": "bot_message", "bot_id": slack_id('B', "arx"),
                "text": ctx.text("text").unwrap_or_default(), "ts": ts,
            } }),
            )
        }
        "channels:create" => {
            let Some(name) = ctx.text("name") else {
                return fail("invalid_name_required");
            };
            ok(json!({ "ok": true, "channel": {
                "id": slack_id('C', &name), "name": name, "is_channel": true,
                "is_private": ctx.body.get("is_private").and_then(Value::as_bool).unwrap_or(false),
                "created": now_secs(), "creator": slack_id('U', "arx"),
            } }))
        }
        "channels:invite" => match channel {
            Some(c) => ok(json!({ "ok": true, "channel": { "id": c, "is_channel": true } })),
            None => fail("channel_not_found"),
        },
        "messages:delete" => match (channel, ctx.text("ts")) {
            (Some(c), Some(t)) => ok(json!({ "ok": true, "channel": c, "ts": t })),
            (None, _) => fail("channel_not_found"),
            _ => fail("message_not_found"),
        },
        _ if channel.is_none() && ctx.op == "channels:archive" => fail("channel_not_found"),
        _ => ok(json!({ "ok": true })),
    }
}
