"""The vigilance / MDR report deadline of a complaint decided reportable.

Periods are data: `rules/vigilance/complaint-reporting.toml` maps the complaint's severity to the
clocks of its jurisdiction (for EU-MDR the Art. 87 clocks of the recall engineer's eu-mdr.toml are
reused as they are; US 21 CFR 803 and CN NMPA clocks are in the vigilance file). Working days,
holidays and the local time zone come from the jurisdiction's recall rule file through
`recall_rules.add_period`, so a complaint and a recall in the same country count days alike.
"""

from __future__ import annotations

import tomllib
from datetime import UTC, date, datetime, time
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from tracegraph.engine.clock import iso
from tracegraph.engine.errors import ConfigurationError, Problem, ValidationFailed
from tracegraph.engine.recall.rules import PACKAGE_RULES, ClockRule, add_period, ruleset

SEVERITIES = ("death", "serious_deterioration", "serious_injury", "malfunction", "public_health_threat")
_FILE = Path("vigilance") / "complaint-reporting.toml"


class ReportDeadline(BaseModel):
    jurisdiction: str
    clock: str
    name: str
    article: str
    aware_at: str
    due_at: str
    verified: bool = True


def _rules_dir() -> str | None:
    try:
        from tracegraph.settings import load_settings

        return getattr(load_settings(), "rules_dir", None) or None
    except Exception:  # settings unreadable: package rules only
        return None


@lru_cache(maxsize=4)
def _load(rules_dir: str | None) -> dict[str, Any]:
    path = PACKAGE_RULES / _FILE
    if rules_dir and (Path(rules_dir) / _FILE).is_file():
        path = Path(rules_dir) / _FILE
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigurationError(f"cannot read vigilance rules {path}: {exc}", hint="fix the TOML syntax") from None


def _clocks(jurisdiction: str) -> tuple[list[ClockRule], dict[str, str]]:
    data = _load(_rules_dir())
    spec = data.get(jurisdiction)
    if spec is None:
        raise ValidationFailed(
            f"no complaint reporting rules for jurisdiction {jurisdiction!r}",
            [Problem(record="complaint", field="jurisdiction", value=jurisdiction, message="unknown")],
            hint=f"use one of {', '.join(k for k in data if isinstance(data[k], dict))}",
        )
    rules = [ClockRule(**c) for c in spec.get("clocks", [])]
    wanted = set(spec.get("use_ruleset_clocks", []))
    rules += [c for c in ruleset(jurisdiction).clocks if c.id in wanted]
    return rules, dict(spec.get("incident_severity", {}))


def _start(aware: str, tz_name: str) -> datetime:
    """A date means the start of that day in the jurisdiction's time zone."""
    from zoneinfo import ZoneInfo

    if len(aware) <= 10:
        return datetime.combine(date.fromisoformat(aware), time(0), tzinfo=ZoneInfo(tz_name))
    dt = datetime.fromisoformat(aware)
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def report_deadline(jurisdiction: str, severity: str, aware_at: str, *, five_day: bool = False,
                    device_class: str | None = None) -> ReportDeadline:
    """The earliest applicable report clock for this event, counted from awareness."""
    if severity not in SEVERITIES:
        raise ValidationFailed(f"unknown event severity {severity!r}",
                               [Problem(record="complaint", field="severity", value=severity, message="unknown")],
                               hint=f"one of {', '.join(SEVERITIES)}")
    rules, mapping = _clocks(jurisdiction)
    rs = ruleset(jurisdiction)
    record = {"incident_severity": mapping.get(severity, severity), "five_day": "yes" if five_day else "no"}
    start = _start(aware_at, rs.timezone)
    best: tuple[datetime, ClockRule] | None = None
    for rule in rules:
        if not rule.applies(record):
            continue
        amount = rule.due.get(device_class or "") or rule.due.get("any") or min(rule.due.values())
        due = add_period(start, amount, rule.unit, rs)
        if best is None or due < best[0]:
            best = (due, rule)
    if best is None:
        raise ValidationFailed(f"no {jurisdiction} report clock applies to a {severity} event",
                               hint="check rules/vigilance/complaint-reporting.toml")
    due, rule = best
    return ReportDeadline(jurisdiction=jurisdiction, clock=rule.id, name=rule.name, article=rule.article,
                          aware_at=iso(start), due_at=iso(due), verified=rule.verified)


def derive_report_due(store: Any, rec: Any, step: str, given: dict[str, Any], clock: Any) -> dict[str, Any]:
    """Complaint `derive` hook: deciding reportable computes and stores report_due (same write)."""
    if step != "decide-reportability":
        return {}
    merged = {**rec.props, **given}
    if not merged.get("reportable"):
        return {"report_due": None, "report_clock": None, "report_article": None}
    missing = [f for f in ("jurisdiction", "severity") if not merged.get(f)]
    if missing:
        raise ValidationFailed(
            f"a reportable complaint needs {', '.join(missing)} to compute its report deadline",
            [Problem(record=rec.id, field=f, message="required when reportable") for f in missing],
            hint="e.g. -f jurisdiction=EU-MDR -f severity=serious_injury",
        )
    aware = str(merged.get("aware_at") or str(merged.get("created_at") or iso(clock.now()))[:10])
    d = report_deadline(str(merged["jurisdiction"]), str(merged["severity"]), aware,
                        five_day=bool(merged.get("remedial_action") or merged.get("authority_requested")),
                        device_class=merged.get("device_class"))
    return {"report_due": d.due_at, "report_clock": d.clock, "report_article": d.article}


def require_report_before_close(store: Any, rec: Any, step: str) -> None:
    """Complaint `guard`: a reportable complaint is not concluded/closed before the report is made."""
    if step == "close" and rec.props.get("reportable") and not rec.props.get("reported_at"):
        raise ValidationFailed(f"complaint {rec.id} is reportable but no report is recorded",
                               [Problem(record=rec.id, field="reported_at", message="required before closing")],
                               hint="take the step `report` with -f reported_at=DATE first")


__all__ = ["SEVERITIES", "ReportDeadline", "report_deadline", "derive_report_due", "require_report_before_close"]
