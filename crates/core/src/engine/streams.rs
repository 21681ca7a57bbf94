//! Streaming the audit trail to SIEMs (docs/audit.md, "Streaming"): each org's streams
//! (Splunk HEC, syslog, signed webhooks) as stored, with a cursor each; the server's
//! delivery job (`server/src/integrations/stream.rs`) reads what follows a cursor, sends
//! it in order and moves the cursor only once the far side took it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::witness::sink_view;
use super::{AdminOps, Engine, ReadOps};
use crate::error::CoreError;
use crate::ids::{OrgId, SinkId};
use crate::model::Org;
use crate::secret::Credentials;
use crate::vault::SecretsOf;
use crate::witness::{AuditSink, SinkPurpose, SinkView, StreamSinkInput, parse_stream};

/// A stream with how far behind it is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct StreamView {
    #[serde(flatten)]
    pub sink: SinkView,
    /// Records after the cursor.
    pub lag_records: i64,
    /// How old the oldest record not yet delivered is, in seconds (0 when none waits).
    pub lag_seconds: i64,
}

/// A stream unsealed for delivery: never leaves the engine.
#[derive(Debug)]
pub struct StreamTarget {
    pub org: Org,
    pub sink: AuditSink,
    pub secrets: Credentials,
}

impl Engine {
    async fn stream_views(&self, org: OrgId) -> Result<Vec<StreamView>, CoreError> {
        let head = self.store.chain_head(org).await?.seq;
        let now = self.now_ms();
        let mut out = Vec::new();
        for s in self.store.audit_sinks(org, SinkPurpose::Stream).await? {
            let lag = (head - s.cursor_seq).max(0);
            let lag_seconds = if lag == 0 {
                0
            } else {
                self.store
                    .audit_after(org, s.cursor_seq, 1)
                    .await?
                    .first()
                    .map_or(0, |r| ((now - r.ts_ms()) / 1000).max(0))
            };
            out.push(StreamView {
                sink: sink_view(&s, lag),
                lag_records: lag,
                lag_seconds,
            });
        }
        Ok(out)
    }

    /// Streams unsealed: every org's for the delivery job, or `only` one org's.
    pub(crate) async fn stream_targets(
        &self,
        only: Option<OrgId>,
    ) -> Result<Vec<StreamTarget>, CoreError> {
        let mut out = Vec::new();
        let orgs = self.store.list_orgs().await?;
        for org in orgs
            .into_iter()
            .filter(|o| only.is_none_or(|id| id == o.id))
        {
            let sinks = self.store.audit_sinks(org.id, SinkPurpose::Stream).await?;
            if sinks.is_empty() {
                continue;
            }
            let dek = self.store.wrapped_data_key(org.id).await?;
            for sink in sinks {
                let secrets = match &sink.sealed_secrets {
                    Some(sealed) => {
                        self.vault
                            .open(org.id, Some(&dek), SecretsOf::Sink(sink.id), sealed)?
                    }
                    None => Credentials(BTreeMap::new()),
                };
                out.push(StreamTarget {
                    org: org.clone(),
                    sink,
                    secrets,
                });
            }
        }
        Ok(out)
    }
}

/// Records per batch.
const BATCH: u32 = 500;
/// Batches per stream per run, so one busy stream does not hold the others up.
const BATCHES_PER_RUN: usize = 20;

impl Engine {
    /// One run over every org's streams: each sends what follows its cursor, in order,
    /// in batches, and moves the cursor only once the far side took a batch. A batch
    /// that fails is sent again, whole, at a later run: what the protocol could not
    /// confirm arrives twice with the same seq, nothing is skipped. A stream that keeps
    /// failing is tried less often the longer it has been down (2 s to a minute). How
    /// many records were delivered.
    pub(crate) async fn stream_all(&self) -> Result<u64, CoreError> {
        let now = self.now_ms();
        let mut delivered = 0u64;
        for t in self.stream_targets(None).await? {
            if crate::stream::resting(&t, now) {
                continue;
            }
            let (org, id) = (t.org.id, t.sink.id);
            let mut cursor = t.sink.cursor_seq;
            for _ in 0..BATCHES_PER_RUN {
                let records = self.store.audit_after(org, cursor, BATCH).await?;
                let Some(last) = records.last().map(|r| r.seq) else {
                    break;
                };
                let events: Vec<serde_json::Value> = records
                    .iter()
                    .filter_map(|r| crate::stream::shaped(&t, r))
                    .collect();
                let sent = if events.is_empty() {
                    Ok(())
                } else {
                    crate::stream::send(&t, &events).await
                };
                match sent {
                    Ok(()) => {
                        self.store
                            .sink_delivered(org, id, last, self.now_ms())
                            .await?;
                        delivered += events.len() as u64;
                        cursor = last;
                    }
                    Err(e) => {
                        tracing::warn!(org = %t.org.slug, stream = %t.sink.name, error = %e, "streaming audit records failed; sent again later");
                        self.store.sink_failed(org, id, &e, self.now_ms()).await?;
                        break;
                    }
                }
                if records.len() < BATCH as usize {
                    break;
                }
            }
        }
        Ok(delivered)
    }
}

impl ReadOps<'_> {
    /// The org's streams, with their lag and last error.
    pub async fn streams(&self) -> Result<Vec<StreamView>, CoreError> {
        self.engine.stream_views(self.who.org_id).await
    }
}

impl AdminOps<'_> {
    /// Adds a stream. It starts after the newest record, or from the first with
    /// `from: start`.
    pub async fn add_stream(&self, input: StreamSinkInput) -> Result<StreamView, CoreError> {
        let e = self.engine;
        let org = self.who.org_id;
        let (name, kind, config, secrets, from_start) =
            parse_stream(input, e.local_targets_allowed())?;
        // The record of this very change comes after the head: a new stream starts
        // with it.
        let head = e.store.chain_head(org).await?.seq;
        let sink = self
            .add_sink(
                SinkPurpose::Stream,
                kind,
                name,
                config,
                secrets,
                if from_start { 0 } else { head },
            )
            .await?;
        let id = sink.id;
        e.stream_views(org)
            .await?
            .into_iter()
            .find(|v| v.sink.id == id)
            .ok_or_else(|| CoreError::Internal("the stream just added is gone".into()))
    }

    /// Sends a test event through one of the org's streams now: `Err` says what the far
    /// side or the network answered.
    pub async fn test_stream(&self, id: SinkId) -> Result<Result<(), String>, CoreError> {
        let org = self.who.org_id;
        let t = self
            .engine
            .stream_targets(Some(org))
            .await?
            .into_iter()
            .find(|t| t.sink.id == id)
            .ok_or_else(|| CoreError::NotFound(format!("no stream {id} in this org")))?;
        Ok(crate::stream::send_test(&t, self.engine.now_ms()).await)
    }
}
