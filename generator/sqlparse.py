"""pglast helpers: parse the SQL fragments a spec holds and find what they refer to.

The spec stores expressions, queries and function bodies as text. Here they are parsed with PostgreSQL's own parser
(pglast) so mistakes surface at `check` time with the YAML position, and so dependencies (tables and functions an
expression uses) are read from the parse tree, not guessed from text.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from pglast import ast as _pglast_ast
from pglast import parse_sql
from pglast.parser import ParseError, parse_plpgsql_json
from pglast.stream import RawStream

from .sqltext import dollar_quote, fragment

# pglast's AST declares every attribute Optional, which would bury tree walks in None checks; the rest of the
# generator uses its nodes through this untyped alias.
ast: Any = _pglast_ast


class SqlSyntaxError(ValueError):
    """A fragment that PostgreSQL's parser rejects, or that is not the kind of SQL expected."""


# Deeper than any expression a person writes (SPEC-131's deepest is ~20 nodes); shallow enough that the recursive
# walks over parse trees here, in verify and in pglast's printer stay far from Python's recursion limit (1,000
# chained NOTs raised RecursionError).
MAX_DEPTH = 100


def _parse(text: str, limit: int | None = MAX_DEPTH) -> tuple[Any, ...]:
    """Parse; `limit` bounds the depth of each statement's tree (None: text this tool generated from fragments
    that were bounded when checked)."""
    try:
        stmts = tuple(parse_sql(text))
    except ParseError as exc:
        raise SqlSyntaxError(str(exc)) from None
    except RecursionError:
        raise SqlSyntaxError(f"nested more than {MAX_DEPTH} levels deep") from None
    if limit is not None and any(depth(raw.stmt, limit) > limit for raw in stmts):
        raise SqlSyntaxError(f"nested more than {limit} levels deep")
    return stmts


def depth(root: Any, limit: int = MAX_DEPTH) -> int:
    """How many parse-tree nodes deep `root` is; iterative, and stops counting past `limit`."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(root, 1)]
    while stack and deepest <= limit:
        node, level = stack.pop()
        if isinstance(node, ast.Node):
            deepest = max(deepest, level)
            stack.extend((getattr(node, slot, None), level + 1) for slot in node.__slots__)
        elif isinstance(node, list | tuple):
            stack.extend((item, level) for item in node)
    return deepest


def split_statements(text: str) -> list[tuple[ast.Node, str]]:
    """Each statement of a script with its own source text (pglast locations count characters, not bytes)."""
    out = []
    for raw in _parse(text, None):  # scripts: generated output, catalog text
        end = raw.stmt_location + raw.stmt_len if raw.stmt_len else len(text)
        out.append((raw.stmt, text[raw.stmt_location:end]))
    return out


def parse_expression(text: str) -> ast.Node:
    """One scalar expression (a CHECK, default, USING, WHEN, index predicate)."""
    stmts = _parse(f"SELECT {text}")
    stmt = stmts[0].stmt if len(stmts) == 1 else None
    if not isinstance(stmt, ast.SelectStmt) or stmt.targetList is None or len(stmt.targetList) != 1:
        raise SqlSyntaxError("expected a single SQL expression")
    extra = [name for name in ("fromClause", "whereClause", "groupClause", "havingClause", "sortClause",
                               "limitCount", "limitOffset", "windowClause", "lockingClause", "distinctClause")
             if getattr(stmt, name)]
    target = stmt.targetList[0]
    if extra or target.name:
        raise SqlSyntaxError("expected a single SQL expression, not a query")
    node: ast.Node = target.val
    return node


def check_default(text: str) -> None:
    """Raise SqlSyntaxError unless `text` (an expression already) is one where a column DEFAULT stands: there
    PostgreSQL's grammar takes a restricted expression (b_expr: no NOT, AND, OR, IS, IN, LIKE unparenthesised)."""
    stmts = _parse(f"CREATE TABLE t (c integer DEFAULT {fragment(text)}\n)")
    if len(stmts) != 1 or not isinstance(stmts[0].stmt, ast.CreateStmt):
        raise SqlSyntaxError("not a single expression")


def parse_query(text: str) -> ast.SelectStmt:
    """One SELECT (a view body)."""
    stmts = _parse(text)
    if len(stmts) != 1 or not isinstance(stmts[0].stmt, ast.SelectStmt):
        raise SqlSyntaxError("expected exactly one SELECT statement")
    stmt: ast.SelectStmt = stmts[0].stmt
    return stmt


def walk(node: Any, *, into_subqueries: bool = True) -> Iterator[Any]:
    """Every pglast node below `node`, depth first; optionally not into sub-selects (whose column names belong
    to their own FROM, not to the row an expression is about)."""
    if isinstance(node, ast.Node):
        yield node
        for slot in node.__slots__:
            if not into_subqueries and isinstance(node, ast.SubLink) and slot == "subselect":
                continue
            yield from walk(getattr(node, slot, None), into_subqueries=into_subqueries)
    elif isinstance(node, list | tuple):
        for item in node:
            yield from walk(item, into_subqueries=into_subqueries)


def deparse(node: Any) -> str:
    """A parse tree back to SQL text, in pglast's canonical spelling."""
    return "" if node is None else str(RawStream()(node))


@dataclass
class Refs:
    """Names a SQL fragment uses: (schema or None, name) pairs, and column names."""

    tables: set[tuple[str | None, str]] = field(default_factory=set)
    functions: set[tuple[str | None, str]] = field(default_factory=set)
    columns: set[str] = field(default_factory=set)

    def add(self, other: Refs) -> None:
        self.tables |= other.tables
        self.functions |= other.functions
        self.columns |= other.columns


def references(node: Any) -> Refs:
    refs = Refs()
    ctes = {n.ctename for n in walk(node) if isinstance(n, ast.CommonTableExpr)}
    for n in walk(node):
        if isinstance(n, ast.RangeVar) and not (n.schemaname is None and n.relname in ctes):
            refs.tables.add((n.schemaname, n.relname))
        elif isinstance(n, ast.FuncCall):
            names = [s.sval for s in n.funcname]
            refs.functions.add((names[0] if len(names) > 1 else None, names[-1]))
        elif isinstance(n, ast.ColumnRef):
            names = [f.sval for f in n.fields if isinstance(f, ast.String)]
            if names:
                refs.columns.add(names[-1])
    return refs


# PL/pgSQL stores each embedded SQL fragment with the raw-parse mode PostgreSQL will use for it.
_MODE_STATEMENT, _MODE_EXPR = 0, 2


def plpgsql_fragments(create_function_sql: str) -> list[str]:
    """Parse a PL/pgSQL function and return the SQL statements embedded in it, each checked by the SQL parser.

    `parse_plpgsql_json` only checks the PL/pgSQL structure; the SQL inside (queries, expressions, assignments) is
    parsed here so that a typo in an INSERT inside a trigger is caught before any database sees it.
    """
    try:
        tree = json.loads(parse_plpgsql_json(create_function_sql))
        exprs = list(_json_nodes(tree, "PLpgSQL_expr"))
    except ParseError as exc:
        raise SqlSyntaxError(f"PL/pgSQL: {exc}") from None
    except RecursionError:  # json.loads and the walk recurse once per level of nested blocks
        raise SqlSyntaxError(f"PL/pgSQL: nested more than {MAX_DEPTH} levels deep") from None
    statements = []
    for expr in exprs:
        query, mode = expr.get("query", ""), expr.get("parseMode", _MODE_STATEMENT)
        if mode == _MODE_STATEMENT:
            text = query
        else:  # an expression, or an assignment `target := expression` (modes 3-5)
            text = f"SELECT {query.split(':=', 1)[-1] if mode != _MODE_EXPR else query}"
        try:
            parsed = _parse(text)
        except SqlSyntaxError as exc:
            raise SqlSyntaxError(f"PL/pgSQL body: {exc} in {query.strip()!r}") from None
        # `SELECT` with nothing after it is valid SQL, but an empty PL/pgSQL expression is not.
        if mode != _MODE_STATEMENT and not getattr(parsed[0].stmt, "targetList", None):
            raise SqlSyntaxError(f"PL/pgSQL body: missing expression in {query.strip()!r}")
        statements.append(text)
    return statements


def _json_nodes(tree: Any, kind: str) -> Iterator[dict[str, Any]]:
    if isinstance(tree, dict):
        for key, value in tree.items():
            if key == kind and isinstance(value, dict):
                yield value
            yield from _json_nodes(value, kind)
    elif isinstance(tree, list):
        for item in tree:
            yield from _json_nodes(item, kind)


def statement_references(text: str) -> Refs:
    """What a list of SQL statements refers to."""
    refs = Refs()
    for raw in _parse(text):
        refs.add(references(raw.stmt))
    return refs


def body_references(language: str, create_sql: str, body: str) -> Refs:
    """What a function body refers to. SQL bodies are parsed as statements; PL/pgSQL via its embedded SQL."""
    refs = Refs()
    for text in plpgsql_fragments(create_sql) if language == "plpgsql" else [body]:
        refs.add(statement_references(text))
    return refs


def function_probe(name: str, args: str, returns: str, language: str, body: str) -> str:
    """A CREATE FUNCTION statement used only to hand a body to the PL/pgSQL parser."""
    return f"CREATE FUNCTION {name}({args}) RETURNS {returns} LANGUAGE {language} AS {dollar_quote(body)}"
