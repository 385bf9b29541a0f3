"""Server refusals in the caller's language (doors/error_language.py, doors/error_messages.json):
`Accept-Language: zh-CN` gives Chinese message and hint on REST and GraphQL with the same code and
field as in English; q-values are honoured; every code the server can answer with has a zh-CN
entry; an unknown code stays English, never empty."""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path
from typing import Any

import pytest

import tracegraph
from api_support import PASSWORD, Api, make_api, make_users, role_user
from test_recall_plant import build
from tracegraph.doors import error_language as L
from tracegraph.engine.access import auth
from tracegraph.engine.access.permissions import PERMISSIONS
from tracegraph.engine.errors import TracegraphError
from tracegraph.engine.recall import campaign as R
from tracegraph.engine.trace.models import ImpactCause

ROOT = Path(tracegraph.__file__).resolve().parent
ZH = {"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"}
CJK = re.compile(r"[\u4e00-\u9fff]")
RID = "RC-LANG"


def chinese(text: str | None) -> bool:
    return bool(text) and bool(CJK.search(text or ""))


@pytest.fixture(scope="module")
def api(store: Any, tmp_path_factory: pytest.TempPathFactory) -> Api:
    build(store)
    make_users(store)
    author = auth.authenticate(store, role_user("qa_manager"), PASSWORD)
    data = R.RecallCreate(id=RID, jurisdiction="CN-NMPA", recall_class="II", reason="seal", responsible=author.id)
    R.create_recall_from_cause(store, author, data, ImpactCause(batches=["B1"]))  # stays a draft
    return make_api(store, tmp_path_factory.mktemp("lang"), raise_server_exceptions=False)


# -- choosing the language ---------------------------------------------------------------------------


@pytest.mark.parametrize(("header", "want"), [
    (None, "en"), ("", "en"), ("zh-CN", "zh-CN"), ("zh", "zh-CN"), ("zh-Hans-CN", "zh-CN"), ("ZH-cn", "zh-CN"),
    ("zh-CN,zh;q=0.9,en;q=0.8", "zh-CN"), ("en;q=0.9, zh-CN;q=0.8", "en"), ("en;q=0.5, zh;q=0.95", "zh-CN"),
    ("fr, de;q=0.7", "en"), ("fr, zh-CN;q=0.2", "zh-CN"), ("zh-CN;q=0, en", "en"), ("zh-CN;q=0", "en"),
    ("*", "en"), ("zh-TW", "en"), ("zh-CN;q=nonsense", "en"), ("x" * 2000, "en"), ("zh-CN;q=1.5", "en"),
])
def test_accept_language_with_q_values(header: str | None, want: str) -> None:
    assert L.negotiate(header) == want


def test_unknown_code_and_english_are_left_as_they_are() -> None:
    assert L.translate("no_such_code", "something broke", "do this", "zh-CN") == ("something broke", "do this", False)
    assert L.translate("not_found", "no user 'x'", "y", "en") == ("no user 'x'", "y", False)
    msg, hint, done = L.translate("not_found", "a brand-new message nobody translated", "a new hint", "zh-CN")
    assert done and msg == "未找到：a brand-new message nobody translated" and hint == "请检查编号（区分大小写）（a new hint）"
    assert L.localize({"code": "no_such_code", "message": "m"}, "zh-CN") == {"code": "no_such_code", "message": "m"}


# -- REST ----------------------------------------------------------------------------------------------


def _both(api: Api, method: str, url: str, headers: dict[str, str] | None = None,
          **kw: Any) -> tuple[Any, dict[str, Any], dict[str, Any]]:
    en = api.client.request(method, url, headers={**(headers or {}), "Accept-Language": "en"}, **kw)
    zh = api.client.request(method, url, headers={**(headers or {}), **ZH}, **kw)
    assert en.status_code == zh.status_code >= 400, (en.status_code, zh.status_code, zh.text)
    e, z = en.json()["error"], zh.json()["error"]
    assert (e["code"], e.get("field")) == (z["code"], z.get("field"))
    assert chinese(z["message"]) and not chinese(e["message"]), (e, z)
    assert z.get("lang") == "zh-CN" and "lang" not in e
    assert zh.headers.get("content-language") == "zh-CN" and "accept-language" in zh.headers.get("vary", "").lower()
    if e.get("hint"):
        assert chinese(z["hint"]) and z["hint"] != e["hint"], (e, z)
    return zh, e, z


def test_rest_refusals_in_chinese_with_the_same_code_and_field(api: Api) -> None:
    viewer = api.headers("viewer")
    coord = api.headers("recall_coordinator")
    _, e, z = _both(api, "GET", f"/recalls/{RID}")
    assert e["code"] == "authentication_failed" and z["message"] == "此接口需要持有者令牌（bearer token）"
    _, e, z = _both(api, "POST", f"/recalls/{RID}/start", headers=viewer)
    assert e["code"] == "permission_denied" and z["message"].startswith("用户 'u-viewer'（角色：viewer）无权执行此操作")
    # the permission is described in Chinese too, not in the English of engine/access/permissions.py
    assert PERMISSIONS["recall.create"] in e["message"] and PERMISSIONS["recall.create"] not in z["message"]
    assert z["message"].endswith("（recall.create：创建和更新召回，生成通知草稿）")
    assert z["hint"].startswith("请向管理员申请以下角色之一：")
    _, e, z = _both(api, "GET", "/recalls/RC-NOPE", headers=viewer)
    assert e["code"] == "not_found" and z["message"] == "召回 'RC-NOPE' 不存在"
    assert z["hint"] == "可用 `tracegraph recall list` 列出召回"
    _, e, z = _both(api, "GET", f"/recalls/{RID}/effectiveness/timeline", headers=viewer, params={"tz": "Mars/Olympus"})
    assert e["code"] == "validation_failed" and e["field"] == "tz" and z["message"] == "未知的时区 'Mars/Olympus'"
    # FastAPI's own 422: a missing field and a value too long, named by their path
    _, e, z = _both(api, "POST", f"/recalls/{RID}/approve", headers=api.headers("qa_manager"), json={"password": "x"})
    assert e["field"] == "reason" and z["message"] == "请求无效：reason：缺少必填字段"
    assert z["problems"][0]["field"] == "reason" and z["problems"][0]["message"] == "缺少必填字段"
    _, e, z = _both(api, "GET", f"/recalls/{RID}/effectiveness/timeline", headers=viewer, params={"tz": "x" * 65})
    assert e["field"] == "tz" and z["message"] == "请求无效：tz：最多 64 个字符"
    # a time without a timezone, and a control character, named by field
    _, e, z = _both(api, "POST", f"/recalls/{RID}/customers/D1/steps", headers=coord,
                    json={"step": "sent", "at": "2026-03-02T09:00:00"})
    assert e["code"] == "validation_failed" and "缺少时区" in z["message"] and e.get("field") == z.get("field")
    _, e, z = _both(api, "GET", "/recalls", headers=viewer, params={"status": "draft\x07"})
    assert e["field"] == "query.status" and z["message"] == "query.status 在第 5 个位置含有控制字符 U+0007"
    # a state that does not allow the step: the message and hint known to the catalogue
    _, e, z = _both(api, "POST", f"/recalls/{RID}/customers/D1/returns", headers=coord, json={"qty": 1})
    assert e["code"] == "conflict" and z["message"] == f"召回 {RID} 的状态为 draft；只有在召回进行中才能记录退回"
    assert z["hint"] == f"请先用 `tracegraph recall start {RID}` 启动召回"
    # sign-in refused, and the language follows the q-values: English preferred stays English
    _, e, z = _both(api, "POST", "/auth/login", json={"username": "nobody", "password": "wrong-password-1"})
    assert e["code"] == "authentication_failed" and z["message"] == "用户名或密码错误"
    r = api.client.get("/recalls/RC-NOPE", headers={**viewer, "Accept-Language": "en;q=0.9, zh-CN;q=0.8"})
    assert r.json()["error"]["message"] == "recall 'RC-NOPE' not found" and "content-language" not in r.headers
    # an unknown route (Starlette's 404)
    _both(api, "GET", "/no/such/route", headers=viewer)


# -- GraphQL ------------------------------------------------------------------------------------------


def _gql(api: Api, query: str, role: str | None, lang: str, **variables: Any) -> dict[str, Any]:
    headers = {**api.headers(role), "Accept-Language": lang}
    r = api.client.post("/graphql", json={"query": query, "variables": variables or None}, headers=headers)
    assert r.status_code == 200, r.text
    errors = r.json()["errors"]
    assert errors, r.text
    return errors[0]  # type: ignore[no-any-return]


@pytest.mark.parametrize(("query", "role", "variables", "code", "message"), [
    ('{ recall(id: "RC-LANG") { id } }', None, {}, "authentication_failed", "此字段需要持有者令牌（bearer token）"),
    ('mutation { startRecall(id: "RC-LANG") { id } }', "viewer", {}, "permission_denied",
     "用户 'u-viewer'（角色：viewer）无权执行此操作（recall.create：创建和更新召回，生成通知草稿）"),
    ('mutation { recordReturns(id: "RC-LANG", customer: "D1", input: {qty: 1}) { recall } }', "viewer", {},
     "permission_denied", "用户 'u-viewer'（角色：viewer）无权执行此操作（recall.create：创建和更新召回，生成通知草稿）"),
    ('{ recall(id: "RC-NOPE") { id } }', "viewer", {}, "not_found", "召回 'RC-NOPE' 不存在"),
    ('{ recall(id: "RC-LANG") { effectivenessTimeline(tz: "Mars/Olympus") { by } } }', "viewer", {},
     "validation_failed", "未知的时区 'Mars/Olympus'"),
    ('query($s: String) { recalls(status: $s) { totalCount } }', "viewer", {"s": "draft\x07"}, "validation_failed",
     "variables.s 含有控制字符"),
    ('mutation { recordReturns(id: "RC-LANG", customer: "D1", input: {qty: 1}) { recall } }', "recall_coordinator",
     {}, "conflict", "召回 RC-LANG 的状态为 draft；只有在召回进行中才能记录退回"),
])
def test_graphql_refusals_in_chinese_with_the_same_code_and_field(api: Api, query: str, role: str | None,
                                                                  variables: dict[str, Any], code: str,
                                                                  message: str | None) -> None:
    en = _gql(api, query, role, "en", **variables)
    zh = _gql(api, query, role, "zh-CN", **variables)
    ex, zx = en.get("extensions") or {}, zh.get("extensions") or {}
    assert ex["code"] == zx["code"] == code and ex.get("field") == zx.get("field")
    assert [p.get("field") for p in ex.get("problems") or []] == [p.get("field") for p in zx.get("problems") or []]
    assert chinese(zh["message"]) and not chinese(en["message"]) and zx["lang"] == "zh-CN" and "lang" not in ex
    if message:
        assert zh["message"] == message
    if ex.get("hint"):
        assert chinese(zx["hint"]) and zx["hint"] != ex["hint"]
    assert zh.get("path") == en.get("path")


def test_graphql_syntax_errors_stay_graphqls_own(api: Api) -> None:
    err = _gql(api, "{ recall(id: ", "viewer", "zh-CN")
    assert "Syntax Error" in err["message"]


# -- the catalogue -------------------------------------------------------------------------------------


def _raised_codes() -> set[str]:
    """Every code the server can answer with: each TracegraphError subclass's `code` (every module
    imported), the codes the doors write as literals, and the HTTP mapping of api/errors.py."""
    for mod in pkgutil.walk_packages([str(ROOT)], "tracegraph."):
        if mod.name.startswith(("tracegraph.cli", "tracegraph.validation.runner")):
            continue
        try:
            importlib.import_module(mod.name)
        except Exception:  # optional extras (a module that needs a missing package) have no codes to add
            continue
    codes: set[str] = set()
    stack: list[type] = [TracegraphError]
    while stack:
        cls = stack.pop()
        codes.add(cls.code)  # type: ignore[attr-defined]
        stack += cls.__subclasses__()
    for path in ROOT.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        codes |= set(re.findall(r'"code":\s*"([a-z_]+)"', text))
        codes |= set(re.findall(r'\bcode\s*=\s*"([a-z_]+)"', text))
    codes |= {"not_found", "method_not_allowed", "payload_too_large", "authentication_failed"}
    return codes


def test_every_code_the_server_raises_has_a_chinese_entry() -> None:
    codes = _raised_codes()
    assert {"validation_failed", "conflict", "shipment_blocked", "too_many_attempts", "backup_refused",
            "internal", "database_timeout"} <= codes
    table = L.catalogue()["codes"]
    missing = sorted(c for c in codes if not (table.get(c, {}).get("zh-CN") or {}).get("message"))
    assert not missing, f"add zh-CN entries to tracegraph/doors/error_messages.json for: {missing}"
    for code, entry in table.items():
        for lang in L.languages():
            assert entry[lang]["message"].strip() and entry[lang]["hint"].strip(), (code, lang)


def test_every_pattern_compiles_and_fills_only_its_own_groups() -> None:
    cat = L.catalogue()
    for kind in ("messages", "hints", "details"):
        for e in cat[kind]:
            rx = re.compile(e["en"])
            for lang in L.languages():
                if lang == "en":
                    continue
                assert e[lang].strip(), e
                assert set(re.findall(r"\{(\w+)\}", e[lang])) <= set(rx.groupindex), (kind, e)


def test_every_permission_is_described_in_chinese() -> None:
    """A permission-denied refusal names the permission and what it allows: in zh-CN from the
    catalogue's `permissions`, for every permission of engine/access/permissions.py."""
    table = L.catalogue()["permissions"]
    assert set(table) == set(PERMISSIONS), "tracegraph/doors/error_messages.json permissions != PERMISSIONS"
    for perm, desc in PERMISSIONS.items():
        zh = L.permission_text(perm, "zh-CN")
        assert zh and chinese(zh) and zh != desc, perm
        msg, _, done = L.translate("permission_denied", f"user 'u-x' (roles: viewer) may not {desc} ({perm})",
                                   None, "zh-CN")
        assert done and msg == f"用户 'u-x'（角色：viewer）无权执行此操作（{perm}：{zh}）", msg
    assert L.permission_text("no.such.permission", "zh-CN") is None
    # the recall signing policy's own refusal (engine/recall/signing.py)
    msg, hint, _ = L.translate("permission_denied", "Ann Lee (u-ann) may not recall.execute: needs one of the roles "
                               "['admin', 'qa']", "ask an administrator to grant the role, or have a colleague with "
                               "it do this step", "zh-CN")
    assert msg == "Ann Lee（u-ann）无权执行此操作（recall.execute）：需要以下角色之一 ['admin', 'qa']"
    assert hint == "请向管理员申请该角色，或请具有该角色的同事执行此步骤"
