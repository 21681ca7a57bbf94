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
    use super::ssr::{apply_with_flash, current, settings_from_form};
    use crate::server_fns::ssr::flash;
    let parsed = match settings_from_form(&settings) {
        Ok(s) => s,
        Err(e) => return flash(false, e, None).await,
    };
    let mut doc = current().await?.doc;
    doc.settings = parsed;
    apply_with_flash(doc, "change thresholds and defaults", based_on, &reason).await
}
