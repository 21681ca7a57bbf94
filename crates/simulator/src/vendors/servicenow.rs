//! ServiceNow Table API: `{"result": …}` records with string-valued fields.

use serde_json::{Map, Value, json};

use super::{Ctx, Reply, empty, hex, iso, ok, with_status};

fn record(table: &str, sys_id: &str, n: u64) -> Map<String, Value> {
    let (number, short) = match table {
        "change_request" => (
            format!("CHG{:07}", 30_000 + n),
            "Patch OpenSSL on edge load balancers",
        ),
        _ => (
            format!("INC{:07}", 10_000 + n),
            "Suspicious PowerShell execution on host-prod-42",
        ),
    };
    let v = json!({
        "sys_id": sys_id,
        "number": number,
        "short_description": short,
        "state": "1",
        "urgency": "2",
        "impact": "2",
        "priority": "3",
        "active": "true",
        "sys_created_on": iso(86_400 * (n + 1)),
        "sys_updated_on": iso(3_600 * (n + 1)),
        "sys_created_by": "arx.integration",
    });
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// Merges the request body's fields into `rec`, as ServiceNow stores them (strings).
fn merge(mut rec: Map<String, Value>, body: &Value) -> Value {
    if let Value::Object(fields) = body {
        for (k, v) in fields {
            let s = match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            rec.insert(k.clone(), Value::String(s));
        }
    }
    Value::Object(rec)
}

fn table_of(op: &str) -> &'static str {
    if op.starts_with("changes:") {
        "change_request"
    } else {
        "incident"
    }
}

pub(super) fn respond(ctx: &Ctx<'_>) -> Reply {
    let table = table_of(ctx.op);
    let sys_id = ctx.param("sys_id").to_owned();
    match ctx.op {
        "incidents:read" | "changes:read" => {
            let n = ctx.count(&["sysparm_limit"], 3);
            let rows: Vec<Value> = (0..n as u64)
                .map(|i| Value::Object(record(table, &hex(&format!("{table}{i}"), 32), i + 1)))
                .collect();
            ok(json!({ "result": rows }))
        }
        "incidents:get" => ok(json!({ "result": Value::Object(record(table, &sys_id, 1)) })),
        "changes:get" => {
            let rec = record(table, &sys_id, 7);
            let stored = ctx.stored(&format!("servicenow/change/{sys_id}"));
            ok(json!({ "result": merge(rec, &stored.unwrap_or(Value::Null)) }))
        }
        "incidents:write" => {
            let id = hex(&format!("new-incident-{}", ctx.seq), 32);
            with_status(
                201,
                json!({ "result": merge(record(table, &id, 100 + ctx.seq), &ctx.body) }),
            )
        }
        "incidents:update" | "changes:close" => {
            let mut rec = merge(record(table, &sys_id, 7), &ctx.body);
            if ctx.op == "changes:close"
                && let Some(m) = rec.as_object_mut()
            {
                m.insert("active".into(), json!("false"));
                m.insert("closed_at".into(), json!(iso(0)));
                ctx.store(format!("servicenow/change/{sys_id}"), rec.clone());
            }
            ok(json!({ "result": rec }))
        }
        _ => empty(204),
    }
}
