//! The listing card every registry page shows: the error, the empty note, or the table
//! of rows, so each page writes only its own headers, cells and empty text.

use leptos::prelude::*;

use crate::components::messages::{ErrorBox, error_text};

/// Renders a loaded listing: an error box, `empty` when there are no rows, otherwise
/// `<div class="card flush"><table class="table">` with `head` in the header row and
/// one `row(item)` per item. `testid` becomes the table's `data-testid` when given.
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
    match data {
        Err(e) => view! { <ErrorBox message=error_text(&e) /> }.into_any(),
        Ok(rows) if rows.is_empty() => empty.into_any(),
        Ok(rows) => view! {
            <div class="card flush">
                <table class="table" data-testid=testid>
                    <thead>
                        <tr>{head}</tr>
                    </thead>
                    <tbody>{rows.into_iter().map(row).collect_view()}</tbody>
                </table>
            </div>
        }
        .into_any(),
    }
}

/// The fallback a listing shows while it loads.
#[component]
pub fn Loading() -> impl IntoView {
    view! { <p class="muted">"Loading…"</p> }
}
