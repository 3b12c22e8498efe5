"""Plans, proven live: each step of the evolution corpus (tests/evolution.py) migrates a database built from the
old spec's output, with rows in it, to the new spec and back again.

For every step, both ways: the plan applies; then one read of the database finds no drift against the spec planned
to (drift.compare, what `verify` reports) and nothing left to plan; the step's own expectations hold (data kept,
defaults filled, a changed policy admitting and denying the right user); the hazards and change kinds the step
must (not) use are checked from the plan's typed changes. Forward plans are planned against the live database
(`plan --db`); the way back is planned between the two specs without a database (`plan --from`), as
`make migration` writes a down migration, and applied to the same database.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path
from typing import Any

import psycopg
import pytest
from conftest import record
from evolution import CASES, KEPT, USERS, Case
from psycopg import errors
from specs import sql_of, write_spec

from generator import introspect, live
from generator.check import check
from generator.derive import Catalog
from generator.diagnostics import SpecError
from generator.load import load_spec
from generator.migrate import database
from generator.migrate.planner import Options, Plan, plan
from generator.migrate.snapshot import declared, inverted, of_spec
from generator.pipeline import build

_counter = iter(range(1_000_000))


def plan_db(reader: psycopg.Connection[Any], catalog: Catalog, options: Options | None = None) -> Plan:
    return database.plan_connection(reader, catalog, options=options)


def converge(dsn: str, reader: psycopg.Connection[Any], catalog: Catalog, p: Plan) -> None:
    """Apply a plan; then one read of the database: no drift (the differences `verify` reports, drift.compare of
    the same read) and a new plan must be empty."""
    database.apply(dsn, p)
    again = plan_db(reader, catalog)
    assert [str(d) for d in again.differences] == []
    assert [s.change.describe() for s in again.steps] == []


def condition(expected: Any) -> type[Exception] | None:
    """The exception class of a SQLSTATE condition name (`check_violation`, `insufficient_privilege`), or None
    when the expectation is a value: a label with an underscore (`in_progress`) is not a condition name."""
    if not (isinstance(expected, str) and "_" in expected and expected.islower()):
        return None
    try:
        return errors.lookup(expected.upper())
    except KeyError:
        return None


def run_check(conn: psycopg.Connection[Any], query: str, expected: Any) -> None:
    """One expectation: a value, or the name of the SQLSTATE condition the statement must raise."""
    who = None
    if query.startswith("AS "):
        who, query = query[3:].split(":", 1)
    failure = condition(expected)
    with conn.transaction(force_rollback=True):
        if who is not None:
            conn.execute("SELECT set_config('app.user_id', %s, true)", (USERS[who.strip()],))
            conn.execute("SET LOCAL ROLE authenticated")
        if failure is not None:
            with pytest.raises(failure):
                conn.execute(query.encode())
            return
        row = conn.execute(query.encode()).fetchone()
    got = row[0] if row else None
    assert (got if not isinstance(got, int | float) or isinstance(got, bool) else int(got)) == \
        (int(expected) if isinstance(expected, str) and expected.isdigit() and not isinstance(got, str)
         else expected), query


def fresh_db(pg_server: live.Server, spec_dir: Path, rows: str) -> str:
    name = f"pgspec_plan{os.getpid()}_{next(_counter)}"
    dsn = live.create_database(pg_server, name)
    live.apply_sql(dsn, sql_of(build(spec_dir).files, "schema.sql"))
    live.apply_sql(dsn, rows)
    return dsn


def kinds(p: Plan) -> tuple[set[str], set[str]]:
    return p.hazard_kinds(), {type(s.change).__name__ for s in p.steps}


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_evolution_step(case: Case, pg_server: live.Server, tmp_path: Path) -> None:
    old_dir = write_spec(tmp_path / "old", {"01-base.yaml": case.old()})
    new_dir = write_spec(tmp_path / "new", {"01-base.yaml": case.after()})
    old, new = check(load_spec(old_dir)), check(load_spec(new_dir))
    dsn = fresh_db(pg_server, old_dir, case.rows)
    try:
        # One reading session (as plan --db opens it) and one for the checks, each reused through the step.
        with introspect.connect(dsn) as reader, psycopg.connect(dsn, autocommit=True) as checker:
            started = time.perf_counter()
            forward = plan_db(reader, new)
            record("plan --db (evolution step)", time.perf_counter() - started)
            assert not forward.empty, "the edit must change something"
            hazard_kinds, change_kinds = kinds(forward)
            assert case.hazards <= hazard_kinds, forward
            assert not case.not_hazards & hazard_kinds
            assert case.changes <= change_kinds
            assert not case.not_changes & change_kinds
            converge(dsn, reader, new, forward)
            for query, expected in case.checks:
                run_check(checker, query, expected)
            if case.kept:
                for query, expected in KEPT:
                    run_check(checker, query, expected)
            # Back, as a down migration: planned between the specs, without looking at the database.
            if case.down_refused:  # what PostgreSQL cannot undo (an enum value) is refused, at the spec's line
                with pytest.raises(SpecError, match=re.escape(case.down_refused)):
                    plan(old, of_spec(new), renames=inverted(declared(new)))
                return
            back = plan(old, of_spec(new), renames=inverted(declared(new)))
            converge(dsn, reader, old, back)
            if case.kept:
                for query, expected in KEPT:
                    run_check(checker, query, expected)
    finally:
        live.drop_database(pg_server, live.database_name(dsn))


def test_corpus_is_large_enough() -> None:
    assert len(CASES) >= 40
    assert len({c.id for c in CASES}) == len(CASES)
