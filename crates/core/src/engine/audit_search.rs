//! Searching an org's audit trail: filters on the record's indexed columns (agent, actor,
//! approval, connector, operation, verdict, kind, risk, time), the agents' labels and full
//! text; keyset pages by `seq` in either order, and counts per verdict and per connector
//! for the same filter. The API's query parameters and the console's filter bar are both
//! read here, so a filter means the same everywhere, and a bad one names its parameter.

use serde::{Deserialize, Serialize};

use super::admin::{MAX_AUDIT_PAGE, ReadOps};
use crate::audit::AuditRecord;
use crate::error::CoreError;
use crate::ids::{AgentId, ApprovalId, RecordId};
use crate::policy::Verdict;
use crate::registry::Selector;
use crate::store::{AuditFacets, AuditFilter, AuditQuery, KindFilter, text_phrases};

/// A search as people write it: the API's query parameters, the console's filter bar.
/// Every value is checked here; an empty one is no filter.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditSearch {
    /// Full text over params, results, reasons, comments, messages and errors: every word
    /// must occur; `"quoted words"` must occur together. Words are letters and digits, so
    /// `ws-042.corp` finds the words `ws 042 corp` in that order.
    pub q: Option<String>,
    /// The agent, by id or name.
    pub agent: Option<String>,
    /// The connector, e.g. `crowdstrike`.
    pub connector: Option<String>,
    /// The operation, e.g. `hosts:contain`.
    pub operation: Option<String>,
    /// `PERMIT`, `ESCALATE` or `DENY` (any case).
    pub verdict: Option<String>,
    /// A record kind (`execute.intercept`), or a family with `.*` (`approval.*`).
    pub kind: Option<String>,
    /// The lowest risk score kept, 0 to 100 (read here, so a bad one names itself).
    #[param(value_type = Option<i64>, minimum = 0, maximum = 100)]
    pub risk_min: Option<String>,
    /// The highest risk score kept, 0 to 100.
    #[param(value_type = Option<i64>, minimum = 0, maximum = 100)]
    pub risk_max: Option<String>,
    /// The earliest time kept: RFC 3339 (`2026-07-01T00:00:00Z`), or a day (`2026-07-01`,
    /// from its start, UTC).
    pub from: Option<String>,
    /// The latest time kept: RFC 3339, or a day (to its end, UTC).
    pub to: Option<String>,
    /// Who acted: a user's email, an agent's name, a user or agent id, or `system`.
    pub actor: Option<String>,
    /// The records that name this approval request (its id).
    pub approval: Option<String>,
    /// A label selector over the agents the records are about (`env=prod,tier in (1,2)`).
    pub selector: Option<String>,
    /// `newest` (default) or `oldest` first.
    pub order: Option<String>,
    /// Where the page starts: the previous page's `next_cursor`.
    pub cursor: Option<String>,
    /// Records before this sequence number, newest first (the older form of `cursor`).
    pub before: Option<i64>,
    /// How many records, 1 to 500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
}

/// A page of a search: the records, where the next page starts, and the counts for the
/// whole filter.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct AuditResults {
    pub records: Vec<AuditRecord>,
    /// The next page's `cursor`; absent on the last page.
    pub next_cursor: Option<String>,
    /// The next (older) page's `before` when the order is newest first; absent on the
    /// last page.
    pub next_before: Option<i64>,
    /// How many records the filter keeps, per verdict and per connector.
    pub facets: AuditFacets,
}

/// One record with what it links to: the call it answers or that answers it, the approval
/// it names, the agent it is about.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct AuditRecordView {
    pub record: AuditRecord,
    /// For a result or an approval request: the call's intercept record.
    pub intercept: Option<RecordId>,
    /// For an intercept: the records that say how the call ended (none while it waits,
    /// or when it was refused).
    pub results: Vec<RecordId>,
    /// The approval request the record names (for an intercept, the one it opened).
    pub approval: Option<ApprovalId>,
    pub agent: Option<AgentId>,
}

/// How far past an intercept its results are looked for, in the agent's own records.
const RESULT_WINDOW: u32 = 500;

fn bad(field: &'static str, message: impl Into<String>) -> CoreError {
    CoreError::InvalidField {
        field,
        message: message.into(),
    }
}

/// A name as the records hold it: 1 to 200 printable characters.
fn name(field: &'static str, v: Option<&String>) -> Result<Option<String>, CoreError> {
    let Some(v) = v.map(|v| v.trim()).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    if v.len() > 200 || v.chars().any(char::is_control) {
        return Err(bad(
            field,
            format!("{field} is at most 200 printable characters"),
        ));
    }
    Ok(Some(v.to_string()))
}

/// A time as RFC 3339, or a day (`2026-07-01`, UTC): from its first millisecond for
/// `from`, to its last for `to`. The error names `field`.
pub fn time_ms(field: &'static str, v: Option<&String>) -> Result<Option<i64>, CoreError> {
    use time::format_description::well_known::Rfc3339;
    let Some(v) = v.map(|v| v.trim()).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    let day = time::Date::parse(v, time::macros::format_description!("[year]-[month]-[day]"));
    let t = match day {
        Ok(d) if field == "to" => d.with_hms_milli(23, 59, 59, 999).ok().map(|t| t.assume_utc()),
        Ok(d) => Some(d.midnight().assume_utc()),
        Err(_) => time::OffsetDateTime::parse(v, &Rfc3339).ok(),
    }
    .ok_or_else(|| {
        bad(
            field,
            format!(
                "{field} is a day like 2026-07-01 or a time like 2026-07-01T00:00:00Z (RFC 3339), not '{v}'"
            ),
        )
    })?;
    Ok(Some((t.unix_timestamp_nanos() / 1_000_000) as i64))
}

fn kind(v: Option<&String>) -> Result<Option<KindFilter>, CoreError> {
    let Some(v) = v.map(|v| v.trim()).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    let (stem, family) = match v.strip_suffix(".*") {
        Some(stem) => (stem, true),
        None => (v, false),
    };
    let valid = !stem.is_empty()
        && stem.len() <= 64
        && stem
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '.');
    if !valid {
        return Err(bad(
            "kind",
            "kind is a record kind such as execute.intercept, or a family such as approval.*",
        ));
    }
    Ok(Some(if family {
        KindFilter::Family(format!("{stem}."))
    } else {
        KindFilter::Exactly(stem.to_string())
    }))
}

/// The phrases of a full-text query, checked.
fn full_text(q: &str) -> Result<Vec<String>, CoreError> {
    if q.chars().count() > 200 || q.chars().any(char::is_control) {
        return Err(bad("q", "q is at most 200 printable characters"));
    }
    let phrases = text_phrases(q);
    if phrases.is_empty() {
        return Err(bad(
            "q",
            "q has no word to search for (words are letters and digits)",
        ));
    }
    if phrases.len() > 16 {
        return Err(bad("q", "q is at most 16 words or quoted phrases"));
    }
    Ok(phrases)
}

impl ReadOps<'_> {
    /// One page of a search of the org's trail, with the counts for the whole filter.
    pub async fn audit_search(&self, s: &AuditSearch) -> Result<AuditResults, CoreError> {
        let q = self.audit_query(s).await?;
        let (records, facets) = self.engine.store.audit_search(self.who.org_id, &q).await?;
        let next = records
            .last()
            .filter(|_| records.len() == q.limit as usize)
            .map(|r| r.seq);
        Ok(AuditResults {
            next_cursor: next.map(|s| s.to_string()),
            next_before: next.filter(|_| !q.oldest_first),
            records,
            facets,
        })
    }

    /// A search checked and ready to page (`limit` 50 unless given).
    pub async fn audit_query(&self, s: &AuditSearch) -> Result<AuditQuery, CoreError> {
        let limit = s.limit.unwrap_or(50);
        if !(1..=MAX_AUDIT_PAGE).contains(&limit) {
            return Err(bad(
                "limit",
                format!("limit is 1 to {MAX_AUDIT_PAGE}, not {limit}"),
            ));
        }
        let filter = self.audit_filter(s).await?;
        let oldest_first = match s.order.as_deref().map(str::trim) {
            None | Some("" | "newest") => false,
            Some("oldest") => true,
            Some(o) => {
                return Err(bad(
                    "order",
                    format!("order is newest or oldest, not '{o}'"),
                ));
            }
        };
        let cursor = match (s.cursor.as_deref().map(str::trim), s.before) {
            (Some(c), _) if !c.is_empty() => Some(
                c.parse::<i64>()
                    .ok()
                    .filter(|c| *c >= 0)
                    .ok_or_else(|| bad("cursor", "cursor is the next_cursor of a previous page"))?,
            ),
            (_, Some(_)) if oldest_first => {
                return Err(bad(
                    "before",
                    "before pages newest first; with order=oldest use cursor",
                ));
            }
            (_, b) => b,
        };
        Ok(AuditQuery {
            filter,
            cursor,
            oldest_first,
            limit,
        })
    }

    /// One page of a checked search.
    pub async fn audit_records(&self, q: &AuditQuery) -> Result<Vec<AuditRecord>, CoreError> {
        self.engine.store.audit_page(self.who.org_id, q).await
    }

    /// One record of the org's trail, with its links.
    pub async fn audit_record_view(&self, id: RecordId) -> Result<AuditRecordView, CoreError> {
        let org = self.who.org_id;
        let store = &self.engine.store;
        let record = store
            .audit_record(org, id)
            .await?
            .ok_or_else(|| CoreError::NotFound(format!("no audit record {id} in this org")))?;
        let named = |r: &AuditRecord, key: &str| {
            r.fields
                .get(key)
                .and_then(|v| v.as_str())
                .map(str::to_string)
        };
        let mut approval = named(&record, "approval_id").and_then(|a| a.parse().ok());
        let agent: Option<AgentId> = named(&record, "agent_id").and_then(|a| a.parse().ok());
        let mut results = vec![];
        if record.kind == crate::audit::INTERCEPT
            && let Some(agent) = agent
        {
            // What followed the call, among the agent's next records.
            let q = AuditQuery {
                filter: AuditFilter {
                    agent: Some(agent),
                    ..Default::default()
                },
                cursor: Some(record.seq),
                oldest_first: true,
                limit: RESULT_WINDOW,
            };
            let own = id.to_string();
            for r in store.audit_page(org, &q).await? {
                if named(&r, "intercept_id").as_deref() != Some(own.as_str()) {
                    continue;
                }
                match r.kind.as_str() {
                    "execute.result" => results.push(r.id),
                    "approval.requested" => {
                        approval = named(&r, "approval_id").and_then(|a| a.parse().ok());
                    }
                    _ => {}
                }
            }
        }
        Ok(AuditRecordView {
            intercept: named(&record, "intercept_id").and_then(|i| i.parse().ok()),
            results,
            approval,
            agent,
            record,
        })
    }

    /// The filter a search names, every value checked.
    async fn audit_filter(&self, s: &AuditSearch) -> Result<AuditFilter, CoreError> {
        let agent = match name("agent", s.agent.as_ref())? {
            None => None,
            Some(a) => Some(self.agent_id_or_name(&a).await?),
        };
        let verdict = match name("verdict", s.verdict.as_ref())? {
            None => None,
            Some(v) => Some(
                Verdict::ALL
                    .iter()
                    .map(|v| v.as_str())
                    .find(|known| known.eq_ignore_ascii_case(&v))
                    .ok_or_else(|| {
                        bad(
                            "verdict",
                            format!("verdict is PERMIT, ESCALATE or DENY, not '{v}'"),
                        )
                    })?
                    .to_string(),
            ),
        };
        let risk = |field: &'static str, v: Option<&String>| -> Result<Option<i64>, CoreError> {
            let Some(v) = v.map(|v| v.trim()).filter(|v| !v.is_empty()) else {
                return Ok(None);
            };
            v.parse::<i64>()
                .ok()
                .filter(|v| (0..=100).contains(v))
                .map(Some)
                .ok_or_else(|| {
                    bad(
                        field,
                        format!("{field} is a risk score from 0 to 100, not '{v}'"),
                    )
                })
        };
        let (risk_min, risk_max) = (
            risk("risk_min", s.risk_min.as_ref())?,
            risk("risk_max", s.risk_max.as_ref())?,
        );
        if let (Some(lo), Some(hi)) = (risk_min, risk_max)
            && lo > hi
        {
            return Err(bad("risk_min", "risk_min is above risk_max"));
        }
        let (from_ms, to_ms) = (
            time_ms("from", s.from.as_ref())?,
            time_ms("to", s.to.as_ref())?,
        );
        if let (Some(f), Some(t)) = (from_ms, to_ms)
            && f > t
        {
            return Err(bad("from", "from is after to"));
        }
        let approval = match name("approval", s.approval.as_ref())? {
            None => None,
            Some(a) => Some(
                a.parse::<ApprovalId>()
                    .map_err(|_| bad("approval", "approval is an approval request's id"))?,
            ),
        };
        let selector = match s.selector.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(sel) => Some(Selector::parse(sel).map_err(|e| bad("selector", e.message))?),
        };
        let text = match s.q.as_deref().map(str::trim) {
            None | Some("") => vec![],
            Some(q) => full_text(q)?,
        };
        Ok(AuditFilter {
            actor: match name("actor", s.actor.as_ref())? {
                None => None,
                Some(a) => Some(self.actor_id(&a).await?),
            },
            approval,
            selector,
            text,
            agent,
            connector: name("connector", s.connector.as_ref())?,
            operation: name("operation", s.operation.as_ref())?,
            verdict,
            kind: kind(s.kind.as_ref())?,
            risk_min,
            risk_max,
            from_ms,
            to_ms,
        })
    }

    /// An actor as records name it (their `actor` column): an id as given, `system`, a
    /// user of this org by email, an agent of this org by name.
    async fn actor_id(&self, a: &str) -> Result<String, CoreError> {
        if a == "system" || a.parse::<uuid::Uuid>().is_ok() {
            return Ok(a.to_string());
        }
        let store = &self.engine.store;
        let org = self.who.org_id;
        let found = if a.contains('@') {
            store
                .user_by_email(a)
                .await?
                .filter(|u| u.org_id == org)
                .map(|u| u.id.to_string())
        } else {
            store.agent_by_name(org, a).await?.map(|a| a.id.to_string())
        };
        found.ok_or_else(|| {
            bad(
                "actor",
                format!(
                    "this organisation has no user or agent '{a}' (actor is a user's email, an agent's name, an id, or system)"
                ),
            )
        })
    }

    /// The org's agent by id or name; another org's is as unknown as none.
    async fn agent_id_or_name(&self, a: &str) -> Result<AgentId, CoreError> {
        let store = &self.engine.store;
        let org = self.who.org_id;
        let found = match a.parse::<AgentId>() {
            Ok(id) => store.agent(org, id).await?,
            Err(_) => store.agent_by_name(org, a).await?,
        };
        found
            .map(|a| a.id)
            .ok_or_else(|| bad("agent", format!("this organisation has no agent '{a}'")))
    }
}
