#!/usr/bin/env bash
# Starts the built server with a fresh demo on free ports and runs the Playwright
# suite in Debian's Chromium against it.
set -euo pipefail
cd "$(dirname "$0")/.."
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }
data=$(mktemp -d /tmp/arx-e2e.XXXXXX)
port=$(free_port)
sim=$(free_port)
ARX_LOG="${ARX_LOG:-info,sqlx=warn,rmcp=warn,tower_http=debug}" ARX_DATA_DIR="$data" ARX_LISTEN="127.0.0.1:$port" ARX_SIMULATOR_LISTEN="127.0.0.1:$sim" \
  LEPTOS_SITE_ROOT=target/site target/debug/arx serve --demo >"$data/server.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break
  sleep 0.2
done
curl -sf "http://127.0.0.1:$port/healthz" >/dev/null || { cat "$data/server.log"; exit 1; }
echo "==> browser tests against http://127.0.0.1:$port"
cd end2end
ARX_E2E_URL="http://127.0.0.1:$port" ARX_E2E_DEMO="$data/demo.json" npx playwright test "$@" || { tail -n 50 "$data/server.log"; exit 1; }
# A refusal is a 4xx that says what to fix; a 500 during the suite is a defect even when
# the page showed something sensible.
if grep -q "500 Internal Server Error" "$data/server.log"; then
  echo "the server answered 500 during the browser tests:"
  grep -B5 "500 Internal Server Error" "$data/server.log"
  exit 1
fi
