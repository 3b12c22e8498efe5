"""Functions as real-world schemas write them: argument defaults, `returns: setof T` and `returns: table(...)`,
STRICT, LEAKPROOF, PARALLEL, COST and ROWS, through every stage: decode, check, render, verify (pglast), the live
database (the function works as written), introspection and drift. Plans: the evolution corpus
(function_argument_default_*, function_returns_a_set, function_options); drift of each field: test_drift.CHANGES.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg
import pytest
from specs import migrate, sql_of, write_spec

from generator import introspect, live
from generator.check import check
from generator.diagnostics import SpecError
from generator.drift import verify
from generator.load import load_spec
from generator.model import Argument
from generator.order import order
from generator.pipeline import build
from generator.schemadocs import docs_files
from generator.sqltext import QName
from generator.verify import verify_sql

ITEMS = {"columns": {"id": {"type": "integer", "primary_key": True}, "label": {"type": "text", "not_null": True}},
         "seed": [{"id": 1, "label": "one"}, {"id": 2, "label": "two"}, {"id": 3, "label": "three"}]}
FUNCTIONS: dict[str, Any] = {
    "page": {
        "args": {"lim": {"type": "integer", "default": "2"}, "skip": {"type": "integer", "default": "0"}},
        "returns": "table(id integer, label text)", "language": "sql", "volatility": "stable", "rows": 20,
        "search_path": "", "body": "SELECT id, label FROM public.items ORDER BY id LIMIT lim OFFSET skip"},
    "labels": {
        "args": {"prefix": {"type": "text", "default": "''"}},
        "returns": "setof text", "language": "plpgsql", "volatility": "stable", "search_path": "",
        "body": "BEGIN\n  RETURN QUERY SELECT prefix || label FROM public.items ORDER BY id;\nEND;"},
    "split_name": {
        "args": {"whole": "text", "first": {"type": "text", "mode": "out"}, "last": {"type": "text", "mode": "out"}},
        "returns": "record", "language": "sql", "volatility": "immutable", "search_path": "",
        "body": "SELECT split_part(whole, ' ', 1), split_part(whole, ' ', 2)"},
    "total": {
        "args": {"nums": {"type": "integer[]", "mode": "variadic"}}, "returns": "integer", "language": "sql",
        "volatility": "immutable", "search_path": "", "body": "SELECT sum(x)::integer FROM unnest(nums) AS x"},
    "bump": {
        "args": {"n": {"type": "integer", "mode": "inout"}}, "returns": "integer", "language": "plpgsql",
        "volatility": "immutable", "search_path": "", "body": "BEGIN\n  n := n + 1;\nEND;"},
    "twice": {
        "args": {"n": "integer"}, "returns": "integer", "language": "sql", "volatility": "immutable",
        "strict": True, "leakproof": True, "parallel": "safe", "cost": 1, "search_path": "", "body": "SELECT n * 2"},
}


def spec_of(tmp_path: Path, functions: dict[str, Any] | None = None) -> Path:
    return write_spec(tmp_path, {"01-items.yaml": {"module": "Items", "tables": {"items": ITEMS},
                                                   "functions": FUNCTIONS if functions is None else functions}})


def test_decode(tmp_path: Path) -> None:
    catalog = check(load_spec(spec_of(tmp_path)))
    page = catalog.functions[QName("public", "page")]
    assert page.args == (Argument(name="lim", type="integer", default="2"),
                         Argument(name="skip", type="integer", default="0"))
    assert (page.returns, page.rows, page.cost) == ("table(id integer, label text)", 20, None)
    twice = catalog.functions[QName("public", "twice")]
    assert (twice.strict, twice.leakproof, twice.parallel, twice.cost) == (True, True, "safe", 1)


def test_render(tmp_path: Path) -> None:
    sql = sql_of(build(spec_of(tmp_path)).files, "schema.sql")
    assert ("CREATE FUNCTION public.page(lim integer DEFAULT 2, skip integer DEFAULT 0)\n"
            "    RETURNS TABLE (id integer, label text)\n    LANGUAGE sql\n    STABLE\n    ROWS 20\n") in sql
    assert "CREATE FUNCTION public.labels(prefix text DEFAULT '')\n    RETURNS SETOF text\n" in sql
    assert ("RETURNS integer\n    LANGUAGE sql\n    IMMUTABLE\n    STRICT\n    LEAKPROOF\n    PARALLEL SAFE\n"
            "    COST 1\n    SECURITY INVOKER\n") in sql
    assert "REVOKE ALL ON FUNCTION public.page(integer, integer) FROM PUBLIC" in sql  # defaults not in signatures
    assert "CREATE FUNCTION public.split_name(whole text, OUT first text, OUT last text)\n    RETURNS record\n" in sql
    assert "REVOKE ALL ON FUNCTION public.split_name(text) FROM PUBLIC" in sql  # OUT arguments are not in it
    assert "CREATE FUNCTION public.total(VARIADIC nums integer[])" in sql
    assert "CREATE FUNCTION public.bump(INOUT n integer)" in sql


def test_a_function_whose_default_calls_another_comes_after_it(tmp_path: Path) -> None:
    functions = {"a_user": {"args": {"n": {"type": "integer", "default": "public.z_default()"}},
                            "returns": "integer", "language": "sql", "body": "SELECT n"},
                 "z_default": {"returns": "integer", "language": "sql", "body": "SELECT 1"}}
    keys = [p.item.key[1] for p in order(check(load_spec(spec_of(tmp_path, functions))))]
    assert keys.index("public.z_default()") < keys.index("public.a_user(integer)")


@pytest.mark.parametrize(("change", "message"), [
    ({"page": {**FUNCTIONS["page"], "args": {"lim": {"type": "integer", "default": "2"}, "skip": "integer"}}},
     "argument skip of page needs a default: it follows lim"),
    ({"twice": {**FUNCTIONS["twice"], "rows": 5}}, "`rows` applies only to a set-returning function"),
    ({"twice": {**FUNCTIONS["twice"], "cost": 0}}, "`cost` must be positive"),
    ({"page": {**FUNCTIONS["page"], "returns": "table(id integer, id text)"}}, "column 'id' returned twice"),
    ({"page": {**FUNCTIONS["page"], "returns": "table(lim integer)"}}, "has the name of an argument"),
    ({"page": {**FUNCTIONS["page"], "returns": "table()"}}, "a table needs at least one column"),
    ({"page": {**FUNCTIONS["page"], "returns": "setof trigger"}}, "trigger cannot be returned as a set"),
    ({"page": {**FUNCTIONS["page"], "returns": "setof nosuchtype"}}, "unknown type 'nosuchtype'"),
    ({"twice": {**FUNCTIONS["twice"], "args": {"n": {"type": "integer", "default": "n + 1"}}}},
     "default of argument n cannot refer to columns or other arguments"),
    ({"twice": {**FUNCTIONS["twice"], "args": {"n": {"type": "integer", "default": "1 +"}}}},
     "default of argument n does not parse"),
    ({"twice": {**FUNCTIONS["twice"], "parallel": "sometimes"}}, "parallel"),
    ({"split_name": {**FUNCTIONS["split_name"], "returns": "text"}},
     "with OUT argument(s) first, last the result is record"),
    ({"bump": {**FUNCTIONS["bump"], "returns": "bigint"}}, "with OUT argument(s) n the result is integer"),
    ({"split_name": {**FUNCTIONS["split_name"], "returns": "table(a text)"}}, "cannot be mixed"),
    ({"split_name": {**FUNCTIONS["split_name"], "args": {
        "whole": "text", "first": {"type": "text", "mode": "out", "default": "'x'"}}}}, "cannot have a default"),
    ({"total": {**FUNCTIONS["total"], "args": {"nums": {"type": "integer", "mode": "variadic"}}}},
     "must be of an array type"),
    ({"total": {**FUNCTIONS["total"], "args": {"nums": {"type": "integer[]", "mode": "variadic"}, "n": "integer"}}},
     "must be the last input argument"),
    ({"twice": {**FUNCTIONS["twice"], "args": {"n": {"type": "integer", "mode": "both"}}}}, "mode"),
])
def test_check_refuses_what_postgresql_refuses(change: dict[str, Any], message: str, tmp_path: Path) -> None:
    with pytest.raises(SpecError) as info:
        check(load_spec(spec_of(tmp_path, {**FUNCTIONS, **change})))
    assert message in str(info.value)
    assert "spec/01-items.yaml:" in str(info.value)


def test_verify_sees_each_field(tmp_path: Path) -> None:
    result = build(spec_of(tmp_path))
    assert result.mismatches == []
    text = sql_of(result.files, "schema.sql")
    placed = order(result.catalog)
    for edit in (("DEFAULT 2", "DEFAULT 3"), ("RETURNS SETOF text", "RETURNS text"), ("    ROWS 20\n", ""),
                 ("    LEAKPROOF\n", ""), ("PARALLEL SAFE", "PARALLEL RESTRICTED"), ("COST 1\n", "COST 2\n"),
                 ("    STRICT\n", ""), ("TABLE (id integer, label text)", "TABLE (id integer, name text)"),
                 ("OUT last text", "OUT last integer"), ("VARIADIC nums", "nums"), ("INOUT n", "n")):
        assert edit[0] in text, edit
        mismatch = verify_sql("schema.sql", text.replace(edit[0], edit[1], 1), placed, result.catalog,
                              registry=True)
        assert mismatch is not None and (mismatch.missing or mismatch.unexpected), edit


def test_the_functions_work_live(tmp_path: Path, empty_db: str) -> None:
    result = build(spec_of(tmp_path))
    live.apply_sql(empty_db, sql_of(result.files, "schema.sql"))
    with psycopg.connect(empty_db) as conn:
        assert conn.execute("SELECT * FROM public.page()").fetchall() == [(1, "one"), (2, "two")]
        assert conn.execute("SELECT * FROM public.page(skip => 2)").fetchall() == [(3, "three")]
        assert conn.execute("SELECT * FROM public.labels()").fetchall() == [("one",), ("two",), ("three",)]
        assert conn.execute("SELECT public.labels('#') LIMIT 1").fetchone() == ("#one",)
        assert conn.execute("SELECT public.twice(21), public.twice(NULL)").fetchone() == (42, None)
        assert conn.execute("SELECT * FROM public.split_name('Ada Lovelace')").fetchone() == ("Ada", "Lovelace")
        assert conn.execute("SELECT public.total(1, 2, 3), public.bump(1)").fetchone() == (6, 2)
        row = conn.execute("SELECT proleakproof, proparallel, procost, prorows, proretset FROM pg_proc "
                           "WHERE proname IN ('twice', 'page') ORDER BY proname").fetchall()
    assert row == [(False, "u", 100, 20, True), (True, "s", 1, 0, False)]


def test_introspection_reads_what_the_spec_says_and_there_is_no_drift(tmp_path: Path, empty_db: str) -> None:
    result = build(spec_of(tmp_path))
    live.apply_sql(empty_db, sql_of(result.files, "schema.sql"))
    snapshot = introspect.read_database(empty_db, ["public"])
    page = next(f for f in snapshot.module.functions if f.name == "public.page")
    assert [(a.name, a.type, a.default) for a in page.args] == [("lim", "integer", "2"), ("skip", "integer", "0")]
    assert (page.returns, page.rows, page.cost, page.parallel) == ("TABLE(id integer, label text)", 20, None,
                                                                  "unsafe")
    split = next(f for f in snapshot.module.functions if f.name == "public.split_name")
    assert [(a.name, a.mode) for a in split.args] == [("whole", "in"), ("first", "out"), ("last", "out")]
    assert split.returns == "record"
    assert [str(d) for d in verify(empty_db, result.catalog)] == []


def test_type_modifiers_postgresql_discards_are_no_drift_and_no_plan(tmp_path: Path, empty_db: str) -> None:
    """CREATE FUNCTION keeps an argument's or a result's type without its modifiers (PostgreSQL's docs, CREATE
    FUNCTION: "parenthesized type modifiers ... are discarded"): a spec that writes them must still match."""
    functions = {
        "clip": {"args": {"s": "varchar(10)", "n": "numeric(10,2)"}, "returns": "varchar(20)", "language": "sql",
                 "volatility": "immutable", "search_path": "", "body": "SELECT s || n"},
        "rows_of": {"args": {"n": "numeric(4)"}, "returns": "table(code char(3))", "language": "sql",
                    "volatility": "immutable", "search_path": "", "body": "SELECT 'abcdef'::text"}}
    spec_dir = spec_of(tmp_path, functions)
    result = build(spec_dir)
    live.apply_sql(empty_db, sql_of(result.files, "schema.sql"))
    with psycopg.connect(empty_db) as conn:
        # the modifiers are gone: a longer text passes through unclipped
        assert conn.execute("SELECT public.clip('more than ten chars', 1.234)").fetchone() == (
            "more than ten chars1.234",)
        assert conn.execute("SELECT pg_get_function_arguments('public.clip'::regproc)").fetchone() == (
            "s character varying, n numeric",)
    assert [str(d) for d in verify(empty_db, result.catalog)] == []
    assert "Nothing to do" in migrate(empty_db, spec_dir)


def test_schema_docs_show_modes_and_defaults(tmp_path: Path) -> None:
    text = "\n".join(f.text for f in docs_files(check(load_spec(spec_of(tmp_path)))))
    assert "`public.page(lim integer DEFAULT 2, skip integer DEFAULT 0)`" in text
    assert "`public.split_name(whole text, OUT first text, OUT last text)`" in text
    assert "`public.total(VARIADIC nums integer[])`" in text
