//! PagerDuty REST API v2 (incidents, services, on-calls) and Events API v2.

use serde_json::{Value, json};

use super::{Ctx, Reply, empty, hex, iso, ok, pick, with_status};

fn pd_id(seed: &str) -> String {
    const ALPHA: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ0123456789";
    let h = hex(seed, 12);
    let tail: String = h
        .bytes()
        .take(6)
        .map(|b| char::from(ALPHA[usize::from(b) % ALPHA.len()]))
        .collect();
    format!("P{tail}")
}

fn incident(id: &str, n: u64, title: &str, status: &str) -> Value {
    json!({
        "id": id,
        "type": "incident",
        "summary": format!("[#{}] {title}", 1200 + n),
        "title": title,
        "incident_number": 1200 + n,
        "status": status,
        "urgency": "high",
        "created_at": iso(1_800 * (n + 1)),
        "html_url": format!("https://acme.pagerduty.com/incidents/{id}"),
        "service": { "id": pd_id("service0"), "type": "service_reference", "summary": "SOC Escalations" },
        "assignments": [{ "assignee": { "id": pd_id("user0"), "type": "user_reference", "summary": "Alice Nguyen" } }],
    })
}

fn missing_from() -> Reply {
    with_status(
        400,
        json!({ "error": { "message": "Invalid Input Provided", "code": 2001,
            "errors": ["You must specify a user's email address in the \"From\" header to perform this action."] } }),
    )
}

fn listing(key: &str, items: Vec<Value>, n: usize) -> Reply {
    ok(json!({ key: items, "limit": n, "offset": 0, "more": false, "total": Value::Null }))
}

pub(super) fn respond(ctx: &Ctx<'_>) -> Reply {
    let n = ctx.count(&["limit"], 3);
    match ctx.op {
        "events:write" => events(ctx),
        "incidents:read" => {
            let titles = [
                "CrowdStrike: credential dumping on host-prod-42",
                "Splunk: brute force from 203.0.113.10",
                "Okta: impossible travel for bob.martin",
            ];
            let items = (0..n as u64)
                .map(|i| {
                    incident(
                        &pd_id(&format!("inc{i}")),
                        i,
                        titles[(i % 3) as usize],
                        "triggered",
                    )
                })
                .collect();
            listing("incidents", items, n)
        }
        "incidents:get" => ok(
            json!({ "incident": incident(ctx.param("id"), 0, "CrowdStrike: credential dumping on host-prod-42", "triggered") }),
        ),
        "incidents:write" | "incidents:update" if ctx.header("from").is_none() => missing_from(),
        "incidents:write" => {
            let title = ctx.text("incident.title").unwrap_or_default();
            let mut inc = incident(
                &pd_id(&format!("new{}", ctx.seq)),
                50 + ctx.seq,
                &title,
                "triggered",
            );
            if let Some(service) = ctx.text("incident.service.id") {
                inc["service"]["id"] = json!(service);
            }
            if let Some(urgency) = ctx.text("incident.urgency") {
                inc["urgency"] = json!(urgency);
            }
            with_status(201, json!({ "incident": inc }))
        }
        "incidents:update" => {
            let status = ctx
                .text("incident.status")
                .unwrap_or_else(|| "acknowledged".to_owned());
            ok(
                json!({ "incident": incident(ctx.param("id"), 0, "CrowdStrike: credential dumping on host-prod-42", &status) }),
            )
        }
        "services:read" => {
            let names = ["SOC Escalations", "Production API", "Identity Platform"];
            let items = names
                .iter()
                .take(n)
                .enumerate()
                .map(|(i, name)| json!({ "id": pd_id(&format!("service{i}")), "type": "service", "name": name, "summary": name, "status": "active" }))
                .collect();
            listing("services", items, n)
        }
        "oncalls:read" => {
            let items = (0..n.min(2))
                .map(|i| json!({
                    "escalation_level": i + 1,
                    "escalation_policy": { "id": pd_id("policy0"), "type": "escalation_policy_reference", "summary": "SOC" },
                    "schedule": { "id": pd_id("schedule0"), "type": "schedule_reference", "summary": "SOC primary" },
                    "user": { "id": pd_id(&format!("user{i}")), "type": "user_reference", "summary": pick(&["Alice Nguyen", "Bob Martin"], i) },
                    "start": iso(36_000),
                    "end": iso(0),
                }))
                .collect();
            listing("oncalls", items, n)
        }
        _ => empty(204),
    }
}

/// Events API v2: 202 on a well-formed event, 400 `invalid event` otherwise.
fn events(ctx: &Ctx<'_>) -> Reply {
    let mut errors = Vec::new();
    if ctx.text("routing_key").is_none_or(|k| k.is_empty()) {
        errors.push("'routing_key' is missing or blank");
    }
    let action = ctx.text("event_action").unwrap_or_default();
    if !["trigger", "acknowledge", "resolve"].contains(&action.as_str()) {
        errors.push("'event_action' is invalid (must be one of: trigger, acknowledge, resolve)");
    }
    if action == "trigger" && ctx.text("payload.summary").is_none() {
        errors.push("'payload.summary' is missing or blank");
    }
    if !errors.is_empty() {
        return with_status(
            400,
            json!({ "status": "invalid event", "message": "Event object is invalid", "errors": errors }),
        );
    }
    let dedup_key = ctx
        .text("dedup_key")
        .unwrap_or_else(|| hex(&format!("dedup{}", ctx.seq), 32));
    with_status(
        202,
        json!({ "status": "success", "message": "Event processed", "dedup_key": dedup_key }),
    )
}
