//! The registry: agents' manifest versions, written once each.

use async_trait::async_trait;

use super::StoreResult;
use crate::ids::{AgentId, DriftId, OrgId};
use crate::model::registry::{DriftAlert, DriftStatus, ManifestVersion, Retirement};

/// Which drift alerts to list: all of the org's, or those of one agent, severity or
/// status; newest first (oldest first if asked), `limit` of them after the cursor `after`.
#[derive(Debug, Clone, Default)]
pub struct DriftQuery {
    pub agent: Option<AgentId>,
    pub severity: Option<crate::registry::Severity>,
    pub status: Option<DriftStatus>,
    pub after: Option<DriftCursor>,
    pub limit: u32,
    pub oldest_first: bool,
}

/// Where the next page of alerts starts: after (in the list's order) the alert raised at
/// `created_ms` with `id`. The id breaks ties, so alerts raised in the same millisecond
/// are neither skipped nor repeated. Written `<created_ms>.<id>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DriftCursor {
    pub created_ms: i64,
    pub id: DriftId,
}

impl DriftCursor {
    pub fn of(a: &DriftAlert) -> Self {
        DriftCursor {
            created_ms: a.created_ms,
            id: a.id,
        }
    }
}

impl std::fmt::Display for DriftCursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.created_ms, self.id)
    }
}

impl std::str::FromStr for DriftCursor {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || "not a cursor of this list: use next_cursor of the page before".to_string();
        let (ms, id) = s.split_once('.').ok_or_else(bad)?;
        Ok(DriftCursor {
            created_ms: ms.parse().map_err(|_| bad())?,
            id: id.parse().map_err(|_| bad())?,
        })
    }
}

/// A person's move of a drift alert: from one of `from` to `to`, with their note.
#[derive(Debug, Clone)]
pub struct DriftChange<'a> {
    pub from: &'a [DriftStatus],
    pub to: DriftStatus,
    pub by: &'a str,
    pub note: &'a str,
    pub now_ms: i64,
}

#[async_trait]
pub trait RegistryStore: Send + Sync {
    /// Saves a new version; a version number the agent already has is a conflict, so a
    /// version's content can never change.
    async fn create_manifest_version(&self, v: &ManifestVersion) -> StoreResult<()>;
    /// Newest first.
    async fn manifest_versions(
        &self,
        org: OrgId,
        agent: AgentId,
    ) -> StoreResult<Vec<ManifestVersion>>;
    async fn manifest_version(
        &self,
        org: OrgId,
        agent: AgentId,
        version: i64,
    ) -> StoreResult<Option<ManifestVersion>>;
    /// The version in force: the newest (one read on the hot path of every execute call).
    async fn current_manifest(
        &self,
        org: OrgId,
        agent: AgentId,
    ) -> StoreResult<Option<ManifestVersion>>;

    /// Raises `alert`, or counts it on the agent's alert of the same `signal_key` that
    /// is not resolved; `true` when it is new.
    async fn raise_drift_alert(&self, alert: &DriftAlert) -> StoreResult<bool>;
    async fn drift_alerts(&self, org: OrgId, q: &DriftQuery) -> StoreResult<Vec<DriftAlert>>;
    /// How many of the org's alerts are open, per severity (absent: none).
    async fn open_drift_counts(
        &self,
        org: OrgId,
    ) -> StoreResult<Vec<(crate::registry::Severity, usize)>>;
    async fn drift_alert(&self, org: OrgId, id: DriftId) -> StoreResult<Option<DriftAlert>>;
    /// Moves an alert as `c` says (compare-and-set on its status); `false` when it was
    /// not in one of `c.from`.
    async fn set_drift_status(
        &self,
        org: OrgId,
        id: DriftId,
        c: &DriftChange<'_>,
    ) -> StoreResult<bool>;

    /// Writes a decommissioned agent's retirement (once: a second is a conflict).
    async fn create_retirement(&self, r: &Retirement) -> StoreResult<()>;
    async fn retirement(&self, org: OrgId, agent: AgentId) -> StoreResult<Option<Retirement>>;
    /// The retirements of the agents `agent` replaced.
    async fn predecessors(&self, org: OrgId, agent: AgentId) -> StoreResult<Vec<Retirement>>;
}
