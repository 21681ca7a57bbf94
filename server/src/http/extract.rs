//! Request extractors whose failures answer in the API's JSON error shape: the caller
//! ([`Caller`]), path ids ([`IdPath`]), query strings ([`QueryParams`]) and JSON bodies
//! ([`JsonBody`]) and form bodies ([`FormBody`]). Handlers take typed input from these and
//! never parse it themselves.

use std::str::FromStr;

use arx_core::CoreError;
use arx_core::access::Principal;
use arx_core::ids::{
    AgentId, ApprovalId, DriftId, GrantId, InstanceId, KeyId, RecordId, SimId, SinkId, TokenId,
    UserId,
};
use arx_core::model::ApiToken;
use axum::extract::{FromRequest, FromRequestParts, RawPathParams, Request};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::AppState;
use crate::error::ApiError;

/// Who calls the admin API: the principal behind the `Authorization: Bearer` admin
/// token, built by the engine for this request, and the token itself. A missing,
/// unknown, revoked or expired token is a 401 before the handler runs.
///
/// Put it before the other extractors of a handler: a caller without a valid token
/// learns nothing about the ids or bodies it sent.
pub struct Caller(pub Principal, pub ApiToken);

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, s: &AppState) -> Result<Self, Self::Rejection> {
        let (p, token) = s
            .engine
            .token_auth(bearer(&parts.headers).as_deref())
            .await?;
        Ok(Caller(p, token))
    }
}

/// Who reads through the console outside its server functions (downloads): the
/// principal of the signed-in session, built for this request. No session, or one
/// whose user is gone, is a 401.
pub struct SessionCaller(pub Principal);

impl FromRequestParts<AppState> for SessionCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, s: &AppState) -> Result<Self, Self::Rejection> {
        let signed_out = || {
            ApiError(CoreError::Unauthenticated(
                "sign in to the console first".into(),
            ))
        };
        let session = tower_sessions::Session::from_request_parts(parts, s)
            .await
            .map_err(|_| signed_out())?;
        let claim = session
            .get::<arx_core::access::SessionClaim>(app::SESSION_CLAIM_KEY)
            .await
            .ok()
            .flatten()
            .ok_or_else(signed_out)?;
        let p = s
            .engine
            .principal_for_session(&claim)
            .await?
            .ok_or_else(signed_out)?;
        Ok(SessionCaller(p))
    }
}

/// An id type that can appear in a path, with the name its error message uses.
pub trait PathId: FromStr {
    const WHAT: &'static str;
}

macro_rules! path_ids {
    ($($t:ty => $what:literal),* $(,)?) => {
        $(impl PathId for $t {
            const WHAT: &'static str = $what;
        })*
    };
}

path_ids! {
    AgentId => "agent",
    KeyId => "key",
    InstanceId => "instance",
    ApprovalId => "approval",
    UserId => "user",
    GrantId => "grant",
    TokenId => "token",
    RecordId => "record",
    SimId => "simulation",
    PolicyVersionNo => "policy version",
    ManifestVersionNo => "manifest version",
    DriftId => "drift alert",
    SinkId => "witness",
}

/// A manifest version number in a path (`/v1/admin/agents/{id}/manifests/{version}`).
#[derive(Debug, Clone, Copy)]
pub struct ManifestVersionNo(pub i64);

impl FromStr for ManifestVersionNo {
    type Err = std::num::ParseIntError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.parse().map(ManifestVersionNo)
    }
}

/// A policy version number in a path (`/v1/admin/policy/versions/{version}`).
#[derive(Debug, Clone, Copy)]
pub struct PolicyVersionNo(pub i64);

impl FromStr for PolicyVersionNo {
    type Err = std::num::ParseIntError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.parse().map(PolicyVersionNo)
    }
}

/// The id in the route's last path parameter, parsed once: a malformed one is a 400
/// `invalid_request` "'{s}' is not a valid {what} id". Whether the id exists, and in
/// the caller's org, is the engine's to say (404).
pub struct IdPath<T>(pub T);

impl<S: Send + Sync, T: PathId> FromRequestParts<S> for IdPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let params = RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(|e| ApiError(CoreError::InvalidRequest(e.body_text())))?;
        let raw = params.iter().last().map(|(_, v)| v).ok_or_else(|| {
            ApiError(CoreError::InvalidRequest(format!(
                "the path names no {} id",
                T::WHAT
            )))
        })?;
        parse_id(raw).map(IdPath)
    }
}

/// An id from a path segment: a malformed one is a 400 `invalid_request` "'{raw}' is not
/// a valid {what} id".
pub fn parse_id<T: PathId>(raw: &str) -> Result<T, ApiError> {
    raw.parse().map_err(|_| {
        ApiError(CoreError::InvalidRequest(format!(
            "'{raw}' is not a valid {} id",
            T::WHAT
        )))
    })
}

/// A query string parsed into `T`; a malformed one (an unknown enum value, a number
/// that is not one, an empty value) is a 400 `invalid_request` that
/// names the parameter, says what is wrong, and for an enum lists the values it takes.
pub struct QueryParams<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for QueryParams<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or_default();
        let pairs = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(pairs)
            .map(QueryParams)
            .map_err(|e| {
                let message = match e.path().to_string() {
                    p if p == "." => format!("the query string: {}", e.inner()),
                    p => format!("query parameter {p}: {}", e.inner()),
                };
                ApiError(CoreError::InvalidRequest(message))
            })
    }
}

/// A JSON object body; a malformed one is a 400 `invalid_request` that says what is
/// wrong and where, one of another content type a 415. Every body of this API is an
/// object: an array or a scalar is refused, never read as a struct's fields in order.
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let value = match axum::Json::<serde_json::Value>::from_request(req, state).await {
            Ok(axum::Json(v)) => v,
            Err(axum::extract::rejection::JsonRejection::MissingJsonContentType(_)) => {
                return Err(ApiError(CoreError::UnsupportedMediaType));
            }
            Err(other) => return Err(ApiError(CoreError::InvalidRequest(other.body_text()))),
        };
        typed(value, "JSON").map(JsonBody)
    }
}

/// `value` as a `T`; a missing or malformed field is a 400 naming it.
fn typed<T: DeserializeOwned>(value: serde_json::Value, format: &str) -> Result<T, ApiError> {
    if !value.is_object() {
        return Err(ApiError(CoreError::InvalidRequest(format!(
            "the body must be a {format} object"
        ))));
    }
    serde_path_to_error::deserialize(value).map_err(|e| {
        let message = match e.path().to_string() {
            p if p == "." => format!("the body: {}", e.inner()),
            p => format!("the body's {p}: {}", e.inner()),
        };
        ApiError(CoreError::InvalidRequest(message))
    })
}

/// The largest YAML body read (a manifest is a few kilobytes).
pub const YAML_LIMIT: usize = 256 * 1024;

/// Whether the request says its body is YAML (`application/yaml`, `application/x-yaml`
/// or `text/yaml`).
pub fn is_yaml(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|m| {
            let m = m.trim();
            ["application/yaml", "application/x-yaml", "text/yaml"]
                .iter()
                .any(|y| m.eq_ignore_ascii_case(y))
        })
}

/// A YAML body as the JSON value it denotes; a syntax error is a 400 saying where.
pub fn yaml_value(body: &[u8]) -> Result<serde_json::Value, CoreError> {
    serde_norway::from_slice(body)
        .map_err(|e| CoreError::InvalidRequest(format!("the body is not valid YAML: {e}")))
}

/// A body in JSON, or in YAML when its `Content-Type` says so (manifests are written in
/// either); otherwise as [`JsonBody`].
pub struct JsonOrYaml<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonOrYaml<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !is_yaml(req.headers()) {
            return JsonBody::from_request(req, state)
                .await
                .map(|JsonBody(t)| JsonOrYaml(t));
        }
        let body = axum::body::to_bytes(req.into_body(), YAML_LIMIT)
            .await
            .map_err(|_| ApiError(CoreError::PayloadTooLarge { limit: YAML_LIMIT }))?;
        typed(yaml_value(&body)?, "YAML").map(JsonOrYaml)
    }
}

/// An `application/x-www-form-urlencoded` body (a browser's form post) parsed into `T`;
/// a missing or malformed field is a 400 `invalid_request` naming it, another content
/// type a 415, one over [`FORM_LIMIT`] bytes a 413.
pub struct FormBody<T>(pub T);

/// The largest form body read (a sign-in form is a few hundred bytes).
pub const FORM_LIMIT: usize = 16 * 1024;

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for FormBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, _: &S) -> Result<Self, Self::Rejection> {
        let form = req
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
        if !form {
            return Err(ApiError(CoreError::UnsupportedMediaType));
        }
        let body = axum::body::to_bytes(req.into_body(), FORM_LIMIT)
            .await
            .map_err(|_| ApiError(CoreError::PayloadTooLarge { limit: FORM_LIMIT }))?;
        let pairs = serde_urlencoded::Deserializer::new(form_urlencoded::parse(&body));
        serde_path_to_error::deserialize(pairs)
            .map(FormBody)
            .map_err(|e| {
                let message = match e.path().to_string() {
                    p if p == "." => format!("the form: {}", e.inner()),
                    p => format!("the form's {p}: {}", e.inner()),
                };
                ApiError(CoreError::InvalidRequest(message))
            })
    }
}

/// An optional JSON body: empty (or `null`) means the default; `shape` says what it
/// should be.
pub fn optional_body<T: DeserializeOwned + Default>(
    body: &[u8],
    shape: &str,
) -> Result<T, ApiError> {
    let text = body.trim_ascii();
    if text.is_empty() || text == b"null" {
        return Ok(T::default());
    }
    serde_json::from_slice(body).map_err(|e| {
        ApiError(CoreError::InvalidRequest(format!(
            "the body must be {shape} or empty: {e}"
        )))
    })
}

/// The bearer token of the `Authorization` header, if any.
pub struct Bearer(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for Bearer {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Bearer(bearer(&parts.headers)))
    }
}

pub fn bearer(headers: &axum::http::HeaderMap) -> Option<String> {
    headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
}

/// The client's address: the socket's peer, or the last `X-Forwarded-For` entry (the one
/// the trusted proxy added; earlier ones are the client's to choose) when `trust_proxy`.
pub fn client_addr(
    headers: &axum::http::HeaderMap,
    peer: std::net::SocketAddr,
    trust_proxy: bool,
) -> std::net::IpAddr {
    // Only the very last entry: if it does not parse, an earlier (client-chosen) one
    // must not be used instead.
    let forwarded = || {
        headers
            .get_all("x-forwarded-for")
            .iter()
            .next_back()
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next())
            .and_then(|a| a.trim().parse().ok())
    };
    trust_proxy.then(forwarded).flatten().unwrap_or(peer.ip())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_forwarded_address_counts_only_behind_a_trusted_proxy_and_only_its_last_entry() {
        let peer: std::net::SocketAddr = "10.0.0.1:5000".parse().unwrap();
        let mut h = axum::http::HeaderMap::new();
        h.insert("x-forwarded-for", "6.6.6.6, 203.0.113.9".parse().unwrap());
        assert_eq!(client_addr(&h, peer, false).to_string(), "10.0.0.1");
        assert_eq!(client_addr(&h, peer, true).to_string(), "203.0.113.9");
        h.insert("x-forwarded-for", "6.6.6.6, garbage".parse().unwrap());
        assert_eq!(client_addr(&h, peer, true).to_string(), "10.0.0.1");
    }
}
