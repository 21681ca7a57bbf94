//! Create an admin API token for the signed-in user; the secret is shown once through
//! the flash.

use leptos::prelude::*;

#[server]
pub async fn create_token(
    name: String,
    #[server(default)] lifetime_days: String,
) -> Result<(), ServerFnError> {
    use crate::server_fns::ssr::{engine, flash, flash_outcome, principal};
    use arx_core::engine::NewToken;
    let p = principal().await?;
    let engine = engine();
    let lifetime_days = match lifetime_days.trim() {
        "" => None,
        d => match d.parse() {
            Ok(d) => Some(d),
            Err(_) => {
                let max = engine.token_lifetime_days();
                return flash(false, format!("lifetime (days) must be 1 to {max}"), None).await;
            }
        },
    };
    let r = engine
        .create_token(
            &p,
            &NewToken {
                name,
                lifetime_days,
            },
            None,
        )
        .await;
    flash_outcome(r, |(t, secret)| {
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
