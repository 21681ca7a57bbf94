//! The hash-chained audit trail (docs/architecture.md §7): sealing records onto a per-org chain,
//! and verifying a sequence of records against the chain rules.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::error::CoreError;
use crate::ids::{OrgId, RecordId};

pub mod checkpoint;
pub mod event;
pub use event::{AuditEvent, INTERCEPT};

/// `prev_hash` of the first record of every chain.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Who did the thing a record describes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Actor {
    /// `agent`, `user` or `system`.
    #[serde(rename = "type")]
    pub kind: String,
    pub id: Option<String>,
    pub name: String,
}

impl Actor {
    pub fn system() -> Self {
        Actor {
            kind: "system".into(),
            id: None,
            name: "arx".into(),
        }
    }
    pub fn agent(id: impl ToString, name: impl Into<String>) -> Self {
        Actor {
            kind: "agent".into(),
            id: Some(id.to_string()),
            name: name.into(),
        }
    }
    pub fn user(id: impl ToString, email: impl Into<String>) -> Self {
        Actor {
            kind: "user".into(),
            id: Some(id.to_string()),
            name: email.into(),
        }
    }
}

/// A record before it has a place in the chain.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditDraft {
    pub org_id: OrgId,
    pub id: RecordId,
    pub ts_ms: i64,
    pub kind: String,
    pub actor: Actor,
    /// A JSON object; its shape depends on `kind`.
    pub fields: Value,
    /// For an intercept record: the org's configuration epoch the call was decided at.
    /// The insert is refused ([`CoreError::StaleConfiguration`]) if it has moved since.
    pub guard_epoch: Option<i64>,
}

/// A sealed record. Serialized as one line of an NDJSON export, with exactly these
/// members: a line with another is refused, since the hash does not cover it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AuditRecord {
    pub org_id: OrgId,
    pub seq: i64,
    pub id: RecordId,
    /// RFC 3339, UTC, millisecond precision.
    pub ts: String,
    pub kind: String,
    pub actor: Actor,
    pub fields: Value,
    pub prev_hash: String,
    pub hash: String,
}

/// A time as records and checkpoints write it ([`format_ts`]), in ms since the epoch;
/// 0 if it does not parse.
pub fn parse_ts(ts: &str) -> i64 {
    time::OffsetDateTime::parse(ts, &time::format_description::well_known::Rfc3339)
        .map(|t| i64::try_from(t.unix_timestamp_nanos() / 1_000_000).unwrap_or(0))
        .unwrap_or(0)
}

impl AuditRecord {
    pub fn ts_ms(&self) -> i64 {
        parse_ts(&self.ts)
    }

    /// What the record says, typed (see [`event`]).
    pub fn event(&self) -> Result<AuditEvent, CoreError> {
        AuditEvent::parse(&self.kind, &self.fields).map_err(|e| {
            CoreError::Internal(format!(
                "audit record {} ({}) does not parse: {e}",
                self.id, self.kind
            ))
        })
    }

    pub fn risk_score(&self) -> Option<u8> {
        self.fields
            .get("risk")
            .and_then(|r| r.get("score"))
            .and_then(Value::as_u64)
            .and_then(|s| u8::try_from(s).ok())
    }
}

/// The head of a chain: the last sealed `seq` and `hash` (0 and [`GENESIS_HASH`] when empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainHead {
    pub seq: i64,
    pub hash: String,
}

impl ChainHead {
    pub fn genesis() -> Self {
        ChainHead {
            seq: 0,
            hash: GENESIS_HASH.to_string(),
        }
    }
}

pub fn format_ts(ts_ms: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ts_ms) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let fmt = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    t.format(&fmt).unwrap_or_default()
}

/// A record's RFC 8785 canonical JSON in two halves around where `hash` goes: the
/// members that sort before it (`actor`, `fields`) and those after (`id` … `ts`). The
/// record is serialized once, straight from its fields (no `serde_json::Value` copy),
/// and both the hashed body and the export line are made from the halves.
struct Canonical {
    /// `{"actor":…,"fields":…` (no closing brace).
    before: String,
    /// `"id":…,"ts":"…"}` (no opening brace).
    after: String,
}

impl Canonical {
    fn of(r: &AuditRecord) -> Result<Self, CoreError> {
        #[derive(Serialize)]
        struct Before<'a> {
            actor: &'a Actor,
            fields: &'a Value,
        }
        #[derive(Serialize)]
        struct After<'a> {
            id: &'a RecordId,
            kind: &'a str,
            org_id: &'a OrgId,
            prev_hash: &'a str,
            seq: i64,
            ts: &'a str,
        }
        let before = jcs(&Before {
            actor: &r.actor,
            fields: &r.fields,
        })?;
        let after = jcs(&After {
            id: &r.id,
            kind: &r.kind,
            org_id: &r.org_id,
            prev_hash: &r.prev_hash,
            seq: r.seq,
            ts: &r.ts,
        })?;
        let (Some(before), Some(after)) = (before.strip_suffix('}'), after.strip_prefix('{'))
        else {
            return Err(CoreError::Internal(
                "audit canonical form: not an object".into(),
            ));
        };
        Ok(Canonical {
            before: before.to_string(),
            after: after.to_string(),
        })
    }

    /// The whole record, `hash` in its place.
    fn line(&self, hash: &str) -> String {
        format!("{},\"hash\":\"{hash}\",{}", self.before, self.after)
    }
}

/// RFC 8785 canonical JSON of a value, serialized straight from it.
fn jcs<T: Serialize>(v: &T) -> Result<String, CoreError> {
    serde_json_canonicalizer::to_string(v).map_err(|e| CoreError::internal("audit canonicalize", e))
}

/// `SHA-256(prev_hash ‖ body)`, hex; the body (everything but `hash`) is the halves
/// joined by a comma, hashed as they stand.
fn hash_of(prev_hash: &str, c: &Canonical) -> String {
    let mut h = Sha256::new();
    h.update(prev_hash.as_bytes());
    h.update(c.before.as_bytes());
    h.update(b",");
    h.update(c.after.as_bytes());
    hex::encode(h.finalize())
}

/// `SHA-256(prev_hash ‖ canonical JSON of the record without hash)`, hex.
pub fn compute_hash(r: &AuditRecord) -> Result<String, CoreError> {
    Ok(hash_of(&r.prev_hash, &Canonical::of(r)?))
}

/// Places a draft after `head`, returning the sealed record and its export line (what
/// [`export_line`] gives, made from the same serialization as the hash); `head` moves to
/// it.
pub fn seal(head: &mut ChainHead, d: AuditDraft) -> Result<(AuditRecord, String), CoreError> {
    let mut r = AuditRecord {
        org_id: d.org_id,
        seq: head.seq + 1,
        id: d.id,
        ts: format_ts(d.ts_ms),
        kind: d.kind,
        actor: d.actor,
        fields: d.fields,
        prev_hash: head.hash.clone(),
        hash: String::new(),
    };
    let c = Canonical::of(&r)?;
    r.hash = hash_of(&r.prev_hash, &c);
    head.seq = r.seq;
    head.hash = r.hash.clone();
    let line = c.line(&r.hash);
    Ok((r, line))
}

/// What broke the chain, at which `seq`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainBreak {
    /// The first `seq` at which the chain is not intact.
    pub seq: i64,
    pub problem: String,
}

impl std::fmt::Display for ChainBreak {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "chain broken at seq {}: {}", self.seq, self.problem)
    }
}

/// Checks records one by one, in the order given, against the chain rules:
/// one org, `seq` gapless from 1 (or from where a range starts), each `prev_hash` the
/// previous `hash`, each `hash` right; and each record a witness holds a checkpoint of
/// has the hash the checkpoint signed.
#[derive(Debug)]
pub struct Verifier {
    org: Option<OrgId>,
    head: ChainHead,
    /// Witnessed `seq`s and the hash each checkpoint signed.
    witnessed: std::collections::BTreeMap<i64, String>,
    /// How many of them the records reached and matched.
    matched: u64,
}

impl Default for Verifier {
    fn default() -> Self {
        Verifier::after(ChainHead::genesis())
    }
}

/// The fields of an exported line that link it into the chain. The others are skipped
/// unread, yet must be there and be all there is (as in [`AuditRecord`] and [`Actor`]): a
/// line with another member is not a record, whatever its hash covers.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Links<'a> {
    org_id: OrgId,
    seq: i64,
    prev_hash: &'a str,
    hash: &'a str,
    #[serde(rename = "id")]
    _id: serde::de::IgnoredAny,
    #[serde(rename = "ts")]
    _ts: serde::de::IgnoredAny,
    #[serde(rename = "kind")]
    _kind: serde::de::IgnoredAny,
    #[serde(rename = "fields")]
    _fields: serde::de::IgnoredAny,
    #[serde(rename = "actor")]
    _actor: ActorMembers,
}

/// An actor's members, skipped unread ([`Links`]).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ActorMembers {
    #[serde(rename = "type")]
    _kind: serde::de::IgnoredAny,
    #[serde(rename = "id")]
    _id: serde::de::IgnoredAny,
    #[serde(rename = "name")]
    _name: serde::de::IgnoredAny,
}

impl Verifier {
    /// A verifier for records that follow `head` (a range that starts mid-chain).
    pub fn after(head: ChainHead) -> Self {
        Verifier {
            org: None,
            head,
            witnessed: Default::default(),
            matched: 0,
        }
    }

    /// Checks, as the records pass, that the record at each witnessed `seq` has the
    /// witnessed hash.
    pub fn with_witnessed(mut self, witnessed: std::collections::BTreeMap<i64, String>) -> Self {
        self.witnessed = witnessed;
        self
    }

    /// How many witnessed checkpoints the records reached and matched.
    pub fn matched(&self) -> u64 {
        self.matched
    }

    pub fn push(&mut self, r: &AuditRecord) -> Result<(), ChainBreak> {
        self.link(r.org_id, r.seq, &r.prev_hash)?;
        let actual = compute_hash(r).map_err(|e| self.brk(e.to_string()))?;
        if actual != r.hash {
            return Err(self.brk("hash does not match the record's contents (edited)".into()));
        }
        self.advance(r.seq, &r.hash)
    }

    /// Checks one line of an export. A line as ARX writes it (RFC 8785 canonical JSON of
    /// the whole record) is hashed as it stands, less its top-level `hash` member, with
    /// no re-encoding; any other spelling of the same record is decoded and
    /// canonicalized, and verifies the same.
    pub fn push_line(&mut self, line: &str) -> Result<(), ChainBreak> {
        self.push_checked(line, LineCheck::of(line))
    }

    /// [`Verifier::push_line`] with the line's own check already done (possibly on
    /// another thread: it needs nothing from the records before).
    pub fn push_checked(&mut self, line: &str, check: LineCheck) -> Result<(), ChainBreak> {
        let LineCheck::Hashed {
            org_id,
            seq,
            prev_hash,
            hash,
        } = check
        else {
            let r: AuditRecord = serde_json::from_str(line)
                .map_err(|e| self.brk(format!("not an audit record: {e}")))?;
            return self.push(&r);
        };
        self.link(org_id, seq, &prev_hash)?;
        self.advance(seq, &hash)
    }

    fn brk(&self, problem: String) -> ChainBreak {
        ChainBreak {
            seq: self.head.seq + 1,
            problem,
        }
    }

    /// The org, seq and prev_hash rules.
    fn link(&mut self, org: OrgId, seq: i64, prev_hash: &str) -> Result<(), ChainBreak> {
        let expected = self.head.seq + 1;
        if *self.org.get_or_insert(org) != org {
            return Err(self.brk(format!("record at seq {seq} belongs to another org")));
        }
        if seq != expected {
            return Err(self.brk(if seq > expected {
                format!("expected seq {expected}, found {seq} (records missing)")
            } else {
                format!("expected seq {expected}, found {seq} (record repeated or out of order)")
            }));
        }
        if prev_hash != self.head.hash {
            return Err(self.brk("prev_hash does not match the previous record's hash".into()));
        }
        Ok(())
    }

    fn advance(&mut self, seq: i64, hash: &str) -> Result<(), ChainBreak> {
        if let Some(signed) = self.witnessed.get(&seq) {
            if signed != hash {
                return Err(self.brk(
                    "the record differs from the one the witness holds a signed checkpoint of (the chain was rewritten from here)".into(),
                ));
            }
            self.matched += 1;
        }
        self.head = ChainHead {
            seq,
            hash: hash.to_string(),
        };
        Ok(())
    }

    /// The head reached so far.
    pub fn head(&self) -> &ChainHead {
        &self.head
    }

    /// Checks the last record against a head known from elsewhere (the store's head row).
    pub fn finish(&self, expected_tip: &ChainHead) -> Result<(), ChainBreak> {
        if self.head.seq < expected_tip.seq {
            return Err(ChainBreak {
                seq: self.head.seq + 1,
                problem: format!(
                    "chain ends at seq {} but the recorded head is seq {} (records missing at the end)",
                    self.head.seq, expected_tip.seq
                ),
            });
        }
        if self.head != *expected_tip {
            return Err(ChainBreak {
                seq: expected_tip.seq,
                problem: "the last record does not match the recorded chain head".into(),
            });
        }
        Ok(())
    }

    /// Checks that the records reached the last witnessed checkpoint: a copy that stops
    /// before it lost its tail.
    pub fn finish_witnessed(&self) -> Result<(), ChainBreak> {
        match self.witnessed.last_key_value() {
            Some((&seq, _)) if seq > self.head.seq => Err(ChainBreak {
                seq: self.head.seq + 1,
                problem: format!(
                    "the records end at seq {} but the witness holds a signed checkpoint at seq {seq}: seq {} to {seq} are missing (truncated)",
                    self.head.seq,
                    self.head.seq + 1
                ),
            }),
            _ => Ok(()),
        }
    }
}

/// What can be checked of one export line alone: in canonical form and hashing to its
/// `hash`, with the members that link it into the chain; or to be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineCheck {
    Hashed {
        org_id: OrgId,
        seq: i64,
        prev_hash: String,
        hash: String,
    },
    /// Not canonical (or not a record): decoded and checked the general way.
    Decode,
}

impl LineCheck {
    /// A canonical line is hashed as it stands; any other is decoded and canonicalized
    /// here (still on the line's own thread). What does not hash right is left for
    /// [`Verifier::push_checked`] to report at its place in the chain.
    pub fn of(line: &str) -> LineCheck {
        if let Ok(l) = serde_json::from_str::<Links>(line)
            && canonical_line_hashes_to(line, l.prev_hash, l.hash)
        {
            return LineCheck::Hashed {
                org_id: l.org_id,
                seq: l.seq,
                prev_hash: l.prev_hash.to_string(),
                hash: l.hash.to_string(),
            };
        }
        match serde_json::from_str::<AuditRecord>(line) {
            Ok(r) if compute_hash(&r).is_ok_and(|h| h == r.hash) => LineCheck::Hashed {
                org_id: r.org_id,
                seq: r.seq,
                prev_hash: r.prev_hash,
                hash: r.hash,
            },
            _ => LineCheck::Decode,
        }
    }
}

/// Whether `line`, read as a record in canonical form, hashes to `hash`: the bytes
/// before and after its top-level `hash` member, after `prev_hash`. In canonical form
/// `hash` sorts after `fields` and before `id`, and the members after it (`id`, `kind`,
/// `org_id`, `prev_hash`, `seq`, `ts`) are strings and a number, so the top-level member
/// is the last `,"hash":"` of the line. A line in any other form does not match, and is
/// then checked the slow way.
fn canonical_line_hashes_to(line: &str, prev_hash: &str, hash: &str) -> bool {
    const MEMBER: &str = ",\"hash\":\"";
    let mut want = [0u8; 32];
    if hex::decode_to_slice(hash, &mut want).is_err() {
        return false;
    }
    let Some(at) = line.rfind(MEMBER) else {
        return false;
    };
    let value = &line[at + MEMBER.len()..];
    if !value.starts_with(hash) || !value[hash.len()..].starts_with('"') {
        return false;
    }
    let end = at + MEMBER.len() + hash.len() + 1;
    let mut h = Sha256::new();
    h.update(prev_hash.as_bytes());
    h.update(&line.as_bytes()[..at]);
    h.update(&line.as_bytes()[end..]);
    h.finalize().as_slice() == want
}

/// A record as an export line: RFC 8785 canonical JSON of the whole record.
pub fn export_line(r: &AuditRecord) -> Result<String, CoreError> {
    Ok(Canonical::of(r)?.line(&r.hash))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn chain(n: usize) -> Vec<AuditRecord> {
        let org = OrgId::new();
        let mut head = ChainHead::genesis();
        (0..n)
            .map(|i| {
                seal(
                    &mut head,
                    AuditDraft {
                        org_id: org,
                        id: RecordId::new(),
                        ts_ms: 1_700_000_000_000 + i as i64,
                        kind: "execute.intercept".into(),
                        actor: Actor::agent("a", "agent"),
                        fields: json!({"n": i, "text": "héllo \u{1F600}", "f": 1.5}),
                        guard_epoch: None,
                    },
                )
                .unwrap()
                .0
            })
            .collect()
    }

    fn verify(rs: &[AuditRecord]) -> Result<(), ChainBreak> {
        let mut v = Verifier::default();
        rs.iter().try_for_each(|r| v.push(r))
    }

    /// The halves give exactly what canonicalizing the whole record gives, for the hash
    /// and for the line, whatever the fields hold (escapes, astral characters, numbers
    /// JSON writes in exponent form, nesting, keys that sort around `hash`).
    #[test]
    fn the_line_and_the_hash_are_the_records_canonical_json() {
        let fields = json!({
            "zeta": [1e21, -0.0, 1.5, 12345678901234567890u64, null, true],
            "Ünïcode": "\u{1F600} \u{7} \"quoted\" \\ \u{e000}",
            "hash": "a field named hash", "id": {"nested": {"b": 1, "a": [2, {"y": 0, "x": 1}]}},
            "": "empty key", "\u{10000}": "astral key", "\u{ffff}": "bmp key",
        });
        let mut head = ChainHead::genesis();
        let draft = AuditDraft {
            org_id: OrgId::new(),
            id: RecordId::new(),
            ts_ms: 1_700_000_000_123,
            kind: "execute.intercept".into(),
            actor: Actor::user("u-1", "ana@example.com"),
            fields,
            guard_epoch: Some(3),
        };
        let (r, line) = seal(&mut head, draft).unwrap();
        assert_eq!(line, serde_json_canonicalizer::to_string(&r).unwrap());
        assert_eq!(export_line(&r).unwrap(), line);
        let mut whole = serde_json::to_value(&r).unwrap();
        whole.as_object_mut().unwrap().remove("hash");
        let mut h = Sha256::new();
        h.update(r.prev_hash.as_bytes());
        h.update(
            serde_json_canonicalizer::to_string(&whole)
                .unwrap()
                .as_bytes(),
        );
        assert_eq!(r.hash, hex::encode(h.finalize()));
        assert_eq!(compute_hash(&r).unwrap(), r.hash);
        assert_eq!(head.hash, r.hash);
    }

    #[test]
    fn a_sealed_chain_verifies_and_round_trips_through_json() {
        let rs = chain(20);
        verify(&rs).unwrap();
        let lines: Vec<AuditRecord> = rs
            .iter()
            .map(|r| serde_json::from_str(&serde_json::to_string(r).unwrap()).unwrap())
            .collect();
        verify(&lines).unwrap();
        assert_eq!(rs[0].prev_hash, GENESIS_HASH);
        assert_eq!(rs[1].prev_hash, rs[0].hash);
    }

    #[test]
    fn hash_uses_rfc8785_key_order() {
        let mut head = ChainHead::genesis();
        let d = |fields| AuditDraft {
            org_id: OrgId(uuid::Uuid::nil()),
            id: RecordId(uuid::Uuid::nil()),
            ts_ms: 0,
            kind: "k".into(),
            actor: Actor::system(),
            fields,
            guard_epoch: None,
        };
        let a = seal(&mut head.clone(), d(json!({"b": 1, "a": 2})))
            .unwrap()
            .0;
        let b = seal(
            &mut head,
            d(serde_json::from_str(r#"{"a":2,"b":1}"#).unwrap()),
        )
        .unwrap()
        .0;
        assert_eq!(a.hash, b.hash);
    }

    proptest! {
        #[test]
        fn any_edit_is_caught_at_its_seq(n in 2usize..30, i in 0usize..30, v in any::<i64>()) {
            let mut rs = chain(n);
            let i = i % n;
            prop_assume!(rs[i].fields["n"] != json!(v));
            rs[i].fields["n"] = json!(v);
            prop_assert_eq!(verify(&rs).unwrap_err().seq, i as i64 + 1);
        }

        #[test]
        fn any_deletion_is_caught(n in 2usize..30, i in 0usize..29) {
            let mut rs = chain(n);
            let i = i % (n - 1); // deleting the very last one is caught by `finish`
            rs.remove(i);
            prop_assert_eq!(verify(&rs).unwrap_err().seq, i as i64 + 1);
        }

        #[test]
        fn any_swap_is_caught(n in 2usize..30, i in 0usize..29) {
            let mut rs = chain(n);
            let i = i % (n - 1);
            rs.swap(i, i + 1);
            prop_assert_eq!(verify(&rs).unwrap_err().seq, i as i64 + 1);
        }

        #[test]
        fn any_insertion_is_caught(n in 2usize..30, i in 0usize..30) {
            let mut rs = chain(n);
            let i = i % n;
            let mut forged = rs[i].clone();
            forged.id = RecordId::new();
            forged.hash = compute_hash(&forged).unwrap();
            rs.insert(i + 1, forged);
            prop_assert_eq!(verify(&rs).unwrap_err().seq, i as i64 + 2);
        }
    }

    #[test]
    fn export_lines_verify_as_written_and_in_any_other_spelling() {
        let rs = chain(10);
        let mut fast = Verifier::default();
        let mut slow = Verifier::default();
        for r in &rs {
            fast.push_line(&export_line(r).unwrap()).unwrap();
            // serde's own field order and spacing: not canonical, still the same record.
            slow.push_line(&serde_json::to_string_pretty(r).unwrap().replace('\n', " "))
                .unwrap();
        }
        assert_eq!(fast.head(), slow.head());
        // An edit inside `fields` is caught by both paths.
        let mut edited = Verifier::default();
        let lines: Vec<String> = rs.iter().map(|r| export_line(r).unwrap()).collect();
        for l in &lines[..3] {
            edited.push_line(l).unwrap();
        }
        let forged = lines[3].replace(r#""n":3"#, r#""n":4"#);
        assert_ne!(forged, lines[3]);
        assert_eq!(edited.push_line(&forged).unwrap_err().seq, 4);
        // A member the record does not have, added anywhere, is refused: the hash does
        // not cover it, so it would be unverified text in a verified export.
        for extra in [
            lines[3].replacen('{', r#"{"approved_by":"ciso","#, 1),
            lines[3].replacen(r#""actor":{"#, r#""actor":{"role":"admin","#, 1),
        ] {
            assert_ne!(extra, lines[3]);
            let mut v = Verifier::default();
            for l in &lines[..3] {
                v.push_line(l).unwrap();
            }
            assert_eq!(v.push_line(&extra).unwrap_err().seq, 4, "{extra}");
        }
        // ...also when the line's hash was computed over the member: still not a record.
        let mut forged = rs.clone();
        let at = 3;
        let line = |r: &AuditRecord| {
            export_line(r)
                .unwrap()
                .replacen('{', r#"{"approved_by":"ciso","#, 1)
        };
        // The hash over the line as it stands (the fast path's reading): the line
        // without its `hash` member, after `prev_hash`.
        let member = format!(r#","hash":"{}""#, forged[at].hash);
        let without = line(&forged[at]).replacen(&member, "", 1);
        let mut h = Sha256::new();
        h.update(forged[at].prev_hash.as_bytes());
        h.update(without.as_bytes());
        forged[at].hash = hex::encode(h.finalize());
        let mut v = Verifier::default();
        for r in &forged[..at] {
            v.push_line(&export_line(r).unwrap()).unwrap();
        }
        let rehashed = line(&forged[at]);
        assert!(canonical_line_hashes_to(
            &rehashed,
            &forged[at].prev_hash,
            &forged[at].hash
        ));
        assert_eq!(v.push_line(&rehashed).unwrap_err().seq, 4, "{rehashed}");
        // A nested `hash` key cannot stand in for the record's own.
        let mut nested = rs[0].clone();
        nested.fields = json!({"hash": rs[0].hash.clone()});
        nested.hash = compute_hash(&nested).unwrap();
        Verifier::default()
            .push_line(&export_line(&nested).unwrap())
            .unwrap();
    }

    #[test]
    fn a_rewritten_or_truncated_copy_is_caught_against_the_witness() {
        let rs = chain(6);
        let witnessed =
            std::collections::BTreeMap::from([(3, rs[2].hash.clone()), (5, rs[4].hash.clone())]);
        let mut v = Verifier::default().with_witnessed(witnessed.clone());
        rs.iter().for_each(|r| v.push(r).unwrap());
        assert_eq!((v.matched(), v.finish_witnessed()), (2, Ok(())));
        let mut short = Verifier::default().with_witnessed(witnessed.clone());
        rs[..4].iter().for_each(|r| short.push(r).unwrap());
        assert_eq!(short.finish_witnessed().unwrap_err().seq, 5);
        // Re-chained from seq 4 on: internally consistent, but not what was witnessed.
        let mut head = ChainHead {
            seq: 3,
            hash: rs[2].hash.clone(),
        };
        let mut rewritten = rs[..3].to_vec();
        for r in &rs[3..] {
            let mut f = r.fields.clone();
            f["n"] = json!(99);
            rewritten.push(
                seal(
                    &mut head,
                    AuditDraft {
                        org_id: r.org_id,
                        id: r.id,
                        ts_ms: r.ts_ms(),
                        kind: r.kind.clone(),
                        actor: r.actor.clone(),
                        fields: f,
                        guard_epoch: None,
                    },
                )
                .unwrap()
                .0,
            );
        }
        verify(&rewritten).unwrap();
        let mut w = Verifier::default().with_witnessed(witnessed);
        let err = rewritten.iter().try_for_each(|r| w.push(r)).unwrap_err();
        assert_eq!(err.seq, 5);
        assert!(err.problem.contains("rewritten"), "{err}");
    }

    #[test]
    fn truncation_is_caught_against_the_recorded_head() {
        let rs = chain(5);
        let mut v = Verifier::default();
        rs[..4].iter().for_each(|r| v.push(r).unwrap());
        let tip = ChainHead {
            seq: 5,
            hash: rs[4].hash.clone(),
        };
        assert_eq!(v.finish(&tip).unwrap_err().seq, 5);
    }
}
