"""Benchmark: two RLS designs of SPEC-131 on the same data (issue 11, part 4), in one run.

**shared role** is the schema of an earlier commit (default: the last one before the design changed), where staff
and customers both act as `authenticated` and every policy is `TO authenticated`. **staff role** is
output/schema.sql, where staff act as `support_staff`: staff policies are `TO support_staff` only, so a customer's
statement (as authenticated) is planned with the customer policies alone (README, "RLS design"). Both databases
get bench/load.py's data at the same scale, then each read query of bench/load.py runs in its forms, interleaved
round by round: RLS alone and filtered in each design, and the owner's no-RLS limit. Staff act as the role their
design gives them. EXPLAIN (ANALYZE, BUFFERS) of every form is saved under bench/plans/rls_design/.

`make bench-rls-design` (`python bench/rls_design.py --scale 0.2`) rewrites the `rls-design` section of
bench/RESULTS.md and bench/rls_design.json; `--no-write` prints only.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import asdict
from pathlib import Path
from typing import Any

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from load import QUERIES, Form, Sizes, Timing, explain, live, load, measure, ms, pick, ratio, role_of  # noqa: E402
from load import report as load_report  # noqa: E402

# The last commit of SPEC-131 with staff and customers both acting as authenticated.
SHARED_ROLE_COMMIT = "0ea87de"
PLANS = ROOT / "bench" / "plans" / "rls_design"
RAW = ROOT / "bench" / "rls_design.json"
DESIGNS = ("shared", "staff")


def main(argv: list[str]) -> int:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--scale", type=float, default=0.2, help="1 = 200 tenants, 20,000 customers, 1,000,000 tickets")
    p.add_argument("--repeat", type=int, default=30, help="samples per form at most")
    p.add_argument("--budget", type=float, default=10.0, help="seconds per query (all its forms) after 5 rounds")
    p.add_argument("--shared", default=SHARED_ROLE_COMMIT, help="commit whose output/schema.sql is the shared design")
    p.add_argument("--no-write", action="store_true", help="print only")
    p.add_argument("--render", action="store_true", help="rewrite the RESULTS.md section from the raw numbers")
    args = p.parse_args(argv)
    if args.render:
        return report(json.loads(RAW.read_text(encoding="utf-8")), write=True)
    sizes = Sizes.at(args.scale)

    def log(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    schemas = {"shared": subprocess.run(["git", "show", f"{args.shared}:output/schema.sql"], cwd=ROOT, check=True,
                                        capture_output=True, text=True).stdout,
               "staff": (ROOT / "output" / "schema.sql").read_text(encoding="utf-8")}
    started, load_before = time.perf_counter(), os.getloadavg()[0]
    server = live.start_server()
    tag = uuid.uuid4().hex[:8]
    dsns = {d: live.create_database(server, f"pgspec_rls_{d}_{tag}") for d in DESIGNS}
    plans = None if args.no_write else PLANS
    if plans:
        plans.mkdir(parents=True, exist_ok=True)
        for old in plans.glob("*.txt"):
            old.unlink()
    try:
        for d in DESIGNS:
            live.apply_sql(dsns[d], schemas[d])
        with psycopg.connect(dsns["shared"], autocommit=True) as conn:
            anchor = conn.execute("SELECT now()").fetchone()[0]  # type: ignore[index]
        for d in DESIGNS:
            log(f"loading {d}: {sizes}")
            load(dsns[d], sizes, anchor, log)
        conns = {d: psycopg.connect(dsns[d], autocommit=True, prepare_threshold=None) for d in DESIGNS}
        try:
            actors = pick(conns["staff"])
            roles = {d: role_of(conns[d]) for d in DESIGNS}
            reads: dict[str, dict[str, Timing]] = {}
            for q in QUERIES:
                user = actors[q.who]
                forms = []
                for d in DESIGNS:
                    forms.append(Form(f"{d}_rls", conns[d], user, q.rls, actors, role=roles[d][q.who]))
                    if q.filtered:
                        forms.append(Form(f"{d}_filtered", conns[d], user, q.filtered, actors, role=roles[d][q.who]))
                forms.append(Form("owner", conns["staff"], None, q.owner, actors))
                timings = measure(forms, args.repeat, args.budget)
                if len({t.rows for t in timings.values()}) != 1:
                    raise SystemExit(f"{q.slug}: the forms return different row counts: "
                                     f"{ {n: t.rows for n, t in timings.items()} }")
                for form in forms:
                    explain(form, plans / f"{q.slug}.{form.name}.txt" if plans else None)
                log(f"{q.slug}: " + ", ".join(f"{n} {t.median:.2f} ms ({t.rows} rows)" for n, t in timings.items()))
                reads[q.slug] = timings
        finally:
            for c in conns.values():
                c.close()
    finally:
        for dsn in dsns.values():
            live.drop_database(server, live.database_name(dsn))
    raw = {"version": server.version, "date": time.strftime("%Y-%m-%d"), "scale": args.scale, "shared": args.shared,
           "sizes": asdict(sizes), "actors": actors, "minutes": (time.perf_counter() - started) / 60,
           "loadavg": [load_before, os.getloadavg()[0]],
           "reads": {slug: {n: asdict(t) for n, t in timings.items()} for slug, timings in reads.items()}}
    return report(raw, write=not args.no_write)


def report(raw: dict[str, Any], write: bool) -> int:
    return load_report(raw, write, "rls-design", markdown, RAW)


def markdown(raw: dict[str, Any]) -> str:
    n = "{:,}".format
    sizes = raw["sizes"]
    reads = {slug: {form: Timing(**t) for form, t in forms.items()} for slug, forms in raw["reads"].items()}

    def cell(t: Timing | None) -> str:
        return f"{ms(t.median)} (p95 {ms(t.p95)})" if t else "same"

    lines = [
        "<!-- rls-design:start -->",
        "## RLS designs side by side (`make bench-rls-design`)", "",
        f"{raw['date']}, PostgreSQL {raw['version']}, scale {raw['scale']:g}: {n(sizes['tenants'])} tenants, "
        f"{n(sizes['customers'])} customers, {sizes['staff']} staff, {n(sizes['tickets'])} tickets (bench/load.py's "
        f"data in two databases; whole run {raw['minutes']:.0f} min, load average {raw['loadavg'][0]:.1f} before, "
        f"{raw['loadavg'][1]:.1f} after). **Shared role**: output/schema.sql of {raw['shared']}, staff and customers "
        "both act as authenticated. **Staff role**: this commit's, staff act as support_staff and staff policies "
        "are TO support_staff (README, \"RLS design\"). Median and p95 ms per statement, forms interleaved. "
        "Plans: [bench/plans/rls_design/](plans/rls_design/).", "",
        "| query | rows | shared, RLS alone | staff role, RLS alone | shared, filtered | staff role, filtered "
        "| no RLS | RLS alone: shared / staff role | RLS alone / no RLS: shared, staff role "
        "| filtered / no RLS: shared, staff role |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for q in QUERIES:
        t = reads[q.slug]
        sf, tf, owner = t.get("shared_filtered"), t.get("staff_filtered"), t["owner"]
        lines.append(
            f"| {q.label} | {t['owner'].rows} | {cell(t['shared_rls'])} | {cell(t['staff_rls'])} | {cell(sf)} "
            f"| {cell(tf)} | {cell(owner)} | {ratio(t['shared_rls'].median, t['staff_rls'].median)} "
            f"| {ratio(t['shared_rls'].median, owner.median)}, {ratio(t['staff_rls'].median, owner.median)} "
            f"| {ratio(sf.median, owner.median) + ', ' + ratio(tf.median, owner.median) if sf and tf else 'same'} |")
    lines.append("<!-- rls-design:end -->")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
