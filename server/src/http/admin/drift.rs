//! `/v1/admin/drift`: the org's drift alerts (an agent's calls against its manifest),
//! filtered by agent, severity and status, paged newest first; admins acknowledge and
//! resolve them with a note. Throttling and suspension are undone by reactivating the
//! agent (`/v1/admin/agents/{id}/reactivate`), never by resolving an alert.

use arx_core::ids::{AgentId, DriftId};
use arx_core::model::registry::{DriftAlert, DriftStatus};
use arx_core::registry::Severity;
use arx_core::store::{DriftCursor, DriftQuery, Order};
use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::error::{ApiResult, ErrorBody};
use crate::http::extract::{Caller, IdPath, QueryParams, optional_body};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_drift))
        .routes(routes!(acknowledge))
        .routes(routes!(resolve))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct DriftParams {
    /// Only this agent's alerts.
    agent: Option<AgentId>,
    severity: Option<Severity>,
    status: Option<DriftStatus>,
    /// `desc` (default): newest first; `asc`: oldest first.
    order: Option<Order>,
    /// Where this page starts: the previous page's `next_cursor` (same `order`).
    cursor: Option<String>,
    /// How many, 1 to 500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<u32>,
}

#[derive(Serialize, ToSchema)]
pub struct DriftPage {
    alerts: Vec<DriftAlert>,
    /// Where the next page starts (pass it as `cursor`); absent on the last page.
    next_cursor: Option<String>,
}

/// The org's drift alerts, newest first (or oldest first).
#[utoipa::path(get, path = "/v1/admin/drift", tag = "registry", security(("adminToken" = [])),
    params(DriftParams),
    responses((status = 200, description = "The alerts", body = DriftPage)))]
async fn list_drift(
    State(s): State<AppState>,
    Caller(p, _): Caller,
    QueryParams(q): QueryParams<DriftParams>,
) -> ApiResult<Json<DriftPage>> {
    let limit = q.limit.unwrap_or(50);
    if !(1..=500).contains(&limit) {
        return Err(arx_core::CoreError::InvalidRequest(
            "query parameter limit: must be 1 to 500".into(),
        )
        .into());
    }
    let alerts = s
        .engine
        .reader(&p)
        .drift_alerts(&DriftQuery {
            agent: q.agent,
            severity: q.severity,
            status: q.status,
            after: match q.cursor.as_deref() {
                Some(c) => Some(c.parse().map_err(|e: String| {
                    arx_core::CoreError::InvalidRequest(format!("query parameter cursor: {e}"))
                })?),
                None => None,
            },
            limit,
            oldest_first: q.order == Some(Order::Asc),
        })
        .await?;
    let next_cursor = (alerts.len() == limit as usize)
        .then(|| alerts.last().map(|a| DriftCursor::of(a).to_string()))
        .flatten();
    Ok(Json(DriftPage {
        alerts,
        next_cursor,
    }))
}

/// A person's note on an alert they acknowledge or resolve (optional; the body may be
/// empty).
#[derive(Deserialize, Default, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"note": "the owner confirmed the call; manifest v4 declares it"}))]
pub struct Note {
    #[serde(default)]
    #[schema(max_length = 1000)]
    note: String,
}

/// Acknowledges an open drift alert (admins).
#[utoipa::path(post, path = "/v1/admin/drift/{id}/acknowledge", tag = "registry",
    security(("adminToken" = [])),
    params(("id" = DriftId, Path)),
    request_body(content = Option<Note>),
    responses(
        (status = 200, description = "Acknowledged", body = DriftAlert),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 409, description = "Not open", body = ErrorBody),
    ))]
async fn acknowledge(
    State(s): State<AppState>,
    Caller(p, _): Caller,
    IdPath(id): IdPath<DriftId>,
    body: axum::body::Bytes,
) -> ApiResult<Json<DriftAlert>> {
    set(s, p, id, &body, DriftStatus::Acknowledged).await
}

/// Resolves a drift alert (admins): a repeat of its signal opens a new one.
#[utoipa::path(post, path = "/v1/admin/drift/{id}/resolve", tag = "registry",
    security(("adminToken" = [])),
    params(("id" = DriftId, Path)),
    request_body(content = Option<Note>),
    responses(
        (status = 200, description = "Resolved", body = DriftAlert),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 409, description = "Already resolved", body = ErrorBody),
    ))]
async fn resolve(
    State(s): State<AppState>,
    Caller(p, _): Caller,
    IdPath(id): IdPath<DriftId>,
    body: axum::body::Bytes,
) -> ApiResult<Json<DriftAlert>> {
    set(s, p, id, &body, DriftStatus::Resolved).await
}

/// Moves an alert to `to` with the note the optional body carries.
async fn set(
    s: AppState,
    p: arx_core::access::Principal,
    id: DriftId,
    body: &[u8],
    to: DriftStatus,
) -> ApiResult<Json<DriftAlert>> {
    let n = optional_body::<Note>(body, r#"{"note": "..."}"#)?;
    let admin = s.engine.admin(&p)?;
    Ok(Json(admin.set_drift_status(id, to, &n.note).await?))
}
