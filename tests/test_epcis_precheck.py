"""The event pre-check (loaders/epcis_precheck.py) never proves an invalid event valid.

It may only say True for events GS1's compiled schema accepts: checked on every event of the
public corpus (JSON and XML, converted as the XML reader converts them), on the plant generator's
events, and on thousands of mutations of them (each field deleted, replaced by odd values, an
item duplicated, a field added). And it does prove the common shapes, so the fast path is used.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from conftest import EPCIS_DIR
from tracegraph.engine.errors import ValidationFailed
from tracegraph.loaders.epcis_doc import _MINI_SHELL, _compiled, event_list, fast_ok
from tracegraph.loaders.epcis_input import detect_format, read_document

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"

#: values put in place of each field: wrong types, edge cases of uri / date-time / offset / uom,
#: CBV URIs the 2.0 schema refuses in vocabulary fields, bare words of the wrong vocabulary
ODD: list[Any] = [
    None, True, 0, 1, 1.5, "", " ", "x", "urn:x", "x:", "x: y", "a:b\n", ":b", "1:b", "urn:a b", [], {}, ["urn:a"],
    [1], [{}], {"id": "urn:a"}, {"id": "urn:a", "x": 1}, {"id": "nope"},
    "2025-01-01T00:00:00Z", "2025-02-30T00:00:00Z", "2025-01-01T00:00:00", "2025-01-01t00:00:00z",
    "2025-01-01T24:00:00Z", "2024-02-29T00:00:00.5+01:00", "2025-01-01T00:00:00+0100", "2025-01-01 00:00:00Z",
    "+14:00", "+14:30", "-00:00", "+1:00", "Z", "+13:59",
    "urn:epcglobal:cbv:bizstep:shipping", "https://ns.gs1.org/cbv/BizStep-shipping",
    "http://ns.gs1.org/cbv/Disp-active", "https://ref.gs1.org/cbv/BizStep-shipping",
    "shipping", "in_transit", "owning_party", "desadv", "ADD", "OBSERVE", "DELETE", "add",
    "KGM", "kg", "K", "KGMM", "ObjectEvent", "AggregationEvent", "TransformationEvent", "TransactionEvent",
]
#: names added to an event or to one of its objects
EXTRA_KEYS = ["ilmd", "epcList", "quantityList", "childEPCs", "parentID", "action", "errorDeclaration",
              "@context", "example:ext", "no colon", "persistentDisposition", "sensorElementList", "id", "type",
              "quantity", "uom", "bizTransaction", "source", "destination", "transformationID"]


#: the kinds the pre-check proves (mutations of others can only become these by their `type`)
KINDS = ("ObjectEvent", "AggregationEvent", "TransformationEvent")


def _corpus_events() -> list[Any]:
    out: list[Any] = []
    for base in (EPCIS_DIR, FIXTURES):
        for p in sorted(base.rglob("*")):
            kind = detect_format(p) if p.is_file() else None
            if kind == "epcis-json":
                try:
                    doc = json.loads(p.read_text(encoding="utf-8-sig"))
                except ValueError:
                    continue
                body = doc.get("epcisBody") if isinstance(doc, dict) else None
                items = body.get("eventList") if isinstance(body, dict) else None
                if isinstance(items, list):
                    out.extend(items)
                elif isinstance(doc, list):
                    out.extend(doc)
                elif isinstance(doc, dict) and "eventTime" in doc:
                    out.append(doc)
            elif kind == "epcis-xml":
                try:  # the XML reader's converted events go through the same event check
                    out.extend(event_list(read_document(p)))
                except (ValidationFailed, ValueError, KeyError, TypeError):
                    continue
    return out


def _plant_events(tmp: Path) -> list[dict[str, Any]]:
    from tracegraph.loaders.generator import generate_bundle

    generate_bundle(tmp / "plant", serials=60, seed=3, fmt="both")
    doc = json.loads(next((tmp / "plant" / "epcis").glob("*.jsonld")).read_text(encoding="utf-8"))
    return list(doc["epcisBody"]["eventList"])


def _schema_ok(e: Any) -> bool:
    return fast_ok({**_MINI_SHELL, "epcisBody": {"eventList": [e]}})


def _paths(x: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield path
    if isinstance(x, dict):
        for k, v in x.items():
            yield from _paths(v, (*path, k))
    elif isinstance(x, list):
        for i, v in enumerate(x[:2]):
            yield from _paths(v, (*path, i))


def _get(x: Any, path: tuple[Any, ...]) -> Any:
    for p in path:
        x = x[p]
    return x


def _mutations(e: dict[str, Any]) -> Iterator[Any]:
    """Mutations of `e`, each made in place on one copy and undone after it is yielded (so the
    caller checks it before asking for the next one)."""
    m = json.loads(json.dumps(e))
    for path in list(_paths(m)):
        if not path:
            continue
        holder, last = _get(m, path[:-1]), path[-1]
        was = holder[last]
        for v in ODD:
            holder[last] = json.loads(json.dumps(v))
            yield m
        holder[last] = was
        if isinstance(holder, dict):
            del holder[last]
            yield m
        else:
            holder.append(was)  # a duplicate item
            yield m
            holder.pop()
            items = list(holder)
            holder.clear()
            yield m
            holder.extend(items)
        holder[last] = was
    for path in list(_paths(m)):
        target = _get(m, path)
        if isinstance(target, dict):
            for k in EXTRA_KEYS:
                if k in target:
                    continue
                for v in ("urn:a", {"declarationTime": "2025-01-01T00:00:00Z"}, ["urn:a"], 1):
                    target[k] = v
                    yield m
                    del target[k]


def _shapes(events: list[Any], per_shape: int = 1) -> list[dict[str, Any]]:
    """One event of each shape (kind and fields) the pre-check handles, so the mutations cover every shape quickly."""
    seen: dict[Any, int] = {}
    out = []
    for e in events:
        if not isinstance(e, dict) or e.get("type") not in KINDS:
            continue
        k = (str(e.get("type")), tuple(sorted(map(str, e))))
        if seen.get(k, 0) < per_shape:
            seen[k] = seen.get(k, 0) + 1
            out.append(e)
    return out


def test_precheck_only_proves_events_the_schema_accepts(tmp_path: Path) -> None:
    pre = _compiled()[2]
    assert pre is not None  # the pre-check is in use
    base = _corpus_events() + _plant_events(tmp_path)
    proven = {"base": 0, "mutated": 0}
    for e in base:
        if pre(e):
            assert _schema_ok(e), e
            proven["base"] += 1
    tried = 0
    for e in _shapes(base):
        for m in _mutations(e):
            tried += 1
            if pre(m):
                assert _schema_ok(m), (e, m)
                proven["mutated"] += 1
    # the pre-check proves much of the corpus and many mutations (it is not a check that always says no)
    assert proven["base"] > 100 and proven["mutated"] > 1000 and tried > 20_000, (proven, tried)


def test_precheck_proves_the_shapes_plants_send(tmp_path: Path) -> None:
    """Every event of the plant generator (commissioning, shipping, receiving, transformations),
    and the one-event-per-unit form of them (perf/bench_epcis.py), is proven without the schema."""
    from perf.bench_epcis import one_event_per_unit

    pre = _compiled()[2]
    events = _plant_events(tmp_path)
    units = one_event_per_unit(events)
    assert len(units) > len(events) and {e["type"] for e in units} >= {"ObjectEvent", "TransformationEvent"}
    assert all(pre(e) for e in units)
    packing = {"type": "AggregationEvent", "eventTime": "2025-01-01T00:00:00Z", "eventTimeZoneOffset": "+00:00",
               "action": "ADD", "parentID": "urn:epc:id:sscc:4012345.0000000001",
               "childEPCs": ["urn:epc:id:sgtin:4012345.011111.1"], "bizStep": "packing"}
    assert pre(packing) and _schema_ok(packing)
    # an extension field (named by a URI) is proven; what it does not prove goes to the schema
    assert pre({**units[0], "example:ext": {"a": [1]}}) and _schema_ok({**units[0], "example:ext": {"a": [1]}})
    assert not pre({**units[0], "noColon": 1}) and not _schema_ok({**units[0], "noColon": 1})
    declared = {**units[0], "errorDeclaration": {"declarationTime": "2025-01-01T00:00:00Z"}}
    assert not pre(declared) and _schema_ok(declared)
