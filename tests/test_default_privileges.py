"""Default privileges (`default_privileges: [{schema: app, tables: {reader: [select]}}]`), through every stage:
decode and check, render and verify's cross-check, apply, introspection, drift and plans on a live PostgreSQL.

The oracle is PostgreSQL's own behaviour: what a role may do with a table or function created *after* the spec
was applied, outside it (has_table_privilege, has_function_privilege), and what pg_default_acl holds.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from specs import migrate, one, sql_of, write_spec

from generator import live
from generator.check import check
from generator.diagnostics import SpecError
from generator.drift import verify
from generator.load import load_spec
from generator.migrate import database
from generator.migrate.planner import plan
from generator.migrate.snapshot import of_spec
from generator.pipeline import build
from generator.verify import found

READER, WRITER = "pgspec_dp_reader", "pgspec_dp_writer"
BASE: dict[str, Any] = {
    "module": "Default privileges",
    "roles": {READER: {}, WRITER: {}},
    "schemas": {"app": {}},
    "default_privileges": [
        {"schema": "app", "tables": {READER: ["select"], WRITER: ["select", "insert"]},
         "sequences": {WRITER: ["usage"]}},
        {"functions": {"public": []}},  # the global defaults: new functions are not executable by PUBLIC
    ],
}


def spec(tmp_path: Path, name: str, body: dict[str, Any] | None = None) -> Path:
    return write_spec(tmp_path / name, {"01-base.yaml": body if body is not None else BASE})


def errors(tmp_path: Path, body: dict[str, Any]) -> list[str]:
    with pytest.raises(SpecError) as refused:
        check(load_spec(spec(tmp_path, "bad", body)))
    return [str(d) for d in refused.value.diagnostics]


def created_later(dsn: str) -> None:
    """Objects made outside the spec, after it was applied (a dashboard, a migration tool)."""
    live.apply_sql(dsn, "CREATE TABLE app.later (id serial PRIMARY KEY); "
                        "CREATE FUNCTION public.later() RETURNS int LANGUAGE sql AS 'SELECT 1'")


# -- check -----------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("entry", "message"), [
    ({"schema": "nowhere", "tables": {READER: ["select"]}}, "schema 'nowhere' is not declared"),
    ({"schema": "app", "tables": {"nobody": ["select"]}}, "unknown role 'nobody'"),
    ({"schema": "app", "functions": {READER: ["select"]}}, "privilege 'select' does not apply to a function"),
    ({"schema": "app", "types": {READER: ["all"]}}, "privilege 'all' does not apply to a type"),
    ({"schema": "app", "tabels": {READER: ["select"]}}, "unknown key 'tabels' (did you mean 'tables'?)"),
])
def test_mistakes_are_refused_where_written(tmp_path: Path, entry: dict[str, Any], message: str) -> None:
    body = copy.deepcopy(BASE)
    body["default_privileges"][0] = entry
    got = errors(tmp_path, body)
    assert any("01-base.yaml:" in e and message in e for e in got), got


def test_one_entry_per_role_and_schema(tmp_path: Path) -> None:
    body = copy.deepcopy(BASE)
    body["default_privileges"].append({"schema": "app", "tables": {READER: ["insert"]}})
    assert any("duplicate default privileges" in e for e in errors(tmp_path, body))


# -- render and verify -----------------------------------------------------------------------------------------------
def test_output_states_each_default(tmp_path: Path) -> None:
    text = sql_of(build(spec(tmp_path, "s")).files, "schema.sql")
    lines = [line for line in text.splitlines() if line.startswith("ALTER DEFAULT PRIVILEGES")]
    assert lines == [
        "ALTER DEFAULT PRIVILEGES REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA app GRANT SELECT ON TABLES TO {READER};",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA app GRANT SELECT, INSERT ON TABLES TO {WRITER};",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA app GRANT USAGE ON SEQUENCES TO {WRITER};"]
    assert text.index("CREATE SCHEMA app") < text.index("ALTER DEFAULT PRIVILEGES IN SCHEMA app")
    assert f"default privileges for - in app: grant insert on tables to {WRITER}" in found(text)


def test_verify_reads_for_role_and_schema() -> None:
    assert found("ALTER DEFAULT PRIVILEGES FOR ROLE a IN SCHEMA s REVOKE ALL ON TYPES FROM PUBLIC;") == \
        {"default privileges for a in s: revoke all on types from public"}


# -- live ------------------------------------------------------------------------------------------------------------
def test_applied_defaults_reach_objects_created_later(empty_db: str, tmp_path: Path) -> None:
    root = spec(tmp_path, "s")
    live.apply_sql(empty_db, sql_of(build(root).files, "schema.sql"))
    assert [str(d) for d in verify(empty_db, check(load_spec(root)))] == []
    created_later(empty_db)
    assert one(empty_db, f"SELECT has_table_privilege('{READER}', 'app.later', 'SELECT')") is True
    assert one(empty_db, f"SELECT has_table_privilege('{READER}', 'app.later', 'INSERT')") is False
    assert one(empty_db, f"SELECT has_table_privilege('{WRITER}', 'app.later', 'INSERT')") is True
    assert one(empty_db, f"SELECT has_sequence_privilege('{WRITER}', 'app.later_id_seq', 'USAGE')") is True
    assert one(empty_db, f"SELECT has_function_privilege('{READER}', 'public.later()', 'EXECUTE')") is False


def test_no_spec_entry_no_drift_on_a_fresh_database(empty_db: str, tmp_path: Path) -> None:
    """PostgreSQL's built-in defaults (PUBLIC's EXECUTE on functions, in public) are no difference."""
    plain = {"module": "plain", "schemas": {"app": {}}}
    root = spec(tmp_path, "plain", plain)
    live.apply_sql(empty_db, sql_of(build(root).files, "schema.sql"))
    assert [str(d) for d in verify(empty_db, check(load_spec(root)))] == []
    keeps = {"module": "m", "schemas": {"app": {}}, "default_privileges": [{"functions": {"public": ["execute"]}}]}
    assert [str(d) for d in verify(empty_db, check(load_spec(spec(tmp_path, "keeps", keeps))))] == []


@pytest.mark.parametrize(("change", "expected"), [
    (f"ALTER DEFAULT PRIVILEGES IN SCHEMA app REVOKE SELECT ON TABLES FROM {READER}",
     [f"grant SELECT on new tables in schema app to {READER}: missing in database"]),
    (f"ALTER DEFAULT PRIVILEGES IN SCHEMA app GRANT EXECUTE ON FUNCTIONS TO {READER}",
     [f"grant EXECUTE on new functions in schema app to {READER}: in database, not in spec"]),
    ("ALTER DEFAULT PRIVILEGES GRANT EXECUTE ON FUNCTIONS TO PUBLIC",
     ["grant EXECUTE on new functions to PUBLIC: in database, not in spec"]),
    (f"ALTER DEFAULT PRIVILEGES FOR ROLE {WRITER} IN SCHEMA app GRANT SELECT ON TABLES TO {READER}",
     [f"grant SELECT on new tables for role {WRITER} in schema app to {READER}: in database, not in spec"]),
])
def test_a_changed_default_is_reported(empty_db: str, tmp_path: Path, change: str, expected: list[str]) -> None:
    root = spec(tmp_path, "s")
    live.apply_sql(empty_db, sql_of(build(root).files, "schema.sql"))
    live.apply_sql(empty_db, change)
    assert [str(d) for d in verify(empty_db, check(load_spec(root)))] == expected


def test_plan_grants_and_revokes_the_difference(empty_db: str, tmp_path: Path) -> None:
    plain = {"module": "plain", "roles": BASE["roles"], "schemas": {"app": {}}}
    live.apply_sql(empty_db, sql_of(build(spec(tmp_path, "plain", plain)).files, "schema.sql"))
    text = migrate(empty_db, spec(tmp_path, "s"))
    assert "ALTER DEFAULT PRIVILEGES REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;" in text
    assert f"ALTER DEFAULT PRIVILEGES IN SCHEMA app GRANT INSERT ON TABLES TO {WRITER};" in text
    changed = copy.deepcopy(BASE)
    changed["default_privileges"][0]["tables"] = {READER: ["select"]}
    changed["default_privileges"].pop()
    text = migrate(empty_db, spec(tmp_path, "changed", changed))
    assert f"ALTER DEFAULT PRIVILEGES IN SCHEMA app REVOKE INSERT ON TABLES FROM {WRITER};" in text
    assert "ALTER DEFAULT PRIVILEGES GRANT EXECUTE ON FUNCTIONS TO PUBLIC;" not in text  # not stated: left alone
    created_later(empty_db)
    assert one(empty_db, f"SELECT has_table_privilege('{WRITER}', 'app.later', 'SELECT')") is False
    assert one(empty_db, f"SELECT has_table_privilege('{READER}', 'app.later', 'SELECT')") is True


def test_plan_names_default_grants_as_authz(empty_db: str, tmp_path: Path) -> None:
    plain = {"module": "plain", "roles": BASE["roles"], "schemas": {"app": {}}}
    live.apply_sql(empty_db, sql_of(build(spec(tmp_path, "plain", plain)).files, "schema.sql"))
    p = database.plan_database(empty_db, check(load_spec(spec(tmp_path, "s"))))
    assert p.steps and all([h.kind for h in s.hazards] == ["authz"] for s in p.steps)


def test_plan_between_specs(tmp_path: Path) -> None:
    plain = {"module": "plain", "roles": BASE["roles"], "schemas": {"app": {}}}
    old, new = check(load_spec(spec(tmp_path, "old", plain))), check(load_spec(spec(tmp_path, "new")))
    up = {s.change.describe() for s in plan(new, of_spec(old)).steps}
    assert "default privileges: revoke EXECUTE on new functions from public" in up
    assert f"default privileges in schema app: grant SELECT on new tables to {READER}" in up
    down = {s.change.describe() for s in plan(old, of_spec(new)).steps}
    assert f"default privileges in schema app: revoke SELECT on new tables from {READER}" in down
