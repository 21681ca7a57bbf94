//! Drift: where agents acted outside their declared manifests, by severity, with the
//! action each alert took (alert, throttle, suspend). Admins acknowledge and resolve
//! alerts with a note; a throttled or suspended agent returns only when an admin
//! reactivates it, never by resolving its alerts.

use leptos::prelude::*;

use crate::components::badges::StatusBadge;
use crate::components::form::RowAction;
use crate::components::me::{is_admin, signed_in};
use crate::components::messages::PostFlash;
use crate::components::page::{Page, Tabs, query_param};
use crate::components::table::{Column, Loading, loaded, sort_headers, table_card};
use crate::components::when::When;
use crate::fmt::{count, query_value};
use crate::server_fns::drift::{SetDrift, list_drift};
use crate::types::DriftRow;

const TABS: &[(&str, &str)] = &[
    ("/drift", "Open"),
    ("/drift?status=acknowledged", "Acknowledged"),
    ("/drift?status=resolved", "Resolved"),
    ("/drift?status=all", "All"),
];

/// The alerts' columns: the time raised sorts them (newest first, then oldest first).
const COLUMNS: &[Column] = &[
    ("Severity", None),
    ("Agent", None),
    ("What", None),
    ("Action", None),
    ("Seen", Some(("raised", "desc"))),
    ("Status", None),
];

#[component]
pub fn DriftPage() -> impl IntoView {
    let set = ServerAction::<SetDrift>::new();
    let status = query_param("status");
    let severity = query_param("severity");
    let cursor = query_param("cursor");
    let order = query_param("order");
    let data = Resource::new(
        move || (status(), severity(), cursor(), order(), set.version().get()),
        |(status, severity, cursor, order, _)| {
            let status = match status.as_str() {
                "" => "open".to_string(),
                "all" => String::new(),
                s => s.to_string(),
            };
            list_drift(status, severity, cursor, order)
        },
    );
    // The filters and order a pager link keeps.
    let filters = move || {
        let mut q = vec![];
        for (k, v) in [
            ("status", status()),
            ("severity", severity()),
            ("order", order()),
        ] {
            if !v.is_empty() {
                q.push(format!("{k}={}", query_value(&v)));
            }
        }
        q
    };
    let me = signed_in();
    let current = Signal::derive(move || {
        let s = status();
        TABS.iter()
            .find(|(href, _)| href.ends_with(&format!("={s}")))
            .map_or("/drift", |(href, _)| href)
    });
    view! {
        <Page
            title="Drift"
            intro="Where an agent acted outside its declared manifest. Undeclared calls are denied at the gate; by severity an alert also throttles or suspends the agent, which stays so until an admin reactivates it on the Agents page."
        >
            <PostFlash version=Signal::derive(move || set.version().get()) />
            <Tabs label="Drift alerts" tabs=TABS current />
            <form method="get" action="/drift" class="filters">
                <input type="hidden" name="status" value=status />
                <input type="hidden" name="order" value=order />
                <label>
                    "Severity"
                    <select name="severity">
                        {["", "critical", "high", "medium", "low"]
                            .into_iter()
                            .map(|v| {
                                view! {
                                    <option value=v selected=move || severity() == v>
                                        {if v.is_empty() { "any" } else { v }}
                                    </option>
                                }
                            })
                            .collect_view()}
                    </select>
                </label>
                <button type="submit" class="btn">
                    "Apply"
                </button>
            </form>
            <Transition fallback=Loading>
                {move || Suspend::new(async move {
                    let admin = is_admin(me).await;
                    loaded(
                        data.await,
                        move |v| {
                            let oldest_first = v.sorted.order == "asc";
                            let head = sort_headers(
                                COLUMNS,
                                &v.sorted,
                                &|_, order| {
                                    let mut q: Vec<String> = filters()
                                        .into_iter()
                                        .filter(|p| !p.starts_with("order="))
                                        .collect();
                                    q.push(format!("order={order}"));
                                    format!("/drift?{}", q.join("&"))
                                },
                            );
                            view! {
                                <div class="stats drift-counts" data-testid="open-by-severity">
                                    {v
                                        .open_by_severity
                                        .iter()
                                        .map(|(sev, n)| {
                                            view! {
                                                <a class="stat" href=format!("/drift?severity={sev}")>
                                                    <span class=format!("badge sev-{sev}")>{sev.clone()}</span>
                                                    <strong>{count(*n)}</strong>
                                                    <span class="muted small">"open"</span>
                                                </a>
                                            }
                                        })
                                        .collect_view()}
                                </div>
                                {table_card(
                                    Ok(v.rows),
                                    Some("drift"),
                                    view! {
                                        <p class="muted">
                                            "No drift alerts here: every call matched its agent's manifest."
                                        </p>
                                    },
                                    view! {
                                        {head}
                                        {admin.then(|| view! { <th></th> })}
                                    },
                                    move |r| view! { <DriftLine r admin set /> },
                                )}
                                <nav class="pager">
                                    {(!cursor().is_empty())
                                        .then(|| {
                                            view! {
                                                <a href=format!(
                                                    "/drift?{}",
                                                    filters().join("&"),
                                                )>
                                                    {if oldest_first { "← Oldest" } else { "← Newest" }}
                                                </a>
                                            }
                                        })}
                                    {v
                                        .next_cursor
                                        .map(|c| {
                                            let mut q = filters();
                                            q.push(format!("cursor={}", query_value(&c)));
                                            view! {
                                                <a href=format!("/drift?{}", q.join("&")) rel="next">
                                                    {if oldest_first { "Newer →" } else { "Older →" }}
                                                </a>
                                            }
                                        })}
                                </nav>
                            }
                        },
                    )
                })}
            </Transition>
        </Page>
    }
}

#[component]
fn DriftLine(r: DriftRow, admin: bool, set: ServerAction<SetDrift>) -> impl IntoView {
    let next: &[(&str, &str)] = match r.status.as_str() {
        "open" => &[("acknowledged", "Acknowledge"), ("resolved", "Resolve")],
        "acknowledged" => &[("resolved", "Resolve")],
        _ => &[],
    };
    let id = r.id.clone();
    view! {
        <tr data-alert=r.id.clone() data-severity=r.severity.clone()>
            <td>
                <span class=format!("badge sev-{}", r.severity)>{r.severity.clone()}</span>
            </td>
            <td>
                <strong>{r.agent.clone()}</strong>
                <div class="muted small">
                    {r
                        .manifest_version
                        .map_or("no manifest".to_string(), |v| format!("manifest v{v}"))}
                </div>
            </td>
            <td class="mono small">{r.message.clone()}</td>
            <td>{r.action.replace('_', " ")}</td>
            <td class="nowrap">
                {format!("{}× ", count(r.occurrences.max(0) as u64))} <When utc=r.last.clone() />
                <div class="muted small">"first " <When utc=r.first.clone() /></div>
            </td>
            <td>
                <StatusBadge status=r.status.clone() />
                {r
                    .by
                    .clone()
                    .map(|by| {
                        view! {
                            <div class="muted small">
                                {format!("by {by}")} {r.note.clone().map(|n| format!(": {n}"))}
                            </div>
                        }
                    })}
            </td>
            {admin
                .then(|| {
                    view! {
                        <td>
                            {next
                                .iter()
                                .map(|&(to, label)| {
                                    view! {
                                        <RowAction
                                            action=set
                                            hidden=vec![("id", id.clone()), ("to", to.to_string())]
                                            label
                                            block=true
                                        >
                                            <input
                                                name="note"
                                                class="small"
                                                placeholder="note (optional)"
                                                aria-label=format!("Note to {label}")
                                            />
                                        </RowAction>
                                    }
                                })
                                .collect_view()}
                        </td>
                    }
                })}
        </tr>
    }
}
