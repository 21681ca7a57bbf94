//! The agent registry: every agent with its owner, labels and status; admins create
//! agents and issue keys here (forms that work with and without JavaScript).

use leptos::prelude::*;

use crate::components::badges::{Labels, StatusBadge};
use crate::components::form::{Field, Refilled, RowAction, SubmitRow};
use crate::components::me::{OnlyFor, is_admin, signed_in};
use crate::components::messages::{ShownFlash, posted};
use crate::components::page::Page;
use crate::components::table::{Loading, headers, table_card};
use crate::components::when::When;
use crate::fmt::count;
use crate::server_fns::agents::{CreateAgent, IssueKey, list_agents};

#[component]
pub fn AgentsPage() -> impl IntoView {
    let create = ServerAction::<CreateAgent>::new();
    let issue = ServerAction::<IssueKey>::new();
    let version = Signal::derive(move || create.version().get() + issue.version().get());
    let agents = Resource::new(move || version.get(), |_| list_agents());
    let flash = posted(version);
    let me = signed_in();

    view! {
        <Page
            title="Agents"
            intro="Each agent has an accountable owner and its own API keys. Keys are stored hashed and shown once."
        >
            <ShownFlash flash />
            <Transition fallback=Loading>
                {move || Suspend::new(async move {
                    let is_admin = is_admin(me).await;
                    table_card(
                        agents.await,
                        None,
                        view! { <p class="muted">"No agents yet."</p> },
                        view! {
                            {headers(
                                &["Agent", "Owner", "Labels", "Status", "Rate", "Keys", "Created"],
                            )}
                            {is_admin.then(|| view! { <th></th> })}
                        },
                        move |a| {
                            let id = a.id.clone();
                            view! {
                                <tr data-agent=a.name.clone()>
                                    <td>
                                        <strong>{a.name.clone()}</strong>
                                        <div class="muted small">{a.description.clone()}</div>
                                    </td>
                                    <td>{a.owner.clone()}</td>
                                    <td>
                                        <Labels labels=a.labels.clone() />
                                    </td>
                                    <td>
                                        <StatusBadge status=a.status.clone() />
                                    </td>
                                    <td class="num">{format!("{}/min", count(a.declared_rate))}</td>
                                    <td class="num">{count(a.active_keys)}</td>
                                    <td class="nowrap">
                                        <When utc=a.created.clone() />
                                    </td>
                                    {is_admin
                                        .then(|| {
                                            view! {
                                                <td>
                                                    <RowAction
                                                        action=issue
                                                        hidden=vec![("agent_id", id.clone())]
                                                        label="Issue key"
                                                        block=true
                                                    />
                                                </td>
                                            }
                                        })}
                                </tr>
                            }
                        },
                    )
                })}
            </Transition>
            <OnlyFor me who=|m| m.is_admin>
                <div class="card">
                    <h2>"Register an agent"</h2>
                    <ActionForm action=create attr:class="form-grid">
                        <Refilled flash form="agent">
                            <Field
                                label="Name"
                                name="name"
                                required=true
                                placeholder="triage-agent"
                            />
                            <Field
                                label="Owner email"
                                name="owner"
                                kind="email"
                                required=true
                                placeholder="secops-lead@example.com"
                            />
                            <Field
                                label="Description"
                                name="description"
                                placeholder="What it does, in a sentence"
                                wide=true
                            />
                            <Field
                                label="Labels"
                                name="labels"
                                placeholder="env:prod, team:soc"
                                wide=true
                            />
                        </Refilled>
                        <SubmitRow label="Create agent" />
                    </ActionForm>
                </div>
            </OnlyFor>
        </Page>
    }
}
