//! Change the org's thresholds, defaults by tier and approval timeout (admins), based on
//! the version the page showed and with the admin's reason.

use leptos::prelude::*;

use crate::types::SettingsForm;

#[server]
pub async fn save_settings(
    settings: SettingsForm,
    based_on: i64,
    reason: String,
) -> Result<(), ServerFnError> {
    use super::ssr::{current, saved_message, settings_from_form, settings_values};
    use crate::server_fns::ssr::{engine, flash_form, principal, refuse_form};
    use arx_core::engine::PolicyChange;
    let mut values = settings_values(&settings);
    values.push(("reason".into(), reason.clone()));
    let typed: Vec<(&str, &str)> = values
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let parsed = match settings_from_form(&settings) {
        Ok(s) => s,
        Err((field, message)) => {
            let field = Some(field.as_str()).filter(|f| !f.is_empty());
            return refuse_form(SETTINGS_FORM, field, message, &typed).await;
        }
    };
    let mut doc = current().await?.doc;
    // The form shows thresholds, defaults and timeouts; the rest stays as it is.
    doc.settings = arx_core::policy::PolicySettings {
        manifests: doc.settings.manifests,
        drift: doc.settings.drift.clone(),
        ..parsed
    };
    let p = principal().await?;
    let engine = engine();
    let change = PolicyChange {
        message: "change thresholds and defaults".into(),
        reason,
        based_on: Some(based_on),
        dry_run: false,
    };
    let r = match engine.admin(&p) {
        Ok(admin) => admin.apply_policy(doc, change).await,
        Err(e) => Err(e),
    };
    flash_form(SETTINGS_FORM, r, &typed, |o| (saved_message(&o), None)).await
}

/// The name of the settings form's refusals.
pub const SETTINGS_FORM: &str = "settings";
