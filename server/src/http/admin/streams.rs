//! Streaming the audit trail to SIEMs (docs/audit.md, "Streaming"): the org's streams
//! with their lag and last error, adding and removing one (admins), and a test event.

use arx_core::engine::StreamView;
use arx_core::ids::SinkId;
use arx_core::witness::{SinkPurpose, StreamSinkInput};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::error::{ApiResult, ErrorBody};
use crate::http::extract::{Caller, IdPath, JsonBody};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, add))
        .routes(routes!(remove))
        .routes(routes!(test_event))
}

#[derive(Serialize, Deserialize, utoipa::ToSchema)]
pub struct Streams {
    pub streams: Vec<StreamView>,
}

/// The org's streams: each with its cursor (the last seq delivered), how many records
/// and seconds it is behind, its last success and its last error.
#[utoipa::path(get, path = "/v1/admin/audit/streams", tag = "audit", security(("adminToken" = [])),
    responses((status = 200, description = "The streams", body = Streams)))]
async fn list(State(s): State<AppState>, Caller(p, _): Caller) -> ApiResult<Json<Streams>> {
    Ok(Json(Streams {
        streams: s.engine.reader(&p).streams().await?,
    }))
}

/// Adds a stream (admins): Splunk HEC, syslog (RFC 5424 over TLS, or TCP and UDP with
/// local targets allowed) or a signed webhook. Secrets are sealed and never shown again.
#[utoipa::path(post, path = "/v1/admin/audit/streams", tag = "audit", security(("adminToken" = [])),
    request_body = StreamSinkInput,
    responses((status = 201, description = "The stream", body = StreamView),
        (status = 400, description = "A bad setting, naming its field", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 409, description = "The name is taken", body = ErrorBody)))]
async fn add(
    State(s): State<AppState>,
    Caller(p, _): Caller,
    JsonBody(input): JsonBody<StreamSinkInput>,
) -> ApiResult<(StatusCode, Json<StreamView>)> {
    let v = s.engine.admin(&p)?.add_stream(input).await?;
    Ok((StatusCode::CREATED, Json(v)))
}

/// Stops a stream (admins).
#[utoipa::path(delete, path = "/v1/admin/audit/streams/{sink_id}", tag = "audit",
    security(("adminToken" = [])),
    params(("sink_id" = SinkId, Path, description = "The stream's id")),
    responses((status = 204, description = "Removed"),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "No such stream in this org", body = ErrorBody)))]
async fn remove(
    State(s): State<AppState>,
    Caller(p, _): Caller,
    IdPath(id): IdPath<SinkId>,
) -> ApiResult<StatusCode> {
    s.engine
        .admin(&p)?
        .remove_sink(SinkPurpose::Stream, id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, Deserialize, utoipa::ToSchema)]
pub struct TestEvent {
    /// Whether the far side took it.
    pub delivered: bool,
    /// What went wrong, when it did not.
    pub error: Option<String>,
}

/// Sends a test event (`kind: arx.test`, seq 0) through the stream now (admins).
#[utoipa::path(post, path = "/v1/admin/audit/streams/{sink_id}/test", tag = "audit",
    security(("adminToken" = [])),
    params(("sink_id" = SinkId, Path, description = "The stream's id")),
    responses((status = 200, description = "What happened", body = TestEvent),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "No such stream in this org", body = ErrorBody)))]
async fn test_event(
    State(s): State<AppState>,
    Caller(p, _): Caller,
    IdPath(id): IdPath<SinkId>,
) -> ApiResult<Json<TestEvent>> {
    let r = s.engine.admin(&p)?.test_stream(id).await?;
    Ok(Json(TestEvent {
        delivered: r.is_ok(),
        error: r.err(),
    }))
}
