"""Typed changes: one frozen class per kind of step a plan can take, each rendered by its own template.

A change knows its SQL (`sql()`, through the registry below) and a one-line description for the plan's comment.
Where it goes in the script and which hazards it carries are decided elsewhere (planner.py, hazards.py), from
its class, never from its SQL text. Objects created from the spec render through the output's own templates
(`render.render_item`), so a table a plan creates is exactly the table `generate` writes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any, TypeVar

from ..derive import RAW_REGISTRY_TABLE, SEED_REGISTRY_SCHEMA, Catalog
from ..model import Column
from ..order import Item, Placed
from ..render import TRIGGER_ENABLE, raw_registry, render_item, render_template, seed_registry
from ..sqltext import QName, ident


@dataclass(frozen=True)
class Change:
    """Base of every change. Subclasses are registered with a template (or a renderer) by `renders`."""

    def describe(self) -> str:
        raise NotImplementedError(type(self).__name__)

    @property
    def transactional(self) -> bool:
        """False for statements PostgreSQL refuses inside a transaction block (CONCURRENTLY)."""
        return not getattr(self, "concurrently", False)


C = TypeVar("C", bound=type[Change])
Renderer = Callable[[Any, Catalog], str]
_RENDERERS: dict[type[Change], Renderer] = {}


def renders(template: str | None = None) -> Callable[[C], C]:
    """Register a change class: rendered by `templates/plan/TEMPLATE.sql.j2` with its fields (SQL-quoted by the
    class's `context()` when it has one), or, without a template, by its `render(catalog)` method."""

    def register(cls: C) -> C:
        if cls in _RENDERERS:
            raise RuntimeError(f"renderer for {cls.__name__} registered twice")
        if template is None:
            _RENDERERS[cls] = lambda change, catalog: change.render(catalog)
        else:
            def render(change: Any, catalog: Catalog) -> str:
                context = change.context() if hasattr(change, "context") else \
                    {f.name: getattr(change, f.name) for f in fields(change)}
                return render_template(f"plan/{template}.sql.j2", context)
            _RENDERERS[cls] = render
        return cls

    return register


def sql(change: Change, catalog: Catalog) -> str:
    """The SQL of one change; a class without a renderer is an error, never skipped."""
    renderer = _RENDERERS.get(type(change))
    if renderer is None:
        raise RuntimeError(f"no renderer for change {type(change).__name__}")
    return renderer(change, catalog)


def registered() -> list[type[Change]]:
    return list(_RENDERERS)


# -- objects created from the spec, through the output's templates ----------------------------------------------
@dataclass(frozen=True)
class Create(Change):
    """An object of the spec, created as `generate` writes it (with its grants and comments)."""

    item: Item

    def describe(self) -> str:
        return f"create {self.item.kind} {self.item.key[1]}"

    def render(self, catalog: Catalog) -> str:
        return render_item(Placed(self.item, 0), catalog)


@renders()
@dataclass(frozen=True)
class CreateRole(Create):
    pass


@renders()
@dataclass(frozen=True)
class CreateSchema(Create):
    pass


@renders()
@dataclass(frozen=True)
class CreateExtension(Create):
    pass


@renders()
@dataclass(frozen=True)
class CreateType(Create):
    pass


@renders()
@dataclass(frozen=True)
class CreateSequence(Create):
    pass


@renders()
@dataclass(frozen=True)
class SetOwnedBy(Create):
    """ALTER SEQUENCE ... OWNED BY the column the spec names (OWNED BY NONE is an AlterSequence)."""

    def describe(self) -> str:
        return f"sequence {self.item.key[1]} owned by {self.item.obj.owned_by}"


@renders()
@dataclass(frozen=True)
class CreateFunction(Create):
    def describe(self) -> str:
        return f"create {self.item.obj.KIND} {self.item.key[1]}"  # a function or a procedure


@renders()
@dataclass(frozen=True)
class ReplaceFunction(Create):
    """CREATE OR REPLACE FUNCTION: same name and argument types, new body or attributes; grants stay."""

    def describe(self) -> str:
        return f"replace {self.item.obj.KIND} {self.item.key[1]}"

    def render(self, catalog: Catalog) -> str:
        return render_item(Placed(self.item, 0), catalog, replace=True, notes=[])


@renders()
@dataclass(frozen=True)
class CreateTable(Create):
    pass


@renders()
@dataclass(frozen=True)
class CreatePartition(Create):
    """CREATE TABLE ... PARTITION OF, as `generate` writes it."""


@renders()
@dataclass(frozen=True)
class CreateIndex(Create):
    concurrently: bool = False

    def render(self, catalog: Catalog) -> str:
        return render_item(Placed(self.item, 0), catalog, concurrently=self.concurrently)


@renders()
@dataclass(frozen=True)
class CreateTrigger(Create):
    pass


@renders()
@dataclass(frozen=True)
class EnableRls(Create):
    """Row-level security of a table the plan creates (ENABLE, and FORCE when the spec forces it)."""

    def describe(self) -> str:
        return f"enable row-level security on {self.item.key[1]}"


@renders()
@dataclass(frozen=True)
class CreatePolicy(Create):
    pass


@renders()
@dataclass(frozen=True)
class CreateView(Create):
    pass


@renders()
@dataclass(frozen=True)
class CreateMatview(Create):
    """CREATE MATERIALIZED VIEW: runs its query (WITH DATA), with its grants and comment."""

    def describe(self) -> str:
        return f"create materialized view {self.item.key[1]}"


# -- renames ----------------------------------------------------------------------------------------------------
@renders("rename")
@dataclass(frozen=True)
class Rename(Change):
    kind: str  # table, view, function, column, constraint, index, policy, value (of the enum type `table`)
    old: str
    new: str
    table: QName | None = None
    schema: str = "public"
    args: tuple[str, ...] = ()

    def describe(self) -> str:
        where = f" on {self.table}" if self.table and self.kind != "index" else ""
        return f"rename {self.kind} {self.old} to {self.new}{where}"

    def context(self) -> dict[str, Any]:
        target = f"{QName(self.schema, self.old).sql}"
        if self.kind in ("function", "procedure"):
            target += f"({', '.join(self.args)})"
        return {"kind": self.kind, "old": self.old, "new": self.new, "target": target,
                "table": self.table.sql if self.table else None}


# -- drops ------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Drop(Change):
    """DROP of a whole object, by name."""

    WHAT = ""

    def target(self) -> str:
        raise NotImplementedError

    def describe(self) -> str:
        return f"drop {self.WHAT.lower()} {self.target()}"

    def context(self) -> dict[str, Any]:
        return {"what": self.WHAT, "target": self.target(), "concurrently": getattr(self, "concurrently", False),
                "if_exists": getattr(self, "concurrently", False)}


@renders("drop")
@dataclass(frozen=True)
class DropSchema(Drop):
    WHAT = "SCHEMA"
    name: str

    def target(self) -> str:
        return ident(self.name)


@renders("drop")
@dataclass(frozen=True)
class DropExtension(Drop):
    """Without CASCADE: PostgreSQL refuses while an object outside the extension still uses one of its types,
    functions or operator classes (the plan drops the spec's own users first)."""

    WHAT = "EXTENSION"
    name: str

    def target(self) -> str:
        return ident(self.name)


@renders("drop")
@dataclass(frozen=True)
class DropType(Drop):
    WHAT = "TYPE"
    name: QName

    def target(self) -> str:
        return self.name.sql


@renders("drop")
@dataclass(frozen=True)
class DropSequence(Drop):
    WHAT = "SEQUENCE"
    name: QName

    def target(self) -> str:
        return self.name.sql


@renders("drop")
@dataclass(frozen=True)
class DropFunction(Drop):
    """DROP FUNCTION, or DROP PROCEDURE: by name and argument types (each overload is its own object)."""

    name: QName
    args: tuple[str, ...]
    procedure: bool = False

    @property
    def WHAT(self) -> str:  # type: ignore[override]  # noqa: N802 (Drop's class attribute, per object here)
        return "PROCEDURE" if self.procedure else "FUNCTION"

    def target(self) -> str:
        return f"{self.name.sql}({', '.join(self.args)})"


@renders("drop")
@dataclass(frozen=True)
class DropTable(Drop):
    WHAT = "TABLE"
    name: QName

    def target(self) -> str:
        return self.name.sql


@renders("drop")
@dataclass(frozen=True)
class DropView(Drop):
    WHAT = "VIEW"
    name: QName

    def target(self) -> str:
        return self.name.sql


@renders("drop")
@dataclass(frozen=True)
class DropMatview(Drop):
    WHAT = "MATERIALIZED VIEW"
    name: QName

    def target(self) -> str:
        return self.name.sql


@renders("drop")
@dataclass(frozen=True)
class DropIndex(Drop):
    WHAT = "INDEX"
    name: QName  # schema and index name
    table: QName
    concurrently: bool = False

    def target(self) -> str:
        return self.name.sql


@renders("drop")
@dataclass(frozen=True)
class DropTrigger(Drop):
    WHAT = "TRIGGER"
    table: QName
    name: str

    def target(self) -> str:
        return f"{ident(self.name)} ON {self.table.sql}"


@renders("drop")
@dataclass(frozen=True)
class DropPolicy(Drop):
    WHAT = "POLICY"
    table: QName
    name: str

    def target(self) -> str:
        return f"{ident(self.name)} ON {self.table.sql}"


# -- tables and their parts -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TableChange(Change):
    """A change of one table (ALTER TABLE ...): the template gets `table` quoted and the other fields as they are."""

    table: QName

    def context(self) -> dict[str, Any]:
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out["table"] = self.table.sql
        return out


@renders("add_column")
@dataclass(frozen=True)
class AddColumn(TableChange):
    column: str
    type: str
    default: str | None
    not_null: bool
    spec: Column | None = None  # the column as declared (hazards read its default)

    def describe(self) -> str:
        return f"add column {self.table}.{self.column}"


@renders("drop_column")
@dataclass(frozen=True)
class DropColumn(TableChange):
    column: str
    computed: bool = False  # a generated column dropped to be added again with another expression: no data lost

    def describe(self) -> str:
        return f"drop column {self.table}.{self.column}" + (" (added again, computed)" if self.computed else "")


@renders("alter_column")
@dataclass(frozen=True)
class AlterColumn(TableChange):
    """ALTER COLUMN with one clause: identity (ADD GENERATED ... AS IDENTITY, SET GENERATED / sequence options,
    DROP IDENTITY) or DROP EXPRESSION (a generated column becomes a plain one, keeping its values)."""

    column: str
    clause: str
    what: str  # for people: "add identity", "drop expression", ...
    restart_after: str | None = None  # ADD IDENTITY on rows already numbered: the value the sequence continues after

    def describe(self) -> str:
        return f"{self.what} of column {self.table}.{self.column}"


@renders("alter_column_type")
@dataclass(frozen=True)
class AlterColumnType(TableChange):
    column: str
    type: str
    old_type: str
    using: str | None
    collation: str | None = None  # COLLATE, quoted

    def describe(self) -> str:
        return f"change type of column {self.table}.{self.column} from {self.old_type} to {self.type}"


@renders("set_default")
@dataclass(frozen=True)
class SetDefault(TableChange):
    column: str
    default: str | None

    def describe(self) -> str:
        return f"{'drop' if self.default is None else 'set'} default of column {self.table}.{self.column}"


@renders("set_not_null")
@dataclass(frozen=True)
class SetNotNull(TableChange):
    column: str
    not_null: bool
    proven: bool = False  # a validated CHECK (col IS NOT NULL) exists: PostgreSQL skips the scan

    def describe(self) -> str:
        return f"{'set' if self.not_null else 'drop'} NOT NULL on column {self.table}.{self.column}"


@renders("add_constraint")
@dataclass(frozen=True)
class AddConstraint(TableChange):
    name: str
    kind: str  # primary key, unique, foreign key, check
    columns: str = ""  # quoted, comma-separated
    target: str | None = None
    target_columns: str | None = None
    on_delete: str | None = None
    on_update: str | None = None
    expr: str | None = None
    not_valid: bool = False
    nulls_not_distinct: bool = False
    deferral: str = ""  # ` DEFERRABLE [INITIALLY DEFERRED]`
    using: str | None = None  # exclude
    elements: str = ""  # exclude: `key WITH op, ...` as SQL
    where: str | None = None  # exclude

    def context(self) -> dict[str, Any]:
        return {**super().context(), "k": self}  # the body is the table template's macro, which reads `k`

    def describe(self) -> str:
        kind = "exclusion" if self.kind == "exclude" else self.kind
        return f"add {kind} constraint {self.name} on {self.table}" + (" (NOT VALID)" if self.not_valid else "")


@renders("validate_constraint")
@dataclass(frozen=True)
class ValidateConstraint(TableChange):
    name: str

    def describe(self) -> str:
        return f"validate constraint {self.name} on {self.table}"


@renders("alter_constraint")
@dataclass(frozen=True)
class AlterConstraint(TableChange):
    """A foreign key's deferral changed in place (ALTER CONSTRAINT ... [NOT] DEFERRABLE [INITIALLY ...])."""

    name: str
    deferral: str  # NOT DEFERRABLE | DEFERRABLE INITIALLY IMMEDIATE | DEFERRABLE INITIALLY DEFERRED

    def describe(self) -> str:
        return f"alter constraint {self.name} on {self.table}: {self.deferral}"


@renders("drop_constraint")
@dataclass(frozen=True)
class DropConstraint(TableChange):
    name: str
    kind: str = ""
    if_exists: bool = False

    def describe(self) -> str:
        return f"drop {self.kind + ' ' if self.kind else ''}constraint {self.name} on {self.table}"


@renders("set_rls")
@dataclass(frozen=True)
class SetRls(TableChange):
    what: str  # enable | force
    on: bool

    def describe(self) -> str:
        verb = {("enable", True): "enable", ("enable", False): "disable", ("force", True): "force",
                ("force", False): "stop forcing"}[(self.what, self.on)]
        return f"{verb} row-level security on {self.table}"


@renders("enable_trigger")
@dataclass(frozen=True)
class SetTriggerMode(TableChange):
    name: str
    mode: str  # origin | always | replica | disabled (model.TriggerMode)

    def context(self) -> dict[str, Any]:
        return {"table": self.table.sql, "name": self.name, "enable": TRIGGER_ENABLE[self.mode] or "ENABLE"}

    def describe(self) -> str:
        verb = {"origin": "enable", "always": "enable always", "replica": "enable for replication only",
                "disabled": "disable"}[self.mode]
        return f"{verb} trigger {self.name} on {self.table}"


@renders("alter_policy")
@dataclass(frozen=True)
class AlterPolicy(TableChange):
    name: str
    roles: str  # quoted, comma-separated
    using: str | None
    with_check: str | None

    def describe(self) -> str:
        return f"alter policy {self.name!r} on {self.table}"


# -- other objects ----------------------------------------------------------------------------------------------
@renders("alter_role")
@dataclass(frozen=True)
class AlterRole(Change):
    name: str
    login: bool
    bypass_rls: bool

    def describe(self) -> str:
        return f"alter role {self.name}"


@renders("alter_extension")
@dataclass(frozen=True)
class AlterExtension(Change):
    """ALTER EXTENSION ... SET SCHEMA (a relocatable extension) or UPDATE TO a version."""

    name: str
    schema: str | None = None
    version: str | None = None

    def describe(self) -> str:
        change = f"schema {self.schema}" if self.schema is not None else f"version {self.version}"
        return f"alter extension {self.name}: {change}"


@renders("add_enum_value")
@dataclass(frozen=True)
class AddEnumValue(Change):
    """ALTER TYPE ... ADD VALUE: PostgreSQL lets no transaction use a value it added itself, so the plan runs it
    before its transaction (each such statement commits on its own)."""

    name: QName
    value: str
    where: str  # BEFORE or AFTER
    neighbour: str

    def describe(self) -> str:
        return f"add value {self.value} to type {self.name}"

    def context(self) -> dict[str, Any]:
        return {"name": self.name.sql, "value": self.value, "where": self.where, "neighbour": self.neighbour}


@renders("alter_type")
@dataclass(frozen=True)
class AlterType(Change):
    """One in-place change of a composite type (ALTER TYPE ... ADD / DROP / ALTER ATTRIBUTE) or of a domain (ALTER
    DOMAIN ... SET / DROP DEFAULT, SET / DROP NOT NULL, ADD / DROP CONSTRAINT). `action` is the SQL after the name."""

    name: QName
    action: str
    domain: bool = False
    dropped: str | None = None  # the attribute DROP ATTRIBUTE removes, with the values it holds

    def describe(self) -> str:
        return f"alter {'domain' if self.domain else 'type'} {self.name}: {self.action.split(' (')[0].lower()}"

    def context(self) -> dict[str, Any]:
        return {"what": "DOMAIN" if self.domain else "TYPE", "name": self.name.sql, "action": self.action}


@renders("alter_sequence")
@dataclass(frozen=True)
class AlterSequence(Change):
    name: QName
    options: tuple[str, ...]

    def describe(self) -> str:
        return f"alter sequence {self.name}"

    def context(self) -> dict[str, Any]:
        return {"sequence": self.name.sql, "options": self.options}


@renders("set_view_options")
@dataclass(frozen=True)
class SetViewOptions(Change):
    name: QName
    options: str
    security_invoker: bool

    def describe(self) -> str:
        return f"set options of view {self.name}"

    def context(self) -> dict[str, Any]:
        return {"view": self.name.sql, "options": self.options}


@renders("grant")
@dataclass(frozen=True)
class Grant(Change):
    """GRANT (grant=True) or REVOKE of one privilege of one role on one object (or one column of it)."""

    target: str  # `TABLE public.t`, `FUNCTION public.f(uuid)`, ...
    privilege: str
    role: str
    grant: bool
    column: str | None = None

    def describe(self) -> str:
        return f"{'grant' if self.grant else 'revoke'} {self.privilege.upper()} on {self.target} " \
               f"{'to' if self.grant else 'from'} {self.role}"

    def context(self) -> dict[str, Any]:
        return {"target": self.target, "privilege": self.privilege, "grant": self.grant, "column": self.column,
                "role": "PUBLIC" if self.role == "public" else ident(self.role)}


@renders("default_grant")
@dataclass(frozen=True)
class DefaultGrant(Change):
    """ALTER DEFAULT PRIVILEGES ... GRANT (grant=True) or REVOKE of one privilege of one role on new objects."""

    for_role: str | None  # None: the role running the plan
    schema: str | None  # None: every schema (the global defaults)
    kind: str  # tables, sequences, functions, types
    privilege: str
    role: str
    grant: bool

    def describe(self) -> str:
        scope = (f" for role {self.for_role}" if self.for_role else "") + \
            (f" in schema {self.schema}" if self.schema else "")
        return f"default privileges{scope}: {'grant' if self.grant else 'revoke'} {self.privilege.upper()} on " \
               f"new {self.kind} {'to' if self.grant else 'from'} {self.role}"

    def context(self) -> dict[str, Any]:
        return {"for_role": self.for_role, "schema": self.schema, "kind": self.kind.upper(),
                "privilege": self.privilege, "grant": self.grant,
                "role": "PUBLIC" if self.role == "public" else ident(self.role)}


@renders("set_logged")
@dataclass(frozen=True)
class SetLogged(TableChange):
    """ALTER TABLE ... SET LOGGED / SET UNLOGGED (PostgreSQL rewrites the table)."""

    unlogged: bool

    def describe(self) -> str:
        return f"make table {self.table} {'unlogged' if self.unlogged else 'logged'}"


@renders("detach_partition")
@dataclass(frozen=True)
class DetachPartition(TableChange):
    """ALTER TABLE parent DETACH PARTITION: the partition becomes a table of its own, its rows with it."""

    partition: QName

    def describe(self) -> str:
        return f"detach partition {self.partition} from {self.table}"

    def context(self) -> dict[str, Any]:
        return {"table": self.table.sql, "partition": self.partition.sql}


@renders("attach_partition")
@dataclass(frozen=True)
class AttachPartition(TableChange):
    """ALTER TABLE parent ATTACH PARTITION ... FOR VALUES: PostgreSQL checks that every row fits the bounds."""

    partition: QName
    bound: str

    def describe(self) -> str:
        return f"attach partition {self.partition} to {self.table} {self.bound}"

    def context(self) -> dict[str, Any]:
        return {"table": self.table.sql, "partition": self.partition.sql, "bound": self.bound}


@renders("set_view_check_option")
@dataclass(frozen=True)
class SetViewCheckOption(Change):
    """ALTER VIEW ... SET (check_option = ...), or RESET when the view has none."""

    name: QName
    check_option: str | None

    def describe(self) -> str:
        return f"{'set' if self.check_option else 'remove'} the check option of view {self.name}"

    def context(self) -> dict[str, Any]:
        return {"view": self.name.sql, "check_option": self.check_option}


@renders("alter_owner")
@dataclass(frozen=True)
class AlterOwner(Change):
    """ALTER {TABLE | VIEW | SEQUENCE | FUNCTION | SCHEMA} ... OWNER TO role."""

    target: str  # `TABLE public.t`, `FUNCTION public.f(uuid)`, `SCHEMA app`, ...
    owner: str

    def describe(self) -> str:
        return f"make {self.owner} the owner of {self.target}"

    def context(self) -> dict[str, Any]:
        return {"target": self.target, "owner": ident(self.owner)}


@renders("comment")
@dataclass(frozen=True)
class Comment(Change):
    target: str  # `TABLE public.t`, `COLUMN public.t.c`, `POLICY "p" ON public.t`, ...
    text: str | None

    def describe(self) -> str:
        return f"{'set' if self.text else 'remove'} comment on {self.target}"


# -- seed rows --------------------------------------------------------------------------------------------------
@renders()
@dataclass(frozen=True)
class InsertSeedRows(Create):
    """Seed rows the database does not have yet (the item's table carries just those rows), recorded in the
    seed registry."""

    def describe(self) -> str:
        n = len(self.item.obj.seed)
        return f"insert {n} seed row{'s' if n != 1 else ''} into {self.item.key[1]}"


@renders("update_seed_row")
@dataclass(frozen=True)
class UpdateSeedRow(TableChange):
    key: str  # the row's key as recorded (JSON)
    assignments: str  # `col = value, ...`
    where: str  # the key as a condition

    def describe(self) -> str:
        return f"update seed row {self.key} of {self.table}"


@renders("delete_seed_row")
@dataclass(frozen=True)
class DeleteSeedRow(TableChange):
    key: str
    where: str

    def describe(self) -> str:
        return f"delete seed row {self.key} of {self.table}"

    def context(self) -> dict[str, Any]:
        return {"table": self.table.sql, "where": self.where, "key": self.key, "table_name": str(self.table),
                "registry": ident(SEED_REGISTRY_SCHEMA)}


@renders()
@dataclass(frozen=True)
class CreateSeedRegistry(Change):
    def describe(self) -> str:
        return f"create the seed registry {SEED_REGISTRY_SCHEMA}.seed_rows"

    def render(self, catalog: Catalog) -> str:
        return seed_registry()


@renders("seed_registry_rows")
@dataclass(frozen=True)
class SeedRegistryRows(Change):
    """The registry's rows of a table that is dropped (forgotten) or renamed (moved to its new name)."""

    table: QName
    new_name: QName | None = None

    def describe(self) -> str:
        if self.new_name is None:
            return f"forget the seed rows of {self.table}"
        return f"record the seed rows of {self.table} under {self.new_name}"

    def context(self) -> dict[str, Any]:
        return {"registry": ident(SEED_REGISTRY_SCHEMA), "table_name": str(self.table),
                "new_name": str(self.new_name) if self.new_name else None}


# -- raw SQL objects --------------------------------------------------------------------------------------------
@renders()
@dataclass(frozen=True)
class CreateRaw(Create):
    """A raw SQL object's statements, as the output runs them, and its record in the raw SQL registry."""


@renders("drop_raw")
@dataclass(frozen=True)
class DropRaw(Change):
    """A raw SQL object's drop SQL (as recorded when it was applied, else the spec's), and its record forgotten."""

    name: str
    drop: str

    def describe(self) -> str:
        return f"drop raw {self.name}"

    def context(self) -> dict[str, Any]:
        return {"name": self.name, "drop": self.drop, "registry": ident(SEED_REGISTRY_SCHEMA),
                "table": RAW_REGISTRY_TABLE}


@renders()
@dataclass(frozen=True)
class CreateRawRegistry(Change):
    def describe(self) -> str:
        return f"create the raw SQL registry {SEED_REGISTRY_SCHEMA}.{RAW_REGISTRY_TABLE}"

    def render(self, catalog: Catalog) -> str:
        return raw_registry()
