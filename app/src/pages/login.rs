//! Sign-in: a plain form posted to `/auth/login`, so it works without JavaScript.

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
                <p class="muted small">
                    "Single sign-on (OIDC, SAML) arrives with the identity area."
                </p>
            </form>
        </div>
    }
}
