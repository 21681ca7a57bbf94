//! The notifier: a background task that follows the engine's approval events and tells
//! each org's channels. Slack gets a message when a request is new, rewritten whenever
//! its status changes (buttons only while pending); Teams and webhooks get a notice when
//! a request is new and when it ends. What was sent is kept per request and channel and
//! each notice is claimed by compare-and-set before it goes out, so nothing goes out
//! twice (also when several replicas follow the same request) and a restart still
//! updates the right Slack message.
//!
//! Each event is delivered in its own task (at most [`IN_FLIGHT`] at once), so a slow
//! channel does not hold up notices about other requests. A transient failure (the
//! network, a 5xx, a rate limit) is tried again after 1, 4 and 15 s, or after the wait
//! the other side asked for; a Slack message that still could not be posted gives up its
//! claim, so the request's next event posts it. Delivery is otherwise best effort: a
//! channel that fails is logged (never with a secret) and the request goes on; the
//! console and the reviewer API remain the source of truth.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use arx_core::Engine;
use arx_core::ids::ApprovalId;
use arx_core::integration::{IntegrationKind, IntegrationSettings};
use arx_core::model::ApprovalStatus;
use tokio::sync::Semaphore;
use tokio::sync::broadcast::error::RecvError;

use super::notice::Notice;
use super::{Failure, Hub, slack, teams, webhook};

/// How long one attempt on one channel may take.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);
/// The waits before the second, third and fourth attempts.
const BACKOFF: [Duration; 3] = [
    Duration::from_secs(1),
    Duration::from_secs(4),
    Duration::from_secs(15),
];
/// The longest wait honoured when the other side asks for one.
const MAX_WAIT: Duration = Duration::from_secs(30);
/// Events delivered at once.
const IN_FLIGHT: usize = 32;

/// Follows approval events until the engine is dropped.
pub fn spawn(engine: Arc<Engine>, hub: Arc<Hub>) {
    // Subscribe now, before any request can be created.
    let mut events = engine.approval_events();
    let weak = Arc::downgrade(&engine);
    drop(engine);
    let slots = Arc::new(Semaphore::new(IN_FLIGHT));
    tokio::spawn(async move {
        loop {
            match events.recv().await {
                Ok(id) => {
                    let Some(engine) = weak.upgrade() else { return };
                    let Ok(slot) = slots.clone().acquire_owned().await else {
                        return;
                    };
                    let hub = hub.clone();
                    tokio::spawn(async move {
                        if let Err(e) = notify(&engine, &hub, id).await {
                            tracing::warn!(approval = %id, error = %e, "notifying integrations failed");
                        }
                        drop(slot);
                    });
                }
                Err(RecvError::Lagged(missed)) => {
                    tracing::warn!(
                        missed,
                        "the notifier fell behind; some notices were not sent"
                    );
                }
                Err(RecvError::Closed) => return,
            }
        }
    });
}

/// Tells the org's configured channels about request `id` as it now stands.
pub async fn notify(engine: &Engine, hub: &Hub, id: ApprovalId) -> Result<(), String> {
    let org = match engine.approval_org(id).await {
        Ok(Some(org)) => org,
        Ok(None) => return Ok(()),
        Err(e) => return Err(e.to_string()),
    };
    let mut channels: Vec<IntegrationSettings> = Vec::new();
    for kind in IntegrationKind::ALL {
        match engine.integration_settings(org, kind).await {
            Ok(Some(s)) => channels.push(s),
            Ok(None) => {}
            Err(e) => {
                tracing::warn!(%org, kind = kind.as_str(), error = %e, "integration settings unreadable")
            }
        }
    }
    if channels.is_empty() {
        return Ok(());
    }
    let detail = engine
        .approval_detail_in(org, id)
        .await
        .map_err(|e| e.to_string())?;
    let notice = Notice::new(&detail, &hub.public_url, &engine.approval_link_tag(org, id));
    for s in &channels {
        if let Err(e) = deliver(engine, hub, s, &notice).await {
            tracing::warn!(%org, approval = %id, kind = s.kind.as_str(), error = %e, "notice not delivered");
        }
    }
    Ok(())
}

/// Runs `attempt` until it succeeds, fails for good, or the backoff runs out.
pub async fn with_retries<T, F, Fut>(what: &str, mut attempt: F) -> Result<T, Failure>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, Failure>>,
{
    let mut waits = BACKOFF.iter();
    loop {
        let out = tokio::time::timeout(ATTEMPT_TIMEOUT, attempt())
            .await
            .unwrap_or_else(|_| {
                Err(Failure::transient(format!(
                    "{what}: no answer within {ATTEMPT_TIMEOUT:?}"
                )))
            });
        let after = match &out {
            Err(Failure::Transient { after, .. }) => *after,
            _ => return out,
        };
        let Some(wait) = waits.next() else { return out };
        let wait = after.unwrap_or(*wait).min(MAX_WAIT);
        if let Err(e) = &out {
            tracing::info!(error = %e, ?wait, "{what} failed; trying again");
        }
        tokio::time::sleep(wait).await;
    }
}

async fn deliver(
    engine: &Engine,
    hub: &Hub,
    s: &IntegrationSettings,
    n: &Notice,
) -> Result<(), Failure> {
    let err = |e: arx_core::CoreError| Failure::Permanent(e.to_string());
    let sent = engine
        .approval_notice(n.org, n.id, s.kind)
        .await
        .map_err(err)?;
    let claim = n.claim(s.kind, engine.now_ms());
    if s.kind == IntegrationKind::Slack {
        let ws = hub.slack.workspace(s)?;
        return match sent {
            None => {
                if !engine
                    .claim_approval_notice(&claim, None)
                    .await
                    .map_err(err)?
                {
                    return Ok(());
                }
                let (channel, ts) =
                    match with_retries("Slack chat.postMessage", || ws.post(n)).await {
                        Ok(posted) => posted,
                        Err(e) => {
                            engine.release_approval_notice(&claim).await.map_err(err)?;
                            return Err(e);
                        }
                    };
                engine
                    .set_approval_notice_message(&claim, &channel, &ts)
                    .await
                    .map_err(err)?;
                catch_up(engine, hub, &ws, n, &channel, &ts).await
            }
            // Another process is still posting it; it catches up when done.
            Some(prev) if prev.message_ts.is_empty() => Ok(()),
            Some(prev) if prev.shown() == n.shown() => Ok(()),
            Some(prev) => {
                if !engine
                    .claim_approval_notice(&claim, Some(prev.shown()))
                    .await
                    .map_err(err)?
                {
                    return Ok(());
                }
                with_retries("Slack chat.update", || {
                    ws.update(&prev.channel, &prev.message_ts, n)
                })
                .await
            }
        };
    }
    // Teams and webhooks: once when new, once when it ends; steps between are not news.
    let from = match &sent {
        None if n.status == ApprovalStatus::Pending || n.status.is_final() => None,
        Some(prev) if n.status.is_final() && !prev.status.is_final() => Some(prev.shown()),
        _ => return Ok(()),
    };
    if !engine
        .claim_approval_notice(&claim, from)
        .await
        .map_err(err)?
    {
        return Ok(());
    }
    if s.kind == IntegrationKind::Teams {
        with_retries("Teams webhook", || teams::send(&hub.http, s, n)).await
    } else {
        with_retries("webhook", || {
            webhook::send(&hub.http, s, n, engine.now_ms())
        })
        .await
    }
}

/// After posting: if the request moved on while the message was on its way (decided on
/// another replica, whose notifier found no message to update yet), update it now.
async fn catch_up(
    engine: &Engine,
    hub: &Hub,
    ws: &slack::Workspace<'_>,
    posted: &Notice,
    channel: &str,
    ts: &str,
) -> Result<(), Failure> {
    let err = |e: arx_core::CoreError| Failure::Permanent(e.to_string());
    let mut shown = posted.shown();
    // Each round needs a change of status or approvals; a request has a handful.
    for _ in 0..8 {
        let d = engine
            .approval_detail_in(posted.org, posted.id)
            .await
            .map_err(err)?;
        let now = Notice::new(
            &d,
            &hub.public_url,
            &engine.approval_link_tag(posted.org, posted.id),
        );
        if now.shown() == shown {
            return Ok(());
        }
        let claim = now.claim(IntegrationKind::Slack, engine.now_ms());
        if !engine
            .claim_approval_notice(&claim, Some(shown))
            .await
            .map_err(|e| e.to_string())?
        {
            return Ok(());
        }
        with_retries("Slack chat.update", || ws.update(channel, ts, &now)).await?;
        shown = now.shown();
    }
    Ok(())
}
