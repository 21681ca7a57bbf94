#!/usr/bin/env bash
# Builds ARX (server and console) and starts it on the embedded SQLite default with the
# demo org at http://127.0.0.1:3000. Sign-in details: data/demo.json.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
echo "==> cargo leptos build (first build: about 10 minutes on 2 cores)"
cargo leptos build
export LEPTOS_SITE_ROOT=target/site
echo "==> arx serve --demo"
exec target/debug/arx serve --demo
