"""GraphQL's door check for control characters: every string in the variables and every string
literal in the document, before anything runs (the REST twin is tracegraph.api.input_guard).

Why before execution: a resolver may hand a string to a query before any model sees it; the
store refuses it too (stores/param_guard), but the caller should get a refusal that names the
argument, in GraphQL's error shape (`extensions: {code, field, hint}`)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from graphql.language import Visitor
from strawberry.extensions import SchemaExtension

from graphql import ExecutionResult, GraphQLError, StringValueNode, visit
from tracegraph.engine.inputs import control_char


def _walk(value: Any, where: str) -> str | None:
    if isinstance(value, str):
        return where if control_char(value, text=True) is not None else None
    if isinstance(value, dict):
        for k, v in value.items():
            found = _walk(v, f"{where}.{k}")
            if found:
                return found
    elif isinstance(value, list):
        for i, v in enumerate(value):
            found = _walk(v, f"{where}.{i}")
            if found:
                return found
    return None


class _Literals(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.bad: str | None = None

    def enter_string_value(self, node: StringValueNode, *_: Any) -> None:
        if self.bad is None and control_char(node.value, text=True) is not None:
            loc = node.loc.start if node.loc else 0
            self.bad = f"document (string literal at offset {loc})"


#: document text -> what `_Literals` found in it: the same text always parses to the same literals,
#: and visiting the whole document was ~8 % of a small query's time (dashboards repeat their queries)
_LITERALS: dict[str, str | None] = {}
_LITERALS_MAX = 1024


def _literal_problem(query: str | None, document: Any) -> str | None:
    if query is not None and query in _LITERALS:
        return _LITERALS[query]
    lit = _Literals()
    visit(document, lit)
    if query is not None:
        if len(_LITERALS) >= _LITERALS_MAX:
            _LITERALS.clear()
        _LITERALS[query] = lit.bad
    return lit.bad


class RefuseControlChars(SchemaExtension):
    """Refuse the operation when a variable or literal holds a control character (tab and line
    breaks allowed)."""

    def on_execute(self) -> Iterator[None]:
        ctx = self.execution_context
        field = _walk(ctx.variables or {}, "variables")
        if field is None and ctx.graphql_document is not None:
            field = _literal_problem(ctx.query, ctx.graphql_document)
        if field is not None:
            msg = f"{field} contains a control character"
            ctx.result = ExecutionResult(data=None, errors=[GraphQLError(msg, extensions={
                "code": "validation_failed", "field": field,
                "hint": "send plain text: control characters other than tab and line breaks are refused"})])
        yield


__all__ = ["RefuseControlChars"]
