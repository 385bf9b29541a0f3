"""`GET /export/epcis`: an EPCIS 2.0 JSON-LD document of everything, one batch, or a lot's trace."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from tracegraph.api.deps import P, get_store, requires
from tracegraph.engine.errors import ValidationFailed
from tracegraph.loaders.epcis_export import ExportScope, export_epcis

router = APIRouter(tags=["export"])

EPCIS_TYPE = "application/ld+json"


@router.get(
    "/export/epcis",
    summary="Export EPCIS 2.0 JSON-LD",
    response_class=JSONResponse,
    responses={200: {"content": {EPCIS_TYPE: {}}, "description": "an EPCISDocument"}},
)
async def export_epcis_route(
    request: Request,
    kind: Literal["all", "batch", "lot"] = Query("all", description="everything, one batch, or a lot's trace"),
    id: str | None = Query(None, min_length=1, max_length=500, description="the batch or lot id (kind batch/lot)"),
    actor: Any = requires(P.RECORDS_READ),
) -> JSONResponse:
    """The events about the scope as an EPCISDocument (schema-checked by the exporter)."""
    if kind != "all" and not id:
        raise ValidationFailed(f"export of a {kind} needs its id", hint=f"add ?id=<{kind} id>")
    scope = ExportScope(kind=kind, id=id)
    store = get_store(request)
    doc = await run_in_threadpool(lambda: export_epcis(store, scope))
    return JSONResponse(
        doc, media_type=EPCIS_TYPE,
        headers={"Content-Disposition": f'attachment; filename="epcis-{kind}{"-" + id if id else ""}.jsonld"'},
    )
