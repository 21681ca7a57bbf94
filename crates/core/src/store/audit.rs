//! The audit trail: one hash chain per org, appended and read, never changed.

use async_trait::async_trait;

use super::StoreResult;
use super::responses::ResponseBody;
use crate::audit::event::SealedRecords;
use crate::audit::{AuditDraft, AuditRecord, ChainHead};
use crate::ids::{AgentId, OrgId, RecordId};

/// Which records of an org's trail a search keeps. Every field narrows; none keeps all.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AuditFilter {
    /// The records about this agent (its calls, their results, its changes).
    pub agent: Option<crate::ids::AgentId>,
    pub connector: Option<String>,
    pub operation: Option<String>,
    /// `PERMIT`, `ESCALATE` or `DENY`.
    pub verdict: Option<String>,
    /// A kind (`execute.intercept`), or a family of them (`approval.` for every
    /// `approval.*`).
    pub kind: Option<KindFilter>,
    /// Risk scores from and to, inclusive.
    pub risk_min: Option<i64>,
    pub risk_max: Option<i64>,
    /// Times from and to, inclusive, in ms since the epoch.
    pub from_ms: Option<i64>,
    pub to_ms: Option<i64>,
    /// Who acted: a user's or agent's id, or `system`.
    pub actor: Option<String>,
    /// The records that name this approval request.
    pub approval: Option<crate::ids::ApprovalId>,
    /// The records about agents whose labels the selector matches.
    pub selector: Option<crate::registry::Selector>,
    /// Full text: every phrase must occur in the record's searchable text (params,
    /// results, reasons, comments, messages, errors, the agent's reasoning). A phrase is
    /// lowercase words of letters and digits separated by single spaces ([`text_phrases`]).
    pub text: Vec<String>,
}

/// How text is cut into words for full-text search, on both sides of the search: lowercase
/// runs of letters and digits, everything else a separator (`WS-042.corp` is the words
/// `ws 042 corp`). The databases' indexes cut the same way (migrations 0022).
pub fn text_words(s: &str) -> Vec<String> {
    s.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// The fields of a record's event that full text covers, in the order their text is
/// joined (`session_context.reasoning` is the agent's reasoning).
pub const TEXT_FIELDS: [&str; 8] = [
    "params",
    "response_projection",
    "response",
    "reason",
    "comment",
    "message",
    "error",
    "session_context.reasoning",
];

/// Most characters of a record's searchable text that are indexed.
pub const MAX_TEXT_CHARS: usize = 100_000;

/// A record's searchable text as the index stores it: the [`TEXT_FIELDS`] present (a
/// string as itself, anything else as its JSON), joined by spaces, cut at
/// [`MAX_TEXT_CHARS`], then as [`text_words`] joined by single spaces. Computed once at
/// append from the event being sealed, so the database parses no JSON to index it.
pub fn record_text(fields: &serde_json::Value) -> String {
    use serde_json::Value;
    let mut text = String::new();
    for path in TEXT_FIELDS {
        let v = path.split('.').try_fold(fields, |v, k| v.get(k));
        let part = match v {
            None | Some(Value::Null) => continue,
            Some(Value::String(s)) => std::borrow::Cow::Borrowed(s.as_str()),
            Some(other) => std::borrow::Cow::Owned(other.to_string()),
        };
        if !text.is_empty() {
            text.push(' ');
        }
        text.push_str(&part);
    }
    let cut = text
        .char_indices()
        .nth(MAX_TEXT_CHARS)
        .map_or(text.as_str(), |(at, _)| &text[..at]);
    text_words(cut).join(" ")
}

/// The phrases of a full-text query: `"quoted text"` is one phrase, any other run of
/// non-space characters another; each phrase as [`text_words`] joined by spaces. A term
/// with no letter or digit is dropped.
pub fn text_phrases(q: &str) -> Vec<String> {
    let mut out = vec![];
    for (i, part) in q.split('"').enumerate() {
        let terms: Vec<&str> = if i % 2 == 1 {
            vec![part]
        } else {
            part.split_whitespace().collect()
        };
        for t in terms {
            let words = text_words(t);
            if !words.is_empty() {
                out.push(words.join(" "));
            }
        }
    }
    out
}

/// A kind filter: one kind, or every kind that starts with a prefix ending in `.`.
#[derive(Debug, Clone, PartialEq)]
pub enum KindFilter {
    Exactly(String),
    Family(String),
}

/// A page of a search of the audit trail.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    pub filter: AuditFilter,
    /// Continue after this `seq` (exclusive), in the page's order.
    pub cursor: Option<i64>,
    /// Oldest first; newest first otherwise.
    pub oldest_first: bool,
    pub limit: u32,
}

impl AuditQuery {
    /// The newest `limit` records that `filter` keeps.
    pub fn newest(filter: AuditFilter, limit: u32) -> Self {
        AuditQuery {
            filter,
            cursor: None,
            oldest_first: false,
            limit,
        }
    }
}

/// How many records a filter keeps, per verdict and per connector (records without
/// either are not counted there), among its newest [`FACET_WINDOW`] records: a count's
/// cost is bounded whatever the trail's size.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct AuditFacets {
    /// Most first.
    pub verdicts: Vec<Facet>,
    /// Most first (at most 50).
    pub connectors: Vec<Facet>,
    /// The filter keeps more records than were counted: the counts are of its newest
    /// [`FACET_WINDOW`].
    pub limited: bool,
}

/// How many of a filter's newest records its facets count.
pub const FACET_WINDOW: usize = 10_000;

/// The records of a facet window that share a (verdict, connector) pair: how many, and
/// the page key of the oldest of them. The database groups the window; the counting
/// happens here.
#[derive(Debug, Clone, PartialEq)]
pub struct FacetGroup {
    pub verdict: Option<String>,
    pub connector: Option<String>,
    pub count: i64,
    pub oldest: i64,
}

impl AuditFacets {
    /// The facets of a filter's newest records, up to [`FACET_WINDOW`] + 1 of them,
    /// grouped. One more than the window marks them limited, and that oldest record is
    /// not counted.
    pub fn count(mut groups: Vec<FacetGroup>) -> AuditFacets {
        let total: i64 = groups.iter().map(|g| g.count).sum();
        let limited = total > FACET_WINDOW as i64;
        if limited && let Some(g) = groups.iter_mut().min_by_key(|g| g.oldest) {
            g.count -= 1;
        }
        let tally = |values: Vec<(&String, i64)>| {
            let mut by: std::collections::BTreeMap<&String, i64> = Default::default();
            for (v, n) in values {
                *by.entry(v).or_default() += n;
            }
            let mut out: Vec<Facet> = by
                .into_iter()
                .filter(|(_, count)| *count > 0)
                .map(|(value, count)| Facet {
                    value: value.clone(),
                    count,
                })
                .collect();
            out.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.value.cmp(&b.value)));
            out.truncate(50);
            out
        };
        AuditFacets {
            verdicts: tally(
                groups
                    .iter()
                    .filter_map(|g| Some((g.verdict.as_ref()?, g.count)))
                    .collect(),
            ),
            connectors: tally(
                groups
                    .iter()
                    .filter_map(|g| Some((g.connector.as_ref()?, g.count)))
                    .collect(),
            ),
            limited,
        }
    }
}

/// A value and how many records have it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct Facet {
    pub value: String,
    pub count: i64,
}

/// How many records of a kind one agent has about one connector (see
/// [`AuditStore::audit_counts_by_agent`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentCalls {
    pub agent_id: String,
    pub connector: String,
    pub count: i64,
}

#[async_trait]
pub trait AuditStore: Send + Sync {
    /// Seals the drafts onto their orgs' chains (with [`crate::audit::seal`]) and commits them
    /// durably in one transaction; all or nothing. A draft with a `guard_epoch` that is
    /// no longer its org's configuration epoch fails it all with
    /// [`crate::CoreError::StaleConfiguration`].
    async fn append_audit(&self, drafts: Vec<AuditDraft>) -> StoreResult<Vec<AuditRecord>> {
        self.append_audit_with_bodies(&drafts, &[]).await
    }
    /// [`AuditStore::append_audit`], with response bodies committed in the same
    /// transaction (the result records that carry their hashes are among the drafts).
    async fn append_audit_with_bodies(
        &self,
        drafts: &[AuditDraft],
        bodies: &[ResponseBody],
    ) -> StoreResult<Vec<AuditRecord>>;
    /// A page of the records `q.filter` keeps, in `seq` order (newest or oldest first)
    /// after `q.cursor`.
    async fn audit_page(&self, org: OrgId, q: &AuditQuery) -> StoreResult<Vec<AuditRecord>>;
    /// [`AuditStore::audit_page`] of `q`, and how many records its filter keeps, per
    /// verdict and per connector, among its newest [`FACET_WINDOW`]
    /// ([`AuditFacets::count`]). The search's words are looked up once for both.
    async fn audit_search(
        &self,
        org: OrgId,
        q: &AuditQuery,
    ) -> StoreResult<(Vec<AuditRecord>, AuditFacets)>;
    /// The span of the records an agent made (its actor) or that are about it (an
    /// `agent_id` field): how many, the first and last seq, and the last one's hash.
    async fn records_about(&self, org: OrgId, agent: AgentId) -> StoreResult<SealedRecords>;
    /// Records with `seq > after_seq` in ascending order, at most `limit`.
    async fn audit_after(
        &self,
        org: OrgId,
        after_seq: i64,
        limit: u32,
    ) -> StoreResult<Vec<AuditRecord>>;
    /// Records of `kind` with `from_ms <= ts_ms <= to_ms`, in (ts_ms, seq) order after
    /// `after` (a (ts_ms, seq) pair; `None` from the start), at most `limit`.
    async fn audit_in_range(
        &self,
        org: OrgId,
        kind: &str,
        range: (i64, i64),
        after: Option<(i64, i64)>,
        limit: u32,
    ) -> StoreResult<Vec<AuditRecord>>;
    /// How many records of `kind` have `from_ms <= ts_ms <= to_ms`.
    async fn audit_count_in_range(
        &self,
        org: OrgId,
        kind: &str,
        range: (i64, i64),
    ) -> StoreResult<u64>;
    /// How many records of `kind` with `from_ms <= ts_ms <= to_ms` each (agent,
    /// connector) has: one grouped query over the `(org_id, kind, ts_ms)` index.
    async fn audit_counts_by_agent(
        &self,
        org: OrgId,
        kind: &str,
        range: (i64, i64),
    ) -> StoreResult<Vec<AgentCalls>>;
    async fn chain_head(&self, org: OrgId) -> StoreResult<ChainHead>;
    /// Copies what each org's chain has and its search index lacks into the index; how
    /// many records. The index trails the chain so that an append maintains only the
    /// chain's keys; every search and count over it first catches up its own org, so
    /// this job only bounds how far behind it falls between searches.
    async fn index_audit(&self) -> StoreResult<u64>;
    async fn audit_count(&self, org: OrgId) -> StoreResult<i64>;
    async fn audit_record(&self, org: OrgId, id: RecordId) -> StoreResult<Option<AuditRecord>>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_records_text_is_its_searchable_fields_as_words() {
        let fields = serde_json::json!({
            "params": {"ids": ["WS-042.corp"], "limit": 10},
            "reason": "Beaconing seen",
            "error": null,
            "verdict": "DENY",
            "session_context": {"reasoning": "Contain it", "actions": ["skip me"]},
        });
        assert_eq!(
            record_text(&fields),
            "ids ws 042 corp limit 10 beaconing seen contain it"
        );
        assert_eq!(record_text(&serde_json::json!({"kind": "x"})), "");
        // Cut at MAX_TEXT_CHARS characters (not bytes), before splitting into words.
        let long = "é".repeat(MAX_TEXT_CHARS - 2) + " ab cd";
        let words = record_text(&serde_json::json!({ "reason": long }));
        assert!(words.ends_with(" a"), "{}", &words[words.len() - 4..]);
    }

    #[test]
    fn facets_count_the_newest_window_most_first() {
        let group = |v: Option<&str>, c: &str, count: i64, oldest: i64| FacetGroup {
            verdict: v.map(str::to_string),
            connector: Some(c.to_string()),
            count,
            oldest,
        };
        let groups = vec![
            group(Some("DENY"), "okta", 1, 5),
            group(None, "okta", 1, 4),
            group(Some("PERMIT"), "crowdstrike", 3, 1),
        ];
        let f = AuditFacets::count(groups.clone());
        let names = |v: &[Facet]| {
            v.iter()
                .map(|f| (f.value.clone(), f.count))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            names(&f.verdicts),
            vec![("PERMIT".into(), 3), ("DENY".into(), 1)]
        );
        assert_eq!(
            names(&f.connectors),
            vec![("crowdstrike".into(), 3), ("okta".into(), 2)]
        );
        assert!(!f.limited);
        // One past the window: the oldest record (key 1, a PERMIT) is not counted.
        let many = vec![
            group(Some("PERMIT"), "okta", FACET_WINDOW as i64, 2),
            group(Some("DENY"), "okta", 1, 1),
        ];
        let f = AuditFacets::count(many);
        assert!(f.limited);
        assert_eq!(
            names(&f.verdicts),
            vec![("PERMIT".into(), FACET_WINDOW as i64)]
        );
        assert_eq!(
            f.connectors[0].count, FACET_WINDOW as i64,
            "the window only"
        );
    }
}
