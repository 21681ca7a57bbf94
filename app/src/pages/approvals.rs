//! The approval queue and history, filtered and sorted (a plain GET form, so it works
//! without JavaScript), refreshed every two seconds when JavaScript is on; and one
//! request with everything a reviewer needs, approved or denied with a comment.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::components::badges::{Labels, RiskBadge, StatusBadge, TierBadge, VerdictBadge};
use crate::components::form::{Refilled, TextField};
use crate::components::live::ticker;
use crate::components::messages::{ErrorBox, Posted, ShownFlash, posted};
use crate::components::page::{Page, Tabs, query_param};
use crate::components::table::{Loaded, Loading, headers, loaded_list, rows_table};
use crate::components::when::When;
use crate::server_fns::approvals::{DECIDE_FORM, DecideApproval, approval_queue, load_approval};
use crate::types::{ApprovalRow, ApprovalView};

/// "in 3 min", "in 42 s", "due".
pub fn remaining(secs: i64) -> String {
    match secs {
        s if s <= 0 => "due".into(),
        s if s < 120 => format!("in {s} s"),
        s if s < 7200 => format!("in {} min", s / 60),
        s => format!("in {} h {} min", s / 3600, (s % 3600) / 60),
    }
}

/// Requests as rows; each opens the request page.
#[component]
pub fn ApprovalTable(rows: Vec<ApprovalRow>, history: bool) -> impl IntoView {
    view! {
        {rows_table(
            "table approvals",
            Some("approval-queue"),
            view! {
                {headers(&["Requested", "Agent", "Call", "Risk", "Rule"])}
                <th>{if history { "Outcome" } else { "Expires" }}</th>
                <th></th>
            },
            rows,
            move |a| {
                let href = format!("/approvals/view?id={}", a.id);
                let urgent = !history && a.remaining_secs < 300;
                view! {
                    <tr data-approval=a.id.clone()>
                        <td class="nowrap">
                            <When utc=a.created.clone() />
                        </td>
                        <td>{a.agent.clone()}</td>
                        <td class="mono">{format!("{}.{}", a.connector, a.operation)}</td>
                        <td>
                            <RiskBadge score=a.risk />
                        </td>
                        <td class="mono small">{a.rule.clone()}</td>
                        <td class=if urgent {
                            "nowrap urgent"
                        } else {
                            "nowrap"
                        }>
                            {if history {
                                view! {
                                    <StatusBadge status=a.status.clone() />
                                    " "
                                    <span class="muted small">{a.decided_by.clone()}</span>
                                }
                                    .into_any()
                            } else {
                                view! {
                                    <span class="countdown" data-testid="countdown">
                                        {remaining(a.remaining_secs)}
                                    </span>
                                }
                                    .into_any()
                            }}
                        </td>
                        <td>
                            <a class="btn small" href=href>
                                {if history { "View" } else { "Review" }}
                            </a>
                        </td>
                    </tr>
                }
            },
        )}
    }
}

#[component]
pub fn ApprovalsPage() -> impl IntoView {
    let query = use_query_map();
    let q = move |k: &str| query.read().get(k).unwrap_or_default();
    let tick = ticker(2000);
    let data = Resource::new(
        move || {
            (
                q("view"),
                q("connector"),
                q("min_risk"),
                q("sort"),
                tick.get(),
            )
        },
        |(view, connector, min_risk, sort, _)| approval_queue(view, connector, min_risk, sort),
    );
    let history = move || q("view") == "history";
    view! {
        <Page
            title="Approvals"
            intro="Escalated agent calls wait here for a human. A request nobody decides before it expires is refused: silence is not consent."
        >
            <Tabs
                label="Approvals"
                tabs=&[("/approvals", "Pending"), ("/approvals?view=history", "History")]
                current=Signal::derive(move || {
                    if history() { "/approvals?view=history" } else { "/approvals" }
                })
            />
            <form method="get" action="/approvals" class="filters">
                <input type="hidden" name="view" value=q("view") />
                <label>
                    "Connector"<input name="connector" value=q("connector") placeholder="any" />
                </label>
                <label>
                    "Risk at least"
                    <input
                        name="min_risk"
                        type="number"
                        min="0"
                        max="100"
                        value=q("min_risk")
                        class="short"
                    />
                </label>
                <label>
                    "Sort by"
                    <select name="sort">
                        {[
                            ("expiry", "expiring first"),
                            ("risk", "highest risk"),
                            ("newest", "newest"),
                        ]
                            .into_iter()
                            .map(|(v, l)| {
                                view! {
                                    <option value=v selected=q("sort") == v>
                                        {l}
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
                    loaded_list(
                        data.await,
                        view! {
                            <p class="muted" data-testid="approval-queue">
                                "Nothing here."
                            </p>
                        },
                        move |rows| {
                            view! {
                                <div class="card flush">
                                    <ApprovalTable rows history=history() />
                                </div>
                            }
                        },
                    )
                })}
            </Transition>
        </Page>
    }
}

#[component]
pub fn ApprovalPage() -> impl IntoView {
    let id = query_param("id");
    let decide = ServerAction::<DecideApproval>::new();
    // Not refreshed on a timer: that would wipe a comment being typed.
    let data = Resource::new(
        move || (id(), decide.version().get()),
        |(id, _)| load_approval(id),
    );
    let flash = posted(Signal::derive(move || decide.version().get()));
    view! {
        <Page title="Approval request" intro=view! { <a href="/approvals">"← the queue"</a> }>
            <ShownFlash flash />
            <Loaded data=data let:v>
                <Request v decide flash />
            </Loaded>
        </Page>
    }
}

#[component]
fn Request(v: ApprovalView, decide: ServerAction<DecideApproval>, flash: Posted) -> impl IntoView {
    let (score, op, conn, freq, target) = v.risk_inputs;
    let r = v.row.clone();
    let manifest = v.kind == "manifest";
    view! {
        <div class="request-grid" data-testid="approval" data-status=r.status.clone()>
            <div class="card">
                <div class="request-head">
                    <h2 class="mono">{format!("{}.{}", r.connector, r.operation)}</h2>
                    <StatusBadge status=r.status.clone() />
                </div>
                <p>{v.description.clone()}</p>
                <dl class="facts">
                    <dt>"Agent"</dt>
                    <dd>{r.agent.clone()}" " <Labels labels=v.labels.clone() /></dd>
                    <dt>"Owner"</dt>
                    <dd>{v.owner.clone()}</dd>
                    {(!manifest)
                        .then(|| {
                            view! {
                                <dt>"Target"</dt>
                                <dd>
                                    {format!("{} instance '{}'", r.connector, v.instance)}" "
                                    <span class=format!(
                                        "badge env-{}",
                                        v.environment,
                                    )>{v.environment.clone()}</span>
                                </dd>
                                <dt>"Tier"</dt>
                                <dd>
                                    <TierBadge tier=v.tier.clone() />
                                </dd>
                            }
                        })}
                    <dt>"Decided by policy"</dt>
                    <dd>
                        <VerdictBadge verdict="ESCALATE".to_string() />
                        " "
                        <span class="mono small">{r.rule.clone()}</span>
                        <span class="muted small">
                            {format!(" · policy v{} · {}", v.policy_version, v.reason)}
                        </span>
                    </dd>
                    <dt>"Who may approve"</dt>
                    <dd>{v.requirements.clone()}</dd>
                    <dt>"Expires"</dt>
                    <dd>
                        <When utc=v.expires.clone() />
                        " "
                        {(r.status == "pending")
                            .then(|| {
                                view! {
                                    <span class="countdown">
                                        {format!("({})", remaining(r.remaining_secs))}
                                    </span>
                                }
                            })}
                    </dd>
                </dl>
            </div>
            <div class="card">
                <h2>"Risk"</h2>
                <p>
                    <RiskBadge score=score />
                </p>
                {v
                    .scope
                    .is_empty()
                    .then(|| {
                        view! {
                            <table class="table risk-inputs">
                                <tbody>
                                    {[
                                        ("Operation (tier)", op, 40),
                                        ("Connector sensitivity", conn, 25),
                                        ("Session frequency", freq, 15),
                                        ("Target environment", target, 20),
                                    ]
                                        .map(|(input, score, most)| {
                                            view! {
                                                <tr>
                                                    <td>{input}</td>
                                                    <td class="num">{score}{format!(" / {most}")}</td>
                                                </tr>
                                            }
                                        })
                                        .collect_view()}
                                </tbody>
                            </table>
                        }
                    })}
                {(!v.scope.is_empty())
                    .then(|| {
                        view! {
                            <p class="muted small">
                                {if manifest {
                                    "The highest score a call the manifest newly allows could have, at no excess rate."
                                } else {
                                    "The highest score a covered call would have on this instance; each operation's is in the scope."
                                }}
                            </p>
                        }
                    })}
            </div>
        </div>
        {(!v.scope.is_empty())
            .then(|| {
                view! {
                    <div
                        class="card"
                        data-testid=if manifest { "manifest-scope" } else { "grant-scope" }
                    >
                        <h2>
                            {if manifest {
                                "Manifest changes asked for"
                            } else {
                                "Scope asked for"
                            }}
                        </h2>
                        <p class="muted small">
                            {if manifest {
                                "Approving makes this manifest the agent's next version: the manifest gate then lets these calls through, and policy still decides each one. The whole manifest is in the params below."
                            } else {
                                "Approving lets the agent make these calls without asking again, until the grant ends."
                            }}
                        </p>
                        <ul class="scope">
                            {v
                                .scope
                                .iter()
                                .map(|l| view! { <li class="mono">{l.clone()}</li> })
                                .collect_view()}
                        </ul>
                    </div>
                }
            })}
        <div class="card">
            <h2>"The agent's reasoning"</h2>
            <p class="muted small">"Written by the agent; ARX does not check it."</p>
            {match v.reasoning.clone() {
                Some(text) => view! { <blockquote class="reasoning">{text}</blockquote> }.into_any(),
                None => view! { <p class="muted">"The agent gave no reasoning."</p> }.into_any(),
            }}
            <details>
                <summary>"Full session context"</summary>
                <pre class="fields">{v.session_context.clone()}</pre>
            </details>
        </div>
        {v
            .diff
            .clone()
            .map(|d| {
                view! {
                    <div class="card" data-testid="state-diff">
                        <h2>"What changes on the target"</h2>
                        <p class="muted small">
                            {format!("Current state read just now with {}.", d.source)}
                        </p>
                        {d.error.clone().map(|e| view! { <ErrorBox message=e /> })}
                        {d
                            .note
                            .clone()
                            .map(|n| {
                                let class = if n.contains("change nothing") {
                                    "note strong"
                                } else {
                                    "note"
                                };
                                view! {
                                    <p data-testid="diff-note" class=class>
                                        {n}
                                        {d
                                            .earlier
                                            .clone()
                                            .map(|id| {
                                                view! {
                                                    " "
                                                    <a href=format!(
                                                        "/approvals/view?id={id}",
                                                    )>"See the earlier request."</a>
                                                }
                                            })}
                                    </p>
                                }
                            })}
                        <table class="table diff-table">
                            <thead>
                                <tr>{headers(&["Field", "Now", "After the call"])}</tr>
                            </thead>
                            <tbody>
                                {d
                                    .rows
                                    .into_iter()
                                    .map(|(field, now, after, changed)| {
                                        view! {
                                            <tr class=if changed { "changed" } else { "" }>
                                                <td class="mono">{field}</td>
                                                <td class="mono">{now}</td>
                                                <td class="mono">{after}</td>
                                            </tr>
                                        }
                                    })
                                    .collect_view()}
                            </tbody>
                        </table>
                    </div>
                }
            })}
        <div class="card">
            <h2>"Parameters, exactly as they will run"</h2>
            <pre class="fields" data-testid="params">
                {v.params.clone()}
            </pre>
        </div>
        {(!v.votes.is_empty())
            .then(|| {
                view! {
                    <div class="card">
                        <h2>"Approvals so far"</h2>
                        <ul>
                            {v
                                .votes
                                .iter()
                                .map(|(who, c)| {
                                    view! {
                                        <li>
                                            {who.clone()}{(!c.is_empty()).then(|| format!(": {c}"))}
                                        </li>
                                    }
                                })
                                .collect_view()}
                        </ul>
                    </div>
                }
            })}
        <div class="card" data-testid="summary">
            <h2>
                {if r.status == "pending" {
                    "Status".to_string()
                } else {
                    format!("Outcome ({})", r.status)
                }}
            </h2>
            <p data-testid="outcome-words">{v.summary.clone()}</p>
            {v
                .outcome
                .clone()
                .map(|o| {
                    view! {
                        <details>
                            <summary>"How it ended, as ARX stored it"</summary>
                            <pre class="fields" data-testid="outcome">
                                {o}
                            </pre>
                        </details>
                    }
                })}
        </div>
        {v
            .can_decide
            .then(|| {
                view! {
                    <div class="card decide">
                        <h2>"Decide"</h2>
                        <ActionForm action=decide>
                            <input type="hidden" name="id" value=r.id.clone() />
                            <Refilled flash form=DECIDE_FORM>
                                <TextField
                                    label=if v.require_reason {
                                        "Reason (the rule asks for one; recorded in the audit trail)"
                                    } else {
                                        "Comment (recorded in the audit trail)"
                                    }
                                    name="comment"
                                    rows=2
                                    value=""
                                    placeholder="Why you approve or deny"
                                    required=v.require_reason
                                />
                            </Refilled>
                            <p class="actions">
                                <button
                                    type="submit"
                                    class="btn primary"
                                    name="decision"
                                    value="approve"
                                >
                                    {if manifest {
                                        "Approve and publish"
                                    } else {
                                        "Approve and run"
                                    }}
                                </button>
                                <button
                                    type="submit"
                                    class="btn danger"
                                    name="decision"
                                    value="deny"
                                >
                                    "Deny"
                                </button>
                            </p>
                        </ActionForm>
                    </div>
                }
            })}
    }
}
