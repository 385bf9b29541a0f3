"""The record models: what they accept, what they refuse (with the field named), and the
stored form of their values. Plus: the generated per-label import queries are current."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from tracegraph import queries
from tracegraph.engine.imports.runner import ImportBatch, render_queries
from tracegraph.engine.model import (
    EDGE_TRIPLES,
    NODE_TYPES,
    RECORD_TYPES,
    UNIQUE_KEYS,
    BatchRecord,
    ConsumptionRecord,
    DocumentRecord,
    EquipmentUsageRecord,
    MaterialLotRecord,
    SerialRecord,
    ShipmentRecord,
    problems_from,
)


def _problems(cls, data):
    with pytest.raises(ValidationError) as exc:
        cls.model_validate(data)
    return problems_from(exc.value, source=f"{cls.FILE}.csv", record="row 2", data=data)


LOT = {"id": "L1", "material_id": "M1", "qty_received": "10", "uom": "kg", "received_at": "2026-01-05T08:00:00+01:00"}


@pytest.mark.req("REQ-AUD-009")
def test_timestamps_are_stored_as_utc_iso_with_microseconds() -> None:
    lot = MaterialLotRecord.model_validate(LOT)
    assert lot.props()["received_at"] == "2026-01-05T07:00:00.000000+00:00"
    assert lot.props()["adjusted"] is False and lot.props()["qty_received"] == 10.0


@pytest.mark.req("REQ-AUD-009", "REQ-DAT-002")
def test_naive_timestamp_is_refused_with_the_field_named() -> None:
    probs = _problems(MaterialLotRecord, {**LOT, "received_at": "2026-01-05T08:00:00"})
    assert [(p.field, p.source, p.record) for p in probs] == [("received_at", "material_lots.csv", "row 2")]
    assert "timezone" in probs[0].message and probs[0].value == "2026-01-05T08:00:00"


@pytest.mark.req("REQ-DAT-002")
def test_negative_quantity_and_bad_enum_are_refused() -> None:
    probs = _problems(MaterialLotRecord, {**LOT, "qty_received": "-3", "status": "lost"})
    assert {p.field for p in probs} == {"qty_received", "status"}


@pytest.mark.req("REQ-DAT-002")
def test_dates_out_of_order_name_the_later_field() -> None:
    b = {"id": "B1", "product_id": "P", "qty": 1, "started_at": "2026-01-02T00:00:00Z",
         "finished_at": "2026-01-01T00:00:00Z"}
    (p,) = _problems(BatchRecord, b)
    assert p.field == "finished_at" and "before started_at" in p.message
    s = {"id": "S1", "date": "2026-01-05T00:00:00Z", "delivered_at": "2026-01-04T00:00:00Z", "from_id": "X",
         "customer_id": "C"}
    (p,) = _problems(ShipmentRecord, s)
    assert p.field == "delivered_at"
    u = {"batch_id": "B", "equipment_id": "E", "from": "2026-01-01T10:00:00Z", "to": "2026-01-01T09:00:00Z"}
    (p,) = _problems(EquipmentUsageRecord, u)
    assert p.field == "to"


def test_shipment_status_follows_delivery() -> None:
    s = ShipmentRecord.model_validate({"id": "S", "date": "2026-01-05T00:00:00Z", "from_id": "SITE",
                                       "customer_id": "C"})
    assert s.status == "in_transit"
    assert s.edges()[0].props == {"date": None}


def test_unknown_columns_are_kept_as_extra_json_and_reserved_ones_refused() -> None:
    lot = MaterialLotRecord.model_validate({**LOT, "coa_number": "COA-1"})
    assert json.loads(lot.props()["extra"]) == {"coa_number": "COA-1"}
    probs = _problems(MaterialLotRecord, {**LOT, "import_id": "x"})
    assert "set by tracegraph" in probs[0].message


@pytest.mark.req("REQ-DAT-002")
def test_keys_refuse_control_characters_and_blank() -> None:
    probs = _problems(SerialRecord, {"id": "A\x1fB", "batch_id": " ", "product_id": "P"})
    assert {p.field for p in probs} == {"id", "batch_id"}


def test_document_id_defaults_to_docid_at_version() -> None:
    d = DocumentRecord.model_validate({"doc_id": "SOP-1", "version": "C", "title": "t"})
    assert d.id == "SOP-1@C"
    (p,) = _problems(DocumentRecord, {"id": "SOP-1", "doc_id": "SOP-1", "version": "C", "title": "t"})
    assert p.field == "id"


def test_edges_point_from_cause_to_effect() -> None:
    c = ConsumptionRecord.model_validate({"input_kind": "batch", "input_id": "SA1", "batch_id": "B1", "qty": 2,
                                          "uom": "ea"})
    e = c.edge()
    assert (e.frm.label, e.frm.key, e.type, e.to.label, e.to.key) == ("Batch", "SA1", "CONSUMED_IN", "Batch", "B1")
    s = SerialRecord.model_validate({"id": "S1", "batch_id": "B1", "product_id": "P1"})
    assert {(x.type, x.frm.key, x.to.key) for x in s.edges()} == {("PRODUCED", "B1", "S1"), ("OF", "S1", "P1")}
    for rec_cls in RECORD_TYPES.values():
        assert rec_cls.FILE in ImportBatch.model_fields


@pytest.mark.req("REQ-DAT-003")
def test_model_keeps_its_label_and_key_contract() -> None:
    labels = {lbl for lbl, _ in UNIQUE_KEYS}
    for cls in NODE_TYPES.values():
        assert cls.LABEL in labels
    for a, _, b in EDGE_TRIPLES:
        assert a in labels and b in labels


def test_generated_import_queries_are_current() -> None:
    """engine/imports/runner.py renders the per-label queries; the shipped files must match."""
    rendered = render_queries()
    for name, text in rendered.items():
        path = queries.QUERY_DIR / "imports" / f"{name}.cypher"
        assert path.is_file() and path.read_text(encoding="utf-8") == text, (
            f"{path} is stale: run `python -m tracegraph.engine.imports.runner`")


def test_generated_seal_queries_are_current() -> None:
    """engine/audit/seals.py renders the per-label seal reads; the shipped files must match."""
    from tracegraph.engine.audit import seals

    rendered = seals.render_queries()
    shipped = {p.stem for p in (queries.QUERY_DIR / "seals").glob("*.cypher")}
    assert shipped == set(rendered), "stale or missing seal queries: run `python -m tracegraph.engine.audit.seals`"
    for name, text in rendered.items():
        path = queries.QUERY_DIR / "seals" / f"{name}.cypher"
        assert path.read_text(encoding="utf-8") == text, f"{path} is stale: run `python -m tracegraph.engine.audit.seals`"
