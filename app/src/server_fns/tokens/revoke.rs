//! Revoke an admin API token (any of the org's for an admin, else one's own).

use leptos::prelude::*;

#[server]
pub async fn revoke_token(id: String) -> Result<(), ServerFnError> {
    use crate::server_fns::ssr::{engine, flash, flash_outcome, principal};
    let p = principal().await?;
    let Ok(id) = id.parse() else {
        return flash(false, "that token id is not valid", None).await;
    };
    let r = engine().revoke_token(&p, id).await;
    flash_outcome(r, |()| {
        ("Token revoked; it stops working at once.".into(), None)
    })
    .await
}
