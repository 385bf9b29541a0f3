"""What every CLI command shares: settings, the store, JSON output and clean errors."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from typing import Any, TypeVar

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


def _refuse_control_chars(kwargs: dict[str, Any]) -> None:
    """The CLI's door check: no control character (but tab and line breaks) in any text option or
    argument, named by its option (the REST and GraphQL doors have the same check)."""
    import click

    from tracegraph.engine.inputs import control_char, refuse

    ctx = click.get_current_context(silent=True)
    opts = {p.name: (p.opts[0] if p.opts else p.name) for p in (ctx.command.params if ctx else [])}
    for name, value in kwargs.items():
        values = value if isinstance(value, (list, tuple)) else [value]
        for v in values:
            if isinstance(v, str) and control_char(v, text=True) is not None:
                flag = opts.get(name) or "--" + name.replace("_", "-")
                raise refuse(flag, f"{flag} contains a control character", record="command line",
                             hint="send plain text: control characters other than tab and line breaks are refused")


def clean_errors(fn: F) -> F:
    """Turn engine errors into a one-line message (or a problem table) and exit code 1/2."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            _refuse_control_chars(kwargs)
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
            raise typer.Exit(2) from None
        except TracegraphError as exc:
            if kwargs.get("as_json"):
                print_json({"error": exc.to_dict()})
            else:
                err_console.print(f"[red]error:[/red] {exc}")
            raise typer.Exit(1) from None

    return wrapper  # type: ignore[return-value]
