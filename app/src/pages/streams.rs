//! Audit → Streams: the org's audit trail sent to SIEMs (Splunk HEC, syslog, signed
//! webhooks), each with how far behind it is and what last went wrong; admins add,
//! test and remove them. Details: docs/audit.md.

use leptos::prelude::*;

use crate::components::form::{Field, Refill, Refilled, RowAction, SubmitRow};
use crate::components::me::{MeResource, OnlyFor, signed_in};
use crate::components::messages::{Posted, ShownFlash, posted};
use crate::components::page::Page;
use crate::components::table::{Loaded, headers, rows_table};
use crate::pages::witness::Delivery;
use crate::server_fns::witness::{AddStream, RemoveStream, TestStream, list_streams};
use crate::types::StreamRow;

#[component]
pub fn StreamsPage() -> impl IntoView {
    let add = ServerAction::<AddStream>::new();
    let remove = ServerAction::<RemoveStream>::new();
    let test = ServerAction::<TestStream>::new();
    let version =
        Signal::derive(move || add.version().get() + remove.version().get() + test.version().get());
    let data = Resource::new(move || version.get(), |_| list_streams());
    let flash = posted(version);
    let me = signed_in();
    view! {
        <Page
            title="Streams"
            intro=view! {
                <a href="/audit">"← the audit trail"</a>
                " · Every record goes to each stream in order, with its seq and hash, so the SIEM can check the chain. A stream that is down catches up from where it stopped: nothing is lost."
            }
        >
            <ShownFlash flash />
            <Loaded data let:rows>
                <div class="card" id="streams">
                    {if rows.is_empty() {
                        view! { <p class="muted">"No stream yet."</p> }.into_any()
                    } else {
                        view! { <StreamTable rows remove test me /> }.into_any()
                    }}
                </div>
            </Loaded>
            <OnlyFor me who=|m| m.is_admin>
                <AddStreamForm add flash />
            </OnlyFor>
        </Page>
    }
}

fn lag(records: i64, seconds: i64) -> String {
    match (records, seconds) {
        (0, _) => "up to date".into(),
        (r, s) if s < 120 => format!("{r} records, {s} s"),
        (r, s) if s < 7200 => format!("{r} records, {} min", s / 60),
        (r, s) => format!("{r} records, {} h", s / 3600),
    }
}

#[component]
fn StreamTable(
    rows: Vec<StreamRow>,
    remove: ServerAction<RemoveStream>,
    test: ServerAction<TestStream>,
    me: MeResource,
) -> impl IntoView {
    rows_table(
        "table",
        None,
        view! {
            {headers(
                &[
                    "Name",
                    "Kind",
                    "Where",
                    "Sends",
                    "Delivered up to",
                    "Behind",
                    "Last delivery",
                    "Last error",
                    "",
                ],
            )}
        },
        rows,
        move |s: StreamRow| {
            let key = s.name.clone();
            let (id, id2) = (s.id.clone(), s.id.clone());
            view! {
                <tr data-stream=key>
                    <td>{s.name}</td>
                    <td>{s.kind}</td>
                    <td class="mono small">{s.place}</td>
                    <td class="small">{s.shaping}</td>
                    <td class="mono">{format!("seq {}", s.cursor_seq)}</td>
                    <td data-lag=s.lag_records.to_string()>{lag(s.lag_records, s.lag_seconds)}</td>
                    <Delivery last_ok=s.last_ok last_error=s.last_error />
                    <td>
                        <OnlyFor me who=|m| m.is_admin>
                            <RowAction
                                action=test
                                hidden=vec![("id", id.clone())]
                                label="Send test event"
                            />
                            <RowAction
                                action=remove
                                hidden=vec![("id", id2.clone())]
                                label="Remove"
                                button="btn small danger"
                            />
                        </OnlyFor>
                    </td>
                </tr>
            }
        },
    )
}

/// The kind chooser, keeping what was chosen after a refusal.
#[component]
fn KindSelect() -> impl IntoView {
    let refill = Refill::here();
    let chosen = refill.value("kind").unwrap_or_else(|| "hec".into());
    let option = move |v: &'static str, text: &'static str| {
        view! {
            <option value=v selected=chosen == v>
                {text}
            </option>
        }
    };
    view! {
        <label>
            "Kind"
            <select name="kind">
                {option("hec", "Splunk HTTP Event Collector")}
                {option("syslog", "Syslog (RFC 5424)")} {option("webhook", "Signed webhook")}
            </select>
        </label>
    }
}

#[component]
fn AddStreamForm(add: ServerAction<AddStream>, flash: Posted) -> impl IntoView {
    view! {
        <div class="card" id="add-stream">
            <h2>"Add a stream"</h2>
            <p class="muted small">
                "HEC: the collector's base URL (https://splunk.example.com:8088) and its token; tick acknowledgement if the token has it on. Syslog: tls://host:6514 (tcp:// and udp:// only on test servers; UDP loses what the network drops). Webhook: the URL and the HMAC secret (X-ARX-Signature, as approval webhooks)."
            </p>
            <ActionForm action=add attr:class="form-grid">
                <Refilled flash form="add-stream">
                    <Field label="Name" name="name" required=true />
                    <KindSelect />
                    <Field
                        label="URL"
                        name="url"
                        required=true
                        placeholder="https://splunk.example.com:8088"
                    />
                    <Field
                        label="Token or secret"
                        name="secret"
                        kind="password"
                        autocomplete="off"
                    />
                    <Field
                        label="Only these kinds"
                        name="kinds"
                        placeholder="execute.*, approval.*"
                    />
                    <Field label="Redact keys" name="redact" placeholder="password, token" />
                    <Field label="CA certificate (syslog TLS, PEM)" name="ca_pem" />
                    <label>
                        "From" <select name="from">
                            <option value="now">"the next record"</option>
                            <option value="start">"the first record (the whole trail)"</option>
                        </select>
                    </label>
                    <label class="check">
                        <input type="checkbox" name="ack" value="on" />
                        " HEC indexer acknowledgement"
                    </label>
                </Refilled>
                <SubmitRow label="Add" />
            </ActionForm>
        </div>
    }
}
