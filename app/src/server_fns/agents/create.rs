//! Create an agent (admins). The outcome is left in the flash.

use leptos::prelude::*;

#[server]
pub async fn create_agent(
    name: String,
    owner: String,
    description: String,
    labels: String,
) -> Result<(), ServerFnError> {
    use super::super::ssr::{engine, flash_form, principal, to_error};
    use arx_core::engine::NewAgent;
    let p = principal().await?;
    let engine = engine();
    let typed = [
        ("name", name.as_str()),
        ("owner", owner.as_str()),
        ("description", description.as_str()),
        ("labels", labels.as_str()),
    ];
    let r = match parse_labels(&labels) {
        Err(message) => Err(arx_core::CoreError::InvalidField {
            field: "labels",
            message,
        }),
        Ok(labels) => {
            let admin = engine.admin(&p).map_err(to_error)?;
            admin
                .create_agent(NewAgent {
                    name: name.clone(),
                    owner: owner.clone(),
                    description: description.clone(),
                    labels,
                    declared_rate: None,
                })
                .await
        }
    };
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
