"""Helpers to write small spec directories for tests."""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
from pathlib import Path
from typing import Any

import yaml

from generator import cli


def write_spec(root: Path, modules: dict[str, dict[str, Any]]) -> Path:
    """Write each module as spec/<name>.yaml under `root`; returns the spec directory."""
    spec = root / "spec"
    spec.mkdir(parents=True, exist_ok=True)
    for name, module in modules.items():
        (spec / name).write_text(yaml.safe_dump(module, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return spec


def run_in_process(cwd: Path, args: list[str]) -> subprocess.CompletedProcess[str]:
    """`python -m generator ARGS` in `cwd`, run in this process: under mutmut (MUTANT_UNDER_TEST set) a subprocess
    would import the unmutated package, so a command's test could not kill a mutant."""
    stdout, stderr = io.StringIO(), io.StringIO()
    before = Path.cwd()
    os.chdir(cwd)
    try:
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            try:
                code = cli.main(args)
            except SystemExit as done:  # argparse's --help and usage errors
                code = done.code if isinstance(done.code, int) else 2
    finally:
        os.chdir(before)
    return subprocess.CompletedProcess(args, code, stdout.getvalue(), stderr.getvalue())


def sql_of(files: list[Any], name: str) -> str:
    return next(f.text for f in files if f.name == name)


def migrate(dsn: str, new_dir: Path) -> str:
    """Plan from the database to the spec in `new_dir`, apply, and prove it: no drift, nothing left to plan.
    Returns the plan's script."""
    from generator.check import check
    from generator.drift import verify
    from generator.load import load_spec
    from generator.migrate import database
    from generator.migrate.script import script

    catalog = check(load_spec(new_dir))
    p = database.plan_database(dsn, catalog)
    text = script(p, title="test")
    database.apply(dsn, p)
    assert [str(d) for d in verify(dsn, catalog)] == []
    assert database.plan_database(dsn, catalog).empty
    return text


def lost_clause(spec_dir: Path, old: str, new: str) -> Any:
    """What `verify` says of the spec's schema.sql with `old` (which must be there) replaced by `new`: the
    Mismatch, whose `missing` and `unexpected` lines name what the SQL lost and gained."""
    from generator.order import order
    from generator.pipeline import build
    from generator.verify import verify_sql

    b = build(spec_dir)
    assert b.mismatches == []  # the untouched output verifies: only the edit makes the difference
    text = sql_of(b.files, "schema.sql")
    assert old in text
    mismatch = verify_sql("schema.sql", text.replace(old, new, 1), order(b.catalog), b.catalog, registry=True)
    assert mismatch is not None
    return mismatch


def one(dsn: str, query: str) -> Any:
    """The first value of the first row a query returns (None without a row)."""
    import psycopg

    with psycopg.connect(dsn) as conn:
        row = conn.execute(query.encode()).fetchone()
    return row[0] if row else None


def assert_verify_reports(spec_dir: Path, old: str, new: str, line: str) -> None:
    """The spec's schema.sql with `old` replaced by `new` (a clause lost): verify names the inventory line that
    starts with `line` both as missing and as unexpected."""
    mismatch = lost_clause(spec_dir, old, new)
    assert [m for m in mismatch.missing if m.startswith(line)]
    assert [u for u in mismatch.unexpected if u.startswith(line)]


def drift_after(dsn: str, spec_dir: Path, change: str) -> list[str]:
    """Apply the spec's schema.sql, then `change` (SQL): what `verify --db` reports, one line per difference."""
    from generator import live
    from generator.check import check
    from generator.drift import verify
    from generator.load import load_spec
    from generator.pipeline import build

    live.apply_sql(dsn, sql_of(build(spec_dir).files, "schema.sql"))
    live.apply_sql(dsn, change)
    return [str(x) for x in verify(dsn, check(load_spec(spec_dir)))]


def check_errors(spec_dir: Path) -> list[str]:
    """The diagnostics `check` refuses a spec directory with (it must refuse it)."""
    import pytest

    from generator.check import check
    from generator.diagnostics import SpecError
    from generator.load import load_spec

    with pytest.raises(SpecError) as refused:
        check(load_spec(spec_dir))
    return [str(d) for d in refused.value.diagnostics]
