"""Part 11 electronic signatures: re-authentication, manifestation, record binding,
two-person rules (refused AND audited), permissions."""

from __future__ import annotations

from typing import Any

import pytest

from tracegraph.engine import commands
from tracegraph.engine.access import auth
from tracegraph.engine.audit.chain import Actor, history
from tracegraph.engine.audit.signatures import MEANINGS, content_hash, sign, signature_status
from tracegraph.engine.audit.verify import verify
from tracegraph.engine.errors import AuthenticationFailed, PermissionDenied, SignatureError, ValidationFailed

PW = {"ann.author": "Author-Secret-11", "rob.review": "Review-Secret-22", "meg.manager": "Manager-Secret-33",
      "max.manager": "Manager2-Secret-44", "cor.recall": "Recall-Secret-55", "vic.viewer": "Viewer-Secret-66"}
ROLES = {"ann.author": ["qa"], "rob.review": ["qa"], "meg.manager": ["qa_manager"], "max.manager": ["qa_manager"],
         "cor.recall": ["recall_coordinator"], "vic.viewer": ["viewer"]}


@pytest.fixture(scope="module")
def people(store: Any) -> dict[str, Actor]:
    auth.init_admin(store, "admin", "Ada Admin", "Root-Passphrase-7")
    admin = auth.authenticate(store, "admin", "Root-Passphrase-7")
    out = {}
    for uid, pw in PW.items():
        auth.add_user(store, admin, uid, uid.replace(".", " ").title(), pw, ROLES[uid])
        res = auth.login(store, uid, pw)
        out[uid] = auth.actor_from_token(store, res.token)
    commands.create(store, "Release", "REL-1", {"batch_id": "B-1", "status": "open"}, out["ann.author"])
    return out


@pytest.mark.req("REQ-SIG-003")
def test_first_signing_needs_user_id_then_password_only(store: Any, people: dict[str, Actor]) -> None:
    ann = people["ann.author"]
    with pytest.raises(AuthenticationFailed, match="user id and password"):
        sign(store, "Release", "REL-1", "authored", ann, PW["ann.author"])
    with pytest.raises(AuthenticationFailed):
        sign(store, "Release", "REL-1", "authored", ann, "Wrong-Secret-00", username="ann.author")
    with pytest.raises(AuthenticationFailed, match="does not match"):
        sign(store, "Release", "REL-1", "authored", ann, PW["ann.author"], username="rob.review")
    v = sign(store, "Release", "REL-1", "authored", ann, PW["ann.author"], username="ann.author", reason="batch record complete")
    assert (v.signer_name, v.signer_id, v.meaning, v.valid) == ("Ann Author", "ann.author", "authored", True)
    assert v.signed_at and len(v.content_hash) == 64
    assert "Ann Author (ann.author), authored" in v.manifestation
    # same continuous session: the password alone is enough
    commands.create(store, "Release", "REL-2", {"batch_id": "B-2", "status": "open"}, ann)
    assert sign(store, "Release", "REL-2", "authored", ann, PW["ann.author"]).valid
    # a wrong password is still refused, and audited as a failed authentication
    with pytest.raises(AuthenticationFailed):
        sign(store, "Release", "REL-2", "exception", ann, "Nope-Wrong-000")
    assert "login_failed" in [e.action for e in history(store, target="account:ann.author")]  # its throttle


@pytest.mark.req("REQ-SIG-001")
def test_signature_is_linked_and_audited(store: Any, people: dict[str, Actor]) -> None:
    rows = store.run("MATCH (s:Signature)-[:SIGNED]->(r:Release {id: 'REL-1'}) RETURN count(s) AS c", write=False)
    assert rows[0]["c"] >= 1
    entries = history(store, target="REL-1", action="sign")
    assert entries and entries[0].target_label == "Signature" and entries[0].actor == "ann.author"


@pytest.mark.req("REQ-SIG-004")
def test_reviewer_may_not_be_the_author_refusal_is_audited(store: Any, people: dict[str, Actor]) -> None:
    ann = people["ann.author"]
    with pytest.raises(SignatureError, match="reviewer must not be the author"):
        sign(store, "Release", "REL-1", "reviewed", ann, PW["ann.author"])
    refused = history(store, target="REL-1", action="signature_refused")
    assert len(refused) == 1 and "reviewed" in str(refused[0].changes)
    rob = people["rob.review"]
    assert sign(store, "Release", "REL-1", "reviewed", rob, PW["rob.review"], username="rob.review").valid


@pytest.mark.req("REQ-SIG-004")
def test_release_approver_differs_from_reviewer(store: Any, people: dict[str, Actor]) -> None:
    meg = people["meg.manager"]
    sign(store, "Release", "REL-2", "reviewed", meg, PW["meg.manager"], username="meg.manager")
    with pytest.raises(SignatureError, match="other than its reviewer"):
        sign(store, "Release", "REL-2", "approved", meg, PW["meg.manager"])
    assert history(store, target="REL-2", action="signature_refused")
    max_ = people["max.manager"]
    assert sign(store, "Release", "REL-2", "approved", max_, PW["max.manager"], username="max.manager").valid


@pytest.mark.req("REQ-SIG-004", "REQ-SIG-005")
def test_recall_approver_differs_from_author_and_needs_recall_approve(store: Any, people: dict[str, Actor]) -> None:
    meg, cor = people["meg.manager"], people["cor.recall"]
    commands.create(store, "Recall", "RC-1", {"status": "draft", "title": "Pump occlusion alarm"}, meg)
    with pytest.raises(SignatureError, match="other than its author"):
        sign(store, "Recall", "RC-1", "approved", meg, PW["meg.manager"])
    with pytest.raises(PermissionDenied, match="recall.approve"):
        sign(store, "Recall", "RC-1", "approved", cor, PW["cor.recall"], username="cor.recall")
    assert sign(store, "Recall", "RC-1", "approved", people["max.manager"], PW["max.manager"]).valid


@pytest.mark.req("REQ-SIG-005")
def test_viewer_cannot_sign_and_meanings_are_checked(store: Any, people: dict[str, Actor]) -> None:
    with pytest.raises(PermissionDenied):
        sign(store, "Release", "REL-1", "reviewed", people["vic.viewer"], PW["vic.viewer"], username="vic.viewer")
    with pytest.raises(ValidationFailed, match="meaning"):
        sign(store, "Release", "REL-1", "liked", people["rob.review"], PW["rob.review"])
    assert set(MEANINGS) == {"authored", "reviewed", "approved", "released", "closed", "exception"}


@pytest.mark.req("REQ-SIG-002")
def test_any_later_change_invalidates_the_signature(store: Any, people: dict[str, Actor]) -> None:
    ann = people["ann.author"]
    commands.create(store, "Release", "REL-3", {"batch_id": "B-3", "status": "open", "notes": "ok"}, ann)
    sign(store, "Release", "REL-3", "authored", ann, PW["ann.author"])
    assert all(v.valid for v in signature_status(store, "Release", "REL-3"))
    commands.update(store, "Release", "REL-3", {"notes": "changed after signing"}, ann)
    views = signature_status(store, "Release", "REL-3")
    assert views and not any(v.valid for v in views) and "INVALID" in views[0].status
    commands.update(store, "Release", "REL-3", {"notes": "ok"}, ann)  # back to the signed content
    assert all(v.valid for v in signature_status(store, "Release", "REL-3"))


@pytest.mark.req("REQ-SIG-002")
def test_content_hash_ignores_volatile_fields_only() -> None:
    base = {"id": "R", "status": "open", "updated_at": "2026-01-01", "locked_at": "x"}
    assert content_hash("Release", base) == content_hash("Release", {**base, "updated_at": "2027-01-01", "locked_at": "y"})
    assert content_hash("Release", base) != content_hash("Release", {**base, "status": "closed"})
    assert content_hash("Release", base) != content_hash("Recall", base)


@pytest.mark.req("REQ-AUD-003")
def test_signatures_verify_and_tampering_with_one_is_found(store: Any, people: dict[str, Actor]) -> None:
    assert verify(store).ok
    sid = signature_status(store, "Release", "REL-1")[0].id
    store.run("MATCH (s:Signature {id: $id}) SET s.signer_name = 'Someone Else'", {"id": sid})
    try:
        r = verify(store)
        assert not r.ok and r.first_error.field == "signer_name"  # type: ignore[union-attr]
    finally:
        store.run("MATCH (s:Signature {id: $id}) SET s.signer_name = 'Ann Author'", {"id": sid})
    assert verify(store).ok
