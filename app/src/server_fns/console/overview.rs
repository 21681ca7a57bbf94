//! The home page's figures.

use leptos::prelude::*;

use crate::types::Overview;

#[server]
pub async fn get_overview() -> Result<Overview, ServerFnError> {
    use super::super::ssr::{audit_row, engine, principal, to_error};
    use arx_core::audit::AuditEvent;
    use arx_core::model::AgentStatus;
    use arx_core::policy::Verdict;
    let p = principal().await?;
    let engine = engine();
    let r = engine.reader(&p);
    let by_status = r.agents_by_status().await.map_err(to_error)?;
    let recent = r.audit_page(None, 200).await.map_err(to_error)?;
    let pending = r
        .approvals(Some(arx_core::model::ApprovalStatus::Pending))
        .await
        .map_err(to_error)?;
    let mut verdicts = (0, 0, 0);
    for rec in recent
        .iter()
        .filter(|r| r.kind == arx_core::audit::INTERCEPT)
    {
        if let Ok(AuditEvent::Intercept(i)) = rec.event() {
            match i.verdict {
                Verdict::Permit => verdicts.0 += 1,
                Verdict::Escalate => verdicts.1 += 1,
                Verdict::Deny => verdicts.2 += 1,
            }
        }
    }
    let fleet = by_status
        .iter()
        .map(|(s, n)| (s.as_str().to_string(), *n))
        .collect();
    let open_drift = r
        .open_drift_counts()
        .await
        .map_err(to_error)?
        .into_iter()
        .map(|(s, n)| (s.as_str().to_string(), n))
        .collect();
    let daily = r.daily_stats().await.map_err(to_error)?;
    let glass = r.break_glass_use().await.map_err(to_error)?;
    let names = r
        .agent_names(pending.iter().rev().take(5).map(|a| a.agent_id))
        .await
        .map_err(to_error)?;
    let window = "last 7 days, UTC days".to_string();
    use super::charts_svg::{calls_chart, day_label, risk_chart};
    let days = daily
        .calls
        .iter()
        .zip(&daily.risk)
        .map(|(c, k)| crate::types::DayRow {
            day: day_label(c.day_ms),
            permit: c.verdicts.permit,
            escalate: c.verdicts.escalate,
            deny: c.verdicts.deny,
            max_risk: k.max(),
            p95_risk: k.quantile(0.95),
            median_risk: k.quantile(0.5),
        })
        .collect();
    Ok(Overview {
        calls_chart: calls_chart(&daily.calls, &window),
        risk_chart: risk_chart(&daily.risk, &window),
        chart_window: window,
        days,
        fleet,
        open_drift,
        active_agents: by_status
            .iter()
            .find(|(s, _)| *s == AgentStatus::Active)
            .map_or(0, |(_, n)| *n),
        agents: by_status.iter().map(|(_, n)| n).sum(),
        instances: r.instances().await.map_err(to_error)?.len(),
        records: r.audit_count().await.map_err(to_error)?,
        pending_approvals: pending.len(),
        queue: pending
            .iter()
            .rev()
            .take(5)
            .map(|a| crate::server_fns::approvals::ssr::row(a, &names, engine.now_ms()))
            .collect(),
        verdicts,
        recent: recent.iter().take(8).map(audit_row).collect(),
        break_glass: glass.email.map(|email| {
            (
                email,
                glass.sign_ins_30d,
                glass.last_ms.map(super::super::ssr::format_ms),
            )
        }),
    })
}
