//! Which Slack member decides as which user (admins): the list and linking one.

use leptos::prelude::*;

use crate::types::SlackLinkRow;

#[server]
pub async fn list_slack_links() -> Result<Vec<SlackLinkRow>, ServerFnError> {
    use crate::server_fns::ssr::{engine, principal, to_error};
    let p = principal().await?;
    let engine = engine();
    engine.admin(&p).map_err(to_error)?;
    let users = engine.reader(&p).users().await.map_err(to_error)?;
    Ok(users
        .into_iter()
        .filter(|u| u.active)
        .map(|u| SlackLinkRow {
            user_id: u.id.to_string(),
            role: u.roles().describe(),
            groups: u.approver_groups(),
            email: u.email,
            slack_user_id: u.slack_user_id,
        })
        .collect())
}

/// Links `user_id` to Slack member `slack_user_id`; an empty id unlinks.
#[server]
pub async fn link_slack_member(
    user_id: String,
    #[server(default)] slack_user_id: String,
) -> Result<(), ServerFnError> {
    use crate::server_fns::ssr::{engine, flash, principal, public_message, refuse_form};
    let Ok(id) = user_id.parse() else {
        return flash(false, "no such user", None).await;
    };
    let slack = Some(slack_user_id.trim()).filter(|s| !s.is_empty());
    let p = principal().await?;
    let engine = engine();
    let r = match engine.admin(&p) {
        Ok(admin) => admin.link_slack_user(id, slack).await,
        Err(e) => Err(e),
    };
    let u = match r {
        Ok(u) => u,
        // Whatever is wrong is about the one id typed in that user's row.
        Err(e) => {
            let typed = [("slack_user_id", slack_user_id.as_str())];
            let form = slack_link_form(&user_id);
            return refuse_form(&form, Some("slack_user_id"), public_message(e), &typed).await;
        }
    };
    let msg = match &u.slack_user_id {
        Some(s) => format!("Slack member {s} now decides as {}.", u.email),
        None => format!(
            "{} is no longer linked; Slack decisions map by email.",
            u.email
        ),
    };
    flash(true, msg, None).await
}

/// The form of the Slack link of the user `user_id` (one per row).
pub fn slack_link_form(user_id: &str) -> String {
    format!("slack-link:{user_id}")
}
