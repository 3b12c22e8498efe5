"""Benchmark: the generator at scale (issue 11, part 1).

Writes synthetic specs of 10, 100, 1,000 and 3,000 tables that use every object kind of the spec language (roles,
actors, schemas, enums, sequences, SQL and PL/pgSQL functions, tables with columns, foreign keys, CHECK, UNIQUE,
indexes (partial, expression), triggers, RLS policies, access matrices, grants, comments, seed rows, views), then
times `generate`, `check`, `lint` and `plan --from` (from an older version of the same spec) on each, every command
in its own process as a user runs it, offline (the PostgreSQL judge's time is the server's), with its peak memory
(ru_maxrss of that child, from os.wait4). The build cache (generator/buildcache.py) starts empty for `generate`;
`check` follows it as in `make generate check` (cache warm) and runs once more with the cache off (cold).

Writes the results between the `scale:start` / `scale:end` markers of bench/RESULTS.md and a chart of the time per
table against size, bench/scale.png. Run with `make bench-scale` (several minutes); `--sizes 10,100` for a quick
look. Timings are medians of --repeat runs of each command.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "RESULTS.md"
CHART = ROOT / "bench" / "scale.png"
PLATFORM = ROOT / "generator" / "starter" / "spec" / "00-platform.yaml"
SIZES = (10, 100, 1000, 3000)
TABLES_PER_MODULE = 25

ACCESS_MODULE = """\
module: Access
description: Who uses the database, as which role (the actors of the access matrices).
actors:
  anon: {role: anon, comment: A visitor who has not signed in.}
  member: {role: authenticated, comment: A signed-in user; sees and writes their own rows.}
  service_role: {role: service_role, comment: Trusted back-end jobs (BYPASSRLS).}
schemas:
  app:
    comment: Lookup data of the synthetic modules.
    grants:
      authenticated: [usage]
"""


def _lookup_table(m: int) -> str:
    """The first table of a module: a small lookup table in schema app, with seed rows."""
    return f"""\
  app.kind_{m}:
    comment: Kinds of module {m}'s records.
    columns:
      id: {{type: smallint, primary_key: true}}
      name: {{type: text, not_null: true, unique: true, comment: Shown in lists.}}
    seed:
      - {{id: 1, name: small}}
      - {{id: 2, name: "medium 'quoted'"}}
      - {{id: 3, name: large}}
    rls: enabled
    policies:
      Everyone reads kinds:
        command: select
        roles: [authenticated]
        using: 'true'
    access:
      actors:
        anon: none
        member: {{select: all, every: none}}
        service_role: all
    grants:
      authenticated: [select]
      service_role: [select, insert, update, delete]
"""


def every_tenth(m: int, t: int) -> bool:
    """bench-scale's edit: one table in ten of each module differs between the two versions."""
    return t % 10 == 1


@dataclass(frozen=True)
class Edits:
    """What differs between the older and the newer version of a synthetic spec, in the tables `changed` picks
    (by module and table number in the module). A changed table always gains a column in the newer version."""

    changed: Callable[[int, int], bool] = every_tenth
    check: bool = True  # the CHECK's bound differs
    index: bool = False  # idx_..._kind gains a second column
    policy: bool = False  # the insert policy's WITH CHECK is written the other way round
    column_comment: bool = True  # the added column has a comment (migra does not diff comments)


def _table(m: int, t: int, parent: str, old: bool, edits: Edits = Edits()) -> str:
    """One full table: 7 columns (8 in the newer version), FK, CHECK, UNIQUE, 3 indexes, trigger, policies,
    access matrix, grants and comments. `old` is the earlier version `plan --from` starts from."""
    name = f"item_{m}_{t}"
    changed = edits.changed(m, t)
    comment = ", comment: Added later." if edits.column_comment else ""
    extra = f"      note_text: {{type: text{comment}}}\n" if changed and not old else ""
    bound = "1000000" if changed and old and edits.check else "100000000"
    kind_index = "[kind_id, state]" if changed and not old and edits.index else "[kind_id]"
    insert_check = "state = 'draft' AND owner_id = (SELECT auth.uid())" if changed and not old and edits.policy \
        else "owner_id = (SELECT auth.uid()) AND state = 'draft'"
    return f"""\
  {name}:
    comment: Synthetic table {t} of module {m}.
    columns:
      id: {{type: uuid, primary_key: true, default_sql: gen_random_uuid()}}
      owner_id: {{type: uuid, not_null: true, default_sql: auth.uid(), references: auth.users(id), on_delete: cascade}}
      parent_id: {{type: uuid, references: {parent}(id), on_delete: set null}}
      kind_id: {{type: smallint, not_null: true, default: 1, references: app.kind_{m}(id)}}
      code: {{type: varchar(40), not_null: true, unique: true, comment: Human-readable code.}}
      state: {{type: text, not_null: true, default: draft, enum: state_{m}}}
      amount: {{type: "numeric(12,2)", not_null: true, default: 0}}
      created_at: {{type: timestamptz, not_null: true, default_sql: now()}}
{extra}    checks:
      {name}_amount_range: amount >= 0 AND amount < {bound}
    indexes:
      idx_{name}_owner: [owner_id]
      idx_{name}_parent: {{columns: [parent_id], where: parent_id IS NOT NULL}}
      idx_{name}_kind: {kind_index}
      idx_{name}_code_lower: {{columns: [(lower(code))], unique: true, comment: Case-insensitive codes.}}
    triggers:
      {name}_touch:
        timing: before
        events: [insert, update]
        function: touch_{m}
        comment: Fills the code.
    rls: enabled
    policies:
      Owners read their rows:
        command: select
        roles: [authenticated]
        using: owner_id = (SELECT auth.uid())
        comment: Each user sees their own rows.
      Owners add rows:
        command: insert
        roles: [authenticated]
        with_check: {insert_check}
    access:
      own: owner_id
      actors:
        anon: none
        member:
          select: own
          insert: [{{rows: own, values: {{state: [draft]}}}}]
          every: none
        service_role: all
    grants:
      authenticated: [select, insert]
      service_role: [select, insert, update, delete]
"""


def _module(m: int, count: int, old: bool, edits: Edits = Edits()) -> str:
    tables = [_lookup_table(m)]
    for t in range(1, count):
        parent = f"item_{m}_{t - 1}" if t > 1 else f"item_{m}_1"
        tables.append(_table(m, t, parent, old, edits))
    first_item = f"public.item_{m}_1" if count > 1 else None
    view = "" if first_item is None else f"""\
views:
  active_{m}:
    comment: Active records of module {m}.
    query: |
      SELECT i.id, i.code, i.amount, k.name AS kind
      FROM {first_item} i
      JOIN app.kind_{m} k ON k.id = i.kind_id
      WHERE i.state = 'active'
    access:
      own: owner_id
      actors:
        anon: none
        member: own
        service_role: all
    grants:
      authenticated: [select]
"""
    return f"""\
module: Synthetic module {m}
description: Generated by bench/scale.py.
enums:
  state_{m}: [draft, active, archived]
sequences:
  code_seq_{m}:
    start: 1
    comment: Source of codes.
    grants:
      authenticated: [usage]
functions:
  touch_{m}:
    returns: trigger
    search_path: ''
    comment: Fills the code of a new row and keeps amounts rounded.
    body: |
      BEGIN
          IF TG_OP = 'INSERT' AND NEW.code IS NULL THEN
              NEW.code := 'C-' || nextval('public.code_seq_{m}')::text;
          END IF;
          NEW.amount := round(NEW.amount, 2);
          RETURN NEW;
      END;
  kind_name_{m}:
    args:
      kind: smallint
    returns: text
    language: sql
    volatility: stable
    search_path: ''
    body: SELECT k.name FROM app.kind_{m} k WHERE k.id = kind
    grants:
      authenticated: [execute]
tables:
{"".join(tables)}{view}"""


def write_spec(spec: Path, tables: int, *, old: bool = False, edits: Edits = Edits()) -> None:
    """A synthetic spec of `tables` tables (modules of TABLES_PER_MODULE, each starting with a lookup table)."""
    spec.mkdir(parents=True)
    shutil.copy(PLATFORM, spec / "00-platform.yaml")
    (spec / "00-z-access.yaml").write_text(ACCESS_MODULE, encoding="utf-8")
    for m, first in enumerate(range(0, tables, TABLES_PER_MODULE), start=1):
        count = min(TABLES_PER_MODULE, tables - first)
        (spec / f"{m:04d}-module.yaml").write_text(_module(m, count, old, edits), encoding="utf-8")


@dataclass(frozen=True)
class Run:
    seconds: float  # wall clock
    cpu: float  # user + system time of the process: steadier than wall clock on a machine shared with others
    peak_mb: float


def run(args: list[str], cwd: Path, env: dict[str, str]) -> Run:
    """One command in its own process: wall time and peak resident memory of that process alone."""
    started = time.perf_counter()
    with open(os.devnull, "wb") as sink:
        proc = subprocess.Popen([sys.executable, "-m", "generator", *args], cwd=cwd, stdout=sink,
                                stderr=subprocess.PIPE, env={**os.environ, "PYTHONPATH": str(ROOT), **env})
        assert proc.stderr is not None
        err = proc.stderr.read()
        _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"pgspec {' '.join(args)} failed ({proc.returncode}):\n{err.decode()[-3000:]}")
    return Run(seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024)  # ru_maxrss is in KiB on Linux


@dataclass(frozen=True)
class Command:
    """One timed command: its arguments, and whether the build cache starts empty (`cold`: a spec never built
    before, as after an edit), is left as the run before it left it (`warm`), or is off."""

    args: tuple[str, ...]
    cache: str  # "cold", "warm" or "off"
    fresh_output: bool = False  # output/ removed first: generate writes every file, as on a first run


# In this order for each size: check after generate finds the cache generate filled, as in `make generate check`.
# Every command runs offline (PGSPEC_OFFLINE=1): the PostgreSQL judge's time is the server's (see the notes).
COMMANDS: dict[str, Command] = {
    "generate": Command(("generate", "-q"), "cold", fresh_output=True),
    "check": Command(("check", "-q"), "warm"),
    "check cold": Command(("check", "-q"), "off"),
    "lint": Command(("lint",), "warm"),
    "plan": Command(("plan", "--from", "old-spec", "--allow-hazard", "all", "-o", "plan.sql"), "off"),
}
CHARTED = ("generate", "check", "check cold", "lint", "plan")


def run_command(command: Command, project: Path) -> Run:
    cache = project / "cache"
    if command.cache == "cold":
        shutil.rmtree(cache, ignore_errors=True)
    if command.fresh_output:
        shutil.rmtree(project / "output", ignore_errors=True)
    env = {"PGSPEC_OFFLINE": "1", "PGSPEC_CACHE_DIR": str(cache),
           "PGSPEC_CACHE": "0" if command.cache == "off" else "1"}
    return run(list(command.args), project, env)


def measure(tables: int, repeat: int, work: Path) -> dict[str, Run]:
    project = work / f"t{tables}"
    write_spec(project / "spec", tables)
    write_spec(project / "old-spec", tables, old=True)
    run(["schema", "--write", "spec.schema.json"], project, {})  # the editor schema the spec files' modeline names
    runs: dict[str, list[Run]] = {name: [] for name in COMMANDS}
    for _ in range(repeat):  # the whole sequence each time, so that each warm command follows its cold one
        for name, command in COMMANDS.items():
            runs[name].append(run_command(command, project))
    out: dict[str, Run] = {}
    for name, done in runs.items():
        out[name] = Run(statistics.median(r.seconds for r in done), statistics.median(r.cpu for r in done),
                        max(r.peak_mb for r in done))
        print(f"{tables:>5} tables  {name:<10} {out[name].seconds:7.2f} s  cpu {out[name].cpu:7.2f} s  "
              f"{out[name].peak_mb:6.0f} MB", flush=True)
    return out


def chart(results: dict[int, dict[str, Run]]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = sorted(results)
    fig, ax = plt.subplots(figsize=(7, 4.2), dpi=100)
    for name in CHARTED:
        ax.plot(sizes, [1000 * results[n][name].cpu / n for n in sizes], marker="o",
                label={"generate": "generate (cold cache)", "check": "check after generate",
                       "check cold": "check (no cache)"}.get(name, name))
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("tables in the spec")
    ax.set_ylabel("CPU ms per table (whole command)")
    ax.set_title("pgspec at scale (bench/scale.py)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(CHART, metadata={"Software": None})
    plt.close(fig)


def markdown(results: dict[int, dict[str, Run]], repeat: int) -> str:
    sizes = sorted(results)
    names = list(COMMANDS)
    lines = ["<!-- scale:start -->", "## Generator at scale (`make bench-scale`)", "",
             f"{time.strftime('%Y-%m-%d')}, synthetic specs from bench/scale.py (modules of {TABLES_PER_MODULE} "
             "tables: a lookup table with seed rows, then tables of 8 columns, 3 foreign keys, CHECK, UNIQUE, 4 "
             "indexes, trigger, 2 policies, access matrix, grants, comments; per module an enum, a sequence, 2 "
             "functions and a view). Each command in its own process (start-up included), offline (the "
             "PostgreSQL judge, whose time is the server's, is left out), median of "
             f"{repeat} run(s): wall-clock seconds, then CPU seconds (user + system) in brackets, steadier than "
             "wall clock on this 2-core machine shared with other jobs. `generate` starts from an empty build "
             "cache and no output/ (a spec never built before); `check` runs after it, with the cache generate "
             "filled (as in `make generate check`); `check cold` with the cache off; `lint` after them (cache "
             "warm). Peak: the largest resident memory of one command. `plan` is `plan --from` an older version "
             "of the same spec (one table in ten changed). Chart of CPU ms per table: [scale.png](scale.png).", "",
             "| tables | " + " | ".join(f"{c} s (CPU)" for c in names)
             + " | generate + check s (CPU) | generate + check cold s (CPU) | "
             + " | ".join(f"{c} CPU ms/table" for c in names) + " | peak MB |",
             "|---" * (2 * len(names) + 4) + "|"]
    for n in sizes:
        r = results[n]
        both = (r["generate"].seconds + r["check"].seconds, r["generate"].cpu + r["check"].cpu)
        cold = (r["generate"].seconds + r["check cold"].seconds, r["generate"].cpu + r["check cold"].cpu)
        lines.append(f"| {n:,} | " + " | ".join(f"{r[c].seconds:.1f} ({r[c].cpu:.1f})" for c in names)
                     + f" | {both[0]:.1f} ({both[1]:.2f}) | {cold[0]:.1f} ({cold[1]:.1f}) | "
                     + " | ".join(f"{1000 * r[c].cpu / n:.1f}" for c in names)
                     + f" | {max(x.peak_mb for x in r.values()):.0f} |")
    lines.append("<!-- scale:end -->")
    return "\n".join(lines)


def write_section(name: str, block: str) -> None:
    """Put `block` in place of the `<!-- NAME:start -->` ... `<!-- NAME:end -->` section of bench/RESULTS.md, or
    at its end."""
    text = RESULTS.read_text(encoding="utf-8")
    if f"<!-- {name}:start -->" in text:
        text = re.sub(rf"<!-- {name}:start -->.*?<!-- {name}:end -->", lambda _: block, text, flags=re.S)
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    RESULTS.write_text(text, encoding="utf-8")


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", default=",".join(map(str, SIZES)), help="comma-separated table counts")
    p.add_argument("--repeat", type=int, default=1, help="runs of each command (median)")
    p.add_argument("--no-write", action="store_true", help="print only; leave bench/RESULTS.md and the chart")
    p.add_argument("--keep", type=Path, metavar="DIR", help="write the specs into DIR and keep them")
    args = p.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    # Bytecode written once: with PYTHONDONTWRITEBYTECODE set, every command would compile the package again.
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "generator")], check=True)
    with tempfile.TemporaryDirectory(prefix="pgspec-scale-") as tmp:
        work = args.keep or Path(tmp)
        results = {n: measure(n, args.repeat, work) for n in sizes}
    block = markdown(results, args.repeat)
    print(block)
    if not args.no_write:
        write_section("scale", block)
        chart(results)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
