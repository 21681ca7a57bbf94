"""The SDK's verifier and ``arx audit verify`` agree, on a real chain.

The demo org's chain (every call this session made, and two signed checkpoints the
suite asks for, written by the server to its directory witness) is exported with
``arx audit export``; the org's public key comes from the admin API. Then the honest
export and tampered copies (an edited field, a removed line, an added member, swapped
lines, a rewritten tail, a truncated tail, a wrong key, a forged checkpoint...) are
checked by both verifiers: the verdicts must agree (Rust's exit code against
``result.ok``), and so must the first bad seq and, where both word it the same, the
whole line ``arx audit verify`` prints.

The tampered copies are written with the SDK's own canonicalizer; where a copy is a
consistent forgery (a chain rewritten and hashed again), the Rust verifier accepting
it without the witness shows the forgery is well formed, and the witness catching it
shows what the witness is for.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import re
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from agentvault import ApprovalPendingError, PermissionDeniedError, SyncARXClient
from agentvault.verify import ChainVerification, canonical, main, verify_chain
from livekit import Server, marker

LINE = re.compile(r"^FAILED: chain broken at seq (-?\d+): ")


@dataclass
class Chain:
    """The honest material: an export, the witness copy and the org's key."""

    dir: Path
    export: Path
    witness: Path
    key: Path
    wrong_key: Path
    lines: list[str]
    checkpoints: list[int]  # the witnessed seqs, oldest first
    org_id: str

    def write(self, name: str, lines: list[str]) -> Path:
        p = self.dir / name
        p.write_text("".join(line + "\n" for line in lines))
        return p


def _checkpoint(server: Server) -> dict[str, Any]:
    c = server.admin_json("POST", "/v1/admin/audit/witness/checkpoint")["checkpoint"]
    assert c is not None, "the chain moved, so a checkpoint is signed"
    path = server.witness_dir / c["org_id"] / f"{c['seq']:020}.json"
    deadline = time.monotonic() + 20
    while not path.exists():
        assert time.monotonic() < deadline, f"the witness file {path} was not written"
        time.sleep(0.1)
    return dict(c)


def _some_calls(server: Server) -> None:
    with SyncARXClient(server.key(), base_url=server.base_url) as arx:
        arx.crowdstrike().get_detections(limit=2)
        with contextlib.suppress(PermissionDeniedError):
            arx.okta().execute("users:suspend", {"user_id": "00u-chain"})
        try:
            arx.crowdstrike().contain_host([marker("chain")], wait=False)
        except ApprovalPendingError as e:
            server.admin_json("POST", f"/v1/admin/approvals/{e.approval_id}/deny",
                              json={"comment": "chain test"})


@pytest.fixture(scope="module")
def chain(arx_server: Server, tmp_path_factory: pytest.TempPathFactory) -> Chain:
    d = tmp_path_factory.mktemp("chain")
    _some_calls(arx_server)
    first = _checkpoint(arx_server)
    _some_calls(arx_server)
    second = _checkpoint(arx_server)
    _some_calls(arx_server)  # records after the newest checkpoint, as in real life
    # The witness first, then the export: the export reaches every checkpoint copied.
    witness = d / "witness"
    shutil.copytree(arx_server.witness_dir, witness)
    with arx_server.admin() as admin:
        r = admin.get("/v1/admin/audit/public-key.pem")
        r.raise_for_status()
    key = d / "org.pem"
    key.write_text(r.text)
    wrong = d / "wrong.pem"
    wrong.write_bytes(Ed25519PrivateKey.generate().public_key().public_bytes(
        Encoding.PEM, PublicFormat.SubjectPublicKeyInfo))
    export = d / "demo.ndjson"
    out = arx_server.cli("audit", "export", "--org", "demo", "--out", str(export))
    assert out.returncode == 0, out.stderr
    lines = export.read_text().splitlines()
    seqs = sorted(int(p.stem) for p in (witness / first["org_id"]).glob("*.json"))
    assert seqs[-2:] == [first["seq"], second["seq"]]
    assert len(lines) > second["seq"] > first["seq"] > 8
    return Chain(d, export, witness, key, wrong, lines, seqs, first["org_id"])


@dataclass
class Verdicts:
    rust_code: int
    rust_line: str
    python: ChainVerification
    python_cli_code: int
    python_cli_line: str

    @property
    def rust_seq(self) -> int | None:
        m = LINE.match(self.rust_line)
        return int(m.group(1)) if m else None


def verify_both(server: Server, export: Path, witness: Path | None = None, key: Path | None = None,
                partial: bool = False) -> Verdicts:
    args = ["audit", "verify", "--export", str(export)]
    if witness is not None:
        args += ["--witness", str(witness)]
    if key is not None:
        args += ["--public-key", str(key)]
    if partial:
        args.append("--partial")
    rust = server.cli(*args)
    assert rust.returncode in (0, 1), f"arx audit verify could not run: {rust.stdout}{rust.stderr}"
    py = verify_chain(export=export, witness=witness, public_key=key, partial=partial)
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        code = main(args[2:])
    return Verdicts(rust.returncode, rust.stdout.splitlines()[0], py, code, buf.getvalue().splitlines()[0])


def assert_agree(v: Verdicts, *, same_words: bool = True) -> None:
    assert (v.rust_code == 0) == v.python.ok, f"Rust: {v.rust_line}\nPython: {v.python.summary()}"
    assert v.python_cli_code == v.rust_code
    assert v.python_cli_line == v.python.summary()
    if not v.python.ok:
        assert v.rust_seq == v.python.first_bad_seq, f"Rust: {v.rust_line}\nPython: {v.python.summary()}"
    if same_words:
        assert v.rust_line == v.python.summary()


# ------------------------------------------------------------------ tampering


def rec(line: str) -> dict[str, Any]:
    return dict(json.loads(line))


def line_of(r: dict[str, Any]) -> str:
    return canonical(r).decode()


def sealed(r: dict[str, Any], prev_hash: str) -> dict[str, Any]:
    """``r`` chained after ``prev_hash`` and hashed again (docs/audit.md §2)."""
    r = {k: v for k, v in r.items() if k != "hash"}
    r["prev_hash"] = prev_hash
    r["hash"] = hashlib.sha256(prev_hash.encode() + canonical(r)).hexdigest()
    return r


def rechain(lines: list[str], start: int, change: Callable[[dict[str, Any]], None]) -> list[str]:
    """A consistent forgery: the record at index ``start`` changed, it and every later
    record hashed and chained again."""
    out = lines[:start]
    prev = rec(lines[start - 1])["hash"] if start else "0" * 64
    for i in range(start, len(lines)):
        r = rec(lines[i])
        if i == start:
            change(r)
        r = sealed(r, prev)
        prev = r["hash"]
        out.append(line_of(r))
    return out


def edit_field(r: dict[str, Any]) -> None:
    r["fields"]["tampered"] = True


def with_line(lines: list[str], i: int, new: str) -> list[str]:
    return lines[:i] + [new] + lines[i + 1:]


# ------------------------------------------------------------------ the cases


def test_honest(arx_server: Server, chain: Chain) -> None:
    for witness, key in ((None, None), (chain.witness, None), (chain.witness, chain.key)):
        v = verify_both(arx_server, chain.export, witness, key)
        assert v.rust_code == 0 and v.python.ok, v.rust_line
        assert_agree(v)
    assert v.python.signatures_valid is True
    assert v.python.tip_matches_witness is True and v.python.no_gaps and v.python.hashes_valid
    assert v.python.matched == len(chain.checkpoints)
    assert v.python.records == len(chain.lines)
    # Gzipped, as `arx audit export --out x.ndjson.gz` writes it (a newer export: the
    # chain may have moved on since, past the newest checkpoint).
    gz = chain.dir / "demo.ndjson.gz"
    out = arx_server.cli("audit", "export", "--org", "demo", "--out", str(gz))
    assert out.returncode == 0, out.stderr
    assert gz.read_bytes()[:2] == b"\x1f\x8b"
    v = verify_both(arx_server, gz, chain.witness, chain.key)
    assert v.rust_code == 0 and v.python.records >= len(chain.lines)
    assert_agree(v)


def test_a_range_export_verifies_with_partial(arx_server: Server, chain: Chain) -> None:
    part = chain.dir / "part.ndjson"
    out = arx_server.cli("audit", "export", "--org", "demo", "--from-seq", "5", "--to-seq",
                         str(chain.checkpoints[-1]), "--out", str(part))
    assert out.returncode == 0, out.stderr
    v = verify_both(arx_server, part, partial=True)
    assert v.rust_code == 0
    assert_agree(v)
    assert v.python.first_seq == 5
    whole = verify_both(arx_server, part)
    assert whole.rust_code == 1 and whole.rust_seq == 1
    assert_agree(whole)


@pytest.mark.parametrize("with_witness", [False, True])
def test_an_edited_field(arx_server: Server, chain: Chain, with_witness: bool) -> None:
    k = chain.checkpoints[0] // 2  # a record before the first checkpoint
    r = rec(chain.lines[k])
    edit_field(r)
    export = chain.write("edited.ndjson", with_line(chain.lines, k, line_of(r)))
    v = verify_both(arx_server, export, *((chain.witness, chain.key) if with_witness else ()))
    assert v.rust_seq == k + 1 and "(edited)" in v.rust_line
    assert v.python.hashes_valid is False
    assert_agree(v)


def test_an_edited_record_hashed_again(arx_server: Server, chain: Chain) -> None:
    """Its own hash is right; the next record's link is not."""
    k = chain.checkpoints[0] // 2
    r = rec(chain.lines[k])
    edit_field(r)
    r = sealed(r, r["prev_hash"])
    v = verify_both(arx_server, chain.write("rehashed.ndjson", with_line(chain.lines, k, line_of(r))))
    assert v.rust_seq == k + 2 and "prev_hash" in v.rust_line
    assert_agree(v)


@pytest.mark.parametrize("with_witness", [False, True])
def test_a_removed_line(arx_server: Server, chain: Chain, with_witness: bool) -> None:
    k = chain.checkpoints[0] // 2
    export = chain.write("gap.ndjson", chain.lines[:k] + chain.lines[k + 1:])
    v = verify_both(arx_server, export, *((chain.witness, chain.key) if with_witness else ()))
    assert v.rust_seq == k + 1 and "records missing" in v.rust_line
    assert v.python.no_gaps is False
    assert_agree(v)


@pytest.mark.parametrize("where", ["top", "actor"])
def test_an_added_member(arx_server: Server, chain: Chain, where: str) -> None:
    """A member the record does not have, the hash left as it was. Both refuse it at
    its seq; they word it differently (serde's message, the SDK's own)."""
    k = chain.checkpoints[0] // 2
    r = rec(chain.lines[k])
    if where == "top":
        r["approved_by"] = "ciso"
    else:
        r["actor"]["role"] = "admin"
    v = verify_both(arx_server, chain.write("added.ndjson", with_line(chain.lines, k, line_of(r))))
    assert v.rust_seq == k + 1 and v.rust_code == 1
    assert_agree(v, same_words=False)


def _member_rehashed(chain: Chain, where: str) -> Path:
    r = rec(chain.lines[-1])
    if where == "top":
        r["approved_by"] = "ciso"
    else:
        r["actor"]["role"] = "admin"
    r = sealed(r, r["prev_hash"])
    return chain.write(f"added-rehashed-{where}.ndjson", with_line(chain.lines, len(chain.lines) - 1, line_of(r)))


@pytest.mark.parametrize("where", ["top", "actor"])
def test_an_added_member_under_a_recomputed_hash_is_refused_by_the_sdk(
    chain: Chain, where: str
) -> None:
    """docs/audit.md §1 and §5: a record has exactly its nine members, and a line with
    another is refused at its seq, even when the hash was computed over it."""
    res = verify_chain(_member_rehashed(chain, where))
    assert not res.ok and res.first_bad_seq == len(chain.lines)


@pytest.mark.parametrize("where", ["top", "actor"])
def test_an_added_member_under_a_recomputed_hash_rust_agrees(
    arx_server: Server, chain: Chain, where: str
) -> None:
    assert_agree(verify_both(arx_server, _member_rehashed(chain, where)), same_words=False)


def test_swapped_lines(arx_server: Server, chain: Chain) -> None:
    k = chain.checkpoints[0] // 2
    lines = list(chain.lines)
    lines[k], lines[k + 1] = lines[k + 1], lines[k]
    v = verify_both(arx_server, chain.write("swapped.ndjson", lines))
    assert v.rust_seq == k + 1
    assert_agree(v)


def test_a_repeated_line(arx_server: Server, chain: Chain) -> None:
    k = chain.checkpoints[0] // 2
    lines = chain.lines[: k + 1] + chain.lines[k:]
    v = verify_both(arx_server, chain.write("repeated.ndjson", lines))
    assert v.rust_seq == k + 2 and "repeated or out of order" in v.rust_line
    assert_agree(v)


def test_a_record_of_another_org(arx_server: Server, chain: Chain) -> None:
    k = chain.checkpoints[0] // 2
    r = rec(chain.lines[k])
    r["org_id"] = "01a22901-0000-7000-8000-000000000000"
    v = verify_both(arx_server, chain.write("foreign.ndjson", with_line(chain.lines, k, line_of(r))))
    assert v.rust_seq == k + 1 and "another org" in v.rust_line
    assert_agree(v)


def test_a_line_that_is_not_a_record(arx_server: Server, chain: Chain) -> None:
    k = chain.checkpoints[0] // 2
    v = verify_both(arx_server, chain.write("garbage.ndjson", with_line(chain.lines, k, '{"seq": "x"')))
    assert v.rust_seq == k + 1 and "not an audit record" in v.rust_line
    assert_agree(v, same_words=False)  # serde's parse error against Python's


def test_a_rewritten_tail(arx_server: Server, chain: Chain) -> None:
    """Rewritten from a record between the two checkpoints and chained again: intact
    on its own, caught by the witness at the newest checkpoint (with or without the
    key), and the signatures still verify (the witness was not touched)."""
    first, newest = chain.checkpoints[-2], chain.checkpoints[-1]
    start = (first + newest) // 2  # index: seq start + 1, after the first checkpoint
    export = chain.write("rewritten.ndjson", rechain(chain.lines, start, edit_field))
    alone = verify_both(arx_server, export)
    assert alone.rust_code == 0
    assert_agree(alone)
    for key in (None, chain.key):
        v = verify_both(arx_server, export, chain.witness, key)
        assert v.rust_seq == newest and "rewritten" in v.rust_line
        assert v.python.tip_matches_witness is False and v.python.hashes_valid
        assert_agree(v)


def test_a_truncated_tail(arx_server: Server, chain: Chain) -> None:
    newest = chain.checkpoints[-1]
    export = chain.write("truncated.ndjson", chain.lines[: newest - 3])
    assert_agree(verify_both(arx_server, export))  # intact on its own
    v = verify_both(arx_server, export, chain.witness, chain.key)
    assert v.rust_seq == newest - 2 and "(truncated)" in v.rust_line
    assert_agree(v)


def test_a_wrong_key(arx_server: Server, chain: Chain) -> None:
    v = verify_both(arx_server, chain.export, chain.witness, chain.wrong_key)
    assert v.rust_seq == chain.checkpoints[0] and "signed by key" in v.rust_line
    assert v.python.signatures_valid is False
    assert_agree(v)


@pytest.mark.parametrize("with_key", [False, True])
def test_a_forged_checkpoint(arx_server: Server, chain: Chain, tmp_path: Path, with_key: bool) -> None:
    """The newest checkpoint's hash replaced (its signature kept): with the key its
    signature fails; without, the record no longer matches what it claims."""
    witness = tmp_path / "witness"
    shutil.copytree(chain.witness, witness)
    newest = chain.checkpoints[-1]
    f = witness / chain.org_id / f"{newest:020}.json"
    c = json.loads(f.read_text())
    c["hash"] = hashlib.sha256(b"forged").hexdigest()
    f.write_text(canonical(c).decode() + "\n")
    v = verify_both(arx_server, chain.export, witness, chain.key if with_key else None)
    assert v.rust_seq == newest
    assert ("does not verify" if with_key else "rewritten") in v.rust_line
    assert_agree(v)
