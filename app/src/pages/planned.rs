//! Areas of the product that are not built yet; each says so plainly.

use leptos::prelude::*;

use crate::components::messages::NotBuiltYet;

/// A page for an area not built yet: its title and what it will do.
macro_rules! planned {
    ($($page:ident: $title:literal, $what:literal;)*) => {$(
        #[component]
        pub fn $page() -> impl IntoView {
            view! { <NotBuiltYet title=$title what=$what /> }
        }
    )*};
}

planned! {
    LlmPage: "LLM router",
        "One endpoint for agents' model calls with provider failover, health tracking and an audit record per call.";
}
