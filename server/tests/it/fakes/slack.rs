//! The Slack Web API methods ARX uses (`chat.postMessage`, `chat.update`,
//! `chat.postEphemeral`, `users.info`), answering as Slack does and recording every call,
//! with scripted failures; and what Slack itself sends ARX: signed button presses.

use std::collections::HashMap;
use std::ops::Deref;
use std::sync::{Arc, Mutex};

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::routing::get;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use super::{Recorder, serve};

#[derive(Clone, Default)]
pub struct SlackApi {
    rec: Recorder,
    /// Slack user id → profile email.
    emails: Arc<HashMap<String, String>>,
    /// Scripted failures: the next call of the method gets this status and body.
    failures: Arc<Mutex<Vec<(String, u16, Value)>>>,
}

/// The calls it received, by path (`/api/<method>`).
impl Deref for SlackApi {
    type Target = Recorder;
    fn deref(&self) -> &Recorder {
        &self.rec
    }
}

impl SlackApi {
    /// Makes the next call of `method` answer `status` with `body`.
    pub fn fail_next(&self, method: &str, status: u16, body: Value) {
        self.failures
            .lock()
            .unwrap()
            .push((method.to_string(), status, body));
    }
}

/// Starts the stand-in knowing the profile emails of `users` (Slack id, email); it and
/// its base URL (the API is under `/api`).
pub async fn start(users: &[(&str, &str)]) -> (SlackApi, String) {
    let f = SlackApi {
        emails: Arc::new(
            users
                .iter()
                .map(|(u, e)| (u.to_string(), e.to_string()))
                .collect(),
        ),
        ..SlackApi::default()
    };
    let app = axum::Router::new()
        .route("/api/{method}", get(method).post(method))
        .with_state(f.clone());
    (f.clone(), serve(app).await)
}

async fn method(
    State(f): State<SlackApi>,
    Path(method): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    f.rec.record(&format!("/api/{method}"), &headers, &body);
    let scripted = {
        let mut failures = f.failures.lock().unwrap();
        let at = failures.iter().position(|(m, _, _)| *m == method);
        at.map(|i| failures.remove(i))
    };
    if let Some((_, status, body)) = scripted {
        let status = axum::http::StatusCode::from_u16(status).unwrap();
        return (status, [("retry-after", "1")], Json(body)).into_response();
    }
    let req: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    Json(match method.as_str() {
        "chat.postMessage" => {
            // Each request's message gets its own ts, as in Slack.
            let ts = button_value(&req["blocks"]).map_or_else(|| "1700000000.000100".into(), |id| ts_for(&id));
            json!({"ok": true, "channel": "C0ARX", "ts": ts, "message": {"ts": ts, "text": req["text"]}})
        }
        "chat.update" => json!({"ok": true, "channel": req["channel"], "ts": req["ts"],
            "text": req["text"], "message": {"text": req["text"]}}),
        "chat.postEphemeral" => json!({"ok": true, "message_ts": "1700000001.000200"}),
        "users.info" => {
            let user = q.get("user").cloned().unwrap_or_default();
            match f.emails.get(&user) {
                Some(email) => {
                    json!({"ok": true, "user": {"id": user, "profile": {"email": email}}})
                }
                None => json!({"ok": false, "error": "user_not_found"}),
            }
        }
        _ => json!({"ok": false, "error": "unknown_method"}),
    })
    .into_response()
}

/// Slack's v0 signature, computed here independently of ARX.
pub fn sign(secret: &str, ts: i64, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("v0:{ts}:{body}").as_bytes());
    format!("v0={}", hex::encode(mac.finalize().into_bytes()))
}

/// The `ts` the stand-in gives the message of request `id`.
pub fn ts_for(id: &str) -> String {
    let n = id
        .bytes()
        .fold(7u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)))
        % 1_000_000;
    format!("1700000000.{n:06}")
}

/// The value of the Approve button in a message's blocks.
pub fn button_value(v: &Value) -> Option<String> {
    match v {
        Value::Object(m) if m.get("action_id").and_then(Value::as_str) == Some("arx_approve") => {
            m.get("value").and_then(Value::as_str).map(String::from)
        }
        Value::Object(m) => m.values().find_map(button_value),
        Value::Array(a) => a.iter().find_map(button_value),
        _ => None,
    }
}

/// The form body Slack posts when `user` presses `action` on the message of `id`.
pub fn press(id: &str, action: &str, user: &str) -> String {
    press_on(id, action, user, &ts_for(id), "A0ARX")
}

/// A press naming request `id` on the message `ts` of the app `app`.
pub fn press_on(id: &str, action: &str, user: &str, ts: &str, app: &str) -> String {
    let payload = json!({
        "type": "block_actions",
        "user": {"id": user, "username": user.to_lowercase(), "team_id": "T0ARX"},
        "team": {"id": "T0ARX", "domain": "arx-test"},
        "api_app_id": app,
        "channel": {"id": "C0ARX", "name": "secops-approvals"},
        "container": {"type": "message", "channel_id": "C0ARX", "message_ts": ts},
        "response_url": "https://hooks.slack.com/actions/T0ARX/1/abc",
        "actions": [{"type": "button", "block_id": "arx_decision", "action_id": action,
                     "value": id, "action_ts": "1700000002.000300"}],
    });
    serde_urlencoded::to_string([("payload", payload.to_string())]).unwrap()
}
