"""A long poll cut by the network is resumed: a TCP relay (livekit.TcpProxy) stands
between the SDK and ARX, resets every connection while the server holds the SDK's
``GET /v1/sdk/approvals/{id}``, refuses reconnections while the reviewer approves, then
lets them through. The SDK's call still ends in the approved call's result."""

from __future__ import annotations

import asyncio
import threading

import httpx
import pytest

from agentvault import ARXClient, SyncARXClient
from livekit import Caller, Reviewer, Server, TcpProxy, close_client, make_client, marker, params_contain


@pytest.mark.parametrize("kind", ["async", "sync"])
async def test_a_dropped_long_poll_is_resumed(kind: str, arx_server: Server, reviewer: Reviewer) -> None:
    host = marker("host")
    with TcpProxy(arx_server.port) as proxy:
        client = make_client(kind, arx_server, base_url=proxy.url)
        try:
            c = Caller(kind, client)
            call = asyncio.create_task(
                c(client.crowdstrike().execute_detailed, "hosts:write",
                  {"action_name": "contain", "ids": [host]}, timeout=60)
            )
            pending = await asyncio.to_thread(reviewer.wait_for, params_contain(host))
            # The SDK is on its long poll, held by the server (nobody has decided yet).
            await asyncio.to_thread(proxy.wait_polls, 1)
            await asyncio.sleep(0.5)
            assert not call.done()
            # The network goes: every connection reset, new ones refused for a while.
            assert proxy.cut(refuse=True) >= 1
            # The decision lands while the agent cannot reach ARX.
            await asyncio.to_thread(reviewer.decide, pending["id"], True, "contain it")
            await asyncio.sleep(1.5)
            assert not call.done()
            proxy.allow()
            done = await asyncio.wait_for(call, 60)
        finally:
            await close_client(client)
    assert done.approval_id == pending["id"]
    assert done.verdict == "PERMIT"
    assert done.result["resources"][0]["id"] == host
    # It polled again after the cut (and was refused at least once meanwhile).
    assert proxy.polls >= 2
    assert proxy.refused >= 1
    assert reviewer.approval(pending["id"])["status"] == "executed"


async def test_a_lost_answer_to_execute_is_not_sent_again(arx_server: Server, reviewer: Reviewer) -> None:
    """The other side of resuming: the first request (POST /v1/sdk/execute) is never
    repeated after its answer is lost, since ARX may have recorded it and be holding
    it for a reviewer. The error says so, and the request stands in the queue."""
    host = marker("host")
    with TcpProxy(arx_server.port) as proxy:
        # initial_wait_seconds: the server holds the 202, so the cut lands mid-answer.
        async with ARXClient(arx_server.key(), base_url=proxy.url, initial_wait_seconds=25) as arx:
            call = asyncio.create_task(arx.crowdstrike().contain_host([host]))
            pending = await asyncio.to_thread(reviewer.wait_for, params_contain(host))
            await asyncio.sleep(0.3)
            proxy.cut()
            with pytest.raises(httpx.TransportError) as err:
                await asyncio.wait_for(call, 30)
    notes = " ".join(getattr(err.value, "__notes__", []))
    assert "may have been recorded and run" in notes
    assert proxy.polls == 0
    # Exactly one request for this host reached the queue; it is still there.
    assert [a["id"] for a in reviewer.approvals() if host in str(a["params"])] == [pending["id"]]
    reviewer.decide(pending["id"], False, "cleanup")


def test_when_resuming_is_over_the_error_names_the_approval(arx_server: Server, reviewer: Reviewer) -> None:
    """A poll cut when the SDK may no longer resume (its ``expires_at`` plus
    ``reconnect_grace`` has passed; a negative grace stands in for the half hour this
    request would take to get there): the connection error is raised, with a note
    naming the approval id to resume with, and the request stands."""
    host = marker("host")
    with TcpProxy(arx_server.port) as proxy:
        with SyncARXClient(arx_server.key(), base_url=proxy.url, reconnect_grace=-7200) as arx:

            def cut_when_polling() -> None:
                proxy.wait_polls(1)
                proxy.cut(refuse=True)

            t = threading.Thread(target=cut_when_polling, daemon=True)
            t.start()
            with pytest.raises(httpx.TransportError) as err:
                arx.crowdstrike().contain_host([host])
            t.join(10)
    pending = reviewer.wait_for(params_contain(host), timeout=5)
    notes = " ".join(getattr(err.value, "__notes__", []))
    assert f"wait_for_approval({pending['id']!r})" in notes
    reviewer.decide(pending["id"], False, "cleanup")
