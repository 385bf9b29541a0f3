"""The regulator spreadsheet of an impact analysis: one row per affected unit (or, for non-serialised
batches, one row per batch quantity in one place), with FSMA 204-style key data elements
(traceability lot code, product, quantity and unit, location and customer, date, reference
document), plus a summary (totals per status, customer and product; the query; when; how long).

Why streamed plain rows: a supplier-wide recall can reach 100k units, and a regulator wants a
file they can sort and filter in seconds, not a styled report.
"""

from __future__ import annotations

import csv
import json
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tracegraph.engine.stores.modes import private_open
from tracegraph.engine.trace.models import ImpactResult

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
    "container",  # the innermost case/pallet holding the unit at the answer's date (what a warehouse finds)
    "carried_by",  # the container whose shipment or return put the unit where it is
    "holders",  # every customer that received the unit, in order (a distributor that passed it on)
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
               s.date or "", s.shipment or "", " > ".join(s.path), s.container or "", s.via or "",
               " > ".join(s.holders)]
    for q in result.quantities:
        c = custs.get(q.customer) if q.customer else None
        location = (c.name if c and c.name else q.customer) or ""
        yield [q.batch, q.product or "", "", q.qty, q.uom or "", q.status, location, *cust_cells(q.customer),
               q.date or "", q.shipment or "", " > ".join(q.path), "", "", ""]


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
    if result.containers:
        rows += [[], ["container", "sscc", "kind", "packed_in", "units", "status", "customer_id"]]
        rows += [[k.id, k.sscc or "", k.kind or "", k.parent or "", k.units, k.status or "", k.customer or ""]
                 for k in result.containers]
    return rows


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def write_csv(result: ImpactResult, path: str | Path) -> int:
    """One CSV of unit rows with a header; returns the number of data rows."""
    n = 0
    with private_open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(COLUMNS)
        for row in unit_rows(result):
            w.writerow(row)
            n += 1
    return n


def write_xlsx(result: ImpactResult, path: str | Path, *, generated_at: str | None = None) -> int:
    """An .xlsx with sheet `units` (autofilter, frozen header) and sheet `summary`; returns data rows.

    Why not openpyxl here: its write-only mode still builds an object per cell and needed about a
    minute for 100k rows x 16 columns on this machine; a recall spreadsheet must be ready in
    seconds. The workbook is plain SpreadsheetML (inline strings) streamed into the zip; openpyxl,
    Excel and LibreOffice read it (tests open it with openpyxl)."""
    n = 0
    with private_open(path, "wb") as out, zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED,
                                                           compresslevel=1) as zf:
        zf.writestr("[Content_Types].xml", _CONTENT_TYPES)
        zf.writestr("_rels/.rels", _ROOT_RELS)
        zf.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        zf.writestr("xl/styles.xml", _STYLES)
        with zf.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as fh:
            widths = [18, 14, 22, 9, 8, 14, 24, 12, 24, 12, 18, 26, 16, 12, 16, 40]
            cols = "".join(f'<col min="{i}" max="{i}" width="{w}" customWidth="1"/>' for i, w in enumerate(widths, 1))
            fh.write((_SHEET_HEAD + '<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" '
                      'activePane="bottomLeft" state="frozen"/></sheetView></sheetViews>'
                      f"<cols>{cols}</cols><sheetData>").encode())
            fh.write(_row(1, list(COLUMNS), style=1).encode())
            buf: list[str] = []
            for row in unit_rows(result):
                n += 1
                buf.append(_row(n + 1, row))
                if len(buf) >= 2000:
                    fh.write("".join(buf).encode())
                    buf.clear()
            fh.write("".join(buf).encode())
            last = _col(len(COLUMNS))
            fh.write(f'</sheetData><autoFilter ref="A1:{last}{n + 1}"/></worksheet>'.encode())
        summary = "".join(_row(i, r) for i, r in enumerate(summary_rows(result, generated_at or _now()), 1))
        zf.writestr("xl/worksheets/sheet2.xml", _SHEET_HEAD + '<cols><col min="1" max="1" width="22" customWidth="1"/>'
                    '<col min="2" max="2" width="30" customWidth="1"/></cols>'
                    f"<sheetData>{summary}</sheetData></worksheet>")
        zf.writestr("xl/workbook.xml", _WORKBOOK.format(ref=f"'units'!$A$1:${last}${n + 1}"))
    return n


_LETTERS = [chr(65 + i) for i in range(26)]


def _col(i: int) -> str:
    """Column letter(s) of 1-based column i."""
    out = ""
    while i:
        i, r = divmod(i - 1, 26)
        out = _LETTERS[r] + out
    return out


_COLS = [_col(i) for i in range(1, 65)]
_ESCAPE: dict[int, str | None] = {ord("&"): "&amp;", ord("<"): "&lt;", ord(">"): "&gt;", ord('"'): "&quot;"}
_ESCAPE.update({c: None for c in range(32) if c not in (9, 10, 13)})  # not allowed in XML 1.0


def _row(r: int, values: list[Any], style: int = 0) -> str:
    cells = []
    s = f' s="{style}"' if style else ""
    for i, v in enumerate(values):
        if v is None or v == "":
            continue
        ref = f"{_COLS[i]}{r}"
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            text = str(v).translate(_ESCAPE)
            cells.append(f'<c r="{ref}" t="inlineStr"{s}><is><t xml:space="preserve">{text}</t></is></c>')
        else:
            cells.append(f'<c r="{ref}"{s}><v>{v!r}</v></c>')
    return f'<row r="{r}">{"".join(cells)}</row>'


_NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
_RNS = 'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
_SHEET_HEAD = f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet {_NS} {_RNS}>'
_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml"
_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    f'<Override PartName="/xl/workbook.xml" ContentType="{_CT}.sheet.main+xml"/>'
    f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{_CT}.worksheet+xml"/>'
    f'<Override PartName="/xl/worksheets/sheet2.xml" ContentType="{_CT}.worksheet+xml"/>'
    f'<Override PartName="/xl/styles.xml" ContentType="{_CT}.styles+xml"/>'
    "</Types>"
)
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    f'<Relationship Id="rId1" Type="{_REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    f'<Relationship Id="rId1" Type="{_REL}/worksheet" Target="worksheets/sheet1.xml"/>'
    f'<Relationship Id="rId2" Type="{_REL}/worksheet" Target="worksheets/sheet2.xml"/>'
    f'<Relationship Id="rId3" Type="{_REL}/styles" Target="styles.xml"/></Relationships>'
)
_WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    f"<workbook {_NS} {_RNS}>"
    '<sheets><sheet name="units" sheetId="1" r:id="rId1"/><sheet name="summary" sheetId="2" r:id="rId2"/></sheets>'
    '<definedNames><definedName name="_xlnm._FilterDatabase" localSheetId="0" hidden="1">{ref}</definedName>'
    "</definedNames></workbook>"
)
_STYLES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    f"<styleSheet {_NS}>"
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)


__all__ = ["COLUMNS", "unit_rows", "summary_rows", "write_csv", "write_xlsx"]
