"""What a recall campaign is, read from the graph: the `Recall` and `RecallCustomer` models, their
vocabularies, and the reads every recall module shares (`get_recall`, `customers`, `list_recalls`,
`signatures`).

Why a module of its own: returns, effectiveness, clocks, letters and alerts all read campaigns, and
the lifecycle (`campaign`) orchestrates returns and effectiveness; with the reads here, each of them
imports downward only.
"""

from __future__ import annotations

import json
from typing import Any, Literal, cast

from pydantic import BaseModel, Field

from tracegraph.engine.errors import NotFound
from tracegraph.engine.stores.base import GraphStore

Status = Literal["draft", "approved", "in_progress", "effectiveness_check", "closed", "cancelled"]
RecallType = Literal["correction", "removal", "relabel", "software_update", "field_safety_notice",
                     "inspection", "replacement", "destruction"]
Depth = Literal["wholesale", "retail", "user", "consumer"]
IncidentSeverity = Literal["none", "serious_incident", "serious_public_health_threat",
                           "death_or_serious_deterioration"]

#: milestones a user records (regulatory submissions); property m_<name>_at on the Recall
MILESTONES = ("authority_report", "plan_submission", "summary_report", "report_806", "incident_report",
              "fsca_report", "fsn_issued", "public_notice")


class RecallCustomer(BaseModel):
    id: str
    name: str | None = None
    kind: str | None = None
    country: str | None = None
    language: str = "en"
    channel: str = "letter"
    contact_name: str | None = None
    contact_email: str | None = None
    contact_phone: str | None = None
    address: str | None = None
    units: float = Field(0, description="affected units it held at the decision (what it must return or account for)")
    serial_units: float = 0
    qty_units: float = 0
    role: str = Field("holder", description="its place in the chain of distribution: holder (it holds affected "
                      "units), passed_on (it received units and shipped all of them on: it must pass the notice "
                      "on to its own customers, a sub-recall), or both")
    units_received: float = Field(0, description="affected units shipped to it (by us or by another consignee)")
    units_passed_on: float = Field(0, description="of those, units another consignee held at the decision")
    status: str = "pending"
    sent_at: str | None = None
    sent_by: str | None = None
    delivered_at: str | None = None
    bounced_at: str | None = Field(None, description="when the last notice came back undeliverable (the customer "
                                   "is not reached until it is sent again)")
    acknowledged_at: str | None = None
    acknowledged_by: str | None = None
    stock_count: float | None = None
    stock_counted_at: str | None = None
    returned: float = 0
    destroyed: float = 0
    corrected: float = 0
    consumed: float = 0
    not_found: float = 0
    transferred_in: float = Field(0, description="units from our own stock this customer returned (confirmed)")
    transferred_out: float = Field(0, description="units it held that came back through another customer "
                                   "(confirmed transfers; counted in its dispositions)")

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> RecallCustomer:
        st = dict(row.get("state") or {})
        data = {k: v for k, v in row.items() if k != "state" and v is not None}
        data.pop("customer_language", None)
        data["language"] = st.pop("language", None) or row.get("customer_language") or "en"
        data.update({k: v for k, v in st.items() if v is not None and k in cls.model_fields})
        return cls(**data)


class Recall(BaseModel):
    id: str
    status: Status
    jurisdiction: str
    recall_class: str
    type: str
    reason: str
    health_hazard: str = ""
    depth: str = "user"
    responsible: str
    team: list[str] = Field(default_factory=list)
    strategy: str = ""
    incident_severity: str = "none"
    drill: bool = False
    created_by: str
    created_at: str
    updated_at: str
    decision_at: str
    aware_at: str | None = None
    approved_at: str | None = None
    approved_by: str | None = None
    started_at: str | None = None
    completed_at: str | None = None
    closed_at: str | None = None
    closed_by: str | None = None
    cancelled_at: str | None = None
    rules_version: str = ""
    cause: dict[str, Any] = Field(default_factory=dict)
    snapshot_digest: str = ""
    units_covered: float = 0
    field_units: float = 0
    serials_covered: int = 0
    batches_covered: int = 0
    customers_affected: int = 0
    quarantined_serials: int = 0
    quarantined_batches: int = 0
    quarantined_lots: list[str] = Field(default_factory=list, description="suspect material lots quarantined "
                                        "(their remaining stock may not be consumed)")
    effectiveness_pct: float | None = None
    effectiveness_checked_at: str | None = None
    exception: str | None = None
    milestones: dict[str, str] = Field(default_factory=dict)
    progress_reports: list[str] = Field(default_factory=list)
    customers_notified_at: str | None = None
    signatures: list[dict[str, Any]] = Field(
        default_factory=list, description="electronic signatures with their 11.50 manifestation and whether each "
                                          "still binds the fields it signed (engine/audit/signatures.signature_status)")

    @classmethod
    def from_props(cls, p: dict[str, Any]) -> Recall:
        data = {k: v for k, v in p.items() if k in cls.model_fields and v is not None}
        data["cause"] = json.loads(p.get("cause_json") or "{}")
        data["team"] = list(p.get("team") or [])
        data["milestones"] = {k[2:-3]: v for k, v in p.items() if k.startswith("m_") and k.endswith("_at") and v}
        data["progress_reports"] = list(p.get("progress_reports") or [])
        return cls(**data)

    def as_clock_record(self) -> dict[str, Any]:
        """Flat record the regulatory clocks read their start/done events from."""
        out = self.model_dump()
        out.update({f"m_{k}_at": v for k, v in self.milestones.items()})
        out["aware_at"] = self.aware_at or self.decision_at
        return out


# ---------------------------------------------------------------------------------------
# reading
# ---------------------------------------------------------------------------------------


def recall_props(store: GraphStore, recall_id: str) -> dict[str, Any]:
    rows = store.read("recall.get", id=recall_id)
    if not rows:
        raise NotFound(f"recall {recall_id!r} not found", hint="list recalls with `tracegraph recall list`")
    return cast("dict[str, Any]", rows[0]["recall"])  # recall.get returns the node's property map


def customers(store: GraphStore, recall_id: str) -> list[RecallCustomer]:
    return [RecallCustomer.from_row(r) for r in store.read("recall.customers", id=recall_id)]


def get_recall(store: GraphStore, recall_id: str) -> Recall:
    from tracegraph.engine.audit.signatures import signature_status

    rec = Recall.from_props(recall_props(store, recall_id))
    rec.signatures = [v.model_dump() for v in signature_status(store, "Recall", recall_id)]
    custs = customers(store, recall_id)
    if custs and all(c.sent_at for c in custs):
        rec.customers_notified_at = max(c.sent_at for c in custs if c.sent_at)
    return rec


def list_recalls(store: GraphStore, *, status: str | None = None, drill: bool | None = None,
                 limit: int = 200) -> list[Recall]:
    return [Recall.from_props(r["recall"]) for r in store.read("recall.list", status=status, drill=drill, limit=limit)]


def signatures(store: GraphStore, recall_id: str) -> list[dict[str, Any]]:
    return [r["signature"] for r in store.read("recall.signatures", id=recall_id)]
