#!/usr/bin/env bash
# Installs what building and testing ARX needs on a fresh Debian machine with Rust:
# system packages, the wasm target, cargo-leptos and wasm-bindgen at pinned versions,
# and (with --e2e, for the test command) leptosfmt, Chromium and the browser-test npm
# packages. Skips what is present.
set -euo pipefail
cd "$(dirname "$0")/.."

CARGO_LEPTOS_VERSION=0.3.10
LEPTOSFMT_VERSION=0.1.33      # the newest release; formats leptos 0.8 view! macros
WASM_BINDGEN_VERSION=0.2.130   # must equal the wasm-bindgen crate in Cargo.lock
e2e=false
[ "${1:-}" = "--e2e" ] && e2e=true

sudo_() { if [ "$(id -u)" = "0" ]; then "$@"; else sudo "$@"; fi; }

need=()
# libxmlsec1-dev, libxml2-dev and libclang-dev: samael's SAML signature checks (xmlsec,
# bound with bindgen at build time).
for p in pkg-config libssl-dev libxml2-dev libxmlsec1-dev libclang-dev; do
  dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
done
# The tests' peers: Chromium; xmlsec1, which the SAML IdP signs with; libfaketime, which
# runs a second IdP in the past; python3-venv for the Python peers; redis-server, the
# call window replicas share.
if $e2e; then
  for p in chromium xmlsec1 faketime python3-venv openssl redis-server; do
    dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
  done
fi
if [ ${#need[@]} -gt 0 ]; then
  echo "==> apt-get install ${need[*]}"
  sudo_ apt-get update -qq
  sudo_ env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

rustup target list --installed | grep -q wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown

# Build tools whose own speed does not matter are built unoptimized and without debug
# info (--debug, CARGO_PROFILE_DEV_DEBUG=0): cargo-leptos's release profile (fat LTO, one
# codegen unit) took 26.5 of a fresh machine's first 41.5 minutes. What they run on is
# small (the console's CSS and JS) or done by the compiler they call.
tools=(env CARGO_PROFILE_DEV_DEBUG=0 cargo install --debug)
if ! cargo leptos --version 2>/dev/null | grep -q "$CARGO_LEPTOS_VERSION"; then
  echo "==> cargo install cargo-leptos $CARGO_LEPTOS_VERSION (once)"
  "${tools[@]}" cargo-leptos@"$CARGO_LEPTOS_VERSION" --locked --features no_downloads
fi
if ! wasm-bindgen --version 2>/dev/null | grep -q "$WASM_BINDGEN_VERSION"; then
  echo "==> cargo install wasm-bindgen-cli $WASM_BINDGEN_VERSION (once)"
  # Not --locked: its lockfile wants a crate version the registry lacks.
  "${tools[@]}" wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
fi

# The formatter is the test command's (it checks app/src), not the demo's.
if $e2e && ! leptosfmt --version 2>/dev/null | grep -q "$LEPTOSFMT_VERSION"; then
  echo "==> cargo install leptosfmt $LEPTOSFMT_VERSION"
  # --debug: measured on a 2-core machine, 49 s of compile CPU against 144 s for a
  # release build; the unoptimized binary still checks app/src in under half a second.
  cargo install leptosfmt --version "$LEPTOSFMT_VERSION" --locked --debug
fi

# The browser tests' packages, and the OpenID Provider the identity tests sign in through.
if $e2e && { [ ! -d end2end/node_modules/@playwright/test ] || [ ! -d end2end/node_modules/oidc-provider ]; }; then
  echo "==> npm ci in end2end/"
  (cd end2end && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
fi

# The Python peers, in a venv under target/: the SCIM conformance checker, the SAML
# identity provider (pysaml2) the identity tests sign in through, and the S3-compatible
# server (moto) the witness tests write to.
venv=target/peers-venv
if $e2e && ! { [ -x "$venv/bin/scim2" ] && [ -x "$venv/bin/moto_server" ] \
    && "$venv/bin/python" -c 'import saml2' 2>/dev/null; }; then
  echo "==> pip install the test peers into $venv"
  [ -x "$venv/bin/pip" ] || python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check \
    scim2-cli==0.6.0 scim2-tester==0.5.2 pysaml2==7.5.5 'moto[server]==5.2.5'
fi
