//! `arx audit verify` and `arx audit export`: walking a chain in order, from the
//! database or from an NDJSON export, and naming the first record that breaks it.

use std::io::{BufRead, Write};

use super::Engine;
use crate::audit::{AuditRecord, ChainBreak, ChainHead, Verifier};
use crate::error::CoreError;
use crate::ids::OrgId;

const PAGE: u32 = 5_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    pub records: u64,
    pub head: ChainHead,
}

impl Engine {
    /// Calls `f` on every record of an org's chain, oldest first, a page at a time;
    /// stops early when `f` says so.
    async fn walk_chain(
        &self,
        org: OrgId,
        mut f: impl FnMut(&AuditRecord) -> Result<bool, CoreError>,
    ) -> Result<(), CoreError> {
        let mut after = 0;
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
            head: v.head().clone(),
        }))
    }

    /// Writes an org's chain as NDJSON, oldest first; returns how many records.
    pub(crate) async fn export_org(
        &self,
        org: OrgId,
        out: &mut dyn Write,
    ) -> Result<u64, CoreError> {
        let mut n = 0u64;
        self.walk_chain(org, |r| {
            let line =
                serde_json::to_string(r).map_err(|e| CoreError::internal("export encode", e))?;
            writeln!(out, "{line}").map_err(|e| CoreError::internal("export write", e))?;
            n += 1;
            Ok(true)
        })
        .await?;
        Ok(n)
    }
}

/// Verifies an NDJSON export line by line. A line that is not a record breaks the chain
/// at the seq it should have had.
pub fn verify_export(input: impl BufRead) -> Result<VerifyReport, ChainBreak> {
    let mut v = Verifier::default();
    let mut n = 0u64;
    for (i, line) in input.lines().enumerate() {
        let expected = v.head().seq + 1;
        let line = line.map_err(|e| ChainBreak {
            seq: expected,
            problem: format!("line {}: {e}", i + 1),
        })?;
        if line.trim().is_empty() {
            continue;
        }
        let r: AuditRecord = serde_json::from_str(&line).map_err(|e| ChainBreak {
            seq: expected,
            problem: format!("line {} is not an audit record: {e}", i + 1),
        })?;
        v.push(&r)?;
        n += 1;
    }
    Ok(VerifyReport {
        records: n,
        head: v.head().clone(),
    })
}
