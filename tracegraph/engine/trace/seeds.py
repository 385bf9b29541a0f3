"""Where a trace starts: the nodes a cause names or selects (lots, batches, serials, a supplier's
receipts in a window, equipment used in a window, a document version, a serial range), each with the
key prefix that explains why it is affected, and the echo of the question both engines return.

Why a module of its own: the graph engine and the trace index engine start from the same seeds and
echo the question the same way, so both answers carry identical `query` parts and paths.
"""

from __future__ import annotations

from typing import Any

from tracegraph.engine.errors import NotFound
from tracegraph.engine.stores.base import GraphStore
from tracegraph.engine.trace.fast import read_fast
from tracegraph.engine.trace.models import ImpactCause, ImpactOptions

NodeKey = tuple[str, str]  # (label, id)
_FAR_FUTURE = "9999-12-31T99"


def as_of_key(as_of: str | None) -> str:
    """Comparable upper bound: a date-only `as_of` means the end of that day."""
    if not as_of:
        return _FAR_FUTURE
    return as_of + "T99" if len(as_of) == 10 else as_of


def upper_bound(bound: str | None) -> str | None:
    """An inclusive upper bound; a date-only bound covers the whole day."""
    return as_of_key(bound) if bound else None


def find_seeds(store: GraphStore, cause: ImpactCause) -> tuple[dict[NodeKey, list[str]], list[NodeKey]]:
    """The nodes a trace starts from, each with the key prefix that explains why it is a seed.

    Returns (seeds, explicit): explicit seeds were named by the user and must exist."""
    seeds: dict[NodeKey, list[str]] = {}
    explicit: list[NodeKey] = []

    def add(label: str, id_: str, prefix: list[str]) -> None:
        seeds.setdefault((label, id_), prefix + [id_])

    for lid in cause.lots:
        add("MaterialLot", lid, [])
        explicit.append(("MaterialLot", lid))
    for bid in cause.batches:
        add("Batch", bid, [])
        explicit.append(("Batch", bid))
    for sid in cause.serials:
        add("Serial", sid, [])
        explicit.append(("Serial", sid))
    if cause.supplier:
        rows = read_fast(store, "trace.seed_supplier", id=cause.supplier, **{"from": cause.supplied_from,
                                                                         "to": upper_bound(cause.supplied_to)})
        if not rows:
            raise NotFound(f"no supplier {cause.supplier!r}", hint="supplier ids are the codes as imported")
        for lot in rows[0]["lots"] or []:
            if lot:
                add("MaterialLot", lot, [cause.supplier])
    if cause.equipment:
        rows = read_fast(store, "trace.seed_equipment", id=cause.equipment, **{"from": cause.window_from,
                                                                           "to": upper_bound(cause.window_to)})
        if not rows:
            raise NotFound(f"no equipment {cause.equipment!r}", hint="equipment ids are asset ids as imported")
        for b in rows[0]["batches"] or []:
            if b:
                add("Batch", b, [cause.equipment])
    if cause.document:
        rows = read_fast(store, "trace.seed_document", id=cause.document)
        if not rows:
            raise NotFound(f"no document {cause.document!r}", hint="name a version as DOCID@VERSION")
        for bid in sorted(set((rows[0]["direct"] or []) + (rows[0]["via_product"] or []))):
            if bid:
                add("Batch", bid, [cause.document])
    if cause.serial_range:
        r = cause.serial_range
        numeric = r.start.isdigit() and r.end.isdigit()
        rows = read_fast(store, "trace.seed_serial_range", scope=r.scope, numeric=numeric,
                          **{"from": r.start, "to": r.end})
        for row in rows:
            add("Serial", row["id"], [])
    return seeds, explicit


def query_echo(cause: ImpactCause, options: ImpactOptions) -> dict[str, Any]:
    """The `query` part of an answer: the question as asked (both engines echo it the same way)."""
    return {
        "cause": cause.model_dump(exclude_defaults=True, mode="json"),
        "options": options.model_dump(exclude_defaults=True),
        "as_of": options.as_of,
    }
