//! `POST /mcp` across replicas: the endpoint keeps no MCP session, so each request may
//! land on any replica behind a load balancer. (The MCP client's own view, with the
//! official Python SDK, is `sdk/python/tests/live/test_live_mcp.py`.)

use std::net::SocketAddr;
use std::time::Duration;

use arx_testkit::backend_tests;
use serde_json::{Value, json};

use crate::harness::{TestServer, containments, two_replicas};

/// One JSON-RPC request to a replica's `/mcp`, as a streamable HTTP client sends it.
async fn rpc(
    http: &reqwest::Client,
    at: SocketAddr,
    key: &str,
    method: &str,
    params: Value,
) -> (u16, Value) {
    TestServer::answer(
        http.post(format!("http://{at}/mcp"))
            .bearer_auth(key)
            .header("accept", "application/json, text/event-stream")
            .json(&json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params})),
    )
    .await
}

/// A `tools/call` of `name` with `arguments`; the HTTP status and the JSON-RPC answer.
async fn call(s: &TestServer, key: &str, name: &str, arguments: Value) -> (u16, Value) {
    rpc(
        &s.http,
        s.running.addr,
        key,
        "tools/call",
        json!({"name": name, "arguments": arguments}),
    )
    .await
}

/// The error code a tool result carries (`None` when it is no tool error).
fn tool_error(answer: &Value) -> Option<&str> {
    let r = &answer["result"];
    (r["isError"] == true)
        .then(|| r["structuredContent"]["error"]["code"].as_str())
        .flatten()
}

backend_tests! {
    async fn mcp_refuses_another_orgs_request_a_suspended_agent_bad_bodies_and_replays(s: TestServer) {
        let b = s.backend;
        let key = s.agent_key("triage-agent");
        // A request of the demo org waiting for a reviewer.
        let (st, pending) = s
            .execute(&key, json!({"connector": "crowdstrike", "operation": "hosts:write",
                                   "params": {"action_name": "contain", "ids": ["mcp-abuse"]}}))
            .await;
        assert_eq!(st, 202, "{b}: {pending}");
        let id = pending["approval_id"].as_str().unwrap().to_string();

        // An agent of another org: its key works, the demo org's request is not found
        // (not "forbidden": it learns nothing), and it is offered no demo tool.
        let other = s.other_org_admin().await;
        let (_, users) = TestServer::answer(s.http.get(s.url("/v1/admin/users")).bearer_auth(&other)).await;
        let owner = users["users"][0]["email"].as_str().unwrap().to_string();
        let (st, made) = TestServer::answer(
            s.http.post(s.url("/v1/admin/agents")).bearer_auth(&other).json(
                &json!({"name": "outsider", "description": "", "owner": owner}),
            ),
        )
        .await;
        assert_eq!(st, 201, "{b}: {made}");
        let outsider = made["agent"]["id"].as_str().unwrap().to_string();
        let (st, k) = TestServer::answer(
            s.http
                .post(s.url(&format!("/v1/admin/agents/{outsider}/keys")))
                .bearer_auth(&other)
                .json(&json!({})),
        )
        .await;
        assert_eq!(st, 201, "{b}: {k}");
        let outsider_key = k["api_key"].as_str().unwrap().to_string();
        let (_, answer) = call(&s, &outsider_key, "arx_approval_status", json!({"approval_id": id})).await;
        assert_eq!(tool_error(&answer), Some("not_found"), "{b}: {answer}");
        let (_, list) = rpc(&s.http, s.running.addr, &outsider_key, "tools/list", json!({})).await;
        let names: Vec<&str> = list["result"]["tools"].as_array().unwrap().iter()
            .map(|t| t["name"].as_str().unwrap()).collect();
        assert_eq!(names, ["arx_approval_status"], "{b}: no manifest, no tools");
        // An id that tries to leave its place is not found either.
        for bad in ["../../v1/admin/agents", "not-an-id", ""] {
            let (_, answer) = call(&s, &key, "arx_approval_status", json!({"approval_id": bad})).await;
            assert!(tool_error(&answer).is_some(), "{b}: {bad}: {answer}");
        }
        // A malformed argument is a protocol error saying what to fix.
        let (_, answer) = call(&s, &key, "arx_approval_status", json!({"approval_id": 7})).await;
        assert!(answer["error"]["message"].as_str().unwrap().contains("approval_id"), "{b}: {answer}");

        // Malformed and oversized bodies never reach a tool.
        let (st, answer) = TestServer::answer(
            s.http.post(s.url("/mcp")).bearer_auth(&key)
                .header("content-type", "application/json")
                .header("accept", "application/json, text/event-stream")
                .body("{\"jsonrpc\": \"2.0\", \"id\": 1, \"method\": "),
        )
        .await;
        assert!(st == 400 || answer["error"]["code"] == -32700, "{b}: {st} {answer}");
        let huge = "x".repeat(arx_core::request::MAX_BODY_BYTES + 1);
        let (st, _) = call(&s, &key, "crowdstrike__detections_read", json!({"filter": huge})).await;
        assert_eq!(st, 413, "{b}");
        assert_eq!(containments(&s), 0, "{b}");

        // Approved: a replayed status request answers the same outcome and never runs
        // the call again.
        let (st, _) = s.admin().approve(&id, Some("ok")).await;
        assert_eq!(st, 200, "{b}");
        let ask = json!({"approval_id": id, "wait_seconds": 5});
        let (_, first) = call(&s, &key, "arx_approval_status", ask.clone()).await;
        let (_, again) = call(&s, &key, "arx_approval_status", ask).await;
        let ran = &first["result"]["structuredContent"];
        assert!(ran["result_audit_id"].is_string(), "{b}: {first}");
        assert_eq!(again["result"]["structuredContent"], *ran, "{b}");
        assert_eq!(containments(&s), 1, "{b}: run once");

        // A suspended agent is refused: its tools are not listed and its calls do not run.
        let enrichment = s.agent_key("enrichment-agent");
        let (st, _) = s.admin().suspend_agent(s.agent_id("enrichment-agent"), "drift").await;
        assert_eq!(st, 204, "{b}");
        let (_, list) = rpc(&s.http, s.running.addr, &enrichment, "tools/list", json!({})).await;
        assert!(list["error"]["message"].as_str().unwrap().contains("suspended"), "{b}: {list}");
        let (_, answer) = call(&s, &enrichment, "okta__users_read", json!({})).await;
        assert_eq!(tool_error(&answer), Some("permission_denied"), "{b}: {answer}");
    }
}

#[tokio::test]
async fn mcp_requests_land_on_any_replica() {
    let Some((a, b)) = two_replicas().await else {
        return;
    };
    let key = a.agent_key("triage-agent");
    let (st, init) = rpc(
        &a.http,
        a.running.addr,
        &key,
        "initialize",
        json!({"protocolVersion": "2025-06-18", "capabilities": {},
               "clientInfo": {"name": "it", "version": "1"}}),
    )
    .await;
    assert_eq!(st, 200, "{init}");
    assert_eq!(init["result"]["serverInfo"]["name"], "arx", "{init}");

    // Listed by B, which never saw the initialize.
    let (st, list) = rpc(&a.http, b.running.addr, &key, "tools/list", json!({})).await;
    assert_eq!(st, 200, "{list}");
    let names: Vec<&str> = list["result"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"crowdstrike__hosts_write") && names.contains(&"arx_approval_status"),
        "{names:?}"
    );

    // Escalated on B, approved through A while B's call waits.
    let approve = {
        let a_http = a.http.clone();
        let url = a.url("/v1/admin/approvals?status=pending");
        let token = a.admin_token();
        let base = a.url("/v1/admin/approvals");
        tokio::spawn(async move {
            for _ in 0..500 {
                let (_, q) = TestServer::answer(a_http.get(&url).bearer_auth(&token)).await;
                if let Some(id) = q["approvals"]
                    .as_array()
                    .and_then(|l| l.first())
                    .and_then(|p| p["id"].as_str())
                {
                    let (st, _) = TestServer::answer(
                        a_http
                            .post(format!("{base}/{id}/approve"))
                            .bearer_auth(&token)
                            .json(&json!({"comment": "approved on A"})),
                    )
                    .await;
                    return (st, id.to_string());
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            (0, String::new())
        })
    };
    let (st, called) = rpc(
        &a.http,
        b.running.addr,
        &key,
        "tools/call",
        json!({"name": "crowdstrike__hosts_write",
               "arguments": {"action_name": "contain", "ids": ["mcp-replica-host"],
                             "arx_reasoning": "beaconing, seen over MCP"}}),
    )
    .await;
    let (approved, id) = approve.await.unwrap();
    assert_eq!(approved, 200, "the approval on A");
    assert_eq!(st, 200, "{called}");
    let ran = &called["result"]["structuredContent"];
    assert_eq!(called["result"]["isError"], false, "{called}");
    assert_eq!(ran["approval_id"], id.as_str(), "{called}");

    // Its outcome asked of A, and its intercept record read on A: it came over MCP.
    let (st, status) = rpc(
        &a.http,
        a.running.addr,
        &key,
        "tools/call",
        json!({"name": "arx_approval_status", "arguments": {"approval_id": id}}),
    )
    .await;
    assert_eq!(st, 200, "{status}");
    assert_eq!(
        status["result"]["structuredContent"]["result_audit_id"], ran["result_audit_id"],
        "{status}"
    );
    let intercept = a
        .audit_of("execute.intercept")
        .await
        .into_iter()
        .find(|r| r["id"] == ran["audit_id"])
        .expect("the intercept record");
    assert_eq!(intercept["fields"]["via"], "mcp", "{intercept}");
    assert_eq!(
        intercept["fields"]["session_context"]["reasoning"],
        "beaconing, seen over MCP"
    );

    // Without a key, or with another's made up: refused before MCP, in the API's shape.
    let (st, e) = rpc(
        &a.http,
        b.running.addr,
        "arx_made_up",
        "tools/list",
        json!({}),
    )
    .await;
    assert_eq!(
        (st, e["error"]["code"].as_str()),
        (401, Some("unauthenticated"))
    );
}
