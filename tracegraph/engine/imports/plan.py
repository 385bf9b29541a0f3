"""Import planning: validate a whole ImportBatch against itself and the graph, then sort every
record into new / changed / unchanged, and every edge into "written while staging" (both ends
are new nodes) or "written at commit" (an end existed before the import).

Nothing here writes. The planner reads the graph with one query per label (chunked) for the
keys the batch defines or references, one per edge type for edges between existing nodes, and
one for the existing outflows of the lots the batch consumes (over-consumption check).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, cast

from tracegraph.engine.audit.seals import kept_extra
from tracegraph.engine.errors import Problem, ValidationFailed
from tracegraph.engine.imports.batch import ImportBatch
from tracegraph.engine.model import (
    EDGE_DISCRIMINATOR,
    EDGE_PROPS,
    EDGE_TRIPLES,
    EdgeRecord,
    EdgeRow,
    MaterialLotRecord,
    NodeRecord,
    Record,
    Ref,
    SerialRecord,
)
from tracegraph.engine.stores.base import GraphStore

READ_CHUNK = 100_000
#: record / field separators of the string blobs sent to the server (rejected in input text)
RS, US = "\x1e", "\x1f"
#: properties compared when deciding whether an existing node changed
_META = {"created_at", "updated_at", "source", "import_id", "last_import_id", "import_hash", "import_hash_at"}
_FLOAT_TOL = 1e-9

Triple = tuple[str, str, str]


def triple_name(t: Triple) -> str:
    return f"{t[0]}_{t[1]}_{t[2]}"


@dataclass
class NodeChange:
    record: NodeRecord
    before: dict[str, Any]
    after: dict[str, Any]


@dataclass
class EdgeChange:
    edge: EdgeRow
    before: dict[str, Any]
    after: dict[str, Any]


@dataclass
class Counts:
    new: int = 0
    changed: int = 0
    unchanged: int = 0

    def to_dict(self) -> dict[str, int]:
        return {"new": self.new, "changed": self.changed, "unchanged": self.unchanged}


@dataclass
class Plan:
    """What an import will do, decided before anything is written."""

    new_nodes: dict[str, list[NodeRecord]] = field(default_factory=dict)      # label -> records
    changed_nodes: dict[str, list[NodeChange]] = field(default_factory=dict)  # label -> changes
    stage_edges: dict[Triple, list[EdgeRow]] = field(default_factory=dict)    # both ends are new
    #: new serials whose batch and product are new too: created with their PRODUCED and OF edges
    #: in one statement (serials are most of a large import; this saves two passes of lookups)
    linked_serials: list[NodeRecord] = field(default_factory=list)
    commit_edges: dict[Triple, list[EdgeRow]] = field(default_factory=dict)   # an end existed before
    changed_edges: dict[Triple, list[EdgeChange]] = field(default_factory=dict)
    node_counts: dict[str, Counts] = field(default_factory=dict)              # by record type (file stem)
    edge_counts: dict[str, Counts] = field(default_factory=dict)              # by edge type

    @property
    def items_to_write(self) -> int:
        return (3 * len(self.linked_serials)
                + sum(len(v) for v in self.new_nodes.values()) + sum(len(v) for v in self.changed_nodes.values())
                + sum(len(v) for v in self.stage_edges.values()) + sum(len(v) for v in self.commit_edges.values())
                + sum(len(v) for v in self.changed_edges.values()))

    def counts(self) -> dict[str, dict[str, int]]:
        out = {k: v.to_dict() for k, v in self.node_counts.items()}
        out.update({f"edge:{k}": v.to_dict() for k, v in self.edge_counts.items()})
        return out


def _chunks(seq: list[Any], n: int) -> Iterable[list[Any]]:
    for i in range(0, len(seq), n):
        yield seq[i:i + n]


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        try:
            return abs(float(a) - float(b)) <= _FLOAT_TOL * max(1.0, abs(float(a)))
        except (TypeError, ValueError):
            return False
    same: bool = a == b  # stored property values: scalars and lists, whose == is a bool
    return same


def _diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """Fields the import sets to a different value (absent input values never erase data)."""
    return {k: v for k, v in after.items() if v is not None and k not in _META and not _same(before.get(k), v)}


def label_empty(store: GraphStore, label: str) -> bool:
    """True when the graph has no `label` node at all: a first load then needs no per-key lookup."""
    return not store.read(f"imports.any_{label}")


def existing_nodes(store: GraphStore, label: str, keys: Iterable[str]) -> dict[str, tuple[str | None, bool]]:
    """Which of `keys` exist as `label` nodes: key -> (import_hash, hash still current)."""
    out: dict[str, tuple[str | None, bool]] = {}
    ks = sorted(set(keys))
    if not ks or label_empty(store, label):
        return out
    for part in _chunks(ks, READ_CHUNK):
        for row in store.read(f"imports.existing_{label}", blob=RS.join(part), rs=RS):
            out[row["id"]] = (row["h"], bool(row["fresh"]))
    return out


def node_props(store: GraphStore, label: str, keys: Iterable[str]) -> dict[str, dict[str, Any]]:
    """Current modelled properties of these `label` nodes (flat columns: cheap to decode)."""
    out: dict[str, dict[str, Any]] = {}
    ks = sorted(set(keys))
    for part in _chunks(ks, READ_CHUNK):
        for row in store.read(f"imports.props_{label}", keys=part):
            out[row["id"]] = {k: v for k, v in row.items() if v is not None}
    return out


def plan_import(store: GraphStore, batch: ImportBatch) -> Plan:
    """Validate the whole batch and decide what to write. Raises ValidationFailed with EVERY
    problem found (file, row, field, value, what was expected); writes nothing."""
    problems: list[Problem] = []
    plan = Plan()

    # 1. duplicate keys within the batch -----------------------------------------------------
    own: dict[str, dict[str, NodeRecord]] = defaultdict(dict)  # label -> key -> record
    for _stem, recs in batch.record_lists():
        for rec in recs:
            if isinstance(rec, NodeRecord):
                first = own[rec.LABEL].get(rec.id)
                if first is not None:
                    problems.append(rec.problem("id", f"duplicate key; first defined at {first.source_name} "
                                                      f"{first.location}".strip(), rec.id))
                else:
                    own[rec.LABEL][rec.id] = rec

    # 2. references resolve (in the batch or in the graph) ----------------------------------
    wanted: dict[str, set[str]] = defaultdict(set)
    for label, keyed in own.items():
        wanted[label].update(keyed)
    ref_users: list[tuple[Record, str, Ref]] = []
    for _, recs in batch.record_lists():
        for rec in recs:
            for fld, ref in rec.refs():
                ref_users.append((rec, fld, ref))
                wanted[ref.label].add(ref.key)
    existing: dict[str, dict[str, tuple[str | None, bool]]] = {
        label: existing_nodes(store, label, keys) for label, keys in wanted.items() if keys
    }
    for rec, fld, ref in ref_users:
        if ref.key not in own.get(ref.label, {}) and ref.key not in existing.get(ref.label, {}):
            problems.append(rec.problem(fld, f"no {ref.label} with id {ref.key!r} in this import or in the "
                                             f"graph; add it to {_file_of(ref.label)} or fix the reference",
                                        ref.key))

    # 3. edges: allowed, not duplicated --------------------------------------------------------
    allowed = set(EDGE_TRIPLES)
    seen_edges: dict[tuple[Any, ...], Record] = {}
    all_edges: list[tuple[Record, EdgeRow]] = []
    for _, recs in batch.record_lists():
        for rec in recs:
            for e in rec.edges():
                t = (e.frm.label, e.type, e.to.label)
                if t not in allowed:
                    problems.append(rec.problem(e.field, f"{e.type} from {e.frm.label} to {e.to.label} is not "
                                                         "part of the model (docs/model.md)", e.frm.key))
                    continue
                if not isinstance(rec, EdgeRecord):
                    all_edges.append((rec, e))  # implied by a node: unique because node keys are
                    continue
                first_rec = seen_edges.get(e.identity)
                if first_rec is not None:
                    problems.append(rec.problem(e.field, f"duplicate {e.type} from {e.frm.key!r} to {e.to.key!r}; "
                                                         f"first at {first_rec.source_name} {first_rec.location}",
                                                e.to.key if e.field == "to_lot_id" else e.frm.key))
                    continue
                seen_edges[e.identity] = rec
                all_edges.append((rec, e))

    # 4. quantities: a lot is never consumed beyond what was received -------------------------
    problems.extend(_check_lot_balance(store, batch, own, existing, all_edges))

    if problems:
        raise ValidationFailed(
            f"the import has {len(problems)} problem(s); nothing was written",
            problems,
            hint="fix the listed rows and import again",
        )

    # 5. classify nodes ------------------------------------------------------------------------
    new_keys: dict[str, set[str]] = defaultdict(set)
    changed_ref_fields: dict[tuple[str, str], set[str]] = {}
    for stem, recs in batch.record_lists():
        cls = batch.record_type(stem)
        if not issubclass(cls, NodeRecord):
            continue
        counts = plan.node_counts.setdefault(stem, Counts())
        label = cls.LABEL
        have = existing.get(label, {})
        to_diff: list[NodeRecord] = []
        for rec in recs:
            assert isinstance(rec, NodeRecord)
            found = have.get(rec.id)
            if found is None:
                plan.new_nodes.setdefault(label, []).append(rec)
                new_keys[label].add(rec.id)
                counts.new += 1
            elif found[1] and found[0] == rec.content_hash():
                counts.unchanged += 1  # imported before with these exact values, untouched since
            else:
                to_diff.append(rec)
        current = node_props(store, label, (r.id for r in to_diff)) if to_diff else {}
        for rec in to_diff:
            before = current.get(rec.id, {})
            after = {k: v for k, v in rec.props().items() if k != "id"}
            diff = _diff(before, after)
            if diff:
                plan.changed_nodes.setdefault(label, []).append(  # + the sealed properties it keeps
                    NodeChange(rec, {**kept_extra(label, before), **{k: before.get(k) for k in diff}}, diff))
                changed_ref_fields[(label, rec.id)] = set(diff)
                counts.changed += 1
            else:
                counts.unchanged += 1

    # 5b. serials created together with their PRODUCED and OF edges ------------------------------
    linked: set[str] = set()
    new_batches, new_products = new_keys.get("Batch", set()), new_keys.get("Product", set())
    if plan.new_nodes.get("Serial") and new_batches and new_products:
        keep: list[NodeRecord] = []
        for rec in plan.new_nodes["Serial"]:
            if rec.batch_id in new_batches and rec.product_id in new_products:  # type: ignore[attr-defined]
                plan.linked_serials.append(rec)
                linked.add(rec.id)
            else:
                keep.append(rec)
        plan.new_nodes["Serial"] = keep

    # 6. classify edges ------------------------------------------------------------------------
    to_check: dict[Triple, list[EdgeRow]] = defaultdict(list)
    for rec, e in all_edges:
        t = (e.frm.label, e.type, e.to.label)
        counts = plan.edge_counts.setdefault(e.type, Counts())
        if linked and isinstance(rec, SerialRecord) and rec.id in linked and e.type in ("PRODUCED", "OF"):
            counts.new += 1  # written with the serial itself
            continue
        a_new = e.frm.key in new_keys.get(e.frm.label, ())
        b_new = e.to.key in new_keys.get(e.to.label, ())
        if a_new and b_new:  # inside the island of new nodes: written while staging
            plan.stage_edges.setdefault(t, []).append(e)
            counts.new += 1
            continue
        if a_new or b_new:  # joins new to existing data: only at commit
            plan.commit_edges.setdefault(t, []).append(e)
            counts.new += 1
            continue
        if isinstance(rec, NodeRecord):
            # an edge implied by an existing node's reference field: only look when that field changed
            if e.field not in changed_ref_fields.get((rec.LABEL, rec.id), ()):
                counts.unchanged += 1
                continue
        to_check[t].append(e)
    for t, edges in to_check.items():
        have_edges = _existing_edges(store, t, edges)
        disc = EDGE_DISCRIMINATOR.get(t[1])
        counts = plan.edge_counts.setdefault(t[1], Counts())
        for e in edges:
            olds = have_edges.get((e.frm.key, e.to.key), [])
            if disc:
                olds = [o for o in olds if _same(o.get(disc), e.props.get(disc))]
            if not olds:
                plan.commit_edges.setdefault(t, []).append(e)
                counts.new += 1
                continue
            before = olds[0]
            diff = _diff(before, {k: v for k, v in e.props.items()})
            if diff:
                plan.changed_edges.setdefault(t, []).append(EdgeChange(e, {k: before.get(k) for k in diff}, diff))
                counts.changed += 1
            else:
                counts.unchanged += 1
    return plan


def _existing_edges(store: GraphStore, t: Triple, edges: list[EdgeRow]) -> dict[tuple[str, str], list[dict[str, Any]]]:
    out: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    pairs = sorted({(e.frm.key, e.to.key) for e in edges})
    for part in _chunks(pairs, READ_CHUNK):
        rows = store.read(f"imports.edges_{triple_name(t)}", blob=RS.join(a + US + b for a, b in part), rs=RS, us=US)
        for row in rows:
            out[(row["a"], row["b"])].append({k: v for k, v in row.items() if k not in ("a", "b")})
    return out


def _check_lot_balance(
    store: GraphStore,
    batch: ImportBatch,
    own: dict[str, dict[str, NodeRecord]],
    existing: dict[str, dict[str, tuple[str | None, bool]]],
    all_edges: list[tuple[Record, EdgeRow]],
) -> list[Problem]:
    """Consumption + split/merge out of a lot <= its received quantity, unless `adjusted`;
    and consumption units match the lot's unit. Existing outflows in the graph count too
    (an edge this import re-states replaces the stored one)."""
    outflow: dict[str, dict[tuple[str, str], float]] = defaultdict(dict)
    last_rec: dict[str, Record] = {}
    problems: list[Problem] = []
    # MaterialLotRecord is the one record whose LABEL is MaterialLot
    lot_recs = cast("dict[str, MaterialLotRecord]", own.get("MaterialLot", {}))
    moving = [e for _, e in all_edges
              if e.frm.label == "MaterialLot" and e.type in ("CONSUMED_IN", "SPLIT_INTO", "MERGED_INTO")]
    stored = {e.frm.key for e in moving if e.frm.key not in lot_recs and e.frm.key in existing.get("MaterialLot", {})}
    lots_existing = node_props(store, "MaterialLot", stored) if stored else {}
    for rec, e in all_edges:
        if e.frm.label != "MaterialLot" or e.type not in ("CONSUMED_IN", "SPLIT_INTO", "MERGED_INTO"):
            continue
        outflow[e.frm.key][(e.type, e.to.key)] = float(e.props.get("qty") or 0.0)
        last_rec[e.frm.key] = rec
        lot_uom = lot_recs[e.frm.key].uom if e.frm.key in lot_recs else (lots_existing.get(e.frm.key) or {}).get("uom")
        if e.type == "CONSUMED_IN" and lot_uom and e.props.get("uom") and e.props["uom"] != lot_uom:
            problems.append(rec.problem("uom", f"lot {e.frm.key!r} is counted in {lot_uom!r}; convert the quantity "
                                               f"to {lot_uom!r}", e.props["uom"]))
    stored_lots = [k for k in outflow if k in existing.get("MaterialLot", {})]
    for part in _chunks(stored_lots, READ_CHUNK):
        for row in store.read("imports.lot_outflows", keys=part):
            outflow[row["lot"]].setdefault((row["type"], row["to"]), float(row["qty"] or 0.0))
    for lot, flows in outflow.items():
        if lot in lot_recs:
            received, adjusted = lot_recs[lot].qty_received, lot_recs[lot].adjusted
        else:
            props = lots_existing.get(lot) or {}
            received, adjusted = float(props.get("qty_received") or 0.0), bool(props.get("adjusted"))
        total = sum(flows.values())
        if not adjusted and total > received * (1 + 1e-9) + 1e-9:
            problems.append(last_rec[lot].problem(
                "qty", f"lot {lot!r} would be consumed {total:g} in total but only {received:g} was received; "
                       "fix the quantities or mark the lot adjusted=true after a documented stock adjustment",
                total))
    return problems


def _file_of(label: str) -> str:
    from tracegraph.engine.model import FILE_OF_LABEL

    stem = FILE_OF_LABEL.get(label)
    return f"{stem}.csv" if stem else label


__all__ = ["Plan", "Counts", "NodeChange", "EdgeChange", "plan_import", "existing_nodes", "triple_name",
           "EDGE_PROPS"]
