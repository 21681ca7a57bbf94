//! SAML sign-in settings on the SSO & SCIM page (admins).

use leptos::prelude::*;

/// Sets the org's SAML sign-in from the form: the IdP's metadata by URL or pasted XML
/// (neither keeps the stored one); checkboxes are on when sent.
#[allow(clippy::too_many_arguments)]
#[server]
pub async fn set_saml(
    #[server(default)] enabled: Option<String>,
    #[server(default)] metadata_url: String,
    #[server(default)] metadata_xml: String,
    #[server(default)] allow_idp_initiated: Option<String>,
    #[server(default)] create_users: Option<String>,
    #[server(default)] email_attribute: String,
    #[server(default)] name_attribute: String,
    #[server(default)] groups_attribute: String,
) -> Result<(), ServerFnError> {
    use crate::server_fns::ssr::{engine, flash_form, principal};
    use arx_core::engine::SamlInput;
    let p = principal().await?;
    let engine = engine();
    let admin = admin_or_flash!(engine, p);
    let typed = [
        ("metadata_url", metadata_url.as_str()),
        ("metadata_xml", metadata_xml.as_str()),
        ("email_attribute", email_attribute.as_str()),
        ("name_attribute", name_attribute.as_str()),
        ("groups_attribute", groups_attribute.as_str()),
    ];
    let given = |v: &str| Some(v.trim().to_string()).filter(|v| !v.is_empty());
    let input = SamlInput {
        enabled: enabled.is_some(),
        metadata_url: given(&metadata_url),
        metadata_xml: given(&metadata_xml),
        allow_idp_initiated: Some(allow_idp_initiated.is_some()),
        create_users: Some(create_users.is_some()),
        email_attribute: Some(email_attribute.trim().to_string()),
        name_attribute: given(&name_attribute),
        groups_attribute: given(&groups_attribute),
    };
    let r = admin.set_saml_settings(input).await;
    flash_form("saml", r, &typed, |s| {
        (
            if s.enabled {
                format!(
                    "SAML sign-in through {} is on. Try it with Test sign-in before telling people.",
                    s.idp_entity_id
                )
            } else {
                format!(
                    "SAML settings saved for {}; sign-in through it is off.",
                    s.idp_entity_id
                )
            },
            None,
        )
    })
    .await
}
