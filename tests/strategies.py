"""What the spec says about the rows of one table, and hypothesis strategies for rows built from it.

`TableModel.of(catalog, name)` reads from the model (never from output/ or the database):

- column types (varchar lengths, integer ranges), NOT NULL (declared, or implied by the primary key), literal and
  SQL defaults, enum value lists (the catalog's enums);
- the columns that BEFORE INSERT row triggers assign (`NEW.col := ...` statements in the PL/pgSQL parse
  trees of the trigger functions' bodies);
- every constraint, read from the YAML model here (`spec_constraints`, by the naming the model's field docs
  state; never from generator.derive, so a derive bug cannot agree with itself), plus, for SPEC-131's tables,
  the CHECKs of SPEC-131's own SQL (`extra_checks`, from docs/seed), as a `Gate`, in the order PostgreSQL checks
  them: a value too long for its varchar (while the INSERT's values are coerced, before any trigger), NOT NULL
  (column order, after BEFORE triggers), CHECK (by constraint name), UNIQUE/PRIMARY KEY (index creation order, as
  the DDL declares them; then UNIQUE indexes on plain columns), FOREIGN KEY (end of statement, in the order the
  DDL declares them);
- CHECK expressions, parsed with pglast (`generator.sqlparse.parse_expression`) and interpreted (`Interpreted`):
  comparisons between columns and constants, AND/OR/NOT, IN lists, BETWEEN, IS [NOT] NULL and POSIX regex matches
  (`~`). A check outside these forms is kept with the reason (`Gate.uninterpretable`); the oracle then answers
  "unknown" for it.

`rows(model, existing)` draws rows that are mostly valid, with zero to two targeted mutations (a NULL in a NOT NULL
column, a value too long, a value outside a CHECK or several CHECKs, a foreign key to a missing row, a copy of an
existing unique key, or anything at all of a column's type). Whether a row is valid is not decided here: the oracle in
test_constraint_properties.py decides that, from the same model.
"""

from __future__ import annotations

import enum
import json
import re
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st
from pglast.parser import parse_plpgsql_json
from psycopg.types.json import Jsonb

from generator.derive import Catalog
from generator.model import Column, Function, Table, ValueList
from generator.sqlparse import SqlSyntaxError, ast, function_probe, parse_expression
from generator.sqltext import QName, qname


class Marker(enum.Enum):
    OMIT = "DEFAULT"  # the column is left out of the INSERT: its default applies
    FRESH = "<fresh>"  # a value nobody has seen: gen_random_uuid(), nextval(), or set by a BEFORE INSERT trigger
    OPAQUE = "<opaque>"  # a value the oracle cannot know (another SQL default, e.g. now())

    def __repr__(self) -> str:
        return self.value


OMIT, FRESH, OPAQUE = Marker.OMIT, Marker.FRESH, Marker.OPAQUE
Row = dict[str, Any]  # column -> value, None (NULL) or OMIT; every column of the table is a key

# -- types -----------------------------------------------------------------------------------------------------------

_INT_RANGES = {"smallint": 2**15, "integer": 2**31, "bigint": 2**63}
_SCALAR_TYPES = {"uuid", "text", "boolean", "timestamptz", "jsonb", "inet", "text[]", *_INT_RANGES}
_VARCHAR = re.compile(r"varchar\((\d+)\)\Z")


@dataclass(frozen=True)
class SqlType:
    """A column type the strategies can produce values of. Unknown types fail loudly (extend this class)."""

    kind: str
    length: int | None = None  # varchar(n)

    @classmethod
    def parse(cls, text: str) -> SqlType:
        spelled = " ".join(text.lower().split())
        spelled = {"int": "integer", "int4": "integer", "int8": "bigint", "bool": "boolean",
                   "timestamp with time zone": "timestamptz"}.get(spelled, spelled)
        if m := _VARCHAR.match(spelled.replace("character varying", "varchar").replace(" ", "")):
            return cls("varchar", int(m[1]))
        if spelled in _SCALAR_TYPES:
            return cls(spelled)
        raise ValueError(f"no strategy for column type {text!r}: add it to tests/strategies.py")

    @property
    def textual(self) -> bool:
        return self.kind in ("text", "varchar")

    @property
    def int_range(self) -> tuple[int, int] | None:
        half = _INT_RANGES.get(self.kind)
        return (-half, half - 1) if half else None


# -- CHECK interpretation --------------------------------------------------------------------------------------------

Truth = frozenset[bool | None]  # the SQL truth values an expression may have for a row (several: the oracle is unsure)
ANY_TRUTH: Truth = frozenset({True, False, None})
Evaluator = Callable[[Mapping[str, Any]], Truth]


class Uninterpretable(Exception):
    """A CHECK expression (or part of it) outside the forms this module interprets."""


def _and3(a: bool | None, b: bool | None) -> bool | None:
    return False if a is False or b is False else None if a is None or b is None else True


def _or3(a: bool | None, b: bool | None) -> bool | None:
    return True if a is True or b is True else None if a is None or b is None else False


def _not3(a: bool | None) -> bool | None:
    return None if a is None else not a


def _combine(op: Callable[[bool | None, bool | None], bool | None], parts: list[Truth]) -> Truth:
    out = parts[0]
    for part in parts[1:]:
        out = frozenset(op(a, b) for a in out for b in part)
    return out


_ORDERING = {"<": lambda a, b: a < b, "<=": lambda a, b: a <= b, ">": lambda a, b: a > b,
             ">=": lambda a, b: a >= b}
_EQUALITY = {"=": lambda a, b: a == b, "<>": lambda a, b: a != b, "!=": lambda a, b: a != b}
_REGEX_OPS = {"~": (False, 0), "!~": (True, 0), "~*": (False, re.IGNORECASE), "!~*": (True, re.IGNORECASE)}


def _is_number(value: object) -> bool:
    return isinstance(value, int | Decimal) and not isinstance(value, bool)


def compare(op: str, left: Any, right: Any) -> Truth:
    """`left op right` in SQL, for the values a row holds; ANY_TRUTH where Python cannot stand in for PostgreSQL."""
    if isinstance(left, Marker) or isinstance(right, Marker):
        return ANY_TRUTH
    if left is None or right is None:
        return frozenset({None})
    both_numbers = _is_number(left) and _is_number(right)
    if not both_numbers and not (type(left) is type(right) and type(left) in (str, bool, uuid.UUID)):
        return ANY_TRUTH  # PostgreSQL would coerce one side (or refuse); not modelled
    if op in _EQUALITY:
        return frozenset({bool(_EQUALITY[op](left, right))})
    if op in _ORDERING and not isinstance(left, str):  # text ordering depends on the collation
        return frozenset({bool(_ORDERING[op](left, right))})
    return ANY_TRUTH


# PostgreSQL advanced regular expressions and Python's `re` agree on this subset once `$` means the end of the
# string (Python's `$` also matches before a final newline) and `.` matches newlines (DOTALL): ASCII literals,
# escaped punctuation, bracket expressions of ASCII characters and ranges, bounds, * + ? and groups.
_REGEX_TOKEN = re.compile(r"""
    (?P<bracket>\[\^?\]?[ -Z^-~]*?\])
  | (?P<escape>\\[.^$*+?()\[\]{}|\\/#-])
  | (?P<bound>\{\d+(?:,\d*)?\})
  | (?P<group>\((?!\?))
  | (?P<op>[)|*+?.])
  | (?P<start>\^)
  | (?P<end>\$)
  | (?P<literal>[A-Za-z0-9 _#@%&=:;,'"<>!~/-])
""", re.VERBOSE)


def translate_regex(pattern: str) -> str:
    """A PostgreSQL regex -> the Python regex that matches the same strings (re.search, DOTALL)."""
    out, pos = [], 0
    while pos < len(pattern):
        m = _REGEX_TOKEN.match(pattern, pos)
        if not m or m.end() == pos:
            raise Uninterpretable(f"regex {pattern!r}: {pattern[pos:]!r} is outside the interpreted subset")
        out.append({"start": r"\A", "end": r"\Z"}.get(m.lastgroup or "", m[0]))
        pos = m.end()
    python = "".join(out)
    try:
        re.compile(python)
    except re.error as exc:
        raise Uninterpretable(f"regex {pattern!r}: {exc}") from None
    return python


@dataclass
class Hints:
    """What a CHECK requires of single columns when all its top-level AND terms hold (for the strategies)."""

    low: dict[str, Decimal] = field(default_factory=dict)  # col >= low (after rounding for > )
    high: dict[str, Decimal] = field(default_factory=dict)
    members: dict[str, tuple[Any, ...]] = field(default_factory=dict)  # col IN (...)
    patterns: dict[str, str] = field(default_factory=dict)  # col ~ pattern (Python syntax)


@dataclass(frozen=True)
class Interpreted:
    """A CHECK expression the oracle can evaluate for a row."""

    expr: str
    evaluate: Evaluator
    columns: frozenset[str]
    hints: Hints


class _Compiler:
    def __init__(self) -> None:
        self.columns: set[str] = set()
        self.hints = Hints()

    def compile(self, node: Any, top: bool = False) -> Evaluator:
        if isinstance(node, ast.BoolExpr):
            kind = node.boolop.name
            if kind == "AND_EXPR":
                parts = [self.compile(arg, top) for arg in node.args]
                return lambda row: _combine(_and3, [p(row) for p in parts])
            if kind == "OR_EXPR":
                parts = [self.compile(arg) for arg in node.args]
                return lambda row: _combine(_or3, [p(row) for p in parts])
            inner = self.compile(node.args[0])
            return lambda row: frozenset(_not3(v) for v in inner(row))
        if isinstance(node, ast.NullTest):
            arg = self.operand(node.arg)
            negate = node.nulltesttype.name == "IS_NOT_NULL"

            def null_test(row: Mapping[str, Any]) -> Truth:
                value = arg(row)
                if isinstance(value, Marker):
                    return frozenset({True, False})
                return frozenset({(value is None) != negate})
            return null_test
        if isinstance(node, ast.A_Expr):
            return self.a_expr(node, top)
        if isinstance(node, ast.A_Const | ast.ColumnRef):  # a boolean constant or column
            value = self.operand(node)
            return lambda row: compare("=", value(row), True)
        raise Uninterpretable(f"{type(node).__name__} is not interpreted")

    def a_expr(self, node: Any, top: bool) -> Evaluator:
        kind = node.kind.name
        op = node.name[-1].sval if node.name else ""
        left = self.operand(node.lexpr)
        if kind == "AEXPR_OP" and op in _REGEX_OPS and isinstance(node.rexpr, ast.A_Const):
            return self.regex(node, op, left, top)
        if kind == "AEXPR_OP" and (op in _ORDERING or op in _EQUALITY):
            right = self.operand(node.rexpr)
            if top:
                self.bound(node.lexpr, op, node.rexpr)
            return lambda row: compare(op, left(row), right(row))
        if kind == "AEXPR_IN" and op in ("=", "<>"):
            items = [self.operand(item) for item in node.rexpr]
            if top and op == "=" and isinstance(node.lexpr, ast.ColumnRef):
                self.hints.members[self.column_name(node.lexpr)] = tuple(self.constant(i) for i in node.rexpr)
            joiner = _or3 if op == "=" else _and3
            return lambda row: _combine(joiner, [compare(op, left(row), item(row)) for item in items])
        if kind in ("AEXPR_BETWEEN", "AEXPR_NOT_BETWEEN"):
            low, high = (self.operand(n) for n in node.rexpr)
            if top and kind == "AEXPR_BETWEEN":
                self.bound(node.lexpr, ">=", node.rexpr[0])
                self.bound(node.lexpr, "<=", node.rexpr[1])

            def between(row: Mapping[str, Any]) -> Truth:
                value = left(row)
                inside = _combine(_and3, [compare(">=", value, low(row)), compare("<=", value, high(row))])
                return inside if kind == "AEXPR_BETWEEN" else frozenset(_not3(v) for v in inside)
            return between
        raise Uninterpretable(f"operator {op!r} ({kind}) is not interpreted")

    def regex(self, node: Any, op: str, left: Callable[[Mapping[str, Any]], Any], top: bool) -> Evaluator:
        pattern = self.constant(node.rexpr)
        if not isinstance(pattern, str):
            raise Uninterpretable("a regex must be a string constant")
        negate, flags = _REGEX_OPS[op]
        compiled = re.compile(translate_regex(pattern), re.DOTALL | flags)
        if top and op == "~" and isinstance(node.lexpr, ast.ColumnRef):
            self.hints.patterns[self.column_name(node.lexpr)] = compiled.pattern

        def match(row: Mapping[str, Any]) -> Truth:
            value = left(row)
            if isinstance(value, Marker) or (value is not None and not isinstance(value, str)):
                return ANY_TRUTH
            if value is None:
                return frozenset({None})
            if flags and not value.isascii():
                return ANY_TRUTH  # case folding beyond ASCII depends on the locale
            return frozenset({(compiled.search(value) is not None) != negate})
        return match

    def bound(self, column: Any, op: str, constant: Any) -> None:
        if not isinstance(column, ast.ColumnRef) or not isinstance(constant, ast.A_Const):
            return
        value = self.constant(constant)
        if not _is_number(value):
            return
        name = self.column_name(column)
        if op in (">", ">="):  # `> 1.5` is kept as `>= 1.5`: the strategies round it, the oracle uses the check
            low = Decimal(value + 1 if op == ">" and isinstance(value, int) else value)
            self.hints.low[name] = max(self.hints.low.get(name, low), low)
        elif op in ("<", "<="):
            high = Decimal(value - 1 if op == "<" and isinstance(value, int) else value)
            self.hints.high[name] = min(self.hints.high.get(name, high), high)
        elif op == "=":
            self.hints.members[name] = (value,)

    def operand(self, node: Any) -> Callable[[Mapping[str, Any]], Any]:
        if isinstance(node, ast.ColumnRef):
            name = self.column_name(node)
            return lambda row: row[name]
        value = self.constant(node)
        return lambda row: value

    def column_name(self, node: Any) -> str:
        fields = node.fields
        if len(fields) != 1 or not isinstance(fields[0], ast.String):
            raise Uninterpretable("only unqualified column references are interpreted")
        name: str = fields[0].sval
        self.columns.add(name)
        return name

    @staticmethod
    def constant(node: Any) -> Any:
        if not isinstance(node, ast.A_Const):
            raise Uninterpretable(f"{type(node).__name__} operand is not interpreted")
        if node.isnull:
            return None
        val = node.val
        if isinstance(val, ast.Integer):
            return int(val.ival)
        if isinstance(val, ast.Float):
            return Decimal(val.fval)
        if isinstance(val, ast.Boolean):
            return bool(val.boolval)
        if isinstance(val, ast.String):
            return str(val.sval)
        raise Uninterpretable(f"constant {val!r} is not interpreted")


def interpret_check(expr: str) -> Interpreted:
    """Compile a CHECK expression; raises Uninterpretable (with the reason) for forms outside the subset."""
    try:
        node = parse_expression(expr)
    except SqlSyntaxError as exc:
        raise Uninterpretable(str(exc)) from None
    compiler = _Compiler()
    evaluate = compiler.compile(node, top=True)
    return Interpreted(expr, evaluate, frozenset(compiler.columns), compiler.hints)


# -- the table model -------------------------------------------------------------------------------------------------

_FRESH_DEFAULTS = re.compile(r"^\s*(gen_random_uuid|uuid_generate_v4|nextval)\s*\(", re.IGNORECASE)
TRUNCATION = "string_data_right_truncation"


@dataclass(frozen=True)
class ColumnModel:
    name: str
    type: SqlType
    not_null: bool  # declared NOT NULL or part of the primary key
    default: Any  # OMIT when the column has no default (NULL), FRESH/OPAQUE for SQL defaults, else the literal
    trigger_set: str | None  # the BEFORE INSERT trigger that assigns the column, if any
    enum: tuple[str, ...] | None

    @property
    def has_default(self) -> bool:
        return self.default is not OMIT


@dataclass(frozen=True)
class Gate:
    """One thing PostgreSQL checks on INSERT, and the failure it reports when the row does not pass it."""

    kind: str  # TRUNCATION | "not null" | "check" | "unique" | "foreign key"
    name: str  # the column (truncation, not null) or the constraint name
    columns: tuple[str, ...]
    check: Interpreted | None = None
    uninterpretable: str | None = None  # why a CHECK is not interpreted
    target: tuple[QName, tuple[str, ...]] | None = None  # foreign keys: referenced relation and columns

    @property
    def label(self) -> str:
        """How statistics and messages name the gate (PostgreSQL does not say which column is too long)."""
        return TRUNCATION if self.kind == TRUNCATION else f"{self.kind} {self.name}"


@dataclass(frozen=True)
class TableModel:
    name: QName
    columns: tuple[ColumnModel, ...]
    gates: tuple[Gate, ...]  # in PostgreSQL's order
    unreachable: Mapping[str, str]  # gate label -> why no row can be rejected by it first

    @classmethod
    def of(cls, catalog: Catalog, name: QName, extra_checks: Mapping[str, str] | None = None) -> TableModel:
        """`extra_checks`: CHECKs the table must have whatever the spec says (name -> SQL), e.g. SPEC-131's own;
        one the spec also declares under that name is taken from here."""
        table = catalog.tables[name]
        constraints = [c for c in spec_constraints(table, catalog.enums) if c.name not in (extra_checks or {})]
        constraints += [SpecConstraint(n, "check", (), expr) for n, expr in (extra_checks or {}).items()]
        pk = {c for con in constraints if con.kind == "primary key" for c in con.columns}
        set_by = trigger_assignments(catalog, table)
        columns = tuple(ColumnModel(
            c.name, SqlType.parse(c.type), c.not_null or c.name in pk, _default(c), set_by.get(c.name),
            catalog.enums[c.enum].values if c.enum and c.enum in catalog.enums else None) for c in table.columns)
        gates: list[Gate] = [Gate(TRUNCATION, c.name, (c.name,)) for c in columns if c.type.kind == "varchar"]
        gates += [Gate("not null", c.name, (c.name,)) for c in columns if c.not_null]
        checks = sorted((con for con in constraints if con.kind == "check"), key=lambda con: con.name.encode())
        gates += [_check_gate(con) for con in checks]
        gates += [Gate("unique", con.name, con.columns) for con in constraints
                  if con.kind in ("primary key", "unique")]
        gates += [_unique_index_gate(table, index.name, index.columns, index.where)
                  for index in sorted(table.indexes, key=lambda i: i.name) if index.unique]
        gates += [Gate("foreign key", con.name, con.columns, target=_target(catalog, con))
                  for con in constraints if con.kind == "foreign key"]
        return cls(name, columns, tuple(gates), _unreachable(columns, gates))

    def column(self, name: str) -> ColumnModel:
        return next(c for c in self.columns if c.name == name)

    def key_sets(self) -> list[tuple[QName, tuple[str, ...]]]:
        """The keys whose existing values matter: this table's unique keys and every foreign key's target."""
        keys = [(self.name, g.columns) for g in self.gates if g.kind == "unique"]
        keys += [g.target for g in self.gates if g.target]
        return list(dict.fromkeys(keys))


@dataclass(frozen=True)
class SpecConstraint:
    """A constraint as the spec's YAML states it."""

    name: str
    kind: str  # "primary key" | "unique" | "foreign key" | "check"
    columns: tuple[str, ...]
    expr: str | None = None  # checks
    reference: tuple[QName, tuple[str, ...]] | None = None  # foreign keys: target relation and columns


_REFERENCE = re.compile(r"\s*([\w.]+)\s*\(([^)]*)\)\s*\Z")


def _reference(text: str) -> tuple[QName, tuple[str, ...]]:
    m = _REFERENCE.match(text)
    assert m, f"not `table(col, ...)`: {text!r}"
    return qname(m[1]), tuple(c.strip() for c in m[2].split(","))


def spec_constraints(table: Table, enums: Mapping[str, ValueList]) -> list[SpecConstraint]:
    """Every constraint of a table from its YAML, named as the model's field docs say (`primary_key`: TABLE_pkey or
    its `name`; `unique`: TABLE_COLUMN_key; `references`: TABLE_COLUMN_fkey; `enum`: a CHECK named `enum_constraint`
    or valid_COLUMN), in the order the DDL declares them: the primary key, unique constraints (columns in column
    order, then the table's `unique:` by name), foreign keys (columns, then `foreign_keys:` by name), checks."""
    base = qname(table.name).name
    out: list[SpecConstraint] = []
    key = tuple(c.name for c in table.columns if c.primary_key)
    if key:
        out.append(SpecConstraint(f"{base}_pkey", "primary key", key))
    elif table.primary_key is not None:  # on the table's level, with a name of its own if it says so
        out.append(SpecConstraint(table.primary_key.name or f"{base}_pkey", "primary key",
                                  tuple(table.primary_key.columns)))
    out += [SpecConstraint(f"{base}_{c.name}_key", "unique", (c.name,)) for c in table.columns if c.unique]
    out += [SpecConstraint(u.name, "unique", tuple(u.columns)) for u in sorted(table.unique, key=lambda u: u.name)]
    out += [SpecConstraint(f"{base}_{c.name}_fkey", "foreign key", (c.name,), reference=_reference(c.references))
            for c in table.columns if c.references]
    out += [SpecConstraint(fk.name, "foreign key", tuple(fk.columns), reference=_reference(fk.references))
            for fk in sorted(table.foreign_keys, key=lambda fk: fk.name)]
    for c in table.columns:
        if c.enum:
            values = ", ".join("'" + v.replace("'", "''") + "'" for v in enums[c.enum].values)
            out.append(SpecConstraint(c.enum_constraint or f"valid_{c.name}", "check", (c.name,),
                                      f"{c.name} IN ({values})"))
    out += [SpecConstraint(ch.name, "check", (), ch.expr) for ch in table.checks]
    return out


def trigger_assignments(catalog: Catalog, table: Table) -> dict[str, str]:
    """Columns that a BEFORE INSERT row trigger's function assigns (`NEW.col := ...`) -> the trigger's name.

    Read from the PL/pgSQL parse tree of the function body (assignment statements whose target is a field of NEW),
    so `NEW.col = value` comparisons in conditions do not count and `NEW.col = value;` assignments do.
    """
    out: dict[str, str] = {}
    for trigger in sorted(table.triggers, key=lambda t: t.name):
        if trigger.timing != "before" or "insert" not in trigger.events or trigger.for_each != "row":
            continue
        function = catalog.functions.get(qname(trigger.function))
        if function is None:
            raise ValueError(f"trigger {trigger.name}: function {trigger.function} is not in the spec")
        for column in assigned_new_fields(function):
            out.setdefault(column, trigger.name)
    return out


def assigned_new_fields(function: Function) -> list[str]:
    """Fields of NEW that a PL/pgSQL trigger function assigns, in body order."""
    if function.language != "plpgsql":
        raise ValueError(f"{function.name}: trigger functions in {function.language} are not analysed")
    probe = function_probe("trigger_probe", "", function.returns, function.language, function.body)
    tree = json.loads(parse_plpgsql_json(probe))
    plpgsql = tree[0]["PLpgSQL_function"]
    datums, new_varno = plpgsql["datums"], plpgsql.get("new_varno", 0)  # the JSON leaves out zeros
    out = []
    for assign in _json_values(tree, "PLpgSQL_stmt_assign"):
        target = datums[assign.get("varno", 0)].get("PLpgSQL_recfield")
        if target and target.get("recparentno", 0) == new_varno:
            out.append(str(target["fieldname"]))
    return list(dict.fromkeys(out))


def _json_values(tree: Any, key: str) -> Iterable[dict[str, Any]]:
    if isinstance(tree, dict):
        for k, value in tree.items():
            if k == key and isinstance(value, dict):
                yield value
            yield from _json_values(value, key)
    elif isinstance(tree, list):
        for item in tree:
            yield from _json_values(item, key)


def _default(column: Column) -> Any:
    if column.default_sql is not None:
        return FRESH if _FRESH_DEFAULTS.match(column.default_sql) else OPAQUE
    if column.default is None:
        return OMIT
    value = column.default
    return Jsonb(value) if isinstance(value, dict | list) and column.type == "jsonb" else value


def _check_gate(con: SpecConstraint) -> Gate:
    assert con.expr is not None
    try:
        interpreted = interpret_check(con.expr)
    except Uninterpretable as exc:
        return Gate("check", con.name, con.columns, uninterpretable=str(exc))
    return Gate("check", con.name, tuple(sorted(interpreted.columns)), check=interpreted)


def _unique_index_gate(table: Table, name: str, keys: tuple[str, ...], where: str | None) -> Gate:
    """A UNIQUE index on plain columns (created after the table, so checked after its constraints' indexes)."""
    columns = {c.name for c in table.columns}
    if where is not None or not set(keys) <= columns:
        raise ValueError(f"unique index {name}: partial or expression indexes are not modelled in tests/strategies.py")
    return Gate("unique", name, keys)


def _target(catalog: Catalog, con: SpecConstraint) -> tuple[QName, tuple[str, ...]]:
    assert con.reference is not None, con.name
    relation, columns = con.reference
    if relation not in catalog.tables:
        raise ValueError(f"{con.name}: target {relation} is not a table of the spec")
    return relation, columns


def _unreachable(columns: tuple[ColumnModel, ...], gates: list[Gate]) -> dict[str, str]:
    """Gates that can never be the first failure, with the reason (derived, not listed by hand)."""
    out: dict[str, str] = {}
    by_name = {c.name: c for c in columns}
    for i, gate in enumerate(gates):
        setters = [by_name[c].trigger_set for c in gate.columns if by_name[c].trigger_set]
        if gate.kind in ("not null", "unique") and setters:
            out[gate.label] = f"set by BEFORE INSERT trigger {setters[0]}"
        if gate.kind == "unique":
            for earlier in gates[:i]:
                if earlier.kind == "unique" and set(earlier.columns) <= set(gate.columns):
                    out[gate.label] = f"implied by {earlier.name}, which PostgreSQL checks first"
                    break
    return out


# -- existing rows ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Existing:
    """Key tuples present in the database before the examples run: what a foreign key can point at, and what a
    unique key collides with. Tuples with a NULL are left out (they neither satisfy a foreign key nor collide)."""

    keys: Mapping[tuple[QName, tuple[str, ...]], tuple[tuple[Any, ...], ...]]

    def get(self, relation: QName, columns: tuple[str, ...]) -> tuple[tuple[Any, ...], ...]:
        return self.keys.get((relation, columns), ())

    def values(self, relation: QName, columns: tuple[str, ...], position: int) -> list[Any]:
        return sorted({key[position] for key in self.get(relation, columns)}, key=str)


# -- strategies ------------------------------------------------------------------------------------------------------

CHARACTERS = st.characters(codec="utf-8", exclude_characters="\x00")  # PostgreSQL text cannot hold NUL
_NAMED_CHARACTERS = st.sampled_from([" ", "\n", "'", '"', "\\", "%", "_", "é", "ß", "İ", "😀", "\u200b"])
TEXT_CHARACTERS = CHARACTERS | _NAMED_CHARACTERS
# No constraint of the spec involves a timestamp, so a plausible range will do. Far wider ones reach a trigger
# defect rather than a constraint (test_constraint_properties.py::test_known_defect_first_response_overflow).
TIMESTAMPS = st.datetimes(datetime(1900, 1, 1), datetime(2200, 1, 1), timezones=st.just(UTC))
_JSON_TEXT = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=8)  # jsonb rejects \u0000
JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**6), 10**6) | _JSON_TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_JSON_TEXT, inner, max_size=3),
    max_leaves=6)


def _text(max_size: int, min_size: int = 0) -> st.SearchStrategy[str]:
    return st.text(TEXT_CHARACTERS, min_size=min_size, max_size=max_size)


def _ints(sql_type: SqlType, low: Decimal | None = None, high: Decimal | None = None) -> st.SearchStrategy[int]:
    bounds = sql_type.int_range
    assert bounds is not None
    lo = max(bounds[0], _ceil(low)) if low is not None else bounds[0]
    hi = min(bounds[1], _floor(high)) if high is not None else bounds[1]
    return st.integers(lo, hi) if lo <= hi else st.nothing()


def _ceil(value: Decimal) -> int:
    return int(value.to_integral_value(rounding="ROUND_CEILING"))


def _floor(value: Decimal) -> int:
    return int(value.to_integral_value(rounding="ROUND_FLOOR"))


def any_value(c: ColumnModel) -> st.SearchStrategy[Any]:
    """Anything of the column's type, ignoring its constraints (varchar: up to a few characters too long)."""
    kind = c.type.kind
    if kind == "varchar":
        assert c.type.length is not None
        return _text(c.type.length + 4) | too_long(c)
    if kind == "text":
        return _text(30)
    if c.type.int_range:
        return _ints(c.type)
    return {
        "uuid": st.uuids(),
        "boolean": st.booleans(),
        "timestamptz": TIMESTAMPS,
        "jsonb": JSON.map(Jsonb),
        "inet": st.ip_addresses(),
        "text[]": st.lists(_text(10), max_size=3),
    }[kind]


def too_long(c: ColumnModel) -> st.SearchStrategy[str]:
    """A string longer than varchar(n) whose excess holds a non-space (PostgreSQL only drops excess spaces)."""
    n = c.type.length
    assert n is not None

    def ensure_non_space(s: str) -> str:
        return s if s[n:].strip(" ") else s[:-1] + "x"
    return _text(n + 6, min_size=n + 1).map(ensure_non_space)


def space_padded(c: ColumnModel, value: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """A valid string followed by spaces beyond varchar(n): accepted, truncated to n characters."""
    n = c.type.length
    assert n is not None
    return st.tuples(value, st.integers(1, 4)).map(lambda vk: vk[0] + " " * (n - len(vk[0]) + vk[1]))


def _merge_hints(gates: Iterable[Gate]) -> Hints:
    """Single-column requirements of every interpretable CHECK of a table, combined."""
    out = Hints()
    for gate in gates:
        if gate.check is None:
            continue
        h = gate.check.hints
        for col, low in h.low.items():
            out.low[col] = max(out.low.get(col, low), low)
        for col, high in h.high.items():
            out.high[col] = min(out.high.get(col, high), high)
        for col, members in h.members.items():
            out.members[col] = tuple(m for m in out.members.get(col, members) if m in members)
        out.patterns.update(h.patterns)
    return out


class Strategies:
    """Strategies for the columns and rows of one table, given the rows that exist: `base` per column (a probably
    valid value) and `mutations` (label, strategy of column updates)."""

    def __init__(self, model: TableModel, existing: Existing) -> None:
        self.model = model
        self.existing = existing
        self.hints = _merge_hints(model.gates)
        self.base = {c.name: self._base(c) for c in model.columns}
        self.mutations = self._mutations()

    def fk_pool(self, column: str) -> list[Any]:
        """Existing values a foreign key column can point at (from every foreign key it is part of)."""
        pool: set[Any] = set()
        for gate in self.model.gates:
            if gate.target and column in gate.columns:
                pool.update(self.existing.values(*gate.target, gate.columns.index(column)))
        return sorted(pool, key=str)

    def fitting(self, c: ColumnModel) -> st.SearchStrategy[Any]:
        """A value meeting everything the model says about this column alone."""
        pool = self.fk_pool(c.name)
        if pool:
            return st.sampled_from(pool)
        members = self.hints.members.get(c.name) or c.enum
        if members:
            return st.sampled_from(members)
        if c.name in self.hints.patterns:
            n = c.type.length
            return st.from_regex(self.hints.patterns[c.name], fullmatch=True).filter(
                lambda s: n is None or len(s) <= n)
        if c.type.int_range:
            return _ints(c.type, self.hints.low.get(c.name), self.hints.high.get(c.name))
        if c.type.kind == "varchar":
            assert c.type.length is not None
            return _text(c.type.length)
        return any_value(c)

    def offbeat(self, c: ColumnModel) -> st.SearchStrategy[Any]:
        """Values meant to fail the column's CHECKs, of its type and length: at and past range bounds, near-miss
        enum values and almost-matching strings."""
        options: list[st.SearchStrategy[Any]] = [self.fitting(c), any_value(c)]
        if c.type.int_range:
            lo, hi = c.type.int_range
            bounds = [b for b in (self.hints.low.get(c.name), self.hints.high.get(c.name)) if b is not None]
            edges = sorted({e for b in bounds for e in (_floor(b) - 1, _floor(b), _ceil(b), _ceil(b) + 1)
                            if lo <= e <= hi})
            if edges:
                options.append(st.sampled_from(edges))
        if c.type.textual and (c.name in self.hints.members or c.enum or c.name in self.hints.patterns):
            near = self.fitting(c).map(str)
            options += [near.map(str.upper), near.map(lambda s: s + " "), near.map(lambda s: s + "\n"),
                        near.map(lambda s: s[:-1]), near.map(lambda s: s[1:] + s[:1]),
                        _text(c.type.length or 30)]
        return st.one_of(options)

    def _base(self, c: ColumnModel) -> st.SearchStrategy[Any]:
        """A column value of a (probably) valid row: left out, NULL where allowed, or a fitting value."""
        options: list[st.SearchStrategy[Any]] = [self.fitting(c)]
        if c.has_default or not c.not_null:
            options.append(st.just(OMIT))
        if not c.not_null:
            options.append(st.none())
        return st.one_of(options)

    def _mutations(self) -> list[tuple[str, st.SearchStrategy[dict[str, Any]]]]:
        """Changes to a row, each aimed at one gate (unreachable ones too: the oracle must then predict that they
        pass); plus "too long" (any varchar column), "every check" (which fails first when several do) and
        "anything" (any value of any column's type, NULL or DEFAULT)."""
        model = self.model
        out: list[tuple[str, st.SearchStrategy[dict[str, Any]]]] = []
        varchars = [c for c in model.columns if c.type.kind == "varchar"]
        if varchars:
            out.append((TRUNCATION, st.sampled_from(varchars).flatmap(
                lambda c: st.fixed_dictionaries({c.name: too_long(c) | space_padded(c, self.fitting(c).map(str))}))))
        for gate in model.gates:
            if gate.kind == TRUNCATION:
                continue
            if gate.kind == "not null":
                col = model.column(gate.name)
                empty = st.just(None) if col.has_default else st.sampled_from([None, OMIT])
                out.append((gate.label, st.fixed_dictionaries({col.name: empty})))
            elif gate.kind == "check" and gate.check is not None:
                cols = [model.column(name) for name in gate.columns]
                out.append((gate.label, st.fixed_dictionaries({c.name: self.offbeat(c) for c in cols})))
            elif gate.kind == "foreign key" and len(gate.columns) == 1:
                out.append((gate.label, st.fixed_dictionaries({gate.columns[0]: st.uuids()})))
            elif gate.kind == "foreign key":  # each column existing or fresh: mismatched pairs included
                out.append((gate.label, st.fixed_dictionaries(
                    {name: st.uuids() | st.sampled_from(self.fk_pool(name) or [None]) for name in gate.columns})))
            elif gate.kind == "unique" and (keys := self.existing.get(model.name, gate.columns)):
                out.append((gate.label, st.sampled_from(keys).map(_assign(gate.columns))))
        checked = sorted({name for g in model.gates if g.check is not None for name in g.columns})
        if sum(g.check is not None for g in model.gates) > 1:
            out.append(("every check", st.fixed_dictionaries(
                {name: self.offbeat(model.column(name)) for name in checked})))
        anything = st.sampled_from(model.columns).flatmap(
            lambda c: st.fixed_dictionaries({c.name: any_value(c) | st.sampled_from([None, OMIT])}))
        out.append(("anything", anything))
        return out


def _assign(columns: tuple[str, ...]) -> Callable[[tuple[Any, ...]], dict[str, Any]]:
    return lambda key: dict(zip(columns, key, strict=True))


@st.composite
def _rows(draw: st.DrawFn, strategies: Strategies, focus: str | None) -> Row:
    row: Row = {name: draw(base, label=name) for name, base in strategies.base.items()}
    count = draw(st.sampled_from((0, 1, 1, 2)), label="number of mutations")
    chosen = [draw(st.sampled_from(strategies.mutations), label="mutation") for _ in range(count)]
    if focus is not None:
        chosen.insert(0, next(m for m in strategies.mutations if m[0] == focus))
    for label, mutation in chosen:
        row.update(draw(mutation, label=label))
    return row


def rows(model: TableModel, existing: Existing, focus: str | None = None) -> st.SearchStrategy[Row]:
    """Rows of the table, valid and invalid (see the module docstring); `focus` (a gate label) always applies the
    mutation aimed at that gate, first."""
    strategies = Strategies(model, existing)
    if focus is not None and focus not in dict(strategies.mutations):
        raise ValueError(f"no mutation is aimed at {focus!r}")
    return _rows(strategies, focus)


def describe(row: Row) -> str:
    """The row as the INSERT gives it (columns left out take their defaults)."""
    return ", ".join(f"{k}={v!r}" for k, v in row.items() if v is not OMIT) or "DEFAULT VALUES"
