"""A capture body (REST `POST /epcis/capture`, `POST /epcis/events`) on disk, read as a stream.

    body = read_body(path, "json" | "xml")  # shape, event count and @context; refusals as before
    body.count, body.context, body.bare
    for event in body.events(): ...         # one event at a time (as `epcis_capture.events_of`)
    body.close()                            # its temporary files go

Why: the routes read the whole body (`request.body()`), parsed it (`json.loads` or an lxml
tree) and kept the events until the background job ended: the bytes, the parsed document and
the job's copy at once. Now the route spools the body to a temporary file (api/routes_epcis.py)
and this module finds what the route must answer synchronously (413 beyond
`GS1-EPCIS-Capture-Limit` events, 422 for a body that is no EPCIS document) in one streaming
pass; the job reads the events from the file one at a time.

- JSON (ijson): one pass over the tokens gives the top-level `type` and `@context`, the items of
  the event list (`epcisBody.eventList`, or the query document's `...resultsBody.eventList`) or of a
  top-level array, and their `@context`s; `events()` then reads the items with ijson's C builder.
- XML (lxml iterparse, epcis_xml.XmlEventStream): XSD, conversion and JSON Schema refusals are
  raised here, synchronously, as `read_xml` raised them; the converted events go to an
  EventSpool (on disk past a few thousand).

The answers are `events_of`'s on the whole body: shapes the stream does not decide alone (a bare
event: one event; an event list that is not an array, given twice, or with an item that is no
object; JSON ijson refuses but `json` reads: integers beyond 64 bits, NaN; any syntax error, for
json's own message) are read whole, as before: the body is bounded by `max_upload_mb`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from tracegraph.engine.errors import Problem, ValidationFailed
from tracegraph.loaders.epcis_capture import as_list, dedupe, events_of
from tracegraph.loaders.epcis_spool import EventSpool

DEFAULT_CONTEXT = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
#: where each document type keeps its events
LISTS = {"EPCISDocument": "epcisBody.eventList", "EPCISQueryDocument": "epcisBody.queryResults.resultsBody.eventList"}
_VALUES = ("start_map", "start_array", "string", "number", "boolean", "null")


class _Whole(Exception):
    """A shape the stream does not decide alone: the body is read whole."""


@dataclass
class CaptureBody:
    """What the route answers from and the job captures: see the module docstring."""

    path: Path
    count: int
    context: list[Any]
    #: one bare event (what `POST /epcis/events` takes)
    bare: bool = False
    #: the body's top-level JSON value when it was read whole (its `type` for `POST /epcis/events`)
    top_type: Any = None
    #: where the events are: ijson's prefix of the items in `path`, a spool, or a list (read whole)
    prefix: str | None = None
    strip_context: bool = False
    spool: EventSpool | None = None
    whole: list[Any] = field(default_factory=list)

    def events(self) -> Iterator[Any]:
        """The events, one at a time, as `events_of` gives them (a top-level array's and a bare
        event's own `@context` left out: it is in `context`)."""
        if self.spool is not None:
            yield from self.spool
            return
        if self.prefix is None:
            yield from self.whole
            return
        import ijson

        with open(self.path, "rb") as fh:
            _skip_bom(fh)
            for e in ijson.items(fh, self.prefix, use_float=True):
                yield {k: v for k, v in e.items() if k != "@context"} if self.strip_context else e

    def close(self) -> None:
        if self.spool is not None:
            self.spool.close()
        self.whole = []


def _skip_bom(fh: Any) -> None:
    if fh.read(3) != b"\xef\xbb\xbf":
        fh.seek(0)


def read_body(path: str | Path, kind: Literal["json", "xml"]) -> CaptureBody:
    """The capture body in `path` (see the module docstring). Raises ValidationFailed as the
    whole-body reading did: not JSON, not an EPCIS document or event, XML refused by the XSD or
    the JSON Schema."""
    p = Path(path)
    if kind == "xml":
        return _xml(p)
    try:
        return _json(p)
    except _Whole:
        return _whole_json(p)


def _json(p: Path) -> CaptureBody:
    """One pass of ijson over the tokens (raises _Whole for what it does not decide alone)."""
    import ijson

    with open(p, "rb") as fh:
        _skip_bom(fh)
        head = fh.read(4096).lstrip()
        fh.seek(0)
        _skip_bom(fh)
        if head[:1] not in (b"{", b"["):
            raise _Whole  # a scalar, or no JSON: json's answer
        array = head[:1] == b"["
        top: dict[str, Any] = {"type": None}
        ctx: Any = None  # an ObjectBuilder of the current @context
        contexts: list[Any] = []
        counts = dict.fromkeys(LISTS.values(), 0)
        starts = dict.fromkeys(LISTS.values(), 0)
        items = {v + ".item": v for v in LISTS.values()}
        n_array = 0
        try:
            for prefix, event, value in ijson.parse(fh, use_float=True):
                if array:
                    if prefix == "item":
                        if event in _VALUES:
                            if event != "start_map":
                                raise _Whole  # an item that is no object: events_of's refusal
                            n_array += 1
                        elif event == "end_map" and ctx is not None:
                            contexts.append(ctx.value)
                            ctx = None
                    elif prefix == "item.@context" and event in _VALUES and ctx is None:
                        ctx = ijson.ObjectBuilder()
                        ctx.event(event, value)
                    elif ctx is not None and (prefix == "item.@context" or prefix.startswith("item.@context.")):
                        ctx.event(event, value)
                    continue
                if prefix in items:
                    if event in _VALUES:
                        if event != "start_map":
                            raise _Whole
                        counts[items[prefix]] += 1
                    continue
                if prefix in starts and event in _VALUES:
                    if event != "start_array":
                        raise _Whole  # an event list that is not an array
                    starts[prefix] += 1
                elif prefix == "type" and event in _VALUES:
                    top["type"] = value if event not in ("start_map", "start_array") else {}
                elif prefix == "@context" and event in _VALUES and ctx is None:
                    ctx = ijson.ObjectBuilder()
                    ctx.event(event, value)
                    if event not in ("start_map", "start_array"):
                        top["@context"], ctx = ctx.value, None
                elif ctx is not None and (prefix == "@context" or prefix.startswith("@context.")):
                    ctx.event(event, value)
                    if prefix == "@context" and event in ("end_map", "end_array"):
                        top["@context"], ctx = ctx.value, None
        except (ijson.JSONError, ValueError, OverflowError) as exc:  # json's message (or reading), as before
            raise _Whole from exc
    if array:
        if not n_array:
            raise _Whole  # an empty array: events_of's answer
        ctx_all = [c for own in contexts for c in as_list(own)]
        return CaptureBody(p, n_array, dedupe(ctx_all) or [DEFAULT_CONTEXT], prefix="item", strip_context=True)
    kind = top["type"]
    where = LISTS.get(kind) if isinstance(kind, str) else None
    if where is None or starts[where] > 1 or any(n for w, n in starts.items() if w != where and n > 1):
        raise _Whole  # a bare event, an unknown type, an event list given twice
    if any(w != where and counts[w] for w in counts):
        raise _Whole  # events where the document type does not put them: as events_of reads them
    context = as_list(top.get("@context")) or [DEFAULT_CONTEXT]
    return CaptureBody(p, counts[where], context, prefix=where + ".item", top_type=kind)


def _whole_json(p: Path) -> CaptureBody:
    """`json.loads` + `events_of`: the reading before, for the shapes above."""

    try:
        data = json.loads(p.read_bytes())
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValidationFailed("the body is not JSON",
                               [Problem(record="document", field="body", value=None, message=str(exc)[:200])],
                               hint="send an EPCIS 2.0 JSON-LD document") from None
    events, context = events_of(data)
    bare = isinstance(data, dict) and str(data.get("type", "")).endswith("Event")
    top = data.get("type") if isinstance(data, dict) else None
    return CaptureBody(p, len(events), context, bare=bare, top_type=top, whole=events)


def _xml(p: Path) -> CaptureBody:
    """XmlEventStream into a spool; a shape it does not decide alone read whole (`read_xml`)."""
    from tracegraph.loaders.epcis_doc import NeedWholeDocument
    from tracegraph.loaders.epcis_xml import XmlEventStream, read_xml

    spool = EventSpool()
    stream = XmlEventStream(p, "capture")
    try:
        for e in stream:
            spool.append(e)
        assert stream.shell is not None
        events_of(stream.shell)  # a document type events_of refuses is refused the same
        context = as_list(stream.shell.get("@context")) or [DEFAULT_CONTEXT]
        return CaptureBody(p, len(spool), context, spool=spool, top_type=stream.shell.get("type"))
    except NeedWholeDocument:
        spool.close()
    except BaseException:
        spool.close()
        raise
    doc = read_xml(p, "capture")
    events, context = events_of(doc)
    bare = isinstance(doc, dict) and str(doc.get("type", "")).endswith("Event")
    return CaptureBody(p, len(events), context, bare=bare, top_type=doc.get("type") if isinstance(doc, dict) else None,
                       whole=events)


__all__ = ["CaptureBody", "read_body", "LISTS"]
