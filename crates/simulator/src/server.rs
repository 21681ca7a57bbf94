//! The HTTP side: one fallback handler that finds the connector and operation of a
//! request, checks its credentials, records it and answers in the vendor's shape.

use std::collections::BTreeMap;
use std::sync::Arc;

use arx_core::catalog::Connector;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use crate::vendors::{self, Ctx, Reply};
use crate::{Inner, RecordedRequest, auth, routes::Route, wire};

pub(crate) fn router(inner: Arc<Inner>) -> Router {
    Router::new().fallback(handle).with_state(inner)
}

/// The router behind one connector host's own address: requests are served as if they
/// had come to the main address under `prefix`.
pub(crate) fn prefixed_router(inner: Arc<Inner>, prefix: String) -> Router {
    router(inner).layer(axum::middleware::map_request(
        move |mut req: axum::extract::Request| {
            let prefix = prefix.clone();
            async move {
                let pq = req.uri().path_and_query().map_or("/", |p| p.as_str());
                if let Ok(u) = format!("{prefix}{pq}").parse::<Uri>() {
                    *req.uri_mut() = u;
                }
                req
            }
        },
    ))
}

fn reply(status: u16, body: Option<Value>) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    match body {
        Some(v) => (status, axum::Json(v)).into_response(),
        None => status.into_response(),
    }
}

/// The status asked for by the `x-sim-fail` header, if any.
fn requested_failure(headers: &HeaderMap) -> Option<u16> {
    let v = headers
        .get("x-sim-fail")?
        .to_str()
        .ok()?
        .trim()
        .parse::<u16>()
        .ok()?;
    (400..=599).contains(&v).then_some(v)
}

struct Incoming<'a> {
    method: &'a str,
    path: &'a str,
    query: &'a str,
    headers: &'a HeaderMap,
    body: Value,
}

async fn handle(
    State(inner): State<Arc<Inner>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    bytes: Bytes,
) -> Response {
    let content_type = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let req = Incoming {
        method: method.as_str(),
        path: uri.path(),
        query: uri.query().unwrap_or(""),
        headers: &headers,
        body: wire::parse_body(&content_type, &bytes),
    };
    let (connector, authorized, response) = dispatch(&inner, &req);
    let delay = inner.delay_for(&connector);
    inner.record(RecordedRequest {
        connector,
        method: req.method.to_owned(),
        path: req.path.to_owned(),
        query: req.query.to_owned(),
        body: String::from_utf8_lossy(&bytes).into_owned(),
        authorized,
    });
    if let Some(d) = delay {
        tokio::time::sleep(d).await;
    }
    response
}

/// Picks among routes sharing method and path (GraphQL) by the operation's fixed body.
fn pick<'r>(
    inner: &Inner,
    candidates: Vec<(&'r Route, BTreeMap<String, String>)>,
    body: &Value,
) -> Option<(&'r Route, BTreeMap<String, String>)> {
    if candidates.len() <= 1 {
        return candidates.into_iter().next();
    }
    candidates.into_iter().find(|(r, _)| {
        let fixed = inner
            .catalog
            .get(&r.connector)
            .and_then(|c| c.operation(&r.op))
            .and_then(|o| o.fixed_body.as_ref());
        match fixed {
            Some(Value::Object(m)) => m
                .iter()
                .filter(|(_, v)| v.is_string())
                .all(|(k, v)| body.get(k) == Some(v)),
            _ => false,
        }
    })
}

fn dispatch(inner: &Inner, req: &Incoming<'_>) -> (String, bool, Response) {
    let prefix = req
        .path
        .split('/')
        .find(|s| !s.is_empty())
        .unwrap_or("")
        .to_owned();
    let connector: Option<&Connector> = inner.catalog.get(&prefix);

    if let Some(c) = inner
        .routes
        .token_endpoint(req.path)
        .and_then(|n| inner.catalog.get(n))
    {
        if req.method != "POST" {
            return (
                c.name.clone(),
                false,
                reply(
                    405,
                    Some(vendors::error(&c.name, 405, "Method Not Allowed")),
                ),
            );
        }
        if let Some(status) = requested_failure(req.headers).or_else(|| inner.failure_for(&c.name))
        {
            return (
                c.name.clone(),
                false,
                reply(status, Some(vendors::failure(&c.name, status))),
            );
        }
        let t = auth::token(inner, c, req.headers, &req.body);
        return (c.name.clone(), t.issued, reply(t.status, Some(t.body)));
    }

    let Some(c) = connector else {
        let body = serde_json::json!({ "error": "not_found", "message": format!("no connector is served at /{prefix}") });
        return (prefix, false, reply(404, Some(body)));
    };
    let authorized = auth::api_call_authorized(inner, c, req.headers);
    let candidates = inner.routes.find(req.method, req.path);
    let ambiguous = candidates.len() > 1;
    let Some((route, path_params)) = pick(inner, candidates, &req.body) else {
        let (status, msg) = if ambiguous {
            (400, "Unknown query for this endpoint")
        } else {
            (404, "Not Found")
        };
        return (
            prefix,
            authorized,
            reply(status, Some(vendors::error(&c.name, status, msg))),
        );
    };
    let needs_auth = c.operation(&route.op).is_none_or(|o| o.authenticated);
    if needs_auth && !authorized {
        return (
            prefix,
            false,
            reply(401, Some(vendors::unauthorized(&c.name))),
        );
    }
    if let Some(status) = requested_failure(req.headers).or_else(|| inner.failure_for(&c.name)) {
        return (
            prefix,
            authorized || !needs_auth,
            reply(status, Some(vendors::failure(&c.name, status))),
        );
    }
    let api_base = inner.routes.api_base(&c.name).unwrap_or_default();
    let ctx = Ctx {
        op: &route.op,
        path: req
            .path
            .strip_prefix(&format!("/{prefix}"))
            .unwrap_or(req.path),
        path_params,
        query: wire::parse_pairs(req.query),
        body: req.body.clone(),
        headers: req.headers,
        api_base,
        seq: inner.next_seq(),
        state: &inner.state,
    };
    let Reply { status, body } = vendors::respond(&c.name, &ctx);
    (prefix, authorized || !needs_auth, reply(status, body))
}
