"""EPCIS capture (GS1 EPCIS 2.0 REST binding, POST /capture and POST /events): a capture job is
recorded in the graph before its events are written, then the events go through the same
validated, audited, all-or-nothing EPCIS import as `tracegraph import`.

Why a job record of its own: the binding answers 202 with `Location: /capture/{captureID}` and
the client polls the job; the job must answer the same after a restart, and the audit trail must
show who captured what. Both writes (job created, job finished) are audited statements.

Error behaviour (`GS1-Capture-Error-Behaviour`):
- `rollback` (the default): the document is one import; one bad event and nothing is stored;
- `proceed`: each event is validated on its own; the valid ones are imported together (all or
  nothing among themselves) and the job lists every refused event with its index and reason.
"""

from __future__ import annotations

import json
import tempfile
import time
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from tracegraph.engine.access.actor import Actor
from tracegraph.engine.audit.chain import AuditSpec, Change, audited_write
from tracegraph.engine.clock import Clock, SystemClock, iso
from tracegraph.engine.errors import (
    ConstraintViolation,
    ImportBusy,
    NotFound,
    Problem,
    TracegraphError,
    ValidationFailed,
)
from tracegraph.engine.stores.base import GraphStore
from tracegraph.loaders.epcis import import_epcis, load_document
from tracegraph.loaders.epcis_map import event_id
from tracegraph.loaders.epcis_pending import PendingItem

Behaviour = Literal["rollback", "proceed"]
DOCUMENT_TYPES = ("EPCISDocument", "EPCISQueryDocument")
DEFAULT_CONTEXT = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"


class CaptureError(BaseModel):
    """One reason a capture job did not store (some of) its events."""

    event_index: int | None = Field(None, description="0-based position of the event in the document")
    event_id: str | None = None
    field: str | None = None
    message: str

    def binding_json(self) -> dict[str, Any]:
        names = {"event_index": "eventIndex", "event_id": "eventID", "field": "field", "message": "message"}
        return {names[k]: v for k, v in self.model_dump(exclude_none=True).items()}


class CaptureJob(BaseModel):
    """The capture job document of the REST binding (`captureID`, `running`, `success`, ...)."""

    capture_id: str
    created_at: str
    finished_at: str | None = None
    running: bool = True
    success: bool = True
    capture_error_behaviour: Behaviour = "rollback"
    events: int = 0
    captured: int = 0
    import_id: str | None = None
    errors: list[CaptureError] = Field(default_factory=list)
    #: what the captured events named that is still waiting for its missing piece (epcis_pending.py)
    pending: list[PendingItem] = Field(default_factory=list)
    created_by: str = ""
    #: the eventIDs stored by this run (not persisted: the events themselves are)
    captured_ids: list[str] = Field(default_factory=list, exclude=True)

    def binding_json(self) -> dict[str, Any]:
        """The job as the binding's CaptureJob schema names its fields."""
        out: dict[str, Any] = {"captureID": self.capture_id, "createdAt": self.created_at, "running": self.running,
                               "success": self.success, "captureErrorBehaviour": self.capture_error_behaviour,
                               "errors": [e.binding_json() for e in self.errors],
                               "events": self.events, "capturedEvents": self.captured}
        if self.finished_at:
            out["finishedAt"] = self.finished_at
        if self.import_id:
            out["importID"] = self.import_id
        if self.pending:  # tracegraph's: events kept and waiting for what they refer to, never dropped
            out["pending"] = [{"type": p.label, "id": p.id, "missing": p.missing, "message": p.message}
                              for p in self.pending]
        return out

    @classmethod
    def from_props(cls, p: dict[str, Any]) -> CaptureJob:
        return cls(capture_id=p["id"], created_at=p["created_at"], finished_at=p.get("finished_at"),
                   running=bool(p.get("running")), success=bool(p.get("success")),
                   capture_error_behaviour=p.get("behaviour") or "rollback", events=int(p.get("events") or 0),
                   captured=int(p.get("captured") or 0), import_id=p.get("import_id"),
                   errors=[CaptureError(**e) for e in json.loads(p.get("errors_json") or "[]")],
                   pending=[PendingItem(**x) for x in json.loads(p.get("pending_json") or "[]")],
                   created_by=p.get("created_by") or "")


def events_of(doc: Any) -> tuple[list[dict[str, Any]], list[Any]]:
    """(events, @context) of an EPCISDocument, an EPCISQueryDocument, one bare event or a list of events."""
    if isinstance(doc, list):
        if not all(isinstance(e, dict) for e in doc):
            raise ValidationFailed("an event array must hold only event objects",
                                   [Problem(record="document", field="[]", value=None, message="not an object")])
        ctx = [c for e in doc for c in as_list(e.get("@context"))] or [DEFAULT_CONTEXT]
        return [{k: v for k, v in e.items() if k != "@context"} for e in doc], dedupe(ctx)
    if not isinstance(doc, dict):
        raise ValidationFailed("the body is not an EPCIS document or event",
                               [Problem(record="document", field="type", value=None, message="expected a JSON object")],
                               hint="send an EPCISDocument, an EPCISQueryDocument or one event")
    ctx = as_list(doc.get("@context")) or [DEFAULT_CONTEXT]
    if doc.get("type") == "EPCISDocument":
        return list((doc.get("epcisBody") or {}).get("eventList") or []), ctx
    if doc.get("type") == "EPCISQueryDocument":
        results = ((doc.get("epcisBody") or {}).get("queryResults") or {}).get("resultsBody") or {}
        return list(results.get("eventList") or []), ctx
    if str(doc.get("type", "")).endswith("Event"):
        return [{k: v for k, v in doc.items() if k != "@context"}], ctx
    raise ValidationFailed(f"unknown document type {doc.get('type')!r}",
                           [Problem(record="document", field="type", value=doc.get("type"),
                                    message="expected EPCISDocument, EPCISQueryDocument or an event type")],
                           hint="send an EPCISDocument, an EPCISQueryDocument or one event")


def as_list(v: Any) -> list[Any]:
    """A JSON value that may be one item or a list (`@context`), as a list."""
    return [] if v is None else list(v) if isinstance(v, list) else [v]


def dedupe(items: list[Any]) -> list[Any]:
    """`items` without repeats, in first-seen order (unhashable JSON values allowed)."""
    out: list[Any] = []
    for i in items:
        if i not in out:
            out.append(i)
    return out


def document(events: list[dict[str, Any]], context: list[Any], created: str) -> dict[str, Any]:
    """An EPCISDocument around `events` (what the importer reads)."""
    return {"@context": context, "type": "EPCISDocument", "schemaVersion": "2.0", "creationDate": created,
            "epcisBody": {"eventList": events}}


def _errors_of(exc: TracegraphError, index: int | None = None, event_id: str | None = None) -> list[CaptureError]:
    problems = getattr(exc, "problems", None) or []
    if not problems:
        return [CaptureError(event_index=index, event_id=event_id, message=str(exc))]
    return [CaptureError(event_index=index, event_id=event_id, field=p.field or None,
                         message=f"{p.record}: {p.message}" if p.record else p.message) for p in problems[:200]]


def _write(store: GraphStore, query: str, job: CaptureJob, actor: Actor, action: str, props: dict[str, Any],
           changes: list[Change], clock: Clock) -> None:
    spec = AuditSpec(action=action, target_label="CaptureJob", target_key=job.capture_id, changes=changes,
                     reason=f"EPCIS capture {job.capture_id}")
    audited_write(store, query, lambda: ({"id": job.capture_id, "props": props}, spec), actor, clock=clock)


def start_job(store: GraphStore, actor: Actor, events: int, behaviour: Behaviour, *,
              clock: Clock | None = None) -> CaptureJob:
    """Record a new, running capture job (audited) and return it."""
    clock = clock or SystemClock()
    now = iso(clock.now())
    job = CaptureJob(capture_id="cap-" + uuid.uuid4().hex[:16], created_at=now, capture_error_behaviour=behaviour,
                     events=events, created_by=actor.id)
    props = {"id": job.capture_id, "created_at": now, "updated_at": now, "running": True, "success": True,
             "behaviour": behaviour, "events": events, "captured": 0, "errors_json": "[]", "created_by": actor.id,
             "source": actor.id}
    _write(store, "epcis_rest.capture_job_create", job, actor, "epcis.capture.start", props,
           [Change("running", None, True), Change("events", None, events), Change("behaviour", None, behaviour)],
           clock)
    return job


def run_job(store: GraphStore, actor: Actor, job: CaptureJob, events: Iterable[Any], context: list[Any], *,
            clock: Clock | None = None) -> CaptureJob:
    """Capture `events` for `job` and record the outcome (audited). Never raises for bad events.

    `events` is read once, one event at a time (a list, or `CaptureBody.events()` of a spooled
    body, loaders/epcis_body.py): the events to import are written as one EPCISDocument to a
    temporary file, which the import reads as a stream (epcis_stream.py), so a capture is never
    held whole. The document is the one the capture was always imported as (`document`): the
    same checks, the same problems, all or nothing."""
    clock = clock or SystemClock()
    created = iso(clock.now())
    errors: list[CaptureError] = []
    captured_ids: list[str] = []
    captured, import_id = 0, None
    with tempfile.TemporaryDirectory(prefix="tracegraph-capture-") as tmp:
        path = Path(tmp) / "document"  # the name problems and the import run give it, as before
        good = 0
        with open(path, "w", encoding="utf-8") as out:
            head = json.dumps(document([], context, created), ensure_ascii=True)
            out.write(head[:head.rindex("[") + 1])  # ... "eventList": [
            for i, ev in enumerate(events):
                # an event without eventID gets one (from its content as sent, so a retried capture is
                # recognised), then the repository records when it captured it (EPCIS 2.0 recordTime)
                if isinstance(ev, dict):
                    ev = {**ev, "eventID": ev.get("eventID") or event_id(ev), "recordTime": ev.get("recordTime")
                          or created}
                if job.capture_error_behaviour == "proceed":
                    try:
                        load_document(document([ev], context, created), f"event {i}", store)
                    except TracegraphError as exc:
                        errors.extend(_errors_of(exc, i, ev.get("eventID") if isinstance(ev, dict) else None))
                        continue
                out.write(("," if good else "") + json.dumps(ev, ensure_ascii=True))
                good += 1
                if isinstance(ev, dict):
                    captured_ids.append(event_id(ev))
            out.write(head[head.rindex("[") + 1:])
        if good:
            try:
                res = _import_in_turn(store, path, actor, clock)
                captured, import_id, job.pending = res.events, res.import_id, res.pending
            except TracegraphError as exc:
                errors.extend(_errors_of(exc))
                captured, captured_ids = 0, []
    job.running, job.success, job.errors = False, not errors, errors
    job.captured, job.import_id, job.finished_at = captured, import_id, iso(clock.now())
    job.captured_ids = captured_ids
    props = {"running": False, "success": job.success, "captured": captured, "import_id": import_id,
             "finished_at": job.finished_at, "updated_at": job.finished_at,
             "errors_json": json.dumps([e.model_dump() for e in errors], sort_keys=True),
             "pending_json": json.dumps([p.model_dump() for p in job.pending], sort_keys=True)}
    _write(store, "epcis_rest.capture_job_finish", job, actor, "epcis.capture.finish", props,
           [Change("running", True, False), Change("success", True, job.success), Change("captured", 0, captured)],
           clock)
    if captured_ids:  # streaming subscriptions: queue their reports in the durable outbox
        from tracegraph.loaders.epcis_subscriptions import on_capture

        on_capture(store, actor, captured_ids, clock=clock)
    return job


#: how long a capture waits for an import of another process to end before it is refused
CAPTURE_WAIT_S = 60.0


def _import_in_turn(store: GraphStore, path: Path, actor: Actor, clock: Clock) -> Any:
    """import_epcis, waiting its turn: threads of this process queue in engine/imports/turns.py;
    while another PROCESS's import holds the lock (ImportBusy), try again with back-off for up to
    CAPTURE_WAIT_S; when another process created a node this capture mapped as new
    (ConstraintViolation while staging: the run was undone), map and write again. A packaging
    line's event is not refused because another line is capturing."""
    deadline = time.monotonic() + CAPTURE_WAIT_S
    delay, raced = 0.02, 0
    while True:
        try:
            return import_epcis(store, path, actor, clock=clock, source="document")
        except ImportBusy:
            if time.monotonic() + delay > deadline:
                raise
        except ConstraintViolation:
            # another process created a node this capture mapped as new, between the mapping and
            # the lock (its run was undone): map again against the graph as it is now, twice at most
            raced += 1
            if raced > 2:
                raise
        time.sleep(delay)
        delay = min(delay * 2, 1.0)


def get_job(store: GraphStore, capture_id: str) -> CaptureJob:
    rows = store.read("epcis_rest.capture_job", id=capture_id)
    if not rows:
        raise NotFound(f"no capture job {capture_id!r}", hint="GET /epcis/capture lists the capture jobs")
    return CaptureJob.from_props(rows[0]["job"])


def list_jobs(store: GraphStore, *, limit: int = 30, before: tuple[str, str] | None = None) -> list[CaptureJob]:
    rows = store.read("epcis_rest.capture_jobs", before_time=before[0] if before else None,
                      before_id=before[1] if before else None, limit=int(limit))
    return [CaptureJob.from_props(r["job"]) for r in rows]


__all__ = ["CaptureJob", "CaptureError", "Behaviour", "events_of", "as_list", "dedupe", "document", "start_job", "run_job", "get_job",
           "list_jobs"]
