"""Read SPEC-131's own SQL (the brief in docs/seed/) with pglast: the independent oracle for object counts.

Only the schema sections count: the code blocks before the brief's "TESTING QUERIES" heading.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from pglast import ast

from generator.sqlparse import split_statements

_BLOCK = re.compile(r"```sql\n(.*?)```", re.S)


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
