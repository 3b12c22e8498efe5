"""Lint: splinter-class rules over the model, for a spec or for a live database.

A finding is not a spec mistake (those stop `check` with exit 2): the schema is valid, but something in it is likely
unintended, slow or unsafe, such as an unindexed foreign key, a policy calling auth.uid() once per row, or a view that
bypasses row-level security. Every rule reads the model (``model.py``) through a ``Catalog``, so the same code lints
a spec and a live database read back into model objects (``read_database``); only the place a finding names
differs: ``FILE:LINE:COL`` in a spec, ``schema.object`` in a database.

A finding that is meant is suppressed beside its object with a reason, ``lint: {ignore: {RULE-ID: "why"}}``; a
suppression with no reason, an unknown rule or nothing to suppress is itself reported (``bad_suppression``).

Layout: the rule registry; the context rules share (parsed policy expressions, index shapes); one function per
rule; suppressions; the runner; output; the command line; reading a live database.
"""

from __future__ import annotations

import argparse
import difflib
import re
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

from pglast.enums.parsenodes import A_Expr_Kind
from pglast.enums.primnodes import BoolExprType, NullTestType

from . import sqlparse
from .check import check, declared_at
from .derive import Catalog, Constraint, ReferenceSyntaxError, routine_id
from .diagnostics import Pos
from .introspect import DatabaseError, connect, read, user_schemas
from .load import load_spec
from .model import (
    Column,
    Function,
    Index,
    Lint,
    Policy,
    Schema,
    Table,
    View,
)
from .partitions import partitions_of
from .report import SEVERITIES, Finding, Severity, emit
from .sqlparse import SqlSyntaxError, ast
from .sqltext import INDEX_KEY, PLAIN_NAME, QName, ident, qname, qualified_parts, unquote_ident

# Schemas an API (PostgREST, Supabase) serves by default: their tables are reachable by anon and authenticated.
API_SCHEMAS = ("public",)
# Roles whose EXECUTE on a SECURITY DEFINER function lets a caller who never signed in run it.
ANONYMOUS_ROLES = frozenset({"anon", "public"})
COMMANDS = ("select", "insert", "update", "delete")


# -- registry -------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Hit:
    """What a rule reports; the runner adds the rule's id and (unless the hit overrides it) its severity."""

    where: str  # schema.object, the name a database finding is printed with
    pos: Pos  # the YAML place of the offending object or value (NOWHERE for a database)
    message: str
    hint: str
    subjects: tuple[str, ...]  # keys of the objects whose `lint: ignore` may suppress it (see Context.*_key)
    severity: Severity | None = None


RuleCheck = Callable[["Context"], Iterable[Hit]]


@dataclass(frozen=True)
class Rule:
    id: str
    severity: Severity
    title: str  # one line: what it finds
    why: str
    fix: str
    on: str  # where a suppression goes
    check: RuleCheck
    severity_note: str = ""
    after_suppressions: bool = False  # runs once suppressions are applied (it judges them)
    spec_only: bool = False  # what it finds is not in a database's catalog: `lint --db` cannot see it


RULES: dict[str, Rule] = {}


def rule(rule_id: str, severity: Severity, title: str, *, why: str, fix: str, on: str, severity_note: str = "",
         after_suppressions: bool = False, spec_only: bool = False) -> Callable[[RuleCheck], RuleCheck]:
    """Register one rule; the registry's order is the order of the README's rule table."""
    def register(fn: RuleCheck) -> RuleCheck:
        RULES[rule_id] = Rule(rule_id, severity, title, " ".join(why.split()), " ".join(fix.split()), on, fn,
                              severity_note, after_suppressions, spec_only)
        return fn
    return register


# -- what rules share -----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class IndexKey:
    column: str | None  # a plain column key; None for an expression
    text: str  # normalised: `col`, `col DESC`, `(expression)`


@dataclass(frozen=True)
class IndexShape:
    """An index as the rules compare it: a declared index, or the one a PRIMARY KEY / UNIQUE constraint creates."""

    name: str
    keys: tuple[IndexKey, ...]
    method: str
    unique: bool
    predicate: Any  # parse tree of the partial-index predicate, or None
    predicate_text: str | None  # normalised, for comparison
    index: Index | None  # None for a constraint's index (never reported: the constraint needs it)
    constraint: str | None = None
    include: tuple[str, ...] = ()
    nulls_not_distinct: bool = False

    def describe(self) -> str:
        keys = ", ".join(k.text for k in self.keys)
        what = f"the {self.constraint} constraint {self.name}" if self.constraint else f"index {self.name}"
        return f"{what} ({keys})"




@lru_cache(maxsize=16384)  # the same keys and predicates recur across tables; printing is costly
def normal_sql(text: str) -> str:
    """An expression in pglast's canonical spelling, so `(a IS NULL)` from a catalog equals `a is null` in YAML."""
    try:
        return sqlparse.deparse(sqlparse.parse_expression(text))
    except SqlSyntaxError:
        return " ".join(text.split()).lower()


def index_key(text: str) -> IndexKey:
    m = INDEX_KEY.match(text.strip())
    if m is None:
        return IndexKey(None, f"({normal_sql(text)})")
    column = unquote_ident(m["col"]) if m["col"] is not None else None
    head = column if column is not None else f"({normal_sql(m['expr'])})"
    # A collation or an operator class makes another index; a plain key is what a constraint's index has.
    classes = "".join(f" {part}" for part in (m["collation"] and "COLLATE " + ".".join(qualified_parts(m["collation"])),
                                              m["opclass"] and ".".join(qualified_parts(m["opclass"]))) if part)
    desc = (m["dir"] or "asc").lower() == "desc"
    # NULLS FIRST is the default of DESC and NULLS LAST of ASC: only a non-default placement changes the index.
    nulls = (m["nulls"] or ("first" if desc else "last")).lower()
    suffix = (" DESC" if desc else "") + ("" if nulls == ("first" if desc else "last") else f" NULLS {nulls.upper()}")
    return IndexKey(column if not classes else None, head + classes + suffix)


class Context:
    """The catalog being linted, with the parsing and lookups several rules need, computed once."""

    def __init__(self, catalog: Catalog, api_schemas: Iterable[str] = API_SCHEMAS) -> None:
        self.catalog = catalog
        self.api_schemas = frozenset(api_schemas)
        self._expressions: dict[str, Any] = {}
        self._per_row: dict[str | None, frozenset[str]] = {}
        self._shapes: dict[int, list[IndexShape]] = {}  # by id() of the table, which lives as long as the catalog
        # Filled in by the runner before the rules that judge suppressions run.
        self.holders: dict[str, Lint] = {}
        self.used: set[tuple[str, str]] = set()

    # Keys naming an object the same way in a spec and in a database, so a spec's suppressions apply to both.
    @staticmethod
    def table_key(name: QName) -> str:
        return f"table:{name}"

    @staticmethod
    def index_key(table: QName, index: Index) -> str:
        return f"index:{table.schema}.{index.name}"

    @staticmethod
    def policy_key(table: QName, policy: Policy) -> str:
        return f"policy:{table}:{policy.name}"

    @staticmethod
    def view_key(name: QName) -> str:
        return f"view:{name}"

    @staticmethod
    def function_key(function: Function) -> str:
        """By identity: each overload (and procedure) has its own `lint: ignore`."""
        return f"function:{routine_id(function)}"

    @cached_property
    def tables(self) -> list[tuple[QName, Table]]:
        return [(qname(t.name), t) for _, t in self.catalog.schema.all("tables")]

    @cached_property
    def views(self) -> list[tuple[QName, View]]:
        return [(qname(v.name), v) for _, v in self.catalog.schema.all("views")]

    @cached_property
    def functions(self) -> list[tuple[QName, Function]]:
        return [(qname(f.name), f) for kind in ("functions", "procedures") for _, f in self.catalog.schema.all(kind)]

    def policies(self) -> Iterator[tuple[QName, Table, Policy]]:
        for name, table in self.tables:
            for policy in table.policies:
                yield name, table, policy

    def policy_subjects(self, name: QName, policy: Policy) -> tuple[str, ...]:
        return self.policy_key(name, policy), self.table_key(name)

    def expression(self, text: str | None) -> Any:
        """The parse tree of a policy expression or index predicate; None when absent or (in a database written
        by hand) not parseable, which `check` has already refused for a spec."""
        if text is None:
            return None
        if text not in self._expressions:
            try:
                self._expressions[text] = sqlparse.parse_expression(text)
            except SqlSyntaxError:
                self._expressions[text] = None
        return self._expressions[text]

    def per_row_calls(self, text: str | None) -> frozenset[str]:
        """The per-statement calls an expression makes once per row (per_row_calls), deparsed; once per text, as
        policies repeat their expressions from table to table."""
        if text not in self._per_row:
            self._per_row[text] = frozenset(sqlparse.deparse(c) for c in per_row_calls(
                self.expression(text), is_call=self.is_per_statement_call))
        return self._per_row[text]

    def constraints(self, table: Table) -> list[Constraint]:
        return self.catalog.constraints(table)

    def is_per_statement_call(self, node: Any) -> bool:
        """A call whose answer is the same for every row of a statement: an identity call, or a declared STABLE
        function given no column (an IMMUTABLE one with constant arguments the planner folds by itself)."""
        if is_identity_call(node):
            return True
        if not isinstance(node, ast.FuncCall) or any(isinstance(n, ast.ColumnRef) for n in sqlparse.walk(node.args)):
            return False
        declared = self.catalog.resolve_function(*call_name(node))
        overloads = self.catalog.overloads.get(declared, []) if declared else []
        return bool(overloads) and all(f.volatility == "stable" for f in overloads)

    @cached_property
    def role_helpers(self) -> dict[QName, QName]:
        """Tables read by STABLE SQL functions returning boolean (role-check helpers such as has_any_role), with
        the first such helper by name."""
        helpers: dict[QName, QName] = {}
        for _, function in sorted(self.catalog.routines.items()):
            name = qname(function.name)
            if function.language != "sql" or function.volatility != "stable" or function.returns != "boolean":
                continue
            try:
                refs = sqlparse.statement_references(function.body)
            except SqlSyntaxError:
                continue  # `check` refuses it in a spec; a database's body may be anything
            for schema, table in refs.tables:
                relation = self.catalog.resolve_relation(schema, table)
                if relation is not None:
                    helpers.setdefault(relation, name)
        return helpers

    def index_shapes(self, table: Table) -> list[IndexShape]:
        """Every index of a table: those its PRIMARY KEY and UNIQUE constraints create, then the declared ones."""
        if id(table) not in self._shapes:
            self._shapes[id(table)] = self._index_shapes(table)
        return self._shapes[id(table)]

    def _index_shapes(self, table: Table) -> list[IndexShape]:
        shapes = [IndexShape(c.name, tuple(IndexKey(col, col) for col in c.columns), "btree", True, None, None, None,
                             c.kind.upper())
                  for c in self.constraints(table) if c.kind in ("primary key", "unique")]
        for index in table.indexes:
            predicate = self.expression(index.where)
            shapes.append(IndexShape(index.name, tuple(index_key(k) for k in index.columns), index.method,
                                     index.unique, predicate, normal_sql(index.where) if index.where else None,
                                     index, include=index.include, nulls_not_distinct=index.nulls_not_distinct))
        return shapes

    def indexed_leading(self, table: Table, column: str) -> bool:
        """Whether some btree or hash index of the table starts with `column` and holds every row the comparison
        can match (a partial index on another condition does not: `WHERE code = 'x'` misses the other rows)."""
        return any(s.keys and s.keys[0].column == column and s.method in ("btree", "hash")
                   and (s.predicate is None or only_not_null(s.predicate, (column,)))
                   for s in self.index_shapes(table))


def call_name(node: Any) -> tuple[str | None, str]:
    names = [s.sval for s in node.funcname]
    return (names[0] if len(names) > 1 else None), names[-1]


def is_identity_call(node: Any) -> bool:
    """auth.uid(), auth.role(), auth.jwt(), ... and current_setting(): the same answer for every row of a statement,
    as long as no column is among the arguments."""
    if not isinstance(node, ast.FuncCall):
        return False
    schema, name = call_name(node)
    named = schema == "auth" or (name == "current_setting" and schema in (None, "pg_catalog"))
    return named and not any(isinstance(n, ast.ColumnRef) for n in sqlparse.walk(node.args))


def is_wrapper(sub: Any) -> bool:
    """`(SELECT f())`: a sub-select without FROM, which PostgreSQL runs once per statement as an init plan."""
    return isinstance(sub, ast.SelectStmt) and not sub.fromClause and bool(sub.targetList)


def per_row_calls(node: Any, wrapped: bool = False,
                  is_call: Callable[[Any], bool] = is_identity_call) -> Iterator[Any]:
    """Calls (identity calls unless `is_call` says otherwise) not inside a `(SELECT ...)` wrapper, looking into
    sub-queries too: inside `EXISTS (SELECT 1 FROM user_roles WHERE user_id = auth.uid())` the call runs once per
    row the sub-query scans."""
    if isinstance(node, ast.SubLink):
        yield from per_row_calls(node.testexpr, wrapped, is_call)
        yield from per_row_calls(node.subselect, is_wrapper(node.subselect), is_call)
        return
    if isinstance(node, ast.Node):
        if not wrapped and is_call(node):
            yield node
            return
        for slot in node.__slots__:
            yield from per_row_calls(getattr(node, slot, None), wrapped, is_call)
    elif isinstance(node, list | tuple):
        for item in node:
            yield from per_row_calls(item, wrapped, is_call)


def is_user_id(node: Any) -> bool:
    """An expression standing for the requesting user: auth.uid() or current_setting(...), wrapped or not, cast
    or not, with no column and no table in it."""
    nodes = list(sqlparse.walk(node))
    if any(isinstance(n, ast.ColumnRef | ast.RangeVar) for n in nodes):
        return False
    return any(is_identity_call(n) for n in nodes)


def row_column(node: Any, table: QName) -> str | None:
    """The column a ColumnRef names when it is the policy's own row (`col` or `table.col`)."""
    if not isinstance(node, ast.ColumnRef):
        return None
    parts = [f.sval for f in node.fields if isinstance(f, ast.String)]
    if len(parts) == 1 or (len(parts) == 2 and parts[0] == table.name):
        return str(parts[-1])
    return None


def user_id_columns(node: Any, table: QName) -> Iterator[str]:
    """Row columns compared with `=` to the requesting user's id, outside sub-queries (inside one, the column
    belongs to the sub-query's tables)."""
    for n in sqlparse.walk(node, into_subqueries=False):
        if not (isinstance(n, ast.A_Expr) and n.kind == A_Expr_Kind.AEXPR_OP and [s.sval for s in n.name] == ["="]):
            continue
        for side, other in ((n.lexpr, n.rexpr), (n.rexpr, n.lexpr)):
            column = row_column(side, table)
            if column is not None and is_user_id(other):
                yield column


def only_not_null(predicate: Any, columns: Sequence[str]) -> bool:
    """A partial-index predicate that keeps every row a foreign-key check looks for: `col IS NOT NULL` tests on the
    key's columns (the check never looks for NULL), alone or AND-ed."""
    if isinstance(predicate, ast.BoolExpr) and predicate.boolop == BoolExprType.AND_EXPR:
        return all(only_not_null(arg, columns) for arg in predicate.args)
    if isinstance(predicate, ast.NullTest) and predicate.nulltesttype == NullTestType.IS_NOT_NULL:
        return isinstance(predicate.arg, ast.ColumnRef) and predicate.arg.fields[-1].sval in columns
    return False


def covers(shape: IndexShape, columns: Sequence[str]) -> bool:
    """Whether an index finds the rows referencing a key: its leading columns are the key's columns, in any
    order."""
    if shape.predicate is not None and not only_not_null(shape.predicate, columns):
        return False
    if shape.method == "hash":
        return len(columns) == 1 and shape.keys[0].column == columns[0]
    lead = shape.keys[:len(columns)]
    return shape.method == "btree" and len(lead) == len(columns) and {k.column for k in lead} == set(columns)


def redundant_with(shape: IndexShape, other: IndexShape) -> bool:
    """Whether `other` makes `shape` unnecessary: same method and predicate, and `shape`'s keys are `other`'s or
    (btree) a prefix of them. A UNIQUE index is only made redundant by an identical UNIQUE one; of two identical
    declared indexes, the second by name is the redundant one."""
    if shape is other or shape.method != other.method or shape.predicate_text != other.predicate_text:
        return False
    # Columns it carries that the other does not, or another meaning of uniqueness, make it serve other queries.
    if not set(shape.include) <= set(other.include) or (
            shape.unique and shape.nulls_not_distinct != other.nulls_not_distinct):
        return False
    if shape.keys == other.keys:
        if shape.unique and not other.unique:
            return False
        return other.index is None or other.unique > shape.unique or other.name < shape.name
    prefix = other.keys[:len(shape.keys)] == shape.keys
    return prefix and shape.method == "btree" and not shape.unique


_VARCHAR_N = re.compile(r"\s*(varchar|character varying)\s*\(\s*(\d+)\s*\)", re.IGNORECASE)
_TIMESTAMP = re.compile(r"\s*timestamp\s*(\(\s*\d+\s*\))?(\s+without\s+time\s+zone)?\s*(\[\s*\])*\s*\Z", re.IGNORECASE)


def column_where(name: QName, column: Column) -> str:
    return f"{name}.{column.name}"


# -- rules ----------------------------------------------------------------------------------------------------------
@rule("unindexed_foreign_keys", "warning", "foreign key with no index whose leading columns are its columns",
      why="""Deleting or updating a referenced row makes PostgreSQL look up the referencing rows; without an index
      on the foreign key's columns that is a scan of the whole referencing table, once per referenced row (a user
      deletion scanning every ticket). Joins along the key need the same index.""",
      fix="""Add an index whose leading columns are the foreign key's columns (a partial index `WHERE col IS NOT
      NULL` also serves).""",
      on="the table")
def unindexed_foreign_keys(ctx: Context) -> Iterator[Hit]:
    for name, table in ctx.tables:
        shapes = ctx.index_shapes(table)
        for con in ctx.constraints(table):
            if con.kind == "foreign key" and not any(covers(s, con.columns) for s in shapes):
                cols = ", ".join(con.columns)
                yield Hit(str(name), declared_at(table, con)("name"),
                          f"foreign key {con.name} ({cols}) of {name} has no index",
                          f"add an index on ({', '.join(map(ident, con.columns))})",
                          (ctx.table_key(name),))


@rule("duplicate_index", "warning", "index duplicating a PRIMARY KEY/UNIQUE index, or a prefix of another index",
      why="""An index with the same keys as a PRIMARY KEY or UNIQUE constraint's index, or whose keys are a prefix
      of another btree index with the same predicate, serves no query the other does not, yet every write
      maintains it and it takes space and cache.""",
      fix="""Drop it; the index named in the finding serves the same lookups. Keep it only when it is much smaller
      and hot, and say so in a suppression.""",
      on="the index or its table")
def duplicate_index(ctx: Context) -> Iterator[Hit]:
    for name, table in ctx.tables:
        shapes = ctx.index_shapes(table)
        for shape in shapes:
            if shape.index is None:
                continue
            other = next((o for o in shapes if redundant_with(shape, o)), None)
            if other is not None:
                verb = "duplicates" if other.keys == shape.keys else "is a prefix of"
                yield Hit(f"{name.schema}.{shape.name}", shape.index.loc("name"),
                          f"{shape.describe()} on {name} {verb} {other.describe()}",
                          f"drop {shape.name}", (ctx.index_key(name, shape.index), ctx.table_key(name)))


@rule("nulls_not_distinct_not_unique", "warning", "nulls_not_distinct on an index that is not unique",
      why="""NULLS NOT DISTINCT says how a UNIQUE index compares null keys. PostgreSQL accepts it on any index, but
      on one that is not unique it changes nothing: the spec then says something the database does not do.""",
      fix="""Make the index `unique: true`, or drop `nulls_not_distinct`.""",
      on="the index or its table")
def nulls_not_distinct_not_unique(ctx: Context) -> Iterator[Hit]:
    for name, table in ctx.tables:
        for index in table.indexes:
            if index.nulls_not_distinct and not index.unique:
                yield Hit(f"{name.schema}.{index.name}", index.loc("nulls_not_distinct"),
                          f"index {index.name} on {name} is not unique: NULLS NOT DISTINCT changes nothing",
                          "make it unique or drop nulls_not_distinct",
                          (ctx.index_key(name, index), ctx.table_key(name)))


@rule("auth_rls_initplan", "warning",
      "policy calling auth.uid(), current_setting() or a STABLE function with no column argument once per row",
      why="""Written bare, auth.uid() (or auth.role(), auth.jwt(), current_setting(), or a declared STABLE helper
      such as has_any_role(...) given no column) in a policy is evaluated for every row the query reads,
      sub-queries included, although its answer is the same for the whole statement. On large tables that is the
      most common RLS slowdown.""",
      fix="""Wrap the call in a sub-select, `(select auth.uid())`: PostgreSQL then evaluates it once per statement
      (an init plan) and compares each row with the result.""",
      on="the policy or its table")
def auth_rls_initplan(ctx: Context) -> Iterator[Hit]:
    for name, _, policy in ctx.policies():
        # One finding per policy (USING and WITH CHECK together), at the first expression with such a call.
        per_key = {k: ctx.per_row_calls(getattr(policy, k)) for k in ("using", "with_check")}
        keys = [k for k, found in per_key.items() if found]
        if keys:
            calls = sorted(set().union(*per_key.values()))
            yield Hit(str(name), policy.loc(keys[0]),
                      f"policy {policy.name!r} on {name} calls {', '.join(calls)} once per row",
                      f"write (select {calls[0]})", ctx.policy_subjects(name, policy))


@rule("multiple_permissive_policies", "warning", "several permissive policies for one role and command on a table",
      why="""PostgreSQL evaluates every permissive policy that applies to a role and command and ORs the results,
      so each extra policy is evaluated for every row, even when an earlier one already allowed it.""",
      fix="""Merge them into one policy whose expression ORs the conditions, or make the narrower ones
      RESTRICTIVE where they are meant to limit. Separate policies per audience are sometimes clearer: then
      suppress with the reason.""",
      on="the table (or one of the policies)")
def multiple_permissive_policies(ctx: Context) -> Iterator[Hit]:
    for name, table in ctx.tables:
        permissive = [p for p in table.policies if p.mode == "permissive"]
        roles = sorted({r for p in permissive for r in p.roles})
        for role in roles:
            for command in COMMANDS:
                applying = [p for p in permissive if p.command in (command, "all")
                            and (role in p.roles or "public" in p.roles)]
                if len(applying) > 1:
                    names = ", ".join(repr(p.name) for p in applying)
                    yield Hit(str(name), applying[1].loc("name"),  # the policy that makes them several
                              f"{len(applying)} permissive {command.upper()} policies for {role} on {name}: {names}",
                              "merge them into one policy, or suppress with the reason they are separate",
                              (ctx.table_key(name), *(ctx.policy_key(name, p) for p in applying)))


@rule("rls_enabled_no_policy", "info", "row-level security enabled but no policy",
      why="""With RLS enabled and no policy, every role except the owner and BYPASSRLS roles sees no rows and can
      write none. That is right for a table only trusted back-end jobs use, and a mistake otherwise.""",
      fix="""Add the policies the table's users need, or suppress with the reason (e.g. service_role only).""",
      on="the table")
def rls_enabled_no_policy(ctx: Context) -> Iterator[Hit]:
    for name, table in ctx.tables:
        if table.rls != "off" and not table.policies:
            yield Hit(str(name), table.loc("rls"), f"{name} has row-level security enabled but no policy",
                      "add a policy, or suppress if only BYPASSRLS roles use it", (ctx.table_key(name),))


@rule("policy_exists_rls_disabled", "error", "policies on a table without row-level security",
      why="""Policies are ignored until row-level security is enabled on their table, so the table is open to every
      role with privileges on it while the policies suggest otherwise.""",
      fix="""Enable row-level security (`rls: enabled`; ALTER TABLE ... ENABLE ROW LEVEL SECURITY).""",
      on="the table")
def policy_exists_rls_disabled(ctx: Context) -> Iterator[Hit]:
    for name, table in ctx.tables:
        if table.rls == "off" and table.policies:
            yield Hit(str(name), table.loc("policies"),
                      f"{name} has {len(table.policies)} polic{'y' if len(table.policies) == 1 else 'ies'} but "
                      "row-level security is not enabled, so none applies", "enable row-level security",
                      (ctx.table_key(name),))


@rule("rls_disabled_in_public", "error", "table in an API-exposed schema without row-level security",
      why="""Tables in a schema the API serves (public) can be read and written by anon and authenticated as far
      as their privileges go; without row-level security nothing limits which rows. On Supabase those roles get
      every privilege on new tables by default.""",
      fix="""Enable row-level security and add policies (with no policy only the owner and BYPASSRLS roles can use
      the table), or move the table to a schema the API does not expose.""",
      on="the table")
def rls_disabled_in_public(ctx: Context) -> Iterator[Hit]:
    for name, table in ctx.tables:
        if name.schema in ctx.api_schemas and table.rls == "off":
            yield Hit(str(name), table.loc("name"),
                      f"{name} is in the API-exposed schema {name.schema} without row-level security",
                      "enable row-level security and add policies", (ctx.table_key(name),))


@rule("partition_bypasses_rls", "error", "a partition of a row-level security table granted to a role",
      why="""Row-level security and its policies are checked on the table a query names. A query that names a
      partition directly is checked against the partition's own privileges and row-level security, not the
      parent's: a role granted privileges on a partition reads (or writes) its rows past the parent's policies.
      The spec therefore gives partitions no privileges unless listed (REVOKE ALL), and no row-level security of
      their own (rows are reached through the parent).""",
      fix="""Remove the partition's `grants:` and let the role reach the rows through the parent, or suppress with
      the reason (a back-end job that may read every row of that partition).""",
      on="the table")
def partition_bypasses_rls(ctx: Context) -> Iterator[Hit]:
    for name, table in ctx.tables:
        if table.rls == "off":
            continue
        for entry in partitions_of(table):
            granted = sorted(g.role for g in entry.partition.grants)
            if granted:
                yield Hit(str(entry.name), entry.partition.loc("grants"),
                          f"partition {entry.name} of {name} (row-level security) is granted to "
                          f"{', '.join(granted)}, who reach its rows without {name}'s policies",
                          "grant on the parent only, or suppress with the reason", (ctx.table_key(name),))


@rule("security_definer_view", "error", "view without security_invoker (it runs with its owner's rights)",
      why="""A view runs its query with its owner's rights unless it is created WITH (security_invoker = true)
      (PostgreSQL 15+). The owner usually bypasses row-level security, so anyone allowed to select from the view
      reads every row of the tables behind it.""",
      fix="""Create the view WITH (security_invoker = true) (`security_invoker: true`, the default in a spec), or
      revoke it from API roles.""",
      on="the view")
def security_definer_view(ctx: Context) -> Iterator[Hit]:
    for name, view in ctx.views:
        if not view.security_invoker:
            yield Hit(str(name), view.loc("security_invoker"),
                      f"view {name} runs with its owner's rights, bypassing the row-level security of its tables",
                      "create it WITH (security_invoker = true)", (ctx.view_key(name),))


@rule("function_search_path_mutable", "warning", "function without a fixed search_path",
      severity_note="error when SECURITY DEFINER",
      why="""A function without `SET search_path` resolves unqualified names with the caller's search_path, which
      the caller controls: a table or operator they create earlier on the path runs in place of the intended one.
      For a SECURITY DEFINER function that runs the caller's object with the owner's rights.""",
      fix="""Pin it: `search_path: ''` in the spec (SET search_path = '') and schema-qualify every table the body
      names (pg_catalog is always searched first).""",
      on="the function")
def function_search_path_mutable(ctx: Context) -> Iterator[Hit]:
    for name, function in ctx.functions:
        if function.search_path is None:
            definer = function.security == "definer"
            yield Hit(str(name), function.loc("name"),
                      f"{'SECURITY DEFINER ' if definer else ''}{function.KIND} {name} has no fixed search_path",
                      "pin it with `search_path: ''` (SET search_path = '') and qualify the names it uses",
                      (ctx.function_key(function),),
                      "error" if definer else None)


@rule("security_definer_search_path_not_empty", "warning", "SECURITY DEFINER function whose search_path is not empty",
      why="""A SECURITY DEFINER function runs with its owner's rights, so every name it resolves through its search
      path is a way in: the caller's temporary schema (pg_temp) is searched before the path for tables and views
      unless the path lists it last, and a schema on the path that callers can create objects in lets them put
      their own table or function in front of the intended one.""",
      fix="""Pin the path empty, `search_path: ''` (SET search_path = ''), and schema-qualify every name the body
      uses (pg_catalog is always searched first). If a path is really needed, end it with pg_temp and suppress
      with the reason.""",
      on="the function")
def security_definer_search_path_not_empty(ctx: Context) -> Iterator[Hit]:
    for name, function in ctx.functions:
        if function.security == "definer" and function.search_path:  # None: function_search_path_mutable's
            yield Hit(str(name), function.loc("search_path"),
                      f"SECURITY DEFINER {function.KIND} {name} sets search_path to {', '.join(function.search_path)}",
                      "pin it with `search_path: ''` and qualify the names it uses", (ctx.function_key(function),))


@rule("plpgsql_body_unchecked", "warning", "PL/pgSQL body that pglast's parser cannot read, so its SQL goes unchecked",
      why="""`check` and `verify` parse every PL/pgSQL body with pglast and check the SQL inside it before any
      database sees it. pglast's PL/pgSQL parser resolves some names itself and gives up on what it cannot
      resolve, although PostgreSQL may accept the body: such a body is not refused, but a typo in it only shows
      when the schema is applied (or when the function runs).""",
      fix="""Nothing to change if the live tests apply and run the function; suppress with that reason. Otherwise
      simplify what pglast cannot read (the message names it).""",
      on="the function")
def plpgsql_body_unchecked(ctx: Context) -> Iterator[Hit]:
    for name, function in ctx.functions:
        if function.language != "plpgsql":
            continue
        args = ", ".join(a.sql for a in function.args)
        try:
            sqlparse.plpgsql_fragments(sqlparse.function_probe(name.sql, args, function.result, "plpgsql",
                                                               function.body))
        except sqlparse.PlpgsqlUnsupported as exc:
            yield Hit(str(name), function.loc("body"), f"the body of {name} is not checked: {exc}",
                      "make sure a live test applies it", (ctx.function_key(function),))
        except SqlSyntaxError:
            continue  # refused by `check` in a spec; a database's body is PostgreSQL's business


@rule("anon_security_definer_function_executable", "error", "SECURITY DEFINER function executable by anon or PUBLIC",
      why="""A SECURITY DEFINER function runs with its owner's rights, past row-level security; if anon (or PUBLIC,
      which includes anon) may execute it, anyone who can reach the API can call it without signing in.
      PostgreSQL grants EXECUTE to PUBLIC on every new function unless it is revoked.""",
      fix="""Revoke EXECUTE from PUBLIC and anon and grant it to the roles that need it (in a spec, do not list
      anon or public under the function's grants), or make it SECURITY INVOKER.""",
      on="the function")
def anon_security_definer_function_executable(ctx: Context) -> Iterator[Hit]:
    for name, function in ctx.functions:
        if function.security != "definer" or function.returns.strip().lower() == "trigger":
            continue  # a trigger function cannot be called directly
        grants = [g for g in function.grants if g.role in ANONYMOUS_ROLES and {"execute", "all"} & set(g.privileges)]
        if grants:
            yield Hit(str(name), grants[0].loc("role"),
                      f"SECURITY DEFINER {function.KIND} {name} is executable by {', '.join(g.role for g in grants)}",
                      "grant EXECUTE to authenticated (or the roles that need it) only", (ctx.function_key(function),))


@rule("no_primary_key", "warning", "table without a primary key",
      why="""Without a primary key a row has no stable identity: clients and replication (logical replication of
      UPDATE and DELETE) cannot address one row, and duplicates go unnoticed.""",
      fix="""Declare a primary key (`primary_key: true` on a column, or `primary_key: [cols]`).""",
      on="the table")
def no_primary_key(ctx: Context) -> Iterator[Hit]:
    for name, table in ctx.tables:
        if not any(c.kind == "primary key" for c in ctx.constraints(table)):
            yield Hit(str(name), table.loc("name"), f"{name} has no primary key", "declare one",
                      (ctx.table_key(name),))


@rule("auth_users_fk_no_on_delete", "warning", "foreign key to auth.users without an ON DELETE action",
      why="""Deleting a user (an account closure, a GDPR request) fails while any row references them with the
      default NO ACTION, and the error names a table the person deleting the user may never have heard of.""",
      fix="""Choose what a deletion means for the row: ON DELETE CASCADE (the row belongs to the user), SET NULL
      (the row outlives them), or RESTRICT if deleting such a user must be refused on purpose.""",
      on="the table")
def auth_users_fk_no_on_delete(ctx: Context) -> Iterator[Hit]:
    for name, table in ctx.tables:
        for con in ctx.constraints(table):
            if con.kind != "foreign key" or con.on_delete not in (None, "no action"):
                continue
            try:
                target, _ = con.reference
            except ReferenceSyntaxError:
                continue
            if target == QName("auth", "users"):
                yield Hit(str(name), declared_at(table, con)("name"),
                          f"foreign key {con.name} ({', '.join(con.columns)}) of {name} references auth.users "
                          "without an ON DELETE action, so deleting a user fails",
                          "choose ON DELETE SET NULL or CASCADE", (ctx.table_key(name),))


@rule("name_needs_quoting", "info", "a table, column, view or function whose name needs double quotes",
      why="""A name with capitals, spaces or other characters beyond lower-case letters, digits and underscores
      must be written in double quotes in every SQL fragment of the spec and in every query of every client;
      unquoted, PostgreSQL folds it to lower case and finds another name or none.""",
      fix="""Rename it to lower case with underscores (`renamed_from:` keeps the data), or keep it where clients
      already depend on it and suppress the finding with the reason.""",
      on="the table, view or function")
def name_needs_quoting(ctx: Context) -> Iterator[Hit]:
    def odd(name: QName) -> bool:
        return not (PLAIN_NAME.match(name.schema) and PLAIN_NAME.match(name.name))

    for name, table in ctx.tables:
        if odd(name):
            yield Hit(str(name), table.loc("name"), f"table {name} needs double quotes in SQL",
                      f"write it as {name.sql}", (ctx.table_key(name),))
        for column in table.columns:
            if not PLAIN_NAME.match(column.name):
                yield Hit(column_where(name, column), column.loc("name"),
                          f"column {column_where(name, column)} needs double quotes in SQL",
                          f"write it as {ident(column.name)}", (ctx.table_key(name),))
    for name, view in ctx.views:
        if odd(name):
            yield Hit(str(name), view.loc("name"), f"view {name} needs double quotes in SQL",
                      f"write it as {name.sql}", (ctx.view_key(name),))
    for name, function in ctx.functions:
        if odd(name):
            yield Hit(str(name), function.loc("name"), f"{function.KIND} {name} needs double quotes in SQL",
                      f"write it as {name.sql}", (ctx.function_key(function),))


@rule("timestamp_without_time_zone", "warning", "column of type timestamp (without time zone)",
      why="""`timestamp` stores a wall-clock reading with no zone: the same instant is stored differently by
      sessions in different time zones, and comparisons with now() depend on the session's TimeZone.""",
      fix="""Use timestamptz (timestamp with time zone), which stores an instant.""",
      on="the table")
def timestamp_without_time_zone(ctx: Context) -> Iterator[Hit]:
    for name, table in ctx.tables:
        for column in table.columns:
            if _TIMESTAMP.match(column.type):
                yield Hit(column_where(name, column), column.loc("type"),
                          f"column {column_where(name, column)} is {column.type}, without time zone",
                          "use timestamptz", (ctx.table_key(name),))


@rule("varchar_length", "info", "varchar(n) where text with a CHECK would do",
      why="""In PostgreSQL varchar(n) is text with a length check that can only be changed with an ALTER of the
      column type; it is not faster or smaller than text. A CHECK (char_length(col) <= n) says the same and can be
      changed cheaply.""",
      fix="""Use text, with a CHECK on char_length when the limit is a business rule.""",
      on="the table")
def varchar_length(ctx: Context) -> Iterator[Hit]:
    for name, table in ctx.tables:
        for column in table.columns:
            m = _VARCHAR_N.match(column.type)
            if m:
                yield Hit(column_where(name, column), column.loc("type"),
                          f"column {column_where(name, column)} is {column.type}",
                          f"text with CHECK (char_length({column.name}) <= {m[2]}) says the same",
                          (ctx.table_key(name),))


# A type modifier written in a type's text: `(10)`, `(10, 2)`, `(3)` of a precision, or an interval's fields.
_MODIFIER = re.compile(r"\(\s*\d|\binterval\s+(year|month|day|hour|minute|second)\b", re.IGNORECASE)


@rule("function_type_modifier_discarded", "warning",
      "function argument or result type with a modifier PostgreSQL discards (varchar(10), numeric(10,2))",
      why="""PostgreSQL keeps only the type of a function's arguments and result, not its modifiers: an argument
      declared varchar(10) accepts any length, a result declared numeric(10,2) is neither rounded nor checked, an
      interval day argument keeps its months. The declaration promises a check that never happens. A database
      keeps no trace of the modifier, so only a spec shows it.""",
      fix="""Write the bare type (varchar, numeric, interval) and, where the limit matters, check or round the
      value in the body (or take a domain, whose constraint PostgreSQL does enforce on arguments).""",
      on="the function", spec_only=True)
def function_type_modifier_discarded(ctx: Context) -> Iterator[Hit]:
    for name, function in ctx.functions:
        typed = [(f"argument {a.name}", a.type, a.loc("type")) for a in function.args]
        typed.append(("result", function.returns, function.loc("returns")))
        for what, text, pos in typed:
            if _MODIFIER.search(text):
                yield Hit(str(name), pos, f"{what} of {function.KIND} {name} is {text}: PostgreSQL discards the "
                          "type's modifiers there, so they are not enforced",
                          "write the bare type and check the value in the body, or take a domain",
                          (ctx.function_key(function),))


@rule("policy_repeats_role_helper", "warning",
      "policy sub-query on a table a STABLE boolean helper function already reads",
      why="""When a role check lives in a helper (a STABLE SQL function returning boolean, such as has_any_role()
      reading user_roles), a policy querying that table itself repeats the check inline: the two drift apart
      when one is edited, and the inline copy runs with the caller's rights (and the table's RLS) where the helper
      may not.""",
      fix="""Call the helper instead, wrapped so it runs once per statement: `(SELECT public.has_any_role(...))`.""",
      on="the policy or its table")
def policy_repeats_role_helper(ctx: Context) -> Iterator[Hit]:
    helpers = ctx.role_helpers
    for name, _, policy in ctx.policies():
        for key in ("using", "with_check"):
            node = ctx.expression(getattr(policy, key))
            if node is None:
                continue
            found = sorted({r for s, t in sqlparse.shared_references(node).tables
                            if (r := ctx.catalog.resolve_relation(s, t)) in helpers}, key=str)
            if found:
                relation = found[0]
                yield Hit(str(name), policy.loc(key),
                          f"policy {policy.name!r} on {name} queries {relation} directly, which "
                          f"{helpers[relation]}() already reads", f"call {helpers[relation]}() instead",
                          ctx.policy_subjects(name, policy))
                break


@rule("policy_to_public", "warning", "policy TO public (anon included) where TO authenticated was likely meant",
      why="""A policy TO public applies to every role, anon included: requests that never signed in get whatever
      it allows. Policies are nearly always meant for signed-in users (authenticated) or for named roles.""",
      fix="""Name the roles: `roles: [authenticated]` (TO authenticated), or `[anon, authenticated]` when
      anonymous access is really meant, and say so.""",
      on="the policy or its table")
def policy_to_public(ctx: Context) -> Iterator[Hit]:
    for name, _, policy in ctx.policies():
        if "public" in policy.roles:
            yield Hit(str(name), policy.loc("roles"),
                      f"policy {policy.name!r} on {name} applies to public, which includes anon",
                      "name the roles, e.g. TO authenticated", ctx.policy_subjects(name, policy))


@rule("unindexed_policy_column", "warning", "policy compares an unindexed column with the user's id",
      why="""A USING clause like `owner_id = (select auth.uid())` is a filter on every query of the table; without
      an index starting with that column each query reads the whole table and filters it. Only the row's own
      columns outside sub-queries count, and only USING clauses (WITH CHECK tests a new row, it reads none).""",
      fix="""Add an index whose first column is the compared column.""",
      on="the policy or its table")
def unindexed_policy_column(ctx: Context) -> Iterator[Hit]:
    for name, table, policy in ctx.policies():
        node = ctx.expression(policy.using)
        if node is None:
            continue
        for column in sorted(set(user_id_columns(node, name))):
            if not ctx.indexed_leading(table, column):
                yield Hit(f"{name}.{column}", policy.loc("using"),
                          f"policy {policy.name!r} on {name} compares {column} with the user's id, and no index "
                          f"starts with {column}", f"add an index on ({ident(column)})",
                          ctx.policy_subjects(name, policy))


@rule("bad_suppression", "warning", "suppression with no reason, an unknown rule, or nothing to suppress",
      why="""A suppression documents why a finding is intended. Without a reason it documents nothing (and does not
      suppress); one naming an unknown rule is a typo; one that suppresses nothing is stale, and would hide the
      next real finding of its rule on that object.""",
      fix="""Give the reason, correct the rule id (`lint --rules`), or remove the suppression.""",
      on="(cannot be suppressed)", after_suppressions=True)
def bad_suppression(ctx: Context) -> Iterator[Hit]:
    for key, settings in sorted(ctx.holders.items()):
        for s in settings.ignore:
            where = key.split(":", 1)[1]
            if s.rule not in RULES:
                close = difflib.get_close_matches(s.rule, list(RULES), n=1)
                yield Hit(where, s.loc("rule"), f"suppression of unknown rule {s.rule!r}",
                          f"did you mean {close[0]!r}?" if close else "see `lint --rules`", ())
            elif not s.reason.strip():
                yield Hit(where, s.loc("reason"), f"suppression of {s.rule} gives no reason, so it does not apply",
                          "say why the finding is intended", ())
            elif (key, s.rule) not in ctx.used:
                yield Hit(where, s.loc("rule"), f"suppression of {s.rule} suppresses nothing on {where}",
                          "remove it", ())


# -- suppressions ---------------------------------------------------------------------------------------------------
def suppression_holders(catalog: Catalog) -> dict[str, Lint]:
    """The `lint:` settings of every object of a spec, by object key."""
    out: dict[str, Lint] = {}
    for _, table in catalog.schema.all("tables"):
        name = qname(table.name)
        candidates: list[tuple[str, Lint | None]] = [(Context.table_key(name), table.lint)]
        candidates += [(Context.index_key(name, i), i.lint) for i in table.indexes]
        candidates += [(Context.policy_key(name, p), p.lint) for p in table.policies]
        out.update({k: v for k, v in candidates if v is not None})
    out.update({Context.view_key(qname(v.name)): v.lint for _, v in catalog.schema.all("views") if v.lint})
    out.update({Context.function_key(f): f.lint for kind in ("functions", "procedures")
                for _, f in catalog.schema.all(kind) if f.lint})
    return out


def suppressed_by(finding: Finding, holders: dict[str, Lint]) -> str | None:
    """The key of the object whose suppression (with a reason) covers the finding."""
    for key in finding.subjects:
        settings = holders.get(key)
        if settings and any(s.rule == finding.rule and s.reason.strip() for s in settings.ignore):
            return key
    return None


# -- runner ---------------------------------------------------------------------------------------------------------
def _run(r: Rule, ctx: Context) -> list[Finding]:
    return [Finding(h.pos, h.where, r.id, h.severity or r.severity, h.message, h.hint, h.subjects)
            for h in r.check(ctx)]


def lint(catalog: Catalog, *, api_schemas: Iterable[str] = API_SCHEMAS, suppressions: Catalog | None = None,
         judge_suppressions: bool = True) -> list[Finding]:
    """Every finding of every rule, minus the suppressed ones, sorted by place.

    `suppressions` is the spec whose `lint:` settings apply (default: the linted catalog itself); a database has
    none of its own. `judge_suppressions` reports bad ones (meaningful only when the spec itself is linted).
    """
    ctx = Context(catalog, api_schemas)
    raw = [f for r in RULES.values() if not r.after_suppressions for f in _run(r, ctx)]
    ctx.holders = suppression_holders(suppressions or catalog)
    findings = []
    for finding in raw:
        key = suppressed_by(finding, ctx.holders)
        if key is None:
            findings.append(finding)
        else:
            ctx.used.add((key, finding.rule))
    if judge_suppressions:
        findings += [f for r in RULES.values() if r.after_suppressions for f in _run(r, ctx)]
    return sorted(findings)


def counts(findings: Iterable[Finding]) -> dict[str, int]:
    out: dict[str, int] = dict.fromkeys(SEVERITIES, 0)
    for f in findings:
        out[f.severity] += 1
    return out


# -- output ---------------------------------------------------------------------------------------------------------
def explain(rule_id: str) -> str:
    r = RULES[rule_id]
    severity = r.severity + (f"; {r.severity_note}" if r.severity_note else "")
    suppress = ("It cannot be suppressed." if r.after_suppressions else
                f'To keep a finding on purpose, suppress it on {r.on} with the reason: '
                f'`lint: {{ignore: {{{r.id}: "why this is intended"}}}}`.')
    where = " It finds this in a spec only (`lint --db` cannot)." if r.spec_only else ""
    return f"{r.id} ({severity}): {r.title}.\n\n{r.why} Fix: {r.fix} {suppress}{where}\n"


def rules_markdown() -> str:
    """The rule table of the README (a test keeps the two equal)."""
    rows = ["| rule | severity | finds | suppress on |", "|---|---|---|---|"]
    for r in RULES.values():
        severity = r.severity + (f" ({r.severity_note})" if r.severity_note else "")
        rows.append(f"| `{r.id}` | {severity} | {r.title} | {r.on} |")
    return "\n".join(rows) + "\n"


def summary(findings: Sequence[Finding], seconds: float, what: str) -> str:
    n = counts(findings)
    return (f"{what}: {n['error']} error(s), {n['warning']} warning(s), {n['info']} info "
            f"({seconds:.2f} s)")


# -- command line ---------------------------------------------------------------------------------------------------
def read_database(dsn: str, schemas: Sequence[str] = ()) -> Schema:
    """A live database's objects as one module, read by introspect (every schema but PostgreSQL's own, pgspec's
    and extensions' when none is named)."""
    with connect(dsn) as conn:
        return read(conn, schemas or user_schemas(conn)).schema


def main(args: argparse.Namespace) -> int:
    """`python -m generator lint`: exit 1 on any error-severity finding, 0 otherwise, 2 on bad usage. SpecError
    (a spec that does not load or check) propagates to the CLI, which prints it and exits 2."""
    if args.rules:
        sys.stdout.write(rules_markdown())
        return 0
    if args.explain:
        if args.explain not in RULES:
            close = difflib.get_close_matches(args.explain, list(RULES), n=1)
            print(f"unknown rule {args.explain!r}" + (f" (did you mean {close[0]!r}?)" if close else ""),
                  file=sys.stderr)
            return 2
        sys.stdout.write(explain(args.explain))
        return 0
    started = time.perf_counter()
    api = args.api_schema or API_SCHEMAS
    if args.db:
        spec = check(load_spec(args.spec)) if args.spec else None
        try:
            catalog = Catalog(read_database(args.db, args.schema or ()))
        except DatabaseError as exc:
            print(f"lint --db: cannot read the database: {exc}", file=sys.stderr)
            return 2
        findings = lint(catalog, api_schemas=api, suppressions=spec, judge_suppressions=False)
        what = "database"
    else:
        from .buildcache import Cache  # the findings `generate` or `check` remembered, else the cached model

        spec_dir = args.spec or Path("spec")
        cache = Cache(spec_dir)
        known = cache.outputs() if tuple(api) == API_SCHEMAS else None
        findings = known.findings if known else lint(cache.catalog(), api_schemas=api)
        what = str(spec_dir)
    shown = [f for f in findings if SEVERITIES.index(f.severity) <= SEVERITIES.index(args.min_severity)]
    emit([f.record() for f in shown], args.format)
    print(summary(findings, time.perf_counter() - started, what), file=sys.stderr)
    return 1 if any(f.severity == "error" for f in findings) else 0
