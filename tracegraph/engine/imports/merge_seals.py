"""Seals for MERGE-style import steps (the EPCIS writer's `epcis.tx_*` statements).

An EPCIS step merges an event's facts into records that may already exist (`SET n += r.props`),
so the seal of the result depends on the record's current line. These functions read the lines
when the step runs -- in the audited write's prepare, after the head was read, so the
compare-and-set proves they are still current -- and give the statement its new seals and the
entry its ledger (engine/audit/seals.py).

Why in the engine and not beside the EPCIS writer: a committing run is finished by whoever comes
next (`resume_import`, the automatic recovery before an ERP import), which knows the step only by
its query name; the runner dispatches here by that name.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tracegraph.engine.audit import seals
from tracegraph.engine.stores.base import GraphStore

#: a write step's sealer: (parameter updates, replaced (sealed_seq, seal) pairs, added seals)
Sealer = Callable[[], tuple[dict[str, Any], list[tuple[Any, Any]], list[str]]]


def merge_sealer(store: GraphStore, query: str, rows: list[dict[str, Any]]) -> Sealer | None:
    """The seals an EPCIS step stores and the ones it replaces, computed when it runs (after the audit
    head was read: the compare-and-set proves the lines read are still current). Upserts merge the
    row's facts into the record's current line; edge MERGEs into the edge's current line (only when
    both ends exist, as the statement does); retypes drop what they delete."""
    name = query.removeprefix("epcis.").removeprefix("tx_")
    if name.startswith("upsert_"):
        label = next((lb for lb in seals.NODE_FIELDS if lb.lower() == name.removeprefix("upsert_")), None)
        if label is None:
            return None
        return lambda: _seal_upserts(store, label, rows)
    if name.startswith("edge_"):
        t = next((t for t in seals.EDGE_FIELDS if f"edge_{t[1]}_{t[0]}_{t[2]}".lower() == name), None)
        if t is None:
            return None
        return lambda: _seal_edges(store, t, rows)
    if name.startswith("retype_"):
        return lambda: ({}, _retype_drops(store, name, rows), [])
    return None


def _seal_upserts(store: GraphStore, label: str, rows: list[dict[str, Any]]
                  ) -> tuple[dict[str, Any], list[tuple[Any, Any]], list[str]]:
    cur = seals.current_lines(store, label, sorted({str(r["id"]) for r in rows}))
    drops = [(q, s) for s, q, _ in cur.values()]
    state = {k: dict(v[2]) for k, v in cur.items()}
    out: list[dict[str, Any]] = []
    final: dict[str, str] = {}
    for r in rows:
        key = str(r["id"])
        fields = state.get(key)
        if fields is None:  # created by this MERGE: its defaults first
            fields = state[key] = {"id": key}
            for f, v in (r.get("create") or {}).items():
                kind = seals.field_kind(label, f)
                if kind is not None:
                    fields[f] = seals.enc(v, kind)
        for f, v in (r.get("props") or {}).items():
            kind = seals.field_kind(label, f)
            if kind is not None:
                fields[f] = seals.enc(v, kind)
        final[key] = seals.seal_of_line(label, seals.join_fields(label, fields))
        out.append({**r, "seal": final[key]})
    return {"rows": out}, drops, list(final.values())


def _seal_edges(store: GraphStore, t: tuple[str, str, str], rows: list[dict[str, Any]]
                ) -> tuple[dict[str, Any], list[tuple[Any, Any]], list[str]]:
    found = store.read(f"seals.edgeof_{seals.triple_name(t)}", rows=[{"f": r["f"], "t": r["t"]} for r in rows],
                       us=seals.US)
    ends: dict[tuple[str, str], bool] = {}
    lines: dict[tuple[str, str], dict[str, str]] = {}
    drops: list[tuple[Any, Any]] = []
    for x in found:
        k = (str(x["f"]), str(x["t"]))
        ends[k] = bool(x["ends"])
        if x["l"] is not None and k not in lines:
            lines[k] = seals.edge_fields_of(t, str(x["l"]))
            drops.append((x["q"], x["s"]))
    prefix = seals.edge_prefix(t)
    out: list[dict[str, Any]] = []
    final: dict[tuple[str, str], str] = {}
    for r in rows:
        k = (str(r["f"]), str(r["t"]))
        fields = lines.setdefault(k, {})
        for p, kind in seals.EDGE_FIELDS[t]:
            if p in (r.get("props") or {}):
                fields[p] = seals.enc(r["props"][p], kind)
        seal = seals.seal_of_line(prefix, seals.US.join([k[0], k[1], *(fields.get(p, "") for p, _ in seals.EDGE_FIELDS[t])]))
        if ends.get(k):
            final[k] = seal
        out.append({**r, "seal": seal})
    return {"rows": out}, drops, list(final.values())


def _retype_drops(store: GraphStore, name: str, rows: list[dict[str, Any]]) -> list[tuple[Any, Any]]:
    drops: list[tuple[Any, Any]] = []
    seen: set[Any] = set()
    for x in store.read(f"epcis.{name.replace('retype_', 'retype_seals_')}", rows=rows):
        drops.append((x["q"], x["s"]))
        for eid, es, eq in x["es"] or []:
            if eid is not None and eid not in seen:
                seen.add(eid)
                drops.append((eq, es))
    return drops


__all__ = ["Sealer", "merge_sealer"]
