//! End a grant now (admins).

use leptos::prelude::*;

#[server]
pub async fn revoke_grant(id: String) -> Result<(), ServerFnError> {
    use crate::server_fns::ssr::{engine, flash, flash_outcome, principal, to_error};
    let p = principal().await?;
    let engine = engine();
    let Ok(id) = id.parse() else {
        return flash(false, "that grant id is not valid", None).await;
    };
    let r = engine
        .admin(&p)
        .map_err(to_error)?
        .revoke_grant(id, "")
        .await;
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
