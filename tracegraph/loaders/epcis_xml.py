"""EPCIS 1.2 / 2.0 XML in: XSD validation and conversion to the EPCIS 2.0 JSON-LD form.

Why a converter and not a second mapper: the JSON-LD pipeline (epcis_doc -> epcis_map ->
epcis_write) already decides what every event means for the graph. An XML document is turned
into the JSON-LD document GS1's XML/JSON mapping describes (the one OpenEPCIS's converter
writes) and then goes through exactly that pipeline, so the XML and the JSON-LD form of the same
events give the same graph.

    validate_xml(root_or_path)  -> raises ValidationFailed with one Problem per XSD error (line, element)
    xml_to_document(root)       -> dict: an EPCIS 2.0 JSON-LD EPCISDocument / EPCISQueryDocument
    read_xml(path)              -> dict: parse + validate + convert
    stream_xml(path)            -> XmlEventStream: the same, one event at a time (iterparse; the import uses it)

Rules (docs/epcis.md "XML"):
- 1.2's `extension` / `baseExtension` wrappers (and 2.0's, where they remain) are unwrapped: their
  children are fields of the element that holds them (quantityList, sourceList, ilmd, eventID,
  errorDeclaration, TransformationEvent inside EventList/extension, sensorElementList ...).
- CBV values in URN form (`urn:epcglobal:cbv:bizstep:shipping`) and web-URI form
  (`https://ref.gs1.org/cbv/BizStep-shipping`) become the bare JSON-LD term (`shipping`) when
  the term is one of GS1's; any other URI stays as given.
- user extension elements (namespaced) become `prefix:local` fields, their namespace declared
  in `@context`; nested elements become objects, repeated ones arrays, text stays a string;
  attributes of an extension element are kept as `prefix:attr` keys next to `#text`.
- a bare event (an event element as root, the REST binding's single-event capture) is validated
  as the only event of a document of its version.
"""

from __future__ import annotations

import bisect
import copy
import json
import re
from array import array
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

from lxml import etree

from tracegraph.engine.errors import Problem, ValidationFailed
from tracegraph.loaders.epcis_doc import EPCIS_CONTEXT_URL, EVENT_TYPES, SCHEMA_DIR

XSD_DIR = SCHEMA_DIR / "xsd"
NS = {
    "1.2": {"epcis": "urn:epcglobal:epcis:xsd:1", "query": "urn:epcglobal:epcis-query:xsd:1",
            "masterdata": "urn:epcglobal:epcis-masterdata:xsd:1"},
    "2.0": {"epcis": "urn:epcglobal:epcis:xsd:2", "query": "urn:epcglobal:epcis-query:xsd:2",
            "masterdata": "urn:epcglobal:epcis-masterdata:xsd:2"},
}
XSD_FILES = {"1.2": ("EPCglobal-epcis-1_2.xsd", "EPCglobal-epcis-query-1_2.xsd", "EPCglobal-epcis-masterdata-1_2.xsd"),
             "2.0": ("EPCglobal-epcis-2_0.xsd", "EPCglobal-epcis-query-2_0.xsd", "EPCglobal-epcis-masterdata-2_0.xsd")}
XSI = "http://www.w3.org/2001/XMLSchema-instance"
SBDH = "http://www.unece.org/cefact/namespaces/StandardBusinessDocumentHeader"
#: namespaces that are EPCIS's own (never user extensions)
OWN_NS = {v for d in NS.values() for v in d.values()} | {"urn:epcglobal:xsd:1", SBDH}


# ---------------------------------------------------------------------------------------
# XSD
# ---------------------------------------------------------------------------------------


def not_well_formed(name: str, exc: etree.XMLSyntaxError) -> ValidationFailed:
    """The refusal of a file that is not XML at all: the line libxml2 stopped at, its message."""
    line = exc.position[0] if exc.position else 0
    return ValidationFailed(f"{name} is not well-formed XML: {exc.msg}",
                            [Problem(record=f"line {line}", field="xml", message=str(exc.msg), source=name)],
                            hint="fix the XML syntax and import again")


@lru_cache(maxsize=2)
def xml_schema(version: str) -> etree.XMLSchema:
    """One schema per EPCIS version that knows the event, query and master-data documents."""
    folder = XSD_DIR / version
    imports = "".join(
        f'<xsd:import namespace="{ns}" schemaLocation="{(folder / f).as_uri()}"/>'
        for ns, f in zip((NS[version]["epcis"], NS[version]["query"], NS[version]["masterdata"]), XSD_FILES[version])
    )
    doc = etree.fromstring(f'<xsd:schema xmlns:xsd="http://www.w3.org/2001/XMLSchema">{imports}</xsd:schema>',
                           base_url=(folder / "all.xsd").as_uri())
    return etree.XMLSchema(doc)


def parse_xml(path: str | Path | bytes) -> etree._ElementTree:
    """Parse without resolving entities or fetching anything from the network (untrusted input)."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, remove_comments=True, huge_tree=True,
                             load_dtd=False)
    name = "document" if isinstance(path, bytes) else Path(path).name
    try:
        if isinstance(path, bytes):
            return etree.ElementTree(etree.fromstring(path, parser))
        return etree.parse(str(path), parser)
    except OSError as exc:
        raise ValidationFailed(f"{name} cannot be read: {exc}", hint="check the path") from exc
    except etree.XMLSyntaxError as exc:
        raise not_well_formed(name, exc) from exc


def _local(tag: Any) -> str:
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def _ns(tag: Any) -> str | None:
    return etree.QName(tag).namespace if isinstance(tag, str) else None


def xml_version(root: etree._Element) -> str:
    """'1.2' or '2.0' from the root's namespace (documents) or declarations / schemaVersion (bare events)."""
    ns = _ns(root.tag)
    for v, d in NS.items():
        if ns in d.values():
            return v
    sv = (root.get("schemaVersion") or "").strip()
    if sv.startswith("1."):
        return "1.2"
    if sv.startswith("2"):
        return "2.0"
    declared = set(root.nsmap.values())
    return "1.2" if declared & set(NS["1.2"].values()) and not declared & set(NS["2.0"].values()) else "2.0"


def is_bare_event(root: etree._Element) -> bool:
    return _local(root.tag) in EVENT_TYPES + ("QuantityEvent",)


def _wrap_event(root: etree._Element, version: str) -> etree._Element:
    """A bare event as the only event of an EPCISDocument of its version (for the XSD and the mapping)."""
    ns = NS[version]["epcis"]
    doc = etree.Element(f"{{{ns}}}EPCISDocument", nsmap={"epcis": ns},
                        schemaVersion=version, creationDate=root.get("creationDate") or "1970-01-01T00:00:00Z")
    body = etree.SubElement(doc, "EPCISBody")
    events = etree.SubElement(body, "EventList")
    ev = copy.deepcopy(root)
    for a in ("schemaVersion", "creationDate"):
        ev.attrib.pop(a, None)
    container = events
    if version == "1.2" and _local(root.tag) in ("TransformationEvent", "AssociationEvent"):
        container = etree.SubElement(events, "extension")
        if _local(root.tag) == "AssociationEvent":
            container = etree.SubElement(container, "extension")
    container.append(ev)
    return doc


_NOT_COLLAPSED = {"string", "normalizedString", "anyType", "anySimpleType"}


def _collapse_typed_text(root: etree._Element) -> None:
    """Strip the text of leaf elements typed by `xsi:type` as a non-string XSD type.

    Why: XSD says those types collapse whitespace (`<x xsi:type="xsd:dateTime">\n 2013-...Z\n</x>`
    is valid), but libxml2 does not apply it for xsi:type-typed extension elements and refuses them.
    """
    key = f"{{{XSI}}}type"
    for el in root.iter():
        t = el.get(key) if isinstance(el.tag, str) else None
        if t and len(el) == 0 and el.text and t.rsplit(":", 1)[-1] not in _NOT_COLLAPSED:
            el.text = el.text.strip()


_ELEMENT = re.compile(r"Element '([^']+)'")


def _event_starts(root: etree._Element) -> list[int]:
    out = []
    for el in root.iter():
        if isinstance(el.tag, str) and _local(el.tag) in EVENT_TYPES + ("QuantityEvent",) and _ns(el.tag) is None:
            out.append(el.sourceline or 0)
    return out


def validate_xml(root: etree._Element, source: str = "") -> str:
    """Check `root` against GS1's XSD of its version; returns the version.

    Raises ValidationFailed with one Problem per schema error: record "line N (event i)", field
    the element the validator names, message what it expected.
    """
    version = xml_version(root)
    schema = xml_schema(version)
    _collapse_typed_text(root)
    tree = _wrap_event(root, version) if is_bare_event(root) else root
    if schema.validate(tree):
        return version
    starts = _event_starts(root) if not is_bare_event(root) else [root.sourceline or 1]
    raise _xsd_refusal([p for _, p in _xsd_problems(schema.error_log, starts, source)], version, source)


def _xsd_problems(error_log: Any, starts: Sequence[int], source: str) -> list[tuple[int, Problem]]:
    """(line, Problem) for each XSD error; the event is the last one started at or before the line."""
    out = []
    for err in error_log:
        m = _ELEMENT.search(err.message)
        element = m.group(1) if m else "(document)"
        element = re.sub(r"^\{[^}]*\}", "", element) if not element.startswith("{http") else element
        before = bisect.bisect_right(starts, err.line)
        where = f"line {err.line}" + (f" (event {before - 1})" if before else "")
        out.append((err.line, Problem(record=where, field=element, message=err.message.strip()[:400], source=source)))
    return out


def _xsd_refusal(problems: list[Problem], version: str, source: str) -> ValidationFailed:
    return ValidationFailed(
        f"{source or 'the XML document'} does not conform to GS1's EPCIS {version} XML Schema "
        f"({len(problems)} problem{'s' if len(problems) != 1 else ''})",
        problems,
        hint="fix the listed elements; nothing was imported",
    )


# ---------------------------------------------------------------------------------------
# CBV values: URN and web URI -> the JSON-LD bare term
# ---------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def cbv_enums() -> dict[str, frozenset[str]]:
    schema = json.loads((SCHEMA_DIR / "EPCIS-JSON-Schema.json").read_text(encoding="utf-8"))["definitions"]
    out = {}
    for name in ("bizStep", "disposition", "error-reason", "bizTransaction-type", "source-dest-type",
                 "measurementType", "sensorAlertType", "component"):
        vals: set[str] = set()
        for alt in schema.get(name, {}).get("anyOf", []):
            vals.update(alt.get("enum") or [])
        out[name] = frozenset(vals)
    return out


#: vocabulary -> (URN prefix, web URI prefix) of the CBV
CBV_FORMS = {
    "bizStep": ("urn:epcglobal:cbv:bizstep:", "https://ref.gs1.org/cbv/BizStep-"),
    "disposition": ("urn:epcglobal:cbv:disp:", "https://ref.gs1.org/cbv/Disp-"),
    "error-reason": ("urn:epcglobal:cbv:er:", "https://ref.gs1.org/cbv/ER-"),
    "bizTransaction-type": ("urn:epcglobal:cbv:btt:", "https://ref.gs1.org/cbv/BTT-"),
    "source-dest-type": ("urn:epcglobal:cbv:sdt:", "https://ref.gs1.org/cbv/SDT-"),
    "measurementType": ("gs1:", "https://gs1.org/voc/"),
    "sensorAlertType": ("gs1:", "https://gs1.org/voc/"),
    "component": ("urn:epcglobal:cbv:comp:", "https://ref.gs1.org/cbv/Comp-"),
}


#: the same values as CURIEs of GS1's context (`cbv:BizStep-shipping`, `gs1:Temperature`)
CBV_CURIES = {k: tuple(p.replace("https://ref.gs1.org/cbv/", "cbv:").replace("https://gs1.org/voc/", "gs1:")
                       for p in v if p.startswith("https://")) for k, v in CBV_FORMS.items()}


def cbv_term(vocab: str, value: str) -> str:
    """`urn:epcglobal:cbv:bizstep:shipping` / `cbv:BizStep-shipping` -> `shipping` (the JSON-LD form
    OpenEPCIS writes for them); a web URI (`https://ref.gs1.org/cbv/BizStep-shipping`) is valid
    JSON-LD as it is and stays as given (the graph compares on the bare word either way)."""
    v = value.strip()
    forms = tuple(f for f in CBV_FORMS[vocab] if not f.startswith("https://")) + CBV_CURIES[vocab]
    for prefix in forms:
        if v.startswith(prefix) and v[len(prefix):] in cbv_enums()[vocab]:
            return v[len(prefix):]
    return v


# ---------------------------------------------------------------------------------------
# namespaces of user extensions -> @context prefixes
# ---------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def standard_context() -> dict[str, Any]:
    ctx = json.loads((SCHEMA_DIR / "epcis-context.jsonld").read_text(encoding="utf-8"))["@context"]
    return ctx if isinstance(ctx, dict) else {}


def standard_prefixes() -> dict[str, str]:
    """Prefixes GS1's context already defines (namespace -> prefix), also without the trailing ':' '#' '/'."""
    out = {}
    for k, v in standard_context().items():
        if isinstance(v, str) and v[-1:] in (":", "#", "/") and not k.startswith("@"):
            out[v] = k
            out[v.rstrip(":#/")] = k
    return out


class Namespaces:
    """Prefix for each extension namespace of one document; declared ones go into @context.

    The XML prefix is kept when it is free; a prefix GS1's context defines (or uses as a term)
    is never redefined (the context is @protected), so a clash gets a numbered prefix.
    """

    def __init__(self) -> None:
        self.prefix_of: dict[str, str] = {}
        self.declared: dict[str, str] = {}  # prefix -> namespace (goes into @context)
        self._std = standard_prefixes()
        self._taken = set(standard_context())

    def prefix(self, ns: str, hint: str | None) -> str:
        if ns in self.prefix_of:
            return self.prefix_of[ns]
        if ns in self._std:
            p = self._std[ns]
        else:
            base = hint if hint and re.fullmatch(r"[A-Za-z_][\w.-]*", hint) else "ns"
            p, n = base, 1
            while p in self._taken or p in self.declared:
                n += 1
                p = f"{base}{n}"
            self.declared[p] = ns
            self._taken.add(p)
        self.prefix_of[ns] = p
        return p

    def key(self, el_or_qname: Any, hint: str | None = None) -> str:
        q = etree.QName(el_or_qname)
        if q.namespace is None:
            return str(q.localname)
        return f"{self.prefix(q.namespace, hint)}:{q.localname}"


# ---------------------------------------------------------------------------------------
# XML -> JSON-LD
# ---------------------------------------------------------------------------------------


def _text(el: etree._Element) -> str:
    return (el.text or "").strip()


def _num(s: str) -> int | float | str:
    s = s.strip()
    try:
        return int(s) if re.fullmatch(r"[+-]?\d+", s) else float(s)
    except ValueError:
        return s


def _children(el: etree._Element) -> list[etree._Element]:
    """Child elements with the unqualified `extension` / `baseExtension` wrappers unwrapped."""
    out: list[etree._Element] = []
    for c in el:
        if not isinstance(c.tag, str):
            continue
        if _ns(c.tag) is None and _local(c.tag) in ("extension", "baseExtension"):
            out.extend(_children(c))
        else:
            out.append(c)
    return out


def _add(obj: dict[str, Any], key: str, value: Any) -> None:
    """Repeated elements become arrays."""
    if key in obj:
        if not isinstance(obj[key], list):
            obj[key] = [obj[key]]
        obj[key].append(value)
    else:
        obj[key] = value


XSD_NS = "http://www.w3.org/2001/XMLSchema"
_INTEGERS = {"integer", "int", "long", "short", "byte", "nonNegativeInteger", "positiveInteger",
             "negativeInteger", "nonPositiveInteger", "unsignedInt", "unsignedLong", "unsignedShort", "unsignedByte"}


def _typed(el: etree._Element, text: str) -> Any:
    """Text of an element typed `xsi:type="xsd:boolean|integer|double..."` as a JSON boolean / number."""
    t = el.get(f"{{{XSI}}}type")
    if not t:
        return text
    prefix, _, local = t.rpartition(":")
    if el.nsmap.get(prefix or None) != XSD_NS:
        return text
    if local == "boolean" and text in ("true", "false", "1", "0"):
        return text in ("true", "1")
    if local in _INTEGERS and re.fullmatch(r"[+-]?\d+", text):
        return int(text)
    if local in ("double", "float", "decimal"):
        try:
            return float(text)
        except ValueError:
            return text
    return text


def _user_value(el: etree._Element, nss: Namespaces) -> Any:
    """A user extension element: text, or an object of its children (and attributes)."""
    kids = [c for c in el if isinstance(c.tag, str)]
    attrs = {k: v for k, v in el.attrib.items() if _ns(k) != XSI}
    if not kids and not attrs:
        return _typed(el, _text(el))
    obj: dict[str, Any] = {}
    for k, v in attrs.items():
        obj[nss.key(k, _prefix_hint(el, k))] = v
    for c in kids:
        _add(obj, nss.key(c.tag, c.prefix), _user_value(c, nss))
    if not kids and _text(el):
        obj["#text"] = _text(el)
    return obj


def _prefix_hint(el: etree._Element, qname: str) -> str | None:
    ns = _ns(qname)
    for p, u in el.nsmap.items():
        if u == ns and p:
            return str(p)
    return None


def _user_field(el: etree._Element, obj: dict[str, Any], nss: Namespaces) -> bool:
    """Namespaced element -> `prefix:local` field of obj; False when the element is EPCIS's own."""
    ns = _ns(el.tag)
    if ns is None or ns in OWN_NS:
        return False
    _add(obj, nss.key(el.tag, el.prefix), _user_value(el, nss))
    return True


def _unqualified(c: etree._Element) -> ValidationFailed:
    """An un-namespaced element 1.2's lax `##local` extensions let through: 2.0 has no place for it."""
    n = _local(c.tag)
    return ValidationFailed(
        f"un-namespaced element <{n}> at line {c.sourceline} is no EPCIS field and cannot be carried into EPCIS 2.0",
        [Problem(record=f"line {c.sourceline}", field=n,
                 message="not an EPCIS field here; EPCIS 2.0 requires every user extension in its own XML namespace")],
        hint="put the extension element in a namespace (xmlns:ext=...) and import again",
    )


def _epcs(el: etree._Element) -> list[str]:
    """The EPCs of a list, each once (an EPC listed twice says nothing more; GS1's JSON Schema
    wants them unique)."""
    return list(dict.fromkeys(_text(c) for c in el if isinstance(c.tag, str) and _local(c.tag) == "epc"))


def _quantities(el: etree._Element) -> list[dict[str, Any]]:
    out = []
    for q in el:
        if not isinstance(q.tag, str) or _local(q.tag) != "quantityElement":
            continue
        item: dict[str, Any] = {}
        for c in q:
            if not isinstance(c.tag, str):
                continue
            n = _local(c.tag)
            if n == "epcClass":
                item["epcClass"] = _text(c)
            elif n == "quantity" and _text(c):
                item["quantity"] = _num(_text(c))
            elif n == "uom":
                item["uom"] = _text(c)
        out.append(item)
    return out


def _location(el: etree._Element, nss: Namespaces) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for c in _children(el):
        if _local(c.tag) == "id" and _ns(c.tag) is None:
            out["id"] = _text(c)
        elif not _user_field(c, out, nss):
            raise _unqualified(c)
    return out


def _typed_list(el: etree._Element, item: str, vocab: str) -> list[dict[str, Any]]:
    out = []
    for c in el:
        if not isinstance(c.tag, str) or _local(c.tag) != item:
            continue
        entry: dict[str, Any] = {}
        if c.get("type"):
            entry["type"] = cbv_term(vocab, c.get("type", ""))
        entry[item] = _text(c)
        out.append(entry)
    return out


SENSOR_NUMBERS = {"value", "minValue", "maxValue", "meanValue", "sDev", "percRank", "percValue"}


def _sensor_attrs(el: etree._Element, nss: Namespaces) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in el.attrib.items():
        if _ns(k) == XSI:
            continue
        if _ns(k) is not None:
            out[nss.key(k, _prefix_hint(el, k))] = v
        elif k in SENSOR_NUMBERS:
            out[k] = _num(v)
        elif k == "booleanValue":
            out[k] = v.strip().lower() in ("true", "1")
        elif k == "type":
            out[k] = cbv_term("measurementType", v)
        elif k == "exception":
            out[k] = cbv_term("sensorAlertType", v)
        elif k == "component":
            out[k] = cbv_term("component", v)
        else:
            out[k] = v
    return out


def _sensor_elements(el: etree._Element, nss: Namespaces) -> list[dict[str, Any]]:
    out = []
    for se in _children(el):
        if _local(se.tag) != "sensorElement":
            continue
        item: dict[str, Any] = {}
        for c in _children(se):
            n = _local(c.tag)
            if _ns(c.tag) is None and n == "sensorMetadata":
                item["sensorMetadata"] = _sensor_attrs(c, nss)
            elif _ns(c.tag) is None and n == "sensorReport":
                item.setdefault("sensorReport", []).append(_sensor_attrs(c, nss))
            elif not _user_field(c, item, nss):
                raise _unqualified(c)
        out.append(item)
    return out


def _error_declaration(el: etree._Element, nss: Namespaces) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for c in _children(el):
        n = _local(c.tag)
        if _ns(c.tag) is not None:
            _user_field(c, out, nss)
        elif n == "declarationTime":
            out["declarationTime"] = _text(c)
        elif n == "reason":
            out["reason"] = cbv_term("error-reason", _text(c))
        elif n == "correctiveEventIDs":
            out["correctiveEventIDs"] = [_text(x) for x in c if isinstance(x.tag, str)]
        else:
            raise _unqualified(c)
    return out


def _ilmd(el: etree._Element, nss: Namespaces) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for c in _children(el):
        if not _user_field(c, out, nss):
            raise _unqualified(c)
    return out


def _persistent(el: etree._Element) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for c in el:
        if isinstance(c.tag, str) and _local(c.tag) in ("set", "unset"):
            out.setdefault(_local(c.tag), []).append(cbv_term("disposition", _text(c)))
    return out


EPC_LISTS = {"epcList", "childEPCs", "inputEPCList", "outputEPCList"}
QTY_LISTS = {"quantityList", "childQuantityList", "inputQuantityList", "outputQuantityList"}
PLAIN = {"eventTime", "recordTime", "eventTimeZoneOffset", "eventID", "action", "parentID", "transformationID",
         "certificationInfo"}


def convert_event(el: etree._Element, nss: Namespaces, version: str = "2.0") -> dict[str, Any]:
    """One XML event element -> its EPCIS 2.0 JSON-LD object."""
    etype = _local(el.tag)
    ev: dict[str, Any] = {"type": etype}
    quantity_event: dict[str, Any] = {}
    for c in _children(el):
        n = _local(c.tag)
        if _ns(c.tag) is not None:
            _user_field(c, ev, nss)
        elif n in PLAIN:
            ev[n] = _text(c)
        elif n in EPC_LISTS:
            ev[n] = _epcs(c)
        elif n in QTY_LISTS:
            ev[n] = _quantities(c)
        elif n == "bizStep":
            ev[n] = cbv_term("bizStep", _text(c))
        elif n == "disposition":
            ev[n] = cbv_term("disposition", _text(c))
        elif n in ("readPoint", "bizLocation"):
            ev[n] = _location(c, nss)
        elif n == "bizTransactionList":
            ev[n] = _typed_list(c, "bizTransaction", "bizTransaction-type")
        elif n == "sourceList":
            ev[n] = _typed_list(c, "source", "source-dest-type")
        elif n == "destinationList":
            ev[n] = _typed_list(c, "destination", "source-dest-type")
        elif n == "sensorElementList":
            ev[n] = _sensor_elements(c, nss)
        elif n == "persistentDisposition":
            ev[n] = _persistent(c)
        elif n == "ilmd":
            ev[n] = _ilmd(c, nss)
        elif n == "errorDeclaration":
            ev[n] = _error_declaration(c, nss)
        elif etype == "QuantityEvent" and n in ("epcClass", "quantity"):
            quantity_event[n] = _text(c) if n == "epcClass" else _num(_text(c))
        else:  # an un-namespaced element 1.2's lax `##local` extension let through
            raise _unqualified(c)
    if version == "1.2":  # 1.2 requires these lists; empty beside a quantity list they say nothing
        for epcs, qty in (("epcList", "quantityList"), ("childEPCs", "childQuantityList")):
            if ev.get(epcs) == [] and ev.get(qty):
                del ev[epcs]
    if etype == "QuantityEvent":  # deprecated since EPCIS 1.1: an ObjectEvent OBSERVE with a quantity
        ev["type"] = "ObjectEvent"
        ev.setdefault("action", "OBSERVE")
        ev["quantityList"] = [quantity_event]
    return ev


def _events(event_list: etree._Element, nss: Namespaces, version: str = "2.0") -> list[dict[str, Any]]:
    out = []
    for c in event_list:
        if not isinstance(c.tag, str):
            continue
        if _ns(c.tag) is None and _local(c.tag) == "extension":
            out.extend(_events(c, nss, version))
        elif _ns(c.tag) is None and _local(c.tag) in EVENT_TYPES + ("QuantityEvent",):
            out.append(convert_event(c, nss, version))
        else:
            raise ValidationFailed(
                f"unknown event type {etree.QName(c.tag).text!r} at line {c.sourceline}",
                [Problem(record=f"line {c.sourceline}", field=etree.QName(c.tag).text,
                         message=f"unknown event type; expected one of {', '.join(EVENT_TYPES)}")],
                hint="send the standard EPCIS event types",
            )
    return out


def _find(el: etree._Element | None, *path: str) -> etree._Element | None:
    """Follow unqualified or namespaced children by local name."""
    for name in path:
        if el is None:
            return None
        el = next((c for c in el if isinstance(c.tag, str) and _local(c.tag) == name), None)
    return el


def xml_to_document(root: etree._Element, version: str | None = None,
                    nss: Namespaces | None = None) -> dict[str, Any]:
    """A validated XML document (or bare event) -> the EPCIS 2.0 JSON-LD document it stands for.

    `nss`: the prefixes already given to extension namespaces (the stream reader converts the
    events first, then the document without them)."""
    version = version or xml_version(root)
    if is_bare_event(root):
        root = _wrap_event(root, version)
    nss = nss if nss is not None else Namespaces()
    kind = _local(root.tag)
    body = _find(root, "EPCISBody")
    doc: dict[str, Any] = {"@context": [EPCIS_CONTEXT_URL], "type": "EPCISDocument", "schemaVersion": "2.0",
                           "creationDate": root.get("creationDate") or "1970-01-01T00:00:00Z"}
    if kind == "EPCISDocument":
        el = _find(body, "EventList")
        doc["epcisBody"] = {"eventList": _events(el, nss, version) if el is not None else []}
    elif kind == "EPCISQueryDocument":
        qr = _find(body, "QueryResults")
        if qr is None:
            raise ValidationFailed(
                "the EPCISQueryDocument carries no QueryResults (a query request has no events to import)",
                [Problem(record="document", field="EPCISBody", message="expected QueryResults")],
                hint="import the query's results document",
            )
        results: dict[str, Any] = {}
        for name in ("queryName", "subscriptionID"):
            f = _find(qr, name)
            if f is not None and _text(f):
                results[name] = _text(f)
        el = _find(qr, "resultsBody", "EventList")
        results["resultsBody"] = {"eventList": _events(el, nss, version) if el is not None else []}
        doc["type"] = "EPCISQueryDocument"
        doc["epcisBody"] = {"queryResults": results}
    else:
        raise ValidationFailed(
            f"an XML {kind} carries no events to import",
            [Problem(record="document", field=kind, message="expected EPCISDocument, EPCISQueryDocument or an event")],
            hint="import an EPCISDocument or an EPCISQueryDocument (master data documents are not imported yet)",
        )
    if nss.declared:
        doc["@context"] = doc["@context"] + [{p: ns for p, ns in nss.declared.items()}]
    return doc


def read_xml(path: str | Path | bytes, source: str | None = None) -> dict[str, Any]:
    """Parse, XSD-check and convert an EPCIS 1.2 / 2.0 XML file (or bytes) to the JSON-LD document."""
    name = source or ("document" if isinstance(path, bytes) else Path(path).name)
    root = parse_xml(path).getroot()
    version = validate_xml(root, name)
    doc = xml_to_document(root, version)
    _check_converted(doc, root, name)
    return doc


def _check_converted(doc: dict[str, Any], root: etree._Element, source: str) -> None:
    """GS1's JSON Schema on the converted document, its problems pointed back at XML lines.

    Why: the XSD is laxer than the JSON Schema in places GS1 has since tightened (e.g.
    persistentDisposition outside ObjectEvent / TransformationEvent, a sensorReport without a
    type); what the graph stores and exports must be valid EPCIS 2.0 JSON-LD, so such a document
    is refused, and the partner is told the line of the event concerned.
    """
    from tracegraph.loaders.epcis_doc import validate_document

    with _xml_lines(lambda: [root.sourceline or 1] if is_bare_event(root) else _event_starts(root)):
        validate_document(doc, source)


@contextmanager
def _xml_lines(lines: Callable[[], Sequence[int]]) -> Iterator[None]:
    """JSON Schema problems of converted events pointed back at the XML line of each event."""
    try:
        yield
    except ValidationFailed as exc:
        starts = lines()
        for p in exc.problems:
            if p.record.startswith("event ") and p.record[6:].isdigit() and int(p.record[6:]) < len(starts):
                p.record = f"line {starts[int(p.record[6:])]} ({p.record})"
        exc.message = exc.message.replace("JSON Schema", "JSON Schema (after conversion from XML)")
        exc.args = (exc.message,)
        raise


# ---------------------------------------------------------------------------------------
# streaming: one event at a time (bounded memory for documents of any size)
# ---------------------------------------------------------------------------------------

_SAFE = {"resolve_entities": False, "no_network": True, "remove_comments": True, "huge_tree": True,
         "load_dtd": False}
_EVENT_TAGS = tuple(f"{{}}{t}" for t in EVENT_TYPES + ("QuantityEvent",))


def _peek_root(path: Path) -> etree._Element | None:
    """The root element's start tag (name, namespaces, attributes), without reading further."""
    try:
        for _, el in etree.iterparse(str(path), events=("start",), **_SAFE):
            return el
    except (OSError, etree.XMLSyntaxError):
        return None
    return None


def _unqualified_named(el: etree._Element | None, name: str) -> bool:
    return el is not None and isinstance(el.tag, str) and _ns(el.tag) is None and _local(el.tag) == name


def _event_chain(el: etree._Element, kind: str, version: str) -> list[etree._Element] | None:
    """The unqualified `extension` wrappers between an event and its EventList, innermost first,
    when the event is where the XSD puts events (EPCISBody/EventList, or a query document's
    EPCISBody/QueryResults/resultsBody/EventList); None for an event anywhere else."""
    chain = []
    p = el.getparent()
    while _unqualified_named(p, "extension"):
        assert p is not None
        chain.append(p)
        p = p.getparent()
    if p is None or not _unqualified_named(p, "EventList"):
        return None
    q = p.getparent()
    if kind == "EPCISQueryDocument":
        if not _unqualified_named(q, "resultsBody"):
            return None
        assert q is not None
        qr = q.getparent()
        if qr is None or qr.tag != f"{{{NS[version]['query']}}}QueryResults":
            return None
        q = qr.getparent()
    if not _unqualified_named(q, "EPCISBody"):
        return None
    assert q is not None
    return chain if q.getparent() is not None and q.getparent().getparent() is None else None


def _event_document(el: etree._Element, version: str, depth: int) -> tuple[etree._Element, etree._Element]:
    """An EPCISDocument of `version` whose EventList (inside `depth` unqualified `extension`
    wrappers, as in the source) is ready to take the event: the event is validated there, as the
    XSD validates it inside any document. The namespaces in scope of the event are declared on
    the root, so QName values (`xsi:type="xsd:integer"`) mean what they meant in the source."""
    ns = NS[version]["epcis"]
    nsmap = {k: v for k, v in el.nsmap.items() if k}
    if ns not in nsmap.values():
        prefix, n = "epcis", 1
        while prefix in nsmap:
            n += 1
            prefix = f"epcis{n}"
        nsmap[prefix] = ns
    doc = etree.Element(f"{{{ns}}}EPCISDocument", nsmap=nsmap, schemaVersion=version,
                        creationDate="1970-01-01T00:00:00Z")
    container = etree.SubElement(etree.SubElement(doc, "EPCISBody"), "EventList")
    for _ in range(depth):
        container = etree.SubElement(container, "extension")
    return doc, container


class XmlEventStream:
    """An EPCIS 1.2 / 2.0 XML document read one event at a time (lxml iterparse).

    Iterating yields the converted JSON-LD events in document order. Each event element is
    detached from the document as soon as it is read, validated against GS1's XSD of the
    document's version inside an otherwise empty document, converted and checked against GS1's
    JSON Schema; the rest of the document (header, body; "the skeleton") is validated when the
    parse ends. So the memory held is the skeleton and one event, whatever the document's size.

    Refusals are those of `read_xml` (the XSD, then the conversion, then the JSON Schema; the
    same problems, lines and event numbers) and are raised when the iteration ends: events
    yielded before are only good once the iteration has finished without an error (the import
    writes nothing before). `shell` is then the JSON-LD document with an empty event list.

    Raises `NeedWholeDocument` (epcis_doc) for shapes it does not decide alone: a bare event or
    a document without events as root, a 1.2 `extension` wrapper holding more than one event or
    other elements; `epcis_stream` then reads the document whole.
    """

    def __init__(self, path: str | Path, source: str | None = None) -> None:
        self.path = Path(path)
        self.source = source or self.path.name
        self.shell: dict[str, Any] | None = None
        self.events = 0
        #: the document being parsed, without the events read so far (the skeleton)
        self.root: etree._Element | None = None

    def __iter__(self) -> Iterator[dict[str, Any]]:
        from tracegraph.loaders.epcis_doc import NeedWholeDocument, StreamCheck

        name = self.source
        top = _peek_root(self.path)
        if top is None or is_bare_event(top) or _local(top.tag) not in ("EPCISDocument", "EPCISQueryDocument"):
            raise NeedWholeDocument("not an EPCISDocument / EPCISQueryDocument with events")
        kind, version = _local(top.tag), xml_version(top)
        del top
        schema = xml_schema(version)
        nss = Namespaces()
        check = StreamCheck(name)
        starts = array("q")  # the line of each event (8 bytes an event: the one thing that grows)
        xsd: list[tuple[int, Problem]] = []
        converting_error: ValidationFailed | None = None
        held: dict[etree._Element, int] = {}  # extension wrappers -> events taken out of them
        it = etree.iterparse(str(self.path), events=("start", "end"), tag=(*_EVENT_TAGS, "{}extension"), **_SAFE)
        try:
            for action, el in it:
                if self.root is None:
                    self.root = el.getroottree().getroot()
                if _local(el.tag) == "extension":
                    if action == "end" and el in held:
                        if held.pop(el) > 1 or len(el) or el.attrib or (el.text or "").strip():
                            raise NeedWholeDocument("an extension wrapper holding more than one event")
                        parent = el.getparent()
                        assert parent is not None
                        parent.remove(el)
                    continue
                if action == "start":
                    starts.append(el.sourceline or 0)
                    continue
                chain = _event_chain(el, kind, version)
                if chain is None:  # not where events go: stays in the skeleton (the XSD will say)
                    continue
                for w in chain:
                    held[w] = held.get(w, 0) + 1
                doc, container = _event_document(el, version, len(chain))
                _collapse_typed_text(el)
                container.append(el)  # detaches it from the document being parsed
                if not schema.validate(doc):
                    xsd.extend(_xsd_problems(schema.error_log, starts, name))
                elif not xsd and converting_error is None:
                    try:
                        ev = convert_event(el, nss, version)
                    except ValidationFailed as exc:
                        converting_error = exc
                    else:
                        if check.event(ev):
                            self.events += 1
                            yield ev
                del doc, container, el
            root = it.root
        except etree.XMLSyntaxError as exc:
            raise not_well_formed(name, exc) from exc
        except OSError as exc:
            raise ValidationFailed(f"{name} cannot be read: {exc}", hint="check the path") from exc
        _collapse_typed_text(root)
        if not schema.validate(root):
            xsd.extend(_xsd_problems(schema.error_log, starts, name))
        if xsd:
            xsd.sort(key=lambda lp: lp[0])
            raise _xsd_refusal([p for _, p in xsd], version, name)
        shell = xml_to_document(root, version, nss)  # the skeleton: no events left in it
        if converting_error is not None:
            raise converting_error
        with _xml_lines(lambda: starts):
            check.finish(shell)
        self.shell = shell


def stream_xml(path: str | Path, source: str | None = None) -> XmlEventStream:
    """`read_xml` one event at a time: see XmlEventStream."""
    return XmlEventStream(path, source)


__all__ = ["xml_schema", "parse_xml", "validate_xml", "xml_to_document", "read_xml", "xml_version", "cbv_term",
           "Namespaces", "standard_prefixes", "XSD_DIR", "NS", "XmlEventStream", "stream_xml"]
