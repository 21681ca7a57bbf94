//! What agents call: `POST /v1/sdk/execute`, the long poll of an escalated call
//! (`GET /v1/sdk/approvals/{id}`) and `POST /v1/sdk/grants`. The agent's API key is
//! checked by the engine, first, so an unauthenticated caller learns nothing about the
//! ids or bodies it sent.

use arx_core::CoreError;
use arx_core::engine::Executed;
use arx_core::request::{ExecuteRequest, MAX_BODY_BYTES};
use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

use super::extract::{QueryParams, bearer};
use crate::AppState;
use crate::error::ApiError;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/sdk/execute", post(execute))
        .route("/v1/sdk/approvals/{id}", get(poll))
        .route("/v1/sdk/grants", post(request_grant))
}

async fn execute(State(s): State<AppState>, headers: HeaderMap, body: Body) -> Response {
    let is_json = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(';')
                .next()
                .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"))
        });
    let parsed = if !is_json {
        Err(CoreError::UnsupportedMediaType)
    } else {
        match axum::body::to_bytes(body, MAX_BODY_BYTES).await {
            Ok(bytes) => ExecuteRequest::parse(&bytes),
            Err(_) => Err(CoreError::PayloadTooLarge {
                limit: MAX_BODY_BYTES,
            }),
        }
    };
    let out = s.engine.execute(bearer(&headers).as_deref(), parsed).await;
    s.metrics.count_execute(&out);
    executed_response(out)
}

/// The answer to an agent's call: 200 with the result (or the active grant), 202 while
/// a reviewer decides, or the error. The one place these bodies are built.
pub(crate) fn executed_response(out: Result<Executed, CoreError>) -> Response {
    let (status, body) = match out {
        Ok(Executed::Ran {
            result,
            audit_id,
            result_audit_id,
            verdict,
            risk_score,
            approval_id,
        }) => {
            let mut body = json!({
                "result": result, "audit_id": audit_id, "result_audit_id": result_audit_id,
                "verdict": verdict.as_str(), "risk_score": risk_score,
            });
            if let (Some(id), Some(m)) = (approval_id, body.as_object_mut()) {
                m.insert("approval_id".into(), json!(id));
            }
            (StatusCode::OK, body)
        }
        Ok(Executed::Granted {
            approval_id,
            grant_id,
            connector,
            operations,
            resource,
            expires_at,
        }) => (
            StatusCode::OK,
            json!({
                "grant_id": grant_id, "status": "active", "connector": connector,
                "operations": operations, "resource": resource, "expires_at": expires_at,
                "approval_id": approval_id,
            }),
        ),
        Ok(Executed::Pending {
            approval_id,
            expires_at,
            audit_id,
            risk_score,
        }) => (
            StatusCode::ACCEPTED,
            json!({
                "approval_id": approval_id, "expires_at": expires_at, "audit_id": audit_id,
                "verdict": "ESCALATE", "risk_score": risk_score, "status": "pending",
            }),
        ),
        Err(e) => return ApiError(e).into_response(),
    };
    (status, Json(body)).into_response()
}

#[derive(Deserialize)]
struct Wait {
    wait_seconds: Option<u32>,
}

/// `GET /v1/sdk/approvals/{id}`: waits up to `wait_seconds` (at most 25) for the outcome.
/// The id stays text here: the engine checks the agent's key before it reads the id.
async fn poll(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    QueryParams(w): QueryParams<Wait>,
) -> Response {
    executed_response(
        s.engine
            .poll_approval(bearer(&headers).as_deref(), &id, w.wait_seconds)
            .await,
    )
}

/// `POST /v1/sdk/grants`: an agent asks for temporary scope; answers like an escalated call.
async fn request_grant(State(s): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let parsed = serde_path_to_error::deserialize(&mut serde_json::Deserializer::from_slice(&body))
        .map_err(|e| {
            CoreError::InvalidRequest(format!(
                "the body is not a valid grant request ({{connector, operations, ttl, reason, resource?}}): {}: {}",
                e.path(),
                e.inner()
            ))
        });
    executed_response(
        s.engine
            .request_grant(bearer(&headers).as_deref(), parsed)
            .await,
    )
}
