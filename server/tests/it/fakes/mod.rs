//! Stand-ins for the outside services ARX talks to: the Slack Web API, a Teams incoming
//! webhook and a signed-webhook receiver. Each is an axum server on port 0 that records
//! every call it gets, so a test asserts what ARX sent without a network.

pub mod slack;
pub mod teams;
pub mod webhook;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::HeaderMap;
use serde_json::Value;

/// One recorded call to a stand-in.
#[derive(Debug, Clone)]
pub struct Call {
    pub path: String,
    pub authorization: String,
    pub headers: HashMap<String, String>,
    /// The body as JSON (null when it is not JSON).
    pub body: Value,
    /// The body as sent, for signature checks.
    pub raw: Vec<u8>,
}

/// The calls a stand-in received, oldest first.
#[derive(Clone, Default)]
pub struct Recorder {
    calls: Arc<Mutex<Vec<Call>>>,
}

impl Recorder {
    pub fn record(&self, path: &str, headers: &HeaderMap, raw: &[u8]) {
        let h = |n: &str| {
            headers
                .get(n)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string()
        };
        self.calls.lock().unwrap().push(Call {
            path: path.to_string(),
            authorization: h("authorization"),
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_string()))
                .collect(),
            body: serde_json::from_slice(raw).unwrap_or(Value::Null),
            raw: raw.to_vec(),
        });
    }

    /// The calls to `path`.
    pub fn calls(&self, path: &str) -> Vec<Call> {
        self.calls
            .lock()
            .unwrap()
            .iter()
            .filter(|c| c.path == path)
            .cloned()
            .collect()
    }

    /// Waits until `path` has been called `n` times (or fails after 10 s).
    pub async fn wait_for(&self, path: &str, n: usize) -> Vec<Call> {
        for _ in 0..200 {
            let got = self.calls(path);
            if got.len() >= n {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "{path} was called {} times, not {n}",
            self.calls(path).len()
        );
    }
}

/// Serves `app` on a free loopback port for the rest of the test; its base URL.
async fn serve(app: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

/// A receiver of posted notices (a Teams incoming webhook, a webhook endpoint).
pub struct Hook {
    rec: Recorder,
    path: &'static str,
    /// The URL to configure in ARX.
    pub url: String,
}

impl Hook {
    /// Starts a receiver of POSTs to `path`.
    async fn start(path: &'static str) -> Hook {
        use axum::body::Bytes;
        use axum::extract::State;
        let rec = Recorder::default();
        let app = axum::Router::new()
            .route(
                path,
                axum::routing::post(
                    move |State(r): State<Recorder>, headers: HeaderMap, body: Bytes| async move {
                        r.record(path, &headers, &body);
                    },
                ),
            )
            .with_state(rec.clone());
        let base = serve(app).await;
        Hook {
            rec,
            path,
            url: format!("{base}{path}"),
        }
    }

    pub fn calls(&self) -> Vec<Call> {
        self.rec.calls(self.path)
    }

    /// Waits until `n` notices have arrived.
    pub async fn wait_for(&self, n: usize) -> Vec<Call> {
        self.rec.wait_for(self.path, n).await
    }
}
