//! The one-shot message left by the last form post.

use leptos::prelude::*;

use crate::types::Flash;

#[server]
pub async fn take_flash() -> Result<Option<Flash>, ServerFnError> {
    let session = super::super::ssr::session().await?;
    session
        .remove::<Flash>(crate::FLASH_KEY)
        .await
        .map_err(|e| ServerFnError::new(e.to_string()))
}
