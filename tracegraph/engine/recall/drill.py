"""Mock recall drills: the whole campaign on real data, without touching real statuses.

A drill creates a Recall with `drill = true` (its COVERS/AFFECTS snapshot is real, so the drill
measures the real traceability), runs approve -> start -> notify (letters and spreadsheets) ->
close without quarantine or status changes, times every step, proves that the unit statuses
are unchanged (a fingerprint before and after), writes a report (JSON + PDF) and keeps a
`(:RecallDrill)-[:EXERCISED]->(:Recall)` record for inspectors. `run_demo_recall` is the end of
`tracegraph demo`: a real (non-drill) campaign on the demo plant.
"""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from tracegraph.engine.audit.chain import Actor, AuditSpec, Change, audited_write
from tracegraph.engine.clock import Clock, SystemClock, iso
from tracegraph.engine.errors import ValidationFailed
from tracegraph.engine.recall.campaign import RecallCreate, create_recall, get_recall, transition
from tracegraph.engine.recall.notify import generate_notifications
from tracegraph.engine.recall.scope import AffectedSet, identify
from tracegraph.engine.recall.signing import require_recall
from tracegraph.engine.stores.base import GraphStore
from tracegraph.engine.stores.modes import private_dir, write_private
from tracegraph.engine.trace.models import ImpactCause


class DrillReport(BaseModel):
    drill_id: str
    recall_id: str
    cause: dict[str, Any]
    started_at: str
    finished_at: str
    timings_ms: dict[str, float]
    total_ms: float
    units: float
    serials: int
    customers: int
    batches: int
    letters: int
    spreadsheet_rows: int
    real_data_untouched: bool
    passed: bool
    target_ms: float | None = None
    report_json: str = ""
    report_pdf: str = ""
    files: list[str] = Field(default_factory=list)


def cause_text(cause: dict[str, Any], show: int = 5) -> str:
    """A short human summary of a cause (a drill of 5,000 batches must not print 5,000 ids)."""
    parts = []
    for k, v in sorted(cause.items()):
        if isinstance(v, list):
            more = f" (+{len(v) - show} more)" if len(v) > show else ""
            parts.append(f"{k} {', '.join(map(str, v[:show]))}{more}")
        elif v not in (None, "", {}):
            parts.append(f"{k} {v}")
    return "; ".join(parts) or "-"


def _fingerprint(store: GraphStore, batches: list[str]) -> list[dict[str, Any]]:
    return store.read("recall.status_counts", batches=batches)


def run_drill(
    store: GraphStore,
    actor: Actor,
    cause: ImpactCause,
    out_dir: str | Path,
    *,
    jurisdiction: str = "CN-NMPA",
    recall_class: str = "I",
    letter_limit: int | None = 20,
    sheet_format: str = "xlsx",
    target_s: float | None = None,
    clock: Clock | None = None,
    affected: AffectedSet | None = None,
    use_impact: bool = True,
) -> DrillReport:
    """Run a timed mock recall of `cause` and record it. Never changes a real unit's status."""
    clock = clock or SystemClock()
    require_recall(actor, "recall.drill")
    out = Path(out_dir)
    private_dir(out)  # every file a drill writes is owner-only (0600), as the data folder wants
    started = iso(clock.now())
    timings: dict[str, float] = {}
    t_all = time.perf_counter()
    t0 = time.perf_counter()
    aff = affected or identify(store, cause, use_impact=use_impact)
    timings["identify"] = (time.perf_counter() - t0) * 1000
    if aff.units == 0:
        raise ValidationFailed("the drill's cause reaches no units", hint="choose a lot or batch that was used")
    batches = sorted({b["id"] for b in aff.batch_rows()})
    before = _fingerprint(store, batches)
    t0 = time.perf_counter()
    data = RecallCreate(jurisdiction=jurisdiction, recall_class=recall_class, type="removal",
                        reason=f"mock recall drill of {cause_text(aff.cause)}",
                        health_hazard="drill", responsible=actor.id, drill=True)
    created = create_recall(store, actor, data, aff, clock=clock)
    rid = created.recall.id
    timings["snapshot"] = (time.perf_counter() - t0) * 1000
    t0 = time.perf_counter()
    rec = transition(store, actor, created.recall, "approved", {"approved_at": iso(clock.now()),
                                                                 "approved_by": actor.id},
                      action="recall.drill.approve", reason="drill: no signature", clock=clock)
    rec = transition(store, actor, rec, "in_progress", {"started_at": iso(clock.now())},
                      action="recall.drill.start", clock=clock)
    timings["lifecycle"] = (time.perf_counter() - t0) * 1000
    notes = generate_notifications(store, actor, rid, out / rid, mark_sent=True, letter_limit=letter_limit,
                                   sheet_format=sheet_format, clock=clock)  # type: ignore[arg-type]
    timings["letters"] = notes.timings_ms.get("letters", 0.0)
    timings["letters_read_units"] = notes.timings_ms.get("read_units", 0.0)
    timings["letters_fonts"] = notes.timings_ms.get("fonts", 0.0)
    timings["spreadsheet"] = notes.timings_ms.get("spreadsheet", 0.0)
    regulator_file = None
    if affected is None and use_impact:  # the scope's regulator sheet, by the same writer as `impact --xlsx`
        from tracegraph.engine.trace import regulator_sheet

        t0 = time.perf_counter()
        fmt = "csv" if sheet_format == "csv" else "xlsx"
        regulator_file = str(out / rid / f"regulator-sheet.{fmt}")
        regulator_sheet.scope_sheet(store, cause, fmt, regulator_file)  # type: ignore[arg-type]
        timings["regulator_sheet"] = (time.perf_counter() - t0) * 1000
    t0 = time.perf_counter()
    rec = transition(store, actor, get_recall(store, rid), "effectiveness_check", {"completed_at": iso(clock.now())},
                      action="recall.drill.complete", clock=clock)
    transition(store, actor, rec, "closed", {"closed_at": iso(clock.now()), "closed_by": actor.id},
                action="recall.drill.close", reason="drill finished", clock=clock)
    timings["close"] = (time.perf_counter() - t0) * 1000
    after = _fingerprint(store, batches)
    total = (time.perf_counter() - t_all) * 1000
    untouched = before == after
    passed = untouched and (target_s is None or total <= target_s * 1000)
    drill_id = f"DRILL-RUN-{uuid.uuid4().hex[:10].upper()}"
    report = DrillReport(
        drill_id=drill_id, recall_id=rid, cause=aff.cause, started_at=started, finished_at=iso(clock.now()),
        timings_ms={k: round(v, 1) for k, v in timings.items()}, total_ms=round(total, 1), units=aff.units,
        serials=len(aff.serials), customers=len(aff.customers), batches=len(batches), letters=len(notes.letters),
        spreadsheet_rows=len(aff.serials), real_data_untouched=untouched, passed=passed,
        target_ms=target_s * 1000 if target_s else None,
        files=[x for x in [notes.customer_list, notes.units_sheet, regulator_file] if x]
        + [x.path for x in notes.letters[:5]],
    )
    report.report_json = str(out / f"{drill_id}.json")
    report.report_pdf = str(out / f"{drill_id}.pdf")
    write_private(report.report_json, report.model_dump_json(indent=2))
    _report_pdf(report, Path(report.report_pdf))
    props = {"id": drill_id, "recall_id": rid, "cause_json": json.dumps(aff.cause, sort_keys=True),
             "started_at": started, "finished_at": report.finished_at, "timings_json": json.dumps(report.timings_ms),
             "total_ms": report.total_ms, "units": float(aff.units), "customers": len(aff.customers),
             "real_data_untouched": untouched, "passed": passed, "report_json": report.report_json,
             "report_pdf": report.report_pdf, "run_by": actor.id, "created_at": report.finished_at,
             "updated_at": report.finished_at, "source": actor.id}
    spec = AuditSpec(action="recall.drill", target_label="RecallDrill", target_key=drill_id,
                     changes=[Change("passed", None, passed), Change("total_ms", None, report.total_ms)],
                     reason="mock recall drill")
    audited_write(store, "recall.drill_create", lambda: ({"recall": rid, "props": props}, spec), actor, clock=clock)
    return report


def _report_pdf(rep: DrillReport, path: Path) -> None:
    from fpdf import FPDF

    from tracegraph.engine.recall.notify import latin_font

    pdf = FPDF(format="A4")
    font = latin_font()
    if font:
        pdf.add_font("body", "", font)
        fam = "body"
    else:
        fam = "Helvetica"
    pdf.add_page()
    pdf.set_font(fam, size=15)
    pdf.multi_cell(pdf.epw, 8, f"Mock recall drill {rep.drill_id}", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(fam, size=10)
    lines = [
        f"Recall record: {rep.recall_id} (drill, real statuses untouched: {rep.real_data_untouched})",
        f"Cause: {cause_text(rep.cause)}",
        f"Started {rep.started_at}, finished {rep.finished_at}",
        f"Units {rep.units:g} ({rep.serials} serials) in {rep.batches} batches, {rep.customers} customers",
        f"Letters generated: {rep.letters}; spreadsheet rows: {rep.spreadsheet_rows}",
        "",
        "Step timings (ms):",
        *[f"  {k}: {v:.1f}" for k, v in rep.timings_ms.items()],
        f"  total: {rep.total_ms:.1f}" + (f" (target {rep.target_ms:.0f})" if rep.target_ms else ""),
        "",
        f"RESULT: {'PASSED' if rep.passed else 'FAILED'}",
    ]
    for ln in lines:
        pdf.multi_cell(pdf.epw, 5, ln, new_x="LMARGIN", new_y="NEXT")
    write_private(path, bytes(pdf.output()))


def drills(store: GraphStore, limit: int = 100) -> list[dict[str, Any]]:
    return [r["drill"] for r in store.read("recall.drills", limit=limit)]


def run_demo_recall(store: GraphStore, actor: Actor, out_dir: str | Path, *, cause: ImpactCause | None = None,
                    clock: Clock | None = None) -> dict[str, Any]:
    """The end of `tracegraph demo`: a drill of the most widely used batch's inputs, then a summary.

    Picks a cause automatically when none is given (the material lot that reached the most
    batches), runs a drill (so the demo data stays unchanged) and returns summary and timings.
    """
    clock = clock or SystemClock()
    if cause is None:
        rows = store.read("recall.demo_pick_lot")
        if not rows:
            rows = store.read("recall.demo_pick_batch")
            if not rows:
                return {"skipped": "no lots or batches with units to recall"}
            cause = ImpactCause(batches=[rows[0]["id"]])
        else:
            cause = ImpactCause(lots=[rows[0]["id"]])
    rep = run_drill(store, actor, cause, out_dir, clock=clock, letter_limit=10)
    return {"drill": rep.drill_id, "recall": rep.recall_id, "cause": rep.cause, "units": rep.units,
            "customers": rep.customers, "letters": rep.letters, "timings_ms": rep.timings_ms,
            "total_ms": rep.total_ms, "real_data_untouched": rep.real_data_untouched,
            "report_pdf": rep.report_pdf, "report_json": rep.report_json}


__all__ = ["DrillReport", "run_drill", "drills", "run_demo_recall"]
