"""The validation report: environment (IQ), the traceability matrix requirement -> tests ->
result (OQ), the PQ scenario, deviations, the build's hash; written as JSON, HTML and PDF, and
kept as a `ValidationReport` record signed by the person who ran it (21 CFR 11.50/11.70).

Result of a requirement: `passed` when at least one of its tests passed and none failed;
`failed` when one failed or errored; `not run` when none of its tests ran (all skipped, or not
in the selection); `not-yet-covered` when the catalogue says so. Every result other than
`passed` is a deviation, as are failed IQ checks and PQ steps.
"""

from __future__ import annotations

import hashlib
import html
import json
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from tracegraph.engine import commands
from tracegraph.engine.access.permissions import require
from tracegraph.engine.audit.chain import Actor
from tracegraph.engine.audit.signatures import SignatureView, sign
from tracegraph.engine.stores.base import GraphStore
from tracegraph.validation.catalogue import NOT_YET_COVERED, Requirement
from tracegraph.validation.iq import IQResult
from tracegraph.validation.oq import OQResult
from tracegraph.validation.pdf import Doc
from tracegraph.validation.pq import PQResult


class MatrixRow(BaseModel):
    id: str
    area: str
    text: str
    risk: str
    risk_rationale: str
    clauses: list[str]
    tests: list[dict[str, str]]
    result: str
    note: str = ""


class Deviation(BaseModel):
    kind: str  # requirement | iq | pq
    ref: str
    result: str
    description: str


class ValidationReport(BaseModel):
    id: str
    generated_at: str
    run_by: dict[str, str] = Field(default_factory=dict)
    build: dict[str, str]
    iq: IQResult | None = None
    oq: dict[str, Any] = Field(default_factory=dict)
    pq: PQResult | None = None
    matrix: list[MatrixRow]
    deviations: list[Deviation]
    #: clause -> the requirements serving it, with their results (an inspector reads by clause)
    clauses: dict[str, list[str]] = Field(default_factory=dict)
    summary: dict[str, Any]
    signature: dict[str, Any] = Field(default_factory=dict)
    record: dict[str, Any] = Field(default_factory=dict)

    def content_sha256(self) -> str:
        body = self.model_dump(mode="json", exclude={"signature", "record"})
        return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def _result(req: Requirement, outcomes: list[str]) -> tuple[str, str]:
    if req.status == NOT_YET_COVERED:
        return "not-yet-covered", req.reason
    if any(o in ("failed", "error") for o in outcomes):
        return "failed", ""
    if any(o == "passed" for o in outcomes):
        return "passed", ""
    return "not run", "no test of this requirement ran in this OQ" if not outcomes else "every test was skipped"


def matrix(reqs: list[Requirement] | tuple[Requirement, ...], oq: OQResult | None) -> list[MatrixRow]:
    per: dict[str, list[dict[str, str]]] = {}
    for t in (oq.tests if oq else []):
        for rid in t.requirements:
            per.setdefault(rid, []).append({"test": t.nodeid, "outcome": t.outcome})
    rows = []
    for r in reqs:
        tests = per.get(r.id, [])
        result, note = _result(r, [t["outcome"] for t in tests])
        rows.append(MatrixRow(id=r.id, area=r.area, text=r.text, risk=r.risk, risk_rationale=r.risk_rationale,
                              clauses=r.clauses, tests=tests, result=result, note=note))
    return rows


def deviations(rows: list[MatrixRow], iq: IQResult | None, pq: PQResult | None,
               unknown: list[str]) -> list[Deviation]:
    out = [Deviation(kind="requirement", ref=r.id, result=r.result,
                     description=(r.note or ", ".join(f"{t['test']}: {t['outcome']}" for t in r.tests
                                                     if t["outcome"] != "passed")) or r.result)
           for r in rows if r.result != "passed"]
    out += [Deviation(kind="test", ref=u, result="unknown requirement", description="a test names a requirement "
                      "that is not in the catalogue") for u in unknown]
    for c in (iq.checks if iq else []):
        if c.status == "fail":
            out.append(Deviation(kind="iq", ref=f"{c.area}: {c.name}", result="fail",
                                 description=f"expected {c.expected}, found {c.actual}. {c.note}".strip()))
    for s in (pq.steps if pq else []):
        if s.status != "pass":
            out.append(Deviation(kind="pq", ref=s.name, result=s.status, description=s.note or json.dumps(s.detail)[:500]))
    return out


def build_report(reqs: list[Requirement] | tuple[Requirement, ...], build: dict[str, str], *, iq: IQResult | None,
                 oq: OQResult | None, pq: PQResult | None, run_by: Actor | None = None) -> ValidationReport:
    known = {r.id for r in reqs}
    unknown = sorted({f"{t.nodeid}: {r}" for t in (oq.tests if oq else []) for r in t.requirements if r not in known})
    rows = matrix(reqs, oq)
    devs = deviations(rows, iq, pq, unknown)
    by_result: dict[str, int] = {}
    for r in rows:
        by_result[r.result] = by_result.get(r.result, 0) + 1
    tagged = {t.nodeid for t in (oq.tests if oq else []) if t.requirements}
    summary = {
        "requirements": len(rows), "by_result": by_result,
        "coverage": f"{sum(1 for r in rows if r.result != 'not-yet-covered')}/{len(rows)} requirements have tests",
        "tests_run": len(oq.tests) if oq else 0, "tagged_tests_run": len(tagged),
        "oq_counts": oq.counts() if oq else {}, "iq_ok": iq.ok if iq else None, "pq_ok": pq.ok if pq else None,
        "deviations": len(devs),
        "verdict": "PASS" if not devs else "PASS WITH DEVIATIONS" if not any(
            d.result in ("failed", "fail") for d in devs) else "FAIL",
    }
    by_clause: dict[str, list[str]] = {}
    for r in rows:
        for c in r.clauses:
            by_clause.setdefault(c, []).append(f"{r.id} [{r.result}]")
    now = datetime.now(UTC)
    return ValidationReport(
        id=f"VAL-{now:%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:4].upper()}", generated_at=now.isoformat(timespec="seconds"),
        run_by={"id": run_by.id, "name": run_by.name} if run_by else {}, build=build, iq=iq,
        oq=({"source": oq.source, "command": " ".join(oq.command), "scratch_dir": oq.scratch_dir,
             "exit_status": oq.exit_status, "seconds": oq.seconds, "counts": oq.counts(),
             "tests": [t.model_dump() for t in oq.tests]} if oq else {}),
        pq=pq, matrix=rows, deviations=devs, clauses=dict(sorted(by_clause.items())), summary=summary,
    )


# ------------------------------------------------------------------------------ the record
def store_report(store: GraphStore, rep: ValidationReport, actor: Actor, files: dict[str, str]) -> commands.RecordView:
    """Keep the report as a ValidationReport record: generated by the system for `actor` (one
    audited write) with the report's content hash (`content_sha256()`: SHA-256 of the report
    JSON without its `signature` and `record` parts, so anyone can recompute it from the JSON
    file) and where its files are."""
    require(actor, "validation.run")
    props: dict[str, Any] = {
        "generated_at": rep.generated_at, "run_by": actor.id, "run_by_name": actor.name,
        "build_hash": rep.build.get("hash", ""), "tracegraph_version": rep.build.get("tracegraph", ""),
        "verdict": rep.summary["verdict"], "requirements": rep.summary["requirements"],
        "deviations": rep.summary["deviations"], "tests_run": rep.summary["tests_run"],
        "content_sha256": rep.content_sha256(), "status": "generated",
    }
    for kind, path in files.items():
        props[f"file_{kind}"] = path
    return commands.create(store, "ValidationReport", rep.id, props, Actor.system("tracegraph validate"),
                           reason=f"validation report generated for {actor.name} ({actor.id})")


def sign_report(store: GraphStore, report_id: str, actor: Actor, password: str, *, meaning: str = "reviewed",
                username: str | None = None) -> SignatureView:
    """The runner's Part 11 signature on the stored report (meaning reviewed or approved)."""
    if meaning not in ("reviewed", "approved"):
        raise ValueError("a validation report is signed as reviewed or approved")
    return sign(store, "ValidationReport", report_id, meaning, actor, password, username=username,
                reason="validation report: IQ/OQ/PQ evidence reviewed")


# ------------------------------------------------------------------------------ files
def write_json(rep: ValidationReport, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(rep.model_dump_json(indent=1), encoding="utf-8")
    return path


_CSS = ("body{font-family:sans-serif;font-size:13px;margin:2em}table{border-collapse:collapse;margin:.5em 0}"
        "td,th{border:1px solid #bbb;padding:3px 6px;vertical-align:top;text-align:left}th{background:#eee}"
        ".passed,.pass{color:#060}.failed,.fail,.error{color:#a00;font-weight:bold}.warn,.not-run{color:#a60}")


def _table(headers: list[str], rows: list[list[Any]], cls_col: int | None = None) -> str:
    out = ["<table><tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in headers) + "</tr>"]
    for r in rows:
        cells = []
        for i, c in enumerate(r):
            text = html.escape("" if c is None else str(c)).replace("\n", "<br>")
            cls = f' class="{html.escape(str(c).replace(" ", "-"))}"' if i == cls_col else ""
            cells.append(f"<td{cls}>{text}</td>")
        out.append("<tr>" + "".join(cells) + "</tr>")
    return "".join(out) + "</table>"


def _signature_text(rep: ValidationReport) -> str:
    s = rep.signature
    if s.get("signer_id"):
        return (f"{s['signer_name']} ({s['signer_id']}), {s['meaning']}, {s['signed_at']} (UTC); signature {s['id']} "
                f"on record ValidationReport {rep.id} (content SHA-256 {rep.record.get('content_sha256', '')})")
    return str(s.get("note", "not signed"))


def write_html(rep: ValidationReport, path: Path) -> Path:
    sm = rep.summary
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>Validation report {rep.id}</title>"
             f"<style>{_CSS}</style></head><body><h1>tracegraph validation report {html.escape(rep.id)}</h1>",
             _table(["item", "value"], [["verdict", sm["verdict"]], ["generated (UTC)", rep.generated_at],
                                        ["run by", f"{rep.run_by.get('name', '-')} ({rep.run_by.get('id', '-')})"],
                                        ["build", rep.build.get("hash")], ["tracegraph", rep.build.get("tracegraph")],
                                        ["package SHA-256", rep.build.get("package_sha256")],
                                        ["requirements", sm["requirements"]], ["coverage", sm["coverage"]],
                                        ["results", json.dumps(sm["by_result"])], ["OQ tests", json.dumps(sm["oq_counts"])],
                                        ["deviations", sm["deviations"]], ["electronic signature", _signature_text(rep)]]),
             f"<h2>Deviations ({len(rep.deviations)})</h2>",
             _table(["kind", "ref", "result", "description"],
                    [[d.kind, d.ref, d.result, d.description] for d in rep.deviations], 2),
             "<h2>Traceability matrix</h2>",
             _table(["requirement", "risk", "clauses", "text", "tests", "result"],
                    [[r.id, f"{r.risk}: {r.risk_rationale}", "; ".join(r.clauses), r.text,
                      "\n".join(f"{t['test']} [{t['outcome']}]" for t in r.tests) or r.note, r.result]
                     for r in rep.matrix], 5),
             "<h2>By clause</h2>",
             _table(["clause", "requirements [result]"], [[c, "\n".join(ids)] for c, ids in rep.clauses.items()])]
    if rep.iq:
        parts += ["<h2>Installation qualification (IQ)</h2>",
                  _table(["area", "check", "status", "expected", "actual", "note"],
                         [[c.area, c.name, c.status, c.expected, c.actual, c.note] for c in rep.iq.checks], 2),
                  "<h3>Installed packages</h3>", _table(["package", "version"], [[k, v] for k, v in rep.iq.packages.items()])]
    if rep.oq:
        parts += ["<h2>Operational qualification (OQ)</h2>",
                  _table(["item", "value"], [["source", rep.oq["source"]], ["command", rep.oq.get("command", "")],
                                             ["scratch data folder", rep.oq.get("scratch_dir", "")],
                                             ["counts", json.dumps(rep.oq["counts"])]])]
    if rep.pq:
        parts += ["<h2>Performance qualification (PQ), live data</h2>", f"<p>{html.escape(rep.pq.changes_nothing)}</p>",
                  _table(["step", "status", "seconds", "target s", "detail"],
                         [[s.name, s.status, s.seconds, s.target_seconds, s.note or json.dumps(s.detail, default=str)]
                          for s in rep.pq.steps], 1)]
    parts.append("</body></html>")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(parts), encoding="utf-8")
    return path


def write_pdf(rep: ValidationReport, path: Path) -> Path:
    sm = rep.summary
    doc = Doc(f"tracegraph validation report {rep.id}")
    doc.kv([("verdict", sm["verdict"]), ("generated (UTC)", rep.generated_at),
            ("run by", f"{rep.run_by.get('name', '-')} ({rep.run_by.get('id', '-')})"), ("build", rep.build.get("hash")),
            ("tracegraph", rep.build.get("tracegraph")), ("package SHA-256", rep.build.get("package_sha256")),
            ("requirements", sm["requirements"]), ("coverage", sm["coverage"]), ("results", json.dumps(sm["by_result"])),
            ("OQ tests", json.dumps(sm["oq_counts"])), ("OQ source", rep.oq.get("source", "not run")),
            ("deviations", sm["deviations"]), ("electronic signature", _signature_text(rep))])
    doc.h1(f"Deviations ({len(rep.deviations)})")
    if rep.deviations:
        doc.table(["kind", "ref", "result", "description"],
                  [[d.kind, d.ref, d.result, d.description[:600]] for d in rep.deviations], (10, 22, 14, 54))
    doc.h1("Traceability matrix: requirement -> tests -> result")
    doc.table(["requirement", "risk", "clauses", "tests", "result"],
              [[r.id, r.risk, "; ".join(r.clauses), "\n".join(f"{t['test'].split('/')[-1]} [{t['outcome']}]"
                                                            for t in r.tests[:12]) or r.note, r.result]
               for r in rep.matrix], (13, 8, 24, 43, 12))
    doc.h1("By clause: clause -> requirements [result]")
    doc.table(["clause", "requirements [result]"], [[c, ", ".join(ids)] for c, ids in rep.clauses.items()], (30, 70))
    if rep.iq:
        doc.h1("Installation qualification (IQ)")
        doc.table(["area", "check", "status", "expected", "actual"],
                  [[c.area, c.name, c.status, c.expected, c.actual[:300]] for c in rep.iq.checks], (12, 24, 9, 25, 30))
    if rep.pq:
        doc.h1("Performance qualification (PQ), live data")
        doc.para(rep.pq.changes_nothing)
        doc.table(["step", "status", "seconds", "target s", "detail"],
                  [[s.name, s.status, s.seconds, s.target_seconds,
                    (s.note or json.dumps(s.detail, default=str))[:700]] for s in rep.pq.steps], (18, 9, 9, 9, 55))
    doc.h1("Requirements")
    doc.table(["requirement", "text", "risk rationale"],
              [[r.id, r.text, r.risk_rationale] for r in rep.matrix], (14, 56, 30))
    return doc.save(path)


__all__ = ["MatrixRow", "Deviation", "ValidationReport", "matrix", "deviations", "build_report", "store_report",
           "sign_report", "write_json", "write_html", "write_pdf"]
