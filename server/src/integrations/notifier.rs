//! The notifier: a background task that follows the engine's approval events and tells
//! each org's channels. Slack gets a message when a request is new, rewritten whenever
//! its status changes (buttons only while pending); Teams and webhooks get a notice when
//! a request is new and when it ends. What was sent is kept per request and channel and
//! each notice is claimed by compare-and-set before it goes out, so nothing goes out
//! twice (also when several replicas follow the same request) and a restart still
//! updates the right Slack message.
//!
//! Delivery is best effort: a channel that fails is logged (never with a secret) and the
//! request goes on; the console and the reviewer API remain the source of truth.

use std::sync::Arc;
use std::time::Duration;

use arx_core::Engine;
use arx_core::ids::ApprovalId;
use arx_core::integration::{ApprovalNotice, IntegrationKind, IntegrationSettings};
use arx_core::model::ApprovalStatus;
use tokio::sync::broadcast::error::RecvError;

use super::notice::Notice;
use super::{Hub, slack, teams, webhook};

/// How long one channel may take before the notifier moves on.
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(15);

/// Follows approval events until the engine is dropped.
pub fn spawn(engine: Arc<Engine>, hub: Arc<Hub>) {
    // Subscribe now, before any request can be created.
    let mut events = engine.approval_events();
    let weak = Arc::downgrade(&engine);
    drop(engine);
    tokio::spawn(async move {
        loop {
            match events.recv().await {
                Ok(id) => {
                    let Some(engine) = weak.upgrade() else { return };
                    if let Err(e) = notify(&engine, &hub, id).await {
                        tracing::warn!(approval = %id, error = %e, "notifying integrations failed");
                    }
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
        let out = tokio::time::timeout(DELIVERY_TIMEOUT, deliver(engine, hub, s, &notice))
            .await
            .unwrap_or_else(|_| Err(format!("no answer within {DELIVERY_TIMEOUT:?}")));
        if let Err(e) = out {
            tracing::warn!(%org, approval = %id, kind = s.kind.as_str(), error = %e, "notice not delivered");
        }
    }
    Ok(())
}

async fn deliver(
    engine: &Engine,
    hub: &Hub,
    s: &IntegrationSettings,
    n: &Notice,
) -> Result<(), String> {
    let err = |e: arx_core::CoreError| e.to_string();
    let sent = engine
        .approval_notice(n.org, n.id, s.kind)
        .await
        .map_err(err)?;
    let claim = ApprovalNotice {
        org_id: n.org,
        approval_id: n.id,
        kind: s.kind,
        channel: String::new(),
        message_ts: String::new(),
        status: n.status,
        updated_ms: engine.now_ms(),
    };
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
                let (channel, ts) = ws.post(n).await?;
                engine
                    .set_approval_notice_message(&claim, &channel, &ts)
                    .await
                    .map_err(err)?;
                catch_up(engine, hub, &ws, n, &channel, &ts).await
            }
            // Another process is still posting it; it catches up when done.
            Some(prev) if prev.message_ts.is_empty() => Ok(()),
            Some(prev) if prev.status == n.status => Ok(()),
            Some(prev) => {
                if !engine
                    .claim_approval_notice(&claim, Some(prev.status))
                    .await
                    .map_err(err)?
                {
                    return Ok(());
                }
                ws.update(&prev.channel, &prev.message_ts, n).await
            }
        };
    }
    // Teams and webhooks: once when new, once when it ends; steps between are not news.
    let from = match &sent {
        None if n.status == ApprovalStatus::Pending || n.status.is_final() => None,
        Some(prev) if n.status.is_final() && !prev.status.is_final() => Some(prev.status),
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
        teams::send(&hub.http, s, n).await
    } else {
        webhook::send(&hub.http, s, n, engine.now_ms()).await
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
) -> Result<(), String> {
    let mut shown = posted.status;
    // Each round needs a status change; a request has at most a handful.
    for _ in 0..8 {
        let d = engine
            .approval_detail_in(posted.org, posted.id)
            .await
            .map_err(|e| e.to_string())?;
        if d.approval.status == shown {
            return Ok(());
        }
        let now = Notice::new(
            &d,
            &hub.public_url,
            &engine.approval_link_tag(posted.org, posted.id),
        );
        let claim = ApprovalNotice {
            org_id: now.org,
            approval_id: now.id,
            kind: IntegrationKind::Slack,
            channel: channel.to_string(),
            message_ts: ts.to_string(),
            status: now.status,
            updated_ms: engine.now_ms(),
        };
        if !engine
            .claim_approval_notice(&claim, Some(shown))
            .await
            .map_err(|e| e.to_string())?
        {
            return Ok(());
        }
        ws.update(channel, ts, &now).await?;
        shown = now.status;
    }
    Ok(())
}
