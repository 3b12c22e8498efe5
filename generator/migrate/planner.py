"""From differences to an ordered list of typed changes.

Every difference `drift.compare` reports between the spec and the (renamed) old snapshot becomes changes here:
a missing object is created through the output's templates, an extra one dropped, a changed field altered in
place where PostgreSQL can (ALTER POLICY, ALTER COLUMN, CREATE OR REPLACE FUNCTION, ALTER VIEW SET, ...), and
replaced (drop + create) where it cannot. A replaced object takes its dependants with it: what depends on it in
the old dependency graph (read from the model and from parsed SQL, as `order.py` builds it) is dropped before it
and created again after it.

Order, in phases: renames; drops of dependants (old graph, dependants first); creates and alters (new graph,
the order `generate` writes); drops of base objects (old graph, dependants first); and with --online, what must
run outside the transaction (CREATE INDEX CONCURRENTLY, VALIDATE CONSTRAINT).
"""

from __future__ import annotations

import heapq
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from .. import drift, sqlparse
from ..derive import (
    Catalog,
    Constraint,
    column_clauses,
    function_id,
    identity_options,
    identity_sql,
    parse_reference,
    seed_fingerprint,
    seed_key,
    seed_key_text,
)
from ..diagnostics import Collector, Pos
from ..drift import Constant, Difference, same_constant
from ..introspect import Snapshot
from ..model import Column, MaterializedView, Policy, TypeDef, View
from ..order import Item, Key, Placed, build_items, order
from ..partitions import bound_sql
from ..render import attribute_sql, raw_text, routine_target
from ..sqltext import QName, TypeSyntaxError, ident, parse_type, qname, value_literal
from . import changes as ch
from .hazards import Facts, Hazard, hazards
from .snapshot import MISSING_ROW, Declared, apply_renames, mentions

BEFORE, RENAME, DROP_DEPENDANT, CHANGE, DROP, AFTER = range(6)
PHASES = ("before the transaction", "renames", "drops of dependants", "changes", "drops",
          "outside the transaction")
# Steps of the changes of one table, in the order they must run.
# The order of one table's changes. An identity or generation expression goes before defaults and NOT NULL change
# (PostgreSQL refuses both on an identity column), and an identity comes after them (ADD IDENTITY needs NOT NULL
# and no default).
_STEP: dict[Any, int] = {
    ch.DropConstraint: 1, "drop identity": 2, ch.DropColumn: 3, ch.AddColumn: 4, ch.AlterColumnType: 5,
    ch.SetDefault: 6, ch.SetNotNull: 7, "identity": 8, ch.AddConstraint: 9, ch.SetRls: 10, ch.ValidateConstraint: 11}
# The column differences (drift's) an identity change is made of.
_IDENTITY_WHATS = frozenset({"identity", "identity start", "identity increment", "identity min_value",
                             "identity max_value", "identity cache", "identity cycle"})
_CONSTRAINT_ORDER = {"primary key": 0, "unique": 1, "check": 2, "foreign key": 3, "exclude": 4}
_RECREATABLE = frozenset({"view", "matview", "policy", "trigger", "function", "index"})
# Differences of a type that PostgreSQL cannot make in place (the type is dropped and created), and those of a
# composite type's attributes.
_TYPE_REBUILT = frozenset({"kind", "base type", "collation"})
_ATTRIBUTE_CHANGES = frozenset({"attribute missing", "attribute extra", "attribute type", "attribute collation",
                                "attribute order"})


@dataclass(frozen=True)
class Options:
    online: bool = False


@dataclass(frozen=True)
class Step:
    change: ch.Change
    phase: int
    anchor: Key  # the object (in the old or new dependency graph) whose position orders the change
    step: int = 0
    hazards: tuple[Hazard, ...] = ()

    @property
    def transactional(self) -> bool:
        return self.phase not in (BEFORE, AFTER)

    @property
    def before(self) -> bool:
        """Runs (and commits) before the plan's transaction, so the transaction may use what it adds."""
        return self.phase == BEFORE


@dataclass(frozen=True)
class Plan:
    catalog: Catalog  # the spec planned towards (objects it creates render from it)
    steps: tuple[Step, ...]
    notes: tuple[str, ...] = ()  # what the plan leaves alone, by name
    online: bool = False
    differences: tuple[Difference, ...] = ()  # what `verify` reports for the same two sides

    @property
    def empty(self) -> bool:
        return not self.steps

    def hazard_kinds(self) -> set[str]:
        return {h.kind for s in self.steps for h in s.hazards}


def _ranks(items: Iterable[Item]) -> dict[Key, int]:
    """Topological positions in a dependency graph that may have cycles (a database can): ties and cycles are
    broken by the items' sort keys, so the result is deterministic."""
    by_key = {i.key: i for i in items}
    waiting = {k: {d for d in i.deps if d in by_key and d != k} for k, i in by_key.items()}
    dependents: dict[Key, list[Key]] = {}
    for k, deps in waiting.items():
        for d in deps:
            dependents.setdefault(d, []).append(k)
    ready = [(by_key[k].sort_key, k) for k, deps in waiting.items() if not deps]
    heapq.heapify(ready)
    out: dict[Key, int] = {}
    while len(out) < len(by_key):
        if not ready:  # a cycle: take the smallest waiting item
            k = min((k for k in by_key if k not in out), key=lambda k: (by_key[k].sort_key, k))
            heapq.heappush(ready, (by_key[k].sort_key, k))
        _, k = heapq.heappop(ready)
        if k in out:
            continue
        out[k] = len(out)
        for dep in dependents.get(k, ()):
            waiting[dep].discard(k)
            if not waiting[dep] and dep not in out:
                heapq.heappush(ready, (by_key[dep].sort_key, dep))
    return out


def _graph_key(kind: str, key: Any) -> Key:
    """The dependency-graph key (order.py) of the object a difference names."""
    if kind == "function":
        return ("function", function_id(*key))
    if kind in ("index",):
        return ("index", f"{key[0].schema}.{key[1]}")
    if kind in ("trigger", "policy"):
        return (kind, f"{key[0]}.{key[1]}")
    if kind in ("column", "constraint", "column grant"):
        return ("table", str(key[0]))
    if kind == "grant":
        return _graph_key(*key)
    if kind == "materialized view":
        return ("matview", str(key))
    return (kind, str(key))


def _default_sql(column: Column) -> str | None:
    if column.default_sql is not None:
        return column.default_sql
    return value_literal(column.default, parse_type(column.type)) if column.default is not None else None


def _constraint_change(table: QName, con: Constraint, *, not_valid: bool = False) -> ch.AddConstraint:
    target = target_columns = None
    if con.kind == "foreign key" and con.ref_text:
        ref, cols = parse_reference(con.ref_text)
        target, target_columns = ref.sql, ", ".join(ident(c) for c in cols)
    return ch.AddConstraint(table, con.name, con.kind, ", ".join(ident(c) for c in con.columns), target,
                            target_columns, (con.on_delete or "").upper() or None,
                            (con.on_update or "").upper() or None, con.expr, not_valid or con.not_valid,
                            con.nulls_not_distinct, con.deferral, con.using, con.elements_sql, con.where)


def _roles(policy: Policy) -> str:
    return ", ".join("PUBLIC" if r == "public" else ident(r) for r in policy.roles)


def _grant_target(owner_kind: str, owner_key: Any, catalog: Catalog, old: Catalog) -> str:
    if owner_kind == "schema":
        return f"SCHEMA {ident(owner_key)}"
    if owner_kind == "sequence":
        return f"SEQUENCE {owner_key.sql}"
    if owner_kind == "type":
        return f"TYPE {owner_key.sql}"
    if owner_kind == "function":
        name, types = owner_key
        fn = catalog.routines.get(function_id(name, types)) or old.routines.get(function_id(name, types))
        return f"{fn.KIND.upper() if fn else 'FUNCTION'} {name.sql}({', '.join(types)})"
    return f"TABLE {owner_key.sql}"


@dataclass
class _Planner:
    new: Catalog
    old: Snapshot
    options: Options
    facts: Facts
    skip: frozenset[str] = frozenset()  # `kind name` of objects the plan leaves alone (--target supabase)
    renames: list[ch.Rename] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    replaced: set[Key] = field(default_factory=set)  # graph keys dropped and created again
    created: set[Key] = field(default_factory=set)
    placed: list[Placed] | None = None  # order(new), when the caller has it

    def __post_init__(self) -> None:
        self.old_catalog = Catalog(self.old.schema)
        placed = order(self.new) if self.placed is None else self.placed
        self.new_items = {p.item.key: p.item for p in placed}
        self.new_rank = {p.item.key: n for n, p in enumerate(placed)}
        self.old_items = {i.key: i for i in build_items(self.old_catalog)}
        self.old_rank = _ranks(self.old_items.values())
        self.dependants: dict[Key, set[Key]] = {}
        for item in self.old_items.values():
            for dep in item.deps:
                self.dependants.setdefault(dep, set()).add(item.key)
        self.old_tables = {qname(t.name): t for t in self.old.module.tables}
        self.old_sequences = {qname(s.name): s for s in self.old.module.sequences}
        self.old_views = {qname(v.name): v for v in self.old.module.views}

    # -- emitting ---------------------------------------------------------------------------------------------------
    def add(self, change: ch.Change, phase: int, anchor: Key, step: int = 0) -> None:
        self.steps.append(Step(change, phase, anchor, step))

    def create(self, key: Key, cls: type[ch.Create], **extra: Any) -> None:
        item = self.new_items[key]
        # PostgreSQL builds no index CONCURRENTLY on a partitioned table: there it is built in the transaction
        if cls is ch.CreateIndex and self.options.online and item.table is not None \
                and qname(item.table.name) not in self.facts.new_tables \
                and getattr(item.table, "partition_by", None) is None:
            self.add(ch.CreateIndex(item, concurrently=True), AFTER, key, 1)
        else:
            self.add(cls(item, **extra), CHANGE, key)
        self.created.add(key)

    def ordered(self) -> list[Step]:
        def sort_key(s: Step) -> tuple[Any, ...]:
            if s.phase in (DROP_DEPENDANT, DROP) and s.anchor[0] == "raw":
                rank = -len(self.old_rank) - 1  # last in any order (the old graph has no raw objects): first out
            elif s.phase in (DROP_DEPENDANT, DROP):
                rank = -self.old_rank.get(s.anchor, -1)
            elif s.phase == RENAME:
                rank = -1
            else:
                rank = self.new_rank.get(s.anchor, len(self.new_rank))
            sub = s.step
            if isinstance(s.change, ch.AddConstraint):
                sub = (s.step, _CONSTRAINT_ORDER.get(s.change.kind, 9))  # type: ignore[assignment]
            elif isinstance(s.change, ch.Grant):
                sub = (20, int(s.change.grant))  # type: ignore[assignment]  # revokes first: REVOKE ALL, then GRANT
            elif isinstance(s.change, ch.Comment):
                sub = (21, 0)  # type: ignore[assignment]
            else:
                sub = (sub, 0)  # type: ignore[assignment]
            return (s.phase, rank, sub, s.change.describe())

        # Python's sort is stable: changes that tie keep the order they were planned in (renames, in particular).
        out = sorted(self.steps, key=sort_key)
        return [replace(s, hazards=hazards(s.change, self.facts)) for s in out]

    # -- the differences --------------------------------------------------------------------------------------------
    def run(self, differences: list[Difference]) -> Plan:
        for n, r in enumerate(self.renames):  # in the order they were found: a table before its parts
            self.add(r, RENAME, ("rename", ""), n)
        by_object: dict[tuple[str, Any], list[Difference]] = {}
        for d in differences:
            by_object.setdefault((d.kind, d.key), []).append(d)
        # Replacements first, so that the alters of replaced objects can be left out.
        self.replace_all(_graph_key(kind, key) for (kind, key), diffs in by_object.items()
                         if self.needs_replacement(kind, key, {d.what for d in diffs}))
        for (kind, key), diffs in by_object.items():
            handler = getattr(self, f"on_{kind.replace(' ', '_')}")
            handler(key, diffs)
        self.seeds()
        self.raw_registry()
        self.drop_before_rename()
        return Plan(self.new, tuple(self.ordered()), tuple(self.notes), self.options.online, tuple(differences))

    def drop_before_rename(self) -> None:
        """A constraint, index or policy renamed and then dropped (its change needs a DROP and a CREATE: a key's
        deferral, an index's keys, a policy's command) is dropped by its old name, without the rename: renaming
        what is dropped next is a wasted statement (and a lock) a reviewer has to read."""
        for r in list(self.renames):
            for n, s in enumerate(self.steps):
                c = s.change
                if r.kind == "constraint" and isinstance(c, ch.DropConstraint) and c.table == r.table \
                        and c.name == r.new:
                    dropped: ch.Change = replace(c, name=r.old)
                elif r.kind == "index" and isinstance(c, ch.DropIndex) and c.name == QName(r.schema, r.new):
                    dropped = replace(c, name=QName(r.schema, r.old))
                elif r.kind == "policy" and isinstance(c, ch.DropPolicy) and c.table == r.table and c.name == r.new:
                    dropped = replace(c, name=r.old)
                else:
                    continue
                self.steps[n] = replace(s, change=dropped)
                self.steps = [t for t in self.steps if t.change is not r]
                self.renames.remove(r)
                break

    def needs_replacement(self, kind: str, key: Any, what: set[str]) -> bool:
        """Whether PostgreSQL cannot make this object's change in place (it is then dropped and created)."""
        if "missing" in what or "extra" in what:
            return False
        replace_when = {
            "function": {"arguments", "returns", "kind"},
            "index": {"unique", "method", "keys", "WHERE", "include", "nulls_not_distinct"},
            "trigger": {"timing", "events", "UPDATE OF", "for each", "function", "arguments", "WHEN", "constraint",
                        "deferrable",
                        "initially deferred", "old_table", "new_table"},
            "policy": {"command", "mode"},
            "view": {"query"},
            "materialized view": {"query", "with_data"},
            "type": _TYPE_REBUILT,
        }.get(kind, set())
        return (bool(what & replace_when) or (kind == "policy" and self.policy_clause_removed(key))
                or (kind == "function" and "argument defaults" in what and self.default_removed(key)))

    def default_removed(self, key: tuple[QName, tuple[str, ...]]) -> bool:
        """CREATE OR REPLACE FUNCTION can add and change argument defaults, not remove them."""
        new = self.new.routines[function_id(*key)]
        old = self.old_catalog.routines[function_id(*key)]
        return any(o.default is not None and n.default is None for o, n in zip(old.args, new.args, strict=False))

    def policy_clause_removed(self, key: tuple[QName, str]) -> bool:
        """ALTER POLICY can set USING / WITH CHECK but not remove them."""
        table, name = key
        new = next(p for p in self.new.tables[table].policies if p.name == name)
        old = next(p for p in self.old_tables[table].policies if p.name == name)
        return (new.using is None and old.using is not None) or (new.with_check is None and old.with_check is not None)

    def replace_all(self, keys: Iterable[Key]) -> None:
        """Replace these objects (drop, then create from the spec) and, transitively, what depends on them in the
        old graph and is still in the spec."""
        todo = list(keys)
        added: list[Key] = []
        while todo:
            key = todo.pop()
            if key in self.replaced:
                continue
            self.replaced.add(key)
            added.append(key)
            todo += [d for d in self.dependants.get(key, ()) if d[0] in _RECREATABLE and d in self.new_items]
        for key in sorted(added):
            self.drop_old(key, DROP_DEPENDANT)
            self.create(key, _CREATE[key[0]])
        # Raw SQL objects that use a replaced object (their SQL may hold on to it): their drop, then their SQL.
        for key, item in sorted(self.new_items.items()):
            if key[0] == "raw" and key[1] in self.old.raw and key not in self.replaced and item.deps & set(added):
                self.on_raw(key[1], [Difference(f"raw {key[1]}", "replaced with what it uses", "raw", key[1],
                                                "sql")])

    def rebuild_users_of_column(self, table: QName, column: str) -> None:
        """Views, policies and triggers that use a column whose type changes or that is dropped: PostgreSQL
        refuses both while they exist, so they are dropped first and created again after."""
        users = []
        for dep in sorted(self.dependants.get(("table", str(table)), ())):
            if dep[0] not in ("view", "matview", "policy", "trigger") or dep not in self.new_items:
                continue
            obj = self.old_items[dep].obj
            if any(mentions(t, column) for t in _texts(obj)) or (isinstance(obj, View | MaterializedView)
                                                                 and _selects_star(obj.query)):
                users.append(dep)
        self.replace_all(users)

    def drop_old(self, key: Key, phase: int) -> None:
        """DROP of an object of the old side, by its graph key."""
        item = self.old_items[key]
        obj = item.obj
        change: ch.Change
        if key[0] == "view":
            change = ch.DropView(qname(obj.name))
        elif key[0] == "matview":
            change = ch.DropMatview(qname(obj.name))
        elif key[0] == "function":
            change = ch.DropFunction(qname(obj.name), tuple(str(parse_type(a.type)) for a in obj.inputs),
                                     obj.KIND == "procedure")
        elif key[0] == "policy":
            assert item.table is not None
            change = ch.DropPolicy(qname(item.table.name), obj.name)
        elif key[0] == "trigger":
            assert item.table is not None
            change = ch.DropTrigger(qname(item.table.name), obj.name)
        elif key[0] == "type":
            change = ch.DropType(qname(obj.name))
        elif key[0] == "index":
            assert item.table is not None
            table = qname(item.table.name)
            if self.options.online and getattr(item.table, "partition_by", None) is None:  # as CREATE INDEX
                self.add(ch.DropIndex(QName(table.schema, obj.name), table, concurrently=True), AFTER, key, 0)
                return
            change = ch.DropIndex(QName(table.schema, obj.name), table)
        else:
            raise AssertionError(key)
        self.add(change, phase, key)

    def is_replaced(self, kind: str, key: Any) -> bool:
        """Changes to an object that is replaced or created whole are part of its CREATE."""
        return _graph_key(kind, key) in self.replaced

    # -- one handler per difference kind ----------------------------------------------------------------------------
    def on_role(self, name: str, diffs: list[Difference]) -> None:
        what = {d.what for d in diffs}
        if "missing" in what:
            self.create(("role", name), ch.CreateRole)
        elif "extra" in what:
            self.notes.append(f"role {name} is no longer declared; roles are cluster-wide and are not dropped")
        else:
            role = self.new.roles[name]
            self.add(ch.AlterRole(name, role.login, role.bypass_rls), CHANGE, ("role", name))

    def on_schema(self, name: str, diffs: list[Difference]) -> None:
        for d in diffs:
            if d.what == "missing":
                self.create(("schema", name), ch.CreateSchema)
            elif d.what == "extra":
                self.add(ch.DropSchema(name), DROP, ("schema", name))
            elif d.what == "comment":
                spec = self.new.schemas[name]
                self.add(ch.Comment(f"SCHEMA {ident(name)}", spec.comment if spec else None), CHANGE,
                         ("schema", name))
            elif d.what == "owner":
                self.owner(f"SCHEMA {ident(name)}", self.new.schemas[name], ("schema", name))

    def on_grant(self, key: tuple[str, Any], diffs: list[Difference]) -> None:
        owner_kind, owner_key = key
        if owner_kind == "default privileges":
            self.on_default_grant(owner_key, diffs)
            return
        if self.is_replaced(owner_kind, owner_key):
            return
        target = _grant_target(owner_kind, owner_key, self.new, self.old_catalog)
        anchor = _graph_key(owner_kind, owner_key)
        # ALL stays ALL (what it means depends on the server: MAINTAIN is PostgreSQL 17+): a role the spec grants
        # ALL gets GRANT ALL; a role that had ALL (an older spec) and keeps less gets REVOKE ALL, then its grants.
        wanted = {g.role: g.privileges for g in _grants(self.new, owner_kind, owner_key)}
        had_all = {g.role for g in _grants(self.old_catalog, owner_kind, owner_key) if "all" in g.privileges}
        done: set[str] = set()
        for d in diffs:
            role, privilege = d.detail
            if role in done:
                continue
            if d.what == "missing" and "all" in wanted.get(role, ()):
                self.add(ch.Grant(target, "all", role, True), CHANGE, anchor)
                done.add(role)
            elif d.what == "extra" and role in had_all:
                self.add(ch.Grant(target, "all", role, False), CHANGE, anchor)
                for kept in wanted.get(role, ()):
                    self.add(ch.Grant(target, kept, role, True), CHANGE, anchor)
                done.add(role)
            elif role not in had_all or d.what == "missing":
                self.add(ch.Grant(target, privilege, role, d.what == "missing"), CHANGE, anchor)

    def on_default_grant(self, key: tuple[str | None, str | None, str], diffs: list[Difference]) -> None:
        """Default privileges granted or revoked one by one (the global defaults' built-in PUBLIC privilege too)."""
        role, schema, kind = key
        for d in diffs:
            grantee, privilege = d.detail
            self.add(ch.DefaultGrant(role, schema, kind, privilege, grantee, d.what == "missing"), CHANGE,
                     _graph_key("default privileges", key))

    def on_column_grant(self, key: tuple[QName, str], diffs: list[Difference]) -> None:
        table, column = key
        for d in diffs:
            role, privilege = d.detail
            self.add(ch.Grant(f"TABLE {table.sql}", privilege, role, d.what == "missing", column), CHANGE,
                     ("table", str(table)))

    def on_extension(self, name: str, diffs: list[Difference]) -> None:
        key: Key = ("extension", name)
        for d in diffs:
            if d.what == "missing":
                self.create(key, ch.CreateExtension)
            elif d.what == "extra":
                self.add(ch.DropExtension(name), DROP, key)
            elif d.what == "schema":
                self.add(ch.AlterExtension(name, schema=self.new.extensions[name].schema), CHANGE, key)
            elif d.what == "version":
                self.add(ch.AlterExtension(name, version=self.new.extensions[name].version), CHANGE, key)

    def on_type(self, name: QName, diffs: list[Difference]) -> None:
        key: Key = ("type", str(name))
        what = {d.what for d in diffs}
        if "missing" in what:
            if key not in self.replaced:
                self.create(key, ch.CreateType)
            return
        if "extra" in what:
            self.add(ch.DropType(name), DROP, key)
            return
        new = self.new.types[name]
        old = next(t for t in self.old.module.types if qname(t.name) == name)
        if key in self.replaced:
            self.refuse_type_rebuild(key, new, [d for d in diffs if d.what in _TYPE_REBUILT])
            return
        if what & _ATTRIBUTE_CHANGES:
            self.attributes(key, name, new, old, diffs)
        domain = new.kind == "domain"
        checked = [d for d in diffs if d.what in ("check missing", "check") or (d.what == "not_null" and new.not_null)]
        if checked:
            self.refuse_checking_inside(name, new, checked)
        for d in diffs:
            if d.what == "comment":
                self.add(ch.Comment(f"TYPE {name.sql}", new.comment), CHANGE, key)
            elif d.what == "owner":
                self.owner(f"{'DOMAIN' if domain else 'TYPE'} {name.sql}", new, key)
            elif d.what == "values":
                for value, where, anchor in added_values(new, old.enum):
                    self.add(ch.AddEnumValue(name, value, where, anchor), BEFORE, key)
            elif d.what == "not_null":
                self.add(ch.AlterType(name, "SET NOT NULL" if new.not_null else "DROP NOT NULL", domain), CHANGE,
                         key, 3)
            elif d.what == "default":
                action = "DROP DEFAULT" if new.default is None else f"SET DEFAULT {new.default}"
                self.add(ch.AlterType(name, action, domain), CHANGE, key, 2)
            elif d.what in ("check extra", "check"):
                self.add(ch.AlterType(name, f"DROP CONSTRAINT {ident(d.detail)}", domain), CHANGE, key, 1)
            if d.what in ("check missing", "check"):
                # --online, as for a table's CHECK: added NOT VALID, then validated outside the transaction (a
                # lighter lock while PostgreSQL reads the stored values).
                expr = next(c.expr for c in new.checks if c.name == d.detail)
                online = " NOT VALID" if self.options.online else ""
                self.add(ch.AlterType(name, f"ADD CONSTRAINT {ident(d.detail)} CHECK ({expr}){online}", domain),
                         CHANGE, key, 4)
                if self.options.online:
                    self.add(ch.AlterType(name, f"VALIDATE CONSTRAINT {ident(d.detail)}", domain), AFTER, key, 2)

    def attributes(self, key: Key, name: QName, new: TypeDef, old: TypeDef, diffs: list[Difference]) -> None:
        """A composite type's attributes dropped, retyped and added in place. PostgreSQL adds attributes at the
        end, cannot reorder them, and cannot retype one while a table column uses the type: a spec asking for that
        is refused, at the type's `attributes:`."""
        errors = Collector()
        added = [a.name for a in new.attributes if a.name not in {o.name for o in old.attributes}]
        kept = [o.name for o in old.attributes if o.name in {a.name for a in new.attributes}]
        if kept + added != [a.name for a in new.attributes]:
            errors.error(new.loc("attributes"), f"type {new.name}: attributes in the order "
                                                f"{', '.join(a.name for a in new.attributes)}, which PostgreSQL "
                                                f"cannot do in place (it adds attributes at the end: "
                                                f"{', '.join(kept + added)}); keep that order, or create a new type "
                                                "and migrate its users by hand")
        retyped = sorted({d.detail for d in diffs if d.what in ("attribute type", "attribute collation")})
        tables = sorted(u[1] for u in self.users_of(key) if u[0] == "table")
        if retyped and tables:
            errors.error(new.loc("attributes"), f"type {new.name}: attribute(s) {', '.join(retyped)} change type, "
                                                "which PostgreSQL refuses while a table column uses the type (used "
                                                f"by {', '.join(tables)}); add a new attribute instead, or migrate "
                                                "the columns by hand")
        errors.raise_if_any()
        by_name = {a.name: a for a in new.attributes}
        for d in diffs:
            if d.what == "attribute extra":
                self.add(ch.AlterType(name, f"DROP ATTRIBUTE {ident(d.detail)}", dropped=d.detail), CHANGE, key, 1)
        for attribute in retyped:
            self.add(ch.AlterType(name, f"ALTER ATTRIBUTE {attribute_sql(by_name[attribute], 'TYPE ')}"), CHANGE,
                     key, 2)
        for n, attribute in enumerate(added):
            self.add(ch.AlterType(name, f"ADD ATTRIBUTE {attribute_sql(by_name[attribute])}"), CHANGE, key, 10 + n)

    def refuse_checking_inside(self, name: QName, new: TypeDef, diffs: list[Difference]) -> None:
        """PostgreSQL checks a domain's new CHECK or NOT NULL against the values of the columns of the domain, and
        refuses it ("cannot alter type") while a column holds the domain inside an array or another type."""
        containers = {str(name)}  # the types whose values hold a value of the domain
        grown = True
        while grown:
            grown = False
            for t in self.old.module.types:
                inner = [a.type for a in t.attributes] + ([t.domain] if t.domain else [])
                if str(qname(t.name)) not in containers and any(_type_base(x) in containers for x in inner):
                    containers.add(str(qname(t.name)))
                    grown = True
        holders = sorted(f"{qname(t.name)}.{c.name}" for t in self.old.module.tables for c in t.columns
                         if _type_base(c.type) in containers
                         and (_type_base(c.type) != str(name) or "[" in c.type))
        if holders:
            errors = Collector()
            errors.error(new.loc("checks" if "check" in diffs[0].what else "not_null"),
                         f"type {new.name}: {diffs[0].message}, which PostgreSQL refuses while a column holds the "
                         f"domain inside an array or another type ({', '.join(holders)}); add it by hand with NOT "
                         "VALID, or migrate those columns first")
            errors.raise_if_any()

    def users_of(self, key: Key) -> set[Key]:
        """What uses an object in the old graph, directly or through other objects (a domain over a type)."""
        out: set[Key] = set()
        todo = [key]
        while todo:
            for user in self.dependants.get(todo.pop(), ()):
                if user not in out:
                    out.add(user)
                    todo.append(user)
        return out

    def refuse_type_rebuild(self, key: Key, new: TypeDef, diffs: list[Difference]) -> None:
        """A type's kind, or a domain's base type or collation, changes only by DROP and CREATE: refused while a
        table or another type uses it (functions, views, policies and triggers are created again)."""
        blocking = sorted(f"{k[0]} {k[1]}" for k in self.users_of(key) if k[0] not in _RECREATABLE)
        if not blocking:
            return
        changed = ", ".join(d.message for d in diffs)
        errors = Collector()
        errors.error(new.loc("domain" if new.kind == "domain" and "kind" not in {d.what for d in diffs} else "name"),
                     f"type {new.name}: {changed}; PostgreSQL changes that only by dropping the type and creating "
                     f"it again, which it refuses while {', '.join(blocking)} use(s) it: create a new type and "
                     "migrate its users by hand")
        errors.raise_if_any()

    def on_sequence(self, name: QName, diffs: list[Difference]) -> None:
        key: Key = ("sequence", str(name))
        options: list[str] = []
        for d in diffs:
            if d.what == "missing":
                self.create(key, ch.CreateSequence)
                if self.new.sequences[name].owned_by is not None:
                    self.create(("owned_by", str(name)), ch.SetOwnedBy)
            elif d.what == "extra":
                dropped_with = self.dropped_with_owner(name)
                if dropped_with is None:
                    self.add(ch.DropSequence(name), DROP, key)
                else:
                    self.notes.append(f"sequence {name} is dropped with {dropped_with}, which owns it")
            elif d.what == "owned_by":  # after the table and column it names; NONE before they may go
                owned = self.new.sequences[name].owned_by is not None
                # NONE first (step -1, before the sequence's other changes) when the column owning it now is
                # dropped with the table's changes, which come after the sequence's (DROP COLUMN would take the
                # sequence along), or when it gets another owner (PostgreSQL refuses OWNER TO while it is owned)
                if not owned or self.dropped_with_owner(name) is not None or "owner" in {x.what for x in diffs}:
                    self.add(ch.AlterSequence(name, ("OWNED BY NONE",)), CHANGE, key, -1)
                if owned:
                    self.create(("owned_by", str(name)), ch.SetOwnedBy)
            elif d.what == "comment":
                self.add(ch.Comment(f"SEQUENCE {name.sql}", self.new.sequences[name].comment), CHANGE, key)
            elif d.what == "owner":
                if self.owned_by_kept(name):
                    # PostgreSQL refuses OWNER TO on an owned sequence: its table's OWNER TO (check keeps the two
                    # owners one) carries it along
                    continue
                self.owner(f"SEQUENCE {name.sql}", self.new.sequences[name], key)
            else:
                options.append(d.what)
        if options:
            seq = self.new.sequences[name]
            low, high = drift.sequence_bounds(seq)
            spelled = {"type": f"AS {seq.type}", "start": f"START WITH {seq.start}",
                       "increment": f"INCREMENT BY {seq.increment}", "min_value": f"MINVALUE {low}",
                       "max_value": f"MAXVALUE {high}", "cache": f"CACHE {seq.cache}",
                       "cycle": "CYCLE" if seq.cycle else "NO CYCLE"}
            self.add(ch.AlterSequence(name, tuple(spelled[o] for o in spelled if o in options)), CHANGE, key)

    def owned_by_kept(self, name: QName) -> bool:
        """Whether a sequence is owned by the same column in the old side and in the spec."""
        old = self.old_sequences.get(name)
        new = self.new.sequences.get(name)
        return old is not None and new is not None and old.owning_column is not None \
            and drift.owning_column(old) == drift.owning_column(new)

    def dropped_with_owner(self, name: QName) -> str | None:
        """The table or column owning a sequence of the old side that this plan drops (PostgreSQL then drops the
        sequence with it), as `table T` or `column T.C`; None when its owner stays or it has none."""
        old = self.old_sequences.get(name)
        parts = old.owning_column if old is not None else None
        if parts is None:
            return None
        table, column = qname(parts[0]), parts[1]
        if table not in self.new.tables:
            return f"table {table}"
        if column not in {c.name for c in self.new.tables[table].columns}:
            return f"column {table}.{column}"
        return None

    def on_function(self, key: tuple[QName, tuple[str, ...]], diffs: list[Difference]) -> None:
        name, types = key
        gkey: Key = ("function", function_id(name, types))
        what = {d.what for d in diffs}
        if "missing" in what:
            if gkey not in self.replaced:
                self.create(gkey, ch.CreateFunction)
            return
        if "extra" in what:
            # A function whose argument types changed is another function: the old one goes at the end, after
            # whatever used it was moved to the new one (policies, triggers and views calling it are rebuilt).
            old = self.old_catalog.routines.get(gkey[1])
            self.add(ch.DropFunction(name, types, old is not None and old.KIND == "procedure"), DROP, gkey)
            self.replace_users_of(gkey)
            return
        if gkey in self.replaced:
            return
        if what & {"language", "volatility", "security", "strict", "leakproof", "parallel", "cost", "rows",
                   "search_path", "argument defaults", "body"}:
            self.add(ch.ReplaceFunction(self.new_items[gkey]), CHANGE, gkey)
        new = self.new.routines[gkey[1]]
        if "comment" in what:
            self.add(ch.Comment(routine_target(new), new.comment), CHANGE, gkey)
        if "owner" in what:
            self.owner(routine_target(new), new, gkey)

    def replace_users_of(self, key: Key) -> None:
        self.replace_all(d for d in self.dependants.get(key, ()) if d[0] in _RECREATABLE and d in self.new_items
                         and d != key)

    def create_children(self, name: QName) -> None:
        """The indexes, triggers, RLS and policies of a relation created whole (seed rows are planned apart)."""
        for child in sorted(k for k, i in self.new_items.items()
                            if i.table is not None and qname(i.table.name) == name and k[0] != "seed"):
            if child not in self.created:
                self.create(child, _CREATE[child[0]])

    def on_table(self, name: QName, diffs: list[Difference]) -> None:
        key: Key = ("table", str(name))
        for d in diffs:
            if d.what == "missing":
                self.create(key, ch.CreateTable)
                self.create_children(name)
            elif d.what == "extra":
                self.add(ch.DropTable(name), DROP, key)
            elif d.what in ("rls", "force"):
                spec = self.new.tables[name]
                on = spec.rls != "off" if d.what == "rls" else spec.rls == "forced"
                self.add(ch.SetRls(name, "enable" if d.what == "rls" else "force", on), CHANGE, key, _STEP[ch.SetRls])
            elif d.what == "comment":
                self.add(ch.Comment(f"TABLE {name.sql}", self.new.tables[name].comment), CHANGE, key)
            elif d.what == "unlogged":
                # PostgreSQL lets no permanent table reference an unlogged one: tables become unlogged referencing
                # tables first (the order of dependants' drops), and logged referenced tables first (creation order).
                unlogged = self.new.tables[name].unlogged
                self.add(ch.SetLogged(name, unlogged), DROP_DEPENDANT if unlogged else CHANGE, key)
            elif d.what == "owner":
                self.owner(f"TABLE {name.sql}", self.new.tables[name], key)
            elif d.what == "partition_by":
                self.refuse_repartitioning(f"table {name}", self.new.tables[name], self.old_tables[name].partition_by)

    def on_partition(self, name: QName, diffs: list[Difference]) -> None:
        """A new partition is created; one gone is detached and dropped (its rows with it); new bounds or another
        parent are a DETACH and an ATTACH (PostgreSQL checks the rows against the new bounds). Every detach runs
        before the changes, so partitions may trade ranges. A partition key PostgreSQL cannot change is refused."""
        key: Key = ("partition", str(name))
        what = {d.what for d in diffs}
        if "missing" in what:
            if key not in self.created:
                self.create(key, ch.CreatePartition)
            return
        old = self.old_catalog.partitions[name]
        if "extra" in what:
            self.add(ch.DetachPartition(old.parent, name), DROP_DEPENDANT, key)
            self.add(ch.DropTable(name), DROP_DEPENDANT, key, 1)
            return
        new = self.new.partitions[name]
        if "partition_by" in what:
            self.refuse_repartitioning(f"partition {name}", new.partition, old.partition.partition_by)
        if what & {"bounds", "parent"}:
            self.add(ch.DetachPartition(old.parent, name), DROP_DEPENDANT, key)
            self.add(ch.AttachPartition(new.parent, name, bound_sql(new.partition)), CHANGE, key)
        for d in diffs:
            if d.what == "comment":
                self.add(ch.Comment(f"TABLE {name.sql}", new.partition.comment), CHANGE, key)
            elif d.what == "owner":
                self.owner(f"TABLE {name.sql}", new.partition, key)
            elif d.what == "own":
                self.notes.append(f"partition {name}: {d.detail} of its own is left alone (the spec declares a "
                                  "partition's indexes, constraints, triggers and policies on its parent): drop it "
                                  "by hand, or declare it on the parent")

    def refuse_repartitioning(self, subject: str, new: Any, old: str | None) -> None:
        """PostgreSQL has no ALTER TABLE to change a table's partitioning (or to make a table partitioned)."""
        errors = Collector()
        errors.error(new.loc("partition_by") if "partition_by" in new.at else new.loc("name"),
                     f"{subject}: partition_by {new.partition_by or 'none'} in spec, {old or 'none'} in the "
                     "database, which PostgreSQL cannot change (no ALTER TABLE does it): create a new table with "
                     "the new partitioning and move the rows (INSERT ... SELECT), or keep the old key")
        errors.raise_if_any()

    def on_column(self, key: tuple[QName, str], diffs: list[Difference]) -> None:
        table, column = key
        tkey: Key = ("table", str(table))
        what = {d.what for d in diffs}
        if "extra" in what:
            self.rebuild_users_of_column(table, column)
            self.add(ch.DropColumn(table, column), CHANGE, tkey, _STEP[ch.DropColumn])
            return
        spec = next(c for c in self.new.tables[table].columns if c.name == column)
        in_key = any(column in con.columns for con in self.new.constraints(self.new.tables[table])
                     if con.kind == "primary key")
        if "missing" in what:
            self.add_column(table, spec, in_key)
            if spec.comment:
                self.add(ch.Comment(f"COLUMN {table.sql}.{ident(column)}", spec.comment), CHANGE, tkey)
            return
        old = next(c for c in self.old_tables[table].columns if c.name == column)
        if "generated" in what and self.regenerate(table, old, spec, in_key):
            return  # dropped and added again: every other property comes with it
        if "type" in what or "collation" in what:
            self.rebuild_users_of_column(table, column)
            self.add(ch.AlterColumnType(table, column, str(parse_type(spec.type)), old.type, spec.using,
                                        ident(spec.collation) if spec.collation is not None else None), CHANGE,
                     tkey, _STEP[ch.AlterColumnType])
        if what & _IDENTITY_WHATS:
            self.alter_identity(table, old, spec)
        if "default" in what:
            self.add(ch.SetDefault(table, column, _default_sql(spec)), CHANGE, tkey, _STEP[ch.SetDefault])
        if "not_null" in what:
            not_null = spec.not_null or in_key
            if not_null and self.options.online:
                self.online_not_null(table, column)
            else:
                self.add(ch.SetNotNull(table, column, not_null), CHANGE, tkey, _STEP[ch.SetNotNull])
        if "comment" in what:
            self.add(ch.Comment(f"COLUMN {table.sql}.{ident(column)}", spec.comment), CHANGE, tkey)

    def add_column(self, table: QName, spec: Column, in_key: bool) -> None:
        self.add(ch.AddColumn(table, spec.name, str(parse_type(spec.type)) + column_clauses(spec), _default_sql(spec),
                              spec.not_null or in_key, spec), CHANGE, ("table", str(table)), _STEP[ch.AddColumn])

    def regenerate(self, table: QName, old: Column, spec: Column, in_key: bool) -> bool:
        """A generation expression changed or added: PostgreSQL 15 cannot alter one (SET EXPRESSION is 17+), so the
        column is dropped and added again, with the indexes, constraints, views, policies and triggers that use it.
        A generated column that becomes plain keeps its values (DROP EXPRESSION); returns False then, for the
        column's other changes."""
        tkey: Key = ("table", str(table))
        if spec.generated is None:
            self.add(ch.AlterColumn(table, spec.name, "DROP EXPRESSION", "drop generation expression"), CHANGE, tkey,
                     _STEP["drop identity"])
            return False
        self.rebuild_users_of_column(table, spec.name)
        self.replace_all(k for k, i in self.new_items.items() if k[0] == "index" and i.table is not None
                         and qname(i.table.name) == table and k in self.old_items
                         and any(mentions(t, spec.name) for t in (i.obj.where, *i.obj.columns)))
        self.add(ch.DropColumn(table, spec.name, computed=old.generated is not None), CHANGE, tkey,
                 _STEP[ch.DropColumn])
        self.add_column(table, spec, in_key)
        for con in self.new.constraints(self.new.tables[table]):
            if spec.name in con.columns or (con.expr is not None and mentions(con.expr, spec.name)):
                self.add(_constraint_change(table, con), CHANGE, tkey, _STEP[ch.AddConstraint])
        return True

    def alter_identity(self, table: QName, old: Column, spec: Column) -> None:
        """ADD GENERATED ... AS IDENTITY (numbering on after the rows' values), DROP IDENTITY, or SET GENERATED
        and the sequence options (all of them, PostgreSQL's defaults filled in: what the spec now says)."""
        tkey: Key = ("table", str(table))
        if spec.identity is None:
            self.add(ch.AlterColumn(table, spec.name, "DROP IDENTITY", "drop identity"), CHANGE, tkey,
                     _STEP["drop identity"])
            return
        if old.identity is None:
            start, increment, *_ = identity_options(spec.identity, parse_type(spec.type).base)
            self.add(ch.AlterColumn(table, spec.name, "ADD " + identity_sql(spec.identity), "add identity",
                                    str(start) if increment > 0 else None), CHANGE, tkey, _STEP["identity"])
            return
        start, increment, low, high, cache, cycle = identity_options(spec.identity, parse_type(spec.type).base)
        self.add(ch.AlterColumn(table, spec.name,
                                f"SET GENERATED {spec.identity.generated.upper()} SET START WITH {start} "
                                f"SET INCREMENT BY {increment} SET MINVALUE {low} SET MAXVALUE {high} "
                                f"SET CACHE {cache} SET {'' if cycle else 'NO '}CYCLE", "change identity"),
                 CHANGE, tkey, _STEP["identity"])

    def online_not_null(self, table: QName, column: str) -> None:
        """SET NOT NULL without a long ACCESS EXCLUSIVE scan: a NOT VALID check, validated under a weaker lock,
        lets SET NOT NULL skip the scan (PostgreSQL 12+); the check is dropped afterwards."""
        tkey: Key = ("table", str(table))
        name = f"{column}_not_null_pgspec"[:63]
        self.add(ch.AddConstraint(table, name, "check", expr=f"{ident(column)} IS NOT NULL", not_valid=True),
                 CHANGE, tkey, _STEP[ch.AddConstraint])
        self.add(ch.ValidateConstraint(table, name), AFTER, tkey, 2)
        self.add(ch.SetNotNull(table, column, True, proven=True), AFTER, tkey, 3)
        self.add(ch.DropConstraint(table, name, "check"), AFTER, tkey, 4)

    def on_constraint(self, key: tuple[QName, str], diffs: list[Difference]) -> None:
        table, name = key
        tkey: Key = ("table", str(table))
        what = {d.what for d in diffs}
        if self.constraint_in_place(table, name, what):
            return
        if "missing" not in what:
            old = next(c for c in self.old.constraints[table] if c.name == name)
            # A foreign key goes with the dependants, before the keys and tables it references change.
            phase, step = (DROP_DEPENDANT, 0) if old.kind == "foreign key" else (CHANGE, _STEP[ch.DropConstraint])
            self.add(ch.DropConstraint(table, name, old.kind), phase, tkey, step)
        if "extra" not in what:
            con = next(c for c in self.new.constraints(self.new.tables[table]) if c.name == name)
            online = self.options.online and con.kind in ("check", "foreign key")
            self.add(_constraint_change(table, con, not_valid=online), CHANGE, tkey, _STEP[ch.AddConstraint])
            if online and not con.not_valid:
                self.add(ch.ValidateConstraint(table, name), AFTER, tkey, 2)

    def constraint_in_place(self, table: QName, name: str, what: set[str]) -> bool:
        """A constraint changed without dropping it: NOT VALID the spec no longer states is VALIDATE CONSTRAINT
        (under a lock that lets writes go on); a foreign key's deferral is ALTER CONSTRAINT. Whether it was."""
        if what - {"not_valid", "deferrable"} or not what:
            return False
        con = next(c for c in self.new.constraints(self.new.tables[table]) if c.name == name)
        if "not_valid" in what and con.not_valid:  # NOT VALID again: only dropping and adding it says so
            return False
        if "deferrable" in what and con.kind != "foreign key":  # PostgreSQL alters only a foreign key's deferral
            return False
        tkey: Key = ("table", str(table))
        if "deferrable" in what:
            deferral = ("NOT DEFERRABLE" if not con.deferrable else "DEFERRABLE INITIALLY DEFERRED" if con.deferred
                        else "DEFERRABLE INITIALLY IMMEDIATE")
            self.add(ch.AlterConstraint(table, name, deferral), CHANGE, tkey, _STEP[ch.AddConstraint])
        if "not_valid" in what:
            self.add(ch.ValidateConstraint(table, name), AFTER, tkey, 2)
        return True

    def on_index(self, key: tuple[QName, str], diffs: list[Difference]) -> None:
        table, name = key
        gkey = _graph_key("index", key)
        what = {d.what for d in diffs}
        if "extra" in what:
            self.drop_old(gkey, DROP_DEPENDANT)
        elif "missing" in what:
            self.create(gkey, ch.CreateIndex)
        elif "comment" in what and gkey not in self.replaced:
            owner = self.new.tables.get(table) or self.new.matviews[table]
            index = next(i for i in owner.indexes if i.name == name)
            self.add(ch.Comment(f"INDEX {ident(table.schema)}.{ident(name)}", index.comment), CHANGE, gkey)

    def on_trigger(self, key: tuple[QName, str], diffs: list[Difference]) -> None:
        table, name = key
        gkey = _graph_key("trigger", key)
        what = {d.what for d in diffs}
        if "extra" in what:
            self.drop_old(gkey, DROP_DEPENDANT)
            return
        if "missing" in what:
            self.create(gkey, ch.CreateTrigger)
            return
        if gkey in self.replaced:
            return
        owner = self.new.tables.get(table) or self.new.views[table]
        trigger = next(t for t in owner.triggers if t.name == name)
        if "enabled" in what:
            self.add(ch.SetTriggerMode(table, name, trigger.enabled), CHANGE, gkey)
        if "comment" in what:
            self.add(ch.Comment(f"TRIGGER {ident(name)} ON {table.sql}", trigger.comment), CHANGE, gkey)

    def on_policy(self, key: tuple[QName, str], diffs: list[Difference]) -> None:
        table, name = key
        gkey = _graph_key("policy", key)
        what = {d.what for d in diffs}
        if "extra" in what:
            self.drop_old(gkey, DROP_DEPENDANT)
            return
        if "missing" in what:
            self.create(gkey, ch.CreatePolicy)
            return
        if gkey in self.replaced:
            return
        policy = next(p for p in self.new.tables[table].policies if p.name == name)
        if what & {"roles", "USING", "WITH CHECK"}:
            self.add(ch.AlterPolicy(table, name, _roles(policy), policy.using, policy.with_check), CHANGE, gkey)
        if "comment" in what:
            self.add(ch.Comment(f"POLICY {ident(name)} ON {table.sql}", policy.comment), CHANGE, gkey)

    def seeds(self) -> None:
        """Seed rows by key: insert what the registry lacks, update what changed, delete what the spec dropped
        (only rows the registry names: rows the application wrote are never touched)."""
        have = {n: rows for n, rows in self.old.seeds.items() if f"table {n}" not in self.skip}
        wanted = {name: t for name, t in self.new.tables.items() if t.seed and f"table {name}" not in self.skip}
        if wanted and not self.old.seed_registry:  # created just before the first seed rows, as in the output
            first = min((("seed", str(n)) for n in wanted), key=lambda k: self.new_rank.get(k, 0))
            self.add(ch.CreateSeedRegistry(), CHANGE, first, 0)
        for n, r in enumerate(self.renames):
            if r.kind == "table" and QName(r.schema, r.new) in have:
                self.add(ch.SeedRegistryRows(QName(r.schema, r.old), QName(r.schema, r.new)), RENAME,
                         ("rename", ""), len(self.renames) + n)
        for name, table in wanted.items():
            key: Key = ("seed", str(name))
            if name in self.facts.new_tables:
                self.add(ch.InsertSeedRows(self.new_items[key]), CHANGE, key, 3)
                continue
            columns = seed_key(table, self.new.constraints(table))
            types = {c.name: c.type for c in table.columns}
            recorded = have.get(name, {})
            missing = []
            for row in table.seed:
                key_text = seed_key_text(row.values, columns)
                state = recorded.get(key_text)
                if state is None or state == MISSING_ROW:
                    missing.append(row)
                elif state != seed_fingerprint(row.values):
                    assignments = ", ".join(f"{ident(c)} = {value_literal(v, parse_type(types[c]))}"
                                            for c, v in row.values.items() if c not in columns)
                    if assignments:
                        self.add(ch.UpdateSeedRow(name, key_text, assignments, _key_condition(key_text, types)),
                                 CHANGE, key, 2)
            if missing:
                item = self.new_items[key]
                self.add(ch.InsertSeedRows(replace(item, obj=replace(table, seed=tuple(missing)))), CHANGE, key, 3)
        for name, recorded in have.items():
            spec = self.new.tables.get(name)
            if spec is None:
                if name in self.old_tables:
                    self.add(ch.SeedRegistryRows(name), DROP, ("table", str(name)))
                continue
            kept = {seed_key_text(r.values, seed_key(spec, self.new.constraints(spec))) for r in spec.seed}
            old_table = self.old_tables.get(name, spec)
            types = {c.name: c.type for c in old_table.columns}
            for key_text in sorted(set(recorded) - kept):
                self.add(ch.DeleteSeedRow(name, key_text, _key_condition(key_text, types)), CHANGE,
                         ("seed", str(name)), 1)

    def on_raw(self, name: str, diffs: list[Difference]) -> None:
        """New: run its SQL. Changed: its drop (as recorded when applied, else the spec's), then its SQL. Gone from
        the spec: its recorded drop. A raw object with no drop to run is refused."""
        key: Key = ("raw", name)
        if key in self.replaced:  # replaced already, with an object it uses
            return
        what = {d.what for d in diffs}
        if "sql" in what:
            self.replaced.add(key)
        recorded = self.old.raw.get(name, ("", None))[1]
        spec = self.new.raw.get(name)
        if what & {"extra", "sql"}:
            drop = recorded if recorded is not None else \
                raw_text(spec.drop) if spec is not None and spec.drop is not None else None
            if drop is None:
                errors = Collector()
                where = spec.loc("sql") if spec is not None else Pos(self.new.schema.modules[0].source, 1, 1)
                errors.error(where, f"raw {name}: " + ("its SQL changed since it was applied" if spec else
                                                       "it is no longer in the spec")
                             + ", and neither the spec nor the database has a `drop:` for it, so a plan cannot "
                               "remove what it created: give it a `drop:`, or drop it by hand and DELETE its row "
                               "from pgspec.raw_objects")
                errors.raise_if_any()
            self.add(ch.DropRaw(name, str(drop)), DROP_DEPENDANT, key)
        if what & {"missing", "sql"}:
            self.create(key, ch.CreateRaw)

    def raw_registry(self) -> None:
        """The registry, created just before the first raw SQL object a plan creates (as the output does)."""
        created = [k for k in self.created if k[0] == "raw"]
        if created and not self.old.raw_registry:
            first = min(created, key=lambda k: self.new_rank.get(k, 0))
            self.add(ch.CreateRawRegistry(), CHANGE, first, -1)

    def on_view(self, name: QName, diffs: list[Difference]) -> None:
        key: Key = ("view", str(name))
        what = {d.what for d in diffs}
        if "extra" in what:
            self.drop_old(key, DROP_DEPENDANT)
            return
        if "missing" in what:
            if key not in self.replaced:
                self.create(key, ch.CreateView)
                self.create_children(name)
            return
        if key in self.replaced:
            return
        view = self.new.views[name]
        if what & {"security_invoker", "security_barrier"}:
            options = f"security_invoker = {'true' if view.security_invoker else 'false'}, " \
                      f"security_barrier = {'true' if view.security_barrier else 'false'}"
            self.add(ch.SetViewOptions(name, options, view.security_invoker), CHANGE, key)
        if "check_option" in what:
            self.add(ch.SetViewCheckOption(name, view.check_option), CHANGE, key)
        if "comment" in what:
            self.add(ch.Comment(f"VIEW {name.sql}", view.comment), CHANGE, key)
        if "owner" in what:
            self.owner(f"VIEW {name.sql}", view, key)

    def owner(self, target: str, obj: Any, key: Key) -> None:
        """ALTER ... OWNER TO the spec's owner (drift reports an owner only when the spec names one)."""
        assert obj.owner is not None
        self.add(ch.AlterOwner(target, obj.owner), CHANGE, key)


    def on_materialized_view(self, name: QName, diffs: list[Difference]) -> None:
        key: Key = ("matview", str(name))
        what = {d.what for d in diffs}
        if "extra" in what:
            self.drop_old(key, DROP_DEPENDANT)
        elif "missing" in what:
            if key not in self.replaced:
                self.create(key, ch.CreateMatview)
                self.create_children(name)
        elif key not in self.replaced:
            if "comment" in what:
                self.add(ch.Comment(f"MATERIALIZED VIEW {name.sql}", self.new.matviews[name].comment), CHANGE, key)
            if "owner" in what:
                self.owner(f"MATERIALIZED VIEW {name.sql}", self.new.matviews[name], key)


def _selects_star(query: str) -> bool:
    """Whether a view selects `*` or `t.*`: it then uses every column of its tables."""
    try:
        tree = sqlparse.parse_query(query.strip().rstrip(";"))
    except sqlparse.SqlSyntaxError:
        return True
    return any(isinstance(n, sqlparse.ast.ColumnRef) and isinstance(n.fields[-1], sqlparse.ast.A_Star)
               for n in sqlparse.walk(tree))


def _texts(obj: Any) -> list[str | None]:
    """The SQL a view, policy or trigger holds, where a column it uses is named."""
    if isinstance(obj, View | MaterializedView):
        return [obj.query]
    if isinstance(obj, Policy):
        return [obj.using, obj.with_check]
    return [obj.when, *obj.columns]


def _type_base(text: str) -> str:
    """The type a column or attribute type names, without array brackets (`public.t` for `t[]`)."""
    try:
        return parse_type(text).base
    except TypeSyntaxError:
        return text


def _grants(side: Catalog, kind: str, key: Any) -> tuple[Any, ...]:
    """The grants one side declares on the object a grant difference names."""
    if kind == "function":
        fn = side.routines.get(function_id(*key))
        return fn.grants if fn is not None else ()
    if kind == "schema":
        schema = side.schemas.get(key)
        return schema.grants if schema else ()
    if kind == "type":
        type_def = side.types.get(key)
        return type_def.acl if type_def else ()
    if kind == "partition":
        entry = side.partitions.get(key)
        return entry.partition.grants if entry is not None else ()
    relations: dict[str, Mapping[QName, Any]] = {"sequence": side.sequences, "table": side.tables,
                                                 "view": side.views, "materialized view": side.matviews}
    objects = relations.get(kind, {})
    return objects[key].grants if key in objects else ()


def added_values(new: TypeDef, old: tuple[str, ...]) -> list[tuple[str, str, str]]:
    """The ALTER TYPE ... ADD VALUE steps (value, BEFORE or AFTER, neighbour) that turn the labels `old` (declared
    renames applied) into the spec's. PostgreSQL cannot drop or reorder labels: a spec asking for that is refused,
    at the type's `enum:`, naming what to do instead."""
    kept = [v for v in new.enum if v in old]
    gone = [v for v in old if v not in new.enum]
    errors = Collector()
    if gone:
        errors.error(new.loc("enum"), f"type {new.name}: value(s) {', '.join(map(repr, gone))} removed, which "
                                      "PostgreSQL cannot do (ALTER TYPE has no DROP VALUE): declare a rename under "
                                      "`renamed_values:`, or migrate the columns to a new type by hand")
    elif kept != list(old):
        errors.error(new.loc("enum"), f"type {new.name}: values reordered ({', '.join(old)} -> "
                                      f"{', '.join(kept)}), which PostgreSQL cannot do; only new values can be "
                                      "placed anywhere")
    errors.raise_if_any()
    steps: list[tuple[str, str, str]] = []
    current = list(old)
    for i, value in enumerate(new.enum):
        if value in current:
            continue
        if i > 0:  # the values before it are in place already, in the spec's order
            steps.append((value, "AFTER", new.enum[i - 1]))
            current.insert(current.index(new.enum[i - 1]) + 1, value)
        else:
            steps.append((value, "BEFORE", current[0]))
            current.insert(0, value)
    return steps


def _key_condition(key_text: str, types: Mapping[str, str]) -> str:
    """`col = value AND ...` for a seed row's recorded key."""
    parts = []
    for column, value in sorted(json.loads(key_text).items()):
        parts.append(f"{ident(column)} IS NULL" if value is None else
                     f"{ident(column)} = {value_literal(value, parse_type(types[column]))}")
    return " AND ".join(parts) or "true"


_CREATE: dict[str, type[ch.Create]] = {
    "role": ch.CreateRole, "schema": ch.CreateSchema, "extension": ch.CreateExtension, "type": ch.CreateType,
    "sequence": ch.CreateSequence,
    "function": ch.CreateFunction,
    "table": ch.CreateTable, "partition": ch.CreatePartition, "index": ch.CreateIndex, "trigger": ch.CreateTrigger,
    "rls": ch.EnableRls,
    "policy": ch.CreatePolicy, "view": ch.CreateView, "matview": ch.CreateMatview,
}


def plan(new: Catalog, old: Snapshot, *, options: Options = Options(), rows: Mapping[QName, int] | None = None,
         constant: Constant = same_constant, skip: frozenset[str] = frozenset(),
         renames: list[Declared] | None = None, notes: Iterable[str] = (),
         partial: Mapping[QName, frozenset[tuple[str, str]]] | None = None,
         placed: list[Placed] | None = None) -> Plan:
    """The plan that brings `old` (a database snapshot, or an older spec's) to the spec `new`. `renames`: the
    renames to look for (default: what `new` declares; a down migration passes the forward ones inverted).
    `partial`: children of skipped (platform) tables that are planned all the same (drift.platform_children).
    `placed`: order(new), when the caller computed it already (while the database was being read)."""
    renamed, found = apply_renames(new, old, renames)
    differences = drift.compare(new, renamed, constant, skip=skip, partial=partial)
    new_tables = frozenset(d.key for d in differences if d.kind == "table" and d.what == "missing")
    planner = _Planner(new, renamed, options, Facts(rows, new_tables), skip, placed=placed)
    planner.renames = [ch.Rename(r.kind, r.old, r.new, r.table, r.schema, r.args) for r in found]
    planner.notes = list(notes)
    return planner.run(differences)

