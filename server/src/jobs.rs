//! Background jobs: what runs on a timer or follows events, besides requests.
//!
//! Replicas sharing a PostgreSQL database all run this scheduler, but a periodic job
//! that acts on the shared data ([`Leased`]: approval and grant expiry, response purge,
//! recovery of interrupted calls) runs only on the replica holding its lease in the
//! database (`job_leases`). The holder renews the lease on every run; when it dies, the
//! lease runs out and the next replica to try takes the job over, within the lease time
//! plus one period. Compare-and-set transitions already keep each change single; the
//! lease keeps the work itself from being repeated by every replica. On SQLite one
//! process owns the database, so it holds every lease without asking.
//!
//! Some work is about this process only and runs on every replica, unleased: forgetting
//! old sign-in failures (kept in this process's memory), writing the summaries of this
//! process's refused-attempt bursts, recovering at start the calls this process was
//! running when it stopped (see [`recover_at_start`]), and the approval notifier.
//!
//! Simulations are not jobs here: one is started by a request and runs on the replica
//! that took it; nothing resumes them at start (a stopped one shows as failed).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use arx_core::store::LeaseStore;
use arx_core::{CoreError, Engine};
use tokio::task::JoinHandle;
use tokio::time::MissedTickBehavior;

use crate::integrations;

/// A periodic job over the shared data, run by one replica at a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Leased {
    /// Expires approval requests nobody decided in time (silence means no) and grants
    /// past their end.
    ApprovalExpiry,
    /// Purges response bodies past their org's retention.
    ResponsePurge,
    /// Fails approved calls whose replica stopped while running them (shared database
    /// only: on SQLite the recovery at start covers them).
    InterruptedCalls,
    /// Signs each chain that moved once its checkpoint interval passed, and writes
    /// pending checkpoints to every witness (a witness that was down catches up here).
    Witness,
    /// Sends each org's new audit records to its SIEM streams, from each stream's cursor.
    Streams,
    /// SQLite: copies the records each chain has and its search index lacks (the index
    /// trails the chain so that an append is cheap; searches catch up their own org
    /// first).
    AuditIndex,
}

impl Leased {
    pub const ALL: [Leased; 6] = [
        Leased::ApprovalExpiry,
        Leased::ResponsePurge,
        Leased::InterruptedCalls,
        Leased::Witness,
        Leased::Streams,
        Leased::AuditIndex,
    ];

    /// The lease's name in `job_leases`.
    pub fn name(self) -> &'static str {
        match self {
            Leased::ApprovalExpiry => "approval-expiry",
            Leased::ResponsePurge => "response-purge",
            Leased::InterruptedCalls => "interrupted-calls",
            Leased::Witness => "witness",
            Leased::Streams => "streams",
            Leased::AuditIndex => "audit-index",
        }
    }

    fn period(self) -> Duration {
        match self {
            Leased::ApprovalExpiry => Duration::from_secs(1),
            Leased::Witness => Duration::from_secs(5),
            Leased::Streams => Duration::from_secs(1),
            Leased::AuditIndex => Duration::from_millis(500),
            Leased::ResponsePurge | Leased::InterruptedCalls => Duration::from_secs(60),
        }
    }

    /// When the first run comes after start: spread so the minute's jobs do not run
    /// together (and as they always did).
    fn first_after(self) -> Duration {
        match self {
            Leased::ApprovalExpiry => Duration::ZERO,
            Leased::Witness => Duration::from_secs(3),
            Leased::Streams => Duration::from_secs(1),
            Leased::AuditIndex => Duration::ZERO,
            Leased::ResponsePurge => Duration::from_secs(30),
            Leased::InterruptedCalls => Duration::from_secs(59),
        }
    }

    /// How long a run's lease holds: the configured time, but at least three periods so
    /// a live holder, renewing every period, never lets it lapse between two runs.
    fn ttl_ms(self, lease_ms: u64) -> i64 {
        let periods = u64::try_from(self.period().as_millis() * 3).unwrap_or(u64::MAX);
        i64::try_from(lease_ms.max(periods)).unwrap_or(i64::MAX)
    }

    /// One run; how many things it changed.
    async fn run(self, engine: &Engine) -> Result<u64, CoreError> {
        match self {
            Leased::ApprovalExpiry => engine.system().expire_due().await.map(count),
            Leased::ResponsePurge => engine.system().purge_responses().await,
            Leased::Witness => engine.system().witness_all().await,
            Leased::Streams => engine.system().stream_all().await,
            Leased::AuditIndex => engine.system().index_audit().await,
            Leased::InterruptedCalls => {
                let failed = engine.system().recover_interrupted(false).await?;
                if failed > 0 {
                    tracing::warn!(
                        failed,
                        "approved calls whose replica stopped while running them were marked failed"
                    );
                }
                Ok(count(failed))
            }
        }
    }

    fn failed(self) -> &'static str {
        match self {
            Leased::ApprovalExpiry => "expiring approval requests failed; retrying",
            Leased::ResponsePurge => "purging response bodies failed; retrying",
            Leased::InterruptedCalls => "recovering interrupted calls failed; retrying",
            Leased::Witness => "signing or writing checkpoints failed; retrying",
            Leased::Streams => "streaming audit records failed; retrying",
            Leased::AuditIndex => "indexing audit records for search failed; retrying",
        }
    }
}

fn count(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

/// What this replica did of one leased job (for operators and tests).
#[derive(Debug, Default)]
struct Counter {
    /// Runs done while holding the lease.
    runs: AtomicU64,
    /// Things those runs changed (requests expired, bodies purged, calls failed).
    changed: AtomicU64,
}

/// The running jobs of one server: stop them, or ask what they did.
pub struct Jobs {
    holder: String,
    leases: Arc<dyn LeaseStore>,
    counters: Arc<HashMap<Leased, Counter>>,
    tasks: Vec<JoinHandle<()>>,
}

impl Jobs {
    /// This replica's name as a lease holder (new at each start).
    pub fn holder(&self) -> &str {
        &self.holder
    }

    /// How many runs of `job` this replica did, holding its lease.
    pub fn runs(&self, job: Leased) -> u64 {
        self.counters
            .get(&job)
            .map_or(0, |c| c.runs.load(Ordering::Relaxed))
    }

    /// How many things (requests expired, bodies purged...) this replica's runs of `job`
    /// changed.
    pub fn changed(&self, job: Leased) -> u64 {
        self.counters
            .get(&job)
            .map_or(0, |c| c.changed.load(Ordering::Relaxed))
    }

    /// Stops every job at once, as if the process died: its leases stay until they run
    /// out.
    pub fn abort(&self) {
        for t in &self.tasks {
            t.abort();
        }
    }

    /// Stops every job and gives up this replica's leases, so another replica takes the
    /// jobs over at once (a clean shutdown).
    pub async fn shutdown(&self) {
        self.abort();
        for job in Leased::ALL {
            if let Err(e) = self.leases.release_lease(job.name(), &self.holder).await {
                tracing::warn!(job = job.name(), error = %e, "releasing a job lease failed; it runs out by itself");
            }
        }
    }
}

/// Calls that were approved or running when this process last stopped are marked failed,
/// never run again (see [`Engine::recover_interrupted`]). Once, at start, on every
/// replica: it is about this process's own restart.
pub async fn recover_at_start(engine: &Engine) -> Result<(), String> {
    let recovered = engine
        .system()
        .recover_interrupted(true)
        .await
        .map_err(|e| format!("recovering approvals failed: {e:?}"))?;
    if recovered > 0 {
        tracing::warn!(
            recovered,
            "approved calls interrupted by the last stop were marked failed"
        );
    }
    // Orgs from before manifests: their agents get generated first versions, once.
    let orgs = engine
        .system()
        .orgs()
        .await
        .map_err(|e| format!("listing orgs failed: {e:?}"))?;
    for org in orgs {
        let generated = engine
            .system()
            .enable_registry(org.id)
            .await
            .map_err(|e| format!("turning the registry on for {} failed: {e:?}", org.slug))?;
        if !generated.is_empty() {
            tracing::warn!(org = %org.slug, agents = ?generated, "agents from before manifests were given generated manifests; review them");
        }
    }
    Ok(())
}

/// Starts every background job of this server; they stop when the engine is dropped.
/// `lease_ms` is how long a leased job's holder keeps it without renewing.
pub fn start(
    engine: &Arc<Engine>,
    leases: Arc<dyn LeaseStore>,
    hub: Arc<integrations::Hub>,
    lease_ms: u64,
) -> Jobs {
    // Slack, Teams and webhook notices follow every approval event of this process;
    // claims in the database make one process send each notice.
    integrations::notifier::spawn(engine.clone(), hub);

    let holder = uuid::Uuid::new_v4().to_string();
    let counters: Arc<HashMap<Leased, Counter>> = Arc::new(
        Leased::ALL
            .into_iter()
            .map(|j| (j, Counter::default()))
            .collect(),
    );
    let shared = leases.shared();
    let mut tasks = vec![tokio::spawn(per_process(Arc::downgrade(engine)))];
    for job in Leased::ALL {
        if job == Leased::InterruptedCalls && !shared {
            continue;
        }
        // A shared database is PostgreSQL, whose search index is the chain's own
        // (migration 0029): nothing to copy, no lease to renew for it.
        if job == Leased::AuditIndex && shared {
            continue;
        }
        let run = LeasedRun {
            job,
            engine: Arc::downgrade(engine),
            leases: leases.clone(),
            holder: holder.clone(),
            ttl_ms: job.ttl_ms(lease_ms),
            counters: counters.clone(),
        };
        tasks.push(tokio::spawn(run.run()));
    }
    Jobs {
        holder,
        leases,
        counters,
        tasks,
    }
}

/// This process's own upkeep, on every replica and never leased: the state it works on
/// is in this process's memory, which no other replica can reach.
async fn per_process(engine: Weak<Engine>) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
    for n in 0u64.. {
        tick.tick().await;
        let Some(engine) = engine.upgrade() else {
            return;
        };
        // Summaries of this process's refused-attempt bursts whose window closed.
        if let Err(e) = engine.system().flush_refusals().await {
            tracing::warn!(error = %e, "recording refused-attempt summaries failed; retrying");
        }
        if n % 60 == 0 {
            engine.prune_login_failures();
        }
    }
}

/// One leased job's loop on this replica.
struct LeasedRun {
    job: Leased,
    engine: Weak<Engine>,
    leases: Arc<dyn LeaseStore>,
    holder: String,
    ttl_ms: i64,
    counters: Arc<HashMap<Leased, Counter>>,
}

impl LeasedRun {
    async fn run(self) {
        tokio::time::sleep(self.job.first_after()).await;
        let mut tick = tokio::time::interval(self.job.period());
        tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut holding = false;
        loop {
            tick.tick().await;
            let Some(engine) = self.engine.upgrade() else {
                // The server is gone: let another replica have the job now.
                let _ = self
                    .leases
                    .release_lease(self.job.name(), &self.holder)
                    .await;
                return;
            };
            let held = self.lease().await;
            if held != holding && self.leases.shared() {
                tracing::info!(
                    job = self.job.name(),
                    holder = %self.holder,
                    "{}",
                    if held {
                        "this replica now runs the job"
                    } else {
                        "another replica runs the job now"
                    }
                );
            }
            holding = held;
            if !held {
                continue;
            }
            match self.job.run(&engine).await {
                Ok(changed) => {
                    if let Some(c) = self.counters.get(&self.job) {
                        c.runs.fetch_add(1, Ordering::Relaxed);
                        c.changed.fetch_add(changed, Ordering::Relaxed);
                    }
                }
                Err(e) => {
                    tracing::warn!(job = self.job.name(), error = %e, "{}", self.job.failed())
                }
            }
        }
    }

    /// Takes or renews the lease. An embedded database has this process only, which
    /// holds every lease. When the database cannot say, the job does not run (another
    /// replica may hold it); the next period asks again.
    async fn lease(&self) -> bool {
        if !self.leases.shared() {
            return true;
        }
        match self
            .leases
            .try_lease(self.job.name(), &self.holder, wall_ms(), self.ttl_ms)
            .await
        {
            Ok(held) => held,
            Err(e) => {
                tracing::warn!(job = self.job.name(), error = %e, "taking a job lease failed; skipping this run");
                false
            }
        }
    }
}

/// Leases are compared across processes, so they use the wall clock, not the engine's
/// (tests move that one); replicas' clocks must agree well within the lease time.
fn wall_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}
