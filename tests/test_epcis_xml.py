"""EPCIS XML and format detection through the doors a user has: `tracegraph import` (format from
the content, `--format`), `tracegraph export epcis --format xml|xml-1.2`, `POST /imports` with an
XML file, `GET /export/epcis?format=xml` / `Accept: application/xml`. Real embedded database."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from api_support import Api, make_api, make_users
from conftest import EPCIS_DIR
from graph_snapshot import snapshot
from tracegraph.engine.audit.chain import Actor
from tracegraph.engine.errors import ValidationFailed
from tracegraph.loaders.epcis import export_epcis, import_epcis
from tracegraph.loaders.epcis_input import detect_format
from tracegraph.loaders.epcis_xml_out import document_to_xml

ACTOR = Actor(id="u-qa", name="QA Importer", roles=frozenset({"qa"}))
OE2 = EPCIS_DIR / "openepcis-test-resources" / "2.0" / "EPCIS"
pytestmark = pytest.mark.skipif(not EPCIS_DIR.is_dir(), reason="no shared EPCIS material")




def _business(store: Any) -> int:
    return store.run("MATCH (n) WHERE NOT n:AuditEntry AND NOT n:AuditHead AND NOT n:Token AND NOT n:User "
                     "AND NOT n:ImportRun RETURN count(n) AS c", write=False)[0]["c"]


def _xsd(version: str) -> etree.XMLSchema:
    main = {"2.0": "EPCglobal-epcis-2_0.xsd", "1.2": "EPCglobal-epcis-1_2.xsd"}[version]
    return etree.XMLSchema(etree.parse(str(EPCIS_DIR / "xsd" / version / main)))


class _Keep:
    """The CLI closes its store; keep the test's graph open."""

    def __init__(self, s: Any) -> None:
        self.s = s

    def __getattr__(self, name: str) -> Any:
        return getattr(self.s, name)

    def close(self) -> None:
        pass


def _cli(monkeypatch: pytest.MonkeyPatch, s: Any, *args: str) -> Any:
    from typer.testing import CliRunner

    import tracegraph.cli.imports as cli_imports
    import tracegraph.cli.scan as cli_scan
    from tracegraph.cli import app

    monkeypatch.setattr(cli_imports, "store", lambda: _Keep(s))
    monkeypatch.setattr(cli_scan, "store", lambda: _Keep(s))
    return CliRunner().invoke(app, list(args))


# ---------------------------------------------------------------------------------------
# mapping
# ---------------------------------------------------------------------------------------


def test_12_transformation_in_extension_maps_like_json(fresh: Any) -> None:
    """1.2 keeps TransformationEvent in EventList/extension and CBV values as URNs."""
    s = fresh()
    res = import_epcis(s, EPCIS_DIR / "xml-examples" / "1.2" / "TransformationEvent.xml", ACTOR)
    assert res.event_types == {"TransformationEvent": 1}
    ev = s.run("MATCH (e:EpcisEvent) RETURN e.biz_step AS s, e.disposition AS d, e.json AS j", write=False)[0]
    assert (ev["s"], ev["d"]) == ("commissioning", "in_progress")
    stored = json.loads(ev["j"])
    assert stored["ilmd"] == {"example:bestBeforeDate": "2014-12-10", "example:batch": "XYZ"}
    assert stored["example:myField"] == "Example of a vendor/user extension"
    lots = s.run("MATCH (l)-[c:CONSUMED_IN]->(b:Batch) RETURN l.id AS l, c.qty AS q ORDER BY l", write=False)
    assert {r["l"] for r in lots} >= {"urn:epc:class:lgtin:4012345.011111.4444", "urn:epc:class:lgtin:0614141.077777.987"}


def test_12_extension_wrapped_fields_are_unwrapped(fresh: Any) -> None:
    """quantityList, source/destination, ILMD, eventID and errorDeclaration of a 1.2 event sit in
    `extension` / `baseExtension`; they reach the graph like their 2.0 counterparts."""
    from tracegraph.loaders.epcis_xml import read_xml

    doc = read_xml(EPCIS_DIR / "openepcis-test-resources/1.2/EPCIS/XML/Capture/Documents/"
                                "ObjectEvent_with_baseExtension_errorDeclaration.xml")
    first, second = doc["epcisBody"]["eventList"][:2]
    assert first["sourceList"] == [{"type": "owning_party", "source": "urn:epc:id:sgln:9521141.00000.0"}]
    assert first["bizTransactionList"] == [{"type": "po", "bizTransaction": "urn:epcglobal:cbv:bt:9521141000005:456"}]
    assert (first["bizStep"], first["disposition"]) == ("shipping", "in_transit")
    assert second["errorDeclaration"]["reason"] == "incorrect_data"
    assert second["errorDeclaration"]["correctiveEventIDs"] == ["urn:uuid:6926712e-599f-4c4e-b6e9-8dd888c906bd"]
    assert not {"extension", "baseExtension"} & (set(first) | set(second))
    s = fresh()
    import_epcis(s, doc, ACTOR)
    rows = s.run("MATCH (e:EpcisEvent) RETURN e.error_declared AS err ORDER BY err", write=False)
    assert any(r["err"] for r in rows) and not all(r["err"] for r in rows)
    # the shipment's source and destination parties reached the graph from inside <extension>
    sh = s.run("MATCH (sh:Shipment)-[:DELIVERED_TO]->(c:Customer) RETURN sh.from_id AS f, c.id AS c",
               write=False)
    assert {"f": "urn:epc:id:sgln:9521141.00000.0", "c": "urn:epc:id:sgln:9521999.00000.0"} in sh


# ---------------------------------------------------------------------------------------
# refusals
# ---------------------------------------------------------------------------------------


def test_xsd_refusal_names_line_element_and_expectation(fresh: Any) -> None:
    s = fresh()
    with pytest.raises(ValidationFailed) as ei:
        import_epcis(s, OE2 / "XML/Capture/Documents/JumbledFieldsOrder.xml", ACTOR)
    p = ei.value.problems[0]
    assert (p.record, p.field) == ("line 8 (event 0)", "disposition")
    assert "Expected is ( eventTime )" in p.message and p.source == "JumbledFieldsOrder.xml"
    assert "nothing was imported" in (ei.value.hint or "")
    assert _business(s) == 0


def test_broken_xml_and_forced_format(tmp_path: Path, fresh: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    bad = tmp_path / "events.dat"
    bad.write_text("<epcis:EPCISDocument xmlns:epcis='urn:epcglobal:epcis:xsd:2'><EPCISBody>")
    s = fresh()
    res = _cli(monkeypatch, s, "import", str(bad), "--json")
    assert res.exit_code != 0 and "not well-formed XML" in res.output
    # a JSON document forced through the XML reader is refused as XML, not guessed around
    res = _cli(monkeypatch, s, "import", str(EPCIS_DIR / "examples" / "Example_9.6.1-ObjectEvent.jsonld"),
               "--format", "epcis-xml")
    assert res.exit_code != 0 and "not well-formed XML" in res.output
    res = _cli(monkeypatch, s, "import", str(bad), "--format", "csv")
    assert res.exit_code != 0 and "unknown --format" in res.output
    other = tmp_path / "notes.txt"
    other.write_text("hello")
    res = _cli(monkeypatch, s, "import", str(other))
    assert res.exit_code != 0 and "neither an ERP bundle" in res.output
    assert _business(s) == 0


# ---------------------------------------------------------------------------------------
# detection and the CLI
# ---------------------------------------------------------------------------------------


def test_detect_format_from_content(tmp_path: Path) -> None:
    (tmp_path / "bundle").mkdir()
    assert detect_format(tmp_path / "bundle") == "bundle"
    z = tmp_path / "export.bin"
    with zipfile.ZipFile(z, "w") as f:
        f.writestr("products.csv", "id\n")
    assert detect_format(z) == "bundle"
    x = tmp_path / "events.txt"
    x.write_bytes(b"\xef\xbb\xbf\n  " + (OE2 / "XML/Capture/Events/ObjectEvent.xml").read_bytes())
    assert detect_format(x) == "epcis-xml"
    j = tmp_path / "events"
    j.write_text("[]")
    assert detect_format(j) == "epcis-json"
    assert detect_format(tmp_path / "missing") is None


def test_cli_imports_xml_bare_events_and_event_arrays(tmp_path: Path, fresh: Any,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    s = fresh()
    xml = EPCIS_DIR / "xml-examples" / "2.0" / "Example_9.6.1-ObjectEvent-2020_06_18a.xml"
    res = _cli(monkeypatch, s, "import", str(xml), "--dry-run", "--json")
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["status"] == "dry_run" and _business(s) == 0
    res = _cli(monkeypatch, s, "import", str(xml), "--json")
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["status"] == "committed"
    # a bare event (the binding's single-event capture) and an array of events
    res = _cli(monkeypatch, s, "import", str(OE2 / "JSON/Capture/Events/ObjectEvent.json"), "--json")
    assert res.exit_code == 0, res.output
    events = [json.loads((OE2 / f"JSON/Capture/Events/{t}.json").read_text())
              for t in ("AggregationEvent", "TransactionEvent")]
    arr = tmp_path / "events.json"
    arr.write_text(json.dumps(events))
    res = _cli(monkeypatch, s, "import", str(arr), "--json")
    assert res.exit_code == 0, res.output
    assert "AggregationEvent 1" in json.loads(res.stdout)["message"]
    bare_xml = OE2 / "XML/Capture/Events/TransformationEvent.xml"
    res = _cli(monkeypatch, s, "import", str(bare_xml), "--format", "epcis-xml", "--json")
    assert res.exit_code == 0, res.output
    n = s.run("MATCH (e:EpcisEvent) RETURN count(e) AS c", write=False)[0]["c"]
    assert n >= 5


def test_cli_export_xml_both_versions_round_trip(tmp_path: Path, fresh: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """ERP facts (synthesised events) and stored EPCIS events alike, as 2.0 and 1.2 XML."""
    from plantbuilder import Plant

    p = Plant()
    p.lot("L-RESIN", supplier="SUP1", material="M-RESIN")
    p.product("09506000134352")
    p.batch("B-100", product="09506000134352", inputs=["L-RESIN"], finished_at="2026-02-02T08:00:00.000000+00:00")
    p.serial("SN-1", "B-100")
    p.customer("HOSP-1")
    p.shipment("SH-1", to="HOSP-1", date="2026-02-03T08:00:00.000000+00:00", serials=["SN-1"])
    a = fresh()
    p.write(a)
    import_epcis(a, EPCIS_DIR / "xml-examples" / "2.0" / "Example_9.6.1-ObjectEvent-2020_06_18a.xml", ACTOR)
    b0 = fresh()  # the reference: what the JSON-LD export of the same graph imports to
    import_epcis(b0, export_epcis(a), ACTOR)
    want = snapshot(b0)
    for fmt, version in (("xml", "2.0"), ("xml-1.2", "1.2")):
        out = tmp_path / f"all-{version}.xml"
        res = _cli(monkeypatch, a, "export", "epcis", "--all", "--format", fmt, str(out), "--json")
        assert res.exit_code == 0, res.output
        assert json.loads(res.stdout)["format"] == fmt
        tree = etree.parse(str(out))
        assert tree.getroot().get("schemaVersion") == version
        assert _xsd(version).validate(tree), _xsd(version).error_log
        b = fresh()
        import_epcis(b, out, ACTOR)
        assert snapshot(b) == want, version
    # the suffix picks XML when no --format is given
    res = _cli(monkeypatch, a, "export", "epcis", "--batch", "B-100", str(tmp_path / "b.xml"))
    assert res.exit_code == 0, res.output
    assert etree.parse(str(tmp_path / "b.xml")).getroot().tag == "{urn:epcglobal:epcis:xsd:2}EPCISDocument"


def test_xml_export_refuses_to_hand_out_an_invalid_document() -> None:
    doc = {"@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"], "type": "EPCISDocument",
           "schemaVersion": "2.0", "creationDate": "2026-01-01T00:00:00Z",
           "epcisBody": {"eventList": [{"type": "ObjectEvent", "eventTime": "not a time",
                                        "eventTimeZoneOffset": "+00:00", "epcList": [], "action": "OBSERVE"}]}}
    with pytest.raises(ValidationFailed, match="does not validate"):
        document_to_xml(doc)


# ---------------------------------------------------------------------------------------
# REST
# ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def api(store: Any, tmp_path_factory: pytest.TempPathFactory) -> Api:
    make_users(store)
    return make_api(store, tmp_path_factory.mktemp("xml"), raise_server_exceptions=False)


def test_rest_import_xml_and_export_xml(api: Api) -> None:
    xml = (EPCIS_DIR / "xml-examples" / "1.2" / "ObjectEvent.xml").read_bytes()
    # 1.2 example with an un-namespaced extension field: refused whole, line named
    r = api.client.post("/imports", files={"file": ("o.xml", xml, "application/xml")}, data={"dry_run": "false"},
                        headers=api.headers("qa"))
    assert r.status_code == 422, r.text
    err = r.json()["error"]
    assert err["code"] == "validation_failed" and err["problems"][0]["record"] == "line 46"
    good = (EPCIS_DIR / "xml-examples" / "1.2" / "AggregationEvent.xml").read_bytes()
    r = api.client.post("/imports", files={"file": ("a.xml", good, "application/xml")}, data={"dry_run": "false"},
                        headers=api.headers("qa"))
    assert r.status_code == 200, r.text
    assert r.json()["kind"] == "epcis" and r.json()["report"]["event_types"] == {"AggregationEvent": 1}
    assert r.json()["report"]["source"] == "a.xml"
    # the run records the uploaded file itself
    run = api.store.run("MATCH (r:ImportRun {id: $id}) RETURN r.files AS f", {"id": r.json()["report"]["import_id"]},
                        write=False)[0]["f"]
    import hashlib

    assert hashlib.sha256(good).hexdigest() in str(run)
    # an array of bare events through the same door
    events = [json.loads((OE2 / f"JSON/Capture/Events/{t}.json").read_text()) for t in ("ObjectEvent", "AssociationEvent")]
    r = api.client.post("/imports", files={"file": ("events.json", json.dumps(events).encode(), "application/json")},
                        data={"dry_run": "true"}, headers=api.headers("qa"))
    assert r.status_code == 200, r.text
    assert r.json()["report"]["event_types"] == {"ObjectEvent": 1, "AssociationEvent": 1}
    for how in ({"params": {"format": "xml"}}, {"headers": {"Accept": "application/xml"}},
                {"params": {"format": "xml-1.2"}}):
        headers = {**api.headers("viewer"), **how.get("headers", {})}
        r = api.client.get("/export/epcis", params=how.get("params"), headers=headers)
        assert r.status_code == 200, r.text
        assert r.headers["content-type"].startswith("application/xml")
        root = etree.fromstring(r.content)
        version = root.get("schemaVersion")
        assert version == ("1.2" if how.get("params", {}).get("format") == "xml-1.2" else "2.0")
        assert _xsd(version).validate(root), _xsd(version).error_log
        assert len(root.findall(".//AggregationEvent")) == 1
    r = api.client.get("/export/epcis", headers=api.headers("viewer"))
    assert r.headers["content-type"].startswith("application/ld+json")
