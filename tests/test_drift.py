"""Drift detection: a database built from output/schema.sql matches its spec, and each manual change to it is
reported as exactly one line naming the changed object.

Each change runs in its own fresh copy of the schema database. The expected line is written from the change (the
spec's text as in spec/, the database's as PostgreSQL prints it), not copied from the tool's output.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from conftest import OUTPUT, ROOT, SPEC, record
from specs import sql_of, write_spec

from generator import cli, introspect, live
from generator.check import check
from generator.derive import Catalog
from generator.drift import Canon, excerpt, scope, verify
from generator.load import load_spec
from generator.pipeline import Build, build
from generator.sqltext import QName

NOTES_APP = ROOT / "examples" / "notes-app"


def drift(dsn: str, catalog: Catalog, *, include_platform: bool = True) -> list[str]:
    return [str(d) for d in verify(dsn, catalog, include_platform=include_platform)]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "generator", *args], cwd=ROOT, capture_output=True, text=True,
                          check=False)


# -- no drift ---------------------------------------------------------------------------------------------------------
def test_no_drift_right_after_schema_sql(schema_db: str, spec_build: Build) -> None:
    assert drift(schema_db, spec_build.catalog) == []


def test_notes_app_example_has_no_drift(empty_db: str) -> None:
    live.apply_sql(empty_db, (NOTES_APP / "output" / "schema.sql").read_text(encoding="utf-8"))
    assert drift(empty_db, check(load_spec(NOTES_APP / "spec"))) == []


def test_introspection_reads_every_table(schema_db: str, spec_build: Build) -> None:
    """Its time is recorded here; the budget (under 1 s) is checked by bench/tool_timings.py, not by a test."""
    schemas, roles, _ = scope(spec_build.catalog)
    with introspect.connect(schema_db) as conn:
        started = time.perf_counter()
        snapshot = introspect.read(conn, schemas, roles)
        record("introspection of SPEC-131", time.perf_counter() - started)
    assert len(snapshot.module.tables) == len(spec_build.catalog.tables)


def test_supabase_target_leaves_the_platform_alone(schema_db: str, spec_build: Build) -> None:
    """--target supabase: the platform's objects are Supabase's; changes to them are not drift of this spec."""
    live.apply_sql(schema_db, "COMMENT ON TABLE auth.users IS NULL; DROP POLICY \"Users can view their own roles\" "
                              "ON public.user_roles; ALTER FUNCTION auth.uid() VOLATILE;")
    assert drift(schema_db, spec_build.catalog, include_platform=False) == []
    assert len(drift(schema_db, spec_build.catalog)) == 3


# -- one change, one line ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Change:
    id: str
    sql: str
    expected: str


def _recreate_view_without_security_invoker() -> str:
    """DROP and CREATE v_agent_ticket_stats as output/schema.sql does, with its comment and grants, but without
    WITH (security_invoker = true)."""
    text = (OUTPUT / "schema.sql").read_text(encoding="utf-8")
    block = re.search(r"CREATE VIEW public\.v_agent_ticket_stats\n.*?TO service_role;\n", text, re.S)
    assert block is not None
    create = block.group(0).replace("    WITH (security_invoker = true)\n", "")
    assert "security_invoker" not in create
    return "DROP VIEW public.v_agent_ticket_stats;\n" + create


CHANGES = [
    Change("drop an index", "DROP INDEX public.idx_support_tickets_priority",
           "index public.idx_support_tickets_priority: missing in database"),
    Change("add an index", "CREATE INDEX idx_tenants_name ON public.tenants (name)",
           "index public.idx_tenants_name: in database, not in spec"),
    Change("change an index predicate",
           "DROP INDEX public.idx_support_tickets_sla_response; CREATE INDEX idx_support_tickets_sla_response "
           "ON public.support_tickets (sla_target_response) WHERE first_response_at IS NOT NULL",
           "index public.idx_support_tickets_sla_response: WHERE differs: spec (first_response_at IS NULL) "
           "database ((first_response_at IS NOT NULL))"),
    Change("loosen a check constraint",
           "ALTER TABLE public.support_tickets DROP CONSTRAINT support_tickets_satisfaction_rating_check, "
           "ADD CONSTRAINT support_tickets_satisfaction_rating_check "
           "CHECK (satisfaction_rating >= 1 AND satisfaction_rating <= 10)",
           "constraint public.support_tickets.support_tickets_satisfaction_rating_check: CHECK differs: "
           "spec (satisfaction_rating >= 1 AND satisfaction_rating <= 5) "
           "database (((satisfaction_rating >= 1) AND (satisfaction_rating <= 10)))"),
    Change("drop an enum check", "ALTER TABLE public.support_tickets DROP CONSTRAINT valid_source",
           "constraint public.support_tickets.valid_source: missing in database"),
    Change("foreign key loses its ON DELETE",
           "ALTER TABLE public.ticket_messages DROP CONSTRAINT ticket_messages_ticket_id_fkey, "
           "ADD CONSTRAINT ticket_messages_ticket_id_fkey FOREIGN KEY (ticket_id) "
           "REFERENCES public.support_tickets (id)",
           "constraint public.ticket_messages.ticket_messages_ticket_id_fkey: ON DELETE cascade in spec, "
           "no action in database"),
    Change("change a column default", "ALTER TABLE public.support_tickets ALTER COLUMN priority SET DEFAULT 'high'",
           "column public.support_tickets.priority: default 'medium' in spec, 'high'::character varying in database"),
    Change("drop NOT NULL", "ALTER TABLE public.support_tickets ALTER COLUMN subject DROP NOT NULL",
           "column public.support_tickets.subject: NOT NULL in spec, nullable in database"),
    Change("change a column type", "ALTER TABLE public.support_canned_responses ALTER COLUMN category TYPE text",
           "column public.support_canned_responses.category: type varchar(100) in spec, text in database"),
    Change("add a column", "ALTER TABLE public.tenants ADD COLUMN slug text",
           "column public.tenants.slug: in database, not in spec"),
    Change("add a table", "CREATE TABLE public.scratch (id integer)", "table public.scratch: in database, not in spec"),
    Change("edit a policy expression",
           "ALTER POLICY \"Customers can view their own tickets\" ON public.support_tickets "
           "USING (assigned_to = (SELECT auth.uid()))",
           "policy public.support_tickets.\"Customers can view their own tickets\": USING differs: "
           "spec (customer_id = (SELECT auth.uid())) database ((assigned_to = ( SELECT auth.uid() AS uid)))"),
    Change("widen a policy's roles",
           "ALTER POLICY \"Customers can view their own tickets\" ON public.support_tickets TO authenticated, anon",
           "policy public.support_tickets.\"Customers can view their own tickets\": roles (authenticated) in spec, "
           "(anon, authenticated) in database"),
    Change("drop a policy", "DROP POLICY \"Support staff can view all tickets\" ON public.support_tickets",
           "policy public.support_tickets.\"Support staff can view all tickets\": missing in database"),
    Change("add a policy",
           "CREATE POLICY \"Anyone can read tenants\" ON public.tenants FOR SELECT TO anon USING (true)",
           "policy public.tenants.\"Anyone can read tenants\": in database, not in spec"),
    Change("disable RLS", "ALTER TABLE public.ticket_messages DISABLE ROW LEVEL SECURITY",
           "table public.ticket_messages: RLS enabled in spec, disabled in database"),
    Change("force RLS", "ALTER TABLE public.tenants FORCE ROW LEVEL SECURITY",
           "table public.tenants: RLS not forced in spec, forced in database"),
    Change("recreate a view without security_invoker", _recreate_view_without_security_invoker(),
           "view public.v_agent_ticket_stats: security_invoker true in spec, false in database"),
    Change("change a function body",
           "CREATE OR REPLACE FUNCTION public.update_updated_at_column() RETURNS trigger LANGUAGE plpgsql "
           "SET search_path = '' AS $$\nBEGIN\n    NEW.updated_at := clock_timestamp();\n    RETURN NEW;\nEND;\n$$",
           "function public.update_updated_at_column(): body differs at line 2: spec 'NEW.updated_at := now();' "
           "database 'NEW.updated_at := clock_timestamp();'"),
    Change("make a function SECURITY DEFINER", "ALTER FUNCTION public.is_support_staff() SECURITY DEFINER",
           "function public.is_support_staff(): security invoker in spec, definer in database"),
    Change("change a function's volatility", "ALTER FUNCTION public.escalated_priorities() VOLATILE",
           "function public.escalated_priorities(): volatility stable in spec, volatile in database"),
    Change("unpin a function's search_path", "ALTER FUNCTION public.is_support_staff() RESET search_path",
           "function public.is_support_staff(): search_path '' in spec, none in database"),
    Change("drop a trigger", "DROP TRIGGER update_support_tickets_updated_at ON public.support_tickets",
           "trigger public.support_tickets.update_support_tickets_updated_at: missing in database"),
    Change("disable a trigger",
           "ALTER TABLE public.support_tickets DISABLE TRIGGER enforce_customer_ticket_rules",
           "trigger public.support_tickets.enforce_customer_ticket_rules: enabled in spec, disabled in database"),
    Change("revoke a grant", "REVOKE DELETE ON public.support_tickets FROM service_role",
           "grant DELETE on public.support_tickets to service_role: missing in database"),
    Change("grant to anon", "GRANT SELECT ON public.support_ticket_categories TO anon",
           "grant SELECT on public.support_ticket_categories to anon: in database, not in spec"),
    Change("grant a column to anon", "GRANT UPDATE (name) ON public.tenants TO anon",
           "grant UPDATE (name) on public.tenants to anon: in database, not in spec"),
    Change("let anon execute a SECURITY DEFINER function",
           "GRANT EXECUTE ON FUNCTION public.has_any_role(text[]) TO anon",
           "grant EXECUTE on function public.has_any_role(text[]) to anon: in database, not in spec"),
    Change("revoke schema usage", "REVOKE USAGE ON SCHEMA auth FROM anon",
           "grant USAGE on schema auth to anon: missing in database"),
    Change("change a sequence's max value", "ALTER SEQUENCE public.support_ticket_number_seq MAXVALUE 99999999",
           "sequence public.support_ticket_number_seq: max_value 9999999999999999 in spec, 99999999 in database"),
    Change("drop a table comment", "COMMENT ON TABLE public.support_tickets IS NULL",
           "table public.support_tickets: comment 'Support tickets raised by customers of a tenant.' in spec, "
           "none in database"),
    Change("change a column comment", "COMMENT ON COLUMN public.support_tickets.team IS 'Owning team.'",
           "column public.support_tickets.team: comment 'Team handling the ticket: technical, billing, sales, ...' "
           "in spec, 'Owning team.' in database"),
]


@pytest.mark.parametrize("change", CHANGES, ids=lambda c: c.id)
def test_one_change_is_one_line(change: Change, schema_db: str, spec_build: Build) -> None:
    live.apply_sql(schema_db, change.sql)
    assert drift(schema_db, spec_build.catalog) == [change.expected]


def test_a_changed_view_query_names_the_view_and_the_difference(schema_db: str, spec_build: Build) -> None:
    """A view body is long: the line shows it around the first difference (in the normal form compared)."""
    live.apply_sql(schema_db, "CREATE OR REPLACE VIEW public.v_agent_ticket_stats WITH (security_invoker = true) AS "
                              + spec_build.catalog.views[QName("public", "v_agent_ticket_stats")].query
                              .replace("status = 'open'", "status = 'reopened'"))
    [line] = drift(schema_db, spec_build.catalog)
    assert line.startswith("view public.v_agent_ticket_stats: query differs: spec (…")
    assert "'open'" in line.split(" database (")[0] and "'reopened'" in line.split(" database (")[1]


def test_forced_rls_turned_off(tmp_path: Path, empty_db: str) -> None:
    spec = write_spec(tmp_path, {"01-items.yaml": {
        "module": "Items",
        "tables": {"items": {
            "columns": {"id": {"type": "integer", "primary_key": True}, "label": {"type": "text", "not_null": True}},
            "rls": "forced",
            "policies": {"Everyone reads labelled rows": {"command": "select", "roles": ["public"],
                                                         "using": "label <> ''"}}}}}})
    result = build(spec)
    live.apply_sql(empty_db, sql_of(result.files, "schema.sql"))
    assert drift(empty_db, result.catalog) == []
    live.apply_sql(empty_db, "ALTER TABLE public.items NO FORCE ROW LEVEL SECURITY")
    assert drift(empty_db, result.catalog) == ["table public.items: RLS forced in spec, not forced in database"]


def test_a_search_path_of_two_schemas(tmp_path: Path, empty_db: str) -> None:
    """A list renders as separate schemas (PostgreSQL stores `public, pg_temp`, not one schema "public, pg_temp");
    one name and the pinned-empty path still work, and drift sees a change of the list."""
    spec = write_spec(tmp_path, {"01-f.yaml": {"module": "F", "functions": {
        "one": {"returns": "integer", "language": "sql", "search_path": ["public", "pg_temp"], "body": "SELECT 1"},
        "two": {"returns": "integer", "language": "sql", "search_path": "public", "body": "SELECT 2"},
        "three": {"returns": "integer", "language": "sql", "search_path": [], "body": "SELECT 3"},
        "four": {"returns": "integer", "language": "sql", "search_path": "", "body": "SELECT 4"}}}})
    result = build(spec)
    live.apply_sql(empty_db, sql_of(result.files, "schema.sql"))
    with psycopg.connect(empty_db) as conn:
        config = dict(conn.execute("SELECT proname, proconfig FROM pg_proc WHERE pronamespace = 'public'::regnamespace")
                      .fetchall())
    assert config == {"one": ["search_path=public, pg_temp"], "two": ["search_path=public"],
                      "three": ['search_path=""'], "four": ['search_path=""']}
    assert drift(empty_db, result.catalog) == []
    live.apply_sql(empty_db, "ALTER FUNCTION public.one() SET search_path = public")
    assert drift(empty_db, result.catalog) == [
        "function public.one(): search_path 'public, pg_temp' in spec, 'public' in database"]


# -- the command line ------------------------------------------------------------------------------------------------
def test_cli_help() -> None:
    result = run("verify", "--help")
    assert result.returncode == 0 and "--db DSN" in result.stdout and "Exit codes: 0 no drift" in result.stdout


def test_cli_exit_codes(schema_db: str) -> None:
    clean = run("verify", "--db", schema_db)
    assert (clean.returncode, clean.stdout, clean.stderr) == (0, "no drift\n", "")
    live.apply_sql(schema_db, "DROP INDEX public.idx_support_tickets_priority")
    drifted = run("verify", "--db", schema_db, "--spec", str(SPEC))
    assert drifted.returncode == 1
    assert drifted.stdout == "index public.idx_support_tickets_priority: missing in database\n"
    assert drifted.stderr.startswith(f"1 difference between {SPEC} and the database (")


def test_cli_unreachable_database() -> None:
    result = run("verify", "--db", "host=127.0.0.1 port=1 dbname=nothing user=nobody connect_timeout=2")
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.startswith("verify: cannot read the database: ")
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


def test_cli_spec_errors_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = write_spec(tmp_path, {"01-bad.yaml": {"module": "Bad", "tables": {"t": {"columns": {"c": "no_such_type"}}}}})
    assert cli.main(["verify", "--db", "host=127.0.0.1 port=1", "--spec", str(spec)]) == 2
    assert "1 error in the spec" in capsys.readouterr().err


# -- the normal form, without a database -----------------------------------------------------------------------------
COLUMNS = {QName("public", "t"): ("a", "b", "status"), QName("public", "u"): ("id", "a")}
# (as written in a spec, as PostgreSQL prints it back): each pair must compare equal.
SAME = [
    ("status IN ('x', 'y')",
     "((status)::text = ANY ((ARRAY['x'::character varying, 'y'::character varying])::text[]))"),
    ("status NOT IN ('x', 'y')", "((status)::text <> ALL (ARRAY['x'::text, 'y'::text]))"),
    ("status IN ('x')", "((status)::text = 'x'::text)"),
    ("a BETWEEN 1 AND 5", "((a >= 1) AND (a <= 5))"),
    ("b LIKE 'a%'", "(b ~~ 'a%'::text)"),
    ("a > -1", "(a > '-1'::integer)"),
    ("a / 60", "(a / (60)::numeric)"),
    ("a = 1 AND (b = 2 AND status = 'x')", "((a = 1) AND (b = 2) AND ((status)::text = 'x'::text))"),
    ("a = (SELECT auth.uid())", "(a = ( SELECT auth.uid() AS uid))"),
    ("(SELECT public.f(a))", "( SELECT f(t.a) AS f)"),
    ("a IN (SELECT a FROM public.u WHERE id = b)", "(a IN ( SELECT u.a FROM u WHERE (u.id = t.b)))"),
]
DIFFERENT = [
    ("a BETWEEN 1 AND 5", "((a >= 1) AND (a <= 6))"),
    ("status IN ('x', 'y')", "((status)::text = ANY (ARRAY['x'::text, 'z'::text]))"),
    ("a = (SELECT auth.uid())", "(b = ( SELECT auth.uid() AS uid))"),
    ("a IN (SELECT a FROM public.u WHERE id = b)", "(a IN ( SELECT u.a FROM u WHERE (u.id = t.a)))"),
]


@pytest.mark.parametrize(("spec", "database"), SAME)
def test_normal_form_undoes_postgresql_rewrites(spec: str, database: str) -> None:
    canon = Canon(COLUMNS.get)
    table = QName("public", "t")
    assert canon.expression(spec, table) == canon.expression(database, table)


@pytest.mark.parametrize(("spec", "database"), DIFFERENT)
def test_normal_form_keeps_real_differences(spec: str, database: str) -> None:
    canon = Canon(COLUMNS.get)
    table = QName("public", "t")
    assert canon.expression(spec, table) != canon.expression(database, table)


def test_view_star_and_positions() -> None:
    canon = Canon(COLUMNS.get)
    assert canon.query("SELECT t.*, count(*) AS n FROM public.t GROUP BY 1, 2, 3 ORDER BY 1") == canon.query(
        "SELECT t.a, t.b, t.status, count(*) AS n FROM t GROUP BY t.a, t.b, t.status ORDER BY t.a")


def test_excerpt_shows_where_texts_differ() -> None:
    a, b = excerpt("x" * 80 + "open" + "y" * 80, "x" * 80 + "closed" + "y" * 80, width=5)
    assert (a, b) == ("…xxxxxopenyyyyy…", "…xxxxxclosedyyyyy…")
