"""`tracegraph db start|stop|status`: the embedded database's lifecycle."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from tracegraph.cli.common import JSON_OPTION, clean_errors, console, print_json, settings
from tracegraph.engine.errors import ConfigurationError

if TYPE_CHECKING:
    from tracegraph.engine.stores.server import EmbeddedServer
    from tracegraph.settings import Settings

app = typer.Typer(help="Manage the embedded database (FalkorDB in the data folder).", no_args_is_help=True)


def _show_loading(info: dict[str, object]) -> None:
    """One progress line while the server replays its append-only file (on stderr)."""
    import sys

    if info.get("busy"):
        print(f"loading the database: busy loading a large snapshot ({info.get('elapsed_s')} s so far)",
              file=sys.stderr, flush=True)
        return
    total = int(str(info.get("loading_total_bytes", 0) or 0))
    loaded = int(str(info.get("loading_loaded_bytes", 0) or 0))
    eta = info.get("loading_eta_seconds")
    print(f"loading the database: {float(str(info.get('loading_loaded_perc', 0) or 0)):5.1f}% "
          f"({loaded / 1e6:,.0f} of {total / 1e6:,.0f} MB, about {eta} s left)", file=sys.stderr, flush=True)


def _server(*, show_loading: bool = False) -> tuple[Settings, EmbeddedServer]:
    from tracegraph.engine.stores.server import EmbeddedServer

    s = settings()
    if s.backend != "embedded":
        raise ConfigurationError(
            f"TRACEGRAPH_DATABASE_URL is set ({s.database_url}); `tracegraph db` manages only the embedded database"
        )
    return s, EmbeddedServer(s.data_dir, appendfsync=s.appendfsync, bolt_port=s.bolt_port,
                              on_loading=_show_loading if show_loading else None)


@app.command()
@clean_errors
def start(as_json: bool = JSON_OPTION) -> None:
    """Start the embedded database for the data folder (or reuse the running one).

    A database that replays a large append-only file is waited for as long as the replay moves
    (progress on stderr); the data folder's key and secret modes are checked (docs/operations.md).

    Example: tracegraph db start
    """
    s, server = _server(show_loading=True)
    st = server.ensure_running()
    import sys

    for msg in server.modes_fixed:
        print(f"warning: {msg}", file=sys.stderr)
    from tracegraph.engine.stores import open_store

    open_store(s).close()  # apply schema
    if as_json:
        print_json({**st.to_dict(), "modes_fixed": server.modes_fixed})
    else:
        console.print(f"embedded database running (pid {st.pid}) on {st.socket}, data in {st.data_dir}")


@app.command()
@clean_errors
def stop(as_json: bool = JSON_OPTION) -> None:
    """Stop the embedded database (the append-only file is flushed first).

    Example: tracegraph db stop
    """
    _, server = _server()
    stopped = server.stop()
    if as_json:
        print_json({"stopped": stopped})
    else:
        console.print("stopped" if stopped else "no embedded database was running")


@app.command()
@clean_errors
def status(as_json: bool = JSON_OPTION) -> None:
    """Show whether the embedded database runs, where, and the audit chain head.

    Example: tracegraph db status --json
    """
    s, server = _server()
    st = server.status()
    out = st.to_dict()
    out["backend"] = "embedded"
    out["graph"] = s.graph
    if st.answering:
        from tracegraph.engine.stores.falkordb import FalkorDBStore

        store = FalkorDBStore(unix_socket_path=st.socket, graph=s.graph)
        try:
            rows = store.read("audit.head")
            out["audit_head"] = rows[0] if rows else None
            out["nodes"] = store.run("MATCH (n) RETURN count(n) AS c", write=False)[0]["c"]
        finally:
            store.close()
    if as_json:
        print_json(out)
    else:
        loading = server.loading_info() if st.running and not st.answering else None
        state = "running" if st.answering else (
            f"loading its data ({loading.get('loading_loaded_perc')}%, about {loading.get('loading_eta_seconds')} s left)"
            if loading else "stale (crashed; will recover on next start)" if st.stale else "stopped")
        console.print(f"embedded database: {state}")
        for k in ("pid", "socket", "data_dir", "graph", "nodes", "audit_head", "started_at"):
            if out.get(k) is not None:
                console.print(f"  {k}: {out[k]}")
    if not st.answering:
        raise typer.Exit(3)
