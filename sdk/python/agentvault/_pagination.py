"""Paging through a list operation, one governed call per page (sans-IO).

A :class:`Pager` says which params the next page is fetched with and, once fed the
answer, whether there is another. The sync and async connectors drive it with their
own ``execute``; every page passes the whole pipeline (policy, audit, maybe approval).

Stop rules, in order: ``max_pages`` reached; an empty page; for offset paging, the
answer's own ``total`` reached, its ``more``/``has_more`` false, or a page shorter
than the page size (the size the answer echoes under the size param's name, else the
one asked for); for cursor paging, no next cursor, the same cursor again, or a
``hasNextPage``/``has_more`` false beside it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from .catalog import OperationInfo, PageSpec

__all__ = ["Pager", "page_items", "find_path"]

#: Members that usually hold a page's items, tried before the longest list.
_ITEM_KEYS = ("resources", "results", "issues", "items", "records", "result", "data",
              "incidents", "values", "entries", "nodes", "users", "channels", "messages")


def find_path(value: Any, dotted: str) -> tuple[bool, Any, Mapping[str, Any] | None]:
    """Looks for ``dotted`` (``a.b.c``) as a path anywhere in ``value``, the shallowest
    first: ``(found, the value there, the object holding its last member)``."""
    keys = dotted.split(".")
    frontier: list[Any] = [value]
    while frontier:
        nxt: list[Any] = []
        for node in frontier:
            if isinstance(node, Mapping):
                cur: Any = node
                holder: Mapping[str, Any] | None = None
                for k in keys:
                    if isinstance(cur, Mapping) and k in cur:
                        holder, cur = cur, cur[k]
                    else:
                        break
                else:
                    return True, cur, holder
                nxt.extend(node.values())
            elif isinstance(node, list):
                nxt.extend(v for v in node if isinstance(v, (Mapping, list)))
        frontier = nxt
    return False, None, None


def page_items(result: Any) -> list[Any]:
    """The items of a page: the answer itself when it is a list, else its usual item
    member, else its longest list member (``[]`` when none)."""
    if isinstance(result, list):
        return result
    if not isinstance(result, Mapping):
        return []
    for k in _ITEM_KEYS:
        v = result.get(k)
        if isinstance(v, list):
            return v
    lists = [v for v in result.values() if isinstance(v, list)]
    return max(lists, key=len) if lists else []


def _int(v: Any) -> int | None:
    return v if isinstance(v, int) and not isinstance(v, bool) else None


class Pager:
    """The params of each page of ``operation`` and when to stop."""

    def __init__(
        self,
        connector: str,
        op_id: str,
        op: OperationInfo | None,
        params: Mapping[str, Any] | None,
        *,
        page_size: int | None = None,
        max_pages: int | None = None,
        spec: PageSpec | None = None,
        items: str | Callable[[Any], list[Any]] | None = None,
        next_cursor: Callable[[Any], Any] | None = None,
    ) -> None:
        spec = spec or (op.paging if op else None)
        if spec is None and next_cursor is None:
            if op is None:
                raise ValueError(
                    f"the SDK's catalog has no {connector} {op_id}: pass spec=PageSpec(...) "
                    "to say how it pages"
                )
            takes = ", ".join(op.params) or "no params"
            raise ValueError(
                f"{connector} {op_id} declares no paging params (it takes: {takes})"
            )
        if spec is None:
            raise ValueError(
                f"{connector} {op_id}: next_cursor= needs spec=PageSpec(style='cursor', "
                "cursor=<param>) to say which param takes the cursor"
            )
        if spec.style == "cursor" and spec.next_path is None and next_cursor is None:
            raise ValueError(
                f"{connector} {op_id} pages by '{spec.cursor}', but its catalog entry does not "
                "say where the next cursor is in the answer; pass next_cursor=lambda page: ..."
            )
        if max_pages is not None and max_pages < 1:
            raise ValueError("max_pages must be 1 or more")
        self.spec = spec
        self.params: dict[str, Any] = dict(params or {})
        if page_size is not None:
            if spec.size is None:
                raise ValueError(f"{connector} {op_id} takes no page size param")
            self.params[spec.size] = page_size
        self._size: int | None = _int(self.params.get(spec.size)) if spec.size else None
        self._items = items
        self._next_cursor = next_cursor
        self._max_pages = max_pages
        self._pages = 0
        self._done = False
        self._seen_cursors: set[str] = set()
        if spec.style == "offset":
            assert spec.offset is not None
            self._offset = _int(self.params.get(spec.offset)) or 0
            self.params[spec.offset] = self._offset

    def next_params(self) -> dict[str, Any] | None:
        """The params of the next page, or ``None`` when paging is over."""
        if self._done or (self._max_pages is not None and self._pages >= self._max_pages):
            return None
        return dict(self.params)

    def _items_of(self, result: Any) -> list[Any]:
        if callable(self._items):
            return list(self._items(result))
        if isinstance(self._items, str):
            found, v, _ = find_path(result, self._items)
            return v if found and isinstance(v, list) else []
        return page_items(result)

    def feed(self, result: Any) -> None:
        """Takes a page's answer and works out the next page's params."""
        self._pages += 1
        if self.spec.style == "offset":
            self._feed_offset(result)
        else:
            self._feed_cursor(result)

    def _feed_offset(self, result: Any) -> None:
        spec = self.spec
        assert spec.offset is not None
        n = len(self._items_of(result))
        if n == 0:
            self._done = True
            return
        self._offset += n
        self.params[spec.offset] = self._offset
        if isinstance(result, Mapping):
            total = _int(result.get("total"))
            if total is None:
                found, v, _ = find_path(result, "pagination.total")
                total = _int(v) if found else None
            if total is not None and self._offset >= total:
                self._done = True
                return
            for flag in ("more", "has_more", "hasMore"):
                if result.get(flag) is False:
                    self._done = True
                    return
            echoed = _int(result.get(spec.size)) if spec.size else None
        else:
            echoed = None
        size = echoed or self._size
        if size is not None and n < size:
            self._done = True

    def _feed_cursor(self, result: Any) -> None:
        spec = self.spec
        assert spec.cursor is not None
        if self._next_cursor is not None:
            cursor = self._next_cursor(result)
        else:
            assert spec.next_path is not None
            _, cursor, holder = find_path(result, spec.next_path)
            if holder is not None:
                for flag in ("hasNextPage", "has_more", "hasMore"):
                    if holder.get(flag) is False:
                        self._done = True
                        return
        if cursor is None or cursor == "" or not isinstance(cursor, (str, int)):
            self._done = True
            return
        key = str(cursor)
        if key in self._seen_cursors:
            self._done = True
            return
        self._seen_cursors.add(key)
        self.params[spec.cursor] = cursor
