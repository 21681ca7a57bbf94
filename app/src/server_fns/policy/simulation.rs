//! Simulations: start one over the last N days (admins), follow its progress, cancel it.

use leptos::prelude::*;

use crate::types::SimView;

/// Starts replaying `yaml` over the last `days` days and opens its page.
#[server]
pub async fn start_simulation(yaml: String, days: String) -> Result<(), ServerFnError> {
    use crate::server_fns::ssr::{engine, flash_form, principal, refuse_form, to_error};
    use arx_core::engine::SimRange;
    use arx_core::policy::PolicyDoc;
    let p = principal().await?;
    let engine = engine();
    let admin = engine.admin(&p).map_err(to_error)?;
    let typed = [("yaml", yaml.as_str()), ("days", days.as_str())];
    let days: i64 = match days.trim().parse() {
        Ok(d) if (1..=365).contains(&d) => d,
        _ => {
            let message = "the range must be a whole number of days from 1 to 365";
            return refuse_form(SIMULATION_FORM, Some("days"), message, &typed).await;
        }
    };
    let doc = match PolicyDoc::from_yaml(&yaml) {
        Ok(d) => d,
        Err(e) => {
            return refuse_form(SIMULATION_FORM, Some("yaml"), e.to_string(), &typed).await;
        }
    };
    let now = engine.now_ms();
    let range = SimRange {
        from_ms: Some(now - days * 86_400_000),
        to_ms: Some(now),
    };
    match admin.start_simulation(doc, range).await {
        Ok(r) => leptos_axum::redirect(&format!("/policies/simulate?id={}", r.id)),
        Err(e) => {
            return flash_form::<()>(SIMULATION_FORM, Err(e), &typed, |_| (String::new(), None))
                .await;
        }
    }
    Ok(())
}

/// The name of the simulation form's refusals.
pub const SIMULATION_FORM: &str = "simulation";

#[server]
pub async fn get_simulation(id: String) -> Result<Option<SimView>, ServerFnError> {
    use crate::server_fns::ssr::{engine, format_ms, principal, to_error};
    use crate::types::{SimChangeView, SimRuleView};
    let p = principal().await?;
    let Ok(id) = id.parse() else {
        return Ok(None);
    };
    let r = match engine().reader(&p).simulation(id).await {
        Ok(r) => r,
        Err(arx_core::CoreError::NotFound(_)) => return Ok(None),
        Err(e) => return Err(to_error(e)),
    };
    let c = |c: &arx_core::engine::SimCounts| (c.permit, c.escalate, c.deny);
    Ok(Some(SimView {
        id: r.id.to_string(),
        status: r.status.as_str().into(),
        percent: r.percent(),
        scanned: r.scanned,
        total: r.total,
        replayed: r.replayed,
        range: format!("{} – {}", format_ms(r.from_ms), format_ms(r.to_ms)),
        proposal: r.proposal.clone(),
        was: c(&r.was),
        would: c(&r.would),
        rules: r
            .rules
            .iter()
            .map(|row| SimRuleView {
                policy_id: row.policy_id.clone(),
                was: c(&row.was),
                would: c(&row.would),
            })
            .collect(),
        changed_total: r.changed_total,
        changed: r
            .changed
            .iter()
            .map(|ch| SimChangeView {
                seq: ch.seq,
                ts: ch.ts.replace('T', " ").chars().take(19).collect(),
                agent: ch.agent.clone(),
                connector: ch.connector.clone(),
                operation: ch.operation.clone(),
                risk: ch.risk_score,
                was: ch.was.as_str().into(),
                was_policy: ch.was_policy.clone(),
                would: ch.would.as_str().into(),
                would_policy: ch.would_policy.clone(),
            })
            .collect(),
        error: r.error.clone(),
    }))
}

#[server]
pub async fn cancel_simulation(id: String) -> Result<(), ServerFnError> {
    use crate::server_fns::ssr::{engine, invalid, principal, to_error};
    let p = principal().await?;
    let engine = engine();
    let id = id
        .parse()
        .map_err(|_| invalid("that simulation id is not valid"))?;
    engine
        .admin(&p)
        .map_err(to_error)?
        .cancel_simulation(id)
        .await
        .map_err(to_error)?;
    Ok(())
}
