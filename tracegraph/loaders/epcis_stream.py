"""An EPCIS file read as a stream of checked events: memory bounded whatever its size.

    open_events(path, fmt="auto") -> EventStream: iterate for the events, then `.shell`

Why: a partner's document can be 1 GB. Loading it whole (json.load, an lxml tree) holds the
text, the parsed tree and, for XML, the converted document at once: several times the file.
Here JSON is read with ijson (its C backend, yajl2_c) and XML with lxml's iterparse, each event
checked as it comes (GS1's JSON Schema, compiled once; for XML first GS1's XSD), so the reader
holds one event and the document without its events ("the shell": @context, header, ...).

The result is the one of the whole-document reader (`epcis_input.read_document` followed by
`epcis_doc.validate_document`): the same events, in the same order, with the same values, and
the same refusals with the same problems (tests/test_epcis_stream.py compares them on the public
corpus). A refusal is raised when the iteration ends (nothing can be written before: the import
is all or nothing), so events yielded before it are provisional.

JSON in two passes over the file, which is cheap next to holding it:
1. the shell: every token except those of the event list's items (ijson.parse), so a
   `@context` or an `id` after the body is found; also the syntax check of the whole file;
2. the events: `ijson.items` at the event list (built in C), each checked as it comes.
A top-level array of events (wrapped into a document as `epcis_input.wrap_events` does) is read
the same way, the events' own `@context`s collected in pass 1.

What is read whole, as before (`NeedWholeDocument`): a bare event (one event), JSON that is not
an object or array, shapes the streaming check does not decide alone (an event list given twice,
no object among its items, 1.2 XML `extension` wrappers holding several events), and, for the
exact old message, a JSON file with a syntax error up to `EXACT_ERRORS_BYTES` (64 MB; above,
ijson's message is given). Numbers: JSON numbers beyond 64-bit integers and NaN/Infinity are
refused by ijson; a document of at most 64 MB that has them is read whole, as before.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from tracegraph.engine.errors import Problem, ValidationFailed
from tracegraph.loaders.epcis_doc import EPCIS_CONTEXT_URL, EVENT_TYPES, NeedWholeDocument, StreamCheck, event_list

#: where the events are, by document type
EVENT_LISTS = {"EPCISDocument": "epcisBody.eventList",
               "EPCISQueryDocument": "epcisBody.queryResults.resultsBody.eventList"}
#: a JSON file with a syntax error up to this size is read whole, for the exact message of json
EXACT_ERRORS_BYTES = 64 * 1024 * 1024
_STARTS = ("start_map", "start_array", "string", "number", "boolean", "null")


def _open(path: Path) -> IO[bytes]:
    fh = open(path, "rb")  # noqa: SIM115 - closed by the caller
    if fh.read(3) != b"\xef\xbb\xbf":
        fh.seek(0)
    return fh


def _first_byte(path: Path) -> bytes:
    with _open(path) as fh:
        head = fh.read(4096).lstrip()
    return head[:1]


class _Scan:
    """Pass 1 over a JSON file: the document without the items of its event list(s)."""

    def __init__(self) -> None:
        self.shell: Any = None
        self.items = dict.fromkeys(EVENT_LISTS.values(), 0)
        self.lists = dict.fromkeys(EVENT_LISTS.values(), 0)
        self.odd = False  # an event list that is an object: read whole
        # a top-level array: the items that are no event (index, type) and each event's @context
        self.bad: list[tuple[int, Any]] = []
        self.contexts: list[Any] = []
        self.array_items = 0


def _scan_document(fh: IO[bytes]) -> _Scan:
    import ijson

    scan = _Scan()
    builder = ijson.ObjectBuilder()
    lists = tuple(EVENT_LISTS.values())
    item_of = {p + ".item": p for p in lists}
    items = tuple(item_of)
    inside = tuple(p + "." for p in items)
    for prefix, event, value in ijson.parse(fh, use_float=True):
        if prefix.startswith(items):
            if prefix in item_of:
                if event in _STARTS:
                    scan.items[item_of[prefix]] += 1
                continue
            if prefix.startswith(inside):
                continue
        if prefix in scan.lists:
            if event == "start_array":
                scan.lists[prefix] += 1
            elif event == "start_map":
                scan.odd = True
        builder.event(event, value)
    scan.shell = builder.value
    return scan


def _scan_array(fh: IO[bytes]) -> _Scan:
    """Pass 1 over a top-level array of events: each item's type and own @context."""
    import ijson

    scan = _Scan()
    ctx: Any = None
    item_type: Any = None
    is_object = False
    for prefix, event, value in ijson.parse(fh, use_float=True):
        if prefix == "item":
            if event in ("start_map", "start_array"):
                is_object, item_type, ctx = event == "start_map", None, None
            elif event in _STARTS or event in ("end_map", "end_array"):  # an item ends (a scalar: at once)
                if not is_object or event not in ("end_map", "end_array") or item_type not in EVENT_TYPES:
                    scan.bad.append((scan.array_items, item_type if is_object else None))
                if is_object and ctx is not None and ctx.value is not None:
                    scan.contexts.append(ctx.value)
                scan.array_items += 1
                is_object = False
            continue
        if not is_object or not prefix.startswith("item."):
            continue
        if prefix == "item.type" and event in _STARTS:
            if event in ("start_map", "start_array"):
                raise NeedWholeDocument("an event type that is an object or array")
            item_type = value
        elif prefix == "item.@context" and event in _STARTS:
            ctx = ijson.ObjectBuilder()
            ctx.event(event, value)
        elif ctx is not None and (prefix == "item.@context" or prefix.startswith("item.@context.")):
            ctx.event(event, value)
    return scan


class JsonEventStream:
    """An EPCIS 2.0 JSON / JSON-LD file (a document or an array of events) one event at a time."""

    def __init__(self, path: str | Path, source: str | None = None) -> None:
        self.path = Path(path)
        self.source = source or self.path.name
        self.shell: dict[str, Any] | None = None
        self.events = 0

    def _syntax(self, exc: Exception) -> ValidationFailed:
        from tracegraph.loaders.epcis_doc import read_json

        if self.path.stat().st_size <= EXACT_ERRORS_BYTES:
            read_json(self.path)  # raises json's own message, line and column (as before)
            raise NeedWholeDocument("valid for json, not for ijson (a big integer, NaN)") from exc
        msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return ValidationFailed(
            f"{self.path.name} is not valid JSON: {msg}",
            [Problem(record="document", field="json", message=str(exc).strip()[:400], source=self.path.name)],
            hint="fix the JSON syntax and import again",
        )

    def __iter__(self) -> Iterator[dict[str, Any]]:
        import ijson

        first = _first_byte(self.path)
        if first not in (b"{", b"["):
            raise NeedWholeDocument("not a JSON object or array")
        try:
            with _open(self.path) as fh:
                scan = _scan_array(fh) if first == b"[" else _scan_document(fh)
        except ijson.JSONError as exc:
            raise self._syntax(exc) from exc
        if first == b"[":
            yield from self._array(scan)
            return
        shell = scan.shell
        kind = shell.get("type") if isinstance(shell, dict) else None
        where = EVENT_LISTS.get(kind) if isinstance(kind, str) else None
        skipped = sum(scan.items.values())
        if not skipped:  # nothing was left out: the shell is the whole document
            raise NeedWholeDocument("no events to stream")
        if scan.odd or where is None or scan.items[where] != skipped or scan.lists[where] != 1:
            raise NeedWholeDocument("events where the document type does not put them")
        check = StreamCheck(self.source)
        with _open(self.path) as fh:
            for e in ijson.items(fh, where + ".item", use_float=True):
                if check.event(e):
                    self.events += 1
                    yield e
        check.finish(shell)
        self.shell = shell

    def _array(self, scan: _Scan) -> Iterator[dict[str, Any]]:
        import ijson

        from tracegraph.loaders.epcis_input import not_events, wrapped_shell

        if scan.bad or not scan.array_items:
            raise not_events(scan.bad, self.source)
        ctx: list[Any] = []
        for own in scan.contexts:
            for c in own if isinstance(own, list) else [own]:
                if c not in ctx:
                    ctx.append(c)
        shell = wrapped_shell(ctx)
        check = StreamCheck(self.source)
        with _open(self.path) as fh:
            for e in ijson.items(fh, "item", use_float=True):
                e = {k: v for k, v in e.items() if k != "@context"}
                if check.event(e):
                    self.events += 1
                    yield e
        check.finish(shell)
        self.shell = shell


class EventStream:
    """The events of an EPCIS file (JSON-LD or XML), read as a stream; see the module doc.

    Iterate once for the events; afterwards `shell` is the document without its events (its
    `@context`, `id`, header, with an empty event list) and `streamed` says whether the file was
    streamed (False: read whole, see NeedWholeDocument)."""

    def __init__(self, path: str | Path, fmt: str = "auto", source: str | None = None) -> None:
        from tracegraph.loaders.epcis_input import detect_format

        self.path = Path(path)
        self.source = source or self.path.name
        self.kind = detect_format(self.path) if fmt == "auto" else fmt
        self.shell: dict[str, Any] | None = None
        self.streamed = True
        self.events = 0

    def __iter__(self) -> Iterator[dict[str, Any]]:
        from tracegraph.loaders.epcis_xml import XmlEventStream

        reader: JsonEventStream | XmlEventStream | None = None
        if self.kind == "epcis-json":
            reader = JsonEventStream(self.path, self.source)
        elif self.kind == "epcis-xml":
            reader = XmlEventStream(self.path, self.source)
        if reader is not None:
            try:
                for e in reader:
                    self.events += 1
                    yield e
                self.shell = reader.shell
                return
            except NeedWholeDocument:
                pass
        self.streamed = False
        done, self.events = self.events, 0
        for i, e in enumerate(self._whole()):
            self.events += 1
            if i >= done:  # the same events as streamed so far: give the rest
                yield e

    def _whole(self) -> list[dict[str, Any]]:
        from tracegraph.loaders.epcis_doc import validate_document
        from tracegraph.loaders.epcis_input import read_document

        doc = read_document(self.path, self.kind or "auto")
        validate_document(doc, self.source)
        events = event_list(doc)
        self.shell = without_events(doc)
        return events


def without_events(doc: dict[str, Any]) -> dict[str, Any]:
    """The document with an empty event list (what a stream gives as its shell)."""
    out = dict(doc)
    body = out.get("epcisBody")
    if isinstance(body, dict):
        if out.get("type") == "EPCISQueryDocument" and isinstance(body.get("queryResults"), dict) \
                and isinstance(body["queryResults"].get("resultsBody"), dict):
            qr = dict(body["queryResults"])
            qr["resultsBody"] = {**qr["resultsBody"], "eventList": []}
            out["epcisBody"] = {**body, "queryResults": qr}
        elif "eventList" in body:
            out["epcisBody"] = {**body, "eventList": []}
    return out


def open_events(path: str | Path, fmt: str = "auto", source: str | None = None) -> EventStream:
    """The events of the EPCIS file `path`, read one at a time (see EventStream); `source` names
    it in problems (default: its file name)."""
    return EventStream(path, fmt, source)


def is_epcis_file(path: str | Path) -> bool:
    """True when `path` is an EPCIS file by content: XML, or JSON that is a document or event(s).

    JSON is read as a stream (ijson), so a 1 GB document is not loaded to answer."""
    from tracegraph.loaders.epcis_input import DOC_TYPES, detect_format

    kind = detect_format(path)
    if kind == "epcis-xml":
        return True
    if kind != "epcis-json":
        return False
    import ijson

    try:
        return _is_epcis_json(Path(path))
    except (OSError, ijson.JSONError, NeedWholeDocument):  # JSON ijson refuses (a big integer, NaN): as json reads it
        pass
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8-sig"))
    except (OSError, ValueError):
        return False
    if isinstance(data, dict):
        return data.get("type") in DOC_TYPES + EVENT_TYPES
    return isinstance(data, list) and bool(data) and all(isinstance(e, dict) and e.get("type") in EVENT_TYPES
                                                         for e in data)


def _is_epcis_json(p: Path) -> bool:
    import ijson

    from tracegraph.loaders.epcis_input import DOC_TYPES

    with _open(p) as fh:
        if _first_byte(p) == b"[":
            scan = _scan_array(fh)
            return not scan.bad and scan.array_items > 0
        top: Any = None
        for prefix, event, value in ijson.parse(fh, use_float=True):
            if prefix == "type" and event in ("string", "number", "boolean", "null", "start_map", "start_array"):
                top = value
        return top in DOC_TYPES + EVENT_TYPES


__all__ = ["open_events", "EventStream", "JsonEventStream", "without_events", "EVENT_LISTS", "EPCIS_CONTEXT_URL",
           "EXACT_ERRORS_BYTES", "is_epcis_file"]
