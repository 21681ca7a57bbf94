//! The rule editor's data: a rule's fields to edit, and live validation as an admin types.

use leptos::prelude::*;

use crate::types::RuleForm;

/// The fields of rule `id`, or a new rule's defaults when `id` is empty.
#[server]
pub async fn load_rule_form(id: String) -> Result<RuleForm, ServerFnError> {
    use super::ssr::{current, form_from_rule};
    let v = current().await?;
    let based_on = v.version.to_string();
    if id.is_empty() {
        return Ok(RuleForm {
            priority: "100".into(),
            verdict: "ESCALATE".into(),
            min_approvals: "1".into(),
            based_on,
            ..Default::default()
        });
    }
    v.doc
        .rules
        .iter()
        .find(|r| r.id == id)
        .map(|r| RuleForm {
            based_on,
            ..form_from_rule(r)
        })
        .ok_or_else(|| {
            crate::server_fns::ssr::to_error(arx_core::CoreError::NotFound(format!(
                "there is no rule '{id}' in the policy in force"
            )))
        })
}

/// Checks a rule as typed: `None` when it compiles, else which field is wrong and why.
#[server]
pub async fn check_rule_form(form: RuleForm) -> Result<Option<String>, ServerFnError> {
    crate::server_fns::ssr::principal().await?;
    Ok(super::ssr::rule_from_form(&form)
        .err()
        .map(|e| e.to_string()))
}
