//! Splunk REST API (`output_mode=json`): search jobs, results and saved searches.

use serde_json::{Value, json};

use super::{Ctx, Reply, hex, now_secs, ok, with_status};

const HOSTS: [&str; 4] = ["web-01", "web-02", "dc-01", "vpn-gw"];

pub(super) fn respond(ctx: &Ctx<'_>) -> Reply {
    let sid = ctx.param("sid").to_owned();
    match ctx.op {
        "search:create" => {
            with_status(201, json!({ "sid": format!("{}.{}", now_secs(), ctx.seq) }))
        }
        "search:status" => ok(json!({
            "entry": [{
                "name": sid,
                "content": {
                    "sid": sid, "dispatchState": "DONE", "isDone": true, "isFailed": false,
                    "doneProgress": 1.0, "resultCount": 3, "eventCount": 3, "runDuration": 0.214,
                },
            }],
            "paging": { "total": 1, "perPage": 0, "offset": 0 },
        })),
        "search:results" => {
            let n = ctx.count(&["count"], 3);
            let results: Vec<Value> = (0..n)
                .map(|i| {
                    let host = HOSTS[i % HOSTS.len()];
                    json!({
                        "_time": super::iso(60 * (i as u64 + 1)),
                        "host": host,
                        "source": "/var/log/auth.log",
                        "sourcetype": "linux_secure",
                        "_raw": format!("Failed password for invalid user admin from 203.0.113.{} port 22 ssh2", 10 + i),
                        "_cd": format!("{}:{}", 12 + i, hex(&format!("{sid}{i}"), 6)),
                    })
                })
                .collect();
            ok(json!({
                "preview": false,
                "init_offset": 0,
                "messages": [],
                "fields": [{ "name": "_time" }, { "name": "host" }, { "name": "source" }, { "name": "sourcetype" }, { "name": "_raw" }],
                "results": results,
            }))
        }
        "search:cancel" => ok(
            json!({ "messages": [{ "type": "INFO", "text": "Search job cancelled and deleted." }] }),
        ),
        "saved_searches:read" => ok(json!({
            "entry": [
                saved("Brute force detection", "index=auth action=failure | stats count by src | where count > 20"),
                saved("Impossible travel", "index=okta eventType=user.session.start | iplocation client.ipAddress"),
            ],
            "paging": { "total": 2, "perPage": 30, "offset": 0 },
        })),
        "saved_searches:write" => with_status(
            201,
            json!({ "entry": [saved(&ctx.text("name").unwrap_or_default(), &ctx.text("search").unwrap_or_default())] }),
        ),
        _ => ok(json!({ "messages": [] })),
    }
}

fn saved(name: &str, search: &str) -> Value {
    json!({ "name": name, "content": { "search": search, "is_scheduled": true, "cron_schedule": "*/15 * * * *", "disabled": false } })
}
