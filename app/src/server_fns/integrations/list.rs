//! The org's integrations.

use leptos::prelude::*;

use crate::types::IntegrationRow;

#[server]
pub async fn list_integrations() -> Result<Vec<IntegrationRow>, ServerFnError> {
    use crate::server_fns::ssr::{engine, principal, to_error};
    use arx_core::integration::IntegrationKind;
    let p = principal().await?;
    let engine = engine();
    let admin = engine.admin(&p).map_err(to_error)?;
    let mut rows = Vec::new();
    for kind in IntegrationKind::ALL {
        let v = admin.integration(kind).await.map_err(to_error)?;
        rows.push(IntegrationRow {
            kind: kind.as_str().into(),
            configured: v.configured,
            config: v.config.into_iter().collect(),
            secrets_set: v.secrets_set.into_iter().collect(),
            updated: v.updated_at.map(|t| {
                let when = crate::server_fns::ssr::minute(&t);
                (when, v.updated_by.unwrap_or_default())
            }),
        });
    }
    Ok(rows)
}
