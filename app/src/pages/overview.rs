//! The home page: the fleet at a glance and the latest activity.

use leptos::prelude::*;

use crate::components::page::Page;
use crate::components::table::Loaded;
use crate::fmt::count;
use crate::pages::approvals::ApprovalTable;
use crate::pages::audit::AuditTable;
use crate::server_fns::console::get_overview;
use crate::types::Overview;

#[component]
pub fn OverviewPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| get_overview());
    view! {
        <Page title="Overview">
            <Loaded data let:o>
                {stats(&o)}
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
                <Fleet fleet=o.fleet.clone() drift=o.open_drift.clone() />
                <VerdictBar verdicts=o.verdicts />
                <div class="card">
                    <h2>"Latest activity"</h2>
                    <AuditTable rows=o.recent />
                    <p>
                        <a href="/audit">"The whole audit trail →"</a>
                    </p>
                </div>
            </Loaded>
        </Page>
    }
}

/// The counts on top, each a link to its area.
fn stats(o: &Overview) -> impl IntoView + use<> {
    let stats = [
        (
            "/agents",
            count(o.active_agents),
            format!("active agents of {}", count(o.agents)),
        ),
        (
            "/connectors",
            count(o.instances),
            "connector instances".to_string(),
        ),
        (
            "/approvals",
            count(o.pending_approvals),
            "approvals pending".to_string(),
        ),
        ("/audit", count(o.records), "audit records".to_string()),
    ];
    view! {
        <div class="stats">
            {stats
                .map(|(href, count, label)| {
                    view! {
                        <a class="stat card" href=href>
                            <span class="stat-num">{count}</span>
                            <span class="stat-label">{label}</span>
                        </a>
                    }
                })
                .collect_view()}
        </div>
    }
}

/// The fleet by status and its open drift by severity, each a link to the list.
#[component]
fn Fleet(fleet: Vec<(String, usize)>, drift: Vec<(String, usize)>) -> impl IntoView {
    view! {
        <div class="card" data-testid="fleet">
            <h2>"Fleet"</h2>
            <p class="groups">
                {fleet
                    .into_iter()
                    .map(|(status, n)| {
                        view! {
                            <a class=format!("badge status-{status}") href="/agents">
                                {format!("{} {status}", count(n))}
                            </a>
                        }
                    })
                    .collect_view()}
            </p>
            <h3>"Open drift"</h3>
            <p class="groups">
                {drift
                    .into_iter()
                    .map(|(sev, n)| {
                        view! {
                            <a
                                class=format!("badge sev-{sev}")
                                href=format!("/drift?severity={sev}")
                            >
                                {format!("{} {sev}", count(n))}
                            </a>
                        }
                    })
                    .collect_view()}
            </p>
        </div>
    }
}

/// The verdicts of recent agent calls as one bar, (permit, escalate, deny), with a legend.
#[component]
fn VerdictBar(verdicts: (u32, u32, u32)) -> impl IntoView {
    let (p, e, d) = verdicts;
    let total = (p + e + d).max(1) as f64;
    let verdicts = [
        ("permit", p, "permitted"),
        ("escalate", e, "escalated"),
        ("deny", d, "denied"),
    ];
    view! {
        <div class="card">
            <h2>"Verdicts of recent agent calls"</h2>
            <p class="muted small">"The calls among the last 200 audit records."</p>
            <div
                class="verdict-bar"
                role="img"
                aria-label=format!("{p} permitted, {e} escalated, {d} denied")
            >
                {verdicts
                    .map(|(class, n, _)| {
                        let width = format!("width:{:.1}%", f64::from(n) * 100.0 / total);
                        view! { <span class=format!("seg {class}") style=width></span> }
                    })
                    .collect_view()}
            </div>
            <div class="legend">
                {verdicts
                    .map(|(class, n, done)| {
                        view! {
                            <span>
                                <i class=format!("dot {class}")></i>
                                {format!("{n} {done}")}
                            </span>
                        }
                    })
                    .collect_view()}
            </div>
        </div>
    }
}
