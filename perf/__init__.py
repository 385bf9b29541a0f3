"""Benchmarks for tracegraph, with their baselines measured in the same run.

`python -m perf run --size S|M` times the traceability questions (lot, supplier and equipment
impact, backward trace) on tracegraph and on SQLite, networkx and scipy over the same plant,
checks that every system gives the same answer, and writes perf/results/. See docs/perf.md.
`perf.harness` is the reusable part (timing, result files, cached plants) for other benchmarks.
"""
