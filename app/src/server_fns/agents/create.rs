//! Create an agent (admins). The outcome is left in the flash.

use leptos::prelude::*;

#[server]
pub async fn create_agent(
    name: String,
    owner: String,
    description: String,
    labels: String,
) -> Result<(), ServerFnError> {
    use super::super::ssr::{engine, flash_outcome, principal, to_error};
    use arx_core::engine::NewAgent;
    let p = principal().await?;
    let engine = engine();
    let labels = match parse_labels(&labels) {
        Ok(l) => l,
        Err(msg) => return super::super::ssr::flash(false, msg, None).await,
    };
    let admin = engine.admin(&p).map_err(to_error)?;
    let r = admin
        .create_agent(NewAgent {
            name,
            owner,
            description,
            labels,
            declared_rate: None,
        })
        .await;
    flash_outcome(r, |a| {
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

/// `env:prod, team:soc` → pairs; says which item is malformed.
pub fn parse_labels(s: &str) -> Result<std::collections::BTreeMap<String, String>, String> {
    s.split(',')
        .map(str::trim)
        .filter(|i| !i.is_empty())
        .map(|item| match item.split_once(':') {
            Some((k, v)) if !k.trim().is_empty() && !v.trim().is_empty() => {
                Ok((k.trim().to_string(), v.trim().to_string()))
            }
            _ => Err(format!("label '{item}' should look like key:value")),
        })
        .collect()
}
