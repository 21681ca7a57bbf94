//! Who is signed in.

use leptos::prelude::*;

use crate::types::Me;

#[server]
pub async fn current_user() -> Result<Me, ServerFnError> {
    let p = super::super::ssr::principal().await?;
    Ok(Me {
        is_admin: p.is_admin(),
        email: p.email().into(),
        name: p.name().into(),
        role: p.roles().describe(),
        org_slug: p.org_slug().into(),
        local_targets: super::super::ssr::engine().local_targets_allowed(),
    })
}
