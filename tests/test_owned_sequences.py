"""Sequences OWNED BY a column (`owned_by:`), and PostgreSQL's serial columns written with them: the output creates
the sequence before the table whose default calls it and sets the ownership after the table, PostgreSQL then
treats the column as serial, verify notices a lost or changed OWNED BY, and `verify --db` a database that differs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from specs import assert_verify_reports, check_errors, drift_after, lost_clause, one, sql_of, write_spec

from generator import live, sqlparse
from generator.check import check
from generator.load import load_spec
from generator.migrate.planner import plan
from generator.migrate.snapshot import of_spec
from generator.pipeline import build
from generator.verify import SEED_REGISTRY, TOOL_SCHEMA

# Written as PostgreSQL's serial and bigserial are (CREATE TABLE ... id serial): in public, in another schema, and
# on a table another role owns (the sequence must have the same owner). The sequences come in a later module than
# the tables using them: the order is the dependencies', not the files'.
TABLES = {
    "module": "Tables",
    "roles": {"pgspec_serial_owner": {}},
    "schemas": {"app": {}},
    "tables": {
        "tickets": {"columns": {
            "id": {"type": "integer", "not_null": True, "primary_key": True,
                   "default_sql": "nextval('public.tickets_id_seq'::regclass)"},
            "title": "text"}},
        "app.events": {"owner": "pgspec_serial_owner", "columns": {
            "id": {"type": "bigint", "not_null": True, "default_sql": "nextval('app.events_id_seq'::regclass)"},
            "kind": "text"}},
    },
}
SEQUENCES = {
    "module": "Sequences",
    "sequences": {
        "tickets_id_seq": {"type": "integer", "owned_by": "tickets.id"},
        "app.events_id_seq": {"owned_by": "app.events.id", "owner": "pgspec_serial_owner"},
    },
}


@pytest.fixture(scope="module")
def spec_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_spec(tmp_path_factory.mktemp("owned"), {"01-tables.yaml": TABLES, "02-sequences.yaml": SEQUENCES})


@pytest.fixture(scope="module")
def schema_sql(spec_dir: Path) -> str:
    b = build(spec_dir)
    assert b.mismatches == []
    return sql_of(b.files, "schema.sql")


def test_sequence_before_its_table_ownership_after(schema_sql: str) -> None:
    create_seq = schema_sql.index("CREATE SEQUENCE public.tickets_id_seq")
    create_table = schema_sql.index("CREATE TABLE public.tickets")
    owned = schema_sql.index("ALTER SEQUENCE public.tickets_id_seq OWNED BY public.tickets.id;")
    assert create_seq < create_table < owned
    assert schema_sql.index("CREATE SEQUENCE app.events_id_seq") < schema_sql.index("CREATE TABLE app.events") \
        < schema_sql.index("ALTER SEQUENCE app.events_id_seq OWNED BY app.events.id;")


def _one_each(dsn: str, queries: list[str]) -> list[Any]:
    return [one(dsn, q) for q in queries]


def test_postgresql_treats_the_columns_as_serial(empty_db: str, spec_dir: Path) -> None:
    # the output applies, and verify --db finds the database to be the spec
    assert drift_after(empty_db, spec_dir, "SELECT 1") == []
    # pg_get_serial_sequence: PostgreSQL's own answer to "which sequence does this column own"
    assert _one_each(empty_db, ["SELECT pg_get_serial_sequence('public.tickets', 'id')",
                                "SELECT pg_get_serial_sequence('app.events', 'id')",
                                "SELECT pg_get_serial_sequence('public.tickets', 'title')"]) == \
        ["public.tickets_id_seq", "app.events_id_seq", None]
    assert one(empty_db, "SELECT relowner::regrole::text FROM pg_class WHERE oid = 'app.events_id_seq'::regclass") \
        == "pgspec_serial_owner"
    # the defaults number the rows
    live.apply_sql(empty_db, "INSERT INTO public.tickets (title) VALUES ('a'), ('b'); "
                             "INSERT INTO app.events (kind) VALUES ('x')")
    assert one(empty_db, "SELECT array_agg(id ORDER BY id) FROM public.tickets") == [1, 2]
    assert one(empty_db, "SELECT max(id) FROM app.events") == 1


def test_dropping_the_table_drops_its_sequence(schema_sql: str, empty_db: str) -> None:
    live.apply_sql(empty_db, schema_sql)
    live.apply_sql(empty_db, "DROP TABLE public.tickets")
    assert one(empty_db, "SELECT to_regclass('public.tickets_id_seq') IS NULL") is True


@pytest.mark.parametrize(("change", "expected"), [
    ("ALTER SEQUENCE public.tickets_id_seq OWNED BY NONE",
     "sequence public.tickets_id_seq: owned_by public.tickets.id in spec, none in database"),
    ("ALTER SEQUENCE public.tickets_id_seq OWNED BY public.tickets.title",
     "sequence public.tickets_id_seq: owned_by public.tickets.id in spec, public.tickets.title in database"),
])
def test_verify_db_reports_another_ownership(spec_dir: Path, empty_db: str, change: str, expected: str) -> None:
    assert drift_after(empty_db, spec_dir, change) == [expected]


def test_verify_db_reports_ownership_the_spec_does_not_say(tmp_path: Path, empty_db: str) -> None:
    """A serial column's sequence declared without `owned_by:`: the database's ownership is a difference."""
    plain = {**SEQUENCES, "sequences": {**SEQUENCES["sequences"], "tickets_id_seq": {"type": "integer"}}}
    spec = write_spec(tmp_path, {"01-tables.yaml": TABLES, "02-sequences.yaml": plain})
    assert drift_after(empty_db, spec, "ALTER SEQUENCE public.tickets_id_seq OWNED BY public.tickets.id") == \
        ["sequence public.tickets_id_seq: owned_by none in spec, public.tickets.id in database"]


@pytest.mark.parametrize(("old", "new"), [
    ("ALTER SEQUENCE public.tickets_id_seq OWNED BY public.tickets.id;", "SELECT 1;"),  # lost
    ("OWNED BY public.tickets.id;", "OWNED BY public.tickets.title;"),  # another column
    ("OWNED BY public.tickets.id;", "OWNED BY NONE;"),
])
def test_verify_notices_a_lost_or_changed_owned_by(spec_dir: Path, old: str, new: str) -> None:
    mismatch = lost_clause(spec_dir, old, new)
    assert [m for m in mismatch.missing if m not in (SEED_REGISTRY, TOOL_SCHEMA)] == \
        ["sequence public.tickets_id_seq owned by public.tickets.id"]
    if new != "SELECT 1;":
        assert len(mismatch.unexpected) == 1 and mismatch.unexpected[0].startswith("sequence public.tickets_id_seq ")


def test_check_refuses_what_postgresql_refuses(tmp_path: Path, empty_db: str) -> None:
    """The owners and schemas check refuses are PostgreSQL's refusals too (asked of the server here)."""
    live.apply_sql(empty_db, "CREATE SCHEMA app; CREATE TABLE app.t (id integer); CREATE SEQUENCE public.s")
    with pytest.raises(Exception, match="same schema"):
        live.apply_sql(empty_db, "ALTER SEQUENCE public.s OWNED BY app.t.id")
    with pytest.raises(Exception, match="same owner"):
        live.apply_sql(empty_db, "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = "
                                 "'pgspec_serial_owner') THEN CREATE ROLE pgspec_serial_owner; END IF; END $$; "
                                 "CREATE TABLE public.t (id integer); ALTER TABLE public.t OWNER TO "
                                 "pgspec_serial_owner; ALTER SEQUENCE public.s OWNED BY public.t.id")
    spec = write_spec(tmp_path, {"01-x.yaml": {"module": "X",
        "roles": {"pgspec_serial_owner": {}}, "schemas": {"app": {}},
        "tables": {"app.t": {"columns": {"id": "integer"}},
                   "t": {"owner": "pgspec_serial_owner", "columns": {"id": "integer"}}},
        "sequences": {"s": {"owned_by": "app.t.id"}, "s2": {"owned_by": "t.id"}}}})
    errors = check_errors(spec)
    assert len(errors) == 2
    assert "in the sequence's schema" in errors[0] and "same owner" in errors[1]


def test_a_lost_owned_by_is_reported_by_its_line(spec_dir: Path) -> None:
    assert_verify_reports(spec_dir, "OWNED BY app.events.id", "OWNED BY app.events.kind",
                          "sequence app.events_id_seq owned by")


@pytest.mark.parametrize(("expr", "names"), [
    ("nextval('s')", {(None, "s")}),
    ("nextval('app.s'::regclass)", {("app", "s")}),
    ("""nextval('"Odd Schema"."Seq $"'::regclass)""", {("Odd Schema", "Seq $")}),
    ("nextval('App.S')", {("app", "s")}),  # folded, as regclass input folds an unquoted name
    ("currval('a') + setval('b', 1)", {(None, "a"), (None, "b")}),
    ("lower('s')", set()),
    ("nextval(some_text_column::regclass)", set()),  # not a constant: nothing to order by
])
def test_the_sequences_a_default_calls(expr: str, names: set[tuple[str | None, str]]) -> None:
    assert sqlparse.sequence_names(sqlparse.parse_expression(expr)) == names


def test_a_plan_does_not_drop_a_sequence_its_table_took_along(spec_dir: Path, tmp_path: Path) -> None:
    """Without the table, its owned sequence goes with it: the plan drops the table and says so of the sequence."""
    fewer = {**TABLES, "tables": {"app.events": TABLES["tables"]["app.events"]}}
    sequences = {**SEQUENCES, "sequences": {"app.events_id_seq": SEQUENCES["sequences"]["app.events_id_seq"]}}
    new_dir = write_spec(tmp_path, {"01-tables.yaml": fewer, "02-sequences.yaml": sequences})
    p = plan(check(load_spec(new_dir)), of_spec(check(load_spec(spec_dir))))
    assert [s.change.describe() for s in p.steps] == ["drop table public.tickets"]
    assert "sequence public.tickets_id_seq is dropped with table public.tickets, which owns it" in p.notes
