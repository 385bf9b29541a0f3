"""A small plant for the recall tests (imported by the other tests/test_recall_*.py files).

B1 (product P1, 10 serials): 4 at distributor D1 (en), 3 at hospital H1 (zh-CN), 1 in transit to
H1, 2 in our stock. B2 (P1, 3 serials, untouched) is not affected. L1 was consumed in B1 only.
"""

from __future__ import annotations

from datetime import UTC, datetime

from plantbuilder import Plant
from tracegraph.engine.audit.chain import Actor
from tracegraph.engine.clock import FrozenClock

AUTHOR = Actor(id="alice", name="Alice Author", roles=frozenset({"qa_manager"}))
APPROVER = Actor(id="bob", name="Bob Approver", roles=frozenset({"qa_manager"}))
LOGISTICS = Actor(id="carol", name="Carol Coordinator", roles=frozenset({"recall_coordinator"}))
T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # Monday 09:00 Beijing


def clock() -> FrozenClock:
    return FrozenClock(T0)


def build(store, prefix: str = "") -> dict[str, list[str]]:
    p = Plant()
    p.lot(f"{prefix}L1", f"{prefix}S1")
    p.batch(f"{prefix}B1", product="P1", inputs=[f"{prefix}L1"], qty=10)
    p.batch(f"{prefix}B2", product="P1", qty=3)
    b1 = p.serials(f"{prefix}B1", 10, prefix=f"{prefix}B1-S")
    b2 = p.serials(f"{prefix}B2", 3, prefix=f"{prefix}B2-S")
    p.customer(f"{prefix}D1", kind="distributor", name="Dist One")
    p.customer(f"{prefix}H1", kind="hospital", name="北京协和医院")
    p.get("Customer", f"{prefix}H1")["language"] = "zh-CN"
    p.shipment(f"{prefix}SH1", f"{prefix}D1", "2026-02-10", "2026-02-12", serials=b1[:4])
    p.shipment(f"{prefix}SH2", f"{prefix}H1", "2026-02-11", "2026-02-13", serials=b1[4:7])
    p.shipment(f"{prefix}SH3", f"{prefix}H1", "2026-02-28", None, serials=b1[7:8])
    for s in b1[:4]:
        p.get("Serial", s).update(status="at_distributor", customer_id=f"{prefix}D1")
        p.get("Serial", s).pop("warehouse", None)
    for s in b1[4:7]:
        p.get("Serial", s).update(status="at_end_user", customer_id=f"{prefix}H1")
        p.get("Serial", s).pop("warehouse", None)
    p.get("Serial", b1[7]).update(status="in_transit", customer_id=f"{prefix}H1")
    p.write(store)
    return {"b1": b1, "b2": b2}


def test_plant_builds(empty_store) -> None:
    ids = build(empty_store)
    rows = empty_store.run("MATCH (s:Serial) RETURN count(s) AS n", write=False)
    assert rows[0]["n"] == 13 and len(ids["b1"]) == 10
