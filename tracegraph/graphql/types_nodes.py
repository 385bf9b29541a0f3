"""GraphQL types for the model's nodes (docs/model.md), relations as fields.

Every relation resolves through the request's DataLoaders, so a page of N batches asking for
`product`, `materialLots` and `shipments` costs three queries, not 3N. Types are built from
the node's property dict in one `from_props` classmethod.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

import strawberry
from strawberry.types import Info

from tracegraph.graphql.pagination import Connection, connection, window

if TYPE_CHECKING:
    from tracegraph.graphql.context import Context

Props = dict[str, Any]
N = TypeVar("N")


def _num(v: Any) -> float | None:
    if v is None or isinstance(v, bool):
        return None
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def _str(v: Any) -> str | None:
    return None if v is None else str(v)


def _build(cls: type[N], p: Props) -> N:
    kwargs: dict[str, Any] = {}
    for name, kind in cls.__props__:  # type: ignore[attr-defined]
        v = p.get(name)
        kwargs[name] = _num(v) if kind == "f" else (str(v) if name == "id" else _str(v))
    return cls(**kwargs)


def _props(*names: str, floats: tuple[str, ...] = ()) -> tuple[tuple[str, str], ...]:
    return tuple((n, "s") for n in names) + tuple((n, "f") for n in floats)


async def _node(info: Info[Context, Any], label: str, key: str | None) -> Props | None:
    if not key:
        return None
    return await info.context.loaders.node(label).load(str(key))


async def _rel(info: Info[Context, Any], relation: str, key: str) -> list[Props]:
    return await info.context.loaders.related(relation).load(key)


@strawberry.type(description="A device model (GTIN or part number).")
class Product:
    __props__ = _props("id", "name", "gtin", "part_no", "device_class")
    id: str
    name: str | None
    gtin: str | None
    part_no: str | None
    device_class: str | None

    @classmethod
    def from_props(cls, p: Props) -> Product:
        return _build(cls, p)


@strawberry.type(description="A material (part number) lots are made of.")
class Material:
    __props__ = _props("id", "name", "uom", "spec")
    id: str
    name: str | None
    uom: str | None
    spec: str | None

    @classmethod
    def from_props(cls, p: Props) -> Material:
        return _build(cls, p)


@strawberry.type(description="A supplier of material lots.")
class Supplier:
    __props__ = _props("id", "name", "country", "status", "qualified_until")
    id: str
    name: str | None
    country: str | None
    status: str | None
    qualified_until: str | None

    @classmethod
    def from_props(cls, p: Props) -> Supplier:
        return _build(cls, p)

    @strawberry.field(description="Lots this supplier delivered, by lot code.")
    async def lots(
        self, info: Info, first: int | None = None, after: str | None = None, status: str | None = None
    ) -> Connection[MaterialLot]:
        skip, limit = window(first, after)
        total, page = await info.context.loaders.child_page("supplier_lots").load((self.id, status, skip, limit + 1))
        return connection([MaterialLot.from_props(p) for p in page], skip, limit, total)


@strawberry.type(description="A piece of production equipment.")
class Equipment:
    __props__ = _props("id", "name", "kind", "site", "calibration_due_at", "last_calibrated_at", "status")
    id: str
    name: str | None
    kind: str | None
    site: str | None
    calibration_due_at: str | None
    last_calibrated_at: str | None
    status: str | None

    @classmethod
    def from_props(cls, p: Props) -> Equipment:
        return _build(cls, p)


@strawberry.type(description="A distributor, hospital, pharmacy or end user.")
class Customer:
    __props__ = _props(
        "id", "name", "kind", "country", "language", "contact_name", "contact_email", "contact_phone", "address"
    )
    id: str
    name: str | None
    kind: str | None
    country: str | None
    language: str | None
    contact_name: str | None
    contact_email: str | None
    contact_phone: str | None
    address: str | None

    @classmethod
    def from_props(cls, p: Props) -> Customer:
        return _build(cls, p)


@strawberry.type(description="A shipment (despatch) to a customer.")
class Shipment:
    __props__ = _props("id", "date", "delivered_at", "from_id", "customer_id", "status")
    id: str
    date: str | None
    delivered_at: str | None
    from_id: str | None
    customer_id: str | None
    status: str | None

    @classmethod
    def from_props(cls, p: Props) -> Shipment:
        return _build(cls, p)

    @strawberry.field
    async def customer(self, info: Info) -> Customer | None:
        p = await _node(info, "Customer", self.customer_id)
        return Customer.from_props(p) if p else None


@strawberry.type(description="A received lot of material.")
class MaterialLot:
    __props__ = _props(
        "id", "material_id", "supplier_id", "uom", "received_at", "po", "status", "warehouse",
        floats=("qty_received",),
    )
    id: str
    material_id: str | None
    supplier_id: str | None
    uom: str | None
    received_at: str | None
    po: str | None
    status: str | None
    warehouse: str | None
    qty_received: float | None

    @classmethod
    def from_props(cls, p: Props) -> MaterialLot:
        return _build(cls, p)

    @strawberry.field
    async def material(self, info: Info) -> Material | None:
        p = await _node(info, "Material", self.material_id)
        return Material.from_props(p) if p else None

    @strawberry.field
    async def supplier(self, info: Info) -> Supplier | None:
        p = await _node(info, "Supplier", self.supplier_id)
        return Supplier.from_props(p) if p else None

    @strawberry.field(description="Batches this lot was consumed in, with the quantity.")
    async def used_in(self, info: Info) -> list[BatchLink]:
        return [BatchLink.from_props(p) for p in await _rel(info, "lot_batches", self.id)]


@strawberry.type(description="A production lot of finished devices or sub-assemblies.")
class Batch:
    __props__ = _props(
        "id", "product_id", "uom", "started_at", "finished_at", "line", "site", "kind", "status", floats=("qty",)
    )
    id: str
    product_id: str | None
    uom: str | None
    started_at: str | None
    finished_at: str | None
    line: str | None
    site: str | None
    kind: str | None
    status: str | None
    qty: float | None

    @classmethod
    def from_props(cls, p: Props) -> Batch:
        return _build(cls, p)

    @strawberry.field
    async def product(self, info: Info) -> Product | None:
        p = await _node(info, "Product", self.product_id)
        return Product.from_props(p) if p else None

    @strawberry.field(description="Material lots consumed in this batch.")
    async def material_lots(self, info: Info) -> list[LotLink]:
        return [LotLink.from_props(p) for p in await _rel(info, "batch_lots", self.id)]

    @strawberry.field(description="Sub-assembly or reworked batches consumed in this batch.")
    async def input_batches(self, info: Info) -> list[BatchLink]:
        return [BatchLink.from_props(p) for p in await _rel(info, "batch_inputs", self.id)]

    @strawberry.field(description="Batches this batch was consumed in.")
    async def used_in(self, info: Info) -> list[BatchLink]:
        return [BatchLink.from_props(p) for p in await _rel(info, "batch_used_in", self.id)]

    @strawberry.field
    async def equipment(self, info: Info) -> list[EquipmentUsage]:
        return [EquipmentUsage.from_props(p) for p in await _rel(info, "batch_equipment", self.id)]

    @strawberry.field
    async def shipments(self, info: Info) -> list[ShipmentLink]:
        return [ShipmentLink.from_props(p) for p in await _rel(info, "batch_shipments", self.id)]

    @strawberry.field(description="Serialised units this batch produced, by serial key.")
    async def serials(
        self, info: Info, first: int | None = None, after: str | None = None, status: str | None = None
    ) -> Connection[Serial]:
        skip, limit = window(first, after)
        total, page = await info.context.loaders.child_page("batch_serials").load((self.id, status, skip, limit + 1))
        return connection([Serial.from_props(p) for p in page], skip, limit, total)


@strawberry.type(description="One serialised unit (UDI).")
class Serial:
    __props__ = _props(
        "id", "udi", "gtin", "serial_no", "batch_id", "product_id", "status", "warehouse", "customer_id", "expiry"
    )
    id: str
    udi: str | None
    gtin: str | None
    serial_no: str | None
    batch_id: str | None
    product_id: str | None
    status: str | None
    warehouse: str | None
    customer_id: str | None
    expiry: str | None

    @classmethod
    def from_props(cls, p: Props) -> Serial:
        return _build(cls, p)

    @strawberry.field
    async def batch(self, info: Info) -> Batch | None:
        p = await _node(info, "Batch", self.batch_id)
        return Batch.from_props(p) if p else None

    @strawberry.field
    async def product(self, info: Info) -> Product | None:
        p = await _node(info, "Product", self.product_id)
        return Product.from_props(p) if p else None

    @strawberry.field(description="The customer holding the unit now (null in stock).")
    async def customer(self, info: Info) -> Customer | None:
        p = await _node(info, "Customer", self.customer_id)
        return Customer.from_props(p) if p else None

    @strawberry.field
    async def shipments(self, info: Info) -> list[ShipmentLink]:
        return [ShipmentLink.from_props(p) for p in await _rel(info, "serial_shipments", self.id)]

    @strawberry.field(description="Component units built into this one.")
    async def components(self, info: Info) -> list[SerialLink]:
        return [SerialLink.from_props(p) for p in await _rel(info, "serial_components", self.id)]

    @strawberry.field(description="Assemblies this unit was built into.")
    async def assemblies(self, info: Info) -> list[SerialLink]:
        return [SerialLink.from_props(p) for p in await _rel(info, "serial_assemblies", self.id)]


# -- edges with their properties ---------------------------------------------------------


@strawberry.type(description="A lot consumed in a batch, with the quantity consumed.")
class LotLink:
    lot: MaterialLot
    qty: float | None
    uom: str | None

    @classmethod
    def from_props(cls, p: Props) -> LotLink:
        e = p.get("edge", {})
        return cls(lot=MaterialLot.from_props(p), qty=_num(e.get("qty")), uom=_str(e.get("uom")))


@strawberry.type(description="A batch linked by consumption, with the quantity.")
class BatchLink:
    batch: Batch
    qty: float | None
    uom: str | None

    @classmethod
    def from_props(cls, p: Props) -> BatchLink:
        e = p.get("edge", {})
        return cls(batch=Batch.from_props(p), qty=_num(e.get("qty")), uom=_str(e.get("uom")))


@strawberry.type(description="Equipment a batch was processed on, with the usage window.")
class EquipmentUsage:
    equipment: Equipment
    used_from: str | None
    used_to: str | None

    @classmethod
    def from_props(cls, p: Props) -> EquipmentUsage:
        e = p.get("edge", {})
        return cls(equipment=Equipment.from_props(p), used_from=_str(e.get("from")), used_to=_str(e.get("to")))


@strawberry.type(description="A shipment a batch or unit went out in.")
class ShipmentLink:
    shipment: Shipment
    qty: float | None

    @classmethod
    def from_props(cls, p: Props) -> ShipmentLink:
        return cls(shipment=Shipment.from_props(p), qty=_num(p.get("edge", {}).get("qty")))


@strawberry.type(description="A unit linked by assembly.")
class SerialLink:
    serial: Serial
    at: str | None

    @classmethod
    def from_props(cls, p: Props) -> SerialLink:
        return cls(serial=Serial.from_props(p), at=_str(p.get("edge", {}).get("at")))


NODE_TYPES = {
    "Product": Product, "Material": Material, "Supplier": Supplier, "Equipment": Equipment,
    "Customer": Customer, "Shipment": Shipment, "MaterialLot": MaterialLot, "Batch": Batch, "Serial": Serial,
}
