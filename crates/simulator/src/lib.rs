//! A target simulator: one HTTP server that answers like the vendors of the connector
//! catalog (auth, paths, envelopes), so `arx serve --demo` and the tests need no real tenant.
//!
//! Every connector is served under the path prefix `/<connector name>` of the main
//! address, and each host of each connector also on its own address (a host variable is
//! a host and port, nothing else), which serves it as if under that prefix. Connector URL
//! templates follow the convention `{scheme}://{host}`; [`Simulator::variables_for`]
//! sets `scheme = http` and points every host variable at its own address.
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

mod auth;
mod routes;
mod server;
mod vendors;
mod wire;

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use arx_core::catalog::Catalog;

pub use auth::demo_secret;

/// A running simulator; cheap to clone.
#[derive(Clone)]
pub struct Simulator {
    inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) base_url: String,
    /// The address of each connector host (`(connector, variable)`): a host variable is a
    /// host and port only, so each host of each connector gets its own listener.
    hosts: BTreeMap<(String, String), std::net::SocketAddr>,
    pub(crate) catalog: Catalog,
    pub(crate) routes: routes::RouteTable,
    /// Issued OAuth access tokens → connector name.
    tokens: Mutex<HashMap<String, String>>,
    /// The most recent requests (at most [`LOG_CAPACITY`]); `received` counts them all.
    log: Mutex<std::collections::VecDeque<RecordedRequest>>,
    received: AtomicU64,
    /// Connector name → HTTP status every API call of it answers (test failure injection).
    failures: Mutex<BTreeMap<String, u16>>,
    delays: Mutex<BTreeMap<String, std::time::Duration>>,
    seq: AtomicU64,
    /// What writes changed on the simulated targets (a host's containment, a change's
    /// state), so reads show it: key → value.
    pub(crate) state: Mutex<HashMap<String, serde_json::Value>>,
}

/// How many requests the log keeps, so a long-running demo does not grow without bound.
const LOG_CAPACITY: usize = 10_000;

fn locked<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Inner {
    pub(crate) fn next_seq(&self) -> u64 {
        self.seq.fetch_add(1, Ordering::Relaxed) + 1
    }

    pub(crate) fn issue_token(&self, connector: &str, token: String) {
        locked(&self.tokens).insert(token, connector.to_owned());
    }

    pub(crate) fn token_owner(&self, token: &str) -> Option<String> {
        locked(&self.tokens).get(token).cloned()
    }

    pub(crate) fn record(&self, r: RecordedRequest) {
        self.received.fetch_add(1, Ordering::Relaxed);
        let mut log = locked(&self.log);
        if log.len() == LOG_CAPACITY {
            log.pop_front();
        }
        log.push_back(r);
    }

    pub(crate) fn failure_for(&self, connector: &str) -> Option<u16> {
        locked(&self.failures).get(connector).copied()
    }

    pub(crate) fn delay_for(&self, connector: &str) -> Option<std::time::Duration> {
        locked(&self.delays).get(connector).copied()
    }
}

impl std::fmt::Debug for Simulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Simulator")
            .field("base_url", &self.inner.base_url)
            .finish()
    }
}

impl Simulator {
    /// Serves the catalog's connectors on `listener` in a background tokio task.
    pub async fn start(
        listener: tokio::net::TcpListener,
        catalog: Catalog,
    ) -> std::io::Result<Simulator> {
        Self::start_with(listener, catalog, false).await
    }

    /// [`Simulator::start`]; with `next_ports`, the connector hosts listen on the ports
    /// right after the main one (stable across restarts, so a demo's stored instances
    /// still reach them), else on any free ports.
    pub async fn start_with(
        listener: tokio::net::TcpListener,
        catalog: Catalog,
        next_ports: bool,
    ) -> std::io::Result<Simulator> {
        let addr = listener.local_addr()?;
        let base_url = format!("http://{addr}");
        let routes = routes::RouteTable::build(&catalog, &base_url);
        let mut hosts = BTreeMap::new();
        let mut listeners = Vec::new();
        let mut next = addr.port();
        for c in catalog.iter() {
            for (var, prefix) in routes::host_prefixes(c) {
                let port = match next_ports {
                    false => 0,
                    true => {
                        next = next.checked_add(1).ok_or_else(|| {
                            std::io::Error::other("no port left after the simulator's")
                        })?;
                        next
                    }
                };
                let l = tokio::net::TcpListener::bind((addr.ip(), port)).await?;
                hosts.insert((c.name.clone(), var), l.local_addr()?);
                listeners.push((l, prefix));
            }
        }
        let inner = Arc::new(Inner {
            hosts,
            base_url,
            catalog,
            routes,
            tokens: Mutex::new(HashMap::new()),
            log: Mutex::new(std::collections::VecDeque::new()),
            received: AtomicU64::new(0),
            failures: Mutex::new(BTreeMap::new()),
            delays: Mutex::new(BTreeMap::new()),
            state: Mutex::new(HashMap::new()),
            seq: AtomicU64::new(0),
        });
        let app = server::router(inner.clone());
        tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                tracing::warn!(error = %e, "target simulator stopped");
            }
        });
        for (l, prefix) in listeners {
            let app = server::prefixed_router(inner.clone(), prefix);
            tokio::spawn(async move {
                if let Err(e) = axum::serve(l, app).await {
                    tracing::warn!(error = %e, "target simulator stopped");
                }
            });
        }
        tracing::info!(url = %inner.base_url, "target simulator listening");
        Ok(Simulator { inner })
    }

    /// The simulator's root URL, e.g. `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        self.inner.base_url.clone()
    }

    /// Instance variables pointing connector `connector` at this simulator: `scheme = http`,
    /// each host variable → its own `127.0.0.1:PORT` (serving `/<connector>[/<stem>]`), the others → their
    /// default or a `demo-…` value. Empty for an unknown connector.
    pub fn variables_for(&self, connector: &str) -> BTreeMap<String, String> {
        self.inner
            .catalog
            .get(connector)
            .map(|c| {
                let mut vars = routes::variables_for(c, &self.inner.base_url);
                for ((conn, var), addr) in &self.inner.hosts {
                    if *conn == c.name {
                        vars.insert(var.clone(), addr.to_string());
                    }
                }
                vars
            })
            .unwrap_or_default()
    }

    /// The credentials this simulator accepts for `connector` (per its own catalog).
    pub fn credentials_for(&self, connector: &str) -> serde_json::Value {
        auth::credentials(self.inner.catalog.get(connector), connector)
    }

    /// The most recent requests received (up to 10,000), oldest first.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        locked(&self.inner.log).iter().cloned().collect()
    }

    /// How many requests were received in all.
    pub fn request_count(&self) -> usize {
        self.inner.received.load(Ordering::Relaxed) as usize
    }

    /// Test hook: every API call of `connector` answers `status` (a vendor-shaped error)
    /// until cleared with `None`. Same effect as the request header `x-sim-fail: <status>`.
    pub fn fail_connector(&self, connector: &str, status: Option<u16>) {
        let mut f = locked(&self.inner.failures);
        match status {
            Some(s) => f.insert(connector.to_owned(), s),
            None => f.remove(connector),
        };
    }
}

impl Simulator {
    /// Test hook: every request of `connector` is answered only after `delay` (a slow
    /// vendor), until cleared with `None`. The request is recorded when it arrives.
    pub fn delay_connector(&self, connector: &str, delay: Option<std::time::Duration>) {
        let mut d = locked(&self.inner.delays);
        match delay {
            Some(x) => d.insert(connector.to_owned(), x),
            None => d.remove(connector),
        };
    }
}

/// The credentials the simulator accepts for a connector of the built-in catalog, as the
/// JSON object the vault stores (fields per `AuthScheme::secret_fields`). For a name the
/// built-in catalog lacks, every possible field is given.
pub fn demo_credentials(connector: &str) -> serde_json::Value {
    let catalog = Catalog::builtin().ok();
    auth::credentials(catalog.as_ref().and_then(|c| c.get(connector)), connector)
}

/// One request the simulator received.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RecordedRequest {
    /// First path segment (the connector prefix), even when nothing matched.
    pub connector: String,
    pub method: String,
    pub path: String,
    pub query: String,
    pub body: String,
    /// Whether the request carried valid credentials (token requests: valid client credentials).
    pub authorized: bool,
}
