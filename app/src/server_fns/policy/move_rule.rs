//! Move a rule up or down the evaluation order (admins): the rules are renumbered
//! 10, 20, 30… in the new order, as a new policy version.

use leptos::prelude::*;

/// `based_on`: the version the page showed, so a move on a stale list is refused.
#[server]
pub async fn move_rule(id: String, up: bool, based_on: i64) -> Result<(), ServerFnError> {
    use super::ssr::{current, edit_with_flash};
    use crate::server_fns::ssr::flash;
    use arx_core::policy::RuleEdit;
    let mut doc = current().await?.doc;
    doc.rules
        .sort_by(|a, b| (a.priority, &a.id).cmp(&(b.priority, &b.id)));
    let Some(at) = doc.rules.iter().position(|r| r.id == id) else {
        return flash(false, format!("there is no rule '{id}'"), None).await;
    };
    let to = if up { at.checked_sub(1) } else { Some(at + 1) };
    let Some(to) = to.filter(|t| *t < doc.rules.len()) else {
        return flash(
            true,
            format!("{id} is already {}", if up { "first" } else { "last" }),
            None,
        )
        .await;
    };
    // The arrows are the reason: a reorder says what it does, and the version records it.
    let dir = if up { "up" } else { "down" };
    let reason = format!("moved {id} {dir} in the console");
    edit_with_flash(based_on, RuleEdit::Move { id, to }, &reason).await
}
