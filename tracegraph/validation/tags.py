"""Which test proves which requirement, read from the test sources without importing them.

Why static: the coverage check (tests/test_requirements.py) must see the tags of the WHOLE
suite while running as one small test; collecting every test module would import the API, the
database fixtures and Hypothesis. An `ast` pass over tests/test_*.py takes milliseconds and
reads exactly the `@pytest.mark.req("REQ-...")` decorators pytest will see.
"""

from __future__ import annotations

import ast
from pathlib import Path


def _req_ids(dec: ast.expr) -> list[str] | None:
    """The ids of a `pytest.mark.req(...)` decorator, else None."""
    if not isinstance(dec, ast.Call):
        return None
    f = dec.func
    if not (isinstance(f, ast.Attribute) and f.attr == "req" and isinstance(f.value, ast.Attribute)
            and f.value.attr == "mark"):
        return None
    return [a.value for a in dec.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]


def scan_file(path: Path, rel: str) -> dict[str, list[str]]:
    """{"tests/test_x.py::test_fn" (or ::Class::test_fn): [requirement ids]} of one file."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    out: dict[str, list[str]] = {}

    def visit(body: list[ast.stmt], prefix: str) -> None:
        for node in body:
            if isinstance(node, ast.ClassDef):
                visit(node.body, f"{prefix}{node.name}::")
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("test"):
                got = [r for d in node.decorator_list for r in (_req_ids(d) or [])]
                if got:
                    out[f"{rel}::{prefix}{node.name}"] = sorted(set(got))

    visit(tree.body, "")
    return out


def scan(tests_dir: Path) -> dict[str, list[str]]:
    """Tags of every tests/test_*.py below `tests_dir` (node ids relative to its parent)."""
    out: dict[str, list[str]] = {}
    root = tests_dir.parent
    for path in sorted(tests_dir.rglob("test_*.py")):
        out.update(scan_file(path, path.relative_to(root).as_posix()))
    return out


def function_id(nodeid: str) -> str:
    """A test function's id without its parameters: `tests/t.py::test_a[x-1]` -> `tests/t.py::test_a`."""
    return nodeid.split("[", 1)[0]


def by_requirement(tags: dict[str, list[str]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for test, reqs in sorted(tags.items()):
        for r in reqs:
            out.setdefault(r, []).append(test)
    return out


__all__ = ["scan", "scan_file", "function_id", "by_requirement"]
