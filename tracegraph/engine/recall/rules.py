"""Regulatory clocks, alert rules and working-day calendars, kept as versioned TOML data.

Why data and not code: periods change (a new order, a new calendar year), differ by
jurisdiction, and inspectors ask "where does this 5 come from?". Each clock in
`tracegraph/rules/<jurisdiction>.toml` carries the article it comes from; a user folder
(`rules_dir` setting) can replace any file by shipping one with the same `jurisdiction`
(rule files), `name` (calendars) or file name `alerts.toml`.
"""

from __future__ import annotations

import tomllib
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from tracegraph.engine.errors import ConfigurationError, ValidationFailed

PACKAGE_RULES = Path(__file__).resolve().parents[2] / "rules"
JURISDICTIONS = ("CN-NMPA", "US-FDA", "EU-MDR")
CLASSES = ("I", "II", "III")

Unit = Literal["calendar_days", "working_days", "hours"]


class ClockRule(BaseModel):
    """One regulatory clock: starts at a recall event, stops at another, due after N units."""

    id: str
    name: str
    start: str
    done: str
    unit: Unit
    due: dict[str, float]
    article: str
    text: str = ""
    verified: bool = True
    article_checked: bool = True
    periodic: str | None = None  # name of the recall list property holding repeated submissions
    before: str | None = None  # the clock is also due no later than this event (MDR 87(8))
    when: dict[str, list[str]] = Field(default_factory=dict)

    def applies(self, recall: dict[str, Any]) -> bool:
        return all(recall.get(key) in allowed for key, allowed in self.when.items())


class EffectivenessRule(BaseModel):
    target: dict[str, float]
    accounted: list[str] = Field(default_factory=lambda: ["returned", "destroyed", "corrected", "consumed"])
    check_day: dict[str, int] = Field(default_factory=dict)
    check_level: dict[str, str] = Field(default_factory=dict)
    justification: str = ""


class RuleSet(BaseModel):
    jurisdiction: str
    version: str
    title: str
    calendar: str = ""
    timezone: str = "UTC"
    classes: list[str] = Field(default_factory=lambda: list(CLASSES))
    default_language: str = "en"
    clocks: list[ClockRule]
    effectiveness: EffectivenessRule
    source_file: str = ""


class AlertRule(BaseModel):
    id: str
    kind: Literal["deadline_within", "overdue", "customer_not_acknowledged", "effectiveness_below_target"]
    severity: Literal["info", "warning", "critical"] = "warning"
    hours: float | None = None
    days: float | None = None
    message: str = ""


class Calendar(BaseModel):
    """Working days: not a weekend day and not a holiday, or a declared make-up working day."""

    name: str
    country: str = ""
    version: str = ""
    weekend: list[int] = Field(default_factory=lambda: [6, 7])
    holidays: set[date] = Field(default_factory=set)
    working_weekends: set[date] = Field(default_factory=set)

    def is_working_day(self, d: date) -> bool:
        if d in self.working_weekends:
            return True
        return d.isoweekday() not in self.weekend and d not in self.holidays

    def add_working_days(self, start: datetime, n: int) -> datetime:
        """The end of the n-th working day after `start`'s day (the start day itself does not count).

        Regulators count "within N working days of X" from the day after X; the deadline is the
        end of the N-th such day in the jurisdiction's local time.
        """
        d = start.date()
        count = 0
        while count < n:
            d += timedelta(days=1)
            if self.is_working_day(d):
                count += 1
        return datetime.combine(d, datetime.max.time().replace(microsecond=0), tzinfo=start.tzinfo)


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigurationError(f"cannot read rule file {path}: {exc}", hint="fix the TOML syntax") from None


def _files(rules_dir: str | Path | None, pattern: str) -> list[Path]:
    """Package files first, then the user's folder (later files override earlier ones)."""
    out = sorted(PACKAGE_RULES.glob(pattern))
    if rules_dir:
        user = Path(rules_dir)
        if not user.is_dir():
            raise ConfigurationError(
                f"rules_dir {user} does not exist", hint="create it or unset TRACEGRAPH_RULES_DIR"
            )
        out += sorted(user.glob(pattern))
    return out


@lru_cache(maxsize=16)
def _load_all(rules_dir: str | None) -> tuple[dict[str, RuleSet], dict[str, Calendar], list[AlertRule]]:
    rulesets: dict[str, RuleSet] = {}
    calendars: dict[str, Calendar] = {}
    alerts: list[AlertRule] = []
    for path in _files(rules_dir, "*.toml"):
        data = _read_toml(path)
        try:
            if path.name.startswith("calendar-"):
                cal = Calendar(**data)
                calendars[cal.name] = cal
            elif path.name == "alerts.toml":
                alerts = [AlertRule(**a) for a in data.get("alerts", [])]
            elif "jurisdiction" in data:
                rs = RuleSet(**data, source_file=str(path))
                rulesets[rs.jurisdiction] = rs
        except (TypeError, ValueError) as exc:
            raise ConfigurationError(f"invalid rule file {path}: {exc}") from None
    return rulesets, calendars, alerts


def clear_cache() -> None:
    _load_all.cache_clear()


def _dir(rules_dir: str | Path | None) -> str | None:
    if rules_dir is None:
        try:
            from tracegraph.settings import load_settings

            rules_dir = getattr(load_settings(), "rules_dir", None)
        except Exception:  # settings unreadable: package rules only
            rules_dir = None
    return str(rules_dir) if rules_dir else None


def ruleset(jurisdiction: str, rules_dir: str | Path | None = None) -> RuleSet:
    rulesets, _, _ = _load_all(_dir(rules_dir))
    if jurisdiction not in rulesets:
        raise ValidationFailed(
            f"no recall rules for jurisdiction {jurisdiction!r}",
            hint=f"use one of {', '.join(sorted(rulesets))} or add a rule file to rules_dir",
        )
    return rulesets[jurisdiction]


def all_rulesets(rules_dir: str | Path | None = None) -> dict[str, RuleSet]:
    return dict(_load_all(_dir(rules_dir))[0])


def calendar(name: str, rules_dir: str | Path | None = None) -> Calendar | None:
    if not name:
        return None
    cals = _load_all(_dir(rules_dir))[1]
    if name not in cals:
        raise ConfigurationError(f"holiday calendar {name!r} not found", hint="add calendar-<name>.toml to rules_dir")
    return cals[name]


def alert_rules(rules_dir: str | Path | None = None) -> list[AlertRule]:
    return list(_load_all(_dir(rules_dir))[2])


def _tz(name: str) -> Any:
    from zoneinfo import ZoneInfo

    try:
        return ZoneInfo(name)
    except Exception:
        return UTC


def add_period(start: datetime, amount: float, unit: Unit, rs: RuleSet, rules_dir: str | Path | None = None) -> datetime:
    """Due time = start + amount in the clock's unit, working days in the jurisdiction's calendar
    and local time zone (a CN deadline ends at midnight Beijing time, not UTC)."""
    if unit == "hours":
        return start + timedelta(hours=amount)
    local = start.astimezone(_tz(rs.timezone))
    if unit == "calendar_days":
        if amount == 0:
            return start
        d = local.date() + timedelta(days=int(amount))
        end = datetime.combine(d, datetime.max.time().replace(microsecond=0), tzinfo=local.tzinfo)
        return end.astimezone(UTC)
    cal = calendar(rs.calendar, rules_dir) or Calendar(name="weekdays")
    return cal.add_working_days(local, int(amount)).astimezone(UTC)


__all__ = [
    "ClockRule", "EffectivenessRule", "RuleSet", "AlertRule", "Calendar", "JURISDICTIONS", "CLASSES",
    "ruleset", "all_rulesets", "calendar", "alert_rules", "add_period", "clear_cache", "PACKAGE_RULES",
]
