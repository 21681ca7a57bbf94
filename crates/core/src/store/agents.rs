//! Orgs and what they govern: agents, their keys, connector instances.

use async_trait::async_trait;

use super::StoreResult;
use crate::ids::{AgentId, InstanceId, KeyId, OrgId};
use crate::model::{Agent, AgentKey, AgentStatus, Instance, Org};

/// What every governed call reads about its caller: the key, its agent and the agent's
/// org, with the org's configuration epoch read in the same statement (see
/// [`AgentStore::org_epochs`]).
#[derive(Debug, Clone)]
pub struct KeyContext {
    pub key: AgentKey,
    pub agent: Agent,
    pub org: Org,
    pub epoch: i64,
}

/// Rows read together with the org's configuration epoch, in the same statement.
#[derive(Debug, Clone)]
pub struct AtEpoch<T> {
    pub value: T,
    pub epoch: i64,
}

/// What [`AgentStore::fleet_page`] reads.
#[derive(Debug, Clone, Default)]
pub struct FleetQuery {
    pub selector: crate::registry::Selector,
    /// A label key: count the matching agents per value of it.
    pub group_by: Option<String>,
    pub sort: FleetSort,
    pub order: super::Order,
    pub offset: usize,
    pub limit: usize,
    /// Only the agents not decommissioned, or that made a call (an intercept record) at
    /// or after this time: what the fleet graph draws.
    pub live_or_called_since: Option<i64>,
}

/// The columns the fleet sorts by; ties are broken by name, then id.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    serde::Serialize,
    serde::Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum FleetSort {
    #[default]
    Name,
    Owner,
    Status,
    ManifestVersion,
    Created,
    OpenDrift,
    ActiveKeys,
}

impl FleetSort {
    pub const ALL: [FleetSort; 7] = [
        FleetSort::Name,
        FleetSort::Owner,
        FleetSort::Status,
        FleetSort::ManifestVersion,
        FleetSort::Created,
        FleetSort::OpenDrift,
        FleetSort::ActiveKeys,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FleetSort::Name => "name",
            FleetSort::Owner => "owner",
            FleetSort::Status => "status",
            FleetSort::ManifestVersion => "manifest_version",
            FleetSort::Created => "created",
            FleetSort::OpenDrift => "open_drift",
            FleetSort::ActiveKeys => "active_keys",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// An agent of a fleet page and what the fleet table counts for it.
#[derive(Debug, Clone)]
pub struct FleetRow {
    pub agent: Agent,
    /// Keys not revoked.
    pub active_keys: usize,
    /// Drift alerts still open (not acknowledged or resolved).
    pub open_drift: usize,
    /// Whether the manifest in force was generated from the agent's calls.
    pub manifest_generated: bool,
}

/// What [`AgentStore::fleet_page`] found.
#[derive(Debug, Clone, Default)]
pub struct FleetRows {
    pub rows: Vec<FleetRow>,
    pub total: usize,
    /// With `group_by`: (value, agents); `None` for the agents without the key.
    pub groups: Option<Vec<(Option<String>, usize)>>,
}

#[async_trait]
pub trait AgentStore: Send + Sync {
    // Orgs
    async fn create_org(&self, org: &Org, wrapped_data_key: &str) -> StoreResult<()>;
    async fn org_by_slug(&self, slug: &str) -> StoreResult<Option<Org>>;
    async fn org(&self, id: OrgId) -> StoreResult<Option<Org>>;
    async fn list_orgs(&self) -> StoreResult<Vec<Org>>;
    async fn wrapped_data_key(&self, org: OrgId) -> StoreResult<String>;

    // Agents and keys
    async fn create_agent(&self, agent: &Agent) -> StoreResult<()> {
        self.create_successor(agent, None).await
    }
    /// Creates the agent and, with `replaces`, names it in one transaction as the
    /// successor of that retired agent; [`crate::CoreError::Conflict`] if the name is
    /// taken or that agent is not a retired one without a successor.
    async fn create_successor(&self, agent: &Agent, replaces: Option<AgentId>) -> StoreResult<()>;
    /// Sets the agent's owner, description and labels (what selectors read with them).
    async fn update_agent(&self, agent: &Agent) -> StoreResult<bool>;
    async fn agent(&self, org: OrgId, id: AgentId) -> StoreResult<Option<Agent>>;
    async fn list_agents(&self, org: OrgId) -> StoreResult<Vec<Agent>>;
    /// One page of the org's agents that the selector matches, in the asked order, with
    /// the counts the fleet table shows; how many match in all; and the counts per value
    /// of the group-by key. Filtering, sorting and counting run in the database.
    async fn fleet_page(&self, org: OrgId, q: &FleetQuery) -> StoreResult<FleetRows>;
    /// The names of those of `ids` that are agents of the org (lists that show an agent's
    /// name read only these, never the fleet).
    async fn agent_names(&self, org: OrgId, ids: &[AgentId])
    -> StoreResult<Vec<(AgentId, String)>>;
    /// The org's agent of that name, if any.
    async fn agent_by_name(&self, org: OrgId, name: &str) -> StoreResult<Option<Agent>>;
    /// How many of the org's agents are in each status (absent: none).
    async fn agents_by_status(&self, org: OrgId) -> StoreResult<Vec<(AgentStatus, usize)>>;
    async fn set_agent_status(
        &self,
        org: OrgId,
        id: AgentId,
        status: AgentStatus,
    ) -> StoreResult<bool>;
    async fn create_agent_key(&self, key: &AgentKey) -> StoreResult<()>;
    async fn list_agent_keys(&self, org: OrgId, agent: AgentId) -> StoreResult<Vec<AgentKey>>;
    /// The key with this hash, its agent and the agent's org, revoked or not, at the
    /// org's current configuration epoch.
    async fn agent_by_key_hash(&self, hash: &str) -> StoreResult<Option<KeyContext>>;
    /// Each org's configuration epoch: moved, in the same transaction, by every change to
    /// the org's row, its agents, their keys (not their last use) and its instances. An
    /// intercept record drafted with `guard_epoch` is refused at insert when the epoch
    /// has moved since ([`crate::CoreError::StaleConfiguration`]).
    async fn org_epochs(
        &self,
        orgs: &[OrgId],
    ) -> StoreResult<std::collections::HashMap<OrgId, i64>>;
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
    /// Orgs whose configuration epoch moved, as other processes sharing this database
    /// make changes (PostgreSQL NOTIFY); `None` for an embedded database. A hint only:
    /// the epoch's guard is what makes kept rows exact.
    async fn listen_config_changes(
        &self,
    ) -> StoreResult<Option<tokio::sync::mpsc::UnboundedReceiver<OrgId>>>;
    /// The org's instances of `connector`, by name, at the org's configuration epoch.
    async fn instances_of(
        &self,
        org: OrgId,
        connector: &str,
    ) -> StoreResult<AtEpoch<Vec<Instance>>>;
    async fn set_instance_credentials(
        &self,
        org: OrgId,
        id: InstanceId,
        sealed: &str,
    ) -> StoreResult<bool>;
}
