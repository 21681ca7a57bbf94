//! Create an admin API token for the signed-in user; the secret is shown once through
//! the flash.

use leptos::prelude::*;

#[server]
pub async fn create_token(
    name: String,
    #[server(default)] lifetime_days: String,
) -> Result<(), ServerFnError> {
    use crate::server_fns::ssr::{engine, flash_form, principal, refuse_form};
    use arx_core::engine::NewToken;
    let p = principal().await?;
    let engine = engine();
    let typed = [
        ("name", name.as_str()),
        ("lifetime_days", lifetime_days.as_str()),
    ];
    let lifetime_days = match lifetime_days.trim() {
        "" => None,
        d => match d.parse() {
            Ok(d) => Some(d),
            Err(_) => {
                let max = engine.token_lifetime_days();
                let message = format!("lifetime (days) must be a whole number from 1 to {max}");
                return refuse_form("token", Some("lifetime_days"), message, &typed).await;
            }
        },
    };
    let r = engine
        .create_token(
            &p,
            &NewToken {
                name: name.clone(),
                lifetime_days,
            },
            None,
        )
        .await;
    flash_form("token", r, &typed, |(t, secret)| {
        (
            format!(
                "Token '{}' created; it expires on {}. Copy it now: it is shown only once.",
                t.name,
                arx_core::audit::format_ts(t.expires_ms)
            ),
            Some(secret),
        )
    })
    .await
}
