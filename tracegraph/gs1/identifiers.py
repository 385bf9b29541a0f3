"""GS1 identifiers in the three forms tracegraph meets them: EPC URIs (`urn:epc:id:sgtin:...`,
`urn:epc:class:lgtin:...`), GS1 Digital Link URIs (`https://id.gs1.org/01/.../21/...`) and GTINs.

Why: the graph keeps every key AS GIVEN (an EPC URI stays an EPC URI, a Digital Link stays a
Digital Link), but a scanner, an ERP export and an EPCIS feed name the same unit differently. So
every identifier is also normalised into plain GS1 values (14-digit GTIN, serial, lot, SSCC, GLN)
that are stored as properties and used for look-ups across forms.

Only pure functions here: no database, no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlsplit

#: the canonical Digital Link resolver host used when tracegraph writes Digital Link URIs
DL_HOST = "https://id.gs1.org"

_EPC = re.compile(r"^urn:epc:(id|class|idpat):([a-z0-9]+):(.+)$", re.IGNORECASE)


def gs1_check_digit(body: str) -> int:
    """GS1 mod-10 check digit of the digits `body` (everything but the check digit)."""
    if not body.isdigit():
        raise ValueError(f"{body!r} is not all digits")
    total = 0
    for i, ch in enumerate(reversed(body)):
        total += int(ch) * (3 if i % 2 == 0 else 1)
    return (10 - total % 10) % 10


def valid_check_digit(digits: str) -> bool:
    return digits.isdigit() and len(digits) >= 2 and gs1_check_digit(digits[:-1]) == int(digits[-1])


def normalize_gtin(value: str) -> str:
    """A GTIN-8/12/13/14 as the 14-digit form; raises ValueError on a bad length or check digit."""
    v = value.strip()
    if not v.isdigit() or len(v) not in (8, 12, 13, 14):
        raise ValueError(f"GTIN {value!r} must be 8, 12, 13 or 14 digits")
    v = v.zfill(14)
    if not valid_check_digit(v):
        raise ValueError(
            f"GTIN {value!r} has a wrong check digit (expected {gs1_check_digit(v[:-1])}, got {v[-1]})"
        )
    return v


def gtin_from_epc(company_prefix: str, item_ref: str) -> str:
    """EPC `CompanyPrefix.IndicatorItemRef` -> 14-digit GTIN (indicator digit moved to the front)."""
    body = item_ref[:1] + company_prefix + item_ref[1:]
    return body + str(gs1_check_digit(body))


def sscc_from_epc(company_prefix: str, serial_ref: str) -> str:
    body = serial_ref[:1] + company_prefix + serial_ref[1:]
    return body + str(gs1_check_digit(body))


def gln_from_epc(company_prefix: str, loc_ref: str) -> str:
    body = company_prefix + loc_ref
    return body + str(gs1_check_digit(body))


@dataclass
class Identifier:
    """One parsed identifier. `uri` is exactly what was given; the rest is normalised."""

    uri: str
    #: sgtin (one unit), lgtin (a lot/batch of a GTIN), gtin (a product class), sscc, sgln,
    #: pgln, grai, giai, gsrn, gdti, or other
    kind: str
    #: epc (EPC URI), digital_link, or other
    form: str
    gtin: str | None = None
    serial: str | None = None
    lot: str | None = None
    sscc: str | None = None
    gln: str | None = None
    extension: str | None = None
    company_prefix: str | None = None
    item_ref: str | None = None
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def is_instance(self) -> bool:
        """True for one physical thing (a unit, a container, an asset), False for a class or lot."""
        return self.kind in {"sgtin", "sscc", "grai", "giai", "gsrn"}

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v not in (None, {}, "")}


def _parse_epc(uri: str) -> Identifier | None:
    m = _EPC.match(uri)
    if not m:
        return None
    ns, scheme, rest = m.group(1).lower(), m.group(2).lower(), m.group(3)
    parts = rest.split(".")
    ident = Identifier(uri=uri, kind="other", form="epc")
    try:
        if scheme == "sgtin" and ns == "id" and len(parts) >= 3:
            cp, ir, ser = parts[0], parts[1], unquote(".".join(parts[2:]))
            ident.kind, ident.company_prefix, ident.item_ref = "sgtin", cp, ir
            ident.gtin, ident.serial = gtin_from_epc(cp, ir), ser
        elif scheme == "lgtin" and ns == "class" and len(parts) >= 3:
            cp, ir, lot = parts[0], parts[1], unquote(".".join(parts[2:]))
            ident.kind, ident.company_prefix, ident.item_ref = "lgtin", cp, ir
            ident.gtin, ident.lot = gtin_from_epc(cp, ir), lot
        elif scheme == "sgtin" and ns == "idpat" and len(parts) >= 2:
            cp, ir = parts[0], parts[1]
            ident.kind, ident.company_prefix, ident.item_ref = "gtin", cp, ir
            ident.gtin = gtin_from_epc(cp, ir)
        elif scheme == "sscc" and len(parts) == 2:
            ident.kind, ident.company_prefix = "sscc", parts[0]
            ident.sscc = sscc_from_epc(parts[0], parts[1])
        elif scheme == "sgln" and len(parts) >= 2:
            ident.kind, ident.company_prefix = "sgln", parts[0]
            ident.gln = gln_from_epc(parts[0], parts[1])
            ext = unquote(".".join(parts[2:])) if len(parts) > 2 else ""
            ident.extension = ext if ext and ext != "0" else None
        elif scheme == "pgln" and len(parts) == 2:
            ident.kind, ident.company_prefix = "pgln", parts[0]
            ident.gln = gln_from_epc(parts[0], parts[1])
        elif scheme in {"grai", "giai", "gsrn", "gdti", "gcp", "sgcn", "cpi", "gsin", "ginc", "itip", "upui"}:
            ident.kind, ident.company_prefix = scheme, parts[0]
            ident.serial = unquote(".".join(parts[1:])) if len(parts) > 1 else None
        else:
            ident.kind = scheme
    except (ValueError, IndexError):
        ident.kind = "other"
    return ident


#: Digital Link primary keys -> kind (qualifiers refine 01 into sgtin/lgtin)
_DL_PRIMARY = {"01": "gtin", "00": "sscc", "414": "sgln", "417": "pgln", "8003": "grai",
               "8004": "giai", "8018": "gsrn", "253": "gdti"}


def _parse_digital_link(uri: str) -> Identifier | None:
    if not uri.lower().startswith(("http://", "https://")):
        return None
    parts = urlsplit(uri)
    segs = [unquote(s) for s in parts.path.split("/") if s]
    # the primary key may follow a path prefix on a custom domain: find the first known AI
    start = next((i for i, s in enumerate(segs) if s in _DL_PRIMARY and i + 1 < len(segs)), None)
    if start is None:
        return None
    pairs: dict[str, str] = {}
    rest = segs[start:]
    for i in range(0, len(rest) - 1, 2):
        pairs[rest[i]] = rest[i + 1]
    for k, v in parse_qsl(parts.query):
        if k.isdigit():
            pairs.setdefault(k, v)
    ai = segs[start]
    ident = Identifier(uri=uri, kind=_DL_PRIMARY[ai], form="digital_link")
    try:
        if ai == "01":
            ident.gtin = normalize_gtin(pairs["01"])
            if "21" in pairs:
                ident.kind, ident.serial = "sgtin", pairs["21"]
            elif "10" in pairs:
                ident.kind, ident.lot = "lgtin", pairs["10"]
            if "10" in pairs:
                ident.lot = pairs["10"]
        elif ai == "00":
            ident.sscc = pairs["00"]
        elif ai in ("414", "417"):
            ident.gln = pairs[ai]
            if "254" in pairs:
                ident.extension = pairs["254"]
        else:
            ident.serial = pairs[ai]
    except (KeyError, ValueError):
        ident.kind = "other"
    ident.extra = {k: v for k, v in pairs.items() if k not in {"01", "21", "10", "00", "414", "417", "254"}}
    return ident


#: tracegraph's own URN for keys without a GS1 identity (ERP lot codes, shipment numbers) when they
#: must travel in an EPCIS document: `urn:tracegraph:<label>:<key percent-encoded>`
PRIVATE_PREFIX = "urn:tracegraph:"
PRIVATE_LABELS = ("Serial", "Batch", "MaterialLot", "Container", "Customer", "Shipment", "Location",
                  "Product", "Material", "Equipment")


def private_urn(label: str, key: str) -> str:
    return f"{PRIVATE_PREFIX}{label}:{quote(key, safe='')}"


def _parse_private(uri: str) -> Identifier | None:
    if not uri.startswith(PRIVATE_PREFIX):
        return None
    label, _, key = uri[len(PRIVATE_PREFIX):].partition(":")
    if label not in PRIVATE_LABELS or not key:
        return None
    return Identifier(uri=uri, kind="tracegraph", form="tracegraph", extra={"label": label, "key": unquote(key)})


def parse_identifier(uri: str) -> Identifier:
    """Classify an EPC URI, a GS1 Digital Link URI or a tracegraph URN; else kind/form `other`.

    Cached (a document names each unit in several events): treat the result as read-only."""
    return _parse_cached(uri.strip())


@lru_cache(maxsize=262_144)
def _parse_cached(text: str) -> Identifier:
    return (_parse_epc(text) or _parse_digital_link(text) or _parse_private(text)
            or Identifier(uri=text, kind="other", form="other"))


# ---------------------------------------------------------------------------------------
# Builders: used when tracegraph must NAME something (a batch derived from an ILMD lot number,
# an export of a unit that was imported from CSV)
# ---------------------------------------------------------------------------------------


def sgtin_digital_link(gtin: str, serial: str) -> str:
    return f"{DL_HOST}/01/{gtin}/21/{quote(serial, safe='')}"


def lgtin_digital_link(gtin: str, lot: str) -> str:
    return f"{DL_HOST}/01/{gtin}/10/{quote(lot, safe='')}"


def gtin_digital_link(gtin: str) -> str:
    return f"{DL_HOST}/01/{gtin}"


def lgtin_epc(company_prefix: str, item_ref: str, lot: str) -> str:
    return f"urn:epc:class:lgtin:{company_prefix}.{item_ref}.{quote(lot, safe='')}"


def lot_uri_like(sample: Identifier, gtin: str, lot: str) -> str:
    """Name the lot `lot` of `gtin` in the same form as `sample` (EPC stays EPC, DL stays DL)."""
    if sample.form == "epc" and sample.company_prefix and sample.item_ref and sample.gtin == gtin:
        return lgtin_epc(sample.company_prefix, sample.item_ref, lot)
    return lgtin_digital_link(gtin, lot)


def candidate_keys(gtin: str, *, serial: str | None = None, lot: str | None = None) -> list[str]:
    """Every key the unit (serial) or lot of `gtin` may have been imported under: EPC URIs for each
    possible company-prefix length (6-12 digits) and the id.gs1.org Digital Link. Lets a look-up use
    the id index instead of scanning properties."""
    g = gtin.zfill(14)
    out: list[str] = []
    for n in range(6, 13):
        cp, ir = g[1:1 + n], g[0] + g[1 + n:13]
        if serial is not None:
            out.append(f"urn:epc:id:sgtin:{cp}.{ir}.{quote(serial, safe='')}")
        elif lot is not None:
            out.append(f"urn:epc:class:lgtin:{cp}.{ir}.{quote(lot, safe='')}")
    if serial is not None:
        out.append(sgtin_digital_link(g, serial))
    elif lot is not None:
        out.append(lgtin_digital_link(g, lot))
    return out


def udi_hri(gtin: str | None, *, serial: str | None = None, lot: str | None = None,
            expiry: str | None = None) -> str | None:
    """The human-readable GS1 UDI `(01)GTIN(17)YYMMDD(10)LOT(21)SERIAL` (None without a GTIN)."""
    if not gtin:
        return None
    out = f"(01){gtin}"
    if expiry and re.match(r"^\d{4}-\d{2}-\d{2}$", expiry):
        out += f"(17){expiry[2:4]}{expiry[5:7]}{expiry[8:10]}"
    if lot:
        out += f"(10){lot}"
    if serial:
        out += f"(21){serial}"
    return out


__all__ = [
    "DL_HOST", "PRIVATE_PREFIX", "private_urn", "Identifier", "gs1_check_digit", "valid_check_digit", "normalize_gtin",
    "gtin_from_epc", "sscc_from_epc", "gln_from_epc", "parse_identifier", "sgtin_digital_link",
    "lgtin_digital_link", "gtin_digital_link", "lgtin_epc", "lot_uri_like", "udi_hri", "candidate_keys",
]
