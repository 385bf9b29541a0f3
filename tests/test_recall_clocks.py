"""Regulatory clocks as data: each jurisdiction's periods, working days with holiday calendars and
make-up working days, user overrides (rules_dir), and due/overdue states."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tracegraph.engine.recall.campaign import Recall
from tracegraph.engine.recall.clocks import deadline_for
from tracegraph.engine.recall.rules import add_period, all_rulesets, calendar, clear_cache, ruleset

UTC = UTC


def _rec(**kw) -> Recall:
    base = dict(id="R1", status="in_progress", jurisdiction="CN-NMPA", recall_class="I", type="removal", reason="x",
                responsible="alice", created_by="alice", created_at="2026-01-01T00:00:00+00:00",
                updated_at="2026-01-01T00:00:00+00:00", decision_at="2026-01-01T00:00:00+00:00")
    base.update(kw)
    return Recall(**base)


def _clock(rs, cid):
    return next(c for c in rs.clocks if c.id == cid)


@pytest.mark.req("REQ-RCL-003")
def test_every_packaged_rule_cites_an_article() -> None:
    sets = all_rulesets()
    assert set(sets) >= {"CN-NMPA", "US-FDA", "EU-MDR"}
    for rs in sets.values():
        assert rs.version and rs.clocks
        for c in rs.clocks:
            assert c.article.strip() and c.text.strip(), (rs.jurisdiction, c.id)
        assert set(rs.effectiveness.target) == {"I", "II", "III"}


@pytest.mark.req("REQ-RCL-003")
def test_cn_notification_periods_by_class() -> None:
    rs = ruleset("CN-NMPA")
    c = _clock(rs, "notify_customers")
    assert c.due == {"I": 1, "II": 3, "III": 7} and "Art. 16" in c.article
    # decision Mon 2026-03-02 10:00 Beijing (02:00 UTC): class I due end of Tue 03-03 Beijing
    start = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
    assert add_period(start, 1, "calendar_days", rs) == datetime(2026, 3, 3, 15, 59, 59, tzinfo=UTC)
    assert add_period(start, 7, "calendar_days", rs).date().isoformat() == "2026-03-09"


@pytest.mark.req("REQ-RCL-003")
def test_cn_working_days_skip_spring_festival_and_count_makeup_saturday() -> None:
    rs = ruleset("CN-NMPA")
    cal = calendar("cn-2026")
    assert not cal.is_working_day(datetime(2026, 2, 16).date())  # Spring Festival
    assert cal.is_working_day(datetime(2026, 2, 14).date())  # Saturday make-up working day
    assert not cal.is_working_day(datetime(2026, 2, 15).date())  # Sunday, holiday
    # decision Thu 2026-02-12 09:00 Beijing: working days Fri 13, Sat 14 (make-up), Tue 24, Wed 25, Thu 26
    start = datetime(2026, 2, 12, 1, 0, tzinfo=UTC)
    due = add_period(start, 5, "working_days", rs)
    assert due.astimezone(rs_tz(rs)).date().isoformat() == "2026-02-26"


def rs_tz(rs):
    from zoneinfo import ZoneInfo

    return ZoneInfo(rs.timezone)


@pytest.mark.req("REQ-RCL-003")
def test_us_806_ten_working_days_skip_federal_holidays() -> None:
    rs = ruleset("US-FDA")
    c = _clock(rs, "report_806")
    assert c.due["II"] == 10 and "806.10" in c.article and c.unit == "working_days"
    # initiated Fri 2026-06-12 (NY): 15,16,17,18 (19 Juneteenth off), 22,23,24,25,26,29 -> Mon 29 June
    start = datetime(2026, 6, 12, 14, 0, tzinfo=UTC)
    assert add_period(start, 10, "working_days", rs).astimezone(rs_tz(rs)).date().isoformat() == "2026-06-29"


@pytest.mark.req("REQ-RCL-003")
def test_eu_incident_periods_depend_on_severity() -> None:
    rs = ruleset("EU-MDR")
    now = datetime(2026, 5, 1, tzinfo=UTC)
    aware = "2026-04-28T08:00:00+00:00"
    for sev, cid, days in [("serious_incident", "serious_incident", 15),
                           ("serious_public_health_threat", "public_health_threat", 2),
                           ("death_or_serious_deterioration", "death_or_deterioration", 10)]:
        rec = _rec(jurisdiction="EU-MDR", incident_severity=sev, aware_at=aware)
        applicable = [d for d in (deadline_for(c, rec, rs, now) for c in rs.clocks)
                      if d.clock in ("serious_incident", "public_health_threat", "death_or_deterioration")
                      and d.state != "not_applicable"]
        assert [d.clock for d in applicable] == [cid]
        assert applicable[0].due_at.startswith(f"2026-{4 if days == 2 else 5:02d}-") or days == 15
    threat = deadline_for(_clock(rs, "public_health_threat"),
                          _rec(jurisdiction="EU-MDR", incident_severity="serious_public_health_threat", aware_at=aware),
                          rs, now)
    assert threat.state == "overdue" and threat.due_at.startswith("2026-04-30")
    fsca = deadline_for(_clock(rs, "fsca_report"),
                        _rec(jurisdiction="EU-MDR", started_at="2026-04-29T00:00:00+00:00"), rs, now)
    assert fsca.state == "overdue" and "87(8)" in fsca.article


@pytest.mark.req("REQ-RCL-003")
def test_states_done_late_and_periodic() -> None:
    rs = ruleset("CN-NMPA")
    now = datetime(2026, 1, 10, tzinfo=UTC)
    rec = _rec(recall_class="II", customers_notified_at="2026-01-05T00:00:00+00:00")
    d = deadline_for(_clock(rs, "notify_customers"), rec, rs, now)
    assert d.state == "done_late"
    prog = _clock(rs, "progress_report")
    rec = _rec(recall_class="II", started_at="2026-01-02T00:00:00+00:00", progress_reports=["2026-01-05T00:00:00+00:00"])
    d = deadline_for(prog, rec, rs, datetime(2026, 1, 7, tzinfo=UTC))
    assert d.state == "pending" and d.due_at.startswith("2026-01-08")
    assert deadline_for(prog, rec, rs, datetime(2026, 1, 9, tzinfo=UTC)).state == "overdue"
    assert deadline_for(prog, _rec(), rs, now).state == "not_started"


def test_user_rules_dir_overrides_package(tmp_path, monkeypatch) -> None:
    (tmp_path / "cn-custom.toml").write_text(
        (ruleset("CN-NMPA").source_file and open(ruleset("CN-NMPA").source_file, encoding="utf-8").read())
        .replace('version = "2017-05-01.r1"', 'version = "local-1"')
        .replace("due = { I = 1, II = 3, III = 7 }", "due = { I = 2, II = 3, III = 7 }", 1),
        encoding="utf-8",
    )
    (tmp_path / "calendar-cn-2026.toml").write_text(
        'name = "cn-2026"\nweekend = [6, 7]\nholidays = ["2026-03-03"]\nworking_weekends = []\n', encoding="utf-8")
    clear_cache()
    try:
        rs = ruleset("CN-NMPA", rules_dir=tmp_path)
        assert rs.version == "local-1" and _clock(rs, "notify_customers").due["I"] == 2
        cal = calendar("cn-2026", rules_dir=tmp_path)
        assert not cal.is_working_day(datetime(2026, 3, 3).date())
        assert ruleset("CN-NMPA").version == "2017-05-01.r1"
    finally:
        clear_cache()
    with pytest.raises(Exception, match="does not exist"):
        ruleset("CN-NMPA", rules_dir=tmp_path / "nope")
