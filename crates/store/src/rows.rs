//! Row ↔ model conversion, shared by every query.

use arx_core::CoreError;
use arx_core::audit::AuditRecord;
use arx_core::model::{
    Agent, AgentKey, AgentStatus, ApiToken, ApprovalKind, ApprovalRequest, ApprovalStatus,
    ApprovalVote, Environment, Grant, GrantStatus, Instance, Org, PolicyVersion, Role, User,
};
use arx_core::model::{GroupMapping, Membership, Source};
use arx_core::store::{SessionInfo, SessionRow};
use sqlx::Row;
use sqlx::any::AnyRow;

pub(crate) fn bad(what: &str) -> CoreError {
    CoreError::Internal(format!("stored {what} is malformed"))
}

pub(crate) fn get<T>(row: &AnyRow, col: &str) -> Result<T, CoreError>
where
    T: for<'r> sqlx::Decode<'r, sqlx::Any> + sqlx::Type<sqlx::Any>,
{
    row.try_get(col)
        .map_err(|e| CoreError::Internal(format!("column {col}: {e}")))
}

pub(crate) fn id<T: std::str::FromStr>(row: &AnyRow, col: &str) -> Result<T, CoreError> {
    get::<String>(row, col)?.parse().map_err(|_| bad(col))
}

pub(crate) fn json<T: serde::de::DeserializeOwned>(
    row: &AnyRow,
    col: &str,
) -> Result<T, CoreError> {
    serde_json::from_str(&get::<String>(row, col)?).map_err(|_| bad(col))
}

/// A nullable id column.
fn opt_id<T: std::str::FromStr>(row: &AnyRow, col: &str) -> Result<Option<T>, CoreError> {
    get::<Option<String>>(row, col)?
        .map(|s| s.parse().map_err(|_| bad(col)))
        .transpose()
}

/// A nullable JSON column.
fn opt_json<T: serde::de::DeserializeOwned>(
    row: &AnyRow,
    col: &str,
) -> Result<Option<T>, CoreError> {
    get::<Option<String>>(row, col)?
        .map(|s| serde_json::from_str(&s).map_err(|_| bad(col)))
        .transpose()
}

/// A column holding one of an enum's names, read back with its `parse`.
pub(crate) fn named<T>(
    row: &AnyRow,
    col: &str,
    parse: fn(&str) -> Option<T>,
) -> Result<T, CoreError> {
    parse(&get::<String>(row, col)?).ok_or_else(|| bad(col))
}

/// A user's own role: the column is `NOT NULL` since the first schema, so a directory user
/// with no role of their own holds the empty string.
fn own_role(row: &AnyRow, col: &str) -> Result<Option<Role>, CoreError> {
    match get::<String>(row, col)?.as_str() {
        "" => Ok(None),
        s => Role::parse(s).map(Some).ok_or_else(|| bad(col)),
    }
}

/// A nullable column holding one of an enum's names.
fn opt_named<T>(
    row: &AnyRow,
    col: &str,
    parse: fn(&str) -> Option<T>,
) -> Result<Option<T>, CoreError> {
    get::<Option<String>>(row, col)?
        .map(|s| parse(&s).ok_or_else(|| bad(col)))
        .transpose()
}

pub(crate) fn org(row: &AnyRow) -> Result<Org, CoreError> {
    org_prefixed(row, "")
}

/// An org whose columns carry `prefix` next to other tables' in a join.
pub(crate) fn org_prefixed(row: &AnyRow, prefix: &str) -> Result<Org, CoreError> {
    let c = |n: &str| format!("{prefix}{n}");
    Ok(Org {
        id: id(row, &c("id"))?,
        slug: get(row, &c("slug"))?,
        name: get(row, &c("name"))?,
        policy_version: get(row, &c("policy_version"))?,
        created_ms: get(row, &c("created_ms"))?,
    })
}

pub(crate) fn user(row: &AnyRow) -> Result<User, CoreError> {
    user_prefixed(row, "")
}

/// A user whose columns carry `prefix` next to other tables' in a join.
pub(crate) fn user_prefixed(row: &AnyRow, prefix: &str) -> Result<User, CoreError> {
    let c = |n: &str| format!("{prefix}{n}");
    Ok(User {
        id: id(row, &c("id"))?,
        org_id: id(row, &c("org_id"))?,
        email: get(row, &c("email"))?,
        name: get(row, &c("name"))?,
        role: own_role(row, &c("role"))?,
        password_hash: get(row, &c("password_hash"))?,
        active: get::<i64>(row, &c("active"))? != 0,
        groups: json(row, &c("groups"))?,
        slack_user_id: get(row, &c("slack_user_id"))?,
        created_ms: get(row, &c("created_ms"))?,
        source: named(row, &c("source"), Source::parse)?,
        last_login_ms: get(row, &c("last_login_ms"))?,
        break_glass: get::<i64>(row, &c("break_glass"))? != 0,
        member_of: vec![],
    })
}

/// A membership with what the org's mapping gives its group (left-joined: nulls when the
/// group is not mapped), and the member's id.
pub(crate) fn membership(row: &AnyRow) -> Result<(String, Membership), CoreError> {
    Ok((
        get(row, "user_id")?,
        Membership {
            group: get(row, "group_name")?,
            source: named(row, "source", Source::parse)?,
            role: opt_named(row, "role", Role::parse)?,
            approver_groups: opt_json(row, "approver_groups")?.unwrap_or_default(),
        },
    ))
}

pub(crate) fn group_mapping(row: &AnyRow) -> Result<GroupMapping, CoreError> {
    Ok(GroupMapping {
        group: get(row, "group_name")?,
        role: opt_named(row, "role", Role::parse)?,
        approver_groups: json(row, "approver_groups")?,
        updated_ms: get(row, "updated_ms")?,
    })
}

pub(crate) fn session_row(row: &AnyRow) -> Result<SessionRow, CoreError> {
    Ok(SessionRow {
        data: get(row, "data")?,
        org_id: opt_id(row, "org_id")?,
        created_ms: get(row, "created_ms")?,
        last_seen_ms: get(row, "last_seen_ms")?,
    })
}

pub(crate) fn session_info(row: &AnyRow) -> Result<SessionInfo, CoreError> {
    Ok(SessionInfo {
        key: get(row, "id")?,
        user_id: id(row, "user_id")?,
        created_ms: get(row, "created_ms")?,
        last_seen_ms: get(row, "last_seen_ms")?,
        expires_ms: get(row, "expires_ms")?,
        client: get(row, "client")?,
    })
}

pub(crate) fn api_token(row: &AnyRow) -> Result<ApiToken, CoreError> {
    Ok(ApiToken {
        id: id(row, "id")?,
        org_id: id(row, "org_id")?,
        user_id: id(row, "user_id")?,
        user_email: get(row, "user_email")?,
        name: get(row, "name")?,
        prefix: get(row, "prefix")?,
        created_ms: get(row, "created_ms")?,
        expires_ms: get(row, "expires_ms")?,
        last_used_ms: get(row, "last_used_ms")?,
        revoked_ms: get(row, "revoked_ms")?,
    })
}

pub(crate) fn agent(row: &AnyRow) -> Result<Agent, CoreError> {
    Ok(Agent {
        id: id(row, "id")?,
        org_id: id(row, "org_id")?,
        name: get(row, "name")?,
        description: get(row, "description")?,
        owner: get(row, "owner")?,
        labels: json(row, "labels")?,
        status: named(row, "status", AgentStatus::parse)?,
        declared_rate: u32::try_from(get::<i64>(row, "declared_rate")?)
            .map_err(|_| bad("declared_rate"))?,
        created_ms: get(row, "created_ms")?,
        manifest_version: get(row, "manifest_version")?,
    })
}

/// A `COUNT(*)` column.
pub(crate) fn count(row: &AnyRow, col: &str) -> Result<usize, CoreError> {
    usize::try_from(get::<i64>(row, col)?).map_err(|_| bad(col))
}

/// An agent of a fleet page, with its counts.
pub(crate) fn fleet_row(row: &AnyRow) -> Result<arx_core::store::FleetRow, CoreError> {
    Ok(arx_core::store::FleetRow {
        agent: agent(row)?,
        active_keys: count(row, "active_keys")?,
        open_drift: count(row, "open_drift")?,
        manifest_generated: get::<i64>(row, "manifest_generated")? != 0,
    })
}

/// An agent key whose columns are prefixed `k_` next to its agent's in a join.
pub(crate) fn agent_key(row: &AnyRow, prefix: &str) -> Result<AgentKey, CoreError> {
    let c = |n: &str| format!("{prefix}{n}");
    Ok(AgentKey {
        id: id(row, &c("id"))?,
        org_id: id(row, &c("org_id"))?,
        agent_id: id(row, &c("agent_id"))?,
        prefix: get(row, &c("prefix"))?,
        hash: get(row, &c("hash"))?,
        created_ms: get(row, &c("created_ms"))?,
        revoked_ms: get(row, &c("revoked_ms"))?,
        last_used_ms: get(row, &c("last_used_ms"))?,
    })
}

pub(crate) fn instance(row: &AnyRow) -> Result<Instance, CoreError> {
    let sealed: Option<String> = get(row, "sealed_credentials")?;
    Ok(Instance {
        id: id(row, "id")?,
        org_id: id(row, "org_id")?,
        connector: get(row, "connector")?,
        name: get(row, "name")?,
        environment: named(row, "environment", Environment::parse)?,
        variables: json(row, "variables")?,
        sensitivity: get::<Option<i64>>(row, "sensitivity")?.and_then(|s| u8::try_from(s).ok()),
        credentials_set: sealed.is_some(),
        sealed_credentials: sealed,
        created_ms: get(row, "created_ms")?,
    })
}

pub(crate) fn audit(row: &AnyRow) -> Result<AuditRecord, CoreError> {
    json(row, "record")
}

pub(crate) fn approval(row: &AnyRow) -> Result<ApprovalRequest, CoreError> {
    Ok(ApprovalRequest {
        id: id(row, "id")?,
        org_id: id(row, "org_id")?,
        agent_id: id(row, "agent_id")?,
        instance_id: opt_id(row, "instance_id")?,
        connector: get(row, "connector")?,
        operation: get(row, "operation")?,
        params: json(row, "params")?,
        params_hash: get(row, "params_hash")?,
        intercept_id: id(row, "intercept_id")?,
        risk_score: u8::try_from(get::<i64>(row, "risk_score")?).map_err(|_| bad("risk_score"))?,
        policy_id: get(row, "policy_id")?,
        status: named(row, "status", ApprovalStatus::parse)?,
        created_ms: get(row, "created_ms")?,
        expires_ms: get(row, "expires_ms")?,
        requirements: json(row, "requirements")?,
        decided_ms: get(row, "decided_ms")?,
        decided_by: json(row, "decided_by")?,
        comment: get(row, "comment")?,
        outcome: get::<Option<String>>(row, "outcome")?
            .map(|s| {
                serde_json::from_str(&s)
                    .ok()
                    .and_then(|v| arx_core::model::CallOutcome::read(&v))
                    .ok_or_else(|| bad("outcome"))
            })
            .transpose()?,
        result_audit_id: opt_id(row, "result_audit_id")?,
        kind: named(row, "kind", ApprovalKind::parse)?,
        heartbeat_ms: get(row, "heartbeat_ms")?,
    })
}

pub(crate) fn vote(row: &AnyRow) -> Result<ApprovalVote, CoreError> {
    Ok(ApprovalVote {
        approval_id: id(row, "approval_id")?,
        user_id: id(row, "user_id")?,
        email: get(row, "email")?,
        comment: get(row, "comment")?,
        created_ms: get(row, "created_ms")?,
    })
}

pub(crate) fn policy_version(row: &AnyRow) -> Result<PolicyVersion, CoreError> {
    Ok(PolicyVersion {
        org_id: id(row, "org_id")?,
        version: get(row, "version")?,
        doc: json(row, "doc")?,
        author_id: opt_id(row, "author_id")?,
        author: get(row, "author")?,
        message: get(row, "message")?,
        summary: get(row, "summary")?,
        created_ms: get(row, "created_ms")?,
    })
}

pub(crate) fn grant(row: &AnyRow) -> Result<Grant, CoreError> {
    Ok(Grant {
        id: id(row, "id")?,
        org_id: id(row, "org_id")?,
        agent_id: id(row, "agent_id")?,
        connector: get(row, "connector")?,
        instance_id: opt_id(row, "instance_id")?,
        operations: json(row, "operations")?,
        resource: opt_json(row, "resource")?,
        reason: get(row, "reason")?,
        ttl_secs: u32::try_from(get::<i64>(row, "ttl_secs")?).map_err(|_| bad("ttl_secs"))?,
        requirements: opt_json(row, "requirements")?,
        approval_id: id(row, "approval_id")?,
        status: named(row, "status", GrantStatus::parse)?,
        created_ms: get(row, "created_ms")?,
        starts_ms: get(row, "starts_ms")?,
        expires_ms: get(row, "expires_ms")?,
        ended_ms: get(row, "ended_ms")?,
        ended_reason: get(row, "ended_reason")?,
    })
}

/// A manifest version; its manifest is read as stored, without today's checks (a
/// version never changes, even when the checks tighten).
pub(crate) fn manifest_version(
    row: &AnyRow,
) -> Result<arx_core::model::registry::ManifestVersion, CoreError> {
    let created_ms: i64 = get(row, "created_ms")?;
    Ok(arx_core::model::registry::ManifestVersion {
        org_id: id(row, "org_id")?,
        agent_id: id(row, "agent_id")?,
        version: get(row, "version")?,
        manifest: arx_core::registry::Manifest::read_stored(&get::<String>(row, "manifest")?)
            .map_err(|_| bad("manifest"))?,
        hash: get(row, "hash")?,
        generated: get::<i64>(row, "generated")? != 0,
        rollback_of: get(row, "rollback_of")?,
        reason: get(row, "reason")?,
        created_by: get(row, "created_by")?,
        created_ms,
        created: arx_core::audit::format_ts(created_ms),
    })
}

pub(crate) fn drift_alert(
    row: &AnyRow,
) -> Result<arx_core::model::registry::DriftAlert, CoreError> {
    use arx_core::audit::format_ts;
    use arx_core::model::registry::DriftStatus;
    use arx_core::registry::{DriftAction, Severity};
    let (created_ms, last_ms): (i64, i64) = (get(row, "created_ms")?, get(row, "last_ms")?);
    let updated_ms: Option<i64> = get(row, "updated_ms")?;
    Ok(arx_core::model::registry::DriftAlert {
        id: id(row, "id")?,
        org_id: id(row, "org_id")?,
        agent_id: id(row, "agent_id")?,
        agent: get::<Option<String>>(row, "agent")?.unwrap_or_default(),
        signal_key: get(row, "signal_key")?,
        signal: json(row, "signal")?,
        severity: named(row, "severity", Severity::parse)?,
        action: named(row, "action", DriftAction::parse)?,
        message: get(row, "message")?,
        manifest_version: get(row, "manifest_version")?,
        audit_id: get(row, "audit_id")?,
        status: named(row, "status", DriftStatus::parse)?,
        occurrences: get(row, "occurrences")?,
        created_ms,
        last_ms,
        updated_ms,
        created: format_ts(created_ms),
        last: format_ts(last_ms),
        updated: updated_ms.map(format_ts),
        updated_by: get(row, "updated_by")?,
        note: get(row, "note")?,
    })
}

pub(crate) fn retirement(row: &AnyRow) -> Result<arx_core::model::registry::Retirement, CoreError> {
    let retired_ms: i64 = get(row, "retired_ms")?;
    Ok(arx_core::model::registry::Retirement {
        agent_id: id(row, "agent_id")?,
        agent: get::<Option<String>>(row, "agent")?.unwrap_or_default(),
        org_id: id(row, "org_id")?,
        reason: get(row, "reason")?,
        retention_class: get(row, "retention_class")?,
        replaced_by: opt_id(row, "replaced_by")?,
        retired_by: get(row, "retired_by")?,
        retired_ms,
        retired: arx_core::audit::format_ts(retired_ms),
        seal_id: id(row, "seal_id")?,
    })
}
