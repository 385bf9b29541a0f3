"""No door can move a status past its lifecycle (issue 15, item 2).

The test ENUMERATES every GraphQL mutation (from the strawberry schema) and every REST route
(from the app's OpenAPI document) that can carry a `status`: an argument or body field named
`status` (at any depth of an input type), a free-form JSON/dict argument or body field (it could
hold one), or a file upload (an import). Each must be classified in `GQL_WRITERS` / `REST_WRITERS`
with the guard that stops it; a new one that is not classified fails `test_every_status_writer_is
_classified`. Then, against the real embedded database and the real app, each class is tried on
the records an auditor would try: a recall closed without signature or effectiveness, a
quarantined batch released past its failing checklist, a complaint closed without its step, a
bogus unit status, a quarantine lifted under an open recall.
"""

from __future__ import annotations

import io
import zipfile
from typing import Any

import pytest

from api_support import PASSWORD, Api, make_api, make_users
from graphql import GraphQLInputObjectType, GraphQLScalarType, get_named_type
from plantbuilder import demo_plant
from tracegraph.engine import status_policy
from tracegraph.engine.qms.types import RECORD_TYPES
from tracegraph.graphql.schema import build_schema

#: GraphQL mutations that can carry a status, and what stops a lifecycle bypass through them
GQL_WRITERS: dict[str, str] = {
    "setStatus": "generic",  # engine/status_policy.py: holds only; lifecycle-owned labels refused
    "openQualityRecord": "qms_fields",  # fields validated by the type's pydantic model: no `status`
    "qualityStep": "qms_fields",  # the step's own guards; fields validated: no `status`
}
#: REST routes that can carry a status
REST_WRITERS: dict[tuple[str, str], str] = {
    ("POST", "/qms/{kind}"): "qms_fields",
    ("POST", "/qms/{kind}/{key}/steps/{step}"): "qms_fields",
    ("POST", "/imports"): "import",  # status columns of EXISTING records: status_policy.check_import_changes
}


# -- enumeration -------------------------------------------------------------------------------
def _type_can_carry_status(t: Any, seen: set[str]) -> bool:
    named = get_named_type(t)
    if isinstance(named, GraphQLScalarType):
        return named.name == "JSON"
    if isinstance(named, GraphQLInputObjectType):
        if named.name in seen:
            return False
        seen.add(named.name)
        return any(name == "status" or _type_can_carry_status(f.type, seen) for name, f in named.fields.items())
    return False


def gql_status_writers() -> set[str]:
    schema = build_schema()._schema
    out = set()
    for name, field in schema.mutation_type.fields.items():
        if any(arg == "status" or _type_can_carry_status(a.type, set()) for arg, a in field.args.items()):
            out.add(name)
    return out


def _schema_can_carry_status(spec: dict[str, Any], s: dict[str, Any], seen: set[str]) -> bool:
    if "$ref" in s:
        ref = s["$ref"]
        if ref in seen:
            return False
        seen.add(ref)
        return _schema_can_carry_status(spec, spec["components"]["schemas"][ref.split("/")[-1]], seen)
    for key in ("anyOf", "oneOf", "allOf"):
        if any(_schema_can_carry_status(spec, x, seen) for x in s.get(key, [])):
            return True
    if s.get("format") == "binary" or s.get("contentMediaType") == "application/octet-stream":
        return True  # an uploaded file (an import) can carry statuses
    if s.get("type") == "object" or "properties" in s:
        props = s.get("properties", {})
        if "status" in props:
            return True
        extra = s.get("additionalProperties")
        if extra is True or (isinstance(extra, dict) and not props):
            return True  # a free-form dict
        if isinstance(extra, dict) and _schema_can_carry_status(spec, extra, seen):
            return True
        return any(_schema_can_carry_status(spec, p, seen) for p in props.values())
    if s.get("type") == "array":
        return _schema_can_carry_status(spec, s.get("items", {}), seen)
    return False


def rest_status_writers(spec: dict[str, Any]) -> set[tuple[str, str]]:
    out = set()
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            if method not in ("post", "put", "patch", "delete"):
                continue
            params = [p.get("name") for p in op.get("parameters", [])]
            bodies = [c.get("schema", {}) for c in op.get("requestBody", {}).get("content", {}).values()]
            if "status" in params or any(_schema_can_carry_status(spec, b, set()) for b in bodies):
                out.add((method.upper(), path))
    return out


# -- fixtures ------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def api(store: Any, tmp_path_factory: pytest.TempPathFactory) -> Api:
    demo_plant().write(store)
    make_users(store)
    return make_api(store, tmp_path_factory.mktemp("statusguards"), raise_server_exceptions=False)


def gql(api: Api, query: str, role: str = "qa_manager") -> dict[str, Any]:
    return api.gql(query, role=role)


def data(body: dict[str, Any]) -> dict[str, Any]:
    assert not body.get("errors"), body["errors"]
    return body["data"]


def error(body: dict[str, Any]) -> dict[str, Any]:
    assert body.get("errors"), body
    return body["errors"][0]


def set_status(api: Api, label: str, key: str, status: str, role: str = "qa_manager") -> dict[str, Any]:
    return gql(api, f'mutation {{ setStatus(label: "{label}", key: "{key}", status: "{status}", '
                    f'reason: "auditor tries a bypass") {{ key props }} }}', role)


def node(api: Api, label: str, key: str) -> dict[str, Any]:
    rows = api.store.read(f"commands.get.{label}", key=key)
    return rows[0]["props"]


def audit_count(api: Api, key: str) -> int:
    return int(api.store.run("MATCH (e:AuditEntry {target_key: $k}) RETURN count(e) AS n", {"k": key},
                             write=False)[0]["n"])


# -- the enumeration itself ------------------------------------------------------------------------
def test_every_status_writer_is_classified(api: Api) -> None:
    found_gql = gql_status_writers()
    assert found_gql == set(GQL_WRITERS), (
        f"unclassified GraphQL mutations that can write a status: {sorted(found_gql - set(GQL_WRITERS))}; "
        f"classified but gone: {sorted(set(GQL_WRITERS) - found_gql)}")
    found_rest = rest_status_writers(api.client.app.openapi())
    assert found_rest == set(REST_WRITERS), (
        f"unclassified REST routes that can write a status: {sorted(found_rest - set(REST_WRITERS))}; "
        f"classified but gone: {sorted(set(REST_WRITERS) - found_rest)}")
    # every class has its proof below
    assert set(GQL_WRITERS.values()) | set(REST_WRITERS.values()) == {"generic", "qms_fields", "import"}


def test_the_detector_sees_status_arguments_json_and_uploads() -> None:
    """The detector itself must not be blind: a status field, a JSON field, a file, nested refs."""
    spec = {"components": {"schemas": {"A": {"type": "object", "properties": {"b": {"$ref": "#/components/schemas/B"}}},
                                       "B": {"type": "object", "properties": {"status": {"type": "string"}}},
                                       "C": {"type": "object", "properties": {"x": {"type": "string"}}}}}}
    assert _schema_can_carry_status(spec, {"$ref": "#/components/schemas/A"}, set())
    assert not _schema_can_carry_status(spec, {"$ref": "#/components/schemas/C"}, set())
    assert _schema_can_carry_status(spec, {"type": "object", "additionalProperties": True}, set())
    assert _schema_can_carry_status(spec, {"type": "string", "format": "binary"}, set())
    assert "setStatus" in gql_status_writers() and "approveRecall" not in gql_status_writers()


def test_the_generic_table_only_uses_model_values_and_never_owned_labels() -> None:
    owned_qms = {rt.label for rt in RECORD_TYPES.values()}
    assert owned_qms | {"Recall"} <= set(status_policy.OWNED), "every lifecycle's label must be owned"
    for label, moves in status_policy.GENERIC.items():
        assert label not in status_policy.OWNED
        allowed = set(status_policy.model_statuses(label))
        assert allowed, label
        for to, frm in moves.items():
            assert to in allowed and set(frm) <= allowed, (label, to, frm)
    assert status_policy.model_statuses("Batch") == ("in_process", "quarantined", "released", "rejected")


# -- generic: setStatus ---------------------------------------------------------------------------------
def _recall_in_effectiveness_check(api: Api) -> str:
    rid = data(gql(api, 'mutation { createRecall(input: {jurisdiction: "US-FDA", recallClass: "II", '
                        'reason: "seal may leak", responsible: "u-qa", cause: {batches: ["FIN1"]}}) { id status } }',
                   "qa"))["createRecall"]["id"]
    data(gql(api, f'mutation {{ approveRecall(id: "{rid}", password: "{PASSWORD}", reason: "confirmed") {{ id }} }}'))
    data(gql(api, f'mutation {{ startRecall(id: "{rid}") {{ id }} }}', "qa"))
    data(gql(api, f'mutation {{ completeRecall(id: "{rid}", reason: "field action done") {{ id }} }}', "qa"))
    return rid


def test_a_recall_cannot_be_closed_past_its_signature_and_effectiveness(api: Api) -> None:
    rid = _recall_in_effectiveness_check(api)
    before = audit_count(api, rid)
    err = error(set_status(api, "Recall", rid, "closed"))
    assert err["extensions"]["code"] == "validation_failed" and "lifecycle" in err["message"]
    assert "recall approve|start|complete|close" in err["extensions"]["hint"]
    rec = data(gql(api, f'{{ recall(id: "{rid}") {{ status closedAt closedBy }} }}'))["recall"]
    assert rec == {"status": "effectiveness_check", "closedAt": None, "closedBy": None}
    assert audit_count(api, rid) == before  # nothing written
    # the real step keeps its guards: no password -> refused; below the effectiveness target -> refused
    no_pw = error(gql(api, f'mutation {{ closeRecall(id: "{rid}", password: "", reason: "done") {{ id }} }}'))
    assert no_pw["extensions"]["code"] in ("signature_refused", "validation_failed")
    low = error(gql(api, f'mutation {{ closeRecall(id: "{rid}", password: "{PASSWORD}", reason: "done") {{ id }} }}'))
    assert low["extensions"]["code"] == "conflict" and "target" in low["message"]
    assert data(gql(api, f'{{ recall(id: "{rid}") {{ status }} }}'))["recall"]["status"] == "effectiveness_check"
    # and a quarantine the recall put on stock is not lifted by a generic status change
    quarantined = [r["id"] for r in api.store.run(
        "MATCH (:Recall {id: $id})-[:COVERS]->(s:Serial {status: 'quarantined'}) RETURN s.id AS id", {"id": rid},
        write=False)]
    assert quarantined, "starting the recall quarantines covered stock"
    lift = error(set_status(api, "Serial", quarantined[0], "in_stock"))
    assert lift["extensions"]["code"] == "conflict" and rid in lift["message"]
    assert node(api, "Serial", quarantined[0])["status"] == "quarantined"


def test_a_quarantined_batch_is_not_released_past_its_checklist(api: Api) -> None:
    assert data(set_status(api, "Batch", "FIN2", "quarantined"))["setStatus"]["props"]["status"] == "quarantined"
    checklist = data(gql(api, '{ releaseChecklist(batch: "FIN2") { releasable } }'))["releaseChecklist"]
    assert checklist["releasable"] is False
    err = error(set_status(api, "Batch", "FIN2", "released"))
    assert err["extensions"]["code"] == "validation_failed" and "signed Release" in err["extensions"]["hint"]
    assert node(api, "Batch", "FIN2")["status"] == "quarantined"
    # the Release record's own steps refuse too (the checklist guard)
    opened = data(gql(api, 'mutation { openQualityRecord(type: "release", fields: {batch_id: "FIN2"}, '
                           'about: [{label: "Batch", id: "FIN2"}]) { id status } }'))["openQualityRecord"]
    review = error(gql(api, f'mutation {{ qualityStep(type: "release", id: "{opened["id"]}", step: "review", '
                            f'password: "{PASSWORD}") {{ status }} }}'))
    assert review["extensions"]["code"] == "validation_failed" and "cannot be released" in review["message"]
    skip = error(gql(api, f'mutation {{ qualityStep(type: "release", id: "{opened["id"]}", step: "release", '
                          f'password: "{PASSWORD}") {{ status }} }}'))
    assert skip["extensions"]["code"] == "conflict"  # release needs `reviewed` first
    assert node(api, "Batch", "FIN2")["status"] == "quarantined"
    r = api.client.post(f"/qms/release/{opened['id']}/steps/release", json={"password": PASSWORD},
                        headers=api.headers("qa_manager"))
    assert r.status_code == 409 and node(api, "Batch", "FIN2")["status"] == "quarantined"


def test_a_complaint_is_not_closed_without_its_step(api: Api) -> None:
    opened = data(gql(api, 'mutation { openQualityRecord(type: "complaint", fields: {reporter: "City Hospital", '
                           'event_date: "2026-03-01", description: "cracked housing"}) { id status } }',
                      "qa"))["openQualityRecord"]
    cid = opened["id"]
    err = error(set_status(api, "Complaint", cid, "closed"))
    assert err["extensions"]["code"] == "validation_failed" and "qms step complaint" in err["extensions"]["hint"]
    # through the lifecycle door: `status` is not a field; `close` needs `concluded` and a signature
    step = error(gql(api, f'mutation {{ qualityStep(type: "complaint", id: "{cid}", step: "investigate", '
                          f'fields: {{status: "closed"}}) {{ status }} }}', "qa"))
    assert step["extensions"]["code"] == "validation_failed" and "status" in step["message"]
    close = error(gql(api, f'mutation {{ qualityStep(type: "complaint", id: "{cid}", step: "close", '
                           f'password: "{PASSWORD}") {{ status }} }}'))
    assert close["extensions"]["code"] == "conflict"
    r = api.client.post(f"/qms/complaint/{cid}/steps/investigate", json={"fields": {"status": "closed"}},
                        headers=api.headers("qa"))
    assert r.status_code == 422 and r.json()["error"]["problems"][0]["field"] == "status"
    r = api.client.post("/qms/complaint", json={"fields": {"reporter": "x", "event_date": "2026-03-01",
                                                          "description": "d", "status": "closed"}},
                        headers=api.headers("qa"))
    assert r.status_code == 422 and r.json()["error"]["problems"][0]["field"] == "status"
    opened_closed = error(gql(api, 'mutation { openQualityRecord(type: "complaint", fields: {reporter: "x", '
                                   'event_date: "2026-03-01", description: "d", status: "closed"}) { id } }', "qa"))
    assert opened_closed["extensions"]["code"] == "validation_failed"
    assert data(gql(api, f'{{ qualityRecord(type: "complaint", id: "{cid}") {{ status }} }}'))[
        "qualityRecord"]["status"] == "open"
    # a signed close without a password is refused even from `concluded`
    data(gql(api, f'mutation {{ qualityStep(type: "complaint", id: "{cid}", step: "investigate") {{ status }} }}', "qa"))
    data(gql(api, f'mutation {{ qualityStep(type: "complaint", id: "{cid}", step: "conclude", fields: '
                  f'{{reportable: false, investigation: "seal", conclusion: "not device related"}}) {{ status }} }}', "qa"))
    nopw = error(gql(api, f'mutation {{ qualityStep(type: "complaint", id: "{cid}", step: "close") {{ status }} }}'))
    assert nopw["extensions"]["code"] == "signature_refused"
    assert data(gql(api, f'{{ qualityRecord(type: "complaint", id: "{cid}") {{ status }} }}'))[
        "qualityRecord"]["status"] == "concluded"


def test_a_unit_takes_only_its_model_values_and_holds(api: Api) -> None:
    bogus = error(set_status(api, "Serial", "FIN2-S0002", "bogus"))
    assert bogus["extensions"]["code"] == "validation_failed" and "not a Serial status" in bogus["message"]
    assert bogus["extensions"]["problems"][0]["field"] == "status"
    destroyed = error(set_status(api, "Serial", "FIN2-S0002", "destroyed"))
    assert "recall return" in destroyed["extensions"]["hint"]
    assert node(api, "Serial", "FIN2-S0002")["status"] == "in_stock"
    # the hold itself works, audited with its reason, and is lifted while no recall covers the unit
    assert data(set_status(api, "Serial", "FIN2-S0002", "quarantined"))["setStatus"]["props"]["status"] == "quarantined"
    assert data(set_status(api, "Serial", "FIN2-S0002", "in_stock"))["setStatus"]["props"]["status"] == "in_stock"
    hist = data(gql(api, '{ auditHistory(target: "FIN2-S0002") { action reason } }'))["auditHistory"]
    assert [h["action"] for h in hist[:2]] == ["status", "status"] and hist[0]["reason"] == "auditor tries a bypass"
    # a label without a status, a lot to `consumed`, and a QA role without records.status
    assert "has no status" in error(set_status(api, "Customer", "H1", "closed"))["message"]
    assert "production data" in error(set_status(api, "MaterialLot", "L1", "consumed"))["extensions"]["hint"]
    assert error(set_status(api, "Batch", "FIN1", "quarantined", role="viewer"))["extensions"]["code"] == \
        "permission_denied"


@pytest.mark.parametrize("label", sorted(status_policy.OWNED))
def test_every_lifecycle_label_is_refused_by_the_generic_door(api: Api, label: str) -> None:
    err = error(set_status(api, label, "ANY-KEY", "closed"))
    assert err["extensions"]["code"] == "validation_failed" and "only through its lifecycle" in err["message"]


# -- import: an uploaded bundle may not release a batch or lift a quarantine ----------------------------------
def _bundle(files: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, text in files.items():
            z.writestr(name, text)
    return buf.getvalue()


def test_an_import_cannot_release_a_batch_or_lift_a_quarantine(api: Api) -> None:
    api.store.run("MATCH (b:Batch {id: 'OTHER'}) SET b.status = 'quarantined'", {})
    b = node(api, "Batch", "OTHER")
    row = f"OTHER,{b['product_id']},{b['qty']},ea,{b['started_at']},,,,finished,released\n"
    up = _bundle({"batches.csv": "id,product_id,qty,uom,started_at,finished_at,line,site,kind,status\n" + row})
    for dry in ("true", "false"):
        r = api.client.post("/imports", files={"file": ("b.zip", up, "application/zip")}, data={"dry_run": dry},
                            headers=api.headers("qa"))
        assert r.status_code == 422, r.text
        body = r.json()["error"]
        assert body["problems"][0]["field"] == "status" and "outside their lifecycle" in body["message"]
    assert node(api, "Batch", "OTHER")["status"] == "quarantined"
    # a status change that no lifecycle owns (a hold put by the ERP) still imports
    api.store.run("MATCH (b:Batch {id: 'NS1'}) SET b.status = 'in_process'", {})
    n = node(api, "Batch", "NS1")
    row_q = f"NS1,{n['product_id']},{n['qty']},ea,{n['started_at']},,,,finished,quarantined\n"
    up = _bundle({"batches.csv": "id,product_id,qty,uom,started_at,finished_at,line,site,kind,status\n" + row_q})
    r = api.client.post("/imports", files={"file": ("b.zip", up, "application/zip")}, headers=api.headers("qa"))
    assert r.status_code == 200, r.text
    assert node(api, "Batch", "NS1")["status"] == "quarantined"


def test_an_epcis_event_cannot_ship_a_quarantined_unit(api: Api) -> None:
    import json

    from test_epcis import S, scenario

    doc = scenario()
    events = doc["epcisBody"]["eventList"]
    doc["epcisBody"]["eventList"] = events[:1]  # commissioning only: S1..S3 in stock
    r = api.client.post("/imports", files={"file": ("c.json", json.dumps(doc).encode(), "application/json")},
                        headers=api.headers("qa"))
    assert r.status_code == 200, r.text
    unit = api.store.run("MATCH (s:Serial) WHERE s.id ENDS WITH $k RETURN s.id AS id, s.status AS st",
                         {"k": "107346.S3"}, write=False)[0]
    assert unit["st"] == "in_stock"
    assert data(set_status(api, "Serial", unit["id"], "quarantined"))["setStatus"]["props"]["status"] == "quarantined"
    ship = dict(events[3], epcList=[S + "S3"], eventID="urn:uuid:00000000-0000-4000-8000-0000000000aa")
    doc["epcisBody"]["eventList"] = [ship]
    r = api.client.post("/imports", files={"file": ("s.json", json.dumps(doc).encode(), "application/json")},
                        headers=api.headers("qa"))
    assert r.status_code == 422, r.text
    err = r.json()["error"]
    assert err["problems"][0]["field"] == "status" and unit["id"] in err["problems"][0]["record"]
    assert node(api, "Serial", unit["id"])["status"] == "quarantined"
