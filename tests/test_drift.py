"""Drift detection: a database built from output/schema.sql matches its spec, and each manual change to it is
reported as exactly one line naming the changed object.

Each change runs in its own fresh copy of the schema database. The expected line is written from the change (the
spec's text as in spec/, the database's as PostgreSQL prints it), not copied from the tool's output.
"""

from __future__ import annotations

import ast
import contextlib
import copy
import dataclasses
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from conftest import OUTPUT, ROOT, SPEC, record
from specs import run_in_process, sql_of, write_spec

from generator import cli, introspect, live, model
from generator import drift as drift_module
from generator.check import check
from generator.derive import Catalog
from generator.drift import (
    Canon,
    Difference,
    compare,
    excerpt,
    platform_children,
    scope,
    verify,
    verify_connection,
)
from generator.introspect import Snapshot
from generator.load import load_spec
from generator.migrate.database import plan_database
from generator.migrate.script import rendered
from generator.migrate.snapshot import of_spec
from generator.model import Grant, Schema, SchemaDef
from generator.pipeline import Build, build
from generator.sqltext import QName

NOTES_APP = ROOT / "examples" / "notes-app"


def drift(dsn: str, catalog: Catalog, *, include_platform: bool = True) -> list[str]:
    return [str(d) for d in verify(dsn, catalog, include_platform=include_platform)]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    if os.environ.get("MUTANT_UNDER_TEST"):  # under mutmut (bench/mutation.py): in this process, where it mutates
        return run_in_process(ROOT, list(args))
    return subprocess.run([sys.executable, "-m", "generator", *args], cwd=ROOT, capture_output=True, text=True,
                          check=False)


# -- no drift ---------------------------------------------------------------------------------------------------------
def test_no_drift_right_after_schema_sql(schema_db: str, spec_build: Build) -> None:
    assert drift(schema_db, spec_build.catalog) == []


def test_notes_app_example_has_no_drift(empty_db: str) -> None:
    live.apply_sql(empty_db, (NOTES_APP / "output" / "schema.sql").read_text(encoding="utf-8"))
    assert drift(empty_db, check(load_spec(NOTES_APP / "spec"))) == []


def test_views_over_functions_in_from_have_no_drift(empty_db: str, tmp_path: Path) -> None:
    """pg_get_viewdef prints a function in FROM with its column list (`generate_series(1, 3) n(n)`): the view as
    written reads back the same."""
    spec_dir = write_spec(tmp_path, {"01-views.yaml": {"module": "views", "views": {
        "numbers": {"query": "SELECT n FROM generate_series(1, 3) n"},
        "unaliased": {"query": "SELECT generate_series AS g FROM generate_series(1, 2)"},
        "joined": {"query": "SELECT n.n, s.x FROM generate_series(1, 3) n, unnest(ARRAY[1, 2]) s(x) WHERE s.x = n.n"},
    }}})
    live.apply_sql(empty_db, sql_of(build(spec_dir).files, "schema.sql"))
    assert drift(empty_db, check(load_spec(spec_dir))) == []


def test_a_literal_cast_to_a_type_with_a_modifier_has_no_drift(empty_db: str, tmp_path: Path) -> None:
    """PostgreSQL stores the literal of a cast to `timestamp(3)` as its type prints it ('2026-01-01 10:00' as
    '2026-01-01 10:00:00'; the modifier applies when it runs): the spec's literal is converted by the server
    before it is compared, which needs the type spelt with its modifier (`timestamp(3)`, not `timestamp('3')`,
    which the server refuses). A numeric(10, 2) literal beside it."""
    spec_dir = write_spec(tmp_path, {"01-t.yaml": {"module": "t", "tables": {"stamps": {"columns": {
        "id": {"type": "integer", "primary_key": True},
        "at": {"type": "timestamp(3)", "default_sql": "'2026-01-01 10:00'::timestamp(3)"},
        "price": {"type": "numeric(10, 2)", "default_sql": "'1.50'::numeric(10, 2)"},
    }}}}})
    live.apply_sql(empty_db, sql_of(build(spec_dir).files, "schema.sql"))
    assert drift(empty_db, check(load_spec(spec_dir))) == []


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


# A platform module (Supabase provides it) whose auth.users carries two triggers: one calling the app's function
# (module 01), which the output emits in 01 and so also for --target supabase, and one calling a platform function.
PLATFORM_WITH_APP_TRIGGER = {
    "00-platform.yaml": {
        "module": "Platform", "platform": True, "schemas": {"auth": {}},
        "functions": {"auth.audit": {"returns": "trigger", "search_path": "", "body": "BEGIN RETURN NEW; END"}},
        "tables": {"auth.users": {
            "columns": {"id": {"type": "uuid", "primary_key": True}},
            "triggers": {"on_user_created": {"timing": "after", "events": ["insert"],
                                             "function": "public.handle_new_user"},
                         "platform_audit": {"timing": "after", "events": ["insert"], "function": "auth.audit"}}}}},
    "01-app.yaml": {
        "module": "App",
        "functions": {"handle_new_user": {
            "returns": "trigger", "security": "definer", "search_path": "",
            "body": "BEGIN INSERT INTO public.profiles (id) VALUES (NEW.id); RETURN NEW; END"}},
        "tables": {"profiles": {"columns": {"id": {"type": "uuid", "primary_key": True}}}}},
}


def test_supabase_target_checks_what_the_spec_puts_on_platform_tables(tmp_path: Path, empty_db: str) -> None:
    spec = write_spec(tmp_path, PLATFORM_WITH_APP_TRIGGER)
    full, supabase = build(spec), build(spec, include_platform=False)
    assert "CREATE TRIGGER on_user_created" in sql_of(supabase.files, "schema.sql")  # what verify must check
    live.apply_sql(empty_db, sql_of(full.files, "schema.sql")
                   + "CREATE TABLE auth.sessions (id integer);")  # one of the platform's own, not the spec's business
    assert drift(empty_db, full.catalog, include_platform=False) == []
    live.apply_sql(empty_db, "DROP TRIGGER platform_audit ON auth.users")  # the platform's own trigger
    assert drift(empty_db, full.catalog, include_platform=False) == []
    live.apply_sql(empty_db, "DROP TRIGGER on_user_created ON auth.users")
    assert drift(empty_db, full.catalog, include_platform=False) == [
        "trigger auth.users.on_user_created: missing in database"]
    assert "trigger auth.users.on_user_created: missing in database" in drift(empty_db, full.catalog)
    # A plan for Supabase puts it back (and touches nothing else of the platform).
    steps = plan_database(empty_db, full.catalog, include_platform=False).steps
    assert [type(s.change).__name__ for s in steps] == ["CreateTrigger"]
    live.apply_sql(empty_db, "\n".join(r.sql for r in rendered(plan_database(empty_db, full.catalog,
                                                                             include_platform=False))))
    assert drift(empty_db, full.catalog, include_platform=False) == []
    live.apply_sql(empty_db, "DROP TABLE auth.users CASCADE")
    assert drift(empty_db, full.catalog, include_platform=False) == ["table auth.users: missing in database"]


# -- one change, one line ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Change:
    """One change to a database built from a spec, and the one line `verify --db` must report for it.

    `field` names what drift.py compares, as `METHOD.LABEL` of its _Drift class (see compared_fields)."""

    field: str
    id: str
    sql: str
    expected: str
    spec: str = "SPEC-131"  # or "small": SMALL_SPEC below, for what SPEC-131 cannot show alone


def _recreate_view_without_security_invoker() -> str:
    """DROP and CREATE v_agent_ticket_stats as output/schema.sql does, with its comment and grants, but without
    WITH (security_invoker = true)."""
    text = (OUTPUT / "schema.sql").read_text(encoding="utf-8")
    block = re.search(r"CREATE VIEW public\.v_agent_ticket_stats\n.*?TO service_role;\n(?:GRANT [^\n]*\n)*", text, re.S)
    assert block is not None
    create = block.group(0).replace("    WITH (security_invoker = true)\n", "")
    assert "security_invoker" not in create
    return "DROP VIEW public.v_agent_ticket_stats;\n" + create


SMALL_ROLE = "pgspec_drift_role"  # the small spec's role (SMALL_SPEC below)
SMALL_OWNER = "pgspec_drift_owner"  # owns the small spec's table (not SMALL_ROLE, which a case drops)
OTHER_OWNER = "pgspec_drift_other_owner"  # another owner than the spec's (roles are cluster-wide: created if missing)
CHANGES = [
    Change("public_schema.grants", "CREATE on schema public granted (undeclared: PostgreSQL's defaults hold)",
           "GRANT CREATE ON SCHEMA public TO anon", "grant CREATE on schema public to anon: in database, not in spec"),
    Change("table.pair index", "drop an index", "DROP INDEX public.idx_support_tickets_priority",
           "index public.idx_support_tickets_priority: missing in database"),
    Change("table.pair index", "add an index", "CREATE INDEX idx_tenants_name ON public.tenants (name)",
           "index public.idx_tenants_name: in database, not in spec"),
    Change("index.WHERE", "change an index predicate",
           "DROP INDEX public.idx_support_tickets_sla_response; CREATE INDEX idx_support_tickets_sla_response "
           "ON public.support_tickets (sla_target_response) WHERE first_response_at IS NOT NULL",
           "index public.idx_support_tickets_sla_response: WHERE differs: spec (first_response_at IS NULL) "
           "database ((first_response_at IS NOT NULL))"),
    Change("constraint.CHECK", "loosen a check constraint",
           "ALTER TABLE public.support_tickets DROP CONSTRAINT support_tickets_satisfaction_rating_check, "
           "ADD CONSTRAINT support_tickets_satisfaction_rating_check "
           "CHECK (satisfaction_rating >= 1 AND satisfaction_rating <= 10)",
           "constraint public.support_tickets.support_tickets_satisfaction_rating_check: CHECK differs: "
           "spec (satisfaction_rating >= 1 AND satisfaction_rating <= 5) "
           "database (((satisfaction_rating >= 1) AND (satisfaction_rating <= 10)))"),
    Change("table.pair constraint", "drop an enum check",
           "ALTER TABLE public.support_tickets DROP CONSTRAINT valid_source",
           "constraint public.support_tickets.valid_source: missing in database"),
    Change("constraint.ON DELETE", "foreign key loses its ON DELETE",
           "ALTER TABLE public.ticket_messages DROP CONSTRAINT ticket_messages_ticket_id_fkey, "
           "ADD CONSTRAINT ticket_messages_ticket_id_fkey FOREIGN KEY (ticket_id) "
           "REFERENCES public.support_tickets (id)",
           "constraint public.ticket_messages.ticket_messages_ticket_id_fkey: ON DELETE cascade in spec, "
           "no action in database"),
    Change("column.add 2", "change a column default",
           "ALTER TABLE public.support_tickets ALTER COLUMN priority SET DEFAULT 'high'",
           "column public.support_tickets.priority: default 'medium' in spec, 'high'::character varying in "
           "database"),
    Change("column.add 1", "drop NOT NULL", "ALTER TABLE public.support_tickets ALTER COLUMN subject DROP NOT NULL",
           "column public.support_tickets.subject: NOT NULL in spec, nullable in database"),
    Change("identity.identity", "identity always becomes by default",
           "ALTER TABLE public.counters ALTER COLUMN id SET GENERATED BY DEFAULT",
           "column public.counters.id: identity always in spec, by default in database", "small"),
    Change("identity.identity start", "identity start changed",
           "ALTER TABLE public.counters ALTER COLUMN id SET START 7",
           "column public.counters.id: identity start 10 in spec, 7 in database", "small"),
    Change("identity.identity increment", "identity increment changed",
           "ALTER TABLE public.counters ALTER COLUMN id SET INCREMENT BY 3",
           "column public.counters.id: identity increment 2 in spec, 3 in database", "small"),
    Change("identity.identity min_value", "identity minimum changed",
           "ALTER TABLE public.counters ALTER COLUMN id SET MINVALUE 5",
           "column public.counters.id: identity min_value 1 in spec, 5 in database", "small"),
    Change("identity.identity max_value", "identity maximum back to the default",
           "ALTER TABLE public.counters ALTER COLUMN id SET NO MAXVALUE",
           "column public.counters.id: identity max_value 1000 in spec, 2147483647 in database", "small"),
    Change("identity.identity cache", "identity cache changed",
           "ALTER TABLE public.counters ALTER COLUMN id SET CACHE 1",
           "column public.counters.id: identity cache 5 in spec, 1 in database", "small"),
    Change("identity.identity cycle", "identity cycles", "ALTER TABLE public.counters ALTER COLUMN id SET CYCLE",
           "column public.counters.id: identity cycle false in spec, true in database", "small"),
    Change("column.generated", "generated column made plain",
           "ALTER TABLE public.counters ALTER COLUMN shout DROP EXPRESSION",
           "column public.counters.shout: generated differs: spec (upper(label)) database (none)", "small"),
    Change("column.collation", "collation changed",
           "ALTER TABLE public.counters ALTER COLUMN tag TYPE text COLLATE \"POSIX\"",
           "column public.counters.tag: collation C in spec, POSIX in database", "small"),
    Change("column.type", "change a column type",
           "ALTER TABLE public.support_canned_responses ALTER COLUMN category TYPE text",
           "column public.support_canned_responses.category: type varchar(100) in spec, text in database"),
    Change("table.pair column", "add a column", "ALTER TABLE public.tenants ADD COLUMN slug text",
           "column public.tenants.slug: in database, not in spec"),
    Change("run.pair table", "add a table",
           "CREATE TABLE public.scratch (id integer)",
           "table public.scratch: in database, not in spec"),
    Change("policy.USING", "edit a policy expression",
           "ALTER POLICY \"Customers can view their own tickets\" ON public.support_tickets "
           "USING (assigned_to = (SELECT auth.uid()))",
           "policy public.support_tickets.\"Customers can view their own tickets\": USING differs: "
           "spec (customer_id = (SELECT auth.uid())) database ((assigned_to = ( SELECT auth.uid() AS uid)))"),
    Change("policy.roles", "widen a policy's roles",
           "ALTER POLICY \"Customers can view their own tickets\" ON public.support_tickets "
           "TO authenticated, support_staff, anon",
           "policy public.support_tickets.\"Customers can view their own tickets\": roles (authenticated, "
           "support_staff) in spec, (anon, authenticated, support_staff) in database"),
    Change("table.pair policy", "drop a policy",
           'DROP POLICY "Support staff can view all tickets" ON public.support_tickets',
           'policy public.support_tickets."Support staff can view all tickets": missing in database'),
    Change("table.pair policy", "add a policy",
           "CREATE POLICY \"Anyone can read tenants\" ON public.tenants FOR SELECT TO anon USING (true)",
           "policy public.tenants.\"Anyone can read tenants\": in database, not in spec"),
    Change("rls.add 1", "disable RLS", "ALTER TABLE public.ticket_messages DISABLE ROW LEVEL SECURITY",
           "table public.ticket_messages: RLS enabled in spec, disabled in database"),
    Change("rls.add 2", "force RLS", "ALTER TABLE public.tenants FORCE ROW LEVEL SECURITY",
           "table public.tenants: RLS not forced in spec, forced in database"),
    Change("view.security_invoker", "recreate a view without security_invoker",
           _recreate_view_without_security_invoker(),
           "view public.v_agent_ticket_stats: security_invoker true in spec, false in database"),
    Change("function.add 1", "change a function body",
           "CREATE OR REPLACE FUNCTION public.update_updated_at_column() RETURNS trigger LANGUAGE plpgsql "
           "SET search_path = '' AS $$\nBEGIN\n    NEW.updated_at := clock_timestamp();\n    RETURN NEW;\nEND;\n$$",
           "function public.update_updated_at_column(): body differs at line 2: spec 'NEW.updated_at := now();' "
           "database 'NEW.updated_at := clock_timestamp();'"),
    Change("function.security", "make a function SECURITY DEFINER",
           "ALTER FUNCTION public.is_support_staff() SECURITY DEFINER",
           "function public.is_support_staff(): security invoker in spec, definer in database"),
    Change("function.volatility", "change a function's volatility",
           "ALTER FUNCTION public.escalated_priorities() VOLATILE",
           "function public.escalated_priorities(): volatility stable in spec, volatile in database"),
    Change("function.search_path", "unpin a function's search_path",
           "ALTER FUNCTION public.is_support_staff() RESET search_path",
           "function public.is_support_staff(): search_path '' in spec, none in database"),
    Change("table.pair trigger", "drop a trigger",
           "DROP TRIGGER update_support_tickets_updated_at ON public.support_tickets",
           "trigger public.support_tickets.update_support_tickets_updated_at: missing in database"),
    Change("trigger.enabled", "disable a trigger",
           "ALTER TABLE public.support_tickets DISABLE TRIGGER enforce_customer_ticket_rules",
           "trigger public.support_tickets.enforce_customer_ticket_rules: enabled origin in spec, disabled in "
           "database"),
    Change("table.grants", "revoke a grant", "REVOKE DELETE ON public.support_tickets FROM service_role",
           "grant DELETE on public.support_tickets to service_role: missing in database"),
    Change("table.grants", "grant to anon", "GRANT SELECT ON public.support_ticket_categories TO anon",
           "grant SELECT on public.support_ticket_categories to anon: in database, not in spec"),
    Change("table.add 1", "grant a column to anon", "GRANT UPDATE (name) ON public.tenants TO anon",
           "grant UPDATE (name) on public.tenants to anon: in database, not in spec"),
    Change("function.grants", "let anon execute a SECURITY DEFINER function",
           "GRANT EXECUTE ON FUNCTION public.has_any_role(text[]) TO anon",
           "grant EXECUTE on function public.has_any_role(text[]) to anon: in database, not in spec"),
    Change("schema.grants", "revoke schema usage", "REVOKE USAGE ON SCHEMA auth FROM anon",
           "grant USAGE on schema auth to anon: missing in database"),
    Change("sequence.max_value", "change a sequence's max value",
           "ALTER SEQUENCE public.support_ticket_number_seq MAXVALUE 99999999",
           "sequence public.support_ticket_number_seq: max_value 9999999999999999 in spec, 99999999 in "
           "database"),
    Change("table.comment", "drop a table comment", "COMMENT ON TABLE public.support_tickets IS NULL",
           "table public.support_tickets: comment 'Support tickets raised by customers of a tenant.' in spec, "
           "none in database"),
    Change("column.comment", "change a column comment",
           "COMMENT ON COLUMN public.support_tickets.team IS 'Owning team.'",
           "column public.support_tickets.team: comment 'Team handling the ticket: technical, billing, sales, "
           "...' in spec, 'Owning team.' in database"),
    # -- every other compared field (the coverage test below fails when a compared field has no case)
    Change("run.pair role", "drop a role",
           "DROP ROLE pgspec_drift_role",
           "role pgspec_drift_role: missing in database",
           "small"),
    Change("run.pair schema", "drop a schema", "DROP SCHEMA scratch", 'schema scratch: missing in database', "small"),
    Change("run.pair sequence", "drop a sequence",
           "DROP SEQUENCE public.support_ticket_number_seq",
           "sequence public.support_ticket_number_seq: missing in database"),
    Change("run.pair type", "drop an enum type", "DROP TYPE public.mood", "type public.mood: missing in database",
           "small"),
    Change("run.pair extension", "drop an extension", "DROP EXTENSION hstore",
           "extension hstore: missing in database", "small"),
    Change("extension.schema", "move an extension", "ALTER EXTENSION hstore SET SCHEMA scratch",
           "extension hstore: schema public in spec, scratch in database", "small"),
    Change("extension.version", "install another version of an extension",
           "DROP EXTENSION hstore; CREATE EXTENSION hstore WITH SCHEMA public VERSION '1.4'",
           "extension hstore: version 1.8 in spec, 1.4 in database", "small"),
    Change("run.pair raw", "forget a raw SQL object's record", "DELETE FROM pgspec.raw_objects",
           "raw small_stats: missing in database", "small"),
    Change("raw_object.add 1", "record another SQL for a raw SQL object",
           "UPDATE pgspec.raw_objects SET fingerprint = 'other' WHERE name = 'small_stats'",
           "raw small_stats: SQL changed since applied (the database recorded another fingerprint)", "small"),
    Change("default_acl.grants", "grant more by default in a schema",
           "ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT INSERT ON TABLES TO PUBLIC",
           "grant INSERT on new tables in schema public to PUBLIC: in database, not in spec", "small"),
    Change("type_def.values", "add an enum value", "ALTER TYPE public.mood ADD VALUE 'meh' BEFORE 'sad'",
           "type public.mood: values (happy, sad) in spec, (happy, meh, sad) in database", "small"),
    Change("type_def.comment", "comment an enum type", "COMMENT ON TYPE public.mood IS 'How it feels'",
           "type public.mood: comment none in spec, 'How it feels' in database", "small"),
    Change("type_def.grants", "grant a type to a role", "GRANT USAGE ON TYPE public.mood TO pgspec_drift_role",
           "grant USAGE on type public.mood to pgspec_drift_role: in database, not in spec", "small"),
    Change("type_def.kind", "replace a composite type by a domain",
           "DROP TYPE public.address; CREATE DOMAIN public.address AS text",
           "type public.address: kind composite in spec, domain in database", "small"),
    Change("attributes.add 1", "drop an attribute", "ALTER TYPE public.address DROP ATTRIBUTE zip",
           "type public.address: attribute zip missing in database", "small"),
    Change("attributes.add 2", "retype an attribute", "ALTER TYPE public.address ALTER ATTRIBUTE zip TYPE varchar(20)",
           "type public.address: attribute zip: type varchar(10) in spec, varchar(20) in database", "small"),
    Change("attributes.add 3", "collate an attribute",
           'ALTER TYPE public.address ALTER ATTRIBUTE street TYPE text COLLATE "C"',
           "type public.address: attribute street: collation none in spec, C in database", "small"),
    Change("attributes.add 4", "add an attribute", "ALTER TYPE public.address ADD ATTRIBUTE city text",
           "type public.address: attribute city in database, not in spec", "small"),
    Change("attributes.attribute order", "move an attribute to the end",
           "ALTER TYPE public.address DROP ATTRIBUTE street, ADD ATTRIBUTE street text",
           "type public.address: attribute order (street, zip) in spec, (zip, street) in database", "small"),
    Change("domain.base type", "change a domain's base type",
           "DROP DOMAIN public.label; CREATE DOMAIN public.label AS varchar(20)",
           "type public.label: base type text in spec, varchar(20) in database", "small"),
    Change("domain.collation", "collate a domain", 'DROP DOMAIN public.label; CREATE DOMAIN public.label AS text '
           'COLLATE "C"', "type public.label: collation none in spec, C in database", "small"),
    Change("domain.not_null", "let a domain be null", "ALTER DOMAIN public.email DROP NOT NULL",
           "type public.email: not_null true in spec, false in database", "small"),
    Change("domain.add 1", "change a domain's default", "ALTER DOMAIN public.email SET DEFAULT 'b@c'",
           "type public.email: default 'a@b' in spec, 'b@c'::text in database", "small"),
    Change("domain.add 2", "drop a domain check", "ALTER DOMAIN public.email DROP CONSTRAINT shape",
           "type public.email: CHECK shape missing in database", "small"),
    Change("domain.add 3", "add a domain check", "ALTER DOMAIN public.email ADD CONSTRAINT longer "
           "CHECK (length(VALUE) > 2)", "type public.email: CHECK longer in database, not in spec", "small"),
    Change("domain.add 4", "change a domain check", "ALTER DOMAIN public.email DROP CONSTRAINT shape; "
           "ALTER DOMAIN public.email ADD CONSTRAINT shape CHECK (VALUE ~ '@.')",
           "type public.email: CHECK shape differs: spec (VALUE ~ '@') database ((VALUE ~ '@.'::text))", "small"),
    Change("run.pair view", "add a view",
           "CREATE VIEW public.scratch_v AS SELECT 1 AS one",
           "view public.scratch_v: in database, not in spec"),
    Change("role.login", "let a role log in",
           "ALTER ROLE pgspec_drift_role LOGIN",
           "role pgspec_drift_role: login false in spec, true in database",
           "small"),
    Change("role.bypass_rls", "let a role bypass RLS",
           "ALTER ROLE pgspec_drift_role BYPASSRLS",
           "role pgspec_drift_role: bypass_rls false in spec, true in database",
           "small"),
    Change("schema.comment", "comment a schema",
           "COMMENT ON SCHEMA auth IS 'Users.'",
           "schema auth: comment 'Users and the request''s identity (provided by Supabase).' in spec, "
           "'Users.' in database"),
    Change("sequence.type", "narrow a sequence's type",
           "ALTER SEQUENCE public.s AS integer",
           "sequence public.s: type bigint in spec, integer in database",
           "small"),
    Change("sequence.start", "restart a sequence elsewhere", "ALTER SEQUENCE public.support_ticket_number_seq START 5",
           'sequence public.support_ticket_number_seq: start 1 in spec, 5 in database'),
    Change("sequence.increment", "change a sequence's step",
           "ALTER SEQUENCE public.support_ticket_number_seq INCREMENT 2",
           "sequence public.support_ticket_number_seq: increment 1 in spec, 2 in database"),
    Change("sequence.min_value", "lower a sequence's minimum",
           "ALTER SEQUENCE public.support_ticket_number_seq MINVALUE 0",
           "sequence public.support_ticket_number_seq: min_value 1 in spec, 0 in database"),
    Change("sequence.cache", "cache sequence values", "ALTER SEQUENCE public.support_ticket_number_seq CACHE 10",
           'sequence public.support_ticket_number_seq: cache 1 in spec, 10 in database'),
    Change("sequence.cycle", "let a sequence cycle",
           "ALTER SEQUENCE public.support_ticket_number_seq CYCLE",
           "sequence public.support_ticket_number_seq: cycle false in spec, true in database"),
    Change("sequence.grants", "grant a sequence to anon",
           "GRANT USAGE ON SEQUENCE public.support_ticket_number_seq TO anon",
           "grant USAGE on sequence public.support_ticket_number_seq to anon: in database, not in spec"),
    Change("sequence.comment", "comment a sequence",
           "COMMENT ON SEQUENCE public.support_ticket_number_seq IS 'Numbers.'",
           "sequence public.support_ticket_number_seq: comment 'Source of ticket numbers (TKT-00000001 ...).' "
           "in spec, 'Numbers.' in database"),
    Change("functions.add 1", "add a function",
           "CREATE FUNCTION public.scratch() RETURNS integer LANGUAGE sql AS 'SELECT 1'; REVOKE ALL ON "
           "FUNCTION public.scratch() FROM PUBLIC",
           "function public.scratch(): in database, not in spec"),
    Change("functions.add 2", "drop a function",
           "DROP FUNCTION public.f(integer)",
           "function public.f(integer): missing in database",
           "small"),
    Change("function.arguments", "rename an argument",
           "SET check_function_bodies = off; DROP FUNCTION public.f(integer); CREATE FUNCTION public.f(b "
           "integer) RETURNS integer LANGUAGE sql AS 'SELECT a'; REVOKE ALL ON FUNCTION public.f(integer) "
           "FROM PUBLIC",
           "function public.f(integer): arguments (a integer) in spec, (b integer) in database",
           "small"),
    Change("function.kind", "a procedure where the spec has a function",
           "DROP FUNCTION public.f(integer); CREATE PROCEDURE public.f(a integer) LANGUAGE sql AS 'SELECT a'; "
           "REVOKE ALL ON PROCEDURE public.f(integer) FROM PUBLIC",
           "function public.f(integer): kind function in spec, procedure in database", "small"),
    Change("function.returns", "change a return type", "DROP FUNCTION public.f(integer); CREATE FUNCTION "
           "public.f(a integer) RETURNS bigint LANGUAGE sql AS 'SELECT a'; REVOKE ALL ON FUNCTION public.f(integer) "
           "FROM PUBLIC", 'function public.f(integer): returns integer in spec, bigint in database', "small"),
    Change("function.language", "change a function's language",
           "SET check_function_bodies = off; CREATE OR REPLACE FUNCTION public.f(a integer) RETURNS integer "
           "LANGUAGE plpgsql AS 'SELECT a'",
           "function public.f(integer): language sql in spec, plpgsql in database",
           "small"),
    Change("function.strict", "make a function STRICT",
           "ALTER FUNCTION public.is_support_staff() STRICT",
           "function public.is_support_staff(): strict false in spec, true in database"),
    Change("function.leakproof", "make a function LEAKPROOF", "ALTER FUNCTION public.f(integer) LEAKPROOF",
           "function public.f(integer): leakproof false in spec, true in database", "small"),
    Change("function.parallel", "mark a function parallel safe", "ALTER FUNCTION public.f(integer) PARALLEL SAFE",
           "function public.f(integer): parallel unsafe in spec, safe in database", "small"),
    Change("function.cost", "change a function's cost", "ALTER FUNCTION public.f(integer) COST 7",
           "function public.f(integer): cost none in spec, 7 in database", "small"),
    Change("function.rows", "change a set-returning function's rows", "ALTER FUNCTION public.g(integer) ROWS 9",
           "function public.g(integer): rows 5 in spec, 9 in database", "small"),
    Change("function.argument defaults", "change an argument default",
           "CREATE OR REPLACE FUNCTION public.g(n integer DEFAULT 2) RETURNS SETOF integer LANGUAGE sql ROWS 5 "
           "AS 'SELECT generate_series(1, n)'",
           "function public.g(integer): argument defaults n DEFAULT 1 in spec, n DEFAULT 2 in database", "small"),
    Change("function.returns", "return a set of another type",
           "DROP FUNCTION public.g(integer); CREATE FUNCTION public.g(n integer DEFAULT 1) RETURNS SETOF bigint "
           "LANGUAGE sql ROWS 5 AS 'SELECT generate_series(1, n)'; REVOKE ALL ON FUNCTION public.g(integer) "
           "FROM PUBLIC", "function public.g(integer): returns SETOF integer in spec, SETOF bigint in database",
           "small"),
    Change("function.comment", "change a function comment",
           "COMMENT ON FUNCTION public.is_support_staff() IS 'Staff?'",
           "function public.is_support_staff(): comment 'Whether the calling user is support staff "
           "(platform_admin, support_admin, support_manager, support_agent).' in spec, 'Staff?' in database"),
    Change("constraint_options.deferrable", "a deferred foreign key made immediate",
           "ALTER TABLE public.counters ALTER CONSTRAINT counters_parent_fkey NOT DEFERRABLE",
           "constraint public.counters.counters_parent_fkey: deferrable initially deferred in spec, false in "
           "database", "small"),
    Change("constraint_options.not_valid", "a NOT VALID foreign key validated",
           "ALTER TABLE public.counters VALIDATE CONSTRAINT counters_parent_fkey",
           "constraint public.counters.counters_parent_fkey: not_valid true in spec, false in database", "small"),
    Change("constraint_options.nulls_not_distinct", "a unique key whose nulls become distinct",
           "ALTER TABLE public.counters DROP CONSTRAINT counters_label_key, ADD CONSTRAINT counters_label_key "
           "UNIQUE (label)",
           "constraint public.counters.counters_label_key: nulls_not_distinct true in spec, false in database",
           "small"),
    Change("constraint_options.using", "an exclusion constraint under another method",
           "ALTER TABLE public.counters DROP CONSTRAINT counters_no_overlap, ADD CONSTRAINT counters_no_overlap "
           "EXCLUDE USING spgist (during WITH &&)",
           "constraint public.counters.counters_no_overlap: using gist in spec, spgist in database", "small"),
    Change("constraint_options.elements", "an exclusion constraint with another operator",
           "ALTER TABLE public.counters DROP CONSTRAINT counters_no_overlap, ADD CONSTRAINT counters_no_overlap "
           "EXCLUDE USING gist (during WITH -|-)",
           "constraint public.counters.counters_no_overlap: elements (during WITH &&) in spec, (during WITH -|-) "
           "in database", "small"),
    Change("constraint_options.WHERE", "an exclusion constraint made partial",
           "ALTER TABLE public.counters DROP CONSTRAINT counters_no_overlap, ADD CONSTRAINT counters_no_overlap "
           "EXCLUDE USING gist (during WITH &&) WHERE (label IS NOT NULL)",
           "constraint public.counters.counters_no_overlap: WHERE differs: spec (none) database "
           "((label IS NOT NULL))", "small"),
    Change("constraint.add 1", "replace a CHECK by a UNIQUE of the same name",
           "ALTER TABLE public.support_tickets DROP CONSTRAINT valid_source, ADD CONSTRAINT valid_source "
           "UNIQUE (source)",
           "constraint public.support_tickets.valid_source: check in spec, unique in database"),
    Change("constraint.columns", "move a UNIQUE to another column",
           "ALTER TABLE public.support_ticket_categories DROP CONSTRAINT support_ticket_categories_slug_key, "
           "ADD CONSTRAINT support_ticket_categories_slug_key UNIQUE (name)",
           "constraint public.support_ticket_categories.support_ticket_categories_slug_key: columns (slug) in "
           "spec, (name) in database"),
    Change("constraint.references", "point a foreign key elsewhere",
           "ALTER TABLE public.ticket_messages DROP CONSTRAINT ticket_messages_user_id_fkey, ADD CONSTRAINT "
           "ticket_messages_user_id_fkey FOREIGN KEY (user_id) REFERENCES public.tenants (id) ON DELETE SET "
           "NULL",
           "constraint public.ticket_messages.ticket_messages_user_id_fkey: references auth.users(id) in "
           "spec, public.tenants(id) in database"),
    Change("constraint.ON UPDATE", "give a foreign key an ON UPDATE",
           "ALTER TABLE public.ticket_messages DROP CONSTRAINT ticket_messages_ticket_id_fkey, ADD CONSTRAINT "
           "ticket_messages_ticket_id_fkey FOREIGN KEY (ticket_id) REFERENCES public.support_tickets (id) ON "
           "DELETE CASCADE ON UPDATE CASCADE",
           "constraint public.ticket_messages.ticket_messages_ticket_id_fkey: ON UPDATE no action in spec, "
           "cascade in database"),
    Change("index.unique", "make an index unique",
           "DROP INDEX public.idx_support_tickets_priority; CREATE UNIQUE INDEX idx_support_tickets_priority "
           "ON public.support_tickets (priority)",
           "index public.idx_support_tickets_priority: unique false in spec, true in database"),
    Change("index.method", "change an index method",
           "DROP INDEX public.idx_support_tickets_priority; CREATE INDEX idx_support_tickets_priority ON "
           "public.support_tickets USING hash (priority)",
           "index public.idx_support_tickets_priority: method btree in spec, hash in database"),
    Change("index.keys", "change an index's keys",
           "DROP INDEX public.idx_support_tickets_priority; CREATE INDEX idx_support_tickets_priority ON "
           "public.support_tickets (status)",
           "index public.idx_support_tickets_priority: keys (priority) in spec, (status) in database"),
    Change("index.comment", "comment an index", "COMMENT ON INDEX public.idx_support_tickets_priority IS 'Fast.'",
           "index public.idx_support_tickets_priority: comment none in spec, 'Fast.' in database"),
    *(Change(f"trigger.{field}", f"recreate a trigger with another {field}",
             "DROP TRIGGER update_support_tickets_updated_at ON public.support_tickets; "
             f"CREATE TRIGGER update_support_tickets_updated_at {definition} ON public.support_tickets {rest}",
             f"trigger public.support_tickets.update_support_tickets_updated_at: {field} {expected}")
      for field, definition, rest, expected in (
          ("timing", "AFTER UPDATE", "FOR EACH ROW EXECUTE FUNCTION public.update_updated_at_column()",
           "before in spec, after in database"),
          ("events", "BEFORE INSERT OR UPDATE", "FOR EACH ROW EXECUTE FUNCTION public.update_updated_at_column()",
           "(update) in spec, (insert, update) in database"),
          ("UPDATE OF", "BEFORE UPDATE OF subject", "FOR EACH ROW EXECUTE FUNCTION public.update_updated_at_column()",
           "() in spec, (subject) in database"),
          ("for each", "BEFORE UPDATE", "FOR EACH STATEMENT EXECUTE FUNCTION public.update_updated_at_column()",
           "row in spec, statement in database"),
          ("function", "BEFORE UPDATE", "FOR EACH ROW EXECUTE FUNCTION public.update_ticket_metrics()",
           "public.update_updated_at_column in spec, public.update_ticket_metrics in database"),
          ("arguments", "BEFORE UPDATE", "FOR EACH ROW EXECUTE FUNCTION public.update_updated_at_column('x')",
           "() in spec, ('x') in database"),
          ("WHEN", "BEFORE UPDATE",
           "FOR EACH ROW WHEN (OLD.subject <> NEW.subject) EXECUTE FUNCTION public.update_updated_at_column()",
           "differs: spec (none) database (CAST(old.subject AS text) <> CAST(new.subject AS text))"))),
    Change("trigger.comment", "comment a trigger",
           "COMMENT ON TRIGGER update_support_tickets_updated_at ON public.support_tickets IS 'Stamps.'",
           "trigger public.support_tickets.update_support_tickets_updated_at: comment none in spec, 'Stamps.' "
           "in database"),
    Change("policy.command", "widen a policy to every command",
           'DROP POLICY "Customers can view their own tickets" ON public.support_tickets; CREATE POLICY '
           '"Customers can view their own tickets" ON public.support_tickets FOR ALL TO authenticated, support_staff '
           'USING '
           "(customer_id = (SELECT auth.uid()))",
           'policy public.support_tickets."Customers can view their own tickets": command select in spec, all '
           "in database"),
    Change("policy.mode", "make a policy restrictive",
           'DROP POLICY "Customers can view their own tickets" ON public.support_tickets; CREATE POLICY '
           '"Customers can view their own tickets" ON public.support_tickets AS RESTRICTIVE FOR SELECT TO '
           "authenticated, support_staff USING (customer_id = (SELECT auth.uid()))",
           'policy public.support_tickets."Customers can view their own tickets": mode permissive in spec, '
           "restrictive in database"),
    Change("policy.WITH CHECK", "open a policy's WITH CHECK",
           'ALTER POLICY "Customers can create tickets" ON public.support_tickets WITH CHECK (true)',
           'policy public.support_tickets."Customers can create tickets": WITH CHECK differs: spec '
           "(support_tickets.customer_id = (SELECT auth.uid() AS uid) AND support_tickets.tenant_id IN "
           "(SELECT tm.tenant_id AS tenant_id FROM tenant_members AS tm WHERE tm.user_id = (SELECT auth.uid() "
           "AS uid))) database ('true')"),
    Change("policy.comment", "comment a policy",
           'COMMENT ON POLICY "Customers can create tickets" ON public.support_tickets IS \'Open.\'',
           'policy public.support_tickets."Customers can create tickets": comment none in spec, \'Open.\' in '
           "database"),
    Change("view.query", "change a view's query",
           "CREATE OR REPLACE VIEW public.v_agent_ticket_stats WITH (security_invoker = true) AS SELECT "
           "assigned_to AS agent_id, count(*) AS total_assigned, 0::bigint AS open_tickets, 0::bigint AS "
           "in_progress_tickets, 0::bigint AS resolved_tickets, avg(response_time_minutes) AS "
           "avg_response_time, avg(resolution_time_minutes) AS avg_resolution_time, avg(satisfaction_rating) "
           "AS avg_satisfaction FROM public.support_tickets GROUP BY assigned_to",
           "view public.v_agent_ticket_stats: query differs: spec (…S agent_id, count(*) AS total_assigned, "
           "count(*) FILTER (WHERE support_tickets.status = 'open') AS open_tickets, count(*) FILTER (WHERE "
           "support_tickets.status = 'in_progress') AS in_progress_tickets, count(*) FILTER (WHERE "
           "support_tickets.status = 'resolved') AS resolved_tickets, "
           "avg(support_tickets.response_time_minutes) FILTER (WHERE support_tickets.response_time_minutes IS "
           "NOT NULL) AS avg_response_time, avg(support_tickets.resolution_time_minutes) FILTER (WHERE "
           "support_tickets.resolution_time_minutes IS NOT NULL) AS avg_resolution_time, "
           "avg(support_tickets.satisfaction_rating) FILTER (WHERE support_tickets.satisfaction_rating IS NOT "
           "NULL) AS avg_satisfaction FROM support_tickets WHERE support_tickets.assigned_to IS NOT NULL "
           "GROUP BY support_tickets.assigned_to) database (…S agent_id, count(*) AS total_assigned, '0' AS "
           "open_tickets, '0' AS in_progress_tickets, '0' AS resolved_tickets, "
           "avg(support_tickets.response_time_minutes) AS avg_response_time, "
           "avg(support_tickets.resolution_time_minutes) AS avg_resolution_time, "
           "avg(support_tickets.satisfaction_rating) AS avg_satisfaction FROM support_tickets GROUP BY "
           "support_tickets.assigned_to)"),
    Change("index.include", "drop an index's INCLUDE column",
           "DROP INDEX public.counters_tag_label_idx; "
           "CREATE UNIQUE INDEX counters_tag_label_idx ON public.counters (label) NULLS NOT DISTINCT",
           "index public.counters_tag_label_idx: include (tag) in spec, () in database", "small"),
    Change("index.nulls_not_distinct", "make an index's nulls distinct again",
           "DROP INDEX public.counters_tag_label_idx; "
           "CREATE UNIQUE INDEX counters_tag_label_idx ON public.counters (label) INCLUDE (tag)",
           "index public.counters_tag_label_idx: nulls_not_distinct true in spec, false in database", "small"),
    Change("table.unlogged", "make a table unlogged", "ALTER TABLE public.counters SET UNLOGGED",
           "table public.counters: unlogged false in spec, true in database", "small"),
    Change("view.check_option", "make a view's check option cascaded",
           "ALTER VIEW public.positive_counters SET (check_option = cascaded)",
           "view public.positive_counters: check_option local in spec, cascaded in database", "small"),
    Change("owner.owner", "give a table another owner",
           f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{OTHER_OWNER}') THEN "
           f"CREATE ROLE {OTHER_OWNER}; END IF; END $$; ALTER TABLE public.counters OWNER TO {OTHER_OWNER}",
           f"table public.counters: owner {SMALL_OWNER} in spec, {OTHER_OWNER} in database", "small"),
    Change("view.pair trigger", "drop a view's INSTEAD OF trigger",
           "DROP TRIGGER counter_labels_insert ON public.counter_labels",
           "trigger public.counter_labels.counter_labels_insert: missing in database", spec="small"),
    Change("trigger.enabled", "fire a trigger while replaying replication too",
           "ALTER TABLE public.counters ENABLE ALWAYS TRIGGER counted",
           "trigger public.counters.counted: enabled origin in spec, always in database", spec="small"),
    Change("trigger.constraint", "make a trigger a constraint trigger",
           "DROP TRIGGER counted ON public.counters; CREATE CONSTRAINT TRIGGER counted AFTER UPDATE ON "
           "public.counters FOR EACH ROW EXECUTE FUNCTION public.tg()",
           "trigger public.counters.counted: constraint false in spec, true in database", spec="small"),
    *(Change(f"trigger.{field}", f"recreate a constraint trigger {clause}",
             "DROP TRIGGER settled ON public.counters; CREATE CONSTRAINT TRIGGER settled AFTER INSERT ON "
             f"public.counters {clause} FOR EACH ROW EXECUTE FUNCTION public.tg()",
             f"trigger public.counters.settled: {field} {expected}", spec="small")
      for field, clause, expected in (("deferrable", "NOT DEFERRABLE", "true in spec, false in database"),
                                      ("initially deferred", "DEFERRABLE INITIALLY DEFERRED",
                                       "false in spec, true in database"))),
    *(Change(f"trigger.{side}_table", f"give a trigger an {side} transition table",
             f"DROP TRIGGER counted ON public.counters; CREATE TRIGGER counted AFTER UPDATE ON public.counters "
             f"REFERENCING {side.upper()} TABLE AS {side}_rows FOR EACH ROW EXECUTE FUNCTION public.tg()",
             f"trigger public.counters.counted: {side}_table none in spec, {side}_rows in database", spec="small")
      for side in ("old", "new")),
    Change("run.pair materialized view", "drop a materialized view",
           "DROP MATERIALIZED VIEW public.counter_totals",
           "materialized view public.counter_totals: missing in database", spec="small"),
    Change("matview.query", "recreate a materialized view with another query",
           "DROP MATERIALIZED VIEW public.counter_totals; CREATE MATERIALIZED VIEW public.counter_totals AS SELECT "
           "count(*) + 1 AS n FROM public.counters; CREATE UNIQUE INDEX counter_totals_label "
           "ON public.counter_totals (n); REVOKE ALL ON public.counter_totals FROM PUBLIC",  # default privileges
           "materialized view public.counter_totals: query differs: spec (SELECT count(*) AS n FROM counters) "
           "database (SELECT (count(*) + 1) AS n FROM counters)",
           spec="small"),
    *(Change(f"matview.{field}", f"{field} of a materialized view", statement, expected, spec="small")
      for field, statement, expected in (
          ("with_data", "REFRESH MATERIALIZED VIEW public.counter_totals WITH NO DATA",
           "materialized view public.counter_totals: with_data true in spec, false in database"),
          ("pair index", "DROP INDEX public.counter_totals_label",
           "index public.counter_totals_label: missing in database"),
          ("grants", "GRANT SELECT ON public.counter_totals TO pgspec_drift_role",
           "grant SELECT on public.counter_totals to pgspec_drift_role: in database, not in spec"),
          ("comment", "COMMENT ON MATERIALIZED VIEW public.counter_totals IS 'Totals.'",
           "materialized view public.counter_totals: comment none in spec, 'Totals.' in database"))),
    *(Change(field, label, statement, expected, spec="small") for field, label, statement, expected in (
        ("partition_by.partition_by", "another partition key",
         "DROP TABLE public.readings; "
         "CREATE TABLE public.readings (at date NOT NULL, region text NOT NULL) PARTITION BY RANGE ((at + 0)); "
         "CREATE TABLE public.readings_2026 PARTITION OF public.readings "
         "FOR VALUES FROM ('2026-01-01') TO ('2027-01-01'); "
         "CREATE TABLE public.readings_2027 PARTITION OF public.readings FOR VALUES FROM ('2027-01-01') TO "
         "('2028-01-01') PARTITION BY LIST (region); "
         "CREATE TABLE public.readings_2027_eu PARTITION OF public.readings_2027 FOR VALUES IN ('eu'); "
         "CREATE TABLE public.readings_old PARTITION OF public.readings DEFAULT; "
         "REVOKE ALL ON public.readings, public.readings_2026, public.readings_2027, public.readings_2027_eu, "
         "public.readings_old FROM PUBLIC",
         "table public.readings: partition_by range (at) in spec, range (((at + 0))) in database"),
        ("partitioning.pair partition", "a partition dropped", "DROP TABLE public.readings_old",
         "partition public.readings_old: missing in database"),
        ("partition.parent", "a partition moved to another parent",
         "ALTER TABLE public.readings DETACH PARTITION public.readings_2026; ALTER TABLE public.readings_2027 "
         "ATTACH PARTITION public.readings_2026 FOR VALUES IN ('us')",
         "partition public.readings_2026: parent public.readings in spec, public.readings_2027 in database"),
        ("partition_by.partition_by", "another key of a partitioned partition",
         "ALTER TABLE public.readings_2027 DETACH PARTITION public.readings_2027_eu; "
         "ALTER TABLE public.readings DETACH PARTITION public.readings_2027; DROP TABLE public.readings_2027; "
         "CREATE TABLE public.readings_2027 PARTITION OF public.readings FOR VALUES FROM ('2027-01-01') TO "
         "('2028-01-01') PARTITION BY LIST (upper(region)); REVOKE ALL ON public.readings_2027 FROM PUBLIC; "
         "ALTER TABLE public.readings_2027 ATTACH PARTITION public.readings_2027_eu FOR VALUES IN ('eu')",
         "partition public.readings_2027: partition_by list (region) in spec, list (upper(region)) in database"),
        ("bounds.add 1", "other bounds",
         "ALTER TABLE public.readings DETACH PARTITION public.readings_2026; ALTER TABLE public.readings ATTACH "
         "PARTITION public.readings_2026 FOR VALUES FROM ('2026-01-01') TO ('2026-06-01')",
         "partition public.readings_2026: bounds FOR VALUES FROM ('2026-01-01') TO ('2027-01-01') in spec, "
         "FOR VALUES FROM ('2026-01-01') TO ('2026-06-01') in database"),
        ("partition.grants", "a partition granted", "GRANT SELECT ON public.readings_2026 TO pgspec_drift_role",
         "grant SELECT on public.readings_2026 to pgspec_drift_role: in database, not in spec"),
        ("partition.comment", "a partition commented", "COMMENT ON TABLE public.readings_2026 IS 'x'",
         "partition public.readings_2026: comment none in spec, 'x' in database"),
        ("partition.add 1", "an index of a partition alone", "CREATE INDEX readings_old_at ON public.readings_old (at)",
         "partition public.readings_old: index readings_old_at of its own in database (the spec gives a partition "
         "only its parent's)"))),
    *(Change("sequence.owned_by", label, statement, expected, spec="small") for label, statement, expected in (
        ("a sequence no longer owned by its column", "ALTER SEQUENCE public.tickets_n_seq OWNED BY NONE",
         "sequence public.tickets_n_seq: owned_by public.tickets.n in spec, none in database"),
        ("a sequence owned by another column", "ALTER SEQUENCE public.tickets_n_seq OWNED BY public.readings.region",
         "sequence public.tickets_n_seq: owned_by public.tickets.n in spec, public.readings.region in database"))),
    Change("view.security_barrier", "make a view a security barrier",
           "ALTER VIEW public.v_agent_ticket_stats SET (security_barrier = true)",
           "view public.v_agent_ticket_stats: security_barrier false in spec, true in database"),
    Change("view.grants", "grant a view to anon",
           "GRANT SELECT ON public.v_agent_ticket_stats TO anon",
           "grant SELECT on public.v_agent_ticket_stats to anon: in database, not in spec"),
    Change("view.comment", "comment a view",
           "COMMENT ON VIEW public.v_agent_ticket_stats IS 'Stats.'",
           "view public.v_agent_ticket_stats: comment 'Ticket counts and averages per assigned agent.' in "
           "spec, 'Stats.' in database"),
]


# What SPEC-131 cannot show alone: a role of its own (roles are cluster-wide), an empty schema, a sequence with an
# explicit maximum (so narrowing its type changes only the type), a function nothing depends on, an extension
# nothing uses (hstore's default version is 1.8 on PostgreSQL 15 and 18 alike), default privileges in public.
SMALL_SPEC = {"01-small.yaml": {
    "module": "Small", "roles": {SMALL_ROLE: {}, SMALL_OWNER: {}}, "schemas": {"scratch": {}},
    "extensions": {"hstore": {"schema": "public", "version": "1.8"}},
    "default_privileges": [{"schema": "public", "tables": {"public": ["select"]}}],
    "sequences": {"s": {"max_value": 1000}, "tickets_n_seq": {"type": "integer", "owned_by": "tickets.n"}},
    "types": {
        "mood": {"enum": ["happy", "sad"]}, "address": {"attributes": {"street": "text", "zip": "varchar(10)"}},
        "email": {"domain": "text", "not_null": True, "default": "'a@b'", "checks": {"shape": "VALUE ~ '@'"}},
        "label": {"domain": "text"}},
    "functions": {"f": {"args": {"a": "integer"}, "returns": "integer", "language": "sql", "body": "SELECT a"},
                  "g": {"args": {"n": {"type": "integer", "default": "1"}}, "returns": "setof integer",
                        "language": "sql", "rows": 5, "body": "SELECT generate_series(1, n)"},
                  "tg": {"returns": "trigger", "body": "BEGIN RETURN NULL; END"}},
    "tables": {"counters": {"owner": SMALL_OWNER, "columns": {
        "id": {"type": "integer", "primary_key": True,
               "identity": {"generated": "always", "start": 10, "increment": 2, "max_value": 1000, "cache": 5}},
        "label": "text", "tag": {"type": "text", "collation": "C"},
        "shout": {"type": "text", "generated": "upper(label)"}, "parent": "integer", "during": "tsrange"},
        "unique": {"counters_label_key": {"columns": ["label"], "nulls_not_distinct": True}},
        "foreign_keys": {"counters_parent_fkey": {"columns": ["parent"], "references": "counters(id)",
                                                  "deferrable": "initially deferred", "not_valid": True}},
        "excludes": {"counters_no_overlap": {"elements": {"during": "&&"}}},
        "indexes": {"counters_tag_label_idx": {"columns": ["label"], "include": ["tag"], "unique": True,
                                               "nulls_not_distinct": True}},
        "triggers": {"counted": {"timing": "after", "events": ["update"], "function": "tg"},
                     "settled": {"timing": "after", "events": ["insert"], "function": "tg", "constraint": True,
                                 "deferrable": True}}},
               # PostgreSQL's serial column: a sequence OWNED BY the column, and its nextval() default
               "tickets": {"columns": {"n": {"type": "integer", "not_null": True,
                                             "default_sql": "nextval('public.tickets_n_seq'::regclass)"}}},
               "readings": {"columns": {"at": {"type": "date", "not_null": True},
                                        "region": {"type": "text", "not_null": True}},
                            "partition_by": "range (at)", "partitions": {
                                "readings_2026": {"values": "from ('2026-01-01') to ('2027-01-01')"},
                                "readings_2027": {"values": "from ('2027-01-01') to ('2028-01-01')",
                                                  "partition_by": "list (region)",
                                                  "partitions": {"readings_2027_eu": {"values": "in ('eu')"}}},
                                "readings_old": {"default": True}}}},
    "views": {"positive_counters": {"query": "SELECT id, label FROM counters WHERE id > 0",
                                    "check_option": "local"},
              "counter_labels": {"query": "SELECT id, label FROM counters", "triggers": {
                  "counter_labels_insert": {"timing": "instead of", "events": ["insert"], "function": "tg"}}}},
    # no column references in its query: PostgreSQL 15 prints them qualified, 16+ not
    "materialized_views": {"counter_totals": {"query": "SELECT count(*) AS n FROM counters",
                                              "indexes": {"counter_totals_label": {"columns": ["n"],
                                                                                   "unique": True}}}},
    "raw": {"small_stats": {"sql": "CREATE STATISTICS public.counters_stats ON label, tag FROM public.counters",
                            "drop": "DROP STATISTICS public.counters_stats"}}}}


@pytest.fixture(scope="module")
def small_build(tmp_path_factory: pytest.TempPathFactory) -> Build:
    return build(write_spec(tmp_path_factory.mktemp("small"), SMALL_SPEC))


@pytest.fixture(scope="module")
def small_template(pg_server: live.Server, small_build: Build) -> Iterator[str]:
    """A database built from the small spec's schema.sql, with no drift: the template of each small case's
    database (building and verifying it once, not once per case)."""
    name = f"pgspec_small_{os.getpid()}"
    dsn = live.create_database(pg_server, name)
    live.apply_sql(dsn, sql_of(small_build.files, "schema.sql"))
    assert drift(dsn, small_build.catalog) == []
    yield name
    live.drop_database(pg_server, name)


@pytest.fixture(scope="module")
def case_sessions(pg_server: live.Server, schema_template: str, small_template: str) \
        -> Iterator[dict[str, psycopg.Connection[Any]]]:
    """Per spec (SPEC-131, small): a database from its template and a session on it as verify opens one
    (introspect.connect). Each one-line case changes the database inside a transaction, verifies what that
    transaction sees and rolls back: one database and one warm session for all the cases, not one each."""
    sessions: dict[str, psycopg.Connection[Any]] = {}
    names = {spec: f"pgspec_cases_{spec.replace('-', '')}_{os.getpid()}" for spec in ("SPEC-131", "small")}
    try:
        for spec, template in (("SPEC-131", schema_template), ("small", small_template)):
            sessions[spec] = introspect.connect(live.create_database(pg_server, names[spec], template=template))
        yield sessions
    finally:
        for conn in sessions.values():
            conn.close()
        for name in names.values():
            live.drop_database(pg_server, name)


DRIFT_SOURCE = Path(introspect.__file__).with_name("drift.py")
PLUMBING = {"__init__", "add", "spec", "database", "spec_schema_names", "pair", "value", "comment",
            "fragment", "normal_pair", "grants", "index_keys",
            # the children of platform tables: test_supabase_target_checks_what_the_spec_puts_on_platform_tables
            "platform_children", "children_of", "child"}


def compared_fields() -> set[str]:
    """Every field drift.py compares, read from its source: `METHOD.LABEL` for each comparison a method of _Drift
    makes: self.value/self.fragment with their label (or each label of the tuple a loop feeds them), `comment`
    and `grants`, `pair KIND` (an object only one side has), and `add N` for the N-th direct self.add (a
    difference worded by hand). A comparison added to drift.py without a case in CHANGES fails the test below."""
    tree = ast.parse(DRIFT_SOURCE.read_text(encoding="utf-8"))
    cls = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "_Drift")
    fields: set[str] = set()
    for method in (n for n in cls.body if isinstance(n, ast.FunctionDef) and n.name not in PLUMBING):
        loops = {ast.unparse(t): n.iter for n in ast.walk(method) if isinstance(n, ast.For)
                 for t in ([n.target] if isinstance(n.target, ast.Name) else getattr(n.target, "elts", [])[:1])}
        calls = sorted((n for n in ast.walk(method) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
                        and isinstance(n.func.value, ast.Name) and n.func.value.id == "self"),
                       key=lambda n: (n.lineno, n.col_offset))
        adds = 0
        for call in calls:
            kind = call.func.attr  # type: ignore[attr-defined]
            if kind in ("value", "fragment"):
                label = call.args[1]
                if isinstance(label, ast.Constant):
                    fields.add(f"{method.name}.{label.value}")
                else:  # a loop variable: each first string of the tuples it runs over
                    fields.update(f"{method.name}.{c.value}" for c in ast.walk(loops[ast.unparse(label)])
                                  if isinstance(c, ast.Constant) and isinstance(c.value, str)
                                  and not c.value.startswith(("_",)))
            elif kind in ("comment", "grants"):
                fields.add(f"{method.name}.{kind}")
            elif kind == "pair":
                fields.add(f"{method.name}.pair {call.args[0].value}")  # type: ignore[attr-defined]
            elif kind == "add":
                adds += 1
                fields.add(f"{method.name}.add {adds}")
    return fields


def test_every_compared_field_has_a_changed_database_case() -> None:
    fields = compared_fields()
    assert "policy.WITH CHECK" in fields and "sequence.cycle" in fields and "column.add 2" in fields  # the reader
    cases = {c.field for c in CHANGES}
    assert sorted(fields - cases) == [], "compared by drift.py, but no case in CHANGES changes it"
    assert sorted(cases - fields) == [], "a case in CHANGES for a field drift.py does not compare"


@pytest.mark.parametrize("change", CHANGES, ids=lambda c: f"{c.field}: {c.id}")
def test_one_change_is_one_line(change: Change, spec_build: Build, small_build: Build,
                                case_sessions: dict[str, psycopg.Connection[Any]]) -> None:
    conn = case_sessions[change.spec]
    catalog = spec_build.catalog if change.spec == "SPEC-131" else small_build.catalog
    # Rolled back: roles outlive a database, and the next case starts from the template's state again.
    with conn.transaction(force_rollback=True):
        conn.execute("SET TRANSACTION READ WRITE")  # the reading session's transactions are read-only by default
        conn.execute(change.sql.encode())  # bytes: one simple-protocol query, as apply_sql sends it
        differences, _ = verify_connection(conn, catalog)
    assert [str(d) for d in differences] == [change.expected]


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


def test_schemas_the_spec_does_not_declare_are_named_not_compared(schema_db: str) -> None:
    live.apply_sql(schema_db, "CREATE SCHEMA reports; CREATE TABLE reports.daily (day date); CREATE SCHEMA \"Odd\"")
    result = run("verify", "--db", schema_db)
    assert (result.returncode, result.stdout) == (0, "no drift\n"), result.stderr
    assert result.stderr == "not compared (the spec does not declare them): schemas Odd, reports\n"


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
    # the right-hand forms below are PostgreSQL 18's pg_get_expr of the left-hand ones
    ("a IN (b, 1, 2)", "((a = ANY (ARRAY[1, 2])) OR (a = b))"),
    # a table whose columns are not known (another schema, not read): `a` is still the row's column
    ("EXISTS (SELECT 1 FROM other.gone z WHERE z.k = a)", "(EXISTS ( SELECT 1 FROM other.gone z WHERE (z.k = t.a)))"),
    ("a = (VALUES (b))", "(a = ( VALUES (t.b)))"),
    ("'yes'::boolean", "true"),
    # PostgreSQL 18's pg_get_expr of a CHECK on t(a integer, b integer, status varchar)
    ("a NOT BETWEEN 1 AND 5", "((a < 1) OR (a > 5))"),
    ("pg_catalog.lower(status) = 'x'", "(lower((status)::text) = 'x'::text)"),  # pg_catalog is never printed
    ("a > '1.5'::numeric", "((a)::numeric > 1.5)"),  # a numeric constant, typed or not
    ("(a IN (b)) = false", "((a = b) = false)"),  # a one-element IN is an `=`, bracketed as an operator's operand
]
DIFFERENT = [
    ("a BETWEEN 1 AND 5", "((a >= 1) AND (a <= 6))"),
    ("status IN ('x', 'y')", "((status)::text = ANY (ARRAY['x'::text, 'z'::text]))"),
    ("a = (SELECT auth.uid())", "(b = ( SELECT auth.uid() AS uid))"),
    ("a IN (SELECT a FROM public.u WHERE id = b)", "(a IN ( SELECT u.a FROM u WHERE (u.id = t.a)))"),
    ("a > 0 OR false", "((a > 0) OR true)"),
    ("'1 day'::interval", "'2 days'::interval"),
    ("a > 1.5", "((a)::numeric > 2.5)"),
    ("a NOT BETWEEN 1 AND 5", "((a < 1) OR (a > 6))"),
]


_MEMOS = [None, "remembered"]  # each comparison made fresh and with normal forms remembered


def _canons(memo: str | None, key: object) -> tuple[Canon, Canon]:
    """The spec's and the database's Canon, as _Drift makes them (remembering, each side its own key)."""
    if memo is None:
        return Canon(COLUMNS.get), Canon(COLUMNS.get)
    return Canon(COLUMNS.get, memo=("spec", memo, key)), Canon(COLUMNS.get, memo=("db", memo, key))


@pytest.mark.parametrize("memo", _MEMOS)
@pytest.mark.parametrize(("spec", "database"), SAME)
def test_normal_form_undoes_postgresql_rewrites(spec: str, database: str, memo: str | None) -> None:
    ours, theirs = _canons(memo, spec)
    table = QName("public", "t")
    for _ in range(2):  # the second time from memory, when remembered
        assert ours.expression(spec, table) == theirs.expression(database, table)


@pytest.mark.parametrize("memo", _MEMOS)
@pytest.mark.parametrize(("spec", "database"), DIFFERENT)
def test_normal_form_keeps_real_differences(spec: str, database: str, memo: str | None) -> None:
    ours, theirs = _canons(memo, spec)
    table = QName("public", "t")
    for _ in range(2):
        assert ours.expression(spec, table) != theirs.expression(database, table)


# Tables of the same columns whose names the printer spells plainly, quoted, and quoted as a keyword.
ROW_TABLES = (QName("public", "tickets"), QName("public", "Other Table"), QName("app", "user"))
NAMING_THEIR_TABLE = ["tickets.a = 1", "a IN (SELECT x.a FROM public.tickets x WHERE x.b = b)",
                      'EXISTS (SELECT 1 FROM app."user" u WHERE u.a = "user".b)']


@pytest.mark.parametrize("text", sorted({x for pair in SAME + DIFFERENT for x in pair} | set(NAMING_THEIR_TABLE)))
def test_normal_form_shared_between_tables_is_each_tables_own(text: str) -> None:
    """A plan remembers a fragment's normal form once for every table of the same columns; for each table it
    must be the normal form computed for that table alone (which names the table in each column reference)."""
    columns = {**COLUMNS, **{table: COLUMNS[QName("public", "t")] for table in ROW_TABLES}}
    shared = Canon(columns.get, memo=("shared between tables", text))
    for table in ROW_TABLES:
        assert shared.expression(text, table) == Canon(columns.get).expression(text, table)


def test_normal_form_names_the_table_in_column_references() -> None:
    columns = {table: ("a", "b", "status") for table in ROW_TABLES}
    forms = [Canon(columns.get, memo=("names", 1)).expression("a BETWEEN 1 AND b", t) for t in ROW_TABLES]
    # SQL's spelling of each name as a qualifier: plain, quoted (a space), quoted (a reserved word).
    for form, qualifier in zip(forms, ("tickets", '"Other Table"', '"user"'), strict=True):
        assert form.count(f"{qualifier}.a") == 2 and form.count(f"{qualifier}.b") == 1, form


def test_view_star_and_positions() -> None:
    canon = Canon(COLUMNS.get)
    assert canon.query("SELECT t.*, count(*) AS n FROM public.t GROUP BY 1, 2, 3 ORDER BY 1") == canon.query(
        "SELECT t.a, t.b, t.status, count(*) AS n FROM t GROUP BY t.a, t.b, t.status ORDER BY t.a")


# (a view's query as written in a spec, PostgreSQL 18's pg_get_viewdef of it): each pair must compare equal.
SAME_QUERIES = [
    ("SELECT a AS x, count(*) AS n FROM public.t GROUP BY x", "SELECT a AS x, count(*) AS n FROM t GROUP BY a"),
    ("SELECT count(*) AS b FROM public.t JOIN public.u ON u.id = t.b GROUP BY b",  # GROUP BY: input columns first
     "SELECT count(*) AS b FROM (t JOIN u ON ((u.id = t.b))) GROUP BY t.b"),
    ("SELECT EXISTS (SELECT 1 FROM public.u) FROM public.t", 'SELECT (EXISTS ( SELECT 1 FROM u)) AS "exists" FROM t'),
    ("SELECT (SELECT id FROM public.u LIMIT 1) FROM public.t", "SELECT ( SELECT u.id FROM u LIMIT 1) AS id FROM t"),
    ("SELECT x.a FROM (SELECT a FROM public.t UNION SELECT id FROM public.u) x",
     "SELECT a FROM ( SELECT t.a FROM t UNION SELECT u.id FROM u) x"),
    ("SELECT * FROM (VALUES (1, 2)) v", "SELECT column1, column2 FROM ( VALUES (1,2)) v"),
    ("SELECT a FROM public.t WHERE a IN (b, 1, 2)", "SELECT a FROM t WHERE ((a = ANY (ARRAY[1, 2])) OR (a = b))"),
    ("SELECT (string_to_array(status, ','))[1] FROM public.t",
     "SELECT (string_to_array((status)::text, ','::text))[1] AS string_to_array FROM t"),
    ("SELECT CASE WHEN a > 0 THEN 'p' ELSE 'n'::text END FROM public.t",
     "SELECT CASE WHEN (a > 0) THEN 'p'::text ELSE 'n'::text END AS \"case\" FROM t"),
    ("SELECT x.a FROM (SELECT ROW(a, b), a FROM public.t) x",
     'SELECT a FROM ( SELECT ROW(t.a, t.b) AS "row", t.a FROM t) x'),
    ("SELECT '1'::integer, lower(status) FROM public.t", "SELECT 1 AS int4, lower((status)::text) AS lower FROM t"),
    ("SELECT public.t.a FROM public.t", "SELECT a FROM t"),
    ("SELECT t.a FROM public.t JOIN (public.u JOIN public.u u2 ON u2.id = u.id) ON u.a = t.a",
     "SELECT t.a FROM (t JOIN (u JOIN u u2 ON ((u2.id = u.id))) ON ((u.a = t.a)))"),
    # an ANY sub-query names its column ?column? (FigureColname: no name), LEAST and GREATEST after themselves
    ("SELECT a IN (SELECT id FROM public.u) FROM public.t", 'SELECT (a IN ( SELECT u.id FROM u)) AS "?column?" FROM t'),
    ("SELECT least(a, b), greatest(a, b) FROM public.t",
     'SELECT LEAST(a, b) AS "least", GREATEST(a, b) AS "greatest" FROM t'),
    # other.gone has a column k that the normal form does not know; x is the only FROM item, so k is x's whatever
    # x's columns are: both spellings are stored alike
    ("SELECT k FROM (SELECT z.* FROM other.gone z) x", "SELECT x.k FROM (SELECT z.* FROM other.gone z) x"),
    ("SELECT k FROM (SELECT * FROM other.gone z) x", "SELECT x.k FROM (SELECT * FROM other.gone z) x"),
    # a function in FROM: PostgreSQL prints its column list, which for a function of one unnamed column is the
    # alias (or the function's name, standing in for an alias); each database side is what PostgreSQL 18's
    # pg_get_viewdef printed for the spec side (tried live; line breaks left out)
    ("SELECT n FROM generate_series(1, 3) n", "SELECT n FROM generate_series(1, 3) n(n)"),
    ("SELECT n FROM generate_series(1, 3) AS n(n)", "SELECT n FROM generate_series(1, 3) n(n)"),
    ("SELECT generate_series FROM generate_series(1, 3)",
     "SELECT generate_series FROM generate_series(1, 3) generate_series(generate_series)"),
    ("SELECT s.n FROM generate_series(1, 3) s(n)", "SELECT n FROM generate_series(1, 3) s(n)"),
    ("SELECT n.n + t.a FROM public.t, generate_series(1, 3) n",
     'SELECT (n.n + t.a) AS "?column?" FROM t, generate_series(1, 3) n(n)'),
]


@pytest.mark.parametrize("memo", _MEMOS)
@pytest.mark.parametrize(("spec", "database"), SAME_QUERIES)
def test_normal_form_of_queries_undoes_postgresql_rewrites(spec: str, database: str, memo: str | None) -> None:
    ours, theirs = _canons(memo, spec)
    for _ in range(2):
        assert ours.query(spec) == theirs.query(database)


# Queries PostgreSQL stores differently.
DIFFERENT_QUERIES = [
    # a function's column renamed is another column (f's own column is not n)
    ("SELECT n FROM public.f() n", "SELECT n FROM f() n(y)"),
    ("SELECT n FROM generate_series(1, 3) n", "SELECT n FROM generate_series(1, 3) m(m)"),
    ("SELECT a FROM public.t GROUP BY a", "SELECT a FROM t"),
    ("SELECT count(*) AS n FROM public.t GROUP BY a", "SELECT count(*) AS n FROM t GROUP BY b"),
    ("SELECT count(*) AS n FROM public.t GROUP BY 1", "SELECT count(*) AS n FROM t GROUP BY 2"),
    # a star of a table of unknown columns is not an empty list, nor only the known table's columns
    ("SELECT z.* FROM other.gone z", "SELECT FROM other.gone z"),
    ("SELECT * FROM public.t, other.gone z", "SELECT t.a, t.b, t.status FROM t, other.gone z"),
]
@pytest.mark.parametrize("memo", _MEMOS)
@pytest.mark.parametrize(("spec", "database"), DIFFERENT_QUERIES)
def test_normal_form_of_queries_keeps_real_differences(spec: str, database: str, memo: str | None) -> None:
    ours, theirs = _canons(memo, spec)
    for _ in range(2):
        assert ours.query(spec) != theirs.query(database)


def test_normal_form_of_a_query_follows_the_columns_it_is_read_with() -> None:
    """The same text read against other columns (the spec's and the database's) expands `*` to each one's own."""
    wider = {**COLUMNS, QName("public", "t"): ("a", "b", "status", "extra")}
    assert Canon(COLUMNS.get).query("SELECT * FROM public.t") == Canon(COLUMNS.get).query(
        "SELECT t.a, t.b, t.status FROM t")
    assert Canon(wider.get).query("SELECT * FROM public.t") == Canon(wider.get).query(
        "SELECT t.a, t.b, t.status, t.extra FROM t")


def _server_constant(type_sql: str, value: str) -> str:
    """A few constants as PostgreSQL 18 prints them (what introspect.Constants asks the server)."""
    printed = {("regclass", "public.s"): "s", ("text[]", "{ a , b }"): "{a,b}"}
    return printed.get((type_sql, value), value)


def test_normal_form_respells_constants_as_the_server_prints_them() -> None:
    canon = Canon(COLUMNS.get, _server_constant)
    table = QName("public", "t")
    assert canon.expression("nextval('public.s')", table) == canon.expression("nextval('s'::regclass)", table)
    assert canon.expression("nextval('s')", table) != canon.expression("nextval('other'::regclass)", table)
    # a column default of a text array (PostgreSQL prints '{ a , b }' as '{a,b}'); a boolean default 't' as true
    assert canon.expression("'{ a , b }'::text[]", table) == canon.expression("'{a,b}'::text[]", table)
    assert canon.expression("'t'", table, cast_to="boolean") == canon.expression("true", table, cast_to="boolean")


def test_a_constant_its_type_refuses_leaves_a_callers_transaction_usable(
        case_sessions: dict[str, psycopg.Connection[Any]]) -> None:
    """verify inside a caller's transaction: a literal the server cannot convert stays as written (as in a session
    of its own), and the transaction goes on (the conversion ran in a savepoint)."""
    conn = case_sessions["small"]
    with conn.transaction(force_rollback=True):
        constant = introspect.Constants(conn)
        assert constant("integer", "not a number") == "not a number"
        assert constant("interval", "15 minutes") == "00:15:00"
        assert conn.execute("SELECT 1").fetchone() == (1,)


def test_excerpt_shows_where_texts_differ() -> None:
    a, b = excerpt("x" * 80 + "open" + "y" * 80, "x" * 80 + "closed" + "y" * 80, width=5)
    assert (a, b) == ("…xxxxxopenyyyyy…", "…xxxxxclosedyyyyy…")


# -- comparing two specs, without a database ---------------------------------------------------------------------------
# drift.compare of SMALL_SPEC against the snapshot another spec gives (migrate/snapshot.of_spec: what a database
# built from it reads back as): one field changed on the database's side, and the one difference it must make,
# worded as the module docstring words them (`<object>: <what> <spec's> in spec, <database's> in database`).
@dataclass(frozen=True)
class OfflineChange:
    id: str
    change: Any  # Callable[[dict], None]: edits the database's copy of SMALL_SPEC's module
    expected: list[tuple[str, str, object]]  # (line, what, detail) of each difference
    both: Any = None  # an edit made to both sides first (what SMALL_SPEC lacks for the case)
    snapshot: Any = None  # Callable[[Snapshot], Snapshot]: what the database reports beyond a spec's objects


def _small_catalog(tmp: Path, module: dict[str, Any]) -> Catalog:
    return check(load_spec(write_spec(tmp, {"01-small.yaml": module})))


def offline_drift(tmp: Path, case: OfflineChange, *, changed: bool = True) -> list[Difference]:
    spec_module, db_module = copy.deepcopy(SMALL_SPEC["01-small.yaml"]), copy.deepcopy(SMALL_SPEC["01-small.yaml"])
    for module in (spec_module, db_module):
        for edit in _edits(case.both):
            edit(module)
    if changed:
        for edit in _edits(case.change):
            edit(db_module)
    snapshot = of_spec(_small_catalog(tmp / "db", db_module))
    if changed and case.snapshot is not None:
        snapshot = case.snapshot(snapshot)
    return compare(_small_catalog(tmp / "spec", spec_module), snapshot)


def _edits(edit: Any) -> list[Any]:
    return [] if edit is None else list(edit) if isinstance(edit, list | tuple) else [edit]


def _set(path: str, value: object) -> Any:
    """Set SMALL_SPEC[...path...] = value (path: keys separated by '/'); None deletes the key."""
    def change(module: dict[str, Any]) -> None:
        *parents, last = path.split("/")
        for key in parents:
            module = module[key]
        if value is None:
            del module[last]
        else:
            module[last] = copy.deepcopy(value)
    return change


OFFLINE_CHANGES = [
    OfflineChange("a function body", _set("functions/f/body", "SELECT a + 1"),
                  [("function public.f(integer): body differs at line 1: spec 'SELECT a' database 'SELECT a + 1'",
                    "body", None)]),
    OfflineChange("an argument default dropped", _set("functions/g/args/n", "integer"),
                  [("function public.g(integer): argument defaults n DEFAULT 1 in spec, none in database",
                    "argument defaults", None)]),
    OfflineChange("a composite type's first attribute dropped, another retyped",
                  _set("types/address/attributes", {"zip": "varchar(20)"}),
                  [("type public.address: attribute street missing in database", "attribute missing", "street"),
                   ("type public.address: attribute zip: type varchar(10) in spec, varchar(20) in database",
                    "attribute type", "zip")]),
    OfflineChange("a domain check changed", _set("types/email/checks/shape", "VALUE ~ '@.'"),
                  [("type public.email: CHECK shape differs: spec (VALUE ~ '@') database (VALUE ~ '@.')", "check",
                    "shape")]),
    OfflineChange("a domain collated", _set("types/label/collation", "C"),
                  [("type public.label: collation none in spec, C in database", "collation", None)]),
    OfflineChange("a domain nullable", _set("types/email/not_null", None),
                  [("type public.email: not_null true in spec, false in database", "not_null", None)]),
    OfflineChange("a domain default dropped", _set("types/email/default", None),
                  [("type public.email: default 'a@b' in spec, none in database", "default", None)]),
    OfflineChange("a domain default changed", _set("types/email/default", "'b@c'"),
                  [("type public.email: default 'a@b' in spec, 'b@c' in database", "default", None)]),
    OfflineChange("another extension version", _set("extensions/hstore/version", "1.4"),
                  [("extension hstore: version 1.8 in spec, 1.4 in database", "version", None)]),
]


_COUNTERS = "tables/counters"
_POLICY = {"p": {"command": "select", "roles": ["public"], "using": "label <> ''"}}
_TABLE_ALL = ("insert", "select", "update", "delete", "truncate", "references", "trigger", "maintain")  # GRANT ALL
OFFLINE_CHANGES += [
    OfflineChange("a materialized view's owner", _set("materialized_views/counter_totals/owner", SMALL_ROLE),
                  [(f"materialized view public.counter_totals: owner {SMALL_OWNER} in spec, {SMALL_ROLE} in database",
                    "owner", None)], both=_set("materialized_views/counter_totals/owner", SMALL_OWNER)),
    OfflineChange("a partition's ALL, all but MAINTAIN in the database",
                  _set("tables/readings/partitions/readings_2026/grants", {SMALL_ROLE: list(_TABLE_ALL[:-1])}),
                  [(f"grant MAINTAIN on public.readings_2026 to {SMALL_ROLE}: missing in database", "missing",
                    (SMALL_ROLE, "maintain"))],
                  both=_set("tables/readings/partitions/readings_2026/grants", {SMALL_ROLE: ["all"]})),
    OfflineChange("a partition's owner", _set("tables/readings/partitions/readings_2026/owner", SMALL_ROLE),
                  [(f"partition public.readings_2026: owner {SMALL_OWNER} in spec, {SMALL_ROLE} in database", "owner",
                    None)], both=_set("tables/readings/partitions/readings_2026/owner", SMALL_OWNER)),
    OfflineChange("an index of a partition's own", lambda m: None,
                  [("partition public.readings_old: index readings_old_at of its own in database (the spec gives a "
                    "partition only its parent's)", "own", "index readings_old_at")],
                  snapshot=lambda s: dataclasses.replace(s, partition_own={
                      QName("public", "readings_old"): ("index readings_old_at",)})),
    OfflineChange("a policy's USING", _set(f"{_COUNTERS}/policies/p/using", "label <> 'x'"),
                  [("policy public.counters.\"p\": USING differs: spec (label <> '') database (label <> 'x')",
                    "USING", None)], both=_set(f"{_COUNTERS}/policies", _POLICY)),
    OfflineChange("a policy's WITH CHECK as PostgreSQL prints it (the row's column qualified in a sub-query)",
                  _set(f"{_COUNTERS}/policies/p/with_check",
                       "(EXISTS ( SELECT 1 FROM readings r WHERE (r.region = counters.label)))"), [],
                  both=_set(f"{_COUNTERS}/policies", {"p": {"command": "insert", "roles": ["public"],
                       "with_check": "EXISTS (SELECT 1 FROM public.readings r WHERE r.region = label)"}})),
    OfflineChange("a policy's comment", _set(f"{_COUNTERS}/policies/p/comment", "Labelled."),
                  [("policy public.counters.\"p\": comment none in spec, 'Labelled.' in database", "comment", None)],
                  both=_set(f"{_COUNTERS}/policies", _POLICY)),
    OfflineChange("a policy named with a double quote", _set(f"{_COUNTERS}/policies", {}),
                  [('policy public.counters."say ""hi""": missing in database', "missing", None)],
                  both=_set(f"{_COUNTERS}/policies", {'say "hi"': _POLICY["p"]})),
    OfflineChange("a schema's ALL as USAGE and CREATE",
                  _set("schemas/scratch/grants", {SMALL_ROLE: ["usage", "create"]}), [],
                  both=_set("schemas/scratch/grants", {SMALL_ROLE: ["all"]})),
    OfflineChange("a schema's owner", _set("schemas/scratch/owner", SMALL_ROLE),
                  [(f"schema scratch: owner {SMALL_OWNER} in spec, {SMALL_ROLE} in database", "owner", None)],
                  both=_set("schemas/scratch/owner", SMALL_OWNER)),
    OfflineChange("a constraint trigger no longer deferrable", _set(f"{_COUNTERS}/triggers/settled/deferrable", None),
                  [("trigger public.counters.settled: deferrable true in spec, false in database", "deferrable",
                    None)]),
    OfflineChange("a transition table", _set(f"{_COUNTERS}/triggers/counted/referencing", {"old_table": "old_rows"}),
                  [("trigger public.counters.counted: old_table none in spec, old_rows in database", "old_table",
                    None)]),
    OfflineChange("a transition table dropped", _set(f"{_COUNTERS}/triggers/counted/referencing", None),
                  [("trigger public.counters.counted: new_table new_rows in spec, none in database", "new_table",
                    None)], both=_set(f"{_COUNTERS}/triggers/counted/referencing", {"new_table": "new_rows"})),
    OfflineChange("a trigger's timing", _set(f"{_COUNTERS}/triggers/counted/timing", "before"),
                  [("trigger public.counters.counted: timing after in spec, before in database", "timing", None)]),
    OfflineChange("a trigger's function", _set(f"{_COUNTERS}/triggers/counted/function", "tg2"),
                  [("trigger public.counters.counted: function public.tg in spec, public.tg2 in database", "function",
                    None)], both=_set("functions/tg2", {"returns": "trigger", "body": "BEGIN RETURN NULL; END"})),
    OfflineChange("a view's security_invoker", _set("views/positive_counters/security_invoker", False),
                  [("view public.positive_counters: security_invoker true in spec, false in database",
                    "security_invoker", None)]),
    OfflineChange("a view's security_barrier", _set("views/positive_counters/security_barrier", True),
                  [("view public.positive_counters: security_barrier false in spec, true in database",
                    "security_barrier", None)]),
]

_FK = f"{_COUNTERS}/foreign_keys/counters_parent_fkey"
_IDX = f"{_COUNTERS}/indexes/counters_tag_label_idx"
_EXCLUDE = f"{_COUNTERS}/excludes/counters_no_overlap"
_R2027 = "tables/readings/partitions/readings_2027"
OFFLINE_CHANGES += [
    OfflineChange("a function's result type", _set("functions/f/returns", "bigint"),
                  [("function public.f(integer): returns integer in spec, bigint in database", "returns", None)]),
    OfflineChange("a column's type", _set(f"{_COUNTERS}/columns/label", "varchar(10)"),
                  [("column public.counters.label: type text in spec, varchar(10) in database", "type", None)]),
    OfflineChange("a column's comment", _set(f"{_COUNTERS}/columns/label", {"type": "text", "comment": "Name."}),
                  [("column public.counters.label: comment none in spec, 'Name.' in database", "comment", None)]),
    OfflineChange("a column made nullable", _set(f"{_COUNTERS}/columns/label", "text"),
                  [("column public.counters.label: NOT NULL in spec, nullable in database", "not_null", None)],
                  both=_set(f"{_COUNTERS}/columns/label", {"type": "text", "not_null": True})),
    OfflineChange("a column's default", _set(f"{_COUNTERS}/columns/label", {"type": "text", "default": "b"}),
                  [("column public.counters.label: default 'a' in spec, 'b' in database", "default", None)],
                  both=_set(f"{_COUNTERS}/columns/label", {"type": "text", "default": "a"})),
    # integer's largest value is an integer identity's default MAXVALUE (CREATE SEQUENCE): stated or not, the same
    OfflineChange("an identity's MAXVALUE left to its default",
                  _set(f"{_COUNTERS}/columns/id/identity/max_value", None), [],
                  both=_set(f"{_COUNTERS}/columns/id/identity/max_value", 2147483647)),
    OfflineChange("an identity's start", _set(f"{_COUNTERS}/columns/id/identity/start", 7),
                  [("column public.counters.id: identity start 10 in spec, 7 in database", "identity start", None)]),
    OfflineChange("a foreign key's ON DELETE", _set(f"{_FK}/on_delete", "cascade"),
                  [("constraint public.counters.counters_parent_fkey: ON DELETE no action in spec, cascade in "
                    "database", "ON DELETE", None)]),
    OfflineChange("a foreign key's ON UPDATE", _set(f"{_FK}/on_update", "cascade"),
                  [("constraint public.counters.counters_parent_fkey: ON UPDATE no action in spec, cascade in "
                    "database", "ON UPDATE", None)]),
    OfflineChange("a foreign key validated", _set(f"{_FK}/not_valid", None),
                  [("constraint public.counters.counters_parent_fkey: not_valid true in spec, false in database",
                    "not_valid", None)]),
    OfflineChange("a CHECK", _set(f"{_COUNTERS}/checks/positive", "id > 1"),
                  [("constraint public.counters.positive: CHECK differs: spec (id > 0) database (id > 1)", "CHECK",
                    None)], both=_set(f"{_COUNTERS}/checks", {"positive": "id > 0"})),
    OfflineChange("an exclusion constraint's WHERE", _set(f"{_COUNTERS}/excludes/counters_no_overlap/where", "id > 1"),
                  [("constraint public.counters.counters_no_overlap: WHERE differs: spec (id > 0) database (id > 1)",
                    "WHERE", None)], both=_set(f"{_COUNTERS}/excludes/counters_no_overlap/where", "id > 0")),
    OfflineChange("an exclusion constraint on an expression",
                  _set(f"{_EXCLUDE}/elements", {"during": "&&", "(upper(label))": "<>"}),
                  [("constraint public.counters.counters_no_overlap: elements (during WITH &&, "
                    "(upper(counters.label)) WITH =) in spec, (during WITH &&, (upper(counters.label)) WITH <>) in "
                    "database", "elements", None)],
                  both=_set(f"{_EXCLUDE}/elements", {"during": "&&", "(upper(label))": "="})),
    OfflineChange("a function's search_path of two schemas", _set("functions/f/search_path", ["public"]),
                  [("function public.f(integer): search_path 'public, pg_temp' in spec, 'public' in database",
                    "search_path", None)], both=_set("functions/f/search_path", ["public", "pg_temp"])),
    OfflineChange("a function granted", _set("functions/f/grants", {SMALL_ROLE: ["execute"]}),
                  [(f"grant EXECUTE on function public.f(integer) to {SMALL_ROLE}: in database, not in spec", "extra",
                    (SMALL_ROLE, "execute"))]),
    OfflineChange("a function granted to PUBLIC", _set("functions/f/grants", {"public": ["execute"]}),
                  [("grant EXECUTE on function public.f(integer) to PUBLIC: in database, not in spec", "extra",
                    ("public", "execute"))]),
    OfflineChange("a function's ALL as EXECUTE", _set("functions/f/grants", {SMALL_ROLE: ["execute"]}), [],
                  both=_set("functions/f/grants", {SMALL_ROLE: ["all"]})),
    OfflineChange("a function dropped", _set("functions/f", None),
                  [("function public.f(integer): missing in database", "missing", None)]),
    OfflineChange("an index's keys", _set(f"{_IDX}/columns", ["tag"]),
                  [("index public.counters_tag_label_idx: keys (label) in spec, (tag) in database", "keys", None)]),
    OfflineChange("an index's expression", _set(f"{_IDX}/columns", ["(lower(label))"]),
                  [("index public.counters_tag_label_idx: keys ((upper(counters.label))) in spec, "
                    "((lower(counters.label))) in database",
                    "keys", None)], both=_set(f"{_IDX}/columns", ["(upper(label))"])),
    OfflineChange("an index's collation", _set(f"{_IDX}/columns", ['label COLLATE "POSIX"']),
                  [('index public.counters_tag_label_idx: keys (label COLLATE "C") in spec, (label COLLATE "POSIX") in '
                    "database", "keys", None)], both=_set(f"{_IDX}/columns", ['label COLLATE "C"'])),
    OfflineChange("an index's NULLS FIRST", _set(f"{_IDX}/columns", ["label"]),
                  [("index public.counters_tag_label_idx: keys (label NULLS FIRST) in spec, (label) in database",
                    "keys", None)], both=_set(f"{_IDX}/columns", ["label NULLS FIRST"])),
    OfflineChange("a partition's key", _set(f"{_R2027}/partition_by", "list (lower(region))"),
                  [("partition public.readings_2027: partition_by list (upper(region)) in spec, list (lower(region)) "
                    "in database", "partition_by", None)],
                  both=_set(f"{_R2027}/partition_by", "list  (upper(region))")),
    OfflineChange("a partition key the parser cannot read (a newer server's)", lambda m: None,
                  [("table public.readings: partition_by range (at) in spec, range (at) USING FUTURE in database",
                    "partition_by", None)],
                  snapshot=lambda s: _with_table(s, "readings", partition_by="range (at) USING FUTURE")),
    OfflineChange("a generated column's expression", _set(f"{_COUNTERS}/columns/shout/generated", "lower(label)"),
                  [("column public.counters.shout: generated differs: spec (upper(label)) database (lower(label))",
                    "generated", None)]),
    OfflineChange("a role that logs in", _set(f"roles/{SMALL_ROLE}", {"login": True}),
                  [(f"role {SMALL_ROLE}: login false in spec, true in database", "login", None)]),
    OfflineChange("a table made unlogged", _set(f"{_COUNTERS}/unlogged", True),
                  [("table public.counters: unlogged false in spec, true in database", "unlogged", None)]),
    OfflineChange("RLS enabled", _set(f"{_COUNTERS}/rls", "enabled"),
                  [("table public.counters: RLS disabled in spec, enabled in database", "rls", None)]),
    OfflineChange("a column granted, of a column the spec does not have",
                  _set(f"{_COUNTERS}/columns/extra", {"type": "text", "grants": {SMALL_ROLE: ["select"]}}),
                  [("column public.counters.extra: in database, not in spec", "extra", None),
                   (f"grant SELECT (extra) on public.counters to {SMALL_ROLE}: in database, not in spec", "extra",
                    (SMALL_ROLE, "select"))]),
    OfflineChange("a primary key column without NOT NULL (PRIMARY KEY makes it one)", lambda m: None, [],
                  both=_set("tables/plain", {"columns": {"k": {"type": "integer", "primary_key": True}}})),
    # PostgreSQL's defaults: 1 .. 2^63-1 ascending, -2^63 .. -1 descending (bigint)
    OfflineChange("a sequence's bounds as the database states them", [
        _set("sequences/up", {"min_value": 1, "max_value": 9223372036854775807}),
        _set("sequences/down", {"increment": -1, "start": -1, "min_value": -9223372036854775808, "max_value": -1})],
        [], both=[_set("sequences/up", {}), _set("sequences/down", {"increment": -1, "start": -1})]),
    OfflineChange("CREATE on schema public granted (undeclared: PostgreSQL's defaults hold)", lambda m: None,
                  [(f"grant CREATE on schema public to {SMALL_ROLE}: in database, not in spec", "extra",
                    (SMALL_ROLE, "create"))],
                  snapshot=lambda s: dataclasses.replace(s, schema=Schema((dataclasses.replace(s.module, schemas=(
                      *s.module.schemas, SchemaDef(name="public", grants=(
                          Grant(role=SMALL_ROLE, privileges=("usage", "create")),)))),)))),
    # -- drift mutation survivors (B)
    OfflineChange("a foreign key no longer deferrable", _set(f"{_FK}/deferrable", None),
                  [("constraint public.counters.counters_parent_fkey: deferrable initially deferred in spec, false in "
                    "database", "deferrable", None)]),
]

# -- drift mutation survivors (A1)
# Each case kills a survivor of the drift mutation sample (bench/mutation/drift-survivors-A1.md); the expected lines
# follow the wording of the module docstring, and the values PostgreSQL's rules (defaults, what it stores alike).
_ADDRESS = "types/address/attributes"
_TOTALS_IDX = "materialized_views/counter_totals/indexes/counter_totals_label"
_RESERVED = ("alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel")
_NOT_RESERVED = " AND ".join(f"label <> '{w}'" for w in _RESERVED)  # 165 characters: shown as an excerpt


def _bounds_of_a_newer_server(snapshot: Snapshot) -> Snapshot:
    """readings_2026's bounds in a syntax the parser does not know (as a newer server might print them)."""
    readings = next(t for t in snapshot.module.tables if t.name == "readings")
    return _with_table(snapshot, "readings", partitions=tuple(
        dataclasses.replace(p, values="FROM ('2026-01-01') TO ('2027-01-01') WITH (future)")
        if p.name == "readings_2026" else p for p in readings.partitions))


OFFLINE_CHANGES += [
    OfflineChange("a composite type's attribute collated",
                  _set(f"{_ADDRESS}/zip", {"type": "varchar(10)", "collation": "C"}),
                  [("type public.address: attribute zip: collation none in spec, C in database", "attribute collation",
                    "zip")]),
    OfflineChange("a composite type's attribute added", _set(f"{_ADDRESS}/note", "text"),
                  [("type public.address: attribute note in database, not in spec", "attribute extra", "note")]),
    OfflineChange("a column's collation", _set(f"{_COUNTERS}/columns/tag/collation", "POSIX"),
                  [("column public.counters.tag: collation C in spec, POSIX in database", "collation", None)]),
    OfflineChange("a foreign key no longer initially deferred", _set(f"{_FK}/deferrable", True),
                  [("constraint public.counters.counters_parent_fkey: deferrable initially deferred in spec, true in "
                    "database", "deferrable", None)]),
    OfflineChange("an exclusion constraint's index method", _set(f"{_EXCLUDE}/using", "spgist"),
                  [("constraint public.counters.counters_no_overlap: using gist in spec, spgist in database", "using",
                    None)]),
    OfflineChange("an identity's increment", _set(f"{_COUNTERS}/columns/id/identity/increment", 3),
                  [("column public.counters.id: identity increment 2 in spec, 3 in database", "identity increment",
                    None)]),
    # an ascending sequence's default MINVALUE is 1 (CREATE SEQUENCE)
    OfflineChange("an identity's MINVALUE", _set(f"{_COUNTERS}/columns/id/identity/min_value", 5),
                  [("column public.counters.id: identity min_value 1 in spec, 5 in database", "identity min_value",
                    None)]),
    OfflineChange("a materialized view's index no longer unique", _set(f"{_TOTALS_IDX}/unique", False),
                  [("index public.counter_totals_label: unique true in spec, false in database", "unique", None)]),
    OfflineChange("a materialized view's index dropped", _set("materialized_views/counter_totals/indexes", {}),
                  [("index public.counter_totals_label: missing in database", "missing", None)]),
    # PostgreSQL takes a column qualified with the relation's name in an index expression, and prints it bare
    # (pg_get_indexdef: `((n + 1))`): the same index.
    OfflineChange("a materialized view's index expression naming the view", _set(f"{_TOTALS_IDX}/columns", ["(n + 1)"]),
                  [], both=_set(f"{_TOTALS_IDX}/columns", ["(counter_totals.n + 1)"])),
    OfflineChange("an index's INCLUDE", _set(f"{_IDX}/include", ["tag", "parent"]),
                  [("index public.counters_tag_label_idx: include (tag) in spec, (tag, parent) in database", "include",
                    None)]),
    OfflineChange("an index's NULLS NOT DISTINCT", _set(f"{_IDX}/nulls_not_distinct", None),
                  [("index public.counters_tag_label_idx: nulls_not_distinct true in spec, false in database",
                    "nulls_not_distinct", None)]),
    OfflineChange("an index's comment", _set(f"{_IDX}/comment", "Tags."),
                  [("index public.counters_tag_label_idx: comment 'Labels.' in spec, 'Tags.' in database", "comment",
                    None)], both=_set(f"{_IDX}/comment", "Labels.")),
    OfflineChange("an index's schema-qualified operator class",
                  _set(f"{_IDX}/columns", ["label pg_catalog.varchar_pattern_ops"]),
                  [("index public.counters_tag_label_idx: keys (label pg_catalog.text_pattern_ops) in spec, "
                    "(label pg_catalog.varchar_pattern_ops) in database", "keys", None)],
                  both=_set(f"{_IDX}/columns", ["label pg_catalog.text_pattern_ops"])),
    OfflineChange("a function's argument renamed", _set("functions/f/args", {"b": "integer"}),
                  [("function public.f(integer): arguments (a integer) in spec, (b integer) in database", "arguments",
                    None)], both=_set("functions/f/body", "SELECT $1")),
    OfflineChange("a function a procedure in the database",
                  [_set("functions/f", None),
                   _set("procedures", {"f": {"args": {"a": "integer"}, "language": "sql", "body": "SELECT a"}})],
                  [("function public.f(integer): kind function in spec, procedure in database", "kind", None)]),
    OfflineChange("a unique constraint a CHECK of the same name in the database",
                  [_set(f"{_COUNTERS}/unique", None),
                   _set(f"{_COUNTERS}/checks", {"counters_label_key": "label <> ''"})],
                  [("constraint public.counters.counters_label_key: unique in spec, check in database", "kind",
                    None)]),
    OfflineChange("a primary key of one more column", _set("tables/plain/primary_key", ["k", "j"]),
                  [("constraint public.plain.plain_pkey: columns (k) in spec, (k, j) in database", "columns", None)],
                  both=_set("tables/plain", {"columns": {"k": "integer", "j": {"type": "integer", "not_null": True}},
                                             "primary_key": ["k"]})),
    # a long CHECK is shown in normal form (columns qualified with the table) from 40 characters before the first
    # character that differs
    OfflineChange("a long CHECK", _set(f"{_COUNTERS}/checks/not_reserved", _NOT_RESERVED.replace("hotel", "india")),
                  [("constraint public.counters.not_reserved: CHECK differs: spec (….label <> 'golf' AND "
                    "counters.label <> 'hotel') database (….label <> 'golf' AND counters.label <> 'india')", "CHECK",
                    None)], both=_set(f"{_COUNTERS}/checks", {"not_reserved": _NOT_RESERVED})),
    # its bounds do not change where a partition is attached (FOR VALUES of another strategy under readings)
    OfflineChange("a partition moved to another parent",
                  [_set(f"{_R2027}/partitions", {}),
                   _set("tables/readings/partitions/readings_2027_eu",
                        {"values": "from ('2029-01-01') to ('2030-01-01')"})],
                  [("partition public.readings_2027_eu: parent public.readings_2027 in spec, public.readings in "
                    "database", "parent", None)]),
    OfflineChange("a partition's bounds the parser cannot read (a newer server's)", lambda m: None,
                  [("partition public.readings_2026: bounds FOR VALUES FROM ('2026-01-01') TO ('2027-01-01') in spec, "
                    "FOR VALUES FROM ('2026-01-01') TO ('2027-01-01') WITH (future) in database", "bounds", None)],
                  snapshot=_bounds_of_a_newer_server),
    # the database's default privileges in a schema the spec does not declare are not the spec's to check
    OfflineChange("default privileges in a schema the spec does not declare",
                  [_set("schemas/other", {}),
                   lambda m: m["default_privileges"].append({"schema": "other", "tables": {"public": ["select"]}})],
                  []),
    # objects of one kind in the order of their names as shown ('$' sorts before '.')
    OfflineChange("tables of two schemas, one's name the other's and more",
                  [_set("tables/sales.t", None), _set("tables/sales$eu.t", None)],
                  [("table sales$eu.t: missing in database", "missing", None),
                   ("table sales.t: missing in database", "missing", None)],
                  both=[_set("schemas/sales", {}), _set("schemas/sales$eu", {}),
                        _set("tables/sales.t", {"columns": {"a": "integer"}}),
                        _set("tables/sales$eu.t", {"columns": {"a": "integer"}})]),
    # a name ending in a newline: ident quotes it, pglast's printer does not (see Canon.expression); both sides of a
    # comparison must spell the table alike
    OfflineChange("a CHECK of a table whose name ends in a newline", lambda m: None, [],
                  both=_set("tables/t\n", {"columns": {"a": "integer"}, "checks": {"positive": "a > 0"}})),
]


def _with_table(snapshot: Snapshot, name: str, **fields: Any) -> Snapshot:
    tables = tuple(dataclasses.replace(t, **fields) if t.name == name else t for t in snapshot.module.tables)
    return dataclasses.replace(snapshot, schema=Schema((dataclasses.replace(snapshot.module, tables=tables),)))


# -- drift mutation survivors (A2)
_COUNTED_TRIGGER = f"{_COUNTERS}/triggers/counted"
OFFLINE_CHANGES += [
    # PostgreSQL takes the table's name on a key's column (CREATE TABLE r (at date) PARTITION BY RANGE ((r.at + 0)))
    # and prints it bare; either spelling is the same key
    OfflineChange("a partition key's column qualified by its table", lambda m: None, [],
                  both=_set("tables/readings/partition_by", "range ((at + 0))"),
                  snapshot=lambda s: _with_table(s, "readings", partition_by="range ((readings.at + 0))")),
    # a no-break space after the strategy (text pasted from a web page): the checker and the output take it, and
    # PostgreSQL prints the key it made of it as `RANGE (at)`
    OfflineChange("a partition key written with a no-break space", _set("tables/readings/partition_by", "RANGE (at)"),
                  [], both=_set("tables/readings/partition_by", "range\u00a0(at)")),
    # PostgreSQL stores an expression key that is only a column as that column, and prints it bare (pg_get_partkeydef
    # of PARTITION BY RANGE ((at)) is `RANGE (at)`); and a no-break space before an expression key is taken too
    OfflineChange("a partition key written as a column in parentheses", lambda m: None, [],
                  both=_set("tables/readings/partition_by", "range ((at))"),
                  snapshot=lambda s: _with_table(s, "readings", partition_by="RANGE (at)")),
    OfflineChange("a partition key of an expression after a no-break space", lambda m: None, [],
                  both=_set("tables/readings/partition_by", "range\u00a0((at + 0))"),
                  snapshot=lambda s: _with_table(s, "readings", partition_by="RANGE ((at + 0))")),
    OfflineChange("a policy's command", _set(f"{_COUNTERS}/policies/p/command", "update"),
                  [("policy public.counters.\"p\": command select in spec, update in database", "command", None)],
                  both=_set(f"{_COUNTERS}/policies", _POLICY)),
    OfflineChange("a policy's roles", _set(f"{_COUNTERS}/policies/p/roles", [SMALL_ROLE]),
                  [(f"policy public.counters.\"p\": roles (public) in spec, ({SMALL_ROLE}) in database", "roles",
                    None)], both=_set(f"{_COUNTERS}/policies", _POLICY)),
    # PostgreSQL takes USING (counters.label <> '') and pg_policies prints it `(label <> ''::text)`
    OfflineChange("a policy's USING with the row's column qualified by its table in the spec, bare in the database",
                  _set(f"{_COUNTERS}/policies/p/using", "(label <> ''::text)"), [],
                  both=_set(f"{_COUNTERS}/policies", {"p": {**_POLICY["p"], "using": "counters.label <> ''"}})),
    OfflineChange("a policy's WITH CHECK", _set(f"{_COUNTERS}/policies/p/with_check", "label <> 'x'"),
                  [("policy public.counters.\"p\": WITH CHECK differs: spec (label <> '') database (label <> 'x')",
                    "WITH CHECK", None)],
                  both=_set(f"{_COUNTERS}/policies", {"p": {"command": "insert", "roles": ["public"],
                                                            "with_check": "label <> ''"}})),
    OfflineChange("a raw object's SQL",
                  _set("raw/small_stats/sql",
                       "CREATE STATISTICS public.counters_stats ON label, shout FROM public.counters"),
                  [("raw small_stats: SQL changed since applied (the database recorded another fingerprint)", "sql",
                    None)]),
    OfflineChange("RLS disabled", _set(f"{_COUNTERS}/rls", None),
                  [("table public.counters: RLS enabled in spec, disabled in database", "rls", None)],
                  both=_set(f"{_COUNTERS}/rls", "enabled")),
    OfflineChange("RLS forced", _set(f"{_COUNTERS}/rls", "forced"),
                  [("table public.counters: RLS not forced in spec, forced in database", "force", None)],
                  both=_set(f"{_COUNTERS}/rls", "enabled")),
    OfflineChange("RLS no longer forced", _set(f"{_COUNTERS}/rls", "enabled"),
                  [("table public.counters: RLS forced in spec, not forced in database", "force", None)],
                  both=_set(f"{_COUNTERS}/rls", "forced")),
    OfflineChange("a schema's comment", _set("schemas/scratch/comment", "Scratch."),
                  [("schema scratch: comment 'Scratch space.' in spec, 'Scratch.' in database", "comment", None)],
                  both=_set("schemas/scratch/comment", "Scratch space.")),
    OfflineChange("a sequence's comment", _set("sequences/s/comment", "Counts."),
                  [("sequence public.s: comment none in spec, 'Counts.' in database", "comment", None)]),
    OfflineChange("a granted column the database does not have",
                  _set(f"{_COUNTERS}/columns/extra", None),
                  [("column public.counters.extra: missing in database", "missing", None),
                   (f"grant SELECT (extra) on public.counters to {SMALL_ROLE}: missing in database", "missing",
                    (SMALL_ROLE, "select"))],
                  both=_set(f"{_COUNTERS}/columns/extra", {"type": "text", "grants": {SMALL_ROLE: ["select"]}})),
    OfflineChange("a trigger made a constraint trigger", _set(f"{_COUNTED_TRIGGER}/constraint", True),
                  [("trigger public.counters.counted: constraint false in spec, true in database", "constraint",
                    None)]),
    OfflineChange("a trigger's arguments", _set(f"{_COUNTED_TRIGGER}/args", ["a", "c"]),
                  [("trigger public.counters.counted: arguments ('a', 'b') in spec, ('a', 'c') in database",
                    "arguments", None)], both=_set(f"{_COUNTED_TRIGGER}/args", ["a", "b"])),
    OfflineChange("a trigger's WHEN", _set(f"{_COUNTED_TRIGGER}/when", "NEW.label IS NOT NULL"),
                  [("trigger public.counters.counted: WHEN differs: spec (OLD.label IS DISTINCT FROM NEW.label) "
                    "database (NEW.label IS NOT NULL)", "WHEN", None)],
                  both=_set(f"{_COUNTED_TRIGGER}/when", "OLD.label IS DISTINCT FROM NEW.label")),
    OfflineChange("a type's comment", _set("types/mood/comment", "Feelings."),
                  [("type public.mood: comment none in spec, 'Feelings.' in database", "comment", None)]),
    OfflineChange("a view's check_option", _set("views/positive_counters/check_option", "cascaded"),
                  [("view public.positive_counters: check_option local in spec, cascaded in database", "check_option",
                    None)]),
    OfflineChange("a view granted", _set("views/positive_counters/grants", {SMALL_ROLE: ["select"]}),
                  [(f"grant SELECT on public.positive_counters to {SMALL_ROLE}: in database, not in spec", "extra",
                    (SMALL_ROLE, "select"))]),
]


@pytest.mark.parametrize("case", OFFLINE_CHANGES, ids=lambda c: c.id)
def test_one_change_is_one_difference_without_a_database(case: OfflineChange, tmp_path: Path) -> None:
    assert offline_drift(tmp_path, case, changed=False) == []  # the snapshot of the spec itself
    found = offline_drift(tmp_path, case)
    assert [(str(d), d.what, d.detail) for d in found] == case.expected


def test_supabase_target_without_a_database(tmp_path: Path) -> None:
    """--target supabase, on a snapshot: of a platform table only the children the spec puts there are compared
    (on_user_created); the platform's own objects (its function, type, trigger) are not."""
    spec = copy.deepcopy(PLATFORM_WITH_APP_TRIGGER)
    spec["00-platform.yaml"]["types"] = {"auth.level": {"enum": ["low"]}, "tier": {"enum": ["free"]}}  # tier: public
    db = copy.deepcopy(spec)
    platform, users = db["00-platform.yaml"], db["00-platform.yaml"]["tables"]["auth.users"]
    platform["functions"]["auth.audit"]["body"] = "BEGIN RETURN NULL; END"
    platform["types"]["auth.level"]["enum"] = ["low", "high"]
    platform["types"]["tier"]["enum"] = ["free", "pro"]
    users["triggers"]["on_user_created"]["timing"] = "before"
    users["triggers"]["platform_audit"]["timing"] = "before"
    catalog = check(load_spec(write_spec(tmp_path / "spec", spec)))
    snapshot = of_spec(check(load_spec(write_spec(tmp_path / "db", db))))
    app_trigger = "trigger auth.users.on_user_created: timing after in spec, before in database"
    _, _, skip = scope(catalog, include_platform=False)
    partial = platform_children(catalog, include_platform=False)
    assert [str(d) for d in compare(catalog, snapshot, skip=skip, partial=partial)] == [app_trigger]
    assert [str(d) for d in compare(catalog, snapshot)] == [
        "type auth.level: values (low) in spec, (low, high) in database",
        "type public.tier: values (free) in spec, (free, pro) in database",
        "function auth.audit(): body differs at line 1: spec 'BEGIN RETURN NEW; END' database 'BEGIN RETURN NULL; END'",
        app_trigger, "trigger auth.users.platform_audit: timing after in spec, before in database"]


def test_cli_without_a_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                capsys: pytest.CaptureFixture[str]) -> None:
    """`verify` with the database read replaced: one line per difference, the count (singular for one), and the
    platform compared unless --target supabase (the documented default: postgres, everything)."""
    spec = write_spec(tmp_path, SMALL_SPEC)
    targets: list[bool] = []

    def read(dsn: str, catalog: Catalog, *, include_platform: bool = True) -> tuple[list[Difference], list[str]]:
        targets.append(include_platform)
        return [Difference("table public.t", "missing in database")], []

    monkeypatch.setattr(drift_module, "verify_named", read)
    assert cli.main(["verify", "--db", "x", "--spec", str(spec)]) == 1
    out, err = capsys.readouterr()
    assert out == "table public.t: missing in database\n"
    assert err.startswith(f"1 difference between {spec} and the database (")
    assert cli.main(["verify", "--db", "x", "--spec", str(spec), "--target", "supabase"]) == 1
    assert targets == [True, False]


# -- drift mutation survivors (B) ---------------------------------------------------------------------------------
UNNAMED_SOURCES = ["SELECT k FROM (SELECT z.* FROM other.gone z)", "SELECT k FROM generate_series(1, 3)"]


@pytest.mark.parametrize("query", [*UNNAMED_SOURCES, "SELECT k FROM other.gone z, other.lost w",
                                   *(q for pair in SAME_QUERIES for q in pair)])
def test_normal_form_of_a_normal_form_is_itself(query: str) -> None:
    """A normal form is SQL again, and normal: a FROM item without a name (a sub-query or a function without an
    alias) qualifies no column, as SQL has no spelling for that qualifier."""
    canon = Canon(COLUMNS.get)
    normal = canon.query(query)
    assert canon.query(normal) == normal


def test_excerpt_keeps_short_texts_whole() -> None:
    """Two texts that differ from their first character, or where one ends (a prefix of the other), are shown
    whole when the difference is within the context width."""
    assert excerpt("open door", "closed door") == ("open door", "closed door")
    assert excerpt("x = 1", "x = 10") == ("x = 1", "x = 10")
    assert excerpt("x = 10", "x = 1") == ("x = 10", "x = 1")


def test_sequence_bounds_are_postgresqls_defaults() -> None:
    """CREATE SEQUENCE's defaults: ascending 1 .. the type's largest value, descending the type's smallest .. -1;
    a stated bound as stated."""
    bounds = drift_module.sequence_bounds
    assert bounds(model.Sequence(name="s")) == (1, 2**63 - 1)
    assert bounds(model.Sequence(name="s", type="integer")) == (1, 2**31 - 1)
    assert bounds(model.Sequence(name="s", type="smallint", increment=-2)) == (-2**15, -1)
    assert bounds(model.Sequence(name="s", type="integer", min_value=5, max_value=10)) == (5, 10)


def test_scope_leaves_out_every_platform_module(tmp_path: Path) -> None:
    """--target supabase leaves out the objects of every module marked platform, wherever it comes in the spec
    (here after the app's module), its schemas and roles first."""
    platform = copy.deepcopy(PLATFORM_WITH_APP_TRIGGER["00-platform.yaml"])
    platform["roles"] = {"pgspec_platform_admin": {}}
    catalog = check(load_spec(write_spec(tmp_path, {"01-app.yaml": PLATFORM_WITH_APP_TRIGGER["01-app.yaml"],
                                                    "02-platform.yaml": platform})))
    assert scope(catalog) == (["auth", "public"], ["pgspec_platform_admin"], frozenset())
    assert scope(catalog, include_platform=False) == (["public"], [], frozenset({
        "schema auth", "role pgspec_platform_admin", "function auth.audit", "table auth.users"}))


def test_verify_named_leaves_the_platform_alone_without_a_database(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """verify --target supabase, the database read replaced by a snapshot: a changed platform function is not
    drift; the app's trigger on a platform table is compared."""
    db = copy.deepcopy(PLATFORM_WITH_APP_TRIGGER)
    db["00-platform.yaml"]["functions"]["auth.audit"]["body"] = "BEGIN RETURN NULL; END"
    db["00-platform.yaml"]["tables"]["auth.users"]["triggers"]["on_user_created"]["timing"] = "before"
    snapshot = of_spec(check(load_spec(write_spec(tmp_path / "db", db))))
    catalog = check(load_spec(write_spec(tmp_path / "spec", PLATFORM_WITH_APP_TRIGGER)))
    monkeypatch.setattr(introspect, "connect", lambda dsn: contextlib.nullcontext(None))
    monkeypatch.setattr(introspect, "read", lambda conn, schemas, roles: snapshot)
    monkeypatch.setattr(introspect, "Constants", lambda conn: drift_module.same_constant)
    differences, _ = drift_module.verify_named("x", catalog, include_platform=False)
    assert [str(d) for d in differences] == [
        "trigger auth.users.on_user_created: timing after in spec, before in database"]


def test_cli_formats_and_other_schemas_without_a_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    """`verify --format json`: each difference a record of kind drift (report.Record's kinds); a database schema
    the spec does not declare is named on stderr (one: `schema`, singular)."""
    spec = write_spec(tmp_path, SMALL_SPEC)
    found: list[Difference] = [Difference("table public.t", "missing in database")]
    monkeypatch.setattr(drift_module, "verify_named", lambda dsn, catalog, **kw: (found, ["reports"]))
    assert cli.main(["verify", "--db", "x", "--spec", str(spec), "--format", "json"]) == 1
    out, err = capsys.readouterr()
    assert [(r["kind"], r["object"], r["message"]) for r in json.loads(out)] == [
        ("drift", "table public.t", "missing in database")]
    assert err.splitlines()[0] == "not compared (the spec does not declare them): schema reports"
    found.clear()
    assert cli.main(["verify", "--db", "x", "--spec", str(spec)]) == 0
    assert capsys.readouterr() == ("no drift\n", "not compared (the spec does not declare them): schema reports\n")


def test_normal_form_of_a_text_naming_its_table_is_its_own_remembered_or_not() -> None:
    """A text naming its table is normalised for that table alone, remembered or not, also when the printer spells
    the table's name otherwise than ident does (a name ending in a newline, which the printer leaves bare)."""
    table = QName("public", "t\n")
    columns = {table: ("a", "b")}
    for text in ('a > 0 AND "t\n".b < 5', 'EXISTS (SELECT 1 FROM public."t\n" x WHERE x.a = a)'):
        assert Canon(columns.get, memo=("naming its table", text)).expression(text, table) == Canon(
            columns.get).expression(text, table)


def test_a_text_that_happens_to_hold_its_tables_name_normalises_as_one_that_does_not() -> None:
    """Canon takes one of two paths per text (does the text hold the table's name?). A CHECK on table `t\n`
    written over lines, its first ending in `t`, holds `t\n`; PostgreSQL's one-line text of it does not. The two
    must still have one normal form, or `verify` reports a CHECK that did not change."""
    table = QName("public", "t\n")
    columns = {table: ("a", "b")}
    canon = Canon(columns.get, memo=("server", "database"))
    assert canon.expression("a > 0 AND b IS NOT\nNULL", table) == canon.expression("(a > 0) AND (b IS NOT NULL)", table)


# -- drift mutation survivors (A2)
def test_a_platform_table_missing_in_the_database_without_a_database(tmp_path: Path) -> None:
    """--target supabase: a platform table the spec puts a trigger on, absent from the database, is one difference
    of kind `table`, keyed by its name, `missing` (what the planner reads to create it); the next platform table's
    children are compared all the same."""
    spec = copy.deepcopy(PLATFORM_WITH_APP_TRIGGER)
    spec["00-platform.yaml"]["tables"]["auth.sessions"] = {
        "columns": {"id": {"type": "uuid", "primary_key": True}},
        "triggers": {"on_session": {"timing": "after", "events": ["insert"], "function": "public.handle_new_user"}}}
    db = copy.deepcopy(spec)
    del db["00-platform.yaml"]["tables"]["auth.sessions"]
    db["00-platform.yaml"]["tables"]["auth.users"]["triggers"]["on_user_created"]["timing"] = "before"
    catalog = check(load_spec(write_spec(tmp_path / "spec", spec)))
    snapshot = of_spec(check(load_spec(write_spec(tmp_path / "db", db))))
    _, _, skip = scope(catalog, include_platform=False)
    found = compare(catalog, snapshot, skip=skip, partial=platform_children(catalog, include_platform=False))
    assert [(str(d), d.kind, d.key, d.what) for d in found] == [
        ("table auth.sessions: missing in database", "table", QName("auth", "sessions"), "missing"),
        ("trigger auth.users.on_user_created: timing after in spec, before in database", "trigger",
         (QName("auth", "users"), "on_user_created"), "timing")]
