//! The document shell and the route table.

use leptos::prelude::*;
use leptos_meta::{MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::components::{ParentRoute, Route, Router, Routes};
use leptos_router::path;

use crate::components::layout::ConsoleLayout;
use crate::pages::{agents::AgentsPage, approvals::ApprovalsPage, audit::AuditTrailPage, connectors::ConnectorsPage, login::LoginPage, overview::OverviewPage, planned::*};

pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <link rel="icon" href="/favicon.ico"/>
                <AutoReload options=options.clone()/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Stylesheet id="leptos" href="/pkg/arx.css"/>
        <Title text="ARX console"/>
        <Router>
            <Routes fallback=NotFoundPage>
                <Route path=path!("/login") view=LoginPage/>
                <ParentRoute path=path!("") view=ConsoleLayout>
                    <Route path=path!("/") view=OverviewPage/>
                    <Route path=path!("/agents") view=AgentsPage/>
                    <Route path=path!("/audit") view=AuditTrailPage/>
                    <Route path=path!("/connectors") view=ConnectorsPage/>
                    <Route path=path!("/approvals") view=ApprovalsPage/>
                    <Route path=path!("/policies") view=PoliciesPage/>
                    <Route path=path!("/grants") view=GrantsPage/>
                    <Route path=path!("/drift") view=DriftPage/>
                    <Route path=path!("/settings/identity") view=IdentityPage/>
                    <Route path=path!("/settings/integrations") view=IntegrationsPage/>
                    <Route path=path!("/settings/llm") view=LlmPage/>
                </ParentRoute>
            </Routes>
        </Router>
    }
}
