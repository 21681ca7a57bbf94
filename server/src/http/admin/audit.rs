//! The org's audit trail: pages of records, newest first (`GET /v1/admin/audit`), and
//! the vendor responses kept outside the chain (`GET /v1/admin/audit/{record_id}/response`:
//! admins and auditors; the body with whether it matches the chain's hash).

use arx_core::ids::RecordId;
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::AppState;
use crate::error::ApiResult;
use crate::http::extract::{Caller, IdPath, QueryParams};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/admin/audit", get(audit_page))
        .route("/v1/admin/audit/{record_id}/response", get(response))
}

#[derive(Deserialize)]
struct AuditParams {
    before: Option<i64>,
    limit: Option<u32>,
}

async fn audit_page(
    State(s): State<AppState>,
    Caller(p, _): Caller,
    QueryParams(q): QueryParams<AuditParams>,
) -> ApiResult<Json<Value>> {
    let records = s
        .engine
        .reader(&p)
        .audit_page(q.before, q.limit.unwrap_or(50))
        .await?;
    let next = records.last().map(|r| r.seq).filter(|&seq| seq > 1);
    Ok(Json(json!({"records": records, "next_before": next})))
}

async fn response(
    State(s): State<AppState>,
    Caller(p, _): Caller,
    IdPath(id): IdPath<RecordId>,
) -> ApiResult<Json<Value>> {
    Ok(Json(json!(s.engine.responses(&p)?.response(id).await?)))
}
