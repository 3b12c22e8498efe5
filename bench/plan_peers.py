"""Benchmark: plans side by side with peers (issue 11, part 2).

On the same pairs of databases, times our `plan --db` (a live database against a spec) and two peers that diff a
source database against a target database: pg-delta (npm `@supabase/pg-delta`) and migra (pip `migra` with
`psycopg2-binary`). For each tool: wall time (median of --repeat runs), the plan's statement count, and whether
the plan converges: applied to a copy of the source database, (a) the tool's own re-diff is empty and (b) our
`verify --db` against the target spec reports no drift.

Pairs: A, the SPEC-131 spec (spec/) before and after a few edits every tool can express (a column added, an index
changed, a policy changed, a function body changed, an index added); B, a synthetic spec of --tables tables
(bench/scale.py) before and after 1 % of its tables gain a column, a changed index and a changed policy. Both
databases of a pair are built by applying our generated schema.sql to an embedded PostgreSQL 18 (or the server of
$PGSPEC_TEST_DSN).

The peers are installed on first use into bench/.peers/ (git-ignored): a virtualenv for migra, node_modules for
pg-delta. Writes bench/peers.json and the section between the `peers:start` / `peers:end` markers of
bench/RESULTS.md. Run with `make bench-peers`; progress goes to stderr.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from scale import TABLES_PER_MODULE, Edits, write_section, write_spec  # noqa: E402

from generator import live  # noqa: E402

RAW = ROOT / "bench" / "peers.json"
PEERS = ROOT / "bench" / ".peers"
# The registry's `latest` tag of @supabase/pg-delta is 0.0.0, an empty placeholder (a package.json, no code); the
# tool itself is published as 1.0.0-alpha.N. The default is the newest of those when this was written.
PG_DELTA = os.environ.get("PG_DELTA_VERSION", "1.0.0-alpha.34")
MIGRA = "migra"
TOOLS = ("pgspec", "pg-delta", "migra")
FAILURE_CHARS = 160  # a failure's text, kept short enough for a table cell

# Pair A: (file, text, replacement) in a copy of spec/, each expected exactly once.
SPEC131_EDITS = (
    ("07-support-canned-responses.yaml",  # a column added
     "      sort_order: {type: integer, default: 0}\n",
     "      sort_order: {type: integer, default: 0}\n"
     "      language: {type: varchar(10), default: en}\n"),
    ("07-support-canned-responses.yaml",  # an index changed
     "      idx_support_canned_responses_category: [category]\n",
     "      idx_support_canned_responses_category: [category, is_active]\n"),
    ("07-support-canned-responses.yaml",  # a policy changed (the same rows: the access matrix still holds)
     "          AND (is_public\n               OR created_by = (SELECT auth.uid())\n",
     "          AND (created_by = (SELECT auth.uid())\n               OR is_public\n"),
    ("03-support-tickets.yaml",  # a function body changed (ten digits instead of eight)
     "lpad(n::text, 8, '0')",
     "lpad(n::text, 10, '0')"),
    ("03-support-tickets.yaml",
     "CASE WHEN n < 100000000 THEN",
     "CASE WHEN n < 10000000000 THEN"),
    ("03-support-tickets.yaml",  # an index added
     "      idx_support_tickets_priority: [priority]\n",
     "      idx_support_tickets_priority: [priority]\n      idx_support_tickets_subject: [subject]\n"),
)


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# -- the peers ---------------------------------------------------------------------------------------------------
def run(args: Sequence[str], *, cwd: Path = ROOT, check: bool = True,
        env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(list(args), cwd=cwd, capture_output=True, text=True, check=False,
                          env={**os.environ, **(env or {})})
    if check and done.returncode != 0:
        tail = (done.stderr or done.stdout)[-3000:]
        raise SystemExit(f"{' '.join(args[:3])} ... failed ({done.returncode}):\n{tail}")
    return done


def ensure_migra() -> Path:
    """migra in its own virtualenv (it needs psycopg2 and an old SQLAlchemy, which the project does not)."""
    venv = PEERS / "venv"
    migra = venv / "bin" / "migra"
    if not migra.exists():
        log(f"installing migra and psycopg2-binary into {venv.relative_to(ROOT)}")
        run([sys.executable, "-m", "venv", str(venv)])
        run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
             MIGRA, "psycopg2-binary", "setuptools<81"])  # schemainspect imports pkg_resources
    return migra


def ensure_pg_delta(version: str) -> Path:
    node = PEERS / "node"
    binary = node / "node_modules" / ".bin" / "pgdelta"
    installed = node / "node_modules" / "@supabase" / "pg-delta" / "package.json"
    if not binary.exists() or json.loads(installed.read_text())["version"] != version:
        if shutil.which("npm") is None:
            raise SystemExit("npm is not on PATH: install Node.js >= 20 (Debian: apt-get install npm)")
        log(f"installing @supabase/pg-delta@{version} into {node.relative_to(ROOT)}")
        node.mkdir(parents=True, exist_ok=True)
        run(["npm", "install", "--prefix", str(node), "--no-audit", "--no-fund", "--loglevel=error",
             f"@supabase/pg-delta@{version}"])
    return binary


def versions(migra: Path | None, pg_delta: Path | None) -> dict[str, str]:
    """The version of each tool measured (a peer left out with --tools is not installed, nor named)."""
    ours = run(["git", "rev-parse", "--short", "HEAD"]).stdout.strip()
    out = {"pgspec": f"commit {ours}"}
    if pg_delta is not None:
        delta = json.loads((pg_delta.parent.parent / "@supabase" / "pg-delta" / "package.json").read_text())
        node = run(["node", "--version"]).stdout.strip()
        out["pg-delta"] = f"@supabase/pg-delta {delta['version']} (node {node})"
    if migra is not None:
        pip = run([str(migra.parent / "python"), "-m", "pip", "list", "--format=json",
                   "--disable-pip-version-check"])
        found = {p["name"].lower(): p["version"] for p in json.loads(pip.stdout)}
        out["migra"] = (f"migra {found.get('migra', '?')}, schemainspect {found.get('schemainspect', '?')}, "
                        f"psycopg2-binary {found.get('psycopg2-binary', '?')}")
    return out


# -- the pairs ---------------------------------------------------------------------------------------------------
def fresh(path: Path) -> Path:
    """An empty directory (a --keep directory may hold an earlier run's)."""
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


def spec131_pair(work: Path) -> tuple[Path, Path]:
    old, new = fresh(work / "a-old") / "spec", fresh(work / "a-new") / "spec"
    shutil.copytree(ROOT / "spec", old)
    shutil.copytree(ROOT / "spec", new)
    for name, text, replacement in SPEC131_EDITS:
        path = new / name
        content = path.read_text(encoding="utf-8")
        if content.count(text) != 1:
            raise SystemExit(f"bench/plan_peers.py: edit of {name} no longer applies (spec/ changed): {text!r}")
        path.write_text(content.replace(text, replacement), encoding="utf-8")
    return old, new


def one_percent(m: int, t: int) -> bool:
    """Table t of module m is changed when its number in the whole spec is 1 modulo 100 (1 % of tables)."""
    return ((m - 1) * TABLES_PER_MODULE + t) % 100 == 1


def scale_pair(work: Path, tables: int) -> tuple[Path, Path]:
    old, new = fresh(work / "b-old") / "spec", fresh(work / "b-new") / "spec"
    edits = Edits(changed=one_percent, check=False, index=True, policy=True, column_comment=False)
    write_spec(old, tables, old=True, edits=edits)
    write_spec(new, tables, edits=edits)
    return old, new


def pgspec(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return run([sys.executable, "-m", "generator", *args], check=check, env={"PYTHONPATH": str(ROOT)})


def build_database(server: live.Server, spec: Path, name: str) -> str:
    out = spec.parent / "output"
    pgspec("generate", "-q", "--offline", "--spec", str(spec), "--out", str(out))
    dsn = live.create_database(server, name)
    for module in modules((out / "schema.sql").read_text(encoding="utf-8")):
        live.apply_sql(dsn, module)
    return dsn


def modules(schema_sql: str) -> list[str]:
    """schema.sql cut at its module banners, one transaction each: the whole of 1,000 tables in one transaction
    takes more locks than a default server's lock table holds (max_locks_per_transaction 64)."""
    banner = re.compile(r"^-- =+\n-- .*\n-- =+\n", re.M)
    starts = [m.start() for m in banner.finditer(schema_sql)]
    return [schema_sql[a:b] for a, b in zip([0, *starts], [*starts, len(schema_sql)], strict=True) if a != b]


# -- one tool on one pair ----------------------------------------------------------------------------------------
@dataclass
class Outcome:
    tool: str
    seconds: list[float] = field(default_factory=list)  # wall time of each run
    statements: int | None = None
    own_rediff_empty: bool | None = None
    own_rediff_statements: int | None = None
    verify_clean: bool | None = None
    verify_differences: int | None = None
    failure: str | None = None  # the tool crashed or refused, or its plan did not apply

    @property
    def median(self) -> float | None:
        return statistics.median(self.seconds) if self.seconds else None


def count_statements(script: str) -> int:
    """Statements of a script other than transaction control and session settings, the same count for every tool
    (PostgreSQL's own parser splits; psql meta-commands are not in any of the three)."""
    import pglast

    skipped = ("TransactionStmt", "VariableSetStmt")
    return sum(1 for raw in pglast.parse_sql(script) if type(raw.stmt).__name__ not in skipped)


def psql_file(server: live.Server, dsn: str, path: Path) -> str | None:
    """Apply a script as its own documentation says (`psql -X -v ON_ERROR_STOP=1 -f`); None, or the error."""
    assert server.psql is not None
    done = subprocess.run([server.psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-f", str(path), dsn],
                          capture_output=True, text=True, check=False)
    return None if done.returncode == 0 else short(done.stderr)


def short(text: str) -> str:
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    errors = [ln for ln in lines if "ERROR" in ln or "Error" in ln or "error" in ln]
    picked = (errors or lines or ["(no output)"])[0]
    return picked[:FAILURE_CHARS]


def timed(fn: Callable[[], subprocess.CompletedProcess[str]]) -> tuple[float, subprocess.CompletedProcess[str]]:
    started = time.perf_counter()
    done = fn()
    return time.perf_counter() - started, done


class Tool:
    """One diffing tool: plan (timed), apply the plan to a database, re-diff."""

    name = ""

    def plan(self, source: str, target: str, new_spec: Path, out: Path) -> subprocess.CompletedProcess[str]:
        raise NotImplementedError

    def script(self, out: Path) -> str:
        """The plan's SQL (after plan() succeeded)."""
        raise NotImplementedError

    def apply(self, server: live.Server, dsn: str, out: Path) -> str | None:
        path = out / "plan.sql"
        path.write_text(self.script(out), encoding="utf-8")
        return psql_file(server, dsn, path)

    def rediff(self, source: str, target: str, new_spec: Path, out: Path) -> int | str:
        """Statements the tool still plans from `source` (the copy, migrated) to the target; or a failure."""
        out.mkdir(parents=True, exist_ok=True)
        done = self.plan(source, target, new_spec, out)
        if not self.succeeded(done):
            return short(done.stderr or done.stdout)
        return count_statements(self.script(out))

    def succeeded(self, done: subprocess.CompletedProcess[str]) -> bool:
        return done.returncode == 0


class Ours(Tool):
    name = "pgspec"

    def plan(self, source: str, target: str, new_spec: Path, out: Path) -> subprocess.CompletedProcess[str]:
        return pgspec("plan", "--db", source, "--spec", str(new_spec), "--allow-hazard", "all",
                      "-o", str(out / "plan.sql"), check=False)

    def script(self, out: Path) -> str:
        return (out / "plan.sql").read_text(encoding="utf-8")

    def apply(self, server: live.Server, dsn: str, out: Path) -> str | None:
        return psql_file(server, dsn, out / "plan.sql")


class Migra(Tool):
    name = "migra"

    def __init__(self, binary: Path) -> None:
        self.binary = binary

    def plan(self, source: str, target: str, new_spec: Path, out: Path) -> subprocess.CompletedProcess[str]:
        # SQLAlchemy 2.1 made psycopg (3) the default driver of postgresql://; migra's stack is built on psycopg2.
        urls = [pg_url(dsn).replace("postgresql://", "postgresql+psycopg2://", 1) for dsn in (source, target)]
        done = run([str(self.binary), "--unsafe", "--with-privileges", *urls], check=False)
        (out / "plan.sql").write_text(done.stdout, encoding="utf-8")
        return done

    def script(self, out: Path) -> str:
        return (out / "plan.sql").read_text(encoding="utf-8")

    def succeeded(self, done: subprocess.CompletedProcess[str]) -> bool:
        return done.returncode in (0, 2)  # 2: differences found (the script is on stdout)


class PgDelta(Tool):
    name = "pg-delta"

    def __init__(self, binary: Path) -> None:
        self.binary = binary

    def plan(self, source: str, target: str, new_spec: Path, out: Path) -> subprocess.CompletedProcess[str]:
        for old in out.glob("plan*.sql"):
            old.unlink()
        done = run([str(self.binary), "plan", "--source", pg_url(source), "--desired", pg_url(target),
                    "--out", str(out / "plan.json")], check=False)
        if done.returncode != 0:
            return done
        rendered = run([str(self.binary), "render", "--plan", str(out / "plan.json"), "--out",
                        str(out / "plan.sql"), "--allow-drops"], check=False)
        return rendered if rendered.returncode not in (0, 3) else done  # 3: the plan has no actions

    def segments(self, out: Path) -> list[Path]:
        """render writes plan.sql, or plan_1.sql, plan_2.sql, ... (one per transaction segment), in order."""
        single = out / "plan.sql"
        if single.exists():
            return [single]
        return sorted(out.glob("plan_*.sql"), key=lambda p: int(p.stem.split("_")[1]))

    def script(self, out: Path) -> str:
        return "\n".join(p.read_text(encoding="utf-8") for p in self.segments(out))

    def apply(self, server: live.Server, dsn: str, out: Path) -> str | None:
        for segment in self.segments(out):
            failure = psql_file(server, dsn, segment)
            if failure:
                return failure
        return None


def pg_url(dsn: str) -> str:
    """A libpq key=value string as a postgresql:// URL (migra and pg-delta take URLs only)."""
    from psycopg.conninfo import conninfo_to_dict

    if dsn.startswith(("postgres://", "postgresql://")):
        return dsn
    parts = {k: str(v) for k, v in conninfo_to_dict(dsn).items()}
    from urllib.parse import quote

    user = quote(parts.get("user", "postgres"))
    password = f":{quote(parts['password'])}" if "password" in parts else ""
    host = parts.get("host", "localhost")
    query = ""
    if host.startswith("/"):  # a Unix socket directory: libpq and node-postgres take it from ?host=, the URL
        query, host = f"?host={quote(host, safe='')}", "localhost"  # parsers want some host name
    return f"postgresql://{user}{password}@{host}:{parts.get('port', '5432')}/{parts.get('dbname', '')}{query}"


def time_plans(tools: Sequence[Tool], pair: str, source: str, target: str, new_spec: Path, work: Path,
               repeat: int) -> list[Outcome]:
    """Each tool's plan `repeat` times, the tools taking turns (run 1 of each, then run 2 of each, ...): on a
    machine whose load drifts, each tool's runs meet the same load, so the ratios within a run hold."""
    outcomes = [Outcome(tool.name) for tool in tools]
    for i in range(repeat):
        for tool, outcome in zip(tools, outcomes, strict=True):
            if outcome.failure:
                continue
            out = work / f"{pair}-{tool.name}"
            out.mkdir(parents=True, exist_ok=True)
            seconds, done = timed(functools.partial(tool.plan, source, target, new_spec, out))
            if not tool.succeeded(done):
                outcome.failure = f"plan failed: {short(done.stderr or done.stdout)}"
                log(f"  {tool.name}: {outcome.failure}")
                continue
            outcome.seconds.append(seconds)
            log(f"  {tool.name}: plan run {i + 1}/{repeat}: {seconds:.2f} s")
    return outcomes


def converge(tool: Tool, outcome: Outcome, server: live.Server, pair: str, source: str, target: str,
             new_spec: Path, work: Path) -> Outcome:
    """The statement count of the tool's plan (from its last timed run), and whether it converges."""
    out = work / f"{pair}-{tool.name}"
    if outcome.failure:
        return outcome
    try:
        outcome.statements = count_statements(tool.script(out))
    except Exception as exc:  # noqa: BLE001 - a script our parser refuses is a result, not a crash
        outcome.failure = f"script does not parse: {short(str(exc))}"
        return outcome
    copy = live.create_database(server, f"peers_{pair}_{tool.name.replace('-', '_')}_copy",
                                template=live.database_name(source))
    failure = tool.apply(server, copy, out)
    if failure:
        outcome.failure = f"apply failed: {failure}"
        log(f"  {tool.name}: {outcome.failure}")
        live.drop_database(server, live.database_name(copy))
        return outcome
    again = tool.rediff(copy, target, new_spec, work / f"{pair}-{tool.name}-rediff")
    if isinstance(again, str):
        outcome.failure = f"re-diff failed: {again}"
    else:
        outcome.own_rediff_statements, outcome.own_rediff_empty = again, again == 0
    verified = pgspec("verify", "--db", copy, "--spec", str(new_spec), check=False)
    outcome.verify_clean = verified.returncode == 0
    outcome.verify_differences = 0 if outcome.verify_clean else \
        sum(1 for ln in verified.stdout.splitlines() if ln.strip() and ln.strip() != "no drift")
    (out / "verify.txt").write_text(verified.stdout + verified.stderr, encoding="utf-8")
    log(f"  {tool.name}: {outcome.statements} statements, re-diff {outcome.own_rediff_statements}, "
        f"verify {'clean' if outcome.verify_clean else f'{outcome.verify_differences} differences'}")
    live.drop_database(server, live.database_name(copy))
    return outcome


# -- report ------------------------------------------------------------------------------------------------------
PAIR_LABELS = {"A": "SPEC-131 before/after 5 edits", "B": "{tables:,} tables, 1 % changed"}


def cell_time(o: Outcome) -> str:
    if o.median is None:
        return "-"
    spread = f" ({min(o.seconds):.1f}-{max(o.seconds):.1f})" if len(o.seconds) > 1 else ""
    return f"{o.median:.2f}{spread}"


def cell_bool(value: bool | None, detail: int | None) -> str:
    if value is None:
        return "-"
    return "yes" if value else f"**no** ({detail})"


def markdown(results: dict[str, list[Outcome]], meta: dict[str, object]) -> str:
    tools = meta["versions"]
    assert isinstance(tools, dict)
    lines = ["<!-- peers:start -->", "## Plans side by side with peers (`make bench-peers`)", "",
             f"{meta['date']}, {meta['machine']}, PostgreSQL {meta['postgres']} (embedded). Versions: "
             + "; ".join(f"{k}: {v}" for k, v in tools.items()) + ".", "",
             "Each pair is two databases built by applying our generated schema.sql: A is SPEC-131's spec and a "
             "copy with a column added, an index changed, an index added, a policy rewritten (same rows) and a "
             "function body changed; B is bench/scale.py's synthetic spec whose 1 % of tables gain a column, a "
             "changed index and a rewritten insert policy. Time: wall seconds of one plan from the source database "
             f"(median of {meta['repeat']}, range in brackets; the tools take turns, run 1 of each, then run 2, "
             "...): ours is `plan --db SOURCE --spec TARGET-SPEC`, "
             "pg-delta is `plan --source --desired` plus `render`, migra is `migra --unsafe --with-privileges "
             "SOURCE TARGET`, each in its own process with its start-up. Statements: the plan's SQL statements "
             "counted by PostgreSQL's parser (BEGIN/COMMIT and SET left out). Converges: the plan applied to a "
             "copy of the source with `psql -v ON_ERROR_STOP=1`, then (a) the tool's own re-diff of the copy is "
             "empty (in brackets: the statements it still plans), (b) our `verify --db` against the target spec "
             "finds no drift (in brackets: differences).", "",
             "| pair | tool | plan s | statements | own re-diff empty | verify clean | failure |",
             "|---|---|---|---|---|---|---|"]
    for pair, outcomes in results.items():
        label = PAIR_LABELS[pair].format(tables=meta["tables"])
        for o in outcomes:
            lines.append(f"| {pair}: {label} | {o.tool} | {cell_time(o)} | "
                         f"{'-' if o.statements is None else o.statements} | "
                         f"{cell_bool(o.own_rediff_empty, o.own_rediff_statements)} | "
                         f"{cell_bool(o.verify_clean, o.verify_differences)} | "
                         f"{(o.failure or '').replace('|', '/')} |")
    lines.append("<!-- peers:end -->")
    return "\n".join(lines)


# -- main --------------------------------------------------------------------------------------------------------
def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                epilog="Peers are installed into bench/.peers/ on first use (PyPI and npm).")
    p.add_argument("--pairs", default="A,B", help="which pairs: A (SPEC-131), B (synthetic); default A,B")
    p.add_argument("--tables", type=int, default=1000, help="tables of pair B (default 1000)")
    p.add_argument("--repeat", type=int, default=3, help="plan runs per tool and pair (median; default 3)")
    p.add_argument("--tools", default=",".join(TOOLS), help=f"which tools (default {','.join(TOOLS)})")
    p.add_argument("--pg-delta-version", default=PG_DELTA, help=f"npm version of @supabase/pg-delta ({PG_DELTA})")
    p.add_argument("--no-write", action="store_true", help="print only; leave bench/RESULTS.md and peers.json")
    p.add_argument("--keep", type=Path, metavar="DIR", help="keep specs, plans and verify output in DIR")
    args = p.parse_args(argv)
    pairs = [x.strip().upper() for x in args.pairs.split(",") if x.strip()]
    wanted = [x.strip() for x in args.tools.split(",") if x.strip()]
    unknown = set(wanted) - set(TOOLS)
    if unknown:
        p.error(f"unknown tool(s): {', '.join(sorted(unknown))} (known: {', '.join(TOOLS)})")
    pg_delta = ensure_pg_delta(args.pg_delta_version) if "pg-delta" in wanted else None
    migra = ensure_migra() if "migra" in wanted else None
    tools: list[Tool] = [Ours()] if "pgspec" in wanted else []
    tools += [PgDelta(pg_delta)] if pg_delta is not None else []
    tools += [Migra(migra)] if migra is not None else []
    # Bytecode written once, as an installed package has it (bench/scale.py does the same): with
    # PYTHONDONTWRITEBYTECODE set, every `pgspec plan` would compile the package again, which the peers, installed
    # with their bytecode, never do.
    run([sys.executable, "-m", "compileall", "-q", str(ROOT / "generator")])
    log("starting PostgreSQL")
    server = live.start_server()
    meta: dict[str, object] = {
        "date": time.strftime("%Y-%m-%d"), "postgres": server.version, "repeat": args.repeat, "tables": args.tables,
        "machine": f"{os.cpu_count()} cores ({platform.machine()}, shared with other jobs)",
        "versions": versions(migra, pg_delta)}
    results: dict[str, list[Outcome]] = {}
    with tempfile.TemporaryDirectory(prefix="pgspec-peers-") as tmp:
        work = args.keep or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        tag = uuid.uuid4().hex[:6]
        for pair in pairs:
            log(f"pair {pair}: writing the specs and building the two databases")
            old, new = spec131_pair(work) if pair == "A" else scale_pair(work, args.tables)
            source = build_database(server, old, f"peers_{pair.lower()}_source_{tag}")
            target = build_database(server, new, f"peers_{pair.lower()}_target_{tag}")
            log(f"pair {pair}: timing {', '.join(t.name for t in tools)} in turn")
            timings = time_plans(tools, pair.lower(), source, target, new, work, args.repeat)
            results[pair] = []
            for tool, outcome in zip(tools, timings, strict=True):
                log(f"pair {pair}: {tool.name}: applying and re-diffing")
                results[pair].append(converge(tool, outcome, server, pair.lower(), source, target, new, work))
            for dsn in (source, target):
                live.drop_database(server, live.database_name(dsn))
    block = markdown(results, meta)
    print(block)
    if not args.no_write:
        write_section("peers", block)
        RAW.write_text(json.dumps({"meta": meta, "pairs": {k: [asdict(o) for o in v] for k, v in results.items()}},
                                  indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
