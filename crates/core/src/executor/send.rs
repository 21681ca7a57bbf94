//! Sending a planned request: the OAuth2 token (cached per instance and credential
//! version), the HTTP request through the client whose resolver refuses local
//! addresses, the timeouts, and the response read up to [`MAX_RESPONSE_BYTES`].

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use oauth2::basic::BasicClient;
use oauth2::{AuthType, ClientId, ClientSecret, Scope, TokenResponse, TokenUrl};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::plan::{Body, HeaderValue, RequestPlan, TokenRequest};
use super::{ExecError, Executor, MAX_RESPONSE_BYTES, TargetResponse};
use crate::catalog::{ClientAuth, HttpMethod};
use crate::ids::InstanceId;
use crate::secret::Secret;

impl Executor {
    /// Sends one planned request. `instance` and `fingerprint` (the sealed credentials)
    /// key the token cache, so a rotation fetches a new token.
    pub(super) async fn send(
        &self,
        plan: &RequestPlan,
        instance: InstanceId,
        fingerprint: &str,
    ) -> Result<TargetResponse, ExecError> {
        let method = match plan.method {
            HttpMethod::Get => reqwest::Method::GET,
            HttpMethod::Post => reqwest::Method::POST,
            HttpMethod::Put => reqwest::Method::PUT,
            HttpMethod::Patch => reqwest::Method::PATCH,
            HttpMethod::Delete => reqwest::Method::DELETE,
        };
        let mut req = self.http.request(method, &plan.url);
        for (name, value) in &plan.headers {
            req = match value {
                HeaderValue::Plain(v) => req.header(name.as_str(), v.as_str()),
                HeaderValue::Secret(s) => {
                    match reqwest::header::HeaderValue::from_str(s.expose()) {
                        Ok(mut v) => {
                            v.set_sensitive(true);
                            req.header(name.as_str(), v)
                        }
                        // Never echo the value: it is a credential.
                        Err(_) => {
                            return Err(ExecError::Build(format!(
                                "the credential for header {name} is not a valid header value"
                            )));
                        }
                    }
                }
            };
        }
        if !plan.query.is_empty() {
            req = req.query(&plan.query);
        }
        req = match &plan.body {
            Body::None => req,
            Body::Json(b) => req.json(b),
            Body::Form(f) => req.form(f),
        };
        if let Some(t) = &plan.token {
            let token = self.token(t, instance, fingerprint).await?;
            req = req.bearer_auth(token.expose());
        }

        let started = Instant::now();
        let resp = req
            .send()
            .await
            .map_err(|e| ExecError::Unreachable(describe(&e)))?;
        let status = resp.status().as_u16();
        let (bytes, cut) = read_capped(resp, MAX_RESPONSE_BYTES).await?;
        let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
        let body = if cut {
            // `bytes` is what was read before stopping: the body was at least that long.
            serde_json::json!({"truncated": true, "bytes": bytes.len(), "limit": MAX_RESPONSE_BYTES})
        } else if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
        };
        Ok(TargetResponse {
            status,
            body,
            latency_ms,
        })
    }

    /// The cached access token, or a new one from the token endpoint.
    async fn token(
        &self,
        t: &TokenRequest,
        instance: InstanceId,
        fingerprint: &str,
    ) -> Result<Secret, ExecError> {
        let key = (instance, Sha256::digest(fingerprint.as_bytes()).into());
        let cached = self.tokens.0.lock().ok().and_then(|m| {
            m.get(&key)
                .filter(|(_, exp)| *exp > Instant::now())
                .map(|(t, _)| t.clone())
        });
        if let Some(t) = cached {
            return Ok(t);
        }
        let (token, ttl) = self
            .fetch_token(
                &t.url,
                t.client_id.expose(),
                t.client_secret.expose(),
                &t.scopes,
                &t.extra_params,
                t.client_auth,
            )
            .await?;
        if let Ok(mut m) = self.tokens.0.lock() {
            // Refresh a minute early so a token never expires mid-call.
            let ttl = ttl.saturating_sub(Duration::from_secs(60));
            m.insert(key, (token.clone(), Instant::now() + ttl));
        }
        Ok(token)
    }

    async fn fetch_token(
        &self,
        url: &str,
        client_id: &str,
        client_secret: &str,
        scopes: &[String],
        extra: &BTreeMap<String, String>,
        client_auth: ClientAuth,
    ) -> Result<(Secret, Duration), ExecError> {
        let token_url = TokenUrl::new(url.to_string())
            .map_err(|e| ExecError::Build(format!("token URL {url}: {e}")))?;
        let client = BasicClient::new(ClientId::new(client_id.to_string()))
            .set_client_secret(ClientSecret::new(client_secret.to_string()))
            .set_token_uri(token_url)
            .set_auth_type(match client_auth {
                ClientAuth::Basic => AuthType::BasicAuth,
                ClientAuth::RequestBody => AuthType::RequestBody,
            });
        let mut exchange = client.exchange_client_credentials();
        for s in scopes {
            exchange = exchange.add_scope(Scope::new(s.clone()));
        }
        for (k, v) in extra {
            exchange = exchange.add_extra_param(k.clone(), v.clone());
        }
        let tok = exchange.request_async(&self.http).await.map_err(|e| {
            // The error names the endpoint's answer, never the secret we sent.
            ExecError::Unreachable(format!(
                "token request to {url} failed: {}",
                oauth_error(&e)
            ))
        })?;
        let ttl = tok.expires_in().unwrap_or(Duration::from_secs(300));
        Ok((Secret::new(tok.access_token().secret().as_str()), ttl))
    }
}

fn oauth_error<RE: std::error::Error + 'static, T: oauth2::ErrorResponse + 'static>(
    e: &oauth2::RequestTokenError<RE, T>,
) -> String {
    match e {
        oauth2::RequestTokenError::ServerResponse(r) => format!("the token endpoint refused: {r}"),
        oauth2::RequestTokenError::Request(r) => format!("could not reach the token endpoint: {r}"),
        oauth2::RequestTokenError::Parse(_, _) => {
            "the token endpoint answered something that is not a token".into()
        }
        oauth2::RequestTokenError::Other(o) => o.clone(),
    }
}

/// Reads a response chunk by chunk and stops past `cap` bytes, so a huge or endless body
/// costs at most `cap` plus one chunk of memory. `true` when the body was cut.
async fn read_capped(
    mut resp: reqwest::Response,
    cap: usize,
) -> Result<(Vec<u8>, bool), ExecError> {
    let mut buf = Vec::with_capacity(
        resp.content_length()
            .map_or(8 * 1024, |n| usize::try_from(n).unwrap_or(cap).min(cap)),
    );
    while let Some(chunk) = resp
        .chunk()
        .await
        .map_err(|e| ExecError::Unreachable(describe(&e)))?
    {
        buf.extend_from_slice(&chunk);
        if buf.len() > cap {
            // Dropping the response closes the connection; the rest is never read.
            return Ok((buf, true));
        }
    }
    Ok((buf, false))
}

/// A reqwest error without its URL's query string (which could carry params).
pub(super) fn describe(e: &reqwest::Error) -> String {
    let mut source: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(e);
    while let Some(s) = source {
        if let Some(refused) = s.downcast_ref::<crate::target::LocalAddressRefused>() {
            return refused.to_string();
        }
        source = s.source();
    }
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "connection failed"
    } else {
        "request failed"
    };
    match e.url() {
        Some(u) => format!(
            "{kind} ({}://{}{})",
            u.scheme(),
            u.host_str().unwrap_or(""),
            u.path()
        ),
        None => kind.to_string(),
    }
}
