"""What a `generate` run changed, object by object: the output's statements before and after, grouped by object.

`generate` knows the new model but not the old one (the spec may have changed in any way since the last run); what
it does have is the previous output. Both are parsed with pglast, each statement is assigned to the object it
defines (a table with its columns, constraints, comments, grants and RLS switch; an index; a policy; a function; a
table's seed rows; ...), and the objects are compared by their statements' text. Only the files whose bytes changed
are parsed (an object moved to another module file is matched across files, so it is not reported), and
`schema.sql`, which repeats every module, is left out.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pglast import enums

from .derive import RAW_REGISTRY_TABLE, SEED_REGISTRY_SCHEMA
from .render import OutputFile
from .sqlparse import SqlSyntaxError, ast, split_statements
from .sqltext import QName

WHOLE_SCHEMA = "schema.sql"  # render_outputs' concatenation of every module


@dataclass(frozen=True)
class ObjectChanges:
    added: tuple[str, ...]
    removed: tuple[str, ...]
    changed: tuple[str, ...]
    unreadable: tuple[str, ...] = ()  # previous output files that do not parse (edited by hand): not compared

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed)


def _rv(rv: Any) -> str:
    return str(QName(rv.schemaname or "public", rv.relname))


def _names(nodes: Iterable[Any]) -> str:
    return ".".join(n.sval for n in nodes)


def _function(name: Iterable[Any], arg_types: Iterable[Any]) -> str:
    # Argument types as written; the output spells each function's signature the same way everywhere.
    return f"function {_names(name)}({', '.join(_names(t.names) for t in arg_types)})"


_OBJECT_KIND = {enums.ObjectType.OBJECT_TABLE: "table", enums.ObjectType.OBJECT_VIEW: "view",
                enums.ObjectType.OBJECT_SEQUENCE: "sequence", enums.ObjectType.OBJECT_SCHEMA: "schema",
                enums.ObjectType.OBJECT_TYPE: "type", enums.ObjectType.OBJECT_MATVIEW: "materialized view"}


def _target(objtype: Any, obj: Any) -> str:
    """The subject of a GRANT/REVOKE or COMMENT target."""
    if objtype in (enums.ObjectType.OBJECT_FUNCTION, enums.ObjectType.OBJECT_PROCEDURE):
        return _function(obj.objname, obj.objargs or ())
    if objtype == enums.ObjectType.OBJECT_COLUMN:  # a column belongs to its table
        names = [n.sval for n in obj]
        return f"table {QName(names[0], names[1]) if len(names) == 3 else QName('public', names[0])}"
    if isinstance(obj, ast.RangeVar):
        return f"{_OBJECT_KIND.get(objtype, 'table')} {_rv(obj)}"
    if isinstance(obj, ast.String):
        return f"{_OBJECT_KIND.get(objtype, 'object')} {obj.sval}"
    if isinstance(obj, ast.TypeName):
        return f"{_OBJECT_KIND.get(objtype, 'object')} {_names(obj.names)}"
    return f"{_OBJECT_KIND.get(objtype, 'object')} {_names(obj)}"


def _insert(stmt: Any) -> tuple[str, ...]:
    if stmt.relation.schemaname == SEED_REGISTRY_SCHEMA and stmt.relation.relname == RAW_REGISTRY_TABLE:
        return tuple(f"raw {row[0].val.sval}" for row in stmt.selectStmt.valuesLists)  # a raw SQL object's record
    if stmt.relation.schemaname == SEED_REGISTRY_SCHEMA:  # the registry rows of one table's seeds
        tables = {row[0].val.sval for row in stmt.selectStmt.valuesLists if isinstance(row[0], ast.A_Const)}
        return tuple(f"seed rows {t}" for t in sorted(tables))
    return (f"seed rows {_rv(stmt.relation)}",)


def _registry_or(kind: str, name: str, schema: str | None) -> tuple[str, ...]:
    return (f"seed registry {SEED_REGISTRY_SCHEMA}",) if schema == SEED_REGISTRY_SCHEMA else (f"{kind} {name}",)


def _default_privileges(stmt: Any) -> str:
    """`default privileges for ROLE in SCHEMA`, `-` and `*` where the statement names none."""
    opts = {o.defname: o.arg for o in stmt.options or ()}
    roles = ",".join(r.rolename for r in opts["roles"]) if "roles" in opts else "-"
    schemas = ",".join(n.sval for n in opts["schemas"]) if "schemas" in opts else "*"
    return f"default privileges for {roles} in {schemas}"


def _alter_table(stmt: Any) -> tuple[str, ...]:
    """ENABLE / DISABLE TRIGGER belongs to the trigger; the output's other ALTER TABLE is row-level security."""
    triggers = [c.name for c in stmt.cmds if c.subtype in _TRIGGER_MODES]
    if triggers:
        return tuple(f"trigger {name} on {_rv(stmt.relation)}" for name in triggers)
    return (f"row-level security on {_rv(stmt.relation)}",)


_TRIGGER_MODES = frozenset({enums.AlterTableType.AT_EnableTrig, enums.AlterTableType.AT_EnableAlwaysTrig,
                            enums.AlterTableType.AT_EnableReplicaTrig, enums.AlterTableType.AT_DisableTrig})


# One entry per statement type the output holds: the objects a statement belongs to. A DO block (the guard that
# creates a role only where the cluster lacks it) returns () and belongs to the statement after it.
_SUBJECTS: dict[type, Callable[[Any], tuple[str, ...]]] = {
    ast.CreateStmt: lambda s: _registry_or("table", _rv(s.relation), s.relation.schemaname),
    ast.AlterTableStmt: lambda s: _alter_table(s),
    ast.CreateTableAsStmt: lambda s: (f"materialized view {_rv(s.into.rel)}",),
    ast.CreatePolicyStmt: lambda s: (f"policy {s.policy_name!r} on {_rv(s.table)}",),
    ast.IndexStmt: lambda s: (f"index {QName(s.relation.schemaname or 'public', s.idxname)}",),
    ast.CreateTrigStmt: lambda s: (f"trigger {s.trigname} on {_rv(s.relation)}",),
    ast.CreateFunctionStmt: lambda s: (_function(s.funcname, (p.argType for p in s.parameters or ())),),
    ast.ViewStmt: lambda s: (f"view {_rv(s.view)}",),
    ast.CreateSeqStmt: lambda s: (f"sequence {_rv(s.sequence)}",),
    ast.CreateEnumStmt: lambda s: (f"type {_names(s.typeName)}",),
    ast.CompositeTypeStmt: lambda s: (f"type {_rv(s.typevar)}",),
    ast.CreateDomainStmt: lambda s: (f"type {_names(s.domainname)}",),
    ast.CreateExtensionStmt: lambda s: (f"extension {s.extname}",),
    ast.AlterDefaultPrivilegesStmt: lambda s: (_default_privileges(s),),
    ast.CreateSchemaStmt: lambda s: _registry_or("schema", s.schemaname, s.schemaname),
    ast.AlterRoleStmt: lambda s: (f"role {s.role.rolename}",),
    ast.DoStmt: lambda s: (),
    ast.GrantStmt: lambda s: tuple(_target(s.objtype, o) for o in s.objects),
    ast.CommentStmt: lambda s: (_target(s.objtype, s.object),),
    ast.InsertStmt: _insert,
}


def objects(sql: str) -> dict[str, list[str]]:
    """Each object's statements (whitespace-normalised) in one script, in order."""
    out: dict[str, list[str]] = {}
    pending: list[str] = []
    for stmt, text in split_statements(sql):
        subjects = _SUBJECTS.get(type(stmt), lambda s: (f"statement {type(s).__name__}",))(stmt)
        pending.append(" ".join(text.split()))
        if not subjects:
            continue
        for subject in subjects:
            out.setdefault(subject, []).extend(pending)
        pending = []
    return out


def object_changes(out_dir: Path, files: list[OutputFile]) -> ObjectChanges:
    """Compare the output files about to be written with what `out_dir` holds now. Call it before writing."""
    new_text = {f.name: f.text for f in files if f.name != WHOLE_SCHEMA}
    old_paths = {p.name: p for p in out_dir.glob("*.sql") if p.name != WHOLE_SCHEMA} if out_dir.is_dir() else {}
    old: dict[str, list[str]] = {}
    new: dict[str, list[str]] = {}
    unreadable: list[str] = []
    for name in sorted(set(new_text) | set(old_paths)):
        before = old_paths[name].read_text(encoding="utf-8") if name in old_paths else None
        after = new_text.get(name)
        if before == after:
            continue
        if before is not None:
            try:
                _merge(old, objects(before))
            except SqlSyntaxError:
                unreadable.append(name)
        if after is not None:
            _merge(new, objects(after))
    return ObjectChanges(added=tuple(sorted(set(new) - set(old))),
                         removed=tuple(sorted(set(old) - set(new))),
                         changed=tuple(sorted(k for k in set(new) & set(old) if new[k] != old[k])),
                         unreadable=tuple(unreadable))


def _merge(into: dict[str, list[str]], more: dict[str, list[str]]) -> None:
    for subject, statements in more.items():
        into.setdefault(subject, []).extend(statements)
