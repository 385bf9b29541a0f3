"""The store's own parameter header (engine/stores/falkordb_params.py) is the FalkorDB client's,
character for character, for every type a parameter can hold; and it refuses what the store
refused before (control characters, NaN / infinity) naming the same parameter."""

from __future__ import annotations

import enum
import random
import string
from decimal import Decimal
from typing import Any

import pytest
from falkordb.graph import Graph

from tracegraph.engine.errors import DatabaseError, ValidationFailed
from tracegraph.engine.stores.falkordb_params import Encoded, literal, params_header, pre_encode


class Colour(str, enum.Enum):
    RED = "red"


class Tag(str):
    pass


class Level(enum.IntEnum):
    HIGH = 3


def client_header(params: dict[str, Any]) -> str:
    return Graph._build_params_header(None, params)  # type: ignore[arg-type]


VALUES: list[Any] = [
    "", "plain", 'say "hi"', "back\\slash", '\\"', "tab\tnew\nline\rcr", "unit\x1fsep\x1e\x1d\x1c", "ünïcödé ✓ 𝄞",
    "`tick`", "{not: a map}", None, True, False, 0, -1, 2**70, -(2**65), 0.0, -0.0, 1.0, 1.5, 1e-7, 1e16, 1e22,
    123456789.123456789, 5e-324, [], (), ["a", "b"], ["a", 'b"c', "d\\e"], ("x", "y"), [1, "a", None, 2.5, True],
    [[1, 2], ["a"]], {}, {"a": 1}, {"a": {"b": [1, {"c": "d"}]}, "e": None}, {1: "int key", "x y": "space"},
    {"@type": "v", "a-b": 2}, Colour.RED, [Colour.RED, "x"], Tag("sub"), [Tag('q"'), Tag("")], Level.HIGH,
    Decimal("1.25"), {"rows": [{"id": "S1", "create": {"status": "in_stock"}, "props": {"qty": 1.0}}] * 3},
]


@pytest.mark.parametrize("value", VALUES, ids=[repr(v)[:30] for v in VALUES])
def test_same_text_as_the_client(value: Any) -> None:
    params = {"v": value, "other": "x"}
    assert params_header(params) == client_header(params)


def test_random_structures_match_the_client() -> None:
    rnd = random.Random(16)
    alphabet = string.ascii_letters + string.digits + '"\\ `{}[]:,\t\n\x1fé✓'

    def text() -> str:
        return "".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 8)))

    def value(depth: int) -> Any:
        kind = rnd.randint(0, 8 if depth < 3 else 5)
        if kind == 0:
            return text()
        if kind == 1:
            return rnd.randint(-10**12, 10**12)
        if kind == 2:
            return rnd.uniform(-1e6, 1e6) * 10 ** rnd.randint(-12, 12)
        if kind == 3:
            return rnd.choice([None, True, False])
        if kind == 4:
            return [text() for _ in range(rnd.randint(0, 5))]
        if kind == 5:
            return float(rnd.randint(-5, 5))
        if kind == 6:
            return [value(depth + 1) for _ in range(rnd.randint(0, 4))]
        if kind == 7:
            return tuple(value(depth + 1) for _ in range(rnd.randint(0, 3)))
        return {(text().replace("`", "") or "k"): value(depth + 1) for _ in range(rnd.randint(0, 4))}

    for _ in range(400):
        params = {f"p{i}": value(0) for i in range(rnd.randint(1, 4))}
        assert params_header(params) == client_header(params)


def test_nothing_to_send() -> None:
    assert params_header(None) == "" and params_header({}) == ""


@pytest.mark.parametrize("params, where", [
    ({"v": "a\x00b"}, "$v"), ({"rows": [{"id": "ok"}, {"id": "bad\x07"}]}, "$rows[1].id"),
    ({"m": {"k\x1b": 1}}, "$m.k\x1b"), ({"ids": ["a", "b\x0c"]}, "$ids[1]"),
])
def test_control_characters_refused_with_the_parameter_named(params: dict[str, Any], where: str) -> None:
    with pytest.raises(ValidationFailed) as exc:
        params_header(params)
    assert exc.value.problems[0].field == where


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf"), [1.0, float("nan")],
                                   {"a": {"b": float("inf")}}])
def test_non_finite_refused(value: Any) -> None:
    with pytest.raises(DatabaseError, match="NaN or infinite"):
        params_header({"v": value})


def test_control_character_wins_over_nan() -> None:
    with pytest.raises(ValidationFailed):
        params_header({"a": float("nan"), "b": "\x00"})


@pytest.mark.parametrize("params", [{"": 1}, {"a`b": 1}, {"v": {"": 1}}, {"v": {"a`": 1}}])
def test_bad_names_refused_like_the_client(params: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        client_header(params)
    with pytest.raises(ValueError):
        params_header(params)


def test_literal_of_a_big_id_list() -> None:
    ids = [f"https://id.gs1.org/01/0405429382577{i % 10}/21/{i:09d}" for i in range(5000)]
    assert literal(ids) == client_header({"v": ids})[len("CYPHER `v`="):-1]


@pytest.mark.parametrize("value", VALUES, ids=[repr(v)[:30] for v in VALUES])
def test_a_value_encoded_ahead_gives_the_same_header(value: Any) -> None:
    """pre_encode (the EPCIS writer's prefetch thread): the same text as encoding it in the header."""
    ahead = pre_encode(value)
    assert type(ahead) is Encoded
    assert params_header({"v": ahead, "other": "x"}) == client_header({"v": value, "other": "x"})


@pytest.mark.parametrize("params, where", [
    ({"rows": [{"id": "ok"}, {"id": "bad\x07"}]}, "$rows[1].id"), ({"ids": ["a", "b\x0c"]}, "$ids[1]"),
])
def test_a_control_character_is_still_refused_with_its_parameter_named_when_encoded_ahead(
        params: dict[str, Any], where: str) -> None:
    ahead = {k: pre_encode(v) for k, v in params.items()}
    assert all(type(v) is not Encoded for v in ahead.values())  # left as it was for params_header to refuse
    with pytest.raises(ValidationFailed) as exc:
        params_header(ahead)
    assert exc.value.problems[0].field == where


def test_a_non_finite_number_is_still_refused_when_encoded_ahead() -> None:
    ahead = pre_encode([{"qty": float("nan")}])
    assert type(ahead) is not Encoded
    with pytest.raises(DatabaseError, match="NaN or infinite"):
        params_header({"rows": ahead})
