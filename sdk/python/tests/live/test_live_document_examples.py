"""The product document's code examples ("Using Connectors", the SDK page the product
was specified from), run as written against the live demo: each statement of each
example is the document's own, with only the indentation its web page lost put back.
``ARXClient()`` finds the key and URL in ``ARX_API_KEY`` and ``ARX_BASE_URL`` as the
document says; a reviewer thread decides what policy escalates (the live policy
escalates ``hosts:write``).

An example that continues an earlier one (``cs``, ``jira``, ``log`` already defined) runs
in the names the earlier ones left, as in the document's own flow.
"""

from __future__ import annotations

import logging
import textwrap
from typing import Any

import pytest

from livekit import Reviewer, Server, params_contain

OVERVIEW = """
from agentvault import ARXClient
async with ARXClient() as arx:
    cs = arx.crowdstrike() # Returns SDKConnector bound to "crowdstrike"
    splunk = arx.splunk() # Returns SDKConnector bound to "splunk"
    jira = arx.jira() # Returns SDKConnector bound to "jira"
"""

ESCALATE = """
from agentvault import ARXClient
async with ARXClient() as arx:
    cs = arx.crowdstrike()
    try:
        result = await cs.execute("hosts:write", {
            "ids": ["host_abc123"],
            "action_name": "contain"
        })
        print("Host contained:", result)
    except Exception as e:
        print(f"Operation escalated or denied: {e}")
        # The approval request ID is available in the ARX console
        # and via the audit trail API.
"""

GRACEFUL = """
try:
    result = await cs.contain_host(ids=["host_abc123"])
except ApprovalDeniedError:
    # Human reviewer denied. Log and escalate through alternate channel.
    await jira.create_issue(
        project="SEC",
        summary="Manual containment required: host_abc123",
        issue_type="Task",
        priority="High",
    )
except PermissionDeniedError:
    # Policy hard-denies this operation for this agent.
    log.error("Agent lacks permission for host containment")
"""

CROWDSTRIKE = """
cs = arx.crowdstrike()
# Query detections with optional FQL filter
detections = await cs.get_detections(filter="status:'new'", limit=50)
# Get full detection details by ID
details = await cs.get_detection_details(ids=["ldt_abc123", "ldt_def456"])
# Update detection status
await cs.update_detection(ids=["ldt_abc123"], status="in_progress")
# Query hosts
hosts = await cs.get_hosts(filter="platform_name:'Windows'", limit=100)
# Contain a host (high risk -- may trigger ESCALATE)
await cs.contain_host(ids=["host_abc123"])
# Query incidents
incidents = await cs.get_incidents(filter="fine_score:>=75", limit=20)
"""

SPLUNK = """
splunk = arx.splunk()
# Run a search query
search = await splunk.search(
    query="search index=main sourcetype=syslog error",
    earliest="-4h",
    latest="now",
)
# Get search results by SID
results = await splunk.get_search_results(sid=search["sid"])
"""

JIRA = """
jira = arx.jira()
# Search issues with JQL
issues = await jira.search_issues(
    jql="project = SEC AND status = Open ORDER BY priority DESC",
    max_results=25,
)
# Create an issue
new_issue = await jira.create_issue(
    project="SEC",
    summary="Investigate anomalous login pattern on host-prod-42",
    issue_type="Task",
    description="CrowdStrike detection ldt_abc123 flagged repeated failed logins.",
    priority="High",
)
# Add a comment to an existing issue
await jira.add_comment(
    issue_key="SEC-1042",
    body="Automated enrichment complete. See attached IOC report.",
)
"""

GENERIC = """
# Okta: List users
okta = arx.okta()
users = await okta.execute("users:read", {"limit": 200})
# Wiz: Get issues
wiz = arx.wiz()
issues = await wiz.execute("issues:read", {"first": 50})
# ServiceNow: Create an incident
snow = arx.servicenow()
incident = await snow.execute("incidents:write", {
    "short_description": "Automated: Critical vulnerability detected",
    "urgency": 1,
    "impact": 1,
})
# PagerDuty: Trigger an event
pd = arx.pagerduty()
await pd.execute("events:write", {
    "routing_key": "your_integration_key",
    "event_action": "trigger",
    "payload": {
        "summary": "Critical detection on host-prod-42",
        "severity": "critical",
        "source": "arx-triage-agent",
    },
})
"""

PAGINATION = """
# CrowdStrike uses limit/offset
page1 = await cs.execute("detections:read", {"limit": 100, "offset": 0})
page2 = await cs.execute("detections:read", {"limit": 100, "offset": 100})
# Jira uses maxResults/startAt
page1 = await jira.execute("issues:read", {"jql": "project=SEC", "maxResults": 50, "startAt": 0})
page2 = await jira.execute("issues:read", {"jql": "project=SEC", "maxResults": 50, "startAt": 50})
"""


async def run(example: str, names: dict[str, Any]) -> dict[str, Any]:
    """Runs ``example`` as the body of an async function over ``names``; returns the
    names it left (an example inside ``async with`` also leaves ``arx``)."""
    source = "async def __example__():\n" + textwrap.indent(example.strip("\n"), "    ")
    source += "\n    return locals()\n"
    scope = dict(names)
    exec(compile(source, "<document example>", "exec"), scope)
    left: dict[str, Any] = await scope["__example__"]()
    return {**names, **left}


@pytest.fixture
def demo_env(arx_server: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ARX_API_KEY", arx_server.key("triage-agent"))
    monkeypatch.setenv("ARX_BASE_URL", arx_server.base_url)


async def test_the_documents_examples_run_as_written(
    arx_server: Server, demo_env: None, reviewer: Reviewer, capsys: pytest.CaptureFixture[str]
) -> None:
    import agentvault

    names: dict[str, Any] = {
        "ApprovalDeniedError": agentvault.ApprovalDeniedError,
        "PermissionDeniedError": agentvault.PermissionDeniedError,
        "log": logging.getLogger("document-example"),
    }
    names = await run(OVERVIEW, names)
    assert names["cs"].name == "crowdstrike" and names["jira"].name == "jira"

    # The escalated containment, approved by a reviewer while the agent waits.
    approved = reviewer.later(params_contain("host_abc123"), approve=True, comment="go")
    await run(ESCALATE, names)
    approved.result(timeout=10)
    assert "Host contained:" in capsys.readouterr().out

    async with agentvault.ARXClient() as arx:
        names.update(arx=arx, cs=arx.crowdstrike(), jira=arx.jira())
        # The graceful handling: the reviewer denies, so the agent files a Jira issue.
        denied = reviewer.later(params_contain("host_abc123"), approve=False, comment="no")
        await run(GRACEFUL, names)
        denied.result(timeout=10)
        filed = arx_server.admin_json(
            "GET",
            "/v1/admin/audit",
            params={"q": '"manual containment required host abc123"', "operation": "issues:write"},
        )
        assert any(r["fields"].get("verdict") == "PERMIT" for r in filed["records"]), filed

        approved = reviewer.later(params_contain("host_abc123"), approve=True, comment="go")
        left = await run(CROWDSTRIKE, names)
        approved.result(timeout=10)
        assert left["detections"]["resources"] and left["details"]["resources"]
        assert left["hosts"]["resources"] and "resources" in left["incidents"]

        left = await run(SPLUNK, names)
        assert left["search"]["sid"] and left["results"]["results"]

        left = await run(JIRA, names)
        assert left["new_issue"]["key"].startswith("SEC-")

        left = await run(GENERIC, names)
        assert left["users"] and left["incident"]["result"]["sys_id"]

        left = await run(PAGINATION, names)
        assert "resources" in left["page1"] or "issues" in left["page1"]
