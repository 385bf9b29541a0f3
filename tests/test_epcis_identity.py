"""Event identity (issue 14): one eventID names one event. A known event again is a no-op; a
known eventID with other content is refused with both versions named; a GS1 error declaration
with its corrective event is applied and both versions stay on record. Events written here by hand
from EPCIS 2.0 §7.4.1 (error declaration) and CBV 2.0."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from tracegraph.engine.access.actor import Actor
from tracegraph.engine.audit.chain import head
from tracegraph.engine.audit.verify import verify
from tracegraph.engine.errors import ValidationFailed
from tracegraph.loaders.epcis import import_epcis

ACTOR = Actor("u-qa", "Quinn QA", frozenset({"qa"}))
CTX = ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"]
UNIT = "urn:epc:id:sgtin:4012345.011111.1001"


def ship(eid: str, disposition: str = "in_transit") -> dict[str, Any]:
    return {"type": "ObjectEvent", "eventID": eid, "eventTime": "2026-04-01T09:00:00+02:00",
            "eventTimeZoneOffset": "+02:00", "action": "OBSERVE", "epcList": [UNIT], "bizStep": "shipping",
            "disposition": disposition, "readPoint": {"id": "urn:epc:id:sgln:4012345.00001.0"}}


def doc(*events: dict[str, Any]) -> dict[str, Any]:
    return {"@context": CTX, "type": "EPCISDocument", "schemaVersion": "2.0", "creationDate": "2026-04-02T00:00:00Z",
            "epcisBody": {"eventList": list(events)}}


def stored(store: Any, eid: str) -> dict[str, Any]:
    rows = store.run("MATCH (e:EpcisEvent {id: $id}) RETURN e.json AS json, e.original_json AS original, "
                     "e.error_declared AS declared", {"id": eid})
    return rows[0]


def test_the_same_event_again_is_a_no_op(empty_store: Any) -> None:
    e = ship("urn:uuid:7a1f0c52-0000-4000-8000-000000000001")
    first = import_epcis(empty_store, doc(e), ACTOR)
    assert first.events == 1 and first.known_events == 0
    again = import_epcis(empty_store, doc(copy.deepcopy(e)), ACTOR)
    assert again.events == 0 and again.known_events == 1
    # recordTime is the repository's, not part of the event's identity
    third = import_epcis(empty_store, doc({**e, "recordTime": "2026-04-03T00:00:00Z"}), ACTOR)
    assert third.known_events == 1
    assert empty_store.run("MATCH (e:EpcisEvent) RETURN count(e) AS c")[0]["c"] == 1


def test_a_known_eventid_with_other_content_is_refused_and_nothing_changes(empty_store: Any) -> None:
    eid = "urn:uuid:7a1f0c52-0000-4000-8000-000000000002"
    import_epcis(empty_store, doc(ship(eid)), ACTOR)
    before = head(empty_store)["seq"]
    other = ship("urn:uuid:7a1f0c52-0000-4000-8000-000000000003")
    with pytest.raises(ValidationFailed) as refused:
        import_epcis(empty_store, doc(other, ship(eid, disposition="damaged")), ACTOR)
    (p,) = refused.value.problems
    assert p.field == "eventID" and p.value == eid and p.record == "event 1"
    assert "disposition" in p.message and "in_transit" in p.message and "damaged" in p.message  # both versions
    assert head(empty_store)["seq"] == before  # all or nothing: the good event was not written either
    assert json.loads(stored(empty_store, eid)["json"])["disposition"] == "in_transit"


def test_two_versions_of_one_event_in_one_document_are_refused(empty_store: Any) -> None:
    eid = "urn:uuid:7a1f0c52-0000-4000-8000-000000000004"
    with pytest.raises(ValidationFailed) as refused:
        import_epcis(empty_store, doc(ship(eid), ship(eid, disposition="damaged")), ACTOR)
    assert refused.value.problems[0].field == "eventID" and "event 0" in refused.value.problems[0].message


def test_an_error_declaration_with_its_corrective_event_is_applied_and_both_stay_on_record(empty_store: Any) -> None:
    eid = "urn:uuid:7a1f0c52-0000-4000-8000-000000000005"
    wrong = ship(eid, disposition="damaged")
    import_epcis(empty_store, doc(wrong), ACTOR)
    corrective_id = "urn:uuid:7a1f0c52-0000-4000-8000-000000000006"
    declared = {**copy.deepcopy(wrong), "errorDeclaration": {
        "declarationTime": "2026-04-02T10:00:00+02:00", "reason": "incorrect_data",
        "correctiveEventIDs": [corrective_id]}}
    res = import_epcis(empty_store, doc(declared, ship(corrective_id)), ACTOR)
    assert res.events == 2
    row = stored(empty_store, eid)
    assert json.loads(row["json"])["errorDeclaration"]["correctiveEventIDs"] == [corrective_id]
    assert json.loads(row["original"])["disposition"] == "damaged" and "errorDeclaration" not in json.loads(row["original"])
    assert row["declared"] is True
    # a second, different declaration for the same event is a change of content again: refused
    with pytest.raises(ValidationFailed):
        import_epcis(empty_store, doc({**declared, "errorDeclaration": {**declared["errorDeclaration"],
                                                                         "reason": "did_not_occur"}}), ACTOR)
    assert verify(empty_store).ok
