"""UDI / GS1 barcode strings -> one typed result (GTIN, serial, lot, expiry ...), via `biip`.

Accepted forms (what scanners and labels actually produce):
- GS1-128 / GS1 DataMatrix element strings, with FNC1 as the ASCII group separator `\\x1d` and an
  optional symbology prefix (`]C1`, `]d2`, `]Q3`); a literal `<GS>` or `{GS}` is read as `\\x1d`
- human-readable interpretation: `(01)09506000134352(17)221231(10)ABC(21)123`
- GS1 Digital Link URIs: `https://id.gs1.org/01/09506000134352/10/ABC/21/123?17=221231`
- a bare GTIN or SSCC
HIBCC (`+A123...`) is recognised and refused with a clear message: biip does not decode it.

Why a module of its own: the scanner CLI, the trace start keys and the API all need the same
strict reading, and a wrong check digit must be an error that names the field, never a silent
"not found".
"""

from __future__ import annotations

import re
from typing import Any

import biip
from pydantic import BaseModel, Field

from tracegraph.engine.errors import Problem, ValidationFailed

_GS = "\x1d"


class ParsedBarcode(BaseModel):
    """What a scanned GS1 / UDI string says. Dates are ISO `YYYY-MM-DD`."""

    raw: str
    form: str = Field(description="gs1_element_string, hri, digital_link, gtin or sscc")
    symbology: str | None = None
    gtin: str | None = None
    serial: str | None = None
    lot: str | None = None
    expiry: str | None = None
    production_date: str | None = None
    sscc: str | None = None
    #: every application identifier found, AI -> value
    elements: dict[str, str] = Field(default_factory=dict)

    @property
    def udi(self) -> str | None:
        """The human-readable UDI `(01)...(17)...(10)...(21)...` (None without a GTIN)."""
        from tracegraph.gs1.identifiers import udi_hri

        return udi_hri(self.gtin, serial=self.serial, lot=self.lot, expiry=self.expiry)


def _fail(raw: str, field: str, message: str) -> ValidationFailed:
    return ValidationFailed(
        f"cannot read barcode {raw!r}: {message}",
        [Problem(record="barcode", field=field, message=message, value=raw)],
        hint="scan again, or type the human-readable text under the barcode, e.g. (01)GTIN(21)SERIAL",
    )


def _normalise(text: str) -> str:
    t = text.strip()
    t = t.replace("<GS>", _GS).replace("{GS}", _GS).replace("\\x1d", _GS).replace("\\u001d", _GS)
    return t


def _from_elements(raw: str, form: str, symbology: str | None, element_strings: list[Any]) -> ParsedBarcode:
    out = ParsedBarcode(raw=raw, form=form, symbology=symbology)
    for es in element_strings:
        ai = es.ai.ai
        err = getattr(es, "gtin_error", None) or getattr(es, "sscc_error", None) or getattr(es, "gln_error", None)
        if err:
            raise _fail(raw, f"({ai}) {es.ai.data_title}", str(err))
        out.elements[ai] = es.value
        if ai in ("01", "02") and es.gtin is not None:
            out.gtin = es.gtin.as_gtin_14() if hasattr(es.gtin, "as_gtin_14") else es.value.zfill(14)
        elif ai == "21":
            out.serial = es.value
        elif ai == "10":
            out.lot = es.value
        elif ai == "17" and es.date is not None:
            out.expiry = es.date.isoformat()
        elif ai == "11" and es.date is not None:
            out.production_date = es.date.isoformat()
        elif ai == "00":
            out.sscc = es.value
    return out


#: GS1 Digital Link primary keys (the path segment after which key qualifiers come in AI/value pairs)
_DL_PRIMARY = {"00", "01", "253", "255", "401", "402", "414", "417", "8003", "8004", "8006", "8010", "8013",
               "8017", "8018"}


def truncation(text: str) -> str | None:
    """Why `text` looks cut off (an AI, path segment or EPC part without its value), or None.

    A cut-off code must be refused: biip and the EPC parser read what is left, so `(01)G(21`, a
    Digital Link ending in `/21` or an SGTIN EPC without its serial would name the product (or
    nothing) instead of the unit scanned."""
    t = text.strip()
    if t.startswith("("):
        cut = re.search(r"\((\d{0,4})\)?$", t) or re.search(r"\((\d{2,4})\)(?=\()", t)
        if cut:
            return f"AI ({cut.group(1) or '?'}) has no value"
    low = t.lower()
    if low.startswith(("http://", "https://")):
        from urllib.parse import urlparse

        segs = urlparse(t).path.split("/")[1:]
        start = next((i for i, seg in enumerate(segs) if seg in _DL_PRIMARY), None)
        if start is not None:
            rest = segs[start:]
            if rest and rest[-1] == "":
                rest = rest[:-1]
            if len(rest) % 2 or any(v == "" for v in rest[1::2]):
                return f"Digital Link path element /{rest[-1] if rest else '?'} has no value"
    if low.startswith("urn:epc:id:"):
        scheme, _, body = t[len("urn:epc:id:"):].partition(":")
        need = {"sgtin": 3, "sscc": 2, "sgln": 3, "grai": 3, "giai": 2, "lgtin": 3}.get(scheme.lower())
        parts = body.split(".")
        if need and len(parts) < need:
            return f"EPC {scheme} URI has {len(parts)} of its {need} parts"
        if need and any(p == "" for p in parts):
            return f"EPC {scheme} URI has an empty part"
    if low.startswith("urn:epc:class:lgtin:"):
        parts = t[len("urn:epc:class:lgtin:"):].split(".")
        if len(parts) < 3 or any(p == "" for p in parts):
            return "EPC LGTIN class URI has an empty or missing part"
    return None


def parse_barcode(text: str) -> ParsedBarcode:
    """Read one GS1 / UDI barcode string; raise ValidationFailed naming the bad part.

    Example: parse_barcode("]d2010950600013435217221231" "10ABC\\x1d21123").gtin == "09506000134352"
    """
    raw = text
    t = _normalise(text)
    if not t:
        raise _fail(raw, "barcode", "the string is empty")
    if t.startswith("+") and not t.startswith("+("):
        raise _fail(raw, "barcode", "this looks like a HIBCC code; only GS1 UDIs (GS1-128, DataMatrix, "
                    "Digital Link) are supported")
    if t.lower().startswith(("http://", "https://")):
        r = biip.parse(t)
        dl = r.gs1_digital_link_uri
        if dl is None:
            raise _fail(raw, "digital link", r.gs1_digital_link_uri_error or "not a GS1 Digital Link URI")
        return _from_elements(raw, "digital_link", None, dl.element_strings)
    if t.startswith("("):
        from biip.gs1_messages import GS1Message

        cut = truncation(t)
        if cut:  # biip drops an AI without value: `(01)...(21` would name the product, not the unit
            raise _fail(raw, "human-readable", f"the string is truncated: {cut}; scan again, the code was cut off")
        try:
            msg = GS1Message.parse_hri(t)
        except biip.ParseError as exc:
            raise _fail(raw, "human-readable", str(exc)) from exc
        return _from_elements(raw, "hri", None, msg.element_strings)
    r = biip.parse(t)
    sym = r.symbology_identifier.value if r.symbology_identifier else None
    bare = re.sub(r"^\][A-Za-z]\d", "", t)
    if bare.isdigit() and len(bare) in (8, 12, 13, 14) and r.gtin is not None:
        # a bare GTIN (what a linear EAN/UPC symbol holds), not an element string starting with AI 9x
        return ParsedBarcode(raw=raw, form="gtin", symbology=sym, gtin=r.gtin.as_gtin_14(),
                             elements={"01": r.gtin.as_gtin_14()})
    if r.gs1_message is not None:
        form = "gs1_element_string"
        es = r.gs1_message.element_strings
        if len(es) == 1 and es[0].ai.ai == "00" and re.fullmatch(r"\d{20}", t):
            form = "gs1_element_string"
        return _from_elements(raw, form, sym, es)
    if r.gtin is not None:
        return ParsedBarcode(raw=raw, form="gtin", symbology=sym, gtin=r.gtin.as_gtin_14(),
                             elements={"01": r.gtin.as_gtin_14()})
    if r.sscc is not None:
        return ParsedBarcode(raw=raw, form="sscc", symbology=sym, sscc=r.sscc.value, elements={"00": r.sscc.value})
    # say the most specific thing biip found wrong
    digits = re.sub(r"^\][A-Za-z]\d", "", t)
    if digits.isdigit() and len(digits) in (8, 12, 13, 14):
        raise _fail(raw, "(01) GTIN", r.gtin_error or "invalid GTIN")
    if digits.isdigit() and len(digits) == 18:
        raise _fail(raw, "(00) SSCC", r.sscc_error or "invalid SSCC")
    raise _fail(raw, "barcode", r.gs1_message_error or "not a GS1 element string, Digital Link, GTIN or SSCC")


__all__ = ["ParsedBarcode", "parse_barcode"]
