//! The generic executor: turns a declared operation, an instance and its credentials
//! into one HTTP request to the vendor. Vendor quirks are data in the connector file.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use oauth2::basic::BasicClient;
use oauth2::{AuthType, ClientId, ClientSecret, Scope, TokenResponse, TokenUrl};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::catalog::{
    AuthScheme, BodyEncoding, ClientAuth, Connector, HttpMethod, Operation, ParamLocation,
};
use crate::ids::InstanceId;
use crate::model::Instance;
use crate::secret::{Credentials, Secret};

/// Largest target response kept; larger bodies are cut (never read past) and marked.
pub const MAX_RESPONSE_BYTES: usize = 1024 * 1024;

#[derive(Debug, Clone)]
pub struct TargetResponse {
    pub status: u16,
    pub body: Value,
    pub latency_ms: f64,
}

#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    /// The request could not be built from the declaration (a config problem).
    #[error("{0}")]
    Build(String),
    /// The target or its token endpoint could not be reached or refused the credentials.
    #[error("{0}")]
    Unreachable(String),
    /// ARX refused to send: the target is not where calls may go (see [`crate::target`]).
    #[error("{0}")]
    Refused(String),
}

/// An instance and a digest of its sealed credentials: a rotation makes a new key.
type TokenKey = (InstanceId, [u8; 32]);

/// Caches OAuth2 access tokens per instance and credential version, so a call does not
/// fetch a token each time. Tokens are zeroized when dropped.
#[derive(Default)]
struct TokenCache(Mutex<HashMap<TokenKey, (Secret, Instant)>>);

pub struct Executor {
    http: reqwest::Client,
    tokens: TokenCache,
    /// Plain http and non-public addresses are allowed (`--allow-local-targets`).
    allow_local: bool,
}

impl std::fmt::Debug for Executor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Executor")
    }
}

/// Fills `{name}` placeholders from `vars`; `encode` percent-encodes each value (for paths).
pub fn render(
    template: &str,
    vars: &BTreeMap<String, String>,
    encode: bool,
) -> Result<String, ExecError> {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let Some(len) = rest[start..].find('}') else {
            return Err(ExecError::Build(format!(
                "unclosed '{{' in template {template}"
            )));
        };
        let name = &rest[start + 1..start + len];
        let v = vars
            .get(name)
            .ok_or_else(|| ExecError::Build(format!("no value for {{{name}}} in {template}")))?;
        if encode {
            out.push_str(&percent_encode(v));
        } else {
            out.push_str(v);
        }
        rest = &rest[start + len + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Puts `value` at a dotted path (`fields.project.key`) inside a JSON object.
fn place(body: &mut Value, path: &str, value: Value) {
    let mut cur = body;
    let mut parts = path.split('.').peekable();
    while let Some(p) = parts.next() {
        if !cur.is_object() {
            *cur = Value::Object(Map::new());
        }
        let Value::Object(m) = cur else { return };
        if parts.peek().is_none() {
            m.insert(p.to_string(), value);
            return;
        }
        cur = m
            .entry(p.to_string())
            .or_insert_with(|| Value::Object(Map::new()));
    }
}

impl Executor {
    /// An executor for public https targets only.
    pub fn new() -> Self {
        Self::with_local_targets(false)
    }

    /// `allow_local`: also plain http, loopback, private and link-local addresses.
    pub fn with_local_targets(allow_local: bool) -> Self {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(30))
            .pool_max_idle_per_host(256)
            // Every name is resolved here and refused if any address is not public; the
            // connection goes to the addresses checked, so DNS rebinding cannot swap them.
            .dns_resolver(crate::target::resolver(allow_local))
            .build()
            .unwrap_or_default();
        Executor {
            http,
            tokens: TokenCache::default(),
            allow_local,
        }
    }

    pub fn allows_local_targets(&self) -> bool {
        self.allow_local
    }

    fn vars(connector: &Connector, instance: &Instance) -> BTreeMap<String, String> {
        let mut vars: BTreeMap<String, String> = connector
            .variables
            .iter()
            .filter_map(|(k, v)| v.default.clone().map(|d| (k.clone(), d)))
            .collect();
        vars.extend(
            instance
                .variables
                .iter()
                .map(|(k, v)| (k.clone(), v.clone())),
        );
        vars
    }

    /// Sends the operation; an operation with an `in: each` param is sent once per item,
    /// in order, stopping at the first item the target refuses.
    pub async fn run(
        &self,
        connector: &Connector,
        op: &Operation,
        instance: &Instance,
        sealed_fingerprint: &str,
        creds: &Credentials,
        params: &Map<String, Value>,
    ) -> Result<TargetResponse, ExecError> {
        let one = |item: Option<(String, String)>| {
            self.run_one(
                connector,
                op,
                instance,
                sealed_fingerprint,
                creds,
                params,
                item,
            )
        };
        let Some((name, each)) = op.each_param() else {
            return one(None).await;
        };
        let wire = each.wire.as_deref().unwrap_or(name);
        let items = params
            .get(name)
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let (mut results, mut status, mut latency_ms) = (Vec::new(), 200, 0.0);
        for item in &items {
            let r = one(Some((wire.to_string(), scalar(item)))).await?;
            latency_ms += r.latency_ms;
            let ok = (200..300).contains(&r.status);
            results.push(serde_json::json!({ wire: item, "status": r.status, "body": r.body }));
            if !ok {
                status = r.status;
                break;
            }
        }
        Ok(TargetResponse {
            status,
            body: serde_json::json!({ "results": results, "requested": items.len() }),
            latency_ms,
        })
    }

    #[allow(clippy::too_many_arguments)]
    async fn run_one(
        &self,
        connector: &Connector,
        op: &Operation,
        instance: &Instance,
        sealed_fingerprint: &str,
        creds: &Credentials,
        params: &Map<String, Value>,
        item: Option<(String, String)>,
    ) -> Result<TargetResponse, ExecError> {
        let vars = Self::vars(connector, instance);
        // Checked again at send time: a value stored before a check existed, or by
        // another path, still cannot send the call elsewhere.
        crate::target::check_variables(connector, &instance.variables, self.allow_local)
            .map_err(ExecError::Refused)?;
        let base = render(
            op.base_url.as_deref().unwrap_or(&connector.base_url),
            &vars,
            false,
        )?;
        let mut path_vars = vars.clone();
        for (name, p) in &op.params {
            if p.location == ParamLocation::Path
                && let Some(v) = params.get(name)
            {
                path_vars.insert(name.clone(), scalar(v));
            }
        }
        if let Some((wire, value)) = item {
            path_vars.insert(wire, value);
        }
        let path = render(&op.path, &path_vars, true)?;
        let url = format!("{}{}", base.trim_end_matches('/'), path);
        crate::target::check_url(&url, self.allow_local).map_err(ExecError::Refused)?;

        let method = match op.method {
            HttpMethod::Get => reqwest::Method::GET,
            HttpMethod::Post => reqwest::Method::POST,
            HttpMethod::Put => reqwest::Method::PUT,
            HttpMethod::Patch => reqwest::Method::PATCH,
            HttpMethod::Delete => reqwest::Method::DELETE,
        };
        let mut query: Vec<(String, String)> = op
            .fixed_query
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let mut body = op.fixed_body.clone();
        // A form body starts from the fixed body's top-level fields.
        let mut form: Vec<(String, String)> = match (&op.body_encoding, &op.fixed_body) {
            (BodyEncoding::Form, Some(Value::Object(m))) => {
                m.iter().map(|(k, v)| (k.clone(), scalar(v))).collect()
            }
            _ => Vec::new(),
        };
        let mut req = self.http.request(method, &url);
        for (name, p) in &op.params {
            let Some(v) = params.get(name).filter(|v| !v.is_null()) else {
                continue;
            };
            let wire = p.wire.as_deref().unwrap_or(name);
            match p.location {
                ParamLocation::Path | ParamLocation::Each => {}
                ParamLocation::Query => match v {
                    Value::Array(items) => {
                        query.extend(items.iter().map(|i| (wire.to_string(), scalar(i))))
                    }
                    v => query.push((wire.to_string(), scalar(v))),
                },
                ParamLocation::Header => req = req.header(wire, scalar(v)),
                ParamLocation::Body => match op.body_encoding {
                    BodyEncoding::Json => place(
                        body.get_or_insert_with(|| Value::Object(Map::new())),
                        wire,
                        v.clone(),
                    ),
                    BodyEncoding::Form => form.push((wire.to_string(), scalar(v))),
                },
            }
        }
        if !query.is_empty() {
            req = req.query(&query);
        }
        match op.body_encoding {
            BodyEncoding::Form => {
                if !form.is_empty() {
                    req = req.form(&form);
                }
            }
            BodyEncoding::Json => {
                if let Some(b) = &body {
                    req = req.json(b);
                }
            }
        }
        if op.authenticated {
            req = self
                .authenticate(req, connector, instance, &vars, sealed_fingerprint, creds)
                .await?;
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

    async fn authenticate(
        &self,
        req: reqwest::RequestBuilder,
        connector: &Connector,
        instance: &Instance,
        vars: &BTreeMap<String, String>,
        fingerprint: &str,
        creds: &Credentials,
    ) -> Result<reqwest::RequestBuilder, ExecError> {
        let need = |field: &str| {
            creds.get(field).ok_or_else(|| {
                ExecError::Build(format!(
                    "instance '{}' has no credential field '{field}'",
                    instance.name
                ))
            })
        };
        Ok(match &connector.auth {
            AuthScheme::Bearer => req.bearer_auth(need("token")?),
            AuthScheme::Basic => req.basic_auth(need("username")?, Some(need("password")?)),
            AuthScheme::ApiKeyHeader { header, prefix } => {
                req.header(header.as_str(), format!("{prefix}{}", need("api_key")?))
            }
            AuthScheme::Oauth2ClientCredentials {
                token_url,
                scopes,
                extra_params,
                client_auth,
            } => {
                let key = (instance.id, Sha256::digest(fingerprint.as_bytes()).into());
                let cached = self.tokens.0.lock().ok().and_then(|m| {
                    m.get(&key)
                        .filter(|(_, exp)| *exp > Instant::now())
                        .map(|(t, _)| t.clone())
                });
                let token = match cached {
                    Some(t) => t,
                    None => {
                        let mut tvars = vars.clone();
                        tvars.insert("base_url".into(), render(&connector.base_url, vars, false)?);
                        let url = render(token_url, &tvars, false)?;
                        crate::target::check_url(&url, self.allow_local)
                            .map_err(ExecError::Refused)?;
                        let (token, ttl) = self
                            .fetch_token(
                                &url,
                                need("client_id")?,
                                need("client_secret")?,
                                scopes,
                                extra_params,
                                *client_auth,
                            )
                            .await?;
                        if let Ok(mut m) = self.tokens.0.lock() {
                            // Refresh a minute early so a token never expires mid-call.
                            let ttl = ttl.saturating_sub(Duration::from_secs(60));
                            m.insert(key, (token.clone(), Instant::now() + ttl));
                        }
                        token
                    }
                };
                req.bearer_auth(token.expose())
            }
        })
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

impl Default for Executor {
    fn default() -> Self {
        Self::new()
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
fn describe(e: &reqwest::Error) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn render_fills_and_encodes() {
        let vars = BTreeMap::from([
            ("host".to_string(), "h.example".to_string()),
            ("id".to_string(), "a b/c".to_string()),
        ]);
        assert_eq!(
            render("https://{host}/x/{id}", &vars, true).unwrap(),
            "https://h.example/x/a%20b%2Fc"
        );
        assert!(render("/{missing}", &vars, false).is_err());
    }

    /// A name that resolves to a local address is refused by the client's resolver, so
    /// the check and the connection use the same addresses.
    #[tokio::test]
    async fn names_resolving_to_local_addresses_are_refused_when_connecting() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let strict = Executor::with_local_targets(false);
        let e = strict
            .http
            .get(format!("http://localhost:{port}/"))
            .send()
            .await
            .unwrap_err();
        assert!(describe(&e).contains("local address"), "{}", describe(&e));
        // Nothing connected.
        let accepted = tokio::time::timeout(Duration::from_millis(100), listener.accept()).await;
        assert!(accepted.is_err(), "a connection reached the local listener");
        // With local targets allowed the same name connects.
        let open = Executor::with_local_targets(true);
        let _ = tokio::time::timeout(
            Duration::from_millis(300),
            open.http.get(format!("http://localhost:{port}/")).send(),
        )
        .await;
        let accepted = tokio::time::timeout(Duration::from_millis(500), listener.accept()).await;
        assert!(accepted.is_ok(), "the allowed connection did not arrive");
    }

    #[test]
    fn place_builds_nested_bodies() {
        let mut b = Value::Object(Map::new());
        place(&mut b, "fields.project.key", Value::from("SEC"));
        place(&mut b, "fields.summary", Value::from("s"));
        assert_eq!(
            b,
            serde_json::json!({"fields": {"project": {"key": "SEC"}, "summary": "s"}})
        );
    }
}
