"""XLSX writers on a regulator sheet: the hand-written SpreadsheetML writer against XlsxWriter's
constant-memory mode (and openpyxl's write-only mode as a second reference), same rows, same run.

    python -m perf.bench_xlsx                  # 100k rows x 16 columns, 3 repeats
    python -m perf.bench_xlsx --rows 20000 --repeat 1

Why: issue 13 asks to prefer a kept library unless it is more than 2x slower. Each writer writes
the same rows (the regulator sheet's 16 columns: ids, statuses, customer names incl. Chinese,
dates, quantities) to a temporary file; the file is read back with openpyxl (row count and one
cell) so that a writer that writes nothing cannot win. Prints median seconds and the ratio to the
hand-written writer; writes JSON to perf/results/xlsx-<rows>.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

COLUMNS = ["serial", "udi", "product", "batch", "lot", "status", "customer", "customer_kind", "country",
           "warehouse", "shipment", "shipped_at", "delivered_at", "qty", "expiry", "path"]
RESULTS = Path(__file__).resolve().parent / "results"


def rows(n: int) -> list[list[Any]]:
    out: list[list[Any]] = []
    for i in range(n):
        out.append([f"SN-{i:08d}", f"(01)0481234567890{i % 10}(21)SN-{i:08d}", "PUMP-200", f"B-{i // 500:05d}",
                    f"LOT-{i // 5000:04d}", ("in_stock", "at_distributor", "at_end_user")[i % 3],
                    ("苏州市立医院", "Nordic Medical AB", "City Hospital")[i % 3], "hospital", ("CN", "SE", "US")[i % 3],
                    f"WH-{i % 4}", f"SHP-{i // 50:06d}", "2026-03-01", "2026-03-03", 1, "2028-12-31",
                    f"SUP-0003 > LOT-{i // 5000:04d} > B-{i // 500:05d} > SN-{i:08d}"])
    return out


def hand_written(path: Path, data: Sequence[Sequence[Any]]) -> None:
    from tracegraph.engine.recall.xlsx import write_xlsx

    write_xlsx(path, COLUMNS, data, sheet="units")


def xlsxwriter_constant_memory(path: Path, data: Sequence[Sequence[Any]]) -> None:
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_numbers": False,
                                         "strings_to_formulas": False, "strings_to_urls": False})
    ws = wb.add_worksheet("units")
    ws.freeze_panes(1, 0)
    ws.write_row(0, 0, COLUMNS)
    for r, row in enumerate(data, 1):
        ws.write_row(r, 0, row)
    ws.autofilter(0, 0, len(data), len(COLUMNS) - 1)
    wb.close()


def xlsxwriter_typed(path: Path, data: Sequence[Sequence[Any]]) -> None:
    """XlsxWriter's best case: constant memory, each cell written with its typed method (no dispatch)."""
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    ws = wb.add_worksheet("units")
    ws.freeze_panes(1, 0)
    ws.write_row(0, 0, COLUMNS)
    ws_str, ws_num = ws.write_string, ws.write_number
    for r, row in enumerate(data, 1):
        for c, v in enumerate(row):
            if isinstance(v, str):
                ws_str(r, c, v)
            elif v is not None:
                ws_num(r, c, v)
    ws.autofilter(0, 0, len(data), len(COLUMNS) - 1)
    wb.close()


def openpyxl_write_only(path: Path, data: Sequence[Sequence[Any]]) -> None:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("units")
    ws.append(COLUMNS)
    for row in data:
        ws.append(list(row))
    wb.save(str(path))


WRITERS: dict[str, Callable[[Path, Sequence[Sequence[Any]]], None]] = {
    "hand-written": hand_written,
    "xlsxwriter-constant-memory": xlsxwriter_constant_memory,
    "xlsxwriter-typed-cells": xlsxwriter_typed,
    "openpyxl-write-only": openpyxl_write_only,
}


def check(path: Path, n: int) -> None:
    from openpyxl import load_workbook

    wb = load_workbook(str(path), read_only=True)
    ws = wb["units"]
    all_rows: list[Iterable[Any]] = list(ws.iter_rows(values_only=True))
    assert len(all_rows) == n + 1, f"{path.name}: {len(all_rows)} rows, expected {n + 1}"
    first = list(all_rows[-1])[0]
    assert first == f"SN-{n - 1:08d}", f"{path.name}: last row starts with {first!r}"


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--skip-openpyxl", action="store_true", help="openpyxl is by far the slowest")
    args = ap.parse_args(argv)
    data = rows(args.rows)
    out: dict[str, Any] = {"rows": args.rows, "columns": len(COLUMNS), "repeat": args.repeat, "seconds": {},
                           "bytes": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for name, fn in WRITERS.items():
            if name == "openpyxl-write-only" and args.skip_openpyxl:
                continue
            times = []
            for k in range(args.repeat):
                path = Path(tmp) / f"{name}-{k}.xlsx"
                t0 = time.perf_counter()
                fn(path, data)
                times.append(time.perf_counter() - t0)
                if k == 0:
                    check(path, args.rows)
                    out["bytes"][name] = path.stat().st_size
            out["seconds"][name] = statistics.median(times)
            print(f"{name:28s} {out['seconds'][name]:7.2f} s  {out['bytes'][name] / 1e6:6.1f} MB", flush=True)
    base = out["seconds"]["hand-written"]
    out["ratio_to_hand_written"] = {k: round(v / base, 2) for k, v in out["seconds"].items()}
    for k, v in out["ratio_to_hand_written"].items():
        print(f"{k:28s} {v:5.2f}x the hand-written writer")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"xlsx-{args.rows}.json").write_text(json.dumps(out, indent=2) + "\n")
    return out


if __name__ == "__main__":
    main()
