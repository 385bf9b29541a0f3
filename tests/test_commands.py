"""Generic audited commands: create/update/status/link/retire, reasons for locked GMP records,
retirement instead of deletion, and the generated per-label query files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tracegraph import queries
from tracegraph.engine import commands
from tracegraph.engine.audit.chain import Actor, history
from tracegraph.engine.audit.verify import verify
from tracegraph.engine.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from tracegraph.engine.model import GMP_LABELS

QA = Actor("qa.lead", "Quinn Lead", frozenset({"qa_manager"}))
ADMIN = Actor("ada", "Ada Admin", frozenset({"admin"}))


def test_generated_query_files_are_current() -> None:
    for path, text in commands.generate_queries().items():
        assert path.is_file(), f"missing {path}: run commands.generate_queries(write=True)"
        assert path.read_text(encoding="utf-8") == text, f"{path} is stale: regenerate"
    for label in commands.RECORD_LABELS:
        for op in ("create", "update", "get", "note"):
            queries.load(f"commands.{op}.{label}")
        queries.load(f"signatures.sign.{label}")
    for label in commands.SYSTEM_LABELS:
        assert not Path(queries.QUERY_DIR, "commands", "create", f"{label}.cypher").exists()


@pytest.mark.req("REQ-AUD-001")
def test_create_update_get_with_old_and_new_values(store: Any) -> None:
    rec = commands.create(store, "Batch", "B-1", {"product_id": "P-1", "qty": 10.0, "status": "in_process"}, QA)
    assert rec.props["created_by"] == "qa.lead" and rec.props["qty"] == 10.0 and rec.audit_seq
    rec2 = commands.update(store, "Batch", "B-1", {"qty": 12.5, "line": "L3"}, QA)
    assert rec2.props["qty"] == 12.5 and rec2.props["line"] == "L3" and rec2.props["updated_by"] == "qa.lead"
    e = history(store, target="B-1", action="update")[0]
    changes = {c["field"]: (c["old"], c["new"]) for c in e.changes}
    assert changes["qty"] == (10.0, 12.5) and changes["line"] == (None, "L3")
    before = store.read("audit.head")[0]["seq"]
    commands.update(store, "Batch", "B-1", {"qty": 12.5}, QA)  # nothing changes: nothing written
    assert store.read("audit.head")[0]["seq"] == before
    commands.update(store, "Batch", "B-1", {"line": None}, QA)  # None removes
    assert "line" not in commands.get(store, "Batch", "B-1").props  # type: ignore[union-attr]


@pytest.mark.req("REQ-DAT-001")
def test_duplicates_system_props_and_labels_are_refused(store: Any) -> None:
    commands.create(store, "Supplier", "S-1", {"name": "Resin Co"}, QA)
    with pytest.raises(Conflict, match="already exists"):
        commands.create(store, "Supplier", "S-1", {"name": "Other"}, QA)
    with pytest.raises(ValidationFailed, match="invalid record properties"):
        commands.create(store, "Supplier", "S-2", {"created_by": "someone else"}, QA)
    with pytest.raises(ValidationFailed):
        commands.create(store, "Supplier", "S-3", {"nested": {"a": 1}}, QA)
    with pytest.raises(ValidationFailed, match="not a record label"):
        commands.create(store, "User", "u", {}, QA)
    with pytest.raises(ValidationFailed, match="not a record label"):
        commands.create(store, "Nope", "x", {}, QA)
    with pytest.raises(NotFound):
        commands.update(store, "Supplier", "S-404", {"name": "x"}, QA)


@pytest.mark.req("REQ-DAT-001")
def test_locked_gmp_record_needs_a_reason(store: Any) -> None:
    assert "Batch" in GMP_LABELS
    commands.create(store, "Batch", "B-2", {"qty": 5.0, "status": "in_process"}, QA)
    with pytest.raises(ValidationFailed, match="signed Release|generic status change"):
        commands.set_status(store, "Batch", "B-2", "released", QA)  # only a signed Release releases a batch
    commands.set_status(store, "Batch", "B-2", "rejected", QA)
    with pytest.raises(ValidationFailed, match="needs a reason"):
        commands.update(store, "Batch", "B-2", {"qty": 4.0}, QA)
    commands.update(store, "Batch", "B-2", {"qty": 4.0}, QA, reason="label misprint, NCR-12")
    assert history(store, target="B-2")[0].reason == "label misprint, NCR-12"
    # a non-GMP record in the same status does not
    commands.create(store, "Customer", "C-1", {"name": "Clinic", "status": "released"}, QA)
    commands.update(store, "Customer", "C-1", {"name": "City Clinic"}, QA)


@pytest.mark.req("REQ-DAT-001")
def test_retire_instead_of_delete(store: Any) -> None:
    commands.create(store, "Batch", "B-3", {"qty": 1.0}, QA)
    with pytest.raises(ValidationFailed, match="needs a reason"):
        commands.retire(store, "Batch", "B-3", QA, reason=" ")
    rec = commands.retire(store, "Batch", "B-3", QA, reason="created by mistake")
    assert rec.props["retired"] is True and rec.props["retired_by"] == "qa.lead"
    assert commands.get(store, "Batch", "B-3") is not None  # still there
    with pytest.raises(Conflict, match="retired"):
        commands.update(store, "Batch", "B-3", {"qty": 2.0}, QA)
    with pytest.raises(PermissionDenied):
        commands.retire(store, "Batch", "B-1", Actor("q", "Q", frozenset({"qa"})), reason="x")
    assert not hasattr(commands, "delete")


@pytest.mark.req("REQ-DAT-001")
def test_link_only_model_edges(store: Any) -> None:
    commands.create(store, "Product", "P-1", {"name": "Pump"}, QA)
    seq = commands.link(store, "Batch", "B-1", "OF", "Product", "P-1", QA, props={"note": "x"})
    assert seq > 0
    rows = store.run("MATCH (:Batch {id: 'B-1'})-[r:OF]->(:Product {id: 'P-1'}) RETURN r.note AS n", write=False)
    assert rows == [{"n": "x"}]
    with pytest.raises(ValidationFailed, match="not an edge of the model"):
        commands.link(store, "Product", "P-1", "OF", "Batch", "B-1", QA)
    with pytest.raises(NotFound):
        commands.link(store, "Batch", "B-404", "OF", "Product", "P-1", QA)


@pytest.mark.req("REQ-ACC-003")
def test_permissions_follow_the_label(store: Any) -> None:
    handler = Actor("h", "Hal Handler", frozenset({"complaint_handler"}))
    commands.create(store, "Complaint", "CMP-1", {"summary": "alarm silent"}, handler)
    with pytest.raises(PermissionDenied):
        commands.create(store, "Batch", "B-9", {}, handler)
    with pytest.raises(PermissionDenied):
        commands.create(store, "Recall", "RC-9", {}, ADMIN)
    with pytest.raises(PermissionDenied, match="records.status"):
        commands.update(store, "Complaint", "CMP-1", {"status": "closed"}, handler)


def test_everything_verifies(store: Any) -> None:
    r = verify(store)
    assert r.ok, r.problems[:3]
