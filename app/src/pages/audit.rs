//! The audit trail, newest first, fifty records a page; each row opens to its fields.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::components::badges::{RiskBadge, VerdictBadge};
use crate::components::messages::{ErrorBox, error_text};
use crate::server_fns::audit::fetch_audit_page;
use crate::types::AuditRow;

#[component]
pub fn AuditTable(rows: Vec<AuditRow>) -> impl IntoView {
    if rows.is_empty() {
        return view! { <p class="muted">"No records yet."</p> }.into_any();
    }
    view! {
        <table class="table audit">
            <thead><tr>
                <th>"Seq"</th><th>"Time (UTC)"</th><th>"Event"</th><th>"Agent / actor"</th>
                <th>"Connector"</th><th>"Operation"</th><th>"Verdict"</th><th>"Risk"</th><th>"Hash"</th>
            </tr></thead>
            <tbody>
                {rows.into_iter().map(|r| view! {
                    <tr data-kind=r.kind.clone() id=format!("seq-{}", r.seq)>
                        <td class="num">{r.seq}</td>
                        <td class="nowrap">{r.ts.clone()}</td>
                        <td><details><summary>{r.kind.clone()}</summary><pre class="fields">{r.details.clone()}</pre>
                            <p class="mono small">"prev " {r.prev_hash.clone()}</p></details></td>
                        <td>{r.agent.clone().unwrap_or(r.actor.clone())}</td>
                        <td>{r.connector.clone().unwrap_or_default()}</td>
                        <td class="mono">{r.operation.clone().unwrap_or_default()}</td>
                        <td>{r.verdict.clone().map(|v| view! { <VerdictBadge verdict=v/> })}</td>
                        <td>{r.risk.map(|s| view! { <RiskBadge score=s/> })}</td>
                        <td class="mono hash" title=r.hash.clone()>{r.hash.chars().take(12).collect::<String>()}"…"</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

#[component]
pub fn AuditTrailPage() -> impl IntoView {
    let q = use_query_map();
    let before = move || q.read().get("before").and_then(|b| b.parse::<i64>().ok());
    let page = Resource::new(before, fetch_audit_page);
    view! {
        <section class="page">
            <header class="page-head">
                <h1>"Audit trail"</h1>
                <p class="muted">"Every record is hash-chained to the one before it; "<code>"arx audit verify"</code>" checks the chain."</p>
            </header>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match page.await {
                        Err(e) => view! { <ErrorBox message=error_text(&e)/> }.into_any(),
                        Ok(p) => view! {
                            <p class="muted">{format!("{} records in this org's chain.", p.total)}</p>
                            <div class="card flush"><AuditTable rows=p.rows/></div>
                            <nav class="pager">
                                {before().map(|_| view! { <a href="/audit">"← Newest"</a> })}
                                {p.older.map(|o| view! { <a href=format!("/audit?before={o}") rel="next">"Older →"</a> })}
                            </nav>
                        }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}
