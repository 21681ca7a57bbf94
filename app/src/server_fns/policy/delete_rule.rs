//! Delete a rule (a new policy version without it; admins).

use leptos::prelude::*;

/// `based_on`: the version the page showed; `reason`: why, for the audit trail.
#[server]
pub async fn delete_rule(id: String, based_on: i64, reason: String) -> Result<(), ServerFnError> {
    use super::ssr::edit_with_flash;
    use arx_core::policy::RuleEdit;
    edit_with_flash(based_on, RuleEdit::Delete { id }, &reason).await
}
