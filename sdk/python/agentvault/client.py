"""The clients: :class:`ARXClient` (async) and :class:`SyncARXClient`.

Both hold the agent's API key, one HTTP client and the session context, make
connectors (``arx.crowdstrike()``, one factory method per connector of the catalog),
and run the protocol's flows (:mod:`agentvault._protocol`) with their own I/O. All the
logic of a call, a grant, a registration and of waiting for a reviewer lives in the
flows, once.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Mapping, Sequence
from datetime import timedelta
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

import httpx

from . import __version__
from ._connectors import CATALOG, AsyncConnectorFactories, SyncConnectorFactories
from ._protocol import (
    Done,
    Flow,
    Send,
    Settings,
    Sleep,
    approval_flow,
    grant_flow,
    register_flow,
    step,
)
from .catalog import ConnectorInfo
from .connector import CONVENIENCE, SDKConnector, SyncSDKConnector
from .session import DEFAULT_SIZE, SessionContext

__all__ = ["ARXClient", "SyncARXClient", "DEFAULT_BASE_URL"]

T = TypeVar("T")
_A = TypeVar("_A", bound=SDKConnector)
_S = TypeVar("_S", bound=SyncSDKConnector)

#: Where ``arx serve`` listens by default (server/src/config.rs, ``ARX_LISTEN``).
DEFAULT_BASE_URL = "http://127.0.0.1:3000"

#: The reason sent by :meth:`register` when the agent gives none: registering at every
#: start is how the registry expects agents to behave (docs/registry.md).
DEFAULT_REGISTER_REASON = "registered at start by the agent (agentvault SDK)"


def _config(api_key: str | None, base_url: str | None) -> tuple[str, str]:
    key = api_key if api_key is not None else os.environ.get("ARX_API_KEY")
    if not key:
        raise ValueError("no ARX API key: pass api_key= or set ARX_API_KEY")
    url = base_url or os.environ.get("ARX_BASE_URL") or DEFAULT_BASE_URL
    return key, url.rstrip("/")


def _headers(key: str) -> dict[str, str]:
    return {
        "Authorization": f"Bearer {key}",
        "Accept": "application/json",
        "User-Agent": f"agentvault-python/{__version__}",
    }


def _request(effect: Send, base: httpx.Timeout) -> dict[str, Any]:
    """httpx's arguments for a :class:`Send` effect."""
    read = effect.read_timeout if effect.read_timeout is not None else base.read
    return {
        "method": effect.method,
        "url": effect.path,
        "json": effect.json,
        "params": effect.params,
        "timeout": httpx.Timeout(connect=base.connect, read=read, write=base.write, pool=base.pool),
    }


def _registration(
    manifest: Mapping[str, Any] | str | Path, reason: str | None
) -> tuple[dict[str, Any], str]:
    """The manifest and reason to send: the reason given, else the one a registration
    file holds beside its manifest, else the default."""
    file_reason: str | None = None
    if not isinstance(manifest, Mapping):
        data = _read_manifest_file(Path(manifest))
        inner = data.get("manifest", data)
        if "manifest" in data and isinstance(data.get("reason"), str):
            file_reason = data["reason"]
        if not isinstance(inner, dict):
            raise ValueError(f"{manifest}: a manifest is an object")
        return inner, reason or file_reason or DEFAULT_REGISTER_REASON
    return dict(manifest), reason or DEFAULT_REGISTER_REASON


def _read_manifest_file(path: Path) -> dict[str, Any]:
    """A manifest file (JSON, or YAML by its suffix): the whole registration
    (``{manifest, reason}``) or the manifest alone."""
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() in (".yaml", ".yml"):
        try:
            import yaml  # type: ignore[import-untyped, unused-ignore]
        except ImportError as e:
            raise ImportError("a YAML manifest needs PyYAML: pip install 'agentvault[yaml]'") from e
        data = yaml.safe_load(text)
    else:
        data = json.loads(text)
    if not isinstance(data, dict):
        raise ValueError(f"{path}: a manifest is an object")
    return data


def _connector_name(connector: str | SDKConnector | SyncSDKConnector) -> tuple[str, str | None]:
    if isinstance(connector, (SDKConnector, SyncSDKConnector)):
        return connector.name, connector.instance
    return connector, None


class _Base:
    """Configuration both clients share."""

    def __init__(
        self,
        api_key: str | None,
        base_url: str | None,
        timeout: float | httpx.Timeout | None,
        session_size: int,
        reconnect_grace: float,
        initial_wait_seconds: int,
    ) -> None:
        self._api_key, self.base_url = _config(api_key, base_url)
        self._timeout = timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(
            timeout if timeout is not None else 30.0
        )
        if not 0 <= initial_wait_seconds <= 25:
            raise ValueError("initial_wait_seconds is 0 to 25")
        self._settings = Settings(
            session=SessionContext(session_size),
            reconnect_grace=reconnect_grace,
            initial_wait_seconds=initial_wait_seconds,
        )

    @property
    def session(self) -> SessionContext:
        """The session context sent with every call (the last 100 actions)."""
        return self._settings.session

    @property
    def catalog(self) -> Mapping[str, ConnectorInfo]:
        """The connector catalog as this SDK version knows it."""
        return CATALOG

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r})"


class ARXClient(_Base, AsyncConnectorFactories):
    """The async client::

        async with ARXClient() as arx:          # ARX_API_KEY, ARX_BASE_URL
            cs = arx.crowdstrike()
            detections = await cs.get_detections(filter="status:'new'", limit=50)

    ``timeout`` bounds connecting and sending; a long poll's read timeout follows its
    ``wait_seconds``. ``reconnect_grace``: how long after a request's ``expires_at`` a
    poll cut off by the network is still resumed. ``initial_wait_seconds``: how long
    the first request lets the server hold its answer for a decision (0: answer 202 at
    once, so the approval id is known before any waiting). ``transport`` replaces
    httpx's (tests, proxies).
    """

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str | None = None,
        *,
        timeout: float | httpx.Timeout | None = None,
        session_size: int = DEFAULT_SIZE,
        reconnect_grace: float = 30.0,
        initial_wait_seconds: int = 0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        super().__init__(
            api_key, base_url, timeout, session_size, reconnect_grace, initial_wait_seconds
        )
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            headers=_headers(self._api_key),
            timeout=self._timeout,
            transport=transport,
        )

    async def __aenter__(self) -> ARXClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    def _bind(self, cls: type[_A], name: str, instance: str | None) -> _A:
        return cls(self, name, instance, CATALOG.get(name))

    def connector(self, name: str, instance: str | None = None) -> SDKConnector:
        """A connector by name, for one newer than this SDK's factory methods."""
        cls = CONVENIENCE.get(name, (SDKConnector, SyncSDKConnector))[0]
        return self._bind(cls, name, instance)

    async def _run(self, flow: Flow[T]) -> T:
        value: Any = None
        error: BaseException | None = None
        try:
            while True:
                effect = step(flow, value, error)
                value, error = None, None
                if isinstance(effect, Done):
                    return effect.value  # type: ignore[no-any-return]
                if isinstance(effect, Sleep):
                    await asyncio.sleep(effect.seconds)
                    continue
                assert isinstance(effect, Send)
                try:
                    value = await self._http.request(**_request(effect, self._timeout))
                except httpx.TransportError as e:
                    error = e
        finally:
            flow.close()

    async def request_grant(
        self,
        connector: str | SDKConnector,
        operations: str | Sequence[str],
        ttl: str | int | timedelta,
        reason: str,
        resource: tuple[str, str] | Mapping[str, str] | None = None,
        *,
        instance: str | None = None,
        wait: bool = True,
        timeout: float | None = None,
    ) -> dict[str, Any]:
        """Asks for temporary scope (``POST /v1/sdk/grants``) and waits for the decision
        like a call: the active grant ``{grant_id, status: "active", connector,
        operations, resource, expires_at, approval_id}``.

        ``ttl``: ``"15m"``, ``"1h"``, seconds or a timedelta (at most the org's maximum).
        ``resource``: ``(param, value)`` limits the grant to calls whose ``param`` is
        ``value``. Raises as :meth:`SDKConnector.execute` does.
        """
        name, bound = _connector_name(connector)
        return await self._run(
            grant_flow(
                self._settings,
                name,
                operations,
                ttl,
                reason,
                resource=resource,
                instance=instance if instance is not None else bound,
                wait=wait,
                timeout=timeout,
            )
        )

    async def register(
        self,
        manifest: Mapping[str, Any] | str | Path,
        reason: str | None = None,
        *,
        wait: bool = True,
        timeout: float | None = None,
    ) -> dict[str, Any]:
        """Registers the agent's manifest (``POST /v1/agents/register``): ``{status:
        "published"|"unchanged", version, manifest_sha256, approval_id?}``. A manifest
        that widens the agent's scope waits for a reviewer like an escalated call.

        ``manifest``: a mapping, or the path of a JSON or YAML file holding the manifest
        or the whole registration (``{manifest, reason}``); ``reason`` given here wins
        over the file's."""
        body, why = _registration(manifest, reason)
        return await self._run(
            register_flow(self._settings, body, why, wait=wait, timeout=timeout)
        )

    async def wait_for_approval(
        self, approval_id: str, *, timeout: float | None = None
    ) -> dict[str, Any]:
        """Waits on an approval request the agent already holds (after ``wait=False``, a
        timeout or a restart): the ``200`` body (a call's ``{result, audit_id, ...}``,
        a grant, or a published manifest), or the error it ended in."""
        return await self._run(approval_flow(self._settings, approval_id, timeout=timeout))


class SyncARXClient(_Base, SyncConnectorFactories):
    """The blocking client, with the same surface as :class:`ARXClient`::

        with SyncARXClient() as arx:
            hosts = arx.crowdstrike().get_hosts(filter="platform_name:'Windows'")
    """

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str | None = None,
        *,
        timeout: float | httpx.Timeout | None = None,
        session_size: int = DEFAULT_SIZE,
        reconnect_grace: float = 30.0,
        initial_wait_seconds: int = 0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        super().__init__(
            api_key, base_url, timeout, session_size, reconnect_grace, initial_wait_seconds
        )
        self._http = httpx.Client(
            base_url=self.base_url,
            headers=_headers(self._api_key),
            timeout=self._timeout,
            transport=transport,
        )

    def __enter__(self) -> SyncARXClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def _bind(self, cls: type[_S], name: str, instance: str | None) -> _S:
        return cls(self, name, instance, CATALOG.get(name))

    def connector(self, name: str, instance: str | None = None) -> SyncSDKConnector:
        cls = CONVENIENCE.get(name, (SDKConnector, SyncSDKConnector))[1]
        return self._bind(cls, name, instance)

    def _run(self, flow: Flow[T]) -> T:
        value: Any = None
        error: BaseException | None = None
        try:
            while True:
                effect = step(flow, value, error)
                value, error = None, None
                if isinstance(effect, Done):
                    return effect.value  # type: ignore[no-any-return]
                if isinstance(effect, Sleep):
                    time.sleep(effect.seconds)
                    continue
                assert isinstance(effect, Send)
                try:
                    value = self._http.request(**_request(effect, self._timeout))
                except httpx.TransportError as e:
                    error = e
        finally:
            flow.close()

    def request_grant(
        self,
        connector: str | SyncSDKConnector,
        operations: str | Sequence[str],
        ttl: str | int | timedelta,
        reason: str,
        resource: tuple[str, str] | Mapping[str, str] | None = None,
        *,
        instance: str | None = None,
        wait: bool = True,
        timeout: float | None = None,
    ) -> dict[str, Any]:
        """As :meth:`ARXClient.request_grant`, blocking."""
        name, bound = _connector_name(connector)
        return self._run(
            grant_flow(
                self._settings,
                name,
                operations,
                ttl,
                reason,
                resource=resource,
                instance=instance if instance is not None else bound,
                wait=wait,
                timeout=timeout,
            )
        )

    def register(
        self,
        manifest: Mapping[str, Any] | str | Path,
        reason: str | None = None,
        *,
        wait: bool = True,
        timeout: float | None = None,
    ) -> dict[str, Any]:
        """As :meth:`ARXClient.register`, blocking."""
        body, why = _registration(manifest, reason)
        return self._run(register_flow(self._settings, body, why, wait=wait, timeout=timeout))

    def wait_for_approval(self, approval_id: str, *, timeout: float | None = None) -> dict[str, Any]:
        """As :meth:`ARXClient.wait_for_approval`, blocking."""
        return self._run(approval_flow(self._settings, approval_id, timeout=timeout))
