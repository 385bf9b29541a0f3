"""The ERP bundle: a folder or a zip of CSV (or JSON Lines) files, one per record type
(`suppliers.csv`, `material_lots.csv`, ...; see docs/bundle.md), read into an ImportBatch.

Every row of every file is validated before anything is written; all problems are collected
and raised together as one ValidationFailed (file, row, field, value, what was expected), so
a user fixes the export once instead of once per error.

Row numbers are spreadsheet rows: the header is row 1, the first record row 2. JSON Lines
records are counted by line.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from pydantic import ValidationError

from tracegraph.engine.errors import Problem, ValidationFailed
from tracegraph.engine.imports.runner import ImportBatch, SourceFile, gc_paused
from tracegraph.engine.model import RECORD_TYPES, Record, problems_from

#: stop collecting after this many problems (the report says so); every file is still read
MAX_PROBLEMS = 100_000
csv.field_size_limit(16 * 1024 * 1024)


@dataclass
class Bundle:
    """What a bundle held: the records, the files (with SHA-256) and notes for the user."""

    batch: ImportBatch
    files: list[SourceFile]
    notes: list[str] = field(default_factory=list)


def required_columns(cls: type[Record]) -> list[str]:
    out = []
    for name, f in cls.model_fields.items():
        if f.is_required():
            out.append(f.alias or name)
    return out


def columns(cls: type[Record]) -> list[str]:
    return [f.alias or name for name, f in cls.model_fields.items()]


class _Source:
    """A folder or zip, listed as {file name: opener}."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._zip: zipfile.ZipFile | None = None
        if path.is_dir():
            self.names = {p.name: p for p in sorted(path.iterdir()) if p.is_file()}
        elif path.is_file() and zipfile.is_zipfile(path):
            self._zip = zipfile.ZipFile(path)
            self.names = {}
            for info in self._zip.infolist():
                base = info.filename.rsplit("/", 1)[-1]
                if info.is_dir() or not base or info.filename.startswith("__MACOSX/") or base.startswith("._"):
                    continue
                self.names[base] = info  # type: ignore[assignment]
        else:
            raise ValidationFailed(
                f"{path} is neither a folder nor a zip file",
                [Problem(record="", field="path", message="expected a folder or a .zip of CSV/JSONL files",
                         value=str(path), source=str(path))],
                hint="point `tracegraph import` at the export folder or its zip",
            )

    def read_bytes(self, name: str) -> bytes:
        if self._zip is not None:
            return self._zip.read(self.names[name])  # type: ignore[arg-type]
        return Path(self.names[name]).read_bytes()

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()


def _rows_csv(text: IO[str]) -> Iterator[tuple[int, dict[str, str] | None, list[str] | None]]:
    """(row number, row) pairs; first yields (1, None, header)."""
    reader = csv.reader(text)
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        yield 1, None, []
        return
    yield 1, None, header
    n = 1
    for values in reader:
        n += 1
        if not values or all(not v.strip() for v in values):
            continue
        if len(values) > len(header):
            yield n, {"__too_many__": str(len(values))}, None
            continue
        yield n, {h: v for h, v in zip(header, values) if h and v != ""}, None


def load_bundle(path: str | Path) -> Bundle:
    """Read and validate a bundle folder or zip. Raises ValidationFailed listing every problem."""
    with gc_paused():  # hundreds of thousands of records, no cycles: full collections only cost
        return _load_bundle(path)


def _load_bundle(path: str | Path) -> Bundle:
    src = _Source(Path(path))
    batch = ImportBatch()
    files: list[SourceFile] = []
    notes: list[str] = []
    problems: list[Problem] = []
    try:
        found: dict[str, str] = {}
        for name in src.names:
            stem, _, ext = name.rpartition(".")
            if ext.lower() not in ("csv", "jsonl") or stem not in RECORD_TYPES:
                notes.append(f"ignored {name}: not a bundle file (see docs/bundle.md)")
                continue
            if stem in found:
                problems.append(Problem(record="", field="", source=name,
                                        message=f"both {found[stem]} and {name} given; keep one", value=None))
                continue
            found[stem] = name
        if not found:
            problems.append(Problem(record="", field="", source=str(path), value=None,
                                    message="no bundle files found (expected e.g. suppliers.csv, serials.csv)"))
        for stem in RECORD_TYPES:
            if stem not in found:
                continue
            name = found[stem]
            data = src.read_bytes(name)
            cls = RECORD_TYPES[stem]
            count = _load_file(name, data, cls, batch, problems)
            files.append(SourceFile.of_bytes(name, data, rows=count))
    finally:
        src.close()
    if problems:
        shown = problems[:MAX_PROBLEMS]
        raise ValidationFailed(
            f"the bundle has {len(problems)} problem(s); nothing was written",
            shown,
            hint="fix the listed rows (docs/bundle.md describes every file and column) and import again",
        )
    return Bundle(batch=batch, files=files, notes=notes)


def _load_file(name: str, data: bytes, cls: type[Record], batch: ImportBatch, problems: list[Problem]) -> int:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        problems.append(Problem(record=f"byte {exc.start}", field="", source=name, value=None,
                                message="file is not UTF-8; export it as UTF-8"))
        return 0
    target = getattr(batch, cls.FILE)
    count = 0
    if name.lower().endswith(".jsonl"):
        for n, line in enumerate(io.StringIO(text), start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except ValueError as exc:
                problems.append(Problem(record=f"line {n}", field="", source=name, value=line[:80],
                                        message=f"not valid JSON: {exc}"))
                continue
            if not isinstance(obj, dict):
                problems.append(Problem(record=f"line {n}", field="", source=name, value=None,
                                        message="each line must be one JSON object"))
                continue
            obj = {k: v for k, v in obj.items() if v is not None and v != ""}
            count += 1
            _validate(cls, obj, name, f"line {n}", target, problems)
        return count
    rows = _rows_csv(io.StringIO(text, newline=""))
    _, _, header = next(rows)
    header = header or []
    missing = [c for c in required_columns(cls) if c not in header]
    if cls.__name__ == "DocumentRecord" and "id" in missing:
        missing.remove("id")  # derived from doc_id@version
    for c in missing:
        problems.append(Problem(record="row 1 (header)", field=c, source=name, value=None,
                                message=f"missing column {c!r}; {cls.FILE}.csv needs {', '.join(required_columns(cls))}"))
    dup = sorted({h for h in header if h and header.count(h) > 1})
    for c in dup:
        problems.append(Problem(record="row 1 (header)", field=c, source=name, value=None,
                                message="column appears twice"))
    if missing or dup:
        return 0
    for n, row, _ in rows:
        assert row is not None
        count += 1
        if "__too_many__" in row:
            problems.append(Problem(record=f"row {n}", field="", source=name, value=row["__too_many__"],
                                    message=f"more values than the {len(header)} header columns (a stray comma?)"))
            continue
        _validate(cls, row, name, f"row {n}", target, problems)
    return count


def _validate(cls: type[Record], row: dict[str, Any], name: str, where: str, target: list[Record],
              problems: list[Problem]) -> None:
    try:
        rec = cls.model_validate(row)
    except ValidationError as exc:
        if len(problems) < MAX_PROBLEMS:
            problems.extend(problems_from(exc, source=name, record=where, data=row))
        else:
            problems.append(Problem(record=where, field="", source=name, value=None, message="invalid"))
        return
    rec.located(name, where)
    target.append(rec)


def write_csv_header(cls: type[Record]) -> list[str]:
    """The column order the generator and docs use for a record type."""
    return columns(cls)


__all__ = ["Bundle", "load_bundle", "required_columns", "columns", "write_csv_header", "MAX_PROBLEMS"]
