"""Write mapped EPCIS facts into the graph all or nothing, as a run of the import runner.

Why a writer of its own: EPCIS brings nodes and edges the ERP record types do not have
(EpcisEvent, Location, Container, BusinessTransaction; CONCERNS and PACKED_IN; unpacking, which
DELETEs) and leaves out fields those records require (a serial observed without its batch, a
shipment without a known sender), so its rows go through the `epcis.tx_*` queries (MERGE by key)
instead of the ERP record queries.

Why it still uses the import runner (engine/imports/runner.py) for everything else: an EPCIS import must
apply completely or not at all, and `tracegraph import --list/--rollback/--resume` and the
automatic recovery before the next import must work for it too. So an EPCIS import is an
ordinary `ImportRun`:

1. start: one audited statement takes the import lock and creates the run (status `staging`).
2. stage: nodes that are NEW and of a label the runner knows how to roll back (runner.STAGED_LABELS:
   Product, Material, Customer, Equipment, MaterialLot, Batch, Serial, Container, Shipment, Return,
   and the EPCIS-only EpcisEvent, Location, BusinessTransaction), and edges between two such new
   nodes (CONCERNS included), are written in chunks tagged `import_id` -- an island nothing
   existing points to. Everything else (every update of an existing node, every edge touching an
   existing node, retypes, absorptions, retractions, unpacking) is written as `ImportPending` log
   steps (a few per audited statement).
3. commit: one statement flips the run to `committing`; the log steps are applied in order, each
   one audited statement that marks its step done (so none is applied twice); then `committed`.

A killed process therefore leaves either a `staging` run (rolled back by `rollback_import`:
it deletes the island and the log -- the graph is exactly as before) or a `committing` run
(finished by `resume_import` from the log alone -- the graph is exactly as after). Both are done
by the runner's own functions, which know nothing about EPCIS.

Audit: every statement appends one entry with action `import` about the ImportRun; its changes
(all `state: false`, summaries rather than record fields) name the step, the query, the row count
and the SHA-256 of the rows.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any

from tracegraph.engine.audit.chain import Actor, AuditSpec, Change
from tracegraph.engine.clock import Clock, SystemClock, iso
from tracegraph.engine.imports.merge_seals import Sealer, merge_sealer
from tracegraph.engine.imports.prefetch import ahead
from tracegraph.engine.stores.base import GraphStore
from tracegraph.loaders.epcis_map import EdgeKey, Mapped, NodeKey
from tracegraph.loaders.epcis_stage_queries import STAGED_PREFIXES

if TYPE_CHECKING:
    from tracegraph.engine.imports.runner import ImportReport

CHUNK = 5000  # rows per statement: 2000 took ~25% longer (fewer fsyncs and round trips; docs/perf.md)
#: log steps per `imports.log_add` statement, and the payload size that closes a group early
LOG_GROUP, LOG_GROUP_BYTES = 8, 4 << 20

#: node labels in write order (ends of edges first)
NODE_ORDER = ("Product", "Material", "Customer", "Location", "Equipment", "BusinessTransaction", "MaterialLot",
              "Batch", "Serial", "Container", "Shipment", "Return", "EpcisEvent")
EDGE_QUERIES = {
    ("OF", "Serial", "Product"), ("OF", "Batch", "Product"), ("OF", "MaterialLot", "Material"),
    ("PRODUCED", "Batch", "Serial"), ("CONSUMED_IN", "MaterialLot", "Batch"), ("CONSUMED_IN", "Batch", "Batch"),
    ("COMPONENT_OF", "Serial", "Serial"), ("SHIPPED_IN", "Serial", "Shipment"), ("SHIPPED_IN", "Batch", "Shipment"),
    ("SHIPPED_IN", "Container", "Shipment"), ("RETURNED_IN", "Serial", "Return"),
    ("RETURNED_IN", "Container", "Return"), ("DELIVERED_TO", "Shipment", "Customer"),
}
CONCERNS_TARGETS = {"Serial", "Batch", "MaterialLot", "Product", "Material", "Container", "Location", "Customer",
                    "Shipment", "Equipment", "BusinessTransaction"}

#: progress(phase, done, total): phase "stage", "commit" or "rollback" (the runner's Progress)
Progress = Callable[[str, int, int], None]


@dataclass
class WriteResult:
    import_id: str
    nodes: dict[str, int] = field(default_factory=dict)
    edges: dict[str, int] = field(default_factory=dict)
    skipped_edges: dict[str, int] = field(default_factory=dict)
    #: existing nodes left as they were (nothing new stated about them: no commit step)
    unchanged_nodes: int = 0
    unpacked: int = 0
    #: shipments and returns the import's containers passed on to their contents
    derived: int = 0
    audit_entries: int = 0
    #: per node label: how many keys are new / already in the graph (filled by `split_new`)
    new_nodes: dict[str, int] = field(default_factory=dict)
    existing_nodes: dict[str, int] = field(default_factory=dict)
    staged_steps: int = 0
    logged_steps: int = 0


@dataclass
class Step:
    """One statement's worth of rows for one `epcis.<name>` query."""

    query: str  # without the area and the tx_ prefix, e.g. "upsert_serial"
    rows: list[dict[str, Any]]


def _edge_kind(etype: str, fl: str, tl: str) -> tuple[str, str]:
    """(query, row shape) of one kind of edge; ("", "") for an edge the model has no query for."""
    if etype == "CONCERNS" and tl in CONCERNS_TARGETS:
        return f"epcis.concerns_{tl.lower()}", "concerns"
    if etype == "PACKED_IN" and fl in ("Serial", "Container", "Batch", "MaterialLot"):
        return f"epcis.pack_{fl.lower()}", "pack"
    if (etype, fl, tl) in EDGE_QUERIES:
        return f"epcis.edge_{etype.lower()}_{fl.lower()}_{tl.lower()}", "edge"
    return "", ""


def _edge_row(shape: str, key: EdgeKey, props: dict[str, Any]) -> dict[str, Any]:
    _etype, fl, fid, tl, tid, role = key
    if shape == "concerns":
        return {"f": fid, "t": tid, "role": role, "fl": fl, "tl": tl}
    if shape == "pack":
        return {"f": fid, "t": tid, "from": props.get("from") or "", "to": props.get("to"), "qty": props.get("qty"),
                "fl": fl, "tl": tl}
    return {"f": fid, "t": tid, "props": {k: v for k, v in props.items() if k != "role"}, "fl": fl, "tl": tl}


#: a filter on node or edge keys (None: all); the rows of one step, made for such a filter
Keep = Callable[[Any], bool] | None
RowsOf = Callable[[Keep], Iterator[dict[str, Any]]]


def _given(rows: list[dict[str, Any]], _keep: Keep) -> Iterator[dict[str, Any]]:
    return iter(rows)


@dataclass
class Layout:
    """The write plan of a `Mapped` as KEYS, in write order: its rows are made one chunk at a time.

    Why: the rows of a big document (a dict per node and per edge, copies of the mapped
    properties) held all at once, with the JSON payloads of the commit log, doubled the memory of
    the mapped facts at the write. A layout holds one reference per node and edge; `rows()` makes
    the rows of one step as they are written (`write`), `plan()` and `split_new()` all of them."""

    mapped: Mapped
    #: (query, rows) of the steps made whole: retractions, retypes, absorptions (before the
    #: upserts), and unlinks, unpacks (after them, before the edges)
    head: list[tuple[str, list[dict[str, Any]]]] = field(default_factory=list)
    tail: list[tuple[str, list[dict[str, Any]]]] = field(default_factory=list)
    #: node label -> its keys (NODE_ORDER); edge query -> (row shape, its keys), written sorted
    nodes: dict[str, list[NodeKey]] = field(default_factory=dict)
    edges: dict[str, tuple[str, list[EdgeKey]]] = field(default_factory=dict)
    res: WriteResult = field(default_factory=lambda: WriteResult(import_id=""))

    @classmethod
    def of(cls, mapped: Mapped) -> Layout:
        lay = cls(mapped)
        res = lay.res
        if mapped.retract.get("rows"):  # effects of erroneous events (loaders/epcis_retract.py): first of all
            lay.head.append(("epcis.retract", list(mapped.retract["rows"])))
        for old in ("Batch", "MaterialLot"):  # re-kinded lots (loaders/epcis_kinds.py): first, before any upsert
            retype = [{"id": r["id"], "drop_of": bool(r["drop_of"])} for r in mapped.retyped if r["old"] == old]
            if retype:
                lay.head.append((f"epcis.retype_{old.lower()}", retype))
        if mapped.absorbed:  # provisional shipments of early receipts (loaders/epcis_receipts.py): before the upserts
            lay.head.append(("epcis.absorb_shipment", [{"id": r["id"], "drop_customer": bool(r["drop_customer"])}
                                                       for r in mapped.absorbed]))
        by_label: dict[str, list[NodeKey]] = {}
        for key in mapped.nodes:
            by_label.setdefault(key[0], []).append(key)
        for label in NODE_ORDER:
            keys = by_label.pop(label, [])
            if keys:
                lay.nodes[label] = keys
                res.nodes[label] = len(keys)
        #: (type, from label, to label) -> (query, its row shape), worked out once per kind of edge
        kinds: dict[tuple[str, str, str], tuple[str, str]] = {}
        by_q: dict[str, tuple[str, list[EdgeKey]]] = {}
        for ekey in mapped.edges:
            etype, fl, _fid, tl, _tid, _role = ekey
            kind = kinds.get((etype, fl, tl))
            if kind is None:
                kind = kinds[(etype, fl, tl)] = _edge_kind(etype, fl, tl)
            q, shape = kind
            if not q:
                res.skipped_edges[f"{fl}-{etype}->{tl}"] = res.skipped_edges.get(f"{fl}-{etype}->{tl}", 0) + 1
                continue
            got = by_q.get(q)
            if got is None:
                got = by_q[q] = (shape, [])
            got[1].append(ekey)
            res.edges[etype] = res.edges.get(etype, 0) + 1
        # links no event makes any more (loaders/epcis_late.py) go first; unpack before pack, so an
        # unpack + repack in one document ends packed
        if mapped.unlinked:
            lay.tail.append(("epcis.unlink_pack", [dict(r) for r in mapped.unlinked]))
        unpack = [{"f": c_id, "t": k, "at": at or ""} for (_lbl, c_id, k, at) in mapped.unpacked]
        if unpack:
            lay.tail.append(("epcis.unpack", unpack))
            res.unpacked = len(unpack)
        lay.edges = {q: by_q[q] for q in sorted(by_q, key=lambda n: (n.startswith("epcis.pack_"), n))}
        return lay

    def steps(self) -> list[tuple[str, int, RowsOf]]:
        """(query, rows, rows(keep)) of every step in write order; `rows(keep)` makes the step's
        rows whose key `keep` accepts (a node key, or an edge key; None: all)."""
        out: list[tuple[str, int, RowsOf]] = [(q, len(rows), partial(_given, rows)) for q, rows in self.head]
        out += [(f"epcis.upsert_{label.lower()}", len(keys), partial(self._node_rows, keys))
                for label, keys in self.nodes.items()]
        out += [(q, len(rows), partial(_given, rows)) for q, rows in self.tail]
        out += [(q, len(ekeys), partial(self._edge_rows, shape, ekeys)) for q, (shape, ekeys) in self.edges.items()]
        return out

    def _node_rows(self, keys: list[NodeKey], keep: Keep) -> Iterator[dict[str, Any]]:
        split = self.mapped.split
        for key in keys:
            if keep is None or keep(key):
                create, props = split(key)
                yield {"id": key[1], "create": create, "props": props}

    def _edge_rows(self, shape: str, ekeys: list[EdgeKey], keep: Keep
                   ) -> Iterator[dict[str, Any]]:
        edges = self.mapped.edges
        for ekey in ekeys:
            if keep is None or keep(ekey):
                yield _edge_row(shape, ekey, edges[ekey])


def plan(mapped: Mapped) -> tuple[list[tuple[str, list[dict[str, Any]]]], WriteResult]:
    """(query name, rows) in write order, and the counts they will write."""
    lay = Layout.of(mapped)
    return [(q, list(rows(None))) for q, _n, rows in lay.steps()], lay.res


def _stageable() -> frozenset[str]:
    """Labels the runner's rollback deletes by `import_id`: the ERP node labels and the EPCIS-only
    EpcisEvent, Location and BusinessTransaction (runner.STAGED_LABELS)."""
    from tracegraph.engine.imports.runner import STAGED_LABELS

    return frozenset(STAGED_LABELS) & frozenset(NODE_ORDER)


def existing_props(store: GraphStore, label: str, ids: list[str]) -> dict[str, dict[str, Any]]:
    """{id: stored properties} of those of `ids` that already exist as `label` (one indexed
    lookup per 5000 keys)."""
    out: dict[str, dict[str, Any]] = {}
    for i in range(0, len(ids), 5000):
        for r in store.read(f"epcis.existing_{label.lower()}", keys=ids[i:i + 5000]):
            out[r["id"]] = r.get("p") or {}
    return out


def unchanged(stored: dict[str, Any], props: dict[str, Any]) -> bool:
    """Would `SET n += props` leave a node with `stored` properties as it is? Values must be
    equal AND of the same type (1 and 1.0 are equal in Python, not in the graph); a None removes
    a property, so it is unchanged only where the property is absent."""
    for k, v in props.items():
        if v is None:
            if stored.get(k) is not None:
                return False
            continue
        was = stored.get(k)
        if type(was) is not type(v) or was != v:
            return False
    return True


@dataclass
class Split:
    """Which rows of a layout are staged (the island of new nodes) and which go to the commit log,
    decided on keys alone, so each step's rows can be made when it is written."""

    lay: Layout
    new: set[NodeKey]
    source: str
    chunk: int
    #: existing nodes the events state nothing new about: no commit step (a packaging line's
    #: every event names the same batch and product)
    same: set[NodeKey] = field(default_factory=set)

    def _keep(self, name: str, staged: bool) -> Keep:
        """Which rows of step `name` (without `epcis.`) go to that side: a filter on the node
        or edge key; None: every row (steps only logged, asked for the log)."""
        new, same = self.new, self.same
        if name.startswith("upsert_"):
            if staged:
                return lambda key: key in new
            return (lambda key: key not in new and key not in same) if same else (lambda key: key not in new)
        if _logged_only(name):
            return (lambda _k: False) if staged else None

        def both_new(ekey: Any) -> bool:
            return (ekey[1], ekey[2]) in new and (ekey[3], ekey[4]) in new

        return both_new if staged else (lambda ekey: not both_new(ekey))

    def chunks(self, staged: bool) -> Iterator[Step]:
        """The steps of one side in write order, `chunk` rows each, made as they are asked for
        (the rows of `split_new`'s lists, in the same order)."""
        source, chunk = self.source, self.chunk
        for q, _n, rows in self.lay.steps():
            name = q.removeprefix("epcis.")
            if staged and _logged_only(name):
                continue
            upsert, edge = name.startswith("upsert_"), not _logged_only(name) and not name.startswith("upsert_")
            buf: list[dict[str, Any]] = []
            for r in rows(self._keep(name, staged)):
                if upsert:
                    r["src"] = source
                elif edge:
                    del r["fl"], r["tl"]
                buf.append(r)
                if len(buf) >= chunk:
                    yield Step(name, buf)
                    buf = []
            if buf:
                yield Step(name, buf)

    def count(self, staged: bool) -> int:
        """How many steps `chunks(staged)` gives, from the keys alone."""
        out = 0
        for q, n, _rows in self.lay.steps():
            name = q.removeprefix("epcis.")
            keep = self._keep(name, staged)
            if keep is None:
                k = n
            elif name.startswith("upsert_"):
                k = sum(1 for key in self.lay.nodes[_label_of(name)] if keep(key))
            elif _logged_only(name):
                k = 0
            else:
                k = sum(1 for e in self.lay.edges[q][1] if keep(e))
            out += -(-k // self.chunk)
        return out


def _logged_only(name: str) -> bool:
    """Steps that always go to the commit log: they change what existed before the import."""
    return name in ("unpack", "retract") or name.startswith(("retype_", "absorb_", "unlink_"))


def _label_of(name: str) -> str:
    return next(lb for lb in NODE_ORDER if lb.lower() == name.removeprefix("upsert_"))


def decide(store: GraphStore, mapped: Mapped, source: str, chunk: int = CHUNK) -> Split:
    """Which of the mapped nodes are new (one indexed lookup per label and 5000 keys), the
    counts, and the status rule (no quarantine lift / batch release by an EPCIS event)."""
    lay = Layout.of(mapped)
    res = lay.res
    stageable = _stageable()
    new: set[NodeKey] = set()
    same: set[NodeKey] = set()
    status_writes: dict[str, dict[str, Any]] = {}
    for label, keys in lay.nodes.items():
        have = existing_props(store, label, [k[1] for k in keys])
        writes: dict[str, Any] = {}
        for key in keys:
            stored = have.get(key[1])
            if stored is not None:
                props = mapped.split(key)[1]
                if "status" in props:
                    writes[key[1]] = props["status"]
                if unchanged(stored, props):
                    same.add(key)
            elif label in stageable:
                new.add(key)
        status_writes[label] = writes
        res.existing_nodes[label] = len(have)
        res.new_nodes[label] = len(keys) - len(have)
    from tracegraph.engine.status_policy import check_status_writes

    check_status_writes(store, status_writes)
    sp = Split(lay, new, source, chunk, same)
    res.unchanged_nodes = len(same)
    res.staged_steps, res.logged_steps = sp.count(True), sp.count(False)
    return sp


def split_new(store: GraphStore, mapped: Mapped, source: str, chunk: int = CHUNK
              ) -> tuple[list[Step], list[Step], WriteResult]:
    """(staging steps, commit-log steps, counts): the island of new ERP-label nodes (and edges
    between them) is staged; everything touching existing data or EPCIS-only labels is logged.
    All rows at once (a dry run, tests); `write` makes them a chunk at a time (`decide`)."""
    sp = decide(store, mapped, source, chunk)
    return list(sp.chunks(True)), list(sp.chunks(False)), sp.lay.res


def _digest(rows: Any) -> str:
    return hashlib.sha256(json.dumps(rows, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                                     default=str).encode("utf-8")).hexdigest()


def _writer_class() -> type:
    """The runner's `ImportWriter`, with every audit entry of an EPCIS run under action `import`
    (the EPCIS audit contract since the first version) and all changes as summaries."""
    from tracegraph.engine.imports.runner import ImportWriter

    class EpcisWriter(ImportWriter):
        def _spec(self, action: str, changes: list[Change], reason: str = "") -> AuditSpec:
            summary = [Change("step", None, action, state=False)]
            summary += [Change(c.field, c.old, c.new, state=False) for c in changes]
            return AuditSpec(action="import", target_label="ImportRun", target_key=self.import_id,
                             changes=summary, reason=reason)

    return EpcisWriter


def write(store: GraphStore, mapped: Mapped, actor: Actor, *, source: str, clock: Clock | None = None,
          import_id: str | None = None, progress: Progress | Callable[[int, int], None] | None = None,
          files: list[Any] | None = None, chunk: int = CHUNK, recover: bool = True,
          release: bool = False) -> WriteResult:
    """Write everything in `mapped` as one all-or-nothing ImportRun (see the module docstring).

    With `release`, the mapped nodes and edges are dropped (Mapped.release) once staged and
    logged, before the commit: the containment derivation after it then reuses their memory
    instead of adding to it (docs/perf.md, memory of a whole EPCIS import).

    `progress` is either the runner's (phase, done, total) or the older (done, total). With
    `recover` (default) an unfinished import left by a dead process is first rolled back or
    finished, as `run_import` does. Raises Conflict while another import holds the lock.
    """
    from tracegraph.engine.imports import runner as imp

    clock = clock or SystemClock()
    if recover:
        recover_unfinished(store, actor, clock=clock)
    sp = decide(store, mapped, source, chunk)
    res = sp.lay.res
    res.import_id = import_id or imp.new_import_id(clock)
    prog = _adapt(progress)
    w = _writer_class()(store, actor, clock, res.import_id, chunk, prog)
    files = list(files or [])
    if not files:
        files = [imp.SourceFile.of_bytes(source, json.dumps(sorted(map(str, mapped.nodes))).encode("utf-8"))]
    w.steps_total = res.staged_steps + res.logged_steps
    _start(w, files, res)
    with w.undo_if_staging():
        # each step's rows are made when it is written and dropped after (Layout): the memory of
        # the write is the mapped facts and one step, not every row and log payload at once
        # made a step or two ahead by a thread of their own while the database writes (prefetch)
        for query, params, spec, sealer, n in ahead(_staging_steps(store, sp, w, source)):
            w._write(query, params, spec, sealer)
            w.items += n
            w._tick("stage")
        group: list[dict[str, Any]] = []
        size = 0
        for i, st in enumerate(sp.chunks(False)):
            payload = json.dumps(st.rows, separators=(",", ":"), ensure_ascii=False, default=str)
            group.append({"id": f"{res.import_id}#{i}", "seq": i, "query": f"epcis.tx_{st.query}", "kind": "rows",
                          "payload": payload, "count": len(st.rows), "changes": "[]"})
            size += len(payload)
            if len(group) >= LOG_GROUP or size >= LOG_GROUP_BYTES:
                _log_add(w, group, source)
                group, size = [], 0
        if group:
            _log_add(w, group, source)
        del sp, group  # the layout's key lists and the new-node set are not needed by the commit
        containers, recheck = set(mapped.containers), set(mapped.retract.get("recheck") or ())
        if release:  # everything is in the graph or the log now
            mapped.release()
        # contents follow their containers before the run counts as committed (runner.derive_contents)
        derived: list[int] = []
        w.commit(then=lambda: derived.append(_derive(store, actor, containers, res, clock, prog, recheck)))
    res.audit_entries = w.entries + sum(derived)
    return res


def _staging_steps(store: GraphStore, sp: Split, w: Any, source: str
                   ) -> Iterator[tuple[str, dict[str, Any], AuditSpec, Sealer | None, int]]:
    """The staging statements of a run: query, parameters, audit spec, sealer and row count of
    each, in write order. The seals of CREATEd steps are computed here (they read nothing:
    merge_sealer's `staged`), and on FalkorDB the rows' literal is written here as well; a step
    whose seals need the graph keeps its sealer (and its rows) for the writer."""
    encode = getattr(store, "pre_encode", None)  # FalkorDB: the rows' literal made here too
    for st in sp.chunks(True):
        created = st.query.startswith(STAGED_PREFIXES)
        query = f"epcis.{'stage' if created else 'tx'}_{st.query}"
        spec = w._spec("import.stage", [Change("query", None, st.query), Change("rows", None, len(st.rows)),
                                        Change("sha256", None, _digest(st.rows)), Change("source", None, source)])
        sealer = merge_sealer(store, query, st.rows, staged=True)
        if sealer is not None and created:
            made = sealer()
            if encode is not None:
                made = ({k: encode(v) for k, v in made[0].items()}, made[1], made[2])
            sealer = partial(_given_seals, made)
        n, rows = len(st.rows), st.rows
        if sealer is None and encode is not None:
            rows = encode(rows)
        yield query, {"rows": rows, "phase": "staging", "pending_id": None}, spec, sealer, n


def _given_seals(made: Any) -> Any:
    return made


def _derive(store: GraphStore, actor: Actor, containers: set[str], res: WriteResult, clock: Clock,
            progress: Any, recheck: set[str] | None = None) -> int:
    """Derive what the run's containers did to their contents; the audit entries written."""
    if not containers:
        return 0
    from tracegraph.engine.imports import containment

    d = containment.derive(store, actor, containers, import_id=res.import_id, clock=clock, progress=progress,
                           recheck=recheck)
    res.derived = d.ships + d.returns
    return -(-d.items // containment.CHUNK) if d.items else 0


def _adapt(progress: Any) -> Progress | None:
    if progress is None:
        return None
    import inspect

    try:
        n = len(inspect.signature(progress).parameters)
    except (TypeError, ValueError):
        n = 3
    if n >= 3:
        return progress  # type: ignore[no-any-return]
    return lambda phase, done, total: progress(done, total)


def _start(w: Any, files: list[Any], res: WriteResult) -> None:
    """The runner's start statement (lock + ImportRun), with the EPCIS counts."""
    import os
    import socket

    from tracegraph.engine.errors import ImportBusy, NotFound
    from tracegraph.engine.imports.runner import unfinished_imports

    counts = {label: {"new": res.new_nodes.get(label, 0), "changed": res.existing_nodes.get(label, 0),
                      "unchanged": 0} for label in res.nodes}
    counts.update({f"edge:{k}": {"new": v, "changed": 0, "unchanged": 0} for k, v in res.edges.items()})
    run = {
        "id": w.import_id, "status": "staging", "result": None, "actor": w.actor.id, "actor_name": w.actor.name,
        "started_at": iso(w.clock.now()), "format": "epcis",
        "files": json.dumps([f.model_dump() for f in files], sort_keys=True),
        "counts": json.dumps(counts, sort_keys=True), "pid": os.getpid(), "host": socket.gethostname(),
        "steps_total": w.steps_total, "steps_done": 0,
    }
    changes = [Change("files", None, [f"{f.name} sha256:{f.sha256}" for f in files]),
               Change("counts", None, counts)]
    try:
        w._write("imports.run_start", {"run": run}, w._spec("import.start", changes))
    except NotFound:
        holder = unfinished_imports(w.store)
        raise ImportBusy(
            "another import holds the import lock" + (f" ({holder[0].id}, {holder[0].status})" if holder else ""),
            hint="wait for it, or resume/roll it back with `tracegraph import --resume/--rollback ID`",
        ) from None
    w.phase = "staging"


def _log_add(w: Any, group: list[dict[str, Any]], source: str) -> None:
    summary = [Change("commit steps", None, [{"seq": s["seq"], "query": s["query"], "rows": s["count"],
                                              "sha256": hashlib.sha256(s["payload"].encode("utf-8")).hexdigest()}
                                             for s in group]),
               Change("source", None, source)]
    w._write("imports.log_add", {"steps": group}, w._spec("import.stage", summary))


# ---------------------------------------------------------------------------------------
# Dead runs. The runner's rollback_import/resume_import work on EPCIS runs as they are; these
# do the same with the EPCIS writer, whose audit entries are all `state: false` summaries (the
# runner's rollback records "<Label> removed" counts as if they were ImportRun fields, which
# `audit verify` then reports as mismatches).
# ---------------------------------------------------------------------------------------


def is_epcis_run(store: GraphStore, import_id: str) -> bool:
    rows = store.read("imports.run_get", import_id=import_id)
    return bool(rows) and dict(rows[0]["run"]).get("format") == "epcis"


def rollback_run(store: GraphStore, import_id: str, actor: Actor, *, clock: Clock | None = None,
                 progress: Progress | None = None) -> ImportReport:
    """`rollback_import` for an EPCIS run: delete its island and its log (graph as before)."""
    import time

    from tracegraph.engine.errors import Conflict
    from tracegraph.engine.imports import runner as imp

    info = imp.get_import(store, import_id)
    if info.status in ("rolled_back", "failed"):
        return imp.ImportReport(import_id=import_id, status=info.status, message="already rolled back")
    if info.status != "staging":
        raise Conflict(
            f"import {import_id} is {info.status}; only a run that is still staging can be rolled back",
            hint=("finish it with `tracegraph import --resume " + import_id + "`") if info.status == "committing"
            else "correct committed records with a new import",
        )
    if imp._process_alive(info):
        raise Conflict(f"import {import_id} is still running (pid {info.pid})", hint="stop that process first")
    t0 = time.perf_counter()
    w = _writer_class()(store, actor, clock or SystemClock(), import_id, imp.DEFAULT_CHUNK, progress)
    w.phase = "staging"
    w.rollback(result="rolled_back")
    return imp.ImportReport(import_id=import_id, status="rolled_back", seconds=time.perf_counter() - t0,
                            audit_entries=w.entries, message="staged records removed; the graph is as before")


def finish_run(store: GraphStore, import_id: str, actor: Actor, *, clock: Clock | None = None,
               progress: Progress | None = None) -> ImportReport:
    """`resume_import` for a committing EPCIS run: apply the rest of its log (graph as after)."""
    import time

    from tracegraph.engine.errors import Conflict
    from tracegraph.engine.imports import runner as imp

    info = imp.get_import(store, import_id)
    if info.status == "committed":
        return imp.ImportReport(import_id=import_id, status="committed", message="already committed")
    if info.status != "committing":
        raise Conflict(f"import {import_id} is {info.status}, not committing",
                       hint=f"roll it back with `--rollback {import_id}` or give the file to `--resume`")
    if imp._process_alive(info):
        raise Conflict(f"import {import_id} is still running (pid {info.pid})", hint="wait for it")
    t0 = time.perf_counter()
    w = _writer_class()(store, actor, clock or SystemClock(), import_id, imp.DEFAULT_CHUNK, progress)
    w.phase = "committing"
    # which containers it touched is not known now: all of them, before the run counts as committed
    w.commit(then=lambda: imp.derive_contents(store, actor, None, import_id=import_id, clock=clock,
                                              progress=progress), resumed=True)
    return imp.ImportReport(import_id=import_id, status="committed", seconds=time.perf_counter() - t0,
                            items_written=w.items, audit_entries=w.entries, message="commit finished")


def recover_unfinished(store: GraphStore, actor: Actor, *, clock: Clock | None = None,
                       progress: Progress | None = None) -> list[Any]:
    """The runner's automatic check before an import, EPCIS runs handled by the EPCIS writer:
    a dead staging run is rolled back, a dead committing run finished, a live one is a Conflict."""
    from tracegraph.engine.imports import runner as imp

    runs = imp.unfinished_imports(store)
    if any(not is_epcis_run(store, i.id) or imp._process_alive(i, other_hosts_alive=True) for i in runs):
        return imp.recover_unfinished(store, actor, clock=clock, progress=progress)  # ERP run, or a Conflict
    out = []
    for info in runs:
        if info.status == "committing":
            out.append(finish_run(store, info.id, actor, clock=clock, progress=progress))
        else:
            out.append(rollback_run(store, info.id, actor, clock=clock, progress=progress))
    return out


__all__ = ["WriteResult", "plan", "split_new", "write", "CHUNK", "is_epcis_run", "rollback_run", "finish_run",
           "recover_unfinished"]
