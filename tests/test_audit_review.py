"""Audit trail review (EU GMP Annex 11 §9): each exception rule on crafted audit entries, then
a review of a real small audit trail end to end (stored, signed, exported, read back)."""

from __future__ import annotations

from datetime import UTC, datetime, time
from pathlib import Path
from typing import Any

import pytest

from tracegraph.engine import commands
from tracegraph.engine.access import auth
from tracegraph.engine.audit import review as rv
from tracegraph.engine.audit.chain import Actor, AuditEntryView
from tracegraph.engine.audit.signatures import signature_status
from tracegraph.engine.audit.verify import VerifyProblem
from tracegraph.engine.clock import FrozenClock
from tracegraph.engine.errors import AuthenticationFailed, PermissionDenied, SignatureError, ValidationFailed


def entry(seq: int, ts: str, actor: str = "ann", action: str = "update", label: str = "Batch", key: str = "B-1",
          reason: str = "") -> AuditEntryView:
    return AuditEntryView(seq=seq, ts=ts, actor=actor, actor_name=actor.title(), action=action, target_label=label,
                          target_key=key, changes=[{"field": "qty", "old": 1, "new": 2}], reason=reason)


def ctx(**kw: Any) -> rv.RuleContext:
    req = rv.parse_request({"period_from": "2026-03-01", "period_to": "2026-04-01",
                            **{k: v for k, v in kw.items() if k not in ("disabled", "verify_problems")}})
    return rv.RuleContext(request=req, disabled=kw.get("disabled", {}), verify_problems=kw.get("verify_problems", []))


# ------------------------------------------------------------------ each rule on crafted entries
@pytest.mark.req("REQ-AUD-008")
def test_outside_working_hours_in_the_configured_timezone() -> None:
    es = [entry(1, "2026-03-02T06:59:59.000000+00:00"), entry(2, "2026-03-02T07:00:00.000000+00:00"),
          entry(3, "2026-03-02T18:59:00.000000+00:00"), entry(4, "2026-03-02T19:00:00.000000+00:00")]
    got = rv.outside_working_hours(es, ctx())
    assert [f.seq for f in got] == [1, 4]
    assert "06:59" in got[0].message and "07:00-19:00" in got[0].message
    # Shanghai is UTC+8: 23:30 UTC is 07:30 there (inside), 11:30 UTC is 19:30 there (outside)
    sh = [entry(5, "2026-03-01T23:30:00.000000+00:00"), entry(6, "2026-03-02T11:30:00.000000+00:00")]
    assert [f.seq for f in rv.outside_working_hours(sh, ctx(timezone="Asia/Shanghai"))] == [6]
    # configurable hours
    assert [f.seq for f in rv.outside_working_hours(es, ctx(work_start="06:00", work_end="20:00"))] == []


@pytest.mark.req("REQ-AUD-008")
def test_changes_by_a_disabled_user() -> None:
    es = [entry(1, "2026-03-02T08:00:00.000000+00:00", actor="dan"), entry(2, "2026-03-03T08:00:00.000000+00:00", actor="dan"),
          entry(3, "2026-03-05T08:00:00.000000+00:00", actor="dan"), entry(4, "2026-03-03T09:00:00.000000+00:00", actor="eve")]
    disabled = {"dan": [("2026-03-02T12:00:00.000000+00:00", "2026-03-04T00:00:00.000000+00:00")]}
    got = rv.by_disabled_user(es, ctx(disabled=disabled))
    assert [f.seq for f in got] == [2] and "disabled since" in got[0].message
    still = {"dan": [("2026-03-02T12:00:00.000000+00:00", None)]}
    assert [f.seq for f in rv.by_disabled_user(es, ctx(disabled=still))] == [2, 3]


@pytest.mark.req("REQ-AUD-008")
def test_bursts_of_changes_by_one_user() -> None:
    es = [entry(i, f"2026-03-02T10:00:{i:02d}.000000+00:00") for i in range(1, 7)]  # 6 in 6 s by ann
    es += [entry(10 + i, f"2026-03-02T10:{i * 3:02d}:00.000000+00:00", actor="bob") for i in range(1, 7)]  # 6 in 15 min
    got = rv.bursts(es, ctx(burst_count=5, burst_minutes=5))
    assert [(f.actor, f.seq) for f in got] == [("ann", 6)]
    assert "6 entries by ann" in got[0].message
    assert rv.bursts(es, ctx(burst_count=6, burst_minutes=5)) == []
    # a long run is one burst, reported once; a second run after a quiet gap is another
    run = [entry(i, f"2026-03-02T11:00:{i:02d}.000000+00:00") for i in range(1, 21)]
    run += [entry(100 + i, f"2026-03-02T13:00:{i:02d}.000000+00:00") for i in range(1, 8)]
    assert [f.seq for f in rv.bursts(run, ctx(burst_count=5, burst_minutes=5))] == [6, 106]


@pytest.mark.req("REQ-AUD-008")
def test_failed_logins_and_refused_signatures() -> None:
    es = [entry(1, "2026-03-02T08:00:00.000000+00:00", action="login_failed", label="User", key="ann", reason="wrong password"),
          entry(2, "2026-03-02T08:01:00.000000+00:00", action="account_locked", label="User", key="ann"),
          entry(3, "2026-03-02T08:02:00.000000+00:00", action="signature_refused", label="Release", key="REL-1"),
          entry(4, "2026-03-02T08:03:00.000000+00:00", action="login", label="Token", key="T-1")]
    got = rv.failed_authentication(es, ctx())
    assert [f.seq for f in got] == [1, 2, 3]
    assert "failed login" in got[0].message and "wrong password" in got[0].message
    assert "signature refused" in got[2].message


@pytest.mark.req("REQ-AUD-008")
def test_verify_failures_become_exceptions() -> None:
    probs = [VerifyProblem(seq=7, kind="hash_mismatch", message="entry 7 hash differs"),
             VerifyProblem(seq=None, kind="head_mismatch", message="head moved")]
    got = rv.verify_failures([], ctx(verify_problems=probs))
    assert [(f.seq, f.message.split(":")[0]) for f in got] == [(7, "hash_mismatch"), (None, "head_mismatch")]
    assert rv.verify_failures([], ctx()) == []


@pytest.mark.req("REQ-AUD-008")
def test_bad_requests_are_refused_naming_the_field() -> None:
    with pytest.raises(ValidationFailed) as exc:
        rv.parse_request({"period_from": "2026-03-02", "period_to": "2026-03-01"})
    assert "period_to" in str(exc.value.to_dict()) or "after" in str(exc.value.to_dict())
    with pytest.raises(ValidationFailed) as exc:
        rv.parse_request({"period_from": "2026-03-01T00:00:00", "period_to": "2026-03-02"})
    assert "period_from" in str(exc.value.to_dict())
    with pytest.raises(ValidationFailed) as exc:
        rv.parse_request({"period_from": "2026-03-01", "period_to": "2026-03-02", "timezone": "Mars/Base"})
    assert "timezone" in str(exc.value.to_dict())
    with pytest.raises(ValidationFailed):
        rv.parse_request({"period_from": "2026-03-01", "period_to": "2026-03-02", "burst_count": 0})
    with pytest.raises(ValidationFailed) as exc:  # an offset on a working-hours time (found by schemathesis)
        rv.parse_request({"period_from": "2026-03-01", "period_to": "2026-03-02", "work_start": "07:00+01:00"})
    assert "work_start" in str(exc.value.to_dict())


# ------------------------------------------------------------------ a real trail, end to end
PW = {"qa.ann": "Annie-Secret-11", "qa.rob": "Robby-Secret-22", "dan.ops": "Danny-Secret-33", "vic.view": "Vicky-Secret-44"}
ROLES = {"qa.ann": ["qa"], "qa.rob": ["qa"], "dan.ops": ["qa"], "vic.view": ["viewer"]}


@pytest.fixture(scope="module")
def trail(store: Any) -> dict[str, Any]:
    clock = FrozenClock(datetime(2026, 3, 2, 8, 0, tzinfo=UTC))
    auth.init_admin(store, "admin", "Ada Admin", "Root-Passphrase-7", clock=clock)
    admin = auth.authenticate(store, "admin", "Root-Passphrase-7", clock=clock)
    people = {}
    for uid, pw in PW.items():
        auth.add_user(store, admin, uid, uid.replace(".", " ").title(), pw, ROLES[uid], clock=clock)
        people[uid] = auth.authenticate(store, uid, pw, clock=clock, session=f"s-{uid}")
    ann, dan = people["qa.ann"], people["dan.ops"]
    clock.set(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
    commands.create(store, "Batch", "B-1", {"qty": 10.0, "status": "in_process"}, ann, clock=clock)
    clock.set(datetime(2026, 3, 2, 22, 15, tzinfo=UTC))  # late evening: outside 07-19 UTC
    commands.update(store, "Batch", "B-1", {"qty": 12.0}, ann, reason="recount at night shift", clock=clock)
    clock.set(datetime(2026, 3, 3, 10, 0, tzinfo=UTC))
    for i in range(6):  # a burst: 6 creates in 6 seconds
        clock.advance(seconds=1)
        commands.create(store, "Batch", f"BB-{i}", {"qty": 1.0}, ann, clock=clock)
    clock.set(datetime(2026, 3, 3, 11, 0, tzinfo=UTC))
    auth.disable_user(store, admin, "dan.ops", reason="left the company", clock=clock)
    clock.set(datetime(2026, 3, 3, 11, 30, tzinfo=UTC))  # dan's session outlived the disable
    commands.update(store, "Batch", "B-1", {"qty": 13.0}, dan, clock=clock)
    clock.set(datetime(2026, 3, 3, 12, 0, tzinfo=UTC))
    with pytest.raises(AuthenticationFailed):
        auth.authenticate(store, "qa.rob", "wrong-password-1", clock=clock)
    commands.create(store, "Release", "REL-1", {"batch_id": "B-1", "status": "open"}, ann, clock=clock)
    with pytest.raises(SignatureError):  # the author may not review her own record
        from tracegraph.engine.audit.signatures import sign

        sign(store, "Release", "REL-1", "reviewed", ann, PW["qa.ann"], username="qa.ann", clock=clock)
    return {"store": store, "people": people, "clock": clock}


@pytest.mark.req("REQ-AUD-008")
def test_review_of_a_real_trail_flags_each_exception(trail: dict[str, Any]) -> None:
    s, rob = trail["store"], trail["people"]["qa.rob"]
    req = rv.parse_request({"period_from": "2026-03-02", "period_to": "2026-03-04", "burst_count": 5})
    rep = rv.build_review(s, req, rob, clock=trail["clock"])
    rules = {f.rule for f in rep.findings}
    assert rules == {"outside_working_hours", "bursts", "by_disabled_user", "failed_authentication"}, rep.findings
    night = next(e for e in rep.entries if e.reason == "recount at night shift")
    assert {"field": "qty", "old": 10.0, "new": 12.0} in night.changes
    assert "outside_working_hours" in night.flags
    assert any(f.rule == "by_disabled_user" and f.actor == "dan.ops" for f in rep.findings)
    assert sum(1 for f in rep.findings if f.rule == "failed_authentication") == 2  # wrong password + refused signature
    assert rep.verify_ok is True and rep.counts["verify_failures"] == 0
    # filters: user and record type
    only_dan = rv.build_review(s, rv.parse_request({"period_from": "2026-03-02", "period_to": "2026-03-04",
                                                     "user": "dan.ops"}), rob)
    assert {e.actor for e in only_dan.entries} == {"dan.ops"} and only_dan.entries
    releases = rv.build_review(s, rv.parse_request({"period_from": "2026-03-02", "period_to": "2026-03-04",
                                                     "record_type": "Release", "verify_chain": False}), rob)
    assert {e.target_label for e in releases.entries} == {"Release"} and releases.verify_ok is None
    # a direct database edit outside the engine shows as a verify failure in the review
    s.run("MATCH (b:Batch {id: 'BB-0'}) SET b.qty = 99.0")
    try:
        bad = rv.build_review(s, req, rob)
        assert bad.verify_ok is False and any(f.rule == "verify_failures" for f in bad.findings)
    finally:
        s.run("MATCH (b:Batch {id: 'BB-0'}) SET b.qty = 1.0")


@pytest.mark.req("REQ-AUD-008")
def test_review_is_stored_signed_exported_and_read_back(trail: dict[str, Any], tmp_path: Path) -> None:
    from openpyxl import load_workbook
    from pypdf import PdfReader

    from tracegraph.validation.review_files import write_pdf_review, write_xlsx_review

    s, rob, viewer = trail["store"], trail["people"]["qa.rob"], trail["people"]["vic.view"]
    req = rv.parse_request({"period_from": "2026-03-02", "period_to": "2026-03-04", "burst_count": 5})
    with pytest.raises(PermissionDenied):
        rv.build_review(s, req, viewer)
    rep = rv.build_review(s, req, rob)
    xlsx = write_xlsx_review(rep, tmp_path / "review.xlsx")
    rec = rv.store_review(s, rep, rob, files={"xlsx": str(xlsx)})
    assert rec.props["content_sha256"] == rep.content_sha256 == rep.digest()
    assert rec.props["created_by"] == "system" and rec.props["reviewer_id"] == "qa.rob"
    view = rv.sign_review(s, rep.id, rob, PW["qa.rob"], username="qa.rob")
    assert view.meaning == "reviewed" and view.signer_id == "qa.rob" and view.valid
    pdf = write_pdf_review(rep, tmp_path / "review.pdf", signature=view.manifestation)
    wb = load_workbook(xlsx, read_only=True)
    assert set(wb.sheetnames) == {"summary", "exceptions", "changes"}
    exc_rows = list(wb["exceptions"].iter_rows(values_only=True))[1:]
    assert sorted(r[0] for r in exc_rows) == sorted(f.rule for f in rep.findings)
    change_rows = list(wb["changes"].iter_rows(values_only=True))[1:]
    assert any(r[11] == "recount at night shift" and r[9] == "10.0" and r[10] == "12.0" for r in change_rows)
    text = "".join(p.extract_text() for p in PdfReader(str(pdf)).pages)
    assert rep.id in text and "outside_working_hours" in text and "qa.rob" in text and "reviewed" in text
    # the signature binds the stored content: editing the review record invalidates it
    commands.update(s, "AuditReview", rep.id, {"findings": 0}, Actor.system(), reason="tamper test")
    assert not signature_status(s, "AuditReview", rep.id)[0].valid


@pytest.mark.req("REQ-AUD-008")
def test_working_hours_default_and_time_parsing() -> None:
    req = rv.parse_request({"period_from": "2026-03-01", "period_to": "2026-03-02T12:00:00+08:00"})
    assert req.work_start == time(7, 0) and req.work_end == time(19, 0)
    assert req.period_to.astimezone(UTC).hour == 4
