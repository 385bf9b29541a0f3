"""Typed quality records: a `QualityRecord` interface with one concrete GraphQL type per record type
of the engine's data (engine/qms/types.py RECORD_TYPES), and `qualityRecords`, one search over
all types (filters, sort, text search, Relay paging) answered by one Cypher query.

Why the concrete types are generated: a record type is data (a pydantic field model plus a
lifecycle). Each model field becomes a GraphQL field with its scalar type (str, bool, int, Date,
DateTime, lists); enums and Literals become GraphQL enums named `<Type><Field>` (DeviationSeverity,
CalibrationResult, ...); the statuses of every lifecycle form one `QualityStatus` enum. A new record
type in the data gets its GraphQL type, enums, permission rule and search coverage without
anyone writing one here. Enum values keep the stored spelling (`in_progress`, `serious_injury`), so
the typed fields and the generic `QmsRecord.props` show the same words.

The interface also carries every field of the generic `QmsRecord` (props, nextSteps, steps,
concerns, signatures, ...): `qualityRecords(type: "complaint", status: "open")` as the web app
and older clients send it keeps answering the same selections, now through the typed nodes.
Collisions with other schema types are renamed here (the model's `Supplier` node type exists:
the supplier qualification record is `SupplierQualification`).
"""

from __future__ import annotations

import re
import typing
from datetime import date, datetime
from enum import Enum
from types import UnionType
from typing import Annotated, Any, Literal, Union

import strawberry
from starlette.concurrency import run_in_threadpool
from strawberry.scalars import JSON
from strawberry.types import Info

from tracegraph.doors.names import P
from tracegraph.engine.qms import search as qsearch
from tracegraph.engine.qms.columns import statuses_of
from tracegraph.engine.qms.lifecycle import QualityRecord as RecordModel
from tracegraph.engine.qms.lifecycle import RecordType
from tracegraph.engine.qms.types import RECORD_TYPES, record_type
from tracegraph.graphql.context import actor_of
from tracegraph.graphql.pagination import Connection, connection, window
from tracegraph.graphql.permissions import QMS_TYPE_RENAMES, Perm
from tracegraph.graphql.types_qms import QmsRef, QmsSignature, QmsStep, full_record, sig_out

READ = [Perm(P.QMS_READ)]
_NAME = re.compile(r"^[_A-Za-z][_0-9A-Za-z]*$")


def _api_name(rt: RecordType) -> str:
    """The record type's name in the generic API (complaint, change-control, ...)."""
    return next(n for n, t in RECORD_TYPES.items() if t is rt)


def graphql_name(rt: RecordType) -> str:
    return QMS_TYPE_RENAMES.get(rt.label, rt.label)


def _pascal(name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in name.split("_"))


def _enum(name: str, values: list[str], description: str) -> Any:
    members = {}
    for v in values:
        key = v if _NAME.match(v) and v not in ("true", "false", "null") else "v_" + re.sub(r"\W", "_", v)
        members[key] = v
    # mypy types only functional Enum() calls with literal names as classes: this one is computed
    return strawberry.enum(Enum(name, members), description=description)  # type: ignore[call-overload]


QualityStatus = _enum("QualityStatus", qsearch.all_statuses(),
                      "Statuses of the quality record lifecycles (each type uses its own subset).")


@strawberry.enum(description="Sort direction.")
class SortDirection(Enum):
    ASC = "asc"
    DESC = "desc"


@strawberry.input(description="How to sort quality records: `field` is one of id, type, title, status, owner, "
                              "createdAt, updatedAt, dueDate (then by id, in the same direction).")
class QualityRecordSort:
    field: str = "id"
    direction: SortDirection = SortDirection.DESC


def _status(value: Any) -> Any:
    try:
        return QualityStatus(str(value))
    except ValueError:
        return None


@strawberry.interface(description="A quality record of any type (complaint, deviation, CAPA, ...). The common "
                                  "columns, the generic props, its links, signatures and next steps; each type's "
                                  "own fields are on its concrete type (`... on CAPA { rootCause }`).")
class QualityRecord:
    id: str
    type: str = strawberry.field(description="the record type: complaint, deviation, capa, change-control, ...")
    label: str
    status: QualityStatus | None = strawberry.field(  # type: ignore[valid-type]
        description="the lifecycle status (null only for a stored status no lifecycle knows)")
    title: str | None = strawberry.field(description="its title, name or (complaints) description")
    owner: str | None = strawberry.field(description="its owner, or who opened it")
    created_at: datetime | None
    updated_at: datetime | None
    due_date: date | None = strawberry.field(
        description="when it is due, where the type has a due date (CAPA due date, a reportable complaint's "
                    "report deadline until reported, next calibration, supplier requalification)")
    props: JSON = strawberry.field(description="every stored property, as in QmsRecord")
    next_steps: list[str]
    audit_seq: int | None = None
    _rec: strawberry.Private[RecordModel]

    @strawberry.field(description="The steps possible now, with their required fields and signature meaning.")
    def steps(self) -> list[QmsStep]:
        return [QmsStep(name=t.name, to=t.to, permission=t.permission, required=list(t.required),
                        signature=t.signature, reason_required=t.reason_required, help=t.help)
                for t in record_type(self.type).transitions if self._rec.status in t.from_statuses]

    @strawberry.field(description="What the record is about (ABOUT / ADDRESSES targets).")
    async def concerns(self, info: Info) -> list[QmsRef]:
        rec = await full_record(info, self.type, self.id)
        return [QmsRef(id=c["id"], label=c.get("label")) for c in rec.concerns]

    @strawberry.field(description="Quality records that address or concern this one (e.g. a CAPA for a complaint).")
    async def addressed_by(self, info: Info) -> list[QmsRef]:
        rec = await full_record(info, self.type, self.id)
        return [QmsRef(id=c["id"], label=c.get("label")) for c in rec.addressed_by]

    @strawberry.field(description="Signatures with validity (invalid once the record changed after signing).")
    async def signatures(self, info: Info) -> list[QmsSignature]:
        return [sig_out(s) for s in (await full_record(info, self.type, self.id)).signatures]

    @strawberry.field(description="Warnings that do not block, e.g. a signer without training on a document.")
    async def flags(self, info: Info) -> list[str]:
        return list((await full_record(info, self.type, self.id)).flags)


# -- concrete types from the data ----------------------------------------------------------------
Convert = typing.Callable[[Any], Any]


def _as_date(v: Any) -> date | None:
    try:
        return date.fromisoformat(str(v)[:10])
    except ValueError:
        return None


def _as_datetime(v: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(v))
    except ValueError:
        return None


def _field_type(type_name: str, field: str, annotation: Any) -> tuple[Any, Convert]:
    """(GraphQL-facing Python type, converter from the stored value) of one model field; always
    nullable (a record stores only the fields given, and later steps add the rest)."""
    args = typing.get_args(annotation)
    if typing.get_origin(annotation) in (Union, UnionType):
        inner = [a for a in args if a is not type(None)]
        annotation = inner[0] if len(inner) == 1 else Any
        args = typing.get_args(annotation)
    origin = typing.get_origin(annotation)
    if origin is Literal or isinstance(annotation, type) and issubclass(annotation, Enum):
        values = [str(a) for a in args] if origin is Literal else [str(m.value) for m in annotation]
        gql_enum = _enum(type_name + _pascal(field), values, f"{type_name}.{field} values")

        def to_enum(v: Any) -> Any:
            try:
                return gql_enum(str(v))
            except ValueError:
                return None
        return gql_enum | None, to_enum
    if origin is list:
        item, item_conv = _field_type(type_name, field, args[0] if args else Any)
        return list[typing.get_args(item)[0]] | None, lambda v: [item_conv(x) for x in v]  # type: ignore[misc]
    simple: dict[Any, tuple[Any, Convert]] = {
        bool: (bool | None, bool), int: (int | None, int), float: (float | None, float), str: (str | None, str),
        date: (date | None, _as_date), datetime: (datetime | None, _as_datetime),
    }
    return simple.get(annotation, (JSON | None, lambda v: v))


def concrete_type(rt: RecordType) -> tuple[type, dict[str, Convert]]:
    name = graphql_name(rt)
    common = set(QualityRecord.__annotations__)
    annotations: dict[str, Any] = {}
    defaults: dict[str, Any] = {}
    converters: dict[str, Convert] = {}
    for fname, finfo in rt.fields.model_fields.items():
        if fname in common:
            continue  # title, owner, due_date: the interface's column
        py_type, conv = _field_type(name, fname, finfo.annotation)
        annotations[fname] = py_type
        defaults[fname] = strawberry.field(default=None, description=finfo.description)
        converters[fname] = conv
    statuses = ", ".join(statuses_of(rt))
    cls = type(name, (QualityRecord,), {"__annotations__": annotations, **defaults, "__module__": __name__})
    desc = f"A {rt.title} ({rt.label}, prefix {rt.prefix}); statuses: {statuses}."
    return strawberry.type(cls, name=name, description=desc), converters


CONCRETE: dict[str, tuple[type, dict[str, Convert]]] = {rt.label: concrete_type(rt) for rt in qsearch.record_types()}
#: the generated types, registered with the schema (they are reached only through the interface)
SCHEMA_TYPES: tuple[type, ...] = tuple(cls for cls, _ in CONCRETE.values())
TYPE_NAMES: tuple[str, ...] = tuple(cls.__name__ for cls in SCHEMA_TYPES)


def typed_out(rec: RecordModel, derived: dict[str, Any] | None = None) -> QualityRecord:
    """A record as its concrete type; `derived` are the search's columns (title, owner, due)."""
    rt = record_type(rec.label)
    cls, converters = CONCRETE[rt.label]
    p = rec.props
    d = derived or {}
    values = {f: (conv(p[f]) if p.get(f) is not None else None) for f, conv in converters.items()}
    due = d.get("due")
    obj: QualityRecord = cls(
        id=rec.id, type=_api_name(rt), label=rt.label, status=_status(rec.status),
        title=d.get("title"), owner=d.get("owner"),
        created_at=_as_datetime(p["created_at"]) if p.get("created_at") else None,
        updated_at=_as_datetime(p["updated_at"]) if p.get("updated_at") else None,
        due_date=_as_date(due) if due else None, props=JSON(p),
        next_steps=[t.name for t in rt.transitions if rec.status in t.from_statuses],
        audit_seq=rec.audit_seq, _rec=rec, **values)
    return obj


@strawberry.type
class QualityQuery:
    @strawberry.field(permission_classes=READ, description=(
        "Quality records of any types, filtered (all optional, combined with AND), sorted and paged. "
        "Dates are YYYY-MM-DD and inclusive; `q` is case-insensitive text in the id, title, name, reporter "
        "or description. Default order: id, descending (newest first). `type`/`status` are the older "
        "one-type form, still answered."))
    async def quality_records(
        self, info: Info,
        types: list[str] | None = None,
        statuses: list[QualityStatus] | None = None,  # type: ignore[valid-type]
        owner: str | None = None,
        due_before: str | None = None, due_after: str | None = None,
        created_from: str | None = None, created_to: str | None = None,
        q: str | None = None, sort: QualityRecordSort | None = None,
        first: int | None = None, after: str | None = None,
        type: Annotated[str | None, strawberry.argument(deprecation_reason="use types")] = None,
        status: Annotated[str | None, strawberry.argument(deprecation_reason="use statuses")] = None,
    ) -> Connection[QualityRecord]:
        store, actor = info.context.store, actor_of(info)
        wanted_types = [*(types or []), *([type] if type is not None else [])] or None
        chosen: list[Any] = list(statuses or [])
        wanted_statuses = [str(s.value) for s in chosen] + ([status] if status is not None else [])
        spec = qsearch.RecordSearch.of({
            "types": wanted_types, "statuses": wanted_statuses or None, "owner": owner,
            "dueBefore": due_before, "dueAfter": due_after, "createdFrom": created_from, "createdTo": created_to,
            "q": q, "sort": {"field": sort.field, "direction": sort.direction.value} if sort else None,
        })
        skip, limit = window(first, after)
        rows = await run_in_threadpool(lambda: qsearch.search(store, spec, actor, skip=skip, limit=limit + 1))

        async def total() -> int:
            return await run_in_threadpool(lambda: qsearch.count(store, spec))

        return connection([typed_out(rec, d) for rec, d in rows], skip, limit, total)


__all__ = ["QualityRecord", "QualityStatus", "QualityRecordSort", "SortDirection", "QualityQuery", "SCHEMA_TYPES",
           "TYPE_NAMES", "typed_out", "graphql_name", "concrete_type"]
