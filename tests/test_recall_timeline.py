"""Recall effectiveness over time (engine/recall/timeline.py): the series replays the recall's
notices, acknowledgements and returns recorded at known times, and its last point is the
effectiveness the recall has now."""

from __future__ import annotations

from datetime import timedelta

import pytest

from test_recall_plant import APPROVER, AUTHOR, LOGISTICS, T0, build, clock
from tracegraph.engine.errors import ValidationFailed
from tracegraph.engine.recall import campaign as R
from tracegraph.engine.recall.effectiveness import effectiveness
from tracegraph.engine.recall.notify import mark_all_sent, update_customer
from tracegraph.engine.recall.returns import record_returns
from tracegraph.engine.recall.timeline import effectiveness_timeline
from tracegraph.engine.trace.models import ImpactCause


def _iso(delta: timedelta) -> str:
    return (T0 + delta).isoformat(timespec="seconds")


@pytest.fixture()
def running(empty_store):
    """A class II recall of B1 (D1 held 4 units, H1 4; target 95 %), with its field work done at
    known times: day 0 notices, day 1 D1 acknowledges and returns 2 scanned units, day 2 H1
    acknowledges (stated as 08:00 that day, recorded later) and accounts for 3 destroyed, and D1 one
    more unit as not found (not an accounted disposition)."""
    ids = build(empty_store)
    ck = clock()
    data = R.RecallCreate(jurisdiction="CN-NMPA", recall_class="II", type="removal", reason="seal may leak",
                          health_hazard="infection", responsible="alice")
    rec = R.create_recall_from_cause(empty_store, AUTHOR, data, ImpactCause(batches=["B1"]), clock=ck).recall
    R.approve(empty_store, APPROVER, rec.id, password="pw", reason="ok", clock=ck)
    ck.advance(hours=1)
    R.start(empty_store, LOGISTICS, rec.id, clock=ck)
    ck.advance(hours=1)  # T0 + 2h: both notices in one mass mailing
    assert mark_all_sent(empty_store, LOGISTICS, rec.id, clock=ck) == 2
    ck.advance(days=1)  # T0 + 1d 2h
    update_customer(empty_store, LOGISTICS, rec.id, "D1", "acknowledged", by="Li Lei", stock_count=4, clock=ck)
    ck.advance(hours=2)  # T0 + 1d 4h
    record_returns(empty_store, LOGISTICS, rec.id, "D1", "returned", scans=ids["b1"][:2], clock=ck)
    ck.advance(days=1)  # T0 + 2d 4h; the acknowledgement is stated at T0 + 2d 1h
    update_customer(empty_store, LOGISTICS, rec.id, "H1", "acknowledged", by="王芳", at=_iso(timedelta(days=2, hours=1)),
                    clock=ck)
    ck.advance(hours=1)  # T0 + 2d 5h
    record_returns(empty_store, LOGISTICS, rec.id, "H1", "destroyed", qty=3, clock=ck)
    ck.advance(hours=1)  # T0 + 2d 6h
    record_returns(empty_store, LOGISTICS, rec.id, "D1", "not_found", qty=1, clock=ck)
    return empty_store, rec.id


def test_series_follows_the_steps_recorded_at_known_times(running) -> None:
    store, rid = running
    tl = effectiveness_timeline(store, rid)
    assert tl.target_pct == 95.0 and tl.expected == 8 and tl.customers_total == 2
    got = [(p.at, p.event, p.customer, p.notified, p.acknowledged, p.units_returned, p.units_accounted,
            p.effectiveness_pct) for p in tl.points]
    assert got == [
        (_iso(timedelta(0)), "decision", None, 0, 0, 0, 0, 0),
        (_iso(timedelta(hours=2)), "sent", None, 2, 0, 0, 0, 0),
        (_iso(timedelta(days=1, hours=2)), "acknowledged", "D1", 2, 1, 0, 0, 0),
        (_iso(timedelta(days=1, hours=4)), "return", "D1", 2, 1, 2, 2, 25.0),
        (_iso(timedelta(days=2, hours=1)), "acknowledged", "H1", 2, 2, 2, 2, 25.0),  # as stated, before it was typed
        (_iso(timedelta(days=2, hours=5)), "return", "H1", 2, 2, 2, 5, 62.5),
        (_iso(timedelta(days=2, hours=6)), "return", "D1", 2, 2, 2, 5, 62.5),  # not_found is not accounted
    ]
    assert not any(p.meets_target for p in tl.points)
    now = effectiveness(store, rid)
    assert tl.points[-1].effectiveness_pct == now.overall_pct and tl.points[-1].units_accounted == now.accounted


def test_by_day_in_a_time_zone(running) -> None:
    store, rid = running
    utc = effectiveness_timeline(store, rid, by="day")
    assert [(p.day, p.event, p.acknowledged, p.effectiveness_pct) for p in utc.points] == [
        ("2026-03-02", "decision", 0, 0), ("2026-03-02", "day", 0, 0), ("2026-03-03", "day", 1, 25.0),
        ("2026-03-04", "day", 2, 62.5)]
    # T0 is 09:00 in Beijing: the same events fall on the same local days there, at UTC-10 one day earlier
    hnl = effectiveness_timeline(store, rid, by="day", tz="Pacific/Honolulu")
    assert [p.day for p in hnl.points] == ["2026-03-01", "2026-03-01", "2026-03-02", "2026-03-03"]
    with pytest.raises(ValidationFailed, match="time zone"):
        effectiveness_timeline(store, rid, tz="Mars/Olympus")


def test_meets_target_once_every_unit_is_accounted(running) -> None:
    store, rid = running
    ids = [r["id"] for r in store.run("MATCH (:Recall {id: $r})-[c:COVERS]->(s:Serial) WHERE c.customer_at_decision = "
                                      "'D1' AND c.disposition IS NULL RETURN s.id AS id", {"r": rid}, write=False)]
    record_returns(store, LOGISTICS, rid, "D1", "returned", scans=ids[:1])
    record_returns(store, LOGISTICS, rid, "H1", "corrected", qty=1)
    last = effectiveness_timeline(store, rid).points[-1]
    assert last.effectiveness_pct == 87.5 and not last.meets_target  # D1's not-found unit is still missing
    assert effectiveness(store, rid).overall_pct == 87.5
