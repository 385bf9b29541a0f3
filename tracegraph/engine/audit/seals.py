"""Record seals: the state of every imported record and edge committed in the audit chain.

The chain (engine/audit/chain.py) proves that no ENTRY was altered; this module extends the proof to
the RECORDS the entries wrote, without keeping a copy of the data:

    line(record)  = label US key US field values in model order, in the import wire form
                    (strings as they are, numbers as decimal, quantities as integer millionths,
                    booleans t/f, absent values empty; US = U+001F, refused in every input)
    seal(record)  = SHA-256(line) as hex, stored on the record as `seal`, with `sealed_seq` = the
                    seq of the entry that wrote it (set in the same statement, `$audit_entry.seq`)
    ledger(entry) = {"n": records sealed, "sum": sum of their seals mod 2^256,
                     "drop": {seq: [n, sum]} of the seals this entry replaced or deleted}

and the ledger travels in the entry's `changes` (field `sealed`), so it is under the entry hash.

Edges are records too: their line is type, end labels and keys, then the edge's properties.

`audit verify` (engine/audit/verify.py) then streams every record of a sealed label and every edge
of a sealed type, has the database rebuild each record's line from its stored properties (the
same expression this module generates for the query files, so the bytes match), recomputes the
seal, and:
  * names a record whose content no longer matches its seal (changed behind the engine's back),
    after undoing the field changes audited since the seal (a QA status change, a quarantine);
  * adds each seal to the ledger of its `sealed_seq` and compares every entry's ledger: a deleted
    record leaves its entry short, a record added with a copied seal leaves it long;
  * names a node with no seal and no entry about it (created outside the engine) and an edge with
    no seal (added behind the engine's back).

Why a sum and not a Merkle root per entry: a later import that rewrites a record replaces its seal;
with a sum the replaced seal is simply subtracted (the `drop` part of the later entry's ledger),
so every entry's ledger can be checked against the records that still carry its seq. A Merkle
root of the original leaves could no longer be recomputed from the current graph.

Why the wire form: the database can rebuild it with plain string functions (no hashing in Cypher
on either backend), so verify reads one short string per record instead of every property
(measured: 3-4x more records per second than `properties(n)` on FalkorDB).
"""

from __future__ import annotations

import hashlib
import typing
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tracegraph.engine.audit.chain import Change
from tracegraph.engine.model import EDGE_PROPS, EDGE_TRIPLES, NODE_TYPES, NodeRecord

US = "\x1f"
_MOD = 1 << 256
#: the audit entry change that carries an entry's ledger
LEDGER_FIELD = "sealed"


def _kind(annotation: Any) -> str:
    """Wire kind of a record field: f(loat), i(nt), b(ool) or s(tring)."""
    args = typing.get_args(annotation)
    for a in [annotation, *args]:
        inner = typing.get_args(a)
        base = inner[0] if inner and typing.get_origin(a) is typing.Annotated else a
        if base is bool:
            return "b"
        if base is float:
            return "f"
        if base is int:
            return "i"
    return "s"


#: stored properties outside the record types that are sealed too, after `extra`: the EPCIS
#: state times (`state_at`, JSON: property -> eventTime of the event that set it, loaders/epcis_state.py)
#: decide which later event may change a unit's, shipment's, container's or batch's state, so a
#: change to them behind the engine's back must be reported like a change to the state itself
#: a unit's `container_id` (the innermost container holding it now, written by the containment
#: derivation, engine/imports/containment.py) is what the graph engine's "now" answers name as the
#: unit's container (engine/trace/containers.py), so it is sealed with the unit like its status
SEALED_EXTRA: dict[str, tuple[str, ...]] = {label: ("state_at",) for label in ("Shipment", "Container", "Batch")}
SEALED_EXTRA["Serial"] = ("state_at", "container_id")


def node_fields(cls: type[NodeRecord]) -> list[tuple[str, str, bool]]:
    """(name, kind, required) of every stored field of a record type, in model order, then `extra`,
    then the sealed properties outside the record type (`SEALED_EXTRA`)."""
    out = [(name, _kind(f.annotation), f.is_required()) for name, f in cls.model_fields.items()]
    out.append(("extra", "s", False))
    out.extend((name, "s", False) for name in SEALED_EXTRA.get(cls.LABEL, ()))
    return out


def kept_extra(label: str, stored: dict[str, Any]) -> dict[str, Any]:
    """The `SEALED_EXTRA` properties of a stored node (a record of the ERP import does not state
    them, so a write of the record keeps them and its seal must count them)."""
    return {f: stored[f] for f in SEALED_EXTRA.get(label, ()) if stored.get(f) is not None}


#: the sealed node labels and their fields (the ERP record types an import writes)
NODE_FIELDS: dict[str, list[tuple[str, str]]] = {
    cls.LABEL: [(n, k) for n, k, _ in node_fields(cls)] for cls in NODE_TYPES.values()
}
#: the sealed edge triples (every edge an import can write)
EDGE_FIELDS: dict[tuple[str, str, str], tuple[tuple[str, str], ...]] = {t: EDGE_PROPS[t[1]] for t in EDGE_TRIPLES}


#: floats travel as integers in millionths: FalkorDB's toFloat() parses strings in single
#: precision (toFloat('6.4') = 6.40000009536743), toInteger() is exact, and int / 1e6 in double
#: precision gives back exactly the double nearest to the 6-decimal value
FLOAT_SCALE = 1_000_000


def enc(v: Any, kind: str = "s") -> str:
    """One value in the import wire form (also what the database rebuilds, see `node_line_expr`)."""
    if v is None:
        return ""
    if kind == "f":
        return str(int(round(float(v) * FLOAT_SCALE)))
    if isinstance(v, bool):
        return "t" if v else "f"
    return str(v)


def node_line(label: str, props: dict[str, Any]) -> str:
    """The sealed line of a node from its stored properties (absent keys count as null)."""
    return US.join(enc(props.get(f), k) for f, k in NODE_FIELDS[label])


def edge_line(triple: tuple[str, str, str], frm: str, to: str, props: dict[str, Any]) -> str:
    return US.join([frm, to, *(enc(props.get(p), k) for p, k in EDGE_FIELDS[triple])])


def seal_of_line(prefix: str, line: str) -> str:
    """The seal of a line; `prefix` is the label (nodes) or `from label US type US to label` (edges)."""
    return hashlib.sha256((prefix + US + line).encode("utf-8")).hexdigest()


def node_seal(label: str, props: dict[str, Any]) -> str:
    return seal_of_line(label, node_line(label, props))


def edge_prefix(triple: tuple[str, str, str]) -> str:
    return US.join(triple)


def edge_seal(triple: tuple[str, str, str], frm: str, to: str, props: dict[str, Any]) -> str:
    return seal_of_line(edge_prefix(triple), edge_line(triple, frm, to, props))


def split_line(label: str, line: str) -> dict[str, str]:
    """A node line back into {field: wire value} (verify undoes audited changes on it)."""
    return dict(zip((f for f, _ in NODE_FIELDS[label]), line.split(US)))


def join_fields(label: str, values: dict[str, str]) -> str:
    return US.join(values.get(f, "") for f, _ in NODE_FIELDS[label])


def field_kind(label: str, name: str) -> str | None:
    for f, k in NODE_FIELDS.get(label, ()):
        if f == name:
            return k
    return None


@dataclass
class Ledger:
    """What one audited statement sealed (added) and which earlier seals it replaced (dropped)."""

    n: int = 0
    total: int = 0
    drops: dict[int, list[int]] = field(default_factory=dict)

    def add(self, seal: str) -> None:
        self.n += 1
        self.total = (self.total + int(seal, 16)) % _MOD

    def add_all(self, seals: Iterable[str]) -> Ledger:
        for s in seals:
            self.add(s)
        return self

    def drop(self, seq: Any, seal: Any) -> None:
        """An earlier seal this statement replaces or deletes (ignored when the record had none)."""
        if not isinstance(seal, str) or not isinstance(seq, int):
            return
        got = self.drops.setdefault(seq, [0, 0])
        got[0] += 1
        got[1] = (got[1] + int(seal, 16)) % _MOD

    def empty(self) -> bool:
        return self.n == 0 and not self.drops

    def to_value(self) -> dict[str, Any]:
        return {"n": self.n, "sum": f"{self.total:064x}",
                "drop": {str(s): [c, f"{t:064x}"] for s, (c, t) in sorted(self.drops.items())}}

    def change(self) -> Change:
        return Change(LEDGER_FIELD, None, self.to_value(), state=False)


def with_ledger(changes: list[Change], ledger: Ledger) -> list[Change]:
    """`changes` plus the ledger change (when it sealed or dropped anything)."""
    return changes if ledger.empty() else [*changes, ledger.change()]


# ---------------------------------------------------------------------------------------
# The database side: the same line rebuilt from stored properties (generated query files)
# ---------------------------------------------------------------------------------------


def _expr(var: str, name: str, kind: str) -> str:
    p = f"{var}.`{name}`"
    if kind == "f":
        return f"coalesce(toString(toInteger(round({p} * 1000000))), '')"
    if kind == "b":
        return f"CASE {p} WHEN true THEN 't' WHEN false THEN 'f' ELSE '' END"
    return f"coalesce(toString({p}), '')"


def node_line_expr(label: str, var: str = "n") -> str:
    return " + $us + ".join(_expr(var, f, k) for f, k in NODE_FIELDS[label])


def edge_line_expr(triple: tuple[str, str, str], var: str = "e", a: str = "a", b: str = "b") -> str:
    parts = [f"{a}.id", f"{b}.id", *(_expr(var, p, k) for p, k in EDGE_FIELDS[triple])]
    return " + $us + ".join(parts)


def triple_name(t: tuple[str, str, str]) -> str:
    return "_".join(t)


_HEADER = "// GENERATED by `python -m tracegraph.engine.audit.seals` from engine/model.py; do not edit.\n"


def render_queries() -> dict[str, str]:
    """The per-label / per-edge-type seal reads (Cypher has no parameterised labels)."""
    out: dict[str, str] = {}
    for label in NODE_FIELDS:
        expr = node_line_expr(label)
        out[f"idspan_{label}"] = (
            f"{_HEADER}// The internal id range of the {label} nodes: `audit verify` reads them in id ranges (a page\n"
            f"// by id is an id seek; SKIP would rescan every earlier page).\n"
            f"MATCH (n:{label})\nRETURN min(id(n)) AS lo, max(id(n)) AS hi\n")
        out[f"nodes_{label}"] = (
            f"{_HEADER}// One page ($lo <= id < $hi) of the {label} nodes: seal, sealing entry, and the line rebuilt\n"
            f"// from the stored properties (engine/audit/seals.py), for `audit verify`.\n"
            f"MATCH (n:{label}) WHERE id(n) >= $lo AND id(n) < $hi\n"
            f"RETURN n.seal AS s, n.sealed_seq AS q, {expr} AS l\n")
        out[f"nodes_since_{label}"] = (
            f"{_HEADER}// One page of the {label} nodes sealed by entry $from or later (incremental `audit verify`).\n"
            f"MATCH (n:{label}) WHERE id(n) >= $lo AND id(n) < $hi AND n.sealed_seq >= $from\n"
            f"RETURN n.seal AS s, n.sealed_seq AS q, {expr} AS l\n")
        out[f"of_{label}"] = (
            f"{_HEADER}// The seal, sealing entry and line of these {label} nodes ($ids), for a writer that\n"
            f"// replaces their seals in its own statement.\n"
            f"UNWIND $ids AS k\nMATCH (n:{label} {{id: k}})\nRETURN n.id AS id, n.seal AS s, n.sealed_seq AS q, "
            f"{expr} AS l\n")
    for t in EDGE_FIELDS:
        a, etype, b = t
        out[f"edges_{triple_name(t)}"] = (
            f"{_HEADER}// The ({a})-[:{etype}]->({b}) edges out of one id range ($lo <= id < $hi) of {a} nodes: seal,\n"
            f"// sealing entry, rebuilt line.\n"
            f"MATCH (a:{a}) WHERE id(a) >= $lo AND id(a) < $hi\nMATCH (a)-[e:{etype}]->(b:{b})\n"
            f"RETURN e.seal AS s, e.sealed_seq AS q, {edge_line_expr(t)} AS l\n")
        out[f"edges_since_{triple_name(t)}"] = (
            f"{_HEADER}// The same page, only edges sealed by entry $from or later.\n"
            f"MATCH (a:{a}) WHERE id(a) >= $lo AND id(a) < $hi\nMATCH (a)-[e:{etype}]->(b:{b})\n"
            f"WHERE e.sealed_seq >= $from\nRETURN e.seal AS s, e.sealed_seq AS q, {edge_line_expr(t)} AS l\n")
        out[f"edgeof_{triple_name(t)}"] = (
            f"{_HEADER}// For a writer that MERGEs ({a})-[:{etype}]->({b}) edges ($rows: [{{f, t}}]): whether both ends\n"
            f"// exist, and the seal, sealing entry and line of the edge already there.\n"
            f"UNWIND $rows AS r\nOPTIONAL MATCH (a:{a} {{id: r.f}})\nOPTIONAL MATCH (b:{b} {{id: r.t}})\n"
            f"OPTIONAL MATCH (a)-[e:{etype}]->(b)\n"
            f"RETURN r.f AS f, r.t AS t, a IS NOT NULL AND b IS NOT NULL AS ends, e.seal AS s, e.sealed_seq AS q,\n"
            f"  CASE WHEN e IS NULL THEN null ELSE {edge_line_expr(t)} END AS l\n")
    return out


def write_queries() -> list[Path]:
    from tracegraph import queries

    return queries.write_generated("seals", render_queries())


__all__ = [
    "US", "LEDGER_FIELD", "NODE_FIELDS", "EDGE_FIELDS", "Ledger", "enc", "node_line", "edge_line", "node_seal",
    "edge_seal", "edge_prefix", "seal_of_line", "split_line", "join_fields", "field_kind", "with_ledger",
    "node_fields", "node_line_expr", "edge_line_expr", "render_queries", "write_queries", "triple_name",
    "current_lines", "reseal", "edge_fields_of", "SEALED_EXTRA", "kept_extra",
]



# ---------------------------------------------------------------------------------------
# For writers that change records already in the graph (quarantine, returns, containment,
# EPCIS events): read the current lines, apply the same change, and seal the result. Called in
# the writer's `prepare`, so the audit compare-and-set proves nothing changed in between.
# ---------------------------------------------------------------------------------------


def current_lines(store: Any, label: str, ids: list[str]) -> dict[str, tuple[Any, Any, dict[str, str]]]:
    """{id: (seal, sealed_seq, {field: wire value})} of the existing `label` nodes among `ids`."""
    out: dict[str, tuple[Any, Any, dict[str, str]]] = {}
    for i in range(0, len(ids), 5000):
        for r in store.read(f"seals.of_{label}", ids=ids[i:i + 5000], us=US):
            out[str(r["id"])] = (r["s"], r["q"], split_line(label, str(r["l"])))
    return out


def edge_fields_of(t: tuple[str, str, str], line: str) -> dict[str, str]:
    """An edge line back into {property: wire value} (its first two fields are the end keys)."""
    return dict(zip((p for p, _ in EDGE_FIELDS[t]), line.split(US)[2:]))


def reseal(store: Any, label: str, updates: dict[str, dict[str, Any]], ledger: Ledger) -> dict[str, str]:
    """New seals of existing `label` nodes after `updates` ({id: {field: new value}}) are applied;
    their old seals are dropped and the new ones added to `ledger`. Ids not in the graph are left out."""
    if label not in NODE_FIELDS or not updates:
        return {}
    cur = current_lines(store, label, list(updates))
    out: dict[str, str] = {}
    for key, upd in updates.items():
        got = cur.get(key)
        if got is None:
            continue
        old_seal, old_seq, fields = got
        for f, v in upd.items():
            kind = field_kind(label, f)
            if kind is not None:
                fields[f] = enc(v, kind)
        new = seal_of_line(label, join_fields(label, fields))
        ledger.drop(old_seq, old_seal)
        ledger.add(new)
        out[key] = new
    return out


if __name__ == "__main__":  # pragma: no cover - developer tool
    for p in write_queries():
        print(f"wrote {p}")
