//! Audit → Witness: the org's checkpoint signing key (its public half to download), the
//! newest signed checkpoints, and each witness with how far it got, when it last
//! answered and what went wrong; admins add or remove S3-compatible buckets and sign a
//! checkpoint now. How an auditor checks it all: docs/audit.md.

use leptos::prelude::*;

use crate::components::form::{Field, Refilled, RowAction, SubmitRow};
use crate::components::me::{OnlyFor, signed_in};
use crate::components::messages::{Posted, ShownFlash, posted};
use crate::components::page::Page;
use crate::components::table::{Loaded, headers, rows_table};
use crate::components::when::When;
use crate::server_fns::witness::{AddWitness, CheckpointNow, RemoveWitness, witness_status};
use crate::types::{WitnessSinkRow, WitnessView};

#[component]
pub fn WitnessPage() -> impl IntoView {
    let add = ServerAction::<AddWitness>::new();
    let remove = ServerAction::<RemoveWitness>::new();
    let now = ServerAction::<CheckpointNow>::new();
    let version =
        Signal::derive(move || add.version().get() + remove.version().get() + now.version().get());
    let data = Resource::new(move || version.get(), |_| witness_status());
    let flash = posted(version);
    let me = signed_in();
    view! {
        <Page
            title="Witness"
            intro=view! {
                <a href="/audit">"← the audit trail"</a>
                " · The tip of the chain is signed with the org's key and written where ARX can add but never change or delete. With the public key and a witness, anyone can check an export offline: "
                <code>"arx audit verify --export FILE --witness DIR --public-key KEY.pem"</code>
                " (docs/audit.md)."
            }
        >
            <ShownFlash flash />
            <Loaded data let:w>
                <Coverage w=w.clone() />
                <Key w=w.clone() />
                <Witnesses w=w.clone() remove me />
                <Checkpoints w=w.clone() now me />
            </Loaded>
            <OnlyFor me who=|m| m.is_admin>
                <AddBucket add flash />
            </OnlyFor>
        </Page>
    }
}

/// How much of the chain is signed, and how much each witness holds: one bar each.
#[component]
fn Coverage(w: WitnessView) -> impl IntoView {
    let head = w.head_seq.max(1);
    let pct = |seq: i64| {
        format!(
            "width: {:.1}%",
            (seq.clamp(0, head) as f64) * 100.0 / head as f64
        )
    };
    let signed = w.checkpoints.first().map_or(0, |c| c.seq);
    let bar = move |label: String, seq: i64, class: &'static str| {
        view! {
            <div class="coverage-row">
                <span class="coverage-label">{label}</span>
                <span
                    class="coverage-track"
                    role="img"
                    aria-label=format!("up to seq {seq} of {head}")
                >
                    <span class=format!("coverage-fill {class}") style=pct(seq)></span>
                </span>
                <span class="coverage-num mono">{format!("{seq} / {}", w.head_seq)}</span>
            </div>
        }
    };
    view! {
        <div class="card coverage" data-coverage="">
            <h2>"How much of the chain is witnessed"</h2>
            <p class="muted small">
                {format!(
                    "A checkpoint is signed every {} when the chain moved. Records after the newest checkpoint are covered at the next one.",
                    every(w.interval_seconds),
                )}
            </p>
            {bar("signed".into(), signed, "signed")}
            {w
                .sinks
                .iter()
                .map(|s| {
                    let class = if s.last_error.is_some() { "failing" } else { "held" };
                    bar(s.name.clone(), s.cursor_seq, class)
                })
                .collect_view()}
        </div>
    }
}

fn every(secs: u64) -> String {
    match secs {
        s if s % 3600 == 0 => format!("{} h", s / 3600),
        s if s % 60 == 0 => format!("{} min", s / 60),
        s => format!("{s} s"),
    }
}

#[component]
fn Key(w: WitnessView) -> impl IntoView {
    view! {
        <div class="card" id="signing-key">
            <div class="request-head">
                <h2>"Signing key"</h2>
                <a class="btn small" href="/audit/public-key.pem" rel="external" download="">
                    "Download public key (.pem)"
                </a>
            </div>
            <dl class="facts">
                <dt>"Key id"</dt>
                <dd class="mono" data-key-id="">
                    {w.key_id}
                </dd>
                <dt>"Algorithm"</dt>
                <dd>"Ed25519; the private half is sealed by the vault and never leaves ARX"</dd>
                <dt>"Created"</dt>
                <dd>
                    <When utc=w.key_created />
                </dd>
            </dl>
            <pre class="fields whole">{w.public_key_pem}</pre>
        </div>
    }
}

#[component]
fn Witnesses(
    w: WitnessView,
    remove: ServerAction<RemoveWitness>,
    me: crate::components::me::MeResource,
) -> impl IntoView {
    view! {
        <div class="card" id="witnesses">
            <h2>"Witnesses"</h2>
            {rows_table(
                "table",
                None,
                view! {
                    {headers(
                        &[
                            "Name",
                            "Where",
                            "Written up to",
                            "Waiting",
                            "Last write",
                            "Last error",
                            "",
                        ],
                    )}
                },
                w.sinks,
                move |s: WitnessSinkRow| {
                    let removable = s.kind != "directory";
                    let id = s.id.clone();
                    let key = s.name.clone();
                    view! {
                        <tr data-witness=key>
                            <td>{s.name}</td>
                            <td class="mono small">{s.place}</td>
                            <td class="mono">{format!("seq {}", s.cursor_seq)}</td>
                            <td data-pending=s.pending.to_string()>{s.pending}</td>
                            <Delivery last_ok=s.last_ok last_error=s.last_error />
                            <td>
                                {removable
                                    .then(|| {
                                        view! {
                                            <OnlyFor me who=|m| m.is_admin>
                                                <RowAction
                                                    action=remove
                                                    hidden=vec![("id", id.clone())]
                                                    label="Remove"
                                                    button="btn small danger"
                                                />
                                            </OnlyFor>
                                        }
                                    })}
                            </td>
                        </tr>
                    }
                },
            )}
        </div>
    }
}

/// A sink's last successful write and its last error since (two cells), for witnesses
/// and streams alike.
#[component]
pub fn Delivery(last_ok: Option<String>, last_error: Option<(String, String)>) -> impl IntoView {
    view! {
        <td>
            {match last_ok {
                Some(t) => view! { <When utc=t /> }.into_any(),
                None => view! { <span class="muted">"never"</span> }.into_any(),
            }}
        </td>
        <td class="small">
            {match last_error {
                Some((at, e)) => {
                    view! {
                        <span class="error-text">{e}</span>
                        " "
                        <When utc=at />
                    }
                        .into_any()
                }
                None => view! { <span class="muted">"—"</span> }.into_any(),
            }}
        </td>
    }
}

#[component]
fn Checkpoints(
    w: WitnessView,
    now: ServerAction<CheckpointNow>,
    me: crate::components::me::MeResource,
) -> impl IntoView {
    view! {
        <div class="card" id="checkpoints">
            <div class="request-head">
                <h2>"Newest checkpoints"</h2>
                <OnlyFor me who=|m| m.is_admin>
                    <RowAction action=now hidden=vec![] label="Checkpoint now" />
                </OnlyFor>
            </div>
            {w
                .checkpoints
                .is_empty()
                .then(|| {
                    view! {
                        <p class="muted">
                            "No checkpoint yet: the first comes one interval after the server started, or now."
                        </p>
                    }
                })}
            {rows_table(
                "table",
                None,
                view! { {headers(&["Seq", "Signed", "Hash"])} },
                w.checkpoints,
                |c| {
                    view! {
                        <tr data-checkpoint=c.seq.to_string()>
                            <td class="mono">
                                <a href=format!(
                                    "/audit?kind=audit.checkpoint&order=newest&cursor={}",
                                    c.seq + 1,
                                )>{c.seq}</a>
                            </td>
                            <td>
                                <When utc=c.signed />
                            </td>
                            <td class="mono small hash-full">{c.hash}</td>
                        </tr>
                    }
                },
            )}
        </div>
    }
}

#[component]
fn AddBucket(add: ServerAction<AddWitness>, flash: Posted) -> impl IntoView {
    view! {
        <div class="card" id="add-witness">
            <h2>"Add an S3-compatible bucket"</h2>
            <p class="muted small">
                "Checkpoints are written with If-None-Match: * (create-only). Give ARX a key that may only put objects, and make the bucket refuse overwrites and deletes (Object Lock, or a bucket policy): then ARX can add but never take back."
            </p>
            <ActionForm action=add attr:class="form-grid">
                <Refilled flash form="add-witness">
                    <Field label="Name" name="name" required=true />
                    <Field label="Bucket" name="bucket" required=true />
                    <Field label="Prefix" name="prefix" placeholder="arx" />
                    <Field label="Region" name="region" placeholder="us-east-1" />
                    <Field
                        label="Endpoint (S3-compatible services)"
                        name="endpoint"
                        placeholder="https://s3.example.com"
                    />
                    <Field
                        label="Access key id"
                        name="access_key_id"
                        required=true
                        autocomplete="off"
                    />
                    <Field
                        label="Secret access key"
                        name="secret_access_key"
                        kind="password"
                        required=true
                        autocomplete="off"
                    />
                </Refilled>
                <SubmitRow label="Add" />
            </ActionForm>
        </div>
    }
}
