"""The columns every quality record type shows alike (title, due date, statuses), derived from the
type's data, and the generated cross-type search query that computes them in Cypher.

Why generated: labels cannot be Cypher parameters, so `queries/qms/search/records_where.cypher` is
rendered from `templates/search/records_where.tmpl` with one CALL subquery per record type, which
reads that type only when it is asked for (a new type in the data is searched without anyone
editing a query), and the type-dependent columns are
CASE expressions over the label, derived from each type's field model:

- title: the type's first field among `TITLE_FIELDS` (a complaint has no title: its description).
- due: the type's first field among `DUE_FIELDS`; a field paired with a "done" field (a complaint's
  report deadline, until `reported_at` is set) is due only while the done field is empty.
- owner: the record's `owner` if it has one, else who opened it (as the open-items dashboard counts).
"""

from __future__ import annotations

from pathlib import Path

from tracegraph.engine.qms.lifecycle import QUERY_DIR, RecordType

#: fields that name a record, in order of preference
TITLE_FIELDS = ("title", "name", "description")
#: fields that say when a record is due, in order of preference; with the field that ends the due date
DUE_FIELDS: tuple[tuple[str, str | None], ...] = (
    ("due_date", None), ("due_at", None), ("report_due", "reported_at"), ("qualified_until", None),
)


def statuses_of(rt: RecordType) -> list[str]:
    """Every status a record of this type can have, from its lifecycle data."""
    seen = [rt.initial, *rt.closed_statuses]
    for t in rt.transitions:
        seen += [*t.from_statuses, t.to]
    return list(dict.fromkeys(seen))


def title_field(rt: RecordType) -> str | None:
    return next((f for f in TITLE_FIELDS if f in rt.fields.model_fields), None)


def due_field(rt: RecordType) -> tuple[str, str | None] | None:
    return next(((f, done) for f, done in DUE_FIELDS if f in rt.fields.model_fields), None)


# -- the generated cross-type query ---------------------------------------------------------------
def _case(cases: list[tuple[str, str]]) -> str:
    if not cases:
        return "null"
    return "CASE labels(n)[0] " + " ".join(f"WHEN '{lbl}' THEN {expr}" for lbl, expr in cases) + " ELSE null END"


def render_queries(types: list[RecordType]) -> dict[Path, str]:
    """queries/qms/search/*.cypher from templates/search/*.tmpl, for these record types."""
    matches: list[str] = []
    names: list[str] = []
    for i, rt in enumerate(types):
        # a type not asked for is not scanned: the UNWIND gives the MATCH no row to start from (and
        # collect() over no rows is []). `OPTIONAL MATCH (r:X) WHERE 'X' IN $labels` scanned every
        # node of X and filtered each: 20,000 inspections cost ~4 ms on a complaints board
        matches.append(f"CALL {{ UNWIND CASE WHEN '{rt.label}' IN $labels THEN [1] ELSE [] END AS w{i}\n"
                       f"       MATCH (r{i}:{rt.label}) RETURN collect(r{i}) AS l{i} }}")
        names.append(f"l{i}")
    titles = [(rt.label, f"n.{f}") for rt in types if (f := title_field(rt))]
    dues = []
    for rt in types:
        due = due_field(rt)
        if due:
            f, done = due
            dues.append((rt.label, f"CASE WHEN n.{done} IS NULL THEN n.{f} END" if done else f"n.{f}"))
    values = {"matches": "\n".join(matches), "all": " + ".join(names) or "[]", "title_case": _case(titles),
              "due_case": _case(dues), "labels": ", ".join(rt.label for rt in types)}
    out: dict[Path, str] = {}
    for tmpl in sorted((QUERY_DIR / "templates" / "search").glob("*.tmpl")):
        out[QUERY_DIR / "search" / f"{tmpl.stem}.cypher"] = tmpl.read_text(encoding="utf-8").format(**values)
    return out


__all__ = ["TITLE_FIELDS", "DUE_FIELDS", "statuses_of", "title_field", "due_field", "render_queries"]
