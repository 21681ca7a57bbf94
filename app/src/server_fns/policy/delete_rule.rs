//! Delete a rule (a new policy version without it; admins).

use leptos::prelude::*;

#[server]
pub async fn delete_rule(id: String) -> Result<(), ServerFnError> {
    use super::ssr::{apply_with_flash, current};
    let mut doc = current().await?;
    doc.rules.retain(|r| r.id != id);
    apply_with_flash(doc, &format!("delete rule {id}")).await
}
