"""Named EPCIS queries and webhook subscriptions (GS1 EPCIS 2.0 REST binding, `/queries`), with a
durable outbox so that a restart between capture and delivery loses nothing.

- A named query is a stored SimpleEventQuery (`NamedQuery` node, audited).
- A subscription (`Subscription` node, audited) either streams (`stream: true`: every capture whose
  events match the query is reported) or runs on a schedule (`schedule`: cron-like fields
  second/minute/hour/dayOfMonth/month/dayOfWeek, each `*`, a number, a list `1,5`, a range `1-5`
  or a step `*/15`; it reports the events recorded since its last run, or since
  `initialRecordTime`; with `reportIfEmpty` even when there are none).
- Each report becomes a `Delivery` node in the graph, the outbox, written in an audited statement
  before anything is sent. `deliver_due` POSTs the EPCISQueryDocument to `dest`. The
  `GS1-Signature` header carries the hex HMAC-SHA256 of the exact body bytes under the
  subscriber's `signatureToken`. Failures are retried with exponential back-off (2^n seconds, at
  most an hour, 12 attempts), then marked `failed`.
- The API server runs the deliverer and the scheduler in one background thread (`Deliverer`).
  Deliveries are at least once: a crash after a send and before its outcome is written means the
  subscriber sees that report again. Each carries a unique `deliveryID` to deduplicate by.

Secrets: the signature token is stored on the subscription (it is needed to sign) and never
returned by any read; its audit entry records it redacted.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlparse

import httpx
from pydantic import BaseModel, Field, field_validator

from tracegraph.engine.access.actor import Actor
from tracegraph.engine.audit.chain import AuditSpec, Change, audited_write
from tracegraph.engine.clock import Clock, SystemClock, iso
from tracegraph.engine.errors import Conflict, NotFound, Problem, ValidationFailed
from tracegraph.engine.stores.base import GraphStore
from tracegraph.loaders.epcis_query import SimpleEventQuery, query_document, query_events

MAX_ATTEMPTS = 12
MAX_BACKOFF_S = 3600
SCHEDULE_FIELDS = ("second", "minute", "hour", "dayOfMonth", "month", "dayOfWeek")
_RANGES = {"second": (0, 59), "minute": (0, 59), "hour": (0, 23), "dayOfMonth": (1, 31), "month": (1, 12),
           "dayOfWeek": (0, 6)}


def _refuse(field: str, message: str, hint: str) -> ValidationFailed:
    return ValidationFailed(message, [Problem(record="subscription", field=field, value=None, message=message)],
                            hint=hint)


def _cron_values(field: str, spec: str) -> set[int]:
    lo, hi = _RANGES[field]
    out: set[int] = set()
    for part in str(spec).split(","):
        part = part.strip()
        step = 1
        if "/" in part:
            part, step_s = part.split("/", 1)
            if not step_s.isdigit() or int(step_s) < 1:
                raise _refuse(f"schedule.{field}", f"bad step in {spec!r}", "e.g. */15")
            step = int(step_s)
        if part in ("*", ""):
            a, b = lo, hi
        elif "-" in part:
            x, y = part.split("-", 1)
            if not (x.isdigit() and y.isdigit()):
                raise _refuse(f"schedule.{field}", f"bad range {spec!r}", "e.g. 1-5")
            a, b = int(x), int(y)
        elif part.isdigit():
            a = b = int(part)
        else:
            raise _refuse(f"schedule.{field}", f"bad value {spec!r}", f"a number from {lo} to {hi}, a list, range or */n")
        if not (lo <= a <= b <= hi):
            raise _refuse(f"schedule.{field}", f"{spec!r} is outside {lo}-{hi}", f"a number from {lo} to {hi}")
        out.update(range(a, b + 1, step))
    return out


class Schedule(BaseModel):
    """The binding's query schedule; omitted fields mean "every" for the coarser units and 0 for
    second (as cron does: `{"hour": "1", "minute": "5"}` runs at 01:05:00 every day)."""

    second: str | None = None
    minute: str | None = None
    hour: str | None = None
    dayOfMonth: str | None = None
    month: str | None = None
    dayOfWeek: str | None = None

    def sets(self) -> dict[str, set[int]]:
        out = {}
        for f in SCHEDULE_FIELDS:
            v = getattr(self, f)
            out[f] = _cron_values(f, v if v is not None else ("0" if f == "second" else "*"))
        return out

    def due(self, t: datetime) -> bool:
        s = self.sets()
        return (t.second in s["second"] and t.minute in s["minute"] and t.hour in s["hour"]
                and t.day in s["dayOfMonth"] and t.month in s["month"] and (t.isoweekday() % 7) in s["dayOfWeek"])


class SubscriptionRequest(BaseModel):
    """POST /queries/{name}/subscriptions: where to send, how to sign, when."""

    dest: str = Field(..., min_length=8, max_length=2000)
    signatureToken: str | None = Field(None, min_length=8, max_length=512)
    stream: bool | None = None
    schedule: Schedule | None = None
    reportIfEmpty: bool = False
    initialRecordTime: str | None = None

    @field_validator("dest")
    @classmethod
    def _http_url(cls, v: str) -> str:
        u = urlparse(v)
        if u.scheme not in ("http", "https") or not u.netloc:
            raise ValueError("dest must be an http(s) URL")
        return v

    def checked(self) -> SubscriptionRequest:
        if bool(self.stream) == (self.schedule is not None):
            raise _refuse("stream", "a subscription either streams (stream: true) or has a schedule, not both or neither",
                          'send {"stream": true} or {"schedule": {"hour": "1", "minute": "5"}}')
        if self.schedule is not None:
            self.schedule.sets()  # refuses a bad field here, not at the first run
        if self.initialRecordTime is not None:
            SimpleEventQuery.parse({"GE_recordTime": self.initialRecordTime})
        return self


def _write(store: GraphStore, query: str, params: dict[str, Any], actor: Actor, action: str, label: str, key: str,
           changes: list[Change], clock: Clock, reason: str = "") -> None:
    spec = AuditSpec(action=action, target_label=label, target_key=key, changes=changes, reason=reason or action)
    audited_write(store, query, lambda: (params, spec), actor, clock=clock)


# -- named queries ------------------------------------------------------------------------------


def create_query(store: GraphStore, actor: Actor, name: str, query: dict[str, Any], *,
                 clock: Clock | None = None) -> dict[str, Any]:
    clock = clock or SystemClock()
    if not name or len(name) > 200 or not all(c.isalnum() or c in "-_." for c in name):
        raise _refuse("name", f"query name {name!r} is not usable in a URL", "letters, digits, - _ . (at most 200)")
    if not isinstance(query, dict):
        raise _refuse("query", "query must be an object of SimpleEventQuery parameters", '{"eventType": ["ObjectEvent"]}')
    SimpleEventQuery.parse(query)  # refuse what would never run
    now = iso(clock.now())
    props = {"id": name, "query_json": json.dumps(query, sort_keys=True), "created_at": now, "updated_at": now,
             "created_by": actor.id, "source": actor.id}
    try:
        _write(store, "epcis_rest.named_query_create", {"id": name, "props": props}, actor, "epcis.query.create",
               "NamedQuery", name, [Change("query_json", None, props["query_json"])], clock)
    except NotFound:
        raise Conflict(f"a query named {name!r} exists already", hint="choose another name or DELETE it first") from None
    return {"name": name, "query": query}


def get_query(store: GraphStore, name: str) -> dict[str, Any]:
    rows = store.read("epcis_rest.named_query", id=name)
    if not rows:
        raise NotFound(f"no named query {name!r}", hint="GET /epcis/queries lists them")
    return {"name": name, "query": json.loads(rows[0]["q"]["query_json"])}


def list_queries(store: GraphStore, limit: int = 200) -> list[dict[str, Any]]:
    return [{"name": r["q"]["id"], "query": json.loads(r["q"]["query_json"])}
            for r in store.read("epcis_rest.named_queries", limit=limit)]


def retire_query(store: GraphStore, actor: Actor, name: str, *, clock: Clock | None = None) -> None:
    clock = clock or SystemClock()
    get_query(store, name)
    _write(store, "epcis_rest.named_query_retire", {"id": name, "now": iso(clock.now())}, actor,
           "epcis.query.retire", "NamedQuery", name, [Change("retired", None, True)], clock)


def run_query(store: GraphStore, name: str, params: dict[str, Any]) -> tuple[SimpleEventQuery, Any]:
    """The named query with the caller's paging parameters (perPage, nextPageToken) added."""
    stored = get_query(store, name)["query"]
    q = SimpleEventQuery.parse({**stored, **{k: v for k, v in params.items() if k in ("perPage", "nextPageToken")}})
    return q, query_events(store, q)


# -- subscriptions ------------------------------------------------------------------------------


def _public(p: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"subscriptionID": p["id"], "queryName": p["query"], "dest": p["dest"],
                           "createdAt": p["created_at"], "reportIfEmpty": bool(p.get("report_if_empty"))}
    if p.get("stream"):
        out["stream"] = True
    if p.get("schedule_json"):
        out["schedule"] = json.loads(p["schedule_json"])
    if p.get("initial_record_time"):
        out["initialRecordTime"] = p["initial_record_time"]
    out["signed"] = bool(p.get("signature_token"))
    return out


def subscribe(store: GraphStore, actor: Actor, name: str, req: SubscriptionRequest, *,
              clock: Clock | None = None) -> dict[str, Any]:
    clock = clock or SystemClock()
    req.checked()
    get_query(store, name)
    sid = str(uuid.uuid4())
    now = iso(clock.now())
    initial = (SimpleEventQuery.parse({"GE_recordTime": req.initialRecordTime}).times["ge_record_time"]
               if req.initialRecordTime else now)
    props = {"id": sid, "query": name, "dest": req.dest, "signature_token": req.signatureToken or "",
             "stream": bool(req.stream), "schedule_json": req.schedule.model_dump_json(exclude_none=True)
             if req.schedule else "", "report_if_empty": req.reportIfEmpty, "initial_record_time": initial,
             "reported_to": initial, "last_run_at": "", "created_at": now, "updated_at": now,
             "created_by": actor.id, "source": actor.id}
    _write(store, "epcis_rest.subscription_create", {"query": name, "props": props}, actor, "epcis.subscribe",
           "Subscription", sid, [Change("dest", None, req.dest), Change("stream", None, bool(req.stream)),
                                 Change("signature_token", None, None, redacted=True)], clock)
    return _public(props)


def subscriptions(store: GraphStore, name: str | None = None, *, stream: bool | None = None,
                  internal: bool = False) -> list[dict[str, Any]]:
    rows = [r["s"] for r in store.read("epcis_rest.subscriptions", query=name, stream=stream)]
    return rows if internal else [_public(p) for p in rows]


def unsubscribe(store: GraphStore, actor: Actor, name: str, sid: str, *, clock: Clock | None = None) -> None:
    clock = clock or SystemClock()
    try:
        _write(store, "epcis_rest.subscription_retire", {"id": sid, "query": name, "now": iso(clock.now())}, actor,
               "epcis.unsubscribe", "Subscription", sid, [Change("retired", None, True)], clock)
    except NotFound:
        raise NotFound(f"no subscription {sid!r} to query {name!r}",
                       hint=f"GET /epcis/queries/{name}/subscriptions lists them") from None


# -- the outbox -----------------------------------------------------------------------------------


def _enqueue(store: GraphStore, actor: Actor, sub: dict[str, Any], events: list[dict[str, Any]], clock: Clock) -> str:
    did = "dlv-" + uuid.uuid4().hex[:20]
    now = iso(clock.now())
    doc = query_document(events, sub["query"], created=now)
    doc["epcisBody"]["queryResults"]["subscriptionID"] = sub["id"]
    doc["deliveryID"] = did
    body = json.dumps(doc, separators=(",", ":"), sort_keys=True)
    props = {"id": did, "subscription": sub["id"], "body": body, "events": len(events), "status": "pending",
             "attempts": 0, "next_at": now, "created_at": now, "updated_at": now, "last_error": "",
             "source": actor.id}
    _write(store, "epcis_rest.delivery_create", {"subscription": sub["id"], "props": props}, actor,
           "epcis.delivery.queue", "Delivery", did, [Change("status", None, "pending"), Change("events", None, len(events))],
           clock)
    return did


def on_capture(store: GraphStore, actor: Actor, event_ids: list[str], *, clock: Clock | None = None) -> list[str]:
    """Queue a delivery for every streaming subscription whose query matches some of the newly
    captured events (called by the capture job once its import is committed)."""
    clock = clock or SystemClock()
    queued: list[str] = []
    if not event_ids:
        return queued
    for sub in subscriptions(store, stream=True, internal=True):
        stored = get_query(store, sub["query"])["query"]
        q = SimpleEventQuery.parse({k: v for k, v in stored.items() if k not in ("perPage", "nextPageToken")})
        matched: list[dict[str, Any]] = []
        for start in range(0, len(event_ids), 500):
            page = query_events(store, q.model_copy(update={"per_page": 1000}), restrict=event_ids[start:start + 500])
            matched.extend(page.events)
        if matched:
            queued.append(_enqueue(store, actor, sub, matched, clock))
    return queued


def run_schedules(store: GraphStore, actor: Actor, now: datetime, *, clock: Clock | None = None) -> list[str]:
    """Run every scheduled subscription due at `now` (second resolution) that has not run at `now`."""
    clock = clock or SystemClock()
    stamp = iso(now)
    queued: list[str] = []
    for sub in subscriptions(store, stream=False, internal=True):
        if not sub.get("schedule_json") or sub.get("last_run_at", "")[:19] == stamp[:19]:
            continue
        if not Schedule.model_validate_json(sub["schedule_json"]).due(now):
            continue
        stored = get_query(store, sub["query"])["query"]
        params = {k: v for k, v in stored.items() if k not in ("perPage", "nextPageToken", "GE_recordTime")}
        q = SimpleEventQuery.parse(params)
        q.times["ge_record_time"] = sub["reported_to"]
        q.times["lt_record_time"] = stamp
        events: list[dict[str, Any]] = []
        page = query_events(store, q.model_copy(update={"per_page": 1000}))
        events.extend(page.events)
        while page.next_page_token:
            page = query_events(store, q.model_copy(update={"per_page": 1000, "page_token": page.next_page_token}))
            events.extend(page.events)
        if events or sub.get("report_if_empty"):
            queued.append(_enqueue(store, actor, sub, events, clock))
        _write(store, "epcis_rest.subscription_ran", {"id": sub["id"], "props": {
            "reported_to": stamp, "last_run_at": stamp, "updated_at": stamp}}, actor, "epcis.subscription.run",
               "Subscription", sub["id"], [Change("reported_to", sub["reported_to"], stamp)], clock)
    return queued


def signature(token: str, body: bytes) -> str:
    """The GS1-Signature header: hex HMAC-SHA256 of the exact body under the subscriber's token."""
    return hmac.new(token.encode(), body, hashlib.sha256).hexdigest()


Poster = Callable[[str, bytes, dict[str, str]], int]


def _post(url: str, body: bytes, headers: dict[str, str]) -> int:
    with httpx.Client(timeout=10.0, follow_redirects=False) as c:
        return c.post(url, content=body, headers=headers).status_code


def deliver_due(store: GraphStore, actor: Actor, *, clock: Clock | None = None, post: Poster | None = None,
                limit: int = 50) -> dict[str, int]:
    """Send every pending delivery that is due; returns counts of delivered / retried / failed."""
    clock = clock or SystemClock()
    post = post or _post
    out = {"delivered": 0, "retried": 0, "failed": 0}
    subs = {s["id"]: s for s in subscriptions(store, internal=True)}
    for row in store.read("epcis_rest.deliveries_due", now=iso(clock.now()), limit=limit):
        d = row["d"]
        sub = subs.get(d["subscription"])
        body = d["body"].encode()
        headers = {"Content-Type": "application/ld+json", "GS1-EPCIS-Version": "2.0.0", "GS1-CBV-Version": "2.0.0"}
        if sub and sub.get("signature_token"):
            headers["GS1-Signature"] = signature(sub["signature_token"], body)
        error = ""
        if sub is None:
            error = "the subscription was retired"
        else:
            try:
                status = post(sub["dest"], body, headers)
                if not 200 <= status < 300:
                    error = f"HTTP {status}"
            except httpx.HTTPError as exc:
                error = f"{type(exc).__name__}: {str(exc)[:200]}"
        attempts = int(d.get("attempts") or 0) + 1
        now = clock.now()
        if not error:
            props = {"status": "delivered", "attempts": attempts, "delivered_at": iso(now), "updated_at": iso(now)}
            out["delivered"] += 1
        elif attempts >= MAX_ATTEMPTS or sub is None:
            props = {"status": "failed", "attempts": attempts, "last_error": error, "updated_at": iso(now)}
            out["failed"] += 1
        else:
            wait = min(2 ** attempts, MAX_BACKOFF_S)
            props = {"attempts": attempts, "last_error": error, "next_at": iso(now + timedelta(seconds=wait)),
                     "updated_at": iso(now)}
            out["retried"] += 1
        _write(store, "epcis_rest.delivery_update", {"id": d["id"], "props": props}, actor, "epcis.delivery.attempt",
               "Delivery", d["id"], [Change("attempts", attempts - 1, attempts)] +
               ([Change("status", "pending", props["status"])] if "status" in props else []), clock)
    return out


def deliveries(store: GraphStore, subscription: str, limit: int = 50) -> list[dict[str, Any]]:
    keep = ("id", "status", "attempts", "events", "created_at", "delivered_at", "next_at", "last_error")
    return [{k: r["d"].get(k) for k in keep} for r in store.read("epcis_rest.deliveries", subscription=subscription,
                                                                 limit=limit)]


class Deliverer:
    """The server's background sender: every `interval_s`, run due schedules and send due deliveries."""

    def __init__(self, store: GraphStore, *, interval_s: float = 1.0, clock: Clock | None = None) -> None:
        self.store, self.interval_s, self.clock = store, interval_s, clock or SystemClock()
        self.actor = Actor.system("EPCIS subscription deliverer")
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def tick(self) -> None:
        run_schedules(self.store, self.actor, self.clock.now().replace(microsecond=0), clock=self.clock)
        deliver_due(self.store, self.actor, clock=self.clock)

    def _loop(self) -> None:
        import logging

        log = logging.getLogger("tracegraph.epcis")
        while not self._stop.wait(self.interval_s):
            try:
                self.tick()
            except Exception:
                log.exception("EPCIS deliverer round failed")

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="epcis-deliverer", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)


__all__ = ["Schedule", "SubscriptionRequest", "create_query", "get_query", "list_queries", "retire_query",
           "run_query", "subscribe", "subscriptions", "unsubscribe", "on_capture", "run_schedules", "deliver_due",
           "deliveries", "signature", "Deliverer"]
