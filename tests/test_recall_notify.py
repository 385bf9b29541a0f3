"""Notifications: letters with the right units (PDF text parsed back), zh-CN letters, CSV/XLSX
lists, and audited sent / delivered / acknowledged / stock count steps."""

from __future__ import annotations

import csv

import pytest

from test_recall_plant import APPROVER, AUTHOR, LOGISTICS, build, clock
from tracegraph.engine.errors import Conflict, ValidationFailed
from tracegraph.engine.recall import campaign as R
from tracegraph.engine.recall.notify import cjk_font, generate_notifications, update_customer
from tracegraph.engine.trace.models import ImpactCause

pypdf = pytest.importorskip("pypdf")


def _text(path: str) -> str:
    return " ".join(" ".join(p.extract_text() for p in pypdf.PdfReader(path).pages).split())


@pytest.fixture()
def approved(empty_store):
    ids = build(empty_store)
    ck = clock()
    data = R.RecallCreate(jurisdiction="CN-NMPA", recall_class="I", type="removal", reason="seal may leak",
                          health_hazard="infection", responsible="alice")
    rec = R.create_recall_from_cause(empty_store, AUTHOR, data, ImpactCause(batches=["B1"]), clock=ck).recall
    with pytest.raises(Conflict, match="approved"):
        generate_notifications(empty_store, AUTHOR, rec.id, "/tmp/never")
    R.approve(empty_store, APPROVER, rec.id, password="pw", reason="ok", clock=ck)
    return empty_store, rec.id, ids, ck


@pytest.mark.req("REQ-RCL-004")
def test_letters_and_lists(approved, tmp_path) -> None:
    store, rid, ids, ck = approved
    res = generate_notifications(store, LOGISTICS, rid, tmp_path, sheet_format="csv", clock=ck)
    letters = {x.customer: x for x in res.letters}
    assert set(letters) == {"D1", "H1"}
    d1 = _text(letters["D1"].path)
    assert rid in d1 and "4 unit(s)" in d1
    for sid in ids["b1"][:4]:
        assert sid in d1
    for sid in ids["b1"][4:]:
        assert sid not in d1  # other customers' and in-house units are not listed
    h1 = letters["H1"]
    if cjk_font():
        assert h1.language_used == "zh-CN"
        text = _text(h1.path)
        assert "召回" in text and ids["b1"][4] in text and ids["b1"][3] not in text
    else:
        assert h1.language_used == "en" and "font" in (h1.fallback_reason or "")
    with open(res.units_sheet, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 10 and {r["customer_at_decision"] for r in rows} == {"D1", "H1", ""}
    with open(res.customer_list, newline="", encoding="utf-8") as fh:
        custs = {r["customer"]: r for r in csv.DictReader(fh)}
    assert custs["H1"]["units"] == "4.0" and custs["H1"]["language"] == "zh-CN"


def test_xlsx_sheet(approved, tmp_path) -> None:
    from openpyxl import load_workbook

    store, rid, _, ck = approved
    res = generate_notifications(store, LOGISTICS, rid, tmp_path, letter_limit=0, clock=ck)
    ws = load_workbook(res.units_sheet, read_only=True)["units"]
    assert sum(1 for _ in ws.iter_rows()) == 11


@pytest.mark.req("REQ-RCL-004")
def test_notification_steps_are_audited(approved) -> None:
    store, rid, _, ck = approved
    with pytest.raises(Conflict, match="not sent"):
        update_customer(store, LOGISTICS, rid, "D1", "acknowledged", by="Dr Who", clock=ck)
    c = update_customer(store, LOGISTICS, rid, "D1", "sent", channel="email", clock=ck)
    assert c.sent_at and c.status == "sent" and c.channel == "email"
    ck.advance(hours=5)
    assert update_customer(store, LOGISTICS, rid, "D1", "delivered", clock=ck).delivered_at
    with pytest.raises(ValidationFailed, match="name"):
        update_customer(store, LOGISTICS, rid, "D1", "acknowledged", clock=ck)
    c = update_customer(store, LOGISTICS, rid, "D1", "acknowledged", by="Li Lei", stock_count=2, clock=ck)
    assert c.acknowledged_by == "Li Lei" and c.stock_count == 2.0 and c.status == "acknowledged"
    c = update_customer(store, LOGISTICS, rid, "D1", "stock_count", stock_count=1, clock=ck)
    assert c.stock_count == 1.0
    actions = [r["a"] for r in store.run("MATCH (e:AuditEntry {target_key: $k}) RETURN e.action AS a ORDER BY e.seq",
                                         {"k": rid}, write=False)]
    assert actions[-4:] == ["recall.customer.sent", "recall.customer.delivered", "recall.customer.acknowledged",
                            "recall.customer.stock_count"]
    assert R.get_recall(store, rid).customers_notified_at is None  # H1 not notified yet
    update_customer(store, LOGISTICS, rid, "H1", "sent", clock=ck)
    assert R.get_recall(store, rid).customers_notified_at == ck.now().isoformat(timespec="microseconds")


@pytest.mark.req("REQ-RCL-004")
def test_zh_letter_falls_back_to_english_without_cjk_font(monkeypatch) -> None:
    from tracegraph.engine.recall import notify as N
    from tracegraph.engine.recall.campaign import Recall, RecallCustomer

    monkeypatch.setattr(N, "CJK_FONTS", ())
    monkeypatch.delenv("TRACEGRAPH_CJK_FONT", raising=False)
    rec = Recall(id="R1", status="approved", jurisdiction="CN-NMPA", recall_class="I", type="relabel", reason="label",
                 responsible="alice", created_by="alice", created_at="2026-01-01T00:00:00+00:00",
                 updated_at="2026-01-01T00:00:00+00:00", decision_at="2026-01-01T00:00:00+00:00")
    cust = RecallCustomer(id="H1", name="Hospital", language="zh-CN", units=2, serial_units=2)
    blocks, meta = N.compose_letter(rec, cust, [{"id": "S1", "batch": "B1", "product": "P1",
                                                 "customer_at_decision": "H1"}])
    assert meta.language_used == "en" and "CJK font" in (meta.fallback_reason or "")
    text = "\n".join(b[0] for b in blocks)
    assert "corrected labels" in text and "S1" in text and "2 unit(s)" in text
    _, meta = N.compose_letter(rec, cust.model_copy(update={"language": "fr"}), [])
    assert meta.language_used == "en" and "no letter template for fr" in meta.fallback_reason


def test_streaming_xlsx_round_trips_through_openpyxl(tmp_path) -> None:
    from openpyxl import load_workbook

    from tracegraph.engine.recall.xlsx import write_xlsx

    rows = [("a<b&c>", 1, 2.5, None, True, "北京\x01"), ("", 0, -1.0, "x", False, "z")]
    n = write_xlsx(tmp_path / "t.xlsx", ["s", "i", "f", "n", "b", "u"], rows, sheet="units")
    assert n == 2
    got = [list(r) for r in load_workbook(tmp_path / "t.xlsx", read_only=True)["units"].iter_rows(values_only=True)]
    assert got[0] == ["s", "i", "f", "n", "b", "u"]
    assert got[1] == ["a<b&c>", 1, 2.5, None, True, "北京"]
    assert got[2][1:5] == [0, -1.0, "x", False]
