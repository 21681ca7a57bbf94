//! Create or edit a rule. The form posts without JavaScript; with it, every keystroke
//! is checked on the server (globs, CEL, ranges) and the problem is shown as you type.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use super::PolicyTabs;
use crate::components::messages::PostFlash;
use crate::components::messages::error_text;
use crate::components::page::Page;
use crate::components::table::{Loading, loaded};
use crate::server_fns::policy::{CheckRuleForm, SaveRule, load_rule_form};
use crate::types::RuleForm;

#[component]
pub fn RuleEditorPage() -> impl IntoView {
    let query = use_query_map();
    let id = move || query.read().get("id").unwrap_or_default();
    let save = ServerAction::<SaveRule>::new();
    let check = ServerAction::<CheckRuleForm>::new();
    let form = Resource::new(id, load_rule_form);
    let version = Signal::derive(move || save.version().get());
    view! {
        <Page
            title=move || {
                if id().is_empty() { "New rule".to_string() } else { format!("Edit rule {}", id()) }
            }
            intro="Saving makes a new policy version of the one you opened; the one before stays in the history. If another admin saved in between, reload and redo your edit."
        >
            <PolicyTabs current="/policies" />
            <PostFlash version />
            <Transition fallback=Loading>
                {move || Suspend::new(async move {
                    loaded(form.await, move |f| view! { <Editor form=f save check /> })
                })}
            </Transition>
        </Page>
    }
}

/// Sends the form's current fields to the server for checking.
fn validate(ev: leptos::ev::Event, check: ServerAction<CheckRuleForm>) {
    #[cfg(feature = "hydrate")]
    {
        use leptos::form::FromFormData;
        use leptos::wasm_bindgen::JsCast;
        let form = ev
            .current_target()
            .and_then(|t| t.dyn_into::<leptos::web_sys::Element>().ok())
            .and_then(|el| el.query_selector("form").ok().flatten())
            .and_then(|f| f.dyn_into::<leptos::web_sys::HtmlFormElement>().ok());
        if let Some(form) = form
            && let Ok(data) = leptos::web_sys::FormData::new_with_form(&form)
            && let Ok(args) = CheckRuleForm::from_form_data(&data)
        {
            check.dispatch(args);
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (ev, check);
}

#[component]
fn Editor(
    form: RuleForm,
    save: ServerAction<SaveRule>,
    check: ServerAction<CheckRuleForm>,
) -> impl IntoView {
    let f = form;
    let checkbox = |name: &'static str, on: &Option<String>, label: &'static str| {
        view! {
            <label class="check">
                <input type="checkbox" name=name checked=on.is_some() />
                {label}
            </label>
        }
    };
    let verdict = f.verdict.clone();
    let status = move || match check.value().get() {
        None => view! {
            <p class="validation muted" data-testid="validation">
                "Checked on the server as you type."
            </p>
        }
        .into_any(),
        Some(Ok(None)) => view! {
            <p class="validation ok" data-testid="validation">
                "✓ The rule compiles."
            </p>
        }
        .into_any(),
        Some(Ok(Some(problem))) => view! {
            <p class="validation error" role="alert" data-testid="validation">
                {problem}
            </p>
        }
        .into_any(),
        Some(Err(e)) => view! {
            <p class="validation error" role="alert" data-testid="validation">
                {error_text(&e)}
            </p>
        }
        .into_any(),
    };
    view! {
        <div class="card" on:input=move |ev| validate(ev, check)>
            <ActionForm action=save attr:class="form-grid rule-form">
                <input type="hidden" name="form[original_id]" value=f.original_id.clone() />
                <input type="hidden" name="form[based_on]" value=f.based_on.clone() />
                <label>
                    "Id"
                    <input
                        name="form[id]"
                        required
                        value=f.id.clone()
                        placeholder="change-close-over-one"
                        pattern="[A-Za-z0-9_.:-]+"
                    />
                </label>
                <label>
                    "Name"
                    <input
                        name="form[name]"
                        value=f.name.clone()
                        placeholder="What the rule is for"
                    />
                </label>
                <label>
                    "Priority (lower is checked first)"
                    <input name="form[priority]" type="number" value=f.priority.clone() />
                </label>
                <label>
                    "Then"
                    <select name="form[verdict]">
                        {["PERMIT", "ESCALATE", "DENY"]
                            .into_iter()
                            .map(|v| {
                                view! {
                                    <option value=v selected=v == verdict>
                                        {v}
                                    </option>
                                }
                            })
                            .collect_view()}
                    </select>
                </label>
                <fieldset class="wide">
                    <legend>"When"</legend>
                    <div class="form-grid">
                        <label>
                            "Connectors (globs, comma-separated)"
                            <input
                                name="form[connectors]"
                                value=f.connectors.clone()
                                placeholder="servicenow, crowd*"
                            />
                        </label>
                        <label>
                            "Operations (globs)"
                            <input
                                name="form[operations]"
                                value=f.operations.clone()
                                placeholder="changes:close, hosts:*"
                            />
                        </label>
                        <label>
                            "Agents (names or ids)"
                            <input
                                name="form[agents]"
                                value=f.agents.clone()
                                placeholder="remediation-agent"
                            />
                        </label>
                        <label>
                            "Agent labels (all must match)"
                            <input
                                name="form[labels]"
                                value=f.labels.clone()
                                placeholder="env:prod, team:ir"
                            />
                        </label>
                        <div class="checks">
                            <span class="label-text">"Risk tiers"</span>
                            {checkbox("form[tier_low]", &f.tier_low, "low")}
                            {checkbox("form[tier_medium]", &f.tier_medium, "medium")}
                            {checkbox("form[tier_high]", &f.tier_high, "high")}
                            {checkbox("form[tier_critical]", &f.tier_critical, "critical")}
                        </div>
                        <div class="pair">
                            <label>
                                "Score from"
                                <input
                                    name="form[min_score]"
                                    type="number"
                                    min="0"
                                    max="100"
                                    value=f.min_score.clone()
                                />
                            </label>
                            <label>
                                "to"
                                <input
                                    name="form[max_score]"
                                    type="number"
                                    min="0"
                                    max="100"
                                    value=f.max_score.clone()
                                />
                            </label>
                        </div>
                    </div>
                </fieldset>
                <label class="wide">
                    "If (a CEL condition; optional)"
                    <textarea
                        name="form[condition]"
                        rows="3"
                        class="mono"
                        placeholder="size(payload.change_ids) > 1"
                    >
                        {f.condition.clone()}
                    </textarea>
                    <span class="muted small hint">
                        "Variables: params (also payload), agent.{id, name, labels}, session.{context, actions, calls_last_60s}, target.{connector, operation, instance, environment, tier}, risk.{score, operation, connector, frequency, target}. A condition that fails to evaluate applies the rule when it escalates or denies."
                    </span>
                </label>
                <fieldset class="wide">
                    <legend>"When the verdict is ESCALATE"</legend>
                    <div class="form-grid">
                        <label>
                            "Approver groups"
                            <input
                                name="form[approvers]"
                                value=f.approvers.clone()
                                placeholder="secops-leads"
                            />
                        </label>
                        <label>
                            "Approvals needed"
                            <input
                                name="form[min_approvals]"
                                type="number"
                                min="1"
                                max="5"
                                value=f.min_approvals.clone()
                            />
                        </label>
                        <label>
                            "Timeout (silence means no)"
                            <input name="form[timeout]" value=f.timeout.clone() placeholder="4h" />
                        </label>
                        <div class="checks">
                            {checkbox(
                                "form[show_diff]",
                                &f.show_diff,
                                "show the payload diff to the approver",
                            )}
                            {checkbox(
                                "form[forbid_owner]",
                                &f.forbid_owner,
                                "the agent's owner may not approve",
                            )}
                            {checkbox(
                                "form[require_reason]",
                                &f.require_reason,
                                "approvers must write a reason",
                            )}
                        </div>
                    </div>
                </fieldset>
                <div class="wide checks">
                    {checkbox(
                        "form[exempt]",
                        &f.exempt,
                        "exempt from the thresholds (for named principals)",
                    )}
                    {checkbox(
                        "form[not_grantable]",
                        &f.not_grantable,
                        "no time-bound grant may stand in for this rule",
                    )}
                </div>
                <label class="wide">
                    "Why this change (kept in the audit trail)"
                    <input name="form[reason]" required value=f.reason.clone() />
                </label>
                <div class="wide">{status}</div>
                <div class="wide">
                    <button type="submit" class="btn primary">
                        "Save rule"
                    </button>
                    " "
                    <a href="/policies">"Cancel"</a>
                </div>
            </ActionForm>
        </div>
    }
}
