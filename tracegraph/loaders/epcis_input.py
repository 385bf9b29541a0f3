"""What `tracegraph import PATH` was given, decided from the content (not the file name).

    detect_format(path)          -> "bundle" | "epcis-json" | "epcis-xml" | None
    read_document(path, fmt)     -> dict: the EPCIS 2.0 JSON-LD document (XML converted, bare events wrapped)
    wrap_events(obj)             -> dict: a bare event or an event array as an EPCISDocument

read_document reads a file whole; the import reads it one event at a time (epcis_stream.open_events).

Why content: partners name files anything (`.txt`, `.dat`, no extension). A folder or a zip is an
ERP bundle; a file starting with `<` is EPCIS XML (1.2 or 2.0, XSD-checked by epcis_xml); a file
starting with `{` or `[` is EPCIS JSON: a document, a bare event (as the REST binding's
`POST /events` captures one) or an array of events (as `POST /capture` would not: it wants a
document; tracegraph wraps the array into one, see docs/epcis.md).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, cast

from tracegraph.engine.errors import Problem, ValidationFailed
from tracegraph.loaders.epcis_doc import EPCIS_CONTEXT_URL, EVENT_TYPES, read_json

Format = Literal["bundle", "epcis-json", "epcis-xml"]
FORMATS = ("auto", "bundle", "epcis-json", "epcis-xml")
DOC_TYPES = ("EPCISDocument", "EPCISQueryDocument")


def _head(path: Path, n: int = 512) -> bytes:
    with open(path, "rb") as fh:
        head = fh.read(n)
    if head.startswith(b"\xef\xbb\xbf"):
        head = head[3:]
    return head.lstrip()


def detect_format(path: str | Path) -> Format | None:
    """The format of `path` from its content; None when it is none of them. Never raises."""
    p = Path(path)
    try:
        if p.is_dir():
            return "bundle"
        if not p.is_file():
            return None
        head = _head(p)
    except OSError:
        return None
    if head.startswith(b"PK\x03\x04"):
        return "bundle"
    if head[:1] == b"<":
        return "epcis-xml"
    if head[:1] in (b"{", b"["):
        return "epcis-json"
    return None


def wrap_events(obj: Any, source: str = "document") -> dict[str, Any]:
    """A bare event, or an array of events, as the EPCISDocument that carries them.

    Each event's own `@context` (the binding requires one on a bare event) moves to the document
    (merged, in order); GS1's full context is added in front when no event names a GS1 context.
    """
    events = obj if isinstance(obj, list) else [obj]
    bad = [(i, e.get("type") if isinstance(e, dict) else None) for i, e in enumerate(events)
           if not isinstance(e, dict) or e.get("type") not in EVENT_TYPES]
    if bad or not events:
        raise not_events(bad, source)
    ctx: list[Any] = []
    out = []
    for e in events:
        own = e.get("@context")
        for c in own if isinstance(own, list) else [own] if own is not None else []:
            if c not in ctx:
                ctx.append(c)
        out.append({k: v for k, v in e.items() if k != "@context"})
    doc = wrapped_shell(ctx)
    doc["epcisBody"]["eventList"] = out
    return doc


def not_events(bad: list[tuple[int, Any]], source: str) -> ValidationFailed:
    """The refusal of an array (or a bare value) whose items `bad` (index, type) are no events."""
    problems = [Problem(record=f"event {i}", field="type", value=t, source=source,
                        message=f"expected an EPCIS event ({', '.join(EVENT_TYPES)})") for i, t in bad]
    return ValidationFailed(
        f"{source} is neither an EPCIS document nor an EPCIS event (or an array of events)",
        problems or [Problem(record="document", field="(whole)", message="empty array", source=source)],
        hint="send an EPCISDocument, or events with \"type\": \"ObjectEvent\" etc.",
    )


def wrapped_shell(ctx: list[Any]) -> dict[str, Any]:
    """The EPCISDocument around wrapped events (its event list empty): the events' own
    `@context`s merged in order, GS1's full context in front when none names a GS1 context."""
    from tracegraph.loaders.epcis_doc import is_gs1_context_url

    ctx = list(ctx)
    if not any(is_gs1_context_url(c) for c in ctx):
        ctx.insert(0, EPCIS_CONTEXT_URL)
    created = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return {"@context": ctx, "type": "EPCISDocument", "schemaVersion": "2.0", "creationDate": created,
            "epcisBody": {"eventList": []}}


def json_document(data: Any, source: str = "document") -> dict[str, Any]:
    """Parsed JSON -> an EPCIS document (as given) or bare events wrapped into one."""
    if isinstance(data, dict) and data.get("type") in DOC_TYPES:
        return data
    if isinstance(data, list) or (isinstance(data, dict) and data.get("type") in EVENT_TYPES):
        return wrap_events(data, source)
    return cast(dict[str, Any], data)  # not a document: validate_document refuses it with the reason


def read_document(path: str | Path, fmt: str = "auto") -> dict[str, Any]:
    """The EPCIS 2.0 JSON-LD document in `path` (XML converted, bare events wrapped); not yet
    schema-checked as JSON (load_document does that)."""
    p = Path(path)
    kind = detect_format(p) if fmt == "auto" else fmt
    if kind == "epcis-xml":
        from tracegraph.loaders.epcis_xml import read_xml

        return read_xml(p)
    if kind == "epcis-json":
        return json_document(read_json(p), p.name)
    raise ValidationFailed(
        f"{p.name} is not an EPCIS document (JSON-LD or XML)",
        [Problem(record="document", field="(whole)", source=p.name, message="unrecognised content")],
        hint="give an EPCIS 2.0 JSON-LD, EPCIS 1.2/2.0 XML file, or an ERP bundle folder/zip",
    )


__all__ = ["detect_format", "read_document", "wrap_events", "json_document", "not_events", "wrapped_shell", "FORMATS"]
