"""GraphQL for recalls: list and read them (with affected customers), and move them through
their lifecycle by the engine's commands (each audited; approval and closure are e-signed)."""

from __future__ import annotations

from typing import Any

import strawberry
from starlette.concurrency import run_in_threadpool
from strawberry.experimental.pydantic import type as pyd_type
from strawberry.scalars import JSON
from strawberry.types import Info

from tracegraph.api.deps import P
from tracegraph.engine import recall as rc
from tracegraph.engine import recall_clocks as rcl
from tracegraph.engine import trace_models as tm
from tracegraph.graphql.context import actor_of
from tracegraph.graphql.pagination import Connection, connection, window
from tracegraph.graphql.permissions import Perm
from tracegraph.graphql.types_trace import ImpactCauseInput, _as_dict, engine_model

READ = [Perm(P.RECALL_READ)]
CREATE = [Perm(P.RECALL_CREATE)]
APPROVE = [Perm(P.RECALL_APPROVE)]


@pyd_type(model=rc.RecallCustomer, all_fields=True, description="A customer a recall affects, and its progress.")
class RecallCustomer:
    pass


@pyd_type(model=rcl.Deadline,
          description="One regulatory clock of a recall: due date and state now (engine/recall_clocks.py).")
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

    @strawberry.field(description="Every clock of the recall's jurisdiction: due, done, overdue.")
    async def deadlines(self, info: Info) -> list[RecallDeadline]:
        store, rid = info.context.store, self.id
        return [RecallDeadline.from_pydantic(d) for d in await run_in_threadpool(lambda: rcl.deadlines(store, rid))]


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
        data = {k: v for k, v in _as_dict(input).items() if k != "cause"}
        create = engine_model(rc.RecallCreate, data, "recall")
        cause = engine_model(tm.ImpactCause, _as_dict(input.cause), "cause")
        res = await run_in_threadpool(lambda: rc.create_recall_from_cause(store, actor, create, cause))
        return _out(res.recall)

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

    @strawberry.mutation(permission_classes=APPROVE)
    async def cancel_recall(self, info: Info, id: str, reason: str) -> Recall:
        store, actor = info.context.store, actor_of(info)
        return _out(await run_in_threadpool(lambda: rc.cancel(store, actor, id, reason=reason)))
