//! Offline verification speed (issue 13, point 5: at least 500,000 records/s). Makes
//! `ARX_BENCH_RECORDS` (default 2,000,000) realistic records, seals them into one chain
//! in memory (the same `seal` the store uses), writes them as `arx audit export` does
//! (one canonical line each), then times `verify_export`, the function behind
//! `arx audit verify --export`: on the plain file, on the gzipped file, with a witnessed
//! checkpoint every 1,000 records, and on the same records written in serde's own
//! spelling (not canonical: each line decoded and canonicalized). Best of three runs
//! each; prints records/s and MB/s of the best run, and the median run's time; asserts only that every run verifies.
//!
//! `cargo bench -p arx-server --bench audit_verify`

use std::collections::BTreeMap;
use std::io::{BufReader, Write};
use std::time::Instant;

use arx_core::audit::{ChainHead, seal};
use arx_core::engine::{ExportCheck, verify_export};
use flate2::read::MultiGzDecoder;

#[path = "common/mod.rs"]
mod common;
#[path = "records/mod.rs"]
mod records;
use common::{demo_org, ms, pct};
use records::{Rng, call, templates};

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let n: usize = std::env::var("ARX_BENCH_RECORDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2_000_000);
    let (running, _) = common::start().await;
    let demo = running.demo.as_ref().expect("demo");
    let base = format!("http://{}", running.addr);
    let org = demo_org(&running).await;
    let t = templates(&running, org, &reqwest::Client::new(), &base, demo).await;

    let dir = std::env::temp_dir().join(format!("arx-verify-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).expect("dir");
    let canonical = dir.join("chain.ndjson");
    let plain = dir.join("chain-serde.ndjson");
    let gz = dir.join("chain.ndjson.gz");
    let (mut a, mut b) = (
        std::io::BufWriter::new(std::fs::File::create(&canonical).expect("file")),
        std::io::BufWriter::new(std::fs::File::create(&plain).expect("file")),
    );
    let mut z = flate2::write::GzEncoder::new(
        std::io::BufWriter::new(std::fs::File::create(&gz).expect("file")),
        flate2::Compression::default(),
    );
    let mut head = ChainHead::genesis();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut witnessed = BTreeMap::new();
    let mut ts_ms = 1_780_000_000_000i64;
    let mut written = 0usize;
    let made = Instant::now();
    while written < n {
        let mut drafts = Vec::with_capacity(8);
        ts_ms += 1 + rng.below(40) as i64;
        call(&mut rng, &t, org, ts_ms, &mut drafts);
        for d in drafts.into_iter().take(n - written) {
            let (r, line) = seal(&mut head, d).expect("seal");
            writeln!(a, "{line}").expect("write");
            writeln!(z, "{line}").expect("write");
            writeln!(b, "{}", serde_json::to_string(&r).expect("json")).expect("write");
            if r.seq % 1000 == 0 {
                witnessed.insert(r.seq, r.hash.clone());
            }
            written += 1;
        }
    }
    a.flush().expect("flush");
    b.flush().expect("flush");
    z.finish().and_then(|mut f| f.flush()).expect("gzip");
    let size = |p: &std::path::Path| std::fs::metadata(p).expect("size").len();
    println!(
        "verify benchmark: {n} records made and sealed in {:.1} s; export {:.0} MiB ({:.0} bytes a record), gzipped {:.0} MiB",
        made.elapsed().as_secs_f64(),
        size(&canonical) as f64 / 1_048_576.0,
        size(&canonical) as f64 / n as f64,
        size(&gz) as f64 / 1_048_576.0,
    );

    let runs: [(&str, &std::path::Path, bool, bool); 4] = [
        (
            "export as written (canonical lines)",
            &canonical,
            false,
            false,
        ),
        ("the same, gzipped", &gz, true, false),
        (
            "with a witnessed checkpoint every 1,000",
            &canonical,
            false,
            true,
        ),
        (
            "serde's spelling (decode + canonicalize)",
            &plain,
            false,
            false,
        ),
    ];
    println!(
        "\n{:<45} {:>14} {:>10} {:>14}",
        "input", "records/s", "MB/s", "median run"
    );
    for (name, path, gzipped, with_witness) in runs {
        let mut times = Vec::new();
        for _ in 0..3 {
            let f = std::fs::File::open(path).expect("open");
            let check = ExportCheck {
                witnessed: if with_witness {
                    witnessed.clone()
                } else {
                    BTreeMap::new()
                },
                partial: false,
            };
            let t0 = Instant::now();
            let report = if gzipped {
                verify_export(
                    BufReader::with_capacity(1 << 20, MultiGzDecoder::new(f)),
                    check,
                )
            } else {
                verify_export(BufReader::with_capacity(1 << 20, f), check)
            }
            .expect("the chain verifies");
            times.push(t0.elapsed());
            assert_eq!(report.records, n as u64);
        }
        times.sort();
        let secs = times[0].as_secs_f64();
        println!(
            "{name:<45} {:>14.0} {:>10.0} {:>14}",
            n as f64 / secs,
            size(&canonical) as f64 / 1e6 / secs,
            ms(pct(&times, 0.5))
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
