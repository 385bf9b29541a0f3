"""perf/bench_epcis_capture.py end to end at a tiny size: a real `tracegraph serve`, a
capture_device user logging in over REST, documents and single events captured over HTTP, every
event stored and the audit chain clean. No timings are judged here (those are the bench's)."""

from __future__ import annotations

import json
from pathlib import Path

from perf import bench_epcis_capture


def test_the_capture_bench_captures_every_event_over_http(tmp_path: Path) -> None:
    out = bench_epcis_capture.main(["--serials", "40", "--doc-events", "40", "--single", "6",
                                    "--results", str(tmp_path)])
    assert out["check"]["events_stored"] == out["check"]["events_sent"] == out["events"] > 46
    assert out["check"]["audit_verify_ok"] is True
    rows = {r["what"].split(",")[0]: r for r in out["rows"]}
    assert rows["POST /epcis/capture"]["documents"] >= 2 and rows["POST /epcis/events"]["events"] == 6
    assert all(r["events_per_s"] > 0 for k, r in rows.items() if k.startswith("POST"))
    saved = json.loads((tmp_path / "epcis-capture-40.json").read_text())
    assert saved["events"] == out["events"]
