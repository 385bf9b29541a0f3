"""Time as a dependency: engine code asks a Clock, so tests move time without sleeping."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FrozenClock:
    """A clock that only moves when told to (tests, drills)."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("FrozenClock needs a timezone-aware datetime")
        self._now = start

    def now(self) -> datetime:
        return self._now

    def advance(self, **delta: float) -> datetime:
        self._now += timedelta(**delta)
        return self._now

    def set(self, when: datetime) -> None:
        self._now = when


def iso(dt: datetime) -> str:
    """The one storage form of a timestamp: ISO-8601 in UTC with microseconds and 'Z'-free offset."""
    if dt.tzinfo is None:
        raise ValueError(f"timestamp {dt!r} has no timezone")
    return dt.astimezone(UTC).isoformat(timespec="microseconds")
