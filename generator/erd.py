"""Entity-relationship diagrams of tables: Mermaid text (GitHub renders it in Markdown) and Graphviz DOT (for
places that do not render Mermaid; turned into SVG/PNG only where Graphviz is installed).

A diagram shows tables, their key columns (primary key, unique, foreign key) and one edge per foreign key. Every
other column is listed in the docs' tables below the diagram: a diagram of every column stops being readable at
a dozen tables. Order is the spec's (modules in file order, tables by name), so the text is deterministic.
"""

from __future__ import annotations

import html
import re
import shutil
from collections.abc import Sequence
from dataclasses import dataclass

from .derive import Catalog
from .model import Table
from .sqltext import DEFAULT_SCHEMA, QName, parse_type, qname


@dataclass(frozen=True)
class KeyColumn:
    name: str
    type: str
    keys: tuple[str, ...]  # "PK", "FK", "UK" in that order


@dataclass(frozen=True)
class Edge:
    child: QName
    parent: QName
    columns: tuple[str, ...]
    optional: bool  # a referencing column may be NULL: the row need not have a parent
    one_to_one: bool  # the referencing columns are unique: at most one child per parent


def key_columns(catalog: Catalog, table: Table) -> list[KeyColumn]:
    """The columns of `table` that take part in a key, in column order."""
    marks: dict[str, list[str]] = {}
    kinds = {"primary key": "PK", "foreign key": "FK", "unique": "UK"}
    for con in catalog.constraints(table):
        mark = kinds.get(con.kind)
        if mark is None:
            continue
        for column in con.columns:
            if mark not in marks.setdefault(column, []):
                marks[column].append(mark)
    order = ("PK", "FK", "UK")
    return [KeyColumn(c.name, str(parse_type(c.type)), tuple(sorted(marks[c.name], key=order.index)))
            for c in table.columns if c.name in marks]


def edges(catalog: Catalog, table: Table) -> list[Edge]:
    """One edge per foreign key of `table` whose target the spec declares."""
    out = []
    columns = {c.name: c for c in table.columns}
    constraints = catalog.constraints(table)
    unique = {con.columns for con in constraints if con.kind in ("primary key", "unique")}
    for con in constraints:
        if con.kind != "foreign key":
            continue
        parent, _ = con.reference
        if parent not in catalog.tables:
            continue
        optional = any(not columns[c].not_null and not columns[c].primary_key for c in con.columns if c in columns)
        out.append(Edge(qname(table.name), parent, con.columns, optional, con.columns in unique))
    return out


def entity(name: QName) -> str:
    """A Mermaid entity id: letters, digits and underscores (`auth.users` -> `auth_users`; public is implied)."""
    text = name.name if name.schema == DEFAULT_SCHEMA else f"{name.schema}_{name.name}"
    return re.sub(r"\W", "_", text)


def _mermaid_type(sql_type: str) -> str:
    """Mermaid accepts a word as the type: `varchar(200)` -> `varchar_200`, `text[]` -> `text_array`."""
    text = sql_type.replace("[]", "_array")
    return re.sub(r"_+", "_", re.sub(r"\W", "_", text)).strip("_")


def mermaid(catalog: Catalog, tables: Sequence[Table], *, stubs: Sequence[Table] = ()) -> str:
    """An `erDiagram` of `tables` with their foreign keys; `stubs` are tables of other modules they reference,
    drawn with their primary key only."""
    lines = ["erDiagram"]
    shown = {qname(t.name) for t in (*tables, *stubs)}
    for table, stub in [(t, False) for t in tables] + [(t, True) for t in stubs]:
        lines.append(f"    {entity(qname(table.name))} {{")
        for column in key_columns(catalog, table):
            if stub and "PK" not in column.keys:
                continue
            keys = ",".join(column.keys)
            lines.append(f"        {_mermaid_type(column.type)} {column.name} {keys}")
        lines.append("    }")
    for table in tables:
        for edge in edges(catalog, table):
            if edge.parent not in shown:
                continue
            parent_end = "|o" if edge.optional else "||"
            child_end = "o|" if edge.one_to_one else "o{"
            lines.append(f"    {entity(edge.parent)} {parent_end}--{child_end} {entity(edge.child)} : "
                         f"\"{', '.join(edge.columns)}\"")
    return "\n".join(lines) + "\n"


def dot(catalog: Catalog, tables: Sequence[Table]) -> str:
    """The same diagram as Graphviz DOT: one record-like HTML label per table, one edge per foreign key."""
    lines = ["digraph schema {", "    graph [rankdir=LR, fontname=Helvetica];",
             "    node [shape=plaintext, fontname=Helvetica, fontsize=10];",
             "    edge [fontname=Helvetica, fontsize=9];"]
    shown = {qname(t.name) for t in tables}
    for table in tables:
        name = qname(table.name)
        rows = [f'<tr><td bgcolor="#dde8f5" colspan="2"><b>{html.escape(str(name))}</b></td></tr>']
        rows += [f'<tr><td align="left">{html.escape(c.name)}</td><td align="left">{html.escape(c.type)} '
                 f'{"/".join(c.keys)}</td></tr>' for c in key_columns(catalog, table)]
        lines.append(f'    "{name}" [label=<<table border="0" cellborder="1" cellspacing="0">{"".join(rows)}'
                     "</table>>];")
    for table in tables:
        for edge in edges(catalog, table):
            if edge.parent in shown:
                style = ", style=dashed" if edge.optional else ""
                lines.append(f'    "{edge.child}" -> "{edge.parent}" [label="{", ".join(edge.columns)}"{style}];')
    lines.append("}")
    return "\n".join(lines) + "\n"


def graphviz_missing() -> str | None:
    """Why images cannot be drawn here, or None when pip `graphviz` and the `dot` program are both present."""
    try:
        import graphviz  # noqa: F401  (optional: only for images)
    except ImportError:
        return "the Python package `graphviz` is not installed (pip install graphviz)"
    if shutil.which("dot") is None:
        return "the Graphviz program `dot` is not on PATH (Debian: apt-get install graphviz)"
    return None


def render_image(dot_text: str, fmt: str) -> bytes:
    """DOT rendered by Graphviz (call graphviz_missing() first)."""
    import graphviz

    return bytes(graphviz.Source(dot_text).pipe(format=fmt))
