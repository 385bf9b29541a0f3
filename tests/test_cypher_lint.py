"""Static Neo4j 5 compatibility of every named query, with Neo4j's own Cypher semantic analysis.

tools/cypherlint/lint.mjs runs `lintCypherQuery` from @neo4j-cypher/language-support with a
schema of Neo4j 5's built-in functions and procedures, over every query in tracegraph/queries/
with `//#include` fragments expanded. It catches what the FalkorDB test run cannot: calls
that only FalkorDB has (algo.*, db.idx.*), and Cypher that Neo4j's stricter analysis rejects.
`make test` installs the npm package (`npm ci` in tools/cypherlint) when Node.js is present.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TOOL = ROOT / "tools" / "cypherlint"
NODE = shutil.which("node")

if NODE is None:
    pytest.skip("Node.js is not installed: the static Neo4j Cypher lint needs `node` (>= 18)", allow_module_level=True)
if not (TOOL / "node_modules" / "@neo4j-cypher" / "language-support").is_dir():
    if os.environ.get("CI"):
        pytest.fail(f"npm dependencies missing in {TOOL}: `make test` must run `npm ci` there first")
    pytest.skip(
        f"npm dependencies not installed: run `cd {TOOL.relative_to(ROOT)} && npm ci` (or `make test`)",
        allow_module_level=True,
    )


def _lint(*args: str) -> tuple[int, dict]:
    proc = subprocess.run(
        [NODE, str(TOOL / "lint.mjs"), "--json", "--python", sys.executable, *args],
        capture_output=True,
        text=True,
        timeout=880,
        cwd=ROOT,
    )
    assert proc.stdout.strip(), f"lint produced no report (exit {proc.returncode}): {proc.stderr[-2000:]}"
    return proc.returncode, json.loads(proc.stdout)


def test_linter_flags_known_bad_queries() -> None:
    """If this fails the linter is not checking anything, so a clean result would mean nothing."""
    code, report = _lint("--self-check")
    assert report["self_checked"] and report["self_check"] == [] and code == 0


def test_linter_reports_each_bad_query_by_name(tmp_path: Path) -> None:
    bad = {
        "x.undefined_variable": "MATCH (n:Batch) RETURN m",
        "x.falkordb_bfs": "MATCH (a:Batch {id: $id}) CALL algo.BFS(a, 3, 'PRODUCED') YIELD nodes RETURN nodes",
        "x.good": "MATCH (a:Batch {id: $id})-[:PRODUCED*1..3]->(s) RETURN s.id AS id",
    }
    f = tmp_path / "q.json"
    f.write_text(json.dumps(bad))
    code, report = _lint("--queries", str(f))
    assert code == 1
    flagged = {e["query"] for e in report["errors"]}
    assert flagged == {"x.undefined_variable", "x.falkordb_bfs"}
    assert report["checked"] == 3


@pytest.mark.timeout(900)  # Neo4j's analysis costs ~0.5 s CPU per new query shape (cached after)
@pytest.mark.req("REQ-DAT-006")
def test_every_query_passes_neo4j5_semantic_analysis() -> None:
    code, report = _lint("--no-self-check")  # test_linter_flags_known_bad_queries covers it
    assert report["checked"] > 10, "no queries found: is tracegraph/queries/ empty?"
    problems = "\n".join(f"{e['query']}:{e['line']}:{e['column']}: {e['message']}" for e in report["errors"])
    assert code == 0 and not report["errors"], f"queries Neo4j 5 would reject:\n{problems}"
