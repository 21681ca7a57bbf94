//! Streaming the audit trail to SIEMs (issue 13, point 6): a Splunk HEC receiver that
//! checks the token and acknowledges, a syslog receiver that parses RFC 5424 over TCP
//! and over TLS (and one datagram per record over UDP), and a signed-webhook receiver,
//! each taken down for a while and brought back: every record arrives once, in order,
//! with its seq and hash; a batch HEC does not acknowledge is sent again, same seqs.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use arx_testkit::backend_tests;
use axum::extract::State;
use axum::http::HeaderMap;
use serde_json::{Value, json};
use tokio::io::AsyncReadExt;

use crate::harness::{TestServer, free_port};

fn read() -> Value {
    json!({"connector": "crowdstrike", "operation": "detections:read", "params": {"limit": 5}})
}

async fn calls(s: &TestServer, n: usize) {
    for _ in 0..n {
        assert_eq!(s.execute(&s.agent_key("triage-agent"), read()).await.0, 200);
    }
}

async fn add(s: &TestServer, body: Value) -> Value {
    let (code, v) = s.admin().post("/v1/admin/audit/streams", body).await;
    assert_eq!(code, 201, "{}: {v}", s.backend);
    v
}

async fn stream(s: &TestServer, name: &str) -> Value {
    let (code, v) = s.admin_get("/v1/admin/audit/streams").await;
    assert_eq!(code, 200, "{v}");
    v["streams"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["name"] == name)
        .cloned()
        .unwrap()
}

/// Waits until the stream has caught up with the chain (lag 0), or fails.
async fn caught_up(s: &TestServer, name: &str) -> Value {
    for _ in 0..150 {
        let v = stream(s, name).await;
        if v["lag_records"] == 0 {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!(
        "{}: stream {name} never caught up: {}",
        s.backend,
        stream(s, name).await
    );
}

/// Waits until the stream says it failed.
async fn failing(s: &TestServer, name: &str) -> Value {
    for _ in 0..100 {
        let v = stream(s, name).await;
        if v["last_error"].is_string() {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("{}: stream {name} never failed", s.backend);
}

/// The records each receiver got, in arrival order: one list, kept across restarts.
type Got = Arc<Mutex<Vec<Value>>>;

/// Every seq from `first` to the head exactly once, in order, each chained to the one
/// before by its hash.
fn once_in_order(got: &[Value], first: i64, head: i64) {
    let seqs: Vec<i64> = got.iter().map(|r| r["seq"].as_i64().unwrap()).collect();
    assert_eq!(seqs, (first..=head).collect::<Vec<_>>());
    for w in got.windows(2) {
        assert_eq!(w[1]["prev_hash"], w[0]["hash"]);
    }
}

async fn head(s: &TestServer) -> i64 {
    s.audit().await.last().unwrap()["seq"].as_i64().unwrap()
}

/// A receiver on a fixed port that the test can take down and bring back.
struct Receiver {
    port: u16,
    task: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl Receiver {
    fn new() -> Receiver {
        Receiver {
            port: free_port(),
            task: Mutex::new(None),
        }
    }

    fn down(&self) {
        if let Some(t) = self.task.lock().unwrap().take() {
            t.abort();
        }
    }

    async fn http(&self, app: axum::Router) {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", self.port))
            .await
            .unwrap();
        let t = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        *self.task.lock().unwrap() = Some(t);
    }

    /// Syslog over TCP (or TLS with `tls`): octet-counted RFC 5424 frames.
    async fn syslog(&self, got: Got, tls: Option<tokio_rustls::TlsAcceptor>) {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", self.port))
            .await
            .unwrap();
        let t = tokio::spawn(async move {
            while let Ok((conn, _)) = listener.accept().await {
                let got = got.clone();
                let tls = tls.clone();
                tokio::spawn(async move {
                    let mut bytes = Vec::new();
                    match tls {
                        Some(a) => {
                            let Ok(mut c) = a.accept(conn).await else {
                                return;
                            };
                            let _ = c.read_to_end(&mut bytes).await;
                        }
                        None => {
                            let mut c = conn;
                            let _ = c.read_to_end(&mut bytes).await;
                        }
                    }
                    let frames = frames(&String::from_utf8(bytes).unwrap());
                    got.lock()
                        .unwrap()
                        .extend(frames.iter().map(|f| parse_5424(f)));
                });
            }
        });
        *self.task.lock().unwrap() = Some(t);
    }
}

/// RFC 6587 octet counting: `LEN SP MSG`, repeated.
fn frames(mut s: &str) -> Vec<String> {
    let mut out = vec![];
    while let Some((len, rest)) = s.split_once(' ') {
        let n: usize = len.parse().expect("an octet count");
        out.push(rest[..n].to_string());
        s = &rest[n..];
    }
    assert!(s.is_empty(), "trailing bytes: {s}");
    out
}

/// An RFC 5424 message: the header's fields, the structured data's seq and hash, the
/// record from MSG; checks they agree.
fn parse_5424(m: &str) -> Value {
    let (pri, rest) = m.split_once(' ').unwrap();
    assert_eq!(pri, "<110>1", "{m}");
    let mut parts = rest.splitn(5, ' ');
    let ts = parts.next().unwrap();
    assert_eq!(
        (parts.next(), parts.next(), parts.next()),
        (Some("arx"), Some("arx"), Some("-"))
    );
    let rest = parts.next().unwrap();
    let (msgid, rest) = rest.split_once(' ').unwrap();
    let (sd, msg) = rest.split_once("] ").unwrap();
    assert!(sd.starts_with("[arx@32473 org=\"demo\" seq=\""), "{sd}");
    let record: Value = serde_json::from_str(msg).unwrap();
    assert_eq!(record["ts"], ts);
    assert_eq!(record["kind"], msgid);
    assert!(sd.contains(&format!("seq=\"{}\"", record["seq"])), "{sd}");
    assert!(
        sd.contains(&format!("hash=\"{}\"", record["hash"].as_str().unwrap())),
        "{sd}"
    );
    record
}

#[derive(Clone)]
struct Hec {
    got: Got,
    acks: Arc<Mutex<u64>>,
    /// Whether the indexers acknowledge (off: every ack query says not yet).
    acking: Arc<std::sync::atomic::AtomicBool>,
}

async fn hec_event(
    State(h): State<Hec>,
    headers: HeaderMap,
    body: String,
) -> (axum::http::StatusCode, axum::Json<Value>) {
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some("Splunk hec-token-1") {
        return (
            axum::http::StatusCode::FORBIDDEN,
            axum::Json(json!({"text": "Invalid token", "code": 4})),
        );
    }
    assert!(headers.contains_key("x-splunk-request-channel"));
    let mut de = serde_json::Deserializer::from_str(&body).into_iter::<Value>();
    let mut got = h.got.lock().unwrap();
    while let Some(Ok(e)) = de.next() {
        assert_eq!(e["sourcetype"], "arx:audit");
        assert_eq!(e["fields"]["seq"], e["event"]["seq"]);
        got.push(e["event"].clone());
    }
    let mut n = h.acks.lock().unwrap();
    *n += 1;
    (
        axum::http::StatusCode::OK,
        axum::Json(json!({"text": "Success", "code": 0, "ackId": *n})),
    )
}

async fn hec_ack(State(h): State<Hec>, axum::Json(b): axum::Json<Value>) -> axum::Json<Value> {
    let n = *h.acks.lock().unwrap();
    let acking = h.acking.load(std::sync::atomic::Ordering::SeqCst);
    let acks: serde_json::Map<String, Value> = b["acks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|id| (id.to_string(), json!(acking && id.as_u64().unwrap() <= n)))
        .collect();
    axum::Json(json!({"acks": acks}))
}

fn hec_app(h: Hec) -> axum::Router {
    axum::Router::new()
        .route("/services/collector/event", axum::routing::post(hec_event))
        .route("/services/collector/ack", axum::routing::post(hec_ack))
        .with_state(h)
}

backend_tests! {
    async fn hec_gets_every_record_once_in_order_through_an_outage_with_acknowledgement(s: TestServer) {
        let b = s.backend;
        let got: Got = Arc::default();
        let hec = Hec { got: got.clone(), acks: Arc::default(), acking: Arc::new(true.into()) };
        let r = Receiver::new();
        r.http(hec_app(hec.clone())).await;
        let before = head(&s).await;
        let v = add(&s, json!({"name": "splunk", "kind": "hec", "url": format!("http://127.0.0.1:{}", r.port),
                                "token": "hec-token-1", "ack": true})).await;
        assert!(!v.to_string().contains("hec-token-1"), "{v}");
        calls(&s, 3).await;
        caught_up(&s, "splunk").await;
        // The collector goes away; records wait, and the stream says why.
        r.down();
        calls(&s, 4).await;
        let down = failing(&s, "splunk").await;
        assert!(down["lag_records"].as_i64().unwrap() >= 4, "{b}: {down}");
        // Back: everything arrives, once, in order, chained.
        r.http(hec_app(hec.clone())).await;
        let up = caught_up(&s, "splunk").await;
        assert!(up["last_error"].is_null(), "{up}");
        let last = head(&s).await;
        once_in_order(&got.lock().unwrap(), before + 1, last);
        // The test event goes the same way.
        let id = v["id"].as_str().unwrap();
        let (code, t) = s.admin().post(&format!("/v1/admin/audit/streams/{id}/test"), json!({})).await;
        assert_eq!((code, &t["delivered"]), (200, &json!(true)), "{t}");
        assert_eq!(got.lock().unwrap().last().unwrap()["kind"], "arx.test");
        // A wrong token is refused by the collector, and the stream says so.
        let bad = add(&s, json!({"name": "bad-token", "kind": "hec", "url": format!("http://127.0.0.1:{}", r.port),
                                 "token": "wrong"})).await;
        let (_, t) = s.admin().post(&format!("/v1/admin/audit/streams/{}/test", bad["id"].as_str().unwrap()), json!({})).await;
        assert_eq!(t["delivered"], false);
        assert!(t["error"].as_str().unwrap().contains("403"), "{t}");
        assert!(!t.to_string().contains("wrong"), "{t}");
        let (code, _) = s.admin().delete(&format!("/v1/admin/audit/streams/{}", bad["id"].as_str().unwrap())).await;
        assert_eq!(code, 204);

        // Indexers that take a batch but do not acknowledge it: the batch is not counted
        // and is sent again, with the same seqs, until it is acknowledged.
        hec.acking.store(false, std::sync::atomic::Ordering::SeqCst);
        let from = head(&s).await;
        calls(&s, 1).await;
        let stuck = failing(&s, "splunk").await;
        assert!(stuck["last_error"].as_str().unwrap().contains("did not acknowledge"), "{stuck}");
        assert!(stuck["lag_records"].as_i64().unwrap() >= 1, "{stuck}");
        hec.acking.store(true, std::sync::atomic::Ordering::SeqCst);
        caught_up(&s, "splunk").await;
        let last = head(&s).await;
        let got = got.lock().unwrap().clone();
        let after: Vec<i64> = got.iter().filter_map(|r| r["seq"].as_i64()).filter(|q| *q > from).collect();
        // Each seq arrived at least twice (unconfirmed, then again), and in order each time.
        for q in from + 1..=last {
            assert!(after.iter().filter(|x| **x == q).count() >= 2, "{b}: seq {q} in {after:?}");
        }
        r.down();
    }

    async fn syslog_over_udp_sends_one_datagram_per_record(s: TestServer) {
        let sock = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let port = sock.local_addr().unwrap().port();
        let got: Got = Arc::default();
        let g = got.clone();
        let task = tokio::spawn(async move {
            let mut buf = vec![0u8; 65_536];
            while let Ok(n) = sock.recv(&mut buf).await {
                g.lock().unwrap().push(parse_5424(std::str::from_utf8(&buf[..n]).unwrap()));
            }
        });
        let before = head(&s).await;
        let v = add(&s, json!({"name": "udp", "kind": "syslog", "url": format!("udp://127.0.0.1:{port}")})).await;
        assert_eq!(v["kind"], "syslog", "{v}");
        calls(&s, 2).await;
        caught_up(&s, "udp").await;
        let last = head(&s).await;
        // Loopback drops nothing: every record, in order.
        for _ in 0..50 {
            if got.lock().unwrap().len() as i64 >= last - before {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        once_in_order(&got.lock().unwrap(), before + 1, last);
        task.abort();
    }

    async fn syslog_over_tcp_and_tls_gets_every_record_once_in_order_filtered_and_redacted(s: TestServer) {
        let b = s.backend;
        // Over TCP: every kind, through an outage.
        let got: Got = Arc::default();
        let r = Receiver::new();
        r.syslog(got.clone(), None).await;
        let before = head(&s).await;
        add(&s, json!({"name": "syslog", "kind": "syslog", "url": format!("tcp://127.0.0.1:{}", r.port)})).await;
        calls(&s, 2).await;
        caught_up(&s, "syslog").await;
        r.down();
        calls(&s, 3).await;
        failing(&s, "syslog").await;
        r.syslog(got.clone(), None).await;
        caught_up(&s, "syslog").await;
        let last = head(&s).await;
        once_in_order(&got.lock().unwrap(), before + 1, last);
        r.down();

        // Over TLS, to a server whose certificate chains to the CA given: only intercepts,
        // with `limit` redacted.
        let dir = s.dir.join("tls");
        let (ca, acceptor) = tls_server(&dir);
        let tls_got: Got = Arc::default();
        let t = Receiver::new();
        t.syslog(tls_got.clone(), Some(acceptor)).await;
        add(&s, json!({"name": "syslog-tls", "kind": "syslog", "url": format!("tls://127.0.0.1:{}", t.port),
                       "ca_pem": ca, "kinds": ["execute.intercept"], "redact": ["limit"]})).await;
        calls(&s, 2).await;
        caught_up(&s, "syslog-tls").await;
        let tls_got = tls_got.lock().unwrap().clone();
        assert_eq!(tls_got.len(), 2, "{b}: {tls_got:?}");
        for r in &tls_got {
            assert_eq!(r["kind"], "execute.intercept");
            assert_eq!(r["fields"]["params"]["limit"], "[redacted]", "{r}");
            assert_eq!(r["arx_redacted"], true);
        }
        t.down();
        // A server that shows a certificate of another CA is refused.
        let other = s.dir.join("tls-other");
        let (_, wrong) = tls_server(&other);
        let w = Receiver::new();
        w.syslog(Arc::default(), Some(wrong)).await;
        let (ca, _) = tls_server(&dir);
        let v = add(&s, json!({"name": "syslog-mitm", "kind": "syslog", "url": format!("tls://127.0.0.1:{}", w.port), "ca_pem": ca})).await;
        let (_, res) = s.admin().post(&format!("/v1/admin/audit/streams/{}/test", v["id"].as_str().unwrap()), json!({})).await;
        assert_eq!(res["delivered"], false, "{res}");
        w.down();
    }

    async fn a_signed_webhook_gets_the_records_and_stream_settings_are_checked(s: TestServer) {
        let b = s.backend;
        let got: Got = Arc::default();
        let r = Receiver::new();
        let secret = "webhook-secret-1";
        let g = got.clone();
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(move |headers: HeaderMap, body: axum::body::Bytes| {
                let g = g.clone();
                async move {
                    let sig = headers["x-arx-signature"].to_str().unwrap().to_string();
                    assert_eq!(sig, arx_core::signing::webhook_signature(secret, &body));
                    let v: Value = serde_json::from_slice(&body).unwrap();
                    assert_eq!(v["event"], "audit.records");
                    g.lock().unwrap().extend(v["records"].as_array().unwrap().iter().cloned());
                    axum::http::StatusCode::NO_CONTENT
                }
            }),
        );
        r.http(app).await;
        let before = head(&s).await;
        add(&s, json!({"name": "hook", "kind": "webhook", "url": format!("http://127.0.0.1:{}/hook", r.port),
                       "secret": secret})).await;
        calls(&s, 2).await;
        caught_up(&s, "hook").await;
        let last = head(&s).await;
        once_in_order(&got.lock().unwrap(), before + 1, last);
        r.down();
        let added = s.audit_of("witness.sink_added").await;
        assert!(!added.iter().any(|a| a.to_string().contains(secret)), "{b}");

        // Bad settings name their field; only admins add; another org cannot remove.
        for (field, body) in [
            ("kind", json!({"name": "x", "kind": "kafka", "url": "https://x.example"})),
            ("url", json!({"name": "x", "kind": "syslog", "url": "tcp://127.0.0.1"})),
            ("url", json!({"name": "x", "kind": "syslog", "url": "ftp://127.0.0.1:514"})),
            ("token", json!({"name": "x", "kind": "hec", "url": "https://splunk.example.com:8088"})),
            ("kinds", json!({"name": "x", "kind": "webhook", "url": "https://x.example", "secret": "s", "kinds": ["a b"]})),
            ("from", json!({"name": "x", "kind": "webhook", "url": "https://x.example", "secret": "s", "from": "yesterday"})),
            ("name", json!({"name": "x".repeat(65), "kind": "webhook", "url": "https://x.example", "secret": "s"})),
            ("url", json!({"name": "x", "kind": "webhook", "url": format!("https://x.example/{}", "a".repeat(3000)), "secret": "s"})),
            ("secret", json!({"name": "x", "kind": "webhook", "url": "https://x.example", "secret": "s".repeat(3000)})),
            ("redact", json!({"name": "x", "kind": "webhook", "url": "https://x.example", "secret": "s", "redact": vec!["k"; 51]})),
        ] {
            let (code, e) = s.admin().post("/v1/admin/audit/streams", body).await;
            assert_eq!(code, 400, "{b}: {e}");
            assert_eq!(e["error"]["field"], field, "{e}");
        }
        let (code, _) = s.admin().post("/v1/admin/audit/streams",
            json!({"name": "hook", "kind": "webhook", "url": "https://x.example", "secret": "s"})).await;
        assert_eq!(code, 409);
        let auditor = s.user_token("stream-auditor@demo.test", arx_core::model::Role::Auditor).await;
        let (code, v) = s.client(&auditor).get("/v1/admin/audit/streams").await;
        assert_eq!(code, 200);
        let id = v["streams"][0]["id"].as_str().unwrap().to_string();
        let (code, _) = s.client(&auditor).post("/v1/admin/audit/streams",
            json!({"name": "y", "kind": "webhook", "url": "https://x.example", "secret": "s"})).await;
        assert_eq!(code, 403);
        let (code, _) = s.client(&auditor).post(&format!("/v1/admin/audit/streams/{id}/test"), json!({})).await;
        assert_eq!(code, 403);
        let other = s.other_org_admin().await;
        let (code, _) = s.client(&other).delete(&format!("/v1/admin/audit/streams/{id}")).await;
        assert_eq!(code, 404);
        let (code, _) = s.client(&other).post(&format!("/v1/admin/audit/streams/{id}/test"), json!({})).await;
        assert_eq!(code, 404);
        let (code, _) = s.admin().delete(&format!("/v1/admin/audit/streams/{id}")).await;
        assert_eq!(code, 204);
    }
}

/// A CA and a server certificate for 127.0.0.1 it signed, made with openssl in `dir`:
/// the CA's PEM and an acceptor presenting the server certificate.
fn tls_server(dir: &std::path::Path) -> (String, tokio_rustls::TlsAcceptor) {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer};
    use tokio_rustls::rustls;
    std::fs::create_dir_all(dir).unwrap();
    let run = |args: &[&str]| {
        let out = std::process::Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .expect("openssl runs");
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    if !dir.join("server.pem").exists() {
        run(&[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            "2",
            "-subj",
            "/CN=ARX test CA",
        ]);
        run(&[
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
            "-subj",
            "/CN=127.0.0.1",
        ]);
        std::fs::write(
            dir.join("ext.cnf"),
            "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n",
        )
        .unwrap();
        run(&[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.pem",
            "-days",
            "2",
            "-extfile",
            "ext.cnf",
        ]);
    }
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(dir.join("server.pem"))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let key = PrivateKeyDer::from_pem_file(dir.join("server.key")).unwrap();
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .unwrap();
    (
        std::fs::read_to_string(dir.join("ca.pem")).unwrap(),
        tokio_rustls::TlsAcceptor::from(Arc::new(config)),
    )
}

backend_tests! {
    async fn the_consoles_witness_and_stream_actions_refuse_other_roles_and_other_orgs(s: TestServer) {
        let b = s.backend;
        let demo = s.demo();
        // A webhook stream that receives no record (its kinds match none): whatever
        // reaches it is a test event.
        let posts: Got = Arc::default();
        let p = posts.clone();
        let r = Receiver::new();
        r.http(axum::Router::new().route("/hook", axum::routing::post(move |body: String| {
            let p = p.clone();
            async move {
                p.lock().unwrap().push(json!(body));
                axum::http::StatusCode::NO_CONTENT
            }
        })))
        .await;
        let stream = add(&s, json!({"name": "quiet", "kind": "webhook", "url": format!("http://127.0.0.1:{}/hook", r.port),
                                    "secret": "s", "kinds": ["nothing.here"]})).await;
        let sid = stream["id"].as_str().unwrap().to_string();
        let (code, bucket) = s.admin().post("/v1/admin/audit/witness/sinks",
            json!({"name": "bucket", "bucket": "arx-witness", "endpoint": "http://127.0.0.1:9",
                   "access_key_id": "AKIA", "secret_access_key": "k"})).await;
        assert_eq!(code, 201, "{bucket}");
        let wid = bucket["id"].as_str().unwrap().to_string();
        calls(&s, 1).await;

        // The server functions' addresses, as the admin's pages post to them.
        let admin = s.console_session(&demo.admin_email, &demo.admin_password).await;
        let pages = s.page_html("/audit/witness", &admin).await + &s.page_html("/audit/streams", &admin).await;
        let action = |name: &str| -> String {
            let at = pages.find(&format!("action=\"/api/{name}")).unwrap_or_else(|| panic!("{name} form"));
            let rest = &pages[at + 8..];
            rest[..rest.find('"').unwrap()].to_string()
        };
        let long = "x".repeat(10_000);
        let forms: Vec<(String, Vec<(&str, &str)>)> = vec![
            (action("checkpoint_now"), vec![]),
            (action("add_witness"), vec![("name", "mine"), ("bucket", "mine"), ("access_key_id", "a"), ("secret_access_key", "s")]),
            (action("remove_witness"), vec![("id", wid.as_str())]),
            (action("add_stream"), vec![("name", "mine"), ("kind", "webhook"), ("url", "https://x.example"), ("secret", "s")]),
            (action("test_stream"), vec![("id", sid.as_str())]),
            (action("remove_stream"), vec![("id", sid.as_str())]),
        ];
        let post = |cookie: &str, url: &str, form: &[(&str, &str)]| {
            let req = s.http.post(s.url(url)).header("cookie", cookie).header("origin", s.url("")).form(form);
            async move { req.send().await.unwrap().status().as_u16() }
        };
        for (email, password) in [
            (demo.reviewer_email.clone(), demo.reviewer_password.clone()),
            (demo.auditor_email.clone(), demo.auditor_password.clone()),
        ] {
            let cookie = s.console_session(&email, &password).await;
            for (url, form) in &forms {
                let code = post(&cookie, url, form).await;
                assert!(code < 500, "{b}: {email} {url}: {code}");
            }
        }
        // The admin's own form refuses a name far too long.
        let form = [("name", long.as_str()), ("kind", "webhook"), ("url", "https://x.example"), ("secret", "s")];
        let code = post(&admin, &action("add_stream"), &form).await;
        assert!(code < 500, "{b}: {code}");

        // Nothing changed: no checkpoint, both sinks there, no test event, no new sink.
        let st = status_of_witness(&s).await;
        assert!(st["checkpoints"].as_array().unwrap().is_empty(), "{b}: {st}");
        assert!(st["sinks"].as_array().unwrap().iter().any(|x| x["name"] == "bucket"), "{st}");
        let (_, streams) = s.admin_get("/v1/admin/audit/streams").await;
        let names: Vec<&str> = streams["streams"].as_array().unwrap().iter().map(|x| x["name"].as_str().unwrap()).collect();
        assert_eq!(names, vec!["quiet"], "{b}");
        assert!(posts.lock().unwrap().is_empty(), "{b}: a refused test event was sent");
        // The same form, posted by the admin, does send one: the refusals above were
        // the roles', not a wrong form.
        let code = post(&admin, &action("test_stream"), &[("id", sid.as_str())]).await;
        assert!(code < 400, "{b}: {code}");
        assert_eq!(posts.lock().unwrap().len(), 1, "{b}");
        r.down();
    }
}

async fn status_of_witness(s: &TestServer) -> Value {
    let (code, v) = s.admin_get("/v1/admin/audit/witness").await;
    assert_eq!(code, 200, "{v}");
    v
}
