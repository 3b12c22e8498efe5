"""Dependency order: the spec becomes a list of render items, topologically sorted, each placed in an output module.

An item is one unit of output (a table with its constraints, grants and comments; an index; a policy; ...). Its
dependencies are read from the model and from the parse trees of its SQL fragments. Items are emitted in
topological order, ties broken by a readable key (kind group, owning object, name), so the output is stable.

Placement: an item goes to the module it is declared in, or to the first later module where all its dependencies
exist. A trigger declared with its table in 03 whose function lives in 06 is emitted in 06, after the function.
"""

from __future__ import annotations

import functools
import heapq
from dataclasses import dataclass, field
from typing import Any

from . import sqlparse
from .derive import Catalog, default_acls, parse_reference
from .diagnostics import Collector, Pos
from .model import (
    DefaultPrivileges,
    Function,
    Grant,
    Index,
    MaterializedView,
    Policy,
    RawSql,
    Sequence,
    Table,
    Trigger,
    TypeDef,
    View,
)
from .partitions import PartitionEntry, PartitionSyntaxError, parse_partition_by, partitions_of
from .sqltext import (
    INDEX_KEY,
    SYSTEM_SCHEMAS,
    QName,
    TypeSyntaxError,
    is_user_type,
    parse_returns,
    qname,
    routine_name,
)

Key = tuple[str, str]  # (kind, identity)

_GROUP = {"role": 0, "schema": 1, "extension": 2, "default_privileges": 3, "type": 4, "sequence": 5, "function": 6,
          "table": 7, "view": 8, "matview": 9, "raw": 10}
_TABLE_CHILD = {"table": 0, "partition": 1, "owned_by": 2, "index": 3, "trigger": 4, "rls": 5, "policy": 6,
                "seed": 7}


@dataclass(frozen=True)
class Item:
    kind: str
    key: Key
    obj: Any
    module: int  # index of the module it is declared in
    pos: Pos
    # owning table (view, materialized view) of indexes, triggers, RLS, policies and seed rows
    table: Table | View | MaterializedView | None = None
    deps: frozenset[Key] = field(default_factory=frozenset)

    @property
    def sort_key(self) -> tuple[int, str, int, str]:
        if self.table is not None or self.kind == "table":
            owner = str(qname(self.table.name if self.table else self.obj.name))
            return (_GROUP["table"], owner, _TABLE_CHILD[self.kind], self.key[1])
        if self.kind == "function":  # by name, then (overloads) by argument types
            name, _, types = self.key[1].partition("(")
            return (_GROUP[self.kind], name, 0, types)
        return (_GROUP[self.kind], self.key[1], 0, "")


@dataclass(frozen=True)
class Placed:
    item: Item
    module: int  # output module it is emitted in


def build_items(catalog: Catalog) -> list[Item]:
    items: list[Item] = []
    for index, module in enumerate(catalog.schema.modules):
        for role in module.roles:
            items.append(Item("role", ("role", role.name), role, index, role.pos))
        for schema_def in module.schemas:
            items.append(Item("schema", ("schema", schema_def.name), schema_def, index, schema_def.pos,
                              deps=_grant_deps(schema_def.grants, schema_def.owner)))
        for extension in module.extensions:
            deps = _schema_dep(QName(extension.schema or "public", extension.name))
            items.append(Item("extension", ("extension", extension.name), extension, index, extension.pos,
                              deps=deps))
        for defaults in module.default_privileges:
            if default_acls(defaults):  # an entry that grants nothing and revokes nothing has no statement
                items.append(_default_privileges_item(catalog, defaults, index))
        for type_def in module.types:
            items.append(_type_item(catalog, type_def, index))
        for seq in module.sequences:
            name = qname(seq.name)
            items.append(Item("sequence", ("sequence", str(name)), seq, index, seq.pos,
                              deps=_schema_dep(name) | _acl_deps(catalog)))
            owned = _owned_by_item(catalog, seq, index)
            if owned is not None:
                items.append(owned)
        for function in (*module.functions, *module.procedures):
            items.append(_function_item(catalog, function, index))
        for table in module.tables:
            items.extend(_table_items(catalog, table, index))
        for view in module.views:
            items.append(_view_item(catalog, view, index))
            items.extend(_trigger_item(catalog, view, trigger, index) for trigger in view.triggers)
        for matview in module.materialized_views:
            items.append(_view_item(catalog, matview, index, "matview"))
            items.extend(_index_item(catalog, matview, i, index) for i in matview.indexes)
        for raw in module.raw:
            items.append(_raw_item(catalog, raw, index))
    return items


def _owned_by_item(catalog: Catalog, seq: Sequence, module: int) -> Item | None:
    """ALTER SEQUENCE ... OWNED BY: after the sequence and its table (whose column default may well call the
    sequence, so the sequence comes before the table and its ownership after), in the table's block. None without
    `owned_by:`, or when it names no declared table (check says so)."""
    parts = seq.owning_column
    table = catalog.tables.get(qname(parts[0])) if parts is not None else None
    if table is None:
        return None
    name = qname(seq.name)
    return Item("owned_by", ("owned_by", str(name)), seq, module, seq.loc("owned_by"), table,
                frozenset({("sequence", str(name)), ("table", str(qname(table.name)))}))


def _sequence_deps(catalog: Catalog, *texts: str | None) -> frozenset[Key]:
    """The declared sequences that expressions name in nextval('s') (and currval, setval)."""
    deps: set[Key] = set()
    for text in texts:
        if text is not None:
            for schema, name in _sequence_refs(text):
                key = QName(schema or "public", name)
                if key in catalog.sequences:
                    deps.add(("sequence", str(key)))
    return frozenset(deps)


@functools.lru_cache(maxsize=65536)
def _sequence_refs(text: str) -> frozenset[tuple[str | None, str]]:
    return frozenset(sqlparse.sequence_names(sqlparse.parse_expression(text)))


def _type_item(catalog: Catalog, type_def: TypeDef, module: int) -> Item:
    """A type after its schema, its owner and the roles it is granted to, the types its attributes or base name and
    the functions its domain's default and CHECKs call (all resolved at CREATE time)."""
    name = qname(type_def.name)
    key: Key = ("type", str(name))
    deps = set(_schema_dep(name) | _grant_deps((), type_def.owner))
    if "grants" in type_def.at:  # its privileges (and their REVOKE ALL) are written only when the spec gives grants
        deps |= _acl_deps(catalog)
    deps |= _type_deps(catalog, *(a.type for a in type_def.attributes), *([type_def.domain] if type_def.domain else []))
    deps |= _expr_deps(catalog, type_def.default, *(c.expr for c in type_def.checks))
    deps.discard(key)  # a type naming itself is refused by check
    return Item("type", key, type_def, module, type_def.pos, deps=frozenset(deps))


def default_privileges_key(for_role: str | None, schema: str | None) -> Key:
    return ("default_privileges", f"{for_role or ''}@{schema or ''}")


def _default_privileges_item(catalog: Catalog, defaults: DefaultPrivileges, module: int) -> Item:
    deps = set(_schema_dep(QName(defaults.schema or "public", "")))
    deps |= {("role", acl.role) for acl in default_acls(defaults) if acl.role != "public"}
    if defaults.for_role in catalog.roles:
        deps.add(("role", defaults.for_role))
    # After the extensions: their own functions and types keep the privileges their scripts give them.
    deps |= _extension_deps(catalog, None)
    return Item("default_privileges", default_privileges_key(defaults.for_role, defaults.schema), defaults, module,
                defaults.pos, deps=frozenset(deps))


def _schema_dep(name: QName) -> frozenset[Key]:
    return frozenset() if name.schema == "public" else frozenset({("schema", name.schema)})


def _grant_deps(grants: tuple[Grant, ...], owner: str | None = None) -> frozenset[Key]:
    """The roles an object's grants and owner name."""
    return frozenset(("role", g.role) for g in grants if g.role != "public") | (
        {("role", owner)} if owner else frozenset())


def _acl_deps(catalog: Catalog) -> frozenset[Key]:
    """The roles an object with exact privileges needs: every role the spec declares, which its REVOKE ALL names
    (render.acl; REVOKE from a role that does not exist yet fails). Its owner and grantees are among them (check
    refuses any other, but PUBLIC and the bootstrap superuser, which exist before the output runs)."""
    return frozenset(("role", r) for r in catalog.roles)


def _type_deps(catalog: Catalog, *texts: str) -> frozenset[Key]:
    """The declared types that column, argument and result types name (`ticket_status`, `app.mood[]`)."""
    deps: set[Key] = set()
    for text in texts:
        try:
            returns = parse_returns(text)
        except TypeSyntaxError:  # reported by check
            continue
        for t in (returns.type, *(t for _, t in returns.columns)):
            if t is not None and is_user_type(t.base):
                deps |= _user_type_dep(catalog, qname(t.base))
    return frozenset(deps)


def _user_type_dep(catalog: Catalog, name: QName) -> frozenset[Key]:
    """A declared type, or else the extensions of its schema, one of which provides it (`citext`)."""
    if name in catalog.types:
        return frozenset({("type", str(name))})
    return _extension_deps(catalog, name.schema)


def _extension_deps(catalog: Catalog, schema: str | None) -> frozenset[Key]:
    """The extensions that may provide an object of `schema` the spec does not declare; every extension for an
    unqualified name (the search_path finds it wherever it is)."""
    return frozenset(("extension", e.name) for e in catalog.extensions.values()
                     if schema is None or (e.schema or "public") == schema)


def _ref_deps(catalog: Catalog, refs: sqlparse.Refs) -> frozenset[Key]:
    deps: set[Key] = set()
    for schema, name in refs.tables:
        rel = catalog.resolve_relation(schema, name)
        if rel is not None:
            kind = "table" if rel in catalog.tables else "view" if rel in catalog.views else \
                "matview" if rel in catalog.matviews else "partition" if rel in catalog.partitions else "sequence"
            deps.add((kind, str(rel)))
    for schema, name in refs.functions:
        fn = catalog.resolve_function(schema, name)
        if fn is not None:  # every overload of the name (which one a call means is PostgreSQL's to resolve)
            deps |= {catalog.routine_key(f) for f in catalog.overloads[fn]}
        elif schema not in SYSTEM_SCHEMAS:  # maybe an extension's (`gen_random_bytes()`)
            deps |= _extension_deps(catalog, schema)
    for schema, name in refs.types:
        deps |= _user_type_dep(catalog, QName(schema or "public", name))
    return frozenset(deps)


@functools.lru_cache(maxsize=65536)
def _expression_refs(text: str) -> sqlparse.Refs:
    """What one expression refers to (parsed once per text: plans build dependency graphs again and again).
    Callers only read the result."""
    return sqlparse.references(sqlparse.parse_expression(text))


def _expr_deps(catalog: Catalog, *texts: str | None) -> frozenset[Key]:
    refs = sqlparse.Refs()
    for text in texts:
        if text is not None:
            refs.add(_expression_refs(text))
    return _ref_deps(catalog, refs)


def _function_item(catalog: Catalog, function: Function, module: int) -> Item:
    name = qname(function.name)
    deps = _schema_dep(name) | _acl_deps(catalog)
    deps |= _expr_deps(catalog, *(a.default for a in function.args))  # resolved at CREATE time
    deps |= _type_deps(catalog, function.returns, *(a.type for a in function.args))
    if function.language == "sql":  # resolved at CREATE time; PL/pgSQL bodies only when they run
        deps |= _ref_deps(catalog, sqlparse.statement_references(function.body))
    else:  # ... except the row types of declared variables, which PostgreSQL's validator resolves at CREATE
        declared = {d.relation for d in sqlparse.plpgsql_declarations(function.body)}
        deps |= _ref_deps(catalog, sqlparse.Refs(tables={r for r in declared if r is not None}))
    key = catalog.routine_key(function)
    deps -= {key}
    return Item("function", key, function, module, function.pos, deps=deps)


def _table_items(catalog: Catalog, table: Table, module: int) -> list[Item]:
    name = qname(table.name)
    tkey: Key = ("table", str(name))
    deps = set(_schema_dep(name) | _acl_deps(catalog))
    for con in catalog.constraints(table):
        if con.kind == "foreign key" and con.ref_text:
            target = parse_reference(con.ref_text)[0]
            if target != name:
                deps.add(("table", str(target)))
        if con.expr:
            deps |= _expr_deps(catalog, con.expr)
        if con.kind == "exclude":  # its operator classes and operators may be an extension's (btree_gist)
            deps |= _expr_deps(catalog, con.where, *(k for k, _ in con.elements if k.startswith("(")))
            deps |= _extension_deps(catalog, None)
    deps |= _expr_deps(catalog, *(c.default_sql for c in table.columns), *(c.generated for c in table.columns))
    deps |= _sequence_deps(catalog, *(c.default_sql for c in table.columns))
    deps |= _type_deps(catalog, *(c.type for c in table.columns))
    deps |= _partition_key_deps(catalog, table.partition_by)
    deps.discard(tkey)
    items = [Item("table", tkey, table, module, table.pos, deps=frozenset(deps))]
    partitions = partitions_of(table)
    for entry in partitions:
        items.append(_partition_item(catalog, entry, module))
    for index in table.indexes:
        items.append(_index_item(catalog, table, index, module))
    for trigger in table.triggers:
        items.append(_trigger_item(catalog, table, trigger, module))
    if table.rls != "off":
        items.append(Item("rls", ("rls", str(name)), table, module, table.loc("rls"), table,
                          frozenset({tkey})))
    for policy in table.policies:
        items.append(_policy_item(catalog, table, policy, module))
    if table.seed:
        seed_deps = {tkey} | {("trigger", f"{name}.{t.name}") for t in table.triggers}
        seed_deps |= {("partition", str(entry.name)) for entry in partitions}  # the rows go into them
        for con in catalog.constraints(table):  # rows that reference seeded rows come after them
            if con.kind == "foreign key" and con.ref_text:
                target = parse_reference(con.ref_text)[0]
                if target != name and catalog.tables[target].seed:
                    seed_deps.add(("seed", str(target)))
        items.append(Item("seed", ("seed", str(name)), table, module, table.loc("seed"), table,
                          frozenset(seed_deps)))
    return items


def _partition_key_deps(catalog: Catalog, text: str | None) -> frozenset[Key]:
    """The functions and types the expressions of a partition key use."""
    try:
        key = parse_partition_by(text) if text is not None else None
    except PartitionSyntaxError:  # reported by check
        return frozenset()
    if key is None:
        return frozenset()
    refs = sqlparse.Refs()
    for expr in key.expressions:
        if expr is not None:
            refs.add(sqlparse.references(expr))
    return _ref_deps(catalog, refs)


def _partition_item(catalog: Catalog, entry: PartitionEntry, module: int) -> Item:
    """CREATE TABLE ... PARTITION OF: after its parent (the table, or a partitioned partition), in the block of the
    table at the top."""
    p = entry.partition
    parent: Key = ("table", str(entry.parent)) if entry.parent == qname(entry.table.name) \
        else ("partition", str(entry.parent))
    deps = {parent} | _schema_dep(entry.name) | _acl_deps(catalog) | \
        _partition_key_deps(catalog, p.partition_by)
    # a statement PostgreSQL refuses is most often refused for its bounds (an overlap): the judge points there
    return Item("partition", ("partition", str(entry.name)), entry, module, p.loc("values"), entry.table,
                frozenset(deps))


def _index_item(catalog: Catalog, table: Table | MaterializedView, index: Index, module: int) -> Item:
    name = qname(table.name)
    keys = [m for m in (INDEX_KEY.match(k.strip()) for k in index.columns) if m is not None]
    owner = "matview" if isinstance(table, MaterializedView) else "table"
    deps = {(owner, str(name))} | _expr_deps(catalog, index.where, *(m["expr"] for m in keys if m["expr"]))
    # its operator classes may be an extension's (btree_gist, pg_trgm)
    if index.method != "btree" or any(m["opclass"] for m in keys):
        deps |= _extension_deps(catalog, None)
    return Item("index", ("index", f"{name.schema}.{index.name}"), index, module, index.pos, table,
                frozenset(deps))


def _trigger_item(catalog: Catalog, table: Table | View, trigger: Trigger, module: int) -> Item:
    name = qname(table.name)
    owner = "view" if isinstance(table, View) else "table"
    deps = {(owner, str(name))} | trigger_function_keys(catalog, trigger)
    return Item("trigger", ("trigger", f"{name}.{trigger.name}"), trigger, module, trigger.pos, table,
                frozenset(deps))


def trigger_function_keys(catalog: Catalog, trigger: Trigger) -> set[Key]:
    """The order key of a trigger's function (none when the spec lacks it: check says so)."""
    found = catalog.routine(trigger.function)
    # overloaded: a trigger calls the one without arguments (check asks for `f()`)
    fn = found if isinstance(found, Function) else next(
        (f for f in catalog.overloads.get(routine_name(trigger.function), []) if not f.inputs), None)
    return {catalog.routine_key(fn)} if fn is not None else set()


def _policy_item(catalog: Catalog, table: Table, policy: Policy, module: int) -> Item:
    name = qname(table.name)
    deps = {("table", str(name)), ("rls", str(name))} if table.rls != "off" else {("table", str(name))}
    deps |= {("role", r) for r in policy.roles if r != "public"}
    deps |= _expr_deps(catalog, policy.using, policy.with_check)
    return Item("policy", ("policy", f"{name}.{policy.name}"), policy, module, policy.pos, table,
                frozenset(deps))


def _view_item(catalog: Catalog, view: View | MaterializedView, module: int, kind: str = "view") -> Item:
    """A view or (kind `matview`) a materialized view: after what its query reads."""
    name = qname(view.name)
    refs = sqlparse.references(sqlparse.parse_query(view.query))
    deps = set(_schema_dep(name) | _acl_deps(catalog) | _ref_deps(catalog, refs))
    deps.discard((kind, str(name)))
    return Item(kind, (kind, str(name)), view, module, view.pos, deps=frozenset(deps))


def _raw_item(catalog: Catalog, raw: RawSql, module: int) -> Item:
    """After what `depends_on` names and what its SQL visibly refers to (tables, functions, types it names)."""
    deps = {key for key in map(catalog.raw_dependency, raw.depends_on) if key is not None}
    deps |= _ref_deps(catalog, sqlparse.statement_references(raw.sql))
    deps.discard(("raw", raw.name))
    return Item("raw", ("raw", raw.name), raw, module, raw.pos, deps=frozenset(deps))


def order(catalog: Catalog) -> list[Placed]:
    """Items in emission order with their output module; raises SpecError on a dependency cycle.

    Modules are filled one after another. While filling module i, any item declared in module i or earlier whose
    dependencies are all placed is ready; the ready item with the smallest sort key goes next. An item still
    waiting at the end of module i moves on to module i+1 (its placement), after that module's own items allow it.
    """
    items = build_items(catalog)
    by_key = {item.key: item for item in items}
    # by position, not key: a spec check refuses may hold two items of one key, and the judge still orders it
    waiting = [{d for d in item.deps if d in by_key} for item in items]
    dependents: dict[Key, list[int]] = {}
    for i, deps in enumerate(waiting):
        for dep in deps:
            dependents.setdefault(dep, []).append(i)
    out: list[Placed] = []
    placed: set[int] = set()
    emitted_tables: dict[str, int] = {}  # table key -> emission number
    ready: list[tuple[Any, ...]] = []

    def push(i: int) -> None:
        # Children (indexes, triggers, RLS, policies, seed rows) of a table already emitted go first, grouped by
        # that table and in its emission order, so each table reads as one block; everything else by sort key.
        item = items[i]
        owner = ("table", str(qname(item.table.name))) if item.table is not None else None
        if owner is not None and owner[1] in emitted_tables:
            key: tuple[Any, ...] = (0, emitted_tables[owner[1]], *item.sort_key[2:])
        else:
            key = (1, *item.sort_key)
        heapq.heappush(ready, (key, item.key, i))

    declared_in: dict[int, list[int]] = {}  # grouped once: one pass over the items, not one per module
    for i, item in enumerate(items):
        declared_in.setdefault(item.module, []).append(i)
    for module in range(len(catalog.schema.modules)):
        for i in declared_in.get(module, []):
            if not waiting[i]:
                push(i)
        while ready:
            *_, i = heapq.heappop(ready)
            placed.add(i)
            key = items[i].key
            out.append(Placed(items[i], module))
            if key[0] == "table":
                emitted_tables[key[1]] = len(emitted_tables)
            for dependent in dependents.get(key, []):
                waiting[dependent].discard(key)
                if not waiting[dependent] and dependent not in placed and items[dependent].module <= module:
                    push(dependent)
    if len(out) != len(items):
        errors = Collector()
        for i in sorted(range(len(items)), key=lambda i: items[i].key):
            if i not in placed:
                key = items[i].key
                names = ", ".join(f"{k} {n}" for k, n in sorted(waiting[i]))
                errors.error(items[i].pos, f"dependency cycle: {key[0]} {key[1]} waits for {names}")
        errors.raise_if_any()
    return out
