"""A fast proof that an EPCIS 2.0 event is valid, for the shapes scanners and ERPs send.

    build(patterns, schema) -> precheck(event) -> bool

Why: GS1's JSON Schema, even compiled to Python (epcis_doc.py), spent ~170 us on each event of
a one-event-per-unit document (an ObjectEvent with one EPC): the schema's anyOf and propertyNames
branches are tried by raising and catching exceptions, ~28 per event. That was a fifth of an
import's time (docs/perf.md, issue 16).

What it answers: True only when the event is certainly valid under the schema's event-list item
(`EPCIS-Document-Event`); False means "not proven", and the caller then runs the compiled
schema check, which decides (and the full check itemises the problems of a refused document).
So a document is accepted or refused exactly as before; this only skips the slow check for
events it can prove valid. To stay provably inside the schema it is deliberately narrow:

- ObjectEvent, AggregationEvent and TransformationEvent only (others: not proven);
- only the fields named below, each a plain `dict` / `list` / `str` / number, and extension
  fields (named by a URI such as `example:myField`, any value, as the schema allows); anything
  else (e.g. `errorDeclaration`, `certificationInfo`, `sensorElementList`, `persistentDisposition`,
  an event's own `@context`, a readPoint with more than `id`) is not proven;
- each value checked with the schema's OWN compiled regular expressions (`patterns`: the
  generated code's REGEX_PATTERNS, the same objects and the same `match` / `search` calls) and
  the schema's own vocabulary lists (`schema`), so `uri`, `date-time`, the time-zone offset,
  `uom` and "not a CBV URI" mean exactly what they mean there;
- the schema's cross-field rules: `type`, `action`, `eventTime`, `eventTimeZoneOffset` present;
  ObjectEvent: an `epcList` or a non-empty `quantityList`, and `ilmd` only with action ADD;
  AggregationEvent: non-empty `childEPCs` or `childQuantityList`, or action DELETE;
  TransformationEvent: a non-empty input and a non-empty output list; `epcList` items unique.

tests/test_epcis_precheck.py checks, on the corpus and on thousands of mutated events, that
every event proven valid here is valid for the compiled schema.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

_COMMON = frozenset({"type", "eventTime", "eventTimeZoneOffset", "eventID", "recordTime", "bizStep", "disposition",
                     "readPoint", "bizLocation", "bizTransactionList", "sourceList", "destinationList"})
_OBJECT = _COMMON | {"action", "epcList", "quantityList", "ilmd"}
_AGGREGATION = _COMMON | {"action", "parentID", "childEPCs", "childQuantityList"}
_TRANSFORMATION = _COMMON | {"inputEPCList", "inputQuantityList", "outputEPCList", "outputQuantityList",
                             "transformationID", "ilmd"}
_ACTIONS = frozenset({"OBSERVE", "ADD", "DELETE"})
_QTY_KEYS = frozenset({"epcClass", "quantity", "uom"})
_ID_KEYS = frozenset({"id"})
_BT_KEYS = frozenset({"type", "bizTransaction"})


def _enum(schema: dict[str, Any], name: str) -> frozenset[str]:
    """The bare words a vocabulary field takes besides a non-CBV URI (its anyOf's enum)."""
    for alt in schema["definitions"][name].get("anyOf", []):
        if "enum" in alt and alt.get("type") == "string":
            return frozenset(v for v in alt["enum"] if isinstance(v, str))
    raise KeyError(name)


def build(patterns: dict[str, Any], schema: dict[str, Any]) -> Callable[[Any], bool]:
    """The pre-check for the schema compiled with these REGEX_PATTERNS (see the module doc)."""
    uri = patterns["uri_re_pattern"].match
    time = patterns["date-time_re_pattern"].match
    tz = patterns["^([+]|[-])((0[0-9]|1[0-3]):([0-5][0-9])|14:00)$"].search
    other = patterns["^(?!(urn:epcglobal:cbv|https?:\\/\\/ns\\.gs1\\.org/cbv\\/))"].search
    uom = patterns["^[A-Z0-9]{2,3}$"].search
    steps, disps = _enum(schema, "bizStep"), _enum(schema, "disposition")
    bt_types, sd_types = _enum(schema, "bizTransaction-type"), _enum(schema, "source-dest-type")

    def vocab(v: Any, words: frozenset[str]) -> bool:
        return type(v) is str and (v in words or (other(v) is not None and uri(v) is not None))

    def uris(v: Any, unique: bool) -> bool:
        if type(v) is not list:
            return False
        for u in v:
            if type(u) is not str or uri(u) is None:
                return False
        return not unique or len(v) < 2 or len(set(v)) == len(v)

    def quantities(v: Any) -> bool:
        if type(v) is not list:
            return False
        for q in v:
            if type(q) is not dict or not q.keys() <= _QTY_KEYS:
                return False
            c = q.get("epcClass")
            if type(c) is not str or uri(c) is None:
                return False
            if "quantity" in q and type(q["quantity"]) not in (int, float):
                return False
            if "uom" in q and (type(q["uom"]) is not str or uom(q["uom"]) is None):
                return False
        return True

    def where(v: Any) -> bool:  # readPoint, bizLocation: {"id": uri}
        return type(v) is dict and v.keys() == _ID_KEYS and type(v["id"]) is str and uri(v["id"]) is not None

    def parties(v: Any, field: str) -> bool:  # sourceList / destinationList
        if type(v) is not list:
            return False
        for x in v:
            if type(x) is not dict or len(x) != 2 or "type" not in x or field not in x:
                return False
            if not vocab(x["type"], sd_types) or type(x[field]) is not str or uri(x[field]) is None:
                return False
        return True

    def transactions(v: Any) -> bool:
        if type(v) is not list:
            return False
        for x in v:
            if type(x) is not dict or not x.keys() <= _BT_KEYS:
                return False
            b = x.get("bizTransaction")
            if type(b) is not str or uri(b) is None:
                return False
            if "type" in x and not vocab(x["type"], bt_types):
                return False
        return True

    def names(e: dict[str, Any], known: frozenset[str]) -> bool:
        """The schema's propertyNames: the kind's fields, or an extension field named by a URI
        (`example:myField`, any value)."""
        extra = e.keys() - known
        return not extra or all(type(k) is str and uri(k) is not None for k in extra)

    def common(e: dict[str, Any]) -> bool:
        """The fields every kind shares (`Event` and the per-kind properties of the same name)."""
        t = e.get("eventTime")
        if type(t) is not str or time(t) is None:
            return False
        z = e.get("eventTimeZoneOffset")
        if type(z) is not str or tz(z) is None:
            return False
        for k in ("eventID", "transformationID", "parentID"):
            if k in e and (type(e[k]) is not str or uri(e[k]) is None):
                return False
        if "recordTime" in e and (type(e["recordTime"]) is not str or time(e["recordTime"]) is None):
            return False
        if "bizStep" in e and not vocab(e["bizStep"], steps):
            return False
        if "disposition" in e and not vocab(e["disposition"], disps):
            return False
        if "readPoint" in e and not where(e["readPoint"]):
            return False
        if "bizLocation" in e and not where(e["bizLocation"]):
            return False
        if "bizTransactionList" in e and not transactions(e["bizTransactionList"]):
            return False
        if "sourceList" in e and not parties(e["sourceList"], "source"):
            return False
        if "destinationList" in e and not parties(e["destinationList"], "destination"):
            return False
        if "ilmd" in e:
            m = e["ilmd"]
            if type(m) is not dict:
                return False
            for k in m:
                if type(k) is not str or uri(k) is None:
                    return False
        return True

    def precheck(e: Any) -> bool:
        if type(e) is not dict:
            return False
        t = e.get("type")
        a = e.get("action")
        if a is not None and (type(a) is not str or a not in _ACTIONS):
            return False
        if t == "ObjectEvent":
            if not names(e, _OBJECT) or a is None or not common(e):
                return False
            if "ilmd" in e and a != "ADD":
                return False
            has = False
            if "epcList" in e:
                if not uris(e["epcList"], True):
                    return False
                has = True
            if "quantityList" in e:
                if not quantities(e["quantityList"]):
                    return False
                has = has or bool(e["quantityList"])
            return has
        if t == "AggregationEvent":
            if not names(e, _AGGREGATION) or a is None or not common(e):
                return False
            has = a == "DELETE"
            if "childEPCs" in e:
                if not uris(e["childEPCs"], False):
                    return False
                has = has or bool(e["childEPCs"])
            if "childQuantityList" in e:
                if not quantities(e["childQuantityList"]):
                    return False
                has = has or bool(e["childQuantityList"])
            return has
        if t == "TransformationEvent":
            if not names(e, _TRANSFORMATION) or not common(e):
                return False
            sides = []
            for epcs, qtys in (("inputEPCList", "inputQuantityList"), ("outputEPCList", "outputQuantityList")):
                has = False
                if epcs in e:
                    if not uris(e[epcs], True):
                        return False
                    has = bool(e[epcs])
                if qtys in e:
                    if not quantities(e[qtys]):
                        return False
                    has = has or bool(e[qtys])
                sides.append(has)
            return all(sides)
        return False

    return precheck


__all__ = ["build"]
