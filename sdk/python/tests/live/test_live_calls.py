"""Each way a governed call can end, against the real server, with both clients: the
result of a permitted call, each error class, and waiting through a reviewer's decision
made from another client (a thread using the reviewer API, as a person in the console).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Iterator

import httpx
import pytest

from agentvault import (
    APIError,
    ApprovalCancelledError,
    ApprovalDeniedError,
    ApprovalExpiredError,
    ApprovalPendingError,
    ARXClient,
    ARXError,
    PermissionDeniedError,
    SyncARXClient,
)
from livekit import (
    Caller,
    Expiring,
    Reviewer,
    Server,
    TcpProxy,
    close_client,
    find_record,
    make_client,
    marker,
    new_agent,
    params_contain,
)
#: The most a test waits for its reviewer thread: a reviewer that never comes fails the
#: test (ApprovalPendingError) instead of leaving it waiting for the request's expiry.
DECIDE = 60


async def test_permit_returns_the_targets_answer(caller: Caller, arx_server: Server) -> None:
    cs = caller.client.crowdstrike()
    done = await caller(cs.execute_detailed, "detections:read", {"limit": 2})
    # The simulator's Falcon envelope, two detection ids as asked.
    assert done.verdict == "PERMIT"
    assert done.approval_id is None
    assert isinstance(done.risk_score, int)
    assert len(done.result["resources"]) == 2
    assert done.result["meta"]["powered_by"] == "crowdstrike-api-gateway"
    # Both records are in the chain: the intercept before the call, the result after.
    assert find_record(arx_server, done.audit_id)["kind"] == "execute.intercept"
    assert find_record(arx_server, done.result_audit_id)["kind"] == "execute.result"
    # execute() returns the answer itself, and the session remembers the calls.
    hosts = await caller(cs.get_hosts, limit=1)
    assert len(hosts["resources"]) == 1
    assert caller.client.session.actions[-2:] == [
        {"connector": "crowdstrike", "operation": "detections:read"},
        {"connector": "crowdstrike", "operation": "hosts:read"},
    ]


async def test_configuration_from_the_environment_and_instances(
    arx_server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``ARX_API_KEY`` and ``ARX_BASE_URL`` (a trailing slash is fine), and a connector
    bound to one instance by name; an instance the org does not have is an APIError."""
    monkeypatch.setenv("ARX_API_KEY", arx_server.key())
    monkeypatch.setenv("ARX_BASE_URL", arx_server.base_url + "/")
    async with ARXClient() as arx:
        assert (await arx.crowdstrike(instance="main").get_hosts(limit=1))["resources"]
        with pytest.raises(APIError) as err:
            await arx.crowdstrike(instance="nowhere").get_hosts(limit=1)
    assert err.value.status_code in (400, 404)
    assert "nowhere" in err.value.message
    with SyncARXClient() as arx:
        assert arx.connector("crowdstrike").execute("hosts:read", {"limit": 1})["resources"]


async def test_deny_raises_permission_denied(caller: Caller, arx_server: Server) -> None:
    okta = caller.client.okta()
    with pytest.raises(PermissionDeniedError) as err:
        await caller(okta.execute, "users:suspend", {"user_id": "00u-live"})
    e = err.value
    assert e.code == "permission_denied"
    assert e.status_code == 403
    assert e.verdict == "DENY"
    assert isinstance(e.risk_score, int) and 0 <= e.risk_score <= 100
    assert e.approval_id is None
    assert not isinstance(e, httpx.HTTPStatusError)  # a decision, not a transport error
    # The audit id names the intercept record of the refused call.
    rec = find_record(arx_server, e.audit_id)
    assert rec["kind"] == "execute.intercept"
    assert rec["fields"]["verdict"] == "DENY"


async def test_reviewer_denial_raises_approval_denied(
    caller: Caller, reviewer: Reviewer
) -> None:
    host = marker("host")
    decided = reviewer.later(params_contain(host), approve=False, comment="not during the freeze")
    with pytest.raises(ApprovalDeniedError) as err:
        await caller(caller.client.crowdstrike().contain_host, [host], reasoning="beaconing",
                         timeout=DECIDE)
    found = decided.result(timeout=10)
    e = err.value
    assert e.code == "approval_denied"
    assert e.status_code == 403
    assert e.approval_id == found["id"]
    assert e.reason == "not during the freeze"
    # From the 202 the SDK saw: the intercept record and the score of the call.
    assert e.audit_id == found["intercept_id"]
    assert e.risk_score == found["risk_score"]
    detail = reviewer.detail(found["id"])
    assert detail["approval"]["status"] == "denied"
    # The agent's reasoning reached the reviewer, with the call's session context.
    assert "beaconing" in json.dumps(detail["intercept"])


async def test_waiting_through_an_approval_returns_the_result(
    caller: Caller, reviewer: Reviewer
) -> None:
    host = marker("host")
    # The reviewer takes a moment, so the SDK is on its long poll when the decision lands.
    decided = reviewer.later(params_contain(host), approve=True, comment="confirmed C2", delay=1.0)
    cs = caller.client.crowdstrike()
    done = await caller(cs.execute_detailed, "hosts:write", {"action_name": "contain", "ids": [host]},
                        reasoning="beaconing to a known C2 domain", timeout=DECIDE)
    found = decided.result(timeout=10)
    assert done.approval_id == found["id"]
    assert done.verdict == "PERMIT"
    assert done.audit_id == found["intercept_id"]
    assert done.result["resources"][0]["id"] == host  # the simulator contained our host
    assert reviewer.approval(found["id"])["status"] == "executed"


async def test_an_initial_wait_gets_the_result_on_the_first_answer(
    arx_server: Server, reviewer: Reviewer
) -> None:
    """``initial_wait_seconds``: the server holds the first answer for the decision, so
    an approval made meanwhile comes back on the execute call itself, with no poll."""
    host = marker("host")
    decided = reviewer.later(params_contain(host), approve=True, delay=0.5)
    with TcpProxy(arx_server.port) as proxy:
        async with ARXClient(arx_server.key(), base_url=proxy.url, initial_wait_seconds=20) as arx:
            done = await arx.crowdstrike().execute_detailed(
                "hosts:write", {"action_name": "contain", "ids": [host]}, timeout=DECIDE)
    assert done.approval_id == decided.result(timeout=10)["id"]
    assert done.result["resources"][0]["id"] == host
    assert proxy.polls == 0


async def test_wait_false_raises_pending_and_the_id_resumes(
    caller: Caller, reviewer: Reviewer
) -> None:
    host = marker("host")
    cs = caller.client.crowdstrike()
    started = time.monotonic()
    with pytest.raises(ApprovalPendingError) as err:
        await caller(cs.contain_host, [host], wait=False)
    assert time.monotonic() - started < 5  # answered at once, not after a long poll
    e = err.value
    assert e.code == "approval_pending" and e.status_code == 202
    assert e.expires_at and e.audit_id and isinstance(e.risk_score, int)
    # The request stands, in the queue, under the id the error carries.
    queued = reviewer.wait_for(params_contain(host), timeout=5)
    assert queued["id"] == e.approval_id
    assert queued["intercept_id"] == e.audit_id
    # Approved elsewhere; waiting on the id gives the call's outcome.
    reviewer.decide(e.approval_id, approve=True, comment="ok")
    outcome = await caller(caller.client.wait_for_approval, e.approval_id, timeout=DECIDE)
    assert outcome["approval_id"] == e.approval_id
    assert outcome["result"]["resources"][0]["id"] == host


async def test_timeout_raises_pending_and_the_request_stands(
    caller: Caller, reviewer: Reviewer
) -> None:
    host = marker("host")
    started = time.monotonic()
    with pytest.raises(ApprovalPendingError) as err:
        await caller(caller.client.crowdstrike().contain_host, [host], timeout=2)
    waited = time.monotonic() - started
    assert 1.5 <= waited < 10, waited
    assert reviewer.approval(err.value.approval_id)["status"] == "pending"
    # Denied later: waiting again on the id ends in the denial.
    reviewer.decide(err.value.approval_id, approve=False, comment="stale")
    with pytest.raises(ApprovalDeniedError) as denied:
        await caller(caller.client.wait_for_approval, err.value.approval_id, timeout=DECIDE)
    assert denied.value.reason == "stale"


@pytest.mark.parametrize("kind", ["async", "sync"])
async def test_a_bad_key_is_an_http_status_error_401(kind: str, arx_server: Server) -> None:
    client = make_client(kind, arx_server, api_key="arx_not-a-key")
    try:
        c = Caller(kind, client)
        with pytest.raises(httpx.HTTPStatusError) as err:
            await c(client.crowdstrike().get_hosts)
    finally:
        await close_client(client)
    e = err.value
    assert isinstance(e, APIError) and isinstance(e, ARXError)
    assert e.response.status_code == 401 and e.status_code == 401
    assert e.code == "unauthenticated"
    assert e.request.url.path == "/v1/sdk/execute"


async def test_an_unknown_operation_is_a_400_listing_the_valid_ones(caller: Caller) -> None:
    with pytest.raises(httpx.HTTPStatusError) as err:
        await caller(caller.client.crowdstrike().execute, "detections:nuke")
    e = err.value
    assert isinstance(e, APIError)
    assert e.response.status_code == 400
    assert e.code == "invalid_operation"
    assert e.valid is not None and "detections:read" in e.valid
    assert set(e.valid) == set(caller.client.crowdstrike().operations)


async def test_invalid_params_are_a_400(caller: Caller) -> None:
    with pytest.raises(APIError) as err:
        await caller(caller.client.crowdstrike().execute, "hosts:write",
                     {"action_name": "explode", "ids": ["h"]})
    assert err.value.status_code == 400
    assert err.value.code == "invalid_params"
    assert "action_name" in err.value.message


async def test_cancelled_requests_raise_approval_cancelled(
    arx_server: Server, reviewer: Reviewer
) -> None:
    """ApprovalCancelledError, both ways a waiting call's request is cancelled: an
    approval that lands after the agent was suspended (it never runs), and the agent's
    decommissioning (its pending requests end with it). Meanwhile a suspended agent's
    calls are PermissionDeniedError at risk 100; afterwards its key is refused (401)."""
    agent_id, key = new_agent(arx_server, marker("cancel"), {"crowdstrike": ["*"]})
    hosts = {"async": marker("host"), "sync": marker("host")}
    clients = {"async": make_client("async", arx_server, api_key=key),
               "sync": make_client("sync", arx_server, api_key=key)}
    try:
        calls = {
            kind: asyncio.create_task(Caller(kind, c)(c.crowdstrike().contain_host, [hosts[kind]],
                                                      timeout=DECIDE))
            for kind, c in clients.items()
        }
        found = {kind: await asyncio.to_thread(reviewer.wait_for, params_contain(h))
                 for kind, h in hosts.items()}
        arx_server.admin_json("POST", f"/v1/admin/agents/{agent_id}/suspend",
                              json={"reason": "investigating its last run"})
        with pytest.raises(PermissionDeniedError) as denied:
            await clients["async"].crowdstrike().get_hosts()
        assert denied.value.risk_score == 100

        # Approved after the suspension: cancelled, not run.
        await asyncio.to_thread(reviewer.decide, found["async"]["id"], True, "go")
        with pytest.raises(ApprovalCancelledError) as err:
            await asyncio.wait_for(calls["async"], 30)
        e = err.value
        assert e.code == "approval_cancelled" and e.status_code == 409
        assert e.approval_id == found["async"]["id"]
        assert e.audit_id == found["async"]["intercept_id"]
        assert "suspended" in e.message
        assert reviewer.approval(e.approval_id)["status"] == "cancelled"

        # Decommissioned: the other request ends with the agent.
        arx_server.admin_json("POST", f"/v1/admin/agents/{agent_id}/decommission",
                              json={"reason": "replaced by a new version", "retention_class": "standard"})
        with pytest.raises(ApprovalCancelledError) as err:
            await asyncio.wait_for(calls["sync"], 30)
        assert err.value.approval_id == found["sync"]["id"]
        assert "decommissioned" in err.value.message

        with pytest.raises(APIError) as gone:
            await Caller("sync", clients["sync"])(clients["sync"].crowdstrike().get_hosts)
        assert gone.value.status_code == 401 and gone.value.code == "unauthenticated"
        assert "decommissioned" in gone.value.message
    finally:
        for c in clients.values():
            await close_client(c)


@contextlib.contextmanager
def jira_with_a_wrong_password(server: Server) -> Iterator[None]:
    """The demo's Jira instance with a wrong password for a while: its calls are
    permitted and run, and the target refuses them. (A second instance would make every
    other test name it; the instance API has no delete.) The simulator's own demo
    credentials are put back after."""
    instances = server.admin_json("GET", "/v1/admin/instances")["instances"]
    main = next(i for i in instances if i["connector"] == "jira" and i["name"] == "main")
    path = f"/v1/admin/instances/{main['id']}/credentials"
    server.admin_json("PUT", path, json={"username": "demo-jira-username", "password": "wrong"})
    try:
        yield
    finally:
        server.admin_json("PUT", path, json={"username": "demo-jira-username",
                                             "password": "demo-jira-password"})


async def test_a_target_error_is_an_api_error_with_the_targets_answer(
    caller: Caller, arx_server: Server
) -> None:
    jira = caller.client.jira()
    with jira_with_a_wrong_password(arx_server):
        with pytest.raises(httpx.HTTPStatusError) as err:
            await caller(jira.search_issues, jql="project = SEC")
    e = err.value
    assert isinstance(e, APIError)
    assert e.response.status_code == 502 and e.code == "target_error"
    assert e.target_status == 401
    assert e.target_body["errorMessages"]  # Jira's own error envelope
    # The call was recorded before it ran, and its failure after.
    assert find_record(arx_server, e.audit_id)["kind"].startswith("execute.")
    # With the credentials back, the same call runs.
    assert (await caller(jira.search_issues, jql="project = SEC"))["issues"]


@pytest.mark.run_last
async def test_an_unanswered_request_expires(expiring: Expiring, reviewer: Reviewer) -> None:
    """Started with the session (conftest.Expiring), ``wait=True`` on a rule with a
    one-minute timeout, by both clients: silence ends in ApprovalExpiredError, not in a
    denial and not in a pending error."""
    for kind in ("sync", "async"):
        fut = expiring.outcome(kind)
        with pytest.raises(ApprovalExpiredError) as err:
            fut.result(timeout=expiring.ttl + 60)
        e = err.value
        assert e.code == "approval_expired" and e.status_code == 403
        assert e.expires_at and e.approval_id and e.audit_id
        assert not isinstance(e, ApprovalDeniedError)
        # It waited the whole minute (it was not given up early)...
        assert expiring.ended[kind] - expiring.started >= expiring.ttl - 2
        # ... and the server agrees the request expired.
        a = reviewer.approval(e.approval_id)
        assert a["status"] == "expired"
        assert a["params"]["ids"] == expiring.params(kind)["ids"]


async def test_clients_share_nothing_but_the_server(arx_server: Server, reviewer: Reviewer) -> None:
    """Two clients of two agents at once: one waits for a reviewer while the other's
    calls go through (the long poll blocks only its own caller)."""
    host = marker("host")
    async with ARXClient(arx_server.key("remediation-agent"), base_url=arx_server.base_url) as rem, \
            ARXClient(arx_server.key("triage-agent"), base_url=arx_server.base_url) as tri:
        waiting = asyncio.create_task(rem.crowdstrike().contain_host([host], timeout=DECIDE))
        found = await asyncio.to_thread(reviewer.wait_for, params_contain(host))
        for _ in range(3):
            assert (await tri.crowdstrike().get_detections(limit=1))["resources"]
        assert not waiting.done()
        reviewer.decide(found["id"], approve=True)
        result = await asyncio.wait_for(waiting, 30)
    assert result["resources"][0]["id"] == host
    with SyncARXClient(arx_server.key("remediation-agent"), base_url=arx_server.base_url) as s:
        assert s.session.actions == []  # a new client starts a new session
