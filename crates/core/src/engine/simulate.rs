//! Policy simulation (docs/architecture.md §5): replay a proposed policy over the intercept
//! records of a time range and compare what it would decide with what was decided.
//! A simulation runs as a background job with progress and can be cancelled; it reads
//! only the intercept records of the range (an index seeks to it) and changes nothing.
//! Its report is stored, so every replica shows it and any replica can cancel it.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::admin::{AdminOps, ReadOps};
use crate::audit::event::Intercept;
use crate::audit::{AuditEvent, AuditRecord, INTERCEPT};
use crate::error::CoreError;
use crate::ids::OrgId;
pub use crate::ids::SimId;
use crate::model::simulation::STALE_MS;
pub use crate::model::simulation::{
    SimChange, SimCounts, SimRange, SimRuleRow, SimStatus, SimulationReport, StoredSimulation,
};
use crate::policy::{CompiledPolicy, PolicyDoc, PolicySettings, Verdict};
use crate::store::Store;

/// How many records one read brings; progress is reported after each.
const PAGE: u32 = 500;
/// How many changed calls a report lists (all are counted).
const CHANGED_MAX: usize = 500;
/// How many finished jobs are kept per org.
const JOBS_MAX: u32 = 50;
/// How often a running job writes its report (it reads whether it was cancelled after
/// every page).
const REPORT_EVERY: std::time::Duration = std::time::Duration::from_millis(250);
const DAY_MS: i64 = 86_400_000;

/// Decides a recorded call under `policy`, from the facts its intercept record holds;
/// the gate (suspended agents) stays as it was.
fn replay(settings: &PolicySettings, policy: &CompiledPolicy, r: &Intercept) -> (Verdict, String) {
    if r.policy_id.starts_with("gate:") {
        return (r.verdict, r.policy_id.clone());
    }
    let d = crate::policy::evaluate(settings, policy, &r.policy_input(r.grant_id.as_deref()));
    (d.verdict, d.policy_id)
}

struct Tally {
    rules: BTreeMap<String, SimRuleRow>,
}

impl Tally {
    fn row(&mut self, policy_id: &str) -> &mut SimRuleRow {
        self.rules
            .entry(policy_id.to_string())
            .or_insert_with(|| SimRuleRow {
                policy_id: policy_id.to_string(),
                ..Default::default()
            })
    }

    fn add(
        &mut self,
        report: &mut SimulationReport,
        rec: &AuditRecord,
        r: &Intercept,
        would: (Verdict, String),
    ) {
        report.replayed += 1;
        report.was.add(r.verdict);
        report.would.add(would.0);
        self.row(&r.policy_id).was.add(r.verdict);
        self.row(&would.1).would.add(would.0);
        if would.0 != r.verdict {
            report.changed_total += 1;
            if report.changed.len() < CHANGED_MAX {
                report.changed.push(SimChange {
                    audit_id: rec.id.to_string(),
                    seq: rec.seq,
                    ts: rec.ts.clone(),
                    agent: r.agent.clone(),
                    connector: r.connector.clone(),
                    operation: r.operation.clone(),
                    risk_score: r.risk.score,
                    was: r.verdict,
                    was_policy: r.policy_id.clone(),
                    would: would.0,
                    would_policy: would.1,
                });
            }
        }
    }
}

async fn run(
    store: Arc<dyn Store>,
    org: OrgId,
    mut report: SimulationReport,
    doc: PolicyDoc,
    policy: CompiledPolicy,
    clock: Arc<dyn crate::clock::Clock>,
) {
    let (from, to) = (report.from_ms, report.to_ms);
    let mut tally = Tally {
        rules: BTreeMap::new(),
    };
    let mut after = None;
    let mut reported: Option<std::time::Instant> = None;
    let outcome: Result<SimStatus, CoreError> = async {
        loop {
            if reported.is_none_or(|t| t.elapsed() >= REPORT_EVERY) {
                report.rules = tally.rules.values().cloned().collect();
                store.put_simulation(org, &report, clock.now_ms()).await?;
                reported = Some(std::time::Instant::now());
            }
            if store.simulation_cancel_requested(org, report.id).await? {
                return Ok(SimStatus::Cancelled);
            }
            let page = store
                .audit_in_range(org, INTERCEPT, (from, to), after, PAGE)
                .await?;
            let Some(last) = page.last() else {
                return Ok(SimStatus::Done);
            };
            after = Some((last.ts_ms(), last.seq));
            for rec in &page {
                report.scanned += 1;
                let Ok(AuditEvent::Intercept(r)) = rec.event() else {
                    continue;
                };
                let would = replay(&doc.settings, &policy, &r);
                tally.add(&mut report, rec, &r, would);
            }
            report.total = report.total.max(report.scanned);
            tokio::task::yield_now().await;
        }
    }
    .await;
    report.rules = tally.rules.into_values().collect();
    report.finished_ms = Some(clock.now_ms());
    match outcome {
        Ok(s) => report.status = s,
        Err(e) => {
            tracing::warn!(error = %e, "simulation failed");
            report.status = SimStatus::Failed;
            report.error = Some(e.public_message());
        }
    }
    if let Err(e) = store.put_simulation(org, &report, clock.now_ms()).await {
        tracing::error!(error = %e, simulation = %report.id, "could not store a simulation's final report");
    }
}

impl AdminOps<'_> {
    /// Starts replaying `doc` over the org's intercept records in `range`.
    pub async fn start_simulation(
        &self,
        doc: PolicyDoc,
        range: SimRange,
    ) -> Result<SimulationReport, CoreError> {
        let policy = doc.compile().map_err(CoreError::InvalidPolicy)?;
        let engine = self.engine;
        let reader = engine.reader(self.who);
        let current = reader.policy().await?;
        let now = engine.now_ms();
        let to_ms = range.to_ms.unwrap_or(now);
        let from_ms = range.from_ms.unwrap_or(to_ms - 30 * DAY_MS);
        if from_ms > to_ms {
            return Err(CoreError::InvalidRequest(
                "the range starts after it ends".into(),
            ));
        }
        let total = engine
            .store
            .audit_count_in_range(self.who.org_id, INTERCEPT, (from_ms, to_ms))
            .await?;
        let report = SimulationReport::new(
            from_ms,
            to_ms,
            total,
            now,
            crate::policy::PolicyDiff::between(&current.doc, &doc).summary(),
        );
        let store = engine.store.clone();
        let org = self.who.org_id;
        store.put_simulation(org, &report, now).await?;
        if let Err(e) = store.prune_simulations(org, JOBS_MAX, now - STALE_MS).await {
            tracing::warn!(error = %e, "pruning old simulations failed");
        }
        tokio::spawn(run(
            store,
            org,
            report.clone(),
            doc,
            policy,
            engine.clock.clone(),
        ));
        Ok(report)
    }

    /// Asks a running simulation to stop; the replica running it stops within a moment.
    pub async fn cancel_simulation(&self, id: SimId) -> Result<SimulationReport, CoreError> {
        let store = &self.engine.store;
        store.cancel_simulation(self.who.org_id, id).await?;
        self.engine.reader(self.who).simulation(id).await
    }
}

impl ReadOps<'_> {
    pub async fn simulation(&self, id: SimId) -> Result<SimulationReport, CoreError> {
        let found = self.engine.store.simulation(self.who.org_id, id).await?;
        let found = found.ok_or_else(|| CoreError::NotFound(format!("no simulation {id}")))?;
        Ok(found.view(self.engine.now_ms()))
    }

    /// This org's recent simulations, newest first.
    pub async fn simulations(&self) -> Result<Vec<SimulationReport>, CoreError> {
        let now = self.engine.now_ms();
        let all = self
            .engine
            .store
            .simulations(self.who.org_id, JOBS_MAX)
            .await?;
        Ok(all.into_iter().map(|s| s.view(now)).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn running(updated_ms: i64) -> StoredSimulation {
        StoredSimulation {
            report: SimulationReport::new(0, 1, 100, 0, String::new()),
            cancel_requested: false,
            updated_ms,
        }
    }

    #[test]
    fn a_running_job_that_stopped_reporting_shows_as_failed() {
        let now = 1_000_000;
        let fresh = running(now - STALE_MS).view(now);
        assert_eq!((fresh.status, fresh.error), (SimStatus::Running, None));
        let stale = running(now - STALE_MS - 1).view(now);
        assert_eq!(stale.status, SimStatus::Failed);
        assert!(stale.error.unwrap().contains("stopped reporting progress"));
    }
}
