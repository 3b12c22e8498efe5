"""PostgreSQL's built-in types beyond the everyday ones, through every stage: full-text search (tsvector, tsquery,
regconfig), bit strings, money, network and geometric types, xml, pg_lsn, multiranges, the object-identifier
types, and precision on the time types (timestamptz(3), as ORMs such as Prisma write every timestamp).

Expectations come from PostgreSQL: the types its documentation lists (chapter 8, "Data Types"), the spelling
format_type() gives each column (a `bit` or `char` column without a length is bit(1) / character(1); time types
print their precision before `with time zone`), and what a value of each type does once stored.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import psycopg
import pytest
from specs import check_errors, drift_after, migrate, sql_of, write_spec

from generator import live
from generator.check import check
from generator.drift import verify
from generator.load import load_spec
from generator.pipeline import build
from generator.sqltext import TypeSyntaxError, parse_type

# column -> (type as the spec writes it, format_type of the column in PostgreSQL, a value to store, that value
# read back as text; None: no value stored)
COLUMNS: dict[str, tuple[str, str, str | None, str | None]] = {
    "created": ("timestamptz(3)", "timestamp(3) with time zone", "2026-01-02 03:04:05.678912+00",
                "2026-01-02 03:04:05.679+00"),
    "logged": ("timestamp(6) with time zone", "timestamp(6) with time zone", None, None),
    "local": ("timestamp(0)", "timestamp(0) without time zone", "2026-01-02 03:04:05.6", "2026-01-02 03:04:06"),
    "at": ("time(3)", "time(3) without time zone", "10:11:12.3456", "10:11:12.346"),
    "at_zone": ("timetz", "time with time zone", "10:11:12+02", "10:11:12+02"),
    "at_zone2": ("time(2) with time zone", "time(2) with time zone", None, None),
    "took": ("interval(0)", "interval(0)", "1.6 seconds", "00:00:02"),
    "waited": ("interval day to second(1)", "interval day to second(1)", "1 day 02:03:04.56", "1 day 02:03:04.6"),
    "term": ("interval year to month", "interval year to month", "1 year 2 months 3 days", "1 year 2 mons"),
    "span": ("interval minute", "interval minute", None, None),
    "doc": ("tsvector", "tsvector", "a fat cat", "'a' 'cat' 'fat'"),
    "query": ("tsquery", "tsquery", "fat & cat", "'fat' & 'cat'"),
    "config": ("regconfig", "regconfig", "english", "english"),
    "price": ("money", "money", None, None),  # its text depends on lc_monetary
    "flags": ("bit(8)", "bit(8)", "10100000", "10100000"),
    "flag": ("bit", "bit(1)", "1", "1"),
    "mask": ("bit varying(16)", "bit varying(16)", "101", "101"),
    "mask2": ("varbit", "bit varying", None, None),
    "mac": ("macaddr", "macaddr", "08:00:2b:01:02:03", "08:00:2b:01:02:03"),
    "mac8": ("macaddr8", "macaddr8", None, None),
    "doc_xml": ("xml", "xml", None, None),  # input needs a server built with libxml
    "pos": ("point", "point", "(1,2)", "(1,2)"),
    "area": ("box", "box", "(0,0),(2,2)", "(2,2),(0,0)"),
    "ring": ("circle", "circle", None, None),
    "edge": ("lseg", "lseg", None, None),
    "way": ("path", "path", None, None),
    "shape": ("polygon", "polygon", None, None),
    "wal": ("pg_lsn", "pg_lsn", "16/B374D848", "16/B374D848"),
    "rel": ("regclass", "regclass", None, None),
    "code": ("char", "character(1)", "x", "x"),
    "ratio": ("float", "double precision", "0.5", "0.5"),
    "spans": ("int4multirange", "int4multirange", "{[1,3), [5,7)}", "{[1,3),[5,7)}"),
    "stamps": ("timestamptz(3)[]", "timestamp(3) with time zone[]", None, None),
}

BASE: dict[str, Any] = {
    "module": "Types",
    "tables": {
        "things": {
            "columns": {
                "id": {"type": "integer", "primary_key": True},
                **{name: {"type": spelt} for name, (spelt, _, _, _) in COLUMNS.items()},
                "title": {"type": "text", "not_null": True, "default": "''"},
                "search": {"type": "tsvector", "generated": "to_tsvector('english'::regconfig, title)"},
            },
            "indexes": {"things_search": {"columns": ["search"], "method": "gin"}},
        },
    },
    "functions": {
        "matches": {"args": {"doc": "tsvector", "q": "tsquery"}, "returns": "boolean", "language": "sql",
                    "volatility": "immutable", "search_path": "", "body": "SELECT doc @@ q"},
        "stamp": {"args": {"at": "timestamptz(3)"}, "returns": "timestamp(3) with time zone", "language": "sql",
                  "volatility": "immutable", "search_path": "", "body": "SELECT at"},
    },
    "types": {"flags8": {"domain": "bit(8)"}},
}
# Polymorphic functions: the call's argument types decide the types (PostgreSQL's docs, 38.2.5).
POLYMORPHIC: dict[str, Any] = {
    "first_of": {"args": {"items": "anyarray"}, "returns": "anyelement", "language": "sql",
                 "volatility": "immutable", "search_path": "", "body": "SELECT items[1]"},
    "larger": {"args": {"a": "anycompatible", "b": "anycompatible"}, "returns": "anycompatible", "language": "sql",
               "volatility": "immutable", "search_path": "", "body": "SELECT CASE WHEN a > b THEN a ELSE b END"},
    "low_of": {"args": {"r": "anyrange", "fallback": {"type": "anyelement", "mode": "out"}}, "language": "sql",
               "returns": "anyelement", "volatility": "immutable", "search_path": "", "body": "SELECT lower(r)"},
}


def spec(tmp_path: Path, body: dict[str, Any], name: str = "s") -> Path:
    return write_spec(tmp_path / name, {"01-base.yaml": body})


# -- parse and check -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("text", "canonical"), [
    ("timestamptz(3)", "timestamptz(3)"), ("timestamp(3) with time zone", "timestamptz(3)"),
    ("TIMESTAMP (6) WITH TIME ZONE", "timestamptz(6)"), ("timestamp(0) without time zone", "timestamp(0)"),
    ("time with time zone", "timetz"), ("time(2) with time zone", "timetz(2)"), ("interval(3)", "interval(3)"),
    ("INTERVAL  Day To Second (3)", "interval day to second(3)"), ("bit varying(5)", "varbit(5)"),
    ("varbit", "varbit"), ("bit", "bit(1)"), ("character", "char(1)"),
    ("float", "double precision"),
    ("float8", "double precision"), ("tsvector[]", "tsvector[]"), ("macaddr8", "macaddr8"),
])
def test_spellings_are_one_type(text: str, canonical: str) -> None:
    assert str(parse_type(text)) == canonical


@pytest.mark.parametrize(("text", "reason"), [
    ("timestamptz(7)", "precision must be between 0 and 6"),
    ("time(3, 2)", "takes 1 argument"),
    ("bit(0)", "length must be between 1"),
    ("tsvector(3)", "takes no argument"),
    ("timestamp(3) with time", "not a type name"),
    ("interval day(2)", "interval day takes no argument"),  # only SECOND takes a precision
    ("interval second to day", "unknown type"),
])
def test_what_postgresql_refuses_is_refused(text: str, reason: str) -> None:
    with pytest.raises(TypeSyntaxError, match=reason):
        parse_type(text)


def test_a_column_type_mistake_is_reported_at_its_position(tmp_path: Path) -> None:
    body = copy.deepcopy(BASE)
    body["tables"]["things"]["columns"]["created"]["type"] = "timestamptz(9)"
    spec_dir = spec(tmp_path, body)
    text = (spec_dir / "01-base.yaml").read_text(encoding="utf-8").splitlines()
    line = next(i for i, t in enumerate(text, 1) if "timestamptz(9)" in t)
    column = text[line - 1].index("timestamptz(9)") + 1
    [error] = check_errors(spec_dir)
    assert error.endswith(f"01-base.yaml:{line}:{column}: 'timestamptz(9)': precision must be between 0 and 6")


def test_a_mistyped_built_in_type_is_named(tmp_path: Path) -> None:
    body = copy.deepcopy(BASE)
    body["tables"]["things"]["columns"]["doc"]["type"] = "tsvectr"
    [error] = check_errors(spec(tmp_path, body))
    assert error.endswith("unknown type 'tsvectr' (not a built-in type of PostgreSQL, nor declared under `types:`; "
                          "did you mean tsvector?)"), error


@pytest.mark.parametrize(("edit", "message"), [
    ({"tables": {"things": {"columns": {"id": {"type": "integer", "primary_key": True},
                                       "any": {"type": "anyelement"}}}}},
     "anyelement is polymorphic: only a function's arguments and result may be"),
    ({"functions": {"f": {"args": {"x": "anyelement[]"}, "returns": "integer", "language": "sql",
                          "body": "SELECT 1"}}},
     "'anyelement[]': a polymorphic type has no array type (anyarray, anycompatiblearray)"),
    ({"functions": {"f": {"args": {"x": "integer"}, "returns": "anyelement", "language": "sql", "body": "SELECT x"}}},
     "f: a result of type anyelement needs an argument of type anyarray or anyelement or anyenum or anymultirange"
     " or anynonarray or anyrange (PostgreSQL cannot determine the result's type)"),
    ({"functions": {"f": {"args": {"x": "anyelement"}, "returns": "anyrange", "language": "sql",
                          "body": "SELECT NULL"}}},
     "f: a result of type anyrange needs an argument of type anymultirange or anyrange"),
    ({"functions": {"f": {"args": {"x": "anyelement"}, "returns": "anycompatible", "language": "sql",
                          "body": "SELECT x"}}},
     "f: a result of type anycompatible needs an argument of type anycompatible or anycompatiblearray"),
])
def test_polymorphic_types_where_postgresql_refuses_them(tmp_path: Path, edit: dict[str, Any], message: str) -> None:
    [error] = check_errors(spec(tmp_path, {"module": "Poly", **edit}))
    assert message in error, error


# -- live: apply, values, read back, drift, plan ---------------------------------------------------------------------
def test_applied_types_are_postgresqls_and_hold_their_values(tmp_path: Path, empty_db: str) -> None:
    spec_dir = spec(tmp_path, BASE)
    result = build(spec_dir)
    live.apply_sql(empty_db, sql_of(result.files, "schema.sql"))
    stored = {name: value for name, (_, _, value, _) in COLUMNS.items() if value is not None}
    with psycopg.connect(empty_db) as conn:
        found = dict(conn.execute("SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute "
                                  "WHERE attrelid = 'public.things'::regclass AND attnum > 0").fetchall())
        assert {name: found[name] for name in COLUMNS} == {name: c[1] for name, c in COLUMNS.items()}
        conn.execute(f"INSERT INTO public.things (id, title, {', '.join(stored)}) "  # noqa: S608 - fixed names
                     f"VALUES (1, 'fat cats', {', '.join(['%s'] * len(stored))})", list(stored.values()))
        back = conn.execute(f"SELECT {', '.join(f'{n}::text' for n in stored)} FROM public.things").fetchone()
        assert dict(zip(stored, back or (), strict=True)) == {n: COLUMNS[n][3] for n in stored}
        # the generated tsvector column and the functions work on the stored row (a function's argument and result
        # types lose their modifiers: the value is not rounded to 3 digits)
        assert conn.execute("SELECT public.matches(search, to_tsquery('english', 'cat')), "
                            "public.stamp('2026-01-02 03:04:05.678912+00')::text FROM public.things").fetchone() == (
            True, "2026-01-02 03:04:05.678912+00")
        with pytest.raises(psycopg.errors.StringDataLengthMismatch):  # bit(8) stores exactly 8 bits
            conn.execute("INSERT INTO public.things (id, flags) VALUES (2, B'101')")
    assert [str(d) for d in verify(empty_db, check(load_spec(spec_dir)))] == []
    assert "Nothing to do" in migrate(empty_db, spec_dir)


def test_polymorphic_functions_take_the_call_s_types(tmp_path: Path, empty_db: str) -> None:
    spec_dir = spec(tmp_path, {"module": "Poly", "functions": POLYMORPHIC})
    live.apply_sql(empty_db, sql_of(build(spec_dir).files, "schema.sql"))
    with psycopg.connect(empty_db) as conn:
        assert conn.execute("SELECT public.first_of(ARRAY['x', 'y']), public.first_of(ARRAY[7, 8]), "
                            "public.larger(2, 3.5), public.low_of(int4range(4, 9))").fetchone() == ("x", 7, 3.5, 4)
        assert conn.execute("SELECT pg_typeof(public.larger(2, 3.5))::text").fetchone() == ("numeric",)
    assert [str(d) for d in verify(empty_db, check(load_spec(spec_dir)))] == []
    assert "Nothing to do" in migrate(empty_db, spec_dir)


@pytest.mark.parametrize(("change", "expected"), [
    ("ALTER TABLE public.things ALTER COLUMN created TYPE timestamptz(6)",
     ["column public.things.created: type timestamptz(3) in spec, timestamptz(6) in database"]),
    ("ALTER TABLE public.things ALTER COLUMN flags TYPE bit varying(8)",
     ["column public.things.flags: type bit(8) in spec, varbit(8) in database"]),
])
def test_a_changed_type_is_drift(tmp_path: Path, empty_db: str, change: str, expected: list[str]) -> None:
    assert drift_after(empty_db, spec(tmp_path, BASE), change) == expected


def test_plan_changes_a_precision(tmp_path: Path, empty_db: str) -> None:
    live.apply_sql(empty_db, sql_of(build(spec(tmp_path, BASE, "old")).files, "schema.sql"))
    new = copy.deepcopy(BASE)
    new["tables"]["things"]["columns"]["created"]["type"] = "timestamptz(6)"
    script = migrate(empty_db, spec(tmp_path, new, "new"))
    assert "ALTER COLUMN created TYPE timestamptz(6)" in script, script
    with psycopg.connect(empty_db) as conn:
        assert conn.execute("SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = "
                            "'public.things'::regclass AND attname = 'created'").fetchone() == (
            "timestamp(6) with time zone",)
