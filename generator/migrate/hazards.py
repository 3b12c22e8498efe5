"""Hazards: what a change risks, named per change class (never read from SQL text).

- data-loss: rows or values may be lost or refused (drop table/column/seed row, a narrowing type change, a NOT
  NULL column without a default added to a table with rows);
- rewrite: the table is rewritten (a type change that is not binary-compatible, a volatile default);
- lock: ACCESS EXCLUSIVE on a table that has rows (measured from the catalog; unknown without a database);
- index-build: an index built on a table that has rows, blocking writes while it builds (non-concurrent);
- authz: who may see or do what changes (policies, grants, RLS flags, SECURITY DEFINER, view security_invoker).

Only data-loss is refused unless allowed (`--allow-hazard data-loss`); the others are named in the plan.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from ..sqltext import QName, SqlType, TypeSyntaxError, parse_type, qname
from . import changes as ch

# Functions whose default makes ADD COLUMN rewrite the table (a volatile default is evaluated per row).
VOLATILE_DEFAULTS = frozenset({"gen_random_uuid", "random", "nextval", "clock_timestamp", "timeofday",
                               "uuid_generate_v4", "uuid_generate_v1", "txid_current"})


@dataclass(frozen=True, order=True)
class Hazard:
    kind: str
    reason: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.reason}"


@dataclass(frozen=True)
class Facts:
    """What the database says about the tables a plan touches: `rows` per table (-1: has data, not analyzed
    yet). None without a database (plan --from): every existing table may then have rows."""

    rows: Mapping[QName, int] | None
    new_tables: frozenset[QName] = frozenset()

    def populated(self, table: QName) -> str | None:
        """Why a lock on `table` matters (its row count), or None when the table is empty or being created."""
        if table in self.new_tables:
            return None
        if self.rows is None:
            return f"{table} may have rows"
        n = self.rows.get(table, 0)
        if n < 0:  # data, but no estimate yet (never analyzed)
            return f"{table} has rows"
        return f"{table} has ~{n} row{'s' if n != 1 else ''}" if n > 0 else None


Rule = Callable[[Any, Facts], list[Hazard]]
_RULES: dict[type[ch.Change], Rule] = {}
R = TypeVar("R", bound=Rule)


def rule(*classes: type[ch.Change]) -> Callable[[R], R]:
    def register(fn: R) -> R:
        for cls in classes:
            if cls in _RULES:
                raise RuntimeError(f"hazard rule for {cls.__name__} registered twice")
            _RULES[cls] = fn
        return fn
    return register


def hazards(change: ch.Change, facts: Facts) -> tuple[Hazard, ...]:
    """The hazards of one change; a change class without a rule is an error (every kind is decided)."""
    fn = _RULES.get(type(change))
    if fn is None:
        raise RuntimeError(f"no hazard rule for {type(change).__name__}")
    return tuple(sorted(set(fn(change, facts))))


def covered() -> set[type[ch.Change]]:
    return set(_RULES)


def _lock(table: QName, facts: Facts, what: str) -> list[Hazard]:
    populated = facts.populated(table)
    return [Hazard("lock", f"ACCESS EXCLUSIVE on {table} ({populated}) {what}".rstrip())] if populated else []


# -- rules ------------------------------------------------------------------------------------------------------
@rule(ch.Comment, ch.AlterRole, ch.CreateRole, ch.CreateSchema, ch.DropSchema, ch.DropView, ch.DropFunction,
      ch.CreateType, ch.AddEnumValue, ch.CreateExtension, ch.AlterExtension,
      ch.AlterSequence, ch.SetOwnedBy, ch.ValidateConstraint, ch.SetTriggerMode, ch.InsertSeedRows, ch.UpdateSeedRow,
      ch.CreateSeedRegistry, ch.SeedRegistryRows, ch.CreateRaw, ch.CreateRawRegistry)
def _none(change: Any, facts: Facts) -> list[Hazard]:
    return []


@rule(ch.Rename)
def _rename(change: ch.Rename, facts: Facts) -> list[Hazard]:
    table = change.table or QName(change.schema, change.old)
    return _lock(table, facts, "while renaming") if change.kind in ("table", "column") else []


def _grants_of(item: Any) -> list[Hazard]:
    grants = getattr(item.obj, "grants", ())
    granted = ", ".join(f"{g.role}: {'/'.join(g.privileges)}" for g in grants)
    return [Hazard("authz", f"grants {granted}")] if granted else []


@rule(ch.CreateTable, ch.CreateSequence)
def _create_with_grants(change: ch.Create, facts: Facts) -> list[Hazard]:
    return _grants_of(change.item)


@rule(ch.CreateFunction, ch.ReplaceFunction)
def _function(change: ch.Create, facts: Facts) -> list[Hazard]:
    out = _grants_of(change.item) if isinstance(change, ch.CreateFunction) else []
    if change.item.obj.security == "definer":
        out.append(Hazard("authz", f"{change.item.key[1]} runs with its owner's rights (SECURITY DEFINER)"))
    return out


@rule(ch.CreateView)
def _view(change: ch.Create, facts: Facts) -> list[Hazard]:
    out = _grants_of(change.item)
    if not change.item.obj.security_invoker:
        out.append(Hazard("authz", f"{change.item.key[1]} runs with its owner's rights (no security_invoker)"))
    return out


@rule(ch.CreateMatview)
def _create_matview(change: ch.Create, facts: Facts) -> list[Hazard]:
    return _grants_of(change.item)


@rule(ch.DropMatview)
def _drop_matview(change: ch.DropMatview, facts: Facts) -> list[Hazard]:
    # Its rows are its query's: nothing is lost that creating it again does not bring back, but readers wait.
    return [Hazard("lock", f"ACCESS EXCLUSIVE on materialized view {change.name}: its readers wait for the "
                           "plan's transaction (where it is created again, its query runs in it)")]


@rule(ch.SetViewOptions)
def _view_options(change: ch.SetViewOptions, facts: Facts) -> list[Hazard]:
    return [Hazard("authz", f"security options of view {change.name} change ({change.options})")]


@rule(ch.SetLogged)
def _set_logged(change: ch.SetLogged, facts: Facts) -> list[Hazard]:
    rows = facts.populated(change.table)
    return [Hazard("rewrite", f"{change.table} is rewritten to become {'unlogged' if change.unlogged else 'logged'}"
                   + (f" ({rows})" if rows else ""))] + _lock(change.table, facts, "while it is rewritten")


@rule(ch.SetViewCheckOption)
def _view_check_option(change: ch.SetViewCheckOption, facts: Facts) -> list[Hazard]:
    return []


@rule(ch.AlterOwner)
def _alter_owner(change: ch.AlterOwner, facts: Facts) -> list[Hazard]:
    return [Hazard("authz", f"{change.owner} owns {change.target}: every privilege on it, and past its row-level "
                            "security unless forced")]


@rule(ch.CreateIndex)
def _create_index(change: ch.CreateIndex, facts: Facts) -> list[Hazard]:
    assert change.item.table is not None
    owner = qname(change.item.table.name)
    populated = facts.populated(owner)
    if change.concurrently or not populated:
        return []
    return [Hazard("index-build", f"building {change.item.key[1]} blocks writes to {owner} ({populated})")]


@rule(ch.CreateTrigger)
def _create_trigger(change: ch.Create, facts: Facts) -> list[Hazard]:
    return []


@rule(ch.EnableRls)
def _enable_rls(change: ch.Create, facts: Facts) -> list[Hazard]:
    return [Hazard("authz", f"row-level security enabled on {change.item.key[1]}")]


@rule(ch.CreatePolicy)
def _create_policy(change: ch.Create, facts: Facts) -> list[Hazard]:
    assert change.item.table is not None
    table = qname(change.item.table.name)
    return [Hazard("authz", f"policy {change.item.obj.name!r} on {table} is created")] + \
        _lock(table, facts, "while the policy is created")


@rule(ch.DropPolicy)
def _drop_policy(change: ch.DropPolicy, facts: Facts) -> list[Hazard]:
    return [Hazard("authz", f"policy {change.name!r} on {change.table} is dropped")] + \
        _lock(change.table, facts, "while the policy is dropped")


@rule(ch.AlterPolicy)
def _alter_policy(change: ch.AlterPolicy, facts: Facts) -> list[Hazard]:
    return [Hazard("authz", f"policy {change.name!r} on {change.table} changes")] + \
        _lock(change.table, facts, "while the policy changes")


@rule(ch.SetRls)
def _set_rls(change: ch.SetRls, facts: Facts) -> list[Hazard]:
    return [Hazard("authz", change.describe())] + _lock(change.table, facts, "")


@rule(ch.Grant, ch.DefaultGrant)
def _grant(change: ch.Grant | ch.DefaultGrant, facts: Facts) -> list[Hazard]:
    return [Hazard("authz", change.describe())]


@rule(ch.CreatePartition)
def _create_partition(change: ch.CreatePartition, facts: Facts) -> list[Hazard]:
    """A partition's own grants reach its rows without the parent's policies; creating it locks the parent, and
    PostgreSQL scans a default partition for rows the new bounds take (refusing the partition when it finds any)."""
    entry = change.item.obj
    granted = ", ".join(f"{g.role}: {'/'.join(g.privileges)}" for g in entry.partition.grants)
    out = [Hazard("authz", f"grants {granted} on partition {entry.name}")] if granted else []
    return out + _lock(entry.parent, facts, f"while partition {entry.name} is created (a default partition is "
                                            "scanned for rows it must give up)")


@rule(ch.DetachPartition)
def _detach_partition(change: ch.DetachPartition, facts: Facts) -> list[Hazard]:
    return _lock(change.table, facts, f"while {change.partition} is detached")


@rule(ch.AttachPartition)
def _attach_partition(change: ch.AttachPartition, facts: Facts) -> list[Hazard]:
    """ATTACH scans the partition (and a default partition) to prove every row fits the new bounds: a row outside
    them makes the plan fail (its transaction is rolled back, nothing is lost)."""
    rows = facts.populated(change.partition)
    reason = f"{change.partition} is scanned to check every row fits the new bounds; a row outside them fails the " \
             "plan" + (f" ({rows})" if rows else "")
    return [Hazard("lock", reason)]


@rule(ch.DropTable)
def _drop_table(change: ch.DropTable, facts: Facts) -> list[Hazard]:
    populated = facts.populated(change.name)
    return [Hazard("data-loss", f"table {change.name} and its rows are dropped"
                                + (f" ({populated})" if populated else ""))]


@rule(ch.DropExtension)
def _drop_extension(change: ch.DropExtension, facts: Facts) -> list[Hazard]:
    # Its types, functions and operators go with it, and the data of any configuration table it keeps.
    return [Hazard("data-loss", f"extension {change.name} is dropped with every object it provides "
                                "(PostgreSQL refuses while an object it does not own still uses one)")]


@rule(ch.DropType)
def _drop_type(change: ch.DropType, facts: Facts) -> list[Hazard]:
    # PostgreSQL refuses DROP TYPE while a column still uses it: the columns' own drops carry their data loss.
    return []


@rule(ch.AlterType)
def _alter_type_in_place(change: ch.AlterType, facts: Facts) -> list[Hazard]:
    # A domain's new CHECK or NOT NULL is checked against every stored value: the plan fails, losing nothing.
    if change.dropped is None:
        return []
    return [Hazard("data-loss", f"attribute {change.dropped} of type {change.name} is dropped with its values in "
                                "every column of the type")]


@rule(ch.DropSequence)
def _drop_sequence(change: ch.DropSequence, facts: Facts) -> list[Hazard]:
    return [Hazard("data-loss", f"sequence {change.name} and its position are dropped")]


@rule(ch.DropRaw)
def _drop_raw(change: ch.DropRaw, facts: Facts) -> list[Hazard]:
    return [Hazard("data-loss", f"raw {change.name} is dropped by its own drop SQL (what it held, the tool cannot "
                                "tell)")]


@rule(ch.DeleteSeedRow)
def _delete_seed(change: ch.DeleteSeedRow, facts: Facts) -> list[Hazard]:
    return [Hazard("data-loss", f"seed row {change.key} of {change.table} is deleted (the spec no longer has it)")]


@rule(ch.DropColumn)
def _drop_column(change: ch.DropColumn, facts: Facts) -> list[Hazard]:
    if change.computed:  # its values are computed again by the ADD COLUMN that follows
        return _lock(change.table, facts, "")
    return [Hazard("data-loss", f"column {change.table}.{change.column} and its values are dropped")] + \
        _lock(change.table, facts, "")


@rule(ch.AddColumn)
def _add_column(change: ch.AddColumn, facts: Facts) -> list[Hazard]:
    out = _lock(change.table, facts, "")
    populated = facts.populated(change.table)
    computed = change.spec is not None and (change.spec.identity is not None or change.spec.generated is not None)
    if computed and populated:
        out.append(Hazard("rewrite", f"{change.table} is rewritten to fill the "
                                     f"{'identity' if change.spec and change.spec.identity else 'generated'} column "
                                     f"{change.column}"))
    elif change.not_null and change.default is None and populated:
        # PostgreSQL fills existing rows with NULL, which NOT NULL refuses: the statement fails on any row.
        out.append(Hazard("data-loss", f"{change.table}.{change.column} is NOT NULL without a default, so adding "
                                       f"it fails unless the table is empty ({populated}); give it a default, or "
                                       "add it nullable, fill it, then set NOT NULL"))
    if change.default is not None and any(f"{fn}(" in change.default.lower() for fn in VOLATILE_DEFAULTS) \
            and facts.populated(change.table):
        out.append(Hazard("rewrite", f"{change.table} is rewritten to fill the volatile default of "
                                     f"{change.column}"))
    return out


@rule(ch.AlterColumnType)
def _alter_type(change: ch.AlterColumnType, facts: Facts) -> list[Hazard]:
    rewrite, loss = type_change(change.old_type, change.type)
    out = _lock(change.table, facts, "")
    where = f"{change.table}.{change.column} ({change.old_type} -> {change.type})"
    if rewrite:
        out.append(Hazard("rewrite", f"{change.table} is rewritten: {where}"))
    if loss:
        out.append(Hazard("data-loss", f"values may be lost or refused: {where}"))
    return out


@rule(ch.SetDefault)
def _set_default(change: ch.SetDefault, facts: Facts) -> list[Hazard]:
    return _lock(change.table, facts, "(brief: no scan)")


@rule(ch.AlterColumn)
def _alter_column(change: ch.AlterColumn, facts: Facts) -> list[Hazard]:
    # Identity and DROP EXPRESSION change the catalog and the column's sequence, not the rows.
    return _lock(change.table, facts, "(brief: no scan)")


@rule(ch.SetNotNull)
def _set_not_null(change: ch.SetNotNull, facts: Facts) -> list[Hazard]:
    scans = change.not_null and not change.proven
    return _lock(change.table, facts, "while every row is checked" if scans else "(brief: no scan)")


@rule(ch.AddConstraint)
def _add_constraint(change: ch.AddConstraint, facts: Facts) -> list[Hazard]:
    if change.not_valid:
        return []
    out = _lock(change.table, facts, "while every row is checked")
    populated = facts.populated(change.table)
    if change.kind in ("primary key", "unique", "exclude") and populated:
        out.append(Hazard("index-build", f"the index of {change.name} is built on {change.table} ({populated})"))
    return out


@rule(ch.DropConstraint, ch.AlterConstraint)
def _drop_constraint(change: ch.DropConstraint | ch.AlterConstraint, facts: Facts) -> list[Hazard]:
    return _lock(change.table, facts, "(brief: no scan)")


@rule(ch.DropIndex)
def _drop_index(change: ch.DropIndex, facts: Facts) -> list[Hazard]:
    return [] if change.concurrently else _lock(change.table, facts, "(brief: no scan)")


@rule(ch.DropTrigger)
def _drop_trigger(change: ch.DropTrigger, facts: Facts) -> list[Hazard]:
    return _lock(change.table, facts, "(brief: no scan)")


# -- type changes -----------------------------------------------------------------------------------------------
_INTEGERS = ("smallint", "integer", "bigint")


def type_change(old: str, new: str) -> tuple[bool, bool]:
    """(rewrites the table, may lose or refuse values) for ALTER COLUMN ... TYPE from `old` to `new`."""
    try:
        a, b = parse_type(old), parse_type(new)
    except TypeSyntaxError:
        return True, True
    if a == b:
        return False, False
    if a.array_dims != b.array_dims:
        return True, True
    if a.base in ("varchar", "text") and b.base in ("varchar", "text"):
        return _length_change(a, b)
    if a.base == b.base == "numeric":
        widened = not b.args or (a.args and len(a.args) == len(b.args) and b.args[0] >= a.args[0]
                                 and a.args[1:] == b.args[1:])
        return (not widened), (not widened)
    if a.base in _INTEGERS and b.base in _INTEGERS:
        return True, _INTEGERS.index(b.base) < _INTEGERS.index(a.base)
    if b.base == "text":
        return True, False
    return True, True


def _length_change(a: SqlType, b: SqlType) -> tuple[bool, bool]:
    old, new = a.max_length, b.max_length
    if new is None:  # to text or unbounded varchar: binary-compatible, nothing refused
        return False, False
    if old is not None and new >= old:
        return False, False
    return False, True  # shorter: every value is checked, longer ones are refused
