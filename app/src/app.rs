//! The document shell and the route table.

use leptos::prelude::*;
use leptos_meta::{MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::components::{ParentRoute, Route, Router, Routes};
use leptos_router::{SsrMode, path};

use crate::components::layout::ConsoleLayout;
use crate::pages::{
    agent::AgentPage,
    agents::AgentsPage,
    approvals::{ApprovalPage, ApprovalsPage},
    audit::{AuditRecordPage, AuditTrailPage, ResponsePage},
    connectors::ConnectorsPage,
    drift::DriftPage,
    fleet::FleetGraphPage,
    grants::GrantsPage,
    identity::IdentityPage,
    integrations::IntegrationsPage,
    login::LoginPage,
    not_found::NotFoundPage,
    overview::OverviewPage,
    planned::*,
    policy::{PoliciesPage, PolicyYamlPage, RuleEditorPage, SimulatePage, VersionsPage},
    streams::StreamsPage,
    tokens::TokensPage,
    users::UsersPage,
    witness::WitnessPage,
};

pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <link rel="icon" href="/favicon.ico" />
                <AutoReload options=options.clone() />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// Every route is rendered with `SsrMode::Async`: the server waits for the page's data and
/// sends complete HTML, so the console works without JavaScript (streamed fallbacks would
/// need a script to be replaced). The console's pages say it once, on their parent route:
/// a request is rendered in the most restrictive mode of the routes it matches.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Stylesheet id="leptos" href="/pkg/arx.css" />
        <Title formatter=|text: String| {
            if text.is_empty() { "ARX".to_string() } else { format!("{text} · ARX") }
        } />
        <Router>
            <Routes fallback=NotFoundPage>
                <Route path=path!("/login") view=LoginPage ssr=SsrMode::Async />
                <ParentRoute path=path!("") view=ConsoleLayout ssr=SsrMode::Async>
                    <Route path=path!("/") view=OverviewPage />
                    <Route path=path!("/agents") view=AgentsPage />
                    <Route path=path!("/agents/view") view=AgentPage />
                    <Route path=path!("/agents/graph") view=FleetGraphPage />
                    <Route path=path!("/audit") view=AuditTrailPage />
                    <Route path=path!("/audit/response") view=ResponsePage />
                    <Route path=path!("/audit/record") view=AuditRecordPage />
                    <Route path=path!("/audit/witness") view=WitnessPage />
                    <Route path=path!("/audit/streams") view=StreamsPage />
                    <Route path=path!("/connectors") view=ConnectorsPage />
                    <Route path=path!("/approvals") view=ApprovalsPage />
                    <Route path=path!("/approvals/view") view=ApprovalPage />
                    <Route path=path!("/policies") view=PoliciesPage />
                    <Route path=path!("/policies/rules/edit") view=RuleEditorPage />
                    <Route path=path!("/policies/yaml") view=PolicyYamlPage />
                    <Route path=path!("/policies/versions") view=VersionsPage />
                    <Route path=path!("/policies/simulate") view=SimulatePage />
                    <Route path=path!("/grants") view=GrantsPage />
                    <Route path=path!("/drift") view=DriftPage />
                    <Route path=path!("/settings/identity") view=IdentityPage />
                    <Route path=path!("/settings/users") view=UsersPage />
                    <Route path=path!("/settings/integrations") view=IntegrationsPage />
                    <Route path=path!("/settings/llm") view=LlmPage />
                    <Route path=path!("/settings/tokens") view=TokensPage />
                </ParentRoute>
            </Routes>
        </Router>
    }
}
