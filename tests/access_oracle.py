"""The access matrix evaluated in Python: what an actor should be able to do to a row, per the spec's `access:`.

The oracle reads only the matrix (generator.model.Access) and the world's data; it never looks at a policy. Paths
such as `ticket_id.customer_id` are followed through the world's rows along the foreign keys the spec declares.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from generator.access import Step, resolve_path
from generator.derive import Catalog
from generator.model import Access, AccessRule, Table, View
from generator.sqltext import QName

Row = dict[str, Any]


@dataclass(frozen=True)
class User:
    """Someone acting on the database: the actor kinds they embody (a staff user may hold several roles)."""

    id: str | None
    label: str
    kinds: frozenset[str]
    role: str  # database role of their requests
    tenants: frozenset[str] = frozenset()

    def describe(self, tenant_names: dict[str, str]) -> str:
        tenants = ", ".join(sorted(tenant_names.get(t, t) for t in self.tenants))
        return f"{self.label}" + (f" (member of {tenants})" if tenants else "")


class Oracle:
    def __init__(self, catalog: Catalog, world: dict[QName, list[Row]]) -> None:
        self.catalog = catalog
        self.world = world
        self._paths: dict[tuple[QName, str], list[Step]] = {}
        self._index: dict[tuple[QName, str], dict[Any, Row]] = {}

    # -- paths ---------------------------------------------------------------------------------------------------
    def path_value(self, name: QName, row: Row, path: str) -> Any:
        key = (name, path)
        if key not in self._paths:
            self._paths[key] = resolve_path(self.catalog, name, path)
        steps = self._paths[key]
        value: Any = row
        for i, step in enumerate(steps):
            value = value.get(step.column)
            if i == len(steps) - 1 or value is None:
                return value
            assert step.target is not None and step.target_column is not None
            value = self._lookup(step.target, step.target_column, value)
            if value is None:
                return None
        return value

    def _lookup(self, table: QName, column: str, value: Any) -> Row | None:
        key = (table, column)
        if key not in self._index:
            self._index[key] = {r[column]: r for r in self.world.get(table, [])}
        return self._index[key].get(value)

    # -- rules ---------------------------------------------------------------------------------------------------
    def access(self, name: QName) -> Access:
        obj: Table | View | None = self.catalog.tables.get(name) or self.catalog.views.get(name)
        assert obj is not None and obj.access is not None, f"{name} has no access matrix"
        return obj.access

    def rules(self, name: QName, user: User, command: str) -> list[AccessRule]:
        """The user's rules for a command: the union over the actor kinds they embody."""
        return [rule for entry in self.access(name).actors if entry.actor in user.kinds
                for rule in entry.rules(command)]

    def _levels_hold(self, name: QName, rule: AccessRule, user: User, row: Row) -> bool:
        access = self.access(name)
        for level in rule.rows:
            if level == "none":
                return False
            if level == "own" and (user.id is None or self.path_value(name, row, access.own or "") != user.id):
                return False
            if level == "author" and (user.id is None or self.path_value(name, row, access.author or "") != user.id):
                return False
            if level == "tenant" and self.path_value(name, row, access.tenant or "") not in user.tenants:
                return False
        return True

    def _when_holds(self, name: QName, rule: AccessRule, row: Row) -> bool:
        return all(self.path_value(name, row, c.path) in c.values for c in rule.when)

    def can_select(self, name: QName, user: User, row: Row) -> bool:
        return any(self._levels_hold(name, r, user, row) and self._when_holds(name, r, row)
                   for r in self.rules(name, user, "select"))

    def can_insert(self, name: QName, user: User, row: Row, set_columns: set[str]) -> bool:
        return any(self._levels_hold(name, r, user, row) and self._when_holds(name, r, row)
                   and (not r.columns or set_columns <= set(r.columns))
                   for r in self.rules(name, user, "insert"))

    def can_update(self, name: QName, user: User, old: Row, new: Row, changed: set[str]) -> bool:
        """`when` speaks of the row as it was; the row levels must hold before and after (an owner cannot give a
        row away); `columns` and `values` limit what may change."""
        for r in self.rules(name, user, "update"):
            if not (self._levels_hold(name, r, user, old) and self._when_holds(name, r, old)
                    and self._levels_hold(name, r, user, new)):
                continue
            if r.columns and not changed <= set(r.columns):
                continue
            if all(new.get(v.path) in v.values for v in r.values if v.path in changed):
                return True
        return False

    def can_delete(self, name: QName, user: User, row: Row) -> bool:
        return any(self._levels_hold(name, r, user, row) and self._when_holds(name, r, row)
                   for r in self.rules(name, user, "delete"))

    def visible(self, name: QName, user: User) -> list[Row]:
        return [row for row in self.world.get(name, []) if self.can_select(name, user, row)]


def table_key(catalog: Catalog, name: QName) -> tuple[str, ...]:
    """The columns identifying a row: the primary key (views: `id`)."""
    table = catalog.tables.get(name)
    if table is None:
        return ("id",)
    return next(c.columns for c in catalog.constraints(table) if c.kind == "primary key")


def describe_row(oracle: Oracle, name: QName, row: Row, labels: dict[str, str]) -> str:
    """A row in words: its key, and the owner / author / tenant it belongs to, by the users' and tenants' labels."""
    catalog = oracle.catalog
    obj = catalog.tables.get(name) or catalog.views.get(name)

    def label(value: Any) -> Any:
        return labels.get(str(value), value)

    parts = [str(row["ticket_number"])] if "ticket_number" in row else []
    parts += [f"{k}={label(row.get(k))}" for k in table_key(catalog, name) if k != "id" or not parts]
    access = obj.access if obj is not None else None
    for kind, word in (("own", "owned by"), ("author", "written by"), ("tenant", "of tenant")):
        path = getattr(access, kind) if access is not None else None
        if path:
            parts.append(f"{word} {label(oracle.path_value(name, row, path))}")
    return f"{name.name} {', '.join(parts)}"
