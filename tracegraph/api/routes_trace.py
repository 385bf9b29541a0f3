"""REST for traces, impact and scanning: thin calls into engine.trace / engine.impact / engine.scan.

`GET /impact` takes the CLI's options as query parameters and answers JSON (the engine's
`ImpactResult.model_dump()` contract), CSV or XLSX (the regulator spreadsheet) by `format=`
or the `Accept` header.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import pydantic
from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from tracegraph.api.deps import P, get_store, requires
from tracegraph.engine.errors import ValidationFailed
from tracegraph.engine.inputs import invalid
from tracegraph.engine.trace import regulator_sheet
from tracegraph.engine.trace.backward import backward_trace
from tracegraph.engine.trace.cause_flags import REST_NAMES, cause_from_flags
from tracegraph.engine.trace.impact import forward_trace, impact
from tracegraph.engine.trace.models import BackwardResult, ImpactOptions, ImpactResult
from tracegraph.engine.trace.scan import ScanReport, scan

router = APIRouter(tags=["trace"])

CSV_TYPE = "text/csv"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
KeyPath = Annotated[str, Path(min_length=1, max_length=500, description="serial, batch or lot key, or a scanned code")]


def _invalid(exc: pydantic.ValidationError, what: str) -> ValidationFailed:
    return invalid(exc, what, record="query")


@router.get("/trace/back/{key}", response_model=BackwardResult, summary="Backward trace (upstream)")
async def trace_back(
    request: Request,
    key: KeyPath,
    sibling_limit: int = Query(100, ge=0, le=10_000, description="list at most this many sibling units per batch"),
    actor: Any = requires(P.TRACE_READ),
) -> Any:
    """Everything a unit, batch or lot came from: batches, lots, suppliers, equipment, documents."""
    store = get_store(request)
    res = await run_in_threadpool(lambda: backward_trace(store, key, sibling_limit=sibling_limit))
    return JSONResponse(res.model_dump(mode="json"))


def _options(
    as_of: str | None, max_depth: int | None, edge: list[str], exclude_returned: bool, no_paths: bool,
    serial_limit: int | None,
) -> ImpactOptions:
    try:
        return ImpactOptions(
            as_of=as_of, max_depth=max_depth, edge_types=edge or None, include_returned=not exclude_returned,
            include_paths=not no_paths, serial_limit=serial_limit,
        )
    except pydantic.ValidationError as exc:
        raise _invalid(exc, "impact options") from None


@router.get("/trace/forward/{key}", response_model=ImpactResult, summary="Forward trace (downstream)")
async def trace_forward(
    request: Request,
    key: KeyPath,
    as_of: str | None = Query(None, max_length=40, description="classify units as of this date (YYYY-MM-DD)"),
    max_depth: int | None = Query(None, ge=0, le=1000),
    edge: list[str] = Query([], description="only follow these edge types"),
    exclude_returned: bool = False,
    no_paths: bool = False,
    serial_limit: int | None = Query(None, ge=0),
    actor: Any = requires(P.IMPACT_READ),
) -> Any:
    """Everything downstream of a unit, batch or lot, and where the units are now."""
    opts = _options(as_of, max_depth, edge, exclude_returned, no_paths, serial_limit)
    store = get_store(request)
    res = await run_in_threadpool(lambda: forward_trace(store, key, **opts.model_dump(exclude_defaults=True)))
    return JSONResponse(res.model_dump(mode="json"))


def _render(result: ImpactResult, fmt: str) -> Response:
    if fmt == "json":
        return JSONResponse(result.model_dump(mode="json"))
    body = regulator_sheet.render(result, fmt)  # type: ignore[arg-type]
    return Response(
        body,
        media_type=regulator_sheet.MEDIA_TYPES[fmt],
        headers={"Content-Disposition": f'attachment; filename="impact.{fmt}"'},
    )


def _negotiate(fmt: str | None, accept: str) -> str:
    if fmt:
        return fmt
    accept = accept.lower()
    if XLSX_TYPE in accept or "spreadsheetml" in accept:
        return "xlsx"
    if CSV_TYPE in accept:
        return "csv"
    return "json"


@router.get(
    "/impact",
    response_model=ImpactResult,
    summary="Impact analysis",
    responses={200: {"content": {CSV_TYPE: {}, XLSX_TYPE: {}}, "description": "JSON, CSV or XLSX"}},
)
async def impact_route(
    request: Request,
    lot: list[str] = Query([], description="a suspect material lot (repeatable)"),
    supplier: str | None = Query(None, max_length=200, description="every lot this supplier delivered"),
    received_from: str | None = Query(None, max_length=40, description="supplier receipt window start"),
    received_to: str | None = Query(None, max_length=40, description="supplier receipt window end (a date: whole day)"),
    equipment: str | None = Query(None, max_length=200, description="batches processed on this equipment"),
    used_from: str | None = Query(None, max_length=40, description="equipment usage window start"),
    used_to: str | None = Query(None, max_length=40, description="equipment usage window end (a date: whole day)"),
    date_from: str | None = Query(None, alias="from", max_length=40, description="short for received_from with a "
                                  "supplier or used_from with equipment; refused with both or neither"),
    date_to: str | None = Query(None, alias="to", max_length=40, description="short for received_to / used_to"),
    batch: list[str] = Query([], description="a suspect batch (repeatable)"),
    document: str | None = Query(None, max_length=200, description="a document version DOCID@VERSION"),
    serial_range: str | None = Query(None, max_length=200, description="GTIN:FROM-TO (or BATCH:FROM-TO)"),
    serial: list[str] = Query([], description="a suspect unit (repeatable)"),
    as_of: str | None = Query(None, max_length=40),
    max_depth: int | None = Query(None, ge=0, le=1000),
    edge: list[str] = Query([]),
    exclude_returned: bool = False,
    no_paths: bool = False,
    serial_limit: int | None = Query(None, ge=0),
    format: Literal["json", "csv", "xlsx"] | None = Query(None, description="default: by the Accept header, else JSON"),
    actor: Any = requires(P.IMPACT_READ),
) -> Response:
    """Which batches, units and customers a cause reached and where the units are (like `tracegraph impact`)."""
    cause = cause_from_flags(
        lots=lot, batches=batch, serials=serial, supplier=supplier, equipment=equipment, document=document,
        serial_range=serial_range, received_from=received_from, received_to=received_to, used_from=used_from,
        used_to=used_to, date_from=date_from, date_to=date_to, names=REST_NAMES, record="query",
    )
    opts = _options(as_of, max_depth, edge, exclude_returned, no_paths, serial_limit)
    fmt = _negotiate(format, request.headers.get("accept", ""))
    if fmt != "json":  # the sheet's key data elements need each unit's shipment history
        opts = regulator_sheet.sheet_options(opts)
    store = get_store(request)
    res = await run_in_threadpool(lambda: impact(store, cause, opts))
    return await run_in_threadpool(_render, res, fmt)


@router.get("/scan", response_model=ScanReport, summary="Resolve a scanned code")
async def scan_route(
    request: Request,
    code: str = Query(..., min_length=1, max_length=500, description="GS1 barcode, UDI, EPC URI or a key"),
    actor: Any = requires(P.TRACE_READ),
) -> Any:
    """What a barcode / UDI / EPC names, where it is now, and how much is upstream."""
    store = get_store(request)
    res = await run_in_threadpool(lambda: scan(store, code))
    return JSONResponse(res.model_dump(mode="json"))
