//! What the server benchmarks share: a demo server on a fresh database, and percentiles.

use std::time::Duration;

use arx_server::Running;
use arx_server::config::Config;

/// The `p` percentile of sorted durations.
pub fn pct(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

pub fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1e3)
}

/// A demo server on a fresh SQLite file, or on `ARX_BENCH_DATABASE_URL`; and its backend's name.
pub async fn start() -> (Running, &'static str) {
    let dir = std::env::temp_dir().join(format!("arx-bench-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let db = std::env::var("ARX_BENCH_DATABASE_URL").ok();
    let backend = if db.is_some() {
        "postgres"
    } else {
        "sqlite (WAL, synchronous=FULL)"
    };
    let cfg = Config::for_tests(&dir, db);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let running = arx_server::launch(cfg, listener, true)
        .await
        .expect("launch");
    (running, backend)
}

/// The demo org's id.
#[allow(
    dead_code,
    reason = "each bench compiles this module; not all of them need the org"
)]
pub async fn demo_org(running: &Running) -> arx_core::ids::OrgId {
    running
        .engine
        .system()
        .org_by_slug("demo")
        .await
        .expect("org")
        .expect("demo org")
        .id
}
