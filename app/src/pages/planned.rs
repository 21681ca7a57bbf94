//! Areas of the product that are not built yet; each says so plainly.

use leptos::prelude::*;

use crate::components::messages::NotBuiltYet;

#[component]
pub fn DriftPage() -> impl IntoView {
    view! {
        <NotBuiltYet
            title="Drift"
            what="Alerts when an agent acts outside its declared manifest, with throttling and suspension by severity."
        />
    }
}

#[component]
pub fn IdentityPage() -> impl IntoView {
    view! {
        <NotBuiltYet
            title="SSO & SCIM"
            what="Sign-in with OIDC and SAML, and user provisioning over SCIM 2.0. Today the console has local accounts."
        />
    }
}

#[component]
pub fn LlmPage() -> impl IntoView {
    view! {
        <NotBuiltYet
            title="LLM router"
            what="One endpoint for agents' model calls with provider failover, health tracking and an audit record per call."
        />
    }
}

#[component]
pub fn NotFoundPage() -> impl IntoView {
    view! {
        <section class="page">
            <h1>"Not found"</h1>
            <p>
                <a href="/">"Back to the overview"</a>
            </p>
        </section>
    }
}
