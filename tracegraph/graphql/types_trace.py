"""GraphQL types for trace and impact results: mirrors of the engine's pydantic models
(`tracegraph.engine.trace.models`), whose `model_dump()` is the JSON contract. Maps of
counts are the `JSON` scalar (their keys are statuses, open-ended by design)."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.experimental.pydantic import type as pyd_type
from strawberry.scalars import JSON

from tracegraph.engine.trace import models as tm
from tracegraph.engine.trace.scan import ResolvedIdentifier, ScanReport


@pyd_type(model=tm.AffectedLot, all_fields=True)
class AffectedLot:
    pass


@pyd_type(model=tm.AffectedBatch, all_fields=True)
class AffectedBatch:
    pass


@pyd_type(model=tm.AffectedSerial, all_fields=True)
class AffectedSerial:
    pass


@pyd_type(model=tm.QuantityRow, all_fields=True)
class QuantityRow:
    pass


@pyd_type(model=tm.AffectedContainer, all_fields=True,
          description="A case or pallet holding affected units at the answer's date (what a warehouse finds).")
class AffectedContainer:
    pass


@pyd_type(model=tm.Contact, all_fields=True)
class Contact:
    pass


@pyd_type(model=tm.CustomerImpact)
class CustomerImpact:
    id: strawberry.auto
    name: strawberry.auto
    kind: strawberry.auto
    country: strawberry.auto
    language: strawberry.auto
    units: strawberry.auto
    by_status: JSON
    contact: strawberry.auto


@pyd_type(model=tm.ProductImpact)
class ProductImpact:
    id: strawberry.auto
    units: strawberry.auto
    by_status: JSON


@pyd_type(model=tm.ImpactResult, description="Everything a cause reached and where it is now.")
class ImpactResult:
    query: JSON
    counts: JSON
    by_status: JSON
    by_product: strawberry.auto
    lots: strawberry.auto
    batches: strawberry.auto
    serials: strawberry.auto
    quantities: strawberry.auto
    customers: strawberry.auto
    containers: strawberry.auto
    truncated: strawberry.auto
    engine: strawberry.auto
    index_seq: strawberry.auto
    elapsed_ms: strawberry.auto


@pyd_type(model=tm.SupplyInfo, all_fields=True)
class SupplyInfo:
    pass


@pyd_type(model=tm.InspectionInfo, all_fields=True)
class InspectionInfo:
    pass


@pyd_type(model=tm.UpstreamLot, all_fields=True)
class UpstreamLot:
    pass


@pyd_type(model=tm.EquipmentUse)
class EquipmentUse:
    equipment: strawberry.auto
    name: strawberry.auto
    used_from: strawberry.auto
    used_to: strawberry.auto
    params: strawberry.auto
    operator: strawberry.auto
    calibration: strawberry.auto
    calibrated_at: strawberry.auto
    calibration_due_at: strawberry.auto
    calibration_result: strawberry.auto
    calibration_state: str = strawberry.field(description="in_calibration, out_of_calibration or unknown")


@pyd_type(model=tm.DocumentUse)
class DocumentUse:
    doc_id: strawberry.auto
    linked: strawberry.auto
    via: str = strawberry.field(description="batch or product")
    in_effect: strawberry.auto
    matches: strawberry.auto


@pyd_type(model=tm.UpstreamBatch, all_fields=True)
class UpstreamBatch:
    pass


@pyd_type(model=tm.QualityRecord, all_fields=True, name="TraceQualityRecord",
          description="A quality record found by the backward trace (the typed QMS records are `QualityRecord`).")
class QualityRecord:
    pass


@pyd_type(model=tm.BackwardResult, description="Everything upstream of a unit, batch or lot.")
class BackwardResult:
    query: JSON
    start: JSON
    counts: JSON
    serials: JSON
    batches: strawberry.auto
    lots: strawberry.auto
    suppliers: strawberry.auto
    quality: strawberry.auto
    elapsed_ms: strawberry.auto


@pyd_type(model=ResolvedIdentifier)
class Resolved:
    text: strawberry.auto
    label: strawberry.auto
    id: strawberry.auto
    matched_by: strawberry.auto
    parsed: JSON
    node: JSON
    warnings: strawberry.auto


@pyd_type(model=ScanReport, description="What a scanned code is, where it is now, where it came from.")
class ScanResult:
    resolved: Resolved
    product: JSON | None
    batch: JSON | None
    lot: strawberry.auto
    expiry: strawberry.auto
    status: strawberry.auto
    holder: JSON | None
    container: strawberry.auto
    last_shipment: JSON | None
    units_by_status: JSON
    upstream: JSON
    warnings: strawberry.auto




# The engine's pydantic results are returned AS THEY ARE: strawberry reads fields with getattr,
# so only the fields a query selects are touched. A deep `from_pydantic` conversion of a large
# impact result cost more than the analysis itself.


def impact_out(result: Any) -> ImpactResult:
    return result  # type: ignore[no-any-return]


def backward_out(result: Any) -> BackwardResult:
    return result  # type: ignore[no-any-return]


def scan_out(result: Any) -> ScanResult:
    return result  # type: ignore[no-any-return]


# -- root fields ---------------------------------------------------------------------------

import pydantic  # noqa: E402
from starlette.concurrency import run_in_threadpool  # noqa: E402
from strawberry.types import Info  # noqa: E402

from tracegraph.doors.names import P  # noqa: E402
from tracegraph.engine.errors import ValidationFailed  # noqa: E402
from tracegraph.graphql.permissions import Perm  # noqa: E402

TRACE = [Perm(P.TRACE_READ)]
IMPACT = [Perm(P.IMPACT_READ)]


def engine_model(model: type[pydantic.BaseModel], data: dict[str, Any], what: str) -> Any:
    """Build an engine input model, turning pydantic's errors into a ValidationFailed that names fields."""
    from tracegraph.engine.inputs import build

    return build(model, {k: v for k, v in data.items() if v is not None}, what, record=what, prefix=what)


@strawberry.input(description="What went wrong; several kinds combine (union of what each reached).")
class ImpactCauseInput:
    lots: list[str] | None = None
    supplier: str | None = None
    supplied_from: str | None = None
    supplied_to: str | None = None
    equipment: str | None = None
    window_from: str | None = None
    window_to: str | None = None
    batches: list[str] | None = None
    document: str | None = strawberry.field(default=None, description="DOCID@VERSION")
    serial_range: str | None = strawberry.field(default=None, description="GTIN:FROM-TO or BATCH:FROM-TO")
    serials: list[str] | None = None


@strawberry.input(description="How far and how to look.")
class ImpactOptionsInput:
    max_depth: int | None = None
    edge_types: list[str] | None = None
    as_of: str | None = None
    include_returned: bool | None = None
    include_paths: bool | None = None
    serial_limit: int | None = None


def as_dict(obj: Any) -> dict[str, Any]:
    return {k: getattr(obj, k) for k in obj.__dataclass_fields__} if obj is not None else {}


@strawberry.type
class TraceQuery:
    @strawberry.field(permission_classes=TRACE, description="Everything upstream of a unit, batch or lot key.")
    async def trace_back(self, info: Info, key: str, sibling_limit: int = 100) -> BackwardResult:
        from tracegraph.engine.trace.backward import backward_trace

        if not 0 <= sibling_limit <= 10_000:
            raise ValidationFailed("siblingLimit must be between 0 and 10000")
        store = info.context.store
        res = await run_in_threadpool(lambda: backward_trace(store, key, sibling_limit=sibling_limit))
        return backward_out(res)

    @strawberry.field(permission_classes=IMPACT, description="Everything downstream of a unit, batch or lot key.")
    async def trace_forward(
        self, info: Info, key: str, options: ImpactOptionsInput | None = None
    ) -> ImpactResult:
        from tracegraph.engine.trace.impact import forward_trace

        opts = engine_model(tm.ImpactOptions, as_dict(options), "options").model_dump(exclude_defaults=True)
        store = info.context.store
        return impact_out(await run_in_threadpool(lambda: forward_trace(store, key, **opts)))

    @strawberry.field(permission_classes=IMPACT, description="Impact of a cause: what it reached and where it is now.")
    async def impact(
        self, info: Info, cause: ImpactCauseInput, options: ImpactOptionsInput | None = None
    ) -> ImpactResult:
        from tracegraph.engine.trace.impact import impact

        c = engine_model(tm.ImpactCause, as_dict(cause), "cause")
        if c.is_empty():
            raise ValidationFailed("the cause is empty", hint="give lots, supplier, equipment, batches, document, "
                                   "serialRange or serials")
        o = engine_model(tm.ImpactOptions, as_dict(options), "options")
        store = info.context.store
        return impact_out(await run_in_threadpool(lambda: impact(store, c, o)))

    @strawberry.field(permission_classes=TRACE, description="What a scanned barcode / UDI / EPC names, and where it is.")
    async def scan(self, info: Info, barcode: str) -> ScanResult:
        from tracegraph.engine.trace.scan import scan

        store = info.context.store
        return scan_out(await run_in_threadpool(lambda: scan(store, barcode)))
