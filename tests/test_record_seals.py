"""Imported records under the audit proof (issue 15 item 1): every node and edge an import writes
carries a seal its audit entry commits, and `audit verify` names any change made behind the
engine's back -- a property changed, a record added, deleted, an edge added or removed -- on every
label and edge type the ERP bundle writes, while the engine's own later writes (re-import,
quarantine, returns, containment, rollback) keep verifying."""

from __future__ import annotations

from typing import Any

import pytest

from tracegraph.engine.access.actor import Actor
from tracegraph.engine.audit import seals
from tracegraph.engine.audit.verify import verify
from tracegraph.engine.imports.runner import SourceFile, run_import
from tracegraph.loaders.generator import generate_plant

ADMIN = Actor.system("seal tests")


def _files(tag: str) -> list[SourceFile]:
    return [SourceFile.of_bytes(f"plant-{tag}", tag.encode())]


@pytest.fixture()
def plant(empty_store: Any) -> Any:
    rep = run_import(empty_store, generate_plant(120, seed=5), ADMIN, source_files=_files("a"))
    assert rep.status == "committed"
    r = verify(empty_store)
    assert r.ok, r.problems
    return empty_store


def _kinds(store: Any) -> list[str]:
    r = verify(store)
    assert not r.ok
    return [p.kind for p in r.problems]


def _labels_with_nodes(store: Any) -> list[str]:
    return [lb for lb in seals.NODE_FIELDS
            if store.run(f"MATCH (n:{lb}) RETURN count(n) AS c", write=False)[0]["c"]]


def _triples_with_edges(store: Any) -> list[tuple[str, str, str]]:
    return [t for t in seals.EDGE_FIELDS
            if store.run(f"MATCH (:{t[0]})-[e:{t[1]}]->(:{t[2]}) RETURN count(e) AS c", write=False)[0]["c"]]


def test_every_imported_record_is_sealed_and_counted(plant: Any) -> None:
    r = verify(plant)
    nodes = sum(plant.run(f"MATCH (n:{lb}) RETURN count(n) AS c", write=False)[0]["c"] for lb in seals.NODE_FIELDS)
    edges = sum(plant.run(f"MATCH (:{t[0]})-[e:{t[1]}]->(:{t[2]}) RETURN count(e) AS c", write=False)[0]["c"]
                for t in seals.EDGE_FIELDS)
    assert r.sealed_checked == nodes + edges > 500
    unsealed = sum(plant.run(f"MATCH (n:{lb}) WHERE n.seal IS NULL RETURN count(n) AS c", write=False)[0]["c"]
                   for lb in seals.NODE_FIELDS)
    assert unsealed == 0


@pytest.mark.req("REQ-AUD-003")
def test_one_property_changed_on_any_label_is_named(plant: Any) -> None:
    labels = _labels_with_nodes(plant)
    assert {"Serial", "Batch", "MaterialLot", "Shipment", "Customer", "Supplier", "Product"} <= set(labels)
    for lb in labels:
        field = next(f for f, k in seals.NODE_FIELDS[lb] if f != "id" and k == "s")
        row = plant.run(f"MATCH (n:{lb}) RETURN n.id AS id, n.`{field}` AS v LIMIT 1", write=False)[0]
        plant.run(f"MATCH (n:{lb} {{id: $id}}) SET n.`{field}` = $v", {"id": row["id"], "v": "tampered"})
        r = verify(plant)
        assert not r.ok, f"{lb}.{field} changed behind the engine's back was not found"
        p = r.problems[0]
        assert p.kind == "record_tampered" and lb in p.message and row["id"] in p.message, p
        assert isinstance(p.seq, int) and p.seq > 0  # names the entry that sealed it
        plant.run(f"MATCH (n:{lb} {{id: $id}}) SET n.`{field}` = $v", {"id": row["id"], "v": row["v"]})
        assert verify(plant).ok, f"restoring {lb}.{field} did not verify again"


def test_status_and_holder_of_an_imported_unit_changed_behind_the_engine(plant: Any) -> None:
    """The issue's own example: an imported unit made `destroyed` with another customer."""
    sid = plant.run("MATCH (s:Serial) RETURN s.id AS id LIMIT 1", write=False)[0]["id"]
    plant.run("MATCH (s:Serial {id: $id}) SET s.status = 'destroyed', s.customer_id = 'C-NOBODY'", {"id": sid})
    assert "record_tampered" in _kinds(plant)


def test_a_record_added_outside_the_engine_is_named(plant: Any) -> None:
    plant.run("CREATE (:Serial {id: 'FORGED-1', status: 'in_stock'})")
    r = verify(plant)
    assert not r.ok and r.problems[0].kind == "record_unsealed" and "FORGED-1" in r.problems[0].message


def test_a_copied_seal_does_not_hide_an_added_record(plant: Any) -> None:
    s = plant.run("MATCH (s:Serial) RETURN s.id AS id, s.seal AS seal, s.sealed_seq AS q, properties(s) AS p LIMIT 1",
                  write=False)[0]
    props = {**s["p"], "id": "FORGED-2"}
    props["seal"] = seals.node_seal("Serial", props)  # a well-formed seal, but no entry committed it
    plant.run("CREATE (n:Serial) SET n = $p", {"p": props})
    assert "ledger_mismatch" in _kinds(plant)


def test_a_deleted_record_is_detected_on_every_label(plant: Any) -> None:
    for lb in ("Serial", "Shipment", "MaterialLot", "Customer"):
        row = plant.run(f"MATCH (n:{lb}) RETURN n.id AS id, properties(n) AS p LIMIT 1", write=False)[0]
        plant.run(f"MATCH (n:{lb} {{id: $id}}) DETACH DELETE n", {"id": row["id"]})
        kinds = _kinds(plant)
        assert "ledger_mismatch" in kinds, (lb, kinds)


def test_an_edge_added_removed_or_changed_is_detected(plant: Any) -> None:
    triples = _triples_with_edges(plant)
    assert ("Serial", "SHIPPED_IN", "Shipment") in triples and ("MaterialLot", "CONSUMED_IN", "Batch") in triples
    # added: a unit shipped to a shipment it never was in
    sid = plant.run("MATCH (s:Serial) WHERE NOT (s)-[:SHIPPED_IN]->() RETURN s.id AS id LIMIT 1", write=False)[0]["id"]
    shp = plant.run("MATCH (s:Shipment) RETURN s.id AS id LIMIT 1", write=False)[0]["id"]
    plant.run("MATCH (a:Serial {id: $a}), (b:Shipment {id: $b}) CREATE (a)-[:SHIPPED_IN {qty: 1.0}]->(b)",
              {"a": sid, "b": shp})
    r = verify(plant)
    assert r.problems[0].kind == "record_unsealed" and sid in r.problems[0].message
    plant.run("MATCH (:Serial {id: $a})-[e:SHIPPED_IN]->(:Shipment {id: $b}) DELETE e", {"a": sid, "b": shp})
    assert verify(plant).ok
    # changed: the quantity of a consumption
    e = plant.run("MATCH (a:MaterialLot)-[e:CONSUMED_IN]->(b:Batch) RETURN a.id AS a, b.id AS b, e.qty AS q LIMIT 1",
                  write=False)[0]
    plant.run("MATCH (:MaterialLot {id: $a})-[e:CONSUMED_IN]->(:Batch {id: $b}) SET e.qty = e.qty + 1", e)
    assert _kinds(plant)[0] == "record_tampered"
    plant.run("MATCH (:MaterialLot {id: $a})-[e:CONSUMED_IN]->(:Batch {id: $b}) SET e.qty = $q", e)
    assert verify(plant).ok
    # removed: a unit's shipment edge (its customer would vanish from an impact answer)
    for t in triples:
        row = plant.run(f"MATCH (a:{t[0]})-[e:{t[1]}]->(b:{t[2]}) RETURN a.id AS a, b.id AS b, properties(e) AS p LIMIT 1",
                        write=False)[0]
        plant.run(f"MATCH (:{t[0]} {{id: $a}})-[e:{t[1]}]->(:{t[2]} {{id: $b}}) DELETE e", {"a": row["a"], "b": row["b"]})
        assert "ledger_mismatch" in _kinds(plant), t
        plant.run(f"MATCH (a:{t[0]} {{id: $a}}), (b:{t[2]} {{id: $b}}) CREATE (a)-[e:{t[1]}]->(b) SET e = $p",
                  {"a": row["a"], "b": row["b"], "p": row["p"]})
        assert verify(plant).ok, t


def test_the_engines_own_writes_keep_verifying(plant: Any) -> None:
    """Re-import with changes (seals replaced and dropped), a field changed by a command, and a
    rolled-back run: the proof holds."""
    from tracegraph.engine import commands

    b = generate_plant(120, seed=5)
    b.serials[0] = b.serials[0].model_copy(update={"warehouse": "WH-MOVED"})
    b.customers[0] = b.customers[0].model_copy(update={"name": "Renamed Hospital"})
    rep = run_import(plant, b, ADMIN, source_files=_files("b"))
    assert rep.status == "committed" and rep.counts["serials"].changed == 1
    assert verify(plant).ok, verify(plant).problems
    sid = b.serials[1].id
    commands.update(plant, "Serial", sid, {"warehouse": "WH-QA"}, ADMIN, reason="relabelled")
    r = verify(plant)
    assert r.ok, r.problems
    # a field changed by a command is held to the audited value too
    plant.run("MATCH (s:Serial {id: $id}) SET s.warehouse = 'WH-OTHER'", {"id": sid})
    assert not verify(plant).ok
    plant.run("MATCH (s:Serial {id: $id}) SET s.warehouse = 'WH-QA'", {"id": sid})
    # a staged run rolled back: its seals are dropped with its records
    from tracegraph.engine.clock import SystemClock
    from tracegraph.engine.imports.plan import plan_import
    from tracegraph.engine.imports.runner import ImportWriter

    more = generate_plant(60, seed=9)
    w = ImportWriter(plant, ADMIN, SystemClock(), "imp-rollback-test", 50, None)
    p = plan_import(plant, more)
    w.start(_files("c"), p)
    w.stage(p)
    assert verify(plant).ok  # staged records are sealed by their staging entries
    w.rollback(result="rolled_back")
    r = verify(plant)
    assert r.ok, r.problems


# --- EPCIS: the events' records are sealed too, one document or one event at a time -------------


def _epcis_plant(store: Any, one_by_one: bool) -> None:
    from test_epcis_order import EVENTS, doc
    from tracegraph.loaders.epcis import import_epcis

    if one_by_one:
        for ev in EVENTS:
            import_epcis(store, doc([ev]), ADMIN)
    else:
        import_epcis(store, doc(EVENTS), ADMIN)
    r = verify(store)
    assert r.ok, r.problems


@pytest.mark.parametrize("one_by_one", [False, True], ids=["one-document", "event-by-event"])
def test_epcis_records_are_sealed_and_tampering_is_named(empty_store: Any, one_by_one: bool) -> None:
    from test_epcis_order import UNIT

    _epcis_plant(empty_store, one_by_one)
    for lb in ("Serial", "Batch", "MaterialLot", "Shipment", "Customer", "Product"):
        n = empty_store.run(f"MATCH (n:{lb}) RETURN count(n) AS c, count(n.seal) AS s", write=False)[0]
        assert n["c"] > 0 and n["s"] == n["c"], (lb, n)
    # the unit's status and holder, changed behind the engine's back
    unit = UNIT + "S1"
    old = empty_store.run("MATCH (s:Serial {id: $id}) RETURN s.status AS s", {"id": unit}, write=False)[0]["s"]
    empty_store.run("MATCH (s:Serial {id: $id}) SET s.status = 'destroyed'", {"id": unit})
    r = verify(empty_store)
    assert not r.ok and r.problems[0].kind == "record_tampered" and unit in r.problems[0].message
    empty_store.run("MATCH (s:Serial {id: $id}) SET s.status = $s", {"id": unit, "s": old})
    assert verify(empty_store).ok
    # a shipment edge an event wrote, removed
    e = empty_store.run("MATCH (a:Serial)-[e:SHIPPED_IN]->(b:Shipment) RETURN a.id AS a, b.id AS b, properties(e) AS p "
                        "LIMIT 1", write=False)[0]
    empty_store.run("MATCH (:Serial {id: $a})-[e:SHIPPED_IN]->(:Shipment {id: $b}) DELETE e", {"a": e["a"], "b": e["b"]})
    assert "ledger_mismatch" in _kinds(empty_store)
    empty_store.run("MATCH (a:Serial {id: $a}), (b:Shipment {id: $b}) CREATE (a)-[e:SHIPPED_IN]->(b) SET e = $p", e)
    assert verify(empty_store).ok
    # a lot deleted
    empty_store.run("MATCH (n:MaterialLot) WITH n LIMIT 1 DETACH DELETE n")
    assert "ledger_mismatch" in _kinds(empty_store)


def test_falkordb_hides_properties_of_a_same_label_edge_merged_in_the_statement(empty_store: Any) -> None:
    """The FalkorDB fact that shaped EPCIS aggregation sealing (docs/falkordb.md, engine/imports/
    merge_seals.py): an edge MERGEd in FOREACH between two Containers is not visible with its
    properties later in the same statement, while one between a Serial and a Container is; so the
    pack steps set seals from a prediction where they write, never by reading back. If this starts
    failing, FalkorDB changed: the fact in docs/falkordb.md needs updating."""
    empty_store.run("CREATE (:Container {id: 'a'}), (:Container {id: 'b'}), (:Serial {id: 's'})")
    got = {}
    for label, child in (("Container", "a"), ("Serial", "s")):
        q = (f"UNWIND $rows AS r OPTIONAL MATCH (c:{label} {{id: r.f}}) OPTIONAL MATCH (k:Container {{id: r.t}}) "
             "FOREACH (_ IN CASE WHEN c IS NULL OR k IS NULL THEN [] ELSE [1] END | "
             "MERGE (c)-[p:PACKED_IN {from: r.from}]->(k) SET p.to = r.to) "
             "WITH count(r) AS n "
             f"OPTIONAL MATCH (c:{label} {{id: $child}})-[p:PACKED_IN]->(o:Container {{id: 'b'}}) RETURN p.from AS f")
        got[label] = empty_store.run(q, {"rows": [{"f": child, "t": "b", "from": "x", "to": "y"}], "child": child})[0]["f"]
    assert got == {"Container": None, "Serial": "x"}
    assert empty_store.run("MATCH (:Container {id: 'a'})-[p:PACKED_IN]->() RETURN p.from AS f", write=False)[0]["f"] == "x"


def test_epcis_packing_links_are_sealed_on_every_level(empty_store: Any) -> None:
    """Units in cases on a pallet, packed, unpacked and shipped by EPCIS aggregation events (the
    container story of tests/test_containers.py): every PACKED_IN link is sealed, a case-on-pallet
    link included, and changing one behind the engine's back is named."""
    from test_containers import load

    load(empty_store)
    assert verify(empty_store).ok
    rows = empty_store.run("MATCH (c)-[p:PACKED_IN]->(o:Container) RETURN labels(c)[0] AS l, c.id AS c, o.id AS o, "
                           "p.seal AS s, p.`to` AS t", write=False)
    assert {r["l"] for r in rows} >= {"Serial", "Container"} and all(r["s"] for r in rows), rows
    case = next(r for r in rows if r["l"] == "Container")
    q = "MATCH (:Container {id: $c})-[p:PACKED_IN]->(:Container {id: $o}) SET p.`to` = $t"
    empty_store.run(q, {"c": case["c"], "o": case["o"], "t": "2030-01-01T00:00:00.000000+00:00"})
    r = verify(empty_store)
    assert not r.ok and r.problems[0].kind == "record_tampered" and case["c"] in r.problems[0].message
    empty_store.run(q, {"c": case["c"], "o": case["o"], "t": case["t"]})
    assert verify(empty_store).ok


def test_incremental_verify_checks_the_records_sealed_since(plant: Any) -> None:
    """`verify(from_seq=N)`: the records sealed by entry N or later are checked exactly (content and
    ledgers), quickly, without reading the rest."""
    head = int(plant.run("MATCH (h:AuditHead) RETURN h.seq AS s", write=False)[0]["s"])
    b = generate_plant(120, seed=5)
    b.serials[3] = b.serials[3].model_copy(update={"warehouse": "WH-NEW"})
    run_import(plant, b, ADMIN, source_files=_files("inc"))
    full = verify(plant)
    inc = verify(plant, from_seq=head + 1)
    assert full.ok and inc.ok, (full.problems, inc.problems)
    assert 0 < inc.sealed_checked < full.sealed_checked
    plant.run("MATCH (s:Serial {id: $id}) SET s.status = 'destroyed'", {"id": b.serials[3].id})
    r = verify(plant, from_seq=head + 1)
    assert not r.ok and r.problems[0].kind == "record_tampered" and b.serials[3].id in r.problems[0].message


def _bundle_plant(store: Any) -> None:
    run_import(store, generate_plant(120, seed=5), ADMIN, source_files=_files("sys"))


def _epcis_story(store: Any) -> None:
    from test_containers import load
    from test_epcis_order import EVENTS, doc
    from tracegraph.loaders.epcis import import_epcis

    load(store)  # ERP parties, then EPCIS: packing on three levels, shipping, receiving, unpacking
    import_epcis(store, doc(EVENTS), ADMIN)  # receipts from a supplier, transformations, commissioning


@pytest.mark.req("REQ-AUD-003")
@pytest.mark.parametrize("build", [_bundle_plant, _epcis_story], ids=["erp-bundle", "epcis"])
def test_systematic_tampering_on_every_label_and_edge_type(empty_store: Any, build: Any) -> None:
    """On every sealed label and edge type an importer wrote: one property changed, one record added,
    one deleted, one edge added and one removed -- each found, and the graph verifies once undone."""
    build(empty_store)
    st = empty_store
    assert verify(st).ok, verify(st).problems
    labels, triples = _labels_with_nodes(st), _triples_with_edges(st)
    assert len(labels) >= 8 and len(triples) >= 6, (labels, triples)
    for lb in labels:
        row = st.run(f"MATCH (n:{lb}) RETURN n.id AS id, properties(n) AS p LIMIT 1", write=False)[0]
        # changed: the first model field it has a value for (or one it lacks)
        f = next((f for f, _ in seals.NODE_FIELDS[lb] if f != "id" and row["p"].get(f) is not None),
                 seals.NODE_FIELDS[lb][1][0])
        st.run(f"MATCH (n:{lb} {{id: $id}}) SET n.`{f}` = 'X-TAMPERED'", {"id": row["id"]})
        assert "record_tampered" in _kinds(st), (lb, f)
        st.run(f"MATCH (n:{lb} {{id: $id}}) SET n.`{f}` = $v", {"id": row["id"], "v": row["p"].get(f)})
        # added
        st.run(f"CREATE (:{lb} {{id: 'FORGED-{lb}'}})")
        assert "record_unsealed" in _kinds(st), lb
        st.run(f"MATCH (n:{lb} {{id: 'FORGED-{lb}'}}) DELETE n")
        assert verify(st).ok, (lb, verify(st).problems[:2])
    for t in triples:
        e = st.run(f"MATCH (a:{t[0]})-[e:{t[1]}]->(b:{t[2]}) RETURN a.id AS a, b.id AS b, properties(e) AS p LIMIT 1",
                   write=False)[0]
        # added: a second, unsealed edge between the same ends
        st.run(f"MATCH (a:{t[0]} {{id: $a}}), (b:{t[2]} {{id: $b}}) CREATE (a)-[:{t[1]} {{forged: true}}]->(b)", e)
        assert "record_unsealed" in _kinds(st), t
        st.run(f"MATCH (:{t[0]} {{id: $a}})-[x:{t[1]}]->(:{t[2]} {{id: $b}}) WHERE x.forged DELETE x", e)
        # removed
        st.run(f"MATCH (:{t[0]} {{id: $a}})-[x:{t[1]}]->(:{t[2]} {{id: $b}}) DELETE x", e)
        assert "ledger_mismatch" in _kinds(st), t
        st.run(f"MATCH (a:{t[0]} {{id: $a}}), (b:{t[2]} {{id: $b}}) CREATE (a)-[x:{t[1]}]->(b) SET x = $p", e)
        assert verify(st).ok, (t, verify(st).problems[:2])
    # deleted: one record of every label (its edges go with it)
    for lb in labels:
        st.run(f"MATCH (n:{lb}) WITH n LIMIT 1 DETACH DELETE n")
        assert "ledger_mismatch" in _kinds(st), lb


@pytest.mark.parametrize("label", ["Serial", "Shipment", "Batch", "Container"])
def test_epcis_state_times_are_under_the_seal(empty_store: Any, label: str) -> None:
    """`state_at` (property -> eventTime of the event that set it) decides which later event may
    change a node's state (loaders/epcis_state.py): a change to it behind the engine's back, or its
    removal, is named like a change to the state itself."""
    from test_epcis_order import CASE_B, EVENTS, PACKING, _ev, doc
    from tracegraph.loaders.epcis import import_epcis

    assert "state_at" in dict(seals.NODE_FIELDS[label])
    destroyed = _ev("ObjectEvent", "2026-02-10T08:00:00Z", 41, action="DELETE", bizStep="destroying",
                    epcList=[CASE_B])
    for ev in EVENTS + PACKING[1:] + [destroyed]:  # one event at a time: state times merged across imports
        import_epcis(empty_store, doc([ev]), ADMIN)
    assert verify(empty_store).ok
    row = empty_store.run(f"MATCH (n:{label}) WHERE n.state_at IS NOT NULL RETURN n.id AS id, n.state_at AS a "
                          "LIMIT 1", write=False)[0]
    q = f"MATCH (n:{label} {{id: $id}}) SET n.state_at = $a"
    empty_store.run(q, {"id": row["id"], "a": '{"status":"2099-01-01T00:00:00.000000+00:00"}'})
    r = verify(empty_store)
    assert not r.ok and r.problems[0].kind == "record_tampered" and row["id"] in r.problems[0].message, r.problems
    empty_store.run(f"MATCH (n:{label} {{id: $id}}) REMOVE n.state_at", {"id": row["id"]})
    assert "record_tampered" in _kinds(empty_store)
    empty_store.run(q, row)
    assert verify(empty_store).ok


def test_an_erp_update_of_a_unit_epcis_stamped_keeps_its_state_times_sealed(empty_store: Any) -> None:
    """The ERP import states a record's fields, not its EPCIS state times: a re-import that changes
    a unit an EPCIS event stamped keeps `state_at`, and its seal counts it."""
    from tracegraph.loaders.epcis import import_epcis

    plant = generate_plant(40, seed=9)
    run_import(empty_store, plant, ADMIN, source_files=_files("erp"))
    serial = plant.serials[0]
    ev = {"type": "ObjectEvent", "eventID": "urn:uuid:5e1a0000-0000-4000-8000-000000000001",
          "eventTime": "2030-01-02T08:00:00Z", "eventTimeZoneOffset": "+00:00", "action": "OBSERVE",
          "bizStep": "shipping", "disposition": "in_transit", "epcList": [f"urn:tracegraph:Serial:{serial.id}"]}
    import_epcis(empty_store, {"@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
                               "type": "EPCISDocument", "schemaVersion": "2.0",
                               "creationDate": "2030-01-03T00:00:00Z", "epcisBody": {"eventList": [ev]}}, ADMIN)
    stamped = empty_store.run("MATCH (s:Serial {id: $id}) RETURN s.state_at AS a", {"id": serial.id},
                              write=False)[0]["a"]
    assert stamped and verify(empty_store).ok
    changed = generate_plant(40, seed=9)
    changed.serials[0] = changed.serials[0].model_copy(update={"udi": "(01)00000000000000(21)CHANGED"})
    rep = run_import(empty_store, changed, ADMIN, source_files=_files("erp-2"))
    assert rep.status == "committed"
    row = empty_store.run("MATCH (s:Serial {id: $id}) RETURN s.state_at AS a, s.udi AS u", {"id": serial.id},
                          write=False)[0]
    assert row == {"a": stamped, "u": "(01)00000000000000(21)CHANGED"}
    r = verify(empty_store)
    assert r.ok, r.problems[:3]
