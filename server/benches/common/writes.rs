//! What an audit append writes, so the execute benchmark can say why an append costs
//! what it does: on SQLite, the pages one commit puts in the WAL, by the b-tree they
//! belong to, next to a raw write and sync of as many bytes on the same disk; on
//! PostgreSQL, the WAL records, bytes and syncs per governed call (`pg_stat_wal`).

use std::collections::BTreeMap;
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use sqlx::{AnyPool, Connection, Row, SqliteConnection};

use super::pct;

/// How many intercept and result appends are replayed on the copy, and how many before
/// those to warm its page cache.
const REPLAYS: usize = 20;
const WARM_UP: usize = 10;

/// PostgreSQL's WAL counters (`pg_stat_wal`), or nothing on SQLite.
#[derive(Debug, Clone, Copy, Default)]
pub struct Wal {
    records: i64,
    fpi: i64,
    bytes: i64,
    syncs: i64,
}

impl Wal {
    /// The counters now, on PostgreSQL. Backends report them at most once a second, so
    /// this waits that long first.
    pub async fn read(pool: &AnyPool, postgres: bool) -> Option<Wal> {
        if !postgres {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(1_100)).await;
        let row = sqlx::query(
            "SELECT wal_records, wal_fpi, wal_bytes::BIGINT AS wal_bytes, wal_sync FROM pg_stat_wal",
        )
        .fetch_one(pool)
        .await
        .expect("pg_stat_wal");
        Some(Wal {
            records: row.get(0),
            fpi: row.get(1),
            bytes: row.get(2),
            syncs: row.get(3),
        })
    }

    /// Prints what `calls` governed calls wrote between `before` and `self`.
    pub fn print_since(&self, before: &Wal, calls: usize) {
        let per = |a: i64, b: i64| (a - b) as f64 / calls as f64;
        println!(
            "PostgreSQL WAL per governed call (pg_stat_wal over the one-at-a-time calls): {:.1} records (a heap tuple or an index entry each), {:.2} full-page images, {:.0} bytes, {:.2} syncs",
            per(self.records, before.records),
            per(self.fpi, before.fpi),
            per(self.bytes, before.bytes),
            per(self.syncs, before.syncs),
        );
    }
}

/// On SQLite: replays the newest intercept and result appends on a copy of the database
/// (the same rows, the same triggers, `synchronous=FULL`) and reads back what each commit
/// put in the WAL. Prints pages per commit by b-tree and the raw cost of writing and
/// syncing as many bytes on the same disk.
pub async fn print_sqlite_commits(pool: &AnyPool) {
    let file: String = sqlx::query("SELECT file FROM pragma_database_list WHERE name = 'main'")
        .fetch_one(pool)
        .await
        .expect("database file")
        .get(0);
    sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
        .execute(pool)
        .await
        .expect("checkpoint");
    let copy = PathBuf::from(format!("{file}.probe"));
    std::fs::copy(&file, &copy).expect("copy the database");
    let mut db = SqliteConnection::connect(&format!("sqlite://{}", copy.display()))
        .await
        .expect("open the copy");
    for pragma in [
        "PRAGMA journal_mode = WAL",
        "PRAGMA synchronous = FULL",
        "PRAGMA wal_autocheckpoint = 0",
    ] {
        sqlx::query(pragma).execute(&mut db).await.expect(pragma);
    }
    let newest = |kind: &'static str| {
        format!(
            "SELECT org_id, seq, id FROM audit_records WHERE kind = '{kind}' ORDER BY rowid DESC LIMIT 1"
        )
    };
    let mut commits: Vec<Commit> = Vec::new();
    let wal = PathBuf::from(format!("{}-wal", copy.display()));
    for i in 0..WARM_UP + REPLAYS {
        for kind in ["execute.intercept", "execute.result"] {
            let row = sqlx::query(&newest(kind))
                .fetch_one(&mut db)
                .await
                .expect("a record to replay");
            let (org, seq, id): (String, i64, String) = (row.get(0), row.get(1), row.get(2));
            let new_id = format!("{id}-replay-{i}");
            let mut tx = db.begin().await.expect("begin");
            let steps = [
                sqlx::query("CREATE TEMP TABLE replay AS SELECT * FROM audit_records WHERE org_id = $1 AND seq = $2")
                    .bind(&org)
                    .bind(seq),
                sqlx::query("UPDATE replay SET seq = (SELECT seq + 1 FROM chain_heads WHERE org_id = $1), id = $2")
                    .bind(&org)
                    .bind(&new_id),
                sqlx::query("INSERT INTO audit_records SELECT * FROM replay"),
                sqlx::query("DROP TABLE replay"),
                sqlx::query("INSERT INTO response_bodies SELECT org_id, $1, intercept_id, sha256, bytes, body, created_ms, purged_ms FROM response_bodies WHERE org_id = $2 AND record_id = $3")
                    .bind(&new_id)
                    .bind(&org)
                    .bind(&id),
            ];
            let mut work = Duration::ZERO;
            for (i, q) in steps.into_iter().enumerate() {
                let t = Instant::now();
                q.execute(&mut *tx).await.expect("replay an append");
                if i == 2 || i == 4 {
                    work += t.elapsed();
                }
            }
            let t = Instant::now();
            tx.commit().await.expect("commit");
            let sync = t.elapsed();
            // The commit's frames are the WAL's since the last restart; restarting it
            // makes the next commit overwrite the file from its start, as the server's
            // checkpointer has it.
            let pages = frames(&wal);
            sqlx::query("PRAGMA wal_checkpoint(RESTART)")
                .execute(&mut db)
                .await
                .expect("restart the WAL");
            if i >= WARM_UP {
                commits.push(Commit {
                    kind,
                    pages,
                    work,
                    sync,
                });
            }
        }
    }
    let owners: BTreeMap<u32, String> = sqlx::query("SELECT pageno, name FROM dbstat")
        .fetch_all(&mut db)
        .await
        .expect("dbstat (SQLITE_ENABLE_DBSTAT_VTAB)")
        .iter()
        .map(|r| (r.get::<i64, _>(0) as u32, r.get::<String, _>(1)))
        .collect();
    db.close().await.expect("close");

    println!(
        "\nSQLite: what one append commits ({REPLAYS} intercept and {REPLAYS} result appends replayed on a copy of the database after {WARM_UP} of each, synchronous=FULL, the WAL overwritten from its start as the checkpointer has it)"
    );
    let mut all_pages = Vec::new();
    for kind in ["execute.intercept", "execute.result"] {
        let mine: Vec<&Commit> = commits.iter().filter(|c| c.kind == kind).collect();
        let mean = mine.iter().map(|c| c.pages.len()).sum::<usize>() as f64 / mine.len() as f64;
        all_pages.push(mean);
        let mut by: BTreeMap<&str, usize> = BTreeMap::new();
        for p in mine.iter().flat_map(|c| c.pages.iter()) {
            *by.entry(owners.get(p).map_or("(other)", String::as_str))
                .or_default() += 1;
        }
        let mut by: Vec<(&str, usize)> = by.into_iter().collect();
        by.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        let list: Vec<String> = by
            .iter()
            .map(|(n, c)| format!("{n} {:.1}", *c as f64 / mine.len() as f64))
            .collect();
        let median = |f: fn(&Commit) -> Duration| {
            let mut d: Vec<Duration> = mine.iter().map(|c| f(c)).collect();
            d.sort();
            pct(&d, 0.5).as_micros()
        };
        println!(
            "  {kind}: the INSERTs p50 {} µs (in the page cache), the commit p50 {} µs (WAL frames written and synced; here each commit follows a WAL restart, so it also syncs the WAL header); {mean:.1} pages (4 KiB each) per commit: {}",
            median(|c| c.work),
            median(|c| c.sync),
            list.join(", ")
        );
    }
    let pages = (all_pages.iter().sum::<f64>() / all_pages.len() as f64).round() as usize;
    for n in [1, pages] {
        let (p50, p99) = raw_write_sync(Path::new(&file).with_extension("rawsync"), n);
        println!(
            "  a raw write of {n} page(s) and its fsync on the same disk (overwriting, 500 times): p50 {} µs, p99 {} µs",
            p50.as_micros(),
            p99.as_micros()
        );
    }
    let _ = std::fs::remove_file(&copy);
    let _ = std::fs::remove_file(&wal);
    let _ = std::fs::remove_file(format!("{}-shm", copy.display()));
}

/// One replayed append: what it wrote and how long its parts took.
struct Commit {
    kind: &'static str,
    pages: Vec<u32>,
    /// The INSERT statements, before the commit.
    work: Duration,
    /// The commit: the WAL frames written and synced.
    sync: Duration,
}

/// The page numbers of the frames in the WAL at `path`, in order (from its header on).
fn frames(path: &Path) -> Vec<u32> {
    let Ok(bytes) = std::fs::read(path) else {
        return Vec::new();
    };
    if bytes.len() < 32 {
        return Vec::new();
    }
    let page_size = u32::from_be_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize;
    let salts = &bytes[16..24];
    let mut out = Vec::new();
    let mut at = 32;
    while at + 24 + page_size <= bytes.len() && &bytes[at + 8..at + 16] == salts {
        out.push(u32::from_be_bytes([
            bytes[at],
            bytes[at + 1],
            bytes[at + 2],
            bytes[at + 3],
        ]));
        at += 24 + page_size;
    }
    out
}

/// p50 and p99 of writing `pages` pages at the start of a file and syncing it.
fn raw_write_sync(path: PathBuf, pages: usize) -> (Duration, Duration) {
    let mut f = std::fs::File::create(&path).expect("raw sync file");
    let buf = vec![7u8; pages * 4096];
    let mut took = Vec::with_capacity(500);
    for _ in 0..500 {
        let t = Instant::now();
        f.seek(SeekFrom::Start(0)).expect("seek");
        f.write_all(&buf).expect("write");
        f.sync_all().expect("fsync");
        took.push(t.elapsed());
    }
    took.sort();
    let _ = std::fs::remove_file(&path);
    (pct(&took, 0.5), pct(&took, 0.99))
}
