//! A path that names no page of the console.

use leptos::prelude::*;

use crate::components::layout::Frame;
use crate::components::page::Page;

/// What a path that names no page shows: the console's frame with a 404 (the HTTP
/// status too), and the way back.
#[component]
pub fn NotFoundPage() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(r) = use_context::<leptos_axum::ResponseOptions>() {
        r.set_status(axum::http::StatusCode::NOT_FOUND);
    }
    view! {
        <Frame>
            <Page title="Not found" intro="No page of the console is at this address.">
                <p>
                    <a href="/">"Back to the overview"</a>
                </p>
            </Page>
        </Frame>
    }
}
