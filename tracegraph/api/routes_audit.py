"""The audit trail over REST: verify the chain, read the log, prove one entry's inclusion,
list and create signed checkpoints. All calls go to engine.audit / audit_verify / checkpoints."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from tracegraph.api.deps import P, get_settings, get_store, requires
from tracegraph.engine import checkpoints
from tracegraph.engine.audit import Actor, AuditEntryView, history
from tracegraph.engine.audit_verify import VerifyReport, verify
from tracegraph.engine.checkpoints import CheckpointView

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
