"""The regulator spreadsheet of an impact analysis: one row per affected unit (or, for non-serialised
batches, one row per batch quantity in one place), with FSMA 204-style key data elements
(traceability lot code, product, quantity and unit, location and customer, date, reference
document), plus a summary (totals per status, customer and product; the query; when; how long).

Why write-only mode and plain rows: a supplier-wide recall can reach 100k units, and a regulator
wants a file they can sort and filter in seconds, not a styled report.
"""

from __future__ import annotations

import csv
import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

from tracegraph.engine.trace_models import ImpactResult

COLUMNS: tuple[str, ...] = (
    "traceability_lot_code",  # the batch (production lot) id
    "product",
    "serial",
    "quantity",
    "unit_of_measure",
    "status",
    "location",  # warehouse, or the customer's name
    "customer_id",
    "customer_name",
    "customer_kind",
    "customer_contact",
    "customer_email",
    "customer_phone",
    "date",  # shipment / return date
    "reference_document",  # shipment or return id
    "provenance_path",
)


def unit_rows(result: ImpactResult) -> Iterator[list[Any]]:
    """The rows of the unit sheet, serials first then batch quantities, in result order."""
    custs = {c.id: c for c in result.customers}

    def cust_cells(cid: str | None) -> list[Any]:
        c = custs.get(cid) if cid else None
        if c is None:
            return [cid or "", "", "", "", "", ""]
        return [c.id, c.name or "", c.kind or "", c.contact.name or "", c.contact.email or "", c.contact.phone or ""]

    for s in result.serials:
        c = custs.get(s.customer) if s.customer else None
        location = s.warehouse or (c.name if c and c.name else s.customer) or ""
        yield [s.batch or "", s.product or "", s.id, 1, "ea", s.status, location, *cust_cells(s.customer),
               s.date or "", s.shipment or "", " > ".join(s.path)]
    for q in result.quantities:
        c = custs.get(q.customer) if q.customer else None
        location = (c.name if c and c.name else q.customer) or ""
        yield [q.batch, q.product or "", "", q.qty, q.uom or "", q.status, location, *cust_cells(q.customer),
               q.date or "", q.shipment or "", " > ".join(q.path)]


def summary_rows(result: ImpactResult, generated_at: str) -> list[list[Any]]:
    """Summary sheet content: the query, when, how long, then totals per status/customer/product."""
    rows: list[list[Any]] = [
        ["tracegraph impact analysis"],
        ["generated_at", generated_at],
        ["elapsed_ms", result.elapsed_ms],
        ["query", json.dumps(result.query, sort_keys=True, default=str)],
        ["as_of", result.query.get("as_of") or "now"],
        [],
        ["count", "value"],
    ]
    rows += [[k, v] for k, v in result.counts.items()]
    rows += [[], ["status", "units"]]
    rows += [[k, v] for k, v in sorted(result.by_status.items())]
    rows += [["TOTAL", sum(result.by_status.values())], [], ["customer_id", "customer_name", "kind", "units",
                                                              "contact", "email", "phone"]]
    rows += [[c.id, c.name or "", c.kind or "", c.units, c.contact.name or "", c.contact.email or "",
              c.contact.phone or ""] for c in result.customers]
    rows += [["TOTAL", "", "", sum(c.units for c in result.customers)], [], ["product", "units"]]
    rows += [[p.id, p.units] for p in result.by_product]
    return rows


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def write_csv(result: ImpactResult, path: str | Path) -> int:
    """One CSV of unit rows with a header; returns the number of data rows."""
    n = 0
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(COLUMNS)
        for row in unit_rows(result):
            w.writerow(row)
            n += 1
    return n


def write_xlsx(result: ImpactResult, path: str | Path, *, generated_at: str | None = None) -> int:
    """An .xlsx with sheet `units` (autofilter, frozen header) and sheet `summary`; returns data rows."""
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("units")
    ws.freeze_panes = "A2"
    widths = [18, 14, 22, 9, 8, 14, 24, 12, 24, 12, 18, 26, 16, 12, 16, 40]
    for i, w in enumerate(widths, start=1):
        ws.column_dimensions[_col(i)].width = w
    ws.append(list(COLUMNS))
    n = 0
    for row in unit_rows(result):
        ws.append(row)
        n += 1
    ws.auto_filter.ref = f"A1:{_col(len(COLUMNS))}{n + 1}"
    sm = wb.create_sheet("summary")
    sm.column_dimensions["A"].width = 22
    sm.column_dimensions["B"].width = 30
    for row in summary_rows(result, generated_at or _now()):
        sm.append(row)
    wb.save(str(path))
    return n


def _col(i: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(i)


__all__ = ["COLUMNS", "unit_rows", "summary_rows", "write_csv", "write_xlsx"]
