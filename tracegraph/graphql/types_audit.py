"""GraphQL for the audit trail: entries (of any record), verification, checkpoints, proofs."""

from __future__ import annotations

import strawberry
from starlette.concurrency import run_in_threadpool
from strawberry.experimental.pydantic import type as pyd_type
from strawberry.scalars import JSON
from strawberry.types import Info

from tracegraph.doors.names import P
from tracegraph.engine.audit import checkpoints as cps
from tracegraph.engine.audit.chain import AuditEntryView, history
from tracegraph.engine.audit.verify import VerifyProblem, VerifyReport, verify
from tracegraph.graphql.context import actor_of
from tracegraph.graphql.pagination import Connection, connection, window
from tracegraph.graphql.permissions import Perm

READ = [Perm(P.AUDIT_READ)]


@pyd_type(model=AuditEntryView, description="One entry of the hash-chained audit trail.")
class AuditEntry:
    seq: strawberry.auto
    ts: strawberry.auto
    actor: strawberry.auto
    actor_name: strawberry.auto
    action: strawberry.auto
    target_label: strawberry.auto
    target_key: strawberry.auto
    changes: JSON
    reason: strawberry.auto
    session: strawberry.auto
    prev_hash: strawberry.auto
    hash: strawberry.auto


@pyd_type(model=VerifyProblem)
class AuditProblem:
    seq: strawberry.auto
    kind: strawberry.auto
    message: strawberry.auto
    field: strawberry.auto
    expected: JSON | None
    actual: JSON | None


@pyd_type(model=VerifyReport, description="Result of recomputing the chain.")
class AuditVerifyReport:
    ok: strawberry.auto
    from_seq: strawberry.auto
    to_seq: strawberry.auto
    entries_checked: strawberry.auto
    records_checked: strawberry.auto
    head_seq: strawberry.auto
    head_hash: strawberry.auto
    trusted_start: strawberry.auto
    first_error: AuditProblem | None
    problems: list[AuditProblem]
    seconds: strawberry.auto
    entries_per_second: strawberry.auto


@pyd_type(model=cps.CheckpointView, all_fields=True, description="A signed checkpoint of the log.")
class Checkpoint:
    pass


@strawberry.type(description="The chain's state without recomputing it: head, size, last signed checkpoint.")
class AuditStatus:
    head_seq: int
    head_hash: str
    last_checkpoint: Checkpoint | None
    #: entries appended after the last checkpoint (the part a verify from it must cover)
    since_checkpoint: int = strawberry.field(description="entries appended after the last checkpoint")


@strawberry.type
class AuditQuery:
    @strawberry.field(permission_classes=READ, description="Audit entries, newest first, optionally filtered.")
    async def audit_log(
        self, info: Info, target: str | None = None, user: str | None = None, since: str | None = None,
        action: str | None = None, first: int | None = None, after: str | None = None, until: str | None = None,
    ) -> Connection[AuditEntry]:
        skip, limit = window(first, after)
        store = info.context.store
        rows = await run_in_threadpool(
            lambda: history(store, target=target, actor=user, since=since, until=until, action=action,
                            limit=skip + limit + 1)
        )
        page = rows[skip:]

        async def total() -> int:
            from tracegraph.engine.audit.chain import head

            if target or user or since or until or action:
                all_rows = await run_in_threadpool(
                    lambda: history(store, target=target, actor=user, since=since, until=until, action=action,
                                    limit=10**9)
                )
                return len(all_rows)
            return int((await run_in_threadpool(lambda: head(store)))["seq"])

        return connection([AuditEntry.from_pydantic(r) for r in page], skip, limit, total)

    @strawberry.field(permission_classes=READ, description="Head and last checkpoint, cheaply (no recomputation).")
    async def audit_status(self, info: Info) -> AuditStatus:
        from tracegraph.engine.audit.chain import head

        store = info.context.store
        h = await run_in_threadpool(lambda: head(store))
        cp = await run_in_threadpool(lambda: cps.latest_checkpoint(store))
        seq = int(h["seq"])
        return AuditStatus(head_seq=seq, head_hash=str(h["hash"]),
                           last_checkpoint=Checkpoint.from_pydantic(cp) if cp else None,
                           since_checkpoint=seq - (cp.size if cp else 0))

    @strawberry.field(permission_classes=READ, description="Every audit entry about one record (and its signatures).")
    async def audit_history(self, info: Info, target: str, limit: int = 500) -> list[AuditEntry]:
        store = info.context.store
        rows = await run_in_threadpool(lambda: history(store, target=target, limit=min(limit, 5000)))
        return [AuditEntry.from_pydantic(r) for r in rows]

    @strawberry.field(permission_classes=READ)
    async def audit_entry(self, info: Info, seq: int) -> AuditEntry | None:
        store = info.context.store
        rows = await run_in_threadpool(lambda: store.read("audit.entry", seq=seq))
        return AuditEntry.from_pydantic(AuditEntryView.from_props(rows[0]["e"])) if rows else None

    @strawberry.field(permission_classes=[Perm(P.AUDIT_VERIFY)], description="Recompute the chain (and record state).")
    async def audit_verify(self, info: Info, from_seq: int = 1, check_state: bool = True) -> AuditVerifyReport:
        store, actor = info.context.store, actor_of(info)
        rep = await run_in_threadpool(lambda: verify(store, from_seq=from_seq, check_state=check_state, actor=actor))
        return AuditVerifyReport.from_pydantic(rep)

    @strawberry.field(permission_classes=READ, description="Signed checkpoints, newest first.")
    async def checkpoints(self, info: Info, limit: int = 100) -> list[Checkpoint]:
        store = info.context.store
        rows = await run_in_threadpool(lambda: cps.list_checkpoints(store, limit=min(limit, 1000)))
        return [Checkpoint.from_pydantic(r) for r in rows]

    @strawberry.field(permission_classes=[Perm(P.AUDIT_REVIEW)],
                      description="Audit trail review of a period (Annex 11 §9): changes and flagged exceptions; "
                                  "read only (JSON of the review).")
    async def audit_review(
        self, info: Info, period_from: str, period_to: str, user: str | None = None, record_type: str | None = None,
        action: str | None = None, work_start: str = "07:00", work_end: str = "19:00", timezone: str | None = None,
        burst_count: int = 30, burst_minutes: float = 5.0, verify_chain: bool = True,
    ) -> JSON:
        from tracegraph.engine.audit import review as rv

        store, actor = info.context.store, actor_of(info)
        req = rv.parse_request({
            "period_from": period_from, "period_to": period_to, "user": user, "record_type": record_type,
            "action": action, "work_start": work_start, "work_end": work_end,
            "timezone": timezone or info.context.settings.timezone, "burst_count": burst_count,
            "burst_minutes": burst_minutes, "verify_chain": verify_chain,
        })
        rep = await run_in_threadpool(lambda: rv.build_review(store, req, actor))
        return JSON(rep.model_dump(mode="json"))

    @strawberry.field(permission_classes=READ, description="Inclusion proof of one entry (verify offline).")
    async def audit_proof(self, info: Info, seq: int, size: int | None = None) -> JSON:
        store = info.context.store
        return JSON(await run_in_threadpool(lambda: cps.inclusion_proof(store, seq, size=size)))


@strawberry.type
class AuditMutation:
    @strawberry.mutation(permission_classes=[Perm(P.AUDIT_CHECKPOINT)],
                         description="Verify the chain since the last checkpoint, then sign a new one (audited).")
    async def create_checkpoint(self, info: Info) -> Checkpoint:
        store, actor = info.context.store, actor_of(info)
        data_dir = info.context.settings.data_dir
        cp = await run_in_threadpool(lambda: cps.create_checkpoint(store, data_dir, actor))
        return Checkpoint.from_pydantic(cp)
