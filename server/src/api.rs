//! The machine API: the agent's execute endpoint and the admin API. Each handler
//! extracts its input, calls one engine method and maps the error.

use std::collections::BTreeMap;

use arx_core::CoreError;
use arx_core::engine::{Executed, NewAgent, NewInstance};
use arx_core::ids::{AgentId, InstanceId, KeyId};
use arx_core::model::AgentStatus;
use arx_core::request::{ExecuteRequest, MAX_BODY_BYTES};
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Bearer, JsonBody, bearer};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/sdk/execute", post(execute))
        .route("/v1/admin/connectors", get(connectors))
        .route("/v1/admin/agents", get(list_agents).post(create_agent))
        .route("/v1/admin/agents/{id}", get(get_agent))
        .route("/v1/admin/agents/{id}/keys", get(list_keys).post(issue_key))
        .route(
            "/v1/admin/agents/{id}/keys/{key_id}",
            axum::routing::delete(revoke_key),
        )
        .route("/v1/admin/agents/{id}/suspend", post(suspend_agent))
        .route("/v1/admin/agents/{id}/reactivate", post(reactivate_agent))
        .route(
            "/v1/admin/instances",
            get(list_instances).post(create_instance),
        )
        .route("/v1/admin/instances/{id}/credentials", put(set_credentials))
        .route("/v1/admin/audit", get(audit_page))
        .route("/v1/admin/approvals", get(list_approvals))
}

pub(crate) fn parse_id<T: std::str::FromStr>(what: &str, s: &str) -> Result<T, ApiError> {
    s.parse().map_err(|_| {
        ApiError(CoreError::InvalidRequest(format!(
            "'{s}' is not a valid {what} id"
        )))
    })
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

async fn connectors(State(s): State<AppState>, Bearer(t): Bearer) -> ApiResult<Json<Value>> {
    s.engine.principal_from_token(t.as_deref()).await?;
    let list: Vec<Value> = s
        .engine
        .catalog()
        .iter()
        .map(|c| {
            json!({
                "name": c.name, "display_name": c.display_name, "category": c.category,
                "sensitivity": c.sensitivity(), "auth": c.auth, "variables": c.variables,
                "operations": c.operations,
            })
        })
        .collect();
    Ok(Json(json!({"connectors": list})))
}

async fn list_agents(State(s): State<AppState>, Bearer(t): Bearer) -> ApiResult<Json<Value>> {
    let p = s.engine.principal_from_token(t.as_deref()).await?;
    Ok(Json(json!({"agents": s.engine.reader(&p).agents().await?})))
}

async fn get_agent(
    State(s): State<AppState>,
    Bearer(t): Bearer,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let p = s.engine.principal_from_token(t.as_deref()).await?;
    let id: AgentId = parse_id("agent", &id)?;
    let r = s.engine.reader(&p);
    Ok(Json(
        json!({"agent": r.agent(id).await?, "keys": r.agent_keys(id).await?}),
    ))
}

async fn create_agent(
    State(s): State<AppState>,
    Bearer(t): Bearer,
    JsonBody(input): JsonBody<NewAgent>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let p = s.engine.principal_from_token(t.as_deref()).await?;
    let agent = s.engine.admin(&p)?.create_agent(input).await?;
    Ok((StatusCode::CREATED, Json(json!({"agent": agent}))))
}

async fn list_keys(
    State(s): State<AppState>,
    Bearer(t): Bearer,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let p = s.engine.principal_from_token(t.as_deref()).await?;
    Ok(Json(
        json!({"keys": s.engine.reader(&p).agent_keys(parse_id("agent", &id)?).await?}),
    ))
}

async fn issue_key(
    State(s): State<AppState>,
    Bearer(t): Bearer,
    Path(id): Path<String>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let p = s.engine.principal_from_token(t.as_deref()).await?;
    let (key, secret) = s
        .engine
        .admin(&p)?
        .issue_agent_key(parse_id("agent", &id)?)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"key": key, "api_key": secret, "note": "shown once; store it now"})),
    ))
}

async fn revoke_key(
    State(s): State<AppState>,
    Bearer(t): Bearer,
    Path((_, key)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let p = s.engine.principal_from_token(t.as_deref()).await?;
    s.engine
        .admin(&p)?
        .revoke_agent_key(parse_id::<KeyId>("key", &key)?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Reason {
    reason: String,
}

async fn suspend_agent(
    s: State<AppState>,
    t: Bearer,
    id: Path<String>,
    JsonBody(r): JsonBody<Reason>,
) -> ApiResult<StatusCode> {
    set_status(s, t, id, AgentStatus::Suspended, r).await
}

async fn reactivate_agent(
    s: State<AppState>,
    t: Bearer,
    id: Path<String>,
    JsonBody(r): JsonBody<Reason>,
) -> ApiResult<StatusCode> {
    set_status(s, t, id, AgentStatus::Active, r).await
}

async fn set_status(
    State(s): State<AppState>,
    Bearer(t): Bearer,
    Path(id): Path<String>,
    status: AgentStatus,
    r: Reason,
) -> ApiResult<StatusCode> {
    let p = s.engine.principal_from_token(t.as_deref()).await?;
    s.engine
        .admin(&p)?
        .set_agent_status(parse_id("agent", &id)?, status, &r.reason)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn list_instances(State(s): State<AppState>, Bearer(t): Bearer) -> ApiResult<Json<Value>> {
    let p = s.engine.principal_from_token(t.as_deref()).await?;
    Ok(Json(
        json!({"instances": s.engine.reader(&p).instances().await?}),
    ))
}

async fn create_instance(
    State(s): State<AppState>,
    Bearer(t): Bearer,
    JsonBody(input): JsonBody<NewInstance>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let p = s.engine.principal_from_token(t.as_deref()).await?;
    let inst = s.engine.admin(&p)?.create_instance(input).await?;
    Ok((StatusCode::CREATED, Json(json!({"instance": inst}))))
}

async fn set_credentials(
    State(s): State<AppState>,
    Bearer(t): Bearer,
    Path(id): Path<String>,
    JsonBody(creds): JsonBody<BTreeMap<String, String>>,
) -> ApiResult<StatusCode> {
    let p = s.engine.principal_from_token(t.as_deref()).await?;
    s.engine
        .admin(&p)?
        .set_credentials(parse_id::<InstanceId>("instance", &id)?, creds)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
struct AuditParams {
    before: Option<i64>,
    limit: Option<u32>,
}

async fn audit_page(
    State(s): State<AppState>,
    Bearer(t): Bearer,
    Query(q): Query<AuditParams>,
) -> ApiResult<Json<Value>> {
    let p = s.engine.principal_from_token(t.as_deref()).await?;
    let records = s
        .engine
        .reader(&p)
        .audit_page(q.before, q.limit.unwrap_or(50))
        .await?;
    let next = records.last().map(|r| r.seq).filter(|&seq| seq > 1);
    Ok(Json(json!({"records": records, "next_before": next})))
}

#[derive(Deserialize)]
struct ApprovalParams {
    status: Option<String>,
}

async fn list_approvals(
    State(s): State<AppState>,
    Bearer(t): Bearer,
    Query(q): Query<ApprovalParams>,
) -> ApiResult<Json<Value>> {
    let p = s.engine.principal_from_token(t.as_deref()).await?;
    Ok(Json(
        json!({"approvals": s.engine.reader(&p).approvals(q.status.as_deref()).await?}),
    ))
}

/// `GET /healthz`: the database answers.
pub async fn healthz(State(s): State<AppState>) -> Response {
    match s.engine.store().list_orgs().await {
        Ok(_) => Json(json!({"status": "ok"})).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "health check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({"status": "unavailable"})),
            )
                .into_response()
        }
    }
}

/// Counters exported at `/metrics` in the Prometheus text format.
#[derive(Debug, Default)]
pub struct Metrics {
    executes: std::sync::Mutex<BTreeMap<(String, String), u64>>,
}

impl Metrics {
    fn count_execute(&self, out: &Result<Executed, CoreError>) {
        let (outcome, verdict) = match out {
            Ok(Executed::Ran {
                approval_id: None, ..
            }) => ("executed", "PERMIT"),
            Ok(Executed::Ran { .. } | Executed::Granted { .. }) => {
                ("approved_executed", "ESCALATE")
            }
            Ok(Executed::Pending { .. }) => ("pending", "ESCALATE"),
            Err(CoreError::PermissionDenied { .. }) => ("denied", "DENY"),
            Err(e) => (e.code(), ""),
        };
        if let Ok(mut m) = self.executes.lock() {
            *m.entry((outcome.to_string(), verdict.to_string()))
                .or_default() += 1;
        }
    }

    pub fn render(&self) -> String {
        let mut out = String::from(
            "# HELP arx_execute_total Execute calls by outcome and verdict.\n# TYPE arx_execute_total counter\n",
        );
        if let Ok(m) = self.executes.lock() {
            for ((outcome, verdict), n) in m.iter() {
                out.push_str(&format!(
                    "arx_execute_total{{outcome=\"{outcome}\",verdict=\"{verdict}\"}} {n}\n"
                ));
            }
        }
        out
    }
}

/// The OpenAPI 3.1 description of this API, kept beside the routes it describes.
pub const OPENAPI: &str = include_str!("openapi.json");

pub async fn openapi() -> Response {
    ([(CONTENT_TYPE, "application/json")], OPENAPI).into_response()
}

pub async fn metrics(State(s): State<AppState>) -> Response {
    (
        [(CONTENT_TYPE, "text/plain; version=0.0.4")],
        s.metrics.render(),
    )
        .into_response()
}
