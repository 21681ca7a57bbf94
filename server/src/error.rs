//! The one place where engine errors become HTTP answers:
//! `{"error": {"code", "message", ...}}`, internal causes logged and never shown.

use arx_core::CoreError;
use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

#[derive(Debug)]
pub struct ApiError(pub CoreError);

impl From<CoreError> for ApiError {
    fn from(e: CoreError) -> Self {
        ApiError(e)
    }
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
        let mut res = (status, Json(self.0.body())).into_response();
        if let Some(secs) = self.0.retry_after_secs() {
            res.headers_mut()
                .insert(axum::http::header::RETRY_AFTER, secs.into());
        }
        res
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
