//! Approval wake-up (budget ≤ 100 ms from decision to the waiting agent): an agent
//! long-polls `GET /v1/sdk/approvals/{id}` while a reviewer decides over HTTP. Measures,
//! per round, the time from sending the decision to the agent's answer, and from the
//! decision's own HTTP answer (the decision is committed by then) to the agent's answer.
//! Denials measure the wake-up alone; approvals include ARX running the approved call.
//! Prints figures; asserts nothing. `cargo bench -p arx-server --bench approvals`.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

#[path = "common/mod.rs"]
mod common;
use common::{ms, pct};

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let rounds: usize = std::env::var("ARX_BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let (running, backend) = common::start().await;
    let demo = running.demo.as_ref().expect("demo");
    let base = format!("http://{}", running.addr);
    let key = demo
        .agents
        .iter()
        .find(|a| a.name == "remediation-agent")
        .expect("agent")
        .api_key
        .clone();
    let http = reqwest::Client::new();

    println!("ARX approval wake-up benchmark — backend: {backend}, {rounds} rounds per decision");
    for decision in ["deny", "approve"] {
        let (mut from_send, mut from_answer) = (Vec::new(), Vec::new());
        for i in 0..rounds {
            let body = json!({"connector": "crowdstrike", "operation": "hosts:write", "wait_seconds": 0,
                              "params": {"action_name": "contain", "ids": [format!("bench-{decision}-{i}")]}});
            let r: Value = http
                .post(format!("{base}/v1/sdk/execute"))
                .bearer_auth(&key)
                .json(&body)
                .send()
                .await
                .expect("execute")
                .json()
                .await
                .expect("json");
            let id = r["approval_id"].as_str().expect("approval id").to_string();
            let waiter = {
                let (http, url, key) = (
                    http.clone(),
                    format!("{base}/v1/sdk/approvals/{id}?wait_seconds=20"),
                    key.clone(),
                );
                tokio::spawn(async move {
                    let r = http.get(url).bearer_auth(key).send().await.expect("poll");
                    let status = r.status().as_u16();
                    r.bytes().await.expect("body");
                    (status, Instant::now())
                })
            };
            // Let the long poll reach the server and start waiting.
            tokio::time::sleep(Duration::from_millis(20)).await;
            let sent = Instant::now();
            let d = http
                .post(format!("{base}/v1/admin/approvals/{id}/{decision}"))
                .bearer_auth(&demo.admin_token)
                .json(&json!({}))
                .send()
                .await
                .expect("decide");
            assert!(d.status().is_success(), "decision failed: {}", d.status());
            d.bytes().await.expect("body");
            let answered = Instant::now();
            let (status, woke) = waiter.await.expect("waiter");
            assert!(
                status == 200 || status == 403,
                "unexpected poll status {status}"
            );
            from_send.push(woke.duration_since(sent));
            from_answer.push(woke.saturating_duration_since(answered));
        }
        from_send.sort();
        from_answer.sort();
        println!(
            "{decision:>7}: decision sent → agent answered   p50 {}  p99 {}  max {}",
            ms(pct(&from_send, 0.5)),
            ms(pct(&from_send, 0.99)),
            ms(*from_send.last().expect("rounds"))
        );
        println!(
            "{decision:>7}: decision answered → agent answered p50 {}  p99 {}  max {}",
            ms(pct(&from_answer, 0.5)),
            ms(pct(&from_answer, 0.99)),
            ms(*from_answer.last().expect("rounds"))
        );
    }
}
