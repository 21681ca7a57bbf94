//! Save a created or edited rule as a new policy version (admins), based on the version
//! the editor loaded and with the admin's reason.

use leptos::prelude::*;

use crate::types::RuleForm;

#[server]
pub async fn save_rule(form: RuleForm) -> Result<(), ServerFnError> {
    use super::ssr::{form_field, rule_from_form, saved_message};
    use crate::server_fns::ssr::{
        engine, flash, form_values, principal, public_message, refuse_form,
    };
    use arx_core::policy::RuleEdit;
    let values = form_values("form", &form);
    let typed: Vec<(&str, &str)> = values
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let rule = match rule_from_form(&form) {
        Ok(r) => r,
        Err(e) => {
            let field = form_field(&e.field);
            return refuse_form(RULE_FORM, field.as_deref(), e.to_string(), &typed).await;
        }
    };
    let Ok(based_on) = form.based_on.trim().parse::<i64>() else {
        let message = "reload the page: the form does not say which policy version it edits";
        return refuse_form(RULE_FORM, None, message, &typed).await;
    };
    let edit = match form.original_id.is_empty() {
        true => RuleEdit::Add {
            rule,
            position: None,
        },
        false => RuleEdit::Change {
            id: form.original_id.clone(),
            rule,
        },
    };
    let p = principal().await?;
    let engine = engine();
    let r = match engine.admin(&p) {
        Ok(admin) => admin.edit_rules(based_on, edit, &form.reason).await,
        Err(e) => Err(e),
    };
    match r {
        // Saved: back to the list, which says so (a flash here would race the editor's
        // own). With warnings, stay here and show them.
        Ok(o) if o.warnings.is_empty() => {
            let v = o.version.unwrap_or(o.previous);
            leptos_axum::redirect(&format!("/policies?saved={v}"));
            Ok(())
        }
        Ok(o) => flash(true, saved_message(&o), None).await,
        Err(e) => refuse_form(RULE_FORM, None, public_message(e), &typed).await,
    }
}

/// The name of the rule editor's refusals.
pub const RULE_FORM: &str = "rule";
