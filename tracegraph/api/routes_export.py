"""`GET /export/epcis`: an EPCIS 2.0 JSON-LD document of everything, one batch, or a lot's trace."""

from __future__ import annotations

import re
from typing import Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from tracegraph.api.deps import P, get_store, requires
from tracegraph.engine.errors import ValidationFailed
from tracegraph.loaders.epcis_export import ExportScope, export_epcis

router = APIRouter(tags=["export"])

EPCIS_TYPE = "application/ld+json"
XML_TYPE = "application/xml"


@router.get(
    "/export/epcis",
    summary="Export EPCIS 2.0 JSON-LD",
    response_class=JSONResponse,
    responses={200: {"content": {EPCIS_TYPE: {}, XML_TYPE: {}}, "description": "an EPCISDocument (JSON-LD or XML)"}},
)
async def export_epcis_route(
    request: Request,
    kind: Literal["all", "batch", "lot"] = Query("all", description="everything, one batch, or a lot's trace"),
    id: str | None = Query(None, min_length=1, max_length=500, description="the batch or lot id (kind batch/lot)"),
    format: Literal["jsonld", "xml", "xml-1.2"] | None = Query(
        None, description="jsonld, xml (EPCIS 2.0 XML) or xml-1.2; default from Accept (application/xml -> xml)"),
    actor: Any = requires(P.RECORDS_READ),
) -> Response:
    """The events about the scope as an EPCISDocument: JSON-LD (JSON Schema checked) or EPCIS
    2.0 / 1.2 XML (XSD checked)."""
    if kind != "all" and not id:
        raise ValidationFailed(f"export of a {kind} needs its id", hint=f"add ?id=<{kind} id>")
    scope = ExportScope(kind=kind, id=id)
    store = get_store(request)
    accept = request.headers.get("accept", "")
    fmt = format or ("xml" if ("application/xml" in accept or "text/xml" in accept)
                     and "application/ld+json" not in accept else "jsonld")
    doc = await run_in_threadpool(lambda: export_epcis(store, scope))
    if fmt != "jsonld":
        from tracegraph.loaders.epcis_xml_out import document_to_xml

        body = await run_in_threadpool(lambda: document_to_xml(doc, "1.2" if fmt == "xml-1.2" else "2.0"))
        return Response(body, media_type=XML_TYPE, headers={"Content-Disposition": _disposition(kind, id, ".xml")})
    return JSONResponse(doc, media_type=EPCIS_TYPE, headers={"Content-Disposition": _disposition(kind, id)})


def _disposition(kind: str, id: str | None, suffix: str = ".jsonld") -> str:
    """The download name. Why: HTTP headers are latin-1; an id with other characters (or quotes)
    in a plain `filename=` made the server fail with 500 (schemathesis, issue 14). An ASCII name
    with the id's safe characters, plus the exact name in RFC 6266 / 5987 `filename*`."""
    name = f"epcis-{kind}{'-' + id if id and kind != 'all' else ''}{suffix}"
    ascii_name = re.sub(r"[^A-Za-z0-9._-]", "_", name)
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"
