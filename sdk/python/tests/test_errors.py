"""Error mapping and request shapes, from the server's own bodies (server/src/error.rs,
server/src/http/sdk.rs, the integration tests in server/tests/it/). httpx.MockTransport
stands in for the server here only to parse answers; the real-server suite is separate.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from agentvault import (
    APIError,
    ApprovalCancelledError,
    ApprovalDeniedError,
    ApprovalExpiredError,
    ApprovalPendingError,
    ARXClient,
    PermissionDeniedError,
    SyncARXClient,
)

APPROVAL = "0193a4b2-7c4d-7e8f-9a0b-1c2d3e4f5a6b"
AUDIT = "0193a4b2-0000-7000-8000-000000000001"
RESULT_AUDIT = "0193a4b2-0000-7000-8000-000000000002"

PENDING = {
    "approval_id": APPROVAL,
    "expires_at": "2030-01-01T00:00:00.000Z",
    "audit_id": AUDIT,
    "verdict": "ESCALATE",
    "risk_score": 70,
    "status": "pending",
}
RAN = {
    "result": {"resources": [{"id": "host-1"}]},
    "audit_id": AUDIT,
    "result_audit_id": RESULT_AUDIT,
    "verdict": "PERMIT",
    "risk_score": 70,
    "approval_id": APPROVAL,
}


def error(code: str, message: str, **details: Any) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, **details}}


Handler = Callable[[httpx.Request], httpx.Response]


def script(*answers: tuple[int, Any] | tuple[int, Any, dict[str, str]]) -> tuple[Handler, list[httpx.Request]]:
    """A handler answering the given (status, body[, headers]) in order, and the
    requests it saw."""
    seen: list[httpx.Request] = []
    queue = list(answers)

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        status, body, *rest = queue.pop(0)
        headers = rest[0] if rest else {}
        if isinstance(body, str):
            return httpx.Response(status, text=body, headers=headers)
        return httpx.Response(status, json=body, headers=headers)

    return handle, seen


def client(handler: Handler) -> SyncARXClient:
    return SyncARXClient(
        api_key="arx_test_key",
        base_url="http://arx.test",
        transport=httpx.MockTransport(handler),
    )


def body_of(request: httpx.Request) -> Any:
    return json.loads(request.content)


def test_a_permitted_call_returns_the_targets_answer_and_sends_the_documented_body() -> None:
    handler, seen = script((200, {**RAN, "approval_id": None} | {"verdict": "PERMIT"}))
    with client(handler) as arx:
        cs = arx.crowdstrike(instance="falcon-eu")
        out = cs.execute("detections:read", {"limit": 10}, reasoning="triage of new detections")
    assert out == RAN["result"]
    (req,) = seen
    assert (req.method, req.url.path) == ("POST", "/v1/sdk/execute")
    assert req.headers["authorization"] == "Bearer arx_test_key"
    assert req.headers["content-type"] == "application/json"
    assert body_of(req) == {
        "connector": "crowdstrike",
        "operation": "detections:read",
        "params": {"limit": 10},
        "session_context": {"prior_actions": [], "reasoning": "triage of new detections"},
        "wait_seconds": 0,
        "instance": "falcon-eu",
    }


def test_execute_detailed_keeps_the_records_of_the_call() -> None:
    handler, _ = script((200, RAN))
    with client(handler) as arx:
        done = arx.crowdstrike().execute_detailed("hosts:write", {"ids": ["h"], "action_name": "contain"})
    assert (done.audit_id, done.result_audit_id, done.verdict, done.risk_score, done.approval_id) == (
        AUDIT, RESULT_AUDIT, "PERMIT", 70, APPROVAL,
    )


def test_deny_is_a_permission_denied_error_with_audit_id_and_risk() -> None:
    body = error(
        "permission_denied",
        "denied by policy: default:critical",
        audit_id=AUDIT,
        risk_score=95,
        verdict="DENY",
    )
    handler, seen = script((403, body))
    with client(handler) as arx, pytest.raises(PermissionDeniedError) as e:
        arx.crowdstrike().execute("rtr:command_admin", {"session_id": "s"})
    err = e.value
    assert (err.code, err.audit_id, err.risk_score, err.verdict, err.status_code) == (
        "permission_denied", AUDIT, 95, "DENY", 403,
    )
    assert err.message == "denied by policy: default:critical"
    assert not isinstance(err, httpx.HTTPStatusError)
    assert len(seen) == 1, "a denial is final: no poll"


def test_an_escalated_call_waits_on_the_long_poll_and_returns_the_approved_result() -> None:
    handler, seen = script((202, PENDING), (202, PENDING), (200, RAN))
    with client(handler) as arx:
        out = arx.crowdstrike().contain_host(ids=["host-1"])
    assert out == RAN["result"]
    assert [r.url.path for r in seen] == [
        "/v1/sdk/execute",
        f"/v1/sdk/approvals/{APPROVAL}",
        f"/v1/sdk/approvals/{APPROVAL}",
    ]
    assert body_of(seen[0])["params"] == {"action_name": "contain", "ids": ["host-1"]}
    assert seen[1].url.params["wait_seconds"] == "25"


def test_a_reviewers_denial_carries_the_approval_the_comment_and_the_calls_record() -> None:
    denied = error("approval_denied", "a reviewer denied this call: not this host", approval_id=APPROVAL)
    handler, _ = script((202, PENDING), (403, denied))
    with client(handler) as arx, pytest.raises(ApprovalDeniedError) as e:
        arx.crowdstrike().contain_host(ids=["host-1"])
    err = e.value
    assert (err.code, err.approval_id, err.reason) == ("approval_denied", APPROVAL, "not this host")
    # The server's body has only the approval id; the 202 said the rest.
    assert (err.audit_id, err.risk_score) == (AUDIT, 70)


def test_expiry_is_its_own_error_not_a_denial() -> None:
    expired = error(
        "approval_expired",
        "nobody approved this call before 2030-01-01T00:00:00.000Z, so it was not run",
        approval_id=APPROVAL,
    )
    handler, _ = script((202, PENDING), (403, expired))
    with client(handler) as arx, pytest.raises(ApprovalExpiredError) as e:
        arx.crowdstrike().contain_host(ids=["host-1"])
    assert not isinstance(e.value, ApprovalDeniedError)
    assert (e.value.expires_at, e.value.approval_id) == ("2030-01-01T00:00:00.000Z", APPROVAL)


def test_expiry_learned_from_the_poll_alone_reads_expires_at_from_the_message() -> None:
    expired = error(
        "approval_expired",
        "nobody approved this call before 2030-02-03T04:05:06.789Z, so it was not run",
        approval_id=APPROVAL,
    )
    handler, _ = script((403, expired))
    with client(handler) as arx, pytest.raises(ApprovalExpiredError) as e:
        arx.wait_for_approval(APPROVAL)
    assert e.value.expires_at == "2030-02-03T04:05:06.789Z"


def test_cancellation_is_its_own_error() -> None:
    cancelled = error("approval_cancelled", "the approval request was cancelled: investigating", approval_id=APPROVAL)
    handler, _ = script((202, PENDING), (409, cancelled))
    with client(handler) as arx, pytest.raises(ApprovalCancelledError) as e:
        arx.crowdstrike().contain_host(ids=["host-1"])
    assert (e.value.status_code, e.value.approval_id) == (409, APPROVAL)


def test_wait_false_raises_pending_with_the_approval_id_and_does_not_poll() -> None:
    handler, seen = script((202, PENDING))
    with client(handler) as arx, pytest.raises(ApprovalPendingError) as e:
        arx.crowdstrike().execute("hosts:write", {"ids": ["h"], "action_name": "contain"}, wait=False)
    err = e.value
    assert (err.approval_id, err.expires_at, err.audit_id, err.risk_score) == (
        APPROVAL, PENDING["expires_at"], AUDIT, 70,
    )
    assert len(seen) == 1 and body_of(seen[0])["wait_seconds"] == 0


def test_other_errors_are_http_status_errors_with_their_details() -> None:
    invalid = error(
        "invalid_operation",
        "crowdstrike has no operation hosts:nuke",
        valid=["hosts:read", "hosts:write"],
    )
    target = error(
        "target_error", "the target answered 500", target_status=500,
        target_body={"errors": ["boom"]}, audit_id=AUDIT,
    )
    limited = error("rate_limited", "over the declared rate", retry_after=7)
    handler, _ = script(
        (400, invalid),
        (502, target),
        (429, limited, {"Retry-After": "7"}),
        (401, "no key"),
    )
    with client(handler) as arx:
        cs = arx.crowdstrike()
        with pytest.raises(httpx.HTTPStatusError) as e1:
            cs.execute("hosts:nuke")
        with pytest.raises(APIError) as e2:
            cs.get_hosts()
        with pytest.raises(APIError) as e3:
            cs.get_hosts()
        with pytest.raises(APIError) as e4:
            cs.get_hosts()
    assert isinstance(e1.value, APIError)
    assert (e1.value.code, e1.value.valid, e1.value.response.status_code) == (
        "invalid_operation", ["hosts:read", "hosts:write"], 400,
    )
    assert (e2.value.code, e2.value.target_status, e2.value.target_body, e2.value.audit_id) == (
        "target_error", 500, {"errors": ["boom"]}, AUDIT,
    )
    assert (e3.value.code, e3.value.retry_after) == ("rate_limited", 7.0)
    assert (e4.value.code, e4.value.message, e4.value.status_code) == (None, "no key", 401)


def test_an_unconfirmed_approval_is_polled_and_a_404_means_nothing_stands() -> None:
    unconfirmed = error(
        "approval_unconfirmed",
        "the database went away while this approval request was being stored, so it may stand",
        approval_id=APPROVAL,
    )
    handler, seen = script((503, unconfirmed), (404, error("not_found", "no approval request")))
    with client(handler) as arx, pytest.raises(APIError) as e:
        arx.crowdstrike().contain_host(ids=["h"])
    assert (e.value.code, e.value.approval_id) == ("approval_unconfirmed", APPROVAL)
    assert seen[1].url.path == f"/v1/sdk/approvals/{APPROVAL}"

    handler, _ = script((503, unconfirmed), (202, PENDING), (200, RAN))
    with client(handler) as arx:
        assert arx.crowdstrike().contain_host(ids=["h"]) == RAN["result"]


def test_a_grant_request_sends_its_scope_and_waits_like_a_call() -> None:
    active = {
        "grant_id": "0193a4b2-0000-7000-8000-0000000000aa",
        "status": "active",
        "connector": "azure",
        "operations": ["storage_accounts:update"],
        "resource": {"param": "account", "value": "logsprod"},
        "expires_at": "2030-01-01T00:15:00.000Z",
        "approval_id": APPROVAL,
    }
    handler, seen = script((202, PENDING), (200, active))
    with client(handler) as arx:
        got = arx.request_grant(
            "azure", ["storage_accounts:update"], "15m", "turn off public blob access",
            resource=("account", "logsprod"),
        )
    assert got == active
    assert (seen[0].url.path, body_of(seen[0])) == (
        "/v1/sdk/grants",
        {
            "connector": "azure",
            "operations": ["storage_accounts:update"],
            "ttl": "15m",
            "reason": "turn off public blob access",
            "resource": {"param": "account", "value": "logsprod"},
            "wait_seconds": 0,
        },
    )


def test_register_sends_manifest_and_reason() -> None:
    manifest = {
        "connectors": {"okta": ["users:read"]}, "rate_per_minute": 30, "environments": ["prod"],
        "data_classes": ["identity", "pii"], "purpose": "Enrich alerts", "model": "claude-sonnet-4",
    }
    handler, seen = script((200, {"status": "unchanged", "version": 3, "manifest_sha256": "ab" * 32}))
    with client(handler) as arx:
        got = arx.register(manifest, "release 2.3")
    assert got["status"] == "unchanged"
    assert (seen[0].url.path, body_of(seen[0])) == (
        "/v1/agents/register",
        {"manifest": manifest, "reason": "release 2.3", "wait_seconds": 0},
    )


def test_register_from_a_file_sends_the_files_reason(tmp_path: Any) -> None:
    """A registration file ({manifest, reason}) keeps its reason unless one is given;
    a file holding the manifest alone gets the default reason."""
    manifest = {"connectors": {"okta": ["users:read"]}, "purpose": "Enrich alerts"}
    whole = tmp_path / "registration.json"
    whole.write_text(json.dumps({"manifest": manifest, "reason": "release 2.4"}))
    alone = tmp_path / "manifest.json"
    alone.write_text(json.dumps(manifest))
    ok = (200, {"status": "unchanged", "version": 3, "manifest_sha256": "ab" * 32})
    handler, seen = script(ok, ok, ok)
    with client(handler) as arx:
        arx.register(whole)
        arx.register(str(whole), "given here")
        arx.register(alone)
    sent = [body_of(r) for r in seen]
    assert [b["manifest"] for b in sent] == [manifest] * 3
    assert [b["reason"] for b in sent] == [
        "release 2.4", "given here", "registered at start by the agent (agentvault SDK)",
    ]


def test_the_convenience_methods_map_to_the_catalogs_operations_and_params() -> None:
    answers = [(200, {**RAN, "result": {"ok": i}}) for i in range(11)]
    handler, seen = script(*answers)
    with client(handler) as arx:
        cs, splunk, jira = arx.crowdstrike(), arx.splunk(), arx.jira()
        cs.get_detections(filter="status:'new'", limit=50)
        cs.get_detection_details(ids=["ldt_abc123", "ldt_def456"])
        cs.update_detection(ids=["ldt_abc123"], status="in_progress")
        cs.get_hosts(filter="platform_name:'Windows'", limit=100)
        cs.contain_host(ids=["host_abc123"])
        cs.get_incidents(filter="fine_score:>=75", limit=20)
        splunk.search(query="search index=main sourcetype=syslog error", earliest="-4h", latest="now")
        splunk.get_search_results(sid="1700000000.42")
        jira.search_issues(jql="project = SEC AND status = Open ORDER BY priority DESC", max_results=25)
        jira.create_issue(project="SEC", summary="Investigate", issue_type="Task",
                          description="Flagged by ldt_abc123.", priority="High")
        jira.add_comment(issue_key="SEC-1042", body="Automated enrichment complete.")
    calls = [(body_of(r)["connector"], body_of(r)["operation"], body_of(r)["params"]) for r in seen]
    paragraph = lambda t: {"type": "doc", "version": 1, "content": [  # noqa: E731
        {"type": "paragraph", "content": [{"type": "text", "text": t}]}]}
    assert calls == [
        ("crowdstrike", "detections:read", {"filter": "status:'new'", "limit": 50}),
        ("crowdstrike", "detections:read_details", {"ids": ["ldt_abc123", "ldt_def456"]}),
        ("crowdstrike", "detections:write", {"ids": ["ldt_abc123"], "status": "in_progress"}),
        ("crowdstrike", "hosts:read", {"filter": "platform_name:'Windows'", "limit": 100}),
        ("crowdstrike", "hosts:write", {"action_name": "contain", "ids": ["host_abc123"]}),
        ("crowdstrike", "incidents:read", {"filter": "fine_score:>=75", "limit": 20}),
        ("splunk", "search:create", {"search": "search index=main sourcetype=syslog error",
                                     "earliest": "-4h", "latest": "now",
                                     "exec_mode": "blocking"}),
        ("splunk", "search:results", {"sid": "1700000000.42"}),
        ("jira", "issues:read", {"jql": "project = SEC AND status = Open ORDER BY priority DESC",
                                 "maxResults": 25}),
        ("jira", "issues:write", {"project": "SEC", "summary": "Investigate", "issue_type": "Task",
                                  "description": paragraph("Flagged by ldt_abc123."), "priority": "High"}),
        ("jira", "comments:write", {"issue_key": "SEC-1042",
                                    "body": paragraph("Automated enrichment complete.")}),
    ]
    # Each call the server answered is one prior action of the next.
    assert body_of(seen[-1])["session_context"]["prior_actions"][-2:] == [
        {"connector": "jira", "operation": "issues:read"},
        {"connector": "jira", "operation": "issues:write"},
    ]


async def test_the_async_client_maps_the_same_answers() -> None:
    denied = error("approval_denied", "a reviewer denied this call", approval_id=APPROVAL)
    handler, seen = script((200, RAN), (202, PENDING), (403, denied))
    async with ARXClient(api_key="k", base_url="http://arx.test",
                         transport=httpx.MockTransport(handler)) as arx:
        cs = arx.crowdstrike()
        assert await cs.get_detections(limit=1) == RAN["result"]
        with pytest.raises(ApprovalDeniedError) as e:
            await cs.contain_host(ids=["h"])
    assert (e.value.reason, e.value.audit_id) == (None, AUDIT)
    assert body_of(seen[1])["session_context"]["prior_actions"] == [
        {"connector": "crowdstrike", "operation": "detections:read"}
    ]


def test_the_key_and_url_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ARX_API_KEY", raising=False)
    with pytest.raises(ValueError, match="ARX_API_KEY"):
        SyncARXClient()
    monkeypatch.setenv("ARX_API_KEY", "from-env")
    monkeypatch.setenv("ARX_BASE_URL", "https://arx.example.com/")
    handler, seen = script((200, RAN))
    arx = SyncARXClient(transport=httpx.MockTransport(handler))
    arx.okta().execute("users:read", {"limit": 200})
    assert str(seen[0].url) == "https://arx.example.com/v1/sdk/execute"
    assert seen[0].headers["authorization"] == "Bearer from-env"
