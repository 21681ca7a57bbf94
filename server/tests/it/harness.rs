//! Starts the real server (port 0) with the demo seeded against a simulator on port 0,
//! on a fresh SQLite file or a fresh PostgreSQL database (an [`arx_testkit::TestDb`],
//! dropped with the server when the test ends).

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use arx_server::Running;
use arx_server::config::Config;
use arx_testkit::{Backend, Fixture, TempDir, TestDb};
use reqwest::Method;
use serde_json::{Value, json};

pub struct TestServer {
    pub running: Running,
    /// The server's data dir (master key, exports); removed with the database.
    pub dir: PathBuf,
    /// `"sqlite"` or `"postgres"`, for assertion messages.
    pub backend: &'static str,
    pub db_url: String,
    pub http: reqwest::Client,
    /// Declared last so it drops after the server: the database goes when the test ends.
    _db: TestDb,
}

impl Fixture for TestServer {
    async fn start(backend: Backend) -> Self {
        start(backend).await
    }
}

/// A second server on a test server's database: see [`TestServer::replica`].
pub struct Replica {
    pub running: Running,
    _dir: TempDir,
}

impl std::ops::Deref for Replica {
    type Target = Running;
    fn deref(&self) -> &Running {
        &self.running
    }
}

impl TestServer {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.running.addr)
    }

    pub fn demo(&self) -> &arx_server::demo::DemoFile {
        self.running.demo.as_ref().unwrap()
    }

    /// The demo agent called `name`.
    pub fn demo_agent(&self, name: &str) -> &arx_server::demo::DemoAgent {
        let agents = &self.demo().agents;
        agents.iter().find(|a| a.name == name).unwrap()
    }

    pub fn agent_key(&self, name: &str) -> String {
        self.demo_agent(name).api_key.clone()
    }

    /// The id of the demo agent called `name`.
    pub fn agent_id(&self, name: &str) -> String {
        self.demo_agent(name).id.clone()
    }

    pub fn admin_token(&self) -> String {
        self.demo().admin_token.clone()
    }

    /// An API token of a new local user of the demo org with `role`.
    /// A token of the demo org's user `email` with `role`, made if it does not exist
    /// (the demo's agent owners do: the IR lead reviews too).
    pub async fn user_token(&self, email: &str, role: arx_core::model::Role) -> String {
        let system = self.running.engine.system();
        let org = system.org_by_slug("demo").await.unwrap().unwrap();
        use arx_core::store::IdentityStore;
        match self.running.store.user_by_email(email).await.unwrap() {
            Some(u) => {
                assert_eq!(
                    (u.org_id, u.role),
                    (org.id, Some(role)),
                    "{email} exists with another role"
                );
                system.issue_user_token(&u, "t").await.unwrap()
            }
            None => self.new_user_token(org.id, (email, email), role).await,
        }
    }

    /// The email of a user of the org of `token`, to own the agents a test makes there
    /// (an owner is a user of the agent's org).
    pub async fn an_owner(&self, token: &str) -> String {
        let (st, b) = send(
            self,
            token,
            reqwest::Method::GET,
            "/v1/admin/users",
            Value::Null,
        )
        .await;
        assert_eq!(st, 200, "{b}");
        b["users"][0]["email"].as_str().unwrap().to_string()
    }

    /// An API token of the admin of a second org, `other` (made on first call).
    pub async fn other_org_admin(&self) -> String {
        let system = self.running.engine.system();
        let other = match system.org_by_slug("other").await.unwrap() {
            Some(o) => o,
            None => system.create_org("other", "Other Org").await.unwrap(),
        };
        let email = format!("root-{}@other.example", uuid::Uuid::new_v4().simple());
        let admin = arx_core::model::Role::Admin;
        self.new_user_token(other.id, (&email, "Other"), admin)
            .await
    }

    /// A token of a new local user `(email, name)` of `org` with `role`.
    async fn new_user_token(
        &self,
        org: arx_core::ids::OrgId,
        (email, name): (&str, &str),
        role: arx_core::model::Role,
    ) -> String {
        let system = self.running.engine.system();
        let by = arx_core::audit::Actor::system();
        let user = system
            .create_local_user(org, email, name, role, "correct horse battery", by)
            .await
            .unwrap();
        system.issue_user_token(&user, "t").await.unwrap()
    }

    /// The id of the demo org's user with `email`.
    pub async fn user_id(&self, email: &str) -> String {
        let (_, users) = self.admin_get("/v1/admin/users").await;
        users["users"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["email"] == email)
            .map(|u| u["id"].as_str().unwrap().to_string())
            .unwrap_or_else(|| panic!("no user {email} in {users}"))
    }

    /// A console session cookie for `email` signed in with `password`.
    pub async fn console_session(&self, email: &str, password: &str) -> String {
        let r = self
            .http
            .post(self.url("/auth/login"))
            .header("origin", self.url(""))
            .form(&[("email", email), ("password", password)])
            .send()
            .await
            .unwrap();
        session_cookie(&r).expect("a session cookie")
    }

    /// `GET path` of the console with the session `cookie`.
    pub async fn page(&self, path: &str, cookie: &str) -> reqwest::Response {
        self.http
            .get(self.url(path))
            .header("cookie", cookie)
            .send()
            .await
            .unwrap()
    }

    /// The HTML of the console's page at `path` for the session `cookie` (200 expected).
    pub async fn page_html(&self, path: &str, cookie: &str) -> String {
        let r = self.page(path, cookie).await;
        assert_eq!(r.status(), 200, "{}: {path}", self.backend);
        r.text().await.unwrap()
    }

    pub fn sim(&self) -> &arx_simulator::Simulator {
        self.running.simulator.as_ref().unwrap()
    }

    /// Sends a request; returns the status and the JSON body (null when there is none).
    pub async fn answer(req: reqwest::RequestBuilder) -> (u16, Value) {
        let r = req.send().await.unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    /// Runs the recovery a restart runs; how many interrupted calls it closed.
    pub async fn recover_interrupted(&self) -> usize {
        self.running
            .engine
            .system()
            .recover_interrupted(true)
            .await
            .unwrap()
    }

    /// A second server on this one's database and master key: another replica
    /// (PostgreSQL only; SQLite is one process).
    pub async fn replica(&self) -> Replica {
        self.replica_tweaked(|_| {}).await
    }

    /// [`TestServer::replica`] with its test config changed by `tweak`.
    pub async fn replica_tweaked(&self, tweak: impl FnOnce(&mut Config)) -> Replica {
        let dir = TempDir::new("arx-it").unwrap();
        std::fs::copy(self.dir.join("master.key"), dir.path().join("master.key")).unwrap();
        let mut cfg = Config::for_tests(dir.path(), Some(self.db_url.clone()));
        tweak(&mut cfg);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let running = arx_server::launch(cfg, listener, false).await.unwrap();
        Replica { running, _dir: dir }
    }

    /// `PUT /v1/admin/policy` with a YAML body as the holder of `token`; the status.
    pub async fn put_policy(&self, token: &str, yaml: &str) -> u16 {
        self.http
            .put(self.url("/v1/admin/policy?reason=test"))
            .bearer_auth(token)
            .body(yaml.to_string())
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    }

    /// `POST /v1/sdk/execute` as an agent. Escalations answer at once (`wait_seconds: 0`)
    /// unless the body asks to wait.
    pub async fn execute(&self, key: &str, mut body: Value) -> (u16, Value) {
        if let Value::Object(m) = &mut body {
            m.entry("wait_seconds").or_insert(0.into());
        }
        Self::answer(
            self.http
                .post(self.url("/v1/sdk/execute"))
                .bearer_auth(key)
                .json(&body),
        )
        .await
    }

    /// `execute` of a call that escalates: expects 202; the pending request's id.
    pub async fn escalate(&self, key: &str, body: Value) -> String {
        let (code, out) = self.execute(key, body).await;
        assert_eq!(code, 202, "{}: {out}", self.backend);
        out["approval_id"].as_str().unwrap().to_string()
    }

    /// `execute` of a call that policy permits: expects 200 and PERMIT; the answer.
    pub async fn execute_permitted(&self, key: &str, body: Value) -> Value {
        let (code, out) = self.execute(key, body).await;
        assert_eq!(
            (code, out["verdict"].as_str()),
            (200, Some("PERMIT")),
            "{}: {out}",
            self.backend
        );
        out
    }

    /// The policy in force as YAML (`GET /v1/admin/policy?format=yaml`), as the admin.
    pub async fn policy_yaml(&self) -> reqwest::Response {
        self.http
            .get(self.url("/v1/admin/policy?format=yaml"))
            .bearer_auth(self.admin_token())
            .send()
            .await
            .unwrap()
    }

    pub async fn admin_get(&self, path: &str) -> (u16, Value) {
        Self::answer(
            self.http
                .get(self.url(path))
                .bearer_auth(self.admin_token()),
        )
        .await
    }

    /// The kinds of the org's audit records, oldest first.
    pub async fn audit_kinds(&self) -> Vec<String> {
        self.audit()
            .await
            .iter()
            .map(|r| r["kind"].as_str().unwrap_or_default().to_string())
            .collect()
    }

    /// The org's audit records of `kind`, oldest first.
    pub async fn audit_of(&self, kind: &str) -> Vec<Value> {
        let mut records = self.audit().await;
        records.retain(|r| r["kind"] == kind);
        records
    }

    /// The org's audit records, oldest first.
    pub async fn audit(&self) -> Vec<Value> {
        let mut all = Vec::new();
        let mut before: Option<i64> = None;
        loop {
            let q = before.map(|b| format!("&before={b}")).unwrap_or_default();
            let (_, page) = self
                .admin_get(&format!("/v1/admin/audit?limit=500{q}"))
                .await;
            let recs = page["records"].as_array().cloned().unwrap_or_default();
            all.extend(recs);
            match page["next_before"].as_i64() {
                Some(b) => before = Some(b),
                None => break,
            }
        }
        all.reverse();
        all
    }
}

/// The repository's root.
pub fn repo() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A loopback port nothing listens on now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub async fn start(backend: Backend) -> TestServer {
    start_with_clock(backend, std::sync::Arc::new(arx_core::clock::SystemClock)).await
}

/// Two replicas of ARX on one fresh PostgreSQL database, or `None` when PostgreSQL is
/// not available (SQLite is one process).
pub async fn two_replicas() -> Option<(TestServer, Replica)> {
    if !Backend::Postgres.available() {
        return None;
    }
    let a = start(Backend::Postgres).await;
    let b = a.replica().await;
    Some((a, b))
}

/// A server without local targets allowed, as in production, and without the demo:
/// calls to the simulator on this machine are refused.
pub async fn start_strict(backend: Backend) -> TestServer {
    boot(
        backend,
        |cfg| cfg.allow_local_targets = false,
        false,
        std::sync::Arc::new(arx_core::clock::SystemClock),
    )
    .await
}

/// A server with the demo whose test config is changed by `tweak`.
pub async fn start_tweaked(backend: Backend, tweak: impl FnOnce(&mut Config)) -> TestServer {
    boot(
        backend,
        tweak,
        true,
        std::sync::Arc::new(arx_core::clock::SystemClock),
    )
    .await
}

/// A server on `clock` (a manual clock moves TTLs without sleeping).
pub async fn start_with_clock(
    backend: Backend,
    clock: std::sync::Arc<dyn arx_core::clock::Clock>,
) -> TestServer {
    boot(backend, |_| {}, true, clock).await
}

/// Longer than any wait a test asks for (long polls are at most a minute).
const STUCK_AFTER: std::time::Duration = std::time::Duration::from_secs(120);

/// A server on a fresh data dir and database, its test config changed by `tweak`.
async fn boot(
    backend: Backend,
    tweak: impl FnOnce(&mut Config),
    with_demo: bool,
    clock: std::sync::Arc<dyn arx_core::clock::Clock>,
) -> TestServer {
    let db = TestDb::create(backend).await.unwrap();
    let dir = db.dir().to_path_buf();
    let mut cfg = Config::for_tests(&dir, Some(db.url().to_string()));
    tweak(&mut cfg);
    let db_url = cfg.database_url.clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    // A server that does not start, or a request that never answers, fails its test
    // with where it stuck instead of holding the whole run until CI's deadline.
    let running = tokio::time::timeout(
        STUCK_AFTER,
        arx_server::launch_with_clock(cfg, listener, with_demo, clock),
    )
    .await
    .expect("the server did not start within STUCK_AFTER")
    .unwrap();
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(STUCK_AFTER)
        .build()
        .unwrap();
    TestServer {
        running,
        dir,
        backend: backend.name(),
        db_url,
        http,
        _db: db,
    }
}

/// A TCP proxy between ARX and a server it depends on (PostgreSQL, Redis) that can be cut
/// (every connection closed, new ones refused) and restored: the server out of reach,
/// then back.
pub struct Proxy {
    pub port: u16,
    cut: Arc<AtomicBool>,
    live: Arc<Mutex<Vec<tokio::task::AbortHandle>>>,
}

impl Proxy {
    pub async fn start(upstream: String) -> Proxy {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let cut = Arc::new(AtomicBool::new(false));
        let live: Arc<Mutex<Vec<tokio::task::AbortHandle>>> = Default::default();
        let (c, l) = (cut.clone(), live.clone());
        tokio::spawn(async move {
            while let Ok((mut down, _)) = listener.accept().await {
                // Checked and registered under the lock `cut` takes, so a connection
                // accepted as the cut comes is either refused or cut with the rest.
                let mut live = l.lock().unwrap();
                if c.load(Ordering::SeqCst) {
                    continue;
                }
                let upstream = upstream.clone();
                let task = tokio::spawn(async move {
                    if let Ok(mut up) = tokio::net::TcpStream::connect(upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut down, &mut up).await;
                    }
                });
                live.push(task.abort_handle());
            }
        });
        Proxy { port, cut, live }
    }

    pub fn cut(&self) {
        let mut live = self.live.lock().unwrap();
        self.cut.store(true, Ordering::SeqCst);
        for t in live.drain(..) {
            t.abort();
        }
    }

    pub fn restore(&self) {
        self.cut.store(false, Ordering::SeqCst);
    }
}

/// The `arx_session=…` pair a response sets, if any.
pub fn session_cookie(r: &reqwest::Response) -> Option<String> {
    r.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("arx_session="))
        .map(|c| c.split(';').next().unwrap_or("").to_string())
}

/// The message of an error answer (`{"error": {"message": …}}`); fails the test, showing
/// the body, when there is none.
pub fn error_message(out: &Value) -> &str {
    out["error"]["message"]
        .as_str()
        .unwrap_or_else(|| panic!("no error message in {out}"))
}

/// The text `field` of every item of the array `list`.
pub fn texts<'a>(list: &'a Value, field: &str) -> Vec<&'a str> {
    let items = list.as_array().unwrap().iter();
    items.map(|item| item[field].as_str().unwrap()).collect()
}

/// Okta's `users:read` with no parameters: a read, permitted by default.
pub fn okta_users() -> Value {
    json!({"connector": "okta", "operation": "users:read", "params": {}})
}

/// A CrowdStrike containment of `host`: high risk, so it escalates by default.
pub fn contain(host: &str) -> Value {
    json!({"connector": "crowdstrike", "operation": "hosts:write",
           "params": {"action_name": "contain", "ids": [host]},
           "session_context": {"reasoning": "beaconing to a known C2 domain"}})
}

/// Requests to the simulator's containment endpoint.
pub fn containments(s: &TestServer) -> usize {
    s.sim()
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/devices/entities/devices-actions/v2"))
        .count()
}

/// A request with `token`; the status and the JSON body (null when there is none).
pub async fn send(
    s: &TestServer,
    token: &str,
    method: Method,
    path: &str,
    body: Value,
) -> (u16, Value) {
    let r = s
        .http
        .request(method, s.url(path))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

/// A manifest that lets an agent call every operation of `connectors` in any environment,
/// with every data class: for tests about something else than the manifest gate.
pub fn open_manifest(connectors: &[&str]) -> Value {
    json!({
        "manifest": {
            "connectors": connectors.iter().map(|c| (c.to_string(), json!(["*"]))).collect::<serde_json::Map<_, _>>(),
            "rate_per_minute": 600,
            "environments": ["prod", "staging", "dev", "unknown"],
            "data_classes": arx_core::catalog::DATA_CLASSES.iter().map(|(c, _)| *c).collect::<Vec<_>>(),
            "purpose": "a test agent",
            "model": "",
        },
        "reason": "a test agent",
    })
}
