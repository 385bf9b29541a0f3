"""Quality management records in the graph: complaints, deviations, CAPA, change control, and
the batch release checklist. One lifecycle engine (`lifecycle`), record types as data (`types`)."""

from tracegraph.engine.qms.lifecycle import (
    QualityRecord,
    RecordType,
    Transition,
    get_record,
    list_records,
    move,
    open_record,
)
from tracegraph.engine.qms.types import (
    CALIBRATION,
    CAPA,
    CHANGE_CONTROL,
    COMPLAINT,
    DEVIATION,
    DOCUMENT,
    RECORD_TYPES,
    SUPPLIER,
    record_type,
)

__all__ = ["QualityRecord", "RecordType", "Transition", "get_record", "list_records", "move", "open_record",
           "CAPA", "CHANGE_CONTROL", "COMPLAINT", "DEVIATION", "DOCUMENT", "RECORD_TYPES", "record_type",
           "CALIBRATION", "SUPPLIER"]
