//! What agents call: `POST /v1/sdk/execute`, the long poll of an escalated call
//! (`GET /v1/sdk/approvals/{id}`), `POST /v1/sdk/grants` and `POST /v1/agents/register`. The agent's API key is
//! checked by the engine, first, so an unauthenticated caller learns nothing about the
//! ids or bodies it sent.

use std::time::Instant;

use arx_core::CoreError;
use arx_core::engine::Executed;
use arx_core::engine::{GrantRequest, Registration};
use arx_core::ids::{ApprovalId, GrantId, RecordId};
use arx_core::model::GrantResource;
use arx_core::policy::Verdict;
use arx_core::request::{ExecuteRequest, MAX_BODY_BYTES};
use arx_core::stages::{self, Stage};
use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::{QueryParams, bearer, is_yaml, yaml_value};
use crate::AppState;
use crate::error::{ApiError, ErrorBody};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(execute))
        .routes(routes!(poll))
        .routes(routes!(request_grant))
        .routes(routes!(register))
}

/// Runs one operation against a security tool, governed: scored, decided by policy,
/// recorded, and (when policy escalates) held until a reviewer decides.
#[utoipa::path(
    post,
    path = "/v1/sdk/execute",
    tag = "sdk",
    security(("agentKey" = [])),
    request_body = ExecuteRequest,
    responses(
        (status = 200, description = "Permitted (or approved) and run: the target's answer", body = Ran),
        (status = 202, description = "Escalated: a reviewer decides; poll GET /v1/sdk/approvals/{id}", body = Pending),
        (status = 403, description = "Denied by policy (`permission_denied`, with the audit id and risk), the agent is suspended, or a reviewer denied or let the request expire", body = ErrorBody),
        (status = 409, description = "The request was cancelled", body = ErrorBody),
        (status = 429, description = "Over the agent's rate; `Retry-After` says when to retry", body = ErrorBody),
        (status = 502, description = "The target answered with an error (`target_error`) or could not be reached", body = ErrorBody),
        (status = 503, description = "The audit trail cannot be written: nothing was run", body = ErrorBody),
    )
)]
async fn execute(State(s): State<AppState>, headers: HeaderMap, body: Body) -> Response {
    let started = Instant::now();
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
    stages::observe_since(Stage::Parse, started);
    let out = s.engine.execute(bearer(&headers).as_deref(), parsed).await;
    let responding = Instant::now();
    s.metrics.count_execute(&out);
    let response = executed_response(out);
    stages::observe_since(Stage::Respond, responding);
    stages::observe_since(Stage::Total, started);
    response
}

/// A call that ran: the target's answer, with the records of the call and its result.
#[derive(Serialize, ToSchema)]
pub struct Ran {
    /// What the target answered.
    result: Value,
    audit_id: RecordId,
    result_audit_id: RecordId,
    verdict: Verdict,
    #[schema(maximum = 100)]
    risk_score: u8,
    /// The request a reviewer approved, when the call was escalated.
    #[serde(skip_serializing_if = "Option::is_none")]
    approval_id: Option<ApprovalId>,
}

/// A call or grant request waiting for a reviewer.
#[derive(Serialize, ToSchema)]
pub struct Pending {
    approval_id: ApprovalId,
    /// When silence becomes a refusal (RFC 3339).
    expires_at: String,
    audit_id: RecordId,
    #[schema(value_type = String, pattern = "^ESCALATE$")]
    verdict: &'static str,
    #[schema(maximum = 100)]
    risk_score: u8,
    #[schema(value_type = String, pattern = "^pending$")]
    status: &'static str,
}

/// An approved grant: the extra scope the agent holds until `expires_at`.
#[derive(Serialize, ToSchema)]
pub struct GrantActive {
    grant_id: GrantId,
    #[schema(value_type = String, pattern = "^active$")]
    status: &'static str,
    connector: String,
    operations: Vec<String>,
    resource: Option<GrantResource>,
    expires_at: String,
    approval_id: ApprovalId,
}

/// The agent's manifest in force after a registration.
#[derive(Serialize, ToSchema)]
pub struct Registered {
    /// `published` (a new version) or `unchanged` (the manifest equals the version in
    /// force: nothing was written).
    #[schema(value_type = String, pattern = "^(published|unchanged)$")]
    status: &'static str,
    version: i64,
    /// SHA-256 of the version's canonical JSON (RFC 8785), as in the audit chain.
    manifest_sha256: String,
    /// The approved request that published it, when it widened the agent's scope.
    #[serde(skip_serializing_if = "Option::is_none")]
    approval_id: Option<ApprovalId>,
}

/// The answer to an agent's call: 200 with the result (or the active grant), 202 while
/// a reviewer decides, or the error.
pub(crate) fn executed_response(out: Result<Executed, CoreError>) -> Response {
    match out {
        Ok(done) => {
            let (status, answer) = executed_body(done);
            (status, Json(answer)).into_response()
        }
        Err(e) => ApiError(e).into_response(),
    }
}

/// The body of an answer that got through, serialized as the variant it holds.
#[derive(Serialize)]
#[serde(untagged)]
pub(crate) enum Answer {
    Ran(Ran),
    Granted(GrantActive),
    Registered(Registered),
    Pending(Pending),
}

/// What an agent is answered when its call, grant or registration got through: the
/// status and the body. The one place these bodies are built (the MCP endpoint's tool
/// results carry the same).
pub(crate) fn executed_body(done: Executed) -> (StatusCode, Answer) {
    match done {
        Executed::Ran {
            result,
            audit_id,
            result_audit_id,
            verdict,
            risk_score,
            approval_id,
        } => (
            StatusCode::OK,
            Answer::Ran(Ran {
                result,
                audit_id,
                result_audit_id,
                verdict,
                risk_score,
                approval_id,
            }),
        ),
        Executed::Granted {
            approval_id,
            grant_id,
            connector,
            operations,
            resource,
            expires_at,
        } => (
            StatusCode::OK,
            Answer::Granted(GrantActive {
                grant_id,
                status: "active",
                connector,
                operations,
                resource,
                expires_at,
                approval_id,
            }),
        ),
        Executed::Registered {
            approval_id,
            version,
            manifest_sha256,
            unchanged,
        } => (
            StatusCode::OK,
            Answer::Registered(Registered {
                status: if unchanged { "unchanged" } else { "published" },
                version,
                manifest_sha256,
                approval_id,
            }),
        ),
        Executed::Pending {
            approval_id,
            expires_at,
            audit_id,
            risk_score,
        } => (
            StatusCode::ACCEPTED,
            Answer::Pending(Pending {
                approval_id,
                expires_at,
                audit_id,
                verdict: "ESCALATE",
                risk_score,
                status: "pending",
            }),
        ),
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct Wait {
    /// How long to wait for the decision, in seconds (at most 25).
    #[param(maximum = 25)]
    wait_seconds: Option<u32>,
}

/// The outcome of an escalated call or grant request, waiting up to `wait_seconds` for
/// it. The id stays text here: the engine checks the agent's key before it reads the id.
#[utoipa::path(
    get,
    path = "/v1/sdk/approvals/{id}",
    tag = "sdk",
    security(("agentKey" = [])),
    params(("id" = ApprovalId, Path, description = "The approval request the call was escalated to"), Wait),
    responses(
        (status = 200, description = "Approved and run (a call) or active (a grant)", body = RanOrGranted),
        (status = 202, description = "Still waiting for a reviewer", body = Pending),
        (status = 403, description = "Denied or expired", body = ErrorBody),
        (status = 409, description = "Cancelled", body = ErrorBody),
        (status = 502, description = "Approved, but the target answered with an error or could not be reached", body = ErrorBody),
        (status = 503, description = "The audit trail cannot be written", body = ErrorBody),
    )
)]
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

/// An agent asks for temporary extra scope; answered like an escalated call.
#[utoipa::path(
    post,
    path = "/v1/sdk/grants",
    tag = "sdk",
    security(("agentKey" = [])),
    request_body = GrantRequest,
    responses(
        (status = 200, description = "Granted at once (a standing approval)", body = GrantActive),
        (status = 202, description = "A reviewer decides; poll GET /v1/sdk/approvals/{id}", body = Pending),
        (status = 403, description = "The agent is suspended", body = ErrorBody),
        (status = 503, description = "The audit trail cannot be written", body = ErrorBody),
    )
)]
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

/// What a poll answers with 200: a call that ran, a grant that is active, or a
/// registered manifest that was published.
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
#[allow(dead_code)]
enum RanOrGranted {
    #[schema(title = "Ran")]
    Ran(Ran),
    #[schema(title = "GrantActive")]
    Granted(GrantActive),
    #[schema(title = "Registered")]
    Registered(Registered),
}

/// An agent registers its manifest. One that declares nothing beyond the version in
/// force becomes the next version at once; one that widens the agent's scope (a
/// connector, operation, environment or data class more, or a higher rate) waits for a
/// reviewer as an approval request of kind `manifest`, answered like an escalated call.
#[utoipa::path(
    post,
    path = "/v1/agents/register",
    tag = "sdk",
    security(("agentKey" = [])),
    request_body(content(
        (Registration = "application/json"),
        (Registration = "application/yaml"),
    )),
    responses(
        (status = 200, description = "The manifest is the version in force: published now (narrower or equal in scope), or unchanged", body = Registered),
        (status = 202, description = "It widens the agent's scope: a reviewer decides; poll GET /v1/sdk/approvals/{id}", body = Pending),
        (status = 400, description = "The manifest is malformed or names what the catalog does not have", body = ErrorBody),
        (status = 403, description = "The agent is suspended, or a reviewer denied the manifest or let it expire", body = ErrorBody),
        (status = 409, description = "The request was cancelled (superseded, or the manifest changed before approval)", body = ErrorBody),
        (status = 503, description = "The audit trail cannot be written: nothing was published", body = ErrorBody),
    )
)]
async fn register(State(s): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    fn registration<E: std::fmt::Display>(
        r: Result<Registration, serde_path_to_error::Error<E>>,
    ) -> Result<Registration, CoreError> {
        r.map_err(|e| {
            CoreError::InvalidRequest(format!(
                "the body is not a valid registration ({{manifest, reason, wait_seconds?}}): {}: {}",
                e.path(),
                e.inner()
            ))
        })
    }
    let parsed = if is_yaml(&headers) {
        yaml_value(&body).and_then(|v| registration(serde_path_to_error::deserialize(v)))
    } else {
        registration(serde_path_to_error::deserialize(
            &mut serde_json::Deserializer::from_slice(&body),
        ))
    };
    executed_response(
        s.engine
            .register_manifest(bearer(&headers).as_deref(), parsed)
            .await,
    )
}
