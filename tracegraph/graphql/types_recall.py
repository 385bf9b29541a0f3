"""GraphQL for recalls: list and read them (with affected customers), and move them through
their lifecycle by the engine's commands (each audited; approval and closure are e-signed)."""

from __future__ import annotations

from enum import Enum
from typing import Any

import strawberry
from starlette.concurrency import run_in_threadpool
from strawberry.experimental.pydantic import type as pyd_type
from strawberry.scalars import JSON
from strawberry.types import Info

from tracegraph.doors.names import P
from tracegraph.engine.recall import campaign as rc
from tracegraph.engine.recall import clocks as rcl
from tracegraph.engine.recall import effectiveness as ref
from tracegraph.engine.recall import timeline as rtl
from tracegraph.engine.recall.returns import CustomerReconciliation, ReturnResult
from tracegraph.engine.trace import models as tm
from tracegraph.graphql.context import actor_of
from tracegraph.graphql.pagination import Connection, connection, window
from tracegraph.graphql.permissions import Perm
from tracegraph.graphql.types_records import Signature
from tracegraph.graphql.types_trace import ImpactCauseInput, as_dict, engine_model

READ = [Perm(P.RECALL_READ)]
CREATE = [Perm(P.RECALL_CREATE)]
APPROVE = [Perm(P.RECALL_APPROVE)]


@pyd_type(model=rc.RecallCustomer, all_fields=True, description="A customer a recall affects, and its progress.")
class RecallCustomer:
    pass


@pyd_type(model=rcl.Deadline,
          description="One regulatory clock of a recall: due date and state now (engine/recall/clocks.py).")
class RecallDeadline:
    clock: strawberry.auto
    name: strawberry.auto
    article: strawberry.auto
    text: strawberry.auto
    verified: strawberry.auto
    start_event: strawberry.auto
    started_at: strawberry.auto
    due_at: strawberry.auto
    done_at: strawberry.auto
    state: str = strawberry.field(description="not_started | pending | due_soon | overdue | done | done_late | "
                                              "not_applicable")
    hours_left: strawberry.auto
    period: strawberry.auto


@strawberry.enum(description="How an effectiveness timeline is stepped.")
class TimelineBy(Enum):
    EVENT = "event"
    DAY = "day"


@pyd_type(model=rtl.TimelinePoint, all_fields=True,
          description="The figures of a recall after one event or at the end of one day.")
class RecallTimelinePoint:
    pass


@pyd_type(model=rtl.EffectivenessTimeline, description="Effectiveness of a recall over time against its target "
          "(engine/recall/timeline.py: replayed from the recall's notice, acknowledgement and return entries).")
class RecallEffectivenessTimeline:
    recall: strawberry.auto
    target_pct: strawberry.auto
    expected: strawberry.auto
    customers_total: strawberry.auto
    accounted_dispositions: strawberry.auto
    by: strawberry.auto
    tz: strawberry.auto
    points: list[RecallTimelinePoint]


@pyd_type(model=CustomerReconciliation, all_fields=True,
          description="One customer's units accounted for: expected, by disposition, unaccounted, %.")
class RecallCustomerReconciliation:
    pass


@pyd_type(model=ref.Effectiveness, description="Effectiveness now (like `tracegraph recall effectiveness`): "
          "units accounted for / units expected against the class's target, per customer, and the consignees "
          "that passed units on and have not acknowledged yet.")
class RecallEffectiveness:
    recall: strawberry.auto
    recall_class: strawberry.auto
    target_pct: strawberry.auto
    overall_pct: strawberry.auto
    meets_target: strawberry.auto
    expected: strawberry.auto
    accounted: strawberry.auto
    check_day: strawberry.auto
    check_level: strawberry.auto
    justification: strawberry.auto
    customers: list[RecallCustomerReconciliation]
    customers_acknowledged: strawberry.auto
    customers_total: strawberry.auto
    consignees_passed_on: strawberry.auto
    awaiting_acknowledgement: strawberry.auto


@pyd_type(model=rc.Recall, description="A recall campaign with its frozen affected set.")
class Recall:
    id: strawberry.auto
    status: str
    jurisdiction: strawberry.auto
    recall_class: strawberry.auto
    type: strawberry.auto
    reason: strawberry.auto
    health_hazard: strawberry.auto
    depth: strawberry.auto
    responsible: strawberry.auto
    team: strawberry.auto
    strategy: strawberry.auto
    incident_severity: strawberry.auto
    drill: strawberry.auto
    created_by: strawberry.auto
    created_at: strawberry.auto
    updated_at: strawberry.auto
    decision_at: strawberry.auto
    aware_at: strawberry.auto
    approved_at: strawberry.auto
    approved_by: strawberry.auto
    started_at: strawberry.auto
    completed_at: strawberry.auto
    closed_at: strawberry.auto
    closed_by: strawberry.auto
    cancelled_at: strawberry.auto
    rules_version: strawberry.auto
    cause: JSON
    snapshot_digest: strawberry.auto
    units_covered: strawberry.auto
    field_units: strawberry.auto
    serials_covered: strawberry.auto
    batches_covered: strawberry.auto
    customers_affected: strawberry.auto
    quarantined_serials: strawberry.auto
    quarantined_batches: strawberry.auto
    quarantined_lots: strawberry.auto
    effectiveness_pct: strawberry.auto
    effectiveness_checked_at: strawberry.auto
    exception: strawberry.auto
    milestones: JSON
    progress_reports: strawberry.auto
    customers_notified_at: strawberry.auto

    @strawberry.field(description="Affected customers and their notification / reconciliation state.")
    async def customers(self, info: Info) -> list[RecallCustomer]:
        store, rid = info.context.store, self.id
        return [RecallCustomer.from_pydantic(c) for c in await run_in_threadpool(lambda: rc.customers(store, rid))]

    @strawberry.field(description="Electronic signatures of this recall (21 CFR 11.50 manifestation: printed "
                                  "name, meaning, time) and whether each still binds the fields it signed.")
    async def signatures(self, info: Info) -> list[Signature]:
        from tracegraph.engine.audit.signatures import signature_status

        store, rid = info.context.store, self.id
        return [Signature.from_pydantic(s) for s in
                await run_in_threadpool(lambda: signature_status(store, "Recall", rid))]

    @strawberry.field(description="Every clock of the recall's jurisdiction: due, done, overdue.")
    async def deadlines(self, info: Info) -> list[RecallDeadline]:
        store, rid = info.context.store, self.id
        return [RecallDeadline.from_pydantic(d) for d in await run_in_threadpool(lambda: rcl.deadlines(store, rid))]

    @strawberry.field(description="Effectiveness now, computed from the dispositions recorded so far (the "
                                  "stored `effectivenessPct` is the figure of the last recorded check).")
    async def effectiveness(self, info: Info) -> RecallEffectiveness:
        store, rid = info.context.store, self.id
        return RecallEffectiveness.from_pydantic(await run_in_threadpool(lambda: ref.effectiveness(store, rid)))

    @strawberry.field(description="Effectiveness over time: an opening point at the decision, then one point per "
                                  "notice, acknowledgement or return (`by: EVENT`) or per calendar day in `tz` (IANA) "
                                  "that had events (`by: DAY`), with the target to draw as a line.")
    async def effectiveness_timeline(self, info: Info, by: TimelineBy = TimelineBy.EVENT,
                                     tz: str = "UTC") -> RecallEffectivenessTimeline:
        store, rid = info.context.store, self.id
        step: rtl.By = "day" if by is TimelineBy.DAY else "event"
        res = await run_in_threadpool(lambda: rtl.effectiveness_timeline(store, rid, by=step, tz=tz))
        return RecallEffectivenessTimeline.from_pydantic(res)


@strawberry.input(description="The recall decision; the affected set comes from the impact of `cause`.")
class RecallInput:
    jurisdiction: str
    recall_class: str
    reason: str
    responsible: str
    cause: ImpactCauseInput
    type: str | None = None
    health_hazard: str | None = None
    depth: str | None = None
    team: list[str] | None = None
    strategy: str | None = None
    incident_severity: str | None = None
    aware_at: str | None = None
    drill: bool | None = None
    id: str | None = None


@strawberry.input(description="A customer's notification step (like `tracegraph recall ack`).")
class CustomerStepInput:
    step: str = strawberry.field(default="acknowledged", description="sent, delivered, bounced (the notice came back "
                                 "undeliverable), acknowledged (with `by`) or stock_count (with `stockCount`)")
    by: str | None = None
    stock_count: float | None = None
    channel: str | None = None
    at: str | None = strawberry.field(default=None, description="ISO 8601 with a timezone; default now")
    note: str | None = None


@strawberry.input(description="Units one customer accounts for (like `tracegraph recall return`).")
class ReturnInput:
    disposition: str = strawberry.field(default="returned", description="returned, destroyed, corrected (in the "
                                        "field), consumed or not_found")
    scans: list[str] | None = None
    qty: float | None = None
    note: str | None = None
    transfer: bool | None = strawberry.field(default=None, description="confirm units another customer held "
                                             "were passed on to this one")


@pyd_type(model=ReturnResult, all_fields=True, description="What a return recorded.")
class RecallReturn:
    pass


def _out(r: Any) -> Recall:
    return Recall.from_pydantic(r)


@strawberry.type
class RecallQuery:
    @strawberry.field(permission_classes=READ, description="Recalls, newest first, by status.")
    async def recalls(self, info: Info, status: str | None = None, drill: bool | None = None,
                      first: int | None = None, after: str | None = None) -> Connection[Recall]:
        skip, limit = window(first, after)
        store = info.context.store
        rows = await run_in_threadpool(lambda: rc.list_recalls(store, status=status, drill=drill, limit=skip + limit + 1))
        return connection([_out(r) for r in rows[skip:]], skip, limit, len(rows) if len(rows) <= skip + limit else
                          await run_in_threadpool(lambda: len(rc.list_recalls(store, status=status, drill=drill,
                                                                                  limit=10**6))))

    @strawberry.field(permission_classes=READ)
    async def recall(self, info: Info, id: str) -> Recall:
        store = info.context.store
        return _out(await run_in_threadpool(lambda: rc.get_recall(store, id)))


@strawberry.type
class RecallMutation:
    @strawberry.mutation(permission_classes=CREATE, description="Decide a recall: runs the impact of `cause` and "
                         "freezes the affected set (one audited statement).")
    async def create_recall(self, info: Info, input: RecallInput) -> Recall:
        store, actor = info.context.store, actor_of(info)
        data = {k: v for k, v in as_dict(input).items() if k != "cause"}
        create = engine_model(rc.RecallCreate, data, "recall")
        cause = engine_model(tm.ImpactCause, as_dict(input.cause), "cause")
        from tracegraph.engine.recall.inputs import require_users

        await run_in_threadpool(lambda: require_users(store, create))
        res = await run_in_threadpool(lambda: rc.create_recall_from_cause(store, actor, create, cause))
        return _out(res.recall)

    @strawberry.mutation(permission_classes=CREATE, description="Record a customer's notification step.")
    async def record_customer_step(self, info: Info, id: str, customer: str, input: CustomerStepInput) -> RecallCustomer:
        from tracegraph.engine.recall import inputs as recall_inputs
        from tracegraph.engine.recall.notify import update_customer

        store, actor = info.context.store, actor_of(info)
        inp = engine_model(recall_inputs.CustomerStepInput, as_dict(input), "input")
        c = await run_in_threadpool(lambda: update_customer(
            store, actor, id, customer, inp.step, by=inp.by, stock_count=inp.stock_count, channel=inp.channel,
            at=inp.at, note=inp.note))
        return RecallCustomer.from_pydantic(c)

    @strawberry.mutation(permission_classes=CREATE, description="Account for a customer's units (returns).")
    async def record_returns(self, info: Info, id: str, customer: str, input: ReturnInput) -> RecallReturn:
        from tracegraph.engine.recall import inputs as recall_inputs
        from tracegraph.engine.recall.returns import record_returns

        store, actor = info.context.store, actor_of(info)
        inp = engine_model(recall_inputs.ReturnInput, as_dict(input), "input")
        res = await run_in_threadpool(lambda: record_returns(
            store, actor, id, customer, inp.disposition, scans=inp.scans, qty=inp.qty, note=inp.note,
            transfer=inp.transfer))
        return RecallReturn.from_pydantic(res)

    @strawberry.mutation(permission_classes=APPROVE, description="Approve with an e-signature (not by the author).")
    async def approve_recall(self, info: Info, id: str, password: str, reason: str) -> Recall:
        store, actor = info.context.store, actor_of(info)
        return _out(await run_in_threadpool(lambda: rc.approve(store, actor, id, password=password, reason=reason)))

    @strawberry.mutation(permission_classes=CREATE, description="Initiate the field action (quarantines stock).")
    async def start_recall(self, info: Info, id: str) -> Recall:
        store, actor = info.context.store, actor_of(info)
        return _out(await run_in_threadpool(lambda: rc.start(store, actor, id)))

    @strawberry.mutation(permission_classes=CREATE, description="Field action done: effectiveness check next.")
    async def complete_recall(self, info: Info, id: str, reason: str) -> Recall:
        store, actor = info.context.store, actor_of(info)
        return _out(await run_in_threadpool(lambda: rc.complete(store, actor, id, reason=reason)))

    @strawberry.mutation(permission_classes=APPROVE, description="Close with an e-signature. Below the class's "
                         "effectiveness target only with `exception`: a justification QA signs as a second "
                         "signature (meaning `exception`).")
    async def close_recall(self, info: Info, id: str, password: str, reason: str,
                           exception: str | None = None) -> Recall:
        store, actor = info.context.store, actor_of(info)
        return _out(await run_in_threadpool(lambda: rc.close(store, actor, id, password=password, reason=reason,
                                                             exception_justification=exception)))

    @strawberry.mutation(permission_classes=CREATE, description="Generate the notices (letters per customer and "
                         "language, customer list, unit sheet) on the server; with markSent, record them as sent.")
    async def notify_recall(self, info: Info, id: str, customers: list[str] | None = None, mark_sent: bool = True,
                            company: str = "the manufacturer") -> JSON:
        from tracegraph.engine.recall import inputs as recall_inputs
        from tracegraph.engine.recall import steps

        store, actor, data_dir = info.context.store, actor_of(info), info.context.settings.data_dir
        inp = engine_model(recall_inputs.NotifyInput, {"customers": customers, "mark_sent": mark_sent,
                                                       "company": company}, "input")
        return JSON(await run_in_threadpool(lambda: steps.notify(store, actor, id, inp, data_dir)))

    @strawberry.mutation(permission_classes=CREATE, description="Record a regulatory submission or a progress report.")
    async def record_milestone(self, info: Info, id: str, milestone: str, at: str | None = None,
                               reference: str = "") -> Recall:
        from tracegraph.engine.recall import inputs as recall_inputs
        from tracegraph.engine.recall import steps

        store, actor = info.context.store, actor_of(info)
        inp = engine_model(recall_inputs.MilestoneInput, {"milestone": milestone, "at": at, "reference": reference},
                           "input")
        return _out(await run_in_threadpool(lambda: steps.milestone(store, actor, id, inp)))

    @strawberry.mutation(permission_classes=CREATE, description="Record the effectiveness check (who, when, figure).")
    async def record_effectiveness_check(self, info: Info, id: str, note: str = "") -> JSON:
        from tracegraph.engine.recall import inputs as recall_inputs
        from tracegraph.engine.recall import steps

        store, actor = info.context.store, actor_of(info)
        inp = engine_model(recall_inputs.EffectivenessInput, {"note": note}, "input")
        return JSON(await run_in_threadpool(lambda: steps.effectiveness_check(store, actor, id, inp)))

    @strawberry.mutation(permission_classes=CREATE, description="Quarantine covered units and batches in our stock.")
    async def quarantine_recall(self, info: Info, id: str) -> JSON:
        from tracegraph.engine.recall import steps

        store, actor = info.context.store, actor_of(info)
        return JSON(await run_in_threadpool(lambda: steps.quarantine_stock(store, actor, id)))

    @strawberry.mutation(permission_classes=APPROVE)
    async def cancel_recall(self, info: Info, id: str, reason: str) -> Recall:
        store, actor = info.context.store, actor_of(info)
        return _out(await run_in_threadpool(lambda: rc.cancel(store, actor, id, reason=reason)))
