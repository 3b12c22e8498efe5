"""The old side of a plan as a Snapshot: a spec read as if it were a database, and declared renames applied.

`plan --from DIR|REV` has no database: the older spec is turned into the Snapshot that introspecting a database
built from it would give (defaults as SQL, primary-key columns NOT NULL, GRANT ALL expanded, the constraint names
the generator derives), so the one comparison (`drift.compare`) serves both `plan --db` and `plan --from`.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from .. import model, sqlparse
from ..derive import (
    Catalog,
    function_id,
    identity_type,
    parse_reference,
    routine_id,
    seed_fingerprint,
    seed_key,
    seed_key_text,
)
from ..drift import scope, sequence_bounds
from ..introspect import Snapshot
from ..model import Function, Module, Procedure, Schema, Sql, Table
from ..render import raw_text
from ..sqlparse import SqlSyntaxError, ast, fingerprint
from ..sqltext import (
    INDEX_KEY,
    QName,
    ident,
    index_key_suffix,
    parse_type,
    qname,
    routine_name,
    unquote_ident,
    value_literal,
)

# What GRANT ALL means when no server can be asked (PostgreSQL 17+: relations have MAINTAIN too). Grants keep
# ALL as written (drift expands it on both sides with this list); plans then GRANT or REVOKE ALL as such, which
# means the right thing on every server.
OFFLINE_ALL_PRIVILEGES: Mapping[str, tuple[str, ...]] = {
    "table": ("insert", "select", "update", "delete", "truncate", "references", "trigger", "maintain"),
    "sequence": ("usage", "select", "update"),
    "function": ("execute",),
    "schema": ("usage", "create"),
}


def _table(table: Table, catalog: Catalog) -> Table:
    keys = {c for con in catalog.constraints(table) if con.kind == "primary key" for c in con.columns}
    columns = []
    for c in table.columns:
        default = c.default_sql if c.default_sql is not None else (
            Sql(value_literal(c.default, parse_type(c.type))) if c.default is not None else None)
        # PRIMARY KEY and identity make a column NOT NULL; `serial`'s identity is already one in the model.
        columns.append(replace(c, default=None, default_sql=default,
                               not_null=c.not_null or c.name in keys or c.identity is not None))
    return replace(table, columns=tuple(columns))


def _sequence(seq: model.Sequence) -> model.Sequence:
    low, high = sequence_bounds(seq)  # the database reports PostgreSQL's defaults where the spec has none
    return replace(seq, min_value=low, max_value=high)


def of_spec(catalog: Catalog) -> Snapshot:
    """The Snapshot a database built from this (checked) spec's output would give."""
    schema = catalog.schema
    tables = [_table(t, catalog) for _, t in schema.all("tables")]
    module = Module(
        module="spec",
        roles=tuple(r for _, r in schema.all("roles")),
        schemas=tuple(s for _, s in schema.all("schemas")),
        extensions=tuple(e for _, e in schema.all("extensions")),
        default_privileges=tuple(d for _, d in schema.all("default_privileges")),
        types=tuple(t for _, t in schema.all("types")),
        sequences=tuple(_sequence(s) for _, s in schema.all("sequences")),
        functions=tuple(f for _, f in schema.all("functions")),
        procedures=tuple(f for _, f in schema.all("procedures")),
        tables=tuple(tables),
        views=tuple(v for _, v in schema.all("views")),
        materialized_views=tuple(v for _, v in schema.all("materialized_views")),
    )
    return Snapshot(
        schema=Schema((module,)),
        constraints={qname(t.name): tuple(catalog.constraints(t)) for _, t in schema.all("tables")},
        rls_forced=frozenset(qname(t.name) for t in tables if t.rls == "forced"),
        relation_columns={qname(t.name): tuple(c.name for c in t.columns) for t in tables},
        all_privileges=OFFLINE_ALL_PRIVILEGES,
        seeds={qname(t.name): spec_seeds(catalog, t) for _, t in schema.all("tables") if t.seed},
        seed_registry=any(t.seed for _, t in schema.all("tables")),
        raw={r.name: (fingerprint(r.sql), raw_text(r.drop) if r.drop is not None else None)
             for r in catalog.raw.values()},
        raw_registry=bool(catalog.raw),
    )


def spec_seeds(catalog: Catalog, table: Table) -> dict[str, str]:
    """A table's seed rows as the registry would hold them: key -> fingerprint."""
    key = seed_key(table, catalog.constraints(table))
    return {seed_key_text(row.values, key): seed_fingerprint(row.values) for row in table.seed}


def read_scope(catalog: Catalog, *, include_platform: bool) -> tuple[list[str], list[str], frozenset[str]]:
    """What a plan reads from a database: the spec's schemas and roles (as `verify`), and what it leaves alone."""
    return scope(catalog, include_platform=include_platform)


# -- declared renames --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Rename:
    """One declared rename found applicable: the database has `old` and not `new`."""

    kind: str  # table, view, function, column, constraint, index, policy
    old: str
    new: str
    table: QName | None = None  # the owning table of columns, constraints, indexes and policies
    schema: str = "public"  # tables, views, functions, indexes: the schema
    args: tuple[str, ...] = ()  # functions and procedures: argument types


def _rename_in_text(text: str | None, old: str, new: str, *, expression: bool = True) -> str | None:
    """A SQL fragment with column references named `old` renamed: what PostgreSQL shows after RENAME COLUMN."""
    if text is None:
        return None
    try:
        # Renamed in place below: a tree of its own.
        node = sqlparse.parse_expression(text, fresh=True) if expression else sqlparse.parse_query(text, fresh=True)
    except SqlSyntaxError:
        return text
    hit = False
    for ref in sqlparse.walk(node):
        if isinstance(ref, ast.ColumnRef) and ref.fields and isinstance(ref.fields[-1], ast.String) \
                and ref.fields[-1].sval == old:
            ref.fields = (*ref.fields[:-1], ast.String(sval=new))
            hit = True
    return sqlparse.deparse(node) if hit else text


def _rename_key(key: str, old: str, new: str) -> str:
    """An index key `col DESC` or `(expression) opclass` with column `old` renamed."""
    m = INDEX_KEY.match(key.strip())
    if m is None:
        return key
    if m["expr"] is not None:
        head = f"({_rename_in_text(m['expr'], old, new)})"
    else:
        head = ident(new) if unquote_ident(m["col"]) == old else m["col"]
    return " ".join(filter(None, (head, index_key_suffix(m))))


class _Renamer:
    """Applies the spec's `renamed_from:` declarations to a snapshot, kind by kind."""

    def __init__(self, catalog: Catalog, snapshot: Snapshot) -> None:
        self.catalog = catalog
        module = snapshot.module
        self.tables = {qname(t.name): t for t in module.tables}
        self.views = {qname(v.name): v for v in module.views}
        self.functions = [*module.functions, *module.procedures]
        self.types = {qname(t.name): t for t in module.types}
        self.sequences = list(module.sequences)
        self.constraints = {k: list(v) for k, v in snapshot.constraints.items()}
        self.relation_columns = dict(snapshot.relation_columns)
        self.rls_forced = set(snapshot.rls_forced)
        self.seeds = dict(snapshot.seeds)
        self.snapshot = snapshot
        self.out: list[Rename] = []

    def run(self, declarations: list[Declared]) -> tuple[Snapshot, list[Rename]]:
        for d in declarations:
            if d.kind in ("column", "constraint", "index", "policy") and (d.table is None
                                                                          or d.table not in self.tables):
                continue
            if d.kind == "value":
                assert d.table is not None
                self.value(d.table, d.old, d.new)
            elif d.kind in ("table", "view"):
                getattr(self, d.kind)(QName(d.schema, d.new), QName(d.schema, d.old))
            elif d.kind == "function":
                self.function(QName(d.schema, d.new), QName(d.schema, d.old), d.args)
            else:
                assert d.table is not None
                getattr(self, d.kind)(d.table, d.old, d.new)
        module = replace(self.snapshot.module, tables=tuple(self.tables.values()), views=tuple(self.views.values()),
                         functions=tuple(f for f in self.functions if not isinstance(f, Procedure)),
                         procedures=tuple(f for f in self.functions if isinstance(f, Procedure)),
                         types=tuple(self.types.values()), sequences=tuple(self.sequences))
        return dataclasses.replace(
            self.snapshot, schema=Schema((module,)), constraints={k: tuple(v) for k, v in self.constraints.items()},
            rls_forced=frozenset(self.rls_forced),
            relation_columns=self.relation_columns, seeds=self.seeds), self.out

    # -- relations --------------------------------------------------------------------------------------------------
    def table(self, new: QName, old: QName) -> None:
        spec = self.catalog.tables[new]
        if old not in self.tables or new in self.tables or new in self.views:
            return
        self.out.append(Rename("table", old.name, new.name, schema=new.schema))
        self.tables = {(new if k == old else k): (replace(t, name=str(new)) if k == old else t)
                       for k, t in self.tables.items()}
        self._move(old, new)
        # Names the generator derives from the table name follow it (TABLE_pkey, TABLE_COL_fkey, ...).
        derived = {c.name for c in self.catalog.constraints(spec)}
        for con in list(self.constraints.get(new, ())):
            if con.name.startswith(f"{old.name}_"):
                renamed = new.name + con.name[len(old.name):]
                if renamed in derived:
                    self.constraint(new, con.name, renamed)
        self._retarget_references(old, new)

    def view(self, new: QName, old: QName) -> None:
        if old not in self.views or new in self.views or new in self.tables:
            return
        self.out.append(Rename("view", old.name, new.name, schema=new.schema))
        self.views = {(new if k == old else k): (replace(v, name=str(new)) if k == old else v)
                      for k, v in self.views.items()}
        self._move(old, new)

    def _move(self, old: QName, new: QName) -> None:
        if old in self.seeds:
            self.seeds[new] = self.seeds.pop(old)
        if old in self.constraints:
            self.constraints[new] = self.constraints.pop(old)
        if old in self.relation_columns:
            self.relation_columns[new] = self.relation_columns.pop(old)
        if old in self.rls_forced:
            self.rls_forced.discard(old)
            self.rls_forced.add(new)

    def _retarget_references(self, old: QName, new: QName, column: tuple[str, str] | None = None) -> None:
        """Foreign keys name their target table and columns, sequences the column owning them: PostgreSQL follows a
        rename, so does the snapshot."""
        for i, seq in enumerate(self.sequences):
            parts = seq.owning_column
            if parts is not None and qname(parts[0]) == old:
                owner = column[1] if column is not None and parts[1] == column[0] else parts[1]
                self.sequences[i] = replace(seq, owned_by=f"{new}.{owner}")
        for cons in self.constraints.values():
            for i, con in enumerate(cons):
                if con.kind != "foreign key" or not con.ref_text:
                    continue
                target, cols = parse_reference(con.ref_text)
                if target != old:
                    continue
                if column is not None:
                    cols = tuple(column[1] if c == column[0] else c for c in cols)
                cons[i] = replace(con, ref_text=f"{new}({', '.join(cols)})")

    # -- functions --------------------------------------------------------------------------------------------------
    def function(self, new: QName, old: QName, args: tuple[str, ...]) -> None:
        spec = self.catalog.routines[function_id(new, args)]
        types = tuple(str(parse_type(a.type)) for a in spec.inputs)

        def same(fn: Function, name: QName) -> bool:
            return routine_id(fn) == function_id(name, args)

        if not any(same(f, old) for f in self.functions) or any(same(f, new) for f in self.functions):
            return
        self.out.append(Rename(spec.KIND, old.name, new.name, schema=new.schema, args=types))
        self.functions = [replace(f, name=str(new)) if same(f, old) else f for f in self.functions]
        self.tables = {k: replace(t, triggers=tuple(replace(tr, function=str(new)) if routine_name(tr.function) == old
                                                    else tr for tr in t.triggers))
                       for k, t in self.tables.items()}

    # -- enum values ------------------------------------------------------------------------------------------------
    def value(self, type_name: QName, old: str, new: str) -> None:
        """ALTER TYPE ... RENAME VALUE: the rows holding the value hold the new label."""
        db = self.types.get(type_name)
        if db is None or old not in db.enum or new in db.enum:
            return
        self.out.append(Rename("value", old, new, table=type_name))
        self.types[type_name] = replace(db, enum=tuple(new if v == old else v for v in db.enum))

    # -- the parts of a table ---------------------------------------------------------------------------------------
    def column(self, table: QName, old: str, new: str) -> None:
        db = self.tables[table]
        names = [c.name for c in db.columns]
        if old not in names or new in names:
            return
        self.out.append(Rename("column", old, new, table=table))

        def text(value: str | None) -> Any:
            return _rename_in_text(value, old, new)

        self.tables[table] = replace(
            db,
            columns=tuple(replace(c, name=new) if c.name == old else replace(c, default_sql=text(c.default_sql),
                                                                          generated=text(c.generated))
                          for c in db.columns),
            indexes=tuple(replace(i, columns=tuple(_rename_key(k, old, new) for k in i.columns), where=text(i.where),
                                  include=tuple(new if c == old else c for c in i.include))
                          for i in db.indexes),
            triggers=tuple(replace(t, columns=tuple(new if c == old else c for c in t.columns), when=t.when)
                           for t in db.triggers),
            policies=tuple(replace(p, using=text(p.using), with_check=text(p.with_check)) for p in db.policies))
        self.relation_columns[table] = tuple(new if c == old else c for c in self.relation_columns.get(table, ()))
        cons = self.constraints.get(table, [])
        for i, con in enumerate(cons):
            cons[i] = replace(con, columns=tuple(new if c == old else c for c in con.columns),
                              expr=text(con.expr) if con.kind == "check" else con.expr, where=text(con.where),
                              elements=tuple((_rename_key(k, old, new), op) for k, op in con.elements))
        self._retarget_references(table, table, (old, new))
        # Constraint names derived from the column follow it (TABLE_COL_key, TABLE_COL_fkey, valid_COL).
        spec_names = {c.name for c in self.catalog.constraints(self.catalog.tables[table])}
        for con in list(cons):
            for before, after in ((f"_{old}_", f"_{new}_"), (f"valid_{old}", f"valid_{new}")):
                if before in con.name:
                    renamed = con.name.replace(before, after, 1)
                    if renamed in spec_names:
                        self.constraint(table, con.name, renamed)

    def constraint(self, table: QName, old: str, new: str) -> None:
        cons = self.constraints.get(table, [])
        names = [c.name for c in cons]
        if old not in names or new in names:
            return
        self.out.append(Rename("constraint", old, new, table=table))
        # A primary key or unique constraint owns an index of its name: RENAME CONSTRAINT renames it too.
        self.constraints[table] = [replace(c, name=new) if c.name == old else c for c in cons]

    def index(self, table: QName, old: str, new: str) -> None:
        db = self.tables[table]
        if old not in {i.name for i in db.indexes} or new in {i.name for i in db.indexes}:
            return
        self.out.append(Rename("index", old, new, table=table, schema=table.schema))
        self.tables[table] = replace(db, indexes=tuple(replace(i, name=new) if i.name == old else i
                                                       for i in db.indexes))

    def policy(self, table: QName, old: str, new: str) -> None:
        db = self.tables[table]
        if old not in {p.name for p in db.policies} or new in {p.name for p in db.policies}:
            return
        self.out.append(Rename("policy", old, new, table=table))
        self.tables[table] = replace(db, policies=tuple(replace(p, name=new) if p.name == old else p
                                                        for p in db.policies))


@dataclass(frozen=True)
class Declared:
    """A `renamed_from:` of the spec: `old` became `new` (tables, views, functions: in `schema`; the parts of a
    table: in `table`, by its new name)."""

    kind: str
    old: str
    new: str
    schema: str = "public"
    table: QName | None = None
    args: tuple[str, ...] = ()  # functions and procedures: the identity's argument types


def declared(catalog: Catalog) -> list[Declared]:
    """Every rename the spec declares: relations and functions first, then the parts of tables."""
    out: list[Declared] = []
    for kind, objects in (("table", catalog.tables), ("view", catalog.views)):
        for name, obj in objects.items():
            if obj.renamed_from:
                out.append(Declared(kind, obj.renamed_from, name.name, name.schema))
    for fn in catalog.routines.values():  # each overload by its identity
        if fn.renamed_from:
            name = qname(fn.name)
            out.append(Declared("function", fn.renamed_from, name.name, name.schema,
                                args=tuple(identity_type(a.type) for a in fn.inputs)))
    for name, type_def in catalog.types.items():  # `table` names the type that holds the value
        out += [Declared("value", r.former, r.value, name.schema, table=name) for r in type_def.renamed_values]
    for name, table in catalog.tables.items():
        parts: list[tuple[str, list[Any]]] = [("column", list(table.columns)),
                                              ("constraint", catalog.constraints(table)),
                                              ("index", list(table.indexes)), ("policy", list(table.policies))]
        for kind, objs in parts:
            out += [Declared(kind, o.renamed_from, o.name, table=name) for o in objs if o.renamed_from]
    return out


def inverted(declarations: list[Declared]) -> list[Declared]:
    """The same renames undone (a down migration): the parts of a renamed table are found under its old name."""
    tables = {QName(d.schema, d.new): QName(d.schema, d.old) for d in declarations if d.kind == "table"}
    return [replace(d, old=d.new, new=d.old, table=tables.get(d.table, d.table) if d.table else None)
            for d in declarations]


def apply_renames(catalog: Catalog, snapshot: Snapshot,
                  declarations: list[Declared] | None = None) -> tuple[Snapshot, list[Rename]]:
    """The snapshot with each applicable rename applied (by default the ones `catalog` declares), and the
    renames, in the order they must run."""
    return _Renamer(catalog, snapshot).run(declared(catalog) if declarations is None else declarations)


# Seed registry states a database can report instead of a row's fingerprint (see Snapshot.seeds).
MISSING_ROW = "<missing>"  # the registry names a row the table no longer has
CHANGED_ROW = "<changed>"  # the row no longer holds the values the spec gives it (or the spec dropped it)


# Used by the planner to spot SQL text that mentions a column (a dependant to rebuild when the column changes).
def mentions(text: str | None, word: str) -> bool:
    return text is not None and re.search(rf"(?<![\w$]){re.escape(word)}(?![\w$])", text) is not None

