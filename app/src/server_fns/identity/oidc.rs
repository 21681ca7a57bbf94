//! OIDC sign-in settings on the SSO & SCIM page (admins), and the sign-in page's SSO
//! buttons (anyone).

use leptos::prelude::*;

use crate::types::SsoOffer;

/// Sets the org's OIDC sign-in from the form: checkboxes are on when sent, the client
/// secret is kept when left empty.
#[allow(clippy::too_many_arguments)]
#[server]
pub async fn set_oidc(
    #[server(default)] enabled: Option<String>,
    issuer: String,
    client_id: String,
    #[server(default)] client_secret: String,
    #[server(default)] scopes: String,
    #[server(default)] groups_claim: String,
    #[server(default)] require_verified_email: Option<String>,
    #[server(default)] create_users: Option<String>,
) -> Result<(), ServerFnError> {
    use crate::server_fns::ssr::{engine, flash_form, principal};
    use arx_core::engine::OidcInput;
    let p = principal().await?;
    let engine = engine();
    let admin = admin_or_flash!(engine, p);
    let typed = [
        ("issuer", issuer.as_str()),
        ("client_id", client_id.as_str()),
        ("scopes", scopes.as_str()),
        ("groups_claim", groups_claim.as_str()),
    ];
    let input = OidcInput {
        enabled: enabled.is_some(),
        issuer: issuer.clone(),
        client_id: client_id.clone(),
        client_secret: Some(client_secret.clone()).filter(|s| !s.trim().is_empty()),
        scopes: Some(
            scopes
                .split_whitespace()
                .map(str::to_string)
                .collect::<Vec<_>>(),
        )
        .filter(|s| !s.is_empty()),
        groups_claim: Some(groups_claim.clone()).filter(|g| !g.trim().is_empty()),
        require_verified_email: Some(require_verified_email.is_some()),
        create_users: Some(create_users.is_some()),
    };
    let r = admin.set_oidc_settings(input).await;
    flash_form("oidc", r, &typed, |s| {
        (
            if s.enabled {
                "OIDC sign-in is on. Try it with Test sign-in before telling people.".into()
            } else {
                "OIDC settings saved; sign-in through it is off.".into()
            },
            None,
        )
    })
    .await
}

/// The sign-in page's SSO buttons, for `org` when the address names one.
#[server]
pub async fn sso_buttons(org: Option<String>) -> Result<SsoOffer, ServerFnError> {
    use crate::server_fns::ssr::{engine, to_error};
    let choices = engine()
        .sso_choices(org.as_deref().map(str::trim).filter(|o| !o.is_empty()))
        .await
        .map_err(to_error)?;
    let both = |slug: &str| choices.orgs.iter().filter(|c| c.slug == slug).count() > 1;
    let buttons = choices
        .orgs
        .iter()
        .map(|c| {
            let label = if both(&c.slug) {
                format!(
                    "Sign in with SSO ({}, {})",
                    c.name,
                    c.protocol.to_uppercase()
                )
            } else {
                format!("Sign in with SSO ({})", c.name)
            };
            (c.start_path(), label)
        })
        .collect();
    Ok(SsoOffer {
        buttons,
        ask_org: choices.many,
    })
}
