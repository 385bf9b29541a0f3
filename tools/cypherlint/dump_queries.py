"""Print every tracegraph query as Neo4j will receive it: JSON {name: text}, includes expanded.

Fragments (files pulled into other queries with `//#include`) are not complete statements on
their own; they are checked inside every query that includes them. Multi-statement files
(schema/*.cypher) are split, one entry per statement: `schema.neo4j#3`.
FalkorDB-only files (`schema.falkordb`) are left out: they are never sent to Neo4j.
"""

from __future__ import annotations

import json
import re
import sys

from tracegraph import queries

FALKORDB_ONLY = {"schema.falkordb"}
_INCLUDE = re.compile(r"^\s*//#include\s+([\w.]+)\s*$", re.MULTILINE)


def collect() -> dict[str, str]:
    names = queries.names()
    fragments: set[str] = set()
    for name in names:
        fragments.update(_INCLUDE.findall(queries._path(name).read_text(encoding="utf-8")))
    out: dict[str, str] = {}
    for name in names:
        if name in fragments or name in FALKORDB_ONLY:
            continue
        if name.startswith("schema."):
            for i, stmt in enumerate(queries.statements(name), 1):
                out[f"{name}#{i}"] = stmt
        else:
            out[name] = queries.load(name)
    return out


if __name__ == "__main__":
    json.dump(collect(), sys.stdout, ensure_ascii=False)
