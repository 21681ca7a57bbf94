//! Where an org's audit trail is sent, and the witnesses checkpoints are written to
//! (docs/audit.md). A witness is written create-only: ARX never reads, overwrites or
//! deletes what it wrote there, so what a witness holds stays what was signed, whoever
//! later controls ARX. Every witness is an [`ObjectStore`] (object_store's trait): a
//! directory on this machine, or S3-compatible object storage; the verifier reads them
//! back through the same trait.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use futures::TryStreamExt;
use object_store::aws::{AmazonS3Builder, S3ConditionalPut};
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, PutMode, PutOptions, PutPayload};
use serde::{Deserialize, Serialize};

use crate::audit::checkpoint::Checkpoint;
use crate::error::CoreError;
use crate::ids::{OrgId, SinkId};

/// What a sink receives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum SinkPurpose {
    /// Signed checkpoints.
    Witness,
    /// Every record, streamed to a SIEM.
    Stream,
}

impl SinkPurpose {
    pub fn as_str(self) -> &'static str {
        match self {
            SinkPurpose::Witness => "witness",
            SinkPurpose::Stream => "stream",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        [SinkPurpose::Witness, SinkPurpose::Stream]
            .into_iter()
            .find(|p| p.as_str() == s)
    }
}

/// How a sink is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum SinkKind {
    /// The server's witness directory (`ARX_WITNESS_DIR`); every org has one.
    Directory,
    /// An S3-compatible bucket.
    S3,
    /// Splunk's HTTP Event Collector.
    Hec,
    /// Syslog, RFC 5424, over TLS, TCP or UDP.
    Syslog,
    /// A signed webhook (HMAC, as approval webhooks are signed).
    Webhook,
}

impl SinkKind {
    const ALL: [SinkKind; 5] = [
        SinkKind::Directory,
        SinkKind::S3,
        SinkKind::Hec,
        SinkKind::Syslog,
        SinkKind::Webhook,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SinkKind::Directory => "directory",
            SinkKind::S3 => "s3",
            SinkKind::Hec => "hec",
            SinkKind::Syslog => "syslog",
            SinkKind::Webhook => "webhook",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// A sink as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditSink {
    pub id: SinkId,
    pub org_id: OrgId,
    pub purpose: SinkPurpose,
    pub kind: SinkKind,
    pub name: String,
    /// Plain settings (for S3: bucket, prefix, region, endpoint, access_key_id).
    pub config: BTreeMap<String, String>,
    /// The vault's ciphertext of the secret settings, bound to the org and the sink.
    pub sealed_secrets: Option<String>,
    pub created_ms: i64,
    pub created_by: String,
    /// The last seq delivered: delivery resumes after it.
    pub cursor_seq: i64,
    pub last_ok_ms: Option<i64>,
    pub last_error: Option<String>,
    pub last_error_ms: Option<i64>,
}

/// What the console and the API show of a sink: never a secret.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SinkView {
    pub id: SinkId,
    pub kind: SinkKind,
    pub name: String,
    pub config: BTreeMap<String, String>,
    /// The last seq delivered.
    pub cursor_seq: i64,
    /// Checkpoints signed and not yet written here.
    pub pending: i64,
    /// When the last write succeeded.
    pub last_ok_at: Option<String>,
    /// The last failure, if it came after the last success.
    pub last_error: Option<String>,
    pub last_error_at: Option<String>,
    pub created_at: String,
    pub created_by: String,
}

/// `POST /v1/admin/audit/witness/sinks`: an S3-compatible bucket. The secret key is
/// sealed by the vault and never shown again.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "audit-witness", "bucket": "acme-arx-witness", "prefix": "arx",
    "region": "eu-west-1", "access_key_id": "AKIAEXAMPLE", "secret_access_key": "example-secret"}))]
pub struct S3SinkInput {
    /// A name unique in the org (1 to 64 characters).
    pub name: String,
    pub bucket: String,
    /// Where under the bucket checkpoints go (`<prefix>/<org id>/<seq>.json`).
    #[serde(default)]
    pub prefix: Option<String>,
    /// Defaults to `us-east-1`.
    #[serde(default)]
    pub region: Option<String>,
    /// An S3-compatible service's URL (https; http only to local addresses with
    /// `--allow-local-targets`). Defaults to AWS.
    #[serde(default)]
    pub endpoint: Option<String>,
    pub access_key_id: String,
    pub secret_access_key: String,
}

/// `POST /v1/admin/audit/streams`: where every record of the org is sent, in order, with
/// its seq and hash. Secrets (the HEC token, the webhook secret) are sealed and never
/// shown again.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "splunk", "kind": "hec", "url": "https://splunk.example.com:8088",
    "token": "00000000-0000-0000-0000-000000000000", "ack": true, "kinds": ["execute.*", "approval.*"],
    "redact": ["password"]}))]
pub struct StreamSinkInput {
    /// A name unique in the org (1 to 64 characters).
    pub name: String,
    /// `hec`, `syslog` or `webhook`.
    pub kind: String,
    /// HEC: the collector's base URL (`https://host:8088`); webhook: the URL posted to;
    /// syslog: `tls://host:6514`, `tcp://host:514` or `udp://host:514` (UDP loses
    /// what the network drops: nothing confirms it).
    pub url: String,
    /// HEC: the token.
    #[serde(default)]
    pub token: Option<String>,
    /// Webhook: the HMAC key.
    #[serde(default)]
    pub secret: Option<String>,
    /// HEC: wait for indexer acknowledgement before a record counts as delivered.
    #[serde(default)]
    pub ack: bool,
    /// Syslog over TLS: the CA certificate (PEM) the server's certificate must chain to,
    /// instead of the public roots.
    #[serde(default)]
    pub ca_pem: Option<String>,
    /// Only these kinds (`execute.intercept`) or families (`approval.*`); all when empty.
    #[serde(default)]
    pub kinds: Vec<String>,
    /// Keys whose values are replaced by `"[redacted]"` wherever they occur in a
    /// record's `fields` (`password`, `token`). A redacted record says so.
    #[serde(default)]
    pub redact: Vec<String>,
    /// `now` (default): from the next record on; `start`: the whole trail first.
    #[serde(default)]
    pub from: Option<String>,
}

/// What [`parse_stream`] makes of the input: name, kind, plain settings, secrets, and
/// whether to start at the beginning.
pub(crate) type ParsedStream = (
    String,
    SinkKind,
    BTreeMap<String, String>,
    BTreeMap<String, String>,
    bool,
);

/// Checks a stream's settings from the admin API.
pub(crate) fn parse_stream(
    input: StreamSinkInput,
    allow_local: bool,
) -> Result<ParsedStream, CoreError> {
    let bad = |field: &'static str, message: String| CoreError::InvalidField { field, message };
    let name = input.name.trim().to_string();
    if name.is_empty() || name.len() > 64 || name.chars().any(char::is_control) {
        return Err(bad(
            "name",
            "a stream needs a 'name' of 1 to 64 characters".into(),
        ));
    }
    let kind = match SinkKind::parse(input.kind.trim()) {
        Some(k @ (SinkKind::Hec | SinkKind::Syslog | SinkKind::Webhook)) => k,
        _ => {
            return Err(bad(
                "kind",
                format!(
                    "a stream's kind is hec, syslog or webhook, not '{}'",
                    input.kind
                ),
            ));
        }
    };
    let mut config = BTreeMap::new();
    let mut secrets = BTreeMap::new();
    let mut secret = |field: &'static str, v: Option<String>| -> Result<(), CoreError> {
        match v.map(|v| v.trim().to_string()).filter(|v| !v.is_empty()) {
            Some(v) if v.len() <= 2000 => {
                secrets.insert(field.to_string(), v);
                Ok(())
            }
            _ => Err(bad(
                field,
                format!("a {} stream needs '{field}'", kind.as_str()),
            )),
        }
    };
    match kind {
        SinkKind::Hec => {
            let url = crate::integration::checked_url("hec", "url", input.url, allow_local, true)?;
            config.insert("url".into(), url);
            secret("token", input.token)?;
            config.insert("ack".into(), input.ack.to_string());
        }
        SinkKind::Webhook => {
            let url =
                crate::integration::checked_url("webhook", "url", input.url, allow_local, false)?;
            config.insert("url".into(), url);
            secret("secret", input.secret)?;
        }
        _ => {
            let url = input.url.trim();
            let (transport, addr) = url
                .split_once("://")
                .filter(|(t, _)| ["tls", "tcp", "udp"].contains(t))
                .ok_or_else(|| {
                    bad(
                        "url",
                        "a syslog url is tls://host:port, tcp://host:port or udp://host:port"
                            .into(),
                    )
                })?;
            let (host, port) = addr
                .rsplit_once(':')
                .and_then(|(h, p)| Some((h.trim_matches(['[', ']']), p.parse::<u16>().ok()?)))
                .filter(|(h, p)| !h.is_empty() && *p > 0 && !h.contains(['/', '@', ' ']))
                .ok_or_else(|| bad("url", format!("'{url}' needs a host and a port")))?;
            // The same address rules as every outbound call.
            crate::integration::checked_url(
                "syslog",
                "url",
                format!("https://{host}:{port}"),
                allow_local,
                false,
            )?;
            if transport != "tls" && !allow_local {
                return Err(bad(
                    "url",
                    "syslog goes over tls:// (plain tcp:// and udp:// only with --allow-local-targets)".into(),
                ));
            }
            config.insert("transport".into(), transport.into());
            config.insert("host".into(), host.into());
            config.insert("port".into(), port.to_string());
            if let Some(ca) = input.ca_pem.filter(|c| !c.trim().is_empty()) {
                if !ca.contains("-----BEGIN CERTIFICATE-----") || ca.len() > 20_000 {
                    return Err(bad("ca_pem", "ca_pem is a PEM certificate".into()));
                }
                config.insert("ca_pem".into(), ca);
            }
        }
    }
    let list = |field: &'static str, v: Vec<String>| -> Result<String, CoreError> {
        let v: Vec<String> = v
            .into_iter()
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect();
        if v.len() > 50
            || v.iter().any(|s| {
                s.len() > 100
                    || !s
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "._-*".contains(c))
            })
        {
            return Err(bad(
                field,
                format!(
                    "{field} is a list of up to 50 names (letters, digits, '.', '_', '-', '*')"
                ),
            ));
        }
        Ok(v.join(","))
    };
    config.insert("kinds".into(), list("kinds", input.kinds)?);
    config.insert("redact".into(), list("redact", input.redact)?);
    let from_start = match input.from.as_deref().map(str::trim) {
        None | Some("") | Some("now") => false,
        Some("start") => true,
        Some(other) => {
            return Err(bad(
                "from",
                format!("from is 'now' or 'start', not '{other}'"),
            ));
        }
    };
    Ok((name, kind, config, secrets, from_start))
}

/// How a create-only write ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Put {
    Written,
    /// An object of that name was already there (a retry after a lost answer: the same
    /// checkpoint is written under the same name). ARX does not read it back.
    AlreadyThere,
}

/// A witness to write to or read from.
#[derive(Debug, Clone)]
pub struct Witness {
    store: Arc<dyn ObjectStore>,
    prefix: String,
}

/// A witness that does not answer fails the run quickly: the job tries again at its
/// next period, and an admin's "checkpoint now" does not hang.
fn client_options() -> object_store::ClientOptions {
    object_store::ClientOptions::new()
        .with_connect_timeout(std::time::Duration::from_secs(3))
        .with_timeout(std::time::Duration::from_secs(10))
}

fn retry() -> object_store::RetryConfig {
    object_store::RetryConfig {
        max_retries: 1,
        retry_timeout: std::time::Duration::from_secs(10),
        ..Default::default()
    }
}

fn sink_err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

impl Witness {
    /// A directory on this machine (created if missing).
    pub fn directory(dir: &Path) -> Result<Self, String> {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create the witness directory {}: {e}", dir.display()))?;
        let fs = LocalFileSystem::new_with_prefix(dir).map_err(sink_err)?;
        Ok(Witness {
            store: Arc::new(fs),
            prefix: String::new(),
        })
    }

    /// An S3-compatible bucket, written with `If-None-Match: *` (create-only).
    pub fn s3(config: &BTreeMap<String, String>, secret_key: &str) -> Result<Self, String> {
        let get = |k: &str| config.get(k).map(String::as_str).unwrap_or("");
        let mut b = AmazonS3Builder::new()
            .with_bucket_name(get("bucket"))
            .with_region(match get("region") {
                "" => "us-east-1",
                r => r,
            })
            .with_access_key_id(get("access_key_id"))
            .with_secret_access_key(secret_key)
            .with_conditional_put(S3ConditionalPut::ETagMatch)
            .with_client_options(client_options())
            .with_retry(retry());
        if let Some(ep) = config.get("endpoint").filter(|e| !e.is_empty()) {
            b = b
                .with_endpoint(ep)
                .with_allow_http(ep.starts_with("http://"))
                .with_virtual_hosted_style_request(false);
        }
        Ok(Witness {
            store: Arc::new(b.build().map_err(sink_err)?),
            prefix: get("prefix").trim_matches('/').to_string(),
        })
    }

    /// A witness named on the command line: a directory, which must exist (a mistyped
    /// path is an error, never an empty witness that checks nothing), or
    /// `s3://bucket[/prefix]` with credentials and endpoint from the `AWS_*` environment
    /// variables.
    pub fn open(location: &str) -> Result<Self, String> {
        let Some(rest) = location.strip_prefix("s3://") else {
            let dir = Path::new(location);
            if !dir.is_dir() {
                return Err(format!("no witness directory at {}", dir.display()));
            }
            return Self::directory(dir);
        };
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        // The client options stay the environment's (AWS_ALLOW_HTTP among them).
        let store = AmazonS3Builder::from_env()
            .with_bucket_name(bucket)
            .build()
            .map_err(sink_err)?;
        Ok(Witness {
            store: Arc::new(store),
            prefix: prefix.trim_matches('/').to_string(),
        })
    }

    fn path(&self, name: &str) -> ObjectPath {
        if self.prefix.is_empty() {
            ObjectPath::from(name)
        } else {
            ObjectPath::from(format!("{}/{name}", self.prefix))
        }
    }

    /// Writes `bytes` as `name` if nothing has that name yet.
    pub async fn put_new(&self, name: &str, bytes: Vec<u8>) -> Result<Put, String> {
        let opts = PutOptions {
            mode: PutMode::Create,
            ..Default::default()
        };
        match self
            .store
            .put_opts(&self.path(name), PutPayload::from(bytes), opts)
            .await
        {
            Ok(_) => Ok(Put::Written),
            Err(
                object_store::Error::AlreadyExists { .. }
                | object_store::Error::Precondition { .. },
            ) => Ok(Put::AlreadyThere),
            Err(e) => Err(sink_err(e)),
        }
    }

    /// Writes `c` under its name.
    pub async fn put_checkpoint(&self, c: &Checkpoint) -> Result<Put, String> {
        let bytes = c.to_bytes().map_err(sink_err)?;
        self.put_new(&Checkpoint::object_name(c.org_id, c.seq), bytes)
            .await
    }

    /// Every checkpoint of `org` the witness holds, read back for verification: each
    /// object's name and what it holds (an object that is not a checkpoint is kept as
    /// the reason, so the verifier reports it).
    pub async fn checkpoints(
        &self,
        org: OrgId,
    ) -> Result<Vec<(String, Result<Checkpoint, String>)>, String> {
        let dir = self.path(&org.to_string());
        let listed: Vec<_> = self
            .store
            .list(Some(&dir))
            .try_collect()
            .await
            .map_err(sink_err)?;
        let mut out = Vec::with_capacity(listed.len());
        for meta in listed {
            let name = meta.location.to_string();
            if !name.ends_with(".json") {
                continue;
            }
            let bytes = self
                .store
                .get(&meta.location)
                .await
                .map_err(sink_err)?
                .bytes()
                .await
                .map_err(sink_err)?;
            let parsed = serde_json::from_slice::<Checkpoint>(&bytes)
                .map_err(|e| format!("is not a checkpoint: {e}"))
                .and_then(|c| {
                    if c.org_id != org {
                        Err(format!("is a checkpoint of another org ({})", c.org_id))
                    } else if !name.ends_with(&format!("{:020}.json", c.seq)) {
                        Err(format!(
                            "holds the checkpoint of seq {}, not the seq its name gives",
                            c.seq
                        ))
                    } else {
                        Ok(c)
                    }
                });
            out.push((name, parsed));
        }
        Ok(out)
    }
}

/// What a witness holds of an org, checked: each checkpoint's `seq` and signed hash.
/// A checkpoint that does not verify under `key` (when given) or is not a checkpoint at
/// all breaks the chain at its seq (the lowest such).
pub async fn witnessed(
    w: &Witness,
    org: OrgId,
    key: Option<&crate::audit::checkpoint::PublicKey>,
) -> Result<Result<BTreeMap<i64, String>, crate::audit::ChainBreak>, String> {
    let mut out = BTreeMap::new();
    let mut worst: Option<crate::audit::ChainBreak> = None;
    for (name, c) in w.checkpoints(org).await? {
        let verdict = c.and_then(|c| match key {
            Some(k) => c.verify(k).map(|()| c),
            None => Ok(c),
        });
        match verdict {
            Ok(c) => {
                out.insert(c.seq, c.hash);
            }
            Err(problem) => {
                // The seq the object's name gives, else 0.
                let seq = name
                    .rsplit('/')
                    .next()
                    .and_then(|f| f.strip_suffix(".json"))
                    .and_then(|n| n.parse().ok())
                    .unwrap_or(0);
                if worst.as_ref().is_none_or(|b| seq < b.seq) {
                    worst = Some(crate::audit::ChainBreak {
                        seq,
                        problem: format!("the witness's checkpoint {name} {problem}"),
                    });
                }
            }
        }
    }
    Ok(match worst {
        Some(b) => Err(b),
        None => Ok(out),
    })
}

/// Checks an S3 sink's settings from the admin API: plain settings and the secret.
pub(crate) fn parse_s3(
    input: S3SinkInput,
    allow_local: bool,
) -> Result<(String, BTreeMap<String, String>, String), CoreError> {
    let field = |field: &'static str, v: &str, max: usize| -> Result<String, CoreError> {
        let v = v.trim();
        if v.is_empty() || v.len() > max || v.chars().any(char::is_control) {
            return Err(CoreError::InvalidField {
                field,
                message: format!("an S3 witness needs '{field}' (1 to {max} characters)"),
            });
        }
        Ok(v.to_string())
    };
    let name = field("name", &input.name, 64)?;
    let bucket = field("bucket", &input.bucket, 63)?;
    if !bucket
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
    {
        return Err(CoreError::InvalidField {
            field: "bucket",
            message: "an S3 bucket name has lower-case letters, digits, '-' and '.'".into(),
        });
    }
    let mut config = BTreeMap::from([
        ("bucket".to_string(), bucket),
        (
            "access_key_id".to_string(),
            field("access_key_id", &input.access_key_id, 128)?,
        ),
        (
            "region".to_string(),
            match input.region.as_deref().map(str::trim) {
                None | Some("") => "us-east-1".to_string(),
                Some(r) => field("region", r, 32)?,
            },
        ),
    ]);
    if let Some(p) = input.prefix.as_deref().map(|p| p.trim().trim_matches('/'))
        && !p.is_empty()
    {
        if p.len() > 256 || p.split('/').any(|s| s.is_empty() || s == "." || s == "..") {
            return Err(CoreError::InvalidField {
                field: "prefix",
                message: "an S3 prefix is up to 256 characters of '/'-separated names, none empty, '.' or '..'".into(),
            });
        }
        config.insert("prefix".into(), p.to_string());
    }
    if let Some(ep) = input.endpoint.filter(|e| !e.trim().is_empty()) {
        let ep = crate::integration::checked_url("s3", "endpoint", ep, allow_local, true)?;
        config.insert("endpoint".into(), ep);
    }
    let secret = field("secret_access_key", &input.secret_access_key, 256)?;
    Ok((name, config, secret))
}
