//! Create an agent (admins). The outcome is left in the flash.

use leptos::prelude::*;

#[server]
pub async fn create_agent(
    name: String,
    owner: String,
    description: String,
    labels: String,
    /// A retired agent this one takes over from, by name (optional).
    replaces: Option<String>,
) -> Result<(), ServerFnError> {
    use super::super::ssr::{engine, flash_form, principal};
    use arx_core::engine::NewAgent;
    let p = principal().await?;
    let engine = engine();
    let replaces = replaces.unwrap_or_default();
    let typed = [
        ("name", name.as_str()),
        ("owner", owner.as_str()),
        ("description", description.as_str()),
        ("labels", labels.as_str()),
        ("replaces", replaces.as_str()),
    ];
    let r = async {
        let labels = labels_field(&labels)?;
        // The predecessor by name, in this org (the engine checks it is retired).
        let replaces = super::agent_id_named(&engine, &p, "replaces", &replaces).await?;
        engine
            .admin(&p)?
            .create_agent(NewAgent {
                name: name.clone(),
                owner: owner.clone(),
                description: description.clone(),
                labels,
                declared_rate: None,
                replaces,
            })
            .await
    }
    .await;
    flash_form("agent", r, &typed, |a| {
        (
            format!(
                "Agent {} created. Issue it a key to let it call ARX.",
                a.name
            ),
            None,
        )
    })
    .await
}

/// `env:prod, team=soc` → pairs, by the registry's rules; says what is malformed and
/// at which position.
#[cfg(feature = "ssr")]
pub fn parse_labels(s: &str) -> Result<std::collections::BTreeMap<String, String>, String> {
    arx_core::registry::parse_labels(s).map_err(|e| format!("labels: {}", e.message))
}

/// [`parse_labels`] as a refusal of the form's `labels` field.
#[cfg(feature = "ssr")]
pub fn labels_field(
    s: &str,
) -> Result<std::collections::BTreeMap<String, String>, arx_core::CoreError> {
    parse_labels(s).map_err(|message| arx_core::CoreError::InvalidField {
        field: "labels",
        message,
    })
}
