//! The org's users: where each account came from, the groups it is a member of and what
//! each gives, the roles it holds now, its last sign-in and live sessions; admins set
//! local groups and deactivate (which ends everything the account held at once).

use leptos::prelude::*;

use crate::components::form::{Field, Refilled, RowAction, SubmitRow};
use crate::components::me::{OnlyFor, is_admin, signed_in};
use crate::components::messages::{ShownFlash, posted};
use crate::components::page::Page;
use crate::components::table::{Loading, headers, table_card};
use crate::components::when::When;
use crate::server_fns::identity::{SetMemberOf, SetUserActive, list_users};

#[component]
pub fn UsersPage() -> impl IntoView {
    let member_of = ServerAction::<SetMemberOf>::new();
    let active = ServerAction::<SetUserActive>::new();
    let version = Signal::derive(move || member_of.version().get() + active.version().get());
    let data = Resource::new(move || version.get(), |_| list_users());
    let flash = posted(version);
    let me = signed_in();
    view! {
        <Page
            title="Users"
            intro="Everyone who can sign in. A user's roles are their own and those their groups are mapped to (SSO & SCIM); a change of groups or mappings counts at their next click. Deactivating ends their sessions and revokes their tokens at once."
        >
            <ShownFlash flash />
            <OnlyFor me who=|m| m.is_admin>
                <div class="card">
                    <h2>"Local group membership"</h2>
                    <ActionForm action=member_of attr:class="form-grid">
                        <Refilled flash form="member_of">
                            <Field
                                label="User's email"
                                name="email"
                                kind="email"
                                required=true
                                maxlength=254
                            />
                            <Field
                                label="Groups (comma-separated; empty removes all)"
                                name="groups"
                                maxlength=4000
                                placeholder="Okta-SecOps-Leads, SOC Tier 2"
                                wide=true
                            />
                        </Refilled>
                        <SubmitRow label="Set groups" />
                    </ActionForm>
                </div>
            </OnlyFor>
            <Transition fallback=Loading>
                {move || Suspend::new(async move {
                    let admin = is_admin(me).await;
                    table_card(
                        data.await,
                        Some("users"),
                        view! { <p class="muted">"No users."</p> },
                        view! {
                            {headers(
                                &[
                                    "User",
                                    "Source",
                                    "Roles now",
                                    "Groups",
                                    "Approver groups",
                                    "Last sign-in",
                                    "Sessions",
                                    "Status",
                                ],
                            )}
                            <th></th>
                        },
                        move |u| {
                            let status = if u.active { "active" } else { "deactivated" };
                            view! {
                                <tr data-user=u.email.clone() data-status=status>
                                    <td>
                                        <div>{u.name.clone()}</div>
                                        <div class="mono small">{u.email.clone()}</div>
                                        {u
                                            .break_glass
                                            .then(|| {
                                                view! {
                                                    <span
                                                        class="badge warn"
                                                        title="The org's first local admin, kept for when SSO is down; every sign-in is shown on the Overview"
                                                    >
                                                        "break-glass"
                                                    </span>
                                                }
                                            })}
                                    </td>
                                    <td>{u.source.clone()}</td>
                                    <td title=format!(
                                        "own role: {}",
                                        u.own_role,
                                    )>{u.roles.clone()}</td>
                                    <td class="small">
                                        {if u.groups.is_empty() {
                                            view! { <span class="muted">"none"</span> }.into_any()
                                        } else {
                                            u.groups
                                                .iter()
                                                .map(|g| view! { <div>{g.clone()}</div> })
                                                .collect_view()
                                                .into_any()
                                        }}
                                    </td>
                                    <td class="small">{u.approver_groups.join(", ")}</td>
                                    <td class="nowrap">
                                        {match u.last_login.clone() {
                                            Some(t) => view! { <When utc=t /> }.into_any(),
                                            None => "never".into_any(),
                                        }}
                                    </td>
                                    <td>{u.sessions}</td>
                                    <td>
                                        <span class=format!(
                                            "badge status-{}",
                                            if u.active { "active" } else { "suspended" },
                                        )>{status}</span>
                                    </td>
                                    <td>
                                        {admin
                                            .then(|| {
                                                let act = if u.active {
                                                    "Deactivate"
                                                } else {
                                                    "Reactivate"
                                                };
                                                view! {
                                                    <RowAction
                                                        action=active
                                                        hidden=vec![
                                                            ("id", u.id.clone()),
                                                            ("active", (!u.active).to_string()),
                                                        ]
                                                        label=act
                                                        button=if u.active {
                                                            "btn small danger"
                                                        } else {
                                                            "btn small"
                                                        }
                                                        aria_label=format!("{act} {}", u.email)
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
