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
        let counts: Vec<usize> = jobs.iter().map(|j| j.drafts.len()).collect();
        let mut drafts = Vec::with_capacity(n);
        let mut bodies = Vec::new();
        let mut replies = Vec::with_capacity(jobs.len());
        for j in jobs {
            stages::observe_since(Stage::AppendQueue, j.queued);
            drafts.extend(j.drafts);
            bodies.extend(j.bodies);
            replies.push(j.reply);
        }
        match commit(store.as_ref(), drafts, bodies).await {
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

/// One commit of the batch. When it fails with response bodies in it, the records are
/// tried once more without them, each result record then saying its body was not kept.
async fn commit(
    store: &dyn Store,
    mut drafts: Vec<AuditDraft>,
    bodies: Vec<ResponseBody>,
) -> Result<Vec<AuditRecord>, CoreError> {
    if bodies.is_empty() {
        return store.append_audit(drafts).await;
    }
    match store.append_audit_with_bodies(&drafts, &bodies).await {
        Ok(records) => Ok(records),
        Err(e) => {
            tracing::error!(error = %e, bodies = bodies.len(), "storing response bodies failed; recording their results without them");
            for d in &mut drafts {
                if bodies.iter().any(|b| b.record_id == d.id)
                    && let Some(m) = d.fields.as_object_mut()
                {
                    m.insert("response_stored".into(), false.into());
                }
            }
            store.append_audit(drafts).await
        }
    }
}
