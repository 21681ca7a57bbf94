//! The whole policy as YAML, as it lives in git: preview what a change does, then apply
//! it as a new version.

use leptos::prelude::*;

use super::{DiffLines, PolicyTabs};
use crate::components::form::{Field, Refilled, TextField};
use crate::components::messages::{ErrorBox, ShownFlash, error_text, posted};
use crate::components::page::Page;
use crate::components::table::Loaded;
use crate::server_fns::policy::{ApplyYaml, YAML_FORM, policy_overview};

#[component]
pub fn PolicyYamlPage() -> impl IntoView {
    let apply = ServerAction::<ApplyYaml>::new();
    let version = Signal::derive(move || apply.version().get());
    // Reloaded after an apply that made a version, so the next apply is based on it.
    let applied = Signal::derive(move || {
        apply
            .value()
            .get()
            .and_then(Result::ok)
            .filter(|v| v.message.starts_with("Applied"))
            .and_then(|v| v.diff.map(|d| d.to))
    });
    let data = Resource::new(move || applied.get(), |_| policy_overview());
    let flash = posted(version);
    view! {
        <Page
            title="Policy as YAML"
            intro=view! {
                "The same format as "
                <code>"arx policy export"</code>
                " and "
                <code>"arx policy apply"</code>
                ". Preview shows what would change; nothing is applied until you apply."
            }
        >
            <PolicyTabs current="/policies/yaml" />
            <ShownFlash flash />
            <Loaded data=data let:p>
                <div class="card">
                    <ActionForm action=apply>
                        <Refilled flash form=YAML_FORM>
                            <TextField
                                label="The policy"
                                name="yaml"
                                rows=22
                                code=true
                                readonly=!p.can_edit
                                value=p.yaml.clone()
                            />
                            {p
                                .can_edit
                                .then(|| {
                                    view! {
                                        <Field
                                            label="Why this change (kept in the audit trail; needed to apply)"
                                            name="reason"
                                            wide=true
                                        />
                                    }
                                })}
                        </Refilled>
                        <input type="hidden" name="based_on" value=p.version />
                        {p
                            .can_edit
                            .then(|| {
                                view! {
                                    <p class="actions">
                                        <button type="submit" class="btn">
                                            "Preview changes"
                                        </button>
                                        <button
                                            type="submit"
                                            class="btn primary"
                                            name="apply"
                                            value="1"
                                        >
                                            "Apply as a new version"
                                        </button>
                                    </p>
                                }
                            })}
                    </ActionForm>
                </div>
            </Loaded>
            {move || {
                apply
                    .value()
                    .get()
                    .map(|r| match r {
                        Err(e) => view! { <ErrorBox message=error_text(&e) /> }.into_any(),
                        Ok(v) => {
                            v.diff
                                .map(|d| {
                                    view! {
                                        <div class="card" data-testid="apply-result">
                                            <h2>
                                                {format!(
                                                    "v{} → {}: {}",
                                                    d.from,
                                                    if v.message.starts_with("Applied") {
                                                        format!("v{}", d.to)
                                                    } else {
                                                        "draft".to_string()
                                                    },
                                                    d.summary,
                                                )}
                                            </h2>
                                            <DiffLines lines=d.lines />
                                        </div>
                                    }
                                })
                                .into_any()
                        }
                    })
            }}
        </Page>
    }
}
