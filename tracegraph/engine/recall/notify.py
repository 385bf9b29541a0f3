"""Customer notifications of a recall: letters (PDF) in the customer's language, CSV/XLSX lists,
and the audited record of each step (sent, delivered or bounced, acknowledged, the customer's stock count).

Letters use `tracegraph/templates/recall/letter.<lang>.toml` (string.Template placeholders).
Chinese letters need a CJK TrueType font: `TRACEGRAPH_CJK_FONT`, else a known system path
(Debian `fonts-droid-fallback`, `fonts-wqy-microhei`, Noto CJK). Without one the letter falls back
to English and says so in the result (`language_used`, `fallback_reason`), never silently.
"""

from __future__ import annotations

import csv
import os
import string
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from tracegraph.engine.audit.chain import Actor, AuditSpec, Change, audited_write
from tracegraph.engine.clock import Clock, SystemClock, iso
from tracegraph.engine.errors import Conflict, NotFound, ValidationFailed
from tracegraph.engine.recall.records import Recall, RecallCustomer, customers, get_recall
from tracegraph.engine.recall.signing import require_recall
from tracegraph.engine.stores.base import GraphStore
from tracegraph.engine.stores.modes import private_dir, private_open, write_private
from tracegraph.engine.trace.models import HELD_STATUSES

TEMPLATES = Path(__file__).resolve().parents[2] / "templates" / "recall"
CJK_FONTS = (
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttf",
    "/usr/share/fonts/truetype/arphic/uming.ttf",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.otf",
    "/usr/share/fonts/truetype/noto/NotoSansSC-Regular.ttf",
)
LATIN_FONTS = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
)
#: how many unit ids a letter lists before pointing to the attached spreadsheet
LETTER_UNIT_LIMIT = 300
#: font size of the unit list block (rendered line by line)
UNIT_LIST_SIZE = 8

Step = Literal["sent", "delivered", "bounced", "acknowledged", "stock_count"]


class LetterResult(BaseModel):
    customer: str
    path: str
    language_requested: str
    language_used: str
    fallback_reason: str | None = None
    units: float = 0
    unit_ids_listed: int = 0


class NotifyResult(BaseModel):
    recall: str
    letters: list[LetterResult] = Field(default_factory=list)
    customer_list: str | None = None
    units_sheet: str | None = None
    signatures_sheet: str | None = None
    marked_sent: int = 0
    timings_ms: dict[str, float] = Field(default_factory=dict)


# ---------------------------------------------------------------------------------------
# audited steps
# ---------------------------------------------------------------------------------------


def update_customer(
    store: GraphStore,
    actor: Actor,
    recall_id: str,
    customer_id: str,
    step: Step,
    *,
    channel: str | None = None,
    by: str | None = None,
    stock_count: float | None = None,
    at: str | None = None,
    note: str = "",
    clock: Clock | None = None,
) -> RecallCustomer:
    """Record one notification step for one customer (one audited statement)."""
    from tracegraph.engine.inputs import build
    from tracegraph.engine.recall.inputs import CustomerStepInput

    inp = build(CustomerStepInput, {"step": step, "by": by, "stock_count": stock_count, "channel": channel,
                                    "at": at, "note": note}, "acknowledgement", record=f"customer {customer_id}")
    by, stock_count, channel, at, note = inp.by, inp.stock_count, inp.channel, inp.at, inp.note
    clock = clock or SystemClock()
    require_recall(actor, "recall.execute")
    rec = get_recall(store, recall_id)
    if rec.status not in ("approved", "in_progress", "effectiveness_check"):
        raise Conflict(f"recall {rec.id} is {rec.status}; customers are notified once it is approved")
    cust = next((c for c in customers(store, recall_id) if c.id == customer_id), None)
    if cust is None:
        raise NotFound(f"customer {customer_id!r} is not affected by recall {recall_id}")
    now = iso(clock.now())
    when = at or now
    props: dict[str, Any] = {}
    if step == "sent":
        props = {"sent_at": when, "sent_by": actor.id, "status": "sent", "channel": channel or cust.channel}
    elif step == "delivered":
        if not cust.sent_at:
            raise Conflict(f"the notice to {customer_id} was not sent yet", hint="record `sent` first")
        props = {"delivered_at": when, "status": "delivered"}
    elif step == "bounced":
        # the notice came back undeliverable: the customer is not reached until it is sent again
        if not cust.sent_at:
            raise Conflict(f"the notice to {customer_id} was not sent yet", hint="record `sent` first")
        if cust.acknowledged_at:
            raise Conflict(f"the notice to {customer_id} was acknowledged; it cannot have bounced",
                           hint="record a bounce only for a notice that came back undeliverable")
        props = {"bounced_at": when, "status": "bounced", "delivered_at": None}
    elif step == "acknowledged":
        if not cust.sent_at:
            raise Conflict(f"the notice to {customer_id} was not sent yet", hint="record `sent` first")
        if not (by or "").strip():
            raise ValidationFailed("an acknowledgement needs the name of who acknowledged", hint="pass --by NAME")
        props = {"acknowledged_at": when, "acknowledged_by": by, "status": "acknowledged"}
        if stock_count is not None:
            props.update({"stock_count": float(stock_count), "stock_counted_at": when})
    elif step == "stock_count":
        if stock_count is None or stock_count < 0:
            raise ValidationFailed("a stock count needs a quantity >= 0")
        props = {"stock_count": float(stock_count), "stock_counted_at": when}
    else:
        raise ValidationFailed(f"unknown step {step!r}")
    spec = AuditSpec(action=f"recall.customer.{step}", target_label="Recall", target_key=rec.id,
                     changes=[Change(f"customer.{customer_id}.{k}", getattr(cust, k, None), v, state=False)
                              for k, v in props.items()], reason=note)
    params = {"id": rec.id, "customer": customer_id, "props": props, "now": now}
    audited_write(store, "recall.customer_update", lambda: (params, spec), actor, clock=clock)
    return next(c for c in customers(store, recall_id) if c.id == customer_id)


def mark_all_sent(store: GraphStore, actor: Actor, recall_id: str, *, channel: str | None = None,
                  only_pending: bool = True, clock: Clock | None = None) -> int:
    """Mark every (pending) customer's notice as sent in ONE audited statement (mass mailing)."""
    clock = clock or SystemClock()
    require_recall(actor, "recall.execute")
    rec = get_recall(store, recall_id)
    if rec.status not in ("approved", "in_progress", "effectiveness_check"):
        raise Conflict(f"recall {rec.id} is {rec.status}; customers are notified once it is approved")
    targets = [c.id for c in customers(store, recall_id) if not (only_pending and c.sent_at)]
    if not targets:
        return 0
    now = iso(clock.now())
    spec = AuditSpec(action="recall.customer.sent_all", target_label="Recall", target_key=rec.id,
                     changes=[Change("customers_sent", None, {"count": len(targets), "ids": targets[:1000]},
                                     state=False)])
    params = {"id": rec.id, "customers": targets, "now": now, "actor_id": actor.id, "channel": channel}
    audited_write(store, "recall.customers_sent", lambda: (params, spec), actor, clock=clock)
    return len(targets)


# ---------------------------------------------------------------------------------------
# letters
# ---------------------------------------------------------------------------------------


def load_template(language: str) -> dict[str, Any] | None:
    path = TEMPLATES / f"letter.{language}.toml"
    if not path.is_file():
        return None
    with path.open("rb") as fh:
        return tomllib.load(fh)


def cjk_font() -> str | None:
    env = os.environ.get("TRACEGRAPH_CJK_FONT")
    if env and Path(env).is_file():
        return env
    return next((p for p in CJK_FONTS if Path(p).is_file()), None)


def latin_font() -> str | None:
    return next((p for p in LATIN_FONTS if Path(p).is_file()), None)


def _units_for(store: GraphStore, recall_id: str, customer_id: str) -> list[dict[str, Any]]:
    return store.read("recall.covered_units", id=recall_id, customer=customer_id)


def passed_on_units(store: GraphStore, recall_id: str, customer_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    """Per consignee, the covered units it received and another consignee held at the decision
    (it passed them on): what its letter lists so it can find its own customers. Read from the
    shipment history, which only grows, so it names the same units as at the decision."""
    out: dict[str, list[dict[str, Any]]] = {}
    if not customer_ids:
        return out
    for r in store.read("recall.covered_passed_on", id=recall_id, customers=sorted(set(customer_ids)),
                        held=sorted(HELD_STATUSES)):
        out.setdefault(r["customer"], []).append(r)
    return out


Block = tuple[str, float, float]  # text, font size, line height


def compose_letter(
    rec: Recall,
    cust: RecallCustomer,
    units: list[dict[str, Any]],
    *,
    company: str = "the manufacturer",
    language: str | None = None,
    passed_on: list[dict[str, Any]] | None = None,
) -> tuple[list[Block], LetterResult]:
    """The letter's text blocks in the customer's language (template + values), and what was used.

    A consignee that shipped affected units on (role passed_on or both) also gets the sub-recall
    instruction (check stock, identify and notify its own customers, report them) and the list
    of the units it passed on (`passed_on`: covered units it received that another consignee
    held at the decision), since the units it holds may be none."""
    wanted = language or cust.language or "en"
    used, reason = wanted, None
    tpl = load_template(wanted)
    if tpl is None:
        used, reason, tpl = "en", f"no letter template for {wanted}", load_template("en")
    if used != "en" and cjk_font() is None:
        used, reason, tpl = "en", "no CJK font installed (set TRACEGRAPH_CJK_FONT or install fonts-droid-fallback)", \
            load_template("en")
    assert tpl is not None
    onward = [u for u in (passed_on or []) if u.get("customer") in (None, cust.id)]
    products = sorted({u["product"] for u in [*units, *onward] if u.get("product")})
    batches = sorted({u["batch"] for u in [*units, *onward] if u.get("batch")})
    passes_on = cust.role in ("passed_on", "both")
    action = tpl.get("action_by_type", {}).get(rec.type) or tpl.get("action_by_type", {}).get("default", "")
    values = {
        "recall_id": rec.id, "date": rec.decision_at[:10], "customer_name": cust.name or cust.id,
        "contact_name": cust.contact_name or "", "address": cust.address or "", "recall_class": rec.recall_class,
        "type": rec.type.replace("_", " "), "reason": rec.reason, "health_hazard": rec.health_hazard or "-",
        "units": f"{cust.units:g}", "products": ", ".join(products) or "-",
        "batches": (", ".join(batches[:50]) + (" ..." if len(batches) > 50 else "")) or "-",
        "responsible": rec.responsible, "company": company, "jurisdiction": rec.jurisdiction, "action": action,
        "units_received": f"{max(cust.units_received, cust.units):g}", "units_passed_on": f"{cust.units_passed_on:g}",
    }

    def fill(key: str) -> str:
        return string.Template(str(tpl.get(key, ""))).safe_substitute(values).strip()

    listed = [u for u in units if u.get("customer_at_decision") == cust.id][:LETTER_UNIT_LIMIT]
    lines = [f"{u['id']}  batch {u.get('batch') or '-'}  {u.get('product') or ''}" for u in listed]
    if cust.qty_units:
        lines.append(f"non-serialised quantity: {cust.qty_units:g}")
    if cust.serial_units > len(listed):
        lines.append(f"... {cust.serial_units - len(listed):g} more: see the attached unit list")
    blocks: list[Block] = [(fill("title"), 15, 8), (fill("subtitle"), 10, 5), ("", 0, 3), (fill("to"), 10, 5),
                           ("", 0, 3), (fill("body"), 10, 5)]
    if rec.drill:
        blocks.append(("*** DRILL - NOT A REAL RECALL ***", 12, 7))
    if passes_on:
        blocks += [("", 0, 3), (fill("passed_on_heading"), 12, 7), (fill("passed_on_body"), 10, 5)]
    if lines or not passes_on:
        blocks += [("", 0, 2), (fill("units_heading"), 12, 7), ("\n".join(lines) or "-", UNIT_LIST_SIZE, 4)]
    if passes_on:
        shown = onward[:LETTER_UNIT_LIMIT]
        olines = [f"{u['id']}  batch {u.get('batch') or '-'}  {u.get('product') or ''}  -> {u.get('holder') or '-'}"
                  for u in shown]
        if cust.units_passed_on > len(shown) and onward:
            olines.append(f"... {cust.units_passed_on - len(shown):g} more: see the attached unit list")
        elif not onward and cust.units_passed_on:
            olines.append(f"non-serialised quantity passed on: {cust.units_passed_on:g}")
        blocks += [("", 0, 2), (fill("passed_on_units_heading"), 12, 7), ("\n".join(olines) or "-", UNIT_LIST_SIZE, 4)]
    blocks += [("", 0, 4), (fill("ack_heading"), 12, 7), (fill("ack_body"), 10, 5)]
    if passes_on:
        blocks.append((fill("passed_on_ack"), 10, 5))
    blocks += [("", 0, 3), (fill("footer"), 7.5, 4)]
    meta = LetterResult(customer=cust.id, path="", language_requested=wanted, language_used=used,
                        fallback_reason=reason, units=cust.units, unit_ids_listed=len(listed))
    return blocks, meta


class FontKit:
    """Fonts for one batch of letters, subset once to the characters those letters use.

    Parsing a full CJK font costs seconds per PDF; a subset of a few hundred glyphs costs
    milliseconds, so a run of many letters pays the parse once.
    """

    def __init__(self, texts: list[str], workdir: Path) -> None:
        chars = set("".join(texts)) | set(string.printable)
        self.latin = self._subset(latin_font(), chars, workdir, "latin")
        need_cjk = any(ord(ch) > 0x2E7F for ch in chars)
        self.cjk = self._subset(cjk_font(), chars, workdir, "cjk") if need_cjk else None

    @staticmethod
    def _subset(font: str | None, chars: set[str], workdir: Path, name: str) -> str | None:
        if not font:
            return None
        try:
            from fontTools import subset
            from fontTools.ttLib import TTFont

            f = TTFont(font, lazy=True)
            for tag in ("GSUB", "GPOS", "GDEF", "kern", "FFTM", "DSIG", "hdmx", "VDMX", "LTSH", "morx", "feat"):
                if tag in f:
                    del f[tag]  # layout tables are large and unused by fpdf2: never decode them
            opts = subset.Options()
            opts.notdef_outline = True
            opts.name_IDs = ["*"]
            opts.layout_features = []
            opts.drop_tables += ["GSUB", "GPOS", "GDEF", "kern", "FFTM", "DSIG", "hdmx", "VDMX", "LTSH"]
            opts.hinting = False
            sub = subset.Subsetter(opts)
            sub.populate(text="".join(sorted(chars)))
            sub.subset(f)
            private_dir(workdir)
            out = workdir / f".font-{name}.ttf"
            with private_open(out, "wb") as fh:
                f.save(fh)
            return str(out)
        except Exception:  # a font fontTools cannot subset: use it whole (slower, still right)
            return font


def render_blocks(blocks: list[Block], path: Path, fonts: FontKit) -> None:
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(True, margin=15)
    if fonts.latin:
        pdf.add_font("body", "", fonts.latin)
        family = "body"
        if fonts.cjk:
            pdf.add_font("cjk", "", fonts.cjk)
            pdf.set_fallback_fonts(["cjk"])
    elif fonts.cjk:
        pdf.add_font("body", "", fonts.cjk)
        family = "body"
    else:
        family = "Helvetica"
    pdf.add_page()
    for text, size, h in blocks:
        if not text:
            pdf.ln(h)
            continue
        pdf.set_font(family, size=size)
        if family == "Helvetica":
            text = text.encode("latin-1", "replace").decode("latin-1")
        if size == UNIT_LIST_SIZE:
            # the unit list: one short line per unit, no line breaking needed (much faster)
            for line in text.split("\n"):
                pdf.cell(pdf.epw, h, line, new_x="LMARGIN", new_y="NEXT")
            continue
        pdf.multi_cell(pdf.epw, h, text, new_x="LMARGIN", new_y="NEXT")
    private_dir(path.parent)
    write_private(path, bytes(pdf.output()))  # letters name customers: owner-only (stores/modes.py)


def render_letter(
    rec: Recall,
    cust: RecallCustomer,
    units: list[dict[str, Any]],
    path: Path,
    *,
    company: str = "the manufacturer",
    language: str | None = None,
    fonts: FontKit | None = None,
) -> LetterResult:
    """Write one customer's recall letter as PDF (fpdf2)."""
    blocks, meta = compose_letter(rec, cust, units, company=company, language=language)
    fonts = fonts or FontKit([b[0] for b in blocks], path.parent)
    render_blocks(blocks, path, fonts)
    meta.path = str(path)
    return meta


# ---------------------------------------------------------------------------------------
# lists
# ---------------------------------------------------------------------------------------

UNIT_COLUMNS = ("recall", "serial", "udi", "batch", "product", "status_at_decision", "customer_at_decision",
                "status_now", "holder_now", "disposition")
CUSTOMER_COLUMNS = ("recall", "customer", "name", "kind", "country", "language", "channel", "contact_name",
                    "contact_email", "contact_phone", "role", "units_received", "units", "units_passed_on",
                    "serial_units", "qty_units", "status", "sent_at",
                    "delivered_at", "acknowledged_at", "acknowledged_by", "stock_count", "returned", "destroyed",
                    "corrected", "consumed", "not_found")


def _unit_rows(store: GraphStore, recall_id: str, units: list[dict[str, Any]] | None = None) -> list[tuple[Any, ...]]:
    if units is None:
        units = store.read("recall.covered_units", id=recall_id, customer=None)
    rows = [(recall_id, u["id"], u["udi"], u["batch"], u["product"], u["status_at_decision"],
             u["customer_at_decision"], u["status"], u["customer"], u["disposition"]) for u in units]
    rows.sort(key=lambda r: (r[6] or "", r[1]))
    return rows


def _write_rows(path: Path, columns: tuple[str, ...], rows: list[tuple[Any, ...]], sheet: str) -> str:
    private_dir(path.parent)
    if path.suffix.lower() == ".xlsx":
        from tracegraph.engine.recall.xlsx import write_xlsx

        write_xlsx(path, columns, rows, sheet=sheet)
    else:
        with private_open(path, "w", newline="", encoding="utf-8") as fh:
            wr = csv.writer(fh)
            wr.writerow(columns)
            wr.writerows(rows)
    return str(path)


def write_units_sheet(store: GraphStore, recall_id: str, path: str | Path,
                      units: list[dict[str, Any]] | None = None) -> str:
    """Every covered unit with its decision-time and current state (CSV or XLSX by extension)."""
    get_recall(store, recall_id)
    return _write_rows(Path(path), UNIT_COLUMNS, _unit_rows(store, recall_id, units), "units")


def write_customer_list(store: GraphStore, recall_id: str, path: str | Path) -> str:
    rows = [(recall_id, c.id, c.name, c.kind, c.country, c.language, c.channel, c.contact_name, c.contact_email,
             c.contact_phone, c.role, max(c.units_received, c.units), c.units, c.units_passed_on, c.serial_units,
             c.qty_units, c.status, c.sent_at, c.delivered_at,
             c.acknowledged_at, c.acknowledged_by, c.stock_count, c.returned, c.destroyed, c.corrected, c.consumed,
             c.not_found) for c in customers(store, recall_id)]
    return _write_rows(Path(path), CUSTOMER_COLUMNS, rows, "customers")


SIGNATURE_COLUMNS = ("recall", "signature", "meaning", "printed_name", "user_id", "signed_at_utc", "reason",
                     "manifestation", "binding", "valid", "status", "changed_fields")


def write_signatures_sheet(store: GraphStore, recall_id: str, path: str | Path) -> str:
    """The recall's electronic signatures as exported with its lists (21 CFR 11.50: printed name,
    time, meaning; and whether each still binds the fields it signed)."""
    from tracegraph.engine.audit.signatures import signature_status

    rows = [(recall_id, v.id, v.meaning, v.signer_name, v.signer_id, v.signed_at, v.reason, v.manifestation,
             v.scope, v.valid, v.status, ", ".join(v.changed_fields)) for v in signature_status(store, "Recall", recall_id)]
    return _write_rows(Path(path), SIGNATURE_COLUMNS, rows, "signatures")


def generate_notifications(
    store: GraphStore,
    actor: Actor,
    recall_id: str,
    out_dir: str | Path,
    *,
    customer_ids: list[str] | None = None,
    mark_sent: bool = False,
    sheet_format: Literal["csv", "xlsx"] = "xlsx",
    letter_limit: int | None = None,
    company: str = "the manufacturer",
    clock: Clock | None = None,
) -> NotifyResult:
    """Letters for each customer (or the chosen ones), the customer list and the unit sheet; with
    `mark_sent`, record the notices as sent (one audited statement)."""
    import time

    clock = clock or SystemClock()
    rec = get_recall(store, recall_id)
    if rec.status not in ("approved", "in_progress", "effectiveness_check"):
        raise Conflict(f"recall {rec.id} is {rec.status}; notices go out once it is approved",
                       hint=f"approve it: `tracegraph recall approve {rec.id}`")
    out = Path(out_dir)
    res = NotifyResult(recall=rec.id)
    t0 = time.perf_counter()
    custs = [c for c in customers(store, recall_id) if customer_ids is None or c.id in customer_ids]
    if customer_ids:
        unknown = set(customer_ids) - {c.id for c in custs}
        if unknown:
            raise NotFound(f"not affected by {recall_id}: {', '.join(sorted(unknown))}")
    all_units = store.read("recall.covered_units", id=recall_id, customer=None)  # one read for letters + sheet
    res.timings_ms["read_units"] = (time.perf_counter() - t0) * 1000
    by_customer: dict[str, list[dict[str, Any]]] = {}
    for u in all_units:
        by_customer.setdefault(u["customer_at_decision"] or "", []).append(u)
    chosen = custs[:letter_limit] if letter_limit is not None else custs
    onward = passed_on_units(store, recall_id, [c.id for c in chosen if c.role in ("passed_on", "both")])
    composed = []
    for c in chosen:
        blocks, meta = compose_letter(rec, c, by_customer.get(c.id, []), company=company,
                                      passed_on=onward.get(c.id, []))
        meta.path = str(out / "letters" / f"{rec.id}_{_safe(c.id)}_{meta.language_used}.pdf")
        composed.append((blocks, meta))
    if composed:
        tf = time.perf_counter()
        fonts = FontKit([b[0] for blocks, _ in composed for b in blocks], out / "letters")
        res.timings_ms["fonts"] = (time.perf_counter() - tf) * 1000
        for blocks, meta in composed:
            render_blocks(blocks, Path(meta.path), fonts)
            res.letters.append(meta)
    res.timings_ms["letters"] = (time.perf_counter() - t0) * 1000
    t1 = time.perf_counter()
    res.customer_list = write_customer_list(store, recall_id, out / f"{rec.id}_customers.{sheet_format}")
    res.units_sheet = write_units_sheet(store, recall_id, out / f"{rec.id}_units.{sheet_format}", all_units)
    res.signatures_sheet = write_signatures_sheet(store, recall_id, out / f"{rec.id}_signatures.{sheet_format}")
    res.timings_ms["spreadsheet"] = (time.perf_counter() - t1) * 1000
    if mark_sent:
        if customer_ids:
            for c in custs:
                update_customer(store, actor, recall_id, c.id, "sent", clock=clock)
            res.marked_sent = len(custs)
        else:
            res.marked_sent = mark_all_sent(store, actor, recall_id, clock=clock)
    return res


def _safe(text: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in text)[:80]


__all__ = [
    "LetterResult", "NotifyResult", "update_customer", "passed_on_units", "mark_all_sent", "render_letter", "write_units_sheet",
    "write_customer_list", "write_signatures_sheet", "generate_notifications", "cjk_font", "load_template",
]
