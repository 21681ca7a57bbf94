//! The Policy area: rules in evaluation order, the rule editor, the policy as YAML,
//! versions with diffs and rollback, and simulation. Admins change; everyone reads.

mod editor;
mod rules;
mod simulate;
mod versions;
mod yaml;

pub use editor::RuleEditorPage;
pub use rules::PoliciesPage;
pub use simulate::SimulatePage;
pub use versions::VersionsPage;
pub use yaml::PolicyYamlPage;

use leptos::prelude::*;

use crate::components::page::Tabs;

/// The tabs on top of every Policy page.
#[component]
fn PolicyTabs(current: &'static str) -> impl IntoView {
    const TABS: &[(&str, &str)] = &[
        ("/policies", "Rules"),
        ("/policies/yaml", "YAML"),
        ("/policies/versions", "Versions"),
        ("/policies/simulate", "Simulation"),
    ];
    view! { <Tabs label="Policy" tabs=TABS current /> }
}

/// A diff of two policy versions, line by line.
#[component]
fn DiffLines(lines: Vec<(char, String)>) -> impl IntoView {
    view! {
        <pre class="diff" data-testid="diff">
            {lines
                .into_iter()
                .map(|(tag, line)| {
                    let class = match tag {
                        '+' => "add",
                        '-' => "del",
                        _ => "same",
                    };
                    view! { <span class=class>{format!("{tag} {line}\n")}</span> }
                })
                .collect_view()}
        </pre>
    }
}

/// A verdict to choose: PERMIT, ESCALATE or DENY, `selected` chosen.
#[component]
fn VerdictSelect(
    name: &'static str,
    selected: String,
    #[prop(optional)] disabled: bool,
) -> impl IntoView {
    let selected = crate::components::form::Refill::here()
        .value(name)
        .unwrap_or(selected);
    view! {
        <select name=name disabled=disabled>
            {["PERMIT", "ESCALATE", "DENY"]
                .into_iter()
                .map(|v| {
                    view! {
                        <option value=v selected=v == selected>
                            {v}
                        </option>
                    }
                })
                .collect_view()}
        </select>
    }
}
