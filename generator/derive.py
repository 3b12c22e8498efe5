"""What the model implies: resolved names, the full constraint list of a table, lookups by qualified name.

Pure functions of the model, shared by check, order, render and verify so each computes a constraint name or a
reference target the same way.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Literal, TypedDict

from .diagnostics import Pos
from .model import (
    BUILTIN_DEFAULTS,
    PRIVILEGE_ORDER,
    Check,
    Column,
    DefaultPrivileges,
    Exclude,
    Extension,
    ForeignKey,
    Function,
    Identity,
    MaterializedView,
    Module,
    RawSql,
    Role,
    Schema,
    SchemaDef,
    Sequence,
    Table,
    TypeDef,
    Unique,
    ValueList,
    View,
    split_types,
)
from .partitions import PartitionEntry, partitions_of
from .sqltext import (
    DEFAULT_SCHEMA,
    INDEX_KEY,
    QName,
    SqlType,
    TypeSyntaxError,
    fragment,
    ident,
    index_key_suffix,
    literal,
    parse_type,
    qname,
    unquote_ident,
)

# Roles every PostgreSQL database has, usable in grants and policies without being declared.
BUILTIN_ROLES = frozenset({"public"})
# Names as the spec writes them (unquoted, any characters but parentheses and, in columns, commas).
_REFERENCE = re.compile(r"\s*(?P<table>[^()]+?)\s*\(\s*(?P<cols>[^()]+?)\s*\)\s*\Z")


# Built-in types a column may give a collation (`collation:`); PostgreSQL refuses COLLATE on the others.
COLLATABLE_TYPES = frozenset({"text", "varchar", "char", "citext", "name"})
_INT_MAX = {"smallint": 2**15 - 1, "integer": 2**31 - 1, "bigint": 2**63 - 1}


def identity_bounds(identity: Identity, base: str) -> tuple[int, int]:
    """MINVALUE and MAXVALUE of an identity column's sequence, with PostgreSQL's defaults for those not given
    (1..type max going up, type min..-1 going down)."""
    top = _INT_MAX.get(base, _INT_MAX["bigint"])
    up = (identity.increment or 1) > 0
    low = identity.min_value if identity.min_value is not None else (1 if up else -top - 1)
    high = identity.max_value if identity.max_value is not None else (top if up else -1)
    return low, high


def identity_options(identity: Identity, base: str) -> tuple[int, int, int, int, int, bool]:
    """(start, increment, min, max, cache, cycle) as the database holds them: every default filled in, so that a
    spec that writes a default and one that leaves it out compare equal."""
    low, high = identity_bounds(identity, base)
    increment = identity.increment or 1
    start = identity.start if identity.start is not None else (low if increment > 0 else high)
    return start, increment, low, high, identity.cache or 1, identity.cycle


def identity_from_options(generated: Literal["always", "by default"], base: str,
                          options: tuple[int, int, int, int, int, bool]) -> Identity:
    """The spec's Identity for a database's sequence options: only those differing from PostgreSQL's defaults."""
    start, increment, low, high, cache, cycle = options
    d_low, d_high = identity_bounds(Identity(generated=generated, increment=increment), base)
    return Identity(generated=generated, increment=increment if increment != 1 else None,
                    min_value=low if low != d_low else None, max_value=high if high != d_high else None,
                    start=start if start != (low if increment > 0 else high) else None,
                    cache=cache if cache != 1 else None, cycle=cycle)


def identity_sql(identity: Identity) -> str:
    """`GENERATED ALWAYS AS IDENTITY (START WITH 1000)`: the options written in the spec, in PostgreSQL's order."""
    options = [f"{word} {value}" for word, value in (
        ("START WITH", identity.start), ("INCREMENT BY", identity.increment), ("MINVALUE", identity.min_value),
        ("MAXVALUE", identity.max_value), ("CACHE", identity.cache)) if value is not None]
    options += ["CYCLE"] if identity.cycle else []
    return f"GENERATED {identity.generated.upper()} AS IDENTITY" + (f" ({' '.join(options)})" if options else "")


def column_clauses(column: Column) -> str:
    """What follows a column's type in CREATE TABLE and ADD COLUMN, before DEFAULT and NOT NULL: its collation,
    identity or generation expression (empty for a plain column, so existing output keeps its bytes)."""
    out = ""
    if column.collation is not None:
        out += f" COLLATE {ident(column.collation)}"
    if column.identity is not None:
        out += " " + identity_sql(column.identity)
    if column.generated is not None:
        out += f" GENERATED ALWAYS AS ({fragment(column.generated, 8)}) STORED"
    return out


def index_key_sql(key: str) -> str:
    """One index key as the output writes it: a column quoted as needed, or an expression, followed by its
    collation, operator class, order and NULLS placement (sqltext.index_key_suffix); a key outside the grammar
    (check refuses it) as a fragment."""
    m = INDEX_KEY.match(key.strip())
    if not m:
        return fragment(key)
    head = f"({fragment(m['expr'])})" if m["expr"] is not None else ident(unquote_ident(m["col"]))
    return " ".join(filter(None, (head, index_key_suffix(m))))


def identity_type(text: str) -> str:
    """An argument type as a function's identity holds it: canonical spelling, without a length or precision
    (PostgreSQL ignores them there: `varchar(10)` is `varchar`); text it cannot parse, as written (check says why)."""
    try:
        parsed = parse_type(text)
    except TypeSyntaxError:
        return " ".join(text.lower().split())
    return str(SqlType(parsed.base, (), parsed.array_dims))


def function_id(name: QName, types: tuple[str, ...]) -> str:
    """A function's (or procedure's) identity as one text, `public.add(integer, integer)`: its order key, and
    what DROP FUNCTION names."""
    return f"{name}({', '.join(identity_type(t) for t in types)})"


def routine_id(function: Function) -> str:
    """The identity of a declared function or procedure: its name and the types of its IN, INOUT and VARIADIC
    arguments."""
    return function_id(qname(function.name), tuple(a.type for a in function.inputs))


def routine_label(function: Function) -> str:
    """How messages name a function: `public.add(integer, integer)` (its identity)."""
    return f"{function.KIND} {routine_id(function)}"


class ReferenceSyntaxError(ValueError):
    pass


def parse_reference(text: str) -> tuple[QName, tuple[str, ...]]:
    """`schema.table(col, ...)` -> (table, columns)."""
    m = _REFERENCE.match(text)
    if not m:
        raise ReferenceSyntaxError(f"{text!r} is not of the form table(column, ...)")
    return qname(m["table"]), tuple(c.strip() for c in m["cols"].split(","))


@dataclass(frozen=True)
class Constraint:
    """A table constraint, whether declared on the table or implied by a column (`primary_key: true`, ...)."""

    name: str
    kind: str  # "primary key" | "unique" | "foreign key" | "check" | "exclude"
    columns: tuple[str, ...]
    pos: Pos
    ref_text: str | None = None  # foreign keys: the target as written
    on_delete: str | None = None
    on_update: str | None = None
    expr: str | None = None  # checks
    note: str | None = None
    renamed_from: str | None = None  # plans: the constraint's former name
    deferrable: bool = False  # unique, foreign key, exclude
    deferred: bool = False  # INITIALLY DEFERRED (deferrable too)
    not_valid: bool = False  # check, foreign key
    nulls_not_distinct: bool = False  # unique
    using: str | None = None  # exclude: the index access method
    elements: tuple[tuple[str, str], ...] = ()  # exclude: (key, operator) as written
    where: str | None = None  # exclude: the predicate

    @property
    def deferral(self) -> str:
        """The clauses after the constraint's body: ` DEFERRABLE`, ` DEFERRABLE INITIALLY DEFERRED` or ''."""
        return (" DEFERRABLE" if self.deferrable else "") + (" INITIALLY DEFERRED" if self.deferred else "")

    @property
    def elements_sql(self) -> str:
        """An exclusion constraint's elements as SQL: `room WITH =, during WITH &&`."""
        return ", ".join(f"{index_key_sql(key)} WITH {op.strip()}" for key, op in self.elements)

    @property
    def reference(self) -> tuple[QName, tuple[str, ...]]:
        assert self.ref_text is not None
        return parse_reference(self.ref_text)


@dataclass(frozen=True)
class DefaultAcl:
    """One ALTER DEFAULT PRIVILEGES action: GRANT/REVOKE privileges ON kind TO/FROM a role."""

    grant: bool
    privileges: tuple[str, ...]
    kind: str  # tables, sequences, functions, types
    role: str

    def sql(self) -> str:
        privileges = ", ".join(p.upper() for p in self.privileges)
        role = "PUBLIC" if self.role == "public" else ident(self.role)
        return (f"GRANT {privileges} ON {self.kind.upper()} TO {role}" if self.grant
                else f"REVOKE {privileges} ON {self.kind.upper()} FROM {role}")


def default_acls(defaults: DefaultPrivileges) -> list[DefaultAcl]:
    """What the entry's statements do, kind by kind: in the global defaults, the built-in default (PUBLIC's
    EXECUTE on functions, USAGE on types) revoked unless the entry keeps it; then each role's grants."""
    out: list[DefaultAcl] = []
    for kind in defaults.stated():
        grants = sorted(getattr(defaults, kind), key=lambda g: g.role)
        builtin = BUILTIN_DEFAULTS.get(kind) if defaults.schema is None else None
        if builtin is not None and not any(g.role == builtin[0] and {builtin[1], "all"} & set(g.privileges)
                                           for g in grants):
            out.append(DefaultAcl(False, (builtin[1],), kind, builtin[0]))
        out += [DefaultAcl(True, tuple(sorted(g.privileges, key=PRIVILEGE_ORDER.index)), kind, g.role)
                for g in grants if g.privileges]
    return out


def enum_check(column: Column, enum: ValueList) -> str:
    values = ", ".join(literal(v) for v in enum.values)
    return f"{ident(column.name)} IN ({values})"  # quoted when a keyword: `user IN` would mean CURRENT_USER


def constraints(table: Table, enums: dict[str, ValueList]) -> list[Constraint]:
    """All constraints of a table in rendering order: primary key, unique, foreign keys, checks, exclusions."""
    base = qname(table.name).name
    out: list[Constraint] = []
    pk_cols = tuple(c.name for c in table.columns if c.primary_key)
    if pk_cols:
        pk_pos = next(c.loc("primary_key") for c in table.columns if c.primary_key)
        out.append(Constraint(f"{base}_pkey", "primary key", pk_cols, pk_pos))
    elif (pk := table.primary_key) is not None:
        out.append(Constraint(pk.name or f"{base}_pkey", "primary key", pk.columns, pk.pos,
                              renamed_from=pk.renamed_from, **_deferrable(pk.deferrable)))
    out += [Constraint(f"{base}_{c.name}_key", "unique", (c.name,), c.loc("unique"))
            for c in table.columns if c.unique]
    # Table-level constraints in name order: where in the YAML mapping one was written must not change the output.
    out += [Constraint(u.name, "unique", u.columns, u.pos, renamed_from=u.renamed_from,
                       nulls_not_distinct=u.nulls_not_distinct, **_deferrable(u.deferrable))
            for u in sorted(table.unique, key=_name)]
    out += [Constraint(f"{base}_{c.name}_fkey", "foreign key", (c.name,), c.loc("references"), c.references,
                       c.on_delete, c.on_update) for c in table.columns if c.references]
    out += [Constraint(fk.name, "foreign key", fk.columns, fk.pos, fk.references, fk.on_delete, fk.on_update,
                       note=fk.note, renamed_from=fk.renamed_from, not_valid=fk.not_valid,
                       **_deferrable(fk.deferrable)) for fk in sorted(table.foreign_keys, key=_name)]
    for c in table.columns:
        if c.enum and c.enum in enums:
            out.append(Constraint(c.enum_constraint or f"valid_{c.name}", "check", (c.name,), c.loc("enum"),
                                  expr=enum_check(c, enums[c.enum])))
    out += [Constraint(ch.name, "check", (), ch.pos, expr=ch.expr, note=ch.note, renamed_from=ch.renamed_from,
                       not_valid=ch.not_valid) for ch in sorted(table.checks, key=_name)]
    out += [Constraint(x.name, "exclude", (), x.pos, note=x.note, renamed_from=x.renamed_from, using=x.using,
                       where=x.where, elements=tuple((e.key, e.operator) for e in x.elements),
                       **_deferrable(x.deferrable))
            for x in sorted(table.excludes, key=_name)]
    return out


class _Deferral(TypedDict):
    deferrable: bool
    deferred: bool


def _deferrable(value: bool | str) -> _Deferral:
    """`deferrable:` as the constraint's two flags: `true` DEFERRABLE, `initially deferred` both."""
    return {"deferrable": bool(value), "deferred": value == "initially deferred"}


# The schema and table where generated SQL and plans record which rows are seed rows (see `seed_key`).
SEED_REGISTRY_SCHEMA = "pgspec"


# The table where generated SQL and plans record the raw SQL objects applied (see RawSql).
RAW_REGISTRY_TABLE = "raw_objects"
# The kinds a raw SQL object's `depends_on` entry may name with a word before the name.
RAW_DEPENDENCY_KINDS = ("schema", "extension", "role", "raw")


def seed_key(table: Table, constraints: list[Constraint]) -> tuple[str, ...]:
    """The columns that identify a table's seed rows: the first primary key or unique constraint whose columns
    every seed row gives; failing that, every column the rows give (a changed row is then a new row)."""
    given = [set(row.values) for row in table.seed]
    for con in constraints:
        if con.kind in ("primary key", "unique") and all(set(con.columns) <= g for g in given):
            return con.columns
    return tuple(c.name for c in table.columns if any(c.name in g for g in given))


def seed_key_text(values: Mapping[str, object], key: tuple[str, ...]) -> str:
    """A seed row's key as recorded (JSON text, keys sorted): the same text from a spec row and from the
    registry's jsonb read back."""
    return json.dumps({k: values.get(k) for k in key}, sort_keys=True, default=str, separators=(",", ":"))


def seed_fingerprint(values: Mapping[str, object]) -> str:
    """Every value a seed row gives, as one text: two rows with the same fingerprint are the same row."""
    return json.dumps(dict(values), sort_keys=True, default=str, separators=(",", ":"))


def _name(obj: Unique | ForeignKey | Check | Exclude) -> str:
    return obj.name


class Catalog:
    """Lookups over the whole spec by qualified name; the first definition wins (duplicates are check errors)."""

    def __init__(self, schema: Schema) -> None:
        self.schema = schema
        # check, order, render, verify and lint each ask for every table's constraints: derived once per table.
        self._constraints: dict[int, tuple[Table, list[Constraint]]] = {}

    def _index(self, kind: str) -> dict[QName, tuple[Module, object]]:
        out: dict[QName, tuple[Module, object]] = {}
        for module, obj in self.schema.all(kind):
            out.setdefault(qname(obj.name), (module, obj))
        return out

    @cached_property
    def tables(self) -> dict[QName, Table]:
        return {k: v for k, (_, v) in self._index("tables").items() if isinstance(v, Table)}

    @cached_property
    def partitions(self) -> dict[QName, PartitionEntry]:
        """Every partition of every table, parents before their own partitions."""
        out: dict[QName, PartitionEntry] = {}
        for table in self.tables.values():
            for entry in partitions_of(table):
                out.setdefault(entry.name, entry)
        return out

    @cached_property
    def views(self) -> dict[QName, View]:
        return {k: v for k, (_, v) in self._index("views").items() if isinstance(v, View)}

    @cached_property
    def matviews(self) -> dict[QName, MaterializedView]:
        return {k: v for k, (_, v) in self._index("materialized_views").items() if isinstance(v, MaterializedView)}

    @cached_property
    def functions(self) -> dict[QName, Function]:
        return {k: v for k, (_, v) in self._index("functions").items() if isinstance(v, Function)}

    @cached_property
    def routines(self) -> dict[str, Function]:
        """Every function and procedure by identity (routine_id); the first definition wins (a second is a check
        error)."""
        out: dict[str, Function] = {}
        for kind in ("functions", "procedures"):
            for _, fn in self.schema.all(kind):
                out.setdefault(routine_id(fn), fn)
        return out

    @cached_property
    def overloads(self) -> dict[QName, list[Function]]:
        """The functions and procedures of each name, in identity order."""
        out: dict[QName, list[Function]] = {}
        for key in sorted(self.routines):
            fn = self.routines[key]
            out.setdefault(qname(fn.name), []).append(fn)
        return out

    def routine(self, text: str) -> Function | str:
        """The function or procedure a reference names: `name` or `schema.name` when the name is not overloaded,
        else `name(type, ...)` (the types of its IN, INOUT and VARIADIC arguments). A message saying why when it
        names none (unknown, or ambiguous)."""
        name, paren, rest = text.partition("(")
        candidates = self.overloads.get(qname(name.strip()), [])
        if paren:
            if not rest.rstrip().endswith(")"):
                return f"{text!r} is not of the form name or name(type, ...)"
            wanted = function_id(qname(name.strip()), split_types(rest.rstrip()[:-1]))
            found = self.routines.get(wanted)
            if found is None:
                known = ", ".join(routine_id(f) for f in candidates)
                return f"no function {wanted}" + (f" (declared: {known})" if known else "")
            return found
        if not candidates:
            return f"unknown function {text}"
        if len(candidates) > 1:
            return (f"{text} is overloaded: name one of {', '.join(routine_id(f) for f in candidates)}")
        return candidates[0]

    def routine_key(self, fn: Function) -> tuple[str, str]:
        """The order key (order.py) of a function or procedure."""
        return ("function", routine_id(fn))

    @cached_property
    def sequences(self) -> dict[QName, Sequence]:
        return {k: v for k, (_, v) in self._index("sequences").items() if isinstance(v, Sequence)}

    @cached_property
    def types(self) -> dict[QName, TypeDef]:
        return {k: v for k, (_, v) in self._index("types").items() if isinstance(v, TypeDef)}

    @cached_property
    def extensions(self) -> dict[str, Extension]:
        out: dict[str, Extension] = {}
        for _, e in self.schema.all("extensions"):
            out.setdefault(e.name, e)
        return out

    @cached_property
    def raw(self) -> dict[str, RawSql]:
        out: dict[str, RawSql] = {}
        for _, r in self.schema.all("raw"):
            out.setdefault(r.name, r)
        return out

    def raw_dependency(self, text: str) -> tuple[str, str] | None:
        """The spec object a raw SQL object's `depends_on` entry names, as an order key (kind, identity): `KIND
        NAME` for a schema, extension, role or raw object, else a table, view, sequence, function or type by
        (qualified) name. None when the spec has no such object."""
        words = text.split()
        if len(words) == 2 and words[0] in RAW_DEPENDENCY_KINDS:
            known: dict[str, Mapping[str, object]] = {"schema": self.schemas, "extension": self.extensions,
                                                      "role": self.roles, "raw": self.raw}
            return (words[0], words[1]) if words[1] in known[words[0]] else None
        name = qname(text.strip())
        relations: tuple[tuple[str, Mapping[QName, object]], ...] = (
            ("table", self.tables), ("view", self.views), ("sequence", self.sequences), ("type", self.types))
        found = next(((kind, str(name)) for kind, objects in relations if name in objects), None)
        if found is None and ("(" in text or name in self.overloads):
            routine = self.routine(text.strip())  # a function or procedure, by signature where overloaded
            return self.routine_key(routine) if isinstance(routine, Function) else None
        return found

    def raw_dependency_names(self) -> list[str]:
        """Every name a `depends_on` entry may give (for did-you-mean)."""
        qualified = [n for kind in (self.tables, self.views, self.sequences, self.types) for n in kind]
        qualified += [n for n, fns in self.overloads.items() if len(fns) == 1]
        names = [str(n) for n in qualified] + [n.name for n in qualified if n.schema == DEFAULT_SCHEMA]
        names += [routine_id(f) for fns in self.overloads.values() if len(fns) > 1 for f in fns]
        names += [f"schema {n}" for n in self.schemas if n != DEFAULT_SCHEMA]
        names += [f"{kind} {n}" for kind, objects in (("extension", self.extensions), ("role", self.roles),
                                                       ("raw", self.raw)) for n in objects]
        return names

    @cached_property
    def default_privileges(self) -> dict[tuple[str | None, str | None], DefaultPrivileges]:
        """Default privileges by (for_role, schema); None for the role running the SQL, or every schema."""
        out: dict[tuple[str | None, str | None], DefaultPrivileges] = {}
        for _, d in self.schema.all("default_privileges"):
            out.setdefault((d.for_role, d.schema), d)
        return out

    @cached_property
    def extension_schemas(self) -> frozenset[str]:
        """Schemas holding a declared extension's objects: a type or function there that the spec does not
        declare may be the extension's (PostgreSQL judges it). Without `schema:` an extension goes to public."""
        return frozenset(e.schema or DEFAULT_SCHEMA for e in self.extensions.values())

    @cached_property
    def enums(self) -> dict[str, ValueList]:
        out: dict[str, ValueList] = {}
        for _, e in self.schema.all("enums"):
            out.setdefault(e.name, e)
        return out

    @cached_property
    def roles(self) -> dict[str, Role]:
        out: dict[str, Role] = {}
        for _, r in self.schema.all("roles"):
            out.setdefault(r.name, r)
        return out

    @cached_property
    def schemas(self) -> dict[str, SchemaDef | None]:
        out: dict[str, SchemaDef | None] = {DEFAULT_SCHEMA: None}
        for _, s in self.schema.all("schemas"):
            out.setdefault(s.name, s)
        return out

    def relation_columns(self, name: QName) -> list[str] | None:
        """Column names of a table (views are opaque here: None)."""
        table = self.tables.get(name)
        return [c.name for c in table.columns] if table else None

    def constraints(self, table: Table) -> list[Constraint]:
        known = self._constraints.get(id(table))
        if known is None or known[0] is not table:  # the table itself is kept, so its id is not reused
            known = self._constraints[id(table)] = (table, constraints(table, self.enums))
        return list(known[1])

    def resolve_function(self, schema: str | None, name: str) -> QName | None:
        """A call `schema.name(...)` or `name(...)` (search_path public) -> a declared function, if it is one."""
        key = QName(schema or DEFAULT_SCHEMA, name)
        return key if key in self.overloads else None

    def resolve_relation(self, schema: str | None, name: str) -> QName | None:
        key = QName(schema or DEFAULT_SCHEMA, name)
        return key if key in self.tables or key in self.views or key in self.sequences or key in self.matviews \
            or key in self.partitions else None
