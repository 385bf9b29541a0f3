"""The REST service on the real embedded store: health, metrics, middleware, errors, auth,
traces, impact formats, scan, export."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api_support import ADMIN, PASSWORD, Api, make_api, make_users, role_user
from plantbuilder import demo_plant
from tracegraph.api.app import create_app
from tracegraph.settings import load_settings


@pytest.fixture(scope="module")
def api(store: Any, tmp_path_factory: pytest.TempPathFactory) -> Api:
    demo_plant().write(store)
    make_users(store)
    return make_api(store, tmp_path_factory.mktemp("api"), raise_server_exceptions=False)


# -- health, metrics, middleware --------------------------------------------------------------


def test_health_needs_no_token_and_reports_the_chain_head(api: Api) -> None:
    r = api.client.get("/health")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "ok" and body["database_reachable"] is True and body["backend"] == "embedded"
    assert body["audit_head_seq"] >= 1 + 6  # init admin + 6 users + logins
    # the server keeps a trace index (built in the background) and says how fresh it is
    assert body["trace_index"]["enabled"] is True and body["trace_index"]["mode"] == "background"


@pytest.mark.req("REQ-ACC-007")
def test_every_response_has_request_id_and_security_headers(api: Api) -> None:
    r = api.client.get("/health", headers={"X-Request-ID": "abc-123"})
    assert r.headers["x-request-id"] == "abc-123"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["referrer-policy"] == "no-referrer"
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
    assert "strict-transport-security" not in r.headers  # plain http
    r2 = api.client.get("/health", headers={"X-Request-ID": "bad id with spaces"})
    assert r2.headers["x-request-id"] != "bad id with spaces" and len(r2.headers["x-request-id"]) == 32
    https = TestClient(api.client.app, base_url="https://testserver")
    assert "max-age" in https.get("/health").headers["strict-transport-security"]


@pytest.mark.req("REQ-ACC-007")
def test_cors_is_off_by_default_and_configurable(api: Api, store: Any, tmp_path: Path) -> None:
    pre = {"Origin": "https://dash.example", "Access-Control-Request-Method": "GET"}
    r = api.client.options("/health", headers=pre)
    assert "access-control-allow-origin" not in r.headers
    app = create_app(load_settings(data_dir=tmp_path, cors_origins=["https://dash.example"]), store=store)
    r = TestClient(app).options("/health", headers=pre)
    assert r.headers["access-control-allow-origin"] == "https://dash.example"
    r = TestClient(app).options("/health", headers={**pre, "Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in r.headers


def test_metrics_loopback_only_without_token(api: Api, store: Any, tmp_path: Path) -> None:
    api.client.get("/health")
    r = api.client.get("/metrics")  # the test client connects from 127.0.0.1
    assert r.status_code == 200
    assert 'tracegraph_http_requests_total{method="GET",route="/health",status="200"}' in r.text
    assert "tracegraph_db_query_duration_seconds_bucket" in r.text
    assert "tracegraph_audit_head_seq" in r.text
    remote = TestClient(api.client.app, client=("203.0.113.7", 5000))
    assert remote.get("/metrics").status_code == 403
    app = create_app(load_settings(data_dir=tmp_path, metrics_token="s3cret-metrics"), store=store)
    c = TestClient(app, client=("127.0.0.1", 50001))
    assert c.get("/metrics").status_code == 401  # a configured token is required even on loopback
    assert c.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert c.get("/metrics", headers={"Authorization": "Bearer s3cret-metrics"}).status_code == 200


@pytest.mark.req("REQ-ACC-007")
def test_errors_have_one_shape(api: Api) -> None:
    r = api.client.get("/no/such/route")
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "not_found" and r.json()["request_id"] == r.headers["x-request-id"]


@pytest.mark.req("REQ-ACC-007")
def test_unexpected_errors_leak_nothing(store: Any, tmp_path: Path) -> None:
    class Exploding:
        backend, location = "falkordb", "test"

        def __getattr__(self, name: str) -> Any:
            return getattr(store, name)

        def read(self, *a: Any, **k: Any) -> Any:
            raise RuntimeError("db password=hunter2 at /srv/secret")

    app = create_app(load_settings(data_dir=tmp_path), store=Exploding())
    c = TestClient(app, raise_server_exceptions=False)
    r = c.get("/trace/back/FIN1", headers={"Authorization": "Bearer whatever"})
    assert r.status_code == 500
    body = r.json()
    assert "hunter2" not in r.text and "Traceback" not in r.text
    assert body["error"]["code"] == "internal" and body["request_id"] == r.headers["x-request-id"]


@pytest.mark.req("REQ-ACC-007")
def test_request_size_limit(store: Any, tmp_path: Path) -> None:
    app = create_app(load_settings(data_dir=tmp_path, max_upload_mb=0.001), store=store)  # ~1 KB
    c = TestClient(app)
    r = c.post("/auth/login", content=b"x" * 5000, headers={"Content-Type": "application/json"})
    assert r.status_code == 413 and r.json()["error"]["code"] == "payload_too_large"

    def chunks():  # no Content-Length: counted while streaming
        for _ in range(10):
            yield b"y" * 500

    r = c.post("/auth/login", content=chunks(), headers={"Content-Type": "application/json"})
    assert r.status_code == 413


# -- authentication ----------------------------------------------------------------------------


@pytest.mark.req("REQ-ACC-005")
def test_login_me_logout(api: Api) -> None:
    token = api.login(role_user("qa"))
    h = {"Authorization": f"Bearer {token}"}
    me = api.client.get("/auth/me", headers=h).json()
    assert me["id"] == role_user("qa") and me["roles"] == ["qa"] and "import.write" in me["permissions"]
    assert api.client.post("/auth/logout", headers=h).json() == {"revoked": True}
    r = api.client.get("/auth/me", headers=h)
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    assert "logged out" in r.json()["error"]["message"]


@pytest.mark.req("REQ-ACC-005")
def test_bad_credentials_and_tokens(api: Api) -> None:
    r = api.client.post("/auth/login", json={"username": ADMIN, "password": "wrong-password-1"})
    assert r.status_code == 401 and r.json()["error"]["code"] == "authentication_failed"
    assert "password" not in r.json()["error"].get("hint", "").lower() or "attempt" in r.json()["error"]["hint"]
    assert api.client.get("/trace/back/FIN1").status_code == 401
    assert api.client.get("/trace/back/FIN1", headers={"Authorization": "Bearer nope"}).status_code == 401
    assert api.client.get("/trace/back/FIN1", headers={"Authorization": "Basic abc"}).status_code == 401
    # a good login after the failure resets the counter
    api.login(ADMIN, PASSWORD)


# -- traces, impact, scan, export --------------------------------------------------------------


def test_trace_back_and_forward(api: Api) -> None:
    r = api.client.get("/trace/back/FIN1-S0003", headers=api.headers("viewer"))
    assert r.status_code == 200, r.text
    assert {s["supplier"] for s in r.json()["suppliers"]} == {"S1", "S2"}
    r = api.client.get("/trace/forward/L2", params={"max_depth": 5}, headers=api.headers("viewer"))
    assert r.status_code == 200 and {"FIN1", "FIN2"} <= {b["id"] for b in r.json()["batches"]}
    r = api.client.get("/trace/back/NOPE", headers=api.headers("viewer"))
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"


@pytest.mark.req("REQ-TRC-006")
def test_impact_json_csv_xlsx(api: Api) -> None:
    h = api.headers("viewer")
    j = api.client.get("/impact", params={"lot": "L1"}, headers=h)
    assert j.status_code == 200 and j.json()["counts"]["customers"] == 3
    c = api.client.get("/impact", params={"lot": "L1", "format": "csv"}, headers=h)
    assert c.headers["content-type"].startswith("text/csv")
    lines = c.text.strip().splitlines()
    assert lines[0].startswith("traceability_lot_code,") and len(lines) > 5
    x = api.client.get("/impact", params={"lot": "L1"}, headers={**h, "Accept": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"})
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(x.content), read_only=True)
    assert {"units", "summary"} <= set(wb.sheetnames)
    bad = api.client.get("/impact", headers=h)
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "validation_failed"
    bad = api.client.get("/impact", params={"lot": "L1", "edge": "TELEPORTED"}, headers=h)
    assert bad.status_code == 422 and bad.json()["error"]["problems"]


def test_scan_and_export(api: Api) -> None:
    r = api.client.get("/scan", params={"code": "FIN1-S0003"}, headers=api.headers("viewer"))
    assert r.status_code == 200 and r.json()["resolved"]["label"] == "Serial"
    r = api.client.get("/export/epcis", params={"kind": "batch", "id": "FIN1"}, headers=api.headers("viewer"))
    assert r.status_code == 200, r.text
    doc = r.json()
    assert doc["type"] == "EPCISDocument"
    r = api.client.get("/export/epcis", params={"kind": "batch"}, headers=api.headers("viewer"))
    assert r.status_code == 422


def test_dashboard_page_is_served_without_inline_script(api: Api) -> None:
    r = api.client.get("/")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert '<script type="module" src="/static/js/main.js"></script>' in r.text and "<script>" not in r.text  # CSP
    assert "cdn" not in r.text.lower() and "https://" not in r.text  # offline: every asset from the package
    js = api.client.get("/static/js/api.js")
    assert js.status_code == 200 and "/graphql" in js.text and "/auth/login" in js.text
    for asset in ("/static/js/main.js", "/static/vendor/cytoscape.min.js", "/static/vendor/cytoscape-dagre.min.js"):
        assert api.client.get(asset).status_code == 200, asset
    assert "script-src 'self'" in r.headers["content-security-policy"]


def test_openapi_docs_are_served_from_the_package_without_a_cdn(api: Api) -> None:
    """A plant network has no internet: /docs and /redoc must load every asset from this server."""
    import re

    for page in ("/docs", "/redoc"):
        r = api.client.get(page)
        assert r.status_code == 200
        assert "cdn.jsdelivr.net" not in r.text and "unpkg.com" not in r.text and "fonts.googleapis" not in r.text
        assets = re.findall(r'(?:src|href)="(/static-docs/[^"]+)"', r.text)
        assert assets, f"{page} names no packaged asset"
        for url in assets:
            a = api.client.get(url)
            assert a.status_code == 200 and len(a.content) > 1000, url
        csp = r.headers["content-security-policy"]
        assert "https:" not in csp and "script-src 'self' 'unsafe-inline'" in csp
    assert "swagger" in api.client.get("/docs").text.lower() and "redoc" in api.client.get("/redoc").text.lower()
    assert "unsafe-inline" not in api.client.get("/health").headers["content-security-policy"]
