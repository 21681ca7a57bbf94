//! Signed checkpoints and their witnesses (issue 13, points 4 and 5): a checkpoint is
//! signed, recorded in the chain and written create-only to the server's directory and
//! to an S3-compatible bucket (moto, a real S3 server, behind a proxy the test cuts to
//! make an outage); `arx audit verify --export --witness --public-key` checks an export
//! with no database and names the seq of a truncated tail, a rewritten tail and a
//! forged checkpoint.

use std::path::{Path, PathBuf};

use arx_core::audit::checkpoint::{Checkpoint, PrivateKey};
use arx_core::audit::{AuditRecord, compute_hash, export_line};
use arx_testkit::backend_tests;
use serde_json::{Value, json};

use crate::audit_cli::arx;
use crate::harness::{TestServer, free_port, repo};

fn read() -> Value {
    json!({"connector": "crowdstrike", "operation": "detections:read", "params": {"limit": 5}})
}

async fn calls(s: &TestServer, n: usize) {
    for _ in 0..n {
        assert_eq!(s.execute(&s.agent_key("triage-agent"), read()).await.0, 200);
    }
}

/// `POST /v1/admin/audit/witness/checkpoint`: the seq signed, if any.
async fn checkpoint_now(s: &TestServer) -> Option<i64> {
    let (code, b) = s
        .admin()
        .post("/v1/admin/audit/witness/checkpoint", json!({}))
        .await;
    assert_eq!(code, 200, "{b}");
    b["checkpoint"]["seq"].as_i64()
}

async fn status(s: &TestServer) -> Value {
    let (code, b) = s.admin_get("/v1/admin/audit/witness").await;
    assert_eq!(code, 200, "{b}");
    b
}

fn sink<'a>(status: &'a Value, kind: &str) -> &'a Value {
    status["sinks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind} sink in {status}"))
}

async fn public_key(s: &TestServer) -> PathBuf {
    let r = s
        .http
        .get(s.url("/v1/admin/audit/public-key.pem"))
        .bearer_auth(s.admin_token())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let pem = r.text().await.unwrap();
    assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----"), "{pem}");
    let path = s.dir.join("arx-demo.pem");
    std::fs::write(&path, pem).unwrap();
    path
}

fn export(s: &TestServer, name: &str) -> PathBuf {
    let file = s.dir.join(name);
    let (code, out) = arx(
        s,
        &[
            "audit",
            "export",
            "--org",
            "demo",
            "--out",
            file.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 0, "{out}");
    file
}

fn verify(s: &TestServer, export: &Path, witness: &str, key: &Path) -> (i32, String) {
    arx(
        s,
        &[
            "audit",
            "verify",
            "--export",
            export.to_str().unwrap(),
            "--witness",
            witness,
            "--public-key",
            key.to_str().unwrap(),
        ],
    )
}

fn records(file: &Path) -> Vec<AuditRecord> {
    std::fs::read_to_string(file)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn write_records(path: &Path, rs: &[AuditRecord]) {
    let text: String = rs.iter().map(|r| export_line(r).unwrap() + "\n").collect();
    std::fs::write(path, text).unwrap();
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &to.join(e.file_name()));
        } else {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

backend_tests! {
    async fn checkpoints_are_signed_witnessed_and_catch_a_cut_rewritten_or_forged_tail(s: TestServer) {
        let b = s.backend;
        calls(&s, 3).await;
        let first = checkpoint_now(&s).await.expect("the chain moved");
        // The checkpoint record is the tip: nothing moved since.
        assert_eq!(checkpoint_now(&s).await, None, "{b}");
        calls(&s, 3).await;
        let second = checkpoint_now(&s).await.expect("the chain moved");
        assert!(second > first + 3, "{b}: {first} then {second}");

        let st = status(&s).await;
        let org = s.audit().await[0]["org_id"].as_str().unwrap().to_string();
        let dir = sink(&st, "directory");
        assert_eq!(dir["cursor_seq"], second, "{b}: {st}");
        assert_eq!(dir["pending"], 0, "{b}");
        assert!(dir["last_ok_at"].is_string() && dir["last_error"].is_null(), "{st}");
        assert_eq!(st["checkpoints"][0]["seq"], second);
        // Each checkpoint record is in the chain, and in the witness under its seq.
        let kinds: Vec<Value> = s.audit_of("audit.checkpoint").await;
        assert_eq!(kinds.len(), 2, "{b}");
        assert_eq!(kinds[1]["seq"], second);
        assert_eq!(kinds[1]["fields"]["previous_seq"], first);
        let witness = s.dir.join("witness");
        let file = witness.join(&org).join(format!("{second:020}.json"));
        let c: Checkpoint = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
        assert_eq!((c.seq, c.hash.as_str()), (second, kinds[1]["hash"].as_str().unwrap()));

        let key = public_key(&s).await;
        let full = export(&s, "full.ndjson");
        let w = witness.to_str().unwrap();
        let (code, out) = verify(&s, &full, w, &key);
        assert_eq!(code, 0, "{b}: {out}");
        assert!(out.contains("2 checkpoints matched") && out.contains("signatures valid"), "{out}");
        // A mistyped witness directory is an error, not an empty witness, and is not made.
        let typo = s.dir.join("witnes");
        let (code, out) = verify(&s, &full, typo.to_str().unwrap(), &key);
        assert_eq!(code, 1, "{b}: {out}");
        assert!(out.contains("no witness directory"), "{out}");
        assert!(!typo.exists());
        // Gzipped, the same.
        let gz = s.dir.join("full.ndjson.gz");
        let (code, out) = arx(&s, &["audit", "export", "--org", "demo", "--out", gz.to_str().unwrap()]);
        assert_eq!(code, 0, "{out}");
        let (code, out) = verify(&s, &gz, w, &key);
        assert_eq!(code, 0, "{b}: {out}");

        let rs = records(&full);
        // 1. A truncated tail: the copy stops before the newest checkpoint.
        let cut = s.dir.join("cut.ndjson");
        write_records(&cut, &rs[..usize::try_from(second).unwrap() - 1]);
        let (code, out) = verify(&s, &cut, w, &key);
        assert_eq!(code, 1, "{b}: {out}");
        assert!(out.contains(&format!("seq {second}")) && out.contains("truncated"), "{out}");
        // Without the witness, the same copy passes: only the witness can tell.
        let (code, _) = arx(&s, &["audit", "verify", "--export", cut.to_str().unwrap()]);
        assert_eq!(code, 0);

        // 2. A tail rewritten after the first checkpoint and chained again, hash by hash:
        // the chain rules hold, the second checkpoint does not.
        let mut forged = rs.clone();
        let at = usize::try_from(first).unwrap() + 1;
        forged[at].fields["rewritten"] = json!(true);
        for i in at..forged.len() {
            forged[i].prev_hash = forged[i - 1].hash.clone();
            forged[i].hash = compute_hash(&forged[i]).unwrap();
        }
        let rewritten = s.dir.join("rewritten.ndjson");
        write_records(&rewritten, &forged);
        let (code, out) = arx(&s, &["audit", "verify", "--export", rewritten.to_str().unwrap()]);
        assert_eq!(code, 0, "the rewrite keeps the chain rules: {out}");
        let (code, out) = verify(&s, &rewritten, w, &key);
        assert_eq!(code, 1, "{b}: {out}");
        assert!(out.contains(&format!("seq {second}")) && out.contains("rewritten"), "{out}");

        // 3. A forged checkpoint: a witness copy whose newest checkpoint claims the
        // rewritten tail's hash, with the old signature; and one signed by another key.
        let fake = s.dir.join("fake-witness");
        copy_dir(&witness, &fake);
        let mut c2 = c.clone();
        c2.hash = forged[usize::try_from(second).unwrap() - 1].hash.clone();
        std::fs::write(fake.join(&org).join(format!("{second:020}.json")), c2.to_bytes().unwrap()).unwrap();
        let (code, out) = verify(&s, &rewritten, fake.to_str().unwrap(), &key);
        assert_eq!(code, 1, "{b}: {out}");
        assert!(out.contains(&format!("seq {second}")) && out.contains("does not verify"), "{out}");
        let mallory = PrivateKey::generate();
        let c3 = mallory.sign(c.org_id, second, &c2.hash, 0).unwrap();
        std::fs::write(fake.join(&org).join(format!("{second:020}.json")), c3.to_bytes().unwrap()).unwrap();
        let (code, out) = verify(&s, &rewritten, fake.to_str().unwrap(), &key);
        assert_eq!(code, 1, "{b}: {out}");
        assert!(out.contains(&format!("seq {second}")) && out.contains("signed by key"), "{out}");
        // The honest export against the honest witness, checked with another key: refused.
        let other = s.dir.join("other.pem");
        std::fs::write(&other, mallory.public().to_pem().unwrap()).unwrap();
        let (code, out) = verify(&s, &full, w, &other);
        assert_eq!(code, 1, "{b}: {out}");
        assert!(out.contains(&format!("seq {first}")), "{out}");
    }

    async fn witness_settings_are_for_admins_and_scoped_to_the_org(s: TestServer) {
        let b = s.backend;
        let auditor = s.user_token("auditor@demo.test", arx_core::model::Role::Auditor).await;
        let (code, st) = s.client(&auditor).get("/v1/admin/audit/witness").await;
        assert_eq!(code, 200, "{b}: {st}");
        let s3 = json!({"name": "w", "bucket": "arx-witness", "endpoint": "http://127.0.0.1:9",
                          "access_key_id": "AKIA", "secret_access_key": "s3cr3t-value"});
        let (code, _) = s.client(&auditor).post("/v1/admin/audit/witness/sinks", s3.clone()).await;
        assert_eq!(code, 403, "{b}");
        let (code, _) = s.client(&auditor).post("/v1/admin/audit/witness/checkpoint", json!({})).await;
        assert_eq!(code, 403, "{b}");
        // Bad settings name their field.
        for (field, body) in [
            ("bucket", json!({"name": "w", "bucket": "Not_A_Bucket", "access_key_id": "a", "secret_access_key": "s"})),
            ("endpoint", json!({"name": "w", "bucket": "b", "endpoint": "ftp://x", "access_key_id": "a", "secret_access_key": "s"})),
            ("prefix", json!({"name": "w", "bucket": "b", "prefix": "a/../b", "access_key_id": "a", "secret_access_key": "s"})),
            ("name", json!({"name": "w".repeat(65), "bucket": "b", "access_key_id": "a", "secret_access_key": "s"})),
            ("bucket", json!({"name": "w", "bucket": "b".repeat(64), "access_key_id": "a", "secret_access_key": "s"})),
            ("secret_access_key", json!({"name": "w", "bucket": "b", "access_key_id": "a", "secret_access_key": "s".repeat(300)})),
        ] {
            let (code, e) = s.admin().post("/v1/admin/audit/witness/sinks", body).await;
            assert_eq!(code, 400, "{b}: {e}");
            assert_eq!(e["error"]["field"], field, "{e}");
        }
        let (code, _) = s.admin().post("/v1/admin/audit/witness/sinks", json!({"name": "w"})).await;
        assert_eq!(code, 400, "{b}");
        let (code, v) = s.admin().post("/v1/admin/audit/witness/sinks", s3.clone()).await;
        assert_eq!(code, 201, "{b}: {v}");
        assert!(!v.to_string().contains("s3cr3t"), "{v}");
        let (code, _) = s.admin().post("/v1/admin/audit/witness/sinks", s3).await;
        assert_eq!(code, 409, "{b}");
        let added = s.audit_of("witness.sink_added").await;
        assert!(!added[0].to_string().contains("s3cr3t"), "{}", added[0]);
        // Another org's admin sees its own key and sinks, and cannot remove this one.
        let other = s.other_org_admin().await;
        let (_, theirs) = s.client(&other).get("/v1/admin/audit/witness").await;
        let mine = status(&s).await;
        assert_ne!(theirs["key"]["key_id"], mine["key"]["key_id"], "{b}");
        assert!(theirs["sinks"].as_array().unwrap().iter().all(|x| x["name"] != "w"));
        let id = v["id"].as_str().unwrap();
        let (code, _) = s.client(&other).delete(&format!("/v1/admin/audit/witness/sinks/{id}")).await;
        assert_eq!(code, 404, "{b}");
        // The server's directory stays; the org's own sink goes.
        let dir_id = sink(&mine, "directory")["id"].as_str().unwrap().to_string();
        let (code, _) = s.admin().delete(&format!("/v1/admin/audit/witness/sinks/{dir_id}")).await;
        assert_eq!(code, 400, "{b}");
        let (code, _) = s.admin().delete(&format!("/v1/admin/audit/witness/sinks/{id}")).await;
        assert_eq!(code, 204, "{b}");
        let (code, _) = s.admin().delete("/v1/admin/audit/witness/sinks/not-an-id").await;
        assert_eq!(code, 400, "{b}");
    }

    async fn an_s3_witness_gets_every_checkpoint_once_in_order_through_an_outage(s: TestServer) {
        let b = s.backend;
        let Some(moto) = Moto::start().await else { return };
        let proxy = Proxy::start(moto.port).await;
        let endpoint = format!("http://127.0.0.1:{}", proxy.port);
        let r = reqwest::Client::new().put(format!("{endpoint}/arx-witness")).send().await.unwrap();
        assert!(r.status().is_success(), "creating the bucket: {}", r.status());
        let (code, v) = s
            .admin()
            .post(
                "/v1/admin/audit/witness/sinks",
                json!({"name": "bucket", "bucket": "arx-witness", "prefix": "audit/arx", "endpoint": endpoint,
                       "access_key_id": "AKIAEXAMPLE", "secret_access_key": "example-secret"}),
            )
            .await;
        assert_eq!(code, 201, "{b}: {v}");
        calls(&s, 2).await;
        let first = checkpoint_now(&s).await.unwrap();
        let st = status(&s).await;
        assert_eq!(sink(&st, "s3")["cursor_seq"], first, "{b}: {st}");

        // The collector goes away: checkpoints are signed and wait; the directory has them.
        proxy.cut();
        calls(&s, 2).await;
        let second = checkpoint_now(&s).await.unwrap();
        calls(&s, 1).await;
        let third = checkpoint_now(&s).await.unwrap();
        let st = status(&s).await;
        let down = sink(&st, "s3");
        assert_eq!((down["cursor_seq"].as_i64(), down["pending"].as_i64()), (Some(first), Some(2)), "{b}: {st}");
        assert!(down["last_error"].is_string(), "{st}");
        assert_eq!(sink(&st, "directory")["cursor_seq"], third);

        // Back: the next run writes both, in order, and the error is over.
        proxy.restore().await;
        assert_eq!(checkpoint_now(&s).await, None);
        let st = status(&s).await;
        let up = sink(&st, "s3");
        assert_eq!((up["cursor_seq"].as_i64(), up["pending"].as_i64()), (Some(third), Some(0)), "{b}: {st}");
        assert!(up["last_error"].is_null(), "{st}");

        // The bucket holds exactly the three, under the prefix, and verifies the export.
        let org = s.audit().await[0]["org_id"].as_str().unwrap().to_string();
        let listing = reqwest::get(format!("{endpoint}/arx-witness?list-type=2&prefix=audit/arx/"))
            .await.unwrap().text().await.unwrap();
        let names: Vec<String> = [first, second, third]
            .iter()
            .map(|q| format!("audit/arx/{org}/{q:020}.json"))
            .collect();
        for n in &names {
            assert!(listing.contains(n), "{n} in {listing}");
        }
        assert_eq!(listing.matches("<Key>").count(), 3, "{listing}");
        let key = public_key(&s).await;
        let full = export(&s, "s3.ndjson");
        let url = "s3://arx-witness/audit/arx";
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_arx"))
            .args(["audit", "verify", "--export", full.to_str().unwrap(), "--witness", url,
                   "--public-key", key.to_str().unwrap()])
            .env("ARX_DATA_DIR", &s.dir)
            .env("AWS_ENDPOINT", &endpoint)
            .env("AWS_ALLOW_HTTP", "true")
            .env("AWS_REGION", "us-east-1")
            .env("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE")
            .env("AWS_SECRET_ACCESS_KEY", "example-secret")
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{b}: {text}");
        assert!(text.contains("3 checkpoints matched"), "{text}");

        // Create-only: an object already at the next checkpoint's name is not overwritten.
        calls(&s, 1).await;
        let next = status(&s).await["head_seq"].as_i64().unwrap() + 1;
        let planted = format!("{endpoint}/arx-witness/audit/arx/{org}/{next:020}.json");
        let r = reqwest::Client::new().put(&planted).body("planted").send().await.unwrap();
        assert!(r.status().is_success());
        assert_eq!(checkpoint_now(&s).await, Some(next));
        // Read back as a verifier does (signed requests): still what was planted, which
        // the verifier then reports at its seq.
        let bucket = arx_core::witness::Witness::s3(
            &[("bucket", "arx-witness"), ("prefix", "audit/arx"), ("endpoint", endpoint.as_str()),
              ("access_key_id", "AKIAEXAMPLE")]
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            "example-secret",
        )
        .unwrap();
        let held = bucket.checkpoints(c_org(&org)).await.unwrap();
        let (_, what) = held.iter().find(|(n, _)| n.ends_with(&format!("{next:020}.json"))).unwrap();
        assert!(what.as_ref().unwrap_err().contains("is not a checkpoint"), "{what:?}");
        assert_eq!(held.len(), 4);
        drop(moto);
    }
}

fn c_org(org: &str) -> arx_core::ids::OrgId {
    org.parse().unwrap()
}

/// moto's S3 server, from the test peers' venv.
struct Moto {
    child: std::process::Child,
    port: u16,
}

impl Moto {
    async fn start() -> Option<Moto> {
        let bin = repo().join("target/peers-venv/bin/moto_server");
        if !bin.exists() {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "CI needs moto in target/peers-venv (scripts/setup.sh --e2e)"
            );
            eprintln!("SKIPPED: no moto_server in target/peers-venv (run scripts/setup.sh --e2e)");
            return None;
        }
        let port = free_port();
        let child = std::process::Command::new(bin)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("moto_server runs");
        let m = Moto { child, port };
        for _ in 0..200 {
            if reqwest::get(format!("http://127.0.0.1:{port}/"))
                .await
                .is_ok()
            {
                return Some(m);
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("moto did not start");
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A TCP proxy in front of moto that the test can cut (connections refused) and restore.
struct Proxy {
    port: u16,
    to: u16,
    task: std::sync::Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl Proxy {
    async fn start(to: u16) -> Proxy {
        let port = free_port();
        let p = Proxy {
            port,
            to,
            task: std::sync::Mutex::new(None),
        };
        p.restore().await;
        p
    }

    async fn restore(&self) {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", self.port))
            .await
            .unwrap();
        let to = self.to;
        let task = tokio::spawn(async move {
            let mut conns = tokio::task::JoinSet::new();
            while let Ok((mut inbound, _)) = listener.accept().await {
                conns.spawn(async move {
                    if let Ok(mut out) = tokio::net::TcpStream::connect(("127.0.0.1", to)).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut out).await;
                    }
                });
            }
        });
        *self.task.lock().unwrap() = Some(task);
    }

    /// Stops listening and drops every open connection.
    fn cut(&self) {
        if let Some(t) = self.task.lock().unwrap().take() {
            t.abort();
        }
    }
}
