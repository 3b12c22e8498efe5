"""Helpers to write small spec directories for tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml


def write_spec(root: Path, modules: dict[str, dict[str, Any]]) -> Path:
    """Write each module as spec/<name>.yaml under `root`; returns the spec directory."""
    spec = root / "spec"
    spec.mkdir(parents=True, exist_ok=True)
    for name, module in modules.items():
        (spec / name).write_text(yaml.safe_dump(module, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return spec


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


def one(dsn: str, query: str) -> Any:
    """The first value of the first row a query returns (None without a row)."""
    import psycopg

    with psycopg.connect(dsn) as conn:
        row = conn.execute(query.encode()).fetchone()
    return row[0] if row else None


def check_errors(spec_dir: Path) -> list[str]:
    """The diagnostics `check` refuses a spec directory with (it must refuse it)."""
    import pytest

    from generator.check import check
    from generator.diagnostics import SpecError
    from generator.load import load_spec

    with pytest.raises(SpecError) as refused:
        check(load_spec(spec_dir))
    return [str(d) for d in refused.value.diagnostics]
