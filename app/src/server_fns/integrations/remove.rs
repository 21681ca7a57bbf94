//! Remove an integration.

use leptos::prelude::*;

#[server]
pub async fn remove_integration(kind: String) -> Result<(), ServerFnError> {
    use crate::server_fns::ssr::{engine, flash, flash_outcome, principal};
    use arx_core::integration::IntegrationKind;
    let Some(k) = IntegrationKind::parse(&kind) else {
        return flash(false, format!("no integration '{kind}'"), None).await;
    };
    let p = principal().await?;
    let engine = engine();
    let r = match engine.admin(&p) {
        Ok(admin) => admin.delete_integration(k).await,
        Err(e) => Err(e),
    };
    flash_outcome(r, |removed| {
        let msg = if removed {
            format!("{} removed; no more notices go there.", k.as_str())
        } else {
            format!("{} was not set.", k.as_str())
        };
        (msg, None)
    })
    .await
}
