"""An existing node the events state nothing new about gets no commit step (epcis_write.decide):
a packaging line's every event names the same product, and rewriting it each time cost a
statement, its seal read and an audit entry per event."""

from __future__ import annotations

import copy
from typing import Any

from tracegraph.engine.audit.chain import Actor
from tracegraph.engine.audit.verify import verify
from tracegraph.loaders.epcis import import_epcis
from tracegraph.loaders.epcis_write import unchanged

ACTOR = Actor(id="u-ops", name="Olga Ops", roles=frozenset({"importer"}))


def _doc(*events: dict[str, Any]) -> dict[str, Any]:
    return {"@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
            "type": "EPCISDocument", "schemaVersion": "2.0", "creationDate": "2026-11-30T08:00:00Z",
            "epcisBody": {"eventList": list(events)}}


def _commission(n: int, minute: int) -> dict[str, Any]:
    return {"type": "ObjectEvent", "eventID": f"urn:uuid:00000000-0000-4000-8000-{n:012d}",
            "eventTime": f"2026-11-30T07:{minute:02d}:00Z", "eventTimeZoneOffset": "+08:00", "action": "ADD",
            "bizStep": "commissioning", "disposition": "active",
            "epcList": [f"urn:epc:id:sgtin:0614141.107346.{n}"],
            "readPoint": {"id": "urn:epc:id:sgln:0614141.07346.1234"}}


def _writes(store: Any, doc: dict[str, Any]) -> list[str]:
    sent: list[str] = []
    write = store.write

    def spy(name: str, /, **params: Any) -> Any:
        sent.append(name)
        return write(name, **params)

    store.write = spy
    try:
        import_epcis(store, doc, ACTOR)
    finally:
        store.write = write
    return sent


def test_the_second_unit_of_a_product_does_not_rewrite_the_product(empty_store: Any) -> None:
    first = _writes(empty_store, _doc(_commission(1, 1)))
    assert "epcis.stage_upsert_product" in first
    second = _writes(empty_store, _doc(_commission(2, 2)))
    assert "epcis.stage_upsert_serial" in second  # the new unit is written
    assert not any(n.endswith("upsert_product") for n in second), second  # the product it names is not
    assert verify(empty_store).ok
    n = empty_store.run("MATCH (s:Serial)-[:OF]->(p:Product) RETURN count(s) AS n, count(DISTINCT p) AS p")[0]
    assert (n["n"], n["p"]) == (2, 1)


def test_an_existing_node_the_events_change_is_still_written(empty_store: Any) -> None:
    _writes(empty_store, _doc(_commission(1, 1)))
    later = copy.deepcopy(_commission(1, 5))
    later.update(eventID="urn:uuid:00000000-0000-4000-8000-100000000001", action="DELETE",
                 bizStep="decommissioning")
    later.pop("disposition")
    sent = _writes(empty_store, _doc(later))
    assert "epcis.tx_upsert_serial" in sent  # the unit's status changed: a commit step
    got = empty_store.run("MATCH (s:Serial {id: 'urn:epc:id:sgtin:0614141.107346.1'}) RETURN s.status AS s")[0]["s"]
    assert got != "in_stock"
    assert verify(empty_store).ok


def test_unchanged_compares_values_and_their_types() -> None:
    assert unchanged({"a": "x", "b": 1}, {"a": "x"})
    assert not unchanged({"a": 1}, {"a": 1.0})  # equal in Python, a different value in the graph
    assert not unchanged({"a": "x"}, {"a": "y"})
    assert not unchanged({}, {"a": "x"})
    assert unchanged({}, {"a": None}) and not unchanged({"a": "x"}, {"a": None})
    assert unchanged({"l": ["a", "b"]}, {"l": ["a", "b"]}) and not unchanged({"l": ["a"]}, {"l": ["a", "b"]})
