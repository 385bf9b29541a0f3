"""The audit trail over REST: verify the chain, read the log, prove one entry's inclusion,
list and create signed checkpoints. All calls go to engine.audit / audit_verify / checkpoints."""

from __future__ import annotations

import tempfile
from pathlib import Path as FsPath
from typing import Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from tracegraph.api.deps import P, get_settings, get_store, requires
from tracegraph.engine.audit import checkpoints
from tracegraph.engine.audit import review as rv
from tracegraph.engine.audit.chain import Actor, AuditEntryView, history
from tracegraph.engine.audit.checkpoints import CheckpointView
from tracegraph.engine.audit.verify import VerifyReport, verify

router = APIRouter(prefix="/audit", tags=["audit"])


@router.get("/verify", response_model=VerifyReport, summary="Verify the audit chain")
async def audit_verify(
    request: Request,
    from_seq: int = Query(1, ge=1, le=2**62, description="verify from this entry (incremental, trusting a checkpoint)"),
    check_state: bool = Query(True, description="also compare the latest changes with the records"),
    actor: Actor = requires(P.AUDIT_VERIFY),
) -> JSONResponse:
    """Recompute every hash from `from_seq` to the head; `ok` false names the first broken link."""
    store = get_store(request)
    rep = await run_in_threadpool(lambda: verify(store, from_seq=from_seq, check_state=check_state, actor=actor))
    return JSONResponse(rep.model_dump(mode="json"))


@router.get("/log", response_model=list[AuditEntryView], summary="Audit entries, newest first")
async def audit_log(
    request: Request,
    target: str | None = Query(None, max_length=500, description="record key (its signatures included)"),
    user: str | None = Query(None, max_length=200, description="user id of the actor"),
    since: str | None = Query(None, max_length=40, description="ISO time, inclusive"),
    until: str | None = Query(None, max_length=40, description="ISO time or date (its whole day), inclusive"),
    action: str | None = Query(None, max_length=100),
    limit: int = Query(100, ge=1, le=5000),
    actor: Actor = requires(P.AUDIT_READ),
) -> JSONResponse:
    """Who changed what, when and why (before/after per field)."""
    store = get_store(request)
    rows = await run_in_threadpool(
        lambda: history(store, target=target, actor=user, since=since, until=until, action=action, limit=limit)
    )
    return JSONResponse([r.model_dump(mode="json") for r in rows])


@router.get("/proof/{seq}", summary="Inclusion proof of one entry (RFC 6962 style)")
async def audit_proof(
    request: Request,
    seq: int = Path(..., ge=1, le=2**62),
    size: int | None = Query(None, ge=1, le=2**62, description="prove against the checkpoint of this size"),
    actor: Actor = requires(P.AUDIT_READ),
) -> JSONResponse:
    """The entry, its Merkle audit path and the signed checkpoint: verifiable offline with the public key."""
    store = get_store(request)
    proof = await run_in_threadpool(lambda: checkpoints.inclusion_proof(store, seq, size=size))
    return JSONResponse(proof)


@router.get("/checkpoints", response_model=list[CheckpointView], summary="Signed checkpoints, newest first")
async def audit_checkpoints(
    request: Request,
    limit: int = Query(100, ge=1, le=1000),
    actor: Actor = requires(P.AUDIT_READ),
) -> JSONResponse:
    store = get_store(request)
    rows = await run_in_threadpool(lambda: checkpoints.list_checkpoints(store, limit=limit))
    return JSONResponse([r.model_dump(mode="json") for r in rows])


@router.post("/checkpoints", response_model=CheckpointView, summary="Verify and sign a checkpoint now")
async def audit_checkpoint_create(request: Request, actor: Actor = requires(P.AUDIT_CHECKPOINT)) -> JSONResponse:
    """Verify the chain since the last checkpoint, then sign its head and Merkle root (audited)."""
    store = get_store(request)
    data_dir = get_settings(request).data_dir
    cp = await run_in_threadpool(lambda: checkpoints.create_checkpoint(store, data_dir, actor))
    return JSONResponse(cp.model_dump(mode="json"))


@router.get("/public-key", summary="The checkpoint signing public key (PEM)")
async def audit_public_key(request: Request, actor: Actor = requires(P.AUDIT_READ)) -> JSONResponse:
    """For offline verification of proofs and checkpoints."""
    data_dir = get_settings(request).data_dir
    pem = await run_in_threadpool(lambda: checkpoints.public_key_pem(data_dir))
    return JSONResponse({"pem": pem})


class ReviewSubmit(BaseModel):
    """Store a review of `review`'s period and sign it (meaning reviewed, 21 CFR 11.200)."""

    review: rv.ReviewRequest
    password: str = Field(min_length=1, max_length=1024, description="re-entered at signing")
    username: str | None = Field(None, max_length=200, description="your user id (first signing of a session)")
    reason: str = Field("", max_length=2000)


XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.get("/review", summary="Audit trail review of a period (Annex 11 §9), read only")
async def audit_review(
    request: Request,
    period_from: str = Query(..., alias="from", max_length=40, description="YYYY-MM-DD or ISO time with timezone"),
    period_to: str = Query(..., alias="to", max_length=40, description="end of the period (exclusive)"),
    user: str | None = Query(None, max_length=200),
    record_type: str | None = Query(None, max_length=100),
    action: str | None = Query(None, max_length=100),
    work_start: str = Query("07:00", max_length=8),
    work_end: str = Query("19:00", max_length=8),
    timezone: str | None = Query(None, max_length=64, description="default: the server's display timezone"),
    burst_count: int = Query(30, ge=1, le=100000),
    burst_minutes: float = Query(5.0, gt=0, le=10080),
    verify_chain: bool = Query(True),
    format: Literal["json", "xlsx", "pdf"] = Query("json"),
    actor: Actor = requires(P.AUDIT_REVIEW),
) -> Response:
    """The changes of the period with old/new values and reasons, and the exceptions the rules flag.
    Nothing is stored: POST /audit/reviews keeps and signs a review."""
    store = get_store(request)
    req = rv.parse_request({
        "period_from": period_from, "period_to": period_to, "user": user, "record_type": record_type,
        "action": action, "work_start": work_start, "work_end": work_end,
        "timezone": timezone or get_settings(request).timezone, "burst_count": burst_count,
        "burst_minutes": burst_minutes, "verify_chain": verify_chain,
    })
    rep = await run_in_threadpool(lambda: rv.build_review(store, req, actor))
    if format == "json":
        return JSONResponse(rep.model_dump(mode="json"))

    def render() -> bytes:
        from tracegraph.validation.review_files import write_pdf_review, write_xlsx_review

        with tempfile.TemporaryDirectory() as d:
            path = FsPath(d) / f"{rep.id}.{format}"
            (write_xlsx_review if format == "xlsx" else write_pdf_review)(rep, path)
            return path.read_bytes()

    body = await run_in_threadpool(render)
    return Response(body, media_type=XLSX_TYPE if format == "xlsx" else "application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{rep.id}.{format}"'})


@router.post("/reviews", summary="Store an audit trail review and sign it (meaning reviewed)")
async def audit_review_store(request: Request, body: ReviewSubmit, actor: Actor = requires(P.AUDIT_REVIEW)) -> JSONResponse:
    """Builds the review, keeps it as an AuditReview record (audited) and signs it with your password."""
    store = get_store(request)

    def run() -> dict[str, object]:
        rep = rv.build_review(store, body.review, actor)
        rv.store_review(store, rep, actor)
        sig = rv.sign_review(store, rep.id, actor, body.password, username=body.username, reason=body.reason)
        return {"review": rep.model_dump(mode="json"), "signature": sig.model_dump(mode="json")}

    return JSONResponse(await run_in_threadpool(run))
