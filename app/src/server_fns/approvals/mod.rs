//! The approval queue, one request as a reviewer sees it, and deciding it.

mod decide;
mod detail;
mod queue;

pub use decide::*;
pub use detail::*;
pub use queue::*;

#[cfg(feature = "ssr")]
pub mod ssr {
    use arx_core::model::ApprovalRequest;

    use crate::server_fns::ssr::{AgentNames, agent_name, format_ms};
    use crate::types::ApprovalRow;

    pub fn row(a: &ApprovalRequest, names: &AgentNames, now_ms: i64) -> ApprovalRow {
        ApprovalRow {
            id: a.id.to_string(),
            agent: agent_name(names, a.agent_id),
            connector: a.connector.clone(),
            operation: a.operation.clone(),
            risk: a.risk_score,
            rule: a.policy_id.clone(),
            status: a.status.as_str().into(),
            created: format_ms(a.created_ms),
            remaining_secs: ((a.expires_ms - now_ms) / 1000).max(0),
            decided_by: a.decided_by.join(", "),
        }
    }
}
