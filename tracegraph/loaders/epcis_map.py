"""EPCIS 2.0 events -> graph facts (plain node and edge records), as the standard means them.

Pure functions, no database: `map_events(events, context)` returns a `Mapped` holding nodes keyed
by (label, id), edges keyed by (type, from, to[, role]) and the PACKED_IN links an unpack removes.
`tracegraph.loaders.epcis` turns that into the import runner's records.

The mapping (see docs/epcis.md for the full table):
- ObjectEvent ADD (commissioning): sgtin -> Serial, lgtin -> Batch; ILMD `cbvmda:lotNumber`
  names the batch (an lgtin of the serial's GTIN, in the serial's own form) -> PRODUCED.
- TransformationEvent: input lgtins (MaterialLot, or Batch for sub-assemblies) CONSUMED_IN the
  output batches; input sgtins COMPONENT_OF output sgtins; output serials PRODUCED by the batch.
  Without an output lot, the batch is named by transformationID or the event id.
- AggregationEvent: ADD/OBSERVE -> child PACKED_IN {from} Container(parentID) (childEPCs: units and
  containers; childQuantityList: a quantity of a lot); DELETE unpacks: sets the link's `to`, so
  the packing state at any date stays on record (engine/imports/containment.py derives from it
  what a shipped, received, returned or destroyed container did to its contents).
- ObjectEvent shipping -> Shipment (id = despatch advice, else the event id), SHIPPED_IN,
  DELIVERED_TO the destination party (owning > possessing > location); receiving -> delivered.
- Every event -> one EpcisEvent node holding the original JSON, linked by CONCERNS {role} to every
  object, location, party and business transaction it names; nothing the model lacks is lost.
- An event carrying an errorDeclaration is stored and linked but its effects are not applied (what
  an earlier import of the original did is undone by epcis_retract.py).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import rfc8785

from tracegraph.gs1.identifiers import Identifier, lot_uri_like, parse_identifier, udi_hri
from tracegraph.loaders.epcis_spool import EventSpool

CONCERNS = "CONCERNS"

_VOCAB_PREFIXES = (
    "https://ref.gs1.org/cbv/BizStep-", "https://ref.gs1.org/cbv/Disp-", "https://ref.gs1.org/cbv/BTT-",
    "https://ref.gs1.org/cbv/SDT-", "urn:epcglobal:cbv:bizstep:", "urn:epcglobal:cbv:disp:",
    "urn:epcglobal:cbv:btt:", "urn:epcglobal:cbv:sdt:",
    "cbv:BizStep-", "cbv:Disp-", "cbv:BTT-", "cbv:SDT-",  # CURIEs of GS1's context
)

NodeKey = tuple[str, str]
EdgeKey = tuple[str, str, str, str, str, str]  # type, from_label, from_id, to_label, to_id, role
#: when an event happened, as state is ordered: its eventTime in UTC. Not the recordTime: a
#: repository sets it on capture, so it follows the order of arrival, which is exactly what must not
#: decide. Two events at the same instant that say different things are ordered by the VALUE they
#: state (`state_rank`), so the answer is a function of the set of events (any order of capture
#: gives it) and a fact re-sent under a new eventID at the same time changes nothing.
EventKey = str


def state_rank(value: Any) -> str:
    """The order of two values stated at the same instant (see `EventKey`): arbitrary but fixed."""
    return json.dumps(value, sort_keys=True, default=str)


#: properties that say where a thing is now: two events may state them differently, and the event
#: that HAPPENED last (`EventKey`) decides, whatever order they were captured in. The time of the
#: event that set each one is kept on the node (`state_at`, see loaders/epcis_state.py)
LATEST_FIELDS: dict[str, frozenset[str]] = {
    "Serial": frozenset({"status", "customer_id"}),
    "Shipment": frozenset({"status", "delivered_at"}),
    "Container": frozenset({"status", "destroyed_at", "destroyed_event"}),
    "Batch": frozenset({"finished_at"}),
}
#: properties the event that happened FIRST decides (a batch started with its first event)
EARLIEST_FIELDS: dict[str, frozenset[str]] = {"Batch": frozenset({"started_at"})}


def key_of(uri: str) -> str:
    """The graph key an identifier stands for: the URI as given, or the key inside a tracegraph URN."""
    ident = parse_identifier(uri)
    return ident.extra["key"] if ident.kind == "tracegraph" else uri


def short_vocab(value: str | None) -> str | None:
    """CBV values may be bare words or full URIs; compare on the bare word."""
    if not value:
        return value
    got = _SHORT.get(value)
    if got is not None:
        return got
    short = value
    for p in _VOCAB_PREFIXES:
        if value.startswith(p):
            short = value[len(p):]
            break
    if len(_SHORT) < 4096 and type(value) is str:  # a vocabulary is small; anything else is not kept
        _SHORT[value] = short
    return short


_SHORT: dict[str, str] = {}


def to_utc(value: str | None) -> str | None:
    """EPCIS timestamps (with offset) -> the stored form: ISO-8601 UTC with microseconds."""
    if not value:
        return None
    try:
        dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC).isoformat(timespec="microseconds")


def canonical_json(obj: Any) -> str:
    """RFC 8785 (JCS) text of `obj`: the same text as `rfc8785.dumps`, written by `_jcs` with the C
    string escaper (the escapes are the same), the rare cases (other types, large integers,
    floats in exponent form, keys beyond U+D7FF, lone surrogates) by rfc8785 itself."""
    try:
        text = _jcs(obj)
        text.encode("utf-8")  # lone surrogates: rfc8785 refuses them
        return text
    except (_NotFast, UnicodeEncodeError, TypeError):
        return rfc8785.dumps(obj).decode("utf-8")


class _NotFast(Exception):
    pass


_json_str = json.encoder.encode_basestring  # the C escaper, ensure_ascii off
_SAFE_INT = 2**53 - 1


def _jcs(o: Any) -> str:
    t = type(o)
    if t is str:
        return _json_str(o)
    if t is dict:
        if not o:
            return "{}"
        keys = sorted(o)  # code point order is UTF-16 order while every key is below U+D800
        joined = "".join(keys)
        if not joined.isascii() and max(joined) >= "\ud800":
            raise _NotFast
        return "{" + ",".join([_json_str(k) + ":" + _jcs(o[k]) for k in keys]) + "}"
    if t is list or t is tuple:
        return "[" + ",".join([_jcs(x) for x in o]) + "]"
    if o is None:
        return "null"
    if o is True:
        return "true"
    if o is False:
        return "false"
    if t is int:
        if -_SAFE_INT <= o <= _SAFE_INT:
            return str(o)
        raise _NotFast
    if t is float:
        if o.is_integer():
            if -_SAFE_INT <= o <= _SAFE_INT:  # exact: ECMAScript writes the integer
                return str(int(o))
            raise _NotFast
        r = repr(o)
        if "e" not in r and "n" not in r:  # shortest decimal digits, as ECMAScript writes them
            return r
    raise _NotFast


def event_id(event: dict[str, Any]) -> str:
    """The event's own eventID, else a content hash (stable: the same event always gets the same id)."""
    eid = event.get("eventID")
    if isinstance(eid, str) and eid:
        return eid
    digest = hashlib.sha256(rfc8785.dumps(event)).hexdigest()
    return f"ni:///sha-256;{digest}?ver=CBV2.0"


class _Released(dict[Any, Any]):
    """What a released Mapped holds instead of its nodes and edges: reading it is a bug."""

    def _gone(self, *_a: Any, **_k: Any) -> Any:
        raise RuntimeError("the mapped EPCIS facts were released after the import wrote them (Mapped.release)")

    __getitem__ = __iter__ = __len__ = __contains__ = get = items = keys = values = setdefault = _gone


@dataclass
class Mapped:
    """Graph facts from a set of events. Node props merge (later, non-null values win)."""

    nodes: dict[NodeKey, dict[str, Any]] = field(default_factory=dict)
    edges: dict[EdgeKey, dict[str, Any]] = field(default_factory=dict)
    #: (child_label, child_id or None, container_id, at): open PACKED_IN links in the graph that an
    #: unpack at `at` closes (sets `to`)
    unpacked: list[tuple[str | None, str | None, str, str | None]] = field(default_factory=list)
    #: containers whose contents' shipments must be derived again after this import
    containers: set[str] = field(default_factory=set)
    #: per node, the properties that are only creation defaults (never overwrite a stored value)
    defaults: dict[NodeKey, set[str]] = field(default_factory=dict)
    #: lots stored as the other kind that this import writes again as the right one (epcis_kinds.py):
    #: {id, old: the stored label, drop_of: the Product/Material only that node named goes too}
    retyped: list[dict[str, Any]] = field(default_factory=list)
    #: effects of erroneous events to undo (loaders/epcis_retract.py): {rows: epcis.retract rows,
    #: recheck: containers whose contents' status is classified again}
    retract: dict[str, Any] = field(default_factory=dict)
    #: shipments a receipt captured before its shipment made, now absorbed by that shipment
    #: (loaders/epcis_receipts.py): {id, drop_customer: the Customer only it delivered to goes too}
    absorbed: list[dict[str, Any]] = field(default_factory=list)
    #: stored PACKED_IN links that the packing worked out from all the events does not have
    #: (loaders/epcis_late.py): {f: child id, t: container id, from}
    unlinked: list[dict[str, Any]] = field(default_factory=list)
    #: the event being mapped (`EventKey`), while `_Mapper.event` maps it
    clock: EventKey | None = None
    #: per node, the event that set each state property (`LATEST_FIELDS`, `EARLIEST_FIELDS`)
    state_at: dict[NodeKey, dict[str, EventKey]] = field(default_factory=dict)

    def release(self) -> None:
        """Drop the nodes and edges (the bulk of an import's memory) once they are written: the
        containment derivation after the commit then runs in the memory they held instead of
        beside it. Any later read of them raises, rather than seeing an empty import."""
        self.nodes = _Released()
        self.edges = _Released()
        self.defaults = _Released()
        self.state_at = _Released()

    def node(self, label: str, nid: str, **props: Any) -> NodeKey:
        """Create or update a node. A state property (`LATEST_FIELDS`) an event that happened
        later has already set is left as it is: events of one document are mapped in time order,
        and two at the same instant are ordered by the value they state, as across captures."""
        key = (label, nid)
        cur = self.nodes.get(key)
        if cur is None:
            cur = self.nodes[key] = {"id": nid}
        latest = LATEST_FIELDS.get(label)
        stated = self.defaults.get(key)  # a property stated now is no longer a creation default
        if latest is None and not stated:  # most calls: the same as the loop below, in one update
            cur.update({k: v for k, v in props.items() if v is not None})
            return key
        clock = self.clock
        for k, v in props.items():
            if v is not None:
                if latest is not None and k in latest and clock is not None:
                    at = self.state_at.setdefault(key, {})
                    if k in at:
                        was = at[k]
                        if was > clock:
                            continue
                        if was == clock:
                            old = cur.get(k)
                            # the same text stated again ranks equal (kept as it is) without a dump
                            if (type(v) is str and type(old) is str and v == old) or state_rank(v) <= state_rank(old):
                                continue
                    at[k] = clock
                cur[k] = v
                if stated:
                    stated.discard(k)
        return key

    def default(self, key: NodeKey, **props: Any) -> None:
        """Set properties only where the node has none yet (creation defaults); an `EARLIEST_FIELDS`
        property takes the value of the earliest event that gives one."""
        cur = self.nodes[key]
        earliest = EARLIEST_FIELDS.get(key[0], frozenset())
        for k, v in props.items():
            if v is None:
                continue
            if k in earliest and self.clock is not None:
                at = self.state_at.setdefault(key, {})
                old = cur.get(k)
                if old is not None and k in at and (at[k] < self.clock or (
                        at[k] == self.clock and ((type(v) is str and type(old) is str and v == old)  # ranks equal
                                                 or state_rank(v) >= state_rank(old)))):
                    continue
                at[k] = self.clock
                cur[k] = v
                self.defaults.setdefault(key, set()).add(k)
            elif cur.get(k) is None:
                cur[k] = v
                self.defaults.setdefault(key, set()).add(k)

    def split(self, key: NodeKey) -> tuple[dict[str, Any], dict[str, Any]]:
        """(creation defaults, stated facts) of one node, `id` left out."""
        d = self.defaults.get(key)
        props = dict(self.nodes[key])
        props.pop("id", None)
        if not d:
            return {}, props
        return {k: v for k, v in props.items() if k in d}, {k: v for k, v in props.items() if k not in d}

    def edge(self, etype: str, src: NodeKey, dst: NodeKey, role: str = "", **props: Any) -> None:
        key = (etype, src[0], src[1], dst[0], dst[1], role)
        cur = self.edges.setdefault(key, {})
        if role:
            cur["role"] = role
        for k, v in props.items():
            if v is not None:
                cur[k] = v

    def labels_of(self, nid: str) -> set[str]:
        return {lbl for (lbl, i) in self.nodes if i == nid}


# ---------------------------------------------------------------------------------------
# helpers reading an event
# ---------------------------------------------------------------------------------------


def _qty_list(event: dict[str, Any], name: str) -> list[dict[str, Any]]:
    return [q for q in event.get(name) or [] if isinstance(q, dict) and q.get("epcClass")]


def _biz_transactions(event: dict[str, Any]) -> list[tuple[str, str]]:
    out = []
    for bt in event.get("bizTransactionList") or []:
        if isinstance(bt, dict) and bt.get("bizTransaction"):
            out.append((short_vocab(bt.get("type")) or "", bt["bizTransaction"]))
    return out


def _party(event: dict[str, Any], listname: str, keyname: str) -> str | None:
    """Destination/source by precedence: owning party, possessing party, location."""
    items = [x for x in event.get(listname) or [] if isinstance(x, dict)]
    for want in ("owning_party", "possessing_party", "location"):
        for x in items:
            if short_vocab(x.get("type")) == want and x.get(keyname):
                return str(x[keyname])
    return None


def _ilmd_value(ilmd: dict[str, Any], name: str) -> Any:
    for k, v in ilmd.items():
        if k == f"cbvmda:{name}" or k.endswith(f"/{name}") or k.endswith(f"#{name}"):
            return v
    return None


#: business steps by which a lot comes in from another party
RECEIPT_STEPS = frozenset({"receiving", "accepting"})
#: the three things an event can say about a class-level lot (an lgtin)
MADE, BOUGHT, USED = "made", "bought", "used"


def _parties(event: dict[str, Any], listname: str, keyname: str) -> set[str]:
    return {key_of(str(x[keyname])) for x in event.get(listname) or [] if isinstance(x, dict)
            and short_vocab(x.get("type")) in ("owning_party", "possessing_party") and x.get(keyname)}


def _is_lot(uri: str) -> bool:
    ident = parse_identifier(uri)
    return ident.kind == "lgtin" or (ident.kind == "tracegraph" and ident.extra.get("label") == "Batch")


def _ilmd_lots(e: dict[str, Any], serial_uris: Iterable[Any]) -> list[str]:
    """The lots an ILMD `cbvmda:lotNumber` names for the serials an event brings into being."""
    ilmd = e.get("ilmd") if isinstance(e.get("ilmd"), dict) else {}
    lot_no = _ilmd_value(ilmd or {}, "lotNumber")
    if not (isinstance(lot_no, str) and lot_no):
        return []
    out = []
    for u in serial_uris:
        ident = parse_identifier(u) if isinstance(u, str) else None
        if ident is not None and ident.kind == "sgtin" and ident.gtin:
            out.append(lot_uri_like(ident, ident.gtin, lot_no))
    return out


def lot_votes(e: dict[str, Any]) -> dict[str, str]:
    """What ONE event says about the kind of each class-level lot it names, from its own content only
    (so the answer cannot depend on which document, or which order, it came in):

    - `made` (a production Batch): an output of a TransformationEvent (output quantity, output
      lgtin, or the ILMD lot of its output serials); an ObjectEvent ADD that is not a receipt
      (commissioning: the lot, or the ILMD lot of the units it commissions, comes into being here);
    - `bought` (a MaterialLot): an ObjectEvent receiving / accepting it from another party (a source
      owning or possessing party that is not one of the destination parties: a supplier's delivery);
    - `used` (a MaterialLot unless something says `made`): an input of a TransformationEvent.

    Shipping, observing, packing, inspecting say nothing about what a lot is."""
    t = e.get("type")
    out: dict[str, str] = {}

    def say(uri: Any, vote: str) -> None:
        if isinstance(uri, str) and _is_lot(uri) and (vote == MADE or uri not in out):
            out[uri] = vote

    if t == "TransformationEvent":
        for q in _qty_list(e, "inputQuantityList"):
            say(q["epcClass"], USED)
        for u in e.get("inputEPCList") or []:
            say(u, USED)
        for q in _qty_list(e, "outputQuantityList"):
            say(q["epcClass"], MADE)
        for u in list(e.get("outputEPCList") or []) + _ilmd_lots(e, e.get("outputEPCList") or []):
            say(u, MADE)
    elif t == "ObjectEvent":
        bs = short_vocab(e.get("bizStep")) or ""
        lots = [q["epcClass"] for q in _qty_list(e, "quantityList")] + list(e.get("epcList") or [])
        if bs in RECEIPT_STEPS:
            src = _parties(e, "sourceList", "source")
            if src and not src <= _parties(e, "destinationList", "destination"):
                for u in lots:
                    say(u, BOUGHT)
        elif e.get("action") == "ADD":
            for u in lots + _ilmd_lots(e, e.get("epcList") or []):
                say(u, MADE)
    return out


def decide_kind(votes: Iterable[str], stored: str | None = None) -> str:
    """The kind of a lot from everything the events say about it: made here -> Batch (a
    sub-assembly that is also consumed, or our batch a customer receives, stays one); else
    received from a supplier or consumed -> MaterialLot; else what is stored; else Batch (a lot
    only shipped or observed is taken to be ours). A function of the SET of votes: the same
    answer in one document or one event at a time, in any order."""
    vs = set(votes)
    if MADE in vs:
        return "Batch"
    if vs & {BOUGHT, USED}:
        return "MaterialLot"
    return stored or "Batch"


def receipt_destinations(e: dict[str, Any]) -> set[str]:
    """The graph keys of every destination (any type) a receiving event names."""
    return {key_of(str(x["destination"])) for x in e.get("destinationList") or []
            if isinstance(x, dict) and x.get("destination")}


def receipt_fits(shipment: dict[str, Any], dests: set[str], when: str | None) -> bool:
    """Can a receiving event (its destinations `dests`, its eventTime `when`) close this shipment
    (`customer_id`: the destination the shipping event names, owning > possessing > location;
    `date`: when it was sent)? GS1 CBV: a receipt closes a shipment of the same objects (the
    caller checks those) sent to where it is received, before it is received. A side that names
    no destination, or no time, does not rule the match out. The same rule in one document, for a
    shipment an earlier capture stored, and for a receipt captured before its shipment
    (loaders/epcis_receipts.py), so the three give the same shipments."""
    dest, date = shipment.get("customer_id"), shipment.get("date")
    if dest and dests and dest not in dests:
        return False
    return not (date and when and date > when)


def event_key(e: dict[str, Any]) -> tuple[str, str]:
    """When an event happened, its eventID breaking a tie: a total order of events."""
    return (to_utc(e.get("eventTime")) or "", event_id(e))


# ---------------------------------------------------------------------------------------
# the mapping
# ---------------------------------------------------------------------------------------


class _Mapper:
    def __init__(self, known_labels: dict[str, str] | None = None,
                 customer_kinds: dict[str, str] | None = None) -> None:
        self.m = Mapped()
        self.known = dict(known_labels or {})  # id -> label already in the graph
        self.customer_kinds = dict(customer_kinds or {})  # customer id -> kind already in the graph
        self.product_ids: dict[str, str] = {}  # 14-digit GTIN -> key of the existing Product
        #: lot URI -> what this document's events say about it (`lot_votes`)
        self.votes: dict[str, set[str]] = {}
        #: lot URI -> kind decided with the events already in the graph (loaders/epcis_kinds.py)
        self.kinds: dict[str, str] = {}
        #: open packing intervals of this document: child -> (container id, from, qty)
        self.packed: dict[NodeKey, tuple[str, str | None, float | None]] = {}
        #: closed intervals: (child, container id, from, to, qty)
        self.closed: list[tuple[NodeKey, str, str | None, str | None, float | None]] = []
        self.shipments: list[dict[str, Any]] = []  # in-document shipments, for receiving
        #: open intervals the graph holds (`open_packs`): not written again while still open
        self.seeded: set[tuple[NodeKey, str, str | None]] = set()
        #: thing -> positions in `shipments` of those that carry it; shipment key -> its first position
        self.shipments_of: dict[NodeKey, list[int]] = {}
        self.first_shipment: dict[NodeKey, int] = {}
        self.event_nodes: dict[str, NodeKey] = {}
        self.cur_ev: NodeKey = ("EpcisEvent", "")
        #: the last context given to `event` and its canonical JSON (the same for a document's events)
        self._context: tuple[list[Any] | None, str] = (None, "")

    def add_shipment(self, sh: dict[str, Any]) -> None:
        """Remember a shipment for the receipts that follow (indexed by what it carries)."""
        i = len(self.shipments)
        self.shipments.append(sh)
        for k in sh["things"]:
            self.shipments_of.setdefault(k, []).append(i)
        self.first_shipment.setdefault(sh["key"], i)

    # --- classification -------------------------------------------------------------
    def prescan(self, events: Iterable[dict[str, Any]]) -> None:
        """What the events say about each lot (`lot_votes`), before any node is made."""
        for e in events:
            for uri, vote in lot_votes(e).items():
                self.votes.setdefault(uri, set()).add(vote)

    def lot_label(self, uri: str) -> str:
        """A lot's kind: decided beforehand with the graph's events (`kinds`), else as stored,
        else from this document's votes (see `decide_kind`)."""
        if uri in self.kinds:
            return self.kinds[uri]
        if self.known.get(uri) in ("Batch", "MaterialLot"):
            return self.known[uri]
        return decide_kind(self.votes.get(uri, set()))

    # --- nodes ----------------------------------------------------------------------
    def product(self, gtin: str) -> NodeKey:
        if gtin in self.product_ids:
            return ("Product", self.product_ids[gtin])  # exists in the graph: link, do not touch
        key = self.m.node("Product", gtin, gtin=gtin)
        self.m.default(key, name=gtin)
        return key

    def obj(self, uri: str, *, side: str = "") -> tuple[NodeKey | None, Identifier]:
        """The node an EPC / class identifier stands for (None for kinds the model lacks)."""
        ident = parse_identifier(uri)
        k = ident.kind
        m = self.m
        if k == "sgtin":
            key = m.node("Serial", uri, gtin=ident.gtin, serial_no=ident.serial,
                         product_id=self.product_ids.get(ident.gtin or "", ident.gtin))
            m.default(key, status="in_stock", udi=udi_hri(ident.gtin, serial=ident.serial))
            m.edge("OF", key, self.product(ident.gtin or ""))
            return key, ident
        if k == "lgtin":
            label = self.lot_label(uri)
            if label == "MaterialLot":
                key = m.node("MaterialLot", uri, material_id=ident.gtin, gtin=ident.gtin, lot_no=ident.lot)
                m.default(key, status="available", adjusted=False)
                mat = m.node("Material", ident.gtin or "", name=None)
                m.edge("OF", key, mat)
            else:
                key = m.node("Batch", uri, product_id=self.product_ids.get(ident.gtin or "", ident.gtin),
                             gtin=ident.gtin, lot_no=ident.lot)
                m.default(key, status="released", kind="finished")
                m.edge("OF", key, self.product(ident.gtin or ""))
            return key, ident
        if k == "gtin":
            if side == "input":
                return m.node("Material", ident.gtin or uri), ident
            return self.product(ident.gtin or uri), ident
        if k == "sscc":
            key = m.node("Container", uri, sscc=ident.sscc)
            m.default(key, kind="sscc")
            return key, ident
        if k == "tracegraph":
            label, nid = ident.extra["label"], ident.extra["key"]
            if label == "Batch" and self.lot_label(uri) == "MaterialLot":
                label = "MaterialLot"
            key = m.node(label, nid)
            defaults: dict[str, dict[str, Any]] = {"Serial": {"status": "in_stock"}, "Batch": {"status": "released", "kind": "finished"},
                        "MaterialLot": {"status": "available", "adjusted": False}}
            m.default(key, **defaults.get(label, {}))
            return key, ident
        if k in ("grai", "giai"):
            key = m.node("Equipment", uri)
            m.default(key, kind="returnable_asset" if k == "grai" else "asset", name=uri)
            return key, ident
        return None, ident

    def location(self, uri: str, kind: str) -> NodeKey:
        ident = parse_identifier(uri)
        key = self.m.node("Location", key_of(uri), gln=ident.gln, extension=ident.extension)
        self.m.default(key, kind=kind, name=key[1])
        return key

    def customer(self, uri: str) -> NodeKey:
        ident = parse_identifier(uri)
        key = self.m.node("Customer", key_of(uri), gln=ident.gln)
        self.m.default(key, kind="distributor", name=key[1])
        return key

    # --- one event ------------------------------------------------------------------
    def link(self, ev: NodeKey, target: NodeKey | None, role: str) -> None:
        if target is not None:
            self.m.edge(CONCERNS, ev, target, role)

    def event(self, e: dict[str, Any], context: list[Any], when: str | None) -> None:
        """Map one event; `when` is its eventTime in UTC (`to_utc`), worked out by the caller
        once for the order of events and for the event."""
        eid = event_id(e)
        get = e.get
        t = str(get("type"))
        self.m.clock = when or ""
        seen, ctx_json = self._context
        if context is not seen:
            ctx_json = canonical_json(context)
            self._context = (context, ctx_json)
        read_point = (get("readPoint") or {}).get("id")
        biz_location = (get("bizLocation") or {}).get("id")
        ev = self.m.node(
            "EpcisEvent", eid, type=t, action=get("action"), biz_step=short_vocab(get("bizStep")),
            disposition=short_vocab(get("disposition")), event_time=when,
            event_time_zone_offset=get("eventTimeZoneOffset"), record_time=to_utc(get("recordTime")),
            read_point=read_point, biz_location=biz_location,
            error_declared=bool(get("errorDeclaration")), has_event_id=bool(get("eventID")),
            json=canonical_json(e), context=ctx_json,
        )
        self.event_nodes[eid] = ev
        self.cur_ev = ev
        if read_point:
            self.link(ev, self.location(e["readPoint"]["id"], "read_point"), "readPoint")
        if biz_location:
            self.link(ev, self.location(e["bizLocation"]["id"], "site"), "bizLocation")
        key: NodeKey | None  # objects' keys below may be None (see obj)
        for bt_type, bt in _biz_transactions(e):
            key = self.m.node("BusinessTransaction", bt, type=bt_type or None)
            self.link(ev, key, "bizTransaction")
        for listname, keyname in (("sourceList", "source"), ("destinationList", "destination")):
            for x in e.get(listname) or []:
                if isinstance(x, dict) and short_vocab(x.get("type")) == "location" and x.get(keyname):
                    self.link(ev, self.location(x[keyname], "site"), keyname)

        # the objects, by role
        epcs = [self.obj(u) for u in e.get("epcList") or []]
        qtys = [(self.obj(q["epcClass"]), q) for q in _qty_list(e, "quantityList")]
        for (key, _), role in [(x, "epc") for x in epcs] + [(x[0], "quantity") for x in qtys]:
            self.link(ev, key, role)
        effective = not e.get("errorDeclaration")
        bs = short_vocab(e.get("bizStep")) or ""
        action = e.get("action")

        if t == "ObjectEvent" and effective:
            self.object_effects(e, ev, eid, bs, action, when, epcs, qtys)
        elif t in ("AggregationEvent", "AssociationEvent"):
            pkey: NodeKey | None = None
            if t == "AggregationEvent" and e.get("parentID"):
                pident = parse_identifier(e["parentID"])
                pkey = self.m.node("Container", e["parentID"], sscc=pident.sscc)
                self.m.default(pkey, kind=pident.kind)
            elif e.get("parentID"):
                pkey = self.obj(e["parentID"])[0]
            self.link(ev, pkey, "parent")
            children = [self.obj(u) for u in e.get("childEPCs") or []]
            for key, _ in children:
                self.link(ev, key, "child")
            qchildren: list[tuple[NodeKey, float | None]] = []
            for q in _qty_list(e, "childQuantityList"):
                qk = self.obj(q["epcClass"])[0]
                self.link(ev, qk, "childQuantity")
                if qk is not None and qk[0] in ("Batch", "MaterialLot"):
                    qchildren.append((qk, float(q["quantity"]) if q.get("quantity") is not None else None))
            if t == "AggregationEvent" and effective and pkey is not None:
                self.aggregation_effects(action, pkey, [(c, None) for c, _ in children if c is not None]
                                         + qchildren, when)
        elif t == "TransformationEvent":
            ins = [self.obj(u, side="input") for u in e.get("inputEPCList") or []]
            inq = [(self.obj(q["epcClass"], side="input"), q) for q in _qty_list(e, "inputQuantityList")]
            outs = [self.obj(u) for u in e.get("outputEPCList") or []]
            outq = [(self.obj(q["epcClass"]), q) for q in _qty_list(e, "outputQuantityList")]
            for key, _ in ins:
                self.link(ev, key, "input")
            for (key, _), _q in inq:
                self.link(ev, key, "inputQuantity")
            for key, _ in outs:
                self.link(ev, key, "output")
            for (key, _), _q in outq:
                self.link(ev, key, "outputQuantity")
            if effective:
                self.transformation_effects(e, ev, eid, when, ins, inq, outs, outq)
        elif t == "TransactionEvent":
            pass  # objects and business transactions are linked through the event node

    # --- effects ----------------------------------------------------------------------
    def batch_for_serials(self, e: dict[str, Any], serials: list[tuple[NodeKey, Identifier]],
                          lots: list[NodeKey], when: str | None) -> None:
        """PRODUCED edges: a serial belongs to the lot named in ILMD, or the listed lot of its GTIN."""
        ilmd: dict[str, Any] = e["ilmd"] if isinstance(e.get("ilmd"), dict) else {}
        lot_no = _ilmd_value(ilmd, "lotNumber")
        expiry = _ilmd_value(ilmd, "itemExpirationDate")
        tg_product = ilmd.get("tracegraph:productId")
        for skey, ident in serials:
            if skey[0] != "Serial":
                continue
            pkey: NodeKey | None = None
            if isinstance(tg_product, str) and tg_product and not ident.gtin:
                pkey = self.m.node("Product", tg_product)
                self.m.default(pkey, name=tg_product)
                self.m.node(*skey, product_id=tg_product)
                self.m.edge("OF", skey, pkey)
            bkey: NodeKey | None = None
            if isinstance(lot_no, str) and lot_no and ident.kind == "tracegraph":
                bkey = m_batch = self.m.node("Batch", lot_no)  # a tracegraph key names its batch by key
                self.m.default(m_batch, status="released", kind="finished")
            elif isinstance(lot_no, str) and lot_no and ident.gtin:
                uri = lot_uri_like(ident, ident.gtin, lot_no)
                bkey, _ = self.obj(uri)
            else:
                same = [b for b in lots if b[0] == "Batch" and parse_identifier(b[1]).gtin == ident.gtin]
                bkey = same[0] if len(same) == 1 else None
            if isinstance(expiry, str):
                self.m.node(*skey, expiry=expiry)
            if bkey is not None and bkey[0] == "Batch" and pkey is not None:
                self.m.node(*bkey, product_id=tg_product)
                self.m.edge("OF", bkey, pkey)
            if bkey is not None and bkey[0] == "Batch":
                self.m.node(*bkey, finished_at=when, expiry=expiry if isinstance(expiry, str) else None)
                self.m.default(bkey, started_at=when)
                self.m.edge("PRODUCED", bkey, skey)
                self.m.node(*skey, batch_id=bkey[1])
                self.link(self.cur_ev, bkey, "lot")
                lot = parse_identifier(bkey[1]).lot
                self.m.node(*skey, udi=udi_hri(ident.gtin, serial=ident.serial, lot=lot,
                                               expiry=expiry if isinstance(expiry, str) else None))

    def object_effects(self, e: dict[str, Any], ev: NodeKey, eid: str, bs: str, action: Any, when: str | None,
                       epcs: list[tuple[NodeKey | None, Identifier]], qtys: list[Any]) -> None:
        m = self.m
        serials = [(k, i) for k, i in epcs if k is not None and k[0] == "Serial"]
        boxes = [k for k, _i in epcs if k is not None and k[0] == "Container"]
        lots = [k for (k, _i), _q in qtys if k is not None and k[0] in ("Batch", "MaterialLot")]
        site = (e.get("bizLocation") or {}).get("id")
        line = (e.get("readPoint") or {}).get("id")
        if action == "ADD":
            for k in lots:
                if k[0] == "Batch":
                    m.default(k, started_at=when, finished_at=when, site=site, line=line)
            self.batch_for_serials(e, serials, lots, when)
        things = [(k, 1.0) for k, _ in serials] + [(k, 1.0) for k in boxes] + [
            (k, float(q["quantity"]) if q.get("quantity") is not None else None)
            for (k, _i), q in qtys if k is not None and k[0] in ("Batch", "MaterialLot")
        ]
        disp = short_vocab(e.get("disposition"))
        if disp == "returned" and bs != "shipping":  # a customer's units (or case) came back
            self.returned(e, eid, when, things)
        elif bs == "shipping":
            self.ship(e, eid, when, things)
        elif bs == "receiving":
            self.receive(e, eid, when, things)
        if action == "DELETE" and (bs in ("decommissioning", "destroying", "disposing")
                                   or short_vocab(e.get("disposition")) in ("destroyed", "disposed")):
            for k, _ in serials:
                m.node(*k, status="destroyed")
            for k in boxes:  # the contents follow (containment.py)
                m.node(*k, status="destroyed", destroyed_at=when, destroyed_event=eid)
                m.containers.add(k[1])

    def ship(self, e: dict[str, Any], eid: str, when: str | None, things: list[tuple[NodeKey, float | None]]) -> None:
        m = self.m
        bts = _biz_transactions(e)
        desadv = next((bt for typ, bt in bts if typ == "desadv"), None)
        sid = key_of(desadv) if desadv else eid
        dest = _party(e, "destinationList", "destination")
        src = _party(e, "sourceList", "source")
        dest, src = (key_of(dest) if dest else None), (key_of(src) if src else None)
        skey = m.node("Shipment", sid, date=when, from_id=src, customer_id=dest)
        m.default(skey, status="in_transit")
        self.link(self.cur_ev, skey, "shipment")
        for k, qty in things:
            m.edge("SHIPPED_IN", k, skey, qty=qty)
            if k[0] == "Serial":
                m.node(*k, status="in_transit", customer_id=dest)
            if k[0] == "Container":
                m.containers.add(k[1])
        if dest:
            m.edge("DELIVERED_TO", skey, self.customer(dest))
        self.add_shipment({"key": skey, "things": {k for k, _ in things}, "bts": {bt for _, bt in bts},
                           "customer_id": dest, "date": when})

    def receive(self, e: dict[str, Any], eid: str, when: str | None,
                things: list[tuple[NodeKey, float | None]]) -> None:
        m = self.m
        bts = {bt for _, bt in _biz_transactions(e)}
        mine = {k for k, _ in things}
        dests = receipt_destinations(e)
        cands = [self.shipments[i] for i in sorted({i for k in mine for i in self.shipments_of.get(k, ())})]
        cands = [s for s in cands if receipt_fits(s, dests, when)]
        match = [s for s in cands if s["bts"] & bts] or cands
        dest = _party(e, "destinationList", "destination") or (e.get("bizLocation") or {}).get("id")
        dest = key_of(dest) if dest else None
        if match:
            skey = match[-1]["key"]
        else:
            desadv = next((bt for typ, bt in _biz_transactions(e) if typ == "desadv"), None)
            src = _party(e, "sourceList", "source")
            skey = m.node("Shipment", key_of(desadv) if desadv else eid, from_id=key_of(src) if src else None)
            m.default(skey, date=when)
            for k, qty in things:
                m.edge("SHIPPED_IN", k, skey, qty=qty)
            self.add_shipment({"key": skey, "things": mine, "bts": bts})
        self.link(self.cur_ev, skey, "shipment")
        first = self.first_shipment.get(skey)
        known = self.shipments[first].get("customer_id") if first is not None else None
        cur = m.nodes.get(skey) or m.nodes[m.node(*skey)]
        customer = cur.get("customer_id") or known or dest
        m.node(*skey, delivered_at=when, status="delivered", customer_id=customer)
        if customer:
            ckey = self.customer(customer)
            m.edge("DELIVERED_TO", skey, ckey, date=when)
            kind = self.customer_kinds.get(ckey[1]) or m.nodes[ckey].get("kind")
            status = "at_end_user" if kind in ("hospital", "end_user", "pharmacy") else "at_distributor"
            for k, _ in things:
                if k[0] == "Serial":
                    m.node(*k, status=status, customer_id=customer)
        for k, _ in things:
            if k[0] == "Container":
                m.containers.add(k[1])

    def returned(self, e: dict[str, Any], eid: str, when: str | None,
                 things: list[tuple[NodeKey, float | None]]) -> None:
        """A return (disposition `returned`): a Return record (the event id), from the source
        party (owning > possessing > location), RETURNED_IN from each unit and container."""
        src = _party(e, "sourceList", "source")
        rkey = self.m.node("Return", eid, date=when, customer_id=key_of(src) if src else None)
        self.m.default(rkey, disposition="returned", reason="EPCIS return")
        for k, qty in things:
            if k[0] in ("Serial", "Container"):
                self.m.edge("RETURNED_IN", k, rkey, qty=qty)
            if k[0] == "Serial":
                self.m.node(*k, status="returned", customer_id=key_of(src) if src else None)
            if k[0] == "Container":
                self.m.containers.add(k[1])

    def aggregation_effects(self, action: Any, parent: NodeKey, children: list[tuple[NodeKey, float | None]],
                            when: str | None) -> None:
        """Packing intervals: ADD/OBSERVE opens child -> parent from `when` (a child is in one
        container at a time, so an open interval elsewhere closes; a lot's quantity may be in
        several); DELETE closes the named children, or every child when none is named. Links
        opened by earlier imports are closed in the graph (`unpacked`)."""
        cid = parent[1]
        self.m.containers.add(cid)
        if action in ("ADD", "OBSERVE"):
            for c, qty in children:
                if c == parent:
                    continue
                if c[0] == "Container":
                    self.m.containers.add(c[1])
                key = c if qty is None else (c[0], f"{c[1]}\x1f{cid}")
                cur = self.packed.get(key)
                if cur is not None and cur[0] == cid and (qty is None or cur[2] == qty):
                    continue  # observed where it already is
                if cur is not None:
                    self.closed.append((c, cur[0], cur[1], when, cur[2]))
                self.packed[key] = (cid, when, qty)
        elif action == "DELETE":
            named = {c for c, _ in children}
            for key, (k, frm, qty) in list(self.packed.items()):
                child = key if qty is None else (key[0], key[1].split("\x1f")[0])
                if k == cid and (not named or child in named):
                    self.closed.append((child, k, frm, when, qty))
                    del self.packed[key]
            if named:
                for c in named:
                    self.m.unpacked.append((c[0], c[1], cid, when))
            else:
                self.m.unpacked.append((None, None, cid, when))

    def transformation_effects(self, e: dict[str, Any], ev: NodeKey, eid: str, when: str | None,
                               ins: list[Any], inq: list[Any], outs: list[Any], outq: list[Any]) -> None:
        m = self.m
        out_serials = [(k, i) for k, i in outs if k is not None and k[0] == "Serial"]
        out_batches = [k for (k, _i), _q in outq if k is not None and k[0] == "Batch"]
        for k, _i in outs:
            if k is not None and k[0] == "Batch":
                out_batches.append(k)
        site = (e.get("bizLocation") or {}).get("id")
        line = (e.get("readPoint") or {}).get("id")
        ilmd: dict[str, Any] = e["ilmd"] if isinstance(e.get("ilmd"), dict) else {}
        lot_no = _ilmd_value(ilmd, "lotNumber")
        if out_serials and isinstance(lot_no, str) and lot_no:
            for _s, ident in out_serials:
                if ident.gtin:
                    key, _ = self.obj(lot_uri_like(ident, ident.gtin, lot_no))
                    if key is not None and key[0] == "Batch" and key not in out_batches:
                        out_batches.append(key)
                        self.link(ev, key, "lot")
        if not out_batches and (out_serials or ins or inq):
            # no output lot named: the transformation itself is the production batch
            bid = e.get("transformationID") or eid
            gtins = {i.gtin for _k, i in out_serials if i.gtin}
            gtins |= {i.gtin for (k, i), _q in outq if i.gtin}
            product = next(iter(gtins)) if len(gtins) == 1 else None
            bkey = m.node("Batch", str(bid), product_id=product, gtin=product)
            m.default(bkey, status="released", kind="finished")
            if product:
                m.edge("OF", bkey, self.product(product))
            out_batches.append(bkey)
            self.link(ev, bkey, "transformation")
        for b in out_batches:
            m.node(*b, finished_at=when)
            m.default(b, started_at=when, site=site, line=line)
        # outputs of this batch
        expiry = _ilmd_value(ilmd, "itemExpirationDate")
        expiry = expiry if isinstance(expiry, str) else None
        for skey, ident in out_serials:
            same = [b for b in out_batches if parse_identifier(b[1]).gtin in (ident.gtin, None)]
            for b in (same or out_batches)[:1]:
                m.edge("PRODUCED", b, skey)
                lot = parse_identifier(b[1]).lot
                m.node(*skey, batch_id=b[1], expiry=expiry,
                       udi=udi_hri(ident.gtin, serial=ident.serial, lot=lot, expiry=expiry))
        for b in out_batches:
            m.node(*b, expiry=expiry)
        # inputs consumed
        for (k, _i), q in inq:
            if k is None or k[0] not in ("MaterialLot", "Batch"):
                continue
            for b in out_batches:
                if b == k:
                    continue
                m.edge("CONSUMED_IN", k, b, qty=float(q["quantity"]) if q.get("quantity") is not None else None,
                       uom=q.get("uom"), at=when)
                if k[0] == "Batch":
                    m.default(k, kind="subassembly")
        for k, _i in ins:
            if k is None:
                continue
            if k[0] == "Serial":
                m.node(*k, status="consumed")
                for s, _ in out_serials:
                    m.edge("COMPONENT_OF", k, s, at=when)
            elif k[0] in ("MaterialLot", "Batch"):
                for b in out_batches:
                    if b != k:
                        m.edge("CONSUMED_IN", k, b, at=when)

    def finish(self) -> Mapped:
        intervals = list(self.closed) + [
            ((key if qty is None else (key[0], key[1].split("\x1f")[0])), k, frm, None, qty)
            for key, (k, frm, qty) in self.packed.items() if (key, k, frm) not in self.seeded]
        for child, parent, frm, to, qty in intervals:
            if parent == child[1]:
                continue
            self.m.edge("PACKED_IN", child, ("Container", parent), role=frm or "", **{"from": frm, "to": to, "qty": qty})
        return self.m


def destination_keys(events: Iterable[dict[str, Any]]) -> set[str]:
    """Graph keys of every destination party/location and receiving site the events name."""
    out: set[str] = set()
    for e in events:
        for x in e.get("destinationList") or []:
            if isinstance(x, dict) and x.get("destination"):
                out.add(key_of(str(x["destination"])))
        loc = (e.get("bizLocation") or {}).get("id") if isinstance(e.get("bizLocation"), dict) else None
        if loc:
            out.add(key_of(str(loc)))
    return out


def map_events(events: Iterable[dict[str, Any]], context: list[Any] | None = None,
               known_labels: dict[str, str] | None = None, customer_kinds: dict[str, str] | None = None,
               product_ids: dict[str, str] | None = None,
               open_shipments: list[dict[str, Any]] | None = None,
               kinds: dict[str, str] | None = None,
               open_packs: list[dict[str, Any]] | None = None,
               votes: dict[str, set[str]] | None = None) -> Mapped:
    """Map EPCIS events (dicts as in the JSON document) to graph facts.

    `context` is the document's @context minus the standard context URL (namespace prefixes of
    extensions), stored with each event so an export can declare them again. `known_labels`
    (id -> label of nodes already in the graph) lets a later document consume a lot an earlier
    one produced as the same node; `kinds` (lot URI -> label) are kinds decided with the events
    the graph already holds (loaders/epcis_kinds.py) and win over both. `open_packs` ({label, id,
    container, from}) are the open packing intervals the graph holds for units and containers the
    events pack, observe or unpack (loaders/epcis_late.open_packs): an OBSERVE where one already is
    continues it, an unpack or a move closes it, as in one document. `votes`: `lot_votes` of these
    events gathered by lot (loaders/epcis_kinds.votes_of), when the caller has them already.
    """
    timed: Iterable[tuple[str | None, int, dict[str, Any]]]
    if isinstance(events, EventSpool) and events.spilled:  # on disk: decoded one at a time, in time order
        spool = events
        timed = ((to_utc(e.get("eventTime")), i, e) for i, e in
                 ((i, spool[i]) for i in spool.time_order(lambda e: to_utc(e.get("eventTime")) or "")))
        held: list[dict[str, Any]] | None = None
    else:
        tl = [(to_utc(e.get("eventTime")), i, e) for i, e in enumerate(list(events))]
        tl.sort(key=lambda x: (x[0] or "", x[1]))  # by time, then as given
        timed = tl
        held = [e for _, _, e in tl]
    mp = _Mapper(known_labels, customer_kinds)
    mp.product_ids = dict(product_ids or {})
    mp.kinds = dict(kinds or {})
    for sh in open_shipments or []:  # shipments earlier documents opened, oldest first
        mp.add_shipment({"key": ("Shipment", sh["id"]), "things": set(sh["things"]), "bts": set(),
                         "customer_id": sh.get("customer_id"), "date": sh.get("date")})
    for pk in open_packs or []:  # units and containers earlier documents packed, still packed
        mp.packed[(pk["label"], pk["id"])] = (pk["container"], pk["from"] or None, None)
        mp.seeded.add(((pk["label"], pk["id"]), pk["container"], pk["from"] or None))
    if votes is None:
        mp.prescan(events if held is None else held)  # order does not matter
    else:
        mp.votes = {uri: set(v) for uri, v in votes.items()}
    ctx = list(context or [])  # one list for every event: its JSON is written once (`_Mapper.event`)
    for when, _, e in timed:
        mp.event(e, ctx, when)
    mp.m.clock = None
    return mp.finish()


__all__ = ["CONCERNS", "Mapped", "EventKey", "state_rank", "LATEST_FIELDS", "EARLIEST_FIELDS", "event_key", "map_events", "lot_votes", "decide_kind", "MADE", "BOUGHT", "USED", "destination_keys", "receipt_fits", "receipt_destinations", "key_of", "event_id", "to_utc", "short_vocab", "canonical_json"]
