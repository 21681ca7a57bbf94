//! Change the org's thresholds, defaults by tier and approval timeout (admins).

use leptos::prelude::*;

use crate::types::SettingsForm;

#[server]
pub async fn save_settings(settings: SettingsForm) -> Result<(), ServerFnError> {
    use super::ssr::{apply_with_flash, current, settings_from_form};
    use crate::server_fns::ssr::flash;
    let parsed = match settings_from_form(&settings) {
        Ok(s) => s,
        Err(e) => return flash(false, e, None).await,
    };
    let mut doc = current().await?;
    doc.settings = parsed;
    apply_with_flash(doc, "change thresholds and defaults").await
}
