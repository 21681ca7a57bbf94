"""Connectors: a lightweight proxy bound to one connector name (and optionally one
instance). It holds no credentials and no connection; every operation goes through
the client to ``POST /v1/sdk/execute``, where ARX decides, records and runs it.

:class:`SDKConnector` is the async one (``await cs.execute(...)``),
:class:`SyncSDKConnector` the sync one. The convenience methods of CrowdStrike, Splunk
and Jira are written once, in mixins generic over what ``execute`` returns (a
coroutine or the value), and shared by both.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypedDict, TypeVar, Unpack

from ._pagination import Pager
from ._protocol import execute_flow
from .catalog import ConnectorInfo, PageSpec

if TYPE_CHECKING:
    from .client import ARXClient, SyncARXClient

__all__ = [
    "CallOptions",
    "Executed",
    "SDKConnector",
    "SyncSDKConnector",
    "CrowdStrikeConnector",
    "SyncCrowdStrikeConnector",
    "SplunkConnector",
    "SyncSplunkConnector",
    "JiraConnector",
    "SyncJiraConnector",
    "adf",
]

R = TypeVar("R")


class CallOptions(TypedDict, total=False):
    """Options of every governed call."""

    #: Block until a reviewer decides an escalated call (default). ``False``: raise
    #: :class:`~agentvault.ApprovalPendingError` with the approval id at once.
    wait: bool
    #: The agent's reasoning, sent as ``session_context.reasoning`` and shown to
    #: reviewers (marked agent-written).
    reasoning: str | None
    #: Extra members of ``session_context`` (e.g. ``{"task": ...}``).
    context: Mapping[str, Any] | None
    #: Most seconds to wait for a reviewer; then ``ApprovalPendingError`` (the request
    #: stands). ``None``: until the server's answer (the request's expiry at most).
    timeout: float | None


@dataclass(frozen=True, slots=True)
class Executed:
    """A call that ran, with its records: what ``execute_detailed`` returns."""

    #: What the target answered.
    result: Any
    #: The intercept record of the call.
    audit_id: str | None
    #: The result record of the call.
    result_audit_id: str | None
    #: ``PERMIT`` (an approved call reports ``PERMIT`` too, with ``approval_id``).
    verdict: str | None
    risk_score: int | None
    #: The approval request a reviewer approved, when the call was escalated.
    approval_id: str | None
    #: The whole ``200`` body.
    raw: dict[str, Any]

    @classmethod
    def of(cls, body: dict[str, Any]) -> Executed:
        return cls(
            result=body.get("result"),
            audit_id=body.get("audit_id"),
            result_audit_id=body.get("result_audit_id"),
            verdict=body.get("verdict"),
            risk_score=body.get("risk_score"),
            approval_id=body.get("approval_id"),
            raw=body,
        )


class _ConnectorBase(Generic[R]):
    """What sync and async connectors share: the binding and the paging plan."""

    def __init__(
        self,
        name: str,
        instance: str | None = None,
        info: ConnectorInfo | None = None,
    ) -> None:
        self.name = name
        self.instance = instance
        #: The SDK's catalog entry of the connector (``None`` for one newer than the SDK).
        self.info = info

    def execute(
        self,
        operation: str,
        params: Mapping[str, Any] | None = None,
        **options: Unpack[CallOptions],
    ) -> R:
        raise NotImplementedError

    @property
    def operations(self) -> list[str]:
        """The operations the SDK's catalog lists for this connector."""
        return list(self.info.operations) if self.info else []

    def _pager(
        self,
        operation: str,
        params: Mapping[str, Any] | None,
        page_size: int | None,
        max_pages: int | None,
        spec: PageSpec | None,
        items: str | Callable[[Any], list[Any]] | None,
        next_cursor: Callable[[Any], Any] | None,
    ) -> Pager:
        op = self.info.operations.get(operation) if self.info else None
        return Pager(
            self.name,
            operation,
            op,
            params,
            page_size=page_size,
            max_pages=max_pages,
            spec=spec,
            items=items,
            next_cursor=next_cursor,
        )

    def __repr__(self) -> str:
        at = f", instance={self.instance!r}" if self.instance else ""
        return f"{type(self).__name__}({self.name!r}{at})"


class SDKConnector(_ConnectorBase[Awaitable[Any]]):
    """An async connector, made by the client's factory methods (``arx.crowdstrike()``)."""

    def __init__(
        self,
        client: ARXClient,
        name: str,
        instance: str | None = None,
        info: ConnectorInfo | None = None,
    ) -> None:
        super().__init__(name, instance, info)
        self._client = client

    async def execute(
        self,
        operation: str,
        params: Mapping[str, Any] | None = None,
        *,
        wait: bool = True,
        reasoning: str | None = None,
        context: Mapping[str, Any] | None = None,
        timeout: float | None = None,
    ) -> Any:
        """Runs ``operation`` through ARX and returns what the target answered.

        Raises :class:`~agentvault.PermissionDeniedError` (DENY),
        :class:`~agentvault.ApprovalDeniedError`,
        :class:`~agentvault.ApprovalExpiredError`,
        :class:`~agentvault.ApprovalCancelledError`,
        :class:`~agentvault.ApprovalPendingError` (``wait=False`` or ``timeout``), or
        :class:`~agentvault.APIError` (an :class:`httpx.HTTPStatusError`) for any other
        error answer.
        """
        done = await self.execute_detailed(
            operation, params, wait=wait, reasoning=reasoning, context=context, timeout=timeout
        )
        return done.result

    async def execute_detailed(
        self,
        operation: str,
        params: Mapping[str, Any] | None = None,
        *,
        wait: bool = True,
        reasoning: str | None = None,
        context: Mapping[str, Any] | None = None,
        timeout: float | None = None,
    ) -> Executed:
        """As :meth:`execute`, with the call's audit ids, verdict and risk score."""
        flow = execute_flow(
            self._client._settings,
            self.name,
            operation,
            params,
            instance=self.instance,
            reasoning=reasoning,
            context=context,
            wait=wait,
            timeout=timeout,
        )
        return Executed.of(await self._client._run(flow))

    async def paginate(
        self,
        operation: str,
        params: Mapping[str, Any] | None = None,
        *,
        page_size: int | None = None,
        max_pages: int | None = None,
        spec: PageSpec | None = None,
        items: str | Callable[[Any], list[Any]] | None = None,
        next_cursor: Callable[[Any], Any] | None = None,
        **options: Unpack[CallOptions],
    ) -> AsyncIterator[Any]:
        """Yields each page's answer; each page is one governed call (see
        :mod:`agentvault._pagination` for when it stops)."""
        pager = self._pager(operation, params, page_size, max_pages, spec, items, next_cursor)
        while (page_params := pager.next_params()) is not None:
            page = await self.execute(operation, page_params, **options)
            pager.feed(page)
            yield page


class SyncSDKConnector(_ConnectorBase[Any]):
    """A sync connector, made by :class:`~agentvault.SyncARXClient`."""

    def __init__(
        self,
        client: SyncARXClient,
        name: str,
        instance: str | None = None,
        info: ConnectorInfo | None = None,
    ) -> None:
        super().__init__(name, instance, info)
        self._client = client

    def execute(
        self,
        operation: str,
        params: Mapping[str, Any] | None = None,
        *,
        wait: bool = True,
        reasoning: str | None = None,
        context: Mapping[str, Any] | None = None,
        timeout: float | None = None,
    ) -> Any:
        """As :meth:`SDKConnector.execute`, blocking."""
        return self.execute_detailed(
            operation, params, wait=wait, reasoning=reasoning, context=context, timeout=timeout
        ).result

    def execute_detailed(
        self,
        operation: str,
        params: Mapping[str, Any] | None = None,
        *,
        wait: bool = True,
        reasoning: str | None = None,
        context: Mapping[str, Any] | None = None,
        timeout: float | None = None,
    ) -> Executed:
        flow = execute_flow(
            self._client._settings,
            self.name,
            operation,
            params,
            instance=self.instance,
            reasoning=reasoning,
            context=context,
            wait=wait,
            timeout=timeout,
        )
        return Executed.of(self._client._run(flow))

    def paginate(
        self,
        operation: str,
        params: Mapping[str, Any] | None = None,
        *,
        page_size: int | None = None,
        max_pages: int | None = None,
        spec: PageSpec | None = None,
        items: str | Callable[[Any], list[Any]] | None = None,
        next_cursor: Callable[[Any], Any] | None = None,
        **options: Unpack[CallOptions],
    ) -> Iterator[Any]:
        pager = self._pager(operation, params, page_size, max_pages, spec, items, next_cursor)
        while (page_params := pager.next_params()) is not None:
            page = self.execute(operation, page_params, **options)
            pager.feed(page)
            yield page


# ------------------------------------------------------------------ convenience methods


def _p(**kw: Any) -> dict[str, Any]:
    """Params without the ones left out (``None``)."""
    return {k: v for k, v in kw.items() if v is not None}


def _ids(ids: str | Sequence[str]) -> list[str]:
    return [ids] if isinstance(ids, str) else list(ids)


def adf(text: str | Mapping[str, Any]) -> dict[str, Any]:
    """Plain text as an Atlassian Document Format document (what Jira's description and
    comment params take); a mapping is taken as ADF already. Blank lines separate
    paragraphs; single newlines are hard breaks."""
    if isinstance(text, Mapping):
        return dict(text)
    content: list[dict[str, Any]] = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        inline: list[dict[str, Any]] = []
        for i, line in enumerate(block.split("\n")):
            if i:
                inline.append({"type": "hardBreak"})
            if line:
                inline.append({"type": "text", "text": line})
        if any(n["type"] == "text" for n in inline):
            content.append({"type": "paragraph", "content": inline})
    return {"type": "doc", "version": 1, "content": content}


class CrowdStrikeMethods(_ConnectorBase[R]):
    """CrowdStrike Falcon (connectors/crowdstrike.yaml)."""

    def get_detections(
        self,
        filter: str | None = None,
        limit: int | None = None,
        *,
        offset: int | None = None,
        sort: str | None = None,
        q: str | None = None,
        **options: Unpack[CallOptions],
    ) -> R:
        """Detection IDs matching an FQL filter (``detections:read``)."""
        params = _p(filter=filter, limit=limit, offset=offset, sort=sort, q=q)
        return self.execute("detections:read", params, **options)

    def get_detection_details(
        self, ids: str | Sequence[str], **options: Unpack[CallOptions]
    ) -> R:
        """Full details of detections by ID (``detections:read_details``)."""
        return self.execute("detections:read_details", {"ids": _ids(ids)}, **options)

    def update_detection(
        self,
        ids: str | Sequence[str],
        status: str | None = None,
        *,
        assigned_to_uuid: str | None = None,
        comment: str | None = None,
        show_in_ui: bool | None = None,
        **options: Unpack[CallOptions],
    ) -> R:
        """Changes the status, assignee or comment of detections (``detections:write``)."""
        params = _p(
            ids=_ids(ids),
            status=status,
            assigned_to_uuid=assigned_to_uuid,
            comment=comment,
            show_in_ui=show_in_ui,
        )
        return self.execute("detections:write", params, **options)

    def get_hosts(
        self,
        filter: str | None = None,
        limit: int | None = None,
        *,
        offset: str | None = None,
        sort: str | None = None,
        **options: Unpack[CallOptions],
    ) -> R:
        """Host IDs matching an FQL filter (``hosts:read``; ``offset`` is the scroll
        token of the previous page)."""
        params = _p(filter=filter, limit=limit, offset=offset, sort=sort)
        return self.execute("hosts:read", params, **options)

    def contain_host(self, ids: str | Sequence[str], **options: Unpack[CallOptions]) -> R:
        """Network-contains hosts (``hosts:write`` with ``action_name: contain``; high
        risk, so it usually waits for a reviewer)."""
        params = {"action_name": "contain", "ids": _ids(ids)}
        return self.execute("hosts:write", params, **options)

    def get_incidents(
        self,
        filter: str | None = None,
        limit: int | None = None,
        *,
        offset: int | None = None,
        sort: str | None = None,
        **options: Unpack[CallOptions],
    ) -> R:
        """Incident IDs matching an FQL filter (``incidents:read``)."""
        params = _p(filter=filter, limit=limit, offset=offset, sort=sort)
        return self.execute("incidents:read", params, **options)


class SplunkMethods(_ConnectorBase[R]):
    """Splunk Enterprise / Cloud (connectors/splunk.yaml)."""

    def search(
        self,
        query: str,
        earliest: str | None = None,
        latest: str | None = None,
        *,
        exec_mode: str | None = "blocking",
        max_count: int | None = None,
        **options: Unpack[CallOptions],
    ) -> R:
        """Runs a search job (``search:create``; the answer holds its ``sid``).

        ``query`` is the SPL, starting with ``search`` or ``|``. By default
        (``exec_mode="blocking"``) Splunk answers once the job is done, so its results
        can be read at once, as the product document's example does; ``exec_mode=None``
        or ``"normal"`` starts it and answers at once (poll ``search:status``)."""
        params = _p(
            search=query,
            earliest=earliest,
            latest=latest,
            exec_mode=exec_mode,
            max_count=max_count,
        )
        return self.execute("search:create", params, **options)

    def get_search_results(
        self,
        sid: str,
        *,
        count: int | None = None,
        offset: int | None = None,
        **options: Unpack[CallOptions],
    ) -> R:
        """The results of a finished search job (``search:results``)."""
        return self.execute("search:results", _p(sid=sid, count=count, offset=offset), **options)


class JiraMethods(_ConnectorBase[R]):
    """Atlassian Jira (connectors/jira.yaml)."""

    def search_issues(
        self,
        jql: str,
        max_results: int | None = None,
        *,
        start_at: int | None = None,
        fields: str | Sequence[str] | None = None,
        **options: Unpack[CallOptions],
    ) -> R:
        """Issues matching JQL (``issues:read``)."""
        if fields is not None and not isinstance(fields, str):
            fields = ",".join(fields)
        params = _p(jql=jql, maxResults=max_results, startAt=start_at, fields=fields)
        return self.execute("issues:read", params, **options)

    def create_issue(
        self,
        project: str,
        summary: str,
        issue_type: str,
        description: str | Mapping[str, Any] | None = None,
        priority: str | None = None,
        *,
        labels: Sequence[str] | None = None,
        **options: Unpack[CallOptions],
    ) -> R:
        """Creates an issue (``issues:write``). A text ``description`` is sent as an
        ADF document, which is what the operation takes."""
        params = _p(
            project=project,
            summary=summary,
            issue_type=issue_type,
            description=None if description is None else adf(description),
            priority=priority,
            labels=None if labels is None else list(labels),
        )
        return self.execute("issues:write", params, **options)

    def add_comment(
        self, issue_key: str, body: str | Mapping[str, Any], **options: Unpack[CallOptions]
    ) -> R:
        """Adds a comment to an issue (``comments:write``; a text ``body`` is sent as
        an ADF document)."""
        return self.execute("comments:write", {"issue_key": issue_key, "body": adf(body)}, **options)


class CrowdStrikeConnector(CrowdStrikeMethods[Awaitable[Any]], SDKConnector):
    """``arx.crowdstrike()``."""


class SyncCrowdStrikeConnector(CrowdStrikeMethods[Any], SyncSDKConnector):
    """``SyncARXClient.crowdstrike()``."""


class SplunkConnector(SplunkMethods[Awaitable[Any]], SDKConnector):
    """``arx.splunk()``."""


class SyncSplunkConnector(SplunkMethods[Any], SyncSDKConnector):
    """``SyncARXClient.splunk()``."""


class JiraConnector(JiraMethods[Awaitable[Any]], SDKConnector):
    """``arx.jira()``."""


class SyncJiraConnector(JiraMethods[Any], SyncSDKConnector):
    """``SyncARXClient.jira()``."""


#: The connector classes with convenience methods, async and sync, by connector name.
CONVENIENCE: dict[str, tuple[type[SDKConnector], type[SyncSDKConnector]]] = {
    "crowdstrike": (CrowdStrikeConnector, SyncCrowdStrikeConnector),
    "splunk": (SplunkConnector, SyncSplunkConnector),
    "jira": (JiraConnector, SyncJiraConnector),
}
