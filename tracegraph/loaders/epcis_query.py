"""GS1 EPCIS 2.0 queries over the stored events: the SimpleEventQuery of the REST binding
(`GET /epcis/events` and the top-level resources), one pydantic model parsed once for every door.

Why here (loaders): the query speaks GS1's vocabulary (CBV values in URN, web URI or bare form,
EPC patterns, EPCISQueryDocument) and reads the EpcisEvent nodes that the EPCIS importer wrote,
each holding its original JSON. Nothing is built from user input but parameter values: the
statements are the named files in `queries/epcis_rest/`.

What is answered and what is refused (never an empty answer for a question not understood):
- eventType, GE/LT_eventTime, GE/LT_recordTime, EQ_action, EQ_bizStep, EQ_disposition,
  EQ_readPoint, EQ_bizLocation, MATCH_epc, MATCH_anyEPC, MATCH_parentID, MATCH_inputEPC,
  MATCH_outputEPC, MATCH_epcClass, MATCH_anyEPCClass, EQ_bizTransaction_<type>,
  EQ_source_location, EQ_destination_location, perPage, nextPageToken, orderBy (eventTime),
  orderDirection;
- any other parameter (EQ_source_owning_party, EQ_ILMD_..., EQ_INNER_..., GE_quantity, ...) is
  refused with `field` naming it and the list of supported ones.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from tracegraph.engine.errors import NotFound, Problem, ValidationFailed
from tracegraph.engine.imports.runner import staging_ids
from tracegraph.engine.stores.base import GraphStore
from tracegraph.loaders.epcis_map import short_vocab, to_utc

EVENT_TYPES = ("ObjectEvent", "AggregationEvent", "TransactionEvent", "TransformationEvent", "AssociationEvent")
MAX_PER_PAGE = 1000
DEFAULT_PER_PAGE = 30

#: MATCH_ parameter -> the CONCERNS roles it looks at (EPCIS 2.0 §8.2.7.1)
MATCH_ROLES: dict[str, tuple[str, ...]] = {
    "MATCH_epc": ("epc", "child"),
    "MATCH_parentID": ("parent",),
    "MATCH_inputEPC": ("input",),
    "MATCH_outputEPC": ("output",),
    "MATCH_anyEPC": ("epc", "child", "parent", "input", "output"),
    "MATCH_epcClass": ("quantity", "childQuantity"),
    "MATCH_inputEPCClass": ("inputQuantity",),
    "MATCH_outputEPCClass": ("outputQuantity",),
    "MATCH_anyEPCClass": ("quantity", "childQuantity", "inputQuantity", "outputQuantity"),
}
#: EQ_ parameter -> (query parameter, normaliser)
EQ_FIELDS: dict[str, str] = {
    "EQ_action": "actions",
    "EQ_bizStep": "biz_steps",
    "EQ_disposition": "dispositions",
    "EQ_readPoint": "read_points",
    "EQ_bizLocation": "biz_locations",
}
TIME_FIELDS: dict[str, str] = {
    "GE_eventTime": "ge_event_time",
    "LT_eventTime": "lt_event_time",
    "GE_recordTime": "ge_record_time",
    "LT_recordTime": "lt_record_time",
}
SOURCE_DEST = {"EQ_source_location": "source", "EQ_destination_location": "destination"}
PAGING = ("perPage", "nextPageToken", "orderBy", "orderDirection")
SUPPORTED = ("eventType", *TIME_FIELDS, *EQ_FIELDS, *MATCH_ROLES, *SOURCE_DEST, "EQ_bizTransaction_<type>", *PAGING)


def _refuse(field: str, message: str, hint: str) -> ValidationFailed:
    return ValidationFailed(message, [Problem(record="query", field=field, value=None, message=message)], hint=hint)


def _values(raw: Any) -> list[str]:
    """A parameter's values: repeated parameters and the binding's `|`-separated OR lists."""
    items = raw if isinstance(raw, (list, tuple)) else [raw]
    out: list[str] = []
    for item in items:
        for part in str(item).split("|"):
            part = part.strip()
            if part:
                out.append(part)
    return out


def _timestamp(field: str, raw: str) -> str:
    """An ISO 8601 timestamp with a time zone, as the stored UTC form."""
    try:
        dt = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise _refuse(field, f"{field} is not an ISO 8601 timestamp: {raw!r}",
                      "send e.g. 2026-03-01T00:00:00Z (a time zone is required)") from None
    if dt.tzinfo is None:
        raise _refuse(field, f"{field} has no time zone: {raw!r}", "add Z or an offset such as +08:00")
    stored = to_utc(raw.replace("Z", "+00:00"))
    assert stored is not None
    return stored


class SimpleEventQuery(BaseModel):
    """A parsed SimpleEventQuery: what the REST binding's query parameters ask for."""

    event_types: list[str] | None = None
    times: dict[str, str] = Field(default_factory=dict)
    eq: dict[str, list[str]] = Field(default_factory=dict)
    match: dict[str, list[str]] = Field(default_factory=dict)
    biz_transactions: dict[str, list[str]] = Field(default_factory=dict)
    source_dest: dict[str, list[str]] = Field(default_factory=dict)
    per_page: int = DEFAULT_PER_PAGE
    direction: Literal["ASC", "DESC"] = "ASC"
    page_token: str | None = None

    @classmethod
    def parse(cls, params: Mapping[str, Any]) -> SimpleEventQuery:
        """Parse query parameters (a mapping of name -> value or list of values); refuse the unknown."""
        q = cls()
        for name, raw in params.items():
            vals = _values(raw)
            if name == "eventType":
                bad = [v for v in vals if v not in EVENT_TYPES]
                if bad:
                    raise _refuse(name, f"unknown eventType {bad[0]!r}", f"one of {', '.join(EVENT_TYPES)}")
                q.event_types = vals
            elif name in TIME_FIELDS:
                q.times[TIME_FIELDS[name]] = _timestamp(name, vals[0] if vals else "")
            elif name in EQ_FIELDS:
                if name == "EQ_action" and any(v not in ("ADD", "OBSERVE", "DELETE") for v in vals):
                    raise _refuse(name, f"EQ_action must be ADD, OBSERVE or DELETE, not {raw!r}", "e.g. EQ_action=ADD")
                norm = [short_vocab(v) or v for v in vals] if name in ("EQ_bizStep", "EQ_disposition") else vals
                q.eq[EQ_FIELDS[name]] = norm
            elif name in MATCH_ROLES:
                q.match[name] = vals
            elif name.startswith("EQ_bizTransaction_"):
                q.biz_transactions[short_vocab(name[len("EQ_bizTransaction_"):]) or ""] = vals
            elif name in SOURCE_DEST:
                q.source_dest[SOURCE_DEST[name]] = vals
            elif name == "perPage":
                try:
                    n = int(vals[0])
                except (ValueError, IndexError):
                    raise _refuse(name, f"perPage must be a whole number, not {raw!r}", "e.g. perPage=100") from None
                if not 1 <= n <= MAX_PER_PAGE:
                    raise _refuse(name, f"perPage must be between 1 and {MAX_PER_PAGE}", f"e.g. perPage={DEFAULT_PER_PAGE}")
                q.per_page = n
            elif name == "orderBy":
                if vals != ["eventTime"]:
                    raise _refuse(name, f"orderBy {raw!r} is not supported", "orderBy=eventTime (the default)")
            elif name == "orderDirection":
                if vals not in (["ASC"], ["DESC"]):
                    raise _refuse(name, f"orderDirection must be ASC or DESC, not {raw!r}", "orderDirection=DESC")
                q.direction = vals[0]  # type: ignore[assignment]
            elif name == "nextPageToken":
                q.page_token = vals[0] if vals else None
            else:
                raise _refuse(name, f"query parameter {name!r} is not supported by this repository",
                              "supported: " + ", ".join(SUPPORTED))
        return q

    def fingerprint(self) -> str:
        """What the question is, without its page: a next-page token is only valid for the same question."""
        body = self.model_dump(exclude={"page_token", "per_page"})
        return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:16]


class EventPage(BaseModel):
    events: list[dict[str, Any]]
    next_page_token: str | None = None


def _token(q: SimpleEventQuery, last: dict[str, Any]) -> str:
    body = json.dumps({"q": q.fingerprint(), "t": last["event_time"], "i": last["id"]}, separators=(",", ":"))
    return base64.urlsafe_b64encode(body.encode()).decode().rstrip("=")


def _after(q: SimpleEventQuery) -> tuple[str | None, str | None]:
    if not q.page_token:
        return None, None
    try:
        pad = "=" * (-len(q.page_token) % 4)
        body = json.loads(base64.urlsafe_b64decode(q.page_token + pad))
        if body["q"] != q.fingerprint():
            raise ValueError("another query")
        return str(body["t"]), str(body["i"])
    except (ValueError, KeyError, TypeError):
        raise _refuse("nextPageToken", "nextPageToken does not belong to this query",
                      "repeat the same query parameters with the token from its last page") from None


def _prefix(pattern: str) -> str | None:
    """An EPC pattern (urn:epc:idpat:sgtin:0614141.*.*) as the id prefix it stands for, else None."""
    if ":idpat:" not in pattern or not pattern.endswith("*"):
        return None
    head = pattern.replace(":idpat:", ":id:", 1)
    return head[: head.index("*")]


def _object_ids(store: GraphStore, q: SimpleEventQuery) -> set[str] | None:
    """Events found by the object, transaction and source/destination filters (ANDed), or None."""
    found: set[str] | None = None

    def narrow(ids: set[str]) -> None:
        nonlocal found
        found = ids if found is None else found & ids

    for name, vals in q.match.items():
        keys = [v for v in vals if _prefix(v) is None]
        prefixes = [p for p in (_prefix(v) for v in vals) if p]
        if "idpat" in "".join(keys):
            raise _refuse(name, f"{name}: an EPC pattern must end with *", "e.g. urn:epc:idpat:sgtin:0614141.107346.*")
        rows = store.read("epcis_rest.events_by_object", roles=list(MATCH_ROLES[name]), keys=keys, prefixes=prefixes)
        narrow({r["id"] for r in rows})
    for bt_type, vals in q.biz_transactions.items():
        rows = store.read("epcis_rest.events_by_biz_transaction", keys=vals, bt_type=bt_type or None)
        narrow({r["id"] for r in rows})
    for role, vals in q.source_dest.items():
        rows = store.read("epcis_rest.events_by_source_dest", role=role, keys=vals)
        narrow({r["id"] for r in rows})
    return found


def _event(row: dict[str, Any]) -> dict[str, Any]:
    """The stored event as JSON, with the eventID the repository knows it by (EPCIS 2.0 §7.4.1)."""
    ev: dict[str, Any] = json.loads(row["json"])
    ev.setdefault("eventID", row["id"])
    return ev


def query_events(store: GraphStore, q: SimpleEventQuery, *, restrict: list[str] | None = None) -> EventPage:
    """One page of the events that match, oldest first (or newest with orderDirection=DESC).
    `restrict`: only among these event ids (a subscription looking at one capture's events)."""
    after_time, after_id = _after(q)
    ids = _object_ids(store, q)
    if restrict is not None:
        ids = set(restrict) if ids is None else ids & set(restrict)
    if ids is not None and not ids:
        return EventPage(events=[])
    params: dict[str, Any] = {"ids": sorted(ids) if ids is not None else None, "event_types": q.event_types,
                              "after_time": after_time, "after_id": after_id, "limit": q.per_page + 1}
    for p in TIME_FIELDS.values():
        params[p] = q.times.get(p)
    for p in EQ_FIELDS.values():
        params[p] = q.eq.get(p)
    params["staging"] = staging_ids(store)  # events of a run still staging are not stored yet
    rows = store.read("epcis_rest.events" if q.direction == "ASC" else "epcis_rest.events_desc", **params)
    more = len(rows) > q.per_page
    rows = rows[: q.per_page]
    return EventPage(events=[_event(r) for r in rows], next_page_token=_token(q, rows[-1]) if more and rows else None)


def get_event(store: GraphStore, event_id: str) -> dict[str, Any]:
    rows = store.read("epcis_rest.event", id=event_id, staging=staging_ids(store))
    if not rows:
        raise NotFound(f"no EPCIS event with eventID {event_id!r}", hint="GET /epcis/events lists the stored events")
    return _event(rows[0])


#: top-level resource -> the EpcisEvent property it lists, and the SimpleEventQuery parameter for its events
RESOURCES: dict[str, tuple[str, str]] = {
    "eventTypes": ("type", "eventType"),
    "bizSteps": ("biz_step", "EQ_bizStep"),
    "dispositions": ("disposition", "EQ_disposition"),
    "readPoints": ("read_point", "EQ_readPoint"),
    "bizLocations": ("biz_location", "EQ_bizLocation"),
}


def vocabulary(store: GraphStore, resource: str) -> list[str]:
    """The values a top-level resource lists (event types, business steps, ...), as stored."""
    if resource == "epcs":
        return [r["value"] for r in store.read("epcis_rest.epcs", skip=0, limit=MAX_PER_PAGE,
                                                          staging=staging_ids(store))]
    if resource not in RESOURCES:
        raise NotFound(f"no EPCIS resource {resource!r}", hint="one of " + ", ".join(["epcs", *RESOURCES]))
    values = [r["value"] for r in store.read("epcis_rest.vocabulary", field=RESOURCES[resource][0],
                                                   staging=staging_ids(store))]
    if resource == "eventTypes":
        return [t for t in EVENT_TYPES if t in values] + [t for t in values if t not in EVENT_TYPES]
    return values


def query_document(events: list[dict[str, Any]], query_name: str = "SimpleEventQuery",
                   created: str | None = None) -> dict[str, Any]:
    """An EPCISQueryDocument (JSON-LD) carrying `events` as the result of one query."""
    from tracegraph.engine.clock import SystemClock, iso

    return {
        "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
        "type": "EPCISQueryDocument",
        "schemaVersion": "2.0",
        "creationDate": created or iso(SystemClock().now()),
        "epcisBody": {"queryResults": {"queryName": query_name, "resultsBody": {"eventList": events}}},
    }


__all__ = ["SimpleEventQuery", "EventPage", "query_events", "get_event", "vocabulary", "query_document",
           "RESOURCES", "EVENT_TYPES", "SUPPORTED"]
