//! The fleet graph (`/agents/graph`): every agent and the connectors it declares or called
//! in the last 7 days, edges as wide as the calls, drawn on the server (no JavaScript
//! needed). Filtered to one connector, it answers "what can touch our EDR?".

use leptos::prelude::*;

use crate::components::page::{Page, PrevNext, query_param};
use crate::components::table::{Loading, loaded};
use crate::fmt::{count, query_value};
use crate::server_fns::agents::fleet_graph;
use crate::types::FleetGraphView;

#[component]
pub fn FleetGraphPage() -> impl IntoView {
    let connector = query_param("connector");
    let page = query_param("page");
    let data = Resource::new(
        move || (connector(), page()),
        |(connector, page)| fleet_graph(connector, page.parse().unwrap_or(0)),
    );
    view! {
        <Page
            title="Fleet graph"
            intro="Every agent and the connectors its manifest declares or that it called; an edge is as wide as its calls. Pick a connector to see every agent that can touch it."
        >
            <p class="muted small">
                <a href="/agents">"← Agents"</a>
            </p>
            <Transition fallback=Loading>
                {move || Suspend::new(async move {
                    loaded(data.await, |v: FleetGraphView| view! { <Fleet v /> })
                })}
            </Transition>
        </Page>
    }
}

#[component]
fn Fleet(v: FleetGraphView) -> impl IntoView {
    let first = v.page * v.per_page;
    let last = (first + v.per_page).min(v.total);
    let link = |p: usize| {
        format!(
            "/agents/graph?connector={}&page={p}",
            query_value(&v.connector)
        )
    };
    let prev = (v.page > 0).then(|| link(v.page - 1));
    let next = (last < v.total).then(|| link(v.page + 1));
    let paged = v.total > v.per_page;
    let selected = v.connector.clone();
    let scope = if v.connector.is_empty() {
        "all connectors".to_string()
    } else {
        format!("agents that declare or called {}", v.connector)
    };
    view! {
        <form method="get" action="/agents/graph" class="filters">
            <label>
                "Connector" <select name="connector">
                    <option value="" selected=selected.is_empty()>
                        "All connectors"
                    </option>
                    {v
                        .connectors
                        .iter()
                        .map(|c| {
                            let on = *c == selected;
                            view! {
                                <option value=c.clone() selected=on>
                                    {c.clone()}
                                </option>
                            }
                        })
                        .collect_view()}
                </select>
            </label>
            <button type="submit" class="btn">
                "Show"
            </button>
        </form>
        <p class="muted small" data-testid="fleet-window">
            {format!(
                "Calls of the last {} days ({} to {}), every intercepted call whatever the verdict; {scope}.",
                v.window_days,
                v.from,
                v.to,
            )}
        </p>
        <p class="pager muted small" data-testid="pager">
            {if v.total == 0 {
                "No agents to draw.".to_string()
            } else if paged {
                format!(
                    "More than {} agents: drawn {} at a time. Agents {}–{} of {}.",
                    count(v.per_page),
                    count(v.per_page),
                    count(first + 1),
                    count(last),
                    count(v.total),
                )
            } else {
                format!("{} agents.", count(v.total))
            }}
            <PrevNext prev next />
        </p>
        <div class="card">
            <div class="graph-box" data-testid="fleet" inner_html=v.svg></div>
        </div>
    }
}
