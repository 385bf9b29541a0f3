"""Named Cypher queries, kept as data: `queries/<area>/<name>.cypher` is loaded as `area.name`.

A line `//#include area.name` is replaced by that fragment (static text shipped with the
package, never user input), so every audited write shares one audit-append fragment.
Values always travel as `$parameters`.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from tracegraph.engine.errors import QueryNotFound

QUERY_DIR = Path(__file__).resolve().parent
_INCLUDE = re.compile(r"^\s*//#include\s+([\w.]+)\s*$", re.MULTILINE)


def _path(name: str) -> Path:
    parts = name.split(".")
    return QUERY_DIR.joinpath(*parts[:-1], parts[-1] + ".cypher")


@cache
def load(name: str) -> str:
    """Return the text of the named query with includes expanded."""
    path = _path(name)
    if not path.is_file():
        raise QueryNotFound(
            f"no query named {name!r} (looked for {path})",
            hint="query names are <folder>.<file> under tracegraph/queries/",
        )
    text = path.read_text(encoding="utf-8")

    def expand(m: re.Match[str]) -> str:
        if m.group(1) == name:
            raise QueryNotFound(f"query {name!r} includes itself")
        return load(m.group(1)).strip()

    return _INCLUDE.sub(expand, text).strip()


def names() -> list[str]:
    """Every named query (fragments and schema files included)."""
    out = []
    for p in sorted(QUERY_DIR.rglob("*.cypher")):
        rel = p.relative_to(QUERY_DIR).with_suffix("")
        out.append(".".join(rel.parts))
    return out


def unique_keys() -> list[tuple[str, str]]:
    """(label, property) of every uniqueness constraint, from `schema/unique_keys.txt`."""
    out: list[tuple[str, str]] = []
    for line in (QUERY_DIR / "schema" / "unique_keys.txt").read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            label, prop = line.split()
            out.append((label, prop))
    return out


def statements(name: str) -> list[str]:
    """Split a multi-statement file (schema files) on lines ending with ';'."""
    text = load(name)
    lines = [ln for ln in text.splitlines() if not ln.strip().startswith("//")]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]


def write_generated(area: str, texts: dict[str, str]) -> list[Path]:
    """Write generated query files `<area>/<name>.cypher` that are missing or differ; returns
    those written. For the modules that render per-label queries from the model (Cypher has no
    parameterised labels); each has a test that the shipped files are current."""
    directory = QUERY_DIR / area
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in texts.items():
        path = directory / f"{name}.cypher"
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            written.append(path)
    return written
