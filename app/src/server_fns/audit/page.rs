//! The audit search as the console asks it: the page's query string read as the API's
//! `GET /v1/admin/audit` reads its own, so a console URL and an API call mean the same.

use leptos::prelude::*;

use crate::types::{AuditRecordPage, AuditSearchView};

/// One page of the search in `query` (the page's query string; empty values are no filter).
#[server]
pub async fn search_audit(query: String) -> Result<AuditSearchView, ServerFnError> {
    use super::super::ssr::{audit_row, engine, invalid, principal, to_error};
    let p = principal().await?;
    let engine = engine();
    let r = engine.reader(&p);
    let kept: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
        .filter(|(_, v)| !v.trim().is_empty())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let encoded = serde_urlencoded::to_string(&kept).unwrap_or_default();
    let search: arx_core::engine::AuditSearch = serde_urlencoded::from_str(&encoded)
        .map_err(|e| invalid(format!("this search cannot be read: {e}")))?;
    let found = r.audit_search(&search).await.map_err(to_error)?;
    let facets = |f: &[arx_core::store::Facet]| -> Vec<(String, i64)> {
        f.iter().map(|f| (f.value.clone(), f.count)).collect()
    };
    Ok(AuditSearchView {
        rows: found.records.iter().map(audit_row).collect(),
        verdicts: facets(&found.facets.verdicts),
        connectors: facets(&found.facets.connectors),
        facets_limited: found
            .facets
            .limited
            .then_some(arx_core::store::FACET_WINDOW),
        next_cursor: found.next_cursor,
        total: r.audit_count().await.map_err(to_error)?,
        can_read_responses: engine.responses(&p).is_ok(),
    })
}

/// One record with its links (`/audit/record?id=…`).
#[server]
pub async fn fetch_audit_record(id: String) -> Result<AuditRecordPage, ServerFnError> {
    use super::super::ssr::{audit_row, engine, invalid, principal, to_error};
    let p = principal().await?;
    let id = id
        .parse()
        .map_err(|_| invalid("that record id is not valid"))?;
    let engine = engine();
    let v = engine
        .reader(&p)
        .audit_record_view(id)
        .await
        .map_err(to_error)?;
    Ok(AuditRecordPage {
        row: audit_row(&v.record),
        actor_kind: v.record.actor.kind.clone(),
        actor_id: v.record.actor.id.clone(),
        intercept: v.intercept.map(|i| i.to_string()),
        results: v.results.iter().map(ToString::to_string).collect(),
        approval: v.approval.map(|a| a.to_string()),
        agent_id: v.agent.map(|a| a.to_string()),
        can_read_responses: engine.responses(&p).is_ok(),
    })
}
