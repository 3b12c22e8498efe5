"""`plan`, `apply` and `migration` as users run them: scripts applied with psql, exit codes, refusals, --online,
JSON, the SPEC-131 schema planned against an empty database and against itself, and migration files from git.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest
import yaml
from conftest import OUTPUT, ROOT, SPEC, record
from evolution import BASE, ROWS
from specs import run_in_process, sql_of, write_spec

from generator import live, sqlparse
from generator.check import check
from generator.drift import verify
from generator.load import load_spec
from generator.pipeline import build

NOTES_APP = ROOT / "examples" / "notes-app"


def run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    """`python -m generator ARGS` run in this process: the command's own work, without an interpreter's start-up
    each time. The tests about the process itself (exit codes and output of a real one) use run_process."""
    return run_in_process(cwd, list(args))


def run_process(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    if os.environ.get("MUTANT_UNDER_TEST"):  # under mutmut (bench/mutation.py): in this process, where it mutates
        return run_in_process(cwd, list(args))
    return subprocess.run([sys.executable, "-m", "generator", *args], cwd=cwd, capture_output=True, text=True,
                          check=False, env={**os.environ, "PYTHONPATH": str(ROOT)})


def statements(script: str) -> list[str]:
    return [text for _, text in sqlparse.split_statements(script)]


def psql(server: live.Server, dsn: str, script: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """The documented way to apply a plan: psql -X -v ON_ERROR_STOP=1 -f FILE (no -1: the plan has BEGIN)."""
    assert server.psql is not None
    path = tmp_path / "plan.sql"
    path.write_text(script, encoding="utf-8")
    return subprocess.run([server.psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-f", str(path), dsn],
                          capture_output=True, text=True, check=False)


# -- SPEC-131 ---------------------------------------------------------------------------------------------------
def test_spec131_from_empty_database_with_psql_then_nothing_to_do(empty_db: str, pg_server: live.Server,
                                                                  tmp_path: Path) -> None:
    started = time.perf_counter()
    first = run_process("plan", "--db", empty_db)
    record("plan SPEC-131 against an empty database (CLI)", time.perf_counter() - started)
    assert first.returncode == 0, first.stderr
    assert statements(first.stdout)[0].strip() == "BEGIN"
    applied = psql(pg_server, empty_db, first.stdout, tmp_path)
    assert applied.returncode == 0, applied.stderr
    assert [str(d) for d in verify(empty_db, check(load_spec(SPEC)))] == []
    started = time.perf_counter()
    second = run_process("plan", "--db", empty_db)
    record("plan SPEC-131 against itself (CLI)", time.perf_counter() - started)
    assert second.returncode == 0, second.stderr
    assert statements(second.stdout) == []  # comments only: not even BEGIN or SET
    assert "Nothing to do" in second.stdout


def test_database_built_from_output_plans_empty(schema_db: str) -> None:
    result = run("plan", "--db", schema_db)
    assert result.returncode == 0, result.stderr
    assert statements(result.stdout) == [], result.stdout


def test_notes_app_built_from_output_plans_empty(empty_db: str) -> None:
    live.apply_sql(empty_db, (NOTES_APP / "output" / "schema.sql").read_text(encoding="utf-8"))
    result = run("plan", "--db", empty_db, "--spec", str(NOTES_APP / "spec"))
    assert result.returncode == 0, result.stderr
    assert statements(result.stdout) == [], result.stdout


def test_supabase_target_plans_nothing_for_the_platform(schema_db: str) -> None:
    live.apply_sql(schema_db, "COMMENT ON TABLE auth.users IS NULL; ALTER FUNCTION auth.uid() VOLATILE;")
    assert statements(run("plan", "--db", schema_db, "--target", "supabase").stdout) == []
    assert len(statements(run("plan", "--db", schema_db).stdout)) == 4  # BEGIN, 2 changes, COMMIT


# -- a small spec, edited -----------------------------------------------------------------------------------------
@pytest.fixture
def base_db(pg_server: live.Server, empty_db: str, tmp_path: Path) -> tuple[str, Path]:
    spec = write_spec(tmp_path / "base", {"01-base.yaml": BASE})
    live.apply_sql(empty_db, sql_of(build(spec).files, "schema.sql"))
    live.apply_sql(empty_db, ROWS)
    return empty_db, spec


def edited(tmp_path: Path, edit: dict[str, object]) -> Path:
    spec = json.loads(json.dumps(BASE))
    for path, value in edit.items():
        *parents, last = path.split("/")
        node = spec
        for p in parents:
            node = node.setdefault(p, {})
        if value is None:
            del node[last]
        else:
            node[last] = value
    return write_spec(tmp_path / "edited", {"01-base.yaml": spec})


def test_data_loss_is_refused_unless_allowed(base_db: tuple[str, Path], tmp_path: Path) -> None:
    dsn, _ = base_db
    spec = edited(tmp_path, {"tables/projects/columns/budget": None})
    refused = run("plan", "--db", dsn, "--spec", str(spec))
    assert refused.returncode == 1
    assert refused.stdout == ""  # nothing a pipe into psql could run
    assert "data-loss: column public.projects.budget and its values are dropped" in refused.stderr
    assert "--allow-hazard data-loss" in refused.stderr
    for allow in ("data-loss", "all"):
        allowed = run("plan", "--db", dsn, "--spec", str(spec), "--allow-hazard", allow)
        assert allowed.returncode == 0, allowed.stderr
        assert "ALTER TABLE public.projects DROP COLUMN budget;" in allowed.stdout
    other = run("plan", "--db", dsn, "--spec", str(spec), "--allow-hazard", "lock", "--allow-hazard", "authz")
    assert other.returncode == 1


def test_every_statement_is_commented_with_its_change_and_hazards(base_db: tuple[str, Path],
                                                                  tmp_path: Path) -> None:
    dsn, _ = base_db
    spec = edited(tmp_path, {"tables/projects/columns/title": {"type": "text", "not_null": True},
                             "tables/projects/policies/Owners see their projects/using": "true"})
    out = run("plan", "--db", dsn, "--spec", str(spec)).stdout
    blocks = [b for b in out.split("\n\n") if statements(b) and b.strip() not in ("BEGIN;", "COMMIT;")]
    # The view that uses the column is dropped and created again around the type change; then the policy.
    assert len(blocks) == 4
    for block in blocks:
        assert block.startswith("-- ") and block.split(" ", 2)[1].rstrip(".").isdigit(), block
    assert "hazard authz: policy 'Owners see their projects' on public.projects changes" in out
    assert "hazard lock: ACCESS EXCLUSIVE on public.projects (public.projects has" in out


def test_json_format_names_hazards(base_db: tuple[str, Path], tmp_path: Path) -> None:
    dsn, _ = base_db
    spec = edited(tmp_path, {"tables/accounts/columns/name": None})
    result = run("plan", "--db", dsn, "--spec", str(spec), "--format", "json")
    assert result.returncode == 1
    data = json.loads(result.stdout)
    assert data["refused"] and data["refused"][0].startswith("data-loss: column public.accounts.name")
    assert [c["change"] for c in data["changes"]] == ["DropColumn"]
    assert {h["kind"] for h in data["changes"][0]["hazards"]} == {"data-loss", "lock"}


def test_apply_failure_names_the_statement_and_applies_nothing(base_db: tuple[str, Path], tmp_path: Path) -> None:
    dsn, _ = base_db
    # A NOT NULL column without a default cannot be added to a table with rows; the comment before it must not
    # stay applied either.
    spec = edited(tmp_path, {"tables/accounts/comment": "People",
                             "tables/accounts/columns/phone": {"type": "text", "not_null": True}})
    before = [str(d) for d in verify(dsn, check(load_spec(spec)))]
    refused = run("apply", "--db", dsn, "--spec", str(spec))
    assert refused.returncode == 1 and "apply: nothing applied." in refused.stderr  # the plan sees it coming
    result = run("apply", "--db", dsn, "--spec", str(spec), "--allow-hazard", "data-loss")
    assert result.returncode == 1
    assert "apply failed, nothing applied: add column public.accounts.phone" in result.stderr
    assert "in: ALTER TABLE public.accounts ADD COLUMN phone text NOT NULL" in result.stderr
    assert [str(d) for d in verify(dsn, check(load_spec(spec)))] == before


def test_apply_then_verify(base_db: tuple[str, Path], tmp_path: Path) -> None:
    dsn, _ = base_db
    spec = edited(tmp_path, {"tables/accounts/columns/phone": "text"})
    result = run("apply", "--db", dsn, "--spec", str(spec))
    assert result.returncode == 0, result.stderr
    assert "1 change applied and verified" in result.stderr
    assert run("apply", "--db", dsn, "--spec", str(spec)).stderr.strip() == "apply: nothing to do"


def test_unreadable_database_exits_2() -> None:
    result = run_process("plan", "--db", "host=/nonexistent-socket-dir dbname=x user=nobody")
    assert result.returncode == 2
    assert result.stderr.startswith("plan: cannot read the database:")
    assert "Traceback" not in result.stderr


def test_spec_mistakes_come_first_and_leave_no_connection(base_db: tuple[str, Path], tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    """plan and apply read the database while the spec is checked: a spec with a mistake is still reported as
    such (exit 2, nothing planned), whether or not the database can be read, and the reading session is closed."""
    from generator import cli

    dsn, _ = base_db
    spec = edited(tmp_path, {"tables/projects/indexes/idx_projects_owner": ["no_such_column"]})
    for command, db in (("plan", dsn), ("apply", dsn), ("plan", "host=/nonexistent-socket-dir dbname=x")):
        assert cli.main([command, "--db", db, "--spec", str(spec)]) == 2
        err = capsys.readouterr().err
        assert "no_such_column" in err and "cannot read the database" not in err, err
    with psycopg.connect(dsn) as conn:
        sessions = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                "AND pid <> pg_backend_pid()").fetchone()
    assert sessions == (0,)


def test_usage_errors_exit_2() -> None:
    assert run_process("plan").returncode == 2  # neither --db nor --from
    assert run("plan", "--db", "x", "--from", "HEAD").returncode == 2
    assert run("plan", "--from", "HEAD", "--allow-hazard", "bogus").returncode == 2


# -- --online -------------------------------------------------------------------------------------------------------
def test_online_plan_builds_indexes_concurrently_and_validates_after_commit(
        base_db: tuple[str, Path], pg_server: live.Server, tmp_path: Path) -> None:
    dsn, _ = base_db
    spec = edited(tmp_path, {
        "tables/projects/indexes/idx_projects_title": ["title"],
        "tables/projects/indexes/idx_projects_owner": None,
        "tables/projects/checks": {"budget_positive": "budget IS NULL OR budget >= 0"},
        "tables/accounts/columns/name": {"type": "text", "not_null": True},
    })
    result = run("plan", "--db", dsn, "--spec", str(spec), "--online")
    assert result.returncode == 0, result.stderr
    script = result.stdout
    stmts = [s.strip() for s in statements(script)]
    assert stmts[:2] == ["SET lock_timeout = '5s'", "SET statement_timeout = '15min'"]
    commit = stmts.index("COMMIT")
    after = stmts[commit + 1:]
    assert "CREATE INDEX CONCURRENTLY idx_projects_title ON public.projects (title)" in after
    assert "DROP INDEX CONCURRENTLY IF EXISTS public.idx_projects_owner" in after
    assert any("ADD CONSTRAINT budget_positive CHECK" in s and s.endswith("NOT VALID") for s in stmts[:commit])
    assert "ALTER TABLE public.projects VALIDATE CONSTRAINT budget_positive" in after
    assert not any("SET NOT NULL" in s for s in stmts[:commit])  # no scan under ACCESS EXCLUSIVE
    assert "ALTER TABLE public.accounts ALTER COLUMN name SET NOT NULL" in after
    outside = script.split("COMMIT;")[1]
    assert "hazard index-build" not in outside
    assert "while every row is checked" not in script  # the long scans run under weaker locks
    applied = psql(pg_server, dsn, script, tmp_path)
    assert applied.returncode == 0, applied.stderr
    assert [str(d) for d in verify(dsn, check(load_spec(spec)))] == []
    assert statements(run("plan", "--db", dsn, "--spec", str(spec)).stdout) == []


# -- migration files ---------------------------------------------------------------------------------------------
def test_make_migration_writes_up_and_down_from_git(tmp_path: Path, empty_db: str, pg_server: live.Server) -> None:
    if shutil.which("git") is None:
        pytest.fail("git is needed to test migrations from a revision")
    project = tmp_path / "project"
    write_spec(project, {"01-base.yaml": BASE})
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@t"}
    for args in (["init", "-q"], ["add", "."], ["commit", "-qm", "base"]):
        subprocess.run(["git", *args], cwd=project, check=True, env=env)
    # The first migration of a project: from the revision before the spec existed is everything.
    spec = yaml.safe_load((project / "spec" / "01-base.yaml").read_text())
    spec["tables"]["accounts"]["columns"]["phone"] = "text"
    (project / "spec" / "01-base.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    first = run("migration", "add_phone", cwd=project)
    assert first.returncode == 0, first.stderr
    up = (project / "migrations" / "0001_add_phone.sql").read_text()
    down = (project / "migrations" / "0001_add_phone.down.sql").read_text()
    assert "ALTER TABLE public.accounts ADD COLUMN phone text;" in up
    assert "ALTER TABLE public.accounts DROP COLUMN phone;" in down
    assert run("migration", "again", "--from", "spec", cwd=project).stderr.endswith("nothing written\n")
    second = run("migration", "rename", cwd=project)
    assert (project / "migrations" / "0002_rename.sql").exists(), second.stderr
    # Up then down on a database built from the committed spec: back where it started.
    live.apply_sql(empty_db, sql_of(build(write_spec(tmp_path / "committed", {"01-base.yaml": BASE})).files,
                                    "schema.sql"))
    for script in (up, down):
        assert psql(pg_server, empty_db, script, tmp_path).returncode == 0
    assert [str(d) for d in verify(empty_db, check(load_spec(tmp_path / "committed" / "spec")))] == []
    assert run("migration", "Bad-Name", cwd=project).returncode == 2


def test_plan_from_output_dir_matches_generate(tmp_path: Path) -> None:
    """`plan --from EMPTY-DIR` creates what output/schema.sql creates, object for object."""
    empty = tmp_path / "empty"
    empty.mkdir()
    result = run("plan", "--from", str(empty), "--allow-hazard", "all")
    assert result.returncode == 0, result.stderr
    created = [line for line in result.stdout.splitlines() if line.startswith(("CREATE ", "ALTER ROLE", "INSERT"))]
    expected = [line for line in (OUTPUT / "schema.sql").read_text().splitlines()
                if line.startswith(("CREATE ", "ALTER ROLE", "INSERT"))]
    assert created == expected


def test_objects_the_spec_cannot_declare_are_named_and_left_alone(base_db: tuple[str, Path]) -> None:
    dsn, spec = base_db
    live.apply_sql(dsn, """
        CREATE TYPE public.mood AS ENUM ('ok', 'meh');
        CREATE MATERIALIZED VIEW public.project_count AS SELECT count(*) AS n FROM public.projects;
        CREATE PROCEDURE public.noop() LANGUAGE sql AS 'SELECT 1';
        CREATE AGGREGATE public.total(integer) (SFUNC = int4pl, STYPE = integer);
        CREATE TABLE public.bookings (during tsrange, EXCLUDE USING gist (during WITH &&));
        CREATE EXTENSION IF NOT EXISTS citext;
    """)
    result = run("plan", "--db", dsn, "--spec", str(spec), "--allow-hazard", "all")
    assert result.returncode == 0, result.stderr
    assert "-- Left alone: not modelled by the spec language: aggregate public.total(integer)" in result.stdout
    # The table, the enum type (modelled since `types:`), the extension (since `extensions:`), the materialized
    # view (since `materialized_views:`) and the procedure (since `procedures:`) the spec does not declare are
    # dropped.
    assert [s.strip() for s in statements(result.stdout)] == ["BEGIN", "DROP MATERIALIZED VIEW public.project_count",
                                                              "DROP TABLE public.bookings",
                                                              "DROP PROCEDURE public.noop()", "DROP TYPE public.mood",
                                                              "DROP EXTENSION citext", "COMMIT"]


def test_github_format_annotates_each_hazard(tmp_path: Path) -> None:
    old = write_spec(tmp_path / "old", {"01-base.yaml": BASE})
    spec = edited(tmp_path, {"tables/projects/columns/budget": None})
    result = run("plan", "--from", str(old), "--spec", str(spec), "--format", "github")
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert "::error title=data-loss::drop column public.projects.budget: column public.projects.budget and its " \
           "values are dropped" in lines
    assert any(line.startswith("::warning title=lock::drop column public.projects.budget") for line in lines)


def test_not_null_column_without_default_is_refused_while_the_table_has_rows(base_db: tuple[str, Path],
                                                                              tmp_path: Path) -> None:
    """ADD COLUMN ... NOT NULL with no default fails on a table with rows; the plan says so before it runs."""
    dsn, _ = base_db
    spec = edited(tmp_path, {"tables/projects/columns/code": {"type": "text", "not_null": True}})
    refused = run("plan", "--db", dsn, "--spec", str(spec))
    assert refused.returncode == 1
    assert "public.projects.code is NOT NULL without a default, so adding it fails" in refused.stderr
    live.apply_sql(dsn, "TRUNCATE public.projects CASCADE")
    empty = run("apply", "--db", dsn, "--spec", str(spec))  # an emptied table has no data pages left
    assert empty.returncode == 0, empty.stderr


def test_output_to_a_fifo_writes_into_it_and_leaves_it_one(tmp_path: Path) -> None:
    """`-o /dev/null` (or /dev/stdout, a FIFO) is written to: the temp-file-and-rename that keeps a regular file
    whole would put a file in place of the device (as root, /dev/null itself)."""
    import stat
    import threading

    from generator.output import write_text_atomically

    fifo = tmp_path / "plan.sql"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()), daemon=True)
    reader.start()
    writer = threading.Thread(target=write_text_atomically, args=(fifo, "BEGIN;\n"), daemon=True)
    writer.start()
    writer.join(timeout=10)
    reader.join(timeout=10)
    assert not writer.is_alive() and received == [b"BEGIN;\n"]
    assert stat.S_ISFIFO(fifo.stat().st_mode)
