//! Generic signed webhooks: a JSON POST when a request is new and when it ends (and on
//! critical drift, `drift.detected`, see [`super::drift`]), with
//! `X-ARX-Signature: sha256=<hex HMAC-SHA256 of the body under the webhook's secret>`,
//! `X-ARX-Timestamp` (Unix seconds, also inside the signed body as `sent_at`, so a
//! receiver can refuse replays) and `X-ARX-Event`.

use arx_core::audit::format_ts;
use arx_core::integration::IntegrationSettings;
use arx_core::signing::webhook_signature;
use serde_json::json;

use super::Failure;
use super::notice::Notice;

pub use arx_core::signing::{EVENT_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER};

/// `approval.pending` for a new request, `approval.decided` once it ends.
pub fn event(n: &Notice) -> &'static str {
    if n.status.is_final() {
        "approval.decided"
    } else {
        "approval.pending"
    }
}

/// The exact bytes sent (and signed).
pub fn body(n: &Notice, now_ms: i64) -> Vec<u8> {
    json!({
        "id": uuid::Uuid::new_v4(),
        "event": event(n),
        "sent_at": now_ms.div_euclid(1000),
        "sent_at_iso": format_ts(now_ms),
        "org_id": n.org,
        "approval": n.to_json(),
    })
    .to_string()
    .into_bytes()
}

pub async fn send(
    http: &reqwest::Client,
    s: &IntegrationSettings,
    n: &Notice,
    now_ms: i64,
) -> Result<(), Failure> {
    post_signed(http, s, event(n), body(n, now_ms), now_ms).await
}

/// Posts `body` (whose `sent_at` is `now_ms` in seconds) as `event`, signed with the
/// webhook's secret: the one way every notice kind goes out.
pub async fn post_signed(
    http: &reqwest::Client,
    s: &IntegrationSettings,
    event: &str,
    body: Vec<u8>,
    now_ms: i64,
) -> Result<(), Failure> {
    let secret = s
        .secret("secret")
        .ok_or("the webhook settings have no secret")?;
    let url = s.config("url");
    let r = http
        .post(url)
        .header("content-type", "application/json")
        .header(SIGNATURE_HEADER, webhook_signature(secret.expose(), &body))
        .header(TIMESTAMP_HEADER, now_ms.div_euclid(1000).to_string())
        .header(EVENT_HEADER, event)
        .body(body)
        .send()
        .await
        .map_err(|e| Failure::unanswered(&format!("webhook {url}"), e))?;
    if !r.status().is_success() {
        return Err(Failure::from_status(
            &format!("webhook {url}"),
            r.status(),
            r.headers(),
        ));
    }
    Ok(())
}
