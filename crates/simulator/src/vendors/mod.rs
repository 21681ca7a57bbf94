//! Vendor-shaped answers: success bodies per operation (one module per vendor) and the
//! vendors' error envelopes (401, 404, injected failures).

mod azure;
mod crowdstrike;
mod jira;
mod okta;
mod pagerduty;
mod sentinel;
mod sentinelone;
mod servicenow;
mod slack;
mod splunk;
mod wiz;

use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::http::HeaderMap;
use serde_json::{Value, json};

use crate::wire;

/// What a vendor module sees of a matched request.
pub(crate) struct Ctx<'a> {
    pub(crate) op: &'a str,
    /// Request path below the connector prefix.
    pub(crate) path: &'a str,
    pub(crate) path_params: BTreeMap<String, String>,
    pub(crate) query: BTreeMap<String, String>,
    pub(crate) body: Value,
    pub(crate) headers: &'a HeaderMap,
    /// The connector's API base URL as the simulator serves it (for `self` links).
    pub(crate) api_base: &'a str,
    /// Request sequence number, for fresh ids.
    pub(crate) seq: u64,
    /// The targets' state that writes change and reads show.
    pub(crate) state: &'a std::sync::Mutex<std::collections::HashMap<String, Value>>,
}

impl Ctx<'_> {
    /// A path parameter, `""` when absent.
    pub(crate) fn param(&self, name: &str) -> &str {
        self.path_params.get(name).map_or("", String::as_str)
    }

    /// A string from the body (dotted path) or, failing that, the query.
    pub(crate) fn text(&self, key: &str) -> Option<String> {
        match wire::at(&self.body, key) {
            Some(Value::String(s)) => Some(s.clone()),
            Some(v @ (Value::Number(_) | Value::Bool(_))) => Some(v.to_string()),
            _ => self.query.get(key).cloned(),
        }
    }

    /// A page size read from the first of `keys` present, 1..=10 (`default` when absent or 0).
    pub(crate) fn count(&self, keys: &[&str], default: usize) -> usize {
        keys.iter()
            .find_map(|k| self.text(k))
            .and_then(|s| s.parse::<usize>().ok())
            .filter(|n| *n > 0)
            .unwrap_or(default)
            .min(10)
    }

    /// The strings of a body array at a dotted path.
    pub(crate) fn ids(&self, key: &str) -> Vec<String> {
        wire::at(&self.body, key)
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The stored state of `key`, if a write set it.
    pub(crate) fn stored(&self, key: &str) -> Option<Value> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(key)
            .cloned()
    }

    pub(crate) fn store(&self, key: String, v: Value) {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(key, v);
    }

    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .filter(|s| !s.is_empty())
    }
}

/// A vendor answer: status and JSON body (`None` for an empty body).
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) body: Option<Value>,
}

pub(crate) fn ok(body: Value) -> Reply {
    Reply {
        status: 200,
        body: Some(body),
    }
}

pub(crate) fn with_status(status: u16, body: Value) -> Reply {
    Reply {
        status,
        body: Some(body),
    }
}

pub(crate) fn empty(status: u16) -> Reply {
    Reply { status, body: None }
}

/// `len` lowercase hex digits derived deterministically from `seed`.
pub(crate) fn hex(seed: &str, len: usize) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in seed.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    let mut out = String::with_capacity(len + 16);
    while out.len() < len {
        h ^= h >> 33;
        h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
        h ^= h >> 29;
        out.push_str(&format!("{h:016x}"));
    }
    out.truncate(len);
    out
}

/// A GUID-shaped id derived from `seed`.
pub(crate) fn guid(seed: &str) -> String {
    let h = hex(seed, 32);
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

pub(crate) fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// UTC time `secs_ago` seconds before now, as RFC 3339 (`2025-05-21T09:14:03Z`).
pub(crate) fn iso(secs_ago: u64) -> String {
    let t = now_secs().saturating_sub(secs_ago);
    let (days, rem) = (t / 86_400, t % 86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + u64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// The success answer of operation `ctx.op` of `connector`.
pub(crate) fn respond(connector: &str, ctx: &Ctx<'_>) -> Reply {
    match connector {
        "azure" => azure::respond(ctx),
        "crowdstrike" => crowdstrike::respond(ctx),
        "splunk" => splunk::respond(ctx),
        "jira" => jira::respond(ctx),
        "okta" => okta::respond(ctx),
        "servicenow" => servicenow::respond(ctx),
        "sentinel" => sentinel::respond(ctx),
        "sentinelone" => sentinelone::respond(ctx),
        "wiz" => wiz::respond(ctx),
        "pagerduty" => pagerduty::respond(ctx),
        "slack" => slack::respond(ctx),
        _ => ok(json!({ "ok": true, "connector": connector, "operation": ctx.op })),
    }
}

/// The vendor's error envelope for `status`.
pub(crate) fn error(connector: &str, status: u16, message: &str) -> Value {
    match connector {
        "crowdstrike" => crowdstrike::envelope(
            Value::Null,
            json!([{ "code": status, "message": message }]),
            json!({}),
        ),
        "splunk" => {
            json!({ "messages": [{ "type": if status == 401 { "WARN" } else { "ERROR" }, "text": message }] })
        }
        "jira" => json!({ "errorMessages": [message], "errors": {} }),
        "okta" => okta::error(status, message),
        "servicenow" => {
            json!({ "error": { "message": message, "detail": Value::Null }, "status": "failure" })
        }
        "sentinel" | "azure" => sentinel::error(status, message),
        "sentinelone" => {
            json!({ "errors": [{ "code": u64::from(status) * 10_000 + 10, "detail": message, "title": message }] })
        }
        "wiz" => {
            json!({ "errors": [{ "message": message, "extensions": { "code": wiz_code(status) } }], "data": Value::Null })
        }
        "pagerduty" => {
            json!({ "error": { "message": message, "code": if status == 401 { 2006 } else { 2001 } } })
        }
        "slack" => json!({ "ok": false, "error": slack_code(status) }),
        _ => json!({ "error": message, "status": status }),
    }
}

fn wiz_code(status: u16) -> &'static str {
    match status {
        401 => "UNAUTHENTICATED",
        403 => "FORBIDDEN",
        404 => "NOT_FOUND",
        400..=499 => "BAD_USER_INPUT",
        _ => "INTERNAL_SERVER_ERROR",
    }
}

fn slack_code(status: u16) -> &'static str {
    match status {
        401 => "invalid_auth",
        404 => "unknown_method",
        429 => "ratelimited",
        400..=499 => "invalid_arguments",
        _ => "fatal_error",
    }
}

/// The vendor's 401 body for an API call without valid credentials.
pub(crate) fn unauthorized(connector: &str) -> Value {
    let message = match connector {
        "crowdstrike" => "access denied, authorization failed",
        "splunk" => "call not properly authenticated",
        "jira" => "You are not authenticated. Authentication required to perform this operation.",
        "okta" => "Invalid token provided",
        "servicenow" => "User Not Authenticated",
        "sentinel" | "azure" => "The access token is invalid.",
        "sentinelone" => "Authentication Failed",
        "pagerduty" => "Invalid Credentials",
        _ => "Unauthorized",
    };
    error(connector, 401, message)
}

/// The vendor's body for an injected failure of `status`.
pub(crate) fn failure(connector: &str, status: u16) -> Value {
    let message = match status {
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        400..=499 => "Request failed",
        _ => "Server error",
    };
    error(connector, status, message)
}

/// The token endpoint's 401 body for wrong client credentials.
pub(crate) fn token_refused(connector: &str) -> Value {
    match connector {
        "crowdstrike" => error(connector, 401, "access denied, invalid client credentials"),
        "sentinel" | "azure" => json!({
            "error": "invalid_client",
            "error_description": "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.",
            "error_codes": [7_000_215],
        }),
        "wiz" => json!({ "error": "access_denied", "error_description": "Unauthorized" }),
        _ => {
            json!({ "error": "invalid_client", "error_description": "Client authentication failed" })
        }
    }
}

/// The `i`-th item of `items`, cycling.
pub(crate) fn pick<'a>(items: &[&'a str], i: usize) -> &'a str {
    items
        .get(i % items.len().max(1))
        .copied()
        .unwrap_or_default()
}
