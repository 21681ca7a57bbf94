//! The execute pipeline over HTTP: verdicts, ordering of the audit records, fail-closed,
//! target errors, and every kind of bad input.

use arx_testkit::{Backend, backend_tests};
use serde_json::{Value, json};

use crate::harness::{TestServer, error_message, okta_users};

const TRIAGE: &str = "triage-agent";

fn permit_call() -> Value {
    json!({"connector": "crowdstrike", "operation": "detections:read", "params": {"limit": 10},
           "session_context": {"reasoning": "triage of new detections"}})
}

fn contain_call() -> Value {
    json!({"connector": "crowdstrike", "operation": "hosts:write",
           "params": {"action_name": "contain", "ids": ["host_abc123"]}})
}

/// The choices an `invalid_operation` error lists.
fn valid(answer: &Value) -> &Vec<Value> {
    answer["error"]["valid"].as_array().unwrap()
}

fn admin_command() -> Value {
    json!({"connector": "crowdstrike", "operation": "rtr:command_admin",
           "params": {"session_id": "s1", "base_command": "runscript", "command_string": "runscript -Raw=```whoami```"}})
}

backend_tests! {
    async fn permit_runs_the_call_and_chains_result_to_intercept(s: TestServer) {
        let key = s.agent_key(TRIAGE);
        let before = s.sim().request_count();
        let (status, body) = s.execute(&key, permit_call()).await;
        assert_eq!(status, 200, "{}: {body}", s.backend);
        assert_eq!(body["verdict"], "PERMIT");
        // low (5) + EDR (20) + 1 call at 60/min (0) + prod (20).
        assert_eq!(body["risk_score"], 45, "{}", s.backend);
        assert!(
            body["result"]["resources"].is_array(),
            "{}: vendor envelope passed through: {body}",
            s.backend
        );
        assert_eq!(
            s.sim().request_count(),
            before + 2,
            "{}: token + one API call",
            s.backend
        );
        let api = s
            .sim()
            .requests()
            .into_iter()
            .rev()
            .find(|r| r.path.contains("/detects/"))
            .unwrap();
        assert!(api.authorized, "{}: credentials injected", s.backend);

        let all = s.audit().await;
        let i = all
            .iter()
            .position(|r| r["id"] == body["audit_id"])
            .unwrap();
        let intercept = &all[i];
        let result = all
            .iter()
            .find(|r| r["id"] == body["result_audit_id"])
            .unwrap();
        assert_eq!(intercept["kind"], "execute.intercept");
        assert_eq!(result["kind"], "execute.result");
        assert!(
            result["seq"].as_i64() > intercept["seq"].as_i64(),
            "{}: result after intercept",
            s.backend
        );
        assert_eq!(result["fields"]["intercept_id"], intercept["id"]);
        assert_eq!(result["fields"]["status"], "ok");
        // The vendor's answer stays out of the append-only chain: only its hash.
        assert!(
            result["fields"].get("response").is_none(),
            "{}: body in the chain: {result}",
            s.backend
        );
        assert!(result["fields"]["response_sha256"].is_string());
        let risk = &intercept["fields"]["risk"];
        assert_eq!(
            (
                risk["operation"].as_u64(),
                risk["connector"].as_u64(),
                risk["frequency"].as_u64(),
                risk["target"].as_u64()
            ),
            (Some(5), Some(20), Some(0), Some(20)),
            "{}: all four inputs recorded",
            s.backend
        );
        assert_eq!(intercept["fields"]["policy_id"], "default:low");
        assert_eq!(
            intercept["fields"]["session_context"]["reasoning"],
            "triage of new detections"
        );
    }
}

backend_tests! {
    async fn escalate_creates_a_pending_approval_and_forwards_nothing(s: TestServer) {
        let before = s.sim().request_count();
        let (status, body) = s
            .execute(&s.agent_key("remediation-agent"), contain_call())
            .await;
        assert_eq!(status, 202, "{}: {body}", s.backend);
        assert_eq!(body["verdict"], "ESCALATE");
        assert!(
            body["approval_id"].is_string() && body["expires_at"].is_string(),
            "{body}"
        );
        assert_eq!(
            s.sim().request_count(),
            before,
            "{}: nothing forwarded",
            s.backend
        );
        let (_, list) = s.admin_get("/v1/admin/approvals?status=pending").await;
        let a = &list["approvals"][0];
        assert_eq!(a["id"], body["approval_id"]);
        assert_eq!(a["params"]["ids"][0], "host_abc123");
        assert_eq!(s.audit_of("approval.requested").await.len(), 1);
    }
}

backend_tests! {
    async fn deny_is_recorded_and_forwards_nothing(s: TestServer) {
        let before = s.sim().request_count();
        let (status, body) = s.execute(&s.agent_key(TRIAGE), admin_command()).await;
        assert_eq!(status, 403, "{}: {body}", s.backend);
        assert_eq!(body["error"]["code"], "permission_denied");
        assert_eq!(body["error"]["verdict"], "DENY");
        assert_eq!(s.sim().request_count(), before, "{}", s.backend);
        let rec = s.audit_of("execute.intercept").await.pop().unwrap();
        assert_eq!(rec["id"], body["error"]["audit_id"]);
        assert_eq!(rec["fields"]["verdict"], "DENY");
        assert_eq!(rec["fields"]["policy_id"], "default:critical");
    }
}

backend_tests! {
    async fn when_the_audit_store_fails_nothing_is_forwarded(s: TestServer) {
        let key = s.agent_key(TRIAGE);
        // Take the audit table away underneath the running server: a real failure of the real store.
        sqlx::query("ALTER TABLE audit_records RENAME TO audit_records_gone")
            .execute(s.running.store.pool())
            .await
            .unwrap();
        let before = s.sim().request_count();
        let (status, body) = s.execute(&key, permit_call()).await;
        assert_eq!(status, 503, "{}: {body}", s.backend);
        assert_eq!(body["error"]["code"], "audit_unavailable");
        assert!(
            !body.to_string().contains("audit_records"),
            "{}: no database detail leaks: {body}",
            s.backend
        );
        assert_eq!(
            s.sim().request_count(),
            before,
            "{}: the target saw nothing",
            s.backend
        );
        sqlx::query("ALTER TABLE audit_records_gone RENAME TO audit_records")
            .execute(s.running.store.pool())
            .await
            .unwrap();
        let (status, _) = s.execute(&key, permit_call()).await;
        assert_eq!(status, 200, "{}: recovers when the store does", s.backend);
    }
}

backend_tests! {
    async fn a_target_error_is_a_502_with_the_targets_status_and_a_result_record(s: TestServer) {
        s.sim().fail_connector("okta", Some(503));
        let call = okta_users();
        let (status, body) = s.execute(&s.agent_key(TRIAGE), call).await;
        s.sim().fail_connector("okta", None);
        assert_eq!(status, 502, "{}: {body}", s.backend);
        assert_eq!(body["error"]["code"], "target_error");
        assert_eq!(body["error"]["target_status"], 503);
        let result = s.audit_of("execute.result").await.pop().unwrap();
        assert_eq!(result["fields"]["status"], "target_error");
        assert_eq!(result["fields"]["http_status"], 503);
        assert!(result["fields"].get("response").is_none(), "{}", s.backend);
        assert!(
            result["fields"]["response_sha256"].is_string(),
            "{}",
            s.backend
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_clear_4xx_errors_and_is_audited_when_the_agent_is_known() {
    let s = crate::harness::start(Backend::Sqlite).await;
    let key = s.agent_key(TRIAGE);
    let url = s.url("/v1/sdk/execute");
    let raw = |body: &'static str, ct: &'static str| {
        s.http
            .post(&url)
            .bearer_auth(&key)
            .header("content-type", ct)
            .body(body)
            .send()
    };

    let r = raw("{\"connector\": \"crowdstrike\",", "application/json")
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let b: Value = r.json().await.unwrap();
    assert_eq!(b["error"]["code"], "invalid_request", "{b}");

    let r = raw("connector=crowdstrike", "application/x-www-form-urlencoded")
        .await
        .unwrap();
    assert_eq!(r.status(), 415);
    assert_eq!(
        r.json::<Value>().await.unwrap()["error"]["code"],
        "unsupported_media_type"
    );

    let (st, b) = s
        .execute(&key, json!({"connector": "crowdstrik", "operation": "x:y"}))
        .await;
    assert_eq!(
        (st, b["error"]["code"].as_str()),
        (400, Some("invalid_operation"))
    );
    assert!(valid(&b).contains(&json!("crowdstrike")), "{b}");

    let (st, b) = s
        .execute(
            &key,
            json!({"connector": "crowdstrike", "operation": "hosts:nuke"}),
        )
        .await;
    assert_eq!(st, 400);
    assert!(valid(&b).contains(&json!("hosts:write")), "{b}");

    let (st, b) = s.execute(&key, json!({"connector": "crowdstrike", "operation": "hosts:write", "params": {"ids": ["h"]}})).await;
    assert_eq!(
        (st, b["error"]["code"].as_str()),
        (400, Some("invalid_params"))
    );
    assert!(
        error_message(&b).contains("'action_name' is required"),
        "{b}"
    );

    let (st, b) = s.execute(&key, json!({"connector": "crowdstrike", "operation": "detections:read", "params": {"limit": 5, "drop_table": 1}})).await;
    assert_eq!(st, 400);
    assert!(error_message(&b).contains("'drop_table'"), "{b}");

    let (st, b) = s.execute(&key, json!({"connector": "crowdstrike", "operation": "hosts:write", "params": {"action_name": "explode", "ids": ["h"]}})).await;
    assert_eq!(st, 400);
    assert!(error_message(&b).contains("must be one of"), "{b}");

    let big = "x".repeat(300 * 1024);
    let r = s.http.post(&url).bearer_auth(&key).json(&json!({"connector": "crowdstrike", "operation": "detections:read", "params": {"filter": big}})).send().await.unwrap();
    assert_eq!(r.status(), 413);
    assert_eq!(
        r.json::<Value>().await.unwrap()["error"]["code"],
        "payload_too_large"
    );

    let (st, b) = s.execute("arx_not-a-real-key", permit_call()).await;
    assert_eq!(
        (st, b["error"]["code"].as_str()),
        (401, Some("unauthenticated"))
    );
    let r = s.http.post(&url).json(&permit_call()).send().await.unwrap();
    assert_eq!(r.status(), 401);

    // Every one of those by the known agent is in its chain.
    let rejected = s.audit_of("execute.rejected").await;
    let codes: Vec<&str> = rejected
        .iter()
        .map(|r| r["fields"]["code"].as_str().unwrap())
        .collect();
    for c in [
        "invalid_request",
        "unsupported_media_type",
        "invalid_operation",
        "invalid_params",
        "payload_too_large",
    ] {
        assert!(
            codes.contains(&c),
            "no rejection record with {c}: {codes:?}"
        );
    }
    assert_eq!(
        s.sim().request_count(),
        0,
        "bad input never reaches the target"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoked_keys_and_suspended_agents_are_stopped() {
    let s = crate::harness::start(Backend::Sqlite).await;
    let agent = s.agent_id(TRIAGE);
    // Suspended: DENY with risk 100 before policy.
    let (st, _) = s.admin().suspend_agent(&agent, "drift").await;
    assert_eq!(st, 204);
    let (st, b) = s.execute(&s.agent_key(TRIAGE), permit_call()).await;
    assert_eq!(
        (st, b["error"]["risk_score"].as_u64()),
        (403, Some(100)),
        "{b}"
    );
    let rec = s.audit_of("execute.intercept").await.pop().unwrap();
    assert_eq!(rec["fields"]["policy_id"], "gate:agent_status");
    s.admin()
        .post(
            &format!("/v1/admin/agents/{agent}/reactivate"),
            json!({"reason": "reviewed"}),
        )
        .await;
    assert_eq!(s.execute(&s.agent_key(TRIAGE), permit_call()).await.0, 200);

    // Revoked key: 401, audited against the agent.
    let (st, _) = s.admin().revoke_first_key(&agent).await;
    assert_eq!(st, 204);
    let (st, b) = s.execute(&s.agent_key(TRIAGE), permit_call()).await;
    assert_eq!(st, 401, "{b}");
    assert!(error_message(&b).contains("revoked"));
    let rec = s.audit_of("execute.unauthenticated").await.pop().unwrap();
    assert_eq!(rec["fields"]["agent_id"].as_str(), Some(agent.as_str()));
}

/// A value of the declared type (the first allowed one for closed sets).
fn sample(p: &arx_core::catalog::Param) -> Value {
    use arx_core::catalog::ParamType as T;
    if let Some(v) = p.allowed.first() {
        return v.clone();
    }
    match p.kind {
        T::String => json!("sample"),
        T::Integer | T::Number => json!(1),
        T::Boolean => json!(true),
        T::Array => json!(["sample"]),
        T::Object => json!({}),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_connector_executes_through_arx_with_its_own_auth_scheme() {
    let s = crate::harness::start(Backend::Sqlite).await;
    let key = s.agent_key(TRIAGE);
    let mut schemes = std::collections::BTreeSet::new();
    for c in s.running.engine.catalog().iter() {
        // A read operation: low tier, so every demo instance permits it.
        let (op_id, op) = c
            .operations
            .iter()
            .find(|(_, o)| o.risk == arx_core::catalog::RiskTier::Low && !o.writes)
            .unwrap_or_else(|| panic!("{} has no low-risk read", c.name));
        let params: serde_json::Map<String, Value> = op
            .params
            .iter()
            .filter(|(_, p)| p.required)
            .map(|(n, p)| (n.clone(), sample(p)))
            .collect();
        let (st, body) = s
            .execute(
                &key,
                json!({"connector": c.name, "operation": op_id, "params": params}),
            )
            .await;
        assert_eq!(st, 200, "{} {op_id}: {body}", c.name);
        assert_eq!(body["verdict"], "PERMIT");
        let last = s
            .sim()
            .requests()
            .into_iter()
            .rev()
            .find(|r| r.connector == c.name)
            .unwrap();
        assert!(
            last.authorized,
            "{} {op_id}: the simulator did not accept ARX's credentials",
            c.name
        );
        schemes.insert(
            format!("{:?}", c.auth)
                .split([' ', '{'])
                .next()
                .unwrap_or_default()
                .to_string(),
        );
    }
    assert_eq!(
        schemes.len(),
        4,
        "all four auth schemes exercised: {schemes:?}"
    );
}

/// `arx_stage_seconds{stage}` of a `/metrics` page: (count, +Inf bucket, cumulative
/// buckets rising).
fn stage_histogram(metrics: &str, stage: &str) -> (u64, u64, bool) {
    let value = |series: &str| -> Vec<u64> {
        metrics
            .lines()
            .filter(|l| l.starts_with(series) && l.contains(&format!("stage=\"{stage}\"")))
            .map(|l| l.rsplit(' ').next().unwrap().parse().unwrap())
            .collect()
    };
    let buckets = value("arx_stage_seconds_bucket");
    let count = value("arx_stage_seconds_count");
    (
        count[0],
        *buckets.last().unwrap(),
        buckets.windows(2).all(|w| w[0] <= w[1]) && buckets.len() == 72,
    )
}

backend_tests! {
    async fn metrics_show_each_stage_of_a_governed_call(s: TestServer) {
        // The histograms are the process's (other tests' calls add to them): each stage
        // of the call made here counts at least once more.
        let http = reqwest::Client::new();
        let read = || async {
            http.get(s.url("/metrics")).send().await.unwrap().text().await.unwrap()
        };
        let before = read().await;
        s.execute_permitted(&s.agent_key(TRIAGE), permit_call()).await;
        let after = read().await;
        for stage in [
            "total", "parse", "authenticate", "resolve", "decide", "intercept_record",
            "credentials", "target", "result_record", "respond", "append_queue",
            "append_head", "append_statement",
        ] {
            let (was, _, _) = stage_histogram(&before, stage);
            let (now, inf, rising) = stage_histogram(&after, stage);
            assert!(now > was, "{}: stage {stage} not counted: {was} then {now}", s.backend);
            assert_eq!(inf, now, "{}: +Inf bucket of {stage} is its count", s.backend);
            assert!(rising, "{}: {stage}: 71 bounds and +Inf, cumulative", s.backend);
        }
    }
}

/// The database goes as an escalated call's approval request is stored: the write may
/// have landed with its acknowledgement lost, so the agent is not told that nothing
/// happened but given the request's id to poll. PostgreSQL answers the insert with a
/// connection failure (SQLSTATE 08006, raised by a trigger): here the write did not land,
/// so the poll is a 404, and nothing reached the target.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_approval_request_whose_write_may_have_landed_is_named_for_the_agent_to_poll() {
    if !Backend::Postgres.available() {
        return;
    }
    let s = crate::harness::start(Backend::Postgres).await;
    let pool = s.running.store.pool();
    for ddl in [
        "CREATE FUNCTION lost_ack() RETURNS trigger LANGUAGE plpgsql AS \
         $$ BEGIN RAISE EXCEPTION 'connection lost' USING ERRCODE = '08006'; END $$",
        "CREATE TRIGGER lost_ack BEFORE INSERT ON approvals FOR EACH ROW EXECUTE FUNCTION lost_ack()",
    ] {
        sqlx::query(ddl).execute(pool).await.unwrap();
    }
    let key = s.agent_key(TRIAGE);
    let (status, body) = s.execute(&key, contain_call()).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["error"]["code"], "approval_unconfirmed", "{body}");
    assert!(error_message(&body).contains("poll"), "{body}");
    let id = body["error"]["approval_id"].as_str().unwrap();
    let (status, polled) = TestServer::answer(
        s.http
            .get(s.url(&format!("/v1/sdk/approvals/{id}?wait_seconds=0")))
            .bearer_auth(&key),
    )
    .await;
    assert_eq!(status, 404, "{polled}");
    assert_eq!(crate::harness::containments(&s), 0);

    sqlx::query("DROP TRIGGER lost_ack ON approvals")
        .execute(pool)
        .await
        .unwrap();
    let (status, body) = s.execute(&key, contain_call()).await;
    assert_eq!(status, 202, "the next request is stored: {body}");
}

backend_tests! {
    /// Kept rows (issue 14, point 2): a warm call reads neither its key nor its instance
    /// (with both tables renamed away on SQLite, or locked on PostgreSQL, it still runs),
    /// yet a change written straight to the database, as another process would, takes
    /// effect on the very next call.
    async fn kept_rows_serve_calls_until_the_database_says_they_changed(s: TestServer) {
        let b = s.backend;
        let key = s.agent_key(TRIAGE);
        let agent = s.agent_id(TRIAGE);
        let pool = s.running.store.pool();
        let sql = |q: String| async move { sqlx::query(&q).execute(pool).await.unwrap() };
        assert_eq!(s.execute(&key, permit_call()).await.0, 200, "{b}");

        // PostgreSQL's prepared statements follow a renamed table, so there the tables
        // are locked instead: a read would wait on the lock, past the deadline.
        let warm = std::time::Duration::from_secs(10);
        let (st, out) = if b == "sqlite" {
            sql("ALTER TABLE agent_keys RENAME TO agent_keys_away".into()).await;
            sql("ALTER TABLE instances RENAME TO instances_away".into()).await;
            let answer = tokio::time::timeout(warm, s.execute(&key, permit_call())).await;
            sql("ALTER TABLE agent_keys_away RENAME TO agent_keys".into()).await;
            sql("ALTER TABLE instances_away RENAME TO instances".into()).await;
            answer.unwrap()
        } else {
            let mut lock = pool.begin().await.unwrap();
            sqlx::query("LOCK TABLE agent_keys, instances IN ACCESS EXCLUSIVE MODE")
                .execute(&mut *lock)
                .await
                .unwrap();
            let answer = tokio::time::timeout(warm, s.execute(&key, permit_call())).await;
            lock.rollback().await.unwrap();
            answer.expect("a warm call waited on a lock of the key or instance table")
        };
        assert_eq!(st, 200, "{b}: a warm call reads neither table: {out}");

        let before = s.sim().request_count();
        sql(format!("UPDATE agents SET status = 'suspended' WHERE id = '{agent}'")).await;
        let (st, out) = s.execute(&key, permit_call()).await;
        assert_eq!((st, out["error"]["risk_score"].as_u64()), (403, Some(100)), "{b}: {out}");
        assert_eq!(s.sim().request_count(), before, "{b}");
        sql(format!("UPDATE agents SET status = 'active' WHERE id = '{agent}'")).await;
        assert_eq!(s.execute(&key, permit_call()).await.0, 200, "{b}");

        sql(format!("UPDATE agent_keys SET revoked_ms = 1 WHERE agent_id = '{agent}'")).await;
        let (st, out) = s.execute(&key, permit_call()).await;
        assert_eq!(st, 401, "{b}: {out}");
        assert!(error_message(&out).contains("revoked"), "{b}: {out}");

        // Nothing was recorded on the stale rows: the last intercept is the last 200's.
        let verdicts: Vec<String> = s
            .audit_of("execute.intercept")
            .await
            .iter()
            .map(|r| r["fields"]["verdict"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(verdicts, ["PERMIT", "PERMIT", "DENY", "PERMIT"], "{b}");
    }
}

/// Two replicas on one PostgreSQL: each keeps its callers' rows in memory, yet a
/// change made through one (an agent suspended and reactivated, a second instance, a
/// policy, a key revoked) takes effect on the very next call on the other.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_on_one_replica_takes_effect_on_the_next_call_on_the_other() {
    let Some((a, b)) = crate::harness::two_replicas().await else {
        return;
    };
    let key = a.agent_key(TRIAGE);
    let agent = a.agent_id(TRIAGE);
    let on_b = |body: Value| {
        let (http, url, key) = (
            a.http.clone(),
            format!("http://{}/v1/sdk/execute", b.addr),
            key.clone(),
        );
        async move { TestServer::answer(http.post(url).bearer_auth(key).json(&body)).await }
    };
    for _ in 0..3 {
        assert_eq!(on_b(permit_call()).await.0, 200);
    }

    let (st, _) = a.admin().suspend_agent(&agent, "drift").await;
    assert_eq!(st, 204);
    let (st, out) = on_b(permit_call()).await;
    assert_eq!(
        (st, out["error"]["risk_score"].as_u64()),
        (403, Some(100)),
        "suspended on A, denied on B: {out}"
    );
    a.admin()
        .post(
            &format!("/v1/admin/agents/{agent}/reactivate"),
            json!({"reason": "reviewed"}),
        )
        .await;
    assert_eq!(on_b(permit_call()).await.0, 200, "reactivated on A");

    let (st, out) = TestServer::answer(
        a.http
            .post(a.url("/v1/admin/instances"))
            .bearer_auth(a.admin_token())
            .json(
                &json!({"connector": "crowdstrike", "name": "second", "environment": "prod",
                          "variables": a.sim().variables_for("crowdstrike"),
                          "credentials": arx_simulator::demo_credentials("crowdstrike")}),
            ),
    )
    .await;
    assert_eq!(st, 201, "{out}");
    let (st, out) = on_b(permit_call()).await;
    assert_eq!(st, 400, "a second instance on A: B asks which: {out}");
    assert!(error_message(&out).contains("several instances"), "{out}");
    let mut named = permit_call();
    named["instance"] = json!("second");
    assert_eq!(on_b(named.clone()).await.0, 200);

    let deny =
        "rules:\n  - id: no-detections\n    when: crowdstrike.detections:read\n    then: DENY\n";
    assert_eq!(a.put_policy(&a.admin_token(), deny).await, 200);
    let (st, out) = on_b(named.clone()).await;
    assert_eq!(st, 403, "a policy applied on A: {out}");
    assert_eq!(out["error"]["code"], "permission_denied");

    let (st, _) = a.admin().revoke_first_key(&agent).await;
    assert_eq!(st, 204);
    let (st, out) = on_b(named).await;
    assert_eq!(st, 401, "revoked on A: {out}");
    assert!(error_message(&out).contains("revoked"), "{out}");
}
