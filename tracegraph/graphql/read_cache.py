"""Which GraphQL documents the read cache (doors/read_cache.py, api/read_cache.py) may answer.

A document is cacheable when it is one query operation (no mutation, no subscription, no
introspection) whose root fields are all in `CACHEABLE_ROOTS` and which selects no field of
`CLOCK_FIELDS` anywhere (fragments included). The roots listed answer from the graph and the
arguments only: not from the clock, not from who exactly asks (their permission checks depend on
the caller's roles, which key the cache). A field whose answer moves with time (a regulatory
clock's state: due soon, overdue) must never be served from an earlier computation, so it is
listed in CLOCK_FIELDS; tests/test_read_cache.py fails when a type reachable from a cacheable
root gains a resolver nobody has classified (REVIEWED_RESOLVERS).
"""

from __future__ import annotations

from functools import lru_cache

from graphql.language import Visitor

from graphql import FieldNode, GraphQLError, OperationDefinitionNode, OperationType, parse, visit

#: root query fields whose answers are functions of the graph (audit head) and the request
CACHEABLE_ROOTS = frozenset({
    "impact", "traceBack", "traceForward", "releaseChecklist", "qualityRecords", "recalls", "recall",
})
#: fields, wherever they appear, whose answer depends on the clock
CLOCK_FIELDS = frozenset({"deadlines"})
#: resolver fields (methods, not stored data) of the types reachable from CACHEABLE_ROOTS that were
#: checked: they read the graph only, permission checks by role (`deadlines` is a clock field,
#: refused above). The generated quality record types are reviewed as their interface, QualityRecord
REVIEWED_RESOLVERS = frozenset({
    "Recall.customers", "Recall.signatures", "Recall.deadlines", "Recall.effectiveness",
    "Recall.effectivenessTimeline", "RecallConnection.totalCount",
    "QualityRecordConnection.totalCount", "QualityRecord.addressedBy", "QualityRecord.concerns",
    "QualityRecord.flags", "QualityRecord.signatures", "QualityRecord.steps",
})


class _Fields(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()

    def enter_field(self, node: FieldNode, *_: object) -> None:
        self.names.add(node.name.value)


@lru_cache(maxsize=1024)
def cacheable(query: str, operation_name: str | None) -> bool:
    """True if the read cache may answer this document (parsed once per distinct text)."""
    try:
        doc = parse(query, no_location=True)
    except GraphQLError:
        return False  # the full path reports the syntax error
    ops = [d for d in doc.definitions if isinstance(d, OperationDefinitionNode)]
    if len(ops) != 1 or ops[0].operation is not OperationType.QUERY:
        return False
    op = ops[0]
    if operation_name is not None and (op.name is None or op.name.value != operation_name):
        return False
    roots = [s for s in op.selection_set.selections]
    if not roots or not all(isinstance(s, FieldNode) and s.name.value in CACHEABLE_ROOTS for s in roots):
        return False  # fragments at the root, introspection, or a root not listed
    fields = _Fields()
    visit(doc, fields)
    return not (fields.names & CLOCK_FIELDS) and not any(n.startswith("__") and n != "__typename"
                                                         for n in fields.names)


__all__ = ["CACHEABLE_ROOTS", "CLOCK_FIELDS", "REVIEWED_RESOLVERS", "cacheable"]
