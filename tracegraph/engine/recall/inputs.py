"""The inputs of a recall's field steps (a customer's notification step, a return), one pydantic
model each, used by the engine itself so that the CLI, REST and GraphQL refuse the same values:
a stock count below zero, an acknowledgement time without a timezone, control characters."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from tracegraph.engine.inputs import Count, Instant, Line, Text

Step = Literal["sent", "delivered", "bounced", "acknowledged", "stock_count"]
Disposition = Literal["returned", "destroyed", "corrected", "consumed", "not_found"]


class CustomerStepInput(BaseModel):
    """One notification step of one customer (`recall ack`)."""

    model_config = ConfigDict(extra="forbid")

    step: Step = "acknowledged"
    by: Line | None = Field(None, max_length=200, description="who acknowledged (name)")
    stock_count: Count | None = Field(None, description="the customer's own stock count (>= 0)")
    channel: Line | None = Field(None, max_length=40)
    at: Instant | None = Field(None, description="when (ISO 8601 with a timezone; default now)")
    note: Text = Field("", max_length=2000)


class ReturnInput(BaseModel):
    """Units one customer accounts for (`recall return`)."""

    model_config = ConfigDict(extra="forbid")

    disposition: Disposition = "returned"
    scans: list[Line] = Field(default_factory=list, max_length=100_000)
    qty: Count = 0
    note: Text = Field("", max_length=2000)
    transfer: bool = Field(False, description="the operator confirms scanned units held by another customer "
                                              "were passed on to this one (a transfer)")


Milestone = Literal["authority_report", "plan_submission", "summary_report", "report_806", "incident_report",
                    "fsca_report", "fsn_issued", "public_notice", "progress_report"]


class NotifyInput(BaseModel):
    """Generate the notices of a recall (`recall notify`): letters per customer and language, the
    customer list and the unit sheet; with `mark_sent`, record them as sent (one audited statement)."""

    model_config = ConfigDict(extra="forbid")

    customers: list[Line] | None = Field(None, max_length=10_000, description="only these customers (default all)")
    mark_sent: bool = True
    company: Line = Field("the manufacturer", max_length=200, description="the manufacturer's name on the letters")


class MilestoneInput(BaseModel):
    """A regulatory submission or a periodic progress report (`recall milestone`)."""

    model_config = ConfigDict(extra="forbid")

    milestone: Milestone
    at: Instant | None = Field(None, description="when it was submitted (ISO 8601 with a timezone; default now)")
    reference: Line = Field("", max_length=200, description="the authority's reference number")


class EffectivenessInput(BaseModel):
    """Record the effectiveness check on the recall (`recall effectiveness --record`)."""

    model_config = ConfigDict(extra="forbid")

    note: Text = Field("", max_length=2000)


__all__ = ["CustomerStepInput", "ReturnInput", "NotifyInput", "MilestoneInput", "EffectivenessInput", "Step",
           "Disposition", "Milestone"]


def require_users(store: object, decision: object) -> None:
    """The users a recall decision names (responsible, team) exist: alerts and tasks go to them,
    and a typo would send them nowhere. Every door calls this before the recall is created."""
    from tracegraph.engine.access.auth import get_user
    from tracegraph.engine.errors import Problem, ValidationFailed

    named = [("responsible", getattr(decision, "responsible", None))]
    named += [(f"team.{i}", u) for i, u in enumerate(getattr(decision, "team", None) or [])]
    missing = [(f, u) for f, u in named if u and get_user(store, u) is None]  # type: ignore[arg-type]
    if missing:
        raise ValidationFailed(
            f"no user {missing[0][1]!r} ({missing[0][0]})",
            [Problem(record="recall decision", field=f, message=f"no user {u!r}", value=u) for f, u in missing],
            hint="name user ids as created with `tracegraph users add` (see `tracegraph users list`)")


def stored_cause(cause: dict[str, object] | None, recall_id: str) -> object:
    """A recall's stored cause as the one cause model, or a refusal naming the recall and field
    (a recall stored before the cause was validated may hold a window no longer accepted)."""
    from tracegraph.engine.inputs import build
    from tracegraph.engine.trace.models import ImpactCause

    fields = {k: v for k, v in (cause or {}).items() if k in ImpactCause.model_fields}
    return build(ImpactCause, fields, f"stored cause of recall {recall_id}", record=f"recall {recall_id}",
                 prefix="cause")
