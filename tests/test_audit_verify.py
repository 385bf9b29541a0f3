"""`audit verify`: a clean chain verifies; EVERY kind of tampering is found and named.

Tampering is done the way an attacker with database access would: direct Cypher via
`store.run`, bypassing the engine. Each case is undone afterwards (or runs on its own graph)
so the cases stay independent.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tracegraph.engine import commands
from tracegraph.engine.audit.chain import ENTRY_FIELDS, Actor, entry_hash, entry_hash_fast, row_hash
from tracegraph.engine.audit.verify import verify, verify_or_raise
from tracegraph.engine.errors import IntegrityError
from tracegraph.engine.stores.falkordb import FalkorDBStore

QA = Actor("qa.lead", "Quinn Lead", frozenset({"qa_manager"}))


def _build(store: Any) -> dict[str, Any]:
    """A small realistic history: create, update, link, status, retire."""
    commands.create(store, "Product", "P-1", {"name": "Infusion pump", "device_class": "II"}, QA)
    commands.create(store, "Batch", "B-1", {"product_id": "P-1", "qty": 100.0, "status": "in_process",
                                            "line": "L1", "tags": ["sterile", "eo"]}, QA)
    commands.link(store, "Batch", "B-1", "OF", "Product", "P-1", QA)
    commands.update(store, "Batch", "B-1", {"qty": 98.0, "line": "L2"}, QA)
    commands.set_status(store, "Batch", "B-1", "quarantined", QA)  # a hold (release is a Release record)
    commands.create(store, "Batch", "B-2", {"product_id": "P-1", "qty": 5.0}, QA)
    commands.retire(store, "Batch", "B-2", QA, reason="entered twice")
    return {"head": store.read("audit.head")[0]}


@pytest.fixture(scope="module")
def chain(store: Any) -> Iterator[Any]:
    _build(store)
    assert verify(store).ok
    yield store


def _entries(store: Any) -> list[dict[str, Any]]:
    return [r["e"] for r in store.run("MATCH (e:AuditEntry) RETURN properties(e) AS e ORDER BY e.seq", write=False)]


@pytest.mark.req("REQ-AUD-002")
def test_clean_chain_verifies(chain: Any) -> None:
    r = verify(chain)
    assert r.ok, r.problems
    assert r.entries_checked == r.head_seq == len(_entries(chain))
    assert r.records_checked == 3
    assert r.first_error is None
    verify_or_raise(chain)


def test_incremental_verify_from_a_seq(chain: Any) -> None:
    r = verify(chain, from_seq=4)
    assert r.ok and r.from_seq == 4 and r.entries_checked == r.head_seq - 3
    assert r.trusted_start == "stored entry 3"


def _tampered_value(v: Any) -> Any:
    if isinstance(v, bool):
        return not v
    if isinstance(v, int):
        return v + 1000
    if isinstance(v, float):
        return v + 0.5
    if isinstance(v, list):
        return v + ["x"]
    return str(v) + "x"


@pytest.mark.parametrize("field", [*ENTRY_FIELDS, "hash"])
@pytest.mark.parametrize("which", ["first", "middle", "last"])
@pytest.mark.req("REQ-AUD-002")
def test_tampering_any_entry_field_is_named(chain: Any, field: str, which: str) -> None:
    entries = _entries(chain)
    target = {"first": entries[0], "middle": entries[len(entries) // 2], "last": entries[-1]}[which]
    seq, old = target["seq"], target[field]
    chain.run(f"MATCH (e:AuditEntry {{seq: $seq}}) SET e.{field} = $v", {"seq": seq, "v": _tampered_value(old)})
    try:
        r = verify(chain)
        assert not r.ok
        assert r.first_error is not None and r.first_error.seq == seq, r.first_error
        with pytest.raises(IntegrityError, match=f"entry {seq}"):
            verify_or_raise(chain)
    finally:
        where = "seq: $new" if field == "seq" else "seq: $seq"
        chain.run(f"MATCH (e:AuditEntry {{{where}}}) SET e.{field} = $v",
                  {"seq": seq, "new": _tampered_value(old), "v": old})
    assert verify(chain).ok


@pytest.mark.req("REQ-AUD-002")
def test_added_property_on_an_entry_is_found(chain: Any) -> None:
    chain.run("MATCH (e:AuditEntry {seq: 2}) SET e.note = 'edited'")
    try:
        r = verify(chain)
        assert not r.ok and r.first_error.seq == 2 and r.first_error.kind == "extra_property"  # type: ignore[union-attr]
    finally:
        chain.run("MATCH (e:AuditEntry {seq: 2}) SET e.note = null")
    assert verify(chain).ok


def _record_props(store: Any, key: str) -> dict[str, Any]:
    return store.run("MATCH (n {id: $k}) WHERE NOT n:AuditHead RETURN properties(n) AS p", {"k": key}, write=False)[0]["p"]


def _last_setting(store: Any, key: str, field: str) -> int:
    import json

    seq = 0
    for e in _entries(store):
        if e["target_key"] == key and any(c["field"] == field for c in json.loads(e["changes"])):
            seq = e["seq"]
    return seq


@pytest.mark.parametrize("key", ["B-1", "B-2", "P-1"])
@pytest.mark.req("REQ-AUD-003")
def test_tampering_any_property_of_an_audited_record_is_named(chain: Any, key: str) -> None:
    props = _record_props(chain, key)
    about = [e["seq"] for e in _entries(chain) if e["target_key"] == key]
    assert len(props) >= 7
    for name, old in props.items():
        label = "Batch" if key.startswith("B") else "Product"
        chain.run(f"MATCH (n:{label} {{id: $k}}) SET n.{name} = $v", {"k": key, "v": _tampered_value(old)})
        new_key = _tampered_value(old) if name == "id" else key
        try:
            r = verify(chain)
            assert not r.ok, f"tampering {key}.{name} was not found"
            assert r.first_error is not None
            if name == "id":
                assert r.first_error.kind == "record_missing" and r.first_error.seq == about[-1]
            else:
                assert r.first_error.kind == "record_mismatch" and r.first_error.field == name
                assert r.first_error.seq == _last_setting(chain, key, name)
        finally:
            chain.run(f"MATCH (n:{label} {{id: $k}}) SET n.{name} = $v", {"k": new_key, "v": old})
        # removing the property is found too
        if name != "id":
            chain.run(f"MATCH (n:{label} {{id: $k}}) SET n.{name} = null", {"k": key})
            try:
                assert verify(chain).first_error.field == name  # type: ignore[union-attr]
            finally:
                chain.run(f"MATCH (n:{label} {{id: $k}}) SET n.{name} = $v", {"k": key, "v": old})
    assert verify(chain).ok


@pytest.mark.req("REQ-AUD-003")
def test_deleting_a_record_is_found(chain: Any) -> None:
    props = _record_props(chain, "P-1")
    chain.run("MATCH (p:Product {id: 'P-1'}) SET p:Gone REMOVE p:Product")  # relabel = vanished as a Product
    try:
        r = verify(chain)
        assert not r.ok and r.first_error.kind == "record_missing"  # type: ignore[union-attr]
    finally:
        chain.run("MATCH (p:Gone {id: 'P-1'}) SET p:Product REMOVE p:Gone")
    assert props == _record_props(chain, "P-1")
    assert verify(chain).ok


def test_deleting_a_prev_edge_is_found(chain: Any) -> None:
    chain.run("MATCH (:AuditEntry {seq: 4})-[r:PREV]->() DELETE r")
    try:
        r = verify(chain)
        assert not r.ok and r.first_error.seq == 4 and r.first_error.kind == "prev_edge"  # type: ignore[union-attr]
    finally:
        chain.run("MATCH (a:AuditEntry {seq: 4}), (b:AuditEntry {seq: 3}) CREATE (a)-[:PREV]->(b)")
    chain.run("MATCH (a:AuditEntry {seq: 5}), (b:AuditEntry {seq: 2}) CREATE (a)-[:PREV]->(b)")
    try:
        assert verify(chain).first_error.seq == 5  # type: ignore[union-attr]
    finally:
        chain.run("MATCH (:AuditEntry {seq: 5})-[r:PREV]->(:AuditEntry {seq: 2}) DELETE r")
    assert verify(chain).ok


@pytest.mark.parametrize("prop,value", [("seq", -1), ("hash", "0" * 64)])
@pytest.mark.req("REQ-AUD-002")
def test_editing_the_head_is_found(chain: Any, prop: str, value: int | str) -> None:
    h = chain.read("audit.head")[0]
    new = h["seq"] + value if prop == "seq" else value
    chain.run(f"MATCH (h:AuditHead) SET h.{prop} = $v", {"v": new})
    try:
        r = verify(chain)
        assert not r.ok
        assert r.first_error is not None
        assert r.first_error.kind in {"head_mismatch", "missing_entry"}
    finally:
        chain.run(f"MATCH (h:AuditHead) SET h.{prop} = $v", {"v": h[prop]})
    assert verify(chain).ok


@pytest.mark.req("REQ-AUD-002")
def test_deleting_an_entry_is_named(empty_store: Any) -> None:
    _build(empty_store)
    empty_store.run("MATCH (e:AuditEntry {seq: 3}) DETACH DELETE e")
    r = verify(empty_store)
    assert not r.ok and r.first_error.seq == 3 and r.first_error.kind == "missing_entry"  # type: ignore[union-attr]


def test_deleting_the_last_entry_is_found(empty_store: Any) -> None:
    _build(empty_store)
    last = empty_store.read("audit.head")[0]["seq"]
    empty_store.run("MATCH (e:AuditEntry {seq: $s}) DETACH DELETE e", {"s": last})
    r = verify(empty_store)
    assert not r.ok and r.first_error.kind in {"head_mismatch", "count_mismatch", "record_mismatch"}  # type: ignore[union-attr]


@pytest.mark.req("REQ-AUD-002")
def test_reordering_entries_is_named(empty_store: Any) -> None:
    _build(empty_store)
    empty_store.run("MATCH (e:AuditEntry {seq: 3}) SET e.seq = -3")
    empty_store.run("MATCH (e:AuditEntry {seq: 4}) SET e.seq = 3")
    empty_store.run("MATCH (e:AuditEntry {seq: -3}) SET e.seq = 4")
    r = verify(empty_store)
    assert not r.ok and r.first_error.seq == 3  # type: ignore[union-attr]


@pytest.mark.req("REQ-AUD-002")
def test_rewriting_an_entry_with_a_recomputed_hash_is_named(empty_store: Any) -> None:
    """The attacker recomputes the edited entry's hash: the NEXT entry's link breaks."""
    _build(empty_store)
    e = _entries(empty_store)[2]
    e["reason"] = "nothing to see"
    e["hash"] = entry_hash(e)
    empty_store.run("MATCH (x:AuditEntry {seq: 3}) SET x.reason = $r, x.hash = $h", {"r": e["reason"], "h": e["hash"]})
    r = verify(empty_store)
    assert not r.ok and r.first_error.seq == 4 and r.first_error.kind == "prev_hash_mismatch"  # type: ignore[union-attr]


@pytest.mark.req("REQ-AUD-004")
def test_concurrent_writers_lose_nothing_and_never_fork(empty_store: Any) -> None:
    """16 writers (own connections) x 60 audited commands on the embedded database, then verify."""
    threads, per = 16, 60
    errors: list[BaseException] = []

    def work(t: int) -> None:
        # a connection of its own per writer, like separate processes: they race the CAS
        own = FalkorDBStore(unix_socket_path=empty_store.location.removeprefix("unix:"), graph=empty_store.graph_name)
        try:
            key = f"C-{t}"
            commands.create(own, "Customer", key, {"name": f"Customer {t}", "n": 0}, QA)
            for i in range(1, per):
                commands.update(own, "Customer", key, {"n": i}, QA)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            own.close()

    ts = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert not errors, errors[:3]
    r = verify(empty_store)
    assert r.ok, r.problems[:3]
    assert r.head_seq == r.entries_checked == threads * per
    seqs = [e["seq"] for e in _entries(empty_store)]
    assert seqs == list(range(1, threads * per + 1))  # contiguous and unique: no fork, none lost
    for t in range(threads):
        assert _record_props(empty_store, f"C-{t}")["n"] == per - 1


_text = st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=20)


@settings(max_examples=300, deadline=None)
@given(st.fixed_dictionaries({k: _text for k in ENTRY_FIELDS if k != "seq"}),
       st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1))
def test_fast_hash_equals_rfc8785_hash(fields: dict[str, str], seq: int) -> None:
    e: dict[str, Any] = {**fields, "seq": seq}

    def same() -> bool:
        ref = entry_hash(e)
        return entry_hash_fast(e) == ref == row_hash([e[k] for k in ENTRY_FIELDS])

    assert same()
    e["reason"] = None
    assert same()
    e["seq"] = 1.5  # not the fast path's domain: falls back, same answer
    assert same()
    e["seq"], e["actor"] = seq, True
    assert same()
