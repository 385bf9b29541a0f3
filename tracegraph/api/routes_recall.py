"""Recalls over REST: list, read, decide (from an impact cause), approve (e-signed), start.
Every step is an engine command (engine/recall/campaign.py): audited, permission-checked there too."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from tracegraph.api.deps import P, get_settings, get_store, requires
from tracegraph.engine.audit.chain import Actor
from tracegraph.engine.errors import ValidationFailed
from tracegraph.engine.recall import campaign as rc
from tracegraph.engine.recall import steps
from tracegraph.engine.recall.inputs import (
    CustomerStepInput,
    EffectivenessInput,
    MilestoneInput,
    NotifyInput,
    ReturnInput,
)
from tracegraph.engine.recall.returns import ReturnResult, record_returns
from tracegraph.engine.recall.timeline import EffectivenessTimeline, effectiveness_timeline
from tracegraph.engine.trace.models import ImpactCause

router = APIRouter(prefix="/recalls", tags=["recalls"])
RecallId = Path(..., min_length=1, max_length=200)
CustomerId = Path(..., min_length=1, max_length=200)


class RecallRequest(BaseModel):
    decision: rc.RecallCreate
    cause: ImpactCause


class SignRequest(BaseModel):
    password: str = Field(min_length=1, max_length=1024, description="re-entered at signing (21 CFR 11.200)")
    reason: str = Field(min_length=1, max_length=2000)


@router.get("", response_model=list[rc.Recall], summary="Recalls, newest first")
async def recalls_list(
    request: Request,
    status: str | None = Query(None, max_length=40),
    drill: bool | None = None,
    limit: int = Query(200, ge=1, le=1000),
    actor: Actor = requires(P.RECALL_READ),
) -> JSONResponse:
    store = get_store(request)
    rows = await run_in_threadpool(lambda: rc.list_recalls(store, status=status, drill=drill, limit=limit))
    return JSONResponse([r.model_dump(mode="json") for r in rows])


@router.get("/{recall_id}", response_model=rc.Recall, summary="One recall")
async def recall_get(request: Request, recall_id: str = RecallId, actor: Actor = requires(P.RECALL_READ)) -> JSONResponse:
    store = get_store(request)
    rec = await run_in_threadpool(lambda: rc.get_recall(store, recall_id))
    out = rec.model_dump(mode="json")
    out["customers"] = [c.model_dump(mode="json") for c in await run_in_threadpool(lambda: rc.customers(store, recall_id))]
    return JSONResponse(out)


@router.get("/{recall_id}/effectiveness/timeline", response_model=EffectivenessTimeline,
            summary="Effectiveness over time (by event or by day)")
async def recall_effectiveness_timeline(
    request: Request, recall_id: str = RecallId,
    by: Literal["event", "day"] = Query("event", description="one point per event, or per calendar day in `tz`"),
    tz: str = Query("UTC", min_length=1, max_length=64, description="IANA time zone of the days"),
    actor: Actor = requires(P.RECALL_READ),
) -> JSONResponse:
    """The GraphQL `Recall.effectivenessTimeline`: an opening point at the decision, then the
    customers notified and acknowledged, units returned and accounted for and the effectiveness %
    after each event (or at the end of each day), with the target."""
    store = get_store(request)
    res = await run_in_threadpool(lambda: effectiveness_timeline(store, recall_id, by=by, tz=tz))
    return JSONResponse(res.model_dump(mode="json"))


@router.post("", response_model=rc.CreatedRecall, status_code=201, summary="Decide a recall")
async def recall_create(request: Request, body: RecallRequest, actor: Actor = requires(P.RECALL_CREATE)) -> JSONResponse:
    """Run the impact of `cause` and freeze the affected set with the decision (one audited statement)."""
    if body.cause.is_empty():
        raise ValidationFailed("the recall cause is empty", hint="give lots, batches, serials, supplier, ...")
    store = get_store(request)
    from tracegraph.engine.recall.inputs import require_users

    await run_in_threadpool(lambda: require_users(store, body.decision))
    res = await run_in_threadpool(lambda: rc.create_recall_from_cause(store, actor, body.decision, body.cause))
    return JSONResponse(res.model_dump(mode="json"), status_code=201)


@router.post("/{recall_id}/approve", response_model=rc.Recall, summary="Approve (e-signature)")
async def recall_approve(
    request: Request, body: SignRequest, recall_id: str = RecallId, actor: Actor = requires(P.RECALL_APPROVE)
) -> JSONResponse:
    store = get_store(request)
    rec = await run_in_threadpool(lambda: rc.approve(store, actor, recall_id, password=body.password, reason=body.reason))
    return JSONResponse(rec.model_dump(mode="json"))


@router.post("/{recall_id}/start", response_model=rc.Recall, summary="Initiate the field action")
async def recall_start(request: Request, recall_id: str = RecallId, actor: Actor = requires(P.RECALL_CREATE)) -> JSONResponse:
    store = get_store(request)
    rec = await run_in_threadpool(lambda: rc.start(store, actor, recall_id))
    return JSONResponse(rec.model_dump(mode="json"))


@router.post("/{recall_id}/customers/{customer_id}/steps", response_model=rc.RecallCustomer,
             summary="Record a customer's notification step (sent, delivered, bounced, acknowledged, stock count)")
async def recall_customer_step(
    request: Request, body: CustomerStepInput, recall_id: str = RecallId, customer_id: str = CustomerId,
    actor: Actor = requires(P.RECALL_CREATE),
) -> JSONResponse:
    """Like `tracegraph recall ack`: the same input model (stock >= 0, a time with a timezone)."""
    from tracegraph.engine.recall.notify import update_customer

    store = get_store(request)
    c = await run_in_threadpool(lambda: update_customer(
        store, actor, recall_id, customer_id, body.step, by=body.by, stock_count=body.stock_count,
        channel=body.channel, at=body.at, note=body.note))
    return JSONResponse(c.model_dump(mode="json"))


@router.post("/{recall_id}/customers/{customer_id}/returns", response_model=ReturnResult, status_code=201,
             summary="Account for a customer's units (scanned returns, destroyed, corrected, not found)")
async def recall_returns(
    request: Request, body: ReturnInput, recall_id: str = RecallId, customer_id: str = CustomerId,
    actor: Actor = requires(P.RECALL_CREATE),
) -> JSONResponse:
    """Like `tracegraph recall return`: units another customer held need `transfer: true`; more
    units than the customer can account for are refused."""
    store = get_store(request)
    res = await run_in_threadpool(lambda: record_returns(
        store, actor, recall_id, customer_id, body.disposition, scans=body.scans, qty=body.qty, note=body.note,
        transfer=body.transfer))
    return JSONResponse(res.model_dump(mode="json"), status_code=201)


@router.post("/{recall_id}/notify", summary="Generate the notices (letters, customer list, unit sheet); mark them sent")
async def recall_notify(request: Request, body: NotifyInput, recall_id: str = RecallId,
                        actor: Actor = requires(P.RECALL_CREATE)) -> JSONResponse:
    store, data_dir = get_store(request), get_settings(request).data_dir
    return JSONResponse(await run_in_threadpool(lambda: steps.notify(store, actor, recall_id, body, data_dir)))


@router.post("/{recall_id}/milestones", response_model=rc.Recall, summary="Record a regulatory submission")
async def recall_milestone(request: Request, body: MilestoneInput, recall_id: str = RecallId,
                           actor: Actor = requires(P.RECALL_CREATE)) -> JSONResponse:
    store = get_store(request)
    rec = await run_in_threadpool(lambda: steps.milestone(store, actor, recall_id, body))
    return JSONResponse(rec.model_dump(mode="json"))


@router.post("/{recall_id}/effectiveness", summary="Record the effectiveness check")
async def recall_effectiveness(request: Request, body: EffectivenessInput, recall_id: str = RecallId,
                               actor: Actor = requires(P.RECALL_CREATE)) -> JSONResponse:
    store = get_store(request)
    return JSONResponse(await run_in_threadpool(lambda: steps.effectiveness_check(store, actor, recall_id, body)))


@router.post("/{recall_id}/quarantine", summary="Quarantine covered units and batches still in our stock")
async def recall_quarantine(request: Request, recall_id: str = RecallId,
                            actor: Actor = requires(P.RECALL_CREATE)) -> JSONResponse:
    store = get_store(request)
    return JSONResponse(await run_in_threadpool(lambda: steps.quarantine_stock(store, actor, recall_id)))
