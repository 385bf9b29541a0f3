"""Root fields to look up and list the model's records, with filters and sorting for dashboards."""

from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import strawberry
from starlette.concurrency import run_in_threadpool
from strawberry.types import Info

from tracegraph.doors.names import P
from tracegraph.engine import browse
from tracegraph.graphql.pagination import Connection, connection, window
from tracegraph.graphql.permissions import Perm
from tracegraph.graphql.types_nodes import (
    Batch,
    Customer,
    Equipment,
    Material,
    MaterialLot,
    Product,
    Serial,
    Shipment,
    Supplier,
)

if TYPE_CHECKING:
    from tracegraph.graphql.context import Context

READ = [Perm(P.RECORDS_READ)]
_T_co = TypeVar("_T_co", covariant=True)


class _FromProps(Protocol[_T_co]):
    """A node type: built from the node's property dict (types_nodes' `from_props`)."""

    def from_props(self, p: dict[str, Any], /) -> _T_co: ...


def _sort_enum(name: str, kind: str) -> Any:
    fields = sorted(browse.LISTS[kind][1])
    # mypy types only functional Enum() calls with literal names as classes: this one is computed
    return strawberry.enum(Enum(name, {f.upper(): f for f in fields}), description=f"Sort fields of {kind}")  # type: ignore[call-overload]


BatchSort = _sort_enum("BatchSort", "batches")
SerialSort = _sort_enum("SerialSort", "serials")
LotSort = _sort_enum("LotSort", "lots")
CustomerSort = _sort_enum("CustomerSort", "customers")
SupplierSort = _sort_enum("SupplierSort", "suppliers")
ProductSort = _sort_enum("ProductSort", "products")
ShipmentSort = _sort_enum("ShipmentSort", "shipments")


@strawberry.input(description="Batch list filters (all optional, combined with AND).")
class BatchFilter:
    q: str | None = strawberry.field(default=None, description="id contains")
    status: str | None = None
    product: str | None = None
    site: str | None = None
    kind: str | None = None
    started_from: str | None = None
    started_to: str | None = None

    def to_engine(self) -> dict[str, Any]:
        return {"q": self.q, "status": self.status, "product": self.product, "site": self.site,
                "kind": self.kind, "from": self.started_from, "to": self.started_to}


@strawberry.input(description="Serial list filters.")
class SerialFilter:
    q: str | None = None
    status: str | None = None
    batch: str | None = None
    product: str | None = None
    customer: str | None = None

    def to_engine(self) -> dict[str, Any]:
        return {"q": self.q, "status": self.status, "batch": self.batch, "product": self.product,
                "customer": self.customer}


@strawberry.input(description="Material lot list filters.")
class LotFilter:
    q: str | None = None
    status: str | None = None
    supplier: str | None = None
    material: str | None = None

    def to_engine(self) -> dict[str, Any]:
        return {"q": self.q, "status": self.status, "supplier": self.supplier, "material": self.material}


@strawberry.input(description="Customer list filters.")
class CustomerFilter:
    q: str | None = strawberry.field(default=None, description="id contains, or name contains (any case)")
    kind: str | None = None
    country: str | None = None

    def to_engine(self) -> dict[str, Any]:
        return {"q": self.q, "kind": self.kind, "country": self.country}


@strawberry.input(description="Supplier list filters.")
class SupplierFilter:
    q: str | None = strawberry.field(default=None, description="id contains, or name contains (any case)")
    status: str | None = None
    country: str | None = None

    def to_engine(self) -> dict[str, Any]:
        return {"q": self.q, "status": self.status, "country": self.country}


@strawberry.input(description="Product list filters.")
class ProductFilter:
    q: str | None = strawberry.field(default=None, description="id contains, or name contains (any case)")
    device_class: str | None = None

    def to_engine(self) -> dict[str, Any]:
        return {"q": self.q, "device_class": self.device_class}


@strawberry.input(description="Shipment list filters.")
class ShipmentFilter:
    q: str | None = None
    status: str | None = None
    customer: str | None = None
    shipped_from: str | None = None
    shipped_to: str | None = None

    def to_engine(self) -> dict[str, Any]:
        return {"q": self.q, "status": self.status, "customer": self.customer,
                "from": self.shipped_from, "to": self.shipped_to}


async def _list(
    info: Info, kind: str, cls: Any, flt: Any, sort: Any, desc: bool, first: int | None, after: str | None
) -> Connection[Any]:
    skip, limit = window(first, after)
    filters = flt.to_engine() if flt is not None else {}
    store = info.context.store
    sort_value = sort.value if sort is not None else "id"
    rows = await run_in_threadpool(
        lambda: browse.page(store, kind, filters=filters, sort=sort_value, desc=desc, skip=skip, limit=limit + 1)
    )

    async def total() -> int:
        return await run_in_threadpool(lambda: browse.count(store, kind, filters=filters))

    return connection([cls.from_props(r) for r in rows], skip, limit, total)


async def _one(info: Info[Context, Any], label: str, cls: _FromProps[_T_co], id: str) -> _T_co | None:
    p = await info.context.loaders.node(label).load(id)
    return cls.from_props(p) if p else None


@strawberry.type
class BrowseQuery:
    @strawberry.field(permission_classes=READ, description="A batch by id (null if none).")
    async def batch(self, info: Info, id: str) -> Batch | None:
        return await _one(info, "Batch", Batch, id)

    @strawberry.field(permission_classes=READ, description="A unit by serial key (null if none).")
    async def serial(self, info: Info, id: str) -> Serial | None:
        return await _one(info, "Serial", Serial, id)

    @strawberry.field(permission_classes=READ, description="A material lot by lot code.")
    async def material_lot(self, info: Info, id: str) -> MaterialLot | None:
        return await _one(info, "MaterialLot", MaterialLot, id)

    @strawberry.field(permission_classes=READ)
    async def material(self, info: Info, id: str) -> Material | None:
        return await _one(info, "Material", Material, id)

    @strawberry.field(permission_classes=READ)
    async def supplier(self, info: Info, id: str) -> Supplier | None:
        return await _one(info, "Supplier", Supplier, id)

    @strawberry.field(permission_classes=READ)
    async def product(self, info: Info, id: str) -> Product | None:
        return await _one(info, "Product", Product, id)

    @strawberry.field(permission_classes=READ)
    async def customer(self, info: Info, id: str) -> Customer | None:
        return await _one(info, "Customer", Customer, id)

    @strawberry.field(permission_classes=READ)
    async def shipment(self, info: Info, id: str) -> Shipment | None:
        return await _one(info, "Shipment", Shipment, id)

    @strawberry.field(permission_classes=READ)
    async def equipment(self, info: Info, id: str) -> Equipment | None:
        return await _one(info, "Equipment", Equipment, id)

    @strawberry.field(permission_classes=READ, description="Batches, filtered and sorted.")
    async def batches(
        self, info: Info, filter: BatchFilter | None = None, sort: BatchSort | None = None,  # type: ignore[valid-type]
        desc: bool = False, first: int | None = None, after: str | None = None,
    ) -> Connection[Batch]:
        return await _list(info, "batches", Batch, filter, sort, desc, first, after)

    @strawberry.field(permission_classes=READ, description="Units, filtered and sorted.")
    async def serials(
        self, info: Info, filter: SerialFilter | None = None, sort: SerialSort | None = None,  # type: ignore[valid-type]
        desc: bool = False, first: int | None = None, after: str | None = None,
    ) -> Connection[Serial]:
        return await _list(info, "serials", Serial, filter, sort, desc, first, after)

    @strawberry.field(permission_classes=READ, description="Material lots, filtered and sorted.")
    async def material_lots(
        self, info: Info, filter: LotFilter | None = None, sort: LotSort | None = None,  # type: ignore[valid-type]
        desc: bool = False, first: int | None = None, after: str | None = None,
    ) -> Connection[MaterialLot]:
        return await _list(info, "lots", MaterialLot, filter, sort, desc, first, after)

    @strawberry.field(permission_classes=READ)
    async def customers(
        self, info: Info, filter: CustomerFilter | None = None, sort: CustomerSort | None = None,  # type: ignore[valid-type]
        desc: bool = False, first: int | None = None, after: str | None = None,
    ) -> Connection[Customer]:
        return await _list(info, "customers", Customer, filter, sort, desc, first, after)

    @strawberry.field(permission_classes=READ)
    async def suppliers(
        self, info: Info, filter: SupplierFilter | None = None, sort: SupplierSort | None = None,  # type: ignore[valid-type]
        desc: bool = False, first: int | None = None, after: str | None = None,
    ) -> Connection[Supplier]:
        return await _list(info, "suppliers", Supplier, filter, sort, desc, first, after)

    @strawberry.field(permission_classes=READ, description="Products (finished device types), filtered and sorted.")
    async def products(
        self, info: Info, filter: ProductFilter | None = None, sort: ProductSort | None = None,  # type: ignore[valid-type]
        desc: bool = False, first: int | None = None, after: str | None = None,
    ) -> Connection[Product]:
        return await _list(info, "products", Product, filter, sort, desc, first, after)

    @strawberry.field(permission_classes=READ)
    async def shipments(
        self, info: Info, filter: ShipmentFilter | None = None, sort: ShipmentSort | None = None,  # type: ignore[valid-type]
        desc: bool = False, first: int | None = None, after: str | None = None,
    ) -> Connection[Shipment]:
        return await _list(info, "shipments", Shipment, filter, sort, desc, first, after)


@strawberry.type(description="Counts for the dashboard's front page.")
class Dashboard:
    totals: strawberry.scalars.JSON
    serials_by_status: strawberry.scalars.JSON
    batches_by_status: strawberry.scalars.JSON


@strawberry.type
class DashboardQuery:
    @strawberry.field(permission_classes=READ, description="Record counts and units by status.")
    async def dashboard(self, info: Info) -> Dashboard:
        store = info.context.store

        def collect() -> Dashboard:
            return Dashboard(
                totals=strawberry.scalars.JSON(browse.totals(store)),
                serials_by_status=strawberry.scalars.JSON(browse.status_counts(store, "serials")),
                batches_by_status=strawberry.scalars.JSON(browse.status_counts(store, "batches")),
            )

        return await run_in_threadpool(collect)
