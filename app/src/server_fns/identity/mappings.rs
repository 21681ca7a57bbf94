//! The SSO & SCIM page's data (mappings, timeouts, SCIM tokens for admins, the user's
//! sessions) and its group → role mapping.

use leptos::prelude::*;

use crate::types::IdentitySettings;

#[server]
pub async fn identity_view() -> Result<IdentitySettings, ServerFnError> {
    use crate::server_fns::ssr::{engine, format_ms, principal, to_error};
    use crate::types::{MappingRow, OidcRow, SamlRow, ScimTokenRow, SessionRow};
    let p = principal().await?;
    let engine = engine();
    let read = engine.reader(&p);
    let settings = read.session_settings().await.map_err(to_error)?;
    let public = expect_context::<crate::PublicUrl>().0;
    // This browser's session, as lists key it.
    let current = crate::server_fns::ssr::session()
        .await?
        .id()
        .map(|id| arx_core::engine::token_hash(&id.to_string()));
    let oidc = match engine.admin(&p) {
        Ok(admin) => {
            let s = admin.oidc_settings().await.map_err(to_error)?;
            Some(OidcRow {
                enabled: s.as_ref().is_some_and(|s| s.enabled),
                issuer: s.as_ref().map(|s| s.issuer.clone()).unwrap_or_default(),
                client_id: s.as_ref().map(|s| s.client_id.clone()).unwrap_or_default(),
                scopes: s.as_ref().map_or_else(
                    || "openid email profile groups".into(),
                    |s| s.scopes.join(" "),
                ),
                groups_claim: s
                    .as_ref()
                    .map_or_else(|| "groups".into(), |s| s.groups_claim.clone()),
                require_verified_email: s.as_ref().is_none_or(|s| s.require_verified_email),
                create_users: s.as_ref().is_none_or(|s| s.create_users),
                client_secret_set: s.as_ref().is_some_and(|s| s.client_secret_set),
                redirect_uri: format!("{public}/auth/oidc/callback"),
                login_url: format!("{public}/auth/oidc/login?org={}", p.org_slug()),
            })
        }
        Err(_) => None,
    };
    let saml = match engine.admin(&p) {
        Ok(admin) => {
            let s = admin.saml_settings().await.map_err(to_error)?;
            let sp = arx_core::engine::SamlSp::new(&public, p.org_slug());
            let mut row = SamlRow {
                name_attribute: "displayName".into(),
                groups_attribute: "groups".into(),
                create_users: true,
                sp_entity_id: sp.entity_id,
                acs_url: sp.acs_url,
                login_url: sp.login_url,
                ..SamlRow::default()
            };
            if let Some(s) = s {
                row = SamlRow {
                    configured: true,
                    enabled: s.enabled,
                    metadata_url: s.metadata_url.unwrap_or_default(),
                    idp_entity_id: s.idp_entity_id,
                    idp_sso_url: s.idp_sso_url,
                    signing_certs: s.signing_certs,
                    allow_idp_initiated: s.allow_idp_initiated,
                    create_users: s.create_users,
                    email_attribute: s.email_attribute,
                    name_attribute: s.name_attribute,
                    groups_attribute: s.groups_attribute,
                    ..row
                };
            }
            Some(row)
        }
        Err(_) => None,
    };
    let scim_tokens = match engine.admin(&p) {
        Ok(admin) => Some(
            admin
                .scim_tokens()
                .await
                .map_err(to_error)?
                .into_iter()
                .map(|t| ScimTokenRow {
                    id: t.id.to_string(),
                    name: t.name,
                    prefix: t.prefix,
                    created_by: t.created_by,
                    created: format_ms(t.created_ms),
                    last_used: t.last_used_ms.map(format_ms),
                    revoked: t.revoked_ms.map(format_ms),
                })
                .collect(),
        ),
        Err(_) => None,
    };
    Ok(IdentitySettings {
        scim_base_url: format!("{public}/scim/v2"),
        oidc,
        saml,
        scim_tokens,
        mappings: read
            .group_mappings()
            .await
            .map_err(to_error)?
            .into_iter()
            .map(|m| MappingRow {
                group: m.group,
                role: m.role.map(|r| r.as_str().to_string()),
                approver_groups: m.approver_groups,
                updated: format_ms(m.updated_ms),
            })
            .collect(),
        idle_minutes: settings.idle_minutes,
        absolute_minutes: settings.absolute_minutes,
        my_sessions: read
            .my_sessions()
            .await
            .map_err(to_error)?
            .into_iter()
            .map(|s| SessionRow {
                current: current.as_deref() == Some(s.key.as_str()),
                key: s.key,
                created: format_ms(s.created_ms),
                last_seen: format_ms(s.last_seen_ms),
                client: s.client,
            })
            .collect(),
    })
}

/// Maps `group` to `role` (empty for none) and comma-separated `approver_groups`.
#[server]
pub async fn set_group_mapping(
    group: String,
    #[server(default)] role: String,
    #[server(default)] approver_groups: String,
) -> Result<(), ServerFnError> {
    use crate::server_fns::ssr::{comma_list, engine, flash_form, principal, refuse_form};
    use arx_core::model::Role;
    let p = principal().await?;
    let engine = engine();
    let admin = admin_or_flash!(engine, p);
    let typed = [
        ("group", group.as_str()),
        ("role", role.as_str()),
        ("approver_groups", approver_groups.as_str()),
    ];
    let role = match role.trim() {
        "" => None,
        r => match Role::parse(r) {
            Some(r) => Some(r),
            None => {
                let message = "role is admin, reviewer, auditor, owner or none";
                return refuse_form("mapping", Some("role"), message, &typed).await;
            }
        },
    };
    let r = admin
        .set_group_mapping(&group, role, comma_list(&approver_groups))
        .await;
    flash_form("mapping", r, &typed, |m| {
        (
            format!(
                "Members of '{}' get what it maps to at their next request.",
                m.group
            ),
            None,
        )
    })
    .await
}

#[server]
pub async fn delete_group_mapping(group: String) -> Result<(), ServerFnError> {
    use crate::server_fns::ssr::{engine, flash_outcome, principal};
    let p = principal().await?;
    let engine = engine();
    let r = match engine.admin(&p) {
        Ok(admin) => admin.delete_group_mapping(&group).await,
        Err(e) => Err(e),
    };
    flash_outcome(r, |()| {
        (
            format!("The mapping of '{group}' is removed; its members lose what it gave at their next request."),
            None,
        )
    })
    .await
}
