"""POST /imports: bundles and EPCIS documents through the real loaders, all or nothing."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import pytest

from api_support import Api, make_api, make_users


def _zip(files: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, text in files.items():
            z.writestr(name, text)
    return buf.getvalue()


GOOD = {
    "suppliers.csv": "id,name,country,status\nSUP-A,Alpha Resins,US,approved\nSUP-B,Beta Metals,DE,approved\n",
    "materials.csv": "id,name,uom\nRES-1,Resin,kg\n",
    "material_lots.csv": "id,material_id,supplier_id,qty_received,uom,received_at\n"
                         "LOT-A1,RES-1,SUP-A,100,kg,2026-01-05T08:00:00Z\nLOT-B1,RES-1,SUP-B,50,kg,2026-01-06T08:00:00Z\n",
}


@pytest.fixture(scope="module")
def api(store: Any, tmp_path_factory: pytest.TempPathFactory) -> Api:
    make_users(store)
    return make_api(store, tmp_path_factory.mktemp("imp"), raise_server_exceptions=False, max_upload_mb=0.05)


def _count(store: Any) -> int:
    return store.run("MATCH (n) WHERE NOT n:AuditEntry AND NOT n:AuditHead AND NOT n:Token RETURN count(n) AS c",
                     write=False)[0]["c"]


def _post(api: Api, data: bytes, name: str, role: str = "qa", dry_run: bool = False) -> Any:
    return api.client.post("/imports", files={"file": (name, data, "application/octet-stream")},
                           data={"dry_run": "true" if dry_run else "false"}, headers=api.headers(role))


@pytest.mark.req("REQ-IMP-001")
def test_broken_bundle_returns_every_problem_and_changes_nothing(api: Api) -> None:
    before_nodes = _count(api.store)
    before_head = api.client.get("/health").json()["audit_head_seq"]
    broken = dict(GOOD)
    broken["material_lots.csv"] = ("id,material_id,supplier_id,qty_received,uom,received_at\n"
                                   "LOT-A1,RES-1,SUP-A,lots,kg,2026-01-05\n"   # qty not a number
                                   ",RES-1,SUP-B,50,kg,2026-01-06\n")          # missing id
    r = _post(api, _zip(broken), "broken.zip")
    assert r.status_code == 422, r.text
    err = r.json()["error"]
    assert err["code"] == "validation_failed" and "nothing was written" in err["message"]
    rows = {(p["source"], p["record"], p["field"]) for p in err["problems"]}
    assert any(src == "material_lots.csv" and fld == "qty_received" for src, _, fld in rows), rows
    assert any(src == "material_lots.csv" and fld == "id" for src, _, fld in rows), rows
    assert all("row" in p["record"] for p in err["problems"] if p["source"] == "material_lots.csv")
    assert _count(api.store) == before_nodes
    # a refused import writes nothing, not even an audit entry
    assert api.client.get("/health").json()["audit_head_seq"] == before_head


def test_dry_run_then_import_then_reimport_is_unchanged(api: Api) -> None:
    data = _zip(GOOD)
    r = _post(api, data, "good.zip", dry_run=True)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["kind"] == "bundle" and body["dry_run"] is True and body["report"]["status"] == "dry_run"
    r = _post(api, data, "good.zip")
    assert r.status_code == 200, r.text
    assert r.json()["report"]["status"] == "committed"
    got = api.store.run("MATCH (n) WHERE n:Supplier OR n:Material OR n:MaterialLot RETURN count(n) AS c", write=False)
    assert got[0]["c"] == 5
    r = _post(api, data, "good.zip", dry_run=True)
    counts = r.json()["report"]["counts"]
    assert all(c["new"] == 0 and c["changed"] == 0 for c in counts.values())
    listed = api.client.get("/imports", headers=api.headers("viewer")).json()
    assert any(run["status"] in ("committed", "done") or run.get("result") for run in listed)


def test_uploads_that_are_not_imports(api: Api) -> None:
    r = _post(api, b"hello, not a bundle", "notes.txt")
    assert r.status_code == 422 and r.json()["error"]["problems"][0]["field"] == "file"
    r = _post(api, b"{not json", "doc.jsonld")
    assert r.status_code == 422 and r.json()["error"]["code"] == "validation_failed"
    r = _post(api, json.dumps({"type": "EPCISDocument", "epcisBody": {"eventList": [{"type": "Nope"}]}}).encode(),
              "bad-epcis.jsonld")
    assert r.status_code == 422, r.text


def test_upload_size_limit_and_permission(api: Api) -> None:
    r = _post(api, b"PK\x03\x04" + b"0" * 80_000, "huge.zip")
    assert r.status_code == 413 and r.json()["error"]["code"] == "payload_too_large"
    r = _post(api, _zip(GOOD), "good.zip", role="viewer")
    assert r.status_code == 403 and "import.write" in r.json()["error"]["message"]
