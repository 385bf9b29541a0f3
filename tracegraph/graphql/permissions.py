"""Field-level permissions: one `BasePermission` class per engine permission name.

`Perm("trace.read")` returns the (cached) class whose `has_permission` authenticates the
caller and asks the engine (`tracegraph.engine.access.permissions.require`). Refusals raise the
engine's own errors, so clients get `extensions.code` = `authentication_failed` or
`permission_denied` and a message that says what to do. The role x field matrix test reads
`permission` off these classes for every field of the schema.
"""

from __future__ import annotations

from functools import cache
from typing import Any, ClassVar

from strawberry.permission import BasePermission
from strawberry.types import Info

from tracegraph.doors.auth import check_permission
from tracegraph.doors.names import ANY_USER
from tracegraph.engine.errors import AuthenticationFailed
from tracegraph.engine.qms.search import record_types


class RequirePermission(BasePermission):
    """Base: subclasses set `permission` (an engine permission name)."""

    permission: ClassVar[str] = ""
    message = "permission denied"

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        actor = info.context.actor
        if actor is None:
            raise AuthenticationFailed(
                "this field needs a bearer token",
                hint="POST /auth/login, then send Authorization: Bearer <token> with the GraphQL request",
            )
        if self.permission != ANY_USER:
            check_permission(actor, self.permission)
        return True


@cache
def Perm(name: str) -> type[BasePermission]:
    cls_name = "Perm_" + "".join(ch if ch.isalnum() else "_" for ch in name)
    return type(cls_name, (RequirePermission,), {"permission": name, "__doc__": f"requires {name}"})


def field_permission(field: Any) -> str | None:
    """The permission name a strawberry field requires, or None (used by the matrix test)."""
    for cls in getattr(field, "permission_classes", None) or []:
        if isinstance(cls, type) and issubclass(cls, RequirePermission):
            return cls.permission
    return None


__all__ = ["RequirePermission", "Perm", "field_permission"]


#: the permission needed to read each object type, wherever it appears. The matrix test
#: checks that every object type of the schema has a rule here, and that every root field
#: reaching a type requires at least as much (no role can read a type through a side door).
#: `XConnection` / `XEdge` follow X; PageInfo is free.
TYPE_RULES: dict[str, str] = {
    # model nodes and their edges
    **{t: "records.read" for t in (
        "Product", "Material", "Supplier", "Equipment", "Customer", "Shipment", "MaterialLot", "Batch", "Serial",
        "LotLink", "BatchLink", "EquipmentUsage", "ShipmentLink", "SerialLink", "Dashboard",
    )},
    # backward trace and scanning
    **{t: "trace.read" for t in (
        "BackwardResult", "UpstreamBatch", "UpstreamLot", "SupplyInfo", "InspectionInfo", "EquipmentUse",
        "DocumentUse", "TraceQualityRecord", "ScanResult", "Resolved",
    )},
    # forward trace and impact (where units are now, who holds them)
    **{t: "impact.read" for t in (
        "ImpactResult", "AffectedLot", "AffectedBatch", "AffectedSerial", "AffectedContainer", "QuantityRow", "Contact",
        "CustomerImpact", "ProductImpact",
    )},
}
TYPE_RULES.update({
    "AuditEntry": "audit.read", "AuditProblem": "audit.read", "AuditVerifyReport": "audit.verify",
    "Checkpoint": "audit.read", "User": "users.manage", "LoginThrottle": "users.manage", "Signature": "qms.read",
    "RecordResult": "records.status",
    "Recall": "recall.read", "RecallCustomer": "recall.read", "RecallReturn": "recall.read",
    "RecallDeadline": "recall.read", "RecallEffectivenessTimeline": "recall.read", "RecallTimelinePoint": "recall.read",
    "RecallEffectiveness": "recall.read", "RecallCustomerReconciliation": "recall.read",
    "AuditStatus": "audit.read",
})
# quality records (QMS); production figures are production records
TYPE_RULES.update({t: "qms.read" for t in (
    "QmsRecord", "QmsRef", "QmsSignature", "QmsChecklist", "QmsCondition", "QmsCount", "QmsOpenItem", "QmsOpenItems",
    "QmsCapaAlert", "QmsSupplierScore", "QmsTrainingCell", "QmsStep",
)})
TYPE_RULES["QmsProductionRow"] = "records.read"
#: GraphQL names of quality record types whose label is another schema type's name (the model's Supplier)
QMS_TYPE_RENAMES = {"Supplier": "SupplierQualification"}
# the typed quality records (graphql/types_quality.py): the interface (its connection and edge) and one
# generated type per record type of the engine's data, each readable with that type's read permission
TYPE_RULES["QualityRecord"] = "qms.read"
TYPE_RULES.update({QMS_TYPE_RENAMES.get(rt.label, rt.label): rt.read_permission for rt in record_types()})
FREE_TYPES = frozenset({"PageInfo", "Me"})
