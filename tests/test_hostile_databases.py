"""Hostile databases (issue 10 point 4): `import`, `verify --db`, `lint --db` and `plan --db` on databases that a
spec author did not write: names that need quoting everywhere, many objects, a role that cannot read the catalog.
Each gives correct output or a clear error with exit 2, never a traceback.

The odd-names database round-trips like the import cases (test_import's round trip: import, generate, apply to a
fresh database, `verify` finds no drift, pg_dump of both equal), so `verify` is proven on every quoted name."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from conftest import OUTPUT
from test_import import CASES, _drop_databases, fresh_database, round_trip, run  # noqa: F401 - fixture reused

from generator import live
from generator.load import load_spec

ODD = (CASES / "odd_names.sql").read_text(encoding="utf-8")

pytestmark = pytest.mark.live


def test_odd_names_round_trip(pg_server: live.Server, tmp_path: Path, capsys: Any) -> None:
    spec = round_trip(pg_server, ODD, tmp_path, capsys, "odd names")
    text = "\n".join(p.read_text(encoding="utf-8") for p in sorted(spec.iterdir()))
    for name in ('Odd Schema', 'we"ird table', "Ünïcode", "Readers' \"view\" ☺", "touch$", "Seq $ ünï"):
        assert name in text, f"{name!r} missing from the imported spec"


def test_odd_names_lint_and_plan(pg_server: live.Server, tmp_path: Path, capsys: Any) -> None:
    source = fresh_database(pg_server, ODD)
    code, out, err = run(["import", "--db", source, "--out", str(tmp_path / "spec")], capsys)
    assert code == 0, err
    code, out, err = run(["lint", "--db", source], capsys)
    # One finding (the foreign key without an index), naming the table as it is and its fix in SQL's spelling.
    assert code == 0 and "Traceback" not in err, err
    findings = [line for line in out.splitlines() if "unindexed_foreign_keys" in line]
    assert len(findings) == 1 and findings[0].startswith('Odd Schema.Grand "Child": '), out
    assert findings[0].endswith('(add an index on ("child id"))'), out
    # The database is what the spec says: the plan is empty.
    code, out, err = run(["plan", "--spec", str(tmp_path / "spec"), "--db", source], capsys)
    assert code == 0, err
    assert not [line for line in out.splitlines() if line.strip() and not line.startswith("--")], out
    # From an empty database, the plan creates it all; applied, the database verifies clean.
    empty = fresh_database(pg_server)
    code, out, err = run(["apply", "--spec", str(tmp_path / "spec"), "--db", empty], capsys)
    assert code == 0, err
    code, out, err = run(["verify", "--spec", str(tmp_path / "spec"), "--db", empty], capsys)
    assert (code, out.strip()) == (0, "no drift"), out + err


def test_index_definitions_read_by_shape_are_read_as_written(pg_server: live.Server) -> None:
    """The reader parses each index definition with its two names taken out (one parse per shape, shared between
    tables): on quoted names that hold ` ON ` and quotes, and on every kind of key, the shape must be found and
    read the same as the whole definition."""
    from generator import introspect

    every_kind = (CASES / "every_kind.sql").read_text(encoding="utf-8")
    odd_on = ('CREATE SCHEMA "x ON y";\nCREATE TABLE "x ON y"."t USING btree (a)" ("ON" int, b text);\n'
              'CREATE UNIQUE INDEX "i ON x ON y.t USING" ON "x ON y"."t USING btree (a)" ("ON", lower(b));\n')
    for sql in (ODD, every_kind, odd_on):
        dsn = fresh_database(pg_server, sql)
        with introspect.connect(dsn) as conn:
            rows = conn.execute(introspect.query("indexes"), {"oids": [r[0] for r in conn.execute(
                "SELECT oid FROM pg_class WHERE relkind IN ('r', 'p', 'm') AND relnamespace::regnamespace::text "
                "NOT IN ('pg_catalog', 'information_schema', 'pg_toast')")]}).fetchall()
        assert rows
        for row in rows:
            definition, printed_name, printed_table = row[2], row[6], row[7]
            shape = introspect._index_shape(definition, printed_name, printed_table)
            assert re.match(r"CREATE (UNIQUE )?INDEX i ON (ONLY )?t USING ", shape), shape
            assert introspect._index_parts(shape) == introspect._index_parts(definition), definition


# -- many objects ----------------------------------------------------------------------------------------------------
TABLES = 1000
# Per table: the table, 4 columns, a primary key, a foreign key, a CHECK, an index, a trigger and a policy (11 objects
# a spec names), so 11,000 objects in one schema. Built by the server in a loop: a script of 5,000 statements would
# cost more to send than to run.
MANY = f"""
CREATE SCHEMA bulk;
CREATE FUNCTION bulk.touch() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN NEW.updated_at := now(); RETURN NEW; END$$;
DO $$
BEGIN
  FOR i IN 1..{TABLES} LOOP
    EXECUTE format('CREATE TABLE bulk.t%s (id bigint PRIMARY KEY, parent bigint REFERENCES bulk.t%s (id), '
                   'qty integer NOT NULL DEFAULT 0 CONSTRAINT t%s_qty_check CHECK (qty >= 0), '
                   'updated_at timestamptz)', i, greatest(i - 1, 1), i);
    EXECUTE format('CREATE INDEX t%s_parent_idx ON bulk.t%s (parent)', i, i);
    EXECUTE format('CREATE TRIGGER t%s_touch BEFORE UPDATE ON bulk.t%s FOR EACH ROW EXECUTE FUNCTION bulk.touch()',
                   i, i);
    EXECUTE format('ALTER TABLE bulk.t%s ENABLE ROW LEVEL SECURITY', i);
    EXECUTE format('CREATE POLICY t%s_read ON bulk.t%s FOR SELECT TO PUBLIC USING (qty > 0)', i, i);
  END LOOP;
END $$;
"""


def catalog_counts(dsn: str) -> dict[str, int]:
    """What PostgreSQL holds in schema bulk, counted from its catalog (the oracle for what import must write)."""
    with psycopg.connect(dsn) as conn:
        row = conn.execute("""
            SELECT (SELECT count(*) FROM pg_class WHERE relnamespace = 'bulk'::regnamespace AND relkind = 'r'),
                   (SELECT count(*) FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
                     WHERE c.relnamespace = 'bulk'::regnamespace AND c.relkind = 'r' AND a.attnum > 0
                       AND NOT a.attisdropped),
                   (SELECT count(*) FROM pg_constraint WHERE connamespace = 'bulk'::regnamespace
                     AND contype IN ('p', 'f', 'c')),
                   (SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
                     WHERE c.relnamespace = 'bulk'::regnamespace AND NOT i.indisprimary),
                   (SELECT count(*) FROM pg_trigger WHERE NOT tgisinternal),
                   (SELECT count(*) FROM pg_policy)""").fetchone()
    assert row is not None
    return dict(zip(("tables", "columns", "constraints", "indexes", "triggers", "policies"), row, strict=True))


def spec_counts(spec: Path) -> dict[str, int]:
    tables = [t for m in load_spec(spec).modules for t in m.tables]
    return {"tables": len(tables), "columns": sum(len(t.columns) for t in tables),
            "constraints": sum((t.primary_key is not None) + len(t.foreign_keys) + len(t.checks)
                               + sum(c.primary_key + bool(c.references) for c in t.columns) for t in tables),
            "indexes": sum(len(t.indexes) for t in tables), "triggers": sum(len(t.triggers) for t in tables),
            "policies": sum(len(t.policies) for t in tables)}


def test_ten_thousand_objects(pg_server: live.Server, tmp_path: Path, capsys: Any) -> None:
    source = fresh_database(pg_server, MANY)
    held = catalog_counts(source)
    assert held["tables"] == TABLES and sum(held.values()) >= 10_000, held
    code, out, err = run(["import", "--db", source, "--out", str(tmp_path / "spec")], capsys)
    assert code == 0, err
    assert spec_counts(tmp_path / "spec") == held
    code, out, err = run(["lint", "--db", source], capsys)
    assert code == 0 and "Traceback" not in err, err
    # Every table: the foreign key `parent` has its index, the policy reads `qty` which has none.
    assert not [line for line in out.splitlines() if "unindexed_foreign_keys" in line], out
    code, out, err = run(["verify", "--spec", str(tmp_path / "spec"), "--db", source], capsys)
    assert (code, out.strip()) == (0, "no drift"), out + err
    code, out, err = run(["plan", "--spec", str(tmp_path / "spec"), "--db", source], capsys)
    assert code == 0 and "0 changes" in err, out + err
    # One change among 11,000 objects is found, and only it.
    live.apply_sql(source, "DROP POLICY t777_read ON bulk.t777; DROP INDEX bulk.t500_parent_idx")
    code, out, err = run(["verify", "--spec", str(tmp_path / "spec"), "--db", source], capsys)
    drift = [line for line in out.splitlines() if line.strip()]
    assert code == 1 and len(drift) == 2, out + err
    assert any("t777_read" in line for line in drift) and any("t500_parent_idx" in line for line in drift), out


# -- a role that cannot read ---------------------------------------------------------------------------------------
@pytest.fixture
def reader(pg_server: live.Server) -> Iterator[str]:
    """A login role with no privilege beyond what PUBLIC has (CONNECT, the catalog), dropped afterwards."""
    name = f"pgspec_reader_{os.getpid()}"
    admin = pg_server.dsn("postgres")
    live.apply_sql(admin, f"DROP ROLE IF EXISTS {name}; CREATE ROLE {name} LOGIN")
    yield name
    live.apply_sql(admin, f"DROP ROLE {name}")


def as_role(dsn: str, role: str) -> str:
    return psycopg.conninfo.make_conninfo(dsn, user=role)


def test_a_role_without_privileges_reads_the_catalog_and_cannot_change(
        pg_server: live.Server, reader: str, tmp_path: Path, capsys: Any) -> None:
    db = fresh_database(pg_server, (OUTPUT / "schema.sql").read_text(encoding="utf-8"))
    mine = as_role(db, reader)
    # The catalog is readable by every role: verify and import work; no table is read.
    code, out, err = run(["verify", "--db", mine], capsys)
    assert (code, out.strip()) == (0, "no drift"), out + err
    code, out, err = run(["import", "--db", mine, "--out", str(tmp_path / "spec")], capsys)
    assert code == 0, err
    # Planning reads the tool's record of seed rows (schema pgspec), which this role may not: a clear error.
    code, out, err = run(["plan", "--db", mine], capsys)
    assert code == 2 and "cannot read the database: permission denied for schema pgspec" in err, err
    assert "Traceback" not in err


@pytest.mark.parametrize("command", ["verify", "lint", "plan", "apply", "import"])
def test_a_role_that_cannot_read_the_catalog_gets_a_clear_error(
        pg_server: live.Server, reader: str, tmp_path: Path, capsys: Any, command: str) -> None:
    db = fresh_database(pg_server, (OUTPUT / "schema.sql").read_text(encoding="utf-8"))
    # Catalog privileges are per database; a hardened server may take them from PUBLIC.
    live.apply_sql(db, "REVOKE SELECT ON pg_catalog.pg_class, pg_catalog.pg_proc FROM PUBLIC")
    argv = [command, "--db", as_role(db, reader)] + (["--out", str(tmp_path / "spec")] if command == "import" else [])
    code, out, err = run(argv, capsys)
    assert code == 2, out + err
    assert "cannot read the database: permission denied for table pg_" in err, err
    assert "Traceback" not in err and not (tmp_path / "spec").exists()
