"""What a governed call can end in, besides its result.

The server answers every refusal with ``{"error": {"code", "message", ...details}}``
(server/src/error.rs). The codes a governance decision produces get their own classes;
every other error answer is an :class:`APIError`, which *is* an
:class:`httpx.HTTPStatusError`, so ``except httpx.HTTPStatusError`` keeps working as the
product documents describe.

Each error carries what the server gave: ``code``, ``message``, ``audit_id`` (the
intercept record of the call), ``risk_score``, ``approval_id``, and the whole error
object as ``details``. For an escalated call the SDK also fills ``audit_id`` and
``risk_score`` from the ``202`` answer it saw, since the server's
``approval_denied``/``approval_expired`` bodies carry only the ``approval_id``.
"""

from __future__ import annotations

from typing import Any

import httpx

__all__ = [
    "ARXError",
    "PermissionDeniedError",
    "ApprovalPendingError",
    "ApprovalDeniedError",
    "ApprovalExpiredError",
    "ApprovalCancelledError",
    "APIError",
]


class ARXError(Exception):
    """Base of every error the SDK raises for an ARX answer."""

    code: str | None
    message: str
    status_code: int | None
    audit_id: str | None
    risk_score: int | None
    approval_id: str | None
    details: dict[str, Any]

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        status_code: int | None = None,
        audit_id: str | None = None,
        risk_score: int | None = None,
        approval_id: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        Exception.__init__(self, message)
        self._set(
            message,
            code=code,
            status_code=status_code,
            audit_id=audit_id,
            risk_score=risk_score,
            approval_id=approval_id,
            details=details,
        )

    def _set(
        self,
        message: str,
        *,
        code: str | None,
        status_code: int | None,
        audit_id: str | None,
        risk_score: int | None,
        approval_id: str | None,
        details: dict[str, Any] | None,
    ) -> None:
        self.message = message
        self.code = code
        self.status_code = status_code
        self.audit_id = audit_id
        self.risk_score = risk_score
        self.approval_id = approval_id
        self.details = dict(details or {})

    def __str__(self) -> str:
        parts = [self.message]
        if self.code:
            parts.append(f"code={self.code}")
        if self.approval_id:
            parts.append(f"approval_id={self.approval_id}")
        if self.audit_id:
            parts.append(f"audit_id={self.audit_id}")
        if self.risk_score is not None:
            parts.append(f"risk_score={self.risk_score}")
        return parts[0] if len(parts) == 1 else f"{parts[0]} ({', '.join(parts[1:])})"


class PermissionDeniedError(ARXError):
    """Policy denied the call (``403 permission_denied``, verdict ``DENY``).

    Nothing was sent to the target. ``audit_id`` names the intercept record and
    ``risk_score`` the score the call was decided on. A suspended agent's calls end
    here too, at risk 100.
    """

    verdict: str

    def __init__(self, message: str, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.verdict = str(self.details.get("verdict") or "DENY")


class ApprovalPendingError(ARXError):
    """The call waits for a reviewer and the SDK was asked not to wait (``wait=False``),
    or stopped waiting (``timeout=``).

    The request stands: a reviewer may still approve it, and ARX then runs it. Resume
    with ``arx.wait_for_approval(err.approval_id)``.
    """

    approval_id: str
    expires_at: str | None

    def __init__(
        self,
        message: str,
        *,
        approval_id: str,
        expires_at: str | None = None,
        audit_id: str | None = None,
        risk_score: int | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(
            message,
            code="approval_pending",
            status_code=202,
            audit_id=audit_id,
            risk_score=risk_score,
            approval_id=approval_id,
            details=details,
        )
        self.expires_at = expires_at


class ApprovalDeniedError(ARXError):
    """A reviewer denied the escalated call, grant or manifest (``403 approval_denied``).

    ``reason`` is the reviewer's comment, when they gave one.
    """

    reason: str | None

    def __init__(self, message: str, *, reason: str | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.reason = reason


class ApprovalExpiredError(ARXError):
    """Nobody decided before the request's ``expires_at`` (``403 approval_expired``).

    Distinct from a denial: silence is not consent, and nothing ran.
    """

    expires_at: str | None

    def __init__(self, message: str, *, expires_at: str | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.expires_at = expires_at


class ApprovalCancelledError(ARXError):
    """The request was cancelled before it ran (``409 approval_cancelled``): it was
    approved after the agent was suspended, the agent was decommissioned, or a newer
    manifest registration superseded it. Suspension alone leaves a request pending."""


class APIError(ARXError, httpx.HTTPStatusError):
    """Any other error answer (authentication, invalid params, rate limit, target
    error, audit trail unavailable...). An :class:`httpx.HTTPStatusError`.

    Besides the common fields: ``valid`` (``invalid_operation``: what exists),
    ``target_status`` and ``target_body`` (``target_error``), ``retry_after`` (seconds,
    from ``Retry-After`` or the body).
    """

    valid: list[str] | None
    target_status: int | None
    target_body: Any
    retry_after: float | None

    def __init__(
        self,
        message: str,
        *,
        request: httpx.Request,
        response: httpx.Response,
        code: str | None = None,
        audit_id: str | None = None,
        risk_score: int | None = None,
        approval_id: str | None = None,
        details: dict[str, Any] | None = None,
        retry_after: float | None = None,
    ) -> None:
        httpx.HTTPStatusError.__init__(self, message, request=request, response=response)
        self._set(
            message,
            code=code,
            status_code=response.status_code,
            audit_id=audit_id,
            risk_score=risk_score,
            approval_id=approval_id,
            details=details,
        )
        valid = self.details.get("valid")
        self.valid = [str(v) for v in valid] if isinstance(valid, list) else None
        ts = self.details.get("target_status")
        self.target_status = ts if isinstance(ts, int) else None
        self.target_body = self.details.get("target_body")
        self.retry_after = retry_after
