"""Partitioned tables: the grammar of `partition_by:` and of a partition's bounds, and the partitions of a table.

A partitioned table's key (`range (created_at)`) and a partition's bounds (`from ('2026-01-01') to ('2027-01-01')`,
`in ('a', 'b')`, `with (modulus 4, remainder 0)`, or `default: true`) are parsed by PostgreSQL's own grammar
(pglast), each inside the statement PostgreSQL takes it in, so what the spec accepts is what CREATE TABLE does.
The same readers serve check (mistakes), render (the SQL), drift (what the database printed: pg_get_partkeydef,
pg_get_expr of relpartbound) and import.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from . import sqlparse
from .model import Partition, Table
from .sqlparse import SqlSyntaxError, ast
from .sqltext import QName, qname

STRATEGIES = {"r": "range", "l": "list", "h": "hash"}
_PARTITION_BY = re.compile(r"\s*(?P<strategy>range|list|hash)\s*(?P<keys>\(.*\))\s*\Z", re.I | re.S)


class PartitionSyntaxError(ValueError):
    """A `partition_by:` or bound text PostgreSQL's grammar does not take; the message says why."""


@dataclass(frozen=True)
class PartitionEntry:
    """One partition of a table, at any depth: its name, its parent (the table, or a partitioned partition) and the
    table at the top, whose columns it has."""

    name: QName
    parent: QName
    table: Table
    partition: Partition
    # the partition_by of its parent (the table's, or a sub-partitioned partition's)
    parent_partition_by: str | None


def partition_name(parent: QName, text: str) -> QName:
    """A partition's name: `schema.name`, or `name` in its parent's schema."""
    return qname(text) if "." in text else QName(parent.schema, text)


def partitions_of(table: Table) -> list[PartitionEntry]:
    """Every partition of a table, parents before their own partitions."""
    out: list[PartitionEntry] = []

    def walk(parent: QName, partition_by: str | None, partitions: Sequence[Partition]) -> None:
        for p in partitions:
            name = partition_name(parent, p.name)
            out.append(PartitionEntry(name, parent, table, p, partition_by))
            walk(name, p.partition_by, p.partitions)

    walk(qname(table.name), table.partition_by, table.partitions)
    return out


# -- PARTITION BY ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PartitionKey:
    strategy: str  # range, list, hash
    columns: tuple[str | None, ...]  # each key's column, None for an expression
    expressions: tuple[ast.Node | None, ...]  # each expression key, None for a column
    text: str  # the keys as written, in parentheses


def parse_partition_by(text: str) -> PartitionKey:
    """`range (a, (lower(b)))` as PostgreSQL's PARTITION BY clause reads it."""
    m = _PARTITION_BY.match(text)
    if m is None:
        raise PartitionSyntaxError("expected `range (KEY, ...)`, `list (KEY)` or `hash (KEY, ...)`, each KEY a "
                                   "column or an expression in parentheses")
    stmt = _one(f"CREATE TABLE t () PARTITION BY {m['strategy']} {m['keys']}", "partition_by")
    spec = stmt.partspec
    if spec is None or stmt.options or stmt.tablespacename or stmt.accessMethod:
        raise PartitionSyntaxError("expected only the partition keys in parentheses")
    columns = tuple(e.name for e in spec.partParams)
    exprs = tuple(e.expr for e in spec.partParams)
    return PartitionKey(m["strategy"].lower(), columns, exprs, m["keys"].strip())


def partition_by_sql(text: str) -> str:
    """PARTITION BY's argument as the output writes it: `RANGE (created_at)` (the keys as written)."""
    key = parse_partition_by(text)
    return f"{key.strategy.upper()} {key.text}"


def _one(sql: str, what: str) -> ast.Node:
    try:
        stmts = sqlparse.split_statements(sql)
    except SqlSyntaxError as exc:
        raise PartitionSyntaxError(f"does not parse: {exc}") from None
    if len(stmts) != 1:
        raise PartitionSyntaxError(f"`{what}` holds more than one clause")
    return stmts[0][0]


# -- FOR VALUES -----------------------------------------------------------------------------------------------------
# One bound datum: ("const", text) for a string or number, ("null", "") NULL, ("min", "")/("max", "") MINVALUE /
# MAXVALUE, ("expr", sql) anything else (an expression PostgreSQL evaluates when it creates the partition).
Datum = tuple[str, str]


@dataclass(frozen=True)
class Bound:
    strategy: str | None  # range, list, hash; None: DEFAULT
    lower: tuple[Datum, ...] = ()  # range FROM
    upper: tuple[Datum, ...] = ()  # range TO
    values: tuple[Datum, ...] = ()  # list IN
    modulus: int = 0
    remainder: int = 0

    @property
    def default(self) -> bool:
        return self.strategy is None

    def normal(self, types: Sequence[str | None], constant: Callable[[str, str], str]) -> tuple[object, ...]:
        """The bound as PostgreSQL stores it, as far as the types are known: each constant respelled as the server
        prints a value of its key's type (`'2026-01-01'` for a timestamptz key is `'2026-01-01 00:00:00+00'`);
        list values as a set."""
        def value(i: int, datum: Datum) -> Datum:
            kind, text = datum
            key_type = types[i] if i < len(types) else None
            return (kind, constant(key_type, text) if kind == "const" and key_type else text)

        def one(datums: tuple[Datum, ...]) -> tuple[Datum, ...]:
            return tuple(value(i, d) for i, d in enumerate(datums))

        if self.strategy == "list":
            return ("list", tuple(sorted(value(0, d) for d in self.values)))
        if self.strategy == "range":
            return ("range", one(self.lower), one(self.upper))
        return (self.strategy, self.modulus, self.remainder)


def _datum(node: ast.Node) -> Datum:
    if isinstance(node, ast.A_Const):
        if node.isnull:
            return ("null", "")
        val = node.val
        if isinstance(val, ast.String):
            return ("const", val.sval)
        if isinstance(val, ast.Integer):
            return ("const", str(val.ival))
        if isinstance(val, ast.Float):
            return ("const", str(val.fval))
        if isinstance(val, ast.Boolean):
            return ("const", "true" if val.boolval else "false")
    if isinstance(node, ast.ColumnRef) and len(node.fields) == 1 and isinstance(node.fields[0], ast.String):
        word = node.fields[0].sval.lower()
        if word in ("minvalue", "maxvalue"):
            return (word[:3], "")
    if isinstance(node, ast.TypeCast) and isinstance(node.arg, ast.A_Const) and not node.arg.isnull:
        return _datum(node.arg)  # '2026-01-01'::date: the key's type decides the value
    return ("expr", sqlparse.deparse(node))


def parse_bound(text: str | None, default: bool = False) -> Bound:
    """A partition's bounds: the spec's `values:` text (`from (...) to (...)`, `in (...)`, `with (...)`), or what
    pg_get_expr prints for relpartbound (`FOR VALUES ...`, `DEFAULT`); `default` for the spec's `default: true`."""
    if default:
        return Bound(None)
    if text is None:
        raise PartitionSyntaxError("a partition needs `values:` or `default: true`")
    body = text.strip()
    if body.upper() == "DEFAULT":
        return Bound(None)
    if not re.match(r"for\s+values\b", body, re.I):
        body = f"FOR VALUES {body}"
    stmt = _one(f"CREATE TABLE p PARTITION OF t {body}", "values")
    spec = stmt.partbound
    if spec is None or stmt.partspec is not None or stmt.options or stmt.tablespacename or stmt.tableElts:
        raise PartitionSyntaxError("expected only the bounds: `from (...) to (...)`, `in (...)` or `with (modulus "
                                   "N, remainder R)`")
    if spec.is_default:
        return Bound(None)
    strategy = STRATEGIES[spec.strategy]
    if strategy == "hash":
        return Bound("hash", modulus=spec.modulus, remainder=spec.remainder)
    if strategy == "list":
        return Bound("list", values=tuple(map(_datum, spec.listdatums or ())))
    return Bound("range", lower=tuple(map(_datum, spec.lowerdatums or ())),
                 upper=tuple(map(_datum, spec.upperdatums or ())))


def bound_sql(partition: Partition) -> str:
    """FOR VALUES ... / DEFAULT as the output writes it: the spec's text, its keywords in capitals."""
    if partition.default:
        return "DEFAULT"
    return "FOR VALUES " + _upper_keywords(values_text(str(partition.values)))


def values_text(text: str) -> str:
    """A `values:` text without the FOR VALUES a person may have written before it."""
    return re.sub(r"\A\s*for\s+values\s+", "", text, flags=re.I).strip()


def _upper_keywords(text: str) -> str:
    """FROM, TO, IN, WITH, MODULUS, REMAINDER, MINVALUE, MAXVALUE in capitals outside quotes."""
    parts = re.split(r"('(?:[^']|'')*'|\"(?:[^\"]|\"\")*\")", text)
    words = re.compile(r"\b(from|to|in|with|modulus|remainder|minvalue|maxvalue)\b", re.I)
    return "".join(p if i % 2 else words.sub(lambda m: m[1].upper(), p) for i, p in enumerate(parts))


def key_types(table: Table, key: PartitionKey) -> tuple[str | None, ...]:
    """The type of each partition key that is a column of the table (None for an expression)."""
    types = {c.name: c.type for c in table.columns}
    return tuple(types.get(c) if c is not None else None for c in key.columns)


def walk_partitions(partitions: Sequence[Partition]) -> Iterator[Partition]:
    for p in partitions:
        yield p
        yield from walk_partitions(p.partitions)
