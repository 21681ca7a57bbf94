//! The queue (pending) or the history (decided), filtered and sorted.

use leptos::prelude::*;

use crate::types::ApprovalRow;

/// `view`: `pending` or `history`; `sort`: `expiry`, `risk` or `newest`.
#[server]
pub async fn approval_queue(
    view: String,
    connector: String,
    min_risk: String,
    sort: String,
) -> Result<Vec<ApprovalRow>, ServerFnError> {
    use super::ssr::row;
    use crate::server_fns::ssr::{engine, principal, to_error};
    let p = principal().await?;
    let engine = engine();
    let r = engine.reader(&p);
    let pending = view != "history";
    let min_risk: u8 = min_risk.trim().parse().unwrap_or(0);
    let now = engine.now_ms();
    let shown: Vec<_> = r
        .approvals(pending.then_some(arx_core::model::ApprovalStatus::Pending))
        .await
        .map_err(to_error)?
        .into_iter()
        .filter(|a| pending || a.status.as_str() != "pending")
        .filter(|a| connector.is_empty() || a.connector == connector)
        .filter(|a| a.risk_score >= min_risk)
        .collect();
    let names = r
        .agent_names(shown.iter().map(|a| a.agent_id))
        .await
        .map_err(to_error)?;
    let mut rows: Vec<_> = shown
        .into_iter()
        .map(|a| (a.expires_ms, a.created_ms, row(&a, &names, now)))
        .collect();
    match sort.as_str() {
        "risk" => rows.sort_by_key(|(_, c, r)| (std::cmp::Reverse(r.risk), std::cmp::Reverse(*c))),
        "newest" => rows.sort_by_key(|(_, c, _)| std::cmp::Reverse(*c)),
        _ if pending => rows.sort_by_key(|(e, _, _)| *e),
        _ => rows.sort_by_key(|(_, c, _)| std::cmp::Reverse(*c)),
    }
    Ok(rows.into_iter().map(|(_, _, r)| r).collect())
}
