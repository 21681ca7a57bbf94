//! The reviewer's diff: where an operation declares how to read its target's current
//! state (`state:` in the connector file), ARX reads it with the instance's credentials
//! and shows each field now and after the call.
//!
//! A state read is a call with the instance's credentials, so it follows the audit-first
//! rule of every call: its record is written before anything leaves ARX, and if it cannot
//! be, nothing is sent. A successful read is kept for the life of the request in this
//! process, and concurrent openings wait for the one read in flight, so opening the page
//! again does not call the vendor again.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde::Serialize;
use serde_json::{Map, Value};

use super::Engine;
use crate::audit::Actor;
use crate::audit::event as ev;
use crate::catalog::StateRead;
use crate::ids::ApprovalId;
use crate::model::{ApprovalRequest, ApprovalStatus};

/// Requests whose read is kept; past it, finished reads are dropped (and re-read if shown).
const CACHE_MAX: usize = 1000;
/// Most records read for one diff (one read per item of an `each` list).
const MAX_READS: usize = 20;
/// What the reviewer sees when the read's record could not be written.
pub const AUDIT_UNAVAILABLE: &str = "state unavailable: audit unavailable";

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct StateRow {
    /// The record's key (a hostname's device id, a change's number).
    pub record: String,
    pub field: String,
    pub current: String,
    pub proposed: String,
    pub changed: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct StateDiff {
    /// The reading operation, as `connector.operation`.
    pub source: String,
    pub rows: Vec<StateRow>,
    /// Why the current state could not be read, if it could not.
    pub error: Option<String>,
    /// How many records the call covers: the items of its list param, or one.
    pub items: usize,
    /// How many of those could not be read (an error, no such record, or past the
    /// most ARX reads for one diff): the reviewer decides without seeing them.
    pub unread: usize,
    /// Set when the call would change nothing: every record was read and every field
    /// it sets already has that value.
    pub unchanged: Option<Unchanged>,
}

/// A call that would change nothing, and the earlier approved call that made it so, if
/// ARX finds one.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Unchanged {
    /// The earlier request of the same operation on the same instance and records.
    pub earlier: Option<ApprovalId>,
    /// When that request was decided.
    pub since_ms: Option<i64>,
}

impl StateDiff {
    fn new(source: String) -> Self {
        StateDiff {
            source,
            rows: vec![],
            error: None,
            items: 0,
            unread: 0,
            unchanged: None,
        }
    }
}

/// One cell per approval request: filled once by a successful read, awaited by
/// concurrent openings meanwhile.
type Cell = Arc<tokio::sync::OnceCell<StateDiff>>;

#[derive(Debug, Default)]
pub(crate) struct StateCache(Mutex<HashMap<ApprovalId, Cell>>);

impl StateCache {
    fn cell(&self, id: ApprovalId) -> Cell {
        let mut cells = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if cells.len() >= CACHE_MAX && !cells.contains_key(&id) {
            // Keep reads in flight; drop finished ones (their requests re-read if shown).
            cells.retain(|_, c| !c.initialized());
        }
        cells.entry(id).or_default().clone()
    }
}

/// Whether two calls' params agree on every param that is not a list.
fn same_action(a: &Value, b: &Value) -> bool {
    let (Some(a), Some(b)) = (a.as_object(), b.as_object()) else {
        return false;
    };
    b.iter()
        .filter(|(_, v)| !v.is_array())
        .all(|(k, v)| a.get(k) == Some(v))
}

fn text(v: &Value) -> String {
    match v {
        Value::Null => "—".into(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn at<'v>(v: &'v Value, dotted: &str) -> &'v Value {
    dotted
        .split('.')
        .filter(|k| !k.is_empty())
        .fold(v, |cur, k| &cur[k])
}

/// What the call sets on a record, field by field.
fn proposed(st: &StateRead, params: &Map<String, Value>) -> Map<String, Value> {
    let mut out: Map<String, Value> = st.sets.clone().into_iter().collect();
    for (field, param) in &st.sets_from {
        if let Some(v) = params.get(param) {
            out.insert(field.clone(), v.clone());
        }
    }
    if let Some(by) = &st.sets_by
        && let Some(values) = params
            .get(&by.param)
            .and_then(Value::as_str)
            .and_then(|v| by.values.get(v))
    {
        out.extend(values.clone());
    }
    out
}

impl Engine {
    /// The diff for a request whose operation declares a state read; `None` otherwise.
    pub(crate) async fn state_diff(&self, a: &ApprovalRequest) -> Option<StateDiff> {
        let connector = self.catalog.get(&a.connector)?;
        let st = connector.operation(&a.operation)?.state.as_ref()?;
        connector.operation(&st.read)?;
        let cell = self.state_cache.cell(a.id);
        // Only a complete read is kept: a failed one is shown, and tried again next time.
        match cell.get_or_try_init(|| self.read_state(a, st)).await {
            Ok(d) => Some(d.clone()),
            Err(failed) => Some(failed),
        }
    }

    /// The newest earlier request of the same operation on the same instance that ran,
    /// with the same non-list params (the same action), and named every record of this
    /// diff: most likely what already made the change.
    async fn earlier_same_call(&self, a: &ApprovalRequest, diff: &StateDiff) -> Unchanged {
        let earlier = self
            .store
            .list_approvals(a.org_id, Some(ApprovalStatus::Executed.as_str()))
            .await
            .unwrap_or_default()
            .into_iter()
            .find(|e| {
                e.id != a.id
                    && e.connector == a.connector
                    && e.operation == a.operation
                    && e.instance_id == a.instance_id
                    && same_action(&e.params, &a.params)
                    && diff
                        .rows
                        .iter()
                        .all(|r| e.params.to_string().contains(&r.record))
            });
        Unchanged {
            earlier: earlier.as_ref().map(|e| e.id),
            since_ms: earlier.and_then(|e| e.decided_ms),
        }
    }

    /// Records the read, then makes it; `Err` is a diff with its error, not to be kept.
    async fn read_state(
        &self,
        a: &ApprovalRequest,
        st: &StateRead,
    ) -> Result<StateDiff, StateDiff> {
        let connector = self.catalog.get(&a.connector).ok_or_else(|| StateDiff {
            error: Some("the connector is gone".into()),
            ..StateDiff::new(a.connector.clone())
        })?;
        let mut diff = StateDiff::new(format!("{}.{}", connector.name, st.read));
        let Some(read) = connector.operation(&st.read) else {
            diff.error = Some("the reading operation is gone".into());
            return Err(diff);
        };
        let params = a.params.as_object().cloned().unwrap_or_default();
        let base: Map<String, Value> = st
            .params
            .iter()
            .filter_map(|(read_p, call_p)| params.get(call_p).map(|v| (read_p.clone(), v.clone())))
            .collect();
        let reads: Vec<Map<String, Value>> = match &st.each {
            None => vec![base],
            Some(each) => params
                .get(&each.param)
                .and_then(Value::as_array)
                .map(|items| {
                    items
                        .iter()
                        .map(|item| {
                            let mut p = base.clone();
                            p.insert(each.as_param.clone(), item.clone());
                            p
                        })
                        .collect()
                })
                .unwrap_or_default(),
        };
        let sets = proposed(st, &params);
        let instance = match self.instance_of(a).await {
            Ok(Some(i)) => i,
            _ => {
                diff.error = Some("the connector instance is gone".into());
                return Err(diff);
            }
        };
        diff.items = reads.len();
        let reads: Vec<Map<String, Value>> = reads.into_iter().take(MAX_READS).collect();
        let mut read_ok = 0;
        // Audit first: the read is recorded before it leaves ARX, or it is not made.
        let recorded = self
            .record(
                a.org_id,
                Actor::system(),
                ev::StateRead {
                    approval_id: a.id,
                    read: diff.source.clone(),
                    instance_id: instance.id,
                    reads: reads.len(),
                    params: reads.clone(),
                },
            )
            .await;
        let intent = match recorded {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(approval = %a.id, error = %e, "state read not made: its audit record could not be written");
                diff.error = Some(AUDIT_UNAVAILABLE.into());
                return Err(diff);
            }
        };
        for p in &reads {
            let answer = match self.send_to_target(connector, read, &instance, p).await {
                Ok(Ok(r)) if (200..300).contains(&r.status) => r.body,
                Ok(Ok(r)) => {
                    diff.error = Some(format!(
                        "the target answered {} to the state read",
                        r.status
                    ));
                    break;
                }
                Ok(Err(e)) => {
                    diff.error = Some(e.to_string());
                    break;
                }
                Err(e) => {
                    diff.error = Some(e.public_message());
                    break;
                }
            };
            let records = match at(&answer, &st.records) {
                Value::Array(list) => list.clone(),
                Value::Null => vec![],
                one => vec![one.clone()],
            };
            if !records.is_empty() {
                read_ok += 1;
            }
            for rec in records {
                let record = text(at(&rec, &st.key));
                for field in &st.fields {
                    let current = text(at(&rec, field));
                    let after = sets.get(field).map_or_else(|| current.clone(), text);
                    diff.rows.push(StateRow {
                        record: record.clone(),
                        field: field.clone(),
                        changed: after != current,
                        current,
                        proposed: after,
                    });
                }
            }
        }
        diff.unread = diff.items.saturating_sub(read_ok);
        if diff.error.is_none()
            && diff.unread == 0
            && !diff.rows.is_empty()
            && diff.rows.iter().all(|r| !r.changed)
        {
            diff.unchanged = Some(self.earlier_same_call(a, &diff).await);
        }
        // What came back; the read itself was recorded before it was sent.
        if let Err(e) = self
            .record(
                a.org_id,
                Actor::system(),
                ev::StateReadResult {
                    approval_id: a.id,
                    state_read_id: intent.id,
                    read: diff.source.clone(),
                    rows: diff.rows.len(),
                    error: diff.error.clone(),
                },
            )
            .await
        {
            tracing::warn!(approval = %a.id, error = %e, "the state read's result could not be recorded");
        }
        match diff.error {
            None => Ok(diff),
            Some(_) => Err(diff),
        }
    }
}
