//! Credentials: the demo secrets, the OAuth 2.0 token endpoint (RFC 6749 §4.4) and the
//! per-scheme check of API calls.

use arx_core::catalog::{AuthScheme, ClientAuth, Connector};
use axum::http::HeaderMap;
use serde_json::{Value, json};

use crate::{Inner, vendors, wire};

/// The demo value of secret field `field` for `connector`, e.g. `demo-okta-api-key`.
pub fn demo_secret(connector: &str, field: &str) -> String {
    format!("demo-{connector}-{field}").replace('_', "-")
}

/// The vault JSON object of demo credentials for a connector (all fields when unknown).
pub(crate) fn credentials(connector: Option<&Connector>, name: &str) -> Value {
    const ALL: &[&str] = &[
        "client_id",
        "client_secret",
        "api_key",
        "token",
        "username",
        "password",
    ];
    let fields = connector.map_or(ALL, |c| c.auth.secret_fields());
    Value::Object(
        fields
            .iter()
            .map(|f| ((*f).to_owned(), Value::String(demo_secret(name, f))))
            .collect(),
    )
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

/// Whether an API call carries the connector's credentials.
pub(crate) fn api_call_authorized(inner: &Inner, c: &Connector, headers: &HeaderMap) -> bool {
    let authorization = header(headers, "authorization");
    match &c.auth {
        AuthScheme::Oauth2ClientCredentials { .. } => wire::bearer(authorization)
            .and_then(|t| inner.token_owner(t))
            .is_some_and(|owner| owner == c.name),
        AuthScheme::ApiKeyHeader {
            header: name,
            prefix,
        } => header(headers, name) == format!("{prefix}{}", demo_secret(&c.name, "api_key")),
        AuthScheme::Bearer => {
            wire::bearer(authorization) == Some(demo_secret(&c.name, "token").as_str())
        }
        AuthScheme::Basic => {
            wire::basic_auth(authorization)
                == Some((
                    demo_secret(&c.name, "username"),
                    demo_secret(&c.name, "password"),
                ))
        }
    }
}

/// Outcome of a token request: whether it succeeded, the status and the JSON body.
pub(crate) struct TokenReply {
    pub(crate) issued: bool,
    pub(crate) status: u16,
    pub(crate) body: Value,
}

fn refuse(status: u16, error: &str, description: &str) -> TokenReply {
    TokenReply {
        issued: false,
        status,
        body: json!({ "error": error, "error_description": description }),
    }
}

/// Answers a client-credentials token request to connector `c`'s token endpoint.
pub(crate) fn token(inner: &Inner, c: &Connector, headers: &HeaderMap, form: &Value) -> TokenReply {
    let AuthScheme::Oauth2ClientCredentials {
        scopes,
        extra_params,
        client_auth,
        ..
    } = &c.auth
    else {
        return refuse(
            400,
            "unauthorized_client",
            "this connector does not use OAuth 2.0",
        );
    };
    let field = |k: &str| form.get(k).and_then(Value::as_str).unwrap_or("");
    if field("grant_type") != "client_credentials" {
        return refuse(
            400,
            "unsupported_grant_type",
            "grant_type must be client_credentials",
        );
    }
    for (k, v) in extra_params {
        if field(k) != v {
            return refuse(400, "invalid_request", &format!("missing or wrong '{k}'"));
        }
    }
    let granted: Vec<&str> = field("scope").split_whitespace().collect();
    if let Some(missing) = scopes.iter().find(|s| !granted.contains(&s.as_str())) {
        return refuse(
            400,
            "invalid_scope",
            &format!("scope '{missing}' was not requested"),
        );
    }
    let given = match client_auth {
        ClientAuth::RequestBody => Some((
            field("client_id").to_owned(),
            field("client_secret").to_owned(),
        )),
        ClientAuth::Basic => wire::basic_auth(header(headers, "authorization"))
            .map(|(u, p)| (wire::decode(&u), wire::decode(&p))),
    };
    let expected = (
        demo_secret(&c.name, "client_id"),
        demo_secret(&c.name, "client_secret"),
    );
    if given.as_ref() != Some(&expected) {
        return TokenReply {
            issued: false,
            status: 401,
            body: vendors::token_refused(&c.name),
        };
    }
    let access_token = format!("sim.{}.{}", c.name, uuid::Uuid::new_v4().simple());
    inner.issue_token(&c.name, access_token.clone());
    TokenReply {
        issued: true,
        status: 200,
        body: json!({ "access_token": access_token, "token_type": "bearer", "expires_in": 1799 }),
    }
}
