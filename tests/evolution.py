"""The evolution corpus: a small base spec and edits to it, each with the rows that exist before and what must
hold after the migration. Expectations are written from the edit's intent (the data a user expects to keep, the
user a changed policy must admit or deny), never from the plan the tool produces.

Assertions are `(sql, expected)`; a query prefixed `AS <who>:` runs as role authenticated with app.user_id set to
that user (ann or bob), inside a rolled-back transaction.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

ANN = "00000000-0000-4000-8000-00000000000a"
BOB = "00000000-0000-4000-8000-00000000000b"
CAROL = "00000000-0000-4000-8000-00000000000c"  # an account the rows do not hold
USERS = {"ann": ANN, "bob": BOB}

BASE: dict[str, Any] = {
    "module": "Evolution base",
    "roles": {"anon": {}, "authenticated": {}},
    "sequences": {"invoice_number_seq": {"start": 1000}},
    "functions": {
        "current_user_id": {
            "returns": "uuid", "language": "sql", "volatility": "stable",
            "body": "SELECT nullif(current_setting('app.user_id', true), '')::uuid",
            "grants": {"authenticated": ["execute"]},
        },
        "touch_updated_at": {
            "returns": "trigger",
            "body": "BEGIN\n  NEW.updated_at := now();\n  RETURN NEW;\nEND;",
        },
    },
    "tables": {
        "accounts": {
            "columns": {
                "id": {"type": "uuid", "primary_key": True, "default_sql": "gen_random_uuid()"},
                "email": {"type": "varchar(100)", "not_null": True, "unique": True},
                "name": "text",
                "status": {"type": "text", "not_null": True, "default": "active"},
                "created_at": {"type": "timestamptz", "not_null": True, "default_sql": "now()"},
            },
            "checks": {"email_has_at": "position('@' in email) > 1"},
            "grants": {"authenticated": ["select"]},
        },
        "projects": {
            "columns": {
                "id": {"type": "bigint", "primary_key": True},
                "owner_id": {"type": "uuid", "not_null": True, "references": "accounts(id)"},
                "title": {"type": "varchar(50)", "not_null": True},
                "budget": "integer",
                "updated_at": "timestamptz",
            },
            "indexes": {"idx_projects_owner": ["owner_id"]},
            "triggers": {"projects_touch": {"timing": "before", "events": ["update"],
                                            "function": "touch_updated_at"}},
            "rls": "enabled",
            "policies": {
                "Owners see their projects": {
                    "command": "select", "roles": ["authenticated"],
                    "using": "owner_id = (SELECT current_user_id())",
                },
            },
            "grants": {"authenticated": ["select", "insert", "update"]},
        },
    },
    "views": {
        "v_projects": {
            "query": "SELECT p.id, p.title, p.owner_id FROM public.projects p",
            "grants": {"authenticated": ["select"]},
        },
    },
}

ROWS = f"""
INSERT INTO public.accounts (id, email, name) VALUES ('{ANN}', 'ann@example.com', 'Ann'),
                                                     ('{BOB}', 'bob@example.com', 'Bob');
INSERT INTO public.projects (id, owner_id, title, budget) VALUES (1, '{ANN}', 'Alpha', 100),
                                                                 (2, '{BOB}', 'Beta', NULL),
                                                                 (3, '{ANN}', 'Gamma', 5);
"""

# Data kept: every case that does not drop them keeps these counts, both ways.
KEPT = [("SELECT count(*) FROM public.accounts", 2), ("SELECT count(*) FROM public.projects", 3)]

Edit = Callable[[dict[str, Any]], None]


@dataclass(frozen=True)
class Case:
    id: str
    edit: Edit
    checks: list[tuple[str, Any]] = field(default_factory=list)  # after the forward migration
    hazards: frozenset[str] = frozenset()  # kinds the forward plan must name
    not_hazards: frozenset[str] = frozenset()  # kinds it must not
    changes: frozenset[str] = frozenset()  # change classes the forward plan must use
    not_changes: frozenset[str] = frozenset()  # and must not
    rows: str = ROWS
    kept: bool = True  # whether KEPT holds after both migrations
    before: Edit | None = None  # an edit of BASE giving the old spec (default: BASE itself)
    down_refused: str = ""  # the way back is refused as a spec error containing this text (PostgreSQL cannot)

    def old(self) -> dict[str, Any]:
        spec = copy.deepcopy(BASE)
        if self.before:
            self.before(spec)
        return spec

    def after(self) -> dict[str, Any]:
        spec = self.old()
        self.edit(spec)
        return spec


def T(spec: dict[str, Any], name: str) -> dict[str, Any]:
    return spec["tables"][name]


def col(spec: dict[str, Any], table: str, name: str) -> dict[str, Any]:
    c = T(spec, table)["columns"][name]
    if isinstance(c, str):
        c = T(spec, table)["columns"][name] = {"type": c}
    return c


def _set(path: str, value: Any) -> Edit:
    """An edit setting one value, `tables.accounts.comment` style (missing mappings are created)."""
    def edit(spec: dict[str, Any]) -> None:
        *parents, last = path.split("/")
        node = spec
        for p in parents:
            node = node.setdefault(p, {})
        node[last] = copy.deepcopy(value)  # edits may change it later: each spec gets its own
    return edit


def _drop(path: str) -> Edit:
    def edit(spec: dict[str, Any]) -> None:
        *parents, last = path.split("/")
        node = spec
        for p in parents:
            node = node[p]
        del node[last]
    return edit


def _chain(*edits: Edit) -> Edit:
    def edit(spec: dict[str, Any]) -> None:
        for e in edits:
            e(spec)
    return edit


def _column(table: str, name: str, **changes: Any) -> Edit:
    def edit(spec: dict[str, Any]) -> None:
        c = col(spec, table, name)
        for k, v in changes.items():
            if v is None:
                c.pop(k, None)
            else:
                c[k] = v
    return edit


def _rename_column(table: str, old: str, new: str) -> Edit:
    def edit(spec: dict[str, Any]) -> None:
        columns = T(spec, table)["columns"]
        items = [(new if k == old else k, v) for k, v in columns.items()]
        T(spec, table)["columns"] = dict(items)
        c = col(spec, table, new)
        c["renamed_from"] = old
    return edit


def _rename_key(path: str, old: str, new: str, fix: Edit | None = None) -> Edit:
    def edit(spec: dict[str, Any]) -> None:
        node = spec
        for p in path.split("/"):
            node = node[p]
        value = node.pop(old)
        value = {"columns": value} if isinstance(value, list) else \
            ({"expr": value} if isinstance(value, str) else value)
        value["renamed_from"] = old
        node[new] = value
        if fix:
            fix(spec)
    return edit


def _rekey(path: str, old: str, new: str) -> Edit:
    """The same object under another key (a function keyed by its signature once it is overloaded)."""
    def edit(spec: dict[str, Any]) -> None:
        node = spec
        for p in path.split("/"):
            node = node[p]
        node[new] = node.pop(old)
    return edit


POLICY = "tables/projects/policies/Owners see their projects"
AS_ANN_COUNT = "AS ann: SELECT count(*) FROM public.projects"
AS_BOB_COUNT = "AS bob: SELECT count(*) FROM public.projects"

PAGE_SIZE = {"args": {"n": {"type": "integer", "default": "20"}}, "returns": "integer", "language": "sql",
             "volatility": "immutable", "body": "SELECT n"}
ANSWERS = {"returns": "integer", "language": "sql", "volatility": "immutable", "body": "SELECT 42"}
EVENTS = {"columns": {"id": {"type": "bigint", "not_null": True}, "at": {"type": "date", "not_null": True},
                      "note": "text"},
          "primary_key": ["id", "at"], "partition_by": "range (at)", "indexes": {"idx_events_note": ["note"]},
          "partitions": {"events_2026": {"values": "from ('2026-01-01') to ('2027-01-01')"},
                         "events_old": {"default": True}}}
WHERE_EVENT = "INSERT INTO public.events VALUES ({}, '{}', 'x') RETURNING tableoid::regclass::text"
# PostgreSQL's serial columns as the spec writes them: a sequence owned by the column, and the column's nextval()
# default. A table of its own, and a column of projects.
_TICKETS = _chain(
    _set("sequences/tickets_id_seq", {"type": "integer", "owned_by": "tickets.id"}),
    _set("tables/tickets", {"columns": {
        "id": {"type": "integer", "default_sql": "nextval('public.tickets_id_seq'::regclass)"}}}))
_PROJECTS_N = _chain(
    _set("sequences/projects_n_seq", {"type": "integer", "owned_by": "projects.n"}),
    _set("tables/projects/columns/n", {"type": "integer", "not_null": True,
                                        "default_sql": "nextval('public.projects_n_seq'::regclass)"}))

CASES: list[Case] = [
    # -- columns --------------------------------------------------------------------------------------------------
    Case("add_nullable_column", _set("tables/accounts/columns/phone", "text"),
         [("SELECT count(*) FROM public.accounts WHERE phone IS NULL", 2)],
         not_hazards=frozenset({"data-loss", "rewrite"}), changes=frozenset({"AddColumn"})),
    Case("add_column_with_default", _set("tables/accounts/columns/plan", {"type": "text", "default": "free"}),
         [("SELECT count(*) FROM public.accounts WHERE plan = 'free'", 2)], not_hazards=frozenset({"data-loss"})),
    Case("add_not_null_column_with_default",
         _set("tables/projects/columns/archived", {"type": "boolean", "not_null": True, "default": False}),
         [("SELECT count(*) FROM public.projects WHERE NOT archived", 3),
          ("SELECT is_nullable FROM information_schema.columns WHERE table_name = 'projects' "
           "AND column_name = 'archived'", "NO")]),
    Case("add_column_volatile_default",
         _set("tables/projects/columns/token", {"type": "uuid", "not_null": True, "default_sql": "gen_random_uuid()"}),
         [("SELECT count(DISTINCT token) FROM public.projects", 3)], hazards=frozenset({"rewrite", "lock"})),
    Case("drop_column", _drop("tables/projects/columns/budget"),
         [("SELECT count(*) FROM information_schema.columns WHERE table_name = 'projects' "
           "AND column_name = 'budget'", 0)],
         hazards=frozenset({"data-loss"}), changes=frozenset({"DropColumn"})),
    Case("widen_varchar", _column("projects", "title", type="varchar(200)"),
         [("SELECT character_maximum_length FROM information_schema.columns WHERE table_name = 'projects' "
           "AND column_name = 'title'", 200), ("SELECT title FROM public.projects WHERE id = 1", "Alpha")],
         not_hazards=frozenset({"data-loss", "rewrite"})),
    Case("narrow_varchar", _column("projects", "title", type="varchar(10)"),
         [("SELECT title FROM public.projects WHERE id = 3", "Gamma")], hazards=frozenset({"data-loss"})),
    Case("integer_to_bigint", _column("projects", "budget", type="bigint"),
         [("SELECT sum(budget) FROM public.projects", 105)], hazards=frozenset({"rewrite"}),
         not_hazards=frozenset({"data-loss"})),
    Case("text_to_integer_using",
         _chain(_set("tables/accounts/columns/age", "text"),
                _column("accounts", "age", type="integer", using="nullif(age, '')::integer")),
         [("SELECT count(*) FROM public.accounts WHERE age IS NULL", 2)],
         rows=ROWS),
    Case("set_default", _column("projects", "budget", default=0),
         [(f"INSERT INTO public.projects (id, owner_id, title) VALUES (9, '{ANN}', 'New') RETURNING budget", 0)],
         changes=frozenset({"SetDefault"})),
    Case("drop_default", _column("accounts", "status", default=None),
         [("SELECT column_default FROM information_schema.columns WHERE table_name = 'accounts' "
           "AND column_name = 'status'", None)]),
    Case("set_not_null", _column("accounts", "name", not_null=True),
         [("SELECT is_nullable FROM information_schema.columns WHERE table_name = 'accounts' "
           "AND column_name = 'name'", "NO")], changes=frozenset({"SetNotNull"})),
    Case("drop_not_null", _column("projects", "title", not_null=None),
         [("SELECT is_nullable FROM information_schema.columns WHERE table_name = 'projects' "
           "AND column_name = 'title'", "YES")]),
    Case("column_comment", _column("accounts", "email", comment="Where we write to"),
         [("SELECT col_description('public.accounts'::regclass, 2)", "Where we write to")],
         not_hazards=frozenset({"data-loss", "lock", "authz"}), changes=frozenset({"Comment"})),
    Case("change_type_under_a_view", _column("projects", "title", type="text"),
         [("SELECT title FROM public.v_projects WHERE id = 2", "Beta")]),
    Case("column_added_in_the_middle_of_the_yaml",
         lambda spec: T(spec, "accounts").__setitem__("columns", dict(
             [*list(T(spec, "accounts")["columns"].items())[:2], ("nickname", {"type": "text"}),
              *list(T(spec, "accounts")["columns"].items())[2:]])),
         [("SELECT attnum FROM pg_attribute WHERE attrelid = 'public.accounts'::regclass AND attname = 'nickname'",
           6)], changes=frozenset({"AddColumn"})),
    Case("enum_value_added",
         _set("enums/account_status", ["active", "suspended", "closed"]),
         [("INSERT INTO public.accounts (email, status) VALUES ('c@example.com', 'closed') RETURNING status",
           "closed"), ("INSERT INTO public.accounts (email, status) VALUES ('d@example.com', 'gone')",
                       "check_violation")],
         changes=frozenset({"DropConstraint", "AddConstraint"}),
         before=_chain(_set("enums", {"account_status": ["active", "suspended"]}),
                       _column("accounts", "status", enum="account_status"))),
    # -- constraints ----------------------------------------------------------------------------------------------
    Case("add_check", _set("tables/projects/checks", {"budget_positive": "budget IS NULL OR budget >= 0"}),
         [(f"INSERT INTO public.projects (id, owner_id, title, budget) VALUES (8, '{ANN}', 'x', -1)",
           "check_violation")]),
    Case("drop_check", _drop("tables/accounts/checks"),
         [("INSERT INTO public.accounts (email) VALUES ('no-at-sign') RETURNING email", "no-at-sign")]),
    Case("change_check", _set("tables/accounts/checks/email_has_at", "position('@' in email) > 2"),
         [("INSERT INTO public.accounts (email) VALUES ('a@b')", "check_violation"),
          ("INSERT INTO public.accounts (email) VALUES ('ab@c') RETURNING email", "ab@c")]),
    Case("add_unique", _set("tables/projects/unique", {"projects_owner_title_key": ["owner_id", "title"]}),
         [(f"INSERT INTO public.projects (id, owner_id, title) VALUES (8, '{ANN}', 'Alpha')", "unique_violation")],
         hazards=frozenset({"index-build"})),
    Case("drop_unique", _column("accounts", "email", unique=None),
         [("INSERT INTO public.accounts (email) VALUES ('ann@example.com') RETURNING email", "ann@example.com")]),
    Case("fk_on_delete_cascade", _column("projects", "owner_id", on_delete="cascade"),
         [(f"WITH d AS (DELETE FROM public.accounts WHERE id = '{ANN}' RETURNING 1) "
           "SELECT count(*) FROM d", 1)]),
    Case("add_foreign_key",
         _set("tables/projects/columns/parent_id", {"type": "bigint", "references": "projects(id)",
                                                    "on_delete": "set null"}),
         [(f"INSERT INTO public.projects (id, owner_id, title, parent_id) VALUES (8, '{ANN}', 'x', 42)",
           "foreign_key_violation")]),
    Case("composite_primary_key_to_column_key",
         _set("tables/memberships", {"columns": {"account_id": {"type": "uuid", "not_null": True},
                                                 "project_id": {"type": "bigint", "not_null": True}},
                                     "primary_key": ["account_id", "project_id"]}),
         [(f"INSERT INTO public.memberships VALUES ('{ANN}', 1), ('{ANN}', 1)", "unique_violation")]),
    # -- constraint options ---------------------------------------------------------------------------------------
    Case("foreign_key_deferred",  # the column's key written as a table entry of the same name, deferred
         _chain(_column("projects", "owner_id", references=None),
                _set("tables/projects/foreign_keys", {"projects_owner_id_fkey": {
                    "columns": ["owner_id"], "references": "accounts(id)", "deferrable": "initially deferred"}})),
         # a project may come before its owner within a transaction (checked at its end), not past that
         [(f"INSERT INTO public.projects (id, owner_id, title) VALUES (8, '{CAROL}', 'x') RETURNING id", 8),
          (f"INSERT INTO public.projects (id, owner_id, title) VALUES (8, '{CAROL}', 'x'); "
           "SET CONSTRAINTS ALL IMMEDIATE", "foreign_key_violation")],
         changes=frozenset({"AlterConstraint"}), not_changes=frozenset({"DropConstraint", "AddConstraint"})),
    Case("check_validated",
         _set("tables/projects/checks", {"budget_small": "budget IS NULL OR budget < 1000"}),
         [("SELECT convalidated FROM pg_constraint WHERE conname = 'budget_small'", True),
          (f"INSERT INTO public.projects (id, owner_id, title, budget) VALUES (8, '{ANN}', 'x', 5000)",
           "check_violation")],
         changes=frozenset({"ValidateConstraint"}), not_changes=frozenset({"DropConstraint", "AddConstraint"}),
         before=_set("tables/projects/checks", {"budget_small": {"expr": "budget IS NULL OR budget < 1000",
                                                                 "not_valid": True}})),
    Case("unique_nulls_not_distinct",
         _set("tables/projects/unique", {"projects_owner_budget_key": {"columns": ["owner_id", "budget"],
                                                                       "nulls_not_distinct": True}}),
         # Bob's one project without a budget is the only one he may have
         [(f"INSERT INTO public.projects (id, owner_id, title) VALUES (8, '{BOB}', 'x')", "unique_violation"),
          (f"INSERT INTO public.projects (id, owner_id, title) VALUES (8, '{ANN}', 'x') RETURNING id", 8)],
         before=_set("tables/projects/unique", {"projects_owner_budget_key": ["owner_id", "budget"]})),
    Case("exclusion_added",
         _chain(_set("extensions/btree_gist", {}),
                _set("tables/projects/excludes", {"projects_budget_band": {
                    "elements": {"owner_id": "=", "(int4range(budget / 100, budget / 100, '[]'))": "&&"},
                    "where": "budget IS NOT NULL"}})),
         # Ann's Alpha has a budget of 100: another of hers in that band is refused, Bob's is not
         [(f"INSERT INTO public.projects (id, owner_id, title, budget) VALUES (8, '{ANN}', 'x', 150)",
           "exclusion_violation"),
          (f"INSERT INTO public.projects (id, owner_id, title, budget) VALUES (8, '{BOB}', 'x', 150) RETURNING id",
           8)],
         hazards=frozenset({"index-build"}), changes=frozenset({"CreateExtension", "AddConstraint"})),
    # -- indexes --------------------------------------------------------------------------------------------------
    Case("add_index", _set("tables/projects/indexes/idx_projects_title", ["title"]),
         [("SELECT count(*) FROM pg_indexes WHERE indexname = 'idx_projects_title'", 1)],
         hazards=frozenset({"index-build"}), changes=frozenset({"CreateIndex"})),
    Case("drop_index", _drop("tables/projects/indexes/idx_projects_owner"),
         [("SELECT count(*) FROM pg_indexes WHERE indexname = 'idx_projects_owner'", 0)],
         not_hazards=frozenset({"data-loss"})),
    Case("partial_index", _set("tables/projects/indexes/idx_projects_owner",
                               {"columns": ["owner_id"], "where": "budget IS NOT NULL"}),
         [("SELECT indexdef LIKE '%WHERE (budget IS NOT NULL)%' FROM pg_indexes "
           "WHERE indexname = 'idx_projects_owner'", True)],
         changes=frozenset({"DropIndex", "CreateIndex"})),
    Case("index_comment", _set("tables/projects/indexes/idx_projects_owner",
                               {"columns": ["owner_id"], "comment": "Owner lookups"}),
         [("SELECT obj_description('public.idx_projects_owner'::regclass, 'pg_class')", "Owner lookups")],
         not_changes=frozenset({"DropIndex"})),
    # -- tables ---------------------------------------------------------------------------------------------------
    Case("add_table",
         _set("tables/tags", {"columns": {"id": {"type": "integer", "primary_key": True},
                                          "label": {"type": "text", "not_null": True}},
                              "grants": {"authenticated": ["select"]}}),
         [("INSERT INTO public.tags VALUES (1, 'red') RETURNING label", "red"),
          ("AS ann: SELECT count(*) FROM public.tags", 0)]),
    Case("drop_table", _chain(_drop("tables/projects"), _drop("views/v_projects")),
         [("SELECT to_regclass('public.projects') IS NULL", True)], hazards=frozenset({"data-loss"}), kept=False),
    Case("table_comment", _set("tables/accounts/comment", "People"),
         [("SELECT obj_description('public.accounts'::regclass, 'pg_class')", "People")]),
    # -- triggers and functions -----------------------------------------------------------------------------------
    Case("add_trigger", _chain(
        _set("functions/lower_email", {"returns": "trigger",
                                       "body": "BEGIN\n  NEW.email := lower(NEW.email);\n  RETURN NEW;\nEND;"}),
        _set("tables/accounts/triggers", {"accounts_lower_email": {"timing": "before", "events": ["insert"],
                                                                   "function": "lower_email"}})),
         [("INSERT INTO public.accounts (email) VALUES ('Cy@Example.com') RETURNING email", "cy@example.com")]),
    Case("drop_trigger", _drop("tables/projects/triggers"),
         [("UPDATE public.projects SET title = 'A2' WHERE id = 1 RETURNING updated_at", None)]),
    Case("change_trigger_events", _set("tables/projects/triggers/projects_touch/events", ["insert", "update"]),
         [(f"INSERT INTO public.projects (id, owner_id, title) VALUES (7, '{ANN}', 'T') "
           "RETURNING updated_at IS NOT NULL", True)],
         changes=frozenset({"DropTrigger", "CreateTrigger"})),
    Case("replace_function_body",
         _set("functions/touch_updated_at/body",
              "BEGIN\n  NEW.updated_at := '2001-02-03 04:05:06+00';\n  RETURN NEW;\nEND;"),
         [("UPDATE public.projects SET title = 'A2' WHERE id = 1 RETURNING updated_at = '2001-02-03 04:05:06+00'",
           True)],
         changes=frozenset({"ReplaceFunction"}), not_changes=frozenset({"DropFunction", "DropTrigger"})),
    Case("function_argument_type_changes_under_a_policy",
         _chain(_set("functions/owner_matches", {
             "args": {"owner": "text"}, "returns": "boolean", "language": "sql", "volatility": "stable",
             "body": "SELECT owner = (SELECT current_user_id())::text", "grants": {"authenticated": ["execute"]}}),
                _set(f"{POLICY}/using", "owner_matches(owner_id::text)")),
         [(AS_ANN_COUNT, 2), (AS_BOB_COUNT, 1)], changes=frozenset({"DropFunction", "CreateFunction"}),
         before=_chain(_set("functions/owner_matches", {
             "args": {"owner": "uuid"}, "returns": "boolean", "language": "sql", "volatility": "stable",
             "body": "SELECT owner = (SELECT current_user_id())", "grants": {"authenticated": ["execute"]}}),
                _set(f"{POLICY}/using", "owner_matches(owner_id)"))),
    Case("function_returns_changes_under_a_trigger",
         _chain(_set("functions/current_user_id/returns", "text"),
                _set("functions/current_user_id/body", "SELECT nullif(current_setting('app.user_id', true), '')"),
                _set(f"{POLICY}/using", "owner_id::text = (SELECT current_user_id())")),
         [(AS_ANN_COUNT, 2)], changes=frozenset({"DropFunction", "CreateFunction"})),
    Case("add_function", _set("functions/answer", {"returns": "integer", "language": "sql",
                                                   "volatility": "immutable", "body": "SELECT 42",
                                                   "grants": {"authenticated": ["execute"]}}),
         [("AS ann: SELECT public.answer()", 42)]),
    Case("drop_function", _chain(
        _drop("tables/projects/triggers"), _drop("functions/touch_updated_at")),
         [("SELECT count(*) FROM pg_proc WHERE proname = 'touch_updated_at'", 0)]),
    Case("function_security_definer", _chain(_set("functions/current_user_id/security", "definer"),
                                             _set("functions/current_user_id/search_path", "")),
         [("SELECT prosecdef FROM pg_proc WHERE proname = 'current_user_id'", True)],
         hazards=frozenset({"authz"}), changes=frozenset({"ReplaceFunction"})),
    Case("function_argument_default_changes",  # CREATE OR REPLACE may change a default
         _set("functions/page_size/args/n/default", "50"),
         [("SELECT public.page_size()", 50), ("SELECT public.page_size(7)", 7)],
         changes=frozenset({"ReplaceFunction"}), not_changes=frozenset({"DropFunction"}), before=_set(
             "functions/page_size", PAGE_SIZE)),
    Case("function_argument_default_removed",  # ... but not remove one: drop and create (and back: replace)
         _set("functions/page_size/args/n", "integer"),
         [("SELECT pg_get_function_arg_default('public.page_size'::regproc, 1)", None),
          ("SELECT public.page_size()", "undefined_function")],
         changes=frozenset({"DropFunction", "CreateFunction"}), before=_set("functions/page_size", PAGE_SIZE)),
    Case("function_returns_a_set",
         _set("functions/answers", {**ANSWERS, "returns": "table(n integer, label text)", "rows": 3,
                                    "body": "SELECT i, 'answer ' || i FROM generate_series(1, 3) AS i"}),
         [("SELECT count(*) FROM public.answers()", 3), ("SELECT label FROM public.answers() WHERE n = 2", "answer 2"),
          ("SELECT prorows FROM pg_proc WHERE proname = 'answers'", 3)],
         changes=frozenset({"DropFunction", "CreateFunction"}), before=_set("functions/answers", ANSWERS)),
    Case("function_out_arguments",  # the result type changes: drop and create
         _set("functions/answers", {**ANSWERS, "returns": "record", "body": "SELECT 1, 'x'",
                                    "args": {"a": {"type": "integer", "mode": "out"},
                                             "b": {"type": "text", "mode": "out"}}}),
         [("SELECT b FROM public.answers()", "x")],
         changes=frozenset({"DropFunction", "CreateFunction"}), before=_set("functions/answers", ANSWERS)),
    Case("function_options", _chain(_set("functions/current_user_id/parallel", "safe"),
                                    _set("functions/current_user_id/cost", 5),
                                    _set("functions/current_user_id/strict", True)),
         [("SELECT proparallel FROM pg_proc WHERE proname = 'current_user_id'", "s"),
          ("SELECT procost FROM pg_proc WHERE proname = 'current_user_id'", 5), (AS_ANN_COUNT, 2)],
         changes=frozenset({"ReplaceFunction"}), not_changes=frozenset({"DropFunction"})),
    # -- row-level security and policies --------------------------------------------------------------------------
    Case("policy_using_changes", _set(f"{POLICY}/using", "owner_id = (SELECT current_user_id()) OR budget IS NULL"),
         [(AS_ANN_COUNT, 3), (AS_BOB_COUNT, 1)],
         hazards=frozenset({"authz"}), changes=frozenset({"AlterPolicy"}), not_changes=frozenset({"DropPolicy"})),
    Case("policy_roles_change", _set(f"{POLICY}/roles", ["anon"]),
         [(AS_ANN_COUNT, 0)], changes=frozenset({"AlterPolicy"}), not_changes=frozenset({"DropPolicy"})),
    Case("policy_command_changes", _set(f"{POLICY}/command", "all"),
         [(AS_ANN_COUNT, 2), ("AS ann: UPDATE public.projects SET budget = 1 RETURNING id", 1)],
         changes=frozenset({"DropPolicy", "CreatePolicy"})),
    Case("add_policy", _set("tables/projects/policies/Owners add projects",
                            {"command": "insert", "roles": ["authenticated"],
                             "with_check": "owner_id = (SELECT current_user_id())"}),
         [(f"AS ann: INSERT INTO public.projects (id, owner_id, title) VALUES (5, '{ANN}', 'Mine') RETURNING id", 5),
          (f"AS ann: INSERT INTO public.projects (id, owner_id, title) VALUES (6, '{BOB}', 'His')",
           "insufficient_privilege")]),
    Case("drop_policy", _drop(POLICY), [(AS_ANN_COUNT, 0)], hazards=frozenset({"authz"})),
    Case("disable_rls", _chain(_drop("tables/projects/policies"), _set("tables/projects/rls", "off")),
         [(AS_BOB_COUNT, 3)], hazards=frozenset({"authz"})),
    Case("force_rls", _set("tables/projects/rls", "forced"),
         [("SELECT relforcerowsecurity FROM pg_class WHERE oid = 'public.projects'::regclass", True)]),
    Case("enable_rls_with_policy", _chain(
        _set("tables/accounts/rls", "enabled"),
        _set("tables/accounts/policies", {"Self": {"command": "select", "roles": ["authenticated"],
                                                   "using": "id = (SELECT current_user_id())"}})),
         [("AS ann: SELECT count(*) FROM public.accounts", 1)]),
    # -- views ----------------------------------------------------------------------------------------------------
    Case("change_view_query", _set("views/v_projects/query",
                                   "SELECT p.id, p.title, p.owner_id, p.budget FROM public.projects p"),
         [("SELECT budget FROM public.v_projects WHERE id = 1", 100)]),
    Case("view_security_invoker_off", _set("views/v_projects/security_invoker", False),
         [("AS bob: SELECT count(*) FROM public.v_projects", 3)],
         hazards=frozenset({"authz"}), changes=frozenset({"SetViewOptions"})),
    Case("add_view", _set("views/v_accounts", {"query": "SELECT a.id, a.email FROM public.accounts a"}),
         [("SELECT count(*) FROM public.v_accounts", 2)]),
    Case("drop_view", _drop("views/v_projects"), [("SELECT to_regclass('public.v_projects') IS NULL", True)]),
    # -- grants, sequences, schemas, roles ------------------------------------------------------------------------
    Case("grant_more", _set("tables/accounts/grants/authenticated", ["select", "update"]),
         [("SELECT has_table_privilege('authenticated', 'public.accounts', 'UPDATE')", True)],
         hazards=frozenset({"authz"}), changes=frozenset({"Grant"})),
    Case("column_grant_added", _column("accounts", "name", grants={"authenticated": ["update"]}),
         [("SELECT has_column_privilege('authenticated', 'public.accounts', 'name', 'UPDATE')", True),
          ("SELECT has_column_privilege('authenticated', 'public.accounts', 'email', 'UPDATE')", False),
          (f"AS ann: UPDATE public.accounts SET name = 'Annie' WHERE id = '{ANN}' RETURNING name", "Annie")],
         hazards=frozenset({"authz"}), changes=frozenset({"Grant"})),
    Case("grant_all", _set("tables/accounts/grants/authenticated", ["all"]),
         [("SELECT has_table_privilege('authenticated', 'public.accounts', 'TRUNCATE')", True)]),
    Case("revoke", _set("tables/projects/grants/authenticated", ["select"]),
         [("SELECT has_table_privilege('authenticated', 'public.projects', 'INSERT')", False)]),
    Case("function_grant", _set("functions/current_user_id/grants", {"authenticated": ["execute"],
                                                                      "anon": ["execute"]}),
         [("SELECT has_function_privilege('anon', 'public.current_user_id()', 'EXECUTE')", True)]),
    Case("alter_sequence", _set("sequences/invoice_number_seq", {"start": 1000, "increment": 10}),
         [("SELECT increment FROM information_schema.sequences WHERE sequence_name = 'invoice_number_seq'", "10")],
         changes=frozenset({"AlterSequence"})),
    Case("add_sequence", _set("sequences/order_seq", {"start": 5}),
         [("SELECT nextval('public.order_seq')", 5)]),
    Case("drop_sequence", _drop("sequences"), [("SELECT to_regclass('public.invoice_number_seq') IS NULL", True)],
         hazards=frozenset({"data-loss"})),
    # -- sequences owned by a column (`owned_by:`), PostgreSQL's serial columns ------------------------------------
    # pg_get_serial_sequence: PostgreSQL's own answer to which sequence a column owns.
    Case("owned_by_added", _set("sequences/invoice_number_seq/owned_by", "projects.budget"),
         [("SELECT pg_get_serial_sequence('public.projects', 'budget')", "public.invoice_number_seq")],
         changes=frozenset({"SetOwnedBy"})),
    Case("owned_by_moved", _set("sequences/invoice_number_seq/owned_by", "projects.budget"),
         [("SELECT pg_get_serial_sequence('public.projects', 'budget')", "public.invoice_number_seq"),
          ("SELECT pg_get_serial_sequence('public.accounts', 'name')", None)],
         changes=frozenset({"SetOwnedBy"}),
         before=_set("sequences/invoice_number_seq/owned_by", "accounts.name")),
    # a serial table and its sequence: created before the table, owned after it; dropped with it on the way back
    # (PostgreSQL drops the sequence with its table: the plan must not drop it again)
    Case("serial_table_added", _chain(
        _set("sequences/tickets_id_seq", {"type": "integer", "owned_by": "tickets.id"}),
        _set("tables/tickets", {"columns": {
            "id": {"type": "integer", "primary_key": True, "default_sql": "nextval('public.tickets_id_seq'::regclass)"},
            "title": "text"}})),
         [("WITH t AS (INSERT INTO public.tickets (title) VALUES ('a') RETURNING id) SELECT id FROM t", 1),
          ("SELECT pg_get_serial_sequence('public.tickets', 'id')", "public.tickets_id_seq")],
         changes=frozenset({"CreateSequence", "CreateTable", "SetOwnedBy"})),
    Case("serial_table_dropped", _chain(_drop("sequences/tickets_id_seq"), _drop("tables/tickets")),
         [("SELECT to_regclass('public.tickets_id_seq') IS NULL", True)],
         hazards=frozenset({"data-loss"}), not_changes=frozenset({"DropSequence"}),
         before=_TICKETS),
    Case("serial_column_dropped", _chain(_drop("sequences/projects_n_seq"), _drop("tables/projects/columns/n")),
         [("SELECT to_regclass('public.projects_n_seq') IS NULL", True)],
         hazards=frozenset({"data-loss"}), not_changes=frozenset({"DropSequence"}),
         before=_PROJECTS_N),
    # the owning column replaced by another: the sequence lives on, owned by the new one
    Case("owned_by_column_replaced", _chain(
        _drop("tables/projects/columns/n"),
        _set("tables/projects/columns/m", {"type": "integer", "default_sql":
                                           "nextval('public.projects_n_seq'::regclass)"}),
        _set("sequences/projects_n_seq/owned_by", "projects.m")),
         [("SELECT pg_get_serial_sequence('public.projects', 'm')", "public.projects_n_seq"),
          ("SELECT array_agg(m ORDER BY m) FROM public.projects", [4, 5, 6])],
         hazards=frozenset({"data-loss"}), not_changes=frozenset({"DropSequence", "CreateSequence"}),
         before=_PROJECTS_N),
    # renames: PostgreSQL's OWNED BY follows the table and the column, so the plan only renames
    Case("serial_table_renamed", _chain(
        _drop("tables/tickets"),
        _set("tables/issues", {"renamed_from": "tickets", "columns": {
            "number": {"type": "integer", "renamed_from": "id",
                       "default_sql": "nextval('public.tickets_id_seq'::regclass)"}}}),
        _set("sequences/tickets_id_seq/owned_by", "issues.number")),
         [("SELECT pg_get_serial_sequence('public.issues', 'number')", "public.tickets_id_seq")],
         changes=frozenset({"Rename"}), not_changes=frozenset({"SetOwnedBy", "AlterSequence"}),
         before=_TICKETS),
    # a table's new owner is its sequence's too: PostgreSQL refuses OWNER TO on an owned sequence, and ALTER TABLE
    # ... OWNER TO carries it along
    Case("serial_table_owner_changed", _chain(_set("tables/tickets/owner", "authenticated"),
                                              _set("sequences/tickets_id_seq/owner", "authenticated")),
         [("SELECT relowner::regrole::text FROM pg_class WHERE oid = 'public.tickets_id_seq'::regclass",
           "authenticated")],
         before=_TICKETS),
    # moved to a table of another owner, the sequence's owner with it: OWNED BY NONE, OWNER TO, then OWNED BY
    Case("owned_by_moved_to_another_owner", _chain(
        _set("tables/issues", {"owner": "authenticated", "columns": {
            "id": {"type": "integer", "default_sql": "nextval('public.tickets_id_seq'::regclass)"}}}),
        _set("sequences/tickets_id_seq", {"type": "integer", "owned_by": "issues.id", "owner": "authenticated"})),
         [("SELECT pg_get_serial_sequence('public.issues', 'id')", "public.tickets_id_seq"),
          ("SELECT relowner::regrole::text FROM pg_class WHERE oid = 'public.tickets_id_seq'::regclass",
           "authenticated")],
         before=_chain(_TICKETS, _set("tables/tickets/owner", "anon"),
                       _set("sequences/tickets_id_seq", {"type": "integer", "owned_by": "tickets.id",
                                                         "owner": "anon"}))),
    Case("add_schema_with_table", _chain(
        _set("schemas", {"billing": {"comment": "Money", "grants": {"authenticated": ["usage"]}}}),
        _set("tables/billing.invoices", {"columns": {"id": {"type": "bigint", "primary_key": True,
                                                            "default_sql": "nextval('invoice_number_seq')"}}})),
         [("INSERT INTO billing.invoices DEFAULT VALUES RETURNING id", 1000)]),
    Case("add_role_with_grant", _chain(_set("roles/pgspec_auditor", {"bypass_rls": True}),
                                       _set("tables/accounts/grants/pgspec_auditor", ["select"])),
         [("SELECT rolbypassrls FROM pg_roles WHERE rolname = 'pgspec_auditor'", True),
          ("SELECT has_table_privilege('pgspec_auditor', 'public.accounts', 'SELECT')", True)]),
    # -- seed rows ------------------------------------------------------------------------------------------------
    Case("seed_rows_added_changed_removed",
         _set("tables/plans/seed", [{"code": "free", "name": "Free", "price": 1},
                                    {"code": "pro", "name": "Pro", "price": 20},
                                    {"code": "enterprise", "name": "Enterprise", "price": 99}]),
         [("SELECT price FROM public.plans WHERE code = 'free'", 1),
          ("SELECT count(*) FROM public.plans WHERE code = 'team'", 0),
          ("SELECT name FROM public.plans WHERE code = 'enterprise'", "Enterprise"),
          ("SELECT name FROM public.plans WHERE code = 'custom'", "Written by the app")],
         hazards=frozenset({"data-loss"}), changes=frozenset({"InsertSeedRows", "UpdateSeedRow", "DeleteSeedRow"}),
         rows=ROWS + "INSERT INTO public.plans (code, name) VALUES ('custom', 'Written by the app');",
         before=_set("tables/plans", {"columns": {"code": {"type": "text", "primary_key": True},
                                                  "name": {"type": "text", "not_null": True},
                                                  "price": {"type": "integer", "default": 0}},
                                      "seed": [{"code": "free", "name": "Free"},
                                               {"code": "pro", "name": "Pro", "price": 20},
                                               {"code": "team", "name": "Team", "price": 50}]})),
    Case("seed_rows_without_a_key",
         _set("tables/colors/seed", [{"name": "red"}, {"name": "green"}]),
         [("SELECT string_agg(name, ',' ORDER BY name) FROM public.colors", "green,red,teal")],
         hazards=frozenset({"data-loss"}),
         rows=ROWS + "INSERT INTO public.colors (name) VALUES ('teal');",
         before=_set("tables/colors", {"columns": {"name": {"type": "text", "not_null": True}},
                                       "seed": [{"name": "red"}, {"name": "blue"}]})),
    # A seed row's new column is not in the database yet: its rows change, the other table's stay as they are.
    Case("seed_rows_gain_a_column",
         _chain(_set("tables/plans/columns/price", {"type": "integer", "default": 0}),
                _set("tables/plans/seed", [{"code": "free", "name": "Free", "price": 0},
                                           {"code": "pro", "name": "Pro", "price": 20}])),
         [("SELECT price FROM public.plans WHERE code = 'pro'", 20),
          ("SELECT string_agg(name, ',' ORDER BY name) FROM public.colors", "blue,red")],
         changes=frozenset({"AddColumn", "UpdateSeedRow"}),
         not_changes=frozenset({"InsertSeedRows", "DeleteSeedRow"}),
         before=_chain(_set("tables/plans", {"columns": {"code": {"type": "text", "primary_key": True},
                                                         "name": {"type": "text", "not_null": True}},
                                             "seed": [{"code": "free", "name": "Free"},
                                                      {"code": "pro", "name": "Pro"}]}),
                       _set("tables/colors", {"columns": {"name": {"type": "text", "not_null": True}},
                                              "seed": [{"name": "red"}, {"name": "blue"}]}))),
    Case("seed_table_created", _set("tables/plans", {"columns": {"code": {"type": "text", "primary_key": True}},
                                                     "seed": [{"code": "free"}, {"code": "pro"}]}),
         [("SELECT count(*) FROM public.plans", 2)]),
    # -- extensions -----------------------------------------------------------------------------------------------
    Case("extension_added_and_used", _chain(_set("extensions/citext", {}),
                                            _set("tables/accounts/columns/nickname", "citext")),
         [("SELECT count(*) FROM pg_extension WHERE extname = 'citext'", 1),
          ("SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
           "WHERE attrelid = 'public.accounts'::regclass AND attname = 'nickname'", "citext"),
          # citext's comparison: letters in another case are equal
          ("SELECT 'Ann'::public.citext = 'ANN'::public.citext", True)],
         changes=frozenset({"CreateExtension", "AddColumn"})),
    Case("extension_moved", _set("extensions/citext", {"schema": "extras"}),
         [("SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'citext'", "extras")],
         changes=frozenset({"AlterExtension"}), not_changes=frozenset({"CreateExtension", "DropExtension"}),
         before=_chain(_set("schemas/extras", {}), _set("extensions/citext", {"schema": "public"}))),
    # -- raw SQL objects ------------------------------------------------------------------------------------------
    Case("raw_sql_added", _set("raw/projects_stats", {
        "sql": "CREATE STATISTICS public.projects_stats ON owner_id, budget FROM public.projects",
        "drop": "DROP STATISTICS public.projects_stats"}),
         [("SELECT count(*) FROM pg_statistic_ext WHERE stxname = 'projects_stats'", 1),
          ("SELECT count(*) FROM pgspec.raw_objects", 1)],
         changes=frozenset({"CreateRaw", "CreateRawRegistry"}), not_hazards=frozenset({"data-loss"})),
    Case("raw_sql_changed", _set("raw/projects_stats/sql",
                                 "CREATE STATISTICS public.projects_stats (ndistinct) ON owner_id, budget "
                                 "FROM public.projects"),
         # the statistics object now computes n-distinct counts only (stxkind 'd')
         [("SELECT stxkind::text FROM pg_statistic_ext WHERE stxname = 'projects_stats'", "{d}")],
         hazards=frozenset({"data-loss"}), changes=frozenset({"DropRaw", "CreateRaw"}),
         not_changes=frozenset({"CreateRawRegistry"}),
         before=_set("raw/projects_stats", {
             "sql": "CREATE STATISTICS public.projects_stats ON owner_id, budget FROM public.projects",
             "drop": "DROP STATISTICS public.projects_stats"})),
    # -- default privileges ---------------------------------------------------------------------------------------
    Case("default_privileges_granted", _set("default_privileges", [{"schema": "public",
                                                                     "tables": {"authenticated": ["select"]}},
                                                                    {"functions": {"public": []}}]),
         # what new objects will get (test_default_privileges.py creates some and asks has_*_privilege)
         [("SELECT count(*) FROM pg_default_acl d, aclexplode(d.defaclacl) a WHERE d.defaclobjtype = 'r' "
           "AND d.defaclnamespace = 'public'::regnamespace AND a.grantee = 'authenticated'::regrole "
           "AND a.privilege_type = 'SELECT'", 1),
          ("SELECT count(*) FROM pg_default_acl d, aclexplode(d.defaclacl) a WHERE d.defaclobjtype = 'f' "
           "AND d.defaclnamespace = 0 AND a.grantee = 0", 0),
          ("SELECT count(*) FROM pg_default_acl WHERE defaclobjtype = 'f' AND defaclnamespace = 0", 1)],
         changes=frozenset({"DefaultGrant"}), hazards=frozenset({"authz"})),
    # -- enum types -----------------------------------------------------------------------------------------------
    Case("enum_type_created", _chain(_set("types/account_kind", {"enum": ["person", "team"]}),
                                     _set("tables/accounts/columns/kind",
                                          {"type": "account_kind", "not_null": True, "default": "person"})),
         [("SELECT count(*) FROM public.accounts WHERE kind = 'person'", 2),
          ("SELECT count(*) FROM pg_enum WHERE enumtypid = 'public.account_kind'::regtype", 2)],
         changes=frozenset({"CreateType", "AddColumn"})),
    Case("enum_value_added_and_used", _chain(_set("types/account_kind", {"enum": ["bot", "person", "team"]}),
                                             _column("accounts", "kind", default="bot")),
         [("SELECT count(*) FROM public.accounts WHERE kind = 'person'", 2),
          ("SELECT string_agg(enumlabel, ',' ORDER BY enumsortorder) FROM pg_enum "
           "WHERE enumtypid = 'public.account_kind'::regtype", "bot,person,team"),
          ("INSERT INTO public.accounts (email) VALUES ('cy@example.com') RETURNING kind::text", "bot")],
         changes=frozenset({"AddEnumValue", "SetDefault"}), not_changes=frozenset({"CreateType", "DropType"}),
         before=_chain(_set("types/account_kind", {"enum": ["person", "team"]}),
                       _set("tables/accounts/columns/kind",
                            {"type": "account_kind", "not_null": True, "default": "person"})),
         down_refused="value(s) 'bot' removed, which PostgreSQL cannot do"),
    Case("enum_value_renamed", _chain(_set("types/account_kind", {"enum": ["human", "team"],
                                                                  "renamed_values": {"human": "person"}}),
                                      _column("accounts", "kind", default="human")),
         [("SELECT count(*) FROM public.accounts WHERE kind = 'human'", 2)],
         changes=frozenset({"Rename"}), not_changes=frozenset({"AddEnumValue", "DropType"}),
         not_hazards=frozenset({"data-loss"}),
         before=_chain(_set("types/account_kind", {"enum": ["person", "team"]}),
                       _set("tables/accounts/columns/kind", {"type": "account_kind", "default": "person"})),
         rows=ROWS + "UPDATE public.accounts SET kind = 'person';"),
    # -- composite types and domains ----------------------------------------------------------------------------
    Case("domain_created_and_used", _chain(
        _set("types/email_address", {"domain": "text", "checks": {"email_shape": "VALUE ~ '@'"},
                                     "grants": {"authenticated": ["usage"]}}),
        _column("accounts", "email", type="email_address")),
         [("SELECT count(*) FROM public.accounts WHERE email::text LIKE '%@example.com'", 2),
          ("SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'public.accounts'::regclass "
           "AND attname = 'email'", "email_address"),
          ("SELECT count(*) FROM pg_constraint WHERE contypid = 'public.email_address'::regtype", 1),
          ("SELECT has_type_privilege('anon', 'public.email_address', 'USAGE')", False)],
         changes=frozenset({"CreateType", "AlterColumnType"})),
    Case("composite_attribute_added_and_domain_check_added", _chain(
        _set("types/postal", {"attributes": {"street": "text", "city": "text"}}),
        _set("types/label", {"domain": "text", "checks": {"not_blank": "VALUE <> ''", "short": "length(VALUE) < 60"}})),
         [("SELECT count(*) FROM public.accounts WHERE (address).street = 'Main St' AND (address).city IS NULL", 2),
          ("SELECT count(*) FROM pg_constraint WHERE contypid = 'public.label'::regtype", 2)],
         changes=frozenset({"AlterType"}), not_changes=frozenset({"CreateType", "DropType", "DropColumn"}),
         not_hazards=frozenset({"data-loss"}),
         before=_chain(_set("types/postal", {"attributes": {"street": "text"}}),
                       _set("types/label", {"domain": "text", "checks": {"not_blank": "VALUE <> ''"}}),
                       _set("tables/accounts/columns/address", "postal"),
                       _column("accounts", "name", type="label")),
         rows=ROWS + "UPDATE public.accounts SET address = ROW('Main St');"),
    # -- identity, generated and collated columns ---------------------------------------------------------------
    Case("identity_added_to_numbered_column", _column("projects", "id", identity="by default"),
         [("INSERT INTO public.projects (owner_id, title) "
           f"VALUES ('{ANN}', 'Delta') RETURNING id", 4),  # numbered on after the rows' highest id
          ("SELECT attidentity::text FROM pg_attribute WHERE attrelid = 'public.projects'::regclass "
           "AND attname = 'id'", "d")],
         changes=frozenset({"AlterColumn"}), not_changes=frozenset({"DropColumn", "AddColumn"}),
         not_hazards=frozenset({"data-loss"})),
    Case("identity_options_changed",
         _column("projects", "id", identity={"generated": "always", "start": 100, "increment": 10}),
         [("SELECT seqincrement FROM pg_sequence "
           "WHERE seqrelid = pg_get_serial_sequence('public.projects', 'id')::regclass", 10),
          (f"INSERT INTO public.projects (id, owner_id, title) VALUES (9, '{ANN}', 'Delta')", "generated_always")],
         changes=frozenset({"AlterColumn"}), not_hazards=frozenset({"data-loss"}),
         before=_column("projects", "id", identity="by default")),
    Case("generated_column_added",
         _set("tables/projects/columns/budget_cents", {"type": "integer", "generated": "budget * 100"}),
         [("SELECT budget_cents FROM public.projects WHERE id = 1", 10000),
          ("SELECT count(*) FROM public.projects WHERE budget_cents IS NULL", 1)],
         changes=frozenset({"AddColumn"}), hazards=frozenset({"rewrite"})),
    Case("generation_expression_changed",
         _column("projects", "budget_cents", generated="coalesce(budget, 0) * 1000"),
         [("SELECT budget_cents FROM public.projects WHERE id = 1", 100000),
          ("SELECT budget_cents FROM public.projects WHERE id = 2", 0)],
         changes=frozenset({"DropColumn", "AddColumn"}), not_hazards=frozenset({"data-loss"}),
         before=_set("tables/projects/columns/budget_cents", {"type": "integer", "generated": "budget * 100"})),
    Case("collation_changed", _column("accounts", "name", collation="C"),
         [("SELECT co.collname::text FROM pg_attribute a JOIN pg_collation co ON co.oid = a.attcollation "
           "WHERE a.attrelid = 'public.accounts'::regclass AND a.attname = 'name'", "C"),
          ("SELECT count(*) FROM public.accounts WHERE name = 'Ann'", 1)],
         changes=frozenset({"AlterColumnType"}), not_hazards=frozenset({"data-loss"})),
    Case("serial_column_added", _set("tables/accounts/columns/number", "serial"),
         [("SELECT count(DISTINCT number) FROM public.accounts", 2),
          ("INSERT INTO public.accounts (email) VALUES ('cy@example.com') RETURNING number", 3)],
         changes=frozenset({"AddColumn"})),
    # -- index options, unlogged tables, check options, owners ---------------------------------------------------
    Case("index_options_added", _chain(
        _set("tables/projects/indexes/idx_projects_owner", {"columns": ["owner_id"], "include": ["title"]}),
        _set("tables/accounts/indexes/accounts_name_idx", ['name COLLATE "C" text_pattern_ops']),
        _set("tables/accounts/indexes/accounts_status_key", {"columns": ["status"], "unique": True,
                                                              "nulls_not_distinct": True,
                                                              "where": "status <> 'active'"})),
         [("SELECT indnatts - indnkeyatts FROM pg_index WHERE indexrelid = 'public.idx_projects_owner'::regclass", 1),
          ("SELECT o.opcname::text FROM pg_index i JOIN pg_opclass o ON o.oid = i.indclass[0] "
           "WHERE i.indexrelid = 'public.accounts_name_idx'::regclass", "text_pattern_ops"),
          ("SELECT indnullsnotdistinct FROM pg_index WHERE indexrelid = 'public.accounts_status_key'::regclass",
           True)],
         changes=frozenset({"CreateIndex", "DropIndex"}), not_hazards=frozenset({"data-loss"})),
    Case("table_made_unlogged", _set("tables/projects/unlogged", True),
         [("SELECT relpersistence::text FROM pg_class WHERE oid = 'public.projects'::regclass", "u"),
          ("SELECT sum(budget) FROM public.projects", 105)],
         hazards=frozenset({"rewrite"}), changes=frozenset({"SetLogged"}), not_hazards=frozenset({"data-loss"})),
    Case("view_check_option_added", _set("views/v_projects/check_option", "local"),
         [("SELECT check_option FROM information_schema.views WHERE table_name = 'v_projects'", "LOCAL")],
         changes=frozenset({"SetViewCheckOption"}), not_changes=frozenset({"DropView"})),
    Case("owner_changed", _chain(_set("roles/pgspec_evolution_owner", {}),
                                 _set("tables/projects/owner", "pgspec_evolution_owner"),
                                 _set("views/v_projects/owner", "pgspec_evolution_owner"),
                                 _set("functions/touch_updated_at/owner", "pgspec_evolution_owner")),
         [("SELECT pg_get_userbyid(relowner)::text FROM pg_class WHERE oid = 'public.projects'::regclass",
           "pgspec_evolution_owner"),
          ("SELECT pg_get_userbyid(proowner)::text FROM pg_proc WHERE proname = 'touch_updated_at'",
           "pgspec_evolution_owner"),
          (AS_ANN_COUNT, 2)],
         hazards=frozenset({"authz"}), changes=frozenset({"AlterOwner"}), not_changes=frozenset({"DropTable"})),
    # -- renames --------------------------------------------------------------------------------------------------
    Case("rename_table", _rename_key("tables", "projects", "initiatives", _set(
        "views/v_projects/query", "SELECT p.id, p.title, p.owner_id FROM public.initiatives p")),
         [("SELECT count(*) FROM public.initiatives", 3),
          ("SELECT count(*) FROM pg_constraint WHERE conname = 'initiatives_pkey'", 1),
          ("SELECT count(*) FROM pg_constraint WHERE conname = 'initiatives_owner_id_fkey'", 1)],
         not_hazards=frozenset({"data-loss"}), changes=frozenset({"Rename"}),
         not_changes=frozenset({"DropTable", "CreateTable"}), kept=False),
    Case("rename_column", _chain(_rename_column("projects", "budget", "cost")),
         [("SELECT sum(cost) FROM public.projects", 105)],
         not_hazards=frozenset({"data-loss"}), not_changes=frozenset({"DropColumn", "AddColumn"})),
    Case("rename_fk_column", _chain(_rename_column("projects", "owner_id", "account_id"),
                                    _set("tables/projects/indexes/idx_projects_owner", ["account_id"]),
                                    _set(f"{POLICY}/using", "account_id = (SELECT current_user_id())"),
                                    _set("views/v_projects/query",
                                         "SELECT p.id, p.title, p.account_id AS owner_id FROM public.projects p")),
         [(AS_ANN_COUNT, 2), ("SELECT count(*) FROM pg_constraint WHERE conname = 'projects_account_id_fkey'", 1)],
         not_hazards=frozenset({"data-loss"}), not_changes=frozenset({"DropColumn", "DropConstraint"})),
    Case("rename_unique", _rename_key("tables/projects/unique", "projects_owner_title_key", "projects_title_once",
                                      None),
         [("SELECT count(*) FROM pg_constraint WHERE conname = 'projects_title_once'", 1),
          ("SELECT count(*) FROM pg_indexes WHERE indexname = 'projects_title_once'", 1)],
         not_changes=frozenset({"DropConstraint", "AddConstraint"}),
         before=_set("tables/projects/unique", {"projects_owner_title_key": ["owner_id", "title"]})),
    Case("rename_index", _rename_key("tables/projects/indexes", "idx_projects_owner", "projects_owner_idx"),
         [("SELECT count(*) FROM pg_indexes WHERE indexname = 'projects_owner_idx'", 1)],
         not_changes=frozenset({"DropIndex", "CreateIndex"})),
    Case("rename_check", _rename_key("tables/accounts/checks", "email_has_at", "accounts_email_check"),
         [("SELECT count(*) FROM pg_constraint WHERE conname = 'accounts_email_check'", 1)],
         not_changes=frozenset({"DropConstraint"})),
    Case("rename_policy", _rename_key("tables/projects/policies", "Owners see their projects", "owner_reads"),
         [(AS_ANN_COUNT, 2), ("SELECT count(*) FROM pg_policies WHERE policyname = 'owner_reads'", 1)],
         not_changes=frozenset({"DropPolicy"})),
    # Renamed and rebuilt in the same plan (a change PostgreSQL cannot make in place): dropped by the old name,
    # without a rename of what is dropped next.
    Case("rename_index_rebuilt", _chain(
        _rename_key("tables/projects/indexes", "idx_projects_owner", "projects_owner_idx"),
        _set("tables/projects/indexes/projects_owner_idx/columns", ["owner_id", "title"])),
         [("SELECT indexdef LIKE '%(owner_id, title)' FROM pg_indexes WHERE indexname = 'projects_owner_idx'", True),
          ("SELECT count(*) FROM pg_indexes WHERE indexname = 'idx_projects_owner'", 0)],
         changes=frozenset({"DropIndex", "CreateIndex"}), not_changes=frozenset({"Rename"})),
    Case("rename_policy_rebuilt", _chain(
        _rename_key("tables/projects/policies", "Owners see their projects", "owner_reads"),
        _set("tables/projects/policies/owner_reads/command", "all")),
         [(AS_ANN_COUNT, 2), ("SELECT cmd FROM pg_policies WHERE policyname = 'owner_reads'", "ALL"),
          ("SELECT count(*) FROM pg_policies WHERE policyname = 'Owners see their projects'", 0)],
         changes=frozenset({"DropPolicy", "CreatePolicy"}), not_changes=frozenset({"Rename"})),
    Case("rename_view", _rename_key("views", "v_projects", "project_list"),
         [("SELECT count(*) FROM public.project_list", 3)], not_changes=frozenset({"DropView"})),
    Case("rename_function", _chain(
        _rename_key("functions", "current_user_id", "request_user_id"),
        _set(f"{POLICY}/using", "owner_id = (SELECT request_user_id())")),
         [(AS_ANN_COUNT, 2)], not_changes=frozenset({"DropFunction"})),
    # -- overloads and procedures ---------------------------------------------------------------------------------
    Case("function_overload_added", _chain(
        _rekey("functions", "current_user_id", "current_user_id()"),
        _set("functions/current_user_id(text)", {
            "args": {"fallback": "text"}, "returns": "uuid", "language": "sql", "volatility": "stable",
            "body": "SELECT coalesce(nullif(current_setting('app.user_id', true), ''), fallback)::uuid",
            "grants": {"authenticated": ["execute"]}})),
         [(AS_ANN_COUNT, 2), (f"SELECT public.current_user_id('{BOB}')::text", BOB),
          ("SELECT count(*) FROM pg_proc WHERE proname = 'current_user_id'", 2)],
         changes=frozenset({"CreateFunction"}), not_changes=frozenset({"DropFunction", "ReplaceFunction"})),
    Case("function_overload_retyped", _chain(
        _rekey("functions", "current_user_id(text)", "current_user_id(varchar)"),
        _set("functions/current_user_id(varchar)/args", {"fallback": "varchar"})),
         [(AS_ANN_COUNT, 2), (f"SELECT public.current_user_id('{BOB}'::varchar)::text", BOB),
          ("SELECT count(*) FROM pg_proc WHERE oid = 'public.current_user_id(varchar)'::regprocedure", 1)],
         changes=frozenset({"CreateFunction", "DropFunction"}),
         before=_chain(
             _rekey("functions", "current_user_id", "current_user_id()"),
             _set("functions/current_user_id(text)", {
                 "args": {"fallback": "text"}, "returns": "uuid", "language": "sql", "volatility": "stable",
                 "body": "SELECT coalesce(nullif(current_setting('app.user_id', true), ''), fallback)::uuid"}))),
    Case("procedure_added", _set("procedures/archive_project", {
        "args": {"project": "bigint", "removed": {"type": "integer", "mode": "out"}},
        "security": "definer", "search_path": "",
        "body": "BEGIN\n  DELETE FROM public.projects WHERE id = project;\n"
                "  GET DIAGNOSTICS removed = ROW_COUNT;\nEND;",
        "grants": {"authenticated": ["execute"]}, "comment": "Deletes one project."}),
         [("SELECT prokind::text FROM pg_proc WHERE oid = 'public.archive_project(bigint)'::regprocedure", "p"),
          ("SELECT has_function_privilege('authenticated', 'public.archive_project(bigint)', 'EXECUTE')", True),
          ("SELECT has_function_privilege('anon', 'public.archive_project(bigint)', 'EXECUTE')", False)],
         changes=frozenset({"CreateFunction"})),
    Case("procedure_body_changed", _set("procedures/archive_project/body",
                                        "BEGIN\n  UPDATE public.projects SET budget = NULL WHERE id = project;\n"
                                        "  GET DIAGNOSTICS removed = ROW_COUNT;\nEND;"),
         [("SELECT prosrc LIKE '%UPDATE public.projects%' FROM pg_proc WHERE proname = 'archive_project'", True),
          ("SELECT has_function_privilege('authenticated', 'public.archive_project(bigint)', 'EXECUTE')", True)],
         changes=frozenset({"ReplaceFunction"}), not_changes=frozenset({"DropFunction", "CreateFunction"}),
         before=_set("procedures/archive_project", {
             "args": {"project": "bigint", "removed": {"type": "integer", "mode": "out"}},
             "body": "BEGIN\n  DELETE FROM public.projects WHERE id = project;\n"
                     "  GET DIAGNOSTICS removed = ROW_COUNT;\nEND;",
             "grants": {"authenticated": ["execute"]}})),
    # -- triggers: enable modes, constraint triggers, INSTEAD OF on views ----------------------------------------
    Case("trigger_enable_mode", _set("tables/projects/triggers/projects_touch/enabled", "replica"),
         [("SELECT tgenabled::text FROM pg_trigger WHERE tgname = 'projects_touch'", "R"),
          ("UPDATE public.projects SET title = 'Alpha 2' WHERE id = 1 RETURNING updated_at IS NULL", True)],
         changes=frozenset({"SetTriggerMode"}), not_changes=frozenset({"DropTrigger", "CreateTrigger"})),
    Case("constraint_trigger_deferred", _set("tables/projects/triggers/projects_touch", {
        "timing": "after", "events": ["update"], "function": "touch_updated_at", "constraint": True,
        "initially_deferred": True}),
         [("SELECT tgconstraint <> 0 AND tgdeferrable AND tginitdeferred FROM pg_trigger "
           "WHERE tgname = 'projects_touch'", True)],
         changes=frozenset({"DropTrigger", "CreateTrigger"})),
    Case("primary_key_renamed_and_deferrable", _chain(
        _column("projects", "id", primary_key=None),
        _set("tables/projects/primary_key", {"columns": ["id"], "name": "projects_key", "renamed_from": "projects_pkey",
                                             "deferrable": True})),
         [("SELECT conname || ' ' || condeferrable FROM pg_constraint WHERE contype = 'p' "
           "AND conrelid = 'public.projects'::regclass", "projects_key true")],
         changes=frozenset({"DropConstraint", "AddConstraint"}), not_changes=frozenset({"Rename"})),
    Case("trigger_arguments", _set("tables/projects/triggers/projects_touch/args", ["projects", "it's"]),
         [("SELECT tgnargs FROM pg_trigger WHERE tgname = 'projects_touch'", 2)],
         changes=frozenset({"DropTrigger", "CreateTrigger"})),
    Case("view_instead_of_trigger", _chain(
        _set("functions/v_projects_insert", {
            "returns": "trigger", "body": "BEGIN\n  INSERT INTO public.projects (id, owner_id, title) "
                                          "VALUES (NEW.id, NEW.owner_id, NEW.title);\n  RETURN NEW;\nEND;"}),
        _set("views/v_projects/triggers", {"v_projects_insert": {
            "timing": "instead of", "events": ["insert"], "function": "v_projects_insert"}})),
         [(f"INSERT INTO public.v_projects (id, title, owner_id) VALUES (10, 'Delta', '{ANN}') RETURNING id", 10)],
         changes=frozenset({"CreateTrigger"})),
    # -- materialized views ---------------------------------------------------------------------------------------
    Case("materialized_view_added", _set("materialized_views/project_budgets", {
        "query": "SELECT owner_id, sum(budget) AS budget, count(*) AS projects FROM public.projects GROUP BY owner_id",
        "indexes": {"project_budgets_owner": {"columns": ["owner_id"], "unique": True}},
        "grants": {"authenticated": ["select"]}}),
         [(f"SELECT budget FROM public.project_budgets WHERE owner_id = '{ANN}'", 105),
          ("SELECT count(*) FROM pg_indexes WHERE indexname = 'project_budgets_owner'", 1)],
         changes=frozenset({"CreateMatview", "CreateIndex"})),
    Case("materialized_view_query_changed", _set("materialized_views/project_budgets/query",
                                                 "SELECT owner_id, max(budget) AS budget, count(*) AS projects "
                                                 "FROM public.projects GROUP BY owner_id"),
         [(f"SELECT budget FROM public.project_budgets WHERE owner_id = '{ANN}'", 100),
          ("SELECT count(*) FROM pg_indexes WHERE indexname = 'project_budgets_owner'", 1)],
         changes=frozenset({"DropMatview", "CreateMatview", "CreateIndex"}), hazards=frozenset({"lock"}),
         before=_set("materialized_views/project_budgets", {
             "query": "SELECT owner_id, sum(budget) AS budget, count(*) AS projects FROM public.projects "
                      "GROUP BY owner_id",
             "indexes": {"project_budgets_owner": {"columns": ["owner_id"], "unique": True}}})),
    # -- partitioned tables ---------------------------------------------------------------------------------------
    Case("partitioned_table_added", _set("tables/events", EVENTS),
         [(WHERE_EVENT.format(1, "2026-03-01"), "events_2026"), (WHERE_EVENT.format(2, "1990-03-01"), "events_old"),
          ("SELECT count(*) FROM pg_indexes WHERE tablename = 'events_2026'", 2)],
         changes=frozenset({"CreateTable", "CreatePartition", "CreateIndex"})),
    Case("partitions_added_dropped_and_rebounded", _chain(
        _set("tables/events/partitions/events_2026/values", "from ('2026-01-01') to ('2026-07-01')"),
        _set("tables/events/partitions/events_2027", {"values": "from ('2027-01-01') to ('2028-01-01')"}),
        _drop("tables/events/partitions/events_old")),
         [(WHERE_EVENT.format(3, "2027-03-01"), "events_2027"),
          (WHERE_EVENT.format(4, "2026-09-01"), "check_violation"),  # no partition takes it any more
          ("SELECT tableoid::regclass::text FROM public.events WHERE id = 1", "events_2026")],
         hazards=frozenset({"data-loss", "lock"}), before=_set("tables/events", EVENTS),
         changes=frozenset({"DetachPartition", "AttachPartition", "CreatePartition", "DropTable"}),
         rows=ROWS + "INSERT INTO public.events VALUES (1, '2026-03-01', 'x');"),
]
