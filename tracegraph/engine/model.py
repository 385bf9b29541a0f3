"""The graph model in one place: node labels and their business keys, edge types, and the
pydantic records every boundary (loaders, API, exports) validates against.

Every node has a unique business key in the property `id` (the key as imported: an ERP lot
code, a UDI, an EPC URI). Timestamps are stored as ISO-8601 UTC strings, which sort and
compare correctly in both FalkorDB and Neo4j.

Why this module is long: it is the one list of every node and edge record and their stored
form; splitting it by label would scatter the vocabulary that every loader, the import planner and
the exports must agree on, and each record is short.
"""

from __future__ import annotations

import hashlib as _hashlib
import json as _json
import re as _re
from datetime import UTC
from datetime import date as _date
from datetime import datetime as _datetime
from enum import Enum
from typing import Annotated, Any, ClassVar, Literal, NamedTuple

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    model_validator,
)

from tracegraph.engine.errors import Problem

# ---------------------------------------------------------------------------------------
# Labels and keys
# ---------------------------------------------------------------------------------------


class Label(str, Enum):
    SUPPLIER = "Supplier"
    MATERIAL = "Material"
    MATERIAL_LOT = "MaterialLot"
    PRODUCT = "Product"
    BATCH = "Batch"
    SERIAL = "Serial"
    EQUIPMENT = "Equipment"
    CUSTOMER = "Customer"
    SHIPMENT = "Shipment"
    DOCUMENT = "Document"
    LOCATION = "Location"
    CONTAINER = "Container"
    BUSINESS_TRANSACTION = "BusinessTransaction"
    EPCIS_EVENT = "EpcisEvent"
    RETURN = "Return"
    INSPECTION = "Inspection"
    CALIBRATION = "Calibration"
    # quality records
    COMPLAINT = "Complaint"
    DEVIATION = "Deviation"
    CAPA = "CAPA"
    CHANGE_CONTROL = "ChangeControl"
    RELEASE = "Release"
    TRAINING_RECORD = "TrainingRecord"
    RECALL = "Recall"
    # validation evidence (issue 18): generated, stored as audited records, signed
    VALIDATION_REPORT = "ValidationReport"
    AUDIT_REVIEW = "AuditReview"
    REGULATORY_DOCUMENT = "RegulatoryDocument"
    # system
    USER = "User"
    ROLE = "Role"
    SIGNATURE = "Signature"
    AUDIT_ENTRY = "AuditEntry"
    AUDIT_HEAD = "AuditHead"
    CHECKPOINT = "Checkpoint"
    IMPORT_RUN = "ImportRun"
    CAPTURE_JOB = "CaptureJob"
    NAMED_QUERY = "NamedQuery"
    SUBSCRIPTION = "Subscription"
    DELIVERY = "Delivery"
    TOKEN = "Token"


#: labels whose records are GMP records: changes need a reason, deletion is retirement
GMP_LABELS: frozenset[str] = frozenset(
    {
        Label.BATCH, Label.SERIAL, Label.MATERIAL_LOT, Label.DOCUMENT, Label.COMPLAINT,
        Label.DEVIATION, Label.CAPA, Label.CHANGE_CONTROL, Label.RELEASE, Label.TRAINING_RECORD,
        Label.RECALL, Label.INSPECTION, Label.CALIBRATION, Label.VALIDATION_REPORT, Label.AUDIT_REVIEW,
        Label.REGULATORY_DOCUMENT,
    }
)


class Edge(str, Enum):
    SUPPLIED = "SUPPLIED"              # (Supplier)->(MaterialLot) {date, qty, po}
    OF = "OF"                          # (MaterialLot)->(Material), (Batch)->(Product), (Serial)->(Product)
    CONSUMED_IN = "CONSUMED_IN"        # (MaterialLot|Batch)->(Batch) {qty, uom}
    SPLIT_INTO = "SPLIT_INTO"          # (MaterialLot)->(MaterialLot)
    MERGED_INTO = "MERGED_INTO"        # (MaterialLot)->(MaterialLot)
    PRODUCED = "PRODUCED"              # (Batch)->(Serial)
    COMPONENT_OF = "COMPONENT_OF"      # (Serial)->(Serial)
    PROCESSED_ON = "PROCESSED_ON"      # (Batch)->(Equipment) {from, to, params}
    SHIPPED_IN = "SHIPPED_IN"          # (Batch|Serial)->(Shipment) {qty}
    DELIVERED_TO = "DELIVERED_TO"      # (Shipment)->(Customer) {date}
    TRANSFERRED_TO = "TRANSFERRED_TO"  # (Customer)->(Customer)
    DOCUMENTED_BY = "DOCUMENTED_BY"    # (x)->(Document)
    ABOUT = "ABOUT"                    # (Complaint)->(Serial|Batch), (AuditEntry)->(x)
    ADDRESSES = "ADDRESSES"            # (CAPA)->(Deviation|Complaint)
    COVERS = "COVERS"                  # (Recall)->(Batch|Serial)
    PREV = "PREV"                      # (AuditEntry)->(AuditEntry)
    SIGNED = "SIGNED"                  # (Signature)->(record)
    INSPECTED = "INSPECTED"            # (Inspection)->(MaterialLot)
    CALIBRATES = "CALIBRATES"          # (Calibration)->(Equipment)
    RETURNED_IN = "RETURNED_IN"        # (Serial|Batch)->(Return) {qty}
    PACKED_IN = "PACKED_IN"            # (Serial)->(Container)
    CONCERNS = "CONCERNS"              # (EpcisEvent)->(x) {role}: what a stored EPCIS event names


#: labels that carry a unique business key `id` (constraint + exact-match index on both backends)
KEYED_LABELS: tuple[str, ...] = tuple(
    lbl.value for lbl in Label if lbl not in {Label.AUDIT_HEAD}
)

UNIQUE_KEYS: tuple[tuple[str, str], ...] = tuple((lbl, "id") for lbl in KEYED_LABELS) + (
    (Label.AUDIT_ENTRY.value, "seq"),
)

__all__ = ["Label", "Edge", "GMP_LABELS", "KEYED_LABELS", "UNIQUE_KEYS"]


# ---------------------------------------------------------------------------------------
# Records: the validated form of every node and edge type, shared by every loader
# (ERP bundle, EPCIS, API). Loaders turn their input into these; the import runner
# (engine/imports/runner.py) writes them. A record knows its stored properties, the nodes it
# references, and the edges it implies.
# ---------------------------------------------------------------------------------------

#: a business key: trimmed, non-empty, no control characters (they would break exports and
#: the import wire format, which separates fields with ASCII unit/record separators)
Key = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=512,
                                       pattern=r"^[^\x00-\x1f\x7f]+$")]
#: free text: any printable text, newlines and tabs allowed
Text = Annotated[str, StringConstraints(max_length=20000, pattern=r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$")]
#: a quantity: a non-negative number, kept to 6 decimal places (imports carry quantities as
#: scaled integers, because FalkorDB's toFloat() parses strings in single precision)
Qty = Annotated[float, Field(ge=0, allow_inf_nan=False, le=1e12), AfterValidator(lambda v: round(v, 6))]
#: a point in time; must carry a timezone (naive timestamps are rejected: a plant in Shanghai
#: and an auditor in Boston must read the same instant). Stored as ISO-8601 UTC strings.
Timestamp = AwareDatetime
#: a calendar day (expiry, due dates, effective dates), stored as YYYY-MM-DD
Day = _date
Uom = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=16,
                                       pattern=r"^[A-Za-z0-9_./%-]+$")]
Email = Annotated[str, StringConstraints(strip_whitespace=True, max_length=320,
                                         pattern=r"^[^@\s\x00-\x1f]+@[^@\s\x00-\x1f]+$")]
Lang = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")]

#: properties the runner sets itself; a record may not carry them as extra fields
RESERVED_PROPS: frozenset[str] = frozenset(
    {"created_at", "updated_at", "source", "import_id", "last_import_id", "extra", "id", "import_hash",
     "import_hash_at"}
)


_TEMPORAL: dict[type, tuple[str, ...]] = {}


def _temporal_fields(cls: type[BaseModel]) -> tuple[str, ...]:
    """Fields of a record class holding datetimes or dates (converted to strings when stored)."""
    got = _TEMPORAL.get(cls)
    if got is None:
        import typing as _t

        def temporal(a: Any) -> bool:
            if a in (_datetime, _date, AwareDatetime) or (isinstance(a, type) and issubclass(a, _date)):
                return True
            return any(temporal(x) for x in _t.get_args(a))

        got = tuple(n for n, f in cls.model_fields.items() if temporal(f.annotation))
        _TEMPORAL[cls] = got
    return got


def to_store(value: Any) -> Any:
    """The stored form of a record value: timestamps as ISO UTC with microseconds, days as
    YYYY-MM-DD, enums as their value; everything else unchanged."""
    if isinstance(value, _datetime):
        return value.astimezone(UTC).isoformat(timespec="microseconds")
    if isinstance(value, _date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    return value


class Ref(NamedTuple):
    """A node one record points to: label and business key."""

    label: str
    key: str


class EdgeRow(NamedTuple):
    """One edge a record implies: (from) -[type props]-> (to). (A NamedTuple: millions are made
    per large import, and tuples are several times cheaper than frozen dataclasses.)"""

    type: str
    frm: Ref
    to: Ref
    props: dict[str, Any]
    #: the record field that named the far end (for problem messages)
    field: str = ""

    @property
    def identity(self) -> tuple[str, str, str, str, str, Any]:
        disc = EDGE_DISCRIMINATOR.get(self.type)
        return (self.type, self.frm.label, self.frm.key, self.to.label, self.to.key,
                self.props.get(disc) if disc else None)


#: edge properties in wire order, with their kind (s=string, f=float)
EDGE_PROPS: dict[str, tuple[tuple[str, str], ...]] = {
    "SUPPLIED": (("date", "s"), ("qty", "f"), ("po", "s")),
    "OF": (),
    "CONSUMED_IN": (("qty", "f"), ("uom", "s"), ("at", "s")),
    "SPLIT_INTO": (("qty", "f"), ("date", "s")),
    "MERGED_INTO": (("qty", "f"), ("date", "s")),
    "PRODUCED": (),
    "COMPONENT_OF": (("at", "s"),),
    "PROCESSED_ON": (("from", "s"), ("to", "s"), ("params", "s"), ("operator", "s")),
    "SHIPPED_IN": (("qty", "f"),),
    "DELIVERED_TO": (("date", "s"),),
    "TRANSFERRED_TO": (("date", "s"), ("shipment_id", "s")),
    "RETURNED_IN": (("qty", "f"),),
    "PACKED_IN": (("from", "s"), ("to", "s"), ("qty", "f")),
    "INSPECTED": (),
    "CALIBRATES": (),
    "DOCUMENTED_BY": (),
}

#: edges of one type between the same two nodes are told apart by this property
#: (a batch runs on the same machine twice; a distributor transfers to a hospital often)
EDGE_DISCRIMINATOR: dict[str, str] = {"PROCESSED_ON": "from", "TRANSFERRED_TO": "shipment_id", "PACKED_IN": "from"}

#: every (from label, edge type, to label) an import can write
EDGE_TRIPLES: tuple[tuple[str, str, str], ...] = (
    ("Supplier", "SUPPLIED", "MaterialLot"),
    ("MaterialLot", "OF", "Material"),
    ("Batch", "OF", "Product"),
    ("Serial", "OF", "Product"),
    ("MaterialLot", "CONSUMED_IN", "Batch"),
    ("Batch", "CONSUMED_IN", "Batch"),
    ("MaterialLot", "SPLIT_INTO", "MaterialLot"),
    ("MaterialLot", "MERGED_INTO", "MaterialLot"),
    ("Batch", "PRODUCED", "Serial"),
    ("Serial", "COMPONENT_OF", "Serial"),
    ("Batch", "PROCESSED_ON", "Equipment"),
    ("Serial", "SHIPPED_IN", "Shipment"),
    ("Batch", "SHIPPED_IN", "Shipment"),
    ("Shipment", "DELIVERED_TO", "Customer"),
    ("Customer", "TRANSFERRED_TO", "Customer"),
    ("Serial", "RETURNED_IN", "Return"),
    ("Batch", "RETURNED_IN", "Return"),
    ("Container", "SHIPPED_IN", "Shipment"),
    ("Container", "RETURNED_IN", "Return"),
    ("Serial", "PACKED_IN", "Container"),
    ("Batch", "PACKED_IN", "Container"),
    ("Container", "PACKED_IN", "Container"),
    ("Inspection", "INSPECTED", "MaterialLot"),
    ("Calibration", "CALIBRATES", "Equipment"),
    ("Product", "DOCUMENTED_BY", "Document"),
    ("Batch", "DOCUMENTED_BY", "Document"),
    ("Equipment", "DOCUMENTED_BY", "Document"),
    ("Material", "DOCUMENTED_BY", "Document"),
    ("MaterialLot", "DOCUMENTED_BY", "Document"),
    ("Supplier", "DOCUMENTED_BY", "Document"),
    ("Serial", "DOCUMENTED_BY", "Document"),
)


class Record(BaseModel):
    """Base of every import record. Unknown fields are kept (stored as one JSON property
    `extra` on the node), so an ERP column we do not model is not lost."""

    model_config = ConfigDict(extra="allow", str_strip_whitespace=True, frozen=False)

    #: bundle file stem (`material_lots` -> material_lots.csv / .jsonl)
    FILE: ClassVar[str] = ""
    #: node label written by this record, or "" for edge-only records
    LABEL: ClassVar[str] = ""
    #: field -> label it refers to (must resolve within the import or in the graph)
    REFS: ClassVar[dict[str, str]] = {}

    # Where a record came from is kept in pydantic's private slot without declaring a
    # PrivateAttr: declared private attributes cost ~40% more per validated row.

    def located(self, source: str, record: str) -> Record:
        """Remember where this record came from (file + row, or EPCIS event), for problems."""
        object.__setattr__(self, "__pydantic_private__", {"loc": (source, record)})
        return self

    def _loc(self) -> tuple[str, str]:
        p = object.__getattribute__(self, "__pydantic_private__")
        return p["loc"] if p and "loc" in p else ("", "")

    @property
    def source_name(self) -> str:
        return self._loc()[0]

    @property
    def location(self) -> str:
        return self._loc()[1]

    def problem(self, field: str, message: str, value: Any = None) -> Problem:
        src, rec = self._loc()
        return Problem(record=rec, field=field, message=message, value=value, source=src)

    def refs(self) -> list[tuple[str, Ref]]:
        """(field, node) pairs this record points to."""
        out = []
        d = self.__dict__
        for fld, label in self.REFS.items():
            v = d.get(fld)
            if v:
                out.append((fld, Ref(label, v)))
        return out

    def edges(self) -> list[EdgeRow]:
        return []

    def extra_json(self) -> str | None:
        extra = {k: v for k, v in (self.model_extra or {}).items() if v not in (None, "")}
        if not extra:
            return None
        return _json.dumps(extra, sort_keys=True, ensure_ascii=False, default=str)


class NodeRecord(Record):
    """A record that is one node, keyed by `id`."""

    id: Key

    @model_validator(mode="after")
    def _no_reserved_extras(self) -> NodeRecord:
        bad = sorted(set(self.model_extra or {}) & RESERVED_PROPS)
        if bad:
            raise ValueError(f"columns {bad} are set by tracegraph itself; remove them from the input")
        return self

    @classmethod
    def prop_fields(cls) -> list[str]:
        """Stored properties in wire order (id first; `extra` last)."""
        return [f for f in cls.model_fields]

    def props(self) -> dict[str, Any]:
        """Stored properties (None for absent values; `extra` as a JSON string)."""
        cls = type(self)
        d = self.__dict__
        out = {f: d.get(f) for f in cls.model_fields}
        for f in _temporal_fields(cls):  # only these need converting (hot path of large imports)
            v = out[f]
            if v is not None:
                out[f] = to_store(v)
        out["extra"] = self.extra_json() if self.__pydantic_extra__ else None
        return out

    def content_hash(self, props: dict[str, Any] | None = None) -> str:
        """A short digest of the stored properties. Stored on the node as `import_hash` with
        `import_hash_at` = `updated_at`, it lets a re-import skip unchanged records without
        reading all their properties (any later change moves `updated_at`)."""
        p = props if props is not None else self.props()
        return _hashlib.blake2b(repr(tuple(p.values())).encode("utf-8"), digest_size=12).hexdigest()

    @property
    def key(self) -> str:
        return self.id

    def ref(self) -> Ref:
        return Ref(self.LABEL, self.id)


class EdgeRecord(Record):
    """A record that is only an edge (a consumption, a shipment line, a lot split)."""

    def edge(self) -> EdgeRow:
        raise NotImplementedError

    def edges(self) -> list[EdgeRow]:
        return [self.edge()]


def _ordered(rec: Record, first: str, second: str, what: str) -> None:
    a, b = getattr(rec, first), getattr(rec, second)
    if a is not None and b is not None and b < a:
        f1, f2 = first.rstrip("_"), second.rstrip("_")
        raise ValueError(f"{f2}: {f2} ({to_store(b)}) is before {f1} ({to_store(a)}); {what}")


# --- nodes ---------------------------------------------------------------------------------

class SupplierRecord(NodeRecord):
    FILE: ClassVar[str] = "suppliers"
    LABEL: ClassVar[str] = "Supplier"
    name: Text
    country: str | None = None
    status: Literal["approved", "conditional", "disqualified"] = "approved"
    qualified_until: Day | None = None
    contact_name: Text | None = None
    contact_email: Email | None = None


class MaterialRecord(NodeRecord):
    FILE: ClassVar[str] = "materials"
    LABEL: ClassVar[str] = "Material"
    name: Text
    uom: Uom
    spec: Text | None = None


class MaterialLotRecord(NodeRecord):
    """A received lot of purchased material (a goods receipt)."""

    FILE: ClassVar[str] = "material_lots"
    LABEL: ClassVar[str] = "MaterialLot"
    REFS: ClassVar[dict[str, str]] = {"material_id": "Material", "supplier_id": "Supplier"}
    material_id: Key
    supplier_id: Key | None = None
    qty_received: Qty
    uom: Uom
    received_at: Timestamp
    po: Key | None = None
    adjusted: bool = False
    status: Literal["available", "quarantined", "consumed", "rejected"] = "available"
    warehouse: Text | None = None

    def edges(self) -> list[EdgeRow]:
        out = [EdgeRow("OF", self.ref(), Ref("Material", self.material_id), {}, "material_id")]
        if self.supplier_id:
            out.append(EdgeRow("SUPPLIED", Ref("Supplier", self.supplier_id), self.ref(),
                               {"date": to_store(self.received_at), "qty": self.qty_received, "po": self.po},
                               "supplier_id"))
        return out


class InspectionRecord(NodeRecord):
    """An incoming inspection of a material lot."""

    FILE: ClassVar[str] = "inspections"
    LABEL: ClassVar[str] = "Inspection"
    REFS: ClassVar[dict[str, str]] = {"lot_id": "MaterialLot"}
    lot_id: Key
    date: Timestamp
    result: Literal["accept", "reject", "conditional"]
    sample_size: Annotated[int, Field(ge=0)] | None = None
    defects: Annotated[int, Field(ge=0)] | None = None
    inspector: Text | None = None

    def edges(self) -> list[EdgeRow]:
        return [EdgeRow("INSPECTED", self.ref(), Ref("MaterialLot", self.lot_id), {}, "lot_id")]


class ProductRecord(NodeRecord):
    FILE: ClassVar[str] = "products"
    LABEL: ClassVar[str] = "Product"
    name: Text
    gtin: Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^\d{8,14}$")] | None = None
    part_no: Key | None = None
    device_class: Text | None = None


class BatchRecord(NodeRecord):
    """A production lot: finished devices, a sub-assembly, or a rework order."""

    FILE: ClassVar[str] = "batches"
    LABEL: ClassVar[str] = "Batch"
    REFS: ClassVar[dict[str, str]] = {"product_id": "Product"}
    product_id: Key
    qty: Qty
    uom: Uom = "ea"
    started_at: Timestamp
    finished_at: Timestamp | None = None
    line: Text | None = None
    site: Text | None = None
    kind: Literal["finished", "subassembly", "rework"] = "finished"
    status: Literal["in_process", "quarantined", "released", "rejected"] = "released"

    @model_validator(mode="after")
    def _dates(self) -> BatchRecord:
        _ordered(self, "started_at", "finished_at", "a batch cannot finish before it starts")
        return self

    def edges(self) -> list[EdgeRow]:
        return [EdgeRow("OF", self.ref(), Ref("Product", self.product_id), {}, "product_id")]


class SerialRecord(NodeRecord):
    """One unit (a UDI)."""

    FILE: ClassVar[str] = "serials"
    LABEL: ClassVar[str] = "Serial"
    REFS: ClassVar[dict[str, str]] = {"batch_id": "Batch", "product_id": "Product", "customer_id": "Customer"}
    udi: Text | None = None
    gtin: Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^\d{8,14}$")] | None = None
    serial_no: Key | None = None
    batch_id: Key
    product_id: Key
    status: Literal["in_stock", "in_transit", "at_distributor", "at_end_user", "returned", "destroyed",
                    "consumed", "quarantined"] = "in_stock"
    warehouse: Text | None = None
    customer_id: Key | None = None
    expiry: Day | None = None

    def edges(self) -> list[EdgeRow]:
        return [EdgeRow("PRODUCED", Ref("Batch", self.batch_id), self.ref(), {}, "batch_id"),
                EdgeRow("OF", self.ref(), Ref("Product", self.product_id), {}, "product_id")]


class EquipmentRecord(NodeRecord):
    FILE: ClassVar[str] = "equipment"
    LABEL: ClassVar[str] = "Equipment"
    name: Text
    kind: Text | None = None
    site: Text | None = None
    calibration_due_at: Day | None = None
    last_calibrated_at: Day | None = None
    status: Literal["active", "out_of_service", "retired", "quarantined"] = "active"


class CalibrationRecord(NodeRecord):
    FILE: ClassVar[str] = "calibrations"
    LABEL: ClassVar[str] = "Calibration"
    REFS: ClassVar[dict[str, str]] = {"equipment_id": "Equipment"}
    equipment_id: Key
    date: Timestamp
    result: Literal["pass", "fail", "out_of_tolerance"]
    due_at: Day | None = None

    @model_validator(mode="after")
    def _dates(self) -> CalibrationRecord:
        if self.due_at is not None and self.due_at < self.date.date():
            raise ValueError(f"due_at: due_at ({self.due_at}) is before the calibration date ({self.date.date()})")
        return self

    def edges(self) -> list[EdgeRow]:
        return [EdgeRow("CALIBRATES", self.ref(), Ref("Equipment", self.equipment_id), {}, "equipment_id")]


class CustomerRecord(NodeRecord):
    FILE: ClassVar[str] = "customers"
    LABEL: ClassVar[str] = "Customer"
    name: Text
    kind: Literal["distributor", "hospital", "end_user", "pharmacy"]
    country: str | None = None
    language: Lang = "en"
    contact_name: Text | None = None
    contact_email: Email | None = None
    contact_phone: Text | None = None
    address: Text | None = None


class ShipmentRecord(NodeRecord):
    """A despatch from our site, or from a customer (a distributor's transfer to a hospital)."""

    FILE: ClassVar[str] = "shipments"
    LABEL: ClassVar[str] = "Shipment"
    REFS: ClassVar[dict[str, str]] = {"customer_id": "Customer"}
    date: Timestamp
    delivered_at: Timestamp | None = None
    from_id: Key
    customer_id: Key
    status: Literal["in_transit", "delivered"] | None = None

    @model_validator(mode="after")
    def _dates(self) -> ShipmentRecord:
        _ordered(self, "date", "delivered_at", "a shipment cannot be delivered before it was shipped")
        if self.status is None:
            self.status = "delivered" if self.delivered_at else "in_transit"
        elif self.status == "delivered" and self.delivered_at is None:
            raise ValueError("delivered_at: status is 'delivered' but delivered_at is empty; give the delivery time")
        return self

    def edges(self) -> list[EdgeRow]:
        return [EdgeRow("DELIVERED_TO", self.ref(), Ref("Customer", self.customer_id),
                        {"date": to_store(self.delivered_at)}, "customer_id")]


#: item_kind of shipment lines, returns and packing rows -> node label
ITEM_LABEL: dict[str, str] = {"serial": "Serial", "batch": "Batch", "container": "Container"}


class ContainerRecord(NodeRecord):
    """A case, pallet or tote (an SSCC, or any id the ERP gives it). What is inside it, and when,
    is in packing.csv; `parent_id` + `packed_at` is a shorthand for one packing row."""

    FILE: ClassVar[str] = "containers"
    LABEL: ClassVar[str] = "Container"
    sscc: str | None = Field(None, pattern=r"^\d{18}$")
    kind: Literal["case", "pallet", "tote", "sscc", "other"] = "case"
    parent_id: Key | None = None
    packed_at: Timestamp | None = None

    @model_validator(mode="after")
    def _parent(self) -> ContainerRecord:
        if self.parent_id is not None and self.packed_at is None:
            raise ValueError("packed_at: give when the container was packed into parent_id")
        if self.parent_id == self.id:
            raise ValueError("parent_id: a container cannot be packed into itself")
        return self

    def refs(self) -> list[tuple[str, Ref]]:
        return [("parent_id", Ref("Container", self.parent_id))] if self.parent_id else []

    def edges(self) -> list[EdgeRow]:
        if not self.parent_id:
            return []
        return [EdgeRow("PACKED_IN", self.ref(), Ref("Container", self.parent_id),
                        {"from": to_store(self.packed_at), "to": None, "qty": None}, "parent_id")]


class ReturnRecord(NodeRecord):
    """A unit or batch quantity coming back from a customer."""

    FILE: ClassVar[str] = "returns"
    LABEL: ClassVar[str] = "Return"
    REFS: ClassVar[dict[str, str]] = {"customer_id": "Customer"}
    date: Timestamp
    customer_id: Key
    reason: Text | None = None
    disposition: Literal["returned", "destroyed", "corrected"] = "returned"
    item_kind: Literal["serial", "batch", "container"]
    item_id: Key
    qty: Qty = 1.0

    def refs(self) -> list[tuple[str, Ref]]:
        return super().refs() + [("item_id", Ref(ITEM_LABEL[self.item_kind], self.item_id))]

    def edges(self) -> list[EdgeRow]:
        return [EdgeRow("RETURNED_IN", Ref(ITEM_LABEL[self.item_kind], self.item_id), self.ref(), {"qty": self.qty},
                        "item_id")]


class DocumentRecord(NodeRecord):
    """A controlled document version; `id` is DOCID@version (filled in when left empty)."""

    FILE: ClassVar[str] = "documents"
    LABEL: ClassVar[str] = "Document"
    doc_id: Key
    version: Key
    title: Text
    kind: Text | None = None
    status: Literal["draft", "in_review", "effective", "superseded", "obsolete"] = "effective"
    effective_from: Day | None = None
    effective_to: Day | None = None

    @model_validator(mode="before")
    @classmethod
    def _default_id(cls, data: Any) -> Any:
        if isinstance(data, dict) and not data.get("id") and data.get("doc_id") and data.get("version"):
            data = {**data, "id": f"{str(data['doc_id']).strip()}@{str(data['version']).strip()}"}
        return data

    @model_validator(mode="after")
    def _dates(self) -> DocumentRecord:
        _ordered(self, "effective_from", "effective_to", "a document cannot expire before it takes effect")
        if self.id != f"{self.doc_id}@{self.version}":
            raise ValueError(f"id: id must be doc_id@version ({self.doc_id}@{self.version}), got {self.id!r}")
        return self


# --- edges ---------------------------------------------------------------------------------

class ConsumptionRecord(EdgeRecord):
    """A material lot (or a sub-assembly / reworked batch) consumed into a batch."""

    FILE: ClassVar[str] = "consumptions"
    input_kind: Literal["lot", "batch"] = "lot"
    input_id: Key
    batch_id: Key
    qty: Qty
    uom: Uom
    at: Timestamp | None = None

    def refs(self) -> list[tuple[str, Ref]]:
        return [("input_id", Ref("MaterialLot" if self.input_kind == "lot" else "Batch", self.input_id)),
                ("batch_id", Ref("Batch", self.batch_id))]

    def edge(self) -> EdgeRow:
        src = Ref("MaterialLot" if self.input_kind == "lot" else "Batch", self.input_id)
        return EdgeRow("CONSUMED_IN", src, Ref("Batch", self.batch_id),
                       {"qty": self.qty, "uom": self.uom, "at": to_store(self.at)}, "input_id")


class ComponentRecord(EdgeRecord):
    """A serial assembled into another serial."""

    FILE: ClassVar[str] = "components"
    REFS: ClassVar[dict[str, str]] = {"component_id": "Serial", "assembly_id": "Serial"}
    component_id: Key
    assembly_id: Key
    at: Timestamp | None = None

    @model_validator(mode="after")
    def _not_self(self) -> ComponentRecord:
        if self.component_id == self.assembly_id:
            raise ValueError("assembly_id: a serial cannot be a component of itself")
        return self

    def edge(self) -> EdgeRow:
        return EdgeRow("COMPONENT_OF", Ref("Serial", self.component_id), Ref("Serial", self.assembly_id),
                       {"at": to_store(self.at)}, "component_id")


class EquipmentUsageRecord(EdgeRecord):
    """A batch processed on a piece of equipment during a time window."""

    FILE: ClassVar[str] = "equipment_usage"
    REFS: ClassVar[dict[str, str]] = {"batch_id": "Batch", "equipment_id": "Equipment"}
    batch_id: Key
    equipment_id: Key
    from_: Timestamp = Field(alias="from")
    to: Timestamp
    params: Text | None = None
    operator: Text | None = None

    model_config = ConfigDict(extra="allow", str_strip_whitespace=True, populate_by_name=True)

    @model_validator(mode="after")
    def _dates(self) -> EquipmentUsageRecord:
        _ordered(self, "from_", "to", "usage must end after it starts")
        if self.params:
            try:
                _json.loads(self.params)
            except ValueError:
                raise ValueError("params: params must be a JSON object, e.g. {\"temp_c\": 121}") from None
        return self

    def edge(self) -> EdgeRow:
        return EdgeRow("PROCESSED_ON", Ref("Batch", self.batch_id), Ref("Equipment", self.equipment_id),
                       {"from": to_store(self.from_), "to": to_store(self.to), "params": self.params,
                        "operator": self.operator}, "equipment_id")


class ShipmentLineRecord(EdgeRecord):
    """A serial (qty 1) or a batch quantity shipped in a shipment."""

    FILE: ClassVar[str] = "shipment_lines"
    shipment_id: Key
    item_kind: Literal["serial", "batch", "container"] = "serial"
    item_id: Key
    qty: Qty = 1.0

    def refs(self) -> list[tuple[str, Ref]]:
        return [("item_id", Ref(ITEM_LABEL[self.item_kind], self.item_id)),
                ("shipment_id", Ref("Shipment", self.shipment_id))]

    def edge(self) -> EdgeRow:
        return EdgeRow("SHIPPED_IN", Ref(ITEM_LABEL[self.item_kind], self.item_id), Ref("Shipment", self.shipment_id),
                       {"qty": self.qty}, "item_id")


class PackingRecord(EdgeRecord):
    """A unit, a lot quantity or a container packed into a container for an interval (a case
    into a pallet; `unpacked_at` empty while it is still inside). What is shipped, received,
    returned or destroyed with the container at a moment is what is inside it then."""

    FILE: ClassVar[str] = "packing"
    child_kind: Literal["serial", "batch", "container"]
    child_id: Key
    container_id: Key
    packed_at: Timestamp
    unpacked_at: Timestamp | None = None
    qty: Qty | None = None

    @model_validator(mode="after")
    def _checks(self) -> PackingRecord:
        _ordered(self, "packed_at", "unpacked_at", "a container cannot be unpacked before it was packed")
        if self.child_kind == "container" and self.child_id == self.container_id:
            raise ValueError("container_id: a container cannot be packed into itself")
        if self.child_kind == "batch" and self.qty is None:
            raise ValueError("qty: a batch is packed by quantity; give qty")
        return self

    def refs(self) -> list[tuple[str, Ref]]:
        return [("child_id", Ref(ITEM_LABEL[self.child_kind], self.child_id)),
                ("container_id", Ref("Container", self.container_id))]

    def edge(self) -> EdgeRow:
        return EdgeRow("PACKED_IN", Ref(ITEM_LABEL[self.child_kind], self.child_id), Ref("Container", self.container_id),
                       {"from": to_store(self.packed_at), "to": to_store(self.unpacked_at),
                        "qty": self.qty if self.child_kind == "batch" else None}, "child_id")


class TransferRecord(EdgeRecord):
    """A distributor passing units to a hospital (summary edge; the units move in `shipment_id`)."""

    FILE: ClassVar[str] = "transfers"
    REFS: ClassVar[dict[str, str]] = {"from_customer_id": "Customer", "to_customer_id": "Customer",
                                      "shipment_id": "Shipment"}
    from_customer_id: Key
    to_customer_id: Key
    date: Timestamp
    shipment_id: Key | None = None

    def edge(self) -> EdgeRow:
        return EdgeRow("TRANSFERRED_TO", Ref("Customer", self.from_customer_id), Ref("Customer", self.to_customer_id),
                       {"date": to_store(self.date), "shipment_id": self.shipment_id or ""}, "to_customer_id")


class LotLinkRecord(EdgeRecord):
    """A lot split into (or merged into) another lot: relabel, repack, pooling."""

    FILE: ClassVar[str] = "lot_links"
    REFS: ClassVar[dict[str, str]] = {"from_lot_id": "MaterialLot", "to_lot_id": "MaterialLot"}
    kind: Literal["split", "merge"]
    from_lot_id: Key
    to_lot_id: Key
    qty: Qty
    date: Timestamp

    def edge(self) -> EdgeRow:
        return EdgeRow("SPLIT_INTO" if self.kind == "split" else "MERGED_INTO", Ref("MaterialLot", self.from_lot_id),
                       Ref("MaterialLot", self.to_lot_id), {"qty": self.qty, "date": to_store(self.date)}, "to_lot_id")


DOC_TARGETS: dict[str, str] = {
    "product": "Product", "batch": "Batch", "equipment": "Equipment", "material": "Material",
    "material_lot": "MaterialLot", "supplier": "Supplier", "serial": "Serial",
}


class DocumentLinkRecord(EdgeRecord):
    """A record documented by a document version (DMR, SOP, certificate of analysis)."""

    FILE: ClassVar[str] = "document_links"
    target_kind: Literal["product", "batch", "equipment", "material", "material_lot", "supplier", "serial"]
    target_id: Key
    document_id: Key

    def refs(self) -> list[tuple[str, Ref]]:
        return [("target_id", Ref(DOC_TARGETS[self.target_kind], self.target_id)),
                ("document_id", Ref("Document", self.document_id))]

    def edge(self) -> EdgeRow:
        return EdgeRow("DOCUMENTED_BY", Ref(DOC_TARGETS[self.target_kind], self.target_id),
                       Ref("Document", self.document_id), {}, "document_id")


#: every record type by bundle file stem, in the order they are validated and written
RECORD_TYPES: dict[str, type[Record]] = {
    cls.FILE: cls
    for cls in (
        SupplierRecord, MaterialRecord, MaterialLotRecord, InspectionRecord, ProductRecord, BatchRecord,
        SerialRecord, EquipmentRecord, CalibrationRecord, CustomerRecord, ContainerRecord, ShipmentRecord,
        ReturnRecord, DocumentRecord, ConsumptionRecord, ComponentRecord, EquipmentUsageRecord, ShipmentLineRecord,
        PackingRecord, TransferRecord, LotLinkRecord, DocumentLinkRecord,
    )
}

NODE_TYPES: dict[str, type[NodeRecord]] = {k: v for k, v in RECORD_TYPES.items() if issubclass(v, NodeRecord)}
LABEL_OF_FILE: dict[str, str] = {k: v.LABEL for k, v in NODE_TYPES.items()}
FILE_OF_LABEL: dict[str, str] = {v: k for k, v in LABEL_OF_FILE.items()}


def problems_from(exc: ValidationError, *, source: str, record: str, data: dict[str, Any] | None = None) -> list[Problem]:
    """Turn a pydantic error into Problems that name the file, row, field, value and what was expected."""
    out = []
    for err in exc.errors(include_url=False):
        loc = [str(p) for p in err.get("loc", ()) if p != "__root__"]
        fld = ".".join(loc).replace("from_", "from") if loc else "(row)"
        value = err.get("input")
        if isinstance(value, dict):
            value = None
        msg = str(err.get("msg", "invalid"))
        if msg.startswith("Value error, "):
            msg = msg[len("Value error, "):]
            m = _re.match(r"^([a-z_]+): (.*)$", msg, _re.S)
            if m and not loc:
                fld, msg = m.group(1), m.group(2)
                if data is not None:
                    value = data.get(fld)
        if err.get("type") == "timezone_aware":
            msg = "timestamp has no timezone; add Z or an offset, e.g. 2026-03-01T08:00:00Z"
        elif err.get("type") == "missing":
            msg = "required field is missing or empty"
        out.append(Problem(record=record, field=fld, message=msg, value=value, source=source))
    return out


__all__ += [
    "Key", "Text", "Qty", "Timestamp", "Day", "Ref", "EdgeRow", "EDGE_PROPS", "EDGE_TRIPLES", "EDGE_DISCRIMINATOR",
    "Record", "NodeRecord", "EdgeRecord", "RECORD_TYPES", "NODE_TYPES", "LABEL_OF_FILE", "FILE_OF_LABEL",
    "SupplierRecord", "MaterialRecord", "MaterialLotRecord", "InspectionRecord", "ProductRecord", "BatchRecord",
    "SerialRecord", "EquipmentRecord", "CalibrationRecord", "CustomerRecord", "ShipmentRecord", "ReturnRecord",
    "DocumentRecord", "ConsumptionRecord", "ComponentRecord", "EquipmentUsageRecord", "ShipmentLineRecord",
    "TransferRecord", "LotLinkRecord", "DocumentLinkRecord", "DOC_TARGETS", "problems_from", "to_store",
    "ContainerRecord", "PackingRecord", "ITEM_LABEL",
]
