//! `arx audit verify` and `arx audit export`: walking a chain in order, from the
//! database or from an NDJSON export, and naming the first record that breaks it.

use std::collections::BTreeMap;
use std::io::{BufRead, Write};

use super::Engine;
use crate::audit::{AuditRecord, ChainBreak, ChainHead, LineCheck, Verifier};
use crate::error::CoreError;
use crate::ids::OrgId;

const PAGE: u32 = 5_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    pub records: u64,
    /// The first seq checked (1 unless a range export).
    pub first_seq: i64,
    pub head: ChainHead,
    /// How many witnessed checkpoints the records reached and matched.
    pub witnessed: u64,
}

impl Engine {
    /// Calls `f` on every record of an org's chain, oldest first, a page at a time;
    /// stops early when `f` says so.
    async fn walk_chain(
        &self,
        org: OrgId,
        f: impl FnMut(&AuditRecord) -> Result<bool, CoreError>,
    ) -> Result<(), CoreError> {
        self.walk_chain_from(org, 0, f).await
    }

    /// As [`Engine::walk_chain`], from the record after `after`.
    async fn walk_chain_from(
        &self,
        org: OrgId,
        mut after: i64,
        mut f: impl FnMut(&AuditRecord) -> Result<bool, CoreError>,
    ) -> Result<(), CoreError> {
        loop {
            let page = self.store.audit_after(org, after, PAGE).await?;
            let Some(last) = page.last() else {
                return Ok(());
            };
            after = last.seq;
            for r in &page {
                if !f(r)? {
                    return Ok(());
                }
            }
        }
    }

    /// Verifies an org's chain as stored, and that it ends at the recorded head.
    pub(crate) async fn verify_org(
        &self,
        org: OrgId,
    ) -> Result<Result<VerifyReport, ChainBreak>, CoreError> {
        let tip = self.store.chain_head(org).await?;
        let mut v = Verifier::default();
        let (mut n, mut broken) = (0u64, None);
        self.walk_chain(org, |r| {
            match v.push(r) {
                Ok(()) => n += 1,
                Err(b) => broken = Some(b),
            }
            Ok(broken.is_none())
        })
        .await?;
        if let Some(b) = broken {
            return Ok(Err(b));
        }
        Ok(v.finish(&tip).map(|()| VerifyReport {
            records: n,
            first_seq: 1,
            head: v.head().clone(),
            witnessed: 0,
        }))
    }

    /// Writes an org's chain, or the part of it `range` names, as NDJSON, oldest first:
    /// one record per line in canonical form (docs/audit.md). A range is contiguous: it
    /// starts at the first record at or after its start and stops before the first
    /// after its end, so it verifies as a piece of the chain. How many records.
    pub(crate) async fn export_org(
        &self,
        org: OrgId,
        range: ExportRange,
        out: &mut dyn Write,
    ) -> Result<u64, CoreError> {
        let mut n = 0u64;
        self.walk_chain_from(org, range.first_seq.max(1) - 1, |r| {
            if r.seq < range.first_seq {
                return Ok(true);
            }
            let ts = r.ts_ms();
            if n == 0 && range.from_ms.is_some_and(|from| ts < from) {
                return Ok(true);
            }
            if range.last_seq.is_some_and(|last| r.seq > last)
                || range.to_ms.is_some_and(|to| ts > to)
            {
                return Ok(false);
            }
            let line = crate::audit::export_line(r)?;
            writeln!(out, "{line}").map_err(|e| CoreError::internal("export write", e))?;
            n += 1;
            Ok(true)
        })
        .await?;
        Ok(n)
    }
}

/// Which part of a chain an export holds; the default is all of it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ExportRange {
    /// The first seq (0 or 1: from the start).
    pub first_seq: i64,
    pub last_seq: Option<i64>,
    /// From the first record at or after this time (ms since the epoch).
    pub from_ms: Option<i64>,
    /// Up to the last record before the first one after this time.
    pub to_ms: Option<i64>,
}

/// What an export is checked against beyond the chain rules.
#[derive(Debug, Clone, Default)]
pub struct ExportCheck {
    /// Witnessed checkpoints: seq and the hash signed.
    pub witnessed: BTreeMap<i64, String>,
    /// Accept an export that starts after seq 1 (a range export): it is checked from
    /// its first record's `prev_hash` on.
    pub partial: bool,
}

/// Lines read and checked at once.
const CHUNK: usize = 8192;

/// Non-blank lines of an export and their line numbers.
struct Chunk {
    lines: Vec<String>,
    numbers: Vec<usize>,
}

/// Reads up to [`CHUNK`] non-blank lines into `lines` (whose buffers are reused); `None`
/// at the end.
fn read_chunk(
    input: &mut impl BufRead,
    line_no: &mut usize,
    mut lines: Vec<String>,
) -> std::io::Result<Option<Chunk>> {
    let mut numbers = Vec::with_capacity(CHUNK);
    let mut filled = 0;
    while filled < CHUNK {
        if lines.len() == filled {
            lines.push(String::new());
        }
        let buf = &mut lines[filled];
        buf.clear();
        if input.read_line(buf)? == 0 {
            break;
        }
        *line_no += 1;
        let text_len = buf.trim_end_matches(['\n', '\r']).len();
        buf.truncate(text_len);
        if buf.trim().is_empty() {
            continue;
        }
        numbers.push(*line_no);
        filled += 1;
    }
    lines.truncate(filled);
    Ok((filled > 0).then_some(Chunk { lines, numbers }))
}

/// Each line's own check, by `threads` threads. A part whose thread failed is checked
/// the general way, line by line: every line is checked whatever happens.
fn check_lines(lines: &[String], threads: usize) -> Vec<LineCheck> {
    if threads < 2 || lines.len() < 256 {
        return lines.iter().map(|l| LineCheck::of(l)).collect();
    }
    std::thread::scope(|s| {
        let parts: Vec<_> = lines
            .chunks(lines.len().div_ceil(threads))
            .map(|part| {
                let h = s.spawn(move || part.iter().map(|l| LineCheck::of(l)).collect::<Vec<_>>());
                (part.len(), h)
            })
            .collect();
        parts
            .into_iter()
            .flat_map(|(len, h)| h.join().unwrap_or_else(|_| vec![LineCheck::Decode; len]))
            .collect()
    })
}

/// Verifies an NDJSON export line by line. A line that is not a record breaks the chain
/// at the seq it should have had.
///
/// One thread reads (and decompresses) chunks of lines while the others check the
/// previous chunk: each line's hash on its own, by as many threads as the machine has
/// (up to 8), then the links in order.
pub fn verify_export(
    input: impl BufRead + Send,
    check: ExportCheck,
) -> Result<VerifyReport, ChainBreak> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(8));
    std::thread::scope(|scope| {
        let (chunks, from_reader) = std::sync::mpsc::sync_channel(2);
        let (recycle, spare) = std::sync::mpsc::channel::<Vec<String>>();
        scope.spawn(move || {
            let mut input = input;
            let mut line_no = 0usize;
            loop {
                let lines = spare.try_recv().unwrap_or_default();
                let next = read_chunk(&mut input, &mut line_no, lines);
                let last = !matches!(next, Ok(Some(_)));
                let sent = match next {
                    Ok(Some(c)) => chunks.send(Ok(c)),
                    Ok(None) => return,
                    Err(e) => chunks.send(Err(format!("line {}: {e}", line_no + 1))),
                };
                if sent.is_err() || last {
                    return;
                }
            }
        });
        let mut v: Option<Verifier> = None;
        let mut n = 0u64;
        let mut first_seq = 1;
        for chunk in from_reader {
            let chunk = chunk.map_err(|problem| ChainBreak {
                seq: v.as_ref().map_or(1, |v| v.head().seq + 1),
                problem,
            })?;
            let checks = check_lines(&chunk.lines, threads);
            for ((text, c), no) in chunk.lines.iter().zip(checks).zip(&chunk.numbers) {
                let verifier = match &mut v {
                    Some(v) => v,
                    None => {
                        let start = if check.partial {
                            start_of(text).unwrap_or_else(ChainHead::genesis)
                        } else {
                            ChainHead::genesis()
                        };
                        first_seq = start.seq + 1;
                        v.insert(Verifier::after(start).with_witnessed(check.witnessed.clone()))
                    }
                };
                verifier.push_checked(text, c).map_err(|mut b| {
                    b.problem = format!("line {no}: {}", b.problem);
                    b
                })?;
                n += 1;
            }
            let _ = recycle.send(chunk.lines);
        }
        let v = v.unwrap_or_else(|| Verifier::default().with_witnessed(check.witnessed.clone()));
        v.finish_witnessed()?;
        Ok(VerifyReport {
            records: n,
            first_seq,
            head: v.head().clone(),
            witnessed: v.matched(),
        })
    })
}

/// Where a range export's first line says it follows on.
fn start_of(line: &str) -> Option<ChainHead> {
    #[derive(serde::Deserialize)]
    struct Start {
        seq: i64,
        prev_hash: String,
    }
    let s: Start = serde_json::from_str(line).ok()?;
    Some(ChainHead {
        seq: s.seq - 1,
        hash: s.prev_hash,
    })
}
