"""Reusable boundary types: every door (CLI, REST, GraphQL) builds its input model from these, so a
bad value is refused the same way everywhere, with the field named, before anything is read or
written. Why one module: "2026-02-30", "last tuesday", a timestamp without a zone or a NUL byte
must never reach a query as something that silently matches nothing ("0 units affected").

- `Line`: one line of text (keys, ids, names): no control characters at all.
- `Text`: free text: tab, newline and carriage return allowed, the rest of C0 and DEL refused.
- `Day`: a calendar-valid `YYYY-MM-DD`.
- `Instant`: an ISO 8601 timestamp WITH a timezone, normalised to the stored UTC form.
- `DayOrInstant`: either (a window bound: a bare day means the whole day where it is an upper bound).
- `AsOf`: a `DayOrInstant` not more than a day in the future.
- `Count`: a finite number >= 0 (quantities, stock counts).

`check_window` refuses from > to; `problems_of` turns a pydantic error into the engine's
`ValidationFailed` naming each field.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any

import pydantic
from pydantic import AfterValidator, BeforeValidator, Field

from tracegraph.engine.errors import Problem, ValidationFailed

#: every C0 control character and DEL
_ANY_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
#: C0 and DEL except tab, newline and carriage return (free text keeps its line breaks) and GS
#: (U+001D): the GS1 FNC1 separator that keyboard-wedge scanners type inside an element string, so
#: a scanned `(01)...(10)LOT<GS>(21)SN` reaches scan resolution (gs1/barcode.py) as it was read
_TEXT_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1c\x1e\x1f\x7f]")
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def control_char(value: str, *, text: bool = False) -> int | None:
    """Position of the first refused control character in `value`, or None."""
    m = (_TEXT_CONTROL if text else _ANY_CONTROL).search(value)
    return m.start() if m else None


def _no_controls(v: str) -> str:
    at = control_char(v)
    if at is not None:
        raise ValueError(f"contains control character U+{ord(v[at]):04X} at position {at}; send plain text")
    return v


def _no_text_controls(v: str) -> str:
    at = control_char(v, text=True)
    if at is not None:
        raise ValueError(f"contains control character U+{ord(v[at]):04X} at position {at} "
                         "(only tab and line breaks are allowed in text)")
    return v


def parse_day(v: str) -> str:
    """`YYYY-MM-DD`, calendar-valid (2026-02-30 and 2026-13-45 are refused)."""
    s = v.strip()
    if not _DAY.match(s):
        raise ValueError(f"{v!r} is not a date; write YYYY-MM-DD, e.g. 2026-03-01")
    try:
        return date.fromisoformat(s).isoformat()
    except ValueError:
        raise ValueError(f"{v!r} is not a calendar date (no such day)") from None


def parse_instant(v: str) -> str:
    """An ISO 8601 timestamp with a timezone, as the stored UTC form (lexically comparable)."""
    s = v.strip()
    if _DAY.match(s):
        raise ValueError(f"{v!r} is a date; a time with a timezone is needed here, e.g. {s}T08:00:00Z")
    try:
        dt = datetime.fromisoformat(s)
    except ValueError:
        raise ValueError(f"{v!r} is not an ISO 8601 timestamp; write e.g. 2026-03-01T08:00:00Z") from None
    if dt.tzinfo is None:
        raise ValueError(f"timestamp {v!r} has no timezone; add Z or an offset, e.g. {s}Z")
    return dt.astimezone(UTC).isoformat(timespec="microseconds")


def parse_day_or_instant(v: str) -> str:
    """A bare calendar day stays `YYYY-MM-DD`; anything else must be a timestamp with a zone."""
    s = v.strip()
    if _DAY.match(s) or re.match(r"^\d{4}-\d{1,2}-\d{1,2}$", s):
        return parse_day(s)
    return parse_instant(s)


def _as_str(v: Any) -> Any:
    if isinstance(v, datetime):
        if v.tzinfo is None:
            raise ValueError("timestamp has no timezone")
        return v.astimezone(UTC).isoformat(timespec="microseconds")
    if isinstance(v, date):
        return v.isoformat()
    return v


def upper_key(bound: str) -> str:
    """Comparable inclusive upper bound: a bare day covers the whole day."""
    return bound + "T99" if len(bound) == 10 else bound


def _not_future(v: str) -> str:
    limit = datetime.now(UTC) + timedelta(days=1)
    too_late = v > limit.date().isoformat() if len(v) == 10 else v > limit.isoformat(timespec="microseconds")
    if too_late:
        raise ValueError(f"{v} is more than a day in the future; an 'as of' answer needs a past date or now")
    return v


Line = Annotated[str, AfterValidator(_no_controls)]
Text = Annotated[str, AfterValidator(_no_text_controls)]
Key = Annotated[str, Field(min_length=1, max_length=512), AfterValidator(_no_controls)]
Day = Annotated[str, BeforeValidator(_as_str), AfterValidator(_no_controls), AfterValidator(parse_day)]
Instant = Annotated[str, BeforeValidator(_as_str), AfterValidator(_no_controls), AfterValidator(parse_instant)]
DayOrInstant = Annotated[str, BeforeValidator(_as_str), AfterValidator(_no_controls),
                         AfterValidator(parse_day_or_instant)]
AsOf = Annotated[str, BeforeValidator(_as_str), AfterValidator(_no_controls), AfterValidator(parse_day_or_instant),
                 AfterValidator(_not_future)]
Count = Annotated[float, Field(ge=0, allow_inf_nan=False, le=1e12)]


def check_window(lo: str | None, hi: str | None, field_from: str, field_to: str) -> None:
    """Refuse a window that ends before it starts (it would match nothing: a false all-clear)."""
    if lo and hi and lo > upper_key(hi):
        raise ValueError(f"{field_from} {lo} is after {field_to} {hi}; the window ends before it starts")


def problems_of(exc: pydantic.ValidationError, record: str, *, prefix: str = "") -> list[Problem]:
    """One Problem per pydantic error, the field named by its dotted path."""
    out: list[Problem] = []
    for e in exc.errors():
        loc = ".".join(str(p) for p in e["loc"])
        field = ".".join(x for x in (prefix, loc) if x) or prefix or "input"
        msg = str(e["msg"]).removeprefix("Value error, ")
        value = e.get("input")
        out.append(Problem(record=record, field=field, message=msg,
                           value=value if isinstance(value, (str, int, float, bool, type(None))) else None))
    return out


def invalid(exc: pydantic.ValidationError, what: str, *, record: str = "input", prefix: str = "") -> ValidationFailed:
    """A pydantic error as the engine's refusal: message names the first field and what was wrong."""
    problems = problems_of(exc, record, prefix=prefix)
    first = problems[0] if problems else None
    msg = f"invalid {what}: {first.field}: {first.message}" if first else f"invalid {what}"
    return ValidationFailed(msg, problems, hint="correct the named field and send the request again")


def build(model: type[pydantic.BaseModel], data: dict[str, Any], what: str, *, record: str = "input",
          prefix: str = "") -> Any:
    """`model(**data)` or a ValidationFailed naming the fields (the one way every door builds input)."""
    try:
        return model(**data)
    except pydantic.ValidationError as exc:
        raise invalid(exc, what, record=record, prefix=prefix) from None


def refuse(field: str, message: str, *, hint: str | None = None, value: Any = None,
           record: str = "input") -> ValidationFailed:
    """A one-field refusal in the project's error shape."""
    return ValidationFailed(message, [Problem(record=record, field=field, message=message, value=value)], hint=hint)


__all__ = [
    "Line", "Text", "Key", "Day", "Instant", "DayOrInstant", "AsOf", "Count", "control_char", "parse_day",
    "parse_instant", "parse_day_or_instant", "upper_key", "check_window", "problems_of", "invalid", "build", "refuse",
]
