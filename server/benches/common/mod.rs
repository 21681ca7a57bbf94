//! What the server benchmarks share: a demo server on a fresh database, and percentiles.

use std::time::Duration;

use arx_server::Running;
use arx_server::config::Config;

#[allow(
    dead_code,
    reason = "each bench compiles this module; only the execute bench reads the writes"
)]
pub mod writes;

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

/// The stage histograms of a server's `/metrics` (`arx_stage_seconds`): read before and
/// after a measurement, their difference is where that measurement's calls spent their
/// time.
#[allow(
    dead_code,
    reason = "each bench compiles this module; only the execute bench reads the stages"
)]
#[derive(Debug, Default, Clone)]
pub struct Stages(Vec<(String, StageHistogram)>);

#[derive(Debug, Default, Clone)]
pub struct StageHistogram {
    /// (upper bound in seconds, cumulative count), rising; +Inf left out.
    buckets: Vec<(f64, u64)>,
    sum: f64,
    count: u64,
}

#[allow(
    dead_code,
    reason = "each bench compiles this module; only the execute bench reads the stages"
)]
impl Stages {
    /// Reads them from `GET {base}/metrics`.
    pub async fn read(http: &reqwest::Client, base: &str) -> Stages {
        let text = http
            .get(format!("{base}/metrics"))
            .send()
            .await
            .expect("metrics")
            .text()
            .await
            .expect("metrics text");
        let mut out: Vec<(String, StageHistogram)> = Vec::new();
        for line in text.lines().filter(|l| l.starts_with("arx_stage_seconds")) {
            let (series, value) = line.rsplit_once(' ').expect("value");
            let label = |name: &str| {
                let at = series.find(&format!("{name}=\""))? + name.len() + 2;
                Some(series[at..].split('"').next()?.to_string())
            };
            let stage = label("stage").expect("stage label");
            if out.last().is_none_or(|(s, _)| *s != stage) {
                out.push((stage, StageHistogram::default()));
            }
            let h = &mut out.last_mut().expect("stage").1;
            if series.starts_with("arx_stage_seconds_bucket") {
                let le = label("le").expect("le");
                if le != "+Inf" {
                    h.buckets
                        .push((le.parse().expect("bound"), value.parse().expect("count")));
                }
            } else if series.starts_with("arx_stage_seconds_sum") {
                h.sum = value.parse().expect("sum");
            } else if series.starts_with("arx_stage_seconds_count") {
                h.count = value.parse().expect("count");
            }
        }
        Stages(out)
    }

    /// What happened between `before` and this reading.
    pub fn since(&self, before: &Stages) -> Stages {
        let zero = StageHistogram::default();
        Stages(
            self.0
                .iter()
                .map(|(stage, now)| {
                    let was = before
                        .0
                        .iter()
                        .find(|(s, _)| s == stage)
                        .map_or(&zero, |(_, h)| h);
                    let buckets = now
                        .buckets
                        .iter()
                        .enumerate()
                        .map(|(i, (le, n))| (*le, n - was.buckets.get(i).map_or(0, |b| b.1)))
                        .collect();
                    let h = StageHistogram {
                        buckets,
                        sum: now.sum - was.sum,
                        count: now.count - was.count,
                    };
                    (stage.clone(), h)
                })
                .collect(),
        )
    }

    /// A table of the stages per governed call: how many times each ran per call, its
    /// mean, p50 and p99 (from the histogram's buckets, within about 13%), and its share
    /// of the whole call's mean.
    pub fn print(&self, title: &str) {
        let calls = self.get("total").map_or(0, |h| h.count).max(1) as f64;
        let total_per_call = self.get("total").map_or(0.0, |h| h.sum) / calls;
        println!("\n{title}: where a governed call's time goes (server side, from /metrics)");
        println!(
            "  {:<20} {:>9} {:>11} {:>11} {:>11} {:>8}",
            "stage", "per call", "mean", "p50", "p99", "share"
        );
        for (stage, h) in &self.0 {
            if h.count == 0 {
                continue;
            }
            let per_call = h.sum / calls;
            let nested = stage.starts_with("append_") || stage == "index_copy";
            let share = if nested || stage == "total" {
                String::new()
            } else {
                format!("{:.0}%", 100.0 * per_call / total_per_call)
            };
            let name = if nested {
                format!("  {stage}")
            } else {
                stage.clone()
            };
            println!(
                "  {name:<20} {:>9.2} {:>11} {:>11} {:>11} {share:>8}",
                h.count as f64 / calls,
                us(h.sum / h.count as f64),
                us(h.quantile(0.5)),
                us(h.quantile(0.99)),
            );
        }
        println!(
            "  (append_* are inside intercept_record and result_record, per append or per \
             batch; a batch is committed once for every append waiting on it; index_copy is \
             off the call: one statement copying records into the search index)"
        );
    }

    fn get(&self, stage: &str) -> Option<&StageHistogram> {
        self.0.iter().find(|(s, _)| s == stage).map(|(_, h)| h)
    }
}

impl StageHistogram {
    /// The `q` quantile, interpolated geometrically inside its bucket.
    fn quantile(&self, q: f64) -> f64 {
        let rank = (q * self.count as f64).ceil().max(1.0) as u64;
        let mut lower = (0.0f64, 0u64);
        for &(le, n) in &self.buckets {
            if n >= rank {
                let (lo, below) = lower;
                let within = (rank - below) as f64 / (n - below).max(1) as f64;
                return match lo > 0.0 {
                    true => lo * (le / lo).powf(within),
                    false => le * within,
                };
            }
            lower = (le, n);
        }
        f64::INFINITY
    }
}

fn us(seconds: f64) -> String {
    match seconds.is_finite() {
        true => format!("{:.0} µs", seconds * 1e6),
        false => "> 10 s".into(),
    }
}
