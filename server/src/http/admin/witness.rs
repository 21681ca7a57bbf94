//! Signed checkpoints and their witnesses (docs/audit.md): the org's public key
//! (`GET /v1/admin/audit/public-key.pem`, and `/audit/public-key.pem` for the console),
//! the witnessing status, the org's S3-compatible witnesses, and "checkpoint now".

use arx_core::audit::checkpoint::Checkpoint;
use arx_core::engine::WitnessStatus;
use arx_core::ids::SinkId;
use arx_core::witness::{S3SinkInput, SinkView};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::error::{ApiResult, ErrorBody};
use crate::http::admin::audit::{attachment, file_slug};
use crate::http::extract::{Caller, IdPath, JsonBody, SessionCaller};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(status))
        .routes(routes!(public_key))
        .routes(routes!(console_public_key))
        .routes(routes!(add_sink))
        .routes(routes!(remove_sink))
        .routes(routes!(checkpoint_now))
}

/// The org's signing key, its newest checkpoints, and each witness with the last write
/// that succeeded, how many checkpoints wait for it, and its last error.
#[utoipa::path(get, path = "/v1/admin/audit/witness", tag = "audit", security(("adminToken" = [])),
    responses((status = 200, description = "The status", body = WitnessStatus)))]
async fn status(State(s): State<AppState>, Caller(p, _): Caller) -> ApiResult<Json<WitnessStatus>> {
    Ok(Json(s.engine.reader(&p).witness_status().await?))
}

async fn pem(s: &AppState, p: &arx_core::access::Principal) -> ApiResult<Response> {
    let key = s.engine.reader(p).signing_key().await?;
    Ok(attachment(
        key.public_key_pem.into_response(),
        "application/x-pem-file",
        &format!("arx-{}-{}.pem", file_slug(p), key.key_id),
    ))
}

/// The org's checkpoint public key (Ed25519, SubjectPublicKeyInfo PEM), for
/// `arx audit verify --public-key`.
#[utoipa::path(get, path = "/v1/admin/audit/public-key.pem", tag = "audit",
    security(("adminToken" = [])),
    responses((status = 200, description = "The key", content_type = "application/x-pem-file", body = String)))]
async fn public_key(State(s): State<AppState>, Caller(p, _): Caller) -> ApiResult<Response> {
    pem(&s, &p).await
}

/// The console's download of the same key.
#[utoipa::path(get, path = "/audit/public-key.pem", tag = "console",
    responses((status = 200, description = "As `/v1/admin/audit/public-key.pem`", content_type = "application/x-pem-file", body = String),
        (status = 401, description = "Not signed in", body = ErrorBody)))]
async fn console_public_key(
    State(s): State<AppState>,
    SessionCaller(p): SessionCaller,
) -> ApiResult<Response> {
    pem(&s, &p).await
}

/// Adds an S3-compatible bucket as a witness (admins). Checkpoints are written there
/// create-only (`If-None-Match: *`), every one from the org's first; the secret key is
/// sealed and never shown again.
#[utoipa::path(post, path = "/v1/admin/audit/witness/sinks", tag = "audit",
    security(("adminToken" = [])), request_body = S3SinkInput,
    responses((status = 201, description = "The witness", body = SinkView),
        (status = 400, description = "A bad setting, naming its field", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 409, description = "The name is taken", body = ErrorBody)))]
async fn add_sink(
    State(s): State<AppState>,
    Caller(p, _): Caller,
    JsonBody(input): JsonBody<S3SinkInput>,
) -> ApiResult<(StatusCode, Json<SinkView>)> {
    let view = s.engine.admin(&p)?.add_witness_sink(input).await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// Stops writing to one of the org's witnesses (admins). What it holds stays.
#[utoipa::path(delete, path = "/v1/admin/audit/witness/sinks/{sink_id}", tag = "audit",
    security(("adminToken" = [])),
    params(("sink_id" = SinkId, Path, description = "The witness's id")),
    responses((status = 204, description = "Removed"),
        (status = 400, description = "The server's directory, which stays", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "No such witness in this org", body = ErrorBody)))]
async fn remove_sink(
    State(s): State<AppState>,
    Caller(p, _): Caller,
    IdPath(id): IdPath<SinkId>,
) -> ApiResult<StatusCode> {
    s.engine
        .admin(&p)?
        .remove_sink(arx_core::witness::SinkPurpose::Witness, id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, utoipa::ToSchema)]
struct CheckpointNow {
    /// The checkpoint signed; `null` when the chain had not moved since the last.
    checkpoint: Option<Checkpoint>,
}

/// Signs the chain now if it moved, and writes what is pending to every witness
/// (admins).
#[utoipa::path(post, path = "/v1/admin/audit/witness/checkpoint", tag = "audit",
    security(("adminToken" = [])),
    responses((status = 200, description = "What was signed", body = CheckpointNow),
        (status = 403, description = "Not an admin", body = ErrorBody)))]
async fn checkpoint_now(
    State(s): State<AppState>,
    Caller(p, _): Caller,
) -> ApiResult<Json<CheckpointNow>> {
    let checkpoint = s.engine.admin(&p)?.checkpoint_now().await?;
    Ok(Json(CheckpointNow { checkpoint }))
}
