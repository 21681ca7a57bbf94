//! The connector catalog (`GET /v1/admin/connectors`) and the org's instances of
//! connectors (`/v1/admin/instances`), with their credentials (write-only: sealed by the
//! vault, never shown again).

use std::collections::BTreeMap;

use arx_core::catalog::{AuthScheme, Category, Operation, Variable};
use arx_core::engine::NewInstance;
use arx_core::ids::InstanceId;
use arx_core::model::Instance;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::error::{ApiResult, ErrorBody};
use crate::http::extract::{Caller, IdPath, JsonBody};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(connectors))
        .routes(routes!(list_instances, create_instance))
        .routes(routes!(set_credentials))
}

/// A connector of the catalog: what it reaches, how it authenticates, its operations.
#[derive(Serialize, ToSchema)]
pub struct ConnectorView<'a> {
    name: &'a str,
    display_name: &'a str,
    category: Category,
    /// The target input of the risk score, 0 to 25.
    sensitivity: u8,
    auth: &'a AuthScheme,
    variables: &'a BTreeMap<String, Variable>,
    operations: &'a BTreeMap<String, Operation>,
}

#[derive(Serialize, ToSchema)]
pub struct ConnectorList<'a> {
    connectors: Vec<ConnectorView<'a>>,
}

/// The connector catalog. Any signed-in user may read it; it holds no org data.
#[utoipa::path(get, path = "/v1/admin/connectors", tag = "connectors", security(("adminToken" = [])),
    responses((status = 200, description = "The catalog", body = ConnectorList)))]
async fn connectors(State(s): State<AppState>, _: Caller) -> Response {
    let connectors = s
        .engine
        .catalog()
        .iter()
        .map(|c| ConnectorView {
            name: &c.name,
            display_name: &c.display_name,
            category: c.category,
            sensitivity: c.sensitivity(),
            auth: &c.auth,
            variables: &c.variables,
            operations: &c.operations,
        })
        .collect();
    Json(ConnectorList { connectors }).into_response()
}

#[derive(Serialize, ToSchema)]
pub struct InstanceList {
    instances: Vec<Instance>,
}

/// The org's connector instances (credentials never returned).
#[utoipa::path(get, path = "/v1/admin/instances", tag = "connectors", security(("adminToken" = [])),
    responses((status = 200, description = "The instances", body = InstanceList)))]
async fn list_instances(
    State(s): State<AppState>,
    Caller(p, _): Caller,
) -> ApiResult<Json<InstanceList>> {
    Ok(Json(InstanceList {
        instances: s.engine.reader(&p).instances().await?,
    }))
}

#[derive(Serialize, ToSchema)]
pub struct InstanceCreated {
    instance: Instance,
}

/// Adds a connector instance (admins); credentials are sealed and never shown again.
#[utoipa::path(post, path = "/v1/admin/instances", tag = "connectors", security(("adminToken" = [])),
    request_body = NewInstance,
    responses(
        (status = 201, description = "Added", body = InstanceCreated),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 409, description = "An instance of that name exists", body = ErrorBody),
    ))]
async fn create_instance(
    State(s): State<AppState>,
    Caller(p, _): Caller,
    JsonBody(input): JsonBody<NewInstance>,
) -> ApiResult<(StatusCode, Json<InstanceCreated>)> {
    let instance = s.engine.admin(&p)?.create_instance(input).await?;
    Ok((StatusCode::CREATED, Json(InstanceCreated { instance })))
}

/// Sets or rotates an instance's credentials (admins): the fields its connector's auth
/// scheme needs, stored encrypted.
#[utoipa::path(put, path = "/v1/admin/instances/{id}/credentials", tag = "connectors",
    security(("adminToken" = [])),
    params(("id" = InstanceId, Path)),
    request_body(content = BTreeMap<String, String>,
        example = json!({"api_key": "00a-example-key"})),
    responses(
        (status = 204, description = "Stored, encrypted"),
        (status = 403, description = "Not an admin", body = ErrorBody),
    ))]
async fn set_credentials(
    State(s): State<AppState>,
    Caller(p, _): Caller,
    IdPath(id): IdPath<InstanceId>,
    JsonBody(creds): JsonBody<BTreeMap<String, String>>,
) -> ApiResult<StatusCode> {
    s.engine.admin(&p)?.set_credentials(id, creds).await?;
    Ok(StatusCode::NO_CONTENT)
}
