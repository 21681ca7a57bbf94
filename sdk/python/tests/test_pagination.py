"""Paging, one governed call per page, following each connector's params."""

from __future__ import annotations

from typing import Any

import pytest

from agentvault._connectors import CATALOG
from agentvault._pagination import Pager


def pager(connector: str, op: str, params: dict[str, Any] | None = None, **kw: Any) -> Pager:
    return Pager(connector, op, CATALOG[connector].operations[op], params, **kw)


def run(p: Pager, pages: list[Any]) -> list[dict[str, Any]]:
    sent = []
    for page in pages:
        params = p.next_params()
        if params is None:
            break
        sent.append(params)
        p.feed(page)
    assert p.next_params() is None, "paging should be over"
    return sent


def test_crowdstrike_pages_by_limit_and_offset_until_the_total() -> None:
    page = lambda ids, total: {"meta": {"pagination": {"total": total}}, "resources": ids, "errors": []}  # noqa: E731
    sent = run(pager("crowdstrike", "detections:read", {"filter": "status:'new'"}, page_size=2),
               [page(["a", "b"], 5), page(["c", "d"], 5), page(["e"], 5)])
    assert sent == [
        {"filter": "status:'new'", "limit": 2, "offset": 0},
        {"filter": "status:'new'", "limit": 2, "offset": 2},
        {"filter": "status:'new'", "limit": 2, "offset": 4},
    ]


def test_jira_pages_by_max_results_and_start_at_and_trusts_the_echoed_size() -> None:
    # Asked for 100, Jira caps at 50 and says so: a 50-issue page is not the last.
    page = lambda n, start: {"startAt": start, "maxResults": 50, "total": 120,  # noqa: E731
                             "issues": [{"key": f"SEC-{start + i}"} for i in range(n)]}
    sent = run(pager("jira", "issues:read", {"jql": "project=SEC", "maxResults": 100}),
               [page(50, 0), page(50, 50), page(20, 100)])
    assert [(s["maxResults"], s["startAt"]) for s in sent] == [(100, 0), (100, 50), (100, 100)]


def test_an_empty_page_ends_offset_paging() -> None:
    sent = run(pager("pagerduty", "incidents:read"), [{"incidents": [1, 2]}, {"incidents": []}])
    assert [s["offset"] for s in sent] == [0, 2]


def test_pagerduty_more_false_ends_paging() -> None:
    sent = run(pager("pagerduty", "incidents:read", page_size=2),
               [{"incidents": [1, 2], "more": False}])
    assert len(sent) == 1


def test_wiz_pages_by_cursor_until_has_next_page_is_false() -> None:
    page = lambda cur, more: {"data": {"issues": {"nodes": [1], "pageInfo": {"hasNextPage": more, "endCursor": cur}}}}  # noqa: E731
    sent = run(pager("wiz", "issues:read", page_size=50), [page("c1", True), page("c2", True), page("c3", False)])
    assert sent == [{"first": 50}, {"first": 50, "after": "c1"}, {"first": 50, "after": "c2"}]


def test_slack_messages_use_the_cursor_path_of_their_sibling_operation() -> None:
    page = lambda cur: {"ok": True, "messages": [1], "response_metadata": {"next_cursor": cur}}  # noqa: E731
    sent = run(pager("slack", "messages:read", {"channel": "C1"}), [page("x"), page("")])
    assert sent == [{"channel": "C1"}, {"channel": "C1", "cursor": "x"}]


def test_crowdstrike_hosts_scroll_by_token() -> None:
    page = lambda tok: {"meta": {"pagination": {"offset": tok}}, "resources": ["h"]}  # noqa: E731
    sent = run(pager("crowdstrike", "hosts:read", page_size=1), [page("t1"), page("t1")])
    assert sent == [{"limit": 1}, {"limit": 1, "offset": "t1"}]


def test_okta_users_need_a_next_cursor_function_since_the_cursor_is_in_a_header() -> None:
    with pytest.raises(ValueError, match="next_cursor"):
        pager("okta", "users:read")
    p = pager("okta", "users:read", next_cursor=lambda page: page[-1]["id"] if page else None)
    sent = run(p, [[{"id": "u1"}], [{"id": "u2"}], []])
    assert [s.get("after") for s in sent] == [None, "u1", "u2"]


def test_an_operation_without_paging_params_says_so() -> None:
    with pytest.raises(ValueError, match="declares no paging params"):
        pager("okta", "groups:read")


def test_max_pages_bounds_paging() -> None:
    p = pager("crowdstrike", "incidents:read", page_size=1, max_pages=2)
    sent = run(p, [{"resources": [1]}, {"resources": [2]}, {"resources": [3]}])
    assert len(sent) == 2
