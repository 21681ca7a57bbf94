//! One agent in the registry: what it is, its connector graph (drawn on the server), the
//! manifest in force and every version before it with what each changed, and its lineage.

use leptos::prelude::*;

use crate::components::badges::{Labels, OwnerInactive, StatusBadge};
use crate::components::form::{
    Field, FieldError, ReasonInput, Refill, Refilled, RowAction, SubmitRow, field_id,
};
use crate::components::me::{MeResource, OnlyFor, is_admin, signed_in};
use crate::components::messages::{ErrorBox, Posted, ShownFlash, error_text, posted};
use crate::components::page::{Page, PrevNext, query_param};
use crate::components::table::{Column, Loaded, headers, rows_table, sort_headers};
use crate::components::when::When;
use crate::fmt::query_value;
use crate::pages::agents::{IssueKeyAction, StatusAction};
use crate::pages::audit::AuditTable;
use crate::server_fns::agents::{
    DECOMMISSION_FORM, DecommissionAgent, EDIT_FORM, IssueKey, RevokeKey, RollbackManifest,
    SetAgentStatus, UpdateAgent, agent_detail, compare_manifests,
};
use crate::types::{AgentView, LineageRow};

#[component]
pub fn AgentPage() -> impl IntoView {
    let id = query_param("id");
    let versions_order = query_param("versions");
    let versions_page = query_param("vpage");
    let retire = ServerAction::<DecommissionAgent>::new();
    let rollback = ServerAction::<RollbackManifest>::new();
    let actions = Actions {
        status: ServerAction::new(),
        issue: ServerAction::new(),
        revoke: ServerAction::new(),
        edit: ServerAction::new(),
    };
    let version = Signal::derive(move || {
        retire.version().get()
            + rollback.version().get()
            + actions.status.version().get()
            + actions.issue.version().get()
            + actions.revoke.version().get()
            + actions.edit.version().get()
    });
    let data = Resource::new(
        move || (id(), versions_order(), versions_page(), version.get()),
        |(id, order, page, _)| agent_detail(id, order, page.parse().unwrap_or(0)),
    );
    let flash = posted(version);
    let me = signed_in();
    view! {
        <Page title="Agent" intro=view! { <a href="/agents">"← the agents"</a> }>
            <ShownFlash flash />
            <Loaded data let:a>
                <AgentCard a=a.clone() />
                {
                    let live = (a.status != "decommissioned").then(|| a.clone());
                    view! {
                        <OnlyFor me who=|m| m.is_admin>
                            {live.clone().map(|a| view! { <AgentActions a actions flash /> })}
                        </OnlyFor>
                    }
                }
                <Versions a=a.clone() rollback me />
                <Compare a=a.clone() />
                <Activity a=a.clone() />
                <OnlyFor me who=|m| m.is_admin>
                    {(a.status != "decommissioned")
                        .then(|| view! { <Decommission a=a.clone() action=retire flash /> })}
                </OnlyFor>
            </Loaded>
        </Page>
    }
}

/// The manifest versions, newest first (or oldest first), a page at a time, with what
/// each changed; admins roll back to one.
#[component]
fn Versions(
    a: AgentView,
    rollback: ServerAction<RollbackManifest>,
    me: MeResource,
) -> impl IntoView {
    let id = a.id.clone();
    let versions = a.versions.clone();
    view! {
        <Transition>
            {move || {
                let (id, versions, a) = (id.clone(), versions.clone(), a.clone());
                Suspend::new(async move {
                    let admin = is_admin(me).await;
                    let newest = a.in_force;
                    let link = {
                        let id = a.id.clone();
                        move |order: &str, page: usize| {
                            format!(
                                "/agents/view?id={}&versions={order}&vpage={page}",
                                query_value(&id),
                            )
                        }
                    };
                    let sorted = a.versions_sorted.clone();
                    let head = sort_headers(VERSION_COLUMNS, &sorted, &|_, o| link(o, 0));
                    let (page, per, total) = (
                        a.versions_page,
                        a.versions_per_page,
                        a.versions_total,
                    );
                    let prev = (page > 0).then(|| link(&sorted.order, page - 1));
                    let next = ((page + 1) * per < total).then(|| link(&sorted.order, page + 1));
                    let pager = (total > per)
                        .then(|| {
                            view! {
                                <p class="pager muted small pad" data-testid="versions-pager">
                                    {format!(
                                        "Versions {}–{} of {}",
                                        page * per + 1,
                                        ((page + 1) * per).min(total),
                                        total,
                                    )}
                                    <PrevNext prev next />
                                </p>
                            }
                        });
                    view! {
                        <div class="card flush">
                            <h2 class="pad">"Manifest versions"</h2>
                            {pager}
                            {rows_table(
                                "table",
                                Some("versions"),
                                view! {
                                    {head}
                                    {admin.then(|| view! { <th></th> })}
                                },
                                versions,
                                move |v| {
                                    let back = (admin && Some(v.version) != newest)
                                        .then(|| {
                                            view! {
                                                <td>
                                                    <RowAction
                                                        action=rollback
                                                        hidden=vec![
                                                            ("agent_id", id.clone()),
                                                            ("version", v.version.to_string()),
                                                        ]
                                                        label=format!("Roll back to v{}", v.version)
                                                        block=true
                                                    >
                                                        <ReasonInput
                                                            placeholder="why roll back"
                                                            label=format!("Reason to roll back to v{}", v.version)
                                                        />
                                                    </RowAction>
                                                </td>
                                            }
                                        });
                                    let empty = (admin && back.is_none())
                                        .then(|| view! { <td></td> });
                                    view! {
                                        <tr data-version=v.version>
                                            <td class="nowrap">
                                                {format!("v{}", v.version)}
                                                {v.generated.then_some(" (generated)")}
                                                {v.rollback_of.map(|r| format!(" (rollback to v{r})"))}
                                            </td>
                                            <td class="nowrap">
                                                <When utc=v.created.clone() />
                                            </td>
                                            <td>{v.by.clone()}</td>
                                            <td>{v.reason.clone()}</td>
                                            <td class="small">{v.changes.clone()}</td>
                                            <td class="mono small">{v.hash.clone()}</td>
                                            {back}
                                            {empty}
                                        </tr>
                                    }
                                },
                            )}
                        </div>
                    }
                })
            }}
        </Transition>
    }
}

/// The versions' columns: the version number sorts them.
const VERSION_COLUMNS: &[Column] = &[
    ("Version", Some(("version", "asc"))),
    ("Published", None),
    ("By", None),
    ("Why", None),
    ("What changed", None),
    ("SHA-256", None),
];

/// Compare any two versions (a plain GET form: `from` and `to` in the address).
#[component]
fn Compare(a: AgentView) -> impl IntoView {
    let from = query_param("from");
    let to = query_param("to");
    let id = a.id.clone();
    let diff = Resource::new(
        move || (id.clone(), from(), to()),
        |(id, from, to)| async move {
            match (from.parse::<i64>(), to.parse::<i64>()) {
                (Ok(f), Ok(t)) => compare_manifests(id, f, t).await.map(Some),
                _ => Ok(None),
            }
        },
    );
    if a.versions.len() < 2 {
        return ().into_any();
    }
    let options = move |selected: String| {
        a.versions
            .iter()
            .map(|v| {
                let n = v.version.to_string();
                let on = n == selected;
                view! {
                    <option value=n.clone() selected=on>
                        {format!("v{n}")}
                    </option>
                }
            })
            .collect_view()
    };
    view! {
        <div class="card">
            <h2>"Compare versions"</h2>
            <form method="get" action="/agents/view" class="filters">
                <input type="hidden" name="id" value=a.id.clone() />
                <label>"Compare version"<select name="from">{options(from())}</select></label>
                <label>"with version"<select name="to">{options(to())}</select></label>
                <button type="submit" class="btn">
                    "Show the changes"
                </button>
            </form>
            <Transition>
                {move || Suspend::new(async move {
                    match diff.await {
                        Ok(Some(lines)) => {
                            view! {
                                <pre class="fields" data-testid="manifest-diff">
                                    {lines.join("\n")}
                                </pre>
                            }
                                .into_any()
                        }
                        Ok(None) => ().into_any(),
                        Err(e) => view! { <ErrorBox message=error_text(&e) /> }.into_any(),
                    }
                })}
            </Transition>
        </div>
    }
    .into_any()
}

/// Decommissioning, with a confirmation that names what it revokes.
#[component]
fn Decommission(
    a: AgentView,
    action: ServerAction<DecommissionAgent>,
    flash: Posted,
) -> impl IntoView {
    let stake = format!(
        "I understand: this revokes {} key(s){}, ends {} grant(s), cancels {} pending approval(s), seals its record, and cannot be undone.",
        a.keys.len(),
        if a.keys.is_empty() {
            String::new()
        } else {
            format!(" ({})", a.keys.join(", "))
        },
        a.grants,
        a.pending_approvals,
    );
    view! {
        <div class="card" data-testid="decommission">
            <h2>"Decommission"</h2>
            <p class="muted small">
                "Retires the agent at once. Its records stay readable; it can never act again."
            </p>
            <ActionForm action attr:class="form-grid">
                <input type="hidden" name="agent_id" value=a.id.clone() />
                <Refilled flash form=DECOMMISSION_FORM>
                    <Field label="Why it is retired" name="reason" required=true wide=true />
                    <Field
                        label="Retention class"
                        name="retention_class"
                        required=true
                        value="standard".to_string()
                        placeholder="standard, legal_hold"
                    />
                    <Field
                        label="Replaced by"
                        name="replaced_by"
                        placeholder="the successor agent's name (empty: no one)"
                    />
                    <Confirm text=stake.clone() />
                </Refilled>
                <SubmitRow label="Decommission" />
            </ActionForm>
        </div>
    }
}

/// The box to tick before an action that cannot be undone, and why not, after a refusal.
#[component]
fn Confirm(text: String) -> impl IntoView {
    let error = Refill::here().error("confirm");
    let id = field_id("confirm");
    view! {
        <div class="field wide">
            <label class="check">
                <input
                    type="checkbox"
                    name="confirm"
                    aria-invalid=error.is_some().then_some("true")
                    aria-describedby=error.is_some().then_some(id.clone())
                />
                {text}
            </label>
            <FieldError error id />
        </div>
    }
}

/// What an admin does to a live agent from its page.
#[derive(Clone, Copy)]
struct Actions {
    status: ServerAction<SetAgentStatus>,
    issue: ServerAction<IssueKey>,
    revoke: ServerAction<RevokeKey>,
    edit: ServerAction<UpdateAgent>,
}

/// Suspend or reactivate with a reason, issue a key once confirmed, and change the owner,
/// description and labels.
#[component]
fn AgentActions(a: AgentView, actions: Actions, flash: Posted) -> impl IntoView {
    let live: Vec<_> = a
        .all_keys
        .iter()
        .filter(|k| k.revoked.is_none())
        .cloned()
        .collect();
    let agent_id = a.id.clone();
    let labels = a
        .labels
        .iter()
        .map(|(k, v)| format!("{k}:{v}"))
        .collect::<Vec<_>>()
        .join(", ");
    view! {
        <div class="card" data-testid="agent-actions">
            <h2>"Act on this agent"</h2>
            <div class="form-grid">
                <div>
                    <StatusAction
                        action=actions.status
                        id=a.id.clone()
                        agent=a.name.clone()
                        status=a.status.clone()
                    />
                </div>
                <div>
                    <IssueKeyAction action=actions.issue id=a.id.clone() />
                </div>
                {(!live.is_empty())
                    .then(|| {
                        view! {
                            <ActionForm action=actions.revoke attr:data-testid="revoke-key">
                                <input type="hidden" name="agent_id" value=agent_id />
                                <label>
                                    "Key to revoke"
                                    <select name="key_id">
                                        {live
                                            .into_iter()
                                            .map(|crate::types::KeyRow { id, prefix, created, .. }| {
                                                view! {
                                                    <option value=id>
                                                        {format!("{prefix}… (issued {created})")}
                                                    </option>
                                                }
                                            })
                                            .collect_view()}
                                    </select>
                                </label>
                                " "
                                <button type="submit" class="btn small danger">
                                    "Revoke key"
                                </button>
                            </ActionForm>
                        }
                    })}
            </div>
            <h3>"Owner, description and labels"</h3>
            <ActionForm action=actions.edit attr:class="form-grid" attr:data-testid="edit-agent">
                <input type="hidden" name="agent_id" value=a.id.clone() />
                <Refilled flash form=EDIT_FORM>
                    <Field
                        label="Owner email"
                        name="owner"
                        kind="email"
                        required=true
                        value=a.owner.clone()
                    />
                    <Field label="Labels" name="labels" value=labels.clone() wide=true />
                    <Field
                        label="Description"
                        name="description"
                        value=a.description.clone()
                        wide=true
                    />
                </Refilled>
                <SubmitRow label="Save" />
            </ActionForm>
        </div>
    }
}

#[component]
fn AgentCard(a: AgentView) -> impl IntoView {
    let graph = a.graph_svg.clone();
    view! {
        <div class="card" data-testid="agent" data-agent=a.name.clone()>
            <div class="request-head">
                <h2>{a.name.clone()}</h2>
                <StatusBadge status=a.status.clone() />
            </div>
            <p>{a.description.clone()}</p>
            <dl class="facts">
                <dt>"Owner"</dt>
                <dd>{a.owner.clone()} <OwnerInactive inactive=a.owner_inactive /></dd>
                <dt>"Labels"</dt>
                <dd>
                    <Labels labels=a.labels.clone() />
                </dd>
                <dt>"Last call"</dt>
                <dd data-testid="last-call">
                    {match a.last_call.clone() {
                        Some(when) => view! { <When utc=when /> }.into_any(),
                        None if a.never_used => {
                            view! { <span class="badge status-planned">"never used"</span> }
                                .into_any()
                        }
                        None => view! { <span class="muted">"no call"</span> }.into_any(),
                    }}
                </dd>
            </dl>
            {a.retired.clone().map(|r| view! { <Retired r /> })}
        </div>
        <div class="card flush">
            <h2 class="pad">"Keys"</h2>
            {rows_table(
                "table",
                Some("keys"),
                view! { {headers(&["Key", "Issued", "Last used (to the hour)", "State"])} },
                a.all_keys.clone(),
                |k| {
                    let crate::types::KeyRow {
                        prefix,
                        created,
                        revoked,
                        last_used,
                        unused_30d,
                        ..
                    } = k;
                    view! {
                        <tr>
                            <td class="mono">{format!("{prefix}…")}</td>
                            <td class="nowrap">
                                <When utc=created />
                            </td>
                            <td class="nowrap" data-testid="key-last-used">
                                {match last_used {
                                    Some(when) => view! { <When utc=when /> }.into_any(),
                                    None => view! { <span class="muted">"never"</span> }.into_any(),
                                }}
                                {unused_30d
                                    .then(|| {
                                        view! {
                                            " "
                                            <span class="badge sev-medium">"unused 30 days"</span>
                                        }
                                    })}
                            </td>
                            <td>
                                {match revoked {
                                    Some(when) => {
                                        view! {
                                            <span class="badge status-revoked">"revoked"</span>
                                            " "
                                            <When utc=when />
                                        }
                                            .into_any()
                                    }
                                    None => {
                                        view! { <span class="badge status-active">"active"</span> }
                                            .into_any()
                                    }
                                }}
                            </td>
                        </tr>
                    }
                },
            )}
        </div>
        <div class="card">
            <h2>"Connector graph"</h2>
            <p class="muted small">
                "What the manifest in force lets it call, and what it tried without declaring it. A lock marks what the policy in force escalates or denies for this agent."
            </p>
            <div class="graph-box" data-testid="graph" inner_html=graph></div>
        </div>
        <div class="card">
            <h2>"Manifest"</h2>
            {match a.manifest.clone() {
                Some(m) => {
                    view! {
                        <pre class="fields" data-testid="manifest">
                            {m}
                        </pre>
                    }
                        .into_any()
                }
                None => {
                    view! {
                        <p class="muted">
                            "No manifest yet: in an org that enforces, every call of this agent is denied until an admin publishes one."
                        </p>
                    }
                        .into_any()
                }
            }}
        </div>
        {(!a.predecessors.is_empty())
            .then(|| {
                view! {
                    <div class="card">
                        <h2>"Lineage"</h2>
                        <ol class="lineage" data-testid="lineage">
                            {a
                                .predecessors
                                .clone()
                                .into_iter()
                                .map(|r| {
                                    view! {
                                        <li>
                                            <strong>{r.agent.clone()}</strong>
                                            {format!(" retired: {} ({}) ", r.reason, r.retention_class)}
                                            <When utc=r.retired.clone() />
                                        </li>
                                    }
                                })
                                .collect_view()}
                        </ol>
                    </div>
                }
            })}
    }
}

/// What the agent did and holds: its newest drift alerts, its open grants, its newest
/// audit records.
#[component]
fn Activity(a: AgentView) -> impl IntoView {
    view! {
        <div class="card flush" data-testid="agent-drift">
            <h2 class="pad">"Drift alerts"</h2>
            {if a.drift.is_empty() {
                view! { <p class="muted pad">"None: every call matched the manifest in force."</p> }
                    .into_any()
            } else {
                rows_table(
                    "table",
                    None,
                    headers(&["Severity", "What", "Action", "Last seen", "Status"]),
                    a.drift.clone(),
                    |d| {
                        view! {
                            <tr data-severity=d.severity.clone()>
                                <td>
                                    <span class=format!(
                                        "badge sev-{}",
                                        d.severity,
                                    )>{d.severity.clone()}</span>
                                </td>
                                <td class="mono small">{d.message.clone()}</td>
                                <td>{d.action.replace('_', " ")}</td>
                                <td class="nowrap">
                                    {format!("{}× ", d.occurrences)} <When utc=d.last.clone() />
                                </td>
                                <td>
                                    <StatusBadge status=d.status.clone() />
                                </td>
                            </tr>
                        }
                    },
                )
            }}
            <p class="muted small pad">
                "The newest 20; the " <a href="/drift?status=all">"Drift page"</a> " has them all."
            </p>
        </div>
        <div class="card" data-testid="agent-grants">
            <h2>"Grants"</h2>
            {if a.open_grants.is_empty() {
                view! { <p class="muted">"No grant requested or active."</p> }.into_any()
            } else {
                view! {
                    <ul class="scope">
                        {a
                            .open_grants
                            .clone()
                            .into_iter()
                            .map(|(status, what, until)| {
                                view! {
                                    <li>
                                        <StatusBadge status=status />
                                        " "
                                        <span class="mono">{what}</span>
                                        {until
                                            .map(|u| {
                                                view! {
                                                    " until "
                                                    <When utc=u />
                                                }
                                            })}
                                    </li>
                                }
                            })
                            .collect_view()}
                    </ul>
                }
                    .into_any()
            }}
        </div>
        <div class="card flush" data-testid="agent-records">
            <h2 class="pad">"Recent audit records"</h2>
            <AuditTable rows=a.records.clone() />
        </div>
    }
}

#[component]
fn Retired(r: LineageRow) -> impl IntoView {
    view! {
        <p class="flash flash-error" data-testid="retired">
            {format!("Decommissioned: {} (records kept as {}) ", r.reason, r.retention_class)}
            <When utc=r.retired.clone() />
        </p>
    }
}
