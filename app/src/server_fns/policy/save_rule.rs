//! Save a created or edited rule as a new policy version (admins).

use leptos::prelude::*;

use crate::types::RuleForm;

#[server]
pub async fn save_rule(form: RuleForm) -> Result<(), ServerFnError> {
    use super::ssr::{current, rule_from_form};
    use crate::server_fns::ssr::{engine, flash, flash_outcome, principal};
    let rule = match rule_from_form(&form) {
        Ok(r) => r,
        Err(e) => return flash(false, e.to_string(), None).await,
    };
    let mut doc = current().await?;
    let message = match doc.rules.iter().position(|r| r.id == form.original_id) {
        Some(at) if !form.original_id.is_empty() => {
            doc.rules[at] = rule.clone();
            format!("edit rule {}", rule.id)
        }
        _ => {
            doc.rules.push(rule.clone());
            format!("add rule {}", rule.id)
        }
    };
    // Saved: back to the list, which says so (a flash here would race the editor's own).
    let p = principal().await?;
    let engine = engine();
    let r = match engine.admin(&p) {
        Ok(admin) => admin.apply_policy(doc, &message, false).await,
        Err(e) => Err(e),
    };
    match r {
        Ok(o) => {
            let v = o.version.unwrap_or(o.previous);
            leptos_axum::redirect(&format!("/policies?saved={v}"));
            Ok(())
        }
        Err(e) => flash_outcome::<()>(Err(e), |_| (String::new(), None)).await,
    }
}
