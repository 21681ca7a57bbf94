//! The agent registry: every agent with its owner, labels and status; admins create
//! agents and issue keys here (forms that work with and without JavaScript).

use leptos::prelude::*;

use crate::components::badges::{Labels, OwnerInactive, RiskBadge, StatusBadge};
use crate::components::form::{Field, ReasonInput, Refilled, RowAction, SubmitRow};
use crate::components::me::{OnlyFor, is_admin, signed_in};
use crate::components::messages::{ShownFlash, posted};
use crate::components::page::{Page, PrevNext, query_param};
use crate::components::table::{Column, Loading, sort_headers, table_card};
use crate::components::when::When;
use crate::fmt::{count, query_value};
use crate::server_fns::agents::{CreateAgent, IssueKey, SetAgentStatus, list_agents};

#[component]
pub fn AgentsPage() -> impl IntoView {
    let create = ServerAction::<CreateAgent>::new();
    let issue = ServerAction::<IssueKey>::new();
    let status = ServerAction::<SetAgentStatus>::new();
    let version = Signal::derive(move || {
        create.version().get() + issue.version().get() + status.version().get()
    });
    let selector = query_param("selector");
    let group_by = query_param("group_by");
    let page = query_param("page");
    let sort = query_param("sort");
    let order = query_param("order");
    let agents = Resource::new(
        move || {
            (
                selector(),
                group_by(),
                page(),
                sort(),
                order(),
                version.get(),
            )
        },
        |(selector, group_by, page, sort, order, _)| {
            list_agents(selector, group_by, page.parse().unwrap_or(0), sort, order)
        },
    );
    let flash = posted(version);
    let me = signed_in();

    view! {
        <Page
            title="Agents"
            intro="Each agent has an accountable owner and its own API keys. Keys are stored hashed and shown once."
        >
            <ShownFlash flash />
            <p class="muted small">
                <a href="/agents/graph" data-testid="fleet-link">
                    "Fleet graph: every agent and the connectors it can touch →"
                </a>
            </p>
            <form method="get" action="/agents" class="filters">
                <label class="wide-filter">
                    "Label selector"
                    <input
                        name="selector"
                        value=selector
                        placeholder="env=prod, team in (soc,ir), !retired"
                        class="mono"
                    />
                </label>
                <label>
                    "Count by"
                    <input name="group_by" value=group_by placeholder="team" class="short" />
                </label>
                // A new filter keeps the order and starts at the first page.
                <input type="hidden" name="sort" value=sort />
                <input type="hidden" name="order" value=order />
                <button type="submit" class="btn">
                    "Filter"
                </button>
            </form>
            <Transition fallback=Loading>
                {move || Suspend::new(async move {
                    let is_admin = is_admin(me).await;
                    let view = agents.await;
                    let groups = view.as_ref().map(|v| v.groups.clone()).unwrap_or_default();
                    let key = group_by();
                    let counts = (!groups.is_empty())
                        .then(|| {
                            view! {
                                <p class="groups" data-testid="groups">
                                    {groups
                                        .into_iter()
                                        .map(|(value, n)| {
                                            let text = match value {
                                                Some(v) => format!("{key}:{v}"),
                                                None => format!("no {key}"),
                                            };
                                            view! {
                                                <span class="label">{format!("{text} · {n}")}</span>
                                            }
                                        })
                                        .collect_view()}
                                </p>
                            }
                        });
                    let list = Listed {
                        selector: selector(),
                        group_by: key.clone(),
                        sorted: view.as_ref().map(|v| v.sorted.clone()).unwrap_or_default(),
                    };
                    let pager = view
                        .as_ref()
                        .ok()
                        .map(|v| pager(v.total, v.page, v.per_page, &list));
                    let head = sort_headers(
                        COLUMNS,
                        &list.sorted,
                        &|key, order| list.link(key, order, 0),
                    );
                    view! {
                        {counts}
                        {pager}
                        {table_card(
                            view.map(|v| v.rows),
                            None,
                            view! { <p class="muted">"No agents yet."</p> },
                            view! {
                                {head}
                                {is_admin.then(|| view! { <th></th> })}
                            },
                            move |a| {
                                let id = a.id.clone();
                                view! {
                                    <tr data-agent=a.name.clone()>
                                        <td>
                                            <a href=format!("/agents/view?id={}", a.id)>
                                                <strong>{a.name.clone()}</strong>
                                            </a>
                                            <div class="muted small">{a.description.clone()}</div>
                                        </td>
                                        <td>
                                            {a.owner.clone()}
                                            <OwnerInactive inactive=a.owner_inactive />
                                        </td>
                                        <td>
                                            <Labels labels=a.labels.clone() />
                                        </td>
                                        <td>
                                            <StatusBadge status=a.status.clone() />
                                        </td>
                                        <td class="nowrap" data-testid="manifest">
                                            {match a.manifest {
                                                Some((v, true)) => format!("v{v} (generated)"),
                                                Some((v, false)) => format!("v{v}"),
                                                None => "none".to_string(),
                                            }}
                                        </td>
                                        <td class="nowrap" data-testid="open-drift">
                                            {(a.open_drift > 0)
                                                .then(|| {
                                                    view! {
                                                        <a class="badge sev-high" href="/drift">
                                                            {format!("{} open drift", a.open_drift)}
                                                        </a>
                                                    }
                                                })}
                                        </td>
                                        <td class="num">
                                            {format!("{}/min", count(a.declared_rate))}
                                        </td>
                                        <td class="num">{count(a.active_keys)}</td>
                                        <Activity a=a.clone() />
                                        <td class="nowrap">
                                            <When utc=a.created.clone() />
                                        </td>
                                        {is_admin
                                            .then(|| {
                                                view! {
                                                    <td>
                                                        <StatusAction
                                                            action=status
                                                            id=id.clone()
                                                            agent=a.name.clone()
                                                            status=a.status.clone()
                                                        />
                                                        <IssueKeyAction action=issue id=id.clone() />
                                                    </td>
                                                }
                                            })}
                                    </tr>
                                }
                            },
                        )}
                    }
                })}
            </Transition>
            <OnlyFor me who=|m| m.is_admin>
                <div class="card">
                    <h2>"Register an agent"</h2>
                    <ActionForm action=create attr:class="form-grid">
                        <Refilled flash form="agent">
                            <Field
                                label="Name"
                                name="name"
                                required=true
                                placeholder="triage-agent"
                            />
                            <Field
                                label="Owner email"
                                name="owner"
                                kind="email"
                                required=true
                                placeholder="secops-lead@example.com"
                            />
                            <Field
                                label="Description"
                                name="description"
                                placeholder="What it does, in a sentence"
                                wide=true
                            />
                            <Field
                                label="Labels"
                                name="labels"
                                placeholder="env:prod, team:soc"
                                wide=true
                            />
                            <Field
                                label="Replaces (a decommissioned agent, optional)"
                                name="replaces"
                                placeholder="old-triage-agent"
                            />
                        </Refilled>
                        <SubmitRow label="Create agent" />
                    </ActionForm>
                </div>
            </OnlyFor>
        </Page>
    }
}

/// The agent's latest call, its calls of the last 24 hours by verdict, and their
/// highest risk: three cells.
#[component]
fn Activity(a: crate::types::AgentRow) -> impl IntoView {
    let (p, e, d) = a.verdicts_24h;
    let calls = p + e + d;
    view! {
        <td class="nowrap" data-testid="last-call">
            {match a.last_call {
                Some(when) => view! { <When utc=when /> }.into_any(),
                None if a.never_used => {
                    view! { <span class="badge status-planned">"never used"</span> }.into_any()
                }
                None => view! { <span class="muted">"no call"</span> }.into_any(),
            }}
        </td>
        <td class="nowrap" data-testid="calls-24h">
            <span class="num">{count(calls)}</span>
            {(calls > 0)
                .then(|| {
                    view! {
                        <span
                            class="mix muted small"
                            title=format!("{p} permitted, {e} escalated, {d} denied")
                        >
                            " "
                            <i class="dot permit"></i>
                            {p}
                            " "
                            <i class="dot escalate"></i>
                            {e}
                            " "
                            <i class="dot deny"></i>
                            {d}
                        </span>
                    }
                })}
        </td>
        <td data-testid="risk-24h">
            {match a.max_risk_24h {
                Some(score) => view! { <RiskBadge score /> }.into_any(),
                None => view! { <span class="muted">"–"</span> }.into_any(),
            }}
        </td>
    }
}

/// Issue the agent a key, once the box is ticked: one more credential that acts as it.
#[component]
pub fn IssueKeyAction(action: ServerAction<IssueKey>, id: String) -> impl IntoView {
    view! {
        <RowAction action hidden=vec![("agent_id", id)] label="Issue key" block=true>
            <label class="check small">
                <input type="checkbox" name="confirm" required />
                "one more credential that acts as this agent"
            </label>
        </RowAction>
    }
}

/// Suspend an active agent, or reactivate a suspended or throttled one, with a reason.
#[component]
pub fn StatusAction(
    action: ServerAction<SetAgentStatus>,
    id: String,
    agent: String,
    status: String,
) -> impl IntoView {
    let (to, label, placeholder) = match status.as_str() {
        "active" => ("suspended", "Suspend", "why suspend it"),
        "suspended" | "throttled" => ("active", "Reactivate", "why it may act again"),
        _ => return ().into_any(),
    };
    view! {
        <RowAction action hidden=vec![("agent_id", id), ("to", to.to_string())] label block=true>
            <ReasonInput placeholder label=format!("Reason to {} {agent}", label.to_lowercase()) />
        </RowAction>
    }
    .into_any()
}

/// Where this page stands in the fleet, and links to the pages before and after it.
fn pager(total: usize, page: usize, per_page: usize, list: &Listed) -> impl IntoView + use<> {
    let first = page * per_page;
    let last = (first + per_page).min(total);
    let (key, order) = (&list.sorted.key, &list.sorted.order);
    let prev = (page > 0).then(|| list.link(key, order, page - 1));
    let next = (last < total).then(|| list.link(key, order, page + 1));
    view! {
        <p class="pager muted small" data-testid="pager">
            {if total == 0 {
                "No agents match.".to_string()
            } else {
                format!("Agents {}–{} of {}", count(first + 1), count(last), count(total))
            }}
            <PrevNext prev next />
        </p>
    }
}

/// The fleet table's columns; the sortable ones name their key and first order.
const COLUMNS: &[Column] = &[
    ("Agent", Some(("name", "asc"))),
    ("Owner", Some(("owner", "asc"))),
    ("Labels", None),
    ("Status", Some(("status", "asc"))),
    ("Manifest", Some(("manifest_version", "desc"))),
    ("Open drift", Some(("open_drift", "desc"))),
    ("Rate", None),
    ("Keys", Some(("active_keys", "desc"))),
    ("Last call", None),
    ("Calls, 24 h", None),
    ("Max risk, 24 h", None),
    ("Created", Some(("created", "desc"))),
];

/// What the list shows: its filter, grouping and order, which its links keep.
struct Listed {
    selector: String,
    group_by: String,
    sorted: crate::types::Sorted,
}

impl Listed {
    /// This list sorted by `key` in `order`, at `page`.
    fn link(&self, key: &str, order: &str, page: usize) -> String {
        format!(
            "/agents?selector={}&group_by={}&sort={}&order={}&page={page}",
            query_value(&self.selector),
            query_value(&self.group_by),
            query_value(key),
            query_value(order),
        )
    }
}
