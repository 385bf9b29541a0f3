"""The audit trail review over REST (JSON, XLSX, PDF; store + sign) and GraphQL, on a real
store with one user per role: the same review as the engine's, the same refusals."""

from __future__ import annotations

import io
from typing import Any

import pytest

from api_support import PASSWORD, Api, make_api, make_users
from tracegraph.engine.audit.signatures import signature_status


@pytest.fixture(scope="module")
def api(store: Any, tmp_path_factory: pytest.TempPathFactory) -> Api:
    make_users(store)
    return make_api(store, tmp_path_factory.mktemp("review"))


PERIOD = {"from": "2000-01-01", "to": "2100-01-01"}


@pytest.mark.req("REQ-AUD-008")
def test_rest_review_json_xlsx_pdf_and_refusals(api: Api) -> None:
    from openpyxl import load_workbook

    r = api.client.get("/audit/review", params={**PERIOD, "burst_count": 3}, headers=api.headers("qa"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["counts"]["entries"] == len(body["entries"]) > 0 and body["reviewer_id"] == "u-qa"
    # make_users created 7 users within seconds: a burst by the admin (more than 3 in 5 min)
    assert any(f["rule"] == "bursts" and f["actor"] == "admin1" for f in body["findings"])
    assert body["verify_ok"] is True
    x = api.client.get("/audit/review", params={**PERIOD, "format": "xlsx"}, headers=api.headers("qa_manager"))
    assert x.status_code == 200 and x.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert load_workbook(io.BytesIO(x.content)).sheetnames == ["summary", "exceptions", "changes"]
    p = api.client.get("/audit/review", params={**PERIOD, "format": "pdf", "record_type": "User"},
                       headers=api.headers("qa"))
    assert p.status_code == 200 and p.content[:5] == b"%PDF-"
    # refusals: the project's error shape, naming the field
    bad = api.client.get("/audit/review", params={"from": "2026-03-02", "to": "2026-03-01"}, headers=api.headers("qa"))
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "validation_failed"
    assert bad.json()["error"]["problems"][0]["field"] == "period_to"
    tz = api.client.get("/audit/review", params={**PERIOD, "timezone": "Mars/Base"}, headers=api.headers("qa"))
    assert tz.status_code == 422 and "timezone" in tz.text
    denied = api.client.get("/audit/review", params=PERIOD, headers=api.headers("viewer"))
    assert denied.status_code == 403 and denied.json()["error"]["code"] == "permission_denied"


@pytest.mark.req("REQ-AUD-008")
def test_rest_store_and_sign_then_graphql(api: Api) -> None:
    body = {"review": {"period_from": "2000-01-01", "period_to": "2100-01-01", "record_type": "User"},
            "password": PASSWORD, "username": "u-qa-manager"}
    wrong = api.client.post("/audit/reviews", json={**body, "password": "not-the-password"},
                            headers=api.headers("qa_manager"))
    assert wrong.status_code in (401, 403), wrong.text
    r = api.client.post("/audit/reviews", json=body, headers=api.headers("qa_manager"))
    assert r.status_code == 200, r.text
    out = r.json()
    rid = out["review"]["id"]
    assert out["signature"]["meaning"] == "reviewed" and out["signature"]["signer_id"] == "u-qa-manager"
    assert [v.valid for v in signature_status(api.store, "AuditReview", rid)] == [True]
    g = api.gql('query($f: String!, $t: String!) { auditReview(periodFrom: $f, periodTo: $t, recordType: "User", '
                'burstCount: 3) }', role="qa", f="2000-01-01", t="2100-01-01")
    assert "errors" not in g, g
    review = g["data"]["auditReview"]
    assert {e["target_label"] for e in review["entries"]} == {"User"}
    assert any(f["rule"] == "bursts" for f in review["findings"])
    denied = api.gql('{ auditReview(periodFrom: "2000-01-01", periodTo: "2100-01-01") }', role="viewer")
    assert denied["errors"][0]["extensions"]["code"] == "permission_denied"
    bad = api.gql('{ auditReview(periodFrom: "2026-03-02", periodTo: "2026-03-01") }', role="qa")
    assert bad["errors"][0]["extensions"]["code"] == "validation_failed"
    assert bad["errors"][0]["extensions"]["problems"][0]["field"] == "period_to"
