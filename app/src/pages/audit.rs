//! The audit trail, newest first, fifty records a page; each row opens to its fields.
//! A call's result shows its response's hash, size and projection; admins and auditors
//! open the body itself on its own page, which says whether it matches the chain.

use leptos::prelude::*;

use crate::components::badges::{RiskBadge, VerdictBadge};
use crate::components::page::{Page, query_param};
use crate::components::table::{Loaded, headers, rows_table};
use crate::components::when::When;
use crate::fmt::count;
use crate::server_fns::audit::{fetch_audit_page, fetch_response};
use crate::types::AuditRow;

/// `responses`: the viewer may open response bodies (a link on each call's result).
#[component]
pub fn AuditTable(rows: Vec<AuditRow>, #[prop(optional)] responses: bool) -> impl IntoView {
    if rows.is_empty() {
        return view! { <p class="muted">"No records yet."</p> }.into_any();
    }
    view! {
        {rows_table(
            "table audit",
            None,
            view! {
                {headers(
                    &[
                        "Seq",
                        "Time",
                        "Event",
                        "Agent / actor",
                        "Connector",
                        "Operation",
                        "Verdict",
                        "Risk",
                        "Hash",
                    ],
                )}
            },
            rows,
            move |r| {
                view! {
                    <tr data-kind=r.kind.clone() id=format!("seq-{}", r.seq)>
                        <td class="num">{count(r.seq)}</td>
                        <td class="nowrap">
                            <When utc=r.ts.clone() />
                        </td>
                        <td>
                            <details>
                                <summary>{r.kind.clone()}</summary>
                                <pre class="fields">{r.details.clone()}</pre>
                                <p class="mono small">"prev " {r.prev_hash.clone()}</p>
                                {r
                                    .response_sha256
                                    .clone()
                                    .map(|h| {
                                        view! {
                                            <p class="mono small">"response sha256 " {h}</p>
                                            {responses
                                                .then(|| {
                                                    view! {
                                                        <p>
                                                            <a
                                                                href=format!("/audit/response?id={}", r.id)
                                                                class="show-response"
                                                            >
                                                                "Show the response"
                                                            </a>
                                                        </p>
                                                    }
                                                })}
                                        }
                                    })}
                            </details>
                        </td>
                        <td>{r.agent.clone().unwrap_or(r.actor.clone())}</td>
                        <td>{r.connector.clone().unwrap_or_default()}</td>
                        <td class="mono">{r.operation.clone().unwrap_or_default()}</td>
                        <td>{r.verdict.clone().map(|v| view! { <VerdictBadge verdict=v /> })}</td>
                        <td>{r.risk.map(|s| view! { <RiskBadge score=s /> })}</td>
                        <td class="mono hash" title=r.hash.clone()>
                            {r.hash.chars().take(12).collect::<String>()}
                            "…"
                        </td>
                    </tr>
                }
            },
        )}
    }
    .into_any()
}

#[component]
pub fn AuditTrailPage() -> impl IntoView {
    let before = query_param("before");
    let before = move || before().parse::<i64>().ok();
    let page = Resource::new(before, fetch_audit_page);
    view! {
        <Page
            title="Audit trail"
            intro=view! {
                "Every record is hash-chained to the one before it; "
                <code>"arx audit verify"</code>
                " checks the chain."
            }
        >
            <Loaded data=page let:p>
                <p class="muted">{format!("{} records in this org's chain.", count(p.total))}</p>
                <div class="card flush">
                    <AuditTable rows=p.rows responses=p.can_read_responses />
                </div>
                <nav class="pager">
                    {before().map(|_| view! { <a href="/audit">"← Newest"</a> })}
                    {p
                        .older
                        .map(|o| {
                            view! {
                                <a href=format!("/audit?before={o}") rel="next">
                                    "Older →"
                                </a>
                            }
                        })}
                </nav>
            </Loaded>
        </Page>
    }
}

/// One response body (`/audit/response?id=…`): admins and auditors only; the server
/// says why not to anyone else, and when a purged body went.
#[component]
pub fn ResponsePage() -> impl IntoView {
    let id = query_param("id");
    let body = Resource::new(id, fetch_response);
    view! {
        <Page
            title="Call response"
            intro=view! {
                "The vendor's answer, kept outside the chain; the chain holds its SHA-256. "
                <a href="/audit">"← Audit trail"</a>
            }
        >
            <Loaded data=body let:v>
                {if v.verified {
                    view! {
                        <div class="flash flash-ok" role="status" data-verified="true">
                            <p>"This body matches the hash in the audit chain."</p>
                        </div>
                    }
                        .into_any()
                } else {
                    view! {
                        <div class="flash flash-error" role="alert" data-verified="false">
                            <p>
                                "This body does NOT match the hash in the audit chain: it was changed after the call."
                            </p>
                        </div>
                    }
                        .into_any()
                }}
                <dl class="facts">
                    <dt>"Record"</dt>
                    <dd class="mono">{v.record_id}</dd>
                    <dt>"SHA-256 in the chain"</dt>
                    <dd class="mono">{v.sha256}</dd>
                    <dt>"Size"</dt>
                    <dd>{format!("{} bytes", v.bytes)}</dd>
                </dl>
                <div class="card">
                    <pre class="fields response-body">{v.body}</pre>
                </div>
            </Loaded>
        </Page>
    }
}
