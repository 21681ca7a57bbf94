//! Simulation: replay a proposed policy over the intercept records of the last days and
//! compare what it would decide with what was decided. Runs as a job; the page follows
//! its progress (live with JavaScript, by reloading without) and can cancel it.

use leptos::prelude::*;

use super::PolicyTabs;
use crate::components::badges::{RiskBadge, VerdictBadge};
use crate::components::form::{FieldError, Refill, Refilled, TextField, field_id};
use crate::components::messages::{ErrorBox, Posted, ShownFlash, posted};
use crate::components::page::{Page, query_param};
use crate::components::table::{Loading, headers, loaded, rows_table};
use crate::components::when::When;
use crate::fmt::count;
use crate::server_fns::policy::{
    CancelSimulation, SIMULATION_FORM, StartSimulation, get_simulation, policy_overview,
};
use crate::types::{Counts, SimView};

#[component]
pub fn SimulatePage() -> impl IntoView {
    let id = query_param("id");
    let start = ServerAction::<StartSimulation>::new();
    let version = Signal::derive(move || start.version().get());
    let flash = posted(version);
    view! {
        <Page
            title="Simulate a policy"
            intro="Replays a draft over recorded agent calls. Nothing is enforced and nothing is recorded by simulating."
        >
            <PolicyTabs current="/policies/simulate" />
            <ShownFlash flash />
            {move || {
                if id().is_empty() {
                    view! { <StartForm start flash /> }.into_any()
                } else {
                    view! { <Job id=id() /> }.into_any()
                }
            }}
        </Page>
    }
}

#[component]
fn StartForm(start: ServerAction<StartSimulation>, flash: Posted) -> impl IntoView {
    let data = Resource::new(|| (), |_| policy_overview());
    view! {
        <Transition fallback=Loading>
            {move || Suspend::new(async move {
                loaded(
                    data.await,
                    move |p| {
                        if !p.can_edit {
                            return view! { <p class="muted">"Only admins run simulations."</p> }
                                .into_any();
                        }
                        view! {
                            <div class="card">
                                <ActionForm action=start>
                                    <Refilled flash form=SIMULATION_FORM>
                                        <TextField
                                            label=format!(
                                                "Draft policy (starts as the policy in force, version {})",
                                                p.version,
                                            )
                                            name="yaml"
                                            rows=18
                                            code=true
                                            value=p.yaml.clone()
                                        />
                                        <p class="actions">
                                            <DaysInput />
                                            <button type="submit" class="btn primary">
                                                "Run simulation"
                                            </button>
                                        </p>
                                    </Refilled>
                                </ActionForm>
                            </div>
                        }
                            .into_any()
                    },
                )
            })}
        </Transition>
    }
}

#[component]
fn Job(id: String) -> impl IntoView {
    let tick = RwSignal::new(0u32);
    let cancel = ServerAction::<CancelSimulation>::new();
    let job_id = id.clone();
    let job = Resource::new(
        move || (tick.get(), cancel.version().get()),
        move |_| get_simulation(job_id.clone()),
    );
    // While the job runs, ask again twice a second (in the browser only).
    Effect::new(move |_| {
        let running = job
            .get()
            .and_then(|r| r.ok().flatten())
            .is_some_and(|j| j.status == "running");
        if running {
            set_timeout(
                move || tick.update(|t| *t += 1),
                std::time::Duration::from_millis(500),
            );
        }
    });
    view! {
        <Transition fallback=Loading>
            {move || Suspend::new(async move {
                loaded(
                    job.await,
                    move |job| match job {
                        None => {
                            view! {
                                <ErrorBox message="This simulation is not known here (it may have been started before a restart)."
                                    .to_string() />
                            }
                                .into_any()
                        }
                        Some(j) => view! { <Report job=j cancel /> }.into_any(),
                    },
                )
            })}
        </Transition>
    }
}

#[component]
fn Report(job: SimView, cancel: ServerAction<CancelSimulation>) -> impl IntoView {
    let running = job.status == "running";
    let id = job.id.clone();
    let refresh = format!("/policies/simulate?id={id}");
    view! {
        <div class="card" data-testid="simulation" data-status=job.status.clone()>
            <div class="sim-head">
                <div>
                    <h2>{format!("Simulation: {}", job.status)}</h2>
                    <p class="muted small">
                        {format!("Draft: {}. Calls from {}.", job.proposal, job.range)}
                    </p>
                </div>
                {running
                    .then(|| {
                        view! {
                            <ActionForm action=cancel attr:class="inline">
                                <input type="hidden" name="id" value=id.clone() />
                                <button type="submit" class="btn">
                                    "Cancel"
                                </button>
                            </ActionForm>
                            <a class="btn" href=refresh>
                                "Refresh"
                            </a>
                        }
                    })}
            </div>
            <div
                class="progress"
                role="progressbar"
                aria-valuemin="0"
                aria-valuemax="100"
                aria-valuenow=job.percent
            >
                <span style=format!("width:{}%", job.percent)></span>
            </div>
            <p class="muted small">
                {format!(
                    "{}% · {} of {} recorded calls in the range replayed",
                    job.percent,
                    count(job.scanned),
                    count(job.total),
                )}
            </p>
            {job.error.clone().map(|e| view! { <ErrorBox message=e /> })}
        </div>
        <div class="sim-grid">
            <div class="card">
                <h2>"Verdicts: recorded and simulated"</h2>
                <Chart was=job.was would=job.would />
            </div>
            <div class="card">
                <h2>"Totals"</h2>
                <table class="table" data-testid="sim-totals">
                    <thead>
                        <tr>
                            <th></th>
                            <th class="num">"Permit"</th>
                            <th class="num">"Escalate"</th>
                            <th class="num">"Deny"</th>
                        </tr>
                    </thead>
                    <tbody>
                        <CountsRow label="Was" c=job.was />
                        <CountsRow label="Would be" c=job.would />
                    </tbody>
                </table>
            </div>
        </div>
        <div class="card flush">
            {rows_table(
                "table",
                Some("sim-rules"),
                view! {
                    <th>"Decided by"</th>
                    <th class="num">"Was P / E / D"</th>
                    <th class="num">"Would be P / E / D"</th>
                },
                job.rules,
                move |r| {
                    view! {
                        <tr>
                            <td class="mono">{r.policy_id}</td>
                            <td class="num">
                                {format!("{} / {} / {}", r.was.0, r.was.1, r.was.2)}
                            </td>
                            <td class="num">
                                {format!("{} / {} / {}", r.would.0, r.would.1, r.would.2)}
                            </td>
                        </tr>
                    }
                },
            )}
        </div>
        <div class="card flush">
            <h2 class="pad">
                {format!("Calls whose verdict would change: {}", count(job.changed_total))}
                {(job.changed_total > job.changed.len() as u64)
                    .then(|| format!(" (the first {} are listed)", job.changed.len()))}
            </h2>
            {rows_table(
                "table",
                Some("sim-changed"),
                view! {
                    {headers(&["Record", "Time", "Agent", "Call", "Risk", "Was", "Would be"])}
                },
                job.changed,
                move |c| {
                    view! {
                        <tr>
                            <td>
                                <a href=format!(
                                    "/audit?before={}#seq-{}",
                                    c.seq + 1,
                                    c.seq,
                                )>{format!("#{}", c.seq)}</a>
                            </td>
                            <td class="nowrap">
                                <When utc=c.ts />
                            </td>
                            <td>{c.agent}</td>
                            <td class="mono">{format!("{}.{}", c.connector, c.operation)}</td>
                            <td>
                                <RiskBadge score=c.risk />
                            </td>
                            <td>
                                <VerdictBadge verdict=c.was />
                                <div class="muted small mono">{c.was_policy}</div>
                            </td>
                            <td>
                                <VerdictBadge verdict=c.would />
                                <div class="muted small mono">{c.would_policy}</div>
                            </td>
                        </tr>
                    }
                },
            )}
        </div>
    }
}

#[component]
fn CountsRow(label: &'static str, c: Counts) -> impl IntoView {
    view! {
        <tr>
            <th>{label}</th>
            <td class="num">{count(c.0)}</td>
            <td class="num">{count(c.1)}</td>
            <td class="num">{count(c.2)}</td>
        </tr>
    }
}

/// Grouped bars: for each verdict, what was decided next to what would be.
#[component]
fn Chart(was: Counts, would: Counts) -> impl IntoView {
    let max = [was.0, was.1, was.2, would.0, would.1, would.2]
        .into_iter()
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let h = |n: u64| (n as f64 / max * 120.0).round();
    let groups = [
        ("Permit", "permit", was.0, would.0),
        ("Escalate", "escalate", was.1, would.1),
        ("Deny", "deny", was.2, would.2),
    ];
    view! {
        <svg
            class="chart"
            viewBox="0 0 330 170"
            role="img"
            aria-label=format!(
                "was {}/{}/{}, would be {}/{}/{} (permit/escalate/deny)",
                was.0,
                was.1,
                was.2,
                would.0,
                would.1,
                would.2,
            )
        >
            {groups
                .into_iter()
                .enumerate()
                .map(|(i, (label, class, a, b))| {
                    let x = 20.0 + i as f64 * 105.0;
                    view! {
                        <g>
                            <rect
                                class=format!("bar was {class}")
                                x=x
                                y=140.0 - h(a)
                                width="36"
                                height=h(a)
                            />
                            <rect
                                class=format!("bar would {class}")
                                x=x + 40.0
                                y=140.0 - h(b)
                                width="36"
                                height=h(b)
                            />
                            <text x=x + 18.0 y=135.0 - h(a) text-anchor="middle" class="bar-num">
                                {a}
                            </text>
                            <text x=x + 58.0 y=135.0 - h(b) text-anchor="middle" class="bar-num">
                                {b}
                            </text>
                            <text x=x + 38.0 y="160" text-anchor="middle" class="bar-label">
                                {label}
                            </text>
                        </g>
                    }
                })
                .collect_view()}
        </svg>
        <div class="legend">
            <span>
                <i class="dot was"></i>
                "was (recorded)"
            </span>
            <span>
                <i class="dot would"></i>
                "would be (draft)"
            </span>
        </div>
    }
}

/// How many days back the simulation replays (what was typed, after a refusal).
#[component]
fn DaysInput() -> impl IntoView {
    let refill = Refill::here();
    let name = "days";
    let error = refill.error(name);
    let id = field_id(name);
    view! {
        <label class="inline-label">
            "Over the last"
            <input
                name=name
                type="number"
                min="1"
                max="365"
                value=refill.value(name).unwrap_or_else(|| "30".into())
                class="short"
                aria-invalid=error.is_some().then_some("true")
                aria-describedby=error.is_some().then_some(id.clone())
            /> "days"
        </label>
        <FieldError error id />
    }
}
