"""``POST /mcp`` with the official MCP Python SDK (``mcp``) as the client, against the
live server: the tools an agent is offered, and calls through the same pipeline as
``POST /v1/sdk/execute`` (permitted, denied, escalated and approved while waiting,
escalated then told by ``arx_approval_status``), each intercept record saying it came
over MCP. Every request is a fresh MCP client: the endpoint keeps no session.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import httpx2
import pytest
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client

from livekit import Reviewer, Server, find_record, marker, params_contain


async def mcp(server: Server, agent: str, method: str, *args: Any) -> Any:
    """One MCP request as ``agent``: initialize, then ``session.<method>(*args)``."""
    headers = {"Authorization": f"Bearer {server.key(agent)}"}
    async with httpx2.AsyncClient(headers=headers, timeout=60) as http:
        async with streamable_http_client(f"{server.base_url}/mcp", http_client=http) as streams:
            async with ClientSession(streams[0], streams[1]) as session:
                await session.initialize()
                return await getattr(session, method)(*args)


def leaves(e: BaseException) -> list[BaseException]:
    """The exceptions inside (nested) exception groups: the MCP client raises through
    anyio's task groups."""
    if isinstance(e, BaseExceptionGroup):
        return [leaf for inner in e.exceptions for leaf in leaves(inner)]
    return [e]


def structured(result: Any) -> dict[str, Any]:
    return dict(result.structured_content)


async def test_tools_are_the_agents_declared_operations_with_schemas(arx_server: Server) -> None:
    listed = await mcp(arx_server, "triage-agent", "list_tools")
    tools = {t.name: t for t in listed.tools}
    assert "arx_approval_status" in tools
    contain = tools["crowdstrike__hosts_write"]
    schema = contain.input_schema
    assert schema["properties"]["action_name"]["enum"] == ["contain", "lift_containment"]
    assert set(schema["required"]) >= {"action_name", "ids"}
    assert "arx_reasoning" in schema["properties"]
    assert schema["additionalProperties"] is False
    # The tier and what the policy in force decides (the live policy escalates it).
    assert "Risk tier: high" in contain.description
    assert "approval" in contain.description
    assert contain.annotations.read_only_hint is False
    assert "Risk tier: low" in tools["crowdstrike__detections_read"].description
    assert tools["crowdstrike__detections_read"].annotations.read_only_hint is True
    # Only what the agent's manifest declares: the enrichment agent reads Okta and nothing
    # else, so it is offered no CrowdStrike tool, and calling one anyway is refused.
    enrichment = await mcp(arx_server, "enrichment-agent", "list_tools")
    names = {t.name for t in enrichment.tools}
    assert "okta__users_read" in names and "arx_approval_status" in names
    assert not any(n.startswith("crowdstrike__") for n in names), names
    r = await mcp(
        arx_server, "enrichment-agent", "call_tool", "crowdstrike__detections_read", {"limit": 1}
    )
    assert r.is_error
    assert structured(r)["error"]["code"] == "permission_denied"


async def test_a_permitted_call_runs_and_its_record_says_mcp(arx_server: Server) -> None:
    why = marker("mcp-permit")
    r = await mcp(
        arx_server,
        "triage-agent",
        "call_tool",
        "crowdstrike__detections_read",
        {"limit": 2, "arx_reasoning": why},
    )
    assert not r.is_error, r.content
    body = structured(r)
    assert body["verdict"] == "PERMIT"
    assert "resources" in body["result"]
    assert json.loads(r.content[0].text) == body["result"]
    record = find_record(arx_server, body["audit_id"])
    assert record["kind"] == "execute.intercept"
    assert record["fields"]["via"] == "mcp"
    assert record["fields"]["session_context"]["reasoning"] == why
    assert find_record(arx_server, body["result_audit_id"])["kind"] == "execute.result"


async def test_a_denied_call_is_a_tool_error_with_the_code_and_record(arx_server: Server) -> None:
    r = await mcp(
        arx_server, "triage-agent", "call_tool", "okta__users_suspend", {"user_id": "00u-mcp"}
    )
    assert r.is_error
    err = structured(r)["error"]
    assert err["code"] == "permission_denied"
    assert r.content[0].text.startswith("permission_denied: ")
    assert find_record(arx_server, err["audit_id"])["fields"]["verdict"] == "DENY"
    # A param the operation does not take: refused before anything runs, saying which.
    r = await mcp(arx_server, "triage-agent", "call_tool", "okta__users_suspend", {"name": "x"})
    assert r.is_error and structured(r)["error"]["code"] == "invalid_params"
    assert "user_id" in r.content[0].text


async def test_an_escalated_call_approved_while_it_waits_returns_the_result(
    arx_server: Server, reviewer: Reviewer
) -> None:
    host = marker("mcp-wait")
    decided = reviewer.later(params_contain(host), approve=True, comment="contain it", delay=0.5)
    r = await mcp(
        arx_server,
        "triage-agent",
        "call_tool",
        "crowdstrike__hosts_write",
        {"action_name": "contain", "ids": [host], "arx_reasoning": "beaconing"},
    )
    decided.result(timeout=5)
    assert not r.is_error, r.content
    body = structured(r)
    assert body["approval_id"] and body["result_audit_id"]
    assert find_record(arx_server, body["audit_id"])["fields"]["via"] == "mcp"


async def test_an_escalated_call_answers_pending_then_the_status_tool_tells_the_outcome(
    arx_server: Server, reviewer: Reviewer
) -> None:
    host = marker("mcp-pending")
    r = await mcp(
        arx_server,
        "triage-agent",
        "call_tool",
        "crowdstrike__hosts_write",
        {"action_name": "contain", "ids": [host]},
    )
    assert not r.is_error, r.content
    pending = structured(r)
    assert pending["status"] == "pending" and pending["verdict"] == "ESCALATE"
    assert pending["approval_id"] in r.content[0].text
    assert pending["expires_at"] in r.content[0].text
    status = await mcp(
        arx_server,
        "triage-agent",
        "call_tool",
        "arx_approval_status",
        {"approval_id": pending["approval_id"]},
    )
    assert structured(status)["status"] == "pending"
    reviewer.decide(pending["approval_id"], approve=False, comment="not this host")
    status = await mcp(
        arx_server,
        "triage-agent",
        "call_tool",
        "arx_approval_status",
        {"approval_id": pending["approval_id"], "wait_seconds": 5},
    )
    assert status.is_error
    assert structured(status)["error"]["code"] == "approval_denied"
    # Another agent cannot read this agent's request.
    other = await mcp(
        arx_server,
        "enrichment-agent",
        "call_tool",
        "arx_approval_status",
        {"approval_id": pending["approval_id"]},
    )
    assert other.is_error
    assert structured(other)["error"]["code"] == "not_found"


def test_a_request_without_a_valid_key_is_refused_before_mcp(arx_server: Server) -> None:
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
    accept = {"accept": "application/json, text/event-stream"}
    for headers in ({}, {"authorization": "Bearer arx_not_a_key"}):
        r = httpx.post(f"{arx_server.base_url}/mcp", json=body, headers={**accept, **headers})
        assert r.status_code == 401, r.text
        assert r.json()["error"]["code"] == "unauthenticated"


@pytest.mark.parametrize("name", ["crowdstrike__no_such_op", "nope__detections_read"])
async def test_an_unknown_tool_is_a_protocol_error_naming_it(arx_server: Server, name: str) -> None:
    from mcp.shared.exceptions import MCPError

    seen: list[str] = []
    try:
        await mcp(arx_server, "triage-agent", "call_tool", name, {})
    except* MCPError as group:
        seen = [str(e) for e in leaves(group)]
    assert seen and f"no tool named {name}" in seen[0], seen
