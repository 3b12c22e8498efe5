"""Constraint options, through every stage: DEFERRABLE / INITIALLY DEFERRED (unique keys, foreign keys, exclusion
constraints), NOT VALID (checks, foreign keys), NULLS NOT DISTINCT (unique keys) and EXCLUDE constraints.

Expectations come from PostgreSQL (pg_constraint's flags, pg_index, what a transaction is let to commit), not from
the tool's own output.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import psycopg
import pytest
from specs import assert_verify_reports, migrate, sql_of, write_spec

from generator import live
from generator.check import check
from generator.diagnostics import SpecError
from generator.drift import verify
from generator.load import load_spec
from generator.migrate.planner import plan
from generator.migrate.script import rendered
from generator.migrate.snapshot import of_spec
from generator.pipeline import build
from generator.schemadocs import module_page
from generator.verify import found

BASE: dict[str, Any] = {
    "module": "Constraints",
    "extensions": {"btree_gist": {}},
    "tables": {
        "rooms": {
            "columns": {"id": {"type": "integer", "primary_key": True}, "code": {"type": "text", "not_null": True},
                        "floor": "integer", "wing": "text"},
            "unique": {"rooms_code_key": {"columns": ["code"], "deferrable": True},
                       "rooms_place_key": {"columns": ["floor", "wing"], "nulls_not_distinct": True}}},
        "bookings": {
            "columns": {"id": {"type": "integer", "primary_key": True},
                        "room_id": {"type": "integer", "not_null": True},
                        "during": {"type": "tsrange", "not_null": True},
                        "cancelled": {"type": "boolean", "not_null": True, "default": False},
                        "seq": "integer"},
            "foreign_keys": {
                "bookings_room_fkey": {"columns": ["room_id"], "references": "rooms(id)",
                                       "deferrable": "initially deferred"}},
            "checks": {"seq_positive": {"expr": "seq > 0", "not_valid": True}},
            "excludes": {"no_overlap": {"using": "gist", "elements": {"room_id": "=", "during": "&&"},
                                        "where": "not cancelled"}}},
        "notes": {
            "columns": {"id": {"type": "integer", "primary_key": True}, "room_id": "integer",
                        "booking_id": "integer"},
            "foreign_keys": {
                "notes_room_fkey": {"columns": ["room_id"], "references": "rooms(id)"},
                "notes_booking_fkey": {"columns": ["booking_id"], "references": "bookings(id)",
                                       "not_valid": True, "deferrable": True}}},
    },
}


def spec(tmp_path: Path, name: str, body: dict[str, Any] | None = None) -> Path:
    return write_spec(tmp_path / name, {"01-base.yaml": body if body is not None else BASE})


def edited(**tables: Any) -> dict[str, Any]:
    """BASE with some tables' entries replaced (`bookings={"excludes": {...}}`); None removes an entry."""
    body = copy.deepcopy(BASE)
    for table, entries in tables.items():
        for key, value in entries.items():
            if value is None:
                body["tables"][table].pop(key, None)
            else:
                body["tables"][table][key] = value
    return body


def errors(tmp_path: Path, body: dict[str, Any]) -> tuple[list[str], str]:
    with pytest.raises(SpecError) as refused:
        check(load_spec(spec(tmp_path, "bad", body)))
    return [str(d) for d in refused.value.diagnostics], (tmp_path / "bad" / "spec" / "01-base.yaml").read_text()


def where(text: str, at: str, after: str) -> str:
    """`01-base.yaml:LINE:COL: ` of the first `at` after `after` in the written spec."""
    before = text[:text.index(at, text.index(after))]
    return f"01-base.yaml:{before.count(chr(10)) + 1}:{len(before) - before.rfind(chr(10))}: "


def rows(dsn: str, query: str, *params: Any) -> list[tuple[Any, ...]]:
    with psycopg.connect(dsn) as conn:
        return conn.execute(query, params).fetchall()


def transaction(dsn: str, statements: str) -> None:
    """Statements in one transaction of their own (BEGIN ... COMMIT): deferred constraints are checked at COMMIT."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"BEGIN; {statements} COMMIT;".encode())


def flags(dsn: str, name: str) -> tuple[Any, ...]:
    """(contype, condeferrable, condeferred, convalidated) as pg_constraint holds them."""
    return rows(dsn, "SELECT contype::text, condeferrable, condeferred, convalidated FROM pg_constraint "
                     "WHERE conname = %s", name)[0]


# -- decode and check ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("tables", "at", "after", "message"), [
    ({"rooms": {"unique": {"rooms_code_key": {"columns": ["code"], "not_valid": True}}}}, "not_valid",
     "rooms_code_key", "unknown key 'not_valid'"),
    ({"bookings": {"checks": {"seq_positive": {"expr": "seq > 0", "deferrable": True}}}}, "deferrable",
     "seq_positive", "unknown key 'deferrable'"),
    ({"bookings": {"foreign_keys": {"bookings_room_fkey": {"columns": ["room_id"], "references": "rooms(id)",
                                                           "nulls_not_distinct": True}}}},
     "nulls_not_distinct", "bookings_room_fkey", "unknown key 'nulls_not_distinct'"),
    ({"rooms": {"unique": {"rooms_code_key": {"columns": ["code"], "deferrable": "later"}}}}, "later",
     "rooms_code_key", "deferrable: expected true or false or one of 'initially deferred'"),
    ({"bookings": {"excludes": {"no_overlap": {"elements": {}}}}}, "{}", "no_overlap",
     "exclusion constraint no_overlap has no elements"),
    ({"bookings": {"excludes": {"no_overlap": {"elements": {"during": "overlaps"}}}}}, "overlaps", "no_overlap",
     "exclusion constraint no_overlap: 'overlaps' is not an operator"),
    ({"bookings": {"excludes": {"no_overlap": {"elements": {"room": "="}}}}}, "room", "no_overlap",
     "exclusion constraint no_overlap names unknown column 'room'"),
    ({"bookings": {"excludes": {"no_overlap": {"elements": {"during": "&&"}, "where": "not canceled"}}}},
     "not canceled", "no_overlap", "refers to unknown column 'canceled'"),
    ({"bookings": {"excludes": {"no_overlap": {"using": "gin", "elements": {"during": "&&"}}}}}, "gin",
     "no_overlap", "'gin' is not one of"),
    ({"notes": {"foreign_keys": {"notes_room_fkey": {"columns": ["room_id"], "references": "rooms(code)"}},
                "columns": {"id": {"type": "integer", "primary_key": True}, "room_id": "text",
                            "booking_id": "integer"}}},
     "rooms(code)", "notes_room_fkey", "is the DEFERRABLE unique constraint rooms_code_key: PostgreSQL refuses"),
])
def test_mistakes_are_refused_where_written(tmp_path: Path, tables: dict[str, Any], at: str, after: str,
                                            message: str) -> None:
    got, text = errors(tmp_path, edited(**tables))
    assert any(where(text, at, after) in e and message in e for e in got), (where(text, at, after), got)


def test_a_unique_key_differing_in_its_options_is_not_a_repeat(tmp_path: Path) -> None:
    """CREATE TABLE folds a UNIQUE into an earlier one only when the two are alike in deferral and NULLS NOT
    DISTINCT too; unlike ones are both kept, so check lets them be."""
    body = edited(rooms={"unique": {"rooms_code_key": {"columns": ["code"], "deferrable": True},
                                    "rooms_code_key2": ["code"]}})
    check(load_spec(spec(tmp_path, "ok", body)))
    body["tables"]["rooms"]["unique"]["rooms_code_key"] = ["code"]
    got, _ = errors(tmp_path, body)
    assert any("repeats the UNIQUE rooms_code_key" in e for e in got), got


# -- render and verify -----------------------------------------------------------------------------------------------
def test_rendered_clauses(tmp_path: Path) -> None:
    text = sql_of(build(spec(tmp_path, "s")).files, "schema.sql")
    assert "CONSTRAINT rooms_code_key UNIQUE (code) DEFERRABLE,\n" in text
    assert "CONSTRAINT rooms_place_key UNIQUE NULLS NOT DISTINCT (floor, wing)\n" in text
    assert "CONSTRAINT no_overlap EXCLUDE USING gist (room_id WITH =, during WITH &&) WHERE (not cancelled)" in text
    assert ("CONSTRAINT bookings_room_fkey FOREIGN KEY (room_id) REFERENCES public.rooms (id) DEFERRABLE "
            "INITIALLY DEFERRED") in text
    # NOT VALID after CREATE TABLE, which would validate (and so mark valid) its constraints
    assert "\nALTER TABLE public.bookings ADD CONSTRAINT seq_positive CHECK (seq > 0) NOT VALID;\n" in text
    assert text.index("CREATE EXTENSION IF NOT EXISTS btree_gist") < text.index("CREATE TABLE public.bookings")
    inventory = found(text)
    assert "constraint public.rooms.rooms_code_key unique (code) deferrable" in inventory


def test_schema_docs_name_the_options(tmp_path: Path) -> None:
    catalog = check(load_spec(spec(tmp_path, "s")))
    page = module_page(catalog, catalog.schema.modules[0])
    assert "| `rooms_place_key` | unique | (floor, wing), nulls not distinct |" in page
    assert "| `bookings_room_fkey` | foreign key | (room_id) → rooms(id), deferrable, initially deferred |" in page
    assert "| `seq_positive` | check | `seq > 0`, not valid |" in page
    assert "| `no_overlap` | exclude | using gist (room_id with =, during with &&) where `not cancelled` |" in page


@pytest.mark.parametrize(("old", "new", "differs"), [
    ("UNIQUE (code) DEFERRABLE", "UNIQUE (code)", "public.rooms.rooms_code_key"),
    ("UNIQUE NULLS NOT DISTINCT (floor, wing)", "UNIQUE (floor, wing)", "public.rooms.rooms_place_key"),
    ("DEFERRABLE INITIALLY DEFERRED", "DEFERRABLE", "public.bookings.bookings_room_fkey"),
    ("CHECK (seq > 0) NOT VALID", "CHECK (seq > 0)", "public.bookings.seq_positive"),
    ("during WITH &&", "during WITH =", "public.bookings.no_overlap"),
    ("USING gist (room_id", "USING spgist (room_id", "public.bookings.no_overlap"),
    (" WHERE (not cancelled)", "", "public.bookings.no_overlap"),
])
def test_verify_reports_a_clause_the_sql_lost(tmp_path: Path, old: str, new: str, differs: str) -> None:
    assert_verify_reports(spec(tmp_path, "s"), old, new, f"constraint {differs} ")


# -- live: apply, behaviour, introspect, drift -----------------------------------------------------------------------
def apply_base(dsn: str, tmp_path: Path, body: dict[str, Any] | None = None) -> Path:
    d = spec(tmp_path, "s", body)
    live.apply_sql(dsn, sql_of(build(d).files, "schema.sql"))
    return d


def test_applies_as_postgresql_means_it_and_reads_back_without_drift(empty_db: str, tmp_path: Path) -> None:
    d = apply_base(empty_db, tmp_path)
    assert [str(x) for x in verify(empty_db, check(load_spec(d)))] == []
    assert flags(empty_db, "rooms_code_key") == ("u", True, False, True)
    assert flags(empty_db, "bookings_room_fkey") == ("f", True, True, True)
    assert flags(empty_db, "seq_positive") == ("c", False, False, False)
    assert flags(empty_db, "notes_booking_fkey") == ("f", True, False, False)
    assert flags(empty_db, "no_overlap") == ("x", False, False, True)
    assert rows(empty_db, "SELECT i.indnullsnotdistinct FROM pg_index i JOIN pg_constraint c ON "
                          "c.conindid = i.indexrelid WHERE c.conname = 'rooms_place_key'") == [(True,)]


def test_exclusion_refuses_overlapping_rows(empty_db: str, tmp_path: Path) -> None:
    apply_base(empty_db, tmp_path)
    live.apply_sql(empty_db, "INSERT INTO rooms VALUES (1, 'a', 1), (2, 'b', 2); "
                             "INSERT INTO bookings (id, room_id, during) "
                             "VALUES (1, 1, '[2026-01-01 10:00, 2026-01-01 12:00)')")
    # another room, a time after, a cancelled booking: no conflict
    live.apply_sql(empty_db, "INSERT INTO bookings (id, room_id, during, cancelled) VALUES "
                             "(2, 2, '[2026-01-01 10:00, 2026-01-01 12:00)', false), "
                             "(3, 1, '[2026-01-01 12:00, 2026-01-01 13:00)', false), "
                             "(4, 1, '[2026-01-01 11:00, 2026-01-01 12:00)', true)")
    with pytest.raises(psycopg.errors.ExclusionViolation):
        live.apply_sql(empty_db, "INSERT INTO bookings (id, room_id, during) "
                                 "VALUES (5, 1, '[2026-01-01 11:00, 2026-01-01 11:30)')")


def test_nulls_not_distinct_allows_one_row_of_nulls(empty_db: str, tmp_path: Path) -> None:
    apply_base(empty_db, tmp_path)
    live.apply_sql(empty_db, "INSERT INTO rooms (id, code) VALUES (1, 'a')")
    with pytest.raises(psycopg.errors.UniqueViolation):
        live.apply_sql(empty_db, "INSERT INTO rooms (id, code) VALUES (2, 'b')")  # (NULL, NULL) again


def test_deferred_keys_admit_a_transiently_violating_transaction(empty_db: str, tmp_path: Path) -> None:
    apply_base(empty_db, tmp_path)
    # INITIALLY DEFERRED: the booking may come before its room, within the transaction
    transaction(empty_db, "INSERT INTO bookings (id, room_id, during) VALUES (1, 7, '[2026-01-01, 2026-01-02)'); "
                          "INSERT INTO rooms VALUES (7, 'g', 7);")
    # ... but not past the commit
    with pytest.raises(psycopg.errors.ForeignKeyViolation):
        transaction(empty_db, "INSERT INTO bookings (id, room_id, during) VALUES (2, 8, '[2026-01-01, 2026-01-02)');")
    # DEFERRABLE (initially immediate): two codes swapped in two statements, once SET CONSTRAINTS defers the key
    live.apply_sql(empty_db, "INSERT INTO rooms VALUES (1, 'a', 1), (2, 'b', 2)")
    swap = "UPDATE rooms SET code = 'b' WHERE id = 1; UPDATE rooms SET code = 'a' WHERE id = 2;"
    with pytest.raises(psycopg.errors.UniqueViolation):
        transaction(empty_db, swap)
    transaction(empty_db, f"SET CONSTRAINTS rooms_code_key DEFERRED; {swap}")
    assert rows(empty_db, "SELECT id, code FROM rooms WHERE id IN (1, 2) ORDER BY id") == [(1, "b"), (2, "a")]
    # an immediate (NOT DEFERRABLE) foreign key refuses the same order: SET CONSTRAINTS cannot defer it
    with pytest.raises(psycopg.errors.ForeignKeyViolation):
        transaction(empty_db, "SET CONSTRAINTS ALL DEFERRED; INSERT INTO notes VALUES (1, 9); "
                              "INSERT INTO rooms VALUES (9, 'i', 9);")


def test_not_valid_leaves_existing_rows_alone_and_checks_new_ones(empty_db: str, tmp_path: Path) -> None:
    apply_base(empty_db, tmp_path, edited(bookings={"checks": None}))
    live.apply_sql(empty_db, "INSERT INTO rooms VALUES (1, 'a', 1); INSERT INTO bookings (id, room_id, during, seq) "
                             "VALUES (1, 1, '[2026-01-01, 2026-01-02)', -1)")
    text = migrate(empty_db, spec(tmp_path, "new"))  # adds the check NOT VALID: the -1 stays
    assert "ADD CONSTRAINT seq_positive CHECK (seq > 0) NOT VALID;" in text
    assert rows(empty_db, "SELECT seq FROM bookings") == [(-1,)]
    with pytest.raises(psycopg.errors.CheckViolation):
        live.apply_sql(empty_db, "INSERT INTO bookings (id, room_id, during, seq) "
                                 "VALUES (2, 1, '[2026-02-01, 2026-02-02)', 0)")


@pytest.mark.parametrize(("change", "expected"), [
    ("ALTER TABLE bookings ALTER CONSTRAINT bookings_room_fkey DEFERRABLE INITIALLY IMMEDIATE",
     "constraint public.bookings.bookings_room_fkey: deferrable initially deferred in spec, true in database"),
    ("ALTER TABLE rooms DROP CONSTRAINT rooms_code_key, ADD CONSTRAINT rooms_code_key UNIQUE (code)",
     "constraint public.rooms.rooms_code_key: deferrable true in spec, false in database"),
    ("ALTER TABLE notes DROP CONSTRAINT notes_pkey, ADD CONSTRAINT notes_pkey PRIMARY KEY (id) DEFERRABLE",
     "constraint public.notes.notes_pkey: deferrable false in spec, true in database"),
    ("ALTER TABLE bookings VALIDATE CONSTRAINT seq_positive",
     "constraint public.bookings.seq_positive: not_valid true in spec, false in database"),
    ("ALTER TABLE rooms DROP CONSTRAINT rooms_place_key, ADD CONSTRAINT rooms_place_key UNIQUE (floor, wing)",
     "constraint public.rooms.rooms_place_key: nulls_not_distinct true in spec, false in database"),
    ("ALTER TABLE bookings DROP CONSTRAINT no_overlap, ADD CONSTRAINT no_overlap EXCLUDE USING gist "
     "(room_id WITH =, during WITH &&)",
     "constraint public.bookings.no_overlap: WHERE differs: spec (not cancelled) database (none)"),
    ("ALTER TABLE bookings DROP CONSTRAINT no_overlap, ADD CONSTRAINT no_overlap EXCLUDE USING gist "
     "(room_id WITH =, during WITH &&) WHERE (not cancelled) DEFERRABLE",
     "constraint public.bookings.no_overlap: deferrable false in spec, true in database"),
    ("ALTER TABLE bookings DROP CONSTRAINT no_overlap, ADD CONSTRAINT no_overlap EXCLUDE USING gist "
     "(room_id WITH <>, during WITH &&) WHERE (not cancelled)",
     "constraint public.bookings.no_overlap: elements (room_id WITH =, during WITH &&) in spec, "
     "(room_id WITH <>, during WITH &&) in database"),
])
def test_a_changed_constraint_is_reported(empty_db: str, tmp_path: Path, change: str, expected: str) -> None:
    d = apply_base(empty_db, tmp_path)
    live.apply_sql(empty_db, change)
    assert [str(x) for x in verify(empty_db, check(load_spec(d)))] == [expected]


# -- plans -----------------------------------------------------------------------------------------------------------
PLAIN = edited(
    rooms={"unique": {"rooms_code_key": ["code"], "rooms_place_key": ["floor", "wing"]}},
    bookings={"foreign_keys": {"bookings_room_fkey": {"columns": ["room_id"], "references": "rooms(id)"}},
              "checks": {"seq_positive": "seq > 0"}, "excludes": None},
    notes={"foreign_keys": {"notes_room_fkey": {"columns": ["room_id"], "references": "rooms(id)"}}})


def test_plan_from_plain_constraints_keeps_the_rows(empty_db: str, tmp_path: Path) -> None:
    apply_base(empty_db, tmp_path, PLAIN)
    live.apply_sql(empty_db, "INSERT INTO rooms VALUES (1, 'a', 1, 'n'), (2, 'b', 1, 's'); "
                             "INSERT INTO bookings (id, room_id, during, seq) VALUES "
                             "(1, 1, '[2026-01-01, 2026-01-02)', 1), (2, 2, '[2026-01-01, 2026-01-02)', 2)")
    text = migrate(empty_db, spec(tmp_path, "new"))
    # a foreign key's deferral is altered in place; a unique key's is not alterable: dropped and added again
    assert "ALTER TABLE public.bookings ALTER CONSTRAINT bookings_room_fkey DEFERRABLE INITIALLY DEFERRED;" in text
    assert "ADD CONSTRAINT rooms_code_key UNIQUE (code) DEFERRABLE;" in text
    assert "ADD CONSTRAINT no_overlap EXCLUDE USING gist (room_id WITH =, during WITH &&) WHERE (not cancelled);" \
        in text
    assert "ADD CONSTRAINT notes_booking_fkey FOREIGN KEY (booking_id) REFERENCES public.bookings (id) DEFERRABLE " \
           "NOT VALID;" in text
    assert rows(empty_db, "SELECT count(*) FROM bookings") == [(2,)]
    assert flags(empty_db, "bookings_room_fkey") == ("f", True, True, True)
    # and back: NOT VALID dropped from the spec is VALIDATE CONSTRAINT, the rest as before
    back = copy.deepcopy(BASE)
    back["tables"]["bookings"]["checks"]["seq_positive"] = "seq > 0"
    back["tables"]["notes"]["foreign_keys"]["notes_booking_fkey"]["not_valid"] = False
    text = migrate(empty_db, spec(tmp_path, "back", back))
    assert "ALTER TABLE public.bookings VALIDATE CONSTRAINT seq_positive;" in text
    assert "ALTER TABLE public.notes VALIDATE CONSTRAINT notes_booking_fkey;" in text
    assert "DROP CONSTRAINT seq_positive" not in text
    assert flags(empty_db, "seq_positive") == ("c", False, False, True)
    text = migrate(empty_db, spec(tmp_path, "plain", PLAIN))
    assert "ALTER TABLE public.bookings ALTER CONSTRAINT bookings_room_fkey NOT DEFERRABLE;" in text
    assert "DROP CONSTRAINT no_overlap" in text


def test_plan_renames_an_exclusion_constraint(empty_db: str, tmp_path: Path) -> None:
    apply_base(empty_db, tmp_path)
    body = copy.deepcopy(BASE)
    excludes = body["tables"]["bookings"]["excludes"]
    excludes["no_double_booking"] = {**excludes.pop("no_overlap"), "renamed_from": "no_overlap"}
    text = migrate(empty_db, spec(tmp_path, "new", body))
    assert "ALTER TABLE public.bookings RENAME CONSTRAINT no_overlap TO no_double_booking;" in text
    assert "DROP CONSTRAINT" not in text


def test_plan_makes_a_deferrable_primary_key_immediate_again(empty_db: str, tmp_path: Path) -> None:
    """The spec's primary key takes no options: a DEFERRABLE one in the database is drift, which a plan mends."""
    d = apply_base(empty_db, tmp_path)
    live.apply_sql(empty_db, "INSERT INTO notes VALUES (1); ALTER TABLE notes DROP CONSTRAINT notes_pkey, "
                             "ADD CONSTRAINT notes_pkey PRIMARY KEY (id) DEFERRABLE")
    migrate(empty_db, d)
    assert flags(empty_db, "notes_pkey") == ("p", False, False, True)
    assert rows(empty_db, "SELECT id FROM notes") == [(1,)]


def test_a_spec_to_spec_plan_follows_a_renamed_column_into_an_exclusion(tmp_path: Path) -> None:
    """`renamed_from` on a column: PostgreSQL renames it in the exclusion constraint too, so does the plan's
    snapshot of the old spec (nothing to drop and add)."""
    body = copy.deepcopy(BASE)
    columns = body["tables"]["bookings"]["columns"]
    body["tables"]["bookings"]["columns"] = {("slot" if k == "during" else k): v for k, v in columns.items()}
    body["tables"]["bookings"]["columns"]["slot"] = {"type": "tsrange", "not_null": True, "renamed_from": "during"}
    body["tables"]["bookings"]["excludes"]["no_overlap"]["elements"] = {"room_id": "=", "slot": "&&"}
    old, new = check(load_spec(spec(tmp_path, "old"))), check(load_spec(spec(tmp_path, "new", body)))
    text = "\n".join(r.sql for r in rendered(plan(new, of_spec(old))))
    assert "RENAME COLUMN during TO slot" in text
    assert "no_overlap" not in text
