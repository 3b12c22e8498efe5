"""Composite types (`types: {name: {attributes: {...}}}`) and domains (`types: {name: {domain: T, ...}}`), with
grants on types, through every stage: check, order, render, verify, a live apply read back without drift, a
changed database reported, plans that change them in place (or refuse what PostgreSQL cannot do).

Expectations come from PostgreSQL itself (pg_attribute, pg_constraint, format_type, the errors a statement raises,
the rows a query returns), not from the tool.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import psycopg
import pytest
from specs import lost_clause, migrate, one, sql_of, write_spec

from generator import live
from generator.check import check
from generator.diagnostics import SpecError
from generator.drift import verify
from generator.load import load_spec
from generator.migrate import database
from generator.migrate.planner import Options, plan
from generator.migrate.script import script
from generator.migrate.snapshot import of_spec
from generator.pipeline import build

BASE: dict[str, Any] = {
    "module": "Composite and domain types",
    "roles": {"clerk": {}},
    "schemas": {"app": {}},
    "types": {
        # A domain over a type declared later in the file, and a composite type using a domain: order follows use.
        "app.addresses": {"domain": "app.address[]"},
        "app.address": {"attributes": {"street": "text", "zip": {"type": "varchar(10)", "collation": "C"},
                                       "contact": "app.email"},
                        "grants": {"clerk": ["usage"]}, "comment": "Where to send things."},
        "app.email": {"domain": "text", "not_null": True, "default": "'nobody@example.com'", "collation": "C",
                      "checks": {"email_shape": "VALUE ~ '@'", "email_short": "length(VALUE) < 320"}},
        "app.nothing": {"attributes": {}},
        "app.price": {"domain": "numeric(10, 2)", "checks": {"positive": "VALUE > 0"}},
    },
    "functions": {"app.city_line": {"args": {"a": "app.address"}, "returns": "text", "language": "sql",
                                    "volatility": "immutable", "body": "SELECT (a).street || ' ' || (a).zip"},
                  "app.home_of": {"args": {"who": "app.email"}, "returns": "app.address", "language": "sql",
                                  "body": "SELECT ROW('Main St', '12345', who)::app.address"}},
    "tables": {"app.people": {"columns": {
        "id": {"type": "bigint", "primary_key": True},
        "email": {"type": "app.email"},  # NOT NULL and the default come from the domain
        "nick": {"type": "app.email", "collation": "POSIX", "default": "x@y"},
        "home": "app.address",
        "past": "app.addresses",
        "prices": "app.price[]",
        "budget": {"type": "app.price", "default": 10},
    }}},
}


def spec(tmp_path: Path, name: str, body: dict[str, Any]) -> Path:
    return write_spec(tmp_path / name, {"01-types.yaml": body})


def changed(**types: Any) -> dict[str, Any]:
    body = copy.deepcopy(BASE)
    body["types"].update(types)
    return body


# -- check and order -------------------------------------------------------------------------------------------------
def test_types_are_created_after_the_types_they_use_and_before_their_users(tmp_path: Path) -> None:
    text = sql_of(build(spec(tmp_path, "s", BASE)).files, "schema.sql")
    assert text.index("CREATE DOMAIN app.email") < text.index("CREATE TYPE app.address AS") \
        < text.index("CREATE DOMAIN app.addresses") < text.index("CREATE FUNCTION app.city_line") \
        < text.index("CREATE TABLE app.people")
    assert "CREATE TYPE app.nothing AS ();" in text
    assert "REVOKE ALL ON TYPE app.address FROM PUBLIC, clerk;\nGRANT USAGE ON TYPE app.address TO clerk;" in text
    assert "CONSTRAINT email_shape CHECK (VALUE ~ '@')" in text


def test_a_cycle_between_types_is_refused(tmp_path: Path) -> None:
    body = {"module": "Ring", "types": {"ring_a": {"domain": "ring_b"}, "ring_b": {"attributes": {"x": "ring_a"}}}}
    with pytest.raises(SpecError, match="dependency cycle: type public.ring_"):
        build(spec(tmp_path, "s", body))


@pytest.mark.parametrize(("old", "new", "differs"), [
    ("CONSTRAINT email_short CHECK (length(VALUE) < 320)", "CONSTRAINT email_short CHECK (length(VALUE) < 32)",
     "domain app.email check email_short"),
    ("    NOT NULL\n", "", "domain app.email as text"),
    ("    DEFAULT 'nobody@example.com'\n", "", "domain app.email as text"),
    ('AS text COLLATE "C"', "AS text", "domain app.email as text"),
    ("zip varchar(10) COLLATE \"C\"", "zip varchar(12) COLLATE \"C\"", "type app.address attributes"),
    ("    street text,\n", "", "type app.address attributes"),
    ("GRANT USAGE ON TYPE app.address TO clerk;", "", "grant usage on type app.address"),
])
def test_verify_reports_a_clause_the_sql_lost(tmp_path: Path, old: str, new: str, differs: str) -> None:
    mismatch = lost_clause(spec(tmp_path, "s", BASE), old, new)
    assert [m for m in mismatch.missing if m.startswith(differs)]


# -- live: apply, introspect, drift ----------------------------------------------------------------------------------
def test_applies_as_postgresql_means_it_and_reads_back_without_drift(empty_db: str, tmp_path: Path) -> None:
    d = spec(tmp_path, "s", BASE)
    live.apply_sql(empty_db, sql_of(build(d).files, "schema.sql"))
    assert [str(x) for x in verify(empty_db, check(load_spec(d)))] == []
    with psycopg.connect(empty_db) as conn:
        attributes = conn.execute(
            "SELECT a.attname, format_type(a.atttypid, a.atttypmod), c.collname FROM pg_attribute a "
            "JOIN pg_collation c ON c.oid = a.attcollation WHERE a.attrelid = 'app.address'::regclass "
            "ORDER BY a.attnum").fetchall()
        assert [(n, t) for n, t, _ in attributes] == [("street", "text"), ("zip", "character varying(10)"),
                                                      ("contact", "app.email")]
        assert attributes[1][2] == "C"
        assert conn.execute("SELECT typnotnull, format_type(typbasetype, typtypmod) FROM pg_type "
                            "WHERE oid = 'app.price'::regtype").fetchone() == (False, "numeric(10,2)")
        conn.execute("INSERT INTO app.people (id, home, past, prices) VALUES (1, app.home_of('a@b'), "
                     "ARRAY[app.home_of('c@d')], '{1.5, 2}')")
        # The domain's default and the column's, the composite's fields, a function over it.
        assert conn.execute("SELECT email, nick, budget, (home).zip, app.city_line(past[1]) FROM app.people"
                            ).fetchone() == ("nobody@example.com", "x@y", 10, "12345", "Main St 12345")
    # PostgreSQL refuses what the domains refuse: a CHECK violated, a null, a non-positive price in an array.
    for bad, error in (("INSERT INTO app.people (id, email) VALUES (2, 'no-at-sign')", psycopg.errors.CheckViolation),
                       ("INSERT INTO app.people (id, email) VALUES (2, NULL)", psycopg.errors.NotNullViolation),
                       ("INSERT INTO app.people (id, prices) VALUES (2, '{1, -1}')", psycopg.errors.CheckViolation)):
        with psycopg.connect(empty_db) as conn, pytest.raises(error):
            conn.execute(bad)
    # The grant: clerk may use the type, PUBLIC no longer may.
    assert one(empty_db, "SELECT has_type_privilege('clerk', 'app.address', 'USAGE') "
                         "AND NOT has_type_privilege('public', 'app.address', 'USAGE')") is True


@pytest.mark.parametrize(("change", "expected"), [
    ("ALTER TYPE app.address ADD ATTRIBUTE city text", "type app.address: attribute city in database, not in spec"),
    ("ALTER DOMAIN app.email DROP CONSTRAINT email_short", "type app.email: CHECK email_short missing in database"),
    ("ALTER DOMAIN app.price SET DEFAULT 1", "type app.price: default none in spec, 1 in database"),
    ("GRANT USAGE ON DOMAIN app.price TO clerk", "grant USAGE on type app.price to clerk: in database, not in spec"),
    ("REVOKE USAGE ON TYPE app.nothing FROM PUBLIC",
     "grant USAGE on type app.nothing to PUBLIC: missing in database"),
    ("CREATE DOMAIN app.extra AS integer", "type app.extra: in database, not in spec"),
])
def test_a_changed_type_is_reported(empty_db: str, tmp_path: Path, change: str, expected: str) -> None:
    d = spec(tmp_path, "s", BASE)
    live.apply_sql(empty_db, sql_of(build(d).files, "schema.sql"))
    live.apply_sql(empty_db, change)
    assert [str(x) for x in verify(empty_db, check(load_spec(d)))] == [expected]


# -- plans -----------------------------------------------------------------------------------------------------------
def test_plan_changes_attributes_and_domains_in_place_keeping_the_data(empty_db: str, tmp_path: Path) -> None:
    old = copy.deepcopy(BASE)
    for held in ("past", "prices"):  # domains inside arrays: see test_plan_refuses_what_postgresql_cannot_do_in_place
        del old["tables"]["app.people"]["columns"][held]
    old["types"]["app.address"]["attributes"]["contact"] = "text"
    live.apply_sql(empty_db, sql_of(build(spec(tmp_path, "old", old)).files, "schema.sql"))
    live.apply_sql(empty_db, "INSERT INTO app.people (id, email, home) VALUES (1, 'a@b', ROW('Main', '1', 'c@d'))")
    new = copy.deepcopy(old)
    new["types"].update(**{
        "app.address": {"attributes": {"street": "text", "contact": "text", "city": "text"},
                        "grants": {"clerk": ["usage"], "public": ["usage"]}, "comment": "Where to send things."},
        "app.email": {"domain": "text", "default": "'someone@example.com'", "collation": "C",
                      "checks": {"email_shape": "VALUE ~ '@.'", "email_lower": "VALUE = lower(VALUE)"}},
        "app.price": {"domain": "numeric(10, 2)", "not_null": True, "checks": {"positive": "VALUE > 0"}},
    })
    new["tables"]["app.people"]["columns"]["budget"]["not_null"] = True  # the domain's NOT NULL: rows have one
    text = migrate(empty_db, spec(tmp_path, "new", new))
    for statement in ("ALTER TYPE app.address DROP ATTRIBUTE zip;", "ALTER TYPE app.address ADD ATTRIBUTE city text;",
                      "ALTER DOMAIN app.email DROP NOT NULL;",
                      "ALTER DOMAIN app.email SET DEFAULT 'someone@example.com';",
                      "ALTER DOMAIN app.email DROP CONSTRAINT email_short;",
                      "ALTER DOMAIN app.email DROP CONSTRAINT email_shape;",
                      "ALTER DOMAIN app.email ADD CONSTRAINT email_shape CHECK (VALUE ~ '@.');",
                      "ALTER DOMAIN app.price SET NOT NULL;", "GRANT USAGE ON TYPE app.address TO PUBLIC;"):
        assert statement in text, statement
    assert "data-loss" in text and "attribute zip of type app.address" in text
    assert one(empty_db, "SELECT (home).street || (home).contact FROM app.people") == "Mainc@d"


def test_online_plan_adds_a_domain_check_not_valid_and_validates_it_after(empty_db: str, tmp_path: Path) -> None:
    body = {"module": "Online", "types": {"code": {"domain": "text"}},
            "tables": {"t": {"columns": {"id": {"type": "bigint", "primary_key": True}, "code": "code"}}}}
    live.apply_sql(empty_db, sql_of(build(spec(tmp_path, "old", body)).files, "schema.sql"))
    live.apply_sql(empty_db, "INSERT INTO public.t VALUES (1, 'abc')")
    body["types"]["code"]["checks"] = {"short": "length(VALUE) < 5"}
    catalog = check(load_spec(spec(tmp_path, "new", body)))
    p = database.plan_database(empty_db, catalog, options=Options(online=True))
    text = script(p, title="test")
    assert text.index("ADD CONSTRAINT short CHECK (length(VALUE) < 5) NOT VALID;") < text.index("COMMIT;") \
        < text.index("ALTER DOMAIN public.code VALIDATE CONSTRAINT short;")
    database.apply(empty_db, p)
    assert [str(d) for d in verify(empty_db, catalog)] == []
    assert one(empty_db, "SELECT convalidated FROM pg_constraint WHERE conname = 'short'") is True


def test_plan_retypes_an_attribute_of_a_type_no_table_uses(empty_db: str, tmp_path: Path) -> None:
    body = {"module": "Loose", "types": {"pair": {"attributes": {"a": "integer", "b": "text"}}},
            "functions": {"first": {"args": {"p": "pair"}, "returns": "integer", "language": "sql",
                                    "body": "SELECT (p).a"}}}
    live.apply_sql(empty_db, sql_of(build(spec(tmp_path, "old", body)).files, "schema.sql"))
    body["types"]["pair"]["attributes"]["a"] = "bigint"
    text = migrate(empty_db, spec(tmp_path, "new", body))
    assert "ALTER TYPE public.pair ALTER ATTRIBUTE a TYPE bigint;" in text
    assert one(empty_db, "SELECT (ROW(5000000000, 'x')::public.pair).a") == 5000000000


def test_plan_rebuilds_a_domain_nothing_uses_and_creates_types_before_their_users(empty_db: str,
                                                                                  tmp_path: Path) -> None:
    plain = {"module": "Plain", "types": {"code": {"domain": "integer"}},
             "tables": {"t": {"columns": {"id": {"type": "bigint", "primary_key": True}}}}}
    live.apply_sql(empty_db, sql_of(build(spec(tmp_path, "old", plain)).files, "schema.sql"))
    plain["types"]["code"] = {"domain": "text", "checks": {"short": "length(VALUE) < 5"}}
    plain["types"]["spot"] = {"attributes": {"code": "code", "at": "timestamptz"}}
    plain["tables"]["t"]["columns"]["spot"] = "spot"
    text = migrate(empty_db, spec(tmp_path, "new", plain))
    assert text.index("DROP TYPE public.code") < text.index("CREATE DOMAIN public.code AS text") \
        < text.index("CREATE TYPE public.spot") < text.index("ADD COLUMN spot")


@pytest.mark.parametrize(("types", "message"), [
    ({"app.email": {"domain": "varchar(300)", "collation": "C"}},
     "type app.email: base type varchar(300) in spec, text in database; PostgreSQL changes that only by dropping"),
    ({"app.addresses": {"enum": ["x"]}},
     "type app.addresses: kind enum in spec, domain in database; PostgreSQL changes that only by dropping"),
    ({"app.email": {"domain": "text", "collation": "C", "checks": {"email_ascii": "VALUE ~ '^[ -~]*$'"}}},
     "refuses while a column holds the domain inside an array or another type (app.people.home, app.people.past)"),
    ({"app.address": {"attributes": {"street": "text", "zip": "varchar(20)", "contact": "app.email"}}},
     "attribute(s) zip change type, which PostgreSQL refuses while a table column uses the type"),
    ({"app.address": {"attributes": {"zip": {"type": "varchar(10)", "collation": "C"}, "street": "text",
                                     "contact": "app.email"}}},
     "which PostgreSQL cannot do in place (it adds attributes at the end"),
])
def test_plan_refuses_what_postgresql_cannot_do_in_place(tmp_path: Path, types: dict[str, Any], message: str) -> None:
    old_catalog = check(load_spec(spec(tmp_path, "old", BASE)))
    new_catalog = check(load_spec(spec(tmp_path, "new", changed(**types))))
    with pytest.raises(SpecError) as refused:
        plan(new_catalog, of_spec(old_catalog))
    assert message in str(refused.value)
    assert "new/spec/01-types.yaml:" in str(refused.value)  # at the type in the spec


def test_plan_drops_a_type_after_its_users(empty_db: str, tmp_path: Path) -> None:
    live.apply_sql(empty_db, sql_of(build(spec(tmp_path, "old", BASE)).files, "schema.sql"))
    bare = {"module": "Bare", "schemas": {"app": {}}, "roles": {"clerk": {}},
            "tables": {"app.people": {"columns": {"id": {"type": "bigint", "primary_key": True}}}}}
    p = database.plan_database(empty_db, check(load_spec(spec(tmp_path, "bare", bare))))
    assert p.hazard_kinds() == {"data-loss"}  # the columns go with their values
    text = script(p, title="test")
    assert text.index("DROP COLUMN home") < text.index("DROP TYPE app.addresses;") \
        < text.index("DROP TYPE app.address;") < text.index("DROP TYPE app.email;")
