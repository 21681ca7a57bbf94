//! Messages: the flash after a form post, errors, and the note on areas not built yet.

use leptos::prelude::*;

use crate::components::page::Page;
use crate::types::Flash;

#[component]
pub fn FlashMessage(flash: Flash) -> impl IntoView {
    let (class, role) = if flash.ok {
        ("flash flash-ok", "status")
    } else {
        ("flash flash-error", "alert")
    };
    view! {
        <div class=class role=role>
            <p>{flash.message}</p>
            {flash
                .secret
                .map(|s| {
                    view! {
                        <div class="secret-once">
                            <code data-testid="new-secret">{s}</code>
                            <span class="muted">
                                "Store it where it is used (an agent's or a directory's secret store). ARX keeps only a hash."
                            </span>
                        </div>
                    }
                })}
        </div>
    }
}

/// The flash of the last form post, read again whenever `version` changes (an action's
/// version: with JavaScript the page stays, without it the post reloads the page).
pub type Posted = Resource<Result<Option<Flash>, ServerFnError>>;

pub fn posted(version: Signal<usize>) -> Posted {
    Resource::new(
        move || version.get(),
        |_| crate::server_fns::console::take_flash(),
    )
}

/// The last post's flash on top of the page, unless it belongs by a form's field.
#[component]
pub fn PostFlash(#[prop(into)] version: Signal<usize>) -> impl IntoView {
    view! { <ShownFlash flash=posted(version) /> }
}

#[component]
pub fn ShownFlash(flash: Posted) -> impl IntoView {
    view! {
        <Transition>
            {move || Suspend::new(async move {
                flash
                    .await
                    .ok()
                    .flatten()
                    .filter(|f| !f.is_inline())
                    .map(|f| view! { <FlashMessage flash=f /> })
            })}
        </Transition>
    }
}

#[component]
pub fn ErrorBox(message: String) -> impl IntoView {
    view! {
        <div class="flash flash-error" role="alert">
            <p>{message}</p>
        </div>
    }
}

/// Shows a server function error without its transport prefix.
pub fn error_text(e: &ServerFnError) -> String {
    let s = e.to_string();
    s.split_once(": ").map(|(_, m)| m.to_string()).unwrap_or(s)
}

#[component]
pub fn NotBuiltYet(title: &'static str, what: &'static str) -> impl IntoView {
    view! {
        <Page title>
            <div class="card planned">
                <span class="badge status-planned">"not built yet"</span>
                <p>{what}</p>
                <p class="muted">
                    "This area is planned and not available in this build. Nothing here is enforced yet."
                </p>
            </div>
        </Page>
    }
}
