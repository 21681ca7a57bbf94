//! Background jobs across replicas: a periodic job runs on the one replica holding its
//! lease, and another takes it over when that one dies.

use arx_testkit::Backend;
use std::time::{Duration, Instant};

use arx_core::ids::{ApprovalId, OrgId};
use arx_core::model::ApprovalStatus;
use arx_core::store::prelude::*;
use arx_server::Running;
use arx_server::jobs::Leased;
use serde_json::{Value, json};

use crate::harness::{TestServer, contain};

const SWEEP: Leased = Leased::ApprovalExpiry;

/// Escalates a containment through `server` (either replica); the pending request's id.
async fn pending(a: &TestServer, server: &Running, host: &str) -> ApprovalId {
    let mut body = contain(host);
    body["wait_seconds"] = json!(0);
    let r = a
        .http
        .post(format!("http://{}/v1/sdk/execute", server.addr))
        .bearer_auth(a.agent_key("remediation-agent"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    let out: Value = r.json().await.unwrap();
    out["approval_id"].as_str().unwrap().parse().unwrap()
}

/// Moves the request's expiry into the past, as if its hour had gone by (policy
/// timeouts are a minute at least), without reading it through the engine (a read
/// would expire it on the spot, and the test is about the sweep).
async fn make_due(a: &TestServer, id: ApprovalId) {
    let past = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
        - 1_000;
    sqlx::query("UPDATE approvals SET expires_ms = $1 WHERE id = $2")
        .bind(past)
        .bind(id.to_string())
        .execute(a.running.store.pool())
        .await
        .unwrap();
}

/// Waits (up to `within`) for the sweep to expire the request; how long it took.
async fn expired_within(a: &TestServer, org: OrgId, id: ApprovalId, within: Duration) -> Duration {
    let started = Instant::now();
    loop {
        let now = a.running.store.approval(org, id).await.unwrap().unwrap();
        if now.status == ApprovalStatus::Expired {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < within,
            "{}: still {:?} after {within:?}",
            a.backend,
            now.status
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// What `server`'s sweeps changed, once it reaches `n` (or after 5 s, whatever it is).
async fn counted(server: &Running, n: u64) -> u64 {
    let started = Instant::now();
    while server.jobs.changed(SWEEP) < n && started.elapsed() < Duration::from_secs(5) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    server.jobs.changed(SWEEP)
}

/// The holder of `job`'s lease, as stored.
async fn lease_holder(a: &TestServer, job: Leased) -> Option<String> {
    sqlx::query_scalar("SELECT holder FROM job_leases WHERE job = $1")
        .bind(job.name())
        .fetch_optional(a.running.store.pool())
        .await
        .unwrap()
}

async fn demo_org(a: &TestServer) -> OrgId {
    a.running
        .store
        .org_by_slug("demo")
        .await
        .unwrap()
        .unwrap()
        .id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_replica_sweeps_and_another_takes_over_when_it_dies() {
    let Some((a, b)) = crate::harness::two_replicas().await else {
        return;
    };
    let org = demo_org(&a).await;

    let first = pending(&a, &a.running, "h-lease-1").await;
    make_due(&a, first).await;
    expired_within(&a, org, first, Duration::from_secs(10)).await;

    // Exactly one replica ran the sweep: the one holding its lease.
    let holder = lease_holder(&a, SWEEP)
        .await
        .expect("the sweep's lease is held");
    let (dead, survivor) = if holder == a.running.jobs.holder() {
        (&a.running, &b.running)
    } else {
        assert_eq!(holder, b.jobs.holder(), "the holder is one of the two");
        (&b.running, &a.running)
    };
    // The run counts what it changed once it returns, a moment after the commit.
    assert_eq!(counted(dead, 1).await, 1, "the holder expired it");
    assert_eq!(
        (survivor.jobs.runs(SWEEP), survivor.jobs.changed(SWEEP)),
        (0, 0),
        "the other replica never swept while the lease was held"
    );

    // The holder dies (its jobs and server stop at once, its lease stays behind).
    dead.jobs.abort();
    dead.server.abort();
    let second = pending(&a, survivor, "h-lease-2").await;
    make_due(&a, second).await;
    // The lease (5 s in tests) runs out, then the survivor's next run takes the job.
    let took = expired_within(&a, org, second, Duration::from_secs(20)).await;
    assert!(
        took >= Duration::from_secs(2),
        "not before the lease ran out: {took:?}"
    );
    assert_eq!(counted(survivor, 1).await, 1, "the survivor expired it");
    assert_eq!(
        dead.jobs.changed(SWEEP),
        1,
        "the dead replica did nothing more"
    );
    assert_eq!(
        lease_holder(&a, SWEEP).await.as_deref(),
        Some(survivor.jobs.holder()),
        "the survivor holds the lease now"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_one_process_on_sqlite_runs_every_job_without_leases() {
    let a = crate::harness::start(Backend::Sqlite).await;
    let org = demo_org(&a).await;
    let id = pending(&a, &a.running, "h-sqlite").await;
    make_due(&a, id).await;
    expired_within(&a, org, id, Duration::from_secs(10)).await;
    // The sweep counts what it changed just after the write the loop above saw.
    assert_eq!(counted(&a.running, 1).await, 1);
    assert_eq!(
        lease_holder(&a, SWEEP).await,
        None,
        "an embedded database has one process, which holds every lease without asking"
    );
}
