//! The audit trail as a search (text, filters, facets, keyset pages, export), and each
//! record on its own page with its place in the chain; each row also opens to its fields.
//! A call's result shows its response's hash, size and projection; admins and auditors
//! open the body itself on its own page, which says whether it matches the chain.

use leptos::prelude::*;

use crate::components::badges::{RiskBadge, VerdictBadge};
use crate::components::page::{Page, query_param};
use crate::components::table::{Loaded, headers, rows_table};
use crate::components::when::When;
use leptos_router::hooks::use_location;

use crate::fmt::{count, query_pairs, query_string};
use crate::server_fns::audit::{fetch_audit_record, fetch_response, search_audit};
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
                        <td class="num">
                            <a href=format!("/audit/record?id={}", r.id) class="record-link">
                                {count(r.seq)}
                            </a>
                        </td>
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
                                                .then(|| view! { <ShowResponse id=r.id.clone() /> })}
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

/// The search's parameters as the filter bar lays them out (the API's names).
const TEXT_FILTERS: &[(&str, &str, &str)] = &[
    ("agent", "Agent", "triage-agent"),
    ("actor", "Actor", "alice@corp.example, system"),
    ("connector", "Connector", "crowdstrike"),
    ("operation", "Operation", "hosts:write"),
    ("kind", "Kind", "approval.*"),
    ("approval", "Approval id", ""),
    ("selector", "Agent labels", "env=prod, team in (ir)"),
    ("risk_min", "Risk from", "0"),
    ("risk_max", "to", "100"),
    ("from", "From", "2026-07-01"),
    ("to", "To", "2026-09-30"),
];

/// Kinds and families offered while typing a kind.
const KINDS: &[&str] = &[
    "execute.intercept",
    "execute.result",
    "execute.rejected",
    "execute.*",
    "approval.*",
    "grant.*",
    "policy.*",
    "agent.*",
    "manifest.*",
    "user.*",
    "sso.*",
    "settings.*",
];

/// `/audit?…` with `key` set to `value` (removed when `value` is empty) and the page
/// back to the first.
fn with_filter(pairs: &[(String, String)], key: &str, value: &str) -> String {
    let kept = pairs
        .iter()
        .filter(|(k, _)| k != key && k != "cursor" && k != "before")
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .chain([(key, value)]);
    format!("/audit?{}", query_string(kept))
}

/// The link to a result's response body (for those who may read bodies).
#[component]
fn ShowResponse(id: String) -> impl IntoView {
    view! {
        <p>
            <a href=format!("/audit/response?id={id}") class="show-response">
                "Show the response"
            </a>
        </p>
    }
}

/// The audit trail as a search: a filter bar whose state is the URL (so a link shares
/// a search, the back button goes back, and a plain GET form works without JavaScript),
/// counts per verdict and per connector, the matching records, keyset pages and the
/// export of the whole result.
#[component]
pub fn AuditTrailPage() -> impl IntoView {
    let search = use_location().search;
    let page = Resource::new(
        move || search.get(),
        |q| search_audit(q.trim_start_matches('?').to_string()),
    );
    let q = query_param("q");
    let verdict = query_param("verdict");
    let order = query_param("order");
    let fields = TEXT_FILTERS
        .iter()
        .map(|&(name, label, hint)| {
            let value = move || {
                query_pairs(&search.read())
                    .into_iter()
                    .rev()
                    .find(|(k, _)| k == name)
                    .map(|(_, v)| v)
                    .unwrap_or_default()
            };
            let list = (name == "kind").then_some("kinds");
            view! {
                <label class=format!(
                    "filter-{name}",
                )>{label} <input name=name value=value placeholder=hint list=list /></label>
            }
        })
        .collect_view();
    let choice = move |current: &str, v: &'static str, text: &'static str| {
        view! {
            <option value=v selected=current == v>
                {text}
            </option>
        }
    };
    view! {
        <Page
            title="Audit trail"
            intro=view! {
                "Every record is hash-chained to the one before it, and the chain's tip is signed and written to "
                <a href="/audit/witness">"witnesses"</a>
                " and sent to your SIEM by "
                <a href="/audit/streams">"streams"</a>
                "; "
                <code>"arx audit verify"</code>
                " checks both. Search by text and filters; the URL is the search, so it can be shared."
            }
        >
            <form method="get" action="/audit" class="filters audit-search" role="search">
                <label class="wide-filter">
                    "Text"
                    <input
                        type="search"
                        name="q"
                        value=q
                        placeholder="ws-042   \"per IR-5521\"   beaconing"
                    />
                </label>
                <label>
                    "Verdict"
                    <select name="verdict">
                        {move || {
                            let v = verdict().to_uppercase();
                            view! {
                                {choice(&v, "", "Any")}
                                {choice(&v, "PERMIT", "PERMIT")}
                                {choice(&v, "ESCALATE", "ESCALATE")}
                                {choice(&v, "DENY", "DENY")}
                            }
                        }}
                    </select>
                </label>
                {fields}
                <datalist id="kinds">
                    {KINDS.iter().map(|k| view! { <option value=*k></option> }).collect_view()}
                </datalist>
                <label>
                    "Order"
                    <select name="order">
                        {move || {
                            let o = order();
                            view! {
                                {choice(&o, "", "Newest first")}
                                {choice(&o, "oldest", "Oldest first")}
                            }
                        }}
                    </select>
                </label>
                <button type="submit" class="btn primary">
                    "Search"
                </button>
                <a href="/audit" class="btn">
                    "Clear"
                </a>
            </form>
            <Loaded data=page let:p>
                {
                    let pairs = query_pairs(&search.get_untracked());
                    let shown: Vec<(&str, &str)> = pairs
                        .iter()
                        .filter(|(k, _)| k != "cursor" && k != "before" && k != "limit")
                        .map(|(k, v)| (k.as_str(), v.as_str()))
                        .collect();
                    let exported = query_string(shown);
                    let first = pairs.iter().any(|(k, _)| k == "cursor" || k == "before");
                    let next = p.next_cursor.clone().map(|c| with_cursor(&pairs, &c));
                    view! {
                        <div class="audit-facets">
                            <Facets
                                title="Verdict"
                                key="verdict"
                                facets=p.verdicts.clone()
                                pairs=pairs.clone()
                            />
                            <Facets
                                title="Connector"
                                key="connector"
                                facets=p.connectors.clone()
                                pairs=pairs.clone()
                            />
                        </div>
                        <div class="audit-actions">
                            <p class="muted">
                                {format!("{} records in this org's chain.", count(p.total))}
                                {p
                                    .facets_limited
                                    .map(|n| {
                                        format!(
                                            " The counts are of the newest {} records this search keeps.",
                                            count(n),
                                        )
                                    })}
                            </p>
                            <a
                                class="btn small"
                                href=format!("/audit/export.ndjson?{exported}")
                                download="audit.ndjson"
                                data-testid="export-ndjson"
                            >
                                "Export NDJSON"
                            </a>
                            <a
                                class="btn small"
                                href=format!("/audit/export.csv?{exported}")
                                download="audit.csv"
                                data-testid="export-csv"
                            >
                                "Export CSV"
                            </a>
                        </div>
                        <div class="card flush">
                            <AuditTable rows=p.rows responses=p.can_read_responses />
                        </div>
                        <nav class="pager">
                            {first
                                .then(|| {
                                    view! {
                                        <a href=with_filter(
                                            &pairs,
                                            "cursor",
                                            "",
                                        )>"← First page"</a>
                                    }
                                })}
                            {next
                                .map(|href| {
                                    view! {
                                        <a href=href rel="next">
                                            "Next page →"
                                        </a>
                                    }
                                })}
                        </nav>
                    }
                }
            </Loaded>
        </Page>
    }
}

/// `/audit?…` of the same search from `cursor` on.
fn with_cursor(pairs: &[(String, String)], cursor: &str) -> String {
    with_filter(pairs, "cursor", cursor)
}

/// Counts per value of `key` under the current search, as bars; each value narrows the
/// search to it, and the value in force widens it again.
#[component]
fn Facets(
    title: &'static str,
    key: &'static str,
    facets: Vec<(String, i64)>,
    pairs: Vec<(String, String)>,
) -> impl IntoView {
    let current = pairs
        .iter()
        .rev()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.to_uppercase());
    let most = facets.iter().map(|(_, n)| *n).max().unwrap_or(0).max(1);
    view! {
        <section class="facet" data-facet=key>
            <h3>{title}</h3>
            {if facets.is_empty() {
                view! { <p class="muted small">"None in this search."</p> }.into_any()
            } else {
                view! {
                    <ul>
                        {facets
                            .into_iter()
                            .map(|(value, n)| {
                                let active = current.as_deref() == Some(&value.to_uppercase());
                                let href = with_filter(
                                    &pairs,
                                    key,
                                    if active { "" } else { &value },
                                );
                                let width = format!("width: {}%", (n * 100 / most).max(1));
                                let class = format!("facet-bar {}", value.to_lowercase());
                                view! {
                                    <li class:active=active data-value=value.clone()>
                                        <a href=href>
                                            <span class="facet-name">{value.clone()}</span>
                                            <span class="facet-count">{count(n)}</span>
                                            <span class=class style=width></span>
                                        </a>
                                        {active
                                            .then(|| {
                                                view! {
                                                    <span class="muted small">
                                                        " (in force: click to remove)"
                                                    </span>
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
        </section>
    }
}

/// One record (`/audit/record?id=…`): what it says, typed; its place in the chain; and
/// what it links to (the call's intercept and results, the approval, the agent).
#[component]
pub fn AuditRecordPage() -> impl IntoView {
    let id = query_param("id");
    let record = Resource::new(id, fetch_audit_record);
    view! {
        <Page title="Audit record" intro=view! { <a href="/audit">"← Audit trail"</a> }>
            <Loaded data=record let:v>
                {
                    let r = v.row.clone();
                    let link = |href: String, text: String| view! { <a href=href>{text}</a> };
                    view! {
                        <div class="card" data-kind=r.kind.clone() data-seq=r.seq>
                            <h2>{format!("#{} · {}", count(r.seq), r.kind)}</h2>
                            <dl class="facts">
                                <dt>"Time (UTC)"</dt>
                                <dd>
                                    <When utc=r.ts.clone() />
                                </dd>
                                <dt>"Actor"</dt>
                                <dd>
                                    {format!("{} ({})", r.actor, v.actor_kind)}
                                    {v
                                        .actor_id
                                        .clone()
                                        .map(|i| {
                                            view! { <span class="mono small muted">" " {i}</span> }
                                        })}
                                </dd>
                                {v
                                    .agent_id
                                    .clone()
                                    .map(|a| {
                                        view! {
                                            <dt>"Agent"</dt>
                                            <dd>
                                                {link(
                                                    format!("/agents/view?id={a}"),
                                                    r.agent.clone().unwrap_or(a),
                                                )}
                                            </dd>
                                        }
                                    })}
                                {r
                                    .connector
                                    .clone()
                                    .map(|c| {
                                        view! {
                                            <dt>"Call"</dt>
                                            <dd class="mono">
                                                {format!("{c} {}", r.operation.clone().unwrap_or_default())}
                                            </dd>
                                        }
                                    })}
                                {r
                                    .verdict
                                    .clone()
                                    .map(|vd| {
                                        view! {
                                            <dt>"Verdict"</dt>
                                            <dd>
                                                <VerdictBadge verdict=vd />
                                                {r
                                                    .risk
                                                    .map(|s| {
                                                        view! {
                                                            " "
                                                            <RiskBadge score=s />
                                                        }
                                                    })}
                                            </dd>
                                        }
                                    })}
                                {v
                                    .intercept
                                    .clone()
                                    .map(|i| {
                                        view! {
                                            <dt>"The call"</dt>
                                            <dd>
                                                {link(
                                                    format!("/audit/record?id={i}"),
                                                    "its intercept record →".into(),
                                                )}
                                            </dd>
                                        }
                                    })}
                                {(!v.results.is_empty())
                                    .then(|| {
                                        view! {
                                            <dt>"How it ended"</dt>
                                            <dd>
                                                {v
                                                    .results
                                                    .iter()
                                                    .map(|res| {
                                                        view! {
                                                            {link(
                                                                format!("/audit/record?id={res}"),
                                                                "result record →".into(),
                                                            )}
                                                            " "
                                                        }
                                                    })
                                                    .collect_view()}
                                            </dd>
                                        }
                                    })}
                                {(r.kind == "execute.intercept"
                                    && r.verdict.as_deref() == Some("PERMIT")
                                    && v.results.is_empty())
                                    .then(|| {
                                        view! {
                                            <dt>"How it ended"</dt>
                                            <dd class="warn" data-interrupted="true">
                                                "No result record: the call was sent to the target, then ARX stopped or lost its database before recording how it ended (or it is still running). It may have taken effect: check the target."
                                            </dd>
                                        }
                                    })}
                                {v
                                    .approval
                                    .clone()
                                    .map(|a| {
                                        view! {
                                            <dt>"Approval"</dt>
                                            <dd>
                                                {link(
                                                    format!("/approvals/view?id={a}"),
                                                    "the request →".into(),
                                                )} " · "
                                                {link(
                                                    format!("/audit?approval={a}&order=oldest"),
                                                    "every record of it →".into(),
                                                )}
                                            </dd>
                                        }
                                    })}
                            </dl>
                            <h3>"Chain position"</h3>
                            <dl class="facts chain">
                                <dt>"Seq"</dt>
                                <dd class="mono">{r.seq}</dd>
                                <dt>"Previous hash"</dt>
                                <dd class="mono hash-full">{r.prev_hash.clone()}</dd>
                                <dt>"Hash"</dt>
                                <dd class="mono hash-full">{r.hash.clone()}</dd>
                                <dt>"Record id"</dt>
                                <dd class="mono">{r.id.clone()}</dd>
                            </dl>
                            <h3>"What it says"</h3>
                            <pre class="fields whole">{r.details.clone()}</pre>
                            {r
                                .response_sha256
                                .clone()
                                .filter(|_| v.can_read_responses)
                                .map(|_| view! { <ShowResponse id=r.id.clone() /> })}
                        </div>
                    }
                }
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
