//! Session timeouts, and the signed-in user's own sessions.

use leptos::prelude::*;

#[server]
pub async fn set_session_settings(
    idle_minutes: String,
    absolute_minutes: String,
) -> Result<(), ServerFnError> {
    use crate::server_fns::ssr::{engine, flash_form, principal, refuse_form};
    use arx_core::store::SessionSettings;
    let p = principal().await?;
    let engine = engine();
    let admin = admin_or_flash!(engine, p);
    let typed = [
        ("idle_minutes", idle_minutes.as_str()),
        ("absolute_minutes", absolute_minutes.as_str()),
    ];
    let (Ok(idle), Ok(absolute)) = (
        idle_minutes.trim().parse::<i64>(),
        absolute_minutes.trim().parse::<i64>(),
    ) else {
        let message = "both timeouts are whole numbers of minutes";
        return refuse_form("sessions", None, message, &typed).await;
    };
    let r = admin
        .set_session_settings(SessionSettings {
            idle_minutes: idle,
            absolute_minutes: absolute,
        })
        .await;
    flash_form("sessions", r, &typed, |s| {
        (
            format!(
                "Sessions now end after {} minutes idle, and {} minutes after sign-in.",
                s.idle_minutes, s.absolute_minutes
            ),
            None,
        )
    })
    .await
}

/// Ends one of the signed-in user's own sessions.
#[server]
pub async fn end_my_session(key: String) -> Result<(), ServerFnError> {
    use crate::server_fns::ssr::{engine, flash_outcome, principal};
    let p = principal().await?;
    let engine = engine();
    let r = engine.reader(&p).end_my_session(&key).await;
    flash_outcome(r, |()| ("Session ended.".into(), None)).await
}
