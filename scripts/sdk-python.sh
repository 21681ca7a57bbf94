#!/usr/bin/env bash
# The Python SDK (sdk/python): its own venv under target/ (made once, reinstalled when
# sdk/python/pyproject.toml changes), the connector generator's --check, then its tests,
# offline and live. The live ones start one `arx serve --demo` themselves, from the
# built server binary (ARX_BIN, default target/debug/arx), on free ports in a temporary
# directory, and stop it at the end.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=target/sdk-venv
arx_bin=${ARX_BIN:-target/debug/arx}
if [ ! -x "$arx_bin" ]; then
  echo "no ARX server binary at $arx_bin: build it first (cargo build -p arx-server, or cargo leptos build)" >&2
  exit 1
fi

if [ ! -x "$venv/bin/python" ]; then
  echo "==> python3 -m venv $venv"
  python3 -m venv "$venv"
fi
# The install is redone only when the package's metadata changed (the install is
# editable: code changes need none).
stamp="$venv/.agentvault-installed"
want=$(sha256sum sdk/python/pyproject.toml | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ] \
    || ! "$venv/bin/python" -c 'import agentvault, pytest, pytest_asyncio, pytest_timeout, yaml, mcp' 2>/dev/null; then
  echo "==> pip install -e sdk/python[dev] into $venv"
  "$venv/bin/pip" install -q --disable-pip-version-check -e 'sdk/python[dev]'
  echo "$want" >"$stamp"
fi

echo "==> sdk/python/scripts/gen_connectors.py --check"
"$venv/bin/python" sdk/python/scripts/gen_connectors.py --check

echo "==> pytest sdk/python/tests (offline, and live against $arx_bin)"
ARX_BIN="$arx_bin" "$venv/bin/python" -m pytest -q sdk/python/tests
