//! The whole policy as YAML: preview the change (dry run) or apply it (admins).

use leptos::prelude::*;

use crate::types::ApplyView;

#[server]
pub async fn apply_yaml(
    yaml: String,
    apply: Option<String>,
    based_on: Option<i64>,
    reason: Option<String>,
) -> Result<ApplyView, ServerFnError> {
    use crate::server_fns::ssr::{engine, flash, principal, to_error};
    use crate::types::DiffView;
    use arx_core::policy::PolicyDoc;
    let p = principal().await?;
    let engine = engine();
    let admin = engine.admin(&p).map_err(to_error)?;
    let doc = match PolicyDoc::from_yaml(&yaml) {
        Ok(d) => d,
        Err(e) => {
            flash(false, e.to_string(), None).await?;
            return Ok(ApplyView {
                ok: false,
                message: e.to_string(),
                diff: None,
            });
        }
    };
    let dry_run = apply.is_none();
    let change = arx_core::engine::PolicyChange {
        message: "edited as YAML in the console".into(),
        reason: reason.unwrap_or_default(),
        based_on,
        dry_run,
    };
    match admin.apply_policy(doc, change).await {
        Err(e) => {
            let message = to_error(e)
                .to_string()
                .trim_start_matches("error running server function: ")
                .to_string();
            flash(false, message.clone(), None).await?;
            Ok(ApplyView {
                ok: false,
                message,
                diff: None,
            })
        }
        Ok(o) => {
            let to = o.version.unwrap_or(o.previous + 1);
            let mut message = match (o.version, o.diff.is_empty()) {
                (_, true) => "No change: this is the policy in force.".to_string(),
                (Some(v), _) => format!("Applied as version {v}: {}.", o.diff.summary()),
                (None, _) => format!(
                    "Preview: {}. Nothing is applied until you apply it.",
                    o.diff.summary()
                ),
            };
            for w in &o.warnings {
                message.push_str(&format!(" Warning: {w}."));
            }
            // The message also goes to the flash, so it shows without JavaScript too.
            flash(true, message.clone(), None).await?;
            Ok(ApplyView {
                ok: true,
                message,
                diff: (!o.diff.is_empty()).then(|| DiffView {
                    from: o.previous,
                    to,
                    summary: o.diff.summary(),
                    lines: o.diff.lines.clone(),
                }),
            })
        }
    }
}
