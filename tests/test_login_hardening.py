"""Login hardening (issue 15, item 4), over the real app and the real embedded database, with a
clock the test moves (no sleeping): one answer for unknown user and wrong password, growing capped
delays per account and per client address, a stranger cannot keep the real user out, an
administrator sees and clears delays, tokens are hashed at rest. docs/security.md states the policy.
"""

from __future__ import annotations

import json
import re
import statistics
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api_support import ADMIN, PASSWORD, make_users, role_user
from tracegraph.api.app import create_app
from tracegraph.engine.access import auth
from tracegraph.engine.access.login_throttle import POLICY, Tier
from tracegraph.engine.clock import FrozenClock
from tracegraph.engine.errors import AuthenticationFailed
from tracegraph.settings import load_settings

ROOT = Path(__file__).resolve().parent.parent
VICTIM = role_user("qa_manager")


class App:
    def __init__(self, store: Any, tmp: Path) -> None:
        self.clock = FrozenClock(datetime.now(UTC))
        self.app = create_app(load_settings(data_dir=tmp), store=store, clock=self.clock)
        self.store = store
        self._clients: dict[str, TestClient] = {}

    def client(self, address: str) -> TestClient:
        if address not in self._clients:
            self._clients[address] = TestClient(self.app, raise_server_exceptions=False, client=(address, 40000))
        return self._clients[address]

    def login(self, username: str, password: str, address: str = "10.0.0.1") -> Any:
        return self.client(address).post("/auth/login", json={"username": username, "password": password})

    def admin_headers(self) -> dict[str, str]:
        r = self.login(ADMIN, PASSWORD, address="10.9.9.9")
        assert r.status_code == 200, r.text
        return {"Authorization": f"Bearer {r.json()['token']}"}

    def clear_all(self) -> None:
        admin = auth.authenticate(self.store, ADMIN, PASSWORD, clock=self.clock)
        from tracegraph.engine.access import login_throttle

        for t in login_throttle.list_throttles(self.store, admin, clock=self.clock):
            login_throttle.clear(self.store, admin, t.id, reason="test reset", clock=self.clock)


@pytest.fixture(scope="module")
def app(store: Any, tmp_path_factory: pytest.TempPathFactory) -> App:
    make_users(store)
    return App(store, tmp_path_factory.mktemp("login"))


@pytest.fixture(autouse=True)
def _fresh(app: App) -> None:
    app.clear_all()
    app.clock.advance(hours=25)  # older counters restart anyway


def body(r: Any) -> dict[str, Any]:
    e = dict(r.json()["error"])
    return e


def test_unknown_user_and_wrong_password_get_one_answer(app: App) -> None:
    unknown = app.login("no.such.user", "Wrong-Password-1", address="10.0.1.1")
    wrong = app.login(VICTIM, "Wrong-Password-1", address="10.0.1.2")
    assert unknown.status_code == wrong.status_code == 401
    assert body(unknown) == body(wrong)
    assert body(wrong)["code"] == "authentication_failed" and body(wrong)["message"] == "wrong user id or password"
    assert not re.search(r"attempt\(s\) left|\d+ attempt|locked", json.dumps(body(wrong)), re.I)
    assert unknown.headers.get("www-authenticate") == wrong.headers.get("www-authenticate") == "Bearer"
    # and the same once delays start: the throttle does not know whether the id exists
    for _ in range(POLICY.account.free + 1):
        app.login("no.such.user", "Wrong-Password-1", address="10.0.1.1")
        app.login(VICTIM, "Wrong-Password-1", address="10.0.1.2")
    t_unknown = app.login("no.such.user", "Wrong-Password-1", address="10.0.1.1")
    t_wrong = app.login(VICTIM, "Wrong-Password-1", address="10.0.1.2")
    assert t_unknown.status_code == t_wrong.status_code == 429
    assert body(t_unknown) == body(t_wrong) and t_unknown.headers["retry-after"] == t_wrong.headers["retry-after"]


def test_unknown_user_and_wrong_password_take_similar_time(app: App) -> None:
    """Both verify an Argon2 hash (a dummy one for unknown ids) and write the same throttles."""
    def timed(user: str, address: str) -> float:
        t0 = time.perf_counter()
        r = app.login(user, "Wrong-Password-1", address=address)
        assert r.status_code == 401
        return time.perf_counter() - t0

    unknown, known = [], []
    for i in range(POLICY.account.free):  # stay below the delays
        unknown.append(timed(f"ghost{i}", f"10.0.2.{i}"))
        known.append(timed(VICTIM, f"10.0.3.{i}"))
    ratio = statistics.median(unknown) / statistics.median(known)
    assert 0.5 < ratio < 2.0, (unknown, known)


def test_delays_grow_and_are_capped(app: App) -> None:
    seen = []
    for _ in range(POLICY.account.free + 8):
        r = app.login(VICTIM, "Wrong-Password-1", address="10.0.4.1")
        assert r.status_code == 401, r.text  # each attempt after the window: a counted failure
        rows = app.client("10.9.9.9").get("/auth/locks", headers=app.admin_headers()).json()
        acc = next(t for t in rows if t["id"] == f"account:{VICTIM}")
        seen.append(acc["retry_after_s"])
        app.clock.advance(seconds=acc["retry_after_s"] + 0.001)
    free = POLICY.account.free
    assert seen[:free] == [0.0] * free
    delays = seen[free:]
    assert delays == sorted(delays) and delays[0] == POLICY.account.base and delays[-1] == POLICY.account.cap
    assert delays[1] == 2 * delays[0]  # doubling
    assert Tier(free=0, base=2, cap=60).delay(100) == 60


def test_a_strangers_failures_do_not_keep_the_real_user_out(app: App) -> None:
    # the stranger hammers from one address: most attempts are refused inside the window, uncounted
    answers = [app.login(VICTIM, f"Guess-{i}-password", address="203.0.113.7").status_code for i in range(200)]
    assert answers.count(401) == POLICY.account.free + 1 and answers.count(429) == 200 - answers.count(401)
    # the real user, from another address, right now: asked to wait, at most the account cap
    r = app.login(VICTIM, PASSWORD, address="10.0.5.5")
    assert r.status_code == 429 and 0 < int(r.headers["retry-after"]) <= POLICY.account.cap
    # ... and after that delay, logs in (no permanent lock, no administrator needed)
    app.clock.advance(seconds=int(r.headers["retry-after"]))
    ok = app.login(VICTIM, PASSWORD, address="10.0.5.5")
    assert ok.status_code == 200, ok.text
    # a stranger who keeps failing forever still buys at most the cap each time
    for _ in range(30):
        app.clock.advance(seconds=POLICY.account.cap)
        app.login(VICTIM, "Guess-again-1", address=f"198.51.100.{_}")
    r = app.login(VICTIM, PASSWORD, address="10.0.5.5")
    assert r.status_code == 429 and int(r.headers["retry-after"]) <= POLICY.account.cap
    app.clock.advance(seconds=POLICY.account.cap)
    assert app.login(VICTIM, PASSWORD, address="10.0.5.5").status_code == 200


def test_one_address_cannot_hammer_many_accounts(app: App) -> None:
    spray = "192.0.2.66"
    for i in range(POLICY.address.free):  # password spraying: one try per user id, never an account delay
        assert app.login(f"user{i:03d}", "Summer2026-password", address=spray).status_code == 401
    assert app.login("user999", "Summer2026-password", address=spray).status_code == 401  # the one that opens it
    blocked = app.login(role_user("viewer"), PASSWORD, address=spray)  # even a correct password from there
    assert blocked.status_code == 429 and body(blocked)["code"] == "too_many_attempts"
    assert app.login(role_user("viewer"), PASSWORD, address="10.0.6.6").status_code == 200  # others are not
    # the address delay grows past the account cap (up to an hour)
    counted = 0
    while counted < 7:
        r = app.login(f"sp{counted}", "Guess-password-1", address=spray)
        if r.status_code == 429:
            app.clock.advance(seconds=int(r.headers["retry-after"]))
        else:
            counted += 1
    r = app.login("userz", "z-password-1", address=spray)
    assert r.status_code == 429 and int(r.headers["retry-after"]) > POLICY.account.cap


def test_admin_sees_and_clears_delays_through_rest_graphql_and_cli(app: App, embedded_server: Any) -> None:
    for i in range(POLICY.account.free + 1):
        app.login(VICTIM, "Wrong-Password-1", address="203.0.113.9")
    admin = app.admin_headers()
    viewer_token = app.login(role_user("viewer"), PASSWORD, address="10.0.7.7").json()["token"]
    c = app.client("10.9.9.9")
    assert c.get("/auth/locks", headers={"Authorization": f"Bearer {viewer_token}"}).status_code == 403
    rows = {t["id"]: t for t in c.get("/auth/locks", headers=admin).json()}
    assert rows[f"account:{VICTIM}"]["active"] and rows[f"account:{VICTIM}"]["failures"] == POLICY.account.free + 1
    assert rows["address:203.0.113.9"]["failures"] == POLICY.account.free + 1
    g = c.post("/graphql", json={"query": "{ loginThrottles { id failures active retryAfterS } }"}, headers=admin)
    assert f"account:{VICTIM}" in {t["id"] for t in g.json()["data"]["loginThrottles"]}
    assert app.login(VICTIM, PASSWORD, address="10.0.7.8").status_code == 429
    r = c.post(f"/auth/locks/account:{VICTIM}/clear", json={"reason": "identity confirmed by phone"}, headers=admin)
    assert r.status_code == 200 and r.json()["failures"] == 0 and not r.json()["active"]
    assert app.login(VICTIM, PASSWORD, address="10.0.7.8").status_code == 200
    m = c.post("/graphql", json={"query": 'mutation { clearLoginThrottle(key: "address:203.0.113.9", '
                                          'reason: "office NAT") { id failures } }'}, headers=admin)
    assert m.json()["data"]["clearLoginThrottle"] == {"id": "address:203.0.113.9", "failures": 0}
    hist = c.post("/graphql", json={"query": f'{{ auditHistory(target: "account:{VICTIM}") {{ action reason }} }}'},
                  headers=admin).json()["data"]["auditHistory"]
    assert {"action": "login_throttle_cleared", "reason": "identity confirmed by phone"} in hist
    # CLI: users locks / users unlock
    from typer.testing import CliRunner

    from tracegraph.cli import app as cli

    for i in range(POLICY.account.free + 1):
        with pytest.raises(AuthenticationFailed):
            auth.authenticate(app.store, VICTIM, "Wrong-Password-1", clock=app.clock, address="local")
    env = {"TRACEGRAPH_DATA_DIR": str(embedded_server.data_dir), "TRACEGRAPH_GRAPH": app.store.graph_name,
           "TRACEGRAPH_USER": ADMIN, "TRACEGRAPH_PASSWORD": PASSWORD}
    runner = CliRunner()
    out = runner.invoke(cli, ["users", "locks", "--json"], env=env)
    assert out.exit_code == 0, out.output
    assert f"account:{VICTIM}" in out.output and "address:local" in out.output
    out = runner.invoke(cli, ["users", "unlock", VICTIM, "--reason", "called the help desk"], env=env)
    assert out.exit_code == 0, out.output
    out = runner.invoke(cli, ["users", "unlock", "--address", "local", "--reason", "help desk"], env=env)
    assert out.exit_code == 0, out.output
    assert app.login(VICTIM, PASSWORD, address="10.0.7.8").status_code == 200


def test_throttles_are_audited_graph_records_that_verify(app: App) -> None:
    from tracegraph.engine.audit.verify import verify

    app.login("ghost", "Wrong-Password-1", address="10.0.8.8")
    rows = app.store.run("MATCH (t:LoginThrottle) WHERE t.id IN ['account:ghost', 'address:10.0.8.8'] "
                         "RETURN t.id AS id, t.failures AS n", write=False)
    assert {r["id"] for r in rows} == {"account:ghost", "address:10.0.8.8"}
    assert verify(app.store).ok
    app.store.run("MATCH (t:LoginThrottle {id: 'account:ghost'}) SET t.failures = 0")  # erased behind the engine
    report = verify(app.store)
    assert not report.ok and any(p.field == "failures" for p in report.problems)
    app.store.run("MATCH (t:LoginThrottle {id: 'account:ghost'}) SET t.failures = 1")


def test_tokens_are_hashed_at_rest(app: App) -> None:
    r = app.login(role_user("viewer"), PASSWORD, address="10.0.9.9")
    token = r.json()["token"]
    every = app.store.run("MATCH (n) RETURN properties(n) AS p", write=False)
    assert every and not [r for r in every if token[3:20] in json.dumps(r["p"], default=str)]
    import hashlib

    stored = app.store.run("MATCH (t:Token {token_hash: $h}) RETURN count(t) AS c",
                           {"h": hashlib.sha256(token.encode()).hexdigest()}, write=False)
    assert stored[0]["c"] == 1


def test_the_documented_policy_is_the_one_enforced() -> None:
    doc = (ROOT / "docs" / "security.md").read_text(encoding="utf-8")
    for n in (POLICY.account.free, POLICY.address.free):
        assert f"**{n}**" in doc
    assert f"{int(POLICY.account.cap)} s" in doc and f"{int(POLICY.address.cap)} s" in doc
    assert f"{int(POLICY.account.base)} s" in doc and "24 h" in doc


def test_counters_are_shared_by_processes_and_none_is_lost(app: App, embedded_server: Any) -> None:
    """Two store connections (as two processes on one data folder) failing at once: every failure
    counts, because each throttle write recomputes its counter inside the audit compare-and-set."""
    import threading

    from tracegraph.engine.stores.falkordb import FalkorDBStore

    other = FalkorDBStore(unix_socket_path=str(embedded_server.socket_path), graph=app.store.graph_name,
                          server=embedded_server)
    try:
        errors: list[BaseException] = []

        def fail(store: Any, who: str) -> None:
            try:  # 2 failures each on one shared account (below its delays), 8 each from one shared address
                for i in range(8):
                    user = "shared.ghost" if i < 2 else f"ghost-{who}-{i}"
                    with pytest.raises(AuthenticationFailed):
                        auth.authenticate(store, user, "Wrong-Password-1", address="10.1.1.1")
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=fail, args=(s, w)) for s, w in ((app.store, "a"), (other, "b"))]
        [t.start() for t in threads]
        [t.join() for t in threads]
    finally:
        other.close()
    assert not errors, errors
    rows = app.store.run("MATCH (t:LoginThrottle) WHERE t.id IN ['account:shared.ghost', 'address:10.1.1.1'] "
                         "RETURN t.id AS id, t.failures AS n", write=False)
    assert {r["id"]: r["n"] for r in rows} == {"account:shared.ghost": 4, "address:10.1.1.1": 16}
