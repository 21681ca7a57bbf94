//! A moment, as people read it: the page is sent with UTC ("2026-11-27 22:10 UTC", so it
//! reads the same without JavaScript), and once it runs in the browser the text becomes
//! the viewer's own zone, named ("27 Nov 2026, 23:10 CET"), with UTC on hover.

use leptos::prelude::*;

/// `utc` as the server functions write it (`YYYY-MM-DD HH:MM`, UTC).
#[component]
pub fn When(#[prop(into)] utc: String) -> impl IntoView {
    let iso = format!("{}Z", utc.replacen(' ', "T", 1));
    let shown = format!("{utc} UTC");
    let text = RwSignal::new(shown.clone());
    // Effects run in the browser only: the server's HTML keeps UTC.
    Effect::new({
        let iso = iso.clone();
        move |_| {
            if let Some(local) = local(&iso) {
                text.set(local);
            }
        }
    });
    view! {
        <time datetime=iso title=shown>
            {text}
        </time>
    }
}

/// `iso` in the browser's zone and language, with the zone's short name.
#[cfg(feature = "hydrate")]
fn local(iso: &str) -> Option<String> {
    use js_sys::{Array, Date, Intl, Object, Reflect};
    use wasm_bindgen::JsValue;
    let date = Date::new(&JsValue::from_str(iso));
    if date.get_time().is_nan() {
        return None;
    }
    let options = Object::new();
    for (k, v) in [
        ("year", "numeric"),
        ("month", "short"),
        ("day", "numeric"),
        ("hour", "2-digit"),
        ("minute", "2-digit"),
        ("timeZoneName", "short"),
    ] {
        Reflect::set(&options, &k.into(), &v.into()).ok()?;
    }
    let format = Intl::DateTimeFormat::new(&Array::new(), &options).format();
    format.call1(&JsValue::NULL, &date).ok()?.as_string()
}

#[cfg(not(feature = "hydrate"))]
fn local(_: &str) -> Option<String> {
    None
}
