//! The approval queue. Listing works now; deciding arrives with the approvals capability.

use leptos::prelude::*;

use crate::components::badges::RiskBadge;
use crate::components::messages::{ErrorBox, error_text};
use crate::server_fns::console::pending_approvals;

#[component]
pub fn ApprovalsPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| pending_approvals());
    view! {
        <section class="page">
            <header class="page-head">
                <h1>"Approvals"</h1>
                <p class="muted">"Escalated agent calls wait here for a human."</p>
            </header>
            <div class="card planned">
                <span class="badge status-planned">"partly built"</span>
                <p>"Requests are created and listed; approving or denying them (console and Slack), payload diffs and expiry are not built yet, so pending requests stay pending and nothing runs."</p>
            </div>
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match data.await {
                        Err(e) => view! { <ErrorBox message=error_text(&e)/> }.into_any(),
                        Ok(rows) if rows.is_empty() => view! { <p class="muted">"Nothing is waiting."</p> }.into_any(),
                        Ok(rows) => view! {
                            <div class="card flush"><table class="table">
                                <thead><tr><th>"Requested"</th><th>"Agent"</th><th>"Connector"</th><th>"Operation"</th><th>"Risk"</th><th>"Expires (UTC)"</th></tr></thead>
                                <tbody>{rows.into_iter().map(|a| view! {
                                    <tr><td class="nowrap">{a.created}</td><td>{a.agent}</td><td>{a.connector}</td>
                                    <td class="mono">{a.operation}</td><td><RiskBadge score=a.risk/></td><td class="nowrap">{a.expires}</td></tr>
                                }).collect_view()}</tbody>
                            </table></div>
                        }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}
