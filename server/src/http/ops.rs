//! For operators and their tools, without credentials: `GET /healthz` (the database
//! answers), `GET /metrics` (Prometheus counters) and `GET /openapi.json` (this API).

use std::collections::BTreeMap;

use arx_core::CoreError;
use arx_core::engine::Executed;
use axum::extract::State;
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/openapi.json", get(openapi))
}

/// `GET /healthz`: the database answers.
pub async fn healthz(State(s): State<AppState>) -> Response {
    match s.engine.system().ping().await {
        Ok(()) => Json(json!({"status": "ok"})).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "health check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({"status": "unavailable"})),
            )
                .into_response()
        }
    }
}

/// Counters exported at `/metrics` in the Prometheus text format.
#[derive(Debug, Default)]
pub struct Metrics {
    executes: std::sync::Mutex<BTreeMap<(String, String), u64>>,
}

impl Metrics {
    pub(crate) fn count_execute(&self, out: &Result<Executed, CoreError>) {
        let (outcome, verdict) = match out {
            Ok(Executed::Ran {
                approval_id: None, ..
            }) => ("executed", "PERMIT"),
            Ok(Executed::Ran { .. } | Executed::Granted { .. }) => {
                ("approved_executed", "ESCALATE")
            }
            Ok(Executed::Pending { .. }) => ("pending", "ESCALATE"),
            Err(CoreError::PermissionDenied { .. }) => ("denied", "DENY"),
            Err(e) => (e.code(), ""),
        };
        if let Ok(mut m) = self.executes.lock() {
            *m.entry((outcome.to_string(), verdict.to_string()))
                .or_default() += 1;
        }
    }

    pub fn render(&self) -> String {
        let mut out = String::from(
            "# HELP arx_execute_total Execute calls by outcome and verdict.\n# TYPE arx_execute_total counter\n",
        );
        if let Ok(m) = self.executes.lock() {
            for ((outcome, verdict), n) in m.iter() {
                out.push_str(&format!(
                    "arx_execute_total{{outcome=\"{outcome}\",verdict=\"{verdict}\"}} {n}\n"
                ));
            }
        }
        out
    }
}

/// The OpenAPI 3.1 description of this API, kept beside the routes it describes.
pub const OPENAPI: &str = include_str!("../openapi.json");

pub async fn openapi() -> Response {
    ([(CONTENT_TYPE, "application/json")], OPENAPI).into_response()
}

pub async fn metrics(State(s): State<AppState>) -> Response {
    (
        [(CONTENT_TYPE, "text/plain; version=0.0.4")],
        s.metrics.render(),
    )
        .into_response()
}
