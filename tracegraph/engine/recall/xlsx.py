"""A minimal, fast XLSX writer for big recall lists (one sheet, inline strings, numbers).

Why not openpyxl here: a 100k-row unit list is the slow step of a recall drill, and openpyxl's
write-only mode spends most of its time per cell in Python objects. An XLSX file is a zip of a
few XML parts; writing the sheet XML directly is about 10x faster and opens in Excel,
LibreOffice and openpyxl (tests read it back with openpyxl). XlsxWriter in constant-memory mode
was measured against it on 100k rows x 16 columns: 5.5-14x slower (docs/perf.md, perf/bench_xlsx.py),
past the 2x at which the project would take the library.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from tracegraph.engine.stores.modes import private_open

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    "</Types>"
)
_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
    'officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
_WB_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
    'worksheet" Target="worksheets/sheet1.xml"/></Relationships>'
)


def _workbook(sheet: str) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        f'<sheets><sheet name="{escape(sheet[:31])}" sheetId="1" r:id="rId1"/></sheets></workbook>'
    )


def _clean(text: str) -> str:
    # XML 1.0 forbids most control characters
    return "".join(ch for ch in text if ch >= " " or ch in "\t\n\r")


def _cell(v: Any) -> str:
    t = type(v)
    if t is str:
        if not v:
            return "<c/>"
        if not v.isprintable():
            v = _clean(v)
        if "&" in v or "<" in v or ">" in v:
            v = escape(v)
        return f'<c t="inlineStr"><is><t>{v}</t></is></c>'
    if v is None:
        return "<c/>"
    if t is bool:
        return f'<c t="b"><v>{int(v)}</v></c>'
    if t is int or t is float:
        return f"<c><v>{v!r}</v></c>"
    return _cell(str(v))


def write_xlsx(path: str | Path, columns: Sequence[str], rows: Iterable[Sequence[Any]], *, sheet: str = "data") -> int:
    """Write one sheet (header + rows, frozen header, autofilter); returns the number of data rows."""
    path = Path(path)
    parts: list[str] = [
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        '<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" '
        'state="frozen"/></sheetView></sheetViews><sheetData>',
        "<row>" + "".join(_cell(c) for c in columns) + "</row>",
    ]
    n = 0
    for r in rows:
        parts.append("<row>" + "".join(_cell(v) for v in r) + "</row>")
        n += 1
    parts.append("</sheetData></worksheet>")
    with private_open(path, "wb") as fh, zipfile.ZipFile(fh, "w", compression=zipfile.ZIP_DEFLATED,
                                                          compresslevel=1) as z:
        z.writestr("[Content_Types].xml", _CONTENT_TYPES)
        z.writestr("_rels/.rels", _RELS)
        z.writestr("xl/workbook.xml", _workbook(sheet))
        z.writestr("xl/_rels/workbook.xml.rels", _WB_RELS)
        z.writestr("xl/worksheets/sheet1.xml", "".join(parts))
    return n


__all__ = ["write_xlsx"]
