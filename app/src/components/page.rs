//! The frame of every console page: its title, a line on what it is for, then its content;
//! and what the page's URL asks for.

use leptos::prelude::*;
use leptos::text_prop::TextProp;
use leptos_meta::Title;
use leptos_router::hooks::use_location;

/// What a page says under its title: plain text, or text with links and code.
pub struct Intro(AnyView);

impl<V: IntoView + 'static> From<V> for Intro {
    fn from(view: V) -> Self {
        Self(view.into_any())
    }
}

/// `<section class="page">` with the page head (the title and, when given, the intro in
/// a muted paragraph), then the page's own content. The title is the document's too
/// ("Agents · ARX"), so tabs and history tell pages apart.
#[component]
pub fn Page(
    #[prop(into)] title: TextProp,
    #[prop(optional, into)] intro: Option<Intro>,
    children: Children,
) -> impl IntoView {
    let heading = title.clone();
    view! {
        <Title text=move || title.get().to_string() />
        <section class="page">
            <header class="page-head">
                <h1>{move || heading.get()}</h1>
                {intro.map(|Intro(intro)| view! { <p class="muted">{intro}</p> })}
            </header>
            {children()}
        </section>
    }
}

/// The current URL's query parameter `name` (its last value), empty when it is absent.
/// Read as a form writes it, so a space a GET form sent as `+` is a space again.
pub fn query_param(name: &'static str) -> impl Fn() -> String + Copy + Send + Sync + 'static {
    let search = use_location().search;
    move || {
        crate::fmt::query_pairs(&search.read())
            .into_iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
            .unwrap_or_default()
    }
}

/// Tabs between the views of one area, as (href, text); the one at `current` is marked as
/// the current page.
/// The links to the previous and next page of a list, where there is one.
#[component]
pub fn PrevNext(prev: Option<String>, next: Option<String>) -> impl IntoView {
    view! {
        {prev
            .map(|href| {
                view! {
                    " "
                    <a href=href>"← previous"</a>
                }
            })}
        {next
            .map(|href| {
                view! {
                    " "
                    <a href=href>"next →"</a>
                }
            })}
    }
}

#[component]
pub fn Tabs(
    label: &'static str,
    tabs: &'static [(&'static str, &'static str)],
    #[prop(into)] current: Signal<&'static str>,
) -> impl IntoView {
    view! {
        <nav class="tabs" aria-label=label>
            {tabs
                .iter()
                .map(|&(href, text)| {
                    let here = move || (current.get() == href).then_some("page");
                    view! {
                        <a href=href aria-current=here>
                            {text}
                        </a>
                    }
                })
                .collect_view()}
        </nav>
    }
}
