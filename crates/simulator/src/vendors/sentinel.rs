//! Microsoft Sentinel (Azure Resource Manager): `{"value": […]}` lists of ARM resources.

use serde_json::{Value, json};

use super::{Ctx, Reply, empty, guid, iso, ok, pick};

const TITLES: [&str; 3] = [
    "Multiple failed sign-ins followed by success",
    "Suspicious inbox forwarding rule",
    "Rare process spawned by Office application",
];

pub(super) fn error(status: u16, message: &str) -> Value {
    let code = match status {
        400 => "BadRequest",
        401 => "InvalidAuthenticationToken",
        403 => "AuthorizationFailed",
        404 => "ResourceNotFound",
        429 => "TooManyRequests",
        503 => "ServiceUnavailable",
        _ => "InternalServerError",
    };
    json!({ "error": { "code": code, "message": message } })
}

fn incident(id_path: &str, name: &str, n: usize) -> Value {
    json!({
        "id": id_path,
        "name": name,
        "type": "Microsoft.SecurityInsights/Incidents",
        "etag": format!("\"{}\"", guid(&format!("etag{name}"))),
        "properties": {
            "title": TITLES[n % TITLES.len()],
            "severity": pick(&["High", "Medium", "Low"], n),
            "status": "New",
            "incidentNumber": 700 + n,
            "createdTimeUtc": iso(3_600 * (n as u64 + 2)),
            "lastModifiedTimeUtc": iso(600),
            "owner": { "objectId": Value::Null, "assignedTo": Value::Null },
            "labels": [],
            "additionalData": { "alertsCount": 2, "tactics": ["InitialAccess"] },
        },
    })
}

pub(super) fn respond(ctx: &Ctx<'_>) -> Reply {
    let path = ctx.path;
    match ctx.op {
        "incidents:read" => {
            let n = ctx.count(&["$top"], 3);
            let value: Vec<Value> = (0..n)
                .map(|i| {
                    let name = guid(&format!("incident{i}"));
                    incident(&format!("{path}/{name}"), &name, i)
                })
                .collect();
            ok(json!({ "value": value }))
        }
        "incidents:get" => ok(incident(path, ctx.param("incident_id"), 0)),
        "incidents:write" => {
            let mut inc = incident(path, ctx.param("incident_id"), 0);
            if let (Some(props), Some(Value::Object(given))) = (
                inc.get_mut("properties").and_then(Value::as_object_mut),
                ctx.body.get("properties"),
            ) {
                props.extend(given.clone());
                props.insert("lastModifiedTimeUtc".into(), json!(iso(0)));
            }
            ok(inc)
        }
        "incidents:comment" => ok(json!({
            "id": path,
            "name": ctx.param("comment_id"),
            "type": "Microsoft.SecurityInsights/Incidents/Comments",
            "etag": format!("\"{}\"", guid(&format!("comment{}", ctx.seq))),
            "properties": {
                "message": ctx.text("properties.message").unwrap_or_default(),
                "createdTimeUtc": iso(0),
                "author": { "name": "ARX", "userPrincipalName": "arx@example.onmicrosoft.com" },
            },
        })),
        "incidents:alerts" => {
            let value: Vec<Value> = (0..2)
                .map(|i| {
                    json!({
                        "kind": "SecurityAlert",
                        "id": format!("{}/entities/{}", path.trim_end_matches("/alerts"), guid(&format!("alert{i}"))),
                        "name": guid(&format!("alert{i}")),
                        "properties": {
                            "alertDisplayName": TITLES[i % TITLES.len()],
                            "severity": "High",
                            "status": "New",
                            "productName": "Azure Sentinel",
                            "timeGenerated": iso(3_600),
                            "friendlyName": TITLES[i % TITLES.len()],
                        },
                    })
                })
                .collect();
            ok(json!({ "value": value }))
        }
        "alert_rules:read" => {
            let value: Vec<Value> = TITLES
                .iter()
                .map(|t| {
                    let name = guid(t);
                    json!({
                        "id": format!("{path}/{name}"),
                        "name": name,
                        "type": "Microsoft.SecurityInsights/alertRules",
                        "kind": "Scheduled",
                        "properties": { "displayName": t, "enabled": true, "severity": "High", "queryFrequency": "PT1H", "queryPeriod": "P1D" },
                    })
                })
                .collect();
            ok(json!({ "value": value }))
        }
        _ => empty(200),
    }
}
