//! The ARX console: Leptos pages rendered on the server and hydrated in the browser.
//! Pages call server functions (`server_fns/`), each a thin call into the engine.
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]
#![recursion_limit = "256"]

pub mod app;
pub mod components;
pub mod fmt;
pub mod pages;
pub mod server_fns;
pub mod types;

pub use app::{App, shell};

/// Session key of the signed-in user's `SessionClaim` (the engine builds the principal
/// from it on every request). The name is the one sessions used when they held the
/// whole principal, whose stored form still reads as a claim.
pub const SESSION_CLAIM_KEY: &str = "principal";
/// What a server function answers when the caller's session has ended; the console
/// frame sends the browser to the sign-in page on it.
pub const SIGNED_OUT: &str = "you are signed out; sign in again";
/// Session key of the one-shot message shown after a form post.
pub const FLASH_KEY: &str = "flash";

/// The server's public URL (`ARX_PUBLIC_URL`), given to the console's server functions
/// for the addresses it shows (the SCIM base URL a directory is configured with).
#[derive(Debug, Clone, PartialEq)]
pub struct PublicUrl(pub String);

#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(App);
    // Lets browser tests tell a hydrated page from plain server-rendered HTML.
    if let Some(body) = leptos::prelude::document().body() {
        let _ = body.set_attribute("data-hydrated", "true");
    }
}
