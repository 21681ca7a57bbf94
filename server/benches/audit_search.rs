//! Audit search at scale (issue 13, point 2). Fills a fresh database with chained records
//! (`ARX_BENCH_RECORDS`, default 10,000,000) written through the store's append (sealed,
//! hashed, indexed with their full text; on SQLite by the index follower beside the
//! append) but outside the execute path, then times `GET /v1/admin/audit` over HTTP as
//! an auditor's client sees it: a filtered query, a full-text query, a combined one, the
//! first page and a deep page, each `ARX_BENCH_QUERIES` times (default 100) with varied
//! values. Prints p50/p95, the fill rate and the database size; asserts nothing.
//!
//! `cargo bench -p arx-server --bench audit_search` (SQLite, synchronous=FULL); set
//! `ARX_BENCH_DATABASE_URL=postgres://…` for PostgreSQL.
//!
//! The records are real ones made variable: a PERMIT, an ESCALATE (approved) and a DENY
//! are executed first, and their records are the templates. Each generated call names one
//! of 50,000 hosts (`ws-00042.corp.example`), so a host's calls are a few dozen among
//! millions, as when an auditor asks for every containment of one host.

use std::time::{Duration, Instant};

use arx_core::store::AuditStore;
use serde_json::Value;

#[path = "common/mod.rs"]
mod common;
#[path = "records/mod.rs"]
mod records;
use common::{demo_org, ms, pct};
use records::{HOSTS, Rng, call, host, templates};

/// A query string made from the generator (varied values per repetition).
type Query = Box<dyn Fn(&mut Rng) -> String>;
const BATCH: usize = 8192;

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let records: u64 = env_num("ARX_BENCH_RECORDS", 10_000_000);
    let queries: usize = env_num("ARX_BENCH_QUERIES", 100) as usize;
    let (running, backend) = common::start().await;
    let demo = running.demo.as_ref().expect("demo");
    let base = format!("http://{}", running.addr);
    let http = reqwest::Client::new();
    let token = demo.admin_token.clone();
    let org = demo_org(&running).await;
    let t = templates(&running, org, &http, &base, demo).await;

    // Fill.
    println!("audit search benchmark, {backend}: writing {records} records");
    let started = Instant::now();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut written = 0u64;
    // A quarter's calls, about two records each, spread over 90 days up to now.
    let quarter_ms: u64 = 90 * 86_400_000;
    let mut ts_ms = time::OffsetDateTime::now_utc().unix_timestamp() * 1000 - quarter_ms as i64;
    let step = (quarter_ms * 2 / records.max(1)).max(1);
    let mut last_report = Instant::now();
    while written < records {
        let mut drafts = Vec::with_capacity(BATCH + 4);
        while drafts.len() < BATCH && written + (drafts.len() as u64) < records {
            ts_ms += (1 + rng.below(2 * step)) as i64;
            call(&mut rng, &t, org, ts_ms, &mut drafts);
        }
        written += drafts.len() as u64;
        running.store.append_audit(drafts).await.expect("append");
        if last_report.elapsed() > Duration::from_secs(30) {
            let rate = written as f64 / started.elapsed().as_secs_f64();
            println!("  {written} records, {rate:.0}/s");
            last_report = Instant::now();
        }
    }
    let fill = started.elapsed();
    println!(
        "filled: {written} records in {:.0} s ({:.0} records/s, sealed; on SQLite the index copied beside)",
        fill.as_secs_f64(),
        written as f64 / fill.as_secs_f64()
    );
    // The search index trails the chain (the `audit-index` job copied most of it while
    // filling); what is left is copied now, as the first search would, and not timed
    // as a query.
    let indexing = Instant::now();
    let left = running.store.index_audit().await.expect("index");
    println!(
        "search index: {left} records still to copy after the fill, copied in {:.1} s",
        indexing.elapsed().as_secs_f64()
    );
    println!("database size: {}", db_size(&running).await);
    // Settled as a database in service is: statistics (a bulk load leaves the planner
    // blind); on PostgreSQL the visibility map autovacuum keeps for insert-only tables,
    // which index-only scans need; and the pages that load and vacuum dirtied written out
    // (a checkpoint), as the checkpointer has long done on a database in service. Left
    // dirty, every cold read of the timed queries would first write out a dirty buffer
    // to make room, a cost of the load, not of the search.
    let settle: &[&str] = if backend == "postgres" {
        &["VACUUM ANALYZE", "CHECKPOINT"]
    } else {
        &["ANALYZE", "PRAGMA wal_checkpoint(TRUNCATE)"]
    };
    for step in settle {
        sqlx::query(step)
            .execute(running.store.pool())
            .await
            .expect(step);
    }

    // Query.
    let head = running.store.chain_head(org).await.expect("head").seq;
    let mut cases: Vec<(&str, Query)> = vec![
        (
            "first page (no filter)",
            Box::new(|_: &mut Rng| String::new()),
        ),
        (
            "filtered: connector+operation+verdict",
            Box::new(|r: &mut Rng| {
                let v = ["PERMIT", "ESCALATE", "DENY"][r.below(3) as usize];
                format!("connector=crowdstrike&operation=hosts:write&verdict={v}")
            }),
        ),
        (
            "filtered: agent+kind+risk range",
            Box::new(|r: &mut Rng| {
                let a =
                    ["triage-agent", "remediation-agent", "enrichment-agent"][r.below(3) as usize];
                format!("agent={a}&kind=execute.intercept&risk_min=60&risk_max=100")
            }),
        ),
        (
            "full text: one host",
            Box::new(|r: &mut Rng| format!("q={}", host(r.below(HOSTS)))),
        ),
        (
            "full text: a common word",
            Box::new(|_: &mut Rng| "q=beaconing".to_string()),
        ),
        (
            "combined: host+kind+labels+risk",
            Box::new(|r: &mut Rng| {
                format!(
                    "q={}&kind=execute.intercept&selector=team%3Dir&risk_min=40",
                    host(r.below(HOSTS))
                )
            }),
        ),
        (
            "deep page (cursor, newest first)",
            Box::new(move |r: &mut Rng| format!("cursor={}", 1 + r.below(head as u64 / 2))),
        ),
        (
            "deep page (cursor, filtered, oldest first)",
            Box::new(move |r: &mut Rng| {
                format!(
                    "verdict=DENY&order=oldest&cursor={}",
                    head as u64 / 2 + r.below(head as u64 / 4)
                )
            }),
        ),
    ];
    println!(
        "\n{queries} queries each, GET /v1/admin/audit (50 records and the facets), over HTTP:"
    );
    println!(
        "{:<45} {:>12} {:>12} {:>10}",
        "query", "p50", "p95", "records"
    );
    let written_before = backend_writes(&running).await;
    let mut rng = Rng(7);
    for (name, make) in cases.iter_mut() {
        let mut times = Vec::with_capacity(queries);
        let mut found = 0usize;
        // One untimed run: the first read of a cold page cache is not the search's cost.
        let warm = make(&mut Rng(1));
        http.get(format!("{base}/v1/admin/audit?{warm}"))
            .bearer_auth(&token)
            .send()
            .await
            .expect("warm-up");
        for _ in 0..queries {
            let q = make(&mut rng);
            let t0 = Instant::now();
            let r = http
                .get(format!("{base}/v1/admin/audit?{q}"))
                .bearer_auth(&token)
                .send()
                .await
                .expect("search");
            let status = r.status();
            let body: Value = r.json().await.expect("json");
            times.push(t0.elapsed());
            assert!(status.is_success(), "{q}: {body}");
            found += body["records"].as_array().map_or(0, Vec::len);
        }
        times.sort();
        println!(
            "{name:<45} {:>12} {:>12} {:>10}",
            ms(pct(&times, 0.5)),
            ms(pct(&times, 0.95)),
            found / queries
        );
    }
    if let (Some(before), Some(after)) = (written_before, backend_writes(&running).await) {
        println!(
            "dirty buffers the searches wrote out first: {}",
            after - before
        );
    }
}

/// PostgreSQL: the dirty buffers server processes wrote themselves to make room for a
/// read (`pg_stat_bgwriter.buffers_backend`); a search that had to is slower by a write.
async fn backend_writes(running: &arx_server::Running) -> Option<i64> {
    if running.store.dialect() != arx_store::Dialect::Postgres {
        return None;
    }
    let row: (i64,) = sqlx::query_as("SELECT buffers_backend FROM pg_stat_bgwriter")
        .fetch_one(running.store.pool())
        .await
        .expect("bgwriter stats");
    Some(row.0)
}

fn env_num(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.replace('_', "").parse().ok())
        .unwrap_or(default)
}

/// The database's size on disk.
async fn db_size(running: &arx_server::Running) -> String {
    let mb = |b: i64| format!("{:.0} MiB", b as f64 / 1_048_576.0);
    match running.store.dialect() {
        arx_store::Dialect::Postgres => {
            let row: (i64,) = sqlx::query_as("SELECT pg_database_size(current_database())")
                .fetch_one(running.store.pool())
                .await
                .expect("size");
            mb(row.0)
        }
        arx_store::Dialect::Sqlite => {
            let row: (i64,) = sqlx::query_as(
                "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()",
            )
            .fetch_one(running.store.pool())
            .await
            .expect("size");
            mb(row.0)
        }
    }
}
