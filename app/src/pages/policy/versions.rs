//! Every version of the policy with who saved it and why, the diff between any two,
//! and rollback.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use super::{DiffLines, PolicyTabs};
use crate::components::form::{ReasonInput, RowAction};
use crate::components::me::{is_admin, signed_in};
use crate::components::messages::PostFlash;
use crate::components::messages::{ErrorBox, error_text};
use crate::components::page::Page;
use crate::components::table::{Loading, headers, loaded, rows_table};
use crate::components::when::When;
use crate::server_fns::policy::{RollbackPolicy, policy_diff, policy_versions};

#[component]
pub fn VersionsPage() -> impl IntoView {
    let query = use_query_map();
    let rollback = ServerAction::<RollbackPolicy>::new();
    let version = Signal::derive(move || rollback.version().get());
    let versions = Resource::new(move || version.get(), |_| policy_versions());
    let me = signed_in();
    let pair = move || {
        let q = query.read();
        let n = |k: &str| q.get(k).and_then(|v| v.parse::<i64>().ok());
        (n("from"), n("to"))
    };
    let diff = Resource::new(pair, |(from, to)| async move {
        match (from, to) {
            (Some(f), Some(t)) => policy_diff(f, t).await.map(Some),
            _ => Ok(None),
        }
    });
    view! {
        <Page
            title="Policy versions"
            intro="Versions never change. Rolling back saves the old content as a new version, recorded in the audit trail with your reason like any change."
        >
            <PolicyTabs current="/policies/versions" />
            <PostFlash version />
            <Transition fallback=Loading>
                {move || Suspend::new(async move {
                    let admin = is_admin(me).await;
                    loaded(
                        versions.await,
                        move |rows| {
                            let (from, to) = pair();
                            let newest = rows.first().map(|r| r.version).unwrap_or(0);
                            let from = from.unwrap_or((newest - 1).max(0));
                            let to = to.unwrap_or(newest);
                            let options = move |selected: i64| {
                                (0..=newest)
                                    .rev()
                                    .map(|v| {
                                        view! {
                                            <option value=v selected=v == selected>
                                                {format!("v{v}")}
                                            </option>
                                        }
                                    })
                                    .collect_view()
                            };
                            view! {
                                <div class="card">
                                    <form
                                        method="get"
                                        action="/policies/versions"
                                        class="diff-pick"
                                    >
                                        <label>
                                            "Compare"<select name="from">{options(from)}</select>
                                        </label>
                                        <label>
                                            "with"<select name="to">{options(to)}</select>
                                        </label>
                                        <button type="submit" class="btn">
                                            "Show diff"
                                        </button>
                                    </form>
                                </div>
                                <div class="card flush">
                                    {rows_table(
                                        "table",
                                        None,
                                        view! {
                                            {headers(
                                                &["Version", "Saved", "By", "Message", "What changed"],
                                            )}
                                            <th class="num">"Rules"</th>
                                            <th></th>
                                        },
                                        rows,
                                        move |v| {
                                            view! {
                                                <tr data-version=v.version>
                                                    <td>
                                                        <strong>{format!("v{}", v.version)}</strong>
                                                        {v
                                                            .current
                                                            .then(|| {
                                                                view! {
                                                                    " "
                                                                    <span class="badge verdict-permit">"in force"</span>
                                                                }
                                                            })}
                                                    </td>
                                                    <td class="nowrap">
                                                        <When utc=v.created />
                                                    </td>
                                                    <td>{v.author}</td>
                                                    <td>{v.message}</td>
                                                    <td class="small">{v.summary}</td>
                                                    <td class="num">{v.rules}</td>
                                                    <td class="row-actions">
                                                        {(v.version > 0)
                                                            .then(|| {
                                                                view! {
                                                                    <a
                                                                        class="btn small"
                                                                        href=format!(
                                                                            "/policies/versions?from={}&to={}",
                                                                            v.version - 1,
                                                                            v.version,
                                                                        )
                                                                    >
                                                                        "Diff"
                                                                    </a>
                                                                }
                                                            })}
                                                        {(admin && !v.current)
                                                            .then(|| {
                                                                view! {
                                                                    <RowAction
                                                                        action=rollback
                                                                        hidden=vec![("version", v.version.to_string())]
                                                                        label=format!("Roll back to v{}", v.version)
                                                                    >
                                                                        <ReasonInput
                                                                            placeholder="why roll back"
                                                                            label=format!("Why roll back to v{}", v.version)
                                                                        />
                                                                    </RowAction>
                                                                }
                                                            })}
                                                    </td>
                                                </tr>
                                            }
                                        },
                                    )}
                                </div>
                            }
                        },
                    )
                })}
            </Transition>
            <Transition>
                {move || Suspend::new(async move {
                    match diff.await {
                        Err(e) => Some(view! { <ErrorBox message=error_text(&e) /> }.into_any()),
                        Ok(None) => None,
                        Ok(Some(d)) => {
                            Some(
                                view! {
                                    <div class="card">
                                        <h2>
                                            {format!("v{} → v{}: {}", d.from, d.to, d.summary)}
                                        </h2>
                                        <DiffLines lines=d.lines />
                                    </div>
                                }
                                    .into_any(),
                            )
                        }
                    }
                })}
            </Transition>
        </Page>
    }
}
