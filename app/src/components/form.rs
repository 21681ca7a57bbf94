//! Forms the pages share: the action on one row of a table (a small form of hidden ids and
//! one button), the reason a change asks for, a labelled field and the submit row. They
//! post to server functions, so they work with JavaScript off as `ActionForm` does.

use leptos::prelude::*;
use leptos::server_fn::client::Client;
use leptos::server_fn::codec::PostUrl;
use leptos::server_fn::request::ClientReq;
use leptos::server_fn::{Http, ServerFn};
use leptos::text_prop::TextProp;
use leptos::web_sys::FormData;
use serde::de::DeserializeOwned;

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
    /// The label spans the form grid's row.
    #[prop(optional)]
    wide: bool,
    /// What is wrong with the value, shown by the field (a refused post's message).
    #[prop(optional_no_strip)]
    error: Option<String>,
) -> impl IntoView {
    let error_id = format!("{name}-error");
    let invalid = error.is_some();
    view! {
        <label class=wide
            .then_some(
                "wide",
            )>
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
                aria-invalid=invalid.then_some("true")
                aria-describedby=invalid.then_some(error_id.clone())
            />
            {error
                .map(|e| {
                    view! {
                        <span class="field-error" id=error_id role="alert">
                            {e}
                        </span>
                    }
                })}
        </label>
    }
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
