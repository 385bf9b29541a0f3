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

import hashlib
from collections.abc import Callable
from typing import Any

from tracegraph.engine.audit import seals
from tracegraph.engine.stores.base import GraphStore

#: a write step's sealer: (parameter updates, replaced (sealed_seq, seal) pairs, added seals)
Sealer = Callable[[], tuple[dict[str, Any], list[tuple[Any, Any]], list[str]]]


def merge_sealer(store: GraphStore, query: str, rows: list[dict[str, Any]], *, staged: bool = False) -> Sealer | None:
    """The seals an EPCIS step stores and the ones it replaces, computed when it runs (after the audit
    head was read: the compare-and-set proves the lines read are still current). Upserts merge the
    row's facts into the record's current line; edge MERGEs into the edge's current line (only when
    both ends exist, as the statement does); removals (retypes, absorptions, unlinks) drop what they delete.

    `staged`: a staging step of a run whose edges join only nodes the run itself created in its
    earlier staging steps (under the import lock; loaders/epcis_write.split_new): no such edge
    can exist yet and both ends do, and no node it upserts exists, so its seals need no read of
    the graph."""
    name = query.removeprefix("epcis.").removeprefix("tx_").removeprefix("stage_")
    if name.startswith("upsert_"):
        label = next((lb for lb in seals.NODE_FIELDS if lb.lower() == name.removeprefix("upsert_")), None)
        if label is None:
            return None
        return lambda: _seal_upserts(store, label, rows, fresh=staged)
    if name.startswith("edge_"):
        t = next((t for t in seals.EDGE_FIELDS if f"edge_{t[1]}_{t[0]}_{t[2]}".lower() == name), None)
        if t is None:
            return None
        return lambda: _seal_edges(store, t, rows, fresh=staged)
    if name.startswith(("retype_", "absorb_", "unlink_")):  # removals: re-kinded lots, absorbed provisional
        # shipments, packing links no event makes any more
        return lambda: ({}, _retype_drops(store, name, rows), [])
    if name == "retract":  # effects of an erroneous EPCIS event undone (loaders/epcis_retract.py)
        return lambda: ({}, _retype_drops(store, "retract_seals", rows), [])
    if name.startswith("pack_"):
        child = next((lb for lb in _PACKABLE if lb.lower() == name.removeprefix("pack_")), None)
        if child is None:
            return None
        packed = child
        return lambda: _seal_packs(store, packed, rows)
    if name == "unpack":
        return lambda: _seal_unpacks(store, rows)
    return None


#: children whose (child)-[:PACKED_IN]->(Container) links are sealed edges
_PACKABLE = tuple(t[0] for t in seals.EDGE_FIELDS if t[1] == "PACKED_IN" and t[2] == "Container")


class _Link:
    """One PACKED_IN link as the prediction goes: its interval and quantity, and the seal it had."""

    __slots__ = ("c", "o", "frm", "to", "qty", "seal", "seq", "changed")

    def __init__(self, c: str, o: str, frm: Any, to: Any, qty: Any, seal: Any = None, seq: Any = None) -> None:
        self.c, self.o, self.frm, self.to, self.qty, self.seal, self.seq = c, o, frm, to, qty, seal, seq
        self.changed = False

    def line(self, t: tuple[str, str, str]) -> str:
        props = {"from": self.frm, "to": self.to, "qty": self.qty}
        return seals.edge_line(t, self.c, self.o, props)


def _sealed_links(t: tuple[str, str, str], links: list[_Link]
                  ) -> tuple[dict[str, str], list[tuple[Any, Any]], list[str]]:
    """{child US container US from: new seal} of the links that change, the seals they replace, and
    the new seals. The statement sets each link's seal from this map where it writes the link (no
    read of what it just wrote: FalkorDB does not always show that later in the same statement)."""
    out: dict[str, str] = {}
    drops: list[tuple[Any, Any]] = []
    adds: list[str] = []
    prefix = seals.edge_prefix(t)
    for lk in links:
        if not lk.changed:
            continue
        line = lk.line(t)
        seal = seals.seal_of_line(prefix, line)
        drops.append((lk.seq, lk.seal))
        adds.append(seal)
        out[seals.US.join([lk.c, lk.o, "" if lk.frm is None else str(lk.frm)])] = seal
    return out, drops, adds


def _seal_packs(store: GraphStore, child: str, rows: list[dict[str, Any]]
                ) -> tuple[dict[str, Any], list[tuple[Any, Any]], list[str]]:
    """Predict what `epcis.tx_pack_<child>` does to the children's links (its phases: close the open
    links into other containers, continue the open link into this one, else MERGE a link by `from`),
    and seal every link it opens or changes."""
    t = (child, "PACKED_IN", "Container")
    found: set[str] = set()
    links: dict[str, list[_Link]] = {}
    for x in store.read(f"epcis.packs_of_{child.lower()}", ids=sorted({str(r["f"]) for r in rows})):
        if x["found"]:
            found.add(str(x["c"]))
        if x["o"] is not None:
            links.setdefault(str(x["c"]), []).append(_Link(str(x["c"]), str(x["o"]), x["from"], x["to"], x["qty"],
                                                            x["s"], x["q"]))
    have = set(seals.current_lines(store, "Container", sorted({str(r["t"]) for r in rows})))

    def fr(v: Any) -> str:
        return "" if v is None else str(v)

    # phase 1 (one aggregation over every row): the open links into OTHER containers each row closes
    # (a unit or a container is in one container at a time; a batch may be split over several)
    olds = [[lk for lk in links.get(str(r["f"]), []) if lk.to is None and lk.o != str(r["t"])
             and fr(lk.frm) <= fr(r.get("from"))] if child != "Batch" else [] for r in rows]
    for r, ls in zip(rows, olds):
        for lk in ls:
            lk.to, lk.changed = r.get("from"), True
    # phase 2 (again over every row): the open link into THIS container each row continues
    sames = [[lk for lk in links.get(str(r["f"]), []) if lk.o == str(r["t"]) and lk.to is None
              and fr(lk.frm) <= fr(r.get("from"))] for r in rows]
    for r, ls in zip(rows, sames):
        for lk in ls:
            if r.get("to") is not None:
                lk.to, lk.changed = r["to"], True
            if child == "Batch" and r.get("qty") is not None:
                lk.qty, lk.changed = r["qty"], True
        c, k = str(r["f"]), str(r["t"])
        if c not in found or k not in have or ls:
            continue
        got = next((lk for lk in links.get(c, []) if lk.o == k and fr(lk.frm) == fr(r.get("from"))), None)
        if got is None:
            got = _Link(c, k, r.get("from"), None, None)
            links.setdefault(c, []).append(got)
        got.to, got.qty, got.changed = r.get("to"), r.get("qty"), True
    sealed, drops, adds = _sealed_links(t, [lk for ls in links.values() for lk in ls])
    return {"seals": sealed}, drops, adds


def _seal_unpacks(store: GraphStore, rows: list[dict[str, Any]]
                  ) -> tuple[dict[str, Any], list[tuple[Any, Any]], list[str]]:
    """Predict which open links `epcis.tx_unpack` closes (all rows first, then each row in order) and
    seal them, per child label."""
    links: list[tuple[str, _Link]] = []
    for x in store.read("epcis.packs_into", ids=sorted({str(r["t"]) for r in rows})):
        links.append((str(x["cl"]), _Link(str(x["c"]), str(x["o"]), x["from"], x["to"], x["qty"], x["s"], x["q"])))

    def fr(v: Any) -> str:
        return "" if v is None else str(v)

    chosen = [[lk for _, lk in links if lk.o == str(r["t"]) and lk.to is None
               and (r.get("f") is None or lk.c == str(r["f"])) and fr(lk.frm) <= fr(r.get("at"))] for r in rows]
    for r, ls in zip(rows, chosen):
        for lk in ls:
            lk.to, lk.changed = r.get("at"), True
    all_seals: dict[str, str] = {}
    drops: list[tuple[Any, Any]] = []
    adds: list[str] = []
    for child in _PACKABLE:
        sealed, d, a = _sealed_links((child, "PACKED_IN", "Container"), [lk for cl, lk in links if cl == child])
        all_seals.update(sealed)
        drops += d
        adds += a
    return {"seals": all_seals}, drops, adds


def _seal_upserts(store: GraphStore, label: str, rows: list[dict[str, Any]], fresh: bool = False
                  ) -> tuple[dict[str, Any], list[tuple[Any, Any]], list[str]]:
    # fresh: a staging step's nodes are new (read under the import lock): no current lines to read
    cur = {} if fresh else seals.current_lines(store, label, sorted({str(r["id"]) for r in rows}))
    drops = [(q, s) for s, q, _ in cur.values()]
    state = {k: dict(v[2]) for k, v in cur.items()}
    kinds = dict(seals.NODE_FIELDS[label])  # field -> wire kind (the sealed fields only)
    names = [f for f, _ in seals.NODE_FIELDS[label]]
    enc, us = seals.enc, seals.US
    head = (label + us).encode("utf-8")
    sha = hashlib.sha256
    out: list[dict[str, Any]] = []
    final: dict[str, str] = {}
    for r in rows:
        key = str(r["id"])
        fields = state.get(key)
        if fields is None:  # created by this MERGE: its defaults first
            fields = state[key] = {"id": key}
            for f, v in (r.get("create") or {}).items():
                kind = kinds.get(f)
                if kind is not None:
                    fields[f] = enc(v, kind)
        for f, v in (r.get("props") or {}).items():
            kind = kinds.get(f)
            if kind is not None:
                fields[f] = enc(v, kind)
        # seals.seal_of_line(label, seals.join_fields(label, fields)), inlined
        final[key] = seal = sha(head + us.join([fields.get(f, "") for f in names]).encode("utf-8")).hexdigest()
        out.append({**r, "seal": seal})
    return {"rows": out}, drops, list(final.values())


def _seal_edges(store: GraphStore, t: tuple[str, str, str], rows: list[dict[str, Any]], fresh: bool = False
                ) -> tuple[dict[str, Any], list[tuple[Any, Any]], list[str]]:
    found = [] if fresh else store.read(f"seals.edgeof_{seals.triple_name(t)}",
                                        rows=[{"f": r["f"], "t": r["t"]} for r in rows], us=seals.US)
    ends: dict[tuple[str, str], bool] = {}
    lines: dict[tuple[str, str], dict[str, str]] = {}
    drops: list[tuple[Any, Any]] = []
    for x in found:
        k = (str(x["f"]), str(x["t"]))
        ends[k] = bool(x["ends"])
        if x["l"] is not None and k not in lines:
            lines[k] = seals.edge_fields_of(t, str(x["l"]))
            drops.append((x["q"], x["s"]))
    us, enc, spec = seals.US, seals.enc, seals.EDGE_FIELDS[t]
    head = (seals.edge_prefix(t) + us).encode("utf-8")  # seals.seal_of_line(prefix, line), inlined
    sha = hashlib.sha256
    out: list[dict[str, Any]] = []
    final: dict[tuple[str, str], str] = {}
    for r in rows:
        k = (str(r["f"]), str(r["t"]))
        fields = lines.setdefault(k, {})
        props = r.get("props") or {}
        for p, kind in spec:
            if p in props:
                fields[p] = enc(props[p], kind)
        seal = sha(head + us.join([k[0], k[1], *(fields.get(p, "") for p, _ in spec)]).encode("utf-8")).hexdigest()
        if fresh or ends.get(k):
            final[k] = seal
        out.append({**r, "seal": seal})
    return {"rows": out}, drops, list(final.values())


def _retype_drops(store: GraphStore, name: str, rows: list[dict[str, Any]]) -> list[tuple[Any, Any]]:
    drops: list[tuple[Any, Any]] = []
    seen: set[Any] = set()
    kind, _, label = name.partition("_")  # retype_batch -> epcis.retype_seals_batch; retract_seals as named
    query = name if label == "seals" else f"{kind}_seals_{label}"
    for x in store.read(f"epcis.{query}", rows=rows):
        drops.append((x["q"], x["s"]))
        for eid, es, eq in x["es"] or []:
            if eid is not None and eid not in seen:
                seen.add(eid)
                drops.append((eq, es))
    return drops


__all__ = ["Sealer", "merge_sealer"]
