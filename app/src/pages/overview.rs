//! The home page: the fleet at a glance and the latest activity.

use leptos::prelude::*;

use crate::components::page::Page;
use crate::components::table::{Loading, loaded};
use crate::pages::approvals::ApprovalTable;
use crate::pages::audit::AuditTable;
use crate::server_fns::console::get_overview;

#[component]
pub fn OverviewPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| get_overview());
    view! {
        <Page title="Overview">
            <Suspense fallback=Loading>
                {move || Suspend::new(async move {
                    loaded(
                        data.await,
                        move |o| {
                            let (p, e, d) = o.verdicts;
                            let total = (p + e + d).max(1) as f64;
                            let pct = |n: u32| {
                                format!("width:{:.1}%", f64::from(n) * 100.0 / total)
                            };
                            view! {
                                <div class="stats">
                                    <a class="stat card" href="/agents">
                                        <span class="stat-num">{o.active_agents}</span>
                                        <span class="stat-label">
                                            {format!("active agents of {}", o.agents)}
                                        </span>
                                    </a>
                                    <a class="stat card" href="/connectors">
                                        <span class="stat-num">{o.instances}</span>
                                        <span class="stat-label">"connector instances"</span>
                                    </a>
                                    <a class="stat card" href="/approvals">
                                        <span class="stat-num">{o.pending_approvals}</span>
                                        <span class="stat-label">"approvals pending"</span>
                                    </a>
                                    <a class="stat card" href="/audit">
                                        <span class="stat-num">{o.records}</span>
                                        <span class="stat-label">"audit records"</span>
                                    </a>
                                </div>
                                {(!o.queue.is_empty())
                                    .then(|| {
                                        view! {
                                            <div class="card flush">
                                                <h2 class="pad">"Waiting for a reviewer"</h2>
                                                <ApprovalTable rows=o.queue.clone() history=false />
                                                <p class="pad">
                                                    <a href="/approvals">"The whole queue →"</a>
                                                </p>
                                            </div>
                                        }
                                    })}
                                <div class="card">
                                    <h2>"Verdicts of recent agent calls"</h2>
                                    <div
                                        class="verdict-bar"
                                        role="img"
                                        aria-label=format!(
                                            "{p} permitted, {e} escalated, {d} denied",
                                        )
                                    >
                                        <span class="seg permit" style=pct(p)></span>
                                        <span class="seg escalate" style=pct(e)></span>
                                        <span class="seg deny" style=pct(d)></span>
                                    </div>
                                    <div class="legend">
                                        <span>
                                            <i class="dot permit"></i>
                                            {format!("{p} permitted")}
                                        </span>
                                        <span>
                                            <i class="dot escalate"></i>
                                            {format!("{e} escalated")}
                                        </span>
                                        <span>
                                            <i class="dot deny"></i>
                                            {format!("{d} denied")}
                                        </span>
                                    </div>
                                </div>
                                <div class="card">
                                    <h2>"Latest activity"</h2>
                                    <AuditTable rows=o.recent />
                                    <p>
                                        <a href="/audit">"The whole audit trail →"</a>
                                    </p>
                                </div>
                            }
                        },
                    )
                })}
            </Suspense>
        </Page>
    }
}
