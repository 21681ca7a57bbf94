//! The pending approval queue (read-only until reviewing lands).

use leptos::prelude::*;

use crate::types::PendingApproval;

#[server]
pub async fn pending_approvals() -> Result<Vec<PendingApproval>, ServerFnError> {
    use super::super::ssr::{engine, format_ms, principal, to_error};
    let p = principal().await?;
    let engine = engine();
    let r = engine.reader(&p);
    let agents = r.agents().await.map_err(to_error)?;
    Ok(r.approvals(Some("pending"))
        .await
        .map_err(to_error)?
        .into_iter()
        .map(|a| PendingApproval {
            id: a.id.to_string(),
            agent: agents
                .iter()
                .find(|g| g.id == a.agent_id)
                .map(|g| g.name.clone())
                .unwrap_or_default(),
            connector: a.connector,
            operation: a.operation,
            risk: a.risk_score,
            created: format_ms(a.created_ms),
            expires: format_ms(a.expires_ms),
        })
        .collect())
}
