#!/usr/bin/env bash
# Runs a command with a throwaway PostgreSQL 15 on a free loopback port, exported as
# ARX_TEST_POSTGRES_URL, and stops it afterwards. An ARX_TEST_POSTGRES_URL already set
# is used as is. Without PostgreSQL binaries the command runs without it (the suites say
# they skip), except under CI=true, where that is a failure.
set -euo pipefail

if [ -n "${ARX_TEST_POSTGRES_URL:-}" ]; then
  exec "$@"
fi

pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$pgbin" ] || [ ! -x "$pgbin/initdb" ]; then
  if [ "${CI:-}" = "true" ]; then
    echo "error: no PostgreSQL server binaries (initdb) on this machine; CI must test PostgreSQL" >&2
    exit 1
  fi
  echo "warning: no PostgreSQL server binaries found; the PostgreSQL suite will be SKIPPED" >&2
  exec "$@"
fi

# The data directory goes on RAM-backed /dev/shm when there is one: a throwaway database
# needs no disk, and a build machine's disk can be nearly full after compiling.
base=/tmp
if [ -d /dev/shm ] && [ -w /dev/shm ]; then base=/dev/shm; fi
dir=$(mktemp -d "$base/arx-pg.XXXXXX")
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
as_pg=()
if [ "$(id -u)" = "0" ]; then
  chown postgres "$dir"
  as_pg=(runuser -u postgres --)
fi
"${as_pg[@]}" "$pgbin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 >"$dir/initdb.log" 2>&1 || {
  cat "$dir/initdb.log" >&2; exit 1; }
"${as_pg[@]}" "$pgbin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
  -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=300 -c fsync=on" start >/dev/null
stop() { "${as_pg[@]}" "$pgbin/pg_ctl" -D "$dir/data" stop -m fast >/dev/null 2>&1 || true; rm -rf "$dir"; }
trap stop EXIT

export ARX_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:$port/postgres"
echo "PostgreSQL for tests at $ARX_TEST_POSTGRES_URL"
"$@"
