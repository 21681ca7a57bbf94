//! An agent's manifest versions from the console: roll back to one (admins), and compare
//! any two.

use leptos::prelude::*;

/// Rolls the agent's manifest back to `version`: a new version equal to it.
#[server]
pub async fn rollback_manifest(
    agent_id: String,
    version: i64,
    #[server(default)] reason: String,
) -> Result<(), ServerFnError> {
    use crate::server_fns::ssr::{engine, flash, flash_outcome, principal};
    let Ok(id) = agent_id.parse() else {
        return flash(false, "that agent id is not valid", None).await;
    };
    let p = principal().await?;
    let engine = engine();
    // A lower role is told so in the flash, not with an error page.
    let r = match engine.admin(&p) {
        Ok(admin) => admin.rollback_manifest(id, version, &reason).await,
        Err(e) => Err(e),
    };
    flash_outcome(r, |v| {
        (
            format!(
                "Rolled back: version {} is in force, equal to version {version}.",
                v.version
            ),
            None,
        )
    })
    .await
}

/// What changed from version `from` to version `to`, one line per change.
#[server]
pub async fn compare_manifests(
    agent_id: String,
    from: i64,
    to: i64,
) -> Result<Vec<String>, ServerFnError> {
    use crate::server_fns::ssr::{engine, invalid, principal, to_error};
    let p = principal().await?;
    let id = agent_id
        .parse()
        .map_err(|_| invalid("that agent id is not valid"))?;
    let d = engine()
        .reader(&p)
        .manifest_diff(id, from, to)
        .await
        .map_err(to_error)?;
    let mut lines = Vec::new();
    let ops = |ops: &[arx_core::registry::DeclaredOp]| {
        ops.iter()
            .map(|o| format!("{}:{}", o.connector, o.operation))
            .collect::<Vec<_>>()
            .join(", ")
    };
    for (sign, what, items) in [
        ("+", "connectors", d.added_connectors.join(", ")),
        ("-", "connectors", d.removed_connectors.join(", ")),
        ("+", "operations", ops(&d.added_operations)),
        ("-", "operations", ops(&d.removed_operations)),
        ("+", "environments", d.added_environments.join(", ")),
        ("-", "environments", d.removed_environments.join(", ")),
        ("+", "data classes", d.added_data_classes.join(", ")),
        ("-", "data classes", d.removed_data_classes.join(", ")),
    ] {
        if !items.is_empty() {
            lines.push(format!("{sign} {what}: {items}"));
        }
    }
    if let Some(r) = d.rate {
        lines.push(format!("~ rate: {} → {} per minute", r.from, r.to));
    }
    if let Some(t) = d.purpose {
        lines.push(format!("~ purpose: {} → {}", t.from, t.to));
    }
    if let Some(t) = d.model {
        lines.push(format!("~ model: {} → {}", t.from, t.to));
    }
    if lines.is_empty() {
        lines.push(format!("versions {from} and {to} declare the same"));
    }
    Ok(lines)
}
