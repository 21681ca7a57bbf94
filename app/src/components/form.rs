//! Forms the pages share: the action on one row of a table (a small form of hidden ids and
//! one button), the reason a change asks for, a labelled field and the submit row. They
//! post to server functions, so they work with JavaScript off as `ActionForm` does.

use leptos::context::Provider;
use leptos::prelude::*;
use leptos::server_fn::client::Client;
use leptos::server_fn::codec::PostUrl;
use leptos::server_fn::request::ClientReq;
use leptos::server_fn::{Http, ServerFn};
use leptos::text_prop::TextProp;
use leptos::web_sys::FormData;
use serde::de::DeserializeOwned;

use crate::components::messages::{FlashMessage, Posted};
use crate::types::Flash;

/// The last refusal of the form around a field, for the fields to show what was typed and
/// what is wrong (see [`Refilled`]); none when the form was not refused.
#[derive(Debug, Clone, Default)]
pub struct Refill(Option<Flash>);

impl Refill {
    /// The refused form's value of `name`.
    pub fn value(&self, name: &str) -> Option<String> {
        self.0.as_ref().and_then(|f| f.value(name))
    }

    /// What is wrong with `name`, when the refusal is about it.
    pub fn error(&self, name: &str) -> Option<String> {
        self.0.as_ref().and_then(|f| f.error_for(name))
    }

    /// The whole refused form, when its fields are posted as `prefix[field]` (the
    /// inverse of the server's `form_values`).
    pub fn decode<T: DeserializeOwned>(&self, prefix: &str) -> Option<T> {
        let fields: serde_json::Map<String, serde_json::Value> = self
            .0
            .as_ref()?
            .values
            .iter()
            .filter_map(|(k, v)| {
                let field = k
                    .strip_prefix(prefix)?
                    .strip_prefix('[')?
                    .strip_suffix(']')?;
                Some((field.to_string(), serde_json::Value::String(v.clone())))
            })
            .collect();
        serde_json::from_value(serde_json::Value::Object(fields)).ok()
    }

    /// The refill of the form around the caller (none outside a [`Refilled`]).
    pub fn here() -> Self {
        use_context::<Refill>().unwrap_or_default()
    }
}

/// The inside of the form `form`, rendered again after each post: when the post was refused
/// (or only previewed), its fields hold what was typed ([`Field`] and [`TextField`] look it
/// up) and the message stands by the field at fault, or at the top of the form. Works with and
/// without JavaScript (the flash carries it across the reload).
#[component]
pub fn Refilled(
    flash: Posted,
    /// The name its server function gives the refusal (`flash_form`'s `form`).
    #[prop(into)]
    form: String,
    children: ChildrenFn,
) -> impl IntoView {
    view! {
        <Transition>
            {move || {
                let children = children.clone();
                let form = form.clone();
                Suspend::new(async move {
                    let kept = flash.await.ok().flatten().filter(|f| f.of_form(&form));
                    let message = kept.clone().filter(|f| f.field.is_none());
                    view! {
                        {message
                            .map(|flash| {
                                view! {
                                    <div class="wide">
                                        <FlashMessage flash />
                                    </div>
                                }
                            })}
                        <Provider value=Refill(kept)>{children()}</Provider>
                    }
                })
            }}
        </Transition>
    }
}

/// One action on one row (revoke, issue a key, delete...): an `ActionForm` posting the
/// `hidden` (name, value) pairs, what `children` adds (a field to fill in), and one submit
/// button. Generic over the server function as `ActionForm` is, with its bounds.
#[component]
pub fn RowAction<ServFn, OutputProtocol>(
    action: ServerAction<ServFn>,
    /// The hidden inputs naming what the action is on, as (name, value).
    hidden: Vec<(&'static str, String)>,
    /// The button's text.
    #[prop(into)]
    label: String,
    /// The button's classes.
    #[prop(default = "btn small")]
    button: &'static str,
    /// A block form, where the cell holds nothing else (otherwise `form.inline`).
    #[prop(optional)]
    block: bool,
    #[prop(optional)] disabled: bool,
    #[prop(optional, into)] title: Option<String>,
    /// The button's accessible name when its text is a symbol.
    #[prop(optional, into)]
    aria_label: Option<String>,
    /// Inputs the user fills in before pressing the button.
    #[prop(optional)]
    children: Option<Children>,
) -> impl IntoView
where
    ServFn: DeserializeOwned
        + ServerFn<Protocol = Http<PostUrl, OutputProtocol>>
        + Clone
        + Send
        + Sync
        + 'static,
    <<ServFn::Client as Client<ServFn::Error>>::Request as ClientReq<ServFn::Error>>::FormData:
        From<FormData>,
    ServFn::Output: Send + Sync + 'static,
    ServFn::Error: Send + Sync + 'static,
    <ServFn as ServerFn>::Client: Client<<ServFn as ServerFn>::Error>,
{
    view! {
        <ActionForm action attr:class=(!block).then_some("inline")>
            {hidden
                .into_iter()
                .map(|(name, value)| view! { <input type="hidden" name=name value=value /> })
                .collect_view()}
            {children.map(|fields| fields())}
            <button type="submit" class=button disabled=disabled title=title aria-label=aria_label>
                {label}
            </button>
        </ActionForm>
    }
}

/// The required reason a change is recorded with, for a [`RowAction`]'s children.
#[component]
pub fn ReasonInput(placeholder: &'static str, label: String) -> impl IntoView {
    view! { <input name="reason" required class="small" placeholder=placeholder aria-label=label /> }
}

/// A labelled input: `<label>label <input/></label>`, the input's attributes as props.
#[component]
pub fn Field(
    label: &'static str,
    name: &'static str,
    /// What the input holds when the page opens.
    #[prop(optional, into)]
    value: Option<String>,
    /// The input's `type` (text when not given).
    #[prop(optional)]
    kind: Option<&'static str>,
    #[prop(optional)] placeholder: Option<&'static str>,
    #[prop(optional)] min: Option<u32>,
    #[prop(optional)] max: Option<u32>,
    #[prop(optional)] maxlength: Option<u32>,
    #[prop(optional)] required: bool,
    #[prop(optional)] readonly: bool,
    #[prop(optional)] pattern: Option<&'static str>,
    #[prop(optional)] autocomplete: Option<&'static str>,
    /// The label spans the form grid's row.
    #[prop(optional)]
    wide: bool,
    /// What is wrong with the value, shown by the field (a refused post's message).
    #[prop(optional_no_strip)]
    error: Option<String>,
) -> impl IntoView {
    let refill = Refill::here();
    let value = refill.value(name).or(value);
    let error = error.or_else(|| refill.error(name));
    let error_id = field_id(name);
    let invalid = error.is_some();
    // The message stands outside the label, so it is the input's description, not part
    // of its name.
    view! {
        <div class=if wide { "field wide" } else { "field" }>
            <label>
                {label}
                <input
                    name=name
                    type=kind
                    min=min
                    max=max
                    maxlength=maxlength
                    required=required
                    readonly=readonly
                    value=value
                    placeholder=placeholder
                    pattern=pattern
                    autocomplete=autocomplete
                    aria-invalid=invalid.then_some("true")
                    aria-describedby=invalid.then_some(error_id.clone())
                />
            </label>
            <FieldError error id=error_id />
        </div>
    }
}

/// A labelled text area, as [`Field`] is for an input.
#[component]
pub fn TextField(
    #[prop(into)] label: TextProp,
    name: &'static str,
    /// What it holds when the page opens (what was typed wins after a refusal).
    #[prop(into)]
    value: String,
    rows: u32,
    #[prop(optional)] readonly: bool,
    /// Monospaced, for YAML and expressions.
    #[prop(optional)]
    code: bool,
    #[prop(optional)] placeholder: Option<&'static str>,
    /// A note under it.
    #[prop(optional)]
    hint: Option<&'static str>,
    #[prop(optional)] required: bool,
) -> impl IntoView {
    let refill = Refill::here();
    let value = refill.value(name).unwrap_or(value);
    let error = refill.error(name);
    let error_id = field_id(name);
    let invalid = error.is_some();
    view! {
        <div class="field wide">
            <label>
                {move || label.get()}
                <textarea
                    name=name
                    rows=rows
                    readonly=readonly
                    class=code.then_some("mono")
                    spellcheck=code.then_some("false")
                    placeholder=placeholder
                    required=required
                    aria-invalid=invalid.then_some("true")
                    aria-describedby=invalid.then_some(error_id.clone())
                >
                    {value}
                </textarea>
            </label>
            {hint.map(|h| view! { <span class="muted small hint">{h}</span> })}
            <FieldError error id=error_id />
        </div>
    }
}

/// The id of the message about the field `name` (`form[x]` → `form-x-error`).
pub fn field_id(name: &str) -> String {
    let id: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    format!("{}-error", id.trim_end_matches('-'))
}

/// What is wrong with a field, by it (`id` is what the field's `aria-describedby` names).
#[component]
pub fn FieldError(error: Option<String>, id: String) -> impl IntoView {
    error.map(|e| {
        view! {
            <span class="field-error" id=id role="alert">
                {e}
            </span>
        }
    })
}

/// The row that ends a form: its submit button (and what `children` puts after it).
#[component]
pub fn SubmitRow(
    #[prop(into)] label: TextProp,
    #[prop(optional)] children: Option<Children>,
) -> impl IntoView {
    view! {
        <div class="wide">
            <button type="submit" class="btn primary">
                {move || label.get()}
            </button>
            {children.map(|after| after())}
        </div>
    }
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::Refill;
    use crate::server_fns::policy::ssr::form_field;
    use crate::server_fns::ssr::form_values;
    use crate::types::{Flash, RuleForm};

    #[test]
    fn a_refused_rule_form_comes_back_as_it_was_typed_with_its_checkboxes() {
        let typed = RuleForm {
            id: "close-over-one".into(),
            condition: "size(payload.change_ids) >".into(),
            verdict: "ESCALATE".into(),
            show_diff: Some("on".into()),
            tier_high: Some("on".into()),
            based_on: "7".into(),
            ..Default::default()
        };
        let flash = Flash {
            ok: false,
            message: "if is not valid CEL".into(),
            secret: None,
            form: Some("rule".into()),
            field: Some("form[condition]".into()),
            values: form_values("form", &typed),
        };
        let refill = Refill(Some(flash));
        assert_eq!(refill.decode::<RuleForm>("form"), Some(typed));
        assert_eq!(
            refill.error("form[condition]").as_deref(),
            Some("if is not valid CEL")
        );
        assert_eq!(refill.error("form[id]"), None);
        // Another prefix is another form: nothing of it.
        assert_eq!(refill.value("form[id]").as_deref(), Some("close-over-one"));
        assert_eq!(refill.value("id"), None);
    }

    #[test]
    fn a_rule_error_names_the_editor_field_it_is_about() {
        for (error, field) in [
            ("when.connectors[0] 'a b'", Some("form[connectors]")),
            ("when.min_score/max_score", Some("form[min_score]")),
            ("then", Some("form[verdict]")),
            ("if", Some("form[condition]")),
            ("approvers[2]", Some("form[approvers]")),
            ("when.selector", Some("form[selector]")),
            ("timeout", Some("form[timeout]")),
            ("show_diff", None),
            ("forbid_owner_approval", None),
        ] {
            assert_eq!(form_field(error).as_deref(), field, "{error}");
        }
    }
}
