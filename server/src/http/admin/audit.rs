//! The org's audit trail: search with filters and keyset pages (`GET /v1/admin/audit`),
//! the same search exported whole and streamed (`GET /v1/admin/audit/export.ndjson` and
//! `.csv`), and the vendor responses kept outside the chain
//! (`GET /v1/admin/audit/{record_id}/response`: admins and auditors; the body with whether
//! it matches the chain's hash).

use arx_core::CoreError;
use arx_core::access::Principal;
use arx_core::audit::AuditRecord;
use arx_core::engine::{AuditRecordView, AuditResults, AuditSearch, MAX_AUDIT_PAGE, ResponseView};
use arx_core::ids::RecordId;
use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::http::extract::{Caller, IdPath, QueryParams, SessionCaller};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(audit_page))
        .routes(routes!(export_ndjson))
        .routes(routes!(export_csv))
        .routes(routes!(response))
        .routes(routes!(record))
        .routes(routes!(console_ndjson))
        .routes(routes!(console_csv))
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

/// How an export writes records.
#[derive(Clone, Copy)]
enum Format {
    Ndjson,
    Csv,
}

const CSV_HEADER: &str =
    "seq,ts,kind,actor_type,actor,agent,connector,operation,verdict,risk_score,hash,prev_hash\r\n";

impl Format {
    fn write(self, r: &AuditRecord, out: &mut String) {
        match self {
            Format::Ndjson => {
                out.push_str(&serde_json::to_string(r).unwrap_or_default());
                out.push('\n');
            }
            Format::Csv => {
                let event = r.event().ok();
                let subject = event.as_ref().map(|e| e.subject());
                let field = |f: fn(&arx_core::audit::event::Subject<'_>) -> Option<String>| {
                    subject.as_ref().and_then(f).unwrap_or_default()
                };
                let cells = [
                    r.seq.to_string(),
                    r.ts.clone(),
                    r.kind.clone(),
                    r.actor.kind.clone(),
                    r.actor.name.clone(),
                    field(|s| s.agent.map(str::to_string)),
                    field(|s| s.connector.map(str::to_string)),
                    field(|s| s.operation.map(str::to_string)),
                    field(|s| s.verdict.map(|v| v.as_str().to_string())),
                    field(|s| s.risk_score.map(|r| r.to_string())),
                    r.hash.clone(),
                    r.prev_hash.clone(),
                ];
                let row: Vec<String> = cells.iter().map(|c| csv_cell(c)).collect();
                out.push_str(&row.join(","));
                out.push_str("\r\n");
            }
        }
    }
}

/// A CSV cell (RFC 4180): quoted when it holds a comma, quote or line break. A cell that
/// a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab or carriage return first)
/// gets a leading `'`, so an agent-written value cannot run in the auditor's spreadsheet.
fn csv_cell(v: &str) -> String {
    let v = if v.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{v}")
    } else {
        v.to_string()
    };
    if v.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", v.replace('"', "\"\""))
    } else {
        v
    }
}

/// Every record a search keeps, streamed page by page (never the whole result in
/// memory), from `cursor` on. The search is checked before the first byte, so a bad
/// filter is still a 400; a read that fails midway cuts the download, never ends it
/// as if complete.
async fn export(
    s: AppState,
    p: Principal,
    search: AuditSearch,
    format: Format,
) -> ApiResult<Response> {
    if search.limit.is_some() {
        return Err(ApiError(CoreError::InvalidField {
            field: "limit",
            message: "an export streams every record the filter keeps; limit is for pages".into(),
        }));
    }
    let q = s
        .engine
        .reader(&p)
        .audit_query(&AuditSearch {
            limit: Some(MAX_AUDIT_PAGE),
            ..search
        })
        .await?;
    let engine = s.engine.clone();
    let file = format!("arx-audit-{}", file_slug(&p));
    let head = match format {
        Format::Ndjson => String::new(),
        Format::Csv => CSV_HEADER.to_string(),
    };
    let pages = futures::stream::unfold(Some(q), move |q| {
        let (engine, p) = (engine.clone(), p.clone());
        async move {
            let mut q = q?;
            match engine.reader(&p).audit_records(&q).await {
                Ok(records) => {
                    let mut chunk = String::new();
                    for r in &records {
                        format.write(r, &mut chunk);
                    }
                    let full = records.len() == q.limit as usize;
                    q.cursor = records.last().map(|r| r.seq).or(q.cursor);
                    Some((Ok(chunk), full.then_some(q)))
                }
                Err(e) => {
                    tracing::error!(error = %e, "an audit export stopped midway");
                    Some((
                        Err(std::io::Error::other("the audit trail could not be read")),
                        None,
                    ))
                }
            }
        }
    });
    let body = futures::StreamExt::chain(
        futures::stream::once(async move { Ok::<_, std::io::Error>(head) }),
        pages,
    );
    let (ctype, ext) = match format {
        Format::Ndjson => ("application/x-ndjson", "ndjson"),
        Format::Csv => ("text/csv; charset=utf-8", "csv"),
    };
    Ok(attachment(
        Body::from_stream(body).into_response(),
        ctype,
        &format!("{file}.{ext}"),
    ))
}

/// `r` as a download named `file_name` (never cached).
pub(crate) fn attachment(mut r: Response, content_type: &'static str, file_name: &str) -> Response {
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{file_name}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// The org's slug as a file name may hold it.
pub(crate) fn file_slug(p: &Principal) -> String {
    p.org_slug()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect()
}

/// Every record the search keeps, as NDJSON: one record per line exactly as the chain
/// holds it (so each line's hash can be checked), streamed.
#[utoipa::path(get, path = "/v1/admin/audit/export.ndjson", tag = "audit", security(("adminToken" = [])),
    params(AuditSearch),
    responses((status = 200, description = "The records, one per line (each line is an `AuditRecord`)", content_type = "application/x-ndjson", body = AuditRecord),
        (status = 400, description = "A bad filter, naming its parameter", body = ErrorBody)))]
async fn export_ndjson(
    State(s): State<AppState>,
    Caller(p, _): Caller,
    QueryParams(q): QueryParams<AuditSearch>,
) -> ApiResult<Response> {
    export(s, p, q, Format::Ndjson).await
}

/// Every record the search keeps, as CSV (seq, time, kind, actor, agent, connector,
/// operation, verdict, risk, hash, previous hash), streamed. Cells a spreadsheet would
/// run as formulas are prefixed with `'`.
#[utoipa::path(get, path = "/v1/admin/audit/export.csv", tag = "audit", security(("adminToken" = [])),
    params(AuditSearch),
    responses((status = 200, description = "The records as CSV with a header row", content_type = "text/csv", body = String),
        (status = 400, description = "A bad filter, naming its parameter", body = ErrorBody)))]
async fn export_csv(
    State(s): State<AppState>,
    Caller(p, _): Caller,
    QueryParams(q): QueryParams<AuditSearch>,
) -> ApiResult<Response> {
    export(s, p, q, Format::Csv).await
}

/// The console's Export buttons: the same exports for the signed-in user (the API's are
/// for admin tokens only, so no browser cookie ever opens `/v1/`).
#[utoipa::path(get, path = "/audit/export.ndjson", tag = "console", params(AuditSearch),
    responses((status = 200, description = "As `/v1/admin/audit/export.ndjson`", content_type = "application/x-ndjson", body = AuditRecord),
        (status = 400, description = "A bad filter, naming its parameter", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody)))]
async fn console_ndjson(
    State(s): State<AppState>,
    SessionCaller(p): SessionCaller,
    QueryParams(q): QueryParams<AuditSearch>,
) -> ApiResult<Response> {
    export(s, p, q, Format::Ndjson).await
}

/// As `/audit/export.ndjson`, as CSV.
#[utoipa::path(get, path = "/audit/export.csv", tag = "console", params(AuditSearch),
    responses((status = 200, description = "As `/v1/admin/audit/export.csv`", content_type = "text/csv", body = String),
        (status = 400, description = "A bad filter, naming its parameter", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody)))]
async fn console_csv(
    State(s): State<AppState>,
    SessionCaller(p): SessionCaller,
    QueryParams(q): QueryParams<AuditSearch>,
) -> ApiResult<Response> {
    export(s, p, q, Format::Csv).await
}

/// One record with its links: the intercept a result or approval request belongs to, the
/// results of an intercept, the approval it names or opened, the agent.
#[utoipa::path(get, path = "/v1/admin/audit/{record_id}", tag = "audit",
    security(("adminToken" = [])),
    params(("record_id" = RecordId, Path, description = "The record's id")),
    responses(
        (status = 200, description = "The record", body = AuditRecordView),
        (status = 404, description = "No such record in this org", body = ErrorBody),
    ))]
async fn record(
    State(s): State<AppState>,
    Caller(p, _): Caller,
    IdPath(id): IdPath<RecordId>,
) -> ApiResult<Json<AuditRecordView>> {
    Ok(Json(s.engine.reader(&p).audit_record_view(id).await?))
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

#[cfg(test)]
mod tests {
    use super::csv_cell;

    #[test]
    fn csv_cells_are_quoted_and_never_run_as_formulas() {
        assert_eq!(csv_cell("crowdstrike"), "crowdstrike");
        assert_eq!(csv_cell("a,b"), "\"a,b\"");
        assert_eq!(csv_cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_cell("+1"), "'+1");
        assert_eq!(csv_cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(csv_cell("line\nbreak"), "\"line\nbreak\"");
    }
}
