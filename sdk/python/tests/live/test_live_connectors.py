"""Every convenience method the SDK's README documents (CrowdStrike, Splunk, Jira), and
its examples of ``execute`` on other connectors, as real governed calls through ARX to
the demo's instances, which point at ARX's built-in target simulator. Each assertion
reads something only the simulator's answer (or the simulator's state, changed by an
earlier call) can hold."""

from __future__ import annotations

import pytest

from agentvault import adf
from livekit import Caller, Reviewer, Server, find_record, marker, params_contain

DECIDE = 60


async def test_crowdstrike(caller: Caller, reviewer: Reviewer, arx_server: Server) -> None:
    cs = caller.client.crowdstrike()
    assert cs.name == "crowdstrike"

    detections = await caller(cs.get_detections, filter="status:'new'", limit=5)
    ids = detections["resources"]
    assert len(ids) == 5 and all(i.startswith("ldt:") for i in ids)
    assert detections["meta"]["pagination"]["limit"] == 5

    details = await caller(cs.get_detection_details, ids=ids[:2])
    assert [d["detection_id"] for d in details["resources"]] == ids[:2]
    assert details["resources"][0]["behaviors"][0]["technique_id"] == "T1003"

    updated = await caller(cs.update_detection, ids=ids[:3], status="in_progress")
    assert updated["meta"]["writes"]["resources_affected"] == 3

    hosts = await caller(cs.get_hosts, filter="platform_name:'Windows'", limit=4)
    assert len(hosts["resources"]) == 4
    assert hosts["meta"]["pagination"]["offset"].startswith("FQL")  # the scroll token

    incidents = await caller(cs.get_incidents, filter="fine_score:>=75", limit=2)
    assert [i.split(":")[0] for i in incidents["resources"]] == ["inc", "inc"]

    # contain_host is high risk: the policy escalates it, the reviewer approves.
    host = marker("host")
    decided = reviewer.later(params_contain(host), approve=True, comment="confirmed")
    contained = await caller(cs.contain_host, ids=[host], reasoning="beaconing to C2", timeout=DECIDE)
    found = decided.result(timeout=10)
    assert found["params"] == {"action_name": "contain", "ids": [host]}
    assert contained["resources"] == [{"id": host, "path": ""}]
    # The simulator keeps the host's state: it is contained now.
    state = await caller(cs.execute, "hosts:get", {"ids": [host]})
    assert state["resources"][0]["status"] == "contained"

    # What the SDK sent is what ARX recorded (params and the session context).
    before = caller.client.session.actions
    done = await caller(cs.execute_detailed, "detections:read", {"limit": 1},
                        reasoning="morning triage", context={"task": "SEC-1"})
    fields = find_record(arx_server, done.audit_id)["fields"]
    assert fields["connector"] == "crowdstrike" and fields["operation"] == "detections:read"
    assert fields["params"] == {"limit": 1}
    assert fields["session_context"] == {
        "prior_actions": before, "reasoning": "morning triage", "task": "SEC-1",
    }
    assert before[-2:] == [{"connector": "crowdstrike", "operation": "hosts:write"},
                           {"connector": "crowdstrike", "operation": "hosts:get"}]


async def test_crowdstrike_paginate(caller: Caller) -> None:
    cs = caller.client.crowdstrike()
    # Host ids page by scroll token: each page asks with the previous page's token.
    pages = []
    if caller.kind == "sync":
        pages = await caller(lambda: list(cs.paginate("hosts:read", {"filter": "x"}, page_size=2, max_pages=3)))
    else:
        pages = [p async for p in cs.paginate("hosts:read", {"filter": "x"}, page_size=2, max_pages=3)]
    assert len(pages) == 3
    assert all(len(p["resources"]) == 2 for p in pages)
    tokens = [p["meta"]["pagination"]["offset"] for p in pages]
    assert len(set(tokens)) == 3
    # Detections page by offset and stop at the answer's total.
    if caller.kind == "sync":
        det = await caller(lambda: list(cs.paginate("detections:read", page_size=3, max_pages=5)))
    else:
        det = [p async for p in cs.paginate("detections:read", page_size=3, max_pages=5)]
    assert len(det) == 1 and det[0]["meta"]["pagination"]["total"] == 3


async def test_splunk(caller: Caller) -> None:
    splunk = caller.client.splunk()
    search = await caller(
        splunk.search,
        query="search index=main sourcetype=syslog error",
        earliest="-4h",
        latest="now",
        exec_mode="blocking",
    )
    sid = search["sid"]
    assert sid
    status = await caller(splunk.execute, "search:status", {"sid": sid})
    assert status["entry"][0]["content"]["isDone"] is True
    assert status["entry"][0]["name"] == sid
    results = await caller(splunk.get_search_results, sid=sid, count=2)
    assert len(results["results"]) == 2
    assert "Failed password" in results["results"][0]["_raw"]


async def test_splunk_refuses_spl_that_writes(caller: Caller) -> None:
    from agentvault import APIError

    with pytest.raises(APIError) as err:
        await caller(caller.client.splunk().search, query="search index=main | outputlookup evil.csv")
    assert err.value.status_code == 400


async def test_jira(caller: Caller) -> None:
    jira = caller.client.jira()
    issues = await caller(
        jira.search_issues,
        jql="project = SEC AND status = Open ORDER BY priority DESC",
        max_results=4,
    )
    assert issues["maxResults"] == 4
    assert [i["key"] for i in issues["issues"]] == ["SEC-1040", "SEC-1041", "SEC-1042", "SEC-1043"]

    created = await caller(
        jira.create_issue,
        project="OPS",
        summary="Investigate anomalous login pattern on host-prod-42",
        issue_type="Task",
        description="CrowdStrike detection ldt_abc123 flagged repeated failed logins.",
        priority="High",
    )
    # The project went into the issue's fields (fields.project.key) as Jira's API takes it.
    assert created["key"].startswith("OPS-")

    text = "Automated enrichment complete.\n\nSee attached IOC report."
    comment = await caller(jira.add_comment, issue_key=created["key"], body=text)
    # The comment went as an ADF document, which the simulator echoes back.
    assert comment["body"] == adf(text)
    assert comment["self"].endswith(f"/issue/{created['key']}/comment/{comment['id']}")


async def test_readme_examples_of_execute(caller: Caller) -> None:
    """The README's "Any operation of any connector" examples, as written."""
    c = caller.client
    users = await caller(c.okta().execute, "users:read", {"limit": 200})
    assert isinstance(users, list) and users and "profile" in users[0]
    wiz = await caller(c.wiz().execute, "issues:read", {"first": 50})
    assert "data" in wiz
    incident = await caller(c.servicenow().execute, "incidents:write", {
        "short_description": "Automated: Critical vulnerability detected",
        "urgency": 1,
        "impact": 1,
    })
    assert incident["result"]["short_description"] == "Automated: Critical vulnerability detected"
    event = await caller(c.pagerduty().execute, "events:write", {
        "routing_key": "your_integration_key",
        "event_action": "trigger",
        "payload": {
            "summary": "Critical detection on host-prod-42",
            "severity": "critical",
            "source": "arx-triage-agent",
        },
    })
    assert event["status"] == "success"
