//! Policy simulations' reports, stored so every replica shows them and any can cancel.

use async_trait::async_trait;

use super::StoreResult;
use crate::ids::{OrgId, SimId};
use crate::model::simulation::{SimulationReport, StoredSimulation};

#[async_trait]
pub trait SimulationStore: Send + Sync {
    /// Inserts or replaces the report of simulation `r.id` (never its cancel request).
    async fn put_simulation(
        &self,
        org: OrgId,
        r: &SimulationReport,
        now_ms: i64,
    ) -> StoreResult<()>;
    async fn simulation(&self, org: OrgId, id: SimId) -> StoreResult<Option<StoredSimulation>>;
    /// The org's newest simulations first, at most `limit`.
    async fn simulations(&self, org: OrgId, limit: u32) -> StoreResult<Vec<StoredSimulation>>;
    /// Asks a running simulation to stop; `false` when it is not running (or unknown).
    async fn cancel_simulation(&self, org: OrgId, id: SimId) -> StoreResult<bool>;
    /// Whether someone asked simulation `id` to stop (read by its runner after each page).
    async fn simulation_cancel_requested(&self, org: OrgId, id: SimId) -> StoreResult<bool>;
    /// Deletes the org's simulations beyond the newest `keep` that are finished, or still
    /// marked running but not updated since `stale_before_ms`.
    async fn prune_simulations(
        &self,
        org: OrgId,
        keep: u32,
        stale_before_ms: i64,
    ) -> StoreResult<()>;
}
