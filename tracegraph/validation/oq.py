"""Operational qualification: the requirement-tagged tests, run here, or read from a test run.

`run_oq` runs pytest in a subprocess against a SCRATCH data folder (TRACEGRAPH_DATA_DIR, the
working directory and pytest's --basetemp, where the tests' own embedded databases live, point
into it; TRACEGRAPH_DATABASE_URL and every other TRACEGRAPH_ variable are removed): the live
data folder is never opened. `from_junit` reads a JUnit XML file
of a test run (CI: `make test` writes one), so CI does not run the tests twice.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from tracegraph.validation.iq import package_root
from tracegraph.validation.tags import function_id

Outcome = Literal["passed", "failed", "error", "skipped"]


class CaseResult(BaseModel):
    nodeid: str
    outcome: Outcome
    duration: float = 0.0
    requirements: list[str] = Field(default_factory=list)
    message: str = ""

    @property
    def function(self) -> str:
        return function_id(self.nodeid)


class OQResult(BaseModel):
    source: str
    command: list[str] = Field(default_factory=list)
    scratch_dir: str = ""
    exit_status: int | None = None
    seconds: float = 0.0
    tests: list[CaseResult]

    def counts(self) -> dict[str, int]:
        out = {"tests": len(self.tests)}
        for o in ("passed", "failed", "error", "skipped"):
            out[o] = sum(1 for t in self.tests if t.outcome == o)
        return out


def default_tests_dir() -> Path | None:
    """The test suite next to the package (a source checkout or an unpacked sdist)."""
    cand = package_root().parent / "tests"
    return cand if (cand / "conftest.py").exists() else None


def run_oq(tests_dir: Path, *, selection: list[str] | None = None, scratch: Path | None = None,
           timeout_s: float = 6 * 3600) -> OQResult:
    """Run the tagged tests (or `selection`: node ids or paths relative to the source root) on scratch data."""
    src_root = tests_dir.resolve().parent
    scratch = Path(scratch or tempfile.mkdtemp(prefix="tracegraph-oq-"))
    scratch.mkdir(parents=True, exist_ok=True)
    report = scratch / "oq-results.json"
    targets = [str(src_root / s) for s in selection] if selection else [str(tests_dir.resolve()), "-m", "req"]
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "tracegraph.validation.pytest_plugin",
           "--tg-report", str(report), "--rootdir", str(src_root), "-c", str(src_root / "pyproject.toml"),
           "--basetemp", str(scratch / "tmp"), *targets]
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRACEGRAPH_")}
    env.update({"TRACEGRAPH_DATA_DIR": str(scratch / "data"), "TRACEGRAPH_DATABASE_URL": "",
                "PYTHONPATH": str(package_root().parent) + os.pathsep + env.get("PYTHONPATH", "")})
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=scratch, env=env, capture_output=True, text=True, timeout=timeout_s)
    (scratch / "pytest-output.txt").write_text(proc.stdout + proc.stderr, encoding="utf-8")
    if not report.exists():
        raise RuntimeError(f"the OQ test run wrote no results (exit {proc.returncode}): {(proc.stdout + proc.stderr)[-1500:]}")
    data = json.loads(report.read_text(encoding="utf-8"))
    return OQResult(source="pytest run by tracegraph validate", command=cmd, scratch_dir=str(scratch),
                    exit_status=data["exit_status"], seconds=round(time.perf_counter() - t0, 1),
                    tests=[CaseResult(**t) for t in data["tests"]])


def _nodeid(classname: str, name: str) -> str:
    parts = classname.split(".")
    cls = [p for p in parts if p[:1].isupper()]
    mod = [p for p in parts if not p[:1].isupper()]
    return "/".join(mod) + ".py::" + "::".join([*cls, name])


def from_junit(path: Path, static_tags: dict[str, list[str]] | None = None) -> OQResult:
    """Results of a test run from its JUnit XML; requirement ids from each case's `req` property
    (written by tests/conftest.py), else from the static tags of the test sources."""
    root = ET.parse(path).getroot()
    tests = []
    for case in root.iter("testcase"):
        nodeid = _nodeid(case.get("classname", ""), case.get("name", ""))
        outcome: Outcome = "passed"
        message = ""
        for child in case:
            if child.tag in ("failure", "error"):
                outcome = "failed" if child.tag == "failure" else "error"
                message = (child.get("message") or "")[:2000]
            elif child.tag == "skipped" and outcome == "passed":
                outcome = "skipped"
        reqs = [p.get("value", "") for p in case.iter("property") if p.get("name") == "req"]
        ids = sorted({r for v in reqs for r in v.split()}) or (static_tags or {}).get(function_id(nodeid), [])
        tests.append(CaseResult(nodeid=nodeid, outcome=outcome, duration=float(case.get("time") or 0),
                                requirements=ids, message=message))
    return OQResult(source=f"JUnit XML of a test run: {path}", tests=tests)


__all__ = ["CaseResult", "OQResult", "run_oq", "from_junit", "default_tests_dir"]
