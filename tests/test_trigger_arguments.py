"""Trigger arguments (`args:`, the function's TG_ARGV) through every stage: decode, render, verify, live apply
and introspection, drift, plan and the ERD-free schema docs.

Expectations come from PostgreSQL: CREATE TRIGGER passes each argument to the function as text in TG_ARGV
(pg_trigger.tgargs holds them), whatever their spelling in the statement, and no ALTER TRIGGER changes them.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import psycopg
import pytest
from specs import drift_after, migrate, sql_of, write_spec

from generator import live
from generator.check import check
from generator.diagnostics import SpecError
from generator.drift import verify
from generator.load import load_spec
from generator.order import order
from generator.pipeline import build
from generator.schemadocs import module_page
from generator.verify import verify_sql

# One function serving two triggers, told apart by their arguments: the audit trail names the table and a label.
LOG_ARGS = ("BEGIN INSERT INTO public.audit (what, args) VALUES (TG_NAME, TG_ARGV::text[]); "
            "RETURN NULL; END")
BASE: dict[str, Any] = {
    "module": "Trigger arguments",
    "functions": {"log_args": {"returns": "trigger", "body": LOG_ARGS}},
    "tables": {
        "audit": {"columns": {"what": "text", "args": "text[]"}},
        "items": {
            "columns": {"id": {"type": "integer", "primary_key": True, "identity": "always"}, "label": "text"},
            "triggers": {
                "items_logged": {"timing": "after", "events": ["insert"], "function": "log_args",
                                 "args": ["items", "it's", "3"]},
                "items_plain": {"timing": "after", "events": ["insert"], "function": "log_args"},
            }},
    },
}


def spec(tmp_path: Path, name: str, body: dict[str, Any]) -> Path:
    return write_spec(tmp_path / name, {"01-base.yaml": body})


def with_args(args: Any, body: dict[str, Any] = BASE) -> dict[str, Any]:
    out = copy.deepcopy(body)
    trigger = out["tables"]["items"]["triggers"]["items_logged"]
    if args is None:
        trigger.pop("args")
    else:
        trigger["args"] = args
    return out


def rows(dsn: str, query: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(dsn) as conn:
        return conn.execute(query).fetchall()


def test_args_that_are_not_text_are_refused_at_their_position(tmp_path: Path) -> None:
    with pytest.raises(SpecError) as refused:
        check(load_spec(spec(tmp_path, "bad", with_args([["nested"]]))))
    assert "01-base.yaml:" in str(refused.value)
    assert "args" in str(refused.value)


def test_rendered_trigger_passes_each_argument_as_a_quoted_literal(tmp_path: Path) -> None:
    text = sql_of(build(spec(tmp_path, "s", BASE)).files, "schema.sql")
    assert "EXECUTE FUNCTION public.log_args('items', 'it''s', '3');" in text
    assert "EXECUTE FUNCTION public.log_args();" in text  # the trigger without arguments


@pytest.mark.parametrize(("old", "new"), [
    ("log_args('items', 'it''s', '3')", "log_args('items', 'its', '3')"),
    ("log_args('items', 'it''s', '3')", "log_args('items', 'it''s')"),
    ("log_args('items', 'it''s', '3')", "log_args()"),
])
def test_verify_reports_arguments_the_sql_lost_or_changed(tmp_path: Path, old: str, new: str) -> None:
    b = build(spec(tmp_path, "s", BASE))
    text = sql_of(b.files, "schema.sql")
    mismatch = verify_sql("schema.sql", text.replace(old, new, 1), order(b.catalog), b.catalog)
    assert mismatch is not None
    assert [m for m in mismatch.missing if m.startswith("trigger public.items.items_logged")], mismatch


def test_applies_passes_the_arguments_and_reads_back_without_drift(empty_db: str, tmp_path: Path) -> None:
    d = spec(tmp_path, "s", BASE)
    live.apply_sql(empty_db, sql_of(build(d).files, "schema.sql"))
    assert [str(x) for x in verify(empty_db, check(load_spec(d)))] == []
    live.apply_sql(empty_db, "INSERT INTO items (label) VALUES ('a')")
    assert sorted(rows(empty_db, "SELECT what, args FROM audit")) == [
        ("items_logged", ["items", "it's", "3"]), ("items_plain", None)]  # TG_ARGV of no arguments is NULL
    assert rows(empty_db, "SELECT tgnargs FROM pg_trigger WHERE tgname = 'items_logged'") == [(3,)]


@pytest.mark.parametrize(("change", "expected"), [
    ("DROP TRIGGER items_logged ON items; CREATE TRIGGER items_logged AFTER INSERT ON items FOR EACH ROW "
     "EXECUTE FUNCTION log_args('items', 'its', '3')",
     "trigger public.items.items_logged: arguments ('items', 'it''s', '3') in spec, ('items', 'its', '3') in "
     "database"),
    ("DROP TRIGGER items_plain ON items; CREATE TRIGGER items_plain AFTER INSERT ON items FOR EACH ROW "
     "EXECUTE FUNCTION log_args('x')",
     "trigger public.items.items_plain: arguments () in spec, ('x') in database"),
])
def test_changed_arguments_are_drift(empty_db: str, tmp_path: Path, change: str, expected: str) -> None:
    assert drift_after(empty_db, spec(tmp_path, "s", BASE), change) == [expected]


def test_plan_recreates_a_trigger_whose_arguments_change(empty_db: str, tmp_path: Path) -> None:
    live.apply_sql(empty_db, sql_of(build(spec(tmp_path, "old", with_args(None))).files, "schema.sql"))
    live.apply_sql(empty_db, "INSERT INTO items (label) VALUES ('kept')")
    text = migrate(empty_db, spec(tmp_path, "new", BASE))  # applies, then no drift and nothing left to plan
    assert "DROP TRIGGER items_logged ON public.items;" in text
    assert "EXECUTE FUNCTION public.log_args('items', 'it''s', '3');" in text
    assert rows(empty_db, "SELECT label FROM items") == [("kept",)]
    live.apply_sql(empty_db, "TRUNCATE audit; INSERT INTO items (label) VALUES ('b')")
    assert ("items_logged", ["items", "it's", "3"]) in rows(empty_db, "SELECT what, args FROM audit")


def test_schema_docs_show_the_call_with_its_arguments(tmp_path: Path) -> None:
    catalog = check(load_spec(spec(tmp_path, "s", BASE)))
    page = module_page(catalog, catalog.schema.modules[0])
    assert "runs `public.log_args('items', 'it''s', '3')`" in page
    assert "runs `public.log_args()`" in page
