"""A small PDF writer for validation evidence (the validation report, the audit trail review).

Why not the letter renderer: these documents are tables, not letters. Fonts come from the
recall letters' lookup (engine/recall/notify.py: a Unicode TrueType font, and a CJK fallback
only when the text needs one, since parsing a CJK font costs seconds).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

Block = tuple[str, Any]


class Doc:
    """Collects headings, paragraphs, key/value lists and tables; `save` renders them."""

    def __init__(self, title: str) -> None:
        self.title = title
        self.blocks: list[Block] = []

    def h1(self, text: str) -> None:
        self.blocks.append(("h1", text))

    def h2(self, text: str) -> None:
        self.blocks.append(("h2", text))

    def para(self, text: str) -> None:
        self.blocks.append(("p", text))

    def kv(self, pairs: list[tuple[str, Any]]) -> None:
        self.blocks.append(("table", (["item", "value"], [[k, "" if v is None else str(v)] for k, v in pairs], (35, 65))))

    def table(self, headers: list[str], rows: list[list[Any]], widths: tuple[int, ...] | None = None) -> None:
        self.blocks.append(("table", (headers, [["" if c is None else str(c) for c in r] for r in rows], widths)))

    def _texts(self) -> str:
        out = [self.title]
        for kind, body in self.blocks:
            if kind == "table":
                out += body[0] + [c for r in body[1] for c in r]
            else:
                out.append(body)
        return "".join(out)

    def save(self, path: Path) -> Path:
        from fpdf import FPDF
        from fpdf.fonts import FontFace

        from tracegraph.engine.recall.notify import cjk_font, latin_font

        pdf = FPDF(format="A4")
        pdf.set_auto_page_break(True, margin=15)
        pdf.set_title(self.title)
        latin, family = latin_font(), "Helvetica"
        text = self._texts()
        if latin:
            pdf.add_font("body", "", latin)
            family = "body"
            if any(ord(ch) > 0x2E7F for ch in text) and (cjk := cjk_font()):
                pdf.add_font("cjk", "", cjk)
                pdf.set_fallback_fonts(["cjk"])

        def clean(s: str) -> str:
            return s if family != "Helvetica" else s.encode("latin-1", "replace").decode("latin-1")

        pdf.add_page()
        pdf.set_font(family, size=15)
        pdf.multi_cell(pdf.epw, 8, clean(self.title), new_x="LMARGIN", new_y="NEXT")
        for kind, body in self.blocks:
            if kind == "h1":
                pdf.ln(3)
                pdf.set_font(family, size=13)
                pdf.multi_cell(pdf.epw, 7, clean(body), new_x="LMARGIN", new_y="NEXT")
            elif kind == "h2":
                pdf.ln(2)
                pdf.set_font(family, size=11)
                pdf.multi_cell(pdf.epw, 6, clean(body), new_x="LMARGIN", new_y="NEXT")
            elif kind == "p":
                pdf.set_font(family, size=9)
                pdf.multi_cell(pdf.epw, 4.5, clean(body), new_x="LMARGIN", new_y="NEXT")
            else:
                headers, rows, widths = body
                pdf.set_font(family, size=7)
                with pdf.table(col_widths=widths, line_height=3.6, text_align="LEFT",
                               headings_style=FontFace(fill_color=(225, 225, 225))) as t:
                    row = t.row()
                    for h in headers:
                        row.cell(clean(h))
                    for r in rows:
                        row = t.row()
                        for c in r:
                            row.cell(clean(c[:1500]))
                pdf.ln(2)
        path.parent.mkdir(parents=True, exist_ok=True)
        pdf.output(str(path))
        return path


def write_xlsx(path: Path, sheets: dict[str, tuple[list[str], list[list[Any]]]]) -> Path:
    """One sheet per entry (headers, rows): XlsxWriter when installed, else openpyxl."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        import xlsxwriter
    except ImportError:
        xlsxwriter = None
    if xlsxwriter is not None:
        wb = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False, "strings_to_urls": False})
        bold = wb.add_format({"bold": True})
        for name, (headers, rows) in sheets.items():
            ws = wb.add_worksheet(name[:31])
            ws.write_row(0, 0, headers, bold)
            for i, r in enumerate(rows, start=1):
                ws.write_row(i, 0, ["" if c is None else c for c in r])
            ws.freeze_panes(1, 0)
        wb.close()
        return path
    from openpyxl import Workbook

    wb2 = Workbook()
    wb2.remove(wb2.active)
    for name, (headers, rows) in sheets.items():
        ws2 = wb2.create_sheet(name[:31])
        ws2.append(headers)
        for r in rows:
            ws2.append(["" if c is None else c for c in r])
    wb2.save(str(path))
    return path


__all__ = ["Doc", "write_xlsx"]
