"""The snapshot is frozen at decision time: later graph changes appear as a difference, not
silently. Drills run the whole flow and leave real statuses untouched; demo entry point."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from test_recall_plant import APPROVER, AUTHOR, LOGISTICS, build, clock
from tracegraph.engine.audit.chain import Actor
from tracegraph.engine.errors import PermissionDenied
from tracegraph.engine.recall import campaign as R
from tracegraph.engine.recall.drill import drills, run_demo_recall, run_drill
from tracegraph.engine.recall.returns import assert_can_ship, quarantine
from tracegraph.engine.trace.models import ImpactCause


def _statuses(store):
    return {r["id"]: (r["st"], r["c"]) for r in store.run(
        "MATCH (s:Serial) RETURN s.id AS id, s.status AS st, s.customer_id AS c", write=False)}


@pytest.mark.req("REQ-RCL-001")
def test_snapshot_vs_later_changes(empty_store) -> None:
    ids = build(empty_store)
    ck = clock()
    data = R.RecallCreate(jurisdiction="US-FDA", recall_class="II", reason="x", responsible="alice")
    rec = R.create_recall_from_cause(empty_store, AUTHOR, data, ImpactCause(lots=["L1"]), clock=ck).recall
    assert R.snapshot_diff(empty_store, rec.id).clean
    # later: a new unit of B1 is produced, one covered unit moves from D1 to H1
    empty_store.run("MATCH (b:Batch {id: 'B1'}) CREATE (b)-[:PRODUCED]->(:Serial {id: 'B1-S0099', batch_id: 'B1', "
                    "product_id: 'P1', status: 'in_stock'})")
    empty_store.run("MATCH (s:Serial {id: $id}) SET s.customer_id = 'H1', s.status = 'at_end_user'",
                    {"id": ids["b1"][0]})
    diff = R.snapshot_diff(empty_store, rec.id)
    assert diff.now_affected_not_covered == ["B1-S0099"]
    assert [c["id"] for c in diff.status_changed] == [ids["b1"][0]]
    assert diff.status_changed[0]["status_at_decision"] == "at_distributor"
    assert diff.status_changed[0]["customer"] == "H1" and diff.status_changed_total == 1
    # the snapshot itself did not move
    again = R.get_recall(empty_store, rec.id)
    assert again.serials_covered == 10 and again.snapshot_digest == rec.snapshot_digest
    cov = empty_store.run("MATCH (:Recall {id: $r})-[c:COVERS]->(:Serial {id: $s}) RETURN c.customer_at_decision AS c",
                          {"r": rec.id, "s": ids["b1"][0]}, write=False)
    assert cov[0]["c"] == "D1"


@pytest.mark.req("REQ-RCL-006")
def test_drill_leaves_real_data_untouched(empty_store, tmp_path) -> None:
    ids = build(empty_store)
    before = _statuses(empty_store)
    ck = clock()
    with pytest.raises(PermissionDenied):
        run_drill(empty_store, Actor(id="v", name="V", roles=frozenset({"viewer"})), ImpactCause(lots=["L1"]), tmp_path)
    rep = run_drill(empty_store, LOGISTICS, ImpactCause(lots=["L1"]), tmp_path, sheet_format="csv", clock=ck)
    assert rep.real_data_untouched and rep.passed and rep.serials == 10 and rep.customers == 2
    assert set(rep.timings_ms) >= {"identify", "snapshot", "letters", "spreadsheet"}
    assert Path(rep.report_pdf).is_file() and json.loads(Path(rep.report_json).read_text())["recall_id"] == rep.recall_id
    assert _statuses(empty_store) == before
    drill_rec = R.get_recall(empty_store, rep.recall_id)
    assert drill_rec.drill and drill_rec.status == "closed" and drill_rec.quarantined_serials == 0
    assert quarantine(empty_store, LOGISTICS, rep.recall_id)["drill"] is True
    assert_can_ship(empty_store, ids["b1"][8:])  # a drill never blocks shipping
    hist = drills(empty_store)
    assert [d["id"] for d in hist] == [rep.drill_id] and hist[0]["passed"] is True
    assert not empty_store.run("MATCH (r:Return) RETURN r", write=False)


@pytest.mark.req("REQ-RCL-007")
def test_real_recall_quarantine_changes_status_and_demo(empty_store, tmp_path) -> None:
    ids = build(empty_store)
    ck = clock()
    data = R.RecallCreate(jurisdiction="EU-MDR", recall_class="I", reason="x", responsible="alice")
    rec = R.create_recall_from_cause(empty_store, AUTHOR, data, ImpactCause(batches=["B1"]), clock=ck).recall
    R.approve(empty_store, APPROVER, rec.id, password="pw", reason="ok", clock=ck)
    R.start(empty_store, LOGISTICS, rec.id, quarantine=False, clock=ck)
    assert _statuses(empty_store)[ids["b1"][9]][0] == "in_stock"
    out = quarantine(empty_store, LOGISTICS, rec.id, clock=ck)
    assert out["quarantined_serials"] == 2 and out["quarantined_batches"] == 1
    assert _statuses(empty_store)[ids["b1"][9]][0] == "quarantined"
    assert empty_store.run("MATCH (b:Batch {id: 'B1'}) RETURN b.status AS s", write=False)[0]["s"] == "quarantined"
    assert quarantine(empty_store, LOGISTICS, rec.id, clock=ck)["quarantined_serials"] == 0  # idempotent
    summary = run_demo_recall(empty_store, Actor.system(), tmp_path / "demo", clock=ck)
    assert summary["units"] >= 10 and summary["real_data_untouched"] and Path(summary["report_pdf"]).is_file()


@pytest.mark.req("REQ-RCL-006")
@pytest.mark.parametrize("sheet_format", ["csv", "xlsx"])
def test_drill_files_are_owner_only(empty_store, tmp_path, sheet_format) -> None:
    """Letters, lists, the regulator sheet and the drill report name customers: the drill writes
    them 0600 in 0700 folders under any umask, so the data folder's start-up check finds nothing."""
    import os
    import stat

    from tracegraph.engine.stores import modes

    build(empty_store)
    data = tmp_path / "data"
    data.mkdir(mode=0o700)
    old = os.umask(0o022)  # the usual umask: files would be born 0644
    try:
        rep = run_drill(empty_store, LOGISTICS, ImpactCause(lots=["L1"]), data / "drills", sheet_format=sheet_format,
                        clock=clock())
    finally:
        os.umask(old)
    files = [p for p in data.rglob("*") if p.is_file()]
    letters = [p for p in files if p.suffix == ".pdf" and "letters" in p.parts]
    assert rep.letters == 2 and len(letters) == 2
    assert {p.name for p in files} >= {Path(rep.report_json).name, Path(rep.report_pdf).name,
                                        f"regulator-sheet.{sheet_format}", f"{rep.recall_id}_customers.{sheet_format}"}
    modes_seen = {str(p.relative_to(data)): stat.S_IMODE(p.stat().st_mode) for p in data.rglob("*")}
    assert {k: oct(v) for k, v in modes_seen.items() if v not in (0o600, 0o700)} == {}
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in files)
    assert modes.too_open(data) == []
