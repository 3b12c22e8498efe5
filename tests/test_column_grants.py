"""Column privileges (`columns: {title: {grants: {role: [update]}}}`), through every stage: check, render, verify's
cross-check, apply, introspection, drift and plans on a live PostgreSQL.

Expectations come from PostgreSQL: what a role holding UPDATE on one column may and may not change, and
has_column_privilege(); never from the tool's output.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import psycopg
import pytest
from specs import assert_verify_reports, check_errors, migrate, sql_of, write_spec

from generator import live
from generator.check import check
from generator.drift import verify
from generator.load import load_spec
from generator.pipeline import build

ROLE = "pgspec_colgrant_editor"
BASE: dict[str, Any] = {
    "module": "Column grants",
    "roles": {ROLE: {}},
    "tables": {"notes": {
        "columns": {"id": {"type": "integer", "primary_key": True},
                    "title": {"type": "text", "grants": {ROLE: ["update"]}},
                    "body": {"type": "text", "grants": {ROLE: ["select", "references"]}},
                    "secret": "text"},
        "grants": {ROLE: ["select"]}}},
}


def spec(tmp_path: Path, name: str, body: dict[str, Any]) -> Path:
    return write_spec(tmp_path / name, {"01-base.yaml": body})


def privileges(dsn: str, column: str) -> dict[str, bool]:
    with psycopg.connect(dsn) as conn:
        return {p: conn.execute("SELECT has_column_privilege(%s, 'public.notes', %s, %s)",
                                (ROLE, column, p)).fetchone()[0]  # type: ignore[index]
                for p in ("SELECT", "INSERT", "UPDATE", "REFERENCES")}


def as_role(dsn: str, statement: str) -> str | None:
    """Run `statement` as ROLE, rolled back: None, or PostgreSQL's refusal."""
    with psycopg.connect(dsn) as conn, conn.transaction(force_rollback=True):
        conn.execute(f"SET LOCAL ROLE {ROLE}")
        try:
            conn.execute(statement.encode())
        except psycopg.errors.InsufficientPrivilege as exc:
            return exc.diag.message_primary
    return None


# -- check and render ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("grants", "message"), [
    ({ROLE: ["delete"]}, "privilege 'delete' does not apply to a column"),
    ({"nobody_declared": ["select"]}, "unknown role 'nobody_declared'"),
])
def test_column_grant_mistakes_are_refused_where_written(tmp_path: Path, grants: Any, message: str) -> None:
    body = copy.deepcopy(BASE)
    body["tables"]["notes"]["columns"]["secret"] = {"type": "text", "grants": grants}
    said = check_errors(spec(tmp_path, "bad", body))
    assert len(said) == 1 and message in said[0], said
    # the position is the line where the grant is written
    path, line, _ = said[0].split(": ")[0].rsplit(":", 2)
    assert path.endswith("/bad/spec/01-base.yaml")
    written = (tmp_path / "bad" / "spec" / "01-base.yaml").read_text(encoding="utf-8").splitlines()[int(line) - 1]
    assert next(iter(grants)) in written or next(iter(grants.values()))[0] in written, written


def test_column_grants_follow_the_table_grants(tmp_path: Path) -> None:
    text = sql_of(build(spec(tmp_path, "s", BASE)).files, "schema.sql")
    table_acl = text.index(f"GRANT SELECT ON TABLE public.notes TO {ROLE};")
    # the table's REVOKE ALL takes column privileges too: the column grants must come after it
    assert text.index(f"GRANT UPDATE (title) ON TABLE public.notes TO {ROLE};") > table_acl
    assert text.index(f"GRANT SELECT (body), REFERENCES (body) ON TABLE public.notes TO {ROLE};") > table_acl


def test_verify_reports_a_column_grant_the_sql_lost(tmp_path: Path) -> None:
    assert_verify_reports(spec(tmp_path, "s", BASE), f"GRANT UPDATE (title) ON TABLE public.notes TO {ROLE};",
                          f"GRANT UPDATE (secret) ON TABLE public.notes TO {ROLE};", "grant update (")


# -- live ------------------------------------------------------------------------------------------------------------


@pytest.mark.live
def test_applies_as_postgresql_means_it_and_reads_back_without_drift(empty_db: str, tmp_path: Path) -> None:
    spec_dir = spec(tmp_path, "s", BASE)
    live.apply_sql(empty_db, sql_of(build(spec_dir).files, "schema.sql"))
    live.apply_sql(empty_db, "INSERT INTO public.notes VALUES (1, 't', 'b', 's')")
    assert privileges(empty_db, "title") == {"SELECT": True, "INSERT": False, "UPDATE": True, "REFERENCES": False}
    assert privileges(empty_db, "secret") == {"SELECT": True, "INSERT": False, "UPDATE": False, "REFERENCES": False}
    assert as_role(empty_db, "UPDATE public.notes SET title = 'new'") is None
    assert as_role(empty_db, "UPDATE public.notes SET secret = 'new'") == "permission denied for table notes"
    assert [str(d) for d in verify(empty_db, check(load_spec(spec_dir)))] == []


@pytest.mark.live
@pytest.mark.parametrize(("change", "expected"), [
    (f"REVOKE UPDATE (title) ON public.notes FROM {ROLE}",
     f"grant UPDATE (title) on public.notes to {ROLE}: missing in database"),
    (f"GRANT INSERT (secret) ON public.notes TO {ROLE}",
     f"grant INSERT (secret) on public.notes to {ROLE}: in database, not in spec"),
])
def test_a_changed_column_grant_is_reported(empty_db: str, tmp_path: Path, change: str, expected: str) -> None:
    spec_dir = spec(tmp_path, "s", BASE)
    live.apply_sql(empty_db, sql_of(build(spec_dir).files, "schema.sql"))
    live.apply_sql(empty_db, change)
    assert [str(d) for d in verify(empty_db, check(load_spec(spec_dir)))] == [expected]


@pytest.mark.live
def test_plan_grants_and_revokes_column_privileges(empty_db: str, tmp_path: Path) -> None:
    old = copy.deepcopy(BASE)
    del old["tables"]["notes"]["columns"]["title"]["grants"]
    live.apply_sql(empty_db, sql_of(build(spec(tmp_path, "old", old)).files, "schema.sql"))
    live.apply_sql(empty_db, f"GRANT UPDATE (secret) ON public.notes TO {ROLE}")  # not in the new spec either
    script = migrate(empty_db, spec(tmp_path, "new", BASE))
    assert f"GRANT UPDATE (title) ON TABLE public.notes TO {ROLE};" in script
    assert f"REVOKE UPDATE (secret) ON TABLE public.notes FROM {ROLE};" in script
    assert privileges(empty_db, "title")["UPDATE"] and not privileges(empty_db, "secret")["UPDATE"]
