"""The statements of a PL/pgSQL body analysed by the server without plpgsql_check (generator/plpgsql_probe.py).

The oracle is PostgreSQL: each probe is PREPAREd on a database holding the tables the bodies use, and must be
refused exactly on the lines where a name is wrong (written into the bodies below, found by their text), accepted
everywhere else. What the probe leaves out by design (a `record` variable's fields, a temporary table the body
creates, dynamic SQL) must be left out, not reported.
"""

from __future__ import annotations

import psycopg
import pytest

from generator import live
from generator.plpgsql_probe import Arg, probes
from generator.sqlparse import function_probe

pytestmark = pytest.mark.live

TABLES = """
CREATE SCHEMA app;
CREATE TYPE app.mood AS ENUM ('calm', 'busy');
CREATE TABLE app.items (id integer PRIMARY KEY, price integer, label text, mood app.mood);
"""

VALID = """\
DECLARE
  v_total numeric(10,2) := 0;
  v_item app.items%ROWTYPE;
  v_price app.items.price%TYPE;
  v_mood app.mood := 'calm';
  v_names text[];
  r record;
  i integer;
BEGIN
  SELECT * INTO v_item FROM app.items WHERE items.id = $2;
  v_price := v_item.price + 1;
  FOR r IN SELECT items.id, items.price FROM app.items LOOP
    PERFORM v_total + r.price;
  END LOOP;
  FOR i IN 1..p_limit LOOP
    v_names := array_append(v_names, i::text);
  END LOOP;
  CREATE TEMP TABLE scratch (n integer) ON COMMIT DROP;
  INSERT INTO scratch VALUES (1);
  EXECUTE format('SELECT count(*) FROM %I.%I', 'app', 'items');
  IF NOT FOUND THEN
    RAISE NOTICE 'none: % %', v_total, v_mood;
  END IF;
  RETURN QUERY SELECT items.id, items.label FROM app.items WHERE items.price > v_price AND items.mood = v_mood;
END"""

WRONG = """\
DECLARE
  v_count integer;
BEGIN
  SELECT count(*) INTO v_count FROM app.itemz;
  UPDATE app.items SET price = price + 1 WHERE mood = 'sleepy';
  NEW.prise := 1;
  PERFORM app.no_such_function(NEW.id);
  IF NEW.label = 'x' THEN
    RETURN NULL;
  END IF;
  RETURN NEW;
END"""


def line_of(body: str, text: str) -> int:
    return next(n for n, line in enumerate(body.splitlines(), 1) if text in line)


def refused(dsn: str, sql: str) -> str | None:
    with psycopg.connect(dsn) as conn:
        try:
            conn.execute(f"PREPARE probe AS {sql}")
        except psycopg.Error as exc:
            return exc.diag.message_primary
    return None


def test_valid_code_is_analysed_and_accepted(empty_db: str) -> None:
    live.apply_sql(empty_db, TABLES)
    args = (Arg("p_customer", "uuid", "in"), Arg("p_limit", "integer", "in"))
    create = function_probe("app.stats", "p_customer uuid, p_limit integer",
                            "table(item_id integer, item_label text)", "plpgsql", VALID)
    found = probes(create, VALID, args, None)
    assert [(p.line, refused(empty_db, p.sql)) for p in found if refused(empty_db, p.sql)] == []
    lines = {p.line for p in found}
    for analysed in ("SELECT * INTO v_item", "v_price := v_item.price", "v_names := array_append",
                     "EXECUTE format", "RETURN QUERY", "FOR r IN SELECT"):
        assert line_of(VALID, analysed) in lines, analysed
    for left_out in ("PERFORM v_total + r.price", "INSERT INTO scratch", "CREATE TEMP TABLE"):
        assert line_of(VALID, left_out) not in lines, left_out


def test_each_wrong_name_is_refused_on_its_line(empty_db: str) -> None:
    live.apply_sql(empty_db, TABLES)
    create = function_probe("app.touch", "", "trigger", "plpgsql", WRONG)
    found = probes(create, WRONG, (), "app.items")
    verdicts = {(p.line, refused(empty_db, p.sql)) for p in found}
    wrong = {line for line, said in verdicts if said is not None}
    assert wrong == {line_of(WRONG, text) for text in ("app.itemz", "'sleepy'", "NEW.prise", "no_such_function")}
    assert (line_of(WRONG, "app.itemz"), 'relation "app.itemz" does not exist') in verdicts
    assert (line_of(WRONG, "NEW.label"), None) in verdicts  # NEW is the row of app.items: label exists
    # Without the table whose trigger calls it, NEW has no shape: its statements are left out, the rest analysed.
    alone = {p.line for p in probes(create, WRONG, (), None)}
    assert line_of(WRONG, "NEW.label") not in alone and line_of(WRONG, "app.itemz") in alone


def test_a_body_that_changes_name_resolution_is_left_alone() -> None:
    body = "#variable_conflict use_column\nBEGIN\n  RETURN (SELECT count(*) FROM app.itemz);\nEND"
    assert probes(function_probe("app.f", "", "bigint", "plpgsql", body), body, (), None) == ()
