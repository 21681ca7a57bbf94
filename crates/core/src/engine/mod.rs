//! The engine: the one place where agent calls are decided, recorded and executed, and
//! where the registry is changed. The REST API and the console both call these methods.

mod admin;
mod audit_writer;
mod auth;
mod execute;
mod verify;

use std::sync::Arc;

use serde_json::Value;

pub use admin::{AdminOps, NewAgent, NewInstance, ReadOps};
pub use audit_writer::AuditWriter;
pub use auth::{new_secret_token, token_hash};
pub use execute::Executed;
pub use verify::{VerifyReport, verify_export};

use crate::audit::{Actor, AuditDraft, AuditRecord};
use crate::catalog::Catalog;
use crate::clock::Clock;
use crate::error::CoreError;
use crate::executor::Executor;
use crate::ids::{OrgId, RecordId};
use crate::policy::CompiledPolicy;
use crate::risk::CallWindow;
use crate::store::Store;
use crate::vault::{MasterKey, Vault};

pub struct Engine {
    store: Arc<dyn Store>,
    catalog: Arc<Catalog>,
    vault: Vault,
    audit: AuditWriter,
    executor: Executor,
    clock: Arc<dyn Clock>,
    calls: CallWindow,
    no_rules: Arc<CompiledPolicy>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("store", &self.store)
            .finish_non_exhaustive()
    }
}

impl Engine {
    /// Wires the engine and starts its audit writer; call inside a tokio runtime.
    pub fn new(
        store: Arc<dyn Store>,
        catalog: Catalog,
        master: MasterKey,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Engine {
            audit: AuditWriter::start(store.clone()),
            store,
            catalog: Arc::new(catalog),
            vault: Vault::new(master),
            executor: Executor::new(),
            clock,
            calls: CallWindow::default(),
            no_rules: Arc::default(),
        }
    }

    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// The org's compiled rule set. Rules are not stored yet (policy versions are the next
    /// capability), so every org decides by its defaults and thresholds; the decision path
    /// is already the rule engine's.
    fn policy_of(&self, _org: &crate::model::Org) -> Arc<CompiledPolicy> {
        self.no_rules.clone()
    }

    pub fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }

    fn draft(&self, org: OrgId, kind: &str, actor: Actor, fields: Value) -> AuditDraft {
        AuditDraft {
            org_id: org,
            id: RecordId::new(),
            ts_ms: self.now_ms(),
            kind: kind.to_string(),
            actor,
            fields,
        }
    }

    /// Records a platform action durably; fails closed.
    async fn record(
        &self,
        org: OrgId,
        kind: &str,
        actor: Actor,
        fields: Value,
    ) -> Result<AuditRecord, CoreError> {
        self.audit
            .append_one(self.draft(org, kind, actor, fields))
            .await
    }
}
