//! The notifier: a background task that follows the engine's approval events and tells
//! each org's channels (drift notices, the other kind, are [`super::drift`]'s, through the
//! same senders and retries). Slack gets a message when a request is new, rewritten whenever
//! what it shows changes (status, or "1 of 2" approvals; buttons only while pending);
//! Teams and webhooks get a notice when a request is new and when it ends. What was sent
//! is kept per request and channel and each notice is claimed by compare-and-set before
//! it goes out, so nothing goes out twice (also when several replicas follow the same
//! request) and a restart still updates the right Slack message. A stored notice only
//! moves forward (pending, approved, executing, ended; more approvals), so a late event
//! never rolls a message back.
//!
//! Requests are delivered concurrently, each request by one task at a time: events that
//! arrive meanwhile make that task run again with the request as it then stands, so the
//! last state is always the one sent. A transient failure (the network, a 5xx, a rate
//! limit) is tried again after 1, 4 and 15 s, or after the wait the other side asked for.
//! A notice that still fails gives its claim back and the request is tried again a minute
//! later (three times). Delivery is otherwise best effort: a channel that fails is logged
//! (never with a secret) and the request goes on; the console and the reviewer API remain
//! the source of truth.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use arx_core::Engine;
use arx_core::ids::ApprovalId;
use arx_core::integration::{ApprovalNotice, IntegrationKind, IntegrationSettings};
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
/// After a notice failed for good: when, and how often, the request is tried again.
pub(super) const AGAIN_AFTER: Duration = Duration::from_secs(60);
pub(super) const AGAIN_TIMES: usize = 3;
/// A Slack claim still without a message after this long was left by a process that
/// stopped while posting (a post gives up well before).
const ABANDONED_MS: i64 = 180_000;
/// Requests delivered at once.
const IN_FLIGHT: usize = 32;

/// What the notifier's tasks share.
#[derive(Clone)]
struct Notifier {
    engine: std::sync::Weak<Engine>,
    hub: Arc<Hub>,
    slots: Arc<Semaphore>,
    /// Requests being delivered, and whether another event came for them meanwhile.
    in_flight: Arc<Mutex<HashMap<ApprovalId, bool>>>,
}

/// Follows approval events until the engine is dropped.
pub fn spawn(engine: Arc<Engine>, hub: Arc<Hub>) {
    // Subscribe now, before any request (or drift alert) can be created.
    let mut events = engine.approval_events();
    super::drift::follow(&engine, hub.clone());
    let n = Notifier {
        engine: Arc::downgrade(&engine),
        hub,
        slots: Arc::new(Semaphore::new(IN_FLIGHT)),
        in_flight: Arc::default(),
    };
    drop(engine);
    tokio::spawn(async move {
        loop {
            match events.recv().await {
                Ok(id) => n.start(id, AGAIN_TIMES),
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

impl Notifier {
    /// Delivers request `id`, unless a task is already at it (which then runs again).
    fn start(&self, id: ApprovalId, again_left: usize) {
        {
            let mut busy = self.in_flight.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(again) = busy.get_mut(&id) {
                *again = true;
                return;
            }
            busy.insert(id, false);
        }
        tokio::spawn(self.clone().follow(id, again_left));
    }

    /// Delivers request `id` until no new event came for it meanwhile; if a channel
    /// failed, tries the request again a minute later (a new event tries at once).
    async fn follow(self, id: ApprovalId, again_left: usize) {
        loop {
            let Some(engine) = self.engine.upgrade() else {
                return;
            };
            let Ok(_slot) = self.slots.acquire().await else {
                return;
            };
            let failed = match notify(&engine, &self.hub, id).await {
                Ok(failed) => failed,
                Err(e) => {
                    tracing::warn!(approval = %id, error = %e, "notifying integrations failed");
                    false
                }
            };
            let rerun = {
                let mut busy = self.in_flight.lock().unwrap_or_else(|p| p.into_inner());
                let rerun = busy.insert(id, false).unwrap_or(false);
                if !rerun {
                    busy.remove(&id);
                }
                rerun
            };
            if rerun {
                continue;
            }
            if failed && again_left > 0 {
                let later = self.clone();
                tokio::spawn(async move {
                    tokio::time::sleep(AGAIN_AFTER).await;
                    later.start(id, again_left - 1);
                });
            }
            return;
        }
    }
}

/// Tells the org's configured channels about request `id` as it now stands; `true` when
/// a channel failed and the request should be tried again later.
pub async fn notify(engine: &Engine, hub: &Hub, id: ApprovalId) -> Result<bool, String> {
    let org = match engine.system().approval_org(id).await {
        Ok(Some(org)) => org,
        Ok(None) => return Ok(false),
        Err(e) => return Err(e.to_string()),
    };
    let mut channels: Vec<IntegrationSettings> = Vec::new();
    for kind in IntegrationKind::ALL {
        match engine.system().integration_settings(org, kind).await {
            Ok(Some(s)) => channels.push(s),
            Ok(None) => {}
            Err(e) => {
                tracing::warn!(%org, kind = kind.as_str(), error = %e, "integration settings unreadable")
            }
        }
    }
    if channels.is_empty() {
        return Ok(false);
    }
    let detail = engine
        .system()
        .approval_detail_in(org, id)
        .await
        .map_err(|e| e.to_string())?;
    let notice = Notice::new(
        &detail,
        &hub.public_url,
        &engine.system().approval_link_tag(org, id),
    );
    let mut failed = false;
    for s in &channels {
        let out = match s.kind {
            IntegrationKind::Slack => deliver_slack(engine, hub, s, &notice).await,
            _ => deliver_once(engine, hub, s, &notice).await,
        };
        if let Err(e) = out {
            tracing::warn!(%org, approval = %id, kind = s.kind.as_str(), error = %e, "notice not delivered");
            failed = true;
        }
    }
    Ok(failed)
}

/// How far what a notice shows has come; a stored notice only moves forward.
fn progress((status, votes): (ApprovalStatus, u32)) -> (u8, u32) {
    let step = match status {
        ApprovalStatus::Pending => 0,
        ApprovalStatus::Approved => 1,
        ApprovalStatus::Executing => 2,
        _ => 3,
    };
    (step, votes)
}

/// Runs `attempt` until it succeeds, fails for good, or the backoff runs out. An attempt
/// that gets no answer in time counts as transient only if `idempotent`: a post that
/// timed out may have arrived, and is not sent twice.
pub async fn with_retries<T, F, Fut>(
    what: &str,
    idempotent: bool,
    mut attempt: F,
) -> Result<T, Failure>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, Failure>>,
{
    let mut waits = BACKOFF.iter();
    loop {
        let out = tokio::time::timeout(ATTEMPT_TIMEOUT, attempt())
            .await
            .unwrap_or_else(|_| {
                let message = format!("{what}: no answer within {ATTEMPT_TIMEOUT:?}");
                Err(match idempotent {
                    true => Failure::transient(message),
                    false => Failure::Permanent(message),
                })
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

fn store_err(e: arx_core::CoreError) -> Failure {
    Failure::Permanent(e.to_string())
}

/// Moves the stored notice back to `to` after the notice claimed as `claimed` failed, so
/// the next attempt sends it again (`None`: forget it, nothing was sent).
async fn give_back(
    engine: &Engine,
    claimed: &ApprovalNotice,
    to: Option<&ApprovalNotice>,
) -> Result<(), Failure> {
    match to {
        None => engine.system().release_approval_notice(claimed).await,
        Some(prev) => {
            let back = ApprovalNotice {
                status: prev.status,
                votes: prev.votes,
                ..claimed.clone()
            };
            engine
                .system()
                .claim_approval_notice(&back, Some(claimed.shown()))
                .await
                .map(|_| ())
        }
    }
    .map_err(store_err)
}

/// Slack: post the message once, then rewrite it as the request moves forward.
async fn deliver_slack(
    engine: &Engine,
    hub: &Hub,
    s: &IntegrationSettings,
    n: &Notice,
) -> Result<(), Failure> {
    let ws = hub.slack.workspace(s)?;
    // Each round sends, or finds that another task moved the notice and looks again.
    for _ in 0..4 {
        let sent = engine
            .system()
            .approval_notice(n.org, n.id, IntegrationKind::Slack)
            .await
            .map_err(store_err)?;
        let claim = n.claim(IntegrationKind::Slack, engine.now_ms());
        match sent {
            None => {
                if !engine
                    .system()
                    .claim_approval_notice(&claim, None)
                    .await
                    .map_err(store_err)?
                {
                    continue;
                }
                let (channel, ts) =
                    match with_retries("Slack chat.postMessage", false, || ws.post(n)).await {
                        Ok(posted) => posted,
                        Err(e) => {
                            give_back(engine, &claim, None).await?;
                            return Err(e);
                        }
                    };
                engine
                    .system()
                    .set_approval_notice_message(&claim, &channel, &ts)
                    .await
                    .map_err(store_err)?;
                return catch_up(engine, hub, &ws, n, &channel, &ts).await;
            }
            Some(prev) if prev.message_ts.is_empty() => {
                // Being posted by another task, which catches up when done; unless that
                // task's process stopped while posting.
                if engine.now_ms() - prev.updated_ms < ABANDONED_MS {
                    return Ok(());
                }
                give_back(engine, &prev, None).await?;
            }
            Some(prev) if progress(n.shown()) <= progress(prev.shown()) => return Ok(()),
            Some(prev) => {
                if !engine
                    .system()
                    .claim_approval_notice(&claim, Some(prev.shown()))
                    .await
                    .map_err(store_err)?
                {
                    continue;
                }
                let updated = with_retries("Slack chat.update", true, || {
                    ws.update(&prev.channel, &prev.message_ts, n)
                })
                .await;
                if let Err(e) = updated {
                    give_back(engine, &claim, Some(&prev)).await?;
                    return Err(e);
                }
                return Ok(());
            }
        }
    }
    Ok(())
}

/// Teams and webhooks: once when new, once when it ends; steps between are not news.
async fn deliver_once(
    engine: &Engine,
    hub: &Hub,
    s: &IntegrationSettings,
    n: &Notice,
) -> Result<(), Failure> {
    let sent = engine
        .system()
        .approval_notice(n.org, n.id, s.kind)
        .await
        .map_err(store_err)?;
    let from = match &sent {
        None if n.status == ApprovalStatus::Pending || n.status.is_final() => None,
        Some(prev) if n.status.is_final() && !prev.status.is_final() => Some(prev),
        _ => return Ok(()),
    };
    let claim = n.claim(s.kind, engine.now_ms());
    if !engine
        .system()
        .claim_approval_notice(&claim, from.map(ApprovalNotice::shown))
        .await
        .map_err(store_err)?
    {
        return Ok(());
    }
    let out = if s.kind == IntegrationKind::Teams {
        with_retries("Teams webhook", false, || teams::send(&hub.http, s, n)).await
    } else {
        with_retries("webhook", false, || {
            webhook::send(&hub.http, s, n, engine.now_ms())
        })
        .await
    };
    if out.is_err() {
        give_back(engine, &claim, from).await?;
    }
    out
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
    let mut shown = posted.shown();
    // Each round needs the request to move forward; a request has a handful of steps.
    for _ in 0..8 {
        let d = engine
            .system()
            .approval_detail_in(posted.org, posted.id)
            .await
            .map_err(store_err)?;
        let now = Notice::new(
            &d,
            &hub.public_url,
            &engine.system().approval_link_tag(posted.org, posted.id),
        );
        if progress(now.shown()) <= progress(shown) {
            return Ok(());
        }
        let claim = now.claim(IntegrationKind::Slack, engine.now_ms());
        if !engine
            .system()
            .claim_approval_notice(&claim, Some(shown))
            .await
            .map_err(store_err)?
        {
            return Ok(());
        }
        with_retries("Slack chat.update", true, || ws.update(channel, ts, &now)).await?;
        shown = now.shown();
    }
    Ok(())
}
