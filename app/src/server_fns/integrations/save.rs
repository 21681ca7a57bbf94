//! Set an integration from the console's form. A refused form gets back what was typed,
//! except its secrets.

use leptos::prelude::*;

// One argument per field of the flat form the page posts (works without JavaScript).
#[allow(clippy::too_many_arguments)]
#[server]
pub async fn save_integration(
    kind: String,
    #[server(default)] bot_token: String,
    #[server(default)] signing_secret: String,
    #[server(default)] channel: String,
    #[server(default)] team_id: String,
    #[server(default)] app_id: String,
    #[server(default)] url: String,
    #[server(default)] secret: String,
) -> Result<(), ServerFnError> {
    use crate::server_fns::ssr::{engine, flash, flash_form, principal};
    use arx_core::integration::IntegrationKind;
    let Some(k) = IntegrationKind::parse(&kind) else {
        return flash(false, format!("no integration '{kind}'"), None).await;
    };
    // (field, value, whether it is a secret)
    let fields: Vec<(&str, &str, bool)> = match k {
        IntegrationKind::Slack => vec![
            ("bot_token", &bot_token, true),
            ("signing_secret", &signing_secret, true),
            ("channel", &channel, false),
            ("team_id", &team_id, false),
            ("app_id", &app_id, false),
        ],
        // The URL is the credential: anyone holding it can post.
        IntegrationKind::Teams => vec![("url", &url, true)],
        IntegrationKind::Webhook => vec![("url", &url, false), ("secret", &secret, true)],
    };
    // What goes back into a refused form: never a secret.
    let typed: Vec<(&str, &str)> = fields
        .iter()
        .filter(|(_, _, secret)| !secret)
        .map(|(name, v, _)| (*name, *v))
        .collect();
    let body: serde_json::Map<String, serde_json::Value> = fields
        .into_iter()
        .map(|(name, v, _)| {
            (
                name.to_string(),
                serde_json::Value::String(v.trim().to_string()),
            )
        })
        .collect();
    let p = principal().await?;
    let engine = engine();
    let r = match engine.admin(&p) {
        Ok(admin) => {
            admin
                .set_integration(k, serde_json::Value::Object(body))
                .await
        }
        Err(e) => Err(e),
    };
    flash_form(k.as_str(), r, &typed, |_| {
        (
            format!(
                "{} is set. Secrets are stored encrypted and are not shown again.",
                k.as_str()
            ),
            None,
        )
    })
    .await
}
