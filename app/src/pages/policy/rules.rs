//! The rules in evaluation order with their verdicts, reorder and delete buttons, and
//! the org's thresholds and defaults.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use super::{PolicyTabs, VerdictSelect};
use crate::components::badges::VerdictBadge;
use crate::components::form::{Field, ReasonInput, Refilled, RowAction, SubmitRow};
use crate::components::messages::{Posted, ShownFlash, posted};
use crate::components::page::Page;
use crate::components::table::{Loading, headers, loaded};
use crate::components::when::When;
use crate::server_fns::policy::{
    DeleteRule, MoveRule, SETTINGS_FORM, SaveSettings, policy_overview,
};
use crate::types::SettingsForm;

#[component]
pub fn PoliciesPage() -> impl IntoView {
    let moved = ServerAction::<MoveRule>::new();
    let deleted = ServerAction::<DeleteRule>::new();
    let saved = ServerAction::<SaveSettings>::new();
    let changed = Signal::derive(move || {
        moved.version().get() + deleted.version().get() + saved.version().get()
    });
    let data = Resource::new(move || changed.get(), |_| policy_overview());
    let flash = posted(changed);
    let query = use_query_map();
    let saved_version = move || query.read().get("saved");
    view! {
        <Page
            title="Policy"
            intro="Rules are checked top to bottom; the first that matches decides. No match: the org default for the operation's tier. Then the thresholds make a verdict stricter, unless the rule is exempt."
        >
            <PolicyTabs current="/policies" />
            <ShownFlash flash />
            {move || {
                saved_version()
                    .map(|v| {
                        view! {
                            <div class="flash flash-ok" role="status">
                                <p>{format!("The rule is saved: version {v} is in force.")}</p>
                            </div>
                        }
                    })
            }}
            <Transition fallback=Loading>
                {move || Suspend::new(async move {
                    loaded(
                        data.await,
                        move |p| {
                            let edit = p.can_edit;
                            let count = p.rules.len();
                            let based_on = p.version;
                            view! {
                                <p class="version-line" data-testid="policy-version">
                                    <strong>{format!("Version {}", p.version)}</strong>
                                    <span class="muted">
                                        {format!(" · {} · ", p.author)}
                                        <When utc=p.created.clone() />
                                        {format!(
                                            " · {}",
                                            if p.message.is_empty() {
                                                "no message".to_string()
                                            } else {
                                                p.message.clone()
                                            },
                                        )}
                                    </span>
                                </p>
                                <div class="card flush">
                                    <table class="table rules">
                                        <thead>
                                            <tr>
                                                {headers(&["#", "Rule", "When", "If (CEL)", "Then"])}
                                                {edit.then(|| view! { <th></th> })}
                                            </tr>
                                        </thead>
                                        <tbody>
                                            {p
                                                .rules
                                                .is_empty()
                                                .then(|| {
                                                    view! {
                                                        <tr>
                                                            <td colspan="6" class="muted">
                                                                "No rules: every call is decided by the defaults and thresholds below."
                                                            </td>
                                                        </tr>
                                                    }
                                                })}
                                            {p
                                                .rules
                                                .into_iter()
                                                .enumerate()
                                                .map(|(i, r)| {
                                                    let id = r.id.clone();
                                                    let edit_href = format!("/policies/rules/edit?id={id}");
                                                    let why_delete = format!("Why delete {id}");
                                                    let hidden = |up: Option<bool>| {
                                                        let mut fields = vec![("id", id.clone())];
                                                        fields.extend(up.map(|up| ("up", up.to_string())));
                                                        fields.push(("based_on", based_on.to_string()));
                                                        fields
                                                    };
                                                    let shift = |up: bool| {
                                                        let (word, arrow, last) = if up {
                                                            ("up", "↑", i == 0)
                                                        } else {
                                                            ("down", "↓", i + 1 == count)
                                                        };
                                                        // Every change names the version shown, so a stale page is refused.
                                                        view! {
                                                            <RowAction
                                                                action=moved
                                                                hidden=hidden(Some(up))
                                                                label=arrow
                                                                disabled=last
                                                                title=format!("Move {word}")
                                                                aria_label=format!("Move {id} {word}")
                                                            />
                                                        }
                                                    };
                                                    view! {
                                                        <tr data-rule=id.clone()>
                                                            <td
                                                                class="num muted"
                                                                title=format!("priority {}", r.priority)
                                                            >
                                                                {i + 1}
                                                            </td>
                                                            <td>
                                                                <strong class="mono">{r.id.clone()}</strong>
                                                                <div class="muted small">{r.name.clone()}</div>
                                                            </td>
                                                            <td class="mono small">{r.when.clone()}</td>
                                                            <td class="mono small">
                                                                {r.condition.clone().unwrap_or_else(|| "—".into())}
                                                            </td>
                                                            <td>
                                                                <VerdictBadge verdict=r.verdict.clone() />
                                                                {r
                                                                    .exempt
                                                                    .then(|| {
                                                                        view! {
                                                                            <span class="badge" title="the thresholds do not apply">
                                                                                "exempt"
                                                                            </span>
                                                                        }
                                                                    })}
                                                                {r
                                                                    .escalation
                                                                    .clone()
                                                                    .map(|e| view! { <div class="muted small">{e}</div> })}
                                                            </td>
                                                            {edit
                                                                .then(|| {
                                                                    view! {
                                                                        <td class="row-actions">
                                                                            {shift(true)} {shift(false)}
                                                                            <a class="btn small" href=edit_href>
                                                                                "Edit"
                                                                            </a>
                                                                            <RowAction
                                                                                action=deleted
                                                                                hidden=hidden(None)
                                                                                label="Delete"
                                                                                button="btn small danger"
                                                                            >
                                                                                <ReasonInput placeholder="why delete" label=why_delete />
                                                                            </RowAction>
                                                                        </td>
                                                                    }
                                                                })}
                                                        </tr>
                                                    }
                                                })
                                                .collect_view()}
                                        </tbody>
                                    </table>
                                </div>
                                {edit
                                    .then(|| {
                                        view! {
                                            <p>
                                                <a class="btn primary" href="/policies/rules/edit">
                                                    "New rule"
                                                </a>
                                            </p>
                                        }
                                    })}
                                <Settings
                                    settings=p.settings
                                    edit=edit
                                    action=saved
                                    based_on
                                    flash
                                />
                            }
                        },
                    )
                })}
            </Transition>
        </Page>
    }
}

#[component]
fn Settings(
    settings: SettingsForm,
    edit: bool,
    action: ServerAction<SaveSettings>,
    based_on: i64,
    flash: Posted,
) -> impl IntoView {
    view! {
        <div class="card">
            <h2>"Thresholds and defaults"</h2>
            <ActionForm action=action attr:class="form-grid settings">
                <Refilled flash form=SETTINGS_FORM>
                    <Field
                        label="Review threshold (score ≥ → at least ESCALATE)"
                        name="settings[review_threshold]"
                        kind="number"
                        min=1
                        max=100
                        required=true
                        value=settings.review_threshold.clone()
                        readonly=!edit
                    />
                    <Field
                        label="Deny threshold (score ≥ → DENY)"
                        name="settings[deny_threshold]"
                        kind="number"
                        min=1
                        max=100
                        required=true
                        value=settings.deny_threshold.clone()
                        readonly=!edit
                    />
                    {[
                        ("low", "settings[default_low]", settings.default_low.clone()),
                        ("medium", "settings[default_medium]", settings.default_medium.clone()),
                        ("high", "settings[default_high]", settings.default_high.clone()),
                        (
                            "critical",
                            "settings[default_critical]",
                            settings.default_critical.clone(),
                        ),
                    ]
                        .into_iter()
                        .map(|(tier, name, selected)| {
                            view! {
                                <label>
                                    {format!("Default for {tier} operations")}
                                    <VerdictSelect name selected disabled=!edit />
                                </label>
                            }
                        })
                        .collect_view()}
                    <Field
                        label="Approval timeout when a rule names none (e.g. 1h, 30m)"
                        name="settings[approval_timeout]"
                        required=true
                        value=settings.approval_timeout.clone()
                        readonly=!edit
                    />
                    <Field
                        label="Longest grant an agent may ask for (e.g. 1h)"
                        name="settings[max_grant_ttl]"
                        required=true
                        value=settings.max_grant_ttl.clone()
                        readonly=!edit
                    />
                    <input type="hidden" name="based_on" value=based_on />
                    {edit
                        .then(|| {
                            view! {
                                <Field
                                    label="Why this change (kept in the audit trail)"
                                    name="reason"
                                    required=true
                                    wide=true
                                />
                            }
                        })}
                </Refilled>
                {edit.then(|| view! { <SubmitRow label="Save thresholds and defaults" /> })}
            </ActionForm>
        </div>
    }
}
