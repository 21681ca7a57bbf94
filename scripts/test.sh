#!/usr/bin/env bash
# The whole test suite: formatting and lints, the Rust suites on SQLite and on a
# throwaway PostgreSQL, the SCIM conformance checker against the running server on both,
# the Python SDK's suite (and the MCP endpoint's, with the official MCP client) against a
# running server, then the console in real headless Chromium (JavaScript on and off).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --e2e

echo "==> cargo fmt --check"
cargo fmt --all -- --check
echo "==> leptosfmt --check app/src (settings in leptosfmt.toml)"
leptosfmt --check app/src
echo "==> cargo clippy"
cargo clippy --workspace --all-targets -- -D warnings

echo "==> cargo test (SQLite and PostgreSQL)"
scripts/with-postgres.sh scripts/with-redis.sh cargo test --workspace

echo "==> cargo leptos build"
cargo leptos build
scripts/with-postgres.sh scripts/scim-conformance.sh
scripts/sdk-python.sh
scripts/e2e.sh
