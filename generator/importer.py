"""`pgspec import`: write a readable spec from a live database.

introspect (the catalog read back into model objects, as `verify --db` reads it) -> modules (one per schema, or
per group of tables joined by foreign keys with --split) -> YAML as a person would write it: keys whose value is
the model's default are left out, one-column keys and references are written on the column when their names are
the ones the spec would give them, short mappings in flow style, objects in name order, comments as `comment:`.

Writers form a registry keyed by model class, one per kind, like the other stages; a kind with no writer raises.
Most kinds are written field by field from the model's declarations (:func:`fields`), so a field added to the
model is imported without a change here.

Nothing is left out silently: what the catalog holds in the chosen schemas that the spec language cannot say is
read by two data-driven queries (``sql/unmodelled.sql``, whole objects; ``sql/import_unsupported.sql``,
properties of objects the spec does model) and reported, one line per object. When the spec language learns a
kind, its row leaves those queries and its writer joins the registry.

Seed rows are data, not schema: they are not imported. The access matrix is a statement of intent that the live
tests prove against the policies, so it cannot be derived from the policies without proving them by themselves:
the imported spec declares no `actors:`, which is how a spec says it has no matrix yet (`check` requires one per
RLS table only once actors are declared).
"""

from __future__ import annotations

import argparse
import dataclasses
import re
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import yaml

from . import introspect
from .check import BOOTSTRAP_SUPERUSER, check
from .decode import key_field, shorthand_field, spec_fields
from .derive import function_id, identity_type, routine_id
from .diagnostics import SpecError
from .editorschema import modeline
from .introspect import DatabaseError, Snapshot
from .jsonschema import json_schema_text
from .load import SPEC_SUFFIXES, display_path, load_spec
from .model import (
    DEFAULT_PRIVILEGE_KINDS,
    PRIVILEGE_ORDER,
    Argument,
    Attribute,
    Check,
    Column,
    DefaultPrivileges,
    DomainCheck,
    Exclude,
    ExcludeElement,
    Extension,
    ForeignKey,
    Function,
    Grant,
    Identity,
    Index,
    MaterializedView,
    Module,
    Node,
    Partition,
    Policy,
    PrimaryKey,
    Procedure,
    Referencing,
    Role,
    SchemaDef,
    Sequence,
    Table,
    Trigger,
    TypeDef,
    Unique,
    View,
    split_types,
)
from .output import write_text_atomically
from .partitions import walk_partitions
from .report import emit, spec_error_records
from .sqltext import DEFAULT_SCHEMA, QName, qname

if TYPE_CHECKING:
    pass

EXIT_OK, EXIT_INCOMPLETE, EXIT_USAGE = 0, 1, 2
R = TypeVar("R", bound=Function)
# Schemas of PostgreSQL itself, never imported unless named with --schema.
# The queries naming what the spec language cannot say (kind, name[, detail]).
UNSUPPORTED_QUERIES = ("unmodelled", "import_unsupported")
SCHEMA_FILE = "spec.schema.json"  # beside the spec directory, as `pgspec init` lays a project out
FLOW_WIDTH = 100
# Module fields holding objects with grants -> the ACL kind whose "all privileges" they use.
# kinds with `owner:` (partitions are handled with their tables)
OWNER_HOLDERS = ("schemas", "sequences", "functions", "procedures", "tables", "views", "types", "materialized_views")
GRANT_HOLDERS = {"schemas": "schema", "sequences": "sequence", "functions": "function", "procedures": "function",
                 "tables": "table",
                 "types": "type",
                 "views": "table"}  # a mapping of scalars up to this many characters is written on one line


# -- what the database holds -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Unsupported:
    kind: str
    name: str
    detail: str | None = None

    def line(self) -> str:
        return f"{self.kind} {self.name}" + (f" ({self.detail})" if self.detail else "")


@dataclass(frozen=True)
class Imported:
    snapshot: Snapshot
    module: Module  # the snapshot's objects as the spec can write them (grants in its words)
    roles: tuple[Role, ...]
    unsupported: tuple[Unsupported, ...]


def referenced_roles(module: Module) -> list[str]:
    """The roles the spec's grants and policies name (roles are cluster-wide: only these are the spec's)."""
    names: set[str] = set()
    holders: list[Any] = [*module.schemas, *module.sequences, *module.functions, *module.procedures, *module.tables,
                          *module.views, *module.types, *module.materialized_views]
    for obj in holders:
        names.update(g.role for g in obj.grants)
        names.update([obj.owner] if obj.owner and obj.owner != BOOTSTRAP_SUPERUSER else [])
    for table in module.tables:
        for policy in table.policies:
            names.update(policy.roles)
        for partition in walk_partitions(table.partitions):
            names.update(g.role for g in partition.grants)
            names.update([partition.owner] if partition.owner and partition.owner != BOOTSTRAP_SUPERUSER else [])
    for defaults in module.default_privileges:
        names.update(g.role for kind in DEFAULT_PRIVILEGE_KINDS for g in getattr(defaults, kind))
    return sorted(names - {"public"})


def read(dsn: str, schemas: list[str] | None) -> Imported:
    import psycopg

    with introspect.connect(dsn) as conn:
        chosen = schemas or introspect.user_schemas(conn)
        snapshot = introspect.read(conn, chosen)
        module, foreign_owners = owned_by_others(snapshot.module, snapshot.user)
        try:
            roles = conn.execute(introspect.query("roles"), {"roles": referenced_roles(module)}).fetchall()
            unsupported = [Unsupported(*row) for kind in UNSUPPORTED_QUERIES
                           for row in conn.execute(introspect.query(kind), {"schemas": chosen}).fetchall()]
        except psycopg.Error as exc:
            raise DatabaseError(introspect.one_line(exc)) from None
    # A property row with nothing to say (concat_ws of no flags) is no finding.
    unsupported = [u for u in unsupported if u.detail != ""] + foreign_owners

    def each(fn: Callable[[Any, str], Any]) -> Module:
        changes: dict[str, Any] = {kind: tuple(fn(o, acl) for o in getattr(module, kind))
                                   for kind, acl in GRANT_HOLDERS.items()}
        return dataclasses.replace(module, **changes)

    module = each(lambda obj, acl: spec_grants(obj, snapshot.all_privileges.get(acl, ())))
    unsupported += named_privileges(o for kind in GRANT_HOLDERS for o in getattr(module, kind))
    module = each(lambda obj, acl: drop_unnamed_privileges(obj))
    module, partition_findings = spec_partitions(module, snapshot)
    unsupported += partition_findings
    return Imported(snapshot, module,
                    tuple(Role(name=n, login=login, bypass_rls=bypass) for n, login, bypass in roles),
                    tuple(unsupported))


def owned_by_others(module: Module, user: str | None) -> tuple[Module, list[Unsupported]]:
    """Owners as the spec writes them: only where the owner is not the importing user. The generated SQL makes
    whoever runs it the owner of what it creates, as the importing user is of what it owns, so an owner is written
    down only where it is another role (which the spec then declares). A role of PostgreSQL's own (`pg_*`) cannot
    be declared: such an owner is reported."""
    unsupported: list[Unsupported] = []

    def mine(obj: Any) -> Any:
        # public exists in every database (owned by pg_database_owner since PostgreSQL 15): the spec cannot declare it
        if obj.owner == user or obj.name == DEFAULT_SCHEMA:
            return dataclasses.replace(obj, owner=None)
        if obj.owner is not None and obj.owner.startswith("pg_"):
            unsupported.append(Unsupported("owner", str(obj.name), obj.owner))
            return dataclasses.replace(obj, owner=None)
        return obj

    changes: dict[str, Any] = {kind: tuple(mine(o) for o in getattr(module, kind)) for kind in OWNER_HOLDERS}
    return dataclasses.replace(module, **changes), unsupported


def spec_partitions(module: Module, snapshot: Snapshot) -> tuple[Module, list[Unsupported]]:
    """Partitions as the spec writes them: owners and grants as for tables (an owner only when another role's,
    ALL for every privilege), and, reported, what a partition holds of its own (an index, trigger, policy, ...
    the spec declares on the parent only) and privileges or owners the spec cannot name."""
    unsupported = [Unsupported("partition's own object", str(name), ", ".join(own))
                   for name, own in sorted(snapshot.partition_own.items())]
    every = snapshot.all_privileges.get("table", ())

    def spelled(partitions: tuple[Partition, ...]) -> tuple[Partition, ...]:
        out = []
        for p in partitions:
            owner = p.owner
            if owner is not None and owner.startswith("pg_"):
                unsupported.append(Unsupported("owner", p.name, owner))
            if owner == snapshot.user or (owner is not None and owner.startswith("pg_")):
                owner = None
            p = spec_grants(p, every)
            unsupported.extend(named_privileges([p]))
            out.append(dataclasses.replace(drop_unnamed_privileges(p), owner=owner, partitions=spelled(p.partitions)))
        return tuple(out)

    tables = tuple(dataclasses.replace(t, partitions=spelled(t.partitions)) for t in module.tables)
    return dataclasses.replace(module, tables=tables), unsupported


# -- spelling names as the spec does ----------------------------------------------------------------------------------
def spec_name(name: str | QName) -> str:
    """`public.x` -> `x`; other schemas stay qualified."""
    q = qname(name) if isinstance(name, str) else name
    return q.name if q.schema == DEFAULT_SCHEMA else str(q)


def spec_reference(text: str) -> str:
    table, _, cols = text.partition("(")
    return f"{spec_name(table)}({cols}"


def skipped_functions(unsupported: Iterable[Unsupported]) -> set[str]:
    """Functions and procedures the spec cannot declare (unnamed arguments, other languages): left out, reported.
    By identity (routine_id): the other overloads of the name are imported."""
    out = set()
    for u in unsupported:
        if u.kind in ("function", "procedure"):
            name, _, types = u.name.partition("(")
            out.add(function_id(qname(_unquote(name)), split_types(types.rstrip().removesuffix(")"))))
    return out


def overload_keys(routines: Iterable[R]) -> tuple[R, ...]:
    """Functions and procedures named as the spec names them: an overloaded name keyed by its signature
    (`add(integer, integer)`), the others by name alone."""
    routines = tuple(routines)
    names = [qname(f.name) for f in routines]
    out = []
    for fn in routines:
        name = spec_name(fn.name)
        if names.count(qname(fn.name)) > 1:
            types = (identity_type(a.type).removeprefix(f"{DEFAULT_SCHEMA}.") for a in fn.inputs)
            name = f"{name}({', '.join(types)})"
        out.append(dataclasses.replace(fn, name=name))
    return tuple(out)


def overloaded_triggers(table: Table, overloaded: set[QName]) -> Table:
    """A trigger calling an overloaded name names the function without arguments (`touch()`), the one a trigger
    calls."""
    return dataclasses.replace(table, triggers=tuple(
        dataclasses.replace(t, function=f"{t.function}()") if qname(t.function) in overloaded else t
        for t in table.triggers))


def _unquote(name: str) -> str:
    """`public."My fn"` (format('%I')) -> `public.My fn`, the model's spelling."""
    return ".".join(part[1:-1].replace('""', '"') if part.startswith('"') else part
                    for part in re.findall(r'"(?:[^"]|"")*"|[^.]+', name))


# -- the model objects as a person writes them ------------------------------------------------------------------------
def fold_table(table: Table) -> Table:
    """One-column primary key, unique and foreign key written on their column when named as the spec names them."""
    base = qname(table.name).name
    columns = {c.name: c for c in table.columns}
    pk = table.primary_key
    if pk is not None and len(pk.columns) == 1 and pk.name is None and not pk.deferrable:
        columns[pk.columns[0]] = dataclasses.replace(columns[pk.columns[0]], primary_key=True)
        table = dataclasses.replace(table, primary_key=None)
    kept_unique = []
    for u in table.unique:
        c = columns.get(u.columns[0]) if len(u.columns) == 1 else None
        plain = not (u.deferrable or u.nulls_not_distinct)  # a column's `unique: true` has neither
        if c is not None and u.name == f"{base}_{c.name}_key" and not c.unique and not c.primary_key and plain:
            columns[c.name] = dataclasses.replace(c, unique=True)
        else:
            kept_unique.append(u)
    kept_fks = []
    for fk in table.foreign_keys:
        c = columns.get(fk.columns[0]) if len(fk.columns) == 1 else None
        plain = not (fk.deferrable or fk.not_valid)  # a column's `references:` has neither
        if c is not None and fk.name == f"{base}_{c.name}_fkey" and c.references is None and plain:
            columns[c.name] = dataclasses.replace(c, references=spec_reference(fk.references),
                                                  on_delete=fk.on_delete, on_update=fk.on_update)
        else:
            kept_fks.append(dataclasses.replace(fk, references=spec_reference(fk.references)))
    return dataclasses.replace(
        table, name=spec_name(table.name), columns=tuple(columns[c.name] for c in table.columns),
        checks=tuple(dataclasses.replace(c, expr=human_sql(c.expr)) for c in table.checks),
        excludes=tuple(dataclasses.replace(x, where=human_sql(x.where)) for x in table.excludes),
        indexes=spec_indexes(table.indexes),
        policies=tuple(dataclasses.replace(p, using=human_sql(p.using), with_check=human_sql(p.with_check))
                       for p in table.policies),
        unique=tuple(kept_unique), foreign_keys=tuple(kept_fks),
        triggers=tuple(map(spec_trigger, table.triggers)))


def spec_view(view: View) -> View:
    return dataclasses.replace(view, name=spec_name(view.name), triggers=tuple(map(spec_trigger, view.triggers)))


def spec_matview(matview: MaterializedView) -> MaterializedView:
    return dataclasses.replace(matview, name=spec_name(matview.name), indexes=spec_indexes(matview.indexes))


def spec_indexes(indexes: Iterable[Index]) -> tuple[Index, ...]:
    return tuple(dataclasses.replace(i, where=human_sql(i.where)) for i in indexes)


def spec_trigger(trigger: Trigger) -> Trigger:
    """A trigger as the spec writes it: its function named as the spec names it, its WHEN as a person would."""
    return dataclasses.replace(trigger, function=spec_name(trigger.function), when=human_sql(trigger.when))


def literal_default(column: Column) -> Column:
    """`'draft'::text` -> `default: draft`, `0` -> `default: 0`: the literal a person writes. Anything else stays
    `default_sql:` as PostgreSQL prints it."""
    text = column.default_sql
    if text is None:
        return column
    value: Any
    string = re.fullmatch(r"'((?:[^']|'')*)'::(?:text|character varying)", text)
    if string and column.type in ("text",) or (string and column.type.startswith("varchar")):
        value = string[1].replace("''", "'")
    elif re.fullmatch(r"-?[1-9]\d{0,17}|0", text) and column.type in ("integer", "bigint", "smallint"):
        value = int(text)
    elif text in ("true", "false") and column.type == "boolean":
        value = text == "true"
    else:
        return column
    return dataclasses.replace(column, default=value, default_sql=None)


# PostgreSQL stores `col IN ('a', 'b')` on a varchar column as `(col)::text = ANY ((ARRAY['a'::character varying,
# ...])::text[])` and prints it so; that text, read again, is stored differently (each element cast on its own), so
# the printed form does not come back as it was. The IN list a person writes does.
_VARCHAR_ITEM = r"'(?:[^']|'')*'::character varying"
_VARCHAR_IN = re.compile(r"\(\((?P<col>(?:[a-z_][a-z0-9_$]*\.)?[a-z_][a-z0-9_$]*)\)::text (?P<op>= ANY|<> ALL) "
                         r"\(\(ARRAY\["
                         rf"(?P<items>{_VARCHAR_ITEM}(?:, {_VARCHAR_ITEM})*)\]\)::text\[\]\)\)")


def human_sql(text: str | None) -> Any:
    """An expression as a person writes it, where PostgreSQL's printed form would not read back the same."""
    if text is None:
        return None
    return _VARCHAR_IN.sub(lambda m: "({} {}IN ({}))".format(
        m["col"], "NOT " if m["op"] == "<> ALL" else "", ", ".join(re.findall(r"'(?:[^']|'')*'", m["items"]))), text)


def spec_grants(obj: Any, all_privileges: tuple[str, ...]) -> Any:
    """Grants as the spec writes them: every privilege of the kind is `all` (which is how the spec says MAINTAIN,
    PostgreSQL 17's, that it has no name for)."""
    every = set(all_privileges)
    grants = tuple(dataclasses.replace(g, privileges=("all",)) if len(every) > 1 and set(g.privileges) == every else g
                   for g in obj.grants)
    return dataclasses.replace(obj, grants=grants)


def named_privileges(objs: Iterable[Any]) -> list[Unsupported]:
    """Privileges the spec has no name for, outside a grant of them all (MAINTAIN on its own)."""
    known = set(PRIVILEGE_ORDER)
    return [Unsupported("privilege", f"{', '.join(unknown).upper()} on {obj.name} to {g.role}")
            for obj in objs for g in obj.grants
            if (unknown := sorted(set(g.privileges) - known)) and g.privileges != ("all",)]


def drop_unnamed_privileges(obj: Any) -> Any:
    known = set(PRIVILEGE_ORDER)
    return dataclasses.replace(obj, grants=tuple(
        dataclasses.replace(g, privileges=tuple(p for p in g.privileges if p in known)) for g in obj.grants
        if set(g.privileges) & known))


def sequence_defaults(seq: Sequence) -> Sequence:
    """MINVALUE/MAXVALUE are left out when they are the type's (what CREATE SEQUENCE picks without them)."""
    bits = {"smallint": 16, "integer": 32, "bigint": 64}.get(seq.type, 64)
    low, high = (1, 2 ** (bits - 1) - 1) if seq.increment > 0 else (-(2 ** (bits - 1)), -1)
    owning = seq.owning_column
    return dataclasses.replace(seq, name=spec_name(seq.name),
                               min_value=None if seq.min_value == low else seq.min_value,
                               max_value=None if seq.max_value == high else seq.max_value,
                               owned_by=f"{spec_name(owning[0])}.{owning[1]}" if owning else None)


# -- the writer registry -----------------------------------------------------------------------------------------------
class Flow(dict[str, Any]):
    """A mapping written on one line: `{type: uuid, not_null: true}`."""


class FlowList(list[Any]):
    """A list written on one line: `[select, insert]`."""


Writer = Callable[[Any], Any]
WRITERS: dict[type, Writer] = {}


def writer(*classes: type) -> Callable[[Writer], Writer]:
    def register(fn: Writer) -> Writer:
        for cls in classes:
            if cls in WRITERS:
                raise ValueError(f"two writers for {cls.__name__}")
            WRITERS[cls] = fn
        return fn
    return register


def write(obj: Any) -> Any:
    """One model object as YAML data (mappings, lists, scalars)."""
    return WRITERS[type(obj)](obj)


def fields(obj: Any, skip: Iterable[str] = ()) -> Any:
    """Every field whose value is not the model's default, in declaration order; when only the shorthand field is left,
    its value alone (`col: text`, `anon: [usage]`)."""
    cls: type = type(obj)
    out: dict[str, Any] = {}
    for f in spec_fields(cls):
        if f.name == key_field(cls) or f.name in skip or f.metadata.get("internal"):
            continue
        value = getattr(obj, f.name)
        if value == f.default:
            continue
        if f.metadata.get("keyed"):
            # The database's order: catalog order for columns and arguments, name order for the rest.
            value = {key_of(item): write(item) for item in value}
        elif isinstance(value, tuple):
            value = [write(v) for v in value] if value and isinstance(value[0], Node) else FlowList(value)
        elif isinstance(value, Node):
            value = write(value)
        out[f.name] = value
    short = shorthand_field(cls)
    if short is not None and list(out) == [short]:
        return out[short]
    return shape(out)


def key_of(obj: Any) -> str:
    cls: type = type(obj)
    if isinstance(obj, Function) and obj.signature is not None:  # an overload, keyed by its signature
        return f"{obj.name}({', '.join(obj.signature)})"
    return str(getattr(obj, key_field(cls) or ""))


def shape(mapping: dict[str, Any]) -> dict[str, Any]:
    """Flow style for a short mapping of one-line scalars and flow lists; block style otherwise."""
    simple = all(isinstance(v, FlowList) or (not isinstance(v, dict | list) and "\n" not in str(v))
                 for v in mapping.values())
    if simple and len(repr(mapping)) <= FLOW_WIDTH:
        return Flow(mapping)
    return mapping


@writer(Grant, Check, Unique, ForeignKey, Index, Trigger, Policy, Argument, Role, SchemaDef, Identity, Extension,
        Attribute, DomainCheck, Exclude, ExcludeElement, Referencing, PrimaryKey, Partition)
def write_fields(obj: Node) -> Any:
    return fields(obj)


@writer(TypeDef)
def write_type(type_def: TypeDef) -> Any:
    """Its kind's key even when empty (`attributes: {}`), and its grants only when they are not PostgreSQL's
    default (USAGE for PUBLIC), even when empty (`grants: {}`: none)."""
    default = type_def.acl == dataclasses.replace(type_def, at={}).acl
    out = dict(fields(dataclasses.replace(type_def, grants=()) if default else type_def))
    if type_def.kind == "composite" and "attributes" not in out:
        out = {"attributes": Flow(), **out}
    if not default and not type_def.grants:
        out["grants"] = Flow()
    return shape(out)


@writer(DefaultPrivileges)
def write_default_privileges(defaults: DefaultPrivileges) -> Any:
    """Every kind the entry speaks for, even granting nothing: in the global defaults `functions: {}` is a
    revoked built-in default, not a kind left alone."""
    out = dict(fields(defaults))
    for kind in defaults.stated():
        if kind not in out and defaults.schema is None:
            out[kind] = Flow()
    return shape(out)


@writer(Column)
def write_column(column: Column) -> Any:
    if column.identity is not None:  # NOT NULL goes without saying
        column = dataclasses.replace(column, not_null=False)
    return fields(literal_default(dataclasses.replace(column, generated=human_sql(column.generated))))


@writer(Sequence)
def write_sequence(seq: Sequence) -> Any:
    return fields(seq)


@writer(Function, Procedure)
def write_function(fn: Function) -> Any:
    out = fields(fn, skip=("search_path", "body", "grants", "comment"))
    out = dict(out)  # block style: a function always has a body
    if fn.search_path is not None:  # () is the empty path, spelled ''
        out["search_path"] = "" if not fn.search_path else (
            fn.search_path[0] if len(fn.search_path) == 1 else FlowList(fn.search_path))
    if fn.comment is not None:
        out["comment"] = fn.comment
    out["body"] = fn.body.strip("\n") + "\n"
    if fn.grants:
        out["grants"] = {g.role: write(g) for g in fn.grants}
    return out


@writer(Table)
def write_table(table: Table) -> Any:
    return dict(fields(table))


@writer(View, MaterializedView)
def write_view(view: View | MaterializedView) -> Any:
    return dict(fields(dataclasses.replace(view, query=human_sql(view.query.strip()) + "\n")))


@writer(Module)
def write_module(module: Module) -> Any:
    return dict(fields(module))


# -- modules -----------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SpecFile:
    name: str  # file name in the spec directory
    module: Module


def _schema_of(name: str) -> str:
    return qname(name).schema


def components(tables: list[Table]) -> list[list[Table]]:
    """Groups of tables joined by foreign keys (in either direction), each in name order, ordered by first name."""
    parent = {t.name: t.name for t in tables}

    def find(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for t in tables:
        for fk in t.foreign_keys:
            target = str(qname(fk.references.partition("(")[0]))
            if target in parent:
                a, b = find(t.name), find(target)
                parent[max(a, b)] = min(a, b)
    groups: dict[str, list[Table]] = {}
    for t in sorted(tables, key=lambda t: t.name):
        groups.setdefault(find(t.name), []).append(t)
    return sorted(groups.values(), key=lambda g: g[0].name)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "x"


def modules(imported: Imported, split: bool) -> list[SpecFile]:
    """The platform module (roles), then one module per schema, or per schema and group of tables (--split)."""
    db = imported.module
    skip = skipped_functions(imported.unsupported)
    functions = [f for f in db.functions if routine_id(f) not in skip]
    procedures = [f for f in db.procedures if routine_id(f) not in skip]
    every = [*functions, *procedures]
    overloaded = {n for n in map(qname, (f.name for f in every)) if sum(qname(f.name) == n for f in every) > 1}
    named: list[Any] = [*db.types, *db.tables, *db.views, *db.sequences, *functions, *procedures]
    # Extensions are database-wide; those whose objects are in an imported schema go into that schema's module
    # (written without their version: the spec then installs the server's default one).
    chosen = {s.name for s in db.schemas}
    extensions = [dataclasses.replace(e, version=None) for e in db.extensions if e.schema in chosen]
    schema_names = sorted({s.name for s in db.schemas} | {_schema_of(o.name) for o in named}
                          | {e.schema or DEFAULT_SCHEMA for e in extensions})
    first = schema_names[0] if schema_names else None
    files: list[SpecFile] = []
    if imported.roles:
        files.append(SpecFile("platform", Module(
            module="Platform roles", platform=True, roles=imported.roles,
            description="The roles the imported schemas grant to or write policies for (roles are cluster-wide: "
                        "created only where missing; `--target supabase` leaves this module out).")))
    for schema in schema_names:
        def mine(objs: Iterable[Any], schema: str = schema) -> tuple[Any, ...]:
            return tuple(o for o in objs if _schema_of(o.name) == schema)

        tables = [overloaded_triggers(t, overloaded)
                  for t in mine(db.tables)]
        base = Module(module=f"Schema {schema}",
                      schemas=tuple(s for s in db.schemas if s.name == schema != DEFAULT_SCHEMA),
                      extensions=tuple(e for e in extensions if e.schema == schema),
                      # the global defaults (no schema) go with the first schema's
                      default_privileges=tuple(d for d in db.default_privileges
                                               if d.schema == schema or (d.schema is None and schema == first)),
                      types=tuple(dataclasses.replace(t, name=spec_name(t.name)) for t in mine(db.types)),
                      sequences=tuple(sequence_defaults(s) for s in mine(db.sequences)),
                      functions=overload_keys(mine(functions)),
                      procedures=overload_keys(mine(procedures)),
                      views=tuple(map(spec_view, mine(db.views))),
                      materialized_views=tuple(map(spec_matview, mine(db.materialized_views))),
                      description=f"Imported from the database's schema {schema} by `pgspec import` (seed rows "
                                  "are not imported).")
        if not split:
            files.append(SpecFile(_slug(schema), dataclasses.replace(base, tables=tuple(map(fold_table, tables)))))
            continue
        files.append(SpecFile(_slug(schema), base))
        for group in components(tables):
            first = qname(group[0].name).name
            files.append(SpecFile(f"{_slug(schema)}-{_slug(first)}", Module(
                module=f"{schema}: {', '.join(qname(t.name).name for t in group)}"[:200],
                tables=tuple(map(fold_table, group)),
                description=f"Tables of schema {schema} joined by foreign keys, imported by `pgspec import`.")))
    width = max(2, len(str(len(files))))
    return [dataclasses.replace(f, name=f"{i:0{width}d}-{f.name}.yaml") for i, f in enumerate(files)]


# -- YAML text ---------------------------------------------------------------------------------------------------------
class _Dumper(yaml.SafeDumper):
    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        # Block lists indented under their key, as people (and this repository's specs) write them.
        super().increase_indent(flow, False)


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)
_Dumper.add_representer(Flow, lambda d, v: d.represent_mapping("tag:yaml.org,2002:map", v, flow_style=True))
_Dumper.add_representer(FlowList, lambda d, v: d.represent_sequence("tag:yaml.org,2002:seq", v, flow_style=True))
_Dumper.add_representer(dict, lambda d, v: d.represent_mapping("tag:yaml.org,2002:map", v, flow_style=False))
_Dumper.add_representer(list, lambda d, v: d.represent_sequence("tag:yaml.org,2002:seq", v, flow_style=False))


def yaml_text(data: Mapping[str, Any], header: str) -> str:
    body = yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=116, indent=2)
    # A blank line before each top-level section and between the objects of a section written over several lines,
    # so that a reader sees where one ends.
    lines: list[str] = []
    for line in body.splitlines():
        top = not line.startswith(" ") and line.endswith(":")
        second = line.startswith("  ") and not line.startswith("   ") and not line.startswith("  -")
        if lines and (top or (second and lines[-1].startswith("   "))):
            lines.append("")
        lines.append(line)
    return header + "\n".join(lines) + "\n"


def spec_texts(files: list[SpecFile], spec_dir: Path) -> dict[str, str]:
    header = (modeline(spec_dir.parent / SCHEMA_FILE, spec_dir) + "\n"
              "# Written by `pgspec import` from a live database; edit freely, it is yours now.\n")
    return {f.name: yaml_text(write(f.module), header) for f in files}


# -- command -----------------------------------------------------------------------------------------------------------
def main(args: argparse.Namespace) -> int:
    """Exit 0 written; 1 written, but objects the spec language cannot say were left out or the written spec does
    not pass `check` (each named on stderr); 2 bad usage or an unreadable database (nothing written)."""
    started = time.perf_counter()
    out: Path = args.out
    if out.is_dir() and any(p.suffix in SPEC_SUFFIXES for p in out.iterdir()):
        print(f"pgspec import: {out} already holds spec files; nothing written (choose an empty directory)",
              file=sys.stderr)
        return EXIT_USAGE
    try:
        imported = read(args.db, args.schemas)
    except DatabaseError as exc:
        print(f"pgspec import: cannot read the database: {exc}", file=sys.stderr)
        return EXIT_USAGE
    files = modules(imported, args.split)
    texts = spec_texts(files, out)
    out.mkdir(parents=True, exist_ok=True)
    for name, text in texts.items():
        write_text_atomically(out / name, text)
    write_text_atomically(out.parent / SCHEMA_FILE, json_schema_text())
    counts = ", ".join(f"{sum(len(getattr(f.module, kind)) for f in files)} {kind}"
                       for kind in ("tables", "views", "functions", "procedures", "sequences", "roles"))
    print(f"{display_path(out)}: {len(texts)} files; {counts} ({time.perf_counter() - started:.2f} s)")
    status = EXIT_OK
    for u in imported.unsupported:
        print(f"pgspec import: error: not imported, the spec language cannot say it: {u.line()}", file=sys.stderr)
    if imported.unsupported:
        n = len(imported.unsupported)
        print(f"{n} object{'s' if n != 1 else ''} not imported (listed above); the spec holds the rest.",
              file=sys.stderr)
        status = EXIT_INCOMPLETE
    try:
        check(load_spec(out))
    except SpecError as exc:
        emit(spec_error_records(exc.diagnostics), "text", text_stream=sys.stderr)
        print("pgspec import: the written spec does not pass check (a gap in import: please report it)",
              file=sys.stderr)
        status = EXIT_INCOMPLETE
    return status

