//! Time-bound grants: what extra scope agents hold right now, for how long, and why;
//! admins revoke one at once. Refreshed every two seconds with JavaScript on.

use leptos::prelude::*;

use crate::components::badges::StatusBadge;
use crate::components::form::RowAction;
use crate::components::live::ticker;
use crate::components::me::{is_admin, signed_in};
use crate::components::messages::PostFlash;
use crate::components::page::Page;
use crate::components::table::{Loading, headers, table_card};
use crate::components::when::When;
use crate::pages::approvals::remaining;
use crate::server_fns::grants::{RevokeGrant, list_grants};

#[component]
pub fn GrantsPage() -> impl IntoView {
    let revoke = ServerAction::<RevokeGrant>::new();
    let tick = ticker(2000);
    let data = Resource::new(
        move || (revoke.version().get(), tick.get()),
        |_| list_grants(),
    );
    let me = signed_in();
    view! {
        <Page
            title="Grants"
            intro="Temporary scope an agent asked for and a reviewer approved. A grant turns escalations of the operations it covers into permits until it expires; it reverts by itself, and suspending the agent ends it."
        >
            <PostFlash version=Signal::derive(move || revoke.version().get()) />
            <Transition fallback=Loading>
                {move || Suspend::new(async move {
                    let admin = is_admin(me).await;
                    table_card(
                        data.await,
                        Some("grants"),
                        view! {
                            <p class="muted">
                                "No grants yet. Agents ask for them with POST /v1/sdk/grants."
                            </p>
                        },
                        view! {
                            {headers(&["Agent", "Scope", "Why", "Status", "Time"])}
                            <th></th>
                        },
                        move |g| {
                            let live = g.status == "active" || g.status == "requested";
                            let id = g.id.clone();
                            view! {
                                <tr data-grant=g.id.clone() data-status=g.status.clone()>
                                    <td>{g.agent.clone()}</td>
                                    <td class="mono small">
                                        {format!("{}: {}", g.connector, g.operations.join(", "))}
                                        <div class="muted">{format!("on {}", g.instance)}</div>
                                        {g
                                            .resource
                                            .clone()
                                            .map(|r| {
                                                view! { <div class="muted">{format!("only {r}")}</div> }
                                            })}
                                    </td>
                                    <td>{g.reason.clone()}</td>
                                    <td>
                                        <StatusBadge status=g.status.clone() />
                                    </td>
                                    <td class="nowrap">
                                        {match (g.remaining_secs, g.ended.clone()) {
                                            (Some(s), _) => {
                                                format!("ends {} (of {})", remaining(s), g.ttl).into_any()
                                            }
                                            (None, Some((when, why))) => {
                                                view! {
                                                    "ended "
                                                    <When utc=when />
                                                    {format!(" ({why})")}
                                                }
                                                    .into_any()
                                            }
                                            (None, None) => {
                                                format!("{} once approved", g.ttl).into_any()
                                            }
                                        }}
                                    </td>
                                    <td>
                                        {(admin && live)
                                            .then(|| {
                                                view! {
                                                    <RowAction
                                                        action=revoke
                                                        hidden=vec![("id", id)]
                                                        label="Revoke"
                                                        button="btn small danger"
                                                    />
                                                }
                                            })}
                                    </td>
                                </tr>
                            }
                        },
                    )
                })}
            </Transition>
        </Page>
    }
}
