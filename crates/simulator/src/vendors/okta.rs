//! Okta Management API: users, groups, System Log and user lifecycle.

use serde_json::{Value, json};

use super::{Ctx, Reply, empty, hex, iso, ok};

const PEOPLE: [(&str, &str); 4] = [
    ("Alice", "Nguyen"),
    ("Bob", "Martin"),
    ("Carol", "Okafor"),
    ("Dan", "Schmidt"),
];

pub(super) fn error(status: u16, message: &str) -> Value {
    let code = match status {
        401 => "E0000011",
        403 => "E0000006",
        404 => "E0000007",
        429 => "E0000047",
        500..=599 => "E0000009",
        _ => "E0000001",
    };
    json!({ "errorCode": code, "errorSummary": message, "errorLink": code, "errorId": format!("oae{}", hex(message, 19)), "errorCauses": [] })
}

fn user(id: &str, n: usize) -> Value {
    let (first, last) = PEOPLE[n % PEOPLE.len()];
    let login = format!(
        "{}.{}@example.com",
        first.to_lowercase(),
        last.to_lowercase()
    );
    json!({
        "id": id,
        "status": "ACTIVE",
        "created": iso(86_400 * 400),
        "activated": iso(86_400 * 399),
        "statusChanged": iso(86_400 * 399),
        "lastLogin": iso(3_600 * (n as u64 + 1)),
        "lastUpdated": iso(86_400 * 30),
        "type": { "id": "oty1abcd2EFGhijk3l4" },
        "profile": { "firstName": first, "lastName": last, "email": login, "login": login },
        "credentials": { "provider": { "type": "OKTA", "name": "OKTA" } },
    })
}

fn user_id(n: usize) -> String {
    format!("00u{}", &hex(&format!("user{n}"), 17))
}

pub(super) fn respond(ctx: &Ctx<'_>) -> Reply {
    let n = ctx.count(&["limit"], 3);
    match ctx.op {
        "users:read" => {
            let q = ctx.text("q").map(|s| s.to_lowercase());
            let users: Vec<Value> = (0..n)
                .map(|i| user(&user_id(i), i))
                .filter(|u| {
                    let login = u["profile"]["login"].as_str().unwrap_or("");
                    q.as_deref()
                        .is_none_or(|q| login.starts_with(q) || login.contains(&format!(".{q}")))
                })
                .collect();
            ok(json!(users))
        }
        "users:get" => ok(user(ctx.param("user_id"), 0)),
        "groups:read" => {
            let names = ["Everyone", "SOC Analysts", "Domain Admins", "Contractors"];
            let groups: Vec<Value> = names
                .iter()
                .take(n)
                .enumerate()
                .map(|(i, name)| {
                    json!({
                        "id": format!("00g{}", &hex(name, 17)),
                        "created": iso(86_400 * 500),
                        "type": if i == 0 { "BUILT_IN" } else { "OKTA_GROUP" },
                        "profile": { "name": name, "description": Value::Null },
                    })
                })
                .collect();
            ok(json!(groups))
        }
        "logs:read" => {
            let events: Vec<Value> = (0..n)
                .map(|i| {
                    let (first, last) = PEOPLE[i % PEOPLE.len()];
                    json!({
                        "uuid": super::guid(&format!("log{i}{}", ctx.seq)),
                        "published": iso(600 * (i as u64 + 1)),
                        "eventType": "user.session.start",
                        "displayMessage": "User login to Okta",
                        "severity": "INFO",
                        "outcome": { "result": if i % 2 == 0 { "SUCCESS" } else { "FAILURE" }, "reason": Value::Null },
                        "actor": { "id": user_id(i), "type": "User", "alternateId": format!("{}.{}@example.com", first.to_lowercase(), last.to_lowercase()), "displayName": format!("{first} {last}") },
                        "client": { "ipAddress": format!("198.51.100.{}", 20 + i), "userAgent": { "browser": "CHROME", "os": "Mac OS X" } },
                    })
                })
                .collect();
            ok(json!(events))
        }
        "sessions:revoke" => empty(204),
        _ => ok(json!({})),
    }
}
