//! The one place where engine errors become HTTP answers:
//! `{"error": {"code", "message", ...}}`, internal causes logged and never shown.

use arx_core::CoreError;
use axum::Json;
use axum::http::{Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

#[derive(Debug)]
pub struct ApiError(pub CoreError);

impl From<CoreError> for ApiError {
    fn from(e: CoreError) -> Self {
        ApiError(e)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = status_of(&self.0);
        if status.is_server_error()
            && !matches!(
                self.0,
                CoreError::TargetError { .. } | CoreError::TargetUnreachable { .. }
            )
        {
            tracing::error!(error = ?self.0, "request failed");
        }
        let mut res = (status, Json(body(&self.0))).into_response();
        if let Some(secs) = self.0.retry_after_secs() {
            res.headers_mut()
                .insert(axum::http::header::RETRY_AFTER, secs.into());
        }
        res
    }
}

/// The HTTP status an engine error is answered with ([`CoreError::http_status`]).
pub fn status_of(e: &CoreError) -> StatusCode {
    StatusCode::from_u16(e.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

/// The JSON error body: `{"error": {"code", "message", ...details}}`; internal causes
/// are never shown.
pub fn body(e: &CoreError) -> Value {
    let mut err = json!({"code": e.code(), "message": e.public_message()});
    if let (Some(Value::Object(extra)), Value::Object(m)) = (e.details(), &mut err) {
        m.extend(extra);
    }
    json!({ "error": err })
}

/// A path under the API's prefixes ([`API_PREFIXES`]) that names no route: a JSON 404
/// `not_found`, never the console's HTML page.
pub async fn no_route(method: Method, uri: Uri) -> Response {
    let message = format!(
        "no route {method} {}; the API is described at /openapi.json",
        uri.path()
    );
    router_error(StatusCode::NOT_FOUND, "not_found", message)
}

/// A route that does not take the request's method: a JSON 405 `method_not_allowed`
/// (axum adds the `Allow` header).
pub async fn wrong_method(method: Method, uri: Uri) -> Response {
    let message = format!(
        "{} does not take {method}; the Allow header lists what it takes",
        uri.path()
    );
    router_error(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        message,
    )
}

pub(crate) fn router_error(status: StatusCode, code: &str, message: String) -> Response {
    (
        status,
        Json(json!({"error": {"code": code, "message": message}})),
    )
        .into_response()
}

/// The prefixes under which every answer is JSON.
pub const API_PREFIXES: [&str; 3] = ["/v1", "/auth", "/integrations"];

pub type ApiResult<T> = Result<T, ApiError>;

/// The body of every refusal, as [`body`] and the router's answers build it:
/// `{"error": {"code", "message", ...details}}`.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

/// What went wrong: a stable code, a message that says what to fix, and for some codes
/// details a program can act on.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    pub code: ErrorCode,
    pub message: String,
    /// `invalid_operation`: the operations (or connectors) that exist.
    pub valid: Option<Vec<String>>,
    /// The audit record of the refused or failed call.
    pub audit_id: Option<String>,
    /// `permission_denied`: the call's risk score.
    pub risk_score: Option<u8>,
    /// `permission_denied`: `DENY`.
    pub verdict: Option<String>,
    /// `target_error`: the status and body the target answered.
    pub target_status: Option<u16>,
    pub target_body: Option<Value>,
    /// `gone`: when the body was purged (RFC 3339).
    pub purged_at: Option<String>,
    /// `stale_policy`: the version the edit started from, and the one in force.
    pub based_on: Option<i64>,
    pub in_force: Option<i64>,
    /// `rate_limited`: seconds to wait (also in `Retry-After`).
    pub retry_after: Option<u64>,
    /// `approval_denied`, `approval_expired`, `approval_cancelled`,
    /// `approval_unconfirmed`: the request.
    pub approval_id: Option<String>,
    /// `invalid_policy`: the rule, field and problem.
    pub rule: Option<String>,
    pub field: Option<String>,
    pub problem: Option<String>,
}

/// The stable error codes ([`CoreError::code`], and the router's `method_not_allowed`).
#[derive(serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    Unauthenticated,
    Forbidden,
    PermissionDenied,
    InvalidOperation,
    InvalidParams,
    InvalidRequest,
    InvalidPolicy,
    UnsupportedMediaType,
    PayloadTooLarge,
    NotFound,
    MethodNotAllowed,
    Conflict,
    StalePolicy,
    Gone,
    ApprovalDenied,
    ApprovalExpired,
    ApprovalCancelled,
    RateLimited,
    AuditUnavailable,
    DatabaseUnavailable,
    TargetError,
    TargetUnreachable,
    ResultUnrecorded,
    ApprovalUnconfirmed,
    Internal,
}
