//! Where a governed call's time goes: one latency histogram per stage of the execute
//! pipeline (docs/architecture.md §4) and of the audit append under it, exported at
//! `/metrics` as `arx_stage_seconds` and read by the execute benchmark.
//!
//! The histograms are process-wide, like a metrics registry: the store times its own
//! statements without a handle threaded through every call. Recording one is two atomic
//! adds and a bucket search over a fixed table; a call records about a dozen.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// A stage of `POST /v1/sdk/execute`, or of the audit append that two of them wait on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// The whole call, from the handler's start to its answer built.
    Total,
    /// Reading and parsing the request body.
    Parse,
    /// The agent's key: agent, org and key state.
    Authenticate,
    /// The connector, the instance and the operation.
    Resolve,
    /// The active policy, the manifest gate, the risk score and the policy's decision.
    Decide,
    /// The intercept record, from draft to durable (the append stages below included).
    InterceptRecord,
    /// Opening the instance's credentials.
    Credentials,
    /// The request to the target and its answer.
    Target,
    /// The result record, from the target's answer to durable.
    ResultRecord,
    /// Turning the outcome into the HTTP answer.
    Respond,
    /// An append waiting for the writer to take it (behind the commit in flight).
    AppendQueue,
    /// Reading the chain heads a batch continues (none when cached).
    AppendHead,
    /// A batch's insert statements (with the sync when the insert is one statement).
    AppendStatement,
    /// A batch's commit, when it takes one: where the sync happens.
    AppendCommit,
    /// Off the call: one statement copying chain records into the search index. On
    /// SQLite it holds the writer, so an append may queue behind it.
    IndexCopy,
}

impl Stage {
    pub const ALL: [Stage; 15] = [
        Stage::Total,
        Stage::Parse,
        Stage::Authenticate,
        Stage::Resolve,
        Stage::Decide,
        Stage::InterceptRecord,
        Stage::Credentials,
        Stage::Target,
        Stage::ResultRecord,
        Stage::Respond,
        Stage::AppendQueue,
        Stage::AppendHead,
        Stage::AppendStatement,
        Stage::AppendCommit,
        Stage::IndexCopy,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Stage::Total => "total",
            Stage::Parse => "parse",
            Stage::Authenticate => "authenticate",
            Stage::Resolve => "resolve",
            Stage::Decide => "decide",
            Stage::InterceptRecord => "intercept_record",
            Stage::Credentials => "credentials",
            Stage::Target => "target",
            Stage::ResultRecord => "result_record",
            Stage::Respond => "respond",
            Stage::AppendQueue => "append_queue",
            Stage::AppendHead => "append_head",
            Stage::AppendStatement => "append_statement",
            Stage::AppendCommit => "append_commit",
            Stage::IndexCopy => "index_copy",
        }
    }
}

/// Bucket upper bounds in nanoseconds: ten per decade (a ratio of about 1.26), from
/// 1 µs to 10 s, so a percentile read from them is within about 13%.
const BOUNDS_NS: [u64; 71] = {
    const STEPS: [u64; 10] = [100, 125, 160, 200, 250, 320, 400, 500, 630, 800];
    let mut out = [0u64; 71];
    let mut decade = 10; // 1 µs = 100 × 10 ns
    let mut i = 0;
    while i < 70 {
        out[i] = STEPS[i % 10] * decade;
        if i % 10 == 9 {
            decade *= 10;
        }
        i += 1;
    }
    out[70] = 10_000_000_000;
    out
};

struct Histogram {
    /// Observations per bucket (not cumulative); the last one is beyond 10 s.
    buckets: [AtomicU64; BOUNDS_NS.len() + 1],
    sum_ns: AtomicU64,
    count: AtomicU64,
}

impl Histogram {
    const fn new() -> Self {
        Histogram {
            buckets: [const { AtomicU64::new(0) }; BOUNDS_NS.len() + 1],
            sum_ns: AtomicU64::new(0),
            count: AtomicU64::new(0),
        }
    }
}

static HISTOGRAMS: [Histogram; Stage::ALL.len()] = [const { Histogram::new() }; Stage::ALL.len()];

/// Records that `stage` took `took`.
pub fn observe(stage: Stage, took: Duration) {
    let ns = u64::try_from(took.as_nanos()).unwrap_or(u64::MAX);
    let h = &HISTOGRAMS[stage as usize];
    let i = BOUNDS_NS.partition_point(|&b| b < ns);
    h.buckets[i].fetch_add(1, Ordering::Relaxed);
    h.sum_ns.fetch_add(ns, Ordering::Relaxed);
    h.count.fetch_add(1, Ordering::Relaxed);
}

/// Records the time since `since` for `stage`.
pub fn observe_since(stage: Stage, since: Instant) {
    observe(stage, since.elapsed());
}

/// Runs `f`, recording how long it took for `stage` (whatever it returned).
pub async fn timed<T>(stage: Stage, f: impl Future<Output = T>) -> T {
    let started = Instant::now();
    let out = f.await;
    observe_since(stage, started);
    out
}

/// The histograms in the Prometheus text format (cumulative buckets, seconds).
pub fn render_prometheus(out: &mut String) {
    use std::fmt::Write;
    out.push_str(
        "# HELP arx_stage_seconds Time spent in each stage of a governed call and of its audit appends.\n\
         # TYPE arx_stage_seconds histogram\n",
    );
    for stage in Stage::ALL {
        let h = &HISTOGRAMS[stage as usize];
        let name = stage.name();
        let mut cumulative = 0u64;
        for (i, bound) in BOUNDS_NS.iter().enumerate() {
            cumulative += h.buckets[i].load(Ordering::Relaxed);
            let le = *bound as f64 / 1e9;
            let _ = writeln!(
                out,
                "arx_stage_seconds_bucket{{stage=\"{name}\",le=\"{le}\"}} {cumulative}"
            );
        }
        let count = h.count.load(Ordering::Relaxed);
        let sum = h.sum_ns.load(Ordering::Relaxed) as f64 / 1e9;
        let _ = writeln!(
            out,
            "arx_stage_seconds_bucket{{stage=\"{name}\",le=\"+Inf\"}} {count}\n\
             arx_stage_seconds_sum{{stage=\"{name}\"}} {sum}\n\
             arx_stage_seconds_count{{stage=\"{name}\"}} {count}"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_rise_ten_per_decade_from_one_microsecond_to_ten_seconds() {
        assert_eq!(BOUNDS_NS[0], 1_000);
        assert_eq!(BOUNDS_NS[10], 10_000);
        assert_eq!(BOUNDS_NS[69], 8_000_000_000);
        assert!(BOUNDS_NS.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn an_observation_lands_in_the_first_bucket_that_holds_it() {
        // Parse is timed by the server only, never by this crate's other tests.
        observe(Stage::Parse, Duration::from_micros(110));
        let mut out = String::new();
        render_prometheus(&mut out);
        let line = |le: &str| {
            out.lines()
                .find(|l| {
                    l.starts_with(&format!(
                        "arx_stage_seconds_bucket{{stage=\"parse\",le=\"{le}\"}}"
                    ))
                })
                .map(|l| l.rsplit(' ').next().unwrap_or("").to_string())
        };
        assert_eq!(line("0.0001").as_deref(), Some("0"));
        assert_eq!(line("0.000125").as_deref(), Some("1"));
        assert_eq!(line("+Inf").as_deref(), Some("1"));
        assert!(out.contains("arx_stage_seconds_sum{stage=\"parse\"} 0.00011\n"));
    }
}
