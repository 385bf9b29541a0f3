"""`tracegraph demo` (the quick start's main job) end to end on a small plant, in its own data
folder with its own embedded server: plant, impact from the trace index (checked against the
graph inside the command), mock recall that leaves real data untouched."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner


def test_demo_runs_end_to_end(tmp_path: Path) -> None:
    from tracegraph.cli import app

    runner = CliRunner()
    env = {"TRACEGRAPH_DATA_DIR": str(tmp_path / "data"), "TRACEGRAPH_DATABASE_URL": "", "TRACEGRAPH_GRAPH": "demo"}
    try:
        res = runner.invoke(app, ["demo", "--serials", "1500", "--no-serve", "--json"], env=env)
        assert res.exit_code == 0, res.stdout + str(res.exception)
        data = json.loads(res.stdout)
        imp = data["impact"]
        # answered by the trace index; the command itself refuses to go on if the graph disagrees
        assert imp["engine"] == "index" and imp["trace_index"]["nodes"] > 1500
        assert imp["counts"]["serials"] > 0 and imp["graph_only_ms"] > 0
        assert data["plant"]["serials"] == 1500
        mr = data["mock_recall"]
        assert mr["real_data_untouched"] is True and Path(mr["report_pdf"]).is_file()
        assert (tmp_path / "data" / "demo-credentials.json").is_file()
    finally:
        runner.invoke(app, ["db", "stop"], env=env)
