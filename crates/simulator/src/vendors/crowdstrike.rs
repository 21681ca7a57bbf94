//! CrowdStrike Falcon: `{meta, resources, errors}` envelopes.

use serde_json::{Value, json};

use super::{Ctx, Reply, hex, iso, with_status};

/// The Falcon envelope; `extra_meta` fields are merged into `meta`.
pub(super) fn envelope(resources: Value, errors: Value, extra_meta: Value) -> Value {
    let mut meta = json!({
        "query_time": 0.004_217,
        "powered_by": "crowdstrike-api-gateway",
        "trace_id": uuid::Uuid::new_v4().to_string(),
    });
    if let (Some(m), Value::Object(extra)) = (meta.as_object_mut(), extra_meta) {
        m.extend(extra);
    }
    json!({ "meta": meta, "resources": resources, "errors": errors })
}

fn detection(id: &str) -> Value {
    let aid = id.split(':').nth(1).unwrap_or("0").to_owned();
    json!({
        "detection_id": id,
        "cid": hex("cid", 32),
        "status": "new",
        "max_severity": 70,
        "max_severity_displayname": "High",
        "max_confidence": 80,
        "first_behavior": iso(3600),
        "last_behavior": iso(3000),
        "device": {
            "device_id": aid,
            "hostname": format!("host-prod-{}", &hex(&aid, 2)),
            "platform_name": "Windows",
            "os_version": "Windows Server 2022",
            "local_ip": "10.0.4.17",
        },
        "behaviors": [{
            "behavior_id": "10197",
            "tactic": "Credential Access",
            "technique": "OS Credential Dumping",
            "technique_id": "T1003",
            "filename": "procdump64.exe",
            "cmdline": "procdump64.exe -ma lsass.exe out.dmp",
            "severity": 70,
            "confidence": 80,
        }],
    })
}

pub(super) fn respond(ctx: &Ctx<'_>) -> Reply {
    let n = ctx.count(&["limit"], 3);
    let offset: usize = ctx.text("offset").and_then(|s| s.parse().ok()).unwrap_or(0);
    let ids = ctx.ids("ids");
    let page =
        |total: usize| json!({ "pagination": { "offset": offset, "limit": n, "total": total } });
    let (status, resources, meta) = match ctx.op {
        "detections:read" => {
            let r: Vec<Value> = (0..n)
                .map(|i| {
                    json!(format!(
                        "ldt:{}:{}",
                        hex(&format!("aid{i}"), 32),
                        38_000 + offset + i
                    ))
                })
                .collect();
            (200, json!(r), page(n + offset))
        }
        "detections:read_details" => (
            200,
            json!(ids.iter().map(|id| detection(id)).collect::<Vec<_>>()),
            json!({}),
        ),
        "detections:write" => (
            200,
            json!([]),
            json!({ "writes": { "resources_affected": ids.len() } }),
        ),
        "hosts:read" => {
            let r: Vec<Value> = (0..n).map(|i| json!(hex(&format!("aid{i}"), 32))).collect();
            let scroll = format!("FQL{}", hex(&format!("scroll{}", ctx.seq), 40));
            let meta = json!({ "pagination": { "offset": scroll, "expires_at": 1_800_000_000_000_u64, "total": n } });
            (200, json!(r), meta)
        }
        "hosts:write" => {
            let status = match ctx.text("action_name").as_deref() {
                Some("contain") => "contained",
                _ => "normal",
            };
            for id in &ids {
                ctx.store(format!("crowdstrike/host/{id}"), json!(status));
            }
            let r: Vec<Value> = ids
                .iter()
                .map(|id| json!({ "id": id, "path": "" }))
                .collect();
            (202, json!(r), json!({}))
        }
        "hosts:get" => {
            // ids arrive as repeated query pairs; the last is kept, and commas split lists.
            let ids: Vec<String> = ctx
                .text("ids")
                .map(|s| s.split(',').map(str::to_owned).collect())
                .unwrap_or_default();
            let r: Vec<Value> = ids
                .iter()
                .map(|id| {
                    json!({
                        "device_id": id,
                        "hostname": format!("host-{}", &id[..id.len().min(8)]),
                        "platform_name": "Windows",
                        "status": ctx.stored(&format!("crowdstrike/host/{id}")).unwrap_or(json!("normal")),
                    })
                })
                .collect();
            (200, json!(r), json!({}))
        }
        "incidents:read" => {
            let r: Vec<Value> = (0..n)
                .map(|i| {
                    json!(format!(
                        "inc:{}:{}",
                        hex(&format!("aid{i}"), 32),
                        hex(&format!("inc{i}"), 32)
                    ))
                })
                .collect();
            (200, json!(r), page(n + offset))
        }
        "rtr:session_list" => {
            let r: Vec<Value> = (0..n)
                .map(|i| json!(uuid_like(&format!("session{i}"))))
                .collect();
            (200, json!(r), page(n))
        }
        "rtr:session_init" => {
            let device = ctx.text("device_id").unwrap_or_default();
            let r = json!([{
                "session_id": uuid_like(&format!("session-{device}-{}", ctx.seq)),
                "scripts": [],
                "existing_aid_sessions": 1,
                "created_at": iso(0),
                "pwd": "C:\\",
                "offline_queued": false,
            }]);
            (201, r, json!({}))
        }
        "rtr:command_admin" | "rtr:command_active_responder" => {
            let r = json!([{
                "session_id": ctx.text("session_id").unwrap_or_default(),
                "cloud_request_id": uuid_like(&format!("request-{}", ctx.seq)),
                "queued_command_offline": false,
            }]);
            (201, r, json!({}))
        }
        _ => (200, json!([]), json!({})),
    };
    with_status(status, envelope(resources, json!([]), meta))
}

fn uuid_like(seed: &str) -> String {
    super::guid(seed)
}
