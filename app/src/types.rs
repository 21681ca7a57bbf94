//! What pages receive from server functions: plain, serializable view data.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Me {
    pub email: String,
    pub name: String,
    pub role: String,
    pub org_slug: String,
    pub is_admin: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentRow {
    pub id: String,
    pub name: String,
    pub description: String,
    pub owner: String,
    pub labels: Vec<(String, String)>,
    pub status: String,
    pub declared_rate: u32,
    pub created: String,
    pub active_keys: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditRow {
    pub seq: i64,
    pub ts: String,
    pub kind: String,
    pub actor: String,
    pub agent: Option<String>,
    pub connector: Option<String>,
    pub operation: Option<String>,
    pub verdict: Option<String>,
    pub risk: Option<u8>,
    pub tier: Option<String>,
    pub hash: String,
    pub prev_hash: String,
    /// The record's fields, pretty-printed.
    pub details: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditPage {
    pub rows: Vec<AuditRow>,
    pub total: i64,
    /// `before` of the next (older) page.
    pub older: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InstanceRow {
    pub connector: String,
    pub display_name: String,
    pub category: String,
    pub name: String,
    pub environment: String,
    pub sensitivity: u8,
    pub credentials_set: bool,
    pub operations: Vec<OperationRow>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OperationRow {
    pub id: String,
    pub method: String,
    pub tier: String,
    pub description: String,
    pub writes: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PendingApproval {
    pub id: String,
    pub agent: String,
    pub connector: String,
    pub operation: String,
    pub risk: u8,
    pub created: String,
    pub expires: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Overview {
    pub agents: usize,
    pub active_agents: usize,
    pub instances: usize,
    pub records: i64,
    pub pending_approvals: usize,
    /// Verdicts of the most recent intercepts: (permit, escalate, deny).
    pub verdicts: (u32, u32, u32),
    pub recent: Vec<AuditRow>,
}

/// A one-shot message after a form post; `secret` is shown once (a new API key).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Flash {
    pub ok: bool,
    pub message: String,
    pub secret: Option<String>,
}
