//! The reviewer's diff: where an operation declares how to read its target's current
//! state (`state:` in the connector file), ARX reads it with the instance's credentials
//! and shows each field now and after the call. Reads are recorded and kept a minute.

use std::collections::HashMap;
use std::sync::Mutex;

use serde::Serialize;
use serde_json::{Map, Value, json};

use super::Engine;
use crate::audit::Actor;
use crate::catalog::StateRead;
use crate::ids::ApprovalId;
use crate::model::ApprovalRequest;

/// How long a read is reused before the target is asked again.
const FRESH_MS: i64 = 60_000;
const CACHE_MAX: usize = 1000;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StateRow {
    /// The record's key (a hostname's device id, a change's number).
    pub record: String,
    pub field: String,
    pub current: String,
    pub proposed: String,
    pub changed: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StateDiff {
    /// The reading operation, as `connector.operation`.
    pub source: String,
    pub rows: Vec<StateRow>,
    /// Why the current state could not be read, if it could not.
    pub error: Option<String>,
}

#[derive(Debug, Default)]
pub(crate) struct StateCache(Mutex<HashMap<ApprovalId, (i64, StateDiff)>>);

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
    pub async fn state_diff(&self, a: &ApprovalRequest) -> Option<StateDiff> {
        let connector = self.catalog.get(&a.connector)?;
        let st = connector.operation(&a.operation)?.state.as_ref()?;
        let read = connector.operation(&st.read)?;
        let now = self.now_ms();
        if let Ok(cache) = self.state_cache.0.lock()
            && let Some((at_ms, d)) = cache.get(&a.id)
            && now - at_ms < FRESH_MS
        {
            return Some(d.clone());
        }
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
        let mut diff = StateDiff {
            source: format!("{}.{}", connector.name, st.read),
            rows: vec![],
            error: None,
        };
        let sets = proposed(st, &params);
        let instance = match self.store.instance(a.org_id, a.instance_id).await {
            Ok(Some(i)) => i,
            _ => {
                diff.error = Some("the connector instance is gone".into());
                return Some(diff);
            }
        };
        for p in reads.iter().take(20) {
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
        let _ = self
            .record(
                a.org_id,
                "approval.state_read",
                Actor::system(),
                json!({"approval_id": a.id, "read": diff.source, "reads": reads.len(),
                       "rows": diff.rows.len(), "error": diff.error}),
            )
            .await;
        if let Ok(mut cache) = self.state_cache.0.lock() {
            if cache.len() >= CACHE_MAX {
                cache.retain(|_, (t, _)| now - *t < FRESH_MS);
            }
            cache.insert(a.id, (now, diff.clone()));
        }
        Some(diff)
    }
}
