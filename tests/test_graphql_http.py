"""GraphQL over HTTP with real tokens: mutations are engine commands (audited, with a reason),
users are admin-only, signatures re-enter the password, GraphiQL only when enabled."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from api_support import PASSWORD, Api, make_api, make_users, role_user
from plantbuilder import demo_plant
from tracegraph.api.app import create_app
from tracegraph.settings import load_settings


@pytest.fixture(scope="module")
def api(store: Any, tmp_path_factory: pytest.TempPathFactory) -> Api:
    demo_plant().write(store)
    make_users(store)
    return make_api(store, tmp_path_factory.mktemp("gqlhttp"), raise_server_exceptions=False)


def data(body: dict[str, Any]) -> dict[str, Any]:
    assert not body.get("errors"), body["errors"]
    return body["data"]


def test_set_status_is_an_audited_command_with_a_reason(api: Api) -> None:
    m = 'mutation { setStatus(label: "Batch", key: "FIN2", status: "quarantined", reason: "%s") { key props } }'
    body = api.gql(m % "", role="qa")
    assert body["errors"][0]["extensions"]["code"] == "validation_failed"
    assert data(api.gql(m % "complaint CMP9 investigation", role="qa"))["setStatus"]["props"]["status"] == "quarantined"
    hist = data(api.gql('{ auditHistory(target: "FIN2") { action actor reason changes } }'))["auditHistory"]
    assert hist[0]["actor"] == role_user("qa") and hist[0]["reason"] == "complaint CMP9 investigation"
    assert {"field": "status", "old": "released", "new": "quarantined"}.items() <= hist[0]["changes"][0].items()
    b = data(api.gql('{ batch(id: "FIN2") { status } }'))["batch"]
    assert b["status"] == "quarantined"
    denied = api.gql(m % "viewer tries", role="viewer")
    assert denied["errors"][0]["extensions"]["code"] == "permission_denied"


def test_users_are_admin_only_and_managed_through_the_engine(api: Api) -> None:
    assert api.gql("{ users { id } }", role="viewer")["errors"][0]["extensions"]["code"] == "permission_denied"
    users = data(api.gql("{ users { id roles status } }", role="admin"))["users"]
    assert {u["id"] for u in users} >= {role_user("viewer"), role_user("admin")}
    add = ('mutation { addUser(username: "new-viewer", name: "Nina New", password: "%s", roles: ["viewer"], '
           'reason: "onboarding") { id roles status } }') % PASSWORD
    assert data(api.gql(add, role="admin"))["addUser"] == {"id": "new-viewer", "roles": ["viewer"], "status": "active"}
    token = api.login("new-viewer")
    me = api.client.post("/graphql", json={"query": "{ me { id roles permissions } }"},
                         headers={"Authorization": f"Bearer {token}"}).json()["data"]["me"]
    assert me["id"] == "new-viewer" and "users.manage" not in me["permissions"]
    weak = api.gql('mutation { addUser(username: "weak", name: "W", password: "short", roles: ["viewer"], '
                   'reason: "x") { id } }', role="admin")
    assert weak["errors"][0]["extensions"]["code"] == "validation_failed"
    hist = data(api.gql('{ auditHistory(target: "new-viewer") { action reason } }'))["auditHistory"]
    assert any(h["action"] == "user_add" and h["reason"] == "onboarding" for h in hist)


@pytest.mark.req("REQ-SIG-002")
def test_sign_needs_the_password_and_shows_validity(api: Api) -> None:
    wrong = api.gql('mutation { sign(label: "Batch", key: "FIN1", meaning: "reviewed", password: "nope-nope-1", '
                    'reason: "batch record review") { id } }', role="qa")
    assert wrong["errors"][0]["extensions"]["code"] in ("authentication_failed", "signature_refused")
    ok = data(api.gql('mutation { sign(label: "Batch", key: "FIN1", meaning: "reviewed", password: "%s", '
                      'reason: "batch record review") { signerId meaning valid } }' % PASSWORD, role="qa"))
    assert ok["sign"] == {"signerId": role_user("qa"), "meaning": "reviewed", "valid": True}
    sigs = data(api.gql('{ signatures(label: "Batch", key: "FIN1") { signerName meaning valid } }'))["signatures"]
    assert sigs and sigs[0]["valid"] is True


@pytest.mark.req("REQ-AUD-006")
def test_audit_fields(api: Api) -> None:
    d = data(api.gql('{ auditLog(first: 3) { totalCount edges { node { seq action } } pageInfo { hasNextPage } } '
                     'auditEntry(seq: 1) { seq hash prevHash } }', role="viewer"))
    seqs = [e["node"]["seq"] for e in d["auditLog"]["edges"]]
    assert seqs == sorted(seqs, reverse=True) and d["auditLog"]["totalCount"] >= seqs[0]
    assert d["auditEntry"]["seq"] == 1 and d["auditEntry"]["prevHash"] == "0" * 64
    v = data(api.gql("{ auditVerify(checkState: true) { ok entriesChecked firstError { kind } } }", role="qa"))
    assert v["auditVerify"]["ok"] is True and v["auditVerify"]["firstError"] is None
    assert api.gql("{ auditVerify { ok } }", role="viewer")["errors"][0]["extensions"]["code"] == "permission_denied"


def test_graphiql_only_when_enabled(api: Api, store: Any, tmp_path: Any) -> None:
    html = {"Accept": "text/html"}
    assert "graphiql" not in api.client.get("/graphql", headers=html).text.lower()
    dev = TestClient(create_app(load_settings(data_dir=tmp_path, graphiql=True), store=store))
    r = dev.get("/graphql", headers=html)
    assert r.status_code == 200 and "graphiql" in r.text.lower()


def test_invalid_token_is_401_missing_token_is_a_field_error(api: Api) -> None:
    r = api.client.post("/graphql", json={"query": "{ dashboard { totals } }"}, headers={"Authorization": "Bearer x"})
    assert r.status_code == 401
    r = api.client.post("/graphql", json={"query": "{ dashboard { totals } }"})
    assert r.status_code == 200 and r.json()["errors"][0]["extensions"]["code"] == "authentication_failed"
