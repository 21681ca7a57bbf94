//! What the engine needs from storage. One implementation per database lives in
//! `arx-store`; it holds SQL only. Every method that reads or changes org data takes
//! the org id, so no call can reach across orgs.

use async_trait::async_trait;

use crate::audit::{AuditDraft, AuditRecord, ChainHead};
use crate::engine::{SimulationReport, StoredSimulation};
use crate::error::CoreError;
use crate::ids::{
    AgentId, ApprovalId, GrantId, InstanceId, KeyId, OrgId, RecordId, SimId, TokenId, UserId,
};
use crate::integration::{ApprovalNotice, IntegrationKind, StoredIntegration};
use crate::model::{
    Agent, AgentKey, AgentStatus, ApiToken, ApprovalChange, ApprovalRequest, ApprovalStatus,
    ApprovalVote, Grant, GrantChange, GrantStatus, Instance, Org, PolicyVersion, User,
};

pub type StoreResult<T> = Result<T, CoreError>;

/// A page of the audit trail, newest first.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    /// Only records with `seq` below this (for paging backwards).
    pub before_seq: Option<i64>,
    pub limit: u32,
}

/// A vendor's answer to one call, kept outside the chain (ARCHITECTURE §7): the result
/// record with id `record_id` carries its hash, and purging it leaves a tombstone.
#[derive(Debug, Clone, PartialEq)]
pub struct ResponseBody {
    pub org_id: OrgId,
    pub record_id: RecordId,
    pub intercept_id: RecordId,
    /// Hex SHA-256 of `body` as written.
    pub sha256: String,
    pub bytes: i64,
    /// The answer's canonical JSON (RFC 8785); `None` once purged.
    pub body: Option<String>,
    pub created_ms: i64,
    pub purged_ms: Option<i64>,
}

#[async_trait]
pub trait Store: Send + Sync + std::fmt::Debug {
    // Orgs
    async fn create_org(&self, org: &Org, wrapped_data_key: &str) -> StoreResult<()>;
    async fn org_by_slug(&self, slug: &str) -> StoreResult<Option<Org>>;
    async fn org(&self, id: OrgId) -> StoreResult<Option<Org>>;
    async fn list_orgs(&self) -> StoreResult<Vec<Org>>;
    async fn wrapped_data_key(&self, org: OrgId) -> StoreResult<String>;

    // Users and their API tokens
    async fn create_user(&self, user: &User) -> StoreResult<()>;
    /// Local accounts sign in by email, which is unique across orgs.
    async fn user_by_email(&self, email: &str) -> StoreResult<Option<User>>;
    async fn user(&self, org: OrgId, id: UserId) -> StoreResult<Option<User>>;
    async fn list_users(&self, org: OrgId) -> StoreResult<Vec<User>>;
    /// Links (or with `None` unlinks) a user's Slack user id; `false` when no such user.
    /// A Slack id already linked to another user of the org is a conflict.
    async fn set_user_slack(
        &self,
        org: OrgId,
        id: UserId,
        slack_user_id: Option<&str>,
    ) -> StoreResult<bool>;
    /// The user of `org` linked to this Slack user id.
    async fn user_by_slack(&self, org: OrgId, slack_user_id: &str) -> StoreResult<Option<User>>;
    async fn set_user_groups(&self, org: OrgId, id: UserId, groups: &[String])
    -> StoreResult<bool>;
    /// Stores a token under the SHA-256 `hash` of its secret.
    async fn create_api_token(&self, token: &ApiToken, hash: &str) -> StoreResult<()>;
    /// The token with this hash and its user, revoked and expired ones included (the
    /// caller says why they no longer work).
    async fn api_token_by_hash(&self, hash: &str) -> StoreResult<Option<(ApiToken, User)>>;
    /// The org's tokens, newest first; only `user`'s when given.
    async fn list_api_tokens(&self, org: OrgId, user: Option<UserId>)
    -> StoreResult<Vec<ApiToken>>;
    /// Revokes a token of the org (of `user` only, when given); false when there is no
    /// such unrevoked token.
    async fn revoke_api_token(
        &self,
        org: OrgId,
        id: TokenId,
        user: Option<UserId>,
        now_ms: i64,
    ) -> StoreResult<bool>;
    /// Notes a use of the token, at most once per `every_ms`.
    async fn touch_api_token(&self, id: TokenId, now_ms: i64, every_ms: i64) -> StoreResult<()>;

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

    // Audit
    /// Seals the drafts onto their orgs' chains (with [`crate::audit::seal`]) and commits them
    /// durably in one transaction; all or nothing.
    async fn append_audit(&self, drafts: Vec<AuditDraft>) -> StoreResult<Vec<AuditRecord>> {
        self.append_audit_with_bodies(&drafts, &[]).await
    }
    /// [`Store::append_audit`], with response bodies committed in the same transaction
    /// (the result records that carry their hashes are among the drafts).
    async fn append_audit_with_bodies(
        &self,
        drafts: &[AuditDraft],
        bodies: &[ResponseBody],
    ) -> StoreResult<Vec<AuditRecord>>;
    async fn audit_page(&self, org: OrgId, q: &AuditQuery) -> StoreResult<Vec<AuditRecord>>;
    /// Records with `seq > after_seq` in ascending order, at most `limit`.
    async fn audit_after(
        &self,
        org: OrgId,
        after_seq: i64,
        limit: u32,
    ) -> StoreResult<Vec<AuditRecord>>;
    /// Records of `kind` with `from_ms <= ts_ms <= to_ms`, in (ts_ms, seq) order after
    /// `after` (a (ts_ms, seq) pair; `None` from the start), at most `limit`.
    async fn audit_in_range(
        &self,
        org: OrgId,
        kind: &str,
        range: (i64, i64),
        after: Option<(i64, i64)>,
        limit: u32,
    ) -> StoreResult<Vec<AuditRecord>>;
    /// How many records of `kind` have `from_ms <= ts_ms <= to_ms`.
    async fn audit_count_in_range(
        &self,
        org: OrgId,
        kind: &str,
        range: (i64, i64),
    ) -> StoreResult<u64>;
    async fn chain_head(&self, org: OrgId) -> StoreResult<ChainHead>;

    // Policy simulations
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
    async fn audit_count(&self, org: OrgId) -> StoreResult<i64>;

    // Policy versions
    /// Saves `v` and makes it the org's policy, if the org is still on `v.version - 1`;
    /// `false` when another version was saved first (nothing is written then).
    async fn create_policy_version(&self, v: &PolicyVersion) -> StoreResult<bool>;
    async fn policy_version(&self, org: OrgId, version: i64) -> StoreResult<Option<PolicyVersion>>;
    /// Newest first.
    async fn list_policy_versions(&self, org: OrgId) -> StoreResult<Vec<PolicyVersion>>;

    // Approvals
    async fn create_approval(&self, a: &ApprovalRequest) -> StoreResult<()>;
    async fn approval(&self, org: OrgId, id: ApprovalId) -> StoreResult<Option<ApprovalRequest>>;
    /// Compare-and-set: applies `change` only if the request is in one of `change.from`;
    /// `false` when another change won.
    async fn change_approval(
        &self,
        org: OrgId,
        id: ApprovalId,
        change: &ApprovalChange,
    ) -> StoreResult<bool>;
    /// Marks the approved call of `id` as still running now; `false` once it ended.
    async fn beat_approval(&self, org: OrgId, id: ApprovalId, now_ms: i64) -> StoreResult<bool>;
    /// Records one approver's approval; `false` if that user already approved.
    async fn add_approval_vote(&self, org: OrgId, vote: &ApprovalVote) -> StoreResult<bool>;
    async fn approval_votes(&self, org: OrgId, id: ApprovalId) -> StoreResult<Vec<ApprovalVote>>;
    /// Requests in `status` across every org (expiry sweeps, recovery at start).
    async fn approvals_in_status(
        &self,
        status: ApprovalStatus,
        due_before_ms: Option<i64>,
    ) -> StoreResult<Vec<ApprovalRequest>>;
    async fn audit_record(&self, org: OrgId, id: RecordId) -> StoreResult<Option<AuditRecord>>;
    /// Whether other processes may use this database at the same time (PostgreSQL), as
    /// opposed to an embedded database, which one process owns (SQLite).
    fn shared(&self) -> bool;
    /// Approval requests created or changed by any process sharing this database, when
    /// the database can tell (PostgreSQL LISTEN/NOTIFY); `None` for an embedded database,
    /// which one process owns.
    async fn listen_approvals(
        &self,
    ) -> StoreResult<Option<tokio::sync::mpsc::UnboundedReceiver<ApprovalId>>>;

    // Grants
    async fn create_grant(&self, g: &Grant) -> StoreResult<()>;
    async fn grant(&self, org: OrgId, id: GrantId) -> StoreResult<Option<Grant>>;
    /// Newest first, at most 500.
    async fn list_grants(&self, org: OrgId) -> StoreResult<Vec<Grant>>;
    /// Every requested or active grant of an agent, however many the org has.
    async fn open_grants_of_agent(&self, org: OrgId, agent: AgentId) -> StoreResult<Vec<Grant>>;
    /// The agent's active grants on a connector (one read, only for escalated calls).
    async fn active_grants(
        &self,
        org: OrgId,
        agent: AgentId,
        connector: &str,
    ) -> StoreResult<Vec<Grant>>;
    /// Compare-and-set, like approvals.
    async fn change_grant(
        &self,
        org: OrgId,
        id: GrantId,
        change: &GrantChange,
    ) -> StoreResult<bool>;
    /// Grants in `status` across every org whose expiry is at or before `due_before_ms`.
    async fn grants_due(&self, status: GrantStatus, due_before_ms: i64) -> StoreResult<Vec<Grant>>;
    async fn list_approvals(
        &self,
        org: OrgId,
        status: Option<&str>,
    ) -> StoreResult<Vec<ApprovalRequest>>;

    /// The org of an approval request, looked up across orgs. Only for routing what
    /// arrives without an org (a Slack button, a signed link, an in-process event) to the
    /// org whose keys then verify it; everything after that is org-scoped.
    async fn approval_org(&self, id: ApprovalId) -> StoreResult<Option<OrgId>>;

    // Integrations (Slack, Teams, webhooks)
    async fn integration(
        &self,
        org: OrgId,
        kind: IntegrationKind,
    ) -> StoreResult<Option<StoredIntegration>>;
    /// Inserts or replaces the org's settings of `i.kind`.
    async fn put_integration(&self, i: &StoredIntegration) -> StoreResult<()>;
    /// `false` when there was nothing to delete.
    async fn delete_integration(&self, org: OrgId, kind: IntegrationKind) -> StoreResult<bool>;
    async fn approval_notice(
        &self,
        org: OrgId,
        approval: ApprovalId,
        kind: IntegrationKind,
    ) -> StoreResult<Option<ApprovalNotice>>;
    /// Claims the right to send notice `n` (compare-and-set, so of several processes
    /// following the same request exactly one sends each notice): inserts it when
    /// `from` is `None` and no notice exists, else moves what the stored notice shows
    /// from `from` (status, approvals) to `n`'s. `false` when another claim came first.
    async fn claim_approval_notice(
        &self,
        n: &ApprovalNotice,
        from: Option<(ApprovalStatus, u32)>,
    ) -> StoreResult<bool>;
    /// Gives up a claimed notice whose message never went out (no `ts` yet), so that a
    /// later event, here or on another replica, posts it afresh.
    async fn release_approval_notice(
        &self,
        org: OrgId,
        approval: ApprovalId,
        kind: IntegrationKind,
    ) -> StoreResult<()>;
    /// Remembers where the message of a claimed notice went (Slack channel and `ts`).
    async fn set_approval_notice_message(
        &self,
        org: OrgId,
        approval: ApprovalId,
        kind: IntegrationKind,
        channel: &str,
        message_ts: &str,
    ) -> StoreResult<()>;

    // Response bodies and their retention
    async fn put_response_body(&self, b: &ResponseBody) -> StoreResult<()>;
    async fn response_body(
        &self,
        org: OrgId,
        record: RecordId,
    ) -> StoreResult<Option<ResponseBody>>;
    /// How many unpurged bodies of the org were created before `before_ms`.
    async fn response_bodies_due(&self, org: OrgId, before_ms: i64) -> StoreResult<u64>;
    /// Purges (drops the body, keeps a tombstone) the org's bodies created before
    /// `before_ms`; how many.
    async fn purge_response_bodies(
        &self,
        org: OrgId,
        before_ms: i64,
        now_ms: i64,
    ) -> StoreResult<u64>;
    /// The org's retention of response bodies in days; `None` when never set.
    async fn response_retention_days(&self, org: OrgId) -> StoreResult<Option<u32>>;
    async fn set_response_retention_days(
        &self,
        org: OrgId,
        days: u32,
        now_ms: i64,
    ) -> StoreResult<()>;

    // Console sessions (opaque to the engine)
    /// Inserts a new session; `false` if the id is taken.
    async fn session_create(&self, id: &str, data: &[u8], expires_ms: i64) -> StoreResult<bool>;
    async fn session_load(&self, id: &str, now_ms: i64) -> StoreResult<Option<Vec<u8>>>;
    async fn session_save(&self, id: &str, data: &[u8], expires_ms: i64) -> StoreResult<()>;
    async fn session_delete(&self, id: &str) -> StoreResult<()>;
    async fn session_delete_expired(&self, now_ms: i64) -> StoreResult<u64>;
}
