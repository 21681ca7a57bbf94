//! The registry: agents' manifest versions, written once each.

use async_trait::async_trait;

use super::StoreResult;
use crate::ids::{AgentId, DriftId, OrgId};
use crate::model::registry::{DriftAlert, DriftStatus, ManifestVersion, Retirement};

/// Which drift alerts to list: all of the org's, or those of one agent, severity or
/// status; newest first, `limit` of them before `before` (a `created_ms`).
#[derive(Debug, Clone, Default)]
pub struct DriftQuery {
    pub agent: Option<AgentId>,
    pub severity: Option<crate::registry::Severity>,
    pub status: Option<DriftStatus>,
    pub before_ms: Option<i64>,
    pub limit: u32,
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
