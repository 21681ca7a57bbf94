//! Suspend an agent, or make a suspended or throttled one active again (admins), with
//! the reason the audit trail keeps.

use leptos::prelude::*;

#[server]
pub async fn set_agent_status(
    agent_id: String,
    to: String,
    #[server(default)] reason: String,
) -> Result<(), ServerFnError> {
    use crate::server_fns::ssr::{engine, flash, flash_outcome, principal};
    use arx_core::model::AgentStatus;
    let p = principal().await?;
    let engine = engine();
    let to = match to.as_str() {
        "active" => AgentStatus::Active,
        "suspended" => AgentStatus::Suspended,
        _ => return flash(false, "an agent is made active or suspended here", None).await,
    };
    let Ok(id) = agent_id.parse() else {
        return flash(false, "that agent id is not valid", None).await;
    };
    // A lower role is told so in the flash, not with an error page.
    let r = match engine.admin(&p) {
        Ok(admin) => admin.set_agent_status(id, to, &reason).await,
        Err(e) => Err(e),
    };
    flash_outcome(r, |()| {
        let msg = match to {
            AgentStatus::Active => {
                "The agent is active again; its calls are evaluated from now on."
            }
            _ => "The agent is suspended: its calls are denied and its grants ended.",
        };
        (msg.to_string(), None)
    })
    .await
}
