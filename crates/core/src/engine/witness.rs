//! Signed checkpoints and their witnesses (docs/audit.md, "Checkpoints"): each org's
//! signing key, the periodic job that signs the tip of each chain that moved, and the
//! delivery of every checkpoint, in order, to each of the org's witnesses.
//!
//! The record signed is an `audit.checkpoint` record appended for the purpose, so a
//! checkpoint covers every record before it and the next run finds the chain unmoved
//! unless something else was recorded. A checkpoint is stored before it is delivered:
//! a witness that is down gets it later, never skips it, and each witness's cursor says
//! how far it got.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::{AdminOps, Engine, ReadOps};
use crate::audit::checkpoint::{Checkpoint, PrivateKey, PublicKey};
use crate::audit::event as ev;
use crate::audit::{Actor, format_ts};
use crate::error::CoreError;
use crate::ids::{OrgId, SinkId};
use crate::store::StoredSigningKey;
use crate::vault::SecretsOf;
use crate::witness::{
    AuditSink, Put, S3SinkInput, SinkKind, SinkPurpose, SinkView, Witness, parse_s3,
};

/// Every five minutes unless configured otherwise.
pub const DEFAULT_CHECKPOINT_INTERVAL_SECS: u64 = 300;
/// How many checkpoints one delivery run writes to one witness at most.
const DELIVERY_BATCH: u32 = 100;
/// How many of the newest checkpoints the status shows.
const STATUS_CHECKPOINTS: u32 = 10;

/// The server's part of witnessing.
#[derive(Debug)]
pub(super) struct WitnessSettings {
    dir: Option<PathBuf>,
    interval_ms: i64,
    /// When this process started: an org's first checkpoint comes one interval after.
    started_ms: std::sync::OnceLock<i64>,
}

impl WitnessSettings {
    pub(super) fn new(dir: Option<PathBuf>, interval_secs: u64) -> Self {
        WitnessSettings {
            dir,
            started_ms: std::sync::OnceLock::new(),
            interval_ms: i64::try_from(interval_secs.max(1).saturating_mul(1000))
                .unwrap_or(i64::MAX),
        }
    }
}

/// An org's public signing key, as the console and the API publish it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SigningKeyView {
    pub key_id: String,
    /// Always `Ed25519`.
    pub algorithm: String,
    /// Base64 of the 32 raw bytes.
    pub public_key: String,
    /// SubjectPublicKeyInfo PEM, what `arx audit verify --public-key` reads.
    pub public_key_pem: String,
    pub created_at: String,
}

/// What an org's witnessing looks like now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct WitnessStatus {
    pub key: SigningKeyView,
    /// How often a chain that moved is signed.
    pub interval_seconds: u64,
    /// The chain's last seq.
    pub head_seq: i64,
    /// The newest checkpoints, newest first.
    pub checkpoints: Vec<Checkpoint>,
    /// Every witness the checkpoints go to.
    pub sinks: Vec<SinkView>,
}

fn key_view(k: &StoredSigningKey) -> Result<SigningKeyView, CoreError> {
    let public = PublicKey::parse(&k.public_key).map_err(CoreError::Internal)?;
    Ok(SigningKeyView {
        key_id: k.key_id.clone(),
        algorithm: "Ed25519".into(),
        public_key: k.public_key.clone(),
        public_key_pem: public.to_pem()?,
        created_at: format_ts(k.created_ms),
    })
}

pub(super) fn sink_view(s: &AuditSink, pending: i64) -> SinkView {
    // An error older than the last success is over.
    let current_error = match (s.last_error_ms, s.last_ok_ms) {
        (Some(e), Some(ok)) => e >= ok,
        (Some(_), None) => true,
        _ => false,
    };
    SinkView {
        id: s.id,
        kind: s.kind,
        name: s.name.clone(),
        config: s.config.clone(),
        cursor_seq: s.cursor_seq,
        pending,
        last_ok_at: s.last_ok_ms.map(format_ts),
        last_error: s.last_error.clone().filter(|_| current_error),
        last_error_at: s.last_error_ms.filter(|_| current_error).map(format_ts),
        created_at: format_ts(s.created_ms),
        created_by: s.created_by.clone(),
    }
}

impl Engine {
    /// The org's signing key, made (and recorded) at its first use.
    async fn signing_key(&self, org: OrgId) -> Result<StoredSigningKey, CoreError> {
        if let Some(k) = self.store.signing_key(org).await? {
            return Ok(k);
        }
        let private = PrivateKey::generate();
        let public = private.public();
        let dek = self.store.wrapped_data_key(org).await?;
        let seed = BTreeMap::from([("seed".to_string(), hex::encode(private.seed().as_ref()))]);
        let new = StoredSigningKey {
            org_id: org,
            key_id: public.key_id(),
            public_key: public.to_base64(),
            sealed_private: self.vault.seal(org, &dek, SecretsOf::SigningKey, &seed)?,
            created_ms: self.now_ms(),
        };
        let stored = self.store.insert_signing_key(&new).await?;
        if stored.key_id == new.key_id {
            self.record(
                org,
                Actor::system(),
                ev::SigningKeyCreated {
                    key_id: new.key_id,
                    public_key: new.public_key,
                },
            )
            .await?;
        }
        Ok(stored)
    }

    async fn private_key(&self, k: &StoredSigningKey) -> Result<PrivateKey, CoreError> {
        let dek = if self.vault.has_data_key(k.org_id) {
            None
        } else {
            Some(self.store.wrapped_data_key(k.org_id).await?)
        };
        let opened = self.vault.open(
            k.org_id,
            dek.as_deref(),
            SecretsOf::SigningKey,
            &k.sealed_private,
        )?;
        let seed = opened
            .get("seed")
            .and_then(|s| hex::decode(s).ok())
            .ok_or_else(|| {
                CoreError::Internal("signing key: the sealed seed is malformed".into())
            })?;
        PrivateKey::from_seed(&seed)
    }

    /// Signs the org's chain if it moved since its last checkpoint and the interval has
    /// passed (at once with `now`). `None` when there was nothing to sign.
    pub(crate) async fn checkpoint_org(
        &self,
        org: OrgId,
        now: bool,
    ) -> Result<Option<Checkpoint>, CoreError> {
        let head = self.store.chain_head(org).await?;
        let last = self.store.last_checkpoint(org).await?;
        let last_seq = last.as_ref().map_or(0, |c| c.seq);
        if head.seq == 0 || head.seq == last_seq {
            return Ok(None);
        }
        // Due one interval after the last checkpoint; an org's first, one interval
        // after this process first looked.
        let since = match &last {
            Some(l) => crate::audit::parse_ts(&l.ts),
            None => *self.witness.started_ms.get_or_init(|| self.now_ms()),
        };
        if !now && self.now_ms() < since.saturating_add(self.witness.interval_ms) {
            return Ok(None);
        }
        let key = self.signing_key(org).await?;
        // A checkpoint record at the tip whose signing was interrupted is signed now;
        // otherwise a new one is appended and signed.
        let tip = self.store.audit_after(org, head.seq - 1, 1).await?;
        let (seq, hash) = match tip.first() {
            Some(r) if r.kind == "audit.checkpoint" && r.seq > last_seq => (r.seq, r.hash.clone()),
            _ => {
                let r = self
                    .record(
                        org,
                        Actor::system(),
                        ev::CheckpointTaken {
                            key_id: key.key_id.clone(),
                            previous_seq: last_seq,
                        },
                    )
                    .await?;
                (r.seq, r.hash)
            }
        };
        let signed_ms = self.now_ms();
        let c = self
            .private_key(&key)
            .await?
            .sign(org, seq, &hash, signed_ms)?;
        self.store.insert_checkpoint(&c, signed_ms).await?;
        Ok(Some(c))
    }

    /// The org's witnesses: the server's directory (added to the org's sinks at first
    /// use, so its progress is kept like any other's) and the org's own.
    async fn witness_sinks(&self, org: OrgId) -> Result<Vec<AuditSink>, CoreError> {
        let mut sinks = self.store.audit_sinks(org, SinkPurpose::Witness).await?;
        if self.witness.dir.is_some() && !sinks.iter().any(|s| s.kind == SinkKind::Directory) {
            let dir = AuditSink {
                id: SinkId::new(),
                org_id: org,
                purpose: SinkPurpose::Witness,
                kind: SinkKind::Directory,
                name: "server directory".into(),
                config: BTreeMap::new(),
                sealed_secrets: None,
                created_ms: self.now_ms(),
                created_by: "arx".into(),
                cursor_seq: 0,
                last_ok_ms: None,
                last_error: None,
                last_error_ms: None,
            };
            self.store.insert_audit_sink(&dir).await?;
            sinks = self.store.audit_sinks(org, SinkPurpose::Witness).await?;
        }
        Ok(sinks)
    }

    /// Opens a sink for writing. Errors are meant for the sink's status: no secret.
    async fn open_witness(&self, s: &AuditSink) -> Result<Witness, String> {
        match s.kind {
            SinkKind::Directory => match &self.witness.dir {
                Some(dir) => Witness::directory(dir),
                None => Err("this server has no witness directory (ARX_WITNESS_DIR)".into()),
            },
            SinkKind::S3 => {
                let sealed = s.sealed_secrets.as_deref().unwrap_or("");
                let dek = self
                    .store
                    .wrapped_data_key(s.org_id)
                    .await
                    .map_err(|e| e.to_string())?;
                let secrets = self
                    .vault
                    .open(s.org_id, Some(&dek), SecretsOf::Sink(s.id), sealed)
                    .map_err(|_| "the sink's sealed secret does not open".to_string())?;
                let secret = secrets
                    .get("secret_access_key")
                    .ok_or("the sink has no secret access key")?;
                Witness::s3(&s.config, secret)
            }
            SinkKind::Hec | SinkKind::Syslog | SinkKind::Webhook => {
                Err(format!("a {} sink is not a witness", s.kind.as_str()))
            }
        }
    }

    /// Writes every checkpoint each of the org's witnesses lacks, in seq order. A witness
    /// that fails keeps its cursor and is tried again at the next run. How many were
    /// written.
    pub(crate) async fn deliver_witness(&self, org: OrgId) -> Result<u64, CoreError> {
        let mut written = 0u64;
        for sink in self.witness_sinks(org).await? {
            let w = match self.open_witness(&sink).await {
                Ok(w) => w,
                Err(e) => {
                    self.store
                        .sink_failed(org, sink.id, &e, self.now_ms())
                        .await?;
                    continue;
                }
            };
            let mut cursor = sink.cursor_seq;
            'batches: loop {
                let batch = self
                    .store
                    .checkpoints_after(org, cursor, DELIVERY_BATCH)
                    .await?;
                if batch.is_empty() {
                    break;
                }
                for c in &batch {
                    match w.put_checkpoint(c).await {
                        Ok(put) => {
                            if put == Put::AlreadyThere {
                                tracing::info!(%org, sink = %sink.name, seq = c.seq, "the witness already holds this checkpoint");
                            }
                            cursor = c.seq;
                            written += 1;
                        }
                        Err(e) => {
                            tracing::warn!(%org, sink = %sink.name, seq = c.seq, error = %e, "writing a checkpoint to a witness failed; retrying later");
                            if cursor > sink.cursor_seq {
                                self.store
                                    .sink_delivered(org, sink.id, cursor, self.now_ms())
                                    .await?;
                            }
                            self.store
                                .sink_failed(org, sink.id, &e, self.now_ms())
                                .await?;
                            break 'batches;
                        }
                    }
                }
                self.store
                    .sink_delivered(org, sink.id, cursor, self.now_ms())
                    .await?;
            }
        }
        Ok(written)
    }

    /// One run of the witness job over every org: sign what is due, deliver what is
    /// pending. An org that fails is logged and the others go on. How many checkpoints
    /// were signed and written.
    pub(crate) async fn witness_all(&self) -> Result<u64, CoreError> {
        let mut n = 0;
        for org in self.store.list_orgs().await? {
            match self.checkpoint_org(org.id, false).await {
                Ok(c) => n += u64::from(c.is_some()),
                Err(e) => {
                    tracing::warn!(org = %org.slug, error = %e, "signing a checkpoint failed; retrying")
                }
            }
            match self.deliver_witness(org.id).await {
                Ok(w) => n += w,
                Err(e) => {
                    tracing::warn!(org = %org.slug, error = %e, "delivering checkpoints failed; retrying")
                }
            }
        }
        Ok(n)
    }

    async fn witness_status(&self, org: OrgId) -> Result<WitnessStatus, CoreError> {
        let key = self.signing_key(org).await?;
        let mut sinks = Vec::new();
        for s in self.witness_sinks(org).await? {
            let pending = self
                .store
                .checkpoints_count_after(org, s.cursor_seq)
                .await?;
            sinks.push(sink_view(&s, pending));
        }
        Ok(WitnessStatus {
            key: key_view(&key)?,
            interval_seconds: u64::try_from(self.witness.interval_ms / 1000).unwrap_or(0),
            head_seq: self.store.chain_head(org).await?.seq,
            checkpoints: self
                .store
                .checkpoints_newest(org, STATUS_CHECKPOINTS)
                .await?,
            sinks,
        })
    }
}

impl ReadOps<'_> {
    /// The org's signing key, checkpoints and witnesses (the key is made at first use).
    pub async fn witness_status(&self) -> Result<WitnessStatus, CoreError> {
        self.engine.witness_status(self.who.org_id).await
    }

    /// The org's public key, to verify checkpoints with.
    pub async fn signing_key(&self) -> Result<SigningKeyView, CoreError> {
        key_view(&self.engine.signing_key(self.who.org_id).await?)
    }
}

impl AdminOps<'_> {
    /// Adds an S3-compatible witness. It starts from the first checkpoint: every
    /// checkpoint the org has is written there too.
    pub async fn add_witness_sink(&self, input: S3SinkInput) -> Result<SinkView, CoreError> {
        let (name, config, secret) = parse_s3(input, self.engine.local_targets_allowed())?;
        let secrets = BTreeMap::from([("secret_access_key".to_string(), secret)]);
        let sink = self
            .add_sink(SinkPurpose::Witness, SinkKind::S3, name, config, secrets, 0)
            .await?;
        let pending = self
            .engine
            .store
            .checkpoints_count_after(self.who.org_id, 0)
            .await?;
        Ok(sink_view(&sink, pending))
    }

    /// A new witness or stream of the org, its secrets sealed to it, delivering after
    /// `cursor_seq`; recorded (without the secrets). A name the org already uses for
    /// the same purpose is a conflict.
    pub(super) async fn add_sink(
        &self,
        purpose: SinkPurpose,
        kind: SinkKind,
        name: String,
        config: BTreeMap<String, String>,
        secrets: BTreeMap<String, String>,
        cursor_seq: i64,
    ) -> Result<AuditSink, CoreError> {
        let e = self.engine;
        let org = self.who.org_id;
        let existing = match purpose {
            SinkPurpose::Witness => e.witness_sinks(org).await?,
            SinkPurpose::Stream => e.store.audit_sinks(org, purpose).await?,
        };
        if existing.iter().any(|s| s.name == name) {
            return Err(CoreError::Conflict(format!(
                "a {} named '{name}' exists; choose another name",
                purpose.as_str()
            )));
        }
        let id = SinkId::new();
        let dek = e.store.wrapped_data_key(org).await?;
        let sink = AuditSink {
            id,
            org_id: org,
            purpose,
            kind,
            name,
            config,
            sealed_secrets: Some(e.vault.seal(org, &dek, SecretsOf::Sink(id), &secrets)?),
            created_ms: e.now_ms(),
            created_by: self.who.email.clone(),
            cursor_seq,
            last_ok_ms: None,
            last_error: None,
            last_error_ms: None,
        };
        e.store.insert_audit_sink(&sink).await?;
        e.record(
            org,
            self.actor(),
            ev::SinkAdded {
                sink_id: id,
                kind,
                name: sink.name.clone(),
                config: sink.config.clone(),
            },
        )
        .await?;
        Ok(sink)
    }

    /// Removes one of the org's witnesses or streams (the server's directory stays).
    /// What was written there stays: ARX never deletes from a witness.
    pub async fn remove_sink(&self, purpose: SinkPurpose, id: SinkId) -> Result<(), CoreError> {
        let e = self.engine;
        let org = self.who.org_id;
        let sinks = e.store.audit_sinks(org, purpose).await?;
        let sink = sinks.iter().find(|s| s.id == id).ok_or_else(|| {
            CoreError::NotFound(format!("no {} {id} in this org", purpose.as_str()))
        })?;
        if sink.kind == SinkKind::Directory {
            return Err(CoreError::InvalidRequest(
                "the server's witness directory is every org's and cannot be removed".into(),
            ));
        }
        e.store.delete_audit_sink(org, id).await?;
        e.record(
            org,
            self.actor(),
            ev::SinkRemoved {
                sink_id: id,
                kind: sink.kind,
                name: sink.name.clone(),
            },
        )
        .await?;
        Ok(())
    }

    /// Signs the chain now if it moved, and writes what is pending to every witness
    /// (an admin's "checkpoint now"). The checkpoint signed, if any.
    pub async fn checkpoint_now(&self) -> Result<Option<Checkpoint>, CoreError> {
        let c = self.engine.checkpoint_org(self.who.org_id, true).await?;
        self.engine.deliver_witness(self.who.org_id).await?;
        Ok(c)
    }
}
