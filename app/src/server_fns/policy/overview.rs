//! The policy in force, for the Policy page.

use leptos::prelude::*;

use crate::types::PolicyView;

#[server]
pub async fn policy_overview() -> Result<PolicyView, ServerFnError> {
    use super::ssr::{rule_row, settings_form};
    use crate::server_fns::ssr::{engine, format_ms, principal, to_error};
    let p = principal().await?;
    let v = engine().reader(&p).policy().await.map_err(to_error)?;
    let compiled = v
        .doc
        .compile()
        .map_err(|e| ServerFnError::new(e.to_string()))?;
    Ok(PolicyView {
        version: v.version,
        author: v.author,
        created: format_ms(v.created_ms),
        message: v.message,
        settings: settings_form(&v.doc.settings),
        rules: compiled.rules().map(rule_row).collect(),
        yaml: v.doc.to_yaml(),
        can_edit: p.is_admin(),
    })
}
