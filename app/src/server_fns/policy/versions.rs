//! Version history, the diff between two versions, and rollback (a new version with an
//! old one's content; admins).

use leptos::prelude::*;

use crate::types::{DiffView, VersionRow};

#[server]
pub async fn policy_versions() -> Result<Vec<VersionRow>, ServerFnError> {
    use crate::server_fns::ssr::{engine, format_ms, principal, to_error};
    let p = principal().await?;
    let r = engine();
    let r = r.reader(&p);
    let current = r.org().await.map_err(to_error)?.policy_version;
    Ok(r.policy_versions()
        .await
        .map_err(to_error)?
        .into_iter()
        .map(|v| VersionRow {
            version: v.version,
            author: v.author,
            created: format_ms(v.created_ms),
            message: v.message,
            summary: v.summary,
            rules: v.doc.rules.len(),
            current: v.version == current,
        })
        .collect())
}

#[server]
pub async fn policy_diff(from: i64, to: i64) -> Result<DiffView, ServerFnError> {
    use crate::server_fns::ssr::{engine, principal, to_error};
    let p = principal().await?;
    let d = engine()
        .reader(&p)
        .policy_diff(from, to)
        .await
        .map_err(to_error)?;
    Ok(DiffView {
        from,
        to,
        summary: d.summary(),
        lines: d.lines,
    })
}

#[server]
pub async fn rollback_policy(version: i64, reason: String) -> Result<(), ServerFnError> {
    use crate::server_fns::ssr::{engine, flash_outcome, principal};
    let p = principal().await?;
    let engine = engine();
    // A lower role is told so in the flash, not with an error page.
    let r = match engine.admin(&p) {
        Ok(admin) => admin.rollback_policy(version, &reason).await,
        Err(e) => Err(e),
    };
    flash_outcome(r, |o| match o.version {
        Some(v) => (
            o.warnings.iter().fold(
                format!("Rolled back: version {v} has the content of version {version}."),
                |m, w| format!("{m} Warning: {w}."),
            ),
            None,
        ),
        None => (
            format!("Version {version} is already the policy in force."),
            None,
        ),
    })
    .await
}
