//! The tokens the signed-in user may see: the org's for an admin, else their own.

use leptos::prelude::*;

use crate::types::TokenRow;

#[server]
pub async fn list_tokens() -> Result<Vec<TokenRow>, ServerFnError> {
    use crate::server_fns::ssr::{engine, format_ms, principal, to_error};
    let p = principal().await?;
    let engine = engine();
    let now = engine.now_ms();
    Ok(engine
        .list_tokens(&p)
        .await
        .map_err(to_error)?
        .into_iter()
        .map(|t| TokenRow {
            id: t.id.to_string(),
            name: t.name,
            user: t.user_email,
            prefix: t.prefix,
            created: format_ms(t.created_ms),
            last_used: t.last_used_ms.map(format_ms),
            expires: format_ms(t.expires_ms),
            status: match (t.revoked_ms, t.expires_ms <= now) {
                (Some(_), _) => "revoked",
                (None, true) => "expired",
                (None, false) => "active",
            }
            .into(),
        })
        .collect())
}
