//! The single audit writer. Callers hand it drafts and wait; it takes everything queued
//! while the previous commit was in flight and commits it as one durable transaction
//! (group commit), so throughput grows with concurrency while every record is synced.

use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};

use crate::audit::{AuditDraft, AuditRecord};
use crate::error::CoreError;
use crate::store::Store;

/// Most drafts committed in one transaction.
const MAX_BATCH: usize = 1024;

type Job = (
    Vec<AuditDraft>,
    oneshot::Sender<Result<Vec<AuditRecord>, CoreError>>,
);

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

    /// Appends drafts (kept together, in order) and returns them sealed once durable.
    /// Any failure is [`CoreError::AuditUnavailable`]: the caller must not go on.
    pub async fn append(&self, drafts: Vec<AuditDraft>) -> Result<Vec<AuditRecord>, CoreError> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send((drafts, reply))
            .await
            .map_err(|_| CoreError::AuditUnavailable)?;
        rx.await.map_err(|_| CoreError::AuditUnavailable)?
    }

    pub async fn append_one(&self, draft: AuditDraft) -> Result<AuditRecord, CoreError> {
        self.append(vec![draft])
            .await?
            .pop()
            .ok_or(CoreError::AuditUnavailable)
    }
}

async fn run(store: Arc<dyn Store>, mut rx: mpsc::Receiver<Job>) {
    while let Some(first) = rx.recv().await {
        let mut jobs = vec![first];
        let mut n = jobs[0].0.len();
        while n < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => {
                    n += job.0.len();
                    jobs.push(job);
                }
                Err(_) => break,
            }
        }
        let counts: Vec<usize> = jobs.iter().map(|(d, _)| d.len()).collect();
        let (drafts, replies): (Vec<Vec<AuditDraft>>, Vec<_>) = jobs.into_iter().unzip();
        match store
            .append_audit(drafts.into_iter().flatten().collect())
            .await
        {
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
