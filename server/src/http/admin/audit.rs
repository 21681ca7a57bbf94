//! The org's audit trail: search with filters and keyset pages (`GET /v1/admin/audit`), and
//! the vendor responses kept outside the chain (`GET /v1/admin/audit/{record_id}/response`:
//! admins and auditors; the body with whether it matches the chain's hash).

use arx_core::engine::{AuditResults, AuditSearch, ResponseView};
use arx_core::ids::RecordId;
use axum::Json;
use axum::extract::State;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::error::{ApiResult, ErrorBody};
use crate::http::extract::{Caller, IdPath, QueryParams};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(audit_page))
        .routes(routes!(response))
}

/// A search of the org's audit trail: filters on agent, connector, operation, verdict,
/// kind, risk and time, keyset pages newest or oldest first, and the counts per verdict
/// and per connector for the whole filter. A bad filter is a 400 naming its parameter;
/// an unknown parameter is refused, never ignored.
#[utoipa::path(get, path = "/v1/admin/audit", tag = "audit", security(("adminToken" = [])),
    params(AuditSearch),
    responses((status = 200, description = "The page", body = AuditResults),
        (status = 400, description = "A bad filter, naming its parameter", body = ErrorBody)))]
async fn audit_page(
    State(s): State<AppState>,
    Caller(p, _): Caller,
    QueryParams(q): QueryParams<AuditSearch>,
) -> ApiResult<Json<AuditResults>> {
    Ok(Json(s.engine.reader(&p).audit_search(&q).await?))
}

/// The vendor's response to a call, kept outside the chain (admins and auditors; the
/// read is recorded). `verified` says whether the stored body still hashes to the
/// result record's `response_sha256`.
#[utoipa::path(get, path = "/v1/admin/audit/{record_id}/response", tag = "audit",
    security(("adminToken" = [])),
    params(("record_id" = RecordId, Path, description = "The id of an execute.result record")),
    responses(
        (status = 200, description = "The body", body = ResponseView),
        (status = 403, description = "Neither an admin nor an auditor", body = ErrorBody),
        (status = 410, description = "Purged under the org's retention; error.purged_at says when", body = ErrorBody),
    ))]
async fn response(
    State(s): State<AppState>,
    Caller(p, _): Caller,
    IdPath(id): IdPath<RecordId>,
) -> ApiResult<Json<ResponseView>> {
    Ok(Json(s.engine.responses(&p)?.response(id).await?))
}
