//! Governed vs direct: the same simulator endpoint called directly and through
//! `POST /v1/sdk/execute` (policy + two durable audit records), in one run: one call at a
//! time, then open-loop at a fixed offered rate (`ARX_BENCH_RATE`, default 1,000 calls/s,
//! for five seconds per path), with the load made in this process and again by a
//! separate process (this binary, started again as the load generator), so the client's
//! CPU is not counted as ARX's; then governed throughput at concurrency 1, 16, 64 and
//! 256, the callers in this process and again in a separate one. For each in this
//! process, where the calls' time went stage by stage (the server's `arx_stage_seconds`
//! histograms at `/metrics`). Prints figures; asserts nothing.
//!
//! Open-loop: call `i` is due at `start + i / rate` and sent then whatever the earlier
//! calls are doing, and timed from when it was due, so a server falling behind shows
//! its queueing in the latencies instead of slowing the load down.
//!
//! `cargo bench -p arx-server --bench execute` (SQLite, synchronous=FULL). Set
//! `ARX_BENCH_DATABASE_URL=postgres://…` to measure PostgreSQL. `ARX_BENCH_CALLS` sets the
//! number of calls per closed-loop measurement (default 2000).

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// What the load generator is asked to send (as JSON in `ARX_BENCH_LOAD`).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Load {
    url: String,
    /// The `Authorization` header.
    auth: String,
    /// POSTed as JSON when given, else a GET.
    body: Option<Value>,
    rate: f64,
    n: usize,
    /// Closed loop instead: this many callers, each sending its share of `n` back to
    /// back (`rate` unused).
    #[serde(default)]
    concurrency: Option<usize>,
}

/// What a load run saw: each call's latency from when it was due, sorted, and the calls
/// that failed.
#[derive(Debug, Default, Serialize, Deserialize)]
struct LoadResult {
    micros: Vec<u64>,
    failed: usize,
    /// How long the whole load took.
    secs: f64,
}

impl Load {
    fn request(&self, http: &reqwest::Client) -> reqwest::RequestBuilder {
        match &self.body {
            Some(b) => http.post(&self.url).json(b),
            None => http.get(&self.url),
        }
        .header("authorization", &self.auth)
    }

    /// Sends the load from this process: open-loop, or closed with `concurrency` callers.
    async fn run(&self, http: &reqwest::Client) -> LoadResult {
        async fn send(req: reqwest::RequestBuilder) -> bool {
            match req.send().await {
                Ok(r) => r.status() == 200 && r.bytes().await.is_ok(),
                Err(_) => false,
            }
        }
        let start = tokio::time::Instant::now();
        let mut tasks = Vec::new();
        match self.concurrency {
            None => {
                for i in 0..self.n {
                    let due = start + Duration::from_secs_f64(i as f64 / self.rate);
                    tokio::time::sleep_until(due).await;
                    let req = self.request(http);
                    tasks.push(tokio::spawn(async move {
                        let ok = send(req).await;
                        vec![(due.elapsed(), ok)]
                    }));
                }
            }
            Some(callers) => {
                for _ in 0..callers {
                    let (load, http) = (self.clone(), http.clone());
                    tasks.push(tokio::spawn(async move {
                        let mut seen = Vec::new();
                        for _ in 0..load.n.div_ceil(callers) {
                            let t = tokio::time::Instant::now();
                            let ok = send(load.request(&http)).await;
                            seen.push((t.elapsed(), ok));
                        }
                        seen
                    }));
                }
            }
        }
        let mut out = LoadResult::default();
        for t in tasks {
            for (took, ok) in t.await.expect("task") {
                out.micros.push(took.as_micros() as u64);
                out.failed += usize::from(!ok);
            }
        }
        out.secs = start.elapsed().as_secs_f64();
        out.micros.sort_unstable();
        out
    }

    /// Sends the load from a separate process: this benchmark's binary, started again as
    /// the load generator.
    async fn run_elsewhere(&self) -> LoadResult {
        let exe = std::env::current_exe().expect("exe");
        let spec = serde_json::to_string(self).expect("spec");
        let out = tokio::process::Command::new(exe)
            .env("ARX_BENCH_LOAD", spec)
            .output()
            .await
            .expect("load generator");
        assert!(
            out.status.success(),
            "load generator: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).expect("load result")
    }
}

impl LoadResult {
    fn pct(&self, p: f64) -> Duration {
        let i =
            ((self.micros.len() as f64 * p).ceil() as usize).clamp(1, self.micros.len().max(1)) - 1;
        Duration::from_micros(self.micros.get(i).copied().unwrap_or(0))
    }
}

/// The load generator's side: runs the load in `ARX_BENCH_LOAD` and prints what it saw.
async fn generate(spec: &str) {
    let load: Load = serde_json::from_str(spec).expect("ARX_BENCH_LOAD");
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(1024)
        .build()
        .expect("client");
    let r = load.run(&http).await;
    println!("{}", serde_json::to_string(&r).expect("result"));
}

#[path = "common/mod.rs"]
mod common;
use common::writes::{Wal, print_sqlite_commits};
use common::{Stages, ms, pct};

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    if let Ok(spec) = std::env::var("ARX_BENCH_LOAD") {
        return generate(&spec).await;
    }
    let calls: usize = std::env::var("ARX_BENCH_CALLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000);
    let (running, backend) = common::start().await;
    let demo = running.demo.as_ref().expect("demo");
    let base = format!("http://{}", running.addr);
    let sim = running.simulator.as_ref().expect("simulator").base_url();
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(256)
        .build()
        .expect("client");

    // A bench agent whose declared rate keeps the frequency input at 0, so every call is a PERMIT.
    let created: Value = http
        .post(format!("{base}/v1/admin/agents"))
        .bearer_auth(&demo.admin_token)
        .json(&json!({"name": "bench-agent", "owner": "secops-lead@demo.arx.local", "declared_rate": 100_000_000}))
        .send().await.expect("create agent").json().await.expect("json");
    let agent = created["agent"]["id"]
        .as_str()
        .expect("agent id")
        .to_string();
    // Its manifest declares what it calls at a rate it never exceeds: the manifest gate
    // runs on every call, and no drift.
    let published = http
        .post(format!("{base}/v1/admin/agents/{agent}/manifests"))
        .bearer_auth(&demo.admin_token)
        .json(&json!({"manifest": {"connectors": {"okta": ["users:read"]}, "rate_per_minute": 10_000_000,
            "environments": ["prod"], "data_classes": ["identity", "pii"],
            "purpose": "the execute benchmark", "model": ""}, "reason": "bench"}))
        .send()
        .await
        .expect("manifest");
    assert_eq!(published.status(), 201, "manifest published");
    let key: Value = http
        .post(format!("{base}/v1/admin/agents/{agent}/keys"))
        .bearer_auth(&demo.admin_token)
        .send()
        .await
        .expect("key")
        .json()
        .await
        .expect("json");
    let key = Arc::new(key["api_key"].as_str().expect("api key").to_string());

    let governed_body =
        json!({"connector": "okta", "operation": "users:read", "params": {"limit": 5}});
    let direct_url = format!("{sim}/okta/api/v1/users?limit=5");
    let governed = |http: reqwest::Client, key: Arc<String>, base: String, body: Value| async move {
        let r = http
            .post(format!("{base}/v1/sdk/execute"))
            .bearer_auth(key.as_str())
            .json(&body)
            .send()
            .await
            .expect("send");
        assert_eq!(r.status(), 200, "governed call not permitted");
        r.bytes().await.expect("body");
    };
    let direct = |http: reqwest::Client, url: String| async move {
        let r = http
            .get(url)
            .header("authorization", "SSWS demo-okta-api-key")
            .send()
            .await
            .expect("send");
        assert_eq!(r.status(), 200, "direct call failed");
        r.bytes().await.expect("body");
    };

    let call_governed = || {
        governed(
            http.clone(),
            key.clone(),
            base.clone(),
            governed_body.clone(),
        )
    };

    // Warm up both paths (connections, caches).
    for _ in 0..200 {
        call_governed().await;
        direct(http.clone(), direct_url.clone()).await;
    }

    // Interleaved, sequential: the same load and noise on both paths.
    let postgres = backend == "postgres";
    let wal_before = Wal::read(running.store.pool(), postgres).await;
    let before = Stages::read(&http, &base).await;
    let (mut g, mut d) = (Vec::with_capacity(calls), Vec::with_capacity(calls));
    for _ in 0..calls {
        let t = Instant::now();
        direct(http.clone(), direct_url.clone()).await;
        d.push(t.elapsed());
        let t = Instant::now();
        call_governed().await;
        g.push(t.elapsed());
    }
    g.sort();
    d.sort();
    println!(
        "ARX execute benchmark — backend: {backend}, {calls} calls per path, 2 records made durable per governed call"
    );
    println!(
        "direct   p50 {}  p99 {}",
        ms(pct(&d, 0.5)),
        ms(pct(&d, 0.99))
    );
    println!(
        "governed p50 {}  p99 {}",
        ms(pct(&g, 0.5)),
        ms(pct(&g, 0.99))
    );
    println!(
        "overhead p50 {}  p99 {}  (governed/direct p50 ratio {:.2})",
        ms(pct(&g, 0.5).saturating_sub(pct(&d, 0.5))),
        ms(pct(&g, 0.99).saturating_sub(pct(&d, 0.99))),
        pct(&g, 0.5).as_secs_f64() / pct(&d, 0.5).as_secs_f64()
    );
    Stages::read(&http, &base)
        .await
        .since(&before)
        .print("one call at a time");
    if let (Some(was), Some(now)) = (wal_before, Wal::read(running.store.pool(), postgres).await) {
        now.print_since(&was, calls);
    }

    // Open-loop at a fixed offered rate, the load from this process and from another.
    let rate: f64 = std::env::var("ARX_BENCH_RATE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000.0);
    let n = (rate * 5.0) as usize;
    let direct_load = Load {
        url: direct_url.clone(),
        auth: "SSWS demo-okta-api-key".into(),
        body: None,
        rate,
        n,
        concurrency: None,
    };
    let governed_load = Load {
        url: format!("{base}/v1/sdk/execute"),
        auth: format!("Bearer {key}"),
        body: Some(governed_body.clone()),
        rate,
        n,
        concurrency: None,
    };
    let mut open = Vec::new();
    for elsewhere in [false, true] {
        let run = |l: Load| {
            let http = http.clone();
            async move {
                match elsewhere {
                    true => l.run_elsewhere().await,
                    false => l.run(&http).await,
                }
            }
        };
        let d = run(direct_load.clone()).await;
        let before = Stages::read(&http, &base).await;
        let g = run(governed_load.clone()).await;
        let stages = Stages::read(&http, &base).await.since(&before);
        let from = if elsewhere {
            "a separate process"
        } else {
            "this process"
        };
        println!("\nopen loop at {rate:.0} calls/s offered, {n} calls per path, load from {from}:");
        for (name, r) in [("direct  ", &d), ("governed", &g)] {
            println!(
                "{name} p50 {}  p99 {}  ({} failed)",
                ms(r.pct(0.5)),
                ms(r.pct(0.99)),
                r.failed
            );
        }
        println!(
            "overhead p50 {}  p99 {}",
            ms(g.pct(0.5).saturating_sub(d.pct(0.5))),
            ms(g.pct(0.99).saturating_sub(d.pct(0.99)))
        );
        open.push((from, stages));
    }
    for (from, stages) in open {
        stages.print(&format!("open loop at {rate:.0} calls/s, load from {from}"));
    }

    let mut throughput = Vec::new();
    for concurrency in [1usize, 16, 64, 256] {
        let per = calls.div_ceil(concurrency).max(1);
        let before = Stages::read(&http, &base).await;
        let start = Instant::now();
        let tasks: Vec<_> = (0..concurrency)
            .map(|_| {
                let (http, key, base, body) = (
                    http.clone(),
                    key.clone(),
                    base.clone(),
                    governed_body.clone(),
                );
                tokio::spawn(async move {
                    for _ in 0..per {
                        governed(http.clone(), key.clone(), base.clone(), body.clone()).await;
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await.expect("task");
        }
        let n = per * concurrency;
        let secs = start.elapsed().as_secs_f64();
        println!(
            "governed throughput at concurrency {concurrency:>2}: {:>7.0} calls/s ({n} calls in {secs:.2} s)",
            n as f64 / secs
        );
        throughput.push((concurrency, Stages::read(&http, &base).await.since(&before)));
    }
    // The same, the callers in a separate process: the client's CPU is not ARX's.
    for concurrency in [1usize, 16, 64, 256] {
        let load = Load {
            n: calls.div_ceil(concurrency) * concurrency,
            concurrency: Some(concurrency),
            ..governed_load.clone()
        };
        let r = load.run_elsewhere().await;
        println!(
            "governed throughput at concurrency {concurrency:>2}, load from a separate process: {:>7.0} calls/s ({} calls in {:.2} s, p50 {}, p99 {}, {} failed)",
            load.n as f64 / r.secs,
            load.n,
            r.secs,
            ms(r.pct(0.5)),
            ms(r.pct(0.99)),
            r.failed
        );
    }
    for (concurrency, stages) in throughput {
        stages.print(&format!("throughput at concurrency {concurrency}"));
    }
    let verify = running
        .engine
        .system()
        .verify_org(common::demo_org(&running).await)
        .await
        .expect("verify");
    match verify {
        Ok(r) => println!("chain verified after the run: {} records", r.records),
        Err(b) => println!("CHAIN BROKEN: {b}"),
    }
    if !postgres {
        print_sqlite_commits(running.store.pool()).await;
    }
}
