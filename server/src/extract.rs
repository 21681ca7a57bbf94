//! Request extractors whose failures answer in the API's JSON error shape.

use arx_core::CoreError;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// A JSON body; a malformed one is a 400 `invalid_request` that says what is wrong.
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(JsonBody(v)),
            Err(rej) => Err(ApiError(match rej {
                axum::extract::rejection::JsonRejection::MissingJsonContentType(_) => {
                    CoreError::UnsupportedMediaType
                }
                other => CoreError::InvalidRequest(other.body_text()),
            })),
        }
    }
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
