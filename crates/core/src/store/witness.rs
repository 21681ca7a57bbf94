//! Checkpoint signing keys, the checkpoints signed, and the sinks they are delivered to.

use async_trait::async_trait;

use super::StoreResult;
use crate::audit::checkpoint::Checkpoint;
use crate::ids::{OrgId, SinkId};
use crate::witness::{AuditSink, SinkPurpose};

/// An org's checkpoint signing key as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredSigningKey {
    pub org_id: OrgId,
    pub key_id: String,
    /// Base64 of the 32 raw bytes.
    pub public_key: String,
    /// The vault's ciphertext of the 32-byte seed.
    pub sealed_private: String,
    pub created_ms: i64,
}

#[async_trait]
pub trait WitnessStore: Send + Sync {
    async fn signing_key(&self, org: OrgId) -> StoreResult<Option<StoredSigningKey>>;
    /// Stores `key` unless the org has one; returns the org's key either way (so two
    /// racing first uses end with one key).
    async fn insert_signing_key(&self, key: &StoredSigningKey) -> StoreResult<StoredSigningKey>;

    /// The org's newest checkpoint.
    async fn last_checkpoint(&self, org: OrgId) -> StoreResult<Option<Checkpoint>>;
    /// Stores a checkpoint; one already stored at that seq stays (`false`).
    async fn insert_checkpoint(&self, c: &Checkpoint, ts_ms: i64) -> StoreResult<bool>;
    /// The org's checkpoints after `seq`, oldest first.
    async fn checkpoints_after(
        &self,
        org: OrgId,
        seq: i64,
        limit: u32,
    ) -> StoreResult<Vec<Checkpoint>>;
    /// The org's newest checkpoints, newest first.
    async fn checkpoints_newest(&self, org: OrgId, limit: u32) -> StoreResult<Vec<Checkpoint>>;
    /// How many of the org's checkpoints come after `seq`.
    async fn checkpoints_count_after(&self, org: OrgId, seq: i64) -> StoreResult<i64>;

    /// The org's sinks of `purpose`, oldest first.
    async fn audit_sinks(&self, org: OrgId, purpose: SinkPurpose) -> StoreResult<Vec<AuditSink>>;
    /// A new sink; a name the org already uses is a conflict.
    async fn insert_audit_sink(&self, sink: &AuditSink) -> StoreResult<()>;
    async fn delete_audit_sink(&self, org: OrgId, id: SinkId) -> StoreResult<bool>;
    /// Delivery reached `cursor_seq` (never moves back).
    async fn sink_delivered(
        &self,
        org: OrgId,
        id: SinkId,
        cursor_seq: i64,
        ok_ms: i64,
    ) -> StoreResult<()>;
    /// Delivery failed; the cursor stays.
    async fn sink_failed(&self, org: OrgId, id: SinkId, error: &str, at_ms: i64)
    -> StoreResult<()>;
}
