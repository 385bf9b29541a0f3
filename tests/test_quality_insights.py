"""Quality questions as traversals: open items by age/owner, document in effect, supplier
scorecards, and the impact of an out-of-tolerance calibration."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tracegraph.engine.clock import FrozenClock
from tracegraph.engine.qms.insights import document_in_effect, open_items, out_of_tolerance_impact, supplier_scorecard

PLANT = """
CREATE (e:Equipment {id: 'EQ-1'}),
  (:Calibration {id: 'C-0', date: '2025-06-01', result: 'pass'})-[:CALIBRATES]->(e),
  (:Calibration {id: 'C-1', date: '2026-01-01', result: 'pass'})-[:CALIBRATES]->(e),
  (:Calibration {id: 'C-2', date: '2026-03-01', result: 'out_of_tolerance'})-[:CALIBRATES]->(e),
  (old:Batch {id: 'B-old'}), (mid:Batch {id: 'B-mid'}), (late:Batch {id: 'B-late'}),
  (old)-[:PROCESSED_ON {from: '2025-12-01T08:00:00+00:00', to: '2025-12-01T16:00:00+00:00'}]->(e),
  (mid)-[:PROCESSED_ON {from: '2026-02-01T08:00:00+00:00', to: '2026-02-01T16:00:00+00:00'}]->(e),
  (late)-[:PROCESSED_ON {from: '2026-03-05T08:00:00+00:00', to: '2026-03-05T16:00:00+00:00'}]->(e),
  (old)-[:PRODUCED]->(:Serial {id: 'S-old', status: 'in_stock'}),
  (mid)-[:PRODUCED]->(:Serial {id: 'S-mid1', status: 'in_stock'}),
  (mid)-[:PRODUCED]->(:Serial {id: 'S-mid2', status: 'in_stock'}),
  (late)-[:PRODUCED]->(:Serial {id: 'S-late', status: 'in_stock'}),
  (:Document {id: 'SOP-1@1', doc_id: 'SOP-1', version: '1', effective_from: '2025-01-01', effective_to: '2026-02-15'}),
  (:Document {id: 'SOP-1@2', doc_id: 'SOP-1', version: '2', effective_from: '2026-02-15'}),
  (:Document {id: 'SOP-1@3', doc_id: 'SOP-1', version: '3'}),
  (s1:Supplier {id: 'SUP-1', name: 'Resin Co'}), (s2:Supplier {id: 'SUP-2', name: 'Idle Co'}),
  (l1:MaterialLot {id: 'L-1'}), (l2:MaterialLot {id: 'L-2'}), (s1)-[:SUPPLIED]->(l1), (s1)-[:SUPPLIED]->(l2),
  (:Inspection {id: 'I-1', result: 'accept'})-[:INSPECTED]->(l1),
  (:Inspection {id: 'I-2', result: 'reject'})-[:INSPECTED]->(l2),
  (:Deviation {id: 'D-1', status: 'open', created_at: '2026-01-01T00:00:00+00:00', owner: 'qa.ann', due_date: '2026-02-01'})-[:ABOUT]->(l2),
  (l1)-[:CONSUMED_IN]->(mid),
  (:Complaint {id: 'CMP-1', status: 'investigating', created_at: '2026-03-20T00:00:00+00:00', created_by: 'cat'})-[:ABOUT]->(:Serial {id: 'S-x'})<-[:PRODUCED]-(mid),
  (:CAPA {id: 'CAPA-1', status: 'closed', created_at: '2025-01-01T00:00:00+00:00'})
"""


@pytest.mark.req("REQ-QMS-006")
def test_out_of_tolerance_impact_covers_only_the_window_since_last_good(store) -> None:  # type: ignore[no-untyped-def]
    store.run(PLANT)
    r = out_of_tolerance_impact(store, "EQ-1")
    assert r.finding["id"] == "C-2" and r.last_good["id"] == "C-1"
    assert [b["id"] for b in r.impact["batches"]] == ["B-mid"]
    assert sorted(s["id"] for s in r.impact["serials"]) == ["S-mid1", "S-mid2", "S-x"]


@pytest.mark.req("REQ-QMS-003")
def test_document_version_in_effect_at_a_date(store) -> None:  # type: ignore[no-untyped-def]
    assert document_in_effect(store, "SOP-1", "2026-01-10")["version"] == "1"
    assert document_in_effect(store, "SOP-1", "2026-02-15")["version"] == "2"  # effective_to is exclusive
    assert document_in_effect(store, "SOP-1", "2024-01-01") is None
    assert document_in_effect(store, "NOPE", "2026-01-01") is None


def test_supplier_scorecard_rolls_up_inspections_deviations_and_complaints(store) -> None:  # type: ignore[no-untyped-def]
    cards = {c.supplier: c for c in supplier_scorecard(store)}
    assert cards["SUP-1"].lots == 2 and cards["SUP-1"].accepted == 1 and cards["SUP-1"].rejected == 1
    assert cards["SUP-1"].deviations == 1 and cards["SUP-1"].complaints == 1
    assert cards["SUP-1"].acceptance_rate == 0.5
    assert cards["SUP-2"].lots == 0 and cards["SUP-2"].acceptance_rate is None


def test_open_items_by_age_owner_and_overdue(store) -> None:  # type: ignore[no-untyped-def]
    clock = FrozenClock(datetime(2026, 3, 31, tzinfo=UTC))
    items = open_items(store, clock=clock)
    assert {i.id for i in items.items} == {"D-1", "CMP-1"}  # the closed CAPA is not open
    assert items.by_type == {"Deviation": 1, "Complaint": 1}
    assert items.by_owner == {"qa.ann": 1, "cat": 1}
    assert items.by_age == {"<7d": 0, "7-30d": 1, "30-90d": 1, ">90d": 0}
    assert items.overdue == 1


def test_daily_production_report(empty_store) -> None:  # type: ignore[no-untyped-def]
    from tracegraph.engine.qms.insights import production_report

    empty_store.run("""
      CREATE (a:Batch {id: 'A', line: 'L1', product_id: 'P', started_at: '2026-03-01T08:00:00+00:00', qty: 3, status: 'released'}),
             (b:Batch {id: 'B', line: 'L1', product_id: 'P', started_at: '2026-03-01T14:00:00+00:00', qty: 2}),
             (c:Batch {id: 'C', line: 'L2', product_id: 'Q', started_at: '2026-03-02T08:00:00+00:00', qty: 1}),
             (:Batch {id: 'D', line: 'L2', product_id: 'Q', started_at: '2026-03-09T08:00:00+00:00', qty: 1}),
             (a)-[:PRODUCED]->(:Serial {id: 's1'}), (a)-[:PRODUCED]->(:Serial {id: 's2'}), (b)-[:PRODUCED]->(:Serial {id: 's3'})
    """)
    rows = production_report(empty_store, "2026-03-01", "2026-03-08")
    assert [(r.day, r.line, r.product, r.batches, r.units, r.released) for r in rows] == [
        ("2026-03-01", "L1", "P", 2, 3, 1), ("2026-03-02", "L2", "Q", 1, 0, 0)]


def test_lot_inventory_at_a_date(empty_store) -> None:  # type: ignore[no-untyped-def]
    from tracegraph.engine.qms.insights import lot_inventory

    empty_store.run("""
      CREATE (l:MaterialLot {id: 'L-7', material_id: 'RESIN', qty_received: 100.0, uom: 'kg', received_at: '2026-01-01'}),
             (l2:MaterialLot {id: 'L-7A', qty_received: 20.0, received_at: '2026-02-01'}),
             (b1:Batch {id: 'B1'}), (b2:Batch {id: 'B2'}),
             (l)-[:CONSUMED_IN {qty: 30.0, at: '2026-01-10'}]->(b1), (l)-[:CONSUMED_IN {qty: 25.0, at: '2026-03-10'}]->(b2),
             (l)-[:SPLIT_INTO {qty: 20.0, date: '2026-02-01'}]->(l2)
    """)
    by = {p.lot: p for p in lot_inventory(empty_store, "2026-02-15")}
    assert by["L-7"].on_hand == 50.0 and by["L-7"].consumed == 30.0 and by["L-7"].moved == 20.0
    assert by["L-7A"].on_hand == 20.0
    assert lot_inventory(empty_store, "2026-03-31", lot="L-7")[0].on_hand == 25.0
    assert lot_inventory(empty_store, "2025-12-31") == []
