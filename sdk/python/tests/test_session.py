"""The session context: a ring of the last 100 actions, sent with every call."""

from __future__ import annotations

import threading

from agentvault import SessionContext
from agentvault._protocol import Send, Settings, execute_flow, step


def test_the_ring_keeps_the_last_100_actions_oldest_first() -> None:
    s = SessionContext()
    assert s.size == 100
    for i in range(150):
        s.record("crowdstrike", f"op:{i}")
    actions = s.actions
    assert len(actions) == 100 == len(s)
    assert actions[0] == {"connector": "crowdstrike", "operation": "op:50"}
    assert actions[-1] == {"connector": "crowdstrike", "operation": "op:149"}
    s.clear()
    assert s.actions == []


def test_the_context_sent_has_the_documented_shape_and_the_reasoning() -> None:
    s = SessionContext(size=2)
    s.record("crowdstrike", "detections:read")
    s.record("crowdstrike", "detections:read_details")
    s.record("crowdstrike", "hosts:read")
    built = s.build(reasoning="beaconing to a known C2 domain", context={"task": "triage", "prior_actions": "x"})
    assert built == {
        "task": "triage",
        "prior_actions": [
            {"connector": "crowdstrike", "operation": "detections:read_details"},
            {"connector": "crowdstrike", "operation": "hosts:read"},
        ],
        "reasoning": "beaconing to a known C2 domain",
    }
    assert "reasoning" not in s.build()
    # A copy: changing what was sent does not change the ring.
    built["prior_actions"].clear()
    assert len(s.actions) == 2


def test_each_call_sends_the_actions_before_it_and_becomes_one() -> None:
    settings = Settings(session=SessionContext())
    for i in range(105):
        flow = execute_flow(settings, "okta", "users:read", {"limit": i})
        eff = step(flow, None, None)
        assert isinstance(eff, Send)
        sent = eff.json["session_context"]["prior_actions"]
        assert len(sent) == min(i, 100)
        settings.session.record("okta", "users:read")  # as the flow does once answered
        flow.close()
    assert len(settings.session) == 100


def test_recording_from_threads_loses_nothing_the_ring_can_hold() -> None:
    s = SessionContext(size=1000)

    def work(n: int) -> None:
        for i in range(100):
            s.record("c", f"{n}:{i}")

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(s.actions) == 800
