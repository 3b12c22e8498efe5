"""Lint rules: each fires on a tiny spec and on a live database, and stays quiet once the cause is fixed; SPEC-131's
original SQL has the findings its text implies; our spec is clean, with its suppressions, in YAML and live alike.

Offline cases write a spec to a temporary directory (a prelude with roles, auth.users and auth.uid(), plus one
module) and lint the model. Live cases apply the prelude (output/00-platform.sql) and hand-written SQL to an
empty database, run `lint --db`, apply the fix and run it again.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
import pytest
from conftest import OUTPUT, ROOT, SEED_DOC, SPEC, record
from seed_doc import schema_sql_blocks
from specs import run_in_process, write_spec

from generator import cli, live
from generator.check import check
from generator.derive import Catalog
from generator.diagnostics import NOWHERE, SpecError
from generator.lint import RULES, Finding, explain, lint, read_database, rules_markdown
from generator.load import load_spec
from generator.model import Schema
from generator.pipeline import Build

PRELUDE: dict[str, Any] = {
    "module": "Prelude",
    "platform": True,
    "roles": {"anon": {}, "authenticated": {}},
    "schemas": {"auth": {"grants": {"authenticated": ["usage"]}}},
    "functions": {"auth.uid": {
        "returns": "uuid", "language": "sql", "volatility": "stable", "search_path": "",
        "body": "SELECT nullif(current_setting('request.jwt.claim.sub', true), '')::uuid",
        "grants": {"authenticated": ["execute"]}}},
    "tables": {"auth.users": {"columns": {"id": {"type": "uuid", "primary_key": True}}}},
}
READ_ALL = {"read": {"command": "select", "roles": ["authenticated"], "using": "true"}}
# The SQL every live case starts from: a table that no rule finds anything in.
BASE_SQL = """
CREATE TABLE public.t (id uuid PRIMARY KEY, owner uuid, code text);
ALTER TABLE public.t ENABLE ROW LEVEL SECURITY;
CREATE POLICY read ON public.t FOR SELECT TO authenticated USING (true);
"""


def table(columns: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    """A table no rule finds anything in, plus `columns` and the keys in `extra`."""
    return {"columns": {"id": {"type": "uuid", "primary_key": True}, **(columns or {})}, "rls": "enabled",
            "policies": READ_ALL, **extra}


def partitioned(grants: dict[str, Any]) -> dict[str, Any]:
    """A table partitioned by range with RLS and one partition, granted `grants`."""
    return {"columns": {"at": {"type": "date", "primary_key": True}}, "rls": "enabled", "policies": READ_ALL,
            "partition_by": "range (at)", "partitions": {"t_2026": {
                "values": "from ('2026-01-01') to ('2027-01-01')", "grants": grants}}}


def policy(using: str, command: str = "select", roles: tuple[str, ...] = ("authenticated",)) -> dict[str, Any]:
    return {"command": command, "roles": list(roles), "using": using}


@dataclass
class Case:
    rule: str
    bad: dict[str, Any]  # the module (tables, functions, views) that triggers the rule
    good: dict[str, Any]  # the same, fixed
    bad_sql: str  # applied after BASE_SQL
    fix_sql: str
    where: str  # the object a live finding names
    id: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


OWNER = {"owner": {"type": "uuid"}}
STAFF = {"is_staff": {"returns": "boolean", "language": "sql", "volatility": "stable", "search_path": "",
                      "body": "SELECT true"}}
DEFINER = {"returns": "integer", "language": "sql", "body": "SELECT 1", "search_path": "", "security": "definer",
           "grants": {"authenticated": ["execute"]}}
ROLE = {"role_name": {"type": "text"}}
INLINE = "EXISTS (SELECT 1 FROM public.roles r WHERE r.user_id = (SELECT auth.uid()) AND r.role_name = 'admin')"
ADMIN = {"is_admin": {"returns": "boolean", "language": "sql", "volatility": "stable", "search_path": "",
                      "body": f"SELECT {INLINE}"}}
SQL_FN = {"returns": "integer", "language": "sql", "search_path": "", "body": "SELECT 1"}
ARRAY_OF_ROWS = {"returns": "integer", "language": "plpgsql", "search_path": "",
                 "body": "DECLARE v public.t[]; BEGIN RETURN cardinality(v); END"}
CASES = [
    Case("unindexed_foreign_keys",
         {"tables": {"parent": table(), "child": table({"parent_id": {"type": "uuid", "references": "parent(id)",
                                                                      "on_delete": "cascade"}})}},
         {"tables": {"parent": table(), "child": table({"parent_id": {"type": "uuid", "references": "parent(id)",
                                                                      "on_delete": "cascade"}},
                                                       indexes={"idx_child_parent": ["parent_id"]})}},
         "CREATE TABLE public.child (id uuid PRIMARY KEY, t_id uuid REFERENCES public.t (id) ON DELETE CASCADE);"
         "ALTER TABLE public.child ENABLE ROW LEVEL SECURITY;"
         "CREATE POLICY read ON public.child FOR SELECT TO authenticated USING (true);",
         "CREATE INDEX idx_child_t ON public.child (t_id);", "public.child"),
    Case("duplicate_index",
         {"tables": {"t": table({"code": {"type": "text", "unique": True}}, indexes={"idx_t_code": ["code"]})}},
         {"tables": {"t": table({"code": {"type": "text", "unique": True}})}},
         "ALTER TABLE public.t ADD UNIQUE (code); CREATE INDEX idx_t_code ON public.t (code);",
         "DROP INDEX public.idx_t_code;", "public.idx_t_code", id="duplicates-unique"),
    Case("duplicate_index",
         {"tables": {"t": table({"a": "text", "b": "text"}, indexes={"idx_a": ["a"], "idx_a_b": ["a", "b"]})}},
         {"tables": {"t": table({"a": "text", "b": "text"}, indexes={"idx_b": ["b"], "idx_a_b": ["a", "b"]})}},
         "CREATE INDEX idx_owner ON public.t (owner); CREATE INDEX idx_owner_code ON public.t (owner, code);",
         "DROP INDEX public.idx_owner;", "public.idx_owner", id="prefix"),
    Case("nulls_not_distinct_not_unique",
         {"tables": {"t": table({"code": "text"}, indexes={"idx_code": {"columns": ["code"],
                                                                        "nulls_not_distinct": True}})}},
         {"tables": {"t": table({"code": "text"}, indexes={"idx_code": {"columns": ["code"], "unique": True,
                                                                        "nulls_not_distinct": True}})}},
         "CREATE INDEX idx_code ON public.t (code) NULLS NOT DISTINCT;",
         "DROP INDEX public.idx_code; CREATE UNIQUE INDEX idx_code ON public.t (code) NULLS NOT DISTINCT;",
         "public.idx_code"),
    Case("auth_rls_initplan",
         {"tables": {"t": table(OWNER, policies={"mine": policy("owner = auth.uid()")},
                                indexes={"idx_t_owner": ["owner"]})}},
         {"tables": {"t": table(OWNER, policies={"mine": policy("owner = (SELECT auth.uid())")},
                                indexes={"idx_t_owner": ["owner"]})}},
         "CREATE INDEX ON public.t (owner);"
         "CREATE POLICY mine ON public.t FOR SELECT TO authenticated USING (owner = auth.uid());",
         "ALTER POLICY mine ON public.t USING (owner = (SELECT auth.uid()));", "public.t"),
    Case("auth_rls_initplan",
         {"tables": {"t": table(policies={"staff": policy(
             "EXISTS (SELECT 1 FROM auth.users u WHERE u.id = auth.uid())")})}},
         {"tables": {"t": table(policies={"staff": policy(
             "EXISTS (SELECT 1 FROM auth.users u WHERE u.id = (SELECT auth.uid()))")})}},
         "CREATE POLICY staff ON public.t FOR SELECT TO authenticated "
         "USING (EXISTS (SELECT 1 FROM auth.users u WHERE u.id = auth.uid()));",
         "ALTER POLICY staff ON public.t USING (EXISTS (SELECT 1 FROM auth.users u WHERE u.id = (SELECT auth.uid())));",
         "public.t", id="in-sub-query"),
    Case("auth_rls_initplan",
         {"functions": STAFF, "tables": {"t": table(policies={"staff": policy("public.is_staff()")})}},
         {"functions": STAFF, "tables": {"t": table(policies={"staff": policy("(SELECT public.is_staff())")})}},
         "CREATE FUNCTION public.is_staff() RETURNS boolean LANGUAGE sql STABLE SET search_path = '' "
         "AS 'SELECT true';"
         "CREATE POLICY staff ON public.t FOR SELECT TO authenticated USING (public.is_staff());",
         "ALTER POLICY staff ON public.t USING ((SELECT public.is_staff()));", "public.t", id="stable-helper"),
    Case("multiple_permissive_policies",
         {"tables": {"t": table(policies={**READ_ALL, "again": policy("id IS NOT NULL")})}},
         {"tables": {"t": table(policies={**READ_ALL, "again": {**policy("id IS NOT NULL"), "mode": "restrictive"}})}},
         "CREATE POLICY again ON public.t FOR ALL TO authenticated USING (id IS NOT NULL);",
         "DROP POLICY again ON public.t;", "public.t"),
    Case("rls_enabled_no_policy",
         {"tables": {"t": table(policies={})}}, {"tables": {"t": table()}},
         "DROP POLICY read ON public.t;",
         "CREATE POLICY read ON public.t FOR SELECT TO authenticated USING (true);", "public.t"),
    Case("policy_exists_rls_disabled",
         {"tables": {"t": table(rls="off")}}, {"tables": {"t": table()}},
         "ALTER TABLE public.t DISABLE ROW LEVEL SECURITY;", "ALTER TABLE public.t ENABLE ROW LEVEL SECURITY;",
         "public.t"),
    Case("rls_disabled_in_public",
         {"tables": {"t": table(rls="off", policies={})}}, {"tables": {"t": table()}},
         "CREATE TABLE public.open (id uuid PRIMARY KEY);",
         "ALTER TABLE public.open ENABLE ROW LEVEL SECURITY;"
         "CREATE POLICY read ON public.open FOR SELECT TO authenticated USING (true);", "public.open"),
    Case("security_definer_view",
         {"views": {"v": {"query": "SELECT 1 AS one", "security_invoker": False}}},
         {"views": {"v": {"query": "SELECT 1 AS one"}}},
         "CREATE VIEW public.v AS SELECT id FROM public.t;", "ALTER VIEW public.v SET (security_invoker = true);",
         "public.v"),
    Case("function_search_path_mutable",
         {"functions": {"f": {"returns": "integer", "language": "sql", "body": "SELECT 1"}}},
         {"functions": {"f": {"returns": "integer", "language": "sql", "body": "SELECT 1", "search_path": ""}}},
         "CREATE FUNCTION public.f() RETURNS integer LANGUAGE sql AS 'SELECT 1';",
         "ALTER FUNCTION public.f() SET search_path = '';", "public.f"),
    Case("security_definer_search_path_not_empty",
         {"functions": {"f": {**DEFINER, "search_path": "public"}}}, {"functions": {"f": DEFINER}},
         "CREATE FUNCTION public.g() RETURNS integer LANGUAGE sql SECURITY DEFINER SET search_path = public "
         "AS 'SELECT 1'; REVOKE EXECUTE ON FUNCTION public.g() FROM PUBLIC;",
         "ALTER FUNCTION public.g() SET search_path = '';", "public.g"),
    Case("plpgsql_body_unchecked",  # pglast takes an array of a row type for an array of `record`
         {"functions": {"f": ARRAY_OF_ROWS}},
         {"functions": {"f": {**ARRAY_OF_ROWS, "body": "DECLARE v integer[]; BEGIN RETURN cardinality(v); END"}}},
         "CREATE FUNCTION public.arr() RETURNS integer LANGUAGE plpgsql SET search_path = '' AS "
         "$$ DECLARE v public.t[]; BEGIN RETURN cardinality(v); END $$;",
         "CREATE OR REPLACE FUNCTION public.arr() RETURNS integer LANGUAGE plpgsql SET search_path = '' AS "
         "$$ DECLARE v integer[]; BEGIN RETURN cardinality(v); END $$;", "public.arr"),
    Case("anon_security_definer_function_executable",
         {"functions": {"f": {"returns": "integer", "language": "sql", "body": "SELECT 1", "search_path": "",
                              "security": "definer", "grants": {"anon": ["execute"]}}}},
         {"functions": {"f": {"returns": "integer", "language": "sql", "body": "SELECT 1", "search_path": "",
                              "security": "definer", "grants": {"authenticated": ["execute"]}}}},
         # PostgreSQL grants EXECUTE to PUBLIC on every new function: the live case needs no GRANT at all.
         "CREATE FUNCTION public.f() RETURNS integer LANGUAGE sql SECURITY DEFINER SET search_path = '' "
         "AS 'SELECT 1';",
         "REVOKE EXECUTE ON FUNCTION public.f() FROM PUBLIC; GRANT EXECUTE ON FUNCTION public.f() TO authenticated;",
         "public.f"),
    Case("no_primary_key",
         {"tables": {"t": {**table(), "columns": {"id": {"type": "uuid"}}}}}, {"tables": {"t": table()}},
         "CREATE TABLE public.nokey (id uuid); ALTER TABLE public.nokey ENABLE ROW LEVEL SECURITY;"
         "CREATE POLICY read ON public.nokey FOR SELECT TO authenticated USING (true);",
         "ALTER TABLE public.nokey ADD PRIMARY KEY (id);", "public.nokey"),
    Case("auth_users_fk_no_on_delete",
         {"tables": {"t": table({"user_id": {"type": "uuid", "references": "auth.users(id)"}},
                                indexes={"idx_t_user": ["user_id"]})}},
         {"tables": {"t": table({"user_id": {"type": "uuid", "references": "auth.users(id)", "on_delete": "set null"}},
                                indexes={"idx_t_user": ["user_id"]})}},
         "ALTER TABLE public.t ADD CONSTRAINT t_owner_fkey FOREIGN KEY (owner) REFERENCES auth.users (id);"
         "CREATE INDEX ON public.t (owner);",
         "ALTER TABLE public.t DROP CONSTRAINT t_owner_fkey, ADD CONSTRAINT t_owner_fkey FOREIGN KEY (owner) "
         "REFERENCES auth.users (id) ON DELETE SET NULL;", "public.t"),
    Case("name_needs_quoting",  # was a hard error; PostgreSQL takes any name, quoted
         {"tables": {"t": table({"display name": "text"})}}, {"tables": {"t": table({"display_name": "text"})}},
         'ALTER TABLE public.t ADD COLUMN "Display Name" text;',
         'ALTER TABLE public.t RENAME COLUMN "Display Name" TO display_name;', 'public.t.Display Name'),
    Case("name_needs_quoting",
         {"tables": {"Items": table()}}, {"tables": {"items": table()}},
         'CREATE TABLE public."Items" (id uuid PRIMARY KEY); ALTER TABLE public."Items" ENABLE ROW LEVEL SECURITY;'
         'CREATE POLICY read ON public."Items" FOR SELECT TO authenticated USING (true);',
         'ALTER TABLE public."Items" RENAME TO items;', "public.Items", id="table"),
    Case("timestamp_without_time_zone",
         {"tables": {"t": table({"at": "timestamp"})}}, {"tables": {"t": table({"at": "timestamptz"})}},
         "ALTER TABLE public.t ADD COLUMN at timestamp(3);", "ALTER TABLE public.t ALTER COLUMN at TYPE timestamptz;",
         "public.t.at"),
    Case("varchar_length",
         {"tables": {"t": table({"name": "varchar(20)"})}}, {"tables": {"t": table({"name": "text"})}},
         "ALTER TABLE public.t ADD COLUMN name varchar(20);", "ALTER TABLE public.t ALTER COLUMN name TYPE text;",
         "public.t.name"),
    Case("function_type_modifier_discarded",
         {"functions": {"code_of": {**SQL_FN, "args": {"code": "varchar(3)"}}}},
         {"functions": {"code_of": {**SQL_FN, "args": {"code": "varchar"}}}},
         "CREATE FUNCTION public.code_of(code varchar(3)) RETURNS numeric(4,1) LANGUAGE sql SET search_path = '' "
         "AS $$ SELECT 123.45 $$;", "", "public.code_of"),
    Case("policy_repeats_role_helper",
         {"functions": ADMIN, "tables": {"roles": table(ROLE), "t": table(policies={"admins": policy(INLINE)})}},
         {"functions": ADMIN, "tables": {"roles": table(ROLE), "t": table(policies={
             "admins": policy("(SELECT public.is_admin())")})}},
         "CREATE TABLE public.roles (user_id uuid PRIMARY KEY, role_name text);"
         "ALTER TABLE public.roles ENABLE ROW LEVEL SECURITY;"
         "CREATE POLICY read ON public.roles FOR SELECT TO authenticated USING (true);"
         "CREATE FUNCTION public.is_admin() RETURNS boolean LANGUAGE sql STABLE SET search_path = '' "
         f"AS $$ {ADMIN['is_admin']['body']} $$;"
         f"DROP POLICY read ON public.t; CREATE POLICY admins ON public.t FOR SELECT TO authenticated "
         f"USING ({INLINE});",
         "ALTER POLICY admins ON public.t USING ((SELECT public.is_admin()));", "public.t"),
    Case("partition_bypasses_rls",
         {"tables": {"t": partitioned({"authenticated": ["select"]})}}, {"tables": {"t": partitioned({})}},
         "CREATE TABLE public.p (at date PRIMARY KEY) PARTITION BY RANGE (at);"
         "ALTER TABLE public.p ENABLE ROW LEVEL SECURITY;"
         "CREATE POLICY read ON public.p FOR SELECT TO authenticated USING (true);"
         "CREATE TABLE public.p_2026 PARTITION OF public.p FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');"
         "GRANT SELECT ON public.p_2026 TO authenticated;",
         "REVOKE ALL ON public.p_2026 FROM authenticated;", "public.p_2026"),
    Case("policy_to_public",
         {"tables": {"t": table(policies={"read": policy("true", roles=("public",))})}}, {"tables": {"t": table()}},
         "ALTER POLICY read ON public.t TO public;", "ALTER POLICY read ON public.t TO authenticated;", "public.t"),
    Case("unindexed_policy_column",
         {"tables": {"t": table(OWNER, policies={"mine": policy("owner = (SELECT auth.uid())")})}},
         {"tables": {"t": table(OWNER, policies={"mine": policy("owner = (SELECT auth.uid())")},
                                indexes={"idx_t_owner": ["owner"]})}},
         "DROP POLICY read ON public.t;"
         "CREATE POLICY mine ON public.t FOR SELECT TO authenticated USING (owner = (SELECT auth.uid()));",
         "CREATE INDEX idx_t_owner ON public.t (owner);", "public.t.owner"),
]


def case_id(case: Case) -> str:
    return case.rule + (f"-{case.id}" if case.id else "")


def spec_catalog(tmp_path: Path, module: dict[str, Any], *, checked: bool = True) -> Catalog:
    spec = write_spec(tmp_path, {"00-prelude.yaml": PRELUDE, "01-case.yaml": {"module": "Case", **module}})
    return check(load_spec(spec)) if checked else Catalog(load_spec(spec))


def rules_of(findings: list[Finding]) -> set[str]:
    return {f.rule for f in findings}


def test_every_rule_has_cases_and_an_explanation() -> None:
    covered = {c.rule for c in CASES} | {"bad_suppression"}  # bad_suppression: see the suppression tests
    assert covered == set(RULES)
    for rule_id in RULES:
        text = explain(rule_id)
        assert text.startswith(f"{rule_id} (") and "Fix:" in text and len(text) > 200


def test_the_prelude_is_clean(tmp_path: Path) -> None:
    assert lint(spec_catalog(tmp_path, {})) == []


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_rule_on_a_spec(case: Case, tmp_path: Path) -> None:
    bad = lint(spec_catalog(tmp_path / "bad", case.bad))  # a valid spec: `check` refuses no convention
    hits = [f for f in bad if f.rule == case.rule]
    assert hits, f"{case.rule} did not fire: {[f.text() for f in bad]}"
    for hit in hits:  # each names its place in the case's file, not the prelude
        assert hit.pos.file.endswith("spec/01-case.yaml") and hit.pos.line > 1, hit.text()
    good = lint(spec_catalog(tmp_path / "good", case.good))
    assert case.rule not in rules_of(good), [f.text() for f in good]


# -- boundaries: the nearest spec on each side of every rule's line ------------------------------------------------
@dataclass(frozen=True)
class Boundary:
    rule: str
    id: str
    module: dict[str, Any]
    fires: bool  # what the rule's own description (README's table, `lint --explain`) says of this spec


PARENT = {"parent_id": {"type": "uuid", "references": "parent(id)", "on_delete": "cascade"}, "a": {"type": "text"}}
PAIR = {"a": {"type": "uuid"}, "b": {"type": "uuid"}}


def child(indexes: dict[str, Any]) -> dict[str, Any]:
    return {"tables": {"parent": table(), "child": table(PARENT, indexes=indexes)}}


def mine(using: str = "owner = (SELECT auth.uid())", **extra: Any) -> dict[str, Any]:
    return {"tables": {"t": table({"owner": {"type": "uuid"}, "code": {"type": "text"}},
                                  policies={"mine": policy(using)}, **extra)}}


def composite_key(indexes: dict[str, Any]) -> dict[str, Any]:
    """A child whose two-column foreign key (a, b) has the given indexes."""
    return {"tables": {"parent": table(PAIR, unique={"parent_a_b_key": ["a", "b"]}),
                       "child": table(PAIR, foreign_keys={"child_ab_fkey": {
                           "columns": ["a", "b"], "references": "parent(a, b)", "on_delete": "cascade"}},
                           indexes=indexes)}}


BOUNDARIES = [
    # "no index whose leading columns are its columns"
    Boundary("unindexed_foreign_keys", "fk-column-second-in-its-index", child({"i": ["a", "parent_id"]}), True),
    Boundary("unindexed_foreign_keys", "fk-column-first-in-a-composite-index", child({"i": ["parent_id", "a"]}),
             False),
    Boundary("unindexed_foreign_keys", "partial-index-on-another-condition",
             child({"i": {"columns": ["parent_id"], "where": "a <> ''"}}), True),
    Boundary("unindexed_foreign_keys", "partial-index-keeping-every-referencing-row",
             child({"i": {"columns": ["parent_id"], "where": "parent_id IS NOT NULL"}}), False),
    Boundary("unindexed_foreign_keys", "gin-index", child({"i": {"columns": ["parent_id"], "method": "gin"}}), True),
    # a hash index finds the rows equal to one key value (PostgreSQL's hash indexes handle only `=`), which is the
    # lookup of a one-column key; a partial index keeps every referencing row when it only drops NULL keys
    Boundary("unindexed_foreign_keys", "hash-index",
             child({"i": {"columns": ["parent_id"], "method": "hash"}}), False),
    Boundary("unindexed_foreign_keys", "hash-index-on-another-column",
             child({"i": {"columns": ["a"], "method": "hash"}}), True),
    Boundary("unindexed_foreign_keys", "partial-index-dropping-rows-null-elsewhere",
             child({"i": {"columns": ["parent_id"], "where": "a IS NOT NULL"}}), True),
    Boundary("unindexed_foreign_keys", "composite-key-hash-index-on-its-first-column",
             composite_key({"i": {"columns": ["a"], "method": "hash"}}), True),
    Boundary("unindexed_foreign_keys", "composite-key-partial-index-without-null-keys",
             composite_key({"i": {"columns": ["a", "b"], "where": "a IS NOT NULL AND b IS NOT NULL"}}), False),
    Boundary("unindexed_foreign_keys", "composite-key-partial-index-on-another-condition-too",
             composite_key({"i": {"columns": ["a", "b"], "where": "a IS NOT NULL AND id IS NOT NULL"}}), True),
    Boundary("unindexed_foreign_keys", "composite-key-indexed-in-other-order",
             {"tables": {"parent": table(PAIR, unique={"parent_a_b_key": ["a", "b"]}),
                         "child": table(PAIR, foreign_keys={"child_ab_fkey": {
                             "columns": ["a", "b"], "references": "parent(a, b)", "on_delete": "cascade"}},
                             indexes={"i": ["b", "a"]})}}, False),
    Boundary("unindexed_foreign_keys", "composite-key-half-indexed",
             {"tables": {"parent": table(PAIR, unique={"parent_a_b_key": ["a", "b"]}),
                         "child": table(PAIR, foreign_keys={"child_ab_fkey": {
                             "columns": ["a", "b"], "references": "parent(a, b)", "on_delete": "cascade"}},
                             indexes={"i": ["a"]})}}, True),
    # "duplicating a PRIMARY KEY/UNIQUE index, or a prefix of another index"
    Boundary("duplicate_index", "same-columns-other-order",
             {"tables": {"t": table(PAIR, indexes={"i_ab": ["a", "b"], "i_ba": ["b", "a"]})}}, False),
    Boundary("duplicate_index", "prefix-with-another-predicate",
             {"tables": {"t": table(PAIR, indexes={"i_a": {"columns": ["a"], "where": "b IS NULL"},
                                                    "i_ab": ["a", "b"]})}}, False),
    Boundary("duplicate_index", "unique-prefix-of-a-wider-index",
             {"tables": {"t": table(PAIR, indexes={"i_a": {"columns": ["a"], "unique": True},
                                                    "i_ab": ["a", "b"]})}}, False),
    Boundary("duplicate_index", "gin-beside-btree",
             {"tables": {"t": table({"tags": "text[]"}, indexes={"i_gin": {"columns": ["tags"], "method": "gin"},
                                                                 "i_btree": ["tags"]})}}, False),
    # keys compare as PostgreSQL reads them: DESC sorts NULLS FIRST unless told otherwise, a collation makes another
    # index
    Boundary("duplicate_index", "desc-and-its-default-nulls-first",
             {"tables": {"t": table(PAIR, indexes={"i_a": ["a DESC"], "i_ab": ["a DESC NULLS FIRST", "b"]})}}, True),
    Boundary("duplicate_index", "desc-before-asc",
             {"tables": {"t": table(PAIR, indexes={"i_a": ["a DESC"], "i_ab": ["a", "b"]})}}, False),
    Boundary("duplicate_index", "desc-and-nulls-last",
             {"tables": {"t": table(PAIR, indexes={"i_a": ["a DESC"], "i_ab": ["a DESC NULLS LAST", "b"]})}}, False),
    Boundary("duplicate_index", "the-same-collation",
             {"tables": {"t": table({"code": "text"}, indexes={"i_c": ['code COLLATE "C"'],
                                                               "i_ci": ['code COLLATE "C"', "id"]})}}, True),
    Boundary("duplicate_index", "another-collation",
             {"tables": {"t": table({"code": "text"}, indexes={"i_c": ["code"], "i_ci": ['code COLLATE "C"', "id"]})}},
             False),
    Boundary("duplicate_index", "index-on-the-primary-key", {"tables": {"t": table(indexes={"i_id": ["id"]})}}, True),
    Boundary("duplicate_index", "two-identical-unique-indexes",
             {"tables": {"t": table({"a": "text"}, indexes={"u1": {"columns": ["a"], "unique": True},
                                                            "u2": {"columns": ["a"], "unique": True}})}}, True),
    # "calling auth.uid(), current_setting() or a STABLE function with no column argument once per row"
    Boundary("auth_rls_initplan", "in-with-check-only",
             {"tables": {"t": table({"owner": {"type": "uuid"}}, policies={
                 **READ_ALL, "add": {"command": "insert", "roles": ["authenticated"],
                                     "with_check": "owner = auth.uid()"}})}}, True),
    Boundary("auth_rls_initplan", "current-setting-per-row",
             {"tables": {"t": table(policies={"mine": policy("current_setting('app.x', true) = 'y'")})}}, True),
    Boundary("auth_rls_initplan", "wrapped", mine(indexes={"i": ["owner"]}), False),
    Boundary("auth_rls_initplan", "qualified-current-setting-per-row",  # pg_catalog.current_setting is the same
             mine("owner::text = pg_catalog.current_setting('app.user', true)", indexes={"i": ["owner"]}), True),
    Boundary("auth_rls_initplan", "current-setting-of-a-column",  # another setting per row: not one per statement
             mine("owner::text = current_setting(code, true)", indexes={"i": ["owner"]}), False),
    Boundary("auth_rls_initplan", "per-row-call-in-an-and",
             mine("code <> '' AND owner = auth.uid()", indexes={"i": ["owner"]}), True),
    Boundary("auth_rls_initplan", "per-row-call-left-of-in",  # the tested expression of a sub-query link
             mine("auth.uid() IN (SELECT u.id FROM auth.users u)", indexes={"i": ["owner"]}), True),
    Boundary("auth_rls_initplan", "wrapped-call-left-of-in",
             mine("(SELECT auth.uid()) IN (SELECT u.id FROM auth.users u)", indexes={"i": ["owner"]}), False),
    Boundary("auth_rls_initplan", "in-inside-a-wrapper",  # the whole test runs once, in the wrapper's init plan
             mine("(SELECT auth.uid() IN (SELECT u.id FROM auth.users u))", indexes={"i": ["owner"]}), False),
    Boundary("auth_rls_initplan", "stable-helper-in-a-sub-query",
             {"functions": STAFF, "tables": {"t": table(policies={"staff": policy(
                 "EXISTS (SELECT 1 FROM auth.users u WHERE public.is_staff())")})}}, True),
    Boundary("auth_rls_initplan", "stable-helper-given-a-column",
             {"functions": {"mine": {**STAFF["is_staff"], "args": {"x": "uuid"}, "body": "SELECT x IS NOT NULL"}},
              "tables": {"t": table(OWNER, policies={"m": policy("public.mine(owner)")})}}, False),
    Boundary("auth_rls_initplan", "immutable-helper",  # folded to a constant by the planner
             {"functions": {"is_staff": {**STAFF["is_staff"], "volatility": "immutable"}},
              "tables": {"t": table(policies={"staff": policy("public.is_staff()")})}}, False),
    # "several permissive policies for one role and command"
    Boundary("multiple_permissive_policies", "all-and-select-for-one-role",
             {"tables": {"t": table(policies={**READ_ALL, "edit": policy("true", command="all")})}}, True),
    Boundary("multiple_permissive_policies", "public-and-authenticated",
             {"tables": {"t": table(policies={**READ_ALL, "pub": policy("true", roles=("public",))})}}, True),
    Boundary("multiple_permissive_policies", "other-command",
             {"tables": {"t": table(policies={**READ_ALL, "add": {"command": "insert", "roles": ["authenticated"],
                                                                  "with_check": "true"}})}}, False),
    Boundary("multiple_permissive_policies", "other-role",
             {"tables": {"t": table(policies={**READ_ALL, "anon": policy("true", roles=("anon",))})}}, False),
    # "row-level security enabled but no policy"
    Boundary("rls_enabled_no_policy", "forced-without-policy", {"tables": {"t": table(rls="forced", policies={})}},
             True),
    Boundary("rls_enabled_no_policy", "one-restrictive-policy",
             {"tables": {"t": table(policies={"r": {**policy("true"), "mode": "restrictive"}})}}, False),
    # "policies on a table without row-level security"
    Boundary("policy_exists_rls_disabled", "forced-with-policy", {"tables": {"t": table(rls="forced")}}, False),
    # "table in an API-exposed schema without row-level security"
    Boundary("rls_disabled_in_public", "other-schema",
             {"schemas": {"internal": {}}, "tables": {"internal.t": table(rls="off", policies={})}}, False),
    # "view without security_invoker"
    Boundary("security_definer_view", "invoker-by-default", {"views": {"v": {"query": "SELECT 1 AS one"}}}, False),
    # "function without a fixed search_path"
    Boundary("function_search_path_mutable", "a-list-of-schemas",
             {"functions": {"f": {"returns": "integer", "language": "sql", "body": "SELECT 1",
                                  "search_path": ["public", "pg_temp"]}}}, False),
    Boundary("function_search_path_mutable", "one-schema",
             {"functions": {"f": {"returns": "integer", "language": "sql", "body": "SELECT 1",
                                  "search_path": "public"}}}, False),
    # "SECURITY DEFINER function whose search_path is not empty"
    Boundary("security_definer_search_path_not_empty", "ending-with-pg-temp",
             {"functions": {"f": {**DEFINER, "search_path": ["public", "pg_temp"]}}}, True),
    Boundary("security_definer_search_path_not_empty", "invoker-with-a-path",
             {"functions": {"f": {**DEFINER, "security": "invoker", "search_path": "public"}}}, False),
    Boundary("security_definer_search_path_not_empty", "definer-without-a-path",  # function_search_path_mutable's
             {"functions": {"f": {k: v for k, v in DEFINER.items() if k != "search_path"}}}, False),
    # "PL/pgSQL body that pglast's parser cannot read"
    Boundary("plpgsql_body_unchecked", "row-type-of-another-schema-and-its-fields",
             {"functions": {"f": {**ARRAY_OF_ROWS, "body": "DECLARE u auth.users%ROWTYPE; BEGIN u.id := NULL; "
                                                           "RETURN 1; END"}}}, False),
    Boundary("plpgsql_body_unchecked", "sql-function",
             {"functions": {"f": {**ARRAY_OF_ROWS, "language": "sql", "body": "SELECT 1"}}}, False),
    # "SECURITY DEFINER function executable by anon or PUBLIC"
    Boundary("anon_security_definer_function_executable", "granted-to-public",
             {"functions": {"f": {"returns": "integer", "language": "sql", "body": "SELECT 1", "search_path": "",
                                  "security": "definer", "grants": {"public": ["execute"]}}}}, True),
    Boundary("anon_security_definer_function_executable", "invoker-granted-to-anon",
             {"functions": {"f": {"returns": "integer", "language": "sql", "body": "SELECT 1", "search_path": "",
                                  "grants": {"anon": ["execute"]}}}}, False),
    # "table without a primary key"
    Boundary("no_primary_key", "unique-but-no-primary-key",
             {"tables": {"t": {**table(), "columns": {"id": {"type": "uuid", "unique": True}}}}}, True),
    Boundary("no_primary_key", "composite-primary-key",
             {"tables": {"t": {**table(), "columns": PAIR, "primary_key": ["a", "b"]}}}, False),
    # "foreign key to auth.users without an ON DELETE action"
    Boundary("auth_users_fk_no_on_delete", "restrict-is-an-action",
             {"tables": {"t": table({"user_id": {"type": "uuid", "references": "auth.users(id)",
                                                 "on_delete": "restrict"}}, indexes={"i": ["user_id"]})}}, False),
    Boundary("auth_users_fk_no_on_delete", "only-on-update",
             {"tables": {"t": table({"user_id": {"type": "uuid", "references": "auth.users(id)",
                                                 "on_update": "cascade"}}, indexes={"i": ["user_id"]})}}, True),
    # "column of type timestamp (without time zone)"
    Boundary("timestamp_without_time_zone", "array", {"tables": {"t": table({"at": "timestamp[]"})}}, True),
    Boundary("timestamp_without_time_zone", "spelt-out",
             {"tables": {"t": table({"at": "timestamp without time zone"})}}, True),
    Boundary("timestamp_without_time_zone", "with-time-zone-spelt-out",
             {"tables": {"t": table({"at": "timestamp with time zone"})}}, False),
    # "a table, column, view or function whose name needs double quotes"
    Boundary("name_needs_quoting", "keyword-column",  # quoted where rendered; check guards fragments that use it
             {"tables": {"t": table({"order": "integer"})}}, False),
    Boundary("name_needs_quoting", "digits-and-underscores", {"tables": {"t_2": table({"_x9": "integer"})}}, False),
    Boundary("name_needs_quoting", "unicode-column", {"tables": {"t": table({"café": "text"})}}, True),
    Boundary("name_needs_quoting", "schema-with-capitals",
             {"schemas": {"App": {}}, "tables": {"App.items": table()}}, True),
    Boundary("name_needs_quoting", "view-with-a-dash",
             {"views": {"v-1": {"query": "SELECT 1 AS one"}}}, True),
    Boundary("name_needs_quoting", "function-in-camel-case",
             {"functions": {"getOne": {"returns": "integer", "language": "sql", "search_path": "",
                                       "body": "SELECT 1"}}}, True),
    # "varchar(n) where text with a CHECK would do"
    Boundary("varchar_length", "spelt-out", {"tables": {"t": table({"n": "character varying(20)"})}}, True),
    Boundary("varchar_length", "without-length", {"tables": {"t": table({"n": "varchar"})}}, False),
    # "function argument or result type with a modifier PostgreSQL discards"
    Boundary("function_type_modifier_discarded", "bare-types-and-a-char",
             {"functions": {"f": {**SQL_FN, "args": {"a": "varchar", "b": "numeric", "c": "char", "d": "interval"},
                                  "returns": "table(x text, y varchar)"}}}, False),
    Boundary("function_type_modifier_discarded", "result-precision",
             {"functions": {"f": {**SQL_FN, "returns": "setof numeric(10, 2)", "body": "SELECT 1.5"}}}, True),
    Boundary("function_type_modifier_discarded", "result-table-column",
             {"functions": {"f": {**SQL_FN, "returns": "table(x text, y varchar(3))", "body": "SELECT 'a', 'b'"}}},
             True),
    Boundary("function_type_modifier_discarded", "interval-fields",
             {"functions": {"f": {**SQL_FN, "args": {"span": "interval day"}}}}, True),
    Boundary("function_type_modifier_discarded", "procedure-argument",
             {"procedures": {"p": {"language": "sql", "search_path": "", "body": "SELECT 1",
                                   "args": {"at": "timestamptz(3)"}}}}, True),
    # "policy sub-query on a table a STABLE boolean helper function already reads"
    Boundary("policy_repeats_role_helper", "helper-reads-another-table",
             {"functions": ADMIN, "tables": {"roles": table(ROLE), "other": table(ROLE), "t": table(policies={
                 "admins": policy(INLINE.replace("public.roles", "public.other"))})}}, False),
    Boundary("policy_repeats_role_helper", "volatile-function-reads-it",
             {"functions": {"is_admin": {**ADMIN["is_admin"], "volatility": "volatile"}},
              "tables": {"roles": table(ROLE), "t": table(policies={"admins": policy(INLINE)})}}, False),
    Boundary("policy_repeats_role_helper", "in-with-check",
             {"functions": ADMIN, "tables": {"roles": table(ROLE), "t": table(policies={
                 **READ_ALL, "add": {"command": "insert", "roles": ["authenticated"], "with_check": INLINE}})}},
             True),
    # "policy TO public (anon included)"
    # "a partition of a row-level security table granted to a role"
    Boundary("partition_bypasses_rls", "granted-partition-of-an-rls-table",
             {"tables": {"t": partitioned({"authenticated": ["select"]})}}, True),
    Boundary("partition_bypasses_rls", "granted-partition-of-a-table-without-rls",
             {"tables": {"t": {**partitioned({"authenticated": ["select"]}), "rls": "off", "policies": {},
                               "lint": {"ignore": {"rls_disabled_in_public": "the boundary's other side"}}}}},
             False),
    Boundary("policy_to_public", "anon-named", {"tables": {"t": table(policies={
        "read": policy("true", roles=("anon", "authenticated"))})}}, False),
    # "policy compares an unindexed column with the user's id"
    Boundary("unindexed_policy_column", "covered-by-a-composite-index", mine(indexes={"i": ["owner", "code"]}),
             False),
    Boundary("unindexed_policy_column", "second-in-a-composite-index", mine(indexes={"i": ["code", "owner"]}), True),
    Boundary("unindexed_policy_column", "gin-index",
             mine(indexes={"i": {"columns": ["owner"], "method": "gin"}}), True),
    Boundary("unindexed_policy_column", "partial-index-on-another-condition",
             mine(indexes={"i": {"columns": ["owner"], "where": "code = 'x'"}}), True),  # found by this list
    Boundary("unindexed_policy_column", "partial-index-keeping-every-matching-row",
             mine(indexes={"i": {"columns": ["owner"], "where": "owner IS NOT NULL"}}), False),
    # "nulls_not_distinct on an index that is not unique"
    Boundary("nulls_not_distinct_not_unique", "unique-index",
             {"tables": {"t": table({"code": "text"}, indexes={"i": {"columns": ["code"], "unique": True,
                                                                    "nulls_not_distinct": True}})}}, False),
    Boundary("nulls_not_distinct_not_unique", "plain-index",
             {"tables": {"t": table({"code": "text"}, indexes={"i": {"columns": ["code"],
                                                                    "nulls_not_distinct": True}})}}, True),
    # "index duplicating ...": INCLUDE columns the other lacks, or another NULLS treatment, make another index
    Boundary("duplicate_index", "same-keys-more-included-columns",
             {"tables": {"t": table({"a": "text", "b": "text"},
                                    indexes={"i": {"columns": ["a"], "include": ["b"]}, "j": ["a"]})}}, True),
    Boundary("duplicate_index", "unique-with-nulls-not-distinct",
             {"tables": {"t": table({"a": {"type": "text", "unique": True}},
                                    indexes={"i": {"columns": ["a"], "unique": True,
                                                   "nulls_not_distinct": True}})}}, False),
    Boundary("duplicate_index", "another-operator-class",
             {"tables": {"t": table({"a": {"type": "text", "unique": True}},
                                    indexes={"i": ["a text_pattern_ops"]})}}, False),
    Boundary("unindexed_policy_column", "hash-index", mine(indexes={"i": {"columns": ["owner"], "method": "hash"}}),
             False),
    Boundary("unindexed_policy_column", "column-named-with-its-table", mine("t.owner = (SELECT auth.uid())"), True),
    Boundary("unindexed_policy_column", "compared-with-another-column", mine("owner = id"), False),
    Boundary("unindexed_policy_column", "user-id-on-the-left", mine("(SELECT auth.uid()) = owner"), True),
    Boundary("unindexed_policy_column", "after-another-condition",
             mine("code <> '' AND owner = (SELECT auth.uid())"), True),
    Boundary("unindexed_policy_column", "column-of-a-sub-query",
             mine("id IN (SELECT u.id FROM auth.users u WHERE u.id = (SELECT auth.uid()))"), False),
]


def test_every_rule_has_boundaries() -> None:
    """Each rule has its near misses here (CASES hold one clear finding and its fix per rule)."""
    assert {b.rule for b in BOUNDARIES} == set(RULES) - {"bad_suppression"}  # see the suppression tests


@pytest.mark.parametrize("boundary", BOUNDARIES, ids=lambda b: f"{b.rule}-{b.id}")
def test_rule_boundary(boundary: Boundary, tmp_path: Path) -> None:
    catalog = spec_catalog(tmp_path, boundary.module)
    found = [f.text() for f in lint(catalog) if f.rule == boundary.rule]
    assert bool(found) == boundary.fires, found or f"{boundary.rule} did not fire"


def lint_db(dsn: str, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, list[dict[str, Any]]]:
    capsys.readouterr()
    code = cli.main(["lint", "--db", dsn, "--format", "json", *extra])
    return code, json.loads(capsys.readouterr().out)


def prelude_db(dsn: str) -> None:
    live.apply_sql(dsn, (OUTPUT / "00-platform.sql").read_text(encoding="utf-8") + BASE_SQL)


LIVE_CASES = [c for c in CASES if not RULES[c.rule].spec_only]


@pytest.mark.parametrize("case", LIVE_CASES, ids=case_id)
def test_rule_on_a_live_database(case: Case, empty_db: str, capsys: pytest.CaptureFixture[str]) -> None:
    prelude_db(empty_db)
    _, before = lint_db(empty_db, capsys)
    assert before == [], "the prelude and the base table are not lint-clean"
    live.apply_sql(empty_db, case.bad_sql)
    code, found = lint_db(empty_db, capsys)
    hits = [f for f in found if f["rule"] == case.rule]
    assert [f["object"] for f in hits] == [case.where], found
    assert hits[0]["file"] is None and code == (1 if hits[0]["severity"] == "error" else 0)
    live.apply_sql(empty_db, case.fix_sql)
    _, after = lint_db(empty_db, capsys)
    assert case.rule not in {f["rule"] for f in after}, after


def test_discarded_modifiers_are_real_and_only_a_spec_shows_them(empty_db: str,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    """What function_type_modifier_discarded warns of is real (PostgreSQL enforces neither modifier) and invisible
    in the catalog (so `lint --db` cannot report it, and does not): the one spec-only rule."""
    assert [r.id for r in RULES.values() if r.spec_only] == ["function_type_modifier_discarded"]
    case = next(c for c in CASES if c.rule == "function_type_modifier_discarded")
    prelude_db(empty_db)
    live.apply_sql(empty_db, case.bad_sql)
    _, found = lint_db(empty_db, capsys)
    assert case.rule not in {f["rule"] for f in found}, found
    with psycopg.connect(empty_db, autocommit=True) as conn:
        row = conn.execute("SELECT pg_get_function_arguments(p.oid), pg_get_function_result(p.oid), "
                           "public.code_of('a code far longer than three') "
                           "FROM pg_proc p WHERE p.oid = 'public.code_of'::regproc").fetchone()
    assert row is not None
    assert row[:2] == ("code character varying", "numeric")  # the (3) and (4,1) are gone
    assert row[2] == Decimal("123.45")  # neither rounded to one decimal nor refused for its length


def test_security_definer_without_search_path_is_an_error(tmp_path: Path) -> None:
    """A lint error, no longer a spec error: `check` accepts the spec, `lint` (and so `pgspec check`) fails."""
    function = {"returns": "integer", "language": "sql", "body": "SELECT 1", "security": "definer"}
    invoker = lint(spec_catalog(tmp_path / "a", {"functions": {"f": {**function, "security": "invoker"}}}))
    definer = lint(spec_catalog(tmp_path / "b", {"functions": {"f": function}}))
    assert [(f.rule, f.severity) for f in invoker] == [("function_search_path_mutable", "warning")]
    assert [(f.rule, f.severity) for f in definer] == [("function_search_path_mutable", "error")]


# -- suppressions ---------------------------------------------------------------------------------------------------
def with_lint(case: Case, ignore: dict[str, str]) -> dict[str, Any]:
    """The case's bad module with `lint: {ignore: ...}` on its (first) table."""
    tables = dict(case.bad["tables"])
    first = next(iter(tables))
    tables[first] = {**tables[first], "lint": {"ignore": ignore}}
    return {**case.bad, "tables": tables}


MULTIPLE = next(c for c in CASES if c.rule == "multiple_permissive_policies")


def test_a_suppression_with_a_reason_suppresses(tmp_path: Path) -> None:
    module = with_lint(MULTIPLE, {"multiple_permissive_policies": "one policy per audience, on purpose"})
    assert lint(spec_catalog(tmp_path, module)) == []


def test_a_suppression_on_a_policy_or_an_index_applies_to_it(tmp_path: Path) -> None:
    t = table(OWNER, policies={"mine": {**policy("owner = auth.uid()"), "lint": {"ignore": {
        "auth_rls_initplan": "measured: the table holds ten rows"}}}}, indexes={
        "idx_t_owner": ["owner"], "idx_t_owner2": {"columns": ["owner"], "lint": {"ignore": {
            "duplicate_index": "being rebuilt under the new name"}}}})
    assert lint(spec_catalog(tmp_path, {"tables": {"t": t}}, checked=False)) == []


@pytest.mark.parametrize(("ignore", "expected"), [
    ({"multiple_permissive_policies": "  "}, "gives no reason, so it does not apply"),
    ({"multiple_permisive_policies": "typo"}, "unknown rule 'multiple_permisive_policies'"),
    ({"multiple_permissive_policies": "fine", "no_primary_key": "stale"}, "suppression of no_primary_key "
                                                                         "suppresses nothing"),
], ids=["empty-reason", "unknown-rule", "unused"])
def test_bad_suppressions_are_findings(ignore: dict[str, str], expected: str, tmp_path: Path) -> None:
    findings = lint(spec_catalog(tmp_path, with_lint(MULTIPLE, ignore)))
    bad = [f for f in findings if f.rule == "bad_suppression"]
    assert len(bad) == 1 and expected in bad[0].message and bad[0].severity == "warning", findings
    assert bad[0].pos.file.endswith("01-case.yaml")
    suppressed = "multiple_permissive_policies" not in rules_of(findings)
    assert suppressed == (ignore.get("multiple_permissive_policies", "").strip() != "")
    if "unknown" in expected:
        assert "did you mean 'multiple_permissive_policies'?" in bad[0].hint


def test_a_suppression_must_be_a_mapping_of_reasons(tmp_path: Path) -> None:
    module = {"tables": {"t": {**table(), "lint": {"ignore": ["no_primary_key"]}}}}
    with pytest.raises(SpecError, match="ignore: expected a mapping"):
        spec_catalog(tmp_path, module)


# -- command line ---------------------------------------------------------------------------------------------------
LINE = re.compile(r"(?P<where>\S+): (?P<rule>[a-z_]+) (?P<severity>error|warning|info): (?P<message>.+) "
                  r"\((?P<hint>.+)\)\Z")


def run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    if os.environ.get("MUTANT_UNDER_TEST"):  # under mutmut (bench/mutation.py): in this process, where it mutates
        return run_in_process(cwd, list(args))
    return subprocess.run([sys.executable, "-m", "generator", *args], cwd=cwd, capture_output=True, text=True,
                          check=False, env={"PYTHONPATH": str(ROOT)})


def test_cli_prints_findings_and_fails_on_errors(tmp_path: Path) -> None:
    open_table = next(c for c in CASES if c.rule == "rls_disabled_in_public")
    spec = write_spec(tmp_path, {"00-prelude.yaml": PRELUDE, "01-case.yaml": {"module": "Case", **open_table.bad}})
    result = run("lint", "--spec", str(spec), cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    lines = result.stdout.splitlines()
    assert all(LINE.match(line) for line in lines), lines
    first = LINE.match(lines[0])
    assert first and first["where"] == "spec/01-case.yaml:3:3" and first["rule"] == "rls_disabled_in_public"
    assert "1 error(s)" in result.stderr
    as_json = json.loads(run("lint", "--spec", str(spec), "--format", "json", cwd=tmp_path).stdout)
    assert {(f["rule"], f["severity"], f["file"], f["line"]) for f in as_json} >= {
        ("rls_disabled_in_public", "error", "spec/01-case.yaml", 3)}


def test_cli_warnings_exit_0_and_explain(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = write_spec(tmp_path, {"00-prelude.yaml": PRELUDE, "01-case.yaml": {"module": "Case", **MULTIPLE.bad}})
    assert cli.main(["lint", "--spec", str(spec)]) == 0
    assert "multiple_permissive_policies warning" in capsys.readouterr().out
    assert cli.main(["lint", "--explain", "auth_rls_initplan"]) == 0
    assert "(select auth.uid())" in capsys.readouterr().out
    assert cli.main(["lint", "--explain", "auth_rls_initplans"]) == 2
    assert "did you mean 'auth_rls_initplan'" in capsys.readouterr().err


def test_check_fails_on_a_lint_error(tmp_path: Path) -> None:
    view = next(c for c in CASES if c.rule == "security_definer_view")
    spec = write_spec(tmp_path, {"00-prelude.yaml": PRELUDE, "01-case.yaml": {"module": "Case", **view.bad}})
    assert run("generate", "--spec", str(spec), "--out", str(tmp_path / "out"), cwd=tmp_path).returncode == 0
    result = run("check", "--spec", str(spec), "--out", str(tmp_path / "out"), cwd=tmp_path)
    assert result.returncode == 1
    assert "spec/01-case.yaml:" in result.stderr and "security_definer_view error" in result.stderr
    assert "lint errors" in result.stderr


def test_readme_rule_table_is_current() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert rules_markdown() in readme, "README's Lint rules table is stale: paste `python -m generator lint --rules`"


# -- SPEC-131 -------------------------------------------------------------------------------------------------------
def test_spec_is_clean_at_warning_and_error(spec_build: Build) -> None:
    started = time.perf_counter()
    findings = lint(spec_build.catalog)
    seconds = time.perf_counter() - started
    record("lint of the SPEC-131 spec", seconds)
    print(f"lint of the SPEC-131 spec: {1000 * seconds:.0f} ms, {len(findings)} findings")
    assert [f.text() for f in findings if f.severity != "info"] == []
    assert rules_of(findings) == {"varchar_length"}  # the time budget (under 2 s): bench/tool_timings.py


def test_spec_and_live_database_agree(spec_build: Build, schema_db: str, capsys: pytest.CaptureFixture[str]) -> None:
    """The rules see the same things in the YAML and in the database output/schema.sql builds: without
    suppressions the same findings; with the spec's suppressions (`--spec`) the database is as clean as the spec."""
    unsuppressed = lint(spec_build.catalog, suppressions=Catalog(Schema(())), judge_suppressions=False)
    live_findings = lint(Catalog(read_database(schema_db)), judge_suppressions=False)
    assert all(f.pos == NOWHERE for f in live_findings)
    assert Counter((f.rule, f.where) for f in live_findings) == Counter((f.rule, f.where) for f in unsuppressed)
    code, suppressed = lint_db(schema_db, capsys, "--spec", str(SPEC), "--min-severity", "warning")
    assert (code, suppressed) == (0, [])
    assert cli.main(["lint", "--db", schema_db, "--spec", str(SPEC), "--min-severity", "warning"]) == 0
    out, err = capsys.readouterr()  # the summary names what was linted: the database, not the spec's directory
    assert out == "" and re.fullmatch(r"database: 0 error\(s\), 0 warning\(s\), \d+ info \(\d+\.\d\d s\)\n", err), err


def seed_database(dsn: str) -> None:
    """Our platform prelude (roles, auth.users, auth.uid(), tenants, user_roles, update_updated_at_column, all
    lint-clean), then SPEC-131's SQL exactly as the brief has it."""
    live.apply_sql(dsn, (OUTPUT / "00-platform.sql").read_text(encoding="utf-8"))
    live.apply_sql(dsn, "\n".join(schema_sql_blocks(SEED_DOC)))


# What lint must find in SPEC-131's original SQL, worked out by reading docs/seed/ (not from the linter):
SEED_FINDINGS = {
    # created_by of support_ticket_categories and support_canned_responses, edited_by of ticket_messages: the seed
    # indexes every other foreign key (tenant_id, customer_id, assigned_to, category_id, ticket_id, user_id, ...).
    "unindexed_foreign_keys": 3,
    # 4 plain indexes on a column that already has a UNIQUE constraint (categories slug, sla priority, tickets
    # ticket_number, canned shortcut) + 3 single-column btree indexes that lead a composite one on the same table
    # (tickets tenant_id < (tenant_id, status), assigned_to < (assigned_to, status), status < (status, priority)).
    "duplicate_index": 7,
    # 18 policies; all but the two `USING (true)` read policies (categories, SLA config) call auth.uid() bare,
    # either directly (customer_id = auth.uid()) or inside an EXISTS sub-query on user_roles/support_tickets.
    "auth_rls_initplan": 16,
    # Per table, role authenticated, command: SELECT on categories and SLA config (a read policy + a FOR ALL admin
    # policy), tickets, messages, attachments, activity log (staff + customers) and canned responses (read + FOR
    # ALL managers). INSERT and UPDATE have one policy each wherever they have any.
    "multiple_permissive_policies": 7,
    # Both views are created without security_invoker.
    "security_definer_view": 2,
    # generate_ticket_number, calculate_sla_targets, update_ticket_metrics, update_ticket_last_activity,
    # log_ticket_activity: none sets search_path (none is SECURITY DEFINER, so warnings).
    "function_search_path_mutable": 5,
    # REFERENCES auth.users(id) with no ON DELETE: categories created_by, tickets customer_id and assigned_to,
    # messages user_id and edited_by, attachments uploaded_by, activity log user_id, canned created_by.
    "auth_users_fk_no_on_delete": 8,
    # VARCHAR(n) columns: categories 4 (name, slug, color, icon), SLA 4 (priority, display_name, color,
    # escalate_to_role), tickets 8 (ticket_number, customer_name, customer_email, subject, priority, status, team,
    # source), messages 2 (message_type, email_message_id), attachments 5 (file_name, file_type, mime_type,
    # storage_bucket, scan_result), activity log 2 (activity_type, field_changed), canned 4 (title, shortcut,
    # category, team).
    "varchar_length": 29,
    # "Support staff can view canned responses" has `created_by = auth.uid()` in USING outside its sub-query, and
    # the seed does not index created_by. (customer_id = auth.uid() on tickets is indexed; the other direct
    # comparisons are in WITH CHECK, which reads no rows.)
    "unindexed_policy_column": 1,
    # Every other rule: none. Every table has a primary key and RLS with policies, all policies are TO
    # authenticated, every timestamp has a time zone, no function is SECURITY DEFINER.
}


def test_spec_131_original_sql(empty_db: str, capsys: pytest.CaptureFixture[str]) -> None:
    seed_database(empty_db)
    started = time.perf_counter()
    code, found = lint_db(empty_db, capsys)
    record("lint --db of SPEC-131's original SQL", time.perf_counter() - started)
    assert dict(Counter(f["rule"] for f in found)) == SEED_FINDINGS
    assert code == 1  # the two views are errors

    def objects(rule: str) -> set[str]:
        return {f["object"] for f in found if f["rule"] == rule}

    assert {"public.idx_support_ticket_categories_slug", "public.idx_support_sla_config_priority",
            "public.idx_support_tickets_ticket_number", "public.idx_support_canned_responses_shortcut"} \
        <= objects("duplicate_index")
    assert objects("security_definer_view") == {"public.v_active_tickets_with_sla", "public.v_agent_ticket_stats"}
    assert objects("function_search_path_mutable") == {
        f"public.{name}" for name in ("generate_ticket_number", "calculate_sla_targets", "update_ticket_metrics",
                                      "update_ticket_last_activity", "log_ticket_activity")}
    with psycopg.connect(empty_db) as conn:  # the count of bare-auth.uid() policies, cross-checked in the catalog
        row = conn.execute("SELECT count(*) FROM pg_policies WHERE concat(qual, with_check) ~ 'auth\\.uid\\(\\)' "
                           "AND concat(qual, with_check) !~ 'SELECT auth\\.uid\\(\\) AS uid'").fetchone()
    assert row is not None and row[0] == SEED_FINDINGS["auth_rls_initplan"]


def test_a_per_row_finding_names_the_calls(tmp_path: Path) -> None:
    """The message shows what to wrap: each call, as pglast prints it."""
    catalog = spec_catalog(tmp_path, mine("owner = auth.uid() OR code = current_setting('app.code', true)",
                                          indexes={"i": ["owner"]}))
    [found] = [f for f in lint(catalog) if f.rule == "auth_rls_initplan"]
    assert "auth.uid()" in found.message and "current_setting('app.code', TRUE)" in found.message, found.message


def test_the_duplicate_of_a_unique_index_is_the_plain_one(tmp_path: Path) -> None:
    """Of a UNIQUE index and a plain index on the same keys, the plain one is the duplicate (the unique one also
    enforces something); a declared index beside a unique constraint's own index is one, whatever the names."""
    catalog = spec_catalog(tmp_path, {"tables": {"t": table(
        {"a": "text", "b": {"type": "text", "unique": True}},
        indexes={"a_plain": ["a"], "z_unique": {"columns": ["a"], "unique": True},
                 "a_b_idx": {"columns": ["b"], "unique": True}})}})
    found = sorted(f.where for f in lint(catalog) if f.rule == "duplicate_index")
    assert found == ["public.a_b_idx", "public.a_plain"], found


def test_a_column_of_the_same_name_in_a_sub_query_is_not_the_row_s(tmp_path: Path) -> None:
    """`user_id` inside the sub-query is members.user_id (the inner scope first), not the policy's row: the
    row's own unindexed user_id is not what the policy compares."""
    catalog = spec_catalog(tmp_path, {"tables": {
        "members": table({"user_id": {"type": "uuid"}}, indexes={"i": ["user_id"]}),
        "t": table({"user_id": {"type": "uuid"}}, policies={"m": policy(
            "EXISTS (SELECT 1 FROM public.members m WHERE user_id = (SELECT auth.uid()))")})}})
    assert [f.text() for f in lint(catalog) if f.rule == "unindexed_policy_column"] == []
