//! The transports that stream audit records to SIEMs (docs/audit.md, "Streaming"):
//! Splunk's HTTP Event Collector (with indexer acknowledgement when asked), syslog
//! (RFC 5424; octet-counted frames over TLS or TCP, one datagram each over UDP) and
//! signed webhooks; and how a record is shaped for a stream (kinds kept, keys redacted).
//! The cursor and the runs are `engine/streams.rs`'s.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::AsyncWriteExt;

use crate::audit::AuditRecord;
use crate::engine::StreamTarget;
use crate::signing::{EVENT_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, webhook_signature};
use crate::witness::SinkKind;

/// How long HEC's indexer acknowledgement is waited for.
const ACK_WAIT: Duration = Duration::from_secs(10);
const IO_TIMEOUT: Duration = Duration::from_secs(10);

fn http() -> &'static reqwest::Client {
    static HTTP: OnceLock<reqwest::Client> = OnceLock::new();
    HTTP.get_or_init(|| {
        reqwest::Client::builder()
            // A redirect could lead anywhere; the URL was checked, its redirects are not.
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(Duration::from_secs(5))
            .timeout(IO_TIMEOUT)
            .build()
            .unwrap_or_default()
    })
}

/// Whether a failing stream waits before it is tried again: a quarter of how long it
/// has been failing, from 2 s to a minute.
pub(crate) fn resting(t: &StreamTarget, now: i64) -> bool {
    let s = &t.sink;
    let Some(err) = s.last_error_ms else {
        return false;
    };
    let since = s.last_ok_ms.unwrap_or(s.created_ms);
    if err < since {
        return false;
    }
    let wait = ((err - since) / 4).clamp(2_000, 60_000);
    now < err + wait
}

/// The record as the stream sends it: `None` when its kind is filtered out; values of
/// redacted keys replaced (and the record says it was, since its hash no longer checks).
pub(crate) fn shaped(t: &StreamTarget, r: &AuditRecord) -> Option<Value> {
    let list = |k: &str| -> Vec<&str> {
        t.sink
            .config
            .get(k)
            .map(|v| v.split(',').filter(|s| !s.is_empty()).collect())
            .unwrap_or_default()
    };
    let kinds = list("kinds");
    if !kinds.is_empty()
        && !kinds.iter().any(|k| match k.strip_suffix('*') {
            Some(prefix) => r.kind.starts_with(prefix),
            None => r.kind == *k,
        })
    {
        return None;
    }
    let mut v = serde_json::to_value(r).ok()?;
    let redact = list("redact");
    if !redact.is_empty() && redact_in(&mut v["fields"], &redact) {
        v["arx_redacted"] = json!(true);
    }
    Some(v)
}

fn redact_in(v: &mut Value, keys: &[&str]) -> bool {
    let mut any = false;
    match v {
        Value::Object(m) => {
            for (k, x) in m.iter_mut() {
                if keys.iter().any(|r| r.eq_ignore_ascii_case(k)) {
                    *x = json!("[redacted]");
                    any = true;
                } else {
                    any |= redact_in(x, keys);
                }
            }
        }
        Value::Array(a) => {
            for x in a {
                any |= redact_in(x, keys);
            }
        }
        _ => {}
    }
    any
}

/// A test event, sent as records are: says where it came from and that it is a test.
pub(crate) async fn send_test(t: &StreamTarget, now_ms: i64) -> Result<(), String> {
    let event = json!({
        "kind": "arx.test",
        "org_id": t.org.id,
        "seq": 0,
        "ts": crate::audit::format_ts(now_ms),
        "fields": {"message": format!("a test event from ARX to the stream '{}'", t.sink.name)},
    });
    send(t, &[event]).await
}

pub(crate) async fn send(t: &StreamTarget, events: &[Value]) -> Result<(), String> {
    match t.sink.kind {
        SinkKind::Hec => hec(t, events).await,
        SinkKind::Syslog => syslog(t, events).await,
        SinkKind::Webhook => webhook(t, events).await,
        SinkKind::Directory | SinkKind::S3 => Err("not a stream".into()),
    }
}

fn config<'a>(t: &'a StreamTarget, key: &str) -> &'a str {
    t.sink.config.get(key).map_or("", String::as_str)
}

fn secret(t: &StreamTarget, key: &str) -> Result<String, String> {
    t.secrets
        .get(key)
        .map(str::to_string)
        .ok_or_else(|| format!("the stream has no {key}"))
}

/// What a far side answered, for the stream's status: the status and the start of the
/// body (never a secret: those go in headers).
async fn refused(what: &str, r: reqwest::Response) -> String {
    let status = r.status();
    let body: String = r
        .text()
        .await
        .unwrap_or_default()
        .chars()
        .take(200)
        .collect();
    format!("{what} answered {status}: {body}")
}

/// Splunk HEC: the events in one POST to `/services/collector/event`; with `ack`, the
/// batch counts only once `/services/collector/ack` says the indexers have it.
async fn hec(t: &StreamTarget, events: &[Value]) -> Result<(), String> {
    let base = config(t, "url");
    let auth = format!("Splunk {}", secret(t, "token")?);
    let channel = t.sink.id.to_string();
    let mut body = String::new();
    for e in events {
        let time = crate::audit::parse_ts(e["ts"].as_str().unwrap_or_default()) as f64 / 1e3;
        body.push_str(
            &json!({"time": time, "host": "arx", "source": "arx", "sourcetype": "arx:audit",
                    "fields": {"seq": e["seq"], "org_id": e["org_id"]}, "event": e})
            .to_string(),
        );
        body.push('\n');
    }
    let r = http()
        .post(format!("{base}/services/collector/event"))
        .header("authorization", &auth)
        .header("x-splunk-request-channel", &channel)
        .body(body)
        .send()
        .await
        .map_err(|e| format!("HEC {base}: {}", without_url(&e)))?;
    if !r.status().is_success() {
        return Err(refused("HEC", r).await);
    }
    if config(t, "ack") != "true" {
        return Ok(());
    }
    let answer: Value = r.json().await.map_err(|e| format!("HEC's answer: {e}"))?;
    let ack_id = answer["ackId"].as_u64().ok_or(
        "HEC gave no ackId: turn indexer acknowledgement on for the token, or the stream's ack off",
    )?;
    let deadline = tokio::time::Instant::now() + ACK_WAIT;
    loop {
        let r = http()
            .post(format!("{base}/services/collector/ack"))
            .header("authorization", &auth)
            .header("x-splunk-request-channel", &channel)
            .json(&json!({"acks": [ack_id]}))
            .send()
            .await
            .map_err(|e| format!("HEC ack: {}", without_url(&e)))?;
        if !r.status().is_success() {
            return Err(refused("HEC ack", r).await);
        }
        let a: Value = r.json().await.map_err(|e| format!("HEC ack answer: {e}"))?;
        if a["acks"][ack_id.to_string()] == json!(true) {
            return Ok(());
        }
        if tokio::time::Instant::now() > deadline {
            return Err(format!(
                "HEC did not acknowledge batch {ack_id} within {} s; it is sent again",
                ACK_WAIT.as_secs()
            ));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// What went wrong reaching a URL, without the URL's query or anything the server said.
fn without_url(e: &reqwest::Error) -> &'static str {
    if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else {
        "the request failed"
    }
}

/// A signed webhook: the events in one JSON POST, signed as approval webhooks are.
async fn webhook(t: &StreamTarget, events: &[Value]) -> Result<(), String> {
    let url = config(t, "url");
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let body = json!({
        "id": uuid::Uuid::new_v4(),
        "event": "audit.records",
        "sent_at": now,
        "org_id": t.org.id,
        "records": events,
    })
    .to_string()
    .into_bytes();
    let r = http()
        .post(url)
        .header("content-type", "application/json")
        .header(
            SIGNATURE_HEADER,
            webhook_signature(&secret(t, "secret")?, &body),
        )
        .header(TIMESTAMP_HEADER, now.to_string())
        .header(EVENT_HEADER, "audit.records")
        .body(body)
        .send()
        .await
        .map_err(|e| format!("webhook {url}: {}", without_url(&e)))?;
    if !r.status().is_success() {
        return Err(refused("the webhook", r).await);
    }
    Ok(())
}

/// One RFC 5424 message: facility 13 (log audit), severity 6 (informational); the
/// record's kind as MSGID; its org, seq and hashes as structured data; the record as
/// JSON for MSG.
pub fn syslog_message(org_slug: &str, e: &Value) -> String {
    let sd = |v: &Value| {
        v.as_str()
            .map(str::to_string)
            .unwrap_or_else(|| v.to_string())
            .replace('\\', "\\\\")
            .replace('"', "\\\"")
            .replace(']', "\\]")
    };
    let msgid: String = e["kind"]
        .as_str()
        .unwrap_or("-")
        .chars()
        .filter(|c| c.is_ascii_graphic())
        .take(32)
        .collect();
    format!(
        "<110>1 {} arx arx - {} [arx@32473 org=\"{}\" seq=\"{}\" hash=\"{}\" prev_hash=\"{}\"] {}",
        e["ts"].as_str().unwrap_or("-"),
        if msgid.is_empty() { "-".into() } else { msgid },
        sd(&json!(org_slug)),
        sd(&e["seq"]),
        sd(e.get("hash").unwrap_or(&json!("-"))),
        sd(e.get("prev_hash").unwrap_or(&json!("-"))),
        e
    )
}

async fn syslog(t: &StreamTarget, events: &[Value]) -> Result<(), String> {
    let host = config(t, "host").to_string();
    let port: u16 = config(t, "port")
        .parse()
        .map_err(|_| "the stream has no port")?;
    let messages: Vec<String> = events
        .iter()
        .map(|e| syslog_message(&t.org.slug, e))
        .collect();
    let io = |e: std::io::Error| format!("syslog {host}:{port}: {e}");
    match config(t, "transport") {
        "udp" => {
            let sock = tokio::net::UdpSocket::bind(("0.0.0.0", 0))
                .await
                .map_err(io)?;
            for m in &messages {
                sock.send_to(m.as_bytes(), (host.as_str(), port))
                    .await
                    .map_err(io)?;
            }
            Ok(())
        }
        transport => {
            let mut framed = Vec::new();
            for m in &messages {
                framed.extend_from_slice(format!("{} {m}", m.len()).as_bytes());
            }
            let connect = tokio::net::TcpStream::connect((host.as_str(), port));
            let tcp = tokio::time::timeout(Duration::from_secs(5), connect)
                .await
                .map_err(|_| format!("syslog {host}:{port}: could not connect in 5 s"))?
                .map_err(io)?;
            let write = async {
                if transport == "tls" {
                    let mut tls = tls_connector(config(t, "ca_pem"))?
                        .connect(server_name(&host)?, tcp)
                        .await
                        .map_err(io)?;
                    tls.write_all(&framed).await.map_err(io)?;
                    tls.flush().await.map_err(io)?;
                    tls.shutdown().await.map_err(io)
                } else {
                    let mut tcp = tcp;
                    tcp.write_all(&framed).await.map_err(io)?;
                    tcp.flush().await.map_err(io)?;
                    tcp.shutdown().await.map_err(io)
                }
            };
            tokio::time::timeout(IO_TIMEOUT, write)
                .await
                .map_err(|_| format!("syslog {host}:{port}: timed out"))?
        }
    }
}

fn server_name(host: &str) -> Result<rustls_pki_types::ServerName<'static>, String> {
    rustls_pki_types::ServerName::try_from(host.to_string())
        .map_err(|_| format!("'{host}' is not a host name TLS can check"))
}

/// TLS to the syslog server: its certificate must chain to `ca_pem` when given, else to
/// the public roots.
fn tls_connector(ca_pem: &str) -> Result<tokio_rustls::TlsConnector, String> {
    use rustls_pki_types::CertificateDer;
    use rustls_pki_types::pem::PemObject;
    use tokio_rustls::rustls;
    let mut roots = rustls::RootCertStore::empty();
    if ca_pem.is_empty() {
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    } else {
        for c in CertificateDer::pem_slice_iter(ca_pem.as_bytes()) {
            let c = c.map_err(|e| format!("the stream's CA certificate: {e}"))?;
            roots
                .add(c)
                .map_err(|e| format!("the stream's CA certificate: {e}"))?;
        }
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| e.to_string())?
    .with_root_certificates(roots)
    .with_no_client_auth();
    Ok(tokio_rustls::TlsConnector::from(Arc::new(config)))
}
