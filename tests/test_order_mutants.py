"""order.py's dependency edges, tested against mutmut's survivors (bench/RESULTS.md): a spec whose first module
uses what later modules declare. What must come first is PostgreSQL's rule, not the tool's: ALTER DEFAULT
PRIVILEGES needs its FOR ROLE, its IN SCHEMA and every grantee to exist; CREATE INDEX needs its table (or
materialized view), the functions its expressions call and the extension of its operator class; so does
everything else a statement names. Each statement of schema.sql must come after the ones creating what it names."""

from __future__ import annotations

from typing import Any

import pytest
from specs import sql_of, write_spec

from generator.pipeline import build

USERS: dict[str, Any] = {
    "module": "Users first",
    "default_privileges": [{"for_role": "owner_role", "schema": "app", "tables": {"reader": ["select"]}}],
    "materialized_views": {"app.totals": {"query": "SELECT 1 AS n", "indexes": {
        "totals_n": {"columns": ["(app.twice(n))"]}}}},
    "tables": {"app.words": {"columns": {"id": {"type": "integer", "primary_key": True}, "word": "text",
                                         "nick": "citext"},
                             "indexes": {"words_trgm": {"columns": ["word gin_trgm_ops"], "method": "gin"}}}},
    "types": {"app.positive": {"domain": "integer", "default": "app.twice(1)",
                               "checks": {"big": "app.twice(VALUE) > 0"}, "grants": {"reader": ["usage"]}}},
    "functions": {"app.label": {"args": {"m": "app.mood", "n": {"type": "integer", "default": "app.twice(2)"}},
                                "returns": "app.mood", "language": "sql", "body": "SELECT m",
                                "owner": "owner_role", "grants": {"reader": ["execute"]}}},
    "views": {"app.counted": {"query": "SELECT count(*) AS n FROM app.items", "owner": "owner_role",
                              "grants": {"reader": ["select"]}}},
}
DECLARED_LATER: dict[str, Any] = {
    "module": "What they use",
    "roles": {"owner_role": {}, "reader": {}},
    "schemas": {"app": {}},
    "extensions": {"pg_trgm": {}, "citext": {}},
    "types": {"app.mood": {"enum": ["ok", "meh"]}},
    "tables": {"app.items": {"columns": {"id": {"type": "integer", "primary_key": True}}}},
    "functions": {"app.twice": {"args": {"x": "integer"}, "returns": "integer", "language": "sql",
                                "volatility": "immutable", "body": "SELECT x * 2"}},
}


@pytest.fixture(scope="module")
def schema_sql(tmp_path_factory: pytest.TempPathFactory) -> str:
    spec = write_spec(tmp_path_factory.mktemp("order"), {"01-users.yaml": USERS, "02-later.yaml": DECLARED_LATER})
    built = build(spec)
    assert built.mismatches == []
    return sql_of(built.files, "schema.sql")


@pytest.mark.parametrize(("statement", "needs"), [
    ("ALTER DEFAULT PRIVILEGES FOR ROLE owner_role IN SCHEMA app",
     ["ALTER ROLE owner_role", "ALTER ROLE reader", "CREATE SCHEMA app"]),
    ("CREATE INDEX totals_n", ["CREATE MATERIALIZED VIEW app.totals", "CREATE FUNCTION app.twice"]),
    ("CREATE INDEX words_trgm", ["CREATE TABLE app.words", "CREATE EXTENSION IF NOT EXISTS pg_trgm"]),
    ("CREATE MATERIALIZED VIEW app.totals", ["CREATE SCHEMA app"]),
    ("CREATE TABLE app.words", ["CREATE EXTENSION IF NOT EXISTS citext"]),
    ("CREATE DOMAIN app.positive", ["CREATE FUNCTION app.twice", "ALTER ROLE reader"]),
    ("CREATE FUNCTION app.label", ["CREATE TYPE app.mood", "CREATE FUNCTION app.twice", "ALTER ROLE reader",
                                   "ALTER ROLE owner_role"]),
    ("CREATE VIEW app.counted", ["CREATE TABLE app.items", "ALTER ROLE reader", "ALTER ROLE owner_role"]),
])
def test_each_statement_comes_after_what_it_names(schema_sql: str, statement: str, needs: list[str]) -> None:
    at = schema_sql.index(statement)
    for need in needs:
        assert schema_sql.index(need) < at, f"{statement} before {need}"
