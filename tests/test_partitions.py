"""Partitioned tables and their partitions, through every stage: `partition_by:` (range, list, hash; expression
keys), `partitions:` with bounds or `default: true`, sub-partitioning, a partition's comment, owner and grants.

Expectations come from PostgreSQL (pg_partitioned_table, pg_get_expr of relpartbound, pg_inherits, where an INSERT
puts a row and which rows it refuses), not from the tool's own output.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import psycopg
import pytest
from specs import assert_verify_reports, check_errors, drift_after, migrate, sql_of, write_spec

from generator import live
from generator.check import check
from generator.drift import verify
from generator.load import load_spec
from generator.migrate import changes as ch
from generator.pipeline import build
from generator.verify import found

BASE: dict[str, Any] = {
    "module": "Partitions",
    "roles": {"reporter": {}, "api": {}},
    "functions": {"stamp": {"returns": "trigger", "body": "BEGIN\n  NEW.body := coalesce(NEW.body, '-');\n  "
                                                           "RETURN NEW;\nEND;"}},
    "tables": {
        "events": {
            "columns": {"id": {"type": "bigint", "not_null": True}, "created_at": {"type": "date", "not_null": True},
                        "region": {"type": "text", "not_null": True}, "body": "text"},
            "primary_key": ["id", "created_at", "region"],
            "partition_by": "range (created_at)",
            "indexes": {"events_body": {"columns": ["body"]}},
            # a CHECK and a row trigger, which every partition inherits (not objects of its own)
            "checks": {"events_body_short": "length(body) < 1000"},
            "triggers": {"events_stamp": {"timing": "before", "events": ["insert"], "function": "stamp"}},
            "rls": "enabled",
            "policies": {"api_reads": {"command": "select", "roles": ["api"], "using": "true"}},
            "grants": {"api": ["select", "insert"]},
            "partitions": {
                "events_2026": {"values": "from ('2026-01-01') to ('2027-01-01')", "comment": "The year 2026.",
                                "grants": {"reporter": ["select"]}},
                "events_2027": {"values": "from ('2027-01-01') to ('2028-01-01')", "partition_by": "list (region)",
                                "partitions": {"events_2027_eu": {"values": "in ('eu', 'uk')"},
                                               "events_2027_rest": {"default": True}}},
                "events_old": {"default": True},
            },
        },
        "tickets": {
            "columns": {"id": {"type": "integer", "primary_key": True}, "kind": "text"},
            "partition_by": "hash (id)",
            "partitions": {"tickets_h0": {"values": "with (modulus 2, remainder 0)"},
                           "tickets_h1": {"values": "with (modulus 2, remainder 1)"}},
        },
        "notes": {
            "columns": {"id": {"type": "bigint", "primary_key": True},
                        "ticket_id": {"type": "integer", "references": "tickets(id)"}},
        },
    },
}


def spec(tmp_path: Path, name: str, body: dict[str, Any]) -> Path:
    return write_spec(tmp_path / name, {"01-base.yaml": body})


def rows(dsn: str, query: str, *params: Any) -> list[tuple[Any, ...]]:
    with psycopg.connect(dsn) as conn:
        return conn.execute(query, params).fetchall()


def partitions_in(dsn: str) -> dict[str, tuple[str, str]]:
    """Each partition PostgreSQL holds: its parent and its bounds as pg_get_expr prints them."""
    return {name: (parent, bound) for name, parent, bound in rows(
        dsn, "SELECT c.relname, i.inhparent::regclass::text, pg_get_expr(c.relpartbound, c.oid) FROM pg_class c "
             "JOIN pg_inherits i ON i.inhrelid = c.oid WHERE c.relispartition")}


def changed(**tables: Any) -> dict[str, Any]:
    body = copy.deepcopy(BASE)
    for name, table in tables.items():
        if table is None:
            body["tables"].pop(name)
        else:
            body["tables"][name] = table
    return body


# -- render and verify -----------------------------------------------------------------------------------------------
def test_renders_partition_by_and_each_partition_after_its_parent(tmp_path: Path) -> None:
    text = sql_of(build(spec(tmp_path, "s", BASE)).files, "schema.sql")
    assert ") PARTITION BY RANGE (created_at);" in text
    assert ("CREATE TABLE public.events_2027 PARTITION OF public.events\n"
            "    FOR VALUES FROM ('2027-01-01') TO ('2028-01-01')\n    PARTITION BY LIST (region);") in text
    assert "CREATE TABLE public.events_2027_eu PARTITION OF public.events_2027\n    FOR VALUES IN ('eu', 'uk');" in text
    assert "FOR VALUES WITH (MODULUS 2, REMAINDER 1);" in text
    assert text.index("CREATE TABLE public.events (") < text.index("PARTITION OF public.events\n") \
        < text.index("PARTITION OF public.events_2027\n")
    # a partition's privileges are its own: none unless granted (its rows are reached through the parent)
    assert "REVOKE ALL ON TABLE public.events_old FROM PUBLIC, api, reporter;" in text
    assert "GRANT SELECT ON TABLE public.events_2026 TO reporter;" in text
    # RLS and policies on the parent only
    assert "ALTER TABLE public.events ENABLE ROW LEVEL SECURITY;" in text
    assert "ALTER TABLE public.events_2026 ENABLE" not in text
    inventory = found(text)
    assert any(line.startswith("partition public.events_2027_rest of public.events_2027 ") for line in inventory)


def test_schema_docs_list_the_partitions(tmp_path: Path) -> None:
    from generator.schemadocs import module_page

    catalog = check(load_spec(spec(tmp_path, "s", BASE)))
    page = module_page(catalog, catalog.schema.modules[0])
    assert "**Partitions** (partitioned by `range (created_at)`;" in page
    assert "| `public.events_2027_eu` | `public.events_2027` | `FOR VALUES IN ('eu', 'uk')` |  |  |" in page
    assert "| `public.events_2027` | `public.events` | `FOR VALUES FROM ('2027-01-01') TO ('2028-01-01')` | " \
           "`list (region)` |  |" in page


@pytest.mark.parametrize(("old", "new", "line"), [
    ("FOR VALUES FROM ('2026-01-01') TO ('2027-01-01')", "FOR VALUES FROM ('2026-01-01') TO ('2026-07-01')",
     "partition public.events_2026 of public.events "),
    ("PARTITION OF public.events_2027\n    FOR VALUES IN ('eu', 'uk')",
     "PARTITION OF public.events_2027\n    FOR VALUES IN ('eu')", "partition public.events_2027_eu "),
    ("    PARTITION BY LIST (region);", ";", "partition public.events_2027 "),
    (") PARTITION BY RANGE (created_at);", ") PARTITION BY LIST (created_at);", "table public.events partition by"),
])
def test_verify_reports_a_partition_clause_the_sql_lost(tmp_path: Path, old: str, new: str, line: str) -> None:
    assert_verify_reports(spec(tmp_path, "s", BASE), old, new, line)


# -- check -----------------------------------------------------------------------------------------------------------
def errors_of(tmp_path: Path, table: dict[str, Any]) -> list[str]:
    body = changed(events=table)
    body["functions"]["audit"] = {"returns": "trigger", "body": "BEGIN RETURN NULL; END"}
    return check_errors(spec(tmp_path, "bad", body))


def events(**fields: Any) -> dict[str, Any]:
    table = copy.deepcopy(BASE["tables"]["events"])
    for key, value in fields.items():
        if value is None:
            table.pop(key)
        else:
            table[key] = value
    return table


@pytest.mark.parametrize(("fields", "message"), [
    ({"primary_key": ["id", "region"]},
     "PRIMARY KEY events_pkey on partitioned table events must include the partition key column(s) created_at"),
    ({"partition_by": "range (nope)"}, "partition key names unknown column 'nope' of events"),
    ({"partition_by": "ranges (created_at)"}, "expected `range (KEY, ...)`"),
    ({"partition_by": "list (region, id)"}, "list partitioning takes one key"),
    ({"partition_by": None}, "table events has partitions but no `partition_by`"),
    ({"unlogged": True}, "a partitioned table cannot be unlogged"),
    ({"partitions": {"a": {"values": "in ('x')"}}}, "partition a: list bounds, but public.events is partitioned by "
                                                      "range"),
    ({"partitions": {"a": {"default": True}, "b": {"default": True}}}, "already has a default partition (a)"),
    ({"partitions": {"a": {}}}, "give its bounds (`values:`) or `default: true`"),
    ({"partitions": {"a": {"values": "from ('2026-01-01') to ('2027-01-01')", "default": True}}},
     "`values` and `default: true` exclude each other"),
    ({"partitions": {"a": {"values": "from ('2026-01-01') to ('2027-01-01')"},
                     "b": {"values": "from ('2026-06-01') to ('2028-01-01')"}}}, "partition b overlaps partition a"),
    ({"partitions": {"a": {"values": "from ('2027-01-01') to ('2026-01-01')"}}}, "empty range"),
    ({"partitions": {"a": {"values": "from ('2026-01-01', 1) to ('2027-01-01', 2)"}}}, "FROM has 2 value(s)"),
    ({"partitions": {"a": {"values": "from (1) to (2); drop table x"}}}, "holds more than one clause"),
    ({"partitions": {"a": {"values": "from ('2026-01-01') to ('2027-01-01')", "grants": {"nobody": ["select"]}}}},
     "unknown role 'nobody'"),
    ({"excludes": {"no_overlap": {"elements": {"id": "="}}}}, "exclusion constraints on a partitioned table"),
    ({"partitions": {"a": {"values": "default"}}}, "write a default partition as `default: true`"),
    ({"triggers": {"audit": {"timing": "after", "events": ["insert"], "function": "audit",
                             "referencing": {"new_table": "added"}}}},
     "PostgreSQL refuses transition tables on a row trigger of a partitioned table"),
])
def test_check_refuses_what_postgresql_refuses(tmp_path: Path, fields: dict[str, Any], message: str) -> None:
    errors = errors_of(tmp_path, events(**fields))
    assert any(message in e for e in errors), errors
    assert all("spec/01-base.yaml:" in e for e in errors)


def test_check_refuses_hash_defaults_list_overlaps_and_moduli(tmp_path: Path) -> None:
    tickets = copy.deepcopy(BASE["tables"]["tickets"])
    tickets["partitions"] = {"tickets_h0": {"values": "with (modulus 2, remainder 0)"},
                             "tickets_h1": {"values": "with (modulus 3, remainder 1)"},
                             "tickets_h2": {"values": "with (modulus 2, remainder 2)"},
                             "tickets_d": {"default": True}}
    errors = check_errors(spec(tmp_path, "bad", changed(tickets=tickets)))
    text = "\n".join(errors)
    assert "tickets_d: a hash-partitioned table cannot have a default partition" in text
    assert "modulus 3 is not a multiple of 2" in text
    assert "tickets_h2: remainder must be at least 0 and below the modulus (2)" in text
    body = changed()
    body["tables"]["events"]["partitions"]["events_2027"]["partitions"]["events_2027_uk"] = {"values": "in ('uk')"}
    errors = check_errors(spec(tmp_path, "bad2", body))
    assert any("events_2027_uk: value uk is also in partition events_2027_eu" in e for e in errors), errors


def test_a_sub_partition_key_must_be_in_the_primary_key(tmp_path: Path) -> None:
    errors = errors_of(tmp_path, events(primary_key=["id", "created_at"]))
    assert any("(through partition events_2027)" in e and "region" in e for e in errors), errors


def test_seed_rows_views_and_a_written_for_values_fit_around_partitions(empty_db: str, tmp_path: Path) -> None:
    """Seed rows of a partitioned table are inserted after its partitions; a view may read a partition (it comes
    after it); `values:` may repeat FOR VALUES."""
    body = changed()
    tickets = body["tables"]["tickets"]
    tickets["partitions"]["tickets_h0"]["values"] = "FOR VALUES with (modulus 2, remainder 0)"
    tickets["seed"] = [{"id": 1, "kind": "a"}, {"id": 2, "kind": "b"}]
    body["views"] = {"even_tickets": {"query": "SELECT id FROM public.tickets_h0"}}
    d = spec(tmp_path, "s", body)
    text = sql_of(build(d).files, "schema.sql")
    assert "FOR VALUES WITH (MODULUS 2, REMAINDER 0);" in text
    assert text.index("PARTITION OF public.tickets\n") < text.index("INSERT INTO public.tickets")
    live.apply_sql(empty_db, text)
    assert [str(x) for x in verify(empty_db, check(load_spec(d)))] == []
    assert rows(empty_db, "SELECT count(*) FROM tickets")[0][0] == 2


def test_partition_names_share_the_relation_namespace(tmp_path: Path) -> None:
    body = changed()
    body["tables"]["tickets"]["partitions"]["notes"] = body["tables"]["tickets"]["partitions"].pop("tickets_h1")
    assert any("duplicate relation (partition) 'notes'" in e for e in check_errors(spec(tmp_path, "bad", body)))


# -- live: apply, rows, introspect, drift ----------------------------------------------------------------------------
def test_applies_routes_rows_and_reads_back_without_drift(empty_db: str, tmp_path: Path) -> None:
    d = spec(tmp_path, "s", BASE)
    live.apply_sql(empty_db, sql_of(build(d).files, "schema.sql"))
    assert [str(x) for x in verify(empty_db, check(load_spec(d)))] == []
    assert rows(empty_db, "SELECT c.relname, p.partstrat FROM pg_partitioned_table p "
                          "JOIN pg_class c ON c.oid = p.partrelid ORDER BY 1") == [
        ("events", "r"), ("events_2027", "l"), ("tickets", "h")]
    assert partitions_in(empty_db)["events_2026"] == (
        "events", "FOR VALUES FROM ('2026-01-01') TO ('2027-01-01')")
    assert partitions_in(empty_db)["events_old"] == ("events", "DEFAULT")
    live.apply_sql(empty_db, "INSERT INTO events VALUES (1, '2026-05-01', 'eu', 'a'), (2, '2027-05-01', 'uk', 'b'), "
                             "(3, '2027-05-01', 'us', 'c'), (4, '1999-01-01', 'eu', 'd')")
    assert rows(empty_db, "SELECT tableoid::regclass::text, id FROM events ORDER BY id") == [
        ("events_2026", 1), ("events_2027_eu", 2), ("events_2027_rest", 3), ("events_old", 4)]
    # the parent's index, key, CHECK and trigger reach every partition; the inherited objects are no drift
    assert rows(empty_db, "SELECT count(*) FROM pg_indexes WHERE tablename = 'events_2026'")[0][0] == 2
    assert rows(empty_db, "SELECT count(*) FROM pg_trigger WHERE tgrelid = 'events_2027_eu'::regclass")[0][0] == 1
    assert rows(empty_db, "SELECT count(*) FROM pg_constraint WHERE conrelid = 'events_old'::regclass "
                          "AND contype = 'c'")[0][0] == 1
    # a row no partition takes is refused (tickets by hash always has one; a list table without default has not)
    live.apply_sql(empty_db, "INSERT INTO tickets SELECT n, 'x' FROM generate_series(1, 20) n")
    assert rows(empty_db, "SELECT tableoid::regclass::text, count(*) FROM tickets GROUP BY 1 ORDER BY 1") == [
        (f"tickets_h{r}", n) for r, n in rows(
            empty_db, "SELECT r, count(*) FROM generate_series(1, 20) n, LATERAL (SELECT CASE WHEN "
                      "satisfies_hash_partition('tickets'::regclass, 2, 0, n) THEN 0 ELSE 1 END r) x "
                      "GROUP BY r ORDER BY r")]
    live.apply_sql(empty_db, "DELETE FROM events WHERE created_at >= '2027-01-01'; "
                             "DROP TABLE events_2027_rest")
    with pytest.raises(psycopg.errors.CheckViolation, match="no partition of relation"):
        live.apply_sql(empty_db, "INSERT INTO events VALUES (5, '2027-02-01', 'us', 'e')")


def test_a_foreign_key_may_reference_a_partitioned_table(empty_db: str, tmp_path: Path) -> None:
    d = spec(tmp_path, "s", BASE)
    live.apply_sql(empty_db, sql_of(build(d).files, "schema.sql"))
    live.apply_sql(empty_db, "INSERT INTO tickets VALUES (7, 'a'); INSERT INTO notes VALUES (1, 7)")
    with pytest.raises(psycopg.errors.ForeignKeyViolation):
        live.apply_sql(empty_db, "INSERT INTO notes VALUES (2, 8)")


@pytest.mark.parametrize(("change", "expected"), [
    ("ALTER TABLE events DETACH PARTITION events_2026; "
     "ALTER TABLE events ATTACH PARTITION events_2026 FOR VALUES FROM ('2026-01-01') TO ('2026-12-01')",
     "partition public.events_2026: bounds FOR VALUES FROM ('2026-01-01') TO ('2027-01-01') in spec, "
     "FOR VALUES FROM ('2026-01-01') TO ('2026-12-01') in database"),
    ("DROP TABLE events_old", "partition public.events_old: missing in database"),
    ("CREATE TABLE events_2030 PARTITION OF events FOR VALUES FROM ('2030-01-01') TO ('2031-01-01')",
     "partition public.events_2030: in database, not in spec"),
    ("COMMENT ON TABLE events_2026 IS 'x'",
     "partition public.events_2026: comment 'The year 2026.' in spec, 'x' in database"),
    ("GRANT UPDATE ON events_old TO api", "grant UPDATE on public.events_old to api: in database, not in spec"),
    ("CREATE INDEX events_old_body ON events_old (id)",
     "partition public.events_old: index events_old_body of its own in database (the spec gives a partition only "
     "its parent's)"),
])
def test_a_changed_partition_is_reported(empty_db: str, tmp_path: Path, change: str, expected: str) -> None:
    assert drift_after(empty_db, spec(tmp_path, "s", BASE), change) == [expected]


def test_a_changed_partition_key_is_reported(empty_db: str, tmp_path: Path) -> None:
    d = spec(tmp_path, "s", BASE)
    table = copy.deepcopy(BASE["tables"]["tickets"])
    table["partition_by"] = "hash (id, kind)"
    table["primary_key"] = ["id", "kind"]
    table["columns"]["id"] = "integer"
    live.apply_sql(empty_db, sql_of(build(spec(tmp_path, "db", changed(tickets=table, notes=None))).files,
                                    "schema.sql"))
    d = spec(tmp_path, "s", changed(notes=None))
    lines = [str(x) for x in verify(empty_db, check(load_spec(d)))]
    assert "table public.tickets: partition_by hash (id) in spec, hash (id, kind) in database" in lines


def test_a_partition_key_naming_its_default_operator_class_or_collation_has_no_drift(empty_db: str,
                                                                                      tmp_path: Path) -> None:
    """PostgreSQL prints a key's operator class and collation only where they are not the key type's defaults
    (ruleutils.c, as for an index): a spec that names the defaults says the same thing; another class does not."""
    events = copy.deepcopy(BASE["tables"]["events"])
    events["partition_by"] = "range (created_at date_ops)"
    events["partitions"]["events_2027"]["partition_by"] = 'list (region COLLATE "default" text_ops)'
    d = spec(tmp_path, "s", changed(events=events))
    live.apply_sql(empty_db, sql_of(build(d).files, "schema.sql"))
    assert [str(x) for x in verify(empty_db, check(load_spec(d)))] == []
    events["partitions"]["events_2027"]["partition_by"] = "list (region text_pattern_ops)"
    lines = [str(x) for x in verify(empty_db, check(load_spec(spec(tmp_path, "other", changed(events=events)))))]
    assert lines == ["partition public.events_2027: partition_by list (region text_pattern_ops) in spec, "
                     "list (region) in database"]


# -- plans -----------------------------------------------------------------------------------------------------------
def applied(dsn: str, tmp_path: Path, body: dict[str, Any]) -> None:
    live.apply_sql(dsn, sql_of(build(spec(tmp_path, "old", body)).files, "schema.sql"))


def test_plan_creates_a_partitioned_table_with_its_partitions(empty_db: str, tmp_path: Path) -> None:
    applied(empty_db, tmp_path, changed(tickets=None, notes=None))
    text = migrate(empty_db, spec(tmp_path, "new", BASE))
    assert text.index("CREATE TABLE public.tickets (") < text.index("PARTITION OF public.tickets")
    assert partitions_in(empty_db)["tickets_h1"] == ("tickets", "FOR VALUES WITH (modulus 2, remainder 1)")


def test_plan_adds_drops_and_moves_partitions_keeping_the_rows(empty_db: str, tmp_path: Path) -> None:
    applied(empty_db, tmp_path, BASE)
    live.apply_sql(empty_db, "INSERT INTO events VALUES (1, '2026-05-01', 'eu', 'a'), (2, '2027-05-01', 'uk', 'b'), "
                             "(3, '2025-05-01', 'us', 'c')")
    new = changed()
    parts = new["tables"]["events"]["partitions"]
    parts["events_2026"]["values"] = "from ('2025-01-01') to ('2027-01-01')"  # takes the default's 2025 row
    parts["events_2026"]["comment"] = "2025 and 2026."
    parts["events_old"]["grants"] = {"reporter": ["select"]}
    parts["events_2028"] = {"values": "from ('2028-01-01') to ('2029-01-01')"}
    del parts["events_2027"]["partitions"]["events_2027_rest"]  # empty: dropped
    # the 2025 row moves out of the default partition first, as PostgreSQL requires before the new bounds take it
    live.apply_sql(empty_db, "DELETE FROM events WHERE id = 3")
    text = migrate(empty_db, spec(tmp_path, "new", new))
    assert "ALTER TABLE public.events DETACH PARTITION public.events_2026;" in text
    assert "ALTER TABLE public.events ATTACH PARTITION public.events_2026\n    FOR VALUES FROM ('2025-01-01') TO " \
           "('2027-01-01');" in text
    assert text.index("DETACH PARTITION public.events_2027_rest") < text.index("DROP TABLE public.events_2027_rest")
    assert "CREATE TABLE public.events_2028 PARTITION OF public.events" in text
    assert rows(empty_db, "SELECT tableoid::regclass::text, id FROM events ORDER BY id") == [
        ("events_2026", 1), ("events_2027_eu", 2)]
    live.apply_sql(empty_db, "INSERT INTO events VALUES (4, '2025-03-01', 'us', 'd'), (5, '2028-03-01', 'us', 'e')")
    assert rows(empty_db, "SELECT tableoid::regclass::text FROM events WHERE id > 3 ORDER BY id") == [
        ("events_2026",), ("events_2028",)]


def test_plan_names_the_hazards_of_dropping_and_rebounding_partitions(empty_db: str, tmp_path: Path) -> None:
    from generator.migrate import database

    applied(empty_db, tmp_path, BASE)
    live.apply_sql(empty_db, "INSERT INTO events VALUES (1, '2026-05-01', 'eu', 'a'), (2, '1990-01-01', 'eu', 'b');"
                             "ANALYZE events")
    new = changed()
    del new["tables"]["events"]["partitions"]["events_old"]
    new["tables"]["events"]["partitions"]["events_2026"]["values"] = "from ('2026-01-01') to ('2026-12-31')"
    p = database.plan_database(empty_db, check(load_spec(spec(tmp_path, "new", new))))
    hazards = {(type(s.change).__name__, h.kind) for s in p.steps for h in s.hazards}
    assert ("DropTable", "data-loss") in hazards
    assert ("AttachPartition", "lock") in hazards
    assert ("DetachPartition", "lock") in hazards


def test_plan_refuses_a_new_partition_key(empty_db: str, tmp_path: Path) -> None:
    from generator.diagnostics import SpecError
    from generator.migrate import database

    applied(empty_db, tmp_path, BASE)
    new = changed()
    new["tables"]["events"]["partition_by"] = "range (created_at, region)"
    for part in new["tables"]["events"]["partitions"].values():
        if "values" in part:
            part["values"] = part["values"].replace("')", "', MINVALUE)")
    with pytest.raises(SpecError, match="PostgreSQL cannot change"):
        database.plan_database(empty_db, check(load_spec(spec(tmp_path, "new", new))))
    plain = changed()
    plain["tables"]["notes"]["partition_by"] = "hash (id)"
    plain["tables"]["notes"]["partitions"] = {"notes_all": {"values": "with (modulus 1, remainder 0)"}}
    with pytest.raises(SpecError, match="partition_by hash \\(id\\) in spec, none in the database"):
        database.plan_database(empty_db, check(load_spec(spec(tmp_path, "plain", plain))))


def test_plan_from_an_older_spec_detaches_and_attaches(tmp_path: Path) -> None:
    from generator.migrate.planner import plan
    from generator.migrate.script import rendered
    from generator.migrate.snapshot import of_spec

    new = changed()
    new["tables"]["events"]["partitions"]["events_2026"]["values"] = "from ('2026-01-01') to ('2026-12-31')"
    old_catalog = check(load_spec(spec(tmp_path, "old", BASE)))
    p = plan(check(load_spec(spec(tmp_path, "new", new))), of_spec(old_catalog))
    text = "\n".join(r.sql for r in rendered(p))
    assert "DETACH PARTITION public.events_2026" in text and "ATTACH PARTITION public.events_2026" in text


# -- what only PostgreSQL sees: refused by the judge of generate, at the partition ----------------------------------
@pytest.mark.live  # the judge of `generate` starts a PostgreSQL server (as every test of test_judge.py, marked alike)
def test_overlapping_bounds_the_offline_checks_cannot_order_are_refused_by_the_judge(tmp_path: Path) -> None:
    from test_bad_specs import DIAGNOSTIC
    from test_judge import project, run

    cwd = project(tmp_path, """module: Overlap
tables:
  words:
    columns:
      word: {type: text, not_null: true}
    partition_by: range (word)
    partitions:
      words_a_m: {values: "from ('a') to ('m')"}
      words_k_z: {values: "from ('k') to ('z')"}
""")
    result = run(cwd, "generate")
    assert result.returncode == 2, result.stdout + result.stderr
    got = [m for m in map(DIAGNOSTIC.match, result.stderr.splitlines()) if m]
    assert [m["where"] for m in got] == ["spec/01-mistakes.yaml:9:27"], result.stderr
    assert 'PostgreSQL: partition "words_k_z" would overlap partition "words_a_m"' in got[0]["message"]
    assert not (cwd / "output").exists()


def test_online_plans_build_a_partitioned_tables_index_in_the_transaction(empty_db: str, tmp_path: Path) -> None:
    """CREATE / DROP INDEX CONCURRENTLY are refused on a partitioned table: --online keeps those in the transaction
    (the index of a plain table still goes outside it)."""
    from generator.migrate import database
    from generator.migrate.planner import Options

    applied(empty_db, tmp_path, BASE)
    new = changed()
    new["tables"]["events"]["indexes"] = {"events_region": {"columns": ["region"]}}
    new["tables"]["notes"]["indexes"] = {"notes_ticket": {"columns": ["ticket_id"]}}
    catalog = check(load_spec(spec(tmp_path, "new", new)))
    p = database.plan_database(empty_db, catalog, options=Options(online=True))
    concurrently = {type(s.change).__name__ + " " + s.change.describe(): getattr(s.change, "concurrently", False)
                    for s in p.steps if isinstance(s.change, ch.CreateIndex | ch.DropIndex)}
    assert concurrently == {"CreateIndex create index public.events_region": False,
                            "DropIndex drop index public.events_body": False,
                            "CreateIndex create index public.notes_ticket": True}
    database.apply(empty_db, p)
    assert [str(x) for x in verify(empty_db, catalog)] == []
