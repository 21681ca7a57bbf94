//! The org's audit trail: pages of records, newest first (`GET /v1/admin/audit`), and
//! the vendor responses kept outside the chain (`GET /v1/admin/audit/{record_id}/response`:
//! admins and auditors; the body with whether it matches the chain's hash).

use arx_core::audit::AuditRecord;
use arx_core::engine::ResponseView;
use arx_core::ids::RecordId;
use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
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

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct AuditParams {
    /// Records before this sequence number (the previous page's `next_before`).
    before: Option<i64>,
    /// How many records, 1 to 500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<u32>,
}

#[derive(Serialize, ToSchema)]
pub struct AuditPage {
    records: Vec<AuditRecord>,
    /// Where the next (older) page starts; absent on the last page.
    next_before: Option<i64>,
}

/// A page of the org's audit trail, newest first.
#[utoipa::path(get, path = "/v1/admin/audit", tag = "audit", security(("adminToken" = [])),
    params(AuditParams),
    responses((status = 200, description = "The page", body = AuditPage)))]
async fn audit_page(
    State(s): State<AppState>,
    Caller(p, _): Caller,
    QueryParams(q): QueryParams<AuditParams>,
) -> ApiResult<Json<AuditPage>> {
    let limit = q.limit.unwrap_or(50);
    let records = s.engine.reader(&p).audit_page(q.before, limit).await?;
    let next_before = records.last().map(|r| r.seq).filter(|&seq| seq > 1);
    Ok(Json(AuditPage {
        records,
        next_before,
    }))
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
