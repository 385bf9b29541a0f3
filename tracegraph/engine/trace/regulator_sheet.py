"""The ONE writer of the regulator sheet (CSV or XLSX of an impact / recall scope), used by the CLI
(`impact --csv/--xlsx`, `trace forward --csv/--xlsx`), REST (`GET /impact?format=csv|xlsx`) and
recall drills.

Why one entry point: the key data elements (shipment date and reference document) come from each
unit's shipment history, which the impact engine only fetches when asked (`with_history`). The
CLI asked, REST did not, so the same question gave a sheet with empty date/reference columns over
REST. Every door now asks through `sheet_options`, and writes through `write`/`render` (the row
layout itself is tracegraph.engine.trace.reports).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Literal

from tracegraph.engine.stores.base import GraphStore
from tracegraph.engine.trace import reports
from tracegraph.engine.trace.models import ImpactCause, ImpactOptions, ImpactResult

SheetFormat = Literal["csv", "xlsx"]
MEDIA_TYPES: dict[str, str] = {"csv": "text/csv",
                               "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def sheet_options(options: ImpactOptions | None = None) -> ImpactOptions:
    """The options an impact run needs for a complete sheet: shipment history (date, reference)."""
    base = options or ImpactOptions()
    return base.model_copy(update={"with_history": True})


def write(result: ImpactResult, fmt: SheetFormat, path: str | Path, *, generated_at: str | None = None) -> int:
    """Write the sheet; returns the number of unit rows."""
    if fmt == "csv":
        return reports.write_csv(result, path)
    if fmt == "xlsx":
        return reports.write_xlsx(result, path, generated_at=generated_at)
    raise ValueError(f"unknown sheet format {fmt!r}")


def render(result: ImpactResult, fmt: SheetFormat, *, generated_at: str | None = None) -> bytes:
    """The sheet as bytes (REST answers it as a download)."""
    fd, tmp = tempfile.mkstemp(suffix=f".{fmt}")
    os.close(fd)
    try:
        write(result, fmt, tmp, generated_at=generated_at)
        return Path(tmp).read_bytes()
    finally:
        os.unlink(tmp)


def scope_sheet(store: GraphStore, cause: ImpactCause, fmt: SheetFormat, path: str | Path,
                options: ImpactOptions | None = None) -> tuple[ImpactResult, int]:
    """Run the impact of `cause` with full key data elements and write its sheet (drills)."""
    from tracegraph.engine.trace.impact import impact

    result = impact(store, cause, sheet_options(options))
    return result, write(result, fmt, path)


__all__ = ["sheet_options", "write", "render", "scope_sheet", "MEDIA_TYPES", "SheetFormat"]
