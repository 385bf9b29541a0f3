"""The audit trail review as files: XLSX (one sheet of changes, one of exceptions, one summary)
and PDF, for the reviewer to read, sign and file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tracegraph.engine.audit.review import Review
from tracegraph.validation.pdf import Doc, write_xlsx


def _changes_text(changes: list[dict[str, Any]], limit: int = 12) -> str:
    parts = []
    for c in changes[:limit]:
        old, new = c.get("old"), c.get("new")
        parts.append(f"{c.get('field')}: {json.dumps(old, default=str, ensure_ascii=False)} -> "
                     f"{json.dumps(new, default=str, ensure_ascii=False)}")
    if len(changes) > limit:
        parts.append(f"(+{len(changes) - limit} more fields)")
    return "; ".join(parts)


def _summary(review: Review) -> list[tuple[str, Any]]:
    return [("review", review.id), ("period", f"{review.period_from} .. {review.period_to} (end exclusive)"),
            ("scope", ", ".join(f"{k}={v}" for k, v in review.scope.items() if v) or "whole trail"),
            ("reviewer", f"{review.reviewer_name} ({review.reviewer_id})"), ("generated at (UTC)", review.generated_at),
            ("rules", "; ".join(f"{k}: {v}" for k, v in review.rules.items())),
            ("entries reviewed", review.counts["entries"]), ("exceptions", review.counts["findings"]),
            *[(f"  {k}", v) for k, v in review.counts.items() if k not in ("entries", "findings")],
            ("audit verify", {None: "not run", True: "OK", False: "FAILED"}[review.verify_ok]),
            ("content SHA-256", review.content_sha256)]


def write_xlsx_review(review: Review, path: Path) -> Path:
    return write_xlsx(path, {
        "summary": (["item", "value"], [[k, str(v)] for k, v in _summary(review)]),
        "exceptions": (["rule", "seq", "user", "time (UTC)", "what"],
                       [[f.rule, f.seq, f.actor, f.ts, f.message] for f in review.findings]),
        "changes": (["seq", "time (UTC)", "local time", "user", "name", "action", "record type", "record",
                     "field", "old", "new", "reason", "exceptions"],
                    [[e.seq, e.ts, e.ts_local, e.actor, e.actor_name, e.action, e.target_label, e.target_key,
                      c.get("field"), json.dumps(c.get("old"), default=str, ensure_ascii=False),
                      json.dumps(c.get("new"), default=str, ensure_ascii=False), e.reason, ", ".join(e.flags)]
                     for e in review.entries for c in (e.changes or [{}])]),
    })


def write_pdf_review(review: Review, path: Path, *, signature: str = "") -> Path:
    doc = Doc(f"Audit trail review {review.id} (EU GMP Annex 11 §9)")
    doc.kv(_summary(review))
    doc.h1(f"Exceptions ({len(review.findings)})")
    if review.findings:
        doc.table(["rule", "seq", "user", "time (UTC)", "what"],
                  [[f.rule, f.seq, f.actor, f.ts[:19], f.message] for f in review.findings], (18, 7, 14, 17, 44))
    else:
        doc.para("No exception was flagged by the rules for this period and scope.")
    doc.h1(f"Changes ({len(review.entries)})")
    doc.table(["seq", "local time", "user", "action", "record", "old -> new", "reason", "flags"],
              [[e.seq, e.ts_local[:19], e.actor, e.action, f"{e.target_label} {e.target_key}",
                _changes_text(e.changes), e.reason, ", ".join(e.flags)] for e in review.entries],
              (6, 13, 10, 10, 14, 29, 10, 8))
    doc.h1("Reviewer's signature")
    doc.para(signature or "Not signed yet: the review record is signed with `tracegraph audit review ... --sign` "
                          "or `tracegraph audit sign AuditReview " + review.id + " --meaning reviewed` "
                          "(21 CFR 11.50/11.70: the signature binds the record's content hash above).")
    return doc.save(path)


__all__ = ["write_xlsx_review", "write_pdf_review"]
