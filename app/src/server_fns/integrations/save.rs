//! Set an integration from the console's form; empty fields are left out.

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
    use crate::server_fns::ssr::{engine, flash, flash_outcome, principal};
    use arx_core::integration::IntegrationKind;
    let Some(k) = IntegrationKind::parse(&kind) else {
        return flash(false, format!("no integration '{kind}'"), None).await;
    };
    let fields: Vec<(&str, &str)> = match k {
        IntegrationKind::Slack => vec![
            ("bot_token", &bot_token),
            ("signing_secret", &signing_secret),
            ("channel", &channel),
            ("team_id", &team_id),
            ("app_id", &app_id),
        ],
        IntegrationKind::Teams => vec![("url", &url)],
        IntegrationKind::Webhook => vec![("url", &url), ("secret", &secret)],
    };
    let body: serde_json::Map<String, serde_json::Value> = fields
        .into_iter()
        .filter(|(_, v)| !v.trim().is_empty())
        .map(|(k, v)| {
            (
                k.to_string(),
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
    flash_outcome(r, |_| {
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
