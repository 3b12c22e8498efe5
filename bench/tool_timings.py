"""Benchmark: the tool's own speed budgets, checked here rather than in the tests.

Wall-clock limits in tests fail on a loaded machine (two cores shared by several jobs) and pass on a fast one
whatever the code does, so the tests only record their timings (tests/conftest.py prints them) and the budgets
live here: lint of the SPEC-131 spec under 2 s, introspection of the SPEC-131 database (verify --db) under 1 s,
`check` of a checked value list of 40,000 values under 5 s (it took 26 s when the duplicate check was quadratic),
each the median of REPEAT runs. Run with `make bench-tools`; exit 1 when a budget is exceeded. Writes
bench/TIMINGS.md.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from generator import introspect, live  # noqa: E402
from generator.check import check  # noqa: E402
from generator.drift import scope  # noqa: E402
from generator.lint import lint  # noqa: E402
from generator.load import load_spec  # noqa: E402
from generator.pipeline import build  # noqa: E402

REPEAT = 5
# (what, budget in seconds): the limits the tests used to assert.
BUDGETS = {"lint of the SPEC-131 spec": 2.0, "introspection of the SPEC-131 database": 1.0,
           "check of a 40,000-value list": 5.0}


def median_seconds(run: Callable[[], object]) -> float:
    samples = []
    for _ in range(REPEAT):
        started = time.perf_counter()
        run()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def main() -> int:
    catalog = build(ROOT / "spec").catalog
    measured = {"lint of the SPEC-131 spec": median_seconds(lambda: lint(catalog))}
    with tempfile.TemporaryDirectory() as tmp:
        spec = Path(tmp)
        values = ", ".join(f"v{i}" for i in range(40_000))
        (spec / "01-big.yaml").write_text(f"module: Big\nenums:\n  big: [{values}]\n", encoding="utf-8")
        big = load_spec(spec)
        measured["check of a 40,000-value list"] = median_seconds(lambda: check(big))
    server = live.start_server()
    name = f"pgspec_bench_{uuid.uuid4().hex[:8]}"
    dsn = live.create_database(server, name)
    try:
        live.apply_sql(dsn, (ROOT / "output" / "schema.sql").read_text(encoding="utf-8"))
        schemas, roles, _ = scope(catalog)
        with introspect.connect(dsn) as conn:
            measured["introspection of the SPEC-131 database"] = median_seconds(
                lambda: introspect.read(conn, schemas, roles))
    finally:
        live.drop_database(server, name)
    lines = [f"# Tool timings (median of {REPEAT} runs, `make bench-tools`)", "",
             "| what | median (ms) | budget (ms) | within |", "|---|---|---|---|"]
    over = []
    for what, seconds in measured.items():
        budget = BUDGETS[what]
        lines.append(f"| {what} | {1000 * seconds:.0f} | {1000 * budget:.0f} | {'yes' if seconds < budget else 'NO'} |")
        if seconds >= budget:
            over.append(what)
    text = "\n".join(lines) + "\n"
    print(text)
    (ROOT / "bench" / "TIMINGS.md").write_text(text, encoding="utf-8")
    if over:
        print(f"over budget: {', '.join(over)}", file=sys.stderr)
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
