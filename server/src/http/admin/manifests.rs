//! `/v1/admin/agents/{id}/manifests`: an agent's manifest versions. Publishing writes the
//! next version (a version number that exists is a 409: a version never changes);
//! rollback writes a new version equal to an old one; any two versions can be diffed.
//! Every role reads; only admins publish and roll back.

use arx_core::engine::{VersionPage, Versions};
use arx_core::ids::AgentId;
use arx_core::model::registry::ManifestVersion;
use arx_core::registry::{Manifest, ManifestDiff};
use arx_core::store::Order;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::error::{ApiResult, ErrorBody};
use crate::http::extract::{
    Caller, IdPath, JsonBody, JsonOrYaml, ManifestVersionNo, QueryParams, parse_id,
};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_manifests, publish_manifest))
        .routes(routes!(manifest_diff))
        .routes(routes!(get_manifest))
        .routes(routes!(rollback_manifest))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct VersionParams {
    /// By version number: `desc` (default, newest first) or `asc`.
    order: Option<Order>,
    /// Versions to skip, in that order (default 0).
    #[param(minimum = 0)]
    offset: Option<usize>,
    /// How many, 1 to 500 (default 100).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<usize>,
}

/// The agent's manifest versions, newest first (or oldest first), a page at a time.
#[utoipa::path(get, path = "/v1/admin/agents/{id}/manifests", tag = "registry",
    security(("adminToken" = [])),
    params(("id" = AgentId, Path), VersionParams),
    responses((status = 200, description = "The versions", body = Versions)))]
async fn list_manifests(
    State(s): State<AppState>,
    Caller(p, _): Caller,
    IdPath(id): IdPath<AgentId>,
    QueryParams(q): QueryParams<VersionParams>,
) -> ApiResult<Json<Versions>> {
    let page = VersionPage {
        order: q.order.unwrap_or(Order::Desc),
        offset: q.offset.unwrap_or(0),
        limit: q.limit.unwrap_or(100),
    };
    Ok(Json(s.engine.reader(&p).manifest_page(id, page).await?))
}

/// A manifest to publish as the agent's next version.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "manifest": {"connectors": {"crowdstrike": ["detections:read", "hosts:*"]},
        "rate_per_minute": 60, "environments": ["prod"], "data_classes": ["security_telemetry", "asset_inventory"],
        "purpose": "Triage new CrowdStrike detections and contain confirmed hosts", "model": "claude-sonnet-4"},
    "reason": "the agent now contains hosts",
}))]
pub struct Publish {
    manifest: Manifest,
    /// Why it changes (kept in the audit trail).
    #[schema(min_length = 1, max_length = 1000)]
    reason: String,
    /// The version number this publish creates; when given and not the next one, 409
    /// (a version that exists never changes).
    #[serde(default)]
    #[schema(minimum = 1)]
    version: Option<i64>,
}

/// Publishes the agent's next manifest version (admins). Its hash goes into the audit
/// chain (`agent.manifest_published`). The body is JSON, or the same in YAML with
/// `Content-Type: application/yaml`.
#[utoipa::path(post, path = "/v1/admin/agents/{id}/manifests", tag = "registry",
    security(("adminToken" = [])),
    params(("id" = AgentId, Path)),
    request_body(content(
        (Publish = "application/json"),
        (Publish = "application/yaml"),
    )),
    responses(
        (status = 201, description = "Published", body = ManifestVersion),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 409, description = "That version number exists (versions never change)", body = ErrorBody),
    ))]
async fn publish_manifest(
    State(s): State<AppState>,
    Caller(p, _): Caller,
    IdPath(id): IdPath<AgentId>,
    JsonOrYaml(b): JsonOrYaml<Publish>,
) -> ApiResult<(StatusCode, Json<ManifestVersion>)> {
    let v = s
        .engine
        .admin(&p)?
        .publish_manifest(id, b.manifest, &b.reason, b.version)
        .await?;
    Ok((StatusCode::CREATED, Json(v)))
}

/// One version of the agent's manifest.
#[utoipa::path(get, path = "/v1/admin/agents/{id}/manifests/{version}", tag = "registry",
    security(("adminToken" = [])),
    params(("id" = AgentId, Path), ("version" = i64, Path, minimum = 1)),
    responses((status = 200, description = "The version", body = ManifestVersion)))]
async fn get_manifest(
    State(s): State<AppState>,
    Caller(p, _): Caller,
    Path((agent, version)): Path<(String, String)>,
) -> ApiResult<Json<ManifestVersion>> {
    let (agent, ManifestVersionNo(version)) = (
        parse_id::<AgentId>(&agent)?,
        parse_id::<ManifestVersionNo>(&version)?,
    );
    Ok(Json(s.engine.reader(&p).manifest(agent, version).await?))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct DiffParams {
    /// The older version.
    #[param(minimum = 1, example = 1)]
    from: i64,
    /// The newer version.
    #[param(minimum = 1, example = 1)]
    to: i64,
}

/// What changed between two versions of the agent's manifest.
#[utoipa::path(get, path = "/v1/admin/agents/{id}/manifests/diff", tag = "registry",
    security(("adminToken" = [])),
    params(("id" = AgentId, Path), DiffParams),
    responses((status = 200, description = "The changes", body = ManifestDiff)))]
async fn manifest_diff(
    State(s): State<AppState>,
    Caller(p, _): Caller,
    IdPath(id): IdPath<AgentId>,
    QueryParams(q): QueryParams<DiffParams>,
) -> ApiResult<Json<ManifestDiff>> {
    Ok(Json(
        s.engine.reader(&p).manifest_diff(id, q.from, q.to).await?,
    ))
}

/// Why a rollback is made.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"reason": "version 3 let the agent write to Okta by mistake"}))]
pub struct Rollback {
    #[schema(min_length = 1, max_length = 1000)]
    reason: String,
}

/// Rolls the manifest back to `version` (admins): a new version equal to it.
#[utoipa::path(post, path = "/v1/admin/agents/{id}/manifests/{version}/rollback", tag = "registry",
    security(("adminToken" = [])),
    params(("id" = AgentId, Path), ("version" = i64, Path, minimum = 1)),
    request_body = Rollback,
    responses(
        (status = 201, description = "The new version", body = ManifestVersion),
        (status = 403, description = "Not an admin", body = ErrorBody),
    ))]
async fn rollback_manifest(
    State(s): State<AppState>,
    Caller(p, _): Caller,
    Path((agent, version)): Path<(String, String)>,
    JsonBody(b): JsonBody<Rollback>,
) -> ApiResult<(StatusCode, Json<ManifestVersion>)> {
    let (agent, ManifestVersionNo(version)) = (
        parse_id::<AgentId>(&agent)?,
        parse_id::<ManifestVersionNo>(&version)?,
    );
    let v = s
        .engine
        .admin(&p)?
        .rollback_manifest(agent, version, &b.reason)
        .await?;
    Ok((StatusCode::CREATED, Json(v)))
}
