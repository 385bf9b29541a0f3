"""A pytest plugin that writes each test's outcome and requirement tags as JSON (the OQ run).

Loaded by `tracegraph validate` with `-p tracegraph.validation.pytest_plugin --tg-report PATH`.
Why our own: the report needs exactly nodeid, outcome, duration and the `req` markers, and no
third-party plugin needs installing on a validated machine.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--tg-report", default=None, help="write test outcomes and requirement tags as JSON here")


class _Recorder:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.tags: dict[str, list[str]] = {}
        self.results: dict[str, dict[str, Any]] = {}
        self.started = time.time()

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        for item in items:
            self.tags[item.nodeid] = sorted({r for m in item.iter_markers("req") for r in m.args})

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        res = self.results.setdefault(report.nodeid, {"nodeid": report.nodeid, "outcome": "passed", "duration": 0.0})
        res["duration"] = round(res["duration"] + report.duration, 4)
        if report.when == "call":
            if report.failed:
                res["outcome"] = "failed"
            elif report.skipped and res["outcome"] == "passed":
                res["outcome"] = "skipped"
        elif report.failed:  # setup/teardown failure
            res["outcome"] = "error"
        elif report.skipped and report.when == "setup":
            res["outcome"] = "skipped"
        if report.failed and "message" not in res:
            res["message"] = str(report.longrepr)[-2000:]

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        tests = [{**r, "requirements": self.tags.get(n, [])} for n, r in self.results.items()]
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(json.dumps({"exit_status": int(exitstatus), "started": self.started,
                                         "finished": time.time(), "tests": tests}, indent=1), encoding="utf-8")


def pytest_configure(config: pytest.Config) -> None:
    path = config.getoption("--tg-report")
    if path:
        config.pluginmanager.register(_Recorder(Path(path)), "tracegraph-validation-recorder")
