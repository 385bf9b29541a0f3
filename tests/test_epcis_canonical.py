"""epcis_map.canonical_json is RFC 8785 (JCS) exactly as the rfc8785 library writes it (its fast
path must never change the stored `json` of an event, nor the identity of an event without an
eventID), and refuses what the library refuses."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest
import rfc8785

from conftest import EPCIS_DIR
from tracegraph.loaders.epcis_map import canonical_json


def both(value: Any) -> tuple[Any, Any]:
    try:
        got: Any = canonical_json(value)
    except Exception as exc:  # the error's kind must match too
        got = ValueError if isinstance(exc, ValueError) else type(exc)
    try:
        want: Any = rfc8785.dumps(value).decode("utf-8")
    except Exception as exc:
        want = ValueError if isinstance(exc, ValueError) else type(exc)
    return got, want


FLOATS = [0.0, -0.0, 1.0, -1.0, 0.5, 1e-7, 1e-6, 1.5e-5, 1e-4, 0.1 + 0.2, 123.456, 1e15, 1e16, 1e21, 1e22,
          -2.5e-9, 5e-324, 1.7976931348623157e308, 9007199254740991.0, 9007199254740992.0, -9.14e18,
          float("nan"), float("inf"), float("-inf")]
OTHERS: list[Any] = [None, True, False, 0, -5, 2**53 - 1, 2**53, -(2**53), "", 'q"\\', "\x00\x1f\x7f\u2028é𝄞",
                     "\ud800", [], {}, [1, [2, [3]]], {"b": 1, "a": {"d": [], "c": None}}, {"é": 1, "z": 2},
                     {"\ue000": 1, "\U0001d11e": 2}, {1: 2}, {"a": 1, 2: 3}, ("t", 1), {"k": {1, 2}}]


@pytest.mark.parametrize("value", FLOATS + OTHERS, ids=[repr(v)[:24] for v in FLOATS + OTHERS])
def test_same_as_rfc8785(value: Any) -> None:
    got, want = both(value)
    assert got == want


def test_random_numbers_and_structures() -> None:
    rnd = random.Random(16)
    for _ in range(20000):
        v = rnd.uniform(-1, 1) * 10 ** rnd.randint(-30, 30)
        assert both(v)[0] == both(v)[1]
    for _ in range(2000):
        v = float(rnd.randint(-2**60, 2**60))
        assert both(v)[0] == both(v)[1]
    for _ in range(500):
        doc = {rnd.choice("abcxyz_é") * rnd.randint(1, 3): rnd.choice([1.25, "s", None, [1, 2.5e-8], {"q": 3.0}])
               for _ in range(rnd.randint(0, 6))}
        got, want = both(doc)
        assert got == want


def test_every_example_document() -> None:
    files = sorted((EPCIS_DIR / "examples").glob("*.jsonld")) + sorted(Path(__file__).parent.glob("**/*.json"))
    checked = 0
    for f in files:
        try:
            doc = json.loads(f.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError):
            continue
        got, want = both(doc)
        assert got == want, f.name
        for e in (doc.get("epcisBody") or {}).get("eventList") or [] if isinstance(doc, dict) else []:
            assert both(e)[0] == both(e)[1], f.name
        checked += 1
    assert checked >= 40
