#!/usr/bin/env bash
# The demo agent: three calls through ARX that end in the three verdicts, using the keys
# `arx serve --demo` wrote to data/demo.json. Then look at the Audit page of the console.
set -euo pipefail
demo=${ARX_DEMO_FILE:-data/demo.json}
arx=${ARX_URL:-http://127.0.0.1:3000}
field() { python3 -c "import json,sys; d=json.load(open('$demo')); print(eval(sys.argv[1]))" "$1"; }
triage=$(field "[a for a in d['agents'] if a['name']=='triage-agent'][0]['api_key']")
remediation=$(field "[a for a in d['agents'] if a['name']=='remediation-agent'][0]['api_key']")

call() { # agent key, JSON body
  curl -s -w '\n  -> HTTP %{http_code}\n' -X POST "$arx/v1/sdk/execute" \
    -H "Authorization: Bearer $1" -H 'Content-Type: application/json' -d "$2"
}

echo "1. triage-agent reads CrowdStrike detections (low risk): PERMIT, runs against the simulator"
call "$triage" '{"connector":"crowdstrike","operation":"detections:read","params":{"filter":"status:'"'"'new'"'"'","limit":10},
  "session_context":{"reasoning":"Morning triage of new detections"}}'
echo
echo "2. remediation-agent contains a host (high risk): ESCALATE. It waits up to 5 s for a reviewer"
echo "   (up to 25 by default), then gets 202 and long-polls GET /v1/sdk/approvals/{id}"
call "$remediation" '{"connector":"crowdstrike","operation":"hosts:write","params":{"action_name":"contain","ids":["host_abc123"]},"wait_seconds":5,
  "session_context":{"reasoning":"Host beaconing to a known C2 domain"}}'
echo
echo "3. triage-agent runs an RTR admin command (critical): DENY"
call "$triage" '{"connector":"crowdstrike","operation":"rtr:command_admin","params":{"session_id":"s-1","base_command":"runscript","command_string":"runscript -Raw=```Get-Process```"}}'
echo
echo
echo "4. remediation-agent closes one ServiceNow change (medium risk): PERMIT"
call "$remediation" '{"connector":"servicenow","operation":"changes:close","params":{"change_ids":["c0ffee01"],"close_code":"successful","close_notes":"Patched and verified"}}'
echo
echo "5. remediation-agent closes two changes at once: PERMIT by default; ESCALATE once"
echo "   examples/policy.yaml (the seeds' change-close-over-one rule) is applied"
call "$remediation" '{"connector":"servicenow","operation":"changes:close","params":{"change_ids":["c0ffee02","c0ffee03"],"close_code":"successful","close_notes":"Patched and verified"}}'
echo
echo "Now open $arx/audit (sign in with admin_email / admin_password from $demo)."
