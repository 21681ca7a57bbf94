"""The waiting protocol, sans-IO: flows stepped by hand with a fake clock, answers and
dropped connections fed in. No transport at all."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from agentvault import ApprovalPendingError, SessionContext
from agentvault._protocol import (
    Done,
    Send,
    Settings,
    Sleep,
    approval_flow,
    execute_flow,
    parse_time,
    step,
)

APPROVAL = "0193a4b2-7c4d-7e8f-9a0b-1c2d3e4f5a6b"
EXPIRES = "2030-01-01T00:00:00.000Z"
T_EXPIRES = parse_time(EXPIRES)
assert T_EXPIRES is not None
PENDING = {"approval_id": APPROVAL, "expires_at": EXPIRES, "audit_id": "a-1",
           "verdict": "ESCALATE", "risk_score": 70, "status": "pending"}
RAN = {"result": {"ok": True}, "audit_id": "a-1", "result_audit_id": "a-2",
       "verdict": "PERMIT", "risk_score": 70, "approval_id": APPROVAL}


class Clock:
    def __init__(self, t: float) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def answer(effect: Send, status: int, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    req = httpx.Request(effect.method, "http://arx.test" + effect.path, params=effect.params)
    return httpx.Response(status, json=body, headers=headers, request=req)


def settings(clock: Clock) -> Settings:
    return Settings(session=SessionContext(), clock=clock, jitter=lambda: 1.0)


def test_a_dropped_long_poll_is_resumed_and_the_result_returned() -> None:
    clock = Clock(T_EXPIRES - 600)
    flow = execute_flow(settings(clock), "crowdstrike", "hosts:write", {"ids": ["h"]})
    eff = step(flow, None, None)
    assert isinstance(eff, Send) and eff.path == "/v1/sdk/execute"
    eff = step(flow, answer(eff, 202, PENDING), None)
    assert isinstance(eff, Send) and eff.path == f"/v1/sdk/approvals/{APPROVAL}"
    assert eff.params == {"wait_seconds": 25} and eff.read_timeout == 40
    # The connection drops twice: the flow backs off and polls the same request again.
    sleeps = []
    for _ in range(2):
        nxt = step(flow, None, httpx.RemoteProtocolError("peer closed connection"))
        assert isinstance(nxt, Sleep)
        sleeps.append(nxt.seconds)
        clock.t += nxt.seconds
        eff = step(flow, None, None)
        assert isinstance(eff, Send) and eff.path == f"/v1/sdk/approvals/{APPROVAL}"
    assert sleeps == [0.5, 1.0]
    eff = step(flow, answer(eff, 202, PENDING), None)
    assert isinstance(eff, Send)
    done = step(flow, answer(eff, 200, RAN), None)
    assert isinstance(done, Done) and done.value == RAN


def test_reconnecting_stops_after_expires_at_plus_the_grace_with_a_note() -> None:
    clock = Clock(T_EXPIRES - 5)
    s = settings(clock)
    s.reconnect_grace = 30
    flow = execute_flow(s, "crowdstrike", "hosts:write", {"ids": ["h"]})
    eff = step(flow, None, None)
    eff = step(flow, answer(eff, 202, PENDING), None)
    attempts = 0
    with pytest.raises(httpx.ConnectError) as e:
        while True:
            nxt = step(flow, None, httpx.ConnectError("connection refused"))
            assert isinstance(nxt, Sleep)
            attempts += 1
            clock.t += nxt.seconds
            assert isinstance(step(flow, None, None), Send)
    assert clock.t >= T_EXPIRES + 30 and attempts >= 3
    assert any(APPROVAL in n and "wait_for_approval" in n for n in e.value.__notes__)


def test_a_timeout_stops_waiting_with_the_pending_request() -> None:
    clock = Clock(T_EXPIRES - 600)
    flow = execute_flow(settings(clock), "crowdstrike", "hosts:write", {"ids": ["h"]}, timeout=30)
    eff = step(flow, None, None)
    eff = step(flow, answer(eff, 202, PENDING), None)
    assert isinstance(eff, Send) and eff.params == {"wait_seconds": 25}
    clock.t += 25
    eff = step(flow, answer(eff, 202, PENDING), None)
    assert isinstance(eff, Send) and eff.params == {"wait_seconds": 5}
    clock.t += 5
    with pytest.raises(ApprovalPendingError) as e:
        step(flow, answer(eff, 202, PENDING), None)
    assert e.value.approval_id == APPROVAL


def test_a_poll_told_to_retry_waits_as_told() -> None:
    clock = Clock(T_EXPIRES - 600)
    flow = approval_flow(settings(clock), APPROVAL)
    eff = step(flow, None, None)
    assert isinstance(eff, Send)
    busy = {"error": {"code": "database_unavailable", "message": "try again shortly"}}
    nxt = step(flow, answer(eff, 503, busy, {"Retry-After": "1"}), None)
    assert nxt == Sleep(1.0)
    eff = step(flow, None, None)
    assert isinstance(eff, Send)
    done = step(flow, answer(eff, 200, RAN), None)
    assert isinstance(done, Done)


def test_a_call_the_server_answered_is_recorded_as_an_action_and_one_it_did_not_is_not() -> None:
    s = settings(Clock(0))
    flow = execute_flow(s, "okta", "users:read", {"limit": 200})
    eff = step(flow, None, None)
    with pytest.raises(httpx.ConnectError):
        step(flow, None, httpx.ConnectError("refused"))
    assert s.session.actions == []
    flow = execute_flow(s, "okta", "users:read", {"limit": 200})
    eff = step(flow, None, None)
    assert isinstance(eff, Send)
    step(flow, answer(eff, 200, RAN), None)
    assert s.session.actions == [{"connector": "okta", "operation": "users:read"}]
