"""Reading and checking EPCIS 2.0 JSON / JSON-LD documents against GS1's published JSON Schema.

Why first the schema: a partner's feed that is not valid EPCIS must be refused as a whole with
every problem named (event index + field), before anything touches the graph.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from jsonschema import Draft7Validator

from tracegraph.engine.errors import Problem, ValidationFailed

SCHEMA_DIR = Path(__file__).resolve().parent / "epcis_schema"
SCHEMA_PATH = SCHEMA_DIR / "EPCIS-JSON-Schema.json"
#: the context URL every EPCIS 2.0 document references
EPCIS_CONTEXT_URL = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
EVENT_TYPES = ("ObjectEvent", "AggregationEvent", "TransactionEvent", "TransformationEvent", "AssociationEvent")


@lru_cache(maxsize=1)
def validator() -> Draft7Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return Draft7Validator(schema, format_checker=Draft7Validator.FORMAT_CHECKER)


@lru_cache(maxsize=1)
def _compiled() -> tuple[Any, Any, Any]:
    """(the whole schema's check, the check of one `EPCIS-Document-Event` or None, the pre-check
    proving an event valid, epcis_precheck.py, or None), compiled once."""
    import fastjsonschema

    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    # fastjsonschema names each list item for its messages with `"...[{i}]".format(**locals())`,
    # evaluated for every item whether it fails or not: an f-string says the same (the same
    # names, the same text) without building a dict of the locals; 3x faster on event lists
    code = _FORMAT_LOCALS.sub(lambda m: 'f"' + m.group(1) + '"', fastjsonschema.compile_to_code(schema))
    name = re.search(r"^def (\w+)\(", code, re.M)
    if name is None or "locals()" in code:
        return fastjsonschema.compile(schema), None, None
    namespace: dict[str, Any] = {}
    exec(compile(code, "<EPCIS-JSON-Schema>", "exec"), namespace)  # code generated from GS1's schema, not input
    # the event list's items are checked by this function and by nothing else (the event list's
    # own function only loops over them): calling it on an event is the check the event gets
    # inside any document, without the document around it (`_MINI_SHELL`) checked once per event
    ev = re.findall(r"^def (\w+__definitions_epcis_document_event)\(", code, re.M)
    lists = re.findall(r"^    +(\w+)\(data_item, custom_formats", code, re.M)
    one = namespace[ev[0]] if len(ev) == 1 and code.count(ev[0] + "(") == 2 and set(lists) >= {ev[0]} else None
    pre = None
    if one is not None:
        from tracegraph.loaders.epcis_precheck import build

        try:  # the generated code's own regular expressions; a schema without them gets no pre-check
            pre = build(namespace["REGEX_PATTERNS"], schema)
        except KeyError:
            pre = None
    return namespace[name.group(1)], one, pre


def fast_validator() -> Any:
    """GS1's schema compiled to Python by fastjsonschema: ~15x faster than jsonschema on large
    documents, but stops at the first problem; jsonschema then lists every problem."""
    return _compiled()[0]


def fast_event_ok(e: Any) -> bool:
    """Whether one event passes the schema's check of an event-list item (the same answer as
    `fast_ok` of a valid document holding only this event). Events of the common shapes are
    proven valid by a narrow pre-check (epcis_precheck.py, ~15x faster); the compiled schema
    decides every other event."""
    import fastjsonschema

    _, one, pre = _compiled()
    if pre is not None and pre(e):  # proven valid for the schema (epcis_precheck.py): the common shapes
        return True
    try:
        if one is None:
            fast_validator()({**_MINI_SHELL, "epcisBody": {"eventList": [e]}})
        else:
            one(e, {}, "data.epcisBody.eventList[0]")
        return True
    except fastjsonschema.JsonSchemaException:
        return False


_FORMAT_LOCALS = re.compile(r'"((?:[^"\\{}]|\\.|\{\w+\})*)"\.format\(\*\*locals\(\)\)')


def fast_ok(doc: Any) -> bool:
    import fastjsonschema

    try:
        fast_validator()(doc)
        return True
    except fastjsonschema.JsonSchemaException:
        return False


def read_json(path: str | Path) -> Any:
    p = Path(path)
    try:
        return json.loads(p.read_text(encoding="utf-8-sig"))
    except FileNotFoundError as exc:
        raise ValidationFailed(f"{p} does not exist", hint="check the path") from exc
    except json.JSONDecodeError as exc:
        raise ValidationFailed(
            f"{p.name} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}",
            [Problem(record=f"line {exc.lineno}", field="json", message=exc.msg, source=p.name)],
            hint="fix the JSON syntax and import again",
        ) from exc


def event_list(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """The events of an EPCISDocument or of an EPCISQueryDocument's query results."""
    body = doc.get("epcisBody") or {}
    if doc.get("type") == "EPCISQueryDocument":
        body = ((body.get("queryResults") or {}).get("resultsBody")) or {}
    events = body.get("eventList") or []
    return [e for e in events if isinstance(e, dict)]


def _where(path: list[Any], doc_type: str | None) -> tuple[str, str]:
    """Schema error path -> ("event N", "field.sub[i]") or ("document", field)."""
    parts = list(path)
    prefix = ["epcisBody", "eventList"]
    if doc_type == "EPCISQueryDocument":
        prefix = ["epcisBody", "queryResults", "resultsBody", "eventList"]
    record = "document"
    if parts[: len(prefix)] == prefix and len(parts) > len(prefix) and isinstance(parts[len(prefix)], int):
        record = f"event {parts[len(prefix)]}"
        parts = parts[len(prefix) + 1:]
    field = ""
    for p in parts:
        field += f"[{p}]" if isinstance(p, int) else (("." if field else "") + str(p))
    return record, field or "(whole)"


def validate_document(doc: Any, source: str = "") -> None:
    """Raise ValidationFailed listing every schema problem (event index and field) of `doc`."""
    if not isinstance(doc, dict) or doc.get("type") not in ("EPCISDocument", "EPCISQueryDocument"):
        raise _not_a_document(doc, source)
    problems: list[Problem] = []
    if not fast_ok(doc):
        problems = _all_problems(doc, source)
    # the schema allows any string as an event type; refuse what no EPCIS 2.0 reader knows
    for i, e in enumerate(event_list(doc)):
        if e.get("type") not in EVENT_TYPES:
            problems.append(Problem(record=f"event {i}", field="type", value=e.get("type"), source=source,
                                    message=f"unknown event type; expected one of {', '.join(EVENT_TYPES)}"))
    if problems:
        raise _refuse(problems, source)


#: a valid document around one event: GS1's schema checks an event the same in any document
#: (`EPCIS-Document-Event` does not look at the document), so a streamed event is checked in it
_MINI_SHELL = {"@context": [EPCIS_CONTEXT_URL], "type": "EPCISDocument", "schemaVersion": "2.0",
               "creationDate": "1970-01-01T00:00:00Z"}


def _unique(problems: list[Problem]) -> list[Problem]:
    seen: set[tuple[str, str, str]] = set()
    unique = []
    for p in problems:
        k = (p.record, p.field, p.message)
        if k not in seen:
            seen.add(k)
            unique.append(p)
    return unique


def _refuse(problems: list[Problem], source: str) -> ValidationFailed:
    unique = _unique(problems)
    return ValidationFailed(
        f"{source or 'the EPCIS document'} does not conform to the EPCIS 2.0 JSON Schema "
        f"({len(unique)} problem{'s' if len(unique) != 1 else ''})",
        unique,
        hint="fix the listed events and fields; nothing was imported",
    )


def _not_a_document(doc: Any, source: str) -> ValidationFailed:
    return ValidationFailed(
        f"{source or 'document'} is not an EPCIS 2.0 document (\"type\" must be \"EPCISDocument\")",
        [Problem(record="document", field="type", message="expected EPCISDocument or EPCISQueryDocument",
                 value=doc.get("type") if isinstance(doc, dict) else None, source=source)],
        hint="export EPCIS 2.0 JSON/JSON-LD from the sending system",
    )


class NeedWholeDocument(Exception):
    """A streamed document has a shape the streaming check cannot decide alone (no object among
    its events, an event list given twice...): read it whole instead (epcis_stream.py does)."""


class StreamCheck:
    """`validate_document` one event at a time: the same problems, the same refusal.

    GS1's schema checks each event on its own (`EPCIS-Document-Event`, whatever the document
    around it) and the document apart from its events; so a document is valid exactly when its
    shell (the document with an empty event list) and each event are. Feed every item of the
    event list to `event()` in order (it answers whether to keep it: objects only, like
    `event_list`), then give the shell to `finish()`, which raises what `validate_document` of
    the whole document raises. The compiled validator is built once per process.
    """

    def __init__(self, source: str = "") -> None:
        self.source = source
        self.items = 0  # items of the event list (index of schema problems)
        self.events = 0  # objects among them (index of the event-type check)
        self.failed = False
        self.problems: list[Problem] = []
        self.type_problems: list[Problem] = []

    def event(self, e: Any) -> bool:
        i = self.items
        self.items += 1
        if not fast_event_ok(e):
            self.failed = True
            self.problems.extend(_problems_of({**_MINI_SHELL, "epcisBody": {"eventList": [e]}}, self.source,
                                              "EPCISDocument", index=i))
        if not isinstance(e, dict):
            return False
        if e.get("type") not in EVENT_TYPES:
            self.type_problems.append(Problem(record=f"event {self.events}", field="type", value=e.get("type"),
                                              source=self.source, message="unknown event type; expected one of "
                                              f"{', '.join(EVENT_TYPES)}"))
        self.events += 1
        return True

    def finish(self, shell: Any) -> None:
        """`shell`: the document with its event list empty (`[]`) where the events were."""
        source = self.source
        if not isinstance(shell, dict) or shell.get("type") not in ("EPCISDocument", "EPCISQueryDocument"):
            raise _not_a_document(shell, source)
        if self.items == 0:
            validate_document(shell, source)
            return
        if self.events == 0:
            raise NeedWholeDocument("no object among the events")
        problems: list[Problem] = []
        if self.failed or not fast_ok(shell):
            doc_shell = {k: v for k, v in shell.items() if k != "epcisBody"}
            doc_shell["type"] = "EPCISDocument"
            problems = _problems_of({**doc_shell, "epcisBody": {"eventList": []}}, source, "EPCISDocument")
            problems.extend(self.problems)
        problems.extend(self.type_problems)
        if problems:
            raise _refuse(problems, source)


def _problems_of(doc: Any, source: str, doc_type: str | None, index: int | None = None) -> list[Problem]:
    out = []
    for err in validator().iter_errors(doc):
        # an if/then failure is reported on the innermost errors, which name the field
        for leaf in _leaves(err):
            record, field = _where(list(leaf.absolute_path), doc_type)
            if index is not None and record == "event 0":
                record = f"event {index}"
            if "propertyNames" in leaf.absolute_schema_path and isinstance(leaf.instance, str):
                # a field the event type does not have (e.g. persistentDisposition in an AggregationEvent)
                field = leaf.instance if field == "(whole)" else f"{field}.{leaf.instance}"
            if leaf.validator == "required" and "'" in leaf.message:
                missing = leaf.message.split("'")[1]
                field = missing if field == "(whole)" else f"{field}.{missing}"
            out.append(Problem(record=record, field=field, message=leaf.message[:300],
                               value=_short(leaf.instance), source=source))
    return out


def _all_problems(doc: dict[str, Any], source: str) -> list[Problem]:
    """Every schema problem: the document without its events, then each event on its own
    (fast check first, the slow itemised check only for events that fail)."""
    events = event_list(doc)
    body = doc.get("epcisBody")
    if not isinstance(body, dict) or not events:
        return _problems_of(doc, source, doc.get("type"))
    shell = {k: v for k, v in doc.items() if k != "epcisBody"}
    shell["type"] = "EPCISDocument"
    out = _problems_of({**shell, "epcisBody": {"eventList": []}}, source, "EPCISDocument")
    raw = (body.get("queryResults") or {}).get("resultsBody", {}).get("eventList") \
        if doc.get("type") == "EPCISQueryDocument" else body.get("eventList")
    for i, e in enumerate(raw if isinstance(raw, list) else []):
        mini = {**shell, "epcisBody": {"eventList": [e]}}
        if not fast_ok(mini):
            out.extend(_problems_of(mini, source, "EPCISDocument", index=i))
    return out


def _leaves(err: Any) -> list[Any]:
    if err.context:
        # anyOf/oneOf: report the alternative that got furthest (deepest path)
        best = max(err.context, key=lambda e: len(e.absolute_path))
        return _leaves(best)
    return [err]


def _short(v: Any) -> Any:
    if isinstance(v, (dict, list)):
        s = json.dumps(v)[:80]
        return s
    return v


def is_gs1_context_url(c: Any) -> bool:
    """GS1's EPCIS JSON-LD context (full or simple) under any of its published addresses."""
    return isinstance(c, str) and c.startswith(("https://ref.gs1.org/standards/epcis/", "https://gs1.github.io/EPCIS/",
                                                "https://id.gs1.org/")) \
        and c.rsplit("/", 1)[-1] in ("epcis-context.jsonld", "epcis-context-simple.jsonld")


def extra_context(doc: dict[str, Any]) -> list[Any]:
    """The document's @context without GS1's own context (under any of its addresses, full or
    simple): what is left are the extension prefixes, kept on each event node for the export."""
    ctx = doc.get("@context")
    items = ctx if isinstance(ctx, list) else [ctx] if ctx is not None else []
    return [c for c in items if c != EPCIS_CONTEXT_URL and not is_gs1_context_url(c)]


__all__ = ["SCHEMA_PATH", "EPCIS_CONTEXT_URL", "EVENT_TYPES", "validator", "read_json", "StreamCheck",
           "NeedWholeDocument",
           "event_list", "validate_document", "extra_context", "is_gs1_context_url"]
