//! Badges for verdicts, risk, tiers and statuses: colour plus text, never colour alone.

use leptos::prelude::*;

#[component]
pub fn VerdictBadge(verdict: String) -> impl IntoView {
    let class = format!("badge verdict-{}", verdict.to_ascii_lowercase());
    view! { <span class=class>{verdict}</span> }
}

/// The band a risk score falls in, for colour.
pub fn risk_band(score: u8) -> &'static str {
    match score {
        0..=29 => "low",
        30..=59 => "medium",
        60..=89 => "high",
        _ => "critical",
    }
}

#[component]
pub fn RiskBadge(score: u8) -> impl IntoView {
    let band = risk_band(score);
    view! {
        <span class=format!("risk risk-{band}") title=format!("risk {score}/100 ({band})")>
            <span class="risk-bar">
                <span class="risk-fill" style=format!("width:{score}%")></span>
            </span>
            <span class="risk-num">{score}</span>
        </span>
    }
}

#[component]
pub fn TierBadge(tier: String) -> impl IntoView {
    view! { <span class=format!("badge tier-{tier}")>{tier.clone()}</span> }
}

/// Beside an owner who is no longer an active user of the org.
#[component]
pub fn OwnerInactive(inactive: bool) -> impl IntoView {
    inactive.then(|| {
        view! {
            " "
            <span
                class="badge warn"
                title="The owner is no longer an active user of this org: name a new accountable person."
            >
                "owner inactive"
            </span>
        }
    })
}

#[component]
pub fn StatusBadge(status: String) -> impl IntoView {
    view! { <span class=format!("badge status-{status}")>{status.clone()}</span> }
}

/// An agent's labels, each as `key:value`.
#[component]
pub fn Labels(labels: Vec<(String, String)>) -> impl IntoView {
    labels
        .into_iter()
        .map(|(k, v)| view! { <span class="label">{format!("{k}:{v}")}</span> })
        .collect_view()
}
