//! Vendor responses out of the immutable chain (docs/architecture.md §7). A call's result record
//! carries the response's SHA-256 (of its RFC 8785 canonical JSON), its size and the
//! operation's declared projection; the body goes to `response_bodies`, which only
//! admins and auditors read ([`ResponseOps`]) and which each org's retention purges.
//! The chain's hash still proves what was returned: a read recomputes it.

use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::Engine;
use super::admin::{AdminOps, ReadOps};
use crate::access::Principal;
use crate::audit::event as ev;
use crate::audit::{Actor, AuditDraft, AuditEvent, format_ts};
use crate::catalog::Operation;
use crate::error::CoreError;
use crate::ids::RecordId;
use crate::store::ResponseBody;

/// Retention of response bodies of an org that never set one, in days.
pub const DEFAULT_RESPONSE_DAYS: u32 = 30;
/// The longest retention an admin may set (ten years).
pub const MAX_RESPONSE_DAYS: u32 = 3650;
const DAY_MS: i64 = 86_400_000;

/// What the result record says of a response, and the body to keep beside the chain.
pub(super) struct Summary {
    pub sha256: String,
    pub bytes: usize,
    pub projection: Value,
    pub canonical: String,
}

/// Hashes the canonical JSON of `body` and applies the operation's projection.
/// `None` (logged) if the body cannot be canonicalized, which parsed JSON always can.
pub(super) fn summarize(op: &Operation, body: &Value) -> Option<Summary> {
    let canonical = serde_json_canonicalizer::to_string(body)
        .inspect_err(|e| tracing::error!(error = %e, "canonicalizing a response failed"))
        .ok()?;
    Some(Summary {
        sha256: sha256_hex(&canonical),
        bytes: canonical.len(),
        projection: crate::projection::project(&op.projection, body),
        canonical,
    })
}

/// The row that keeps a response's body beside the chain, under the id of the result
/// record (`draft`) that carries its hash.
pub(super) fn body_row(draft: &AuditDraft, intercept: RecordId, s: Summary) -> ResponseBody {
    ResponseBody {
        org_id: draft.org_id,
        record_id: draft.id,
        intercept_id: intercept,
        sha256: s.sha256,
        bytes: i64::try_from(s.bytes).unwrap_or(i64::MAX),
        body: Some(s.canonical),
        created_ms: draft.ts_ms,
        purged_ms: None,
    }
}

fn sha256_hex(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

/// A stored response as an admin or auditor reads it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ResponseView {
    pub record_id: RecordId,
    /// The hash the chain holds for this response.
    pub sha256: String,
    pub bytes: u64,
    pub body: Value,
    /// Whether the stored body hashes to the chain's `response_sha256`.
    pub verified: bool,
}

/// Reading response bodies: only admins and auditors get one ([`Engine::responses`]).
pub struct ResponseOps<'a> {
    engine: &'a Engine,
    who: &'a Principal,
}

impl Engine {
    /// Response bodies hold what the vendor returned (people, hosts, command output):
    /// admins and auditors only.
    pub fn responses<'a>(&'a self, who: &'a Principal) -> Result<ResponseOps<'a>, CoreError> {
        if who.roles.reads_answers() {
            Ok(ResponseOps { engine: self, who })
        } else {
            Err(CoreError::Forbidden(format!(
                "response bodies are for admins and auditors; {} has {}",
                who.email,
                who.roles.describe()
            )))
        }
    }

    /// One purge run over every org: bodies older than the org's retention are dropped
    /// (tombstones stay), and each org's purge is recorded in its chain before it happens,
    /// so an auditor sees what went and when. How many were purged.
    pub(crate) async fn purge_responses(&self) -> Result<u64, CoreError> {
        let now = self.now_ms();
        let mut total = 0;
        for org in self.store.list_orgs().await? {
            let days = self
                .store
                .response_retention_days(org.id)
                .await?
                .unwrap_or(DEFAULT_RESPONSE_DAYS);
            let before = now - i64::from(days) * DAY_MS;
            let due = self.store.response_bodies_due(org.id, before).await?;
            if due == 0 {
                continue;
            }
            self.record(
                org.id,
                Actor::system(),
                ev::ResponsesPurged {
                    count: due,
                    created_before: format_ts(before),
                    retention_days: days,
                },
            )
            .await?;
            total += self
                .store
                .purge_response_bodies(org.id, before, now)
                .await?;
        }
        Ok(total)
    }
}

impl ResponseOps<'_> {
    /// The body of the response recorded by result record `id`, checked against the chain.
    /// Every read is recorded: bodies hold what the policy kept out of the chain.
    pub async fn response(&self, id: RecordId) -> Result<ResponseView, CoreError> {
        let e = self.engine;
        let org = self.who.org_id;
        let not_found = || CoreError::NotFound(format!("no result record {id} in this org"));
        let rec = e.store.audit_record(org, id).await?.ok_or_else(not_found)?;
        let AuditEvent::CallResult(result) = rec.event()? else {
            return Err(not_found());
        };
        let view = match &result.response {
            // Recorded before responses left the chain: the chain holds the body itself.
            Some(body) => {
                let canonical = serde_json_canonicalizer::to_string(body)
                    .map_err(|e| CoreError::internal("canonicalize response", e))?;
                ResponseView {
                    record_id: id,
                    sha256: sha256_hex(&canonical),
                    bytes: canonical.len() as u64,
                    body: body.clone(),
                    verified: true,
                }
            }
            None => self.stored(id, &result).await?,
        };
        e.record(
            org,
            Actor::user(self.who.user_id, &self.who.email),
            ev::ResponseRead {
                record_id: id,
                verified: view.verified,
            },
        )
        .await?;
        Ok(view)
    }

    async fn stored(
        &self,
        id: RecordId,
        result: &ev::CallResult,
    ) -> Result<ResponseView, CoreError> {
        let Some(chain_sha) = result.response_sha256.as_deref() else {
            return Err(CoreError::NotFound(format!(
                "the call of record {id} got no response (it did not reach the target)"
            )));
        };
        let row = self
            .engine
            .store
            .response_body(self.who.org_id, id)
            .await?
            .ok_or_else(|| {
                CoreError::NotFound(format!(
                    "the response of record {id} was not stored (writing it failed when the call ran)"
                ))
            })?;
        let (Some(text), None) = (&row.body, row.purged_ms) else {
            let purged_at = format_ts(row.purged_ms.unwrap_or(0));
            return Err(CoreError::Gone {
                message: format!(
                    "the response of record {id} was purged at {purged_at} under the org's retention"
                ),
                purged_at,
            });
        };
        // A body row that no longer parses is shown as text, and never as verified.
        let body = serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.clone()));
        Ok(ResponseView {
            record_id: id,
            sha256: chain_sha.to_string(),
            bytes: text.len() as u64,
            body,
            verified: sha256_hex(text) == chain_sha,
        })
    }
}

impl ReadOps<'_> {
    /// How many days the org keeps response bodies.
    pub async fn response_retention_days(&self) -> Result<u32, CoreError> {
        Ok(self
            .engine
            .store
            .response_retention_days(self.who.org_id)
            .await?
            .unwrap_or(DEFAULT_RESPONSE_DAYS))
    }
}

impl AdminOps<'_> {
    /// Sets how many days the org keeps response bodies (1 to 3650); recorded.
    pub async fn set_response_retention_days(&self, days: i64) -> Result<u32, CoreError> {
        let e = self.engine;
        let days = u32::try_from(days)
            .ok()
            .filter(|d| (1..=MAX_RESPONSE_DAYS).contains(d))
            .ok_or_else(|| {
                CoreError::InvalidRequest(format!(
                    "response_days must be a whole number of days from 1 to {MAX_RESPONSE_DAYS}"
                ))
            })?;
        let from = e.reader(self.who).response_retention_days().await?;
        e.store
            .set_response_retention_days(self.who.org_id, days, e.now_ms())
            .await?;
        e.record(
            self.who.org_id,
            Actor::user(self.who.user_id, &self.who.email),
            ev::RetentionChanged {
                response_days: days,
                from,
            },
        )
        .await?;
        Ok(days)
    }
}
