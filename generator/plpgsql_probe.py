"""The SQL inside a PL/pgSQL body, made analysable by a server that has no plpgsql_check.

PostgreSQL parses a PL/pgSQL body at CREATE FUNCTION but resolves the names in it (tables, columns, functions)
only when a statement first runs, so a misspelt table in a trigger function passes `check` and fails in
production. plpgsql_check resolves them where the server has it (judge.py uses it first). Otherwise each embedded
statement is handed to the server's parser and analyser on its own, with PREPARE (which resolves every name and
type and runs nothing). A statement cannot be analysed as written, because it names the function's variables; each
variable is replaced by a value of its type: `v` declared `numeric(10,2)` becomes `NULL::numeric(10,2)`, `NEW.col`
in a trigger function becomes `(NULL::the_table).col` for each table whose trigger calls it, `$1` the first
argument's type.

What cannot be analysed this way is left out rather than guessed (the result is a warning, never an error, since
this is an approximation of what PL/pgSQL does): a statement naming a variable whose shape is not known until run
time (`record`, a cursor, NEW where no trigger names the table), one reading a relation the body itself creates
(a temporary table), statements other than SELECT/INSERT/UPDATE/DELETE/MERGE, and bodies that change PL/pgSQL's
name resolution (`#variable_conflict`) or that pglast cannot read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from pglast.visitors import Visitor

from . import sqlparse
from .sqlparse import SqlSyntaxError, ast
from .sqltext import ident

_ANALYSABLE = (ast.SelectStmt, ast.InsertStmt, ast.UpdateStmt, ast.DeleteStmt, ast.MergeStmt)
_CREATES = (ast.CreateStmt, ast.CreateTableAsStmt, ast.ViewStmt)


@dataclass(frozen=True)
class Probe:
    """One statement of a body, ready for PREPARE: `line` of the body it is on (1: the body's first line)."""

    line: int
    sql: str


@dataclass(frozen=True)
class Arg:
    name: str
    type: str
    mode: str  # in, out, inout, variadic


class _Unknown(Exception):
    """The statement names a variable whose type has no stand-in."""


# A pure function of its texts, remembered: a process that judges again and again (a watch, the test suite's
# hundreds of generates) parses and prints each body's statements once (pglast's printer is slow: ~1 ms each).
@lru_cache(maxsize=4096)
def probes(create_function_sql: str, body: str, args: tuple[Arg, ...], row_type: str | None) -> tuple[Probe, ...]:
    """The statements of a PL/pgSQL function's body with its variables replaced by values of their types.
    `row_type`: the table whose row NEW and OLD are (a trigger function, for one table that calls it)."""
    if "#variable_conflict" in body.lower():
        return ()
    try:
        statements = sqlparse.plpgsql_statements(create_function_sql, targets=True)
        datums = sqlparse.plpgsql_datums(create_function_sql)
    except SqlSyntaxError:
        return ()
    stand_ins = _stand_ins(datums, body, args, row_type)
    positional = [f"NULL::{a.type}" for a in args if a.mode != "out"]
    parsed = [(line, raw.stmt) for line, text in statements for raw in sqlparse.parse_statements(text, fresh=True)]
    created = {(n.relation.schemaname, n.relation.relname) if isinstance(n, ast.CreateStmt | ast.ViewStmt)
               else (n.into.rel.schemaname, n.into.rel.relname)
               for _, n in parsed if isinstance(n, _CREATES)}
    created_names = {name for _, name in created}
    out: list[Probe] = []
    for line, stmt in parsed:
        if not isinstance(stmt, _ANALYSABLE):
            continue
        if {name for _, name in sqlparse.references(stmt).tables} & created_names:
            continue
        try:
            _Substitute(stand_ins, positional)(stmt)
            out.append(Probe(line, sqlparse.deparse(stmt)))
        except (_Unknown, SqlSyntaxError):
            continue
    return tuple(out)


def _stand_ins(datums: list[tuple[str, str, str | None]], body: str, args: Sequence[Arg],
               row_type: str | None) -> dict[str, str | None]:
    """Variable name (lower case) -> the SQL of a value of its type, or None when its shape is unknown."""
    values: dict[str, str | None] = {}
    for kind, name, typname in datums:  # PL/pgSQL's own (FOUND, TG_OP, loop counters...) as pglast typed them
        if kind == "rec":
            values[name] = f"NULL::{row_type}" if name in ("new", "old") and row_type else None
        else:
            values[name] = f"NULL::{typname}" if typname and "%" not in typname else None
    values.update(sqlparse.plpgsql_variables(body))  # as written: pglast takes types it does not know for record
    for arg in args:
        values[arg.name.lower()] = f"NULL::{arg.type}"
    return values


class _Substitute(Visitor):
    def __init__(self, stand_ins: dict[str, str | None], positional: list[str]) -> None:
        super().__init__()
        self.stand_ins = stand_ins
        self.positional = positional

    def visit_ColumnRef(self, ancestors: Any, node: Any) -> Any:
        fields = [f.sval if isinstance(f, ast.String) else "*" for f in node.fields]
        first = fields[0].lower() if fields[0] != "*" else None
        if first not in self.stand_ins:
            return None
        value = self.stand_ins[first]
        if value is None:
            raise _Unknown(first)
        rest = "".join(f".{'*' if f == '*' else ident(f)}" for f in fields[1:])
        return sqlparse.parse_expression(f"({value}){rest}" if rest else value, fresh=True)

    def visit_ParamRef(self, ancestors: Any, node: Any) -> Any:
        if not 1 <= node.number <= len(self.positional):
            raise _Unknown(f"${node.number}")
        return sqlparse.parse_expression(self.positional[node.number - 1], fresh=True)
