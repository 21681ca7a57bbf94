"""Offline verification of an ARX audit export against its witness (docs/audit.md),
without trusting ARX: the same checks as ``arx audit verify``.

    result = verify_chain(export="acme.ndjson.gz", witness="witness/", public_key="org.pem")
    assert result.ok

or from a shell::

    python -m agentvault.verify --export acme.ndjson.gz --witness witness/ --public-key org.pem

What is checked, in the order ``arx audit verify`` meets it (server/src/cli.rs,
crates/core/src/engine/verify.rs, crates/core/src/audit/mod.rs and checkpoint.rs):

1. The witness: every ``*.json`` under ``<witness>/<org_id>/`` must be a checkpoint of
   the export's org whose file name is its ``seq`` (20 digits); with a public key, its
   ``key_id`` must be the key's and its Ed25519 signature must verify over the RFC 8785
   canonical JSON of the checkpoint without ``signature``.
2. The export, line by line: one org; ``seq`` 1, 2, 3... (from the first line's with
   ``partial``); each ``prev_hash`` the previous ``hash`` (64 zeros first); each
   ``hash`` = hex(SHA-256(prev_hash ‖ RFC 8785 JSON of the record without ``hash``)),
   a canonical line being hashed as it stands less its top-level ``hash`` member; at
   each witnessed ``seq`` the signed hash.
3. The tail: the export must reach the newest witnessed checkpoint.

``first_bad_seq`` and ``problem`` are what ``arx audit verify`` reports (it stops at the
first problem); the flags come from checking everything, so one run says which kinds
of problem there are.

Stricter than the Rust verifier in one way, following docs/audit.md (a record has
"exactly these members", and a line with another "is refused at its seq"): a record
with members besides the nine, or an actor with members besides ``type``, ``id`` and
``name``, is refused even when its ``hash`` was computed over them. ``arx audit verify``
accepts such a line when it is canonical and its hash matches (its fast path reads only
the members that link the line into the chain); with the hash left as it was, both
refuse it at the same ``seq``, in their own words (tests/live/test_live_verify.py).
"""

from __future__ import annotations

import argparse
import base64
import binascii
import gzip
import hashlib
import json
import math
import os
import sys
import uuid
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any, cast

import rfc8785
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key

__all__ = ["verify_chain", "ChainVerification", "Problem", "load_public_key", "key_id_of", "main"]

GENESIS_HASH = "0" * 64
RECORD_MEMBERS = frozenset({"org_id", "seq", "id", "ts", "kind", "actor", "fields", "prev_hash", "hash"})
ACTOR_MEMBERS = frozenset({"type", "id", "name"})
CHECKPOINT_MEMBERS = frozenset({"type", "version", "org_id", "seq", "hash", "ts", "key_id", "signature"})
CHECKPOINT_TYPE = "arx.checkpoint"
CHECKPOINT_VERSION = 1
_I64 = (-(2**63), 2**63 - 1)
_SAFE_INT = 2**53 - 1
_HASH_MEMBER = ',"hash":"'

ExportSource = str | os.PathLike[str] | IO[str] | IO[bytes] | Iterable[str] | Iterable[bytes]
WitnessSource = str | os.PathLike[str] | Iterable[Mapping[str, Any] | str | bytes]
KeySource = str | bytes | os.PathLike[str] | Ed25519PublicKey


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong, at the ``seq`` where the chain breaks because of it."""

    seq: int
    problem: str

    def __str__(self) -> str:
        return f"chain broken at seq {self.seq}: {self.problem}"


@dataclass(slots=True)
class ChainVerification:
    """What a verification found. ``bool(result)`` is ``result.ok``."""

    #: Nothing wrong: what ``arx audit verify`` answers ``OK`` to.
    ok: bool = True
    #: The ``seq`` ``arx audit verify`` reports (its first problem), or ``None``.
    first_bad_seq: int | None = None
    #: That problem, as ``arx audit verify`` words it.
    problem: str | None = None
    #: ``seq`` runs 1, 2, 3... with no record missing, repeated or out of order.
    no_gaps: bool = True
    #: Every record hashes to its ``hash``, links to the previous one, and belongs to
    #: the org (no edited, forged or foreign record).
    hashes_valid: bool = True
    #: The records at witnessed ``seq``s have the signed hashes and the export reaches
    #: the newest checkpoint. ``None``: not checked (no witness, or it holds no
    #: checkpoint of the org).
    tip_matches_witness: bool | None = None
    #: Every checkpoint in the witness verifies under the public key. ``None``: not
    #: checked (no public key, or no checkpoint).
    signatures_valid: bool | None = None
    records: int = 0
    first_seq: int = 1
    head_seq: int = 0
    head_hash: str = GENESIS_HASH
    #: Checkpoints of the org the witness holds (valid ones).
    checkpoints: int = 0
    #: Witnessed checkpoints the export reached and matched.
    matched: int = 0
    #: The newest witnessed ``seq``.
    newest_checkpoint: int | None = None
    key_id: str | None = None
    org_id: str | None = None
    witness_given: bool = False
    problems: list[Problem] = field(default_factory=list)

    def __bool__(self) -> bool:
        return self.ok

    def __getitem__(self, name: str) -> Any:
        return getattr(self, name)

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["problems"] = [{"seq": p.seq, "problem": p.problem} for p in self.problems]
        return d

    def summary(self) -> str:
        """One line, as ``arx audit verify`` prints it."""
        if not self.ok:
            assert self.first_bad_seq is not None
            return f"FAILED: chain broken at seq {self.first_bad_seq}: {self.problem}"
        out = (
            f"OK: {self.records} records (seq {self.first_seq} to {self.head_seq}), "
            f"chain intact, head hash {self.head_hash}"
        )
        if not self.witness_given:
            return out
        out += f"; {self.matched} checkpoints matched"
        if self.newest_checkpoint is None:
            return out + f"; the witness holds no checkpoint of org {self.org_id}"
        if self.signatures_valid:
            return out + (
                f"; {self.checkpoints} witnessed checkpoints, signatures valid (key "
                f"{self.key_id}), the newest at seq {self.newest_checkpoint}"
            )
        return out + (
            f"; {self.checkpoints} witnessed checkpoints, the newest at seq "
            f"{self.newest_checkpoint}; signatures NOT checked (give --public-key)"
        )


# ------------------------------------------------------------------------- keys


def key_id_of(key: Ed25519PublicKey) -> str:
    """The first 16 hex digits of SHA-256 of the 32 raw public-key bytes."""
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    raw = key.public_bytes(Encoding.Raw, PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def load_public_key(key: KeySource) -> Ed25519PublicKey:
    """An org's public key: an ``Ed25519PublicKey``, SubjectPublicKeyInfo PEM (text,
    bytes or a file), or the base64 of its 32 raw bytes."""
    if isinstance(key, Ed25519PublicKey):
        return key
    if isinstance(key, os.PathLike) or (
        isinstance(key, str) and not key.strip().startswith("-----BEGIN") and os.path.isfile(key)
    ):
        key = Path(key).read_bytes()
    text = key.decode("utf-8", "replace") if isinstance(key, bytes) else key
    text = text.strip()
    if text.startswith("-----BEGIN"):
        try:
            loaded = load_pem_public_key(text.encode())
        except ValueError as e:
            raise ValueError(f"not an Ed25519 public key in PEM: {e}") from e
        if not isinstance(loaded, Ed25519PublicKey):
            raise ValueError("not an Ed25519 public key in PEM (another algorithm)")
        return loaded
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != 32:
        raise ValueError("not an Ed25519 public key (PEM, or the base64 of 32 bytes)")
    return Ed25519PublicKey.from_public_bytes(raw)


# ------------------------------------------------------------------------- JSON


class _Obj(dict[str, Any]):
    """A decoded JSON object that remembers the names it held twice."""

    dups: tuple[str, ...] = ()


def _pairs(pairs: list[tuple[str, Any]]) -> _Obj:
    d = _Obj(pairs)
    if len(d) != len(pairs):
        seen: set[str] = set()
        d.dups = tuple(k for k, _ in pairs if k in seen or seen.add(k))  # type: ignore[func-returns-value]
    return d


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _finite(text: str) -> float:
    f = float(text)
    if math.isinf(f):
        raise ValueError(f"number out of range: {text}")
    return f


def _loads(text: str) -> Any:
    return json.loads(
        text, object_pairs_hook=_pairs, parse_constant=_no_constant, parse_float=_finite
    )


def _jcs_ready(v: Any) -> Any:
    """What RFC 8785 serialization needs: integers beyond 2^53 become the double they
    round to, as serde_json_canonicalizer writes every number (``value as f64``)."""
    if isinstance(v, bool) or v is None or isinstance(v, (str, float)):
        return v
    if isinstance(v, int):
        return float(v) if abs(v) > _SAFE_INT else v
    if isinstance(v, list):
        return [_jcs_ready(x) for x in v]
    if isinstance(v, dict):
        return {k: _jcs_ready(x) for k, x in v.items()}
    return v


def canonical(v: Any) -> bytes:
    """RFC 8785 canonical JSON (UTF-8), numbers as ARX writes them."""
    return rfc8785.dumps(_jcs_ready(v))


def _uuid(v: Any, what: str) -> uuid.UUID:
    if not isinstance(v, str):
        raise ValueError(f"{what} is not a string")
    try:
        return uuid.UUID(v)
    except ValueError as e:
        raise ValueError(f"{what} is not a UUID: {v!r}") from e


def _int(v: Any, what: str, lo: int = _I64[0], hi: int = _I64[1]) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
        raise ValueError(f"{what} is not an integer in range: {v!r}")
    return v


def _text(v: Any, what: str) -> str:
    if not isinstance(v, str):
        raise ValueError(f"{what} is not a string")
    return v


# ------------------------------------------------------------------------- records


@dataclass(slots=True)
class _Record:
    org: uuid.UUID
    seq: int
    prev_hash: str
    hash: str
    body: dict[str, Any]  # the record without ``hash``, normalized as ARX serializes it


def _record(obj: Any) -> _Record:
    if not isinstance(obj, dict):
        raise ValueError("not a JSON object")
    if isinstance(obj, _Obj) and obj.dups:
        raise ValueError(f"duplicate member {obj.dups[0]!r}")
    missing = RECORD_MEMBERS - obj.keys()
    if missing:
        raise ValueError(f"missing member {sorted(missing)[0]!r}")
    extra = obj.keys() - RECORD_MEMBERS
    if extra:
        raise ValueError(f"unknown member {sorted(extra)[0]!r} (a record has exactly {', '.join(sorted(RECORD_MEMBERS))})")
    actor = obj["actor"]
    if not isinstance(actor, dict) or (isinstance(actor, _Obj) and actor.dups):
        raise ValueError("actor is not an object (or repeats a member)")
    if actor.keys() - ACTOR_MEMBERS or not {"type", "name"} <= actor.keys():
        raise ValueError("actor has other members than type, id and name")
    actor_id = actor.get("id")
    if actor_id is not None and not isinstance(actor_id, str):
        raise ValueError("actor.id is not a string or null")
    if not isinstance(obj["fields"], dict):
        raise ValueError("fields is not an object")
    org = _uuid(obj["org_id"], "org_id")
    seq = _int(obj["seq"], "seq")
    prev_hash = _text(obj["prev_hash"], "prev_hash")
    body: dict[str, Any] = {
        "org_id": str(org),
        "seq": seq,
        "id": str(_uuid(obj["id"], "id")),
        "ts": _text(obj["ts"], "ts"),
        "kind": _text(obj["kind"], "kind"),
        "actor": {
            "type": _text(actor["type"], "actor.type"),
            "id": actor_id,
            "name": _text(actor["name"], "actor.name"),
        },
        "fields": obj["fields"],
        "prev_hash": prev_hash,
    }
    return _Record(org, seq, prev_hash, _text(obj["hash"], "hash"), body)


def _canonical_line_hashes_to(line: str, prev_hash: str, hash_: str) -> bool:
    """A line in canonical form hashed as it stands: the bytes before and after its
    top-level ``hash`` member (the last ``,"hash":"`` of the line), after prev_hash."""
    at = line.rfind(_HASH_MEMBER)
    if at < 0:
        return False
    start = at + len(_HASH_MEMBER)
    if not line.startswith(hash_ + '"', start):
        return False
    end = start + len(hash_) + 1
    data = line.encode()
    cut_at, cut_end = len(line[:at].encode()), len(line[:end].encode())
    h = hashlib.sha256(prev_hash.encode())
    h.update(data[:cut_at])
    h.update(data[cut_end:])
    return h.hexdigest() == hash_


def record_hash(rec: Mapping[str, Any]) -> str:
    """``hex(SHA-256(prev_hash ‖ C(record without hash)))`` of a decoded record."""
    r = _record(dict(rec))
    return hashlib.sha256(r.prev_hash.encode() + canonical(r.body)).hexdigest()


# ------------------------------------------------------------------------- inputs


def _lines(export: ExportSource) -> Iterator[tuple[int, str | None]]:
    """``(line number, text)`` of each line; ``None`` for a line that is not UTF-8."""
    if isinstance(export, (str, os.PathLike)):
        with open(export, "rb") as f:
            magic = f.read(2)
            f.seek(0)
            if magic == b"\x1f\x8b":
                with gzip.GzipFile(fileobj=f) as gz:
                    yield from _lines(gz)
            else:
                yield from _lines(f)
        return
    raw: str | bytes
    for n, raw in enumerate(cast(Iterable[str | bytes], export), start=1):
        if isinstance(raw, bytes):
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                yield n, None
                continue
        else:
            text = raw
        yield n, text.rstrip("\r\n")


def _witness_entries(
    witness: WitnessSource, org: uuid.UUID
) -> list[tuple[str, Any]]:
    """``(name, decoded checkpoint or the reason it is none)`` for each object."""
    if isinstance(witness, (str, os.PathLike)):
        if str(witness).startswith("s3://"):
            raise ValueError(
                "s3:// witnesses are not read by this verifier: copy the bucket's "
                f"<prefix>/{org}/ to a directory (e.g. `aws s3 sync`) and pass that"
            )
        root = Path(witness)
        if not root.is_dir():
            raise ValueError(f"witness {root}: not a directory")
        folder = root / str(org)
        if not folder.is_dir() and root.name == str(org):
            folder, root = root, root.parent
        out: list[tuple[str, Any]] = []
        for f in sorted(folder.rglob("*.json")) if folder.is_dir() else []:
            name = f.relative_to(root).as_posix()
            try:
                out.append((name, _loads(f.read_text(encoding="utf-8"))))
            except (ValueError, UnicodeDecodeError) as e:
                out.append((name, ValueError(f"is not a checkpoint: {e}")))
        return out
    entries: list[tuple[str, Any]] = []
    for i, c in enumerate(witness):
        try:
            obj = _loads(c.decode() if isinstance(c, bytes) else c) if isinstance(c, (str, bytes)) else c
        except ValueError as e:
            entries.append((f"<checkpoint {i}>", ValueError(f"is not a checkpoint: {e}")))
            continue
        seq = obj.get("seq") if isinstance(obj, Mapping) else None
        name = f"{org}/{seq:020}.json" if isinstance(seq, int) else f"<checkpoint {i}>"
        entries.append((name, obj))
    return entries


def _checkpoint(obj: Any, org: uuid.UUID, name: str) -> dict[str, Any]:
    """The checkpoint's members, checked as ``Checkpoint`` deserializes and as the
    witness reader checks them (its org, and the seq its name gives)."""
    if isinstance(obj, Exception):
        raise obj
    if not isinstance(obj, Mapping) or (isinstance(obj, _Obj) and obj.dups):
        raise ValueError("is not a checkpoint: not a JSON object (or a member repeated)")
    if set(obj) != CHECKPOINT_MEMBERS:
        odd = sorted(set(obj) ^ CHECKPOINT_MEMBERS)
        raise ValueError(f"is not a checkpoint: member {odd[0]!r} missing or unknown")
    try:
        c = {
            "type": _text(obj["type"], "type"),
            "version": _int(obj["version"], "version", 0, 2**32 - 1),
            "org_id": _uuid(obj["org_id"], "org_id"),
            "seq": _int(obj["seq"], "seq"),
            "hash": _text(obj["hash"], "hash"),
            "ts": _text(obj["ts"], "ts"),
            "key_id": _text(obj["key_id"], "key_id"),
            "signature": _text(obj["signature"], "signature"),
        }
    except ValueError as e:
        raise ValueError(f"is not a checkpoint: {e}") from e
    if c["org_id"] != org:
        raise ValueError(f"is a checkpoint of another org ({c['org_id']})")
    if not name.endswith(f"{c['seq']:020}.json"):
        raise ValueError(f"holds the checkpoint of seq {c['seq']}, not the seq its name gives")
    return c


class _SignatureProblem(ValueError):
    pass


def _verify_signature(c: dict[str, Any], key: Ed25519PublicKey, key_id: str) -> None:
    if c["type"] != CHECKPOINT_TYPE or c["version"] != CHECKPOINT_VERSION:
        raise _SignatureProblem(f"is not an {CHECKPOINT_TYPE} version {CHECKPOINT_VERSION}")
    if c["key_id"] != key_id:
        raise _SignatureProblem(
            f"was signed by key {c['key_id']}, not by the public key given ({key_id})"
        )
    try:
        sig = base64.b64decode(c["signature"], validate=True)
    except (binascii.Error, ValueError):
        sig = b""
    # Padded standard base64 in its one canonical spelling, as the Rust reader takes it.
    if len(sig) != 64 or base64.b64encode(sig).decode() != c["signature"]:
        raise _SignatureProblem("has a signature that is not 64 bytes of base64")
    message = {k: (str(v) if k == "org_id" else v) for k, v in c.items() if k != "signature"}
    try:
        key.verify(sig, canonical(message))
    except InvalidSignature:
        raise _SignatureProblem(
            "has a signature that does not verify (forged or altered)"
        ) from None


def _seq_of_name(name: str) -> int:
    stem = name.rsplit("/", 1)[-1]
    if stem.endswith(".json"):
        try:
            return int(stem[: -len(".json")])
        except ValueError:
            pass
    return 0


# ------------------------------------------------------------------------- verifying


def verify_chain(
    export: ExportSource | None = None,
    witness: WitnessSource | None = None,
    public_key: KeySource | None = None,
    *,
    partial: bool = False,
    arx_export: ExportSource | None = None,
    witness_bucket: WitnessSource | None = None,
) -> ChainVerification:
    """Verifies an export (a path, gzipped or not, or lines) against the chain rules,
    and with ``witness`` (the witness directory, or the checkpoints themselves) against
    the signed checkpoints; with ``public_key``, every checkpoint's signature.

    ``partial``: the export is a range (``arx audit export --from-seq``); it is checked
    from its first line's ``prev_hash`` on. ``arx_export`` and ``witness_bucket`` are
    the product documents' names for ``export`` and ``witness``.
    """
    export = export if export is not None else arx_export
    witness = witness if witness is not None else witness_bucket
    if export is None:
        raise TypeError("verify_chain needs export=")
    res = ChainVerification()
    key = load_public_key(public_key) if public_key is not None else None
    res.key_id = key_id_of(key) if key is not None else None

    lines: Iterator[tuple[int, str | None]] = (
        (n, t) for n, t in _lines(export) if t is None or t.strip()
    )
    first = next(lines, None)
    if first is not None:
        lines = _chain_of(first, lines)

    witnessed: dict[int, str] = {}
    witness_problems: list[Problem] = []
    if witness is not None:
        if first is None or first[1] is None:
            raise ValueError("the export holds no record, so its org is unknown")
        try:
            org = _uuid(_loads(first[1]).get("org_id"), "org_id")
        except (ValueError, AttributeError) as e:
            raise ValueError(f"the export's first line is not an audit record: {e}") from e
        entries = _witness_entries(witness, org)
        sig_ok = True
        for name, obj in entries:
            try:
                c = _checkpoint(obj, org, name)
                if key is not None:
                    assert res.key_id is not None
                    _verify_signature(c, key, res.key_id)
            except ValueError as e:
                if isinstance(e, _SignatureProblem) or (
                    key is not None and str(e).startswith("is not a checkpoint")
                ):
                    sig_ok = False
                witness_problems.append(
                    Problem(_seq_of_name(name), f"the witness's checkpoint {name} {e}")
                )
                continue
            witnessed[c["seq"]] = c["hash"]
        res.witness_given = True
        res.org_id = str(org)
        res.checkpoints = len(witnessed)
        res.newest_checkpoint = max(witnessed) if witnessed else None
        if key is not None and entries:
            res.signatures_valid = sig_ok
        witness_problems.sort(key=lambda p: p.seq)
    res.problems.extend(witness_problems)

    chain = _Chain(witnessed, res)
    for n, text in lines:
        chain.push(n, text, partial)
    chain.finish()
    if witnessed:
        res.tip_matches_witness = chain.tip_ok
    res.ok = not res.problems
    if res.problems:
        res.first_bad_seq = res.problems[0].seq
        res.problem = res.problems[0].problem
    return res


def _chain_of(
    first: tuple[int, str | None], rest: Iterator[tuple[int, str | None]]
) -> Iterator[tuple[int, str | None]]:
    yield first
    yield from rest


def _hashes_to(line: str, rec: _Record) -> bool:
    """Whether the record hashes to its ``hash``: as the canonical line stands, or,
    for any other spelling, decoded and canonicalized."""
    if _canonical_line_hashes_to(line, rec.prev_hash, rec.hash):
        return True
    try:
        body = canonical(rec.body)
    except ValueError:  # rfc8785.CanonicalizationError: not representable
        return False
    return hashlib.sha256(rec.prev_hash.encode() + body).hexdigest() == rec.hash


class _Chain:
    """The chain rules, record by record, going on past a break to set every flag."""

    def __init__(self, witnessed: dict[int, str], res: ChainVerification) -> None:
        self.witnessed = witnessed
        self.res = res
        self.head_seq = 0
        self.head_hash = GENESIS_HASH
        self.org: uuid.UUID | None = None
        self.started = False
        self.resync = False
        self.tip_ok = True

    def _problem(self, seq: int, line: int, text: str) -> None:
        self.res.problems.append(Problem(seq, f"line {line}: {text}"))

    def push(self, line: int, text: str | None, partial: bool) -> None:
        res = self.res
        expected = self.head_seq + 1
        rec: _Record | None = None
        try:
            if text is None:
                raise ValueError("the line is not UTF-8")
            rec = _record(_loads(text))
        except ValueError as e:
            if not self.started and partial:
                self.started = True
            self._problem(expected, line, f"not an audit record: {e}")
            res.hashes_valid = False
            self.resync = True
            return
        assert text is not None
        if not self.started:
            self.started = True
            if partial:
                self.head_seq, self.head_hash = rec.seq - 1, rec.prev_hash
                expected = rec.seq
                res.first_seq = rec.seq
        if self.org is None:
            self.org = rec.org
            res.org_id = str(rec.org)
        elif rec.org != self.org:
            self._problem(expected, line, f"record at seq {rec.seq} belongs to another org")
            res.hashes_valid = False
            return
        if self.resync:
            # After a line that is not a record, take up the chain where this one says.
            self.resync = False
            self.head_seq, self.head_hash, expected = rec.seq - 1, rec.prev_hash, rec.seq
        if rec.seq < expected:
            self._problem(
                expected, line,
                f"expected seq {expected}, found {rec.seq} (record repeated or out of order)",
            )
            res.no_gaps = False
            return
        if rec.seq > expected:
            self._problem(
                expected, line, f"expected seq {expected}, found {rec.seq} (records missing)"
            )
            res.no_gaps = False
        elif rec.prev_hash != self.head_hash:
            self._problem(expected, line, "prev_hash does not match the previous record's hash")
            res.hashes_valid = False
        elif not _hashes_to(text, rec):
            self._problem(expected, line, "hash does not match the record's contents (edited)")
            res.hashes_valid = False
        signed = self.witnessed.get(rec.seq)
        if signed is not None:
            if signed != rec.hash:
                self._problem(
                    rec.seq, line,
                    "the record differs from the one the witness holds a signed checkpoint "
                    "of (the chain was rewritten from here)",
                )
                self.tip_ok = False
            else:
                res.matched += 1
        self.head_seq, self.head_hash = rec.seq, rec.hash
        res.records += 1

    def finish(self) -> None:
        res = self.res
        res.head_seq, res.head_hash = self.head_seq, self.head_hash
        if self.witnessed:
            newest = max(self.witnessed)
            if newest > self.head_seq:
                res.problems.append(
                    Problem(
                        self.head_seq + 1,
                        f"the records end at seq {self.head_seq} but the witness holds a "
                        f"signed checkpoint at seq {newest}: seq {self.head_seq + 1} to "
                        f"{newest} are missing (truncated)",
                    )
                )
                self.tip_ok = False


# ------------------------------------------------------------------------- CLI


def main(argv: list[str] | None = None) -> int:
    """``python -m agentvault.verify``: exit 0 with ``OK: …``, 1 with ``FAILED: …``,
    2 when the inputs cannot be read."""
    ap = argparse.ArgumentParser(
        prog="python -m agentvault.verify",
        description="Verify an ARX audit export against its witness (docs/audit.md).",
    )
    ap.add_argument("--export", required=True, help="the NDJSON export (.gz or not)")
    ap.add_argument("--witness", help="the witness directory (holding <org_id>/<seq>.json)")
    ap.add_argument("--public-key", help="the org's public key: PEM file, or base64 of 32 bytes")
    ap.add_argument("--partial", action="store_true", help="the export is a range of the chain")
    ap.add_argument("--json", action="store_true", help="print the whole result as JSON")
    args = ap.parse_args(argv)
    try:
        res = verify_chain(
            export=args.export,
            witness=args.witness,
            public_key=args.public_key,
            partial=args.partial,
        )
    except (OSError, ValueError, EOFError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(res.as_dict(), indent=2))
    else:
        print(res.summary())
        if (
            not res.ok
            and res.first_bad_seq == 1
            and res.problem is not None
            and "records missing" in res.problem
        ):
            print("(an export of part of the chain verifies with --partial)")
    return 0 if res.ok else 1


if __name__ == "__main__":
    sys.exit(main())
