"""The regulators' documents from campaign data: each form rendered for a recall, its text
extracted from the PDF and checked for the fields the form asks for; language fallback stated;
FDA effectiveness level and consignees to check; every document listed on the recall with its hash."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from test_recall_plant import APPROVER, AUTHOR, LOGISTICS, build, clock
from tracegraph.engine import commands
from tracegraph.engine.audit.chain import Actor
from tracegraph.engine.audit.verify import verify
from tracegraph.engine.errors import PermissionDenied, ValidationFailed
from tracegraph.engine.recall import campaign as R
from tracegraph.engine.recall import documents as D
from tracegraph.engine.recall.notify import cjk_font
from tracegraph.engine.trace.models import ImpactCause

pypdf = pytest.importorskip("pypdf")


def _text(path: str) -> str:
    return " ".join(" ".join(p.extract_text() for p in pypdf.PdfReader(path).pages).split())


def _recall(store, jurisdiction: str, cls: str = "I") -> str:
    data = R.RecallCreate(jurisdiction=jurisdiction, recall_class=cls, type="removal", reason="seal may leak",
                          health_hazard="infection risk", responsible="alice")
    ck = clock()
    rec = R.create_recall_from_cause(store, AUTHOR, data, ImpactCause(batches=["B1"]), clock=ck).recall
    R.approve(store, APPROVER, rec.id, password="pw", reason="ok", clock=ck)
    return rec.id


@pytest.fixture()
def plant(empty_store):
    build(empty_store)
    commands.update(empty_store, "Customer", "D1", {"language": "de", "country": "DE"}, Actor.system())
    return empty_store


@pytest.mark.req("REQ-RCL-009")
def test_every_template_names_its_fields_and_exists_for_its_jurisdiction() -> None:
    tpls = D.templates()
    for jur, forms in D.FORMS.items():
        for form, _ in forms:
            langs = [lang for f, lang in tpls if f == form]
            assert langs, form
            for lang in langs:
                t = tpls[(form, lang)]
                assert jur in t.jurisdictions and t.fields and t.regulation
    assert {lang for f, lang in tpls if f.startswith("nmpa-")} == {"zh-CN"}
    assert D.consignees_to_check("A", 7) == 7 and D.consignees_to_check("C", 7) == 1
    assert D.consignees_to_check("D", 120) == 3 and D.consignees_to_check("E", 50) == 0
    assert D.consignees_to_check("B", 40) == 10


@pytest.mark.req("REQ-RCL-009")
def test_nmpa_forms_in_chinese_with_their_fields(plant, tmp_path: Path) -> None:
    if cjk_font() is None:
        pytest.skip("no CJK font installed: NMPA forms cannot be rendered in Chinese here")
    rid = _recall(plant, "CN-NMPA")
    docs = D.generate(plant, LOGISTICS, rid, tmp_path, company="InfuPro Medical")
    assert [d.form for d in docs] == ["nmpa-event-report", "nmpa-investigation", "nmpa-recall-plan", "nmpa-summary"]
    tpls = D.templates()
    for d in docs:
        text = _text(d.path)
        t = tpls[(d.form, "zh-CN")]
        assert t.title in text, d.form
        for label, _ in t.fields:
            assert label in text, (d.form, label)
    event = _text(docs[0].path)
    assert rid in event and "B1" in event and "P1" in event and "InfuPro Medical" in event
    assert "第29号" in event and "seal may leak" in event and "infection risk" in event


@pytest.mark.req("REQ-RCL-009")
def test_eu_fsn_in_customer_languages_with_fallback_and_reply_forms(plant, tmp_path: Path) -> None:
    rid = _recall(plant, "EU-MDR", "II")
    docs = D.generate(plant, LOGISTICS, rid, tmp_path)
    got = {(d.form, d.language): d for d in docs}
    # D1 speaks German (template exists), H1 Chinese (no FSN template): German + English with the fallback stated
    assert set(got) == {("eu-fsn", "de"), ("eu-fsn", "en"), ("eu-fsn-reply-customer", "en"),
                        ("eu-fsn-reply-distributor", "en")}
    de = _text(got[("eu-fsn", "de")].path)
    assert "Dringende Sicherheitsinformation" in de and "Betroffene Chargen: B1" in de and rid in de
    en = _text(got[("eu-fsn", "en")].path)
    assert "Urgent Field Safety Notice" in en and "zh-CN" in en and "language fallback" in en
    assert got[("eu-fsn", "en")].fallback and not got[("eu-fsn", "de")].fallback
    for label in ("Reason for the Field Safety Corrective Action", "Risk to health", "Affected lots / batches",
                  "Action to be taken by the user", "Article 89(8)"):
        assert label in en, label
    reply = _text(got[("eu-fsn-reply-customer", "en")].path)
    assert "Units in stock (count)" in reply and rid in reply and "alice" in reply
    dist = _text(got[("eu-fsn-reply-distributor", "en")].path)
    assert "Distributor name" in dist and "Customers supplied with affected units" in dist


@pytest.mark.req("REQ-RCL-009")
def test_fda_806_report_and_effectiveness_level_listed_on_the_recall(plant, tmp_path: Path) -> None:
    rid = _recall(plant, "US-FDA", "I")
    with pytest.raises(PermissionDenied):
        D.generate(plant, Actor(id="v", name="V", roles=frozenset({"viewer"})), rid, tmp_path)
    with pytest.raises(ValidationFailed, match="unknown form"):
        D.generate(plant, LOGISTICS, rid, tmp_path, forms=["eu-fsn"])
    docs = D.generate(plant, LOGISTICS, rid, tmp_path)
    r806, eff = docs
    text = _text(r806.path)
    for label in ("Manufacturer", "Lot / batch numbers", "Number of devices manufactured or distributed",
                  "Health risk", "Consignees (number)", "806.10"):
        assert label in text, label
    assert "Consignees (number): 2" in text and "Lot / batch numbers: B1" in text
    e = _text(eff.path)
    assert "Effectiveness check level: A: 100 % of consignees" in e and "Consignees to check: 2" in e
    listed = {d["id"]: d for d in D.documents(plant, rid)}
    assert set(listed) == {r806.id, eff.id}
    for d in docs:
        assert listed[d.id]["sha256"] == hashlib.sha256(Path(d.path).read_bytes()).hexdigest()
        assert listed[d.id]["form"] == d.form and listed[d.id]["created_by"] == LOGISTICS.id
    assert verify(plant).ok
