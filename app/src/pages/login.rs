//! Sign-in: the org's single sign-on button (a link to `/auth/oidc/login`), and the local
//! form posted to `/auth/login`; both work without JavaScript.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

#[component]
pub fn LoginPage() -> impl IntoView {
    let q = use_query_map();
    let error = move || {
        let q = q.read();
        q.get("error").map(|e| match e.as_str() {
            "invalid" => "The email or password is wrong.".to_string(),
            "rate_limited" => {
                let secs = q
                    .get("retry_after")
                    .and_then(|s| s.parse::<u64>().ok())
                    .unwrap_or(60);
                format!("Too many failed sign-ins; try again in {secs} s.")
            }
            _ => "Sign-in is unavailable right now; try again in a moment.".to_string(),
        })
    };
    let org = move || q.read().get("org");
    let offer = Resource::new(org, crate::server_fns::identity::sso_buttons);
    view! {
        <Title text="Sign in" />
        <div class="login-wrap">
            <form class="login card" method="post" action="/auth/login">
                <div class="brand big">
                    <span class="brand-mark">"◆"</span>
                    " ARX"
                </div>
                <p class="muted">"Governance for AI agents on your security tools."</p>
                {move || {
                    error()
                        .map(|e| {
                            view! {
                                <div class="flash flash-error" role="alert">
                                    <p>{e}</p>
                                </div>
                            }
                        })
                }}
                <label>
                    "Email"
                    <input type="email" name="email" autocomplete="username" required autofocus />
                </label>
                <label>
                    "Password"
                    <input
                        type="password"
                        name="password"
                        autocomplete="current-password"
                        required
                    />
                </label>
                <button type="submit" class="btn primary">
                    "Sign in"
                </button>
                <Suspense>
                    {move || Suspend::new(async move {
                        offer.await.ok().map(|o| view! { <SsoChoice o /> })
                    })}
                </Suspense>
            </form>
        </div>
    }
}

/// The org's SSO button (or, when several orgs have SSO and the address names none, a
/// field for the org), above the local form.
#[component]
fn SsoChoice(o: crate::types::SsoOffer) -> impl IntoView {
    let buttons = o
        .buttons
        .into_iter()
        .map(|(href, label)| {
            view! {
                <a class="btn" href=href rel="external" data-testid="sso-button">
                    {label}
                </a>
            }
        })
        .collect_view();
    let ask = o.ask_org.then(|| {
        view! {
            <p class="muted small">
                "Single sign-on: open " <code>"/login?org=your-org"</code>
                " for your organisation's button."
            </p>
        }
    });
    view! { <div class="sso">{buttons} {ask}</div> }
}
