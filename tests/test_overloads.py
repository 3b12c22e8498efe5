"""Overloaded functions (one name, other argument types), through every stage: a key per overload written as its
signature, references by signature where the name is overloaded, each overload its own object in the output,
`verify`, the database read back, drift and plans.

Expectations come from PostgreSQL: a function's identity is its name and the types of its IN, INOUT and VARIADIC
arguments (pg_proc.proargtypes), a call is resolved by its argument types, and DROP FUNCTION names one overload.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import psycopg
import pytest
from specs import assert_verify_reports, check_errors, drift_after, migrate, sql_of, write_spec

from generator import live
from generator.check import check
from generator.drift import verify
from generator.lint import lint
from generator.load import load_spec
from generator.order import order
from generator.pipeline import build

BASE: dict[str, Any] = {
    "module": "Overloads",
    "roles": {"app_user": {}},
    "functions": {
        "add(integer, integer)": {
            "args": {"a": "integer", "b": "integer"}, "returns": "integer", "language": "sql",
            "volatility": "immutable", "body": "SELECT a + b", "grants": {"app_user": ["execute"]},
            "comment": "Sum of two integers.",
        },
        "add(text, text)": {
            "args": {"a": "text", "b": "text"}, "returns": "text", "language": "sql", "volatility": "immutable",
            "body": "SELECT a || b", "comment": "Two texts joined.",
        },
        "twice": {"args": {"x": "integer"}, "returns": "integer", "language": "sql", "volatility": "immutable",
                  "body": "SELECT public.add(x, x)"},
    },
}


def spec(tmp_path: Path, body: dict[str, Any], name: str = "s") -> Path:
    return write_spec(tmp_path / name, {"01-base.yaml": body})


def edited(**functions: Any) -> dict[str, Any]:
    """BASE with functions replaced (None removes one)."""
    body = copy.deepcopy(BASE)
    for key, value in functions.items():
        key = key.replace("__", ", ").replace("_L", "(").replace("_R", ")")
        if value is None:
            body["functions"].pop(key)
        else:
            body["functions"][key] = value
    return body


def rows(dsn: str, query: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(dsn) as conn:
        return conn.execute(query.encode()).fetchall()


# -- decode and check ------------------------------------------------------------------------------------------------
def test_each_overload_is_its_own_object_in_the_output(tmp_path: Path) -> None:
    b = build(spec(tmp_path, BASE))
    text = sql_of(b.files, "schema.sql")
    assert text.count("CREATE FUNCTION public.add(") == 2
    assert "GRANT EXECUTE ON FUNCTION public.add(integer, integer) TO app_user;" in text
    assert "REVOKE ALL ON FUNCTION public.add(text, text) FROM PUBLIC, app_user;" in text
    assert "COMMENT ON FUNCTION public.add(integer, integer) IS 'Sum of two integers.';" in text
    assert "COMMENT ON FUNCTION public.add(text, text) IS 'Two texts joined.';" in text
    keys = [p.item.key[1] for p in order(b.catalog) if p.item.kind == "function"]
    # by name, then argument types; a function calling the name comes after every overload of it
    assert keys == ["public.add(integer, integer)", "public.add(text, text)", "public.twice(integer)"]


def test_a_key_spelt_otherwise_is_the_same_identity(tmp_path: Path) -> None:
    body = copy.deepcopy(BASE)
    body["functions"]["add(int4, INT)"] = body["functions"].pop("add(integer, integer)")
    catalog = check(load_spec(spec(tmp_path, body)))
    assert sorted(catalog.routines) == ["public.add(integer, integer)", "public.add(text, text)",
                                        "public.twice(integer)"]


@pytest.mark.parametrize(("functions", "message"), [
    ({"add(integer, integer)": {"args": {"a": "integer", "b": "text"}, "returns": "integer", "language": "sql",
                                "body": "SELECT a"}},
     "01-base.yaml:5:3: function key add(integer, integer) does not match its arguments: their types make it "
     "add(integer, text)"),
    ({"add(int, int)": {"args": {"a": "integer", "b": "integer"}, "returns": "integer", "language": "sql",
                        "body": "SELECT a"}},
     "duplicate function (same name and argument types) 'public.add(integer, integer)'"),
    ({"add": {"args": {"a": "numeric"}, "returns": "numeric", "language": "sql", "body": "SELECT a"}},
     "function add is overloaded: key each of public.add(integer, integer), public.add(numeric), "
     "public.add(text, text) by its signature (`add(numeric):`)"),
    ({"add(": {"returns": "integer", "language": "sql", "body": "SELECT 1"}},
     "function key 'add(' is neither a name nor a signature `name(type, ...)`"),
])
def test_overload_keys_are_checked(tmp_path: Path, functions: dict[str, Any], message: str) -> None:
    body = copy.deepcopy(BASE)
    body["functions"].update(functions)
    errors = check_errors(spec(tmp_path, body))
    assert any(message in e for e in errors), errors


def test_a_key_of_an_out_argument_lists_only_the_inputs(tmp_path: Path) -> None:
    """OUT arguments are not part of a function's identity (PostgreSQL: proargtypes holds the inputs)."""
    body = copy.deepcopy(BASE)
    body["functions"]["add(numeric)"] = {"args": {"a": "numeric", "doubled": {"type": "numeric", "mode": "out"}},
                                         "returns": "numeric", "language": "sql", "body": "SELECT a * 2"}
    assert "public.add(numeric)" in check(load_spec(spec(tmp_path, body))).routines


def test_references_name_an_overload_by_signature(tmp_path: Path) -> None:
    """A trigger's function, a raw object's depends_on: the bare name when it is unique, the signature form
    when it is overloaded; an ambiguous bare name is refused where it is written."""
    body = copy.deepcopy(BASE)
    body["functions"]["touch()"] = {"returns": "trigger", "body": "BEGIN RETURN NEW; END;"}
    body["functions"]["touch(integer)"] = {"args": {"n": "integer"}, "returns": "integer", "language": "sql",
                                           "body": "SELECT n"}
    body["tables"] = {"items": {"columns": {"id": {"type": "integer", "primary_key": True}},
                                "triggers": {"items_touch": {"timing": "before", "events": ["insert"],
                                                             "function": "touch"}}}}
    body["raw"] = {"uses_add": {"sql": "CREATE VIEW public.v AS SELECT 1 AS one", "drop": "DROP VIEW public.v",
                                "depends_on": ["add"]}}
    errors = check_errors(spec(tmp_path, body))
    assert any(":53:19: trigger items_touch: touch is overloaded: name one of public.touch(), "
               "public.touch(integer)" in e for e in errors), errors
    assert any("raw uses_add: depends_on names no object of the spec: 'add'" in e for e in errors), errors
    body["tables"]["items"]["triggers"]["items_touch"]["function"] = "touch()"
    body["raw"]["uses_add"]["depends_on"] = ["add(integer, integer)"]
    b = build(spec(tmp_path, body, "fixed"))
    text = sql_of(b.files, "schema.sql")
    assert "EXECUTE FUNCTION public.touch();" in text
    placed = {p.item.key: p.item for p in b.placed}
    assert ("function", "public.add(integer, integer)") in placed[("raw", "uses_add")].deps
    assert ("function", "public.touch()") in placed[("trigger", "public.items.items_touch")].deps


def test_lint_ignore_is_per_overload(tmp_path: Path) -> None:
    """A suppression on one overload does not silence the same finding on another."""
    body = copy.deepcopy(BASE)
    body["functions"]["add(integer, integer)"]["lint"] = {"ignore": {"function_search_path_mutable": "pure SQL"}}
    findings = [f for f in lint(check(load_spec(spec(tmp_path, body)))) if f.rule == "function_search_path_mutable"]
    assert sorted(f.where for f in findings) == ["public.add", "public.twice"]
    assert all(f.pos.line != 5 for f in findings)


# -- verify ----------------------------------------------------------------------------------------------------------
def test_verify_tells_the_overloads_apart(tmp_path: Path) -> None:
    assert_verify_reports(spec(tmp_path, BASE), "GRANT EXECUTE ON FUNCTION public.add(integer, integer)",
                          "GRANT EXECUTE ON FUNCTION public.add(text, text)", "grant execute on function public.add(")


# -- live: apply, read back, drift -----------------------------------------------------------------------------------
def test_applied_overloads_are_called_by_argument_types_and_read_back(tmp_path: Path, empty_db: str) -> None:
    spec_dir = spec(tmp_path, BASE)
    live.apply_sql(empty_db, sql_of(build(spec_dir).files, "schema.sql"))
    assert rows(empty_db, "SELECT public.add(2, 3), public.add('a', 'b'), public.twice(4)") == [(5, "ab", 8)]
    assert rows(empty_db, "SELECT p.oid::regprocedure::text, obj_description(p.oid, 'pg_proc') FROM pg_proc p "
                          "WHERE p.proname = 'add' ORDER BY 1") == [
        ("add(integer,integer)", "Sum of two integers."), ("add(text,text)", "Two texts joined.")]
    assert rows(empty_db, "SELECT has_function_privilege('app_user', 'public.add(integer, integer)', 'EXECUTE'), "
                          "has_function_privilege('app_user', 'public.add(text, text)', 'EXECUTE')") == [(True, False)]
    assert [str(d) for d in verify(empty_db, check(load_spec(spec_dir)))] == []


@pytest.mark.parametrize(("change", "expected"), [
    ("DROP FUNCTION public.add(text, text)", ["function public.add(text, text): missing in database"]),
    ("CREATE FUNCTION public.add(a numeric, b numeric) RETURNS numeric LANGUAGE sql AS 'SELECT a + b'; "
     "REVOKE ALL ON FUNCTION public.add(numeric, numeric) FROM PUBLIC",
     ["function public.add(numeric, numeric): in database, not in spec"]),
    ("COMMENT ON FUNCTION public.add(text, text) IS 'changed'",
     ["function public.add(text, text): comment 'Two texts joined.' in spec, 'changed' in database"]),
    ("GRANT EXECUTE ON FUNCTION public.add(text, text) TO app_user",
     ["grant EXECUTE on function public.add(text, text) to app_user: in database, not in spec"]),
    ("CREATE OR REPLACE FUNCTION public.add(a integer, b integer) RETURNS integer LANGUAGE sql IMMUTABLE "
     "AS 'SELECT a - b'",
     ["function public.add(integer, integer): body differs at line 1: spec 'SELECT a + b' database 'SELECT a - b'"]),
])
def test_drift_names_the_overload(tmp_path: Path, empty_db: str, change: str, expected: list[str]) -> None:
    assert drift_after(empty_db, spec(tmp_path, BASE), change) == expected


# -- plans -----------------------------------------------------------------------------------------------------------
def test_plan_adds_changes_and_drops_one_overload(tmp_path: Path, empty_db: str) -> None:
    old = edited(**{"add_Ltext__text_R": None})
    live.apply_sql(empty_db, sql_of(build(spec(tmp_path, old, "old")).files, "schema.sql"))
    # a new overload is a CREATE, beside the one that stays
    script = migrate(empty_db, spec(tmp_path, BASE, "new"))
    assert "CREATE FUNCTION public.add(a text, b text)" in script and "DROP FUNCTION" not in script
    assert rows(empty_db, "SELECT public.add('x', 'y'), public.add(1, 1)") == [("xy", 2)]
    # a changed body of one overload: CREATE OR REPLACE of that one
    changed = copy.deepcopy(BASE)
    changed["functions"]["add(text, text)"]["body"] = "SELECT a || '-' || b"
    script = migrate(empty_db, spec(tmp_path, changed, "changed"))
    assert "CREATE OR REPLACE FUNCTION public.add(a text, b text)" in script
    assert "public.add(a integer" not in script
    assert rows(empty_db, "SELECT public.add('x', 'y')") == [("x-y",)]
    # an argument type changed: another function (DROP the old overload, CREATE the new one)
    retyped = copy.deepcopy(BASE)
    retyped["functions"]["add(bigint, bigint)"] = {**retyped["functions"].pop("add(integer, integer)"),
                                                   "args": {"a": "bigint", "b": "bigint"}, "returns": "bigint"}
    script = migrate(empty_db, spec(tmp_path, retyped, "retyped"))
    assert "DROP FUNCTION public.add(integer, integer);" in script
    assert "CREATE FUNCTION public.add(a bigint, b bigint)" in script
    # removed: DROP FUNCTION of that overload only
    script = migrate(empty_db, spec(tmp_path, old, "back"))
    assert "DROP FUNCTION public.add(text, text);" in script
    assert rows(empty_db, "SELECT count(*) FROM pg_proc WHERE proname = 'add'") == [(1,)]


def test_plan_renames_one_overload(tmp_path: Path, empty_db: str) -> None:
    """`renamed_from` on an overload renames that one (ALTER FUNCTION name(types) RENAME), its EXECUTE grant kept."""
    live.apply_sql(empty_db, sql_of(build(spec(tmp_path, BASE, "old")).files, "schema.sql"))
    renamed = copy.deepcopy(BASE)
    renamed["functions"]["plus"] = {**renamed["functions"].pop("add(integer, integer)"), "renamed_from": "add"}
    renamed["functions"]["add"] = renamed["functions"].pop("add(text, text)")  # no longer overloaded: a bare key
    renamed["functions"]["twice"]["body"] = "SELECT public.plus(x, x)"
    script = migrate(empty_db, spec(tmp_path, renamed, "new"))
    assert "ALTER FUNCTION public.add(integer, integer) RENAME TO plus;" in script
    assert "DROP FUNCTION public.add(integer, integer)" not in script
    assert rows(empty_db, "SELECT public.plus(1, 2), public.add('a', 'b'), "
                          "has_function_privilege('app_user', 'public.plus(integer, integer)', 'EXECUTE')") == [
        (3, "ab", True)]
