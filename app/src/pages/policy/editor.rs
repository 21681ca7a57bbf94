//! Create or edit a rule. The form posts without JavaScript; with it, every keystroke
//! is checked on the server (globs, CEL, ranges) and the problem is shown as you type.

use leptos::prelude::*;

use super::{PolicyTabs, VerdictSelect};
use crate::components::form::{Field, Refill, Refilled, SubmitRow, TextField};
use crate::components::messages::{ShownFlash, error_text, posted};
use crate::components::page::{Page, query_param};
use crate::components::table::Loaded;
use crate::server_fns::policy::{CheckRuleForm, RULE_FORM, SaveRule, load_rule_form};
use crate::types::RuleForm;

#[component]
pub fn RuleEditorPage() -> impl IntoView {
    let id = query_param("id");
    let save = ServerAction::<SaveRule>::new();
    let check = ServerAction::<CheckRuleForm>::new();
    let form = Resource::new(id, load_rule_form);
    let version = Signal::derive(move || save.version().get());
    let flash = posted(version);
    view! {
        <Page
            title=move || {
                if id().is_empty() { "New rule".to_string() } else { format!("Edit rule {}", id()) }
            }
            intro="Saving makes a new policy version of the one you opened; the one before stays in the history. If another admin saved in between, reload and redo your edit."
        >
            <PolicyTabs current="/policies" />
            <ShownFlash flash />
            <Loaded data=form let:f>
                <Refilled flash form=RULE_FORM>
                    <Editor form=f.clone() save check />
                </Refilled>
            </Loaded>
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
    // After a refusal, what the admin typed, not the rule as saved.
    let f = Refill::here().decode::<RuleForm>("form").unwrap_or(form);
    let checkbox = |name: &'static str, on: &Option<String>, label: &'static str| {
        view! {
            <label class="check">
                <input type="checkbox" name=name checked=on.is_some() />
                {label}
            </label>
        }
    };
    let status = move || {
        let (class, alert, text) = match check.value().get() {
            None => (
                "validation muted",
                false,
                "Checked on the server as you type.".into(),
            ),
            Some(Ok(None)) => ("validation ok", false, "✓ The rule compiles.".into()),
            Some(Ok(Some(problem))) => ("validation error", true, problem),
            Some(Err(e)) => ("validation error", true, error_text(&e)),
        };
        view! {
            <p class=class role=alert.then_some("alert") data-testid="validation">
                {text}
            </p>
        }
    };
    // The globs a rule matches calls by: (label, name, value, placeholder).
    let globs = [
        (
            "Connectors (globs, comma-separated)",
            "form[connectors]",
            f.connectors.clone(),
            "servicenow, crowd*",
        ),
        (
            "Operations (globs)",
            "form[operations]",
            f.operations.clone(),
            "changes:close, hosts:*",
        ),
        (
            "Agents (names or ids)",
            "form[agents]",
            f.agents.clone(),
            "remediation-agent",
        ),
        (
            "Agent labels (all must match)",
            "form[labels]",
            f.labels.clone(),
            "env:prod, team:ir",
        ),
        (
            "Agent label selector",
            "form[selector]",
            f.selector.clone(),
            "env in (prod,staging), !pilot",
        ),
    ]
    .map(|(label, name, value, placeholder)| view! { <Field label name value placeholder /> })
    .collect_view();
    view! {
        <div class="card" on:input=move |ev| validate(ev, check)>
            <ActionForm action=save attr:class="form-grid rule-form">
                <input type="hidden" name="form[original_id]" value=f.original_id.clone() />
                <input type="hidden" name="form[based_on]" value=f.based_on.clone() />
                <Field
                    label="Id"
                    name="form[id]"
                    required=true
                    value=f.id.clone()
                    placeholder="change-close-over-one"
                    pattern="[A-Za-z0-9_.:-]+"
                />
                <Field
                    label="Name"
                    name="form[name]"
                    value=f.name.clone()
                    placeholder="What the rule is for"
                />
                <Field
                    label="Priority (lower is checked first)"
                    name="form[priority]"
                    kind="number"
                    value=f.priority.clone()
                />
                <label>
                    "Then" <VerdictSelect name="form[verdict]" selected=f.verdict.clone() />
                </label>
                <fieldset class="wide">
                    <legend>"When"</legend>
                    <div class="form-grid">
                        {globs} <div class="checks">
                            <span class="label-text">"Risk tiers"</span>
                            {checkbox("form[tier_low]", &f.tier_low, "low")}
                            {checkbox("form[tier_medium]", &f.tier_medium, "medium")}
                            {checkbox("form[tier_high]", &f.tier_high, "high")}
                            {checkbox("form[tier_critical]", &f.tier_critical, "critical")}
                        </div> <div class="pair">
                            <Field
                                label="Score from"
                                name="form[min_score]"
                                kind="number"
                                min=0
                                max=100
                                value=f.min_score.clone()
                            />
                            <Field
                                label="to"
                                name="form[max_score]"
                                kind="number"
                                min=0
                                max=100
                                value=f.max_score.clone()
                            />
                        </div>
                    </div>
                </fieldset>
                <TextField
                    label="If (a CEL condition; optional)"
                    name="form[condition]"
                    rows=3
                    code=true
                    value=f.condition.clone()
                    placeholder="size(payload.change_ids) > 1"
                    hint="Variables: params (also payload), agent.{id, name, labels}, session.{context, actions, calls_last_60s}, target.{connector, operation, instance, environment, tier}, risk.{score, operation, connector, frequency, target}. A condition that fails to evaluate applies the rule when it escalates or denies."
                />
                <fieldset class="wide">
                    <legend>"When the verdict is ESCALATE"</legend>
                    <div class="form-grid">
                        <Field
                            label="Approver groups"
                            name="form[approvers]"
                            value=f.approvers.clone()
                            placeholder="secops-leads"
                        />
                        <Field
                            label="Approvals needed"
                            name="form[min_approvals]"
                            kind="number"
                            min=1
                            max=5
                            value=f.min_approvals.clone()
                        />
                        <Field
                            label="Timeout (silence means no)"
                            name="form[timeout]"
                            value=f.timeout.clone()
                            placeholder="4h"
                        />
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
                <Field
                    label="Why this change (kept in the audit trail)"
                    name="form[reason]"
                    required=true
                    value=f.reason.clone()
                    wide=true
                />
                <div class="wide">{status}</div>
                <SubmitRow label="Save rule">" " <a href="/policies">"Cancel"</a></SubmitRow>
            </ActionForm>
        </div>
    }
}
