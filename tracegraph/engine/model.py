"""The graph model in one place: node labels and their business keys, edge types, and the
pydantic records every boundary (loaders, API, exports) validates against.

Every node has a unique business key in the property `id` (the key as imported: an ERP lot
code, a UDI, an EPC URI). Timestamps are stored as ISO-8601 UTC strings, which sort and
compare correctly in both FalkorDB and Neo4j.
"""

from __future__ import annotations

from enum import Enum

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
    # system
    USER = "User"
    ROLE = "Role"
    SIGNATURE = "Signature"
    AUDIT_ENTRY = "AuditEntry"
    AUDIT_HEAD = "AuditHead"
    CHECKPOINT = "Checkpoint"
    IMPORT_RUN = "ImportRun"
    TOKEN = "Token"


#: labels whose records are GMP records: changes need a reason, deletion is retirement
GMP_LABELS: frozenset[str] = frozenset(
    {
        Label.BATCH, Label.SERIAL, Label.MATERIAL_LOT, Label.DOCUMENT, Label.COMPLAINT,
        Label.DEVIATION, Label.CAPA, Label.CHANGE_CONTROL, Label.RELEASE, Label.TRAINING_RECORD,
        Label.RECALL, Label.INSPECTION, Label.CALIBRATION,
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


#: labels that carry a unique business key `id` (constraint + exact-match index on both backends)
KEYED_LABELS: tuple[str, ...] = tuple(
    lbl.value for lbl in Label if lbl not in {Label.AUDIT_HEAD}
)

UNIQUE_KEYS: tuple[tuple[str, str], ...] = tuple((lbl, "id") for lbl in KEYED_LABELS) + (
    (Label.AUDIT_ENTRY.value, "seq"),
)

__all__ = ["Label", "Edge", "GMP_LABELS", "KEYED_LABELS", "UNIQUE_KEYS"]
