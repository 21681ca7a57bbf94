//! One page of the audit trail, newest first.

use leptos::prelude::*;

use crate::types::AuditPage;

pub const PAGE_SIZE: u32 = 50;

#[server]
pub async fn fetch_audit_page(before: Option<i64>) -> Result<AuditPage, ServerFnError> {
    use super::super::ssr::{audit_row, engine, principal, to_error};
    let p = principal().await?;
    let engine = engine();
    let r = engine.reader(&p);
    let records = r.audit_page(before, PAGE_SIZE).await.map_err(to_error)?;
    let older = records
        .last()
        .map(|r| r.seq)
        .filter(|&s| s > 1 && records.len() == PAGE_SIZE as usize);
    Ok(AuditPage {
        rows: records.iter().map(audit_row).collect(),
        total: r.audit_count().await.map_err(to_error)?,
        older,
        can_read_responses: engine.responses(&p).is_ok(),
    })
}
