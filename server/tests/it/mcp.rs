//! `POST /mcp` across replicas: the endpoint keeps no MCP session, so each request may
//! land on any replica behind a load balancer. (The MCP client's own view, with the
//! official Python SDK, is `sdk/python/tests/live/test_live_mcp.py`.)

use std::net::SocketAddr;
use std::time::Duration;

use serde_json::{Value, json};

use crate::harness::{TestServer, two_replicas};

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
