//! SentinelOne Management API v2.1: `{"data": …, "pagination": …}`.

use serde_json::{Value, json};

use super::{Ctx, Reply, iso, ok, pick};

fn s1_id(seed: &str) -> String {
    let digits: String = super::hex(seed, 18)
        .bytes()
        .map(|b| char::from(b'0' + b % 10))
        .collect();
    format!("1{digits}")
}

fn listing(data: Vec<Value>) -> Reply {
    let total = data.len();
    ok(json!({ "data": data, "pagination": { "totalItems": total, "nextCursor": Value::Null } }))
}

pub(super) fn respond(ctx: &Ctx<'_>) -> Reply {
    let n = ctx.count(&["limit"], 3);
    let host = |i: usize| format!("{}-{:02}", pick(&["FIN-LAPTOP", "WEB", "DC"], i), i + 1);
    match ctx.op {
        "threats:read" => listing(
            (0..n)
                .map(|i| {
                    json!({
                        "id": s1_id(&format!("threat{i}")),
                        "threatInfo": {
                            "threatName": pick(&["mimikatz.exe", "invoice_0423.js", "svch0st.exe"], i),
                            "classification": pick(&["Malware", "Trojan", "Ransomware"], i),
                            "confidenceLevel": "malicious",
                            "mitigationStatus": "not_mitigated",
                            "incidentStatus": "unresolved",
                            "analystVerdict": "undefined",
                            "sha1": super::hex(&format!("sha{i}"), 40),
                            "createdAt": iso(1_800 * (i as u64 + 1)),
                        },
                        "agentRealtimeInfo": { "agentComputerName": host(i), "agentId": s1_id(&format!("agent{i}")), "agentOsType": "windows" },
                    })
                })
                .collect(),
        ),
        "agents:read" => listing(
            (0..n)
                .map(|i| {
                    json!({
                        "id": s1_id(&format!("agent{i}")),
                        "computerName": host(i),
                        "osType": "windows",
                        "agentVersion": "23.4.2.14",
                        "networkStatus": "connected",
                        "isActive": true,
                        "infected": i == 0,
                        "lastActiveDate": iso(120),
                        "externalIp": format!("203.0.113.{}", 40 + i),
                    })
                })
                .collect(),
        ),
        "activities:read" => listing(
            (0..n)
                .map(|i| {
                    json!({
                        "id": s1_id(&format!("activity{i}")),
                        "activityType": 19,
                        "primaryDescription": format!("Threat detected on {}", host(i)),
                        "createdAt": iso(900 * (i as u64 + 1)),
                    })
                })
                .collect(),
        ),
        _ => ok(json!({ "data": { "affected": ctx.ids("filter.ids").len() } })),
    }
}
