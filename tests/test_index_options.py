"""Index options, unlogged tables, view check options and owners, through every stage: INCLUDE columns, collations
and operator classes in the index key grammar (with expression keys too), NULLS NOT DISTINCT, UNLOGGED, WITH CHECK
OPTION, and ALTER ... OWNER TO on schemas, sequences, functions, tables and views.

Expectations come from PostgreSQL (pg_index, pg_class, pg_opclass, pg_collation, what an INSERT is refused), not from
the tool's own output. The owner role is declared by the spec, which creates it when missing (roles are
cluster-wide and outlive the test databases).
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import psycopg
import pytest
from specs import migrate, sql_of, write_spec

from generator import live
from generator.check import check
from generator.drift import verify
from generator.load import load_spec
from generator.order import order
from generator.pipeline import build
from generator.sqltext import INDEX_KEY
from generator.verify import found, verify_sql

OWNER = "pgspec_index_owner"
BASE: dict[str, Any] = {
    "module": "Index options",
    "roles": {OWNER: {}},
    "schemas": {"app": {"owner": OWNER}},
    "sequences": {"app.counter": {"owner": OWNER}},
    "functions": {"app.double": {"args": {"n": "integer"}, "returns": "integer", "language": "sql",
                                 "volatility": "immutable", "owner": OWNER, "body": "SELECT n * 2"}},
    "tables": {
        "items": {
            "owner": OWNER,
            "columns": {"id": {"type": "bigint", "primary_key": True}, "name": {"type": "text", "not_null": True},
                        "code": "text", "data": "jsonb", "price": "integer"},
            "indexes": {
                "items_name_idx": {"columns": ['name COLLATE "C" text_pattern_ops DESC'], "include": ["price"]},
                "items_lower_idx": {"columns": ["(lower(name)) text_pattern_ops"]},
                "items_data_idx": {"columns": ["data jsonb_path_ops"], "method": "gin"},
                "items_code_key": {"columns": ["code"], "unique": True, "nulls_not_distinct": True},
            },
        },
        "scratch": {"unlogged": True, "columns": {"k": "text"}},
    },
    "views": {"cheap_items": {"query": "SELECT id, name, code, price FROM items WHERE price < 100",
                              "check_option": "cascaded", "owner": OWNER}},
}


def spec(tmp_path: Path, name: str, body: dict[str, Any]) -> Path:
    return write_spec(tmp_path / name, {"01-base.yaml": body})


def rows(dsn: str, query: str, *params: Any) -> list[tuple[Any, ...]]:
    with psycopg.connect(dsn) as conn:
        return conn.execute(query.encode(), params).fetchall()


def index_facts(dsn: str, index: str) -> tuple[Any, ...]:
    """(key columns, all columns, NULLS NOT DISTINCT, operator classes and collations of the keys) as pg_index
    holds them."""
    return rows(dsn, "SELECT i.indnkeyatts, i.indnatts, i.indnullsnotdistinct, "
                     "ARRAY(SELECT o.opcname::text FROM unnest(i.indclass) WITH ORDINALITY c(oid, n) "
                     "      JOIN pg_opclass o ON o.oid = c.oid ORDER BY c.n), "
                     "ARRAY(SELECT coalesce(co.collname::text, '-') FROM unnest(i.indcollation) WITH ORDINALITY "
                     "      c(oid, n) LEFT JOIN pg_collation co ON co.oid = c.oid ORDER BY c.n) "
                     "FROM pg_index i WHERE i.indexrelid = %s::regclass", index)[0]


def owners(dsn: str) -> dict[str, str]:
    return dict(rows(dsn, "SELECT 'schema app', pg_get_userbyid(nspowner)::text FROM pg_namespace "
                          "WHERE nspname = 'app' UNION ALL "
                          "SELECT relname::text, pg_get_userbyid(relowner)::text FROM pg_class "
                          "WHERE relname IN ('items', 'cheap_items', 'counter') UNION ALL "
                          "SELECT 'double', pg_get_userbyid(proowner)::text FROM pg_proc WHERE proname = 'double'"))



# -- the key grammar -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("key", "parts"), [
    ("name", ("name", None, None, None, None, None)),
    ('"My Col" DESC NULLS LAST', ('"My Col"', None, None, None, "DESC", "LAST")),
    ('name COLLATE "C"', ("name", None, '"C"', None, None, None)),
    ("data jsonb_path_ops", ("data", None, None, "jsonb_path_ops", None, None)),
    ('name collate pg_catalog."C" text_pattern_ops desc', ("name", None, 'pg_catalog."C"', "text_pattern_ops",
                                                           "desc", None)),
    ("(lower(name)) text_pattern_ops", (None, "lower(name)", None, "text_pattern_ops", None, None)),
    ("(a + b) DESC", (None, "a + b", None, None, "DESC", None)),
    ("title public.gin_trgm_ops", ("title", None, None, "public.gin_trgm_ops", None, None)),
])
def test_index_key_grammar(key: str, parts: tuple[str | None, ...]) -> None:
    m = INDEX_KEY.match(key)
    assert m is not None
    assert (m["col"], m["expr"], m["collation"], m["opclass"], m["dir"], m["nulls"]) == parts


@pytest.mark.parametrize("key", ["name DSC x", "name DESC text_pattern_ops", "(a", "name NULLS", "a b c",
                                 'name text_pattern_ops COLLATE "C"'])
def test_index_key_grammar_refuses_what_create_index_does(key: str) -> None:
    assert INDEX_KEY.match(key) is None


# -- render and verify -----------------------------------------------------------------------------------------------
def test_rendered_sql_carries_every_option(tmp_path: Path) -> None:
    text = sql_of(build(spec(tmp_path, "s", BASE)).files, "schema.sql")
    assert 'CREATE INDEX items_name_idx ON public.items (name COLLATE "C" text_pattern_ops DESC) INCLUDE (price);' \
        in text
    assert "CREATE INDEX items_lower_idx ON public.items ((lower(name)) text_pattern_ops);" in text
    assert "USING gin (data jsonb_path_ops)" in text
    assert "CREATE UNIQUE INDEX items_code_key ON public.items (code) NULLS NOT DISTINCT;" in text
    assert "CREATE UNLOGGED TABLE public.scratch" in text
    assert "WITH CASCADED CHECK OPTION;" in text
    # the owner last: the grants made before it pass to the new owner, and REVOKE ALL cannot strip the owner
    for target in ("SCHEMA app", "SEQUENCE app.counter", "FUNCTION app.double(integer)", "TABLE public.items",
                   "VIEW public.cheap_items"):
        assert f"ALTER {target} OWNER TO {OWNER};" in text
    assert text.index("REVOKE ALL ON TABLE public.items") < text.index("ALTER TABLE public.items OWNER TO")
    inventory = found(text)
    assert f"owner of table public.items: {OWNER}" in inventory and "table public.scratch unlogged" in inventory


@pytest.mark.parametrize(("old", "new", "line"), [
    (" INCLUDE (price)", "", "index public.items_name_idx "),
    (' COLLATE "C"', "", "index public.items_name_idx "),
    (" text_pattern_ops DESC", " DESC", "index public.items_name_idx "),
    ("(name COLLATE \"C\" text_pattern_ops DESC)", "(name COLLATE \"C\" text_pattern_ops)",
     "index public.items_name_idx "),
    ("((lower(name)) text_pattern_ops)", "((lower(name)))", "index public.items_lower_idx "),
    (" NULLS NOT DISTINCT", "", "index public.items_code_key "),
    ("CREATE UNLOGGED TABLE", "CREATE TABLE", "table public.scratch"),
    ("    WITH CASCADED CHECK OPTION", "    WITH LOCAL CHECK OPTION", "view public.cheap_items "),
    (f"ALTER TABLE public.items OWNER TO {OWNER};", "", "owner of table public.items"),
    (f"ALTER FUNCTION app.double(integer) OWNER TO {OWNER};", "", "owner of function app.double"),
    (f"ALTER SCHEMA app OWNER TO {OWNER};", "", "owner of schema app"),
])
def test_verify_reports_a_clause_the_sql_lost(tmp_path: Path, old: str, new: str, line: str) -> None:
    b = build(spec(tmp_path, "s", BASE))
    text = sql_of(b.files, "schema.sql")
    assert old in text
    mismatch = verify_sql("schema.sql", text.replace(old, new, 1), order(b.catalog), b.catalog, registry=True)
    assert mismatch is not None
    assert [m for m in mismatch.missing if m.startswith(line)], mismatch


def test_an_opclass_of_an_extension_orders_the_index_after_it(tmp_path: Path) -> None:
    body = {"module": "Trigram", "extensions": {"pg_trgm": {"schema": "public"}},
            "tables": {"docs": {"columns": {"id": {"type": "integer", "primary_key": True}, "title": "text"},
                                "indexes": {"docs_title_idx": ["title gin_trgm_ops"]}}}}
    body["tables"]["docs"]["indexes"]["docs_title_idx"] = {"columns": ["title gin_trgm_ops"], "method": "gin"}
    text = sql_of(build(spec(tmp_path, "s", body)).files, "schema.sql")
    assert text.index("CREATE EXTENSION IF NOT EXISTS pg_trgm") < text.index("CREATE INDEX docs_title_idx")


def test_the_bootstrap_superuser_may_own_without_being_declared(tmp_path: Path) -> None:
    body = {"module": "Owned", "tables": {"t": {"owner": "postgres", "columns": {"id": "integer"}}}}
    text = sql_of(build(spec(tmp_path, "s", body)).files, "schema.sql")
    assert "ALTER TABLE public.t OWNER TO postgres;" in text and "CREATE ROLE" not in text


# -- live: apply, introspect, drift ----------------------------------------------------------------------------------
def test_applies_as_postgresql_means_it_and_reads_back_without_drift(empty_db: str, tmp_path: Path) -> None:
    d = spec(tmp_path, "s", BASE)
    live.apply_sql(empty_db, sql_of(build(d).files, "schema.sql"))
    assert [str(x) for x in verify(empty_db, check(load_spec(d)))] == []
    assert index_facts(empty_db, "items_name_idx") == (1, 2, False, ["text_pattern_ops"], ["C"])
    assert index_facts(empty_db, "items_lower_idx")[3] == ["text_pattern_ops"]
    assert index_facts(empty_db, "items_data_idx")[3] == ["jsonb_path_ops"]
    assert index_facts(empty_db, "items_code_key")[:3] == (1, 1, True)
    assert rows(empty_db, "SELECT relpersistence FROM pg_class WHERE relname IN ('scratch', 'items') "
                          "ORDER BY relname") == [("p",), ("u",)]
    assert rows(empty_db, "SELECT check_option FROM information_schema.views WHERE table_name = 'cheap_items'") \
        == [("CASCADED",)]
    assert set(owners(empty_db).values()) == {OWNER}
    # WITH CHECK OPTION: a row the view would not show is refused through it
    live.apply_sql(empty_db, "INSERT INTO cheap_items (id, name, code, price) VALUES (1, 'a', 'x', 50)")
    with pytest.raises(psycopg.errors.WithCheckOptionViolation):
        live.apply_sql(empty_db, "INSERT INTO cheap_items (id, name, code, price) VALUES (2, 'b', 'y', 500)")
    live.apply_sql(empty_db, "INSERT INTO items (id, name, price) VALUES (3, 'c', 500)")
    # NULLS NOT DISTINCT: a second row without a code is a duplicate
    with pytest.raises(psycopg.errors.UniqueViolation):
        live.apply_sql(empty_db, "INSERT INTO items (id, name, price) VALUES (4, 'd', 5)")


@pytest.mark.parametrize(("change", "expected"), [
    ("DROP INDEX items_name_idx; CREATE INDEX items_name_idx ON items (name COLLATE \"C\" text_pattern_ops DESC)",
     "index public.items_name_idx: include (price) in spec, () in database"),
    ("DROP INDEX items_name_idx; CREATE INDEX items_name_idx ON items (name text_pattern_ops DESC) INCLUDE (price)",
     'index public.items_name_idx: keys (name COLLATE "C" text_pattern_ops DESC) in spec, '
     "(name text_pattern_ops DESC) in database"),
    ("DROP INDEX items_lower_idx; CREATE INDEX items_lower_idx ON items (lower(name))",
     "index public.items_lower_idx: keys ((lower(items.name)) text_pattern_ops) in spec, ((lower(items.name))) in "
     "database"),
    ("DROP INDEX items_code_key; CREATE UNIQUE INDEX items_code_key ON items (code)",
     "index public.items_code_key: nulls_not_distinct true in spec, false in database"),
    ("ALTER TABLE scratch SET LOGGED", "table public.scratch: unlogged true in spec, false in database"),
    ("ALTER VIEW cheap_items RESET (check_option)",
     "view public.cheap_items: check_option cascaded in spec, none in database"),
    ("ALTER VIEW cheap_items OWNER TO pgspec_index_other",
     f"view public.cheap_items: owner {OWNER} in spec, pgspec_index_other in database"),
    ("ALTER FUNCTION app.double(integer) OWNER TO pgspec_index_other",
     f"function app.double(integer): owner {OWNER} in spec, pgspec_index_other in database"),
    ("ALTER SEQUENCE app.counter OWNER TO pgspec_index_other",
     f"sequence app.counter: owner {OWNER} in spec, pgspec_index_other in database"),
    ("ALTER SCHEMA app OWNER TO pgspec_index_other",
     f"schema app: owner {OWNER} in spec, pgspec_index_other in database"),
])
def test_a_changed_database_is_reported(empty_db: str, tmp_path: Path, change: str, expected: str) -> None:
    d = spec(tmp_path, "s", BASE)
    live.apply_sql(empty_db, sql_of(build(d).files, "schema.sql"))
    live.apply_sql(empty_db, "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'pgspec_index_other') "
                             "THEN CREATE ROLE pgspec_index_other; END IF; END $$")
    live.apply_sql(empty_db, change)
    assert [str(x) for x in verify(empty_db, check(load_spec(d)))] == [expected]


def test_an_owner_the_spec_does_not_name_is_no_drift(empty_db: str, tmp_path: Path) -> None:
    plain = {"module": "Plain", "tables": {"t": {"columns": {"id": {"type": "integer", "primary_key": True}}}}}
    d = spec(tmp_path, "s", plain)
    live.apply_sql(empty_db, sql_of(build(d).files, "schema.sql"))
    live.apply_sql(empty_db, "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'pgspec_index_other') "
                             "THEN CREATE ROLE pgspec_index_other; END IF; END $$; "
                             "ALTER TABLE t OWNER TO pgspec_index_other")
    assert [str(x) for x in verify(empty_db, check(load_spec(d)))] == []


# -- plans -----------------------------------------------------------------------------------------------------------
PLAIN: dict[str, Any] = {
    "module": "Index options",
    "roles": {OWNER: {}},
    "schemas": {"app": {}},
    "sequences": {"app.counter": {}},
    "functions": {"app.double": {"args": {"n": "integer"}, "returns": "integer", "language": "sql",
                                 "volatility": "immutable", "body": "SELECT n * 2"}},
    "tables": {
        "items": {
            "columns": {"id": {"type": "bigint", "primary_key": True}, "name": {"type": "text", "not_null": True},
                        "code": "text", "data": "jsonb", "price": "integer"},
            "indexes": {"items_name_idx": ["name DESC"], "items_lower_idx": ["(lower(name))"],
                        "items_data_idx": {"columns": ["data"], "method": "gin"},
                        "items_code_key": {"columns": ["code"], "unique": True}},
        },
        "scratch": {"columns": {"k": "text"}},
    },
    "views": {"cheap_items": {"query": "SELECT id, name, code, price FROM items WHERE price < 100"}},
}


def test_plan_adds_every_option_keeping_the_rows(empty_db: str, tmp_path: Path) -> None:
    live.apply_sql(empty_db, sql_of(build(spec(tmp_path, "old", PLAIN)).files, "schema.sql"))
    live.apply_sql(empty_db, "INSERT INTO items (id, name, code, price) VALUES (1, 'a', 'x', 5); "
                             "INSERT INTO scratch VALUES ('kept')")
    text = migrate(empty_db, spec(tmp_path, "new", BASE))
    assert "ALTER TABLE public.scratch SET UNLOGGED;" in text and "rewrite" in text
    assert "ALTER VIEW public.cheap_items SET (check_option = cascaded);" in text
    assert f"ALTER TABLE public.items OWNER TO {OWNER};" in text and f"ALTER SCHEMA app OWNER TO {OWNER};" in text
    assert "INCLUDE (price)" in text and "NULLS NOT DISTINCT" in text
    assert rows(empty_db, "SELECT k FROM scratch") == [("kept",)]
    assert rows(empty_db, "SELECT id, code FROM items") == [(1, "x")]
    assert set(owners(empty_db).values()) == {OWNER}
    assert index_facts(empty_db, "items_data_idx")[3] == ["jsonb_path_ops"]


def test_plan_removes_every_option_keeping_the_rows(empty_db: str, tmp_path: Path) -> None:
    live.apply_sql(empty_db, sql_of(build(spec(tmp_path, "old", BASE)).files, "schema.sql"))
    live.apply_sql(empty_db, "INSERT INTO items (id, name, code, price) VALUES (1, 'a', 'x', 5); "
                             "INSERT INTO scratch VALUES ('kept')")
    unowned = copy.deepcopy(PLAIN)  # owners not named: whoever owns them now keeps them, no drift
    text = migrate(empty_db, spec(tmp_path, "new", unowned))
    assert "ALTER TABLE public.scratch SET LOGGED;" in text
    assert "ALTER VIEW public.cheap_items RESET (check_option);" in text
    assert "OWNER TO" not in text
    assert rows(empty_db, "SELECT relpersistence FROM pg_class WHERE relname = 'scratch'") == [("p",)]
    assert rows(empty_db, "SELECT k FROM scratch") == [("kept",)]
    assert index_facts(empty_db, "items_code_key")[2] is False


def test_plan_switches_tables_joined_by_a_foreign_key_in_the_order_postgresql_allows(empty_db: str,
                                                                                     tmp_path: Path) -> None:
    """No permanent table may reference an unlogged one: the referencing table goes unlogged first, and the
    referenced one logged first."""
    def pair(unlogged: bool) -> dict[str, Any]:
        return {"module": "Pair", "tables": {
            "parents": {"unlogged": unlogged, "columns": {"id": {"type": "integer", "primary_key": True}}},
            "children": {"unlogged": unlogged, "columns": {"id": {"type": "integer", "primary_key": True},
                                                            "parent_id": {"type": "integer",
                                                                          "references": "parents(id)"}}}}}

    live.apply_sql(empty_db, sql_of(build(spec(tmp_path, "logged", pair(False))).files, "schema.sql"))
    live.apply_sql(empty_db, "INSERT INTO parents VALUES (1); INSERT INTO children VALUES (1, 1)")
    text = migrate(empty_db, spec(tmp_path, "unlogged", pair(True)))
    assert text.index("public.children SET UNLOGGED") < text.index("public.parents SET UNLOGGED")
    text = migrate(empty_db, spec(tmp_path, "logged-again", pair(False)))
    assert text.index("public.parents SET LOGGED") < text.index("public.children SET LOGGED")
    assert rows(empty_db, "SELECT count(*) FROM children") == [(1,)]


DEFAULTS_SPELLED: dict[str, Any] = {
    "module": "Defaults spelled out",
    "tables": {"words": {
        "columns": {"id": {"type": "integer", "primary_key": True}, "word": "text", "code": "varchar(10)",
                    "label": {"type": "text", "collation": "C"}},
        "indexes": {
            "words_word_idx": {"columns": ["word text_ops"]},  # the default class of text under btree
            "words_code_idx": {"columns": ["code text_ops"]},  # varchar's: text's, by binary coercion
            "words_label_idx": {"columns": ['label COLLATE "C"']},  # the column's own collation
            "words_lower_idx": {"columns": ['(lower(word)) COLLATE "default" text_ops DESC']},
            "words_hash_idx": {"columns": ["word text_ops"], "method": "hash"},
        }}},
}


def test_default_operator_classes_and_collations_written_out_are_no_drift(empty_db: str, tmp_path: Path) -> None:
    """PostgreSQL's printed index definition leaves out an operator class that is the key type's default and a
    collation that is the key column's own; a spec may still write them (a plan must then have nothing to do)."""
    d = spec(tmp_path, "s", DEFAULTS_SPELLED)
    live.apply_sql(empty_db, sql_of(build(d).files, "schema.sql"))
    assert "text_ops" not in rows(empty_db, "SELECT pg_get_indexdef('words_word_idx'::regclass)")[0][0]
    assert [str(x) for x in verify(empty_db, check(load_spec(d)))] == []
    # a class or collation that is not the default is still told apart
    live.apply_sql(empty_db, "DROP INDEX words_word_idx; CREATE INDEX words_word_idx ON words (word text_pattern_ops); "
                             "DROP INDEX words_label_idx; "
                             'CREATE INDEX words_label_idx ON words (label COLLATE "POSIX")')
    assert [str(x) for x in verify(empty_db, check(load_spec(d)))] == [
        'index public.words_label_idx: keys (label COLLATE "C") in spec, (label COLLATE "POSIX") in database',
        "index public.words_word_idx: keys (word text_ops) in spec, (word text_pattern_ops) in database"]
