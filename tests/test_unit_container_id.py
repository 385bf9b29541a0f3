"""Each unit's container now (`Serial.container_id`), derived by the containment derivation and
sealed with the unit (issue 14: the graph engine's "now" answers read it with the unit instead of
following its PACKED_IN links; engine/imports/containment.py, engine/trace/containers.py).

The invariant, after every write: a unit's `container_id` is the container of its open link (the
latest opened; two at once, the greater id), computed here from the links themselves. Stories by
hand from EPCIS 2.0 (AggregationEvent ADD/DELETE, §7.4.3) and an ERP plant packed in cases on
pallets; both engines must name the same containers; a change behind the engine's back is named
by `audit verify`."""

from __future__ import annotations

from typing import Any

from tracegraph.engine.access.actor import Actor
from tracegraph.engine.audit.verify import verify
from tracegraph.engine.imports.runner import run_import
from tracegraph.engine.trace import index as trace_index
from tracegraph.engine.trace.impact import impact
from tracegraph.engine.trace.models import ImpactCause, ImpactOptions
from tracegraph.loaders.epcis import import_epcis
from tracegraph.loaders.generator import generate_plant

ACTOR = Actor("u-qa", "Quinn QA", frozenset({"qa"}))
CTX = ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"]
G = "urn:epc:id:sgtin:4012345.011111."
U1, U2, U3 = G + "3001", G + "3002", G + "3003"
CASE_A, CASE_B = "urn:epc:id:sscc:4012345.0000000901", "urn:epc:id:sscc:4012345.0000000902"
PALLET = "urn:epc:id:sscc:4012345.0000000909"
SITE = {"id": "urn:epc:id:sgln:4012345.00001.0"}


def doc(*events: dict[str, Any]) -> dict[str, Any]:
    return {"@context": CTX, "type": "EPCISDocument", "schemaVersion": "2.0", "creationDate": "2026-06-01T00:00:00Z",
            "epcisBody": {"eventList": list(events)}}


def ev(n: int, when: str, **kw: Any) -> dict[str, Any]:
    return {"eventID": f"urn:uuid:6d2e0000-0000-4000-8000-{n:012d}", "eventTime": when,
            "eventTimeZoneOffset": "+00:00", "readPoint": SITE, **kw}


def agg(n: int, when: str, action: str, parent: str, children: list[str] | None = None) -> dict[str, Any]:
    e = ev(n, when, type="AggregationEvent", action=action, parentID=parent,
           bizStep="packing" if action == "ADD" else "unpacking")
    if children is not None:
        e["childEPCs"] = children
    return e


def expected(store: Any) -> dict[str, str | None]:
    """Every unit's container now, from its links (independent of the derivation's code)."""
    out: dict[str, str | None] = {r["id"]: None for r in store.run("MATCH (s:Serial) RETURN s.id AS id", write=False)}
    best: dict[str, tuple[str, str]] = {}
    for r in store.run("MATCH (s:Serial)-[p:PACKED_IN]->(k:Container) WHERE p.to IS NULL "
                       "RETURN s.id AS s, k.id AS k, coalesce(p.from, '') AS f", write=False):
        if r["s"] not in best or (r["f"], r["k"]) > best[r["s"]]:
            best[r["s"]] = (r["f"], r["k"])
    out.update({s: k for s, (_f, k) in best.items()})
    return out


def stored(store: Any) -> dict[str, str | None]:
    return {r["id"]: r["c"] for r in store.run("MATCH (s:Serial) RETURN s.id AS id, s.container_id AS c", write=False)}


def containers_by_engine(store: Any, cause: ImpactCause) -> tuple[dict[str, Any], dict[str, Any]]:
    """Each listed unit's container and the listed containers (id -> parent, units), graph and index."""
    trace_index.refresh(store)
    try:
        got = []
        for engine in ("cypher", "index"):
            r = impact(store, cause, engine=engine)  # type: ignore[arg-type]
            got.append(({s.id: s.container for s in r.serials},
                        {c.id: (c.parent, c.units, tuple(c.unit_ids)) for c in r.containers}))
    finally:
        trace_index.disable(store)
    return got[0], got[1]


def check(store: Any, units: list[str]) -> dict[str, str | None]:
    """The invariant, both engines alike, and the audit proof; the units' containers now."""
    want = expected(store)
    assert stored(store) == want
    graph, index = containers_by_engine(store, ImpactCause(serials=units))
    assert graph == index
    assert graph[0] == {u: want[u] for u in units}
    assert verify(store).ok
    return {u: want[u] for u in units}


def test_each_unit_names_the_container_holding_it_after_every_packing_step(empty_store: Any) -> None:
    s = empty_store
    made = ev(1, "2026-06-01T06:00:00Z", type="ObjectEvent", action="ADD", bizStep="commissioning",
              epcList=[U1, U2, U3], ilmd={"cbvmda:lotNumber": "LOT-CID"})
    import_epcis(s, doc(made, agg(2, "2026-06-01T07:00:00Z", "ADD", CASE_A, [U1, U2]),
                        agg(3, "2026-06-01T07:05:00Z", "ADD", CASE_B, [U3])), ACTOR)
    assert check(s, [U1, U2, U3]) == {U1: CASE_A, U2: CASE_A, U3: CASE_B}
    # both cases onto a pallet: the units' innermost container stays their case
    import_epcis(s, doc(agg(4, "2026-06-01T08:00:00Z", "ADD", PALLET, [CASE_A, CASE_B])), ACTOR)
    assert check(s, [U1, U2, U3]) == {U1: CASE_A, U2: CASE_A, U3: CASE_B}
    graph, _ = containers_by_engine(s, ImpactCause(serials=[U1, U2, U3]))
    assert graph[1][CASE_A][0] == PALLET and graph[1][PALLET][1] == 3
    # U1 moved from A to B (DELETE, then ADD), one event a document, as they arrive
    import_epcis(s, doc(agg(5, "2026-06-02T08:00:00Z", "DELETE", CASE_A, [U1])), ACTOR)
    assert check(s, [U1, U2, U3]) == {U1: None, U2: CASE_A, U3: CASE_B}
    import_epcis(s, doc(agg(6, "2026-06-02T08:10:00Z", "ADD", CASE_B, [U1])), ACTOR)
    assert check(s, [U1, U2, U3]) == {U1: CASE_B, U2: CASE_A, U3: CASE_B}
    # case B emptied (DELETE with no children: all of them)
    import_epcis(s, doc(agg(7, "2026-06-03T08:00:00Z", "DELETE", CASE_B)), ACTOR)
    assert check(s, [U1, U2, U3]) == {U1: None, U2: CASE_A, U3: None}
    # as of a date before the moves, the answer still follows the links of that date
    r = impact(s, ImpactCause(serials=[U1, U2, U3]), ImpactOptions(as_of="2026-06-01T12:00:00+00:00"),
               engine="cypher")
    assert {x.id: x.container for x in r.serials} == {U1: CASE_A, U2: CASE_A, U3: CASE_B}


def test_a_packing_declared_erroneous_takes_the_units_container_with_it(empty_store: Any) -> None:
    """The units packed into CASE_A by mistake (declared `did_not_occur`, no corrective event): the
    link is gone, so CASE_A is no longer their parent, yet the derivation finds them by their
    `container_id` and clears it."""
    s = empty_store
    made = ev(11, "2026-06-01T06:00:00Z", type="ObjectEvent", action="ADD", bizStep="commissioning",
              epcList=[U1, U2], ilmd={"cbvmda:lotNumber": "LOT-CID2"})
    wrong = agg(12, "2026-06-01T07:00:00Z", "ADD", CASE_A, [U1, U2])
    import_epcis(s, doc(made, wrong), ACTOR)
    assert check(s, [U1, U2]) == {U1: CASE_A, U2: CASE_A}
    declared = {**wrong, "errorDeclaration": {"declarationTime": "2026-06-02T09:00:00Z", "reason": "did_not_occur"}}
    import_epcis(s, doc(declared), ACTOR)
    assert check(s, [U1, U2]) == {U1: None, U2: None}
    # corrected into CASE_B by a later document
    import_epcis(s, doc(agg(13, "2026-06-01T07:30:00Z", "ADD", CASE_B, [U1, U2])), ACTOR)
    assert check(s, [U1, U2]) == {U1: CASE_B, U2: CASE_B}


def test_a_container_id_changed_behind_the_engine_changes_the_answer_and_is_named(empty_store: Any) -> None:
    """Why the property is sealed: the graph engine's "now" answer names it as the unit's case."""
    s = empty_store
    made = ev(21, "2026-06-01T06:00:00Z", type="ObjectEvent", action="ADD", bizStep="commissioning",
              epcList=[U1, U2], ilmd={"cbvmda:lotNumber": "LOT-CID3"})
    import_epcis(s, doc(made, agg(22, "2026-06-01T07:00:00Z", "ADD", CASE_A, [U1, U2]),
                        agg(23, "2026-06-01T07:01:00Z", "ADD", CASE_B, [U3])), ACTOR)
    assert verify(s).ok
    s.run("MATCH (s:Serial {id: $id}) SET s.container_id = $k", {"id": U1, "k": CASE_B})
    r = impact(s, ImpactCause(serials=[U1]), engine="cypher")
    assert r.serials[0].container == CASE_B  # the graph engine reads it...
    got = verify(s)
    assert not got.ok and got.problems[0].kind == "record_tampered" and U1 in got.problems[0].message  # ...so it is sealed
    s.run("MATCH (s:Serial {id: $id}) REMOVE s.container_id", {"id": U1})
    assert not verify(s).ok
    s.run("MATCH (s:Serial {id: $id}) SET s.container_id = $k", {"id": U1, "k": CASE_A})
    assert verify(s).ok


def test_an_erp_plant_in_cases_on_pallets_names_each_units_case(empty_store: Any) -> None:
    """The ERP packing file's way (the benchmark's container plant, perf/bench_containers.py):
    every first-leg shipment's units in cases of 10 on a pallet; then the same plant imported
    again changes nothing."""
    from perf.bench_containers import containerise

    s = empty_store
    boxed, n_case, _n_pallet = containerise(generate_plant(400, seed=3))
    run_import(s, boxed, ACTOR, source_files=[])
    want = expected(s)
    assert stored(s) == want and sum(v is not None for v in want.values()) >= n_case
    supplier = boxed.suppliers[0].id
    graph, index = containers_by_engine(s, ImpactCause(supplier=supplier))
    assert graph == index and graph[1]
    assert {u: c for u, c in graph[0].items()} == {u: want[u] for u in graph[0]}
    run_import(s, boxed, ACTOR, source_files=[])
    assert stored(s) == want
    assert verify(s).ok


def test_a_unit_packed_twice_at_once_goes_by_one_rule_now_and_as_of(empty_store: Any) -> None:
    """Bad data an ERP packing file can hold: a unit in two containers, neither link closed. The
    latest packing wins, and of two at the same time the greater container id, in the derivation
    (`container_id`), the index, and the graph engine now and as of a date (which reads the links)."""
    from tracegraph.engine.imports.batch import ImportBatch
    from tracegraph.engine.model import ContainerRecord, PackingRecord

    s = empty_store
    plant = generate_plant(60, seed=5)
    unit_a, unit_b = sorted(x.id for x in plant.serials)[:2]
    batch = ImportBatch()
    batch.extend(plant)
    batch.containers = [ContainerRecord(id=k, kind="case") for k in ("CASE-X", "CASE-Y", "CASE-Z")]
    at, later = "2020-01-01T08:00:00+00:00", "2020-01-01T09:00:00+00:00"
    batch.packing = [PackingRecord(child_kind="serial", child_id=unit_a, container_id="CASE-X", packed_at=at),
                     PackingRecord(child_kind="serial", child_id=unit_a, container_id="CASE-Y", packed_at=later),
                     PackingRecord(child_kind="serial", child_id=unit_b, container_id="CASE-Z", packed_at=at),
                     PackingRecord(child_kind="serial", child_id=unit_b, container_id="CASE-Y", packed_at=at)]
    run_import(s, batch, ACTOR, source_files=[])
    assert check(s, [unit_a, unit_b]) == {unit_a: "CASE-Y", unit_b: "CASE-Z"}
    r = impact(s, ImpactCause(serials=[unit_a, unit_b]), ImpactOptions(as_of="2020-01-02T00:00:00+00:00"),
               engine="cypher")
    assert {x.id: x.container for x in r.serials} == {unit_a: "CASE-Y", unit_b: "CASE-Z"}
    r = impact(s, ImpactCause(serials=[unit_a]), ImpactOptions(as_of="2020-01-01T08:30:00+00:00"), engine="cypher")
    assert r.serials[0].container == "CASE-X"
