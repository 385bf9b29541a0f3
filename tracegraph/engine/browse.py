"""Read-only browsing for dashboards (GraphQL): nodes by key in batches, their neighbours,
filtered and sorted pages, and counts. Every function takes many keys at once so the API's
DataLoaders answer a page of N records with a bounded number of queries, never N.

Sort fields and filters are whitelisted here; values only travel as query parameters.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from tracegraph.engine.errors import Problem, ValidationFailed
from tracegraph.engine.stores.base import GraphStore

Props = dict[str, Any]

#: label -> query that fetches nodes of that label by id
NODE_QUERIES: dict[str, str] = {
    "Supplier": "browse.node_supplier",
    "Material": "browse.node_material",
    "MaterialLot": "browse.node_material_lot",
    "Product": "browse.node_product",
    "Batch": "browse.node_batch",
    "Serial": "browse.node_serial",
    "Customer": "browse.node_customer",
    "Shipment": "browse.node_shipment",
    "Equipment": "browse.node_equipment",
}

#: relation name -> query returning (key, n, edge properties...) for many keys
RELATIONS: dict[str, str] = {
    "lot_batches": "browse.lot_batches",
    "batch_lots": "browse.batch_lots",
    "batch_inputs": "browse.batch_inputs",
    "batch_used_in": "browse.batch_used_in",
    "batch_equipment": "browse.batch_equipment",
    "batch_shipments": "browse.batch_shipments",
    "serial_shipments": "browse.serial_shipments",
    "serial_components": "browse.serial_components",
    "serial_assemblies": "browse.serial_assemblies",
}

#: list name -> (filters it accepts, sort fields it accepts). `q` matches ids (contains); on the
#: customer, supplier and product lists also names, case-insensitively (people search by name)
LISTS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "batches": (frozenset({"q", "status", "product", "site", "kind", "from", "to"}),
                frozenset({"id", "started_at", "finished_at", "status", "product_id"})),
    "serials": (frozenset({"q", "status", "batch", "product", "customer"}),
                frozenset({"id", "status", "expiry", "batch_id"})),
    "lots": (frozenset({"q", "status", "supplier", "material"}),
             frozenset({"id", "received_at", "status", "supplier_id"})),
    "customers": (frozenset({"q", "kind", "country"}), frozenset({"id", "name", "kind", "country"})),
    "suppliers": (frozenset({"q", "status", "country"}), frozenset({"id", "name", "status", "country"})),
    "products": (frozenset({"q", "device_class"}), frozenset({"id", "name", "gtin", "part_no"})),
    "shipments": (frozenset({"q", "status", "customer", "from", "to"}),
                  frozenset({"id", "date", "status", "customer_id"})),
}

#: per-parent pages: relation -> query
CHILD_PAGES: dict[str, str] = {
    "batch_serials": "browse.batch_serials_page",
    "supplier_lots": "browse.supplier_lots_page",
}

MAX_PAGE = 500


def _unique(ids: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(i for i in ids if i is not None))


def nodes_by_ids(store: GraphStore, label: str, ids: Iterable[str]) -> dict[str, Props]:
    """Properties of each existing node of `label` whose id is in `ids` (missing ids left out)."""
    query = NODE_QUERIES.get(label)
    if query is None:
        raise ValidationFailed(f"cannot browse nodes labelled {label!r}", hint=f"one of {sorted(NODE_QUERIES)}")
    keys = _unique(ids)
    if not keys:
        return {}
    return {str(r["key"]): r["n"] for r in store.read(query, ids=keys)}


def related(store: GraphStore, relation: str, ids: Iterable[str]) -> dict[str, list[Props]]:
    """For each key, the neighbours along `relation`, each as the neighbour's properties plus
    the edge's properties under `edge`. Keys without neighbours map to []."""
    query = RELATIONS.get(relation)
    if query is None:
        raise ValidationFailed(f"unknown relation {relation!r}", hint=f"one of {sorted(RELATIONS)}")
    keys = _unique(ids)
    out: dict[str, list[Props]] = {k: [] for k in keys}
    if not keys:
        return out
    for r in store.read(query, ids=keys):
        node = dict(r["n"])
        edge = {k: v for k, v in r.items() if k not in {"key", "n"}}
        node["edge"] = edge
        out.setdefault(str(r["key"]), []).append(node)
    for v in out.values():
        v.sort(key=lambda n: str(n.get("id")))
    return out


def _params(kind: str, filters: dict[str, Any] | None, sort: str = "id") -> dict[str, Any]:
    if kind not in LISTS:
        raise ValidationFailed(f"unknown list {kind!r}", hint=f"one of {sorted(LISTS)}")
    allowed, sorts = LISTS[kind]
    filters = {k: v for k, v in (filters or {}).items() if v is not None}
    bad = sorted(set(filters) - allowed)
    problems = [Problem(record=kind, field=b, message=f"unknown filter; use one of {sorted(allowed)}") for b in bad]
    if sort not in sorts:
        problems.append(Problem(record=kind, field="sort", value=sort, message=f"use one of {sorted(sorts)}"))
    if problems:
        raise ValidationFailed(f"invalid {kind} list request", problems)
    return {k: filters.get(k) for k in allowed}


def page(
    store: GraphStore,
    kind: str,
    *,
    filters: dict[str, Any] | None = None,
    sort: str = "id",
    desc: bool = False,
    skip: int = 0,
    limit: int = 50,
) -> list[Props]:
    """One page of a dashboard list, filtered and sorted (then by id, so pages are stable)."""
    params = _params(kind, filters, sort)
    limit = max(0, min(int(limit), MAX_PAGE + 1))
    rows = store.read(f"browse.{kind}_page", sort=sort, desc=bool(desc), skip=max(0, int(skip)), limit=limit, **params)
    return [r["n"] for r in rows]


def count(store: GraphStore, kind: str, *, filters: dict[str, Any] | None = None) -> int:
    params = _params(kind, filters)
    rows = store.read(f"browse.{kind}_count", **params)
    return int(rows[0]["c"]) if rows else 0


def child_pages(
    store: GraphStore, relation: str, keys: list[tuple[str, str | None, int, int]]
) -> dict[tuple[str, str | None, int, int], tuple[int, list[Props]]]:
    """Pages of children for many parents at once. A key is (parent id, status filter, skip,
    limit); the answer per key is (total matching children, that page)."""
    query = CHILD_PAGES.get(relation)
    if query is None:
        raise ValidationFailed(f"unknown child list {relation!r}", hint=f"one of {sorted(CHILD_PAGES)}")
    uniq = list(dict.fromkeys(keys))
    out: dict[tuple[str, str | None, int, int], tuple[int, list[Props]]] = {k: (0, []) for k in uniq}
    if not uniq:
        return out
    payload = [{"id": k[0], "status": k[1], "skip": int(k[2]), "limit": int(k[3])} for k in uniq]
    for r in store.read(query, keys=payload):
        key = (str(r["key"]), r["status"], int(r["skip"]), int(r["limit"]))
        out[key] = (int(r["total"]), list(r["page"] or []))
    return out


def totals(store: GraphStore) -> dict[str, int]:
    rows = store.read("browse.totals")
    return {k: int(v or 0) for k, v in (rows[0] if rows else {}).items()}


def status_counts(store: GraphStore, kind: str) -> dict[str, int]:
    """Records per status: kind is 'serials' (where units are now) or 'batches'."""
    query = {"serials": "browse.serial_status_counts", "batches": "browse.batch_status_counts"}.get(kind)
    if query is None:
        raise ValidationFailed(f"no status counts for {kind!r}", hint="use 'serials' or 'batches'")
    return {str(r["status"]): int(r["c"]) for r in store.read(query)}


__all__ = [
    "NODE_QUERIES", "RELATIONS", "LISTS", "CHILD_PAGES", "MAX_PAGE",
    "nodes_by_ids", "related", "page", "count", "child_pages", "totals", "status_counts",
]
