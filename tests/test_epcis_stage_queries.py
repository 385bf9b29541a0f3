"""The staging statements of an EPCIS import (loaders/epcis_stage_queries.py): shipped files
current, used for the island, and never staging short."""

from __future__ import annotations

from typing import Any

import pytest

from tracegraph import queries
from tracegraph.engine.audit.chain import Actor
from tracegraph.engine.audit.verify import verify
from tracegraph.engine.errors import NotFound
from tracegraph.engine.imports.runner import unfinished_imports
from tracegraph.loaders import epcis_stage_queries
from tracegraph.loaders.epcis import import_epcis

ACTOR = Actor(id="u-ops", name="Olga Ops", roles=frozenset({"importer"}))

#: a packaging line's commissioning of two units, written by hand from the EPCIS 2.0 standard
DOC: dict[str, Any] = {
    "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
    "type": "EPCISDocument", "schemaVersion": "2.0", "creationDate": "2026-11-30T08:00:00Z",
    "epcisBody": {"eventList": [{
        "type": "ObjectEvent", "eventID": "urn:uuid:5b0e7a1e-8a51-4f5e-9d0a-3c1f4c2a9e01",
        "eventTime": "2026-11-30T07:55:00Z", "eventTimeZoneOffset": "+08:00", "action": "ADD",
        "bizStep": "commissioning", "disposition": "active",
        "epcList": ["urn:epc:id:sgtin:0614141.107346.2017", "urn:epc:id:sgtin:0614141.107346.2018"],
        "readPoint": {"id": "urn:epc:id:sgln:0614141.07346.1234"},
    }]},
}


def test_the_shipped_stage_queries_are_current() -> None:
    rendered = epcis_stage_queries.render_queries()
    shipped = {p.stem for p in (queries.QUERY_DIR / "epcis").glob("stage_*.cypher")}
    assert shipped == set(rendered), "run `python -m tracegraph.loaders.epcis_stage_queries`"
    for name, text in rendered.items():
        assert "CREATE (e:AuditEntry)" in queries.load(f"epcis.{name}")  # loads, the audit tail included
        path = queries.QUERY_DIR / "epcis" / f"{name}.cypher"
        assert path.read_text(encoding="utf-8") == text, f"{path} is stale"
        assert "MERGE" not in text.split("UNWIND $rows AS r", 1)[1], name  # the island is CREATEd
    assert {"stage_upsert_epcisevent", "stage_upsert_serial", "stage_concerns_serial",
            "stage_edge_produced_batch_serial"} <= set(rendered)


def test_an_unknown_statement_shape_is_refused() -> None:
    with pytest.raises(ValueError, match="known shape"):
        epcis_stage_queries._staged("UNWIND $rows AS r\nMATCH (n) DETACH DELETE n\n", "tx_x")


def test_a_fresh_import_stages_with_create_and_verifies(empty_store: Any) -> None:
    sent: list[str] = []
    write = empty_store.write

    def spy(name: str, /, **params: Any) -> Any:
        sent.append(name)
        return write(name, **params)

    empty_store.write = spy
    res = import_epcis(empty_store, DOC, ACTOR)
    assert res.events == 1
    assert {"epcis.stage_upsert_serial", "epcis.stage_upsert_epcisevent", "epcis.stage_concerns_serial"} <= set(sent)
    assert not any(n.startswith("epcis.tx_") for n in sent)  # nothing logged: all of it was new
    rows = empty_store.run("MATCH (:EpcisEvent)-[c:CONCERNS]->(s:Serial) RETURN count(c) AS n")
    assert rows[0]["n"] == 2
    assert verify(empty_store).ok
    # the same document again is not new: nothing is staged, the event is recognised
    sent.clear()
    again = import_epcis(empty_store, DOC, ACTOR)
    assert again.known_events == 1 and not any(n.startswith("epcis.stage_") for n in sent)
    assert empty_store.run("MATCH (:EpcisEvent)-[c:CONCERNS]->(:Serial) RETURN count(c) AS n")[0]["n"] == 2


def test_a_staging_step_that_would_write_short_undoes_the_run(empty_store: Any) -> None:
    """Units deleted behind the engine's back between their staging and their CONCERNS edges:
    the edge statement matches one row fewer than it was given, appends no audit entry, and the
    import is refused and rolled back (before: the edges were skipped and the run committed)."""
    write = empty_store.write

    def sabotage(name: str, /, **params: Any) -> Any:
        if name == "epcis.stage_concerns_serial":
            empty_store.run("MATCH (s:Serial {id: 'urn:epc:id:sgtin:0614141.107346.2018'}) DETACH DELETE s")
        return write(name, **params)

    empty_store.write = sabotage
    with pytest.raises(NotFound):
        import_epcis(empty_store, DOC, ACTOR)
    empty_store.write = write
    assert not unfinished_imports(empty_store)
    left = empty_store.run("MATCH (n) WHERE n:EpcisEvent OR n:Serial RETURN count(n) AS n")[0]["n"]
    assert left == 0


def test_the_mapped_facts_are_released_once_written(empty_store: Any) -> None:
    """run_epcis drops the mapped nodes and edges before the commit (Mapped.release), so the
    containment derivation reuses their memory; reading them afterwards is refused, not empty."""
    from tracegraph.loaders.epcis import load_document, run_epcis

    batch = load_document(DOC, "doc", empty_store)
    assert len(batch.mapped.nodes) > 0
    res = run_epcis(empty_store, batch, ACTOR)
    assert res.events == 1 and res.nodes.get("Serial") == 2
    with pytest.raises(RuntimeError, match="released"):
        len(batch.mapped.nodes)
    with pytest.raises(RuntimeError, match="released"):
        list(batch.mapped.edges)
    assert verify(empty_store).ok
