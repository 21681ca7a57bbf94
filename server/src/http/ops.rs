//! For operators and their tools, without credentials: `GET /healthz` (the database
//! answers), `GET /metrics` (Prometheus counters and stage histograms) and `GET /openapi.json` (this API).

use std::collections::BTreeMap;

use arx_core::CoreError;
use arx_core::engine::Executed;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use std::sync::LazyLock;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(healthz))
        .routes(routes!(metrics))
        .routes(routes!(openapi))
}

/// Whether ARX can serve: its database answers.
#[derive(Serialize, ToSchema)]
pub struct Health {
    status: HealthStatus,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
enum HealthStatus {
    Ok,
    Unavailable,
}

/// Whether the database answers.
#[utoipa::path(
    get,
    path = "/healthz",
    tag = "ops",
    responses(
        (status = 200, description = "Serving", body = Health),
        (status = 503, description = "The database does not answer", body = Health),
    )
)]
pub async fn healthz(State(s): State<AppState>) -> Response {
    match s.engine.system().ping().await {
        Ok(()) => Json(Health {
            status: HealthStatus::Ok,
        })
        .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "health check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(Health {
                    status: HealthStatus::Unavailable,
                }),
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
            Ok(Executed::Registered { .. }) => ("registered", ""),
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
        arx_core::stages::render_prometheus(&mut out);
        out
    }
}

/// This document: the OpenAPI 3.1 description of the API, generated from the handlers.
#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "ops",
    responses((status = 200, description = "The OpenAPI 3.1 document", body = Object))
)]
pub async fn openapi() -> Response {
    static DOC: LazyLock<String> = LazyLock::new(|| {
        super::document()
            .to_pretty_json()
            .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
    });
    ([(CONTENT_TYPE, "application/json")], DOC.as_str()).into_response()
}

/// Execute calls by outcome and verdict, and the time each stage of a call takes, in the
/// Prometheus text format.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "ops",
    responses((status = 200, description = "Prometheus counters", content_type = "text/plain", body = String))
)]
pub async fn metrics(State(s): State<AppState>) -> Response {
    (
        [(CONTENT_TYPE, "text/plain; version=0.0.4")],
        s.metrics.render(),
    )
        .into_response()
}
