"""Owners of types (enum, composite, domain) and materialized views (`owner:`), through every stage: check,
render, verify, live apply and introspection, drift and plan. Import writes them back (tests/test_import.py, the
every-kind round trip).

Expectations come from PostgreSQL's catalogs (pg_type.typowner, pg_class.relowner) and from what ALTER TYPE /
ALTER DOMAIN / ALTER MATERIALIZED VIEW ... OWNER TO do, not from the tool's own output.
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
from generator.diagnostics import SpecError
from generator.drift import verify
from generator.load import load_spec
from generator.order import order
from generator.pipeline import build
from generator.verify import verify_sql

OWNER = "pgspec_type_owner"
OTHER = "pgspec_type_other"
BASE: dict[str, Any] = {
    "module": "Owned types",
    "roles": {OWNER: {}},
    "types": {
        "mood": {"enum": ["happy", "sad"], "owner": OWNER},
        "pair": {"attributes": {"a": "integer", "b": "integer"}, "owner": OWNER},
        "positive": {"domain": "integer", "checks": {"above_zero": "VALUE > 0"}, "owner": OWNER},
    },
    "tables": {"items": {"columns": {"id": {"type": "integer", "primary_key": True}, "n": "positive"}}},
    "materialized_views": {"item_count": {"query": "SELECT count(*) AS n FROM items", "owner": OWNER}},
}


def spec(tmp_path: Path, name: str, body: dict[str, Any]) -> Path:
    return write_spec(tmp_path / name, {"01-base.yaml": body})


def owners(dsn: str) -> dict[str, str]:
    with psycopg.connect(dsn) as conn:
        return dict(conn.execute(
            "SELECT typname::text, pg_get_userbyid(typowner)::text FROM pg_type "
            "WHERE typname IN ('mood', 'pair', 'positive') "
            "UNION ALL SELECT relname::text, pg_get_userbyid(relowner)::text FROM pg_class "
            "WHERE relname = 'item_count'").fetchall())


def unowned() -> dict[str, Any]:
    out = copy.deepcopy(BASE)
    for obj in (*out["types"].values(), *out["materialized_views"].values()):
        obj.pop("owner")
    return out


def test_an_undeclared_owner_is_refused_at_its_position(tmp_path: Path) -> None:
    body = copy.deepcopy(BASE)
    body["types"]["mood"]["owner"] = "nobody_declared"
    body["materialized_views"]["item_count"]["owner"] = "nobody_declared"
    with pytest.raises(SpecError) as refused:
        check(load_spec(spec(tmp_path, "bad", body)))
    lines = [line for line in str(refused.value).splitlines() if "nobody_declared" in line]
    assert len(lines) == 2 and all("01-base.yaml:" in line for line in lines), refused.value


def test_rendered_after_the_object_with_the_statement_its_kind_needs(tmp_path: Path) -> None:
    text = sql_of(build(spec(tmp_path, "s", BASE)).files, "schema.sql")
    assert f"ALTER TYPE public.mood OWNER TO {OWNER};" in text
    assert f"ALTER TYPE public.pair OWNER TO {OWNER};" in text
    assert f"ALTER DOMAIN public.positive OWNER TO {OWNER};" in text  # ALTER TYPE refuses a domain
    assert f"ALTER MATERIALIZED VIEW public.item_count OWNER TO {OWNER};" in text
    assert text.index("CREATE MATERIALIZED VIEW public.item_count") < text.index("ALTER MATERIALIZED VIEW")


@pytest.mark.parametrize("line", [f"ALTER DOMAIN public.positive OWNER TO {OWNER};",
                                  f"ALTER MATERIALIZED VIEW public.item_count OWNER TO {OWNER};"])
def test_verify_reports_an_owner_the_sql_lost(tmp_path: Path, line: str) -> None:
    b = build(spec(tmp_path, "s", BASE))
    text = sql_of(b.files, "schema.sql")
    mismatch = verify_sql("schema.sql", text.replace(line, "", 1), order(b.catalog), b.catalog)
    assert mismatch is not None and [m for m in mismatch.missing if m.startswith("owner of")], mismatch


def test_applies_and_reads_back_without_drift(empty_db: str, tmp_path: Path) -> None:
    d = spec(tmp_path, "s", BASE)
    live.apply_sql(empty_db, sql_of(build(d).files, "schema.sql"))
    assert owners(empty_db) == {"mood": OWNER, "pair": OWNER, "positive": OWNER, "item_count": OWNER}
    assert [str(x) for x in verify(empty_db, check(load_spec(d)))] == []


@pytest.mark.parametrize(("change", "expected"), [
    (f"ALTER TYPE mood OWNER TO {OTHER}", f"type public.mood: owner {OWNER} in spec, {OTHER} in database"),
    (f"ALTER DOMAIN positive OWNER TO {OTHER}", f"type public.positive: owner {OWNER} in spec, {OTHER} in database"),
    (f"ALTER MATERIALIZED VIEW item_count OWNER TO {OTHER}",
     f"materialized view public.item_count: owner {OWNER} in spec, {OTHER} in database"),
])
def test_another_owner_is_drift(empty_db: str, tmp_path: Path, change: str, expected: str) -> None:
    d = spec(tmp_path, "s", BASE)
    live.apply_sql(empty_db, sql_of(build(d).files, "schema.sql"))
    live.apply_sql(empty_db, f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{OTHER}') "
                             f"THEN CREATE ROLE {OTHER}; END IF; END $$")
    live.apply_sql(empty_db, change)
    assert [str(x) for x in verify(empty_db, check(load_spec(d)))] == [expected]


def test_an_owner_the_spec_does_not_name_is_left_alone(empty_db: str, tmp_path: Path) -> None:
    live.apply_sql(empty_db, sql_of(build(spec(tmp_path, "s", BASE)).files, "schema.sql"))
    assert [str(x) for x in verify(empty_db, check(load_spec(spec(tmp_path, "u", unowned()))))] == []


def test_plan_changes_owners_in_place(empty_db: str, tmp_path: Path) -> None:
    live.apply_sql(empty_db, sql_of(build(spec(tmp_path, "old", unowned())).files, "schema.sql"))
    live.apply_sql(empty_db, "INSERT INTO items VALUES (1, 5)")
    text = migrate(empty_db, spec(tmp_path, "new", BASE))  # applies; then no drift and nothing left to plan
    assert f"ALTER DOMAIN public.positive OWNER TO {OWNER};" in text
    assert f"ALTER MATERIALIZED VIEW public.item_count OWNER TO {OWNER};" in text
    assert "DROP" not in text  # nothing recreated
    assert owners(empty_db) == {"mood": OWNER, "pair": OWNER, "positive": OWNER, "item_count": OWNER}
