"""What the live suite needs besides the SDK: one real ``arx serve --demo`` (started and
stopped by ``conftest.py``), a reviewer acting through the reviewer API from another
thread, and a TCP relay that can cut connections.

Nothing here talks to the SDK's HTTP layer: the reviewer and the admin calls use their
own ``httpx.Client`` with the demo admin's token, as a person in the console would.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from agentvault import ARXClient, SyncARXClient

#: The repository root (sdk/python/tests/live/livekit.py is four levels down).
REPO = Path(__file__).resolve().parents[4]

#: The policy the suite installs: one operation per verdict the tests need, so each
#: test knows what its call ends in whatever the risk score (the thresholds are at 100).
POLICY = """\
settings:
  review_threshold: 100
  deny_threshold: 100
  defaults: { low: PERMIT, medium: PERMIT, high: ESCALATE, critical: DENY }
  approval_timeout: 30m
  max_grant_ttl: 1h
rules:
  # PermissionDeniedError
  - id: sdk-live-deny-suspend
    priority: 10
    when: okta.users:suspend
    then: DENY
  # A reviewer approves or denies (contain_host, the long poll, the sync client).
  - id: sdk-live-escalate-hosts
    priority: 20
    when: crowdstrike.hosts:write
    then: ESCALATE
    timeout: 30m
  # Nobody decides: the shortest timeout a rule may have.
  - id: sdk-live-escalate-expiring
    priority: 30
    when: sentinelone.agents:disconnect
    then: ESCALATE
    timeout: 1m
  # What the grant test asks a grant for.
  - id: sdk-live-escalate-storage
    priority: 40
    when: azure.storage_accounts:update
    then: ESCALATE
    timeout: 30m
"""

#: The approval timeout of ``sdk-live-escalate-expiring``, in seconds.
EXPIRING_TTL = 60


def free_ports(n: int) -> list[int]:
    """``n`` distinct ports free right now (all bound at once, so never the same one
    twice; another process may still take one before the server does, hence
    :func:`start_server`'s retries)."""
    socks = [socket.socket() for _ in range(n)]
    try:
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [int(s.getsockname()[1]) for s in socks]
    finally:
        for s in socks:
            s.close()


def start_server(binary: Path, root: Path, attempts: int = 3) -> Server:
    """A started server in a new directory under ``root``, on ports found free; tried
    again on other ports when one was taken in between."""
    for attempt in range(1, attempts + 1):
        server = Server(binary=binary, data_dir=root / f"arx-{attempt}")
        try:
            server.start()
            return server
        except RuntimeError:
            if attempt == attempts or "Address already in use" not in server.log_tail():
                raise
    raise AssertionError("unreachable")


def marker(prefix: str = "sdk-live") -> str:
    """A value no other test sends, to find this test's approval request in the queue."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def arx_binary() -> tuple[Path | None, str]:
    """The ``arx`` binary named by ``ARX_BIN``, or ``None`` and why not."""
    raw = os.environ.get("ARX_BIN")
    if not raw:
        return None, "ARX_BIN is not set (e.g. ARX_BIN=target/debug/arx after cargo build)"
    p = Path(raw)
    candidates = [p] if p.is_absolute() else [Path.cwd() / p, REPO / p]
    for c in candidates:
        if c.is_file() and os.access(c, os.X_OK):
            return c.resolve(), ""
    return None, f"ARX_BIN={raw}: no executable there (looked in {', '.join(map(str, candidates))})"


@dataclass
class Server:
    """One ``arx serve --demo`` on free ports in its own data directory."""

    binary: Path
    data_dir: Path
    port: int = 0
    sim_port: int = 0
    proc: subprocess.Popen[bytes] | None = None
    demo: dict[str, Any] = field(default_factory=dict)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.data_dir / "server.log"

    @property
    def witness_dir(self) -> Path:
        return self.data_dir / "witness"

    def env(self) -> dict[str, str]:
        # The server's configuration is this directory's alone: nothing inherited
        # (ARX_DATABASE_URL from scripts/with-postgres.sh, a config file...).
        env = {k: v for k, v in os.environ.items() if not k.startswith("ARX_")}
        env.update(
            ARX_DATA_DIR=str(self.data_dir),
            ARX_LISTEN=f"127.0.0.1:{self.port}",
            ARX_SIMULATOR_LISTEN=f"127.0.0.1:{self.sim_port}",
            ARX_WITNESS_DIR=str(self.witness_dir),
            # Checkpoints only when the suite asks (POST .../witness/checkpoint), so the
            # witness never moves past an export the suite is comparing.
            ARX_CHECKPOINT_INTERVAL="86400",
        )
        site = REPO / "target" / "site"
        if site.is_dir():
            env["LEPTOS_SITE_ROOT"] = str(site)
        return env

    def start(self, timeout: float = 60.0) -> None:
        if not (self.port and self.sim_port):
            self.port, self.sim_port = free_ports(2)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [str(self.binary), "serve", "--demo"],
            env=self.env(),
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=REPO,
        )
        log.close()
        deadline = time.monotonic() + timeout
        demo_file = self.data_dir / "demo.json"
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"arx serve exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                if httpx.get(f"{self.base_url}/healthz", timeout=2).status_code == 200 and demo_file.exists():
                    self.demo = json.loads(demo_file.read_text())
                    break
            except (httpx.TransportError, json.JSONDecodeError):
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"arx serve did not answer /healthz in {timeout:.0f} s:\n{self.log_tail()}")
            time.sleep(0.2)

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=15)

    def log_tail(self, lines: int = 60) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no server log)"

    # ------------------------------------------------------------------ the demo org

    @property
    def admin_token(self) -> str:
        return str(self.demo["admin_token"])

    def agent(self, name: str) -> dict[str, str]:
        for a in self.demo["agents"]:
            if a["name"] == name:
                return dict(a)
        raise KeyError(name)

    def key(self, name: str = "triage-agent") -> str:
        return self.agent(name)["api_key"]

    def admin(self) -> httpx.Client:
        """An HTTP client of the demo admin (``/v1/admin/...``)."""
        return httpx.Client(
            base_url=self.base_url,
            headers={"Authorization": f"Bearer {self.admin_token}"},
            timeout=30,
        )

    def admin_json(self, method: str, path: str, **kw: Any) -> Any:
        with self.admin() as c:
            r = c.request(method, path, **kw)
            if r.status_code >= 400:
                raise AssertionError(f"{method} {path} answered {r.status_code}: {r.text}")
            return r.json() if r.content else None

    def apply_policy(self, text: str, reason: str) -> dict[str, Any]:
        return self.admin_json(
            "PUT",
            "/v1/admin/policy",
            params={"reason": reason, "message": reason},
            content=text.encode(),
            headers={"Content-Type": "application/yaml"},
        )

    def cli(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        """``arx ARGS`` against this server's data directory (no server needed)."""
        return subprocess.run(
            [str(self.binary), *args],
            env=self.env(),
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=timeout,
        )


class Reviewer:
    """A person deciding approval requests through the reviewer API, from any thread."""

    def __init__(self, server: Server) -> None:
        self.server = server

    def approvals(self, status: str | None = "pending") -> list[dict[str, Any]]:
        params = {"status": status} if status else {}
        return list(self.server.admin_json("GET", "/v1/admin/approvals", params=params)["approvals"])

    def detail(self, approval_id: str) -> dict[str, Any]:
        """Everything a reviewer sees of a request (``{approval, intercept, ...}``)."""
        return dict(self.server.admin_json("GET", f"/v1/admin/approvals/{approval_id}"))

    def approval(self, approval_id: str) -> dict[str, Any]:
        return dict(self.detail(approval_id)["approval"])

    def wait_for(
        self, match: Callable[[dict[str, Any]], bool], timeout: float = 30.0
    ) -> dict[str, Any]:
        """The first pending request ``match`` accepts, once it is in the queue."""
        deadline = time.monotonic() + timeout
        while True:
            for a in self.approvals("pending"):
                if match(a):
                    return a
            if time.monotonic() > deadline:
                raise TimeoutError("no matching approval request appeared in the queue")
            time.sleep(0.1)

    def decide(self, approval_id: str, approve: bool, comment: str = "") -> dict[str, Any]:
        verb = "approve" if approve else "deny"
        return dict(
            self.server.admin_json(
                "POST", f"/v1/admin/approvals/{approval_id}/{verb}", json={"comment": comment}
            )
        )

    def later(
        self,
        match: Callable[[dict[str, Any]], bool],
        approve: bool,
        comment: str = "",
        *,
        delay: float = 0.0,
        timeout: float = 30.0,
    ) -> Future[dict[str, Any]]:
        """In another thread: waits for the request ``match`` accepts, waits ``delay``
        more, then decides it. The future holds the request as it was found."""
        fut: Future[dict[str, Any]] = Future()

        def run() -> None:
            try:
                a = self.wait_for(match, timeout)
                time.sleep(delay)
                self.decide(a["id"], approve, comment)
                fut.set_result(a)
            except BaseException as e:  # handed to the test through the future
                fut.set_exception(e)

        threading.Thread(target=run, name="reviewer", daemon=True).start()
        return fut


def params_contain(value: str) -> Callable[[dict[str, Any]], bool]:
    """Matches a request whose params (or anything in it) mention ``value``."""
    return lambda a: value in json.dumps(a.get("params"))


class TcpProxy:
    """A TCP relay (asyncio, on its own thread and loop) between the SDK and ARX that can
    cut every open connection, and refuse new ones for a while.

    It counts the long polls it relays (``GET /v1/sdk/approvals/``) so a test can cut
    while one is being held by the server.
    """

    POLL = b"GET /v1/sdk/approvals/"

    def __init__(self, upstream_port: int, upstream_host: str = "127.0.0.1") -> None:
        self.upstream = (upstream_host, upstream_port)
        self.port = 0
        self.polls = 0
        self.cuts = 0
        self.refused = 0
        self.refusing = False
        self._loop = asyncio.new_event_loop()
        self._writers: set[asyncio.StreamWriter] = set()
        self._server: asyncio.Server | None = None
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=self._loop.run_forever, name="tcp-proxy", daemon=True)

    def __enter__(self) -> TcpProxy:
        self._thread.start()
        self._server = asyncio.run_coroutine_threadsafe(
            asyncio.start_server(self._accept, "127.0.0.1", 0), self._loop
        ).result(10)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    def __exit__(self, *exc: object) -> None:
        async def close() -> None:
            assert self._server is not None
            self._server.close()
            for w in list(self._writers):
                w.transport.abort()

        asyncio.run_coroutine_threadsafe(close(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.refusing:
            self.refused += 1
            writer.transport.abort()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        except OSError:
            writer.transport.abort()
            return
        self._writers.update((writer, up_writer))

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter, watch: bool) -> None:
            try:
                while chunk := await src.read(65536):
                    if watch and self.POLL in chunk:
                        with self._changed:
                            self.polls += chunk.count(self.POLL)
                            self._changed.notify_all()
                    dst.write(chunk)
                    await dst.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                dst.transport.abort()

        await asyncio.gather(pipe(reader, up_writer, True), pipe(up_reader, writer, False))
        self._writers.difference_update((writer, up_writer))

    def wait_polls(self, n: int, timeout: float = 30.0) -> None:
        """Blocks until ``n`` long polls have gone through in all."""
        with self._changed:
            if not self._changed.wait_for(lambda: self.polls >= n, timeout):
                raise TimeoutError(f"{self.polls} long polls relayed, waited for {n}")

    def cut(self, refuse: bool = False) -> int:
        """Cuts (resets) every open connection; with ``refuse``, new ones are reset at
        once until :meth:`allow`. How many connections were cut."""

        async def run() -> int:
            self.refusing = refuse or self.refusing
            n = len(self._writers)
            for w in list(self._writers):
                w.transport.abort()
            self._writers.clear()
            return n // 2

        n = asyncio.run_coroutine_threadsafe(run(), self._loop).result(10)
        self.cuts += n
        return n

    def allow(self) -> None:
        self._loop.call_soon_threadsafe(setattr, self, "refusing", False)


def find_record(server: Server, record_id: str) -> dict[str, Any]:
    """One audit record by id, through the admin API (the record itself)."""
    return dict(server.admin_json("GET", f"/v1/admin/audit/{record_id}")["record"])


def new_agent(server: Server, name: str, connectors: dict[str, list[str]]) -> tuple[str, str]:
    """A new agent of the demo org with a manifest declaring ``connectors`` (every
    environment and data class) and a key: ``(agent id, API key)``. For tests that
    suspend or retire their agent."""
    agent = server.admin_json("POST", "/v1/admin/agents", json={
        "name": name,
        "description": "made by the SDK live suite",
        "owner": "secops-lead@demo.arx.local",
    })["agent"]
    server.admin_json("POST", f"/v1/admin/agents/{agent['id']}/manifests", json={
        "manifest": {
            "connectors": connectors,
            "rate_per_minute": 600,
            "environments": ["prod", "staging", "dev", "unknown"],
            "data_classes": [],
            "purpose": "exercise the SDK against a real server",
            "model": "",
        },
        "reason": "the SDK live suite",
    })
    key = server.admin_json("POST", f"/v1/admin/agents/{agent['id']}/keys")["api_key"]
    return str(agent["id"]), str(key)


def in_force_manifest(server: Server, agent_id: str) -> tuple[int, dict[str, Any]]:
    page = server.admin_json("GET", f"/v1/admin/agents/{agent_id}/manifests")
    version = int(page["in_force"])
    one = server.admin_json("GET", f"/v1/admin/agents/{agent_id}/manifests/{version}")
    manifest = one.get("manifest", one)
    return version, dict(manifest)


# ------------------------------------------------------------------ clients


class Caller:
    """One client of either kind, and a way to call it from an async test: a sync
    client's method runs in a worker thread (``asyncio.to_thread``) so a reviewer
    thread and the event loop keep going while it blocks."""

    def __init__(self, kind: str, client: ARXClient | SyncARXClient) -> None:
        self.kind = kind
        self.client = client

    async def __call__(self, fn: Callable[..., Any], *args: Any, **kw: Any) -> Any:
        if self.kind == "sync":
            return await asyncio.to_thread(fn, *args, **kw)
        return await fn(*args, **kw)


def make_client(kind: str, server: Server, agent: str = "triage-agent", **kw: Any) -> ARXClient | SyncARXClient:
    cls = SyncARXClient if kind == "sync" else ARXClient
    return cls(kw.pop("api_key", None) or server.key(agent), base_url=kw.pop("base_url", server.base_url), **kw)


async def close_client(c: ARXClient | SyncARXClient) -> None:
    if isinstance(c, SyncARXClient):
        c.close()
    else:
        await c.aclose()


# ------------------------------------------------------------------ expiring requests


class Expiring:
    """Calls escalated to a rule whose requests expire after a minute, made with
    ``wait=True`` by both clients as soon as the server is up, so the minute passes
    while the rest of the suite runs. ``outcome(kind)`` waits for one to end."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.markers = {"sync": marker("expire-sync"), "async": marker("expire-async")}
        self.futures: dict[str, Future[Any]] = {k: Future() for k in self.markers}
        self.started = time.monotonic()
        self.ended: dict[str, float] = {}

    def params(self, kind: str) -> dict[str, Any]:
        return {"ids": [self.markers[kind]]}

    def start(self) -> None:
        key = self.server.key("remediation-agent")

        def run_sync() -> Any:
            with SyncARXClient(key, base_url=self.server.base_url) as c:
                return c.sentinelone().execute("agents:disconnect", self.params("sync"),
                                               reasoning="nobody will decide this")

        async def run_async() -> Any:
            async with ARXClient(key, base_url=self.server.base_url) as c:
                return await c.sentinelone().execute("agents:disconnect", self.params("async"),
                                                     reasoning="nobody will decide this")

        for kind, target in (("sync", run_sync), ("async", lambda: asyncio.run(run_async()))):
            fut = self.futures[kind]

            def run(kind: str = kind, target: Callable[[], Any] = target, fut: Future[Any] = fut) -> None:
                try:
                    value = target()
                except BaseException as e:  # handed to the test through the future
                    self.ended[kind] = time.monotonic()
                    fut.set_exception(e)
                else:
                    self.ended[kind] = time.monotonic()
                    fut.set_result(value)

            threading.Thread(target=run, name=f"expiring-{kind}", daemon=True).start()

    def outcome(self, kind: str) -> Future[Any]:
        return self.futures[kind]

    @property
    def ttl(self) -> int:
        return EXPIRING_TTL
