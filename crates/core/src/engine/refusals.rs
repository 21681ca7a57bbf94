//! Refused attempts recorded in bursts: a guesser must not be able to grow an org's chain
//! by one record per attempt. The first refusal of a burst (same org and key, e.g. an
//! account and a client address) is recorded at once with `count: 1`; later ones within
//! [`WINDOW_MS`] are only counted, and one summary record with their `count` is written
//! when the window has closed (by [`Engine::flush_refusals`], run every second by the
//! server, or by the next refusal of the same key). The counts of all records of a key add
//! up to the attempts. If the process stops, what is lost is at most the unflushed count
//! of each burst open at that moment (one window's worth).

use std::collections::HashMap;
use std::sync::Mutex;

use super::Engine;
use crate::audit::{Actor, AuditEvent};
use crate::error::CoreError;
use crate::ids::OrgId;

/// How long a burst stays open.
pub(crate) const WINDOW_MS: i64 = 60_000;
/// Bursts tracked at most; beyond, the oldest closed ones are flushed first.
const MAX_BURSTS: usize = 100_000;

#[derive(Debug)]
struct Burst {
    actor: Actor,
    /// The latest refusal.
    event: AuditEvent,
    opened_ms: i64,
    /// Refusals counted but not yet recorded, and the first and last of them.
    pending: u64,
    pending_first_ms: i64,
    pending_last_ms: i64,
}

impl Burst {
    fn summary(self, org: OrgId) -> Pending {
        let mut event = self.event;
        if let Some(b) = event.burst_mut() {
            b.count = Some(self.pending);
            b.first_ms = Some(self.pending_first_ms);
            b.last_ms = Some(self.pending_last_ms);
            b.summary = Some(true);
        }
        (org, self.actor, event)
    }
}

type Pending = (OrgId, Actor, AuditEvent);

#[derive(Debug, Default)]
pub(crate) struct Refusals {
    open: Mutex<HashMap<(OrgId, String), Burst>>,
}

impl Refusals {
    fn table(&self) -> std::sync::MutexGuard<'_, HashMap<(OrgId, String), Burst>> {
        self.open
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Counts a refusal; returns the records due now (a closed burst's summary, and this
    /// refusal when it opens a burst).
    fn note(
        &self,
        org: OrgId,
        key: String,
        actor: Actor,
        event: AuditEvent,
        now: i64,
    ) -> Vec<Pending> {
        let mut due = Vec::new();
        let mut table = self.table();
        let k = (org, key);
        if let Some(b) = table.get_mut(&k)
            && now - b.opened_ms < WINDOW_MS
        {
            if b.pending == 0 {
                b.pending_first_ms = now;
            }
            b.pending += 1;
            b.pending_last_ms = now;
            b.event = event;
            b.actor = actor;
            return due;
        }
        if let Some(old) = table.remove(&k)
            && old.pending > 0
        {
            due.push(old.summary(org));
        }
        if table.len() >= MAX_BURSTS {
            due.extend(close(&mut table, now, true));
        }
        let mut first = event.clone();
        if let Some(b) = first.burst_mut() {
            b.count = Some(1);
        }
        due.push((org, actor.clone(), first));
        table.insert(
            k,
            Burst {
                actor,
                event,
                opened_ms: now,
                pending: 0,
                pending_first_ms: 0,
                pending_last_ms: 0,
            },
        );
        due
    }
}

/// Removes closed bursts (all of them when `all`), returning the summaries they owe.
fn close(table: &mut HashMap<(OrgId, String), Burst>, now: i64, all: bool) -> Vec<Pending> {
    let closed: Vec<_> = table
        .iter()
        .filter(|(_, b)| all || now - b.opened_ms >= WINDOW_MS)
        .map(|(k, _)| k.clone())
        .collect();
    closed
        .into_iter()
        .filter_map(|k| {
            table
                .remove(&k)
                .filter(|b| b.pending > 0)
                .map(|b| b.summary(k.0))
        })
        .collect()
}

impl Engine {
    /// Records a refused attempt, coalesced with others of the same `key` (see the module).
    pub(crate) async fn record_refusal(
        &self,
        org: OrgId,
        key: String,
        actor: Actor,
        event: impl Into<AuditEvent>,
    ) -> Result<(), CoreError> {
        let due = self
            .refusals
            .note(org, key, actor, event.into(), self.now_ms());
        self.write_refusals(due).await
    }

    /// A Slack press that failed its checks, coalesced per org and reason.
    pub(crate) async fn record_interaction_refusal(
        &self,
        org: OrgId,
        refused: crate::audit::event::InteractionRefused,
    ) -> Result<(), CoreError> {
        let key = format!("slack.interaction_refused:{}", refused.reason);
        self.record_refusal(org, key, Actor::system(), refused)
            .await
    }

    /// Writes the summaries of bursts whose window has closed; returns how many.
    pub(crate) async fn flush_refusals(&self) -> Result<usize, CoreError> {
        let now = self.now_ms();
        let due = close(&mut self.refusals.table(), now, false);
        let n = due.len();
        self.write_refusals(due).await?;
        Ok(n)
    }

    async fn write_refusals(&self, due: Vec<Pending>) -> Result<(), CoreError> {
        if due.is_empty() {
            return Ok(());
        }
        let drafts = due
            .into_iter()
            .map(|(org, actor, event)| self.draft(org, actor, event))
            .collect::<Result<_, _>>()?;
        self.audit.append(drafts).await.map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::event::LoginFailed;

    fn burst(e: &AuditEvent) -> crate::audit::event::Burst {
        match e {
            AuditEvent::LoginFailed(f) => f.burst.clone(),
            other => panic!("not a refusal: {other:?}"),
        }
    }

    #[test]
    fn a_burst_is_one_record_then_one_summary_and_counts_add_up() {
        let r = Refusals::default();
        let org = OrgId::new();
        let note = |now: i64| {
            let refused = LoginFailed {
                method: "password".into(),
                reason: format!("attempt at {now}"),
                client: None,
                burst: Default::default(),
            };
            r.note(org, "k".into(), Actor::system(), refused.into(), now)
        };
        let mut records = note(0);
        for t in 1..30 {
            records.extend(note(t * 100));
        }
        assert_eq!(records.len(), 1);
        records.extend(close(&mut r.table(), WINDOW_MS - 1, false));
        assert_eq!(records.len(), 1, "the window is still open");
        records.extend(note(WINDOW_MS + 5));
        assert_eq!(
            records.len(),
            3,
            "summary of the old burst, first of the new"
        );
        records.extend(close(&mut r.table(), 2 * WINDOW_MS + 5, false));
        let counts: Vec<u64> = records
            .iter()
            .map(|(_, _, e)| burst(e).count.unwrap_or(0))
            .collect();
        assert_eq!(counts, [1, 29, 1]);
        assert_eq!(burst(&records[1].2).last_ms, Some(2900));
        assert_eq!(burst(&records[1].2).summary, Some(true));
    }
}
