//! Acknowledge or resolve a drift alert (admins), with a note.

use leptos::prelude::*;

#[server]
pub async fn set_drift(
    id: String,
    to: String,
    #[server(default)] note: String,
) -> Result<(), ServerFnError> {
    use crate::server_fns::ssr::{engine, flash, flash_outcome, principal};
    use arx_core::model::registry::DriftStatus;
    let p = principal().await?;
    let engine = engine();
    let (Ok(id), Some(to)) = (id.parse(), DriftStatus::parse(&to)) else {
        return flash(false, "that drift alert or status is not valid", None).await;
    };
    // A lower role is told so in the flash, not with an error page.
    let r = match engine.admin(&p) {
        Ok(admin) => admin.set_drift_status(id, to, &note).await,
        Err(e) => Err(e),
    };
    flash_outcome(r, |a| {
        (
            format!(
                "The alert on {} ({}) is {}.",
                a.agent,
                a.message,
                a.status.as_str()
            ),
            None,
        )
    })
    .await
}
