"""Enum types (`types: {name: {enum: [...]}}`), through every stage: the support-types example applies to a live
PostgreSQL and reads back without drift; a changed database is reported; plans add and rename values (ADD VALUE
runs before the plan's transaction, so the transaction may use the value) and refuse what PostgreSQL cannot do.

Expectations come from PostgreSQL itself (pg_enum, format_type, the rows a query returns), not from the tool.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import psycopg
import pytest
from conftest import ROOT
from specs import migrate, one, sql_of, write_spec

from generator import live
from generator.check import check
from generator.diagnostics import SpecError
from generator.drift import verify
from generator.load import load_spec
from generator.migrate import database
from generator.migrate.planner import plan
from generator.migrate.snapshot import declared, inverted, of_spec
from generator.pipeline import build
from generator.verify import found

EXAMPLE = ROOT / "examples" / "support-types"

BASE: dict[str, Any] = {
    "module": "Enum base",
    "types": {"status": {"enum": ["open", "closed"]}},
    "tables": {"tickets": {"columns": {"id": {"type": "bigint", "primary_key": True},
                                       "status": {"type": "status", "not_null": True, "default": "open"}}}},
}


def spec(tmp_path: Path, name: str, body: dict[str, Any]) -> Path:
    return write_spec(tmp_path / name, {"01-base.yaml": body})


def labels(dsn: str, type_name: str) -> list[str]:
    with psycopg.connect(dsn) as conn:
        rows = conn.execute("SELECT enumlabel FROM pg_enum WHERE enumtypid = %s::regtype ORDER BY enumsortorder",
                            (type_name,)).fetchall()
    return [r[0] for r in rows]


# -- render and verify -----------------------------------------------------------------------------------------------
def test_example_output_declares_each_type_and_its_users() -> None:
    sql = (EXAMPLE / "output" / "schema.sql").read_text(encoding="utf-8")
    inventory = found(sql)
    assert "type public.ticket_status enum ['open', 'pending', 'closed']" in inventory
    assert "type desk.priority enum ['low', 'normal', 'high', 'urgent']" in inventory
    assert "column desk.tickets.history public.ticket_status[] not_null=True default=yes" in inventory
    # Created before their first user.
    assert sql.index("CREATE TYPE public.ticket_status") < sql.index("CREATE FUNCTION desk.next_status")
    assert sql.index("CREATE TYPE desk.priority") < sql.index("CREATE TABLE desk.tickets")


def test_a_type_in_a_later_module_is_created_before_the_table_that_uses_it(tmp_path: Path) -> None:
    body = copy.deepcopy(BASE)
    types = body.pop("types")
    out = build(write_spec(tmp_path / "s", {"01-base.yaml": body, "02-types.yaml": {"module": "Types",
                                                                                   "types": types}})).files
    text = sql_of(out, "schema.sql")
    assert text.index("CREATE TYPE public.status") < text.index("CREATE TABLE public.tickets")


# -- live: apply, introspect, drift ----------------------------------------------------------------------------------
def test_a_type_named_with_the_pg_prefix_is_accepted(tmp_path: Path, empty_db: str) -> None:
    """PostgreSQL reserves the pg_ prefix for roles and schemas, not for types: `CREATE TYPE public.pg_mood` works,
    so an existing schema holding one can be written down as it is."""
    body = copy.deepcopy(BASE)
    body["types"]["pg_mood"] = {"enum": ["calm", "cross"]}
    body["tables"]["tickets"]["columns"]["mood"] = {"type": "pg_mood"}
    spec = write_spec(tmp_path / "s", {"01-base.yaml": body})
    live.apply_sql(empty_db, sql_of(build(spec).files, "schema.sql"))
    assert labels(empty_db, "public.pg_mood") == ["calm", "cross"]
    assert [str(d) for d in verify(empty_db, check(load_spec(spec)))] == []


def test_example_applies_and_reads_back_without_drift(empty_db: str) -> None:
    live.apply_sql(empty_db, (EXAMPLE / "output" / "schema.sql").read_text(encoding="utf-8"))
    assert [str(d) for d in verify(empty_db, check(load_spec(EXAMPLE / "spec")))] == []
    assert labels(empty_db, "desk.priority") == ["low", "normal", "high", "urgent"]
    assert one(empty_db, "SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
                         "WHERE attrelid = 'desk.tickets'::regclass AND attname = 'history'") == "ticket_status[]"
    # The type works as PostgreSQL's: in a function, a cast, and its sort order.
    assert one(empty_db, "SELECT desk.next_status('open')") == "pending"
    assert one(empty_db, "SELECT desk.is_urgent('urgent') AND NOT desk.is_urgent('normal')") is True
    with psycopg.connect(empty_db) as conn, pytest.raises(psycopg.errors.InvalidTextRepresentation):
        conn.execute("INSERT INTO desk.tickets (id, subject, status) VALUES (2, 'x', 'lost')")


@pytest.mark.parametrize(("change", "expected"), [
    ("ALTER TYPE public.ticket_status ADD VALUE 'spam'",
     "type public.ticket_status: values (open, pending, closed) in spec, (open, pending, closed, spam) in database"),
    ("ALTER TYPE public.ticket_status RENAME VALUE 'pending' TO 'waiting'",
     "type public.ticket_status: values (open, pending, closed) in spec, (open, waiting, closed) in database"),
    ("COMMENT ON TYPE desk.priority IS 'How soon'",
     "type desk.priority: comment none in spec, 'How soon' in database"),
    ("CREATE TYPE desk.extra AS ENUM ('x')", "type desk.extra: in database, not in spec"),
])
def test_a_changed_type_is_reported(empty_db: str, change: str, expected: str) -> None:
    live.apply_sql(empty_db, (EXAMPLE / "output" / "schema.sql").read_text(encoding="utf-8"))
    live.apply_sql(empty_db, change)
    assert [str(d) for d in verify(empty_db, check(load_spec(EXAMPLE / "spec")))] == [expected]


# -- plans -----------------------------------------------------------------------------------------------------------
def test_plan_adds_values_before_the_transaction_that_uses_them(empty_db: str, tmp_path: Path) -> None:
    old = spec(tmp_path, "old", BASE)
    live.apply_sql(empty_db, sql_of(build(old).files, "schema.sql"))
    live.apply_sql(empty_db, "INSERT INTO public.tickets (id) VALUES (1)")
    new_body = copy.deepcopy(BASE)
    new_body["types"]["status"]["enum"] = ["new", "open", "pending", "closed", "archived"]
    columns = new_body["tables"]["tickets"]["columns"]
    columns["status"]["default"] = "new"  # the transaction uses a value added by the same plan
    columns["was"] = {"type": "status[]", "not_null": True, "default_sql": "'{pending}'"}
    text = migrate(empty_db, spec(tmp_path, "new", new_body))
    assert text.index("ADD VALUE IF NOT EXISTS 'pending' AFTER 'open'") < text.index("BEGIN;")
    assert labels(empty_db, "public.status") == ["new", "open", "pending", "closed", "archived"]
    assert one(empty_db, "SELECT status FROM public.tickets WHERE id = 1") == "open"
    assert one(empty_db, "SELECT array_to_string(was, ',') FROM public.tickets WHERE id = 1") == "pending"


def test_plan_renames_a_declared_value_both_ways(empty_db: str, tmp_path: Path) -> None:
    old = spec(tmp_path, "old", BASE)
    live.apply_sql(empty_db, sql_of(build(old).files, "schema.sql"))
    live.apply_sql(empty_db, "INSERT INTO public.tickets (id, status) VALUES (1, 'closed')")
    new_body = copy.deepcopy(BASE)
    new_body["types"]["status"] = {"enum": ["open", "done"], "renamed_values": {"done": "closed"}}
    new = spec(tmp_path, "new", new_body)
    text = migrate(empty_db, new)
    assert "ALTER TYPE public.status RENAME VALUE 'closed' TO 'done';" in text
    assert one(empty_db, "SELECT status FROM public.tickets WHERE id = 1") == "done"
    # Back, as a down migration planned between the two specs: the rename undone, the row kept.
    old_catalog, new_catalog = check(load_spec(old)), check(load_spec(new))
    back = plan(old_catalog, of_spec(new_catalog), renames=inverted(declared(new_catalog)))
    database.apply(empty_db, back)
    assert [str(d) for d in verify(empty_db, old_catalog)] == []
    assert one(empty_db, "SELECT status FROM public.tickets WHERE id = 1") == "closed"


@pytest.mark.parametrize(("values", "message"), [
    (["open"], "value(s) 'closed' removed, which PostgreSQL cannot do"),
    (["closed", "open"], "values reordered (open, closed -> closed, open)"),
])
def test_plan_refuses_what_alter_type_cannot_do(tmp_path: Path, values: list[str], message: str) -> None:
    new_body = copy.deepcopy(BASE)
    new_body["types"]["status"]["enum"] = values
    new_body["tables"]["tickets"]["columns"]["status"]["default"] = "open"
    old_catalog, new_catalog = check(load_spec(spec(tmp_path, "old", BASE))), \
        check(load_spec(spec(tmp_path, "new", new_body)))
    with pytest.raises(SpecError) as refused:
        plan(new_catalog, of_spec(old_catalog))
    assert message in str(refused.value)
    assert "new/spec/01-base.yaml:5:5: type status: " in str(refused.value)  # at the `enum:` list


def test_plan_creates_a_type_before_its_users_and_drops_it_after(empty_db: str, tmp_path: Path) -> None:
    plain = {"module": "Plain", "tables": {"tickets": {"columns": {"id": {"type": "bigint", "primary_key": True}}}}}
    live.apply_sql(empty_db, sql_of(build(spec(tmp_path, "plain", plain)).files, "schema.sql"))
    text = migrate(empty_db, spec(tmp_path, "typed", BASE))
    assert text.index("CREATE TYPE public.status") < text.index("ADD COLUMN status")
    text = migrate(empty_db, spec(tmp_path, "plain2", plain))
    assert text.index("DROP COLUMN status") < text.index("DROP TYPE public.status")
