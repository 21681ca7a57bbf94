//! Working together with other processes on one database: whether there can be any,
//! and leases that let one replica at a time run a periodic job.

use async_trait::async_trait;

use super::StoreResult;

#[async_trait]
pub trait LeaseStore: Send + Sync {
    /// Whether other processes may use this database at the same time (PostgreSQL), as
    /// opposed to an embedded database, which one process owns (SQLite).
    fn shared(&self) -> bool;
    /// Takes or renews the lease on `job` for `holder` until `now_ms + ttl_ms`, by
    /// compare-and-set: it is taken when nobody holds it, when `holder` already does, or
    /// when the last holder's lease ran out (it stopped renewing: it died or hung).
    /// `false` when another holder's lease is still running.
    async fn try_lease(
        &self,
        job: &str,
        holder: &str,
        now_ms: i64,
        ttl_ms: i64,
    ) -> StoreResult<bool>;
    /// Gives up `holder`'s lease on `job` (nothing when another holds it), so another
    /// replica takes the job over at once instead of after the lease runs out.
    async fn release_lease(&self, job: &str, holder: &str) -> StoreResult<()>;
}
