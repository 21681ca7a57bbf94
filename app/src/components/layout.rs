//! The console frame: navigation to every area (a drawer on narrow screens), the org,
//! the user, sign-out.

use leptos::prelude::*;
use leptos_router::components::{A, Outlet};

use crate::SIGNED_OUT;
use crate::components::me::{MeResource, OnlyFor};
use crate::components::messages::error_text;
use crate::server_fns::console::current_user;

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
            ("/settings/users", "Users"),
            ("/settings/identity", "SSO & SCIM"),
            ("/settings/integrations", "Integrations"),
            ("/settings/llm", "LLM router"),
            ("/settings/tokens", "API tokens"),
        ],
    ),
];

/// The console's pages, inside the frame.
#[component]
pub fn ConsoleLayout() -> impl IntoView {
    view! {
        <Frame>
            <Outlet />
        </Frame>
    }
}

/// The frame of every console page: a skip link, the navigation (a drawer below 800 px,
/// opened by the Menu button: a checkbox, focusable and toggled with Space, and the
/// labels that show it, so it works without JavaScript), the org and the user, then
/// `children` in `<main id="content">`.
#[component]
pub fn Frame(children: Children) -> impl IntoView {
    // Who is signed in, read again at every page change: the top bar shows the roles held
    // now, and with JavaScript a session that ended (signed out elsewhere, ended by an
    // admin, timed out, the account deactivated) sends the next click to the sign-in page,
    // as a page load would.
    let path = leptos_router::hooks::use_location().pathname;
    let me: MeResource = Resource::new(move || path.get(), |_| current_user());
    Effect::new(move |_| {
        if let Some(Err(e)) = me.get()
            && error_text(&e) == SIGNED_OUT
        {
            let _ = window().location().set_href("/login");
        }
    });
    // With JavaScript, a link followed in the drawer changes the page without a reload:
    // close the drawer as it does.
    let drawer = NodeRef::<leptos::html::Input>::new();
    let close_drawer = move |_| {
        if let Some(input) = drawer.get() {
            input.set_checked(false);
        }
    };
    view! {
        <a class="skip-link" href="#content">
            "Skip to content"
        </a>
        <div class="console">
            <input
                type="checkbox"
                id="nav-open"
                class="nav-open"
                aria-label="Menu"
                aria-controls="nav"
                node_ref=drawer
            />
            <nav class="sidebar" id="nav" aria-label="Main" on:click=close_drawer>
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
            <label for="nav-open" class="nav-backdrop" aria-hidden="true"></label>
            <div class="main">
                <header class="topbar">
                    <label for="nav-open" class="nav-button" aria-hidden="true">
                        "☰ Menu"
                    </label>
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
                <main class="content" id="content" tabindex="-1">
                    {children()}
                </main>
            </div>
        </div>
    }
}
