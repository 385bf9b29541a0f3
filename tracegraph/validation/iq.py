"""Installation qualification: is tracegraph installed as specified on this machine?

Records what an inspector asks first: the versions of tracegraph, Python and every installed
distribution (and whether each declared dependency satisfies its range), the database server's
version and durability settings, the schema's indexes and uniqueness constraints, the file
modes of keys and secrets in the data folder, the time source, and the build's hash.
Read-only: nothing is written anywhere.
"""

from __future__ import annotations

import hashlib
import importlib.metadata as md
import os
import platform
import re
import stat
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

import tracegraph

Status = Literal["pass", "fail", "warn", "info"]


class Check(BaseModel):
    """One IQ check: what was expected, what was found."""

    area: str
    name: str
    status: Status
    expected: str = ""
    actual: str = ""
    note: str = ""


class IQResult(BaseModel):
    ok: bool
    checks: list[Check]
    tracegraph: str
    python: str
    platform: str
    packages: dict[str, str]
    database: dict[str, Any] = Field(default_factory=dict)
    time_source: dict[str, Any] = Field(default_factory=dict)
    build: dict[str, str] = Field(default_factory=dict)


# ------------------------------------------------------------------------------ build hash
def package_root() -> Path:
    return Path(tracegraph.__file__).resolve().parent


def package_sha256(root: Path | None = None) -> str:
    """SHA-256 over the installed package's files (sorted relative path + content; caches skipped)."""
    root = root or package_root()
    h = hashlib.sha256()
    for p in sorted(root.rglob("*")):
        if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc":
            h.update(p.relative_to(root).as_posix().encode() + b"\0")
            h.update(hashlib.sha256(p.read_bytes()).digest())
    return h.hexdigest()


def build_identity() -> dict[str, str]:
    """The git commit (and whether the tree has local changes) when the package runs from a
    checkout, and always the SHA-256 of the installed package files."""
    out = {"tracegraph": tracegraph.__version__, "package_sha256": package_sha256()}
    src = package_root().parent
    try:
        commit = subprocess.run(["git", "-C", str(src), "rev-parse", "HEAD"], capture_output=True, text=True,
                                timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(src), "status", "--porcelain", "--", "tracegraph"],
                               capture_output=True, text=True, timeout=10).stdout.strip()
        out["git_commit"] = commit
        out["git_dirty"] = "yes" if dirty else "no"
    except (OSError, subprocess.SubprocessError):
        pass
    out["hash"] = out.get("git_commit", "") + ("+dirty" if out.get("git_dirty") == "yes" else "") or \
        "sha256:" + out["package_sha256"]
    return out


# ------------------------------------------------------------------------------ packages
def installed_packages() -> dict[str, str]:
    return dict(sorted({(d.metadata["Name"] or "?").lower(): d.version for d in md.distributions()}.items()))


def dependency_checks() -> list[Check]:
    """Every dependency tracegraph declares (without extras): installed, and inside its range."""
    from packaging.requirements import Requirement  # ships with pip/setuptools on every installation

    out = []
    for spec in md.requires("tracegraph") or []:
        if "extra ==" in spec:
            continue
        req = Requirement(spec)
        if req.marker is not None and not req.marker.evaluate():
            continue
        name, rng = req.name, str(req.specifier)
        try:
            ver = md.version(name)
        except md.PackageNotFoundError:
            out.append(Check(area="packages", name=name, status="fail", expected=rng, actual="not installed"))
            continue
        ok = req.specifier.contains(ver, prereleases=True)
        out.append(Check(area="packages", name=name, status="pass" if ok else "fail", expected=rng or "any", actual=ver))
    return out


# ------------------------------------------------------------------------------ database
def _schema_statements() -> list[tuple[str, str]]:
    from tracegraph import queries

    out = []
    for stmt in queries.statements("schema.falkordb"):
        m = re.search(r"CREATE INDEX FOR \(n:(\w+)\) ON \(n\.(\w+)\)", stmt)
        if m:
            out.append((m.group(1), m.group(2)))
    return out


def database_checks(store: Any) -> tuple[list[Check], dict[str, Any]]:
    from tracegraph import queries

    facts_of = getattr(store, "server_facts", None)
    if facts_of is None:
        return [Check(area="database", name="server", status="warn", actual=type(store).__name__,
                      note="this backend reports no server facts; check its durability settings by its own means")], {}
    facts = facts_of()
    checks = [
        Check(area="database", name="server version", status="info", actual=str(facts.get("redis_version"))),
        *[Check(area="database", name=f"module {m['name']}", status="info", actual=str(m["ver"]))
          for m in facts.get("modules", [])],
        Check(area="database", name="appendonly", status="pass" if facts.get("appendonly") == "yes" else "fail",
              expected="yes", actual=str(facts.get("appendonly")), note="append-only file: the durable data"),
        Check(area="database", name="appendfsync", status="pass" if facts.get("appendfsync") == "always" else "fail",
              expected="always", actual=str(facts.get("appendfsync")),
              note="fsync on every write (everysec may lose up to 1 s of acknowledged writes: test data only)"),
    ]
    have_idx = {(i["label"], p) for i in facts.get("indexes", []) for p in i["properties"]}
    missing_idx = [f"{lbl}.{p}" for lbl, p in _schema_statements() if (lbl, p) not in have_idx]
    checks.append(Check(area="schema", name="indexes", status="fail" if missing_idx else "pass",
                        expected=f"{len(_schema_statements())} indexes of schema/falkordb.cypher",
                        actual="missing: " + ", ".join(missing_idx) if missing_idx else f"{len(have_idx)} in place"))
    have_c = {(c["label"], p) for c in facts.get("constraints", []) if c.get("status") == "OPERATIONAL"
              for p in c["properties"]}
    wanted = queries.unique_keys()
    missing_c = [f"{lbl}.{p}" for lbl, p in wanted if (lbl, p) not in have_c]
    checks.append(Check(area="schema", name="uniqueness constraints", status="fail" if missing_c else "pass",
                        expected=f"{len(wanted)} operational (schema/unique_keys.txt)",
                        actual="missing: " + ", ".join(missing_c) if missing_c else f"{len(wanted)} operational"))
    return checks, facts


# ------------------------------------------------------------------------------ files
SECRET_NAMES = ("session.json", "demo-credentials.json")


def file_checks(data_dir: Path) -> list[Check]:
    """Keys and secrets must be private: directories 0700, files 0600 (no group/other bits)."""
    data_dir = Path(data_dir)
    if not data_dir.exists():
        return [Check(area="files", name="data folder", status="warn", actual=f"{data_dir} does not exist")]
    out = [Check(area="files", name="data folder", status="pass" if not data_dir.stat().st_mode & 0o007 else "warn",
                 expected="no access for others", actual=f"{data_dir} {stat.filemode(data_dir.stat().st_mode)}",
                 note="the database files live here")]
    secrets: list[Path] = [p for p in (data_dir / n for n in SECRET_NAMES) if p.exists()]
    keys = data_dir / "keys"
    if keys.is_dir():
        mode = stat.S_IMODE(keys.stat().st_mode)
        out.append(Check(area="files", name="keys/", status="pass" if mode & 0o077 == 0 else "fail",
                         expected="0700", actual=oct(mode)))
        secrets += [p for p in keys.iterdir() if p.is_file() and ".pub" not in p.name]
    for p in sorted(secrets):
        mode = stat.S_IMODE(p.stat().st_mode)
        out.append(Check(area="files", name=str(p.relative_to(data_dir)), status="pass" if mode & 0o077 == 0 else "fail",
                         expected="0600", actual=oct(mode)))
    return out


# ------------------------------------------------------------------------------ time
def time_source(display_tz: str) -> tuple[list[Check], dict[str, Any]]:
    now = datetime.now(UTC)
    local = datetime.now().astimezone()
    facts: dict[str, Any] = {"utc_now": now.isoformat(timespec="seconds"), "local_now": local.isoformat(timespec="seconds"),
                             "local_zone": str(local.tzinfo), "tz_env": os.environ.get("TZ", ""),
                             "display_timezone": display_tz, "monotonic_clock": time.get_clock_info("monotonic").implementation,
                             "storage": "ISO 8601 UTC (engine/clock.py SystemClock)"}
    checks = [Check(area="time", name="system clock (UTC)", status="info", actual=facts["utc_now"],
                    note=f"local {facts['local_now']} ({facts['local_zone']}); display timezone {display_tz}")]
    try:
        r = subprocess.run(["timedatectl", "show", "-p", "NTPSynchronized", "--value"], capture_output=True, text=True,
                           timeout=5)
        synced = r.stdout.strip()
        if r.returncode == 0 and synced:
            facts["ntp_synchronized"] = synced
            checks.append(Check(area="time", name="NTP synchronised", status="pass" if synced == "yes" else "warn",
                                expected="yes", actual=synced))
    except (OSError, subprocess.SubprocessError):
        pass
    if "ntp_synchronized" not in facts:
        checks.append(Check(area="time", name="NTP synchronised", status="warn", actual="unknown",
                            note="timedatectl not available: confirm the time source by the host's own means"))
    return checks, facts


def run_iq(store: Any, data_dir: Path, display_tz: str) -> IQResult:
    checks = [Check(area="python", name="Python >= 3.11", status="pass" if sys.version_info >= (3, 11) else "fail",
                    expected=">= 3.11", actual=platform.python_version())]
    checks += dependency_checks()
    db_checks, facts = database_checks(store) if store is not None else (
        [Check(area="database", name="server", status="fail", actual="not reachable")], {})
    checks += db_checks
    checks += file_checks(data_dir)
    t_checks, t_facts = time_source(display_tz)
    checks += t_checks
    return IQResult(ok=not any(c.status == "fail" for c in checks), checks=checks, tracegraph=tracegraph.__version__,
                    python=sys.version.split()[0], platform=platform.platform(), packages=installed_packages(),
                    database={k: v for k, v in facts.items() if k not in ("indexes", "constraints")},
                    time_source=t_facts, build=build_identity())


__all__ = ["Check", "IQResult", "run_iq", "build_identity", "package_sha256", "installed_packages",
           "dependency_checks", "database_checks", "file_checks", "time_source"]
