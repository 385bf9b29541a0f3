"""The GraphStore protocol: the only thing the engine knows about a database.

Stores know nothing of the domain: they run named queries with parameters and return
plain rows (dicts of JSON-like values).
"""

from __future__ import annotations

import datetime as _dt
from typing import Any, Protocol, runtime_checkable

Row = dict[str, Any]


@runtime_checkable
class GraphStore(Protocol):
    """A graph database reachable by named, parameterised Cypher queries."""

    backend: str
    #: human description of where the data lives, for status output and errors
    location: str

    def read(self, query_name: str, /, **params: Any) -> list[Row]:
        """Run a named read-only query."""
        ...

    def write(self, query_name: str, /, **params: Any) -> list[Row]:
        """Run a named write query as one atomic statement."""
        ...

    def run(self, cypher: str, params: dict[str, Any] | None = None, *, write: bool = True) -> list[Row]:
        """Run literal Cypher (schema, tests, tamper simulation). Never with user text."""
        ...

    def apply_schema(self) -> None:
        """Create constraints and indexes idempotently."""
        ...

    def ping(self) -> bool:
        ...

    def close(self) -> None:
        ...


def plain(value: Any) -> Any:
    """Turn driver-specific values (nodes, dates, ordered dicts) into JSON-like Python values."""
    cls = value.__class__
    if cls is str or cls is int or cls is float or cls is bool or value is None:
        return value  # the common case first: exact types, no further checks (hot path)
    if isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, dict):  # OrderedDict is a dict
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, (_dt.datetime, _dt.date, _dt.time)):
        return value.isoformat()
    props = getattr(value, "properties", None)
    if isinstance(props, dict):  # FalkorDB Node/Edge
        return {str(k): plain(v) for k, v in props.items()}
    if hasattr(value, "items") and (hasattr(value, "labels") or hasattr(value, "start_node")):  # neo4j Node/Relationship
        return {str(k): plain(v) for k, v in value.items()}
    iso = getattr(value, "iso_format", None)  # neo4j temporal types
    if callable(iso):
        return iso()
    return value
