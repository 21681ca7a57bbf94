//! Configured connector instances and the operations each exposes, by risk tier.

use leptos::prelude::*;

use crate::components::badges::TierBadge;
use crate::components::page::Page;
use crate::components::table::{Loading, headers, loaded_list, rows_table};
use crate::server_fns::console::list_instances;

#[component]
pub fn ConnectorsPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| list_instances());
    view! {
        <Page
            title="Connectors"
            intro="Instances of the connector catalog configured in this org. Credentials are write-only: ARX shows whether they are set, never what they are."
        >
            <Suspense fallback=Loading>
                {move || Suspend::new(async move {
                    loaded_list(
                        data.await,
                        view! {
                            <p class="muted">
                                "No connector instances yet; an admin adds them through the admin API."
                            </p>
                        },
                        move |rows| {
                            rows.into_iter()
                                .map(|i| {
                                    view! {
                                        <details class="card instance">
                                            <summary>
                                                <strong>{i.display_name.clone()}</strong>
                                                <span class="muted">
                                                    {format!(" · {} · {}", i.category, i.name)}
                                                </span>
                                                <span class=format!(
                                                    "badge env-{}",
                                                    i.environment,
                                                )>{i.environment.clone()}</span>
                                                <span class="muted small">
                                                    {format!(
                                                        "sensitivity {}/25 · {} operations",
                                                        i.sensitivity,
                                                        i.operations.len(),
                                                    )}
                                                </span>
                                                {if i.credentials_set {
                                                    view! {
                                                        <span class="badge status-active">"credentials set"</span>
                                                    }
                                                        .into_any()
                                                } else {
                                                    view! {
                                                        <span class="badge status-suspended">"no credentials"</span>
                                                    }
                                                        .into_any()
                                                }}
                                            </summary>
                                            {rows_table(
                                                "table",
                                                None,
                                                view! {
                                                    {headers(
                                                        &["Operation", "Method", "Tier", "Kind", "Description"],
                                                    )}
                                                },
                                                i.operations,
                                                move |o| {
                                                    view! {
                                                        <tr>
                                                            <td class="mono">{o.id}</td>
                                                            <td class="mono">{o.method}</td>
                                                            <td>
                                                                <TierBadge tier=o.tier />
                                                            </td>
                                                            <td>{if o.writes { "write" } else { "read" }}</td>
                                                            <td>{o.description}</td>
                                                        </tr>
                                                    }
                                                },
                                            )}
                                        </details>
                                    }
                                })
                                .collect_view()
                        },
                    )
                })}
            </Suspense>
        </Page>
    }
}
