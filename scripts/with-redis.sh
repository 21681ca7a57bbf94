#!/usr/bin/env bash
# Runs a command with a throwaway Redis (Debian's redis-server) on a free loopback port,
# exported as ARX_TEST_REDIS_URL, and stops it afterwards. An ARX_TEST_REDIS_URL already
# set is used as is. Without redis-server the command runs without it (the Redis tests
# say they skip), except under CI=true, where that is a failure.
set -euo pipefail

if [ -n "${ARX_TEST_REDIS_URL:-}" ]; then
  exec "$@"
fi
if ! command -v redis-server >/dev/null 2>&1; then
  if [ "${CI:-}" = "true" ]; then
    echo "error: no redis-server on this machine; CI must test the shared call window" >&2
    exit 1
  fi
  echo "warning: no redis-server found; the Redis tests will be SKIPPED" >&2
  exec "$@"
fi

dir=$(mktemp -d /tmp/arx-redis.XXXXXX)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
# No persistence: a throwaway server.
redis-server --bind 127.0.0.1 --port "$port" --save '' --appendonly no \
  --dir "$dir" --logfile "$dir/redis.log" --daemonize yes --pidfile "$dir/redis.pid"
for _ in $(seq 50); do
  redis-cli -p "$port" ping >/dev/null 2>&1 && break
  sleep 0.1
done
stop() { redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || true; rm -rf "$dir"; }
trap stop EXIT

export ARX_TEST_REDIS_URL="redis://127.0.0.1:$port/0"
echo "Redis for tests at $ARX_TEST_REDIS_URL"
"$@"
