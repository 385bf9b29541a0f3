"""engine/imports/prefetch.py: items made ahead by a thread, in order, errors where they happen."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from tracegraph.engine.imports.prefetch import ahead


def test_the_items_come_in_order_and_all() -> None:
    assert list(ahead(iter(range(1000)), depth=2)) == list(range(1000))
    assert list(ahead([])) == []


def test_they_are_made_by_another_thread_while_the_consumer_works() -> None:
    made_by: set[str] = set()

    def make() -> Iterator[int]:
        for i in range(5):
            made_by.add(threading.current_thread().name)
            yield i

    got = []
    for x in ahead(make(), depth=1):
        time.sleep(0.01)
        got.append(x)
    assert got == list(range(5)) and made_by == {"import-prefetch"}


def test_at_most_depth_items_wait() -> None:
    made: list[int] = []

    def make() -> Iterator[int]:
        for i in range(100):
            made.append(i)
            yield i

    it = ahead(make(), depth=2)
    assert next(it) == 0
    time.sleep(0.2)
    assert len(made) <= 4  # the one taken, two waiting, one being put
    it.close()


def test_an_error_in_the_maker_is_raised_at_the_item_it_would_have_made() -> None:
    def make() -> Iterator[int]:
        yield 1
        yield 2
        raise KeyError("row 3")

    got = []
    with pytest.raises(KeyError, match="row 3"):
        for x in ahead(make()):
            got.append(x)
    assert got == [1, 2]


def test_leaving_early_stops_the_maker() -> None:
    made: list[int] = []

    def make() -> Iterator[int]:
        for i in range(10_000):
            made.append(i)
            yield i

    for x in ahead(make(), depth=1):
        if x == 3:
            break
    n = len(made)
    time.sleep(0.3)
    assert len(made) == n <= 6
    assert not any(t.name == "import-prefetch" for t in threading.enumerate())
