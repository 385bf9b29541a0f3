"""The GS1 EPCIS 2.0 REST binding under `/epcis` (GS1's openapi.yaml): capture, events, the
top-level resources, discovery headers.

- `POST /epcis/capture` (an EPCISDocument, an EPCISQueryDocument, one event or an event array):
  202 with `Location: /epcis/capture/{captureID}`; `GS1-Capture-Error-Behaviour: rollback|proceed`;
  `GS1-EPCIS-Capture-Limit` events and `GS1-EPCIS-Capture-File-Size-Limit` bytes, 413 beyond.
  `GET /epcis/capture[/{captureID}]`: the capture jobs. `POST /epcis/events`: one event,
  synchronously, 201 with `Location: /epcis/events/{eventID}`.
- `GET /epcis/events` with the SimpleEventQuery parameters (loaders/epcis_query.py), paged with
  `perPage`/`nextPageToken` and a `Link: <...>; rel="next"` header; `GET /epcis/events/{eventID}`;
  `/eventTypes`, `/bizSteps`, `/dispositions`, `/readPoints`, `/bizLocations`, `/epcs`, each with
  `/{id}/events`. Answers are JSON-LD (`application/ld+json` or `application/json`); other `Accept`
  types are refused with 406.
- `/epcis/queries` (named queries) and `/epcis/queries/{name}/subscriptions` (webhooks, streaming or
  scheduled, signed with `GS1-Signature`, sent from a durable outbox: loaders/epcis_subscriptions.py).
- Every answer carries `GS1-EPCIS-Version` and `GS1-CBV-Version`; `OPTIONS` on every resource
  answers 204 with `Allow` and the discovery headers.

Permissions: capture needs `epcis.capture` (held by the `capture_device` role, which can do
nothing else, and by the roles that may import); queries need `trace.read`. Refusals use
tracegraph's one error shape (`{"error": {...}}`), not RFC 7807; docs/epcis.md says where
tracegraph differs from the binding.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path as FilePath
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, BackgroundTasks, Path, Query, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from tracegraph.api.deps import get_settings, get_store, requires
from tracegraph.doors.names import P
from tracegraph.engine.access.actor import Actor
from tracegraph.engine.errors import NotAcceptable, NotFound, PayloadTooLarge, Problem, ValidationFailed
from tracegraph.loaders import epcis_capture as cap
from tracegraph.loaders import epcis_query as eq
from tracegraph.loaders import epcis_subscriptions as subs
from tracegraph.loaders.epcis_body import CaptureBody, read_body

router = APIRouter(prefix="/epcis", tags=["epcis"])

EPCIS_VERSION = "2.0.0"
CBV_VERSION = "2.0.0"
CAPTURE_LIMIT = 10_000
JSON_TYPES = ("application/ld+json", "application/json")
XML_TYPES = ("application/xml", "text/xml")
VERSION_HEADERS = {"GS1-EPCIS-Version": EPCIS_VERSION, "GS1-CBV-Version": CBV_VERSION,
                   "GS1-EPCIS-Min": EPCIS_VERSION, "GS1-EPCIS-Max": EPCIS_VERSION,
                   "GS1-CBV-Min": CBV_VERSION, "GS1-CBV-Max": CBV_VERSION, "GS1-Extensions": ""}


def _file_limit(request: Request) -> int:
    return int(get_settings(request).max_upload_mb * 1_048_576)


def _negotiate(request: Request) -> str:
    """The JSON-LD media type to answer with, or a 406 refusal naming what is offered."""
    accept = request.headers.get("accept", "*/*")
    for part in accept.split(","):
        media = part.split(";")[0].strip().lower()
        if media in JSON_TYPES:
            return media
        if media in ("*/*", "application/*"):
            return "application/ld+json"
    raise NotAcceptable(f"cannot answer with {accept!r}", hint="Accept: application/ld+json or application/json")


def _check_versions(request: Request) -> None:
    asked = request.headers.get("gs1-epcis-version")
    if asked and not asked.startswith("2."):
        raise ValidationFailed(f"GS1-EPCIS-Version {asked!r} is not supported",
                               [Problem(record="header", field="GS1-EPCIS-Version", value=asked,
                                        message="this repository speaks EPCIS 2.0")],
                               hint=f"send GS1-EPCIS-Version: {EPCIS_VERSION}")


def _json(body: Any, status: int = 200, media: str = "application/ld+json",
          headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(body, status_code=status, media_type=media, headers={**VERSION_HEADERS, **(headers or {})})


def _options(allow: str, **extra: str) -> Response:
    return Response(status_code=204, headers={**VERSION_HEADERS, "Allow": allow, **extra})


# -- capture ---------------------------------------------------------------------------------


async def _capture_body(request: Request) -> CaptureBody:
    """The body spooled to a temporary file (413 past the file size limit), then read as a
    stream for its shape, event count and @context (loaders/epcis_body.py): the events are read
    from the file one at a time by the job. The caller closes it (`_discard`)."""
    ctype = request.headers.get("content-type", "application/json").split(";")[0].strip().lower()
    if ctype not in JSON_TYPES + XML_TYPES:
        raise ValidationFailed(f"Content-Type {ctype!r} is not accepted for capture",
                               [Problem(record="header", field="Content-Type", value=ctype,
                                        message="expected application/ld+json, application/json or application/xml")],
                               hint="send the document as JSON-LD or EPCIS XML")
    limit = _file_limit(request)
    tmp = FilePath(tempfile.mkdtemp(prefix="tracegraph-capture-body-"))
    path = tmp / "capture"
    try:
        size = 0
        with open(path, "wb") as out:
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    raise PayloadTooLarge(f"the capture is more than {limit} bytes; this repository takes at most "
                                          f"{limit}", hint="split the document into several captures")
                out.write(chunk)
        return await run_in_threadpool(read_body, path, "xml" if ctype in XML_TYPES else "json")
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


async def _body(request: Request) -> Any:
    """A body read whole: named queries and subscriptions (small); captures are spooled (`_capture_body`)."""
    raw = await request.body()
    if len(raw) > _file_limit(request):
        raise PayloadTooLarge(f"the capture is {len(raw)} bytes; this repository takes at most {_file_limit(request)}",
                        hint="split the document into several captures")
    ctype = request.headers.get("content-type", "application/json").split(";")[0].strip().lower()
    if ctype in XML_TYPES:  # EPCIS 1.2 / 2.0 XML: XSD-checked, converted to the JSON-LD form
        from tracegraph.loaders.epcis_xml import read_xml

        return await run_in_threadpool(read_xml, raw, "capture")
    if ctype not in JSON_TYPES:
        raise ValidationFailed(f"Content-Type {ctype!r} is not accepted for capture",
                               [Problem(record="header", field="Content-Type", value=ctype,
                                        message="expected application/ld+json, application/json or application/xml")],
                               hint="send the document as JSON-LD or EPCIS XML")
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValidationFailed("the body is not JSON",
                               [Problem(record="document", field="body", value=None, message=str(exc)[:200])],
                               hint="send an EPCIS 2.0 JSON-LD document") from None


def _discard(body: CaptureBody) -> None:
    """The spooled body's files go (after the job, or when the route refuses it)."""
    body.close()
    shutil.rmtree(body.path.parent, ignore_errors=True)


def _run_and_discard(store: Any, actor: Actor, job: cap.CaptureJob, body: CaptureBody) -> None:
    try:
        cap.run_job(store, actor, job, body.events(), body.context)
    finally:
        _discard(body)


def _behaviour(request: Request) -> cap.Behaviour:
    raw = (request.headers.get("gs1-capture-error-behaviour") or "rollback").strip().lower()
    if raw not in ("rollback", "proceed"):
        raise ValidationFailed(f"GS1-Capture-Error-Behaviour {raw!r} is not supported",
                               [Problem(record="header", field="GS1-Capture-Error-Behaviour", value=raw,
                                        message="rollback or proceed")],
                               hint="GS1-Capture-Error-Behaviour: rollback (all or nothing) or proceed")
    return raw  # type: ignore[return-value]


CAPTURE_DISCOVERY = {"GS1-EPCIS-Capture-Limit": str(CAPTURE_LIMIT), "GS1-Capture-Error-Behaviour": "rollback, proceed"}


@router.options("/capture", summary="Discover the capture interface", dependencies=[requires(P.EPCIS_CAPTURE)])
async def capture_options(request: Request) -> Response:
    return _options("OPTIONS, GET, POST", **CAPTURE_DISCOVERY,
                    **{"GS1-EPCIS-Capture-File-Size-Limit": str(_file_limit(request))})


@router.post("/capture", status_code=202, summary="Capture one or more EPCIS events (asynchronous job)")
async def capture(request: Request, background: BackgroundTasks,
                  actor: Actor = requires(P.EPCIS_CAPTURE)) -> Response:
    _check_versions(request)
    behaviour = _behaviour(request)
    body = await _capture_body(request)
    try:
        if not body.count:
            raise ValidationFailed("the document holds no events",
                                   [Problem(record="document", field="epcisBody.eventList", value=None,
                                            message="empty")], hint="send at least one event")
        if body.count > CAPTURE_LIMIT:
            raise PayloadTooLarge(f"the capture holds {body.count} events; this repository takes at most "
                                  f"{CAPTURE_LIMIT}", hint="split the document into several captures "
                                  "(GS1-EPCIS-Capture-Limit)")
        store = get_store(request)
        job = await run_in_threadpool(cap.start_job, store, actor, body.count, behaviour)
    except BaseException:
        _discard(body)
        raise
    background.add_task(run_in_threadpool, _run_and_discard, store, actor, job, body)
    return Response(status_code=202, headers={**VERSION_HEADERS, "Location": f"/epcis/capture/{job.capture_id}"})


@router.get("/capture", summary="List capture jobs, newest first")
async def capture_jobs(request: Request, perPage: int = Query(30, ge=1, le=eq.MAX_PER_PAGE),
                       actor: Actor = requires(P.EPCIS_CAPTURE)) -> JSONResponse:
    jobs = await run_in_threadpool(cap.list_jobs, get_store(request), limit=perPage)
    return _json([j.binding_json() for j in jobs], media="application/json")


@router.get("/capture/{captureID}", summary="One capture job")
async def capture_job(request: Request, captureID: str = Path(..., min_length=1, max_length=100),
                      actor: Actor = requires(P.EPCIS_CAPTURE)) -> JSONResponse:
    job = await run_in_threadpool(cap.get_job, get_store(request), captureID)
    return _json(job.binding_json(), media="application/json")


@router.post("/events", status_code=201, summary="Capture one EPCIS event (synchronous)")
async def capture_event(request: Request, actor: Actor = requires(P.EPCIS_CAPTURE)) -> JSONResponse:
    _check_versions(request)
    body = await _capture_body(request)
    try:
        if not body.bare:
            raise ValidationFailed("POST /epcis/events takes one event",
                                   [Problem(record="document", field="type", value=body.top_type, message="expected an event")],
                                   hint="send one ObjectEvent, AggregationEvent, ... or use POST /epcis/capture")
        store = get_store(request)
        job = await run_in_threadpool(cap.start_job, store, actor, 1, "rollback")
        job = await run_in_threadpool(cap.run_job, store, actor, job, body.events(), body.context)
    finally:
        _discard(body)
    if not job.success:
        first = job.errors[0] if job.errors else None
        raise ValidationFailed("the event was refused; nothing was stored",
                               [Problem(record="event", field=(first.field if first else "") or "event",
                                        value=None, message=e.message) for e in job.errors],
                               hint=f"capture job {job.capture_id} holds the reasons")
    eid = job.captured_ids[0]
    return _json(await run_in_threadpool(eq.get_event, store, eid), 201, media=_negotiate(request),
                 headers={"Location": f"/epcis/events/{quote(eid, safe='')}"})


# -- queries ---------------------------------------------------------------------------------


def _page(request: Request, params: dict[str, Any], fixed: dict[str, str] | None = None) -> JSONResponse:
    media = _negotiate(request)
    q = eq.SimpleEventQuery.parse({**params, **(fixed or {})})
    page = eq.query_events(get_store(request), q)
    headers: dict[str, str] = {}
    if page.next_page_token:
        nxt = {k: v for k, v in params.items() if k != "nextPageToken"}
        nxt["nextPageToken"] = page.next_page_token
        headers["Link"] = f'<{request.url.path}?{urlencode(nxt, doseq=True)}>; rel="next"'
    return _json(eq.query_document(page.events), media=media, headers=headers)


def _params(request: Request) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k in request.query_params:
        vals = request.query_params.getlist(k)
        out[k] = vals if len(vals) > 1 else vals[0]
    return out


@router.options("/events", summary="Discover the events resource", dependencies=[requires(P.TRACE_READ)])
async def events_options() -> Response:
    return _options("OPTIONS, GET, POST")


@router.get("/events", summary="Query events (SimpleEventQuery parameters)")
async def events(request: Request, actor: Actor = requires(P.TRACE_READ)) -> JSONResponse:
    return await run_in_threadpool(_page, request, _params(request))


@router.get("/events/{eventID:path}", summary="One event by its eventID")
async def event(request: Request, eventID: str, actor: Actor = requires(P.TRACE_READ)) -> JSONResponse:
    media = _negotiate(request)
    return _json(await run_in_threadpool(eq.get_event, get_store(request), eventID), media=media)


@router.get("/epcs", summary="EPCs named by stored events")
async def epcs(request: Request, actor: Actor = requires(P.TRACE_READ)) -> JSONResponse:
    media = _negotiate(request)
    members = await run_in_threadpool(eq.vocabulary, get_store(request), "epcs")
    return _json({"@context": [cap.DEFAULT_CONTEXT], "type": "Collection", "member": members}, media=media)


@router.get("/epcs/{epc:path}/events", summary="Events that name one EPC")
async def epc_events(request: Request, epc: str, actor: Actor = requires(P.TRACE_READ)) -> JSONResponse:
    return await run_in_threadpool(_page, request, _params(request), {"MATCH_anyEPC": epc})


def _resource_routes(resource: str) -> None:
    _, param = eq.RESOURCES[resource]

    async def listing(request: Request, actor: Actor = requires(P.TRACE_READ)) -> JSONResponse:
        media = _negotiate(request)
        members = await run_in_threadpool(eq.vocabulary, get_store(request), resource)
        return _json({"@context": [cap.DEFAULT_CONTEXT], "type": "Collection", "member": members}, media=media)

    async def member_events(request: Request, value: str = Path(..., min_length=1, max_length=2000),
                            actor: Actor = requires(P.TRACE_READ)) -> JSONResponse:
        return await run_in_threadpool(_page, request, _params(request), {param: value})

    async def options() -> Response:
        return _options("OPTIONS, GET")

    router.add_api_route(f"/{resource}", listing, methods=["GET"], summary=f"The {resource} of stored events")
    router.add_api_route(f"/{resource}/{{value:path}}/events", member_events, methods=["GET"],
                         summary=f"Events with one of the {resource}")
    router.add_api_route(f"/{resource}", options, methods=["OPTIONS"], summary=f"Discover /{resource}",
                         dependencies=[requires(P.TRACE_READ)])


for _resource in eq.RESOURCES:
    _resource_routes(_resource)


@router.options("", summary="Discover the EPCIS interface", dependencies=[requires(P.TRACE_READ)])
async def root_options() -> Response:
    return _options("OPTIONS")


# -- named queries and subscriptions -------------------------------------------------------------


def _allowed_dest(request: Request, dest: str) -> None:
    from urllib.parse import urlparse

    allowed = {h.lower() for h in get_settings(request).webhook_allowed_hosts}
    u = urlparse(dest)
    host, hostport = (u.hostname or "").lower(), (u.netloc.rsplit("@", 1)[-1]).lower()
    if host not in allowed and hostport not in allowed:
        raise ValidationFailed(f"this repository does not send reports to {hostport!r}",
                               [Problem(record="subscription", field="dest", value=dest,
                                        message="host not in webhook_allowed_hosts")],
                               hint="an administrator adds the host to TRACEGRAPH_WEBHOOK_ALLOWED_HOSTS")


@router.get("/queries", summary="Named queries")
async def queries(request: Request, actor: Actor = requires(P.TRACE_READ)) -> JSONResponse:
    return _json(await run_in_threadpool(subs.list_queries, get_store(request)), media="application/json")


@router.post("/queries", status_code=201, summary="Create a named query")
async def create_query(request: Request, actor: Actor = requires(P.TRACE_READ)) -> JSONResponse:
    body = await _body(request)
    if not isinstance(body, dict) or not isinstance(body.get("name"), str):
        raise ValidationFailed("a named query needs a name and a query",
                               [Problem(record="query", field="name", value=None, message="required")],
                               hint='{"name": "MyQuery", "query": {"eventType": ["ObjectEvent"]}}')
    q = await run_in_threadpool(subs.create_query, get_store(request), actor, body["name"], body.get("query") or {})
    return _json(q, 201, media="application/json", headers={"Location": f"/epcis/queries/{quote(q['name'], safe='')}"})


@router.get("/queries/{queryName}", summary="One named query")
async def named_query(request: Request, queryName: str = Path(..., min_length=1, max_length=200),
                      actor: Actor = requires(P.TRACE_READ)) -> JSONResponse:
    return _json(await run_in_threadpool(subs.get_query, get_store(request), queryName), media="application/json")


@router.delete("/queries/{queryName}", status_code=204, summary="Delete (retire) a named query and its subscriptions")
async def delete_query(request: Request, queryName: str = Path(..., min_length=1, max_length=200),
                       actor: Actor = requires(P.TRACE_READ)) -> Response:
    await run_in_threadpool(subs.retire_query, get_store(request), actor, queryName)
    return Response(status_code=204, headers=VERSION_HEADERS)


@router.get("/queries/{queryName}/events", summary="Run a named query")
async def named_query_events(request: Request, queryName: str = Path(..., min_length=1, max_length=200),
                             actor: Actor = requires(P.TRACE_READ)) -> JSONResponse:
    media = _negotiate(request)
    params = _params(request)
    q, page = await run_in_threadpool(subs.run_query, get_store(request), queryName, params)
    headers: dict[str, str] = {}
    if page.next_page_token:
        nxt = {k: v for k, v in params.items() if k != "nextPageToken"} | {"nextPageToken": page.next_page_token}
        headers["Link"] = f'<{request.url.path}?{urlencode(nxt, doseq=True)}>; rel="next"'
    return _json(eq.query_document(page.events, queryName), media=media, headers=headers)


@router.get("/queries/{queryName}/subscriptions", summary="Subscriptions to a named query")
async def query_subscriptions(request: Request, queryName: str = Path(..., min_length=1, max_length=200),
                              actor: Actor = requires(P.TRACE_READ)) -> JSONResponse:
    store = get_store(request)
    await run_in_threadpool(subs.get_query, store, queryName)
    return _json(await run_in_threadpool(subs.subscriptions, store, queryName), media="application/json")


@router.post("/queries/{queryName}/subscriptions", status_code=201, summary="Subscribe a webhook to a named query")
async def subscribe(request: Request, queryName: str = Path(..., min_length=1, max_length=200),
                    actor: Actor = requires(P.TRACE_READ)) -> JSONResponse:
    from pydantic import ValidationError

    body = await _body(request)
    try:
        req = subs.SubscriptionRequest.model_validate(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise ValidationFailed("the subscription request is not valid",
                               [Problem(record="subscription", field=".".join(str(x) for x in e["loc"]) or "body",
                                        value=None, message=e["msg"]) for e in exc.errors()],
                               hint=f"check {'.'.join(str(x) for x in first['loc'])}") from None
    _allowed_dest(request, req.dest)
    out = await run_in_threadpool(subs.subscribe, get_store(request), actor, queryName, req)
    loc = f"/epcis/queries/{quote(queryName, safe='')}/subscriptions/{out['subscriptionID']}"
    return _json(out, 201, media="application/json", headers={"Location": loc})


@router.get("/queries/{queryName}/subscriptions/{subscriptionID}", summary="One subscription and its deliveries")
async def subscription(request: Request, queryName: str = Path(..., min_length=1, max_length=200),
                       subscriptionID: str = Path(..., min_length=1, max_length=100),
                       actor: Actor = requires(P.TRACE_READ)) -> JSONResponse:
    store = get_store(request)
    found = [s for s in await run_in_threadpool(subs.subscriptions, store, queryName)
             if s["subscriptionID"] == subscriptionID]
    if not found:
        raise NotFound(f"no subscription {subscriptionID!r} to query {queryName!r}",
                       hint=f"GET /epcis/queries/{queryName}/subscriptions lists them")
    out = {**found[0], "deliveries": await run_in_threadpool(subs.deliveries, store, subscriptionID)}
    return _json(out, media="application/json")


@router.delete("/queries/{queryName}/subscriptions/{subscriptionID}", status_code=204, summary="Unsubscribe")
async def unsubscribe(request: Request, queryName: str = Path(..., min_length=1, max_length=200),
                      subscriptionID: str = Path(..., min_length=1, max_length=100),
                      actor: Actor = requires(P.TRACE_READ)) -> Response:
    await run_in_threadpool(subs.unsubscribe, get_store(request), actor, queryName, subscriptionID)
    return Response(status_code=204, headers=VERSION_HEADERS)
