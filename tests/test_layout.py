"""The house of rooms (docs/architecture.md): the import-linter contracts in pyproject.toml hold,
there is no import circle between any two modules, the contracts really fail on an upward import
or a circle, long engine modules say why, the schema data the stores read agrees with the
domain it was generated from, and mypy passes (strict on the engine and the GS1 layer).
"""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tracegraph import queries
from tracegraph.engine.audit.chain import GENESIS_HASH
from tracegraph.engine.model import UNIQUE_KEYS

ROOT = Path(__file__).resolve().parents[1]
LINT = Path(sys.executable).with_name("lint-imports")
MAX_LINES = 600


def _lint(cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(cwd)}
    return subprocess.run([str(LINT), "--no-cache", "--config", str(cwd / "pyproject.toml")], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=240)


_CYCLES = """
import json, grimp, networkx as nx
graph = grimp.build_graph("tracegraph", cache_dir=None)
g = nx.DiGraph()
for m in graph.modules:
    for imported in graph.find_modules_directly_imported_by(m):
        g.add_edge(m, imported)
print(json.dumps([sorted(c) for c in nx.strongly_connected_components(g) if len(c) > 1]))
"""


def _module_cycles(package_dir: Path) -> list[set[str]]:
    """Strongly connected components of the module import graph (function-level imports too),
    computed in a fresh interpreter so that `package_dir`'s copy of tracegraph is the one read."""
    env = {**os.environ, "PYTHONPATH": str(package_dir)}
    res = subprocess.run([sys.executable, "-c", _CYCLES], cwd=package_dir, env=env, capture_output=True, text=True,
                         timeout=240, check=True)
    return [set(c) for c in json.loads(res.stdout)]


@pytest.mark.req("REQ-SYS-002")
def test_import_contracts_are_kept() -> None:
    res = _lint(ROOT)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "0 broken" in res.stdout


def test_no_module_imports_a_module_that_imports_it_back() -> None:
    assert _module_cycles(ROOT) == []


@pytest.fixture()
def tree_copy(tmp_path: Path) -> Path:
    """A copy of the package and its pyproject.toml, to break on purpose."""
    shutil.copytree(ROOT / "tracegraph", tmp_path / "tracegraph", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def _append_import(path: Path, line: str) -> None:
    path.write_text(path.read_text(encoding="utf-8") + f"\n\ndef _planted() -> None:\n    {line}  # noqa\n",
                    encoding="utf-8")


def test_an_upward_import_breaks_a_contract(tree_copy: Path) -> None:
    # the engine reaching up into a loader, as engine/trace/scan.py once did
    _append_import(tree_copy / "tracegraph/engine/trace/scan.py", "import tracegraph.loaders.bundle")
    res = _lint(tree_copy)
    assert res.returncode != 0
    assert "BROKEN" in res.stdout and "tracegraph.engine.trace.scan -> tracegraph.loaders.bundle" in res.stdout


def test_a_circle_inside_a_room_breaks_a_contract_and_is_found(tree_copy: Path) -> None:
    # the recall lifecycle and returns importing each other, as recall.py and recall_returns.py once did
    _append_import(tree_copy / "tracegraph/engine/recall/returns.py", "import tracegraph.engine.recall.campaign")
    res = _lint(tree_copy)
    assert res.returncode != 0
    assert "Recall room" in res.stdout and "BROKEN" in res.stdout
    cycles = _module_cycles(tree_copy)
    assert any({"tracegraph.engine.recall.returns", "tracegraph.engine.recall.campaign"} <= c for c in cycles)


def test_stores_importing_the_domain_breaks_a_contract(tree_copy: Path) -> None:
    _append_import(tree_copy / "tracegraph/engine/stores/falkordb.py", "import tracegraph.engine.audit.chain")
    res = _lint(tree_copy)
    assert res.returncode != 0
    assert "Stores know no domain" in res.stdout


def _mypy(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """mypy as configured in cwd's pyproject.toml ([tool.mypy], files = tracegraph)."""
    env = {**os.environ, "PYTHONPATH": str(cwd)}
    return subprocess.run([sys.executable, "-m", "mypy", *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=600)


def test_mypy_passes() -> None:
    res = _mypy(ROOT)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "Success: no issues found" in res.stdout


def test_mypy_is_strict_on_the_engine_and_gs1(tree_copy: Path) -> None:
    # an unannotated helper and a bare generic: both pass mypy's default, both fail its strict mode
    for module in ("tracegraph/engine/clock.py", "tracegraph/gs1/identifiers.py"):
        path = tree_copy / module
        path.write_text(path.read_text(encoding="utf-8") + "\n\ndef _planted(x):\n    return x\n\n\n"
                        "def _planted_dict() -> dict:\n    return {}\n", encoding="utf-8")
    res = _mypy(tree_copy, "--cache-dir", str(tree_copy / ".mypy_cache"), "tracegraph/engine/clock.py",
                "tracegraph/gs1/identifiers.py")
    assert res.returncode == 1, res.stdout + res.stderr
    for module in ("tracegraph/engine/clock.py", "tracegraph/gs1/identifiers.py"):
        errors = [line for line in res.stdout.splitlines() if line.startswith(f"{module}:")]
        assert any("[no-untyped-def]" in e for e in errors) and any("[type-arg]" in e for e in errors), res.stdout


def _docstring(path: Path) -> str:
    return ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""


def test_every_subpackage_says_what_it_owns() -> None:
    for init in sorted((ROOT / "tracegraph").rglob("__init__.py")):
        if "queries" in init.parts:
            continue
        assert len(_docstring(init)) > 60, f"{init.relative_to(ROOT)}: say what this package owns"


def test_long_engine_modules_say_why() -> None:
    for path in sorted((ROOT / "tracegraph/engine").rglob("*.py")):
        lines = path.read_text(encoding="utf-8").count("\n")
        if lines > MAX_LINES:
            assert "Why this module is long" in _docstring(path), (
                f"{path.relative_to(ROOT)} has {lines} lines: split it, or say at its top why it is long")


@pytest.mark.req("REQ-DAT-003")
def test_unique_keys_file_matches_the_model() -> None:
    assert queries.unique_keys() == list(UNIQUE_KEYS), "regenerate queries/schema/unique_keys.txt from model.UNIQUE_KEYS"


def test_schema_init_head_starts_at_the_genesis_hash() -> None:
    assert f"h.hash = '{GENESIS_HASH}'" in queries.load("schema.init")


def test_no_private_name_is_imported_across_modules() -> None:
    """A name with a leading underscore belongs to its module: one another module needs moves down
    into a module both may use (issue 13), under a public name."""
    offenders = []
    for path in sorted((ROOT / "tracegraph").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("tracegraph"):
                offenders += [f"{path.relative_to(ROOT)}: {node.module}.{a.name}" for a in node.names
                              if a.name.startswith("_") and not a.name.startswith("__")]
    assert offenders == []
