"""File modes of the embedded data folder: secrets and keys readable by their owner only.

The data folder holds the signing key (keys/), login sessions, demo credentials and the database
files (password hashes and tokens live in the graph). Every folder in it must be 0700 and every
file 0600 (the socket aside, which redis creates with --unixsocketperm 700). Decision
(docs/operations.md): at start (`tracegraph db start`, `open_store` for the embedded database)
modes that are too open are FIXED and each fix is reported as a warning naming the path; a path
that cannot be fixed (another owner) is an error, since the folder then is not ours to protect.
"""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from tracegraph.engine.errors import ConfigurationError

log = logging.getLogger("tracegraph.data_dir")

DIR_MODE = 0o700
FILE_MODE = 0o600


def private_dir(path: Path | str) -> Path:
    """Create `path` (and missing parents) owner-only (0700). An existing folder keeps its mode,
    unless it is one this call made: what a caller passes as an output folder is theirs to choose."""
    p = Path(path)
    missing = [p, *p.parents]
    missing = [d for d in missing if not d.exists()]
    p.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
    for d in missing:  # mkdir's mode is masked by the umask: set it outright
        os.chmod(d, DIR_MODE)
    return p


@contextmanager
def private_open(path: Path | str, mode: str = "wb", **kwargs: Any) -> Iterator[IO[Any]]:
    """Open `path` for writing as an owner-only file (0600) from its creation on, never readable
    by others even for a moment: recall letters, customer lists and drill reports name customers
    and their contacts, and land in the data folder, whose start-up check (`enforce`) would
    otherwise find them too open. An existing file is tightened before it is rewritten."""
    if "r" in mode or "+" in mode:
        raise ValueError(f"private_open writes only, not mode {mode!r}")
    flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if "a" in mode else os.O_TRUNC)
    fd = os.open(path, flags, FILE_MODE)
    try:
        os.fchmod(fd, FILE_MODE)
        fh = os.fdopen(fd, mode, **kwargs)
    except BaseException:
        os.close(fd)
        raise
    with fh:
        yield fh


def write_private(path: Path | str, data: bytes | str, encoding: str = "utf-8") -> Path:
    """Write bytes or text to an owner-only file (see `private_open`)."""
    with private_open(path, "wb") as fh:
        fh.write(data.encode(encoding) if isinstance(data, str) else data)
    return Path(path)


def too_open(data_dir: Path | str) -> list[tuple[Path, int, int]]:
    """(path, current mode, wanted mode) of every file or folder under `data_dir` (itself included)
    that group or others may read, write or enter. Sockets and symlinks are skipped."""
    root = Path(data_dir)
    out: list[tuple[Path, int, int]] = []
    if not root.exists():
        return out
    todo = [root]
    while todo:
        p = todo.pop()
        try:
            st = p.lstat()
        except FileNotFoundError:
            continue
        mode = stat.S_IMODE(st.st_mode)
        if stat.S_ISDIR(st.st_mode):
            if mode & 0o077:
                out.append((p, mode, DIR_MODE))
            try:
                todo.extend(p.iterdir())
            except PermissionError:
                out.append((p, mode, DIR_MODE))
        elif stat.S_ISREG(st.st_mode) and mode & 0o077:
            out.append((p, mode, FILE_MODE))
    return sorted(out)


def enforce(data_dir: Path | str) -> list[str]:
    """Tighten every too-open mode under `data_dir`; returns one message per fix (also logged as a
    warning). Raises ConfigurationError for a path this user cannot change."""
    fixed: list[str] = []
    for path, mode, want in too_open(data_dir):
        try:
            os.chmod(path, want)
        except PermissionError as exc:
            raise ConfigurationError(
                f"{path} has mode {mode:04o} and cannot be restricted to {want:04o}: {exc}",
                hint="the data folder and everything in it must belong to the user that runs tracegraph",
            ) from None
        fixed.append(f"{path}: mode {mode:04o} was too open for a secret; set to {want:04o}")
    if fixed:  # one warning, not one per file: a drill leaves dozens of letters behind
        more = f" (and {len(fixed) - 3} more)" if len(fixed) > 3 else ""
        log.warning("%d path(s) in %s were readable by others and are now owner-only: %s%s", len(fixed), data_dir,
                    "; ".join(fixed[:3]), more)
    return fixed
