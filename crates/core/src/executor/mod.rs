//! The generic executor: turns a declared operation, an instance and its credentials
//! into HTTP requests to the vendor. Vendor quirks are data in the connector file.
//! [`plan`] builds the requests with no network (testable per connector); [`send`]
//! sends them through the guarded client.

mod plan;
#[cfg(test)]
mod plan_tests;
mod send;

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::{Map, Value};

use crate::catalog::{Connector, Operation};
use crate::ids::InstanceId;
use crate::model::Instance;
use crate::secret::{Credentials, Secret};

pub use plan::{Body, Call, HeaderValue, Plan, RequestPlan, TokenRequest, render};

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

    /// Plans and sends the operation; an operation with an `in: each` param is sent once
    /// per item, in order, stopping at the first item the target refuses.
    pub async fn run(
        &self,
        connector: &Connector,
        op: &Operation,
        instance: &Instance,
        sealed_fingerprint: &str,
        creds: &Credentials,
        params: &Map<String, Value>,
    ) -> Result<TargetResponse, ExecError> {
        let call = Call {
            connector,
            op,
            instance,
            creds,
            params,
        };
        let (wire, items) = match call.plan(self.allow_local)? {
            Plan::One(r) => return self.send(&r, instance.id, sealed_fingerprint).await,
            Plan::Each { wire, items } => (wire, items),
        };
        let (mut results, mut status, mut latency_ms) = (Vec::new(), 200, 0.0);
        for (item, req) in &items {
            let r = self.send(req, instance.id, sealed_fingerprint).await?;
            latency_ms += r.latency_ms;
            let ok = (200..300).contains(&r.status);
            results.push(
                serde_json::json!({ wire.as_str(): item, "status": r.status, "body": r.body }),
            );
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
}

impl Default for Executor {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::plan::place;
    use super::send::describe;
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
