//! Orgs and what they govern: agents, their keys, connector instances.

use async_trait::async_trait;

use super::StoreResult;
use crate::ids::{AgentId, InstanceId, KeyId, OrgId};
use crate::model::{Agent, AgentKey, AgentStatus, Instance, Org};

#[async_trait]
pub trait AgentStore: Send + Sync {
    // Orgs
    async fn create_org(&self, org: &Org, wrapped_data_key: &str) -> StoreResult<()>;
    async fn org_by_slug(&self, slug: &str) -> StoreResult<Option<Org>>;
    async fn org(&self, id: OrgId) -> StoreResult<Option<Org>>;
    async fn list_orgs(&self) -> StoreResult<Vec<Org>>;
    async fn wrapped_data_key(&self, org: OrgId) -> StoreResult<String>;

    // Agents and keys
    async fn create_agent(&self, agent: &Agent) -> StoreResult<()>;
    async fn agent(&self, org: OrgId, id: AgentId) -> StoreResult<Option<Agent>>;
    async fn list_agents(&self, org: OrgId) -> StoreResult<Vec<Agent>>;
    async fn set_agent_status(
        &self,
        org: OrgId,
        id: AgentId,
        status: AgentStatus,
    ) -> StoreResult<bool>;
    async fn create_agent_key(&self, key: &AgentKey) -> StoreResult<()>;
    async fn list_agent_keys(&self, org: OrgId, agent: AgentId) -> StoreResult<Vec<AgentKey>>;
    /// The key with this hash, its agent and the agent's org, revoked or not (one read on
    /// the hot path of every execute call).
    async fn agent_by_key_hash(&self, hash: &str) -> StoreResult<Option<(AgentKey, Agent, Org)>>;
    async fn revoke_agent_key(&self, org: OrgId, key: KeyId, now_ms: i64) -> StoreResult<bool>;
    /// Sets the key's `last_used_ms` to `now_ms` when it is absent or older than
    /// `stale_before_ms` (compare-and-set: concurrent calls write it once); `true` when
    /// it wrote.
    async fn touch_agent_key(
        &self,
        org: OrgId,
        key: KeyId,
        now_ms: i64,
        stale_before_ms: i64,
    ) -> StoreResult<bool>;

    // Connector instances
    async fn create_instance(&self, inst: &Instance) -> StoreResult<()>;
    async fn list_instances(&self, org: OrgId) -> StoreResult<Vec<Instance>>;
    async fn instance(&self, org: OrgId, id: InstanceId) -> StoreResult<Option<Instance>>;
    async fn instances_of(&self, org: OrgId, connector: &str) -> StoreResult<Vec<Instance>>;
    async fn set_instance_credentials(
        &self,
        org: OrgId,
        id: InstanceId,
        sealed: &str,
    ) -> StoreResult<bool>;
}
