"""`tracegraph serve` (the REST + GraphQL API under uvicorn) and `tracegraph graphql-schema`."""

from __future__ import annotations

import logging
import os
import signal
import sys
from pathlib import Path
from typing import Optional

import typer

from tracegraph.cli.common import JSON_OPTION, clean_errors, console, err_console, print_json, settings


def _configure_logging(level: str) -> None:
    """One JSON object per line on stderr (the request lines are JSON already)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    log = logging.getLogger("tracegraph.api")
    log.handlers[:] = [handler]
    log.setLevel(level.upper())
    log.propagate = False


@clean_errors
def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on (loopback by default)."),
    port: int = typer.Option(8000, "--port", help="TCP port."),
    dev: bool = typer.Option(False, "--dev", help="Development: GraphiQL at /graphql and auto-reload."),
    workers: int = typer.Option(1, "--workers", min=1, max=64, help="uvicorn worker processes."),
    log_level: str = typer.Option("info", "--log-level", help="debug, info, warning or error."),
    keep_db: bool = typer.Option(False, "--keep-db", help="Leave the embedded database running on exit."),
) -> None:
    """Serve the REST API, GraphQL (/graphql), OpenAPI docs (/docs) and the dashboard (/).

    Starts the embedded database for the data folder (or reuses the running one), and on
    Ctrl-C / SIGTERM finishes open requests, closes the store, and stops the database if it
    started it. Example: tracegraph serve --port 8000 --dev
    """
    import uvicorn

    from tracegraph.engine.stores import open_store
    from tracegraph.engine.stores.server import EmbeddedServer

    s = settings()
    started_db = False
    server: EmbeddedServer | None = None
    if s.backend == "embedded":
        server = EmbeddedServer(s.data_dir, appendfsync=s.appendfsync, bolt_port=s.bolt_port)
        started_db = not server.ping()
        server.ensure_running()
    open_store(s).close()  # schema and audit head, once, before workers start
    if dev:
        os.environ["TRACEGRAPH_GRAPHIQL"] = "true"
    _configure_logging(log_level)
    err_console.print(
        f"tracegraph API on http://{host}:{port}  (docs /docs, GraphQL /graphql"
        f"{' with GraphiQL' if dev else ''}, {workers} worker(s), database {s.backend})"
    )
    def _stop(signum: int, frame: object) -> None:
        # uvicorn handles the signal first (finishes open requests, runs the lifespan shutdown),
        # then re-raises it: end here with a normal exit so the cleanup below runs
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, _stop)
    try:
        uvicorn.run(
            "tracegraph.api.app:create_app",
            factory=True,
            host=host,
            port=port,
            workers=workers if not dev else 1,
            reload=dev,
            reload_dirs=[str(Path(__file__).resolve().parents[1])] if dev else None,
            log_level=log_level,
            access_log=False,
            timeout_graceful_shutdown=15,
            proxy_headers=False,
        )
    except KeyboardInterrupt:
        pass
    finally:
        if started_db and server is not None and not keep_db:
            server.stop()
            err_console.print("embedded database stopped")


@clean_errors
def graphql_schema(
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Write here instead of standard output."),
    check: bool = typer.Option(False, "--check", help="Exit 1 if the packaged schema.graphql is stale."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Export the GraphQL schema (SDL); `--check` compares it with the packaged schema.graphql.

    Example: tracegraph graphql-schema -o tracegraph/graphql/schema.graphql
    """
    from tracegraph.graphql.schema import SDL_PATH, sdl

    text = sdl()
    if check:
        current = SDL_PATH.read_text(encoding="utf-8") if SDL_PATH.exists() else ""
        fresh = current == text
        if as_json:
            print_json({"path": str(SDL_PATH), "fresh": fresh})
        else:
            console.print(f"{SDL_PATH}: {'up to date' if fresh else 'STALE: run tracegraph graphql-schema -o ' + str(SDL_PATH)}")
        if not fresh:
            raise typer.Exit(1)
        return
    if output:
        output.write_text(text, encoding="utf-8")
        if as_json:
            print_json({"path": str(output), "bytes": len(text.encode())})
        else:
            console.print(f"wrote {output}")
    else:
        sys.stdout.write(text)


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
    app.command("graphql-schema")(graphql_schema)
