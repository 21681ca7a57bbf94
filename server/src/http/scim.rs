//! `/scim/v2`: SCIM 2.0 provisioning (RFC 7644) for a directory such as Okta or Entra ID,
//! authenticated by a SCIM token of the org (never an admin token). Bodies are
//! `application/scim+json` (plain `application/json` is accepted); every error answers
//! in SCIM's own shape with its `scimType`. Handlers parse the request and make one call
//! to the engine's [`ScimOps`](arx_core::engine::ScimOps).

use arx_core::engine::ScimCaller;
use arx_core::scim::{self, Kind, ListQuery, ScimError, resource};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{FromRequestParts, Path, RawQuery, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use serde_json::Value;

use crate::AppState;
use crate::http::extract::bearer;

/// The largest SCIM request body (a group of many members fits).
const MAX_BODY: usize = 2 * 1024 * 1024;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/scim/v2/ServiceProviderConfig",
            get(service_provider_config),
        )
        .route("/scim/v2/ResourceTypes", get(resource_types))
        .route("/scim/v2/ResourceTypes/{id}", get(resource_type))
        .route("/scim/v2/Schemas", get(schemas))
        .route("/scim/v2/Schemas/{id}", get(schema))
        .route("/scim/v2/.search", post(search_all))
        .route("/scim/v2/{kind}", get(list).post(create))
        .route(
            "/scim/v2/{kind}/{id}",
            get(read)
                .put(write)
                .patch(write)
                .delete(delete)
                .post(search),
        )
        .method_not_allowed_fallback(wrong_method)
        .route("/scim/{*rest}", any(no_route))
}

/// A SCIM answer: the JSON with `application/scim+json`, and its version as `ETag`.
struct Reply(StatusCode, Value);

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        let Reply(status, body) = self;
        let mut res = (status, body.to_string()).into_response();
        let h = res.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/scim+json"),
        );
        let meta = body.get("meta");
        if let Some(v) = meta
            .and_then(|m| m.get("version"))
            .and_then(Value::as_str)
            .and_then(|v| HeaderValue::from_str(v).ok())
        {
            h.insert(header::ETAG, v);
        }
        if status == StatusCode::CREATED
            && let Some(l) = meta
                .and_then(|m| m.get("location"))
                .and_then(Value::as_str)
                .and_then(|v| HeaderValue::from_str(v).ok())
        {
            h.insert(header::LOCATION, l);
        }
        res
    }
}

/// A SCIM error as the RFC shapes it.
struct Refusal(ScimError);

impl From<ScimError> for Refusal {
    fn from(e: ScimError) -> Self {
        Refusal(e)
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let status =
            StatusCode::from_u16(self.0.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut res = Reply(status, self.0.body()).into_response();
        if status == StatusCode::UNAUTHORIZED {
            res.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"scim\""),
            );
        }
        res
    }
}

type Answer = Result<Reply, Refusal>;

fn ok(v: Value) -> Answer {
    Ok(Reply(StatusCode::OK, v))
}

/// The directory calling, from its bearer token: checked before anything of the request
/// is read.
struct Directory(ScimCaller);

impl FromRequestParts<AppState> for Directory {
    type Rejection = Refusal;

    async fn from_request_parts(parts: &mut Parts, s: &AppState) -> Result<Self, Refusal> {
        Ok(Directory(
            s.engine
                .scim_auth(bearer(&parts.headers).as_deref())
                .await?,
        ))
    }
}

/// Where this server's SCIM resources live, for `meta.location` and `$ref`.
fn base(s: &AppState) -> String {
    format!("{}/scim/v2", s.hub.public_url)
}

fn if_match(h: &HeaderMap) -> Option<&str> {
    h.get(header::IF_MATCH).and_then(|v| v.to_str().ok())
}

/// A request body: JSON (as `application/scim+json` or `application/json`), at most
/// [`MAX_BODY`] bytes.
fn body(h: &HeaderMap, bytes: &Bytes) -> Result<Value, Refusal> {
    let kind = h
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/scim+json");
    let media = kind
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if media != "application/scim+json" && media != "application/json" {
        return Err(ScimError::bad("invalidSyntax", "the body is application/scim+json").into());
    }
    if bytes.len() > MAX_BODY {
        return Err(ScimError {
            status: 413,
            scim_type: None,
            detail: format!("a SCIM request body is at most {MAX_BODY} bytes"),
        }
        .into());
    }
    serde_json::from_slice(bytes)
        .map_err(|e| ScimError::bad("invalidSyntax", format!("the body is not JSON: {e}")).into())
}

fn list_query(raw: Option<String>) -> Result<ListQuery, Refusal> {
    let params: Vec<(String, String)> = form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
        .into_owned()
        .collect();
    Ok(ListQuery::parse(&params)?)
}

async fn wrong_method() -> Refusal {
    Refusal(ScimError {
        status: 405,
        scim_type: None,
        detail: "this SCIM endpoint does not take that method".into(),
    })
}

fn no_endpoint() -> ScimError {
    ScimError::not_found(
        "no such SCIM endpoint; the base is /scim/v2 (Users, Groups, ServiceProviderConfig, ResourceTypes, Schemas)",
    )
}

async fn no_route() -> Refusal {
    Refusal(no_endpoint())
}

async fn service_provider_config(_: Directory, State(s): State<AppState>) -> Answer {
    ok(resource::service_provider_config(&base(&s)))
}

async fn resource_types(_: Directory, State(s): State<AppState>) -> Answer {
    let all = resource::resource_types(&base(&s));
    ok(scim::list_response(all.len(), 1, all))
}

async fn resource_type(_: Directory, State(s): State<AppState>, Path(id): Path<String>) -> Answer {
    resource::resource_types(&base(&s))
        .into_iter()
        .find(|r| r["id"] == id.as_str())
        .map_or_else(
            || Err(ScimError::not_found("no such resource type").into()),
            ok,
        )
}

async fn schemas(_: Directory, State(s): State<AppState>) -> Answer {
    let all = resource::schemas(&base(&s));
    ok(scim::list_response(all.len(), 1, all))
}

async fn schema(_: Directory, State(s): State<AppState>, Path(id): Path<String>) -> Answer {
    resource::schemas(&base(&s))
        .into_iter()
        .find(|r| r["id"] == id.as_str())
        .map_or_else(|| Err(ScimError::not_found("no such schema").into()), ok)
}

/// `Users` or `Groups` from the path; any other name is no SCIM endpoint.
fn kind(name: &str) -> Result<Kind, Refusal> {
    Kind::from_endpoint(name).ok_or_else(|| no_endpoint().into())
}

async fn list(
    Directory(d): Directory,
    State(s): State<AppState>,
    Path(k): Path<String>,
    RawQuery(q): RawQuery,
) -> Answer {
    let (k, q) = (kind(&k)?, list_query(q)?);
    ok(s.engine.scim(&d, &base(&s)).list(Some(k), &q).await?)
}

async fn create(
    Directory(d): Directory,
    State(s): State<AppState>,
    Path(k): Path<String>,
    h: HeaderMap,
    b: Bytes,
) -> Answer {
    let (k, v) = (kind(&k)?, body(&h, &b)?);
    Ok(Reply(
        StatusCode::CREATED,
        s.engine.scim(&d, &base(&s)).create(k, &v).await?,
    ))
}

async fn read(
    Directory(d): Directory,
    State(s): State<AppState>,
    Path((k, id)): Path<(String, String)>,
    RawQuery(q): RawQuery,
) -> Answer {
    let (k, q) = (kind(&k)?, list_query(q)?);
    ok(q.project(s.engine.scim(&d, &base(&s)).get(k, &id).await?))
}

/// PUT replaces the resource with the body; PATCH applies the body's operations to it.
async fn write(
    Directory(d): Directory,
    State(s): State<AppState>,
    method: Method,
    Path((k, id)): Path<(String, String)>,
    h: HeaderMap,
    b: Bytes,
) -> Answer {
    let (k, v) = (kind(&k)?, body(&h, &b)?);
    let base = base(&s);
    let ops = s.engine.scim(&d, &base);
    ok(if method == Method::PATCH {
        ops.patch(k, &id, &v, if_match(&h)).await?
    } else {
        ops.replace(k, &id, &v, if_match(&h)).await?
    })
}

async fn delete(
    Directory(d): Directory,
    State(s): State<AppState>,
    Path((k, id)): Path<(String, String)>,
    h: HeaderMap,
) -> Result<StatusCode, Refusal> {
    s.engine
        .scim(&d, &base(&s))
        .delete(kind(&k)?, &id, if_match(&h))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /Users/.search` and `/Groups/.search` (RFC 7644 §3.4.3): a list whose
/// parameters come in the body. Only `.search` takes a POST under a resource type.
async fn search(
    Directory(d): Directory,
    State(s): State<AppState>,
    Path((k, id)): Path<(String, String)>,
    h: HeaderMap,
    b: Bytes,
) -> Answer {
    let k = kind(&k)?;
    if id != ".search" {
        return Err(Refusal(ScimError {
            status: 405,
            scim_type: None,
            detail:
                "a resource takes GET, PUT, PATCH or DELETE; POST creates under the resource type"
                    .into(),
        }));
    }
    let q = search_query(&h, &b)?;
    ok(s.engine.scim(&d, &base(&s)).list(Some(k), &q).await?)
}

/// `POST /.search`: users, then groups.
async fn search_all(
    Directory(d): Directory,
    State(s): State<AppState>,
    h: HeaderMap,
    b: Bytes,
) -> Answer {
    let q = search_query(&h, &b)?;
    ok(s.engine.scim(&d, &base(&s)).list(None, &q).await?)
}

/// A search request's body as list parameters.
fn search_query(h: &HeaderMap, b: &Bytes) -> Result<ListQuery, Refusal> {
    let v = body(h, b)?;
    let text = |x: &Value| match x {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Array(a) => Some(
            a.iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(","),
        ),
        _ => None,
    };
    let params: Vec<(String, String)> = v
        .as_object()
        .into_iter()
        .flatten()
        .filter_map(|(k, x)| text(x).map(|t| (k.clone(), t)))
        .collect();
    Ok(ListQuery::parse(&params)?)
}
