//! End a grant now (admins).

use leptos::prelude::*;

#[server]
pub async fn revoke_grant(id: String) -> Result<(), ServerFnError> {
    use crate::server_fns::ssr::{engine, flash, flash_outcome, principal};
    let p = principal().await?;
    let engine = engine();
    let Ok(id) = id.parse() else {
        return flash(false, "that grant id is not valid", None).await;
    };
    // A lower role is told so in the flash, not with an error page.
    let r = match engine.admin(&p) {
        Ok(admin) => admin.revoke_grant(id, "").await,
        Err(e) => Err(e),
    };
    flash_outcome(r, |g| {
        (
            format!(
                "Grant on {} revoked; it covers nothing from now on.",
                g.connector
            ),
            None,
        )
    })
    .await
}
