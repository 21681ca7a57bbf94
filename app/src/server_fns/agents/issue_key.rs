//! Issue an API key for an agent (admins), once confirmed: a key is one more credential
//! that can act as the agent. The key is shown once through the flash.

use leptos::prelude::*;

#[server]
pub async fn issue_key(
    agent_id: String,
    #[server(default)] confirm: Option<String>,
) -> Result<(), ServerFnError> {
    use super::super::ssr::{engine, flash, flash_outcome, principal};
    let p = principal().await?;
    let engine = engine();
    let Ok(id) = agent_id.parse() else {
        return flash(false, "that agent id is not valid", None).await;
    };
    if confirm.is_none() {
        let message =
            "tick the box to confirm: a new key is one more credential that acts as the agent";
        return flash(false, message, None).await;
    }
    // A lower role is told so in the flash, not with an error page.
    let r = match engine.admin(&p) {
        Ok(admin) => admin.issue_agent_key(id).await,
        Err(e) => Err(e),
    };
    flash_outcome(r, |(k, secret)| {
        (
            format!(
                "New key {}… issued. Copy it now: it is shown only once.",
                k.prefix
            ),
            Some(secret),
        )
    })
    .await
}

/// Revoke one of the agent's keys (admins): from the next call it authenticates nothing.
#[server]
pub async fn revoke_key(agent_id: String, key_id: String) -> Result<(), ServerFnError> {
    use super::super::ssr::{engine, flash, flash_outcome, principal};
    let p = principal().await?;
    let engine = engine();
    let (Ok(agent), Ok(key)) = (agent_id.parse(), key_id.parse()) else {
        return flash(false, "that key is not valid", None).await;
    };
    // A lower role is told so in the flash, not with an error page.
    let r = match engine.admin(&p) {
        Ok(admin) => admin.revoke_agent_key(agent, key).await,
        Err(e) => Err(e),
    };
    flash_outcome(r, |()| {
        (
            "Key revoked: from the next call it authenticates nothing.".to_string(),
            None,
        )
    })
    .await
}
