//! The registry's records: orgs, users, agents and their keys, connector instances,
//! approval requests. Plain data; the rules that change them live in [`crate::engine`].

pub mod identity;
pub mod registry;
pub mod simulation;
pub mod stats;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::ids::{
    AgentId, ApprovalId, GrantId, InstanceId, KeyId, OrgId, RecordId, TokenId, UserId,
};
use crate::policy::{Escalation, PolicyDoc};

pub use identity::{
    BreakGlassUse, GroupMapping, Membership, OidcSettings, Roles, SamlSettings, Source, UserView,
};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Org {
    pub id: OrgId,
    pub slug: String,
    pub name: String,
    /// The policy version in force; 0 is the built-in defaults.
    pub policy_version: i64,
    pub created_ms: i64,
}

/// One immutable version of an org's policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PolicyVersion {
    pub org_id: OrgId,
    pub version: i64,
    pub doc: PolicyDoc,
    pub author_id: Option<UserId>,
    /// Who saved it, as shown (an email, or `arx policy apply`).
    pub author: String,
    pub message: String,
    /// What changed from the version before, in one line.
    pub summary: String,
    pub created_ms: i64,
}

/// What a user may do. Roles are ordered by what they can read; only `Admin` changes config.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    Reviewer,
    Auditor,
    Owner,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Reviewer => "reviewer",
            Role::Auditor => "auditor",
            Role::Owner => "owner",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "admin" => Some(Role::Admin),
            "reviewer" => Some(Role::Reviewer),
            "auditor" => Some(Role::Auditor),
            "owner" => Some(Role::Owner),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct User {
    pub id: UserId,
    pub org_id: OrgId,
    pub email: String,
    pub name: String,
    /// The role an admin gave the user directly; `None` for a directory user whose rights
    /// come only from their groups.
    pub role: Option<Role>,
    /// argon2 PHC string; `None` for users who only sign in through SSO.
    #[serde(skip_serializing)]
    pub password_hash: Option<String>,
    pub active: bool,
    /// Approver groups the user belongs to (an ESCALATE rule names the groups that decide).
    #[serde(default)]
    pub groups: Vec<String>,
    /// The user's Slack user id (`U…`), linked by an admin: Slack decisions by that
    /// Slack user are this user's, whatever the Slack profile's email says.
    #[serde(default)]
    pub slack_user_id: Option<String>,
    pub created_ms: i64,
    /// Where the account came from.
    #[serde(default = "local")]
    pub source: Source,
    #[serde(default)]
    pub last_login_ms: Option<i64>,
    /// The org's bootstrap admin: a local account kept for when SSO is down, whose every
    /// sign-in is shown on the Overview.
    #[serde(default)]
    pub break_glass: bool,
    /// The groups the user is a member of, each with what the org's mapping gives it.
    #[serde(default)]
    pub member_of: Vec<Membership>,
}

fn local() -> Source {
    Source::Local
}

impl User {
    /// A new account an identity provider or a directory brought (`source`): no password
    /// and no role of its own, its rights come from its groups.
    pub fn from_directory(
        org_id: OrgId,
        email: &str,
        name: &str,
        source: Source,
        active: bool,
        now_ms: i64,
    ) -> Self {
        User {
            id: UserId::new(),
            org_id,
            email: email.to_string(),
            name: name.chars().take(200).collect(),
            role: None,
            password_hash: None,
            active,
            groups: vec![],
            slack_user_id: None,
            created_ms: now_ms,
            source,
            last_login_ms: None,
            break_glass: false,
            member_of: vec![],
        }
    }

    /// What the user may do: their own role and every role their groups are mapped to.
    pub fn roles(&self) -> Roles {
        Roles::of(
            self.role
                .into_iter()
                .chain(self.member_of.iter().filter_map(|m| m.role)),
        )
    }

    /// The approver groups the user decides for: their own and their groups' mapped ones.
    pub fn approver_groups(&self) -> Vec<String> {
        let mut all: Vec<String> = self
            .groups
            .iter()
            .chain(self.member_of.iter().flat_map(|m| &m.approver_groups))
            .cloned()
            .collect();
        all.sort();
        all.dedup();
        all
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AgentStatus {
    Active,
    /// Drift put it on its declared rate: calls beyond it get `429 rate_limited`.
    Throttled,
    Suspended,
    Decommissioned,
}

impl AgentStatus {
    pub const ALL: [AgentStatus; 4] = [
        AgentStatus::Active,
        AgentStatus::Throttled,
        AgentStatus::Suspended,
        AgentStatus::Decommissioned,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AgentStatus::Active => "active",
            AgentStatus::Throttled => "throttled",
            AgentStatus::Suspended => "suspended",
            AgentStatus::Decommissioned => "decommissioned",
        }
    }

    /// Whether the agent's calls are evaluated (a throttled one's within its rate); a
    /// suspended or decommissioned agent's are denied at the gate.
    pub fn may_act(self) -> bool {
        matches!(self, AgentStatus::Active | AgentStatus::Throttled)
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "active" => Some(AgentStatus::Active),
            "throttled" => Some(AgentStatus::Throttled),
            "suspended" => Some(AgentStatus::Suspended),
            "decommissioned" => Some(AgentStatus::Decommissioned),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Agent {
    pub id: AgentId,
    pub org_id: OrgId,
    pub name: String,
    pub description: String,
    /// The accountable human (an email).
    pub owner: String,
    pub labels: BTreeMap<String, String>,
    pub status: AgentStatus,
    /// Calls per minute the agent declares; the frequency input of the risk score.
    pub declared_rate: u32,
    pub created_ms: i64,
    /// The manifest version in force (none: it has none yet).
    #[serde(default)]
    pub manifest_version: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AgentKey {
    pub id: KeyId,
    pub org_id: OrgId,
    pub agent_id: AgentId,
    /// The first characters of the key, to recognise it in lists.
    pub prefix: String,
    /// SHA-256 of the whole key, hex.
    #[serde(skip_serializing)]
    pub hash: String,
    pub created_ms: i64,
    pub revoked_ms: Option<i64>,
    /// When the key last authenticated a call, to the hour: the execute path writes it
    /// only when the stored value is an hour old (null: not used since ARX tracks it).
    #[serde(default)]
    pub last_used_ms: Option<i64>,
}

/// An admin API token, as lists show it: never its secret or hash.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ApiToken {
    pub id: TokenId,
    pub org_id: OrgId,
    pub user_id: UserId,
    /// The email of the user the token acts as.
    pub user_email: String,
    pub name: String,
    /// The first characters of the secret, to recognise it (empty for tokens issued
    /// before prefixes were kept).
    pub prefix: String,
    pub created_ms: i64,
    /// After this the token no longer works.
    pub expires_ms: i64,
    pub last_used_ms: Option<i64>,
    pub revoked_ms: Option<i64>,
}

/// Environment of a connector instance; the target input of the risk score.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Environment {
    Prod,
    Staging,
    Dev,
    Unknown,
}

impl Environment {
    pub fn as_str(self) -> &'static str {
        match self {
            Environment::Prod => "prod",
            Environment::Staging => "staging",
            Environment::Dev => "dev",
            Environment::Unknown => "unknown",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "prod" | "production" => Some(Environment::Prod),
            "staging" => Some(Environment::Staging),
            "dev" | "development" => Some(Environment::Dev),
            "unknown" => Some(Environment::Unknown),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Instance {
    pub id: InstanceId,
    pub org_id: OrgId,
    pub connector: String,
    /// Unique per org and connector; agents may name it in `instance`.
    pub name: String,
    pub environment: Environment,
    /// Values for the connector's URL template variables.
    pub variables: BTreeMap<String, String>,
    /// Overrides the connector's sensitivity (0–25).
    pub sensitivity: Option<u8>,
    /// Encrypted credentials (see [`crate::vault`]); never serialized out.
    #[serde(skip)]
    pub sealed_credentials: Option<String>,
    pub credentials_set: bool,
    pub created_ms: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ApprovalStatus {
    Pending,
    Approved,
    Denied,
    Expired,
    Cancelled,
    Executing,
    Executed,
    Failed,
}

impl ApprovalStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ApprovalStatus::Pending => "pending",
            ApprovalStatus::Approved => "approved",
            ApprovalStatus::Denied => "denied",
            ApprovalStatus::Expired => "expired",
            ApprovalStatus::Cancelled => "cancelled",
            ApprovalStatus::Executing => "executing",
            ApprovalStatus::Executed => "executed",
            ApprovalStatus::Failed => "failed",
        }
    }

    /// No further change will happen.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            ApprovalStatus::Denied
                | ApprovalStatus::Expired
                | ApprovalStatus::Cancelled
                | ApprovalStatus::Executed
                | ApprovalStatus::Failed
        )
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            ApprovalStatus::Pending,
            ApprovalStatus::Approved,
            ApprovalStatus::Denied,
            ApprovalStatus::Expired,
            ApprovalStatus::Cancelled,
            ApprovalStatus::Executing,
            ApprovalStatus::Executed,
            ApprovalStatus::Failed,
        ]
        .into_iter()
        .find(|st| st.as_str() == s)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ApprovalRequest {
    pub id: ApprovalId,
    pub org_id: OrgId,
    pub agent_id: AgentId,
    /// The connector instance a call or grant is for (none for a manifest).
    pub instance_id: Option<InstanceId>,
    pub connector: String,
    pub operation: String,
    pub params: serde_json::Value,
    /// SHA-256 of the canonical params: what is approved is what runs.
    pub params_hash: String,
    pub intercept_id: RecordId,
    pub risk_score: u8,
    pub policy_id: String,
    pub status: ApprovalStatus,
    pub created_ms: i64,
    pub expires_ms: i64,
    /// What the deciding rule asks: approver groups, approvals needed, owner, diff.
    pub requirements: Escalation,
    pub decided_ms: Option<i64>,
    /// Who approved (in order) or denied.
    pub decided_by: Vec<String>,
    pub comment: String,
    /// How the approved call or grant ended, once it has.
    #[serde(default, deserialize_with = "read_outcome")]
    pub outcome: Option<CallOutcome>,
    pub result_audit_id: Option<RecordId>,
    pub kind: ApprovalKind,
    /// When the process running the approved call last said it is alive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub heartbeat_ms: Option<i64>,
}

/// What stands in a request's stored outcome for the target's answer, for those who may
/// not read vendor answers.
pub const ANSWER_WITHHELD: &str =
    "the target's answer is shown to admins and auditors; its hash is in the audit trail";

impl ApprovalRequest {
    /// Drops the target's answer from the stored outcome (the agent's result or the
    /// target's error body), keeping everything else: vendor answers are read only by
    /// admins and auditors, like the bodies kept out of the chain.
    pub fn withhold_answer(&mut self) {
        let withheld = || serde_json::json!({ "withheld": ANSWER_WITHHELD });
        match &mut self.outcome {
            Some(CallOutcome::Executed { result, .. }) => *result = withheld(),
            Some(CallOutcome::TargetError { body, .. }) => *body = withheld(),
            _ => {}
        }
    }
}

/// How an approved request ended, stored with it: the domain's account, which the
/// server turns into the agent's HTTP answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CallOutcome {
    /// The call ran once with the approved params; the target answered 2xx.
    Executed {
        result: serde_json::Value,
        result_audit_id: RecordId,
    },
    /// The approved grant became active.
    GrantActive {
        grant_id: GrantId,
        connector: String,
        operations: Vec<String>,
        resource: Option<GrantResource>,
        expires_at: String,
    },
    /// The registered manifest became the agent's next version.
    ManifestPublished {
        version: i64,
        manifest_sha256: String,
    },
    /// The call ran; the target answered with an error.
    TargetError {
        status: u16,
        body: serde_json::Value,
    },
    /// The call got no answer from the target (unreachable, or ARX stopped while it ran).
    Unreachable { message: String },
    /// ARX could not run it; `code` is the engine's error code.
    Failed { code: String, message: String },
}

impl CallOutcome {
    /// The outcome of a call that ended in `e`.
    pub fn from_error(e: &crate::CoreError) -> Self {
        use crate::CoreError;
        match e {
            CoreError::TargetError { status, body, .. } => CallOutcome::TargetError {
                status: *status,
                body: body.clone(),
            },
            CoreError::TargetUnreachable { message, .. } => CallOutcome::Unreachable {
                message: message.clone(),
            },
            other => CallOutcome::Failed {
                code: other.code().into(),
                message: other.public_message(),
            },
        }
    }

    /// What the agent gets for a call that did not run to a 2xx answer.
    pub fn error(&self, audit_id: RecordId) -> Option<crate::CoreError> {
        use crate::CoreError;
        let audit_id = audit_id.to_string();
        Some(match self {
            CallOutcome::Executed { .. }
            | CallOutcome::GrantActive { .. }
            | CallOutcome::ManifestPublished { .. } => return None,
            CallOutcome::TargetError { status, body } => CoreError::TargetError {
                status: *status,
                body: body.clone(),
                audit_id,
            },
            CallOutcome::Unreachable { message } => CoreError::TargetUnreachable {
                message: message.clone(),
                audit_id,
            },
            CallOutcome::Failed { code, .. } if code == "audit_unavailable" => {
                CoreError::AuditUnavailable
            }
            CallOutcome::Failed { code, .. } if code == "result_unrecorded" => {
                CoreError::ResultUnrecorded { audit_id }
            }
            CallOutcome::Failed { message, .. } => CoreError::Internal(message.clone()),
        })
    }
}

impl CallOutcome {
    /// Reads an outcome as stored now (tagged by `kind`) or as stored before outcomes
    /// were typed: `{http_status, body}`, the agent's HTTP answer itself.
    pub fn read(v: &serde_json::Value) -> Option<Self> {
        match v.get("kind") {
            Some(_) => serde_json::from_value(v.clone()).ok(),
            None => legacy_outcome(v),
        }
    }
}

/// Serde's side of [`CallOutcome::read`], for the stored request.
fn read_outcome<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<CallOutcome>, D::Error> {
    let v = Option::<serde_json::Value>::deserialize(d)?;
    v.map(|v| CallOutcome::read(&v).ok_or_else(|| serde::de::Error::custom("not a call outcome")))
        .transpose()
}

/// An outcome stored as `{http_status, body}` by versions before outcomes were typed.
fn legacy_outcome(v: &serde_json::Value) -> Option<CallOutcome> {
    let body = v.get("body")?;
    let text = |x: &serde_json::Value| x.as_str().unwrap_or_default().to_string();
    if v.get("http_status")?.as_u64()? < 300 {
        if let Some(grant_id) = body.get("grant_id") {
            return Some(CallOutcome::GrantActive {
                grant_id: serde_json::from_value(grant_id.clone()).ok()?,
                connector: text(&body["connector"]),
                operations: serde_json::from_value(body["operations"].clone()).unwrap_or_default(),
                resource: serde_json::from_value(body["resource"].clone()).unwrap_or_default(),
                expires_at: text(&body["expires_at"]),
            });
        }
        return Some(CallOutcome::Executed {
            result: body["result"].clone(),
            result_audit_id: serde_json::from_value(body["result_audit_id"].clone()).ok()?,
        });
    }
    let e = &body["error"];
    Some(match e["code"].as_str()? {
        "target_error" => CallOutcome::TargetError {
            status: u16::try_from(e["target_status"].as_u64()?).ok()?,
            body: e["target_body"].clone(),
        },
        "target_unreachable" => CallOutcome::Unreachable {
            message: text(&e["message"]),
        },
        code => CallOutcome::Failed {
            code: code.into(),
            message: text(&e["message"]),
        },
    })
}

/// What an approval request asks a reviewer to let happen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ApprovalKind {
    /// Run one escalated call with the params shown.
    Call,
    /// Activate a time-bound grant of the scope shown.
    Grant,
    /// Make the manifest an agent registered, which widens its scope, its next version.
    Manifest,
}

impl ApprovalKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ApprovalKind::Call => "call",
            ApprovalKind::Grant => "grant",
            ApprovalKind::Manifest => "manifest",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            ApprovalKind::Call,
            ApprovalKind::Grant,
            ApprovalKind::Manifest,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum GrantStatus {
    Requested,
    Active,
    Expired,
    Revoked,
    Denied,
}

impl GrantStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            GrantStatus::Requested => "requested",
            GrantStatus::Active => "active",
            GrantStatus::Expired => "expired",
            GrantStatus::Revoked => "revoked",
            GrantStatus::Denied => "denied",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            GrantStatus::Requested,
            GrantStatus::Active,
            GrantStatus::Expired,
            GrantStatus::Revoked,
            GrantStatus::Denied,
        ]
        .into_iter()
        .find(|g| g.as_str() == s)
    }
}

/// One resource a grant is limited to: calls whose `param` equals `value`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GrantResource {
    pub param: String,
    pub value: String,
}

/// Temporary extra scope: while active, the listed operations of a connector (on one
/// resource, when given) are permitted where policy would escalate them (§5 step 4).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Grant {
    pub id: GrantId,
    pub org_id: OrgId,
    pub agent_id: AgentId,
    pub connector: String,
    /// The one instance the grant covers; `None` only for grants from before instances
    /// were named, which cover nothing.
    pub instance_id: Option<InstanceId>,
    pub operations: Vec<String>,
    pub resource: Option<GrantResource>,
    pub reason: String,
    pub ttl_secs: u32,
    /// What approving it required: the strictest requirements of every rule that would
    /// escalate a covered call. A call whose rule asks for more is not covered.
    pub requirements: Option<Escalation>,
    pub approval_id: ApprovalId,
    pub status: GrantStatus,
    pub created_ms: i64,
    pub starts_ms: Option<i64>,
    pub expires_ms: Option<i64>,
    pub ended_ms: Option<i64>,
    pub ended_reason: String,
}

impl Grant {
    /// Whether this grant, active at `now_ms`, covers a call.
    pub fn covers(
        &self,
        connector: &str,
        instance: InstanceId,
        operation: &str,
        params: &serde_json::Map<String, serde_json::Value>,
        now_ms: i64,
    ) -> bool {
        self.status == GrantStatus::Active
            && self.expires_ms.is_some_and(|e| now_ms < e)
            && self.connector == connector
            && self.instance_id == Some(instance)
            && self.operations.iter().any(|o| o == operation)
            && self.resource.as_ref().is_none_or(|r| {
                params.get(&r.param).is_some_and(|v| match v {
                    serde_json::Value::String(s) => *s == r.value,
                    other => serde_json::to_string(other).is_ok_and(|s| s == r.value),
                })
            })
    }
}

/// A change of a grant's state, applied only if it is still in `from`.
#[derive(Debug, Clone, PartialEq)]
pub struct GrantChange {
    pub from: Vec<GrantStatus>,
    pub to: GrantStatus,
    pub starts_ms: Option<i64>,
    pub expires_ms: Option<i64>,
    pub ended_ms: Option<i64>,
    pub ended_reason: Option<String>,
}

/// A change of an approval request's state, applied only if it is still in `from`.
#[derive(Debug, Clone, PartialEq)]
pub struct ApprovalChange {
    pub from: Vec<ApprovalStatus>,
    pub to: ApprovalStatus,
    pub decided_ms: Option<i64>,
    pub decided_by: Option<Vec<String>>,
    pub comment: Option<String>,
    pub outcome: Option<CallOutcome>,
    pub result_audit_id: Option<RecordId>,
    /// Applied only while the request has not expired at this time: an approval after
    /// `expires_at` is refused by the store itself, whatever the sweeper has done yet.
    pub unexpired_at: Option<i64>,
}

impl ApprovalChange {
    pub fn new(from: &[ApprovalStatus], to: ApprovalStatus) -> Self {
        ApprovalChange {
            from: from.to_vec(),
            to,
            decided_ms: None,
            decided_by: None,
            comment: None,
            outcome: None,
            result_audit_id: None,
            unexpired_at: None,
        }
    }
}

/// One approver's approval of a request that needs several.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ApprovalVote {
    pub approval_id: ApprovalId,
    pub user_id: UserId,
    pub email: String,
    pub comment: String,
    pub created_ms: i64,
}

#[cfg(test)]
mod outcome_tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn outcomes_stored_as_http_answers_by_earlier_versions_still_read() {
        let rec = RecordId::new();
        let ran = json!({"http_status": 200, "body": {"result": {"ok": true}, "audit_id": RecordId::new(),
                         "result_audit_id": rec, "verdict": "PERMIT", "risk_score": 80}});
        assert_eq!(
            CallOutcome::read(&ran),
            Some(CallOutcome::Executed {
                result: json!({"ok": true}),
                result_audit_id: rec
            })
        );
        let target = json!({"http_status": 502, "body": {"error": {"code": "target_error",
                            "message": "the target answered 404", "target_status": 404,
                            "target_body": {"e": 1}}}});
        assert_eq!(
            CallOutcome::read(&target),
            Some(CallOutcome::TargetError {
                status: 404,
                body: json!({"e": 1})
            })
        );
        let grant = GrantId::new();
        let granted = json!({"http_status": 200, "body": {"grant_id": grant, "status": "active",
                             "connector": "azure", "operations": ["a"], "resource": null,
                             "expires_at": "t", "approval_id": ApprovalId::new()}});
        assert!(matches!(
            CallOutcome::read(&granted),
            Some(CallOutcome::GrantActive { grant_id, .. }) if grant_id == grant
        ));
        let gone = json!({"http_status": 502, "body": {"error": {"code": "target_unreachable",
                          "message": "ARX restarted", "audit_id": "x"}}});
        assert_eq!(
            CallOutcome::read(&gone),
            Some(CallOutcome::Unreachable {
                message: "ARX restarted".into()
            })
        );
        // And what is stored now reads back as itself.
        let now = CallOutcome::Failed {
            code: "audit_unavailable".into(),
            message: "m".into(),
        };
        assert_eq!(
            CallOutcome::read(&serde_json::to_value(&now).unwrap()),
            Some(now.clone())
        );
        assert!(matches!(
            now.error(rec),
            Some(crate::CoreError::AuditUnavailable)
        ));
    }
}
