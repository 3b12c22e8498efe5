"""The plan's live layer: read a database for planning, and apply a plan to it.

Reading goes through introspect (the same Snapshot `verify` reads) plus the row counts hazards need. Applying runs
the transactional part in one transaction, statement by statement, so a failure names its statement and leaves
nothing applied; the statements that cannot run in a transaction follow, each committing on its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg

from .. import introspect, sqlparse
from ..derive import Catalog
from ..drift import Constant
from ..introspect import DatabaseError, Snapshot, one_line
from ..sqltext import QName
from .planner import Options, Plan, plan
from .script import Rendered, rendered
from .snapshot import read_scope


@dataclass(frozen=True)
class Database:
    snapshot: Snapshot
    rows: dict[QName, int]
    skip: frozenset[str]


def read(conn: psycopg.Connection[Any], catalog: Catalog, *, include_platform: bool) -> Database:
    schemas, roles, skip = read_scope(catalog, include_platform=include_platform)
    snapshot = introspect.read(conn, schemas, roles)
    try:
        rows = {QName(schema, name): (estimate if estimate > 0 else -1 if has_data else 0)
                for schema, name, estimate, has_data in conn.execute(introspect.query("table_rows"),
                                                                     {"schemas": schemas}).fetchall()}
    except psycopg.Error as exc:
        raise DatabaseError(one_line(exc)) from None
    return Database(snapshot, rows, skip)


def constants(conn: psycopg.Connection[Any]) -> Constant:
    return introspect.Constants(conn)


def plan_database(dsn: str, catalog: Catalog, *, options: Options | None = None,
                  include_platform: bool = True) -> Plan:
    """The plan from the database at `dsn` to the spec; raises DatabaseError when it cannot be read."""
    with introspect.connect(dsn) as conn:
        db = read(conn, catalog, include_platform=include_platform)
        return plan(catalog, db.snapshot, options=options or Options(), rows=db.rows, constant=constants(conn),
                    skip=db.skip)


class ApplyError(Exception):
    """A statement of the plan failed; the message names the change and the statement."""


def statements(sql: str) -> list[str]:
    """The statements of one change's SQL, each as written."""
    return [text.strip() for _, text in sqlparse.split_statements(sql)]


def apply(dsn: str, plan: Plan) -> list[Rendered]:
    """Run the plan; raises ApplyError naming the failing statement (the transaction is then rolled back)."""
    items = rendered(plan)
    try:
        conn = psycopg.connect(dsn, connect_timeout=introspect.CONNECT_TIMEOUT, application_name="pgspec apply")
    except psycopg.Error as exc:
        raise DatabaseError(one_line(exc)) from None
    with conn:
        with conn.transaction():  # an ApplyError leaving the block rolls everything back
            for r in items:
                if r.step.transactional:
                    _run(conn, r)
        conn.autocommit = True
        for r in items:
            if not r.step.transactional:
                _run(conn, r)
    return items


def _run(conn: psycopg.Connection[Any], r: Rendered) -> None:
    for statement in statements(r.sql):
        try:
            conn.execute(statement.encode())  # bytes: the simple query protocol, as psql sends it
        except psycopg.Error as exc:
            raise ApplyError(f"{r.step.change.describe()}: {one_line(exc)}\n    in: {_first_line(statement)}") \
                from None


def _first_line(statement: str) -> str:
    lines = statement.strip().splitlines()
    return lines[0] + (" ..." if len(lines) > 1 else "")
