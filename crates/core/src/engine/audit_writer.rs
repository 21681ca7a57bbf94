//! The single audit writer. Callers hand it drafts and wait; it takes everything queued
//! while the previous commit was in flight and commits it as one durable transaction
//! (group commit), so throughput grows with concurrency while every record is synced.

use std::sync::Arc;
use std::time::Instant;

use tokio::sync::{mpsc, oneshot};

use crate::audit::{AuditDraft, AuditRecord};
use crate::error::CoreError;
use crate::stages::{self, Stage};
use crate::store::{ResponseBody, Store};

/// Most drafts committed in one transaction.
const MAX_BATCH: usize = 1024;

/// Drafts to append together, the response bodies their result records prove, and
/// where to answer.
struct Job {
    queued: Instant,
    drafts: Vec<AuditDraft>,
    bodies: Vec<ResponseBody>,
    reply: oneshot::Sender<Result<Vec<AuditRecord>, CoreError>>,
}

#[derive(Debug, Clone)]
pub struct AuditWriter {
    tx: mpsc::Sender<Job>,
}

impl AuditWriter {
    /// Starts the writer task on the current tokio runtime.
    pub fn start(store: Arc<dyn Store>) -> Self {
        let (tx, rx) = mpsc::channel::<Job>(8192);
        tokio::spawn(run(store, rx));
        AuditWriter { tx }
    }

    async fn submit(
        &self,
        drafts: Vec<AuditDraft>,
        bodies: Vec<ResponseBody>,
    ) -> Result<Vec<AuditRecord>, CoreError> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Job {
                queued: Instant::now(),
                drafts,
                bodies,
                reply,
            })
            .await
            .map_err(|_| CoreError::AuditUnavailable)?;
        rx.await.map_err(|_| CoreError::AuditUnavailable)?
    }

    /// Appends drafts (kept together, in order) and returns them sealed once durable.
    /// Any failure is [`CoreError::AuditUnavailable`]: the caller must not go on.
    pub async fn append(&self, drafts: Vec<AuditDraft>) -> Result<Vec<AuditRecord>, CoreError> {
        self.submit(drafts, Vec::new()).await
    }

    pub async fn append_one(&self, draft: AuditDraft) -> Result<AuditRecord, CoreError> {
        self.append_with_body(draft, None).await
    }

    /// Appends a result record with the response body it proves, in the same commit. If
    /// the body cannot be stored the record still is, saying `response_stored: false`:
    /// the call already happened.
    pub async fn append_with_body(
        &self,
        draft: AuditDraft,
        body: Option<ResponseBody>,
    ) -> Result<AuditRecord, CoreError> {
        self.submit(vec![draft], body.into_iter().collect())
            .await?
            .pop()
            .ok_or(CoreError::AuditUnavailable)
    }
}

async fn run(store: Arc<dyn Store>, mut rx: mpsc::Receiver<Job>) {
    while let Some(first) = rx.recv().await {
        let mut n = first.drafts.len();
        let mut jobs = vec![first];
        while n < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => {
                    n += job.drafts.len();
                    jobs.push(job);
                }
                Err(_) => break,
            }
        }
        let mut counts: Vec<usize> = jobs.iter().map(|j| j.drafts.len()).collect();
        let mut drafts = Vec::with_capacity(n);
        let mut bodies = Vec::new();
        let mut replies = Vec::with_capacity(jobs.len());
        for j in jobs {
            stages::observe_since(Stage::AppendQueue, j.queued);
            drafts.extend(j.drafts);
            bodies.extend(j.bodies);
            replies.push(j.reply);
        }
        // A call decided on a configuration that has since changed fails alone (it is
        // decided again); the rest of the batch is committed without it.
        let answer = loop {
            match commit(store.as_ref(), &drafts, &bodies).await {
                Err(CoreError::StaleConfiguration) => {
                    let stale = match stale_jobs(store.as_ref(), &drafts, &counts).await {
                        Ok(stale) => stale,
                        Err(e) => break Err(e),
                    };
                    let (mut kept, mut kept_counts, mut kept_replies) =
                        (Vec::new(), Vec::new(), Vec::new());
                    let mut dropped = std::collections::HashSet::new();
                    let mut all = drafts.into_iter();
                    for ((reply, c), gone) in replies.into_iter().zip(counts).zip(stale) {
                        let job: Vec<AuditDraft> = all.by_ref().take(c).collect();
                        if gone {
                            dropped.extend(job.iter().map(|d| d.id));
                            let _ = reply.send(Err(CoreError::StaleConfiguration));
                        } else {
                            kept.extend(job);
                            kept_counts.push(c);
                            kept_replies.push(reply);
                        }
                    }
                    bodies.retain(|b| !dropped.contains(&b.record_id));
                    (drafts, counts, replies) = (kept, kept_counts, kept_replies);
                    if drafts.is_empty() {
                        break Ok(Vec::new());
                    }
                }
                other => break other,
            }
        };
        match answer {
            Ok(records) => {
                let mut it = records.into_iter();
                for (reply, c) in replies.into_iter().zip(counts) {
                    let _ = reply.send(Ok(it.by_ref().take(c).collect()));
                }
            }
            Err(e) => {
                tracing::error!(error = %e, batch = n, "audit append failed; failing the calls closed");
                for reply in replies {
                    let _ = reply.send(Err(CoreError::AuditUnavailable));
                }
            }
        }
    }
}

/// Which jobs (of `counts` drafts each, in order) have a draft guarded by an epoch its
/// org has moved past. If none seems to, every guarded one is taken as stale, so a
/// batch can never be retried forever.
async fn stale_jobs(
    store: &dyn Store,
    drafts: &[AuditDraft],
    counts: &[usize],
) -> Result<Vec<bool>, CoreError> {
    let mut orgs: Vec<_> = drafts
        .iter()
        .filter(|d| d.guard_epoch.is_some())
        .map(|d| d.org_id)
        .collect();
    orgs.sort_unstable();
    orgs.dedup();
    let now = store.org_epochs(&orgs).await?;
    let moved = |d: &AuditDraft| {
        d.guard_epoch
            .is_some_and(|g| now.get(&d.org_id).copied().unwrap_or(0) != g)
    };
    let guarded = |d: &AuditDraft| d.guard_epoch.is_some();
    let test: &dyn Fn(&AuditDraft) -> bool = if drafts.iter().any(moved) {
        &moved
    } else {
        &guarded
    };
    let mut rest = drafts;
    Ok(counts
        .iter()
        .map(|&c| {
            let (job, after) = rest.split_at(c);
            rest = after;
            job.iter().any(test)
        })
        .collect())
}

/// One commit of the batch. When it fails with response bodies in it, the records are
/// tried once more without them, each result record then saying its body was not kept.
async fn commit(
    store: &dyn Store,
    drafts: &[AuditDraft],
    bodies: &[ResponseBody],
) -> Result<Vec<AuditRecord>, CoreError> {
    if bodies.is_empty() {
        return store.append_audit_with_bodies(drafts, &[]).await;
    }
    match store.append_audit_with_bodies(drafts, bodies).await {
        Ok(records) => Ok(records),
        Err(CoreError::StaleConfiguration) => Err(CoreError::StaleConfiguration),
        Err(e) => {
            tracing::error!(error = %e, bodies = bodies.len(), "storing response bodies failed; recording their results without them");
            let mut bare = drafts.to_vec();
            for d in &mut bare {
                if bodies.iter().any(|b| b.record_id == d.id)
                    && let Some(m) = d.fields.as_object_mut()
                {
                    m.insert("response_stored".into(), false.into());
                }
            }
            store.append_audit_with_bodies(&bare, &[]).await
        }
    }
}
