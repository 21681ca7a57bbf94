//! The engine's error type. Every variant carries a stable machine code and the details
//! a caller may see; the server alone maps errors to HTTP (status and body).

use serde_json::Value;

#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    /// No or unknown credentials.
    #[error("{0}")]
    Unauthenticated(String),
    /// Authenticated, but not allowed to do this.
    #[error("{0}")]
    Forbidden(String),
    /// Policy denied an execute call.
    #[error("{message}")]
    PermissionDenied {
        message: String,
        audit_id: String,
        risk_score: u8,
    },
    /// The connector or operation does not exist; `valid` lists what does.
    #[error("{message}")]
    InvalidOperation { message: String, valid: Vec<String> },
    /// The params do not fit the operation.
    #[error("{0}")]
    InvalidParams(String),
    /// The request itself is malformed.
    #[error("{0}")]
    InvalidRequest(String),
    /// One field of the input is not valid: which one (its input name), and what to fix.
    #[error("{message}")]
    InvalidField {
        field: &'static str,
        message: String,
    },
    #[error("request body must be JSON (Content-Type: application/json)")]
    UnsupportedMediaType,
    #[error("request body is larger than {limit} bytes")]
    PayloadTooLarge { limit: usize },
    /// A policy that cannot be saved: what and where to fix.
    #[error("{0}")]
    InvalidPolicy(crate::policy::PolicyError),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    /// The configuration a call was decided on (its agent, key, org or instance) changed
    /// before its intercept record was written: nothing was recorded or sent. The engine
    /// decides the call again on fresh rows; only a call whose configuration keeps
    /// changing under it is answered with this.
    #[error(
        "the agent's configuration changed while this call was being decided, so it was not recorded or sent; send it again"
    )]
    StaleConfiguration,
    /// An edit based on a policy version that is no longer in force.
    #[error(
        "the policy changed since you opened it (you edited version {edited}, version {in_force} is in force); reload and redo your edit"
    )]
    StalePolicy { edited: i64, in_force: i64 },
    /// What was asked for existed and was deleted on purpose (a purged response body).
    #[error("{message}")]
    Gone { message: String, purged_at: String },
    /// A reviewer denied the approval request.
    #[error("a reviewer denied this call{}", reason.as_deref().map(|r| format!(": {r}")).unwrap_or_default())]
    ApprovalDenied {
        approval_id: String,
        reason: Option<String>,
    },
    /// Nobody decided before the request's expiry; silence is not consent.
    #[error("nobody approved this call before {expires_at}, so it was not run")]
    ApprovalExpired {
        approval_id: String,
        expires_at: String,
    },
    /// The request was cancelled before it ran (the agent was suspended, for instance).
    #[error("the approval request was cancelled: {reason}")]
    ApprovalCancelled { approval_id: String, reason: String },
    /// Too many attempts (failed sign-ins, or sign-ins in flight): wait, then try again.
    #[error("{message}")]
    RateLimited {
        message: String,
        retry_after_secs: u64,
    },
    /// The database cannot be reached (refused or lost connections, a pool that stays
    /// exhausted, a SQLite file removed while open); the cause is logged, never shown.
    /// A governed call that meets it answers [`CoreError::AuditUnavailable`].
    #[error("the database cannot be reached right now; try again shortly")]
    DatabaseUnavailable(String),
    /// The audit record could not be made durable: nothing was forwarded.
    #[error("the audit trail cannot record this call right now, so it was not forwarded")]
    AuditUnavailable,
    /// The target answered with an error.
    #[error("the target answered {status}")]
    TargetError {
        status: u16,
        body: Value,
        audit_id: String,
    },
    /// The target could not be reached.
    #[error("the target could not be reached: {message}")]
    TargetUnreachable { message: String, audit_id: String },
    /// The call was sent to the target, but its result record could not be made durable:
    /// it may have taken effect. Its intercept record (`audit_id`) stands.
    #[error(
        "the call was sent to the target, but its result could not be recorded: it may have taken effect, so check the target before retrying"
    )]
    ResultUnrecorded { audit_id: String },
    /// The database went while an approval request was being stored: the write may have
    /// landed with its acknowledgement lost, so the request may stand. Nothing has run;
    /// polling `approval_id` says which (404: it was never stored, and nothing will run).
    #[error(
        "the database went away while this approval request was being stored, so it may stand: poll its approval_id (404 means it was not stored and nothing will run) rather than sending the call again"
    )]
    ApprovalUnconfirmed { approval_id: String },
    #[error("connector catalog: {0}")]
    Catalog(String),
    /// A bug or an infrastructure fault; the message is logged, never shown.
    #[error("internal error")]
    Internal(String),
}

impl CoreError {
    /// The stable code clients match on.
    pub fn code(&self) -> &'static str {
        match self {
            CoreError::Unauthenticated(_) => "unauthenticated",
            CoreError::Forbidden(_) => "forbidden",
            CoreError::PermissionDenied { .. } => "permission_denied",
            CoreError::InvalidOperation { .. } => "invalid_operation",
            CoreError::InvalidParams(_) => "invalid_params",
            CoreError::InvalidRequest(_) | CoreError::InvalidField { .. } => "invalid_request",
            CoreError::UnsupportedMediaType => "unsupported_media_type",
            CoreError::PayloadTooLarge { .. } => "payload_too_large",
            CoreError::InvalidPolicy(_) => "invalid_policy",
            CoreError::NotFound(_) => "not_found",
            CoreError::Conflict(_) | CoreError::StaleConfiguration => "conflict",
            CoreError::StalePolicy { .. } => "stale_policy",
            CoreError::Gone { .. } => "gone",
            CoreError::ApprovalDenied { .. } => "approval_denied",
            CoreError::ApprovalExpired { .. } => "approval_expired",
            CoreError::ApprovalCancelled { .. } => "approval_cancelled",
            CoreError::RateLimited { .. } => "rate_limited",
            CoreError::DatabaseUnavailable(_) => "database_unavailable",
            CoreError::AuditUnavailable => "audit_unavailable",
            CoreError::TargetError { .. } => "target_error",
            CoreError::TargetUnreachable { .. } => "target_unreachable",
            CoreError::ResultUnrecorded { .. } => "result_unrecorded",
            CoreError::ApprovalUnconfirmed { .. } => "approval_unconfirmed",
            CoreError::Catalog(_) | CoreError::Internal(_) => "internal",
        }
    }

    /// The HTTP status the error is answered with, by the API and by the console's
    /// server functions alike.
    pub fn http_status(&self) -> u16 {
        match self {
            CoreError::Unauthenticated(_) => 401,
            CoreError::Forbidden(_)
            | CoreError::PermissionDenied { .. }
            | CoreError::ApprovalDenied { .. }
            | CoreError::ApprovalExpired { .. } => 403,
            CoreError::ApprovalCancelled { .. }
            | CoreError::Conflict(_)
            | CoreError::StaleConfiguration
            | CoreError::StalePolicy { .. } => 409,
            CoreError::InvalidOperation { .. }
            | CoreError::InvalidParams(_)
            | CoreError::InvalidRequest(_)
            | CoreError::InvalidField { .. }
            | CoreError::InvalidPolicy(_) => 400,
            CoreError::UnsupportedMediaType => 415,
            CoreError::PayloadTooLarge { .. } => 413,
            CoreError::NotFound(_) => 404,
            CoreError::Gone { .. } => 410,
            CoreError::RateLimited { .. } => 429,
            CoreError::AuditUnavailable
            | CoreError::DatabaseUnavailable(_)
            | CoreError::ApprovalUnconfirmed { .. } => 503,
            CoreError::TargetError { .. } | CoreError::TargetUnreachable { .. } => 502,
            CoreError::Catalog(_) | CoreError::Internal(_) | CoreError::ResultUnrecorded { .. } => {
                500
            }
        }
    }

    /// What a caller may see besides the code and the message (the audit id of a denied
    /// call, the valid values of a bad one...).
    pub fn details(&self) -> Option<Value> {
        use serde_json::json;
        match self {
            CoreError::PermissionDenied {
                audit_id,
                risk_score,
                ..
            } => Some(json!({"audit_id": audit_id, "risk_score": risk_score, "verdict": "DENY"})),
            CoreError::InvalidOperation { valid, .. } => Some(json!({"valid": valid})),
            CoreError::InvalidField { field, .. } => Some(json!({"field": field})),
            CoreError::TargetError {
                status,
                body,
                audit_id,
            } => Some(json!({"target_status": status, "target_body": body, "audit_id": audit_id})),
            CoreError::TargetUnreachable { audit_id, .. }
            | CoreError::ResultUnrecorded { audit_id } => Some(json!({"audit_id": audit_id})),
            CoreError::Gone { purged_at, .. } => Some(json!({"purged_at": purged_at})),
            CoreError::StalePolicy { edited, in_force } => {
                Some(json!({"based_on": edited, "in_force": in_force}))
            }
            CoreError::RateLimited {
                retry_after_secs, ..
            } => Some(json!({"retry_after": retry_after_secs})),
            CoreError::ApprovalDenied { approval_id, .. }
            | CoreError::ApprovalExpired { approval_id, .. }
            | CoreError::ApprovalCancelled { approval_id, .. }
            | CoreError::ApprovalUnconfirmed { approval_id } => {
                Some(json!({"approval_id": approval_id}))
            }
            CoreError::InvalidPolicy(crate::policy::PolicyError::Rule(e)) => {
                Some(json!({"rule": e.rule, "field": e.field, "problem": e.problem}))
            }
            CoreError::InvalidPolicy(crate::policy::PolicyError::Settings { field, problem }) => {
                Some(json!({"field": format!("settings.{field}"), "problem": problem}))
            }
            _ => None,
        }
    }

    /// The message safe to show a client: internal errors say nothing of their cause.
    pub fn public_message(&self) -> String {
        match self {
            CoreError::Internal(_) | CoreError::Catalog(_) => {
                "internal error; the server log has the details".to_string()
            }
            other => other.to_string(),
        }
    }

    /// Seconds a client should wait before trying again (the `Retry-After` header).
    pub fn retry_after_secs(&self) -> Option<u64> {
        match self {
            CoreError::RateLimited {
                retry_after_secs, ..
            } => Some(*retry_after_secs),
            CoreError::AuditUnavailable | CoreError::DatabaseUnavailable(_) => Some(1),
            _ => None,
        }
    }

    pub fn internal(context: &str, e: impl std::fmt::Display) -> Self {
        CoreError::Internal(format!("{context}: {e}"))
    }
}
