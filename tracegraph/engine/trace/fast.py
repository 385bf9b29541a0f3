"""Reading big answers fast: FalkorDB's compact reply decoded directly, several reads in one round
trip, result models built without re-validation, and the cyclic GC paused while an answer is built.

Why a module of its own: the graph engine (`impact`), the trace index (`index`), its impact engine
(`impact_index`) and the backward trace all read this way; each used to import it from `impact`,
which made the four modules import each other.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from pydantic import BaseModel

from tracegraph.engine.stores.base import GraphStore, Row

_M = TypeVar("_M", bound=BaseModel)
_NULL, _STRING, _INTEGER, _BOOLEAN, _DOUBLE, _ARRAY = 1, 2, 3, 4, 5, 6


class _Unsupported(Exception):
    """A compact value kind the fast reader does not decode (nodes, maps, ...): use the store."""


def _decode(v: Any) -> Any:
    t, x = v
    if t == _STRING:
        return x.decode() if isinstance(x, bytes) else x
    if t == _ARRAY:  # arrays of strings (id lists) are the common case: decode them inline
        return [e[1].decode() if e[0] == _STRING and isinstance(e[1], bytes) else _decode(e) for e in x]
    if t == _NULL:
        return None
    if t == _INTEGER:
        return int(x)
    if t == _DOUBLE:
        return float(x)
    if t == _BOOLEAN:
        return x in (b"true", "true", True, 1)
    raise _Unsupported(t)


def _rows(reply: Any) -> list[Row]:
    """Rows of one compact FalkorDB reply (raises _Unsupported for value kinds not decoded here)."""
    if len(reply) < 3:  # no result set (cannot happen for a RETURN query)
        raise _Unsupported("no result set")
    header = [h[1].decode() if isinstance(h[1], bytes) else str(h[1]) for h in reply[0]]
    return [dict(zip(header, [_decode(v) for v in row])) for row in reply[1]]


def read_fast(store: GraphStore, query_name: str, /, **params: Any) -> list[Row]:
    """`store.read`, but decoding FalkorDB's compact reply directly for scalar / list results.

    Why: a supplier-wide answer returns ~150k values; the FalkorDB client's generic decoder spent
    4-8x the server's query time on them (measured at S: server 42 ms, client 300-450 ms). The
    answer is the same rows `store.read` returns; any other store (Neo4j) or any value kind this
    decoder does not know (nodes, maps) goes through `store.read` unchanged."""
    ro = getattr(store, "ro_command", None)
    if ro is None:
        return store.read(query_name, **params)
    from tracegraph import queries

    try:
        return _rows(ro(queries.load(query_name), params))
    except _Unsupported:
        return store.read(query_name, **params)


def read_fast_many(store: GraphStore, calls: list[tuple[str, dict[str, Any]]]) -> list[list[Row]]:
    """Several independent reads in ONE round trip (a redis pipeline) on FalkorDB; one after the
    other elsewhere. Why: a lot impact is three small statements, and at that size the round trips
    and client overhead, not the database, are most of the time."""
    ro_many = getattr(store, "ro_commands", None)
    if len(calls) < 2 or ro_many is None:
        return [read_fast(store, name, **params) for name, params in calls]
    from tracegraph import queries

    out: list[list[Row]] = []
    for (name, params), reply in zip(calls, ro_many([(queries.load(name), params) for name, params in calls])):
        try:
            out.append(_rows(reply))
        except _Unsupported:
            out.append(store.read(name, **params))
    return out


#: each model class's field names (pydantic's `model_fields` costs microseconds a call)
_FIELDS: dict[type[BaseModel], set[str]] = {}


def build_models(cls: type[_M], rows: list[dict[str, Any]]) -> list[_M]:
    """Build pydantic models from already-valid values without validation (30k units per answer:
    `model_construct` costs ~5x more). Every field must be present in every row, so the models
    share one "fields set"."""
    new, put = cls.__new__, object.__setattr__
    fields = _FIELDS.get(cls)
    if fields is None:  # every field is in it, so pydantic's set-on-assignment never changes it
        fields = _FIELDS[cls] = set(cls.model_fields)
    out = []
    for values in rows:
        m = new(cls)
        put(m, "__dict__", values)
        put(m, "__pydantic_fields_set__", fields)
        put(m, "__pydantic_extra__", None)
        put(m, "__pydantic_private__", None)
        out.append(m)
    return out


def build_model(cls: type[_M], values: dict[str, Any]) -> _M:
    """One model from already-valid values (see `build_models`)."""
    return build_models(cls, [values])[0]


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while one answer is built.

    Why: a supplier-wide answer allocates ~200k short-lived containers (decoded rows, unit
    tuples, 30k result models); each allocation burst triggers collections that re-scan every
    live object. Measured at 100k serials (29k units): 1.5-2.3 s with the collector, 1.0-1.3 s
    paused. Nothing built here forms reference cycles that need the collector; it is re-enabled
    (only if it was on) when the answer is done, also on errors."""
    was_on = gc.isenabled()
    if was_on:
        gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()
