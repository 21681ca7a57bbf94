"""The live suite: the SDK against one real ``arx serve --demo`` (no mocked HTTP).

``ARX_BIN`` names the server binary (``ARX_BIN=target/debug/arx pytest sdk/python/tests``,
which is what ``scripts/sdk-python.sh`` runs). Without it, or with no binary there, the
live tests are skipped with a message saying so, except under ``CI=true``, where a
missing binary fails them: CI must not pass by skipping.

One server serves the whole session, on free ports in a temporary directory, with the
policy of :data:`livekit.POLICY` applied through the admin API; it is stopped at the
end. A failed live test carries the tail of the server's log in its report.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator

import pytest

from agentvault import ARXClient
from livekit import (
    POLICY,
    Caller,
    Expiring,
    Reviewer,
    Server,
    arx_binary,
    close_client,
    make_client,
    start_server,
)


def _ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "run_last: run after every other test (it waits on something the session started)"
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # The expiry test waits out a minute that started with the session: run last, the
    # minute has passed while the rest ran.
    items.sort(key=lambda i: i.get_closest_marker("run_last") is not None)


@pytest.fixture(scope="session")
def arx_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    binary, why = arx_binary()
    if binary is None:
        message = f"live tests need a built ARX server: {why}"
        if _ci():
            pytest.fail(f"{message} (CI=true: a missing server binary is a failure, not a skip)")
        pytest.skip(message)
    server = start_server(binary, tmp_path_factory.mktemp("arx-live"))
    try:
        server.apply_policy(POLICY, reason="the SDK live suite's policy")
        yield server
    finally:
        server.stop()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    rep = outcome.get_result()
    server = getattr(item, "funcargs", {}).get("arx_server")
    if rep.failed and isinstance(server, Server):
        rep.sections.append(("arx serve log (tail)", server.log_tail(40)))


@pytest.fixture(scope="session")
def reviewer(arx_server: Server) -> Reviewer:
    return Reviewer(arx_server)


@pytest.fixture(params=["async", "sync"])
async def caller(request: pytest.FixtureRequest, arx_server: Server) -> AsyncIterator[Caller]:
    """The triage agent's client, once async and once sync."""
    client = make_client(request.param, arx_server)
    try:
        yield Caller(request.param, client)
    finally:
        await close_client(client)


@pytest.fixture
async def arx(arx_server: Server) -> AsyncIterator[ARXClient]:
    """The triage agent's async client."""
    async with ARXClient(arx_server.key("triage-agent"), base_url=arx_server.base_url) as c:
        yield c


@pytest.fixture(scope="session")
def expiring(arx_server: Server) -> Expiring:
    e = Expiring(arx_server)
    e.start()
    return e


@pytest.fixture(scope="session", autouse=True)
def _start_expiring_early(expiring: Expiring) -> None:
    """Starts the expiring calls with the first live test, whichever runs first."""
