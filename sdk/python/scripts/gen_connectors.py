#!/usr/bin/env python3
"""Writes ``agentvault/_connectors.py`` from the connector catalog (``connectors/*.yaml``).

    python scripts/gen_connectors.py            # (re)write the file
    python scripts/gen_connectors.py --check    # exit 1, saying why, if it is stale

The generated module holds ``CATALOG`` (each connector's operations, params and paging),
``SOURCES`` (the SHA-256 of each YAML file it was made from, so ``--check`` can name
what changed) and the factory methods of the async and the sync client, one per
connector (``arx.crowdstrike()``).

Paging is inferred from each operation's declared params, since the catalog has no
paging field: an integer page size (``limit``, ``maxResults``, ``count``, ``first``,
``top``...) with an integer offset (``offset``, ``startAt``...) pages by offset; a
string cursor param (``cursor``, ``after``, or a string ``offset`` scroll token) pages
by cursor, the next cursor read from the answer at the dotted path the param's
description names ("Cursor from response_metadata.next_cursor."), else at the path a
sibling operation of the same connector names for the same param, else at the path in
``NEXT_CURSOR_HINTS`` below, else nowhere (the caller then says how to find it).
Needs PyYAML.
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import keyword
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SDK_ROOT = HERE.parent
REPO_ROOT = SDK_ROOT.parent.parent
DEFAULT_CONNECTORS = REPO_ROOT / "connectors"
DEFAULT_OUT = SDK_ROOT / "agentvault" / "_connectors.py"

#: Connectors with convenience methods: class name stem in agentvault/connector.py.
CONVENIENCE = {"crowdstrike": "CrowdStrike", "splunk": "Splunk", "jira": "Jira"}

#: Names a connector's factory method cannot take (the clients' own members).
RESERVED = frozenset(
    {"connector", "request_grant", "register", "wait_for_approval", "close", "aclose",
     "session", "settings", "base_url", "catalog"}
)

SIZE_PARAMS = ("limit", "maxResults", "max_results", "count", "first", "top",
               "page_size", "pageSize", "per_page")
OFFSET_PARAMS = ("offset", "startAt", "start_at", "start", "skip")
CURSOR_PARAMS = ("cursor", "after", "next", "page_token", "pageToken", "scroll", "offset")

#: Where the next cursor is when the catalog does not say. Keep this small: the place
#: for this is the connector file (a paging declaration would replace the inference).
NEXT_CURSOR_HINTS = {
    # Falcon's devices-scroll answers carry the next scroll token here.
    ("crowdstrike", "hosts:read"): "meta.pagination.offset",
}

_PATH_IN_DESCRIPTION = re.compile(
    r"\b(?:from|in)\s+(?:the\s+previous\s+page's\s+)?([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+)"
)


class CatalogError(Exception):
    """A connector file the generator cannot use; the message names it."""


@dataclass(frozen=True)
class Source:
    file: str
    digest: str
    doc: dict[str, Any]


def load(connectors: Path) -> list[Source]:
    try:
        import yaml
    except ImportError as e:  # pragma: no cover - the dev extra installs it
        raise CatalogError("the generator needs PyYAML: pip install pyyaml") from e
    files = sorted(connectors.glob("*.yaml"))
    if not files:
        raise CatalogError(f"no connector files (*.yaml) in {connectors}")
    out = []
    for f in files:
        raw = f.read_bytes()
        try:
            doc = yaml.safe_load(raw)
        except yaml.YAMLError as e:
            raise CatalogError(f"connectors/{f.name}: not valid YAML: {e}") from e
        if not isinstance(doc, dict) or not isinstance(doc.get("name"), str):
            raise CatalogError(f"connectors/{f.name}: not a connector (no 'name')")
        if not isinstance(doc.get("operations"), dict):
            raise CatalogError(f"connectors/{f.name}: no 'operations' map")
        out.append(Source(f.name, hashlib.sha256(raw).hexdigest(), doc))
    return out


def method_name(connector: str) -> str:
    name = re.sub(r"\W", "_", connector.lower())
    if not name.isidentifier() or keyword.iskeyword(name) or name.startswith("_"):
        raise CatalogError(f"connector '{connector}' has no usable method name ('{name}')")
    if name in RESERVED:
        raise CatalogError(
            f"connector '{connector}' would shadow the client's own '{name}'; "
            "rename it or add a special case to the generator"
        )
    return name


def _params(op: dict[str, Any]) -> dict[str, dict[str, Any]]:
    ps = op.get("params") or {}
    return {k: (v or {}) for k, v in ps.items()}


def _first(params: dict[str, dict[str, Any]], names: tuple[str, ...], ty: str) -> str | None:
    return next((n for n in names if n in params and params[n].get("type") == ty), None)


def _described_path(param: dict[str, Any]) -> str | None:
    m = _PATH_IN_DESCRIPTION.search(str(param.get("description") or ""))
    return m.group(1) if m else None


def paging(connector: str, op_id: str, ops: dict[str, Any]) -> dict[str, Any] | None:
    """The PageSpec fields of one operation, or None when it does not page."""
    params = _params(ops[op_id])
    size = _first(params, SIZE_PARAMS, "integer")
    offset = _first(params, OFFSET_PARAMS, "integer")
    if size and offset:
        return {"style": "offset", "size": size, "offset": offset}
    cursor = _first(params, CURSOR_PARAMS, "string")
    if not cursor:
        return None
    spec: dict[str, Any] = {"style": "cursor", "size": size, "cursor": cursor}
    path, source = _described_path(params[cursor]), "description"
    if path is None:
        for other_id in sorted(ops):
            other = _params(ops[other_id]).get(cursor)
            if other_id != op_id and other and (p := _described_path(other)):
                path, source = p, other_id
                break
    if path is None and (connector, op_id) in NEXT_CURSOR_HINTS:
        path, source = NEXT_CURSOR_HINTS[(connector, op_id)], "generator hint"
    if path is not None:
        spec["next_path"] = path
        spec["next_path_source"] = source
    return spec


def _call(name: str, fields: dict[str, Any]) -> str:
    return f"{name}({', '.join(f'{k}={v}' for k, v in fields.items())})"


def render(sources: list[Source]) -> str:
    names: dict[str, str] = {}
    for s in sources:
        m = method_name(s.doc["name"])
        if m in names:
            raise CatalogError(
                f"connectors/{s.file} and connectors/{names[m]} both make the method '{m}'"
            )
        names[m] = s.file

    lines = [
        "# Generated by scripts/gen_connectors.py from connectors/*.yaml: do not edit.",
        "# Regenerate with `python scripts/gen_connectors.py` (from sdk/python); CI runs",
        "# `python scripts/gen_connectors.py --check`.",
        '"""The connector catalog as the SDK knows it, and the clients\' factory methods."""',
        "",
        "from __future__ import annotations",
        "",
        "from collections.abc import Mapping",
        "from types import MappingProxyType",
        "from typing import Final, TypeVar",
        "",
        "from .catalog import ConnectorInfo, OperationInfo, PageSpec, ParamInfo",
        "from .connector import (",
    ]
    imported = ["SDKConnector", "SyncSDKConnector"]
    for stem in sorted(CONVENIENCE.values()):
        imported += [f"{stem}Connector", f"Sync{stem}Connector"]
    lines += [f"    {n}," for n in sorted(imported)]
    lines += [
        ")",
        "",
        '__all__ = ["CATALOG", "SOURCES", "AsyncConnectorFactories", "SyncConnectorFactories"]',
        "",
        "#: SHA-256 of each connector file this module was generated from.",
        "SOURCES: Final[Mapping[str, str]] = MappingProxyType({",
    ]
    lines += [f"    {s.file!r}: {s.digest!r}," for s in sources]
    lines += ["})", "", "#: Every connector of the catalog, by name.",
              "CATALOG: Final[Mapping[str, ConnectorInfo]] = MappingProxyType({"]
    for s in sources:
        d = s.doc
        ops = d["operations"]
        lines.append(f"    {d['name']!r}: ConnectorInfo(")
        lines.append(f"        name={d['name']!r},")
        lines.append(f"        display_name={str(d.get('display_name') or d['name'])!r},")
        lines.append(f"        category={str(d.get('category') or '')!r},")
        lines.append("        operations={")
        for op_id, op in ops.items():
            if not isinstance(op, dict):
                raise CatalogError(f"connectors/{s.file}: operation {op_id} is not a map")
            params = _params(op)
            lines.append(f"            {op_id!r}: OperationInfo(")
            lines.append(f"                id={op_id!r},")
            lines.append(f"                method={str(op.get('method', '')).upper()!r},")
            lines.append(f"                risk={str(op.get('risk', ''))!r},")
            lines.append(f"                description={str(op.get('description') or '').strip()!r},")
            lines.append(f"                writes={bool(op.get('writes', False))!r},")
            lines.append("                params={")
            for pn, p in params.items():
                fields: dict[str, Any] = {
                    "name": repr(pn),
                    "type": repr(str(p.get("type", "string"))),
                    "required": repr(bool(p.get("required", False))),
                    "location": repr(str(p.get("in", "body"))),
                    "description": repr(str(p.get("description") or "").strip()),
                }
                if p.get("enum"):
                    fields["allowed"] = repr(tuple(p["enum"]))
                lines.append(f"                    {pn!r}: {_call('ParamInfo', fields)},")
            lines.append("                },")
            spec = paging(d["name"], op_id, ops)
            if spec is None:
                lines.append("                paging=None,")
            else:
                fields = {k: repr(v) for k, v in spec.items() if v is not None}
                lines.append(f"                paging={_call('PageSpec', fields)},")
            lines.append("            ),")
        lines.append("        },")
        lines.append("    ),")
    lines += ["})", ""]

    for flavor in ("Async", "Sync"):
        base = "SDKConnector" if flavor == "Async" else "SyncSDKConnector"
        client = "ARXClient" if flavor == "Async" else "SyncARXClient"
        tv = "_A" if flavor == "Async" else "_S"
        lines += [
            f'{tv} = TypeVar("{tv}", bound={base})',
            "",
            "",
            f"class {flavor}ConnectorFactories:",
            f'    """One factory method per connector of the catalog ({client})."""',
            "",
            "    __slots__ = ()",
            "",
            f"    def _bind(self, cls: type[{tv}], name: str, instance: str | None) -> {tv}:",
            "        raise NotImplementedError",
        ]
        for s in sources:
            d = s.doc
            m = method_name(d["name"])
            stem = CONVENIENCE.get(d["name"])
            cls = base if stem is None else (
                f"{stem}Connector" if flavor == "Async" else f"Sync{stem}Connector"
            )
            ops = ", ".join(f"{k} ({v.get('risk', '?')})" for k, v in d["operations"].items())
            doc = f"{d.get('display_name') or d['name']} ({d.get('category', '')}). Operations: {ops}."
            lines += [
                "",
                f"    def {m}(self, instance: str | None = None) -> {cls}:",
                f"        {_docstring(doc, 8)}",
                f"        return self._bind({cls}, {d['name']!r}, instance)",
            ]
        lines += ["", ""]
    return "\n".join(lines).rstrip() + "\n"


def _docstring(text: str, indent: int) -> str:
    words, out, line = text.replace('"""', "'''").split(), [], ""
    width = 88 - indent - 3
    for w in words:
        if line and len(line) + 1 + len(w) > width:
            out.append(line)
            line = w
        else:
            line = f"{line} {w}" if line else w
    out.append(line)
    pad = "\n" + " " * indent
    return '"""' + pad.join(out) + ('"""' if len(out) == 1 else pad + '"""')


def _old_sources(text: str) -> dict[str, str] | None:
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return None
    for node in tree.body:
        target = node.target if isinstance(node, ast.AnnAssign) else None
        if isinstance(target, ast.Name) and target.id == "SOURCES" and node.value is not None:
            call = node.value
            if isinstance(call, ast.Call) and call.args:
                try:
                    return dict(ast.literal_eval(call.args[0]))
                except ValueError:
                    return None
    return None


def staleness(out: Path, sources: list[Source], fresh: str) -> str | None:
    """Why ``out`` is not what the generator writes now, or None when it is."""
    rel = "agentvault/_connectors.py"
    if not out.exists():
        return f"{rel} does not exist"
    current = out.read_text(encoding="utf-8")
    if current == fresh:
        return None
    old = _old_sources(current)
    if old is None:
        return f"{rel} is not a file this generator wrote (no SOURCES table)"
    new = {s.file: s.digest for s in sources}
    changes = [f"  new:     connectors/{f}" for f in sorted(new.keys() - old.keys())]
    changes += [f"  removed: connectors/{f}" for f in sorted(old.keys() - new.keys())]
    changes += [
        f"  changed: connectors/{f}" for f in sorted(new.keys() & old.keys()) if new[f] != old[f]
    ]
    if changes:
        return f"{rel} is stale; the connector catalog changed since it was generated:\n" + "\n".join(changes)
    return (
        f"{rel} differs from what scripts/gen_connectors.py writes for the same connectors/ "
        "(it was edited by hand, or the generator changed)"
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--connectors", type=Path, default=DEFAULT_CONNECTORS,
                    help="the catalog folder (default: the repository's connectors/)")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT,
                    help="the module to write (default: agentvault/_connectors.py)")
    ap.add_argument("--check", action="store_true",
                    help="write nothing; exit 1 saying why if the module is stale")
    args = ap.parse_args(argv)
    try:
        sources = load(args.connectors)
        fresh = render(sources)
    except CatalogError as e:
        print(f"gen_connectors: {e}", file=sys.stderr)
        return 2
    if args.check:
        why = staleness(args.out, sources, fresh)
        if why is None:
            print(f"agentvault/_connectors.py is up to date ({len(sources)} connectors)")
            return 0
        print(f"{why}\nRun `python scripts/gen_connectors.py` in sdk/python and commit the result.",
              file=sys.stderr)
        return 1
    args.out.write_text(fresh, encoding="utf-8")
    print(f"wrote {args.out} ({len(sources)} connectors)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
