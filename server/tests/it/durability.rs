//! Durable under `kill -9` (issue 14, point 6). `arx serve` runs as a child process on
//! each database; 64 clients call through it, to a target simulator in this process,
//! which outlives every kill. The server is killed with SIGKILL mid-load and restarted,
//! three times; then the database is taken away mid-load and given back. The audit
//! export, the simulator's log and every answer the clients received must then agree:
//! - every call the simulator received has its intercept record (written before it);
//! - no call reached the simulator twice, approved calls included;
//! - every 200 a client received has its result record; a call cut by a kill has none
//!   (its intercept stands alone: interrupted);
//! - while the database is away, every call fails closed with `audit_unavailable` and the
//!   simulator receives nothing; once it is back, calls succeed again;
//! - `arx audit verify` passes.

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use arx_testkit::{Backend, TestDb};
use serde_json::{Value, json};

use crate::harness::{Proxy, free_port};

/// Concurrent clients.
const CLIENTS: usize = 64;
/// SIGKILLs under load.
const KILLS: usize = 3;

/// How one call ended for its client.
#[derive(Debug, Clone)]
enum Answer {
    /// The HTTP status and body.
    Http(u16, Value),
    /// No answer: the connection was cut (the server was killed).
    Cut,
}

#[derive(Debug, Clone)]
struct Outcome {
    /// The call's mark: an Okta search's `q`, or the host a containment names.
    mark: String,
    started: Instant,
    answer: Answer,
}

impl Outcome {
    fn code(&self) -> Option<&str> {
        match &self.answer {
            Answer::Http(_, b) => b["error"]["code"].as_str(),
            Answer::Cut => None,
        }
    }

    fn status(&self) -> Option<u16> {
        match &self.answer {
            Answer::Http(s, _) => Some(*s),
            Answer::Cut => None,
        }
    }
}

/// `arx serve --demo` as a child process.
struct Server {
    child: Child,
    log: Arc<Mutex<String>>,
}

impl Server {
    async fn start(data: &Path, db: &str, port: u16) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_arx"))
            .args(["serve", "--demo"])
            .env("ARX_DATA_DIR", data)
            .env("ARX_DATABASE_URL", db)
            .env("ARX_LISTEN", format!("127.0.0.1:{port}"))
            .env("ARX_SIMULATOR_LISTEN", "127.0.0.1:0")
            .env("ARX_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let log = Arc::new(Mutex::new(String::new()));
        // Both pipes drained all along: a full pipe would block the server.
        let err = BufReader::new(child.stderr.take().unwrap());
        let err_log = log.clone();
        std::thread::spawn(move || {
            for line in err.lines().map_while(Result::ok) {
                err_log.lock().unwrap().push_str(&(line + "\n"));
            }
        });
        let (ready, running) = tokio::sync::oneshot::channel();
        let out = BufReader::new(child.stdout.take().unwrap());
        let out_log = log.clone();
        std::thread::spawn(move || {
            let mut ready = Some(ready);
            for line in out.lines().map_while(Result::ok) {
                if line.starts_with("ARX is running at ")
                    && let Some(r) = ready.take()
                {
                    let _ = r.send(());
                }
                out_log.lock().unwrap().push_str(&(line + "\n"));
            }
        });
        let started = tokio::time::timeout(Duration::from_secs(120), running).await;
        assert!(
            matches!(started, Ok(Ok(()))),
            "arx serve did not start: {}",
            tail(&log.lock().unwrap())
        );
        Server { child, log }
    }

    /// SIGKILL, then reaped (see the `Drop`).
    fn kill(self) {
        drop(self);
    }
}

/// A server is never left running, even by a test that fails.
impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// How the database is taken away and given back.
enum Db {
    /// The SQLite file, moved aside and back.
    File(PathBuf),
    Proxied(Proxy),
}

impl Db {
    fn take_away(&self) {
        match self {
            Db::File(f) => std::fs::rename(f, f.with_extension("away")).unwrap(),
            Db::Proxied(p) => p.cut(),
        }
    }

    fn give_back(&self) {
        match self {
            Db::File(f) => std::fs::rename(f.with_extension("away"), f).unwrap(),
            Db::Proxied(p) => p.restore(),
        }
    }
}

/// The load: `CLIENTS` tasks calling until told to stop, and one approving what waits.
struct Load {
    stop: Arc<AtomicBool>,
    outcomes: Arc<Mutex<Vec<Outcome>>>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Load {
    fn start(base: &str, keys: [String; 2], admin: String) -> Load {
        let stop = Arc::new(AtomicBool::new(false));
        let outcomes: Arc<Mutex<Vec<Outcome>>> = Default::default();
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap();
        let mut tasks = Vec::new();
        for client in 0..CLIENTS {
            let (stop, outcomes, http, base) = (
                stop.clone(),
                outcomes.clone(),
                http.clone(),
                base.to_string(),
            );
            let keys = keys.clone();
            tasks.push(tokio::spawn(async move {
                let mut n = 0usize;
                while !stop.load(Ordering::SeqCst) {
                    n += 1;
                    // One call in eight contains a host (escalated: a reviewer approves
                    // it); the rest search Okta, on both agents (each well under the
                    // rate its manifest declares).
                    let (mark, key, body) = if n.is_multiple_of(8) {
                        let host = format!("h-{client}-{n}");
                        let body = json!({"connector": "crowdstrike", "operation": "hosts:write",
                            "instance": "ext", "wait_seconds": 0,
                            "params": {"action_name": "contain", "ids": [host]}});
                        (host, &keys[1], body)
                    } else {
                        let q = format!("n-{client}-{n}");
                        let body = json!({"connector": "okta", "operation": "users:read",
                            "instance": "ext", "params": {"q": q}});
                        (q, &keys[n % 2], body)
                    };
                    let started = Instant::now();
                    let r = http
                        .post(format!("{base}/v1/sdk/execute"))
                        .bearer_auth(key)
                        .json(&body)
                        .send()
                        .await;
                    let answer = match r {
                        Ok(r) => {
                            let status = r.status().as_u16();
                            match r.json::<Value>().await {
                                Ok(b) => Answer::Http(status, b),
                                Err(_) => Answer::Cut,
                            }
                        }
                        Err(_) => Answer::Cut,
                    };
                    let cut = matches!(answer, Answer::Cut);
                    outcomes.lock().unwrap().push(Outcome {
                        mark,
                        started,
                        answer,
                    });
                    // A killed server is back within a second or two.
                    let pause = if cut {
                        200
                    } else {
                        600 + (client as u64 * 7) % 400
                    };
                    tokio::time::sleep(Duration::from_millis(pause)).await;
                }
            }));
        }
        let (stop_r, base) = (stop.clone(), base.to_string());
        tasks.push(tokio::spawn(async move {
            while !stop_r.load(Ordering::SeqCst) {
                let pending = http
                    .get(format!("{base}/v1/admin/approvals?status=pending"))
                    .bearer_auth(&admin)
                    .send()
                    .await;
                let list = match pending {
                    Ok(r) => r.json::<Value>().await.unwrap_or_default(),
                    Err(_) => Value::Null,
                };
                for a in list["approvals"].as_array().into_iter().flatten() {
                    let id = a["id"].as_str().unwrap_or_default();
                    let _ = http
                        .post(format!("{base}/v1/admin/approvals/{id}/approve"))
                        .bearer_auth(&admin)
                        .json(&json!({"comment": "contain it"}))
                        .send()
                        .await;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }));
        Load {
            stop,
            outcomes,
            tasks,
        }
    }

    fn outcomes(&self) -> Vec<Outcome> {
        self.outcomes.lock().unwrap().clone()
    }

    /// Waits until an outcome started after `since` satisfies `ok`, up to `limit`.
    async fn wait_for(&self, since: Instant, limit: Duration, ok: impl Fn(&Outcome) -> bool) {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if self.outcomes().iter().any(|o| o.started >= since && ok(o)) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let seen: Vec<_> = self
            .outcomes()
            .into_iter()
            .filter(|o| o.started >= since)
            .take(5)
            .collect();
        panic!("no such outcome within {limit:?}; after it began: {seen:?}");
    }

    async fn finish(self) -> Vec<Outcome> {
        self.stop.store(true, Ordering::SeqCst);
        for t in self.tasks {
            t.await.unwrap();
        }
        Arc::try_unwrap(self.outcomes)
            .unwrap()
            .into_inner()
            .unwrap()
    }
}

/// The end of a server log: enough to see why, short enough that a failure's message
/// is not lost in a long report.
fn tail(log: &str) -> String {
    let lines: Vec<&str> = log.lines().collect();
    lines[lines.len().saturating_sub(15)..].join("\n")
}

fn arx_cli(data: &Path, db: &str, args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_arx"))
        .args(args)
        .env("ARX_DATA_DIR", data)
        .env("ARX_DATABASE_URL", db)
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

arx_testkit::backend_tests! {
    async fn nothing_is_lost_when_the_server_is_killed_or_the_database_goes_away(backend: Backend) {
        let b = backend.name();
        let testdb = TestDb::create(backend).await.unwrap();
        let data = testdb.dir().join("data");
        let (url, db) = match backend {
            Backend::Sqlite => {
                let file = testdb.dir().join("arx.db");
                (format!("sqlite://{}", file.display()), Db::File(file))
            }
            Backend::Postgres => {
                let mut u = reqwest::Url::parse(testdb.url()).unwrap();
                let upstream = format!("{}:{}", u.host_str().unwrap(), u.port().unwrap());
                let proxy = Proxy::start(upstream).await;
                u.set_port(Some(proxy.port)).unwrap();
                (u.to_string(), Db::Proxied(proxy))
            }
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let catalog = arx_core::catalog::Catalog::builtin().unwrap();
        let sim = arx_simulator::Simulator::start(listener, catalog).await.unwrap();
        let port = free_port();
        let base = format!("http://127.0.0.1:{port}");
        let mut server = Server::start(&data, &url, port).await;

        let demo: Value = serde_json::from_str(&std::fs::read_to_string(data.join("demo.json")).unwrap()).unwrap();
        let admin = demo["admin_token"].as_str().unwrap().to_string();
        let key = |name: &str| {
            demo["agents"].as_array().unwrap().iter().find(|a| a["name"] == name).unwrap()["api_key"]
                .as_str().unwrap().to_string()
        };
        let http = reqwest::Client::new();
        for connector in ["okta", "crowdstrike"] {
            let r = http
                .post(format!("{base}/v1/admin/instances"))
                .bearer_auth(&admin)
                .json(&json!({"connector": connector, "name": "ext", "environment": "prod",
                              "variables": sim.variables_for(connector),
                              "credentials": arx_simulator::demo_credentials(connector)}))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 201, "{b}: {}", r.text().await.unwrap());
        }

        let load = Load::start(&base, [key("triage-agent"), key("remediation-agent")], admin.clone());
        let t0 = Instant::now();
        let mut events = Vec::new();
        for round in 0..KILLS {
            let before = Instant::now();
            load.wait_for(before, Duration::from_secs(60), |o| o.status() == Some(200)).await;
            tokio::time::sleep(Duration::from_millis(1500)).await;
            // The first kill lands while Okta takes half a second to answer: calls sent
            // and never recorded as ended, for the console to show as interrupted.
            if round == 0 {
                sim.delay_connector("okta", Some(Duration::from_millis(500)));
                tokio::time::sleep(Duration::from_millis(300)).await;
            }
            events.push(("kill", t0.elapsed()));
            server.kill();
            sim.delay_connector("okta", None);
            server = Server::start(&data, &url, port).await;
            events.push(("up", t0.elapsed()));
        }

        // The database goes away under load: every call fails closed, nothing reaches a
        // target; it comes back, and so do the calls.
        let up = Instant::now();
        load.wait_for(up, Duration::from_secs(60), |o| o.status() == Some(200)).await;
        db.take_away();
        events.push(("away", t0.elapsed()));
        // Calls already past their intercept record when it went finish first: the
        // simulator's count stays still for a second (however loaded the machine).
        let mut received = sim.request_count();
        let still = Instant::now() + Duration::from_secs(30);
        loop {
            tokio::time::sleep(Duration::from_secs(1)).await;
            let now = sim.request_count();
            if now == received || Instant::now() > still {
                break;
            }
            received = now;
        }
        let settled = Instant::now();
        load.wait_for(settled, Duration::from_secs(60), |o| o.code() == Some("audit_unavailable")).await;
        tokio::time::sleep(Duration::from_secs(2)).await;
        assert_eq!(sim.request_count(), received, "{b}: the simulator received calls while the database was away");
        let back = Instant::now();
        db.give_back();
        events.push(("back", t0.elapsed()));
        let during: Vec<Outcome> = load.outcomes().into_iter().filter(|o| o.started >= settled && o.started < back).collect();
        assert!(!during.is_empty(), "{b}");
        for o in &during {
            let log = || tail(&server.log.lock().unwrap());
            assert_eq!(o.code(), Some("audit_unavailable"), "{b}: a call while the database was away: {o:?}\n{}", log());
            assert_eq!(o.status(), Some(503), "{b}: {o:?}");
        }
        load.wait_for(back, Duration::from_secs(60), |o| o.status() == Some(200)).await;
        tokio::time::sleep(Duration::from_secs(1)).await;
        let outcomes = load.finish().await;
        // Approved calls still running finish.
        tokio::time::sleep(Duration::from_millis(500)).await;

        let export = http
            .get(format!("{base}/v1/admin/audit/export.ndjson"))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let records: Vec<Value> = export.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        let resulted: HashSet<&str> = records
            .iter()
            .filter(|r| r["kind"] == "execute.result")
            .filter_map(|r| r["fields"]["intercept_id"].as_str())
            .collect();
        let permitted = |r: &&Value| r["kind"] == "execute.intercept" && r["fields"]["verdict"] == "PERMIT";
        let interrupted: Vec<&str> = records
            .iter()
            .filter(permitted)
            .map(|r| r["id"].as_str().unwrap())
            .filter(|id| !resulted.contains(id))
            .collect();
        // The console says so on an interrupted call's record, and not on one that ended.
        let ended = records.iter().filter(permitted).map(|r| r["id"].as_str().unwrap()).find(|id| resulted.contains(id)).unwrap();
        let console = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let login = console
            .post(format!("{base}/auth/login"))
            .header("origin", &base)
            .form(&[("email", demo["admin_email"].as_str().unwrap()), ("password", demo["admin_password"].as_str().unwrap())])
            .send()
            .await
            .unwrap();
        let cookie = crate::harness::session_cookie(&login).unwrap();
        let page = |id: &str| {
            let (console, cookie) = (console.clone(), cookie.clone());
            let url = format!("{base}/audit/record?id={id}");
            async move { console.get(url).header("cookie", cookie).send().await.unwrap().text().await.unwrap() }
        };
        let first = interrupted.first().unwrap_or_else(|| panic!("{b}: the first kill cut calls at the target"));
        assert!(page(first).await.contains("data-interrupted"), "{b}: {first}");
        assert!(!page(ended).await.contains("data-interrupted"), "{b}: {ended}");

        let log = server.log.lock().unwrap().clone();
        server.kill();
        let (ok, out) = arx_cli(&data, &url, &["audit", "verify", "--org", "demo"]);
        assert!(ok, "{b}: arx audit verify: {out}");

        let by_id: HashMap<&str, &Value> = records.iter().map(|r| (r["id"].as_str().unwrap(), r)).collect();
        let mark_of = |r: &Value| -> Option<String> {
            let p = &r["fields"]["params"];
            p["q"].as_str().or(p["ids"][0].as_str()).map(str::to_string)
        };
        let mut intercepts: HashMap<String, Vec<&Value>> = HashMap::new();
        for r in records.iter().filter(|r| r["kind"] == "execute.intercept") {
            if let Some(m) = mark_of(r) {
                intercepts.entry(m).or_default().push(r);
            }
        }

        // What the simulator received: each call once, each with its intercept record.
        let requests = sim.requests();
        assert_eq!(requests.len(), sim.request_count(), "{b}: the simulator's log holds every request");
        let mut reached: HashMap<String, usize> = HashMap::new();
        for r in &requests {
            let mark = if r.path.ends_with("/api/v1/users") {
                r.query.split('&').find_map(|kv| kv.strip_prefix("q=")).map(str::to_string)
            } else if r.path.ends_with("/devices/entities/devices-actions/v2") {
                serde_json::from_str::<Value>(&r.body).ok().and_then(|v| v["ids"][0].as_str().map(str::to_string))
            } else {
                None
            };
            if let Some(m) = mark {
                *reached.entry(m).or_default() += 1;
            }
        }
        let contained = reached.keys().filter(|m| m.starts_with("h-")).count();
        for (mark, n) in &reached {
            assert_eq!(*n, 1, "{b}: {mark} reached the simulator {n} times");
            let found = intercepts.get(mark).map(Vec::as_slice).unwrap_or_default();
            assert_eq!(found.len(), 1, "{b}: {mark} reached the simulator with {} intercept records", found.len());
            let verdict = found[0]["fields"]["verdict"].as_str().unwrap();
            let expected = if mark.starts_with("h-") { "ESCALATE" } else { "PERMIT" };
            assert_eq!(verdict, expected, "{b}: {mark}");
        }

        // What the clients were told agrees with the records.
        let (mut ok200, mut cut, mut unavailable, mut unrecorded, mut unconfirmed) = (0, 0, 0, 0, 0);
        for o in &outcomes {
            match &o.answer {
                Answer::Http(200, body) => {
                    ok200 += 1;
                    let id = body["audit_id"].as_str().unwrap();
                    let result = body["result_audit_id"].as_str().unwrap();
                    let intercept = by_id.get(id).unwrap_or_else(|| panic!("{b}: a 200 without its intercept: {o:?}"));
                    assert_eq!(mark_of(intercept).as_deref(), Some(o.mark.as_str()), "{b}");
                    let r = by_id.get(result).unwrap_or_else(|| panic!("{b}: a 200 without its result record: {o:?}"));
                    assert_eq!(r["fields"]["intercept_id"], id, "{b}");
                    assert_eq!(reached.get(&o.mark), Some(&1), "{b}: a 200 the target never saw: {o:?}");
                }
                Answer::Http(500, body) if o.code() == Some("result_unrecorded") => {
                    // Sent, then the database went: the agent is told it may have run.
                    unrecorded += 1;
                    assert_eq!(reached.get(&o.mark), Some(&1), "{b}: {o:?}");
                    assert!(by_id.contains_key(body["error"]["audit_id"].as_str().unwrap()), "{b}: {o:?}");
                }
                Answer::Http(503, body) if o.code() == Some("approval_unconfirmed") => {
                    // The database went as the request was stored: it may stand (and be
                    // approved), or not; the agent was told to poll it, not that it failed.
                    unconfirmed += 1;
                    assert!(body["error"]["approval_id"].is_string(), "{b}: {o:?}");
                }
                Answer::Http(..) if o.code() == Some("audit_unavailable") => {
                    unavailable += 1;
                    assert!(!reached.contains_key(&o.mark), "{b}: audit_unavailable, yet the target saw it: {o:?} at {:?} {events:?}: {:?}", o.started - t0, intercepts.get(&o.mark));
                }
                Answer::Http(s, body) => {
                    // Escalations answer 202; anything else must say why and not have run.
                    assert!(*s == 202 || body["error"]["code"].is_string(), "{b}: {o:?}");
                    if *s != 202 {
                        assert!(!reached.contains_key(&o.mark), "{b}: refused, yet the target saw it: {o:?}");
                    }
                }
                Answer::Cut => cut += 1,
            }
        }
        // Intercepts that never got a result: calls cut by a kill, and none of them was
        // answered 200 (checked above); each one that reached the target was cut after it.
        let interrupted = interrupted.len();
        eprintln!(
            "{b}: {} calls: {ok200} answered 200, {cut} cut by {KILLS} kills, {unavailable} audit_unavailable, \
             {unrecorded} result_unrecorded, {unconfirmed} approval_unconfirmed, \
             {interrupted} interrupted on the record, {contained} hosts contained after approval; {} records",
            outcomes.len(),
            records.len()
        );
        assert!(ok200 >= 100 && cut >= 1 && contained >= 1, "{b}: the load did what it should: {}", tail(&log));
    }
}
