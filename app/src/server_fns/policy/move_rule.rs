//! Move a rule up or down the evaluation order (admins): the rules are renumbered
//! 10, 20, 30… in the new order, as a new policy version.

use leptos::prelude::*;

#[server]
pub async fn move_rule(id: String, up: bool) -> Result<(), ServerFnError> {
    use super::ssr::{apply_with_flash, current};
    use crate::server_fns::ssr::flash;
    let mut doc = current().await?;
    doc.rules
        .sort_by(|a, b| (a.priority, &a.id).cmp(&(b.priority, &b.id)));
    let Some(at) = doc.rules.iter().position(|r| r.id == id) else {
        return flash(false, format!("there is no rule '{id}'"), None).await;
    };
    let to = if up { at.checked_sub(1) } else { Some(at + 1) };
    match to.filter(|t| *t < doc.rules.len()) {
        Some(t) => doc.rules.swap(at, t),
        None => {
            return flash(
                true,
                format!("{id} is already {}", if up { "first" } else { "last" }),
                None,
            )
            .await;
        }
    }
    for (i, r) in doc.rules.iter_mut().enumerate() {
        r.priority = (i as i32 + 1) * 10;
    }
    let dir = if up { "up" } else { "down" };
    apply_with_flash(doc, &format!("move rule {id} {dir}")).await
}
