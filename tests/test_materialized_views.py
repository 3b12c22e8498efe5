"""Materialized views (`materialized_views:`), through every stage: check, order, render, verify, live apply,
introspect, drift, plan and import (tests/import_cases/every_kind.sql).

Expectations come from PostgreSQL (the rows the query returns, pg_class.relispopulated, what REFRESH ... CONCURRENTLY
needs, the privileges a role has), not from the tool's own output. REFRESH itself is the application's: a schema
says what a materialized view holds, not when it is refreshed.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import psycopg
import pytest
from specs import drift_after, migrate, sql_of, write_spec

from generator import live
from generator.check import check
from generator.diagnostics import SpecError
from generator.drift import verify
from generator.load import load_spec
from generator.migrate import database
from generator.order import order
from generator.pipeline import build
from generator.schemadocs import module_page
from generator.verify import verify_sql

TOTALS = "SELECT customer, sum(total) AS spent, count(*) AS orders FROM orders GROUP BY customer"
BASE: dict[str, Any] = {
    "module": "Materialized views",
    "roles": {"mv_reader": {}},
    "tables": {"orders": {"columns": {"id": {"type": "integer", "primary_key": True},
                                      "customer": {"type": "text", "not_null": True},
                                      "total": {"type": "integer", "not_null": True}},
                          "grants": {"mv_reader": ["select"]}}},
    "materialized_views": {
        "customer_totals": {
            "query": TOTALS,
            "indexes": {"customer_totals_customer": {"columns": ["customer"], "unique": True},
                        "customer_totals_big": {"columns": ["spent DESC"], "where": "spent > 100"}},
            "grants": {"mv_reader": ["select"]},
            "comment": "Spend per customer; refreshed by the nightly job."},
        "big_customers": {"query": "SELECT customer FROM customer_totals WHERE spent > 100", "with_data": False},
    },
    "views": {"top_customers": {"query": "SELECT customer, spent FROM customer_totals ORDER BY spent DESC LIMIT 3",
                                "grants": {"mv_reader": ["select"]}}},
}
ROWS = "INSERT INTO orders VALUES (1, 'ann', 50), (2, 'ann', 70), (3, 'bob', 10)"


def spec(tmp_path: Path, name: str, body: dict[str, Any]) -> Path:
    return write_spec(tmp_path / name, {"01-base.yaml": body})


def rows(dsn: str, query: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(dsn) as conn:
        return conn.execute(query.encode()).fetchall()


def errors(tmp_path: Path, body: dict[str, Any]) -> list[str]:
    with pytest.raises(SpecError) as refused:
        check(load_spec(spec(tmp_path, "bad", body)))
    return [str(d) for d in refused.value.diagnostics]


def changed(**matview: Any) -> dict[str, Any]:
    """BASE with customer_totals' keys changed (None: removed)."""
    body = copy.deepcopy(BASE)
    target = body["materialized_views"]["customer_totals"]
    for key, value in matview.items():
        if value is None:
            target.pop(key, None)
        else:
            target[key] = value
    return body


# -- check and order -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("edit", "message"), [
    ({"query": "SELECT customer FROM order"}, "does not parse"),
    ({"query": "SELECT customer FROM invoices"}, "invoices"),
    ({"grants": {"mv_reader": ["execute"]}}, "privilege 'execute' does not apply"),
    ({"grants": {"nobody": ["select"]}}, "unknown role 'nobody'"),
    ({"indexes": {"orders_pkey": ["customer"]}}, "duplicate relation (index) 'orders_pkey'"),
])
def test_check_refuses_at_the_key(tmp_path: Path, edit: dict[str, Any], message: str) -> None:
    found = errors(tmp_path, changed(**edit))
    assert [e for e in found if message in e and "01-base.yaml:" in e], found


def test_a_name_taken_by_a_table_is_refused(tmp_path: Path) -> None:
    body = copy.deepcopy(BASE)
    body["materialized_views"]["orders"] = {"query": "SELECT 1 AS one"}
    assert any("duplicate relation 'orders'" in e for e in errors(tmp_path, body))


def test_it_comes_after_what_it_reads_and_before_what_reads_it(tmp_path: Path) -> None:
    later = {"module": "Later", "views": {"v_orders": {"query": "SELECT customer, total FROM orders"}}}
    body = changed(query="SELECT customer, sum(total) AS spent, count(*) AS orders FROM v_orders GROUP BY customer")
    text = sql_of(build(write_spec(tmp_path / "s", {"01-base.yaml": body, "02-later.yaml": later})).files,
                  "schema.sql")
    positions = [text.index(s) for s in ("CREATE VIEW public.v_orders", "CREATE MATERIALIZED VIEW public.customer_"
                                         "totals", "CREATE UNIQUE INDEX customer_totals_customer",
                                         "CREATE MATERIALIZED VIEW public.big_customers",
                                         "CREATE VIEW public.top_customers")]
    assert positions[:2] == sorted(positions[:2]) and positions[1] < positions[3] and positions[1] < positions[4]


# -- render and verify -----------------------------------------------------------------------------------------------
def test_rendered_with_data_indexes_grants_and_comment(tmp_path: Path) -> None:
    text = sql_of(build(spec(tmp_path, "s", BASE)).files, "schema.sql")
    assert f"CREATE MATERIALIZED VIEW public.customer_totals\nAS\n{TOTALS}\nWITH DATA;" in text
    assert "WHERE spent > 100\nWITH NO DATA;" in text
    assert "COMMENT ON MATERIALIZED VIEW public.customer_totals IS" in text
    assert "GRANT SELECT ON TABLE public.customer_totals TO mv_reader;" in text
    assert "CREATE UNIQUE INDEX customer_totals_customer ON public.customer_totals (customer);" in text


@pytest.mark.parametrize(("old", "new", "line"), [
    (f"{TOTALS}\nWITH DATA;", f"{TOTALS}\nWITH NO DATA;", "materialized view public.customer_totals"),
    ("sum(total) AS spent", "max(total) AS spent", "materialized view public.customer_totals"),
    ("COMMENT ON MATERIALIZED VIEW public.customer_totals", "COMMENT ON VIEW public.customer_totals",
     "comment materialized view public.customer_totals"),
    ("CREATE UNIQUE INDEX customer_totals_customer", "CREATE INDEX customer_totals_customer",
     "index public.customer_totals_customer"),
])
def test_verify_reports_a_clause_the_sql_lost(tmp_path: Path, old: str, new: str, line: str) -> None:
    b = build(spec(tmp_path, "s", BASE))
    text = sql_of(b.files, "schema.sql")
    assert old in text
    mismatch = verify_sql("schema.sql", text.replace(old, new, 1), order(b.catalog), b.catalog)
    assert mismatch is not None and [m for m in mismatch.missing if m.startswith(line)], mismatch


# -- live ------------------------------------------------------------------------------------------------------------
def test_holds_its_querys_rows_and_reads_back_without_drift(empty_db: str, tmp_path: Path) -> None:
    d = spec(tmp_path, "s", BASE)
    live.apply_sql(empty_db, sql_of(build(d).files, "schema.sql"))
    assert [str(x) for x in verify(empty_db, check(load_spec(d)))] == []
    assert rows(empty_db, "SELECT relname::text, relispopulated FROM pg_class WHERE relkind = 'm' ORDER BY 1") == \
        [("big_customers", False), ("customer_totals", True)]
    assert rows(empty_db, "SELECT count(*) FROM customer_totals") == [(0,)]  # WITH DATA: readable (no orders yet)
    with pytest.raises(psycopg.errors.ObjectNotInPrerequisiteState):  # WITH NO DATA: unreadable until refreshed
        rows(empty_db, "SELECT * FROM big_customers")
    # New rows appear on refresh only; the unique index allows REFRESH ... CONCURRENTLY.
    live.apply_sql(empty_db, ROWS + "; INSERT INTO orders VALUES (4, 'cy', 500)")
    assert rows(empty_db, "SELECT count(*) FROM customer_totals") == [(0,)]
    with psycopg.connect(empty_db, autocommit=True) as conn:
        conn.execute("REFRESH MATERIALIZED VIEW CONCURRENTLY customer_totals")
        conn.execute("REFRESH MATERIALIZED VIEW big_customers")
        with pytest.raises(psycopg.errors.ObjectNotInPrerequisiteState):  # no unique index on it
            conn.execute("REFRESH MATERIALIZED VIEW CONCURRENTLY big_customers")
    assert rows(empty_db, "SELECT customer, spent, orders FROM customer_totals ORDER BY customer") == \
        [("ann", 120, 2), ("bob", 10, 1), ("cy", 500, 1)]
    assert rows(empty_db, f"({TOTALS}) EXCEPT SELECT * FROM customer_totals") == []
    assert rows(empty_db, "SELECT customer FROM big_customers ORDER BY 1") == [("ann",), ("cy",)]
    assert rows(empty_db, "SELECT has_table_privilege('mv_reader', 'customer_totals', 'SELECT'), "
                          "has_table_privilege('mv_reader', 'big_customers', 'SELECT')") == [(True, False)]


@pytest.mark.parametrize(("change", "expected"), [
    ("REFRESH MATERIALIZED VIEW big_customers", "materialized view public.big_customers: with_data false in spec, "
                                                "true in database"),
    ("DROP INDEX customer_totals_big", "index public.customer_totals_big: missing in database"),
    ("REVOKE SELECT ON customer_totals FROM mv_reader",
     "grant SELECT on public.customer_totals to mv_reader: missing in database"),
])
def test_a_changed_materialized_view_is_reported(empty_db: str, tmp_path: Path, change: str, expected: str) -> None:
    assert drift_after(empty_db, spec(tmp_path, "s", BASE), change) == [expected]


# -- plans -----------------------------------------------------------------------------------------------------------
def test_plan_creates_it_and_changes_indexes_in_place(empty_db: str, tmp_path: Path) -> None:
    old = copy.deepcopy(BASE)
    old.pop("materialized_views")
    old.pop("views")
    live.apply_sql(empty_db, sql_of(build(spec(tmp_path, "old", old)).files, "schema.sql") + ROWS)
    text = migrate(empty_db, spec(tmp_path, "new", BASE))
    assert "CREATE MATERIALIZED VIEW public.customer_totals" in text
    assert rows(empty_db, "SELECT customer, spent FROM customer_totals ORDER BY 1") == [("ann", 120), ("bob", 10)]
    indexes = changed(indexes={"customer_totals_customer": {"columns": ["customer"], "unique": True},
                               "customer_totals_orders": ["orders"]})
    text = migrate(empty_db, spec(tmp_path, "indexes", indexes))
    assert "CREATE INDEX customer_totals_orders" in text and "DROP INDEX public.customer_totals_big" in text
    assert "MATERIALIZED VIEW" not in text.replace("-- ", "")


def test_plan_recreates_it_when_its_query_changes(empty_db: str, tmp_path: Path) -> None:
    live.apply_sql(empty_db, sql_of(build(spec(tmp_path, "old", BASE)).files, "schema.sql") + ROWS)
    new = changed(query=TOTALS.replace("sum(total)", "sum(total) * 2"))
    p = database.plan_database(empty_db, check(load_spec(spec(tmp_path, "new", new))))
    assert "lock" in p.hazard_kinds()
    text = migrate(empty_db, spec(tmp_path, "new", new))  # with its indexes, grants, comment and readers: no drift
    assert "DROP MATERIALIZED VIEW public.customer_totals" in text
    assert "DROP VIEW public.top_customers" in text and "DROP MATERIALIZED VIEW public.big_customers" in text
    assert rows(empty_db, "SELECT customer, spent FROM customer_totals ORDER BY 1") == [("ann", 240), ("bob", 20)]
    assert rows(empty_db, "SELECT count(*) FROM orders") == [(3,)]
    # and the way back, then dropped
    migrate(empty_db, spec(tmp_path, "back", BASE))
    gone = copy.deepcopy(BASE)
    gone.pop("views")
    gone["materialized_views"].pop("big_customers")
    text = migrate(empty_db, spec(tmp_path, "gone", gone))
    assert "DROP MATERIALIZED VIEW public.big_customers" in text


def test_schema_docs_describe_it(tmp_path: Path) -> None:
    catalog = check(load_spec(spec(tmp_path, "s", BASE)))
    page = module_page(catalog, catalog.schema.modules[0])
    assert "## public.customer_totals (materialized view)" in page
    assert "Empty (unreadable) until the first REFRESH" in page  # big_customers, WITH NO DATA
    assert "`customer_totals_customer` | customer | unique btree" in page
