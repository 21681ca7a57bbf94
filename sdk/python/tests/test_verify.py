"""The chain verifier on a synthetic chain built here from docs/audit.md alone (its own
hashing, signing and file layout), honest and then tampered with."""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import uuid
from pathlib import Path
from typing import Any

import pytest
import rfc8785
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from agentvault.verify import canonical, main, verify_chain

ORG = "01a2242a-a253-709c-84c6-1f8456169556"
GENESIS = "0" * 64


def jcs(v: Any) -> bytes:
    return rfc8785.dumps(v)


def seal(n: int, org: str = ORG, start: int = 1, prev: str = GENESIS, tweak: int = 0) -> list[dict[str, Any]]:
    """``n`` records from ``start``, chained after ``prev``, as ARX seals them:
    hash = hex(SHA-256(prev_hash || JCS(record without hash)))."""
    out = []
    for i in range(n):
        seq = start + i
        rec = {
            "org_id": org,
            "seq": seq,
            "id": str(uuid.UUID(int=seq + 1000 * tweak)),
            "ts": f"2026-11-28T21:58:{seq % 60:02d}.573Z",
            "kind": "execute.intercept" if seq % 2 else "execute.result",
            "actor": {"type": "agent", "id": "agent-1", "name": "triage-agent"} if seq % 3
            else {"type": "system", "id": None, "name": "arx"},
            "fields": {
                "n": seq + tweak,
                "text": "héllo \U0001F600 \u2028 \"quoted\"",
                "f": 1.5,
                "neg_zero": -0.0,
                "hash": "a member named hash inside fields",
                "nested": {"b": 1, "a": [2, {"y": 0, "x": 1}]},
            },
            "prev_hash": prev,
        }
        rec["hash"] = hashlib.sha256(prev.encode() + jcs(rec)).hexdigest()
        prev = rec["hash"]
        out.append(rec)
    return out


def line(rec: dict[str, Any]) -> str:
    return jcs(rec).decode()


def write_export(path: Path, recs: list[dict[str, Any]]) -> Path:
    path.write_text("".join(line(r) + "\n" for r in recs))
    return path


class Signer:
    def __init__(self) -> None:
        self.key = Ed25519PrivateKey.generate()
        raw = self.key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        self.key_id = hashlib.sha256(raw).hexdigest()[:16]
        self.pem = self.key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)

    def checkpoint(self, rec: dict[str, Any], org: str = ORG) -> dict[str, Any]:
        c = {"type": "arx.checkpoint", "version": 1, "org_id": org, "seq": rec["seq"],
             "hash": rec["hash"], "ts": "2026-11-28T22:00:00.000Z", "key_id": self.key_id}
        c["signature"] = base64.b64encode(self.key.sign(jcs(c))).decode()
        return c


def write_witness(root: Path, checkpoints: list[dict[str, Any]], org: str = ORG) -> Path:
    (root / org).mkdir(parents=True, exist_ok=True)
    for c in checkpoints:
        (root / org / f"{c['seq']:020}.json").write_bytes(jcs(c) + b"\n")
    return root


@pytest.fixture
def chain(tmp_path: Path) -> dict[str, Any]:
    recs = seal(12)
    signer = Signer()
    witness = write_witness(tmp_path / "witness", [signer.checkpoint(recs[i]) for i in (3, 7, 10)])
    key = tmp_path / "org.pem"
    key.write_bytes(signer.pem)
    export = write_export(tmp_path / "demo.ndjson", recs)
    return {"recs": recs, "signer": signer, "witness": witness, "key": key,
            "export": export, "dir": tmp_path}


def test_an_honest_chain_passes_every_check(chain: dict[str, Any]) -> None:
    r = verify_chain(export=chain["export"], witness=chain["witness"], public_key=chain["key"])
    assert r.ok and bool(r)
    assert (r.no_gaps, r.hashes_valid, r.tip_matches_witness, r.signatures_valid) == (True, True, True, True)
    assert (r.first_bad_seq, r.records, r.head_seq, r.checkpoints, r.matched) == (None, 12, 12, 3, 3)
    assert r.head_hash == chain["recs"][-1]["hash"]
    assert r.key_id == chain["signer"].key_id
    assert r.summary().startswith("OK: 12 records (seq 1 to 12), chain intact")
    assert r["tip_matches_witness"] is True


def test_the_docs_standard_library_check_agrees_with_the_lines() -> None:
    ln = line(seal(1)[0])
    rec = json.loads(ln)
    body = ln.replace(',"hash":"%s"' % rec["hash"], "", 1)
    assert hashlib.sha256((rec["prev_hash"] + body).encode()).hexdigest() == rec["hash"]


def test_another_spelling_of_the_same_records_verifies(chain: dict[str, Any]) -> None:
    lines = [json.dumps(r, indent=None, ensure_ascii=True, sort_keys=False, separators=(", ", ": "))
             for r in reversed([dict(reversed(list(r.items()))) for r in chain["recs"]])][::-1]
    r = verify_chain(export=lines, witness=chain["witness"], public_key=chain["key"])
    assert r.ok, r.problems


def test_a_gzipped_export_verifies(chain: dict[str, Any]) -> None:
    gz = chain["dir"] / "demo.ndjson.gz"
    gz.write_bytes(gzip.compress(chain["export"].read_bytes()))
    assert verify_chain(export=gz, witness=chain["witness"], public_key=chain["key"]).ok


def test_an_edited_record_fails_at_its_seq(chain: dict[str, Any]) -> None:
    recs = [dict(r) for r in chain["recs"]]
    recs[5] = {**recs[5], "fields": {**recs[5]["fields"], "n": 999}}
    r = verify_chain(export=[line(x) for x in recs], witness=chain["witness"], public_key=chain["key"])
    assert (r.ok, r.first_bad_seq, r.hashes_valid, r.no_gaps) == (False, 6, False, True)
    assert "edited" in (r.problem or "")
    assert r.tip_matches_witness is True and r.signatures_valid is True


def test_an_edited_and_rehashed_record_breaks_the_next_link(chain: dict[str, Any]) -> None:
    recs = [dict(r) for r in chain["recs"]]
    forged = {**recs[5], "fields": {**recs[5]["fields"], "n": 999}}
    forged.pop("hash")
    forged["hash"] = hashlib.sha256(forged["prev_hash"].encode() + jcs(forged)).hexdigest()
    recs[5] = forged
    r = verify_chain(export=[line(x) for x in recs])
    assert (r.first_bad_seq, r.hashes_valid) == (7, False)
    assert "prev_hash" in (r.problem or "")


def test_a_deleted_record_is_a_gap_at_its_seq(chain: dict[str, Any]) -> None:
    recs = chain["recs"][:4] + chain["recs"][5:]
    r = verify_chain(export=[line(x) for x in recs], witness=chain["witness"], public_key=chain["key"])
    assert (r.ok, r.first_bad_seq, r.no_gaps) == (False, 5, False)
    assert "expected seq 5, found 6 (records missing)" in (r.problem or "")


def test_swapped_records_are_caught_at_the_first(chain: dict[str, Any]) -> None:
    recs = list(chain["recs"])
    recs[2], recs[3] = recs[3], recs[2]
    r = verify_chain(export=[line(x) for x in recs])
    assert (r.first_bad_seq, r.no_gaps) == (3, False)


def test_a_forged_signature_fails_at_its_checkpoint(chain: dict[str, Any]) -> None:
    path = chain["witness"] / ORG / f"{8:020}.json"
    c = json.loads(path.read_text())
    sig = bytearray(base64.b64decode(c["signature"]))
    sig[0] ^= 1
    c["signature"] = base64.b64encode(bytes(sig)).decode()
    path.write_bytes(jcs(c) + b"\n")
    r = verify_chain(export=chain["export"], witness=chain["witness"], public_key=chain["key"])
    assert (r.ok, r.first_bad_seq, r.signatures_valid) == (False, 8, False)
    assert "does not verify (forged or altered)" in (r.problem or "")
    # The chain itself is fine.
    assert (r.no_gaps, r.hashes_valid) == (True, True)


def test_a_checkpoint_moved_to_another_seq_does_not_verify(chain: dict[str, Any]) -> None:
    path = chain["witness"] / ORG / f"{4:020}.json"
    c = json.loads(path.read_text())
    c["seq"] = 5
    c["hash"] = chain["recs"][4]["hash"]
    path.unlink()
    (chain["witness"] / ORG / f"{5:020}.json").write_bytes(jcs(c) + b"\n")
    r = verify_chain(export=chain["export"], witness=chain["witness"], public_key=chain["key"])
    assert (r.first_bad_seq, r.signatures_valid) == (5, False)


def test_another_key_is_named(chain: dict[str, Any]) -> None:
    other = Signer()
    r = verify_chain(export=chain["export"], witness=chain["witness"], public_key=other.pem)
    assert (r.ok, r.signatures_valid, r.first_bad_seq) == (False, False, 4)
    assert f"signed by key {chain['signer'].key_id}" in (r.problem or "")


def test_without_a_key_signatures_are_not_checked(chain: dict[str, Any]) -> None:
    r = verify_chain(export=chain["export"], witness=chain["witness"])
    assert (r.ok, r.signatures_valid, r.tip_matches_witness) == (True, None, True)
    assert "signatures NOT checked" in r.summary()


def test_a_truncated_export_does_not_reach_the_witness(chain: dict[str, Any]) -> None:
    r = verify_chain(export=[line(x) for x in chain["recs"][:9]], witness=chain["witness"], public_key=chain["key"])
    assert (r.ok, r.first_bad_seq, r.tip_matches_witness) == (False, 10, False)
    assert "seq 10 to 11 are missing (truncated)" in (r.problem or "")
    assert (r.no_gaps, r.hashes_valid) == (True, True)


def test_a_tail_rewritten_and_chained_again_differs_from_the_witness(chain: dict[str, Any]) -> None:
    recs = chain["recs"]
    tail = seal(7, start=6, prev=recs[4]["hash"], tweak=7)
    rewritten = recs[:5] + tail
    alone = verify_chain(export=[line(x) for x in rewritten])
    assert alone.ok, "internally consistent"
    r = verify_chain(export=[line(x) for x in rewritten], witness=chain["witness"], public_key=chain["key"])
    assert (r.ok, r.first_bad_seq, r.tip_matches_witness, r.hashes_valid) == (False, 8, False, True)
    assert "rewritten" in (r.problem or "")


def test_a_range_export_verifies_with_partial_only(chain: dict[str, Any]) -> None:
    part = [line(x) for x in chain["recs"][4:]]
    r = verify_chain(export=part, partial=True, witness=chain["witness"], public_key=chain["key"])
    assert (r.ok, r.first_seq, r.head_seq, r.matched) == (True, 5, 12, 2)
    whole = verify_chain(export=part)
    assert (whole.first_bad_seq, whole.no_gaps) == (1, False)


def test_members_beyond_the_nine_are_refused() -> None:
    rec = seal(1)[0]
    tampered = json.dumps({**rec, "verdict": "PERMIT"})
    r = verify_chain(export=[tampered])
    assert (r.ok, r.first_bad_seq) == (False, 1)
    assert "unknown member 'verdict'" in (r.problem or "")


def test_numbers_are_hashed_as_arx_writes_them() -> None:
    # serde_json_canonicalizer writes every number as a double: 12345678901234567890
    # is written 12345678901234567000, and 1e21 as 1e+21.
    rec = seal(1)[0]
    rec.pop("hash")
    rec["fields"] = {"big": float(12345678901234567890), "exp": 1e21}
    rec["hash"] = hashlib.sha256(rec["prev_hash"].encode() + jcs(rec)).hexdigest()
    ln = line(rec)
    assert '"big":12345678901234567000' in ln and '"exp":1e+21' in ln
    assert verify_chain(export=[ln]).ok
    # The same record re-spelled (slow path: decoded, big integer, canonicalized again).
    respelled = ln.replace("12345678901234567000", "12345678901234567890").replace(",", ", ")
    assert verify_chain(export=[respelled]).ok


def test_the_checkpoint_message_is_the_one_the_rust_test_fixes() -> None:
    # crates/core/src/audit/checkpoint.rs, the_message_is_canonical_json_without_the_signature
    key = Ed25519PrivateKey.from_private_bytes(bytes([7] * 32))
    raw = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    kid = hashlib.sha256(raw).hexdigest()[:16]
    msg = canonical({"type": "arx.checkpoint", "version": 1,
                     "org_id": "00000000-0000-0000-0000-000000000000", "seq": 1,
                     "hash": "0" * 64, "ts": "1970-01-01T00:00:00.000Z", "key_id": kid})
    assert msg.decode() == (
        '{"hash":"%s","key_id":"%s","org_id":"00000000-0000-0000-0000-000000000000",'
        '"seq":1,"ts":"1970-01-01T00:00:00.000Z","type":"arx.checkpoint","version":1}' % ("0" * 64, kid)
    )


def test_the_cli_exits_0_or_1_and_says_why(chain: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    args = ["--export", str(chain["export"]), "--witness", str(chain["witness"]), "--public-key", str(chain["key"])]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert out.startswith("OK: 12 records") and "signatures valid" in out
    broken = write_export(chain["dir"] / "broken.ndjson", chain["recs"][:4] + chain["recs"][5:])
    assert main(["--export", str(broken)]) == 1
    assert capsys.readouterr().out.startswith("FAILED: chain broken at seq 5: line 5: expected seq 5")
    assert main(["--export", str(chain["dir"] / "missing.ndjson")]) == 2
