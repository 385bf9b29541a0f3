"""Typed results of traces and impact analysis. `model_dump()` of these models IS the stable output
contract of `tracegraph trace|impact --json`, REST and GraphQL: add fields freely, never rename.

Identifiers are business keys as imported. Quantities are floats for batch-level (non-serialised)
rows and 1 per serial.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from tracegraph.engine.inputs import AsOf, DayOrInstant, Key

#: where a unit can be; every affected unit is in exactly one of these
UNIT_STATUSES: tuple[str, ...] = (
    "in_stock", "in_transit", "at_distributor", "at_end_user", "returned", "destroyed", "consumed",
    "quarantined", "unknown",
)
#: statuses in which a customer holds (or is about to hold) the unit: these count per customer
HELD_STATUSES: frozenset[str] = frozenset({"in_transit", "at_distributor", "at_end_user"})
#: statuses dropped by `include_returned=False` (a destroyed unit is a return disposition)
RETURNED_STATUSES: frozenset[str] = frozenset({"returned", "destroyed"})
#: the material-flow edges a forward trace may follow (cause -> effect)
FORWARD_EDGES: tuple[str, ...] = ("CONSUMED_IN", "SPLIT_INTO", "MERGED_INTO", "PRODUCED", "COMPONENT_OF")

_SERIAL_RANGE = re.compile(r"^(?P<scope>[^:]+):(?P<from>[^-]+)-(?P<to>.+)$")


# ---------------------------------------------------------------------------------------
# Impact: the question
# ---------------------------------------------------------------------------------------


class SerialRange(BaseModel):
    """Serial numbers FROM..TO (inclusive) of one GTIN or one batch id (`scope`)."""

    scope: str
    start: str
    end: str

    @classmethod
    def parse(cls, text: str) -> SerialRange:
        m = _SERIAL_RANGE.match(text.strip())
        if not m:
            from tracegraph.engine.errors import ValidationFailed

            raise ValidationFailed(
                f"serial range {text!r} is not GTIN:FROM-TO",
                hint="write e.g. 00812345678905:1000-1999 (a batch id also works before the colon)",
            )
        return cls(scope=m["scope"], start=m["from"], end=m["to"])

    def __str__(self) -> str:
        return f"{self.scope}:{self.start}-{self.end}"


class ImpactCause(BaseModel):
    """What went wrong: the ONE cause model of `impact`, `recall create`, `recall drill`, REST and
    GraphQL (parsed once, at the door, by this model). Several kinds may be combined: the affected
    sets are unioned. Each window names what it bounds: a supplier's RECEIPT window
    (`supplied_from/_to`, flags `--received-from/--received-to`) and an equipment USAGE window
    (`window_from/_to`, flags `--used-from/--used-to`); a window without its subject, a window that
    ends before it starts, or a date that is not a calendar date is refused (it would match nothing
    and read as an all-clear)."""

    model_config = ConfigDict(extra="forbid")

    lots: list[Key] = Field(default_factory=list, description="material lot codes")
    supplier: Key | None = None
    supplied_from: DayOrInstant | None = Field(None, validation_alias=AliasChoices("supplied_from", "received_from"),
                                               description="receipt window: SUPPLIED.date >= this (date or "
                                               "timestamp with zone); also accepted as received_from")
    supplied_to: DayOrInstant | None = Field(None, validation_alias=AliasChoices("supplied_to", "received_to"),
                                             description="receipt window: SUPPLIED.date <= this (a date: the "
                                             "whole day); also accepted as received_to")
    equipment: Key | None = None
    window_from: DayOrInstant | None = Field(None, validation_alias=AliasChoices("window_from", "used_from"),
                                             description="usage window: equipment use overlapping from this; also "
                                             "accepted as used_from")
    window_to: DayOrInstant | None = Field(None, validation_alias=AliasChoices("window_to", "used_to"),
                                           description="usage window: equipment use overlapping until this; also "
                                           "accepted as used_to")
    batches: list[Key] = Field(default_factory=list)
    document: Key | None = Field(None, description="document version key DOCID@VERSION")
    serial_range: SerialRange | None = None
    serials: list[Key] = Field(default_factory=list)

    @field_validator("serial_range", mode="before")
    @classmethod
    def _parse_range(cls, v: Any) -> Any:
        if isinstance(v, str):
            from tracegraph.engine.inputs import control_char

            if control_char(v) is not None:
                raise ValueError("contains a control character; send plain text")
            return SerialRange.parse(v)
        return v

    @field_validator("supplied_from", "supplied_to", "window_from", "window_to")
    @classmethod
    def _windows(cls, v: str | None, info: ValidationInfo) -> str | None:
        """Each bound names its subject, and a window may not end before it starts (checked on the
        field, so the refusal names it)."""
        from tracegraph.engine.inputs import check_window

        if v is None:
            return v
        name = info.field_name or ""
        receipt = name.startswith("supplied")
        subject = "supplier" if receipt else "equipment"
        if not info.data.get(subject):
            raise ValueError(
                "a receipt window (--received-from/--received-to) needs a supplier" if receipt
                else "a usage window (--used-from/--used-to) needs equipment")
        if name.endswith("_to"):
            lo_name = "supplied_from" if receipt else "window_from"
            check_window(info.data.get(lo_name), v, lo_name, name)
        return v

    def is_empty(self) -> bool:
        return not (self.lots or self.supplier or self.equipment or self.batches or self.document
                    or self.serial_range or self.serials)


class ImpactOptions(BaseModel):
    """How far and how to look."""

    model_config = ConfigDict(extra="forbid")

    max_depth: int | None = Field(None, ge=0, description="max edges from a seed (lot/batch/serial) to a node")
    edge_types: list[str] | None = Field(None, description=f"subset of {', '.join(FORWARD_EDGES)}")
    as_of: AsOf | None = Field(None, description="classify units from the shipment history as of this date (or "
                               "timestamp with zone); not more than a day in the future")
    include_returned: bool = True
    include_paths: bool = True
    with_history: bool = Field(False, description="fetch each unit's last shipment (id, date); implied by as_of")
    serial_limit: int | None = Field(None, ge=0, description="list at most this many serials (counts stay complete)")

    @field_validator("edge_types")
    @classmethod
    def _known_edges(cls, v: list[str] | None) -> list[str] | None:
        if v is None:
            return v
        out = [e.upper() for e in v]
        bad = [e for e in out if e not in FORWARD_EDGES]
        if bad:
            raise ValueError(f"unknown edge types {bad}; use {list(FORWARD_EDGES)}")
        return out


# ---------------------------------------------------------------------------------------
# Impact: the answer
# ---------------------------------------------------------------------------------------


class AffectedLot(BaseModel):
    id: str
    depth: int
    path: list[str] = Field(default_factory=list)


class AffectedBatch(BaseModel):
    id: str
    product: str | None = None
    kind: str | None = None
    qty: float | None = None
    uom: str | None = None
    started_at: str | None = None
    status: str | None = None
    serialised: bool = True
    units: float = 0
    depth: int = 0
    path: list[str] = Field(default_factory=list)


class AffectedSerial(BaseModel):
    id: str
    batch: str | None = None
    product: str | None = None
    status: str
    customer: str | None = None
    warehouse: str | None = None
    shipment: str | None = None
    date: str | None = None
    depth: int = 0
    path: list[str] = Field(default_factory=list)
    container: str | None = Field(None, description="the innermost container holding the unit at the answer's date")
    via: str | None = Field(None, description="the container whose shipment (or return) put the unit where it is")
    holders: list[str] = Field(default_factory=list, description=(
        "customers that received the unit, in order (the last holds it unless it moved on); filled for units "
        "ever packed in a container, and for every unit when the history is fetched"))


class AffectedContainer(BaseModel):
    """A case, pallet or tote holding affected units at the answer's date: what a warehouse finds."""

    id: str
    sscc: str | None = None
    kind: str | None = None
    parent: str | None = Field(None, description="the container it is packed in at that date")
    units: int = Field(0, description="affected units inside, at any depth")
    unit_ids: list[str] = Field(default_factory=list)
    status: str | None = Field(None, description="where its affected units are (the most common place)")
    customer: str | None = None


class QuantityRow(BaseModel):
    """Batch-level quantity of a non-serialised batch in one place (FSMA-style lot row)."""

    batch: str
    product: str | None = None
    status: str
    qty: float
    uom: str | None = None
    customer: str | None = None
    shipment: str | None = None
    date: str | None = None
    path: list[str] = Field(default_factory=list)


class Contact(BaseModel):
    name: str | None = None
    email: str | None = None
    phone: str | None = None
    address: str | None = None


class CustomerImpact(BaseModel):
    id: str
    name: str | None = None
    kind: str | None = None
    country: str | None = None
    language: str | None = None
    units: float = 0
    by_status: dict[str, float] = Field(default_factory=dict)
    contact: Contact = Field(default_factory=Contact)


class ProductImpact(BaseModel):
    id: str
    units: float = 0
    by_status: dict[str, float] = Field(default_factory=dict)


class ImpactResult(BaseModel):
    query: dict[str, Any]
    counts: dict[str, int | float]
    by_status: dict[str, float]
    by_product: list[ProductImpact]
    lots: list[AffectedLot]
    batches: list[AffectedBatch]
    serials: list[AffectedSerial]
    quantities: list[QuantityRow]
    customers: list[CustomerImpact]
    containers: list[AffectedContainer] = Field(default_factory=list, description=(
        "containers (SSCC) holding listed affected units at the answer's date, outermost first"))
    truncated: bool = False
    engine: str = Field("cypher", description="what answered: 'index' (the trace index) or 'cypher' (the graph)")
    index_seq: int | None = Field(None, description="audit head seq the trace index reflected (engine 'index')")
    elapsed_ms: float = 0.0


# ---------------------------------------------------------------------------------------
# Backward trace
# ---------------------------------------------------------------------------------------


class SupplyInfo(BaseModel):
    supplier: str
    name: str | None = None
    status: str | None = None
    date: str | None = None
    qty: float | None = None
    po: str | None = None


class InspectionInfo(BaseModel):
    id: str
    date: str | None = None
    result: str | None = None
    sample_size: int | None = None
    defects: int | None = None


class UpstreamLot(BaseModel):
    id: str
    material: str | None = None
    status: str | None = None
    qty_received: float | None = None
    uom: str | None = None
    depth: int = 0
    suppliers: list[SupplyInfo] = Field(default_factory=list)
    inspections: list[InspectionInfo] = Field(default_factory=list)
    parents: list[str] = Field(default_factory=list, description="lots split/merged into this one")


class EquipmentUse(BaseModel):
    equipment: str
    name: str | None = None
    used_from: str | None = None
    used_to: str | None = None
    params: str | None = None
    operator: str | None = None
    calibration: str | None = Field(None, description="latest Calibration id dated <= usage start")
    calibrated_at: str | None = None
    calibration_due_at: str | None = None
    calibration_result: str | None = None
    calibration_state: Literal["in_calibration", "out_of_calibration", "unknown"] = "unknown"


class DocumentUse(BaseModel):
    doc_id: str
    linked: str = Field(description="the Document key linked to the batch or its product")
    via: Literal["batch", "product"] = "batch"
    in_effect: str | None = Field(None, description="the version in effect at the batch start")
    matches: bool = Field(False, description="linked version == version in effect")


class UpstreamBatch(BaseModel):
    id: str
    product: str | None = None
    kind: str | None = None
    status: str | None = None
    started_at: str | None = None
    finished_at: str | None = None
    depth: int = 0
    inputs: list[str] = Field(default_factory=list, description="lots and batches consumed in it")
    equipment: list[EquipmentUse] = Field(default_factory=list)
    documents: list[DocumentUse] = Field(default_factory=list)
    siblings: int = Field(0, description="other serials of this batch")
    sibling_ids: list[str] = Field(default_factory=list)


class QualityRecord(BaseModel):
    id: str
    label: str
    about: str
    title: str | None = None
    status: str | None = None


class BackwardResult(BaseModel):
    query: dict[str, Any]
    start: dict[str, Any]
    counts: dict[str, int]
    serials: list[dict[str, Any]] = Field(default_factory=list, description="upstream component serials")
    batches: list[UpstreamBatch]
    lots: list[UpstreamLot]
    suppliers: list[SupplyInfo]
    quality: list[QualityRecord]
    elapsed_ms: float = 0.0

    @model_validator(mode="after")
    def _sorted(self) -> BackwardResult:
        self.batches.sort(key=lambda b: (b.depth, b.id))
        self.lots.sort(key=lambda lot: (lot.depth, lot.id))
        return self


__all__ = [
    "AffectedContainer",
    "UNIT_STATUSES", "HELD_STATUSES", "FORWARD_EDGES", "SerialRange", "ImpactCause", "ImpactOptions",
    "AffectedLot", "AffectedBatch", "AffectedSerial", "QuantityRow", "Contact", "CustomerImpact",
    "ProductImpact", "ImpactResult", "SupplyInfo", "InspectionInfo", "UpstreamLot", "EquipmentUse",
    "DocumentUse", "UpstreamBatch", "QualityRecord", "BackwardResult",
]
