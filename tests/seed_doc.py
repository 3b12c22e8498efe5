"""Read SPEC-131's own SQL (the brief in docs/seed/) with pglast: the independent oracle for object counts.

Only the schema sections count: the code blocks before the brief's "TESTING QUERIES" heading.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from pglast import ast, enums

from generator.sqlparse import deparse, split_statements

_BLOCK = re.compile(r"```sql\n(.*?)```", re.S)


@dataclass(frozen=True)
class SeedColumn:
    """A column as SPEC-131's CREATE TABLE writes it."""

    name: str
    type: str  # as written, lower case: `varchar(100)`, `timestamp with time zone`, `text[]`
    not_null: bool  # NOT NULL or PRIMARY KEY
    default: str | None  # the DEFAULT expression, deparsed
    primary_key: bool
    unique: bool
    references: str | None  # `table(column)`
    on_delete: str | None  # `cascade`, ... or None (NO ACTION)


@dataclass
class SeedInventory:
    tables: list[str] = field(default_factory=list)
    indexes: dict[str, tuple[str, tuple[str, ...]]] = field(default_factory=dict)  # name -> (table, columns)
    triggers: dict[str, str] = field(default_factory=dict)  # name -> table
    functions: list[str] = field(default_factory=list)
    policies: list[tuple[str, str]] = field(default_factory=list)  # (table, name)
    views: list[str] = field(default_factory=list)
    seed_rows: dict[str, list[dict[str, object]]] = field(default_factory=dict)
    statements: list[str] = field(default_factory=list)  # the raw SQL, statement by statement
    columns: dict[str, list[SeedColumn]] = field(default_factory=dict)  # table -> its columns, in order
    # table -> CHECK name (as PostgreSQL names an unnamed one: TABLE_COLUMN_check) -> expression, deparsed
    checks: dict[str, dict[str, str]] = field(default_factory=dict)


def schema_sql_blocks(doc: Path) -> list[str]:
    text = doc.read_text(encoding="utf-8")
    text = text.split("TESTING QUERIES", 1)[0]
    return _BLOCK.findall(text)


def _const(node: ast.Node) -> object:
    if isinstance(node, ast.A_Const):
        val = node.val
        for attr in ("sval", "ival", "boolval"):
            if hasattr(val, attr):
                return getattr(val, attr)
    return None


def read_seed(doc: Path) -> SeedInventory:
    inv = SeedInventory()
    for block in schema_sql_blocks(doc):
        for stmt, text in split_statements(block):
            inv.statements.append(text)
            if isinstance(stmt, ast.CreateStmt):
                inv.tables.append(stmt.relation.relname)
                _read_table(inv, stmt)
            elif isinstance(stmt, ast.IndexStmt):
                cols = tuple(p.name for p in stmt.indexParams)
                inv.indexes[stmt.idxname] = (stmt.relation.relname, cols)
            elif isinstance(stmt, ast.CreateTrigStmt):
                inv.triggers[stmt.trigname] = stmt.relation.relname
            elif isinstance(stmt, ast.CreateFunctionStmt):
                inv.functions.append(stmt.funcname[-1].sval)
            elif isinstance(stmt, ast.CreatePolicyStmt):
                inv.policies.append((stmt.table.relname, stmt.policy_name))
            elif isinstance(stmt, ast.ViewStmt):
                inv.views.append(stmt.view.relname)
            elif isinstance(stmt, ast.InsertStmt):
                cols = [c.name for c in stmt.cols]
                rows = [dict(zip(cols, (_const(v) for v in values), strict=True))
                        for values in stmt.selectStmt.valuesLists]
                inv.seed_rows.setdefault(stmt.relation.relname, []).extend(rows)
    return inv


_ACTIONS = {"c": "cascade", "n": "set null", "d": "set default", "r": "restrict", "a": None}


def _type_text(type_name: ast.TypeName) -> str:
    names = [n.sval for n in type_name.names if n.sval != "pg_catalog"]
    text = {"bpchar": "char", "int4": "integer", "int8": "bigint", "bool": "boolean", "timestamptz":
            "timestamp with time zone"}.get(names[-1], names[-1])
    if type_name.typmods:
        text += "(" + ", ".join(str(_const(m)) for m in type_name.typmods) + ")"
    return text + "[]" * len(type_name.arrayBounds or ())


def _read_table(inv: SeedInventory, stmt: ast.CreateStmt) -> None:
    table = stmt.relation.relname
    columns, checks = [], {}
    for element in stmt.tableElts:
        if isinstance(element, ast.Constraint):  # table-level: SPEC-131 has only named CHECKs here
            checks[element.conname] = deparse(element.raw_expr)
            continue
        kinds = {c.contype: c for c in element.constraints or ()}
        C = enums.ConstrType
        fk = kinds.get(C.CONSTR_FOREIGN)
        default = kinds.get(C.CONSTR_DEFAULT)
        if C.CONSTR_CHECK in kinds:
            check = kinds[C.CONSTR_CHECK]
            checks[check.conname or f"{table}_{element.colname}_check"] = deparse(check.raw_expr)
        columns.append(SeedColumn(
            element.colname, _type_text(element.typeName),
            C.CONSTR_NOTNULL in kinds or C.CONSTR_PRIMARY in kinds,
            deparse(default.raw_expr) if default else None, C.CONSTR_PRIMARY in kinds, C.CONSTR_UNIQUE in kinds,
            f"{'.'.join(filter(None, (fk.pktable.schemaname, fk.pktable.relname)))}({fk.pk_attrs[0].sval})"
            if fk else None, _ACTIONS[fk.fk_del_action] if fk else None))
    inv.columns[table] = columns
    inv.checks[table] = checks
