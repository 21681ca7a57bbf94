"""The agent API of ARX, sans-IO: requests to make, answers to read, and the waiting
protocol of escalated calls, written once for the sync and the async client.

A *flow* is a generator that yields effects (:class:`Send`: make this HTTP request;
:class:`Sleep`: wait this long) and receives the :class:`httpx.Response` of each
``Send`` (or has the :class:`httpx.TransportError` thrown into it). A client drives a
flow with its own HTTP client and clock (:func:`drive` steps it).

The protocol (server/src/http/sdk.rs, crates/core/src/engine/approvals/):

- ``POST /v1/sdk/execute`` answers ``200`` with ``{result, audit_id, result_audit_id,
  verdict, risk_score, approval_id?}`` once the call ran, ``202`` with ``{approval_id,
  expires_at, audit_id, verdict: "ESCALATE", risk_score, status: "pending"}`` while a
  reviewer decides, or an error ``{"error": {"code", "message", ...}}``.
- The body's ``wait_seconds`` (0 to 25) is how long the server holds the answer for a
  decision before the ``202``. The SDK sends 0 by default, so it learns the approval id
  at once and does all its waiting on the long poll, which it can resume; a connection
  lost during a server-side wait would lose the id of a request that still stands.
- ``GET /v1/sdk/approvals/{id}?wait_seconds=N`` (N at most 25) answers like execute:
  ``200`` once approved and run (or the grant active, or the manifest published),
  ``202`` while pending, ``403 approval_denied`` / ``403 approval_expired`` /
  ``409 approval_cancelled`` when it ended otherwise, ``502`` when it ran and the target
  failed. It is a read, so the SDK repeats it after a dropped connection (and after a
  ``429``/``503`` that says to retry), until the request's ``expires_at`` plus a grace.
- ``503 approval_unconfirmed`` (the database went while the request was stored) carries
  the ``approval_id`` to poll: ``404`` there means it was never stored.
- ``POST /v1/sdk/grants`` and ``POST /v1/agents/register`` answer like execute.
"""

from __future__ import annotations

import math
import random
import re
import time
from collections.abc import Callable, Generator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar
from urllib.parse import quote

import httpx

from .errors import (
    APIError,
    ApprovalCancelledError,
    ApprovalDeniedError,
    ApprovalExpiredError,
    ApprovalPendingError,
    ARXError,
    PermissionDeniedError,
)
from .session import SessionContext

T = TypeVar("T")

EXECUTE_PATH = "/v1/sdk/execute"
GRANTS_PATH = "/v1/sdk/grants"
REGISTER_PATH = "/v1/agents/register"
APPROVAL_PATH = "/v1/sdk/approvals/{id}"

#: The longest the server holds an answer for a decision (crates/core/src/request.rs).
MAX_WAIT_SECONDS = 25

#: Codes after which repeating a poll is safe and useful (the server says to retry).
RETRYABLE_POLL_CODES = frozenset({"rate_limited", "database_unavailable", "audit_unavailable"})


@dataclass(frozen=True, slots=True)
class Send:
    """Effect: make this request; the flow receives the response."""

    method: str
    path: str
    json: Any = None
    params: Mapping[str, Any] | None = None
    #: Seconds to wait for the answer (the long poll's wait plus a margin).
    read_timeout: float | None = None


@dataclass(frozen=True, slots=True)
class Sleep:
    """Effect: wait this many seconds."""

    seconds: float


Effect = Send | Sleep
Flow = Generator[Effect, Any, T]


@dataclass(slots=True)
class Settings:
    """What flows need from their client besides HTTP."""

    session: SessionContext = field(default_factory=SessionContext)
    #: Wall clock (seconds since the epoch); ``expires_at`` is compared with it.
    clock: Callable[[], float] = time.time
    #: Random number in [0, 1) for the reconnect backoff's jitter.
    jitter: Callable[[], float] = random.random
    #: ``wait_seconds`` of the first request of a call, grant or registration.
    initial_wait_seconds: int = 0
    #: How long after ``expires_at`` a poll cut off by the network is still resumed
    #: (clock skew, and a decision made at the last moment whose result is kept).
    reconnect_grace: float = 30.0
    #: Added to a long poll's ``wait_seconds`` for its read timeout.
    read_margin: float = 15.0
    #: Read timeout of the first request (the target's own call may take a while).
    call_read_timeout: float = 120.0
    #: Longest pause between reconnect attempts.
    backoff_max: float = 10.0


# ---------------------------------------------------------------------------- reading


def json_of(resp: httpx.Response) -> Any:
    """The answer's JSON, or ``None`` when it is not JSON."""
    try:
        return resp.json()
    except ValueError:
        return None


def parse_time(ts: str | None) -> float | None:
    """An RFC 3339 time (``2026-11-28T21:58:23.573Z``) as seconds since the epoch."""
    if not ts:
        return None
    try:
        return datetime.fromisoformat(ts.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class Pending:
    """A ``202`` answer: a request waiting for a reviewer."""

    approval_id: str
    expires_at: str | None = None
    audit_id: str | None = None
    risk_score: int | None = None

    @property
    def expires_ts(self) -> float | None:
        return parse_time(self.expires_at)

    @classmethod
    def of(cls, body: Any) -> Pending:
        if not isinstance(body, Mapping) or not isinstance(body.get("approval_id"), str):
            raise ValueError(f"a 202 answer without an approval_id: {body!r}")
        rs = body.get("risk_score")
        return cls(
            approval_id=body["approval_id"],
            expires_at=body.get("expires_at") if isinstance(body.get("expires_at"), str) else None,
            audit_id=body.get("audit_id") if isinstance(body.get("audit_id"), str) else None,
            risk_score=rs if isinstance(rs, int) and not isinstance(rs, bool) else None,
        )

    def error(self, why: str) -> ApprovalPendingError:
        return ApprovalPendingError(
            f"{why}: approval request {self.approval_id} is pending"
            + (f" until {self.expires_at}" if self.expires_at else ""),
            approval_id=self.approval_id,
            expires_at=self.expires_at,
            audit_id=self.audit_id,
            risk_score=self.risk_score,
        )


def _str(v: Any) -> str | None:
    return v if isinstance(v, str) else None


def _retry_after(resp: httpx.Response, err: Mapping[str, Any]) -> float | None:
    header = resp.headers.get("retry-after")
    if header:
        try:
            return max(0.0, float(header))
        except ValueError:
            pass
    v = err.get("retry_after")
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None


_DENIED_PREFIX = "a reviewer denied this call: "
_EXPIRED = re.compile(r"before (\S+), so")


def error_from_response(resp: httpx.Response, pending: Pending | None = None) -> ARXError:
    """The exception for an error answer, with what the body and ``pending`` (the
    ``202`` the call got earlier, if any) say."""
    body = json_of(resp)
    err = body.get("error") if isinstance(body, Mapping) else None
    if not isinstance(err, Mapping):
        text = resp.text.strip()
        err = {"message": (text[:500] if text else resp.reason_phrase) or f"HTTP {resp.status_code}"}
    details = dict(err)
    code = _str(err.get("code"))
    message = _str(err.get("message")) or f"HTTP {resp.status_code}"
    rs = err.get("risk_score")
    common: dict[str, Any] = {
        "code": code,
        "status_code": resp.status_code,
        "audit_id": _str(err.get("audit_id")) or (pending.audit_id if pending else None),
        "risk_score": (rs if isinstance(rs, int) and not isinstance(rs, bool) else None)
        if rs is not None
        else (pending.risk_score if pending else None),
        "approval_id": _str(err.get("approval_id")) or (pending.approval_id if pending else None),
        "details": details,
    }
    if code == "permission_denied":
        return PermissionDeniedError(message, **common)
    if code == "approval_denied":
        reason = message[len(_DENIED_PREFIX):] if message.startswith(_DENIED_PREFIX) else None
        return ApprovalDeniedError(message, reason=reason, **common)
    if code == "approval_expired":
        m = _EXPIRED.search(message)
        expires_at = (pending.expires_at if pending else None) or (m.group(1) if m else None)
        return ApprovalExpiredError(message, expires_at=expires_at, **common)
    if code == "approval_cancelled":
        return ApprovalCancelledError(message, **common)
    del common["status_code"]
    return APIError(
        message,
        request=resp.request,
        response=resp,
        retry_after=_retry_after(resp, err),
        **common,
    )


# ---------------------------------------------------------------------------- bodies


def execute_body(
    connector: str,
    operation: str,
    params: Mapping[str, Any] | None,
    session_context: Mapping[str, Any],
    *,
    instance: str | None,
    wait_seconds: int,
) -> dict[str, Any]:
    """The body of ``POST /v1/sdk/execute`` (crates/core/src/request.rs,
    ``ExecuteRequest``: unknown members are refused)."""
    body: dict[str, Any] = {
        "connector": connector,
        "operation": operation,
        "params": dict(params or {}),
        "session_context": dict(session_context),
        "wait_seconds": wait_seconds,
    }
    if instance is not None:
        body["instance"] = instance
    return body


def ttl_value(ttl: str | int | timedelta) -> str | int:
    """A grant's TTL as the server reads it: ``"15m"``, ``"1h30m"``, or seconds."""
    if isinstance(ttl, timedelta):
        secs = ttl.total_seconds()
        if secs != int(secs) or secs <= 0:
            raise ValueError("ttl must be a whole, positive number of seconds")
        return int(secs)
    if isinstance(ttl, bool) or not isinstance(ttl, (str, int)):
        raise TypeError("ttl is a duration string ('15m'), seconds, or a timedelta")
    return ttl


def grant_body(
    connector: str,
    operations: str | Sequence[str],
    ttl: str | int | timedelta,
    reason: str,
    *,
    resource: tuple[str, str] | Mapping[str, str] | None,
    instance: str | None,
    wait_seconds: int,
) -> dict[str, Any]:
    """The body of ``POST /v1/sdk/grants`` (crates/core/src/engine/grants.rs,
    ``GrantRequest``)."""
    ops = [operations] if isinstance(operations, str) else list(operations)
    body: dict[str, Any] = {
        "connector": connector,
        "operations": ops,
        "ttl": ttl_value(ttl),
        "reason": reason,
        "wait_seconds": wait_seconds,
    }
    if resource is not None:
        if isinstance(resource, Mapping):
            body["resource"] = {"param": resource["param"], "value": resource["value"]}
        else:
            param, value = resource
            body["resource"] = {"param": param, "value": value}
    if instance is not None:
        body["instance"] = instance
    return body


# ---------------------------------------------------------------------------- flows


def _deadline(settings: Settings, timeout: float | None, wait: bool) -> float | None:
    if not wait:
        return settings.clock()
    return None if timeout is None else settings.clock() + max(0.0, timeout)


def settle(
    settings: Settings,
    resp: httpx.Response,
    deadline: float | None,
) -> Flow[dict[str, Any]]:
    """What the first answer to a call, grant or registration ends in: its ``200``
    body, the outcome of waiting for the reviewer, or the error raised."""
    if resp.status_code == 200:
        body = json_of(resp)
        if not isinstance(body, dict):
            raise error_from_response(resp)
        return body
    if resp.status_code == 202:
        pending = Pending.of(json_of(resp))
        if deadline is not None and settings.clock() >= deadline:
            raise pending.error("not waiting for the reviewer")
        return (yield from wait_for(settings, pending, deadline))
    err = error_from_response(resp)
    if err.code == "approval_unconfirmed" and err.approval_id:
        # The request may stand: its poll says whether it does (404: never stored).
        return (yield from wait_for(settings, Pending(err.approval_id), deadline, unconfirmed=err))
    raise err


def wait_for(
    settings: Settings,
    pending: Pending,
    deadline: float | None,
    *,
    unconfirmed: ARXError | None = None,
) -> Flow[dict[str, Any]]:
    """Long-polls ``pending`` (at least once) until the server has an outcome: the
    ``200`` body, or the error it answers. Stops with :class:`ApprovalPendingError`
    once ``deadline`` has passed. A dropped connection (or a retryable ``429``/``503``)
    is retried with backoff until ``expires_at`` plus the grace; after that the last
    error is raised, with a note saying how to resume."""
    started = settings.clock()
    path = APPROVAL_PATH.format(id=quote(pending.approval_id, safe=""))
    failures = 0
    while True:
        wait = MAX_WAIT_SECONDS
        if deadline is not None:
            wait = max(0, min(MAX_WAIT_SECONDS, math.ceil(deadline - settings.clock())))
        try:
            resp = yield Send(
                "GET",
                path,
                params={"wait_seconds": wait},
                read_timeout=wait + settings.read_margin,
            )
        except httpx.TransportError as e:
            if deadline is not None and settings.clock() >= deadline and unconfirmed is None:
                raise pending.error("stopped waiting (the connection failed)") from e
            if not _may_retry(settings, pending, started):
                e.add_note(
                    f"ARX: the connection kept failing while waiting for approval request "
                    f"{pending.approval_id}; it may still be decided and run. Resume with "
                    f"wait_for_approval({pending.approval_id!r})."
                )
                raise
            yield Sleep(_backoff(settings, failures))
            failures += 1
            continue
        if resp.status_code == 202:
            failures, unconfirmed = 0, None
            pending = Pending.of(json_of(resp))
            if deadline is not None and settings.clock() >= deadline:
                raise pending.error("stopped waiting")
            continue
        if resp.status_code == 200:
            body = json_of(resp)
            if isinstance(body, dict):
                return body
            raise error_from_response(resp, pending)
        if unconfirmed is not None and resp.status_code == 404:
            raise unconfirmed
        err = error_from_response(resp, pending)
        if err.code in RETRYABLE_POLL_CODES and _may_retry(settings, pending, started):
            if deadline is not None and settings.clock() >= deadline and unconfirmed is None:
                raise pending.error(f"stopped waiting (the server answered {err.code})") from err
            retry_after = getattr(err, "retry_after", None)
            yield Sleep(retry_after if retry_after is not None else _backoff(settings, failures))
            failures += 1
            continue
        raise err


def _may_retry(settings: Settings, pending: Pending, started: float) -> bool:
    bound = pending.expires_ts
    if bound is None:
        bound = started
    return settings.clock() < bound + settings.reconnect_grace


def _backoff(settings: Settings, failures: int) -> float:
    base = min(settings.backoff_max, 0.5 * (2 ** min(failures, 16)))
    return float(base * (0.5 + settings.jitter() / 2))


def execute_flow(
    settings: Settings,
    connector: str,
    operation: str,
    params: Mapping[str, Any] | None,
    *,
    instance: str | None = None,
    reasoning: str | None = None,
    context: Mapping[str, Any] | None = None,
    wait: bool = True,
    timeout: float | None = None,
) -> Flow[dict[str, Any]]:
    """One governed call: the ``200`` body once it ran (``result`` is the target's
    answer)."""
    deadline = _deadline(settings, timeout, wait)
    body = execute_body(
        connector,
        operation,
        params,
        settings.session.build(reasoning=reasoning, context=context),
        instance=instance,
        wait_seconds=settings.initial_wait_seconds if wait else 0,
    )
    try:
        resp = yield Send("POST", EXECUTE_PATH, json=body, read_timeout=settings.call_read_timeout)
    except (httpx.ReadError, httpx.ReadTimeout, httpx.RemoteProtocolError) as e:
        # Sent, answer lost: never repeated here, since ARX may have recorded and run it.
        e.add_note(
            f"ARX: the answer to {connector} {operation} was lost after the request was sent; "
            "it may have been recorded and run (or be waiting for a reviewer): check the "
            "audit trail or the approvals queue before sending it again."
        )
        raise
    # ARX saw it (and recorded it, whatever it decided): it is one of the agent's actions.
    settings.session.record(connector, operation)
    return (yield from settle(settings, resp, deadline))


def grant_flow(
    settings: Settings,
    connector: str,
    operations: str | Sequence[str],
    ttl: str | int | timedelta,
    reason: str,
    *,
    resource: tuple[str, str] | Mapping[str, str] | None = None,
    instance: str | None = None,
    wait: bool = True,
    timeout: float | None = None,
) -> Flow[dict[str, Any]]:
    """A grant request: the active grant's body (``{grant_id, status: "active",
    connector, operations, resource, expires_at, approval_id}``)."""
    deadline = _deadline(settings, timeout, wait)
    body = grant_body(
        connector,
        operations,
        ttl,
        reason,
        resource=resource,
        instance=instance,
        wait_seconds=settings.initial_wait_seconds if wait else 0,
    )
    resp = yield Send("POST", GRANTS_PATH, json=body, read_timeout=settings.call_read_timeout)
    return (yield from settle(settings, resp, deadline))


def register_flow(
    settings: Settings,
    manifest: Mapping[str, Any],
    reason: str,
    *,
    wait: bool = True,
    timeout: float | None = None,
) -> Flow[dict[str, Any]]:
    """A registration: ``{status: "published"|"unchanged", version, manifest_sha256,
    approval_id?}``."""
    deadline = _deadline(settings, timeout, wait)
    body = {
        "manifest": dict(manifest),
        "reason": reason,
        "wait_seconds": settings.initial_wait_seconds if wait else 0,
    }
    resp = yield Send("POST", REGISTER_PATH, json=body, read_timeout=settings.call_read_timeout)
    return (yield from settle(settings, resp, deadline))


def approval_flow(
    settings: Settings, approval_id: str, *, timeout: float | None = None
) -> Flow[dict[str, Any]]:
    """Waits on an approval request the agent already has (after ``wait=False``, a
    timeout, or a restart): the ``200`` body once it ended well."""
    return (yield from wait_for(settings, Pending(approval_id), _deadline(settings, timeout, True)))


# ---------------------------------------------------------------------------- driving


@dataclass(slots=True)
class Done:
    """A flow's end."""

    value: Any


def step(flow: Flow[Any], value: Any, error: BaseException | None) -> Effect | Done:
    """Resumes ``flow`` with the previous effect's value (or its error): the next
    effect, or :class:`Done`."""
    try:
        return flow.throw(error) if error is not None else flow.send(value)
    except StopIteration as stop:
        return Done(stop.value)
