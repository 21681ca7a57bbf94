//! The request plan: everything about a vendor request that follows from the declaration
//! (connector, operation), the instance, its credentials and the call's params, built
//! with no network and no async, so each connector's requests are testable offline.
//! The target checks that need no DNS (variables, URL scheme, IP literals) happen here.

use std::collections::BTreeMap;
use std::fmt;

use base64::Engine as _;
use serde_json::{Map, Value};

use super::ExecError;
use crate::catalog::ParamLocation;
use crate::catalog::{AuthScheme, BodyEncoding, ClientAuth, Connector, HttpMethod, Operation};
use crate::model::Instance;
use crate::secret::{Credentials, Secret};

/// One HTTP request to the vendor, ready to send.
#[derive(Debug, Clone)]
pub struct RequestPlan {
    pub method: HttpMethod,
    /// Base URL and rendered path; the query is separate.
    pub url: String,
    /// Headers from `in: header` params and the static auth header (secret, so `Debug`
    /// shows `<redacted>`).
    pub headers: Vec<(String, HeaderValue)>,
    pub query: Vec<(String, String)>,
    pub body: Body,
    /// A token to fetch when sending (OAuth2); static schemes are already in `headers`.
    pub token: Option<TokenRequest>,
}

/// A header value; secret ones never print.
#[derive(Debug, Clone)]
pub enum HeaderValue {
    Plain(String),
    Secret(Secret),
}

impl HeaderValue {
    pub fn expose(&self) -> &str {
        match self {
            HeaderValue::Plain(s) => s,
            HeaderValue::Secret(s) => s.expose(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    None,
    Json(Value),
    Form(Vec<(String, String)>),
}

/// An OAuth2 client-credentials token request, made (or served from the cache) when the
/// request is sent; its answer becomes `Authorization: Bearer <token>`.
#[derive(Clone)]
pub struct TokenRequest {
    pub url: String,
    pub client_id: Secret,
    pub client_secret: Secret,
    pub scopes: Vec<String>,
    pub extra_params: BTreeMap<String, String>,
    pub client_auth: ClientAuth,
}

impl fmt::Debug for TokenRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenRequest")
            .field("url", &self.url)
            .field("scopes", &self.scopes)
            .field("extra_params", &self.extra_params)
            .field("client_auth", &self.client_auth)
            .finish_non_exhaustive()
    }
}

impl RequestPlan {
    /// The value of header `name` (case-insensitive), secret or not.
    pub fn header(&self, name: &str) -> Option<&HeaderValue> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }
}

/// The requests of one call: one, or one per item of an `in: each` list param.
#[derive(Debug, Clone)]
pub enum Plan {
    One(RequestPlan),
    /// Sent in order; `wire` names the placeholder each item fills.
    Each {
        wire: String,
        items: Vec<(Value, RequestPlan)>,
    },
}

/// What a call is made of.
#[derive(Clone, Copy)]
pub struct Call<'a> {
    pub connector: &'a Connector,
    pub op: &'a Operation,
    pub instance: &'a Instance,
    pub creds: &'a Credentials,
    pub params: &'a Map<String, Value>,
}

impl Call<'_> {
    /// Plans the call's requests. `allow_local`: plain http and local addresses allowed.
    pub fn plan(&self, allow_local: bool) -> Result<Plan, ExecError> {
        // Checked again at send time: a value stored before a check existed, or by
        // another path, still cannot send the call elsewhere.
        crate::target::check_variables(self.connector, &self.instance.variables, allow_local)
            .map_err(ExecError::Refused)?;
        let Some((name, each)) = self.op.each_param() else {
            return Ok(Plan::One(self.plan_one(None, allow_local)?));
        };
        let wire = each.wire.as_deref().unwrap_or(name).to_string();
        let items = self
            .params
            .get(name)
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let items = items
            .into_iter()
            .map(|item| {
                let r = self.plan_one(Some((&wire, scalar(&item))), allow_local)?;
                Ok((item, r))
            })
            .collect::<Result<_, ExecError>>()?;
        Ok(Plan::Each { wire, items })
    }

    fn vars(&self) -> BTreeMap<String, String> {
        let mut vars: BTreeMap<String, String> = self
            .connector
            .variables
            .iter()
            .filter_map(|(k, v)| v.default.clone().map(|d| (k.clone(), d)))
            .collect();
        vars.extend(
            self.instance
                .variables
                .iter()
                .map(|(k, v)| (k.clone(), v.clone())),
        );
        vars
    }

    fn plan_one(
        &self,
        item: Option<(&str, String)>,
        allow_local: bool,
    ) -> Result<RequestPlan, ExecError> {
        let (connector, op, params) = (self.connector, self.op, self.params);
        let vars = self.vars();
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
            path_vars.insert(wire.to_string(), value);
        }
        let path = render(&op.path, &path_vars, true)?;
        let url = format!("{}{}", base.trim_end_matches('/'), path);
        crate::target::check_url(&url, allow_local).map_err(ExecError::Refused)?;

        let mut query: Vec<(String, String)> = op
            .fixed_query
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let mut headers = Vec::new();
        let mut json = op.fixed_body.clone();
        // A form body starts from the fixed body's top-level fields.
        let mut form: Vec<(String, String)> = match (&op.body_encoding, &op.fixed_body) {
            (BodyEncoding::Form, Some(Value::Object(m))) => {
                m.iter().map(|(k, v)| (k.clone(), scalar(v))).collect()
            }
            _ => Vec::new(),
        };
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
                ParamLocation::Header => {
                    headers.push((wire.to_string(), HeaderValue::Plain(scalar(v))))
                }
                ParamLocation::Body => match op.body_encoding {
                    BodyEncoding::Json => place(
                        json.get_or_insert_with(|| Value::Object(Map::new())),
                        wire,
                        v.clone(),
                    ),
                    BodyEncoding::Form => form.push((wire.to_string(), scalar(v))),
                },
            }
        }
        let body = match op.body_encoding {
            BodyEncoding::Form if !form.is_empty() => Body::Form(form),
            BodyEncoding::Form => Body::None,
            BodyEncoding::Json => json.map_or(Body::None, Body::Json),
        };
        let mut token = None;
        if op.authenticated {
            match self.auth(&vars, allow_local)? {
                Auth::Header(name, value) => headers.push((name, HeaderValue::Secret(value))),
                Auth::Token(t) => token = Some(t),
            }
        }
        Ok(RequestPlan {
            method: op.method,
            url,
            headers,
            query,
            body,
            token,
        })
    }

    fn auth(&self, vars: &BTreeMap<String, String>, allow_local: bool) -> Result<Auth, ExecError> {
        let need = |field: &str| {
            self.creds.get(field).ok_or_else(|| {
                ExecError::Build(format!(
                    "instance '{}' has no credential field '{field}'",
                    self.instance.name
                ))
            })
        };
        let authorization =
            |value: String| Auth::Header("authorization".into(), Secret::new(value));
        Ok(match &self.connector.auth {
            AuthScheme::Bearer => authorization(format!("Bearer {}", need("token")?)),
            AuthScheme::Basic => {
                let pair = format!("{}:{}", need("username")?, need("password")?);
                let pair = Secret::new(pair);
                authorization(format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD.encode(pair.expose())
                ))
            }
            AuthScheme::ApiKeyHeader { header, prefix } => Auth::Header(
                header.clone(),
                Secret::new(format!("{prefix}{}", need("api_key")?)),
            ),
            AuthScheme::Oauth2ClientCredentials {
                token_url,
                scopes,
                extra_params,
                client_auth,
            } => {
                let mut tvars = vars.clone();
                tvars.insert(
                    "base_url".into(),
                    render(&self.connector.base_url, vars, false)?,
                );
                let url = render(token_url, &tvars, false)?;
                crate::target::check_url(&url, allow_local).map_err(ExecError::Refused)?;
                Auth::Token(TokenRequest {
                    url,
                    client_id: Secret::new(need("client_id")?),
                    client_secret: Secret::new(need("client_secret")?),
                    scopes: scopes.clone(),
                    extra_params: extra_params.clone(),
                    client_auth: *client_auth,
                })
            }
        })
    }
}

enum Auth {
    Header(String, Secret),
    Token(TokenRequest),
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

pub(super) fn percent_encode(s: &str) -> String {
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

pub(super) fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Puts `value` at a dotted path (`fields.project.key`) inside a JSON object.
pub(super) fn place(body: &mut Value, path: &str, value: Value) {
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
