"""The trigger vocabulary beyond BEFORE / AFTER, through every stage: enable modes (`enabled: origin | always |
replica | disabled`), constraint triggers (deferrable, initially deferred), transition tables (`referencing:`) and
INSTEAD OF triggers on views.

Expectations come from PostgreSQL (pg_trigger, what CREATE TRIGGER refuses, when a trigger fires under
session_replication_role, what a deferred trigger lets a transaction do), not from the tool's own output.
"""

from __future__ import annotations

import copy
import re
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
from generator.order import order
from generator.pipeline import build
from generator.schemadocs import module_page
from generator.verify import verify_sql

LOG_FIRE = "BEGIN INSERT INTO public.audit (what, n) VALUES (TG_NAME, 1); RETURN NULL; END"
BASE: dict[str, Any] = {
    "module": "Triggers",
    "functions": {
        "log_fire": {"returns": "trigger", "body": LOG_FIRE},
        "count_new": {"returns": "trigger", "body":
                      "BEGIN INSERT INTO public.audit (what, n) SELECT TG_NAME, count(*) FROM new_rows; "
                      "RETURN NULL; END"},
        "settle": {"returns": "trigger", "body":
                   "BEGIN IF (SELECT sum(amount) FROM public.entries WHERE batch = NEW.batch) <> 0 THEN "
                   "RAISE EXCEPTION 'batch % does not balance', NEW.batch; END IF; RETURN NULL; END"},
        "labels_insert": {"returns": "trigger", "body":
                          "BEGIN INSERT INTO public.items (label) VALUES (upper(NEW.label)); RETURN NEW; END"},
    },
    "tables": {
        "audit": {"columns": {"what": "text", "n": "integer"}},
        "items": {"columns": {"id": {"type": "integer", "primary_key": True, "identity": "always"},
                              "label": "text"}},
        "entries": {
            "columns": {"id": {"type": "integer", "primary_key": True, "identity": "always"},
                        "batch": {"type": "integer", "not_null": True},
                        "amount": {"type": "integer", "not_null": True}},
            "triggers": {
                "balanced": {"timing": "after", "events": ["insert"], "function": "settle", "constraint": True,
                             "initially_deferred": True, "comment": "Each batch sums to zero at commit."},
                "counted": {"timing": "after", "events": ["insert"], "for_each": "statement",
                            "function": "count_new", "referencing": {"new_table": "new_rows"}},
                "origin_fire": {"timing": "after", "events": ["insert"], "function": "log_fire"},
                "always_fire": {"timing": "after", "events": ["insert"], "function": "log_fire",
                                "enabled": "always"},
                "replica_fire": {"timing": "after", "events": ["insert"], "function": "log_fire",
                                 "enabled": "replica"},
                "off_fire": {"timing": "after", "events": ["insert"], "function": "log_fire", "enabled": "disabled"},
            }},
    },
    "views": {"labels": {"query": "SELECT id, label FROM items", "triggers": {
        "labels_insert": {"timing": "instead of", "events": ["insert"], "function": "labels_insert"},
        "labels_inserted": {"timing": "after", "events": ["insert"], "for_each": "statement",
                            "function": "log_fire"}}}},
}


def spec(tmp_path: Path, name: str, body: dict[str, Any]) -> Path:
    return write_spec(tmp_path / name, {"01-base.yaml": body})


def rows(dsn: str, query: str, *params: Any) -> list[tuple[Any, ...]]:
    with psycopg.connect(dsn) as conn:
        return conn.execute(query, params).fetchall()


def pg_trigger(dsn: str, name: str) -> tuple[Any, ...]:
    """(tgenabled, is a constraint trigger, tgdeferrable, tginitdeferred, tgoldtable, tgnewtable)."""
    return rows(dsn, "SELECT tgenabled::text, tgconstraint <> 0, tgdeferrable, tginitdeferred, tgoldtable::text, "
                     "tgnewtable::text FROM pg_trigger WHERE tgname = %s", name)[0]


def with_trigger(table: str, name: str, trigger: dict[str, Any] | None, body: dict[str, Any] = BASE
                 ) -> dict[str, Any]:
    out = copy.deepcopy(body)
    owner = out["views" if table == "labels" else "tables"][table]
    if trigger is None:
        owner["triggers"].pop(name)
    else:
        owner["triggers"][name] = trigger
    return out


def errors(tmp_path: Path, body: dict[str, Any]) -> list[str]:
    with pytest.raises(SpecError) as refused:
        check(load_spec(spec(tmp_path, "bad", body)))
    return [str(d) for d in refused.value.diagnostics]


# -- decode and check: what PostgreSQL refuses ----------------------------------------------------------------------
AFTER_INSERT = {"timing": "after", "events": ["insert"], "function": "log_fire"}


@pytest.mark.parametrize(("table", "trigger", "message"), [
    ("entries", {**AFTER_INSERT, "timing": "before", "referencing": {"new_table": "n"}},
     "transition tables (REFERENCING) are only for AFTER triggers"),
    ("entries", {**AFTER_INSERT, "constraint": True, "for_each": "statement"},
     "must be `timing: after` and `for_each: row`"),
    ("entries", {**AFTER_INSERT, "constraint": True, "timing": "before"}, "must be `timing: after`"),
    ("entries", {**AFTER_INSERT, "constraint": True, "referencing": {"new_table": "n"}},
     "constraint trigger t cannot have transition tables"),
    ("entries", {**AFTER_INSERT, "deferrable": True}, "`deferrable` is for constraint triggers"),
    ("entries", {**AFTER_INSERT, "constraint": True, "deferrable": False, "initially_deferred": True},
     "INITIALLY DEFERRED needs `deferrable: true`"),
    ("entries", {**AFTER_INSERT, "events": ["insert", "update"], "referencing": {"new_table": "n"}},
     "transition tables need a trigger of exactly one event"),
    ("entries", {**AFTER_INSERT, "referencing": {"old_table": "o"}}, "old_table is only for UPDATE or DELETE"),
    ("entries", {**AFTER_INSERT, "events": ["delete"], "referencing": {"new_table": "n"}},
     "new_table is only for INSERT or UPDATE"),
    ("entries", {**AFTER_INSERT, "events": ["update"], "referencing": {"old_table": "r", "new_table": "r"}},
     "old_table and new_table need different names"),
    ("entries", {**AFTER_INSERT, "events": ["update"], "columns": ["amount"], "referencing": {"new_table": "n"}},
     "transition tables cannot go with columns"),
    ("entries", {**AFTER_INSERT, "timing": "instead of"}, "INSTEAD OF triggers are for views"),
    ("labels", {**AFTER_INSERT, "timing": "instead of", "when": "NEW.label IS NOT NULL"},
     "INSTEAD OF triggers cannot have a WHEN condition"),
    ("labels", {**AFTER_INSERT, "timing": "instead of", "for_each": "statement"},
     "INSTEAD OF triggers must be `for_each: row`"),
    ("labels", {**AFTER_INSERT, "timing": "instead of", "events": ["update"], "columns": ["label"]},
     "INSTEAD OF triggers cannot have columns"),
    ("labels", AFTER_INSERT, "BEFORE and AFTER triggers on a view must be `for_each: statement`"),
    ("labels", {**AFTER_INSERT, "for_each": "statement", "enabled": "disabled"},
     "a view's triggers cannot be disabled"),
    ("labels", {**AFTER_INSERT, "for_each": "statement", "referencing": {"new_table": "n"}},
     "triggers on views cannot have transition tables"),
    ("labels", {**AFTER_INSERT, "timing": "instead of", "constraint": True}, "constraint triggers are for tables"),
])
def test_check_refuses_what_postgresql_refuses(tmp_path: Path, table: str, trigger: dict[str, Any],
                                               message: str) -> None:
    found = errors(tmp_path, with_trigger(table, "t", trigger))
    assert [e for e in found if message in e and in_trigger_t(tmp_path, e)], found


def in_trigger_t(tmp_path: Path, error: str) -> bool:
    """Whether the error's position (`FILE:LINE:COL: ...`) is inside the YAML of trigger t."""
    match = re.match(r"(?P<file>.*01-base\.yaml):(?P<line>\d+):\d+: ", error)
    if match is None:
        return False
    lines = (tmp_path / "bad" / "spec" / "01-base.yaml").read_text(encoding="utf-8").splitlines()
    start = next(n for n, line in enumerate(lines, 1) if line.strip() == "t:")
    indent = len(lines[start - 1]) - len(lines[start - 1].lstrip())
    end = next((n for n, line in enumerate(lines[start:], start + 1)
                if len(line) - len(line.lstrip()) <= indent), len(lines) + 1)
    return start <= int(match["line"]) < end


def test_an_unknown_enable_mode_is_refused_at_its_key(tmp_path: Path) -> None:
    found = errors(tmp_path, with_trigger("entries", "t", {**AFTER_INSERT, "enabled": "sometimes"}))
    assert any("sometimes" in e and in_trigger_t(tmp_path, e) for e in found), found


def test_initially_deferred_implies_deferrable(tmp_path: Path) -> None:
    catalog = check(load_spec(spec(tmp_path, "ok", BASE)))
    balanced = next(t for t in catalog.tables[next(n for n in catalog.tables if n.name == "entries")].triggers
                    if t.name == "balanced")
    assert balanced.deferrable and balanced.initially_deferred


# -- render and verify -----------------------------------------------------------------------------------------------
def test_rendered_triggers_carry_every_clause(tmp_path: Path) -> None:
    text = sql_of(build(spec(tmp_path, "s", BASE)).files, "schema.sql")
    assert "CREATE CONSTRAINT TRIGGER balanced\n    AFTER INSERT ON public.entries\n    DEFERRABLE INITIALLY " \
           "DEFERRED\n    FOR EACH ROW" in text
    assert "REFERENCING NEW TABLE AS new_rows\n    FOR EACH STATEMENT" in text
    assert "ALTER TABLE public.entries ENABLE ALWAYS TRIGGER always_fire;" in text
    assert "ALTER TABLE public.entries ENABLE REPLICA TRIGGER replica_fire;" in text
    assert "ALTER TABLE public.entries DISABLE TRIGGER off_fire;" in text
    assert "TRIGGER origin_fire;" not in text  # the mode a new trigger has
    assert "CREATE TRIGGER labels_insert\n    INSTEAD OF INSERT ON public.labels" in text
    assert text.index("CREATE VIEW public.labels") < text.index("CREATE TRIGGER labels_insert")


@pytest.mark.parametrize(("old", "new"), [
    ("DEFERRABLE INITIALLY DEFERRED", "DEFERRABLE INITIALLY IMMEDIATE"),
    ("DEFERRABLE INITIALLY DEFERRED\n", ""),
    ("REFERENCING NEW TABLE AS new_rows", "REFERENCING NEW TABLE AS other_rows"),
    ("ENABLE ALWAYS TRIGGER always_fire", "ENABLE REPLICA TRIGGER always_fire"),
    ("ALTER TABLE public.entries DISABLE TRIGGER off_fire;", ""),
    ("INSTEAD OF INSERT ON public.labels", "INSTEAD OF UPDATE ON public.labels"),
])
def test_verify_reports_a_trigger_clause_the_sql_lost(tmp_path: Path, old: str, new: str) -> None:
    b = build(spec(tmp_path, "s", BASE))
    text = sql_of(b.files, "schema.sql")
    assert old in text
    mismatch = verify_sql("schema.sql", text.replace(old, new, 1), order(b.catalog), b.catalog)
    assert mismatch is not None
    assert [m for m in mismatch.missing if m.startswith("trigger public.")], mismatch


# -- live: apply, behave, introspect, drift --------------------------------------------------------------------------
def test_applies_as_postgresql_means_it_and_reads_back_without_drift(empty_db: str, tmp_path: Path) -> None:
    d = spec(tmp_path, "s", BASE)
    live.apply_sql(empty_db, sql_of(build(d).files, "schema.sql"))
    assert [str(x) for x in verify(empty_db, check(load_spec(d)))] == []
    assert pg_trigger(empty_db, "balanced") == ("O", True, True, True, None, None)
    assert pg_trigger(empty_db, "counted") == ("O", False, False, False, None, "new_rows")
    assert [pg_trigger(empty_db, n)[0] for n in ("origin_fire", "always_fire", "replica_fire", "off_fire")] == \
        ["O", "A", "R", "D"]


def test_the_triggers_fire_as_their_modes_say(empty_db: str, tmp_path: Path) -> None:
    live.apply_sql(empty_db, sql_of(build(spec(tmp_path, "s", BASE)).files, "schema.sql"))
    # a deferred constraint trigger lets the batch be out of balance until commit
    live.apply_sql(empty_db, "INSERT INTO entries (batch, amount) VALUES (1, 5); "
                             "INSERT INTO entries (batch, amount) VALUES (1, -5)")
    with pytest.raises(psycopg.errors.RaiseException, match="batch 2 does not balance"):
        live.apply_sql(empty_db, "INSERT INTO entries (batch, amount) VALUES (2, 5)")
    fired = rows(empty_db, "SELECT what, sum(n) FROM audit GROUP BY what ORDER BY what")
    # two statements, one row each; the refused one rolled back
    assert fired == [("always_fire", 2), ("counted", 2), ("origin_fire", 2)]
    # while replaying replication: replica and always fire, origin does not; disabled never
    live.apply_sql(empty_db, "TRUNCATE audit; SET session_replication_role = replica; "
                             "INSERT INTO entries (batch, amount) VALUES (3, 0), (3, 0)")
    assert rows(empty_db, "SELECT what, sum(n) FROM audit GROUP BY what ORDER BY what") == \
        [("always_fire", 2), ("replica_fire", 2)]
    # INSTEAD OF makes the view writable; the statement trigger on the view fires too
    live.apply_sql(empty_db, "TRUNCATE audit; INSERT INTO labels (label) VALUES ('a'), ('b')")
    assert rows(empty_db, "SELECT label FROM items ORDER BY label") == [("A",), ("B",)]
    assert rows(empty_db, "SELECT what FROM audit") == [("labels_inserted",)]


@pytest.mark.parametrize(("change", "expected"), [
    ("ALTER TABLE entries ENABLE TRIGGER always_fire",
     "trigger public.entries.always_fire: enabled always in spec, origin in database"),
    ("ALTER TABLE entries ENABLE ALWAYS TRIGGER off_fire",
     "trigger public.entries.off_fire: enabled disabled in spec, always in database"),
    ("DROP TRIGGER counted ON entries; CREATE TRIGGER counted AFTER INSERT ON entries REFERENCING NEW TABLE AS "
     "fresh FOR EACH STATEMENT EXECUTE FUNCTION count_new()",
     "trigger public.entries.counted: new_table new_rows in spec, fresh in database"),
    ("DROP TRIGGER balanced ON entries; CREATE CONSTRAINT TRIGGER balanced AFTER INSERT ON entries "
     "DEFERRABLE FOR EACH ROW EXECUTE FUNCTION settle(); COMMENT ON TRIGGER balanced ON entries IS "
     "'Each batch sums to zero at commit.'",
     "trigger public.entries.balanced: initially deferred true in spec, false in database"),
    ("DROP TRIGGER labels_insert ON labels; CREATE TRIGGER labels_insert INSTEAD OF UPDATE ON labels FOR EACH ROW "
     "EXECUTE FUNCTION labels_insert()",
     "trigger public.labels.labels_insert: events (insert) in spec, (update) in database"),
])
def test_a_changed_trigger_is_reported(empty_db: str, tmp_path: Path, change: str, expected: str) -> None:
    assert drift_after(empty_db, spec(tmp_path, "s", BASE), change) == [expected]


# -- plans -----------------------------------------------------------------------------------------------------------
def plain(body: dict[str, Any]) -> dict[str, Any]:
    """The same triggers without modes, constraint or transition tables (and no view triggers)."""
    out = copy.deepcopy(body)
    for trigger in out["tables"]["entries"]["triggers"].values():
        for key in ("enabled", "constraint", "initially_deferred", "referencing", "comment"):
            trigger.pop(key, None)
    out["tables"]["entries"]["triggers"]["counted"]["function"] = "log_fire"
    out["views"]["labels"].pop("triggers")
    return out


def test_plan_changes_modes_in_place_and_recreates_what_create_trigger_fixes(empty_db: str, tmp_path: Path) -> None:
    live.apply_sql(empty_db, sql_of(build(spec(tmp_path, "old", plain(BASE))).files, "schema.sql"))
    live.apply_sql(empty_db, "INSERT INTO entries (batch, amount) VALUES (1, 0)")
    text = migrate(empty_db, spec(tmp_path, "new", BASE))
    assert "ALTER TABLE public.entries ENABLE ALWAYS TRIGGER always_fire;" in text
    assert "ALTER TABLE public.entries DISABLE TRIGGER off_fire;" in text
    assert "DROP TRIGGER always_fire" not in text and "DROP TRIGGER off_fire" not in text
    assert "DROP TRIGGER balanced" in text and "CREATE CONSTRAINT TRIGGER balanced" in text
    assert "DROP TRIGGER counted" in text and "REFERENCING NEW TABLE AS new_rows" in text
    assert "CREATE TRIGGER labels_insert" in text
    assert rows(empty_db, "SELECT batch, amount FROM entries") == [(1, 0)]
    # and back: modes to origin in place (ENABLE TRIGGER), the view's triggers dropped
    text = migrate(empty_db, spec(tmp_path, "back", plain(BASE)))
    assert "ALTER TABLE public.entries ENABLE TRIGGER off_fire;" in text
    assert "DROP TRIGGER labels_insert ON public.labels" in text


def test_plan_recreates_a_views_triggers_with_the_view(empty_db: str, tmp_path: Path) -> None:
    live.apply_sql(empty_db, sql_of(build(spec(tmp_path, "old", BASE)).files, "schema.sql"))
    new = copy.deepcopy(BASE)
    new["views"]["labels"]["query"] = "SELECT id, label, label AS shown FROM items"
    text = migrate(empty_db, spec(tmp_path, "new", new))  # no drift after: the triggers came back
    assert "CREATE TRIGGER labels_insert" in text
    live.apply_sql(empty_db, "INSERT INTO labels (label) VALUES ('c')")
    assert rows(empty_db, "SELECT label FROM items") == [("C",)]


def test_plan_creates_a_view_with_its_triggers(empty_db: str, tmp_path: Path) -> None:
    old = copy.deepcopy(BASE)
    old.pop("views")
    live.apply_sql(empty_db, sql_of(build(spec(tmp_path, "old", old)).files, "schema.sql"))
    text = migrate(empty_db, spec(tmp_path, "new", BASE))
    assert "CREATE VIEW public.labels" in text and "CREATE TRIGGER labels_insert" in text


def test_schema_docs_describe_every_clause(tmp_path: Path) -> None:
    catalog = check(load_spec(spec(tmp_path, "s", BASE)))
    page = module_page(catalog, catalog.schema.modules[0])
    assert "- `balanced`: constraint trigger, initially deferred: after insert on each row" in page
    assert "- `counted`: after insert once per statement, seeing the new rows as `new_rows`" in page
    assert "`replica_fire`: after insert on each row: runs `public.log_fire()` (fires only while replaying" in page
    assert "- `labels_insert`: instead of insert on each row" in page
