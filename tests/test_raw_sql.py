"""Raw SQL objects (`raw: {name: {sql: ..., drop: ..., depends_on: [...]}}`), the escape hatch for what the spec
language cannot express: decode and check (mistakes with their place in the SQL text), order, render, verify's
cross-check, the judge, and on a live PostgreSQL the record in pgspec.raw_objects that drift and plans compare.

Expectations come from PostgreSQL: pg_publication and pg_statistic_ext say whether the objects exist, and what it
refuses inside a transaction block is its documented behaviour (CREATE INDEX CONCURRENTLY, VACUUM, ...).
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from specs import check_errors, migrate, one, sql_of, write_spec

from generator import judge, live
from generator.check import check
from generator.diagnostics import SpecError
from generator.drift import verify
from generator.load import load_spec
from generator.migrate import database
from generator.migrate.planner import plan
from generator.migrate.snapshot import of_spec
from generator.order import order
from generator.pipeline import build
from generator.render import raw_text
from generator.verify import verify_sql

BASE: dict[str, Any] = {
    "module": "Raw",
    "tables": {"log": {"columns": {"id": {"type": "bigint", "primary_key": True}, "msg": "text"}}},
    "raw": {
        "audit_pub": {"sql": "CREATE PUBLICATION audit FOR TABLE public.log;\n", "drop": "DROP PUBLICATION audit",
                      "comment": "publications are not modelled yet", "depends_on": ["log"]},
        "log_stats": {"sql": "CREATE STATISTICS public.log_stats ON id, msg FROM public.log",
                      "drop": "DROP STATISTICS public.log_stats"},
    },
}


def spec(tmp_path: Path, name: str, body: dict[str, Any] | None = None) -> Path:
    return write_spec(tmp_path / name, {"01-raw.yaml": body if body is not None else BASE})


def errors(tmp_path: Path, body: dict[str, Any]) -> list[str]:
    return check_errors(spec(tmp_path, "bad", body))


def with_raw(**raw: Any) -> dict[str, Any]:
    body = copy.deepcopy(BASE)
    body["raw"] = raw
    return body


# -- decode and check ------------------------------------------------------------------------------------------------
def test_sql_that_does_not_parse_is_refused_with_its_place_in_the_text(tmp_path: Path) -> None:
    got = errors(tmp_path, with_raw(bad={"sql": "CREATE PUBLICATION p\n  FOR TABLE TABLE log", "drop": "DROP x"}))
    assert any("01-raw.yaml:11:" in e and "raw bad: `sql` does not parse" in e
               and "(line 2, column 13 of the SQL text)" in e for e in got), got
    assert any("raw bad: `drop` does not parse" in e for e in got), got


def test_transaction_control_and_what_postgresql_refuses_in_a_transaction_are_refused(tmp_path: Path) -> None:
    got = errors(tmp_path, with_raw(
        tx={"sql": "BEGIN;\nCREATE INDEX CONCURRENTLY log_msg ON public.log (msg);\nCOMMIT;"},
        vacuum={"sql": "SELECT 1", "drop": "VACUUM public.log"}))
    assert any("raw tx: transaction control" in e and "(line 1, column 1 of the SQL text)" in e for e in got), got
    assert any("raw tx: CREATE INDEX CONCURRENTLY cannot run" in e and "line 2, column 1" in e for e in got), got
    assert any("raw tx: transaction control" in e and "line 3, column 1" in e for e in got), got
    assert any("raw vacuum: VACUUM cannot run" in e for e in got), got


def test_depends_on_must_name_a_spec_object(tmp_path: Path) -> None:
    got = errors(tmp_path, with_raw(p={"sql": "SELECT 1", "depends_on": ["logs", "schema nowhere", "raw p"]}))
    assert any("depends_on names no object of the spec: 'logs' (did you mean 'log'?)" in e
               for e in got), got
    assert any("'schema nowhere'" in e for e in got), got
    assert any("raw p depends on itself" in e for e in got), got


def test_empty_sql_and_a_duplicate_name_of_another_module_are_refused(tmp_path: Path) -> None:
    got = errors(tmp_path, with_raw(empty={"sql": "-- nothing"}))
    assert any("raw empty: `sql` holds no statement" in e for e in got), got
    root = write_spec(tmp_path / "dup", {"01-raw.yaml": BASE, "02-more.yaml": {
        "module": "More", "raw": {"log_stats": "SELECT 1"}}})
    assert any("duplicate raw SQL object 'log_stats'" in e for e in check_errors(root))


# -- order, render, verify ---------------------------------------------------------------------------------------------
def test_a_raw_object_follows_what_it_depends_on_and_what_its_sql_names(tmp_path: Path) -> None:
    body = copy.deepcopy(BASE)
    # Declared in an earlier module than its table: placed after the table all the same.
    early = {"module": "Early", "raw": body.pop("raw")}
    root = write_spec(tmp_path / "o", {"01-early.yaml": early, "02-raw.yaml": body})
    placed = order(check(load_spec(root)))
    keys = [p.item.key for p in placed]
    assert keys.index(("table", "public.log")) < keys.index(("raw", "audit_pub"))
    assert keys.index(("table", "public.log")) < keys.index(("raw", "log_stats"))  # found in its SQL
    assert {p.item.key: p.module for p in placed}[("raw", "log_stats")] == 1


def test_render_keeps_the_sql_as_written_with_its_comment_and_record(tmp_path: Path) -> None:
    result = build(spec(tmp_path, "ok"))
    assert result.mismatches == []
    text = sql_of(result.files, "01-raw.sql")
    assert "-- publications are not modelled yet\nCREATE PUBLICATION audit FOR TABLE public.log;\n" in text
    assert "CREATE STATISTICS public.log_stats ON id, msg FROM public.log;\n" in text
    assert text.count("CREATE TABLE IF NOT EXISTS pgspec.raw_objects") == 1
    assert "VALUES ('audit_pub', " in text and "'DROP PUBLICATION audit;')" in text
    assert text in sql_of(result.files, "schema.sql").split("\n", 3)[3] or "CREATE PUBLICATION" in \
        sql_of(result.files, "schema.sql")


def test_verify_reports_a_raw_statement_the_output_changed(tmp_path: Path) -> None:
    result = build(spec(tmp_path, "ok"))
    catalog = result.catalog
    text = sql_of(result.files, "schema.sql")
    assert verify_sql("schema.sql", text, order(catalog), catalog, raw_registry=True) is None
    edited = text.replace("FOR TABLE public.log;", "FOR ALL TABLES;")
    mismatch = verify_sql("schema.sql", edited, order(catalog), catalog, raw_registry=True)
    assert mismatch is not None
    assert any(m.startswith("raw audit_pub: CREATE PUBLICATION audit") for m in mismatch.missing), mismatch
    assert mismatch.unexpected == ("unexpected statement CreatePublicationStmt",)
    lost = verify_sql("schema.sql", text.replace("'DROP PUBLICATION audit;'", "NULL"), order(catalog), catalog,
                      raw_registry=True)
    assert lost is not None and any(m.startswith("raw record audit_pub") for m in lost.missing)


# -- the judge ---------------------------------------------------------------------------------------------------------
@pytest.mark.live
def test_the_judge_places_an_error_in_the_raw_sql(tmp_path: Path) -> None:
    catalog = check(load_spec(spec(tmp_path, "j", with_raw(
        stats={"sql": "CREATE STATISTICS public.s ON id, msg FROM public.log;\nCREATE VIEW public.v AS SELECT nope "
                      "FROM public.log;"}))))
    verdict = judge.judge(catalog, order(catalog))
    [error] = verdict.errors
    assert str(error.pos).endswith("01-raw.yaml:11:10"), error
    assert 'column "nope" does not exist' in error.message, error
    assert "(line 2, column 32 of the SQL text)" in error.message, error


# -- live: apply, drift, plans -----------------------------------------------------------------------------------------
def published(dsn: str) -> list[str]:
    return [r for r in (one(dsn, "SELECT string_agg(pubname, ',' ORDER BY pubname) FROM pg_publication") or "")
            .split(",") if r]


def test_applied_output_records_each_raw_object_and_verify_is_clean(tmp_path: Path, empty_db: str) -> None:
    result = build(spec(tmp_path, "ok"))
    live.apply_sql(empty_db, sql_of(result.files, "schema.sql"))
    assert published(empty_db) == ["audit"]
    assert one(empty_db, "SELECT count(*) FROM pg_statistic_ext WHERE stxname = 'log_stats'") == 1
    assert [str(d) for d in verify(empty_db, result.catalog)] == []
    # A record gone: the object is reported missing; a record of another SQL: changed since applied.
    live.apply_sql(empty_db, "DELETE FROM pgspec.raw_objects WHERE name = 'log_stats';"
                             "UPDATE pgspec.raw_objects SET fingerprint = 'x' WHERE name = 'audit_pub'")
    assert [str(d) for d in verify(empty_db, result.catalog)] == [
        "raw audit_pub: SQL changed since applied (the database recorded another fingerprint)",
        "raw log_stats: missing in database"]


def test_plans_create_replace_and_drop_raw_objects(tmp_path: Path, empty_db: str) -> None:
    table_only = copy.deepcopy(BASE)
    del table_only["raw"]
    live.apply_sql(empty_db, sql_of(build(spec(tmp_path, "v1", table_only)).files, "schema.sql"))
    live.apply_sql(empty_db, "INSERT INTO public.log VALUES (1, 'kept')")
    migrate(empty_db, spec(tmp_path, "v2"))  # created, with the registry
    assert published(empty_db) == ["audit"]
    changed = copy.deepcopy(BASE)
    changed["raw"]["audit_pub"]["sql"] = "CREATE PUBLICATION audit FOR TABLE public.log WITH (publish = 'insert')"
    v3 = spec(tmp_path, "v3", changed)
    p = database.plan_database(empty_db, check(load_spec(v3)))
    assert [type(s.change).__name__ for s in p.steps] == ["DropRaw", "CreateRaw"]
    assert "data-loss" in p.hazard_kinds()
    migrate(empty_db, v3)
    assert one(empty_db, "SELECT pubupdate FROM pg_publication WHERE pubname = 'audit'") is False
    migrate(empty_db, spec(tmp_path, "v4", table_only))  # removed: its recorded drop runs
    assert published(empty_db) == []
    assert one(empty_db, "SELECT count(*) FROM pg_statistic_ext WHERE stxname = 'log_stats'") == 0
    assert one(empty_db, "SELECT count(*) FROM pgspec.raw_objects") == 0
    assert one(empty_db, "SELECT msg FROM public.log") == "kept"


def test_a_changed_raw_object_without_drop_is_refused(tmp_path: Path) -> None:
    old = with_raw(p={"sql": "CREATE STATISTICS public.s ON id, msg FROM public.log"})
    new = with_raw(p={"sql": "CREATE STATISTICS public.s (ndistinct) ON id, msg FROM public.log"})
    new_catalog = check(load_spec(spec(tmp_path, "new", new)))
    with pytest.raises(SpecError) as refused:
        plan(new_catalog, of_spec(check(load_spec(spec(tmp_path, "old", old)))))
    assert "raw p: its SQL changed since it was applied, and neither the spec nor the database has a `drop:`" in \
        str(refused.value)
    assert "01-raw.yaml:" in str(refused.value).split(": raw p")[0]


def test_a_raw_object_on_a_replaced_view_is_replaced_with_it(tmp_path: Path, empty_db: str) -> None:
    """A rule lives and dies with its view: when a plan replaces the view, the raw object runs its drop first and
    its SQL again after (else the rule would be gone while its record says applied)."""
    body = copy.deepcopy(BASE)
    body["views"] = {"recent": {"query": "SELECT id, msg FROM public.log WHERE id > 10"}}
    body["raw"] = {"recent_insert": {"sql": "CREATE RULE recent_insert AS ON INSERT TO public.recent DO INSTEAD "
                                            "INSERT INTO public.log VALUES (NEW.id, NEW.msg)",
                                     "drop": "DROP RULE recent_insert ON public.recent"}}
    live.apply_sql(empty_db, sql_of(build(spec(tmp_path, "v1", body)).files, "schema.sql"))
    body["views"]["recent"]["query"] = "SELECT id, msg FROM public.log WHERE id > 100"
    v2 = spec(tmp_path, "v2", body)
    p = database.plan_database(empty_db, check(load_spec(v2)))
    assert [type(s.change).__name__ for s in p.steps] == ["DropRaw", "DropView", "CreateView", "CreateRaw"]
    migrate(empty_db, v2)
    assert one(empty_db, "SELECT count(*) FROM pg_rules WHERE rulename = 'recent_insert'") == 1


@pytest.mark.live
def test_the_judge_runs_the_drop_and_the_sql_again(tmp_path: Path) -> None:
    catalog = check(load_spec(spec(tmp_path, "d", with_raw(p={"sql": "CREATE PUBLICATION p FOR TABLE public.log",
                                                            "drop": "DROP PUBLICATION nope"}))))
    [error] = judge.judge(catalog, order(catalog)).errors
    assert str(error.pos).endswith("01-raw.yaml:12:11"), error
    assert 'publication "nope" does not exist' in error.message and "then the SQL again" in error.message


@pytest.mark.parametrize(("sql", "rendered"), [
    ("SELECT 1;", "SELECT 1;"),
    ("  SELECT 1\n", "SELECT 1;"),
    # `--` comments out the rest of its line: the closing semicolon goes on a line of its own
    ("SELECT 1 -- the answer", "SELECT 1 -- the answer\n;"),
    ("SELECT 1; -- one\nSELECT 2 -- two", "SELECT 1; -- one\nSELECT 2 -- two\n;"),
    # a comment on an earlier line does not reach the end
    ("-- first\nSELECT 1 -- mid\nSELECT 2", "-- first\nSELECT 1 -- mid\nSELECT 2;"),
    ("SELECT 1 -- a b\n  + 1", "SELECT 1 -- a b\n  + 1;"),
])
def test_raw_sql_ends_in_a_semicolon_no_comment_swallows(sql: str, rendered: str) -> None:
    assert raw_text(sql) == rendered
