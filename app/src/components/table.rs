//! What a page shows for loaded data: the error box, the empty note, or the listing card
//! with its table, so each page writes only its own headers, cells and empty text.

use std::sync::Arc;

use leptos::prelude::*;

use crate::components::messages::{ErrorBox, error_text};

/// Renders loaded data: an error box, otherwise `ok(value)`.
pub fn loaded<T, V>(data: Result<T, ServerFnError>, ok: impl FnOnce(T) -> V) -> AnyView
where
    V: IntoView + 'static,
{
    match data {
        Err(e) => view! { <ErrorBox message=error_text(&e) /> }.into_any(),
        Ok(value) => ok(value).into_any(),
    }
}

/// A resource's data where the page shows it: [`Loading`] until it loads, an error box if
/// it failed, otherwise `children(value)`; what is shown stays while the data reloads.
#[component]
pub fn Loaded<T, F, V>(data: Resource<Result<T, ServerFnError>>, children: F) -> impl IntoView
where
    T: Clone + Send + Sync + 'static,
    F: Fn(T) -> V + Send + Sync + 'static,
    V: IntoView + 'static,
{
    let children = Arc::new(children);
    view! {
        <Transition fallback=Loading>
            {move || {
                let children = children.clone();
                Suspend::new(async move { loaded(data.await, move |value| children(value)) })
            }}
        </Transition>
    }
}

/// Renders a loaded list: an error box, `empty` when there are no rows, otherwise
/// `full(rows)`.
pub fn loaded_list<T, E, V>(
    data: Result<Vec<T>, ServerFnError>,
    empty: E,
    full: impl FnOnce(Vec<T>) -> V,
) -> AnyView
where
    E: IntoView + 'static,
    V: IntoView + 'static,
{
    loaded(data, move |rows| {
        if rows.is_empty() {
            empty.into_any()
        } else {
            full(rows).into_any()
        }
    })
}

/// Renders a loaded listing as [`loaded_list`] does, the full list as a [`rows_table`]
/// of class `table` in a `<div class="card flush">`.
pub fn table_card<T, H, E, R>(
    data: Result<Vec<T>, ServerFnError>,
    testid: Option<&'static str>,
    empty: E,
    head: H,
    row: impl FnMut(T) -> R,
) -> AnyView
where
    H: IntoView + 'static,
    E: IntoView + 'static,
    R: IntoView + 'static,
{
    loaded_list(data, empty, move |rows| {
        view! { <div class="card flush">{rows_table("table", testid, head, rows, row)}</div> }
    })
}

/// A table of rows: `<table class=class>` (`testid` as its `data-testid` when given),
/// `head` in the header row and one `row(item)` per item in the body.
pub fn rows_table<T, H, R>(
    class: &'static str,
    testid: Option<&'static str>,
    head: H,
    rows: Vec<T>,
    row: impl FnMut(T) -> R,
) -> AnyView
where
    H: IntoView + 'static,
    R: IntoView + 'static,
{
    view! {
        <table class=class data-testid=testid>
            <thead>
                <tr>{head}</tr>
            </thead>
            <tbody>{rows.into_iter().map(row).collect_view()}</tbody>
        </table>
    }
    .into_any()
}

/// The fallback a listing shows while it loads.
#[component]
pub fn Loading() -> impl IntoView {
    view! { <p class="muted">"Loading…"</p> }
}

/// A column a header can sort by: its label, and the key and first order of its sort
/// (`None`: the column does not sort).
pub type Column = (&'static str, Option<(&'static str, &'static str)>);

/// Header cells that sort the list: each sortable one links to the list sorted by it
/// (the other way when it already is, and first in its own first order, descending for
/// counts and dates), marks the current order with an arrow and `aria-sort`. Links, so
/// sorting works without JavaScript and the order lives in the URL.
pub fn sort_headers(
    columns: &'static [Column],
    sorted: &crate::types::Sorted,
    link: &dyn Fn(&str, &str) -> String,
) -> impl IntoView + use<> {
    columns
        .iter()
        .map(|(label, sort)| match sort {
            None => view! { <th>{*label}</th> }.into_any(),
            Some((key, first)) => {
                let here = sorted.key == *key;
                let asc = sorted.order == "asc";
                let next = match (here, asc) {
                    (false, _) => *first,
                    (true, true) => "desc",
                    (true, false) => "asc",
                };
                let (aria, arrow) = match (here, asc) {
                    (false, _) => ("none", ""),
                    (true, true) => ("ascending", " ▲"),
                    (true, false) => ("descending", " ▼"),
                };
                view! {
                    <th aria-sort=aria>
                        <a class="sort" href=link(key, next) data-sort=*key>
                            {*label}
                            {arrow}
                        </a>
                    </th>
                }
                .into_any()
            }
        })
        .collect_view()
}

/// Header cells with these plain texts, for a [`rows_table`]'s `head`.
pub fn headers(names: &'static [&'static str]) -> impl IntoView {
    names
        .iter()
        .map(|name| view! { <th>{*name}</th> })
        .collect_view()
}
