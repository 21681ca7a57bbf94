//! The home page: the fleet at a glance and the latest activity.

use leptos::prelude::*;

use crate::components::page::Page;
use crate::components::table::Loaded;
use crate::components::when::When;
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
                {o
                    .break_glass
                    .clone()
                    .map(|(email, n, last)| view! { <BreakGlass email n last /> })}
                <VerdictBar verdicts=o.verdicts />
                <Charts o=o.clone() />
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

/// The break-glass account's use: a local sign-in that bypassed single sign-on stands
/// out (a warning when it happened in the last 30 days).
#[component]
fn BreakGlass(email: String, n: u64, last: Option<String>) -> impl IntoView {
    let used = n > 0;
    view! {
        <div class=if used { "card warn" } else { "card" } data-testid="break-glass">
            <h2>"Break-glass account"</h2>
            <p>
                <span class="mono">{email}</span>
                {if used {
                    view! {
                        {format!(
                            " signed in {} in the last 30 days; last at ",
                            if n == 1 { "once".to_string() } else { format!("{n} times") },
                        )}
                        {last.map(|t| view! { <When utc=t /> })}
                        "."
                    }
                        .into_any()
                } else {
                    " was not used in the last 30 days.".into_any()
                }}
            </p>
            <p class="muted">
                "The org's first local admin, kept for when single sign-on is down. Each of its sign-ins is its own audit record ("
                <span class="mono">"user.break_glass_login"</span> ")."
            </p>
        </div>
    }
}

/// Calls per day by verdict and risk per day over the last 7 UTC days: SVG drawn by the
/// server (readable without JavaScript, titled and described for screen readers), and
/// the same figures as a table.
#[component]
fn Charts(o: Overview) -> impl IntoView {
    let window = o.chart_window.clone();
    let opt = |v: Option<u8>| v.map(|v| v.to_string()).unwrap_or_else(|| "–".into());
    view! {
        <div class="card charts" data-testid="charts">
            <figure>
                <figcaption>
                    <h2>"Agent calls per day, by verdict"</h2>
                    <span class="muted small">{window.clone()}</span>
                </figcaption>
                <div class="chart-box" data-testid="calls-chart" inner_html=o.calls_chart></div>
            </figure>
            <figure>
                <figcaption>
                    <h2>"Risk of agent calls per day"</h2>
                    <span class="muted small">
                        {format!("{window}: highest, 95th percentile and median score (0 to 100)")}
                    </span>
                </figcaption>
                <div class="chart-box" data-testid="risk-chart" inner_html=o.risk_chart></div>
            </figure>
            <details>
                <summary>"The figures as a table"</summary>
                <table class="table" data-testid="days">
                    <caption class="muted small">
                        {format!("Agent calls and their risk per day, {window}")}
                    </caption>
                    <thead>
                        <tr>
                            <th scope="col">"Day (UTC)"</th>
                            <th scope="col">"Permitted"</th>
                            <th scope="col">"Escalated"</th>
                            <th scope="col">"Denied"</th>
                            <th scope="col">"Highest risk"</th>
                            <th scope="col">"95th percentile"</th>
                            <th scope="col">"Median risk"</th>
                        </tr>
                    </thead>
                    <tbody>
                        {o
                            .days
                            .into_iter()
                            .map(|d| {
                                view! {
                                    <tr>
                                        <th scope="row" class="nowrap">
                                            {d.day}
                                        </th>
                                        <td class="num">{count(d.permit)}</td>
                                        <td class="num">{count(d.escalate)}</td>
                                        <td class="num">{count(d.deny)}</td>
                                        <td class="num">{opt(d.max_risk)}</td>
                                        <td class="num">{opt(d.p95_risk)}</td>
                                        <td class="num">{opt(d.median_risk)}</td>
                                    </tr>
                                }
                            })
                            .collect_view()}
                    </tbody>
                </table>
            </details>
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
