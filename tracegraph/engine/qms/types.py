"""The quality record types, as data. Each is small and alike: what is entered when it is
opened, what it may concern, and its lifecycle. Permissions come from engine/access/permissions.py;
signature meanings and two-person rules from engine/audit/signatures.py."""

from __future__ import annotations

import datetime as _dt
from datetime import date
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from tracegraph.engine import commands
from tracegraph.engine.qms.columns import render_queries
from tracegraph.engine.qms.lifecycle import QUERY_DIR, RecordType
from tracegraph.engine.qms.lifecycle import Transition as T
from tracegraph.engine.qms.release import RELEASE
from tracegraph.engine.qms.suppliers import derive_history
from tracegraph.engine.qms.training_flags import concerned_docs, document_docs
from tracegraph.engine.qms.vigilance import derive_report_due, require_report_before_close

if TYPE_CHECKING:
    from tracegraph.engine.access.actor import Actor
    from tracegraph.engine.clock import Clock
    from tracegraph.engine.qms.lifecycle import QualityRecord
    from tracegraph.engine.stores.base import GraphStore


class _Fields(BaseModel):
    model_config = ConfigDict(extra="forbid", use_enum_values=True)


class EventSeverity(str, Enum):
    death = "death"
    serious_deterioration = "serious_deterioration"
    serious_injury = "serious_injury"
    malfunction = "malfunction"
    public_health_threat = "public_health_threat"


# -- complaints -------------------------------------------------------------------------------
class ComplaintFields(_Fields):
    reporter: str = Field(min_length=1, description="who reported it (customer, hospital, patient)")
    event_date: date
    description: str = Field(min_length=1)
    patient_involved: bool = False
    injury: bool = False
    reportable: bool | None = Field(None, description="adverse event / vigilance report required?")
    reportability_rationale: str | None = None
    investigation: str | None = None
    root_cause: str | None = None
    conclusion: str | None = None
    jurisdiction: str | None = Field(None, description="EU-MDR, US-FDA or CN-NMPA: whose vigilance rules apply")
    severity: EventSeverity | None = Field(None, description="of the event: death, serious_injury, ...")
    aware_at: date | None = Field(None, description="when the manufacturer became aware (default: opening day)")
    device_class: str | None = None
    remedial_action: bool = Field(False, description="remedial action needed to prevent substantial harm (803.53(a))")
    authority_requested: bool = Field(False, description="the authority asked for a 5-day report (803.53(b))")
    reported_at: date | None = None
    report_reference: str | None = None
    report_due: str | None = Field(None, description="computed when decided reportable")
    report_clock: str | None = None
    report_article: str | None = None


COMPLAINT = RecordType(
    label="Complaint", prefix="CMP", title="complaint", open_permission="qms.complaint.create",
    fields=ComplaintFields, about=("Serial", "Batch"), derive=derive_report_due, guard=require_report_before_close,
    transitions=(
        T(name="investigate", from_statuses=("open",), to="investigating", permission="qms.complaint.create",
          help="start the investigation (the unit's backward trace is the starting point)"),
        T(name="decide-reportability", from_statuses=("open", "investigating"), to="investigating",
          permission="qms.complaint.create", required=("reportable", "reportability_rationale"),
          help="decide whether an MDR/vigilance report is required, and why (reportable: computes report_due "
               "from jurisdiction, severity and aware_at)"),
        T(name="report", from_statuses=("investigating",), to="investigating", permission="qms.complaint.create",
          required=("reported_at",), help="record that the MDR/vigilance report was submitted (reported_at, reference)"),
        T(name="conclude", from_statuses=("investigating",), to="concluded", permission="qms.complaint.create",
          required=("reportable", "investigation", "conclusion"), help="record the investigation's result"),
        T(name="close", from_statuses=("concluded",), to="closed", permission="qms.approve", signature="closed",
          help="QA closes the complaint with an electronic signature"),
        T(name="cancel", from_statuses=("open",), to="cancelled", permission="qms.write", reason_required=True,
          help="a duplicate or not a complaint"),
    ),
)


# -- deviations / nonconformances ------------------------------------------------------------------
class Severity(str, Enum):
    minor = "minor"
    major = "major"
    critical = "critical"


class Disposition(str, Enum):
    use_as_is = "use_as_is"
    rework = "rework"
    scrap = "scrap"
    return_to_supplier = "return_to_supplier"


class DeviationFields(_Fields):
    title: str = Field(min_length=1)
    description: str = Field(min_length=1)
    category: str = "process"
    severity: Severity = Severity.minor
    impact_assessment: str | None = None
    disposition: Disposition | None = None
    disposition_rationale: str | None = None


DEVIATION = RecordType(
    label="Deviation", prefix="DEV", title="deviation / nonconformance", open_permission="qms.write",
    fields=DeviationFields, about=("Batch", "MaterialLot", "Equipment", "Document", "Supplier"),
    transitions=(
        T(name="assess", from_statuses=("open",), to="assessed", permission="qms.write",
          required=("impact_assessment",), help="record the impact assessment (see `tracegraph impact`)"),
        T(name="disposition", from_statuses=("assessed",), to="dispositioned", permission="qms.approve",
          required=("disposition", "disposition_rationale"), signature="approved",
          help="QA decides: use as is, rework, scrap or return to supplier (signed)"),
        T(name="close", from_statuses=("dispositioned",), to="closed", permission="qms.approve", signature="closed"),
    ),
)


# -- CAPA ---------------------------------------------------------------------------------------
class CapaFields(_Fields):
    title: str = Field(min_length=1)
    source: str = Field(description="complaint, deviation, audit, trend, management review")
    problem: str = Field(min_length=1)
    owner: str = Field(min_length=1)
    due_date: date
    root_cause: str | None = None
    actions: list[str] = Field(default_factory=list)
    effectiveness_criteria: str | None = None
    effectiveness_result: str | None = None
    effective: bool | None = None


CAPA = RecordType(
    label="CAPA", prefix="CAPA", title="corrective and preventive action", open_permission="qms.write",
    fields=CapaFields, about=("Batch", "MaterialLot", "Equipment", "Document", "Supplier"),
    addresses=("Complaint", "Deviation"),
    transitions=(
        T(name="plan", from_statuses=("open",), to="in_progress", permission="qms.write",
          required=("root_cause", "actions", "effectiveness_criteria"), help="root cause, actions, how to judge success"),
        T(name="implemented", from_statuses=("in_progress",), to="effectiveness_check", permission="qms.write",
          help="actions done; the effectiveness check starts"),
        T(name="close", from_statuses=("effectiveness_check",), to="closed", permission="qms.approve",
          required=("effectiveness_result", "effective"), signature="closed",
          help="closed (signed) by someone other than its author"),
    ),
)


# -- change control ----------------------------------------------------------------------------------
class ChangeControlFields(_Fields):
    title: str = Field(min_length=1)
    change_type: str = Field(description="document, process, material, supplier, equipment")
    description: str = Field(min_length=1)
    justification: str = Field(min_length=1)
    impact_assessment: str | None = None
    effective_date: date | None = None
    new_document_versions: list[str] = Field(default_factory=list)


CHANGE_CONTROL = RecordType(
    label="ChangeControl", prefix="CC", title="change control", open_permission="qms.write", initial="draft",
    fields=ChangeControlFields, about=("Document", "Equipment", "Supplier", "Batch", "MaterialLot"),
    training_docs=concerned_docs,
    transitions=(
        T(name="submit", from_statuses=("draft",), to="submitted", permission="qms.write",
          required=("impact_assessment",), signature="authored", help="submit with the impact assessment (signed)"),
        T(name="approve", from_statuses=("submitted",), to="approved", permission="qms.approve", signature="approved",
          help="approved by someone other than the author (signed)"),
        T(name="implement", from_statuses=("approved",), to="implemented", permission="qms.write",
          required=("effective_date",), help="implemented, with its effective date and new document versions"),
        T(name="close", from_statuses=("implemented",), to="closed", permission="qms.approve", signature="closed"),
        T(name="reject", from_statuses=("submitted",), to="rejected", permission="qms.approve", reason_required=True),
    ),
)


# -- controlled documents ------------------------------------------------------------------------------
class DocumentFields(_Fields):
    doc_id: str = Field(min_length=1, description="the document number, e.g. SOP-12")
    version: str = Field(min_length=1)
    title: str = Field(min_length=1)
    kind: str = "SOP"
    change_control: str | None = Field(None, description="the change control that introduced this version")
    effective_from: date | None = None
    training_required: bool = True


def _supersede_previous(store: GraphStore, actor: Actor, rec: QualityRecord, step: str, clock: Clock) -> None:
    """Making a version effective supersedes the version in effect before it (effective_to set)."""
    if step != "make-effective":
        return
    start = rec.props["effective_from"]
    for row in store.read("quality.document_versions", doc_id=rec.props["doc_id"]):
        p = row["props"]
        if p["id"] != rec.id and p.get("status") == "effective":
            commands.update(store, "Document", p["id"], {"status": "superseded", "effective_to": start}, actor,
                            reason=f"superseded by {rec.id}", clock=clock,
                            by_step=f"make-effective {rec.id}")


DOCUMENT = RecordType(
    label="Document", prefix="DOC", title="controlled document version", open_permission="qms.write",
    initial="draft", fields=DocumentFields, after=_supersede_previous, training_docs=document_docs,
    closed_statuses=("superseded", "obsolete"),
    transitions=(
        T(name="submit", from_statuses=("draft",), to="review", permission="qms.write", signature="authored"),
        T(name="approve", from_statuses=("review",), to="approved", permission="qms.approve", signature="approved",
          help="approved (signed) by someone other than the author"),
        T(name="make-effective", from_statuses=("approved",), to="effective", permission="qms.approve",
          required=("effective_from",), help="in effect from a date; the previous effective version is superseded"),
        T(name="obsolete", from_statuses=("effective", "superseded"), to="obsolete", permission="qms.approve",
          reason_required=True),
    ),
)


# -- training records -----------------------------------------------------------------------------
class TrainingFields(_Fields):
    user_id: str = Field(min_length=1, description="who was trained")
    document_id: str = Field(min_length=1, description="the document VERSION key, DOCID@version")
    trained_at: date
    trainer: str | None = None
    method: str = "read and understood"


TRAINING = RecordType(
    label="TrainingRecord", prefix="TR", title="training record", open_permission="qms.write", initial="completed",
    fields=TrainingFields, about=("Document",), closed_statuses=("completed", "withdrawn"),
    transitions=(
        T(name="withdraw", from_statuses=("completed",), to="withdrawn", permission="qms.write", reason_required=True,
          help="the training is no longer valid (e.g. recorded in error)"),
    ),
)


# -- calibration / maintenance of equipment ---------------------------------------------------------
class CalibrationResult(str, Enum):
    pass_ = "pass"
    fail = "fail"
    out_of_tolerance = "out_of_tolerance"


class CalibrationFields(_Fields):
    equipment_id: str = Field(min_length=1)
    date: _dt.date
    result: CalibrationResult
    due_at: _dt.date | None = Field(None, description="next calibration due (required when it passed)")
    kind: Literal["calibration", "maintenance"] = Field(
        "calibration", description="maintenance records do not count as calibrations (schedule, checklist)")
    performed_by: str | None = None
    certificate: str | None = None
    notes: str | None = None


def _calibration_after(store: GraphStore, actor: Actor, rec: QualityRecord, step: str, clock: Clock) -> None:
    """Keep the equipment's schedule fields current (audited update): a failed calibration makes
    it due at once."""
    if step != "open":
        return
    p = rec.props
    if p.get("kind", "calibration") != "calibration":  # maintenance: does not reset the calibration schedule
        commands.update(store, "Equipment", p["equipment_id"], {"last_maintained_at": p["date"]}, actor,
                        reason=f"maintenance {rec.id}", clock=clock)
        return
    due = p.get("due_at") if p["result"] == "pass" else p["date"]
    commands.update(store, "Equipment", p["equipment_id"],
                    {"last_calibrated_at": p["date"], "last_calibration_result": p["result"], "calibration_due_at": due},
                    actor, reason=f"calibration {rec.id}", clock=clock)


CALIBRATION = RecordType(
    label="Calibration", prefix="CAL", title="calibration / maintenance", open_permission="qms.write",
    initial="recorded", fields=CalibrationFields, about=("Equipment",), about_rel="CALIBRATES",
    after=_calibration_after, closed_statuses=("recorded", "voided"),
    transitions=(
        T(name="void", from_statuses=("recorded",), to="voided", permission="qms.approve", reason_required=True,
          help="recorded in error (the record stays, marked voided)"),
    ),
)


# -- incoming inspection of material lots --------------------------------------------------------------
class InspectionFields(_Fields):
    lot_id: str = Field(min_length=1)
    date: _dt.date
    result: Literal["accept", "reject", "conditional"]
    sample_size: int | None = None
    defects: int | None = None
    inspector: str | None = None
    notes: str | None = None


INSPECTION = RecordType(
    label="Inspection", prefix="INS", title="incoming inspection", open_permission="qms.write", initial="completed",
    fields=InspectionFields, about=("MaterialLot",), about_rel="INSPECTED", closed_statuses=("completed",),
    transitions=(
        T(name="reopen", from_statuses=("completed",), to="reopened", permission="qms.approve", reason_required=True,
          help="new evidence puts the result in doubt: the lot no longer counts as accepted (release checklist, "
               "`qms released-rejected-lots`)"),
        T(name="complete", from_statuses=("reopened",), to="completed", permission="qms.approve",
          required=("result",), signature="approved", help="the re-decided result, signed by QA"),
    ),
)


# -- approved supplier list ---------------------------------------------------------------------------
class SupplierFields(_Fields):
    name: str = Field(min_length=1)
    country: str | None = None
    contact_name: str | None = None
    contact_email: str | None = None
    qualified_until: date | None = None
    qualification_basis: str | None = Field(None, description="audit report, questionnaire, certificate")
    effective_from: date | None = Field(None, description="the day the new status applies (default today)")
    history: list[str] = Field(default_factory=list, description="effective_from|status|qualified_until, appended")


def _supplier_derive(store: GraphStore, rec: QualityRecord, step: str, given: dict[str, Any],
                     clock: Clock) -> dict[str, Any]:
    return derive_history(store, rec, step, given, clock)


_QUALIFIABLE = ("pending", "approved", "conditional", "disqualified")
SUPPLIER = RecordType(
    label="Supplier", prefix="SUP", title="supplier (approved supplier list)", open_permission="qms.write",
    initial="pending", fields=SupplierFields, derive=_supplier_derive, closed_statuses=("approved", "conditional",
                                                                                         "disqualified", "pending"),
    transitions=(
        T(name="qualify", from_statuses=_QUALIFIABLE, to="approved", permission="qms.approve", signature="approved",
          required=("qualified_until", "qualification_basis"), help="approved until a date, on a basis (signed by QA)"),
        T(name="conditional", from_statuses=_QUALIFIABLE, to="conditional", permission="qms.approve",
          signature="approved", required=("qualified_until",), reason_required=True,
          help="approved with conditions (e.g. 100% incoming inspection), signed"),
        T(name="disqualify", from_statuses=("pending", "approved", "conditional"), to="disqualified",
          permission="qms.approve", signature="approved", reason_required=True, help="removed from the list, signed"),
    ),
)


RECORD_TYPES: dict[str, RecordType] = {
    rt.label.lower(): rt for rt in (COMPLAINT, DEVIATION, CAPA, CHANGE_CONTROL, DOCUMENT)
}
RECORD_TYPES["change-control"] = CHANGE_CONTROL

RECORD_TYPES["release"] = RELEASE
RECORD_TYPES["training"] = TRAINING
RECORD_TYPES["calibration"] = CALIBRATION
RECORD_TYPES["supplier"] = SUPPLIER
RECORD_TYPES["inspection"] = INSPECTION
RECORD_TYPES.pop("changecontrol")


# -- queries (per-label files; labels cannot be Cypher parameters) -----------------------------------------------------------------------------
def generate_queries(types: list[RecordType] | None = None, write: bool = False) -> dict[Path, str]:
    """Render the per-label query files from templates (labels cannot be Cypher parameters)."""
    tmpl = {p.stem: p.read_text(encoding="utf-8") for p in (QUERY_DIR / "templates").glob("*.tmpl")}
    out: dict[Path, str] = {}
    for rt in types or list(RECORD_TYPES.values()):
        for op, text in tmpl.items():
            out[QUERY_DIR / op / f"{rt.label}.cypher"] = text.format(label=rt.label, about_rel=rt.about_rel)
    if types is None:  # the cross-type search covers every type of the data
        out.update(render_queries(list({rt.label: rt for rt in RECORD_TYPES.values()}.values())))
    if write:
        for path, text in out.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    return out



def record_type(name: str) -> RecordType:
    from tracegraph.engine.errors import Problem, ValidationFailed

    rt = RECORD_TYPES.get(name.lower())
    if rt is None:
        raise ValidationFailed(f"unknown quality record type {name!r}",
                               [Problem(record="type", field="type", value=name, message="unknown")],
                               hint=f"types: {', '.join(RECORD_TYPES)}")
    return rt


__all__ = ["generate_queries", "COMPLAINT", "DEVIATION", "CAPA", "CHANGE_CONTROL", "DOCUMENT", "TRAINING", "CALIBRATION", "SUPPLIER", "INSPECTION", "RECORD_TYPES", "record_type"]
