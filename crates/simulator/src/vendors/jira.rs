//! Jira Cloud REST API v3: issue search, creation and comments.

use serde_json::{Value, json};

use super::{Ctx, Reply, empty, iso, ok, with_status};

const SUMMARIES: [&str; 4] = [
    "Investigate anomalous login pattern on host-prod-42",
    "Phishing report: invoice lure from spoofed vendor domain",
    "Rotate exposed AWS access key found in repository",
    "Triage CrowdStrike detection on dc-01",
];

/// The project key named in a JQL query (`project = SEC …`), `SEC` when none.
fn project_of(jql: &str) -> String {
    let lower = jql.to_ascii_lowercase();
    lower
        .find("project")
        .and_then(|i| jql[i + "project".len()..].trim_start().strip_prefix('='))
        .and_then(|rest| rest.split_whitespace().next())
        .map(|p| p.trim_matches(|c| c == '"' || c == '\'').to_uppercase())
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| "SEC".to_owned())
}

fn issue(base: &str, key: &str, n: usize) -> Value {
    let id = 10_000 + key.bytes().map(usize::from).sum::<usize>() % 5_000;
    json!({
        "id": id.to_string(),
        "key": key,
        "self": format!("{base}/rest/api/3/issue/{id}"),
        "fields": {
            "summary": SUMMARIES[n % SUMMARIES.len()],
            "status": { "name": if n % 3 == 2 { "In Progress" } else { "Open" } },
            "priority": { "name": if n.is_multiple_of(2) { "High" } else { "Medium" } },
            "issuetype": { "name": "Task" },
            "labels": ["security"],
            "created": iso(86_400 * (n as u64 + 1)),
            "updated": iso(3_600 * (n as u64 + 1)),
        },
    })
}

pub(super) fn respond(ctx: &Ctx<'_>) -> Reply {
    let base = ctx.api_base;
    match ctx.op {
        "issues:read" => {
            let project = project_of(&ctx.text("jql").unwrap_or_default());
            let n = ctx.count(&["maxResults"], 3);
            let start: usize = ctx
                .text("startAt")
                .and_then(|s| s.parse().ok())
                .unwrap_or(0);
            let issues: Vec<Value> = (0..n)
                .map(|i| issue(base, &format!("{project}-{}", 1040 + start + i), start + i))
                .collect();
            ok(
                json!({ "expand": "schema,names", "startAt": start, "maxResults": n, "total": start + n, "issues": issues }),
            )
        }
        "issues:get" => ok(issue(base, ctx.param("issue_key"), 0)),
        "issues:write" => {
            let project = ctx
                .text("fields.project.key")
                .unwrap_or_else(|| "SEC".to_owned());
            let id = 10_100 + ctx.seq;
            with_status(
                201,
                json!({ "id": id.to_string(), "key": format!("{project}-{}", 1100 + ctx.seq), "self": format!("{base}/rest/api/3/issue/{id}") }),
            )
        }
        "comments:write" => {
            let id = 20_000 + ctx.seq;
            let key = ctx.param("issue_key");
            with_status(
                201,
                json!({
                    "self": format!("{base}/rest/api/3/issue/{key}/comment/{id}"),
                    "id": id.to_string(),
                    "author": { "accountId": "5b10ac8d82e05b22cc7d4ef5", "displayName": "ARX Automation", "active": true },
                    "body": ctx.body.get("body").cloned().unwrap_or(Value::Null),
                    "created": iso(0),
                    "updated": iso(0),
                }),
            )
        }
        _ => empty(204),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_the_project_of_a_jql_query() {
        assert_eq!(super::project_of("project = ops AND status = Open"), "OPS");
        assert_eq!(super::project_of("status = Open"), "SEC");
    }
}
