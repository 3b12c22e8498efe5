"""pglast helpers: parse the SQL fragments a spec holds and find what they refer to.

The spec stores expressions, queries and function bodies as text. Here they are parsed with PostgreSQL's own parser
(pglast) so mistakes surface at `check` time with the YAML position, and so dependencies (tables and functions an
expression uses) are read from the parse tree, not guessed from text.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache, lru_cache
from typing import Any

from pglast import ast as _pglast_ast
from pglast import parse_sql, split
from pglast.parser import ParseError, parse_plpgsql_json, parse_sql_json, scan
from pglast.stream import RawStream

from .sqltext import dollar_quote, fragment, qualified_parts

# pglast's AST declares every attribute Optional, which would bury tree walks in None checks; the rest of the
# generator uses its nodes through this untyped alias.
ast: Any = _pglast_ast


class SqlSyntaxError(ValueError):
    """A fragment that PostgreSQL's parser rejects, or that is not the kind of SQL expected."""


# Deeper than any expression a person writes (SPEC-131's deepest is ~20 nodes); shallow enough that the recursive
# walks over parse trees here, in verify and in pglast's printer stay far from Python's recursion limit (1,000
# chained NOTs raised RecursionError).
MAX_DEPTH = 100


def _parse_fresh(text: str, limit: int | None = MAX_DEPTH) -> tuple[Any, ...]:
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


# Specs repeat fragments (`owner_id = (SELECT auth.uid())` in every table's policies), and check, order and lint
# each parse the same text: one parse per distinct text. The trees are shared, so they must not be changed: a
# caller that rewrites a tree (drift's normal form, a column rename) asks for a fresh one.
_parse = lru_cache(maxsize=16384)(_parse_fresh)


def split_texts(text: str) -> tuple[str, ...]:
    """The statements of a script as text, split by PostgreSQL's parser without building parse trees (fast)."""
    try:
        return tuple(split(text, with_parser=True))
    except ParseError as exc:
        raise SqlSyntaxError(str(exc)) from None


def split_statements(text: str) -> list[tuple[ast.Node, str]]:
    """Each statement of a script with its own source text (pglast locations count characters, not bytes)."""
    out = []
    for raw in _parse(text, None):  # scripts: generated output, catalog text
        end = raw.stmt_location + raw.stmt_len if raw.stmt_len else len(text)
        out.append((raw.stmt, text[raw.stmt_location:end]))
    return out


# Positions (`location`, `rexpr_list_start`, ...) differ between the same expression in the spec and in the
# output: `positionless` removes them from a tree's JSON text, so that trees compare as text. The pattern cannot
# match inside a JSON string, where every quote is escaped.
_POSITION = re.compile(r',"[a-z_]*(?:location|_start|_end)":-?\d+|"[a-z_]*(?:location|_start|_end)":-?\d+,?')


def positionless(tree_json: str) -> str:
    return _POSITION.sub("", tree_json)


def parse_json(text: str) -> list[dict[str, Any]]:
    """The statements of `text` as libpg_query's JSON parse trees (`{"Kind": {fields}}`): built in C, many
    times faster than pglast's Python nodes where only a comparison is needed."""
    try:
        tree = json.loads(parse_sql_json(text))
    except ParseError as exc:
        raise SqlSyntaxError(str(exc)) from None
    return [s["stmt"] for s in tree.get("stmts", ())]


def split_json(text: str) -> list[tuple[dict[str, Any], str]]:
    """Each statement of a script as libpg_query's JSON parse tree, with its own source text (the parser's
    locations count bytes)."""
    try:
        tree = json.loads(parse_sql_json(text))
    except ParseError as exc:
        raise SqlSyntaxError(str(exc)) from None
    data = text.encode("utf-8")
    out = []
    for s in tree.get("stmts", ()):
        start = s.get("stmt_location", 0)
        end = start + s["stmt_len"] if s.get("stmt_len") else len(data)
        out.append((s["stmt"], data[start:end].decode("utf-8")))
    return out


def fingerprint(text: str) -> str:
    """What a script does, as one short text: a hash of its statements' parse trees without positions, so that
    spacing, comments and spelling that parse the same do not count (raw SQL objects, recorded by the database)."""
    import hashlib

    trees = [positionless(json.dumps(s, separators=(",", ":"), sort_keys=True)) for s in parse_json(text)]
    return hashlib.sha256("\n".join(trees).encode()).hexdigest()[:32]


def outside_transaction(stmt: Any) -> str | None:
    """What makes a statement one that cannot run where the output and plans run it, inside a transaction block
    of their own (transaction control, and what PostgreSQL refuses in a transaction block); None for the rest."""
    kind = type(stmt).__name__
    if kind == "TransactionStmt":
        return "transaction control (BEGIN, COMMIT, ROLLBACK, SAVEPOINT, ...)"
    refused = {"CreatedbStmt": "CREATE DATABASE", "DropdbStmt": "DROP DATABASE",
               "CreateTableSpaceStmt": "CREATE TABLESPACE", "DropTableSpaceStmt": "DROP TABLESPACE",
               "AlterSystemStmt": "ALTER SYSTEM"}
    if kind in refused:
        return refused[kind]
    options = {o.defname: o.arg for o in (getattr(stmt, "options", None) or ()) if isinstance(o, ast.DefElem)}
    params = {o.defname for o in (getattr(stmt, "params", None) or ()) if isinstance(o, ast.DefElem)}
    found = {
        "VacuumStmt": "VACUUM" if getattr(stmt, "is_vacuumcmd", False) else None,
        "IndexStmt": "CREATE INDEX CONCURRENTLY" if getattr(stmt, "concurrent", False) else None,
        "DropStmt": "DROP INDEX CONCURRENTLY" if getattr(stmt, "concurrent", False) else None,
        "ReindexStmt": "REINDEX CONCURRENTLY" if "concurrently" in params else
        "REINDEX DATABASE or SYSTEM" if getattr(stmt, "relation", None) is None else None,
        "CreateSubscriptionStmt": None if "create_slot" in options and str(getattr(
            options["create_slot"], "sval", getattr(options["create_slot"], "boolval", ""))).lower()
        in ("false", "off", "0") else "CREATE SUBSCRIPTION (with create_slot)",
        "ClusterStmt": "CLUSTER without a table" if getattr(stmt, "relation", None) is None else None,
        "DiscardStmt": "DISCARD ALL" if getattr(stmt, "target", None) == 0 else None,  # DiscardMode.DISCARD_ALL
        "AlterDatabaseStmt": "ALTER DATABASE ... SET TABLESPACE" if "tablespace" in options else None,
    }.get(kind)
    if found is None and kind == "AlterTableStmt":
        for cmd in stmt.cmds or ():
            if isinstance(cmd.def_, ast.PartitionCmd) and cmd.def_.concurrent:
                return "DETACH PARTITION CONCURRENTLY"
    return found


def parse_expression(text: str, *, fresh: bool = False) -> ast.Node:
    """One scalar expression (a CHECK, default, USING, WHEN, index predicate). `fresh`: a tree of the caller's
    own, to change (by default a shared, cached one)."""
    stmts = (_parse_fresh if fresh else _parse)(f"SELECT {text}")
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


def parse_statements(text: str, *, fresh: bool = False) -> tuple[Any, ...]:
    """The statements of `text` (RawStmt nodes); `fresh`: trees of their own, which the caller may change."""
    return (_parse_fresh if fresh else _parse)(text)


def parse_query(text: str, *, fresh: bool = False) -> ast.SelectStmt:
    """One SELECT (a view body); `fresh` as in parse_expression."""
    stmts = (_parse_fresh if fresh else _parse)(text)
    if len(stmts) != 1 or not isinstance(stmts[0].stmt, ast.SelectStmt):
        raise SqlSyntaxError("expected exactly one SELECT statement")
    stmt: ast.SelectStmt = stmts[0].stmt
    return stmt


@cache
def _child_slots(cls: Any) -> tuple[str, ...]:
    """The attributes of a node class that can hold nodes or lists: pglast declares each one's C type, and most
    (names, flags, enums, positions) never do."""
    slots = cls.__slots__
    if not isinstance(slots, dict):
        return tuple(slots)
    return tuple(name for name, info in slots.items()
                 if (info.c_type.endswith("*") and info.c_type != "char*") or info.c_type == "ValUnion"
                 or isinstance(getattr(ast, info.c_type, None), type))


def walk(node: Any, *, into_subqueries: bool = True) -> Iterator[Any]:
    """Every pglast node below `node`, depth first; optionally not into sub-selects (whose column names belong
    to their own FROM, not to the row an expression is about). Iterative: check walks every expression of a
    spec, and nested generators cost a frame per level and node."""
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, ast.Node):
            yield item
            skip = "subselect" if not into_subqueries and isinstance(item, ast.SubLink) else None
            children = [getattr(item, slot, None) for slot in _child_slots(item.__class__) if slot != skip]
            stack.extend(c for c in reversed(children) if isinstance(c, ast.Node | list | tuple))
        elif isinstance(item, list | tuple):
            stack.extend(c for c in reversed(item) if isinstance(c, ast.Node | list | tuple))


# The functions that take a sequence as a regclass, usually written as a string constant (`nextval('s')`).
SEQUENCE_FUNCTIONS = frozenset({"nextval", "currval", "setval"})


def sequence_names(node: Any) -> set[tuple[str | None, str]]:
    """The sequences `nextval('s')`, `currval` and `setval` name by a constant (`'s'`, `'app.s'::regclass`): a
    default taking its values from one is resolved when it runs, yet the sequence must exist by then."""
    out: set[tuple[str | None, str]] = set()
    for n in walk(node):
        if not isinstance(n, ast.FuncCall) or n.funcname[-1].sval not in SEQUENCE_FUNCTIONS or not n.args:
            continue
        arg = n.args[0]
        if isinstance(arg, ast.TypeCast):
            arg = arg.arg
        if isinstance(arg, ast.A_Const) and isinstance(arg.val, ast.String):
            parts = qualified_parts(arg.val.sval)
            if len(parts) in (1, 2):
                out.add((parts[0] if len(parts) == 2 else None, parts[-1]))
    return out


def deparse(node: Any) -> str:
    """A parse tree back to SQL text, in pglast's canonical spelling."""
    return "" if node is None else str(RawStream()(node))


@dataclass
class Refs:
    """Names a SQL fragment uses: (schema or None, name) pairs, and column names."""

    tables: set[tuple[str | None, str]] = field(default_factory=set)
    functions: set[tuple[str | None, str]] = field(default_factory=set)
    columns: set[str] = field(default_factory=set)
    types: set[tuple[str | None, str]] = field(default_factory=set)  # named in casts (`x::ticket_status`)

    def add(self, other: Refs) -> None:
        self.tables |= other.tables
        self.functions |= other.functions
        self.columns |= other.columns
        self.types |= other.types


def references(node: Any) -> Refs:
    return _references(walk(node))


# check walks each expression's tree several times (references, columns, keywords), and specs repeat expressions
# (`owner_id = (SELECT auth.uid())` in every table's policies) whose one shared tree the parse cache returns: such
# a tree's nodes and references are listed once. Keyed by identity; an entry keeps its tree alive, so the id is
# never reused. Only for shared trees, which nobody changes (never for a `fresh=True` one).
_NODES: dict[tuple[int, bool], tuple[Any, tuple[Any, ...]]] = {}
_REFS: dict[int, tuple[Any, Refs]] = {}


def shared_walk(root: Any, *, into_subqueries: bool = True) -> tuple[Any, ...]:
    """`walk(root)` of a shared (cached) tree, as a tuple listed once per tree."""
    entry = _NODES.get((id(root), into_subqueries))
    if entry is None:
        entry = _NODES[(id(root), into_subqueries)] = (root, tuple(walk(root, into_subqueries=into_subqueries)))
    return entry[1]


def shared_references(root: Any) -> Refs:
    """`references(root)` of a shared (cached) tree, listed once per tree; the caller must not change it."""
    entry = _REFS.get(id(root))
    if entry is None:
        entry = _REFS[id(root)] = (root, _references(shared_walk(root)))
    return entry[1]


def _references(nodes: Iterable[Any]) -> Refs:
    refs = Refs()
    ctes: set[str] = set()
    for n in nodes:
        if isinstance(n, ast.CommonTableExpr):
            ctes.add(n.ctename)
        elif isinstance(n, ast.RangeVar):
            refs.tables.add((n.schemaname, n.relname))
        elif isinstance(n, ast.FuncCall):
            names = [s.sval for s in n.funcname]
            refs.functions.add((names[0] if len(names) > 1 else None, names[-1]))
        elif isinstance(n, ast.ColumnRef):
            names = [f.sval for f in n.fields if isinstance(f, ast.String)]
            if names:
                refs.columns.add(names[-1])
        elif isinstance(n, ast.TypeName) and n.names:
            names = [s.sval for s in n.names if isinstance(s, ast.String)]
            if names and names[0] != "pg_catalog":
                refs.types.add((names[0] if len(names) > 1 else None, names[-1]))
    refs.tables -= {(None, name) for name in ctes}  # a CTE's name is no table
    return refs


# PL/pgSQL stores each embedded SQL fragment with the raw-parse mode PostgreSQL will use for it.
_MODE_STATEMENT, _MODE_EXPR = 0, 2


class PlpgsqlUnsupported(SqlSyntaxError):
    """A PL/pgSQL body pglast's parser cannot read although PostgreSQL may well accept it (its parser resolves
    declared types, and only in pg_catalog and public): not a spec mistake, but its SQL goes unchecked."""


@dataclass(frozen=True)
class Declaration:
    """One variable of a PL/pgSQL DECLARE section whose type is a dotted name: `v tbl%ROWTYPE`, `v s.tbl`,
    `v s.tbl.col%TYPE`. `parts` are the name's parts (without the column of a %TYPE), `start` and `end` the
    offsets of the whole type name in the body."""

    parts: tuple[str, ...]
    suffix: str  # "rowtype", "type" or ""
    start: int
    end: int

    @property
    def relation(self) -> tuple[str | None, str] | None:
        """The table or view whose row (or column) type the variable takes, when the name can be one."""
        parts = self.parts[:-1] if self.suffix == "type" else self.parts
        if not 1 <= len(parts) <= 2 or (self.suffix == "type" and len(self.parts) < 2):
            return None
        return (parts[0] if len(parts) == 2 else None), parts[-1]


_DECLARATION_END = {"COLON_EQUALS", "ASCII_61", "DEFAULT", "NOT", "COLLATE"}
_DECLARATION_END_WORDS = {":=", "=", "default", "not", "collate"}


def plpgsql_declarations(body: str) -> list[Declaration]:
    """The variables of every DECLARE section of a PL/pgSQL body whose type is a (possibly qualified) name."""
    return [d for _, d in _declared(body) if d is not None]


def plpgsql_variables(body: str) -> dict[str, str | None]:
    """Each variable a DECLARE section of a PL/pgSQL body declares, lower-cased, with the SQL expression of a value
    of its type: `NULL::numeric(10,2)`, `NULL::public.t` for `t%ROWTYPE`, `(NULL::public.t).col` for
    `t.col%TYPE`; None for what has no type to stand for (ALIAS, CURSOR, `record`)."""
    out: dict[str, str | None] = {}
    for words, declared in _declared(body):
        name = words[0].strip('"') if words[0].startswith('"') else words[0].lower()
        if declared is not None and declared.suffix == "rowtype":
            out[name] = f"NULL::{'.'.join(declared.parts)}"
        elif declared is not None and declared.suffix == "type":
            *relation, column = declared.parts
            out[name] = f"(NULL::{'.'.join(relation)}).{column}" if relation else None
        else:
            type_words = list(itertools.takewhile(lambda w: w.lower() not in _DECLARATION_END_WORDS, words[1:]))
            if type_words and type_words[0].lower() == "constant":
                type_words = type_words[1:]
            text = " ".join(type_words)
            unusable = not type_words or text.lower() == "record" or any(
                w.lower() in ("alias", "cursor", "scroll", "refcursor") for w in type_words[:3])
            out[name] = None if unusable else f"NULL::{text}"
    return out


def _declared(body: str) -> Iterator[tuple[list[str], Declaration | None]]:
    """Each declaration of every DECLARE section, read with PostgreSQL's SQL scanner (comments and string literals
    are tokens of their own, so a `;` in either does not end a declaration): its words, and its Declaration when
    its type is a dotted name."""
    try:
        tokens = [t for t in scan(body) if t.name not in ("SQL_COMMENT", "C_COMMENT")]
    except ParseError:
        return
    current: list[Any] | None = None
    for token in tokens:
        if token.name == "DECLARE":
            current = []
        elif current is None:
            continue
        elif token.name == "BEGIN_P":
            current = None
        elif token.name == "ASCII_59":  # ;
            if current:
                yield [body[t.start:t.end + 1] for t in current], _declaration(body, current)
            current = []
        else:
            current.append(token)


def _declaration(body: str, tokens: list[Any]) -> Declaration | None:
    words = [body[t.start:t.end + 1] for t in tokens]
    rest = list(zip(tokens[1:], words[1:], strict=True))
    if rest and rest[0][1].lower() == "constant":
        rest = rest[1:]
    if not rest or any(w.lower() in ("alias", "cursor", "scroll") for _, w in rest[:3]):
        return None
    type_tokens = []
    for token, word in rest:
        if token.name in _DECLARATION_END:
            break
        type_tokens.append((token, word))
    while len(type_tokens) >= 2 and [w for _, w in type_tokens[-2:]] == ["[", "]"]:  # an array of the type
        type_tokens = type_tokens[:-2]
    parts: list[str] = []
    suffix = ""
    for i, (token, word) in enumerate(type_tokens):
        if i % 2 == 0 and token.name == "IDENT" or (i % 2 == 0 and token.kind != "NO_KEYWORD"):
            parts.append(word.strip('"') if word.startswith('"') else word.lower())
        elif i % 2 == 1 and word == ".":
            continue
        elif i % 2 == 1 and word == "%" and i + 2 == len(type_tokens):
            suffix = type_tokens[-1][1].lower()
            break
        else:
            return None  # not a dotted name: `double precision`, `varchar(20)`, ...
    if not parts or suffix not in ("", "rowtype", "type"):
        return None
    return Declaration(tuple(parts), suffix, type_tokens[0][0].start, type_tokens[-1][0].end + 1)


def _function_body(create_function_sql: str) -> str | None:
    try:
        stmt = _parse(create_function_sql)[0].stmt
    except (SqlSyntaxError, IndexError):
        return None
    body = next((o.arg for o in stmt.options or () if o.defname == "as"), None)
    return str(body[0].sval) if body else None


def _readable_declarations(body: str) -> str:
    """The body as pglast's PL/pgSQL parser can read it, for extracting its SQL only: `%ROWTYPE` variables become
    `record` (pglast knows no table's columns, so it refuses `v.col := ...` on them), and declared types in other
    schemas than pg_catalog and public move to public (the only schemas it resolves). Neither changes the SQL the
    body holds."""
    for d in reversed(plpgsql_declarations(body)):
        if d.suffix == "rowtype":
            body = body[:d.start] + "record" + body[d.end:]
        elif len(d.parts) >= (3 if d.suffix == "type" else 2) and d.parts[0] not in ("public", "pg_catalog"):
            body = body[:d.start] + "public" + body[body.index(".", d.start):]
    return body


# pglast's messages for what it cannot resolve, where PostgreSQL (which knows the catalog) may well succeed: a
# schema it does not look in, a field of a row it cannot see (`"v.col" is not a known variable`; an undeclared
# plain name stays an error), an array of a type it does not know (it takes the type for `record`).
_UNRESOLVED = re.compile(r'\ANot implemented|"[^"]*\.[^"]*" is not a known variable|has pseudo-type _record\Z')


@lru_cache(maxsize=1024)
def _parse_plpgsql(create_function_sql: str) -> Any:
    try:
        return json.loads(parse_plpgsql_json(create_function_sql))
    except ParseError as exc:
        first = exc
    body = _function_body(create_function_sql)
    readable = _readable_declarations(body) if body is not None else None
    if body is not None and readable is not None and readable != body:
        try:
            return json.loads(parse_plpgsql_json(create_function_sql.replace(body, readable, 1)))
        except ParseError as exc:
            first = exc
    message = str(first)
    if _UNRESOLVED.search(message):
        raise PlpgsqlUnsupported(f"PL/pgSQL: pglast cannot read this body ({message})")
    raise SqlSyntaxError(f"PL/pgSQL: {message}")


def plpgsql_fragments(create_function_sql: str) -> list[str]:
    """Parse a PL/pgSQL function and return the SQL statements embedded in it, each checked by the SQL parser.

    `parse_plpgsql_json` only checks the PL/pgSQL structure; the SQL inside (queries, expressions, assignments) is
    parsed here so that a typo in an INSERT inside a trigger is caught before any database sees it. Raises
    PlpgsqlUnsupported when pglast cannot read a body PostgreSQL may accept.
    """
    return [text for _, text in plpgsql_statements(create_function_sql)]


def plpgsql_statements(create_function_sql: str, *, targets: bool = False) -> list[tuple[int, str]]:
    """plpgsql_fragments, each with the line of the body its PL/pgSQL statement starts on (1: the body's first);
    `targets`: with each assignment's target as a query of its own too (`SELECT NEW.col` for `NEW.col := 1`)."""
    try:
        tree = _parse_plpgsql(create_function_sql)
        exprs = list(_exprs_with_lines(tree, 0))
    except RecursionError:  # json.loads and the walk recurse once per level of nested blocks
        raise SqlSyntaxError(f"PL/pgSQL: nested more than {MAX_DEPTH} levels deep") from None
    statements = []
    for line, expr in exprs:
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
        statements.append((line, text))
        target = query.split(":=", 1)[0].strip() if ":=" in query else ""
        if targets and mode not in (_MODE_STATEMENT, _MODE_EXPR) and target:
            with contextlib.suppress(SqlSyntaxError):  # a target is not always an expression (`a[1:2]`): skip
                _parse(f"SELECT {target}")
                statements.append((line, f"SELECT {target}"))
    return statements


def plpgsql_datums(create_function_sql: str) -> list[tuple[str, str, str | None]]:
    """The variables PL/pgSQL knows in a function (its arguments, FOUND, TG_OP, declared and loop variables), as
    pglast's PL/pgSQL parser has them: kind ("var", "rec" or "row"), lower-case name, type name (None for rows)."""
    out = []
    for datum in _parse_plpgsql(create_function_sql)[0]["PLpgSQL_function"].get("datums", ()):
        (kind, fields), = datum.items()
        typname = fields.get("datatype", {}).get("PLpgSQL_type", {}).get("typname")
        out.append((kind.removeprefix("PLpgSQL_"), str(fields.get("refname", "")).lower(), typname))
    return out


def _exprs_with_lines(tree: Any, line: int) -> Iterator[tuple[int, dict[str, Any]]]:
    """Every PLpgSQL_expr of a parsed PL/pgSQL function, with the line of the statement that holds it."""
    if isinstance(tree, dict):
        line = tree.get("lineno", line) if isinstance(tree.get("lineno"), int) else line
        for key, value in tree.items():
            if key == "PLpgSQL_expr" and isinstance(value, dict):
                yield line, value
            yield from _exprs_with_lines(value, line)
    elif isinstance(tree, list):
        for item in tree:
            yield from _exprs_with_lines(item, line)


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


def function_probe(name: str, args: str, returns: str | None, language: str, body: str) -> str:
    """A CREATE FUNCTION statement (CREATE PROCEDURE without `returns`) used only to hand a body to the PL/pgSQL
    parser."""
    head = f"FUNCTION {name}({args}) RETURNS {returns}" if returns is not None else f"PROCEDURE {name}({args})"
    return f"CREATE {head} LANGUAGE {language} AS {dollar_quote(body)}"
