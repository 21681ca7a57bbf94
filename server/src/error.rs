//! The one place where engine errors become HTTP answers:
//! `{"error": {"code", "message", ...}}`, internal causes logged and never shown.

use arx_core::CoreError;
use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

#[derive(Debug)]
pub struct ApiError(pub CoreError);

impl From<CoreError> for ApiError {
    fn from(e: CoreError) -> Self {
        ApiError(e)
    }
}

pub fn error_body(e: &CoreError) -> Value {
    let message = match e {
        CoreError::Internal(_) | CoreError::Catalog(_) => {
            "internal error; the server log has the details".to_string()
        }
        other => other.public_message(),
    };
    let mut err = json!({"code": e.code(), "message": message});
    if let (Some(Value::Object(extra)), Value::Object(m)) = (e.details(), &mut err) {
        m.extend(extra);
    }
    json!({"error": err})
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status =
            StatusCode::from_u16(self.0.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        if status.is_server_error()
            && !matches!(
                self.0,
                CoreError::TargetError { .. } | CoreError::TargetUnreachable { .. }
            )
        {
            tracing::error!(error = ?self.0, "request failed");
        }
        (status, Json(error_body(&self.0))).into_response()
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
