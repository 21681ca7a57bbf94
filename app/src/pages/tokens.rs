//! Admin API tokens: create one (the secret is shown once), see when each was last used
//! and when it expires, revoke one at once. Admins see the org's tokens, others their own.

use leptos::prelude::*;

use crate::components::badges::StatusBadge;
use crate::components::form::{Field, Refilled, RowAction, SubmitRow};
use crate::components::messages::{ShownFlash, posted};
use crate::components::page::Page;
use crate::components::table::{Loading, headers, table_card};
use crate::components::when::When;
use crate::server_fns::tokens::{CreateToken, RevokeToken, list_tokens};

#[component]
pub fn TokensPage() -> impl IntoView {
    let create = ServerAction::<CreateToken>::new();
    let revoke = ServerAction::<RevokeToken>::new();
    let version = Signal::derive(move || create.version().get() + revoke.version().get());
    let data = Resource::new(move || version.get(), |_| list_tokens());
    let flash = posted(version);
    view! {
        <Page
            title="API tokens"
            intro="Tokens for the admin API (Authorization: Bearer …). Each expires; revoking one stops it at once. The secret is shown only when it is created."
        >
            <ShownFlash flash />
            <div class="card">
                <ActionForm action=create attr:class="form-grid">
                    <Refilled flash form="token">
                        <Field
                            label="Name"
                            name="name"
                            kind="text"
                            required=true
                            maxlength=100
                            placeholder="ci pipeline"
                        />
                        <Field
                            label="Lifetime (days)"
                            name="lifetime_days"
                            kind="number"
                            min=1
                            placeholder="default"
                        />
                    </Refilled>
                    <SubmitRow label="Create token" />
                </ActionForm>
            </div>
            <Transition fallback=Loading>
                {move || Suspend::new(async move {
                    table_card(
                        data.await,
                        Some("tokens"),
                        view! { <p class="muted">"No tokens yet."</p> },
                        view! {
                            {headers(
                                &[
                                    "Name",
                                    "User",
                                    "Token",
                                    "Created",
                                    "Last used",
                                    "Expires",
                                    "Status",
                                ],
                            )}
                            <th></th>
                        },
                        move |t| {
                            let active = t.status == "active";
                            let id = t.id.clone();
                            view! {
                                <tr data-token=t.id.clone() data-status=t.status.clone()>
                                    <td>{t.name.clone()}</td>
                                    <td>{t.user.clone()}</td>
                                    <td class="mono small">
                                        {if t.prefix.is_empty() {
                                            "—".to_string()
                                        } else {
                                            format!("{}…", t.prefix)
                                        }}
                                    </td>
                                    <td class="nowrap">
                                        <When utc=t.created.clone() />
                                    </td>
                                    <td class="nowrap">
                                        {match t.last_used.clone() {
                                            Some(u) => view! { <When utc=u /> }.into_any(),
                                            None => "never".into_any(),
                                        }}
                                    </td>
                                    <td class="nowrap">
                                        <When utc=t.expires.clone() />
                                    </td>
                                    <td>
                                        <StatusBadge status=t.status.clone() />
                                    </td>
                                    <td>
                                        {active
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
