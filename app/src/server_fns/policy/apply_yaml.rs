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
    use crate::server_fns::ssr::{
        engine, flash, keep_typed, principal, public_message, refuse_form, to_error,
    };
    use crate::types::DiffView;
    use arx_core::CoreError;
    use arx_core::policy::PolicyDoc;
    let p = principal().await?;
    let engine = engine();
    let admin = engine.admin(&p).map_err(to_error)?;
    let reason_typed = reason.clone().unwrap_or_default();
    let typed = [("yaml", yaml.as_str()), ("reason", reason_typed.as_str())];
    let refused = |message: String| ApplyView {
        ok: false,
        message,
        diff: None,
    };
    let doc = match PolicyDoc::from_yaml(&yaml) {
        Ok(d) => d,
        Err(e) => {
            refuse_form(YAML_FORM, Some("yaml"), e.to_string(), &typed).await?;
            return Ok(refused(e.to_string()));
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
            // What is wrong in the document stands by it; the rest (a stale version, a
            // missing reason) above the form.
            let field = matches!(e, CoreError::InvalidPolicy(_)).then_some("yaml");
            let message = public_message(e);
            refuse_form(YAML_FORM, field, message.clone(), &typed).await?;
            Ok(refused(message))
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
            // The message also goes to the flash, so it shows without JavaScript too; a
            // preview keeps the draft in the form.
            match o.version {
                Some(_) => flash(true, message.clone(), None).await?,
                None => keep_typed(YAML_FORM, message.clone(), &typed).await?,
            }
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

/// The name of the YAML form's refusals and previews.
pub const YAML_FORM: &str = "yaml";
