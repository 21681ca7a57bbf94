//! The Users page: the org's users, deactivation, local group membership.

use leptos::prelude::*;

use crate::types::UserRow;

#[server]
pub async fn list_users() -> Result<Vec<UserRow>, ServerFnError> {
    use crate::server_fns::ssr::{engine, format_ms, principal, to_error};
    let p = principal().await?;
    let users = engine().reader(&p).user_views().await.map_err(to_error)?;
    Ok(users
        .into_iter()
        .map(|v| {
            let u = &v.user;
            UserRow {
                id: u.id.to_string(),
                email: u.email.clone(),
                name: u.name.clone(),
                source: u.source.as_str().into(),
                roles: v.roles.describe(),
                own_role: u.role.map_or("none", |r| r.as_str()).into(),
                groups: u
                    .member_of
                    .iter()
                    .map(|m| {
                        let mut gives: Vec<String> =
                            m.role.map(|r| r.as_str().to_string()).into_iter().collect();
                        gives.extend(
                            m.approver_groups
                                .iter()
                                .map(|g| format!("approves for {g}")),
                        );
                        let gives = if gives.is_empty() {
                            "not mapped".to_string()
                        } else {
                            gives.join(", ")
                        };
                        format!("{} ({}) → {gives}", m.group, m.source.as_str())
                    })
                    .collect(),
                approver_groups: v.approver_groups.clone(),
                last_login: u.last_login_ms.map(format_ms),
                sessions: v.sessions,
                active: u.active,
                break_glass: u.break_glass,
            }
        })
        .collect())
}

/// Deactivates (`active` = "false") or reactivates a user.
#[server]
pub async fn set_user_active(id: String, active: String) -> Result<(), ServerFnError> {
    use crate::server_fns::ssr::{engine, flash, flash_outcome, principal};
    let p = principal().await?;
    let engine = engine();
    let admin = admin_or_flash!(engine, p);
    let Ok(id) = id.parse() else {
        return flash(false, "that user id is not valid", None).await;
    };
    if active == "true" {
        let r = admin.reactivate_user(id).await;
        flash_outcome(r, |u| {
            (
                format!(
                    "{} can sign in again, with no groups and no tokens.",
                    u.email
                ),
                None,
            )
        })
        .await
    } else {
        let r = admin.deactivate_user(id).await;
        flash_outcome(r, |u| {
            (
                format!(
                    "{} is deactivated: their sessions ended, their tokens are revoked and their groups removed.",
                    u.email
                ),
                None,
            )
        })
        .await
    }
}

/// Sets the local groups of the user with `email` (comma-separated `groups`).
#[server]
pub async fn set_member_of(email: String, groups: String) -> Result<(), ServerFnError> {
    use crate::server_fns::ssr::{
        comma_list, engine, flash_form, principal, refuse_form, to_error,
    };
    let p = principal().await?;
    let engine = engine();
    let admin = admin_or_flash!(engine, p);
    let typed = [("email", email.as_str()), ("groups", groups.as_str())];
    let Some(user) = engine
        .reader(&p)
        .user_by_email(&email)
        .await
        .map_err(to_error)?
    else {
        let message = format!("no user of this org has the email '{}'", email.trim());
        return refuse_form("member_of", Some("email"), message, &typed).await;
    };
    let list = comma_list(&groups);
    let r = admin.set_member_of(user.id, &list).await;
    flash_form("member_of", r, &typed, |u| {
        (
            format!(
                "{} is now a member of {} group(s); their rights follow at their next request.",
                u.email,
                list.len()
            ),
            None,
        )
    })
    .await
}
