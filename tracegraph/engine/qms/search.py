"""Search quality records of any types at once: filtered by status, owner, due and creation dates
and text, sorted by a whitelisted field, paged. This is what the typed GraphQL list
(`qualityRecords`) and its dashboards ask; the per-type `list_records` stays for the CLI and REST.

The cross-type query `queries/qms/search/records_where.cypher` is generated from the data with
the per-type queries (`types.generate_queries`; how: `columns.py`).

Every value travels as a parameter; the sort field is one of `SORT_FIELDS`, mapped to a fixed
CASE in `records_page.cypher`. Input is validated by one pydantic model (`RecordSearch`), so a
bad date, type, status or sort field is refused naming the field, before anything is read.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from tracegraph.engine.access.actor import Actor
from tracegraph.engine.access.permissions import require
from tracegraph.engine.inputs import Day, Line, build, upper_key
from tracegraph.engine.qms.columns import statuses_of
from tracegraph.engine.qms.lifecycle import QualityRecord, RecordType
from tracegraph.engine.stores.base import GraphStore

#: sortable fields (the typed API's field names) -> the sort key name in records_page.cypher
SORT_FIELDS: dict[str, str] = {
    "id": "id", "type": "label", "title": "title", "status": "status", "owner": "owner",
    "createdAt": "created_at", "updatedAt": "updated_at", "dueDate": "due",
}
MAX_PAGE = 500
SortField = Literal["id", "type", "title", "status", "owner", "createdAt", "updatedAt", "dueDate"]


def record_types() -> list[RecordType]:
    """Each record type once (RECORD_TYPES has aliases), in the data's order."""
    from tracegraph.engine.qms.types import RECORD_TYPES

    return list({rt.label: rt for rt in RECORD_TYPES.values()}.values())


def all_statuses() -> list[str]:
    return list(dict.fromkeys(s for rt in record_types() for s in statuses_of(rt)))


def _label_of(name: str) -> str:
    from tracegraph.engine.errors import ValidationFailed
    from tracegraph.engine.qms.types import record_type

    try:
        return record_type(name).label
    except ValidationFailed:
        types = ", ".join(rt.label for rt in record_types())
        raise ValueError(f"unknown quality record type {name!r}; use one of {types}") from None


def _known_status(value: str) -> str:
    if value not in all_statuses():
        raise ValueError(f"unknown status {value!r}; use one of {', '.join(all_statuses())}")
    return value


class RecordSort(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    field: SortField = "id"
    direction: Literal["asc", "desc"] = "desc"


class RecordSearch(BaseModel):
    """What a quality record search may ask (field names as the API spells them)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    types: list[Annotated[Line, AfterValidator(_label_of)]] | None = Field(
        None, description="record types (complaint, capa, change-control, ... or labels); none: all")
    statuses: list[Annotated[Line, AfterValidator(_known_status)]] | None = None
    owner: Annotated[Line, Field(min_length=1, max_length=200)] | None = None
    due_after: Day | None = Field(None, alias="dueAfter", description="due on or after this day")
    due_before: Day | None = Field(None, alias="dueBefore", description="due on or before this day")
    created_from: Day | None = Field(None, alias="createdFrom", description="opened on or after this day")
    created_to: Day | None = Field(None, alias="createdTo", description="opened on or before this day")
    q: Annotated[Line, Field(min_length=1, max_length=200)] | None = Field(
        None, description="case-insensitive text in the id, title, name, reporter or description")
    sort: RecordSort = RecordSort()

    @field_validator("due_before", "created_to")
    @classmethod
    def _window(cls, hi: str | None, info: ValidationInfo) -> str | None:
        lo_name = {"due_before": "due_after", "created_to": "created_from"}[str(info.field_name)]
        lo = info.data.get(lo_name)
        if lo and hi and lo > upper_key(hi):
            raise ValueError(f"{hi} is before {lo}; the window ends before it starts")
        return hi

    @classmethod
    def of(cls, data: dict[str, Any]) -> RecordSearch:
        """Build from the API's arguments (None means not given), refusing in the one error shape."""
        given = {k: v for k, v in data.items() if v is not None}
        search: RecordSearch = build(cls, given, "quality record search", record="qualityRecords")
        return search

    def labels(self) -> list[str]:
        return list(dict.fromkeys(self.types)) if self.types else [rt.label for rt in record_types()]

    def params(self) -> dict[str, Any]:
        return {
            "labels": self.labels(), "statuses": list(self.statuses) if self.statuses else None, "owner": self.owner,
            "due_after": self.due_after, "due_before": self.due_before, "created_from": self.created_from,
            "created_to": self.created_to, "q": self.q.lower() if self.q else None,
        }


def _check_read(spec: RecordSearch, actor: Actor | None) -> None:
    if actor is None:
        return
    by_label = {rt.label: rt for rt in record_types()}
    for perm in dict.fromkeys(by_label[lbl].read_permission for lbl in spec.labels()):
        require(actor, perm)


def search(store: GraphStore, spec: RecordSearch, actor: Actor | None = None, *, skip: int = 0,
           limit: int = 50) -> list[tuple[QualityRecord, dict[str, Any]]]:
    """One page: each record (light: no signatures) with its derived columns (title, owner, due)."""
    _check_read(spec, actor)
    rows = store.read("qms.search.records_page", **spec.params(), sort=SORT_FIELDS[spec.sort.field],
                      desc=spec.sort.direction == "desc", skip=max(0, int(skip)),
                      limit=max(0, min(int(limit), MAX_PAGE + 1)))
    out: list[tuple[QualityRecord, dict[str, Any]]] = []
    for r in rows:
        p = r["props"]
        rec = QualityRecord(label=str(r["label"]), id=str(p["id"]), status=str(p.get("status", "")), props=p)
        out.append((rec, {"title": r["title"], "owner": r["owner"], "due": r["due"]}))
    return out


def count(store: GraphStore, spec: RecordSearch, actor: Actor | None = None) -> int:
    _check_read(spec, actor)
    rows = store.read("qms.search.records_count", **spec.params())
    return int(rows[0]["c"]) if rows else 0


__all__ = ["SORT_FIELDS", "RecordSearch", "RecordSort", "record_types", "all_statuses", "search", "count"]
