"""Extensions (`extensions: {citext: {schema: ext}}`), through every stage: decode and check, the order of the
output (an extension before what uses its types, functions and operator classes), verify's cross-check, apply,
introspection, drift and plans on a live PostgreSQL.

citext and btree_gist ship with both servers the suite runs on (the embedded PostgreSQL 18 wheel and Debian's
PostgreSQL 15); pgcrypto does not ship with the wheel. Expectations come from PostgreSQL (pg_extension, what a
citext comparison returns, which versions pg_available_extension_versions offers), not from the tool.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import psycopg
import pytest
from specs import migrate, one, sql_of, write_spec

from generator import live
from generator.check import check
from generator.diagnostics import SpecError
from generator.drift import verify
from generator.load import load_spec
from generator.migrate import database
from generator.migrate.planner import plan
from generator.migrate.script import script
from generator.migrate.snapshot import of_spec
from generator.pipeline import build
from generator.verify import found

BASE: dict[str, Any] = {
    "module": "Extensions",
    "schemas": {"ext": {}, "app": {}},
    "extensions": {"citext": {"schema": "ext"}, "btree_gist": {}},
    "functions": {"app.same_email": {
        "args": {"a": "text", "b": "text"}, "returns": "boolean", "language": "sql", "volatility": "immutable",
        # citext's `=` is found through the search_path like any operator: without ext it would compare text.
        "search_path": ["ext"], "body": "SELECT a::ext.citext = b::ext.citext"}},
    "tables": {"app.people": {
        "columns": {"id": {"type": "bigint", "primary_key": True},
                    "email": {"type": "ext.citext", "not_null": True, "unique": True},
                    "room": "integer"},
        "indexes": {"people_room_gist": {"columns": ["room"], "method": "gist"}}}},
}


def spec(tmp_path: Path, name: str, body: dict[str, Any] | None = None) -> Path:
    return write_spec(tmp_path / name, {"01-base.yaml": body if body is not None else BASE})


def installed(dsn: str) -> dict[str, tuple[str, str]]:
    """Extension -> (schema, version), as pg_extension has it (plpgsql left out)."""
    with psycopg.connect(dsn) as conn:
        rows = conn.execute("SELECT e.extname, e.extnamespace::regnamespace::text, e.extversion FROM pg_extension e "
                            "WHERE e.extname <> 'plpgsql'").fetchall()
    return {name: (schema, version) for name, schema, version in rows}


def errors(tmp_path: Path, body: dict[str, Any]) -> list[str]:
    with pytest.raises(SpecError) as refused:
        check(load_spec(spec(tmp_path, "bad", body)))
    return [str(d) for d in refused.value.diagnostics]


# -- decode and check ------------------------------------------------------------------------------------------------
def test_extension_types_and_functions_are_usable_once_declared(tmp_path: Path) -> None:
    catalog = check(load_spec(spec(tmp_path, "ok")))
    assert catalog.extensions["citext"].schema == "ext" and catalog.extensions["btree_gist"].schema is None


def test_without_the_extension_its_type_is_unknown(tmp_path: Path) -> None:
    body = copy.deepcopy(BASE)
    del body["extensions"]
    got = errors(tmp_path, body)
    assert any("01-base.yaml:" in e and "unknown type 'ext.citext'" in e for e in got), got


def test_a_call_into_an_extension_schema_is_left_to_postgresql(tmp_path: Path) -> None:
    body = copy.deepcopy(BASE)
    body["tables"]["app.people"]["columns"]["room"] = {"type": "integer", "default_sql": "ext.nope()"}
    check(load_spec(spec(tmp_path, "ok", body)))
    del body["extensions"]["citext"]
    body["tables"]["app.people"]["columns"]["email"]["type"] = "text"
    body["functions"]["app.same_email"]["body"] = "SELECT a = b"
    assert any("calls unknown function ext.nope()" in e for e in errors(tmp_path, body))


@pytest.mark.parametrize(("extension", "at", "message"), [
    ({"schema": "nowhere"}, "nowhere", "extension 'citext': schema 'nowhere' is not declared"),
    ({"version": " "}, "' '", "extension 'citext': version is empty"),
    ("ext", "ext\n  btree", "extension 'citext': expected a mapping, got 'ext'"),
    ({"schema": "ext", "shcema": "ext"}, "shcema", "extension 'citext': unknown key 'shcema' (did you mean "
                                                   "'schema'?)"),
])
def test_extension_mistakes_are_refused_where_written(tmp_path: Path, extension: Any, at: str, message: str) -> None:
    body = copy.deepcopy(BASE)
    body["extensions"]["citext"] = extension
    got = errors(tmp_path, body)
    text = (tmp_path / "bad" / "spec" / "01-base.yaml").read_text(encoding="utf-8")
    before = text[:text.index(at, text.index("citext:"))]
    where = f"01-base.yaml:{before.count(chr(10)) + 1}:{len(before) - before.rfind(chr(10))}: "
    assert any(f"{where}{message}" in e for e in got), (where, got)


def test_an_extension_declared_twice_is_refused(tmp_path: Path) -> None:
    root = write_spec(tmp_path / "twice", {"01-base.yaml": BASE,
                                           "02-more.yaml": {"module": "More", "extensions": {"citext": {}}}})
    with pytest.raises(SpecError) as refused:
        check(load_spec(root))
    assert "02-more.yaml:3:3: duplicate extension 'citext'" in str(refused.value)  # the key under `extensions:`


# -- render and verify -----------------------------------------------------------------------------------------------
def test_output_creates_each_extension_after_its_schema_and_before_its_users(tmp_path: Path) -> None:
    text = sql_of(build(spec(tmp_path, "s")).files, "schema.sql")
    assert "CREATE EXTENSION IF NOT EXISTS citext WITH SCHEMA ext;" in text
    assert "CREATE EXTENSION IF NOT EXISTS btree_gist;" in text
    assert text.index("CREATE SCHEMA ext") < text.index("CREATE EXTENSION IF NOT EXISTS citext")
    assert text.index("CREATE EXTENSION IF NOT EXISTS citext") < text.index("CREATE FUNCTION app.same_email")
    assert text.index("CREATE EXTENSION IF NOT EXISTS citext") < text.index("CREATE TABLE app.people")
    inventory = found(text)
    assert "extension citext schema=ext version=None" in inventory
    assert "extension btree_gist schema=None version=None" in inventory


def test_an_extension_in_a_later_module_moves_its_users_after_it(tmp_path: Path) -> None:
    body = copy.deepcopy(BASE)
    extensions = body.pop("extensions")
    root = write_spec(tmp_path / "s", {"01-base.yaml": body,
                                       "02-ext.yaml": {"module": "Extensions", "extensions": extensions}})
    files = build(root).files
    text = sql_of(files, "schema.sql")
    assert text.index("CREATE EXTENSION IF NOT EXISTS citext") < text.index("CREATE TABLE app.people")
    assert text.index("CREATE EXTENSION IF NOT EXISTS btree_gist") < text.index("CREATE INDEX people_room_gist")
    assert "CREATE TABLE app.people" in sql_of(files, "02-ext.sql")


def test_verify_names_an_extension_created_without_if_not_exists() -> None:
    assert found("CREATE EXTENSION citext;") == {"extension (not IF NOT EXISTS) citext schema=None version=None"}
    assert found("CREATE EXTENSION IF NOT EXISTS \"uuid-ossp\" WITH SCHEMA ext VERSION '1.1';") == \
        {"extension uuid-ossp schema=ext version=1.1"}


# -- live: apply, introspect, drift ----------------------------------------------------------------------------------
def apply_base(dsn: str, tmp_path: Path) -> Path:
    root = spec(tmp_path, "base")
    live.apply_sql(dsn, sql_of(build(root).files, "schema.sql"))
    return root


def test_applies_and_reads_back_without_drift(empty_db: str, tmp_path: Path) -> None:
    root = apply_base(empty_db, tmp_path)
    assert [str(d) for d in verify(empty_db, check(load_spec(root)))] == []
    assert installed(empty_db)["citext"][0] == "ext" and installed(empty_db)["btree_gist"][0] == "public"
    # The type is citext's: equality ignores case, so the UNIQUE refuses the same address in other letters.
    assert one(empty_db, "SELECT app.same_email('A@x.org', 'a@X.ORG')") is True
    live.apply_sql(empty_db, "INSERT INTO app.people (id, email) VALUES (1, 'A@x.org')")
    with psycopg.connect(empty_db) as conn, pytest.raises(psycopg.errors.UniqueViolation):
        conn.execute("INSERT INTO app.people (id, email) VALUES (2, 'a@X.ORG')")
    # Applying the output again where the extensions exist (a platform that pre-installs them) is harmless.
    with psycopg.connect(empty_db, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS citext WITH SCHEMA ext")


@pytest.mark.parametrize(("change", "expected"), [
    ("DROP INDEX app.people_room_gist; DROP EXTENSION btree_gist",
     ["extension btree_gist: missing in database", "index app.people_room_gist: missing in database"]),
    ("CREATE EXTENSION hstore", ["extension hstore: in database, not in spec"]),
    ("CREATE EXTENSION hstore WITH SCHEMA app", ["extension hstore: in database, not in spec"]),
    ("ALTER EXTENSION citext SET SCHEMA app", ["extension citext: schema ext in spec, app in database"]),
])
def test_a_changed_extension_is_reported(empty_db: str, tmp_path: Path, change: str, expected: list[str]) -> None:
    root = apply_base(empty_db, tmp_path)
    live.apply_sql(empty_db, change)
    got = [str(d) for d in verify(empty_db, check(load_spec(root)))]
    # Columns and functions print citext's type where it now is: only the extension's own lines are asserted.
    assert [d for d in got if d.startswith(("extension", "index"))] == expected


def test_an_extension_outside_the_spec_schemas_is_not_drift(empty_db: str, tmp_path: Path) -> None:
    root = apply_base(empty_db, tmp_path)
    live.apply_sql(empty_db, "CREATE SCHEMA elsewhere; CREATE EXTENSION hstore WITH SCHEMA elsewhere")
    assert [str(d) for d in verify(empty_db, check(load_spec(root)))] == []


def available_versions(dsn: str, name: str) -> tuple[list[str], str]:
    with psycopg.connect(dsn) as conn:
        versions = [r[0] for r in conn.execute("SELECT version FROM pg_available_extension_versions "
                                               "WHERE name = %s", (name,)).fetchall()]
        default = conn.execute("SELECT default_version FROM pg_available_extensions WHERE name = %s",
                               (name,)).fetchone()
    assert default is not None
    return versions, default[0]


def test_version_is_drift_only_when_the_spec_states_it(empty_db: str, tmp_path: Path) -> None:
    versions, default = available_versions(empty_db, "citext")
    older = next(v for v in sorted(versions, key=lambda v: tuple(map(int, v.split(".")))) if v != default)
    live.apply_sql(empty_db, f"CREATE SCHEMA ext; CREATE EXTENSION citext WITH SCHEMA ext VERSION '{older}'")
    plain = {"module": "m", "schemas": {"ext": {}}, "extensions": {"citext": {"schema": "ext"}}}
    assert [str(d) for d in verify(empty_db, check(load_spec(spec(tmp_path, "plain", plain))))] == []
    pinned = copy.deepcopy(plain)
    pinned["extensions"]["citext"]["version"] = default
    root = spec(tmp_path, "pinned", pinned)
    assert [str(d) for d in verify(empty_db, check(load_spec(root)))] == \
        [f"extension citext: version {default} in spec, {older} in database"]
    # The plan updates it in place.
    text = migrate(empty_db, root)
    assert f"ALTER EXTENSION citext UPDATE TO '{default}';" in text
    assert installed(empty_db)["citext"] == ("ext", default)


# -- plans -----------------------------------------------------------------------------------------------------------
def test_plan_creates_extensions_before_their_users(empty_db: str, tmp_path: Path) -> None:
    text = migrate(empty_db, spec(tmp_path, "s"))
    assert text.index("CREATE EXTENSION IF NOT EXISTS citext") < text.index("CREATE TABLE app.people")
    assert text.index("CREATE EXTENSION IF NOT EXISTS btree_gist") < text.index("CREATE INDEX people_room_gist")
    assert set(installed(empty_db)) == {"citext", "btree_gist"}


def test_plan_moves_an_extension_to_another_schema(empty_db: str, tmp_path: Path) -> None:
    apply_base(empty_db, tmp_path)
    moved = copy.deepcopy(BASE)
    moved["extensions"]["citext"]["schema"] = "app"
    moved["tables"]["app.people"]["columns"]["email"]["type"] = "app.citext"
    moved["functions"]["app.same_email"].update(search_path=["app"], body="SELECT a::app.citext = b::app.citext")
    text = migrate(empty_db, spec(tmp_path, "moved", moved))
    assert "ALTER EXTENSION citext SET SCHEMA app;" in text
    assert installed(empty_db)["citext"][0] == "app"


def test_dropping_an_extension_is_a_data_loss_hazard(empty_db: str, tmp_path: Path) -> None:
    apply_base(empty_db, tmp_path)
    without = copy.deepcopy(BASE)
    del without["extensions"]["btree_gist"]
    del without["tables"]["app.people"]["indexes"]
    catalog = check(load_spec(spec(tmp_path, "without", without)))
    p = database.plan_database(empty_db, catalog)
    drop = next(s for s in p.steps if "drop extension" in s.change.describe())
    assert [h.kind for h in drop.hazards] == ["data-loss"]
    text = script(p, title="test")
    # The index that uses its operator class goes first; PostgreSQL refuses the drop while it exists.
    assert text.index("DROP INDEX app.people_room_gist") < text.index("DROP EXTENSION btree_gist")
    database.apply(empty_db, p)
    assert set(installed(empty_db)) == {"citext"}
    assert [str(d) for d in verify(empty_db, catalog)] == []


def test_plan_between_specs_creates_and_drops_extensions(tmp_path: Path) -> None:
    empty = {"module": "m", "schemas": {"ext": {}, "app": {}}}
    old, new = check(load_spec(spec(tmp_path, "old", empty))), check(load_spec(spec(tmp_path, "new")))
    up = [s.change.describe() for s in plan(new, of_spec(old)).steps]
    assert "create extension citext" in up and "create extension btree_gist" in up
    down = [s.change.describe() for s in plan(old, of_spec(new)).steps]
    assert "drop extension citext" in down and "drop extension btree_gist" in down
