"""The permission matrix as data, and EVERY registered command run as EVERY role.

A command added to permissions.COMMANDS without a case here fails
`test_every_command_has_a_case`; a case whose outcome disagrees with the matrix fails the
parametrized test."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tracegraph.engine import commands
from tracegraph.engine.access import auth, permissions
from tracegraph.engine.audit import checkpoints, review
from tracegraph.engine.audit.chain import Actor, history
from tracegraph.engine.audit.signatures import sign
from tracegraph.engine.audit.verify import verify
from tracegraph.engine.errors import PermissionDenied
from tracegraph.validation import catalogue
from tracegraph.validation import report as vreport

ROOT = Path(__file__).resolve().parent.parent
ROLES = list(permissions.ROLES)
SYSTEM = Actor.system()
_n = itertools.count()


def _pw(role: str) -> str:
    return f"Role-Secret-{role}-9"


@pytest.fixture(scope="module")
def env(store: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    auth.init_admin(store, "boss", "Boss Admin", "Root-Passphrase-7")
    admin = auth.authenticate(store, "boss", "Root-Passphrase-7")
    actors = {}
    for role in ROLES:
        uid = f"u.{role}"
        auth.add_user(store, admin, uid, f"User {role}", _pw(role), [role])
        actors[role] = auth.authenticate(store, uid, _pw(role))
    auth.add_user(store, admin, "victim", "Vic Tim", "Target-Secret-12", ["viewer"])
    commands.create(store, "Product", "P-1", {"name": "Pump"}, SYSTEM)
    return {"store": store, "actors": actors, "dir": tmp_path_factory.mktemp("keys")}


def _fresh_batch(s: Any) -> str:
    key = f"B-{next(_n)}"
    commands.create(s, "Batch", key, {"qty": 1.0, "status": "in_process"}, SYSTEM)
    return key


Case = Callable[[dict[str, Any], Actor, str], Any]

CASES: dict[str, Case] = {
    "users.add": lambda e, a, r: auth.add_user(e["store"], a, f"new.{next(_n)}", "New User", "Fresh-Secret-123", ["viewer"]),
    "users.list": lambda e, a, r: auth.list_users(e["store"], a),
    "users.disable": lambda e, a, r: auth.disable_user(e["store"], a, "victim"),
    "users.enable": lambda e, a, r: auth.enable_user(e["store"], a, "victim"),
    "users.set_roles": lambda e, a, r: auth.set_roles(e["store"], a, "victim", ["viewer"]),
    "users.reset_password": lambda e, a, r: auth.reset_password(e["store"], a, "victim", "Target-Secret-12"),
    "users.unlock": lambda e, a, r: auth.unlock_user(e["store"], a, "victim"),
    "audit.verify": lambda e, a, r: verify(e["store"], actor=a, check_state=False),
    "audit.log": lambda e, a, r: history(e["store"], limit=5, as_actor=a),
    "audit.checkpoint": lambda e, a, r: checkpoints.create_checkpoint(e["store"], e["dir"], a, verify_first=False),
    "audit.prove": lambda e, a, r: checkpoints.inclusion_proof(
        e["store"], 1, as_actor=a) if checkpoints.latest_checkpoint(e["store"]) else history(e["store"], as_actor=a),
    "records.create": lambda e, a, r: commands.create(e["store"], "Batch", f"NB-{next(_n)}", {"qty": 2.0}, a),
    "records.update": lambda e, a, r: commands.update(e["store"], "Batch", _fresh_batch(e["store"]), {"qty": 3.0}, a),
    "records.link": lambda e, a, r: commands.link(e["store"], "Batch", _fresh_batch(e["store"]), "OF", "Product", "P-1", a),
    "records.set_status": lambda e, a, r: commands.set_status(e["store"], "Batch", _fresh_batch(e["store"]), "quarantined", a),
    "records.retire": lambda e, a, r: commands.retire(e["store"], "Batch", _fresh_batch(e["store"]), a, reason="duplicate"),
    "audit.review": lambda e, a, r: review.build_review(e["store"], review.parse_request(
        {"period_from": "2026-01-01", "period_to": "2100-01-01", "verify_chain": False}), a),
    "validation.report": lambda e, a, r: vreport.store_report(
        e["store"], vreport.build_report(catalogue.load(), {"hash": "test"}, iq=None, oq=None, pq=None), a, {}),
    "signatures.sign": lambda e, a, r: sign(e["store"], "Batch", _fresh_batch(e["store"]), "authored", a, _pw(r),
                                            username=a.id),
}


@pytest.mark.req("REQ-ACC-003")
def test_every_command_has_a_case() -> None:
    assert set(permissions.COMMANDS) == set(CASES), "add a case (and a rule) for every command"
    assert set(permissions.COMMANDS.values()) <= set(permissions.PERMISSIONS)


def test_roles_only_use_known_permissions() -> None:
    for role, (desc, perms) in permissions.ROLES.items():
        assert desc and set(perms) <= set(permissions.PERMISSIONS), role
    assert {"viewer", "complaint_handler", "recall_coordinator", "qa", "qa_manager", "admin"} <= set(permissions.ROLES)
    for perm in permissions.PERMISSIONS:  # no dead permission
        assert any(perm in p for _, p in permissions.ROLES.values()), perm
    for perm in [*permissions.LABEL_WRITE_PERMISSIONS.values(), *permissions.SIGN_PERMISSIONS.values()]:
        assert perm in permissions.PERMISSIONS


@pytest.mark.parametrize("command,role", [(c, r) for c in permissions.COMMANDS for r in ROLES])
@pytest.mark.req("REQ-ACC-003")
def test_command_as_role(env: dict[str, Any], command: str, role: str) -> None:
    actor = env["actors"][role]
    expected = permissions.COMMANDS[command] in permissions.ROLES[role][1]
    if expected:
        CASES[command](env, actor, role)
    else:
        with pytest.raises(PermissionDenied):
            CASES[command](env, actor, role)


def test_unknown_permission_is_a_programming_error() -> None:
    with pytest.raises(KeyError):
        permissions.require(SYSTEM, "no.such.permission")


@pytest.mark.req("REQ-ACC-003")
def test_denial_message_says_who_may() -> None:
    with pytest.raises(PermissionDenied) as exc:
        permissions.require(Actor("v", "V", frozenset({"viewer"})), "recall.approve")
    assert "qa_manager" in str(exc.value) and "recall.approve" in str(exc.value)


@pytest.mark.req("REQ-SYS-002")
def test_docs_show_the_current_matrix() -> None:
    text = (ROOT / "docs" / "audit.md").read_text(encoding="utf-8")
    assert permissions.matrix_markdown() in text, "regenerate the matrix in docs/audit.md (permissions.matrix_markdown())"
