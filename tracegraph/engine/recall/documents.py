"""The regulators' own documents from campaign data (issue 18, item 4).

Templates are data: `templates/regulator/<form>.<language>.toml`, one file per form and
language, each naming the fields the form asks for (label -> context key). `context` gathers
the values from the recall (decision, snapshot counts, covered batches and products, customers
by country, deadlines with their articles, effectiveness and the FDA check level);
`generate` renders each form of the recall's jurisdiction to PDF (CJK through the letters' font
kit) and keeps each as a `RegulatoryDocument` record (one audited write) with its SHA-256, so
the recall lists every document it produced (`documents`).

Languages: NMPA forms are in Chinese; the EU FSN is written in every language of the recall's
customers for which a template exists, and in English otherwise, the document saying so; the
reply forms exist in English. FDA: the 806 report and the effectiveness check plan with the
7.42(b)(3) level and the number of consignees to check.
"""

from __future__ import annotations

import hashlib
import math
import tomllib
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from tracegraph.engine import commands
from tracegraph.engine.audit.chain import Actor
from tracegraph.engine.clock import Clock, SystemClock, iso
from tracegraph.engine.errors import ValidationFailed
from tracegraph.engine.recall.clocks import deadlines
from tracegraph.engine.recall.effectiveness import effectiveness
from tracegraph.engine.recall.notify import FontKit, render_blocks
from tracegraph.engine.recall.records import customers, get_recall
from tracegraph.engine.recall.signing import require_recall
from tracegraph.engine.stores.base import GraphStore

TEMPLATE_DIR = Path(__file__).resolve().parent.parent.parent / "templates" / "regulator"
#: 21 CFR 7.42(b)(3): share of consignees to contact per level (B: company policy within (10 %, 100 %))
LEVEL_SHARE: dict[str, float] = {"A": 1.0, "B": 0.25, "C": 0.10, "D": 0.02, "E": 0.0}
LEVEL_TEXT: dict[str, str] = {"A": "A: 100 % of consignees", "B": "B: more than 10 %, less than 100 % (policy 25 %)",
                              "C": "C: 10 % of consignees", "D": "D: 2 % of consignees", "E": "E: no effectiveness check"}
#: forms per jurisdiction; `per_language`: rendered once per customer language (with English fallback)
FORMS: dict[str, list[tuple[str, bool]]] = {
    "CN-NMPA": [("nmpa-event-report", False), ("nmpa-investigation", False), ("nmpa-recall-plan", False),
                ("nmpa-summary", False)],
    "EU-MDR": [("eu-fsn", True), ("eu-fsn-reply-customer", True), ("eu-fsn-reply-distributor", True)],
    "US-FDA": [("us-806-report", False), ("us-effectiveness", False)],
}
BLANK = "______________________________"


class Template(BaseModel):
    form: str
    language: str
    title: str
    regulation: str
    jurisdictions: list[str]
    fields: list[tuple[str, str]]
    notes: list[str] = []


class GeneratedDocument(BaseModel):
    id: str
    recall_id: str
    form: str
    language: str
    language_requested: str
    fallback: str = ""
    title: str
    path: str
    sha256: str
    missing: list[str] = []


def templates() -> dict[tuple[str, str], Template]:
    out = {}
    for p in sorted(TEMPLATE_DIR.glob("*.toml")):
        t = Template(**tomllib.loads(p.read_text(encoding="utf-8")))
        out[(t.form, t.language)] = t
    return out


def consignees_to_check(level: str | None, consignees: int) -> int:
    """How many consignees the effectiveness check contacts at `level` (rounded up)."""
    return math.ceil(LEVEL_SHARE.get(level or "E", 0.0) * consignees)


def _listed(items: list[str], show: int = 15) -> str:
    more = f" (+{len(items) - show} more)" if len(items) > show else ""
    return ", ".join(items[:show]) + more if items else ""


def context(store: GraphStore, recall_id: str, *, company: str = "", clock: Clock | None = None) -> dict[str, str]:
    """Every value the templates may ask for, as text ('' when the campaign has none yet)."""
    clock = clock or SystemClock()
    rec = get_recall(store, recall_id)
    custs = customers(store, recall_id)
    batches = store.read("recall.covered_batches", id=recall_id)
    eff = effectiveness(store, recall_id)
    dls = deadlines(store, recall_id, clock=clock)
    by_country = Counter((c.country or "?") for c in custs)
    level = eff.check_level
    ctx: dict[str, Any] = {
        **{k: v for k, v in rec.model_dump().items() if isinstance(v, (str, int, float)) and v is not None},
        "recall_id": rec.id, "recall_type": rec.type, "company": company or "the manufacturer",
        "products": _listed(sorted({str(b["product"]) for b in batches if b.get("product")})),
        "batches": _listed([str(b["id"]) for b in batches]),
        "countries": ", ".join(f"{k}: {v}" for k, v in sorted(by_country.items())),
        "channels": ", ".join(sorted({c.channel for c in custs})),
        "deadlines": "; ".join(f"{d.name} ({d.article}): {(d.due_at or '')[:10]} [{d.state}]" for d in dls),
        "cause": ", ".join(f"{k}={v}" for k, v in sorted(rec.cause.items()) if v not in (None, "", [], {})),
        "consignees_total": len(custs), "check_level": level or "", "check_level_text": LEVEL_TEXT.get(level or "", ""),
        "consignees_to_check": consignees_to_check(level, len(custs)) if level else "",
        "check_day": eff.check_day or "", "effectiveness_target": f"{eff.target_pct:g} %",
        "effectiveness_pct": f"{eff.overall_pct:g} %", "accounted": f"{eff.accounted:g}",
        "customers_acknowledged": eff.customers_acknowledged, "generated_at": iso(clock.now())[:10],
        "blank": BLANK, "checkbox": "[ ] yes",
    }
    return {k: ("" if v is None else str(v)) for k, v in ctx.items()}


def _blocks(t: Template, ctx: dict[str, str], fallback: str) -> tuple[list[tuple[str, float, float]], list[str]]:
    blocks: list[tuple[str, float, float]] = [(t.title, 15, 8), (t.regulation, 8.5, 4.5), ("", 0, 3)]
    if fallback:
        blocks.append((fallback, 8.5, 4.5))
    missing = []
    for label, key in t.fields:
        value = ctx.get(key, "")
        if not value:
            missing.append(key)
        blocks.append((f"{label}: {value or '—'}", 10, 5.5))
    blocks.append(("", 0, 3))
    for note in t.notes:
        blocks.append((note.format_map(_Default(ctx)), 8.5, 4.5))
    return blocks, missing


class _Default(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return ""


def render(t: Template, ctx: dict[str, str], path: Path, *, fallback: str = "") -> list[str]:
    """Write one document; returns the context keys the campaign had no value for."""
    blocks, missing = _blocks(t, ctx, fallback)
    render_blocks(blocks, path, FontKit([b[0] for b in blocks], path.parent))
    return missing


def generate(store: GraphStore, actor: Actor, recall_id: str, out_dir: str | Path, *, company: str = "",
             forms: list[str] | None = None, clock: Clock | None = None) -> list[GeneratedDocument]:
    """Render the jurisdiction's forms for a recall and list each on it (audited, with its hash)."""
    require_recall(actor, "recall.create")
    clock = clock or SystemClock()
    rec = get_recall(store, recall_id)
    wanted = FORMS.get(rec.jurisdiction)
    if wanted is None:
        raise ValidationFailed(f"no regulator forms for jurisdiction {rec.jurisdiction!r}",
                               hint=f"forms exist for {', '.join(FORMS)}")
    if forms:
        unknown = sorted(set(forms) - {f for f, _ in wanted})
        if unknown:
            raise ValidationFailed(f"unknown form(s) for {rec.jurisdiction}: {', '.join(unknown)}",
                                   hint=f"forms: {', '.join(f for f, _ in wanted)}")
    tpls = templates()
    ctx = context(store, recall_id, company=company, clock=clock)
    languages = sorted({c.language for c in customers(store, recall_id)}) or ["en"]
    out = Path(out_dir) / recall_id
    made: list[GeneratedDocument] = []
    for form, per_language in wanted:
        if forms and form not in forms:
            continue
        native = sorted(lang for f, lang in tpls if f == form)
        jobs: list[tuple[str, str, str]] = []  # (language used, language requested, fallback statement)
        if per_language:
            have = [lang for lang in languages if (form, lang) in tpls]
            lacking = [lang for lang in languages if (form, lang) not in tpls]
            jobs = [(lang, lang, "") for lang in have]
            if lacking:
                base = "en" if (form, "en") in tpls else native[0]
                note = (f"No template of this form exists in {', '.join(lacking)}; customers with "
                        f"{'that language' if len(lacking) == 1 else 'those languages'} receive this {base} "
                        f"version (language fallback).")
                jobs = [j for j in jobs if j[0] != base] + [(base, ", ".join(lacking), note)]
        else:
            jobs = [(native[0], native[0], "")]
        for used, requested, fallback in jobs:
            t = tpls[(form, used)]
            path = out / f"{form}.{used}.pdf"
            missing = render(t, ctx, path, fallback=fallback)
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            doc = GeneratedDocument(id=f"RD-{recall_id}-{form}-{used}-{uuid.uuid4().hex[:4].upper()}",
                                    recall_id=recall_id, form=form, language=used, language_requested=requested,
                                    fallback=fallback, title=t.title, path=str(path), sha256=digest, missing=missing)
            commands.create(store, "RegulatoryDocument", doc.id, {
                "recall_id": recall_id, "form": form, "language": used, "language_requested": requested,
                "fallback": fallback, "title": t.title, "path": str(path), "sha256": digest,
                "regulation": t.regulation, "missing_fields": missing}, actor,
                reason=f"{t.title} generated for recall {recall_id}", clock=clock)
            made.append(doc)
    return made


def documents(store: GraphStore, recall_id: str) -> list[dict[str, Any]]:
    """The regulator documents a recall produced, with their hashes."""
    return [r["d"] for r in store.read("recall.documents", id=recall_id)]


__all__ = ["Template", "GeneratedDocument", "LEVEL_SHARE", "FORMS", "templates", "consignees_to_check", "context",
           "render", "generate", "documents"]
