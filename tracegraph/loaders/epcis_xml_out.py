"""EPCIS XML out: an EPCIS 2.0 JSON-LD document -> EPCIS 2.0 or 1.2 XML, checked against GS1's XSD.

Why from the JSON-LD document: `export_epcis` already decides which events a scope has (stored
originals and synthesised ones) and checks them against the JSON Schema; the XML is a second
serialisation of exactly that document, the reverse of epcis_xml.py's conversion:
- fields in the order the XSD's sequences want; CBV bare terms in URN form
  (`shipping` -> `urn:epcglobal:cbv:bizstep:shipping`), sensor types as `gs1:` CURIEs;
- `prefix:local` extension fields -> elements of the namespace the document's `@context` gives
  the prefix (GS1's prefixes such as `cbvmda` in their XML namespace `urn:epcglobal:cbv:mda`);
- 1.2: what 1.2 does not have at the top level goes where 1.2 keeps it: eventID and
  errorDeclaration in `baseExtension`, quantity / source / destination lists and ILMD in
  `extension`, sensor data, persistent disposition and certificationInfo one `extension` deeper,
  TransformationEvent in `EventList/extension`, AssociationEvent in `EventList/extension/extension`.

    document_to_xml(doc, version="2.0") -> bytes   (raises if the result fails the XSD: a bug)
    export_epcis_xml(store, scope, version) -> bytes
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from lxml import etree

from tracegraph.engine.errors import Problem, ValidationFailed
from tracegraph.loaders.epcis_xml import CBV_FORMS, NS, XSD_NS, XSI, cbv_enums, standard_context, xml_schema

VERSIONS = ("2.0", "1.2")
#: GS1 prefixes whose XML namespace differs from the JSON-LD IRI (no trailing ':')
XML_NAMESPACE_OF = {"cbvmda": "urn:epcglobal:cbv:mda"}
UNKNOWN_NS = "https://ns.tracegraph.dev/epcis/undeclared/"
XSI_TYPE = f"{{{XSI}}}type"

COMMON = ("eventTime", "recordTime", "eventTimeZoneOffset", "eventID", "errorDeclaration", "certificationInfo")
ORDER_20 = {
    "ObjectEvent": ("epcList", "action", "bizStep", "disposition", "readPoint", "bizLocation", "bizTransactionList",
                    "quantityList", "sourceList", "destinationList", "sensorElementList", "persistentDisposition",
                    "ilmd"),
    "AggregationEvent": ("parentID", "childEPCs", "action", "bizStep", "disposition", "readPoint", "bizLocation",
                         "bizTransactionList", "childQuantityList", "sourceList", "destinationList",
                         "sensorElementList", "persistentDisposition"),
    "TransactionEvent": ("bizTransactionList", "parentID", "epcList", "action", "bizStep", "disposition", "readPoint",
                         "bizLocation", "quantityList", "sourceList", "destinationList", "sensorElementList",
                         "persistentDisposition"),
    "TransformationEvent": ("inputEPCList", "inputQuantityList", "outputEPCList", "outputQuantityList",
                            "transformationID", "bizStep", "disposition", "readPoint", "bizLocation",
                            "bizTransactionList", "sourceList", "destinationList", "sensorElementList",
                            "persistentDisposition", "ilmd"),
    "AssociationEvent": ("parentID", "childEPCs", "childQuantityList", "action", "bizStep", "disposition", "readPoint",
                         "bizLocation", "bizTransactionList", "sourceList", "destinationList", "sensorElementList",
                         "persistentDisposition"),
}
#: 1.2: (top-level fields, fields in `extension`, fields in `extension/extension`)
ORDER_12 = {
    "ObjectEvent": (("epcList", "action", "bizStep", "disposition", "readPoint", "bizLocation", "bizTransactionList"),
                    ("quantityList", "sourceList", "destinationList", "ilmd"),
                    ("sensorElementList", "persistentDisposition")),
    "AggregationEvent": (("parentID", "childEPCs", "action", "bizStep", "disposition", "readPoint", "bizLocation",
                          "bizTransactionList"),
                         ("childQuantityList", "sourceList", "destinationList"),
                         ("sensorElementList", "persistentDisposition")),
    "TransactionEvent": (("bizTransactionList", "parentID", "epcList", "action", "bizStep", "disposition",
                          "readPoint", "bizLocation"),
                         ("quantityList", "sourceList", "destinationList"),
                         ("sensorElementList", "persistentDisposition")),
    "TransformationEvent": (ORDER_20["TransformationEvent"][:12] + ("ilmd",), (),
                            ("sensorElementList", "persistentDisposition")),
    "AssociationEvent": (ORDER_20["AssociationEvent"], (), ()),
}
#: 1.2 requires these lists (2.0 made them optional): written empty when the event has none
REQUIRED_12 = {"ObjectEvent": ("epcList",), "AggregationEvent": ("childEPCs",), "TransactionEvent": ("epcList",)}
KNOWN = set(COMMON) | {f for v in ORDER_20.values() for f in v} | {"type", "@context", "id"}
URN_OF = {"bizStep": "bizStep", "disposition": "disposition"}


def _urn(vocab: str, value: Any) -> str:
    """A bare CBV term -> its URN (`urn:epcglobal:cbv:bizstep:shipping`); URIs stay as given."""
    v = str(value)
    if v in cbv_enums()[vocab]:
        urn = CBV_FORMS[vocab][0]
        if vocab == "component":  # no URN form: the CURIE of GS1's context, as GS1's XML examples write it
            return "cbv:Comp-" + v
        return urn + v
    return v


class _Namespaces:
    """prefix -> XML namespace from the document's (and events') @context."""

    def __init__(self, contexts: Iterable[Any]) -> None:
        self.ns: dict[str, str] = {}
        std = standard_context()
        for k, v in std.items():
            if isinstance(v, str) and v[-1:] in (":", "#", "/") and not k.startswith("@"):
                self.ns[k] = XML_NAMESPACE_OF.get(k, v)
        self.add(contexts)
        self.used: dict[str, str] = {}

    def add(self, contexts: Iterable[Any]) -> None:
        for c in contexts:
            if isinstance(c, dict):
                for k, v in c.items():
                    if isinstance(v, str) and not k.startswith("@"):
                        self.ns[k] = v

    def qname(self, key: str) -> str:
        """`prefix:local` (or an absolute IRI) -> Clark notation `{ns}local`; bare names stay bare."""
        if key.startswith(("http://", "https://", "urn:")):
            m = re.match(r"^(.*[/#:])([A-Za-z_][\w.-]*)$", key)
            if m:
                return f"{{{m.group(1)}}}{m.group(2)}"
        if ":" in key:
            prefix, local = key.split(":", 1)
            ns = self.ns.get(prefix) or f"{UNKNOWN_NS}{prefix}/"
            self.used[prefix] = ns
            return f"{{{ns}}}{local}"
        return key


def _text(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float) and v.is_integer():
        return repr(v)
    return str(v)


def _user(parent: etree._Element, key: str, value: Any, nss: _Namespaces) -> None:
    """A JSON extension field -> element(s); arrays repeat the element, objects nest."""
    if key.startswith("@") or key == "#text":
        return
    if isinstance(value, list):
        for item in value:
            _user(parent, key, item, nss)
        return
    el = etree.SubElement(parent, nss.qname(key))
    if isinstance(value, dict):
        if "@value" in value:
            el.text = _text(value["@value"])
            return
        leaf_with_attrs = "#text" in value
        for k, v in value.items():
            if k == "#text":
                el.text = _text(v)
            elif leaf_with_attrs and not isinstance(v, (dict, list)):
                el.set(nss.qname(k), _text(v))
            else:
                _user(el, k, v, nss)
    elif value is not None:
        el.text = _text(value)
        if isinstance(value, bool):  # typed, so that reading the XML gives the JSON value back
            el.set(XSI_TYPE, "xsd:boolean")
        elif isinstance(value, int):
            el.set(XSI_TYPE, "xsd:integer")
        elif isinstance(value, float):
            el.set(XSI_TYPE, "xsd:double")


def _sub(parent: etree._Element, name: str, text: Any = None) -> etree._Element:
    el = etree.SubElement(parent, name)
    if text is not None:
        el.text = _text(text)
    return el


def _field(parent: etree._Element, name: str, value: Any, nss: _Namespaces) -> None:
    """One standard EPCIS field."""
    if name in ("epcList", "childEPCs", "inputEPCList", "outputEPCList"):
        lst = _sub(parent, name)
        for epc in value or []:
            _sub(lst, "epc", epc)
    elif name in ("quantityList", "childQuantityList", "inputQuantityList", "outputQuantityList"):
        lst = _sub(parent, name)
        for q in value or []:
            qe = _sub(lst, "quantityElement")
            _sub(qe, "epcClass", q.get("epcClass"))
            if q.get("quantity") is not None:
                _sub(qe, "quantity", q["quantity"])
                if q.get("uom"):
                    _sub(qe, "uom", q["uom"])
    elif name in ("bizStep", "disposition"):
        _sub(parent, name, _urn(URN_OF[name], value))
    elif name in ("readPoint", "bizLocation"):
        loc = _sub(parent, name)
        _sub(loc, "id", value.get("id"))
        for k, v in value.items():
            if k != "id":
                _user(loc, k, v, nss)
    elif name == "bizTransactionList":
        lst = _sub(parent, name)
        for bt in value or []:
            el = _sub(lst, "bizTransaction", bt.get("bizTransaction"))
            if bt.get("type"):
                el.set("type", _urn("bizTransaction-type", bt["type"]))
    elif name in ("sourceList", "destinationList"):
        item = name.removesuffix("List")
        lst = _sub(parent, name)
        for sd in value or []:
            el = _sub(lst, item, sd.get(item))
            el.set("type", _urn("source-dest-type", sd.get("type", "")))
    elif name == "sensorElementList":
        lst = _sub(parent, name)
        for se in value or []:
            sel = _sub(lst, "sensorElement")
            if se.get("sensorMetadata"):
                _sensor_attrs(_sub(sel, "sensorMetadata"), se["sensorMetadata"], nss)
            for rep in se.get("sensorReport") or []:
                _sensor_attrs(_sub(sel, "sensorReport"), rep, nss)
            for k, v in se.items():
                if k not in ("sensorMetadata", "sensorReport"):
                    _user(sel, k, v, nss)
    elif name == "persistentDisposition":
        pd = _sub(parent, name)
        for k in ("unset", "set"):
            for d in value.get(k) or []:
                _sub(pd, k, _urn("disposition", d))
    elif name == "ilmd":
        il = _sub(parent, name)
        for k, v in value.items():
            _user(il, k, v, nss)
    elif name == "errorDeclaration":
        ed = _sub(parent, name)
        _sub(ed, "declarationTime", value.get("declarationTime"))
        if value.get("reason"):
            _sub(ed, "reason", _urn("error-reason", value["reason"]))
        if value.get("correctiveEventIDs"):
            ids = _sub(ed, "correctiveEventIDs")
            for i in value["correctiveEventIDs"]:
                _sub(ids, "correctiveEventID", i)
        for k, v in value.items():
            if k not in ("declarationTime", "reason", "correctiveEventIDs"):
                _user(ed, k, v, nss)
    elif name == "certificationInfo":
        for c in value if isinstance(value, list) else [value]:
            _sub(parent, name, c)
    else:
        _sub(parent, name, value)


def _sensor_attrs(el: etree._Element, attrs: dict[str, Any], nss: _Namespaces) -> None:
    for k, v in attrs.items():
        if k == "type":
            v = f"gs1:{v}" if v in cbv_enums()["measurementType"] else v
        elif k == "exception":
            v = f"gs1:{v}" if v in cbv_enums()["sensorAlertType"] else v
        elif k == "component":
            v = _urn("component", v)
        el.set(nss.qname(k) if ":" in k else k, _text(v))


def _offset(ev: dict[str, Any]) -> str:
    m = re.search(r"([+-]\d\d:\d\d)$", str(ev.get("eventTime", "")))
    return m.group(1) if m else "+00:00"


def _extensions(ev: dict[str, Any]) -> list[tuple[str, Any]]:
    return [(k, v) for k, v in ev.items() if k not in KNOWN and (":" in k)]


def _event_20(parent: etree._Element, ev: dict[str, Any], nss: _Namespaces) -> None:
    etype = ev["type"]
    el = etree.SubElement(parent, etype)
    ev = {**ev, "eventTimeZoneOffset": ev.get("eventTimeZoneOffset") or _offset(ev)}
    for name in COMMON + ORDER_20[etype]:
        if name in ev and ev[name] is not None:
            _field(el, name, ev[name], nss)
    for k, v in _extensions(ev):
        _user(el, k, v, nss)


def _event_12(event_list: etree._Element, ev: dict[str, Any], nss: _Namespaces) -> None:
    etype = ev["type"]
    holder = event_list
    if etype in ("TransformationEvent", "AssociationEvent"):
        holder = _sub(event_list, "extension")
        if etype == "AssociationEvent":
            holder = _sub(holder, "extension")
    el = etree.SubElement(holder, etype)
    ev = {**ev, "eventTimeZoneOffset": ev.get("eventTimeZoneOffset") or _offset(ev)}
    for name in ("eventTime", "recordTime", "eventTimeZoneOffset"):
        if ev.get(name):
            _field(el, name, ev[name], nss)
    base_fields = [n for n in ("eventID", "errorDeclaration") if ev.get(n)]
    if etype == "AssociationEvent":  # lax content of a 1.2 extension: kept in 2.0's shape
        for name in ("eventID", "errorDeclaration", "certificationInfo"):
            if ev.get(name):
                _field(el, name, ev[name], nss)
    elif base_fields or ev.get("certificationInfo"):
        base = _sub(el, "baseExtension")
        for name in base_fields:
            _field(base, name, ev[name], nss)
        if ev.get("certificationInfo"):
            _field(_sub(base, "extension"), "certificationInfo", ev["certificationInfo"], nss)
    top, ext, ext2 = ORDER_12[etype]
    for name in top:
        if name in ev and ev[name] is not None:
            _field(el, name, ev[name], nss)
        elif name in REQUIRED_12.get(etype, ()):
            _sub(el, name)
    in_ext = [n for n in ext if ev.get(n) is not None]
    in_ext2 = [n for n in ext2 if ev.get(n) is not None]
    if in_ext or in_ext2:
        x = _sub(el, "extension")
        for name in in_ext:
            _field(x, name, ev[name], nss)
        if in_ext2:
            x2 = _sub(x, "extension")
            for name in in_ext2:
                _field(x2, name, ev[name], nss)
    for k, v in _extensions(ev):
        _user(el, k, v, nss)


def _events(doc: dict[str, Any]) -> list[dict[str, Any]]:
    body = doc.get("epcisBody") or {}
    if "queryResults" in body:
        body = (body["queryResults"] or {}).get("resultsBody") or {}
    return [e for e in body.get("eventList") or [] if isinstance(e, dict)]


def document_to_xml(doc: dict[str, Any], version: str = "2.0") -> bytes:
    """An EPCIS 2.0 JSON-LD document as EPCIS `version` XML, validated against GS1's XSD."""
    if version not in VERSIONS:
        raise ValidationFailed(f"unknown EPCIS XML version {version!r}", hint="use 2.0 or 1.2")
    ctx = doc.get("@context")
    nss = _Namespaces(ctx if isinstance(ctx, list) else [ctx])
    events = _events(doc)
    for e in events:
        own = e.get("@context")
        nss.add(own if isinstance(own, list) else [own])
    ns = NS[version]["epcis"]
    root = etree.Element(f"{{{ns}}}EPCISDocument", schemaVersion=version,
                         creationDate=str(doc.get("creationDate") or "1970-01-01T00:00:00Z"))
    body = _sub(root, "EPCISBody")
    event_list = _sub(body, "EventList")
    for e in events:
        (_event_20 if version == "2.0" else _event_12)(event_list, e, nss)
    # declare the namespaces once, on the root, with the document's prefixes
    nsmap: dict[str | None, str] = {"epcis": ns, "xsi": XSI, "xsd": XSD_NS}
    for prefix, uri in nss.used.items():
        if prefix not in nsmap and uri not in nsmap.values():
            nsmap[prefix] = uri
    out = etree.Element(root.tag, attrib=dict(root.attrib), nsmap=nsmap)
    out.extend(list(root))
    etree.cleanup_namespaces(out, top_nsmap=nsmap, keep_ns_prefixes=["xsd"])
    schema = xml_schema(version)
    if not schema.validate(out):
        raise ValidationFailed(
            f"the exported EPCIS {version} XML does not validate ({len(schema.error_log)} problems)",
            [Problem(record=f"line {e.line}", field="xml", message=e.message[:300]) for e in schema.error_log],
            hint="this is a tracegraph bug: report it with the scope you exported",
        )
    return bytes(etree.tostring(out, xml_declaration=True, encoding="UTF-8", pretty_print=True))


def export_epcis_xml(store: Any, scope: Any = None, version: str = "2.0") -> bytes:
    """`export_epcis` (JSON Schema checked) serialised as EPCIS XML (XSD checked)."""
    from tracegraph.loaders.epcis_export import export_epcis

    return document_to_xml(export_epcis(store, scope), version)


__all__ = ["document_to_xml", "export_epcis_xml", "VERSIONS"]
