"""The session context a client keeps and sends with every call.

ARX stores ``session_context`` as the agent wrote it in the call's intercept record,
shows it to reviewers (its ``reasoning`` member in particular, marked agent-written)
and lets policy conditions read it as ``session.context``. The server keeps its own
count of the agent's recent calls for risk scoring, so what the SDK sends is the
agent's account, not a control.

Shape sent (product document 001, plus ``reasoning`` when the agent gives one)::

    {"prior_actions": [{"connector": "crowdstrike", "operation": "detections:read"}, ...],
     "reasoning": "why this call"}
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Mapping
from typing import Any

__all__ = ["SessionContext", "DEFAULT_SIZE"]

#: How many actions the context keeps (architecture document: "the last 100 actions").
DEFAULT_SIZE = 100


class SessionContext:
    """A ring of the client's last ``size`` actions, shared by every connector the
    client makes. Safe to use from several threads."""

    def __init__(self, size: int = DEFAULT_SIZE) -> None:
        if size < 0:
            raise ValueError("size must be 0 or more")
        self._actions: deque[dict[str, str]] = deque(maxlen=size)
        self._lock = threading.Lock()

    @property
    def size(self) -> int:
        return self._actions.maxlen or 0

    @property
    def actions(self) -> list[dict[str, str]]:
        """The kept actions, oldest first (a copy)."""
        with self._lock:
            return [dict(a) for a in self._actions]

    def record(self, connector: str, operation: str) -> None:
        """Adds one action; the oldest falls out once ``size`` are kept."""
        with self._lock:
            self._actions.append({"connector": connector, "operation": operation})

    def clear(self) -> None:
        with self._lock:
            self._actions.clear()

    def __len__(self) -> int:
        return len(self._actions)

    def build(
        self, *, reasoning: str | None = None, context: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """The ``session_context`` of the next call: ``context`` (any extra members the
        agent wants reviewers and policy to see, e.g. ``{"task": ...}``), then
        ``prior_actions`` and ``reasoning``, which the SDK owns."""
        out: dict[str, Any] = dict(context or {})
        out["prior_actions"] = self.actions
        if reasoning is not None:
            out["reasoning"] = reasoning
        return out
