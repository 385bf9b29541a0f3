"""From whatever a person or a scanner has in hand to the node in the graph.

`resolve_identifier(store, text)` accepts, in this order:
1. an exact business key as imported (ERP lot code, serial key, UDI, EPC URI, Digital Link URI);
2. an EPC URI or GS1 Digital Link naming a unit / lot / container in ANOTHER form than the one it
   was imported in (`urn:epc:id:sgtin:0614141.107346.2017` finds the serial imported as
   `https://id.gs1.org/01/10614141073464/21/2017` and vice versa), via normalised GTIN + serial/lot;
3. a UDI / GS1 barcode string (GS1-128 with FNC1/GS, `]C1`/`]d2` prefixes, the human-readable
   `(01)...(17)...(10)...(21)...`, a bare GTIN or SSCC): unit by UDI or GTIN+serial, else the lot
   by GTIN+lot, else the container by SSCC, else the product by GTIN.

Why one function: trace start keys, `tracegraph scan`, the API and the dashboard search all need the
same answer to "what is this?", and a barcode with a wrong check digit must fail loudly
(ValidationFailed naming the field) instead of silently finding nothing.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from tracegraph.engine.errors import NotFound, Problem, ValidationFailed
from tracegraph.engine.stores.base import GraphStore
from tracegraph.gs1.barcode import ParsedBarcode, parse_barcode
from tracegraph.gs1.identifiers import parse_identifier


class ResolvedIdentifier(BaseModel):
    """A scanned / typed identifier and the graph node it names."""

    text: str = Field(description="what was given")
    label: str = Field(description="Serial, Batch, MaterialLot, Container, Product, ...")
    id: str = Field(description="the node's business key (as imported): use it as a trace start key")
    matched_by: str = Field(description="id, udi, gtin+serial, gtin+lot, sscc or gtin")
    #: normalised reading of the text: form, kind, gtin, serial, lot, expiry, sscc (where known)
    parsed: dict[str, Any] = Field(default_factory=dict)
    node: dict[str, Any] = Field(default_factory=dict)
    #: what the code says that the database contradicts ((10) lot, (17) expiry, (01) GTIN): the
    #: unit was found by its serial, but the label in hand does not match the record
    warnings: list[str] = Field(default_factory=list)


def gtin_forms(gtin: str | None) -> list[str]:
    """The same GTIN as stored by different sources: 14 digits, and without leading zeros to 13/12/8."""
    if not gtin:
        return []
    g14 = gtin.zfill(14)
    forms = [g14]
    for n in (13, 12, 8):
        if g14[: 14 - n] == "0" * (14 - n):
            forms.append(g14[14 - n:])
    return forms


def _first(rows: list[dict[str, Any]], text: str, how: str, parsed: dict[str, Any]) -> ResolvedIdentifier | None:
    if not rows:
        return None
    order = {"Serial": 0, "Batch": 1, "MaterialLot": 2, "Container": 3, "Product": 4}
    row = sorted(rows, key=lambda r: order.get(r["label"], 9))[0]
    node = row["node"] or {}
    return ResolvedIdentifier(text=text, label=row["label"], id=str(node.get("id")), matched_by=how,
                              parsed=parsed, node=node)


def _lookup(store: GraphStore, text: str, parsed: dict[str, Any]) -> ResolvedIdentifier | None:
    from tracegraph.gs1.identifiers import candidate_keys

    gtins = gtin_forms(parsed.get("gtin"))
    serial, lot, sscc = parsed.get("serial"), parsed.get("lot"), parsed.get("sscc")
    if gtins and serial:
        # the same unit under its EPC URI / Digital Link key, its stored UDI, or GTIN + serial number
        keys = candidate_keys(gtins[0], serial=serial)
        hit = _first([r for r in store.read("scan.by_keys", ids=keys) if r["label"] == "Serial"], text,
                     "gtin+serial", parsed)
        if not hit:
            udis = [u for u in {text, parsed.get("udi"), parsed.get("udi_short")} if u]
            hit = _first(store.read("scan.serial_by_udi", udis=udis), text, "udi", parsed)
        hit = hit or _first(store.read("scan.serial_by_gtin_serial", gtins=gtins, serial=serial), text,
                            "gtin+serial", parsed)
        if hit:
            return hit
    if gtins and lot:
        keys = candidate_keys(gtins[0], lot=lot)
        rows = [r for r in store.read("scan.by_keys", ids=keys) if r["label"] in ("Batch", "MaterialLot")]
        rows = rows or store.read("scan.lot_by_gtin_lot", gtins=gtins, lot=lot)
        hit = _first(rows, text, "gtin+lot", parsed)
        if hit:
            return hit
    if sscc:
        hit = _first(store.read("scan.container_by_sscc", sscc=sscc), text, "sscc", parsed)
        if hit:
            return hit
    if gtins and not serial and not lot:
        return _first(store.read("scan.product_by_gtin", gtins=gtins), text, "gtin", parsed)
    return None


def _from_barcode(p: ParsedBarcode) -> dict[str, Any]:
    from tracegraph.gs1.identifiers import udi_hri

    out = {"form": p.form, "gtin": p.gtin, "serial": p.serial, "lot": p.lot, "expiry": p.expiry,
           "sscc": p.sscc, "udi": p.udi, "udi_short": udi_hri(p.gtin, serial=p.serial)}
    return {k: v for k, v in out.items() if v is not None}


def parse_text(text: str) -> dict[str, Any]:
    """Normalised reading of an identifier without touching the database (raises on bad barcodes
    and on cut-off codes: `(01)...(21`, a Digital Link ending in `/21`, an SGTIN EPC without serial)."""
    from tracegraph.gs1.barcode import truncation

    t = text.strip()
    cut = truncation(t)
    if cut:
        raise ValidationFailed(f"the code {t!r} is truncated: {cut}",
                               [Problem(record="barcode", field="code", message=f"truncated: {cut}", value=t)],
                               hint="scan again: the code was cut off")
    ident = parse_identifier(t)
    if ident.form != "other" and ident.kind != "other":
        from tracegraph.gs1.identifiers import udi_hri

        out = {"form": ident.form, "kind": ident.kind, "gtin": ident.gtin, "serial": ident.serial,
               "lot": ident.lot, "sscc": ident.sscc, "gln": ident.gln,
               "udi_short": udi_hri(ident.gtin, serial=ident.serial) if ident.kind == "sgtin" else None}
        if ident.form == "digital_link":
            try:  # a Digital Link may carry expiry etc. in its query string; biip also checks digits
                out.update({k: v for k, v in _from_barcode(parse_barcode(t)).items() if k not in out or not out[k]})
            except ValidationFailed:
                pass
        return {k: v for k, v in out.items() if v is not None}
    return _from_barcode(parse_barcode(t))


def resolve_identifier(store: GraphStore, text: str) -> ResolvedIdentifier:
    """Find the serial, lot, batch, container or product that `text` names.

    `text` may be the key as imported, an EPC URI, a GS1 Digital Link URI, or a UDI / GS1 barcode
    string in any common form (see the module docstring). Returns the node's label and business
    key (`id`), which the trace engine accepts as a start key.

    Raises ValidationFailed when `text` is a malformed barcode (wrong check digit, bad AI, garbage)
    and matches no key; NotFound when it is well-formed but nothing in the graph carries it.
    """
    t = (text or "").strip()
    if not t:
        raise ValidationFailed("nothing to look up: the identifier is empty",
                               hint="give a UDI, GS1 barcode string, EPC URI, Digital Link or key")
    exact = store.read("scan.by_id", id=t)
    if exact:
        parsed: dict[str, Any] = {}
        try:
            parsed = parse_text(t)
        except ValidationFailed:
            parsed = {"form": "key"}
        return _first(exact, t, "id", parsed)  # type: ignore[return-value]
    parsed = parse_text(t)  # raises ValidationFailed on malformed barcodes
    hit = _lookup(store, t, parsed)
    if hit:
        hit.warnings = contradictions(store, hit)
        return hit
    what = ", ".join(f"{k} {v}" for k, v in parsed.items() if k in ("gtin", "serial", "lot", "sscc"))
    raise NotFound(
        f"nothing in the graph is identified by {t!r}" + (f" ({what})" if what else ""),
        hint="check that the unit or lot was imported (tracegraph import), or trace by its ERP key",
    )


def contradictions(store: GraphStore, hit: ResolvedIdentifier) -> list[str]:
    """Where the scanned code and the stored unit disagree. Why: a unit found by GTIN + serial whose
    label says another lot or expiry is a mislabel, a counterfeit or a data error; resolving it
    silently would let a recall credit (or miss) the wrong unit."""
    if hit.label != "Serial":
        return []
    p, node, out = hit.parsed, hit.node, []
    gtin = p.get("gtin")
    if gtin and node.get("gtin") and node["gtin"] not in gtin_forms(gtin) and gtin not in gtin_forms(node["gtin"]):
        out.append(f"GTIN (01) {gtin} differs from the unit's GTIN {node['gtin']}")
    lot = p.get("lot")
    if lot:
        batch_id = node.get("batch_id")
        names = {batch_id} if batch_id else set()
        if batch_id:
            rows = store.read("scan.by_id", id=batch_id)
            for r in rows:
                names.add((r.get("node") or {}).get("lot_no"))
        if names and lot not in names:
            out.append(f"lot (10) {lot} differs from the unit's batch {batch_id}")
    exp = p.get("expiry")
    stored = node.get("expiry")
    if exp and stored and str(exp)[:10] != str(stored)[:10]:
        out.append(f"expiry (17) {exp} differs from the unit's expiry {stored}")
    return out


class ScanReport(BaseModel):
    """What `tracegraph scan` prints: what the thing is, where it is now, and where it came from."""

    resolved: ResolvedIdentifier
    product: dict[str, Any] | None = None
    batch: dict[str, Any] | None = None
    lot: str | None = None
    expiry: str | None = None
    status: str | None = None
    holder: dict[str, Any] | None = None
    container: str | None = None
    last_shipment: dict[str, Any] | None = None
    units_by_status: dict[str, int] = Field(default_factory=dict)
    upstream: dict[str, int] = Field(default_factory=dict)
    warnings: list[str] = Field(default_factory=list, description="the code contradicts the database (lot, "
                                "expiry, GTIN): check the label before acting on this answer")


def _upstream(store: GraphStore, label: str, nid: str) -> dict[str, int]:
    """Counts of what the node came from (lots, batches, suppliers upstream), in one statement."""
    rows = store.read("scan.upstream_counts", id=nid, label=label)
    return {k: int(v or 0) for k, v in (rows[0] if rows else {}).items()}


def scan(store: GraphStore, text: str) -> ScanReport:
    """Resolve `text` and describe the node: product, batch/lot, expiry, status, holder, trace counts."""
    r = resolve_identifier(store, text)
    rep = ScanReport(resolved=r, status=r.node.get("status"), warnings=list(r.warnings))
    if r.label == "Serial":
        rows = store.read("scan.serial_context", id=r.id)
        if rows:
            row = rows[0]
            rep.product = row.get("product") or None
            rep.batch = row.get("batch") or None
            rep.holder = row.get("customer") or None
            rep.container = (row.get("container") or {}).get("id")
            rep.last_shipment = row.get("shipment") or None
        rep.expiry = r.node.get("expiry") or (rep.batch or {}).get("expiry") or r.parsed.get("expiry")
        b = rep.batch or {}
        rep.lot = b.get("lot_no") or b.get("id") or r.parsed.get("lot")
    elif r.label in ("Batch", "MaterialLot"):
        rows = store.read("scan.lot_context", id=r.id, label=r.label)
        if rows:
            row = rows[0]
            rep.product = row.get("product") or None
            rep.units_by_status = {d["status"]: int(d["count"]) for d in row.get("by_status") or [] if d}
            rep.last_shipment = row.get("shipment") or None
        rep.lot = r.node.get("lot_no") or r.id
        rep.expiry = r.node.get("expiry") or r.parsed.get("expiry")
    if r.label in ("Serial", "Batch", "MaterialLot"):
        rep.upstream = _upstream(store, r.label, r.id)
    return rep


__all__ = ["ResolvedIdentifier", "ScanReport", "resolve_identifier", "scan", "parse_text", "gtin_forms",
           "contradictions"]
