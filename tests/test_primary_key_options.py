"""Primary key options (`primary_key: {columns: [...], name: ..., deferrable: ...}`) through every stage.

Expectations come from PostgreSQL: pg_constraint holds the key's name and its DEFERRABLE / INITIALLY DEFERRED
flags; ALTER TABLE ... RENAME leaves the key's name as it was (so an existing database often has a key named after
a former table name); a deferred key lets one transaction pass through duplicate keys as long as none is left at
commit; and no foreign key may reference a deferrable key.
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
from generator.order import order
from generator.pipeline import build
from generator.sqltext import QName
from generator.verify import verify_sql

BASE: dict[str, Any] = {
    "module": "Keys",
    "tables": {
        "slots": {
            "columns": {"pos": {"type": "integer"}, "label": {"type": "text", "not_null": True}},
            "primary_key": {"columns": ["pos"], "name": "positions_pk", "deferrable": "initially deferred"},
        },
        "pairs": {"columns": {"a": "integer", "b": "integer"}, "primary_key": ["a", "b"]},
    },
}


def spec(tmp_path: Path, name: str, body: dict[str, Any]) -> Path:
    return write_spec(tmp_path / name, {"01-base.yaml": body})


def with_key(table: str, key: Any, body: dict[str, Any] = BASE) -> dict[str, Any]:
    out = copy.deepcopy(body)
    out["tables"][table]["primary_key"] = key
    return out


def errors(tmp_path: Path, body: dict[str, Any]) -> str:
    with pytest.raises(SpecError) as refused:
        check(load_spec(spec(tmp_path, "bad", body)))
    return str(refused.value)


def pg_key(dsn: str, table: str) -> tuple[Any, ...]:
    with psycopg.connect(dsn) as conn:
        return conn.execute("SELECT conname, condeferrable, condeferred FROM pg_constraint "
                            "WHERE contype = 'p' AND conrelid = %s::regclass", (table,)).fetchone() or ()


def test_a_list_is_still_the_columns(tmp_path: Path) -> None:
    catalog = check(load_spec(spec(tmp_path, "s", BASE)))
    [pk] = [c for c in catalog.constraints(catalog.tables[QName("public", "pairs")]) if c.kind == "primary key"]
    assert (pk.name, pk.columns, pk.deferrable) == ("pairs_pkey", ("a", "b"), False)


@pytest.mark.parametrize(("body", "expected"), [
    (with_key("slots", {"name": "x_pk"}), "columns"),
    (with_key("slots", {"columns": ["nope"]}), "nope"),
    (with_key("slots", {"columns": ["pos"], "deferrable": "later"}), "deferrable"),
    (with_key("slots", {"columns": ["pos"], "name": "slots_label_key"}, {
        **BASE, "tables": {**BASE["tables"], "slots": {**BASE["tables"]["slots"], "unique": {
            "slots_label_key": ["label"]}}}}), "slots_label_key"),
])
def test_mistakes_are_refused_at_their_position(tmp_path: Path, body: dict[str, Any], expected: str) -> None:
    message = errors(tmp_path, body)
    assert "01-base.yaml:" in message and expected in message


def test_a_foreign_key_to_a_deferrable_primary_key_is_refused(tmp_path: Path) -> None:
    body = copy.deepcopy(BASE)
    body["tables"]["uses"] = {"columns": {"pos": {"type": "integer", "references": "slots(pos)"}}}
    assert "is the DEFERRABLE primary key constraint positions_pk: PostgreSQL refuses" in errors(tmp_path, body)


def test_rendered_with_its_name_and_deferral(tmp_path: Path) -> None:
    text = sql_of(build(spec(tmp_path, "s", BASE)).files, "schema.sql")
    assert "CONSTRAINT positions_pk PRIMARY KEY (pos) DEFERRABLE INITIALLY DEFERRED" in text
    assert "CONSTRAINT pairs_pkey PRIMARY KEY (a, b)" in text


@pytest.mark.parametrize(("old", "new"), [
    ("PRIMARY KEY (pos) DEFERRABLE INITIALLY DEFERRED", "PRIMARY KEY (pos) DEFERRABLE"),
    ("CONSTRAINT positions_pk PRIMARY KEY", "CONSTRAINT slots_pkey PRIMARY KEY"),
])
def test_verify_reports_an_option_the_sql_lost(tmp_path: Path, old: str, new: str) -> None:
    b = build(spec(tmp_path, "s", BASE))
    text = sql_of(b.files, "schema.sql")
    assert old in text
    mismatch = verify_sql("schema.sql", text.replace(old, new, 1), order(b.catalog), b.catalog)
    assert mismatch is not None and mismatch.missing


def test_applies_as_declared_and_a_deferred_key_waits_for_the_commit(empty_db: str, tmp_path: Path) -> None:
    d = spec(tmp_path, "s", BASE)
    live.apply_sql(empty_db, sql_of(build(d).files, "schema.sql"))
    assert pg_key(empty_db, "slots") == ("positions_pk", True, True)
    assert pg_key(empty_db, "pairs") == ("pairs_pkey", False, False)
    assert [str(x) for x in verify(empty_db, check(load_spec(d)))] == []
    # swapping two keys passes through a duplicate: fine when the check waits for the commit
    live.apply_sql(empty_db, "INSERT INTO slots VALUES (1, 'a'), (2, 'b'); "
                             "UPDATE slots SET pos = 2 WHERE label = 'a'; UPDATE slots SET pos = 1 WHERE label = 'b'")
    with pytest.raises(psycopg.errors.UniqueViolation):
        live.apply_sql(empty_db, "INSERT INTO slots VALUES (1, 'c')")


@pytest.mark.parametrize(("change", "expected"), [
    ("ALTER TABLE slots RENAME CONSTRAINT positions_pk TO slots_pkey",
     ["constraint public.slots.positions_pk: missing in database",
      "constraint public.slots.slots_pkey: in database, not in spec"]),
    ("ALTER TABLE slots DROP CONSTRAINT positions_pk, ADD CONSTRAINT positions_pk PRIMARY KEY (pos)",
     ["constraint public.slots.positions_pk: deferrable initially deferred in spec, false in database"]),
])
def test_a_changed_key_is_drift(empty_db: str, tmp_path: Path, change: str, expected: list[str]) -> None:
    assert drift_after(empty_db, spec(tmp_path, "s", BASE), change) == expected


def test_plan_renames_a_key_and_changes_its_deferral(empty_db: str, tmp_path: Path) -> None:
    old = with_key("slots", ["pos"])
    live.apply_sql(empty_db, sql_of(build(spec(tmp_path, "old", old)).files, "schema.sql"))
    live.apply_sql(empty_db, "INSERT INTO slots VALUES (1, 'kept')")
    new = with_key("slots", {"columns": ["pos"], "name": "positions_pk", "renamed_from": "slots_pkey",
                             "deferrable": "initially deferred"})
    text = migrate(empty_db, spec(tmp_path, "new", new))  # applies; then no drift and nothing left to plan
    # the deferral needs a DROP and an ADD: the old key is dropped by its old name, not renamed first
    assert "RENAME" not in text and "DROP CONSTRAINT slots_pkey;" in text
    assert pg_key(empty_db, "slots") == ("positions_pk", True, True)
    with psycopg.connect(empty_db) as conn:
        assert conn.execute("SELECT pos, label FROM slots").fetchall() == [(1, "kept")]
