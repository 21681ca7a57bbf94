//! Where approval requests are announced: Slack (with Approve and Deny buttons), Microsoft
//! Teams, and signed webhooks. Admins set them here; secrets are write-only.

use leptos::prelude::*;

use crate::components::form::{
    Field, FieldError, Refill, Refilled, RowAction, SubmitRow, field_id,
};
use crate::components::messages::{Posted, ShownFlash, posted};
use crate::components::page::Page;
use crate::components::table::{Loaded, headers, rows_table};
use crate::components::when::When;
use crate::server_fns::integrations::{
    LinkSlackMember, RemoveIntegration, SaveIntegration, list_integrations, list_slack_links,
    slack_link_form,
};
use crate::types::{IntegrationRow, SlackLinkRow};

#[component]
pub fn IntegrationsPage() -> impl IntoView {
    let save = ServerAction::<SaveIntegration>::new();
    let remove = ServerAction::<RemoveIntegration>::new();
    let link = ServerAction::<LinkSlackMember>::new();
    let changed = move || (save.version().get(), remove.version().get());
    let data = Resource::new(changed, |_| list_integrations());
    let links = Resource::new(move || link.version().get(), |_| list_slack_links());
    let flash = posted(Signal::derive(move || {
        save.version().get() + remove.version().get() + link.version().get()
    }));
    view! {
        <Page
            title="Integrations"
            intro="New approval requests are announced here, and updated when they end. Reviewers can decide from Slack; Teams and webhooks notify. Details: docs/integrations.md."
        >
            <ShownFlash flash />
            <Loaded data let:rows>
                {rows
                    .into_iter()
                    .map(|r| view! { <Integration r save remove flash /> })
                    .collect_view()}
            </Loaded>
            <div class="card" id="slack-members">
                <h2>"Slack members"</h2>
                <p class="muted small">
                    "A Slack member linked here decides as that user. Without a link, ARX maps a Slack member to the user with the email on their Slack profile. The member id is on the Slack profile: ⋮, Copy member ID. Leave it empty to unlink."
                </p>
                <Loaded data=links let:rows>
                    <SlackMembers rows link flash />
                </Loaded>
            </div>
        </Page>
    }
}

#[component]
fn SlackMembers(
    rows: Vec<SlackLinkRow>,
    link: ServerAction<LinkSlackMember>,
    flash: Posted,
) -> impl IntoView {
    view! {
        {rows_table(
            "table",
            None,
            view! { {headers(&["User", "Role", "Approver groups", "Slack member id"])} },
            rows,
            move |r| {
                let label = format!("Slack member id of {}", r.email);
                let key = r.email.clone();
                view! {
                    <tr data-user=key>
                        <td>{r.email}</td>
                        <td>{r.role}</td>
                        <td class="muted">
                            {if r.groups.is_empty() {
                                "—".to_string()
                            } else {
                                r.groups.join(", ")
                            }}
                        </td>
                        <td>
                            <RowAction
                                action=link
                                hidden=vec![("user_id", r.user_id.clone())]
                                label="Save"
                            >
                                <Refilled flash form=slack_link_form(&r.user_id)>
                                    <MemberIdInput
                                        label=label.clone()
                                        linked=r.slack_user_id.clone().unwrap_or_default()
                                    />
                                </Refilled>
                            </RowAction>
                        </td>
                    </tr>
                }
            },
        )}
    }
}

/// A user's Slack member id in their row: what was typed and why not, after a refusal.
#[component]
fn MemberIdInput(label: String, linked: String) -> impl IntoView {
    let refill = Refill::here();
    let name = "slack_user_id";
    let error = refill.error(name);
    let id = field_id(name);
    view! {
        <input
            name=name
            class="mono"
            placeholder="U0123ABCD"
            aria-label=label
            value=refill.value(name).unwrap_or(linked)
            autocomplete="off"
            aria-invalid=error.is_some().then_some("true")
            aria-describedby=error.is_some().then_some(id.clone())
        />
        <FieldError error id />
    }
}

#[component]
fn Integration(
    r: IntegrationRow,
    save: ServerAction<SaveIntegration>,
    remove: ServerAction<RemoveIntegration>,
    flash: Posted,
) -> impl IntoView {
    let (title, help) = match r.kind.as_str() {
        "slack" => (
            "Slack",
            "A bot token (chat:write, users:read, users:read.email), the app's signing secret, the channel, the workspace's team id (T…) and the app's id (A…, on its Basic Information page): only presses from that app, on the message ARX posted, count. Use an app of its own for approvals, never the one a Slack connector uses. Set the app's Interactivity Request URL to /integrations/slack/interactions on this server's public URL.",
        ),
        "teams" => (
            "Microsoft Teams",
            "An incoming webhook URL of the channel (treated as a secret).",
        ),
        _ => (
            "Signed webhook",
            "A URL that receives JSON with X-ARX-Signature: sha256=<HMAC of the body with the secret>.",
        ),
    };
    let kind = r.kind.clone();
    let kind_off = r.kind.clone();
    let fields: Vec<(&'static str, &'static str, bool)> = match r.kind.as_str() {
        "slack" => vec![
            ("bot_token", "Bot token", true),
            ("signing_secret", "Signing secret", true),
            ("channel", "Channel id or name", false),
            ("team_id", "Team id (T…)", false),
            ("app_id", "App id (A…)", false),
        ],
        "teams" => vec![("url", "Incoming webhook URL", true)],
        _ => vec![("url", "URL", false), ("secret", "Signing secret", true)],
    };
    view! {
        <div class="card" data-integration=r.kind.clone()>
            <div class="request-head">
                <h2>{title}</h2>
                <span class=if r.configured {
                    "badge status-active"
                } else {
                    "badge"
                }>{if r.configured { "on" } else { "off" }}</span>
            </div>
            <p class="muted small">{help}</p>
            {r
                .configured
                .then(|| {
                    view! {
                        <dl class="facts">
                            {r
                                .config
                                .iter()
                                .map(|(k, v)| {
                                    view! {
                                        <dt>{k.clone()}</dt>
                                        <dd class="mono">{v.clone()}</dd>
                                    }
                                })
                                .collect_view()}
                            {r
                                .secrets_set
                                .iter()
                                .map(|(k, set)| {
                                    view! {
                                        <dt>{k.clone()}</dt>
                                        <dd>{if *set { "set (hidden)" } else { "not set" }}</dd>
                                    }
                                })
                                .collect_view()}
                            {r
                                .updated
                                .clone()
                                .map(|(when, by)| {
                                    view! {
                                        <dt>"Updated"</dt>
                                        <dd>
                                            <When utc=when />
                                            {format!(" by {by}")}
                                        </dd>
                                    }
                                })}
                        </dl>
                    }
                })}
            <ActionForm action=save attr:class="form-grid">
                <input type="hidden" name="kind" value=kind.clone() />
                <Refilled flash form=kind>
                    {fields
                        .iter()
                        .map(|&(name, label, secret)| {
                            view! {
                                <Field
                                    label
                                    name
                                    kind=if secret { "password" } else { "text" }
                                    autocomplete="off"
                                />
                            }
                        })
                        .collect_view()}
                </Refilled>
                <SubmitRow label=if r.configured { "Replace" } else { "Turn on" } />
            </ActionForm>
            {r
                .configured
                .then(|| {
                    view! {
                        <RowAction
                            action=remove
                            hidden=vec![("kind", kind_off)]
                            label="Turn off"
                            button="btn small danger"
                        />
                    }
                })}
        </div>
    }
}
