"""Shared by tests/test_api_*.py and tests/test_graphql_*.py: an app on the real store, one user
per role, and their tokens (made through the engine's own user management and login)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from tracegraph.api.app import create_app
from tracegraph.engine.access import auth, permissions
from tracegraph.settings import load_settings

ADMIN = "admin1"
PASSWORD = "Correct-Horse-42!"


def role_user(role: str) -> str:
    return "u-" + role.replace("_", "-")


@dataclass
class Api:
    client: TestClient
    store: Any
    tokens: dict[str, str] = field(default_factory=dict)  # role -> token

    def headers(self, role: str | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"} if role else {}

    def login(self, username: str, password: str = PASSWORD) -> str:
        r = self.client.post("/auth/login", json={"username": username, "password": password})
        assert r.status_code == 200, r.text
        return r.json()["token"]

    def gql(self, query: str, role: str | None = "viewer", **variables: Any) -> dict[str, Any]:
        r = self.client.post("/graphql", json={"query": query, "variables": variables or None},
                             headers=self.headers(role))
        assert r.status_code == 200, r.text
        return r.json()


def make_users(store: Any) -> None:
    """The first admin, then one user per role (the admin creates them: audited writes)."""
    auth.init_admin(store, ADMIN, "Ada Admin", PASSWORD)
    admin = auth.authenticate(store, ADMIN, PASSWORD)
    for role in permissions.ROLES:
        auth.add_user(store, admin, role_user(role), f"{role} user", PASSWORD, [role], reason="test fixture")


def make_api(store: Any, tmp: Path, *, raise_server_exceptions: bool = True, **settings: Any) -> Api:
    s = load_settings(data_dir=tmp, **settings)
    app = create_app(s, store=store)
    client = TestClient(app, raise_server_exceptions=raise_server_exceptions, client=("127.0.0.1", 50000))
    api = Api(client=client, store=store)
    for role in permissions.ROLES:
        api.tokens[role] = api.login(role_user(role))
    return api
