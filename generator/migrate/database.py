"""The plan's live layer: read a database for planning, and apply a plan to it.

Reading goes through introspect (the same Snapshot `verify` reads) plus the row counts hazards need. Applying runs
the transactional part in one transaction, statement by statement, so a failure names its statement and leaves
nothing applied; the statements that cannot run in a transaction follow, each committing on its own.
"""

from __future__ import annotations

import dataclasses
import json
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import sql

from .. import introspect, sqlparse
from ..check import check
from ..derive import SEED_REGISTRY_SCHEMA, Catalog, seed_fingerprint, seed_key, seed_key_text
from ..drift import Constant, platform_children
from ..introspect import DatabaseError, Snapshot, one_line
from ..model import Schema, Table
from ..order import Placed, order
from ..sqltext import QName, parse_type, qname, value_literal
from .planner import Options, Plan, plan
from .script import Rendered, rendered
from .snapshot import CHANGED_ROW, MISSING_ROW, read_scope


@dataclass(frozen=True)
class Database:
    snapshot: Snapshot
    rows: dict[QName, int]
    skip: frozenset[str]
    unmodelled: tuple[str, ...] = ()  # `kind name` of what the spec language cannot declare (left alone)
    partial: Mapping[QName, frozenset[tuple[str, str]]] = field(default_factory=dict)  # see platform_children


def read(conn: psycopg.Connection[Any], catalog: Catalog, *, include_platform: bool) -> Database:
    schemas, roles, skip = read_scope(catalog, include_platform=include_platform)
    partial = platform_children(catalog, include_platform=include_platform)
    snapshot = introspect.read(conn, sorted(set(schemas) | {name.schema for name in partial}), roles)
    try:
        rows = {QName(schema, name): (estimate if estimate > 0 else -1 if has_data else 0)
                for schema, name, estimate, has_data in conn.execute(introspect.query("table_rows"),
                                                                     {"schemas": schemas}).fetchall()}
    except psycopg.Error as exc:
        raise DatabaseError(one_line(exc)) from None
    seeds, registry = _read_seeds(conn, catalog)
    try:
        unmodelled = tuple(f"{kind} {name}" for kind, name in
                           conn.execute(introspect.query("unmodelled"), {"schemas": schemas}).fetchall())
    except psycopg.Error as exc:
        raise DatabaseError(one_line(exc)) from None
    return Database(dataclasses.replace(snapshot, seeds=seeds, seed_registry=registry), rows, skip, unmodelled,
                    partial)


def _read_seeds(conn: psycopg.Connection[Any], catalog: Catalog) -> tuple[dict[QName, dict[str, str]], bool]:
    """The registry's rows per table, each with the fingerprint of the spec row of the same key when the
    database row still holds exactly those values (so the planner sees "unchanged"), else a marker."""
    registry = f"{SEED_REGISTRY_SCHEMA}.seed_rows"
    try:
        if conn.execute("SELECT to_regclass(%s)", (registry,)).fetchone() == (None,):
            return {}, False
        entries = conn.execute(f"SELECT table_name, key::text FROM {registry} ORDER BY 1, 2").fetchall()
    except psycopg.Error as exc:
        raise DatabaseError(one_line(exc)) from None
    renamed = {QName(n.schema, t.renamed_from): n for n, t in catalog.tables.items() if t.renamed_from}
    keyed = []
    for table_name, key_json in entries:
        in_db = qname(table_name)
        name = in_db if in_db in catalog.tables else renamed.get(in_db, in_db)
        keyed.append((name, in_db, json.dumps(json.loads(key_json), sort_keys=True, separators=(",", ":"))))
    out: dict[QName, dict[str, str]] = {}
    for (name, _, key_text), state in zip(keyed, _seed_states(conn, catalog, keyed), strict=True):
        out.setdefault(name, {})[key_text] = state
    return out, True


# Registry rows counted per statement: one round trip for many rows (a statement per row made the reading thread
# wait for the interpreter after each one while check ran), in statements of a bounded size.
SEED_PROBES_PER_STATEMENT = 200


def _seed_states(conn: psycopg.Connection[Any], catalog: Catalog, entries: list[tuple[QName, QName, str]]) \
        -> list[str]:
    """The state of each registry row (spec name, name in the database, key): the fingerprint of the spec row of
    the same key when the database row still holds exactly its values, else CHANGED_ROW or MISSING_ROW."""
    states: list[str] = []
    probes: list[tuple[int, sql.Composable, str]] = []  # (entry, its count query, fingerprint when unchanged)
    for n, (name, in_db, key_text) in enumerate(entries):
        probe = _seed_probe(catalog.tables.get(name), in_db, key_text, catalog)
        states.append(probe if isinstance(probe, str) else "")
        if not isinstance(probe, str):
            probes.append((n, *probe))
    for first in range(0, len(probes), SEED_PROBES_PER_STATEMENT):
        chunk = probes[first:first + SEED_PROBES_PER_STATEMENT]
        statement = sql.SQL(" UNION ALL ").join(
            sql.SQL("(SELECT {}::int, {})").format(sql.Literal(n), query) for n, query, _ in chunk)
        try:
            counts: dict[int, tuple[int, int] | None] = {
                n: (same, rows) for n, same, rows in conn.execute(statement).fetchall()}
        except psycopg.Error:  # a column some table does not have yet: each alone, so only those rows change
            counts = {n: _count(conn, query) for n, query, _ in chunk}
        for n, _, fingerprint in chunk:
            found = counts[n]
            states[n] = CHANGED_ROW if found is None else fingerprint if found[0] else \
                CHANGED_ROW if found[1] else MISSING_ROW
    return states


def _count(conn: psycopg.Connection[Any], query: sql.Composable) -> tuple[int, int] | None:
    try:
        found = conn.execute(sql.SQL("SELECT {}").format(query)).fetchone()
    except psycopg.Error:  # a column the database does not have yet: the row must change
        return None
    return (found[0], found[1]) if found else None


def _seed_probe(table: Table | None, in_db: QName, key_text: str, catalog: Catalog) \
        -> str | tuple[sql.Composable, str]:
    """A registry row's state when the spec alone says it (the table or the row is gone: CHANGED_ROW, the planner
    deletes it), else the select list that counts, in the database, the rows of its key that hold the spec row's
    values and all rows of its key, with the spec row's fingerprint."""
    if table is None:
        return CHANGED_ROW
    key = seed_key(table, catalog.constraints(table))
    row = next((r for r in table.seed if seed_key_text(r.values, key) == key_text), None)
    if row is None:
        return CHANGED_ROW  # the spec no longer has it: the planner deletes it
    types = {c.name: c.type for c in table.columns}

    def same(columns: Iterable[str]) -> sql.Composable:
        return sql.SQL(" AND ").join(
            sql.SQL("{} IS NOT DISTINCT FROM CAST({} AS {})").format(
                sql.Identifier(c), sql.SQL(value_literal(row.values.get(c), parse_type(types[c]))),
                sql.SQL(str(parse_type(types[c])))) for c in columns) if columns else sql.SQL("true")

    query = sql.SQL("count(*) FILTER (WHERE {}), count(*) FROM {}.{} WHERE {}").format(
        same(list(row.values)), sql.Identifier(in_db.schema), sql.Identifier(in_db.name), same(key))
    return query, seed_fingerprint(row.values)


def constants(conn: psycopg.Connection[Any]) -> Constant:
    return introspect.Constants(conn)


def plan_database(dsn: str, catalog: Catalog, *, options: Options | None = None,
                  include_platform: bool = True) -> Plan:
    """The plan from the database at `dsn` to the spec; raises DatabaseError when it cannot be read."""
    with introspect.connect(dsn) as conn:
        return plan_connection(conn, catalog, options=options, include_platform=include_platform)


def plan_connection(conn: psycopg.Connection[Any], catalog: Catalog, *, options: Options | None = None,
                    include_platform: bool = True) -> Plan:
    """plan_database over a session introspect.connect opened (one session may read the database again and
    again, its catalog caches warm: the evolution tests plan, apply and plan again)."""
    return _plan(conn, read(conn, catalog, include_platform=include_platform), catalog, options)


def check_and_plan(dsn: str, schema: Schema, *, options: Options | None = None,
                   include_platform: bool = True) -> tuple[Catalog, Plan]:
    """`check(schema)` and the plan from the database at `dsn` to it (plan_database), with the database read in a
    thread of its own while the spec is checked: the server's work on the catalog queries and the waiting for it
    overlap check's. Raises SpecError (first: a spec with mistakes is reported as without a database) or
    DatabaseError."""
    done: dict[str, Any] = {}

    def reading() -> None:
        try:
            done["conn"] = introspect.connect(dsn)
            # The catalog check builds is Catalog(schema) too: reading needs no more than its names and seed rows.
            done["db"] = read(done["conn"], Catalog(schema), include_platform=include_platform)
        except BaseException as exc:  # noqa: BLE001 - raised again in the caller's thread, after check
            done["error"] = exc

    reader = threading.Thread(target=reading, name="pgspec read", daemon=True)
    reader.start()
    try:
        catalog = check(schema)
        placed = order(catalog)  # the plan's order of the spec: computed while the reader waits for the server
    except BaseException:
        reader.join()  # its connection closed before the spec's mistakes are reported
        _close(done)
        raise
    reader.join()
    if "error" in done:
        _close(done)
        raise done["error"]
    with done["conn"] as conn:
        return catalog, _plan(conn, done["db"], catalog, options, placed)


def _close(done: dict[str, Any]) -> None:
    if "conn" in done:
        done["conn"].close()


def _plan(conn: psycopg.Connection[Any], db: Database, catalog: Catalog, options: Options | None,
          placed: list[Placed] | None = None) -> Plan:
    return plan(catalog, db.snapshot, options=options or Options(), rows=db.rows, constant=constants(conn),
                skip=db.skip, notes=[f"not modelled by the spec language: {u}" for u in db.unmodelled],
                partial=db.partial, placed=placed)


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
        conn.autocommit = True
        for r in items:  # each commits on its own, before the transaction that may use what it adds
            if r.step.before:
                _run(conn, r)
        conn.autocommit = False
        with conn.transaction():  # an ApplyError leaving the block rolls everything back
            for r in items:
                if r.step.transactional:
                    _run(conn, r)
        conn.autocommit = True
        for r in items:
            if not r.step.transactional and not r.step.before:
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
