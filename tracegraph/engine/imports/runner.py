"""The import runner: the one way records (from an ERP bundle, EPCIS events, the generator)
enter the graph, all or nothing.

Loaders build an `ImportBatch` (lists of the pydantic records of engine/model.py) and call

    run_import(store, batch, actor, source_files=[...]) -> ImportReport

How "all or nothing" works without multi-statement transactions (FalkorDB has none):

1. plan (engine/imports/plan.py): validate the WHOLE batch (every problem reported, nothing
   written on failure) and sort records into new / changed / unchanged.
2. start: one audited statement takes the import lock and creates the `ImportRun` (status
   `staging`, files with SHA-256, counts, actor, pid).
3. stage: new nodes, and edges between two new nodes, are written in chunks (each chunk one
   audited statement, tagged `import_id`). New nodes form an island: no edge joins them to
   existing nodes yet, so a trace started from existing data cannot reach them. Everything
   that touches existing data (changed properties, edges between existing nodes or between
   a new and an existing node) is only written to a log of `ImportPending` nodes.
4. commit: one statement flips the run to `committing`: from here the import is decided.
   The logged steps are applied in order (each one audited statement that also marks its
   log entry done, so a step is never applied twice), then the run is `committed` and the
   lock released.

A process killed while staging leaves a `staging` run: `rollback_import` (or the automatic
check at the next import) deletes every node tagged with its id (their edges go with them)
and the log. A process killed while committing leaves a `committing` run: `resume_import`
(or the automatic check) applies the remaining log steps; no input is needed. Resuming a
`staging` run restarts its staging from the input (same files, checked by SHA-256).

Re-importing the same records changes nothing (keys are compared before writing). Changed
existing records are written with before/after values in the audit entry of their chunk.

Why this module is long: the staged island, the committing flip, the pending log, resume and
rollback are one crash-safety protocol; each step's correctness depends on the others' order, so
they are kept side by side where one reader can check the protocol (the planner and the batch
model are already apart).
"""

from __future__ import annotations

import builtins
import contextlib
import gc
import hashlib
import json
import os
import socket
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from tracegraph import queries
from tracegraph.engine.audit.chain import Actor, AuditSpec, Change, audited_write
from tracegraph.engine.audit.seals import (
    LEDGER_FIELD,
    NODE_FIELDS,
    Ledger,
    edge_prefix,
    edge_seal,
    enc,
    kept_extra,
    node_fields,
    node_seal,
    seal_of_line,
    with_ledger,
)
from tracegraph.engine.clock import Clock, SystemClock, iso
from tracegraph.engine.errors import Conflict, DatabaseError, ImportBusy, NotFound, ValidationFailed
from tracegraph.engine.imports.batch import ImportBatch
from tracegraph.engine.imports.merge_seals import Sealer, merge_sealer
from tracegraph.engine.imports.plan import Plan, plan_import, triple_name
from tracegraph.engine.imports.turns import is_running_here, running, turn
from tracegraph.engine.model import (
    EDGE_PROPS,
    EDGE_TRIPLES,
    NODE_TYPES,
    EdgeRow,
    Label,
    NodeRecord,
    SerialRecord,
)
from tracegraph.engine.stores.base import GraphStore

#: wire format of a staging chunk: one string, records separated by RS, fields by US (both are
#: rejected in input text), split server-side. Far faster than a list of maps, which the
#: FalkorDB client sends as Cypher literal text.
RS, US = "\x1e", "\x1f"
#: group separator (also rejected in input text) for blobs grouped by a shared endpoint
GS = "\x1d"
DEFAULT_CHUNK = 100_000
#: an import that wrote at least this many items, and every rollback, compacts the database's
#: log afterwards (FalkorDB: BGREWRITEAOF), so a restart does not replay every staged chunk
COMPACT_AFTER_ITEMS = 50_000
#: node labels an import may stage that are not sealed record types: the nodes of stored EPCIS
#: events (loaders/epcis_write.py stages new ones with `import_id`, like the record labels). The
#: rollback deletes them by `import_id` too; DETACH DELETE takes their CONCERNS edges with them.
UNSEALED_STAGED = (Label.EPCIS_EVENT.value, Label.LOCATION.value, Label.BUSINESS_TRANSACTION.value)
#: every label the rollback removes a dead staging run's nodes of (the record labels first)
STAGED_LABELS: tuple[str, ...] = (*NODE_FIELDS, *UNSEALED_STAGED)

#: progress(phase, done, total): phase is "stage", "commit" or "rollback"; done/total in steps
Progress = Callable[[str, int, int], None]


# ---------------------------------------------------------------------------------------
# The interface loaders use
# ---------------------------------------------------------------------------------------


class SourceFile(BaseModel):
    """One input file of an import, identified by its SHA-256 (recorded on the ImportRun)."""

    name: str
    sha256: str
    rows: int = 0
    bytes: int = 0

    @classmethod
    def of_path(cls, path: Path, *, rows: int = 0, name: str | None = None) -> SourceFile:
        h = hashlib.sha256()
        size = 0
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
                size += len(block)
        return cls(name=name or path.name, sha256=h.hexdigest(), rows=rows, bytes=size)

    @classmethod
    def of_bytes(cls, name: str, data: builtins.bytes, *, rows: int = 0) -> SourceFile:
        return cls(name=name, sha256=hashlib.sha256(data).hexdigest(), rows=rows, bytes=len(data))


class TypeCounts(BaseModel):
    new: int = 0
    changed: int = 0
    unchanged: int = 0


class ImportReport(BaseModel):
    """What an import did (or, with dry_run, would do)."""

    import_id: str
    status: str  # dry_run | committed | rolled_back | failed
    dry_run: bool = False
    counts: dict[str, TypeCounts] = Field(default_factory=dict)  # by record type and "edge:TYPE"
    files: list[SourceFile] = Field(default_factory=list)
    items_written: int = 0
    audit_entries: int = 0
    seconds: float = 0.0
    items_per_s: float = 0.0
    changes: list[dict[str, Any]] = Field(default_factory=list)  # sample of before/after changes
    message: str = ""


class ImportRunInfo(BaseModel):
    """An ImportRun node as stored."""

    id: str
    status: str
    result: str | None = None
    actor: str = ""
    started_at: str = ""
    finished_at: str | None = None
    files: list[dict[str, Any]] = Field(default_factory=list)
    counts: dict[str, Any] = Field(default_factory=dict)
    pid: int | None = None
    host: str | None = None
    steps_done: int = 0
    steps_total: int = 0
    error: str | None = None


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector for a bulk step.

    A large import holds millions of live objects (records, refs, edge rows); every full
    collection walks all of them, and the allocations of planning trigger many: measured, a
    third to 40% of planning and parsing time. Records form no reference cycles, so plain
    reference counting still frees everything; the collector is restored (and run once by
    the interpreter later, as usual) when the step ends."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def run_import(
    store: GraphStore,
    batch: ImportBatch,
    actor: Actor,
    *,
    source_files: list[SourceFile],
    dry_run: bool = False,
    progress: Progress | None = None,
    clock: Clock | None = None,
    chunk_size: int = DEFAULT_CHUNK,
    import_id: str | None = None,
    recover: bool = True,
) -> ImportReport:
    """Validate `batch` completely, then write it all or nothing (see the module docstring).

    Raises ValidationFailed (every problem, nothing written), Conflict (another import is
    running). With `dry_run` only validates and reports new/changed/unchanged counts. With
    `recover` (default) an unfinished import left by a dead process is first rolled back
    (staging) or finished (committing).
    """
    with turn(), gc_paused():  # one import at a time in this process (turns.py)
        return _run_import(store, batch, actor, source_files=source_files, dry_run=dry_run, progress=progress,
                           clock=clock, chunk_size=chunk_size, import_id=import_id, recover=recover)


def _run_import(
    store: GraphStore, batch: ImportBatch, actor: Actor, *, source_files: list[SourceFile], dry_run: bool,
    progress: Progress | None, clock: Clock | None, chunk_size: int, import_id: str | None, recover: bool,
) -> ImportReport:
    clock = clock or SystemClock()
    t0 = time.perf_counter()
    if recover and not dry_run:
        recover_unfinished(store, actor, clock=clock, progress=progress)
    plan = plan_import(store, batch)
    from tracegraph.engine.status_policy import check_import_changes

    check_import_changes(plan.changed_nodes)  # no release / quarantine lift / lifecycle move by import
    import_id = import_id or new_import_id(clock)
    report = ImportReport(import_id=import_id, status="dry_run" if dry_run else "running", dry_run=dry_run,
                          counts={k: TypeCounts(**v) for k, v in plan.counts().items() if any(v.values())},
                          files=source_files)
    report.changes = _sample_changes(plan)
    if dry_run:
        report.seconds = time.perf_counter() - t0
        return report
    writer = ImportWriter(store, actor, clock, import_id, chunk_size, progress)
    writer.start(source_files, plan)
    touched = touched_containers(batch)
    derived: list[int] = []
    with writer.undo_if_staging():
        writer.stage(plan)
        # contents follow their containers (engine/imports/containment.py) before the run is
        # committed, so a crash in between leaves it `committing` and recovery derives again
        writer.commit(then=lambda: derived.append(derive_contents(store, actor, touched, import_id=import_id,
                                                                   clock=clock, progress=progress)))
    if writer.items >= COMPACT_AFTER_ITEMS:
        compact_log(store)
    report.status = "committed"
    report.items_written = writer.items
    report.audit_entries = writer.entries + sum(derived)
    report.seconds = time.perf_counter() - t0
    report.items_per_s = report.items_written / report.seconds if report.seconds > 0 else 0.0
    return report


# ---------------------------------------------------------------------------------------
# Runs: list, recover, resume, rollback
# ---------------------------------------------------------------------------------------


def derive_contents(store: GraphStore, actor: Actor, touched: set[str] | None, *, import_id: str,
                    clock: Clock | None, progress: Progress | None = None) -> int:
    """Let the contents of the `touched` containers follow them (all containers when None: a run
    finished from its log, where what it touched is no longer known); the audit entries written.

    Called while the run is still `committing`: an import is committed only once its containers'
    contents are derived, so a crash between the two is finished by recovery like any other."""
    from tracegraph.engine.imports import containment

    if touched is None:
        d = containment.derive_all(store, actor, import_id=import_id, clock=clock, progress=progress)
    elif touched:
        d = containment.derive(store, actor, touched, import_id=import_id, clock=clock, progress=progress)
    else:
        return 0
    return -(-d.items // containment.CHUNK) if d.items else 0


def touched_containers(batch: ImportBatch) -> set[str]:
    """Containers whose contents an import may have moved: described, packed or unpacked,
    shipped or returned by it."""
    out = {c.id for c in batch.containers} | {c.parent_id for c in batch.containers if c.parent_id}
    out |= {p.container_id for p in batch.packing} | {p.child_id for p in batch.packing if p.child_kind == "container"}
    out |= {x.item_id for x in [*batch.shipment_lines, *batch.returns] if x.item_kind == "container"}  # type: ignore[attr-defined]  # both record types carry item_kind/item_id
    return out


def new_import_id(clock: Clock | None = None) -> str:
    now = (clock or SystemClock()).now()
    return f"imp-{now.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:6]}"


def _info(row: dict[str, Any]) -> ImportRunInfo:
    r = dict(row["run"])
    for k in ("files", "counts"):
        try:
            r[k] = json.loads(r.get(k) or ("[]" if k == "files" else "{}"))
        except ValueError:
            r[k] = [] if k == "files" else {}
    return ImportRunInfo.model_validate({k: v for k, v in r.items() if k in ImportRunInfo.model_fields})


def list_imports(store: GraphStore, *, limit: int = 50) -> list[ImportRunInfo]:
    """Recent ImportRuns, newest first."""
    return [_info(r) for r in store.read("imports.run_list", limit=limit)]


def get_import(store: GraphStore, import_id: str) -> ImportRunInfo:
    rows = store.read("imports.run_get", import_id=import_id)
    if not rows:
        raise NotFound(f"no import with id {import_id!r}", hint="list imports with `tracegraph import --list`")
    return _info(rows[0])


def unfinished_imports(store: GraphStore) -> list[ImportRunInfo]:
    return [_info(r) for r in store.read("imports.run_unfinished")]


def staging_ids(store: GraphStore) -> list[str]:
    """Ids of the runs still staging (at most one: the import lock). What they staged is not in the
    graph yet for readers that scan a label (a dead one is rolled back before the next import, a
    live one decided by its commit): EPCIS event reads leave their events out (`$staging`)."""
    return [i.id for i in unfinished_imports(store) if i.status == "staging"]


def _process_alive(info: ImportRunInfo, *, other_hosts_alive: bool = False) -> bool:
    """Is the process that runs this import still there? A run started on another host cannot
    be checked from here: the automatic recovery leaves it alone (`other_hosts_alive`), an
    operator's explicit --rollback/--resume may take it over."""
    if info.host != socket.gethostname():
        return other_hosts_alive
    if not info.pid:
        return False
    if info.pid == os.getpid():  # this process: alive while one of its threads runs it (turns.py)
        return is_running_here(info.id)
    try:
        os.kill(info.pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{info.pid}/stat", encoding="ascii") as fh:
            return fh.read().split(") ", 1)[1][0] != "Z"
    except OSError:
        return True


def recover_unfinished(
    store: GraphStore, actor: Actor, *, clock: Clock | None = None, progress: Progress | None = None
) -> list[ImportReport]:
    """The automatic check before every import: an unfinished run whose process is gone is
    rolled back (it was staging) or finished (it was committing). A live one is a Conflict."""
    out = []
    for info in unfinished_imports(store):
        if _process_alive(info, other_hosts_alive=True):
            raise ImportBusy(
                f"import {info.id} is still running (pid {info.pid} on {info.host}, started {info.started_at})",
                hint="wait for it to finish, or stop that process and run `tracegraph import --rollback "
                     f"{info.id}`",
            )
        if info.status == "committing":
            out.append(resume_import(store, info.id, actor, clock=clock, progress=progress))
        else:
            out.append(rollback_import(store, info.id, actor, clock=clock, progress=progress))
    return out


def rollback_import(
    store: GraphStore, import_id: str, actor: Actor, *, clock: Clock | None = None,
    progress: Progress | None = None,
) -> ImportReport:
    """Undo an import that never reached its commit: delete its staged nodes (their edges go
    with them) and its log. A committing or committed import cannot be rolled back."""
    info = get_import(store, import_id)
    if info.status in ("rolled_back", "failed"):
        return ImportReport(import_id=import_id, status=info.status, message="already rolled back")
    if info.status != "staging":
        raise Conflict(
            f"import {import_id} is {info.status}; only a run that is still staging can be rolled back",
            hint=("finish it with `tracegraph import --resume " + import_id + "`") if info.status == "committing"
            else "correct committed records with a new import",
        )
    if _process_alive(info):
        raise Conflict(f"import {import_id} is still running (pid {info.pid})", hint="stop that process first")
    w = ImportWriter(store, actor, clock or SystemClock(), import_id, DEFAULT_CHUNK, progress)
    w.phase = "staging"
    t0 = time.perf_counter()
    w.rollback(result="rolled_back")
    return ImportReport(import_id=import_id, status="rolled_back", seconds=time.perf_counter() - t0,
                        audit_entries=w.entries, message="staged records removed; the graph is as before")


def resume_import(
    store: GraphStore, import_id: str, actor: Actor, *, batch: ImportBatch | None = None,
    source_files: list[SourceFile] | None = None, clock: Clock | None = None, progress: Progress | None = None,
    chunk_size: int = DEFAULT_CHUNK,
) -> ImportReport:
    """Finish an interrupted import. A `committing` run applies its remaining logged steps (no
    input needed). A `staging` run is restarted from `batch`, whose files must have the
    SHA-256 recorded on the run."""
    clock = clock or SystemClock()
    info = get_import(store, import_id)
    t0 = time.perf_counter()
    if info.status == "committed":
        return ImportReport(import_id=import_id, status="committed", message="already committed")
    if info.status in ("rolled_back", "failed"):
        raise Conflict(f"import {import_id} was rolled back; import the files again")
    if _process_alive(info):
        raise Conflict(f"import {import_id} is still running (pid {info.pid})", hint="wait for it")
    if info.status == "committing":
        w = ImportWriter(store, actor, clock, import_id, chunk_size, progress)
        w.phase = "committing"
        derived = []  # which containers it touched is not known now: all of them
        w.commit(then=lambda: derived.append(derive_contents(store, actor, None, import_id=import_id, clock=clock,
                                                              progress=progress)), resumed=True)
        return ImportReport(import_id=import_id, status="committed", seconds=time.perf_counter() - t0,
                            items_written=w.items, audit_entries=w.entries + sum(derived),
                            message="commit finished")
    # staging: restart from the same input
    if batch is None or source_files is None:
        raise ValidationFailed(
            f"import {import_id} stopped while staging; resuming it needs the same input files",
            hint=f"run `tracegraph import PATH --resume {import_id}`, or `--rollback {import_id}`",
        )
    recorded = sorted((f.get("name"), f.get("sha256")) for f in info.files)
    given = sorted((f.name, f.sha256) for f in source_files)
    if recorded != given:
        raise Conflict(
            f"the files given are not the files of import {import_id} (SHA-256 differs)",
            hint=f"give the original files, or roll it back with `--rollback {import_id}`",
        )
    rollback_import(store, import_id, actor, clock=clock, progress=progress)
    rep = run_import(store, batch, actor, source_files=source_files, clock=clock, progress=progress,
                     chunk_size=chunk_size, recover=False)
    rep.message = f"restarted staging of {import_id} as {rep.import_id}"
    return rep


# ---------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------


class KeyedChange(Change):
    """A field change of one record: the audit entry names which record."""

    def __init__(self, key: str, field: str, old: Any, new: Any) -> None:
        super().__init__(field, old, new)
        self.key = key

    def to_dict(self) -> dict[str, Any]:
        # the change is about another record than the entry's target (the ImportRun): verify
        # must not compare it with the ImportRun's properties (state=False)
        return {"key": self.key, "field": self.field, "old": self.old, "new": self.new, "state": False}



def _node_blob(label: str, recs: list[NodeRecord], ledger: Ledger | None = None) -> str:
    """RS-separated lines: the record's sealed line (engine/audit/seals.py), its import hash, its seal."""
    fields = NODE_FIELDS[label]
    out = []
    for rec in recs:
        p = rec.props()
        line = US.join([enc(p.get(f), k) for f, k in fields])
        seal = seal_of_line(label, line)
        if ledger is not None:
            ledger.add(seal)
        out.append(line + US + rec.content_hash(p) + US + seal)
    return RS.join(out)


_PRODUCED = ("Batch", "PRODUCED", "Serial")
_SERIAL_OF = ("Serial", "OF", "Product")


def _linked_serial_blob(recs: list[NodeRecord], ledger: Ledger | None = None) -> str:
    """Serials grouped by (batch, product): groups joined by GS, each `batch US product` then the
    serial lines (as `_node_blob`, then the seals of its PRODUCED and OF edges), joined by RS.
    Input order is kept within a group."""
    fields = NODE_FIELDS["Serial"]
    groups: dict[tuple[str, str], list[str]] = {}
    pre_p, pre_o = edge_prefix(_PRODUCED), edge_prefix(_SERIAL_OF)
    for rec in recs:
        p = rec.props()
        line = US.join([enc(p.get(f), k) for f, k in fields])
        sid, bid, pid = p["id"], p["batch_id"], p["product_id"]
        seals = (seal_of_line("Serial", line), seal_of_line(pre_p, bid + US + sid), seal_of_line(pre_o, sid + US + pid))
        if ledger is not None:
            ledger.add_all(seals)
        line = US.join([line, rec.content_hash(p), *seals])
        key = (bid, pid)
        got = groups.get(key)
        if got is None:
            groups[key] = got = [US.join(key)]
        got.append(line)
    return GS.join(RS.join(lines) for lines in groups.values())


def _edge_blob(t: tuple[str, str, str], edges: list[EdgeRow], ledger: Ledger | None = None) -> str:
    """RS-separated lines: from key, to key, the edge's properties, then its seal."""
    props = EDGE_PROPS[t[1]]
    prefix = edge_prefix(t)
    out = []
    for e in edges:
        line = US.join([e.frm.key, e.to.key, *(enc(e.props.get(p), k) for p, k in props)])
        seal = seal_of_line(prefix, line)
        if ledger is not None:
            ledger.add(seal)
        out.append(line + US + seal)
    return RS.join(out)


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class ImportWriter:
    """Runs the write steps of one import, each one audited statement."""

    def __init__(self, store: GraphStore, actor: Actor, clock: Clock, import_id: str, chunk: int,
                 progress: Progress | None) -> None:
        self.store, self.actor, self.clock, self.import_id = store, actor, clock, import_id
        self.chunk = max(1, chunk)
        self.progress = progress
        self.phase = "new"
        self.items = 0
        self.entries = 0
        self.steps_done = 0
        self.steps_total = 0

    def _tick(self, phase: str) -> None:
        self.steps_done += 1
        if self.progress:
            self.progress(phase, self.steps_done, self.steps_total)

    def _write(self, query: str, params: dict[str, Any], spec: AuditSpec, sealer: Sealer | None = None) -> None:
        """One audited statement. `sealer()`, called on every attempt after the head was read (so the
        compare-and-set proves nothing changed since), returns parameter updates (the new seals the
        statement stores), the (sealed_seq, seal) of the records it replaces or deletes, and the
        seals it adds; they go into the entry's seal ledger (engine/audit/seals.py)."""
        base = {"import_id": self.import_id, "now": iso(self.clock.now()), "rs": RS, "us": US}
        base.update(params)

        def prepare() -> tuple[dict[str, Any], AuditSpec]:
            if sealer is None:
                return base, spec
            upd, drops, adds = sealer()
            return {**base, **upd}, _with_drops(spec, drops, adds)

        audited_write(self.store, query, prepare, self.actor, clock=self.clock)
        self.entries += 1

    def _spec(self, action: str, changes: list[Change], reason: str = "") -> AuditSpec:
        # Only `status` is a property of the ImportRun node itself; the rest (files, counts, rows
        # created, chunk hashes, changed records) summarise the chunk, so audit verify must not
        # compare them with the node's properties.
        for c in changes:
            if c.field != "status":
                c.state = False
        return AuditSpec(action=action, target_label="ImportRun", target_key=self.import_id, changes=changes,
                         reason=reason)

    # -- start ------------------------------------------------------------------------
    def start(self, files: list[SourceFile], plan: Plan) -> None:
        n_stage = -(-len(plan.linked_serials) // self.chunk) + sum(
            -(-len(v) // self.chunk) for v in plan.new_nodes.values()) + sum(
            -(-len(v) // self.chunk) for v in plan.stage_edges.values())
        self.log = self._build_log(plan)
        self.steps_total = n_stage + len(self.log)
        run = {
            "id": self.import_id, "status": "staging", "result": None, "actor": self.actor.id,
            "actor_name": self.actor.name, "started_at": iso(self.clock.now()),
            "files": json.dumps([f.model_dump() for f in files], sort_keys=True),
            "counts": json.dumps(plan.counts(), sort_keys=True), "pid": os.getpid(), "host": socket.gethostname(),
            "steps_total": self.steps_total, "steps_done": 0,
        }
        changes = [Change("files", None, [f"{f.name} sha256:{f.sha256}" for f in files]),
                   Change("counts", None, plan.counts())]
        try:
            self._write("imports.run_start", {"run": run}, self._spec("import.start", changes))
        except NotFound:
            holder = unfinished_imports(self.store)
            raise ImportBusy(
                "another import holds the import lock" + (f" ({holder[0].id}, {holder[0].status})" if holder else ""),
                hint="wait for it, or resume/roll it back with `tracegraph import --resume/--rollback ID`",
            ) from None
        self.phase = "staging"

    def _build_log(self, plan: Plan) -> list[dict[str, Any]]:
        """The commit-phase steps (all touch existing data), persisted before the commit."""
        log: list[dict[str, Any]] = []
        for label, changes in plan.changed_nodes.items():
            for part in _chunked(changes, self.chunk):
                rows = [{"id": c.record.id, "props": c.after, "hash": c.record.content_hash(),
                         "seal": node_seal(label, {**c.record.props(), **kept_extra(label, c.before)})}
                        for c in part]
                ch: list[Change] = [KeyedChange(c.record.id, f"{label}.{k}", c.before.get(k), v) for c in part
                      for k, v in c.after.items()]
                ch.append(Ledger().add_all(r["seal"] for r in rows).change())
                log.append({"query": f"imports.patch_{label}", "kind": "rows", "payload": json.dumps(rows),
                            "count": len(rows), "changes": json.dumps([c.to_dict() for c in ch], default=str)})
        for t, edges in plan.commit_edges.items():
            for part in _chunked(edges, self.chunk):
                led = Ledger()
                blob = _edge_blob(t, part, led)
                ch = [Change(f"{t[1]} ({t[0]}->{t[2]}) created", None, len(part)), Change("rows_sha256", None, _sha(blob)),
                      led.change()]
                log.append({"query": f"imports.edge_{triple_name(t)}", "kind": "blob", "payload": blob,
                            "count": len(part), "changes": json.dumps([c.to_dict() for c in ch])})
        for t, echanges in plan.changed_edges.items():
            disc = _disc(t[1])
            for part in _chunked(echanges, self.chunk):
                rows = [{"a": c.edge.frm.key, "b": c.edge.to.key, "disc": c.edge.props.get(disc) if disc else None,
                         "props": c.after, "seal": edge_seal(t, c.edge.frm.key, c.edge.to.key, {**c.edge.props})}
                        for c in part]
                ch = [KeyedChange(f"{c.edge.frm.key}->{c.edge.to.key}", f"{t[1]}.{k}", c.before.get(k), v)
                      for c in part for k, v in c.after.items()]
                ch.append(Ledger().add_all(r["seal"] for r in rows).change())
                log.append({"query": f"imports.edgepatch_{triple_name(t)}", "kind": "rows", "payload": json.dumps(rows),
                            "count": len(rows), "changes": json.dumps([c.to_dict() for c in ch], default=str)})
        for i, step in enumerate(log):
            step["seq"] = i
            step["id"] = f"{self.import_id}#{i}"
        return log

    # -- stage ------------------------------------------------------------------------
    def stage(self, plan: Plan) -> None:
        for label, recs in plan.new_nodes.items():
            for part in _chunked(recs, self.chunk):
                led = Ledger()
                blob = _node_blob(label, part, led)
                changes = [Change(f"{label} created", None, len(part)), Change("rows_sha256", None, _sha(blob)),
                           led.change()]
                self._write(f"imports.create_{label}", {"blob": blob, "phase": "staging", "pending_id": None},
                            self._spec("import.stage", changes))
                self.items += len(part)
                self._tick("stage")
        for part in _chunked(plan.linked_serials, self.chunk):
            led = Ledger()
            blob = _linked_serial_blob(part, led)
            changes = [Change("Serial created with PRODUCED and OF", None, len(part)),
                       Change("rows_sha256", None, _sha(blob)), led.change()]
            self._write("imports.create_Serial_linked", {"blob": blob, "phase": "staging", "pending_id": None,
                                                         "gs": GS},
                        self._spec("import.stage", changes))
            self.items += 3 * len(part)
            self._tick("stage")
        for t, edges in plan.stage_edges.items():
            for part in _chunked(edges, self.chunk):
                led = Ledger()
                blob = _edge_blob(t, part, led)
                changes = [Change(f"{t[1]} ({t[0]}->{t[2]}) created", None, len(part)),
                           Change("rows_sha256", None, _sha(blob)), led.change()]
                self._write(f"imports.edge_{triple_name(t)}", {"blob": blob, "phase": "staging", "pending_id": None},
                            self._spec("import.stage", changes))
                self.items += len(part)
                self._tick("stage")
        # the commit log (what touches data that existed before the import), a few steps a statement
        for part in _chunked(self.log, 8):
            summary = [Change("commit steps", None, [st["seq"] for st in part]),
                       Change("rows_sha256", None, _sha("".join(st["payload"] for st in part)))]
            self._write("imports.log_add", {"steps": [{k: st[k] for k in ("id", "seq", "query", "kind", "payload",
                                                                           "count", "changes")} for st in part]},
                        self._spec("import.stage", summary))

    # -- commit -----------------------------------------------------------------------
    def commit(self, then: Callable[[], object] | None = None, *, resumed: bool = False) -> None:
        """Decide the run (staging -> committing, unless `resumed`), apply its log, run `then`
        (what must be done before the run counts as committed: the containers' contents), and
        finish it. A crash anywhere in here leaves it `committing` for recovery to finish."""
        if not resumed:
            self._write("imports.run_status", {"from_status": "staging", "to_status": "committing", "result": None,
                                               "error": None},
                        self._spec("import.commit", [Change("status", "staging", "committing")]))
        self.phase = "committing"
        self.apply_log()
        if then is not None:
            then()
        self.finish()

    def apply_log(self) -> None:
        rows = self.store.read("imports.log_list", import_id=self.import_id)
        self.steps_total = max(self.steps_total, self.steps_done + len(rows))
        for step in rows:
            if step["done"]:
                continue
            params: dict[str, Any] = {"phase": "committing", "pending_id": step["id"]}
            if step["kind"] == "blob":
                params["blob"] = step["payload"]
            else:
                params["rows"] = json.loads(step["payload"])
            ch = [_change_from_dict(d) for d in json.loads(step["changes"] or "[]")]
            try:
                self._write(step["query"], params, self._spec("import.commit", ch), self._replaced(step["query"], params))
            except NotFound:
                # matched nothing although the head did not move: fine only if an earlier attempt
                # (whose reply was lost) already applied this step and marked it done
                now = {r["id"]: r["done"] for r in self.store.read("imports.log_list", import_id=self.import_id)}
                if not now.get(step["id"]):
                    raise
            self.items += int(step["count"] or 0)
            self._tick("commit")

    def _replaced(self, query: str, params: dict[str, Any]) -> Sealer | None:
        """For a commit step that rewrites existing records: read their current seals."""
        if query.startswith("epcis.tx_"):  # an EPCIS step, also when another import finishes the run
            return merge_sealer(self.store, query, params["rows"])
        name = query.removeprefix("imports.")
        if name.startswith("patch_"):
            q = "imports.seals_" + name.removeprefix("patch_")
        elif name.startswith("edgepatch_"):
            q = "imports.edgeseals_" + name.removeprefix("edgepatch_")
        else:
            return None
        rows = params["rows"]
        return lambda: ({}, [(r["q"], r["s"]) for r in self.store.read(q, rows=rows)], [])

    def finish(self) -> None:
        info = get_import(self.store, self.import_id)
        if info.status == "committed":
            return
        self._write("imports.run_finish", {"finished_at": iso(self.clock.now()), "result": "committed",
                                           "steps_done": self.steps_done},
                    self._spec("import.finish", [Change("status", "committing", "committed")]))
        self.phase = "committed"

    # -- rollback ---------------------------------------------------------------------
    @contextlib.contextmanager
    def undo_if_staging(self) -> Iterator[None]:
        """Roll the run back when staging fails; a committing run is decided and is finished by
        resume/recover instead, never undone (nor is one interrupted by Ctrl-C/exit)."""
        try:
            with running(self.import_id):  # live while this thread runs it (turns.py)
                yield
        except BaseException as exc:
            if isinstance(exc, (KeyboardInterrupt, SystemExit)) or self.phase != "staging":
                raise
            try:
                self.rollback(result="failed", error=str(exc)[:2000])
            except Exception:
                pass
            raise

    def rollback(self, *, result: str, error: str | None = None) -> None:
        labels = list(STAGED_LABELS)
        self.steps_total = self.steps_done + len(labels)
        removed: list[str] = []
        for label in labels:
            while True:
                sync_labels(self.store)
                n = int(self.store.read(f"imports.staged_{label}", import_id=self.import_id)[0]["c"])
                if n == 0:
                    break
                take = min(n, self.chunk)
                picked = self.store.read(f"imports.rollback_pick_{label}", import_id=self.import_id, limit=take)
                gone: list[tuple[Any, Any]] = [(r["q"], r["s"]) for r in picked]
                seen: set[Any] = set()
                for r in picked:
                    for eid, es, eq in r["es"] or []:
                        if eid is not None and eid not in seen:
                            seen.add(eid)
                            gone.append((eq, es))
                ids = [r["id"] for r in picked]
                # the pick and the delete are separate statements, but only this (dead) run's staged
                # island is picked and nothing else writes it; a drifted pick shows as a ledger
                # problem in `audit verify`, never as a silent loss
                self._write(f"imports.rollback_{label}", {"ids": ids},
                            self._spec("import.rollback", [Change(f"{label} removed", None, len(ids))]),
                            _const(gone))
                if label not in removed:
                    removed.append(label)
            self._tick("rollback")
        self._write("imports.run_rollback", {"finished_at": iso(self.clock.now()), "result": result, "error": error},
                    self._spec("import.rollback", [Change("status", "staging", result)], reason=error or ""))
        self.phase = result
        if removed:
            check_no_ghosts(self.store, removed)
            compact_log(self.store)


def compact_log(store: GraphStore) -> None:
    """Ask the store to compact its write log, if it keeps one (FalkorDB's append-only file)."""
    compact = getattr(store, "compact_log", None)
    if callable(compact):
        compact()


def sync_labels(store: GraphStore) -> None:
    """Read one node of every imported label before bulk deletes. Works around a FalkorDB 4.16
    defect (FalkorDB issue #2103, reproduced here; docs/falkordb.md): nodes deleted while a
    label matrix still holds changes not yet synchronised (right after large creates) stay in
    that label's scan as "ghosts" without attributes, and every later query that scans the
    label and reads a property fails with "Attempted to access undefined attribute", also after
    a restart. A label scan synchronises the matrix; the deletes that follow are then complete."""
    for label in STAGED_LABELS:
        store.read(f"imports.sync_{label}")


def check_no_ghosts(store: GraphStore, labels: Iterable[str]) -> None:
    """Scan each label reading a property: raises at once, naming the label, if a deleted node
    is still visible (the defect `sync_labels` prevents), instead of failing a later import."""
    for label in labels:
        try:
            store.read(f"imports.ghosts_{label}")
        except DatabaseError as exc:
            if "undefined attribute" not in str(exc):
                raise
            raise DatabaseError(
                f"the database holds deleted {label} nodes that a label scan still finds (FalkorDB defect "
                "#2103 after a bulk delete)",
                hint="back up, then rebuild the graph from a backup or re-import (docs/falkordb.md)",
            ) from None


def _const(value: list[tuple[Any, Any]]) -> Sealer:
    return lambda: ({}, value, [])


def _with_drops(spec: AuditSpec, drops: list[tuple[Any, Any]], adds: list[str] | None = None) -> AuditSpec:
    """`spec` with the replaced seals (and any added ones) in its ledger change (created when it has none)."""
    led = Ledger()
    rest: list[Change] = []
    for c in spec.changes:
        if c.field == LEDGER_FIELD and isinstance(c.new, dict):
            led.n = int(c.new.get("n") or 0)
            led.total = int(str(c.new.get("sum") or "0"), 16)
        else:
            rest.append(c)
    for seq, seal in drops:
        led.drop(seq, seal)
    led.add_all(adds or [])
    return AuditSpec(action=spec.action, target_label=spec.target_label, target_key=spec.target_key,
                     changes=with_ledger(rest, led), reason=spec.reason)


def _change_from_dict(d: dict[str, Any]) -> Change:
    if "key" in d:
        return KeyedChange(d["key"], d["field"], d.get("old"), d.get("new"))
    return Change(d["field"], d.get("old"), d.get("new"), state=d.get("state", True))


def _chunked(seq: list[Any], n: int) -> Iterable[list[Any]]:
    for i in range(0, len(seq), n):
        yield seq[i:i + n]


def _disc(etype: str) -> str | None:
    from tracegraph.engine.model import EDGE_DISCRIMINATOR

    return EDGE_DISCRIMINATOR.get(etype)


def _sample_changes(plan: Plan, limit: int = 200) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for label, changes in plan.changed_nodes.items():
        for c in changes:
            for k, v in c.after.items():
                out.append({"label": label, "key": c.record.id, "field": k, "old": c.before.get(k), "new": v})
                if len(out) >= limit:
                    return out
    for t, echanges in plan.changed_edges.items():
        for ec in echanges:
            for k, v in ec.after.items():
                out.append({"label": t[1], "key": f"{ec.edge.frm.key}->{ec.edge.to.key}", "field": k,
                            "old": ec.before.get(k), "new": v})
                if len(out) >= limit:
                    return out
    return out


# ---------------------------------------------------------------------------------------
# Generated query files (static text derived from the model; `python -m
# tracegraph.engine.imports.runner` rewrites them, and a test checks they are current)
# ---------------------------------------------------------------------------------------


def _expr(i: int, kind: str, required: bool) -> str:
    x = f"f[{i}]"
    if kind == "f":
        return f"toInteger({x}) / 1000000.0"
    if kind == "i":
        return f"toInteger({x})"
    if kind == "b":
        return f"CASE {x} WHEN '' THEN null ELSE {x} = 't' END"
    return x if required else f"CASE {x} WHEN '' THEN null ELSE {x} END"


_PRELUDE = """//#include audit.guard
MATCH (run:ImportRun {id: $import_id}) WHERE run.status = $phase
OPTIONAL MATCH (pp:ImportPending {id: $pending_id})
WITH h, run, pp WHERE pp IS NULL OR pp.done = false
FOREACH (x IN CASE WHEN pp IS NULL THEN [] ELSE [pp] END | SET x.done = true)
WITH h, run"""

_TAIL = """WITH h, run, count(*) AS written
WITH h, [run] AS audit_targets
//#include audit.append"""

_HEADER = "// GENERATED by `python -m tracegraph.engine.imports.runner` from engine/model.py; do not edit.\n"


def _rollback_queries(label: str) -> dict[str, str]:
    """The queries the rollback of a staging run needs for one label (record or UNSEALED_STAGED)."""
    out: dict[str, str] = {}
    out[f"staged_{label}"] = (
        f"{_HEADER}// How many {label} nodes an import created (rollback counts down to zero).\n"
        f"MATCH (n:{label}) WHERE n.import_id = $import_id\nRETURN count(n) AS c\n")
    out[f"sync_{label}"] = (
        f"{_HEADER}// Read one {label} node: synchronises the label's matrix before bulk deletes (FalkorDB\n"
        f"// defect #2103; engine/imports/runner.sync_labels).\nMATCH (n:{label})\nRETURN n.id AS id\nLIMIT 1\n")
    out[f"ghosts_{label}"] = (
        f"{_HEADER}// Scan every {label} node reading a property: fails if a deleted node is still scanned\n"
        f"// (FalkorDB defect #2103; engine/imports/runner.check_no_ghosts).\nMATCH (n:{label})\n"
        f"RETURN count(n.id) AS c\n")
    out[f"rollback_{label}"] = (
        f"{_HEADER}// Delete up to $limit staged {label} nodes of a run that is still staging.\n"
        f"//#include audit.guard\nMATCH (run:ImportRun {{id: $import_id}}) WHERE run.status = 'staging'\n"
        f"UNWIND $ids AS k\nMATCH (n:{label} {{id: k}}) WHERE n.import_id = $import_id\nDETACH DELETE n\n"
        f"{_TAIL}\n")
    out[f"rollback_pick_{label}"] = (
        f"{_HEADER}// Up to $limit staged {label} nodes of a run, with the seals of their edges: what the next\n"
        f"// rollback statement deletes, so its audit entry can drop exactly those seals.\n"
        f"MATCH (n:{label}) WHERE n.import_id = $import_id\nWITH n LIMIT $limit\n"
        f"OPTIONAL MATCH (n)-[e]-()\n"
        f"RETURN n.id AS id, n.seal AS s, n.sealed_seq AS q, collect([id(e), e.seal, e.sealed_seq]) AS es\n")
    return out


def render_queries() -> dict[str, str]:
    """The per-label / per-edge-type import queries (Cypher has no parameterised labels)."""
    out: dict[str, str] = {}
    for label in UNSEALED_STAGED:
        out.update(_rollback_queries(label))
    for cls in NODE_TYPES.values():
        label = cls.LABEL
        out.update(_rollback_queries(label))
        fields = node_fields(cls)
        props = ",\n  ".join(f"{n}: {_expr(i, k, req)}" for i, (n, k, req) in enumerate(fields))
        props += f",\n  import_hash: f[{len(fields)}], seal: f[{len(fields) + 1}], sealed_seq: $audit_entry.seq"
        out[f"create_{label}"] = (
            f"{_HEADER}// Stage new {label} nodes from a RS/US-separated blob (fields in model order).\n{_PRELUDE}\n"
            f"UNWIND split($blob, $rs) AS line\nWITH h, run, split(line, $us) AS f\n"
            f"CREATE (n:{label} {{\n  {props},\n  created_at: $now, updated_at: $now, import_hash_at: $now, "
            f"source: $import_id, import_id: $import_id}})\n{_TAIL}\n")
        out[f"patch_{label}"] = (
            f"{_HEADER}// Commit-phase update of existing {label} nodes: only the changed properties.\n{_PRELUDE}\n"
            f"UNWIND $rows AS r\nMATCH (n:{label} {{id: r.id}})\n"
            f"SET n += r.props, n.updated_at = $now, n.last_import_id = $import_id, n.import_hash = r.hash,\n"
            f"    n.import_hash_at = $now, n.seal = r.seal, n.sealed_seq = $audit_entry.seq\n{_TAIL}\n")
        out[f"existing_{label}"] = (
            f"{_HEADER}// Which of these keys (one RS-separated string: far cheaper to send and parse than a\n"
            f"// list literal) exist as {label}; their import hash and whether it is still current.\n"
            f"UNWIND split($blob, $rs) AS k\nMATCH (n:{label} {{id: k}})\n"
            f"RETURN n.id AS id, n.import_hash AS h, n.import_hash_at = n.updated_at AS fresh\n")
        out[f"any_{label}"] = (
            f"{_HEADER}// Is there any {label} node at all? (A first load skips the per-key lookups.)\n"
            f"MATCH (n:{label})\nRETURN n.id AS id\nLIMIT 1\n")
        cols = ", ".join(f"n.{n} AS {n}" for n, _, _ in fields)
        out[f"props_{label}"] = (
            f"{_HEADER}// Modelled properties of these {label} nodes, as flat columns.\n"
            f"UNWIND $keys AS k\nMATCH (n:{label} {{id: k}})\nRETURN {cols}\n")
        out[f"seals_{label}"] = (
            f"{_HEADER}// The seals of these {label} nodes a commit step is about to replace.\n"
            f"UNWIND $rows AS r\nMATCH (n:{label} {{id: r.id}})\nRETURN n.seal AS s, n.sealed_seq AS q\n")
    sfields = node_fields(SerialRecord)
    sprops = ",\n  ".join(f"{n}: {_expr(i, k, req)}" for i, (n, k, req) in enumerate(sfields))
    n_s = len(sfields)
    sprops += f",\n  import_hash: f[{n_s}], seal: f[{n_s + 1}], sealed_seq: $audit_entry.seq"
    out["create_Serial_linked"] = (
        f"{_HEADER}// Stage new Serial nodes whose Batch and Product are new in the same import, with their\n"
        f"// (Batch)-[:PRODUCED]->(Serial)-[:OF]->(Product) edges, in one pass.\n{_PRELUDE}\n"
        f"// The blob is grouped by batch (GS between groups; a group's first line is `batch US product`), so\n"
        f"// the batch and product are looked up once per batch instead of once per serial.\n"
        f"UNWIND split($blob, $gs) AS grp\nWITH h, run, split(grp, $rs) AS lines\n"
        f"WITH h, run, lines, split(lines[0], $us) AS bp\n"
        f"MATCH (b:Batch {{id: bp[0]}})\nMATCH (p:Product {{id: bp[1]}})\n"
        f"UNWIND lines[1..] AS line\nWITH h, run, b, p, split(line, $us) AS f\n"
        f"CREATE (b)-[:PRODUCED {{import_id: $import_id, seal: f[{n_s + 2}], sealed_seq: $audit_entry.seq}}]->"
        f"(n:Serial {{\n  {sprops},\n"
        f"  created_at: $now, updated_at: $now, import_hash_at: $now, source: $import_id, import_id: $import_id}})"
        f"-[:OF {{import_id: $import_id, seal: f[{n_s + 3}], sealed_seq: $audit_entry.seq}}]->(p)\n{_TAIL}\n")
    for t in EDGE_TRIPLES:
        a, etype, b = t
        eprops = EDGE_PROPS[etype]
        plist = "".join(
            f", `{p}`: " + (f"toInteger(f[{i + 2}]) / 1000000.0" if k == "f" else f"CASE f[{i + 2}] WHEN '' THEN null ELSE f[{i + 2}] END")
            for i, (p, k) in enumerate(eprops))
        name = triple_name(t)
        out[f"edge_{name}"] = (
            f"{_HEADER}// Create ({a})-[:{etype}]->({b}) edges from a RS/US-separated blob: from key, to key, "
            f"properties.\n{_PRELUDE}\nUNWIND split($blob, $rs) AS line\nWITH h, run, split(line, $us) AS f\n"
            f"MATCH (a:{a} {{id: f[0]}})\nMATCH (b:{b} {{id: f[1]}})\n"
            f"CREATE (a)-[e:{etype} {{import_id: $import_id{plist}, seal: f[{len(eprops) + 2}], "
            f"sealed_seq: $audit_entry.seq}}]->(b)\n{_TAIL}\n")
        out[f"edges_{name}"] = (
            f"{_HEADER}// Existing ({a})-[:{etype}]->({b}) edges between these key pairs (RS-separated\n"
            f"// pairs of US-separated keys).\n"
            f"UNWIND split($blob, $rs) AS line\nWITH split(line, $us) AS p\n"
            f"MATCH (a:{a} {{id: p[0]}})-[e:{etype}]->(b:{b} {{id: p[1]}})\n"
            f"RETURN p[0] AS a, p[1] AS b{''.join(f', e.`{p}` AS `{p}`' for p, _ in eprops)}\n")
        disc = _disc(etype)
        where = f"\nWHERE r.disc IS NULL OR e.`{disc}` = r.disc" if disc else ""
        out[f"edgepatch_{name}"] = (
            f"{_HEADER}// Commit-phase update of existing ({a})-[:{etype}]->({b}) edge properties.\n{_PRELUDE}\n"
            f"UNWIND $rows AS r\nMATCH (a:{a} {{id: r.a}})-[e:{etype}]->(b:{b} {{id: r.b}}){where}\n"
            f"SET e += r.props, e.seal = r.seal, e.sealed_seq = $audit_entry.seq\n{_TAIL}\n")
        out[f"edgeseals_{name}"] = (
            f"{_HEADER}// The seals of existing ({a})-[:{etype}]->({b}) edges a commit step is about to replace.\n"
            f"UNWIND $rows AS r\nMATCH (a:{a} {{id: r.a}})-[e:{etype}]->(b:{b} {{id: r.b}}){where}\n"
            f"RETURN e.seal AS s, e.sealed_seq AS q\n")
    return out


def write_queries() -> list[Path]:
    return queries.write_generated("imports", render_queries())


__all__ = [
    "SourceFile", "ImportBatch", "ImportReport", "ImportRunInfo", "TypeCounts", "run_import", "rollback_import",
    "resume_import", "recover_unfinished", "unfinished_imports", "list_imports", "get_import", "new_import_id",
    "render_queries", "write_queries", "staging_ids", "Progress", "DEFAULT_CHUNK", "gc_paused", "compact_log", "sync_labels",
    "check_no_ghosts", "COMPACT_AFTER_ITEMS", "NODE_FIELDS", "STAGED_LABELS", "UNSEALED_STAGED", "Sealer", "derive_contents",
]


if __name__ == "__main__":  # pragma: no cover - developer tool
    for p in write_queries():
        print(f"wrote {p}")
