//! The console frame: navigation to every area, the org, the user, sign-out.

use leptos::prelude::*;
use leptos_router::components::{A, Outlet};

use crate::components::me::{OnlyFor, signed_in};
use crate::components::messages::error_text;

const NAV: &[(&str, &[(&str, &str)])] = &[
    ("", &[("/", "Overview")]),
    (
        "Govern",
        &[
            ("/approvals", "Approvals"),
            ("/policies", "Policies"),
            ("/grants", "Grants"),
        ],
    ),
    (
        "Registry",
        &[
            ("/agents", "Agents"),
            ("/connectors", "Connectors"),
            ("/drift", "Drift"),
        ],
    ),
    ("Evidence", &[("/audit", "Audit trail")]),
    (
        "Admin",
        &[
            ("/settings/identity", "SSO & SCIM"),
            ("/settings/integrations", "Integrations"),
            ("/settings/llm", "LLM router"),
            ("/settings/tokens", "API tokens"),
        ],
    ),
];

#[component]
pub fn ConsoleLayout() -> impl IntoView {
    let me = signed_in();
    view! {
        <div class="console">
            <nav class="sidebar" aria-label="Main">
                <a class="brand" href="/">
                    <span class="brand-mark">"◆"</span>
                    " ARX"
                </a>
                {NAV
                    .iter()
                    .map(|(group, links)| {
                        view! {
                            <div class="nav-group">
                                {(!group.is_empty())
                                    .then(|| view! { <div class="nav-title">{*group}</div> })}
                                {links
                                    .iter()
                                    .map(|(href, label)| {
                                        view! {
                                            <A href=*href exact=true>
                                                {*label}
                                            </A>
                                        }
                                    })
                                    .collect_view()}
                            </div>
                        }
                    })
                    .collect_view()}
            </nav>
            <div class="main">
                <header class="topbar">
                    <Suspense fallback=|| {
                        view! { <span class="muted">"…"</span> }
                    }>
                        {move || Suspend::new(async move {
                            match me.await {
                                Ok(m) => {
                                    view! {
                                        <span class="org">
                                            "org " <strong>{m.org_slug}</strong>
                                        </span>
                                        <span class="spacer"></span>
                                        <span class="user" data-testid="user">
                                            {m.email}
                                        </span>
                                        <span class="badge role">{m.role}</span>
                                        <form method="post" action="/auth/logout" class="inline">
                                            <button type="submit" class="btn-link">
                                                "Sign out"
                                            </button>
                                        </form>
                                    }
                                        .into_any()
                                }
                                Err(e) => {
                                    view! {
                                        <span class="muted">{error_text(&e)}</span>
                                        <span class="spacer"></span>
                                        <a href="/login">"Sign in"</a>
                                    }
                                        .into_any()
                                }
                            }
                        })}
                    </Suspense>
                </header>
                <OnlyFor me who=|m| m.local_targets>
                    <div class="banner warn" role="alert" data-testid="local-targets">
                        <strong>"Local targets allowed. "</strong>
                        "Calls and notices may go to plain http and to loopback, private and link-local addresses. "
                        "This is for the demo and tests; start production servers without --allow-local-targets."
                    </div>
                </OnlyFor>
                <main class="content">
                    <Outlet />
                </main>
            </div>
        </div>
    }
}
