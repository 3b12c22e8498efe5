"""What a trial on a real-world schema found (issue 9, point 4), each fixed and proven here.

- A PL/pgSQL variable of a table's row type (`r public.items%ROWTYPE`, `r public.items`, `v public.items.id%TYPE`)
  is resolved by PostgreSQL when the function is created, so the function must come after the table; and a body
  that pglast's PL/pgSQL parser cannot read (a row type in another schema, a field of a row variable) is not
  refused.
- `primary_key` plus `unique` on the same columns: CREATE TABLE keeps only the primary key, so `check` refuses it
  (the live test below is the independent witness of PostgreSQL's behaviour).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg
import pytest
from specs import sql_of, write_spec

from generator import live, sqlparse
from generator.check import check
from generator.diagnostics import SpecError
from generator.lint import lint
from generator.load import load_spec
from generator.order import order
from generator.pipeline import build

ITEMS = {"module": "Items", "tables": {"items": {"columns": {"id": {"type": "integer", "primary_key": True},
                                                           "label": {"type": "text"}}}}}


def fn(body: str, **extra: Any) -> dict[str, Any]:
    return {"returns": "integer", "language": "plpgsql", "search_path": "", "body": body, **extra}


def spec_with(tmp_path: Path, functions: dict[str, Any], *, first: str = "01") -> Path:
    """The functions in module `first`, the table in module 02: declared before the table they use."""
    return write_spec(tmp_path, {f"{first}-functions.yaml": {"module": "Functions", "functions": functions},
                                 "02-items.yaml": ITEMS})


@pytest.mark.parametrize(("declaration", "relations"), [
    ("r public.items%ROWTYPE;", [("public", "items")]),
    ("r items%rowtype;", [(None, "items")]),
    ("r auth.users;", [("auth", "users")]),
    ("v public.items.id%TYPE := 1;", [("public", "items")]),
    ("v items.id%type;", [(None, "items")]),
    ("v other%TYPE;", [None]),  # another variable's type
    ("r public.items[];", [("public", "items")]),
    ("n CONSTANT integer NOT NULL := 0;", [(None, "integer")]),  # the catalog resolves no table of that name
    ("d double precision;", []),
    ("s varchar(20) DEFAULT 'a;b';", []),
    ("c CURSOR FOR SELECT 1 FROM public.items;", []),
    ("a ALIAS FOR $1;", []),
])
def test_declarations_are_read(declaration: str, relations: list[tuple[str | None, str] | None]) -> None:
    body = f"DECLARE\n  -- a comment; with a semicolon\n  {declaration}\nBEGIN\n  RETURN 1;\nEND"
    assert [d.relation for d in sqlparse.plpgsql_declarations(body)] == relations


def test_nested_declare_sections_are_read() -> None:
    body = "DECLARE a public.items; BEGIN DECLARE b auth.users%ROWTYPE; BEGIN NULL; END; RETURN 1; END"
    assert [d.relation for d in sqlparse.plpgsql_declarations(body)] == [("public", "items"), ("auth", "users")]


@pytest.mark.parametrize("declaration", ["r public.items%ROWTYPE", "r public.items", "v public.items.id%TYPE"])
def test_a_row_type_variable_orders_the_function_after_its_table(declaration: str, tmp_path: Path) -> None:
    body = f"DECLARE {declaration}; BEGIN RETURN 1; END"
    catalog = check(load_spec(spec_with(tmp_path, {"uses_items": fn(body)})))
    keys = [p.item.key for p in order(catalog)]
    assert keys.index(("table", "public.items")) < keys.index(("function", "public.uses_items()"))
    placed = {p.item.key: p.module for p in order(catalog)}
    assert placed[("function", "public.uses_items()")] == 1  # moved to the table's module (02)


def test_a_function_without_row_types_keeps_its_place(tmp_path: Path) -> None:
    catalog = check(load_spec(spec_with(tmp_path, {"plain": fn("DECLARE n integer; BEGIN RETURN 1; END")})))
    placed = {p.item.key: p.module for p in order(catalog)}
    assert placed[("function", "public.plain()")] == 0


def test_row_types_and_fields_pglast_cannot_resolve_are_accepted(tmp_path: Path) -> None:
    body = ("DECLARE u auth.users%ROWTYPE; r public.items%ROWTYPE;\nBEGIN\n  r.id := 1;\n"
            "  SELECT * INTO u FROM auth.users LIMIT 1;\n  RETURN r.id;\nEND")
    spec = write_spec(tmp_path, {
        "01-auth.yaml": {"module": "Auth", "schemas": {"auth": {}},
                         "tables": {"auth.users": {"columns": {"id": {"type": "uuid", "primary_key": True}}}}},
        "02-items.yaml": {**ITEMS, "functions": {"uses_rows": fn(body)}}})
    catalog = check(load_spec(spec))  # no SpecError
    assert [f.text() for f in lint(catalog) if f.rule == "plpgsql_body_unchecked"] == []


def test_a_typo_in_a_body_is_still_refused(tmp_path: Path) -> None:
    body = "DECLARE r public.items%ROWTYPE; BEGIN r.id := 1; RETRUN r.id; END"
    with pytest.raises(SpecError, match="body of uses_items does not parse"):
        check(load_spec(spec_with(tmp_path, {"uses_items": fn(body)})))


def test_an_unqualified_row_type_under_an_empty_search_path_is_refused(tmp_path: Path) -> None:
    """PostgreSQL's validator compiles the body with the function's own search_path: `items` is not found."""
    with pytest.raises(SpecError, match="pins search_path to '' but names items without a schema"):
        check(load_spec(spec_with(tmp_path, {"f": fn("DECLARE r items%ROWTYPE; BEGIN RETURN 1; END")})))


def test_the_output_applies_and_the_function_runs(tmp_path: Path, empty_db: str) -> None:
    body = ("DECLARE r public.items%ROWTYPE; v public.items.label%TYPE;\nBEGIN\n"
            "  SELECT * INTO r FROM public.items WHERE id = 1;\n  v := r.label;\n  RETURN length(v);\nEND")
    spec = spec_with(tmp_path, {"label_length": fn(body)})
    result = build(spec)
    assert result.mismatches == []
    live.apply_sql(empty_db, sql_of(result.files, "schema.sql"))
    with psycopg.connect(empty_db) as conn:
        conn.execute("INSERT INTO public.items VALUES (1, 'four')")
        row = conn.execute("SELECT public.label_length()").fetchone()
    assert row == (4,)


# -- primary_key plus unique -------------------------------------------------------------------------------------
def test_postgresql_keeps_only_the_primary_key(empty_db: str) -> None:
    """The behaviour `check` relies on to refuse `primary_key` + `unique` on the same columns: CREATE TABLE drops a
    UNIQUE identical to the primary key (or to an earlier UNIQUE), while ALTER TABLE ... ADD keeps it."""
    live.apply_sql(empty_db, "CREATE TABLE a (id integer PRIMARY KEY UNIQUE);"
                             "CREATE TABLE b (x integer, CONSTRAINT b_one UNIQUE (x), CONSTRAINT b_two UNIQUE (x));"
                             "CREATE TABLE c (id integer PRIMARY KEY); ALTER TABLE c ADD UNIQUE (id);")
    with psycopg.connect(empty_db) as conn:
        rows = conn.execute("SELECT conrelid::regclass::text, conname FROM pg_constraint "
                            "WHERE contype IN ('p', 'u') AND connamespace = 'public'::regnamespace "
                            "ORDER BY 1, 2").fetchall()
    assert rows == [("a", "a_pkey"), ("b", "b_one"), ("c", "c_id_key"), ("c", "c_pkey")]


def test_primary_key_plus_unique_is_refused(tmp_path: Path) -> None:
    spec = write_spec(tmp_path, {"01-t.yaml": {"module": "T", "tables": {"t": {"columns": {
        "id": {"type": "integer", "primary_key": True, "unique": True}}}}}})
    with pytest.raises(SpecError, match="UNIQUE t_id_key \\(id\\) repeats the PRIMARY KEY t_pkey"):
        check(load_spec(spec))
