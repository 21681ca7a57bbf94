"""What the SDK knows of the connector catalog (``connectors/*.yaml``), as data.

``agentvault/_connectors.py`` is generated from the catalog by
``scripts/gen_connectors.py`` and holds a :data:`CATALOG` of these records. The server
is the authority: it checks every call against its own catalog, so an operation the
SDK does not know is still sent (and refused there with the list of valid ones, when
it does not exist).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = ["ParamInfo", "PageSpec", "OperationInfo", "ConnectorInfo"]


@dataclass(frozen=True, slots=True)
class ParamInfo:
    """One declared param of an operation."""

    name: str
    type: str
    required: bool = False
    location: str = "body"
    description: str = ""
    allowed: tuple[Any, ...] = ()


@dataclass(frozen=True, slots=True)
class PageSpec:
    """How an operation pages, inferred from its declared params.

    - ``offset``: ``size`` (e.g. ``limit``, ``maxResults``, ``count``) and ``offset``
      (e.g. ``offset``, ``startAt``), both integers; the next page starts after the
      items received.
    - ``cursor``: ``size`` (optional) and ``cursor`` (e.g. ``cursor``, ``after``); the
      next cursor is read from the answer at ``next_path`` (a dotted path, matched as a
      suffix anywhere in the answer, e.g. ``pageInfo.endCursor``), or by a function the
      caller gives when the catalog does not say where it is.
    """

    style: Literal["offset", "cursor"]
    size: str | None = None
    offset: str | None = None
    cursor: str | None = None
    next_path: str | None = None
    #: Where the generator learned ``next_path`` (the param's description, a sibling
    #: operation, or the generator's own table), for readers of the generated file.
    next_path_source: str | None = None


@dataclass(frozen=True, slots=True)
class OperationInfo:
    """One operation of a connector."""

    id: str
    method: str
    risk: str
    description: str = ""
    writes: bool = False
    params: Mapping[str, ParamInfo] = field(default_factory=dict)
    paging: PageSpec | None = None


@dataclass(frozen=True, slots=True)
class ConnectorInfo:
    """One connector of the catalog."""

    name: str
    display_name: str
    category: str
    operations: Mapping[str, OperationInfo] = field(default_factory=dict)
