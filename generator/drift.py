"""Drift: what differs between a spec and a live database, one readable line per difference.

The database is read back into model objects (``introspect.py``) and compared with the spec, object by object:
roles, schemas, sequences, functions, tables (columns, constraints, indexes, triggers, RLS, policies, grants,
comments) and views. Each difference is one line naming the object:

    index public.idx_x: missing in database
    column public.t.c: type varchar(10) in spec, text in database
    policy public.t."name": USING differs: spec (...) database (...)

SQL fragments (defaults, CHECKs, policy USING / WITH CHECK, index predicates, trigger WHEN, view queries) are
compared by parse tree (pglast), after both sides are brought to one normal form that undoes what PostgreSQL does
to an expression when it stores it (see ``Canon``). Function bodies are stored verbatim and compared as text,
without leading and trailing whitespace. Seed rows are data, not schema, and are not compared.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import functools
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import zip_longest
from typing import TYPE_CHECKING, Any, TypeVar, cast

from pglast import enums

from . import introspect, model, sqlparse
from .check import check
from .derive import (
    Catalog,
    Constraint,
    ReferenceSyntaxError,
    identity_options,
    identity_type,
    parse_reference,
    routine_id,
)
from .introspect import DatabaseError, Snapshot
from .load import load_spec
from .model import Column, Function, Grant, Index, MaterializedView, Policy, Role, SchemaDef, Table, Trigger, View
from .order import order
from .partitions import (
    PartitionEntry,
    PartitionSyntaxError,
    bound_sql,
    key_types,
    parse_bound,
    parse_partition_by,
    partitions_of,
)
from .report import Record, emit
from .sqlparse import SqlSyntaxError, ast
from .sqltext import (
    DEFAULT_SCHEMA,
    QName,
    Returns,
    SqlType,
    TypeSyntaxError,
    ident,
    literal,
    parse_returns,
    parse_type,
    qname,
    routine_name,
    value_literal,
)

if TYPE_CHECKING:
    import psycopg

# (schema, relation) -> its column names, or None when unknown.
Columns = Callable[[QName], Sequence[str] | None]
# (type as SQL, literal text) -> the literal as the database prints a value of that type.
Constant = Callable[[str, str], str]


def same_constant(type_sql: str, value: str) -> str:
    return value


# -- the normal form of SQL fragments -------------------------------------------------------------------------------
# What PostgreSQL does to an expression it stores, and how the normal form undoes it (both sides go through it):
# - casts it adds ('x'::text, (col)::text, ::character varying, (60)::numeric, ARRAY[...]::text[]): every cast is
#   dropped, after a typed literal has been respelled the way the server prints it (interval '15 minutes' is
#   '00:15:00', jsonb keys are sorted, a regclass loses its schema). So a change that only adds or removes a cast
#   is not reported; a changed value is.
# - constants: 1, 1.5, true and '-1'::integer are all kept as their text;
# - `x IN (a, b)` is stored as `x = ANY (ARRAY[a, b])`, `NOT IN` as `<> ALL`, a one-element IN as `=`;
#   BETWEEN as two comparisons; LIKE as the ~~ operator;
# - parentheses it adds, and nested AND/OR (flattened);
# - names: public and pg_catalog qualification of tables and functions (the reading session's search_path is
#   public), and column references, which it qualifies in sub-queries and views but not at the top of a policy
#   expression: every column reference is qualified with the table or alias it resolves to, on both sides;
# - `t.*` in a view is stored as the column list; output names it adds (`(SELECT auth.uid() AS uid)`, `AS text`)
#   are added on the spec side too, by PostgreSQL's own naming rule (FigureColname);
# - ORDER BY / GROUP BY by output name or position are stored as the expression.
_LOCAL_TYPES = frozenset({"text", "varchar", "bpchar", "name", "unknown", "int2", "int4", "int8", "numeric",
                          "float4", "float8", "oid"})
_BOOLEAN_WORDS = {"t": "true", "true": "true", "y": "true", "yes": "true", "on": "true", "1": "true",
                  "f": "false", "false": "false", "n": "false", "no": "false", "off": "false", "0": "false"}
_REGCLASS_FUNCTIONS = frozenset({"nextval", "currval", "setval"})
# CURRENT_TIMESTAMP, CURRENT_USER, ... are named after themselves (SVFOP_CURRENT_TIME_N: current_time).
_VALUE_FUNCTIONS = {op: op.name.removeprefix("SVFOP_").removesuffix("_N").lower() for op in enums.SQLValueFunctionOp}
_K = enums.A_Expr_Kind


def _names(nodes: Any) -> tuple[str, ...]:
    return tuple(n.sval for n in nodes or () if isinstance(n, ast.String))


def _string(value: str) -> Any:
    return ast.String(sval=value)


def _is_text_const(node: Any) -> bool:
    return isinstance(node, ast.A_Const) and isinstance(node.val, ast.String)


def figure_colname(node: Any) -> str:
    """The output name PostgreSQL gives an unnamed SELECT item (parser/parse_target.c, FigureColname)."""
    name, strength = _figure(node)
    return name if strength else "?column?"


def _figure(node: Any) -> tuple[str, int]:
    if isinstance(node, ast.ColumnRef | ast.A_Indirection):
        names = _names(node.fields if isinstance(node, ast.ColumnRef) else node.indirection)
        if names:
            return names[-1], 2
        return _figure(node.arg) if isinstance(node, ast.A_Indirection) else ("", 0)
    if isinstance(node, ast.TypeCast):
        name, strength = _figure(node.arg)
        return (name, strength) if strength > 1 else (_names(node.typeName.names)[-1], 1)
    if isinstance(node, ast.CaseExpr):
        name, strength = _figure(node.defresult)
        return (name, strength) if strength > 1 else ("case", 1)
    if isinstance(node, ast.CollateClause):
        return _figure(node.arg)
    if isinstance(node, ast.SubLink):
        return _figure_sublink(node)
    fixed = _fixed_name(node)
    return (fixed, 2) if fixed else ("", 0)


def _figure_sublink(node: Any) -> tuple[str, int]:
    kind = enums.SubLinkType
    if node.subLinkType == kind.EXISTS_SUBLINK:
        return "exists", 2
    if node.subLinkType == kind.ARRAY_SUBLINK:
        return "array", 2
    if node.subLinkType == kind.EXPR_SUBLINK:
        select = node.subselect
        while select.op and select.larg is not None:  # a set operation is named by its first branch
            select = select.larg
        if select.targetList:
            first = select.targetList[0]
            return first.name or figure_colname(first.val), 2
    return "", 0


def _fixed_name(node: Any) -> str | None:
    if isinstance(node, ast.FuncCall):
        return str(_names(node.funcname)[-1])
    if isinstance(node, ast.A_Expr) and node.kind == _K.AEXPR_NULLIF:
        return "nullif"
    if isinstance(node, ast.SQLValueFunction):
        return _VALUE_FUNCTIONS.get(node.op)
    if isinstance(node, ast.MinMaxExpr):
        return "greatest" if node.op == enums.MinMaxOp.IS_GREATEST else "least"
    names = {ast.A_ArrayExpr: "array", ast.RowExpr: "row", ast.CoalesceExpr: "coalesce",
             ast.GroupingFunc: "grouping"}
    return names.get(type(node))


_MEMO: dict[tuple[Any, ...], str] = {}
# Stands for a table's name in a normal form shared by the tables whose fragment does not name them (Canon.
# expression): control characters, so no SQL a person writes holds it, and the printer quotes it.
_STAND_IN = "\x01pgspec row\x02"


_MEMO_SIZE = 100_000


@dataclass
class _Source:
    """A FROM item a column reference may belong to: the name it is referred to by, and its columns (None when
    not known, as for a set-returning function without a column list)."""

    refname: str
    columns: tuple[str, ...] | None


class Canon:
    """Brings SQL fragments to the normal form described above: `expression()` (or `query()`) of two fragments
    is the same text when PostgreSQL would store them alike (within the limits listed there).

    `columns` resolves relations to their columns (to qualify column references and expand `*`); `constant`
    respells typed literals as the server prints them (introspect.Constants)."""

    def __init__(self, columns: Columns, constant: Constant = same_constant, memo: Any = None) -> None:
        self.columns = columns
        self.constant = constant
        self.ctes: dict[str, tuple[str, ...] | None] = {}
        # What the normal form depends on besides the text (the relations' columns, the server's constants):
        # with it, results are remembered across comparisons (plans compare the same fragments many times).
        self.memo = memo

    def expression(self, text: str, table: QName | None = None, *, cast_to: str | None = None) -> str:
        """An expression evaluated on the rows of `table` (CHECK, default, USING, index predicate), or on NEW/OLD
        (trigger WHEN: no table). `cast_to`: the type a bare literal takes (a column default's type)."""
        if table is not None and self.memo is not None and table.name.lower() not in text.lower():
            # Tables share their fragments (`owner_id = (SELECT auth.uid())` in every table's policies). A text
            # that does not name its table depends on the table only through its columns and the name that
            # qualifies each column reference: its normal form is computed once per (text, columns), with a
            # stand-in name, and the table's name put in its place. A text naming the table (`t.id`, a sub-query
            # on the same table) takes the general path, as the stand-in would not resolve that name alike.
            columns = self._known(self.columns(table))
            shared = self._remembered(("expression of a row", text, columns, cast_to),
                                      lambda: self._expression(text, table, cast_to, refname=_STAND_IN))
            # The qualifier spelt as the printer spells it on the general path below, which the other side of a
            # comparison may take (the path is chosen per text): the printer quotes as ident does, but for a name
            # ending in a newline, which ident quotes and pglast's printer leaves bare.
            return shared.replace(ident(_STAND_IN), _printed_qualifier(table.name))
        return self._remembered(("expression", text, table, cast_to), lambda: self._expression(text, table, cast_to))

    def _remembered(self, key: tuple[Any, ...], compute: Callable[[], str]) -> str:
        if self.memo is None:
            return compute()
        key = (*key, self.memo)
        if key not in _MEMO:
            if len(_MEMO) > _MEMO_SIZE:
                _MEMO.clear()
            _MEMO[key] = compute()
        return _MEMO[key]

    def _expression(self, text: str, table: QName | None, cast_to: str | None, refname: str | None = None) -> str:
        node = sqlparse.parse_expression(text, fresh=True)  # _normal rewrites the tree in place
        if cast_to is not None and _is_text_const(node):
            node = ast.TypeCast(arg=node, typeName=sqlparse.parse_expression(f"NULL::{cast_to}", fresh=True).typeName)
        levels = [[_Source(refname or table.name, self._known(self.columns(table)))]] if table else []
        return self._normal(node, levels)

    def query(self, text: str) -> str:
        return self._remembered(("query", text),
                                lambda: self._normal(sqlparse.parse_query(text.strip().rstrip(";"), fresh=True), []))

    def _normal(self, node: Any, levels: list[list[_Source]]) -> str:
        self.ctes = {}
        _name_outputs(node)
        node = self._rewrite(node)
        self._scope(node, levels)
        return sqlparse.deparse(node)

    @staticmethod
    def _known(columns: Sequence[str] | None) -> tuple[str, ...] | None:
        return tuple(columns) if columns is not None else None

    # -- rewrites, bottom-up --------------------------------------------------------------------------------------
    def _rewrite(self, node: Any) -> Any:
        if isinstance(node, tuple | list):
            return tuple(self._rewrite(n) for n in node)
        if not isinstance(node, ast.Node) or isinstance(node, ast.TypeName):
            # A type's modifiers (`timestamp(3)`) are part of its name, not constants of the expression: as
            # text they would spell a type the server refuses (`timestamp('3')`) when it converts a literal.
            return node
        for slot in node.__slots__:
            value = getattr(node, slot, None)
            if isinstance(value, ast.Node | tuple | list):
                setattr(node, slot, self._rewrite(value))
        rule = _RULES.get(type(node))
        return rule(self, node) if rule else node

    def _const(self, node: Any) -> Any:
        value = node.val
        if isinstance(value, ast.Integer):
            node.val = _string(str(value.ival))
        elif isinstance(value, ast.Float):
            node.val = _string(str(value.fval))
        elif isinstance(value, ast.Boolean):
            node.val = _string("true" if value.boolval else "false")
        return node

    def _cast(self, node: Any) -> Any:
        if _is_text_const(node.arg):
            node.arg.val.sval = self._typed_literal(node.typeName, node.arg.val.sval)
        return node.arg

    def _typed_literal(self, type_name: Any, value: str) -> str:
        base, is_array = _names(type_name.names)[-1], bool(type_name.arrayBounds)
        if not is_array and base in _LOCAL_TYPES:
            return value
        if not is_array and base == "bool":
            return _BOOLEAN_WORDS.get(value.strip().lower(), value)
        return self.constant(sqlparse.deparse(type_name), value)

    def _a_expr(self, node: Any) -> Any:
        if node.kind == _K.AEXPR_IN:
            return _in_list(node)
        if node.kind in (_K.AEXPR_BETWEEN, _K.AEXPR_NOT_BETWEEN):
            low, high = node.rexpr
            between = node.kind == _K.AEXPR_BETWEEN
            parts = (_op(">=" if between else "<", node.lexpr, low),
                     _op("<=" if between else ">", copy.deepcopy(node.lexpr), high))
            return _bool(enums.BoolExprType.AND_EXPR if between else enums.BoolExprType.OR_EXPR, parts)
        if node.kind in (_K.AEXPR_LIKE, _K.AEXPR_ILIKE):
            node.kind = _K.AEXPR_OP
        return node

    def _bool_expr(self, node: Any) -> Any:
        args: list[Any] = []
        for arg in node.args:
            same = isinstance(arg, ast.BoolExpr) and arg.boolop == node.boolop != enums.BoolExprType.NOT_EXPR
            args += list(arg.args) if same else [arg]
        node.args = tuple(args)
        return node

    def _func_call(self, node: Any) -> Any:
        names = _names(node.funcname)
        # extract(), overlaps, ... in SQL syntax are printed from their pg_catalog name: keep it on both sides.
        if len(names) > 1 and names[0] in ("public", "pg_catalog") and \
                node.funcformat != enums.CoercionForm.COERCE_SQL_SYNTAX:
            node.funcname = tuple(_string(n) for n in names[1:])
        # nextval('seq') is stored as nextval('seq'::regclass), spelt relative to the search_path.
        if names[-1] in _REGCLASS_FUNCTIONS and node.args and _is_text_const(node.args[0]):
            node.args[0].val.sval = self.constant("regclass", node.args[0].val.sval)
        return node

    def _row(self, node: Any) -> Any:
        node.row_format = enums.CoercionForm.COERCE_EXPLICIT_CALL  # (a, b) and ROW(a, b) are the same row
        return node

    # -- names: qualify every column reference -------------------------------------------------------------------
    def _scope(self, node: Any, levels: list[list[_Source]]) -> None:
        if isinstance(node, tuple | list):
            for item in node:
                self._scope(item, levels)
        elif isinstance(node, ast.SelectStmt):
            self._select(node, levels)
        elif isinstance(node, ast.ColumnRef):
            _qualify(node, levels)
        elif isinstance(node, ast.Node):
            for slot in node.__slots__:
                self._scope(getattr(node, slot, None), levels)

    def _select(self, stmt: Any, levels: list[list[_Source]]) -> None:
        if stmt.withClause is not None:
            for cte in stmt.withClause.ctes:
                self._scope(cte.ctequery, levels)
                self.ctes[cte.ctename] = _names(cte.aliascolnames) or _output_names(cte.ctequery)
        if stmt.op:  # UNION / INTERSECT / EXCEPT
            self._select(stmt.larg, levels)
            self._select(stmt.rarg, levels)
            return
        if stmt.valuesLists:
            self._scope(stmt.valuesLists, levels)
            return
        sources: list[_Source] = []
        quals: list[Any] = []
        for item in stmt.fromClause or ():
            self._from_item(item, sources, quals, levels)
        inner = [sources, *levels]
        stmt.targetList = _expand_stars(stmt.targetList, sources)
        for target in stmt.targetList or ():
            self._scope(target.val, inner)
        targets = list(stmt.targetList or ())
        stmt.groupClause = tuple(_group_item(g, targets, sources) for g in stmt.groupClause or ()) or None
        for sort in stmt.sortClause or ():
            sort.node = _sort_item(sort.node, targets)
        for part in (quals, stmt.whereClause, stmt.groupClause, stmt.havingClause, stmt.sortClause,
                     stmt.windowClause, stmt.distinctClause, stmt.limitCount, stmt.limitOffset):
            self._scope(part, inner)

    def _from_item(self, item: Any, sources: list[_Source], quals: list[Any], levels: list[list[_Source]]) -> None:
        alias = item.alias.aliasname if getattr(item, "alias", None) is not None else None
        aliased_columns = _names(item.alias.colnames) if alias is not None else ()
        if isinstance(item, ast.RangeVar):
            sources.append(_Source(alias or item.relname, aliased_columns or self._relation(item)))
            if item.schemaname in ("public", "pg_catalog"):
                item.schemaname = None
        elif isinstance(item, ast.RangeSubselect):
            self._scope(item.subquery, [sources, *levels] if item.lateral else levels)
            sources.append(_Source(alias or "", aliased_columns or _output_names(item.subquery)))
        elif isinstance(item, ast.JoinExpr):
            self._from_item(item.larg, sources, quals, levels)
            self._from_item(item.rarg, sources, quals, levels)
            quals.append(item.quals)
        elif isinstance(item, ast.RangeFunction):
            self._scope(item.functions, [sources, *levels] if item.lateral else levels)
            # A lone function is known by its name when it has no alias, as PostgreSQL names it.
            sources.append(_Source(alias or _lone_function_name(item) or "", aliased_columns or None))
            _drop_repeated_column_list(item)

    def _relation(self, rv: Any) -> tuple[str, ...] | None:
        if rv.schemaname is None and rv.relname in self.ctes:
            return self.ctes[rv.relname]
        schema = rv.schemaname or DEFAULT_SCHEMA
        return self._known(self.columns(QName(schema, rv.relname)))


def _op(name: str, left: Any, right: Any) -> Any:
    return ast.A_Expr(kind=_K.AEXPR_OP, name=(_string(name),), lexpr=left, rexpr=right)


def _bool(boolop: Any, args: Sequence[Any]) -> Any:
    return args[0] if len(args) == 1 else ast.BoolExpr(boolop=boolop, args=tuple(args))


def _in_list(node: Any) -> Any:
    """`x IN (...)` as PostgreSQL stores it: the items without column references become one `= ANY (ARRAY[...])`
    when there are several of them; every other item gets its own comparison (parse_expr.c, transformAExprIn)."""
    name = _names(node.name)[0]
    constants: list[Any] = []
    others: list[Any] = []
    for item in node.rexpr:
        (others if any(isinstance(n, ast.ColumnRef) for n in sqlparse.walk(item)) else constants).append(item)
    parts: list[Any] = []
    if len(constants) > 1:
        kind = _K.AEXPR_OP_ANY if name == "=" else _K.AEXPR_OP_ALL
        parts.append(ast.A_Expr(kind=kind, name=(_string(name),), lexpr=node.lexpr,
                                rexpr=ast.A_ArrayExpr(elements=tuple(constants))))
        items = others
    else:
        items = list(node.rexpr)
    parts += [_op(name, copy.deepcopy(node.lexpr), i) for i in items]
    return _bool(enums.BoolExprType.OR_EXPR if name == "=" else enums.BoolExprType.AND_EXPR, parts)


_RULES: dict[type, Callable[[Canon, Any], Any]] = {
    ast.A_Const: Canon._const, ast.TypeCast: Canon._cast, ast.A_Expr: Canon._a_expr,
    ast.BoolExpr: Canon._bool_expr, ast.FuncCall: Canon._func_call, ast.RowExpr: Canon._row,
}


def _name_outputs(node: Any) -> None:
    """Give every unnamed SELECT item the name PostgreSQL gives it (and then prints with AS)."""
    for select in sqlparse.walk(node):
        if isinstance(select, ast.SelectStmt):
            for target in select.targetList or ():
                if target.name is None and not _is_star(target.val):
                    target.name = figure_colname(target.val)


def _is_star(node: Any) -> bool:
    return isinstance(node, ast.ColumnRef) and isinstance(node.fields[-1], ast.A_Star)


def _output_names(select: Any) -> tuple[str, ...] | None:
    while select.op and select.larg is not None:
        select = select.larg
    if select.valuesLists:
        return tuple(f"column{i}" for i in range(1, len(select.valuesLists[0]) + 1))
    names = tuple(t.name for t in select.targetList or ())
    return None if any(n is None for n in names) else names


def _expand_stars(targets: Any, sources: list[_Source]) -> Any:
    """`*` and `t.*` as the column lists PostgreSQL stores for them (when the columns are known)."""
    if not targets or not any(_is_star(t.val) for t in targets):
        return targets
    out: list[Any] = []
    for target in targets:
        qualifier = _names(target.val.fields) if _is_star(target.val) else None
        chosen = [s for s in sources if not qualifier or s.refname == qualifier[-1]]
        if qualifier is None or not chosen or any(s.columns is None for s in chosen):
            out.append(target)
            continue
        out += [ast.ResTarget(name=c, val=ast.ColumnRef(fields=(_string(s.refname), _string(c))))
                for s in chosen for c in s.columns or ()]
    return tuple(out)


def _lone_function_name(item: Any) -> str | None:
    """The name of the one function of a FROM item (`generate_series(1, 3)`), not ROWS FROM nor WITH ORDINALITY
    nor with a column definition list; else None."""
    if item.is_rowsfrom or item.ordinality or item.coldeflist or len(item.functions) != 1:
        return None
    call, coldefs = item.functions[0]
    return _names(call.funcname)[-1] if isinstance(call, ast.FuncCall) and not coldefs else None


def _drop_repeated_column_list(item: Any) -> None:
    """PostgreSQL prints a function in FROM with its column list, which for a function of one unnamed column
    repeats the alias (`generate_series(1, 3) n(n)`), or the function's name where there was no alias
    (`generate_series(1, 3) generate_series(generate_series)`). The normal form says neither: a list that only
    repeats the alias is left out, and an alias that is the function's own name. A list naming another column
    (`f() n(y)`) stays: it may rename the function's column."""
    name = _lone_function_name(item)
    if name is None:
        return
    alias = item.alias.aliasname if item.alias is not None else name
    if _names(item.alias.colnames if item.alias is not None else None) not in ((), (alias,)):
        return
    item.alias = None if alias == name else ast.Alias(aliasname=alias)


def _qualify(ref: Any, levels: list[list[_Source]]) -> None:
    """Qualify a column reference with the FROM item it resolves to: the innermost level that has the column (a
    sub-query's own tables before the outer ones); failing that, the innermost level's only item of unknown
    columns. An ambiguous or unresolvable name stays as written."""
    if any(isinstance(f, ast.A_Star) for f in ref.fields):
        return
    names = _names(ref.fields)
    if len(names) > 2:  # schema.table.column: the table is enough
        ref.fields = tuple(_string(n) for n in names[-2:])
    if len(names) != 1:
        return
    column = names[0]
    for level in levels:
        hits = [s for s in level if s.columns is not None and column in s.columns]
        if hits:
            if len(hits) == 1:
                ref.fields = (_string(hits[0].refname), _string(column))
            return
    for level in levels:
        unknown = [s for s in level if s.columns is None]
        if unknown:
            if len(unknown) == 1 and unknown[0].refname:
                ref.fields = (_string(unknown[0].refname), _string(column))
            return


def _position(node: Any, targets: list[Any]) -> Any | None:
    """The SELECT item an ORDER BY / GROUP BY position (`ORDER BY 2`) stands for (constants are text by now)."""
    if _is_text_const(node) and node.val.sval.isdigit() and 0 < int(node.val.sval) <= len(targets):
        return copy.deepcopy(targets[int(node.val.sval) - 1].val)
    return None


def _output_alias(node: Any, targets: list[Any]) -> Any | None:
    if isinstance(node, ast.ColumnRef) and len(node.fields) == 1 and isinstance(node.fields[0], ast.String):
        named = [t for t in targets if t.name == node.fields[0].sval]
        if len(named) == 1:
            return copy.deepcopy(named[0].val)
    return None


def _sort_item(node: Any, targets: list[Any]) -> Any:
    """ORDER BY looks up output names first (then input columns); PostgreSQL stores the expression."""
    for found in (_position(node, targets), _output_alias(node, targets)):
        if found is not None:
            return found
    return node


def _group_item(node: Any, targets: list[Any], sources: list[_Source]) -> Any:
    """GROUP BY looks up input columns first, then output names; PostgreSQL stores the expression."""
    found = _position(node, targets)
    return found if found is not None else _group_by_name(node, targets, sources)


def _group_by_name(node: Any, targets: list[Any], sources: list[_Source]) -> Any:
    names = _names(node.fields) if isinstance(node, ast.ColumnRef) else ()
    if len(names) == 1 and not any(s.columns is not None and names[0] in s.columns for s in sources):
        found = _output_alias(node, targets)
        if found is not None:
            return found
    return node


# -- comparing -----------------------------------------------------------------------------------------------------
class Subject(str):
    """The text naming an object (`column public.t.c`), carrying what a planner needs to act on it: the object's
    kind and key as `pair` saw them (a QName, a name, or (table, name) for a table's parts)."""

    kind: str
    key: Any

    def __new__(cls, text: str, kind: str, key: Any) -> Subject:
        self = super().__new__(cls, text)
        self.kind = kind
        self.key = key
        return self


@dataclass(frozen=True)
class Difference:
    subject: str  # the object: `column public.t.c`, `policy public.t."name"`, ...
    message: str
    kind: str = ""  # the object's kind: role, schema, sequence, function, table, column, constraint, index, ...
    key: Any = None  # its key in that kind (see Subject)
    what: str = ""  # missing, extra, or the field that differs (type, USING, grant, comment, ...)
    detail: Any = None  # grants: (role, privilege)

    def __str__(self) -> str:
        return f"{self.subject}: {self.message}"


MISSING = "missing in database"
EXTRA = "in database, not in spec"
_LONG = 100  # a fragment longer than this is shown as an excerpt around the first difference
_SEQUENCE_MAX = {"smallint": 32767, "integer": 2147483647, "bigint": 9223372036854775807}

K = TypeVar("K")
S = TypeVar("S")
D = TypeVar("D")


def _flat(text: str) -> str:
    return " ".join(text.split())


# An index key as index_keys reads it: the column's name, or '' and the expression as printed; collation and
# operator class names, DESC, NULLS FIRST.
_IndexElement = tuple[str, str, tuple[str, ...], tuple[str, ...], bool, bool]


@functools.lru_cache(maxsize=4096)
def _index_elements(listed: str) -> tuple[_IndexElement, ...] | None:
    """The keys of an index (one a line) parsed and their expressions printed, once per distinct text: tables
    repeat their key lists (`(lower(email))` on every table), and printing a tree costs more than the comparison
    that uses it. None when the keys do not parse."""
    try:
        stmt = sqlparse.split_statements(f"CREATE INDEX i ON t ({listed}\n)")[0][0]
    except SqlSyntaxError:
        return None
    out = []
    for elem in stmt.indexParams:
        desc = elem.ordering == enums.SortByDir.SORTBY_DESC
        nulls_first = {enums.SortByNulls.SORTBY_NULLS_FIRST: True,
                       enums.SortByNulls.SORTBY_NULLS_LAST: False}.get(elem.nulls_ordering, desc)
        out.append((elem.name or "", "" if elem.name else sqlparse.deparse(elem.expr), _names(elem.collation),
                    _names(elem.opclass), desc, nulls_first))
    return tuple(out)


def _quoted(value: str | None) -> str:
    return "none" if value is None else literal(value)


def _deferrable(con: Constraint) -> bool | str:
    """A constraint's deferral as the spec's `deferrable:` writes it."""
    return "initially deferred" if con.deferred else con.deferrable


def _shown(value: object) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return f"({', '.join(map(str, value))})"
    return str(value)


def excerpt(a: str, b: str, width: int = 40) -> tuple[str, str]:
    """Two long texts cut down to where they differ, with some context, so a line stays readable."""
    start = 0
    while start < min(len(a), len(b)) and a[start] == b[start]:
        start += 1
    end = 0
    while end < min(len(a), len(b)) - start and a[-1 - end] == b[-1 - end]:
        end += 1
    lo = max(0, start - width)

    def cut(text: str) -> str:
        hi = min(len(text), len(text) - end + width)
        return ("…" if lo else "") + text[lo:hi] + ("…" if hi < len(text) else "")

    return cut(a), cut(b)


def _type(text: str) -> str:
    try:
        return str(parse_type(text))
    except TypeSyntaxError:
        return text


def _held(defaults: model.DefaultPrivileges | None, schema: str | None, kind: str) -> tuple[Grant, ...]:
    """What the database's defaults grant on new objects of a kind: its row, else (global defaults only)
    PostgreSQL's built-in default."""
    if defaults is not None and kind in defaults.at:
        return tuple(getattr(defaults, kind))
    builtin = model.BUILTIN_DEFAULTS.get(kind) if schema is None else None
    return (Grant(role=builtin[0], privileges=cast(Any, (builtin[1],))),) if builtin else ()


def _defaults(fn: Function) -> str:
    return ", ".join(f"{a.name} DEFAULT {_flat(a.default)}" for a in fn.args if a.default is not None) or "none"


@functools.lru_cache(maxsize=4096)
def _printed_qualifier(name: str) -> str:
    """`name` as pglast's printer spells it qualifying a column."""
    return sqlparse.deparse(ast.ColumnRef(fields=(_string(name), _string("x"))))[:-len(".x")]


def _column_key(expr: Any) -> str | None:
    """The column an expression key is, if it is one: PostgreSQL stores `((at))` or `((readings.at))` as the column
    key `at` (and prints it so)."""
    if isinstance(expr, ast.ColumnRef) and not any(isinstance(f, ast.A_Star) for f in expr.fields):
        return _names(expr.fields)[-1]
    return None


def _said(names: Sequence[str], unsaid: str) -> str:
    """A key's collation or operator class as written, or '' when the key names none or names the one the
    database leaves unsaid (its default: index_unsaid, partition_unsaid)."""
    return ".".join(map(ident, names)) if names and names[-1] != unsaid else ""


def _bare(type_: SqlType) -> SqlType:
    """A type without its modifiers: PostgreSQL discards them on a function's arguments and result (`varchar(10)`
    is stored as character varying)."""
    return SqlType(type_.base, (), type_.array_dims)


def _unmodified(text: str) -> str:
    try:
        return str(_bare(parse_type(text)))
    except TypeSyntaxError:
        return text


def _returns(text: str) -> str:
    """A return type without type modifiers (`table(code varchar(3))` is stored as character varying)."""
    try:
        returns = parse_returns(text)
    except TypeSyntaxError:
        return text
    return str(Returns(returns.type and _bare(returns.type), returns.setof,
                       tuple((n, _bare(t)) for n, t in returns.columns)))


def _policy_name(table: QName, name: str) -> str:
    """Policy names are any text: always double-quoted, so the name's end is visible."""
    quoted = '"' + name.replace('"', '""') + '"'
    return f"{table}.{quoted}"


class _Drift:
    """One comparison of a spec with a database snapshot; `run()` returns the differences in a stable order."""

    def __init__(self, catalog: Catalog, db: Snapshot, constant: Constant, skip: frozenset[str],
                 partial: Mapping[QName, frozenset[tuple[str, str]]]) -> None:
        self.catalog = catalog
        self.db = db
        self.skip = skip  # `kind name` of objects neither side is asked about (--target supabase: the platform)
        self.partial = partial  # skipped tables -> (kind, name) of their children the spec still asks about
        # Schemas read only for those children: the database's other objects there are the platform's.
        self.foreign = {t.schema for t in partial} - self.spec_schema_names()
        spec_columns = {name: tuple(c.name for c in t.columns) for name, t in catalog.tables.items()}

        def spec_side(name: QName) -> Sequence[str] | None:
            return spec_columns.get(name) or db.relation_columns.get(name)

        def db_side(name: QName) -> Sequence[str] | None:
            return db.relation_columns.get(name) or spec_columns.get(name)

        # Each side resolves names against its own columns first: that is what PostgreSQL resolved them against.
        # Normal forms are remembered per (columns of both sides, constants) when the constants are the server's
        # (introspect.Constants, whose answers depend on the server only) or none.
        memo = None
        if constant is same_constant or hasattr(constant, "server_key"):
            memo = (hash((tuple(sorted(spec_columns.items())), tuple(sorted(db.relation_columns.items())))),
                    getattr(constant, "server_key", None))
        self.spec_sql = Canon(spec_side, constant, ("spec", memo) if memo else None)
        self.db_sql = Canon(db_side, constant, ("db", memo) if memo else None)
        self.out: list[Difference] = []

    def run(self) -> list[Difference]:
        module = self.db.module
        self.pair("role", self.spec("role", self.catalog.roles.values()), {r.name: r for r in module.roles},
                  str, self.role)
        self.pair("schema", self.spec("schema", self.catalog.schemas.items()),
                  {s.name: s for s in module.schemas if s.name in self.spec_schema_names()}, str, self.schema)
        self.pair("extension", self.spec("extension", self.catalog.extensions.items()),
                  {e.name: e for e in module.extensions if f"extension {e.name}" not in self.skip
                   and (e.name in self.catalog.extensions
                        or ((e.schema or DEFAULT_SCHEMA) in self.catalog.schemas
                            and f"schema {e.schema}" not in self.skip))},
                  str, self.extension)
        self.public_schema()
        self.default_privileges()
        self.pair("type", self.spec("type", self.catalog.types.values()), self.database("type", module.types), str,
                  self.type_def)
        self.pair("sequence", self.spec("sequence", self.catalog.sequences.values()),
                  self.database("sequence", module.sequences), str, self.sequence)
        self.functions()
        self.pair("table", self.spec("table", self.catalog.tables.values()), self.database("table", module.tables),
                  str, self.table)
        self.pair("view", self.spec("view", self.catalog.views.values()), self.database("view", module.views), str,
                  self.view)
        self.pair("materialized view", self.spec("materialized view", self.catalog.matviews.values()),
                  self.database("materialized view", module.materialized_views), str, self.matview)
        if not self.db.raw_unread:
            self.pair("raw", self.spec("raw", self.catalog.raw.items()),
                      {n: r for n, r in self.db.raw.items() if f"raw {n}" not in self.skip}, str, self.raw_object)
        self.platform_children()
        return self.out

    # -- plumbing ---------------------------------------------------------------------------------------------------
    def add(self, subject: str, message: str, what: str, detail: Any = None) -> None:
        kind, key = (subject.kind, subject.key) if isinstance(subject, Subject) else ("", None)
        self.out.append(Difference(str(subject), message, kind, key, what, detail))

    def spec(self, kind: str, objects: Iterable[Any]) -> dict[Any, Any]:
        """The spec's objects of one kind, keyed as the database's are (QName, or a name for roles/schemas)."""
        out: dict[Any, Any] = {}
        for item in objects:
            name, obj = item if isinstance(item, tuple) else (item.name, item)
            if obj is None:  # public: in every spec, declared by none
                continue
            key = name if kind in ("role", "schema", "extension", "raw") else qname(obj.name)
            if f"{kind} {key}" not in self.skip:
                out[key] = obj
        return out

    def database(self, kind: str, objects: Iterable[Any]) -> dict[QName, Any]:
        """The database's objects of one kind, keyed by qualified name."""
        return {qname(o.name): o for o in objects
                if f"{kind} {qname(o.name)}" not in self.skip and qname(o.name).schema not in self.foreign}

    def spec_schema_names(self) -> set[str]:
        return {n for n, s in self.catalog.schemas.items() if s is not None and f"schema {n}" not in self.skip}

    def pair(self, kind: str, spec: Mapping[K, S], db: Mapping[K, D], show: Callable[[K], str],
             compare: Callable[[str, S, D], None], *, ordered: bool = False) -> None:
        """Report what only one side has; compare what both have. Keys in name order, or (ordered) spec order
        followed by the database's extras."""
        keys = [*spec, *(k for k in db if k not in spec)] if ordered else sorted(set(spec) | set(db), key=str)
        for key in keys:
            subject = Subject(f"{kind} {show(key)}", kind, key)
            if key not in db:
                self.add(subject, MISSING, "missing")
            elif key not in spec:
                self.add(subject, EXTRA, "extra")
            else:
                compare(subject, spec[key], db[key])

    def value(self, subject: str, what: str, spec: object, db: object) -> None:
        if spec != db:
            self.add(subject, f"{what} {_shown(spec)} in spec, {_shown(db)} in database", what)

    def owner(self, subject: str, spec: str | None, db: str | None) -> None:
        """The owner, only when the spec names one (otherwise it is whoever ran the SQL)."""
        if spec is not None:
            self.value(subject, "owner", spec, db)

    def comment(self, subject: str, spec: str | None, db: str | None) -> None:
        if (spec or None) != (db or None):
            self.add(subject, f"comment {_quoted(spec or None)} in spec, {_quoted(db or None)} in database",
                     "comment")

    def fragment(self, subject: str, what: str, spec: str | None, db: str | None,
                 normal: Callable[[Canon, str], str]) -> None:
        """Compare two SQL fragments by normal form; report them as written, or (long ones) in normal form around
        the first difference."""
        a, b = self.normal_pair(spec, db, normal)
        if a == b:
            return
        shown = (_flat(spec) if spec is not None else "none", _flat(db) if db is not None else "none")
        if max(len(shown[0]), len(shown[1])) > _LONG:
            shown = excerpt(a or "none", b or "none")
        self.add(subject, f"{what} differs: spec ({shown[0]}) database ({shown[1]})", what)

    def normal_pair(self, spec: str | None, db: str | None,
                    normal: Callable[[Canon, str], str]) -> tuple[str | None, str | None]:
        """Both sides in normal form, each resolved against its own columns (None stays None)."""
        def one(canon: Canon, text: str | None) -> str | None:
            if text is None:
                return None
            try:
                return normal(canon, text)
            except SqlSyntaxError:  # not parseable (a server newer than pglast): compare the spelling
                return _flat(text).lower()

        return one(self.spec_sql, spec), one(self.db_sql, db)

    def grants(self, owner: str, on: str, kind: str, spec: Iterable[Grant], db: Iterable[Grant]) -> None:
        """Privileges of the object `owner` names, one difference per (role, privilege), kind `grant`."""
        everything = self.db.all_privileges.get(kind, ())
        want = {(g.role, p) for g in spec for p in (everything if "all" in g.privileges else g.privileges)}
        # A database never reports ALL; an older spec read as a snapshot (plan --from) may.
        have = {(g.role, p) for g in db for p in (everything if "all" in g.privileges else g.privileges)}
        for role, privilege in sorted(want ^ have):
            grantee = "PUBLIC" if role == "public" else ident(role)
            subject = Subject(f"grant {privilege.upper()} on {on} to {grantee}", "grant",
                              (getattr(owner, "kind", ""), getattr(owner, "key", None)))
            missing = (role, privilege) in want
            self.add(subject, MISSING if missing else EXTRA, "missing" if missing else "extra", (role, privilege))

    # -- roles, schemas, sequences -------------------------------------------------------------------------------
    def role(self, subject: str, spec: Role, db: Role) -> None:
        self.value(subject, "login", spec.login, db.login)
        self.value(subject, "bypass_rls", spec.bypass_rls, db.bypass_rls)

    def schema(self, subject: str, spec: SchemaDef, db: SchemaDef) -> None:
        self.comment(subject, spec.comment, db.comment)
        self.grants(subject, f"schema {ident(spec.name)}", "schema", spec.grants, db.grants)
        self.owner(subject, spec.owner, db.owner)

    def public_schema(self) -> None:
        """Schema public, which every database has and a spec seldom declares: undeclared, its privileges are
        PostgreSQL's defaults (15 and later: USAGE for PUBLIC, CREATE for its owner only), of which the one that
        matters is CREATE: granted to another role, that role can plant a function or operator that shadows a
        built-in one for every user whose search_path starts with public."""
        # Declared (its grants are compared as stated), not read, or left to the platform: nothing to hold it to.
        if (self.catalog.schemas.get(DEFAULT_SCHEMA, "not read") is not None
                or f"schema {DEFAULT_SCHEMA}" in self.skip):
            return
        db = next((s for s in self.db.module.schemas if s.name == DEFAULT_SCHEMA), None)
        if db is not None:
            creators = [Grant(role=g.role, privileges=("create",)) for g in db.grants if "create" in g.privileges]
            self.grants(Subject(f"schema {DEFAULT_SCHEMA}", "schema", DEFAULT_SCHEMA), f"schema {DEFAULT_SCHEMA}",
                        "schema", (), creators)

    def extension(self, subject: str, spec: model.Extension, db: model.Extension) -> None:
        """Its schema and version, each only when the spec states it (otherwise they are the server's choice)."""
        if spec.schema is not None:
            self.value(subject, "schema", spec.schema, db.schema)
        if spec.version is not None:
            self.value(subject, "version", spec.version, db.version)

    # -- default privileges -----------------------------------------------------------------------------------------
    def default_key(self, defaults: model.DefaultPrivileges) -> tuple[str | None, str | None]:
        """(role, schema); no role for the user who reads the database (a spec entry without `for_role:`)."""
        role = None if defaults.for_role == self.db.user else defaults.for_role
        return role, defaults.schema

    def default_privileges(self) -> None:
        """Each kind the spec's entries speak for, against the database's defaults (PostgreSQL's built-in ones
        where the global defaults have no row); and the database's entries in the schemas the spec declares, for the
        reading user or a declared role. Elsewhere (public, a platform's schemas) only what the spec states."""
        spec = {self.default_key(d): d for d in self.catalog.default_privileges.values()
                if f"default privileges {self.default_key(d)}" not in self.skip}
        db = {self.default_key(d): d for d in self.db.module.default_privileges}
        own = self.spec_schema_names()
        for key in sorted(set(spec) | set(db), key=str):
            role, schema = key
            if key not in spec and (schema not in own or (role is not None and role not in self.catalog.roles)):
                continue
            wanted, have = spec.get(key), db.get(key)
            speaker = wanted if wanted is not None else have  # the spec's entry, else the database's
            assert speaker is not None
            for kind in speaker.stated():
                self.default_acl(role, schema, kind, getattr(wanted, kind, ()), _held(have, schema, kind))

    def default_acl(self, role: str | None, schema: str | None, kind: str, spec: Iterable[Grant],
                    db: Iterable[Grant]) -> None:
        scope = (f" for role {ident(role)}" if role else "") + (f" in schema {ident(schema)}" if schema else "")
        owner = Subject(f"default privileges on {kind}{scope}", "default privileges", (role, schema, kind))
        self.grants(owner, f"new {kind}{scope}", kind.rstrip("s"), spec, db)

    def type_def(self, subject: str, spec: model.TypeDef, db: model.TypeDef) -> None:
        """A type's kind; an enum type's labels in their sort order, a composite type's attributes, a domain's base
        type, collation, NOT NULL, default and CHECKs; its comment and privileges."""
        if spec.kind != db.kind:
            self.value(subject, "kind", spec.kind, db.kind)
            return
        if spec.kind == "enum":
            self.value(subject, "values", spec.enum, db.enum)
        elif spec.kind == "composite":
            self.attributes(subject, spec, db)
        else:
            self.domain(subject, spec, db)
        self.comment(subject, spec.comment, db.comment)
        self.owner(subject, spec.owner, db.owner)
        self.grants(subject, f"type {qname(spec.name).sql}", "type", spec.acl, db.acl)

    def attributes(self, subject: str, spec: model.TypeDef, db: model.TypeDef) -> None:
        """Attributes missing, extra, of another type or collation (detail: the attribute's name), and the order of
        those both sides have."""
        have = {a.name: a for a in db.attributes}
        want = {a.name: a for a in spec.attributes}
        for a in spec.attributes:
            if a.name not in have:
                self.add(subject, f"attribute {ident(a.name)} {MISSING}", "attribute missing", a.name)
                continue
            b = have[a.name]
            if _type(a.type) != _type(b.type):
                self.add(subject, f"attribute {ident(a.name)}: type {_type(a.type)} in spec, {_type(b.type)} in "
                                  "database", "attribute type", a.name)
            if a.collation != b.collation:
                self.add(subject, f"attribute {ident(a.name)}: collation {_shown(a.collation)} in spec, "
                                  f"{_shown(b.collation)} in database", "attribute collation", a.name)
        for b in db.attributes:
            if b.name not in want:
                self.add(subject, f"attribute {ident(b.name)} {EXTRA}", "attribute extra", b.name)
        self.value(subject, "attribute order", tuple(a.name for a in spec.attributes if a.name in have),
                   tuple(b.name for b in db.attributes if b.name in want))

    def domain(self, subject: str, spec: model.TypeDef, db: model.TypeDef) -> None:
        base = _type(spec.domain or "")
        self.value(subject, "base type", base, _type(db.domain or ""))
        self.value(subject, "collation", spec.collation, db.collation)
        self.value(subject, "not_null", spec.not_null, db.not_null)
        want, have = self.normal_pair(spec.default, db.default, lambda c, t: c.expression(t, cast_to=base))
        if want != have:
            self.add(subject, f"default {_shown(spec.default and _flat(spec.default))} in spec, "
                              f"{_shown(db.default and _flat(db.default))} in database", "default")
        have_checks = {c.name: c for c in db.checks}
        want_checks = {c.name: c for c in spec.checks}
        for name in sorted(set(want_checks) | set(have_checks)):
            if name not in have_checks:
                self.add(subject, f"CHECK {ident(name)} {MISSING}", "check missing", name)
            elif name not in want_checks:
                self.add(subject, f"CHECK {ident(name)} {EXTRA}", "check extra", name)
            else:
                a, b = self.normal_pair(want_checks[name].expr, have_checks[name].expr, lambda c, t: c.expression(t))
                if a != b:
                    self.add(subject, f"CHECK {ident(name)} differs: spec ({_flat(want_checks[name].expr)}) "
                                      f"database ({_flat(have_checks[name].expr)})", "check", name)

    def sequence(self, subject: str, spec: model.Sequence, db: model.Sequence) -> None:
        low, high = sequence_bounds(spec)
        for what, want, have in (("type", spec.type, db.type), ("start", spec.start, db.start),
                                 ("increment", spec.increment, db.increment), ("min_value", low, db.min_value),
                                 ("max_value", high, db.max_value), ("cache", spec.cache, db.cache),
                                 ("cycle", spec.cycle, db.cycle)):
            self.value(subject, what, want, have)
        self.value(subject, "owned_by", owning_column(spec), owning_column(db))
        self.grants(subject, f"sequence {qname(spec.name)}", "sequence", spec.grants, db.grants)
        self.comment(subject, spec.comment, db.comment)
        self.owner(subject, spec.owner, db.owner)

    # -- functions --------------------------------------------------------------------------------------------------
    def functions(self) -> None:
        """Functions and procedures, each overload its own object: paired by identity (name and the types of the
        IN, INOUT and VARIADIC arguments). One whose argument types changed is another object (missing, and
        extra)."""
        spec = {routine_id(f): f for f in self.catalog.routines.values()
                if f"function {qname(f.name)}" not in self.skip}
        db: dict[str, Function] = {}
        for found in (*self.db.module.functions, *self.db.module.procedures):
            if f"function {qname(found.name)}" not in self.skip and qname(found.name).schema not in self.foreign:
                db.setdefault(routine_id(found), found)
        for key in sorted(set(spec) | set(db), key=_routine_order):
            want, have = spec.get(key), db.get(key)
            fn = want or have
            assert fn is not None
            subject = Subject(f"{fn.KIND} {_signature(fn)}", "function", _identity(fn))
            if have is None:
                self.add(subject, MISSING, "missing")
            elif want is None:
                self.add(subject, EXTRA, "extra")
            else:
                self.function(subject, want, have)

    def function(self, subject: str, spec: Function, db: Function) -> None:
        def args(fn: Function) -> tuple[str, ...]:
            return tuple(("" if a.mode == "in" else f"{a.mode} ") + f"{a.name} {_unmodified(a.type)}".strip()
                         for a in fn.args)

        if spec.KIND != db.KIND:
            self.value(subject, "kind", spec.KIND, db.KIND)
        self.value(subject, "arguments", args(spec), args(db))
        normal = [self.normal_pair(a.default, b.default, lambda canon, text: canon.expression(text))
                  for a, b in zip(spec.args, db.args, strict=False)]
        if any(x != y for x, y in normal) and len(spec.args) == len(db.args):
            self.value(subject, "argument defaults", _defaults(spec), _defaults(db))
        results = spec.KIND == db.KIND  # the result and what describes it: a procedure has none
        if results:
            self.value(subject, "returns", _returns(spec.returns), _returns(db.returns))
        for what in ("language", "volatility", "security", "strict", "leakproof", "parallel", "cost", "rows"):
            if results or what in ("language", "security"):
                self.value(subject, what, getattr(spec, what), getattr(db, what))
        if spec.search_path != db.search_path:
            self.value(subject, "search_path", *(_quoted(None if p is None else ", ".join(p))
                                                 for p in (spec.search_path, db.search_path)))
        if spec.body.strip() != db.body.strip():
            self.add(subject, _body_difference(spec.body, db.body), "body")
        self.grants(subject, f"{spec.KIND} {_signature(spec)}", "function", spec.grants, db.grants)
        self.comment(subject, spec.comment, db.comment)
        self.owner(subject, spec.owner, db.owner)

    # -- tables -----------------------------------------------------------------------------------------------------
    def table(self, subject: str, spec: Table, db: Table) -> None:
        name = qname(spec.name)
        keys = {c for con in self.catalog.constraints(spec) if con.kind == "primary key" for c in con.columns}
        self.pair("column", {(name, c.name): c for c in spec.columns}, {(name, c.name): c for c in db.columns},
                  lambda c: f"{name}.{c[1]}", lambda s, a, b: self.column(s, name, a, b, a.name in keys),
                  ordered=True)
        # Column privileges: the spec's columns' `grants:` against the database's column ACLs.
        spec_columns, db_columns = {c.name: c for c in spec.columns}, {c.name: c for c in db.columns}
        for column in sorted({c.name for c in (*spec.columns, *db.columns) if c.grants}):
            want = {(g.role, p) for g in getattr(spec_columns.get(column), "grants", ()) for p in g.privileges}
            have = {(g.role, p) for g in getattr(db_columns.get(column), "grants", ()) for p in g.privileges}
            for role, privilege in sorted(want ^ have):
                grantee = "PUBLIC" if role == "public" else ident(role)
                missing = (role, privilege) in want
                self.add(Subject(f"grant {privilege.upper()} ({ident(column)}) on {name} to {grantee}",
                                 "column grant", (name, column)), MISSING if missing else EXTRA,
                         "missing" if missing else "extra", (role, privilege))
        self.pair("constraint", {(name, c.name): c for c in self.catalog.constraints(spec)},
                  {(name, c.name): c for c in self.db.constraints.get(name, ())}, lambda c: f"{name}.{c[1]}",
                  lambda s, a, b: self.constraint(s, name, a, b))
        self.pair("index", {(name, i.name): i for i in spec.indexes}, {(name, i.name): i for i in db.indexes},
                  lambda i: f"{name.schema}.{i[1]}", lambda s, a, b: self.index(s, name, a, b))
        self.pair("trigger", {(name, t.name): t for t in spec.triggers}, {(name, t.name): t for t in db.triggers},
                  lambda t: f"{name}.{t[1]}", lambda s, a, b: self.trigger(s, name, a, b))
        self.rls(subject, spec, db)
        self.pair("policy", {(name, p.name): p for p in spec.policies}, {(name, p.name): p for p in db.policies},
                  lambda p: _policy_name(name, p[1]), lambda s, a, b: self.policy(s, name, a, b))
        self.grants(subject, str(name), "table", spec.grants, db.grants)
        self.comment(subject, spec.comment, db.comment)
        self.value(subject, "unlogged", spec.unlogged, db.unlogged)
        self.owner(subject, spec.owner, db.owner)
        self.partitioning(subject, spec, db)

    # -- partitioned tables -----------------------------------------------------------------------------------------
    def partitioning(self, subject: str, spec: Table, db: Table) -> None:
        """The partition key, then each partition at any depth (by name): its parent, bounds, own key, grants,
        comment, owner, and what it holds of its own in the database (which the spec cannot declare)."""
        name = qname(spec.name)
        self.partition_by(subject, name, spec.partition_by, db.partition_by)
        self.pair("partition", {e.name: e for e in partitions_of(spec)}, {e.name: e for e in partitions_of(db)}, str,
                  self.partition)

    def partition_by(self, subject: str, table: QName, spec: str | None, db: str | None) -> None:
        """A partition key, compared in normal form and shown as written (the database's as it prints it)."""
        if self.partition_key(self.spec_sql, table, spec, self.db.partition_unsaid.get(table, ())) \
                != self.partition_key(self.db_sql, table, db):
            self.value(subject, "partition_by", spec and _flat(spec), db and _flat(db))

    @staticmethod
    def partition_key(canon: Canon, table: QName, text: str | None,
                      unsaid: Sequence[tuple[str, str]] = ()) -> str | None:
        """A partition key in one spelling: `range (created_at, (lower(region)))`, expressions in normal form; an
        operator class or collation left out where `unsaid` (per key) says the database's key uses it by default,
        as pg_get_partkeydef leaves it out."""
        if text is None:
            return None
        try:
            key = parse_partition_by(text)
            # Parsed from the key as read (the strategy apart), not the raw text: whatever separates the strategy
            # from the keys in the spec (a no-break space: the checker and the output take it) is gone.
            stmt = sqlparse.split_statements(f"CREATE TABLE t () PARTITION BY {key.strategy} {key.text}")[0][0]
        except (PartitionSyntaxError, SqlSyntaxError):
            return _flat(text).lower()
        keys = []
        for n, elem in enumerate(stmt.partspec.partParams):
            opclass, collation = unsaid[n] if n < len(unsaid) else ("", "")
            column = elem.name or _column_key(elem.expr)
            item = ident(column) if column else f"({canon.expression(sqlparse.deparse(elem.expr), table)})"
            if said := _said(_names(elem.collation), collation):
                item += f" COLLATE {said}"
            if said := _said(_names(elem.opclass), opclass):
                item += f" {said}"
            keys.append(item)
        return f"{key.strategy} ({', '.join(keys)})"

    def partition(self, subject: str, spec: PartitionEntry, db: PartitionEntry) -> None:
        name = spec.name
        self.value(subject, "parent", spec.parent, db.parent)
        self.partition_by(subject, name, spec.partition.partition_by, db.partition.partition_by)
        if spec.parent == db.parent:
            self.bounds(subject, spec, db)
        self.grants(subject, str(name), "table", spec.partition.grants, db.partition.grants)
        self.comment(subject, spec.partition.comment, db.partition.comment)
        self.owner(subject, spec.partition.owner, db.partition.owner)
        for own in self.db.partition_own.get(name, ()):
            self.add(subject, f"{own} of its own in database (the spec gives a partition only its parent's)", "own",
                     own)

    def bounds(self, subject: str, spec: PartitionEntry, db: PartitionEntry) -> None:
        """Bounds compared as PostgreSQL stores them: each constant in the server's spelling for its key's type
        (the database's key types; the spec's column types where the database has none to say)."""
        types: Sequence[str | None] = self.db.partition_key_types.get(spec.parent, ())
        if not types and spec.parent_partition_by:
            with contextlib.suppress(PartitionSyntaxError):
                types = key_types(spec.table, parse_partition_by(spec.parent_partition_by))
        shown = []
        normal: list[object] = []
        for side in (spec.partition, db.partition):
            shown.append(bound_sql(side) if side.default or side.values is not None else "none")
            try:
                normal.append(parse_bound(side.values, side.default).normal(types, self.spec_sql.constant))
            except (PartitionSyntaxError, SqlSyntaxError):
                normal.append(_flat(shown[-1]).lower())
        if normal[0] != normal[1]:
            self.add(subject, f"bounds {shown[0]} in spec, {shown[1]} in database", "bounds")

    def platform_children(self) -> None:
        """Indexes, triggers and policies the spec puts on a platform table (a trigger on auth.users calling the
        app's function): the output emits them outside the platform modules, so they are the spec's to check even
        when the platform is not. The table's other children are the platform's, and not compared."""
        db_tables = {qname(t.name): t for t in self.db.module.tables}
        for name, children in sorted(self.partial.items()):
            spec, db = self.catalog.tables[name], db_tables.get(name)
            if db is None:
                self.add(Subject(f"table {name}", "table", name), MISSING, "missing")
                continue
            self.children_of(name, spec, db, children)

    def children_of(self, name: QName, spec: Table, db: Table, children: frozenset[tuple[str, str]]) -> None:
        """Compare only the listed children of one table; the database's others are not asked about."""
        kinds: tuple[tuple[str, Sequence[Any], Sequence[Any], Callable[[Any], str], Callable[..., None]], ...] = (
            ("index", spec.indexes, db.indexes, lambda i: f"{name.schema}.{i[1]}", self.index),
            ("trigger", spec.triggers, db.triggers, lambda t: f"{name}.{t[1]}", self.trigger),
            ("policy", spec.policies, db.policies, lambda p: _policy_name(name, p[1]), self.policy))
        for kind, spec_children, db_children, show, compare in kinds:
            wanted = {(name, c.name): c for c in spec_children if (kind, c.name) in children}
            self.pair(kind, wanted, {(name, c.name): c for c in db_children if (name, c.name) in wanted}, show,
                      functools.partial(self.child, compare, name))

    @staticmethod
    def child(compare: Callable[..., None], table: QName, subject: str, spec: Any, db: Any) -> None:
        compare(subject, table, spec, db)

    def column(self, subject: str, table: QName, spec: Column, db: Column, in_primary_key: bool) -> None:
        want_type = _type(spec.type)
        self.value(subject, "type", want_type, _type(db.type))
        # PRIMARY KEY and identity make their columns NOT NULL
        not_null = spec.not_null or in_primary_key or spec.identity is not None
        if not_null != db.not_null:
            self.add(subject, f"{'NOT NULL' if not_null else 'nullable'} in spec, "
                              f"{'NOT NULL' if db.not_null else 'nullable'} in database", "not_null")
        default = spec.default_sql if spec.default_sql is not None else (
            value_literal(spec.default, parse_type(spec.type)) if spec.default is not None else None)
        want, have = self.normal_pair(default, db.default_sql, lambda c, t: c.expression(t, table, cast_to=want_type))
        if want != have:
            self.add(subject, f"default {_shown(default and _flat(default))} in spec, "
                              f"{_shown(db.default_sql and _flat(db.default_sql))} in database", "default")
        self.identity(subject, spec, db, _type(db.type))
        self.fragment(subject, "generated", spec.generated, db.generated, lambda c, t: c.expression(t, table))
        self.value(subject, "collation", spec.collation, db.collation)
        self.comment(subject, spec.comment, db.comment)

    def identity(self, subject: str, spec: Column, db: Column, column_type: str) -> None:
        """Identity kind, then its sequence's options with PostgreSQL's defaults filled in on both sides."""
        self.value(subject, "identity", spec.identity and spec.identity.generated,
                   db.identity and db.identity.generated)
        if spec.identity is None or db.identity is None:
            return
        # The database's type: a type change is reported on its own, and the options' defaults follow the type.
        want, have = identity_options(spec.identity, column_type), identity_options(db.identity, column_type)
        # In identity_options' order; plans act on these labels (and tests/test_drift.py reads them here).
        for label, a, b in zip(("identity start", "identity increment", "identity min_value", "identity max_value",
                                "identity cache", "identity cycle"), want, have, strict=True):
            self.value(subject, label, a, b)

    def constraint(self, subject: str, table: QName, spec: Constraint, db: Constraint) -> None:
        if spec.kind != db.kind:
            self.add(subject, f"{spec.kind} in spec, {db.kind} in database", "kind")
            return
        if spec.kind in ("primary key", "unique", "foreign key"):  # a CHECK's columns are the spec's bookkeeping
            self.value(subject, "columns", spec.columns, db.columns)
        if spec.kind == "foreign key":
            self.value(subject, "references", _reference(spec.ref_text), _reference(db.ref_text))
            self.value(subject, "ON DELETE", spec.on_delete or "no action", db.on_delete or "no action")
            self.value(subject, "ON UPDATE", spec.on_update or "no action", db.on_update or "no action")
        if spec.kind == "check":
            self.fragment(subject, "CHECK", spec.expr, db.expr, lambda c, t: c.expression(t, table))
        self.constraint_options(subject, table, spec, db)

    def constraint_options(self, subject: str, table: QName, spec: Constraint, db: Constraint) -> None:
        """DEFERRABLE, NOT VALID, NULLS NOT DISTINCT and an exclusion constraint's method, elements and WHERE, in
        the spec's terms (`deferrable: initially deferred`)."""
        if spec.kind in ("primary key", "unique", "foreign key", "exclude"):  # a primary key: never, in the spec
            self.value(subject, "deferrable", _deferrable(spec), _deferrable(db))
        if spec.kind in ("check", "foreign key"):
            self.value(subject, "not_valid", spec.not_valid, db.not_valid)
        if spec.kind == "unique":
            self.value(subject, "nulls_not_distinct", spec.nulls_not_distinct, db.nulls_not_distinct)
        if spec.kind == "exclude":
            self.value(subject, "using", spec.using, db.using)
            self.value(subject, "elements", self.exclude_elements(self.spec_sql, table, spec),
                       self.exclude_elements(self.db_sql, table, db))
            self.fragment(subject, "WHERE", spec.where, db.where, lambda c, t: c.expression(t, table))

    def exclude_elements(self, canon: Canon, table: QName, con: Constraint) -> tuple[str, ...]:
        """An exclusion constraint's elements in one spelling: `key WITH op`, keys as index keys are compared."""
        keys = self.index_keys(canon, table, [key for key, _ in con.elements])
        return tuple(f"{key} WITH {op.strip()}" for key, (_, op) in zip(keys, con.elements, strict=True))

    def index(self, subject: str, table: QName, spec: Index, db: Index) -> None:
        self.value(subject, "unique", spec.unique, db.unique)
        self.value(subject, "method", spec.method, db.method)
        self.value(subject, "keys", self.index_keys(self.spec_sql, table, spec.columns,
                                                    self.db.index_unsaid.get((table, spec.name), ())),
                   self.index_keys(self.db_sql, table, db.columns))
        self.value(subject, "include", tuple(spec.include), tuple(db.include))
        self.value(subject, "nulls_not_distinct", spec.nulls_not_distinct, db.nulls_not_distinct)
        self.fragment(subject, "WHERE", spec.where, db.where, lambda c, t: c.expression(t, table))
        self.comment(subject, spec.comment, db.comment)

    @staticmethod
    def index_keys(canon: Canon, table: QName, keys: Sequence[str],
                   unsaid: Sequence[tuple[str, str]] = ()) -> tuple[str, ...]:
        """Index keys in one spelling: `col`, `col DESC`, `(expression)`, NULLS only where not the default; an
        operator class or collation left out where `unsaid` (per key) says the database's index uses it by
        default, as PostgreSQL's printed definition does."""
        elements = _index_elements(",\n".join(keys))  # one key a line: a key's trailing `-- comment` ends there
        if elements is None:
            return tuple(_flat(k) for k in keys)
        out = []
        for n, (name, expr, collation_names, opclass_names, desc, nulls_first) in enumerate(elements):
            opclass, collation = unsaid[n] if n < len(unsaid) else ("", "")
            text = name if name else f"({canon.expression(expr, table)})"
            if said := _said(collation_names, collation):
                text += f" COLLATE {said}"
            if said := _said(opclass_names, opclass):
                text += f" {said}"
            text += " DESC" if desc else ""
            text += "" if nulls_first == desc else " NULLS FIRST" if nulls_first else " NULLS LAST"
            out.append(text)
        return tuple(out)

    def trigger(self, subject: str, table: QName, spec: Trigger, db: Trigger) -> None:
        self.value(subject, "timing", spec.timing, db.timing)
        self.value(subject, "events", _events(spec.events), _events(db.events))
        self.value(subject, "UPDATE OF", tuple(spec.columns), tuple(db.columns))
        self.value(subject, "for each", spec.for_each, db.for_each)
        self.value(subject, "function", routine_name(spec.function), routine_name(db.function))
        self.value(subject, "arguments", f"({', '.join(map(literal, spec.args))})",
                   f"({', '.join(map(literal, db.args))})")
        self.fragment(subject, "WHEN", spec.when, db.when, lambda c, t: c.expression(t))
        self.value(subject, "enabled", spec.enabled, db.enabled)
        self.value(subject, "constraint", spec.constraint, db.constraint)
        self.value(subject, "deferrable", spec.deferrable, db.deferrable)
        self.value(subject, "initially deferred", spec.initially_deferred, db.initially_deferred)
        for side in ("old_table", "new_table"):
            self.value(subject, side, getattr(spec.referencing, side, None), getattr(db.referencing, side, None))
        self.comment(subject, spec.comment, db.comment)

    def rls(self, subject: str, spec: Table, db: Table) -> None:
        enabled, forced = spec.rls != "off", spec.rls == "forced"
        db_enabled, db_forced = db.rls != "off", qname(db.name) in self.db.rls_forced
        if enabled != db_enabled:
            self.add(subject, f"RLS {'enabled' if enabled else 'disabled'} in spec, "
                              f"{'enabled' if db_enabled else 'disabled'} in database", "rls")
        if forced != db_forced:
            self.add(subject, f"RLS {'forced' if forced else 'not forced'} in spec, "
                              f"{'forced' if db_forced else 'not forced'} in database", "force")

    def policy(self, subject: str, table: QName, spec: Policy, db: Policy) -> None:
        self.value(subject, "command", spec.command, db.command)
        self.value(subject, "mode", spec.mode, db.mode)
        self.value(subject, "roles", tuple(sorted(spec.roles)), tuple(sorted(db.roles)))
        self.fragment(subject, "USING", spec.using, db.using, lambda c, t: c.expression(t, table))
        self.fragment(subject, "WITH CHECK", spec.with_check, db.with_check, lambda c, t: c.expression(t, table))
        self.comment(subject, spec.comment, db.comment)

    # -- views ------------------------------------------------------------------------------------------------------
    def raw_object(self, subject: str, spec: model.RawSql, db: tuple[str, str | None]) -> None:
        """What the database recorded when it ran the raw SQL: its fingerprint (PostgreSQL cannot say more)."""
        if sqlparse.fingerprint(spec.sql) != db[0]:
            self.add(subject, "SQL changed since applied (the database recorded another fingerprint)", "sql")

    def view(self, subject: str, spec: View, db: View) -> None:
        self.fragment(subject, "query", spec.query, db.query, Canon.query)
        self.value(subject, "security_invoker", spec.security_invoker, db.security_invoker)
        self.value(subject, "security_barrier", spec.security_barrier, db.security_barrier)
        self.value(subject, "check_option", spec.check_option, db.check_option)
        name = qname(spec.name)
        self.pair("trigger", {(name, t.name): t for t in spec.triggers}, {(name, t.name): t for t in db.triggers},
                  lambda t: f"{name}.{t[1]}", lambda s, a, b: self.trigger(s, name, a, b))
        self.grants(subject, str(qname(spec.name)), "table", spec.grants, db.grants)
        self.comment(subject, spec.comment, db.comment)
        self.owner(subject, spec.owner, db.owner)


    def matview(self, subject: str, spec: MaterializedView, db: MaterializedView) -> None:
        self.fragment(subject, "query", spec.query, db.query, Canon.query)
        self.value(subject, "with_data", spec.with_data, db.with_data)
        name = qname(spec.name)
        self.pair("index", {(name, i.name): i for i in spec.indexes}, {(name, i.name): i for i in db.indexes},
                  lambda i: f"{name.schema}.{i[1]}", lambda s, a, b: self.index(s, name, a, b))
        self.grants(subject, str(name), "table", spec.grants, db.grants)
        self.comment(subject, spec.comment, db.comment)
        self.owner(subject, spec.owner, db.owner)


def owning_column(seq: model.Sequence) -> str | None:
    """`owned_by:` as `schema.table.column` (the table's schema spelt out), or None."""
    parts = seq.owning_column
    return None if parts is None else f"{qname(parts[0])}.{parts[1]}"


def sequence_bounds(seq: model.Sequence) -> tuple[int, int]:
    """MINVALUE and MAXVALUE, with PostgreSQL's defaults where the spec leaves them out."""
    top = _SEQUENCE_MAX.get(seq.type, 0)
    ascending = seq.increment > 0
    low = seq.min_value if seq.min_value is not None else 1 if ascending else -top - 1
    high = seq.max_value if seq.max_value is not None else top if ascending else -1
    return low, high


def _arg_types(fn: Function) -> tuple[str, ...]:
    return tuple(identity_type(a.type) for a in fn.inputs)


def _identity(fn: Function) -> tuple[QName, tuple[str, ...]]:
    """A function's identity: its name and argument types (what DROP FUNCTION names)."""
    return qname(fn.name), _arg_types(fn)


def _routine_order(key: str) -> tuple[str, str]:
    """Functions by name, then argument types (the order differences are reported in)."""
    name, _, types = key.partition("(")
    return name, types


def _signature(fn: Function) -> str:
    return f"{qname(fn.name)}({', '.join(_arg_types(fn))})"


def _events(events: Iterable[str]) -> tuple[str, ...]:
    order = ("insert", "update", "delete", "truncate")
    return tuple(sorted(set(events), key=order.index))


def _reference(text: str | None) -> str:
    try:
        target, columns = parse_reference(text or "")
    except ReferenceSyntaxError:
        return text or ""
    return f"{target}({', '.join(columns)})"


def _body_difference(spec: str, db: str) -> str:
    lines = zip_longest(spec.strip().splitlines(), db.strip().splitlines())
    for number, (a, b) in enumerate(lines, 1):
        if a != b:
            return (f"body differs at line {number}: spec {_quoted(a.strip()) if a is not None else '(end)'} "
                    f"database {_quoted(b.strip()) if b is not None else '(end)'}")
    return "body differs"


# -- entry points --------------------------------------------------------------------------------------------------
def scope(catalog: Catalog, *, include_platform: bool = True) -> tuple[list[str], list[str], frozenset[str]]:
    """What to read and what to leave alone: the schemas (public plus the declared ones) and roles of the spec,
    and, without the platform modules (--target supabase), the `kind name` of every object they declare, which
    the database has but the spec does not ask about."""
    skipped: set[str] = set()
    for module in catalog.schema.modules:
        if include_platform or not module.platform:
            continue
        skipped |= {f"role {r.name}" for r in module.roles} | {f"schema {s.name}" for s in module.schemas}
        skipped |= {f"extension {e.name}" for e in module.extensions}
        skipped |= {f"raw {r.name}" for r in module.raw}
        skipped |= {f"default privileges {(d.for_role, d.schema)}" for d in module.default_privileges}
        for kind in ("type", "sequence", "function", "table", "view"):
            skipped |= {f"{kind} {qname(o.name)}" for o in getattr(module, f"{kind}s")}
        skipped |= {f"materialized view {qname(o.name)}" for o in module.materialized_views}
        skipped |= {f"function {qname(o.name)}" for o in module.procedures}
    schemas = sorted(n for n in catalog.schemas if f"schema {n}" not in skipped)
    roles = sorted(n for n in catalog.roles if f"role {n}" not in skipped)
    return schemas, roles, frozenset(skipped)


def platform_children(catalog: Catalog, *, include_platform: bool = True) -> dict[QName, frozenset[tuple[str, str]]]:
    """Without the platform modules: each platform table that has indexes, triggers or policies the output emits
    in a module it keeps (they wait for an object of the app, such as the function of a trigger on auth.users),
    with the (kind, name) of those children."""
    if include_platform:
        return {}
    modules = catalog.schema.modules
    out: dict[QName, set[tuple[str, str]]] = {}
    for placed in order(catalog):
        item = placed.item
        if (item.table is not None and item.kind in ("index", "trigger", "policy") and modules[item.module].platform
                and not modules[placed.module].platform):
            out.setdefault(qname(item.table.name), set()).add((item.kind, item.obj.name))
    return {name: frozenset(children) for name, children in out.items()}


def compare(catalog: Catalog, snapshot: Snapshot, constant: Constant = same_constant, *,
            skip: frozenset[str] = frozenset(),
            partial: Mapping[QName, frozenset[tuple[str, str]]] | None = None) -> list[Difference]:
    """The differences between a checked spec and a database snapshot. `partial`: children of skipped tables
    that are compared all the same (see platform_children)."""
    return _Drift(catalog, snapshot, constant, skip, partial or {}).run()


def verify(dsn: str, catalog: Catalog, *, include_platform: bool = True) -> list[Difference]:
    """Read the database at `dsn` and compare it with the spec; raises DatabaseError when it cannot be read."""
    return verify_named(dsn, catalog, include_platform=include_platform)[0]


def verify_named(dsn: str, catalog: Catalog, *, include_platform: bool = True) \
        -> tuple[list[Difference], list[str]]:
    """verify, and the database's schemas that the spec does not declare (not compared)."""
    with introspect.connect(dsn) as conn:
        return verify_connection(conn, catalog, include_platform=include_platform)


def verify_connection(conn: psycopg.Connection[Any], catalog: Catalog, *, include_platform: bool = True) \
        -> tuple[list[Difference], list[str]]:
    """verify_named over a session introspect.connect opened. Inside a transaction of the caller's, what that
    transaction sees is compared, its own uncommitted changes included: a migration can be verified before it
    commits (and a test can change a database, verify it and roll the change back)."""
    schemas, roles, skip = scope(catalog, include_platform=include_platform)
    partial = platform_children(catalog, include_platform=include_platform)
    schemas = sorted(set(schemas) | {name.schema for name in partial})
    snapshot = introspect.read(conn, schemas, roles)
    differences = compare(catalog, snapshot, introspect.Constants(conn), skip=skip, partial=partial)
    return differences, [s for s in snapshot.other_schemas if s not in catalog.schemas]


# -- command line ---------------------------------------------------------------------------------------------------
def main(args: argparse.Namespace) -> int:
    """`python -m generator verify`: 0 no drift, 1 drift (one line each on stdout), 2 the database cannot be
    read. A SpecError propagates to the CLI, which prints it and exits 2."""
    started = time.perf_counter()
    catalog = check(load_spec(args.spec))
    try:
        differences, others = verify_named(args.db, catalog, include_platform=args.target == "postgres")
    except DatabaseError as exc:
        print(f"verify: cannot read the database: {exc}", file=sys.stderr)
        return 2
    emit([Record("drift", d.message, object=d.subject) for d in differences], args.format)
    if others:
        print(f"not compared (the spec does not declare them): schema{'s' if len(others) > 1 else ''} "
              f"{', '.join(others)}", file=sys.stderr)
    if differences:
        n = len(differences)
        print(f"{n} difference{'s' if n != 1 else ''} between {args.spec} and the database "
              f"({time.perf_counter() - started:.2f} s)", file=sys.stderr)
        return 1
    print("no drift", file=sys.stdout if args.format == "text" else sys.stderr)
    return 0
