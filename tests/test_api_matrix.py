"""Role x route and role x field matrices, GENERATED from the app's routes and the GraphQL
schema: a new route or root field without a permission rule (or without a sample request
here) fails, and every role gets exactly what the engine's permission matrix grants.

Expectations come from `tracegraph.engine.access.permissions` (the one source of truth): a role lacking
the route's permission gets 403 / `permission_denied`; a role holding it never gets 401/403.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from api_support import Api, make_api, make_users
from graphql import get_named_type, is_interface_type, is_leaf_type, is_object_type
from plantbuilder import demo_plant
from tracegraph.api.deps import ANY_USER, FIELD_LEVEL, iter_routes
from tracegraph.engine.access import permissions
from tracegraph.graphql.permissions import FREE_TYPES, TYPE_RULES, field_permission

ROLES = list(permissions.ROLES)
#: reviewed: the interactive API docs are public pages (the OpenAPI document they read is public too)
PUBLIC_ROUTES = {("GET", "/health"), ("GET", "/metrics"), ("POST", "/auth/login"), ("GET", "/"),
                 ("GET", "/docs"), ("GET", "/docs/oauth2-redirect"), ("GET", "/redoc")}

#: one harmless request per route: GETs with valid parameters; POSTs without a body (a role
#: that may call the route then gets 422, one that may not gets 403 before the body is read)
SAMPLES: dict[tuple[str, str], dict[str, Any]] = {
    ("GET", "/health"): {},
    ("GET", "/metrics"): {},
    ("POST", "/auth/login"): {},
    ("GET", "/"): {},
    ("GET", "/docs"): {},
    ("GET", "/docs/oauth2-redirect"): {},
    ("GET", "/redoc"): {},
    ("POST", "/auth/logout"): {},
    ("GET", "/auth/me"): {},
    ("GET", "/trace/back/{key}"): {"path": {"key": "FIN1-S0003"}},
    ("GET", "/trace/forward/{key}"): {"path": {"key": "L2"}},
    ("GET", "/impact"): {"params": {"lot": "L1"}},
    ("GET", "/scan"): {"params": {"code": "FIN1-S0003"}},
    ("POST", "/imports"): {},
    ("GET", "/imports"): {},
    ("GET", "/auth/locks"): {},
    ("POST", "/auth/locks/{key}/clear"): {"path": {"key": "account:no-such-user"}, "json": {"reason": "matrix test"}},
    ("GET", "/audit/verify"): {"params": {"check_state": "false"}},
    ("GET", "/audit/log"): {"params": {"limit": 5}},
    ("GET", "/audit/proof/{seq}"): {"path": {"seq": 1}},
    ("GET", "/audit/checkpoints"): {},
    ("POST", "/audit/checkpoints"): {},
    ("GET", "/audit/public-key"): {},
    ("GET", "/audit/review"): {"params": {"from": "2026-01-01", "to": "2026-12-31", "verify_chain": "false"}},
    ("POST", "/audit/reviews"): {},
    ("GET", "/export/epcis"): {"params": {"kind": "batch", "id": "FIN1"}},
    ("GET", "/graphql"): {"params": {"query": "{ __typename }"}},
    ("POST", "/graphql"): {"json": {"query": "{ __typename }"}},
    # recall routes (when the recall engine is wired in)
    ("GET", "/recalls"): {},
    ("GET", "/recalls/{recall_id}"): {"path": {"recall_id": "RC-NONE"}},
    ("GET", "/recalls/{recall_id}/effectiveness/timeline"): {"path": {"recall_id": "RC-NONE"},
                                                             "params": {"by": "day", "tz": "Asia/Shanghai"}},
    ("POST", "/recalls"): {},
    ("POST", "/recalls/{recall_id}/start"): {"path": {"recall_id": "RC-NONE"}},
    ("POST", "/recalls/{recall_id}/approve"): {"path": {"recall_id": "RC-NONE"}},
    ("POST", "/recalls/{recall_id}/notify"): {"path": {"recall_id": "RC-NONE"}},
    ("POST", "/recalls/{recall_id}/milestones"): {"path": {"recall_id": "RC-NONE"}},
    ("POST", "/recalls/{recall_id}/effectiveness"): {"path": {"recall_id": "RC-NONE"}},
    ("POST", "/recalls/{recall_id}/quarantine"): {"path": {"recall_id": "RC-NONE"}},
    ("POST", "/recalls/{recall_id}/customers/{customer_id}/steps"): {"path": {"recall_id": "RC-NONE",
                                                                             "customer_id": "H1"}},
    ("POST", "/recalls/{recall_id}/customers/{customer_id}/returns"): {"path": {"recall_id": "RC-NONE",
                                                                               "customer_id": "H1"}},
    # quality records (QMS)
    ("GET", "/qms/open-items"): {},
    ("GET", "/qms/checklist/{batch}"): {"path": {"batch": "FIN1"}},
    ("GET", "/qms/{kind}"): {"path": {"kind": "complaint"}, "params": {"limit": 2}},
    ("GET", "/qms/{kind}/{key}"): {"path": {"kind": "complaint", "key": "CMP-NONE"}},
    ("POST", "/qms/{kind}"): {"path": {"kind": "complaint"}},
    ("POST", "/qms/{kind}/{key}/steps/{step}"): {"path": {"kind": "complaint", "key": "CMP-NONE", "step": "investigate"}},
    # the GS1 EPCIS 2.0 REST binding (capture posts carry no body: allowed roles get 422)
    ("OPTIONS", "/epcis"): {},
    ("OPTIONS", "/epcis/capture"): {},
    ("POST", "/epcis/capture"): {},
    ("GET", "/epcis/capture"): {},
    ("GET", "/epcis/capture/{captureID}"): {"path": {"captureID": "cap-none"}},
    ("POST", "/epcis/events"): {},
    ("OPTIONS", "/epcis/events"): {},
    ("GET", "/epcis/events"): {"params": {"perPage": 2}},
    ("GET", "/epcis/events/{eventID:path}"): {"path": {"eventID": "urn:uuid:none"}},
    ("GET", "/epcis/epcs"): {},
    ("GET", "/epcis/epcs/{epc:path}/events"): {"path": {"epc": "urn:epc:id:sgtin:0614141.107346.1"}},
    ("GET", "/epcis/queries"): {},
    ("POST", "/epcis/queries"): {},
    ("GET", "/epcis/queries/{queryName}"): {"path": {"queryName": "none"}},
    ("DELETE", "/epcis/queries/{queryName}"): {"path": {"queryName": "none"}},
    ("GET", "/epcis/queries/{queryName}/events"): {"path": {"queryName": "none"}},
    ("GET", "/epcis/queries/{queryName}/subscriptions"): {"path": {"queryName": "none"}},
    ("POST", "/epcis/queries/{queryName}/subscriptions"): {"path": {"queryName": "none"}},
    ("GET", "/epcis/queries/{queryName}/subscriptions/{subscriptionID}"): {"path": {"queryName": "none",
                                                                                  "subscriptionID": "none"}},
    ("DELETE", "/epcis/queries/{queryName}/subscriptions/{subscriptionID}"): {"path": {"queryName": "none",
                                                                                     "subscriptionID": "none"}},
    **{(m, f"/epcis/{r}{tail}"): ({"path": {"value": "x"}} if tail else {})
       for r in ("eventTypes", "bizSteps", "dispositions", "readPoints", "bizLocations")
       for m, tail in (("GET", ""), ("OPTIONS", ""), ("GET", "/{value:path}/events"))},
}

#: arguments for every GraphQL root field (a new field needs an entry: the test says so)
FIELD_ARGS: dict[str, str] = {
    "batch": '(id: "FIN1")', "serial": '(id: "FIN1-S0001")', "materialLot": '(id: "L1")',
    "material": '(id: "M1")', "supplier": '(id: "S1")', "product": '(id: "P1")', "customer": '(id: "H1")',
    "shipment": '(id: "SH1")', "equipment": '(id: "EQ1")',
    "batches": "(first: 2)", "serials": "(first: 2)", "materialLots": "(first: 2)", "customers": "(first: 2)",
    "suppliers": "(first: 2)", "shipments": "(first: 2)", "dashboard": "", "products": '(first: 2, filter: {q: "a"})',
    "traceBack": '(key: "FIN1-S0003")', "traceForward": '(key: "L2")', "impact": '(cause: {lots: ["L1"]})',
    "scan": '(barcode: "FIN1-S0003")',
    "auditLog": "(first: 2)", "auditEntry": "(seq: 1)", "auditVerify": "(checkState: false)",
    "auditHistory": '(target: "FIN1")', "checkpoints": "", "auditStatus": "", "auditProof": "(seq: 1)",
    "auditReview": '(periodFrom: "2026-01-01", periodTo: "2026-12-31", verifyChain: false)',
    "users": "", "user": '(id: "admin1")', "me": "",
    "signatures": '(label: "Recall", key: "RC-NONE")',
    "recalls": "(first: 2)", "recall": '(id: "RC-NONE")',
    # mutations: arguments that fail validation or name nothing, so allowed roles change nothing
    "setStatus": '(label: "Batch", key: "NO-SUCH", status: "quarantined", reason: "matrix test")',
    "createCheckpoint": "",
    "addUser": '(username: "x", name: "", password: "short", roles: ["viewer"], reason: "matrix")',
    "disableUser": '(username: "no-such-user", reason: "matrix test")',
    "enableUser": '(username: "no-such-user", reason: "matrix test")',
    "setRoles": '(username: "no-such-user", roles: ["viewer"], reason: "matrix test")',
    "resetPassword": '(username: "no-such-user", newPassword: "short", reason: "matrix test")',
    "unlockUser": '(username: "no-such-user", reason: "matrix test")',
    "loginThrottles": "",
    "clearLoginThrottle": '(key: "account:no-such-user", reason: "matrix test")',
    "sign": '(label: "Batch", key: "NO-SUCH", meaning: "reviewed", password: "Correct-Horse-42!", reason: "matrix test")',
    "createRecall": '(input: {jurisdiction: "US-FDA", recallClass: "II", reason: "", responsible: "u-qa", cause: {}})',
    "startRecall": '(id: "RC-NONE")',
    "approveRecall": '(id: "RC-NONE", password: "x", reason: "matrix test")',
    "cancelRecall": '(id: "RC-NONE", reason: "matrix test")',
    "notifyRecall": '(id: "RC-NONE", markSent: false)',
    "recordMilestone": '(id: "RC-NONE", milestone: "fsn_issued")',
    "recordEffectivenessCheck": '(id: "RC-NONE")',
    "quarantineRecall": '(id: "RC-NONE")',
    "completeRecall": '(id: "RC-NONE", reason: "matrix test")',
    "closeRecall": '(id: "RC-NONE", password: "x", reason: "matrix test")',
    "recordCustomerStep": '(id: "RC-NONE", customer: "H1", input: {step: "stock_count", stockCount: 1})',
    "recordReturns": '(id: "RC-NONE", customer: "H1", input: {qty: 1})',
    # quality records (QMS)
    "qualityRecord": '(type: "complaint", id: "CMP-NONE")', "qualityRecords": '(types: ["complaint", "capa"], statuses: [open], q: "x", '
                                                                            'sort: {field: "dueDate", direction: ASC}, first: 2)',
    "releaseChecklist": '(batch: "FIN1")', "openItems": "", "capaAlerts": "(withinDays: 7)",
    "supplierScorecards": "", "trainingMatrix": "", "productionReport": '(from: "2026-01-01", to: "2026-12-31")',
    "documentInEffect": '(docId: "SOP-NONE", at: "2026-03-01")',
    # invalid fields / an unknown step: every holder of the gate permission gets validation_failed
    "openQualityRecord": '(type: "complaint", fields: {}, reason: "matrix test")',
    "qualityStep": '(type: "complaint", id: "CMP-NONE", step: "no-such-step", reason: "matrix test")',
}


def holders(permission: str) -> set[str]:
    return {r for r in ROLES if permission in permissions.role_permissions(r)}


@pytest.fixture(scope="module")
def api(store: Any, tmp_path_factory: pytest.TempPathFactory) -> Api:
    demo_plant().write(store)
    make_users(store)
    return make_api(store, tmp_path_factory.mktemp("matrix"), raise_server_exceptions=False)


@pytest.fixture(scope="module")
def routes(api: Api) -> list[tuple[str, str, Any, list[str | None]]]:
    return iter_routes(api.client.app)


# -- REST -------------------------------------------------------------------------------------------


@pytest.mark.req("REQ-ACC-004")
def test_every_route_declares_exactly_one_known_permission(routes: list[Any]) -> None:
    missing = [(m, p) for m, p, _, perms in routes if len(perms) != 1]
    assert not missing, f"routes without exactly one Permission dependency (use requires(...) or PUBLIC): {missing}"
    for m, p, _, (perm,) in routes:
        if perm is None:
            assert (m, p) in PUBLIC_ROUTES, f"{m} {p} is public but not in the reviewed public list"
        else:
            assert perm in permissions.PERMISSIONS or perm in (ANY_USER, FIELD_LEVEL), f"{m} {p}: unknown {perm!r}"
    assert {(m, p) for m, p, _, (perm,) in routes if perm is None} == PUBLIC_ROUTES


def _request(api: Api, method: str, path: str, headers: dict[str, str]) -> Any:
    sample = SAMPLES.get((method, path))
    assert sample is not None, f"add a sample request for {method} {path} to SAMPLES in {Path(__file__).name}"
    url = re.sub(r"\{(\w+):\w+\}", r"{\1}", path).format(**sample.get("path", {}))  # {x:path} converters
    return api.client.request(method, url, params=sample.get("params"), json=sample.get("json"), headers=headers)


@pytest.mark.req("REQ-ACC-004")
def test_every_protected_route_needs_a_token(api: Api, routes: list[Any]) -> None:
    for m, p, _, (perm,) in routes:
        if perm is None or perm == FIELD_LEVEL:
            continue
        r = _request(api, m, p, {})
        assert r.status_code == 401, (m, p, r.status_code, r.text)
        assert r.json()["error"]["code"] == "authentication_failed"


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.req("REQ-ACC-004")
def test_role_route_matrix(api: Api, routes: list[Any], role: str) -> None:
    for m, p, _, (perm,) in routes:
        if perm is None or perm == FIELD_LEVEL:
            continue
        token = api.login(f"u-{role.replace('_', '-')}") if (m, p) == ("POST", "/auth/logout") else api.tokens[role]
        r = _request(api, m, p, {"Authorization": f"Bearer {token}"})
        allowed = perm == ANY_USER or role in holders(perm)
        if allowed:
            assert r.status_code not in (401, 403), (role, m, p, r.status_code, r.text[:300])
            assert r.status_code < 500, (role, m, p, r.status_code, r.text[:300])
        else:
            assert r.status_code == 403, (role, m, p, r.status_code, r.text[:300])
            assert r.json()["error"]["code"] == "permission_denied" and perm in r.json()["error"]["message"]


# -- GraphQL ------------------------------------------------------------------------------------------


def _root_fields(api: Api) -> list[tuple[str, str, Any, Any]]:
    """(operation, field name, strawberry field, graphql field) for every Query/Mutation field."""
    from tracegraph.graphql.app import graphql_router  # noqa: F401  (schema built by the app)

    schema = _schema(api)
    out = []
    for op, gtype in (("query", schema._schema.query_type), ("mutation", schema._schema.mutation_type)):
        if gtype is None:
            continue
        sdef = schema.get_type_by_name(gtype.name)
        by_name = {schema.config.name_converter.get_graphql_name(f): f for f in sdef.fields}
        for name, gfield in gtype.fields.items():
            out.append((op, name, by_name[name], gfield))
    return out


def _schema(api: Api) -> Any:
    from strawberry.fastapi import GraphQLRouter

    def find(routes: list[Any]) -> Any:
        for r in routes:
            orig = getattr(r, "original_router", None)
            if isinstance(orig, GraphQLRouter):
                return orig.schema
            if orig is not None and (s := find(orig.routes)) is not None:
                return s
        return None

    schema = find(api.client.app.router.routes)
    assert schema is not None, "the app serves no GraphQL schema"
    return schema


@pytest.mark.req("REQ-ACC-004")
def test_every_root_field_has_a_known_permission(api: Api) -> None:
    fields = _root_fields(api)
    assert len(fields) >= 20
    for op, name, sfield, _ in fields:
        perm = field_permission(sfield)
        assert perm is not None, f"GraphQL {op} field {name!r} has no permission class (permission_classes=[Perm(...)])"
        assert perm in permissions.PERMISSIONS or perm == ANY_USER, f"{name}: unknown permission {perm!r}"


def _rule(type_name: str) -> str | None:
    for suffix in ("Connection", "Edge"):
        if type_name.endswith(suffix) and type_name[: -len(suffix)] in TYPE_RULES:
            return TYPE_RULES[type_name[: -len(suffix)]]
    return TYPE_RULES.get(type_name)


def test_every_object_type_has_a_rule_and_no_field_leaks_it(api: Api) -> None:
    """Each object type has a read rule; every root field that reaches a type (without passing
    a field guarded by its own permission) requires a permission held by no more roles."""
    schema = _schema(api)
    gschema = schema._schema
    roots = {gschema.query_type.name, *( [gschema.mutation_type.name] if gschema.mutation_type else [])}
    objects = [t for n, t in gschema.type_map.items() if is_object_type(t) and not n.startswith("__") and n not in roots]
    no_rule = [t.name for t in objects if t.name not in FREE_TYPES and _rule(t.name) is None]
    assert not no_rule, f"object types without a read rule in graphql/permissions.py TYPE_RULES: {no_rule}"

    def guarded(type_name: str, field_name: str) -> bool:
        sdef = schema.get_type_by_name(type_name)
        for f in getattr(sdef, "fields", []):
            if schema.config.name_converter.get_graphql_name(f) == field_name:
                return field_permission(f) is not None
        return False

    for op, name, sfield, gfield in _root_fields(api):
        perm = field_permission(sfield)
        granted = set(ROLES) if perm == ANY_USER else holders(perm)
        seen: set[str] = set()
        stack = [get_named_type(gfield.type)]
        while stack:
            t = stack.pop()
            if is_interface_type(t) and t.name not in seen:  # every implementation is reachable through it
                seen.add(t.name)
                stack += list(gschema.get_possible_types(t))
                continue
            if not is_object_type(t) or t.name in seen:
                continue
            seen.add(t.name)
            rule = _rule(t.name)
            if rule is not None:
                assert granted <= holders(rule), (
                    f"{op} {name} ({perm}) exposes {t.name} (needs {rule}) to roles {sorted(granted - holders(rule))}"
                )
            for fname, f in t.fields.items():
                if not guarded(t.name, fname):
                    stack.append(get_named_type(f.type))


def _selection(gfield: Any) -> str:
    return "" if is_leaf_type(get_named_type(gfield.type)) else " { __typename }"


@pytest.mark.parametrize("role", [None, *ROLES])
@pytest.mark.req("REQ-ACC-004")
def test_role_field_matrix(api: Api, role: str | None) -> None:
    for op, name, sfield, gfield in _root_fields(api):
        assert name in FIELD_ARGS, f"add sample arguments for GraphQL field {name!r} to FIELD_ARGS"
        perm = field_permission(sfield)
        doc = f"{op} {{ {name}{FIELD_ARGS[name]}{_selection(gfield)} }}"
        body = api.gql(doc, role=role)
        codes = [e.get("extensions", {}).get("code") for e in body.get("errors") or []]
        if role is None:
            assert codes == ["authentication_failed"], (name, body)
            continue
        allowed = perm == ANY_USER or role in holders(perm)
        if allowed:
            assert not {"authentication_failed", "permission_denied", "internal"} & set(codes), (role, name, body)
        else:
            assert codes == ["permission_denied"], (role, name, body)
