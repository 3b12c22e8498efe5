"""Semantic rules over the model: names, types, references, SQL fragments. All mistakes reported at once.

Each rule reports at the YAML position of the value at fault. Nothing here touches a database; SQL fragments are
checked with PostgreSQL's parser (pglast) via ``sqlparse``.
"""

from __future__ import annotations

import difflib
import re
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

from . import sqlparse
from .access import check_access
from .derive import (
    BUILTIN_ROLES,
    COLLATABLE_TYPES,
    SEED_REGISTRY_SCHEMA,
    Catalog,
    Constraint,
    ReferenceSyntaxError,
    function_id,
    identity_bounds,
    parse_reference,
    routine_id,
    seed_key_text,
)
from .diagnostics import Collector, Pos
from .model import (
    TYPE_KINDS,
    Check,
    Column,
    DefaultPrivileges,
    Exclude,
    Extension,
    ForeignKey,
    Function,
    Grant,
    Index,
    MaterializedView,
    Module,
    Partition,
    Policy,
    Procedure,
    RawSql,
    Referencing,
    Schema,
    Sequence,
    Table,
    Trigger,
    TypeDef,
    Unique,
    View,
)
from .partitions import Bound, PartitionKey, PartitionSyntaxError, parse_bound, parse_partition_by, partition_name
from .sqlparse import SqlSyntaxError, ast
from .sqltext import (
    BUILTIN_TYPES,
    INDEX_KEY,
    MAX_IDENTIFIER_BYTES,
    POLYMORPHIC_TYPES,
    PSEUDO_TYPES,
    SYSTEM_SCHEMAS,
    QName,
    Returns,
    SqlType,
    TypeSyntaxError,
    is_user_type,
    parse_returns,
    parse_type,
    unknown_type,
    unquote_ident,
)
from .sqltext import qname as to_qname

_PRIVILEGES = {
    "table": {"select", "insert", "update", "delete", "truncate", "references", "trigger", "all"},
    "view": {"select", "insert", "update", "delete", "truncate", "references", "trigger", "all"},
    "sequence": {"usage", "select", "update", "all"},
    "function": {"execute", "all"},
    "schema": {"usage", "create", "all"},
    "type": {"usage"},
    "column": {"select", "insert", "update", "references"},
}
# The keys of `types:` entries that belong to one kind (enum, attributes, domain) only.
_TYPE_KIND_KEYS = {"renamed_values": "enum", "not_null": "domain", "default": "domain", "checks": "domain",
                   "collation": "domain"}
_TYPE_KIND_WORDS = {"enum": "an enum type", "attributes": "a composite type", "domain": "a domain"}
# The ACL kind of each object kind of ALTER DEFAULT PRIVILEGES.
DEFAULT_ACL_KIND = {"tables": "table", "sequences": "sequence", "functions": "function", "types": "type"}
# Which YAML value types a column of each base type accepts as a literal (default or seed value).
_LITERAL_KINDS: dict[str, tuple[type, ...]] = {
    "integer": (int,), "bigint": (int,), "smallint": (int,), "numeric": (int, float), "real": (int, float),
    "double precision": (int, float), "boolean": (bool,), "json": (dict, list, str, int, float, bool),
    "jsonb": (dict, list, str, int, float, bool),
}
# Integer literals beyond these bounds (exclusive of the upper one) fail when the schema is applied.
_INT_LIMITS = {"smallint": 2**15, "integer": 2**31, "bigint": 2**63}
# sqlparse.parse_expression parses an expression as `SELECT <expression>`, so pglast's error offsets count from there.
_EXPRESSION_PREFIX = len("SELECT ")
_AT_INDEX = re.compile(r", at index (\d+)\Z")
# PostgreSQL's limits: columns per table (MaxHeapAttributeNumber), key columns per index and so per primary key,
# unique or foreign key constraint (INDEX_MAX_KEYS), arguments per function (FUNC_MAX_ARGS).
MAX_COLUMNS = 1600
MAX_INDEX_KEYS = 32
# Access methods whose indexes take INCLUDE columns, and those with an order (ASC/DESC, NULLS FIRST/LAST).
INCLUDE_METHODS = frozenset({"btree", "gist"})
ORDERED_METHODS = frozenset({"btree"})
MAX_FUNCTION_ARGS = 100
# Names PostgreSQL refuses for a role it is asked to create, or that the spec must not redefine: PUBLIC (every
# role's group, usable in grants undeclared), NONE and the CURRENT_USER family (reserved words in role
# specifications), and the bootstrap superuser, whose LOGIN and BYPASSRLS the rendered ALTER ROLE would take away.
RESERVED_ROLES = {
    "public": "is PostgreSQL's group of every role (grant to it without declaring it)",
    "none": "is reserved by PostgreSQL",
    "current_user": "is reserved by PostgreSQL", "current_role": "is reserved by PostgreSQL",
    "session_user": "is reserved by PostgreSQL",
    "postgres": "is the bootstrap superuser: declaring it would render ALTER ROLE postgres ... NOLOGIN NOBYPASSRLS",
}
BOOTSTRAP_SUPERUSER = "postgres"
# Schemas every database already has, or whose names PostgreSQL keeps for itself (`pg_` prefix).
RESERVED_SCHEMAS = {"public": "exists in every database (tables go there without declaring it)",
                    "information_schema": "exists in every database"}


def check(schema: Schema) -> Catalog:
    """Validate the whole spec; returns the catalog of resolved names or raises SpecError."""
    catalog = Catalog(schema)
    errors = Collector()
    Checker(catalog, errors).run()
    check_access(catalog, errors)
    errors.raise_if_any()
    return catalog


class Checker:
    def __init__(self, catalog: Catalog, errors: Collector) -> None:
        self.catalog = catalog
        self.errors = errors
        self._column_names: dict[int, frozenset[str]] = {}

    def column_names(self, table: Table) -> frozenset[str]:
        """A table's column names, computed once: the rules ask per key, constraint and expression (with 1,600
        columns, building the set each time made the checks quadratic)."""
        names = self._column_names.get(id(table))
        if names is None:
            names = self._column_names[id(table)] = frozenset(c.name for c in table.columns)
        return names

    def err(self, pos: Pos, message: str) -> None:
        self.errors.error(pos, message)

    def run(self) -> None:
        self.check_duplicates()
        for module in self.catalog.schema.modules:
            self.check_module(module)

    # -- names ---------------------------------------------------------------------------------------------------
    def plain_name(self, name: str, pos: Pos, what: str) -> bool:
        """Names SQL fragments use unquoted must be lower-case identifiers of at most 63 bytes."""
        if "." in name:
            self.err(pos, f"invalid {what} name {name!r}: a dot would read as schema.name")
            return False
        return self.name_length(name, pos, what)

    def name_length(self, name: str, pos: Pos, what: str) -> bool:
        """A name over 63 bytes stays an error, not a lint: PostgreSQL truncates it (with a mere NOTICE), so the
        database's object has another name than the spec's. `verify --db`, drift and plans would then look for an
        object that cannot exist and report it missing forever, and two long names sharing 63 bytes would collide:
        the output would be wrong, which is what `check` refuses."""
        if not name or "\x00" in name:
            self.err(pos, f"invalid {what} name {name!r}")
            return False
        if len(name.encode()) > MAX_IDENTIFIER_BYTES:
            self.err(pos, f"{what} name {name!r} is longer than {MAX_IDENTIFIER_BYTES} bytes "
                          "(PostgreSQL would silently truncate it)")
            return False
        return True

    def qualified_name(self, text: str, pos: Pos, what: str) -> QName:
        name = to_qname(text)
        if text.count(".") > 1:
            self.err(pos, f"invalid {what} name {text!r}: expected name or schema.name")
        elif self.plain_name(name.name, pos, what) and name.schema not in self.catalog.schemas:
            self.err(pos, f"{what} {text!r}: schema {name.schema!r} is not declared under `schemas:`")
        return name

    def check_duplicates(self) -> None:
        """Relations share one namespace per schema (tables, views, sequences, indexes, key constraints)."""
        seen: dict[tuple[str, ...], Pos] = {}

        def claim(key: tuple[str, ...], pos: Pos, what: str) -> None:
            if key in seen:
                first = seen[key]
                self.err(pos, f"duplicate {what} {key[-1]!r} (first defined at {first})")
            else:
                seen[key] = pos

        for _, table in self.catalog.schema.all("tables"):
            name = to_qname(table.name)
            claim(("rel", name.schema, name.name), table.loc("name"), "relation")
            for index in table.indexes:
                claim(("rel", name.schema, index.name), index.loc("name"), "relation (index)")
            for con in self.catalog.constraints(table):
                if con.kind in ("primary key", "unique"):  # these create an index of the same name
                    claim(("rel", name.schema, con.name), declared_at(table, con)("name"),
                          "relation (constraint index)")
        for name, entry in self.catalog.partitions.items():
            claim(("rel", name.schema, name.name), entry.partition.loc("name"), "relation (partition)")
        for kind, label in (("views", "relation"), ("sequences", "relation"), ("materialized_views", "relation")):
            for _, obj in self.catalog.schema.all(kind):
                name = to_qname(obj.name)
                claim(("rel", name.schema, name.name), obj.loc("name"), label)
                for index in getattr(obj, "indexes", ()):
                    claim(("rel", name.schema, index.name), index.loc("name"), "relation (index)")
        # Types share pg_type with the row type each table and view brings: one name per schema among them.
        for _, type_def in self.catalog.schema.all("types"):
            name = to_qname(type_def.name)
            claim(("type", name.schema, name.name), type_def.loc("name"), "type")
            if name in self.catalog.tables or name in self.catalog.views:
                self.err(type_def.loc("name"), f"type {type_def.name!r} has the name of a table or view, whose row "
                                               "type takes that name (PostgreSQL refuses it)")
        # Functions and procedures share pg_proc: one name and argument types (however spelt) per schema.
        for kind in ("functions", "procedures"):
            for _, fn in self.catalog.schema.all(kind):
                claim(("routine", routine_id(fn)), fn.loc("name"), f"{fn.KIND} (same name and argument types)")
        for kind, label in (("enums", "enum"), ("roles", "role"), ("schemas", "schema"),
                            ("actors", "actor"), ("extensions", "extension"), ("raw", "raw SQL object")):
            for _, obj in self.catalog.schema.all(kind):
                claim((kind, obj.name), obj.loc("name"), label)
        for _, defaults in self.catalog.schema.all("default_privileges"):
            scope = (f"for role {defaults.for_role or '(the one running the SQL)'} "
                     f"{'in schema ' + defaults.schema if defaults.schema else 'in every schema'}")
            claim(("default privileges", scope), defaults.pos, "default privileges")

    # -- modules -------------------------------------------------------------------------------------------------
    def check_module(self, module: Module) -> None:
        for role in module.roles:
            self.plain_name(role.name, role.loc("name"), "role")
            self.not_reserved(role.name, role.loc("name"), "role", RESERVED_ROLES)
        for schema_def in module.schemas:
            self.plain_name(schema_def.name, schema_def.loc("name"), "schema")
            self.not_reserved(schema_def.name, schema_def.loc("name"), "schema", RESERVED_SCHEMAS)
            if schema_def.name == SEED_REGISTRY_SCHEMA:
                self.err(schema_def.loc("name"), f"schema {SEED_REGISTRY_SCHEMA!r} is the tool's own (it records "
                                                 "seed rows): choose another name")
            self.check_grants(schema_def.grants, "schema")
            self.check_owner(schema_def)
        for extension in module.extensions:
            self.check_extension(extension)
        for raw in module.raw:
            self.check_raw(raw)
        for defaults in module.default_privileges:
            self.check_default_privileges(defaults)
        for enum in module.enums:
            self.plain_name(enum.name, enum.loc("name"), "enum")
            if not enum.values:
                self.err(enum.loc("values"), f"enum {enum.name!r} has no values")
            for dup in repeated(enum.values):
                self.err(enum.loc("values"), f"enum {enum.name!r} lists {dup!r} twice")
        for type_def in module.types:
            self.check_type(type_def)
        for seq in module.sequences:
            self.qualified_name(seq.name, seq.loc("name"), "sequence")
            self.check_grants(seq.grants, "sequence")
            self.check_owner(seq)
            if seq.increment == 0:
                self.err(seq.loc("increment"), "sequence increment must not be 0")
            if seq.min_value is not None and seq.max_value is not None and seq.min_value >= seq.max_value:
                self.err(seq.loc("min_value"), "sequence min_value must be below max_value")
            if seq.max_value is not None and seq.start > seq.max_value:
                self.err(seq.loc("start"), "sequence start is above max_value")
            self.check_owned_by(seq)
        for function in (*module.functions, *module.procedures):
            self.check_function(function)
        for table in module.tables:
            self.check_table(table)
        for view in module.views:
            self.check_view(view)
        for matview in module.materialized_views:
            self.check_matview(matview)

    def check_owned_by(self, seq: Sequence) -> None:
        """ALTER SEQUENCE ... OWNED BY names a column of a declared table in the sequence's schema, with the
        sequence's owner: PostgreSQL refuses a table in another schema or of another owner."""
        if seq.owned_by is None:
            return
        pos = seq.loc("owned_by")
        parts = seq.owning_column
        if parts is None or parts[0].count(".") > 1:
            self.err(pos, f"sequence {seq.name}: owned_by {seq.owned_by!r} is not `TABLE.COLUMN` "
                          "(`schema.table.column`, or `table.column` in public)")
            return
        table_name, column = to_qname(parts[0]), parts[1]
        table = self.catalog.tables.get(table_name)
        if table is None:
            self.err(pos, f"sequence {seq.name}: owned_by names table {table_name}, which is not declared under "
                          "`tables:`")
            return
        if column not in {c.name for c in table.columns}:
            self.err(pos, f"sequence {seq.name}: owned_by names column {column!r}, which table {table_name} does "
                          "not have")
        name = to_qname(seq.name)
        if table_name.schema != name.schema:
            self.err(pos, f"sequence {seq.name}: owned_by names table {table_name} of schema {table_name.schema!r}; "
                          f"PostgreSQL requires the table in the sequence's schema ({name.schema!r})")
        if seq.owner != table.owner:
            self.err(pos, f"sequence {seq.name}: owned_by names table {table_name}, owned by "
                          f"{table.owner or '(the role running the SQL)'}, but the sequence is owned by "
                          f"{seq.owner or '(the role running the SQL)'}; PostgreSQL requires the same owner")

    def check_raw(self, raw: RawSql) -> None:
        """Its SQL and drop parse, run inside the transaction the output and plans run in, and its `depends_on`
        entries name spec objects. What the statements do is PostgreSQL's question (the judge runs them)."""
        self.name_length(raw.name, raw.loc("name"), "raw SQL object")
        for key, text in (("sql", raw.sql), ("drop", raw.drop)):
            if text is None:
                continue
            try:
                stmts = sqlparse.parse_statements(text)
            except SqlSyntaxError as exc:
                self.err(raw.loc(key), f"raw {raw.name}: `{key}` does not parse: {sql_error(exc, text)}")
                continue
            if not stmts:
                self.err(raw.loc(key), f"raw {raw.name}: `{key}` holds no statement")
            for stmt in stmts:
                refused = sqlparse.outside_transaction(stmt.stmt)
                if refused:
                    self.err(raw.loc(key), f"raw {raw.name}: {refused} cannot run in the transaction the output "
                                           f"and plans run in ({text_place(text, stmt.stmt_location)} of the "
                                           "SQL text)")
        names: list[str] | None = None
        for entry in raw.depends_on:
            if self.catalog.raw_dependency(entry) is not None:
                if entry.split() == ["raw", raw.name]:
                    self.err(raw.loc("depends_on"), f"raw {raw.name} depends on itself")
                continue
            names = self.catalog.raw_dependency_names() if names is None else names
            close = difflib.get_close_matches(entry, names, n=1)
            self.err(raw.loc("depends_on"), f"raw {raw.name}: depends_on names no object of the spec: {entry!r}"
                                            + (f" (did you mean {close[0]!r}?)" if close else ""))

    def check_extension(self, extension: Extension) -> None:
        """Whether the server has the extension is PostgreSQL's question (the judge runs CREATE EXTENSION); the
        spec's own mistakes are a name PostgreSQL cannot hold and a schema it does not create."""
        self.name_length(extension.name, extension.loc("name"), "extension")
        if extension.schema is not None and extension.schema not in self.catalog.schemas:
            self.err(extension.loc("schema"), f"extension {extension.name!r}: schema {extension.schema!r} is not "
                                              "declared under `schemas:` (nor public)")
        if extension.version is not None and not extension.version.strip():
            self.err(extension.loc("version"), f"extension {extension.name!r}: version is empty")

    def check_default_privileges(self, defaults: DefaultPrivileges) -> None:
        if defaults.schema is not None and defaults.schema not in self.catalog.schemas:
            self.err(defaults.loc("schema"), f"default privileges: schema {defaults.schema!r} is not declared under "
                                             "`schemas:` (nor public)")
        if defaults.for_role is not None:  # an undeclared role (the platform's) is PostgreSQL's to judge
            self.name_length(defaults.for_role, defaults.loc("for_role"), "role")
        for kind, acl_kind in DEFAULT_ACL_KIND.items():
            grants = getattr(defaults, kind)
            # An empty list is meaningful here: `public: []` in the global defaults revokes a built-in default.
            self.check_grants([g for g in grants if g.privileges], acl_kind)
            for grant in grants:
                if not grant.privileges:
                    self.role_exists(grant.role, grant.loc("role"))

    def not_reserved(self, name: str, pos: Pos, what: str, reserved: dict[str, str]) -> None:
        if name in reserved:
            self.err(pos, f"{what} name {name!r} {reserved[name]}")
        elif name.startswith("pg_"):
            self.err(pos, f"{what} name {name!r}: the prefix pg_ is reserved for PostgreSQL's own {what}s")

    def check_grants(self, grants: Iterable[Grant], kind: str) -> None:
        for grant in grants:
            self.role_exists(grant.role, grant.loc("role"))
            if not grant.privileges:
                self.err(grant.loc("privileges"), f"grant to {grant.role!r} lists no privileges")
            for privilege in grant.privileges:
                if privilege not in _PRIVILEGES[kind]:
                    self.err(grant.loc("privileges"), f"privilege {privilege!r} does not apply to a {kind} "
                                                        f"(allowed: {', '.join(sorted(_PRIVILEGES[kind]))})")

    def check_owner(self, obj: Any) -> None:
        """An owner is a role the spec declares, or the bootstrap superuser `postgres`, which the spec cannot
        declare (PostgreSQL refuses OWNER TO a role that does not exist; PUBLIC owns nothing)."""
        if obj.owner is None or obj.owner == BOOTSTRAP_SUPERUSER:
            return
        if obj.owner == "public":
            self.err(obj.loc("owner"), "owner: PUBLIC cannot own an object (name a role)")
        else:
            self.role_exists(obj.owner, obj.loc("owner"))

    def role_exists(self, role: str, pos: Pos) -> None:
        if role not in self.catalog.roles and role not in BUILTIN_ROLES:
            self.err(pos, f"unknown role {role!r} (declare it under `roles:`)")

    # -- SQL fragments -------------------------------------------------------------------------------------------
    def expression(self, text: str | None, pos: Pos, what: str) -> ast.Node | None:
        if text is None:
            return None
        try:
            node = sqlparse.parse_expression(text)
        except SqlSyntaxError as exc:
            self.err(pos, f"{what} does not parse: {sql_error(exc, text, _EXPRESSION_PREFIX)}")
            return None
        self.references(sqlparse.shared_references(node), pos, what)
        return node

    def references(self, refs: sqlparse.Refs, pos: Pos, what: str) -> None:
        """Tables and functions a fragment names must exist, except PostgreSQL's own."""
        declared = set(self.catalog.schemas)
        for schema, name in sorted(refs.tables, key=str):
            if schema in SYSTEM_SCHEMAS or (schema is None and name.startswith("pg_")):
                continue
            if self.catalog.resolve_relation(schema, name) is None:
                shown = f"{schema}.{name}" if schema else name
                self.err(pos, f"{what} refers to unknown table or view {shown!r}")
        declared -= self.catalog.extension_schemas  # an extension's functions are PostgreSQL's to resolve
        for schema, name in sorted(refs.functions, key=str):
            if schema in declared and self.catalog.resolve_function(schema, name) is None:
                self.err(pos, f"{what} calls unknown function {schema}.{name}()")

    def columns_exist(self, node: ast.Node | None, table: Table, pos: Pos, what: str,
                      row_vars: frozenset[str] = frozenset()) -> None:
        """Column references of a row-local expression (CHECK, index predicate, trigger WHEN) must exist."""
        if node is None:
            return
        names = self.column_names(table)
        self.keyword_columns(node, names, pos, what)
        for n in sqlparse.shared_walk(node):
            if isinstance(n, ast.ColumnRef):
                parts = [f.sval for f in n.fields if isinstance(f, ast.String)]
                if len(parts) == 2 and parts[0].lower() in row_vars:
                    col = parts[1]
                elif len(parts) == 1 and not row_vars:
                    col = parts[0]
                else:
                    self.err(pos, f"{what}: cannot resolve {'.'.join(parts)!r}"
                                  + (f" (use {' or '.join(sorted(row_vars)).upper()}.column)" if row_vars else ""))
                    continue
                if col not in names:
                    self.err(pos, f"{what} refers to unknown column {col!r} of {table.name}")

    def keyword_columns(self, node: ast.Node, names: frozenset[str], pos: Pos, what: str) -> None:
        """`user`, `current_date`, ... unquoted are PostgreSQL's functions, never a column of that name: a CHECK on
        `user <> ''` would silently test CURRENT_USER. Where the table has such a column, it must be quoted."""
        for n in sqlparse.shared_walk(node):
            if isinstance(n, ast.SQLValueFunction):
                keyword = n.op.name.removeprefix("SVFOP_").lower()
                if keyword in names:
                    self.err(pos, f"{what}: unquoted {keyword} is PostgreSQL's {keyword.upper()}, not the column "
                                  f"{keyword}; write \"{keyword}\"")

    # -- functions -----------------------------------------------------------------------------------------------
    def check_function(self, function: Function) -> None:
        name = self.qualified_name(function.name, function.loc("name"), function.KIND)
        if len(function.args) > MAX_FUNCTION_ARGS:
            self.err(function.loc("args"), f"{function.KIND} {function.name} has {len(function.args)} arguments "
                                           f"(PostgreSQL allows at most {MAX_FUNCTION_ARGS})")
        self.check_arguments(function)
        self.check_signature(function)
        returns = self.returns_of(function) if not isinstance(function, Procedure) else None
        self.check_grants(function.grants, "function")
        self.check_owner(function)
        self.check_search_path(function)
        if function.rows is not None and returns is not None and not returns.setof:
            self.err(function.loc("rows"), f"{function.name}: `rows` applies only to a set-returning function "
                                             "(`returns: setof ...` or `table(...)`)")
        for key in ("cost", "rows"):
            value = getattr(function, key)
            if value is not None and value <= 0:
                self.err(function.loc(key), f"{function.name}: `{key}` must be positive")
        args = ", ".join(a.sql for a in function.args)
        probe = sqlparse.function_probe(name.sql, args, str(returns) if returns else function.result,
                                        function.language, function.body)
        try:
            refs = sqlparse.body_references(function.language, probe, function.body)
        except sqlparse.PlpgsqlUnsupported:
            return  # PostgreSQL may accept what pglast cannot read: lint's plpgsql_body_unchecked says so
        except SqlSyntaxError as exc:
            # PL/pgSQL messages carry no offset into the body (its parser gives none, or names the statement).
            reason = sql_error(exc, function.body) if function.language == "sql" else str(exc)
            self.err(function.loc("body"), f"body of {function.name} does not parse: {reason}")
            return
        if function.language == "sql":  # SQL bodies are resolved when created; PL/pgSQL only when run
            self.references(refs, function.loc("body"), f"body of {function.name}")
        if function.search_path == ():
            # Row types of declared variables are resolved when the function is created, with its search_path.
            declared = {d.relation for d in sqlparse.plpgsql_declarations(function.body)} \
                if function.language == "plpgsql" else set()
            row_types = {r for r in declared if r is not None and r[0] is None
                         and self.catalog.resolve_relation(*r) is not None}
            unqualified = sorted({n for s, n in refs.tables | row_types if s is None})
            if unqualified:
                self.err(function.loc("body"), f"{function.name} pins search_path to '' but names "
                                                 f"{', '.join(unqualified)} without a schema")

    def check_signature(self, function: Function) -> None:
        """A key written as a signature (`add(integer, integer)`) names the argument types `args:` gives (IN,
        INOUT and VARIADIC ones, compared as PostgreSQL compares them: `int` is `integer`)."""
        if function.signature is None and ("(" in function.name or ")" in function.name):
            self.err(function.loc("name"), f"{function.KIND} key {function.name!r} is neither a name nor a "
                                           "signature `name(type, ...)`")
            return
        if function.signature is None:
            overloads = self.catalog.overloads.get(to_qname(function.name), [])
            if len(overloads) > 1:
                self.err(function.loc("name"), f"{function.KIND} {function.name} is overloaded: key each of "
                                               f"{', '.join(routine_id(f) for f in overloads)} by its signature "
                                               f"(`{routine_id(function).removeprefix('public.')}:`)")
            return
        written = function_id(to_qname(function.name), function.signature)
        if written != routine_id(function):
            self.err(function.loc("name"), f"{function.KIND} key {written.split('.', 1)[1]} does not match its "
                                           f"arguments: their types make it {routine_id(function).split('.', 1)[1]}"
                                           " (the key lists the types of the IN, INOUT and VARIADIC arguments)")

    def check_arguments(self, function: Function) -> None:
        defaulted: str | None = None
        for n, arg in enumerate(function.args):
            self.plain_name(arg.name, arg.loc("name"), "argument")
            arg_type = self.type_of(arg.type, arg.loc("type"), allow_pseudo=False, allow_polymorphic=True)
            if arg.mode == "out":
                if arg.default is not None:
                    self.err(arg.loc("default"), f"OUT argument {arg.name} cannot have a default")
                continue
            if arg.mode == "variadic":
                if any(a.mode != "out" for a in function.args[n + 1:]):
                    self.err(arg.loc("mode"), f"VARIADIC argument {arg.name} must be the last input argument")
                if arg_type is not None and not arg_type.array_dims:
                    self.err(arg.loc("type"), f"VARIADIC argument {arg.name} must be of an array type")
            if arg.default is not None:
                defaulted = arg.name
                what = f"default of argument {arg.name}"
                node = self.expression(arg.default, arg.loc("default"), what)
                if node is not None and any(isinstance(n, ast.ColumnRef) for n in sqlparse.shared_walk(node)):
                    self.err(arg.loc("default"), f"{what} cannot refer to columns or other arguments")
            elif defaulted is not None:
                self.err(arg.loc("name"), f"argument {arg.name} of {function.name} needs a default: it follows "
                                          f"{defaulted}, which has one (PostgreSQL refuses the function)")

    def returns_of(self, function: Function) -> Returns | None:
        try:
            returns = parse_returns(function.returns)
        except TypeSyntaxError as exc:
            self.err(function.loc("returns"), str(exc))
            return None
        for t in (returns.type, *(t for _, t in returns.columns)):
            # Named as written (`nosuchtype`, not the `public.nosuchtype` it would be).
            if t is not None and not self.type_declared(t, str(t.element).removeprefix("public."),
                                                        function.loc("returns")):
                return None
        self.polymorphic_result(function, returns)
        pseudo = [t for t in (returns.type, *(t for _, t in returns.columns)) if t and t.base in PSEUDO_TYPES]
        if pseudo and (returns.columns or (returns.setof and pseudo[0].base != "record")):
            self.err(function.loc("returns"), f"{function.name}: {pseudo[0]} cannot be returned as a set")
        outs = [a for a in function.args if a.mode in ("out", "inout")]
        if outs and returns.columns:
            self.err(function.loc("returns"), f"{function.name}: `table(...)` and OUT arguments cannot be mixed")
        elif outs and returns.type is not None:
            expected = "record" if len(outs) > 1 else _base(outs[0].type)
            if _base(str(returns.type)) != expected:
                self.err(function.loc("returns"), f"{function.name}: with OUT argument(s) "
                                                   f"{', '.join(a.name for a in outs)} the result is {expected} "
                                                   f"(`returns: {'setof ' if returns.setof else ''}{expected}`)")
        names = [n for n, _ in returns.columns]
        for dup in sorted({n for n in names if names.count(n) > 1}):
            self.err(function.loc("returns"), f"{function.name}: column {dup!r} returned twice")
        for column in sorted(set(names) & {a.name for a in function.args}):
            self.err(function.loc("returns"), f"{function.name}: returned column {column!r} has the name of an "
                                               "argument (PostgreSQL refuses the function)")
        return returns

    def polymorphic_result(self, function: Function, returns: Returns) -> None:
        """PostgreSQL resolves a polymorphic result (or OUT argument) from the call's arguments, so it refuses one
        without an input it can be resolved from: one of the same family (`anycompatible...`, or the other
        `any...`), and for a range or multirange result a range or multirange input."""
        def base(type_text: str) -> str:
            try:
                return parse_type(type_text).base
            except TypeSyntaxError:
                return ""

        inputs = {base(a.type) for a in function.inputs} & POLYMORPHIC_TYPES
        results = [str(t) for t in (returns.type, *(t for _, t in returns.columns)) if t is not None]
        for text in (*results, *(a.type for a in function.args if a.mode == "out")):
            result = base(text)
            if result not in POLYMORPHIC_TYPES:
                continue
            family = "anycompatible" if "compatible" in result else "any"
            ranged = result.endswith("range")
            sources = {t for t in POLYMORPHIC_TYPES if ("compatible" in t) == (family == "anycompatible")
                       and (not ranged or t.endswith("range"))}
            if not inputs & sources:
                self.err(function.loc("returns"), f"{function.name}: a result of type {text} needs an argument of "
                                                   f"type {' or '.join(sorted(sources))} (PostgreSQL cannot "
                                                   "determine the result's type)")
                return

    def check_search_path(self, function: Function) -> None:
        """One schema per item: PostgreSQL would take `public, pg_temp` written as one item for ONE schema of that
        name (SET search_path = 'public, pg_temp'), silently leaving every name unresolvable."""
        for item in function.search_path or ():
            if "," in item:
                parts = ", ".join(part.strip() for part in item.split(","))
                self.err(function.loc("search_path"), f"{function.name}: search_path item {item!r} is one schema "
                                                       f"name containing a comma; write a list: [{parts}]")
            elif not item.strip():
                self.err(function.loc("search_path"), f"{function.name}: search_path has an empty schema name "
                                                       "(only `''` alone, or `[]`, pins it empty)")

    def type_of(self, text: str, pos: Pos, *, allow_pseudo: bool, allow_polymorphic: bool = False
                ) -> SqlType | None:
        try:
            parsed = parse_type(text)
        except TypeSyntaxError as exc:
            self.err(pos, str(exc))
            return None
        if not self.type_declared(parsed, text, pos):
            return None
        if parsed.base in PSEUDO_TYPES and not allow_pseudo:
            self.err(pos, f"{parsed.base} is only a function return type")
            return None
        if parsed.base in POLYMORPHIC_TYPES and not allow_polymorphic:
            self.err(pos, f"{parsed.base} is polymorphic: only a function's arguments and result may be")
            return None
        return parsed

    def type_declared(self, parsed: SqlType, text: str, pos: Pos) -> bool:
        """A type that is not built in must be declared under `types:` (PostgreSQL refuses an unknown type), or be
        in the schema of a declared extension, which may provide it (`citext`): that one PostgreSQL judges."""
        if not is_user_type(parsed.base) or to_qname(parsed.base) in self.catalog.types:
            return True
        if to_qname(parsed.base).schema in self.catalog.extension_schemas:
            return True
        self.err(pos, unknown_type(text))
        return False

    def check_type(self, type_def: TypeDef) -> None:
        name = self.qualified_name(type_def.name, type_def.loc("name"), "type")
        self.check_owner(type_def)
        # A type may start with pg_ (PostgreSQL reserves the prefix for roles and schemas only).
        if name.name in BUILTIN_TYPES:
            self.err(type_def.loc("name"), f"type {type_def.name!r} has the name of a built-in type")
        written = [k for k in TYPE_KINDS if k in type_def.at]
        if not written:
            self.err(type_def.pos, f"type {type_def.name!r}: declare one of `enum:` (an enum type), `attributes:` "
                                   "(a composite type) or `domain:` (a domain)")
            return
        for extra in written[1:]:
            self.err(type_def.loc(extra), f"type {type_def.name!r}: `{extra}:` beside `{written[0]}:`; a type is "
                                          "one of an enum type, a composite type or a domain")
        kind = written[0]
        for key, owner in _TYPE_KIND_KEYS.items():
            if key in type_def.at and owner != kind:
                self.err(type_def.loc(key), f"type {type_def.name!r}: `{key}:` applies to {_TYPE_KIND_WORDS[owner]} "
                                            f"only, not to {_TYPE_KIND_WORDS[kind]}")
        self.check_grants(type_def.grants, "type")
        if kind == "enum":
            self.check_enum_type(type_def)
        elif kind == "attributes":
            self.check_composite_type(type_def, name)
        else:
            self.check_domain(type_def, name)

    def check_enum_type(self, type_def: TypeDef) -> None:
        if not type_def.enum:
            self.err(type_def.loc("enum"), f"type {type_def.name!r}: an enum type needs at least one value")
        for dup in repeated(type_def.enum):
            self.err(type_def.loc("enum"), f"type {type_def.name!r} lists {dup!r} twice")
        for value in type_def.enum:
            # NAMEDATALEN: PostgreSQL refuses a label longer than 63 bytes, and an empty one.
            if not value or len(value.encode()) > MAX_IDENTIFIER_BYTES:
                self.err(type_def.loc("enum"), f"type {type_def.name!r}: value {value!r} must be 1 to "
                                               f"{MAX_IDENTIFIER_BYTES} bytes long")
        for rename in type_def.renamed_values:
            if rename.value not in type_def.enum:
                self.err(rename.loc("value"), f"type {type_def.name!r}: renamed value {rename.value!r} is not one "
                                              "of its values")
            elif rename.former in type_def.enum:
                self.err(rename.loc("former"), f"type {type_def.name!r}: former value {rename.former!r} is still "
                                               "one of its values")

    def check_composite_type(self, type_def: TypeDef, name: QName) -> None:
        """What CREATE TYPE ... AS (...) refuses: pseudo-types, a collation on a type without one, the type
        itself as an attribute (no attributes at all is allowed)."""
        if len(type_def.attributes) > MAX_COLUMNS:
            self.err(type_def.loc("attributes"), f"type {type_def.name!r} has {len(type_def.attributes)} "
                                                 f"attributes (PostgreSQL allows at most {MAX_COLUMNS})")
        for attribute in type_def.attributes:
            what = f"attribute {attribute.name} of type {type_def.name}"
            self.name_length(attribute.name, attribute.loc("name"), "attribute")
            atype = self.type_of(attribute.type, attribute.loc("type"), allow_pseudo=False)
            if atype is not None and atype.base == str(name):
                self.err(attribute.loc("type"), f"{what}: a composite type cannot contain itself")
            if attribute.collation is not None:
                self.collation_fits(attribute.collation, atype, attribute.loc("collation"), what)

    def check_domain(self, type_def: TypeDef, name: QName) -> None:
        """What CREATE DOMAIN refuses: a pseudo-type as base ("not a valid base type for a domain"), itself as
        base, a collation on a base type without one, CHECKs that name anything but VALUE or use a sub-query."""
        base = self.type_of(type_def.domain or "", type_def.loc("domain"), allow_pseudo=True)
        if base is not None and base.base in PSEUDO_TYPES:
            self.err(type_def.loc("domain"), f"type {type_def.name!r}: {base} is not a valid base type for a domain")
        elif base is not None and base.base == str(name):
            self.err(type_def.loc("domain"), f"type {type_def.name!r}: a domain cannot be based on itself")
        if type_def.collation is not None:
            self.collation_fits(type_def.collation, base, type_def.loc("collation"), f"domain {type_def.name}")
        if type_def.default is not None:
            what = f"default of domain {type_def.name}"
            node = self.expression(type_def.default, type_def.loc("default"), what)
            if node is not None and any(isinstance(n, ast.ColumnRef) for n in sqlparse.shared_walk(node)):
                self.err(type_def.loc("default"), f"{what} cannot refer to columns or VALUE")
        for con in type_def.checks:
            self.name_length(con.name, con.loc("name"), "constraint")
            what = f"check {con.name} of domain {type_def.name}"
            node = self.expression(con.expr, con.loc("expr"), what)
            if node is None:
                continue
            for n in sqlparse.shared_walk(node):
                if isinstance(n, ast.SubLink):
                    self.err(con.loc("expr"), f"{what}: a domain CHECK cannot use a sub-query")
                    break
                if isinstance(n, ast.ColumnRef):
                    parts = [f.sval for f in n.fields if isinstance(f, ast.String)]
                    if parts[:1] != ["value"]:
                        self.err(con.loc("expr"), f"{what} refers to {'.'.join(parts) or '*'}: a domain CHECK "
                                                  "can use only VALUE")
                        break

    def collation_fits(self, collation: str, ctype: SqlType | None, pos: Pos, what: str) -> None:
        """COLLATE applies to collatable types only (PostgreSQL: collations are not supported by type ...)."""
        if not collation.strip():
            self.err(pos, f"{what}: collation must be a name")
        elif not self.name_length(collation, pos, "collation"):
            return
        elif ctype is not None and not self.collatable(ctype):
            self.err(pos, f"{what}: type {ctype} takes no collation "
                          f"(collatable: {', '.join(sorted(COLLATABLE_TYPES))}, and domains over them)")

    def collatable(self, ctype: SqlType) -> bool:
        """Whether a type takes a collation: the text-like built-in ones, and domains over them."""
        base = self.domain_base(ctype)
        if base is None or (is_user_type(base.base) and to_qname(base.base) not in self.catalog.types):
            return True  # a mistake reported at the domain, or an extension's type (citext): PostgreSQL judges it
        return base.base in COLLATABLE_TYPES

    def domain_base(self, ctype: SqlType) -> SqlType | None:
        """The type under a declared domain (through domains over domains); the type itself when it is no domain;
        None when a domain's base is a mistake reported at the domain."""
        seen: set[str] = set()
        while is_user_type(ctype.base) and not ctype.array_dims:
            declared = self.catalog.types.get(to_qname(ctype.base))
            if declared is None or declared.kind != "domain":
                return ctype
            if ctype.base in seen:
                return None
            seen.add(ctype.base)
            try:
                ctype = parse_type(declared.domain or "")
            except TypeSyntaxError:
                return None
        return ctype

    # -- tables --------------------------------------------------------------------------------------------------
    def check_table(self, table: Table) -> None:
        self.qualified_name(table.name, table.loc("name"), "table")
        counts = Counter(c.name for c in table.columns)
        for column in table.columns:
            self.check_column(table, column)
            if counts[column.name] > 1:
                self.err(column.loc("name"), f"duplicate column {column.name!r}")
        if not table.columns:
            self.err(table.loc("columns"), f"table {table.name} has no columns")
        if len(table.columns) > MAX_COLUMNS:
            self.err(table.loc("columns"), f"table {table.name} has {len(table.columns)} columns (PostgreSQL "
                                           f"allows at most {MAX_COLUMNS})")
        if table.primary_key is not None and any(c.primary_key for c in table.columns):
            self.err(table.loc("primary_key"), "primary key declared both on a column and on the table")
        if table.primary_key is not None:
            self.columns_listed(table, table.primary_key.columns, table.primary_key.loc("columns"), "primary key")
        self.check_duplicate_keys(table)
        constraint_names: dict[str, Pos] = {}
        for con in self.catalog.constraints(table):
            at = declared_at(table, con)
            if con.name in constraint_names:
                self.err(at("name"), f"duplicate constraint name {con.name!r} on {table.name}")
            constraint_names.setdefault(con.name, con.pos)
            self.name_length(con.name, at("name"), "constraint")
            self.columns_listed(table, con.columns, at("columns"), con.kind)
            if len(con.columns) > MAX_INDEX_KEYS:
                self.err(at("columns"), f"{con.kind} {con.name} has {len(con.columns)} columns (PostgreSQL allows "
                                        f"at most {MAX_INDEX_KEYS})")
            if con.kind == "foreign key":
                self.check_foreign_key(table, con, at)
            elif con.kind == "check" and con.expr is not None:
                node = self.expression(con.expr, at("expr"), f"check {con.name!r}")
                self.columns_exist(node, table, at("expr"), f"check {con.name!r}")
        for exclude in table.excludes:
            self.check_exclude(table, exclude)
        for index in table.indexes:
            self.check_index(table, index)
        for trigger in table.triggers:
            self.check_trigger(table, trigger)
        policy_names = Counter(p.name for p in table.policies)
        for policy in table.policies:
            self.check_policy(table, policy)
            if policy_names[policy.name] > 1:
                self.err(policy.loc("name"), f"duplicate policy {policy.name!r}")
        self.check_grants(table.grants, "table")
        self.check_owner(table)
        self.check_seed(table)
        self.check_partitioning(table)

    # -- partitioned tables --------------------------------------------------------------------------------------
    def check_partitioning(self, table: Table) -> None:
        """What CREATE TABLE ... PARTITION BY and ... PARTITION OF refuse that the spec can see (PostgreSQL 15's
        rules); overlapping bounds the spec cannot compare (expressions, most types) are the judge's."""
        key = self.partition_key(table, table.partition_by, table.loc("partition_by"), f"table {table.name}")
        if table.partitions and table.partition_by is None:
            self.err(table.loc("partitions"), f"table {table.name} has partitions but no `partition_by`")
        if key is not None:
            if table.unlogged:
                self.err(table.loc("unlogged"), f"table {table.name}: a partitioned table cannot be unlogged "
                                                 "(PostgreSQL refuses it)")
            self.unique_keys_cover(table, key)
            for trigger in table.triggers:
                if trigger.for_each == "row" and trigger.referencing is not None:
                    self.err(trigger.loc("referencing"), f"trigger {trigger.name}: PostgreSQL refuses transition "
                                                         f"tables on a row trigger of a partitioned table "
                                                         f"({table.name}); use FOR EACH STATEMENT")
            for exclude in table.excludes:
                self.err(exclude.loc("name"), f"exclusion constraint {exclude.name}: PostgreSQL 15 and 16 refuse "
                                              f"exclusion constraints on a partitioned table ({table.name})")
        self.check_partitions(table, key, table.partitions, to_qname(table.name))

    def partition_key(self, table: Table, text: str | None, pos: Pos, what: str) -> PartitionKey | None:
        """A `partition_by:` parsed, its keys columns of the table (not generated) or expressions over them."""
        if text is None:
            return None
        try:
            key = parse_partition_by(text)
        except PartitionSyntaxError as exc:
            self.err(pos, f"{what}: partition_by {text!r}: {exc}")
            return None
        generated = {c.name for c in table.columns if c.generated is not None}
        for column, expr in zip(key.columns, key.expressions, strict=True):
            if column is not None and column not in self.column_names(table):
                self.err(pos, f"{what}: partition key names unknown column {column!r} of {table.name}")
            elif column in generated:
                self.err(pos, f"{what}: partition key column {column!r} is a generated column (PostgreSQL refuses "
                              "it)")
            if expr is not None:
                self.references(sqlparse.references(expr), pos, f"{what} partition key")
                self.columns_exist(expr, table, pos, f"{what} partition key")
        if key.strategy == "list" and len(key.columns) > 1:
            self.err(pos, f"{what}: list partitioning takes one key, not {len(key.columns)} (PostgreSQL refuses "
                          "more)")
        return key

    def unique_keys_cover(self, table: Table, key: PartitionKey, at: Pos | None = None,
                          what: str = "") -> None:
        """Every primary key, unique constraint and unique index of the table covers a partition key (the table's;
        with `at`, a sub-partitioning's, whose partitions the keys reach too)."""
        for con in self.catalog.constraints(table):
            if con.kind in ("primary key", "unique"):
                self.key_covers_partitioning(table, key, con.columns, at or declared_at(table, con)("columns"),
                                             f"{con.kind.upper()} {con.name}{what}")
        for index in table.indexes:
            if index.unique:
                keys = [m["col"] and unquote_ident(m["col"]) for m in map(INDEX_KEY.match, index.columns) if m]
                self.key_covers_partitioning(table, key, [k for k in keys if k], at or index.loc("columns"),
                                             f"unique index {index.name}{what}")

    def key_covers_partitioning(self, table: Table, key: PartitionKey, columns: Iterable[str], pos: Pos,
                                what: str) -> None:
        """A primary key, unique constraint or unique index of a partitioned table is enforced per partition, so
        PostgreSQL requires it to include every partition key column, and no key may be an expression."""
        if any(c is None for c in key.columns):
            self.err(pos, f"{what} on {table.name}: PostgreSQL refuses a unique key on a table partitioned by an "
                          "expression")
            return
        missing = [c for c in key.columns if c is not None and c not in set(columns)]
        if missing:
            self.err(pos, f"{what} on partitioned table {table.name} must include the partition key column(s) "
                          f"{', '.join(missing)} (PostgreSQL refuses it otherwise)")

    def check_partitions(self, table: Table, key: PartitionKey | None, partitions: tuple[Partition, ...],
                         parent: QName) -> None:
        """The partitions of one parent: names, bounds of the parent's strategy, at most one default (none under
        hash), hash moduli that divide each other, list values and simple range bounds that do not overlap."""
        defaults = [p for p in partitions if p.default]
        for extra in defaults[1:]:
            self.err(extra.loc("default"), f"partition {extra.name}: {parent} already has a default partition "
                                           f"({defaults[0].name}); PostgreSQL allows one")
        bounds: list[tuple[Partition, Bound]] = []
        for p in partitions:
            name = partition_name(parent, p.name)
            if p.name.count(".") > 1:
                self.err(p.loc("name"), f"invalid partition name {p.name!r}: expected name or schema.name")
            elif self.plain_name(name.name, p.loc("name"), "partition") and name.schema not in self.catalog.schemas:
                self.err(p.loc("name"), f"partition {p.name!r}: schema {name.schema!r} is not declared under "
                                        "`schemas:`")
            self.check_grants(p.grants, "table")
            self.check_owner(p)
            if p.default and p.values is not None:
                self.err(p.loc("values"), f"partition {p.name}: `values` and `default: true` exclude each other")
            elif not p.default and p.values is None:
                self.err(p.loc("name"), f"partition {p.name}: give its bounds (`values:`) or `default: true`")
            if p.partitions and p.partition_by is None:
                self.err(p.loc("partitions"), f"partition {p.name} has partitions but no `partition_by`")
            sub = self.partition_key(table, p.partition_by, p.loc("partition_by"), f"partition {p.name}")
            if sub is not None:
                self.unique_keys_cover(table, sub, p.loc("partition_by"), f" (through partition {p.name})")
            self.check_partitions(table, sub, p.partitions, name)
            if key is None:
                continue
            if p.default and key.strategy == "hash":
                self.err(p.loc("default"), f"partition {p.name}: a hash-partitioned table cannot have a default "
                                           "partition (PostgreSQL refuses it)")
            if p.default or p.values is None:
                continue
            try:
                bound = parse_bound(p.values)
            except PartitionSyntaxError as exc:
                self.err(p.loc("values"), f"partition {p.name}: values {str(p.values)!r}: {exc}")
                continue
            if bound.strategy is None:
                self.err(p.loc("values"), f"partition {p.name}: write a default partition as `default: true`")
                continue
            if bound.strategy != key.strategy:
                self.err(p.loc("values"), f"partition {p.name}: {bound.strategy} bounds, but {parent} is partitioned "
                                          f"by {key.strategy} (expected {_BOUND_SHAPES[key.strategy]})")
                continue
            self.bound_shape(p, bound, len(key.columns))
            bounds.append((p, bound))
        if key is not None:
            self.bounds_disjoint(table, key, bounds, parent)

    def bound_shape(self, p: Partition, bound: Bound, keys: int) -> None:
        pos = p.loc("values")
        if bound.strategy == "range":
            for side, datums in (("FROM", bound.lower), ("TO", bound.upper)):
                if len(datums) != keys:
                    self.err(pos, f"partition {p.name}: {side} has {len(datums)} value(s), the partition key "
                                  f"{keys}")
                if any(kind == "null" for kind, _ in datums):
                    self.err(pos, f"partition {p.name}: a range bound cannot be NULL (use MINVALUE or MAXVALUE)")
        elif bound.strategy == "hash":
            if bound.modulus <= 0:
                self.err(pos, f"partition {p.name}: modulus must be a positive integer")
            elif not 0 <= bound.remainder < bound.modulus:
                self.err(pos, f"partition {p.name}: remainder must be at least 0 and below the modulus "
                              f"({bound.modulus})")

    def overlap(self, p: Partition, other: Partition) -> None:
        self.err(p.loc("values"), f"partition {p.name} overlaps partition {other.name} "
                                  "(PostgreSQL refuses overlapping partitions)")

    def bounds_disjoint(self, table: Table, key: PartitionKey, bounds: list[tuple[Partition, Bound]],
                        parent: QName) -> None:
        """Overlaps the spec can see: a list value in two partitions, hash moduli that do not divide each other
        and remainders one partition shares with another of a smaller modulus, and range bounds of one integer or
        date column (empty or overlapping)."""
        if key.strategy == "hash":
            moduli = sorted({b.modulus for _, b in bounds if b.modulus > 0})
            for smaller, larger in zip(moduli, moduli[1:], strict=False):
                if larger % smaller:
                    p = next(p for p, b in bounds if b.modulus == larger)
                    self.err(p.loc("values"), f"partition {p.name}: modulus {larger} is not a multiple of "
                                              f"{smaller}; PostgreSQL requires every modulus of {parent} to be a "
                                              "factor of the next larger one")
            seen_hash: dict[tuple[int, int], Partition] = {}
            for p, b in bounds:
                other = seen_hash.setdefault((b.modulus, b.remainder), p)
                if other is not p:
                    self.err(p.loc("values"), f"partition {p.name} has the bounds of partition {other.name}")
            # A row of remainder r under modulus m has remainder r % k under each factor k of m: the partition
            # (k, r % k) takes it too.
            for p, b in bounds:
                if not 0 <= b.remainder < b.modulus:
                    continue  # reported by bound_shape
                for smaller in (k for k in moduli if k < b.modulus and b.modulus % k == 0):
                    shared = seen_hash.get((smaller, b.remainder % smaller))
                    if shared is not None:
                        self.overlap(p, shared)
            return
        if key.strategy == "list":
            seen: dict[tuple[str, str], Partition] = {}
            for p, b in bounds:
                for datum in b.values:
                    other = seen.setdefault(datum, p)
                    if other is not p:
                        shown = "NULL" if datum[0] == "null" else datum[1]
                        self.err(p.loc("values"), f"partition {p.name}: value {shown} is also in partition "
                                                  f"{other.name} (PostgreSQL refuses overlapping partitions)")
            return
        known: list[tuple[Partition, tuple[int, Any], tuple[int, Any]]] = []
        for p, b in bounds:
            lo, hi = _range_point(b.lower, key, table), _range_point(b.upper, key, table)
            if lo is None or hi is None:
                continue
            if lo >= hi:
                self.err(p.loc("values"), f"partition {p.name}: empty range (FROM is not below TO)")
            else:
                known.append((p, lo, hi))
        known.sort(key=lambda r: r[1])
        # Each against the partition reaching highest so far, not merely the one before it: [0, 100), [10, 20)
        # and [30, 40) overlap twice, both times the first.
        reach: tuple[Partition, tuple[int, Any]] | None = None
        for p, lo, hi in known:
            if reach is not None and lo < reach[1]:
                self.overlap(p, reach[0])
            if reach is None or hi > reach[1]:
                reach = (p, hi)

    def check_duplicate_keys(self, table: Table) -> None:
        """A UNIQUE constraint on exactly the columns (in the same order) of the primary key or of an earlier UNIQUE
        one: CREATE TABLE keeps only the first of them (ALTER TABLE ... ADD keeps both), so the database would not
        hold what the spec says, and `verify --db` would report drift on our own output. Refused, not folded: one
        of the two declarations is meaningless, and the spec should say which constraint it means."""
        first: dict[tuple[object, ...], Constraint] = {}
        for con in self.catalog.constraints(table):
            if con.kind not in ("primary key", "unique"):
                continue
            # PostgreSQL folds only keys alike in their options too (deferral, NULLS NOT DISTINCT)
            earlier = first.setdefault((con.columns, con.deferrable, con.deferred, con.nulls_not_distinct), con)
            if earlier is con:
                continue
            hint = ("the primary key already makes it unique; remove `unique`" if earlier.kind == "primary key"
                    else "remove one of them")
            self.err(declared_at(table, con)("columns"),
                     f"UNIQUE {con.name} ({', '.join(con.columns)}) repeats the {earlier.kind.upper()} "
                     f"{earlier.name} of {table.name}: PostgreSQL keeps only the first when it creates the table "
                     f"({hint})")

    def columns_listed(self, table: Table, columns: Iterable[str], pos: Pos, what: str) -> None:
        names = self.column_names(table)
        for col in columns:
            if col not in names:
                self.err(pos, f"{what} names unknown column {col!r} of {table.name}")

    def check_column(self, table: Table, column: Column) -> None:
        self.plain_name(column.name, column.loc("name"), "column")
        self.check_grants(column.grants, "column")
        ctype = self.type_of(column.type, column.loc("type"), allow_pseudo=False)
        if column.default is not None and column.default_sql is not None:
            self.err(column.loc("default_sql"), "use either `default` (a literal) or `default_sql`, not both")
        if column.default_sql is not None:
            node = self.expression(column.default_sql, column.loc("default_sql"), f"default of {column.name}")
            if node is not None and any(isinstance(n, ast.ColumnRef) for n in sqlparse.shared_walk(node)):
                self.err(column.loc("default_sql"), f"default of {column.name} cannot refer to columns")
            elif node is not None:
                try:
                    sqlparse.check_default(column.default_sql)
                except SqlSyntaxError:
                    self.err(column.loc("default_sql"), f"default of {column.name}: PostgreSQL takes this expression "
                                                        f"as a column default only in parentheses: "
                                                        f"({column.default_sql.strip().rstrip(';')})")
        if column.identity is not None:
            self.check_identity(column, ctype)
        if column.generated is not None:
            self.check_generated(table, column)
        if column.collation is not None:
            self.check_collation(column, ctype)
        if (column.on_delete or column.on_update) and not column.references:
            self.err(column.loc("on_delete" if column.on_delete else "on_update"),
                     f"column {column.name}: on_delete/on_update need `references`")
        if column.enum_constraint and not column.enum:
            self.err(column.loc("enum_constraint"), f"column {column.name}: enum_constraint needs `enum`")
        enum = None
        if column.enum is not None:
            enum = self.catalog.enums.get(column.enum)
            if enum is None:
                self.err(column.loc("enum"), f"unknown enum {column.enum!r}")
            elif ctype is not None and ctype.max_length is not None:
                for value in enum.values:
                    if len(value) > ctype.max_length:
                        self.err(column.loc("enum"), f"enum value {value!r} is longer than {column.type}")
        if column.default is not None:
            self.literal_fits(column, ctype, column.default, column.loc("default"), "default")
            allowed: tuple[object, ...] = enum.values if enum is not None else ()  # compared with any literal
            if enum is not None and column.default not in allowed:
                self.err(column.loc("default"), f"default {column.default!r} of {column.name} is not a value of "
                                                  f"enum {enum.name} ({', '.join(enum.values)})")

    def check_identity(self, column: Column, ctype: SqlType | None) -> None:
        """What CREATE TABLE refuses of an identity column: a default beside it, a type other than the three
        integers, sequence options that contradict each other."""
        identity = column.identity
        assert identity is not None
        # `type: serial` is an identity whose position is the type's (decode.Decoder.serial_sugar)
        sugar = " (a serial type is one)" if identity.pos == column.loc("type") else ""
        if column.default is not None or column.default_sql is not None:
            self.err(column.loc("identity"), f"column {column.name}: an identity column{sugar} cannot have a "
                                             "default (its values come from its sequence)")
        if ctype is not None and (ctype.base not in _INT_LIMITS or ctype.array_dims):
            self.err(column.loc("identity"), f"column {column.name}: an identity column must be smallint, integer "
                                             f"or bigint, not {ctype}")
            return
        if identity.increment == 0:
            self.err(identity.loc("increment"), f"column {column.name}: identity increment must not be 0")
        limit = _INT_LIMITS[ctype.base] if ctype is not None else 2**63
        out_of_range = [key for key in ("start", "min_value", "max_value")
                        if getattr(identity, key) is not None and not -limit <= getattr(identity, key) < limit]
        for key in out_of_range:
            self.err(identity.loc(key), f"column {column.name}: identity {key} {getattr(identity, key)} is out of "
                                        f"range for {ctype}")
        if out_of_range:
            return
        low, high = identity_bounds(identity, ctype.base if ctype is not None else "bigint")
        if low >= high:
            self.err(identity.loc("min_value"), f"column {column.name}: identity min_value ({low}) must be below "
                                                f"max_value ({high})")
        elif identity.start is not None and not low <= identity.start <= high:
            self.err(identity.loc("start"), f"column {column.name}: identity start {identity.start} is outside "
                                            f"min_value..max_value ({low}..{high})")
        if identity.cache is not None and identity.cache < 1:
            self.err(identity.loc("cache"), f"column {column.name}: identity cache must be at least 1")

    def check_generated(self, table: Table, column: Column) -> None:
        """What CREATE TABLE refuses of a generated column that the spec can see: a default or an identity beside
        it, a sub-query, another generated column in the expression (PostgreSQL judges the rest: immutability)."""
        pos, what = column.loc("generated"), f"generated column {column.name}"
        if column.default is not None or column.default_sql is not None:
            self.err(pos, f"{what} cannot have a default (its value is computed)")
        if column.identity is not None:
            self.err(pos, f"{what} cannot also be an identity column")
        node = self.expression(column.generated, pos, what)
        if node is None:
            return
        self.columns_exist(node, table, pos, what)
        if any(isinstance(n, ast.SubLink) for n in sqlparse.shared_walk(node)):
            self.err(pos, f"{what}: a generation expression cannot use a sub-query")
        generated = {c.name for c in table.columns if c.generated is not None}
        for n in sqlparse.shared_walk(node):
            if isinstance(n, ast.ColumnRef):
                parts = [f.sval for f in n.fields if isinstance(f, ast.String)]
                if len(parts) == 1 and parts[0] in generated:
                    self.err(pos, f"{what} refers to generated column {parts[0]!r}: a generation expression "
                                  "cannot use another generated column")

    def check_collation(self, column: Column, ctype: SqlType | None) -> None:
        """COLLATE applies to collatable types only (PostgreSQL: collations are not supported by type ...)."""
        self.collation_fits(column.collation or "", ctype, column.loc("collation"), f"column {column.name}")

    def literal_fits(self, column: Column, ctype: SqlType | None, value: object, pos: Pos, what: str) -> None:
        """A YAML literal must suit the column type (PostgreSQL would reject it at apply time)."""
        if ctype is None or value is None:
            return
        if isinstance(value, str) and "\x00" in value:
            self.err(pos, f"{what} for {column.name} contains a NUL character, which PostgreSQL text cannot hold")
            return
        if not ctype.array_dims:  # a domain's literal is one of its base type (PostgreSQL judges its CHECKs)
            ctype = self.domain_base(ctype)
            if ctype is None:
                return
        enum_type = self.catalog.types.get(to_qname(ctype.base)) if is_user_type(ctype.base) else None
        if enum_type is not None and enum_type.kind == "enum" and not ctype.array_dims \
                and value not in enum_type.enum:
            self.err(pos, f"{what} {value!r} of {column.name} is not a value of type {enum_type.name} "
                          f"({', '.join(enum_type.enum)})")
            return
        kinds = _LITERAL_KINDS.get(ctype.base) if not ctype.array_dims else (list,)
        if kinds is None:  # text-like and other types take their value as a string
            kinds = (str,)
        if ctype.array_dims and isinstance(value, list):
            return
        if isinstance(value, bool) and bool not in kinds:
            self.err(pos, f"{what} for {column.name} ({ctype}) is a boolean")
        elif not isinstance(value, kinds):
            self.err(pos, f"{what} for {column.name} ({ctype}) must be {' or '.join(k.__name__ for k in kinds)}, "
                          f"got {type(value).__name__} {value!r}")
        elif ctype.max_length is not None and isinstance(value, str) and len(value) > ctype.max_length:
            self.err(pos, f"{what} for {column.name} is longer than {ctype}")
        elif isinstance(value, int) and ctype.base in _INT_LIMITS and not \
                -_INT_LIMITS[ctype.base] <= value < _INT_LIMITS[ctype.base]:
            self.err(pos, f"{what} {value} for {column.name} is out of range for {ctype}")

    def check_foreign_key(self, table: Table, con: Constraint, at: Callable[[str], Pos]) -> None:
        columns, on_delete, pos = con.columns, con.on_delete, at("references")
        try:
            target_name, target_cols = parse_reference(con.ref_text or "")
        except ReferenceSyntaxError as exc:
            self.err(pos, str(exc))
            return
        target = self.catalog.tables.get(target_name)
        if target is None:
            self.err(pos, f"foreign key references unknown table {target_name}")
            return
        target_columns = {c.name: c for c in target.columns}
        missing = [c for c in target_cols if c not in target_columns]
        if missing:
            self.err(pos, f"foreign key references unknown column(s) {', '.join(missing)} of {target_name}")
            return
        if len(target_cols) != len(columns):
            self.err(pos, f"foreign key has {len(columns)} column(s) but references {len(target_cols)}")
            return
        keys = {frozenset(c.columns): c for c in self.catalog.constraints(target) if not c.deferrable
                and c.kind in ("primary key", "unique")}
        deferrable = [c for c in self.catalog.constraints(target) if c.deferrable
                      and c.kind in ("primary key", "unique")
                      and set(c.columns) == set(target_cols)]
        if target.unlogged and not table.unlogged:
            self.err(pos, f"foreign key of permanent table {table.name} references unlogged table {target_name} "
                          "(PostgreSQL allows it only from an unlogged table)")
        if frozenset(target_cols) not in keys and deferrable:
            self.err(pos, f"foreign key target {target_name}({', '.join(target_cols)}) is the DEFERRABLE "
                          f"{deferrable[0].kind} constraint {deferrable[0].name}: PostgreSQL refuses a foreign key "
                          "to a deferrable key")
        elif frozenset(target_cols) not in keys:
            self.err(pos, f"foreign key target {target_name}({', '.join(target_cols)}) is not a primary key or "
                          "unique constraint")
        own = {c.name: c for c in table.columns}
        for mine, theirs in zip(columns, target_cols, strict=True):
            if mine in own and _base(own[mine].type) != _base(target_columns[theirs].type):
                self.err(at("columns"), f"foreign key column {mine} ({own[mine].type}) does not match "
                                        f"{target_name}.{theirs} ({target_columns[theirs].type})")
            if on_delete == "set null" and mine in own and own[mine].not_null:
                self.err(at("on_delete"), f"ON DELETE SET NULL on NOT NULL column {mine}")

    def check_index(self, table: Table | MaterializedView, index: Index) -> None:
        self.plain_name(index.name, index.loc("name"), "index")
        self.key_count(len(index.columns), index.loc("columns"), f"index {index.name}", "columns", "keys",
                       included=len(index.include))
        for key in index.columns:
            m = self.index_key(table, key, index.loc("columns"), f"index {index.name}")
            if m and (m["dir"] or m["nulls"]) and index.method not in ORDERED_METHODS:
                self.err(index.loc("columns"), f"index {index.name}: access method {index.method} does not "
                                                 "support ASC/DESC or NULLS FIRST/LAST options")
        if isinstance(table, Table):  # a materialized view's columns are its query's, left to the judge
            self.columns_listed(table, index.include, index.loc("include"), f"index {index.name} INCLUDE")
        if index.include and index.method not in INCLUDE_METHODS:
            self.err(index.loc("include"), f"index {index.name}: access method {index.method} does not support "
                                           f"included columns (only {' and '.join(sorted(INCLUDE_METHODS))})")
        self.predicate(table, index.where, index.loc("where"), f"index {index.name}")

    def key_count(self, count: int, pos: Pos, what: str, none: str, many: str, *, included: int = 0) -> None:
        """An index or exclusion constraint has at least one key, and at most PostgreSQL's limit of keys counting
        an index's INCLUDE columns."""
        if not count:
            self.err(pos, f"{what} has no {none}")
        if count + included > MAX_INDEX_KEYS:
            self.err(pos, f"{what} has {count + included} {many}" + (" and included columns" if included else "")
                          + f" (PostgreSQL allows at most {MAX_INDEX_KEYS})")

    def predicate(self, table: Table | MaterializedView, where: str | None, pos: Pos, what: str) -> None:
        """The WHERE of a partial index or exclusion constraint: an expression over the table's columns (a
        materialized view's columns are its query's, left to the judge)."""
        node = self.expression(where, pos, f"{what} predicate")
        if isinstance(table, Table):
            self.columns_exist(node, table, pos, f"{what} predicate")

    def index_key(self, table: Table | MaterializedView, key: str, pos: Pos, what: str) -> re.Match[str] | None:
        """One key of an index or an exclusion constraint (the one grammar, sqltext.INDEX_KEY): a column of the
        table, or an expression over them; the match, None when the key is outside the grammar."""
        m = INDEX_KEY.match(key.strip())
        if not m:
            self.err(pos, f"index key {key!r}: expected `column` or `(expression)`, then [COLLATE collation] "
                          "[operator class] [ASC|DESC] [NULLS FIRST|LAST]")
        elif m["expr"] is not None:
            node = self.expression(m["expr"], pos, f"{what} expression")
            if isinstance(table, Table):
                self.columns_exist(node, table, pos, what)
        elif isinstance(table, Table) and unquote_ident(m["col"]) not in self.column_names(table):
            self.err(pos, f"{what} names unknown column {unquote_ident(m['col'])!r}")
        return m

    def check_exclude(self, table: Table, exclude: Exclude) -> None:
        """EXCLUDE: at least one element, each a key of the table with an operator PostgreSQL's grammar takes
        (`=`, `&&`, `OPERATOR(schema.op)`); whether the operator fits the key's type is the server's to judge."""
        what = f"exclusion constraint {exclude.name}"
        self.key_count(len(exclude.elements), exclude.loc("elements"), what, "elements", "elements")
        for element in exclude.elements:
            self.index_key(table, element.key, element.loc("key"), what)
            try:
                sqlparse.split_statements(f"ALTER TABLE t ADD EXCLUDE (k WITH {element.operator})")
            except SqlSyntaxError:
                self.err(element.loc("operator"), f"{what}: {element.operator!r} is not an operator (e.g. `=`, "
                                                  "`&&`, `OPERATOR(schema.op)`)")
        self.predicate(table, exclude.where, exclude.loc("where"), what)

    def check_trigger(self, table: Table | View, trigger: Trigger) -> None:
        self.plain_name(trigger.name, trigger.loc("name"), "trigger")
        self.check_trigger_kind(table, trigger)
        function = self.catalog.routine(trigger.function)
        if not isinstance(function, Function):
            said = f" calls {function}" if function.startswith("unknown") else f": {function}"
            self.err(trigger.loc("function"), f"trigger {trigger.name}{said}")
        elif isinstance(function, Procedure):
            self.err(trigger.loc("function"), f"{trigger.function} is a procedure, not a trigger function")
        elif function.returns.strip().lower() != "trigger" or function.args:
            self.err(trigger.loc("function"), f"{trigger.function} is not a trigger function "
                                                "(it must take no arguments and return trigger)")
        if not trigger.events:
            self.err(trigger.loc("events"), f"trigger {trigger.name} has no events")
        for dup in repeated(trigger.events):
            self.err(trigger.loc("events"), f"event {dup} listed twice")
        if trigger.columns and "update" not in trigger.events:
            self.err(trigger.loc("columns"), "columns (UPDATE OF) need the update event")
        if isinstance(table, Table):  # a view's columns are its query's: not known here
            self.columns_listed(table, trigger.columns, trigger.loc("columns"), f"trigger {trigger.name}")
        if "truncate" in trigger.events and trigger.for_each == "row":
            self.err(trigger.loc("events"), "truncate triggers must be `for_each: statement`")
        if trigger.when is None:
            return
        if trigger.timing == "instead of":
            self.err(trigger.loc("when"), f"trigger {trigger.name}: INSTEAD OF triggers cannot have a WHEN "
                                          "condition")
            return
        if trigger.for_each == "statement":
            self.err(trigger.loc("when"), "statement-level triggers cannot have a WHEN condition")
            return
        allowed = {"new", "old"}
        if "insert" in trigger.events:
            allowed.discard("old")
        if "delete" in trigger.events:
            allowed.discard("new")
        node = self.expression(trigger.when, trigger.loc("when"), f"WHEN of trigger {trigger.name}")
        if isinstance(table, Table):
            self.columns_exist(node, table, trigger.loc("when"), f"WHEN of trigger {trigger.name}",
                               row_vars=frozenset(allowed))

    def check_trigger_kind(self, owner: Table | View, trigger: Trigger) -> None:
        """What PostgreSQL refuses of INSTEAD OF, view, constraint and transition-table triggers, and of the
        enable mode (CREATE TRIGGER's and ALTER TABLE's rules)."""
        name, loc = trigger.name, trigger.loc
        on_view = isinstance(owner, View)
        if on_view:
            if trigger.timing != "instead of" and trigger.for_each == "row":
                self.err(loc("for_each"), f"trigger {name}: BEFORE and AFTER triggers on a view must be "
                                          "`for_each: statement` (row triggers on a view are INSTEAD OF)")
            if "truncate" in trigger.events:
                self.err(loc("events"), f"trigger {name}: views have no TRUNCATE triggers")
            if trigger.enabled != "origin":
                self.err(loc("enabled"), f"trigger {name}: a view's triggers cannot be disabled or enabled for "
                                         "replication (ALTER TABLE ... ENABLE / DISABLE TRIGGER refuses views)")
        elif trigger.timing == "instead of":
            self.err(loc("timing"), f"trigger {name}: INSTEAD OF triggers are for views (a table takes BEFORE "
                                    "or AFTER)")
        if trigger.timing == "instead of":
            if trigger.for_each != "row":
                self.err(loc("for_each"), f"trigger {name}: INSTEAD OF triggers must be `for_each: row`")
            if trigger.columns:
                self.err(loc("columns"), f"trigger {name}: INSTEAD OF triggers cannot have columns (UPDATE OF)")
        if trigger.constraint:
            if trigger.timing != "after" or trigger.for_each != "row":
                self.err(loc("constraint"), f"constraint trigger {name} must be `timing: after` and "
                                            "`for_each: row`")
            if on_view:
                self.err(loc("constraint"), f"constraint trigger {name}: constraint triggers are for tables")
            if trigger.initially_deferred and not trigger.deferrable:
                self.err(loc("initially_deferred"), f"constraint trigger {name}: INITIALLY DEFERRED needs "
                                                    "`deferrable: true`")
        else:
            for key in ("deferrable", "initially_deferred"):
                if getattr(trigger, key):
                    self.err(loc(key), f"trigger {name}: `{key}` is for constraint triggers (`constraint: true`)")
        if trigger.referencing is not None:
            self.check_transition_tables(owner, trigger, trigger.referencing)

    def check_transition_tables(self, owner: Table | View, trigger: Trigger, ref: Referencing) -> None:
        name, at = trigger.name, trigger.loc("referencing")
        if isinstance(owner, View):
            self.err(at, f"trigger {name}: triggers on views cannot have transition tables")
        elif trigger.timing != "after":
            self.err(at, f"trigger {name}: transition tables (REFERENCING) are only for AFTER triggers")
        if trigger.constraint:
            self.err(at, f"constraint trigger {name} cannot have transition tables")
        if len(trigger.events) != 1:
            self.err(at, f"trigger {name}: transition tables need a trigger of exactly one event")
        if trigger.columns:
            self.err(at, f"trigger {name}: transition tables cannot go with columns (UPDATE OF)")
        if "truncate" in trigger.events:
            self.err(at, f"trigger {name}: TRUNCATE triggers have no transition tables")
        if ref.old_table is None and ref.new_table is None:
            self.err(at, f"trigger {name}: `referencing` names no table (new_table, old_table)")
        if ref.old_table is not None and not {"update", "delete"} & set(trigger.events):
            self.err(ref.loc("old_table"), f"trigger {name}: old_table is only for UPDATE or DELETE triggers")
        if ref.new_table is not None and not {"insert", "update"} & set(trigger.events):
            self.err(ref.loc("new_table"), f"trigger {name}: new_table is only for INSERT or UPDATE triggers")
        if ref.old_table is not None and ref.old_table == ref.new_table:
            self.err(ref.loc("new_table"), f"trigger {name}: old_table and new_table need different names")
        for key in ("old_table", "new_table"):
            value = getattr(ref, key)
            if value is not None:
                self.plain_name(value, ref.loc(key), "transition table")

    def check_policy(self, table: Table, policy: Policy) -> None:
        self.name_length(policy.name, policy.loc("name"), "policy")
        for role in policy.roles:
            self.role_exists(role, policy.loc("roles"))
        if not policy.roles:
            self.err(policy.loc("roles"), f"policy {policy.name!r} names no roles")
        if policy.using is None and policy.with_check is None:
            self.err(policy.pos, f"policy {policy.name!r} needs `using` or `with_check`")
        if policy.command == "insert" and policy.using is not None:
            self.err(policy.loc("using"), "an INSERT policy has only `with_check` (there are no existing rows)")
        if policy.command in ("select", "delete") and policy.with_check is not None:
            self.err(policy.loc("with_check"), f"a {policy.command.upper()} policy has only `using`")
        for key, label in (("using", "USING"), ("with_check", "WITH CHECK")):
            what = f"{label} of policy {policy.name!r}"
            node = self.expression(getattr(policy, key), policy.loc(key), what)
            if node is not None:
                self.policy_columns(table, node, policy.loc(key), what)

    def policy_columns(self, table: Table, node: Any, pos: Pos, what: str) -> None:
        """Column references outside sub-queries are the row's own columns: a typo there only fails at apply time."""
        names = self.column_names(table)
        self.keyword_columns(node, names, pos, what)
        own = {to_qname(table.name).name}
        for n in sqlparse.shared_walk(node, into_subqueries=False):
            if isinstance(n, ast.ColumnRef):
                parts = [f.sval for f in n.fields if isinstance(f, ast.String)]
                column = parts[-1] if len(parts) == 1 or (len(parts) == 2 and parts[0] in own) else None
                if column is None or column not in names:
                    self.err(pos, f"{what} refers to unknown column {'.'.join(parts)!r} of {table.name}")

    def check_seed(self, table: Table) -> None:
        columns = {c.name: c for c in table.columns}
        # A primary key makes its columns NOT NULL without `not_null: true` being written.
        key_columns = {name for con in self.catalog.constraints(table) if con.kind == "primary key"
                       for name in con.columns}
        not_null = {c.name for c in table.columns if c.not_null or c.name in key_columns}
        required = [c.name for c in table.columns if c.name in not_null and c.default is None
                    and c.default_sql is None and c.identity is None and c.generated is None]
        for row in table.seed:
            for col, value in row.values.items():
                column = columns.get(col)
                if column is None:
                    self.err(row.loc(col), f"seed row names unknown column {col!r} of {table.name}")
                    continue
                if column.generated is not None or (column.identity and column.identity.generated == "always"):
                    # INSERT refuses a value for it (an identity ALWAYS column: unless OVERRIDING SYSTEM VALUE).
                    kind = "generated" if column.generated is not None else "identity (always)"
                    self.err(row.loc(col), f"seed row gives a value for {kind} column {col!r}, which PostgreSQL "
                                           "computes: leave it out")
                    continue
                ctype = self.type_of(column.type, column.loc("type"), allow_pseudo=False)
                self.literal_fits(column, ctype, value, row.loc(col), "seed value")
                enum = self.catalog.enums.get(column.enum or "")
                allowed: tuple[object, ...] = enum.values if enum is not None else ()  # compared with any literal
                if enum is not None and value is not None and value not in allowed:
                    self.err(row.loc(col), f"seed value {value!r} is not a value of enum {enum.name}")
                if value is None and col in not_null:
                    self.err(row.loc(col), f"seed value for NOT NULL column {col} is null"
                                           + (" (it is in the primary key)" if not column.not_null else ""))
            for col in required:
                if col not in row.values:
                    self.err(row.pos, f"seed row lacks NOT NULL column {col!r} (it has no default)")
        self.check_seed_keys(table)

    def check_seed_keys(self, table: Table) -> None:
        """Two seed rows with the same primary key or unique values: PostgreSQL refuses the second."""
        for con in self.catalog.constraints(table):
            if con.kind not in ("primary key", "unique"):
                continue
            seen: dict[str, Pos] = {}
            for row in table.seed:
                if not set(con.columns) <= set(row.values) or any(row.values[c] is None for c in con.columns):
                    continue  # NULLs are distinct; a missing column takes its default (unknown here)
                key = seed_key_text(row.values, con.columns)
                if key in seen:
                    self.err(row.pos, f"seed row repeats {con.kind} {con.name} ({', '.join(con.columns)}) of the "
                                      f"row at {seen[key]}")
                else:
                    seen[key] = row.pos

    # -- views ---------------------------------------------------------------------------------------------------
    def check_view(self, view: View) -> None:
        self.qualified_name(view.name, view.loc("name"), "view")
        self.check_grants(view.grants, "view")
        self.check_owner(view)
        self.check_query(view, "view")
        for trigger in view.triggers:
            self.check_trigger(view, trigger)

    def check_matview(self, matview: MaterializedView) -> None:
        self.qualified_name(matview.name, matview.loc("name"), "materialized view")
        self.check_owner(matview)
        self.check_grants(matview.grants, "view")
        self.check_query(matview, "materialized view")
        for index in matview.indexes:
            self.check_index(matview, index)

    def check_query(self, view: View | MaterializedView, what: str) -> None:
        """The query of a view or materialized view parses, and what it names exists."""
        try:
            node = sqlparse.parse_query(view.query)
        except SqlSyntaxError as exc:
            self.err(view.loc("query"), f"query of {what} {view.name} does not parse: {sql_error(exc, view.query)}")
            return
        self.references(sqlparse.references(node), view.loc("query"), f"{what} {view.name}")


_BOUND_SHAPES = {"range": "`from (...) to (...)`", "list": "`in (...)`", "hash": "`with (modulus N, remainder R)`"}
_DATE = re.compile(r"\A\d{4}-\d{2}-\d{2}\Z")


def _range_point(datums: tuple[tuple[str, str], ...], key: PartitionKey, table: Table) -> tuple[int, Any] | None:
    """A one-column range bound the spec can order without a server: an integer of an integer column, an ISO
    date of a date or timestamp column, MINVALUE / MAXVALUE; None for anything else."""
    if len(datums) != 1 or len(key.columns) != 1 or key.columns[0] is None:
        return None
    column_type = _base(next((c.type for c in table.columns if c.name == key.columns[0]), ""))
    kind, text = datums[0]
    if kind in ("min", "max"):
        return (0 if kind == "min" else 2, "")
    if kind != "const":
        return None
    if column_type in _INT_LIMITS and re.fullmatch(r"-?\d+", text):
        return (1, int(text))
    if column_type in ("date", "timestamp", "timestamptz") and _DATE.match(text):
        return (1, text)
    return None


def repeated(values: Iterable[str]) -> list[str]:
    """Values listed more than once, sorted (linear: an enum of 40,000 values took 26 s with list.count)."""
    return sorted(v for v, n in Counter(values).items() if n > 1)


def declared_at(table: Table, con: Constraint) -> Callable[[str], Pos]:
    """Where one key of a constraint is written. A constraint declared on the table has a position per key (its
    name, columns, references, expr); one a column implies (`unique: true`) has only that column key's."""
    by_kind: dict[str, tuple[Unique | ForeignKey | Check | Exclude, ...]] = {
        "unique": table.unique, "foreign key": table.foreign_keys, "check": table.checks,
        "exclude": table.excludes}
    declared = by_kind.get(con.kind, ())
    node = next((d for d in declared if d.name == con.name and d.pos == con.pos), None)
    if node is None:
        return lambda _key: con.pos
    return node.loc


def sql_error(exc: SqlSyntaxError, text: str, prefix: int = 0) -> str:
    """pglast's message, its `at index N` (an offset into the text parsed, which may begin with `prefix` characters
    sqlparse added) turned into a line and column of the SQL as written in the spec."""
    message = str(exc)
    m = _AT_INDEX.search(message)
    index = int(m[1]) - prefix if m else -1
    if m is None or not 0 <= index <= len(text):
        return message
    return f"{message[:m.start()]} ({text_place(text, index)} of the SQL text)"


def text_place(text: str, index: int) -> str:
    """`line L, column C` (or `column C` in a one-line text) of a character offset into `text`."""
    line, col = text.count("\n", 0, index) + 1, index - text.rfind("\n", 0, index)
    return f"line {line}, column {col}" if "\n" in text else f"column {col}"


def _base(type_text: str) -> str:
    try:
        parsed = parse_type(type_text)
    except TypeSyntaxError:
        return type_text
    return str(SqlType(parsed.base, (), parsed.array_dims))
