"""`POST /imports`: upload an ERP bundle (.zip of CSV/JSONL files) or an EPCIS 2.0 JSON(-LD)
document. The loaders validate everything first and write all or nothing: a broken upload
answers 422 with every problem (file, row, field, value, message) and changes nothing.
`GET /imports` lists recent imports. Uploads are bounded by `max_upload_mb` (413 beyond)."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Literal

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from tracegraph.api.deps import P, get_store, requires
from tracegraph.engine.audit.chain import Actor
from tracegraph.engine.errors import Problem, ValidationFailed
from tracegraph.engine.imports.runner import ImportRunInfo, list_imports, run_import
from tracegraph.loaders.bundle import load_bundle
from tracegraph.loaders.epcis import import_epcis

router = APIRouter(tags=["imports"])


class ImportResponse(BaseModel):
    kind: Literal["bundle", "epcis"]
    dry_run: bool
    report: dict[str, Any] = Field(description="ImportReport (bundle) or EpcisImportResult (EPCIS)")
    notes: list[str] = Field(default_factory=list)


def _sniff(path: Path, filename: str) -> str:
    with open(path, "rb") as fh:
        head = fh.read(64)
    if head.startswith(b"PK\x03\x04"):
        return "bundle"
    if head.lstrip()[:1] in (b"{", b"["):
        return "epcis"
    if head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"<":
        return "epcis-xml"
    raise ValidationFailed(
        f"{filename!r} is neither a bundle (.zip) nor an EPCIS JSON or XML document",
        [Problem(record="upload", field="file", source=filename, message="unrecognised file type")],
        hint="upload a .zip of bundle CSV/JSONL files (docs/bundle.md) or an EPCIS 2.0 JSON-LD document",
    )


def _do_import(path: Path, filename: str, actor: Actor, store: Any, dry_run: bool) -> ImportResponse:
    kind = _sniff(path, filename)
    if kind == "bundle":
        bundle = load_bundle(path)
        rep = run_import(store, bundle.batch, actor, source_files=bundle.files, dry_run=dry_run)
        return ImportResponse(kind="bundle", dry_run=dry_run, report=rep.model_dump(mode="json"), notes=bundle.notes)
    # EPCIS JSON-LD or 1.2 / 2.0 XML: read from the spooled upload as a stream (loaders/epcis_stream.py),
    # one event at a time, never parsed whole in memory; the run records the upload's SHA-256
    try:
        res = import_epcis(store, path, actor, dry_run=dry_run, source=filename)
    except ValidationFailed as exc:
        syntax = [p for p in exc.problems if p.field == "json"] if kind == "epcis" else []
        if syntax and "is not valid JSON" in exc.message:
            detail = exc.message.split("is not valid JSON: ", 1)[-1]
            raise ValidationFailed(
                f"{filename!r} is not valid JSON: {detail}",
                [Problem(record="upload", field="file", source=filename, message=detail)],
            ) from None
        raise
    return ImportResponse(kind="epcis", dry_run=dry_run, report=res.model_dump(mode="json"))


@router.post(
    "/imports",
    response_model=ImportResponse,
    summary="Import a bundle or an EPCIS document (all or nothing)",
    responses={
        413: {"description": "the upload is larger than max_upload_mb"},
        422: {"description": "validation failed: every problem, nothing written"},
    },
)
async def create_import(
    request: Request,
    file: UploadFile = File(..., description=".zip bundle or EPCIS 2.0 JSON(-LD)"),
    dry_run: bool = Form(False, description="validate and report what would change; write nothing"),
    actor: Actor = requires(P.IMPORT_WRITE),
) -> ImportResponse:
    """Validate the whole upload, then write it all or nothing (audited per chunk)."""
    name = os.path.basename(file.filename or "upload")
    tmpdir = Path(tempfile.mkdtemp(prefix="tracegraph-upload-"))
    path = tmpdir / (name or "upload")
    try:
        with open(path, "wb") as out:
            while chunk := await file.read(1 << 20):
                out.write(chunk)
        store = get_store(request)
        return await run_in_threadpool(_do_import, path, name, actor, store, dry_run)
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)


@router.get("/imports", response_model=list[ImportRunInfo], summary="Recent imports")
async def imports_list(
    request: Request,
    limit: int = Query(50, ge=1, le=500),
    actor: Actor = requires(P.RECORDS_READ),
) -> list[ImportRunInfo]:
    """The most recent import runs with their status, files (SHA-256) and counts."""
    store = get_store(request)
    return await run_in_threadpool(lambda: list_imports(store, limit=limit))
