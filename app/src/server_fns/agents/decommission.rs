//! Decommission an agent from the console (admins): the form names what it revokes and
//! asks to confirm; the outcome says what was revoked and where the record is sealed.

use leptos::prelude::*;

#[server]
pub async fn decommission_agent(
    agent_id: String,
    reason: String,
    retention_class: String,
    #[server(default)] replaced_by: String,
    #[server(default)] confirm: Option<String>,
) -> Result<(), ServerFnError> {
    use crate::server_fns::ssr::{engine, flash, flash_form, principal, refuse_form};
    use arx_core::engine::Decommission;
    let typed = [
        ("reason", reason.as_str()),
        ("retention_class", retention_class.as_str()),
        ("replaced_by", replaced_by.as_str()),
    ];
    let Ok(id) = agent_id.parse() else {
        return flash(false, "that agent id is not valid", None).await;
    };
    if confirm.is_none() {
        let message = "tick the box to confirm: decommissioning cannot be undone";
        return refuse_form(DECOMMISSION_FORM, Some("confirm"), message, &typed).await;
    }
    let p = principal().await?;
    let engine = engine();
    let r = async {
        // The successor by name, in this org (the engine checks it may take over).
        let replaced_by = super::agent_id_named(&engine, &p, "replaced_by", &replaced_by).await?;
        let decommission = Decommission {
            reason: reason.clone(),
            retention_class: retention_class.clone(),
            replaced_by,
        };
        engine.admin(&p)?.decommission(id, decommission).await
    }
    .await;
    flash_form(DECOMMISSION_FORM, r, &typed, |d| {
        (
            format!(
                "{} is decommissioned: {} key(s) revoked, {} grant(s) ended, {} pending approval(s) cancelled; its record of {} entries is sealed in the audit trail.",
                d.retirement.agent,
                d.revoked_keys.len(),
                d.ended_grants,
                d.cancelled_approvals.len(),
                d.records.count
            ),
            None,
        )
    })
    .await
}

/// The name of the decommission form's refusals.
pub const DECOMMISSION_FORM: &str = "decommission";
