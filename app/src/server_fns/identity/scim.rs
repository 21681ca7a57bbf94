//! SCIM tokens on the SSO & SCIM page: an admin creates one for a directory (the secret
//! is shown once, through the flash, with the base URL to give the directory) and revokes
//! it.

use leptos::prelude::*;

#[server]
pub async fn create_scim_token(name: String) -> Result<(), ServerFnError> {
    use crate::server_fns::ssr::{engine, flash_form, principal};
    let p = principal().await?;
    let engine = engine();
    let admin = admin_or_flash!(engine, p);
    let base = expect_context::<crate::PublicUrl>().0;
    let typed = [("name", name.as_str())];
    let r = admin.create_scim_token(&name).await;
    flash_form("scim", r, &typed, |(t, secret)| {
        (
            format!(
                "SCIM token '{}' ({}…) created. Give the directory the base URL {base}/scim/v2 and this token now: it is shown only once.",
                t.name, t.prefix
            ),
            Some(secret),
        )
    })
    .await
}

#[server]
pub async fn revoke_scim_token(id: String) -> Result<(), ServerFnError> {
    use crate::server_fns::ssr::{engine, flash, flash_outcome, principal};
    let p = principal().await?;
    let engine = engine();
    let Ok(id) = id.parse() else {
        return flash(false, "that token id is not valid", None).await;
    };
    let r = match engine.admin(&p) {
        Ok(admin) => admin.revoke_scim_token(id).await,
        Err(e) => Err(e),
    };
    flash_outcome(r, |()| {
        (
            "The SCIM token is revoked: the directory's next request is refused.".into(),
            None,
        )
    })
    .await
}
