"""GraphQL for record commands and e-signatures: status changes (audited, with a reason) and
21 CFR 11 signatures (password re-entry, meaning, bound to the record's content hash)."""

from __future__ import annotations

from typing import Any

import strawberry
from starlette.concurrency import run_in_threadpool
from strawberry.experimental.pydantic import type as pyd_type
from strawberry.scalars import JSON
from strawberry.types import Info

from tracegraph.doors.names import P
from tracegraph.engine import commands
from tracegraph.engine.audit import signatures
from tracegraph.engine.errors import ValidationFailed
from tracegraph.graphql.context import actor_of
from tracegraph.graphql.permissions import Perm


@pyd_type(model=signatures.SignatureView, all_fields=True,
          description="An electronic signature and whether it still binds the record's current content.")
class Signature:
    pass


@strawberry.type(description="A record after a command: label, key, its properties and the audit entry.")
class RecordResult:
    label: str
    key: str
    props: JSON
    audit_seq: int | None


def _record(view: Any, label: str, key: str) -> RecordResult:
    return RecordResult(label=view.label, key=view.key, props=view.props, audit_seq=view.audit_seq)


@strawberry.type
class RecordsQuery:
    @strawberry.field(permission_classes=[Perm(P.QMS_READ)], description="Signatures of a record, with validity.")
    async def signatures(self, info: Info, label: str, key: str) -> list[Signature]:
        store = info.context.store
        rows = await run_in_threadpool(lambda: signatures.signature_status(store, label, key))
        return [Signature.from_pydantic(s) for s in rows]


@strawberry.type
class RecordsMutation:
    @strawberry.mutation(permission_classes=[Perm("records.status")],
                         description="Put a hold on material or lift it (quarantine a batch, lot, unit or machine), audited, "
                                     "with a reason. Only the moves of engine/status_policy.py: recalls, quality "
                                     "records and batch release change status through their own signed steps.")
    async def set_status(self, info: Info, label: str, key: str, status: str, reason: str) -> RecordResult:
        if not reason.strip():
            raise ValidationFailed("a status change through the API needs a reason", hint="say why in `reason`")
        store, actor = info.context.store, actor_of(info)
        view = await run_in_threadpool(lambda: commands.set_status(store, label, key, status, actor, reason=reason))
        return _record(view, label, key)

    @strawberry.mutation(permission_classes=[Perm(P.QMS_SIGN)],
                         description="Sign a record electronically: re-enter the password; meaning "
                                     "authored/reviewed/approved/released/closed/exception.")
    async def sign(self, info: Info, label: str, key: str, meaning: str, password: str, reason: str) -> Signature:
        store, actor = info.context.store, actor_of(info)
        sv = await run_in_threadpool(
            lambda: signatures.sign(store, label, key, meaning, actor, password, reason=reason, username=actor.id)
        )
        return Signature.from_pydantic(sv)
