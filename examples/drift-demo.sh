#!/usr/bin/env bash
# An agent outside its manifest: the demo's enrichment-agent may only read Okta
# identities in prod (see its manifest below). It lists users (permitted), then reads
# one user's details (an undeclared read: denied at the manifest gate, a low drift alert),
# then suspends an Okta user (undeclared write: denied, a high alert, and the agent is
# suspended until an admin reactivates it). Uses the keys `arx serve --demo` wrote.
set -euo pipefail
demo=${ARX_DEMO_FILE:-data/demo.json}
arx=${ARX_URL:-http://127.0.0.1:3000}
field() { python3 -c "import json,sys; d=json.load(open('$demo')); print(eval(sys.argv[1]))" "$1"; }
key=$(field "[a for a in d['agents'] if a['name']=='enrichment-agent'][0]['api_key']")
id=$(field "[a for a in d['agents'] if a['name']=='enrichment-agent'][0]['id']")
token=$(field "d['admin_token']")

call() { # JSON body
  curl -s -w '\n  -> HTTP %{http_code}\n' -X POST "$arx/v1/sdk/execute" \
    -H "Authorization: Bearer $key" -H 'Content-Type: application/json' -d "$1"
}
admin() { # path
  curl -s -H "Authorization: Bearer $token" "$arx$1" | python3 -m json.tool
}

echo "The manifest in force:"
admin "/v1/admin/agents/$id/manifests" | python3 -c 'import json,sys; v=json.load(sys.stdin)["versions"][0]; print(json.dumps({"version": v["version"], **v["manifest"]}, indent=2))'
echo
echo "1. enrichment-agent lists Okta users (declared): PERMIT"
call '{"connector":"okta","operation":"users:read","params":{"limit":5}}'
echo
echo "2. enrichment-agent reads one Okta user's details (users:get, not declared): DENY at the manifest gate, a low drift alert, no action"
call '{"connector":"okta","operation":"users:get","params":{"user_id":"00u1abcd"}}'
echo
echo "3. enrichment-agent suspends an Okta user (an undeclared write): DENY, a high alert, the agent is suspended"
call '{"connector":"okta","operation":"users:suspend","params":{"user_id":"00u1abcd"}}'
echo
echo "4. enrichment-agent reads Okta users again: DENY at risk 100, it is suspended"
call '{"connector":"okta","operation":"users:read","params":{"limit":5}}'
echo
echo "The drift alerts (also on the console's Drift page):"
curl -s -H "Authorization: Bearer $token" "$arx/v1/admin/drift?agent=$id" | python3 -c '
import json, sys
for a in json.load(sys.stdin)["alerts"]:
    print("  %8s  %-18s %s  (x%d, manifest v%s)" % (a["severity"], a["action"], a["message"], a["occurrences"], a["manifest_version"]))'
echo
echo "Only an admin makes it active again, with a reason:"
echo "  curl -X POST -H \"Authorization: Bearer \$TOKEN\" -H 'Content-Type: application/json' \\"
echo "    -d '{\"reason\": \"reviewed with its owner\"}' $arx/v1/admin/agents/$id/reactivate"
