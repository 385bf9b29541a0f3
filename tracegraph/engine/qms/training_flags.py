"""Signatures by someone not trained: a Release, Document or ChangeControl step signed by a person
without a completed TrainingRecord (trained on or before the signing day) on the documents in
effect that the record concerns is FLAGGED, not refused: the signature stands, the record shows
the flag, and QA decides. Computed when the record is read, so a training recorded later with
an earlier trained_at (a late entry) clears it, and a withdrawn training raises it."""

from __future__ import annotations

from typing import Any

from tracegraph.engine.stores.base import GraphStore


def flag_untrained_signers(store: GraphStore, rt: Any, rec: Any) -> None:
    """Add `untrained_on` to each signature and a line to `rec.flags` per untrained signer."""
    by_day: dict[str, list[str]] = {}  # one look-up per signing day, not per signature
    for s in rec.signatures:
        day = str(s["signed_at"])[:10]
        if day not in by_day:
            by_day[day] = list(rt.training_docs(store, rec, s["signed_at"]) or [])
    per_sig = [(s, by_day[str(s["signed_at"])[:10]]) for s in rec.signatures]
    docs = sorted({d for _, ds in per_sig for d in ds})
    users = sorted({s["signer_id"] for s, _ in per_sig})
    trained: dict[tuple[str, str], list[str]] = {}
    if docs:
        for r in store.read("quality.trained_on", users=users, documents=docs):
            trained.setdefault((r["user"], r["document"]), []).append(str(r["trained_at"] or ""))
    for s, ds in per_sig:
        day = str(s["signed_at"])
        missing = [d for d in ds if not any(t <= day for t in trained.get((s["signer_id"], d), []))]
        s["untrained_on"] = missing
        if missing:
            rec.flags.append(f"{s['signer_name']} ({s['signer_id']}) signed '{s['meaning']}' without a training "
                             f"record on {', '.join(missing)}")


def release_docs(store: GraphStore, rec: Any, signed_at: str) -> list[str]:
    """A release concerns the batch's documents in effect at its start (as the checklist)."""
    rows = store.read("release.checklist", batch=rec.props.get("batch_id"))
    return list(rows[0]["documents"]) if rows else []


def concerned_docs(store: GraphStore, rec: Any, signed_at: str) -> list[str]:
    """A change control concerns the document versions it is about."""
    return [c["id"] for c in rec.concerns if c.get("label") == "Document"]


def document_docs(store: GraphStore, rec: Any, signed_at: str) -> list[str]:
    """A document version's signer must know the version in effect when signing (the one it replaces)."""
    from tracegraph.engine.qms.insights import document_in_effect

    current = document_in_effect(store, str(rec.props.get("doc_id")), signed_at)
    return [current["id"]] if current and current.get("id") != rec.id else []


__all__ = ["flag_untrained_signers", "release_docs", "concerned_docs", "document_docs"]
