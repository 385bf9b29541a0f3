"""Captures at the same time (engine/imports/turns.py, loaders/epcis_capture.py): packaging lines
posting events at once are served one after the other, none refused, none undoing another's run.

Before: three lines capturing in threads of one process (as the API server's thread pool runs
them) lost 6 of 90 events -- one capture's automatic recovery rolled back another's live run
(same pid: taken for dead), others met the import lock and were refused."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from graph_snapshot import snapshot
from tracegraph.engine.audit.chain import Actor
from tracegraph.engine.audit.verify import verify
from tracegraph.engine.imports.runner import unfinished_imports
from tracegraph.engine.stores.falkordb import FalkorDBStore
from tracegraph.loaders import epcis_capture as cap
from tracegraph.loaders.epcis import import_epcis
from tracegraph.loaders.generator import generate_bundle

ROOT = Path(__file__).resolve().parent.parent
LINE = Actor(id="line-7", name="Packaging line 7", roles=frozenset({"capture_device"}))


def _unit_events(tmp: Path, serials: int = 60) -> tuple[list[dict[str, Any]], list[Any]]:
    """The generator's plant as a line sends it: one event per unit and step, in time order."""
    generate_bundle(tmp / "plant", serials=serials, seed=5, fmt="both")
    doc = json.loads(next((tmp / "plant" / "epcis").glob("*.jsonld")).read_text(encoding="utf-8"))
    out: list[dict[str, Any]] = []
    for e in doc["epcisBody"]["eventList"]:
        epcs = e.get("epcList") or []
        if e.get("type") != "ObjectEvent" or len(epcs) < 2:
            out.append(e)
            continue
        out += [{**e, "epcList": [u], "eventID": f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, e['eventID'] + u)}"}
                for u in epcs]
    out.sort(key=lambda e: e["eventTime"])
    return out, doc["@context"]


def _store(server: Any, graph: str) -> FalkorDBStore:
    return FalkorDBStore(unix_socket_path=str(server.socket_path), graph=graph, server=server)


def test_three_lines_capturing_at_once_lose_nothing_and_give_the_one_document_graph(
        embedded_server: Any, tmp_path: Path) -> None:
    events, context = _unit_events(tmp_path)
    name = "t_turns_" + uuid.uuid4().hex[:8]
    one_name = name + "_one"
    s = _store(embedded_server, name)
    s.apply_schema()
    one = _store(embedded_server, one_name)
    one.apply_schema()
    try:
        refused: list[str] = []

        def line(k: int) -> None:
            st = _store(embedded_server, name)  # each line its own connection, as each request gets
            for e in events[k::3]:
                job = cap.run_job(st, LINE, cap.start_job(st, LINE, 1, "rollback"), [e], context)
                if not job.success:
                    refused.append(job.errors[0].message)

        threads = [threading.Thread(target=line, args=(k,)) for k in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=300)
        assert not refused, refused[:3]
        assert not unfinished_imports(s)
        assert s.run("MATCH (e:EpcisEvent) RETURN count(e) AS n")[0]["n"] == len(events)
        assert verify(s).ok
        import_epcis(one, {"@context": context, "type": "EPCISDocument", "schemaVersion": "2.0",
                           "creationDate": "2026-12-04T00:00:00Z", "epcisBody": {"eventList": events}},
                     Actor(id="u-ops", name="Olga Ops", roles=frozenset({"importer"})))
        got, want = _business(s), _business(one)
        assert got[0] == want[0], sorted(set(got[0]) ^ set(want[0]))[:5]
        assert got[1] == want[1], sorted(set(got[1]) ^ set(want[1]))[:5]
    finally:
        s.drop_graph()
        one.drop_graph()


def _business(store: FalkorDBStore) -> tuple[list[Any], list[Any]]:
    """The snapshot without the capture jobs, and each event by its id only (a capture stamps its
    own recordTime and context into the stored event; what the events did must be the same)."""
    nodes, edges = snapshot(store)
    nodes = [(lb, json.loads(p)["id"] if lb == "EpcisEvent" else p) for lb, p in nodes if lb != "CaptureJob"]
    return sorted(nodes, key=repr), edges


#: an import in another process that holds the import lock for `hold` seconds while staging
HOLDER = r"""
import sys, time
from tracegraph.engine.audit.chain import Actor
from tracegraph.engine.stores.falkordb import FalkorDBStore
from tracegraph.loaders.epcis import import_epcis
sock, graph, path, hold = sys.argv[1:5]
store = FalkorDBStore(unix_socket_path=sock, graph=graph)
held = []
def progress(done, total):
    if not held:
        held.append(1)
        print("HOLDING", flush=True)
        time.sleep(float(hold))
res = import_epcis(store, path, Actor(id="u-erp", name="ERP", roles=frozenset({"importer"})), progress=progress)
print("DONE", res.events, flush=True)
"""


def test_a_capture_waits_for_another_process_import_instead_of_being_refused(
        embedded_server: Any, tmp_path: Path) -> None:
    events, context = _unit_events(tmp_path, serials=30)
    name = "t_turns_" + uuid.uuid4().hex[:8]
    s = _store(embedded_server, name)
    s.apply_schema()
    first = tmp_path / "first.jsonld"
    first.write_text(json.dumps({"@context": context, "type": "EPCISDocument", "schemaVersion": "2.0",
                                 "creationDate": "2026-12-04T00:00:00Z",
                                 "epcisBody": {"eventList": events[:-1]}}), encoding="utf-8")
    try:
        proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(embedded_server.socket_path), name, str(first),
                                 "2.5"], cwd=str(ROOT), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "HOLDING"
        assert unfinished_imports(s)  # the other process holds the lock now
        t0 = time.monotonic()
        job = cap.run_job(s, LINE, cap.start_job(s, LINE, 1, "rollback"), [events[-1]], context)
        waited = time.monotonic() - t0
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err[-2000:]
        assert "DONE" in out
        assert job.success, job.errors
        assert waited > 0.5  # it waited for the lock to be released (the holder sleeps 2.5 s)
        assert s.run("MATCH (e:EpcisEvent) RETURN count(e) AS n")[0]["n"] == len(events)
        assert verify(s).ok
    finally:
        s.drop_graph()


def test_a_capture_that_lost_a_race_for_a_new_node_maps_again(embedded_server: Any, tmp_path: Path,
                                                              monkeypatch: Any) -> None:
    """Another process created a node this capture mapped as new between its mapping and its
    lock: the staging CREATE is refused (unique key, the run undone). Here that refusal is
    forced once; the capture maps and writes again and lands; a third refusal is reported."""
    from tracegraph.engine.errors import ConstraintViolation

    events, context = _unit_events(tmp_path, serials=10)
    name = "t_turns_" + uuid.uuid4().hex[:8]
    s = _store(embedded_server, name)
    s.apply_schema()
    real = cap.import_epcis
    calls: list[int] = []

    def racing(*a: Any, **kw: Any) -> Any:
        calls.append(1)
        if len(calls) <= refusals:
            raise ConstraintViolation("a record with that key already exists: unique constraint violation")
        return real(*a, **kw)

    monkeypatch.setattr(cap, "import_epcis", racing)
    try:
        refusals = 1
        job = cap.run_job(s, LINE, cap.start_job(s, LINE, 1, "rollback"), [events[0]], context)
        assert job.success and len(calls) == 2
        calls.clear()
        refusals = 3
        job = cap.run_job(s, LINE, cap.start_job(s, LINE, 1, "rollback"), [events[1]], context)
        assert not job.success and len(calls) == 3 and "already exists" in job.errors[0].message
        assert s.run("MATCH (e:EpcisEvent) RETURN count(e) AS n")[0]["n"] == 1
    finally:
        s.drop_graph()
