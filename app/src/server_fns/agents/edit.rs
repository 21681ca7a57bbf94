//! Change an agent's owner, description and labels (admins), say, when its owner leaves.

use leptos::prelude::*;

/// The name of the edit form's refusals.
pub const EDIT_FORM: &str = "edit-agent";

#[server]
pub async fn update_agent(
    agent_id: String,
    owner: String,
    description: String,
    labels: String,
) -> Result<(), ServerFnError> {
    use super::super::ssr::{engine, flash, flash_form, principal};
    use super::create::labels_field;
    use arx_core::engine::AgentUpdate;
    let Ok(id) = agent_id.parse() else {
        return flash(false, "that agent id is not valid", None).await;
    };
    let p = principal().await?;
    let engine = engine();
    let typed = [
        ("owner", owner.as_str()),
        ("description", description.as_str()),
        ("labels", labels.as_str()),
    ];
    let r = async {
        let labels = labels_field(&labels)?;
        let update = AgentUpdate {
            owner: Some(owner.clone()),
            description: Some(description.clone()),
            labels: Some(labels),
        };
        engine.admin(&p)?.update_agent(id, update).await
    }
    .await;
    flash_form(EDIT_FORM, r, &typed, |a| {
        (format!("{} is updated.", a.name), None)
    })
    .await
}
