"""`ImportBatch`: everything one import writes, as validated records, one list per record type.

Why a module of its own: loaders build it, the planner validates and sorts it, the runner writes
it; with the batch below both, the planner and the runner no longer import each other.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel, Field

from tracegraph.engine.model import (
    RECORD_TYPES,
    BatchRecord,
    CalibrationRecord,
    ComponentRecord,
    ConsumptionRecord,
    ContainerRecord,
    CustomerRecord,
    DocumentLinkRecord,
    DocumentRecord,
    EquipmentRecord,
    EquipmentUsageRecord,
    InspectionRecord,
    LotLinkRecord,
    MaterialLotRecord,
    MaterialRecord,
    PackingRecord,
    ProductRecord,
    Record,
    ReturnRecord,
    SerialRecord,
    ShipmentLineRecord,
    ShipmentRecord,
    SupplierRecord,
    TransferRecord,
)


class ImportBatch(BaseModel):
    """Everything one import writes, as validated records, one list per record type.

    The field names are the bundle file stems (suppliers.csv -> `suppliers`). Records keep
    unknown fields (stored as the node's `extra` JSON). Give each record its origin with
    `rec.located("events.jsonld", "event 3")` so problems point at the input.
    """

    suppliers: list[SupplierRecord] = Field(default_factory=list)
    materials: list[MaterialRecord] = Field(default_factory=list)
    material_lots: list[MaterialLotRecord] = Field(default_factory=list)
    inspections: list[InspectionRecord] = Field(default_factory=list)
    products: list[ProductRecord] = Field(default_factory=list)
    batches: list[BatchRecord] = Field(default_factory=list)
    serials: list[SerialRecord] = Field(default_factory=list)
    equipment: list[EquipmentRecord] = Field(default_factory=list)
    calibrations: list[CalibrationRecord] = Field(default_factory=list)
    customers: list[CustomerRecord] = Field(default_factory=list)
    containers: list[ContainerRecord] = Field(default_factory=list)
    shipments: list[ShipmentRecord] = Field(default_factory=list)
    returns: list[ReturnRecord] = Field(default_factory=list)
    documents: list[DocumentRecord] = Field(default_factory=list)
    consumptions: list[ConsumptionRecord] = Field(default_factory=list)
    components: list[ComponentRecord] = Field(default_factory=list)
    equipment_usage: list[EquipmentUsageRecord] = Field(default_factory=list)
    shipment_lines: list[ShipmentLineRecord] = Field(default_factory=list)
    packing: list[PackingRecord] = Field(default_factory=list)
    transfers: list[TransferRecord] = Field(default_factory=list)
    lot_links: list[LotLinkRecord] = Field(default_factory=list)
    document_links: list[DocumentLinkRecord] = Field(default_factory=list)
    #: free-form facts about the source (ERP name, export time, EPCIS document id)
    meta: dict[str, Any] = Field(default_factory=dict)

    @staticmethod
    def record_type(stem: str) -> type[Record]:
        return RECORD_TYPES[stem]

    def add(self, rec: Record) -> None:
        """Append a record to the list of its type."""
        getattr(self, type(rec).FILE).append(rec)

    def extend(self, other: ImportBatch) -> None:
        for stem, recs in other.record_lists():
            getattr(self, stem).extend(recs)

    def record_lists(self) -> Iterator[tuple[str, list[Record]]]:
        """(file stem, records) for every type, in write order."""
        for stem in RECORD_TYPES:
            yield stem, getattr(self, stem)

    def size(self) -> int:
        return sum(len(v) for _, v in self.record_lists())

    def sizes(self) -> dict[str, int]:
        return {stem: len(v) for stem, v in self.record_lists() if v}
