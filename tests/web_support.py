"""The web app's test server: a real uvicorn on 127.0.0.1 (a free port) serving `create_app` on
the real embedded database, loaded with a generated plant and one user per role of the journeys.
Used by tests/test_web_browser.py (and by hand: `python tests/web_support.py` keeps one running)."""

from __future__ import annotations

import json
import socket
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvicorn

from tracegraph.api.app import create_app
from tracegraph.engine.access import auth
from tracegraph.settings import load_settings

PASSWORD = "Correct-Horse-42!"
#: username, printed name, roles (the people of the journeys)
USERS = (
    ("complaints", "Sam Okafor", ["complaint_handler"]),
    ("coord", "Li Wei", ["recall_coordinator", "viewer"]),
    ("qa.lead", "Maria Garcia", ["qa_manager"]),
    ("qa.rev", "Quinn Reviewer", ["qa"]),
    ("qa.author", "Chen Jing", ["qa"]),
    ("auditor", "Ada Auditor", ["viewer"]),
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def load_plant(store: Any, serials: int = 3000, seed: int = 7) -> None:
    """A generated plant (the demo's generator) imported as an admin, and the journey users."""
    from tracegraph.engine.imports.runner import SourceFile, run_import
    from tracegraph.loaders.generator import generate_plant

    auth.init_admin(store, "admin", "Demo Administrator", PASSWORD)
    admin = auth.authenticate(store, "admin", PASSWORD)
    run_import(store, generate_plant(serials, seed), admin,
               source_files=[SourceFile(name=f"generated plant seed={seed}", sha256="", rows=0)])
    for username, name, roles in USERS:
        auth.add_user(store, admin, username, name, PASSWORD, roles, reason="web test users")


@dataclass
class WebServer:
    url: str
    store: Any
    server: uvicorn.Server
    thread: threading.Thread
    tokens: dict[str, str] = field(default_factory=dict)

    def token(self, user: str) -> str:
        if user not in self.tokens:
            self.tokens[user] = self.post("/auth/login", {"username": user, "password": PASSWORD})["token"]
        return self.tokens[user]

    def post(self, path: str, body: dict[str, Any], user: str | None = None) -> dict[str, Any]:
        headers = {"Content-Type": "application/json"}
        if user:
            headers["Authorization"] = f"Bearer {self.token(user)}"
        req = urllib.request.Request(self.url + path, data=json.dumps(body).encode(), headers=headers, method="POST")
        with urllib.request.urlopen(req, timeout=60) as r:
            return json.loads(r.read())

    def gql(self, query: str, user: str = "auditor", **variables: Any) -> dict[str, Any]:
        body = self.post("/graphql", {"query": query, "variables": variables}, user)
        assert not body.get("errors"), body["errors"]
        return body["data"]

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)


def start_server(store: Any, data_dir: Path) -> WebServer:
    settings = load_settings(data_dir=data_dir, trace_index="off")
    app = create_app(settings, store=store)
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="web-test-server", daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url + "/health", timeout=2):
                break
        except OSError:
            time.sleep(0.1)
    else:
        raise RuntimeError("the web test server did not answer")
    return WebServer(url=url, store=store, server=server, thread=thread)


def open_quality_records(web: WebServer) -> dict[str, str]:
    """A deviation about a batch and a CAPA due in three days (a CAPA alert), opened by the QA
    manager through GraphQL, for the QA board."""
    import datetime as dt

    bid = web.gql("{ batches(first: 1) { edges { node { id } } } }")["batches"]["edges"][0]["node"]["id"]
    m = ("mutation($t: String!, $f: JSON!, $a: [QmsRefInput!]) { openQualityRecord(type: $t, fields: $f, about: $a, "
         'reason: "web test") { id } }')
    dev = web.gql(m, user="qa.lead", t="deviation", a=[{"label": "Batch", "id": bid}],
                  f={"title": "Seal strength below limit", "description": "3 of 20 pouches under 1.2 N",
                     "severity": "major"})["openQualityRecord"]["id"]
    due = (dt.date.today() + dt.timedelta(days=3)).isoformat()
    capa = web.gql(m, user="qa.lead", t="capa", a=[{"label": "Batch", "id": bid}],
                   f={"title": "Sealer temperature control", "source": "deviation", "problem": "seal strength drift",
                      "owner": "qa.lead", "due_date": due})["openQualityRecord"]["id"]
    return {"deviation": dev, "capa": capa}


def batch_awaiting_release(web: WebServer) -> str:
    """The generator releases every batch: the newest one whose other release conditions hold
    (inspections, deviations, calibration, training) is put on hold and the hold lifted again
    (released -> quarantined -> in_process, the only way back the status policy allows) by the QA
    manager, through the audited setStatus mutation, with reasons: it then awaits QA release."""
    d = web.gql("{ batches(first: 30, sort: STARTED_AT, desc: true) { edges { node { id } } } }")
    q = "query($b: String!) { releaseChecklist(batch: $b) { conditions { name ok } } }"
    bid = next(e["node"]["id"] for e in d["batches"]["edges"]
               if all(c["ok"] for c in web.gql(q, b=e["node"]["id"])["releaseChecklist"]["conditions"]
                      if c["name"] != "batch_status"))
    for status, reason in (("quarantined", "hold for re-inspection"), ("in_process", "hold lifted: awaiting QA release")):
        web.gql('mutation($b: String!, $s: String!, $r: String!) { setStatus(label: "Batch", key: $b, status: $s, '
                'reason: $r) { key } }', user="qa.lead", b=bid, s=status, r=reason)
    return bid


if __name__ == "__main__":  # a server to look at by hand
    import tempfile

    from tracegraph.engine.stores.falkordb import FalkorDBStore
    from tracegraph.engine.stores.server import EmbeddedServer

    tmp = Path(tempfile.mkdtemp())
    emb = EmbeddedServer(tmp / "db", appendfsync="everysec")
    emb.ensure_running()
    st = FalkorDBStore(unix_socket_path=str(emb.socket_path), graph="web", server=emb)
    st.apply_schema()
    load_plant(st)
    ws = start_server(st, tmp)
    print(ws.url, flush=True)
    try:
        while True:
            time.sleep(3600)
    finally:
        ws.stop()
        emb.stop()
