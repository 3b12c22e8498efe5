"""The access matrix: what each actor is meant to be able to do, per table or view and command.

The matrix is a statement of intent written beside the policies but independently of them; it is never used to
generate SQL. The live proof (tests/test_access_matrix.py) evaluates it in Python over random worlds and compares
with what PostgreSQL's RLS actually allows. Here: resolving its paths through foreign keys, and checking it.
"""

from __future__ import annotations

from dataclasses import dataclass

from .derive import Catalog, ReferenceSyntaxError, parse_reference
from .diagnostics import Collector
from .model import COMMANDS, Access, AccessRule, Table, View
from .sqltext import QName, qname

# Which Access path each row level needs.
LEVEL_PATH = {"own": "own", "author": "author", "tenant": "tenant"}


@dataclass(frozen=True)
class Step:
    """One hop of a path: from `table`, read `column`; it references `target`.`target_column`, if anything."""

    table: QName
    column: str
    target: QName | None
    target_column: str | None = None


class PathError(ValueError):
    pass


def resolve_path(catalog: Catalog, start: QName, path: str) -> list[Step]:
    """`ticket_id.customer_id` from ticket_messages: [(ticket_messages, ticket_id -> support_tickets),
    (support_tickets, customer_id)]. Every hop but the last must be a single-column foreign key."""
    steps: list[Step] = []
    table = start
    parts = path.split(".")
    for i, column in enumerate(parts):
        columns = catalog.relation_columns(table)
        if columns is None:
            if table in catalog.views and len(parts) == 1:
                return [Step(table, column, None)]  # a view's columns are opaque to the model
            raise PathError(f"{table} is not a table")
        if column not in columns:
            raise PathError(f"{table} has no column {column!r}")
        target = _fk_target(catalog, catalog.tables[table], column)
        if i < len(parts) - 1 and target is None:
            raise PathError(f"{table}.{column} does not reference a unique column, so {path!r} cannot follow it")
        steps.append(Step(table, column, *(target or (None, None))))
        if target is not None:
            table = target[0]
    return steps


def _fk_target(catalog: Catalog, table: Table, column: str) -> tuple[QName, str] | None:
    """The table and column a column references, when that column alone identifies a row there.

    A column of a composite foreign key qualifies when its counterpart is unique on its own (ticket_attachments'
    (message_id, ticket_id) -> ticket_messages(id, ticket_id): message_id -> ticket_messages.id)."""
    for con in catalog.constraints(table):
        if con.kind != "foreign key" or column not in con.columns or not con.ref_text:
            continue
        try:
            target, target_cols = parse_reference(con.ref_text)
            target_col = target_cols[con.columns.index(column)]
        except (ReferenceSyntaxError, IndexError):  # a malformed foreign key, reported by check: nothing to follow
            continue
        target_table = catalog.tables.get(target)
        if target_table is None:
            continue
        unique = {k.columns for k in catalog.constraints(target_table) if k.kind in ("primary key", "unique")}
        if (target_col,) in unique:
            return target, target_col
    return None


def check_access(catalog: Catalog, errors: Collector) -> None:
    """The matrix must name declared actors, cover every actor, and use paths that resolve."""
    actors = {a.name: a for _, a in catalog.schema.all("actors")}
    for _, actor in catalog.schema.all("actors"):
        if actor.role not in catalog.roles and actor.role != "public":
            errors.error(actor.loc("role"), f"actor {actor.name!r} uses unknown role {actor.role!r}")
    objects: list[Table | View] = [t for _, t in catalog.schema.all("tables")] + [
        v for _, v in catalog.schema.all("views")]
    for obj in objects:
        access: Access | None = obj.access
        needs_matrix = actors and (isinstance(obj, View) or obj.rls != "off")
        if access is None:
            if needs_matrix:
                errors.error(obj.loc("name"), f"{obj.name} has row-level security but no `access:` matrix "
                                              f"(say what each actor may do: {', '.join(actors)})")
            continue
        name = qname(obj.name)
        for kind in ("own", "author", "tenant"):
            path = getattr(access, kind)
            if path is not None:
                try:
                    resolve_path(catalog, name, path)
                except PathError as exc:
                    errors.error(access.loc(kind), f"access path {kind}: {exc}")
        given = {a.actor for a in access.actors}
        for missing in sorted(set(actors) - given):
            errors.error(access.loc("actors"), f"access of {obj.name} does not say what {missing!r} may do")
        for entry in access.actors:
            if entry.actor not in actors:
                errors.error(entry.loc("actor"), f"unknown actor {entry.actor!r} (declare it under `actors:`)")
            for command in COMMANDS:
                if isinstance(obj, View) and command != "select" and command in entry.at:
                    errors.error(entry.loc(command), f"views are only read: {command} does not apply")
                for rule in entry.rules(command):
                    _check_rule(catalog, name, access, rule, errors)


def _check_rule(catalog: Catalog, name: QName, access: Access, rule: AccessRule, errors: Collector) -> None:
    for level in rule.rows:
        path_kind = LEVEL_PATH.get(level)
        if path_kind and getattr(access, path_kind) is None:
            errors.error(rule.loc("rows"), f"level {level!r} needs the access path `{path_kind}:`")
    if "none" in rule.rows and len(rule.rows) > 1:
        errors.error(rule.loc("rows"), "`none` cannot be combined with other levels")
    for condition in (*rule.when, *rule.values):
        try:
            resolve_path(catalog, name, condition.path)
        except PathError as exc:
            errors.error(condition.loc("path"), f"access condition: {exc}")
    columns = catalog.relation_columns(name) or []
    for column in rule.columns:
        if column not in columns:
            errors.error(rule.loc("columns"), f"{name} has no column {column!r}")
    for condition in rule.values:
        if rule.columns and condition.path not in rule.columns:
            errors.error(condition.loc("path"), f"values given for {condition.path!r}, which is not in `columns`")


def describe_rule(rule: AccessRule) -> str:
    """One rule in a few words: `own`, `own+tenant, columns: a, b`, `all where priority in (medium, low)`."""
    text = "+".join(rule.rows)
    if rule.when:
        text += " where " + " and ".join(f"{c.path} in ({', '.join(_word(v) for v in c.values)})"
                                         for c in rule.when)
    if rule.columns:
        text += f"; only {', '.join(rule.columns)}"
    if rule.values:
        text += "; to " + ", ".join(f"{c.path} = {' or '.join(_word(v) for v in c.values)}" for c in rule.values)
    return text


def _word(value: object) -> str:
    return "null" if value is None else str(value).lower() if isinstance(value, bool) else str(value)


def access_markdown(catalog: Catalog) -> str:
    """The whole matrix as Markdown tables, one per table or view (for the README and reviewers)."""
    out: list[str] = []
    for _, obj in [*catalog.schema.all("tables"), *catalog.schema.all("views")]:
        out += object_access_markdown(catalog, obj)
    return "\n".join(out)


def object_access_markdown(catalog: Catalog, obj: Table | View) -> list[str]:
    """One table or view's matrix as Markdown lines (none without an `access:` block); the schema docs use it."""
    access: Access | None = obj.access
    if access is None:
        return []
    actors = [a.name for _, a in catalog.schema.all("actors")]
    commands = COMMANDS if isinstance(obj, Table) else ("select",)
    paths = ", ".join(f"{k}: `{getattr(access, k)}`" for k in ("own", "author", "tenant") if getattr(access, k))
    out = [f"**{obj.name}**" + (f" ({paths})" if paths else ""), "",
           "| actor | " + " | ".join(commands) + " |", "|---" * (len(commands) + 1) + "|"]
    by_actor = {a.actor: a for a in access.actors}
    for actor in actors:
        entry = by_actor.get(actor)
        cells = [" or ".join(describe_rule(r) for r in entry.rules(c)) if entry else "?" for c in commands]
        out.append(f"| {actor} | " + " | ".join(cells) + " |")
    out.append("")
    return out
