"""Queries are data: every named query loads, includes expand, and nothing is built from input."""

from __future__ import annotations

import re

import pytest

from tracegraph import queries
from tracegraph.engine.errors import QueryNotFound


@pytest.mark.req("REQ-DAT-004")
def test_every_query_loads_with_includes_expanded() -> None:
    names = queries.names()
    assert "audit.guard" in names and "schema.falkordb" in names
    for name in names:
        text = queries.load(name)
        assert text.strip(), name
        assert "//#include" not in text, f"{name}: unexpanded include"


@pytest.mark.req("REQ-AUD-001")
def test_audited_writes_have_guard_then_append() -> None:
    for name in queries.names():
        raw = queries._path(name).read_text()
        if "//#include audit.append" in raw:
            assert raw.index("//#include audit.guard") < raw.index("//#include audit.append"), name


def test_unknown_query_is_a_clear_error() -> None:
    with pytest.raises(QueryNotFound, match="no query named 'nope.nothing'"):
        queries.load("nope.nothing")


@pytest.mark.req("REQ-DAT-004")
def test_no_python_format_placeholders_in_queries() -> None:
    """Cypher is never filled by str.format/f-strings: no {name} placeholders outside map literals."""
    for name in queries.names():
        text = queries.load(name)
        assert not re.search(r"\{\{|\}\}|%s|%\(\w+\)s", text), name
