#!/usr/bin/env bash
# Self-registration: the demo's enrichment-agent registers its own manifest with its key.
# A narrower one (dropping groups:read) takes effect at once; a wider one (adding
# users:get) waits for a reviewer in the Approvals queue, showing what it widens, and
# publishes nothing until approved. Uses the keys `arx serve --demo` wrote.
set -euo pipefail
demo=${ARX_DEMO_FILE:-data/demo.json}
arx=${ARX_URL:-http://127.0.0.1:3000}
field() { python3 -c "import json,sys; d=json.load(open('$demo')); print(eval(sys.argv[1]))" "$1"; }
key=$(field "[a for a in d['agents'] if a['name']=='enrichment-agent'][0]['api_key']")

register() { # operations JSON list, rate, reason
  curl -s -w '\n  -> HTTP %{http_code}\n' -X POST "$arx/v1/agents/register" \
    -H "Authorization: Bearer $key" -H 'Content-Type: application/json' -d "{
      \"manifest\": {\"connectors\": {\"okta\": $1}, \"rate_per_minute\": $2,
        \"environments\": [\"prod\"], \"data_classes\": [\"identity\", \"pii\"],
        \"purpose\": \"Look up who is behind an alert in Okta\", \"model\": \"claude-sonnet-4\"},
      \"reason\": \"$3\", \"wait_seconds\": 0}"
}

echo "1. A narrower manifest (users:read only): published at once as the next version"
register '["users:read"]' 30 "release 2.4 no longer reads groups"
echo
echo "2. The same again (an agent restarting): unchanged, nothing written"
register '["users:read"]' 30 "restart"
echo
echo "3. A wider one (adds users:get): 202, an approval request of kind manifest"
register '["users:read", "users:get"]' 30 "release 2.5 reads one user's details"
echo
echo "Open $arx/approvals as the reviewer: the request shows 'widens: operation okta:users:get'."
echo "Approve it and the manifest becomes the agent's next version; deny it and nothing changes."
