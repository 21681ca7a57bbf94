#!/usr/bin/env bash
# Runs the SCIM 2.0 conformance checker scim2-tester (through scim2-cli, from PyPI, in
# the venv scripts/setup.sh --e2e makes under target/) against the built server's
# /scim/v2: once on SQLite and, when ARX_TEST_POSTGRES_URL is set
# (scripts/with-postgres.sh), once on a fresh PostgreSQL database. scim2 exits non-zero
# unless every check it runs is a SUCCESS.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=target/peers-venv
if [ ! -x "$venv/bin/scim2" ]; then
  echo "scim2-cli is missing from $venv: run scripts/setup.sh --e2e" >&2
  exit 1
fi

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }

# check NAME [DATABASE_URL]
check() {
  local name=$1 db=${2:-}
  local data port sim pid token
  data=$(mktemp -d /tmp/arx-scim.XXXXXX)
  port=$(free_port)
  sim=$(free_port)
  env ARX_DATA_DIR="$data" ARX_LISTEN="127.0.0.1:$port" ARX_SIMULATOR_LISTEN="127.0.0.1:$sim" \
    ${db:+ARX_DATABASE_URL="$db"} LEPTOS_SITE_ROOT=target/site \
    target/debug/arx serve --demo >"$data/server.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 150); do
    curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break
    sleep 0.2
  done
  local base="http://127.0.0.1:$port"
  curl -sf "$base/healthz" >/dev/null || { cat "$data/server.log"; return 1; }
  token=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["admin_token"])' "$data/demo.json")
  local secret
  secret=$(curl -sf -X POST "$base/v1/admin/scim-tokens" -H "authorization: Bearer $token" \
    -H 'content-type: application/json' -d '{"name":"scim2-tester"}' |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["secret"])')
  echo "==> SCIM conformance (scim2-tester) on $name"
  local rc=0
  SCIM_CLI_HEADERS="Authorization: Bearer $secret" "$venv/bin/scim2" --url "$base/scim/v2" test >"$data/scim2.txt" 2>&1 || rc=$?
  kill $pid 2>/dev/null || true
  wait $pid 2>/dev/null || true
  echo "    $(grep -c '^SUCCESS' "$data/scim2.txt") checks succeeded"
  if [ $rc -ne 0 ]; then
    grep -v '^SUCCESS' "$data/scim2.txt" | grep -v '^  Success' | head -n 60
    tail -n 30 "$data/server.log"
    return 1
  fi
  rm -rf "$data"
}

check SQLite
if [ -n "${ARX_TEST_POSTGRES_URL:-}" ]; then
  pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  hostport=${ARX_TEST_POSTGRES_URL#*@}
  hostport=${hostport%%/*}
  db=arx_scim_$$
  "$pgbin/createdb" -h "${hostport%:*}" -p "${hostport#*:}" -U postgres "$db"
  check PostgreSQL "postgres://postgres@$hostport/$db"
fi
