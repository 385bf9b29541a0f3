"""Quality records (QMS) over REST: list, read, open, take a lifecycle step, the batch release
checklist and the open-items dashboard. Every call goes through the QMS engine
(`tracegraph.engine.qms`), which checks the type's own permission and audits each write; the
route permission here is the coarse gate the role x route matrix tests (the least permission any
record type needs for that kind of call), so a role that can never do it is refused early.

Signed steps take the password in the body (21 CFR 11.200). A refused password is answered 403
`signature_refused`, not 401: the bearer token is fine, and a 401 would make clients drop it.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from tracegraph.api.deps import P, get_store, requires
from tracegraph.doors.names import OPEN_GATE, STEP_GATE
from tracegraph.engine.audit.chain import Actor
from tracegraph.engine.qms import QualityRecord, get_record, list_records, open_record, record_type
from tracegraph.engine.qms.insights import OpenItems, open_items
from tracegraph.engine.qms.release import ReleaseChecklist, release_checklist
from tracegraph.engine.qms.steps import take_step

router = APIRouter(prefix="/qms", tags=["qms"])

TypePath = Path(..., min_length=1, max_length=40, description="record type: complaint, deviation, capa, "
                "change-control, document, release, training, calibration, supplier, inspection")
IdPath = Path(..., min_length=1, max_length=200)


class OpenRequest(BaseModel):
    fields: dict[str, Any] = Field(default_factory=dict, description="what is entered at opening (the type's fields)")
    about: dict[str, list[str]] = Field(default_factory=dict, description='what it concerns: {"Serial": ["S-1"]}')
    addresses: dict[str, list[str]] = Field(default_factory=dict, description='what it addresses: {"Complaint": [...]}')
    reason: str = Field("", max_length=2000)


class StepRequest(BaseModel):
    fields: dict[str, Any] = Field(default_factory=dict, description="the fields this step needs or updates")
    reason: str = Field("", max_length=2000)
    password: str | None = Field(None, max_length=1024, description="signed steps: re-entered password (11.200)")
    username: str | None = Field(None, max_length=200, description="signed steps: your user id (default: the caller)")


def record_json(kind: str, rec: QualityRecord) -> dict[str, Any]:
    return {"type": kind, **rec.model_dump(mode="json")}


@router.get("/open-items", response_model=OpenItems, summary="Open quality records by type, owner, age; overdue")
async def qms_open_items(request: Request, alert_days: int = Query(7, ge=0, le=3650),
                         actor: Actor = requires(P.QMS_READ)) -> JSONResponse:
    store = get_store(request)
    res = await run_in_threadpool(lambda: open_items(store, actor, alert_days=alert_days))
    return JSONResponse(res.model_dump(mode="json"))


@router.get("/checklist/{batch}", response_model=ReleaseChecklist, summary="Batch release checklist")
async def qms_checklist(request: Request, batch: str = Path(..., min_length=1, max_length=200),
                        actor: Actor = requires(P.QMS_READ)) -> JSONResponse:
    """Each release condition (inspections, deviations, calibration, training, batch status), whether it holds, why."""
    store = get_store(request)
    res = await run_in_threadpool(lambda: release_checklist(store, batch, actor))
    return JSONResponse(res.model_dump(mode="json"))


@router.get("/{kind}", response_model=list[QualityRecord], summary="Quality records of one type")
async def qms_list(request: Request, kind: str = TypePath, status: str | None = Query(None, max_length=40),
                   limit: int = Query(50, ge=1, le=1000),
                   after: str | None = Query(None, max_length=200, description="the last id of the previous page"),
                   actor: Actor = requires(P.QMS_READ)) -> JSONResponse:
    """Newest id first; page with `after` = the last id received."""
    store = get_store(request)
    rows = await run_in_threadpool(lambda: list_records(store, record_type(kind), actor, status=status, after=after,
                                                        limit=limit))
    return JSONResponse([record_json(kind, r) for r in rows])


@router.get("/{kind}/{key}", response_model=QualityRecord, summary="One quality record")
async def qms_get(request: Request, kind: str = TypePath, key: str = IdPath,
                  actor: Actor = requires(P.QMS_READ)) -> JSONResponse:
    """The record with what it concerns, what addresses it, signatures (with validity), flags and next steps."""
    store = get_store(request)
    rec = await run_in_threadpool(lambda: get_record(store, record_type(kind), key, actor))
    return JSONResponse(record_json(kind, rec))


@router.post("/{kind}", response_model=QualityRecord, status_code=201, summary="Open a quality record")
async def qms_open(request: Request, body: OpenRequest, kind: str = TypePath,
                   actor: Actor = requires(OPEN_GATE)) -> JSONResponse:
    """One audited statement: the record, its ABOUT/ADDRESSES links and the audit entry."""
    store = get_store(request)
    rec = await run_in_threadpool(lambda: open_record(store, record_type(kind), actor, body.fields, about=body.about,
                                                      addresses=body.addresses, reason=body.reason))
    return JSONResponse(record_json(kind, rec), status_code=201)


@router.post("/{kind}/{key}/steps/{step}", response_model=QualityRecord, summary="Take a lifecycle step")
async def qms_step(request: Request, body: StepRequest, kind: str = TypePath, key: str = IdPath,
                   step: str = Path(..., min_length=1, max_length=60), actor: Actor = requires(STEP_GATE)) -> JSONResponse:
    """Guarded by the current status (compare-and-set); signed steps re-authenticate with `password`."""
    store = get_store(request)
    rec = await run_in_threadpool(lambda: take_step(store, actor, kind, key, step, fields=body.fields,
                                                    reason=body.reason, password=body.password,
                                                    username=body.username))
    return JSONResponse(record_json(kind, rec))
