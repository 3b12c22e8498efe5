"""The schema model: one frozen class per object kind, declared once.

Each field is declared with :func:`spec_field`; its name is the YAML key, its type hint and metadata drive the
decoder (``decode.py``), the JSON Schema for editors (``jsonschema.py``) and the README's key reference. ``pos`` and
``at`` carry source positions for diagnostics and take no part in equality.

YAML shapes the metadata describes:
- ``key``: this field receives the mapping key when the object is written as ``name: {...}`` in a keyed collection;
- ``shorthand``: the object may be written as this one field's value alone (``checks: {positive: "n > 0"}``);
- ``keyed``: a tuple field written in YAML as a mapping from name to item (names unique by construction).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, NewType, get_args

from .diagnostics import NOWHERE, Pos

# SQL source text (an expression, a query or a function body). Any YAML scalar is accepted as its source text, so
# `using: true` means the SQL `true`, not a YAML boolean.
Sql = NewType("Sql", str)
# A literal value (seed rows, column defaults): YAML scalars, or mappings/lists for json/jsonb columns.
Json = NewType("Json", object)

OnAction = Literal["cascade", "restrict", "no action", "set null", "set default"]
Privilege = Literal[
    "select", "insert", "update", "delete", "truncate", "references", "trigger", "usage", "execute", "create", "all"
]
PRIVILEGE_ORDER: tuple[str, ...] = get_args(Privilege)


def spec_field(
    doc: str,
    default: Any = None,
    *,
    key: bool = False,
    shorthand: bool = False,
    keyed: bool = False,
    required: bool = False,
    one_or_many: bool = False,
) -> Any:
    meta = {"doc": doc, "key": key, "shorthand": shorthand, "keyed": keyed, "required": required or key,
            "one_or_many": one_or_many}
    if isinstance(default, list | dict):
        raise TypeError("use an immutable default")
    return field(default=default, metadata=meta)


def _pos() -> Any:
    return field(default=NOWHERE, compare=False, repr=False, metadata={"internal": True})


def _at() -> Any:
    return field(default_factory=dict, compare=False, repr=False, metadata={"internal": True})


@dataclass(frozen=True)
class Node:
    """Base of every model class: where it was written, and where each of its keys was."""

    pos: Pos = _pos()
    at: Mapping[str, Pos] = _at()

    def loc(self, key: str) -> Pos:
        """Position of one key's value, falling back to the object's own position."""
        return self.at.get(key, self.pos)


@dataclass(frozen=True)
class Grant(Node):
    """Privileges of one role on the enclosing object (`role: [select, insert]`)."""

    role: str = spec_field("Role receiving the privileges (`public` for every role).", key=True)
    privileges: tuple[Privilege, ...] = spec_field("Privileges granted.", (), shorthand=True, required=True)


@dataclass(frozen=True)
class Suppression(Node):
    """One lint rule not reported on this object, and why (`RULE-ID: reason`)."""

    LABEL = "suppression"
    rule: str = spec_field("Lint rule id (`python -m generator lint --rules` lists them).", key=True)
    reason: str = spec_field("Why the finding is intended here (required, not empty).", shorthand=True,
                             required=True)


@dataclass(frozen=True)
class Lint(Node):
    """Lint findings an object is meant to have (see the README's Lint rules)."""

    ignore: tuple[Suppression, ...] = spec_field(
        "Rules not reported on this object, `RULE-ID: reason`. A suppression that suppresses nothing, names an "
        "unknown rule or gives no reason is itself reported.", (), keyed=True)


@dataclass(frozen=True)
class Role(Node):
    name: str = spec_field("Role name (roles are cluster-wide; created only if missing).", key=True)
    login: bool = spec_field("Whether the role may log in.", False)
    bypass_rls: bool = spec_field("BYPASSRLS: the role ignores row-level security (service roles only).", False)
    comment: str | None = spec_field("Description of the role (documentation only).")


@dataclass(frozen=True)
class SchemaDef(Node):
    LABEL = "schema"
    name: str = spec_field("Schema name.", key=True)
    owner: str | None = spec_field(
        "Role owning the schema (ALTER ... OWNER TO; a declared role). Not given: whoever runs the SQL, which drift "
        "then leaves alone.")
    comment: str | None = spec_field("COMMENT ON SCHEMA.")
    grants: tuple[Grant, ...] = spec_field("Privileges on the schema, e.g. `anon: [usage]`.", (), keyed=True)


@dataclass(frozen=True)
class Extension(Node):
    """An extension the schema uses (`CREATE EXTENSION IF NOT EXISTS`): its types, functions and operator classes
    become usable by name. IF NOT EXISTS keeps a platform's pre-installed copy (Supabase's `extensions` schema)."""

    name: str = spec_field("Extension name, as the server lists it in pg_available_extensions.", key=True)
    schema: str | None = spec_field(
        "Schema its objects go into (WITH SCHEMA; public or a declared schema). Not given: the server's choice "
        "(the first schema of the search_path), which drift then leaves alone.")
    version: str | None = spec_field(
        "Version to install (VERSION); plans update to it. Not given: the default version, which drift then leaves "
        "alone.")
    comment: str | None = spec_field("What the extension is used for (documentation only: the extension's own "
                                     "COMMENT stays).")
    note: str | None = spec_field("Reviewer note, rendered as a SQL comment above the statement.")


# Object kinds of ALTER DEFAULT PRIVILEGES, as the spec's keys; PostgreSQL's own defaults for objects of that kind
# when no default privileges say otherwise (besides the owner's): PUBLIC may execute functions and use types.
DEFAULT_PRIVILEGE_KINDS: tuple[str, ...] = ("tables", "sequences", "functions", "types")
BUILTIN_DEFAULTS: Mapping[str, tuple[str, str]] = {"functions": ("public", "execute"), "types": ("public", "usage")}


@dataclass(frozen=True)
class DefaultPrivileges(Node):
    """Privileges PostgreSQL grants on objects created later (ALTER DEFAULT PRIVILEGES): by anyone who creates
    tables outside the spec, a dashboard or a migration tool. One entry per role and schema, like pg_default_acl."""

    schema: str | None = spec_field(
        "Schema whose new objects get the privileges (IN SCHEMA; public or a declared schema), added to the role's "
        "global defaults. Not given: the role's global defaults, for every schema, which replace PostgreSQL's "
        "built-in ones: `functions: {public: []}` there revokes PUBLIC's EXECUTE on new functions.")
    for_role: str | None = spec_field(
        "Role whose new objects get them (FOR ROLE); default: the role that runs the SQL.")
    tables: tuple[Grant, ...] = spec_field(
        "Privileges on new tables and views, `role: [select]` (`role: []`: none).", (), keyed=True)
    sequences: tuple[Grant, ...] = spec_field("Privileges on new sequences.", (), keyed=True)
    functions: tuple[Grant, ...] = spec_field("Privileges on new functions (`public: [execute]` is PostgreSQL's "
                                              "built-in default).", (), keyed=True)
    types: tuple[Grant, ...] = spec_field("Privileges on new types (`public: [usage]` is PostgreSQL's built-in "
                                          "default).", (), keyed=True)
    note: str | None = spec_field("Reviewer note, rendered as a SQL comment above the statements.")

    def stated(self) -> tuple[str, ...]:
        """The kinds this entry speaks for: in a schema every kind (what is not listed gets nothing more); in the
        global defaults the kinds it lists (the others keep PostgreSQL's built-in defaults)."""
        if self.schema is not None:
            return DEFAULT_PRIVILEGE_KINDS
        return tuple(k for k in DEFAULT_PRIVILEGE_KINDS if k in self.at)


@dataclass(frozen=True)
class ValueList(Node):
    """A checked value list (`enums:`): a column naming it with `enum:` keeps its type (usually text) and gets a
    CHECK (col IN (...)). Not a PostgreSQL type: for `CREATE TYPE ... AS ENUM` see `types:`."""

    LABEL = "enum"
    name: str = spec_field("Value list name, used by columns as `enum: NAME` (a CHECK, not a type).", key=True)
    values: tuple[str, ...] = spec_field("Allowed values, in order.", (), shorthand=True, required=True)
    comment: str | None = spec_field("What the values mean (documentation only).")


@dataclass(frozen=True)
class ValueRename(Node):
    """A value of an enum type that had another label before (`new: old`)."""

    LABEL = "renamed value"
    value: str = spec_field("The value's label now (one of `enum:`).", key=True)
    former: str = spec_field("Its former label.", shorthand=True, required=True)


@dataclass(frozen=True)
class Attribute(Node):
    """One attribute of a composite type (`street: text`, or `zip: {type: varchar(10), collation: C}`)."""

    name: str = spec_field("Attribute name.", key=True)
    type: str = spec_field("SQL type, as a column's `type:` (a declared type, an array, ...).", shorthand=True,
                           required=True)
    collation: str | None = spec_field("COLLATE: the collation of a text-like attribute, e.g. `C`.")


@dataclass(frozen=True)
class DomainCheck(Node):
    """A named CHECK constraint of a domain (`email_shape: "VALUE ~ '@'"`)."""

    LABEL = "domain check"
    name: str = spec_field("Constraint name.", key=True)
    expr: Sql = spec_field("Boolean SQL expression over `VALUE`, the value being checked.", shorthand=True,
                           required=True)


# The public's privilege on a type when no grants say otherwise (PostgreSQL's built-in default).
TYPE_DEFAULT_GRANT: tuple[str, Privilege] = ("public", "usage")
TYPE_KINDS = ("enum", "attributes", "domain")


@dataclass(frozen=True)
class TypeDef(Node):
    """A PostgreSQL type the spec creates (`types:`), exactly one of: an enum type (`enum:`, CREATE TYPE ... AS
    ENUM), a composite type (`attributes:`, CREATE TYPE ... AS (...)) or a domain (`domain:`, CREATE DOMAIN). Usable
    wherever a type is (column `type:`, function arguments and results, casts, arrays `name[]`)."""

    LABEL = "type"
    name: str = spec_field("Type name, `schema.name` or `name` (public); columns and functions use it as "
                           "their `type:`.", key=True)
    enum: tuple[str, ...] = spec_field(
        "An enum type's values (labels), in their sort order. Plans add a new value in place (ALTER TYPE ... ADD "
        "VALUE, run before the plan's transaction so that the transaction may use it); PostgreSQL cannot drop or "
        "reorder values, so a plan refuses that.", ())
    renamed_values: tuple[ValueRename, ...] = spec_field(
        "For plans: values renamed, `new: old` (ALTER TYPE ... RENAME VALUE keeps the rows that hold it). Remove "
        "them once every database is migrated.", (), keyed=True)
    attributes: tuple[Attribute, ...] = spec_field(
        "A composite type's attributes in order, `name: type` (`{}`: none, which PostgreSQL allows). Plans add, "
        "drop (the values it held are lost) and retype them in place (ALTER TYPE ... ADD / DROP / ALTER "
        "ATTRIBUTE; PostgreSQL refuses a new attribute type while a table column uses the type).", (), keyed=True)
    domain: str | None = spec_field(
        "A domain's base type (CREATE DOMAIN name AS TYPE): `text`, `numeric(10, 2)`, another declared type. Plans "
        "change a base type only by dropping and creating a domain that nothing uses.")
    not_null: bool = spec_field("Domain: NOT NULL (a value of the domain is never null).", False)
    default: Sql | None = spec_field("Domain: DEFAULT, a SQL expression used by columns of the domain that have "
                                     "no default of their own, e.g. `'none'` or `now()`.")
    checks: tuple[DomainCheck, ...] = spec_field(
        "Domain: named CHECK constraints over `VALUE`, `name: expression` (`email_shape: \"VALUE ~ '@'\"`). Plans "
        "add (checking the existing values) and drop them.", (), keyed=True)
    collation: str | None = spec_field("Domain: COLLATE, for a text-like base type.")
    grants: tuple[Grant, ...] = spec_field(
        "Privileges on the type, `role: [usage]`. Given, they are the whole truth (PUBLIC's default USAGE is "
        "revoked unless listed as `public: [usage]`); not given, PostgreSQL's default: USAGE for PUBLIC.", (),
        keyed=True)
    comment: str | None = spec_field("COMMENT ON TYPE (or DOMAIN).")
    owner: str | None = spec_field(
        "Role owning the type (ALTER TYPE / DOMAIN ... OWNER TO; a declared role). Not given: whoever runs the SQL, "
        "which drift then leaves alone.")
    note: str | None = spec_field("Reviewer note, rendered as a SQL comment above the statement.")

    @property
    def kind(self) -> str:
        """enum, composite or domain: the first kind key written (check refuses a type with several, or none)."""
        written = [k for k in TYPE_KINDS if k in self.at]
        if written:
            return {"attributes": "composite"}.get(written[0], written[0])
        return "domain" if self.domain is not None else "composite" if self.attributes else "enum"

    @property
    def acl(self) -> tuple[Grant, ...]:
        """The privileges the type holds: its grants when given, otherwise PostgreSQL's default."""
        if "grants" in self.at:
            return self.grants
        return (Grant(role=TYPE_DEFAULT_GRANT[0], privileges=(TYPE_DEFAULT_GRANT[1],)),)


@dataclass(frozen=True)
class Sequence(Node):
    name: str = spec_field("Sequence name, `schema.name` or `name` (public).", key=True)
    type: Literal["smallint", "integer", "bigint"] = spec_field("Value type.", "bigint")
    start: int = spec_field("First value.", 1)
    increment: int = spec_field("Step.", 1)
    min_value: int | None = spec_field("MINVALUE (default: the type's).")
    max_value: int | None = spec_field("MAXVALUE (default: the type's).")
    cache: int = spec_field("Values preallocated per session.", 1)
    cycle: bool = spec_field("Wrap around at the limit.", False)
    owner: str | None = spec_field(
        "Role owning the sequence (ALTER ... OWNER TO; a declared role). Not given: whoever runs the SQL, which drift "
        "then leaves alone.")
    grants: tuple[Grant, ...] = spec_field("Privileges on the sequence.", (), keyed=True)
    comment: str | None = spec_field("COMMENT ON SEQUENCE.")
    owned_by: str | None = spec_field(
        "The column owning the sequence, `TABLE.COLUMN` (`schema.table.column`, or `table.column` in public): ALTER "
        "SEQUENCE ... OWNED BY, after the table. Dropping the table or the column drops the sequence. PostgreSQL's "
        "serial column is such a sequence plus the column's `default_sql: nextval('schema.seq'::regclass)`. The "
        "table must be in the sequence's schema and have its owner.")
    note: str | None = spec_field("Reviewer note, rendered as a SQL comment above the statement.")

    @property
    def owning_column(self) -> tuple[str, str] | None:
        """`owned_by:` as (table, column), the table as written (`schema.table` or `table`); None without it."""
        return owning_column(self.owned_by)


def owning_column(text: str | None) -> tuple[str, str] | None:
    """`schema.table.column` or `table.column` -> (table, column); None for None or a text without a dot."""
    if text is None:
        return None
    table, dot, column = text.rpartition(".")
    return (table, column) if dot and table else None


@dataclass(frozen=True)
class Argument(Node):
    name: str = spec_field("Argument name.", key=True)
    type: str = spec_field(
        "Argument type: a column's type (PostgreSQL discards its modifiers: varchar(10) is varchar), or a "
        "polymorphic one (anyelement, anyarray, anynonarray, anyenum, anyrange, anymultirange, anycompatible, "
        "anycompatiblearray, ...) that the call's types decide.", shorthand=True, required=True)
    default: Sql | None = spec_field(
        "DEFAULT: a SQL expression used when a call leaves the argument out, e.g. `10` or `'draft'` or `now()`. "
        "Every input argument after one with a default needs a default too (PostgreSQL's rule).")
    mode: Literal["in", "out", "inout", "variadic"] = spec_field(
        "in; out (a result column: one OUT argument is the result, several make `returns: record`); inout (both); "
        "variadic (the last input, an array type, taking any number of trailing arguments).", "in")

    @property
    def sql(self) -> str:
        """As CREATE FUNCTION spells it, without the default."""
        return ("" if self.mode == "in" else f"{self.mode.upper()} ") + f"{self.name} {self.type}"


@dataclass(frozen=True)
class Function(Node):
    name: str = spec_field(
        "Function name, `schema.name` or `name` (public). Overloads (one name, other argument types) are each "
        "keyed by their signature, `add(integer, integer)`: the types of the IN, INOUT and VARIADIC arguments, "
        "as `args:` gives them (spelled as you like: `int` is `integer`).", key=True)
    renamed_from: str | None = spec_field(
        "Former name, for plans: the database's object of that name is renamed (keeping its data, oid and "
        "dependants) instead of dropped and created. Remove it once every database is migrated.")
    args: tuple[Argument, ...] = spec_field("Arguments in order, `name: type`.", (), keyed=True)
    returns: str = spec_field(
        "Return type (`trigger` for trigger functions); `setof TYPE` for a set of rows of one column, "
        "`table(name type, ...)` for a set of rows with named columns. A polymorphic result needs an argument "
        "it can be resolved from (anyelement from anyarray, anyelement, ...).", required=True)
    language: Literal["sql", "plpgsql"] = spec_field("Body language.", "plpgsql")
    volatility: Literal["volatile", "stable", "immutable"] = spec_field("Volatility class.", "volatile")
    security: Literal["invoker", "definer"] = spec_field("SECURITY INVOKER or DEFINER.", "invoker")
    search_path: tuple[str, ...] | None = spec_field(
        "SET search_path for calls: a list of schemas, or one schema; `''` (or `[]`) pins it empty, so every name "
        "must be qualified.", one_or_many=True)
    strict: bool = spec_field("STRICT (RETURNS NULL ON NULL INPUT): not called when an argument is null.", False)
    leakproof: bool = spec_field(
        "LEAKPROOF: reveals nothing about its arguments but its result, so the planner may apply it before "
        "row-level security filters (setting it needs a superuser).", False)
    parallel: Literal["unsafe", "restricted", "safe"] = spec_field(
        "PARALLEL: whether parallel query may run it (safe), only in the leader (restricted), or not at all.",
        "unsafe")
    cost: int | None = spec_field("COST: estimated execution cost in units of cpu_operator_cost (default 100).")
    rows: int | None = spec_field("ROWS: estimated number of rows of a set-returning function (default 1000).")
    body: Sql = spec_field("Function body (without dollar quotes).", required=True)
    owner: str | None = spec_field(
        "Role owning the function (ALTER ... OWNER TO; a declared role). Not given: whoever runs the SQL, which drift "
        "then leaves alone.")
    grants: tuple[Grant, ...] = spec_field(
        "EXECUTE grants. Functions are not executable by PUBLIC unless granted here.", (), keyed=True
    )
    comment: str | None = spec_field("COMMENT ON FUNCTION.")
    note: str | None = spec_field("Reviewer note, rendered as a SQL comment above the statement.")
    lint: Lint | None = spec_field("Lint findings meant here, each with its reason: `{ignore: {RULE-ID: why}}`.")
    # The argument types of a key written as a signature (`add(integer, integer)`), as written; None for a bare
    # name. The name field holds the name alone. A spelling, not part of the function: not compared.
    signature: tuple[str, ...] | None = field(default=None, compare=False, repr=False, metadata={"internal": True})

    KIND = "function"  # the SQL keyword naming it (FUNCTION, PROCEDURE)

    @property
    def result(self) -> str | None:
        """RETURNS as written; None for a procedure, which has none."""
        return self.returns

    @property
    def inputs(self) -> tuple[Argument, ...]:
        """The arguments a call passes (all but OUT): they, not the OUT ones, identify the function."""
        return tuple(a for a in self.args if a.mode != "out")

    def __post_init__(self) -> None:
        # `search_path: ''` is the spelling of an empty path; one form, (), for every comparison downstream.
        if self.search_path == ("",):
            object.__setattr__(self, "search_path", ())
        name, paren, rest = self.name.partition("(")
        if paren and rest.rstrip().endswith(")"):  # a key written as a signature: the name, and its types
            object.__setattr__(self, "name", name.strip())
            object.__setattr__(self, "signature", split_types(rest.rstrip()[:-1]))


def split_types(text: str) -> tuple[str, ...]:
    """`integer, numeric(10, 2)` -> the types, split on the commas outside parentheses (empty text: none)."""
    parts, depth, start = [], 0, 0
    for i, char in enumerate(text):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "," and depth == 0:
            parts.append(text[start:i].strip())
            start = i + 1
    parts.append(text[start:].strip())
    return () if parts == [""] else tuple(parts)


def _fixed(value: Any) -> Any:
    """A field of Function a procedure does not have: not in its YAML, always `value`."""
    return field(default=value, metadata={"internal": True})


@dataclass(frozen=True)
class Procedure(Function):
    """A procedure (CREATE PROCEDURE), run by CALL: a function's fields without a result (no returns, volatility,
    strict, leakproof, parallel, cost or rows). It may COMMIT in its body when CALLed outside a transaction."""

    LABEL = "procedure"
    KIND = "procedure"
    name: str = spec_field(
        "Procedure name, `schema.name` or `name` (public); overloads keyed by signature as functions are. A "
        "procedure and a function cannot have one name and the same argument types.", key=True)
    args: tuple[Argument, ...] = spec_field(
        "Arguments in order, `name: type`; mode in, out (PostgreSQL 14+: CALL passes NULL for it and gets its "
        "value back), inout or variadic.", (), keyed=True)
    returns: str = _fixed("void")
    volatility: Literal["volatile", "stable", "immutable"] = _fixed("volatile")
    strict: bool = _fixed(False)
    leakproof: bool = _fixed(False)
    parallel: Literal["unsafe", "restricted", "safe"] = _fixed("unsafe")
    cost: int | None = _fixed(None)
    rows: int | None = _fixed(None)
    body: Sql = spec_field("Procedure body (without dollar quotes).", required=True)
    owner: str | None = spec_field(
        "Role owning the procedure (ALTER ... OWNER TO; a declared role). Not given: whoever runs the SQL, which "
        "drift then leaves alone.")
    grants: tuple[Grant, ...] = spec_field(
        "EXECUTE grants (who may CALL it). Procedures are not executable by PUBLIC unless granted here.", (),
        keyed=True)
    comment: str | None = spec_field("COMMENT ON PROCEDURE.")

    @property
    def result(self) -> str | None:
        return None


@dataclass(frozen=True)
class Identity(Node):
    """GENERATED {ALWAYS | BY DEFAULT} AS IDENTITY, with the options of the sequence PostgreSQL creates for it
    (`identity: always`, or `identity: {generated: by default, start: 1000}`)."""

    generated: Literal["always", "by default"] = spec_field(
        "`always`: PostgreSQL refuses a value given in INSERT or UPDATE (unless OVERRIDING SYSTEM VALUE); "
        "`by default`: a given value wins over the sequence.", shorthand=True, required=True)
    start: int | None = spec_field("START WITH (default: the minimum value, 1 going up).")
    increment: int | None = spec_field("INCREMENT BY (default 1).")
    min_value: int | None = spec_field("MINVALUE (default: 1 going up, the type's minimum going down).")
    max_value: int | None = spec_field("MAXVALUE (default: the type's maximum going up, -1 going down).")
    cache: int | None = spec_field("CACHE: values preallocated per session (default 1).")
    cycle: bool = spec_field("CYCLE: wrap around at the limit.", False)


# `type: serial` and its kin are sugar: the decoder writes them as this integer type with `identity: by default`
# (PostgreSQL's own serial, a sequence plus a nextval() default, is the legacy form; an identity column is what
# it recommends, and one column declares it whole).
SERIAL_TYPES = {"serial": "integer", "serial4": "integer", "bigserial": "bigint", "serial8": "bigint",
                "smallserial": "smallint", "serial2": "smallint"}


@dataclass(frozen=True)
class Column(Node):
    name: str = spec_field("Column name.", key=True)
    renamed_from: str | None = spec_field(
        "Former name, for plans: the database's object of that name is renamed (keeping its data, oid and "
        "dependants) instead of dropped and created. Remove it once every database is migrated.")
    type: str = spec_field("SQL type: text, varchar(n), integer, bigint, uuid, jsonb, timestamptz, text[], ..., "
                           "any built-in type of PostgreSQL's chapter 8 (timestamptz(3), time(3) with time zone, "
                           "interval(0), bit(8), varbit, money, tsvector, tsquery, macaddr, point, xml, pg_lsn, "
                           "regclass, int4multirange, ...), or "
                           "a type declared under `types:` (`ticket_status`, `app.mood[]`). `serial`, `bigserial` "
                           "and `smallserial` are sugar for integer, bigint and smallint with `identity: by "
                           "default` (not PostgreSQL's sequence plus nextval() default, which is a sequence with "
                           "`owned_by:` and this column's `default_sql:`): the database holds, and `verify` and "
                           "`import` read back, an identity column.",
                           required=True, shorthand=True)
    not_null: bool = spec_field("NOT NULL (implied by `primary_key` and `identity`).", False)
    default: Json | None = spec_field("Literal default value (string, number, boolean, or a mapping for json).")
    default_sql: Sql | None = spec_field("Default as a SQL expression, e.g. `now()` or `gen_random_uuid()`.")
    identity: Identity | None = spec_field(
        "Identity column on smallint, integer or bigint: `always` or `by default` (GENERATED ... AS IDENTITY), or "
        "a mapping with the sequence options, `{generated: always, start: 1000, increment: 1}`. NOT NULL implied; "
        "no `default`.")
    generated: Sql | None = spec_field(
        "Generated column: GENERATED ALWAYS AS (EXPR) STORED, computed from the row's other columns, e.g. "
        "`price * quantity`. No `default`, no `identity`, no other generated column in EXPR; the expression "
        "must be immutable. Seed rows leave it out.")
    collation: str | None = spec_field("COLLATE: the collation of a text-like column, e.g. `C` or `und-x-icu`.")
    primary_key: bool = spec_field("Single-column primary key (constraint TABLE_pkey).", False)
    unique: bool = spec_field("Single-column UNIQUE constraint (named TABLE_COLUMN_key).", False)
    references: str | None = spec_field(
        "Foreign key target `table(column)`, or `schema.table(column)` outside public (constraint TABLE_COLUMN_fkey).")
    on_delete: OnAction | None = spec_field("ON DELETE action of `references`.")
    on_update: OnAction | None = spec_field("ON UPDATE action of `references`.")
    enum: str | None = spec_field(
        "Checked value list (from `enums:`) this column is limited to: a CHECK (col IN (...)) on the column's own "
        "type, not an enum type (for that, declare it under `types:` and name it in `type:`).")
    enum_constraint: str | None = spec_field("Name of the value list's CHECK constraint (default: valid_COLUMN).")
    grants: tuple[Grant, ...] = spec_field(
        "Column privileges beside the table's, e.g. `authenticated: [update]` (GRANT UPDATE (col) ON TABLE ...): "
        "select, insert, update, references.", (), keyed=True)
    comment: str | None = spec_field("COMMENT ON COLUMN.")
    note: str | None = spec_field("Reviewer note, rendered as a SQL comment beside the column.")
    using: Sql | None = spec_field(
        "For plans: the expression converting old values when the type changes (ALTER COLUMN ... TYPE ... "
        "USING), e.g. `status::integer`. Without it PostgreSQL's assignment cast is used.")


# `deferrable:` of unique keys, foreign keys and exclusion constraints.
Deferrable = bool | Literal["initially deferred"]
DEFERRABLE_DOC = ("`true`: DEFERRABLE (checked at each statement's end unless SET CONSTRAINTS ... DEFERRED defers it "
                  "to the commit); `initially deferred`: DEFERRABLE INITIALLY DEFERRED (checked at commit unless "
                  "SET CONSTRAINTS ... IMMEDIATE); `false` (default): NOT DEFERRABLE.")
NOT_VALID_DOC = ("NOT VALID: rows written from now on are checked, the rows already there are not (added by ALTER "
                 "TABLE after CREATE TABLE, where PostgreSQL would validate it). Plans VALIDATE CONSTRAINT once it "
                 "goes.")


@dataclass(frozen=True)
class Check(Node):
    name: str = spec_field("Constraint name.", key=True)
    renamed_from: str | None = spec_field(
        "Former name, for plans: the database's object of that name is renamed (keeping its data, oid and "
        "dependants) instead of dropped and created. Remove it once every database is migrated.")
    expr: Sql = spec_field("Boolean SQL expression over the row.", shorthand=True, required=True)
    not_valid: bool = spec_field(NOT_VALID_DOC, False)
    note: str | None = spec_field("Reviewer note, rendered as a SQL comment.")


@dataclass(frozen=True)
class Unique(Node):
    name: str = spec_field("Constraint name.", key=True)
    renamed_from: str | None = spec_field(
        "Former name, for plans: the database's object of that name is renamed (keeping its data, oid and "
        "dependants) instead of dropped and created. Remove it once every database is migrated.")
    columns: tuple[str, ...] = spec_field("Columns, in order.", (), shorthand=True, required=True)
    nulls_not_distinct: bool = spec_field(
        "NULLS NOT DISTINCT: rows whose key columns are null count as equal (one such row only); by default each "
        "null differs from every other (PostgreSQL 15+).", False)
    deferrable: Deferrable = spec_field(DEFERRABLE_DOC, False)


@dataclass(frozen=True)
class PrimaryKey(Node):
    """A table's primary key: `primary_key: [a, b]`, or with options `primary_key: {columns: [a, b], name: ...}`."""

    LABEL = "primary key"
    columns: tuple[str, ...] = spec_field("Key columns, in order.", (), shorthand=True, required=True)
    name: str | None = spec_field(
        "Constraint name (default TABLE_pkey). Another name is what a database keeps after ALTER TABLE ... RENAME, "
        "which leaves the key's name as it was.")
    renamed_from: str | None = spec_field(
        "The constraint's former name, for plans: renamed (with its index) instead of dropped and added.")
    deferrable: Deferrable = spec_field(DEFERRABLE_DOC + " No foreign key can reference a deferrable key.", False)


@dataclass(frozen=True)
class ForeignKey(Node):
    LABEL = "foreign key"
    name: str = spec_field("Constraint name.", key=True)
    renamed_from: str | None = spec_field(
        "Former name, for plans: the database's object of that name is renamed (keeping its data, oid and "
        "dependants) instead of dropped and created. Remove it once every database is migrated.")
    columns: tuple[str, ...] = spec_field("Referencing columns.", (), required=True)
    references: str = spec_field("Target `table(col, ...)`.", required=True)
    on_delete: OnAction | None = spec_field("ON DELETE action.")
    on_update: OnAction | None = spec_field("ON UPDATE action.")
    deferrable: Deferrable = spec_field(DEFERRABLE_DOC, False)
    not_valid: bool = spec_field(NOT_VALID_DOC, False)
    note: str | None = spec_field("Reviewer note, rendered as a SQL comment.")


@dataclass(frozen=True)
class ExcludeElement(Node):
    """One element of an EXCLUDE constraint: a key and the operator two rows' keys are compared with."""

    LABEL = "exclude element"
    key: str = spec_field("Column (`room`, `room gist_int4_ops`) or an expression in parentheses.", key=True)
    operator: str = spec_field("Operator (`=`, `&&`, `OPERATOR(s.op)`), commutative, of the method's operator "
                               "class.", shorthand=True, required=True)


@dataclass(frozen=True)
class Exclude(Node):
    """EXCLUDE USING method (key WITH op, ...): no two rows whose keys all match under their operators."""

    LABEL = "exclusion constraint"
    name: str = spec_field("Constraint name.", key=True)
    renamed_from: str | None = spec_field(
        "Former name, for plans: the database's object of that name is renamed (keeping its data, oid and "
        "dependants) instead of dropped and created. Remove it once every database is migrated.")
    using: Literal["gist", "spgist", "btree", "hash"] = spec_field(
        "Index access method (gist for ranges; `=` on a scalar under gist needs the btree_gist extension).", "gist")
    elements: tuple[ExcludeElement, ...] = spec_field(
        "Keys in order, each with its operator: `{room: \"=\", during: \"&&\"}`.", (), keyed=True, required=True)
    where: Sql | None = spec_field("Predicate: only rows where it holds are compared.")
    deferrable: Deferrable = spec_field(DEFERRABLE_DOC, False)
    note: str | None = spec_field("Reviewer note, rendered as a SQL comment.")


@dataclass(frozen=True)
class Index(Node):
    name: str = spec_field("Index name (unique per schema).", key=True)
    renamed_from: str | None = spec_field(
        "Former name, for plans: the database's object of that name is renamed (keeping its data, oid and "
        "dependants) instead of dropped and created. Remove it once every database is migrated.")
    columns: tuple[str, ...] = spec_field(
        "Keys: `col`, or an expression in parentheses `(lower(email))`, each followed by what CREATE INDEX allows "
        "in this order: `COLLATE \"C\"`, an operator class (`text_pattern_ops`, `jsonb_path_ops`; the type's "
        "default, like the column's own collation, may be written or left out), `ASC`/`DESC`, "
        "`NULLS FIRST`/`NULLS LAST`.", (), shorthand=True, required=True,
    )
    include: tuple[str, ...] = spec_field(
        "INCLUDE: columns stored in the index without being keys (btree and gist), so that a query reading only "
        "them and the keys is an index-only scan.", ())
    method: Literal["btree", "gin", "gist", "hash", "brin"] = spec_field("Access method.", "btree")
    unique: bool = spec_field("UNIQUE index.", False)
    nulls_not_distinct: bool = spec_field(
        "NULLS NOT DISTINCT (unique indexes, PostgreSQL 15+): two rows whose keys are null count as equal, so only "
        "one may exist.", False)
    where: Sql | None = spec_field("Predicate of a partial index.")
    comment: str | None = spec_field("COMMENT ON INDEX.")
    note: str | None = spec_field("Reviewer note, rendered as a SQL comment.")
    lint: Lint | None = spec_field("Lint findings meant here, each with its reason: `{ignore: {RULE-ID: why}}`.")


TriggerEvent = Literal["insert", "update", "delete", "truncate"]
TriggerMode = Literal["origin", "always", "replica", "disabled"]


@dataclass(frozen=True)
class Referencing(Node):
    """Transition tables of an AFTER trigger (REFERENCING NEW TABLE AS ... OLD TABLE AS ...): every row the
    statement inserted, updated or deleted, readable by name in the trigger function."""

    LABEL = "referencing"
    new_table: str | None = spec_field("Name of the table of new rows (INSERT or UPDATE triggers).")
    old_table: str | None = spec_field("Name of the table of old rows (UPDATE or DELETE triggers).")


@dataclass(frozen=True)
class Trigger(Node):
    name: str = spec_field("Trigger name.", key=True)
    timing: Literal["before", "after", "instead of"] = spec_field(
        "When it fires; `instead of` only on views (FOR EACH ROW), in place of the view's INSERT, UPDATE or "
        "DELETE.", required=True)
    events: tuple[TriggerEvent, ...] = spec_field("Events that fire it.", (), required=True)
    columns: tuple[str, ...] = spec_field("UPDATE OF these columns only.", ())
    for_each: Literal["row", "statement"] = spec_field("FOR EACH ROW or STATEMENT.", "row")
    when: Sql | None = spec_field("WHEN condition (may use NEW/OLD).")
    function: str = spec_field("Trigger function (`schema.name` or `name`).", required=True)
    args: tuple[str, ...] = spec_field(
        "Arguments passed to the function, as text in its TG_ARGV array (`args: [audit, '3']`): one function can "
        "serve several triggers.", ())
    enabled: TriggerMode = spec_field(
        "When it fires, by session_replication_role (ALTER TABLE ... ENABLE / DISABLE TRIGGER): origin (the "
        "default: in normal sessions, not while replaying replication), always (also while replaying), replica "
        "(only while replaying, e.g. logical replication's apply worker), disabled (never). Plans change it in "
        "place.", "origin")
    constraint: bool = spec_field(
        "CREATE CONSTRAINT TRIGGER: an AFTER ... FOR EACH ROW trigger whose firing can be deferred to the end of "
        "the transaction (`deferrable`, SET CONSTRAINTS).", False)
    deferrable: bool = spec_field("Constraint triggers: DEFERRABLE (its firing may be deferred).", False)
    initially_deferred: bool = spec_field(
        "Constraint triggers: INITIALLY DEFERRED (fires at commit unless SET CONSTRAINTS says otherwise); implies "
        "`deferrable`.", False)
    referencing: Referencing | None = spec_field(
        "Transition tables (AFTER triggers of one event, not constraint triggers): "
        "`{new_table: newrows, old_table: oldrows}`.")
    comment: str | None = spec_field("COMMENT ON TRIGGER.")
    note: str | None = spec_field("Reviewer note, rendered as a SQL comment.")

    def __post_init__(self) -> None:
        # INITIALLY DEFERRED implies DEFERRABLE (PostgreSQL's rule); only an explicit `deferrable: false` refuses it.
        if self.initially_deferred and "deferrable" not in self.at:
            object.__setattr__(self, "deferrable", True)


@dataclass(frozen=True)
class Policy(Node):
    name: str = spec_field("Policy name (any text, unique per table).", key=True)
    renamed_from: str | None = spec_field(
        "Former name, for plans: the database's object of that name is renamed (keeping its data, oid and "
        "dependants) instead of dropped and created. Remove it once every database is migrated.")
    command: Literal["all", "select", "insert", "update", "delete"] = spec_field("Command it applies to.", "all")
    mode: Literal["permissive", "restrictive"] = spec_field("Permissive policies are OR-ed, restrictive AND-ed.",
                                                              "permissive")
    roles: tuple[str, ...] = spec_field("Roles it applies to.", (), required=True)
    using: Sql | None = spec_field("USING: which existing rows are visible / affected.")
    with_check: Sql | None = spec_field("WITH CHECK: which new rows may be written.")
    comment: str | None = spec_field("COMMENT ON POLICY.")
    note: str | None = spec_field("Reviewer note, rendered as a SQL comment.")
    lint: Lint | None = spec_field("Lint findings meant here, each with its reason: `{ignore: {RULE-ID: why}}`.")


@dataclass(frozen=True)
class SeedRow(Node):
    """One row of seed data: a mapping from column name to literal value (missing columns take DEFAULT)."""

    LABEL = "seed row"

    values: Mapping[str, Json] = field(default_factory=dict, metadata={"open": True, "doc": "Column values."})


AccessLevel = Literal["all", "own", "author", "tenant", "none"]
COMMANDS = ("select", "insert", "update", "delete")


@dataclass(frozen=True)
class Condition(Node):
    """A column (or a path through foreign keys, `ticket_id.priority`) and the values it must have."""

    path: str = spec_field("Column, or FK column followed by a column of the referenced table.", key=True)
    values: tuple[Json, ...] = spec_field("Allowed values (null allowed as a value).", (), shorthand=True,
                                          required=True)


@dataclass(frozen=True)
class AccessRule(Node):
    """Which rows (and columns) one actor may use with one command. Several rules for a command are OR-ed."""

    LABEL = "access rule"
    rows: tuple[AccessLevel, ...] = spec_field(
        "Row level(s), all of which must hold: all; own (the `own` path leads to the user); author (the `author` "
        "path leads to the user); tenant (the `tenant` path leads to a tenant of the user); none.",
        (), shorthand=True, required=True, one_or_many=True)
    when: tuple[Condition, ...] = spec_field("Further conditions on the (existing) row.", (), keyed=True)
    columns: tuple[str, ...] = spec_field("insert/update: the only columns the actor may set (empty: any).", ())
    values: tuple[Condition, ...] = spec_field("update: the values those columns may be set to.", (), keyed=True)


@dataclass(frozen=True)
class ActorAccess(Node):
    """One actor's intended access to a table or view, per command. Written `actor: none` for all commands."""

    LABEL = "actor"
    actor: str = spec_field("Actor name (declared under the module's `actors:`).", key=True)
    every: AccessLevel | None = spec_field("The level of every command not listed.", shorthand=True)
    select: tuple[AccessRule, ...] = spec_field("Rows the actor can read.", (), one_or_many=True)
    insert: tuple[AccessRule, ...] = spec_field("Rows the actor can insert.", (), one_or_many=True)
    update: tuple[AccessRule, ...] = spec_field("Rows (and columns) the actor can update.", (), one_or_many=True)
    delete: tuple[AccessRule, ...] = spec_field("Rows the actor can delete.", (), one_or_many=True)

    def rules(self, command: str) -> tuple[AccessRule, ...]:
        """The rules of one command; a command not listed takes `every` (none when that is not given)."""
        if command in self.at:
            return tuple(getattr(self, command))
        return (AccessRule(pos=self.pos, rows=(self.every or "none",)),)


@dataclass(frozen=True)
class Access(Node):
    """The intended access matrix of a table or view: a statement of intent, proven live against the policies.

    It is written independently of the policies and never used to generate them.
    """

    LABEL = "access"
    own: str | None = spec_field("Path to the owning user's id: a column, or `fk_column.column` through a foreign "
                                 "key (a message is the customer's when its ticket is: `ticket_id.customer_id`).")
    author: str | None = spec_field("Path to the id of the user who wrote the row (a message's user_id).")
    tenant: str | None = spec_field("Path to the row's tenant id, like `own`.")
    actors: tuple[ActorAccess, ...] = spec_field("Access per actor.", (), keyed=True, required=True)


@dataclass(frozen=True)
class Actor(Node):
    """Someone the access matrix speaks about, and the database role their requests run as."""

    name: str = spec_field("Actor name, used as a key in `access:`.", key=True)
    role: str = spec_field("Database role the actor's requests use (SET ROLE).", required=True, shorthand=True)
    comment: str | None = spec_field("Who this is.")


@dataclass(frozen=True)
class Partition(Node):
    """A partition of a partitioned table (CREATE TABLE ... PARTITION OF parent FOR VALUES ... | DEFAULT). It takes
    its columns, NOT NULL, CHECK, primary, unique and foreign keys, indexes and row triggers from its parent (the
    spec declares them there, once): a partition declares only what PostgreSQL keeps per partition and the spec can
    say without making partitions differ silently: its bounds, comment, owner, grants, and its own partitions."""

    LABEL = "partition"
    name: str = spec_field("Partition name, `schema.name` or `name` (in its parent's schema).", key=True)
    values: Sql | None = spec_field(
        "FOR VALUES bounds, of the parent's `partition_by` strategy: `from ('2026-01-01') to ('2027-01-01')` "
        "(range: lower bound included, upper excluded; MINVALUE / MAXVALUE allowed), `in ('open', 'closed')` "
        "(list), `with (modulus 4, remainder 0)` (hash). Plans change bounds with DETACH and ATTACH PARTITION.")
    default: bool = spec_field(
        "DEFAULT: the partition of the rows no other partition takes (range and list only; one per table).", False)
    partition_by: Sql | None = spec_field(
        "Sub-partitioning: this partition is itself partitioned, as a table's `partition_by`.")
    partitions: tuple[Partition, ...] = spec_field(
        "Its own partitions, when `partition_by` is given.", (), keyed=True)
    owner: str | None = spec_field(
        "Role owning the partition (ALTER ... OWNER TO; a declared role). Not given: whoever runs the SQL, which "
        "drift then leaves alone.")
    grants: tuple[Grant, ...] = spec_field(
        "Privileges on the partition itself (none by default: rows are read and written through the parent, whose "
        "grants and row-level security apply; a role granted here reaches the partition's rows without the "
        "parent's policies, which lint rule partition_bypasses_rls reports).", (), keyed=True)
    comment: str | None = spec_field("COMMENT ON TABLE.")
    note: str | None = spec_field("Reviewer note, rendered as a SQL comment above the statement.")


@dataclass(frozen=True)
class Table(Node):
    name: str = spec_field("Table name, `schema.name` or `name` (public).", key=True)
    renamed_from: str | None = spec_field(
        "Former name, for plans: the database's object of that name is renamed (keeping its data, oid and "
        "dependants) instead of dropped and created. Remove it once every database is migrated.")
    comment: str | None = spec_field("COMMENT ON TABLE.")
    note: str | None = spec_field("Reviewer note, rendered as a SQL comment above CREATE TABLE.")
    columns: tuple[Column, ...] = spec_field("Columns in order, `name: {type: ...}` or `name: type`.", (),
                                             keyed=True, required=True)
    primary_key: PrimaryKey | None = spec_field(
        "Primary key on the table's level: its columns (`[a, b]`), or `{columns: [...], name: ..., deferrable: ...}`"
        ". A one-column key of the default name and options is written on its column (`primary_key: true`).")
    unique: tuple[Unique, ...] = spec_field("Named UNIQUE constraints, `name: [cols]`.", (), keyed=True)
    foreign_keys: tuple[ForeignKey, ...] = spec_field("Named (composite) foreign keys.", (), keyed=True)
    checks: tuple[Check, ...] = spec_field("Named CHECK constraints, `name: expression`.", (), keyed=True)
    excludes: tuple[Exclude, ...] = spec_field(
        "Named EXCLUDE constraints, `name: {using: gist, elements: {room: \"=\", during: \"&&\"}}`.", (),
        keyed=True)
    indexes: tuple[Index, ...] = spec_field("Indexes, `name: {columns: [...]}`.", (), keyed=True)
    triggers: tuple[Trigger, ...] = spec_field("Triggers on this table.", (), keyed=True)
    unlogged: bool = spec_field(
        "UNLOGGED: not written to the write-ahead log (faster writes); the table is emptied after a crash and not "
        "replicated. Plans switch it with SET LOGGED/UNLOGGED, which rewrites the table.", False)
    partition_by: Sql | None = spec_field(
        "PARTITION BY: a partitioned table, `range (created_at)`, `list (region)` or `hash (id)` (keys are columns "
        "or expressions in parentheses, as PostgreSQL's PARTITION BY takes them). Its rows live in its "
        "`partitions:`; a primary key or unique constraint must include every key column. PostgreSQL cannot "
        "change a table's partitioning: a plan refuses that.")
    partitions: tuple[Partition, ...] = spec_field(
        "Partitions of a partitioned table, `name: {values: \"from (1) to (100)\"}` or `name: {default: true}`, "
        "created after it (CREATE TABLE ... PARTITION OF).", (), keyed=True)
    owner: str | None = spec_field(
        "Role owning the table (ALTER ... OWNER TO; a declared role). Not given: whoever runs the SQL, which drift "
        "then leaves alone.")
    rls: Literal["off", "enabled", "forced"] = spec_field(
        "Row-level security: enabled, or forced (applies to the table owner too).", "off"
    )
    policies: tuple[Policy, ...] = spec_field("RLS policies, keyed by name.", (), keyed=True)
    grants: tuple[Grant, ...] = spec_field("Table privileges per role.", (), keyed=True)
    seed: tuple[SeedRow, ...] = spec_field("Rows inserted when the schema is created.", ())
    access: Access | None = spec_field("Intended access per actor and command (proven by the live tests).")
    lint: Lint | None = spec_field("Lint findings meant here, each with its reason: `{ignore: {RULE-ID: why}}`.")


@dataclass(frozen=True)
class View(Node):
    name: str = spec_field("View name, `schema.name` or `name` (public).", key=True)
    renamed_from: str | None = spec_field(
        "Former name, for plans: the database's object of that name is renamed (keeping its data, oid and "
        "dependants) instead of dropped and created. Remove it once every database is migrated.")
    query: Sql = spec_field("The SELECT the view shows.", required=True)
    security_invoker: bool = spec_field(
        "Run with the caller's rights so RLS applies (PostgreSQL 15+). Default true; false needs a strong reason.",
        True,
    )
    security_barrier: bool = spec_field("Keep user functions from seeing rows before the view's filter.", False)
    check_option: Literal["local", "cascaded"] | None = spec_field(
        "WITH CHECK OPTION: rows written through the view must satisfy its WHERE (local), and those of the views "
        "it is built on (cascaded). Only for views PostgreSQL can update automatically.")
    owner: str | None = spec_field(
        "Role owning the view (ALTER ... OWNER TO; a declared role). Not given: whoever runs the SQL, which drift "
        "then leaves alone.")
    triggers: tuple[Trigger, ...] = spec_field(
        "Triggers on the view: INSTEAD OF ... FOR EACH ROW (making it writable), or BEFORE / AFTER ... FOR EACH "
        "STATEMENT.", (), keyed=True)
    grants: tuple[Grant, ...] = spec_field("Privileges on the view.", (), keyed=True)
    access: Access | None = spec_field("Intended access per actor (select) through the view.")
    comment: str | None = spec_field("COMMENT ON VIEW.")
    note: str | None = spec_field("Reviewer note, rendered as a SQL comment.")
    lint: Lint | None = spec_field("Lint findings meant here, each with its reason: `{ignore: {RULE-ID: why}}`.")


@dataclass(frozen=True)
class MaterializedView(Node):
    """CREATE MATERIALIZED VIEW: a query's rows stored as a table, read like one and indexed like one. Refreshing
    them (REFRESH MATERIALIZED VIEW) is the application's job, not the schema's: a plan creates them filled (or
    empty, `with_data: false`) and recreates them when the query changes."""

    LABEL = "materialized view"
    name: str = spec_field("Materialized view name, `schema.name` or `name` (public).", key=True)
    query: Sql = spec_field("The SELECT whose rows it stores.", required=True)
    with_data: bool = spec_field(
        "WITH DATA: run the query when created (true), or leave it unpopulated until the first REFRESH (false; "
        "reading it fails until then).", True)
    indexes: tuple[Index, ...] = spec_field(
        "Indexes, `name: {columns: [...]}`, as on a table; a unique index on plain columns allows REFRESH "
        "MATERIALIZED VIEW CONCURRENTLY (readers are not blocked).", (), keyed=True)
    grants: tuple[Grant, ...] = spec_field("Privileges on it, e.g. `authenticated: [select]`.", (), keyed=True)
    comment: str | None = spec_field("COMMENT ON MATERIALIZED VIEW.")
    owner: str | None = spec_field(
        "Role owning the materialized view (ALTER ... OWNER TO; a declared role); it refreshes it. Not given: "
        "whoever runs the SQL, which drift then leaves alone.")
    note: str | None = spec_field("Reviewer note, rendered as a SQL comment.")


@dataclass(frozen=True)
class RawSql(Node):
    """SQL the spec language cannot express yet (a publication, a statistics object, a rule, ...), kept as written:
    parsed by pglast, placed after what it depends on, checked by `verify`. PostgreSQL cannot say what arbitrary
    SQL created, so the database records each one applied in pgspec.raw_objects (a fingerprint of its parse
    tree): `verify --db` reports one missing or changed since applied, and plans run `drop` then `sql` again."""

    LABEL = "raw SQL object"
    name: str = spec_field("A name of your choosing, unique in the spec (recorded in pgspec.raw_objects).", key=True)
    sql: Sql = spec_field(
        "The statements, run as written (no transaction control, nothing PostgreSQL refuses inside a transaction "
        "block such as CREATE INDEX CONCURRENTLY or VACUUM).", shorthand=True, required=True)
    drop: Sql | None = spec_field(
        "Statements that remove what `sql` creates (`DROP PUBLICATION audit`): a plan runs them before `sql` when "
        "the SQL changed, and alone when the object leaves the spec. Without it a plan refuses to replace it.")
    depends_on: tuple[str, ...] = spec_field(
        "Spec objects it needs, created before it: a table, view, sequence, function or type (`schema.name` or "
        "`name`), or `schema NAME`, `extension NAME`, `role NAME`, `raw NAME`. Tables and functions its SQL names "
        "are found without it.", ())
    comment: str | None = spec_field("Why this is raw SQL (rendered as a SQL comment above it).")
    note: str | None = spec_field("Reviewer note, rendered as a SQL comment above the statements.")


@dataclass(frozen=True)
class Module(Node):
    """One spec file; it renders into the output file of the same name."""

    module: str = spec_field("Title of the module, shown in the output header.", required=True)
    description: str | None = spec_field("What the module is for.")
    platform: bool = spec_field(
        "Platform prelude (roles, auth schema, ...) that Supabase already provides: left out by --target supabase.",
        False,
    )
    roles: tuple[Role, ...] = spec_field("Database roles.", (), keyed=True)
    actors: tuple[Actor, ...] = spec_field("Actors of the access matrix (who uses the database, as which role).",
                                           (), keyed=True)
    schemas: tuple[SchemaDef, ...] = spec_field("Schemas other than public.", (), keyed=True)
    extensions: tuple[Extension, ...] = spec_field(
        "Extensions, `name: {schema: s}` or `name: {}` (CREATE EXTENSION IF NOT EXISTS), created right after the "
        "schemas and roles.", (), keyed=True)
    default_privileges: tuple[DefaultPrivileges, ...] = spec_field(
        "Default privileges, a list of `{schema: s, for_role: r, tables: {role: [select]}, functions: ...}` "
        "(ALTER DEFAULT PRIVILEGES), one per role and schema.", ())
    enums: tuple[ValueList, ...] = spec_field(
        "Checked value lists, `name: [a, b]`: a column naming one (`enum: name`) gets a CHECK (col IN (...)); not "
        "a type (for `CREATE TYPE ... AS ENUM` see `types:`).", (), keyed=True)
    types: tuple[TypeDef, ...] = spec_field(
        "Types the schema creates: `name: {enum: [a, b]}` (CREATE TYPE ... AS ENUM), `name: {attributes: {a: "
        "text}}` (a composite type), `name: {domain: text, checks: {...}}` (CREATE DOMAIN); used by name as a "
        "`type:`.",
        (), keyed=True)
    sequences: tuple[Sequence, ...] = spec_field("Sequences.", (), keyed=True)
    functions: tuple[Function, ...] = spec_field("Functions.", (), keyed=True)
    procedures: tuple[Procedure, ...] = spec_field(
        "Procedures (CREATE PROCEDURE, run by CALL), `name: {args: ..., body: ...}`; created with the functions.",
        (), keyed=True)
    tables: tuple[Table, ...] = spec_field("Tables with their constraints, indexes, triggers, RLS and policies.", (),
                                           keyed=True)
    views: tuple[View, ...] = spec_field("Views.", (), keyed=True)
    materialized_views: tuple[MaterializedView, ...] = spec_field(
        "Materialized views, `name: {query: ..., indexes: {...}}` (CREATE MATERIALIZED VIEW), created after what "
        "they select from; plans recreate one whose query changes. REFRESH MATERIALIZED VIEW is not part of a "
        "schema: the application (or a scheduled job) runs it.", (), keyed=True)
    raw: tuple[RawSql, ...] = spec_field(
        "Raw SQL for what the spec language cannot express, `name: {sql: ..., drop: ..., depends_on: [...]}`.", (),
        keyed=True)
    # The file as output headers name it (`spec/03-x.yaml`): independent of the directory the tool runs in.
    source: str = field(default="", compare=False, metadata={"internal": True})

    @property
    def stem(self) -> str:
        """File name without directory and extension: names the output file."""
        return self.source.rsplit("/", 1)[-1].rsplit(".", 1)[0]


@dataclass(frozen=True)
class Schema:
    """The whole spec: modules in file-name order."""

    modules: tuple[Module, ...]

    def all(self, kind: str) -> list[tuple[Module, Any]]:
        """Every top-level object of one kind (`tables`, `functions`, ...) with its module."""
        return [(m, obj) for m in self.modules for obj in getattr(m, kind)]
