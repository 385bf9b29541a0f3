"""An EPCIS import in a process of its own that kills itself (SIGKILL) just before the first write
of the containment derivation (phase "derive"), after the run's log was applied: the crash
between an import's commit and its containers' contents following them (tests/test_containers.py,
tests/test_epcis_retract.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

KILLER = r"""
import os, signal, sys
from pathlib import Path
from tracegraph.engine.audit.chain import Actor
from tracegraph.engine.imports.runner import SourceFile
from tracegraph.engine.stores.falkordb import FalkorDBStore
from tracegraph.loaders.epcis import load_epcis, run_epcis_import
sock, graph, doc = sys.argv[1:4]
store = FalkorDBStore(unix_socket_path=sock, graph=graph)
def progress(phase, done, total):
    if phase == "derive":
        os.kill(os.getpid(), signal.SIGKILL)
run_epcis_import(store, load_epcis(doc, store), Actor(id="u-killed", name="Killed Import"),
                 source_files=[SourceFile.of_path(Path(doc))], progress=progress)
print("FINISHED WITHOUT BEING KILLED")
"""


def kill_in_derivation(store: Any, doc: Path) -> str:
    """Import `doc` into `store` in a child process killed at the derivation; the unfinished run's id."""
    from tracegraph.engine.imports.runner import unfinished_imports

    root = Path(__file__).resolve().parent.parent
    proc = subprocess.run([sys.executable, "-c", KILLER, str(store.server.socket_path), store.graph_name, str(doc)],
                          capture_output=True, text=True, timeout=240, env={**os.environ, "PYTHONPATH": str(root)})
    assert proc.returncode == -9, (proc.returncode, proc.stdout, proc.stderr[-2000:])
    (run,) = unfinished_imports(store)
    return str(run.id)
