"""Procedures (`procedures:`, CREATE PROCEDURE), through every stage: decode and check, render, verify, the
database read back (pg_proc.prokind 'p'), drift, plans, and the live behaviour: CALL runs it, OUT and INOUT
arguments come back, EXECUTE is enforced, a procedure may COMMIT.

Expectations come from PostgreSQL's documented behaviour of procedures (CALL, transaction control, GRANT ... ON
PROCEDURE), not from the tool's output.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import psycopg
import pytest
from specs import assert_verify_reports, check_errors, drift_after, migrate, sql_of, write_spec

from generator import judge, live
from generator.check import check
from generator.diagnostics import SpecError
from generator.drift import verify
from generator.lint import lint
from generator.load import load_spec
from generator.pipeline import build

BASE: dict[str, Any] = {
    "module": "Procedures",
    "roles": {"proc_caller": {}, "proc_owner": {}},
    "schemas": {"app": {"grants": {"proc_caller": ["usage"], "proc_owner": ["usage"]}}},
    "tables": {"app.events": {"columns": {"id": {"type": "integer", "primary_key": True},
                                          "label": {"type": "text", "not_null": True}},
                              "grants": {"proc_owner": ["select", "insert", "delete"]}}},
    "procedures": {
        "app.record_event": {
            "args": {"p_id": "integer", "p_label": "text", "total": {"type": "integer", "mode": "out"}},
            "security": "definer", "search_path": "",
            "body": "BEGIN\n  INSERT INTO app.events (id, label) VALUES (p_id, p_label);\n"
                    "  SELECT count(*) INTO total FROM app.events;\nEND;",
            "owner": "proc_owner", "grants": {"proc_caller": ["execute"]}, "comment": "Records one event.",
        },
        "app.bump": {
            "args": {"n": {"type": "integer", "mode": "inout"}}, "language": "sql",
            "body": "SELECT n + 1",
        },
        "app.batch": {
            "args": {"p_from": "integer", "p_to": "integer"},
            "body": "BEGIN\n  FOR i IN p_from..p_to LOOP\n    INSERT INTO app.events (id, label) VALUES (i, 'batch');\n"
                    "    COMMIT;\n  END LOOP;\nEND;",
        },
    },
}


def spec(tmp_path: Path, body: dict[str, Any], name: str = "s") -> Path:
    return write_spec(tmp_path / name, {"01-base.yaml": body})


def rows(dsn: str, query: str) -> list[tuple[Any, ...]]:
    """What the statement returns (CALL returns a row only for OUT and INOUT arguments), run outside a transaction
    block (a procedure's COMMIT needs that)."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        cur = conn.execute(query.encode())
        return cur.fetchall() if cur.description else []


# -- render ----------------------------------------------------------------------------------------------------------
def test_rendered_as_create_procedure_named_as_a_procedure(tmp_path: Path) -> None:
    text = sql_of(build(spec(tmp_path, BASE)).files, "schema.sql")
    assert ("CREATE PROCEDURE app.record_event(p_id integer, p_label text, OUT total integer)\n"
            "    LANGUAGE plpgsql\n    SECURITY DEFINER\n    SET search_path = ''\nAS $function$") in text
    assert "RETURNS" not in text.split("CREATE PROCEDURE app.record_event")[1].split("$function$")[0]
    # GRANT, COMMENT and ALTER ... OWNER name it PROCEDURE (PostgreSQL refuses FUNCTION for a procedure), by its
    # identity: the IN and INOUT argument types
    assert "GRANT EXECUTE ON PROCEDURE app.record_event(integer, text) TO proc_caller;" in text
    assert "COMMENT ON PROCEDURE app.record_event(integer, text) IS 'Records one event.';" in text
    assert "ALTER PROCEDURE app.record_event(integer, text) OWNER TO proc_owner;" in text
    assert "REVOKE ALL ON PROCEDURE app.bump(integer) FROM PUBLIC" in text


# -- verify: a clause the SQL lost is reported -----------------------------------------------------------------------
def test_verify_reports_a_lost_clause(tmp_path: Path) -> None:
    assert_verify_reports(spec(tmp_path, BASE), "    SECURITY DEFINER\n    SET search_path = ''",
                          "    SECURITY INVOKER\n    SET search_path = ''", "procedure app.record_event(integer, text)")


# -- decode and check ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("edit", "message"), [
    (lambda s: s["procedures"]["app.bump"].update(returns="integer"),
     "procedure 'app.bump': unknown key 'returns'"),
    (lambda s: s["procedures"]["app.bump"].update(volatility="stable"),
     "procedure 'app.bump': unknown key 'volatility'"),
    (lambda s: s.setdefault("functions", {}).update({"app.bump": {
        "args": {"m": "integer"}, "returns": "integer", "language": "sql", "body": "SELECT m"}}),
     "duplicate procedure (same name and argument types) 'app.bump(integer)'"),
    (lambda s: s["tables"]["app.events"].update(triggers={"t": {"timing": "before", "events": ["insert"],
                                                                "function": "app.bump"}}),
     "app.bump is a procedure, not a trigger function"),
    (lambda s: s["procedures"].update({"app.bump(text)": {"args": {"n": "integer"}, "language": "sql",
                                                          "body": "SELECT 1"}}),
     "procedure key bump(text) does not match its arguments"),
])
def test_mistakes_are_refused_at_their_position(tmp_path: Path, edit: Any, message: str) -> None:
    body = copy.deepcopy(BASE)
    edit(body)
    try:
        errors = check_errors(spec(tmp_path, body))
    except pytest.fail.Exception:
        raise
    assert any(message in e and "01-base.yaml:" in e for e in errors), errors


def test_a_procedure_body_is_parsed_and_its_names_judged(tmp_path: Path, judge_dsn: str) -> None:
    """A body that does not parse is refused; a misspelt table in a PL/pgSQL body is found as in a function's."""
    body = copy.deepcopy(BASE)
    body["procedures"]["app.bump"]["body"] = "SELEC n + 1"
    assert any("body of app.bump does not parse" in e for e in check_errors(spec(tmp_path, body)))
    body = copy.deepcopy(BASE)
    body["procedures"]["app.batch"]["body"] = body["procedures"]["app.batch"]["body"].replace("app.events",
                                                                                              "app.eventz")
    b = build(spec(tmp_path, body, "names"))
    try:
        verdict = judge.judge(b.catalog, b.placed, judge_dsn, b.pieces)
    except SpecError as exc:  # with plpgsql_check (PostgreSQL 15 in CI) it is an error
        assert any("app.eventz" in str(d) for d in exc.diagnostics)
        return
    said = [str(w) for w in verdict.warnings] + [str(e) for e in verdict.errors]
    assert any('relation "app.eventz" does not exist' in w for w in said), said


# -- live ------------------------------------------------------------------------------------------------------------
def test_call_runs_it_and_execute_is_enforced(tmp_path: Path, empty_db: str) -> None:
    spec_dir = spec(tmp_path, BASE)
    live.apply_sql(empty_db, sql_of(build(spec_dir).files, "schema.sql"))
    assert rows(empty_db, "SELECT prokind::text, proargtypes::regtype[]::text[] FROM pg_proc "
                          "WHERE oid = 'app.record_event(integer, text)'::regprocedure") == [("p", ["integer", "text"])]
    # OUT comes back from CALL (NULL passed for it); INOUT too
    assert rows(empty_db, "CALL app.record_event(1, 'first', NULL)") == [(1,)]
    assert rows(empty_db, "CALL app.bump(41)") == [(42,)]
    # a procedure CALLed outside a transaction block may COMMIT
    rows(empty_db, "CALL app.batch(10, 12)")
    assert rows(empty_db, "SELECT count(*) FROM app.events") == [(4,)]
    with psycopg.connect(empty_db, autocommit=True) as conn:
        conn.execute("SET ROLE proc_caller")
        assert conn.execute("CALL app.record_event(2, 'as caller', NULL)").fetchall() == [(5,)]  # definer's rights
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="permission denied for procedure bump"):
            conn.execute("CALL app.bump(1)")
    assert [str(d) for d in verify(empty_db, check(load_spec(spec_dir)))] == []


@pytest.mark.parametrize(("change", "expected"), [
    ("DROP PROCEDURE app.bump(integer)", ["procedure app.bump(integer): missing in database"]),
    ("CREATE PROCEDURE app.bump(a text) LANGUAGE sql AS 'SELECT 1'; REVOKE ALL ON PROCEDURE app.bump(text) "
     "FROM PUBLIC", ["procedure app.bump(text): in database, not in spec"]),
    ("CREATE OR REPLACE PROCEDURE app.bump(INOUT n integer) LANGUAGE sql AS 'SELECT n + 2'",
     ["procedure app.bump(integer): body differs at line 1: spec 'SELECT n + 1' database 'SELECT n + 2'"]),
    ("ALTER PROCEDURE app.record_event(integer, text) SECURITY INVOKER",
     ["procedure app.record_event(integer, text): security definer in spec, invoker in database"]),
    ("ALTER PROCEDURE app.record_event(integer, text) RESET search_path",
     ["procedure app.record_event(integer, text): search_path '' in spec, none in database"]),
    ("GRANT EXECUTE ON PROCEDURE app.bump(integer) TO proc_caller",
     ["grant EXECUTE on procedure app.bump(integer) to proc_caller: in database, not in spec"]),
    ("COMMENT ON PROCEDURE app.bump(integer) IS 'x'",
     ["procedure app.bump(integer): comment none in spec, 'x' in database"]),
])
def test_drift(tmp_path: Path, empty_db: str, change: str, expected: list[str]) -> None:
    assert drift_after(empty_db, spec(tmp_path, BASE), change) == expected


# -- plans -----------------------------------------------------------------------------------------------------------
def test_plan_creates_replaces_and_drops_a_procedure(tmp_path: Path, empty_db: str) -> None:
    old = copy.deepcopy(BASE)
    del old["procedures"]["app.bump"]
    live.apply_sql(empty_db, sql_of(build(spec(tmp_path, old, "old")).files, "schema.sql"))
    rows(empty_db, "CALL app.record_event(1, 'kept', NULL)")
    script = migrate(empty_db, spec(tmp_path, BASE, "new"))
    assert "CREATE PROCEDURE app.bump(INOUT n integer)" in script
    new = copy.deepcopy(BASE)
    new["procedures"]["app.bump"]["body"] = "SELECT n + 10"
    new["procedures"]["app.bump"]["comment"] = "Adds ten."
    script = migrate(empty_db, spec(tmp_path, new, "changed"))
    assert "CREATE OR REPLACE PROCEDURE app.bump(INOUT n integer)" in script
    assert "COMMENT ON PROCEDURE app.bump(integer) IS 'Adds ten.';" in script
    assert rows(empty_db, "CALL app.bump(1)") == [(11,)]
    script = migrate(empty_db, spec(tmp_path, old, "back"))
    assert "DROP PROCEDURE app.bump(integer);" in script
    assert rows(empty_db, "SELECT count(*) FROM app.events") == [(1,)]  # data kept throughout


def test_a_function_that_becomes_a_procedure_is_replaced(tmp_path: Path, empty_db: str) -> None:
    """PostgreSQL cannot turn a function into a procedure in place: DROP FUNCTION, then CREATE PROCEDURE."""
    old = copy.deepcopy(BASE)
    old["functions"] = {"app.bump": {"args": {"n": "integer"}, "returns": "integer", "language": "sql",
                                     "body": "SELECT n + 1"}}
    del old["procedures"]["app.bump"]
    live.apply_sql(empty_db, sql_of(build(spec(tmp_path, old, "old")).files, "schema.sql"))
    script = migrate(empty_db, spec(tmp_path, BASE, "new"))
    assert script.index("DROP FUNCTION app.bump(integer);") < script.index("CREATE PROCEDURE app.bump(")
    assert rows(empty_db, "SELECT prokind::text FROM pg_proc WHERE proname = 'bump'") == [("p",)]


def test_lint_names_a_procedure_a_procedure(tmp_path: Path) -> None:
    """app.bump has no search_path: the finding calls it what it is (DROP PROCEDURE, not DROP FUNCTION, fixes it)."""
    findings = lint(check(load_spec(spec(tmp_path, BASE))))
    found = [f.message for f in findings if f.rule == "function_search_path_mutable"]
    assert found == ["procedure app.bump has no fixed search_path", "procedure app.batch has no fixed search_path"]


def test_schema_docs_list_procedures(tmp_path: Path) -> None:
    from generator.schemadocs import module_page

    catalog = check(load_spec(spec(tmp_path, BASE)))
    page = module_page(catalog, catalog.schema.modules[0])
    assert "| `app.bump(INOUT n integer)` | (procedure) | sql |" in page
