//! Policy simulations' reports: what a replay of a proposed policy found, as stored and
//! as shown. The replay itself is [`crate::engine`]'s (`simulate`).

use serde::{Deserialize, Serialize};

pub use crate::ids::SimId;
use crate::policy::Verdict;

/// A running job whose report is older than this is shown as failed.
pub(crate) const STALE_MS: i64 = 60_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SimStatus {
    Running,
    Done,
    Cancelled,
    Failed,
}

impl SimStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            SimStatus::Running => "running",
            SimStatus::Done => "done",
            SimStatus::Cancelled => "cancelled",
            SimStatus::Failed => "failed",
        }
    }
}

/// The time range replayed, in Unix milliseconds; by default the last 30 days.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SimRange {
    pub from_ms: Option<i64>,
    pub to_ms: Option<i64>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SimCounts {
    pub permit: u64,
    pub escalate: u64,
    pub deny: u64,
}

impl SimCounts {
    pub(crate) fn add(&mut self, v: Verdict) {
        match v {
            Verdict::Permit => self.permit += 1,
            Verdict::Escalate => self.escalate += 1,
            Verdict::Deny => self.deny += 1,
        }
    }

    pub fn total(&self) -> u64 {
        self.permit + self.escalate + self.deny
    }
}

/// Per deciding rule (or org default): what it decided then, what it would decide now.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SimRuleRow {
    pub policy_id: String,
    pub was: SimCounts,
    pub would: SimCounts,
}

/// A call whose verdict would change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SimChange {
    pub audit_id: String,
    pub seq: i64,
    pub ts: String,
    pub agent: String,
    pub connector: String,
    pub operation: String,
    pub risk_score: u8,
    pub was: Verdict,
    pub was_policy: String,
    pub would: Verdict,
    pub would_policy: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SimulationReport {
    pub id: SimId,
    pub status: SimStatus,
    pub from_ms: i64,
    pub to_ms: i64,
    /// Intercept records in the range read so far, of `total`.
    pub scanned: u64,
    pub total: u64,
    /// Intercept records replayed.
    pub replayed: u64,
    pub was: SimCounts,
    pub would: SimCounts,
    pub rules: Vec<SimRuleRow>,
    pub changed_total: u64,
    /// The first changed calls, oldest first.
    pub changed: Vec<SimChange>,
    pub error: Option<String>,
    pub started_ms: i64,
    pub finished_ms: Option<i64>,
    /// What the proposal changes against the policy in force.
    pub proposal: String,
}

impl SimulationReport {
    /// A job that has read nothing yet of the `total` records in `from_ms..=to_ms`.
    pub fn new(from_ms: i64, to_ms: i64, total: u64, started_ms: i64, proposal: String) -> Self {
        SimulationReport {
            id: SimId::new(),
            status: SimStatus::Running,
            from_ms,
            to_ms,
            scanned: 0,
            total,
            replayed: 0,
            was: SimCounts::default(),
            would: SimCounts::default(),
            rules: vec![],
            changed_total: 0,
            changed: vec![],
            error: None,
            started_ms,
            finished_ms: None,
            proposal,
        }
    }

    /// Progress in percent.
    pub fn percent(&self) -> u8 {
        if self.status != SimStatus::Running || self.total == 0 {
            return 100;
        }
        ((self.scanned * 100) / self.total).min(99) as u8
    }
}

/// A simulation as stored: its report, whether someone asked to cancel it, and when its
/// runner last wrote (a running job that stops writing is shown as failed).
#[derive(Debug, Clone)]
pub struct StoredSimulation {
    pub report: SimulationReport,
    pub cancel_requested: bool,
    pub updated_ms: i64,
}

impl StoredSimulation {
    /// The report as a reader sees it at `now_ms`.
    pub(crate) fn view(mut self, now_ms: i64) -> SimulationReport {
        if self.report.status == SimStatus::Running && now_ms - self.updated_ms > STALE_MS {
            self.report.status = SimStatus::Failed;
            self.report.error = Some(
                "the job stopped reporting progress; the server running it may have restarted. Start it again.".into(),
            );
        }
        self.report
    }
}
