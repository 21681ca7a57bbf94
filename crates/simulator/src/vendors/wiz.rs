//! Wiz GraphQL API: `{"data": {<root field>: …}}` for the catalog's queries and mutations.

use serde_json::{Value, json};

use super::{Ctx, Reply, guid, iso, ok, pick};

fn connection(nodes: Vec<Value>) -> Value {
    let total = nodes.len();
    json!({ "nodes": nodes, "pageInfo": { "hasNextPage": false, "endCursor": Value::Null }, "totalCount": total })
}

pub(super) fn respond(ctx: &Ctx<'_>) -> Reply {
    let n = ctx.count(&["variables.first"], 3);
    let issue_id = ctx.text("variables.issueId").unwrap_or_default();
    let data = match ctx.op {
        "issues:read" => json!({ "issuesV2": connection((0..n).map(|i| json!({
            "id": guid(&format!("issue{i}")),
            "status": "OPEN",
            "severity": pick(&["CRITICAL", "HIGH", "MEDIUM"], i),
            "type": "TOXIC_COMBINATION",
            "createdAt": iso(86_400 * (i as u64 + 1)),
            "updatedAt": iso(3_600),
            "sourceRule": { "id": guid(&format!("rule{i}")), "name": pick(&["Publicly exposed VM with critical vulnerability", "S3 bucket with sensitive data is public", "Admin role assumable by external account"], i) },
            "entitySnapshot": { "id": guid(&format!("res{i}")), "type": "VIRTUAL_MACHINE", "name": format!("prod-web-{i}"), "cloudPlatform": "AWS", "subscriptionName": "prod-account" },
            "projects": [{ "id": guid("project0"), "name": "Production" }],
        })).collect()) }),
        "vulnerabilities:read" => {
            json!({ "vulnerabilityFindings": connection((0..n).map(|i| json!({
            "id": guid(&format!("vuln{i}")),
            "name": pick(&["CVE-2024-3094", "CVE-2023-44487", "CVE-2021-44228"], i),
            "CVSSSeverity": "CRITICAL",
            "score": 9.8,
            "status": "OPEN",
            "fixedVersion": "5.6.2",
            "detectionMethod": "PACKAGE",
            "firstDetectedAt": iso(86_400 * 3),
            "vulnerableAsset": { "id": guid(&format!("res{i}")), "type": "VIRTUAL_MACHINE", "name": format!("prod-web-{i}") },
        })).collect()) })
        }
        "cloud_resources:read" => json!({ "cloudResources": connection((0..n).map(|i| json!({
            "id": guid(&format!("res{i}")),
            "name": format!("prod-web-{i}"),
            "type": "VIRTUAL_MACHINE",
            "cloudPlatform": "AWS",
            "subscriptionExternalId": "123456789012",
            "region": "us-east-1",
            "status": "Active",
            "tags": [{ "key": "env", "value": "prod" }],
        })).collect()) }),
        "projects:read" => {
            json!({ "projects": connection(["Production", "Staging", "Data Platform"].iter().take(n).enumerate().map(|(i, name)| json!({
            "id": guid(&format!("project{i}")),
            "name": name,
            "slug": name.to_lowercase().replace(' ', "-"),
            "businessUnit": "Engineering",
            "riskProfile": { "businessImpact": if i == 0 { "HBI" } else { "MBI" } },
        })).collect()) })
        }
        "issues:note" => json!({ "createIssueNote": { "issueNote": {
            "id": guid(&format!("note{}", ctx.seq)),
            "text": ctx.text("variables.input.text").unwrap_or_default(),
            "createdAt": iso(0),
        } } }),
        "issues:write" | "issues:reject" => json!({ "updateIssue": { "issue": {
            "id": issue_id,
            "status": ctx.text("variables.patch.status").unwrap_or_else(|| "OPEN".to_owned()),
            "dueAt": ctx.text("variables.patch.dueAt"),
            "note": ctx.text("variables.patch.note"),
            "resolutionReason": ctx.text("variables.patch.resolutionReason"),
        } } }),
        _ => Value::Null,
    };
    ok(json!({ "data": data }))
}
