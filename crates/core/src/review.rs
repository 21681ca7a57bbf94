//! What a human is shown before deciding and after: the params of a call, one line
//! each, as they will run; a grant's whole scope; who may decide; and how a request
//! ended, in words. The console, Slack, Teams and webhooks all show these, so every
//! channel shows the same thing.

use serde_json::Value;

use crate::audit::format_ts;
use crate::engine::StateDiff;
use crate::model::{ApprovalKind, ApprovalRequest, ApprovalStatus, CallOutcome};
use crate::policy::Escalation;

/// A param's value longer than this is cut, saying how much is left.
const VALUE_CHARS: usize = 160;

/// At most this many items of a list param are listed; the count says how many there are.
const LIST_ITEMS: usize = 5;

/// At most this many params get a line each; the rest are named on one line.
const PARAM_LINES: usize = 12;

/// `s` cut to `max` characters, saying how many more there are.
fn cut(s: &str, max: usize) -> String {
    let n = s.chars().count();
    if n <= max {
        return s.to_string();
    }
    let head: String = s.chars().take(max).collect();
    format!("{head}… ({} more characters)", n - max)
}

/// One value in canonical JSON (RFC 8785), as the approved params hash covers it.
fn canonical(v: &Value) -> String {
    serde_json_canonicalizer::to_string(v).unwrap_or_else(|_| v.to_string())
}

/// The params of a call, one line each: `name: value`, a list as its item count and first
/// items, anything long cut with how much is left. Every param is named, even past the
/// line limit, so nothing runs that the message does not mention.
pub fn param_lines(params: &Value) -> Vec<String> {
    let Some(map) = params.as_object() else {
        return vec![cut(&canonical(params), VALUE_CHARS)];
    };
    let mut keys: Vec<&String> = map.keys().collect();
    keys.sort();
    let mut lines: Vec<String> = keys
        .iter()
        .take(PARAM_LINES)
        .map(|k| {
            let v = &map[k.as_str()];
            match v {
                Value::Array(items) => {
                    let shown: Vec<String> = items.iter().take(LIST_ITEMS).map(canonical).collect();
                    let more = items.len().saturating_sub(LIST_ITEMS);
                    let tail = if more > 0 {
                        format!(", and {more} more")
                    } else {
                        String::new()
                    };
                    cut(
                        &format!(
                            "{k} ({} item{}): {}{tail}",
                            items.len(),
                            if items.len() == 1 { "" } else { "s" },
                            shown.join(", ")
                        ),
                        VALUE_CHARS,
                    )
                }
                _ => cut(&format!("{k}: {}", canonical(v)), VALUE_CHARS),
            }
        })
        .collect();
    if keys.len() > PARAM_LINES {
        let rest: Vec<&str> = keys[PARAM_LINES..].iter().map(|k| k.as_str()).collect();
        lines.push(cut(
            &format!("and {} more params: {}", rest.len(), rest.join(", ")),
            VALUE_CHARS,
        ));
    }
    lines
}

/// A grant's whole scope: connector, operations, instance, resource, TTL and the
/// agent's stated reason (agent-written).
pub fn grant_lines(connector: &str, scope: &Value) -> Vec<String> {
    let ops: Vec<&str> = scope["operations"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let resource = match &scope["resource"] {
        Value::Object(r) => format!(
            "only where {} = {}",
            r.get("param").and_then(Value::as_str).unwrap_or("?"),
            r.get("value").map(canonical).unwrap_or_default()
        ),
        _ => "any resource".into(),
    };
    vec![
        format!("connector: {connector}"),
        cut(
            &format!("operations ({}): {}", ops.len(), ops.join(", ")),
            VALUE_CHARS,
        ),
        format!(
            "instance: {} ({})",
            scope["instance"].as_str().unwrap_or("?"),
            scope["environment"].as_str().unwrap_or("unknown")
        ),
        cut(&format!("resource: {resource}"), VALUE_CHARS),
        format!("for: {}", scope["ttl"].as_str().unwrap_or("?")),
        cut(
            &format!(
                "risk of each call there: {}",
                scope["risk"]
                    .as_object()
                    .map(|r| r
                        .iter()
                        .map(|(op, score)| format!("{op} {score}/100"))
                        .collect::<Vec<_>>()
                        .join(", "))
                    .unwrap_or_default()
            ),
            VALUE_CHARS,
        ),
        cut(
            &format!(
                "reason (written by the agent): {}",
                scope["reason"].as_str().unwrap_or("")
            ),
            VALUE_CHARS,
        ),
    ]
}

/// A manifest request: the version it would become, each way it widens the agent's
/// scope, the rest of the diff against the version in force, and the agent's reason
/// (agent-written). The whole manifest is in the request's params.
pub fn manifest_lines(params: &Value) -> Vec<String> {
    use crate::registry::{ManifestDiff, Widening};
    let base = params["base_version"].as_i64();
    let mut lines = vec![match base {
        Some(v) => format!("becomes version {} (version {v} is in force)", v + 1),
        None => "becomes version 1 (the agent has no manifest yet)".into(),
    }];
    let widens: Vec<Widening> =
        serde_json::from_value(params["widens"].clone()).unwrap_or_default();
    for w in &widens {
        lines.push(cut(
            &match w {
                Widening::Connector { connector } => format!(
                    "widens: new connector {connector}: {}",
                    params["manifest"]["connectors"][connector]
                        .as_array()
                        .map(|ops| ops
                            .iter()
                            .filter_map(Value::as_str)
                            .collect::<Vec<_>>()
                            .join(", "))
                        .unwrap_or_default()
                ),
                Widening::Operation(op) => format!("widens: operation {op}"),
                Widening::Environment { environment } => {
                    format!("widens: environment {environment}")
                }
                Widening::DataClass { class } => format!("widens: data class {class}"),
                Widening::Rate { from, to } => {
                    format!("widens: rate {from} → {to} calls per minute")
                }
            },
            VALUE_CHARS,
        ));
    }
    let diff: ManifestDiff = serde_json::from_value(params["diff"].clone()).unwrap_or_default();
    let narrows = ManifestDiff {
        removed_connectors: diff.removed_connectors,
        removed_operations: diff.removed_operations,
        removed_environments: diff.removed_environments,
        removed_data_classes: diff.removed_data_classes,
        model: diff.model,
        ..ManifestDiff::default()
    };
    if !narrows.is_empty() {
        lines.push(cut(&format!("also: {}", narrows.summary()), VALUE_CHARS));
    }
    if let Some(p) = diff.purpose {
        lines.push(cut(
            &format!("purpose (written by the agent): {}", p.to),
            VALUE_CHARS,
        ));
    }
    lines.push(cut(
        &format!(
            "reason (written by the agent): {}",
            params["reason"].as_str().unwrap_or("")
        ),
        VALUE_CHARS,
    ));
    lines
}

/// What the reviewer's diff covers, in words: how many records the call touches and how
/// many could not be read, or that the call would change nothing and since when.
pub fn diff_note(d: &StateDiff) -> Option<String> {
    if let Some(u) = &d.unchanged {
        let what = match d
            .rows
            .iter()
            .filter(|r| !r.proposed.is_empty())
            .collect::<Vec<_>>()
            .as_slice()
        {
            [one] => format!("{} {} is already {}", one.record, one.field, one.current),
            _ => "every field it sets already has that value".to_string(),
        };
        let since = match (u.since_ms, u.earlier) {
            (Some(t), Some(id)) => format!(" since {} (request {id})", format_ts(t)),
            _ => String::new(),
        };
        return Some(format!("This call would change nothing: {what}{since}."));
    }
    if d.items == 0 {
        return None;
    }
    let records = if d.items == 1 { "record" } else { "records" };
    Some(match d.unread {
        0 => format!("Covers {} {records}; all were read.", d.items),
        n => format!(
            "Covers {} {records}; {n} could not be read, so their current state is not shown.",
            d.items
        ),
    })
}

/// Who may decide under `e`, in words.
pub fn requirements(e: &Escalation) -> String {
    let sets = e.group_sets();
    let mut s = if sets.is_empty() {
        "any reviewer".to_string()
    } else {
        let each: Vec<String> = sets.iter().map(|g| g.join(" or ")).collect();
        format!("a member of {}", each.join(", and of "))
    };
    if e.min_approvals > 1 {
        s.push_str(&format!(", {} distinct approvers", e.min_approvals));
    }
    if e.forbid_owner {
        s.push_str(", not the agent's owner");
    }
    if e.require_reason {
        s.push_str(", with a written reason");
    }
    s
}

/// An RFC 3339 moment as these sentences write it, to the minute with the zone named:
/// `2026-11-28T00:03:46.412Z` → `2026-11-28 00:03 UTC`. They are read in Slack, Teams
/// and the console alike, where the reader's zone is not known.
fn minute_utc(rfc3339: &str) -> String {
    match rfc3339.get(..16) {
        Some(minute) if rfc3339.ends_with('Z') => format!("{} UTC", minute.replacen('T', " ", 1)),
        _ => rfc3339.to_string(),
    }
}

/// How a request stands or ended, in words: who decided when, and what happened.
pub fn outcome(a: &ApprovalRequest) -> String {
    let by = if a.decided_by.is_empty() {
        String::new()
    } else {
        format!(" by {}", a.decided_by.join(" and "))
    };
    let at = a
        .decided_ms
        .map(|t| format!(" at {}", minute_utc(&format_ts(t))))
        .unwrap_or_default();
    let said = if a.comment.is_empty() {
        String::new()
    } else {
        format!(" (“{}”)", a.comment)
    };
    let failure = match &a.outcome {
        Some(CallOutcome::TargetError { status, .. }) => format!("the target answered {status}"),
        Some(CallOutcome::Unreachable { message }) => {
            format!("the target could not be reached: {message}")
        }
        Some(CallOutcome::Failed { message, .. }) => message.clone(),
        _ => "see the result record".into(),
    };
    match a.status {
        ApprovalStatus::Pending => format!(
            "Waiting for a decision until {}; nothing runs before.",
            minute_utc(&format_ts(a.expires_ms))
        ),
        ApprovalStatus::Approved | ApprovalStatus::Executing
            if a.kind == ApprovalKind::Manifest =>
        {
            format!("Approved{by}{at}{said}; ARX is publishing the manifest now.")
        }
        ApprovalStatus::Approved | ApprovalStatus::Executing => {
            format!("Approved{by}{at}{said}; ARX is running the call now.")
        }
        ApprovalStatus::Executed if a.kind == ApprovalKind::Manifest => format!(
            "Approved{by}{at}{said}. The manifest is the agent's version {} now.",
            match &a.outcome {
                Some(CallOutcome::ManifestPublished { version, .. }) => version.to_string(),
                _ => "in force".into(),
            }
        ),
        ApprovalStatus::Executed if a.kind == ApprovalKind::Grant => format!(
            "Approved{by}{at}{said}. The grant is active until {}.",
            match &a.outcome {
                Some(CallOutcome::GrantActive { expires_at, .. }) => minute_utc(expires_at),
                _ => "its end".into(),
            }
        ),
        ApprovalStatus::Executed => format!(
            "Approved{by}{at}{said}. ARX ran the approved params once; the target answered successfully."
        ),
        ApprovalStatus::Failed => format!(
            "Approved{by}{at}{said}, but the call failed: {}.",
            failure.trim_end_matches('.')
        ),
        ApprovalStatus::Denied if a.kind == ApprovalKind::Manifest => {
            format!("Denied{by}{at}{said}. The manifest in force stays.")
        }
        ApprovalStatus::Denied => format!("Denied{by}{at}{said}. Nothing ran."),
        ApprovalStatus::Expired => format!(
            "Expired at {}: nobody decided in time, so nothing ran.",
            minute_utc(&format_ts(a.expires_ms))
        ),
        ApprovalStatus::Cancelled => format!("Cancelled{said}. Nothing ran."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn moments_in_sentences_are_to_the_minute_and_name_utc() {
        assert_eq!(
            minute_utc("2026-11-28T00:03:46.412Z"),
            "2026-11-28 00:03 UTC"
        );
        assert_eq!(
            minute_utc("2026-11-28T00:03:46+01:00"),
            "2026-11-28T00:03:46+01:00"
        );
    }

    #[test]
    fn params_are_shown_whole_or_cut_with_what_is_left() {
        let long = "x".repeat(400);
        let ids: Vec<String> = (0..8).map(|i| format!("host-{i}")).collect();
        let lines = param_lines(&json!({"ids": ids, "note": long, "action_name": "contain"}));
        assert_eq!(lines[0], r#"action_name: "contain""#);
        assert_eq!(
            lines[1],
            r#"ids (8 items): "host-0", "host-1", "host-2", "host-3", "host-4", and 3 more"#
        );
        assert!(lines[2].ends_with("(248 more characters)"), "{}", lines[2]);
        let many: serde_json::Map<String, Value> =
            (0..15).map(|i| (format!("p{i:02}"), json!(i))).collect();
        let lines = param_lines(&Value::Object(many));
        assert_eq!(lines.len(), PARAM_LINES + 1);
        assert_eq!(lines[PARAM_LINES], "and 3 more params: p12, p13, p14");
    }

    #[test]
    fn the_diff_says_what_it_covers_and_when_nothing_would_change() {
        use crate::engine::{StateRow, Unchanged};
        let row = |current: &str, proposed: &str| StateRow {
            record: "host-1".into(),
            field: "status".into(),
            current: current.into(),
            proposed: proposed.into(),
            changed: current != proposed,
        };
        let d = StateDiff {
            source: "crowdstrike.hosts:get".into(),
            rows: vec![row("normal", "contained")],
            error: None,
            items: 25,
            unread: 5,
            unchanged: None,
        };
        assert_eq!(
            diff_note(&d).as_deref(),
            Some("Covers 25 records; 5 could not be read, so their current state is not shown.")
        );
        let same = StateDiff {
            rows: vec![row("contained", "contained")],
            items: 1,
            unread: 0,
            unchanged: Some(Unchanged {
                earlier: None,
                since_ms: None,
            }),
            ..d
        };
        assert_eq!(
            diff_note(&same).as_deref(),
            Some("This call would change nothing: host-1 status is already contained.")
        );
    }

    #[test]
    fn a_grant_shows_its_whole_scope() {
        let scope = json!({"operations": ["storage_accounts:update"], "instance": "dev-sub",
                           "risk": {"storage_accounts:update": 48},
                           "environment": "dev", "ttl": "15m", "reason": "fix it",
                           "resource": {"param": "account", "value": "logsprod"}});
        let lines = grant_lines("azure", &scope).join("\n");
        for needle in [
            "connector: azure",
            "storage_accounts:update",
            "dev-sub (dev)",
            r#"account = "logsprod""#,
            "for: 15m",
            "reason (written by the agent): fix it",
        ] {
            assert!(lines.contains(needle), "{needle} in {lines}");
        }
    }
}
