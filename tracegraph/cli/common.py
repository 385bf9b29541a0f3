"""What every CLI command shares: settings, the store, JSON output and clean errors."""

from __future__ import annotations

import functools
import json
import sys
from typing import Any, Callable, TypeVar

import pydantic
import typer
from rich.console import Console

from tracegraph.engine.errors import TracegraphError, ValidationFailed
from tracegraph.engine.stores import GraphStore, open_store
from tracegraph.settings import Settings, load_settings

console = Console()
err_console = Console(stderr=True, soft_wrap=True, highlight=False)

F = TypeVar("F", bound=Callable[..., Any])

JSON_OPTION = typer.Option(False, "--json", help="Print one JSON document instead of tables.")


def settings() -> Settings:
    return load_settings()


def store(apply_schema: bool = True) -> GraphStore:
    return open_store(settings(), apply_schema=apply_schema)


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str, ensure_ascii=False) + "\n")


def clean_errors(fn: F) -> F:
    """Turn engine errors into a one-line message (or a problem table) and exit code 1/2."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            try:
                return fn(*args, **kwargs)
            except pydantic.ValidationError as pexc:  # an input model built in the command itself
                from tracegraph.engine.inputs import invalid

                raise invalid(pexc, "input", record="command line") from None
        except ValidationFailed as exc:
            if kwargs.get("as_json"):
                print_json({"error": exc.to_dict()})
            else:
                from rich.table import Table

                err_console.print(f"[red]error:[/red] {exc}")
                if exc.problems:
                    t = Table("source", "record", "field", "value", "problem")
                    for p in exc.problems[:200]:
                        t.add_row(p.source, p.record, p.field, repr(p.value)[:40], p.message)
                    err_console.print(t)
                    if len(exc.problems) > 200:
                        err_console.print(f"... and {len(exc.problems) - 200} more (use --json for all)")
            raise typer.Exit(2)
        except TracegraphError as exc:
            if kwargs.get("as_json"):
                print_json({"error": exc.to_dict()})
            else:
                err_console.print(f"[red]error:[/red] {exc}")
            raise typer.Exit(1)

    return wrapper  # type: ignore[return-value]
