//! What the audit trail says, typed: one [`AuditEvent`] per record kind. This is the
//! contract between the engine that writes records and everyone who reads them (the
//! console, the API, simulations, and later search, SIEM export and evidence).
//!
//! Each event serializes to exactly the `fields` object the chain has always held for its
//! kind, and parses every record ever written: fields added in later versions are optional
//! with defaults, so old chains still parse (and verify: hashes cover the stored JSON, not
//! a re-serialization). A kind this version does not know (written by a newer one) parses
//! as [`AuditEvent::Other`] and is kept as it is.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize, Serializer};
use serde_json::{Map, Value};

use crate::catalog::RiskTier;
use crate::ids::{AgentId, ApprovalId, GrantId, InstanceId, KeyId, RecordId, TokenId, UserId};
use crate::integration::IntegrationKind;
use crate::model::{AgentStatus, ApprovalStatus, Environment, GrantStatus, Role};
use crate::policy::{CallFacts, Escalation, PolicyInput, Verdict};
use crate::risk::RiskBreakdown;

/// A refused attempt's place in its burst (see `engine::refusals`): the first refusal of a
/// burst has `count: 1`; the burst's summary has the count of the others, when they were
/// made, and `summary: true`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Burst {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_ms: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_ms: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<bool>,
}

/// `execute.intercept`: a governed call as decided, written before anything else happens.
/// Its fields are the policy's input ([`Intercept::policy_input`]): execute decides from
/// them and simulation replays them, so both read the same facts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Intercept {
    /// The agent's id as policy sees it (rules name agents by id or name).
    pub agent_id: String,
    pub agent: String,
    #[serde(default)]
    pub agent_labels: BTreeMap<String, String>,
    pub connector: String,
    pub operation: String,
    pub tier: RiskTier,
    #[serde(default)]
    pub instance_id: Option<InstanceId>,
    #[serde(default)]
    pub instance: String,
    pub environment: Environment,
    #[serde(default)]
    pub method: String,
    #[serde(default)]
    pub params: Map<String, Value>,
    #[serde(default)]
    pub session_context: Value,
    #[serde(default)]
    pub session_actions: Vec<String>,
    pub risk: RiskBreakdown,
    pub verdict: Verdict,
    #[serde(default)]
    pub policy_version: i64,
    pub policy_id: String,
    #[serde(default)]
    pub rule_id: Option<String>,
    #[serde(default)]
    pub grant_id: Option<String>,
    #[serde(default)]
    pub reason: String,
    /// The version of the agent's manifest in force (none: it had none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manifest_version: Option<i64>,
    /// How the call came, when not through `POST /v1/sdk/execute` (`mcp`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub via: Option<crate::request::Via>,
}

impl Intercept {
    /// What policy decides this call from; `grant_id` as the call is evaluated (a grant
    /// found for an escalation is evaluated again with it).
    pub fn policy_input<'a>(&'a self, grant_id: Option<&'a str>) -> PolicyInput<'a> {
        PolicyInput {
            connector: &self.connector,
            operation: &self.operation,
            agent_id: &self.agent_id,
            agent_name: &self.agent,
            agent_labels: &self.agent_labels,
            tier: self.tier,
            risk: self.risk,
            call: CallFacts {
                params: &self.params,
                instance: &self.instance,
                environment: self.environment,
                session_context: &self.session_context,
                session_actions: &self.session_actions,
            },
            grant_id,
        }
    }

    /// The agent's own account of why it acts, when it gave one.
    pub fn reasoning(&self) -> Option<&str> {
        self.session_context
            .get("reasoning")
            .and_then(Value::as_str)
    }
}

/// `execute.result`: how a call that ran (or was sent) ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CallResult {
    pub intercept_id: RecordId,
    #[serde(default)]
    pub intercept_seq: i64,
    pub agent_id: AgentId,
    pub connector: String,
    pub operation: String,
    /// `ok`, `target_error` or `failed`.
    pub status: String,
    /// The target's status code, when it answered.
    pub http_status: Option<u16>,
    pub latency_ms: Option<f64>,
    pub error: Option<String>,
    #[serde(default)]
    pub approval_id: Option<ApprovalId>,
    /// Hex SHA-256 of the answer kept out of the chain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_sha256: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_bytes: Option<u64>,
    /// The answer's fields the operation declares non-sensitive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_projection: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_stored: Option<bool>,
    /// The whole answer, as records written before answers left the chain held it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<Value>,
}

/// `execute.rejected`: a call by a known agent refused before evaluation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rejected {
    pub agent_id: AgentId,
    pub agent: String,
    pub connector: Option<String>,
    pub operation: Option<String>,
    pub code: String,
    pub message: String,
}

/// `execute.unauthenticated`: a revoked key or a decommissioned agent tried to call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Unauthenticated {
    pub agent_id: AgentId,
    pub key_id: KeyId,
    pub reason: String,
    #[serde(flatten)]
    pub burst: Burst,
}

/// `approval.requested`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApprovalRequested {
    pub approval_id: ApprovalId,
    pub intercept_id: RecordId,
    pub agent_id: AgentId,
    pub connector: String,
    pub operation: String,
    pub params_hash: String,
    pub expires_ms: i64,
    #[serde(default)]
    pub requirements: Option<Escalation>,
}

/// `approval.vote`: an approval that does not yet reach the number needed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApprovalVoted {
    pub approval_id: ApprovalId,
    pub comment: String,
    pub approvals: usize,
    pub needed: usize,
}

/// `approval.<status>`: a request moved to `to` (the kind names it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApprovalChanged {
    #[serde(skip)]
    pub to: Option<ApprovalStatus>,
    pub approval_id: ApprovalId,
    pub from: ApprovalStatus,
    /// Absent, null or a text, as each move has always written it.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "present")]
    pub comment: Option<Option<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approvers: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub params_hash: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl ApprovalChanged {
    /// A move of `approval_id` from `from` to `to`, with no other fields yet.
    pub fn new(approval_id: ApprovalId, from: ApprovalStatus, to: ApprovalStatus) -> Self {
        ApprovalChanged {
            to: Some(to),
            approval_id,
            from,
            comment: None,
            approvers: None,
            params_hash: None,
            expires_at: None,
            reason: None,
        }
    }
}

/// `approval.state_read`: ARX is about to read the target's current state for a reviewer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StateRead {
    pub approval_id: ApprovalId,
    pub read: String,
    pub instance_id: InstanceId,
    pub reads: usize,
    pub params: Vec<Map<String, Value>>,
}

/// `approval.state_read_result`: what that read got.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StateReadResult {
    pub approval_id: ApprovalId,
    pub state_read_id: RecordId,
    pub read: String,
    pub rows: usize,
    pub error: Option<String>,
}

/// `grant.requested`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GrantRequested {
    pub grant_id: GrantId,
    pub approval_id: ApprovalId,
    pub agent_id: AgentId,
    pub connector: String,
    #[serde(default)]
    pub instance_id: Option<InstanceId>,
    pub scope: Value,
    #[serde(default)]
    pub requirements: Option<Escalation>,
}

/// `grant.refused`: a grant asked for operations a rule says cannot be granted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GrantRefused {
    pub agent_id: AgentId,
    pub connector: String,
    pub instance: String,
    pub operations: Vec<String>,
    pub rule_id: String,
    pub reason: String,
}

/// `grant.<status>`: a grant moved to `to` (the kind names it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GrantChanged {
    #[serde(skip)]
    pub to: Option<GrantStatus>,
    pub grant_id: GrantId,
    pub agent_id: AgentId,
    pub connector: String,
    pub operations: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval_id: Option<ApprovalId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// `agent.created`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentCreated {
    pub agent_id: AgentId,
    pub name: String,
    pub owner: String,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    pub declared_rate: u32,
    /// The retired agent whose work it takes over (its lineage).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replaces: Option<AgentId>,
}

/// `agent.updated`: an admin changed the agent's owner, description or labels; each
/// field present says what it was and what it is now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentUpdated {
    pub agent_id: AgentId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<Changed<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<Changed<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<Changed<BTreeMap<String, String>>>,
}

/// A value before and after a change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Changed<T> {
    pub from: T,
    pub to: T,
}

impl<T: PartialEq + Clone> Changed<T> {
    /// The change from `from` to `to`, if they differ.
    pub fn of(from: &T, to: &T) -> Option<Changed<T>> {
        (from != to).then(|| Changed {
            from: from.clone(),
            to: to.clone(),
        })
    }
}

/// `agent.manifest_published`: a new version of an agent's manifest, with the hash of its
/// canonical JSON (the version's content is in the registry and can be checked against
/// it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ManifestPublished {
    pub agent_id: AgentId,
    pub agent: String,
    pub version: i64,
    pub manifest_sha256: String,
    pub generated: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollback_of: Option<i64>,
    /// What changed against the version before, in a line.
    pub changes: String,
    pub reason: String,
    /// The approved request of the agent's self-registration it comes from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval_id: Option<crate::ids::ApprovalId>,
}

/// `agent.manifest_requested`: an agent registered a manifest that widens its scope; a
/// reviewer decides it as approval request `approval_id` (this record is its intercept).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ManifestRequested {
    pub approval_id: crate::ids::ApprovalId,
    pub agent_id: AgentId,
    pub agent: String,
    /// The version in force when it registered (none: it had none).
    pub base_version: Option<i64>,
    pub manifest_sha256: String,
    /// How it reaches beyond the version in force.
    pub widens: Vec<crate::registry::Widening>,
    /// What changed against that version, in a line.
    pub changes: String,
    pub reason: String,
}

/// `drift.detected`: an agent's call departed from its manifest in a new way (a repeat
/// counts on the open alert, not in the chain again).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DriftDetected {
    pub alert_id: crate::ids::DriftId,
    pub agent_id: AgentId,
    pub agent: String,
    pub signal: crate::registry::DriftSignal,
    pub severity: crate::registry::Severity,
    pub action: crate::registry::DriftAction,
    /// The manifest version in force (none: the agent had none).
    pub manifest_version: Option<i64>,
    /// The intercept record of the call.
    pub audit_id: RecordId,
}

/// `drift.acknowledged`, `drift.resolved`: a person dealt with a drift alert.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DriftChanged {
    pub alert_id: crate::ids::DriftId,
    pub agent_id: AgentId,
    pub agent: String,
    pub from: crate::model::registry::DriftStatus,
    pub to: crate::model::registry::DriftStatus,
    #[serde(default)]
    pub note: String,
}

/// `registry.enabled`: the org's agents are held to their manifests from here on; the
/// agents that existed before were given generated first versions (named here).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegistryEnabled {
    #[serde(default)]
    pub generated: Vec<String>,
}

/// `agent.sealed`: a decommissioned agent's personnel record, closed. Names what an
/// auditor checks it against later: its final manifest version and hash, its keys, and
/// the span of its records in the chain (how many, the first and last `seq`, and the
/// hash of the last), so none can be added or dropped unseen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentSealed {
    pub agent_id: AgentId,
    pub agent: String,
    pub reason: String,
    pub retention_class: String,
    #[serde(default)]
    pub replaced_by: Option<AgentId>,
    #[serde(default)]
    pub manifest_version: Option<i64>,
    #[serde(default)]
    pub manifest_sha256: Option<String>,
    pub keys: Vec<SealedKey>,
    pub records: SealedRecords,
}

/// A key of a sealed agent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SealedKey {
    pub key_id: KeyId,
    pub prefix: String,
}

/// The records of an agent in its org's chain: those it made, and those about it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SealedRecords {
    pub count: u64,
    pub first_seq: Option<i64>,
    pub last_seq: Option<i64>,
    pub last_hash: Option<String>,
}

/// `agent.key_issued`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentKeyIssued {
    pub agent_id: AgentId,
    pub key_id: KeyId,
    pub prefix: String,
}

/// `agent.key_revoked`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentKeyRevoked {
    pub key_id: KeyId,
}

/// `agent.<status>`: the agent's status changed to `to` (the kind names it too).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentStatusChanged {
    pub agent_id: AgentId,
    pub from: AgentStatus,
    pub to: AgentStatus,
    pub reason: String,
}

/// `instance.created`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InstanceCreated {
    pub instance_id: InstanceId,
    pub connector: String,
    pub name: String,
    pub environment: Environment,
    #[serde(default)]
    pub variables: BTreeMap<String, String>,
}

/// `instance.credentials_set` and `instance.credentials_rotated`: which credential
/// fields were written (never their values).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CredentialsChanged {
    pub instance_id: InstanceId,
    pub connector: String,
    pub fields: Vec<String>,
}

/// `org.created`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrgCreated {
    pub slug: String,
    pub name: String,
}

/// `user.created`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserCreated {
    pub user_id: UserId,
    pub email: String,
    /// `None` for a directory user whose rights come from their groups.
    pub role: Option<Role>,
}

/// `user.login`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserLogin {
    pub method: String,
    #[serde(default)]
    pub client: Option<String>,
}

/// `user.login_failed`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoginFailed {
    pub method: String,
    pub reason: String,
    #[serde(default)]
    pub client: Option<String>,
    #[serde(flatten)]
    pub burst: Burst,
}

/// `user.logout`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserLogout {}

/// `user.groups_set`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserGroupsSet {
    pub user_id: UserId,
    pub email: String,
    pub groups: Vec<String>,
}

/// `user.break_glass_login`: the org's bootstrap admin signed in with its password (the
/// account kept for when single sign-on is down). Shown on the Overview.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BreakGlassLogin {
    #[serde(default)]
    pub client: Option<String>,
}

/// `user.member_of_set`: the groups a user is a member of, from `source`, were replaced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MemberOfSet {
    pub user_id: UserId,
    pub email: String,
    pub source: String,
    pub groups: Vec<String>,
}

/// `group_mapping.set` (`deleted` when the mapping was removed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupMappingSet {
    pub group: String,
    pub role: Option<Role>,
    pub approver_groups: Vec<String>,
    #[serde(default)]
    pub deleted: bool,
}

/// `user.deactivated`: the account can no longer sign in; its sessions and tokens ended
/// and its group memberships removed, in the same transaction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserDeactivated {
    pub user_id: UserId,
    pub email: String,
    pub sessions_ended: u64,
    pub tokens_revoked: u64,
    pub groups_removed: Vec<String>,
}

/// `user.reactivated`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserReactivated {
    pub user_id: UserId,
    pub email: String,
}

/// `scim.user_written`: a directory created or changed a user (their activity changes
/// are recorded as `user.deactivated` / `user.reactivated` beside this).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScimUserWritten {
    pub user_id: UserId,
    pub email: String,
    pub name: String,
    pub created: bool,
    pub external_id: Option<String>,
}

/// `scim.user_deleted`: a directory deleted a user; ARX keeps the account deactivated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScimUserDeleted {
    pub user_id: UserId,
    pub email: String,
}

/// `scim.group_written`: a directory created or changed a group; who joined and left
/// (by email), so a change of rights is traceable to it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScimGroupWritten {
    pub group_id: crate::ids::GroupId,
    pub name: String,
    pub created: bool,
    pub renamed_from: Option<String>,
    pub added: Vec<String>,
    pub removed: Vec<String>,
    pub members: usize,
}

/// `scim.group_deleted`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScimGroupDeleted {
    pub group_id: crate::ids::GroupId,
    pub name: String,
    pub removed: Vec<String>,
}

/// `scim.token_created` and `scim.token_revoked`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScimTokenChanged {
    pub token_id: TokenId,
    pub name: String,
}

/// `settings.oidc_changed`: an admin set the org's OIDC sign-in (never the secret: only
/// whether it changed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OidcSettingsChanged {
    #[serde(flatten)]
    pub settings: crate::model::OidcSettings,
    pub secret_changed: bool,
}

/// `settings.saml_changed`: an admin set the org's SAML sign-in (with the IdP's signing
/// certificates' fingerprints, so a swapped certificate is on the record).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SamlSettingsChanged {
    #[serde(flatten)]
    pub settings: crate::model::SamlSettings,
}

/// `sso.refused`: a sign-in through an identity provider was refused; `reason` is stable
/// (`wrong_issuer`, `nonce_mismatch`, `unknown_key`...), `message` what the person saw.
/// Coalesced per reason and client address.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SsoRefused {
    pub protocol: String,
    pub reason: String,
    pub message: String,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub client: Option<String>,
    #[serde(flatten)]
    pub burst: Burst,
}

/// `session.ended`: a session was ended by its user or an admin, before it expired.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionEnded {
    pub user_id: UserId,
    pub email: String,
    /// The first characters of the session's key (its SHA-256), as listed.
    pub session: String,
}

/// `settings.sessions_changed`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionSettingsChanged {
    pub idle_minutes: i64,
    pub absolute_minutes: i64,
}

/// `user.slack_linked` (`slack_user_id` null when unlinked).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SlackLinked {
    pub user_id: UserId,
    pub email: String,
    pub slack_user_id: Option<String>,
}

/// `user.token_issued`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenIssued {
    pub user_id: UserId,
    pub token_id: TokenId,
    pub name: String,
    #[serde(default)]
    pub expires_at: Option<String>,
}

/// `user.token_revoked`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenRevoked {
    pub token_id: TokenId,
}

/// `integration.set`: the non-secret settings, and which secret fields were written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IntegrationSet {
    pub kind: IntegrationKind,
    pub config: BTreeMap<String, String>,
    pub secret_fields: Vec<String>,
    pub replaced: bool,
}

/// `integration.deleted`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IntegrationDeleted {
    pub kind: IntegrationKind,
}

/// `audit.checkpoint`: the chain's tip up to here is signed with the org's key and
/// written to its witnesses; this record is the one signed (docs/audit.md).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckpointTaken {
    pub key_id: String,
    /// The seq of the previous checkpoint (0 for the first).
    pub previous_seq: i64,
}

/// `audit.signing_key_created`: the org's checkpoint signing key, public half.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SigningKeyCreated {
    pub key_id: String,
    /// Base64 of the 32 raw bytes.
    pub public_key: String,
}

/// `witness.sink_added`: where checkpoints will also be written (no secret).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SinkAdded {
    pub sink_id: crate::ids::SinkId,
    pub kind: crate::witness::SinkKind,
    pub name: String,
    pub config: BTreeMap<String, String>,
}

/// `witness.sink_removed`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SinkRemoved {
    pub sink_id: crate::ids::SinkId,
    pub kind: crate::witness::SinkKind,
    pub name: String,
}

/// `slack.interaction_refused`: a Slack press that failed its checks. `details` names
/// what the press claimed (user, team, app, request), as far as it could be read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InteractionRefused {
    pub reason: String,
    pub message: String,
    #[serde(flatten)]
    pub burst: Burst,
    #[serde(flatten)]
    pub details: Map<String, Value>,
}

/// `policy.version_created`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PolicyVersionCreated {
    pub version: i64,
    pub previous: i64,
    pub message: String,
    #[serde(default)]
    pub summary: String,
    pub rules: usize,
    pub doc_sha256: String,
    #[serde(default)]
    pub added: Vec<String>,
    #[serde(default)]
    pub changed: Vec<String>,
    #[serde(default)]
    pub removed: Vec<String>,
    #[serde(default)]
    pub settings: Vec<String>,
    /// Why the author applied it (asked since apply and rollback need a reason).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// `response.read`: someone read a vendor answer kept out of the chain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResponseRead {
    pub record_id: RecordId,
    pub verified: bool,
}

/// `responses.purged`: answers past the org's retention were deleted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResponsesPurged {
    pub count: u64,
    pub created_before: String,
    pub retention_days: u32,
}

/// `settings.retention_changed`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RetentionChanged {
    pub response_days: u32,
    pub from: u32,
}

/// The kind of the record each governed call writes before it is decided or run.
pub const INTERCEPT: &str = "execute.intercept";

macro_rules! events {
    (
        $($kind:literal => $variant:ident($ty:ty),)*
        ; $($kind2:literal => $variant2:ident($ty2:ty),)*
    ) => {
        /// Every kind of audit record. See the module for the compatibility rules.
        #[derive(Debug, Clone, PartialEq)]
        pub enum AuditEvent {
            $($variant($ty),)*
            $($variant2($ty2),)*
            /// `approval.<to>`.
            ApprovalChanged(ApprovalChanged),
            /// `grant.<to>`.
            GrantChanged(GrantChanged),
            /// `agent.<to>`.
            AgentStatusChanged(AgentStatusChanged),
            /// A kind this version does not know, kept as written.
            Other { kind: String, fields: Value },
        }

        impl AuditEvent {
            /// The record kind, e.g. `execute.intercept`.
            pub fn kind(&self) -> Cow<'static, str> {
                match self {
                    $(AuditEvent::$variant(_) => Cow::Borrowed($kind),)*
                    $(AuditEvent::$variant2(_) => Cow::Borrowed($kind2),)*
                    AuditEvent::ApprovalChanged(e) => {
                        Cow::Owned(format!("approval.{}", e.to.unwrap_or(e.from).as_str()))
                    }
                    AuditEvent::GrantChanged(e) => Cow::Owned(format!(
                        "grant.{}",
                        e.to.map_or("changed", GrantStatus::as_str)
                    )),
                    AuditEvent::AgentStatusChanged(e) => {
                        Cow::Owned(format!("agent.{}", e.to.as_str()))
                    }
                    AuditEvent::Other { kind, .. } => Cow::Owned(kind.clone()),
                }
            }

            /// The record's `fields` object.
            pub fn fields(&self) -> Result<Value, serde_json::Error> {
                match self {
                    $(AuditEvent::$variant(e) => serde_json::to_value(e),)*
                    $(AuditEvent::$variant2(e) => serde_json::to_value(e),)*
                    AuditEvent::ApprovalChanged(e) => serde_json::to_value(e),
                    AuditEvent::GrantChanged(e) => serde_json::to_value(e),
                    AuditEvent::AgentStatusChanged(e) => serde_json::to_value(e),
                    AuditEvent::Other { fields, .. } => Ok(fields.clone()),
                }
            }

            /// Reads a record's kind and fields.
            pub fn parse(kind: &str, fields: &Value) -> Result<Self, serde_json::Error> {
                Ok(match kind {
                    $($kind => AuditEvent::$variant(<$ty>::deserialize(fields)?),)*
                    $($kind2 => AuditEvent::$variant2(<$ty2>::deserialize(fields)?),)*
                    _ => return Self::parse_open(kind, fields),
                })
            }
        }

        $(impl From<$ty> for AuditEvent {
            fn from(e: $ty) -> Self {
                AuditEvent::$variant(e)
            }
        })*
    };
}

events! {
    "execute.intercept" => Intercept(Intercept),
    "execute.result" => CallResult(CallResult),
    "execute.rejected" => Rejected(Rejected),
    "execute.unauthenticated" => Unauthenticated(Unauthenticated),
    "approval.requested" => ApprovalRequested(ApprovalRequested),
    "approval.vote" => ApprovalVoted(ApprovalVoted),
    "approval.state_read" => StateRead(StateRead),
    "approval.state_read_result" => StateReadResult(StateReadResult),
    "grant.requested" => GrantRequested(GrantRequested),
    "grant.refused" => GrantRefused(GrantRefused),
    "agent.created" => AgentCreated(AgentCreated),
    "agent.updated" => AgentUpdated(AgentUpdated),
    "agent.key_issued" => AgentKeyIssued(AgentKeyIssued),
    "agent.manifest_published" => ManifestPublished(ManifestPublished),
    "agent.manifest_requested" => ManifestRequested(ManifestRequested),
    "drift.detected" => DriftDetected(DriftDetected),
    "registry.enabled" => RegistryEnabled(RegistryEnabled),
    "agent.sealed" => AgentSealed(AgentSealed),
    "agent.key_revoked" => AgentKeyRevoked(AgentKeyRevoked),
    "instance.created" => InstanceCreated(InstanceCreated),
    "org.created" => OrgCreated(OrgCreated),
    "user.created" => UserCreated(UserCreated),
    "user.login" => UserLogin(UserLogin),
    "user.login_failed" => LoginFailed(LoginFailed),
    "user.logout" => UserLogout(UserLogout),
    "user.groups_set" => UserGroupsSet(UserGroupsSet),
    "user.slack_linked" => SlackLinked(SlackLinked),
    "user.break_glass_login" => BreakGlassLogin(BreakGlassLogin),
    "user.member_of_set" => MemberOfSet(MemberOfSet),
    "user.deactivated" => UserDeactivated(UserDeactivated),
    "user.reactivated" => UserReactivated(UserReactivated),
    "group_mapping.set" => GroupMappingSet(GroupMappingSet),
    "session.ended" => SessionEnded(SessionEnded),
    "settings.sessions_changed" => SessionSettingsChanged(SessionSettingsChanged),
    "user.token_issued" => TokenIssued(TokenIssued),
    "user.token_revoked" => TokenRevoked(TokenRevoked),
    "integration.set" => IntegrationSet(IntegrationSet),
    "integration.deleted" => IntegrationDeleted(IntegrationDeleted),
    "slack.interaction_refused" => InteractionRefused(InteractionRefused),
    "policy.version_created" => PolicyVersionCreated(PolicyVersionCreated),
    "response.read" => ResponseRead(ResponseRead),
    "responses.purged" => ResponsesPurged(ResponsesPurged),
    "settings.retention_changed" => RetentionChanged(RetentionChanged),
    "settings.oidc_changed" => OidcSettingsChanged(OidcSettingsChanged),
    "settings.saml_changed" => SamlSettingsChanged(SamlSettingsChanged),
    "sso.refused" => SsoRefused(SsoRefused),
    "scim.user_written" => ScimUserWritten(ScimUserWritten),
    "scim.user_deleted" => ScimUserDeleted(ScimUserDeleted),
    "scim.group_written" => ScimGroupWritten(ScimGroupWritten),
    "scim.group_deleted" => ScimGroupDeleted(ScimGroupDeleted),
    "audit.checkpoint" => CheckpointTaken(CheckpointTaken),
    "audit.signing_key_created" => SigningKeyCreated(SigningKeyCreated),
    "witness.sink_added" => SinkAdded(SinkAdded),
    "witness.sink_removed" => SinkRemoved(SinkRemoved),
    // Kinds sharing a type: built by name, not by `From`.
    ;
    "instance.credentials_set" => CredentialsSet(CredentialsChanged),
    "instance.credentials_rotated" => CredentialsRotated(CredentialsChanged),
    "drift.acknowledged" => DriftAcknowledged(DriftChanged),
    "drift.resolved" => DriftResolved(DriftChanged),
    "scim.token_created" => ScimTokenCreated(ScimTokenChanged),
    "scim.token_revoked" => ScimTokenRevoked(ScimTokenChanged),
}

impl AuditEvent {
    /// The kinds whose name carries a status, and those this version does not know.
    fn parse_open(kind: &str, fields: &Value) -> Result<Self, serde_json::Error> {
        let (family, status) = kind.split_once('.').unwrap_or((kind, ""));
        Ok(match family {
            "approval" if ApprovalStatus::parse(status).is_some() => {
                let mut e = ApprovalChanged::deserialize(fields)?;
                e.to = ApprovalStatus::parse(status);
                AuditEvent::ApprovalChanged(e)
            }
            "grant" if GrantStatus::parse(status).is_some() => {
                let mut e = GrantChanged::deserialize(fields)?;
                e.to = GrantStatus::parse(status);
                AuditEvent::GrantChanged(e)
            }
            "agent" if AgentStatus::parse(status).is_some() => {
                AuditEvent::AgentStatusChanged(AgentStatusChanged::deserialize(fields)?)
            }
            _ => AuditEvent::Other {
                kind: kind.to_string(),
                fields: fields.clone(),
            },
        })
    }

    /// The burst of a coalesced refusal (see `engine::refusals`); `None` for other kinds.
    pub fn burst_mut(&mut self) -> Option<&mut Burst> {
        match self {
            AuditEvent::Unauthenticated(e) => Some(&mut e.burst),
            AuditEvent::LoginFailed(e) => Some(&mut e.burst),
            AuditEvent::InteractionRefused(e) => Some(&mut e.burst),
            AuditEvent::SsoRefused(e) => Some(&mut e.burst),
            _ => None,
        }
    }

    /// The agent, connector and operation a record is about, for lists and indexes.
    pub fn subject(&self) -> Subject<'_> {
        match self {
            AuditEvent::Intercept(i) => Subject {
                agent: Some(&i.agent),
                connector: Some(&i.connector),
                operation: Some(&i.operation),
                verdict: Some(i.verdict),
                tier: Some(i.tier),
                risk_score: Some(i.risk.score),
            },
            AuditEvent::CallResult(r) => Subject {
                connector: Some(&r.connector),
                operation: Some(&r.operation),
                ..Subject::default()
            },
            AuditEvent::Rejected(r) => Subject {
                agent: Some(&r.agent),
                connector: r.connector.as_deref(),
                operation: r.operation.as_deref(),
                ..Subject::default()
            },
            AuditEvent::ApprovalRequested(a) => Subject {
                connector: Some(&a.connector),
                operation: Some(&a.operation),
                ..Subject::default()
            },
            AuditEvent::GrantRequested(g) => Subject {
                connector: Some(&g.connector),
                ..Subject::default()
            },
            AuditEvent::GrantRefused(g) => Subject {
                connector: Some(&g.connector),
                ..Subject::default()
            },
            AuditEvent::GrantChanged(g) => Subject {
                connector: Some(&g.connector),
                ..Subject::default()
            },
            AuditEvent::InstanceCreated(i) => Subject {
                connector: Some(&i.connector),
                ..Subject::default()
            },
            AuditEvent::ManifestPublished(m) => Subject {
                agent: Some(&m.agent),
                ..Subject::default()
            },
            AuditEvent::ManifestRequested(m) => Subject {
                agent: Some(&m.agent),
                ..Subject::default()
            },
            AuditEvent::DriftDetected(d) => Subject {
                agent: Some(&d.agent),
                ..Subject::default()
            },
            _ => Subject::default(),
        }
    }
}

/// What a record is about, as far as its kind says.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Subject<'a> {
    pub agent: Option<&'a str>,
    pub connector: Option<&'a str>,
    pub operation: Option<&'a str>,
    pub verdict: Option<Verdict>,
    pub tier: Option<RiskTier>,
    pub risk_score: Option<u8>,
}

/// An event serializes as its `fields` object (as in an approval's detail).
impl Serialize for AuditEvent {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.fields()
            .map_err(serde::ser::Error::custom)?
            .serialize(s)
    }
}

/// `Option<Option<T>>` for a field that may be absent (`None`), null (`Some(None)`) or set.
mod present {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer, T: Serialize>(
        v: &Option<Option<T>>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match v {
            Some(inner) => inner.serialize(s),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
        d: D,
    ) -> Result<Option<Option<T>>, D::Error> {
        Option::<T>::deserialize(d).map(Some)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn round_trip(kind: &str, fields: Value) -> AuditEvent {
        let e = AuditEvent::parse(kind, &fields).unwrap();
        assert_eq!(e.kind(), kind);
        assert_eq!(
            e.fields().unwrap(),
            fields,
            "{kind} serializes back exactly"
        );
        e
    }

    #[test]
    fn an_intercept_of_an_early_version_still_parses_and_gives_the_policy_input() {
        // Written before instances, methods and labels were recorded.
        let fields = json!({
            "agent_id": "a1", "agent": "triage", "connector": "okta", "operation": "users:read",
            "tier": "low", "environment": "prod", "params": {"limit": 5},
            "risk": {"score": 40, "operation": 0, "connector": 20, "frequency": 0, "target": 20,
                     "calls_last_60s": 1, "declared_rate": 60},
            "verdict": "PERMIT", "policy_id": "default:read",
        });
        let AuditEvent::Intercept(i) = AuditEvent::parse(INTERCEPT, &fields).unwrap() else {
            panic!("not an intercept");
        };
        assert_eq!((i.instance_id, i.policy_version), (None, 0));
        let input = i.policy_input(None);
        assert_eq!((input.connector, input.agent_id), ("okta", "a1"));
        assert_eq!(input.call.params["limit"], 5);
    }

    #[test]
    fn statuses_in_the_kind_and_nulls_absent_fields_survive_a_round_trip() {
        let id = ApprovalId::new();
        // A finished call's move writes `comment: null`; an expiry writes no comment.
        let e = round_trip(
            "approval.executed",
            json!({"approval_id": id, "from": "executing", "comment": null}),
        );
        assert!(matches!(e, AuditEvent::ApprovalChanged(ref c) if c.comment == Some(None)));
        round_trip(
            "approval.expired",
            json!({"approval_id": id, "from": "pending", "expires_at": "2026-01-01T00:00:00.000Z",
                   "reason": "nobody decided in time"}),
        );
        round_trip(
            "agent.suspended",
            json!({"agent_id": AgentId::new(), "from": "active", "to": "suspended", "reason": "x"}),
        );
        round_trip(
            "grant.revoked",
            json!({"grant_id": GrantId::new(), "agent_id": AgentId::new(), "connector": "azure",
                   "operations": ["a"], "reason": "done"}),
        );
    }

    #[test]
    fn a_refusal_summary_keeps_its_burst_and_a_slack_refusal_its_details() {
        round_trip(
            "user.login_failed",
            json!({"method": "password", "reason": "wrong password", "client": null,
                   "count": 4, "first_ms": 1, "last_ms": 9, "summary": true}),
        );
        let e = round_trip(
            "slack.interaction_refused",
            json!({"reason": "bad_signature", "message": "m", "count": 1, "team": "T1"}),
        );
        let AuditEvent::InteractionRefused(r) = e else {
            panic!("not a refusal")
        };
        assert_eq!(r.burst.count, Some(1));
        assert_eq!(r.details.keys().collect::<Vec<_>>(), ["team"]);
    }

    #[test]
    fn an_unknown_kind_is_kept_as_written() {
        let e = round_trip("future.thing", json!({"x": 1}));
        assert!(matches!(e, AuditEvent::Other { .. }));
    }
}
