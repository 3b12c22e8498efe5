"""`pgspec init`: the starter project generates, checks, applies and verifies as created, through its own
Makefile, on the live test database; its policies do what its example module says."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg
import pytest
from conftest import ROOT

from generator import cli, live
from generator.scaffold import project_files

PGSPEC = f"{sys.executable} -m generator"


def _make(project: Path, server: live.Server, *targets: str, **variables: str) -> subprocess.CompletedProcess[str]:
    """The project's Makefile, with `pgspec` run from these sources and the server's psql on PATH."""
    assert server.psql is not None, "the live server has no psql binary"
    env = {**os.environ, "PYTHONPATH": str(ROOT),
           "PATH": f"{Path(server.psql).parent}{os.pathsep}{os.environ['PATH']}"}
    return subprocess.run(["make", "--no-print-directory", "-C", str(project), f"PGSPEC={PGSPEC}",
                           *(f"{k}={v}" for k, v in variables.items()), *targets],
                          capture_output=True, text=True, check=False, env=env)


def test_init_writes_the_starter_and_refuses_to_overwrite(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    project = tmp_path / "app"
    assert cli.main(["init", str(project)]) == 0
    written = sorted(str(p.relative_to(project)) for p in project.rglob("*") if p.is_file())
    assert written == sorted(project_files("postgres"))
    assert (project / "spec" / "01-notes.yaml").read_text().startswith(
        "# yaml-language-server: $schema=../spec.schema.json\n")
    assert "TARGET       ?= postgres" in (project / "Makefile").read_text()
    (project / "spec" / "01-notes.yaml").write_text("module: Mine\n")
    capsys.readouterr()
    assert cli.main(["init", str(project)]) == 2
    assert "already has" in capsys.readouterr().err
    assert (project / "spec" / "01-notes.yaml").read_text() == "module: Mine\n"  # nothing overwritten


def test_init_postgres_project_generates_checks_applies_and_verifies(tmp_path: Path, pg_server: live.Server,
                                                                    empty_db: str) -> None:
    project = tmp_path / "app"
    assert cli.main(["init", str(project)]) == 0
    result = _make(project, pg_server, "generate", "check", "apply", "verify", DATABASE_URL=empty_db)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no drift" in result.stdout
    alice, bob = str(uuid.uuid4()), str(uuid.uuid4())
    with psycopg.connect(empty_db, autocommit=True) as conn:
        conn.execute("INSERT INTO auth.users (id) VALUES (%s), (%s)", (alice, bob))
        conn.execute("INSERT INTO public.notes (owner_id, title) VALUES (%s, 'draft'), (%s, 'out')", (alice, alice))
        conn.execute("UPDATE public.notes SET state = 'published' WHERE title = 'out'")
        with live.acting_as(conn, bob):  # bob sees alice's published note only, and cannot write as alice
            assert conn.execute("SELECT title FROM public.notes").fetchall() == [("out",)]
            assert conn.execute("UPDATE public.notes SET title = 'x' RETURNING id").fetchall() == []
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute("INSERT INTO public.notes (owner_id, title) VALUES (%s, 'forged')", (alice,))
        with live.acting_as(conn, alice):
            assert sorted(conn.execute("SELECT title FROM public.notes").fetchall()) == [("draft",), ("out",)]
            assert conn.execute("INSERT INTO public.notes (title) VALUES ('mine') RETURNING owner_id::text"
                                ).fetchone() == (alice,)


def test_init_supabase_project_leaves_the_platform_to_the_platform(tmp_path: Path, pg_server: live.Server,
                                                                   empty_db: str) -> None:
    project = tmp_path / "app"
    assert cli.main(["init", str(project), "--target", "supabase"]) == 0
    assert "TARGET       ?= supabase" in (project / "Makefile").read_text()
    result = _make(project, pg_server, "generate", "check")
    assert result.returncode == 0, result.stdout + result.stderr
    assert not (project / "output" / "00-platform.sql").exists()
    assert "CREATE SCHEMA auth" not in (project / "output" / "schema.sql").read_text()
    # Stand in for Supabase: what the platform module declares, applied first.
    assert cli.main(["generate", "--quiet", "--spec", str(project / "spec"), "--out", str(tmp_path / "platform")]) == 0
    live.apply_sql(empty_db, (tmp_path / "platform" / "00-platform.sql").read_text())
    result = _make(project, pg_server, "apply", "verify", DATABASE_URL=empty_db)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no drift" in result.stdout
